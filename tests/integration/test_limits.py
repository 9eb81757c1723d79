"""Every text field has a bound, and the server keeps it: each string of each request body
in docs/api/openapi.yaml states maxLength (lists maxItems), each string query parameter
too, and, field by field, maxLength + 1 characters is a 422 naming the field (a query
parameter: 400 naming it) while maxLength is never refused for its length.

Driven by the OpenAPI file alone: a field added there is tested here without a line of
code. A body starts from the schema's first example (or its required fields) so that the
field under test is the only thing wrong."""

import re

import apispec
import harness
from harness import expect

LENGTH_MSG = re.compile(r"must have at most \d+ (characters|bytes)")


class Ctx:
    pass


def setup_module():
    inst = harness.Instance()
    try:
        inst.prepare().start()
        c = Ctx()
        c.inst = inst
        c.cookie, c.csrf, _ = inst.login()
        c.cid = harness.new_channel(inst, "limits-file", kind="file", settings={"path": "limits.jsonl"})["id"]
        c.pid = expect(inst.post(inst.ws("/posts"), json={"text": "a draft"}), 201)["id"]
        c.oid = expect(inst.post(inst.ws("/posts"), json={"text": "planned", "channels": [c.cid],
                                                          "schedule": "next_slot"}), 201)["occurrences"][0]["id"]
        c.uid = harness.add_member(inst, "limits-viewer@example.com", "viewer")["user_id"]
        c.tid = expect(inst.post(inst.ws("/tokens"), json={"name": "limits", "scopes": ["posts:read"]}), 201)["id"]
        # Addresses point at a port on this machine that nothing listens on.
        c.values = apispec.Values(__import__("random").Random(1), "http://127.0.0.1:9")
        return c
    except BaseException:
        inst.close()
        raise


def teardown_module(c):
    c.inst.close()


def body_ops():
    return [op for op in apispec.operations() if op.body is not None]


def test_every_string_field_states_its_bound():
    problems = []
    for op in apispec.operations():
        if op.body is not None:
            for name, s, route in apispec.string_fields(op.body):
                if "maxLength" not in s:
                    problems.append("%r: body field %s has no maxLength" % (op, name or "(body)"))

            def lists(sch, name):
                sch = apispec.merged(sch)
                if "array" in apispec.types_of(sch):
                    if "maxItems" not in sch:
                        problems.append("%r: list %s has no maxItems" % (op, name))
                    lists(sch.get("items", {}), name)
                for k, sub in sch.get("properties", {}).items():
                    lists(sub, "%s.%s" % (name, k) if name else k)
            lists(op.body, "")
        for p in op.query_params + op.path_params:
            s = apispec.merged(p.get("schema", {}))
            if "string" in apispec.types_of(s) and "maxLength" not in s and "pattern" not in s:
                problems.append("%r: parameter %s has no maxLength" % (op, p["name"]))
            if "integer" in apispec.types_of(s) and p["in"] == "query" and "maximum" not in s \
                    and s.get("format") != "int64":
                problems.append("%r: number parameter %s has no maximum" % (op, p["name"]))
    assert not problems, "\n".join(problems)


def path_of(c, op):
    ids = {"wid": c.inst.wid, "cid": c.cid, "pid": c.pid, "oid": c.oid, "uid": c.uid, "tid": c.tid, "token": "x"}
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), op.path)


def base_body(c, op):
    """The first example of the body schema, else its required fields made valid."""
    s = apispec.merged(op.body)
    if s.get("examples"):
        return c.values.local_urls(s["examples"][0])
    body = {}
    for k in s.get("required", []):
        body[k] = c.values.valid(s["properties"][k])
    return body


def send(c, op, body):
    if op.public:
        return harness.request(c.inst.port, op.method, path_of(c, op), json=body)
    return harness.request(c.inst.port, op.method, path_of(c, op), json=body, cookie=c.cookie, csrf=c.csrf)


def filled(c, s, n):
    """A value of n characters for the string schema s, shaped like what it holds."""
    fmt = s.get("format")
    if fmt == "uri":
        head = c.values.url("/")
        return head + "a" * max(0, n - len(head))
    if fmt == "email":
        return "a" * max(1, n - len("@example.com")) + "@example.com"
    return "x" * n


def test_one_past_the_bound_is_422_naming_the_field(c):
    problems, tried = [], 0
    for op in body_ops():
        for name, s, route in apispec.string_fields(op.body):
            if not name or "maxLength" not in s:
                continue
            body = apispec.put_at(base_body(c, op), route, filled(c, s, s["maxLength"] + 1))
            r = send(c, op, body)
            tried += 1
            doc = r.json() if r.body else {}
            err = doc.get("error", {}) if isinstance(doc, dict) else {}
            if r.status != 422 or err.get("code") != "validation_failed" or err.get("field") != name:
                problems.append("%r %s (maxLength %d + 1): %d %s" % (op, name, s["maxLength"], r.status, r.body[:300]))
    assert tried >= 40, "only %d fields were tried: is the OpenAPI file read right?" % tried
    assert not problems, "%d of %d fields:\n" % (len(problems), tried) + "\n".join(problems)


