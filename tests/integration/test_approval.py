"""Approval of posts (PRODUCT.md P12; docs/api.md, Approval): the workspace's setting, posts
that wait for an approver even when due (the publisher passes them over), approve, request
changes and reject with their notes, the history on the post and the audit log, late
approvals, who may decide (roles and the posts:approve scope), and the CLI."""

import datetime
import json
import os
import re

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance

PUBLISH_WORKERS = 4  # samtale serve's default publish_workers (docs/operations.md)
AGENT = "agent@example.com"
EDITOR = "editor@example.com"
VIEWER = "viewer@example.com"
_members = {}


def _setup(inst):
    """The members and their tokens, once per module: an agent, an editor and a viewer."""
    if not _members:
        for email, role in ((AGENT, "agent"), (EDITOR, "editor"), (VIEWER, "viewer")):
            m = harness.add_member(inst, email, role, name=role.capitalize())
            _members[role] = {"id": m["user_id"], "email": email,
                              "token": inst.create_token(role + "-t", "*", user=email)}
        _members["owner-no-approve"] = {"token": inst.create_token("no-approve", "posts:read", "posts:write")}
    return _members


def _as(inst, role):
    return _setup(inst)[role]["token"]


def _mode(inst, mode):
    w = expect(inst.patch(inst.ws(""), json={"approval": mode}), 200)
    assert w["approval"] == mode, w


def _post(inst, token, **body):
    """POST .../posts with token (None: the owner's)."""
    return inst.post(inst.ws("/posts"), json=body, **({"token": token} if token else {}))


def _get(inst, pid, token=None):
    return expect(inst.get(inst.ws("/posts/%d" % pid), **({"token": token} if token else {})), 200)


def _lines(inst, name):
    path = os.path.join(inst.dir, "files", name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip() and json.loads(line).get("type") == "publish"]


def _passes(inst):
    text = inst.get("/metrics", token=None).text
    m = re.search(r"(?m)^samtale_publisher_passes_total (\d+)$", text)
    assert m, "no samtale_publisher_passes_total in /metrics"
    return int(m.group(1))


def _published(inst, pid):
    def check():
        p = _get(inst, pid)
        return p if p["state"] in ("published", "failed") else None
    return harness.wait_until(check, "post %d to go out" % pid)


def _decide(inst, pid, what, token=None, **body):
    return inst.post(inst.ws("/posts/%d/%s" % (pid, what)), json=body, **({"token": token} if token else {}))


def _set_planned(inst, pid, seconds_ago, channel=None):
    """Moves a post's scheduled copies (or the one on channel) into the past, as if the post
    had waited that long for approval."""
    at = int(datetime.datetime.now(datetime.timezone.utc).timestamp()) - seconds_ago
    con = harness.db_connect(inst.db)
    try:
        sql = "UPDATE occurrences SET planned_at = ?, next_attempt_at = ? WHERE post_id = ? AND state = 'scheduled'"
        args = [at, at, pid]
        if channel:
            sql += " AND channel_id = ?"
            args.append(channel)
        con.execute(sql, args)
        con.commit()
    finally:
        con.close()


def _in_future(hours=48):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return t.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_setting_is_the_owners_and_shown_to_members(inst):
    _setup(inst)
    w = expect(inst.get(inst.ws("")), 200)
    assert w["approval"] == "off", w
    expect(inst.patch(inst.ws(""), json={"approval": "sometimes"}), 422, "validation_failed", field="approval")
    expect(inst.patch(inst.ws(""), json={"approval": 3}), 422, "validation_failed", field="approval")
    expect(inst.patch(inst.ws(""), json={"approval": "agents"}, token=_as(inst, "editor")), 403, "forbidden")
    _mode(inst, "agents")
    me = expect(inst.get("/api/v1/me", token=_as(inst, "agent")), 200)["memberships"][0]
    assert (me["approval"], me["posts_need_approval"], me["can_approve"]) == ("agents", True, False), me
    me = expect(inst.get("/api/v1/me", token=_as(inst, "editor")), 200)["memberships"][0]
    assert (me["posts_need_approval"], me["can_approve"]) == (False, True), me
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    assert any(e["action"] == "workspace.approval" and e["detail"] == {"from": "off", "to": "agents"}
               for e in audit), audit[:5]
    _mode(inst, "off")


