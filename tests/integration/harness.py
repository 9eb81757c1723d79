"""Shared helpers of the integration tests: run the samtale CLI, start and stop the real
server on 127.0.0.1 with a temporary database, and speak HTTP to it with http.client.

Standard library only (plus PyYAML in the tests that read the OpenAPI file). Every process
started here is stopped by its PID: terminate, wait, then kill. Every wait has a deadline
(TIMEOUT seconds, generous because the binary may run under AddressSanitizer); nothing
sleeps and hopes: the server's address is read from its "listening on" line.
"""

import http.client
import io
import json as jsonlib
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 15.0

OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "owner-password-123"
WORKSPACE = "Acme"
WORKSPACE_TZ = "Europe/Oslo"

# The engine the suite runs on: sqlite (a file per test) or postgres (a fresh database per
# test in the cluster run.py started; SAMTALE_TEST_PG_DIR is its folder).
ENGINE = os.environ.get("SAMTALE_TEST_ENGINE", "sqlite")
_KEYFILES = {}   # PostgreSQL URL -> the key file of its test folder
_DB_COUNTER = [0]

LISTEN_RE = re.compile(r"listening on https?://127\.0\.0\.1:(\d+)/")
WORKER_RE = re.compile(r"working on the database \(role worker\)")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class Skip(Exception):
    """Raised by a test that cannot run here; the reason is printed."""


def pg_cluster():
    sys_path = os.path.join(REPO, "tests", "peers")
    import sys
    if sys_path not in sys.path:
        sys.path.insert(0, sys_path)
    import pgcluster
    return pgcluster.Cluster(os.environ["SAMTALE_TEST_PG_DIR"])


def new_db(directory, name="s.db"):
    """A new, empty database for a test: the file directory/name on SQLite, a fresh
    database in the test cluster on PostgreSQL (its secret key file in directory)."""
    if ENGINE != "postgres":
        return os.path.join(directory, name)
    _DB_COUNTER[0] += 1
    dbname = "t%d_%d_%s" % (os.getpid(), _DB_COUNTER[0], re.sub(r"\W", "_", name))
    url = pg_cluster().create_database(dbname)
    _KEYFILES[url] = os.path.join(directory, "secret.key")
    return url


def drop_db(db):
    if db in _KEYFILES:
        pg_cluster().drop_database(db.split("///", 1)[1].split("?", 1)[0])
        del _KEYFILES[db]


def sqlite_only(what):
    """Skips the calling test on PostgreSQL: it checks what only a SQLite file has."""
    if ENGINE == "postgres":
        raise Skip("SQLite only: " + what)


def _key_env(db, env):
    """On PostgreSQL, the files a SQLite test finds beside its database (the secret key,
    file channels' output) go to the test's folder too."""
    if db not in _KEYFILES:
        return
    if "SAMTALE_SECRET_KEY_FILE" not in env and "SAMTALE_SECRET_KEY" not in env:
        env["SAMTALE_SECRET_KEY_FILE"] = _KEYFILES[db]
    env.setdefault("SAMTALE_FILES_DIR", os.path.join(os.path.dirname(_KEYFILES[db]), "files"))


class _PgConn:
    """A psycopg2 connection that takes SQLite's ? parameters, for the tests' own reads
    and writes of a PostgreSQL test database."""

    def __init__(self, url):
        import psycopg2
        rest = url.split("///", 1)[1]
        dbname, _, query = rest.partition("?")
        params = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv)
        self.conn = psycopg2.connect(dbname=dbname, host=params.get("host"), user=params.get("user"))

    def execute(self, sql, params=()):
        cur = self.conn.cursor()
        cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
        return _PgCursor(cur)

    def executemany(self, sql, rows):
        cur = self.conn.cursor()
        cur.executemany(sql.replace("%", "%%").replace("?", "%s"), [tuple(r) for r in rows])
        return _PgCursor(cur)

    def sync_ids(self):
        """After rows were inserted with their ids given: each identity goes on past them."""
        cur = self.conn.cursor()
        cur.execute("SELECT table_name, column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND is_identity = 'YES'")
        for table, column in cur.fetchall():
            cur.execute('SELECT setval(pg_get_serial_sequence(%%s, %%s), coalesce(max("%s"), 0) + 1, false)'
                        ' FROM "%s"' % (column, table), (table, column))

    def commit(self):
        self.conn.commit()

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.conn.commit()
        return False


