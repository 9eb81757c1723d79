"""The Bluesky connector (CH1) against a real PDS: @atproto/pds with an in-memory PLC
directory, started by tests/peers/bsky/start.mjs on 127.0.0.1 and stopped by its PID.

Through samtale's API: a post with a mention, a link, a #tag, æøå and emoji lands in
alice.test's repository with the right text and facets (UTF-8 byte offsets, the mention
resolved to bob.test's DID) and a record key derived from the occurrence; a series with
replace_previous deletes the previous copy from the repository (P4); a record that an
earlier attempt made (its answer lost) is found and counted as published, not made twice;
SIGKILLs of the samtale server right after publishes are claimed never make a second
record for one occurrence; an access token answered ExpiredToken is refreshed (not a new
login) and the post goes out once; an app password the PDS refuses fails the post with a message
that says to reconnect the channel.

Needs tests/peers/bsky/node_modules (scripts/deps.sh runs `npm ci` there): without it
every test here fails with a message saying so."""

import hashlib
import json
import os
import random
import shutil
import subprocess
import threading
import time
from urllib.parse import quote

import harness
import peers
from harness import expect

PEER_DIR = os.path.join(harness.REPO, "tests", "peers", "bsky")
START_TIMEOUT = 120.0
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


class Pds:
    """tests/peers/bsky/start.mjs: a PDS and a PLC on 127.0.0.1, alice.test and bob.test."""

    def __init__(self, workdir):
        if not os.path.isdir(os.path.join(PEER_DIR, "node_modules", "@atproto", "pds")):
            raise AssertionError("tests/peers/bsky/node_modules is missing: run `npm ci` in tests/peers/bsky "
                                 "(scripts/deps.sh does) to install the Bluesky PDS these tests need")
        node = shutil.which("node")
        if not node:
            raise AssertionError("node is not installed; the Bluesky PDS peer needs Node 20 or later")
        self.log_path = os.path.join(workdir, "pds.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([node, "start.mjs"], cwd=PEER_DIR, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._log)
        line = peers.first_line(self.proc, START_TIMEOUT)
        try:
            info = json.loads(line) if line else None
        except ValueError:
            info = None
        if not info:
            self.stop()
            raise AssertionError("the PDS peer did not start within %.0f s: %r; log: %s"
                                 % (START_TIMEOUT, line, self.log_tail()))
        self.info = info
        self.url = info["pds"]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.alice = info["accounts"]["alice"]
        self.bob = info["accounts"]["bob"]

    def log_tail(self, n=2000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""

    def xrpc(self, nsid, params=None, body=None, token=None):
        path = "/xrpc/" + nsid
        if params:
            path += "?" + "&".join("%s=%s" % (k, quote(str(v), safe="")) for k, v in params.items())
        r = harness.request(self.port, "POST" if body is not None else "GET", path, json=body, token=token)
        return r.status, (r.json() if r.body else None)

    def login(self, who):
        st, doc = self.xrpc("com.atproto.server.createSession",
                            body={"identifier": who["handle"], "password": who["password"]})
        assert st == 200, (st, doc)
        return doc["accessJwt"]

    def records(self, did):
        """Every app.bsky.feed.post record of the repository: {rkey: value}."""
        out, cursor = {}, None
        while True:
            params = {"repo": did, "collection": "app.bsky.feed.post", "limit": 100}
            if cursor:
                params["cursor"] = cursor
            st, doc = self.xrpc("com.atproto.repo.listRecords", params)
            assert st == 200, (st, doc)
            for rec in doc["records"]:
                out[rec["uri"].rsplit("/", 1)[1]] = rec["value"]
            cursor = doc.get("cursor")
            if not cursor or not doc["records"]:
                return out

    def stop(self):
        peers.stop_process(self.proc)
        self._log.close()


class Ctx:
    pass


ENV = {"SAMTALE_PUBLISH_TIMEOUT_MS": "5000", "SAMTALE_PUBLISH_BACKOFF_S": "1", "SAMTALE_LOG_LEVEL": "info"}


def setup_module():
    ctx = Ctx()
    ctx.inst = harness.Instance()
    ctx.pds = None
    try:
        ctx.pds = Pds(ctx.inst.dir)
        ctx.inst.prepare()
        ctx.inst.server = harness.Server(ctx.inst.db, ctx.inst.dir, env=ENV).start()
        ctx.inst.wid = expect(ctx.inst.get("/api/v1/me"), 200)["token"]["workspace_id"]
        ctx.channel = harness.new_channel(ctx.inst, "bsky-alice", kind="bluesky",
                                          secret=ctx.pds.alice["app_password"],
                                          settings={"handle": "alice.test", "service_url": ctx.pds.url,
                                                    "langs": ["nb"]},
                                          max_per_hour=1000, max_per_day=10000)
    except BaseException:
        teardown_module(ctx)
        raise
    return ctx


def teardown_module(ctx):
    try:
        ctx.inst.close()
    finally:
        if ctx.pds:
            ctx.pds.stop()


def restart(ctx):
    ctx.inst.server = harness.Server(ctx.inst.db, ctx.inst.dir, env=ENV).start()


def tid(planned_at, key):
    """The record key samtale derives (channel/bluesky.h): planned_at's microseconds plus a
    sub-second part, and a clock id, both from BLAKE2b-128 of the idempotency key."""
    h = hashlib.blake2b(key.encode(), digest_size=16).digest()
    a, b = int.from_bytes(h[:8], "big"), int.from_bytes(h[8:], "big")
    v = ((planned_at * 1000000 + a % 1000000) << 10) | (b & 0x3ff)
    return "".join(TID_ALPHABET[(v >> (5 * (12 - i))) & 31] for i in range(13))


def occurrence_rows(db, post_id):
    con = harness.db_connect(db, readonly=True)
    try:
        return con.execute("SELECT id, planned_at, idempotency_key, state, remote_id FROM occurrences "
                           "WHERE post_id = ? ORDER BY id", (post_id,)).fetchall()
    finally:
        con.close()


def post_now(ctx, text, **extra):
    body = {"text": text, "channels": [ctx.channel["id"]], "schedule": "now"}
    body.update(extra)
    return expect(ctx.inst.post(ctx.inst.ws("/posts"), json=body), 201)


def settled(ctx, pid, timeout=30, proxy=None):
    """The post once published or failed; on a timeout the failure says where each of its
    deliveries stood (and what the proxy saw), so a slow run can be told from a wrong one."""
    seen = {}

    def check():
        p = expect(ctx.inst.get(ctx.inst.ws("/posts/%d" % pid)), 200)
        seen["post"] = p
        return p if p["state"] in ("published", "failed") else None
    try:
        return harness.wait_until(check, "post %d to be published" % pid, timeout=timeout, step=0.1)
    except AssertionError as e:
        post = seen.get("post") or {}
        where = [{k: o.get(k) for k in ("state", "attempts", "error", "waiting", "planned_at")}
                 for o in post.get("occurrences", [])]
        calls = [(m, st) for m, _, st in proxy.seen] if proxy else None
        raise AssertionError("%s; state %r, deliveries %r, proxy saw %r" % (e, post.get("state"), where, calls))


def span(text, part, after=0):
    """UTF-8 byte range of part in text, searching from byte `after`."""
    b, p = text.encode(), part.encode()
    i = b.index(p, after)
    return i, i + len(p)


def test_post_with_mention_link_tag_and_emoji(ctx):
    text = "Hei @bob.test! Blåbær 🫐 og 👩‍👩‍👧 på https://example.com/æ?x=1. #samtale #sommer2026 æøå 🎉"
    p = post_now(ctx, text)
    done = settled(ctx, p["id"])
    occ = done["occurrences"][0]
    assert done["state"] == "published", (done, ctx.inst.server.log_tail())
    did = ctx.pds.alice["did"]
    rows = occurrence_rows(ctx.inst.db, p["id"])
    rkey = tid(rows[0][1], rows[0][2])
    assert occ["remote_id"] == "at://%s/app.bsky.feed.post/%s" % (did, rkey), (occ, rkey)
    assert occ["remote_url"] == "https://bsky.app/profile/alice.test/post/%s" % rkey, occ

    st, rec = ctx.pds.xrpc("com.atproto.repo.getRecord",
                           {"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey})
    assert st == 200, (st, rec)
    v = rec["value"]
    assert v["text"] == text, v
    assert v["$type"] == "app.bsky.feed.post" and v["langs"] == ["nb"], v
    assert v["createdAt"].endswith("Z"), v
    got = sorted((f["index"]["byteStart"], f["index"]["byteEnd"], f["features"][0]) for f in v["facets"])
    m0, m1 = span(text, "@bob.test")
    l0, l1 = span(text, "https://example.com/æ?x=1")
    t0, t1 = span(text, "#samtale")
    s0, s1 = span(text, "#sommer2026")
    want = [(m0, m1, {"$type": "app.bsky.richtext.facet#mention", "did": ctx.pds.bob["did"]}),
            (l0, l1, {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/æ?x=1"}),
            (t0, t1, {"$type": "app.bsky.richtext.facet#tag", "tag": "samtale"}),
            (s0, s1, {"$type": "app.bsky.richtext.facet#tag", "tag": "sommer2026"})]
    assert got == want, (got, want)
    # The offsets are bytes, not characters: the link starts past the multi-byte letters.
    assert l0 > len(text[:text.index("https")]), (l0, text)
    # One record for the one occurrence.
    assert [k for k, r in ctx.pds.records(did).items() if r["text"] == text] == [rkey]


def test_link_of_the_post_is_appended_as_a_facet(ctx):
    # A page that cannot be read (nothing listens on the port) gives no card: the link
    # ends the text, as a facet.
    text = "Nytt innlegg på bloggen 📝"
    link = "http://127.0.0.1:9/innlegg/1"
    p = post_now(ctx, text, link=link)
    done = settled(ctx, p["id"])
    assert done["state"] == "published", done
    rkey = done["occurrences"][0]["remote_id"].rsplit("/", 1)[1]
    v = ctx.pds.records(ctx.pds.alice["did"])[rkey]
    full = text + "\n\n" + link
    assert v["text"] == full, v
    a, b = span(full, link)
    assert v["facets"] == [{"index": {"byteStart": a, "byteEnd": b},
                            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}]}], v
    assert "embed" not in v, v


def test_record_made_by_an_earlier_attempt_is_not_made_twice(ctx):
    # An earlier attempt whose answer was lost: the record is already at the occurrence's
    # key when samtale publishes. The PDS answers 500 to the second createRecord; samtale
    # finds the record with getRecord and counts the occurrence as published.
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 4))
    p = expect(ctx.inst.post(ctx.inst.ws("/posts"), json={"text": "Svar som forsvant 🕳️", "channels":
                                                          [ctx.channel["id"]], "schedule": at}), 201)
    oid, planned, key, state, _ = occurrence_rows(ctx.inst.db, p["id"])[0]
    assert state == "scheduled", state
    rkey = tid(planned, key)
    did = ctx.pds.alice["did"]
    token = ctx.pds.login(ctx.pds.alice)
    st, doc = ctx.pds.xrpc("com.atproto.repo.createRecord", token=token, body={
        "repo": did, "collection": "app.bsky.feed.post", "rkey": rkey,
        "record": {"$type": "app.bsky.feed.post", "text": "Svar som forsvant 🕳️",
                   "createdAt": "2026-01-01T00:00:00.000Z"}})
    assert st == 200, (st, doc)
    done = settled(ctx, p["id"])
    occ = done["occurrences"][0]
    assert done["state"] == "published", done
    assert occ["remote_id"] == doc["uri"], (occ, doc)
    recs = ctx.pds.records(did)
    assert [k for k, r in recs.items() if r["text"] == "Svar som forsvant 🕳️"] == [rkey], recs
    assert recs[rkey]["createdAt"] == "2026-01-01T00:00:00.000Z"   # the earlier record, untouched


def test_replace_previous_deletes_the_previous_copy_from_the_repo(ctx):
    doc = expect(ctx.inst.post(ctx.inst.ws("/series"), json={
        "text": "Kopi A av serien 🔁", "variants": ["Kopi B av serien 🔁"], "channels": [ctx.channel["id"]],
        "count": 3, "replace_previous": True}), 201)
    ids = [o["id"] for o in doc["post"]["occurrences"]]
    harness.due_in_turn(ctx.inst.db, ids, 2)

    def all_out():
        p = expect(ctx.inst.get(ctx.inst.ws("/posts/%d" % doc["post"]["id"])), 200)
        occ = {o["id"]: o for o in p["occurrences"]}
        ok = all(occ[i]["state"] == "published" for i in ids) and all(occ[i].get("deleted_at") for i in ids[:2])
        return occ if ok else None
    occ = harness.wait_until(all_out, "three copies out and the first two deleted", timeout=40, step=0.2)
    assert not occ[ids[2]].get("deleted_at"), occ[ids[2]]
    recs = ctx.pds.records(ctx.pds.alice["did"])
    keys = [occ[i]["remote_id"].rsplit("/", 1)[1] for i in ids]
    assert keys[0] not in recs and keys[1] not in recs, (keys, sorted(recs))
    assert recs[keys[2]]["text"] == "Kopi A av serien 🔁", recs.get(keys[2])
    assert len(set(keys)) == 3
    assert not [k for k, r in recs.items() if "av serien" in r["text"] and k != keys[2]], recs


def test_replacing_a_copy_published_as_a_thread_deletes_every_part(ctx):
    """Replace on repost of a long text: the previous copy is a thread, and all of it goes
    (its replies last first, then the first post), not the first post alone."""
    doc = expect(ctx.inst.post(ctx.inst.ws("/series"), json={
        "text": LONG_NB, "channels": [ctx.channel["id"]], "count": 2, "replace_previous": True}), 201)
    ids = [o["id"] for o in doc["post"]["occurrences"]]
    harness.due_in_turn(ctx.inst.db, ids, 3)

    def all_out():
        p = expect(ctx.inst.get(ctx.inst.ws("/posts/%d" % doc["post"]["id"])), 200)
        occ = {o["id"]: o for o in p["occurrences"]}
        ok = all(occ[i]["state"] == "published" for i in ids) and occ[ids[0]].get("deleted_at")
        return occ if ok else None
    occ = harness.wait_until(all_out, "both copies out and the first deleted", timeout=60, step=0.2)
    did = ctx.pds.alice["did"]
    recs = ctx.pds.records(did)
    first, second = (occ[i]["remote_id"].rsplit("/", 1)[1] for i in ids)
    assert first not in recs, "the first copy's first post is still there"
    kept = _thread_of(ctx, did, occ[ids[1]]["remote_id"])
    assert len(kept) == 3 and second in recs, [v["text"] for _, v in kept]
    # The first copy's replies went too: none is left that answers its first post.
    gone = occ[ids[0]]["remote_id"]
    left = [k for k, r in recs.items() if r.get("reply", {}).get("root", {}).get("uri") == gone]
    assert not left, ("replies of the replaced copy are still there", left)


class Proxy:
    """An HTTP proxy on 127.0.0.1 in front of the PDS, for faults the PDS will not make on
    its own. With delay, it holds every createRecord answer for that many seconds after
    the PDS has made the record: the window in which a crash loses the answer of a post
    that exists (the case the record key must make harmless). With expire_tokens, it
    answers the first createRecord of each access token 400 ExpiredToken without passing
    it on, as a PDS does when the token's two hours are up. .seen lists (xrpc method,
    token or None, status) of every request."""

    def __init__(self, upstream_port, delay=0.0, expire_tokens=False):
        import http.client
        import http.server
        seen = self.seen = []
        expired = set()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _answer(self, status, data, keep=()):
                self.send_response(status)
                for k, v in keep:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                auth = self.headers.get("Authorization") or ""
                token = auth[7:] if auth.startswith("Bearer ") else None
                method = self.path.split("?")[0].rsplit("/", 1)[-1]
                if expire_tokens and method == "com.atproto.repo.createRecord" and token not in expired:
                    expired.add(token)
                    seen.append((method, token, 400))
                    self._answer(400, b'{"error":"ExpiredToken","message":"Token has expired"}',
                                 [("Content-Type", "application/json")])
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("authorization", "content-type", "accept")}
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    data = r.read()
                    keep = [(k, v) for k, v in r.getheaders()
                            if k.lower() in ("content-type", "retry-after") or k.lower().startswith("ratelimit")]
                finally:
                    conn.close()
                seen.append((method, token, r.status))
                if delay and method == "com.atproto.repo.createRecord":
                    time.sleep(delay)
                self._answer(r.status, data, keep)

            do_GET = do_POST = _forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None   # a killed client is expected
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_sigkill_after_claims_never_makes_a_second_record(ctx):
    n = 12
    proxy = Proxy(ctx.pds.port, delay=0.4)
    try:
        ch = harness.new_channel(ctx.inst, "bsky-crash", kind="bluesky", secret=ctx.pds.alice["app_password"],
                                 settings={"handle": "alice.test", "service_url": proxy.url},
                                 max_per_hour=1000, max_per_day=10000)
        rng = random.Random(20261123)
        posts = [expect(ctx.inst.post(ctx.inst.ws("/posts"), json={
            "text": "Krasjtest %d: æøå 🎉 #krasj%d" % (i, i), "channels": [ch["id"]], "schedule": "now"}),
            201)["id"] for i in range(n)]
        did = ctx.pds.alice["did"]
        where = "post_id IN (%s)" % ",".join(str(p) for p in posts)

        def query(sql):
            con = harness.db_connect(ctx.inst.db, readonly=True)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()

        def counts():
            return dict(query("SELECT state, count(*) FROM occurrences WHERE %s GROUP BY state" % where))

        kills = lost = 0
        deadline = time.monotonic() + 60
        while kills < 16 and counts().get("published", 0) < n and time.monotonic() < deadline:
            # Every other round: kill as soon as a claimed occurrence's record exists in the
            # repo (its answer is still held by the proxy); else at a random moment after a
            # claim, which may be before, during or after createRecord.
            aim = kills % 2 == 0
            t_end = time.monotonic() + (3.0 if aim else rng.uniform(0.05, 0.5))
            hit = False
            while time.monotonic() < t_end and not hit:
                rows = query("SELECT planned_at, idempotency_key FROM occurrences WHERE %s AND state = 'publishing'"
                             % where)
                if aim and rows:
                    have = ctx.pds.records(did)
                    hit = any(tid(pa, k) in have for pa, k in rows)
                if not hit:
                    time.sleep(0.01)
            lost += hit
            ctx.inst.server.kill()
            kills += 1
            restart(ctx)
        harness.wait_until(lambda: counts().get("published", 0) == n, "all %d crash posts published (%r)"
                           % (n, counts()), timeout=60, step=0.2)
        assert counts() == {"published": n}, counts()
        recs = ctx.pds.records(did)
        for pid in posts:
            (oid, planned, key, state, remote_id), = occurrence_rows(ctx.inst.db, pid)
            rkey = tid(planned, key)
            assert remote_id == "at://%s/app.bsky.feed.post/%s" % (did, rkey), (remote_id, rkey)
            assert recs[rkey]["text"].startswith("Krasjtest"), recs[rkey]
        texts = [r["text"] for r in recs.values() if r["text"].startswith("Krasjtest")]
        assert len(texts) == n and len(set(texts)) == n, sorted(texts)
        found = 0
        for name in os.listdir(ctx.inst.dir):
            if name.startswith("server") and name.endswith(".log"):
                with open(os.path.join(ctx.inst.dir, name), "rb") as f:
                    found += f.read().count(b"bluesky record already there")
        print("bluesky crash test: %d SIGKILLs (%d while a made record's answer was in flight), %d posts, "
              "%d records in the repo, %d publishes found their record already made"
              % (kills, lost, n, len(texts), found))
        # The aimed kills did hit the window, and the retries then found the records.
        assert lost >= 1 and found >= 1, (lost, found)
    finally:
        proxy.stop()


def test_expired_token_is_refreshed_and_the_post_goes_out_once(ctx):
    proxy = Proxy(ctx.pds.port, expire_tokens=True)
    try:
        ch = harness.new_channel(ctx.inst, "bsky-expiry", kind="bluesky", secret=ctx.pds.alice["app_password"],
                                 settings={"handle": "alice.test", "service_url": proxy.url},
                                 max_per_hour=1000, max_per_day=10000)
        text = "Etter utløpt token ⏰"
        p = expect(ctx.inst.post(ctx.inst.ws("/posts"), json={"text": text, "channels": [ch["id"]],
                                                              "schedule": "now"}), 201)
        done = settled(ctx, p["id"], proxy=proxy)
        occ = done["occurrences"][0]
        assert done["state"] == "published" and occ["attempts"] == 1, done
        calls = [(m, st) for m, _, st in proxy.seen]
        assert calls == [("com.atproto.server.createSession", 200), ("com.atproto.repo.createRecord", 400),
                         ("com.atproto.server.refreshSession", 200), ("com.atproto.repo.createRecord", 200)], calls
        # (The refreshed access token may equal the old one: the PDS's JWTs carry times in
        # whole seconds. What matters is that samtale refreshed rather than logged in again.)
        assert len([r for r in ctx.pds.records(ctx.pds.alice["did"]).values() if r["text"] == text]) == 1
    finally:
        proxy.stop()


def _app_password(ctx, name):
    st, doc = ctx.pds.xrpc("com.atproto.server.createAppPassword", body={"name": name},
                           token=ctx.pds.login(ctx.pds.alice))
    assert st == 200, (st, doc)
    return doc["password"]


def test_connecting_checks_the_app_password(ctx):
    body = {"kind": "bluesky", "name": "bsky-wrong", "secret": "aaaa-bbbb-cccc-dddd",
            "settings": {"handle": "alice.test", "service_url": ctx.pds.url}}
    err = expect(ctx.inst.post(ctx.inst.ws("/channels"), json=body), 422, "validation_failed")["error"]
    assert err["field"] == "secret" and "refused the app password" in err["message"], err
    body["secret"] = _app_password(ctx, "samtale-connect")
    ch = expect(ctx.inst.post(ctx.inst.ws("/channels"), json=body), 201)
    assert ch["settings"]["did"] == ctx.pds.alice["did"] and ch["settings"]["handle"] == "alice.test", ch
    expect(ctx.inst.delete(ctx.inst.ws("/channels/%d" % ch["id"])), 204)


def test_a_revoked_app_password_holds_the_queue_until_reconnected(ctx):
    """The credentials go bad after connecting: the channel says so, its posts wait, and
    a new app password sends them out, once."""
    pw = _app_password(ctx, "samtale-revoked")
    ch = expect(ctx.inst.post(ctx.inst.ws("/channels"), json={
        "kind": "bluesky", "name": "bsky-revoked", "secret": pw, "max_per_hour": 1000, "max_per_day": 10000,
        "settings": {"handle": "alice.test", "service_url": ctx.pds.url}}), 201)
    st, doc = ctx.pds.xrpc("com.atproto.server.revokeAppPassword", body={"name": "samtale-revoked"},
                           token=ctx.pds.login(ctx.pds.alice))
    assert st == 200, (st, doc)
    text = "Dette venter på ny tilkobling %d" % random.randrange(1 << 30)
    p = expect(ctx.inst.post(ctx.inst.ws("/posts"), json={"text": text, "channels": [ch["id"]],
                                                          "schedule": "now"}), 201)

    def marked():
        c = expect(ctx.inst.get(ctx.inst.ws("/channels/%d" % ch["id"])), 200)
        o = expect(ctx.inst.get(ctx.inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]
        return (c, o) if c["status"] == "reconnect" and o["state"] == "scheduled" and o.get("error") else None
    c, occ = harness.wait_until(marked, "the channel to need reconnecting and the post to wait")
    assert "app password" in c["status_message"] and "reconnect" in c["status_message"].lower(), c
    assert "app password" in occ["error"], occ
    assert not [r for r in ctx.pds.records(ctx.pds.alice["did"]).values() if r["text"] == text]
    # Reading is held too.
    expect(ctx.inst.post(ctx.inst.ws("/channels/%d/read" % ch["id"])), 409, "conflict")
    # A wrong new password is refused and changes nothing; a good one reconnects.
    expect(ctx.inst.patch(ctx.inst.ws("/channels/%d" % ch["id"]), json={"secret": "zzzz-zzzz-zzzz-zzzz"}), 422)
    assert expect(ctx.inst.get(ctx.inst.ws("/channels/%d" % ch["id"])), 200)["status"] == "reconnect"
    c = expect(ctx.inst.patch(ctx.inst.ws("/channels/%d" % ch["id"]),
                              json={"secret": _app_password(ctx, "samtale-new")}), 200)
    assert c["status"] == "active", c
    done = settled(ctx, p["id"])
    assert done["state"] == "published", done
    assert len([r for r in ctx.pds.records(ctx.pds.alice["did"]).values() if r["text"] == text]) == 1


def test_invalid_record_fails_with_the_servers_message(ctx):
    # A language tag the PDS's lexicon validation refuses: a 400 whose message is quoted.
    ch = harness.new_channel(ctx.inst, "bsky-badlang", kind="bluesky", secret=ctx.pds.alice["app_password"],
                             settings={"handle": "alice.test", "service_url": ctx.pds.url, "langs": ["123"]},
                             max_per_hour=1000, max_per_day=10000)
    p = expect(ctx.inst.post(ctx.inst.ws("/posts"), json={"text": "Ugyldig språk", "channels": [ch["id"]],
                                                          "schedule": "now"}), 201)
    done = settled(ctx, p["id"])
    occ = done["occurrences"][0]
    assert occ["state"] == "failed", occ
    assert "refused the post with 400" in occ["error"] and "langs" in occ["error"], occ
    assert occ.get("attempts", 1) == 1, occ


LONG_NB = ("Våren er her, og vi åpner dørene til den nye butikken vår i Bergen på lørdag. "
           "Kom innom for kaffe, boller og en prat med @bob.test om sykler, ski og alt imellom. "
           "Vi har ventet lenge på dette, og hele teamet gleder seg til å møte dere. "
           "De første hundre som kommer får en liten overraskelse med seg hjem. "
           "Butikken ligger rett ved fisketorget, med plass til barnevogner og rullestoler. "
           "Vi har også lagt til rette for sykkelparkering utenfor, så la bilen stå hvis du kan. "
           "Åpningstidene blir ti til seks på hverdager og ti til fire på lørdager. "
           "Følg med her for mer informasjon, og del gjerne med venner som kan være interessert. "
           "Vi vil også gjerne høre hva dere ønsker dere i hyllene fremover, så skriv til oss når som helst. "
           "Vel møtt! #bergen")


def _thread_of(ctx, did, root_uri):
    """The records of the thread under root_uri, in order: root first, then each reply to
    the one before."""
    recs = {("at://%s/app.bsky.feed.post/%s" % (did, k)): v for k, v in ctx.pds.records(did).items()}
    chain, cur = [root_uri], root_uri
    while True:
        nxt = [u for u, v in recs.items() if v.get("reply", {}).get("parent", {}).get("uri") == cur]
        assert len(nxt) <= 1, ("two replies to one part", nxt)
        if not nxt:
            return [(u, recs[u]) for u in chain]
        chain.append(nxt[0])
        cur = nxt[0]


# A small PNG (1x1, red) for the card's image.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cf"
                    "c000000301010018dd8db00000000049454e44ae426082")


class PageServer:
    """A loopback web site with one page whose head has Open Graph tags, and its image."""

    def __init__(self):
        import http.server
        import threading
        outer = self
        self.hits = []

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.hits.append(self.path)
                if self.path == "/butikk":
                    body = ("<!doctype html><html><head><meta charset=utf-8><title>Fallback</title>"
                            "<meta property=og:title content='Ny butikk i Bergen – åpning lørdag'>"
                            "<meta property=og:description content='Kaffe, boller og sykler ved fisketorget.'>"
                            "<meta property=og:image content='/bilde.png'></head><body>x</body></html>").encode()
                    ctype = "text/html; charset=utf-8"
                elif self.path == "/gammel":
                    self.send_response(301)
                    self.send_header("Location", "http://127.0.0.1:%d/butikk" % outer.port)
                    self.end_headers()
                    return
                elif self.path == "/bilde.png":
                    body, ctype = PNG, "image/png"
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_a_long_text_goes_out_as_a_numbered_thread_once(ctx):
    assert len(LONG_NB) > 700, len(LONG_NB)
    check = expect(ctx.inst.post(ctx.inst.ws("/check"), json={"text": LONG_NB, "channels": [ctx.channel["id"]],
                                                               "schedule": "now"}), 200)
    p8b = [v for v in check["violations"] if v["rule"] == "P8b"]
    assert p8b and p8b[0]["severity"] == "warn" and "thread of 3 posts" in p8b[0]["message"], check
    assert check["blocked"] is False, check
    site = PageServer()
    try:
        link = "http://127.0.0.1:%d/gammel" % site.port     # redirects to the page
        p = post_now(ctx, LONG_NB, link=link)
        done = settled(ctx, p["id"])
    finally:
        site.stop()
    assert done["state"] == "published", (done, ctx.inst.server.log_tail())
    did = ctx.pds.alice["did"]
    root = done["occurrences"][0]["remote_id"]
    thread = _thread_of(ctx, did, root)
    assert len(thread) == 3, [v["text"] for _, v in thread]
    st, root_rec = ctx.pds.xrpc("com.atproto.repo.getRecord", {"repo": did, "collection": "app.bsky.feed.post",
                                                               "rkey": root.rsplit("/", 1)[1]})
    assert st == 200, root_rec
    for i, (uri, v) in enumerate(thread):
        assert v["text"].endswith("\n\n%d/3" % (i + 1)), v["text"]
        assert len(v["text"]) <= 300 and len(v["text"].encode()) <= 3000, len(v["text"])
        if i:
            assert v["reply"]["root"] == {"uri": root, "cid": root_rec["cid"]}, v["reply"]
            assert v["reply"]["parent"]["uri"] == thread[i - 1][0], v["reply"]
    # The parts are the text, cut between sentences; the link is a card on the first post
    # (its page's Open Graph title, description and image), not repeated in the text.
    body = " ".join(v["text"].rsplit("\n\n", 1)[0] for _, v in thread)
    assert body.split() == LONG_NB.split(), body
    for _, v in thread[:-1]:
        assert v["text"].rsplit("\n\n", 1)[0].endswith("."), v["text"]
    assert any(f["features"][0].get("did") == ctx.pds.bob["did"] for _, v in thread for f in v.get("facets", []))
    card = thread[0][1]["embed"]
    assert card["$type"] == "app.bsky.embed.external", card
    ext = card["external"]
    assert ext["uri"] == link and ext["title"] == "Ny butikk i Bergen – åpning lørdag", ext
    assert ext["description"] == "Kaffe, boller og sykler ved fisketorget.", ext
    thumb = ext["thumb"]
    assert thumb["mimeType"] == "image/png" and thumb["size"] == len(PNG), thumb
    r = harness.request(ctx.pds.port, "GET", "/xrpc/com.atproto.sync.getBlob?did=%s&cid=%s" %
                        (quote(did, safe=""), thumb["ref"]["$link"]))
    assert r.status == 200 and r.body == PNG, (r.status, r.body[:40])
    assert all("embed" not in v for _, v in thread[1:]), thread


def test_a_thread_interrupted_midway_is_finished_without_duplicates(ctx):
    # An earlier attempt made the first two parts, then died: samtale finds both by their
    # keys and adds only the third.
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5))
    p = expect(ctx.inst.post(ctx.inst.ws("/posts"), json={"text": LONG_NB, "channels": [ctx.channel["id"]],
                                                          "schedule": at}), 201)
    _, planned, key, _, _ = occurrence_rows(ctx.inst.db, p["id"])[0]
    did = ctx.pds.alice["did"]
    token = ctx.pds.login(ctx.pds.alice)
    root_rkey, second_rkey = tid(planned, key), tid(planned, key + "#1")
    st, r0 = ctx.pds.xrpc("com.atproto.repo.createRecord", token=token, body={
        "repo": did, "collection": "app.bsky.feed.post", "rkey": root_rkey,
        "record": {"$type": "app.bsky.feed.post", "text": "part one, made earlier\n\n1/3",
                   "createdAt": "2026-01-01T00:00:00.000Z"}})
    assert st == 200, r0
    st, r1 = ctx.pds.xrpc("com.atproto.repo.createRecord", token=token, body={
        "repo": did, "collection": "app.bsky.feed.post", "rkey": second_rkey,
        "record": {"$type": "app.bsky.feed.post", "text": "part two, made earlier\n\n2/3",
                   "createdAt": "2026-01-01T00:00:01.000Z",
                   "reply": {"root": {"uri": r0["uri"], "cid": r0["cid"]},
                             "parent": {"uri": r0["uri"], "cid": r0["cid"]}}}})
    assert st == 200, r1
    done = settled(ctx, p["id"])
    assert done["state"] == "published", (done, ctx.inst.server.log_tail())
    thread = _thread_of(ctx, did, r0["uri"])
    assert [v["text"] for _, v in thread[:2]] == ["part one, made earlier\n\n1/3", "part two, made earlier\n\n2/3"]
    assert len(thread) == 3 and thread[2][1]["text"].endswith("\n\n3/3"), [v["text"] for _, v in thread]
    assert thread[2][1]["reply"]["parent"] == {"uri": r1["uri"], "cid": r1["cid"]}, thread[2][1]