def test_an_agents_post_waits_while_due_and_goes_out_once_approved(inst):
    _setup(inst)
    _mode(inst, "agents")
    held = harness.new_channel(inst, "appr-held", kind="file", settings={"path": "held.jsonl"})
    free = harness.new_channel(inst, "appr-free", kind="file", settings={"path": "free.jsonl"})
    p = expect(_post(inst, _as(inst, "agent"), text="Agent's spring post 🌷", channels=[held["id"]],
                     schedule="now"), 201)
    assert p["state"] == "scheduled" and p["approval"]["state"] == "pending", p
    assert [h["action"] for h in p["approval"]["history"]] == ["submitted"], p["approval"]
    assert p["approval"]["history"][0]["by"]["id"] == _setup(inst)["agent"]["id"], p["approval"]
    occ = p["occurrences"][0]
    assert occ["state"] == "scheduled" and occ["approval"]["state"] == "pending" and occ["approval"]["due"], occ
    assert "approv" in occ["approval"]["message"], occ
    # The owner's post, due just after it on another channel, goes out: the claim that took
    # it saw the agent's (earlier, and first in the claim's order) and passed it over.
    control = expect(_post(inst, None, text="The owner's own post", channels=[free["id"]], schedule="now"), 201)
    assert control["approval"]["state"] == "none", control
    assert _published(inst, control["id"])["state"] == "published"
    assert _get(inst, p["id"])["occurrences"][0]["state"] == "scheduled"
    # And later passes leave it too: of the passes counted from now, those in flight now are
    # at most one per worker (publish_workers, 4 by default), so one more is a whole pass.
    first = _passes(inst)
    harness.wait_until(lambda: _passes(inst) >= first + PUBLISH_WORKERS + 1, "a whole pass of the publisher")
    again = _get(inst, p["id"])
    assert again["state"] == "scheduled" and again["occurrences"][0]["state"] == "scheduled", again
    assert again["occurrences"][0]["attempts"] == 0, again
    assert _lines(inst, "held.jsonl") == [], _lines(inst, "held.jsonl")
    # The calendar marks it.
    q = expect(inst.get(inst.ws("/queue?channel=%d" % held["id"])), 200)["items"]
    assert [o["approval"]["state"] for o in q] == ["pending"], q

    # The queue: the post, its author, its channel and time, what the checks found.
    queue = expect(inst.get(inst.ws("/approvals")), 200)
    item = [i for i in queue["items"] if i["post"]["id"] == p["id"]]
    assert item and queue["count"] >= 1, queue
    item = item[0]
    assert item["author"]["email"] == AGENT and item["post"]["occurrences"][0]["channel_id"] == held["id"], item
    assert isinstance(item["violations"], list), item

    done = expect(_decide(inst, p["id"], "approve", note="Lovely, go ahead"), 200)
    assert done["approval"]["state"] == "approved", done
    steps = done["approval"]["history"]
    assert [s["action"] for s in steps] == ["submitted", "approved"], steps
    assert steps[1]["note"] == "Lovely, go ahead" and steps[1]["by"]["id"] == inst.owner_id, steps
    out = _published(inst, p["id"])
    assert out["state"] == "published", out
    lines = _lines(inst, "held.jsonl")
    assert len(lines) == 1 and lines[0]["text"] == "Agent's spring post 🌷", lines
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    ap = [e for e in audit if e["action"] == "post.approve" and e["detail"].get("post_id") == p["id"]]
    assert ap and ap[0]["detail"]["note"] == "Lovely, go ahead" and ap[0]["detail"]["to"] == "approved", ap
    assert all(i["post"]["id"] != p["id"] for i in expect(inst.get(inst.ws("/approvals")), 200)["items"])
    _mode(inst, "off")


