#!/usr/bin/python3
"""receiver.py: a loopback webhook receiver for samtale's tests (CH5), stdlib only.

Usage: receiver.py --port 0 --log FILE [--secret S] [--hang-seconds N]

Binds 127.0.0.1 (port 0 picks a free one), prints "listening on http://127.0.0.1:PORT/"
on stdout once it accepts connections, and records every request except the control
endpoints as one JSON line in FILE:

  {"time": 1700000000.123, "method": "POST", "path": "/hook", "headers": {...},
   "body": "...", "signature_ok": true|false|null, "duplicate": false, "status": 201}

signature_ok is null without --secret; with it, X-Samtale-Signature must be
"sha256=" + hex HMAC-SHA256(secret, X-Samtale-Timestamp + "." + raw body).

Answers follow a script set at run time with POST /_control and a JSON object:
  {"mode": "ok" | "hang" | "flaky" | "NNN" (any status, e.g. "500", "429", "400"),
   "count": K (the next K requests get it; default 1), "retry_after": N (sent as
   Retry-After), "error": "text" (the error message of a failing answer),
   "seconds": N (how long "hang" sleeps; default --hang-seconds),
   "body": JSON (what an "NNN" mode answers instead of {"error": ...}),
   "raw": "text" (what an "NNN" mode answers as is, instead of JSON), "content_type": "..."
   (of "raw"; default text/html)}
"flaky" alternates 500 and ok over its K requests, starting with 500. After the script
runs out the receiver answers "ok" again. POST /_reset forgets keys, counts and script.

"ok" answers 201 {"id": KEY} to a request with an Idempotency-Key and remembers the key;
a repeated key gets the same answer again and counts as a duplicate delivery. A
post.delete event (no key) gets 200 {"deleted": REMOTE_ID}. "hang" takes the delivery
(the key is remembered at once) but answers only after sleeping, like a receiver whose
answer is lost to the sender's timeout.

GET /_stats answers {"deliveries": N (requests answered 2xx, duplicates included),
"unique_keys": M, "duplicates": D, "requests": R (all recorded requests),
"signatures_ok": A, "signatures_bad": B}.

Threaded; stops cleanly on SIGTERM or SIGINT.
"""

import argparse
import hashlib
import hmac
import http.server
import json
import signal
import sys
import threading
import time

BODY_MAX = 10 * 1024 * 1024


class State:
    def __init__(self, log_path, secret, hang_seconds):
        self.lock = threading.Lock()
        self.log_path = log_path
        self.secret = secret
        self.hang_seconds = hang_seconds
        self.reset()

    def reset(self):
        self.script = []          # list of (mode, retry_after, error, seconds, body)
        self.answers = {}         # idempotency key -> (status, body)
        self.deliveries = 0
        self.duplicates = 0
        self.requests = 0
        self.sig_ok = 0
        self.sig_bad = 0

    def record(self, entry):
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(line)


def check_signature(secret, headers, body):
    if secret is None:
        return None
    ts = headers.get("X-Samtale-Timestamp", "")
    sig = headers.get("X-Samtale-Signature", "")
    if not ts or not sig.startswith("sha256="):
        return False
    want = hmac.new(secret.encode("utf-8"), ts.encode("utf-8") + b"." + body,
                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, sig[len("sha256="):])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "samtale-test-receiver"

    def log_message(self, fmt, *args):  # quiet: the log file is the record
        pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > BODY_MAX:
            return None
        return self.rfile.read(n) if n else b""

    def send_json(self, status, obj, retry_after=None):
        self.send_raw(status, json.dumps(obj).encode("utf-8"), "application/json", retry_after)

    def send_raw(self, status, data, content_type, retry_after=None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): that is the point of "hang"

    def do_GET(self):
        st = self.server.state
        if self.path == "/_stats":
            with st.lock:
                self.send_json(200, {
                    "deliveries": st.deliveries, "unique_keys": len(st.answers),
                    "duplicates": st.duplicates, "requests": st.requests,
                    "signatures_ok": st.sig_ok, "signatures_bad": st.sig_bad})
            return
        self.handle_event(b"")

    def do_POST(self):
        st = self.server.state
        body = self.read_body()
        if body is None:
            self.send_json(413, {"error": "body too large"})
            return
        if self.path == "/_control":
            try:
                c = json.loads(body or b"{}")
                mode = str(c.get("mode", "ok"))
                if mode not in ("ok", "hang", "flaky") and not (mode.isdigit() and len(mode) == 3):
                    raise ValueError("unknown mode " + mode)
                count = int(c.get("count", 1))
                raw = c.get("raw")
                if raw is not None:
                    raw = (str(raw), str(c.get("content_type", "text/html; charset=utf-8")))
                step = (mode, c.get("retry_after"), c.get("error"), c.get("seconds"),
                        c.get("body"), raw)
            except (ValueError, TypeError, AttributeError) as e:
                self.send_json(400, {"error": str(e)})
                return
            with st.lock:
                for i in range(count):
                    if mode == "flaky":
                        st.script.append(("500" if i % 2 == 0 else "ok",) + step[1:])
                    else:
                        st.script.append(step)
            self.send_json(200, {"scripted": len(st.script)})
            return
        if self.path == "/_reset":
            with st.lock:
                st.reset()
            self.send_json(200, {"reset": True})
            return
        self.handle_event(body)

    do_PUT = do_POST
    do_DELETE = do_POST

    def handle_event(self, body):
        st = self.server.state
        headers = {k: v for k, v in self.headers.items()}
        sig = check_signature(st.secret, self.headers, body)
        key = self.headers.get("Idempotency-Key")
        entry = {"time": time.time(), "method": self.command, "path": self.path,
                 "headers": headers, "body": body.decode("utf-8", "replace"),
                 "signature_ok": sig, "duplicate": False}
        with st.lock:
            st.requests += 1
            if sig is True:
                st.sig_ok += 1
            elif sig is False:
                st.sig_bad += 1
            mode, retry_after, error, seconds, scripted, raw = st.script.pop(0) if st.script else \
                ("ok", None, None, None, None, None)
            status, answer = None, None
            if mode in ("ok", "hang"):
                if key is not None and key in st.answers:
                    status, answer = st.answers[key]
                    st.duplicates += 1
                    entry["duplicate"] = True
                elif key is not None:
                    status, answer = 201, {"id": key}
                    st.answers[key] = (status, answer)
                else:
                    try:
                        ev = json.loads(body or b"{}")
                    except ValueError:
                        ev = {}
                    rid = ev.get("remote_id") if isinstance(ev, dict) else None
                    status, answer = 200, ({"deleted": rid} if rid is not None else {"ok": True})
                st.deliveries += 1
            else:
                status = int(mode)
                if scripted is not None:
                    answer = scripted
                else:
                    answer = {"error": error if error is not None else "scripted %s" % mode}
                if 200 <= status < 300:
                    st.deliveries += 1
            entry["status"] = status
            st.record(entry)
        if mode == "hang":
            time.sleep(float(seconds if seconds is not None else st.hang_seconds))
        if raw is not None and mode not in ("ok", "hang"):
            self.send_raw(status, raw[0].encode("utf-8"), raw[1], retry_after)
        else:
            self.send_json(status, answer, retry_after)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--secret")
    ap.add_argument("--hang-seconds", type=float, default=5.0)
    args = ap.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True  # a hanging handler must not hold up the exit
    server.state = State(args.log, args.secret, args.hang_seconds)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    print("listening on http://127.0.0.1:%d/" % server.server_address[1], flush=True)
    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
