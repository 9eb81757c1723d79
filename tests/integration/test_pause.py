"""Pausing a channel's queue (PRODUCT.md P1; docs/api.md, Channel and Occurrence): through
the API and the CLI, audited; a due post on a paused channel is not published and waits,
said as "paused"; after resuming it goes out, within the channel's caps."""

import json
import os

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance


def _chan(inst, cid):
    return inst.ws("/channels/%d" % cid)


def _lines(inst, name):
    path = os.path.join(inst.dir, "files", name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip() and json.loads(line).get("type") == "publish"]


def _post_now(inst, cid, text, **extra):
    body = dict(text=text, channels=[cid], schedule="now", **extra)
    r = inst.post(inst.ws("/posts"), json=body)
    if r.status == 422:  # a cap or a near-duplicate check: this test is about what follows
        r = inst.post(inst.ws("/posts"), json=dict(body, override_reason="test of pausing"))
    return expect(r, 201)


def _occ(inst, pid):
    return expect(inst.get(inst.ws("/posts/%d" % pid)), 200)["occurrences"][0]


def _audit(inst, action, cid):
    return [a for a in expect(inst.get(inst.ws("/audit?limit=200")), 200)["items"]
            if a["action"] == action and a["detail"].get("channel_id") == cid]


def test_pause_and_resume_through_the_api_are_audited_once(inst):
    ch = harness.new_channel(inst, "pause-api", kind="file", settings={"path": "pause-api.jsonl"})
    assert ch["paused"] is False and ch["paused_at"] is None, ch
    up = expect(inst.patch(_chan(inst, ch["id"]), json={"paused": True}), 200)
    assert up["paused"] is True and up["paused_at"], up
    # Pausing again changes nothing: the time of the first pause stays, one audit entry.
    again = expect(inst.patch(_chan(inst, ch["id"]), json={"paused": True}), 200)
    assert again["paused_at"] == up["paused_at"], (again, up)
    assert len(_audit(inst, "channel.pause", ch["id"])) == 1
    # An edit of something else does not resume it.
    renamed = expect(inst.patch(_chan(inst, ch["id"]), json={"name": "pause-api renamed", "max_per_hour": 3}), 200)
    assert renamed["paused"] is True and renamed["max_per_hour"] == 3, renamed
    assert expect(inst.get(_chan(inst, ch["id"])), 200)["paused"] is True
    listed = [c for c in harness.list_all(inst, inst.ws("/channels")) if c["id"] == ch["id"]]
    assert listed and listed[0]["paused"] is True, listed
    back = expect(inst.patch(_chan(inst, ch["id"]), json={"paused": False}), 200)
    assert back["paused"] is False and back["paused_at"] is None, back
    assert len(_audit(inst, "channel.resume", ch["id"])) == 1
    expect(inst.patch(_chan(inst, ch["id"]), json={"paused": False}), 200)
    assert len(_audit(inst, "channel.resume", ch["id"])) == 1


def test_bad_pause_input_and_scopes(inst):
    ch = harness.new_channel(inst, "pause-bad", kind="file", settings={"path": "pause-bad.jsonl"})
    for v in ("yes", 1, None, [True]):
        r = expect(inst.patch(_chan(inst, ch["id"]), json={"paused": v}), 422, "validation_failed", field="paused")
        assert "paused" in r["error"]["message"], r
    # Not on create: a channel starts publishing.
    expect(inst.post(inst.ws("/channels"), json={"kind": "file", "name": "born paused", "paused": True,
                                                 "settings": {"path": "x.jsonl"}}), 422, "validation_failed")
    reader = inst.create_token("pause-reader", "channels:read")
    expect(inst.patch(_chan(inst, ch["id"]), json={"paused": True}, token=reader), 403, "insufficient_scope")
    assert expect(inst.get(_chan(inst, ch["id"])), 200)["paused"] is False
    expect(inst.patch(inst.ws("/channels/99999999"), json={"paused": True}), 404)
    # Said in the request's language.
    r = inst.request("PATCH", _chan(inst, ch["id"]), json={"paused": "ja"}, headers={"Accept-Language": "nb"})
    body = expect(r, 422, "validation_failed", field="paused")
    assert body["error"]["message"] == "paused må være true eller false", body


