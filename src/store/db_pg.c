/*
 * db_pg.c: the PostgreSQL driver of db.h, on libpq.
 *
 * A statement's ?N parameters become $N once per connection; it is prepared on the
 * server at its first run with the types of the values bound (bigint, text, bytea; a NULL
 * leaves its type to the server), and kept under that type signature. Parameters go as
 * text, blobs in binary; results come as text and are read with strtoll (bytea through
 * PQunescapeBytea). Transactions are SERIALIZABLE, so a transaction that checks and then
 * changes sees the same as under SQLite's single writer; the engine's serialization
 * failures and deadlocks come back as DB_ERETRY, and db_tx runs the transaction again.
 * Each connection has a connect timeout and a statement timeout, so no caller waits on
 * the database without a bound; a connection that broke is reset at its next use.
 */
#include "store/db.h"
#include "util/err.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXP 32          /* parameters in one statement */
#define PREP_CACHE 512   /* server-side statements kept per connection */
#define INT8OID 20
#define TEXTOID 25
#define BYTEAOID 17

struct pgc;

struct pgq {
    struct dbq base;
    int once;                    /* run unnamed: the text is not a literal of the store */
    const char *sql;
    char *dsql;                  /* with $N */
    int np;                      /* highest parameter number */
    const char *values[MAXP];
    int lengths[MAXP];
    int formats[MAXP];
    unsigned int types[MAXP];
    char *owned[MAXP];           /* copies of text and blob values */
    char ints[MAXP][24];
    PGresult *res;
    int row, nrows, changes;
    unsigned char *bytea[8];     /* decoded blobs of the current row, freed at the next step */
    int nbytea;
};

struct pgc {
    struct dbc base;
    PGconn *conn;
    unsigned generation;         /* bumped at a reset: the server forgot our statements */
    struct {
        const char *sql;
        unsigned int types[MAXP];
        int np;
        unsigned generation;
        char name[16];
    } cache[PREP_CACHE];
    unsigned next_name;
    unsigned listening;          /* generation + 1 of the LISTEN in force, 0 for none */
};

#define PGC(c) ((struct pgc *)(c))
#define PGQ(q) ((struct pgq *)(q))

