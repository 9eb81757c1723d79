"""The composer's previews (PRODUCT.md P2): a post as it will look on each channel, cut
exactly as the publisher cuts it, with the links, mentions and tags it marks and the card
of its link."""

import http.server
import threading

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance


class Page:
    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                body = ("<html><head><meta property=og:title content='Vårsalg – alt må ut'>"
                        "<meta property=og:description content='Tulipaner og blåbær.'>"
                        "<meta property=og:site_name content=Acme></head></html>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/salg" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def _utf16_slice(s, a, b):
    u = s.encode("utf-16-le")
    return u[2 * a:2 * b].decode("utf-16-le")


def test_each_channel_shows_its_parts_marks_and_the_card(inst):
    bsky = harness.new_channel(inst, "pv-bsky", kind="bluesky")
    masto = harness.new_channel(inst, "pv-masto", kind="mastodon")
    file = harness.new_channel(inst, "pv-file", kind="file", settings={"path": "pv.jsonl"})
    text = "🌷 Hei @bob.test! Vårsalget starter nå #vår. " + "Blåbær og tulipaner til alle som kommer innom. " * 8
    page = Page()
    try:
        doc = expect(inst.post(inst.ws("/preview"), json={"text": text, "link": page.url,
                                                          "channels": [bsky["id"], masto["id"], file["id"]]}), 200)
    finally:
        page.stop()
    card = doc["card"]
    assert card == {"uri": page.url, "title": "Vårsalg – alt må ut", "description": "Tulipaner og blåbær.",
                    "site": "Acme", "image": ""}, card
    pv = {p["channel_id"]: p for p in doc["previews"]}
    b, m, f = pv[bsky["id"]], pv[masto["id"]], pv[file["id"]]
    assert b["network"] == "bluesky" and b["limit"] == 300 and len(b["parts"]) == 2, b
    assert b["parts"][0]["text"].endswith("\n\n1/2") and b["parts"][1]["text"].endswith("\n\n2/2"), b
    assert all(p["length"] <= 300 for p in b["parts"]), b
    assert page.url not in "".join(p["text"] for p in b["parts"]), "the card carries the link on Bluesky"
    first = b["parts"][0]
    marks = {mk["kind"]: mk for mk in first["marks"]}
    assert _utf16_slice(first["text"], marks["mention"]["start"], marks["mention"]["end"]) == "@bob.test", marks
    assert _utf16_slice(first["text"], marks["tag"]["start"], marks["tag"]["end"]) == "#vår", marks
    assert marks["tag"]["value"] == "vår" and marks["mention"]["value"] == "bob.test", marks
    assert m["network"] == "mastodon" and m["limit"] == 500 and len(m["parts"]) == 1, m
    assert m["parts"][0]["text"].endswith(page.url), "Mastodon gets the link in the text"
    assert any(mk["kind"] == "link" and mk["value"] == page.url for mk in m["parts"][0]["marks"]), m
    assert f["network"] is None and f["limit"] is None and len(f["parts"]) == 1, f
    assert b["parts"][0]["card"] and not b["parts"][1]["card"], "the card goes on the first post"
    assert not any(p["images"] or p["card"] for p in m["parts"] + f["parts"]), (m, f)


def test_images_take_the_first_post_and_move_the_card_as_the_publisher_does(inst):
    """A Bluesky post has one embed: images go on the first post of a thread, its card on
    the last; a single post with images keeps its link in the text (no card)."""
    bsky = harness.new_channel(inst, "pv-bsky3", kind="bluesky")
    masto = harness.new_channel(inst, "pv-masto3", kind="mastodon")
    long_text = "Blåbær og tulipaner til alle som kommer innom. " * 8
    page = Page()
    try:
        doc = expect(inst.post(inst.ws("/preview"), json={"text": long_text, "link": page.url, "images": 2,
                                                          "channels": [bsky["id"], masto["id"]]}), 200)
        short = expect(inst.post(inst.ws("/preview"), json={"text": "Vårsalg!", "link": page.url, "images": 1,
                                                           "channels": [bsky["id"]]}), 200)
    finally:
        page.stop()
    pv = {p["channel_id"]: p for p in doc["previews"]}
    b, m = pv[bsky["id"]], pv[masto["id"]]
    assert len(b["parts"]) == 2, b
    assert [(p["images"], p["card"]) for p in b["parts"]] == [(True, False), (False, True)], b
    assert [p["images"] for p in m["parts"]] == [True] + [False] * (len(m["parts"]) - 1), m
    one = short["previews"][0]["parts"]
    assert len(one) == 1 and one[0]["images"] and not one[0]["card"], one
    assert one[0]["text"] == "Vårsalg!\n\n" + page.url, one


def test_a_link_that_cannot_be_read_says_so_and_stays_in_the_text(inst):
    bsky = harness.new_channel(inst, "pv-bsky2", kind="bluesky")
    doc = expect(inst.post(inst.ws("/preview"), json={"text": "Se her", "link": "http://127.0.0.1:9/x",
                                                      "channels": [bsky["id"]]}), 200)
    assert doc["card"] is None and doc["card_error"], doc
    assert doc["previews"][0]["parts"][0]["text"] == "Se her\n\nhttp://127.0.0.1:9/x", doc
    nb = expect(inst.post(inst.ws("/preview"), json={"text": "Se her", "link": "http://127.0.0.1:9/x",
                                                     "channels": [bsky["id"]]}, headers={"Accept-Language": "nb"}), 200)
    assert nb["card_error"] != doc["card_error"], "the card's message is not in the reader's language"


def test_bad_previews_are_refused(inst):
    ch = harness.new_channel(inst, "pv-file2", kind="file", settings={"path": "pv2.jsonl"})
    for body, field in [({"text": "x"}, "channels"), ({"text": "x", "channels": []}, "channels"),
                        ({"text": "x", "channels": [999999]}, "channels"), ({"channels": [ch["id"]]}, "text"),
                        ({"text": "x" * 10001, "channels": [ch["id"]]}, "text"),
                        ({"text": "x", "link": "ftp://a", "channels": [ch["id"]]}, "link"),
                        ({"text": "x", "channels": [ch["id"]], "schedule": "now"}, "schedule"),
                        ({"text": "x", "channels": [ch["id"]], "images": 5}, "images"),
                        ({"text": "x", "channels": [ch["id"]], "images": "2"}, "images")]:
        expect(inst.post(inst.ws("/preview"), json=body), 422, field=field)
