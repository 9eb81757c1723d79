/* test_store.c: the SQLite store through store.h: migrations, constraints, the
 * last-owner rule, pagination, audit order, backup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "store_fixture.h"
#include "util/err.h"

/* The db/ folder is made on open. */
static int setup(void **state) { return fx_open(state, "store", "db/s.db", 1); }
static int teardown(void **state) { return fx_close(state); }

static int64_t add_ws(struct store *st, const char *name)
{
    struct store_workspace w = {.created_at = 1};
    snprintf(w.name, sizeof(w.name), "%s", name);
    snprintf(w.timezone, sizeof(w.timezone), "Europe/Oslo");
    assert_int_equal(store_workspace_insert(st, &w), SAM_OK);
    return w.id;
}

static int64_t add_user(struct store *st, const char *email)
{
    struct store_user u = {.created_at = 1};
    snprintf(u.email, sizeof(u.email), "%s", email);
    snprintf(u.name, sizeof(u.name), "N");
    assert_int_equal(store_user_insert(st, &u), SAM_OK);
    return u.id;
}

static void add_member(struct store *st, int64_t ws, int64_t user, const char *role)
{
    struct store_member m = {.workspace_id = ws, .user_id = user, .created_at = 1};
    snprintf(m.role, sizeof(m.role), "%s", role);
    assert_int_equal(store_member_insert(st, &m), SAM_OK);
}

static void migrate_twice(void **state)
{
    struct fx *f = *state;
    int v1 = 0, v2 = 0;
    assert_int_equal(store_schema_version(f->st, &v1), SAM_OK);
    assert_int_equal(store_migrate(f->st, &v2), SAM_OK);
    assert_int_equal(v1, v2);
    assert_int_equal(store_ping(f->st), SAM_OK);
}

static void unique_names_conflict(void **state)
{
    struct fx *f = *state;
    struct store_workspace w = {.created_at = 1}, got;
    add_ws(f->st, "Acme");
    snprintf(w.name, sizeof(w.name), "Acme");
    snprintf(w.timezone, sizeof(w.timezone), "UTC");
    assert_int_equal(store_workspace_insert(f->st, &w), SAM_ECONFLICT);
    add_user(f->st, "a@example.com");
    struct store_user u = {.created_at = 1};
    snprintf(u.email, sizeof(u.email), "A@EXAMPLE.COM"); /* emails ignore case */
    assert_int_equal(store_user_insert(f->st, &u), SAM_ECONFLICT);
    assert_int_equal(store_workspace_get(f->st, 999, &got), SAM_ENOTFOUND);
    assert_int_equal(store_workspace_get_by_name(f->st, "Acme", &got), SAM_OK);
}

static void last_owner_rule(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), a = add_user(f->st, "a@x.no"), b = add_user(f->st, "b@x.no");
    add_member(f->st, ws, a, "owner");
    add_member(f->st, ws, b, "editor");
    assert_int_equal(store_member_set_role(f->st, ws, a, "viewer"), SAM_ECONFLICT);
    assert_int_equal(store_member_delete(f->st, ws, a), SAM_ECONFLICT);
    assert_int_equal(store_member_set_role(f->st, ws, b, "owner"), SAM_OK);
    assert_int_equal(store_member_set_role(f->st, ws, a, "viewer"), SAM_OK);
    assert_int_equal(store_member_delete(f->st, ws, a), SAM_OK);
    assert_int_equal(store_member_delete(f->st, ws, a), SAM_ENOTFOUND);
    assert_int_equal(store_member_delete(f->st, ws, b), SAM_ECONFLICT);
}

static void removing_member_revokes_tokens(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), a = add_user(f->st, "a@x.no"), b = add_user(f->st, "b@x.no");
    unsigned char h[32] = {1};
    struct store_token t = {.workspace_id = ws, .user_id = b, .created_at = 1}, got;
    add_member(f->st, ws, a, "owner");
    add_member(f->st, ws, b, "editor");
    snprintf(t.name, sizeof(t.name), "t");
    snprintf(t.scopes, sizeof(t.scopes), "channels:read");
    assert_int_equal(store_token_insert(f->st, h, &t), SAM_OK);
    assert_int_equal(store_member_delete(f->st, ws, b), SAM_OK);
    assert_int_equal(store_token_get_by_hash(f->st, h, &got), SAM_OK);
    assert_true(got.revoked_at > 0);
}

