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
