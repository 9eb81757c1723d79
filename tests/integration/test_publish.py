"""Posts, the queue and the publisher, end to end through the API with the file channel
(PRODUCT.md P1, P2, P10; docs/api.md, posts and queue)."""

import datetime
import json
import os

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance


def _post(inst, **body):
    return inst.post(inst.ws("/posts"), json=body)


def _published(inst, pid):
    def check():
        p = expect(inst.get(inst.ws("/posts/%d" % pid)), 200)
        return p if p["state"] in ("published", "failed") else None
    return harness.wait_until(check, "post %d to be published" % pid)


def _file_lines(inst, name):
    path = os.path.join(inst.dir, "files", name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_post_now_is_published_to_the_file_channel_once(inst):
    ch = harness.new_channel(inst, "pub-file", kind="file", settings={"path": "pub.jsonl"})
    text = "Hei på deg! Blåbær 🫐 og <b>tags</b> \"quoted\""
    p = expect(_post(inst, text=text, channels=[ch["id"]], schedule="now", link="https://example.com/a?b=1"), 201)
    assert p["state"] == "scheduled" and len(p["occurrences"]) == 1, p
    done = _published(inst, p["id"])
    occ = done["occurrences"][0]
    assert done["state"] == "published" and occ["state"] == "published", done
    lines = [l for l in _file_lines(inst, "pub.jsonl") if l.get("type") == "publish"]
    assert len(lines) == 1, lines
    assert lines[0]["text"] == text and lines[0]["link"] == "https://example.com/a?b=1", lines[0]
    assert lines[0]["idempotency_key"] == occ["remote_id"], (lines[0], occ)
    assert lines[0]["occurrence_id"] == occ["id"] and lines[0]["post_id"] == p["id"]


def test_next_slot_takes_the_first_free_slot(inst):
    ch = harness.new_channel(inst, "pub-slots", kind="file", settings={"path": "slots.jsonl"},
                             slots=["mon 09:00", "thu 15:30"], timezone="Europe/Oslo")
    upcoming = expect(inst.get(inst.ws("/channels/%d/slots?days=21" % ch["id"])), 200)["upcoming"]
    first = expect(_post(inst, text="first in the queue", channels=[ch["id"]], schedule="next_slot"), 201)
    second = expect(_post(inst, text="second in the queue", channels=[ch["id"]], schedule="next_slot"), 201)
    assert first["occurrences"][0]["planned_at"] == upcoming[0]["at"], (first, upcoming[:2])
    assert second["occurrences"][0]["planned_at"] == upcoming[1]["at"], (second, upcoming[:2])
    q = expect(inst.get(inst.ws("/queue?channel=%d" % ch["id"])), 200)
    texts = [i["text"] for i in q["items"] if i["state"] == "scheduled"]
    assert texts == ["first in the queue", "second in the queue"], q


def test_schedule_at_a_time_with_an_offset(inst):
    ch = harness.new_channel(inst, "pub-at", kind="webhook")
    at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).replace(microsecond=0)
    local = at.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    p = expect(_post(inst, text="at a time", channels=[ch["id"]], schedule=local.isoformat()), 201)
    assert p["occurrences"][0]["planned_at"] == at.strftime("%Y-%m-%dT%H:%M:%SZ"), p


def test_bad_posts_are_refused_with_the_field(inst):
    ch = harness.new_channel(inst, "pub-bad", kind="file", settings={"path": "bad.jsonl"})
    feed = harness.new_channel(inst, "pub-feed", kind="feed")
    cases = [
        (dict(text="", channels=[ch["id"]], schedule="now"), "text"),
        (dict(text="x", channels=[ch["id"]], schedule="2020-01-01T00:00:00Z"), "schedule"),
        (dict(text="x", channels=[ch["id"]], schedule="tomorrow"), "schedule"),
        (dict(text="x", channels=[], schedule="now"), "channels"),
        (dict(text="x", channels=[feed["id"]], schedule="now"), "channels"),
        (dict(text="x", channels=[999999], schedule="now"), "channels"),
        (dict(text="x", channels=[ch["id"], ch["id"]], schedule="now"), "channels"),
        (dict(text="x", channels=[ch["id"]], schedule="now", category="spam"), "category"),
        (dict(text="x", channels=[ch["id"]], schedule="now", link="javascript:alert(1)"), "link"),
        (dict(text="x", channels=[ch["id"]], schedule="now", variants=[1]), "variants"),
        (dict(text="x" * 10001, channels=[ch["id"]]), "text"),
    ]
    for body, field in cases:
        expect(_post(inst, **body), 422, "validation_failed", field=field)


