"""The Mastodon connector against the API's own contract (PRODUCT.md CH2; issue #4): the
Mastodon OpenAPI description served by a contract mock (Stoplight Prism, started from
tests/peers/mastodon/start.mjs) that answers 4xx to any request breaking the description,
so every 2xx here is a request that passed its validation. Rate limits come from the
loopback receiver (tests/peers/receiver.py), which can answer 429."""

import json
import os
import subprocess

import harness
import peers
from harness import expect

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", "peers", "mastodon")
REDIRECT = "urn:ietf:wg:oauth:2.0:oob"


def _description():
    data = os.environ.get("SAMTALE_DATA_DIR") or os.path.join(HERE, "..", "..", "..", "shared", "data")
    return os.path.join(data, "mastodon", "mastodon-openapi.json")


class Mock:
    def __init__(self):
        if not os.path.exists(_description()):
            raise harness.Skip("no Mastodon OpenAPI description at %s (set SAMTALE_DATA_DIR)" % _description())
        if not os.path.isdir(os.path.join(PEER, "node_modules", "@stoplight")):
            raise AssertionError("the Mastodon contract mock is not installed: run scripts/deps.sh")
        self.proc = subprocess.Popen(["node", os.path.join(PEER, "start.mjs")], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = peers.first_line(self.proc, 60)
        if not line.strip():
            self.stop()
            raise AssertionError("the Mastodon contract mock did not start")
        self.url = json.loads(line)["url"]

    def stop(self):
        peers.stop_process(self.proc)


def setup_module():
    if not os.path.exists(_description()):
        raise harness.Skip("no Mastodon OpenAPI description at %s (set SAMTALE_DATA_DIR)" % _description())
    inst = harness.Instance()
    try:
        inst.prepare()
        inst.mock = Mock()
        inst.receiver = peers.Receiver(inst.dir)
        inst.server = harness.Server(inst.db, inst.dir, env={"SAMTALE_PUBLISH_BACKOFF_S": "1",
                                                             "SAMTALE_ENGAGEMENT_AFTER": "1s"}).start()
        inst.wid = expect(inst.get("/api/v1/me"), 200)["token"]["workspace_id"]
    except BaseException:
        for peer in ("mock", "receiver"):
            if getattr(inst, peer, None):
                getattr(inst, peer).stop()
        inst.close()
        raise
    return inst


def teardown_module(inst):
    try:
        inst.mock.stop()
        inst.receiver.stop()
    finally:
        inst.close()


def _tool(inst, *args):
    tool = os.path.join(os.path.dirname(harness.binary()), "masto_tool")
    p = subprocess.run([tool, inst.mock.url] + list(args), capture_output=True, text=True, timeout=harness.TIMEOUT)
    assert p.returncode == 0, "masto_tool %s: %s" % (args[0], p.stderr)
    return json.loads(p.stdout)


def test_connecting_an_account_speaks_the_contract(inst):
    app = _tool(inst, "register", REDIRECT)
    assert app["client_id"] and app["client_secret"], app
    url = _tool(inst, "authorize", app["client_id"], REDIRECT)["url"]
    assert url.startswith(inst.mock.url + "/oauth/authorize?response_type=code"), url
    token = _tool(inst, "exchange", app["client_id"], app["client_secret"], REDIRECT, "the-code")["access_token"]
    account = _tool(inst, "verify", token)      # 2xx: the request passed validation
    assert isinstance(account, dict) and account, account  # the mock answers one of the examples
    mentions = _tool(inst, "mentions", token)
    assert isinstance(mentions, list), mentions


def test_publish_and_delete_pass_the_contract(inst):
    ch = harness.new_channel(inst, "masto", kind="mastodon", secret="access-token-123",
                             settings={"instance_url": inst.mock.url, "visibility": "public"}, max_per_hour=10)
    p = expect(inst.post(inst.ws("/posts"), json={"text": "Hei fra samtale! Blåbær 🫐", "link": "https://example.com/a",
                                                  "channels": [ch["id"]], "schedule": "now"}), 201)

    def done():
        o = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]
        return o if o["state"] in ("published", "failed") else None
    occ = harness.wait_until(done, "the post to go out to the mock")
    assert occ["state"] == "published" and occ.get("remote_id"), occ   # the mock accepted the request


def test_a_token_the_instance_refuses_fails_with_a_way_forward(inst):
    ch = harness.new_channel(inst, "masto-no-token", kind="mastodon",
                             settings={"instance_url": inst.mock.url})
    p = expect(inst.post(inst.ws("/posts"), json={"text": "no token", "channels": [ch["id"]], "schedule": "now"}), 201)

    def done():
        o = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]
        return o if o["state"] == "failed" else None
    occ = harness.wait_until(done, "the post without a token to fail")
    assert "connect it" in occ["error"].lower(), occ


