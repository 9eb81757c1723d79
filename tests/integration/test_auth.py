"""Authentication and authorisation: tokens, scopes, roles, the session cookie, CSRF,
logout, wrong passwords and the login rate limit (docs/api.md, Conventions and Limits)."""

import harness
from harness import expect, request, session_cookie

VIEWER = "viewer@example.com"
LIMITED = "limited@example.com"
PASSWORD = "a-good-password-42"
ALL_SCOPES = {"workspaces:read", "workspaces:write", "members:read", "members:write", "tokens:read",
              "tokens:write", "channels:read", "channels:write", "audit:read", "posts:read", "posts:write",
              "posts:approve"}


def setup_module():
    inst = harness.Instance()
    try:
        inst.prepare()
        for email, role in ((VIEWER, "viewer"), (LIMITED, "editor")):
            harness.cli_ok(inst.db, "user", "add", "--email", email, "--name", role.title(),
                           "--workspace", harness.WORKSPACE, "--role", role, "--password-stdin",
                           input=PASSWORD + "\n")
        inst.viewer_token = inst.create_token("viewer", "*", user=VIEWER)
        inst.read_token = inst.create_token("reader", "channels:read")
        inst.editor_token = inst.create_token("editor", "*", user=LIMITED)
        inst.start()
    except BaseException:
        inst.close()
        raise
    return inst


def teardown_module(inst):
    inst.close()


def test_no_token_is_401(inst):
    expect(inst.get("/api/v1/workspaces", token=None), 401, "unauthorized")
    expect(inst.get(inst.ws("/channels"), token=None), 401, "unauthorized")
    expect(inst.post(inst.ws("/channels"), json={"kind": "feed", "settings": harness.FEED, "name": "x"}, token=None),
           401, "unauthorized")


def test_unknown_or_malformed_token_is_401(inst):
    expect(inst.get("/api/v1/me", token="smt_" + "A" * 40), 401, "unauthorized")
    expect(inst.get("/api/v1/me", token=inst.token + "x"), 401, "unauthorized")
    expect(inst.get("/api/v1/me", token=None, headers={"Authorization": "Basic b3duZXI6cHc="}),
           401, "unauthorized")
    expect(inst.get("/api/v1/me", token=None, cookie="not-a-session"), 401, "unauthorized")


def test_token_me(inst):
    me = expect(inst.get("/api/v1/me"), 200)
    assert me["auth"] == "token", me
    assert me["user"]["email"] == harness.OWNER_EMAIL, me
    assert me["token"]["workspace_id"] == inst.wid, me
    # made with --scope '*': shown as "*" or as every scope
    assert me["token"]["scopes"] == ["*"] or set(me["token"]["scopes"]) == ALL_SCOPES, me
    assert me["password_change_required"] is False, me
    assert "csrf_token" not in me, "a token caller got a csrf_token: %r" % me


def test_token_without_scope_is_403_insufficient_scope(inst):
    tok = inst.read_token
    expect(inst.get(inst.ws("/channels"), token=tok), 200)
    expect(inst.post(inst.ws("/channels"), json={"kind": "feed", "settings": harness.FEED, "name": "scoped"}, token=tok),
           403, "insufficient_scope")
    expect(inst.get(inst.ws("/members"), token=tok), 403, "insufficient_scope")
    expect(inst.get(inst.ws("/tokens"), token=tok), 403, "insufficient_scope")
    names = [c["name"] for c in harness.list_all(inst, inst.ws("/channels"))]
    assert "scoped" not in names, "the refused channel was created anyway"


def test_viewer_with_star_token_cannot_write_channels(inst):
    tok = inst.viewer_token
    expect(inst.get(inst.ws("/channels"), token=tok), 200)
    expect(inst.post(inst.ws("/channels"), json={"kind": "feed", "settings": harness.FEED, "name": "by-viewer"}, token=tok),
           403, "forbidden")
    expect(inst.get(inst.ws("/tokens"), token=tok), 403, "forbidden")
    expect(inst.get(inst.ws("/audit"), token=tok), 403, "forbidden")
    expect(inst.patch(inst.ws(), json={"name": "Hijacked"}, token=tok), 403, "forbidden")


def test_editor_writes_channels_but_not_members(inst):
    tok = inst.editor_token
    ch = expect(inst.post(inst.ws("/channels"), json={"kind": "feed", "settings": harness.FEED, "name": "by-editor"}, token=tok), 201)
    expect(inst.patch(inst.ws("/channels/%d" % ch["id"]), json={"name": "by-editor-2"}, token=tok), 200)
    expect(inst.get(inst.ws("/members"), token=tok), 200)
    expect(inst.post(inst.ws("/invitations"), json={"email": "e2@example.com", "role": "owner"}, token=tok),
           403, "forbidden")
    expect(inst.post(inst.ws("/tokens"), json={"name": "x", "scopes": ["*"]}, token=tok), 403, "forbidden")
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"]), token=tok), 204)