def test_at_the_bound_is_not_refused_for_length(c):
    problems, tried = [], 0
    for op in body_ops():
        for name, s, route in apispec.string_fields(op.body):
            if not name or "maxLength" not in s:
                continue
            body = apispec.put_at(base_body(c, op), route, filled(c, s, s["maxLength"]))
            r = send(c, op, body)
            tried += 1
            doc = r.json() if r.body else {}
            err = doc.get("error", {}) if isinstance(doc, dict) else {}
            if r.status >= 500 and r.status != 502:
                problems.append("%r %s at maxLength: %d %s" % (op, name, r.status, r.body[:300]))
            elif err.get("field") == name and LENGTH_MSG.search(err.get("message", "")):
                problems.append("%r %s at maxLength %d refused as too long: %s"
                                % (op, name, s["maxLength"], err.get("message")))
    assert not problems, "\n".join(problems)


def test_free_text_at_the_bound_is_stored(c):
    """The fields people write freely take exactly their bound (multi-byte characters
    count once): a post's text, variants, override_reason, a campaign, names."""
    inst = c.inst
    text = "ø" * 10000
    p = expect(inst.post(inst.ws("/posts"), json={"text": text, "variants": ["å" * 10000], "campaign": "🫐" * 100,
                                                  "override_reason": "æ" * 1000}), 201)
    assert p["text"] == text and p["variants"] == ["å" * 10000] and p["campaign"] == "🫐" * 100
    expect(inst.post(inst.ws("/posts"), json={"text": "ø" * 10001}), 422, "validation_failed", field="text")
    expect(inst.post(inst.ws("/posts"), json={"text": "x", "override_reason": "æ" * 1001}), 422,
           "validation_failed", field="override_reason")
    expect(inst.post(inst.ws("/posts"), json={"text": "x", "override_reason": "a\u0001b"}), 422,
           "validation_failed", field="override_reason")
    ch = harness.new_channel(inst, "ø" * 100, kind="file", settings={"path": "n.jsonl"})
    assert ch["name"] == "ø" * 100
    expect(inst.patch(inst.ws("/posts/%d" % p["id"]), json={"override_reason": "x" * 1001}), 422,
           "validation_failed", field="override_reason")


def test_query_parameters_one_past_the_bound_are_400_naming_them(c):
    problems, tried = [], 0
    for op in apispec.operations():
        if not op.documents(400) or op.method != "GET":
            continue
        for p in op.query_params:
            s = apispec.merged(p.get("schema", {}))
            if "string" not in apispec.types_of(s) or "maxLength" not in s:
                continue
            url = path_of(c, op) + "?%s=%s" % (p["name"], "x" * (s["maxLength"] + 1))
            r = harness.request(c.inst.port, "GET", url, token=c.inst.token)
            tried += 1
            doc = r.json() if r.body else {}
            err = doc.get("error", {}) if isinstance(doc, dict) else {}
            if r.status != 400 or err.get("field") != p["name"]:
                problems.append("%r ?%s: %d %s" % (op, p["name"], r.status, r.body[:200]))
    assert tried >= 8, tried
    assert not problems, "\n".join(problems)


def test_names_refuse_invisible_characters(c):
    inst = c.inst
    msg = "must not contain invisible or direction-changing characters"
    for path, body, field in [
        ("/invitations", {"email": "x@example.com", "name": "\u202enimda", "role": "viewer"}, "name"),
        ("/invitations", {"email": "\u202enimda@example.com", "role": "viewer"}, "email"),
        ("/tokens", {"name": "ci\u200b", "scopes": ["posts:read"]}, "name"),
        ("/channels", {"kind": "file", "name": "\u2066out\u2069", "settings": {"path": "o.jsonl"}}, "name"),
        ("/posts", {"text": "x", "campaign": "spring\u00adsale"}, "campaign"),
    ]:
        doc = expect(inst.post(inst.ws(path), json=body), 422, "validation_failed", field=field)
        assert msg in doc["error"]["message"], doc
    doc = expect(inst.patch(inst.ws(), json={"name": "\u202enimda"}), 422, "validation_failed", field="name")
    assert msg in doc["error"]["message"]
    # an emoji sequence with a joiner, and Nordic letters, are names like any other
    t = expect(inst.post(inst.ws("/tokens"), json={"name": "👩\u200d💻 Support", "scopes": ["posts:read"]}), 201)
    assert t["name"] == "👩\u200d💻 Support"
    m = harness.add_member(inst, "kari@example.com", "viewer", name="Kari Blåbær-Ærø")
    assert m["name"] == "Kari Blåbær-Ærø"


def test_times_are_bounded(c):
    """A series cannot start years ahead (its copies would be planned in year 10000), and
    the queue's range stays within the years RFC 3339 can write."""
    inst = c.inst
    expect(inst.post(inst.ws("/series"), json={"text": "far", "channels": [c.cid], "start": "9999-12-31T23:59:59Z",
                                               "count": 2}), 422, "validation_failed", field="start")
    s = expect(inst.post(inst.ws("/series"), json={"text": "near", "channels": [c.cid], "count": 2,
                                                   "start": "2020-01-01T00:00:00Z"}), 201)
    assert all(o["planned_at"] < "2100" for o in s["post"]["occurrences"]), s
    expect(inst.get(inst.ws("/queue?from=9999-12-31T00:00:00Z")), 400, "bad_request", field="to")
    expect(inst.get(inst.ws("/queue?from=0000-01-01T00:00:00Z")), 400, "bad_request", field="from")
    q = expect(inst.get(inst.ws("/queue?from=9999-10-01T00:00:00Z&to=9999-12-31T00:00:00Z")), 200)
    assert q["to"] == "9999-12-31T00:00:00Z", q
