"""Workspaces and members over HTTP: list, get, patch, create (session only), add a member
by invitation, change roles, and the rule that a workspace keeps an owner."""

import harness
from harness import expect, request

OTHER_EMAIL = "other-owner@example.com"


def setup_module():
    inst = harness.Instance()
    try:
        inst.prepare()
        harness.cli_ok(inst.db, "workspace", "add", "Other", "--timezone", "UTC")
        harness.cli_ok(inst.db, "user", "add", "--email", OTHER_EMAIL, "--name", "Other Owner",
                       "--workspace", "Other", "--role", "owner", "--password-stdin",
                       input="other-password-123\n")
        inst.start()
        other = [w for w in harness.cli_json(inst.db, "workspace", "list") if w["name"] == "Other"]
        assert other, "workspace list --json lacks Other"
        inst.other_wid = other[0]["id"]
    except BaseException:
        inst.close()
        raise
    return inst


def teardown_module(inst):
    inst.close()


def test_list_and_get_workspace(inst):
    doc = expect(inst.get("/api/v1/workspaces"), 200)
    assert set(doc) == {"items", "next_cursor"} and doc["next_cursor"] is None, doc
    names = [w["name"] for w in doc["items"]]
    assert names == [harness.WORKSPACE], "a token sees only its workspace, got %r" % names
    ws = doc["items"][0]
    assert ws["id"] == inst.wid and ws["role"] == "owner" and ws["timezone"] == harness.WORKSPACE_TZ, ws
    assert ws.get("created_at"), ws
    assert expect(inst.get(inst.ws()), 200) == ws
    expect(inst.get("/api/v1/workspaces/%d" % inst.other_wid), 404, "not_found")
    expect(inst.get("/api/v1/workspaces/%d/channels" % inst.other_wid), 404, "not_found")


def test_objects_of_other_workspaces_are_not_found(inst):
    other = harness.cli_json(inst.db, "channel", "add", "--workspace", "Other", "--kind", "feed", "--no-verify",
                             "--setting", "url=https://example.com/feed.xml", "--name", "theirs")
    cid = other["id"]
    assert other["workspace_id"] == inst.other_wid, other
    expect(inst.get(inst.ws("/channels/%d" % cid)), 404, "not_found")
    expect(inst.patch(inst.ws("/channels/%d" % cid), json={"name": "mine now"}), 404, "not_found")
    expect(inst.delete(inst.ws("/channels/%d" % cid)), 404, "not_found")
    assert cid not in [c["id"] for c in harness.list_all(inst, inst.ws("/channels"))]
    shown = harness.cli_json(inst.db, "channel", "show", cid)
    assert shown["name"] == "theirs", "a request through another workspace changed the channel: %r" % shown
    other_uid = [m for m in harness.cli_json(inst.db, "user", "list") if m.get("email") == OTHER_EMAIL]
    assert other_uid, "user list --json lacks %s" % OTHER_EMAIL
    uid = other_uid[0].get("id", other_uid[0].get("user_id"))
    expect(inst.patch(inst.ws("/members/%d" % uid), json={"role": "viewer"}), 404, "not_found")
    expect(inst.delete(inst.ws("/members/%d" % uid)), 404, "not_found")


def test_patch_workspace(inst):
    up = expect(inst.patch(inst.ws(), json={"name": "Acme Renamed", "timezone": "America/Chicago"}), 200)
    assert (up["name"], up["timezone"], up["id"]) == ("Acme Renamed", "America/Chicago", inst.wid), up
    assert expect(inst.get(inst.ws()), 200)["name"] == "Acme Renamed"
    expect(inst.patch(inst.ws(), json={"timezone": "Nowhere/Land"}), 422, "validation_failed", field="timezone")
    expect(inst.patch(inst.ws(), json={"name": ""}), 422, "validation_failed", field="name")
    up = expect(inst.patch(inst.ws(), json={"name": harness.WORKSPACE, "timezone": harness.WORKSPACE_TZ}), 200)
    assert up["name"] == harness.WORKSPACE and up["timezone"] == harness.WORKSPACE_TZ, up
    expect(inst.patch("/api/v1/workspaces/%d" % inst.other_wid, json={"name": "Mine"}), 404, "not_found")


