"""First start: `serve` on an empty database makes a workspace and an owner, prints a
one-time password, and that password must be changed before anything else works."""

import re

import harness
from harness import expect, request

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*")


def _one_time_password(line):
    # "...password...: SECRET" -> SECRET (the wording is the server's; the token after the
    # last colon is the password)
    tail = line.rsplit(":", 1)[-1].strip().strip("'\"`")
    assert tail and " " not in tail, "cannot read a password from %r" % line
    return tail


def test_first_start_prints_one_time_password():
    inst = harness.Instance()
    try:
        inst.start()
        srv = inst.server
        line = srv.wait_line(lambda l: "password" in l.lower() and ":" in l)
        otp = _one_time_password(line)
        # prefer a line that says "email: ..."; else any address printed
        emails = [l.rsplit(":", 1)[-1].strip() for l in srv.lines
                  if "email" in l.lower() and ":" in l and EMAIL_RE.fullmatch(l.rsplit(":", 1)[-1].strip())]
        emails += [m.group(0) for l in srv.lines for m in EMAIL_RE.finditer(l)]
        assert emails, "the first start names no owner account: %r" % srv.lines
        email = emails[0]
        assert not harness.db_contains(inst.db, otp), "the one-time password is stored in plain text"

        r = request(inst.port, "POST", "/api/v1/auth/login", json={"email": email, "password": otp})
        doc = expect(r, 200)
        assert doc["password_change_required"] is True, doc
        cookie, _ = harness.session_cookie(r)
        csrf = doc["csrf_token"]
        assert cookie, "login set no cookie"

        me = expect(inst.get("/api/v1/me", token=None, cookie=cookie), 200)
        assert me["password_change_required"] is True and me["user"]["email"] == email, me
        assert me["memberships"] and me["memberships"][0]["role"] == "owner", me
        expect(inst.get("/api/v1/workspaces", token=None, cookie=cookie), 403, "password_change_required")
        wid = me["memberships"][0]["workspace_id"]
        expect(inst.post("/api/v1/workspaces/%d/channels" % wid, json={"kind": "feed", "settings": harness.FEED, "name": "early"},
                         token=None, cookie=cookie, csrf=csrf), 403, "password_change_required")

        expect(inst.post("/api/v1/me/password", json={"current_password": otp, "new_password": "short"},
                         token=None, cookie=cookie, csrf=csrf), 422, "validation_failed", field="new_password")
        expect(inst.post("/api/v1/me/password", json={"current_password": otp, "new_password": "x" * 257},
                         token=None, cookie=cookie, csrf=csrf), 422, "validation_failed", field="new_password")
        expect(inst.post("/api/v1/me/password", json={"current_password": otp, "new_password": "new-password-123"},
                         token=None, cookie=cookie), 403, "csrf_failed")
        expect(inst.post("/api/v1/me/password", json={"current_password": otp, "new_password": "new-password-123"},
                         token=None, cookie=cookie, csrf=csrf), 204)

        doc = expect(inst.get("/api/v1/workspaces", token=None, cookie=cookie), 200)
        assert len(doc["items"]) == 1 and doc["items"][0]["role"] == "owner", doc
        assert expect(inst.get("/api/v1/me", token=None, cookie=cookie), 200)["password_change_required"] is False

        expect(request(inst.port, "POST", "/api/v1/auth/login", json={"email": email, "password": otp}),
               401, "invalid_credentials")
        doc = expect(request(inst.port, "POST", "/api/v1/auth/login",
                             json={"email": email, "password": "new-password-123"}), 200)
        assert doc["password_change_required"] is False, doc

        # not the first start any more: no new account, no password printed
        inst.restart()
        lines = list(inst.server.lines)
        assert not any("password" in l.lower() for l in lines), "a second start printed a password: %r" % lines
        doc = expect(request(inst.port, "POST", "/api/v1/auth/login",
                             json={"email": email, "password": "new-password-123"}), 200)
    finally:
        inst.close()


def test_prepared_database_prints_no_password():
    inst = harness.Instance()
    try:
        inst.prepare().start()
        lines = list(inst.server.lines)
        assert not any("password" in l.lower() for l in lines), \
            "serve on a database with accounts printed a password: %r" % lines
        doc = expect(inst.get("/api/v1/workspaces"), 200)
        assert [w["name"] for w in doc["items"]] == [harness.WORKSPACE], doc
    finally:
        inst.close()
