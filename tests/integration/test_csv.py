"""CSV import and export of posts (PRODUCT.md P14, docs/csv.md) through the API and the CLI:
a dry run that lists each row's problems by line in words (in-file near-duplicates and caps
reached by earlier rows too), all or nothing, an audited override, an import id that makes a
retry safe, the export that imports again as it was, the size limits and the scopes."""

import datetime
import json
import os
import zoneinfo

import harness
from harness import expect

setup_module = harness.module_instance
teardown_module = harness.close_instance

OSLO = zoneinfo.ZoneInfo("Europe/Oslo")


def _local(days, hhmm):
    """'YYYY-MM-DD HH:MM' in Oslo, `days` from today."""
    d = datetime.datetime.now(OSLO).date() + datetime.timedelta(days=days)
    return "%s %s" % (d.isoformat(), hhmm)


def _import(inst, csv, dry_run=False, token=None, wid=None, **extra):
    body = {"csv": csv, "dry_run": dry_run}
    body.update(extra)
    kw = {"token": token} if token is not None else {}
    path = "/api/v1/workspaces/%d/posts/import" % wid if wid else inst.ws("/posts/import")
    return inst.post(path, json=body, **kw)


def _row(report, line):
    for r in report["rows"]:
        if r["line"] == line:
            return r
    raise AssertionError("no row for line %d in %s" % (line, json.dumps(report)[:800]))


def _fields(row):
    return [p["field"] for p in row["problems"]]


def _count_posts(inst):
    return len(harness.list_all(inst, inst.ws("/posts")))


def _channels(inst, prefix, max_per_hour=2):
    """Two channels that take a post any hour: a file channel and a Mastodon one."""
    slots = ["%s %02d:00" % (d, h) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for h in range(24)]
    blog = harness.new_channel(inst, prefix + " Blog", kind="file", settings={"path": prefix + ".jsonl"},
                               slots=slots, max_per_hour=max_per_hour)
    masto = harness.new_channel(inst, prefix + " Mastodon", kind="mastodon", slots=slots)
    return blog, masto


def test_dry_run_lists_each_rows_problems_by_line_in_words(inst):
    blog, masto = _channels(inst, "dry")
    day = 3
    csv = ("text;channels;time;category;images\r\n"
           "First of the hour;dry Blog;{t1};value;\r\n"
           "Our new blog post: how we cut delivery times in half;dry Blog;{t2};value;\r\n"
           "Third in the same hour;dry Blog;{t3};value;\r\n"
           "Our new blog post: how we cut delivery times in half!;dry Blog;{t4};value;\r\n"
           "Lost;dry Blogg;next slot;value;\r\n"
           "\"Two\r\nlines\";dry Mastodon;soon;spam;photo.jpg\r\n"
           "{long};dry Mastodon;next slot;value;\r\n").format(
               t1=_local(day, "10:00"), t2=_local(day, "10:20"), t3=_local(day, "10:40"), t4=_local(day + 1, "09:00"),
               long="x" * 10001)
    before = _count_posts(inst)
    rep = expect(_import(inst, csv, dry_run=True), 200)
    assert rep["dry_run"] is True and rep["total"] == 7 and rep["created"] == 0, rep
    assert _count_posts(inst) == before, "a dry run stored posts"
    # Line 4 is the third post within the hour on a channel that takes two: rows 2 and 3
    # are not stored, and the block names them by their lines.
    r4 = _row(rep, 4)
    p7a = [v for v in r4["violations"] if v["rule"] == "P7a"]
    assert p7a and p7a[0]["severity"] == "block" and r4["blocked"] is True and r4["ok"] is False, r4
    assert set(p7a[0].get("lines", [])) & {2, 3}, p7a
    # Line 5 reads almost the same as line 3.
    r5 = _row(rep, 5)
    p5 = [v for v in r5["violations"] if v["rule"] == "P5"]
    assert p5 and 3 in p5[0]["lines"] and "line 3" in p5[0]["message"], r5
    # Problems in words, each with its field; a row with several has them all.
    r6 = _row(rep, 6)
    assert _fields(r6) == ["channels"] and "dry Blogg" in r6["problems"][0]["message"], r6
    assert "dry Blog" in r6["problems"][0]["message"], "the message lists the channels it could have meant"
    r7 = _row(rep, 7)   # a quoted value over two lines: the row starts on line 7
    assert set(_fields(r7)) == {"time", "category", "images"}, r7
    assert any("was not given with the file" in p["message"] for p in r7["problems"]), r7
    r9 = _row(rep, 9)
    assert _fields(r9) == ["text"] and "10000" in r9["problems"][0]["message"], r9
    assert rep["with_problems"] == 3 and rep["blocked"] == 1, rep
    # Rows that are fine say where they would go.
    r2 = _row(rep, 2)
    assert r2["ok"] is True and r2["planned"][0]["channel"] == "dry Blog" and r2["planned"][0]["at"], r2
    # The same in Norwegian.
    nb = expect(inst.post(inst.ws("/posts/import"), json={"csv": csv, "dry_run": True},
                          headers={"Accept-Language": "nb"}), 200)
    msg = _row(nb, 6)["problems"][0]["message"]
    assert "dry Blogg" in msg and msg != r6["problems"][0]["message"], msg


