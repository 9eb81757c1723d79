"""The spam checks through the API (PRODUCT.md P5-P9): live checks for the composer,
blocks that stop scheduling unless overridden with an audited reason, and the queue
check."""

import datetime

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance


def _at(days, minutes=0):
    t = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, second=0, minute=0)
    return (t + datetime.timedelta(days=days, minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rules(doc):
    return {(v["rule"], v["severity"]) for v in doc["violations"]}


def test_near_duplicate_is_a_warning_that_names_the_post(inst):
    ch = harness.new_channel(inst, "chk-dup", kind="file", settings={"path": "dup.jsonl"})
    first = expect(inst.post(inst.ws("/posts"), json={"text": "New blog post: how we cut delivery times",
                                                      "channels": [ch["id"]], "schedule": _at(2)}), 201)
    body = {"text": "Our new blog post: how we cut delivery times in half", "channels": [ch["id"]],
            "schedule": _at(2, 30)}
    doc = expect(inst.post(inst.ws("/check"), json=body), 200)
    assert ("P5", "warn") in _rules(doc) and doc["blocked"] is False, doc
    p5 = [v for v in doc["violations"] if v["rule"] == "P5"][0]
    assert first["id"] in p5["posts"] and p5["message"], p5
    made = expect(inst.post(inst.ws("/posts"), json=body), 201)       # a warning does not stop it
    assert ("P5", "warn") in _rules(made), made
    other = expect(inst.post(inst.ws("/check"), json={"text": "Our Oslo office opens in May",
                                                      "channels": [ch["id"]], "schedule": _at(2, 45)}), 200)
    assert "P5" not in {r for r, _ in _rules(other)}, other


def test_a_block_stops_scheduling_unless_overridden_and_audited(inst):
    ch = harness.new_channel(inst, "chk-cap", kind="file", settings={"path": "cap.jsonl"}, max_per_hour=1)
    expect(inst.post(inst.ws("/posts"), json={"text": "first of the hour", "channels": [ch["id"]],
                                              "schedule": _at(3)}), 201)
    body = {"text": "second in the same hour", "channels": [ch["id"]], "schedule": _at(3, 20)}
    r = expect(inst.post(inst.ws("/posts"), json=body), 422, "check_blocked", field="checks")
    assert any(v["rule"] == "P7a" and v["severity"] == "block" for v in r["error"]["violations"]), r
    posts = harness.list_all(inst, inst.ws("/posts"))
    assert not any(p["text"] == "second in the same hour" for p in posts), "a blocked post was stored"
    ok = expect(inst.post(inst.ws("/posts"), json=dict(body, override_reason="launch day, agreed with Kari")), 201)
    assert ok["override_reason"] == "launch day, agreed with Kari", ok
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    assert any(a["action"] == "post.create.override" and
               a["detail"].get("override_reason") == "launch day, agreed with Kari" for a in audit), audit[:3]


def test_length_limit_and_cross_post(inst):
    bsky = harness.new_channel(inst, "chk-bsky", kind="bluesky")
    masto = harness.new_channel(inst, "chk-masto", kind="mastodon")
    long_text = "Blåbær 🫐 " * 40                                          # 320 graphemes
    doc = expect(inst.post(inst.ws("/check"), json={"text": long_text, "channels": [bsky["id"]],
                                                    "schedule": _at(4)}), 200)
    # Longer than one post: it goes out as a thread, which the warning says.
    assert ("P8b", "warn") in _rules(doc) and doc["blocked"] is False, doc
    assert "thread of 2 posts" in [v for v in doc["violations"] if v["rule"] == "P8b"][0]["message"], doc
    # Longer than a thread of 25 posts: blocked.
    doc = expect(inst.post(inst.ws("/check"), json={"text": "Blåbær 🫐 " * 1000, "channels": [bsky["id"]],
                                                    "schedule": _at(4)}), 200)
    assert ("P8b", "block") in _rules(doc) and doc["blocked"] is True, doc
    doc = expect(inst.post(inst.ws("/check"), json={"text": "Same words on two networks at once",
                                                    "channels": [bsky["id"], masto["id"]], "schedule": _at(4)}), 200)
    assert ("P8a", "warn") in _rules(doc), doc
    # The other network's copy is the same post, not some "unsaved post".
    for v in doc["violations"]:
        if v["rule"] == "P8a":
            assert "its copy" in v["message"] and "unsaved" not in v["message"], v


def test_queue_check_lists_what_the_queue_breaks(inst):
    ch = harness.new_channel(inst, "chk-queue", kind="file", settings={"path": "q.jsonl"}, max_per_hour=1)
    a = expect(inst.post(inst.ws("/posts"), json={"text": "Spring sale: everything 20% off this week",
                                                  "category": "promo", "channels": [ch["id"]], "schedule": _at(5)}), 201)
    b = expect(inst.post(inst.ws("/posts"), json={"text": "Spring sale: everything 20% off this week!",
                                                  "category": "promo", "channels": [ch["id"]], "schedule": _at(5, 30),
                                                  "override_reason": "test"}), 201)
    doc = expect(inst.get(inst.ws("/queue/check")), 200)
    rules = {v["rule"] for v in doc["violations"] if set(v["posts"]) & {a["id"], b["id"]}}
    assert {"P5", "P7a", "P7c"} <= rules, doc
    for v in doc["violations"]:
        assert v["severity"] in ("warn", "block") and v["message"], v


def test_an_edit_is_checked_without_its_own_earlier_version(inst):
    ch = harness.new_channel(inst, "chk-edit", kind="file", settings={"path": "edit.jsonl"}, max_per_hour=2)
    a = expect(inst.post(inst.ws("/posts"), json={"text": "Summer opening hours: we open at nine every day",
                                                  "channels": [ch["id"]], "schedule": _at(6)}), 201)
    # As a new post, the same words collide with the post itself ...
    same = {"text": "Summer opening hours: we open at nine every day!"}
    doc = expect(inst.post(inst.ws("/check"), json=dict(same, channels=[ch["id"]], schedule=_at(6, 10))), 200)
    assert any(v["rule"] == "P5" and a["id"] in v["posts"] for v in doc["violations"]), doc
    # ... as an edit of it they do not: its own copy is left out, where it is planned.
    doc = expect(inst.post(inst.ws("/check"), json=dict(same, post_id=a["id"])), 200)
    assert doc == {"violations": [], "blocked": False}, doc
    # Another post near it still counts, for the live check and for PATCH alike.
    b = expect(inst.post(inst.ws("/posts"), json={"text": "Summer opening hours: we open at nine every single day",
                                                  "channels": [ch["id"]], "schedule": _at(6, 20)}), 201)
    doc = expect(inst.post(inst.ws("/check"), json=dict(same, post_id=a["id"])), 200)
    p5 = [v for v in doc["violations"] if v["rule"] == "P5"]
    assert p5 and b["id"] in p5[0]["posts"] and a["id"] not in p5[0]["posts"], doc
    edited = expect(inst.patch(inst.ws("/posts/%d" % a["id"]), json=same), 200)
    assert edited["text"] == same["text"] and edited["id"] == a["id"], edited
    assert [v["rule"] for v in edited["violations"]] == [v["rule"] for v in doc["violations"]], (edited, doc)
    # A content field not given keeps the stored one; the check says what PATCH would.
    expect(inst.post(inst.ws("/check"), json={"post_id": a["id"], "category": "promo"}), 200)
    # What an edit cannot have, and posts it cannot check.
    expect(inst.post(inst.ws("/check"), json=dict(same, post_id=a["id"], channels=[ch["id"]])), 422,
           "validation_failed", field="post_id")
    expect(inst.post(inst.ws("/check"), json=dict(same, post_id="1")), 422, "validation_failed", field="post_id")
    expect(inst.post(inst.ws("/check"), json=dict(same, post_id=999999)), 404, "not_found")
    expect(inst.post(inst.ws("/posts/%d/cancel" % b["id"])), 200)
    expect(inst.post(inst.ws("/check"), json=dict(same, post_id=b["id"])), 409, "conflict")
    # A draft has no copies yet: nothing to collide with.
    d = expect(inst.post(inst.ws("/posts"), json={"text": "Summer opening hours: we open at nine every day"}), 201)
    doc = expect(inst.post(inst.ws("/check"), json=dict(same, post_id=d["id"])), 200)
    assert doc["violations"] == [], doc


def test_a_blocked_edit_lists_its_findings(inst):
    ch = harness.new_channel(inst, "chk-editblock", kind="bluesky")
    p = expect(inst.post(inst.ws("/posts"), json={"text": "Short and sweet", "channels": [ch["id"]],
                                                  "schedule": _at(7)}), 201)
    long_text = "Blåbær 🫐 " * 1000                        # more than a thread of 25 posts holds
    live = expect(inst.post(inst.ws("/check"), json={"post_id": p["id"], "text": long_text}), 200)
    assert live["blocked"] is True and ("P8b", "block") in _rules(live), live
    r = expect(inst.patch(inst.ws("/posts/%d" % p["id"]), json={"text": long_text}), 422, "check_blocked",
               field="checks")
    assert [v["rule"] for v in r["error"]["violations"]] == [v["rule"] for v in live["violations"]], r
    stored = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)
    assert stored["text"] == "Short and sweet", stored
    ok = expect(inst.patch(inst.ws("/posts/%d" % p["id"]), json={"text": long_text,
                                                                 "override_reason": "our client shows it all"}), 200)
    assert ok["text"] == long_text and ok["override_reason"] == "our client shows it all", ok
