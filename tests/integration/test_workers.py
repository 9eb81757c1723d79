"""Several processes on one PostgreSQL database (PRODUCT.md X3): `samtale serve --role
web|worker|all`.

- On SQLite, web and worker roles are refused with a way forward (one process serves
  and works).
- A web process and two workers share a database: a post written through the web
  process is published once, by a worker, and the web process publishes nothing.
- The chaos test: 4 worker processes publish 2,000 occurrences (20 webhook channels x 100
  posts, falling due over about 40 seconds) to a loopback receiver while random workers
  are killed with SIGKILL at least 30 times and started again. At the end every
  occurrence is published, the receiver saw each idempotency key make exactly one post,
  nothing is left in flight, and two more channels with a cap of 25 posts an hour, given
  40 due posts each, got exactly 25 each: the caps held across the workers.
"""

import random
import time

import harness
import peers
from harness import expect

CHANNELS = 20
POSTS = 100
WORKERS = 4
CAP = 25
CAPPED_POSTS = 40


def _pg_only():
    if harness.ENGINE != "postgres":
        raise harness.Skip("several processes share a PostgreSQL database (the postgres run tests it)")


def _counts(db, channels=None):
    con = harness.db_connect(db, readonly=True)
    try:
        if channels:
            marks = ", ".join("?" for _ in channels)
            rows = con.execute("SELECT state, count(*) FROM occurrences WHERE channel_id IN (%s) GROUP BY state"
                               % marks, list(channels)).fetchall()
        else:
            rows = con.execute("SELECT state, count(*) FROM occurrences GROUP BY state").fetchall()
        return {k: int(v) for k, v in rows}
    finally:
        con.close()


def test_web_and_worker_roles_need_postgres():
    if harness.ENGINE == "postgres":
        raise harness.Skip("the refusal is SQLite's")
    inst = harness.Instance().prepare()
    try:
        for role in ("web", "worker"):
            p = harness.run_cli(inst.db, "serve", "--listen", "127.0.0.1:0", "--role", role)
            assert p.returncode == 2, (role, p.returncode, p.stderr)
            assert "needs PostgreSQL" in p.stderr and "--role all" in p.stderr, p.stderr
        p = harness.run_cli(inst.db, "serve", "--role", "cook")
        assert p.returncode == 2 and "all, web or worker" in p.stderr, p.stderr
    finally:
        inst.close()


def test_a_web_process_and_two_workers_share_the_database():
    _pg_only()
    inst = harness.Instance().prepare()
    receiver = peers.Receiver(inst.dir, secret="roles-secret")
    workers = []
    try:
        env = {"SAMTALE_PUBLISH_BACKOFF_S": "1"}
        inst.server = harness.Server(inst.db, inst.dir, env=env, role="web").start()
        inst.wid = expect(inst.get("/api/v1/me"), 200)["token"]["workspace_id"]
        ch = harness.new_channel(inst, "hook", kind="webhook", secret="roles-secret",
                                 settings={"url": receiver.url + "/roles"})
        p = expect(inst.post(inst.ws("/posts"), json={"text": "from the web process", "channels": [ch["id"]],
                                                      "schedule": "now"}), 201)
        # Nothing works the queue yet: the web process only serves.
        assert expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]["state"] == "scheduled"
        for _ in range(2):
            workers.append(harness.Server(inst.db, inst.dir, env=env, role="worker").start())
        harness.wait_until(lambda: expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["state"] == "published",
                           "the post to be published by a worker", timeout=30, step=0.1)
        # A second post is picked up at once: the web process tells the workers (NOTIFY).
        p2 = expect(inst.post(inst.ws("/posts"), json={"text": "and another", "channels": [ch["id"]],
                                                       "schedule": "now"}), 201)
        harness.wait_until(lambda: expect(inst.get(inst.ws("/posts/%d" % p2["id"])), 200)["state"] == "published",
                           "the second post to be published", timeout=30, step=0.05)
        stats = receiver.stats()
        assert stats["unique_keys"] == 2 and stats["signatures_bad"] == 0, stats
        for w in workers:
            assert any("working on the database" in l for l in w.lines), w.lines
    finally:
        for w in workers:
            w.stop(check=False)
        receiver.stop()
        inst.close()


