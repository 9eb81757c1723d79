/*
 * db.c: what every engine shares under the store: the connection pool, the one error
 * translation, transactions with bounded retries, migrations (one numbered sequence with
 * named fragments) and the parameter rewrite for libpq.
 */
#include "store/db.h"
#include "util/embed.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const struct embedded_file migrations_files[];
extern const size_t migrations_count;

/* ---- the pool ---- */

int db_pool_open(const struct db_driver *drv, const char *target, int max, struct db_pool **out)
{
    struct db_pool *p;
    struct dbc *c = NULL;
    int rc;
    *out = NULL;
    if(max < 1)
        max = 1;
    if(max > DB_POOL_MAX)
        max = DB_POOL_MAX;
    p = calloc(1, sizeof(*p));
    if(!p || !(p->target = strdup(target))) {
        free(p);
        return SAM_ENOMEM;
    }
    p->drv = drv;
    p->max = max;
    p->single_writer = drv == &db_sqlite_driver;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    /* The first connection is opened now, so a wrong path or URL is reported at open. */
    rc = drv->connect(target, 1, &c);
    if(rc) {
        db_pool_close(p);
        return rc;
    }
    c->pool = p;
    p->conns[0] = c;
    p->n = 1;
    *out = p;
    return SAM_OK;
}

