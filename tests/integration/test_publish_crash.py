"""Exactly once across crashes, and a thousand at once (PRODUCT.md P10; issue: the crash
test and the 1,000-in-a-minute test).

Crash: 1,000 occurrences on 10 webhook channels fall due over about 40 seconds while the
server is killed with SIGKILL at random moments at least 20 times and started again. At
the end every occurrence is published, the receiver saw every idempotency key create
exactly one post (raw deliveries that were retries are counted and reported), and
nothing is left in flight.

Throughput: 1,000 occurrences due now on 10 channels all go out within a minute."""

import random
import time

import harness
import peers
from harness import expect

CHANNELS = 10
POSTS = 100


def _setup(inst):
    inst.prepare()
    inst.receiver = peers.Receiver(inst.dir, secret="crash-secret")
    inst.env = {"SAMTALE_PUBLISH_TIMEOUT_MS": "2000", "SAMTALE_PUBLISH_BACKOFF_S": "1", "SAMTALE_LOG_LEVEL": "warn"}
    inst.server = harness.Server(inst.db, inst.dir, env=inst.env).start()
    inst.wid = expect(inst.get("/api/v1/me"), 200)["token"]["workspace_id"]
    inst.channels = [harness.new_channel(inst, "hook-%d" % i, kind="webhook", secret="crash-secret",
                                         settings={"url": inst.receiver.url + "/%d" % i}, max_per_hour=1000,
                                         max_per_day=10000)["id"] for i in range(CHANNELS)]


def _counts(db):
    con = harness.db_connect(db, readonly=True)
    try:
        return dict(con.execute("SELECT state, count(*) FROM occurrences GROUP BY state").fetchall())
    finally:
        con.close()


def _keys(db):
    con = harness.db_connect(db, readonly=True)
    try:
        return [r[0] for r in con.execute("SELECT idempotency_key FROM occurrences")]
    finally:
        con.close()


def test_sigkill_at_random_moments_publishes_everything_exactly_once():
    inst = harness.Instance()
    try:
        _setup(inst)
        start = int(time.time()) + 3
        for i in range(POSTS):
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i * 40 // POSTS))
            expect(inst.post(inst.ws("/posts"), json={"text": "crash test post %d" % i, "channels": inst.channels,
                                                      "schedule": at}), 201)
        last_due = start + 40
        rng = random.Random(20261123)
        kills = 0
        while kills < 20 or time.time() < last_due:
            time.sleep(rng.uniform(0.2, 2.0))   # a random moment: the chaos, not a wait for a result
            inst.server.kill()
            kills += 1
            inst.server = harness.Server(inst.db, inst.dir, env=inst.env).start()
        harness.wait_until(lambda: _counts(inst.db).get("published", 0) == POSTS * CHANNELS,
                           "all %d occurrences to be published (states: %r)" % (POSTS * CHANNELS, _counts(inst.db)),
                           timeout=120, step=0.2)
        counts = _counts(inst.db)
        assert counts == {"published": POSTS * CHANNELS}, counts
        stats = inst.receiver.stats()
        keys = set(_keys(inst.db))
        seen = {}
        for d in inst.receiver.deliveries():
            k = {h.lower(): v for h, v in d["headers"].items()}.get("idempotency-key")
            if k and d["status"] in (200, 201):
                seen[k] = seen.get(k, 0) + 1
        assert set(seen) == keys, "keys the receiver never got: %d, unknown keys: %d" % (
            len(keys - set(seen)), len(set(seen) - keys))
        assert stats["unique_keys"] == POSTS * CHANNELS, stats
        assert stats["signatures_bad"] == 0, stats
        retries = sum(n - 1 for n in seen.values())
        print("crash test: %d SIGKILLs, %d occurrences, %d raw deliveries, %d of them retries of a key already "
              "delivered (each answered with the same post), 0 posts created twice" %
              (kills, len(keys), sum(seen.values()), retries))
        assert harness.integrity_check(inst.db) == ["ok"]
    finally:
        if getattr(inst, "receiver", None):
            inst.receiver.stop()
        inst.close()


def test_a_thousand_due_at_once_go_out_within_a_minute():
    inst = harness.Instance()
    try:
        _setup(inst)
        t0 = time.monotonic()
        for i in range(POSTS):
            expect(inst.post(inst.ws("/posts"), json={"text": "all at once %d" % i, "channels": inst.channels,
                                                      "schedule": "now"}), 201)
        harness.wait_until(lambda: _counts(inst.db).get("published", 0) == POSTS * CHANNELS,
                           "1000 occurrences to go out", timeout=60, step=0.1)
        took = time.monotonic() - t0
        print("thousand at once: %d occurrences on %d channels published in %.1f s" % (POSTS * CHANNELS, CHANNELS, took))
        assert took < 60, took
        assert inst.receiver.stats()["unique_keys"] == POSTS * CHANNELS
    finally:
        if getattr(inst, "receiver", None):
            inst.receiver.stop()
        inst.close()
