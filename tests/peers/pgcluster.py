#!/usr/bin/python3
"""A throwaway PostgreSQL cluster for the tests: Debian's postgresql-15, initdb in a
temporary folder, listening on a Unix socket in that folder only (no TCP at all), trust
authentication for the cluster's superuser, stopped by its PID.

    tests/peers/pgcluster.py start DIR [--durable]   initdb DIR/data, start postgres, print its base URL
    tests/peers/pgcluster.py stop DIR      stop the postgres started in DIR (by the PID it wrote)
    tests/peers/pgcluster.py createdb DIR NAME   create database NAME, print its URL

As root, initdb and postgres run as the "postgres" system user (PostgreSQL refuses root).
For the tests the cluster skips fsync (nothing need survive a power cut); --durable keeps
PostgreSQL's own settings, for benchmarks that compare with SQLite's synchronous=FULL.
From Python: Cluster(dir).start(), .create_database(name) -> URL, .stop().
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time

SUPERUSER = "postgres"


def bindir():
    """The newest /usr/lib/postgresql/N/bin with initdb (or $SAMTALE_PG_BIN)."""
    env = os.environ.get("SAMTALE_PG_BIN")
    if env:
        return env
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                  key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not dirs:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql); scripts/deps.sh installs it")
    return os.path.dirname(dirs[-1])


def _run_as():
    """(uid, gid) to run PostgreSQL as: the postgres user when we are root, else None."""
    if os.getuid() != 0:
        return None
    pw = pwd.getpwnam("postgres")
    return pw.pw_uid, pw.pw_gid


def _demote(ids):
    def fn():
        os.setgid(ids[1])
        os.setuid(ids[0])
    return fn if ids else None


class Cluster:
    def __init__(self, directory, durable=False):
        self.durable = durable
        self.dir = os.path.abspath(directory)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.pidfile = os.path.join(self.dir, "postgres.pid")
        self.proc = None

    def url(self, dbname="postgres"):
        return "postgresql:///%s?host=%s&user=%s" % (dbname, self.sock, SUPERUSER)

    def psql(self, sql, dbname="postgres", check=True):
        return subprocess.run([os.path.join(bindir(), "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                               "-h", self.sock, "-U", SUPERUSER, "-d", dbname, "-At", "-c", sql],
                              capture_output=True, text=True, check=check, timeout=60)

    def start(self, timeout=60):
        ids = _run_as()
        os.makedirs(self.dir, exist_ok=True)
        os.makedirs(self.sock, exist_ok=True)
        if ids:
            os.chmod(self.dir, 0o711)
            for p in (self.sock,):
                os.chown(p, ids[0], ids[1])
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            os.makedirs(self.data, exist_ok=True)
            if ids:
                os.chown(self.data, ids[0], ids[1])
            os.chmod(self.data, 0o700)
            subprocess.run([os.path.join(bindir(), "initdb"), "-D", self.data, "-U", SUPERUSER,
                            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                           check=True, capture_output=True, preexec_fn=_demote(ids), timeout=120)
        log = open(os.path.join(self.dir, "postgres.log"), "ab")
        # No TCP listener at all: the socket in our folder is the only way in. fsync off:
        # a test cluster need not survive a power cut, and it makes the suite fast.
        fast = [] if self.durable else ["-c", "fsync=off", "-c", "synchronous_commit=off",
                                        "-c", "full_page_writes=off"]
        self.proc = subprocess.Popen(
            [os.path.join(bindir(), "postgres"), "-D", self.data, "-k", self.sock,
             "-c", "listen_addresses=", "-c", "max_connections=300", "-c", "shared_buffers=64MB"] + fast,
            stdout=log, stderr=log, preexec_fn=_demote(ids), start_new_session=True)
        with open(self.pidfile, "w") as f:
            f.write(str(self.proc.pid))
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited with %s; see %s/postgres.log" % (self.proc.returncode, self.dir))
            r = subprocess.run([os.path.join(bindir(), "pg_isready"), "-q", "-h", self.sock, "-U", SUPERUSER],
                               capture_output=True)
            if r.returncode == 0:
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("postgres did not take connections within %d s" % timeout)
            time.sleep(0.05)

    def create_database(self, name):
        self.psql('CREATE DATABASE "%s" TEMPLATE template0' % name)
        return self.url(name)

    def drop_database(self, name):
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, check=False)

    def stop(self):
        pid = None
        if self.proc:
            pid = self.proc.pid
        elif os.path.exists(self.pidfile):
            pid = int(open(self.pidfile).read().strip() or 0)
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGINT)  # fast shutdown
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if self.proc:
                    if self.proc.poll() is not None:
                        break
                else:
                    os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.unlink(self.pidfile)
        except FileNotFoundError:
            pass

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("start", "stop", "createdb"):
        sys.stderr.write(__doc__)
        return 2
    c = Cluster(argv[2], durable="--durable" in argv[3:])
    if argv[1] == "start":
        c.start()
        print(c.url())
    elif argv[1] == "stop":
        c.stop()
    else:
        print(c.create_database(argv[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
