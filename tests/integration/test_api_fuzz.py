"""A fuzz test of every route of docs/api/openapi.yaml, against the real server.

For SAMTALE_API_FUZZ_SECONDS (default 45) it sends requests to every operation the
OpenAPI file lists (read with PyYAML; test_openapi.py keeps the file and the route table
in step, so a new route is fuzzed as soon as it is documented): bodies made from the
operation's request schema (types, enums, formats, required fields, the schema's
examples), then broken ones (fields missing, unknown or of the wrong type, strings empty,
at and past their bound or huge, deep nesting, invalid UTF-8, NUL, numbers at and past
their bounds, invalid JSON, wrong Content-Type), path parameters (real ids, ids of other
workspaces, 0, negative, huge, not numbers) and query parameters likewise, as the owner's
session (with the CSRF token), the owner's token, a token with few scopes, and no one.

What must hold, for every answer:
  - no 5xx, except one the operation documents other than 500 (502 `peer_unavailable`
    where samtale asks a network: here the local sink below; 503 from /readyz);
  - every non-2xx answer is exactly the error shape ({"error":{"code","message",
    "field"?,"violations"?}} as the Error schema says, code and message non-empty
    strings), except a 3xx the operation documents (the Mastodon callback's redirect);
  - an object of another workspace, or a workspace the caller cannot see, never answers
    2xx;
  - the server stays up, and its standard error shows no sanitizer report.

Every address put in a request (format uri, and the examples' addresses) points at a sink
on 127.0.0.1 that answers 404, so nothing samtale is asked to reach leaves this machine;
an address with a public default (Bluesky's service_url) is never left out.

The random generator is seeded; the seed is printed, and SAMTALE_API_FUZZ_SEED=N replays
the same sequence of requests (the time budget decides how far it gets).
SAMTALE_API_FUZZ_VERBOSE=1 prints the answers' statuses for every operation (by default
only for operations that never succeeded).

Not covered, and why: a request line or headers over libmicrohttpd's 32 KiB of memory
per connection are refused by libmicrohttpd itself (414 or 431, an HTML page, before
samtale sees the request), so query strings stay under QUERY_MAX.
"""

import http.client
import http.server
import json
import os
import random
import re
import threading
import time
import urllib.parse

import apispec
import harness
from harness import expect

SECONDS = float(os.environ.get("SAMTALE_API_FUZZ_SECONDS", "45"))
SESSIONS = 12             # spare logins of the owner: a fuzzed logout ends one
QUERY_MAX = 8000          # characters of a query string (the server's header memory is 32 KiB)
JUNK_IDS = ["0", "-1", "00", "9223372036854775807", "9223372036854775808", "18446744073709551616",
            "99999999999999999999999999999999", "abc", "1e3", "0x10", "%00", "1%2F2", "%EF%BC%91", "+5", "%201",
            "1%20", "..", "." * 3, "9" * 300, "%FF", "1;2", "?x=1", "%3F1"]
BAD_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
             "application/jsonx", "application/json-patch+json", "APPLICATION/JSON", "application/json; charset=latin1",
             "application/json;", "application/json ; x=1", "json", ""]


FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Fuzz</title><link>/</link>'
        b'<item><title>One</title><link>/one</link><guid>one</guid></item></channel></rss>')
PAGE = b'<html><head><link rel="alternate" type="application/rss+xml" title="Fuzz" href="/feed.xml"></head></html>'
CANNED = {  # path -> (status, content type, body): enough of Mastodon, Bluesky, a feed and a page
    "/feed.xml": (200, "application/rss+xml", FEED),
    "/page.html": (200, "text/html", PAGE),
    "/hook": (200, "application/json", b"{}"),
    "/api/v1/apps": (200, "application/json", b'{"client_id":"fuzz-id","client_secret":"fuzz-secret"}'),
    "/oauth/token": (200, "application/json", b'{"access_token":"fuzz-token","token_type":"Bearer"}'),
    "/api/v1/accounts/verify_credentials": (200, "application/json", b'{"id":"1","acct":"fuzz","username":"fuzz"}'),
    "/api/v1/statuses": (200, "application/json", b'{"id":"100","url":"/@fuzz/100"}'),
    "/api/v1/notifications": (200, "application/json", b"[]"),
    "/api/v1/conversations": (200, "application/json", b"[]"),
    "/xrpc/com.atproto.server.createSession": (200, "application/json",
                                               b'{"accessJwt":"a","refreshJwt":"r","did":"did:plc:fuzz",'
                                               b'"handle":"fuzz.test"}'),
    "/xrpc/com.atproto.repo.createRecord": (200, "application/json",
                                            b'{"uri":"at://did:plc:fuzz/app.bsky.feed.post/3k","cid":"bafy"}'),
    "/xrpc/app.bsky.notification.listNotifications": (200, "application/json", b'{"notifications":[]}'),
}


