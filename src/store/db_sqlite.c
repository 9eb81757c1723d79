/*
 * db_sqlite.c: the SQLite driver of db.h.
 *
 * The database runs in WAL mode with foreign keys on, synchronous=FULL (a committed
 * publish survives a power cut, so it is never repeated) and a busy timeout, so the CLI
 * can work beside a running server. The writer keeps a 16 MiB page cache (SQLite's default
 * is 2 MB): it is the one cache a commit does not drop, and what planning reads through
 * (db_reads_on_writer). The pool's first connection is the one writer;
 * the others are opened read-only and read beside it. Transactions begin IMMEDIATE, so a
 * transaction that checks and then changes holds the write lock from its first read.
 * The database file and its -wal and -shm files are readable by their owner only.
 *
 * An INSERT of one row ending in "RETURNING table.id" runs without its RETURNING clause,
 * and the new rowid is handed back as the row it would have returned: SQLite gathers a
 * RETURNING clause's rows in a temporary table, whose page cache (about 85 KB) it
 * allocates, fills and frees at every execution (planning a post made two of them).
 *
 * SQLite also builds a temporary b-tree for a CHECK (x IN (...)) of more than two values,
 * at every insert that checks one (a post checks three), each with a page cache of about
 * 85 KB it allocates and frees. glibc gives freed memory at the top of the heap back to
 * the system past 128 KB, so each of those caches came back as fresh pages, faulted in one
 * by one: 140,000 page faults for 10,000 posts planned, and more than twice as many for
 * twice the posts. The first connection raises that threshold, for the whole process, to
 * TRIM_KEEP at the top of each heap (memory the process had in use anyway), which leaves a
 * few thousand; allocations of MMAP_FROM and more still go back to the system at once.
 */
#include "store/db.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STMT_CACHE 256 /* more than the store has statements */
#define STMT_PROBE 8    /* entries looked at for one statement */

struct sqq {
    struct dbq base;
    sqlite3_stmt *st;
    int cached;
    /* rowid: an INSERT prepared without its "RETURNING table.id"; then given: 0 before
     * its step, 1 while its one row (the new id) is current, 2 after. */
    int rowid, given;
    int64_t id;
    char idtext[24];
};

struct sqc {
    struct dbc base;
    sqlite3 *db;
    /* Prepared statements kept for reuse, keyed by the address of their SQL text (every
     * statement of the store is a string literal). A statement lives in one of the
     * STMT_PROBE entries after its hash; when all of them hold others, the one used least
     * recently makes room, so no two statements keep preparing each other out. */
    struct {
        const char *sql;
        struct sqq q;
        int busy;
        uint64_t used; /* tick of the last use */
    } cache[STMT_CACHE];
    uint64_t tick;
};

#define SQC(c) ((struct sqc *)(c))
#define SQQ(q) ((struct sqq *)(q))