def test_draft_edit_and_cancel(inst):
    ch = harness.new_channel(inst, "pub-edit", kind="file", settings={"path": "edit.jsonl"})
    d = expect(_post(inst, text="a draft", channels=[ch["id"]]), 201)
    assert d["state"] == "draft" and d["occurrences"] == [], d
    up = expect(inst.patch(inst.ws("/posts/%d" % d["id"]), json={"text": "a better draft", "category": "share"}), 200)
    assert (up["text"], up["category"]) == ("a better draft", "share"), up
    c = expect(inst.post(inst.ws("/posts/%d/cancel" % d["id"])), 200)
    assert c["state"] == "cancelled", c
    expect(inst.post(inst.ws("/posts/%d/cancel" % d["id"])), 409, "conflict")
    expect(inst.patch(inst.ws("/posts/%d" % d["id"]), json={"text": "again"}), 409, "conflict")

    s = expect(_post(inst, text="scheduled then cancelled", channels=[ch["id"]], schedule="next_slot"), 201)
    c = expect(inst.post(inst.ws("/posts/%d/cancel" % s["id"])), 200)
    assert c["state"] == "cancelled" and c["occurrences"][0]["state"] == "cancelled", c

    n = expect(_post(inst, text="goes out now", channels=[ch["id"]], schedule="now"), 201)
    _published(inst, n["id"])
    expect(inst.patch(inst.ws("/posts/%d" % n["id"]), json={"text": "too late"}), 409, "conflict")
    expect(inst.post(inst.ws("/posts/%d/cancel" % n["id"])), 409, "conflict")
    listed = {p["id"]: p["state"] for p in harness.list_all(inst, inst.ws("/posts"))}
    assert listed[d["id"]] == "cancelled" and listed[n["id"]] == "published", listed
    pub = harness.list_all(inst, inst.ws("/posts?state=published"))
    assert pub and all(p["state"] == "published" for p in pub), pub
    expect(inst.get(inst.ws("/posts?state=nope")), 400, "bad_request")


def test_file_paths_must_stay_in_the_files_folder(inst):
    for path in ("../escape.jsonl", "/etc/passwd", "a/../../b.jsonl"):
        expect(inst.post(inst.ws("/channels"), json={"kind": "file", "name": "escape", "settings": {"path": path}}),
               422, "validation_failed", field="settings.path")
    harness.new_channel(inst, "nested", kind="file", settings={"path": "sub/dir/ok.jsonl"})


def test_a_permanent_failure_is_marked_with_a_message(inst):
    ch = harness.new_channel(inst, "pub-blocked", kind="file", settings={"path": "blocked.jsonl"})
    os.makedirs(os.path.join(inst.dir, "files", "blocked.jsonl"), exist_ok=True)  # a folder where the file goes
    p = expect(_post(inst, text="cannot be written", channels=[ch["id"]], schedule="now"), 201)
    done = _published(inst, p["id"])
    occ = done["occurrences"][0]
    assert done["state"] == "failed" and occ["state"] == "failed", done
    assert occ.get("error"), occ
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    assert any(a["action"] == "post.failed" for a in audit), audit[:5]


def test_roles_and_scopes_for_posts(inst):
    ch = harness.new_channel(inst, "pub-roles", kind="file", settings={"path": "roles.jsonl"})
    reader = inst.create_token("posts-reader", "posts:read")
    expect(inst.get(inst.ws("/posts"), token=reader), 200)
    expect(inst.post(inst.ws("/posts"), json={"text": "x", "channels": [ch["id"]]}, token=reader), 403,
           "insufficient_scope")


def test_caps_hold_at_publish_time_and_say_why(inst):
    """Four posts due at once on a channel that allows two an hour: two go out, two wait
    until the hour allows them, with the reason shown (an override gets a post into the
    queue; it does not lift the channel's caps)."""
    ch = harness.new_channel(inst, "pub-capped", kind="file", settings={"path": "capped.jsonl"}, max_per_hour=2)
    ids = []
    for i in range(4):
        body = {"text": "capped post number %d about something else entirely %s" % (i, "xyz" * i),
                "channels": [ch["id"]], "schedule": "now"}
        r = inst.post(inst.ws("/posts"), json=body)
        if r.status == 422:
            r = inst.post(inst.ws("/posts"), json=dict(body, override_reason="test of caps"))
        ids.append(expect(r, 201)["id"])

    def settled():
        occ = [expect(inst.get(inst.ws("/posts/%d" % pid)), 200)["occurrences"][0] for pid in ids]
        out = [o for o in occ if o["state"] == "published"]
        # Held by the cap is a wait, not a failed attempt: said in "waiting", never in "error".
        waiting = [o for o in occ if o["state"] == "scheduled" and "error" not in o and
                   o.get("waiting", {}).get("reason") == "hour_cap" and o["waiting"]["limit"] == 2 and
                   "2 times an hour" in o["waiting"]["message"] and not o["waiting"].get("expected")]
        return (out, waiting) if len(out) == 2 and len(waiting) == 2 else None
    out, waiting = harness.wait_until(settled, "two published and two waiting for the cap")
    first = min(harness.parse_time(o["published_at"]) for o in out)
    for o in waiting:
        assert harness.parse_time(o["next_attempt_at"]) >= first + 3600, o
    lines = [l for l in _file_lines(inst, "capped.jsonl") if l["type"] == "publish"]
    assert len(lines) == 2, lines


