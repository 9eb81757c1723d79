"""The HTTP layer: malformed and oversized bodies, media types, validation errors, unknown
routes and methods, security headers on every kind of answer, health, readiness and
metrics (docs/api.md, Conventions and the error table)."""

import os
import re
import shutil
import subprocess

import harness
from harness import expect, request

MIB = 1 << 20


setup_module = harness.module_instance
teardown_module = harness.close_instance


def test_malformed_json_is_400_invalid_json(inst):
    for body in (b'{"kind": "feed", "settings": harness.FEED, "name": ', b"{kind: feed}", b"\xff\xfe{}", b'{"kind":"feed"} trailing'):
        r = inst.post(inst.ws("/channels"), body=body, content_type="application/json")
        doc = expect(r, 400, "invalid_json")
        assert len(doc["error"]["message"]) > 3, "no useful message: %r" % doc


def test_wrong_content_type_is_415(inst):
    body = '{"kind":"feed","settings":{"url":"https://example.com/f"},"name":"typed"}'
    expect(inst.post(inst.ws("/channels"), body=body, content_type="text/plain"),
           415, "unsupported_media_type")
    expect(inst.post(inst.ws("/channels"), body=body, content_type="application/x-www-form-urlencoded"),
           415, "unsupported_media_type")
    expect(inst.post(inst.ws("/channels"), body=body), 415, "unsupported_media_type")
    # a charset parameter is still application/json
    ch = expect(inst.post(inst.ws("/channels"), body=body, content_type="application/json; charset=utf-8"), 201)
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"])), 204)


def _big_body():
    head = b'{"kind":"feed","name":"big","settings":{"pad":"'
    tail = b'"}}'
    pad = MIB + 4096
    yield head
    chunk = b"x" * 65536
    sent = 0
    while sent < pad:
        n = min(len(chunk), pad - sent)
        yield chunk[:n]
        sent += n
    yield tail


def _big_len():
    return sum(len(c) for c in _big_body())


def test_oversized_body_with_content_length_is_413(inst):
    headers = {"Authorization": "Bearer " + inst.token, "Content-Type": "application/json",
               "Content-Length": str(_big_len())}
    r = harness.request_streamed(inst.port, "POST", inst.ws("/channels"), headers, _big_body())
    expect(r, 413, "payload_too_large")
    expect(inst.get("/healthz", token=None), 200)
    names = [c["name"] for c in harness.list_all(inst, inst.ws("/channels"))]
    assert "big" not in names, "the oversized channel was created"


def test_oversized_chunked_body_is_413(inst):
    headers = {"Authorization": "Bearer " + inst.token, "Content-Type": "application/json"}
    r = harness.request_streamed(inst.port, "POST", inst.ws("/channels"), headers, _big_body(), chunked=True)
    expect(r, 413, "payload_too_large")
    expect(inst.get("/healthz", token=None), 200)
    names = [c["name"] for c in harness.list_all(inst, inst.ws("/channels"))]
    assert "big" not in names, "the oversized chunked channel was created"


def test_small_chunked_body_is_accepted(inst):
    headers = {"Authorization": "Bearer " + inst.token, "Content-Type": "application/json"}
    r = harness.request_streamed(inst.port, "POST", inst.ws("/channels"), headers,
                                 [b'{"kind":"feed","settings":{"url":"https://example.com/f"},', b'"name":"chunked"}'], chunked=True)
    ch = expect(r, 201)
    assert ch["name"] == "chunked", ch
    expect(inst.delete(inst.ws("/channels/%d" % ch["id"])), 204)


def test_wrong_field_type_is_422_with_field(inst):
    path = inst.ws("/channels")
    expect(inst.post(path, json={"kind": "feed", "settings": harness.FEED, "name": 123}), 422, "validation_failed", field="name")
    expect(inst.post(path, json={"kind": "feed"}), 422, "validation_failed", field="name")
    expect(inst.post(path, json={"kind": "feed", "settings": harness.FEED, "name": "s", "settings": "x"}),
           422, "validation_failed", field="settings")
    expect(inst.post(path, json={"kind": "feed", "settings": harness.FEED, "name": "s", "secret": 5}),
           422, "validation_failed", field="secret")
    expect(inst.post(path, json={"kind": "feed", "settings": harness.FEED, "name": ""}), 422, "validation_failed", field="name")
    expect(inst.post(path, json={"kind": "feed", "settings": harness.FEED, "name": "n" * 101}), 422, "validation_failed", field="name")
    expect(inst.post(path, json=["kind", "feed"]), 422, "validation_failed")
    expect(inst.patch(inst.ws(), json={"timezone": 7}), 422, "validation_failed", field="timezone")


def test_unknown_route_is_404_json(inst):
    expect(inst.get("/api/v1/nope"), 404, "not_found")
    expect(inst.get("/api/v1/workspaces/%d/nope" % inst.wid), 404, "not_found")
    expect(inst.get("/api/v2/workspaces", token=None), 404, "not_found")
    expect(inst.get("/api/v1/workspaces/999999"), 404, "not_found")
    expect(inst.get(inst.ws("/channels/999999")), 404, "not_found")