def test_all_or_nothing_and_an_audited_override(inst):
    blog, _ = _channels(inst, "aon", max_per_hour=1)
    day = 4
    csv = ("text,channels,time\n"
           "Morning news,aon Blog,%s\n"
           "More morning news,aon Blog,%s\n"
           "A draft for later,,\n") % (_local(day, "08:00"), _local(day, "08:30"))
    before = _count_posts(inst)
    r = expect(_import(inst, csv), 422, "check_blocked", field="checks")
    err = r["error"]
    assert err["dry_run"] is False and err["created"] == 0 and err["blocked"] == 1, err
    assert _row(err, 3)["blocked"] is True and _row(err, 2)["ok"] is True, err
    assert _count_posts(inst) == before, "a refused import stored posts"
    # A problem in any row stops the whole file too.
    bad = csv + "Nowhere,aon Blogg,next slot\n"
    r = expect(_import(inst, bad, override_reason="agreed"), 422, "validation_failed", field="csv")
    assert _fields(_row(r["error"], 5)) == ["channels"], r
    assert _count_posts(inst) == before
    # With a reason the whole file goes in: three posts, the blocked one with the reason.
    ok = expect(_import(inst, csv, override_reason="launch day, agreed with Kari"), 201)
    assert ok["created"] == 3 and _row(ok, 3)["overridden"] is True, ok
    ids = [_row(ok, n)["post_id"] for n in (2, 3, 4)]
    assert _count_posts(inst) == before + 3
    p3 = expect(inst.get(inst.ws("/posts/%d" % ids[1])), 200)
    assert p3["override_reason"] == "launch day, agreed with Kari", p3
    assert expect(inst.get(inst.ws("/posts/%d" % ids[0])), 200).get("override_reason") is None
    assert expect(inst.get(inst.ws("/posts/%d" % ids[2])), 200)["state"] == "draft"
    audit = harness.list_all(inst, inst.ws("/audit"))
    imp = [a for a in audit if a["action"] == "post.import"]
    assert imp and imp[0]["detail"]["override_reason"] == "launch day, agreed with Kari", imp[:1]
    assert imp[0]["detail"]["overridden_lines"] == [3] and imp[0]["detail"]["created"] == 3, imp[0]
    over = [a for a in audit if a["action"] == "post.create.override" and a["detail"].get("post_id") == ids[1]]
    assert over and over[0]["detail"]["import"]["line"] == 3, over


def test_a_retry_with_the_same_import_id_creates_nothing_twice(inst):
    _channels(inst, "retry")
    csv = "text,channels,time\nOne,retry Blog|retry Mastodon,next slot\nTwo,retry Blog,next slot\n"
    before = _count_posts(inst)
    first = expect(_import(inst, csv, import_id="plan-2027-w13"), 201)
    assert first["created"] == 2 and first["import_id"] == "plan-2027-w13", first
    again = expect(_import(inst, csv, import_id="plan-2027-w13"), 200)
    assert again["already_imported"] is True and again["created"] == 0, again
    assert [r["post_id"] for r in again["rows"]] == [r["post_id"] for r in first["rows"]], (first, again)
    assert _count_posts(inst) == before + 2
    # The same id with another file is refused; a dry run does not look at ids.
    expect(_import(inst, csv + "Three,retry Blog,next slot\n", import_id="plan-2027-w13"), 409, "conflict",
           field="import_id")
    expect(_import(inst, csv, dry_run=True, import_id="plan-2027-w13"), 200)
    expect(_import(inst, csv, import_id="not a valid id!"), 422, "validation_failed", field="import_id")
    assert _count_posts(inst) == before + 2


