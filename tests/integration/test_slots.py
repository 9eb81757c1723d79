"""Posting slots and caps on channels through the API (PRODUCT.md P1, P7; docs/api.md)."""

import datetime

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance


def test_publishing_channels_start_with_weekday_slots_and_listeners_with_none(inst):
    ch = harness.new_channel(inst, "slots-default", kind="file")
    assert ch["slots"][:3] == ["mon 09:00", "mon 12:30", "mon 15:30"] and len(ch["slots"]) == 15, ch
    assert (ch["max_per_hour"], ch["max_per_day"]) == (2, 12), ch
    feed = harness.new_channel(inst, "slots-feed", kind="feed")
    assert feed["slots"] == [], feed


def test_slots_are_normalised_and_shown_in_local_time(inst):
    ch = harness.new_channel(inst, "slots-ny", kind="webhook", timezone="America/New_York",
                             slots=["WED 9:00", "mon 09:00", "mon 09:00"], max_per_hour=5, max_per_day=40)
    assert ch["slots"] == ["mon 09:00", "wed 09:00"], ch["slots"]
    assert (ch["max_per_hour"], ch["max_per_day"]) == (5, 40)
    doc = expect(inst.get(inst.ws("/channels/%d/slots?days=21" % ch["id"])), 200)
    assert doc["timezone"] == "America/New_York" and doc["slots"] == ch["slots"]
    assert len(doc["upcoming"]) == 6, doc["upcoming"]
    for item in doc["upcoming"]:
        local = datetime.datetime.fromisoformat(item["local"])
        utc = datetime.datetime.fromisoformat(item["at"].replace("Z", "+00:00"))
        assert local == utc, item                      # the same instant
        assert (local.hour, local.minute) == (9, 0), item
        assert local.weekday() in (0, 2), item         # Monday or Wednesday
        assert local.utcoffset() in (datetime.timedelta(hours=-5), datetime.timedelta(hours=-4)), item


def test_bad_slots_and_caps_are_422_with_the_field(inst):
    path = inst.ws("/channels")
    base = {"kind": "file", "settings": {"path": "x.jsonl"}}
    for slots in (["someday 09:00"], ["mon 25:00"], "mon 09:00", [9]):
        expect(inst.post(path, json=dict(base, name="bad-slot", slots=slots)), 422, "validation_failed",
               field="slots")
    expect(inst.post(path, json=dict(base, name="bad-cap", max_per_hour=0)), 422, "validation_failed",
           field="max_per_hour")
    r = expect(inst.post(path, json=dict(base, name="bad-cap", max_per_hour=5, max_per_day=3)), 422,
               "validation_failed", field="max_per_day")
    assert "(posts a day)" in r["error"]["message"] and "5" in r["error"]["message"], r
    # The dashboard shows these at the field: they name the cap in words, in the reader's language.
    r = expect(inst.request("POST", path, json=dict(base, name="bad-cap", max_per_hour=1001),
                            headers={"Accept-Language": "nb"}), 422, "validation_failed", field="max_per_hour")
    assert "innlegg per time" in r["error"]["message"] and "1000" in r["error"]["message"], r
    ch = harness.new_channel(inst, "slots-patch", kind="file")
    up = expect(inst.patch(path + "/%d" % ch["id"], json={"slots": ["sun 02:30"]}), 200)
    assert up["slots"] == ["sun 02:30"] and up["max_per_hour"] == 2, up
    expect(inst.get(inst.ws("/channels/%d/slots?days=0" % ch["id"])), 400, "bad_request")
    expect(inst.get(inst.ws("/channels/%d/slots?days=x" % ch["id"])), 400, "bad_request")


def test_mix_preset_on_the_workspace(inst):
    ws = expect(inst.get(inst.ws("")), 200)
    assert ws["mix_preset"] == "balanced", ws
    up = expect(inst.patch(inst.ws(""), json={"mix_preset": "gentle"}), 200)
    assert up["mix_preset"] == "gentle"
    expect(inst.patch(inst.ws(""), json={"mix_preset": "spammy"}), 422, "validation_failed", field="mix_preset")
