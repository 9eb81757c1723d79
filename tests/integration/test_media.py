"""Images on posts (PRODUCT.md P16), through samtale's API on the running server.

An upload becomes the stored form (metadata such as EXIF GPS gone) and is kept once by its
SHA-256 (the same bytes twice: one image, one id); the type is what the bytes are, never the
name; the limits hold (20 MB, 4 images a post, 1000 characters of alt text, a workspace that
requires alt text); a post's images publish to a file channel (alt and sha256 in its line),
to a real Bluesky PDS (uploadBlob, app.bsky.embed.images with alt and aspectRatio, each blob
at most 1,000,000 bytes, read back with getRecord and getBlob) and to the Mastodon contract
mock (POST /api/v2/media with the description, its 202 answer waited out through
GET /api/v1/media/:id, the status with media_ids, the instance's size limit kept); a deleted
post's images go when nothing uses them, and the sweep takes uploads nothing used.

The test images are made by tests/tools/image_tool (libvips), so the test needs no image
library of its own."""

import hashlib
import http.client
import json
import os
import subprocess
import time

import harness
import peers
import test_bluesky
import test_mastodon
from harness import expect

KEEP_S = 4   # media_keep_unused_s of this server: an unused upload goes this long after it


def _tool(*args, stdout=True):
    tool = os.path.join(os.path.dirname(harness.binary()), "image_tool")
    p = subprocess.run([tool] + [str(a) for a in args], capture_output=True, timeout=harness.TIMEOUT)
    assert p.returncode == 0, "image_tool %s: %s" % (args[0], p.stderr.decode(errors="replace"))
    return p.stdout


def make(w, h, kind="jpeg", *opts):
    return _tool("make", w, h, kind, *opts)


def info(data, workdir):
    path = os.path.join(workdir, "probe-%d.bin" % time.monotonic_ns())
    with open(path, "wb") as f:
        f.write(data)
    try:
        return json.loads(_tool("info", path))
    finally:
        os.unlink(path)


def upload(inst, data, content_type="image/jpeg", **kw):
    return inst.request("POST", inst.ws("/media"), body=data, content_type=content_type, **kw)


def setup_module():
    inst = harness.Instance()
    try:
        inst.prepare()
        inst.server = harness.Server(inst.db, inst.dir, env={"SAMTALE_MEDIA_KEEP_UNUSED_S": str(KEEP_S),
                                                             "SAMTALE_POLL_INTERVAL_S": "1",
                                                             "SAMTALE_PUBLISH_BACKOFF_S": "1"}).start()
        inst.wid = expect(inst.get("/api/v1/me"), 200)["token"]["workspace_id"]
    except BaseException:
        inst.close()
        raise
    return inst


def teardown_module(inst):
    inst.close()


