"""Regressions found in review: parallel logins past the limit, a second server on the
same database, posts planned at the same moment sharing a slot, edits and series that
skipped the blocking checks."""

import concurrent.futures
import os

import harness
from harness import expect, request

setup_module = harness.module_instance
teardown_module = harness.close_instance


def test_parallel_wrong_logins_cannot_pass_the_limit(inst):
    def attempt(_):
        return request(inst.port, "POST", "/api/v1/auth/login",
                       json={"email": "victim@example.com", "password": "wrong-password-x"}).status
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(attempt, range(12)))
    assert statuses.count(401) <= 5 and statuses.count(429) >= 7, statuses


def test_a_second_server_on_the_same_database_is_refused(inst):
    harness.sqlite_only("several servers may share a PostgreSQL database")
    try:
        second = harness.Server(inst.db, inst.dir).start()
    except AssertionError:
        second = None
    assert second is None, "a second samtale serve started on the same database"
    logs = [f for f in os.listdir(inst.dir) if f.startswith("server")]
    text = "".join(open(os.path.join(inst.dir, f), errors="replace").read() for f in logs)
    assert "another 'samtale serve'" in text, text[-500:]
    expect(inst.get("/readyz", token=None), 200)       # the first one is untouched


def test_posts_planned_at_once_take_different_slots(inst):
    ch = harness.new_channel(inst, "race", kind="file", settings={"path": "race.jsonl"}, max_per_hour=100,
                             max_per_day=1000)

    def plan(i):
        r = inst.post(inst.ws("/posts"), json={"text": "race %d %s" % (i, "abcdefghij"[i] * (i + 3)),
                                               "channels": [ch["id"]], "schedule": "next_slot",
                                               "override_reason": "race test"})
        return expect(r, 201)["occurrences"][0]["planned_at"]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        times = list(pool.map(plan, range(8)))
    assert len(set(times)) == 8, sorted(times)


def test_an_edit_faces_the_blocking_checks(inst):
    bsky = harness.new_channel(inst, "edit-bsky", kind="bluesky")
    p = expect(inst.post(inst.ws("/posts"), json={"text": "short and fine", "channels": [bsky["id"]],
                                                  "schedule": "next_slot"}), 201)
    long_text = "Blåbær " * 1300                  # more than a thread of 25 Bluesky posts holds
    r = expect(inst.patch(inst.ws("/posts/%d" % p["id"]), json={"text": long_text}), 422, "check_blocked",
               field="checks")
    assert "even as a thread" in r["error"]["message"] and "P8b" not in r["error"]["message"], r
    assert expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["text"] == "short and fine"
    ok = expect(inst.patch(inst.ws("/posts/%d" % p["id"]), json={"text": long_text, "override_reason": "agreed"}), 200)
    assert ok["text"] == long_text and ok["override_reason"] == "agreed", ok
    # A plain edit is not compared with its own earlier version.
    p2 = expect(inst.post(inst.ws("/posts"), json={"text": "Our spring guide is out now", "channels": [bsky["id"]],
                                                   "schedule": "next_slot"}), 201)
    expect(inst.patch(inst.ws("/posts/%d" % p2["id"]), json={"text": "Our spring guide is out now!"}), 200)


def test_a_series_faces_the_blocking_checks(inst):
    bsky = harness.new_channel(inst, "series-bsky", kind="bluesky")
    body = {"text": "Blåbær " * 1300, "channels": [bsky["id"]], "count": 3}
    expect(inst.post(inst.ws("/series"), json=body), 422, "check_blocked", field="checks")
    expect(inst.post(inst.ws("/series"), json=dict(body, override_reason="agreed")), 201)
