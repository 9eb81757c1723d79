"""The Mastodon connector against the API's own contract (PRODUCT.md CH2; issue #4): the
Mastodon OpenAPI description served by a contract mock (Stoplight Prism, started from
tests/peers/mastodon/start.mjs) that answers 4xx to any request breaking the description,
so every 2xx here is a request that passed its validation. Rate limits come from the
loopback receiver (tests/peers/receiver.py), which can answer 429."""

import json
import os
import subprocess
import threading

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
        out = []
        t = threading.Thread(target=lambda: out.append(self.proc.stdout.readline().decode()), daemon=True)
        t.start()
        t.join(60)
        if not out or not out[0].strip():
            self.stop()
            raise AssertionError("the Mastodon contract mock did not start")
        self.url = json.loads(out[0])["url"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(harness.TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def setup_module():
    if not os.path.exists(_description()):
        raise harness.Skip("no Mastodon OpenAPI description at %s (set SAMTALE_DATA_DIR)" % _description())
    inst = harness.Instance()
    try:
        inst.prepare()
        inst.mock = Mock()
        inst.receiver = peers.Receiver(inst.dir)
        inst.server = harness.Server(inst.db, inst.dir, env={"SAMTALE_PUBLISH_BACKOFF_S": "1"}).start()
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
    ch = harness.new_channel(inst, "masto-limited", kind="mastodon", secret="t",
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
