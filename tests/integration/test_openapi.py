"""docs/api/openapi.yaml agrees with the server and with docs/api.md: the route table
(`samtale routes`) and the documented operations are the same set, and real answers match
the documented status codes and schemas."""

import os
import re
import time

import yaml

import apispec
import harness
from harness import expect

SPEC_PATH = os.path.join(harness.REPO, "docs", "api", "openapi.yaml")
GUIDE_PATH = os.path.join(harness.REPO, "docs", "api.md")
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
PARAM_NAMES = {"iid", "wid", "uid", "tid", "cid", "pid", "oid", "mid", "token"}

_spec = None


def spec():
    global _spec
    if _spec is None:
        with open(SPEC_PATH, encoding="utf-8") as f:
            _spec = yaml.safe_load(f)
    return _spec


def operations():
    """{(METHOD, path): operation} of the OpenAPI file."""
    ops = {}
    for path, item in spec()["paths"].items():
        for m, op in item.items():
            if m in METHODS:
                ops[(m.upper(), path)] = op
    return ops


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), "only local references are used: %r" % ref
        cur = spec()
        for part in ref[2:].split("/"):
            cur = cur[part.replace("~1", "/").replace("~0", "~")]
        node = cur
    return node


def normalise_route(path):
    """Route-table placeholders written :name or <name> become {name}."""
    path = re.sub(r":(\w+)", r"{\1}", path)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)


setup_module = harness.module_instance
teardown_module = harness.close_instance


def test_route_table_matches_openapi(inst):
    p = harness.cli_ok(inst.db, "routes")
    routes, bad = set(), []
    for line in p.stdout.splitlines():
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0] != parts[0].upper() or not parts[1].startswith("/"):
            bad.append(line)
            continue
        routes.add((parts[0], normalise_route(parts[1])))
    assert not bad, "`samtale routes` lines that are not METHOD PATH: %r" % bad[:5]
    assert routes, "`samtale routes` printed nothing"
    documented = set(operations())
    undocumented = sorted(routes - documented)
    missing = sorted(documented - routes)
    msg = []
    if undocumented:
        msg.append("routes of the server that openapi.yaml lacks: %s" % ["%s %s" % r for r in undocumented])
    if missing:
        msg.append("operations of openapi.yaml the server lacks: %s" % ["%s %s" % r for r in missing])
    assert not msg, "\n".join(msg)


def test_openapi_matches_the_guide():
    with open(GUIDE_PATH, encoding="utf-8") as f:
        guide = f.read()
    rows = re.findall(r"(?m)^\| (GET|POST|PUT|PATCH|DELETE) \| (/\S*) \| ([^|]*) \|", guide)
    assert len(rows) >= 20, "cannot read the endpoint table of docs/api.md"
    in_guide = {(m, p): scope.strip() for m, p, scope in rows}
    ops = operations()
    assert set(in_guide) == set(ops), "docs/api.md and openapi.yaml list different endpoints: only in " \
        "api.md %r, only in openapi %r" % (sorted(set(in_guide) - set(ops)), sorted(set(ops) - set(in_guide)))
    for key, scope in in_guide.items():
        assert ops[key].get("x-scope") == scope, "%s %s: x-scope %r, docs/api.md says %r" % (
            key[0], key[1], ops[key].get("x-scope"), scope)


