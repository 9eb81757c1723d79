"""Test peers started from tests/peers/ and stopped by their PID."""

import json
import os
import re
import subprocess
import sys
import threading

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVER = os.path.join(HERE, "..", "peers", "receiver.py")
FEEDSERVER = os.path.join(HERE, "..", "peers", "feedserver.py")


def first_line(proc, timeout):
    """The first line proc writes on standard output within timeout seconds, or ""."""
    out = []
    t = threading.Thread(target=lambda: out.append(proc.stdout.readline().decode()), daemon=True)
    t.start()
    t.join(timeout)
    return out[0] if out else ""


def stop_process(proc, wait=None):
    """SIGTERM to proc (by its PID), SIGKILL when it does not end in time; closes its pipe."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(wait or harness.TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()


class FeedServer:
    """tests/peers/feedserver.py on 127.0.0.1: feeds, pages that name them, redirects."""

    def __init__(self):
        py = sys.executable if os.path.exists(sys.executable) else "/usr/bin/python3"
        self.proc = subprocess.Popen([py, FEEDSERVER, "--port", "0"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = first_line(self.proc, harness.TIMEOUT)
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)/", line)
        if not m:
            self.stop()
            raise AssertionError("feed server did not start: %r" % line)
        self.url = m.group(1)

    def stop(self):
        stop_process(self.proc)


class Receiver:
    """tests/peers/receiver.py on 127.0.0.1: records every delivery, answers by script."""

    def __init__(self, workdir, secret=None, hang_seconds=3):
        self.log = os.path.join(workdir, "receiver.jsonl")
        args = [sys.executable if os.path.exists(sys.executable) else "/usr/bin/python3", RECEIVER, "--port", "0",
                "--log", self.log, "--hang-seconds", str(hang_seconds)]
        if secret:
            args += ["--secret", secret]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        line = first_line(self.proc, harness.TIMEOUT)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.stop()
            raise AssertionError("receiver did not start: %r" % line)
        self.port = int(m.group(1))
        self.url = "http://127.0.0.1:%d/hook" % self.port

    def control(self, **script):
        harness.expect(harness.request(self.port, "POST", "/_control", json=script), 200)

    def stats(self):
        return json.loads(harness.request(self.port, "GET", "/_stats").body)

    def deliveries(self):
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        stop_process(self.proc)


SMTP_SERVER = os.path.join(HERE, "..", "peers", "smtp_server.py")


class SmtpPeer:
    """tests/peers/smtp_server.py (aiosmtpd) on 127.0.0.1: each accepted message is a file in
    .dir, each connection, refusal and message a line of .dir/log.jsonl. args are the
    server's options (--tls, --cert, --key, --auth, --refuse-rcpt, --refuse-count ...)."""

    def __init__(self, workdir, *args, port=0, name="smtp"):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        # aiosmtpd is Debian's python3-aiosmtpd: Debian's interpreter has it.
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        self._err = open(os.path.join(workdir, name + ".stderr"), "wb")
        self.proc = subprocess.Popen([py, SMTP_SERVER, "--dir", self.dir, "--port", str(port)] + list(args),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err)
        line = first_line(self.proc, harness.TIMEOUT)
        m = re.search(r"listening on (\d+)", line)
        if not m:
            self.stop()
            raise AssertionError("SMTP peer did not start: %r" % line)
        self.port = int(m.group(1))

    def events(self, event=None):
        """The log's events (of one kind when event is given), oldest first."""
        path = os.path.join(self.dir, "log.jsonl")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            evs = [json.loads(l) for l in f if l.strip()]
        return [e for e in evs if event is None or e["event"] == event]

    def messages(self):
        """The accepted messages as email.message.EmailMessage, oldest first."""
        import email
        import email.policy
        out = []
        for name in sorted(n for n in os.listdir(self.dir) if n.endswith(".eml")):
            with open(os.path.join(self.dir, name), "rb") as f:
                raw = f.read()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            msg.raw = raw
            out.append(msg)
        return out

    def stop(self):
        stop_process(self.proc)
        self._err.close()
