"""The schedule as an iCalendar feed at a secret URL (PRODUCT.md P13), read by Debian's
python3-icalendar: every scheduled and published occurrence is an event."""

import datetime

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance


def test_icalendar_parses_the_feed(inst):
    try:
        import icalendar
    except ImportError:
        raise AssertionError("python3-icalendar is needed (scripts/deps.sh installs it)")
    ch = harness.new_channel(inst, "cal-file", kind="file", settings={"path": "cal.jsonl"})
    hook = harness.new_channel(inst, "cal-hook", kind="webhook")
    texts = ['Kalender: blåbær, jordbær; og "sitater" \\ med komma, semikolon;',
             "A long line " + "é" * 120 + " 🫐 end",
             "Plain post"]
    made = []
    for i, t in enumerate(texts):
        p = expect(inst.post(inst.ws("/posts"), json={"text": t, "channels": [ch["id"], hook["id"]],
                                                      "schedule": "next_slot"}), 201)
        made += p["occurrences"]
    cancelled = expect(inst.post(inst.ws("/posts"), json={"text": "cancelled one", "channels": [ch["id"]],
                                                          "schedule": "next_slot"}), 201)
    expect(inst.post(inst.ws("/posts/%d/cancel" % cancelled["id"])), 200)

    link = expect(inst.post(inst.ws("/calendar")), 201)
    r = inst.get(link["path"], token=None)
    assert r.status == 200, (r.status, r.body[:200])
    assert r.headers["Content-Type"].startswith("text/calendar"), r.headers
    raw = r.body
    assert all(len(line) <= 75 for line in raw.split(b"\r\n")), "a line longer than 75 octets"
    cal = icalendar.Calendar.from_ical(raw)
    events = [c for c in cal.walk("VEVENT")]
    by_uid = {str(e["UID"]): e for e in events}
    assert len(events) == len(made), (len(events), len(made))
    want = {o["planned_at"] for o in made}
    got = {e["DTSTART"].dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for e in events}
    assert got == want, (got, want)
    descriptions = sorted(str(e["DESCRIPTION"]) for e in events)
    assert sorted(texts * 2) == descriptions, descriptions
    assert all(uid.endswith("@samtale") for uid in by_uid)

    # A new link ends the old one; deleting ends the feed.
    new = expect(inst.post(inst.ws("/calendar")), 201)
    expect(inst.get(link["path"], token=None), 404, "not_found")
    assert inst.get(new["path"], token=None).status == 200
    expect(inst.delete(inst.ws("/calendar")), 204)
    expect(inst.get(new["path"], token=None), 404, "not_found")
    expect(inst.get("/ical/" + "x" * 101, token=None), 404)