def test_rate_limit_waits_as_told(inst):
    ch = harness.new_channel(inst, "masto-limited", kind="mastodon", secret="t", verify=False,
                             settings={"instance_url": "http://127.0.0.1:%d" % inst.receiver.port}, max_per_hour=10)
    inst.receiver.control(mode="429", count=1, retry_after=3, error="Too many requests")
    p = expect(inst.post(inst.ws("/posts"), json={"text": "limited", "channels": [ch["id"]], "schedule": "now"}), 201)

    def waiting():
        o = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]
        return o if o["attempts"] >= 1 and o["state"] == "scheduled" else None
    first = harness.wait_until(waiting, "the 429 to be recorded")
    assert "429" in first["error"], first

    def published():
        o = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]
        return o if o["state"] == "published" else None
    done = harness.wait_until(published, "the retry after the rate limit")
    assert harness.parse_time(done["published_at"]) >= harness.parse_time(first["next_attempt_at"]), (first, done)
    keys = [d["headers"].get("Idempotency-Key") for d in inst.receiver.deliveries() if d["path"] == "/api/v1/statuses"]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0], keys   # the retry reused the key


def _begin(inst, name, **extra):
    """Starts connecting as the dashboard does: the answer and the browser's cookie."""
    r = inst.post(inst.ws("/channels/connect/mastodon"), json=dict({"instance_url": inst.mock.url, "name": name},
                                                                   **extra))
    start = expect(r, 201)
    cookies = [harness.parse_set_cookie(v) for v in r.headers.get_all("Set-Cookie") or []]
    browser = [(val, attrs) for name_, val, attrs in cookies if name_ == "samtale_oauth"]
    assert browser and browser[0][0], r.headers.get_all("Set-Cookie")
    attrs = browser[0][1]
    assert attrs.get("httponly") and attrs.get("samesite") == "Lax" and attrs.get("path") == "/api/v1/oauth/", attrs
    return start, browser[0][0]


def _back(inst, state, browser, code="the-code"):
    """The instance sends the browser back; it carries its cookie."""
    headers = {"Cookie": "samtale_oauth=" + browser} if browser else None
    return inst.get("/api/v1/oauth/mastodon/callback?code=%s&state=%s" % (code, state), token=None, headers=headers)


def _connected(inst, name):
    """Connects an account the way the dashboard does: start, the instance redirects back."""
    start, browser = _begin(inst, name)
    assert start["authorize_url"].startswith(inst.mock.url + "/oauth/authorize?response_type=code"), start
    assert "state=" + start["state"] in start["authorize_url"], start
    assert start["redirect_uri"].endswith("/api/v1/oauth/mastodon/callback"), start
    back = _back(inst, start["state"], browser)
    assert back.status == 303, back
    loc = back.header("Location")
    assert loc.startswith("/#/channels?connected="), loc      # relative: no public_url set
    return start, int(loc.split("=")[-1])


def test_connect_flow_creates_a_channel_through_oauth(inst):
    start, cid = _connected(inst, "masto-oauth")
    ch = expect(inst.get(inst.ws("/channels/%d" % cid)), 200)
    assert ch["kind"] == "mastodon" and ch["has_secret"] and ch["status"] == "active", ch
    assert ch["settings"]["instance_url"] == inst.mock.url, ch
    # The state is single-use: replaying the redirect connects nothing.
    again = inst.get("/api/v1/oauth/mastodon/callback?code=the-code&state=" + start["state"], token=None)
    assert again.status == 303 and "connect_error=" in again.header("Location"), again
    # A person who says no on the instance comes back with an error, and nothing is made.
    refused = inst.get("/api/v1/oauth/mastodon/callback?error=access_denied&state=x", token=None)
    assert refused.status == 303 and refused.header("Location").endswith("connect_error=denied"), refused
    audit = expect(inst.get(inst.ws("/audit")), 200)["items"]
    assert any(a["action"] == "channel.create" and a["target"] == "masto-oauth" for a in audit), audit