def test_openapi_structure():
    s = spec()
    assert str(s["openapi"]).startswith("3.1"), s["openapi"]
    comp = s["components"]
    for name in ("User", "Me", "Workspace", "Member", "Token", "TokenCreated", "Channel", "AuditEntry",
                 "Error", "WorkspaceList", "MemberList", "TokenList", "ChannelList", "AuditList"):
        assert name in comp["schemas"], "schema %s missing" % name
    for name in ("WorkspaceList", "MemberList", "TokenList", "ChannelList", "AuditList"):
        sch = comp["schemas"][name]
        assert set(sch["required"]) == {"items", "next_cursor"}, name
    sec = comp["securitySchemes"]
    assert sec["bearerAuth"]["type"] == "http" and sec["bearerAuth"]["scheme"] == "bearer"
    assert (sec["sessionCookie"]["in"], sec["sessionCookie"]["name"]) == ("cookie", "samtale_session")
    assert (sec["csrfToken"]["in"], sec["csrfToken"]["name"]) == ("header", "X-CSRF-Token")

    problems = []
    for path, item in s["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        if not names <= PARAM_NAMES:
            problems.append("%s: path parameters %r" % (path, sorted(names)))
        for m, op in item.items():
            if m not in METHODS:
                continue
            label = "%s %s" % (m.upper(), path)
            params = [resolve(p) for p in item.get("parameters", []) + op.get("parameters", [])]
            declared = {p["name"] for p in params if p["in"] == "path"}
            if declared != names:
                problems.append("%s declares path parameters %r" % (label, sorted(declared)))
            if "x-scope" not in op:
                problems.append("%s has no x-scope" % label)
            if m == "get" and op["operationId"].startswith("list"):
                q = {p["name"] for p in params if p["in"] == "query"}
                if not {"limit", "cursor"} <= q:
                    problems.append("%s lacks limit/cursor" % label)
            for status, resp in op["responses"].items():
                if int(status) < 400:
                    continue
                r = resolve(resp)
                sch = r.get("content", {}).get("application/json", {}).get("schema", {})
                if sch.get("$ref") != "#/components/schemas/Error":
                    problems.append("%s %s is not the Error schema" % (label, status))
            if m in ("post", "put", "patch", "delete") and path.startswith("/api/v1/") and \
                    path != "/api/v1/auth/login":
                for req in op.get("security", s["security"]):
                    if "sessionCookie" in req and "csrfToken" not in req:
                        problems.append("%s allows the session without csrfToken" % label)
            if path.startswith("/api/v1/") and op.get("x-scope") != "none" and path != "/api/v1/auth/login":
                if "401" not in op["responses"]:
                    problems.append("%s documents no 401" % label)
    assert not problems, "\n".join(problems)


# --- a small JSON Schema checker for the subset the OpenAPI file uses -------------------

# The checker of a JSON value against a schema is apispec's (the fuzz test uses it too).
validate = apispec.validate


def _operation_for(method, url):
    path = url.split("?", 1)[0]
    for (m, p), op in operations().items():
        if m == method and re.fullmatch(re.sub(r"\{\w+\}", r"[^/]+", p), path):
            return p, op
    return None, None


def check(r):
    """Problems of one answer against the operation it belongs to."""
    tmpl, op = _operation_for(r.method, r.path)
    if op is None:
        return ["%s %s: no such operation in openapi.yaml" % (r.method, r.path)]
    resp = op["responses"].get(str(r.status))
    if resp is None:
        return ["%s %s -> %d: status not documented for %s %s" % (r.method, r.path, r.status, r.method, tmpl)]
    resp = resolve(resp)
    content = resp.get("content")
    if not content:
        return [] if not r.body else ["%s %s -> %d: undocumented body" % (r.method, r.path, r.status)]
    if "application/json" in content:
        errs = validate(r.json(), content["application/json"]["schema"])
        return ["%s %s -> %d: %s" % (r.method, r.path, r.status, e) for e in errs]
    return []


def _totp(key, step):
    """An authenticator app's code (RFC 6238: HMAC-SHA1, 6 digits) for a base32 key."""
    import base64
    import hashlib
    import hmac
    import struct
    mac = hmac.new(base64.b32decode(key + "=" * (-len(key) % 8)), struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def test_answers_match_documented_schemas(inst):
    seen = []

    def rec(r):
        seen.append(r)
        return r

    rec(inst.get("/healthz", token=None))
    rec(inst.get("/readyz", token=None))
    rec(inst.get("/metrics", token=None))
    rec(inst.get("/api/v1/me"))
    login = rec(harness.request(inst.port, "POST", "/api/v1/auth/login",
                                json={"email": harness.OWNER_EMAIL, "password": harness.OWNER_PASSWORD}))
    cookie, _ = harness.session_cookie(login)
    csrf = login.json().get("csrf_token")
    rec(inst.get("/api/v1/me", token=None, cookie=cookie))
    rec(harness.request(inst.port, "POST", "/api/v1/auth/login",
                        json={"email": harness.OWNER_EMAIL, "password": "wrong-password"}))
    rec(inst.get("/api/v1/workspaces"))
    rec(inst.get(inst.ws()))
    rec(inst.patch(inst.ws(), json={"timezone": harness.WORKSPACE_TZ}))
    rec(inst.post("/api/v1/workspaces", json={"name": "Schema ws"}, token=None, cookie=cookie, csrf=csrf))
    rec(inst.post("/api/v1/workspaces", json={"name": "Schema ws 2"}))
    rec(inst.get(inst.ws("/members")))
    # The second factor and the caller's own account (a member of its own, so the owner's
    # logins elsewhere in this test stay one-step).
    harness.add_member(inst, "schema-2fa@example.com", "viewer")
    sl = harness.request(inst.port, "POST", "/api/v1/auth/login",
                         json={"email": "schema-2fa@example.com", "password": "a-good-password-42"})
    c2, x2 = harness.session_cookie(sl)[0], sl.json()["csrf_token"]
    rec(harness.request(inst.port, "POST", "/api/v1/me/second-factor", json={"password": "wrong-password-1"},
                        cookie=c2, csrf=x2))
    begin = rec(harness.request(inst.port, "POST", "/api/v1/me/second-factor", json={"password": "a-good-password-42"},
                                cookie=c2, csrf=x2))
    if begin.status == 201:
        code = _totp(begin.json()["secret"], int(time.time()) // 30)
        rec(harness.request(inst.port, "POST", "/api/v1/me/second-factor/confirm", json={"code": "00000x"}, cookie=c2,
                            csrf=x2))
        rec(harness.request(inst.port, "POST", "/api/v1/me/second-factor/confirm", json={"code": code}, cookie=c2,
                            csrf=x2))
        rec(harness.request(inst.port, "POST", "/api/v1/me/second-factor/recovery-codes",
                            json={"password": "a-good-password-42", "code": "000000"}, cookie=c2, csrf=x2))
        step = rec(harness.request(inst.port, "POST", "/api/v1/auth/login",
                                   json={"email": "schema-2fa@example.com", "password": "a-good-password-42"}))
        ch = step.json().get("error", {}).get("challenge", "none")
        rec(harness.request(inst.port, "POST", "/api/v1/auth/second-factor", json={"challenge": ch, "code": "000000"}))
        rec(harness.request(inst.port, "POST", "/api/v1/auth/second-factor",
                            json={"challenge": ch, "code": _totp(begin.json()["secret"], int(time.time()) // 30 + 1)}))
        rec(harness.request(inst.port, "POST", "/api/v1/me/second-factor/disable",
                            json={"password": "wrong-password-1", "code": "123456"}, cookie=c2, csrf=x2))
    rec(harness.request(inst.port, "DELETE", "/api/v1/me/failed-logins", cookie=c2, csrf=x2))
    rec(harness.request(inst.port, "POST", "/api/v1/me/tokens/revoke", cookie=c2, csrf=x2))
    inv = rec(inst.post(inst.ws("/invitations"), json={"email": "schema@example.com", "name": "S", "role": "agent"}))
    rec(inst.get(inst.ws("/invitations")))
    if inv.status == 201:
        secret = inv.json()["link"].rsplit("/#/invite/", 1)[1]
        rec(inst.get("/api/v1/invitations/" + secret, token=None))
        rec(harness.request(inst.port, "POST", "/api/v1/invitations/%s/accept" % secret, json={"password": "x"}))
        acc = rec(harness.request(inst.port, "POST", "/api/v1/invitations/%s/accept" % secret,
                                  json={"name": "S", "password": "schema-password-1"}))
        if acc.status == 201:
            uid = [m for m in harness.list_all(inst, inst.ws("/members")) if m["email"] == "schema@example.com"][0]
            rec(inst.patch(inst.ws("/members/%d" % uid["user_id"]), json={"role": "viewer"}))
            rec(inst.delete(inst.ws("/members/%d" % uid["user_id"])))
        rec(inst.get("/api/v1/invitations/" + secret, token=None))
    inv2 = rec(inst.post(inst.ws("/invitations"), json={"email": "schema2@example.com", "role": "viewer"}))
    if inv2.status == 201:
        rec(inst.post(inst.ws("/invitations/%d/renew" % inv2.json()["id"])))
        rec(inst.delete(inst.ws("/invitations/%d" % inv2.json()["id"])))
        rec(inst.delete(inst.ws("/invitations/%d" % inv2.json()["id"])))
    rec(inst.patch(inst.ws("/members/%d" % inst.owner_id), json={"role": "viewer"}))
    t = rec(inst.post(inst.ws("/tokens"), json={"name": "schema", "scopes": ["audit:read"]}))
    rec(inst.get(inst.ws("/tokens")))
    if t.status == 201:
        rec(inst.delete(inst.ws("/tokens/%d" % t.json()["id"])))
    c = rec(inst.post(inst.ws("/channels"), json={"kind": "jetstream", "name": "schema", "settings": {"a": 1},
                                                   "secret": "x"}))
    rec(inst.post(inst.ws("/channels"), json={"kind": "jetstream", "name": "schema"}))
    rec(inst.post(inst.ws("/channels"), json={"kind": "nope", "name": "schema"}))
    rec(inst.post(inst.ws("/channels"), body=b"{", content_type="application/json"))
    rec(inst.post(inst.ws("/channels"), body=b"{}", content_type="text/plain"))
    rec(inst.get(inst.ws("/channels?limit=1")))
    rec(inst.get(inst.ws("/channels?cursor=%%%%bad")))
    if c.status == 201:
        url = inst.ws("/channels/%d" % c.json()["id"])
        rec(inst.get(url))
        rec(inst.patch(url, json={"secret": None}))
        rec(inst.delete(url))
        rec(inst.get(url))
    rec(inst.get(inst.ws("/channels"), token=None))
    rec(inst.get(inst.ws("/audit")))
    rec(inst.post("/api/v1/auth/logout", token=None, cookie=cookie, csrf=csrf))

    problems = []
    for r in seen:
        problems += check(r)
    statuses = sorted({(r.method, r.path.split("?")[0], r.status) for r in seen}, key=str)
    assert not problems, "\n".join(problems) + "\n(answers seen: %r)" % statuses
    assert len(seen) >= 30
