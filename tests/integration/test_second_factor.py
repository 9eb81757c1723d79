"""The second factor (X6): enrolment with a QR code the server renders, logins with codes
from an authenticator app (Debian's python3-pyotp plays the app), recovery codes, the
limits on codes, and a workspace's rule that owners and editors must use it."""

import base64
import time

import harness
from harness import expect, request, session_cookie

try:
    import pyotp
except ImportError:      # Debian's python3-pyotp: scripts/deps.sh installs it
    pyotp = None

PASSWORD = "a-good-password-42"


def setup_module():
    if pyotp is None:
        raise harness.Skip("python3-pyotp is not installed (scripts/deps.sh installs it)")
    return harness.module_instance()


def teardown_module(inst):
    harness.close_instance(inst)


def session(inst, email, password=PASSWORD):
    r = request(inst.port, "POST", "/api/v1/auth/login", json={"email": email, "password": password})
    doc = expect(r, 200)
    return session_cookie(r)[0], doc["csrf_token"]


def enrol(inst, email, try_wrong=True):
    """Turns the second factor on for email; returns (pyotp.TOTP, recovery codes). The app
    object remembers the codes the server has seen (app.used): a code works once."""
    cookie, csrf = session(inst, email)
    # The password first: a session alone cannot tie the account to another app.
    expect(request(inst.port, "POST", "/api/v1/me/second-factor", json={}, cookie=cookie, csrf=csrf), 422,
           "validation_failed", field="password")
    if try_wrong:
        expect(request(inst.port, "POST", "/api/v1/me/second-factor", json={"password": "not-the-password"},
                       cookie=cookie, csrf=csrf), 422, "validation_failed", field="password")
    doc = expect(request(inst.port, "POST", "/api/v1/me/second-factor", json={"password": PASSWORD},
                         cookie=cookie, csrf=csrf), 201)
    assert doc["otpauth_uri"].startswith("otpauth://totp/samtale:"), doc["otpauth_uri"]
    assert "secret=" + doc["secret"] in doc["otpauth_uri"], doc
    assert doc["qr_code"].startswith("data:image/svg+xml;base64,"), doc["qr_code"][:60]
    svg = base64.b64decode(doc["qr_code"].split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and "<script" not in svg and "<path" in svg, svg[:200]
    app = pyotp.TOTP(doc["secret"])
    app.used = set()     # time steps whose codes the server has seen
    if try_wrong:
        # A wrong code does not turn it on.
        expect(request(inst.port, "POST", "/api/v1/me/second-factor/confirm", json={"code": "000000"},
                       cookie=cookie, csrf=csrf), 422, "validation_failed", field="code")
    me = expect(request(inst.port, "GET", "/api/v1/me", cookie=cookie), 200)
    assert me["second_factor"] == {"enabled": False}, me
    on = expect(request(inst.port, "POST", "/api/v1/me/second-factor/confirm", json={"code": next_code(app)},
                        cookie=cookie, csrf=csrf), 200)
    codes = on["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    me = expect(request(inst.port, "GET", "/api/v1/me", cookie=cookie), 200)
    assert me["second_factor"] == {"enabled": True, "recovery_codes_left": 10}, me
    for c in codes:
        assert not harness.db_contains(inst.db, c), "a recovery code is stored as it is"
    assert not harness.db_contains(inst.db, doc["secret"]), "the TOTP secret is stored unsealed"
    return app, codes


def next_code(app):
    """A code the server has not seen yet. The server takes the step before, at and after
    now, each once: this gives the next unused step that is still in that window (the app
    shows it now or within 30 s), waiting for the clock only when none is left."""
    deadline = time.monotonic() + 35
    while True:
        now_step = int(time.time()) // 30
        step = max(app.used | {now_step - 1}) + 1 if app.used else now_step
        if step <= now_step + 1:
            app.used.add(step)
            return app.at(step * 30)
        assert time.monotonic() < deadline, "no new code within 35 s"
        time.sleep(0.2)


def start_login(inst, email, password=PASSWORD):
    r = request(inst.port, "POST", "/api/v1/auth/login", json={"email": email, "password": password})
    doc = expect(r, 401, "second_factor_required")
    assert session_cookie(r)[0] is None, "a session before the second factor"
    ch = doc["error"]["challenge"]
    assert ch.startswith("mfa_") and doc["error"]["expires_in"] == 300, doc
    return ch


def answer(inst, challenge, **kw):
    return request(inst.port, "POST", "/api/v1/auth/second-factor", json=dict(challenge=challenge, **kw))


def test_login_with_a_code_from_the_app(inst):
    email = "totp-user@example.com"
    harness.add_member(inst, email, "editor")
    app, _ = enrol(inst, email)
    ch = start_login(inst, email)
    expect(answer(inst, ch, code="123456" if app.now() != "123456" else "654321"), 401, "invalid_code")
    code = next_code(app)
    r = answer(inst, ch, code=code)
    doc = expect(r, 200)
    assert doc["user"]["email"] == email and session_cookie(r)[0], doc
    # The challenge is used up, and the code too: a replay gets nowhere.
    expect(answer(inst, ch, code=code), 401)
    ch2 = start_login(inst, email)
    r = expect(answer(inst, ch2, code=code), 401, "invalid_code")
    assert "used already" in r["error"]["message"], r
    # A wrong password never reaches the code step.
    expect(request(inst.port, "POST", "/api/v1/auth/login", json={"email": email, "password": "wrong-password-1"}),
           401, "invalid_credentials")


def test_a_challenge_takes_five_wrong_codes_and_an_account_ten(inst):
    email = "guessed@example.com"
    harness.add_member(inst, email, "viewer")
    app, _ = enrol(inst, email, try_wrong=False)
    wrong = [c for c in ("111111", "222222", "333333", "444444", "555555", "666666", "777777", "888888",
                         "999999", "000001", "000002", "000003") if c not in {app.at(time.time() + d)
                                                                             for d in (-60, -30, 0, 30, 60)}]
    ch = start_login(inst, email)
    for i in range(5):
        r = expect(answer(inst, ch, code=wrong[i]), 401, "invalid_code")
    assert "last try" in r["error"]["message"], r
    expect(answer(inst, ch, code=app.now()), 401)   # the challenge is gone
    ch = start_login(inst, email)
    for i in range(5, 10):
        expect(answer(inst, ch, code=wrong[i]), 401)
    # Ten wrong codes on the account: a fresh challenge does not give new tries.
    ch = start_login(inst, email)
    r = answer(inst, ch, code=app.now())
    expect(r, 429, "rate_limited")
    assert int(r.header("Retry-After")) > 0


def test_recovery_codes_work_once_and_can_be_renewed(inst):
    email = "lost-phone@example.com"
    harness.add_member(inst, email, "viewer")
    app, codes = enrol(inst, email)
    ch = start_login(inst, email)
    expect(answer(inst, ch, recovery_code=codes[0].upper().replace("-", " ")), 200)
    ch = start_login(inst, email)
    expect(answer(inst, ch, recovery_code=codes[0]), 401, "invalid_code")
    expect(answer(inst, ch, code=app.now(), recovery_code=codes[1]), 422, "validation_failed")
    cookie, csrf = session_after(inst, email, recovery=codes[1])
    me = expect(request(inst.port, "GET", "/api/v1/me", cookie=cookie), 200)
    assert me["second_factor"]["recovery_codes_left"] == 8, me
    expect(request(inst.port, "POST", "/api/v1/me/second-factor/recovery-codes",
                   json={"password": "nope-nope-1", "recovery_code": codes[2]}, cookie=cookie, csrf=csrf),
           422, "validation_failed", field="password")
    # The password alone is not enough (else it would be a way around the code that turning
    # the factor off asks for), nor a used code.
    expect(request(inst.port, "POST", "/api/v1/me/second-factor/recovery-codes", json={"password": PASSWORD},
                   cookie=cookie, csrf=csrf), 422, "validation_failed", field="code")
    expect(request(inst.port, "POST", "/api/v1/me/second-factor/recovery-codes",
                   json={"password": PASSWORD, "recovery_code": codes[0]}, cookie=cookie, csrf=csrf),
           422, "validation_failed", field="recovery_code")
    new = expect(request(inst.port, "POST", "/api/v1/me/second-factor/recovery-codes",
                         json={"password": PASSWORD, "code": next_code(app)}, cookie=cookie, csrf=csrf),
                 200)["recovery_codes"]
    ch = start_login(inst, email)
    expect(answer(inst, ch, recovery_code=codes[2]), 401, "invalid_code")    # the old set is gone
    expect(answer(inst, ch, recovery_code=new[0]), 200)


def session_after(inst, email, code=None, recovery=None):
    ch = start_login(inst, email)
    r = answer(inst, ch, **({"code": code} if code else {"recovery_code": recovery}))
    doc = expect(r, 200)
    return session_cookie(r)[0], doc["csrf_token"]


def test_a_new_password_ends_the_logins_waiting_for_a_code(inst):
    """Someone who had the old password holds a challenge; the owner changes the password
    (or the operator sets one): that challenge must not give a session any more, with a
    code or a recovery code."""
    email = "changed-password@example.com"
    harness.add_member(inst, email, "viewer")
    app, codes = enrol(inst, email)
    stolen = start_login(inst, email)
    cookie, csrf = session_after(inst, email, code=next_code(app))
    new_password = PASSWORD + "-new"
    expect(request(inst.port, "POST", "/api/v1/me/password",
                   json={"current_password": PASSWORD, "new_password": new_password}, cookie=cookie, csrf=csrf), 204)
    expect(answer(inst, stolen, recovery_code=codes[0]), 401)
    expect(answer(inst, stolen, code=next_code(app)), 401)
    # The same when the operator sets the password.
    stolen = start_login(inst, email, new_password)
    harness.cli_ok(inst.db, "user", "passwd", "--email", email, "--password-stdin", input=PASSWORD + "\n")
    expect(answer(inst, stolen, recovery_code=codes[1]), 401)
    # The owner's own login with the new password and an unused code still works.
    expect(answer(inst, start_login(inst, email), recovery_code=codes[2]), 200)


def test_a_session_cannot_be_used_to_guess_the_password(inst):
    """A browser left open gives a session, not the password. The routes of a session that
    check the password (a new password, new recovery codes) take 10 wrong ones between
    them, like the login; then even the right one waits."""
    email = "open-browser@example.com"
    harness.add_member(inst, email, "viewer")
    app, _ = enrol(inst, email, try_wrong=False)
    cookie, csrf = session_after(inst, email, code=next_code(app))
    for i in range(10):
        if i % 2:
            expect(request(inst.port, "POST", "/api/v1/me/password",
                           json={"current_password": "guess-%02d-password" % i, "new_password": "whatever-pw-123"},
                           cookie=cookie, csrf=csrf), 422, "validation_failed", field="current_password")
        else:
            expect(request(inst.port, "POST", "/api/v1/me/second-factor/recovery-codes",
                           json={"password": "guess-%02d-password" % i, "code": "123456"}, cookie=cookie, csrf=csrf),
                   422, "validation_failed", field="password")
    r = request(inst.port, "POST", "/api/v1/me/second-factor/recovery-codes",
                json={"password": PASSWORD, "code": next_code(app)}, cookie=cookie, csrf=csrf)
    expect(r, 429, "rate_limited")
    assert int(r.header("Retry-After")) > 0
    expect(request(inst.port, "POST", "/api/v1/me/password",
                   json={"current_password": PASSWORD, "new_password": "whatever-pw-123"}, cookie=cookie, csrf=csrf),
           429, "rate_limited")


def test_turning_it_off_needs_the_password_and_a_code(inst):
    email = "turn-off@example.com"
    harness.add_member(inst, email, "viewer")
    app, codes = enrol(inst, email)
    cookie, csrf = session_after(inst, email, recovery=codes[0])
    expect(request(inst.port, "POST", "/api/v1/me/second-factor", json={"password": PASSWORD}, cookie=cookie,
                   csrf=csrf), 409, "conflict")
    expect(request(inst.port, "POST", "/api/v1/me/second-factor/disable",
                   json={"password": "wrong-password-1", "recovery_code": codes[1]}, cookie=cookie, csrf=csrf),
           422, "validation_failed", field="password")
    expect(request(inst.port, "POST", "/api/v1/me/second-factor/disable", json={"password": PASSWORD},
                   cookie=cookie, csrf=csrf), 422, "validation_failed")
    expect(request(inst.port, "POST", "/api/v1/me/second-factor/disable",
                   json={"password": PASSWORD, "recovery_code": codes[1]}, cookie=cookie, csrf=csrf), 204)
    expect(request(inst.port, "POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD}), 200)


def test_a_workspace_can_require_it_of_owners_and_editors(inst):
    editor, viewer = "ws-editor@example.com", "ws-viewer@example.com"
    harness.add_member(inst, editor, "editor")
    harness.add_member(inst, viewer, "viewer")
    editor_token = inst.create_token("editor-script", "*", user=editor)
    owner_cookie, owner_csrf = session(inst, harness.OWNER_EMAIL, harness.OWNER_PASSWORD)
    # An owner without the factor cannot turn the rule on (it would lock them out).
    expect(request(inst.port, "PATCH", inst.ws(), json={"require_second_factor": True}, cookie=owner_cookie,
                   csrf=owner_csrf), 409, "conflict", field="require_second_factor")
    doc = expect(request(inst.port, "POST", "/api/v1/me/second-factor", json={"password": harness.OWNER_PASSWORD},
                         cookie=owner_cookie, csrf=owner_csrf), 201)
    owner_app = pyotp.TOTP(doc["secret"])
    expect(request(inst.port, "POST", "/api/v1/me/second-factor/confirm", json={"code": owner_app.now()},
                   cookie=owner_cookie, csrf=owner_csrf), 200)
    # One refusal leaves the workspace as it was: a bad time zone does not turn the rule on.
    expect(request(inst.port, "PATCH", inst.ws(), json={"require_second_factor": True, "timezone": "Mars/Olympus"},
                   cookie=owner_cookie, csrf=owner_csrf), 422, "validation_failed", field="timezone")
    assert expect(inst.get(inst.ws()), 200)["require_second_factor"] is False
    ws = expect(request(inst.port, "PATCH", inst.ws(), json={"require_second_factor": True}, cookie=owner_cookie,
                        csrf=owner_csrf), 200)
    assert ws["require_second_factor"] is True, ws
    try:
        # The editor, without the factor: stopped in this workspace, by session and by token.
        ecookie, ecsrf = session(inst, editor)
        r = expect(request(inst.port, "GET", inst.ws("/channels"), cookie=ecookie), 403, "second_factor_required")
        assert "two-step" in r["error"]["message"], r
        expect(inst.get(inst.ws("/posts"), token=editor_token), 403, "second_factor_required")
        me = expect(request(inst.port, "GET", "/api/v1/me", cookie=ecookie), 200)
        acme = [m for m in me["memberships"] if m["workspace_id"] == inst.wid][0]
        assert acme["second_factor_required"] is True, me
        # The viewer is not asked.
        vcookie, _ = session(inst, viewer)
        expect(request(inst.port, "GET", inst.ws("/channels"), cookie=vcookie), 200)
        # Once the editor turns it on, the workspace opens.
        d = expect(request(inst.port, "POST", "/api/v1/me/second-factor", json={"password": PASSWORD}, cookie=ecookie,
                           csrf=ecsrf), 201)
        expect(request(inst.port, "POST", "/api/v1/me/second-factor/confirm", json={"code": pyotp.TOTP(d["secret"]).now()},
                       cookie=ecookie, csrf=ecsrf), 200)
        expect(request(inst.port, "GET", inst.ws("/channels"), cookie=ecookie), 200)
        expect(inst.get(inst.ws("/posts"), token=editor_token), 200)
        # The operator can take the factor away from someone who lost phone and codes.
        harness.cli_ok(inst.db, "user", "reset-second-factor", "--email", editor)
        expect(request(inst.port, "GET", inst.ws("/channels"), cookie=ecookie), 401, "unauthorized")
        expect(request(inst.port, "POST", "/api/v1/auth/login", json={"email": editor, "password": PASSWORD}), 200)
    finally:
        # The other tests of this file log in as the owner with a password only.
        harness.cli_ok(inst.db, "user", "reset-second-factor", "--email", harness.OWNER_EMAIL)
        conn = harness.db_connect(inst.db)
        try:
            conn.execute("UPDATE workspaces SET require_second_factor = 0")
            conn.commit()
        finally:
            conn.close()


def test_a_guesser_with_the_password_cannot_keep_the_owner_from_their_code(inst):
    """Someone who knows the password can spend the account's ten wrong codes a window; the
    owner's own browser (it logged in before: the device cookie) counts on its own."""
    email = "owner-device@example.com"
    harness.add_member(inst, email, "viewer")
    app, codes = enrol(inst, email)
    ch = start_login(inst, email)
    r = answer(inst, ch, recovery_code=codes[0])
    expect(r, 200)
    device = [v for v in r.headers.get_all("Set-Cookie") if v.startswith("samtale_device=")]
    assert device, r.headers.get_all("Set-Cookie")
    device = device[0].split(";", 1)[0].split("=", 1)[1]
    wrong = "000000" if "000000" not in {app.at(time.time() + d) for d in (-60, -30, 0, 30, 60)} else "999999"
    for _ in range(2):
        ch = start_login(inst, email)
        for _ in range(5):
            answer(inst, ch, code=wrong)
    expect(answer(inst, start_login(inst, email), code=app.now()), 429, "rate_limited")
    # The owner's browser: the login goes through.
    r = request(inst.port, "POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD},
                headers={"Cookie": "samtale_device=" + device})
    ch = expect(r, 401, "second_factor_required")["error"]["challenge"]
    r = request(inst.port, "POST", "/api/v1/auth/second-factor", json={"challenge": ch, "code": next_code(app)},
                headers={"Cookie": "samtale_device=" + device})
    expect(r, 200)

