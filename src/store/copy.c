/*
 * copy.c: copying every row of one store into another, empty one (samtale migrate --to):
 * how an installation that outgrows SQLite moves to PostgreSQL and loses nothing.
 *
 * The source is read in one read transaction (a consistent snapshot, while samtale keeps
 * running on it); the target is written in one transaction that is committed only after
 * every table was read back and matched: the same number of rows and the same checksum.
 * A table's checksum is the sum (mod 2^64) of one BLAKE2b hash per row over its values
 * in column order (each tagged by class: NULL, integer as decimal, text, blob), so it does
 * not depend on the order either engine returns rows in. Sealed secrets are copied as the
 * bytes they are: the same key opens them on the new database.
 */
#include "store/store.h"
#include "store/store_impl.h"
#include "util/err.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every table, parents before children (foreign keys). A table the schema has and this
 * list lacks stops the copy: nothing is left behind unnoticed. */
static const char *const tables[] = {
    "workspaces", "users",     "members",         "sessions",       "api_tokens",     "channels",
    "posts",      "series",    "occurrences",     "audit_log",      "messages",       "channel_cursors",
    "engagement", "oauth_pending", "invitations", "recovery_codes", "login_challenges", "mail_outbox",
    "offers",     "post_approvals", "imports",   "media",          "post_media",
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))
#define MAXCOLS 40

struct columns {
    int n;
    char names[MAXCOLS][64];
    int cls[MAXCOLS];
};

static int run_once(struct dbc *c, const char *sql, int64_t *value)
{
    struct dbq *q;
    int rc = c->drv->prepare_once(c, sql, &q);
    if(rc)
        return rc;
    int r = db_step(q);
    if(r == DB_ROW && value)
        *value = db_int64(q, 0);
    else if(r == DB_ERROR)
        rc = db_fail(c, "copy");
    db_release(q);
    return rc;
}

/* The target's columns of a table, in order, with their classes. */
static int columns_of(struct dbc *c, const char *table, struct columns *out)
{
    char sql[160];
    struct dbq *q;
    int rc;
    snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" WHERE 1 = 0", table);
    rc = c->drv->prepare_once(c, sql, &q);
    if(rc)
        return rc;
    if(db_step(q) == DB_ERROR)
        rc = db_fail(c, table);
    out->n = rc ? 0 : db_ncols(q);
    if(out->n > MAXCOLS)
        rc = sam_fail(SAM_EINTERNAL, "table %s has more than %d columns", table, MAXCOLS);
    for(int i = 0; !rc && i < out->n; i++) {
        const char *name;
        if((rc = c->drv->column_info(q, i, &name, &out->cls[i])))
            rc = sam_fail(SAM_EINTERNAL, "cannot read the columns of %s", table);
        else
            snprintf(out->names[i], sizeof(out->names[i]), "%s", name);
    }
    db_release(q);
    return rc;
}

/* Adds one row's hash to the table's checksum. */
static void hash_row(struct dbq *q, const struct columns *cols, uint64_t *sum)
{
    crypto_generichash_state h;
    unsigned char out[8];
    crypto_generichash_init(&h, NULL, 0, sizeof(out));
    for(int i = 0; i < cols->n; i++) {
        unsigned char tag;
        char num[24];
        const void *b = NULL;
        size_t len = 0;
        if(db_is_null(q, i)) {
            tag = 'N';
        } else if(cols->cls[i] == DB_INT) {
            tag = 'I';
            len = (size_t)snprintf(num, sizeof(num), "%lld", (long long)db_int64(q, i));
            b = num;
        } else if(cols->cls[i] == DB_BLOB) {
            tag = 'B';
            b = db_blob(q, i, &len);
        } else {
            tag = 'T';
            b = db_text(q, i);
            len = strlen(b);
        }
        unsigned char lenb[8];
        for(int k = 0; k < 8; k++)
            lenb[k] = (unsigned char)(len >> (8 * k));
        crypto_generichash_update(&h, &tag, 1);
        crypto_generichash_update(&h, lenb, sizeof(lenb));
        if(len)
            crypto_generichash_update(&h, b, len);
    }
    crypto_generichash_final(&h, out, sizeof(out));
    uint64_t v = 0;
    for(int k = 0; k < 8; k++)
        v |= (uint64_t)out[k] << (8 * k);
    *sum += v;
}

