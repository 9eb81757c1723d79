"""Email (docs/operations.md, Email; docs/cli.md, mail): `samtale mail test` and the outbox
sent by `samtale serve`, against a real SMTP server on loopback (tests/peers/smtp_server.py
on aiosmtpd): plain delivery to a relay, STARTTLS and implicit TLS with a certificate made
here and trusted through smtp_ca_file, AUTH refused, 550 failing at once, 451 retried, a
server that is down when the mail is queued, UTF-8 intact, and the outbound address
policy refusing loopback before any connection.

Nothing sleeps: every wait polls `samtale mail list --json` or the peer's folder with a
deadline, and retries are made quick with smtp_retry_s = 1."""

import os
import re
import shutil
import socket
import subprocess
import time

import harness
from harness import expect
from peers import SmtpPeer

FROM = "samtale@example.com"
RETRY_WAIT = 30.0   # deadline for a retry to come round (waits of 1, 2, 4... seconds)


def mail_env(port, security="none", scheme="smtp", **extra):
    """The SAMTALE_* settings that send through the peer on port."""
    env = {"SAMTALE_SMTP_URL": "%s://127.0.0.1:%d" % (scheme, port), "SAMTALE_SMTP_SECURITY": security,
           "SAMTALE_SMTP_FROM": FROM, "SAMTALE_SMTP_RETRY_S": "1", "SAMTALE_SMTP_TIMEOUT_MS": "10000"}
    env.update(extra)
    return env


def outbox(db, env=None):
    return harness.cli_json(db, "mail", "list", env=env)


def row(db, mail_id, env=None):
    for r in outbox(db, env):
        if r["id"] == mail_id:
            return r
    raise AssertionError("no outbox row %d" % mail_id)


def queue(db, to, env, subject=None, text=None):
    args = ["mail", "test", "--to", to, "--queue"]
    if subject:
        args += ["--subject", subject]
    if text:
        args += ["--text", text]
    doc = harness.cli_json(db, *args, env=env)
    assert doc["state"] == "queued", doc
    return doc["id"]