def _allow(r):
    return {m.strip().upper() for m in (r.header("Allow") or "").split(",") if m.strip()}


def test_wrong_method_is_405_with_allow(inst):
    cases = [("PUT", "/api/v1/workspaces", {"GET", "POST"}),
             ("DELETE", inst.ws("/audit"), {"GET"}),
             ("GET", "/api/v1/auth/login", {"POST"}),
             ("POST", "/healthz", {"GET"}),
             ("PUT", inst.ws("/channels/1"), {"GET", "PATCH", "DELETE"})]
    for method, path, want in cases:
        r = inst.request(method, path, json={} if method in ("PUT", "POST") else None)
        expect(r, 405, "method_not_allowed")
        got = _allow(r)
        assert want <= got and method not in got, \
            "%s %s: Allow is %r, expected it to list %s" % (method, path, r.header("Allow"), sorted(want))


def _check_security_headers(r, what):
    csp = r.header("Content-Security-Policy")
    assert csp, "%s (%s %s): no Content-Security-Policy" % (what, r.method, r.path)
    assert re.search(r"frame-ancestors\s+'none'", csp), "%s: CSP lacks frame-ancestors 'none': %r" % (what, csp)
    assert "unsafe-inline" not in csp, "%s: CSP allows unsafe-inline: %r" % (what, csp)
    nosniff = r.header("X-Content-Type-Options")
    assert nosniff and nosniff.strip().lower() == "nosniff", \
        "%s (%s %s): X-Content-Type-Options is %r" % (what, r.method, r.path, nosniff)


def test_security_headers_on_every_kind_of_answer(inst):
    html = inst.get("/", token=None)
    assert html.status == 200, "GET / -> %d" % html.status
    assert (html.header("Content-Type") or "").startswith("text/html"), html.header("Content-Type")
    assets = re.findall(r'(?:src|href)="([^"#?:]+\.(?:js|css|svg|png|ico|woff2?))"', html.text)
    assert assets, "the dashboard HTML references no asset: %r" % html.text[:500]
    assets = [a if a.startswith("/") else "/" + a for a in assets]
    asset = inst.get(assets[0], token=None)
    assert asset.status == 200, "GET %s -> %d" % (assets[0], asset.status)
    answers = [
        (inst.get("/healthz", token=None), "JSON"),
        (inst.get("/api/v1/me"), "authenticated JSON"),
        (inst.get("/api/v1/nope"), "404 error"),
        (inst.get("/api/v1/me", token=None), "401 error"),
        (inst.request("PUT", "/api/v1/workspaces", json={}), "405 error"),
        (inst.post(inst.ws("/channels"), body=b"{", content_type="application/json"), "400 error"),
        (html, "dashboard HTML"),
        (asset, "asset " + assets[0]),
        (inst.get("/metrics", token=None), "metrics"),
        (inst.get("/readyz", token=None), "readyz"),
    ]
    for r, what in answers:
        _check_security_headers(r, what)


def test_healthz_and_readyz(inst):
    doc = expect(inst.get("/healthz", token=None), 200)
    assert doc == {"status": "ok"}, doc
    doc = expect(inst.get("/readyz", token=None), 200)
    assert doc.get("status") == "ready", doc
    assert isinstance(doc.get("schema_version"), int) and doc["schema_version"] >= 1, doc


def _requests_total(text):
    total = 0.0
    for m in re.finditer(r"(?m)^samtale_http_requests_total(?:\{[^}]*\})?\s+(\S+)", text):
        total += float(m.group(1))
    return total


def test_metrics(inst):
    r = inst.get("/metrics", token=None)
    assert r.status == 200, r
    assert (r.header("Content-Type") or "").startswith("text/plain"), r.header("Content-Type")
    assert re.search(r"(?m)^samtale_http_requests_total(\{[^}]*\})? \d", r.text), \
        "no samtale_http_requests_total sample in:\n" + r.text[:1500]
    before = _requests_total(r.text)
    for _ in range(3):
        inst.get("/healthz", token=None)
    after = _requests_total(inst.get("/metrics", token=None).text)
    assert after >= before + 3, "samtale_http_requests_total went from %s to %s after 3 requests" % (before, after)


def test_metrics_pass_promtool(inst):
    promtool = "/usr/bin/promtool" if os.path.exists("/usr/bin/promtool") else shutil.which("promtool")
    if not promtool:
        raise harness.Skip("promtool is not installed (Debian package prometheus)")
    r = inst.get("/metrics", token=None)
    p = subprocess.run([promtool, "check", "metrics"], input=r.body, capture_output=True,
                       timeout=harness.TIMEOUT)
    assert p.returncode == 0, "promtool check metrics exited %d:\n%s%s" % (
        p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