void db_pool_close(struct db_pool *p)
{
    if(!p)
        return;
    for(int i = 0; i < p->n; i++)
        if(p->conns[i])
            p->drv->close(p->conns[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->target);
    free(p);
}

static _Thread_local int reads_on_writer;

void db_reads_on_writer(int on)
{
    reads_on_writer = on;
}

int db_take(struct db_pool *p, int write, struct dbc **out)
{
    int rc;
    *out = NULL;
    pthread_mutex_lock(&p->mu);
    /* Not ahead of a write that waits for the writer. */
    if(!write && reads_on_writer && p->single_writer && p->n > 0 && !p->busy[0] && p->conns[0] &&
       !p->writes_waiting) {
        p->busy[0] = 1;
        pthread_mutex_unlock(&p->mu);
        *out = p->conns[0];
        return SAM_OK;
    }
    for(;;) {
        int first = p->single_writer && !write ? 1 : 0;
        int last = p->single_writer && write ? 1 : p->n;
        int empty = -1;
        for(int i = first; i < last; i++) {
            if(!p->busy[i] && p->conns[i]) {
                p->busy[i] = 1;
                pthread_mutex_unlock(&p->mu);
                *out = p->conns[i];
                return SAM_OK;
            }
            if(!p->busy[i] && !p->conns[i] && empty < 0)
                empty = i; /* a slot whose connection could not be opened */
        }
        /* A read with no reader free while the writer is idle takes the writer. */
        if(p->single_writer && !write && !p->busy[0] && p->n >= p->max && empty < 0) {
            p->busy[0] = 1;
            pthread_mutex_unlock(&p->mu);
            *out = p->conns[0];
            return SAM_OK;
        }
        if((empty >= 0 || p->n < p->max) && !(p->single_writer && write)) {
            /* Open one more (in an empty slot, or a new one), outside the lock; the slot
             * is reserved meanwhile and stays empty (never handed out) if it fails. */
            int slot = empty >= 0 ? empty : p->n++;
            struct dbc *c = NULL;
            p->busy[slot] = 1;
            p->conns[slot] = NULL;
            pthread_mutex_unlock(&p->mu);
            rc = p->drv->connect(p->target, !p->single_writer, &c);
            pthread_mutex_lock(&p->mu);
            p->busy[slot] = 0;
            if(!rc) {
                c->pool = p;
                p->conns[slot] = c;
                p->busy[slot] = 1;
            }
            pthread_cond_broadcast(&p->cv);
            pthread_mutex_unlock(&p->mu);
            if(rc)
                return rc;
            *out = c;
            return SAM_OK;
        }
        p->writes_waiting += write ? 1 : 0;
        pthread_cond_wait(&p->cv, &p->mu);
        p->writes_waiting -= write ? 1 : 0;
    }
}

void db_give(struct db_pool *p, struct dbc *c)
{
    if(!c)
        return;
    pthread_mutex_lock(&p->mu);
    for(int i = 0; i < p->n; i++)
        if(p->conns[i] == c) {
            p->busy[i] = 0;
            break;
        }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- errors and transactions ---- */

int db_fail(struct dbc *c, const char *what)
{
    switch(c->err) {
    case DB_EUNIQUE:
        return sam_fail(SAM_ECONFLICT, "%s: already exists", what);
    case DB_EFOREIGN:
        return sam_fail(SAM_ENOTFOUND, "%s: a referenced object does not exist", what);
    case DB_ERETRY:
        return sam_fail(SAM_ESTORE, "%s: the database is busy; try again", what);
    case DB_ECONN:
        return sam_fail(SAM_ESTORE, "%s: the database cannot be reached: %s", what, c->errmsg);
    default:
        return sam_fail(SAM_ESTORE, "%s: %s", what, c->errmsg[0] ? c->errmsg : "database error");
    }
}

/* The retry loop of db_tx on a connection the caller holds. */
static int tx_run(struct dbc *c, const char *begin, int (*body)(struct dbc *c, void *arg), void *arg)
{
    int rc;
    for(int attempt = 1;; attempt++) {
        c->err = DB_EOK;
        rc = c->drv->exec(c, begin);
        if(!rc) {
            rc = body(c, arg);
            if(!rc) {
                rc = c->drv->exec(c, "COMMIT");
                if(rc)
                    rc = db_fail(c, "commit");
            }
            if(rc) {
                int err = c->err;
                (void)c->drv->exec(c, "ROLLBACK");
                c->err = err;
            }
        } else {
            rc = db_fail(c, "begin");
            /* The connection broke while it waited in the pool (the server restarted):
             * nothing ran, so begin once more on it, opened anew. */
            if(c->err == DB_ECONN && attempt == 1)
                continue;
        }
        if(!rc || c->err != DB_ERETRY || attempt >= c->drv->tx_attempts)
            return rc;
        /* A short pause that grows, so competing transactions stop meeting. */
        struct timespec ts = {0, (long)(1000000L << (attempt < 6 ? attempt : 6))};
        nanosleep(&ts, NULL);
    }
}

static int tx_take(struct db_pool *p, int locking, int (*body)(struct dbc *c, void *arg), void *arg)
{
    struct dbc *c;
    int rc = db_take(p, 1, &c);
    if(rc)
        return rc;
    rc = tx_run(c, locking ? c->drv->begin_locking_sql : c->drv->begin_sql, body, arg);
    db_give(p, c);
    return rc;
}

int db_tx(struct db_pool *p, int (*body)(struct dbc *c, void *arg), void *arg)
{
    return tx_take(p, 0, body, arg);
}

int db_tx_locking(struct db_pool *p, int (*body)(struct dbc *c, void *arg), void *arg)
{
    return tx_take(p, 1, body, arg);
}

/* ---- migrations ---- */

int db_migration_text(const struct db_driver *drv, const char *text, char **out)
{
    size_t cap = strlen(text) + 1024, len = 0;
    char *buf = malloc(cap);
    *out = NULL;
    if(!buf)
        return SAM_ENOMEM;
    for(const char *s = text; *s;) {
        const char *frag = NULL;
        size_t flen = 0, skip = 1;
        if(s[0] == '{' && s[1] == '{') {
            const char *end = strstr(s + 2, "}}");
            char name[32];
            if(!end || (size_t)(end - s - 2) >= sizeof(name)) {
                free(buf);
                return sam_fail(SAM_EINVAL, "migration: an unclosed {{ fragment");
            }
            memcpy(name, s + 2, (size_t)(end - s - 2));
            name[end - s - 2] = '\0';
            frag = drv->fragment(name);
            if(!frag) {
                free(buf);
                return sam_fail(SAM_EINVAL, "migration: unknown fragment {{%s}}", name);
            }
            flen = strlen(frag);
            skip = (size_t)(end + 2 - s);
        } else {
            frag = s;
            flen = 1;
        }
        if(len + flen + 1 > cap) {
            char *bigger;
            cap = (len + flen + 1) * 2;
            if(!(bigger = realloc(buf, cap))) {
                free(buf);
                return SAM_ENOMEM;
            }
            buf = bigger;
        }
        memcpy(buf + len, frag, flen);
        len += flen;
        s += skip;
    }
    buf[len] = '\0';
    *out = buf;
    return SAM_OK;
}

int db_schema_version(struct dbc *c, int *version)
{
    struct dbq *q;
    int rc, yes = 0;
    *version = 0;
    rc = c->drv->has_table(c, "schema_migrations", &yes);
    if(rc || !yes)
        return rc;
    rc = db_prep(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", &q);
    if(rc)
        return rc;
    if(db_step(q) == DB_ROW)
        *version = db_int(q, 0);
    else
        rc = db_fail(c, "schema version");
    db_release(q);
    return rc;
}

/* The file of migration number v meant for this driver: NAME.ENGINE.sql when there is one
 * (a per-engine pair), else the common NAME.sql. */
static const struct embedded_file *migration_for(const struct db_driver *drv, int v)
{
    const struct embedded_file *common = NULL;
    char suffix[32];
    snprintf(suffix, sizeof(suffix), ".%s.sql", drv->name);
    for(size_t i = 0; i < migrations_count; i++) {
        const struct embedded_file *m = &migrations_files[i];
        size_t nl = strlen(m->name), sl = strlen(suffix);
        if(atoi(m->name) != v)
            continue;
        if(nl > sl && !strcmp(m->name + nl - sl, suffix))
            return m;
        if(!strchr(strchr(m->name, '.') ? strchr(m->name, '.') + 1 : "", '.'))
            common = m; /* NAME.sql: one dot */
    }
    return common;
}

struct migration_step {
    int version;
    const char *name;
    const char *text;
};

static int migration_body(struct dbc *c, void *arg)
{
    const struct migration_step *m = arg;
    struct dbq *q;
    int rc, r;
    /* Another process may have applied it meanwhile (SQLite has no lock held between). */
    rc = db_prep(c, "SELECT 1 FROM schema_migrations WHERE version = ?1", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, m->version);
    r = db_step(q);
    db_release(q);
    if(r == DB_ERROR)
        return db_fail(c, "schema version");
    if(r == DB_ROW)
        return SAM_OK;
    rc = c->drv->exec(c, m->text);
    if(rc)
        return sam_fail(SAM_ESTORE, "migration %s: %s", m->name, c->errmsg);
    rc = db_prep(c, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, ?3)", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, m->version);
    db_bind_text(q, 2, m->name);
    db_bind_int64(q, 3, time_now());
    if(db_step(q) != DB_DONE)
        rc = db_fail(c, "record migration");
    db_release(q);
    return rc;
}

int db_latest_version(void)
{
    int v = 0;
    for(size_t i = 0; i < migrations_count; i++)
        if(atoi(migrations_files[i].name) > v)
            v = atoi(migrations_files[i].name);
    return v;
}

static int applied_versions(struct dbc *c, unsigned char *applied, size_t n);

/* Whether some embedded migration has number v (for any engine). */
static int have_version(int v)
{
    for(size_t i = 0; i < migrations_count; i++)
        if(atoi(migrations_files[i].name) == v)
            return 1;
    return 0;
}

int db_pending(struct db_pool *p, int *n)
{
    struct dbc *c;
    unsigned char applied[10000];
    int rc, latest = db_latest_version();
    *n = 0;
    if((rc = db_take(p, 0, &c)))
        return rc;
    if(applied_versions(c, applied, sizeof(applied))) {
        /* No migrations table yet: a new database, where every migration is to come. */
        sam_clear();
        memset(applied, 0, sizeof(applied));
    }
    for(int v = 1; v <= latest; v++)
        if(have_version(v) && !(v < (int)sizeof(applied) && applied[v]))
            (*n)++;
    db_give(p, c);
    return SAM_OK;
}

/* Marks in applied[v] (n entries) each version recorded in schema_migrations. */
static int applied_versions(struct dbc *c, unsigned char *applied, size_t n)
{
    struct dbq *q;
    int rc, r;
    memset(applied, 0, n);
    rc = db_prep(c, "SELECT version FROM schema_migrations ORDER BY version", &q);
    if(rc)
        return rc;
    while((r = db_step(q)) == DB_ROW) {
        int64_t v = db_int64(q, 0);
        if(v > 0 && (uint64_t)v < n)
            applied[v] = 1;
    }
    if(r == DB_ERROR)
        rc = db_fail(c, "schema versions");
    db_release(q);
    return rc;
}

int db_migrate(struct db_pool *p, int *version)
{
    struct dbc *c;
    unsigned char applied[10000];
    int rc, cur = 0, locked = 0, latest = 0;
    rc = db_take(p, 1, &c);
    if(rc)
        return rc;
    if(c->drv->migrations_lock) {
        rc = c->drv->migrations_lock(c, 1);
        if(rc)
            goto out;
        locked = 1;
    }
    rc = c->drv->exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    if(rc) {
        rc = db_fail(c, "migrations table");
        goto out;
    }
    rc = applied_versions(c, applied, sizeof(applied));
    if(rc)
        goto out;
    latest = db_latest_version();
    /* Every embedded migration not yet recorded, in number order. A number without a file
     * is a gap, not an error: work done side by side picks numbers apart (media took 0014
     * while 0011-0013 were taken elsewhere), and whichever lands later is applied then. */
    for(int v = 1; !rc && v <= latest; v++) {
        const struct embedded_file *m;
        struct migration_step step = {v, NULL, NULL};
        char *text = NULL;
        if(v < (int)sizeof(applied) && applied[v])
            continue;
        m = migration_for(p->drv, v);
        if(!m && !have_version(v))
            continue; /* a number no migration has: numbers may leave gaps (db.h) */
        if(!m) {
            rc = sam_fail(SAM_EINTERNAL, "migration %04d is missing for %s", v, p->drv->name);
            break;
        }
        rc = db_migration_text(p->drv, (const char *)m->data, &text);
        if(rc)
            break;
        step.name = m->name;
        step.text = text;
        rc = tx_run(c, c->drv->begin_sql, migration_body, &step);
        free(text);
    }
    if(!rc)
        rc = db_schema_version(c, &cur);
    *version = cur;
out:
    if(locked)
        (void)c->drv->migrations_lock(c, 0);
    db_give(p, c);
    return rc;
}

/* ---- parameters for libpq ---- */

int db_dollar_params(const char *sql, char **out)
{
    size_t n = strlen(sql);
    char *buf = malloc(n + 1), *w = buf;
    char quote = 0;
    *out = NULL;
    if(!buf)
        return SAM_ENOMEM;
    for(const char *s = sql; *s; s++) {
        if(quote) {
            if(*s == quote)
                quote = 0;
            *w++ = *s;
            continue;
        }
        if(*s == '\'' || *s == '"') {
            quote = *s;
            *w++ = *s;
            continue;
        }
        if(*s == '?') {
            if(!isdigit((unsigned char)s[1])) {
                free(buf);
                return sam_fail(SAM_EINVAL, "a statement uses an unnumbered parameter: %.60s", sql);
            }
            *w++ = '$';
            continue;
        }
        *w++ = *s;
    }
    *w = '\0';
    *out = buf;
    return SAM_OK;
}