def test_request_changes_then_the_authors_edit_sends_it_back(inst):
    _setup(inst)
    _mode(inst, "agents")
    ch = harness.new_channel(inst, "appr-changes", kind="file", settings={"path": "changes.jsonl"})
    agent = _as(inst, "agent")
    p = expect(_post(inst, agent, text="Buy now!!!", channels=[ch["id"]], schedule=_in_future()), 201)
    expect(_decide(inst, p["id"], "request-changes"), 422, "validation_failed", field="note")
    expect(_decide(inst, p["id"], "request-changes", note="   "), 422, "validation_failed", field="note")
    expect(_decide(inst, p["id"], "request-changes", note="x" * 1001), 422, "validation_failed", field="note")
    expect(_decide(inst, p["id"], "request-changes", note="bad\x07bell"), 422, "validation_failed", field="note")
    expect(_decide(inst, p["id"], "request-changes", note="ok", color="red"), 422, "validation_failed")
    sent = expect(_decide(inst, p["id"], "request-changes", note="Less shouting, and say what it costs"), 200)
    assert sent["approval"]["state"] == "changes_requested", sent
    assert sent["occurrences"][0]["approval"]["state"] == "changes_requested", sent
    expect(_decide(inst, p["id"], "request-changes", note="again"), 409, "conflict")
    # Out of the pending queue, in the author's own list, and told to the author.
    pending = [i["post"]["id"] for i in expect(inst.get(inst.ws("/approvals")), 200)["items"]]
    assert p["id"] not in pending, pending
    mine = expect(inst.get(inst.ws("/approvals?state=changes_requested&mine=true"), token=agent), 200)
    assert [i["post"]["id"] for i in mine["items"]] == [p["id"]] and mine["count"] == 1, mine
    notices = expect(inst.get(inst.ws("/approvals/notices"), token=agent), 200)["items"]
    assert notices[0]["post_id"] == p["id"] and notices[0]["action"] == "changes_requested", notices
    assert notices[0]["note"] == "Less shouting, and say what it costs" and notices[0]["text"] == "Buy now!!!"
    assert expect(inst.get(inst.ws("/approvals/notices"), token=_as(inst, "editor")), 200)["items"] == []

    edited = expect(inst.patch(inst.ws("/posts/%d" % p["id"]), json={"text": "New spring bulbs, 49 kr a bag"},
                               token=agent), 200)
    assert edited["approval"]["state"] == "pending", edited
    steps = edited["approval"]["history"]
    assert [s["action"] for s in steps] == ["submitted", "changes_requested", "resubmitted"], steps
    assert steps[1]["note"] == "Less shouting, and say what it costs", steps
    # A decision on what the approver read: the post changed since that version.
    expect(_decide(inst, p["id"], "approve", updated_at=p["updated_at"]), 409, "conflict")
    expect(_decide(inst, p["id"], "approve", updated_at="yesterday"), 422, "validation_failed", field="updated_at")
    ok = expect(_decide(inst, p["id"], "approve", updated_at=edited["updated_at"]), 200)
    assert ok["approval"]["state"] == "approved", ok
    _mode(inst, "off")


def test_reject_cancels_the_post(inst):
    _setup(inst)
    _mode(inst, "agents")
    ch = harness.new_channel(inst, "appr-reject", kind="file", settings={"path": "reject.jsonl"})
    p = expect(_post(inst, _as(inst, "agent"), text="Off-brand joke", channels=[ch["id"]], schedule="now"), 201)
    expect(_decide(inst, p["id"], "reject"), 422, "validation_failed", field="note")
    expect(_decide(inst, p["id"], "reject", note="ok", late="skip"), 422, "validation_failed")
    r = expect(_decide(inst, p["id"], "reject", note="Not our tone"), 200)
    assert r["state"] == "cancelled" and r["approval"]["state"] == "rejected", r
    assert [o["state"] for o in r["occurrences"]] == ["cancelled"], r
    assert r["approval"]["history"][-1]["note"] == "Not our tone", r
    for what in ("approve", "reject", "request-changes"):
        expect(_decide(inst, p["id"], what, note="n"), 409, "conflict")
    expect(inst.patch(inst.ws("/posts/%d" % p["id"]), json={"text": "try again"}, token=_as(inst, "agent")),
           409, "conflict")
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    assert any(e["action"] == "post.reject" and e["detail"].get("note") == "Not our tone" for e in audit)
    assert _lines(inst, "reject.jsonl") == []
    _mode(inst, "off")


