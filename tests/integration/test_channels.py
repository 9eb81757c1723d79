"""Channels over HTTP: create, read, update, delete, validation, names unique per workspace,
pagination, the write-only secret (encrypted at rest) and the audit log."""

import json
import re

import harness
from harness import expect

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
SECRET = "s3cr3t-VALUE-xyz"


setup_module = harness.module_instance
teardown_module = harness.close_instance


def _check_channel(ch, wid):
    want = {"id", "workspace_id", "kind", "name", "timezone", "settings", "has_secret", "status",
            "created_at", "updated_at"}
    missing = want - set(ch)
    assert not missing, "channel lacks %s: %r" % (sorted(missing), ch)
    assert "secret" not in ch, "a channel answer carries its secret: %r" % ch
    assert isinstance(ch["id"], int) and ch["workspace_id"] == wid, ch
    assert isinstance(ch["settings"], dict) and isinstance(ch["has_secret"], bool), ch
    for k in ("created_at", "updated_at"):
        assert RFC3339_UTC.match(ch[k]), "%s is not RFC 3339 UTC: %r" % (k, ch[k])


def test_channel_round_trip(inst):
    settings = {"instance_url": "https://social.example", "visibility": "public", "n": 3,
                "nested": {"a": [1, 2], "b": None}}
    r = inst.post(inst.ws("/channels"), json={"kind": "mastodon", "name": "Round trip",
                                              "timezone": "America/New_York",
                                              "settings": settings, "secret": "tok-123-secret",
                                              "verify": False})
    ch = expect(r, 201)
    assert "tok-123-secret" not in r.text, "the secret came back: %s" % r.text
    _check_channel(ch, inst.wid)
    assert (ch["kind"], ch["name"], ch["timezone"]) == ("mastodon", "Round trip", "America/New_York"), ch
    assert ch["settings"] == settings, "settings changed on the way: %r" % ch["settings"]
    assert ch["has_secret"] is True and ch["status"] == "active", ch
    url = inst.ws("/channels/%d" % ch["id"])

    r = inst.get(url)
    got = expect(r, 200)
    assert got == ch, "GET differs from the create answer:\n%r\n%r" % (got, ch)
    assert "tok-123-secret" not in r.text

    plain = expect(inst.post(inst.ws("/channels"), json={"kind": "feed", "settings": harness.FEED, "name": "No secret"}), 201)
    _check_channel(plain, inst.wid)
    assert plain["has_secret"] is False and plain["settings"] == harness.FEED, plain
    assert plain["timezone"], plain

    new_settings = {"instance_url": "https://other.example"}
    up = expect(inst.patch(url, json={"name": "Round trip 2", "settings": new_settings, "verify": False}), 200)
    _check_channel(up, inst.wid)
    assert up["name"] == "Round trip 2" and up["settings"] == new_settings, up
    assert up["timezone"] == "America/New_York" and up["kind"] == "mastodon", up
    assert up["has_secret"] is True, "a PATCH without secret dropped it: %r" % up
    assert up["created_at"] == ch["created_at"] and up["updated_at"] >= ch["updated_at"], up

    up = expect(inst.patch(url, json={"secret": None}), 200)
    assert up["has_secret"] is False, "secret:null did not remove the secret: %r" % up
    assert expect(inst.get(url), 200)["has_secret"] is False
    up = expect(inst.patch(url, json={"secret": "another-one", "verify": False}), 200)
    assert up["has_secret"] is True, up
    up = expect(inst.patch(url, json={"timezone": "Asia/Tokyo"}), 200)
    assert up["timezone"] == "Asia/Tokyo" and up["name"] == "Round trip 2", up

    listed = {c["id"]: c for c in harness.list_all(inst, inst.ws("/channels"))}
    assert listed.get(ch["id"]) == expect(inst.get(url), 200), "list and GET disagree"

    expect(inst.delete(url), 204)
    expect(inst.get(url), 404, "not_found")
    expect(inst.delete(url), 404, "not_found")
    expect(inst.patch(url, json={"name": "ghost"}), 404, "not_found")
    assert ch["id"] not in {c["id"] for c in harness.list_all(inst, inst.ws("/channels"))}
    expect(inst.delete(inst.ws("/channels/%d" % plain["id"])), 204)


