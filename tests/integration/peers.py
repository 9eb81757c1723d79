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
        line = self._first_line()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line or "")
        if not m:
            self.stop()
            raise AssertionError("receiver did not start: %r" % line)
        self.port = int(m.group(1))
        self.url = "http://127.0.0.1:%d/hook" % self.port

    def _first_line(self):
        out = []
        t = threading.Thread(target=lambda: out.append(self.proc.stdout.readline().decode()), daemon=True)
        t.start()
        t.join(harness.TIMEOUT)
        return out[0] if out else None

    def control(self, **script):
        harness.expect(harness.request(self.port, "POST", "/_control", json=script), 200)

    def stats(self):
        return json.loads(harness.request(self.port, "GET", "/_stats").body)

    def deliveries(self):
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(harness.TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
