"""The HTTP server under load it must survive (the review's own two replays, the tarpit and
the 2,000 idle connections, are in test_security.py and use the helpers here): requests that wait on a network that never
answers (a tarpit on 127.0.0.1) run on the bounded worker pool and leave the HTTP threads
free; the pool's limits answer 429 (per workspace), 503 (queue full, stopping) and 504
(deadline) with Retry-After and the error shape; a client that leaves and a server that
stops with such requests in flight free everything once; and a flood of idle connections
from one address neither stops another client nor runs the server out of descriptors
(docs/api.md, Limits; docs/operations.md, Connections)."""

import errno
import os
import re
import resource
import select
import signal
import socket
import subprocess
import threading
import time

import harness
from harness import expect


class Tarpit:
    """A TCP server on 127.0.0.1 that accepts and never answers. .accepted counts the
    connections it took; release() closes them and the listening socket, so every call
    waiting on it fails at once (and new ones are refused)."""

    def __init__(self):
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1024)
        self.port = self.ls.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.conns = []
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            with self.cond:
                if self.closed:
                    c.close()
                    return
                self.conns.append(c)
                self.cond.notify_all()

    @property
    def accepted(self):
        with self.cond:
            return len(self.conns)

    def wait_accepted(self, n, timeout=harness.TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.conns) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the tarpit accepted %d connections, expected %d" % (len(self.conns), n))
                self.cond.wait(left)

    def release(self):
        with self.cond:
            self.closed = True
            conns, self.conns = self.conns, []
        try:
            self.ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ls.close()
        for c in conns:
            c.close()
        self.thread.join(harness.TIMEOUT)


def start(inst, env):
    """Starts inst's server with these settings (SAMTALE_* variables); the poller reads
    no channel on its own during the test, so only the requests reach the tarpit: its
    first pass (at start, before any channel exists) is waited for, and the next is a day
    away."""
    full = {"SAMTALE_POLL_INTERVAL_S": "86400"}
    full.update(env)
    inst.server = harness.Server(inst.db, inst.dir, env=full).start()
    me = expect(inst.get("/api/v1/me"), 200)
    inst.wid = me["token"]["workspace_id"] if me.get("token") else me["memberships"][0]["workspace_id"]
    harness.wait_until(lambda: metric(inst, "samtale_channel_read_passes_total") >= 1,
                       "the poller's first pass over the channels", timeout=harness.TIMEOUT)
    return inst


def tarpit_channel(inst, tarpit, name, token=None, wid=None):
    """A Mastodon channel whose instance is the tarpit (not checked: "verify": false)."""
    body = {"kind": "mastodon", "name": name, "secret": "t", "verify": False,
            "settings": {"instance_url": tarpit.url}}
    path = "/api/v1/workspaces/%d/channels" % (wid or inst.wid)
    return expect(inst.post(path, json=body, token=token or inst.token), 201)


class Calls:
    """Requests sent on threads; .results collects (status, response or exception)."""

    def __init__(self):
        self.threads = []
        self.results = []
        self.lock = threading.Lock()

    def start(self, fn):
        def run():
            try:
                out = fn()
            except Exception as e:  # noqa: BLE001 - recorded and checked by the test
                out = e
            with self.lock:
                self.results.append(out)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.threads.append(t)

    def join(self, timeout=harness.TIMEOUT):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t for t in self.threads if t.is_alive()]
        assert not alive, "%d requests still unanswered after %ss" % (len(alive), timeout)
        return self.results


def metric(inst, name):
    text = inst.get("/metrics", token=None).text
    m = re.search(r"(?m)^%s (\d+)$" % re.escape(name), text)
    assert m, "no %s in /metrics" % name
    return int(m.group(1))


def p99(samples):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


def expect_later(resp, status, code):
    """An answer of the pool's limits: the status, the error shape with a plain message,
    and (for 429 and 503) Retry-After."""
    doc = expect(resp, status, code)
    msg = doc["error"]["message"]
    assert len(msg) > 20 and not re.search(r"\b[A-Z]+_[A-Z_]+\b|\bE[A-Z]{3,}\b", msg), "not a plain message: %r" % msg
    if status in (429, 503):
        ra = resp.header("Retry-After")
        assert ra and ra.isdigit() and int(ra) > 0, "no Retry-After: %r" % ra
    return doc


# ---------------------------------------------------------------------------------------
# 1. requests that wait on a network

