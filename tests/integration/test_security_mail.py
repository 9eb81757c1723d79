"""Mail that the security rules send, through a real SMTP server on loopback
(tests/peers/smtp_server.py on aiosmtpd): with mail configured, an invitation's link goes
to the invited mailbox and never to the inviter; renewing sends a new one; an account's
owner is mailed when its failed logins reach five."""

import re

import harness
import peers
from harness import expect, request


def setup_module():
    inst = harness.Instance()
    try:
        inst.prepare()
        inst.smtp = peers.SmtpPeer(inst.dir)
        inst.server = harness.Server(inst.db, inst.dir, env={
            "SAMTALE_SMTP_URL": "smtp://127.0.0.1:%d" % inst.smtp.port,
            "SAMTALE_SMTP_SECURITY": "none",
            "SAMTALE_SMTP_FROM": "samtale@example.com",
        }).start()
        me = expect(inst.get("/api/v1/me"), 200)
        inst.owner_id = me["user"]["id"]
        inst.wid = me["token"]["workspace_id"]
    except BaseException:
        if getattr(inst, "smtp", None):
            inst.smtp.stop()
        inst.close()
        raise
    return inst


def teardown_module(inst):
    try:
        inst.smtp.stop()
    finally:
        inst.close()


def mails_to(inst, addr, n):
    """Waits until the peer has n messages to addr; returns them."""
    def got():
        ms = [m for m in inst.smtp.messages() if addr in str(m["To"])]
        return ms if len(ms) >= n else None
    return harness.wait_until(got, "%d mail(s) to %s" % (n, addr))


def link_in(msg):
    body = msg.get_body(preferencelist=("plain",)).get_content()
    m = re.search(r"(https?://\S+/#/invite/(inv_[A-Za-z0-9_-]+))", body)
    assert m, body
    return m.group(1), m.group(2), body


def test_an_invitation_is_mailed_and_its_link_is_never_shown(inst):
    inv = expect(inst.post(inst.ws("/invitations"), json={"email": "mailed@example.com", "role": "editor",
                                                          "language": "nb"}), 201)
    assert inv["delivery"] == "email" and "link" not in inv, inv
    msg = mails_to(inst, "mailed@example.com", 1)[0]
    assert "inviterer deg" in str(msg["Subject"]), msg["Subject"]
    link, secret, body = link_in(msg)
    assert "Acme" in body and "redaktør" in body, body
    assert secret not in inst.get(inst.ws("/invitations")).text
    assert not harness.db_contains(inst.db, secret), "the mailed link's secret is stored"
    conn = harness.db_connect(inst.db, readonly=True)
    try:
        rows = harness.wait_until(lambda: conn.execute(
            "SELECT sealed, body FROM mail_outbox WHERE kind = 'invitation' AND state = 'sent'").fetchall(),
            "the invitation mail recorded as sent")
    finally:
        conn.close()
    assert rows == [(1, "")], rows    # sealed while queued, emptied once sent
    # Renewing mails a new link; the first stops working.
    again = expect(inst.post(inst.ws("/invitations/%d/renew" % inv["id"])), 200)
    assert "link" not in again, again
    _, secret2, _ = link_in(mails_to(inst, "mailed@example.com", 2)[1])
    assert secret2 != secret
    expect(request(inst.port, "POST", "/api/v1/invitations/%s/accept" % secret, json={"password": "mailed-pass-1"}),
           404, "not_found")
    expect(request(inst.port, "POST", "/api/v1/invitations/%s/accept" % secret2, json={"password": "mailed-pass-1"}),
           201)


def test_the_owner_is_mailed_after_five_failed_logins(inst):
    email = "alerted@example.com"
    inv = expect(inst.post(inst.ws("/invitations"), json={"email": email, "role": "viewer"}), 201)
    _, secret, _ = link_in(mails_to(inst, email, 1)[0])
    expect(request(inst.port, "POST", "/api/v1/invitations/%s/accept" % secret, json={"password": "alerted-pass-1"}),
           201)
    assert inv["id"]
    for i in range(5):
        expect(request(inst.port, "POST", "/api/v1/auth/login", json={"email": email, "password": "guess-%d-xxxx" % i},
                       source="127.0.0.%d" % (60 + i)), 401)
    alert = mails_to(inst, email, 2)[1]
    body = alert.get_body(preferencelist=("plain",)).get_content()
    assert "5 times" in body and "127.0.0.64" in body, body
    # More failures the same day send nothing more.
    for i in range(3):
        request(inst.port, "POST", "/api/v1/auth/login", json={"email": email, "password": "guess-more-%d" % i},
                source="127.0.0.%d" % (70 + i))
    assert len([m for m in inst.smtp.messages() if email in str(m["To"])]) == 2
