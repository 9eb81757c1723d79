/*
 * db.h: the small driver under the store (internal to src/store/).
 *
 * The queries of sql.c are written once, in a portable subset of SQL that SQLite 3.40 and
 * PostgreSQL 15 run the same way (docs/architecture.md, "One store, two engines"):
 * positional parameters ?1, ?2, ... (the PostgreSQL driver rewrites them to $1, $2),
 * RETURNING qualified by table name instead of a last-insert id, ON CONFLICT ... DO
 * NOTHING / DO UPDATE, instants as int64 bound from C, booleans as 0/1 integers, CAST for
 * typed NULLs, and ORDER BY ..., id on every list. A driver per engine fills struct
 * db_driver, the way Dovecot's lib-sql does: prepare (cached per connection), bind, step,
 * column, changes, begin/commit/rollback, and one classification of errors, which db.c
 * turns into samtale's codes in one place.
 *
 * Connections come from a pool (db_take/db_give): on SQLite, one writer and a few
 * read-only connections (WAL lets readers run beside the writer); on PostgreSQL, up to
 * db_pool connections, any of which may write. A transaction runs through db_tx, which
 * retries it a bounded number of times when the engine asks for that (SQLite busy,
 * PostgreSQL serialization failure or deadlock).
 */
#ifndef SAM_STORE_DB_H
#define SAM_STORE_DB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* What db_step answers. */
enum { DB_ROW = 1, DB_DONE = 2, DB_ERROR = 3 };

/* Classes of columns (column_info). */
enum { DB_INT = 1, DB_TEXT = 2, DB_BLOB = 3 };

/* The class of an engine error: the one translation every driver makes. */
enum db_errclass {
    DB_EOK = 0,
    DB_EUNIQUE,   /* a unique or primary key constraint */
    DB_EFOREIGN,  /* a foreign key constraint */
    DB_ERETRY,    /* try the transaction again: busy, serialization failure, deadlock */
    DB_ECONN,     /* the connection is gone */
    DB_EOTHER
};

struct db_driver;

/* A connection; each driver's own struct starts with this. */
struct dbc {
    const struct db_driver *drv;
    int write;                /* may write */
    int err;                  /* enum db_errclass of the last failure */
    char errmsg[300];
    struct db_pool *pool;
};

/* A statement in use; each driver's own struct starts with this. */
struct dbq {
    struct dbc *c;
};

struct db_stats {
    int64_t db_bytes, free_bytes;
};