def test_workspace_limit_429_and_full_queue_503():
    tarpit = Tarpit()
    inst = harness.Instance().prepare()
    try:
        inst.cli("workspace", "add", "Other", "--timezone", "UTC")
        harness.cli_ok(inst.db, "user", "add", "--email", harness.OWNER_EMAIL, "--workspace", "Other",
                       "--role", "owner")
        other_token = harness.cli_json(inst.db, "token", "create", "--workspace", "Other", "--name", "o",
                                       "--scope", "*")["token"]
        start(inst, {"SAMTALE_NET_WORKERS": "2", "SAMTALE_NET_QUEUE": "2", "SAMTALE_NET_PER_WORKSPACE": "3",
                     "SAMTALE_PUBLISH_TIMEOUT_MS": "60000"})
        other_wid = expect(inst.get("/api/v1/me", token=other_token), 200)["token"]["workspace_id"]
        a = tarpit_channel(inst, tarpit, "tarpit-a")
        b = tarpit_channel(inst, tarpit, "tarpit-b", token=other_token, wid=other_wid)
        read_a = inst.ws("/channels/%d/read" % a["id"])
        read_b = "/api/v1/workspaces/%d/channels/%d/read" % (other_wid, b["id"])

        calls = Calls()
        for _ in range(3):
            calls.start(lambda: inst.post(read_a, timeout=120))
        tarpit.wait_accepted(2)                 # both workers wait on the network
        harness.wait_until(lambda: metric(inst, "samtale_net_requests_waiting") == 1, "a read queued")
        # The workspace has 3 in flight: a 4th is refused at once, and the queue is not full.
        r = inst.post(read_a)
        expect_later(r, 429, "rate_limited")
        # Adding a channel (it may check credentials on the network) shares the limit.
        expect_later(inst.post(inst.ws("/channels"), json={"kind": "feed", "name": "f", "verify": False,
                                                           "settings": harness.FEED}), 429, "rate_limited")
        calls.start(lambda: inst.post(read_b, token=other_token, timeout=120))
        harness.wait_until(lambda: metric(inst, "samtale_net_requests_waiting") == 2, "two reads queued")
        # Another workspace, under its own limit, finds the queue full.
        expect_later(inst.post(read_b, token=other_token), 503, "busy")
        # Nothing else waits: the HTTP threads answer as always.
        expect(inst.get("/healthz", token=None), 200)
        expect(inst.get(inst.ws("/channels")), 200)
        assert tarpit.accepted == 2

        tarpit.release()
        for r in calls.join(60):
            assert not isinstance(r, Exception), r
            assert expect(r, 200)["ok"] is False
        # Room again.
        expect(inst.post(inst.ws("/channels"), json={"kind": "feed", "name": "f", "verify": False,
                                                     "settings": harness.FEED}), 201)
    finally:
        tarpit.release()
        inst.close()


def test_deadline_504_and_a_client_that_leaves():
    tarpit = Tarpit()
    inst = harness.Instance().prepare()
    try:
        start(inst, {"SAMTALE_NET_DEADLINE_MS": "1000", "SAMTALE_PUBLISH_TIMEOUT_MS": "60000"})
        ch = tarpit_channel(inst, tarpit, "slow")
        path = inst.ws("/channels/%d/read" % ch["id"])
        t0 = time.monotonic()
        r = inst.post(path, timeout=30)
        took = time.monotonic() - t0
        print("# a read past its deadline of 1 s answered 504 after %.2f s" % took)
        expect_later(r, 504, "timeout")
        assert took < 10, took
        # The work goes on after the answer (its worker still waits on the tarpit).
        assert metric(inst, "samtale_net_requests_running") == 1

        # A client that leaves while its request waits: the request is dropped, once.
        s = socket.create_connection(("127.0.0.1", inst.port))
        s.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Length: 0\r\n\r\n"
                   % (path, inst.token)).encode())
        tarpit.wait_accepted(2)
        s.close()
        harness.wait_until(lambda: metric(inst, "samtale_net_requests_running") == 2, "the left read running")

        tarpit.release()
        harness.wait_until(lambda: metric(inst, "samtale_net_requests_running") == 0, "the reads ended")
        expect(inst.get("/healthz", token=None), 200)
        inst.server.stop()                 # fails on a sanitizer report (double free, leak)
    finally:
        tarpit.release()
        inst.close()