def test_who_may_decide(inst):
    m = _setup(inst)
    ch = harness.new_channel(inst, "appr-perm", kind="file", settings={"path": "perm.jsonl"})
    # Approval off: an agent writes no posts, a viewer never.
    _mode(inst, "off")
    expect(_post(inst, m["agent"]["token"], text="x", channels=[ch["id"]], schedule="now"), 403, "forbidden")
    _mode(inst, "agents")
    expect(_post(inst, m["viewer"]["token"], text="x", channels=[ch["id"]], schedule="now"), 403, "forbidden")
    p = expect(_post(inst, m["agent"]["token"], text="perm test", channels=[ch["id"]], schedule=_in_future()), 201)
    # An agent cannot approve, not even its own; a viewer neither; a token without the scope
    # neither, though its member is an owner.
    for role in ("agent", "viewer"):
        expect(_decide(inst, p["id"], "approve", token=m[role]["token"]), 403, "forbidden")
    expect(_decide(inst, p["id"], "approve", token=m["owner-no-approve"]["token"]), 403, "insufficient_scope")
    # Someone else's post is not the agent's to change.
    other = expect(_post(inst, None, text="the owner's", channels=[ch["id"]], schedule=_in_future(72)), 201)
    expect(inst.patch(inst.ws("/posts/%d" % other["id"]), json={"text": "mine now"}, token=m["agent"]["token"]),
           403, "forbidden")
    expect(inst.post(inst.ws("/posts/%d/cancel" % other["id"]), token=m["agent"]["token"]), 403, "forbidden")
    expect(inst.patch(inst.ws("/occurrences/%d" % other["occurrences"][0]["id"]),
                      json={"planned_at": _in_future(80)}, token=m["agent"]["token"]), 403, "forbidden")
    expect(inst.post(inst.ws("/occurrences/%d/cancel" % other["occurrences"][0]["id"]), token=m["agent"]["token"]),
           403, "forbidden")
    # ... but one delivery of its own is.
    expect(inst.post(inst.ws("/occurrences/%d/cancel" % p["occurrences"][0]["id"]), token=m["agent"]["token"]), 200)
    p = expect(_post(inst, m["agent"]["token"], text="perm test again", channels=[ch["id"]], schedule=_in_future()),
               201)
    # While only agents' posts need approval, editors approve; their own posts go straight out.
    e = expect(_post(inst, m["editor"]["token"], text="editor's own", channels=[ch["id"]], schedule=_in_future(96)),
               201)
    assert e["approval"]["state"] == "none", e
    expect(_decide(inst, e["id"], "approve", token=m["editor"]["token"]), 409, "conflict")
    expect(_decide(inst, p["id"], "approve", token=m["editor"]["token"]), 200)
    # With editors' posts too, only owners approve, and editors' posts wait.
    _mode(inst, "editors_and_agents")
    e2 = expect(_post(inst, m["editor"]["token"], text="editor's second", channels=[ch["id"]],
                      schedule=_in_future(100)), 201)
    assert e2["approval"]["state"] == "pending", e2
    expect(_decide(inst, e2["id"], "approve", token=m["editor"]["token"]), 403, "forbidden")
    expect(_decide(inst, e2["id"], "approve"), 200)
    expect(_decide(inst, 999999, "approve"), 404, "not_found")
    _mode(inst, "off")