def test_login_sets_httponly_samesite_strict_cookie(inst):
    r = request(inst.port, "POST", "/api/v1/auth/login",
                json={"email": harness.OWNER_EMAIL, "password": harness.OWNER_PASSWORD})
    doc = expect(r, 200)
    assert doc["user"]["email"] == harness.OWNER_EMAIL, doc
    assert isinstance(doc["csrf_token"], str) and len(doc["csrf_token"]) >= 16, doc
    assert doc["password_change_required"] is False, doc
    val, attrs = session_cookie(r)
    assert val, "no samtale_session cookie in %r" % r.headers.get_all("Set-Cookie")
    assert attrs.get("httponly") is True, "cookie is not HttpOnly: %r" % attrs
    assert str(attrs.get("samesite", "")).lower() == "strict", "cookie is not SameSite=Strict: %r" % attrs
    assert val != doc["csrf_token"], "the CSRF token equals the session cookie"


def test_session_cookie_and_csrf(inst):
    cookie, csrf, _ = inst.login()
    me = expect(inst.get("/api/v1/me", token=None, cookie=cookie), 200)
    assert me["auth"] == "session", me
    assert me["csrf_token"] == csrf, "GET /me csrf_token differs from login's: %r" % me
    path = inst.ws("/channels")
    body = {"kind": "feed", "settings": harness.FEED, "name": "via-session"}
    expect(inst.post(path, json=body, token=None, cookie=cookie), 403, "csrf_failed")
    expect(inst.post(path, json=body, token=None, cookie=cookie, csrf=csrf + "x"), 403, "csrf_failed")
    expect(inst.post(path, json=body, token=None, cookie=cookie, csrf=""), 403, "csrf_failed")
    ch = expect(inst.post(path, json=body, token=None, cookie=cookie, csrf=csrf), 201)
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"]), token=None, cookie=cookie), 403, "csrf_failed")
    expect(inst.get(inst.ws("/channels/%d" % ch["id"]), token=None, cookie=cookie), 200)
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"]), token=None, cookie=cookie, csrf=csrf), 204)


def test_logout_ends_the_session(inst):
    cookie, csrf, _ = inst.login()
    expect(inst.get("/api/v1/me", token=None, cookie=cookie), 200)
    expect(inst.post("/api/v1/auth/logout", token=None, cookie=cookie), 403, "csrf_failed")
    r = inst.post("/api/v1/auth/logout", token=None, cookie=cookie, csrf=csrf)
    expect(r, 204)
    val, attrs = session_cookie(r)
    assert val is not None, "logout sent no samtale_session cookie: %r" % r.headers.get_all("Set-Cookie")
    cleared = val == "" or attrs.get("max-age") == "0" or "expires" in attrs
    assert cleared, "logout did not clear the cookie: %r" % r.headers.get_all("Set-Cookie")
    expect(inst.get("/api/v1/me", token=None, cookie=cookie), 401, "unauthorized")
    expect(inst.get("/api/v1/workspaces", token=None, cookie=cookie), 401, "unauthorized")


def test_wrong_password_is_401_invalid_credentials(inst):
    expect(request(inst.port, "POST", "/api/v1/auth/login",
                   json={"email": harness.OWNER_EMAIL, "password": "wrong-password-1"}),
           401, "invalid_credentials")
    expect(request(inst.port, "POST", "/api/v1/auth/login",
                   json={"email": "nobody@example.com", "password": "wrong-password-1"}),
           401, "invalid_credentials")
    expect(request(inst.port, "POST", "/api/v1/auth/login", json={"email": harness.OWNER_EMAIL}),
           422, "validation_failed", field="password")


def test_login_rate_limit(inst):
    def attempt(pw):
        return request(inst.port, "POST", "/api/v1/auth/login", json={"email": LIMITED, "password": pw})
    expect(attempt(PASSWORD), 200)
    for i in range(5):
        expect(attempt("wrong-%d-password" % i), 401, "invalid_credentials")
    r = attempt("wrong-5-password")
    expect(r, 429, "rate_limited")
    ra = r.header("Retry-After")
    assert ra is not None and ra.isdigit() and 0 < int(ra) <= 15 * 60, "Retry-After is %r" % ra
    # the window holds even for the right password ...
    r = attempt(PASSWORD)
    expect(r, 429, "rate_limited")
    assert r.header("Retry-After"), "second 429 without Retry-After"
    # ... and is per email: the owner still logs in
    inst.login()


def test_login_rate_limit_per_address():
    # a server of its own: this locks 127.0.0.1 out of logging in for 15 minutes
    inst = harness.Instance()
    try:
        inst.prepare().start()
        for i in range(20):
            expect(request(inst.port, "POST", "/api/v1/auth/login",
                           json={"email": "nobody%d@example.com" % i, "password": "wrong-password"}),
                   401, "invalid_credentials")
        r = request(inst.port, "POST", "/api/v1/auth/login",
                    json={"email": "nobody-else@example.com", "password": "wrong-password"})
        expect(r, 429, "rate_limited")
        assert (r.header("Retry-After") or "").isdigit(), "Retry-After is %r" % r.header("Retry-After")
        r = request(inst.port, "POST", "/api/v1/auth/login",
                    json={"email": harness.OWNER_EMAIL, "password": harness.OWNER_PASSWORD})
        expect(r, 429, "rate_limited")
        # tokens are not logins: the API still answers
        expect(inst.get("/api/v1/me"), 200)
    finally:
        inst.close()