def test_a_connect_link_opened_by_someone_else_connects_nothing(inst):
    """A member starts connecting and sends the instance's link to someone else: when that
    person allows samtale, their browser comes back without the starter's cookie, and no
    account lands in the starter's workspace. The link is dead after that."""
    before = len(harness.list_all(inst, inst.ws("/channels")))
    start, browser = _begin(inst, "masto-phished")
    back = _back(inst, start["state"], None)
    assert back.status == 303 and "connect_error=" in back.header("Location"), back
    back = _back(inst, start["state"], "some-other-browser")
    assert back.status == 303 and "connect_error=" in back.header("Location"), back
    back = _back(inst, start["state"], browser)          # used up by the first attempt
    assert "connect_error=" in back.header("Location"), back
    assert len(harness.list_all(inst, inst.ws("/channels"))) == before
    # Finishing through the API (a code to copy) takes the same person who started.
    harness.cli_ok(inst.db, "user", "add", "--email", "editor2@example.com", "--workspace", harness.WORKSPACE,
                   "--role", "editor", "--password-stdin", input="a long enough password 2\n")
    tok = harness.cli_json(inst.db, "token", "create", "--name", "editor2", "--scope", "channels:write",
                           "--user", "editor2@example.com")["token"]
    start, _ = _begin(inst, "masto-other-user")
    expect(inst.post(inst.ws("/channels/connect/mastodon/finish"), json={"state": start["state"], "code": "c"},
                     token=tok), 404, "not_found")
    start, _ = _begin(inst, "masto-same-user")
    expect(inst.post(inst.ws("/channels/connect/mastodon/finish"), json={"state": start["state"], "code": "c"}),
           201)


def test_connect_flow_validates_its_input(inst):
    expect(inst.post(inst.ws("/channels/connect/mastodon"), json={"instance_url": "ftp://x", "name": "n"}), 422,
           "validation_failed")
    expect(inst.post(inst.ws("/channels/connect/mastodon"), json={"name": "n"}), 422, "validation_failed")
    expect(inst.post(inst.ws("/channels/connect/mastodon"),
                     json={"instance_url": inst.mock.url, "name": "n", "redirect_uri": "https://evil.example/"}),
           422, "validation_failed")
    expect(inst.post(inst.ws("/channels/connect/mastodon/finish"), json={"state": "nope", "code": "c"}), 404,
           "not_found")


def test_connect_from_the_cli_with_a_code_to_copy(inst):
    start = harness.cli_json(inst.db, "channel", "connect", "mastodon", "--instance", inst.mock.url,
                             "--name", "masto-cli")
    assert "redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob" in start["authorize_url"], start
    ch = harness.cli_json(inst.db, "channel", "connect", "mastodon", "--state", start["state"], "--code", "pasted")
    assert ch["kind"] == "mastodon" and ch["has_secret"] and ch["name"] == "masto-cli", ch
    p = harness.run_cli(inst.db, "channel", "connect", "mastodon", "--state", start["state"], "--code", "pasted")
    assert p.returncode == 3, p.stderr          # used once: not found the second time


def test_mentions_and_direct_conversations_are_read_into_the_store(inst):
    _, cid = _connected(inst, "masto-reader")
    r = expect(inst.post(inst.ws("/channels/%d/read" % cid)), 200)
    assert r["ok"] is True, r                    # every request passed the contract's validation
    msgs = harness.list_all(inst, inst.ws("/messages?channel=%d" % cid))
    kinds = sorted(m["kind"] for m in msgs)
    # The contract's examples: one mention notification (a reply to someone) and two
    # direct conversations.
    assert kinds.count("direct") == 2 and len(msgs) == 3, msgs
    mention = [m for m in msgs if m["kind"] != "direct"][0]
    assert mention["remote_id"] == "103186126728896492" and mention["author"]["handle"] == "zsc", mention
    assert "<" not in mention["text"] and mention["text"], mention   # HTML became text
    assert all(m["thread_id"] for m in msgs if m["kind"] == "direct"), msgs
    # Reading again stores nothing twice.
    r = expect(inst.post(inst.ws("/channels/%d/read" % cid)), 200)
    assert r["new_messages"] == 0 and len(harness.list_all(inst, inst.ws("/messages?channel=%d" % cid))) == 3, r
    # The CLI lists the same.
    rows = harness.cli_json(inst.db, "messages", "--channel", str(cid))
    assert len(rows) == 3, rows
    expect(inst.get(inst.ws("/messages?kind=nope")), 400, "bad_request")