def _export(inst, query="", token=None, wid=None):
    kw = {"token": token} if token else {}
    r = inst.get(("/api/v1/workspaces/%d/posts/export" % wid if wid else inst.ws("/posts/export")) + query, **kw)
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/csv"), r.header("Content-Type")
    disp = r.header("Content-Disposition") or ""
    assert disp.startswith("attachment;") and ".csv" in disp, disp
    return r.body


def _workspace(inst, name):
    """A new workspace (the CLI) with channels named "rt Blog" and "rt Mastodon", and a
    token of its own: (its id, the token)."""
    harness.cli_ok(inst.db, "workspace", "add", name, "--timezone", "Europe/Oslo")
    harness.cli_ok(inst.db, "user", "add", "--email", harness.OWNER_EMAIL, "--workspace", name, "--role", "owner")
    tok = harness.cli_json(inst.db, "token", "create", "--workspace", name, "--name", "rt", "--scope", "*")["token"]
    wid = expect(inst.get("/api/v1/me", token=tok), 200)["token"]["workspace_id"]
    for ch, kind, settings in (("rt Blog", "file", {"path": name + ".jsonl"}),
                               ("rt Mastodon", "mastodon", {"instance_url": "https://mastodon.example"})):
        expect(inst.post("/api/v1/workspaces/%d/channels" % wid, token=tok,
                         json={"kind": kind, "name": ch, "settings": settings, "verify": False,
                               "slots": ["mon 09:00", "wed 09:00", "fri 13:00"]}), 201)
    return wid, tok


def test_export_imports_again_as_it_was(inst):
    a, ta = _workspace(inst, "Roundtrip A")
    b, tb = _workspace(inst, "Roundtrip B")
    csv = ("text,channels,time,category,campaign,link,variant,variant\n"
           "\"Spring; sale, \"\"20%\"\" off\",rt Blog|rt Mastodon,next slot,promo,Spring,https://example.com/s,V1,\n"
           "\"=SUM(A1:A2) is not a formula\nsecond line\",rt Mastodon," + _local(20, "11:00") + ",value,,,,\n"
           "\"  padded  \",,,share,,,A,B\n"
           "Fjorden ligger blank 🫐,rt Blog," + _local(21, "08:15") + ",personal,Sommer,,,\n")
    expect(_import(inst, csv, token=ta, wid=a), 201)
    first = _export(inst, token=ta, wid=a)
    doc = expect(_import(inst, first.decode("utf-8"), token=tb, wid=b), 201)
    assert doc["with_problems"] == 0 and doc["created"] >= 4, doc
    second = _export(inst, token=tb, wid=b)
    assert first == second, "export -> import -> export changed the file:\n%r\n%r" % (first, second)
    text = first.decode("utf-8")
    assert text.startswith("\ufefftext,channels,time,category,campaign,link,images,alt,variant,variant\r\n"), text[:90]
    assert "\"'=SUM(A1:A2) is not a formula\nsecond line\"" in text, text      # guarded for spreadsheets
    assert "\"Spring; sale, \"\"20%\"\" off\"" in text and "\"  padded  \"" in text, text


def test_export_filters_and_separator(inst):
    blog, masto = _channels(inst, "flt")
    csv = ("text,channels,time\n"
           "On the blog,flt Blog,%s\n"
           "On Mastodon,flt Mastodon,%s\n"
           "Just a draft,,\n") % (_local(30, "09:00"), _local(31, "09:00"))
    expect(_import(inst, csv), 201)
    body = _export(inst, "?channel=%d" % blog["id"]).decode("utf-8-sig")
    assert "On the blog" in body and "On Mastodon" not in body and "Just a draft" not in body, body
    body = _export(inst, "?state=draft").decode("utf-8-sig")
    assert "Just a draft" in body and "On the blog" not in body, body
    # Between the two posts whatever the hour the test runs: 21:00 in Oslo on the first post's day.
    day = datetime.datetime.now(OSLO).date() + datetime.timedelta(days=30)
    frm = datetime.datetime(day.year, day.month, day.day, 21, 0, tzinfo=OSLO).astimezone(datetime.timezone.utc)
    body = _export(inst, "?from=%s" % frm.strftime("%Y-%m-%dT%H:%M:%SZ")).decode("utf-8-sig")
    assert "On Mastodon" in body and "On the blog" not in body, body
    body = _export(inst, "?separator=semicolon&channel=%d" % masto["id"]).decode("utf-8-sig")
    assert body.startswith("text;channels;time;category;campaign;link;images"), body[:80]
    assert "On Mastodon;flt Mastodon;" in body, body
    expect(inst.get(inst.ws("/posts/export?state=sent")), 400, "bad_request", field="state")
    expect(inst.get(inst.ws("/posts/export?separator=tab")), 400, "bad_request", field="separator")
    expect(inst.get(inst.ws("/posts/export?channel=999999")), 400, "bad_request", field="channel")
    expect(inst.get(inst.ws("/posts/export?from=yesterday")), 400, "bad_request", field="from")


