"""The outbound address policy and what samtale repeats of other servers' answers.

With private addresses not allowed (allow_private_addresses = false, the default),
samtale does not connect to this machine for an address a member names, however it is
spelled: feeds (created with discover, discovered, added with the CLI), a Mastodon
instance_url, a Bluesky service_url, a webhook URL. Each refusal is a plain message (a
422 naming the field, or a failed post saying why), and a listener on 127.0.0.1 and ::1
at the port finds no connection in its backlog. outbound_allow lets exactly the
addresses it names through.

With private addresses allowed (the peers live on 127.0.0.1), peers answer errors whose
bodies are an internal admin page carrying a marker: no API answer, channel
status_message, occurrence error or CLI output carries it, while the status and the
reason from the peer's known error shape do; viewers and agents see a generic text
instead of a network's words.

Only 127.0.0.1 and ::1 are ever reached; the other private ranges are the unit tests'
(tests/unit/test_netpolicy.c decides them without connecting)."""

import json
import socket

import harness
import peers
from harness import expect

MARKER = "INTERNAL-ADMIN-7Q3K"
ADMIN_PAGE = ("<!doctype html><html><head><title>Admin console</title></head><body>"
              "<h1>Internal admin page</h1><p>%s</p><p>db password: hunter2</p></body></html>" % MARKER)
OFF = {"SAMTALE_ALLOW_PRIVATE_ADDRESSES": "false"}
ONLY_ONE = {"SAMTALE_ALLOW_PRIVATE_ADDRESSES": "false", "SAMTALE_OUTBOUND_ALLOW": "127.0.0.1"}
REFUSED_WORDS = "samtale does not connect to"
VIEWER, AGENT, EDITOR = "viewer@example.com", "agent@example.com", "editor@example.com"
PASSWORD = "a-long-enough-password"

# Spellings of this machine that reach a listener on 127.0.0.1 or ::1.
HOSTS = ["[::]", "[0::0]", "[::ffff:127.0.0.1]", "127.0.0.1", "2130706433", "0x7f.0.0.1", "localhost"]


class Listeners:
    """A listening socket on 127.0.0.1 and one on ::1 at the same port, which nothing
    accepts from: a client that connected leaves a connection waiting in the backlog."""

    def __init__(self):
        for _ in range(20):
            v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            v4.bind(("127.0.0.1", 0))
            v4.listen(16)
            self.port = v4.getsockname()[1]
            v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                v6.bind(("::1", self.port))
            except OSError:
                v4.close()
                v6.close()
                continue
            v6.listen(16)
            self.socks = (v4, v6)
            return
        raise AssertionError("no port free on both 127.0.0.1 and ::1")

    def pending(self):
        """(connections waiting on 127.0.0.1, on ::1), each accepted and closed."""
        counts = []
        for s in self.socks:
            s.setblocking(False)
            n = 0
            while True:
                try:
                    c, _ = s.accept()
                except BlockingIOError:
                    break
                c.close()
                n += 1
            counts.append(n)
        return tuple(counts)

    def close(self):
        for s in self.socks:
            s.close()


def _instance(env):
    inst = harness.Instance()
    try:
        inst.prepare()
        for email, role in ((VIEWER, "viewer"), (AGENT, "agent"), (EDITOR, "editor")):
            harness.cli_ok(inst.db, "user", "add", "--email", email, "--name", role.title(), "--workspace",
                           harness.WORKSPACE, "--role", role, "--password-stdin", input=PASSWORD + "\n")
        inst.tokens = {role: inst.create_token(role, "*", user=email)
                       for email, role in ((VIEWER, "viewer"), (AGENT, "agent"), (EDITOR, "editor"))}
        inst.server = harness.Server(inst.db, inst.dir, env=env).start()
        inst.wid = expect(inst.get("/api/v1/me"), 200)["token"]["workspace_id"]
    except BaseException:
        inst.close()
        raise
    return inst


class Ctx:
    pass