struct db_driver {
    const char *name;         /* "sqlite", "postgres": also the suffix of per-engine migrations */
    /* Opens a connection to target (a path, or a libpq connection string); write 0 asks
     * for a read-only one where the engine has them. */
    int (*connect)(const char *target, int write, struct dbc **out);
    void (*close)(struct dbc *c);
    /* prepare answers SAM_OK or a samtale code (through db_fail). sql must be a string
     * literal (statements are cached by its address); prepare_once takes any text and
     * keeps nothing. */
    int (*prepare)(struct dbc *c, const char *sql, struct dbq **out);
    int (*prepare_once)(struct dbc *c, const char *sql, struct dbq **out);
    void (*release)(struct dbq *q);
    void (*bind_int64)(struct dbq *q, int i, int64_t v);
    void (*bind_text)(struct dbq *q, int i, const char *v);
    void (*bind_blob)(struct dbq *q, int i, const void *p, size_t n);
    void (*bind_null)(struct dbq *q, int i);
    int (*step)(struct dbq *q);               /* DB_ROW, DB_DONE or DB_ERROR */
    int (*changes)(struct dbq *q);            /* rows changed by the last step */
    int (*ncols)(struct dbq *q);
    int (*is_null)(struct dbq *q, int i);
    int64_t (*int64)(struct dbq *q, int i);
    const char *(*text)(struct dbq *q, int i);             /* "" for NULL */
    const void *(*blob)(struct dbq *q, int i, size_t *n);  /* NULL for NULL */
    /* A result column's name and class (DB_INT, DB_TEXT, DB_BLOB, from its declared type),
     * known once the statement ran (PostgreSQL) or was prepared (SQLite). */
    int (*column_info)(struct dbq *q, int i, const char **name, int *cls);
    /* Runs statements without parameters (migrations, BEGIN): SAM_OK or DB_ERROR's code. */
    int (*exec)(struct dbc *c, const char *sql);
    const char *begin_sql;    /* BEGIN IMMEDIATE; BEGIN ISOLATION LEVEL SERIALIZABLE */
    /* A transaction that takes its own locks (db_lock_xact, FOR UPDATE) and reads what
     * others committed meanwhile: BEGIN IMMEDIATE; READ COMMITTED on PostgreSQL. */
    const char *begin_locking_sql;
    int tx_attempts;          /* how often db_tx runs a transaction the engine failed with
                               * DB_ERETRY (SQLite has waited out its busy timeout by then) */
    /* The named fragments of migration files ({{id}}, {{blob}}, {{nocase}}); NULL for an
     * unknown name. */
    const char *(*fragment)(const char *name);
    int (*has_table)(struct dbc *c, const char *name, int *yes);
    /* Taken around migrations so processes starting together do not race (PostgreSQL:
     * an advisory lock); NULL where the migration's own transaction is enough. */
    int (*migrations_lock)(struct dbc *c, int take);
    int (*stats)(struct dbc *c, struct db_stats *out);
    int (*integrity)(struct dbc *c, char *msg, size_t n);
    /* In a transaction begun with begin_locking_sql: waits for the lock (space, id), held
     * until the transaction ends (PostgreSQL: an advisory lock). NULL where the
     * transaction itself is the lock (SQLite's one writer). */
    int (*lock_xact)(struct dbc *c, int space, int64_t id);
    /* A lock every process on the database sees, held by this connection until it is
     * let go: PostgreSQL's session advisory lock. mode DB_LOCK_WAIT waits (lock_timeout),
     * DB_LOCK_TRY answers SAM_ECONFLICT when it is held, DB_LOCK_FREE lets go. NULL where
     * store_lock uses a lock file (SQLite). */
    int (*lock_session)(struct dbc *c, int space, int mode);
    /* Tells the other processes on the database (PostgreSQL NOTIFY); and waits up to
     * timeout_ms for such words on any of n channels on a connection that listens to them
     * (counts[i] grows by the words on channels[i]).
     * NULL where one process has the database (SQLite). */
    int (*notify)(struct dbc *c, const char *channel);
    int (*wait_notify)(struct dbc *c, const char *const *channels, int n, int timeout_ms, unsigned *counts);
    /* A number that changes whenever another connection (any process) committed a change
     * (SQLite's data_version); NULL where notify carries that. */
    int (*data_version)(struct dbc *c, int64_t *v);
    /* After rows were copied in with their ids: the table's identity goes on past them
     * (PostgreSQL); NULL where the engine does that by itself (SQLite). */
    int (*sync_ids)(struct dbc *c, const char *table);
    /* A consistent copy into dest; NULL where the engine has its own tools (pg_dump). */
    int (*backup)(struct dbc *c, const char *dest, void (*fn)(int, int, void *), void *arg);
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

#define DB_POOL_MAX 32

struct db_pool {
    const struct db_driver *drv;
    char *target;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int single_writer;        /* SQLite: conns[0] is the only one that writes */
    int max;
    int n;
    struct dbc *conns[DB_POOL_MAX];
    int busy[DB_POOL_MAX];
    int writes_waiting;       /* threads waiting in db_take for a write */
};

int db_pool_open(const struct db_driver *drv, const char *target, int max, struct db_pool **out);
void db_pool_close(struct db_pool *p);
/* A connection for a read (write 0) or a write; waits while all are in use. */
int db_take(struct db_pool *p, int write, struct dbc **out);
void db_give(struct db_pool *p, struct dbc *c);
/* While on (for the calling thread), its reads take SQLite's writer when the writer is
 * idle, so a thread that reads and then writes (planning) reads through the page cache
 * its own writes keep: a reader's cache is dropped whole at every commit. The thread
 * must give a read's connection back before it writes (every store function does). */
void db_reads_on_writer(int on);

/* Records the connection's last error for people (sam_fail) and answers its code:
 * SAM_ECONFLICT for a unique violation, SAM_ENOTFOUND for a foreign key, SAM_ESTORE else. */
int db_fail(struct dbc *c, const char *what);

/* Runs body(c, arg) in one transaction on a write connection: committed when it answers
 * SAM_OK, rolled back otherwise; run again when the
 * engine failed it with DB_ERETRY (at most the driver's tx_attempts times in all). body must
 * be safe to run again from the start. */
int db_tx(struct db_pool *p, int (*body)(struct dbc *c, void *arg), void *arg);
/* Like db_tx, begun with the driver's begin_locking_sql: for a body that takes its locks
 * with db_lock_xact and FOR UPDATE (DB_VARIANT) and must see what others committed. */
int db_tx_locking(struct db_pool *p, int (*body)(struct dbc *c, void *arg), void *arg);

/* Lock spaces of db_lock_xact (store locks use 16 + their kind). */
enum { DB_LOCK_CHANNEL = 1 };
enum { DB_LOCK_FREE = 0, DB_LOCK_WAIT = 1, DB_LOCK_TRY = 2 };
static inline int db_lock_xact(struct dbc *c, int space, int64_t id)
{
    return c->drv->lock_xact ? c->drv->lock_xact(c, space, id) : 0;
}

/* One statement written twice, where the engines must differ (a closed, counted list:
 * tests/integration/test_sql_rules.py): the SQLite text, then the PostgreSQL one. */
#define DB_VARIANT(c, sqlite_sql, postgres_sql) ((c)->drv == &db_pg_driver ? (postgres_sql) : (sqlite_sql))

/* Applies the embedded migrations not yet applied; *version gets the schema version. */
int db_migrate(struct db_pool *p, int *version);
int db_schema_version(struct dbc *c, int *version);
/* The version the embedded migrations lead to. Their numbers increase and may leave gaps
 * (work done side by side reserves numbers): a number no file has is passed over, and
 * db_migrate applies every migration not recorded yet, in number order, so one merged
 * later under a lower number is applied too. */
int db_latest_version(void);
/* How many embedded migrations the database has not recorded as applied (the pending ones,
 * a number below the highest applied among them when work landed out of order). */
int db_pending(struct db_pool *p, int *n);
/* The text of migration `name` for this driver with its fragments expanded (malloc'd);
 * SAM_EINVAL names an unknown fragment. */
int db_migration_text(const struct db_driver *drv, const char *text, char **out);

/* Rewrites ?N parameters to $N outside quotes (for libpq); malloc'd. A bare ? is refused
 * (SAM_EINVAL): every statement numbers its parameters. */
int db_dollar_params(const char *sql, char **out);

/* Convenience wrappers over the driver. */
static inline int db_prep(struct dbc *c, const char *sql, struct dbq **q)
{
    return c->drv->prepare(c, sql, q);
}
static inline void db_release(struct dbq *q)
{
    if(q)
        q->c->drv->release(q);
}
static inline void db_bind_int64(struct dbq *q, int i, int64_t v)
{
    q->c->drv->bind_int64(q, i, v);
}
static inline void db_bind_text(struct dbq *q, int i, const char *v)
{
    q->c->drv->bind_text(q, i, v);
}
static inline void db_bind_blob(struct dbq *q, int i, const void *p, size_t n)
{
    q->c->drv->bind_blob(q, i, p, n);
}
static inline void db_bind_null(struct dbq *q, int i)
{
    q->c->drv->bind_null(q, i);
}
static inline int db_step(struct dbq *q)
{
    return q->c->drv->step(q);
}
static inline int db_changes(struct dbq *q)
{
    return q->c->drv->changes(q);
}
static inline int db_ncols(struct dbq *q)
{
    return q->c->drv->ncols(q);
}
static inline int db_is_null(struct dbq *q, int i)
{
    return q->c->drv->is_null(q, i);
}
static inline int64_t db_int64(struct dbq *q, int i)
{
    return q->c->drv->int64(q, i);
}
static inline int db_int(struct dbq *q, int i)
{
    return (int)q->c->drv->int64(q, i);
}
static inline const char *db_text(struct dbq *q, int i)
{
    return q->c->drv->text(q, i);
}
static inline const void *db_blob(struct dbq *q, int i, size_t *n)
{
    return q->c->drv->blob(q, i, n);
}

#endif