def test_engagement_counts_are_fetched_after_publishing(inst):
    _, cid = _connected(inst, "masto-counts")
    p = expect(inst.post(inst.ws("/posts"), json={"text": "Counting", "channels": [cid], "schedule": "now"}), 201)

    def fetched():
        items = expect(inst.get(inst.ws("/posts/%d/engagement" % p["id"])), 200)["items"]
        return items if items and all(i["fetched_at"] for i in items) else None
    items = harness.wait_until(fetched, "the engagement fetch 1 s after publishing")
    assert len(items) == 1 and items[0]["after_seconds"] == 1 and not items[0]["error"], items
    rows = harness.cli_json(inst.db, "engagement", str(p["id"]))
    assert rows[0]["fetched_at"] == items[0]["fetched_at"], rows


def test_a_refused_token_holds_the_queue_until_reconnected(inst):
    ch = harness.new_channel(inst, "masto-401", kind="mastodon", secret="old-token", max_per_hour=10,
                             settings={"instance_url": "http://127.0.0.1:%d" % inst.receiver.port})
    inst.receiver.control(mode="401", count=1, error="The access token is invalid")
    p = expect(inst.post(inst.ws("/posts"), json={"text": "held", "channels": [ch["id"]], "schedule": "now"}), 201)

    def marked():
        c = expect(inst.get(inst.ws("/channels/%d" % ch["id"])), 200)
        o = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]
        return (c, o) if c["status"] == "reconnect" and o["state"] == "scheduled" and o.get("error") else None
    c, occ = harness.wait_until(marked, "the channel to be marked for reconnecting and the post to wait")
    assert "reconnect" in c["status_message"].lower(), c
    assert "token" in occ["error"], occ                  # waiting, not lost
    # A new token reconnects it, and the post goes out.
    c = expect(inst.patch(inst.ws("/channels/%d" % ch["id"]), json={"secret": "new-token", "verify": False}), 200)
    assert c["status"] == "active" and not c["status_message"], c

    def published():
        o = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]
        return o if o["state"] == "published" else None
    harness.wait_until(published, "the held post to go out after reconnecting")
    auth = [d["headers"].get("Authorization") for d in inst.receiver.deliveries() if d["path"] == "/api/v1/statuses"]
    assert auth[-1] == "Bearer new-token", auth
    actions = [a["action"] for a in expect(inst.get(inst.ws("/audit")), 200)["items"]]
    assert "channel.needs_reconnect" in actions and "channel.reconnect" in actions, actions


def test_behind_a_proxy_the_instance_sends_people_to_public_url(inst):
    """With public_url (samtale behind a proxy, under a path), the instance is told to send
    people there, and the callback sends them on to the dashboard there."""
    other = harness.Instance()
    try:
        other.prepare()
        other.server = harness.Server(other.db, other.dir,
                                      env={"SAMTALE_PUBLIC_URL": "https://samtale.example/sub/"}).start()
        other.wid = expect(other.get("/api/v1/me"), 200)["token"]["workspace_id"]
        r = other.post(other.ws("/channels/connect/mastodon"), json={"instance_url": inst.mock.url, "name": "p"})
        start = expect(r, 201)
        assert start["redirect_uri"] == "https://samtale.example/sub/api/v1/oauth/mastodon/callback", start
        assert "redirect_uri=https%3A%2F%2Fsamtale.example%2Fsub%2Fapi%2Fv1%2Foauth%2Fmastodon%2Fcallback" in \
            start["authorize_url"], start
        cookie = [v for v in r.headers.get_all("Set-Cookie") if v.startswith("samtale_oauth=")][0]
        back = other.get("/api/v1/oauth/mastodon/callback?code=c&state=" + start["state"], token=None,
                         headers={"Cookie": cookie.split(";")[0]})
        assert back.header("Location").startswith("https://samtale.example/sub/#/channels?connected="), back
    finally:
        other.close()


LONG = ("Vi åpner en ny butikk i Bergen på lørdag, og alle er velkomne til å komme innom. " * 3 +
        "Det blir kaffe, boller og sykler å prøve, og de første hundre får en liten overraskelse. " * 3 +
        "Se mer på https://example.com/apning-i-bergen-med-en-veldig-lang-adresse-som-teller-tjuetre. " +
        "Vel møtt!")


def _mastodon_length(text):
    """Code points, every link counting 23 (docs/checks.md)."""
    import re
    return len(re.sub(r"https?://\S+", "x" * 23, text))


def _deliveries(inst):
    try:
        return inst.receiver.deliveries()
    except FileNotFoundError:       # nothing delivered yet
        return []


