"""Large answers stay bounded in memory (docs/api.md, Limits): the iCalendar feed is
streamed whatever its size (here 21,000 events, more than 8 MiB) and parses whole; the
queue comes in pages (?limit, ?cursor, with from/to) that hold every occurrence exactly
once, ties in time included; and 8 clients reading big pages of the queue at once grow
the server's resident memory by less than a stated bound.

The schedule is written straight into the test's database (harness.db_connect) while the server
is stopped (thousands of posts through the API would take minutes); every occurrence is
in the future, so the publisher leaves it alone."""

import concurrent.futures
import os
import time

import harness
from harness import expect

N_QUEUE = 5000          # occurrences of channel "big-a": the old queue's most, 2 KB of text each
N_FEED = 16000          # more on channel "big-b", so the feed has 21,000 events
TIE = 7                 # occurrences that share a time (pages split inside such groups)
RSS_BOUND_MIB = 32      # what 8 concurrent reads of 200-item pages may add to the server

_state = {}


def _text(i, size):
    head = "Post %d: " % i
    body = ("blåbær og jordbær; komma, semikolon \\ og linjeskift\n" * (size // 40 + 1))
    return (head + body)[:size]


def _seed(db, wid, chan_a, chan_b, now):
    conn = harness.db_connect(db)
    try:
        posts, occs = [], []
        pid = conn.execute("SELECT coalesce(max(id), 0) FROM posts").fetchone()[0]
        # big-a: N_QUEUE occurrences over 80 days, TIE at each time, one post for 5 of them
        for i in range(N_QUEUE):
            if i % 5 == 0:
                pid += 1
                posts.append((pid, wid, _text(pid, 2000), "value", "scheduled", now, now))
            at = now + 7200 + (i // TIE) * 9600
            occs.append((wid, pid, chan_a, at, "scheduled", "big-a-%d" % i, at, now, now))
        # big-b: N_FEED over 180 days, shorter texts, one post for 4 of them
        for i in range(N_FEED):
            if i % 4 == 0:
                pid += 1
                posts.append((pid, wid, _text(pid, 400), "promo", "scheduled", now, now))
            at = now + 3600 + i * 960
            occs.append((wid, pid, chan_b, at, "scheduled", "big-b-%d" % i, at, now, now))
        conn.executemany("INSERT INTO posts(id, workspace_id, text, category, state, created_at, updated_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)", posts)
        conn.executemany("INSERT INTO occurrences(workspace_id, post_id, channel_id, planned_at, state,"
                         " idempotency_key, next_attempt_at, created_at, updated_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", occs)
        # a few cancelled ones: listed in the queue, left out of the feed
        conn.execute("UPDATE occurrences SET state = 'cancelled' WHERE idempotency_key IN"
                     " ('big-b-1', 'big-b-2', 'big-b-3')")
        harness.sync_ids(conn)
        conn.commit()
    finally:
        conn.close()


def setup_module():
    inst = harness.Instance().prepare()
    try:
        a = harness.cli_json(inst.db, "channel", "add", "--workspace", harness.WORKSPACE, "--kind", "file",
                             "--name", "big-a", "--setting", "path=a.jsonl", "--no-verify")
        b = harness.cli_json(inst.db, "channel", "add", "--workspace", harness.WORKSPACE, "--kind", "file",
                             "--name", "big-b", "--setting", "path=b.jsonl", "--no-verify")
        now = int(time.time())
        t0 = time.monotonic()
        _seed(inst.db, a["workspace_id"], a["id"], b["id"], now)
        print("# seeded %d occurrences in %.1f s" % (N_QUEUE + N_FEED, time.monotonic() - t0))
        # Under AddressSanitizer freed memory is held back (quarantine) and would count as
        # growth; a small quarantine keeps the resident size close to what is in use.
        asan = (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1").lstrip(":")
        inst.server = harness.Server(inst.db, inst.dir, env={"ASAN_OPTIONS": asan}).start()
        inst.wid = expect(inst.get("/api/v1/me"), 200)["token"]["workspace_id"]
        _state.update(a=a, b=b, now=now)
    except BaseException:
        inst.close()
        raise
    return inst


teardown_module = harness.close_instance


def _rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _queue_path(inst, channel, t_from, t_to):
    q = "/queue?from=%s&to=%s" % (_iso(t_from), _iso(t_to))
    if channel:
        q += "&channel=%d" % channel
    return inst.ws(q)


def test_the_calendar_feed_is_streamed_whole(inst):
    try:
        import icalendar
    except ImportError:
        raise AssertionError("python3-icalendar is needed (scripts/deps.sh installs it)")
    link = expect(inst.post(inst.ws("/calendar")), 201)
    pid = inst.server.proc.pid
    before = _rss_kib(pid)
    t0 = time.monotonic()
    r = inst.get(link["path"], token=None, timeout=120)
    took = time.monotonic() - t0
    grew = (_rss_kib(pid) - before) / 1024
    assert r.status == 200, (r.status, r.body[:300])
    assert r.headers["Content-Type"].startswith("text/calendar"), r.headers
    size = len(r.body)
    print("# iCalendar feed: %.1f MiB, %d events, in %.2f s; server RSS grew %.1f MiB"
          % (size / (1 << 20), r.body.count(b"BEGIN:VEVENT"), took, grew))
    assert size > 8 << 20, "the feed is only %d bytes" % size
    assert r.body.endswith(b"END:VCALENDAR\r\n"), r.body[-100:]
    cal = icalendar.Calendar.from_ical(r.body)
    events = cal.walk("VEVENT")
    assert len(events) == N_QUEUE + N_FEED - 3, len(events)
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == len(events), "an event appears twice"
    assert "big-b-1@samtale" not in uids and "big-a-0@samtale" in uids and "big-b-%d@samtale" % (N_FEED - 1) in uids
    assert grew < RSS_BOUND_MIB, "streaming a %.1f MiB feed grew the server by %.1f MiB" % (size / (1 << 20), grew)


def test_queue_pages_hold_every_occurrence_once(inst):
    now, a = _state["now"], _state["a"]
    # every occurrence of big-a, in pages of 200, against the database
    path = _queue_path(inst, a["id"], now, now + 93 * 86400)
    items = harness.list_all(inst, path, limit=200)
    conn = harness.db_connect(inst.db, readonly=True)
    try:
        want = [r[0] for r in conn.execute("SELECT id FROM occurrences WHERE channel_id = ? AND planned_at >= ?"
                                           " AND planned_at < ? ORDER BY planned_at, id",
                                           (a["id"], now, now + 93 * 86400))]
    finally:
        conn.close()
    got = [o["id"] for o in items]
    assert len(want) == N_QUEUE
    assert got == want, "pages differ from the schedule: %d items, %d distinct, %d expected" % (
        len(got), len(set(got)), len(want))
    assert all(o["text"].startswith("Post ") and o["category"] == "value" for o in items)
    # small pages split the groups that share a time; both channels, a shorter range
    t_to = now + 7200 + 10 * 9600    # under 200 occurrences of the two channels
    path = _queue_path(inst, 0, now, t_to)
    small = harness.list_all(inst, path, limit=3)
    keys = [(o["planned_at"], o["id"]) for o in small]
    assert keys == sorted(keys) and len(set(o["id"] for o in small)) == len(small)
    whole = expect(inst.get(path + "&limit=200"), 200)
    assert whole["next_cursor"] is None and len(small) > 100, (len(small), whole["next_cursor"])
    assert [o["id"] for o in whole["items"]] == [o["id"] for o in small]
    assert whole["from"] == _iso(now) and whole["to"] == _iso(t_to), whole
    # a cursor of another list or a made-up one is refused
    expect(inst.get(path + "&cursor=bm9wZQ"), 400, "bad_request")
    expect(inst.get(path + "&limit=201"), 400, "bad_request")


def test_concurrent_big_queue_reads_keep_memory_bounded(inst):
    now, a = _state["now"], _state["a"]
    path = _queue_path(inst, a["id"], now, now + 93 * 86400) + "&limit=200"
    expect(inst.get(path), 200)                 # warm up: caches, first allocations
    pid = inst.server.proc.pid
    before = _rss_kib(pid)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: inst.get(path, timeout=120), range(8)))
    after = _rss_kib(pid)
    sizes = [len(r.body) for r in answers]
    grew = (after - before) / 1024
    print("# 8 concurrent /queue reads (%d KiB each): server RSS %.1f -> %.1f MiB (grew %.1f MiB, bound %d MiB)"
          % (max(sizes) // 1024, before / 1024, after / 1024, grew, RSS_BOUND_MIB))
    assert grew < RSS_BOUND_MIB, "8 queue reads grew the server by %.1f MiB" % grew
    for r in answers:
        doc = expect(r, 200)
        assert len(doc["items"]) == 200 and doc["next_cursor"], (len(doc["items"]), doc.get("next_cursor"))
