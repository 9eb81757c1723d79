"""HTTPS: with tls_cert and tls_key samtale serves TLS itself, and its session cookie is
marked Secure (docs/api.md, Authentication; docs/operations.md)."""

import http.client
import json
import os
import shutil
import ssl
import subprocess

import harness
from harness import expect


def _https(port, method, path, body=None, headers=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # a throwaway self-signed certificate
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=harness.TIMEOUT, context=ctx)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return harness.Response(r.status, r.reason, r.headers, r.read(), method, path)
    finally:
        conn.close()


def test_tls_serves_https_and_marks_the_cookie_secure():
    if not shutil.which("openssl"):
        raise AssertionError("openssl is needed to make a test certificate (scripts/deps.sh installs it)")
    inst = harness.Instance()
    server = None
    try:
        inst.prepare()
        cert, key = os.path.join(inst.dir, "cert.pem"), os.path.join(inst.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
                       check=True, capture_output=True, timeout=harness.TIMEOUT)
        server = harness.Server(inst.db, inst.dir, env={"SAMTALE_TLS_CERT": cert, "SAMTALE_TLS_KEY": key}).start()
        assert any("listening on https://" in line for line in server.lines), server.lines
        expect(_https(server.port, "GET", "/healthz"), 200)
        r = _https(server.port, "POST", "/api/v1/auth/login",
                   body=json.dumps({"email": harness.OWNER_EMAIL, "password": harness.OWNER_PASSWORD}),
                   headers={"Content-Type": "application/json"})
        expect(r, 200)
        cookie = r.headers.get("Set-Cookie", "")
        attrs = [a.strip().lower() for a in cookie.split(";")]
        assert "secure" in attrs and "httponly" in attrs and "samesite=strict" in attrs, cookie
        # Plain HTTP to the TLS port gets no answer from the API.
        try:
            plain = harness.request(server.port, "GET", "/healthz", timeout=5)
            assert plain.status != 200, "plain HTTP was served on the TLS port"
        except (OSError, http.client.HTTPException):
            pass
    finally:
        if server:
            server.stop()
        inst.close()