class Sink:
    """An HTTP server on 127.0.0.1, in a thread: canned answers for a few paths of the
    networks samtale speaks to (CANNED), 404 for everything else."""

    def __init__(self):
        self.hits = 0
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                if 0 < n <= 1 << 20:
                    self.rfile.read(n)
                sink.hits += 1
                status, ctype, body = CANNED.get(self.path.split("?")[0], (404, "application/json",
                                                                           b'{"error":"not here"}'))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(harness.TIMEOUT)


class World:
    """The server and the real objects the requests aim at."""

    def __init__(self):
        self.inst = harness.Instance()
        self.sink = None
        self.sessions = []
        self.logins = 0
        self.seed = int(os.environ.get("SAMTALE_API_FUZZ_SEED") or random.SystemRandom().randrange(1 << 32))

    def setup(self):
        inst = self.inst
        inst.prepare()
        harness.cli_ok(inst.db, "workspace", "add", "Foreign", "--timezone", "Europe/Oslo")
        inst.start()
        self.sink = Sink()
        for _ in range(SESSIONS):
            cookie, csrf, _ = inst.login()
            self.sessions.append((cookie, csrf))
        self.cookie, self.csrf = self.sessions.pop()
        self.ended = "A" * 43   # a session cookie that was never (or is no longer) valid
        self.acme = inst.wid
        other = expect(self.owner("POST", "/api/v1/workspaces", json={"name": "Other"}), 201)
        self.other = other["id"]
        self.foreign = [x["id"] for x in harness.cli_json(inst.db, "workspace", "list") if x["name"] == "Foreign"][0]
        # ids by kind of path parameter: {id: workspace id it belongs to}
        self.ids = {"cid": {}, "pid": {}, "oid": {}, "uid": {}, "tid": {}, "iid": {}}
        self.invites = []   # secrets of invitation links (the {token} of /api/v1/invitations/...)
        for wid in (self.acme, self.other):
            base = "/api/v1/workspaces/%d" % wid
            ch = expect(self.owner("POST", base + "/channels", json={
                "kind": "file", "name": "fuzz-file", "settings": {"path": "fuzz-%d.jsonl" % wid}}), 201)
            self.ids["cid"][ch["id"]] = wid
            p = expect(self.owner("POST", base + "/posts", json={"text": "a draft to aim at"}), 201)
            self.ids["pid"][p["id"]] = wid
            p = expect(self.owner("POST", base + "/posts", json={"text": "scheduled to aim at",
                                                                  "channels": [ch["id"]], "schedule": "next_slot"}), 201)
            self.ids["pid"][p["id"]] = wid
            self.ids["oid"][p["occurrences"][0]["id"]] = wid
            # Members join by invitation: one accepted (a viewer to aim at), one left waiting.
            email = "viewer-%d@example.com" % wid
            inv = expect(self.owner("POST", base + "/invitations", json={"email": email, "name": "Viewer",
                                                                       "role": "viewer"}), 201)
            secret = inv["link"].rsplit("/#/invite/", 1)[1]
            expect(harness.request(self.inst.port, "POST", "/api/v1/invitations/%s/accept" % secret,
                                   json={"password": "viewer-password-1"}), 201)
            m = [x for x in expect(self.owner("GET", base + "/members?limit=200"), 200)["items"] if x["email"] == email]
            self.ids["uid"][m[0]["user_id"]] = wid
            waiting = expect(self.owner("POST", base + "/invitations", json={"email": "waiting-%d@example.com" % wid,
                                                                           "role": "agent"}), 201)
            self.ids["iid"][waiting["id"]] = wid
            self.invites.append(waiting["link"].rsplit("/#/invite/", 1)[1])
            t = expect(self.owner("POST", base + "/tokens", json={"name": "target", "scopes": ["audit:read"]}), 201)
            self.ids["tid"][t["id"]] = wid
        self.file_channel = [c for c, w in self.ids["cid"].items() if w == self.acme][0]
        self.fixed = {(param, i) for param, pool in self.ids.items() for i in pool}
        limited = expect(self.owner("POST", "/api/v1/workspaces/%d/tokens" % self.acme,
                                    json={"name": "limited", "scopes": ["posts:read", "channels:read"]}), 201)
        self.limited = limited["token"]
        cal = expect(self.owner("POST", "/api/v1/workspaces/%d/calendar" % self.acme), 201)
        self.ical = [cal["path"].rsplit("/", 1)[1]]
        return self

    def owner(self, method, path, **kw):
        return harness.request(self.inst.port, method, path, cookie=self.cookie, csrf=self.csrf, **kw)

    def all_ids(self):
        out = []
        for d in self.ids.values():
            out += list(d)
        return out

    def refresh(self):
        """Brings back what the fuzzing took away: the file channel, a fresh draft (with the
        owner's token, which the fuzzing cannot revoke: its id is in no pool)."""
        base = "/api/v1/workspaces/%d" % self.acme
        if self.inst.get(base + "/channels/%d" % self.file_channel).status == 404:
            r = self.inst.post(base + "/channels", json={
                "kind": "file", "name": "fuzz-file-%d" % time.monotonic_ns(), "settings": {"path": "fuzz.jsonl"}})
            if r.status == 201:
                self.file_channel = r.json()["id"]
                self.add("cid", self.file_channel, self.acme)
        r = self.inst.post(base + "/posts", json={"text": "a fresh draft %d" % time.monotonic_ns()})
        if r.status == 201:
            self.add("pid", r.json()["id"], self.acme)

    def add(self, param, id_, wid):
        """id_ (of workspace wid) joins the pool of path parameter param; the pool keeps the
        targets made at the start and the 40 newest others."""
        pool = self.ids[param]
        pool[id_] = wid
        extra = [i for i in pool if (param, i) not in self.fixed]
        for i in extra[:max(0, len(extra) - 40)]:
            del pool[i]

    def session_died(self):
        """The owner's session ended (a fuzzed logout): the next spare one takes over, or a
        new login does. The fuzzed logins fail, and failures are counted per address: a
        new login comes from another loopback address (127.0.0.2 and on) each time."""
        if self.sessions:
            self.cookie, self.csrf = self.sessions.pop()
            return
        self.logins += 1
        conn = http.client.HTTPConnection("127.0.0.1", self.inst.port, timeout=harness.TIMEOUT,
                                          source_address=("127.0.%d.%d" % (self.logins // 250, 2 + self.logins % 250), 0))
        try:
            conn.request("POST", "/api/v1/auth/login", body=json.dumps(
                {"email": harness.OWNER_EMAIL, "password": harness.OWNER_PASSWORD}),
                headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            doc = json.loads(r.read())
            cookie = harness.session_cookie(harness.Response(r.status, r.reason, r.headers, b"", "POST", "/"))[0]
        finally:
            conn.close()
        if r.status != 200 or not cookie:
            raise AssertionError("the owner cannot log in again: %d %r" % (r.status, doc))
        self.cookie, self.csrf = cookie, doc["csrf_token"]

    def close(self):
        try:
            if self.sink:
                self.sink.close()
        finally:
            self.inst.close()


def setup_module():
    w = World()
    try:
        return w.setup()
    except BaseException:
        w.close()
        raise


def teardown_module(w):
    w.close()


# ---------------------------------------------------------------------------------------
# making requests


class Req:
    def __init__(self, op, method, path, query, body, ctype, identity, csrf_ok, cross):
        self.op, self.method, self.path, self.query = op, method, path, query
        self.body, self.ctype, self.identity, self.csrf_ok, self.cross = body, ctype, identity, csrf_ok, cross

    @property
    def url(self):
        return self.path + ("?" + self.query if self.query else "")

    def __str__(self):
        b = self.body if self.body is not None else b""
        shown = b[:600] + (b"... (%d bytes)" % len(b) if len(b) > 600 else b"")
        return "%s %s as %s%s, Content-Type %r, body %r" % (
            self.method, self.url[:600], self.identity, "" if self.csrf_ok else " (no CSRF token)", self.ctype, shown)


class Fuzzer:
    def __init__(self, world, rng):
        self.w = world
        self.rng = rng
        self.values = apispec.Values(rng, world.sink.url, world.all_ids)
        # A member's email used again would make them a member of another workspace too,
        # and the check that another workspace's member is not found relies on that not
        # happening.
        self.values.unlearned = {"email"}
        self.ends_session = set()   # operations seen to end the caller's session
        self.by_route = {(o.method, o.path): o for o in apispec.operations()}
        self.error_keys = set(apispec.merged(apispec.merged(apispec.spec()["components"]["schemas"]["Error"])
                                             ["properties"]["error"]).get("properties", {}))

    def learn_id(self, req, doc):
        """An object a POST made ("id" in the answer) becomes a target of the paths below its
        collection: POST .../channels answering {"id": 7} puts 7 in the pool of {cid}."""
        if req.method != "POST" or not isinstance(doc, dict) or not isinstance(doc.get("id"), int):
            return
        m = re.match(r"^/api/v1/workspaces/(\d+)/", req.path)
        if not m:
            return
        for o in self.by_route.values():
            sub = re.match(re.escape(req.op.path) + r"/\{(\w+)\}", o.path)
            if sub and sub.group(1) in self.w.ids:
                self.w.add(sub.group(1), doc["id"], int(m.group(1)))

    # -- path --

    def path(self, op, identity):
        """The path with its parameters filled; cross is True when it names something the
        identity cannot see (another workspace, or an object of another one)."""
        rng, w = self.rng, self.w
        r = rng.random()
        home = w.acme if r < 0.8 else w.other if r < 0.93 else w.foreign
        cross = home == w.foreign or (identity in ("token", "limited") and home != w.acme)
        filled = {}
        for name in re.findall(r"\{(\w+)\}", op.path):
            if name == "wid":
                filled[name] = str(home) if rng.random() < 0.93 else rng.choice(JUNK_IDS)
            elif name == "token":
                filled[name] = rng.choice(self.w.ical + self.w.invites + ["x" * rng.randint(1, 101), "cal_" + "A" * 43,
                                                                          "inv_" + "A" * 43, "%00", "..", "a/b", "%2F"])
            else:
                pool = w.ids.get(name, {})
                r = rng.random()
                if r < 0.75 and pool:
                    mine = [i for i, ws in pool.items() if ws == home] or list(pool)
                    v = rng.choice(mine)
                elif r < 0.85 and pool:
                    v = rng.choice(list(pool))
                else:
                    filled[name] = rng.choice(JUNK_IDS)
                    continue
                if pool.get(v) != home:
                    cross = True
                filled[name] = str(v)
        if "wid" not in filled or not filled["wid"].isdigit():
            cross = False  # no workspace in the path, or not a workspace id at all
        return re.sub(r"\{(\w+)\}", lambda m: filled[m.group(1)], op.path), cross

    # -- query --

    def query(self, op):
        rng, parts = self.rng, []
        for p in op.query_params:
            r = rng.random()
            if r < 0.5:
                continue
            s = p.get("schema", {})
            if r < 0.85:
                v = self.values.valid(s)
                if p["name"] == "cursor":
                    v = rng.choice(["djE6MQ", "djE6OTk5OTk5", "v1:1", ""])
            else:
                v = self.values.bad(s)
            if not isinstance(v, str):
                v = json.dumps(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else repr(v)
            parts.append("%s=%s" % (urllib.parse.quote(p["name"]), urllib.parse.quote(v, safe="")))
        if rng.random() < 0.05:
            parts.append(rng.choice(["x=1", "limit=%FF", "cursor=%00", "a%00b=c", "=", "&&", "limit=1&limit=2",
                                     "kind=" + "x" * 3000]))
        q = "&".join(parts)
        return q[:QUERY_MAX]

    # -- body --

    def location(self, schema):
        """A random place in a body of this schema: (route, sub-schema)."""
        route, s = [], apispec.merged(schema)
        while True:
            props = s.get("properties", {})
            if props and (not route or self.rng.random() < 0.4):
                k = self.rng.choice(sorted(props))
                route.append(("key", k))
                s = apispec.merged(props[k])
                continue
            if "array" in apispec.types_of(s) and route and self.rng.random() < 0.3:
                route.append(("item", None))
                s = apispec.merged(s.get("items", {}))
                continue
            return route, s

    def raw(self, text):
        """Broken bytes around a JSON text."""
        rng = self.rng
        b = text.encode()
        choice = rng.randrange(14)
        if choice == 0 and len(b) > 1:
            return b[:rng.randrange(1, len(b))]                          # cut short
        if choice == 1:
            return b + rng.choice([b"x", b"{}", b"\x00", b",", b" ]"])   # trailing bytes
        if choice == 2:
            i = b.find(b'":"')
            bad = rng.choice([b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x80"])
            return b[:i + 3] + bad + b[i + 3:] if i >= 0 else b'{"name":"' + bad + b'"}'
        if choice == 3:
            i = b.find(b'":"')
            return b[:i + 3] + b"\x00" + b[i + 3:] if i >= 0 else b'{"a":"\x00"}'
        if choice == 4:
            return b'{"name":"a","name":"b","text":"c","text":"d"}'
        if choice == 5:
            d = rng.choice([100, 2000, 3000, 20000])
            return b"[" * d + b"]" * d if rng.random() < 0.5 else b'{"a":' * d + b"1" + b"}" * d
        if choice == 6:
            return rng.choice([b"", b" ", b"null", b"[]", b'"x"', b"1", b"true", b"{", b"}", b"nul", b'{"a":}'])
        if choice == 7:
            return b"\xef\xbb\xbf" + b                                    # a byte order mark
        if choice == 8:
            return b'{"per_day":1e999,"count":99999999999999999999999,"days":-0}'
        if choice == 9:
            return b'{"text":"\\ud800","name":"\\udfff\\ud800"}'
        if choice == 10:
            return b'{"text":"' + b"\\u0000" * 10 + b'"}'
        if choice == 11 and rng.random() < 0.2:
            return b'{"text":"' + b"x" * (1100 * 1024) + b'"}'             # over max_body
        if choice == 12:
            return b"\x00" * rng.randint(1, 64)
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))

    def body(self, op):
        """(bytes or None, Content-Type or None)"""
        rng, v = self.rng, self.values
        if op.body is None:
            if rng.random() < 0.9:
                return None, None
            return self.raw(json.dumps({"x": 1})), "application/json"
        r = rng.random()
        body = v.valid(op.body)
        if r < 0.4:
            pass
        elif r < 0.85:
            kind = rng.randrange(5)
            if kind == 0 and isinstance(body, dict) and body:
                # A required field goes; an address with a public default never does.
                keys = [k for k in body if not (apispec.merged(apispec.merged(op.body).get("properties", {})
                                                                 .get(k, {})).get("default") and
                                                 apispec.merged(apispec.merged(op.body)["properties"][k])
                                                 .get("format") == "uri")]
                if keys:
                    del body[rng.choice(keys)]
            elif kind == 1 and isinstance(body, dict):
                body[rng.choice(["x", "unknown", "id", "__proto__", "name ", "NAME", "ø" * 40, "a" + "ø" * 40, "ab" + "😀" * 20, "a" * 300,
                                 "😀" * 30, "", "\u202e"])] = \
                    v.bad({})
            elif kind == 2:
                body = v.bad(op.body)
            else:
                route, sub = self.location(op.body)
                if route:
                    body = apispec.put_at(body if isinstance(body, dict) else {}, route, v.bad(sub))
        else:
            return self.raw(json.dumps(body)), self.ctype()
        try:
            text = json.dumps(body, ensure_ascii=rng.random() < 0.5)
        except ValueError:
            text = json.dumps(body)
        return text.encode("utf-8", "surrogatepass"), self.ctype()

    def ctype(self):
        r = self.rng.random()
        if r < 0.9:
            return "application/json"
        if r < 0.93:
            return None
        return self.rng.choice(BAD_TYPES)

    def request(self, op):
        rng = self.rng
        r = rng.random()
        identity = "session" if r < 0.35 else "token" if r < 0.6 else "limited" if r < 0.8 else "none"
        if identity == "session" and op.id in self.ends_session and rng.random() < 0.95:
            identity = "ended session"  # each real one costs a login (argon2): now and then
        path, cross = self.path(op, identity)
        body, ctype = self.body(op)
        method = op.method
        if rng.random() < 0.02:
            # Another method on the same path: judged by that method's operation, if any.
            method = rng.choice(["PUT", "OPTIONS", "PATCH", "DELETE", "GET", "POST"])
            op = self.by_route.get((method, op.path), op)
        csrf_ok = rng.random() < 0.97
        return Req(op, method, path, self.query(op), body, ctype, identity, csrf_ok, cross)

    def send(self, req):
        w, kw = self.w, {}
        if req.identity == "session":
            kw["cookie"] = w.cookie
            if req.csrf_ok:
                kw["csrf"] = w.csrf
        elif req.identity == "ended session":
            kw["cookie"] = w.ended
            kw["csrf"] = w.csrf
        elif req.identity == "token":
            kw["token"] = w.inst.token
        elif req.identity == "limited":
            kw["token"] = w.limited
        if req.body is not None and len(req.body) > 1 << 20:
            # The server answers 413 before reading such a body: send it as a stream that
            # stops when the answer comes.
            h = {"Content-Length": str(len(req.body))}
            if req.ctype is not None:
                h["Content-Type"] = req.ctype
            if "token" in kw:
                h["Authorization"] = "Bearer " + kw["token"]
            if "cookie" in kw:
                h["Cookie"] = "samtale_session=" + kw["cookie"]
            if "csrf" in kw:
                h["X-CSRF-Token"] = kw["csrf"]
            chunks = (req.body[i:i + 65536] for i in range(0, len(req.body), 65536))
            return harness.request_streamed(w.inst.port, req.method, req.url, h, chunks, timeout=60)
        return harness.request(w.inst.port, req.method, req.url, body=req.body, content_type=req.ctype,
                               timeout=60, **kw)

    # -- judging --

    def problems(self, req, resp):
        op, st, out = req.op, resp.status, []
        documented_method = req.method == op.method
        if st >= 500 and (st == 500 or not documented_method or not op.documents(st)):
            out.append("answered %d" % st)
        if 200 <= st < 300:
            if documented_method and resp.body and (resp.header("Content-Type") or "").startswith("application/json"):
                try:
                    doc = json.loads(resp.body)
                except ValueError:
                    doc = None
                    out.append("answer is not JSON: %r" % resp.body[:300])
                for p in apispec.answer_problems(op, st, doc)[:5] if doc is not None else []:
                    out.append("answer does not match openapi.yaml: " + p)
            if req.cross:
                out.append("answered %d for another workspace's object" % st)
            if not documented_method:
                out.append("answered %d to a method the route does not have" % st)
        elif 300 <= st < 400:
            if not documented_method or not op.documents(st):
                out.append("answered an undocumented %d" % st)
        elif st >= 400:
            ctype = resp.header("Content-Type") or ""
            if not ctype.startswith("application/json"):
                out.append("error answer with Content-Type %r" % ctype)
            try:
                doc = json.loads(resp.body)
            except ValueError:
                return out + ["error answer is not JSON: %r" % resp.body[:300]]
            e = doc.get("error") if isinstance(doc, dict) else None
            if not isinstance(doc, dict) or set(doc) != {"error"} or not isinstance(e, dict):
                return out + ["error answer is not {\"error\":{...}}: %r" % resp.body[:300]]
            for k in ("code", "message"):
                if not isinstance(e.get(k), str) or not e.get(k):
                    out.append("error.%s is not a non-empty string: %r" % (k, e.get(k)))
            if "field" in e and not isinstance(e["field"], str):
                out.append("error.field is not a string: %r" % e["field"])
            extra = set(e) - self.error_keys
            if extra:
                out.append("error has keys the Error schema does not: %r" % sorted(extra))
        return out


def test_fuzz_every_route(w):
    rng = random.Random(w.seed)
    print("# api fuzz: seed %d (replay: SAMTALE_API_FUZZ_SEED=%d), %.0f s" % (w.seed, w.seed, SECONDS))
    fz = Fuzzer(w, rng)
    ops = apispec.operations()
    assert len(ops) >= 40, "openapi.yaml lists only %d operations" % len(ops)
    stats = {repr(op): {} for op in ops}
    failures = {}
    n = 0
    deadline = time.monotonic() + SECONDS
    next_refresh = time.monotonic() + 3
    order = []
    while time.monotonic() < deadline and len(failures) < 40:
        if not order:
            order = list(ops)
            rng.shuffle(order)
        op = order.pop()
        req = fz.request(op)
        n += 1
        try:
            resp = fz.send(req)
        except (OSError, Exception) as e:  # the server went away or hung
            alive = w.inst.server.proc.poll() is None
            raise AssertionError("request %d (seed %d) got no answer (%s: %s); server %s\n  %s\nlog: %s"
                                 % (n, w.seed, type(e).__name__, e, "still running" if alive else "exited",
                                    req, w.inst.server.log_tail(4000)))
        got = stats[repr(op)]
        got[resp.status] = got.get(resp.status, 0) + 1
        for p in fz.problems(req, resp):
            # One example of each kind of problem per operation; the run goes on to find others.
            kind = (repr(req.op), re.sub(r"\d+|'.*|\$.*|b'.*", "", p)[:60])
            if kind not in failures:
                failures[kind] = "request %d: %s\n    %s\n    answer: %d %r" % (n, p, req, resp.status,
                                                                              resp.body[:400])
        if 200 <= resp.status < 300 and resp.body.startswith(b"{"):
            inv = re.search(rb'/#/invite/(inv_[A-Za-z0-9_-]+)"', resp.body)
            if inv and len(w.invites) < 50:
                w.invites.append(inv.group(1).decode())
            m = re.search(rb'"/ical/([A-Za-z0-9_-]+)"', resp.body)
            if m:
                w.ical.append(m.group(1).decode())
            try:
                doc = json.loads(resp.body)
            except ValueError:
                doc = None   # reported by problems()
            fz.values.learn(doc)
            fz.learn_id(req, doc)
        if req.identity == "session" and 200 <= resp.status < 300 and \
                any(c.startswith("samtale_session=;") for c in resp.headers.get_all("Set-Cookie") or []):
            fz.ends_session.add(req.op.id)
            w.ended = w.cookie
            w.session_died()
        elif req.identity == "session" and resp.status == 401:
            w.session_died()
        if n % 100 == 0:
            log = w.inst.server.log_tail(1 << 22)
            for mark in harness.SANITIZER_MARKS:
                if mark in log:
                    i = log.find(mark)
                    raise AssertionError("after request %d (seed %d) the server log has a sanitizer report:\n%s"
                                         % (n, w.seed, log[max(0, i - 300):i + 3000]))
        if time.monotonic() > next_refresh:
            w.refresh()
            next_refresh = time.monotonic() + 3
    expect(harness.request(w.inst.port, "GET", "/healthz"), 200)
    assert w.inst.server.proc.poll() is None, "the server exited"
    ok = sum(1 for s in stats.values() for st in s if 200 <= st < 300)
    print("# api fuzz: %d requests over %d operations, %d operations answered 2xx at least once, sink hit %d times"
          % (n, len(ops), sum(1 for s in stats.values() if any(200 <= st < 300 for st in s)), w.sink.hits))
    verbose = os.environ.get("SAMTALE_API_FUZZ_VERBOSE")
    for name, s in sorted(stats.items()):
        if verbose or not any(200 <= st < 400 for st in s):
            print("#   %-70s %s" % (name, " ".join("%d:%d" % kv for kv in sorted(s.items()))))
    assert not failures, "seed %d (replay: SAMTALE_API_FUZZ_SEED=%d):\n" % (w.seed, w.seed) + \
        "\n".join(failures.values())
    untried = [name for name, s in stats.items() if not s]
    assert not untried, "operations never tried in %.0f s: %r" % (SECONDS, untried)
    assert ok > 0