/* Records the connection's last error: its class, and the engine's words. */
static void note_error(struct sqc *s, int rc)
{
    int ext = sqlite3_extended_errcode(s->db);
    if(ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        s->base.err = DB_EUNIQUE;
    else if(ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        s->base.err = DB_EFOREIGN;
    else if(rc == SQLITE_BUSY || rc == SQLITE_LOCKED || (ext & 0xff) == SQLITE_BUSY)
        s->base.err = DB_ERETRY;
    else
        s->base.err = DB_EOTHER;
    snprintf(s->base.errmsg, sizeof(s->base.errmsg), "%s", sqlite3_errmsg(s->db));
}

static int mkdirs_for(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if(!slash || slash == dir)
        return SAM_OK;
    *slash = '\0';
    for(char *p = dir + 1; *p; p++) {
        if(*p == '/') {
            *p = '\0';
            if(mkdir(dir, 0700) && errno != EEXIST)
                return sam_fail(SAM_EIO, "cannot create directory %s: %s", dir, strerror(errno));
            *p = '/';
        }
    }
    if(mkdir(dir, 0700) && errno != EEXIST)
        return sam_fail(SAM_EIO, "cannot create directory %s: %s", dir, strerror(errno));
    return SAM_OK;
}

/* Makes path exist as a file only its owner can read and write (0600), before SQLite
 * opens it: SQLite gives the -wal and -shm files the database file's mode, so they follow.
 * A file left readable by others (by an older version) is closed up. */
static int private_file(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if(fd < 0)
        return sam_fail(SAM_ESTORE, "cannot open database %s: %s", path, strerror(errno));
    close(fd);
    for(size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char f[4200];
        struct stat sb;
        snprintf(f, sizeof(f), "%s%s", path, suffixes[i]);
        if(!stat(f, &sb) && (sb.st_mode & 077) && chmod(f, 0600))
            return sam_fail(SAM_EIO, "cannot make %s private (chmod 600): %s", f, strerror(errno));
    }
    return SAM_OK;
}

static void sq_close(struct dbc *c)
{
    struct sqc *s = SQC(c);
    for(size_t i = 0; i < STMT_CACHE; i++)
        if(s->cache[i].q.st)
            sqlite3_finalize(s->cache[i].q.st);
    sqlite3_close_v2(s->db);
    free(s);
}

static int sq_exec(struct dbc *c, const char *sql)
{
    struct sqc *s = SQC(c);
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if(rc != SQLITE_OK) {
        note_error(s, rc);
        return DB_ERROR;
    }
    return SAM_OK;
}

#define TRIM_KEEP (16 << 20)  /* bytes of free heap top kept (see the top of this file) */
#define MMAP_FROM (4 << 20)   /* allocations from this size on are mapped on their own */

static void keep_heap_top(void)
{
#ifdef __GLIBC__
    /* Setting one threshold stops glibc from sliding the other (mallopt(3)): without
     * M_MMAP_THRESHOLD every allocation from 128 KB on would be mapped and unmapped each
     * time. What an operator set in the environment stays. */
    const char *tunables = getenv("GLIBC_TUNABLES");
    if(getenv("MALLOC_TRIM_THRESHOLD_") || getenv("MALLOC_MMAP_THRESHOLD_") ||
       (tunables && strstr(tunables, "glibc.malloc.")))
        return;
    (void)mallopt(M_MMAP_THRESHOLD, MMAP_FROM);
    (void)mallopt(M_TRIM_THRESHOLD, TRIM_KEEP);
#endif
}

static int sq_connect(const char *path, int write, struct dbc **out)
{
    static pthread_once_t tuned = PTHREAD_ONCE_INIT;
    struct sqc *s;
    int rc, flags;
    *out = NULL;
    (void)pthread_once(&tuned, keep_heap_top);
    if(write) {
        rc = mkdirs_for(path);
        if(!rc && strcmp(path, ":memory:"))
            rc = private_file(path);
        if(rc)
            return rc;
    }
    s = calloc(1, sizeof(*s));
    if(!s)
        return SAM_ENOMEM;
    s->base.drv = &db_sqlite_driver;
    s->base.write = write;
    flags = (write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
    rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if(rc != SQLITE_OK) {
        rc = sam_fail(SAM_ESTORE, "cannot open database %s: %s", path,
                      s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sq_close(&s->base);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    if(write && sq_exec(&s->base, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA cache_size=-16384;")) {
        rc = sam_fail(SAM_ESTORE, "configure database %s: %s", path, s->base.errmsg);
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return SAM_OK;
}

/* The length of sql without its trailing " RETURNING table.id" when sql inserts one row
 * into that table and may run without it (see the top of this file); else 0. */
static size_t rowid_insert(const char *sql)
{
    const char *into = "INSERT INTO ", *ret = strstr(sql, " RETURNING "), *name, *p;
    size_t nlen;
    if(strncmp(sql, into, strlen(into)) || !ret || strstr(ret + 1, " RETURNING "))
        return 0;
    name = sql + strlen(into);
    nlen = strcspn(name, "( ");
    p = ret + strlen(" RETURNING ");
    if(!nlen || strncmp(p, name, nlen) || strcmp(p + nlen, ".id"))
        return 0;
    /* One row of VALUES; no SELECT, and no DO UPDATE (its row is not a new rowid). */
    if(!strstr(sql, " VALUES (") || strstr(sql, "SELECT") || strstr(sql, "DO UPDATE") || strstr(sql, "),") ||
       strstr(sql, ") ,"))
        return 0;
    return (size_t)(ret - sql);
}

static int sq_prepare(struct dbc *c, const char *sql, struct dbq **out)
{
    struct sqc *s = SQC(c);
    size_t h = ((uintptr_t)sql >> 3) * 0x9e3779b1u, room = STMT_CACHE;
    sqlite3_stmt *st;
    struct sqq *q;
    size_t cut;
    int rc;
    s->tick++;
    for(size_t k = 0; k < STMT_PROBE; k++) {
        size_t at = (h + k) % STMT_CACHE;
        if(s->cache[at].busy)
            continue; /* in use (perhaps this very statement, by a caller up the stack) */
        if(s->cache[at].sql == sql && s->cache[at].q.st) {
            s->cache[at].busy = 1;
            s->cache[at].used = s->tick;
            *out = &s->cache[at].q.base;
            return SAM_OK;
        }
        /* The entry a new statement takes: the first empty one, else the least recently used. */
        if(room == STMT_CACHE || (s->cache[room].q.st && (!s->cache[at].q.st || s->cache[at].used < s->cache[room].used)))
            room = at;
    }
    cut = rowid_insert(sql);
    rc = sqlite3_prepare_v3(s->db, sql, cut ? (int)cut : -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if(rc != SQLITE_OK) {
        note_error(s, rc);
        return db_fail(c, "prepare");
    }
    if(room < STMT_CACHE) {
        if(s->cache[room].q.st)
            sqlite3_finalize(s->cache[room].q.st);
        s->cache[room].sql = sql;
        s->cache[room].busy = 1;
        s->cache[room].used = s->tick;
        q = &s->cache[room].q;
        q->cached = 1;
    } else if(!(q = calloc(1, sizeof(*q)))) { /* every entry it may take is in use: this use only */
        sqlite3_finalize(st);
        return SAM_ENOMEM;
    }
    q->base.c = c;
    q->st = st;
    q->rowid = cut > 0;
    q->given = 0;
    *out = &q->base;
    return SAM_OK;
}

static int sq_prepare_once(struct dbc *c, const char *sql, struct dbq **out)
{
    struct sqc *s = SQC(c);
    struct sqq *q = calloc(1, sizeof(*q));
    size_t cut = rowid_insert(sql);
    int rc;
    *out = NULL;
    if(!q)
        return SAM_ENOMEM;
    q->rowid = cut > 0;
    rc = sqlite3_prepare_v2(s->db, sql, cut ? (int)cut : -1, &q->st, NULL);
    if(rc != SQLITE_OK) {
        free(q);
        note_error(s, rc);
        return db_fail(c, "prepare");
    }
    q->base.c = c;
    *out = &q->base;
    return SAM_OK;
}

static int sq_column_info(struct dbq *q, int i, const char **name, int *cls)
{
    const char *decl = sqlite3_column_decltype(SQQ(q)->st, i);
    *name = sqlite3_column_name(SQQ(q)->st, i);
    if(!*name || !decl)
        return SAM_EINTERNAL;
    /* SQLite's rules of type affinity: INT anywhere makes an integer, BLOB a blob. */
    *cls = strstr(decl, "INT") ? DB_INT : strstr(decl, "BLOB") ? DB_BLOB : DB_TEXT;
    return SAM_OK;
}

static void sq_release(struct dbq *qq)
{
    struct sqq *q = SQQ(qq);
    struct sqc *s = SQC(qq->c);
    if(q->cached) {
        size_t i = (size_t)((char *)q - (char *)&s->cache[0].q) / sizeof(s->cache[0]);
        sqlite3_reset(q->st);
        sqlite3_clear_bindings(q->st);
        q->given = 0;
        s->cache[i].busy = 0;
        return;
    }
    sqlite3_finalize(q->st);
    free(q);
}

static void sq_bind_int64(struct dbq *q, int i, int64_t v)
{
    sqlite3_bind_int64(SQQ(q)->st, i, v);
}

static void sq_bind_text(struct dbq *q, int i, const char *v)
{
    sqlite3_bind_text(SQQ(q)->st, i, v, -1, SQLITE_TRANSIENT);
}

static void sq_bind_blob(struct dbq *q, int i, const void *p, size_t n)
{
    sqlite3_bind_blob(SQQ(q)->st, i, p, (int)n, SQLITE_TRANSIENT);
}

static void sq_bind_null(struct dbq *q, int i)
{
    sqlite3_bind_null(SQQ(q)->st, i);
}

static int sq_step(struct dbq *q)
{
    struct sqq *x = SQQ(q);
    int rc;
    if(x->rowid && x->given)
        return x->given = 2, DB_DONE;
    rc = sqlite3_step(x->st);
    if(x->rowid && rc == SQLITE_DONE) {
        sqlite3 *db = SQC(q->c)->db;
        x->given = 2;
        if(sqlite3_changes(db) < 1) /* ON CONFLICT DO NOTHING that did nothing: no row */
            return DB_DONE;
        x->id = sqlite3_last_insert_rowid(db);
        snprintf(x->idtext, sizeof(x->idtext), "%lld", (long long)x->id);
        x->given = 1;
        return DB_ROW;
    }
    if(rc == SQLITE_ROW)
        return DB_ROW;
    if(rc == SQLITE_DONE)
        return DB_DONE;
    note_error(SQC(q->c), rc);
    return DB_ERROR;
}

static int sq_changes(struct dbq *q)
{
    return sqlite3_changes(SQC(q->c)->db);
}

static int sq_ncols(struct dbq *q)
{
    if(SQQ(q)->rowid)
        return 1;
    return sqlite3_column_count(SQQ(q)->st);
}

static int sq_is_null(struct dbq *q, int i)
{
    if(SQQ(q)->rowid)
        return SQQ(q)->given != 1;
    return sqlite3_column_type(SQQ(q)->st, i) == SQLITE_NULL;
}

static int64_t sq_int64(struct dbq *q, int i)
{
    if(SQQ(q)->rowid)
        return SQQ(q)->given == 1 ? SQQ(q)->id : 0;
    return sqlite3_column_int64(SQQ(q)->st, i);
}

static const char *sq_text(struct dbq *q, int i)
{
    if(SQQ(q)->rowid)
        return SQQ(q)->given == 1 ? SQQ(q)->idtext : "";
    const unsigned char *t = sqlite3_column_text(SQQ(q)->st, i);
    return t ? (const char *)t : "";
}

static const void *sq_blob(struct dbq *q, int i, size_t *n)
{
    if(SQQ(q)->rowid)
        return *n = 0, NULL;
    const void *b = sqlite3_column_blob(SQQ(q)->st, i);
    *n = b ? (size_t)sqlite3_column_bytes(SQQ(q)->st, i) : 0;
    return b;
}

static const char *sq_fragment(const char *name)
{
    if(!strcmp(name, "id"))
        return "INTEGER PRIMARY KEY AUTOINCREMENT";
    if(!strcmp(name, "blob"))
        return "BLOB";
    if(!strcmp(name, "nocase"))
        return "COLLATE NOCASE";
    return NULL;
}

static int64_t scalar(struct sqc *s, const char *sql)
{
    sqlite3_stmt *q;
    int64_t v = -1;
    if(sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return -1;
    if(sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static int sq_data_version(struct dbc *c, int64_t *v)
{
    struct dbq *q = NULL;
    int rc = sq_prepare(c, "PRAGMA data_version", &q);
    if(rc)
        return rc;
    if(sq_step(q) == DB_ROW)
        *v = sq_int64(q, 0);
    else
        rc = db_fail(c, "data version");
    sq_release(q);
    return rc;
}

static int sq_has_table(struct dbc *c, const char *name, int *yes)
{
    struct dbq *q = NULL;
    int rc = sq_prepare(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", &q);
    *yes = 0;
    if(rc)
        return rc;
    sq_bind_text(q, 1, name);
    if(sq_step(q) == DB_ROW)
        *yes = sq_int64(q, 0) > 0;
    else
        rc = db_fail(c, "schema");
    sq_release(q);
    return rc;
}

static int sq_stats(struct dbc *c, struct db_stats *o)
{
    struct sqc *s = SQC(c);
    int64_t psize = scalar(s, "PRAGMA page_size");
    o->db_bytes = scalar(s, "PRAGMA page_count") * psize;
    o->free_bytes = scalar(s, "PRAGMA freelist_count") * psize;
    return SAM_OK;
}

static int sq_integrity(struct dbc *c, char *msg, size_t n)
{
    struct sqc *s = SQC(c);
    sqlite3_stmt *q;
    int rc = SAM_OK;
    if(sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK) {
        note_error(s, SQLITE_ERROR);
        return db_fail(c, "integrity check");
    }
    if(sqlite3_step(q) == SQLITE_ROW)
        snprintf(msg, n, "%s", (const char *)sqlite3_column_text(q, 0));
    else
        snprintf(msg, n, "no answer");
    sqlite3_finalize(q);
    if(strcmp(msg, "ok"))
        rc = sam_fail(SAM_ESTORE, "integrity check failed: %s", msg);
    return rc;
}

/* A consistent copy of the live database into dest, through a partial file renamed at
 * the end. The writer connection is the source, so writes made meanwhile by other
 * processes only make a step wait. */
static int sq_backup(struct dbc *c, const char *dest, void (*fn)(int, int, void *), void *arg)
{
    struct sqc *s = SQC(c);
    char tmp[4096];
    sqlite3 *out = NULL;
    sqlite3_backup *b;
    int rc = SAM_OK, r;

    if((size_t)snprintf(tmp, sizeof(tmp), "%s.partial", dest) >= sizeof(tmp))
        return sam_fail(SAM_EINVAL, "backup path too long");
    unlink(tmp);
    if((rc = private_file(tmp)))
        goto out;
    r = sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if(r != SQLITE_OK) {
        rc = sam_fail(SAM_EIO, "cannot create %s: %s", tmp, out ? sqlite3_errmsg(out) : sqlite3_errstr(r));
        goto out;
    }
    b = sqlite3_backup_init(out, "main", s->db, "main");
    if(!b) {
        rc = sam_fail(SAM_ESTORE, "backup: %s", sqlite3_errmsg(out));
        goto out;
    }
    do {
        r = sqlite3_backup_step(b, 256);
        if(fn)
            fn(sqlite3_backup_remaining(b), sqlite3_backup_pagecount(b), arg);
        if(r == SQLITE_BUSY || r == SQLITE_LOCKED)
            sqlite3_sleep(20); /* another process writes; the step resumes where it was */
    } while(r == SQLITE_OK || r == SQLITE_BUSY || r == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if(r != SQLITE_DONE) {
        rc = sam_fail(SAM_ESTORE, "backup: %s", sqlite3_errstr(r));
        goto out;
    }
    r = sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    sqlite3_close(out);
    out = NULL;
    if(rename(tmp, dest)) {
        rc = sam_fail(SAM_EIO, "cannot move the backup to %s: %s", dest, strerror(errno));
        goto out;
    }
out:
    if(out)
        sqlite3_close(out);
    if(rc)
        unlink(tmp);
    return rc;
}

const struct db_driver db_sqlite_driver = {
    .name = "sqlite",
    .connect = sq_connect,
    .close = sq_close,
    .prepare = sq_prepare,
    .prepare_once = sq_prepare_once,
    .release = sq_release,
    .bind_int64 = sq_bind_int64,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .changes = sq_changes,
    .ncols = sq_ncols,
    .is_null = sq_is_null,
    .int64 = sq_int64,
    .text = sq_text,
    .blob = sq_blob,
    .column_info = sq_column_info,
    .exec = sq_exec,
    .begin_sql = "BEGIN IMMEDIATE",
    .begin_locking_sql = "BEGIN IMMEDIATE",
    .tx_attempts = 2,
    .fragment = sq_fragment,
    .has_table = sq_has_table,
    .migrations_lock = NULL,
    .lock_xact = NULL,
    .lock_session = NULL,
    .notify = NULL,
    .wait_notify = NULL,
    .data_version = sq_data_version,
    .stats = sq_stats,
    .integrity = sq_integrity,
    .sync_ids = NULL,
    .backup = sq_backup,
};