def setup_module():
    ctx = Ctx()
    ctx.stack = []
    try:
        ctx.off = _instance(OFF)
        ctx.stack.append(ctx.off.close)
        ctx.only = _instance(ONLY_ONE)
        ctx.stack.append(ctx.only.close)
        # private addresses allowed (the harness's default), quick retries
        ctx.on = _instance({"SAMTALE_PUBLISH_BACKOFF_S": "1", "SAMTALE_PUBLISH_TIMEOUT_MS": "3000"})
        ctx.stack.append(ctx.on.close)
        ctx.listen = Listeners()
        ctx.stack.append(ctx.listen.close)
        ctx.peer = peers.Receiver(ctx.on.dir)          # answers errors by script
        ctx.stack.append(ctx.peer.stop)
        ctx.peer.base = "http://127.0.0.1:%d" % ctx.peer.port
        ctx.feeds = peers.FeedServer()
        ctx.stack.append(ctx.feeds.stop)
    except BaseException:
        teardown_module(ctx)
        raise
    return ctx


def teardown_module(ctx):
    errors = []
    for stop in reversed(ctx.stack):
        try:
            stop()
        except Exception as e:  # stop everything, then report
            errors.append(e)
    if errors:
        raise errors[0]


def _plain(msg):
    """A message for people: words, not internals, and no peer's page."""
    assert isinstance(msg, str) and 0 < len(msg) < 700, msg
    for word in ("EPERM", "SAM_", "netpolicy", "CURLE", "errno", "permission denied", "<html", "<h1", "<p>",
                 MARKER):
        assert word not in msg, (word, msg)
    return msg


def _no_marker(*texts):
    for t in texts:
        s = t if isinstance(t, str) else json.dumps(t)
        assert MARKER not in s and "hunter2" not in s and "Internal admin" not in s, s[:2000]


def _publish_now(inst, channel_id, text):
    return expect(inst.post(inst.ws("/posts"), json={"text": text, "channels": [channel_id], "schedule": "now"}),
                  201)["id"]


def _occurrence(inst, pid, token=harness._DEFAULT):
    return expect(inst.get(inst.ws("/posts/%d" % pid), token=token), 200)["occurrences"][0]


def _wait_error(inst, pid, pred, what):
    return harness.wait_until(lambda: (lambda o: o if o.get("error") and pred(o) else None)(_occurrence(inst, pid)),
                              what, timeout=30)


def _script(peer, status, raw=None, **extra):
    """The next answers of the peer: status with the admin page (or raw, or extra's
    "body" / "error" JSON) for every request until _reset."""
    expect(harness.request(peer.port, "POST", "/_reset"), 200)
    if raw is None and not extra:
        raw = ADMIN_PAGE
    script = dict(mode=str(status), count=100, **extra)
    if raw is not None:
        script["raw"] = raw
    peer.control(**script)


# ---------------------------------------------------------------------------------------
# the policy: nothing reaches this machine

def test_the_listeners_see_a_connection_when_there_is_one(ctx):
    """The check below can fail: a connection to [::] lands in the ::1 listener's backlog."""
    for family, host in ((socket.AF_INET6, "::"), (socket.AF_INET, "127.0.0.1")):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.connect((host, ctx.listen.port))
        c.close()
    assert ctx.listen.pending() == (1, 1)


def test_feeds_on_this_machine_are_refused(ctx):
    inst = ctx.off
    for i, host in enumerate(HOSTS):
        url = "http://%s:%d/feed.xml" % (host, ctx.listen.port)
        body = {"kind": "feed", "name": "feed %d" % i, "settings": {"url": url}, "discover": True}
        err = expect(inst.post(inst.ws("/channels"), json=body), 422, "validation_failed", "settings.url")["error"]
        assert REFUSED_WORDS in _plain(err["message"]), (url, err)
        err = expect(inst.post(inst.ws("/channels/discover"), json={"url": url}), 422, "validation_failed",
                     "url")["error"]
        assert REFUSED_WORDS in _plain(err["message"]), (url, err)
        p = inst.cli("channel", "discover", url, env=OFF)
        assert p.returncode != 0 and REFUSED_WORDS in p.stderr, (url, p.returncode, p.stderr)
        p = inst.cli("channel", "add", "--workspace", harness.WORKSPACE, "--kind", "feed", "--name", "cli %d" % i,
                     "--setting", "url=" + url, env=OFF)
        assert p.returncode != 0 and REFUSED_WORDS in p.stderr, (url, p.returncode, p.stderr)
        assert ctx.listen.pending() == (0, 0), url
    names = [c["name"] for c in harness.list_all(inst, inst.ws("/channels"))]
    assert not [n for n in names if n.startswith(("feed ", "cli "))], names


