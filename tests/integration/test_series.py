"""Evergreen series (PRODUCT.md P3) and replace on repost (P4), through the API with the
file channel: copies planned in the channel's slots, never consecutive, at least the gap
apart, variants rotating; when a copy goes out the previous one is deleted."""

import json
import os
import time

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance

SLOTS = ["%s %s" % (d, t) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
         for t in ("09:00", "13:00", "17:00", "21:00")]


def test_series_plan_rotates_variants_and_keeps_its_distance(inst):
    ch = harness.new_channel(inst, "series-file", kind="file", settings={"path": "series.jsonl"}, slots=SLOTS)
    upcoming = [u["at"] for u in expect(inst.get(inst.ws("/channels/%d/slots?days=14" % ch["id"])), 200)["upcoming"]]
    doc = expect(inst.post(inst.ws("/series"), json={
        "text": "Evergreen A", "variants": ["Evergreen B", "Evergreen C"], "channels": [ch["id"]],
        "per_day": 3, "min_gap_hours": 4, "count": 6, "replace_previous": True, "category": "value"}), 201)
    s, occ = doc["series"], doc["post"]["occurrences"]
    assert s["replace_previous"] is True and s["count"] == 6 and s["per_day"] == 3, s
    assert len(occ) == 6, occ
    times = [o["planned_at"] for o in occ]
    idx = [upcoming.index(t) for t in times]
    assert all(b - a >= 2 for a, b in zip(idx, idx[1:])), "copies in consecutive slots: %r" % idx
    secs = [harness.parse_time(t) for t in times]
    assert all(b - a >= 4 * 3600 for a, b in zip(secs, secs[1:])), times
    assert [o["variant"] for o in occ] == [0, 1, 2, 3, 4, 5]
    assert all(o.get("series_id") == s["id"] for o in occ)
    q = expect(inst.get(inst.ws("/queue?channel=%d" % ch["id"])), 200)["items"]
    texts = [i["text"] for i in q if i["post_id"] == doc["post"]["id"]]
    assert texts[:4] == ["Evergreen A", "Evergreen B", "Evergreen C", "Evergreen A"], texts
    listed = harness.list_all(inst, inst.ws("/series"))
    assert any(x["id"] == s["id"] for x in listed), listed


def test_other_posts_sit_between_copies(inst):
    ch = harness.new_channel(inst, "series-mix", kind="file", settings={"path": "mix.jsonl"}, slots=SLOTS)
    other = expect(inst.post(inst.ws("/posts"), json={"text": "another post", "channels": [ch["id"]],
                                                      "schedule": "next_slot"}), 201)
    taken = other["occurrences"][0]["planned_at"]
    doc = expect(inst.post(inst.ws("/series"), json={"text": "repeat me", "channels": [ch["id"]], "count": 4}), 201)
    assert taken not in [o["planned_at"] for o in doc["post"]["occurrences"]]


def test_bad_series_are_refused(inst):
    ch = harness.new_channel(inst, "series-bad", kind="file", settings={"path": "bad.jsonl"}, slots=SLOTS)
    feed = harness.new_channel(inst, "series-feed", kind="feed")
    for body, field in (
            ({"text": "x", "channels": [ch["id"]], "per_day": 0}, "per_day"),
            ({"text": "x", "channels": [ch["id"]], "days": 400}, "days"),
            ({"text": "x", "channels": [ch["id"]], "count": 0}, "count"),
            ({"text": "x", "channels": [ch["id"]], "until": "soon"}, "until"),
            ({"text": "x", "channels": [ch["id"]], "schedule": "now"}, "schedule"),
            ({"text": "x", "channels": [feed["id"]]}, "channels"),
            ({"text": "x", "channels": [ch["id"]], "replace_previous": "yes"}, "replace_previous")):
        expect(inst.post(inst.ws("/series"), json=body), 422, "validation_failed", field=field)