def test_a_long_post_goes_out_as_a_thread_of_replies_once(inst):
    assert _mastodon_length(LONG) > 500, _mastodon_length(LONG)
    before = len(_deliveries(inst))
    ch = harness.new_channel(inst, "masto-thread", kind="mastodon", secret="t", verify=False,
                             settings={"instance_url": "http://127.0.0.1:%d" % inst.receiver.port}, max_per_hour=10)
    # The second part fails once: the retry posts the first again under its key (the
    # instance answers the same status) and then the second.
    inst.receiver.control(mode="ok", count=1)
    inst.receiver.control(mode="500", count=1, error="hiccup")
    p = expect(inst.post(inst.ws("/posts"), json={"text": LONG, "channels": [ch["id"]], "schedule": "now"}), 201)

    def published():
        o = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]
        return o if o["state"] == "published" else None
    occ = harness.wait_until(published, "the thread to go out")
    sent = [d for d in _deliveries(inst)[before:] if d["path"] == "/api/v1/statuses" and d["status"] == 201]
    firsts = {}
    for d in sent:
        firsts.setdefault(d["headers"]["Idempotency-Key"], json.loads(d["body"]))
    keys = list(firsts)
    assert len(keys) == 2 and keys[1] == keys[0] + "#1", keys
    one, two = firsts[keys[0]], firsts[keys[1]]
    assert "in_reply_to_id" not in one and two["in_reply_to_id"] == keys[0], (one, two)
    assert one["status"].endswith("\n\n1/2") and two["status"].endswith("\n\n2/2"), (one, two)
    assert all(_mastodon_length(b["status"]) <= 500 for b in (one, two))
    assert occ["remote_id"] == keys[0], occ
    joined = " ".join(b["status"].rsplit("\n\n", 1)[0] for b in (one, two))
    assert joined.split() == LONG.split()


def test_a_thread_passes_the_contract(inst):
    ch = harness.new_channel(inst, "masto-thread-contract", kind="mastodon", secret="access-token-123",
                             settings={"instance_url": inst.mock.url, "visibility": "unlisted"}, max_per_hour=10)
    p = expect(inst.post(inst.ws("/posts"), json={"text": LONG, "channels": [ch["id"]], "schedule": "now"}), 201)

    def done():
        o = expect(inst.get(inst.ws("/posts/%d" % p["id"])), 200)["occurrences"][0]
        return o if o["state"] in ("published", "failed") else None
    occ = harness.wait_until(done, "the thread to go out to the mock")
    assert occ["state"] == "published", occ      # every part passed the description's validation


def test_replacing_a_copy_published_as_a_thread_deletes_every_status(inst):
    """Replace on repost of a long text on Mastodon: the previous copy's statuses are all
    deleted, its reply first, then its first status (the contract mock logs the calls)."""
    log = os.path.join(inst.dir, "masto-replace.jsonl")
    proc = subprocess.Popen(["node", os.path.join(PEER, "start.mjs")], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, MASTODON_MOCK_LOG=log))
    try:
        line = peers.first_line(proc, 60)
        assert line.strip(), "the Mastodon contract mock did not start"
        ch = harness.new_channel(inst, "masto-replace", kind="mastodon", secret="access-token-123",
                                 settings={"instance_url": json.loads(line)["url"]}, max_per_hour=10)
        doc = expect(inst.post(inst.ws("/series"), json={"text": LONG, "channels": [ch["id"]], "count": 2,
                                                         "replace_previous": True}), 201)
        ids = [o["id"] for o in doc["post"]["occurrences"]]
        harness.due_in_turn(inst.db, ids, 3)

        def replaced():
            p = expect(inst.get(inst.ws("/posts/%d" % doc["post"]["id"])), 200)
            occ = {o["id"]: o for o in p["occurrences"]}
            done = all(occ[i]["state"] == "published" for i in ids) and occ[ids[0]].get("deleted_at")
            return occ if done else None
        occ = harness.wait_until(replaced, "both copies out and the first deleted", timeout=60, step=0.2)
        with open(log, encoding="utf-8") as f:
            calls = [json.loads(l) for l in f if l.strip()]
        posts = [c for c in calls if c["method"] == "POST" and c["path"] == "/api/v1/statuses"]
        deletes = [c for c in calls if c["method"] == "DELETE" and c["path"].startswith("/api/v1/statuses/")]
        assert len(posts) == 4, [c["path"] for c in calls]          # two copies of two statuses
        assert len(deletes) == 2 and all(c["status"] == 200 for c in deletes), deletes
        # The reply goes before the first status, and both after the second copy went out.
        assert deletes[-1]["path"] == "/api/v1/statuses/" + occ[ids[0]]["remote_id"], (deletes, occ[ids[0]])
        assert calls.index(deletes[0]) > calls.index(posts[3]), "a status was deleted before the new copy was out"
    finally:
        peers.stop_process(proc)