def test_limits(inst):
    _channels(inst, "lim")
    # A file of about 2 MB is over the server's usual 1 MiB body, and fits this route.
    row = "%s,lim Blog,next slot\n"
    csv = "text,channels,time\n" + "".join(row % ("Post %d " % i + "y" * 1990) for i in range(1000))
    assert len(csv) > 1.5 * 2 ** 20
    rep = expect(_import(inst, csv, dry_run=True), 200)
    assert rep["total"] == 1000 and rep["with_problems"] == 0, {k: rep[k] for k in ("total", "with_problems")}
    # ... while other routes keep the usual limit.
    headers = {"Authorization": "Bearer " + inst.token, "Content-Type": "application/json"}
    two_mb = json.dumps({"text": "z" * (2 * 2 ** 20)}).encode()
    r = harness.request_streamed(inst.port, "POST", inst.ws("/posts"), dict(headers, **{"Content-Length": len(two_mb)}),
                                 [two_mb])
    expect(r, 413, "payload_too_large")
    # A file over 5 MiB is refused whole (a field over its bound: 422 naming it); a body over
    # the route's 16 MiB before it is read, or, sent in chunks without a length, once it
    # passes the limit (413).
    big = "text\n" + ("w" * 1100 + "\n") * 4900
    r = expect(_import(inst, big, dry_run=True), 422, "validation_failed", field="csv")
    assert "5242880 bytes" in r["error"]["message"], r
    huge = [b'{"csv": "'] + [b"v" * 2 ** 20] * 17 + [b'"}']
    r = harness.request_streamed(inst.port, "POST", inst.ws("/posts/import"),
                                 dict(headers, **{"Content-Length": sum(map(len, huge))}), huge)
    expect(r, 413, "payload_too_large")
    r = harness.request_streamed(inst.port, "POST", inst.ws("/posts/import"), headers, huge, chunked=True)
    expect(r, 413, "payload_too_large")
    # More than 5,000 rows: a problem of the file, with its line.
    many = "text\n" + "".join("p%d\n" % i for i in range(5001))
    r = expect(_import(inst, many), 422, "validation_failed", field="csv")
    probs = r["error"]["problems"]
    assert probs and probs[0]["field"] == "file" and "5000" in probs[0]["message"] and probs[0]["line"] == 5002, probs
    # The body's own fields.
    expect(inst.post(inst.ws("/posts/import"), json={"dry_run": True}), 422, "validation_failed", field="csv")
    expect(inst.post(inst.ws("/posts/import"), json={"csv": "text\nx\n", "extra": 1}), 422, "validation_failed",
           field="extra")
    expect(inst.post(inst.ws("/posts/import"), json={"csv": "text\nx\n", "dry_run": "yes"}), 422,
           "validation_failed", field="dry_run")
    # A file that is not CSV of posts at all.
    r = expect(_import(inst, "Hello,world\n"), 422, "validation_failed", field="csv")
    assert r["error"]["problems"][0]["field"] == "header", r


def _large_bodies(inst):
    """samtale_http_large_bodies of /metrics: requests holding a place for a large body."""
    import re
    m = re.search(r"(?m)^samtale_http_large_bodies (\d+)$", inst.get("/metrics", token=None).text)
    assert m, "no samtale_http_large_bodies in /metrics"
    return int(m.group(1))