def test_a_due_post_on_a_paused_channel_waits_and_goes_out_after_resume(inst):
    paused = harness.new_channel(inst, "pause-held", kind="file", settings={"path": "held.jsonl"})
    other = harness.new_channel(inst, "pause-other", kind="file", settings={"path": "other.jsonl"})
    expect(inst.patch(_chan(inst, paused["id"]), json={"paused": True}), 200)
    held = _post_now(inst, paused["id"], "Held while the channel is paused")
    occ = held["occurrences"][0]
    assert occ["state"] == "scheduled" and occ["waiting"]["reason"] == "paused", occ
    assert "expected_at" not in occ and "until" not in occ["waiting"], occ
    # A post due later on an active channel: the publisher claims in due order, so once this
    # one is out, it has passed over the held one.
    went = _post_now(inst, other["id"], "Goes out on the active channel")
    harness.wait_until(lambda: _occ(inst, went["id"])["state"] == "published", "the active channel's post")
    o = _occ(inst, held["id"])
    assert o["state"] == "scheduled" and o["attempts"] == 0 and "error" not in o, o
    assert o["waiting"]["reason"] == "paused" and o["waiting"]["message"], o
    assert _lines(inst, "held.jsonl") == [], "a paused channel published"
    # The calendar (the queue) says the same of it.
    q = expect(inst.get(inst.ws("/queue?channel=%d" % paused["id"])), 200)["items"]
    mine = [i for i in q if i["post_id"] == held["id"]]
    assert mine and mine[0]["waiting"]["reason"] == "paused", q
    nb = expect(inst.request("GET", inst.ws("/queue?channel=%d" % paused["id"]), headers={"Accept-Language": "nb"}),
                200)["items"]
    assert "pause" in [i for i in nb if i["post_id"] == held["id"]][0]["waiting"]["message"], nb
    # Resumed: it goes out, once.
    expect(inst.patch(_chan(inst, paused["id"]), json={"paused": False}), 200)
    harness.wait_until(lambda: _occ(inst, held["id"])["state"] == "published", "the held post after resuming")
    lines = _lines(inst, "held.jsonl")
    assert [l["text"] for l in lines] == ["Held while the channel is paused"], lines
    q = expect(inst.get(inst.ws("/queue?channel=%d" % paused["id"])), 200)["items"]
    assert all("waiting" not in i for i in q), q


def test_what_became_due_while_paused_goes_out_within_the_caps(inst):
    ch = harness.new_channel(inst, "pause-capped", kind="file", settings={"path": "capped.jsonl"}, max_per_hour=2)
    expect(inst.patch(_chan(inst, ch["id"]), json={"paused": True}), 200)
    ids = [_post_now(inst, ch["id"], "Backlog post %d, each about something else %s" % (i, "q" * i))["id"]
           for i in range(3)]
    assert all(_occ(inst, pid)["waiting"]["reason"] == "paused" for pid in ids)
    expect(inst.patch(_chan(inst, ch["id"]), json={"paused": False}), 200)

    def settled():
        occ = [_occ(inst, pid) for pid in ids]
        out = [o for o in occ if o["state"] == "published"]
        waiting = [o for o in occ if o["state"] == "scheduled" and o.get("waiting", {}).get("reason") == "hour_cap"]
        return (out, waiting) if len(out) == 2 and len(waiting) == 1 else None
    out, waiting = harness.wait_until(settled, "two of three published at resume, one waiting for the cap")
    # Oldest first: the two that went out are the first two.
    assert sorted(o["post_id"] for o in out) == ids[:2] and waiting[0]["post_id"] == ids[2], (out, waiting)
    assert len(_lines(inst, "capped.jsonl")) == 2


def test_pause_and_resume_with_the_cli(inst):
    ch = harness.new_channel(inst, "pause-cli", kind="file", settings={"path": "cli.jsonl"})
    doc = harness.cli_json(inst.db, "channel", "pause", str(ch["id"]))
    assert doc["id"] == ch["id"] and doc["paused"] is True and doc["paused_at"], doc
    assert expect(inst.get(_chan(inst, ch["id"])), 200)["paused"] is True
    shown = harness.cli_ok(inst.db, "channel", "show", str(ch["id"])).stdout
    assert "paused:" in shown and "channel resume %d" % ch["id"] in shown, shown
    entries = _audit(inst, "channel.pause", ch["id"])
    assert len(entries) == 1 and entries[0]["actor"].startswith("cli"), entries
    doc = harness.cli_json(inst.db, "channel", "resume", str(ch["id"]))
    assert doc["paused"] is False and doc["paused_at"] is None, doc
    assert expect(inst.get(_chan(inst, ch["id"])), 200)["paused"] is False
    r = harness.run_cli(inst.db, "channel", "pause")
    assert r.returncode == 2, r
    r = harness.run_cli(inst.db, "channel", "pause", "99999999")
    assert r.returncode != 0 and "not found" in r.stderr, r