def _pg_value(v):
    return bytes(v) if isinstance(v, memoryview) else v


class _PgCursor:
    def __init__(self, cur):
        self.cur = cur

    @property
    def rowcount(self):
        return self.cur.rowcount

    def fetchone(self):
        row = self.cur.fetchone() if self.cur.description else None
        return tuple(_pg_value(v) for v in row) if row is not None else None

    def fetchall(self):
        return [tuple(_pg_value(v) for v in r) for r in self.cur.fetchall()] if self.cur.description else []

    def __iter__(self):
        return iter(self.fetchall())


def sync_ids(conn):
    """After a test inserted rows with their ids given: on PostgreSQL the identities go on
    past them (SQLite's AUTOINCREMENT does so by itself)."""
    if isinstance(conn, _PgConn):
        conn.sync_ids()


def due_in_turn(db, occurrence_ids, gap_s):
    """Time travel in a test's own database: the occurrences fall due now, gap_s seconds
    apart, in the order given (a series' copies, which would else be days apart)."""
    import time as _time
    con = db_connect(db)
    now = int(_time.time())
    try:
        with con:
            for k, oid in enumerate(occurrence_ids):
                con.execute("UPDATE occurrences SET planned_at = ?, next_attempt_at = ? WHERE id = ?",
                            (now + gap_s * k, now + gap_s * k, oid))
    finally:
        con.close()


def db_connect(db, readonly=False):
    """A DB-API connection to a test database on either engine (? parameters)."""
    if db in _KEYFILES or db.startswith("postgresql://"):
        return _PgConn(db)
    if readonly:
        return sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=TIMEOUT)
    return sqlite3.connect(db, timeout=TIMEOUT)


def binary():
    """Path of the samtale binary under test: SAMTALE_BIN, else build/samtale. Fails the
    calling test when there is no executable there."""
    path = os.environ.get("SAMTALE_BIN") or os.path.join(REPO, "build", "samtale")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise AssertionError("no executable samtale binary at %s" % path)
    return path


# ---------------------------------------------------------------------------------------
# CLI

