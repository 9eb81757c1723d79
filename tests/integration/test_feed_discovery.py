"""A feed by its address or by the page that names it (PRODUCT.md CH3; issue #4): samtale
finds the feed in a page's <link rel="alternate"> tags, through the API (discover, and a
channel created with "discover": true) and the CLI, against tests/peers/feedserver.py."""

import socket

import harness
import peers
from harness import expect


def setup_module():
    inst = harness.module_instance()
    try:
        inst.feeds = peers.FeedServer()
    except BaseException:
        harness.close_instance(inst)
        raise
    return inst


def teardown_module(inst):
    try:
        inst.feeds.stop()
    finally:
        harness.close_instance(inst)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_page_leads_to_its_feed(inst):
    doc = expect(inst.post(inst.ws("/channels/discover"), json={"url": inst.feeds.url + "/blog/"}), 200)
    # The first link that is a feed wins: the relative RSS one, resolved against the page.
    assert doc == {"feed_url": inst.feeds.url + "/feed.xml", "title": "Feed server"}, doc
    # A redirect is followed to the page.
    doc = expect(inst.post(inst.ws("/channels/discover"), json={"url": inst.feeds.url + "/moved"}), 200)
    assert doc["feed_url"] == inst.feeds.url + "/feed.xml", doc
    # A feed's own address is its feed.
    doc = expect(inst.post(inst.ws("/channels/discover"), json={"url": inst.feeds.url + "/json"}), 200)
    assert doc["feed_url"] == inst.feeds.url + "/json" and doc["title"] == "JSON", doc


def test_no_feed_and_no_site_say_so(inst):
    err = expect(inst.post(inst.ws("/channels/discover"), json={"url": inst.feeds.url + "/plain.html"}), 422,
                 "validation_failed")["error"]
    assert err["field"] == "url" and "feed" in err["message"].lower(), err
    err = expect(inst.post(inst.ws("/channels/discover"), json={"url": "http://127.0.0.1:%d/" % _free_port()}),
                 502, "peer_unavailable")["error"]
    assert err["message"], err
    expect(inst.post(inst.ws("/channels/discover"), json={"url": "file:///etc/passwd"}), 422, "validation_failed")
    expect(inst.post(inst.ws("/channels/discover"), json={}), 422, "validation_failed")


def test_a_channel_saved_from_a_page_keeps_the_feed(inst):
    ch = expect(inst.post(inst.ws("/channels"), json={"kind": "feed", "name": "Bakeriet", "discover": True,
                                                      "settings": {"url": inst.feeds.url + "/blog/"}}), 201)
    assert ch["settings"]["url"] == inst.feeds.url + "/feed.xml", ch
    assert ch["settings"]["title"] == "Feed server", ch
    # Without "discover" the address is saved as given.
    ch = expect(inst.post(inst.ws("/channels"), json={"kind": "feed", "name": "As given",
                                                      "settings": {"url": inst.feeds.url + "/blog/"}}), 201)
    assert ch["settings"]["url"] == inst.feeds.url + "/blog/", ch


def test_the_cli_finds_the_feed_too(inst):
    doc = harness.cli_json(inst.db, "channel", "discover", inst.feeds.url + "/blog/")
    assert doc["feed_url"] == inst.feeds.url + "/feed.xml", doc
    ch = harness.cli_json(inst.db, "channel", "add", "--kind", "feed", "--name", "cli-bakeriet",
                          "--setting", "url=" + inst.feeds.url + "/blog/")
    assert ch["settings"]["url"] == inst.feeds.url + "/feed.xml", ch
    p = harness.run_cli(inst.db, "channel", "add", "--kind", "feed", "--name", "cli-none",
                        "--setting", "url=" + inst.feeds.url + "/plain.html")
    assert p.returncode == 5 and "feed" in p.stderr.lower(), (p.returncode, p.stderr)


def test_this_machine_and_private_networks_are_off_limits_by_default(inst):
    """Discovery shows what it finds, so by default it does not reach this machine or
    private networks (the tests allow it with allow_private_addresses). Only loopback
    addresses are tried here; the other private ranges are the unit tests' (netpolicy)."""
    off = {"SAMTALE_ALLOW_PRIVATE_ADDRESSES": "false"}
    p = harness.run_cli(inst.db, "channel", "discover", inst.feeds.url + "/blog/", env=off)
    assert p.returncode != 0 and "this machine" in p.stderr, (p.returncode, p.stderr)
    for url in ("http://[::1]:9/", "http://127.0.0.1:9/", "http://localhost:9/"):
        p = harness.run_cli(inst.db, "channel", "discover", url, env=off, timeout=30)
        assert p.returncode != 0 and "samtale does not connect to" in p.stderr, (url, p.returncode, p.stderr)