def test_duplicate_name_is_409(inst):
    a = harness.new_channel(inst, "Dup")
    expect(inst.post(inst.ws("/channels"), json={"kind": "bluesky", "settings": {"handle": "dup.test"}, "name": "Dup"}), 409, "conflict")
    b = harness.new_channel(inst, "Dup 2")
    expect(inst.patch(inst.ws("/channels/%d" % b["id"]), json={"name": "Dup"}), 409, "conflict")
    assert expect(inst.get(inst.ws("/channels/%d" % b["id"])), 200)["name"] == "Dup 2"
    for c in (a, b):
        expect(inst.delete(inst.ws("/channels/%d" % c["id"])), 204)
    # the name is free again once the channel is gone
    c = harness.new_channel(inst, "Dup")
    expect(inst.delete(inst.ws("/channels/%d" % c["id"])), 204)


def test_bad_timezone_and_kind_are_422(inst):
    path = inst.ws("/channels")
    expect(inst.post(path, json={"kind": "feed", "settings": harness.FEED, "name": "tz", "timezone": "Mars/Olympus"}),
           422, "validation_failed", field="timezone")
    expect(inst.post(path, json={"kind": "feed", "settings": harness.FEED, "name": "tz", "timezone": ""}),
           422, "validation_failed", field="timezone")
    expect(inst.post(path, json={"kind": "myspace", "name": "k"}), 422, "validation_failed", field="kind")
    expect(inst.post(path, json={"name": "k"}), 422, "validation_failed", field="kind")
    ch = harness.new_channel(inst, "tz-ok", timezone="Europe/Oslo")
    expect(inst.patch(inst.ws("/channels/%d" % ch["id"]), json={"timezone": "Europe/Nowhere"}),
           422, "validation_failed", field="timezone")
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"])), 204)
    names = {c["name"] for c in harness.list_all(inst, path)}
    assert not names & {"tz", "k"}, "an invalid channel was stored: %r" % names


def test_size_limits_of_settings_and_secret(inst):
    path = inst.ws("/channels")
    big = {"pad": "x" * (16 * 1024 + 1)}
    expect(inst.post(path, json={"kind": "feed", "name": "big-settings", "settings": dict(big, **harness.FEED)}),
           422, "validation_failed", field="settings")
    expect(inst.post(path, json={"kind": "feed", "settings": harness.FEED, "name": "big-secret", "secret": "s" * 4097}),
           422, "validation_failed", field="secret")
    ok = harness.new_channel(inst, "max-secret", secret="s" * 4096, settings=dict(harness.FEED, pad="x" * 8000))
    assert ok["has_secret"] is True
    expect(inst.patch(path + "/%d" % ok["id"], json={"settings": dict(big, **harness.FEED)}), 422,
           "validation_failed", field="settings")
    # Replacing the settings must keep what the kind requires.
    expect(inst.patch(path + "/%d" % ok["id"], json={"settings": {}}), 422, "validation_failed",
           field="settings.url")
    expect(inst.delete(path + "/%d" % ok["id"]), 204)