static void channel_pages(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), other = add_ws(f->st, "Other");
    struct store_channel *items;
    size_t n;
    int64_t after = 0;
    int seen = 0;
    for(int i = 0; i < 7; i++) {
        struct store_channel c = {.workspace_id = i == 3 ? other : ws, .created_at = 1, .updated_at = 1};
        snprintf(c.kind, sizeof(c.kind), "%s", i % 2 ? "file" : "webhook");
        snprintf(c.name, sizeof(c.name), "c%d", i);
        snprintf(c.timezone, sizeof(c.timezone), "UTC");
        assert_int_equal(store_channel_insert(f->st, &c), SAM_OK);
    }
    do {
        assert_int_equal(store_channel_list(f->st, ws, NULL, after, 2, &items, &n), SAM_OK);
        for(size_t i = 0; i < n; i++) {
            assert_true(items[i].id > after);
            assert_int_equal(items[i].workspace_id, ws);
            after = items[i].id;
            seen++;
        }
        store_channel_list_free(items, n);
    } while(n == 2);
    assert_int_equal(seen, 6);
    assert_int_equal(store_channel_list(f->st, ws, "file", 0, 100, &items, &n), SAM_OK);
    assert_int_equal(n, 2); /* c1, c5 (c3 is in the other workspace) */
    store_channel_list_free(items, n);
}

static void audit_newest_first(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W");
    struct store_audit *items;
    size_t n;
    for(int i = 0; i < 5; i++) {
        struct store_audit a = {.workspace_id = ws, .at = i};
        snprintf(a.actor, sizeof(a.actor), "cli");
        snprintf(a.action, sizeof(a.action), "a%d", i);
        assert_int_equal(store_audit_insert(f->st, &a), SAM_OK);
    }
    assert_int_equal(store_audit_list(f->st, ws, 0, 3, &items, &n), SAM_OK);
    assert_int_equal(n, 3);
    assert_string_equal(items[0].action, "a4");
    assert_string_equal(items[2].action, "a2");
    int64_t before = items[2].id;
    store_audit_list_free(items, n);
    assert_int_equal(store_audit_list(f->st, ws, before, 3, &items, &n), SAM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(items[0].action, "a1");
    store_audit_list_free(items, n);
}

static void backup_is_consistent(void **state)
{
    struct fx *f = *state;
    char dest[160], msg[64];
    struct store *copy;
    struct store_workspace w;
    add_ws(f->st, "Backed up");
    snprintf(dest, sizeof(dest), "%s/copy.db", f->dir);
    if(fx_postgres()) {
        /* PostgreSQL has its own tools (pg_dump); the store says so and writes nothing. */
        assert_int_equal(store_backup(f->st, dest, NULL, NULL), SAM_EUNSUPPORTED);
        assert_int_equal(access(dest, F_OK), -1);
        return;
    }
    assert_int_equal(store_backup(f->st, dest, NULL, NULL), SAM_OK);
    assert_int_equal(store_open(dest, &copy), SAM_OK);
    assert_int_equal(store_integrity_check(copy, msg, sizeof(msg)), SAM_OK);
    assert_string_equal(msg, "ok");
    assert_int_equal(store_workspace_get_by_name(copy, "Backed up", &w), SAM_OK);
    store_close(copy);
}

static int64_t add_channel(struct store *st, int64_t ws, const char *name)
{
    struct store_channel c = {.workspace_id = ws, .created_at = 1, .updated_at = 1};
    snprintf(c.kind, sizeof(c.kind), "file");
    snprintf(c.name, sizeof(c.name), "%s", name);
    snprintf(c.timezone, sizeof(c.timezone), "UTC");
    assert_int_equal(store_channel_insert(st, &c), SAM_OK);
    return c.id;
}

/* SQLite: while a thread holds the planning lock its reads take the writer when the
 * writer is idle (its page cache survives the thread's own commits), and a reader when
 * the writer is busy; other threads' reads, and reads after the lock, take readers. */
static void planning_reads_on_the_writer(void **state)
{
    struct fx *f = *state;
    struct store_lock *lk = NULL;
    struct dbc *a = NULL, *b = NULL;
    if(fx_postgres())
        skip(); /* any PostgreSQL connection writes */
    assert_int_equal(db_take(f->st->pool, 0, &a), SAM_OK);
    assert_false(a->write);
    db_give(f->st->pool, a);
    assert_int_equal(store_lock(f->st, STORE_LOCK_PLAN, &lk), SAM_OK);
    assert_int_equal(db_take(f->st->pool, 0, &a), SAM_OK);
    assert_true(a->write);
    assert_int_equal(db_take(f->st->pool, 0, &b), SAM_OK); /* the writer is taken: a reader */
    assert_false(b->write);
    db_give(f->st->pool, b);
    db_give(f->st->pool, a);
    /* A read given back before the write: the planning thread's write takes the writer. */
    int64_t ws = add_ws(f->st, "Planned");
    assert_true(ws > 0);
    store_unlock(lk);
    assert_int_equal(db_take(f->st->pool, 0, &a), SAM_OK);
    assert_false(a->write);
    db_give(f->st->pool, a);
}

static void messages_once_newest_first(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), ch = add_channel(f->st, ws, "c");
    struct store_message *items = NULL;
    size_t n = 0;
    int inserted = 0;
    int64_t ids[3];
    for(int i = 0; i < 3; i++) {
        char rid[32];
        struct store_message m = {.workspace_id = ws, .channel_id = ch, .created_at = 100 + i, .received_at = 200};
        snprintf(m.kind, sizeof(m.kind), i == 2 ? "direct" : "mention");
        snprintf(rid, sizeof(rid), "at://x/%d", i);
        m.remote_id = rid;
        m.author_id = "did:plc:bob";
        m.text = "hei <b>&amp;</b> 🫐";
        assert_int_equal(store_message_insert(f->st, &m, &inserted), SAM_OK);
        assert_int_equal(inserted, 1);
        ids[i] = m.id;
    }
    /* The same remote id again: kept once, the stored id given back. */
    struct store_message again = {.workspace_id = ws, .channel_id = ch, .remote_id = "at://x/1",
                                  .author_id = "did:plc:bob", .text = "changed"};
    snprintf(again.kind, sizeof(again.kind), "mention");
    assert_int_equal(store_message_insert(f->st, &again, &inserted), SAM_OK);
    assert_int_equal(inserted, 0);
    assert_true(again.id > 0);
    assert_int_equal(store_message_list(f->st, ws, 0, NULL, 0, 10, &items, &n), SAM_OK);
    assert_int_equal(n, 3);
    assert_string_equal(items[0].remote_id, "at://x/2");  /* newest first */
    assert_int_equal(items[1].id, again.id);              /* the id the conflict found is the row's */
    for(int i = 0; i < 3; i++)
        assert_int_equal(items[2 - i].id, ids[i]);        /* each insert's id is its row's */
    assert_string_equal(items[1].text, "hei <b>&amp;</b> 🫐");
    assert_string_equal(items[0].channel_name, "c");
    assert_null(items[0].author_handle);
    int64_t before = items[1].id;
    store_message_list_free(items, n);
    assert_int_equal(store_message_list(f->st, ws, 0, "mention", before, 10, &items, &n), SAM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].remote_id, "at://x/0");
    store_message_list_free(items, n);
    assert_int_equal(store_message_list(f->st, ws + 1, 0, NULL, 0, 10, &items, &n), SAM_OK);
    assert_int_equal(n, 0);
    store_message_list_free(items, n);
}