def test_create_workspace_needs_a_session(inst):
    expect(inst.post("/api/v1/workspaces", json={"name": "By token"}), 403, "forbidden")
    names = [w["name"] for w in harness.cli_json(inst.db, "workspace", "list")]
    assert "By token" not in names, names

    cookie, csrf, _ = inst.login()
    expect(inst.post("/api/v1/workspaces", json={"name": "By session"}, token=None, cookie=cookie),
           403, "csrf_failed")
    ws = expect(inst.post("/api/v1/workspaces", json={"name": "By session", "timezone": "Asia/Tokyo"},
                          token=None, cookie=cookie, csrf=csrf), 201)
    assert (ws["name"], ws["timezone"], ws["role"]) == ("By session", "Asia/Tokyo", "owner"), ws
    mine = {w["name"]: w for w in harness.list_all(inst, "/api/v1/workspaces", token=None, cookie=cookie)}
    assert set(mine) == {harness.WORKSPACE, "By session"}, "session sees %r" % sorted(mine)
    assert "Other" not in mine
    me = expect(inst.get("/api/v1/me", token=None, cookie=cookie), 200)
    assert {m["workspace_name"] for m in me["memberships"]} == {harness.WORKSPACE, "By session"}, me
    expect(inst.post("/api/v1/workspaces", json={"timezone": "UTC"}, token=None, cookie=cookie, csrf=csrf),
           422, "validation_failed", field="name")
    # the owner's token stays bound to Acme, though its member also owns the new workspace
    r = inst.get("/api/v1/workspaces/%d" % ws["id"])
    assert r.status in (403, 404), "a token reached another workspace: %r" % r
    harness.check_error_shape(r, r.json())
    r = inst.get("/api/v1/workspaces/%d/channels" % ws["id"])
    assert r.status in (403, 404), "a token reached another workspace's channels: %r" % r


def _members(inst):
    return {m["email"]: m for m in harness.list_all(inst, inst.ws("/members"))}


def test_members(inst):
    before = _members(inst)
    assert before[harness.OWNER_EMAIL]["role"] == "owner", before
    assert before[harness.OWNER_EMAIL]["user_id"] == inst.owner_id

    # Members join by invitation: nobody is a member (or has an account) before accepting.
    inv = harness.invite(inst, "new@example.com", "editor", "New")
    assert (inv["email"], inv["role"], inv["state"]) == ("new@example.com", "editor", "pending"), inv
    assert "one_time_password" not in inv, inv
    assert "new@example.com" not in _members(inst)
    expect(request(inst.port, "POST", "/api/v1/invitations/%s/accept" % inv["secret"],
                   json={"password": "new-member-password"}), 201)
    m = _members(inst)["new@example.com"]
    assert (m["name"], m["role"], m["workspace_id"]) == ("New", "editor", inst.wid), m
    doc = expect(request(inst.port, "POST", "/api/v1/auth/login",
                         json={"email": "new@example.com", "password": "new-member-password"}), 200)
    assert doc["password_change_required"] is False, doc

    expect(inst.post(inst.ws("/invitations"), json={"email": "new@example.com", "role": "viewer"}), 409, "conflict",
           field="email")
    expect(inst.post(inst.ws("/invitations"), json={"email": "x@example.com", "role": "boss"}),
           422, "validation_failed", field="role")
    expect(inst.post(inst.ws("/invitations"), json={"role": "viewer"}), 422, "validation_failed", field="email")
    # the old way in is gone
    expect(inst.post(inst.ws("/members"), json={"email": "y@example.com", "role": "viewer"}), 405,
           "method_not_allowed")

    # an existing account joins by logging in and confirming: no new password
    ex_inv = harness.invite(inst, OTHER_EMAIL, "viewer")
    expect(request(inst.port, "POST", "/api/v1/invitations/%s/accept" % ex_inv["secret"],
                   json={"password": "attacker-chosen-password"}), 409, "account_exists")
    cookie, csrf, _ = inst.login(OTHER_EMAIL, "other-password-123")
    expect(request(inst.port, "POST", "/api/v1/invitations/%s/join" % ex_inv["secret"], cookie=cookie, csrf=csrf), 200)
    ex = _members(inst)[OTHER_EMAIL]

    uid = m["user_id"]
    up = expect(inst.patch(inst.ws("/members/%d" % uid), json={"role": "viewer"}), 200)
    assert up["role"] == "viewer" and up["user_id"] == uid, up
    expect(inst.patch(inst.ws("/members/%d" % uid), json={"role": "king"}), 422, "validation_failed", field="role")
    expect(inst.patch(inst.ws("/members/999999"), json={"role": "viewer"}), 404, "not_found")

    expect(inst.delete(inst.ws("/members/%d" % ex["user_id"])), 204)
    expect(inst.delete(inst.ws("/members/%d" % uid)), 204)
    after = _members(inst)
    assert "new@example.com" not in after and OTHER_EMAIL not in after, sorted(after)
    expect(inst.delete(inst.ws("/members/%d" % uid)), 404, "not_found")


def test_last_owner_cannot_be_removed_or_demoted(inst):
    me = inst.owner_id
    expect(inst.patch(inst.ws("/members/%d" % me), json={"role": "editor"}), 409, "conflict")
    expect(inst.delete(inst.ws("/members/%d" % me)), 409, "conflict")
    assert _members(inst)[harness.OWNER_EMAIL]["role"] == "owner"

    second = harness.add_member(inst, "second@example.com", "owner")
    # with two owners either may step down, but not both
    up = expect(inst.patch(inst.ws("/members/%d" % second["user_id"]), json={"role": "editor"}), 200)
    assert up["role"] == "editor", up
    expect(inst.patch(inst.ws("/members/%d" % me), json={"role": "viewer"}), 409, "conflict")
    expect(inst.delete(inst.ws("/members/%d" % second["user_id"])), 204)
    assert _members(inst)[harness.OWNER_EMAIL]["role"] == "owner"
