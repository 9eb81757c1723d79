"""Reading docs/api/openapi.yaml for the tests that are driven by it (test_limits.py,
test_api_fuzz.py): its operations, their parameters and request-body schemas with the
references resolved, every string field of a body with its dotted name, and values made
from a schema, valid ones and broken ones.

A field's dotted name is the one the server puts in an error's `field`: "name",
"settings.url" for a key of an object, and the list's own name ("scopes") for an item of
a list. Everything here is plain data and a random.Random given by the caller, so a run
is replayed by its seed.
"""

import copy
import datetime
import os
import re

import yaml

import harness

SPEC_PATH = os.path.join(harness.REPO, "docs", "api", "openapi.yaml")
METHODS = ("get", "put", "post", "patch", "delete")

_spec = None


def spec():
    global _spec
    if _spec is None:
        with open(SPEC_PATH, encoding="utf-8") as f:
            _spec = yaml.safe_load(f)
    return _spec


def resolve(node):
    """node with its $ref followed (to the end of a chain). Keywords written beside a $ref
    (OpenAPI 3.1 allows a description there) are kept, the referenced ones win otherwise."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), "only local references are used: %r" % ref
        cur = spec()
        for part in ref[2:].split("/"):
            cur = cur[part.replace("~1", "/").replace("~0", "~")]
        extra = {k: v for k, v in node.items() if k != "$ref"}
        node = dict(cur, **{k: v for k, v in extra.items() if k not in cur}) if extra else cur
        seen += 1
        assert seen < 50, "a $ref loop at %r" % ref
    return node


def merged(schema):
    """The schema resolved, with allOf parts folded in (properties and required united)."""
    schema = resolve(schema)
    if "allOf" not in schema:
        return schema
    out = {k: v for k, v in schema.items() if k != "allOf"}
    props, required = dict(out.get("properties", {})), list(out.get("required", []))
    for part in schema["allOf"]:
        part = merged(part)
        for k, v in part.items():
            if k == "properties":
                props.update(v)
            elif k == "required":
                required += [r for r in v if r not in required]
            elif k not in out:
                out[k] = v
    if props:
        out["properties"] = props
    if required:
        out["required"] = required
    return out


def types_of(schema):
    t = schema.get("type")
    if t is None:
        if "properties" in schema:
            return ["object"]
        if "enum" in schema:
            return sorted({type_name(v) for v in schema["enum"]})
        return []
    return t if isinstance(t, list) else [t]


def type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


class Operation:
    """One METHOD path of the file, with its parameters and request-body schema resolved."""

    def __init__(self, method, path, op, item):
        self.method = method.upper()
        self.path = path
        self.op = op
        self.id = op.get("operationId", "%s %s" % (self.method, path))
        params = [resolve(p) for p in item.get("parameters", []) + op.get("parameters", [])]
        self.path_params = [p for p in params if p["in"] == "path"]
        self.query_params = [p for p in params if p["in"] == "query"]
        body = op.get("requestBody")
        self.body = None
        if body:
            body = resolve(body)
            self.body = body.get("content", {}).get("application/json", {}).get("schema")
        self.responses = {str(k): resolve(v) for k, v in op.get("responses", {}).items()}
        self.security = op.get("security", spec().get("security"))

    @property
    def public(self):
        return self.security == []

    @property
    def session_only(self):
        return bool(self.security) and all("bearerAuth" not in req for req in self.security)

    def documents(self, status):
        return str(status) in self.responses

    def __repr__(self):
        return "%s %s" % (self.method, self.path)


def operations():
    ops = []
    for path, item in spec()["paths"].items():
        for m, op in item.items():
            if m in METHODS:
                ops.append(Operation(m, path, op, item))
    return ops


def string_fields(schema, prefix=""):
    """[(dotted name, string schema, route)] for every string a body of this schema can
    hold. route says where it sits: a list of ("key", name) and ("item", None) steps."""
    out = []

    def walk(s, name, route, depth):
        s = merged(s)
        assert depth < 10, "schema nests too deep at %s" % name
        ts = types_of(s)
        if "string" in ts:
            out.append((name, s, route))
        if "object" in ts or "properties" in s:
            for k, sub in s.get("properties", {}).items():
                walk(sub, "%s.%s" % (name, k) if name else k, route + [("key", k)], depth + 1)
        if "array" in ts and "items" in s:
            walk(s["items"], name, route + [("item", None)], depth + 1)

    walk(schema, prefix, [], 0)
    return out


def put_at(body, route, value):
    """A copy of body with value placed at route (objects and one-item lists made on the
    way)."""
    body = copy.deepcopy(body) if body is not None else {}
    if not route:
        return value
    cur = body
    for i, (kind, key) in enumerate(route):
        last = i == len(route) - 1
        if kind == "key":
            if last:
                cur[key] = value
            else:
                nxt = route[i + 1][0]
                if not isinstance(cur.get(key), (dict if nxt == "key" else list)):
                    cur[key] = {} if nxt == "key" else []
                cur = cur[key]
        else:  # an item: the list becomes one item long
            if last:
                cur[:] = [value]
            else:
                nxt = route[i + 1][0]
                cur[:] = [{} if nxt == "key" else []]
                cur = cur[0]
    return body


# ---------------------------------------------------------------------------------------
# values

TEXT_ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                 "æøåÆØÅäöüßéñ東京ÞðĦ") + "".join(["👍", "🫐", "👩\u200d💻", "❤\ufe0f"])
SINK_PATHS = ["/", "/feed.xml", "/page.html", "/hook"]   # what the fuzz test's sink answers
URL_RE = re.compile(r"^https?://[^/]*(/.*)?$")


class Values:
    """Values made from schemas. sink is an http:// base on 127.0.0.1: every address put
    in a request points there, so nothing samtale is asked to reach leaves this machine.
    ids is a callable giving a list of integers that are ids of real objects."""

    def __init__(self, rng, sink, ids=lambda: []):
        self.rng = rng
        self.sink = sink.rstrip("/")
        self.ids = ids
        self.answers = {}   # key -> values seen under that key in answers (learn)
        self.unlearned = set()  # keys never learned

    def learn(self, doc, depth=0):
        """Keeps the strings and integers of an answer by their keys, so that a later body
        field of the same name may carry one (the state connectMastodon answers is what
        finishMastodon takes)."""
        if depth > 3:
            return
        if isinstance(doc, dict):
            for k, v in doc.items():
                if k in self.unlearned:
                    continue
                if isinstance(v, (str, int)) and not isinstance(v, bool) and (not isinstance(v, str) or len(v) < 300):
                    seen = self.answers.setdefault(k, [])
                    if v not in seen:
                        seen.append(v)
                        del seen[:-20]
                else:
                    self.learn(v, depth + 1)
        elif isinstance(doc, list):
            for v in doc[:20]:
                self.learn(v, depth + 1)

    def answered(self, key, schema):
        """A value an answer held under key, of the schema's type, or None."""
        ts = types_of(merged(schema))
        seen = [v for v in self.answers.get(key, []) if type_name(v) in ts]
        return self.local_urls(self.rng.choice(seen)) if seen else None

    # -- addresses --

    def url(self, path=None):
        if path is None:
            path = self.rng.choice(SINK_PATHS + ["/" + "".join(self.rng.choice("abcdefgh/")
                                                                for _ in range(self.rng.randint(0, 12)))])
        return self.sink + (path if path.startswith("/") else "/" + path)

    def local_urls(self, value):
        """value with every http(s) address in it moved to the sink (examples in the
        OpenAPI file name real-looking hosts)."""
        if isinstance(value, str):
            m = URL_RE.match(value)
            return self.url(m.group(1) or "/") if m else value
        if isinstance(value, list):
            return [self.local_urls(v) for v in value]
        if isinstance(value, dict):
            return {k: self.local_urls(v) for k, v in value.items()}
        return value

    # -- valid values --

    def text(self, lo, hi):
        n = self.rng.randint(lo, hi)
        s = "".join(self.rng.choice(TEXT_ALPHABET) for _ in range(n))
        return s

    def string(self, s, name=""):
        fmt = s.get("format")
        lo = s.get("minLength", 0)
        hi = s.get("maxLength", 200)
        if "enum" in s:
            return self.rng.choice(s["enum"])
        if s.get("examples") and (self.rng.random() < 0.7 or "pattern" in s):
            return self.local_urls(self.rng.choice(s["examples"]))
        if fmt == "uri":
            return self.url()
        if fmt == "email":
            return "fuzz%d@example.com" % self.rng.randint(0, 10 ** 9)
        if fmt == "date-time":
            t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
                minutes=self.rng.randint(10, 60 * 24 * 60))
            return t.strftime("%Y-%m-%dT%H:%M:00Z")
        v = self.text(max(lo, 1), max(lo, 1, min(hi, 24))).strip() or "x"
        return v[:hi] if len(v) > hi else v

    def integer(self, s):
        lo = s.get("minimum", -1000)
        hi = s.get("maximum", 10 ** 6)
        if s.get("format") == "int64" and lo >= 1 and self.rng.random() < 0.8 and self.ids():
            return self.rng.choice(self.ids())
        return self.rng.randint(int(lo), int(min(hi, lo + 10 ** 6)))

    def valid(self, schema, depth=0):
        """A value the schema allows (the server may still refuse it for what the schema
        cannot say: a name taken, a channel of another kind)."""
        s = merged(schema)
        if s.get("examples") and self.rng.random() < 0.4 and "object" in types_of(s):
            return self.local_urls(copy.deepcopy(self.rng.choice(s["examples"])))
        ts = [t for t in types_of(s) if t != "null"] or ["string"]
        t = self.rng.choice(ts)
        if t == "object":
            out = {}
            required = set(s.get("required", []))
            for k, sub in s.get("properties", {}).items():
                sub_m = merged(sub)
                # An address with a public default (Bluesky's service_url) is always given:
                # left out, samtale would reach the default.
                keep_default = sub_m.get("format") == "uri" and "default" in sub_m
                if k in required or keep_default or self.rng.random() < 0.5:
                    v = self.answered(k, sub) if self.rng.random() < 0.3 else None
                    out[k] = v if v is not None else self.valid(sub, depth + 1)
            return out
        if t == "array":
            lo = s.get("minItems", 0)
            hi = min(s.get("maxItems", 3), max(lo, 3))
            return [self.valid(s.get("items", {}), depth + 1) for _ in range(self.rng.randint(lo, hi))]
        if t == "string":
            return self.string(s)
        if t == "integer":
            return self.integer(s)
        if t == "number":
            return self.rng.uniform(s.get("minimum", -1000), s.get("maximum", 1000))
        if t == "boolean":
            return self.rng.random() < 0.5
        return None

    # -- broken values --

    def deep(self, depth):
        v = [] if self.rng.random() < 0.5 else {}
        for _ in range(depth):
            v = [v] if self.rng.random() < 0.5 else {"a": v}
        return v

    def bad_string(self, s):
        m = s.get("maxLength", 1000)
        fmt = s.get("format")
        choices = [
            "", " ", "   ", "x" * (m + 1), "x" * m, "é" * m, "😀" * m, "😀" * (m + 1), "a" + "é" * m,
            "ab" + "😀" * m, "abc" + "€" * (m // 2 + 30),
            "\u202enimda", "a\u200bb", "\ufeff", "\u0000", "a\u0000b", "\u0001\u007f\u0085",
            "%s%n%x%p", "' OR 1=1 --", "<script>alert(1)</script>", "../../../etc/passwd",
            "line\r\nInjected: yes", "\\", "\"", "\ud7ff\ue000\uffff", "\U0010ffff",
            "x" * self.rng.choice([1000, 10000, 70000, 300000]),
            "".join(chr(self.rng.randint(0x20, 0x2fff)) for _ in range(self.rng.randint(1, 300))),
            "\u0301" * 50, "9" * 40, "-1", "0", "null", "true", "[]", "{}",
        ]
        if fmt == "uri":
            choices += [self.url("/" + "a" * max(0, m - len(self.sink))), self.url("/" + "a" * (m + 1)),
                        "ftp://127.0.0.1/", "http://", "https://", "http://[::1", "javascript:alert(1)",
                        "file:///etc/passwd", self.url("/a b"), self.url("/\u00e6")]
        if fmt == "email":
            choices += ["a" * (m - 12) + "@example.com", "a" * m + "@example.com", "@", "a@", "@b",
                        "a@b@c", "\u202e@example.com"]
        if fmt == "date-time":
            choices += ["2027-02-30T00:00:00Z", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59Z",
                        "2027-01-01T00:00:00", "2027-01-01T24:00:00Z", "2027-01-01T00:00:00.%sZ" % ("9" * 50),
                        "2027-01-01T00:00:00+99:99", "now", "next_slot"]
        if "enum" in s:
            choices += [e.upper() for e in s["enum"] if isinstance(e, str)] + [
                (e + " ") for e in s["enum"] if isinstance(e, str)]
        return self.rng.choice(choices)

    def bad_number(self, s):
        lo, hi = s.get("minimum"), s.get("maximum")
        choices = [0, -1, 1, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53, 2 ** 63 - 1, 2 ** 63, -2 ** 63,
                   -2 ** 63 - 1, 2 ** 64, 10 ** 30, 1.5, -0.0, 1e308, -1e308, 1e-300]
        for b in (lo, hi):
            if b is not None:
                choices += [b, b - 1, b + 1]
        return self.rng.choice(choices)

    def bad(self, schema):
        """A value the schema does not allow, or one at its edges."""
        s = merged(schema)
        ts = types_of(s)
        r = self.rng.random()
        if r < 0.35:
            return self.rng.choice([None, True, False, 0, -1, 1.5, "", "x", [], {}, [1, "a", None],
                                    {"a": 1}, self.deep(self.rng.choice([2, 50, 600]))])
        if "string" in ts:
            return self.bad_string(s)
        if "integer" in ts or "number" in ts:
            return self.bad_number(s)
        if "array" in ts:
            item = s.get("items", {})
            n = s.get("maxItems", 10)
            return self.rng.choice([
                [], [self.valid(item) for _ in range(min(n + 1, 300))],
                [self.bad(item)], [self.valid(item), self.bad(item)], [None], [[]] * 3,
                [self.valid(item)] * min(n, 300),
            ])
        if "object" in ts:
            v = self.valid(s)
            if isinstance(v, dict) and v and self.rng.random() < 0.5:
                k = self.rng.choice(sorted(v))
                sub = s.get("properties", {}).get(k, {})
                v[k] = self.bad(sub)
            else:
                v = dict(v) if isinstance(v, dict) else {}
                v["x" * self.rng.choice([1, 64, 65, 300])] = self.rng.choice(["x" * 20000, 1, None, []])
            return v
        return self.rng.choice([None, "x", 1, [], {}])


# ---------------------------------------------------------------------------------------
# checking answers against the schemas (the subset of JSON Schema the file uses)

DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _type_ok(v, t):
    return {"object": isinstance(v, dict), "array": isinstance(v, list), "string": isinstance(v, str),
            "integer": isinstance(v, int) and not isinstance(v, bool),
            "number": isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": isinstance(v, bool), "null": v is None}[t]


def validate(v, schema, where="$"):
    """Problems of value v against schema, as a list of strings."""
    errs = []
    schema = resolve(schema)
    for sub in schema.get("allOf", []):
        errs += validate(v, sub, where)
    if "oneOf" in schema or "anyOf" in schema:
        alts = schema.get("oneOf", []) + schema.get("anyOf", [])
        if all(validate(v, a, where) for a in alts):
            errs.append("%s: %r matches none of the alternatives" % (where, v))
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_type_ok(v, x) for x in types):
            return errs + ["%s: %r is not of type %s" % (where, v, t)]
    if "enum" in schema and v not in schema["enum"]:
        errs.append("%s: %r not in %r" % (where, v, schema["enum"]))
    if "const" in schema and v != schema["const"]:
        errs.append("%s: %r is not %r" % (where, v, schema["const"]))
    if isinstance(v, dict):
        for k in schema.get("required", []):
            if k not in v:
                errs.append("%s: lacks %r" % (where, k))
        for k, sub in schema.get("properties", {}).items():
            if k in v:
                errs += validate(v[k], sub, "%s.%s" % (where, k))
    if isinstance(v, list) and "items" in schema:
        for i, x in enumerate(v):
            errs += validate(x, schema["items"], "%s[%d]" % (where, i))
    if isinstance(v, str):
        if len(v) < schema.get("minLength", 0) or len(v) > schema.get("maxLength", 1 << 30):
            errs.append("%s: length %d out of range" % (where, len(v)))
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errs.append("%s: %r does not match %s" % (where, v, schema["pattern"]))
        if schema.get("format") == "date-time" and not DATE_TIME.match(v):
            errs.append("%s: %r is not RFC 3339" % (where, v))
    if _type_ok(v, "number"):
        if "minimum" in schema and v < schema["minimum"]:
            errs.append("%s: %r < %r" % (where, v, schema["minimum"]))
        if "maximum" in schema and v > schema["maximum"]:
            errs.append("%s: %r > %r" % (where, v, schema["maximum"]))
    return errs


def answer_problems(op, status, doc):
    """Problems of a JSON answer against what op documents for status."""
    resp = op.responses.get(str(status))
    if resp is None:
        return ["status %d is not documented" % status]
    sch = resp.get("content", {}).get("application/json", {}).get("schema")
    return validate(doc, sch) if sch is not None else []