def _lines(inst, name):
    path = os.path.join(inst.dir, "files", name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def _published(inst, pid, what):
    def done():
        o = expect(inst.get(inst.ws("/posts/%d" % pid)), 200)["occurrences"]
        return o if all(x["state"] in ("published", "failed") for x in o) else None
    occ = harness.wait_until(done, what, timeout=max(harness.TIMEOUT, 120))
    assert all(x["state"] == "published" for x in occ), occ
    return occ


# ---- uploads ----

def test_an_upload_loses_its_location_and_the_same_bytes_are_one_image(inst):
    photo = make(640, 480, "jpeg", "gps")
    before = info(photo, inst.dir)
    assert before["gps"] and before["exif"], before        # the test image carries a position
    first = expect(upload(inst, photo), 201)
    assert first["type"] == "image/jpeg" and (first["width"], first["height"]) == (640, 480), first
    stored = inst.get(inst.ws("/media/%d" % first["id"]))
    assert stored.status == 200 and stored.header("Content-Type") == "image/jpeg", stored
    assert stored.header("X-Content-Type-Options") == "nosniff", stored.headers
    assert hashlib.sha256(stored.body).hexdigest() == first["sha256"] and len(stored.body) == first["bytes"]
    after = info(stored.body, inst.dir)
    assert not after["gps"] and not after["exif"] and not after["xmp"], after
    assert b"Exif" not in stored.body and b"Samtale" not in stored.body    # the EXIF block and its camera name
    again = expect(upload(inst, photo), 200)
    assert (again["id"], again["sha256"]) == (first["id"], first["sha256"]), (first, again)


def test_graphics_stay_png_and_an_animated_gif_stays_animated(inst):
    flat = make(300, 200, "png", "alpha")
    doc = expect(upload(inst, flat, "image/png"), 201)
    assert doc["type"] == "image/png", doc                 # transparency kept
    gif = _tool("animate", 120, 80, 4)
    doc = expect(upload(inst, gif, "image/gif"), 201)
    assert doc["type"] == "image/gif" and doc["frames"] == 4, doc
    webp = make(200, 100, "webp")
    doc = expect(upload(inst, webp, "image/webp"), 201)
    assert doc["type"] in ("image/jpeg", "image/png") and doc["width"] == 200, doc


def test_what_is_not_an_image_is_refused_whatever_its_name(inst):
    text = b"Dear customer, this is a text file called photo.jpg\n" * 10
    expect(upload(inst, text, "image/jpeg"), 422, field="file")
    expect(upload(inst, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png"), 422, field="file")   # a PNG cut short
    cut = make(400, 300, "jpeg", "noise")
    expect(upload(inst, cut[:len(cut) // 3]), 422, field="file")
    expect(upload(inst, make(50, 50), "text/plain"), 415, code="unsupported_media_type")
    expect(upload(inst, make(50, 50), token=None), 401)
    # 21 MB: refused on its Content-Length, before a byte of it is read.
    conn = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=harness.TIMEOUT)
    try:
        conn.putrequest("POST", inst.ws("/media"))
        for k, v in (("Authorization", "Bearer " + inst.token), ("Content-Type", "image/jpeg"),
                     ("Content-Length", str(21 * 1000 * 1000))):
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        assert r.status == 413 and b"payload_too_large" in r.read(), r.status
    finally:
        conn.close()
    # Just under the 20 MiB limit is read, and judged by what it is.
    expect(upload(inst, b"\xff\xd8\xff" + b"\0" * (20 * 1024 * 1024 - 3)), 422, field="file")
    # A picture of more pixels than samtale decodes (a decompression bomb) is refused unread.
    bomb = make(8000, 7000, "png")
    expect(upload(inst, bomb, "image/png"), 422, field="file")
    # A viewer's token may not upload.
    viewer = inst.create_token("viewer-ish", "posts:read")
    expect(upload(inst, make(20, 20), token=viewer), 403)


# ---- posts ----

def test_a_post_with_two_images_publishes_them_to_a_file_channel(inst):
    ch = harness.new_channel(inst, "media-file", kind="file", settings={"path": "media.jsonl"}, max_per_hour=50, max_per_day=200)
    a = expect(upload(inst, make(800, 600, "jpeg", "noise")), 201)
    b = expect(upload(inst, make(400, 400, "png"), "image/png"), 201)
    body = {"text": "To bilder fra fjellet 🏔", "channels": [ch["id"]], "schedule": "now",
            "media": [{"id": a["id"], "alt": "Fjelltopp i tåke"}, {"id": b["id"], "alt": "Kart over ruta"}]}
    post = expect(inst.post(inst.ws("/posts"), json=body), 201)
    assert [(m["id"], m["alt"], m["position"]) for m in post["media"]] == \
        [(a["id"], "Fjelltopp i tåke", 0), (b["id"], "Kart over ruta", 1)], post["media"]
    assert not [v for v in post["violations"] if v["rule"] == "P16"], post["violations"]
    _published(inst, post["id"], "the post to go out to the file channel")
    line = [l for l in _lines(inst, "media.jsonl") if l.get("post_id") == post["id"]][-1]
    assert [(m["sha256"], m["alt"]) for m in line["media"]] == \
        [(a["sha256"], "Fjelltopp i tåke"), (b["sha256"], "Kart over ruta")], line
    # Once gone out, its images no longer change.
    expect(inst.patch(inst.ws("/posts/%d" % post["id"]), json={"media": []}), 409)


def test_edits_change_the_images_while_nothing_went_out(inst):
    a = expect(upload(inst, make(120, 90)), 201)
    b = expect(upload(inst, make(90, 120)), 201)
    draft = expect(inst.post(inst.ws("/posts"), json={"text": "draft with an image",
                                                      "media": [{"id": a["id"], "alt": "first"}]}), 201)
    assert [m["id"] for m in draft["media"]] == [a["id"]]
    edited = expect(inst.patch(inst.ws("/posts/%d" % draft["id"]),
                               json={"media": [{"id": b["id"], "alt": "second"}, {"id": a["id"], "alt": "first"}]}), 200)
    assert [(m["id"], m["alt"]) for m in edited["media"]] == [(b["id"], "second"), (a["id"], "first")], edited
    kept = expect(inst.patch(inst.ws("/posts/%d" % draft["id"]), json={"text": "draft, new words"}), 200)
    assert [m["id"] for m in kept["media"]] == [b["id"], a["id"]], kept     # no "media": they stay
    none = expect(inst.patch(inst.ws("/posts/%d" % draft["id"]), json={"media": []}), 200)
    assert none["media"] == [], none


def test_limits_of_a_post(inst):
    ids = [expect(upload(inst, make(60 + i, 60)), 201)["id"] for i in range(5)]
    five = {"text": "five", "media": [{"id": i, "alt": "x"} for i in ids]}
    expect(inst.post(inst.ws("/posts"), json=five), 422, field="media")
    long_alt = {"text": "long alt", "media": [{"id": ids[0], "alt": "å" * 1001}]}
    expect(inst.post(inst.ws("/posts"), json=long_alt), 422, field="media.alt")
    ctl = {"text": "control", "media": [{"id": ids[0], "alt": "bell \u0007"}]}
    expect(inst.post(inst.ws("/posts"), json=ctl), 422, field="media.alt")
    ok_alt = {"text": "alt at the limit", "media": [{"id": ids[0], "alt": "å" * 1000}]}
    expect(inst.post(inst.ws("/posts"), json=ok_alt), 201)
    expect(inst.post(inst.ws("/posts"), json={"text": "nope", "media": [{"id": 999999, "alt": "x"}]}), 422,
           field="media")
    expect(inst.post(inst.ws("/posts"), json={"text": "bad", "media": [{"id": ids[0], "alt": "x", "x": 1}]}), 422,
           field="media")
    # An image of another workspace is not found, nor is it readable.
    other = harness.cli_json(inst.db, "workspace", "add", "Other media", "--timezone", "Europe/Oslo")
    oid = other["id"] if isinstance(other, dict) else None
    if oid:
        expect(inst.get("/api/v1/workspaces/%d/media/%d" % (oid, ids[0])), 404)


def test_a_workspace_can_require_alt_text(inst):
    img = expect(upload(inst, make(100, 80)), 201)
    soft = expect(inst.post(inst.ws("/posts"), json={"text": "no alt, allowed", "media": [{"id": img["id"]}]}), 201)
    warn = [v for v in soft["violations"] if v["rule"] == "P16"]
    assert warn and warn[0]["severity"] == "warn" and "alt text" in warn[0]["message"], soft["violations"]
    check = expect(inst.post(inst.ws("/check"), json={"text": "check me", "media": [{"id": img["id"], "alt": " "}]}),
                   200)
    assert [v for v in check["violations"] if v["rule"] == "P16"], check
    ws = expect(inst.patch(inst.ws(), json={"require_alt_text": True}), 200)
    assert ws["require_alt_text"] is True, ws
    try:
        r = inst.post(inst.ws("/posts"), json={"text": "no alt, refused",
                                               "media": [{"id": img["id"], "alt": "a lake"}, {"id": img["id"]}]})
        err = expect(r, 422, field="media")
        assert "image 2" in err["error"]["message"] and str(img["id"]) in err["error"]["message"], err
        nb = inst.post(inst.ws("/posts"), json={"text": "uten alt", "media": [{"id": img["id"], "alt": ""}]},
                       headers={"Accept-Language": "nb"})
        assert "bilde 1" in expect(nb, 422, field="media")["error"]["message"].lower(), nb.body
        expect(inst.post(inst.ws("/posts"), json={"text": "with alt", "media": [{"id": img["id"], "alt": "a lake"}]}),
               201)
        # Scheduling a draft whose image has no alt text is refused too.
        expect(inst.patch(inst.ws("/posts/%d" % soft["id"]), json={"schedule": "next_slot", "channels": []}), 422)
    finally:
        expect(inst.patch(inst.ws(), json={"require_alt_text": False}), 200)


def test_a_deleted_posts_images_go_when_nothing_else_uses_them(inst):
    shared = expect(upload(inst, make(70, 70, "png"), "image/png"), 201)
    alone = expect(upload(inst, make(71, 70)), 201)
    p1 = expect(inst.post(inst.ws("/posts"), json={"text": "one", "media": [{"id": shared["id"], "alt": "s"},
                                                                           {"id": alone["id"], "alt": "a"}]}), 201)
    p2 = expect(inst.post(inst.ws("/posts"), json={"text": "two", "media": [{"id": shared["id"], "alt": "s"}]}), 201)
    time.sleep(KEEP_S + 1)      # past the time a composer has to attach an upload
    expect(inst.delete(inst.ws("/posts/%d" % p1["id"])), 204)
    expect(inst.get(inst.ws("/posts/%d" % p1["id"])), 404)
    expect(inst.get(inst.ws("/media/%d" % alone["id"])), 404)        # only p1 used it: gone with it
    assert inst.get(inst.ws("/media/%d" % shared["id"])).status == 200   # p2 still uses it
    expect(inst.delete(inst.ws("/posts/%d" % p2["id"])), 204)
    expect(inst.get(inst.ws("/media/%d" % shared["id"])), 404)
    audit = harness.list_all(inst, inst.ws("/audit"))
    assert any(e["action"] == "post.delete" and e["detail"].get("post_id") == p1["id"] for e in audit)


def test_a_scheduled_or_published_post_is_not_deleted(inst):
    ch = harness.new_channel(inst, "media-keep", kind="file", settings={"path": "keep.jsonl"}, max_per_hour=50, max_per_day=200)
    img = expect(upload(inst, make(64, 48)), 201)
    later = expect(inst.post(inst.ws("/posts"), json={"text": "later", "channels": [ch["id"]],
                                                      "schedule": "next_slot",
                                                      "media": [{"id": img["id"], "alt": "x"}]}), 201)
    expect(inst.delete(inst.ws("/posts/%d" % later["id"])), 409)
    expect(inst.post(inst.ws("/posts/%d/cancel" % later["id"])), 200)
    time.sleep(KEEP_S + 1)
    expect(inst.delete(inst.ws("/posts/%d" % later["id"])), 204)
    expect(inst.get(inst.ws("/media/%d" % img["id"])), 404)


def test_the_sweep_takes_uploads_nothing_used(inst):
    lost = expect(upload(inst, make(90, 33)), 201)
    assert inst.get(inst.ws("/media/%d" % lost["id"])).status == 200

    def gone():
        return inst.get(inst.ws("/media/%d" % lost["id"])).status == 404
    harness.wait_until(gone, "the sweep to remove an image nothing used", timeout=KEEP_S + 30, step=0.5)


# ---- networks ----

def test_a_webhook_hears_what_each_image_is_but_not_its_bytes(inst):
    rx = peers.Receiver(inst.dir)
    try:
        ch = harness.new_channel(inst, "media-hook", kind="webhook", settings={"url": rx.url}, max_per_hour=50,
                                 max_per_day=200)
        img = expect(upload(inst, make(320, 200)), 201)
        post = expect(inst.post(inst.ws("/posts"), json={"text": "webhook with an image", "channels": [ch["id"]],
                                                          "schedule": "now",
                                                          "media": [{"id": img["id"], "alt": "A test card"}]}), 201)
        _published(inst, post["id"], "the post to reach the webhook")
        body = json.loads([d for d in rx.deliveries() if d.get("method") == "POST"][-1]["body"])
        assert body["media"] == [{"id": img["id"], "sha256": img["sha256"], "type": "image/jpeg", "width": 320,
                                  "height": 200, "bytes": img["bytes"], "frames": 1, "alt": "A test card"}], body
    finally:
        rx.stop()


def test_images_reach_a_real_bluesky_pds(inst):
    pds = test_bluesky.Pds(inst.dir)
    try:
        ch = harness.new_channel(inst, "media-bsky", kind="bluesky", secret=pds.alice["app_password"],
                                 settings={"handle": pds.alice["handle"], "service_url": pds.url}, max_per_hour=50, max_per_day=200)
        big = expect(upload(inst, make(3000, 2000, "jpeg", "noise")), 201)     # stored larger than 1 MB
        assert big["bytes"] > 1000000, big
        small = expect(upload(inst, make(300, 500, "png"), "image/png"), 201)
        anim = expect(upload(inst, _tool("animate", 100, 60, 3), "image/gif"), 201)
        body = {"text": "Bilder til Bluesky æøå", "channels": [ch["id"]], "schedule": "now",
                "media": [{"id": big["id"], "alt": "Støy i farger"}, {"id": small["id"], "alt": "En rød firkant"},
                          {"id": anim["id"], "alt": "Blinkende firkant"}]}
        post = expect(inst.post(inst.ws("/posts"), json=body), 201)
        occ = _published(inst, post["id"], "the post to reach the PDS")[0]
        uri = occ["remote_id"]
        did, rkey = uri[len("at://"):].split("/")[0], uri.rsplit("/", 1)[1]
        st, rec = pds.xrpc("com.atproto.repo.getRecord", {"repo": did, "collection": "app.bsky.feed.post",
                                                          "rkey": rkey})
        assert st == 200, (st, rec)
        embed = rec["value"]["embed"]
        assert embed["$type"] == "app.bsky.embed.images" and len(embed["images"]) == 3, embed
        assert [i["alt"] for i in embed["images"]] == ["Støy i farger", "En rød firkant", "Blinkende firkant"]
        for i, want in zip(embed["images"], (3 / 2, 3 / 5, 100 / 60)):
            ar = i["aspectRatio"]
            assert ar["width"] > 0 and abs(ar["width"] / ar["height"] - want) < 0.01, i
            cid = i["image"]["ref"]["$link"]
            blob = harness.request(pds.port, "GET", "/xrpc/com.atproto.sync.getBlob?did=%s&cid=%s" % (did, cid))
            assert blob.status == 200 and 0 < len(blob.body) <= 1000000, (blob.status, len(blob.body))
            assert i["image"]["size"] == len(blob.body) and i["image"]["mimeType"] in ("image/jpeg", "image/png")
            got = info(blob.body, inst.dir)
            assert (got["width"], got["height"]) == (ar["width"], ar["height"]) and got["frames"] == 1, got
            assert not got["exif"] and not got["gps"], got
    finally:
        pds.stop()


def test_a_long_post_with_images_and_a_link_is_a_thread_with_both_on_a_real_pds(inst):
    """Issue #10's whole case: two images with alt text, a 700-character text and a link.
    The images go on the thread's first post, the link card on its last (a Bluesky post has
    one embed), every part once and in order, all read back from the PDS."""
    pds = test_bluesky.Pds(inst.dir)
    site = test_bluesky.PageServer()
    try:
        ch = harness.new_channel(inst, "media-thread", kind="bluesky", secret=pds.alice["app_password"],
                                 settings={"handle": pds.alice["handle"], "service_url": pds.url},
                                 max_per_hour=50, max_per_day=200)
        a = expect(upload(inst, make(1212, 808, "jpeg", "noise")), 201)
        b = expect(upload(inst, make(404, 404, "png"), "image/png"), 201)
        text = test_bluesky.LONG_NB
        assert len(text) >= 700, len(text)
        link = "http://127.0.0.1:%d/butikk" % site.port
        body = {"text": text, "link": link, "channels": [ch["id"]], "schedule": "now",
                "media": [{"id": a["id"], "alt": "Butikken sett fra fisketorget"},
                          {"id": b["id"], "alt": "Logoen vår i rødt"}]}
        post = expect(inst.post(inst.ws("/posts"), json=body), 201)
        occ = _published(inst, post["id"], "the thread to reach the PDS")[0]
    finally:
        site.stop()
    try:
        did, root = pds.alice["did"], occ["remote_id"]
        recs = {"at://%s/app.bsky.feed.post/%s" % (did, k): v for k, v in pds.records(did).items()}
        chain = [root]
        while True:
            nxt = [u for u, v in recs.items() if v.get("reply", {}).get("parent", {}).get("uri") == chain[-1]]
            assert len(nxt) <= 1, ("two replies to one part", nxt)
            if not nxt:
                break
            chain.append(nxt[0])
        thread = [recs[u] for u in chain]
        assert len(thread) == 3 and len(recs) == 3, [v["text"] for v in recs.values()]
        assert [v["text"].rsplit("\n\n", 1)[1] for v in thread] == ["1/3", "2/3", "3/3"]
        assert " ".join(v["text"].rsplit("\n\n", 1)[0] for v in thread).split() == text.split()
        first = thread[0]["embed"]
        assert first["$type"] == "app.bsky.embed.images", first
        assert [i["alt"] for i in first["images"]] == ["Butikken sett fra fisketorget", "Logoen vår i rødt"]
        for i, want in zip(first["images"], (3 / 2, 1)):
            ar = i["aspectRatio"]
            assert abs(ar["width"] / ar["height"] - want) < 0.01, i
            blob = harness.request(pds.port, "GET", "/xrpc/com.atproto.sync.getBlob?did=%s&cid=%s" %
                                   (did, i["image"]["ref"]["$link"]))
            assert blob.status == 200 and 0 < len(blob.body) <= 1000000, blob.status
        assert "embed" not in thread[1], thread[1]
        card = thread[2]["embed"]
        assert card["$type"] == "app.bsky.embed.external", card
        assert card["external"]["uri"] == link and card["external"]["title"] == "Ny butikk i Bergen – åpning lørdag"
        assert card["external"]["thumb"]["mimeType"] == "image/png", card
    finally:
        pds.stop()


def test_images_reach_the_mastodon_mock_through_its_asynchronous_answer(inst):
    if not os.path.exists(test_mastodon._description()):
        raise harness.Skip("no Mastodon OpenAPI description (set SAMTALE_DATA_DIR)")
    log = os.path.join(inst.dir, "masto-mock.jsonl")
    limit = 400000
    env = dict(os.environ, MASTODON_MOCK_MEDIA_ASYNC="2", MASTODON_MOCK_LOG=log,
               MASTODON_MOCK_IMAGE_SIZE_LIMIT=str(limit))
    proc = subprocess.Popen(["node", os.path.join(test_mastodon.PEER, "start.mjs")], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        line = peers.first_line(proc, 60)
        assert line.strip(), "the Mastodon contract mock did not start"
        url = json.loads(line)["url"]
        ch = harness.new_channel(inst, "media-masto", kind="mastodon", secret="access-token-123",
                                 settings={"instance_url": url}, max_per_hour=50, max_per_day=200)
        big = expect(upload(inst, make(1600, 1200, "jpeg", "noise")), 201)
        assert big["bytes"] > limit, big
        small = expect(upload(inst, make(200, 150, "png"), "image/png"), 201)
        body = {"text": "Bilder til Mastodon", "channels": [ch["id"]], "schedule": "now",
                "media": [{"id": big["id"], "alt": "Støy, men krympet"}, {"id": small["id"], "alt": "Firkant"}]}
        post = expect(inst.post(inst.ws("/posts"), json=body), 201)
        _published(inst, post["id"], "the post to reach the Mastodon mock")
        with open(log, encoding="utf-8") as f:
            calls = [json.loads(l) for l in f if l.strip()]
        uploads = [c for c in calls if c["method"] == "POST" and c["path"] == "/api/v2/media"]
        assert [c["status"] for c in uploads] == [202, 202], uploads       # both processed later
        assert [c["multipart"]["fields"].get("description") for c in uploads] == ["Støy, men krympet", "Firkant"]
        for c in uploads:
            assert 0 < c["multipart"]["file"]["bytes"] <= limit, c         # fitted to the instance's limit
            assert c["multipart"]["file"]["type"] in ("image/jpeg", "image/png"), c
        reads = [(c["path"], c["status"]) for c in calls if c["method"] == "GET" and c["path"].startswith("/api/v1/media/")]
        assert reads == [("/api/v1/media/1001", 206), ("/api/v1/media/1001", 206), ("/api/v1/media/1001", 200),
                         ("/api/v1/media/1002", 206), ("/api/v1/media/1002", 206), ("/api/v1/media/1002", 200)], reads
        statuses = [c for c in calls if c["method"] == "POST" and c["path"] == "/api/v1/statuses"]
        assert len(statuses) == 1 and statuses[0]["status"] == 200, statuses
        assert statuses[0]["json"]["media_ids"] == ["1001", "1002"] and statuses[0]["idempotency_key"], statuses
        assert [c["path"] for c in calls].count("/api/v2/instance") == 1, calls   # the limits, asked once
    finally:
        peers.stop_process(proc)