def test_with_approval_off_posts_go_straight_to_scheduled(inst):
    m = _setup(inst)
    _mode(inst, "off")
    ch = harness.new_channel(inst, "appr-off", kind="file", settings={"path": "off.jsonl"})
    p = expect(_post(inst, m["editor"]["token"], text="straight out", channels=[ch["id"]], schedule="now"), 201)
    assert p["approval"] == {"state": "none", "history": []} and "approval" not in p["occurrences"][0], p
    assert _published(inst, p["id"])["state"] == "published"
    expect(_decide(inst, p["id"], "approve"), 409, "conflict")


def test_editing_an_approved_post_sends_it_back(inst):
    m = _setup(inst)
    _mode(inst, "agents")
    ch = harness.new_channel(inst, "appr-reedit", kind="file", settings={"path": "reedit.jsonl"})
    p = expect(_post(inst, m["agent"]["token"], text="first version", channels=[ch["id"]], schedule=_in_future()),
               201)
    expect(_decide(inst, p["id"], "approve"), 200)
    # The owner's edit keeps it approved; the agent's sends it back.
    o = expect(inst.patch(inst.ws("/posts/%d" % p["id"]), json={"text": "owner's touch"}), 200)
    assert o["approval"]["state"] == "approved", o
    a = expect(inst.patch(inst.ws("/posts/%d" % p["id"]), json={"text": "agent's second thoughts"},
                          token=m["agent"]["token"]), 200)
    assert a["approval"]["state"] == "pending", a
    assert [s["action"] for s in a["approval"]["history"]] == ["submitted", "approved", "resubmitted"], a
    # So does moving one of its copies.
    expect(_decide(inst, p["id"], "approve"), 200)
    mv = expect(inst.patch(inst.ws("/occurrences/%d" % p["occurrences"][0]["id"]),
                           json={"planned_at": _in_future(60)}, token=m["agent"]["token"]), 200)
    assert _get(inst, p["id"])["approval"]["state"] == "pending", mv
    _mode(inst, "off")


def test_a_series_and_a_scheduled_draft_wait_too(inst):
    m = _setup(inst)
    _mode(inst, "agents")
    ch = harness.new_channel(inst, "appr-series", kind="file", settings={"path": "series.jsonl"},
                             slots=["mon 09:00", "wed 09:00", "fri 09:00"])
    s = expect(inst.post(inst.ws("/series"), json={"text": "Evergreen tip", "channels": [ch["id"]], "count": 2},
                         token=m["agent"]["token"]), 201)
    assert s["post"]["approval"]["state"] == "pending", s["post"]
    d = expect(_post(inst, m["agent"]["token"], text="a draft", channels=[ch["id"]]), 201)
    assert d["state"] == "draft" and d["approval"]["state"] == "none", d
    d2 = expect(inst.patch(inst.ws("/posts/%d" % d["id"]), json={"text": "a better draft"}, token=m["agent"]["token"]),
                200)
    assert d2["approval"]["state"] == "none", d2
    sch = expect(inst.patch(inst.ws("/posts/%d" % d["id"]), json={"schedule": _in_future(30), "channels": [ch["id"]]},
                            token=m["agent"]["token"]), 200)
    assert sch["state"] == "scheduled" and sch["approval"]["state"] == "pending", sch
    _mode(inst, "off")


