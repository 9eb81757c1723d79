"""Crash safety: SIGKILL the server in the middle of concurrent writes, three times over;
the database must pass integrity_check, writes the server acknowledged must survive, and a
restarted server must serve /readyz and list channels."""

import threading

import harness
from harness import expect

WRITERS = 4
OPS_BEFORE_KILL = 100     # acknowledged writes across all writers before the kill
MAX_OPS_PER_WRITER = 400  # bound on each writer's loop


class Writers:
    def __init__(self, inst, round_no):
        self.inst = inst
        self.round_no = round_no
        self.lock = threading.Lock()
        self.acked = 0
        self.enough = threading.Event()
        self.stop = threading.Event()
        # by name: ids may be reused once a channel is deleted
        self.created = set()       # acknowledged with 201
        self.delete_tried = set()
        self.deleted = set()       # acknowledged with 204
        self.errors = []
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(WRITERS)]

    def _ack(self):
        with self.lock:
            self.acked += 1
            if self.acked >= OPS_BEFORE_KILL:
                self.enough.set()

    def run(self, n):
        inst = self.inst
        path = inst.ws("/channels")
        try:
            for i in range(MAX_OPS_PER_WRITER):
                if self.stop.is_set():
                    return
                name = "r%d-w%d-%d" % (self.round_no, n, i)
                r = harness.request(inst.port, "POST", path, token=inst.token,
                                    json={"kind": "feed", "settings": harness.FEED, "name": name, "secret": "k-%d" % i,
                                          "settings": {"url": "https://example.com/%s.xml" % name}})
                if r.status != 201:
                    self.errors.append(repr(r))
                    return
                cid = r.json()["id"]
                with self.lock:
                    self.created.add(name)
                self._ack()
                r = harness.request(inst.port, "PATCH", "%s/%d" % (path, cid), token=inst.token,
                                    json={"settings": {"url": "https://example.com/%d" % i, "n": i}})
                if r.status != 200:
                    self.errors.append(repr(r))
                    return
                self._ack()
                if i % 2:
                    with self.lock:
                        self.delete_tried.add(name)
                    r = harness.request(inst.port, "DELETE", "%s/%d" % (path, cid), token=inst.token)
                    if r.status != 204:
                        self.errors.append(repr(r))
                        return
                    with self.lock:
                        self.deleted.add(name)
                    self._ack()
        except OSError:
            # the server was killed under us: expected once stop is set
            if not self.stop.is_set():
                raise
        except Exception as e:  # http.client errors after the kill are expected too
            if not self.stop.is_set():
                self.errors.append(repr(e))


def _round(inst, round_no):
    w = Writers(inst, round_no)
    for t in w.threads:
        t.start()
    try:
        assert w.enough.wait(harness.TIMEOUT), \
            "writers made only %d acknowledged writes in %ss: %r" % (w.acked, harness.TIMEOUT, w.errors[:3])
        assert not w.errors, "a write failed before the kill: %r" % w.errors[:3]
        w.stop.set()
        inst.server.kill()
    finally:
        w.stop.set()
        if inst.server.proc.poll() is None:
            inst.server.kill()
        for t in w.threads:
            t.join(harness.TIMEOUT)
    assert not any(t.is_alive() for t in w.threads), "a writer thread hangs after the kill"

    res = harness.integrity_check(inst.db)
    assert res == ["ok"], "round %d: integrity_check after SIGKILL: %r" % (round_no, res[:10])

    inst.server = harness.Server(inst.db, inst.dir).start()
    doc = expect(inst.get("/readyz", token=None), 200)
    assert doc["status"] == "ready", doc
    listed = {c["name"]: c for c in harness.list_all(inst, inst.ws("/channels"))}
    confirmed = w.created - w.delete_tried
    lost = sorted(confirmed - set(listed))
    assert not lost, "round %d: acknowledged channels lost after SIGKILL: %r" % (round_no, lost)
    back = sorted(w.deleted & set(listed))
    assert not back, "round %d: acknowledged deletes undone after SIGKILL: %r" % (round_no, back)
    some = max(c["id"] for c in listed.values())
    expect(inst.get(inst.ws("/channels/%d" % some)), 200)
    ch = harness.new_channel(inst, "after-crash-%d" % round_no)
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"])), 204)
    return w.acked


def test_sigkill_during_concurrent_writes_three_times():
    inst = harness.Instance()
    try:
        inst.prepare().start()
        for round_no in range(1, 4):
            _round(inst, round_no)
    finally:
        inst.close()