def test_large_bodies_are_few_at_once(inst):
    """At most 4 requests hold a body past the usual 1 MiB at once (memory stays bounded);
    a fifth is answered 503 busy before its body is read, and a place frees when one of
    them ends."""
    import select
    import socket
    import time
    body = json.dumps({"csv": "text\n" + ("u" * 1000 + "\n") * 1300, "dry_run": True}).encode()
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (inst.ws("/posts/import"), inst.token, len(body))).encode()
    headers = {"Authorization": "Bearer " + inst.token, "Content-Type": "application/json",
               "Content-Length": len(body)}

    def fifth():
        # Streamed: a refusal (503) comes before the body is read.
        return harness.request_streamed(inst.port, "POST", inst.ws("/posts/import"), headers, [body])

    def answered(s):
        return bool(select.select([s], [], [], 0)[0])

    held, refused = [], None
    deadline = time.monotonic() + harness.TIMEOUT
    try:
        while refused is None and time.monotonic() < deadline:
            for s in held:
                s.close()
            held = []
            for _ in range(4):
                s = socket.create_connection(("127.0.0.1", inst.port), timeout=harness.TIMEOUT)
                s.sendall(head + body[:len(body) - 10])     # past 1 MiB, not finished
                held.append(s)
            # The probe goes once the server holds the four (its gauge says so), not before.
            harness.wait_until(lambda: _large_bodies(inst) == 4, "the four large bodies to be held",
                               timeout=harness.TIMEOUT)
            r = fifth()
            # The server's threads take the requests in any order: when a probe came first,
            # one held request was the one refused; then try again from the start.
            if r.status == 503 and not any(answered(s) for s in held):
                refused = r
        assert refused is not None, "no fifth large body was refused while four were held: %r" % (r,)
        expect(refused, 503, "busy")
        assert refused.header("Retry-After"), refused
        # The four end (their bodies finished): they are answered, and their places freed.
        for s in held:
            s.sendall(body[len(body) - 10:])
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    finally:
        for s in held:
            s.close()
    assert expect(fifth(), 200)["total"] == 1300


def test_scopes(inst):
    _channels(inst, "scope")
    read = inst.create_token("csv-read", "posts:read")
    write = inst.create_token("csv-write", "posts:write")
    csv = "text,channels,time\nScoped,scope Blog,next slot\n"
    expect(_import(inst, csv, dry_run=True, token=read), 403, "insufficient_scope")
    expect(_import(inst, csv, token=read), 403, "insufficient_scope")
    assert expect(_import(inst, csv, dry_run=True, token=write), 200)["total"] == 1
    expect(inst.get(inst.ws("/posts/export"), token=write), 403, "insufficient_scope")
    assert inst.get(inst.ws("/posts/export"), token=read).status == 200
    expect(inst.get(inst.ws("/posts/export"), token=None), 401, "unauthorized")


def test_cli_import_and_export(inst):
    _channels(inst, "cli")
    path = os.path.join(inst.dir, "plan.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\ufefftext;channels;time\r\nHei fra CLI;cli Blog;next slot\r\nFeil;cli Blogg;next slot\r\n")
    r = inst.cli("post", "import", path, "--dry-run", "--workspace", harness.WORKSPACE)
    assert r.returncode == 5, (r.returncode, r.stdout, r.stderr)
    assert "line 3: channels:" in r.stdout and "cli Blogg" in r.stdout, r.stdout
    assert "nothing was imported" in r.stdout, r.stdout
    r = inst.cli("post", "import", path, "--workspace", harness.WORKSPACE)
    assert r.returncode == 5 and "nothing was imported" in r.stderr, (r.stdout, r.stderr)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("text;channels;time\r\nHei fra CLI;cli Blog;next slot\r\n")
    r = inst.cli("post", "import", path, "--workspace", harness.WORKSPACE, "--import-id", "cli-1")
    assert r.returncode == 0 and "imported 1 posts" in r.stdout, (r.stdout, r.stderr)
    r = inst.cli("post", "import", path, "--workspace", harness.WORKSPACE, "--import-id", "cli-1")
    assert r.returncode == 0 and "nothing was created now" in r.stdout, (r.stdout, r.stderr)
    out = os.path.join(inst.dir, "out.csv")
    r = inst.cli("post", "export", "--workspace", harness.WORKSPACE, "--semicolon", "--output", out)
    assert r.returncode == 0, r.stderr
    with open(out, encoding="utf-8-sig") as f:
        text = f.read()
    assert text.startswith("text;channels;time") and "Hei fra CLI;cli Blog;" in text, text[:300]