def test_replace_on_repost_deletes_the_previous_copy(inst):
    ch = harness.new_channel(inst, "series-replace", kind="file", settings={"path": "replace.jsonl"}, slots=SLOTS,
                             max_per_hour=10)  # three copies fall due within seconds here
    doc = expect(inst.post(inst.ws("/series"), json={
        "text": "Copy A", "variants": ["Copy B"], "channels": [ch["id"]], "count": 3, "replace_previous": True}), 201)
    ids = [o["id"] for o in doc["post"]["occurrences"]]
    harness.due_in_turn(inst.db, ids, 2)

    def all_out():
        p = expect(inst.get(inst.ws("/posts/%d" % doc["post"]["id"])), 200)
        occ = {o["id"]: o for o in p["occurrences"]}
        done = all(occ[i]["state"] == "published" for i in ids) and all(occ[i].get("deleted_at") for i in ids[:2])
        return occ if done else None
    occ = harness.wait_until(all_out, "three copies out and the first two deleted", timeout=20)
    assert not occ[ids[2]].get("deleted_at"), occ[ids[2]]
    with open(os.path.join(inst.dir, "files", "replace.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(l) for l in f if l.strip()]
    published = [l["text"] for l in lines if l["type"] == "publish"]
    deleted = [l["remote_id"] for l in lines if l["type"] == "delete"]
    assert published == ["Copy A", "Copy B", "Copy A"], published
    assert deleted == [occ[ids[0]]["remote_id"], occ[ids[1]]["remote_id"]], (deleted, occ)


def test_a_dry_run_says_how_many_copies_fit_and_why_and_stores_nothing(inst):
    # Two slots a day, 4 hours apart, never two in a row: 3 a day for 7 days cannot fit.
    slots = ["%s %s" % (d, t) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for t in ("09:00", "15:00")]
    ch = harness.new_channel(inst, "series-few", kind="file", settings={"path": "few.jsonl"}, slots=slots)
    before = len(harness.list_all(inst, inst.ws("/series")))
    body = {"text": "Our guide to winter cycling", "channels": [ch["id"]], "per_day": 3, "days": 7,
            "dry_run": True}
    doc = expect(inst.post(inst.ws("/series"), json=body), 200)
    assert doc["dry_run"] is True and isinstance(doc["violations"], list), doc
    (p,) = doc["plan"]
    assert p["channel_id"] == ch["id"] and p["asked"] == 21 and 0 < p["planned"] < 21, p
    msg = p["message"]
    assert ("%d of the 21 copies" % p["planned"]) in msg and "series-few" in msg, msg
    assert "two of its slots in a row" in msg and "posting slots" in msg, msg
    assert len(harness.list_all(inst, inst.ws("/series"))) == before, "a dry run stored a series"
    # Saved for real, the answer carries the same plan.
    made = expect(inst.post(inst.ws("/series"), json=dict(body, dry_run=False)), 201)
    assert made["plan"][0]["planned"] == p["planned"] == len(made["post"]["occurrences"]), made["plan"]
    assert made["plan"][0]["message"] == msg
    # When everything fits there is nothing to explain.
    ok = expect(inst.post(inst.ws("/series"), json={"text": "short run", "channels": [ch["id"]], "count": 2,
                                                    "dry_run": True}), 200)
    assert ok["plan"][0]["planned"] == 2 and "message" not in ok["plan"][0], ok
    expect(inst.post(inst.ws("/series"), json=dict(body, dry_run="yes")), 422, field="dry_run")


def test_the_queue_numbers_series_copies_and_one_copy_can_be_cancelled(inst):
    ch = harness.new_channel(inst, "series-family", kind="file", settings={"path": "family.jsonl"}, slots=SLOTS)
    ch2 = harness.new_channel(inst, "series-family-2", kind="file", settings={"path": "family2.jsonl"}, slots=SLOTS)
    doc = expect(inst.post(inst.ws("/series"), json={
        "text": "Family copy", "channels": [ch["id"], ch2["id"]], "count": 4, "campaign": "autumn"}), 201)
    post, occ = doc["post"], doc["post"]["occurrences"]
    mine = sorted((o for o in occ if o["channel_id"] == ch["id"]), key=lambda o: (o["planned_at"], o["id"]))
    assert len(mine) == 4 and len(occ) == 8, occ

    def queue():
        now = time.time()
        items = harness.list_all(inst, inst.ws("/queue?from=%s&to=%s" % (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600)),
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60 * 86400)))))
        return {i["id"]: i for i in items if i["post_id"] == post["id"]}

    q = queue()
    # Each copy knows its place among the copies on its channel, in time order.
    assert [(q[o["id"]]["series_copy"], q[o["id"]]["series_total"]) for o in mine] == [(1, 4), (2, 4), (3, 4), (4, 4)], q
    assert all(i["series_id"] == doc["series"]["id"] and i["campaign"] == "autumn" for i in q.values()), q
    plain = expect(inst.post(inst.ws("/posts"), json={"text": "no series here", "channels": [ch["id"]],
                                                      "schedule": "next_slot"}), 201)
    items = harness.list_all(inst, inst.ws("/queue?channel=%d" % ch["id"]))
    lone = [i for i in items if i["post_id"] == plain["id"]][0]
    assert "series_copy" not in lone and "series_total" not in lone and "campaign" not in lone, lone

    # Cancelling the second copy leaves the others scheduled, the post too; the rest renumber.
    c = expect(inst.post(inst.ws("/occurrences/%d/cancel" % mine[1]["id"])), 200)
    assert c["id"] == mine[1]["id"] and c["state"] == "cancelled", c
    q = queue()
    assert q[mine[1]["id"]]["state"] == "cancelled" and "series_copy" not in q[mine[1]["id"]], q[mine[1]["id"]]
    assert q[mine[1]["id"]]["series_total"] == 3
    assert [(q[o["id"]]["series_copy"], q[o["id"]]["series_total"]) for o in (mine[0], mine[2], mine[3])] == \
        [(1, 3), (2, 3), (3, 3)], q
    # The other channel's copies are counted on their own and are untouched.
    assert sorted(i["series_total"] for i in q.values() if i["channel_id"] == ch2["id"]) == [4, 4, 4, 4]
    got = expect(inst.get(inst.ws("/posts/%d" % post["id"])), 200)
    assert got["state"] == "scheduled", got
    assert [o["state"] for o in got["occurrences"]].count("cancelled") == 1, got["occurrences"]
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    assert any(a["action"] == "occurrence.cancel" and a["detail"]["occurrence_id"] == mine[1]["id"]
               and a["detail"]["post_id"] == post["id"] for a in audit), audit[:3]
    # Once cancelled it cannot be again; unknown ids are not found.
    r = expect(inst.post(inst.ws("/occurrences/%d/cancel" % mine[1]["id"])), 409, "conflict")
    assert "scheduled" in r["error"]["message"], r
    expect(inst.post(inst.ws("/occurrences/99999999/cancel")), 404, "not_found")
    # In Norwegian, the refusal is in Norwegian.
    r = expect(inst.post(inst.ws("/occurrences/%d/cancel" % mine[1]["id"]), headers={"Accept-Language": "nb"}), 409)
    assert "planlagt" in r["error"]["message"], r
    # The CLI cancels one delivery the same way.
    doc2 = harness.cli_json(inst.db, "post", "cancel", "--occurrence", str(mine[3]["id"]))
    assert doc2["id"] == mine[3]["id"] and doc2["state"] == "cancelled", doc2
    assert queue()[mine[2]["id"]]["state"] == "scheduled"
