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

#include "store/store.h"
#include "util/err.h"

struct fx {
    char dir[64];
    char path[128];
    struct store *st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    int v = 0;
    snprintf(f->dir, sizeof(f->dir), "/tmp/samtale-store-XXXXXX");
    if(!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/db/s.db", f->dir); /* the db/ folder is made on open */
    if(store_open(f->path, &f->st) || store_migrate(f->st, &v) || v < 1)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[200];
    store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if(system(cmd))
        return -1;
    free(f);
    return 0;
}

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
    assert_int_equal(store_backup(f->st, dest, NULL, NULL), SAM_OK);
    assert_int_equal(store_open(dest, &copy), SAM_OK);
    assert_int_equal(store_integrity_check(copy, msg, sizeof(msg)), SAM_OK);
    assert_string_equal(msg, "ok");
    assert_int_equal(store_workspace_get_by_name(copy, "Backed up", &w), SAM_OK);
    store_close(copy);
}

static void postgres_not_yet(void **state)
{
    struct store *st = NULL;
    (void)state;
    assert_int_equal(store_open("postgresql://localhost/x", &st), SAM_EUNSUPPORTED);
    assert_null(st);
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
        cmocka_unit_test(postgres_not_yet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
