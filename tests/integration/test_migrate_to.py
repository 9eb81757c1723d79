"""Moving up (PRODUCT.md X2): `samtale migrate --to postgresql://...` copies a SQLite
installation, written through the API as a team would (channels with sealed secrets,
posts, a series, a draft, members, invitations, tokens, the audit log), into an empty
PostgreSQL database, verifying each table's rows and checksum; then the copy, served from
PostgreSQL, answers every read the same as the original does from SQLite, its sealed
secrets still open with the same key, and new rows get new ids.

The source is always SQLite; the target is a database in the run's PostgreSQL cluster
(on a postgres run) or in one this module starts (on a sqlite run)."""

import json
import os
import re
import sys
import tempfile
import time

import harness
import peers
from harness import expect

SECRET = "migrate-secret"
# Fields that change each time they are read (a token is used by the reading request).
VOLATILE = {"last_used_at"}
# The queue's window, fixed for both reads (its default follows the clock).
WINDOW = tuple(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + d * 86400)) for d in (-1, 80))


def setup_module():
    ctx = type("Ctx", (), {})()
    ctx.own_cluster = None
    if harness.ENGINE == "postgres":
        ctx.cluster = harness.pg_cluster()
    else:
        sys.path.insert(0, os.path.join(harness.REPO, "tests", "peers"))
        import pgcluster
        ctx.own_cluster = pgcluster.Cluster(tempfile.mkdtemp(prefix="samtale-pg-migrate-")).start()
        ctx.cluster = ctx.own_cluster
    return ctx


def teardown_module(ctx):
    if ctx.own_cluster:
        ctx.own_cluster.remove()


def _strip(doc):
    if isinstance(doc, dict):
        return {k: _strip(v) for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc, list):
        return [_strip(v) for v in doc]
    return doc


def _reads(inst):
    """Every read a dashboard makes of the workspace, as (path, answer)."""
    out = []
    paths = ["/api/v1/me", "/api/v1/workspaces", inst.ws(""), inst.ws("/members"), inst.ws("/invitations"),
             inst.ws("/tokens"), inst.ws("/channels"), inst.ws("/messages"), inst.ws("/audit?limit=200"),
             inst.ws("/posts?limit=200"), inst.ws("/series"),
             inst.ws("/queue?limit=200&from=%s&to=%s" % (WINDOW[0], WINDOW[1]))]
    for p in paths:
        out.append((p, _strip(expect(inst.get(p), 200))))
    for ch in expect(inst.get(inst.ws("/channels")), 200)["items"]:
        p = inst.ws("/channels/%d" % ch["id"])
        out.append((p, _strip(expect(inst.get(p), 200))))
    for post in expect(inst.get(inst.ws("/posts?limit=200")), 200)["items"]:
        p = inst.ws("/posts/%d" % post["id"])
        out.append((p, _strip(expect(inst.get(p), 200))))
    return out


def test_a_sqlite_installation_moves_to_postgresql_and_answers_the_same(ctx):
    src = harness.Instance(engine="sqlite").prepare()
    receiver = peers.Receiver(src.dir, secret=SECRET)
    dbname = "migrate_%d" % os.getpid()
    target = None
    pg = None
    try:
        src.start()
        hook = harness.new_channel(src, "Hook", kind="webhook", secret=SECRET,
                                   settings={"url": receiver.url + "/m"})
        feed = harness.new_channel(src, "Blogg", kind="feed")
        harness.new_channel(src, "Filer", kind="file", settings={"path": "ut.jsonl"})
        for i, text in enumerate(["Blåbærsyltetøy på søndag 🫐", "Ærlig talt: «økonomi» og Ørsta",
                                  "Hei hei, vi sees på stand B12!"]):
            expect(src.post(src.ws("/posts"), json={"text": text, "channels": [hook["id"]],
                                                    "schedule": "2027-0%d-0%dT10:00:00Z" % (i + 2, i + 3)}), 201)
        expect(src.post(src.ws("/posts"), json={"text": "Et utkast som venter", "channels": [hook["id"]]}), 201)
        expect(src.post(src.ws("/series"), json={"text": "Kopi A 🔁", "variants": ["Kopi B 🔁"],
                                                 "channels": [hook["id"]], "count": 3}), 201)
        harness.add_member(src, "redaktor@example.com", "editor", name="Redaktør Rødberg")
        harness.invite(src, "venter@example.com", "viewer")
        src.create_token("dashboard-script", "posts:read")
        before = _reads(src)
        src.server.stop()
        src.server = None

        target = ctx.cluster.create_database(dbname)
        p = harness.run_cli(src.db, "migrate", "--to", target)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        assert "every table read back the same" in p.stdout, p.stdout
        rows = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s+[0-9a-f]{16}$", p.stdout, re.M)}
        assert rows.get("posts", 0) >= 5 and rows.get("channels") == 3 and rows.get("members") == 2, rows
        assert rows.get("occurrences") == 6 and rows.get("audit_log", 0) > 5, rows

        # A second copy into the same database is refused: it is no longer empty.
        again = harness.run_cli(src.db, "migrate", "--to", target)
        assert again.returncode != 0 and "already holds data" in again.stderr, again.stderr

        # Served from PostgreSQL with the same key, every read answers the same.
        key = os.path.join(src.dir, "secret.key")
        pg = harness.Server(target, src.dir, env={"SAMTALE_SECRET_KEY_FILE": key}).start()
        src.server = pg
        after = _reads(src)
        assert [p for p, _ in after] == [p for p, _ in before]
        for (path, a), (_, b) in zip(before, after):
            assert a == b, "%s answers differently after the move:\nSQLite: %s\nPostgreSQL: %s" % (
                path, json.dumps(a, ensure_ascii=False)[:1500], json.dumps(b, ensure_ascii=False)[:1500])

        # New rows get new ids; the sealed webhook secret still signs.
        max_id = max(x["id"] for x in expect(src.get(src.ws("/posts?limit=200")), 200)["items"])
        p2 = expect(src.post(src.ws("/posts"), json={"text": "Først etter flyttingen", "channels": [hook["id"]],
                                                     "schedule": "now"}), 201)
        assert p2["id"] > max_id, (p2["id"], max_id)
        harness.wait_until(lambda: expect(src.get(src.ws("/posts/%d" % p2["id"])), 200)["state"] == "published",
                           "the first post after the move to be published", timeout=30, step=0.1)
        stats = receiver.stats()
        assert stats["unique_keys"] == 1 and stats["signatures_bad"] == 0 and stats["signatures_ok"] >= 1, stats
        assert feed["id"] in [c["id"] for c in expect(src.get(src.ws("/channels")), 200)["items"]]
    finally:
        receiver.stop()
        if pg:
            pg.stop(check=False)
            src.server = None
        src.close()
        if target:
            ctx.cluster.drop_database(dbname)