def test_stop_with_requests_in_flight():
    tarpit = Tarpit()
    inst = harness.Instance().prepare()
    try:
        start(inst, {"SAMTALE_NET_WORKERS": "2", "SAMTALE_NET_PER_WORKSPACE": "10",
                     "SAMTALE_PUBLISH_TIMEOUT_MS": "60000"})
        ch = tarpit_channel(inst, tarpit, "stuck")
        path = inst.ws("/channels/%d/read" % ch["id"])
        calls = Calls()
        for _ in range(4):
            calls.start(lambda: inst.post(path, timeout=60))
        tarpit.wait_accepted(2)
        harness.wait_until(lambda: metric(inst, "samtale_net_requests_waiting") == 2, "two reads queued")
        t0 = time.monotonic()
        inst.server.proc.send_signal(signal.SIGTERM)
        results = calls.join(30)
        print("# 4 reads (2 running, 2 queued) answered %.2f s after SIGTERM" % (time.monotonic() - t0))
        for r in results:
            assert not isinstance(r, Exception), r
            expect_later(r, 503, "unavailable")
        # The server waits for its running network calls; freed, they end at once.
        tarpit.release()
        inst.server.proc.wait(harness.TIMEOUT)
        inst.server.stop()                 # reaps; fails on a sanitizer report
    finally:
        tarpit.release()
        inst.close()


# ---------------------------------------------------------------------------------------
# 2. connections

def _limited_server(inst, env, nofile):
    """inst's server started with the open-file limit (soft, hard) = nofile."""
    real = subprocess.Popen

    def popen(*a, **kw):
        kw["preexec_fn"] = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
        return real(*a, **kw)
    harness.subprocess.Popen = popen
    try:
        return start(inst, env)
    finally:
        harness.subprocess.Popen = real


def _open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def _soft_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no open-file limit in /proc/%d/limits" % pid)


def _flood(port, n, settle=True):
    """n connections from 127.0.0.1 that send nothing; returns the sockets. With settle,
    waits until every connect went through or was refused (past its limit the server
    leaves connections in the kernel's backlog, where they stay pending)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 200:
        if hard != resource.RLIM_INFINITY and hard < n + 200:
            raise harness.Skip("this test needs %d open files; the hard limit is %d" % (n + 200, hard))
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 200, hard))
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        assert err in (0, errno.EINPROGRESS), os.strerror(err)
        socks.append(s)
    if not settle:
        return socks
    poller = select.poll()
    pending = {s.fileno() for s in socks}
    for fd in pending:
        poller.register(fd, select.POLLOUT)
    deadline = time.monotonic() + harness.TIMEOUT
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(500):
            poller.unregister(fd)
            pending.discard(fd)
    return socks


def _request_from(ip, port, path, token=None):
    """A GET from the source address ip (127/8 all reach lo); returns (status, seconds)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    t0 = time.monotonic()
    try:
        s.bind((ip, 0))
        s.connect(("127.0.0.1", port))
        head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % path
        if token:
            head += "Authorization: Bearer %s\r\n" % token
        s.sendall((head + "\r\n").encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    assert m, "no HTTP answer: %r" % data[:200]
    return int(m.group(1)), time.monotonic() - t0


def test_connections_stay_under_the_descriptor_limit():
    inst = harness.Instance().prepare()
    socks = []
    try:
        # No per-client limit (as behind a proxy): the total limit alone keeps the
        # descriptors under the open-file limit, with room for the database and the rest.
        _limited_server(inst, {"SAMTALE_MAX_CONNECTIONS_PER_CLIENT": "0"}, (1024, 1024))
        pid = inst.server.proc.pid
        socks = _flood(inst.port, 2000, settle=False)
        # The server takes connections up to its limit (most of them); the rest wait in
        # the kernel's backlog.
        peak = harness.wait_until(lambda: (lambda n: n if n >= 800 else 0)(_open_fds(pid)),
                                  "the server to accept most of the connections")
        for _ in range(20):
            peak = max(peak, _open_fds(pid))
        m = re.search(r"max_connections=(\d+)", inst.server.log_tail(1 << 20))
        print("# 2000 idle connections, no per-client limit: max_connections %s, server descriptors at most %d "
              "of 1024" % (m.group(1) if m else "?", peak))
        assert peak < 1024 - 64, "the server's descriptors reached %d of 1024" % peak
        assert m and int(m.group(1)) <= 1024 - 128, "max_connections leaves no room under 1024 descriptors"
        assert "Too many open files" not in inst.server.log_tail(1 << 20)
        for s in socks:
            s.close()
        socks = []
        harness.wait_until(lambda: _open_fds(pid) < 100, "the server to close the flood's connections")
        expect(inst.get("/healthz", token=None), 200)
        expect(inst.get(inst.ws("/channels")), 200)
    finally:
        for s in socks:
            s.close()
        inst.close()