def _in_days(days, hour=10):
    t = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, second=0, minute=0, hour=hour)
    return (t + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_draft_is_scheduled_in_place_keeping_its_id(inst):
    ch = harness.new_channel(inst, "pub-draft", kind="file", settings={"path": "draft.jsonl"})
    draft = expect(_post(inst, text="A draft about spring bulbs", category="value", campaign="spring"), 201)
    assert draft["state"] == "draft" and draft["occurrences"] == [], draft
    drafts = harness.list_all(inst, inst.ws("/posts?state=draft"))
    assert any(p["id"] == draft["id"] for p in drafts), drafts
    expect(inst.patch(inst.ws("/posts/%d" % draft["id"]), json={"schedule": "tomorrow"}), 422, field="schedule")
    expect(inst.patch(inst.ws("/posts/%d" % draft["id"]), json={"schedule": _in_days(2)}), 422, field="channels")
    done = expect(inst.patch(inst.ws("/posts/%d" % draft["id"]),
                             json={"schedule": _in_days(2), "channels": [ch["id"]]}), 200)
    assert done["id"] == draft["id"] and done["state"] == "scheduled", done
    assert done["text"] == "A draft about spring bulbs" and done["campaign"] == "spring", done
    assert [o["planned_at"] for o in done["occurrences"]] == [_in_days(2)], done["occurrences"]
    assert isinstance(done["violations"], list)
    # Once scheduled it is no longer a draft: scheduling again is a conflict, not a second copy.
    expect(inst.patch(inst.ws("/posts/%d" % draft["id"]), json={"schedule": "now", "channels": [ch["id"]]}), 409)
    assert len(expect(inst.get(inst.ws("/posts/%d" % draft["id"])), 200)["occurrences"]) == 1
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    assert any(a["action"] == "post.schedule_draft" and a["detail"].get("post_id") == draft["id"] for a in audit)
    # The CLI does the same.
    d2 = expect(_post(inst, text="Another draft"), 201)
    doc = harness.cli_json(inst.db, "post", "schedule", str(d2["id"]), "--channel", str(ch["id"]), "--at",
                           _in_days(3))
    assert doc["id"] == d2["id"] and doc["state"] == "scheduled", doc


def test_an_occurrence_moves_after_the_checks_at_its_new_place(inst):
    ch = harness.new_channel(inst, "pub-move", kind="file", settings={"path": "move.jsonl"}, max_per_hour=1)
    a = expect(_post(inst, text="The one post at ten", channels=[ch["id"]], schedule=_in_days(4)), 201)
    b = expect(_post(inst, text="Another post, elsewhere in time", channels=[ch["id"]], schedule=_in_days(5)), 201)
    occ = b["occurrences"][0]
    moved = expect(inst.patch(inst.ws("/occurrences/%d" % occ["id"]), json={"planned_at": _in_days(6, 14)}), 200)
    assert moved["occurrence"]["planned_at"] == _in_days(6, 14) and moved["violations"] == [], moved
    assert expect(inst.get(inst.ws("/posts/%d" % b["id"])), 200)["occurrences"][0]["planned_at"] == _in_days(6, 14)
    # Onto the other post's hour: the cap blocks it, and nothing moves.
    r = expect(inst.patch(inst.ws("/occurrences/%d" % occ["id"]), json={"planned_at": _in_days(4)}), 422,
               "check_blocked", field="checks")
    assert any(v["rule"] == "P7a" for v in r["error"]["violations"]), r
    assert expect(inst.get(inst.ws("/posts/%d" % b["id"])), 200)["occurrences"][0]["planned_at"] == _in_days(6, 14)
    over = expect(inst.patch(inst.ws("/occurrences/%d" % occ["id"]),
                             json={"planned_at": _in_days(4), "override_reason": "the campaign starts then"}), 200)
    assert over["occurrence"]["planned_at"] == _in_days(4), over
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    assert any(x["action"] == "occurrence.move.override" and x["detail"]["to"] == _in_days(4) and
               x["detail"]["from"] == _in_days(6, 14) for x in audit), audit[:3]
    # Bad input and things that cannot move.
    expect(inst.patch(inst.ws("/occurrences/%d" % occ["id"]), json={"planned_at": "soon"}), 422, field="planned_at")
    expect(inst.patch(inst.ws("/occurrences/%d" % occ["id"]), json={"planned_at": _in_days(-3)}), 422,
           field="planned_at")
    expect(inst.patch(inst.ws("/occurrences/%d" % occ["id"]), json={"planned_at": _in_days(1), "x": 1}), 422,
           field="x")
    expect(inst.patch(inst.ws("/occurrences/99999999"), json={"planned_at": _in_days(1)}), 404)
    expect(inst.post(inst.ws("/posts/%d/cancel" % a["id"])), 200)
    expect(inst.patch(inst.ws("/occurrences/%d" % a["occurrences"][0]["id"]), json={"planned_at": _in_days(8)}), 409)
    # The CLI moves it too.
    doc = harness.cli_json(inst.db, "post", "move", str(occ["id"]), "--at", _in_days(7, 9))
    assert doc["occurrence"]["planned_at"] == _in_days(7, 9), doc