def run_cli(db, *args, json=False, input=None, env=None, timeout=TIMEOUT, global_args=(), cwd=None):
    """Runs `samtale [--db DB] [--json] [global_args] ARGS` and returns the CompletedProcess
    (text mode). db may be None to leave --db out."""
    cmd = [binary()]
    if db is not None:
        cmd += ["--db", db]
    cmd += list(global_args)
    if json:
        cmd.append("--json")
    cmd += [str(a) for a in args]
    full_env = dict(os.environ)
    full_env.pop("SAMTALE_CONFIG", None)
    full_env.pop("SAMTALE_DB", None)
    full_env.pop("SAMTALE_SECRET_KEY_FILE", None)
    full_env.pop("SAMTALE_FETCH_PRIVATE_ADDRESSES", None)   # the old name of the setting below
    full_env.pop("SAMTALE_OUTBOUND_ALLOW", None)
    full_env["SAMTALE_ALLOW_PRIVATE_ADDRESSES"] = "true"    # the test peers live on 127.0.0.1
    full_env["LC_ALL"] = "C.UTF-8"   # the CLI speaks its environment's language; the tests read English
    if env:
        full_env.update(env)
    if db is not None:
        _key_env(db, full_env)
    try:
        return subprocess.run(cmd, input=input, capture_output=True, text=True,
                              timeout=timeout, env=full_env, cwd=cwd,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("command did not finish within %ss: %s" % (timeout, " ".join(cmd))) from e


def cli_ok(db, *args, **kw):
    """Like run_cli, and fails unless the exit code is 0."""
    p = run_cli(db, *args, **kw)
    if p.returncode != 0:
        raise AssertionError("`samtale %s` exited %d\nstdout: %s\nstderr: %s"
                             % (" ".join(map(str, args)), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return p


def cli_json(db, *args, **kw):
    """Runs a command with --json, checks exit 0 and returns the parsed standard output."""
    p = cli_ok(db, *args, json=True, **kw)
    try:
        return jsonlib.loads(p.stdout)
    except ValueError as e:
        raise AssertionError("`samtale --json %s` printed no JSON: %r" % (" ".join(map(str, args)), p.stdout[:500])) from e


# ---------------------------------------------------------------------------------------
# HTTP

class Response:
    """An answer read in full: status, headers (case-insensitive .get/.get_all), body."""

    def __init__(self, status, reason, headers, body, method, path):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.method = method
        self.path = path
        self._json = None

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        if self._json is None:
            try:
                self._json = jsonlib.loads(self.body)
            except ValueError as e:
                raise AssertionError("%s %s -> %d: body is not JSON: %r"
                                     % (self.method, self.path, self.status, self.body[:300])) from e
        return self._json

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return "%s %s -> %d %s" % (self.method, self.path, self.status, self.body[:400])


def request(port, method, path, json=None, body=None, headers=None, token=None,
            cookie=None, csrf=None, content_type=None, timeout=TIMEOUT, source=None):
    """One HTTP request to 127.0.0.1:port on a fresh connection. json= sends that value as
    application/json; body= sends raw bytes (with content_type if given). token= adds a
    bearer token, cookie= the samtale_session cookie, csrf= the X-CSRF-Token header.
    source= connects from another loopback address ("127.0.0.2"): Linux routes all of
    127/8 to this machine, so a test can be many clients."""
    h = {}
    if json is not None:
        body = jsonlib.dumps(json).encode()
        h["Content-Type"] = "application/json"
    if content_type is not None:
        h["Content-Type"] = content_type
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if cookie is not None:
        h["Cookie"] = "samtale_session=" + cookie
    if csrf is not None:
        h["X-CSRF-Token"] = csrf
    if headers:
        h.update(headers)
    if body is not None and isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.reason, r.headers, data, method, path)
    finally:
        conn.close()


class _BytesSock:
    def __init__(self, data):
        self._data = data

    def makefile(self, *a, **kw):
        return io.BytesIO(self._data)


def request_streamed(port, method, path, head_headers, chunks, chunked=False, timeout=TIMEOUT):
    """Sends a request whose body comes from the iterable `chunks`, on a raw socket, and
    stops sending as soon as the server answers or closes (a server that refuses a large
    body may answer before reading it). With chunked=True the body goes out with
    Transfer-Encoding: chunked and no Content-Length. Returns the Response."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % port]
    for k, v in head_headers.items():
        lines.append("%s: %s" % (k, v))
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()

    def frames():
        for c in chunks:
            if chunked:
                yield b"%x\r\n" % len(c) + c + b"\r\n"
            else:
                yield c
        if chunked:
            yield b"0\r\n\r\n"

    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    received = bytearray()
    try:
        s.setblocking(False)
        deadline = time.monotonic() + timeout
        pending = bytearray(head)
        source = frames()
        answered = closed = False
        while not answered:
            if not pending:
                nxt = next(source, None)
                if nxt is None:
                    break
                pending += nxt
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%s %s: server neither read the body nor answered within %ss"
                                     % (method, path, timeout))
            r, w, _ = select.select([s], [s], [], left)
            if r:
                answered = True
                break
            if w:
                try:
                    n = s.send(pending)
                    del pending[:n]
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
        # read the answer until the server closes the connection
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
            if _response_complete(received):
                break
    finally:
        s.close()
    if not received:
        raise AssertionError("%s %s: connection %s without an HTTP answer"
                             % (method, path, "reset" if closed else "closed"))
    resp = http.client.HTTPResponse(_BytesSock(bytes(received)), method=method)
    resp.begin()
    try:
        data = resp.read()
    except http.client.IncompleteRead as e:
        data = e.partial
    return Response(resp.status, resp.reason, resp.headers, data, method, path)


def _response_complete(buf):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", bytes(buf[:end]))
    if m:
        return len(buf) - (end + 4) >= int(m.group(1))
    return False


def parse_set_cookie(value):
    """'name=value; Attr; Attr=x' -> (name, value, {attr_lower: value_or_True})."""
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        if not p:
            continue
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), val.strip(), attrs


def session_cookie(resp):
    """The samtale_session Set-Cookie of a response as (value, attrs), or (None, None)."""
    for v in resp.headers.get_all("Set-Cookie") or []:
        name, val, attrs = parse_set_cookie(v)
        if name == "samtale_session":
            return val, attrs
    return None, None


# ---------------------------------------------------------------------------------------
# assertions

def expect(resp, status, code=None, field=None):
    """Fails unless resp has this status (and, for errors, the error shape with this code
    and field). Returns the parsed JSON body, or None for a body-less answer."""
    if resp.status != status:
        raise AssertionError("%s %s: expected %d%s, got %d: %s"
                             % (resp.method, resp.path, status, " " + code if code else "",
                                resp.status, resp.body[:500]))
    if status == 204 or not resp.body:
        if status >= 400:
            raise AssertionError("%s %s -> %d with an empty body, expected the error shape"
                                 % (resp.method, resp.path, status))
        return None
    ctype = resp.header("Content-Type") or ""
    if not ctype.startswith("application/json"):
        raise AssertionError("%s %s -> %d: Content-Type %r, expected application/json"
                             % (resp.method, resp.path, status, ctype))
    doc = resp.json()
    if status >= 400:
        check_error_shape(resp, doc)
        if code is not None and doc["error"]["code"] != code:
            raise AssertionError("%s %s -> %d: error code %r, expected %r (%s)"
                                 % (resp.method, resp.path, status, doc["error"]["code"], code,
                                    resp.body[:300]))
        if field is not None and doc["error"].get("field") != field:
            raise AssertionError("%s %s -> %d: error field %r, expected %r (%s)"
                                 % (resp.method, resp.path, status, doc["error"].get("field"),
                                    field, resp.body[:300]))
    return doc


def check_error_shape(resp, doc):
    e = doc.get("error") if isinstance(doc, dict) else None
    ok = (isinstance(e, dict) and isinstance(e.get("code"), str) and e["code"]
          and isinstance(e.get("message"), str) and e["message"]
          and ("field" not in e or isinstance(e["field"], str))
          and set(doc) == {"error"})
    if not ok:
        raise AssertionError("%s %s -> %d: not the error shape "
                             '{"error":{"code","message","field"?}}: %s'
                             % (resp.method, resp.path, resp.status, resp.body[:300]))


def db_files(db):
    """The database file and its -wal/-shm/-journal companions that exist."""
    return [p for p in (db, db + "-wal", db + "-shm", db + "-journal") if os.path.exists(p)]


def db_contains(db, needle):
    """Where the string needle occurs in the database: in any file's raw bytes, or in any
    row of any table (read through sqlite3, read-only). Returns a list of places."""
    found = []
    raw = needle.encode()
    if db in _KEYFILES:
        conn = db_connect(db)
        try:
            tables = [r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
            for t in tables:
                for row in conn.execute('SELECT * FROM "%s"' % t.replace('"', '""')):
                    for v in row:
                        if (isinstance(v, str) and needle in v) or (isinstance(v, bytes) and raw in v):
                            found.append("table " + t)
        finally:
            conn.close()
        return found
    for p in db_files(db):
        with open(p, "rb") as f:
            if raw in f.read():
                found.append("raw bytes of " + os.path.basename(p))
    conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=TIMEOUT)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            for row in conn.execute('SELECT * FROM "%s"' % t.replace('"', '""')):
                for v in row:
                    if (isinstance(v, str) and needle in v) or \
                       (isinstance(v, bytes) and raw in v):
                        found.append("table " + t)
    finally:
        conn.close()
    return found


def integrity_check(db):
    if db in _KEYFILES:
        return ["ok"]  # PostgreSQL checks its pages as it reads them
    conn = sqlite3.connect(db, timeout=TIMEOUT)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# server

class Server:
    """`samtale --db DB serve --listen 127.0.0.1:0`, with its standard output read line by
    line in a thread (kept in .lines) and its standard error in a log file."""

    def __init__(self, db, workdir, extra_args=(), env=None, role=None):
        self.role = role      # serve --role: None (all), "web" or "worker" (prints no address)
        self.db = db
        self.workdir = workdir
        self.extra_args = list(extra_args)
        self.env = env
        self.proc = None
        self.port = None
        self.lines = []
        self._cond = threading.Condition()
        self._eof = False
        self._reader = None
        self._log = None
        self.log_path = None
        self.killed = False

    def start(self):
        n = len([f for f in os.listdir(self.workdir) if f.startswith("server")])
        self.log_path = os.path.join(self.workdir, "server%d.log" % n)
        self._log = open(self.log_path, "wb")
        cmd = [binary(), "--db", self.db] + self.extra_args + ["serve", "--listen", "127.0.0.1:0"]
        if self.role:
            cmd += ["--role", self.role]
        full_env = dict(os.environ)
        full_env.pop("SAMTALE_CONFIG", None)
        full_env.pop("SAMTALE_DB", None)
        full_env.pop("SAMTALE_FETCH_PRIVATE_ADDRESSES", None)   # the old name of the setting below
        full_env.pop("SAMTALE_OUTBOUND_ALLOW", None)
        full_env["SAMTALE_ALLOW_PRIVATE_ADDRESSES"] = "true"    # the test peers live on 127.0.0.1
        full_env["LC_ALL"] = "C.UTF-8"
        if self.env:
            full_env.update(self.env)
        _key_env(self.db, full_env)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._log, env=full_env, cwd=self.workdir)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            line = self.wait_line(lambda l: (WORKER_RE if self.role == "worker" else LISTEN_RE).search(l), TIMEOUT)
        except AssertionError:
            self.stop(check=False)
            raise
        if self.role != "worker":
            self.port = int(LISTEN_RE.search(line).group(1))
        return self

    def _read(self):
        for raw in self.proc.stdout:
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def wait_line(self, pred, timeout=TIMEOUT):
        """Returns the first standard-output line for which pred is true, waiting up to
        timeout seconds; fails when the server exits or the time is up."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for l in self.lines:
                    if pred(l):
                        return l
                if self._eof:
                    raise AssertionError("server exited (%s) before printing the expected line; "
                                         "stdout: %r; log: %s"
                                         % (self.proc.poll(), self.lines[-10:], self.log_tail()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("server did not print the expected line within %ss; "
                                         "stdout: %r; log: %s" % (timeout, self.lines[-10:], self.log_tail()))
                self._cond.wait(left)

    def log_tail(self, n=1500):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""

    def kill(self):
        """SIGKILL, then reap."""
        self.killed = True
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self._reap()

    def stop(self, check=True):
        """SIGTERM, wait up to TIMEOUT, then SIGKILL. With check, fails when the log shows a
        sanitizer report."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
        self._reap()
        if check and not self.killed:
            log = self.log_tail(1 << 20)
            for mark in SANITIZER_MARKS:
                i = log.find(mark)
                if i >= 0:
                    raise AssertionError("server log has a sanitizer report:\n" + log[max(0, i - 200):i + 2500])

    def _reap(self):
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        if self._reader:
            self._reader.join(TIMEOUT)
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._log:
            self._log.close()
            self._log = None


_DEFAULT = object()


class Instance:
    """A temporary directory with a database prepared by the CLI (workspace Acme, an owner
    with a password, a '*' token) and, after start(), a running server.

        inst = Instance().prepare().start()
        inst.get("/api/v1/me")          # with the owner's token
        inst.close()                    # stops the server, removes the directory
    """

    def __init__(self, engine=None):
        """engine: "sqlite" for a SQLite file whatever the run's engine; None: the run's."""
        self.dir = tempfile.mkdtemp(prefix="samtale-it-")
        self.db = os.path.join(self.dir, "s.db") if engine == "sqlite" else new_db(self.dir)
        self.server = None
        self.token = None
        self.wid = None
        self.owner_id = None

    @property
    def port(self):
        return self.server.port

    def cli(self, *args, **kw):
        return run_cli(self.db, *args, **kw)

    def prepare(self):
        cli_ok(self.db, "workspace", "add", WORKSPACE, "--timezone", WORKSPACE_TZ)
        cli_ok(self.db, "user", "add", "--email", OWNER_EMAIL, "--name", "Owner",
               "--workspace", WORKSPACE, "--role", "owner", "--password-stdin",
               input=OWNER_PASSWORD + "\n")
        self.token = self.create_token("t", "*")
        return self

    def create_token(self, name, *scopes, user=None):
        """A token made with the CLI (works while the server runs); returns its secret."""
        args = ["token", "create", "--workspace", WORKSPACE, "--name", name]
        for s in scopes:
            args += ["--scope", s]
        if user:
            args += ["--user", user]
        doc = cli_json(self.db, *args)
        tok = doc.get("token") if isinstance(doc, dict) else None
        if not isinstance(tok, str) or not tok:
            raise AssertionError("token create --json printed no token: %r" % (doc,))
        return tok

    def start(self, extra_args=()):
        self.server = Server(self.db, self.dir, extra_args).start()
        if self.token:
            me = expect(self.get("/api/v1/me"), 200)
            self.owner_id = me["user"]["id"]
            self.wid = me["memberships"][0]["workspace_id"] if me.get("memberships") else None
            if me.get("token", {}).get("workspace_id"):
                self.wid = me["token"]["workspace_id"]
        return self

    def restart(self):
        if self.server:
            self.server.stop()
        self.server = Server(self.db, self.dir).start()
        return self

    def request(self, method, path, token=_DEFAULT, **kw):
        if token is _DEFAULT:
            token = self.token
        return request(self.port, method, path, token=token, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def ws(self, suffix=""):
        """/api/v1/workspaces/{wid} + suffix for the Acme workspace."""
        return "/api/v1/workspaces/%d%s" % (self.wid, suffix)

    def login(self, email=OWNER_EMAIL, password=OWNER_PASSWORD):
        """Logs in; returns (cookie value, csrf token, login response)."""
        r = request(self.port, "POST", "/api/v1/auth/login", json={"email": email, "password": password})
        doc = expect(r, 200)
        val, _ = session_cookie(r)
        if not val:
            raise AssertionError("login set no samtale_session cookie: %r" % r.headers.get_all("Set-Cookie"))
        return val, doc["csrf_token"], r

    def close(self):
        try:
            if self.server:
                self.server.stop()
        finally:
            drop_db(self.db)
            shutil.rmtree(self.dir, ignore_errors=True)


# The setting each channel kind requires (docs/api.md, Channel).
FEED = {"url": "https://example.com/feed.xml"}
KIND_SETTINGS = {"feed": FEED, "webhook": {"url": "https://example.com/hook"}, "file": {"path": "out.jsonl"},
                 "bluesky": {"handle": "samtale.test"}, "mastodon": {"instance_url": "https://mastodon.example"},
                 "jetstream": {}}


def new_channel(inst, name, kind="feed", **fields):
    """A channel; accounts are not checked against their network unless verify=True."""
    body = {"kind": kind, "name": name, "settings": dict(KIND_SETTINGS.get(kind, {}))}
    if kind in ("bluesky", "mastodon"):
        body["verify"] = False
    body.update(fields)
    return expect(inst.post(inst.ws("/channels"), json=body), 201)


def list_all(inst, path, limit=200, **kw):
    """Every item of a list endpoint, following next_cursor."""
    items, cursor, pages = [], None, 0
    sep = "&" if "?" in path else "?"
    while True:
        url = "%s%slimit=%d" % (path, sep, limit)
        if cursor is not None:
            url += "&cursor=" + urlquote(cursor)
        doc = expect(inst.get(url, **kw), 200)
        items += doc["items"]
        cursor = doc["next_cursor"]
        pages += 1
        if cursor is None:
            return items
        if pages > 1000:
            raise AssertionError("list %s never ends" % path)


def invite(inst, email, role, name=None, **kw):
    """An invitation into Acme made through the API; returns it (with its "link" and, as
    "secret", the link's secret) when the link is shown (no mail configured)."""
    body = {"email": email, "role": role}
    if name:
        body["name"] = name
    doc = expect(inst.post(inst.ws("/invitations"), json=body, **kw), 201)
    if doc.get("link"):
        doc["secret"] = doc["link"].rsplit("/#/invite/", 1)[1]
    return doc


def add_member(inst, email, role, name=None, password="a-good-password-42"):
    """Invites email into Acme and accepts as that person with their own password (a new
    account); returns the member as GET .../members shows it."""
    inv = invite(inst, email, role, name)
    expect(request(inst.port, "POST", "/api/v1/invitations/%s/accept" % inv["secret"],
                   json={"name": name or email.split("@")[0], "password": password}), 201)
    for m in list_all(inst, inst.ws("/members")):
        if m["email"] == email.lower():
            return m
    raise AssertionError("%s accepted an invitation but is not a member" % email)


def urlquote(s):
    from urllib.parse import quote
    return quote(s, safe="")


def module_instance():
    """setup_module for a test file whose tests share one prepared, running instance."""
    inst = Instance()
    try:
        inst.prepare().start()
    except BaseException:
        inst.close()
        raise
    return inst


def close_instance(inst):
    """teardown_module to go with module_instance."""
    inst.close()


def wait_until(fn, what, timeout=TIMEOUT, step=0.05):
    """Calls fn until it returns a true value, and returns that; fails after timeout
    seconds saying what was awaited. For conditions the server reaches by itself (a post
    published by the publisher), checked often, with a deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(step)
    raise AssertionError("timed out after %.0f s waiting for %s (last: %r)" % (timeout, what, last))


def parse_time(text):
    """Unix seconds of an RFC 3339 UTC time as the API writes it ("2026-11-23T19:45:00Z")."""
    import calendar
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
