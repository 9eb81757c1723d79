"""Channel-exclusive offers (PRODUCT.md P15): a post carries an offer code per channel,
unique in its workspace; where the text says {offer}, each channel's copy publishes its
own code; the codes are kept, with the channel each names, for attribution."""

import json
import os

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance


def _lines(inst, name):
    path = os.path.join(inst.dir, "files", name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def test_each_channel_publishes_its_own_code_and_the_codes_are_kept(inst):
    a = harness.new_channel(inst, "offer-a", kind="file", settings={"path": "offer-a.jsonl"})
    b = harness.new_channel(inst, "offer-b", kind="file", settings={"path": "offer-b.jsonl"})
    post = expect(inst.post(inst.ws("/posts"), json={
        "text": "Spring sale: use {offer} for 10% off", "channels": [a["id"], b["id"]], "schedule": "now",
        "category": "promo", "offers": [{"channel_id": a["id"], "code": "spring-a10"},
                                        {"channel_id": b["id"], "code": "SPRING_B10"}]}), 201)
    codes = {o["channel_id"]: o["code"] for o in post["offers"]}
    assert codes == {a["id"]: "SPRING-A10", b["id"]: "SPRING_B10"}, post["offers"]
    assert all(o["channel_name"] in ("offer-a", "offer-b") for o in post["offers"])

    def out():
        la, lb = _lines(inst, "offer-a.jsonl"), _lines(inst, "offer-b.jsonl")
        return (la, lb) if la and lb else None
    la, lb = harness.wait_until(out, "both channels to publish")
    assert la[-1]["text"] == "Spring sale: use SPRING-A10 for 10% off", la[-1]
    assert lb[-1]["text"] == "Spring sale: use SPRING_B10 for 10% off", lb[-1]

    def listed():
        items = harness.list_all(inst, inst.ws("/offers"))
        mine = [o for o in items if o["post_id"] == post["id"]]
        return mine if len(mine) == 2 and all(o.get("published_at") for o in mine) else None
    mine = harness.wait_until(listed, "the offers to show when they went out")
    assert {o["code"] for o in mine} == {"SPRING-A10", "SPRING_B10"}, mine
    # A removed channel's code is kept for attribution, with the name it had.
    expect(inst.delete(inst.ws("/channels/%d" % b["id"])), 204)
    kept = [o for o in harness.list_all(inst, inst.ws("/offers")) if o["code"] == "SPRING_B10"]
    assert kept and kept[0]["channel_id"] is None and kept[0]["channel_name"] == "offer-b", kept


def test_offer_codes_are_refused_when_they_would_not_tell_channels_apart(inst):
    a = harness.new_channel(inst, "offer-c", kind="file", settings={"path": "offer-c.jsonl"})
    b = harness.new_channel(inst, "offer-d", kind="file", settings={"path": "offer-d.jsonl"})
    base = {"text": "Use {offer} today", "channels": [a["id"], b["id"]], "schedule": "next_slot"}
    cases = [
        ([{"channel_id": a["id"], "code": "SAME1"}, {"channel_id": b["id"], "code": "same1"}], 422),   # one code, two channels
        ([{"channel_id": a["id"], "code": "ONLYA"}], 422),                                           # {offer} needs both
        ([{"channel_id": a["id"], "code": "X!"}, {"channel_id": b["id"], "code": "OK123"}], 422),     # bad code
        ([{"channel_id": a["id"], "code": "A" * 33}, {"channel_id": b["id"], "code": "OK123"}], "offers.code"),
        ([{"channel_id": 999999, "code": "NOPE1"}, {"channel_id": b["id"], "code": "OK123"}], 422),   # not its channel
        ([{"channel_id": a["id"], "code": "AAA1", "x": 1}], 422),
        ("nonsense", 422),
    ]
    for offers, want in cases:
        expect(inst.post(inst.ws("/posts"), json=dict(base, offers=offers)), 422,
               field=want if isinstance(want, str) else "offers")
    ok = expect(inst.post(inst.ws("/posts"), json=dict(base, offers=[{"channel_id": a["id"], "code": "C1-WINTER"},
                                                                      {"channel_id": b["id"], "code": "D1-WINTER"}])), 201)
    # A code names one channel of one post: using it again is a conflict.
    expect(inst.post(inst.ws("/posts"), json=dict(base, offers=[{"channel_id": a["id"], "code": "c1-winter"},
                                                                 {"channel_id": b["id"], "code": "D2-WINTER"}])),
           409, field="offers")
    # A draft gets its codes when it is scheduled.
    expect(inst.post(inst.ws("/posts"), json={"text": "draft", "offers": [{"channel_id": a["id"], "code": "DRAFT1"}]}),
           422, field="offers")
    d = expect(inst.post(inst.ws("/posts"), json={"text": "Later: {offer}"}), 201)
    done = expect(inst.patch(inst.ws("/posts/%d" % d["id"]), json={
        "schedule": "next_slot", "channels": [a["id"]], "offers": [{"channel_id": a["id"], "code": "LATER1"}]}), 200)
    assert [o["code"] for o in done["offers"]] == ["LATER1"], done
    assert len(ok["offers"]) == 2


def test_the_cli_gives_and_lists_codes(inst):
    ch = harness.new_channel(inst, "offer-cli", kind="file", settings={"path": "offer-cli.jsonl"})
    doc = harness.cli_json(inst.db, "post", "add", "--workspace", harness.WORKSPACE, "--text", "Code {offer}",
                           "--channel", str(ch["id"]), "--next-slot", "--offer", "%d=cli-code" % ch["id"])
    assert doc["state"] == "scheduled", doc
    listed = harness.cli_json(inst.db, "post", "offers", "--workspace", harness.WORKSPACE)
    assert any(o["code"] == "CLI-CODE" and o["channel_id"] == ch["id"] for o in listed), listed
    bad = harness.run_cli(inst.db, "post", "add", "--workspace", harness.WORKSPACE, "--text", "x", "--channel",
                          str(ch["id"]), "--next-slot", "--offer", "nonsense")
    assert bad.returncode != 0 and "CHANNEL_ID=CODE" in bad.stderr, bad.stderr