def test_four_workers_killed_at_random_publish_everything_exactly_once_within_caps():
    _pg_only()
    inst = harness.Instance().prepare()
    receiver = peers.Receiver(inst.dir, secret="chaos-secret")
    workers = []
    env = {"SAMTALE_PUBLISH_TIMEOUT_MS": "2000", "SAMTALE_PUBLISH_BACKOFF_S": "1", "SAMTALE_LOG_LEVEL": "warn",
           "SAMTALE_PUBLISH_WORKERS": "2"}
    try:
        inst.server = harness.Server(inst.db, inst.dir, env=env, role="web").start()
        inst.wid = expect(inst.get("/api/v1/me"), 200)["token"]["workspace_id"]
        chans = [harness.new_channel(inst, "hook-%d" % i, kind="webhook", secret="chaos-secret",
                                     settings={"url": receiver.url + "/c%d" % i}, max_per_hour=1000,
                                     max_per_day=10000)["id"] for i in range(CHANNELS)]
        capped = [harness.new_channel(inst, "capped-%d" % i, kind="webhook", secret="chaos-secret",
                                      settings={"url": receiver.url + "/capped%d" % i}, max_per_hour=CAP,
                                      max_per_day=1000)["id"] for i in range(2)]
        start = int(time.time()) + 5
        for i in range(POSTS):
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i * 40 // POSTS))
            expect(inst.post(inst.ws("/posts"), json={"text": "chaos post %d" % i, "channels": chans,
                                                      "schedule": at}), 201)
        for i in range(CAPPED_POSTS):
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i * 30 // CAPPED_POSTS))
            expect(inst.post(inst.ws("/posts"), json={"text": "capped post %d" % i, "channels": capped,
                                                      "schedule": at, "override_reason": "cap test"}), 201)
        for _ in range(WORKERS):
            workers.append(harness.Server(inst.db, inst.dir, env=env, role="worker").start())
        rng = random.Random(20261207)
        kills = 0
        last_due = start + 40
        while kills < 30 or time.time() < last_due:
            time.sleep(rng.uniform(0.1, 1.2))   # a random moment: the chaos, not a wait for a result
            k = rng.randrange(WORKERS)
            workers[k].kill()
            kills += 1
            workers[k] = harness.Server(inst.db, inst.dir, env=env, role="worker").start()
        want = POSTS * CHANNELS
        harness.wait_until(lambda: _counts(inst.db, chans).get("published", 0) == want,
                           "all %d occurrences to be published (states: %r)" % (want, _counts(inst.db, chans)),
                           timeout=180, step=0.2)
        # The capped channels: CAP each went out; the rest waits for the next hour.
        harness.wait_until(lambda: _counts(inst.db, capped).get("published", 0) >= 2 * CAP,
                           "the capped channels to reach their caps", timeout=60, step=0.2)
        counts = _counts(inst.db, chans)
        assert counts == {"published": want}, counts
        capped_counts = _counts(inst.db, capped)
        assert capped_counts.get("published") == 2 * CAP, capped_counts
        assert capped_counts.get("scheduled") == 2 * (CAPPED_POSTS - CAP), capped_counts
        assert not _counts(inst.db).get("publishing"), _counts(inst.db)
        # The receiver: every key made one post; each capped channel got CAP keys.
        stats = receiver.stats()
        assert stats["unique_keys"] == want + 2 * CAP, stats
        assert stats["signatures_bad"] == 0, stats
        first = {}
        for d in receiver.deliveries():
            k = {h.lower(): v for h, v in d["headers"].items()}.get("idempotency-key")
            if k and d["status"] in (200, 201) and k not in first:
                first[k] = d["path"]
        for i in range(2):
            got = sum(1 for path in first.values() if path == "/hook/capped%d" % i)
            assert got == CAP, "capped channel %d got %d posts in the hour (cap %d)" % (i, got, CAP)
        con = harness.db_connect(inst.db, readonly=True)
        try:
            keys = {r[0] for r in con.execute("SELECT idempotency_key FROM occurrences WHERE state = 'published'")}
            owners = {r[0] for r in con.execute("SELECT DISTINCT lease_owner FROM occurrences"
                                                " WHERE lease_owner IS NOT NULL")}
        finally:
            con.close()
        assert keys == set(first), "published keys the receiver never got: %d; keys it got that are not " \
            "published: %d" % (len(keys - set(first)), len(set(first) - keys))
        assert not owners, "leases left held: %r" % owners
        print("workers: %d processes, %d SIGKILLs, %d occurrences published once each, %d raw deliveries "
              "(%d repeats of a key, answered with the same post); caps of %d held on 2 channels" %
              (WORKERS, kills, want + 2 * CAP, stats["deliveries"], stats["duplicates"], CAP))
    finally:
        for w in workers:
            w.stop(check=False)
        receiver.stop()
        inst.close()
