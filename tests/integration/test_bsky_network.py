"""Reading from Bluesky against a real network (PRODUCT.md CH1, D1, M6; issue #4): PLC, PDS
and AppView from tests/peers/bsky-network/start.mjs. samtale talks only to the PDS with an
app-password session, as it would to bsky.social; the PDS hands app.bsky.* reads to the
AppView. Other accounts (bob, carol) write mentions, replies, likes and reposts straight
to the PDS; samtale must find them in its notifications and counts."""

import json
import os
import random
import shutil
import subprocess
from urllib.parse import quote

import harness
import peers
from harness import expect

HERE = os.path.dirname(os.path.abspath(__file__))
PEER_DIR = os.path.join(HERE, "..", "peers", "bsky-network")
START_TIMEOUT = 120


class Network:
    def __init__(self, workdir):
        if not os.path.isdir(os.path.join(PEER_DIR, "node_modules", "@atproto", "bsky")):
            raise AssertionError("tests/peers/bsky-network/node_modules is missing: run scripts/deps.sh")
        self.log_path = os.path.join(workdir, "network.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([shutil.which("node"), "start.mjs"], cwd=PEER_DIR, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._log)
        try:
            info = json.loads(peers.first_line(self.proc, START_TIMEOUT) or "null")
        except ValueError:
            info = None
        if not info:
            self.stop()
            raise AssertionError("the Bluesky network did not start within %d s: %s" % (START_TIMEOUT, self.tail()))
        self.url = info["pds"]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.accounts = info["accounts"]

    def tail(self, n=3000):
        with open(self.log_path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")

    def xrpc(self, nsid, params=None, body=None, token=None):
        path = "/xrpc/" + nsid
        if params:
            path += "?" + "&".join("%s=%s" % (k, quote(str(v), safe="")) for k, v in params.items())
        r = harness.request(self.port, "POST" if body is not None else "GET", path, json=body, token=token)
        assert 200 <= r.status < 300, (nsid, r)
        return r.json() if r.body else None

    def session(self, who):
        a = self.accounts[who]
        return self.xrpc("com.atproto.server.createSession", body={"identifier": a["handle"],
                                                                  "password": a["password"]})

    def write(self, sess, collection, record):
        return self.xrpc("com.atproto.repo.createRecord", token=sess["accessJwt"],
                         body={"repo": sess["did"], "collection": collection, "record": record})

    def stop(self):
        peers.stop_process(self.proc, harness.TIMEOUT * 2)
        self._log.close()


class Ctx:
    pass


def setup_module():
    ctx = Ctx()
    ctx.inst = harness.Instance()
    ctx.net = None
    try:
        ctx.net = Network(ctx.inst.dir)
        ctx.inst.prepare()
        ctx.inst.server = harness.Server(ctx.inst.db, ctx.inst.dir, env={
            "SAMTALE_ENGAGEMENT_AFTER": "1s", "SAMTALE_POLL_INTERVAL_S": "3600",
            "SAMTALE_PUBLISH_BACKOFF_S": "1"}).start()
        ctx.inst.wid = expect(ctx.inst.get("/api/v1/me"), 200)["token"]["workspace_id"]
        alice = ctx.net.accounts["alice"]
        # Connected as a person would: handle and app password, checked by a login.
        ctx.channel = expect(ctx.inst.post(ctx.inst.ws("/channels"), json={
            "kind": "bluesky", "name": "alice", "secret": alice["app_password"],
            "max_per_hour": 1000, "max_per_day": 10000,
            "settings": {"handle": alice["handle"], "service_url": ctx.net.url}}), 201)
    except BaseException:
        teardown_module(ctx)
        raise
    return ctx


def teardown_module(ctx):
    try:
        ctx.inst.close()
    finally:
        if ctx.net:
            ctx.net.stop()


def _utf8_span(text, part):
    b = text.encode()
    i = b.index(part.encode())
    return i, i + len(part.encode())


def _published(ctx, text):
    p = expect(ctx.inst.post(ctx.inst.ws("/posts"), json={"text": text, "channels": [ctx.channel["id"]],
                                                          "schedule": "now"}), 201)

    def done():
        q = expect(ctx.inst.get(ctx.inst.ws("/posts/%d" % p["id"])), 200)
        return q if q["state"] in ("published", "failed") else None
    q = harness.wait_until(done, "the post to be published", timeout=30)
    assert q["state"] == "published", (q, ctx.inst.server.log_tail())
    return p["id"], q["occurrences"][0]


def test_mentions_and_replies_from_other_accounts_reach_the_store(ctx):
    pid, occ = _published(ctx, "Hva synes dere om høstmenyen? 🍂 %d" % random.randrange(1 << 30))
    uri = occ["remote_id"]
    alice, bob = ctx.net.accounts["alice"], ctx.net.session("bob")
    # bob mentions alice (facet offsets in UTF-8 bytes, after æøå and an emoji) and replies
    # to samtale's post.
    text = "Blåbær 🫐 til @%s — når kommer dere til Bergen?" % alice["handle"]
    start, end = _utf8_span(text, "@" + alice["handle"])
    ctx.net.write(bob, "app.bsky.feed.post", {
        "$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-11-23T12:00:00.000Z",
        "facets": [{"index": {"byteStart": start, "byteEnd": end},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": alice["did"]}]}]})
    cid = ctx.net.xrpc("com.atproto.repo.getRecord", params={
        "repo": alice["did"], "collection": "app.bsky.feed.post", "rkey": uri.rsplit("/", 1)[1]})["cid"]
    ref = {"uri": uri, "cid": cid}
    ctx.net.write(bob, "app.bsky.feed.post", {"$type": "app.bsky.feed.post", "text": "Gjerne med mer kanel!",
                                              "createdAt": "2026-11-23T12:00:01.000Z",
                                              "reply": {"root": ref, "parent": ref}})

    def read():
        expect(ctx.inst.post(ctx.inst.ws("/channels/%d/read" % ctx.channel["id"])), 200)
        msgs = harness.list_all(ctx.inst, ctx.inst.ws("/messages?channel=%d" % ctx.channel["id"]))
        kinds = {m["kind"] for m in msgs}
        return msgs if {"mention", "reply"} <= kinds else None
    msgs = harness.wait_until(read, "bob's mention and reply in samtale's store", timeout=30, step=0.3)
    mention = [m for m in msgs if m["kind"] == "mention"][0]
    reply = [m for m in msgs if m["kind"] == "reply"][0]
    assert mention["text"] == text and mention["author"]["handle"] == "bob.test", mention
    assert mention["author"]["id"] == ctx.net.accounts["bob"]["did"], mention
    assert mention["remote_id"].startswith("at://" + ctx.net.accounts["bob"]["did"]), mention
    assert reply["parent_remote_id"] == uri and reply["root_remote_id"] == uri, reply
    # Reading again brings nothing twice; the cursor moved on.
    r = expect(ctx.inst.post(ctx.inst.ws("/channels/%d/read" % ctx.channel["id"])), 200)
    assert r["new_messages"] == 0, r
    again = harness.list_all(ctx.inst, ctx.inst.ws("/messages?channel=%d" % ctx.channel["id"]))
    assert len(again) == len(msgs), (again, msgs)


def test_engagement_counts_after_publishing(ctx):
    pid, occ = _published(ctx, "Lik denne om du liker kanelboller %d" % random.randrange(1 << 30))
    uri = occ["remote_id"]
    alice = ctx.net.accounts["alice"]
    cid = ctx.net.xrpc("com.atproto.repo.getRecord", params={
        "repo": alice["did"], "collection": "app.bsky.feed.post", "rkey": uri.rsplit("/", 1)[1]})["cid"]
    ref = {"uri": uri, "cid": cid}
    now = "2026-11-23T12:00:00.000Z"
    bob, carol = ctx.net.session("bob"), ctx.net.session("carol")
    # The checkpoint 1 s after publishing is fetched by the server on its own.
    def scheduled():
        items = expect(ctx.inst.get(ctx.inst.ws("/posts/%d/engagement" % pid)), 200)["items"]
        return items if items and items[0]["fetched_at"] else None
    first = harness.wait_until(scheduled, "the fetch 1 s after publishing", timeout=30)
    assert first[0]["after_seconds"] == 1 and first[0]["error"] is None and first[0]["likes"] is not None, first
    for who in (bob, carol):
        ctx.net.write(who, "app.bsky.feed.like", {"$type": "app.bsky.feed.like", "subject": ref, "createdAt": now})
    ctx.net.write(carol, "app.bsky.feed.repost", {"$type": "app.bsky.feed.repost", "subject": ref,
                                                  "createdAt": now})
    ctx.net.write(bob, "app.bsky.feed.post", {"$type": "app.bsky.feed.post", "text": "Enig!", "createdAt": now,
                                              "reply": {"root": ref, "parent": ref}})

    # Asked for now (the dashboard's refresh): what the AppView counts once it indexed them.
    def counted():
        doc = expect(ctx.inst.post(ctx.inst.ws("/posts/%d/engagement" % pid)), 200)
        now_row = [i for i in doc["items"] if i["after_seconds"] == 0]
        if now_row and (now_row[0]["likes"], now_row[0]["reposts"], now_row[0]["replies"]) == (2, 1, 1):
            return doc
        return None
    doc = harness.wait_until(counted, "2 likes, 1 repost and 1 reply to be counted", timeout=30, step=0.3)
    assert doc["fetched"] == 1 and doc["failed"] == 0, doc
    rows = harness.cli_json(ctx.inst.db, "engagement", str(pid))
    assert any(r["after_seconds"] == 0 and r["likes"] == 2 for r in rows), rows