def test_pagination_follows_next_cursor(inst):
    made = [harness.new_channel(inst, "page-%d" % i, kind="webhook")["id"] for i in range(5)]
    everything = [c["id"] for c in harness.list_all(inst, inst.ws("/channels"))]
    assert len(everything) == len(set(everything)), "duplicates in the full list"
    assert set(made) <= set(everything)

    def walk(query, limit):
        seen, cursor, pages = [], None, 0
        while True:
            url = inst.ws("/channels?%slimit=%d" % (query, limit))
            if cursor is not None:
                url += "&cursor=" + harness.urlquote(cursor)
            doc = expect(inst.get(url), 200)
            assert set(doc) == {"items", "next_cursor"}, "list envelope: %r" % list(doc)
            assert len(doc["items"]) <= limit, "page of %d items for limit=%d" % (len(doc["items"]), limit)
            seen += [c["id"] for c in doc["items"]]
            pages += 1
            cursor = doc["next_cursor"]
            assert cursor is None or (isinstance(cursor, str) and cursor), "next_cursor %r" % cursor
            if cursor is None:
                return seen, pages
            assert pages < 50, "pagination does not end"

    seen, pages = walk("", 2)
    assert len(seen) == len(set(seen)), "duplicates across pages: %r" % seen
    assert sorted(seen) == sorted(everything), "gaps: paged %r, full %r" % (seen, everything)
    assert pages in ((len(everything) + 1) // 2, (len(everything) + 1) // 2 + 1), \
        "%d pages for %d items at limit=2" % (pages, len(everything))

    seen, pages = walk("kind=webhook&", 2)
    assert sorted(seen) == sorted(made), "kind=webhook paged %r, made %r" % (seen, made)
    assert pages in (3, 4), "%d pages for 5 items at limit=2" % pages
    kinds = {c["kind"] for c in harness.list_all(inst, inst.ws("/channels?kind=webhook"))}
    assert kinds == {"webhook"}, kinds

    for cid in made:
        expect(inst.delete(inst.ws("/channels/%d" % cid)), 204)


def test_default_page_size_is_50(inst):
    have = len(harness.list_all(inst, inst.ws("/channels")))
    made = [harness.new_channel(inst, "bulk-%d" % i, kind="file")["id"] for i in range(max(0, 51 - have))]
    doc = expect(inst.get(inst.ws("/channels")), 200)
    assert len(doc["items"]) == 50 and doc["next_cursor"], \
        "without limit: %d items, next_cursor %r" % (len(doc["items"]), doc["next_cursor"])
    doc = expect(inst.get(inst.ws("/channels?kind=file&limit=200")), 200)
    assert len(doc["items"]) == len(made) and doc["next_cursor"] is None, (len(doc["items"]), len(made))
    for cid in made:
        expect(inst.delete(inst.ws("/channels/%d" % cid)), 204)


def test_bad_cursor_and_limit_are_400(inst):
    for q in ("cursor=not-a-cursor!!", "cursor=%00%01", "limit=0", "limit=201", "limit=abc", "limit=-1"):
        expect(inst.get(inst.ws("/channels?" + q)), 400, "bad_request")
    expect(inst.get("/api/v1/workspaces?limit=0"), 400, "bad_request")
    doc = expect(inst.get(inst.ws("/channels?limit=200")), 200)
    assert "items" in doc


def test_secret_is_encrypted_at_rest(inst):
    ch = harness.new_channel(inst, "Encrypted", kind="bluesky", secret=SECRET,
                             settings={"handle": "acme.example"})
    assert ch["has_secret"] is True, ch
    # the server has written it: every answer after this one reads it back from the store
    expect(inst.get(inst.ws("/channels/%d" % ch["id"])), 200)
    found = harness.db_contains(inst.db, SECRET)
    assert not found, "the channel secret is stored in plain text: %s" % found
    up = expect(inst.patch(inst.ws("/channels/%d" % ch["id"]), json={"secret": SECRET + "-2", "verify": False}), 200)
    assert up["has_secret"] is True
    found = harness.db_contains(inst.db, SECRET)
    assert not found, "the patched channel secret is stored in plain text: %s" % found
    assert SECRET not in inst.server.log_tail(1 << 22), "the server log contains the secret"
    audit = inst.get(inst.ws("/audit?limit=200"))
    assert SECRET not in audit.text, "the audit log contains the secret"


def test_audit_log_records_channel_create_and_token_revoke(inst):
    ch = harness.new_channel(inst, "Audited")
    tok = expect(inst.post(inst.ws("/tokens"), json={"name": "to-revoke", "scopes": ["channels:read"]}), 201)
    expect(inst.delete(inst.ws("/tokens/%d" % tok["id"])), 204)
    doc = expect(inst.get(inst.ws("/audit?limit=200")), 200)
    entries = doc["items"]
    for e in entries:
        missing = {"id", "at", "actor", "action", "target", "detail"} - set(e)
        assert not missing, "audit entry lacks %s: %r" % (sorted(missing), e)
        assert RFC3339_UTC.match(e["at"]), e

    def find(noun, verbs, ident, name):
        for i, e in enumerate(entries):
            action = str(e["action"]).lower()
            where = json.dumps([e["target"], e["detail"]])
            if noun in action and any(v in action for v in verbs) and \
                    (re.search(r"\b%d\b" % ident, where) or name in where):
                return i
        return None

    created = find("channel", ("create", "add"), ch["id"], "Audited")
    revoked = find("token", ("revoke",), tok["id"], "to-revoke")
    actions = [(e["action"], e["target"]) for e in entries[:10]]
    assert created is not None, "no audit entry for creating channel %d: %r" % (ch["id"], actions)
    assert revoked is not None, "no audit entry for revoking token %d: %r" % (tok["id"], actions)
    assert revoked < created, "audit log is not newest first: %r" % actions
    ats = [e["at"] for e in entries]
    assert ats == sorted(ats, reverse=True), "audit times are not newest first: %r" % ats[:10]
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"])), 204)