static int select_sql(const char *table, const struct columns *cols, char *sql, size_t n)
{
    size_t len = (size_t)snprintf(sql, n, "SELECT ");
    for(int i = 0; i < cols->n && len < n; i++)
        len += (size_t)snprintf(sql + len, n - len, "%s\"%s\"", i ? ", " : "", cols->names[i]);
    if(len < n)
        len += (size_t)snprintf(sql + len, n - len, " FROM \"%s\"", table);
    return len < n ? SAM_OK : sam_fail(SAM_EINTERNAL, "statement too long");
}

/* Reads every row of a table on c, adding each to *sum and counting them. */
static int checksum(struct dbc *c, const char *table, const struct columns *cols, int64_t *rows, uint64_t *sum)
{
    char sql[4096];
    struct dbq *q;
    int rc = select_sql(table, cols, sql, sizeof(sql)), r;
    *rows = 0;
    *sum = 0;
    if(rc || (rc = c->drv->prepare_once(c, sql, &q)))
        return rc;
    while((r = db_step(q)) == DB_ROW) {
        hash_row(q, cols, sum);
        (*rows)++;
    }
    if(r == DB_ERROR)
        rc = db_fail(c, table);
    db_release(q);
    return rc;
}

/* Copies one table's rows from src to dst (inside dst's transaction). */
static int copy_table(struct dbc *src, struct dbc *dst, const char *table, const struct columns *cols,
                      struct store_copy_table *t, store_copy_progress_fn fn, void *arg)
{
    char sel[4096], ins[4096];
    struct dbq *q = NULL, *w = NULL;
    int rc, r;
    size_t len;
    if((rc = select_sql(table, cols, sel, sizeof(sel))))
        return rc;
    len = (size_t)snprintf(ins, sizeof(ins), "INSERT INTO \"%s\" (", table);
    for(int i = 0; i < cols->n && len < sizeof(ins); i++)
        len += (size_t)snprintf(ins + len, sizeof(ins) - len, "%s\"%s\"", i ? ", " : "", cols->names[i]);
    if(len < sizeof(ins))
        len += (size_t)snprintf(ins + len, sizeof(ins) - len, ") VALUES (");
    for(int i = 0; i < cols->n && len < sizeof(ins); i++)
        len += (size_t)snprintf(ins + len, sizeof(ins) - len, "%s?%d", i ? ", " : "", i + 1);
    if(len < sizeof(ins))
        len += (size_t)snprintf(ins + len, sizeof(ins) - len, ")");
    if(len >= sizeof(ins))
        return sam_fail(SAM_EINTERNAL, "statement too long");
    if((rc = src->drv->prepare_once(src, sel, &q)))
        return rc;
    while(!rc && (r = db_step(q)) == DB_ROW) {
        hash_row(q, cols, &t->source_sum);
        t->rows++;
        rc = dst->drv->prepare_once(dst, ins, &w);
        for(int i = 0; !rc && i < cols->n; i++) {
            size_t bl = 0;
            const void *b;
            if(db_is_null(q, i))
                db_bind_null(w, i + 1);
            else if(cols->cls[i] == DB_INT)
                db_bind_int64(w, i + 1, db_int64(q, i));
            else if(cols->cls[i] == DB_BLOB && (b = db_blob(q, i, &bl)))
                db_bind_blob(w, i + 1, b, bl);
            else
                db_bind_text(w, i + 1, db_text(q, i));
        }
        if(!rc && db_step(w) == DB_ERROR)
            rc = db_fail(dst, table);
        db_release(w);
        w = NULL;
        if(!rc && fn && t->rows % 1000 == 0)
            fn(table, t->rows, arg);
    }
    if(!rc && r == DB_ERROR)
        rc = db_fail(src, table);
    db_release(q);
    if(!rc && fn)
        fn(table, t->rows, arg);
    return rc;
}