def test_a_mastodon_instance_on_this_machine_is_refused(ctx):
    inst = ctx.off
    for host in ("127.0.0.1", "[::1]", "[::]", "localhost"):
        url = "http://%s:%d" % (host, ctx.listen.port)
        err = expect(inst.post(inst.ws("/channels/connect/mastodon"), json={"instance_url": url, "name": "m"}),
                     422, "validation_failed", "instance_url")["error"]
        assert REFUSED_WORDS in _plain(err["message"]), err
        body = {"kind": "mastodon", "name": "m", "secret": "a-token", "settings": {"instance_url": url}}
        err = expect(inst.post(inst.ws("/channels"), json=body), 422, "validation_failed",
                     "settings.instance_url")["error"]
        assert REFUSED_WORDS in _plain(err["message"]) and "instance_url" in err["message"], err
        assert ctx.listen.pending() == (0, 0), url


def test_a_bluesky_server_on_this_machine_is_refused(ctx):
    inst = ctx.off
    for host in ("127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "localhost"):
        url = "http://%s:%d" % (host, ctx.listen.port)
        body = {"kind": "bluesky", "name": "b", "secret": "aaaa-bbbb-cccc-dddd",
                "settings": {"handle": "alice.test", "service_url": url}}
        err = expect(inst.post(inst.ws("/channels"), json=body), 422, "validation_failed",
                     "settings.service_url")["error"]
        assert REFUSED_WORDS in _plain(err["message"]) and "service_url" in err["message"], err
        assert ctx.listen.pending() == (0, 0), url
    p = inst.cli("channel", "add", "--workspace", harness.WORKSPACE, "--kind", "bluesky", "--name", "b-cli",
                 "--setting", "handle=alice.test", "--setting", "service_url=http://[::]:%d" % ctx.listen.port,
                 "--secret-stdin", input="aaaa-bbbb-cccc-dddd\n", env=OFF)
    assert p.returncode != 0 and REFUSED_WORDS in p.stderr, (p.returncode, p.stderr)
    assert ctx.listen.pending() == (0, 0)


def test_a_webhook_on_this_machine_fails_to_publish_and_the_receiver_sees_nothing(ctx):
    inst = ctx.off
    receiver = peers.Receiver(inst.dir)
    try:
        hooks = [harness.new_channel(inst, "hook", kind="webhook", settings={"url": receiver.url}, max_per_hour=100,
                                     max_per_day=1000),
                 harness.new_channel(inst, "hook v6", kind="webhook", max_per_hour=100, max_per_day=1000,
                                     settings={"url": "http://[::]:%d/hook" % ctx.listen.port})]
        for ch in hooks:
            pid = _publish_now(inst, ch["id"], "to a receiver on this machine (%s)" % ch["name"])
            occ = _wait_error(inst, pid, lambda o: o["state"] == "failed", "the refused post to fail")
            assert occ["attempts"] == 1, occ          # permanent: no retry can change the answer
            assert "did not call the webhook" in _plain(occ["error"]) and REFUSED_WORDS in occ["error"], occ
        assert receiver.stats()["requests"] == 0
        assert ctx.listen.pending() == (0, 0)
    finally:
        receiver.stop()


def test_outbound_allow_lets_exactly_that_address_through(ctx):
    inst = ctx.only
    doc = expect(inst.post(inst.ws("/channels/discover"), json={"url": ctx.feeds.url + "/blog/"}), 200)
    assert doc["feed_url"] == ctx.feeds.url + "/feed.xml", doc
    for host in ("[::1]", "127.0.0.2", "[::]", "[0::0]"):
        url = "http://%s:%d/feed.xml" % (host, ctx.listen.port)
        r = inst.post(inst.ws("/channels/discover"), json={"url": url})
        err = expect(r, 422, "validation_failed", "url")["error"]
        assert REFUSED_WORDS in _plain(err["message"]), (url, err)
    assert ctx.listen.pending() == (0, 0)


# ---------------------------------------------------------------------------------------
# reflection: a peer's page does not come back to members

def test_a_webhooks_error_page_is_not_repeated(ctx):
    inst, peer = ctx.on, ctx.peer
    hook = harness.new_channel(inst, "reflect hook", kind="webhook", settings={"url": peer.url}, max_per_hour=100,
                               max_per_day=1000)
    failed = []
    for status in (401, 422):
        _script(peer, status)
        pid = _publish_now(inst, hook["id"], "webhook page %d" % status)
        occ = _wait_error(inst, pid, lambda o: o["state"] == "failed", "the post to fail with %d" % status)
        assert "answered %d" % status in _plain(occ["error"]), occ
        failed.append(pid)
    _script(peer, 500)
    pid = _publish_now(inst, hook["id"], "webhook page 500")
    occ = _wait_error(inst, pid, lambda o: o["attempts"] >= 1, "the 500 to be recorded")
    assert "answered 500" in _plain(occ["error"]), occ
    expect(inst.post(inst.ws("/posts/%d/cancel" % pid)), 200)
    # The receiver's known error shape is quoted, short.
    _script(peer, 422, error="the shop refused the text")
    pid = _publish_now(inst, hook["id"], "webhook json 422")
    occ = _wait_error(inst, pid, lambda o: o["state"] == "failed", "the JSON 422 to fail the post")
    assert "answered 422: the shop refused the text" in _plain(occ["error"]), occ
    expect(harness.request(peer.port, "POST", "/_reset"), 200)

    _no_marker(inst.get(inst.ws("/posts?limit=100")).text, inst.get(inst.ws("/queue")).text,
               inst.get(inst.ws("/channels")).text, inst.get(inst.ws("/audit")).text)
    for p in failed:
        _no_marker(inst.get(inst.ws("/posts/%d" % p)).text)
    for args in (("post", "list", "--workspace", harness.WORKSPACE), ("queue", "show", "--workspace", harness.WORKSPACE)):
        p = inst.cli(*args)
        _no_marker(p.stdout, p.stderr)
        p = inst.cli(*args, json=True)
        assert p.returncode == 0, p
        _no_marker(p.stdout, p.stderr)

    # Who sees the receiver's words: owners and editors; viewers and agents a plain text.
    owner = _occurrence(inst, failed[0])
    assert "answered 401" in owner["error"], owner
    assert "answered 401" in _occurrence(inst, failed[0], token=inst.tokens["editor"])["error"]
    for role in ("viewer", "agent"):
        occ = _occurrence(inst, failed[0], token=inst.tokens[role])
        assert occ["error"] == "Publishing failed; an editor can see why.", (role, occ)
        assert occ["state"] == "failed", occ
        listed = expect(inst.get(inst.ws("/posts?limit=100"), token=inst.tokens[role]), 200)["items"]
        _no_marker(listed)
        assert "answered 401" not in json.dumps(listed), role


def test_a_mastodon_error_page_is_not_repeated(ctx):
    inst, peer = ctx.on, ctx.peer
    body = {"kind": "mastodon", "name": "reflect masto", "secret": "a-token",
            "settings": {"instance_url": peer.base}}
    _script(peer, 401)
    err = expect(inst.post(inst.ws("/channels"), json=body), 422, "validation_failed", "secret")["error"]
    assert "401" in _plain(err["message"]) and "no reason given" in err["message"], err
    _script(peer, 401, body={"error": "The access token is <b>invalid</b>"})
    err = expect(inst.post(inst.ws("/channels"), json=body), 422, "validation_failed", "secret")["error"]
    assert "401: The access token is invalid" in _plain(err["message"]), err
    _script(peer, 500)
    r = inst.post(inst.ws("/channels/connect/mastodon"), json={"instance_url": peer.base, "name": "reflect connect"})
    assert r.status in (422, 502), r
    _no_marker(r.text)
    assert "500" in _plain(r.json()["error"]["message"]), r
    _script(peer, 422)
    r = inst.post(inst.ws("/channels/connect/mastodon"), json={"instance_url": peer.base, "name": "reflect connect"})
    err = expect(r, 422, "validation_failed", "instance_url")["error"]
    assert "422" in _plain(err["message"]), err

    # A channel whose reading is refused: its status_message has the status, not the page.
    expect(harness.request(peer.port, "POST", "/_reset"), 200)
    ch = harness.new_channel(inst, "reflect masto read", kind="mastodon", secret="a-token",
                             settings={"instance_url": peer.base})
    _script(peer, 401)
    r = inst.post(inst.ws("/channels/%d/read" % ch["id"]))
    _no_marker(r.text)
    got = expect(inst.get(inst.ws("/channels/%d" % ch["id"])), 200)
    assert got["status"] == "reconnect" and "401" in _plain(got["status_message"]), got
    for role in ("viewer", "agent"):
        seen = expect(inst.get(inst.ws("/channels/%d" % ch["id"]), token=inst.tokens[role]), 200)
        assert seen["status"] == "reconnect", seen
        assert seen["status_message"] == "The channel needs attention; an editor can see why.", (role, seen)
        r = inst.post(inst.ws("/channels/%d/read" % ch["id"]), token=inst.tokens[role])
        assert r.status == 409 and "401" not in r.text, r
    seen = expect(inst.get(inst.ws("/channels/%d" % ch["id"]), token=inst.tokens["editor"]), 200)
    assert seen["status_message"] == got["status_message"], seen
    _no_marker(inst.get(inst.ws("/channels")).text, inst.get(inst.ws("/audit")).text)
    p = inst.cli("channel", "show", str(ch["id"]))
    _no_marker(p.stdout, p.stderr)
    expect(harness.request(peer.port, "POST", "/_reset"), 200)


def test_a_bluesky_error_page_is_not_repeated(ctx):
    inst, peer = ctx.on, ctx.peer
    body = {"kind": "bluesky", "name": "reflect bsky", "secret": "aaaa-bbbb-cccc-dddd",
            "settings": {"handle": "alice.test", "service_url": peer.base}}
    for status in (401, 400):
        _script(peer, status)
        err = expect(inst.post(inst.ws("/channels"), json=body), 422, "validation_failed", "secret")["error"]
        assert str(status) in _plain(err["message"]) and "no reason given" in err["message"], err
    _script(peer, 500)
    r = inst.post(inst.ws("/channels"), json=body)
    assert r.status >= 400 and "500" in _plain(r.json()["error"]["message"]), r
    _script(peer, 401, body={"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
    err = expect(inst.post(inst.ws("/channels"), json=body), 422, "validation_failed", "secret")["error"]
    assert "Invalid identifier or password" in _plain(err["message"]), err
    _script(peer, 401)
    p = inst.cli("channel", "add", "--workspace", harness.WORKSPACE, "--kind", "bluesky", "--name", "reflect cli",
                 "--setting", "handle=alice.test", "--setting", "service_url=" + peer.base, "--secret-stdin",
                 input="aaaa-bbbb-cccc-dddd\n")
    assert p.returncode != 0 and "401" in p.stderr, (p.returncode, p.stderr)
    _no_marker(p.stdout, p.stderr)
    expect(harness.request(peer.port, "POST", "/_reset"), 200)


def test_a_feeds_error_page_is_not_repeated(ctx):
    inst, peer = ctx.on, ctx.peer
    for status, raw, words in ((404, ADMIN_PAGE, "404"), (403, ADMIN_PAGE, "403"),
                               (200, ADMIN_PAGE, "no feed found"),
                               (200, '{"title": "%s", "oops": ' % MARKER, "no feed found")):
        _script(peer, status, raw=raw)
        r = inst.post(inst.ws("/channels/discover"), json={"url": peer.url})
        err = expect(r, 422, "validation_failed", "url")["error"]
        assert words in _plain(err["message"]), (status, err)
        r = inst.post(inst.ws("/channels"), json={"kind": "feed", "name": "reflect feed", "settings": {"url": peer.url},
                                                  "discover": True})
        assert r.status == 422, r
        _no_marker(r.text)
        p = inst.cli("channel", "discover", peer.url)
        assert p.returncode != 0, p
        _no_marker(p.stdout, p.stderr)
    expect(harness.request(peer.port, "POST", "/_reset"), 200)


def test_a_bad_allow_list_stops_every_command_with_a_clear_message(ctx):
    for cmd in (("config",), ("channel", "list"), ("serve", "--listen", "127.0.0.1:0")):
        p = ctx.off.cli(*cmd, env={"SAMTALE_OUTBOUND_ALLOW": "10.0.0.5, 10.0.0.0/33"}, timeout=30)
        assert p.returncode == 2, (cmd, p.returncode, p.stderr)
        assert "outbound_allow" in p.stderr and "10.0.0.0/33" in p.stderr, (cmd, p.stderr)
    # `config` shows the settings by their new names (the old name is the unit tests').
    p = harness.run_cli(ctx.off.db, "config", env={"SAMTALE_OUTBOUND_ALLOW": "10.0.0.5"})
    assert p.returncode == 0, p
    rows = {l.split()[0]: l.split()[1:] for l in p.stdout.splitlines() if l.strip()}
    assert "fetch_private_addresses" not in rows, rows
    assert rows["allow_private_addresses"][:2] == ["true", "environment"], rows
    assert rows["outbound_allow"][:2] == ["10.0.0.5", "environment"], rows