static void cursors(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), ch = add_channel(f->st, ws, "c");
    char out[16];
    assert_int_equal(store_cursor_get(f->st, ch, "inbound", out, sizeof(out)), SAM_OK);
    assert_string_equal(out, "");
    assert_int_equal(store_cursor_set(f->st, ch, "inbound", "2026-11-23T12", 1), SAM_OK);
    assert_int_equal(store_cursor_set(f->st, ch, "inbound", "2026-11-24T12", 2), SAM_OK);
    assert_int_equal(store_cursor_get(f->st, ch, "inbound", out, sizeof(out)), SAM_OK);
    assert_string_equal(out, "2026-11-24T12");
    assert_int_equal(store_cursor_get(f->st, ch, "inbound", out, 5), SAM_ETOOBIG);
}

static void status_holds_the_queue(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), u = add_user(f->st, "a@x.no"), ch = add_channel(f->st, ws, "c");
    struct store_post p = {.workspace_id = ws, .author_id = u, .text = "t", .created_at = 1, .updated_at = 1};
    struct store_occurrence occ = {.channel_id = ch, .planned_at = 10};
    struct store_occurrence *got = NULL;
    struct store_channel c;
    size_t n = 0;
    snprintf(p.category, sizeof(p.category), "value");
    snprintf(p.state, sizeof(p.state), "scheduled");
    snprintf(occ.idempotency_key, sizeof(occ.idempotency_key), "k1");
    assert_int_equal(store_post_insert(f->st, &p, &occ, 1), SAM_OK);
    assert_int_equal(store_channel_set_status(f->st, ch, "reconnect", "refused", 5), SAM_OK);
    assert_int_equal(store_channel_get(f->st, ch, &c), SAM_OK);
    assert_string_equal(c.status, "reconnect");
    assert_string_equal(c.status_message, "refused");
    /* An edit of the channel does not undo the status. */
    snprintf(c.status, sizeof(c.status), "active");
    assert_int_equal(store_channel_update(f->st, &c), SAM_OK);
    store_channel_cleanup(&c);
    assert_int_equal(store_occurrence_claim(f->st, 100, "w", 60, 5, &got, &n), SAM_OK);
    assert_int_equal(n, 0);                               /* held */
    free(got);
    assert_int_equal(store_channel_set_status(f->st, ch, "active", NULL, 6), SAM_OK);
    assert_int_equal(store_channel_get(f->st, ch, &c), SAM_OK);
    assert_string_equal(c.status_message, "");
    store_channel_cleanup(&c);
    assert_int_equal(store_occurrence_claim(f->st, 100, "w", 60, 5, &got, &n), SAM_OK);
    assert_int_equal(n, 1);                               /* and out it goes */
    free(got);
    assert_int_equal(store_channel_set_status(f->st, 999, "active", NULL, 6), SAM_ENOTFOUND);

    /* Marking is conditional on the credentials the refused call used. */
    int changed = -1;
    struct store_channel as_read;
    assert_int_equal(store_channel_get(f->st, ch, &as_read), SAM_OK);
    assert_int_equal(store_channel_get(f->st, ch, &c), SAM_OK);
    unsigned char fresh[4] = {9, 9, 9, 9};
    free(c.secret);
    c.secret = malloc(4);
    memcpy(c.secret, fresh, 4);
    c.secret_len = 4;                                     /* reconnected meanwhile */
    assert_int_equal(store_channel_update(f->st, &c), SAM_OK);
    assert_int_equal(store_channel_mark_reconnect(f->st, &as_read, "refused", 7, &changed), SAM_OK);
    assert_int_equal(changed, 0);                         /* left alone */
    store_channel_cleanup(&as_read);
    assert_int_equal(store_channel_mark_reconnect(f->st, &c, "refused", 7, &changed), SAM_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(store_channel_mark_reconnect(f->st, &c, "again", 8, &changed), SAM_OK);
    assert_int_equal(changed, 0);                         /* once */
    store_channel_cleanup(&c);
    assert_int_equal(store_channel_reactivate(f->st, ch, 9, &changed), SAM_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(store_channel_reactivate(f->st, ch, 9, &changed), SAM_OK);
    assert_int_equal(changed, 0);
}

/* A paused channel's due occurrences are not claimed; an edit keeps the pause (only
 * store_channel_set_paused changes it), and so does reconnecting; resumed, out they go. */
static void pause_holds_the_queue(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), u = add_user(f->st, "a@x.no"), ch = add_channel(f->st, ws, "c");
    struct store_post p = {.workspace_id = ws, .author_id = u, .text = "t", .created_at = 1, .updated_at = 1};
    struct store_occurrence occ = {.channel_id = ch, .planned_at = 10};
    struct store_occurrence *got = NULL;
    struct store_channel c;
    size_t n = 0;
    int changed = -1;
    snprintf(p.category, sizeof(p.category), "value");
    snprintf(p.state, sizeof(p.state), "scheduled");
    snprintf(occ.idempotency_key, sizeof(occ.idempotency_key), "k1");
    assert_int_equal(store_post_insert(f->st, &p, &occ, 1), SAM_OK);
    assert_int_equal(store_channel_set_paused(f->st, ch, 1, 5, &changed), SAM_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(store_channel_set_paused(f->st, ch, 1, 6, &changed), SAM_OK);
    assert_int_equal(changed, 0);                         /* already paused: the first time stays */
    assert_int_equal(store_channel_get(f->st, ch, &c), SAM_OK);
    assert_int_equal(c.paused_at, 5);
    c.paused_at = 0;                                      /* an edit does not resume it */
    assert_int_equal(store_channel_update(f->st, &c), SAM_OK);
    store_channel_cleanup(&c);
    assert_int_equal(store_channel_set_status(f->st, ch, "reconnect", "refused", 7), SAM_OK);
    assert_int_equal(store_channel_reactivate(f->st, ch, 8, &changed), SAM_OK);
    assert_int_equal(store_channel_get(f->st, ch, &c), SAM_OK);
    assert_int_equal(c.paused_at, 5);
    store_channel_cleanup(&c);
    assert_int_equal(store_occurrence_claim(f->st, 100, "w", 60, 5, &got, &n), SAM_OK);
    assert_int_equal(n, 0);                               /* held */
    free(got);
    assert_int_equal(store_channel_set_paused(f->st, ch, 0, 9, &changed), SAM_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(store_channel_get(f->st, ch, &c), SAM_OK);
    assert_int_equal(c.paused_at, 0);
    store_channel_cleanup(&c);
    assert_int_equal(store_occurrence_claim(f->st, 100, "w", 60, 5, &got, &n), SAM_OK);
    assert_int_equal(n, 1);                               /* and out it goes */
    free(got);
    assert_int_equal(store_channel_set_paused(f->st, ch, 0, 9, &changed), SAM_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(store_channel_set_paused(f->st, 999, 1, 9, &changed), SAM_OK);
    assert_int_equal(changed, 0);                         /* no such channel: nothing changed */
}

/* Pages of occurrences in (planned_at, id) order, with their posts, across ties in time,
 * one workspace only; a cursor of another workspace gives nothing. */
static void occurrence_pages(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), other = add_ws(f->st, "O"), u = add_user(f->st, "a@x.no");
    int64_t ch = add_channel(f->st, ws, "c"), och = add_channel(f->st, other, "o"), after = 0, last_at = 0;
    static const int64_t times[] = {50, 20, 20, 20, 40, 20, 10, 40, 30, 20};
    struct store_occurrence occ[10];
    struct store_post p = {.workspace_id = ws, .author_id = u, .text = "the text", .variants = "[\"v1\"]",
                           .created_at = 1, .updated_at = 1};
    struct store_post q;
    struct store_occurrence oocc = {.channel_id = och, .planned_at = 20};
    struct store_occurrence_post *page = NULL;
    size_t n = 0, total = 0;
    int seen[10] = {0};
    snprintf(p.category, sizeof(p.category), "promo");
    snprintf(p.state, sizeof(p.state), "scheduled");
    q = p;
    memset(occ, 0, sizeof(occ));
    for(int i = 0; i < 10; i++) {
        occ[i].channel_id = ch;
        occ[i].planned_at = times[i];
        snprintf(occ[i].idempotency_key, sizeof(occ[i].idempotency_key), "k%d", i);
    }
    assert_int_equal(store_post_insert(f->st, &p, occ, 10), SAM_OK);
    q.workspace_id = other;
    snprintf(oocc.idempotency_key, sizeof(oocc.idempotency_key), "other");
    assert_int_equal(store_post_insert(f->st, &q, &oocc, 1), SAM_OK);
    do {
        assert_int_equal(store_occurrence_page(f->st, ws, 0, 0, 100, after, 3, &page, &n), SAM_OK);
        for(size_t i = 0; i < n; i++) {
            int k;
            for(k = 0; k < 10 && occ[k].id != page[i].occ.id; k++)
                ;
            assert_true(k < 10);
            seen[k]++;
            assert_true(page[i].occ.planned_at > last_at ||
                        (page[i].occ.planned_at == last_at && page[i].occ.id > after));
            last_at = page[i].occ.planned_at;
            after = page[i].occ.id;
            assert_string_equal(page[i].text, "the text");
            assert_string_equal(page[i].variants, "[\"v1\"]");
            assert_string_equal(page[i].category, "promo");
        }
        total += n;
        store_occurrence_posts_free(page, n);
    } while(n == 3);
    assert_int_equal(total, 10);
    for(int i = 0; i < 10; i++)
        assert_int_equal(seen[i], 1);
    /* [from, to) and the channel filter */
    assert_int_equal(store_occurrence_page(f->st, ws, ch, 20, 40, 0, 100, &page, &n), SAM_OK);
    assert_int_equal(n, 6);
    store_occurrence_posts_free(page, n);
    assert_int_equal(store_occurrence_page(f->st, ws, och, 0, 100, 0, 100, &page, &n), SAM_OK);
    assert_int_equal(n, 0);
    store_occurrence_posts_free(page, n);
    assert_int_equal(store_occurrence_page(f->st, ws, 0, 0, 100, oocc.id, 100, &page, &n), SAM_OK);
    assert_int_equal(n, 0);
    store_occurrence_posts_free(page, n);
}

static void engagement_plan_due_record(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), u = add_user(f->st, "a@x.no"), ch = add_channel(f->st, ws, "c");
    struct store_post p = {.workspace_id = ws, .author_id = u, .text = "t", .created_at = 1, .updated_at = 1};
    struct store_occurrence occ = {.channel_id = ch, .planned_at = 10};
    struct store_occurrence *claimed = NULL;
    struct store_outcome out = {.state = "published", .remote_id = "r1", .published_at = 1000};
    struct store_engagement *due = NULL;
    size_t n = 0;
    int64_t cps[] = {3600, 86400};
    snprintf(p.category, sizeof(p.category), "value");
    snprintf(p.state, sizeof(p.state), "scheduled");
    snprintf(occ.idempotency_key, sizeof(occ.idempotency_key), "k2");
    assert_int_equal(store_post_insert(f->st, &p, &occ, 1), SAM_OK);
    assert_int_equal(store_occurrence_claim(f->st, 100, "w", 60, 1, &claimed, &n), SAM_OK);
    assert_int_equal(n, 1);
    free(claimed);
    assert_int_equal(store_occurrence_finish(f->st, occ.id, "w", &out), SAM_OK);
    assert_int_equal(store_engagement_plan(f->st, occ.id, 1000, cps, 2), SAM_OK);
    assert_int_equal(store_engagement_plan(f->st, occ.id, 1000, cps, 2), SAM_OK);   /* again: nothing new */
    assert_int_equal(store_engagement_due(f->st, 1000 + 3599, 10, &due, &n), SAM_OK);
    assert_int_equal(n, 0);
    free(due);
    assert_int_equal(store_engagement_due(f->st, 1000 + 3600, 10, &due, &n), SAM_OK);
    assert_int_equal(n, 1);
    assert_string_equal(due[0].remote_id, "r1");
    assert_int_equal(due[0].checkpoint, 3600);
    due[0].fetched_at = 4600;
    due[0].likes = 3;
    due[0].reposts = -1;
    assert_int_equal(store_engagement_record(f->st, &due[0]), SAM_OK);
    free(due);
    assert_int_equal(store_engagement_due(f->st, 1000 + 90000, 10, &due, &n), SAM_OK);
    assert_int_equal(n, 1);                               /* the 24 h one only */
    assert_int_equal(due[0].checkpoint, 86400);
    free(due);
    assert_int_equal(store_engagement_list(f->st, ws, p.id, 0, &due, &n), SAM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(due[0].likes, 3);
    assert_int_equal(due[0].reposts, -1);                 /* not counted stays unknown */
    assert_int_equal(due[1].fetched_at, 0);
    free(due);
    assert_int_equal(store_engagement_list(f->st, ws + 1, p.id, 0, &due, &n), SAM_OK);
    assert_int_equal(n, 0);
    free(due);
}

static void oauth_once_and_expiring(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W");
    unsigned char sealed[3] = {1, 2, 3};
    struct store_oauth o = {.workspace_id = ws, .detail = "{\"instance_url\":\"https://m.example\"}",
                            .secret = sealed, .secret_len = 3, .created_at = 100, .expires_at = 200}, got;
    snprintf(o.state_hash, sizeof(o.state_hash), "aa");
    snprintf(o.kind, sizeof(o.kind), "mastodon");
    assert_int_equal(store_oauth_insert(f->st, &o), SAM_OK);
    snprintf(o.state_hash, sizeof(o.state_hash), "bb");
    assert_int_equal(store_oauth_insert(f->st, &o), SAM_OK);
    assert_int_equal(store_oauth_take(f->st, "aa", 150, &got), SAM_OK);
    assert_int_equal(got.workspace_id, ws);
    assert_int_equal(got.secret_len, 3);
    assert_int_equal(got.secret[2], 3);
    assert_string_equal(got.detail, "{\"instance_url\":\"https://m.example\"}");
    store_oauth_cleanup(&got);
    assert_int_equal(store_oauth_take(f->st, "aa", 150, &got), SAM_ENOTFOUND);   /* once */
    assert_int_equal(store_oauth_take(f->st, "bb", 200, &got), SAM_ENOTFOUND);   /* expired */
}

/* A PostgreSQL URL that leads nowhere is an error that names the reason, at open (a
 * socket folder that does not exist: nothing leaves the machine). */
/* Images (P16): once per workspace and SHA-256, on posts in order with their alt text,
 * gone with the last post that used them (after the keep time), and swept when unused. */
static struct store_media media_of(int64_t ws, const char *sha, const char *bytes)
{
    struct store_media m;
    memset(&m, 0, sizeof(m));
    m.workspace_id = ws;
    snprintf(m.sha256, sizeof(m.sha256), "%s", sha);
    snprintf(m.type, sizeof(m.type), "image/png");
    m.width = 2;
    m.height = 1;
    m.frames = 1;
    m.bytes = (int64_t)strlen(bytes);
    m.data = (unsigned char *)bytes;
    return m;
}

static void media_once_used_and_swept(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), other = add_ws(f->st, "O"), u = add_user(f->st, "a@x.no");
    struct store_media a = media_of(ws, "aa", "\x89PNG-a"), a2 = media_of(ws, "aa", "\x89PNG-a"),
                       b = media_of(ws, "bb", "\x89PNG-bb"), oa = media_of(other, "aa", "\x89PNG-a"), got;
    struct store_post p = {.workspace_id = ws, .author_id = u, .text = "t", .created_at = 1, .updated_at = 1};
    struct store_post_media pm[2];
    struct store_post_media *list = NULL;
    size_t n = 0;
    int created = 0, removed = 0, swept = 0;
    assert_int_equal(store_media_put(f->st, &a, 100, &created), SAM_OK);
    assert_int_equal(created, 1);
    assert_int_equal(store_media_put(f->st, &a2, 200, &created), SAM_OK);
    assert_int_equal(created, 0);                           /* the same bytes: the same image */
    assert_int_equal(a2.id, a.id);
    assert_int_equal(a2.uploaded_at, 200);
    assert_int_equal(store_media_put(f->st, &b, 100, &created), SAM_OK);
    assert_int_equal(store_media_put(f->st, &oa, 100, &created), SAM_OK);
    assert_int_equal(created, 1);                           /* another workspace keeps its own */
    assert_true(oa.id != a.id);
    assert_int_equal(store_media_get(f->st, ws, a.id, 1, &got), SAM_OK);
    assert_int_equal(got.bytes, 6);
    assert_memory_equal(got.data, "\x89PNG-a", 6);
    store_media_cleanup(&got);
    assert_int_equal(store_media_get(f->st, other, a.id, 0, &got), SAM_ENOTFOUND);
    /* A post with both, b first; an image of another workspace is refused. */
    memset(pm, 0, sizeof(pm));
    pm[0].media_id = b.id;
    pm[0].alt = "bee";
    pm[1].media_id = a.id;
    pm[1].alt = "";
    snprintf(p.category, sizeof(p.category), "value");
    snprintf(p.state, sizeof(p.state), "draft");
    p.media = pm;
    p.nmedia = 2;
    p.media_set = 1;
    assert_int_equal(store_post_insert(f->st, &p, NULL, 0), SAM_OK);
    assert_int_equal(store_post_media_list(f->st, p.id, 1, &list, &n), SAM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].media_id, b.id);
    assert_string_equal(list[0].alt, "bee");
    assert_memory_equal(list[0].media.data, "\x89PNG-bb", 7);
    assert_int_equal(list[1].position, 1);
    store_post_media_list_free(list, n);
    {
        struct store_post q = p;
        struct store_post_media bad = {.media_id = oa.id, .alt = "x"};
        q.id = 0;
        q.media = &bad;
        q.nmedia = 1;
        assert_int_equal(store_post_insert(f->st, &q, NULL, 0), SAM_EINVAL);
    }
    /* Nothing is swept while the post uses it: only the other workspace's unused one goes. */
    assert_int_equal(store_media_sweep(f->st, 1000, 100, &swept), SAM_OK);
    assert_int_equal(swept, 1);
    assert_int_equal(store_media_get(f->st, other, oa.id, 0, &got), SAM_ENOTFOUND);
    /* Deleting the post takes b (uploaded at 100 < 150) and keeps a (uploaded again at 200). */
    assert_int_equal(store_post_delete(f->st, other, p.id, 150, &removed), SAM_ENOTFOUND);
    assert_int_equal(store_post_delete(f->st, ws, p.id, 150, &removed), SAM_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(store_media_get(f->st, ws, b.id, 0, &got), SAM_ENOTFOUND);
    assert_int_equal(store_media_get(f->st, ws, a.id, 0, &got), SAM_OK);
    assert_int_equal(store_media_sweep(f->st, 200, 100, &swept), SAM_OK);
    assert_int_equal(swept, 0);                             /* a was uploaded at 200: not before */
    assert_int_equal(store_media_sweep(f->st, 201, 100, &swept), SAM_OK);
    assert_int_equal(swept, 1);                             /* a, now unused and old enough */
    assert_int_equal(store_media_get(f->st, ws, a.id, 0, &got), SAM_ENOTFOUND);
}

static void postgres_unreachable(void **state)
{
    struct store *st = NULL;
    int rc;
    (void)state;
    rc = store_open("postgresql:///x?host=/nonexistent-samtale-socket-dir&connect_timeout=2", &st);
    assert_int_equal(rc, SAM_ESTORE);
    assert_non_null(strstr(sam_errmsg(rc), "cannot connect to PostgreSQL"));
    assert_null(st);
}

/* P12: the claim passes over the occurrences of a post waiting for approval, however due;
 * approved (or needing no approval) they go; a decision is a compare and set. */
static void approval_holds_the_claim(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), u = add_user(f->st, "a@x.no"), ch = add_channel(f->st, ws, "c");
    struct store_post p = {.workspace_id = ws, .author_id = u, .text = "t", .created_at = 1, .updated_at = 1};
    struct store_occurrence occ = {.channel_id = ch, .planned_at = 10};
    struct store_approval step = {.workspace_id = ws, .actor_id = u, .at = 1};
    struct store_approval_change ac = {0};
    struct store_approval *hist = NULL;
    struct store_occurrence *got = NULL;
    struct store_post back, *queue = NULL;
    size_t n = 0;
    int64_t count = 0;
    snprintf(p.category, sizeof(p.category), "value");
    snprintf(p.state, sizeof(p.state), "scheduled");
    snprintf(p.approval, sizeof(p.approval), "pending");
    snprintf(occ.idempotency_key, sizeof(occ.idempotency_key), "k-approval");
    snprintf(step.action, sizeof(step.action), "submitted");
    snprintf(step.actor, sizeof(step.actor), "a@x.no");
    assert_int_equal(store_post_insert_audited(f->st, &p, &occ, 1, NULL, NULL, NULL, &step), SAM_OK);
    assert_int_equal(store_occurrence_claim(f->st, 100, "w", 60, 5, &got, &n), SAM_OK);
    assert_int_equal(n, 0);                               /* due, but waiting for approval */
    free(got);
    assert_int_equal(store_approval_count(f->st, ws, "pending", 0, &count), SAM_OK);
    assert_int_equal(count, 1);
    assert_int_equal(store_approval_queue(f->st, ws, "pending", u + 1, 0, 10, &queue, &n), SAM_OK);
    assert_int_equal(n, 0);                               /* not that author's */
    store_post_list_free(queue, n);
    /* A decision on another state than the post's changes nothing. */
    ac.post = p.id;
    ac.from = "changes_requested";
    ac.to = "approved";
    ac.step = NULL;
    assert_int_equal(store_post_decide(f->st, ws, &ac, 0, 0, 50, NULL, NULL), SAM_ECONFLICT);
    ac.from = "pending";
    assert_int_equal(store_post_decide(f->st, ws + 1, &ac, 0, 0, 50, NULL, NULL), SAM_ECONFLICT); /* other ws */
    assert_int_equal(store_post_decide(f->st, ws, &ac, 999, 0, 50, NULL, NULL), SAM_ECONFLICT);   /* stale */
    snprintf(step.action, sizeof(step.action), "approved");
    step.note = "fine";
    step.at = 50;
    ac.step = &step;
    assert_int_equal(store_post_decide(f->st, ws, &ac, 1, 0, 50, NULL, NULL), SAM_OK);
    assert_int_equal(store_post_get(f->st, p.id, &back), SAM_OK);
    assert_string_equal(back.approval, "approved");
    assert_true(back.updated_at >= 50);
    store_post_cleanup(&back);
    assert_int_equal(store_approval_list(f->st, p.id, &hist, &n), SAM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(hist[0].action, "submitted");
    assert_string_equal(hist[1].action, "approved");
    assert_string_equal(hist[1].note, "fine");
    assert_string_equal(hist[1].actor_name, "N");           /* the account's name, read now */
    store_approval_list_free(hist, n);
    assert_int_equal(store_occurrence_claim(f->st, 100, "w", 60, 5, &got, &n), SAM_OK);
    assert_int_equal(n, 1);                               /* and out it goes */
    free(got);
}

/* Both hold the claim at once: an approved post waits while its channel is paused, and a
 * post waiting for approval stays on a channel that is resumed (P12 with the pause). */
static void pause_and_approval_both_hold(void **state)
{
    struct fx *f = *state;
    int64_t ws = add_ws(f->st, "W"), u = add_user(f->st, "a@x.no"), paused = add_channel(f->st, ws, "p"),
            open = add_channel(f->st, ws, "o");
    struct store_post a = {.workspace_id = ws, .author_id = u, .text = "approved", .created_at = 1, .updated_at = 1};
    struct store_post w = {.workspace_id = ws, .author_id = u, .text = "waiting", .created_at = 1, .updated_at = 1};
    struct store_occurrence oa = {.channel_id = paused, .planned_at = 10}, ow = {.channel_id = open, .planned_at = 10};
    struct store_occurrence *got = NULL;
    size_t n = 0;
    int changed = 0;
    snprintf(a.category, sizeof(a.category), "value");
    snprintf(a.state, sizeof(a.state), "scheduled");
    snprintf(a.approval, sizeof(a.approval), "approved");
    snprintf(oa.idempotency_key, sizeof(oa.idempotency_key), "k-a");
    snprintf(w.category, sizeof(w.category), "value");
    snprintf(w.state, sizeof(w.state), "scheduled");
    snprintf(w.approval, sizeof(w.approval), "pending");
    snprintf(ow.idempotency_key, sizeof(ow.idempotency_key), "k-w");
    assert_int_equal(store_post_insert(f->st, &a, &oa, 1), SAM_OK);
    assert_int_equal(store_post_insert(f->st, &w, &ow, 1), SAM_OK);
    assert_int_equal(store_channel_set_paused(f->st, paused, 1, 5, &changed), SAM_OK);
    assert_int_equal(store_occurrence_claim(f->st, 100, "w", 60, 5, &got, &n), SAM_OK);
    assert_int_equal(n, 0);                               /* one paused, one waiting */
    free(got);
    assert_int_equal(store_channel_set_paused(f->st, paused, 0, 6, &changed), SAM_OK);
    assert_int_equal(store_occurrence_claim(f->st, 100, "w", 60, 5, &got, &n), SAM_OK);
    assert_int_equal(n, 1);                               /* the approved one, resumed */
    assert_int_equal(got[0].post_id, a.id);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrate_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(unique_names_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(last_owner_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(removing_member_revokes_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(channel_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(backup_is_consistent, setup, teardown),
        cmocka_unit_test_setup_teardown(messages_once_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(planning_reads_on_the_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(cursors, setup, teardown),
        cmocka_unit_test_setup_teardown(status_holds_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(approval_holds_the_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(pause_holds_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(pause_and_approval_both_hold, setup, teardown),
        cmocka_unit_test_setup_teardown(occurrence_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(engagement_plan_due_record, setup, teardown),
        cmocka_unit_test_setup_teardown(oauth_once_and_expiring, setup, teardown),
        cmocka_unit_test_setup_teardown(media_once_used_and_swept, setup, teardown),
        cmocka_unit_test(postgres_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