def test_images_named_in_the_file_come_with_it(inst):
    """P16 in a file: the images column names images given with it ({"name": id} from the
    uploads the dashboard makes), or media:ID; alt texts in the same order; the export
    writes them back as media:ID, and the CLI uploads the files beside the CSV file."""
    import test_media
    blog, _ = _channels(inst, "img")
    fjord = expect(test_media.upload(inst, test_media.make(640, 480, "jpeg")), 201)
    kart = expect(test_media.upload(inst, test_media.make(320, 320, "png"), "image/png"), 201)
    csv = ("text,channels,time,images,alt\n"
           "Med to bilder,img Blog,%s,fjord.jpg | bilder/kart.png,Fjorden i morgenlys | Kart over turen\n"
           "Uten alt,img Blog,%s,media:%d,\n") % (_local(40, "09:00"), _local(41, "09:00"), kart["id"])
    # Without the images given, the row says which one is missing, in words.
    dry = expect(_import(inst, csv, dry_run=True), 200)
    assert _fields(_row(dry, 2)) == ["images", "images"] and "fjord.jpg" in _row(dry, 2)["problems"][0]["message"], dry
    assert _row(dry, 3)["ok"], _row(dry, 3)
    given = {"fjord.jpg": fjord["id"], "kart.png": kart["id"]}
    dry = expect(_import(inst, csv, dry_run=True, images=given), 200)
    assert dry["with_problems"] == 0, dry
    assert any(v["rule"] == "P16" for v in _row(dry, 3)["violations"]), "no warning for the image without alt text"
    rep = expect(_import(inst, csv, images=given), 201)
    post = expect(inst.get(inst.ws("/posts/%d" % _row(rep, 2)["post_id"])), 200)
    assert [(m["id"], m["alt"]) for m in post["media"]] == [(fjord["id"], "Fjorden i morgenlys"),
                                                             (kart["id"], "Kart over turen")], post["media"]
    # The export names them media:ID with their alt texts; it imports again as it was.
    body = _export(inst, "?channel=%d" % blog["id"]).decode("utf-8-sig")
    assert "media:%d|media:%d,Fjorden i morgenlys | Kart over turen" % (fjord["id"], kart["id"]) in body, body
    again = expect(_import(inst, body.replace("Med to bilder", "Med to bilder igjen"), dry_run=True), 200)
    assert again["with_problems"] == 0, again
    # Bad maps are refused at the field.
    for bad in ([1], {"a.jpg": "x"}, {"": 1}, {"a.jpg": 0}):
        expect(_import(inst, csv, dry_run=True, images=bad), 422, field="images")
    # Another workspace's image is not this one's.
    other, tok = _workspace(inst, "Images elsewhere")
    elsewhere = "text,channels,time,images\nLånt bilde,rt Blog,next slot,media:%d\n" % fjord["id"]
    dry = expect(_import(inst, elsewhere, dry_run=True, token=tok, wid=other), 200)
    assert _fields(_row(dry, 2)) == ["images"] and "not in this workspace" in _row(dry, 2)["problems"][0]["message"], dry
    # The CLI uploads the files beside the CSV file.
    folder = os.path.join(inst.dir, "plan-with-images")
    os.makedirs(os.path.join(folder, "bilder"), exist_ok=True)
    with open(os.path.join(folder, "bilder", "sommer.jpg"), "wb") as f:
        f.write(test_media.make(300, 200, "jpeg", "noise"))
    path = os.path.join(folder, "plan.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("text,channels,time,images,alt\nSommer,img Blog,%s,bilder/sommer.jpg,Sommer på fjorden\n"
                "Mangler,img Blog,%s,borte.jpg,\n" % (_local(42, "09:00"), _local(43, "09:00")))
    r = inst.cli("post", "import", path, "--workspace", harness.WORKSPACE)
    assert r.returncode == 5 and "borte.jpg" in r.stdout + r.stderr, (r.stdout, r.stderr)
    with open(path, "w", encoding="utf-8") as f:
        f.write("text,channels,time,images,alt\nSommer,img Blog,%s,bilder/sommer.jpg,Sommer på fjorden\n"
                % _local(42, "09:00"))
    r = inst.cli("post", "import", path, "--workspace", harness.WORKSPACE, "--json")
    assert r.returncode == 0, (r.stdout, r.stderr)
    pid = json.loads(r.stdout)["rows"][0]["post_id"]
    post = expect(inst.get(inst.ws("/posts/%d" % pid)), 200)
    assert [m["alt"] for m in post["media"]] == ["Sommer på fjorden"] and post["media"][0]["width"] == 300, post