static void note_result(struct pgc *p, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if(!state)
        state = "";
    if(!strcmp(state, "23505"))
        p->base.err = DB_EUNIQUE;
    else if(!strcmp(state, "23503"))
        p->base.err = DB_EFOREIGN;
    else if(!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        p->base.err = DB_ERETRY;
    else if(!strncmp(state, "08", 2) || !strcmp(state, "57P01") || PQstatus(p->conn) != CONNECTION_OK)
        p->base.err = DB_ECONN;
    else
        p->base.err = DB_EOTHER;
    if(!msg || !*msg)
        msg = PQerrorMessage(p->conn);
    snprintf(p->base.errmsg, sizeof(p->base.errmsg), "%s", msg && *msg ? msg : "database error");
    /* libpq's messages end with a newline */
    size_t n = strlen(p->base.errmsg);
    while(n && (p->base.errmsg[n - 1] == '\n' || p->base.errmsg[n - 1] == ' '))
        p->base.errmsg[--n] = '\0';
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs ("already exists, skipping") are not for people */
}

/* After connecting (or a reset): the session's settings. */
static int session_setup(struct pgc *p)
{
    PGresult *r;
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    r = PQexec(p->conn, "SET statement_timeout = '60s'; SET lock_timeout = '30s';"
                        " SET idle_in_transaction_session_timeout = '120s'");
    if(PQresultStatus(r) != PGRES_COMMAND_OK) {
        note_result(p, r);
        PQclear(r);
        return DB_ERROR;
    }
    PQclear(r);
    return SAM_OK;
}

/* A connection that broke (the server restarted, its backend was ended) is reset before
 * its next use. An idle connection the server wrote to (a FATAL message, or the end of
 * the stream) is found broken here, before a statement is sent on it. */
static int ensure(struct pgc *p)
{
    if(PQstatus(p->conn) == CONNECTION_OK && PQtransactionStatus(p->conn) == PQTRANS_IDLE) {
        struct pollfd pfd = {PQsocket(p->conn), POLLIN, 0};
        if(pfd.fd >= 0 && poll(&pfd, 1, 0) > 0)
            (void)PQconsumeInput(p->conn); /* notifications stay queued for PQnotifies */
    }
    if(PQstatus(p->conn) == CONNECTION_OK)
        return SAM_OK;
    PQreset(p->conn);
    p->generation++;
    if(PQstatus(p->conn) != CONNECTION_OK) {
        p->base.err = DB_ECONN;
        snprintf(p->base.errmsg, sizeof(p->base.errmsg), "%s", PQerrorMessage(p->conn));
        return DB_ERROR;
    }
    return session_setup(p);
}

static void pgd_close(struct dbc *c)
{
    struct pgc *p = PGC(c);
    if(p->conn)
        PQfinish(p->conn);
    free(p);
}

static int pgd_connect(const char *target, int write, struct dbc **out)
{
    /* Earlier keywords are overridden by what the URL says. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"10", "samtale", target, NULL};
    struct pgc *p = calloc(1, sizeof(*p));
    int rc;
    *out = NULL;
    if(!p)
        return SAM_ENOMEM;
    p->base.drv = &db_pg_driver;
    p->base.write = write;
    p->conn = PQconnectdbParams(keys, vals, 1);
    if(!p->conn)
        rc = sam_fail(SAM_ENOMEM, "cannot connect to PostgreSQL");
    else if(PQstatus(p->conn) != CONNECTION_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(p->conn));
        msg[strcspn(msg, "\n")] = '\0';
        rc = sam_fail(SAM_ESTORE, "cannot connect to PostgreSQL: %s", msg);
    } else if(session_setup(p))
        rc = sam_fail(SAM_ESTORE, "cannot set up the PostgreSQL session: %s", p->base.errmsg);
    else
        rc = SAM_OK;
    if(rc) {
        pgd_close(&p->base);
        return rc;
    }
    *out = &p->base;
    return SAM_OK;
}

static int pgd_exec(struct dbc *c, const char *sql)
{
    struct pgc *p = PGC(c);
    PGresult *r;
    ExecStatusType st;
    if(ensure(p))
        return DB_ERROR;
    r = PQexec(p->conn, sql);
    st = PQresultStatus(r);
    if(st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        note_result(p, r);
        PQclear(r);
        return DB_ERROR;
    }
    PQclear(r);
    return SAM_OK;
}

static int pgd_prepare(struct dbc *c, const char *sql, struct dbq **out)
{
    struct pgq *q = calloc(1, sizeof(*q));
    int rc;
    *out = NULL;
    if(!q)
        return SAM_ENOMEM;
    rc = db_dollar_params(sql, &q->dsql);
    if(rc) {
        free(q);
        return rc;
    }
    for(const char *s = strchr(q->dsql, '$'); s; s = strchr(s + 1, '$')) {
        int k = atoi(s + 1);
        if(k > q->np)
            q->np = k;
    }
    if(q->np > MAXP) {
        free(q->dsql);
        free(q);
        return sam_fail(SAM_EINTERNAL, "a statement has more than %d parameters", MAXP);
    }
    q->base.c = c;
    q->sql = sql;
    q->row = -1;
    *out = &q->base;
    return SAM_OK;
}

static int pgd_prepare_once(struct dbc *c, const char *sql, struct dbq **out)
{
    int rc = pgd_prepare(c, sql, out);
    if(!rc)
        PGQ(*out)->once = 1;
    return rc;
}

static void free_row(struct pgq *q)
{
    for(int i = 0; i < q->nbytea; i++)
        PQfreemem(q->bytea[i]);
    q->nbytea = 0;
}

static void pgd_release(struct dbq *qq)
{
    struct pgq *q = PGQ(qq);
    free_row(q);
    if(q->res)
        PQclear(q->res);
    for(int i = 0; i < MAXP; i++)
        free(q->owned[i]);
    free(q->dsql);
    free(q);
}

static struct pgq *slot(struct dbq *qq, int i)
{
    struct pgq *q = PGQ(qq);
    if(i < 1 || i > MAXP)
        return NULL;
    free(q->owned[i - 1]);
    q->owned[i - 1] = NULL;
    return q;
}

static void pgd_bind_int64(struct dbq *qq, int i, int64_t v)
{
    struct pgq *q = slot(qq, i);
    if(!q)
        return;
    snprintf(q->ints[i - 1], sizeof(q->ints[0]), "%lld", (long long)v);
    q->values[i - 1] = q->ints[i - 1];
    q->lengths[i - 1] = 0;
    q->formats[i - 1] = 0;
    q->types[i - 1] = INT8OID;
}

static void pgd_bind_text(struct dbq *qq, int i, const char *v)
{
    struct pgq *q = slot(qq, i);
    if(!q)
        return;
    q->owned[i - 1] = strdup(v ? v : "");
    q->values[i - 1] = q->owned[i - 1] ? q->owned[i - 1] : "";
    q->lengths[i - 1] = 0;
    q->formats[i - 1] = 0;
    q->types[i - 1] = TEXTOID;
}

static void pgd_bind_blob(struct dbq *qq, int i, const void *b, size_t n)
{
    struct pgq *q = slot(qq, i);
    if(!q)
        return;
    q->owned[i - 1] = malloc(n ? n : 1);
    if(q->owned[i - 1] && n)
        memcpy(q->owned[i - 1], b, n);
    q->values[i - 1] = q->owned[i - 1];
    q->lengths[i - 1] = q->owned[i - 1] ? (int)n : 0;
    q->formats[i - 1] = 1;
    q->types[i - 1] = BYTEAOID;
}

static void pgd_bind_null(struct dbq *qq, int i)
{
    struct pgq *q = slot(qq, i);
    if(!q)
        return;
    q->values[i - 1] = NULL;
    q->lengths[i - 1] = 0;
    q->formats[i - 1] = 0;
    q->types[i - 1] = 0;
}

/* The server-side statement for q's text and parameter types, prepared when new. */
static const char *statement_name(struct pgc *p, struct pgq *q)
{
    size_t h = (uintptr_t)q->sql >> 3;
    for(int i = 0; i < q->np; i++)
        h = h * 31 + q->types[i];
    for(size_t k = 0; k < 8; k++) {
        size_t at = (h + k) % PREP_CACHE;
        if(p->cache[at].sql == q->sql && p->cache[at].np == q->np && p->cache[at].generation == p->generation &&
           !memcmp(p->cache[at].types, q->types, sizeof(q->types[0]) * (size_t)q->np))
            return p->cache[at].name;
        if(!p->cache[at].sql || p->cache[at].generation != p->generation) {
            char name[16];
            PGresult *r;
            snprintf(name, sizeof(name), "s%u", p->next_name++);
            r = PQprepare(p->conn, name, q->dsql, q->np, q->types);
            if(PQresultStatus(r) != PGRES_COMMAND_OK) {
                note_result(p, r);
                PQclear(r);
                return NULL;
            }
            PQclear(r);
            p->cache[at].sql = q->sql;
            p->cache[at].np = q->np;
            p->cache[at].generation = p->generation;
            memcpy(p->cache[at].types, q->types, sizeof(q->types));
            snprintf(p->cache[at].name, sizeof(p->cache[at].name), "%s", name);
            return p->cache[at].name;
        }
    }
    return ""; /* no room: run it unnamed */
}

static int pgd_step(struct dbq *qq)
{
    struct pgq *q = PGQ(qq);
    struct pgc *p = PGC(qq->c);
    free_row(q);
    if(!q->res) {
        const char *name;
        ExecStatusType st;
        if(ensure(p))
            return DB_ERROR;
        name = q->once ? "" : statement_name(p, q);
        if(!name)
            return DB_ERROR;
        if(*name)
            q->res = PQexecPrepared(p->conn, name, q->np, q->values, q->lengths, q->formats, 0);
        else
            q->res = PQexecParams(p->conn, q->dsql, q->np, q->types, q->values, q->lengths, q->formats, 0);
        st = PQresultStatus(q->res);
        if(st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            note_result(p, q->res);
            PQclear(q->res);
            q->res = NULL;
            return DB_ERROR;
        }
        q->nrows = st == PGRES_TUPLES_OK ? PQntuples(q->res) : 0;
        q->changes = atoi(PQcmdTuples(q->res));
        q->row = -1;
    }
    if(q->row + 1 < q->nrows) {
        q->row++;
        return DB_ROW;
    }
    q->row = q->nrows;
    return DB_DONE;
}

static int pgd_changes(struct dbq *q)
{
    return PGQ(q)->changes;
}

static int pgd_ncols(struct dbq *q)
{
    return PGQ(q)->res ? PQnfields(PGQ(q)->res) : 0;
}

static int valid(struct pgq *q, int i)
{
    return q->res && q->row >= 0 && q->row < q->nrows && i >= 0 && i < PQnfields(q->res);
}

static int pgd_is_null(struct dbq *qq, int i)
{
    struct pgq *q = PGQ(qq);
    return !valid(q, i) || PQgetisnull(q->res, q->row, i);
}

static int64_t pgd_int64(struct dbq *qq, int i)
{
    struct pgq *q = PGQ(qq);
    const char *v;
    if(pgd_is_null(qq, i))
        return 0;
    v = PQgetvalue(q->res, q->row, i);
    if(v[0] == 't')
        return 1; /* a boolean */
    return strtoll(v, NULL, 10);
}

static const char *pgd_text(struct dbq *qq, int i)
{
    struct pgq *q = PGQ(qq);
    return pgd_is_null(qq, i) ? "" : PQgetvalue(q->res, q->row, i);
}

static const void *pgd_blob(struct dbq *qq, int i, size_t *n)
{
    struct pgq *q = PGQ(qq);
    unsigned char *b;
    *n = 0;
    if(pgd_is_null(qq, i) || q->nbytea >= (int)(sizeof(q->bytea) / sizeof(q->bytea[0])))
        return NULL;
    b = PQunescapeBytea((const unsigned char *)PQgetvalue(q->res, q->row, i), n);
    if(b)
        q->bytea[q->nbytea++] = b;
    return b;
}

static int pgd_column_info(struct dbq *qq, int i, const char **name, int *cls)
{
    struct pgq *q = PGQ(qq);
    unsigned int t;
    if(!q->res || i < 0 || i >= PQnfields(q->res))
        return SAM_EINTERNAL;
    *name = PQfname(q->res, i);
    t = PQftype(q->res, i);
    *cls = t == INT8OID || t == 23 || t == 21 ? DB_INT : t == BYTEAOID ? DB_BLOB : DB_TEXT;
    return SAM_OK;
}

static const char *pgd_fragment(const char *name)
{
    if(!strcmp(name, "id"))
        return "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
    if(!strcmp(name, "blob"))
        return "BYTEA";
    if(!strcmp(name, "nocase"))
        return "";
    return NULL;
}

static int pgd_has_table(struct dbc *c, const char *name, int *yes)
{
    struct dbq *q;
    int rc = pgd_prepare(c, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
                           " AND table_name = ?1", &q);
    *yes = 0;
    if(rc)
        return rc;
    pgd_bind_text(q, 1, name);
    if(pgd_step(q) == DB_ROW)
        *yes = pgd_int64(q, 0) > 0;
    else
        rc = db_fail(c, "schema");
    pgd_release(q);
    return rc;
}

/* Migrations of several processes starting together run one after the other; they may
 * take longer than a statement is otherwise allowed. */
static int pgd_migrations_lock(struct dbc *c, int take)
{
    int rc = pgd_exec(c, take ? "SET statement_timeout = 0; SET lock_timeout = 0; SELECT pg_advisory_lock(7316001)"
                             : "SELECT pg_advisory_unlock(7316001); SET statement_timeout = '60s';"
                               " SET lock_timeout = '30s'");
    return rc ? db_fail(c, "migration lock") : SAM_OK;
}

static int pgd_stats(struct dbc *c, struct db_stats *o)
{
    struct dbq *q;
    int rc = pgd_prepare(c, "SELECT pg_database_size(current_database())", &q);
    if(rc)
        return rc;
    if(pgd_step(q) == DB_ROW)
        o->db_bytes = pgd_int64(q, 0);
    o->free_bytes = 0;
    pgd_release(q);
    return SAM_OK;
}

static int pgd_integrity(struct dbc *c, char *msg, size_t n)
{
    /* PostgreSQL checks its pages as it reads them; answering a query is the check. */
    if(pgd_exec(c, "SELECT 1"))
        return db_fail(c, "integrity check");
    snprintf(msg, n, "ok");
    return SAM_OK;
}

static int64_t lock_key(int space, int64_t id)
{
    return (int64_t)(((uint64_t)(7316u + (unsigned)space) << 48) ^ (uint64_t)id);
}

/* Runs one statement with one int64 parameter, reading no rows. */
static int run_key(struct dbc *c, const char *sql, int64_t key, const char *what)
{
    struct dbq *q;
    int rc = pgd_prepare(c, sql, &q);
    if(rc)
        return rc;
    pgd_bind_int64(q, 1, key);
    if(pgd_step(q) == DB_ERROR)
        rc = db_fail(c, what);
    pgd_release(q);
    return rc;
}

static int pgd_lock_xact(struct dbc *c, int space, int64_t id)
{
    return run_key(c, "SELECT pg_advisory_xact_lock(?1)", lock_key(space, id), "lock");
}

static int pgd_lock_session(struct dbc *c, int space, int mode)
{
    struct dbq *q;
    int rc;
    if(mode == DB_LOCK_WAIT)
        return run_key(c, "SELECT pg_advisory_lock(?1)", lock_key(space, 0), "lock");
    if(mode == DB_LOCK_FREE)
        return run_key(c, "SELECT pg_advisory_unlock(?1)", lock_key(space, 0), "unlock");
    rc = pgd_prepare(c, "SELECT CASE WHEN pg_try_advisory_lock(?1) THEN 1 ELSE 0 END", &q);
    if(rc)
        return rc;
    pgd_bind_int64(q, 1, lock_key(space, 0));
    if(pgd_step(q) != DB_ROW)
        rc = db_fail(c, "lock");
    else if(!pgd_int64(q, 0))
        rc = sam_fail(SAM_ECONFLICT, "the lock is held");
    pgd_release(q);
    return rc;
}

static int pgd_notify(struct dbc *c, const char *channel)
{
    struct dbq *q;
    int rc = pgd_prepare(c, "SELECT pg_notify(?1, '')", &q);
    if(rc)
        return rc;
    pgd_bind_text(q, 1, channel);
    if(pgd_step(q) == DB_ERROR)
        rc = db_fail(c, "notify");
    pgd_release(q);
    return rc;
}

static int pgd_wait_notify(struct dbc *c, const char *const *channels, int nch, int timeout_ms, unsigned *counts)
{
    struct pgc *p = PGC(c);
    PGnotify *n;
    struct pollfd pfd;
    int got = 0;
    if(ensure(p))
        return db_fail(c, "listen");
    if(p->listening != p->generation + 1) {
        for(int i = 0; i < nch; i++) {
            char sql[96];
            /* the channels are the store's own names (letters and _), never a caller's */
            snprintf(sql, sizeof(sql), "LISTEN \"%s\"", channels[i]);
            if(pgd_exec(c, sql))
                return db_fail(c, "listen");
        }
        p->listening = p->generation + 1;
    }
    for(int round = 0; round < 2; round++) {
        if(!PQconsumeInput(p->conn)) {
            snprintf(p->base.errmsg, sizeof(p->base.errmsg), "%s", PQerrorMessage(p->conn));
            p->base.err = DB_ECONN;
            return db_fail(c, "listen");
        }
        while((n = PQnotifies(p->conn))) {
            for(int i = 0; i < nch; i++)
                if(!strcmp(n->relname, channels[i]))
                    counts[i]++;
            got = 1;
            PQfreemem(n);
        }
        if(got || round)
            return SAM_OK;
        pfd.fd = PQsocket(p->conn);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if(pfd.fd < 0 || poll(&pfd, 1, timeout_ms) <= 0)
            return SAM_OK;
    }
    return SAM_OK;
}

static int pgd_sync_ids(struct dbc *c, const char *table)
{
    struct dbq *q;
    char sql[400];
    int rc;
    /* table is one of the store's own names (copy.c's list), never a caller's */
    snprintf(sql, sizeof(sql),
             "SELECT setval(pg_get_serial_sequence('%s', 'id'), coalesce(max(id), 0) + 1, false) FROM \"%s\"",
             table, table);
    rc = pgd_prepare_once(c, sql, &q);
    if(rc)
        return rc;
    if(pgd_step(q) == DB_ERROR)
        rc = db_fail(c, "identity");
    pgd_release(q);
    return rc;
}

const struct db_driver db_pg_driver = {
    .name = "postgres",
    .connect = pgd_connect,
    .close = pgd_close,
    .prepare = pgd_prepare,
    .prepare_once = pgd_prepare_once,
    .release = pgd_release,
    .bind_int64 = pgd_bind_int64,
    .bind_text = pgd_bind_text,
    .bind_blob = pgd_bind_blob,
    .bind_null = pgd_bind_null,
    .step = pgd_step,
    .changes = pgd_changes,
    .ncols = pgd_ncols,
    .is_null = pgd_is_null,
    .int64 = pgd_int64,
    .text = pgd_text,
    .blob = pgd_blob,
    .column_info = pgd_column_info,
    .exec = pgd_exec,
    .begin_sql = "BEGIN ISOLATION LEVEL SERIALIZABLE",
    .begin_locking_sql = "BEGIN ISOLATION LEVEL READ COMMITTED",
    .tx_attempts = 8,
    .fragment = pgd_fragment,
    .has_table = pgd_has_table,
    .migrations_lock = pgd_migrations_lock,
    .lock_xact = pgd_lock_xact,
    .lock_session = pgd_lock_session,
    .notify = pgd_notify,
    .wait_notify = pgd_wait_notify,
    .data_version = NULL,
    .stats = pgd_stats,
    .integrity = pgd_integrity,
    .sync_ids = pgd_sync_ids,
    .backup = NULL,
};