int store_copy(struct store *src, struct store *dst, store_copy_progress_fn fn, void *arg,
               struct store_copy_table out[STORE_COPY_TABLES], size_t *n)
{
    struct dbc *s = NULL, *d = NULL;
    int rc, vs = 0, vd = 0, in_src = 0, in_dst = 0;
    int64_t have = 0;
    *n = 0;
    memset(out, 0, sizeof(struct store_copy_table) * STORE_COPY_TABLES);
    if(NTABLES > STORE_COPY_TABLES)
        return sam_fail(SAM_EINTERNAL, "STORE_COPY_TABLES is too small");
    if((rc = db_take(src->pool, 0, &s)) || (rc = db_take(dst->pool, 1, &d)))
        goto out;
    if((rc = db_schema_version(s, &vs)) || (rc = db_schema_version(d, &vd)))
        goto out;
    if(vs != vd) {
        rc = sam_fail(SAM_ECONFLICT, "the two databases are at schema versions %d and %d: migrate both first", vs, vd);
        goto out;
    }
    /* Every table of the schema is in the list (schema_migrations is the target's own). */
    rc = run_once(d, DB_VARIANT(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                   " AND substr(name, 1, 7) <> 'sqlite_'",
                                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
                                " AND table_type = 'BASE TABLE'"), &have);
    if(!rc && have != (int64_t)NTABLES + 1)
        rc = sam_fail(SAM_EINTERNAL, "the schema has %lld tables and the copy knows %zu: update src/store/copy.c",
                      (long long)have - 1, NTABLES);
    if(rc)
        goto out;
    /* A snapshot of the source; everything of the target in one transaction. */
    if(s->drv->exec(s, "BEGIN")) {
        rc = db_fail(s, "begin");
        goto out;
    }
    in_src = 1;
    if(d->drv->exec(d, d->drv->begin_locking_sql)) {
        rc = db_fail(d, "begin");
        goto out;
    }
    in_dst = 1;
    for(size_t i = 0; !rc && i < NTABLES; i++) {
        struct columns cols;
        char sql[160];
        int64_t rows = -1;
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", tables[i]);
        if((rc = run_once(d, sql, &rows)))
            break;
        if(rows) {
            rc = sam_fail(SAM_ECONFLICT, "the target database already holds data (%s: %lld); copy only into a "
                                         "new, empty database", tables[i], (long long)rows);
            break;
        }
        snprintf(out[i].table, sizeof(out[i].table), "%s", tables[i]);
        if((rc = columns_of(d, tables[i], &cols)))
            break;
        rc = copy_table(s, d, tables[i], &cols, &out[i], fn, arg);
        if(!rc && d->drv->sync_ids && !strcmp(cols.names[0], "id") && cols.cls[0] == DB_INT)
            rc = d->drv->sync_ids(d, tables[i]);
        /* Read back what the target now holds, before anything is committed. */
        if(!rc)
            rc = checksum(d, tables[i], &cols, &out[i].target_rows, &out[i].target_sum);
        if(!rc && (out[i].target_rows != out[i].rows || out[i].target_sum != out[i].source_sum))
            rc = sam_fail(SAM_ESTORE, "%s does not match after copying (%lld rows, %lld read back): nothing was "
                                      "written", tables[i], (long long)out[i].rows, (long long)out[i].target_rows);
        *n = i + 1;
    }
    if(!rc) {
        if(d->drv->exec(d, "COMMIT"))
            rc = db_fail(d, "commit");
        in_dst = 0;
    }
out:
    if(in_dst)
        (void)d->drv->exec(d, "ROLLBACK");
    if(in_src)
        (void)s->drv->exec(s, "ROLLBACK");
    if(s)
        db_give(src->pool, s);
    if(d)
        db_give(dst->pool, d);
    return rc;
}