def test_late_approvals(inst):
    m = _setup(inst)
    _mode(inst, "agents")
    a = harness.new_channel(inst, "appr-late-a", kind="file", settings={"path": "late-a.jsonl"})
    b = harness.new_channel(inst, "appr-late-b", kind="file", settings={"path": "late-b.jsonl"})
    agent = m["agent"]["token"]
    # Half an hour late: approving sends it at once.
    p = expect(_post(inst, agent, text="half an hour late", channels=[a["id"]], schedule=_in_future()), 201)
    _set_planned(inst, p["id"], 1800)
    expect(_decide(inst, p["id"], "approve"), 200)
    assert _published(inst, p["id"])["state"] == "published"
    # Two hours late on one channel, on time on the other: the approver is asked first.
    q = expect(_post(inst, agent, text="two hours late", channels=[a["id"], b["id"]], schedule=_in_future()), 201)
    _set_planned(inst, q["id"], 7200, channel=a["id"])
    expect(_decide(inst, q["id"], "approve"), 409, "conflict", field="late")
    expect(_decide(inst, q["id"], "approve", late="later"), 422, "validation_failed", field="late")
    assert _get(inst, q["id"])["approval"]["state"] == "pending"
    ok = expect(_decide(inst, q["id"], "approve", late="skip"), 200)
    states = {o["channel_id"]: o["state"] for o in ok["occurrences"]}
    assert states == {a["id"]: "cancelled", b["id"]: "scheduled"}, ok
    assert ok["approval"]["state"] == "approved" and ok["state"] == "scheduled", ok
    # Every copy late: skipping would leave nothing; publishing them sends them now.
    r = expect(_post(inst, agent, text="all late", channels=[b["id"]], schedule=_in_future()), 201)
    _set_planned(inst, r["id"], 7200)
    expect(_decide(inst, r["id"], "approve", late="skip"), 409, "conflict", field="late")
    expect(_decide(inst, r["id"], "approve", late="publish"), 200)
    assert _published(inst, r["id"])["state"] == "published"
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    assert any(e["action"] == "post.approve" and e["detail"].get("late") == "publish" for e in audit)
    _mode(inst, "off")


def test_the_calendar_feed_marks_posts_awaiting_approval(inst):
    m = _setup(inst)
    _mode(inst, "agents")
    ch = harness.new_channel(inst, "appr-ical", kind="file", settings={"path": "ical.jsonl"})
    p = expect(_post(inst, m["agent"]["token"], text="Tentative tulips", channels=[ch["id"]], schedule=_in_future(20)),
               201)
    link = expect(inst.post(inst.ws("/calendar")), 201)["path"]
    feed = inst.get(link, token=None).text.replace("\r\n ", "")
    event = [e for e in feed.split("BEGIN:VEVENT") if "Tentative tulips" in e]
    assert len(event) == 1, feed[:2000]
    assert "(awaiting approval) Tentative tulips" in event[0] and "STATUS:TENTATIVE" in event[0], event[0]
    assert "X-SAMTALE-APPROVAL:pending" in event[0], event[0]
    expect(_decide(inst, p["id"], "approve"), 200)
    feed = inst.get(link, token=None).text.replace("\r\n ", "")
    event = [e for e in feed.split("BEGIN:VEVENT") if "Tentative tulips" in e]
    assert "STATUS:CONFIRMED" in event[0] and "awaiting approval" not in event[0], event[0]
    expect(inst.delete(inst.ws("/calendar")), 204)
    _mode(inst, "off")


def test_the_queue_lists_and_its_errors(inst):
    _setup(inst)
    expect(inst.get(inst.ws("/approvals?state=none")), 400, "bad_request", field="state")
    expect(inst.get(inst.ws("/approvals?state=sideways")), 400, "bad_request", field="state")
    expect(inst.get(inst.ws("/approvals?mine=yes")), 400, "bad_request", field="mine")
    expect(inst.get(inst.ws("/approvals?limit=51")), 400, "bad_request", field="limit")
    for state in ("pending", "changes_requested", "approved", "rejected"):
        doc = expect(inst.get(inst.ws("/approvals?state=%s&limit=2" % state)), 200)
        assert isinstance(doc["count"], int) and len(doc["items"]) <= 2, doc
        assert all(i["post"]["approval"]["state"] == state for i in doc["items"]), doc
    # Paging follows next_cursor through every approved post once.
    seen = harness.list_all(inst, inst.ws("/approvals?state=approved"), limit=1)
    ids = [i["post"]["id"] for i in seen]
    assert len(ids) == len(set(ids)) == expect(inst.get(inst.ws("/approvals?state=approved")), 200)["count"], ids