def make_cert(workdir):
    """A self-signed certificate for 127.0.0.1 (and localhost), made now with openssl."""
    if not shutil.which("openssl"):
        raise AssertionError("openssl is needed to make a test certificate (scripts/deps.sh installs it)")
    cert, key = os.path.join(workdir, "smtp-cert.pem"), os.path.join(workdir, "smtp-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=harness.TIMEOUT)
    return cert, key


def free_port():
    """A loopback port nobody listens on (bound, read, closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(inst, env):
    inst.server = harness.Server(inst.db, inst.dir, env=env).start()
    return inst.server


def test_plain_delivery_to_a_relay_and_the_outbox():
    inst = harness.Instance()
    peer = SmtpPeer(inst.dir)
    try:
        env = mail_env(peer.port)
        p = harness.cli_ok(inst.db, "mail", "test", "--to", "ada@example.com", env=env)
        assert "sent to ada@example.com" in p.stdout and "250" in p.stdout, p.stdout

        msgs = peer.messages()
        assert len(msgs) == 1, msgs
        m = msgs[0]
        assert m["From"] == FROM and m["To"] == "ada@example.com", dict(m)
        assert m["Subject"] == "samtale test message"
        assert re.fullmatch(r"<\d+\.\d+\.samtale@example\.com>", m["Message-ID"]), m["Message-ID"]
        assert m["Date"] and m["MIME-Version"] == "1.0"
        assert m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8"
        assert m["Content-Transfer-Encoding"] == "quoted-printable"
        assert "samtale can send email" in m.get_content()
        ev = peer.events("message")[0]
        assert ev["mail_from"] == FROM and ev["rcpt_tos"] == ["ada@example.com"] and ev["tls"] is False, ev

        rows = outbox(inst.db)
        assert len(rows) == 1, rows
        r = rows[0]
        assert r["state"] == "sent" and r["attempts"] == 1 and r["kind"] == "test", r
        assert r["recipient"] == "ada@example.com" and r["sent_at"], r
        assert "queued as TEST0001" in r["reply"] and r["last_error"] is None, r
        table = harness.cli_ok(inst.db, "mail", "list").stdout
        assert "ada@example.com" in table and "sent" in table, table

        # A subject that tries to add a header is refused before anything is stored or sent.
        bad = harness.run_cli(inst.db, "mail", "test", "--to", "ada@example.com", "--subject",
                              "Hi\r\nBcc: eve@example.com", env=env)
        assert bad.returncode == 5, (bad.returncode, bad.stderr)
        assert "subject" in bad.stderr and "one line" in bad.stderr, bad.stderr
        bad = harness.run_cli(inst.db, "mail", "test", "--to", "Ada <ada@example.com>", env=env)
        assert bad.returncode == 5, (bad.returncode, bad.stderr)
        assert len(outbox(inst.db)) == 1 and len(peer.messages()) == 1

        # Without smtp_url a message waits in the outbox, and says so.
        p = harness.cli_ok(inst.db, "mail", "test", "--to", "bob@example.com", "--queue")
        assert "not configured" in p.stdout, p.stdout
        p = harness.run_cli(inst.db, "mail", "test", "--to", "bob@example.com")
        assert p.returncode == 1 and "smtp_url" in p.stderr, (p.returncode, p.stderr)

        # The password is masked by `samtale config`.
        p = harness.cli_ok(inst.db, "config", env=dict(env, SAMTALE_SMTP_PASSWORD="hunter2-not-shown"))
        assert "hunter2-not-shown" not in p.stdout, p.stdout
        assert re.search(r"smtp_password\s+\*\*\*\*", p.stdout), p.stdout
    finally:
        peer.stop()
        inst.close()


def test_utf8_subject_and_body_arrive_intact():
    inst = harness.Instance()
    peer = SmtpPeer(inst.dir)
    subject = "Invitasjon: blåbærsyltetøy på Ærø ☕ og «samtale» for Åse Ødegård, en lang emnelinje som må brettes"
    text = ("Hei Åse!\n"
            "Du er invitert til arbeidsområdet «Blåbær AS». ☕🫐\n"
            ".en linje som starter med punktum\n"
            "..og to\n"
            "From the team: hilsen\n"
            "slutter med mellomrom   \n"
            "a=b og tabulator\tinni\n"
            + "æøå " * 60 + "\n"
            + "x" * 300 + "\n"
            "\n"
            "Siste linje.\n")
    try:
        env = mail_env(peer.port)
        harness.cli_ok(inst.db, "mail", "test", "--to", "ase@example.no", "--subject", subject, "--text", text,
                       env=env)
        msgs = peer.messages()
        assert len(msgs) == 1, msgs
        m = msgs[0]
        assert m["Subject"] == subject, m["Subject"]
        # The body is text/plain in CRLF lines on the wire; as text it is the text sent.
        assert m.get_content().replace("\r\n", "\n") == text, (m.get_content(), text)
        # On the wire: 7-bit, CRLF, header lines within 78 and body lines within 76.
        raw = m.raw
        assert all(b < 0x80 for b in raw), "non-ASCII bytes on the wire"
        head, _, body = raw.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            assert len(line) <= 78, line
        for line in body.split(b"\r\n"):
            assert len(line) <= 76 and not line.startswith(b"."), line
    finally:
        peer.stop()
        inst.close()


def test_starttls_and_tls_with_a_private_ca_and_auth():
    inst = harness.Instance()
    cert, key = make_cert(inst.dir)
    peer = SmtpPeer(inst.dir, "--tls", "starttls", "--cert", cert, "--key", key, "--auth", "samtale:right-password")
    smtps = None
    try:
        env = mail_env(peer.port, security="starttls", SAMTALE_SMTP_USER="samtale",
                       SAMTALE_SMTP_PASSWORD="right-password", SAMTALE_SMTP_CA_FILE=cert)
        harness.cli_ok(inst.db, "mail", "test", "--to", "ada@example.com", env=env)
        ev = peer.events("message")
        assert len(ev) == 1 and ev[0]["tls"] is True and ev[0]["auth"] == "samtale", ev

        # A wrong password: refused for good, with the server's words, never the password.
        p = harness.run_cli(inst.db, "mail", "test", "--to", "ada@example.com",
                            env=dict(env, SAMTALE_SMTP_PASSWORD="wrong-password-xyz"))
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        assert "535" in p.stderr, p.stderr
        assert "wrong-password-xyz" not in p.stderr + p.stdout
        r = outbox(inst.db)[0]
        assert r["state"] == "failed" and "535" in r["last_error"], r

        # Without the CA file the certificate is not trusted, and nothing is sent.
        env_no_ca = dict(env)
        del env_no_ca["SAMTALE_SMTP_CA_FILE"]
        p = harness.run_cli(inst.db, "mail", "test", "--to", "ada@example.com", env=env_no_ca)
        assert p.returncode == 1 and "certificate" in p.stderr, (p.returncode, p.stderr)
        # A server that offers no STARTTLS is not used in the clear.
        plain = SmtpPeer(inst.dir, name="plain")
        try:
            p = harness.run_cli(inst.db, "mail", "test", "--to", "ada@example.com",
                                env=dict(env, SAMTALE_SMTP_URL="smtp://127.0.0.1:%d" % plain.port))
            assert p.returncode == 1 and "STARTTLS" in p.stderr, (p.returncode, p.stderr)
            assert plain.messages() == []
        finally:
            plain.stop()
        assert len(peer.messages()) == 1

        # Implicit TLS (smtps://).
        smtps = SmtpPeer(inst.dir, "--tls", "implicit", "--cert", cert, "--key", key, name="smtps")
        env_tls = mail_env(smtps.port, security="tls", scheme="smtps", SAMTALE_SMTP_CA_FILE=cert)
        harness.cli_ok(inst.db, "mail", "test", "--to", "bob@example.com", env=env_tls)
        ev = smtps.events("message")
        assert len(ev) == 1 and ev[0]["tls"] is True and ev[0]["rcpt_tos"] == ["bob@example.com"], ev
    finally:
        if smtps:
            smtps.stop()
        peer.stop()
        inst.close()


def test_refused_550_fails_at_once_with_the_reason():
    inst = harness.Instance()
    peer = SmtpPeer(inst.dir, "--refuse-rcpt", "550")
    try:
        env = mail_env(peer.port)
        server = start_server(inst, env)
        mid = queue(inst.db, "nobody@example.com", env)
        r = harness.wait_until(lambda: (lambda x: x if x["state"] == "failed" else None)(row(inst.db, mid)),
                               "the 550 to fail the message")
        assert r["attempts"] == 1, r
        assert "550" in r["last_error"] and "mailbox unavailable" in r["last_error"], r
        assert r["reply"].startswith("550"), r
        table = harness.cli_ok(inst.db, "mail", "list").stdout
        assert "mailbox unavailable" in table, table
        assert len(peer.events("refused")) == 1 and peer.messages() == []
        metrics = harness.request(server.port, "GET", "/metrics").text
        assert 'samtale_mail_outbox{state="failed"} 1' in metrics, metrics[-800:]
        assert 'samtale_mail_outbox{state="queued"} 0' in metrics
    finally:
        inst.close()
        peer.stop()


def test_451_is_retried_and_delivered_once_accepted():
    inst = harness.Instance()
    peer = SmtpPeer(inst.dir, "--refuse-rcpt", "451", "--refuse-count", "2")
    try:
        env = mail_env(peer.port)
        server = start_server(inst, env)
        mid = queue(inst.db, "ada@example.com", env, subject="Retried")
        r = harness.wait_until(lambda: (lambda x: x if x["state"] == "sent" else None)(row(inst.db, mid)),
                               "the message to be sent after two 451s", timeout=RETRY_WAIT)
        assert r["attempts"] == 3, r
        assert len(peer.events("refused")) == 2
        msgs = peer.messages()
        assert len(msgs) == 1 and msgs[0]["Subject"] == "Retried", msgs
        metrics = harness.request(server.port, "GET", "/metrics").text
        assert 'samtale_mail_outbox{state="sent"} 1' in metrics, metrics[-800:]
        assert "mail will retry" in server.log_tail(1 << 20)
    finally:
        inst.close()
        peer.stop()


def test_a_server_that_is_down_loses_nothing():
    inst = harness.Instance()
    port = free_port()
    peer = None
    try:
        env = mail_env(port)
        start_server(inst, env)
        mid = queue(inst.db, "ada@example.com", env, subject="Waited")
        r = harness.wait_until(lambda: (lambda x: x if x["attempts"] >= 1 and x["last_error"] else None)(
            row(inst.db, mid)), "a first attempt that finds the server down")
        assert r["state"] in ("queued", "sending"), r
        assert "cannot connect" in r["last_error"], r
        peer = SmtpPeer(inst.dir, port=port)
        r = harness.wait_until(lambda: (lambda x: x if x["state"] == "sent" else None)(row(inst.db, mid)),
                               "the message to go out once the server is up", timeout=RETRY_WAIT)
        assert r["attempts"] >= 2, r
        msgs = peer.messages()
        assert len(msgs) == 1 and msgs[0]["Subject"] == "Waited", msgs
        assert len(peer.events("connect")) == 1
    finally:
        inst.close()
        if peer:
            peer.stop()


def test_the_address_policy_refuses_loopback_without_connecting():
    inst = harness.Instance()
    peer = SmtpPeer(inst.dir)
    try:
        closed = mail_env(peer.port, SAMTALE_ALLOW_PRIVATE_ADDRESSES="false")
        p = harness.run_cli(inst.db, "mail", "test", "--to", "ada@example.com", env=closed)
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert "this machine" in p.stderr, p.stderr
        assert peer.events("connect") == [], peer.events()
        r = outbox(inst.db)[0]
        assert r["state"] == "failed" and "this machine" in r["last_error"], r

        # The worker obeys it too: failed at once, no connection.
        start_server(inst, closed)
        mid = queue(inst.db, "bob@example.com", closed)
        r = harness.wait_until(lambda: (lambda x: x if x["state"] == "failed" else None)(row(inst.db, mid)),
                               "the policy to fail the queued message")
        assert r["attempts"] == 1 and "this machine" in r["last_error"], r
        inst.server.stop()
        inst.server = None
        assert peer.events("connect") == [], peer.events()

        # Listing the relay's address lets it through (and shows the peer does see connections).
        harness.cli_ok(inst.db, "mail", "test", "--to", "ada@example.com",
                       env=dict(closed, SAMTALE_OUTBOUND_ALLOW="127.0.0.1"))
        assert len(peer.events("connect")) == 1 and len(peer.messages()) == 1
    finally:
        inst.close()
        peer.stop()


def test_serve_refuses_mail_settings_that_cannot_work():
    inst = harness.Instance()
    try:
        cases = [({"SAMTALE_SMTP_URL": "smtp://127.0.0.1:25"}, "smtp_from"),
                 ({"SAMTALE_SMTP_URL": "smtps://127.0.0.1:465", "SAMTALE_SMTP_SECURITY": "none",
                   "SAMTALE_SMTP_FROM": FROM}, "smtp_security"),
                 ({"SAMTALE_SMTP_URL": "smtp://user:pw@127.0.0.1:25", "SAMTALE_SMTP_FROM": FROM}, "smtp_user"),
                 ({"SAMTALE_SMTP_URL": "smtp://127.0.0.1:25", "SAMTALE_SMTP_FROM": FROM,
                   "SAMTALE_SMTP_SECURITY": "ssl"}, "smtp_security")]
        for env, word in cases:
            p = harness.run_cli(inst.db, "serve", "--listen", "127.0.0.1:0", env=env)
            assert p.returncode == 2, (env, p.returncode, p.stdout, p.stderr)
            assert word in p.stderr and "listening" not in p.stdout, (env, p.stderr)
    finally:
        inst.close()


def test_stopping_cuts_a_hung_send_short_and_keeps_the_message():
    inst = harness.Instance()
    hung = socket.socket()   # takes connections and never greets
    hung.bind(("127.0.0.1", 0))
    hung.listen(5)
    peer = None
    try:
        env = mail_env(hung.getsockname()[1], SAMTALE_SMTP_TIMEOUT_MS="60000")
        start_server(inst, env)
        mid = queue(inst.db, "ada@example.com", env, subject="Kept")
        harness.wait_until(lambda: row(inst.db, mid)["state"] == "sending", "the send to hang")
        t = time.monotonic()
        inst.server.stop()
        took = time.monotonic() - t
        inst.server = None
        assert took < 5, "stopping took %.1f s with a send hanging (its timeout is 60 s)" % took
        r = row(inst.db, mid)
        assert r["state"] == "queued" and "stopped" in r["last_error"], r
        # The next start sends it.
        peer = SmtpPeer(inst.dir)
        start_server(inst, mail_env(peer.port))
        harness.wait_until(lambda: row(inst.db, mid)["state"] == "sent", "the kept message to go out")
        assert [m["Subject"] for m in peer.messages()] == ["Kept"]
    finally:
        inst.close()
        hung.close()
        if peer:
            peer.stop()