def test_the_cli_lists_and_decides(inst):
    m = _setup(inst)
    _mode(inst, "agents")
    ch = harness.new_channel(inst, "appr-cli", kind="file", settings={"path": "cli.jsonl"})
    out = harness.cli_json(inst.db, "post", "add", "--text", "from the CLI as the agent", "--channel", ch["id"],
                           "--at", _in_future(), "--as", AGENT)
    assert out["approval"]["state"] == "pending", out
    pid = out["id"]
    listed = harness.cli_json(inst.db, "approval", "list")
    assert pid in [i["post"]["id"] for i in listed], listed
    assert "from the CLI" in harness.cli_ok(inst.db, "approval", "list").stdout
    # The operator's own posts need no approval.
    own = harness.cli_json(inst.db, "post", "add", "--text", "the operator's", "--channel", ch["id"],
                           "--at", _in_future(50))
    assert own["approval"]["state"] == "none", own
    p = harness.run_cli(inst.db, "post", "reject", pid)
    assert p.returncode == 2 and "--note" in p.stderr, (p.returncode, p.stderr)
    p = harness.run_cli(inst.db, "post", "approve", pid, "--as", AGENT)
    assert p.returncode == 1 and "does not allow" in p.stderr, (p.returncode, p.stderr)
    p = harness.run_cli(inst.db, "post", "approve", pid, "--as", "nobody@example.com")
    assert p.returncode == 3, (p.returncode, p.stderr)
    ch_out = harness.cli_json(inst.db, "post", "request-changes", pid, "--note", "Add the price", "--as", EDITOR)
    assert ch_out["approval"]["state"] == "changes_requested", ch_out
    assert ch_out["approval"]["history"][-1]["by"]["id"] == m["editor"]["id"], ch_out
    harness.cli_ok(inst.db, "post", "edit", pid, "--text", "from the CLI, 49 kr", "--as", AGENT)
    done = harness.cli_json(inst.db, "post", "approve", pid, "--note", "Good")
    assert done["approval"]["state"] == "approved", done
    assert [s["action"] for s in done["approval"]["history"]] == ["submitted", "changes_requested", "resubmitted",
                                                                   "approved"], done
    assert done["approval"]["history"][-1]["actor"] == "cli", done
    p = harness.run_cli(inst.db, "approval", "list", "--state", "maybe")
    assert p.returncode == 2, p
    _mode(inst, "off")


def test_an_agents_csv_import_waits_for_approval(inst):
    """Posts imported from a CSV file by someone whose posts need approval wait like posts
    made one by one; a draft row waits for nobody; an approver's import goes straight out."""
    m = _setup(inst)
    _mode(inst, "agents")
    harness.new_channel(inst, "appr-csv", kind="file", settings={"path": "csv.jsonl"})
    when = _in_future(30)
    csv = "text,channels,time\nAgent's imported post,appr-csv,%s\nAgent's imported draft,,\n" % when
    body = {"csv": csv, "dry_run": False}
    rep = expect(inst.post(inst.ws("/posts/import"), json=body, token=m["agent"]["token"]), 201)
    assert rep["created"] == 2 and rep["approval_pending"] == 1, rep
    posted, draft = (_get(inst, r["post_id"]) for r in sorted(rep["rows"], key=lambda r: r["line"]))
    assert posted["approval"]["state"] == "pending", posted
    assert [h["action"] for h in posted["approval"]["history"]] == ["submitted"], posted["approval"]
    assert draft["state"] == "draft" and draft["approval"]["state"] == "none", draft
    queue = expect(inst.get(inst.ws("/approvals")), 200)
    assert posted["id"] in [i["post"]["id"] for i in queue["items"]], queue
    # The owner's own import needs no approval.
    csv = "text,channels,time\nOwner's imported post,appr-csv,%s\n" % _in_future(34)
    rep = expect(inst.post(inst.ws("/posts/import"), json={"csv": csv}), 201)
    assert "approval_pending" not in rep, rep
    assert _get(inst, rep["rows"][0]["post_id"])["approval"]["state"] == "none"
    _mode(inst, "off")
