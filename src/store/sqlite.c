/*
 * sqlite.c: the SQLite backend of store.h.
 *
 * One connection per process, guarded by a mutex: every store function holds it for its
 * whole run, so a function's statements form one unit, and functions that must check and
 * change together (the last-owner rule) run in one IMMEDIATE transaction. The database
 * runs in WAL mode with foreign keys on, synchronous=FULL (a committed publish survives a
 * power cut, so it is never repeated) and a busy timeout, so the CLI can work beside a
 * running server. Every statement is prepared with bound parameters; only the embedded
 * migrations are executed as text.
 */
#include "store/store.h"
#include "util/embed.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct embedded_file migrations_files[];
extern const size_t migrations_count;

#define STMT_CACHE 128

struct sq {
    struct store base;
    sqlite3 *db;
    pthread_mutex_t mu;
    /* Prepared statements kept for reuse, keyed by the address of their SQL text (every
     * statement here is a string literal). Used only under mu. */
    struct {
        const char *sql;
        sqlite3_stmt *st;
        int busy;
    } cache[STMT_CACHE];
};

#define SQ(st) ((struct sq *)(st))

/* Translates a SQLite result into a samtale code, once, here. */
static int sq_err(struct sq *s, int rc, const char *what)
{
    int ext = sqlite3_extended_errcode(s->db);
    if(ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return sam_fail(SAM_ECONFLICT, "%s: already exists", what);
    if(ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return sam_fail(SAM_ENOTFOUND, "%s: a referenced object does not exist", what);
    if(rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return sam_fail(SAM_ESTORE, "%s: the database is busy; try again", what);
    return sam_fail(SAM_ESTORE, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* A prepared statement for sql, from the cache when it was prepared before (reset, no
 * bindings). The caller hands it back with release(), never sqlite3_finalize. */
static int prep(struct sq *s, const char *sql, sqlite3_stmt **st)
{
    size_t slot = ((uintptr_t)sql >> 3) % STMT_CACHE;
    int rc;
    if(s->cache[slot].sql == sql && s->cache[slot].st && !s->cache[slot].busy) {
        s->cache[slot].busy = 1;
        *st = s->cache[slot].st;
        return SAM_OK;
    }
    rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if(rc != SQLITE_OK)
        return sq_err(s, rc, "prepare");
    if(!s->cache[slot].st) { /* a free slot keeps it; otherwise it lives for this use only */
        s->cache[slot].sql = sql;
        s->cache[slot].st = *st;
        s->cache[slot].busy = 1;
    }
    return SAM_OK;
}

/* Gives a statement back: reset and kept when it is cached, else finalized. */
static void release(struct sq *s, sqlite3_stmt *st)
{
    if(!st)
        return;
    for(size_t i = 0; i < STMT_CACHE; i++)
        if(s->cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            s->cache[i].busy = 0;
            return;
        }
    sqlite3_finalize(st);
}

static void lock(struct sq *s)
{
    pthread_mutex_lock(&s->mu);
}

static void unlock(struct sq *s)
{
    pthread_mutex_unlock(&s->mu);
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return strdup(t ? (const char *)t : "");
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Runs a statement that returns no rows; *changes gets the rows changed. */
static int exec_stmt(struct sq *s, sqlite3_stmt *st, const char *what, int *changes)
{
    int rc = sqlite3_step(st);
    if(rc != SQLITE_DONE && rc != SQLITE_ROW)
        return sq_err(s, rc, what);
    if(changes)
        *changes = sqlite3_changes(s->db);
    return SAM_OK;
}

static int exec_sql(struct sq *s, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if(rc != SQLITE_OK) {
        int r = sam_fail(SAM_ESTORE, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return r;
    }
    return SAM_OK;
}

/* Commits the open transaction; when the commit fails (a busy database, a full disk) the
 * transaction is rolled back, so the connection never stays inside it. */
static int commit_tx(struct sq *s, const char *what)
{
    int rc = exec_sql(s, "COMMIT", what);
    if(rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- open, close, migrations ---- */

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

static void sq_close(struct store *st)
{
    struct sq *s = SQ(st);
    for(size_t i = 0; i < STMT_CACHE; i++)
        if(s->cache[i].st)
            sqlite3_finalize(s->cache[i].st);
    sqlite3_close_v2(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int sq_schema_version_locked(struct sq *s, int *version)
{
    sqlite3_stmt *st;
    int rc;
    *version = 0;
    rc = prep(s, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'", &st);
    if(rc)
        return rc;
    rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    release(s, st);
    if(rc < 0)
        return sq_err(s, SQLITE_ERROR, "schema version");
    if(rc == 0)
        return SAM_OK;
    rc = prep(s, "SELECT coalesce(max(version), 0) FROM schema_migrations", &st);
    if(rc)
        return rc;
    if(sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    release(s, st);
    return SAM_OK;
}

static int sq_schema_version(struct store *st, int *version)
{
    struct sq *s = SQ(st);
    lock(s);
    int rc = sq_schema_version_locked(s, version);
    unlock(s);
    return rc;
}


static int sq_migrate(struct store *st, int *version)
{
    struct sq *s = SQ(st);
    int rc, cur;
    lock(s);
    rc = exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                  "migrations table");
    if(rc)
        goto out;
    rc = sq_schema_version_locked(s, &cur);
    if(rc)
        goto out;
    for(size_t i = 0; i < migrations_count; i++) {
        const struct embedded_file *m = &migrations_files[i];
        int v = atoi(m->name);
        sqlite3_stmt *ins;
        if(v <= cur)
            continue;
        rc = exec_sql(s, "BEGIN IMMEDIATE", "begin migration");
        if(rc)
            goto out;
        rc = exec_sql(s, (const char *)m->data, m->name);
        if(!rc)
            rc = prep(s, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)", &ins);
        if(!rc) {
            sqlite3_bind_int(ins, 1, v);
            bind_text(ins, 2, m->name);
            sqlite3_bind_int64(ins, 3, time_now());
            rc = exec_stmt(s, ins, "record migration", NULL);
            release(s, ins);
        }
        if(rc) {
            exec_sql(s, "ROLLBACK", "rollback migration");
            goto out;
        }
        rc = commit_tx(s, "commit migration");
        if(rc)
            goto out;
        cur = v;
    }
    *version = cur;
out:
    unlock(s);
    return rc;
}

int store_latest_version(void)
{
    int v = 0;
    for(size_t i = 0; i < migrations_count; i++)
        if(atoi(migrations_files[i].name) > v)
            v = atoi(migrations_files[i].name);
    return v;
}

static int sq_ping(struct store *st)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT 1 FROM schema_migrations LIMIT 1", &q);
    if(!rc) {
        int r = sqlite3_step(q);
        if(r != SQLITE_ROW && r != SQLITE_DONE)
            rc = sq_err(s, r, "ping");
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int64_t scalar(struct sq *s, const char *sql)
{
    sqlite3_stmt *q;
    int64_t v = -1;
    if(prep(s, sql, &q))
        return -1;
    if(sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    release(s, q);
    return v;
}

static int sq_stats(struct store *st, struct store_stats *o)
{
    struct sq *s = SQ(st);
    int rc;
    int64_t psize;
    lock(s);
    memset(o, 0, sizeof(*o));
    rc = sq_schema_version_locked(s, &o->schema_version);
    psize = scalar(s, "PRAGMA page_size");
    o->db_bytes = scalar(s, "PRAGMA page_count") * psize;
    o->free_bytes = scalar(s, "PRAGMA freelist_count") * psize;
    o->workspaces = scalar(s, "SELECT count(*) FROM workspaces");
    o->users = scalar(s, "SELECT count(*) FROM users");
    o->channels = scalar(s, "SELECT count(*) FROM channels");
    o->sessions = scalar(s, "SELECT count(*) FROM sessions");
    o->tokens = scalar(s, "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL");
    unlock(s);
    return rc;
}

static int sq_backup(struct store *st, const char *dest, store_progress_fn fn, void *arg)
{
    struct sq *s = SQ(st);
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
    lock(s);
    b = sqlite3_backup_init(out, "main", s->db, "main");
    if(!b) {
        rc = sam_fail(SAM_ESTORE, "backup: %s", sqlite3_errmsg(out));
        unlock(s);
        goto out;
    }
    do {
        r = sqlite3_backup_step(b, 256);
        if(fn)
            fn(sqlite3_backup_remaining(b), sqlite3_backup_pagecount(b), arg);
        if(r == SQLITE_BUSY || r == SQLITE_LOCKED) {
            /* Let the writer finish; the step resumes where it was. */
            unlock(s);
            sqlite3_sleep(20);
            lock(s);
        }
    } while(r == SQLITE_OK || r == SQLITE_BUSY || r == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    unlock(s);
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

static int sq_integrity_check(struct store *st, char *msg, size_t n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "PRAGMA integrity_check", &q);
    if(!rc) {
        if(sqlite3_step(q) == SQLITE_ROW)
            col_text(q, 0, msg, n);
        else
            snprintf(msg, n, "no answer");
        release(s, q);
        if(strcmp(msg, "ok"))
            rc = sam_fail(SAM_ESTORE, "integrity check failed: %s", msg);
    }
    unlock(s);
    return rc;
}

/* ---- workspaces ---- */

static void row_workspace(sqlite3_stmt *q, struct store_workspace *w)
{
    memset(w, 0, sizeof(*w));
    w->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, w->name, sizeof(w->name));
    col_text(q, 2, w->timezone, sizeof(w->timezone));
    w->created_at = sqlite3_column_int64(q, 3);
    col_text(q, 4, w->mix_preset, sizeof(w->mix_preset));
    w->require_second_factor = sqlite3_column_int(q, 5);
    if(sqlite3_column_count(q) > 6)
        col_text(q, 6, w->role, sizeof(w->role));
}

static void rd_workspace(sqlite3_stmt *q, void *p)
{
    row_workspace(q, p);
}

static int sq_workspace_insert(struct store *st, struct store_workspace *w)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO workspaces(name, timezone, created_at) VALUES (?, ?, ?)", &q);
    if(!rc) {
        bind_text(q, 1, w->name);
        bind_text(q, 2, w->timezone);
        sqlite3_bind_int64(q, 3, w->created_at);
        rc = exec_stmt(s, q, "workspace", NULL);
        if(!rc)
            w->id = sqlite3_last_insert_rowid(s->db);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int get_one(struct sq *s, sqlite3_stmt *q, const char *what)
{
    int r = sqlite3_step(q);
    if(r == SQLITE_ROW)
        return SAM_OK;
    if(r == SQLITE_DONE)
        return sam_fail(SAM_ENOTFOUND, "%s not found", what);
    return sq_err(s, r, what);
}

/* Runs a one-row query keyed by a text, a 32-byte blob or an integer (the first that is
 * given) and lets read copy the row into out. SAM_ENOTFOUND names `what`. */
static int query_one(struct sq *s, const char *sql, const char *what, const char *text,
                     const unsigned char *blob, int64_t id, void (*read)(sqlite3_stmt *, void *), void *out)
{
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, sql, &q);
    if(!rc) {
        if(text)
            bind_text(q, 1, text);
        else if(blob)
            sqlite3_bind_blob(q, 1, blob, 32, SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64(q, 1, id);
        rc = get_one(s, q, what);
        if(!rc)
            read(q, out);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_workspace_get(struct store *st, int64_t id, struct store_workspace *out)
{
    return query_one(SQ(st), "SELECT id, name, timezone, created_at, mix_preset, require_second_factor FROM workspaces WHERE id = ?", "workspace",
                     NULL, NULL, id, rd_workspace, out);
}

static int sq_workspace_get_by_name(struct store *st, const char *name, struct store_workspace *out)
{
    return query_one(SQ(st), "SELECT id, name, timezone, created_at, mix_preset, require_second_factor FROM workspaces WHERE name = ?", "workspace",
                     name, NULL, 0, rd_workspace, out);
}

static int sq_workspace_update(struct store *st, const struct store_workspace *w)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    rc = prep(s, "UPDATE workspaces SET name = ?, timezone = ?, mix_preset = ? WHERE id = ?", &q);
    if(!rc) {
        bind_text(q, 1, w->name);
        bind_text(q, 2, w->timezone);
        bind_text(q, 3, w->mix_preset[0] ? w->mix_preset : "balanced");
        sqlite3_bind_int64(q, 4, w->id);
        rc = exec_stmt(s, q, "workspace", &n);
        if(!rc && n == 0)
            rc = sam_fail(SAM_ENOTFOUND, "workspace not found");
        release(s, q);
    }
    unlock(s);
    return rc;
}

/* Runs a list query whose rows are read by fn into an array of elements of size sz. */
static int run_list(struct sq *s, sqlite3_stmt *q, size_t sz, int limit,
                    void (*fn)(sqlite3_stmt *, void *), void **items, size_t *n)
{
    /* The array grows with the rows: a large limit costs nothing when few rows come. */
    size_t cap = limit > 0 && limit < 64 ? (size_t)limit : 64, cnt = 0;
    char *arr = malloc(cap * sz);
    int r = SQLITE_DONE;
    if(!arr)
        return SAM_ENOMEM;
    while(cnt < (size_t)limit && (r = sqlite3_step(q)) == SQLITE_ROW) {
        if(cnt == cap) {
            char *bigger = realloc(arr, cap * 2 * sz);
            if(!bigger) {
                free(arr);
                return SAM_ENOMEM;
            }
            arr = bigger;
            cap *= 2;
        }
        fn(q, arr + cnt * sz);
        cnt++;
    }
    if(cnt < (size_t)limit && r != SQLITE_DONE) {
        free(arr);
        return sq_err(s, r, "list");
    }
    *items = arr;
    *n = cnt;
    return SAM_OK;
}

static int sq_workspace_list(struct store *st, int64_t user_id, int64_t after, int limit,
                             struct store_workspace **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    if(user_id)
        rc = prep(s, "SELECT w.id, w.name, w.timezone, w.created_at, w.mix_preset, w.require_second_factor, m.role FROM workspaces w"
                     " JOIN members m ON m.workspace_id = w.id AND m.user_id = ?1"
                     " WHERE w.id > ?2 ORDER BY w.id LIMIT ?3", &q);
    else
        rc = prep(s, "SELECT id, name, timezone, created_at, mix_preset, require_second_factor FROM workspaces"
                     " WHERE ?1 = 0 AND id > ?2 ORDER BY id LIMIT ?3", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, user_id);
        sqlite3_bind_int64(q, 2, after);
        sqlite3_bind_int(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, rd_workspace, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_workspace_set_ical(struct store *st, int64_t ws, const char *token_hash)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    rc = prep(s, "UPDATE workspaces SET ical_token = ? WHERE id = ?", &q);
    if(!rc) {
        if(token_hash)
            bind_text(q, 1, token_hash);
        else
            sqlite3_bind_null(q, 1);
        sqlite3_bind_int64(q, 2, ws);
        rc = exec_stmt(s, q, "workspace", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "workspace not found");
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_workspace_by_ical(struct store *st, const char *token_hash, struct store_workspace *out)
{
    return query_one(SQ(st), "SELECT id, name, timezone, created_at, mix_preset, require_second_factor FROM workspaces WHERE ical_token = ?",
                     "calendar feed", token_hash, NULL, 0, rd_workspace, out);
}

/* ---- users ---- */

#define USER_COLS "id, email, name, password_hash, must_change_password, created_at, coalesce(last_login_at, 0)," \
                  " failed_logins, coalesce(failed_login_at, 0), coalesce(failed_login_addr, '')," \
                  " coalesce(failed_notified_at, 0), coalesce(totp_enabled_at, 0)"

static void row_user(sqlite3_stmt *q, struct store_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, u->email, sizeof(u->email));
    col_text(q, 2, u->name, sizeof(u->name));
    col_text(q, 3, u->password_hash, sizeof(u->password_hash));
    u->must_change_password = sqlite3_column_int(q, 4);
    u->created_at = sqlite3_column_int64(q, 5);
    u->last_login_at = sqlite3_column_int64(q, 6);
    u->failed_logins = sqlite3_column_int(q, 7);
    u->failed_login_at = sqlite3_column_int64(q, 8);
    col_text(q, 9, u->failed_login_addr, sizeof(u->failed_login_addr));
    u->failed_notified_at = sqlite3_column_int64(q, 10);
    u->totp_enabled_at = sqlite3_column_int64(q, 11);
}

static void rd_user(sqlite3_stmt *q, void *p)
{
    row_user(q, p);
}

static int sq_user_insert(struct store *st, struct store_user *u)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO users(email, name, password_hash, must_change_password, created_at)"
                 " VALUES (?, ?, ?, ?, ?)", &q);
    if(!rc) {
        bind_text(q, 1, u->email);
        bind_text(q, 2, u->name);
        bind_text(q, 3, u->password_hash);
        sqlite3_bind_int(q, 4, u->must_change_password);
        sqlite3_bind_int64(q, 5, u->created_at);
        rc = exec_stmt(s, q, "account with this email", NULL);
        if(!rc)
            u->id = sqlite3_last_insert_rowid(s->db);
        release(s, q);
    }
    unlock(s);
    return rc;
}


static int sq_user_get(struct store *st, int64_t id, struct store_user *out)
{
    return query_one(SQ(st), "SELECT " USER_COLS " FROM users WHERE id = ?", "account", NULL, NULL, id, rd_user, out);
}

static int sq_user_get_by_email(struct store *st, const char *email, struct store_user *out)
{
    return query_one(SQ(st), "SELECT " USER_COLS " FROM users WHERE email = ?", "account", email, NULL, 0, rd_user,
                     out);
}

static int sq_user_set_password(struct store *st, int64_t id, const char *hash, int must_change)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    rc = prep(s, "UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?", &q);
    if(!rc) {
        bind_text(q, 1, hash);
        sqlite3_bind_int(q, 2, must_change);
        sqlite3_bind_int64(q, 3, id);
        rc = exec_stmt(s, q, "account", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "account not found");
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_user_count(struct store *st, int64_t *n)
{
    struct sq *s = SQ(st);
    lock(s);
    *n = scalar(s, "SELECT count(*) FROM users");
    unlock(s);
    return *n < 0 ? sam_fail(SAM_ESTORE, "cannot count accounts") : SAM_OK;
}

/* ---- members ---- */

#define MEMBER_SELECT "SELECT m.workspace_id, m.user_id, w.name, u.email, u.name, m.role, m.created_at," \
                      " w.require_second_factor, coalesce(u.totp_enabled_at, 0)" \
                      " FROM members m JOIN users u ON u.id = m.user_id" \
                      " JOIN workspaces w ON w.id = m.workspace_id"

static void row_member(sqlite3_stmt *q, void *p)
{
    struct store_member *m = p;
    memset(m, 0, sizeof(*m));
    m->workspace_id = sqlite3_column_int64(q, 0);
    m->user_id = sqlite3_column_int64(q, 1);
    col_text(q, 2, m->workspace_name, sizeof(m->workspace_name));
    col_text(q, 3, m->email, sizeof(m->email));
    col_text(q, 4, m->name, sizeof(m->name));
    col_text(q, 5, m->role, sizeof(m->role));
    m->created_at = sqlite3_column_int64(q, 6);
    m->workspace_requires_second_factor = sqlite3_column_int(q, 7);
    m->second_factor = sqlite3_column_int64(q, 8) != 0;
}

static int sq_member_insert(struct store *st, struct store_member *m)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO members(workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?)", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, m->workspace_id);
        sqlite3_bind_int64(q, 2, m->user_id);
        bind_text(q, 3, m->role);
        sqlite3_bind_int64(q, 4, m->created_at);
        rc = exec_stmt(s, q, "membership", NULL);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int member_get_locked(struct sq *s, int64_t ws, int64_t user, struct store_member *out)
{
    sqlite3_stmt *q;
    int rc = prep(s, MEMBER_SELECT " WHERE m.workspace_id = ? AND m.user_id = ?", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, user);
        rc = get_one(s, q, "member");
        if(!rc)
            row_member(q, out);
        release(s, q);
    }
    return rc;
}

static int sq_member_get(struct store *st, int64_t ws, int64_t user, struct store_member *out)
{
    struct sq *s = SQ(st);
    lock(s);
    int rc = member_get_locked(s, ws, user, out);
    unlock(s);
    return rc;
}

/* Inside a transaction: SAM_ECONFLICT when user is the workspace's only owner. */
static int check_not_last_owner(struct sq *s, int64_t ws, int64_t user)
{
    struct store_member m;
    sqlite3_stmt *q;
    int64_t owners = 0;
    int rc = member_get_locked(s, ws, user, &m);
    if(rc || strcmp(m.role, "owner"))
        return rc;
    rc = prep(s, "SELECT count(*) FROM members WHERE workspace_id = ? AND role = 'owner'", &q);
    if(rc)
        return rc;
    sqlite3_bind_int64(q, 1, ws);
    if(sqlite3_step(q) == SQLITE_ROW)
        owners = sqlite3_column_int64(q, 0);
    release(s, q);
    if(owners <= 1)
        return sam_fail(SAM_ECONFLICT, "a workspace needs at least one owner: make someone else owner first");
    return SAM_OK;
}

static int member_change(struct store *st, int64_t ws, int64_t user, const char *role)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q = NULL;
    int rc, n = 0;
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(rc)
        goto out;
    if(!role || strcmp(role, "owner"))
        rc = check_not_last_owner(s, ws, user);
    if(!rc && role)
        rc = prep(s, "UPDATE members SET role = ?3 WHERE workspace_id = ?1 AND user_id = ?2", &q);
    else if(!rc)
        rc = prep(s, "DELETE FROM members WHERE workspace_id = ?1 AND user_id = ?2", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, user);
        if(role)
            bind_text(q, 3, role);
        rc = exec_stmt(s, q, "member", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "member not found");
    }
    release(s, q);
    if(!rc && !role) {
        /* A member who leaves takes their tokens for this workspace along. */
        rc = prep(s, "UPDATE api_tokens SET revoked_at = ?3 WHERE workspace_id = ?1 AND user_id = ?2"
                     " AND revoked_at IS NULL", &q);
        if(!rc) {
            sqlite3_bind_int64(q, 1, ws);
            sqlite3_bind_int64(q, 2, user);
            sqlite3_bind_int64(q, 3, time_now());
            rc = exec_stmt(s, q, "revoke tokens", NULL);
            release(s, q);
        }
    }
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback");
    else
        rc = commit_tx(s, "commit");
out:
    unlock(s);
    return rc;
}

static int sq_member_set_role(struct store *st, int64_t ws, int64_t user, const char *role)
{
    return member_change(st, ws, user, role);
}

static int sq_member_delete(struct store *st, int64_t ws, int64_t user)
{
    return member_change(st, ws, user, NULL);
}

static int sq_member_list(struct store *st, int64_t ws, int64_t user, int64_t after, int limit,
                          struct store_member **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, MEMBER_SELECT " WHERE (?1 = 0 OR m.workspace_id = ?1) AND (?2 = 0 OR m.user_id = ?2)"
                 " AND m.user_id > ?3 ORDER BY m.workspace_id, m.user_id LIMIT ?4", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, user);
        sqlite3_bind_int64(q, 3, ws ? after : 0);
        sqlite3_bind_int(q, 4, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_member, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

/* ---- sessions ---- */

static void row_session(sqlite3_stmt *q, void *p)
{
    struct store_session *x = p;
    memset(x, 0, sizeof(*x));
    x->id = sqlite3_column_int64(q, 0);
    x->user_id = sqlite3_column_int64(q, 1);
    col_text(q, 2, x->csrf_token, sizeof(x->csrf_token));
    x->created_at = sqlite3_column_int64(q, 3);
    x->last_seen_at = sqlite3_column_int64(q, 4);
    x->expires_at = sqlite3_column_int64(q, 5);
    x->notice_failed = sqlite3_column_int(q, 6);
    x->notice_failed_at = sqlite3_column_int64(q, 7);
    col_text(q, 8, x->notice_failed_addr, sizeof(x->notice_failed_addr));
}

static int sq_session_insert(struct store *st, const unsigned char hash[32], struct store_session *x)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO sessions(token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at,"
                 " notice_failed, notice_failed_at, notice_failed_addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &q);
    if(!rc) {
        sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, x->user_id);
        bind_text(q, 3, x->csrf_token);
        sqlite3_bind_int64(q, 4, x->created_at);
        sqlite3_bind_int64(q, 5, x->last_seen_at);
        sqlite3_bind_int64(q, 6, x->expires_at);
        sqlite3_bind_int(q, 7, x->notice_failed);
        sqlite3_bind_int64(q, 8, x->notice_failed_at);
        bind_text(q, 9, x->notice_failed_addr);
        rc = exec_stmt(s, q, "session", NULL);
        if(!rc)
            x->id = sqlite3_last_insert_rowid(s->db);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_session_get(struct store *st, const unsigned char hash[32], struct store_session *out)
{
    return query_one(SQ(st), "SELECT id, user_id, csrf_token, created_at, last_seen_at, expires_at, notice_failed,"
                             " coalesce(notice_failed_at, 0), coalesce(notice_failed_addr, '')"
                             " FROM sessions WHERE token_hash = ?", "session", NULL, hash, 0, row_session, out);
}

static int simple_exec(struct store *st, const char *sql, const char *what, int64_t a, int64_t b,
                       int64_t c, const unsigned char *blob, int *changes)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, sql, &q);
    if(!rc) {
        int np = sqlite3_bind_parameter_count(q);
        if(blob)
            sqlite3_bind_blob(q, 1, blob, 32, SQLITE_TRANSIENT);
        else if(np >= 1)
            sqlite3_bind_int64(q, 1, a);
        if(np >= 2)
            sqlite3_bind_int64(q, 2, b);
        if(np >= 3)
            sqlite3_bind_int64(q, 3, c);
        rc = exec_stmt(s, q, what, changes);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_session_touch(struct store *st, int64_t id, int64_t now, int64_t expires)
{
    return simple_exec(st, "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3 WHERE id = ?1",
                       "session", id, now, expires, NULL, NULL);
}

static int sq_session_delete(struct store *st, const unsigned char hash[32])
{
    return simple_exec(st, "DELETE FROM sessions WHERE token_hash = ?1", "session", 0, 0, 0, hash, NULL);
}

static int sq_session_delete_user(struct store *st, int64_t user_id, int64_t keep_id)
{
    /* The logins waiting for a second factor go first: each was opened with the
     * password that is now being replaced (or the factor being removed). */
    int rc = simple_exec(st, "DELETE FROM login_challenges WHERE user_id = ?1", "login challenges", user_id, 0, 0,
                         NULL, NULL);
    if(!rc)
        rc = simple_exec(st, "DELETE FROM sessions WHERE user_id = ?1 AND id != ?2", "sessions", user_id, keep_id,
                         0, NULL, NULL);
    return rc;
}

/* ---- API tokens ---- */

#define TOKEN_COLS "id, workspace_id, user_id, name, scopes, prefix, created_at," \
                   " coalesce(last_used_at, 0), coalesce(revoked_at, 0)"

static void row_token(sqlite3_stmt *q, void *p)
{
    struct store_token *t = p;
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(q, 0);
    t->workspace_id = sqlite3_column_int64(q, 1);
    t->user_id = sqlite3_column_int64(q, 2);
    col_text(q, 3, t->name, sizeof(t->name));
    col_text(q, 4, t->scopes, sizeof(t->scopes));
    col_text(q, 5, t->prefix, sizeof(t->prefix));
    t->created_at = sqlite3_column_int64(q, 6);
    t->last_used_at = sqlite3_column_int64(q, 7);
    t->revoked_at = sqlite3_column_int64(q, 8);
}

static int sq_token_insert(struct store *st, const unsigned char hash[32], struct store_token *t)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO api_tokens(workspace_id, user_id, name, scopes, token_hash, prefix, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, t->workspace_id);
        sqlite3_bind_int64(q, 2, t->user_id);
        bind_text(q, 3, t->name);
        bind_text(q, 4, t->scopes);
        sqlite3_bind_blob(q, 5, hash, 32, SQLITE_TRANSIENT);
        bind_text(q, 6, t->prefix);
        sqlite3_bind_int64(q, 7, t->created_at);
        rc = exec_stmt(s, q, "token", NULL);
        if(!rc)
            t->id = sqlite3_last_insert_rowid(s->db);
        release(s, q);
    }
    unlock(s);
    return rc;
}


static int sq_token_get(struct store *st, int64_t id, struct store_token *out)
{
    return query_one(SQ(st), "SELECT " TOKEN_COLS " FROM api_tokens WHERE id = ?", "token", NULL, NULL, id,
                     row_token, out);
}

static int sq_token_get_by_hash(struct store *st, const unsigned char hash[32], struct store_token *out)
{
    return query_one(SQ(st), "SELECT " TOKEN_COLS " FROM api_tokens WHERE token_hash = ?", "token", NULL, hash, 0,
                     row_token, out);
}

static int sq_token_list(struct store *st, int64_t ws, int64_t after, int limit,
                         struct store_token **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT " TOKEN_COLS " FROM api_tokens WHERE (?1 = 0 OR workspace_id = ?1)"
                 " AND id > ?2 ORDER BY id LIMIT ?3", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, after);
        sqlite3_bind_int(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_token, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_token_revoke(struct store *st, int64_t id, int64_t now)
{
    int n = 0;
    int rc = simple_exec(st, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
                         "token", id, now, 0, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "token %lld not found", (long long)id);
    return rc;
}

static int sq_token_touch(struct store *st, int64_t id, int64_t now)
{
    return simple_exec(st, "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", "token", id, now,
                       0, NULL, NULL);
}

/* ---- channels ---- */

#define CHANNEL_COLS "id, workspace_id, kind, name, timezone, status, settings, secret, created_at, updated_at," \
                     " slots, max_per_hour, max_per_day, coalesce(status_message, '')"

static void row_channel(sqlite3_stmt *q, void *p)
{
    struct store_channel *c = p;
    const void *blob;
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(q, 0);
    c->workspace_id = sqlite3_column_int64(q, 1);
    col_text(q, 2, c->kind, sizeof(c->kind));
    col_text(q, 3, c->name, sizeof(c->name));
    col_text(q, 4, c->timezone, sizeof(c->timezone));
    col_text(q, 5, c->status, sizeof(c->status));
    c->settings = col_dup(q, 6);
    blob = sqlite3_column_blob(q, 7);
    if(blob) {
        c->secret_len = (size_t)sqlite3_column_bytes(q, 7);
        c->secret = malloc(c->secret_len ? c->secret_len : 1);
        if(c->secret)
            memcpy(c->secret, blob, c->secret_len);
        else
            c->secret_len = 0;
    }
    c->created_at = sqlite3_column_int64(q, 8);
    c->updated_at = sqlite3_column_int64(q, 9);
    c->slots = col_dup(q, 10);
    c->max_per_hour = sqlite3_column_int(q, 11);
    c->max_per_day = sqlite3_column_int(q, 12);
    col_text(q, 13, c->status_message, sizeof(c->status_message));
}

static void bind_channel(sqlite3_stmt *q, const struct store_channel *c)
{
    sqlite3_bind_int64(q, 1, c->workspace_id);
    bind_text(q, 2, c->kind);
    bind_text(q, 3, c->name);
    bind_text(q, 4, c->timezone);
    bind_text(q, 5, c->status[0] ? c->status : "active");
    bind_text(q, 6, c->settings ? c->settings : "{}");
    if(c->secret)
        sqlite3_bind_blob(q, 7, c->secret, (int)c->secret_len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, 7);
    sqlite3_bind_int64(q, 8, c->created_at);
    sqlite3_bind_int64(q, 9, c->updated_at);
    sqlite3_bind_int64(q, 10, c->id);
    bind_text(q, 11, c->slots ? c->slots : "[]");
    sqlite3_bind_int(q, 12, c->max_per_hour > 0 ? c->max_per_hour : 2);
    sqlite3_bind_int(q, 13, c->max_per_day > 0 ? c->max_per_day : 12);
}

static int sq_channel_insert(struct store *st, struct store_channel *c)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO channels(workspace_id, kind, name, timezone, status, settings, secret,"
                 " created_at, updated_at, slots, max_per_hour, max_per_day)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11, ?12, ?13)", &q);
    if(!rc) {
        bind_channel(q, c);
        rc = exec_stmt(s, q, "channel with this name", NULL);
        if(!rc)
            c->id = sqlite3_last_insert_rowid(s->db);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_channel_get(struct store *st, int64_t id, struct store_channel *out)
{
    return query_one(SQ(st), "SELECT " CHANNEL_COLS " FROM channels WHERE id = ?", "channel", NULL, NULL, id,
                     row_channel, out);
}

static int sq_channel_update(struct store *st, const struct store_channel *c)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    /* status is changed by store_channel_set_status only, so that an edit cannot undo a
     * status set meanwhile (a channel marked 'reconnect' by the publisher). */
    rc = prep(s, "UPDATE channels SET workspace_id = ?1, kind = ?2, name = ?3, timezone = ?4,"
                 " settings = ?6, secret = ?7, created_at = ?8, updated_at = ?9,"
                 " slots = ?11, max_per_hour = ?12, max_per_day = ?13 WHERE id = ?10", &q);
    if(!rc) {
        bind_channel(q, c);
        rc = exec_stmt(s, q, "channel with this name", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "channel not found");
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_channel_delete(struct store *st, int64_t id)
{
    int n = 0;
    int rc = simple_exec(st, "DELETE FROM channels WHERE id = ?1", "channel", id, 0, 0, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "channel not found");
    return rc;
}

static int sq_channel_list(struct store *st, int64_t ws, const char *kind, int64_t after, int limit,
                           struct store_channel **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT " CHANNEL_COLS " FROM channels WHERE (?1 = 0 OR workspace_id = ?1)"
                 " AND (?2 IS NULL OR kind = ?2) AND id > ?3 ORDER BY id LIMIT ?4", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        if(kind)
            bind_text(q, 2, kind);
        sqlite3_bind_int64(q, 3, after);
        sqlite3_bind_int(q, 4, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_channel, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

/* ---- posts and occurrences ---- */

#define POST_COLS "id, workspace_id, coalesce(author_id, 0), text, link, category, campaign, variants, state," \
                  " override_reason, created_at, updated_at"

static char *col_dup_or_null(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? NULL : col_dup(q, i);
}

static void row_post(sqlite3_stmt *q, void *p)
{
    struct store_post *x = p;
    memset(x, 0, sizeof(*x));
    x->id = sqlite3_column_int64(q, 0);
    x->workspace_id = sqlite3_column_int64(q, 1);
    x->author_id = sqlite3_column_int64(q, 2);
    x->text = col_dup(q, 3);
    x->link = col_dup_or_null(q, 4);
    col_text(q, 5, x->category, sizeof(x->category));
    x->campaign = col_dup_or_null(q, 6);
    x->variants = col_dup(q, 7);
    col_text(q, 8, x->state, sizeof(x->state));
    x->override_reason = col_dup_or_null(q, 9);
    x->created_at = sqlite3_column_int64(q, 10);
    x->updated_at = sqlite3_column_int64(q, 11);
}

#define OCC_COLS "id, workspace_id, post_id, channel_id, coalesce(series_id, 0), variant, planned_at, state," \
                 " idempotency_key, attempts, coalesce(next_attempt_at, 0), coalesce(lease_owner, '')," \
                 " coalesce(lease_until, 0), coalesce(remote_id, ''), coalesce(remote_url, '')," \
                 " coalesce(last_error, ''), coalesce(published_at, 0), coalesce(deleted_at, 0), created_at," \
                 " updated_at"

static void row_occurrence(sqlite3_stmt *q, void *p)
{
    struct store_occurrence *o = p;
    memset(o, 0, sizeof(*o));
    o->id = sqlite3_column_int64(q, 0);
    o->workspace_id = sqlite3_column_int64(q, 1);
    o->post_id = sqlite3_column_int64(q, 2);
    o->channel_id = sqlite3_column_int64(q, 3);
    o->series_id = sqlite3_column_int64(q, 4);
    o->variant = sqlite3_column_int(q, 5);
    o->planned_at = sqlite3_column_int64(q, 6);
    col_text(q, 7, o->state, sizeof(o->state));
    col_text(q, 8, o->idempotency_key, sizeof(o->idempotency_key));
    o->attempts = sqlite3_column_int(q, 9);
    o->next_attempt_at = sqlite3_column_int64(q, 10);
    col_text(q, 11, o->lease_owner, sizeof(o->lease_owner));
    o->lease_until = sqlite3_column_int64(q, 12);
    col_text(q, 13, o->remote_id, sizeof(o->remote_id));
    col_text(q, 14, o->remote_url, sizeof(o->remote_url));
    col_text(q, 15, o->last_error, sizeof(o->last_error));
    o->published_at = sqlite3_column_int64(q, 16);
    o->deleted_at = sqlite3_column_int64(q, 17);
    o->created_at = sqlite3_column_int64(q, 18);
    o->updated_at = sqlite3_column_int64(q, 19);
}

static void bind_text_or_null(sqlite3_stmt *q, int i, const char *v)
{
    if(v)
        bind_text(q, i, v);
    else
        sqlite3_bind_null(q, i);
}

static int post_insert_tx(struct store *st, struct store_post *p, struct store_series *ser,
                          struct store_occurrence *occ, size_t n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q = NULL;
    int rc;
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(rc)
        goto out;
    rc = prep(s, "INSERT INTO posts(workspace_id, author_id, text, link, category, campaign, variants, state,"
                 " override_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, p->workspace_id);
        if(p->author_id)
            sqlite3_bind_int64(q, 2, p->author_id);
        else
            sqlite3_bind_null(q, 2);
        bind_text(q, 3, p->text);
        bind_text_or_null(q, 4, p->link);
        bind_text(q, 5, p->category);
        bind_text_or_null(q, 6, p->campaign);
        bind_text(q, 7, p->variants ? p->variants : "[]");
        bind_text(q, 8, p->state);
        bind_text_or_null(q, 9, p->override_reason);
        sqlite3_bind_int64(q, 10, p->created_at);
        sqlite3_bind_int64(q, 11, p->updated_at);
        rc = exec_stmt(s, q, "post", NULL);
        p->id = sqlite3_last_insert_rowid(s->db);
        release(s, q);
    }
    if(!rc && ser) {
        rc = prep(s, "INSERT INTO series(workspace_id, post_id, per_day, days, until_at, max_count, min_gap_minutes,"
                     " replace_previous, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &q);
        if(!rc) {
            ser->workspace_id = p->workspace_id;
            ser->post_id = p->id;
            sqlite3_bind_int64(q, 1, ser->workspace_id);
            sqlite3_bind_int64(q, 2, ser->post_id);
            sqlite3_bind_int(q, 3, ser->per_day);
            if(ser->days)
                sqlite3_bind_int(q, 4, ser->days);
            else
                sqlite3_bind_null(q, 4);
            if(ser->until_at)
                sqlite3_bind_int64(q, 5, ser->until_at);
            else
                sqlite3_bind_null(q, 5);
            if(ser->max_count)
                sqlite3_bind_int(q, 6, ser->max_count);
            else
                sqlite3_bind_null(q, 6);
            sqlite3_bind_int(q, 7, ser->min_gap_minutes);
            sqlite3_bind_int(q, 8, ser->replace_previous);
            sqlite3_bind_int64(q, 9, ser->created_at);
            rc = exec_stmt(s, q, "series", NULL);
            ser->id = sqlite3_last_insert_rowid(s->db);
            release(s, q);
        }
    }
    for(size_t i = 0; !rc && i < n; i++) {
        struct store_occurrence *o = &occ[i];
        if(ser)
            o->series_id = ser->id;
        rc = prep(s, "INSERT INTO occurrences(workspace_id, post_id, channel_id, series_id, variant, planned_at,"
                     " state, idempotency_key, next_attempt_at, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &q);
        if(rc)
            break;
        o->workspace_id = p->workspace_id;
        o->post_id = p->id;
        if(!o->state[0])
            snprintf(o->state, sizeof(o->state), "scheduled");
        sqlite3_bind_int64(q, 1, o->workspace_id);
        sqlite3_bind_int64(q, 2, o->post_id);
        sqlite3_bind_int64(q, 3, o->channel_id);
        if(o->series_id)
            sqlite3_bind_int64(q, 4, o->series_id);
        else
            sqlite3_bind_null(q, 4);
        sqlite3_bind_int(q, 5, o->variant);
        sqlite3_bind_int64(q, 6, o->planned_at);
        bind_text(q, 7, o->state);
        bind_text(q, 8, o->idempotency_key);
        sqlite3_bind_int64(q, 9, o->next_attempt_at ? o->next_attempt_at : o->planned_at);
        sqlite3_bind_int64(q, 10, p->created_at);
        sqlite3_bind_int64(q, 11, p->created_at);
        rc = exec_stmt(s, q, "occurrence", NULL);
        o->id = sqlite3_last_insert_rowid(s->db);
        release(s, q);
    }
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback");
    else
        rc = commit_tx(s, "commit");
out:
    unlock(s);
    return rc;
}

static int sq_post_insert(struct store *st, struct store_post *p, struct store_occurrence *occ, size_t n)
{
    return post_insert_tx(st, p, NULL, occ, n);
}

static int sq_series_insert(struct store *st, struct store_post *p, struct store_series *ser,
                            struct store_occurrence *occ, size_t n)
{
    return post_insert_tx(st, p, ser, occ, n);
}

static void row_series(sqlite3_stmt *q, void *p)
{
    struct store_series *x = p;
    memset(x, 0, sizeof(*x));
    x->id = sqlite3_column_int64(q, 0);
    x->workspace_id = sqlite3_column_int64(q, 1);
    x->post_id = sqlite3_column_int64(q, 2);
    x->per_day = sqlite3_column_int(q, 3);
    x->days = sqlite3_column_int(q, 4);
    x->until_at = sqlite3_column_int64(q, 5);
    x->max_count = sqlite3_column_int(q, 6);
    x->min_gap_minutes = sqlite3_column_int(q, 7);
    x->replace_previous = sqlite3_column_int(q, 8);
    x->created_at = sqlite3_column_int64(q, 9);
}

#define SERIES_COLS "id, workspace_id, post_id, per_day, coalesce(days, 0), coalesce(until_at, 0)," \
                    " coalesce(max_count, 0), min_gap_minutes, replace_previous, created_at"

static int sq_series_get(struct store *st, int64_t id, struct store_series *out)
{
    return query_one(SQ(st), "SELECT " SERIES_COLS " FROM series WHERE id = ?", "series", NULL, NULL, id,
                     row_series, out);
}

static int sq_series_list(struct store *st, int64_t ws, int64_t after, int limit, struct store_series **items,
                          size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT " SERIES_COLS " FROM series WHERE workspace_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, after);
        sqlite3_bind_int(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_series, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_occurrence_previous(struct store *st, int64_t series, int64_t channel, int64_t before,
                                  struct store_occurrence *out)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT " OCC_COLS " FROM occurrences WHERE series_id = ?1 AND channel_id = ?2 AND planned_at < ?3"
                 " AND state = 'published' AND deleted_at IS NULL ORDER BY planned_at DESC LIMIT 1", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, series);
        sqlite3_bind_int64(q, 2, channel);
        sqlite3_bind_int64(q, 3, before);
        rc = get_one(s, q, "previous copy");
        if(!rc)
            row_occurrence(q, out);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_occurrence_mark_deleted(struct store *st, int64_t id, int64_t now)
{
    return simple_exec(st, "UPDATE occurrences SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1", "occurrence", id,
                       now, 0, NULL, NULL);
}

static int sq_post_get(struct store *st, int64_t id, struct store_post *out)
{
    return query_one(SQ(st), "SELECT " POST_COLS " FROM posts WHERE id = ?", "post", NULL, NULL, id, row_post, out);
}

static int sq_post_update(struct store *st, const struct store_post *p)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    /* The state follows the occurrences (refresh_post_state); an edit never sets it, and
     * is refused in the same statement once anything went out or is going out. */
    rc = prep(s, "UPDATE posts SET text = ?1, link = ?2, category = ?3, campaign = ?4, variants = ?5,"
                 " override_reason = ?6, updated_at = ?7 WHERE id = ?8 AND state NOT IN ('published', 'cancelled')"
                 " AND NOT EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?8"
                 " AND state IN ('publishing', 'published'))", &q);
    if(!rc) {
        bind_text(q, 1, p->text);
        bind_text_or_null(q, 2, p->link);
        bind_text(q, 3, p->category);
        bind_text_or_null(q, 4, p->campaign);
        bind_text(q, 5, p->variants ? p->variants : "[]");
        bind_text_or_null(q, 6, p->override_reason);
        sqlite3_bind_int64(q, 7, p->updated_at);
        sqlite3_bind_int64(q, 8, p->id);
        rc = exec_stmt(s, q, "post", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ECONFLICT, "the post has gone out (or is going out) or was cancelled: write a new "
                                         "post instead");
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_post_list(struct store *st, int64_t ws, const char *state, int64_t after, int limit,
                        struct store_post **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT " POST_COLS " FROM posts WHERE workspace_id = ?1 AND (?2 IS NULL OR state = ?2)"
                 " AND id > ?3 ORDER BY id LIMIT ?4", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        bind_text_or_null(q, 2, state);
        sqlite3_bind_int64(q, 3, after);
        sqlite3_bind_int(q, 4, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_post, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

/* Derives a post's state from its occurrences (inside the caller's lock). */
static int refresh_post_state(struct sq *s, int64_t post, int64_t now)
{
    sqlite3_stmt *q;
    int rc = prep(s, "UPDATE posts SET updated_at = ?2, state = CASE"
                     " WHEN EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?1 AND state IN ('scheduled', 'publishing'))"
                     "  THEN 'scheduled'"
                     " WHEN EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?1 AND state = 'failed') THEN 'failed'"
                     " WHEN EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?1 AND state = 'published') THEN 'published'"
                     " WHEN EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?1) THEN 'cancelled'"
                     " ELSE state END WHERE id = ?1", &q);
    if(rc)
        return rc;
    sqlite3_bind_int64(q, 1, post);
    sqlite3_bind_int64(q, 2, now);
    rc = exec_stmt(s, q, "post state", NULL);
    release(s, q);
    return rc;
}

static int sq_post_cancel(struct store *st, int64_t id, int64_t now)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(rc)
        goto out;
    rc = prep(s, "UPDATE occurrences SET state = 'cancelled', updated_at = ?2 WHERE post_id = ?1"
                 " AND state = 'scheduled'", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, now);
        rc = exec_stmt(s, q, "cancel", &n);
        release(s, q);
    }
    if(!rc) {
        /* A draft has no occurrences: cancelling it is a change of its own state. */
        rc = prep(s, "UPDATE posts SET state = 'cancelled', updated_at = ?2 WHERE id = ?1 AND state = 'draft'", &q);
        if(!rc) {
            int m = 0;
            sqlite3_bind_int64(q, 1, id);
            sqlite3_bind_int64(q, 2, now);
            rc = exec_stmt(s, q, "cancel", &m);
            n += m;
            release(s, q);
        }
    }
    if(!rc && n == 0)
        rc = sam_fail(SAM_ECONFLICT, "nothing left to cancel: the post is published, in flight or already cancelled");
    if(!rc)
        rc = refresh_post_state(s, id, now);
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback");
    else
        rc = commit_tx(s, "commit");
out:
    unlock(s);
    return rc;
}

static int sq_occurrence_list(struct store *st, int64_t ws, int64_t post, int64_t channel, int64_t from,
                              int64_t to, int64_t after, int limit, struct store_occurrence **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT " OCC_COLS " FROM occurrences WHERE (?1 = 0 OR workspace_id = ?1)"
                 " AND (?2 = 0 OR post_id = ?2) AND (?3 = 0 OR channel_id = ?3) AND planned_at >= ?4"
                 " AND (?5 = 0 OR planned_at < ?5) AND id > ?6 ORDER BY planned_at, id LIMIT ?7", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, post);
        sqlite3_bind_int64(q, 3, channel);
        sqlite3_bind_int64(q, 4, from);
        sqlite3_bind_int64(q, 5, to);
        sqlite3_bind_int64(q, 6, after);
        sqlite3_bind_int(q, 7, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_occurrence, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static void row_occurrence_post(sqlite3_stmt *q, void *p)
{
    struct store_occurrence_post *x = p;
    row_occurrence(q, &x->occ);
    col_text(q, 20, x->category, sizeof(x->category));
    x->text = col_dup(q, 21);
    x->variants = col_dup(q, 22);
}

static int sq_occurrence_page(struct store *st, int64_t ws, int64_t channel, int64_t from, int64_t to, int64_t after,
                              int limit, struct store_occurrence_post **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    /* The post's columns come through a subquery, so OCC_COLS' names stay unambiguous. */
    rc = prep(s, "SELECT " OCC_COLS ", p_category, p_text, p_variants FROM occurrences"
                 " JOIN (SELECT id AS p_id, category AS p_category, text AS p_text, variants AS p_variants"
                 " FROM posts) AS p ON p.p_id = post_id"
                 " WHERE workspace_id = ?1 AND (?2 = 0 OR channel_id = ?2) AND planned_at >= ?3 AND planned_at < ?4"
                 " AND (?5 = 0 OR (planned_at, id) > ((SELECT planned_at FROM occurrences WHERE id = ?5"
                 " AND workspace_id = ?1), ?5)) ORDER BY planned_at, id LIMIT ?6", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, channel);
        sqlite3_bind_int64(q, 3, from);
        sqlite3_bind_int64(q, 4, to);
        sqlite3_bind_int64(q, 5, after);
        sqlite3_bind_int(q, 6, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_occurrence_post, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

/* Published or in-flight occurrences of a channel since `since` (other than `self`), and
 * the earliest of their times; in the claim's transaction. */
static int channel_load(struct sq *s, int64_t channel, int64_t self, int64_t since, int64_t *count, int64_t *oldest)
{
    static const char *sql = "SELECT count(*), min(coalesce(published_at, updated_at)) FROM occurrences"
                             " WHERE channel_id = ?1 AND id != ?2 AND ((state = 'published' AND published_at >= ?3)"
                             " OR (state = 'publishing' AND updated_at >= ?3))";
    sqlite3_stmt *q;
    int rc = prep(s, sql, &q);
    if(rc)
        return rc;
    sqlite3_bind_int64(q, 1, channel);
    sqlite3_bind_int64(q, 2, self);
    sqlite3_bind_int64(q, 3, since);
    *count = 0;
    *oldest = 0;
    if(sqlite3_step(q) == SQLITE_ROW) {
        *count = sqlite3_column_int64(q, 0);
        *oldest = sqlite3_column_int64(q, 1);
    } else {
        rc = sq_err(s, SQLITE_ERROR, "channel load");
    }
    release(s, q);
    return rc;
}

static int sq_occurrence_claim(struct store *st, int64_t now, const char *owner, int lease_seconds, int limit,
                               struct store_occurrence **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q = NULL;
    int64_t (*due)[5] = NULL;
    size_t ndue = 0, cap = (size_t)limit * 4 + 4, got = 0;
    struct store_occurrence *out = NULL;
    int rc;

    *items = NULL;
    *n = 0;
    if(!(due = calloc(cap, sizeof(*due))) || !(out = calloc((size_t)limit, sizeof(*out)))) {
        free(due);
        free(out);
        return SAM_ENOMEM;
    }
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin claim");
    if(rc)
        goto out;
    /* What is due: scheduled and past its time, or in flight under a lease that ran out. */
    rc = prep(s, "SELECT o.id, o.channel_id, o.state = 'publishing', c.max_per_hour, c.max_per_day"
                 " FROM occurrences o JOIN channels c ON c.id = o.channel_id"
                 " WHERE c.status = 'active' AND ((o.state = 'scheduled' AND o.next_attempt_at <= ?1)"
                 "    OR (o.state = 'publishing' AND o.lease_until < ?1))"
                 " ORDER BY o.next_attempt_at, o.id LIMIT ?2", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, now);
        sqlite3_bind_int(q, 2, (int)cap);
        while(ndue < cap && sqlite3_step(q) == SQLITE_ROW) {
            for(int k = 0; k < 5; k++)
                due[ndue][k] = sqlite3_column_int64(q, k);
            ndue++;
        }
        release(s, q);
    }
    /* One at a time, so every claim counts the ones before it: a channel's caps hold at
     * publish time too (P7). An occurrence left in flight is resolved at once: it was
     * counted when it was first claimed. Over a cap, it waits with the reason shown. */
    for(size_t i = 0; !rc && i < ndue && got < (size_t)limit; i++) {
        int64_t id = due[i][0], channel = due[i][1], hour = 0, day = 0, oh = 0, od = 0, wait = 0;
        char why[200] = "";
        if(!due[i][2]) {
            rc = channel_load(s, channel, id, now - 3600, &hour, &oh);
            if(!rc)
                rc = channel_load(s, channel, id, now - 86400, &day, &od);
            if(rc)
                break;
            if(hour >= due[i][3]) {
                wait = oh + 3600;
                snprintf(why, sizeof(why), "waiting for the channel's limit of %lld posts an hour",
                         (long long)due[i][3]);
            }
            if(day >= due[i][4] && od + 86400 > wait) {
                wait = od + 86400;
                snprintf(why, sizeof(why), "waiting for the channel's limit of %lld posts a day",
                         (long long)due[i][4]);
            }
        }
        if(wait) {
            rc = prep(s, "UPDATE occurrences SET next_attempt_at = ?2, last_error = ?3, updated_at = ?4"
                         " WHERE id = ?1", &q);
            if(!rc) {
                sqlite3_bind_int64(q, 1, id);
                sqlite3_bind_int64(q, 2, wait > now ? wait : now + 1);
                bind_text(q, 3, why);
                sqlite3_bind_int64(q, 4, now);
                rc = exec_stmt(s, q, "defer", NULL);
                release(s, q);
            }
            continue;
        }
        rc = prep(s, "UPDATE occurrences SET state = 'publishing', lease_owner = ?2, lease_until = ?3 + ?4,"
                     " attempts = attempts + 1, updated_at = ?3 WHERE id = ?1 RETURNING " OCC_COLS, &q);
        if(!rc) {
            sqlite3_bind_int64(q, 1, id);
            bind_text(q, 2, owner);
            sqlite3_bind_int64(q, 3, now);
            sqlite3_bind_int(q, 4, lease_seconds);
            int r = sqlite3_step(q);
            if(r == SQLITE_ROW) {
                row_occurrence(q, &out[got++]);
                r = sqlite3_step(q);
            }
            if(r != SQLITE_DONE)
                rc = sq_err(s, r, "claim");
            release(s, q);
        }
    }
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback claim");
    else
        rc = commit_tx(s, "commit claim");
out:
    unlock(s);
    free(due);
    if(rc || !got) {
        free(out);
        return rc;
    }
    *items = out;
    *n = got;
    return SAM_OK;
}

static int sq_occurrence_finish(struct store *st, int64_t id, const char *owner, const struct store_outcome *o)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q = NULL;
    int rc, n = 0;
    int64_t post = 0, now = time_now();
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(rc)
        goto out;
    rc = prep(s, "UPDATE occurrences SET state = ?3, remote_id = coalesce(?4, remote_id),"
                 " remote_url = coalesce(?5, remote_url), last_error = ?6, next_attempt_at = ?7,"
                 " published_at = coalesce(?8, published_at), lease_owner = NULL, lease_until = NULL,"
                 " updated_at = ?9 WHERE id = ?1 AND state = 'publishing' AND lease_owner = ?2 RETURNING post_id", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, id);
        bind_text(q, 2, owner);
        bind_text(q, 3, o->state);
        bind_text_or_null(q, 4, o->remote_id);
        bind_text_or_null(q, 5, o->remote_url);
        bind_text_or_null(q, 6, o->error);
        sqlite3_bind_int64(q, 7, o->next_attempt_at);
        if(o->published_at)
            sqlite3_bind_int64(q, 8, o->published_at);
        else
            sqlite3_bind_null(q, 8);
        sqlite3_bind_int64(q, 9, now);
        int r = sqlite3_step(q);
        if(r == SQLITE_ROW) {
            post = sqlite3_column_int64(q, 0);
            n = 1;
            r = sqlite3_step(q);
        }
        if(r != SQLITE_DONE)
            rc = sq_err(s, r, "finish occurrence");
        release(s, q);
    }
    if(!rc && !n)
        rc = sam_fail(SAM_ECONFLICT, "occurrence %lld is no longer leased to %s", (long long)id, owner);
    if(!rc)
        rc = refresh_post_state(s, post, now);
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback");
    else
        rc = commit_tx(s, "commit");
out:
    unlock(s);
    return rc;
}

static int sq_occurrence_release_leases(struct store *st, int *n)
{
    return simple_exec(st, "UPDATE occurrences SET lease_until = 0 WHERE state = 'publishing'", "release leases", 0,
                       0, 0, NULL, n);
}

static void row_queue_item(sqlite3_stmt *q, void *p)
{
    struct store_queue_item *x = p;
    memset(x, 0, sizeof(*x));
    x->post_id = sqlite3_column_int64(q, 0);
    x->channel_id = sqlite3_column_int64(q, 1);
    x->at = sqlite3_column_int64(q, 2);
    x->variant = sqlite3_column_int(q, 3);
    x->published = sqlite3_column_int(q, 4);
    col_text(q, 5, x->category, sizeof(x->category));
    x->text = col_dup(q, 6);
    x->variants = col_dup(q, 7);
}

static int sq_queue_items(struct store *st, int64_t ws, int64_t channel, int64_t from, int64_t to,
                          struct store_queue_item **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, limit = 200000;
    lock(s);
    rc = prep(s, "SELECT o.post_id, o.channel_id, coalesce(o.published_at, o.planned_at), o.variant,"
                 " o.state = 'published', p.category, p.text, p.variants FROM occurrences o"
                 " JOIN posts p ON p.id = o.post_id WHERE o.workspace_id = ?1 AND o.planned_at >= ?2"
                 " AND o.planned_at < ?3 AND (?4 = 0 OR o.channel_id = ?4)"
                 " AND o.state IN ('scheduled', 'publishing', 'published')"
                 " AND o.deleted_at IS NULL ORDER BY o.planned_at, o.id", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, from);
        sqlite3_bind_int64(q, 3, to);
        sqlite3_bind_int64(q, 4, channel);
        rc = run_list(s, q, sizeof(**items), limit, row_queue_item, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

/* ---- audit log ---- */

static void row_audit(sqlite3_stmt *q, void *p)
{
    struct store_audit *a = p;
    memset(a, 0, sizeof(*a));
    a->id = sqlite3_column_int64(q, 0);
    a->workspace_id = sqlite3_column_int64(q, 1);
    col_text(q, 2, a->actor, sizeof(a->actor));
    col_text(q, 3, a->action, sizeof(a->action));
    col_text(q, 4, a->target, sizeof(a->target));
    a->detail = col_dup(q, 5);
    a->at = sqlite3_column_int64(q, 6);
}

static int sq_audit_insert(struct store *st, const struct store_audit *a)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO audit_log(workspace_id, actor, action, target, detail, at)"
                 " VALUES (?, ?, ?, ?, ?, ?)", &q);
    if(!rc) {
        if(a->workspace_id)
            sqlite3_bind_int64(q, 1, a->workspace_id);
        else
            sqlite3_bind_null(q, 1);
        bind_text(q, 2, a->actor);
        bind_text(q, 3, a->action);
        bind_text(q, 4, a->target);
        bind_text(q, 5, a->detail ? a->detail : "{}");
        sqlite3_bind_int64(q, 6, a->at);
        rc = exec_stmt(s, q, "audit entry", NULL);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_audit_list(struct store *st, int64_t ws, int64_t before, int limit,
                         struct store_audit **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT id, coalesce(workspace_id, 0), actor, action, target, detail, at FROM audit_log"
                 " WHERE workspace_id = ?1 AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, before);
        sqlite3_bind_int(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_audit, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

/* ---- channel status, messages, cursors, engagement, OAuth ---- */

static int sq_channel_set_status(struct store *st, int64_t id, const char *status, const char *message, int64_t now)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    rc = prep(s, "UPDATE channels SET status = ?2, status_message = ?3, status_at = ?4, updated_at = ?4"
                 " WHERE id = ?1", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, id);
        bind_text(q, 2, status);
        if(message && *message)
            bind_text(q, 3, message);
        else
            sqlite3_bind_null(q, 3);
        sqlite3_bind_int64(q, 4, now);
        rc = exec_stmt(s, q, "channel status", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "channel not found");
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_channel_mark_reconnect(struct store *st, const struct store_channel *c, const char *message,
                                     int64_t now, int *changed)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    *changed = 0;
    lock(s);
    rc = prep(s, "UPDATE channels SET status = 'reconnect', status_message = ?2, status_at = ?3, updated_at = ?3"
                 " WHERE id = ?1 AND status = 'active' AND secret IS ?4 AND settings = ?5", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, c->id);
        bind_text(q, 2, message && *message ? message : "the network refused the channel's credentials");
        sqlite3_bind_int64(q, 3, now);
        if(c->secret)
            sqlite3_bind_blob(q, 4, c->secret, (int)c->secret_len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(q, 4);
        bind_text(q, 5, c->settings ? c->settings : "{}");
        rc = exec_stmt(s, q, "channel status", changed);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_channel_reactivate(struct store *st, int64_t id, int64_t now, int *changed)
{
    return simple_exec(st, "UPDATE channels SET status = 'active', status_message = NULL, status_at = ?2,"
                           " updated_at = ?2 WHERE id = ?1 AND status <> 'active'", "channel status", id, now, 0,
                       NULL, changed);
}

static void bind_opt(sqlite3_stmt *q, int i, const char *v)
{
    if(v)
        bind_text(q, i, v);
    else
        sqlite3_bind_null(q, i);
}

static char *col_opt(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? NULL : col_dup(q, i);
}

static int sq_message_insert(struct store *st, struct store_message *m, int *inserted)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    *inserted = 0;
    lock(s);
    rc = prep(s, "INSERT INTO messages(workspace_id, channel_id, kind, remote_id, remote_url, parent_remote_id,"
                 " root_remote_id, thread_id, author_id, author_handle, author_name, text, created_at, received_at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                 " ON CONFLICT (channel_id, remote_id) DO NOTHING", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, m->workspace_id);
        sqlite3_bind_int64(q, 2, m->channel_id);
        bind_text(q, 3, m->kind);
        bind_text(q, 4, m->remote_id ? m->remote_id : "");
        bind_opt(q, 5, m->remote_url);
        bind_opt(q, 6, m->parent_remote_id);
        bind_opt(q, 7, m->root_remote_id);
        bind_opt(q, 8, m->thread_id);
        bind_text(q, 9, m->author_id ? m->author_id : "");
        bind_opt(q, 10, m->author_handle);
        bind_opt(q, 11, m->author_name);
        bind_text(q, 12, m->text ? m->text : "");
        sqlite3_bind_int64(q, 13, m->created_at);
        sqlite3_bind_int64(q, 14, m->received_at);
        rc = exec_stmt(s, q, "message", &n);
        release(s, q);
    }
    if(!rc && n) {
        m->id = sqlite3_last_insert_rowid(s->db);
        *inserted = 1;
    } else if(!rc) {
        rc = prep(s, "SELECT id FROM messages WHERE channel_id = ?1 AND remote_id = ?2", &q);
        if(!rc) {
            sqlite3_bind_int64(q, 1, m->channel_id);
            bind_text(q, 2, m->remote_id ? m->remote_id : "");
            if(sqlite3_step(q) == SQLITE_ROW)
                m->id = sqlite3_column_int64(q, 0);
            release(s, q);
        }
    }
    unlock(s);
    return rc;
}

static void row_message(sqlite3_stmt *q, void *p)
{
    struct store_message *m = p;
    memset(m, 0, sizeof(*m));
    m->id = sqlite3_column_int64(q, 0);
    m->workspace_id = sqlite3_column_int64(q, 1);
    m->channel_id = sqlite3_column_int64(q, 2);
    col_text(q, 3, m->kind, sizeof(m->kind));
    m->remote_id = col_dup(q, 4);
    m->remote_url = col_opt(q, 5);
    m->parent_remote_id = col_opt(q, 6);
    m->root_remote_id = col_opt(q, 7);
    m->thread_id = col_opt(q, 8);
    m->author_id = col_dup(q, 9);
    m->author_handle = col_opt(q, 10);
    m->author_name = col_opt(q, 11);
    m->text = col_dup(q, 12);
    m->created_at = sqlite3_column_int64(q, 13);
    m->received_at = sqlite3_column_int64(q, 14);
    col_text(q, 15, m->channel_name, sizeof(m->channel_name));
    col_text(q, 16, m->channel_kind, sizeof(m->channel_kind));
}

static int sq_message_list(struct store *st, int64_t ws, int64_t channel, const char *kind, int64_t before,
                           int limit, struct store_message **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT m.id, m.workspace_id, m.channel_id, m.kind, m.remote_id, m.remote_url,"
                 " m.parent_remote_id, m.root_remote_id, m.thread_id, m.author_id, m.author_handle,"
                 " m.author_name, m.text, m.created_at, m.received_at, c.name, c.kind"
                 " FROM messages m JOIN channels c ON c.id = m.channel_id"
                 " WHERE m.workspace_id = ?1 AND (?2 = 0 OR m.channel_id = ?2) AND (?3 IS NULL OR m.kind = ?3)"
                 " AND (?4 = 0 OR m.id < ?4) ORDER BY m.id DESC LIMIT ?5", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, channel);
        bind_opt(q, 3, kind);
        sqlite3_bind_int64(q, 4, before);
        sqlite3_bind_int(q, 5, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_message, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_cursor_get(struct store *st, int64_t channel, const char *name, char *out, size_t n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    if(n)
        out[0] = '\0';
    lock(s);
    rc = prep(s, "SELECT value FROM channel_cursors WHERE channel_id = ?1 AND name = ?2", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, channel);
        bind_text(q, 2, name);
        if(sqlite3_step(q) == SQLITE_ROW) {
            const unsigned char *v = sqlite3_column_text(q, 0);
            size_t len = v ? strlen((const char *)v) : 0;
            if(len >= n)
                rc = sam_fail(SAM_ETOOBIG, "the stored cursor %s is longer than %zu bytes", name, n);
            else if(v)
                memcpy(out, v, len + 1);
        }
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_cursor_set(struct store *st, int64_t channel, const char *name, const char *value, int64_t now)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO channel_cursors(channel_id, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)"
                 " ON CONFLICT (channel_id, name) DO UPDATE SET value = excluded.value,"
                 " updated_at = excluded.updated_at", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, channel);
        bind_text(q, 2, name);
        bind_text(q, 3, value);
        sqlite3_bind_int64(q, 4, now);
        rc = exec_stmt(s, q, "channel cursor", NULL);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_engagement_plan(struct store *st, int64_t occurrence, int64_t published_at,
                              const int64_t *checkpoints, size_t n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc = SAM_OK;
    lock(s);
    for(size_t i = 0; !rc && i < n; i++) {
        rc = prep(s, "INSERT INTO engagement(occurrence_id, checkpoint, due_at) VALUES (?1, ?2, ?3)"
                     " ON CONFLICT DO NOTHING", &q);
        if(rc)
            break;
        sqlite3_bind_int64(q, 1, occurrence);
        sqlite3_bind_int64(q, 2, checkpoints[i]);
        sqlite3_bind_int64(q, 3, published_at + checkpoints[i]);
        rc = exec_stmt(s, q, "engagement", NULL);
        release(s, q);
    }
    unlock(s);
    return rc;
}

#define ENG_COLS "e.occurrence_id, e.checkpoint, e.due_at, coalesce(e.fetched_at, 0), e.attempts," \
                 " coalesce(e.likes, -1), coalesce(e.reposts, -1), coalesce(e.replies, -1), coalesce(e.quotes, -1)," \
                 " coalesce(e.error, ''), o.workspace_id, o.post_id, o.channel_id, coalesce(o.published_at, 0)," \
                 " coalesce(o.remote_id, '')"

static void row_engagement(sqlite3_stmt *q, void *p)
{
    struct store_engagement *e = p;
    memset(e, 0, sizeof(*e));
    e->occurrence_id = sqlite3_column_int64(q, 0);
    e->checkpoint = sqlite3_column_int64(q, 1);
    e->due_at = sqlite3_column_int64(q, 2);
    e->fetched_at = sqlite3_column_int64(q, 3);
    e->attempts = sqlite3_column_int(q, 4);
    e->likes = sqlite3_column_int64(q, 5);
    e->reposts = sqlite3_column_int64(q, 6);
    e->replies = sqlite3_column_int64(q, 7);
    e->quotes = sqlite3_column_int64(q, 8);
    col_text(q, 9, e->error, sizeof(e->error));
    e->workspace_id = sqlite3_column_int64(q, 10);
    e->post_id = sqlite3_column_int64(q, 11);
    e->channel_id = sqlite3_column_int64(q, 12);
    e->published_at = sqlite3_column_int64(q, 13);
    col_text(q, 14, e->remote_id, sizeof(e->remote_id));
}

static int sq_engagement_due(struct store *st, int64_t now, int limit, struct store_engagement **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT " ENG_COLS " FROM engagement e JOIN occurrences o ON o.id = e.occurrence_id"
                 " JOIN channels c ON c.id = o.channel_id"
                 " WHERE e.fetched_at IS NULL AND e.due_at <= ?1 AND e.checkpoint > 0 AND o.state = 'published'"
                 " AND o.deleted_at IS NULL AND c.status = 'active'"
                 " ORDER BY e.due_at, e.occurrence_id LIMIT ?2", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, now);
        sqlite3_bind_int(q, 2, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_engagement, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static void bind_count(sqlite3_stmt *q, int i, int64_t v)
{
    if(v >= 0)
        sqlite3_bind_int64(q, i, v);
    else
        sqlite3_bind_null(q, i);
}

static int sq_engagement_record(struct store *st, const struct store_engagement *e)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    rc = prep(s, "UPDATE engagement SET fetched_at = ?3, due_at = ?4, attempts = attempts + 1, likes = ?5,"
                 " reposts = ?6, replies = ?7, quotes = ?8, error = ?9"
                 " WHERE occurrence_id = ?1 AND checkpoint = ?2", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, e->occurrence_id);
        sqlite3_bind_int64(q, 2, e->checkpoint);
        if(e->fetched_at)
            sqlite3_bind_int64(q, 3, e->fetched_at);
        else
            sqlite3_bind_null(q, 3);
        sqlite3_bind_int64(q, 4, e->due_at);
        bind_count(q, 5, e->likes);
        bind_count(q, 6, e->reposts);
        bind_count(q, 7, e->replies);
        bind_count(q, 8, e->quotes);
        bind_opt(q, 9, e->error[0] ? e->error : NULL);
        rc = exec_stmt(s, q, "engagement", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "engagement fetch not found");
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_engagement_list(struct store *st, int64_t ws, int64_t post, int64_t occurrence,
                              struct store_engagement **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT " ENG_COLS " FROM engagement e JOIN occurrences o ON o.id = e.occurrence_id"
                 " WHERE (?1 = 0 OR o.workspace_id = ?1) AND (?2 = 0 OR o.post_id = ?2)"
                 " AND (?3 = 0 OR o.id = ?3) ORDER BY e.occurrence_id, e.checkpoint LIMIT 3000", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, post);
        sqlite3_bind_int64(q, 3, occurrence);
        rc = run_list(s, q, sizeof(**items), 3000, row_engagement, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_oauth_insert(struct store *st, const struct store_oauth *o)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO oauth_pending(state_hash, workspace_id, user_id, kind, channel_id, detail, secret,"
                 " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &q);
    if(!rc) {
        bind_text(q, 1, o->state_hash);
        sqlite3_bind_int64(q, 2, o->workspace_id);
        if(o->user_id)
            sqlite3_bind_int64(q, 3, o->user_id);
        else
            sqlite3_bind_null(q, 3);
        bind_text(q, 4, o->kind);
        if(o->channel_id)
            sqlite3_bind_int64(q, 5, o->channel_id);
        else
            sqlite3_bind_null(q, 5);
        bind_text(q, 6, o->detail ? o->detail : "{}");
        if(o->secret)
            sqlite3_bind_blob(q, 7, o->secret, (int)o->secret_len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(q, 7);
        sqlite3_bind_int64(q, 8, o->created_at);
        sqlite3_bind_int64(q, 9, o->expires_at);
        rc = exec_stmt(s, q, "pending connection", NULL);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_oauth_take(struct store *st, const char *state_hash, int64_t now, struct store_oauth *out)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, found = 0;
    memset(out, 0, sizeof(*out));
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin oauth");
    if(!rc)
        rc = prep(s, "SELECT state_hash, workspace_id, coalesce(user_id, 0), kind, coalesce(channel_id, 0), detail,"
                     " secret, created_at, expires_at FROM oauth_pending WHERE state_hash = ?1 AND expires_at > ?2", &q);
    if(!rc) {
        bind_text(q, 1, state_hash);
        sqlite3_bind_int64(q, 2, now);
        if(sqlite3_step(q) == SQLITE_ROW) {
            const void *blob = sqlite3_column_blob(q, 6);
            found = 1;
            col_text(q, 0, out->state_hash, sizeof(out->state_hash));
            out->workspace_id = sqlite3_column_int64(q, 1);
            out->user_id = sqlite3_column_int64(q, 2);
            col_text(q, 3, out->kind, sizeof(out->kind));
            out->channel_id = sqlite3_column_int64(q, 4);
            out->detail = col_dup(q, 5);
            if(blob) {
                out->secret_len = (size_t)sqlite3_column_bytes(q, 6);
                out->secret = malloc(out->secret_len ? out->secret_len : 1);
                if(out->secret)
                    memcpy(out->secret, blob, out->secret_len);
                else
                    out->secret_len = 0;
            }
            out->created_at = sqlite3_column_int64(q, 7);
            out->expires_at = sqlite3_column_int64(q, 8);
        }
        release(s, q);
        rc = prep(s, "DELETE FROM oauth_pending WHERE state_hash = ?1 OR expires_at <= ?2", &q);
        if(!rc) {
            bind_text(q, 1, state_hash);
            sqlite3_bind_int64(q, 2, now);
            rc = exec_stmt(s, q, "pending connection", NULL);
            release(s, q);
        }
    }
    if(!rc)
        rc = commit_tx(s, "commit oauth");
    else
        (void)exec_sql(s, "ROLLBACK", "rollback oauth");
    unlock(s);
    if(!rc && !found)
        rc = sam_fail(SAM_ENOTFOUND, "this connection link is unknown or expired; start connecting again");
    if(rc)
        store_oauth_cleanup(out);
    return rc;
}

/* ---- mail outbox ---- */

#define MAIL_COLS "id, recipient, subject, kind, state, attempts, next_attempt_at, coalesce(lease_owner, '')," \
                  " coalesce(lease_until, 0), coalesce(last_error, ''), coalesce(reply, ''), created_at, updated_at," \
                  " coalesce(sent_at, 0), sealed"

/* A row of MAIL_COLS, and the body when the query has one more column. */
static void row_mail(sqlite3_stmt *q, void *p)
{
    struct store_mail *m = p;
    memset(m, 0, sizeof(*m));
    m->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, m->recipient, sizeof(m->recipient));
    m->subject = col_dup(q, 2);
    col_text(q, 3, m->kind, sizeof(m->kind));
    col_text(q, 4, m->state, sizeof(m->state));
    m->attempts = sqlite3_column_int(q, 5);
    m->next_attempt_at = sqlite3_column_int64(q, 6);
    col_text(q, 7, m->lease_owner, sizeof(m->lease_owner));
    m->lease_until = sqlite3_column_int64(q, 8);
    col_text(q, 9, m->last_error, sizeof(m->last_error));
    col_text(q, 10, m->reply, sizeof(m->reply));
    m->created_at = sqlite3_column_int64(q, 11);
    m->updated_at = sqlite3_column_int64(q, 12);
    m->sent_at = sqlite3_column_int64(q, 13);
    m->sealed = sqlite3_column_int(q, 14);
    if(sqlite3_column_count(q) > 15)
        m->body = col_dup(q, 15);
}

static int sq_mail_insert(struct store *st, struct store_mail *m)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "INSERT INTO mail_outbox(recipient, subject, body, kind, state, attempts, next_attempt_at,"
                 " lease_owner, lease_until, created_at, updated_at, sealed)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)",
             &q);
    if(!rc) {
        bind_text(q, 1, m->recipient);
        bind_text(q, 2, m->subject ? m->subject : "");
        bind_text(q, 3, m->body ? m->body : "");
        bind_text(q, 4, m->kind);
        bind_text(q, 5, m->state[0] ? m->state : "queued");
        sqlite3_bind_int(q, 6, m->attempts);
        sqlite3_bind_int64(q, 7, m->next_attempt_at);
        bind_text_or_null(q, 8, m->lease_owner[0] ? m->lease_owner : NULL);
        if(m->lease_until)
            sqlite3_bind_int64(q, 9, m->lease_until);
        else
            sqlite3_bind_null(q, 9);
        sqlite3_bind_int64(q, 10, m->created_at);
        sqlite3_bind_int(q, 11, m->sealed ? 1 : 0);
        rc = exec_stmt(s, q, "mail", NULL);
        if(!rc) {
            m->id = sqlite3_last_insert_rowid(s->db);
            m->updated_at = m->created_at;
        }
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_mail_claim(struct store *st, int64_t now, const char *owner, int lease_seconds, int limit,
                         struct store_mail **items, size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    *items = NULL;
    *n = 0;
    lock(s);
    /* One statement: the rows are chosen and leased together, so two workers (or a
     * worker and `samtale mail test`) never take the same message. */
    rc = prep(s, "UPDATE mail_outbox SET state = 'sending', lease_owner = ?2, lease_until = ?1 + ?3,"
                 " attempts = attempts + 1, updated_at = ?1 WHERE id IN (SELECT id FROM mail_outbox"
                 " WHERE (state = 'queued' AND next_attempt_at <= ?1) OR (state = 'sending' AND lease_until < ?1)"
                 " ORDER BY next_attempt_at, id LIMIT ?4) RETURNING " MAIL_COLS ", body", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, now);
        bind_text(q, 2, owner);
        sqlite3_bind_int(q, 3, lease_seconds);
        sqlite3_bind_int(q, 4, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_mail, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    if(!rc && !*n) {
        free(*items);
        *items = NULL;
    }
    return rc;
}

static int sq_mail_finish(struct store *st, int64_t id, const char *owner, const struct store_mail_outcome *o,
                          int64_t now)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    rc = prep(s, "UPDATE mail_outbox SET state = ?3, last_error = ?4, reply = ?5,"
                 " next_attempt_at = CASE WHEN ?6 > 0 THEN ?6 ELSE next_attempt_at END,"
                 " sent_at = CASE WHEN ?3 = 'sent' THEN ?7 ELSE sent_at END, lease_owner = NULL, lease_until = NULL,"
                 " body = CASE WHEN sealed = 1 AND ?3 IN ('sent', 'failed') THEN '' ELSE body END,"
                 " updated_at = ?7 WHERE id = ?1 AND state = 'sending' AND lease_owner = ?2", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, id);
        bind_text(q, 2, owner);
        bind_text(q, 3, o->state);
        bind_text_or_null(q, 4, o->error);
        bind_text_or_null(q, 5, o->reply);
        sqlite3_bind_int64(q, 6, o->next_attempt_at);
        sqlite3_bind_int64(q, 7, now);
        rc = exec_stmt(s, q, "mail", &n);
        release(s, q);
    }
    unlock(s);
    if(!rc && !n)
        rc = sam_fail(SAM_ECONFLICT, "mail %lld is no longer leased to %s", (long long)id, owner);
    return rc;
}

static int sq_mail_list(struct store *st, const char *state, int64_t before, int limit, struct store_mail **items,
                        size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, "SELECT " MAIL_COLS " FROM mail_outbox WHERE (?1 IS NULL OR state = ?1) AND (?2 = 0 OR id < ?2)"
                 " ORDER BY id DESC LIMIT ?3", &q);
    if(!rc) {
        bind_text_or_null(q, 1, state);
        sqlite3_bind_int64(q, 2, before);
        sqlite3_bind_int(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_mail, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_mail_counts(struct store *st, int64_t counts[STORE_MAIL_NSTATES])
{
    static const char *const states[STORE_MAIL_NSTATES] = {"queued", "sending", "sent", "failed"};
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, r;
    memset(counts, 0, sizeof(int64_t) * STORE_MAIL_NSTATES);
    lock(s);
    rc = prep(s, "SELECT state, count(*) FROM mail_outbox GROUP BY state", &q);
    if(!rc) {
        while((r = sqlite3_step(q)) == SQLITE_ROW) {
            const char *state = (const char *)sqlite3_column_text(q, 0);
            for(int i = 0; state && i < STORE_MAIL_NSTATES; i++)
                if(!strcmp(state, states[i]))
                    counts[i] = sqlite3_column_int64(q, 1);
        }
        if(r != SQLITE_DONE)
            rc = sq_err(s, r, "mail counts");
        release(s, q);
    }
    unlock(s);
    return rc;
}

/* ---- security (X6): login failures, invitations, the second factor ---- */

static int sq_workspace_set_second_factor(struct store *st, int64_t ws, int required)
{
    int n = 0;
    int rc = simple_exec(st, "UPDATE workspaces SET require_second_factor = ?2 WHERE id = ?1", "workspace", ws,
                         required ? 1 : 0, 0, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "workspace not found");
    return rc;
}

static int sq_user_login_failed(struct store *st, int64_t id, int64_t now, const char *addr, int *count)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    *count = 0;
    lock(s);
    rc = prep(s, "UPDATE users SET failed_logins = failed_logins + 1, failed_login_at = ?2, failed_login_addr = ?3"
                 " WHERE id = ?1 RETURNING users.failed_logins", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, now);
        bind_text(q, 3, addr ? addr : "");
        rc = get_one(s, q, "account");
        if(!rc)
            *count = sqlite3_column_int(q, 0);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_user_login_succeeded(struct store *st, int64_t id, int64_t now, struct store_user *before)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q = NULL;
    int rc;
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(rc)
        goto out;
    rc = prep(s, "SELECT " USER_COLS " FROM users WHERE id = ?1", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, id);
        rc = get_one(s, q, "account");
        if(!rc)
            row_user(q, before);
        release(s, q);
    }
    if(!rc)
        rc = prep(s, "UPDATE users SET last_login_at = ?2, failed_logins = 0, failed_login_at = NULL,"
                     " failed_login_addr = NULL WHERE id = ?1", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, now);
        rc = exec_stmt(s, q, "account", NULL);
        release(s, q);
    }
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback");
    else
        rc = commit_tx(s, "commit");
out:
    unlock(s);
    return rc;
}

static int sq_user_failed_notified(struct store *st, int64_t id, int64_t now)
{
    return simple_exec(st, "UPDATE users SET failed_notified_at = ?2 WHERE id = ?1", "account", id, now, 0, NULL,
                       NULL);
}

static int sq_session_clear_notice(struct store *st, int64_t id)
{
    return simple_exec(st, "UPDATE sessions SET notice_failed = 0, notice_failed_at = NULL, notice_failed_addr = NULL"
                           " WHERE id = ?1", "session", id, 0, 0, NULL, NULL);
}

static int sq_token_revoke_user(struct store *st, int64_t user_id, int64_t now, int *n)
{
    *n = 0;
    return simple_exec(st, "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                       "tokens", user_id, now, 0, NULL, n);
}

#define INVITATION_SELECT "SELECT i.id, i.workspace_id, i.email, coalesce(i.name, ''), i.role, i.language," \
                          " i.delivery, coalesce(i.invited_by, 0), coalesce(u.name, ''), w.name, i.created_at," \
                          " i.expires_at, coalesce(i.accepted_at, 0), coalesce(i.revoked_at, 0)" \
                          " FROM invitations i JOIN workspaces w ON w.id = i.workspace_id" \
                          " LEFT JOIN users u ON u.id = i.invited_by"

static void row_invitation(sqlite3_stmt *q, void *p)
{
    struct store_invitation *v = p;
    memset(v, 0, sizeof(*v));
    v->id = sqlite3_column_int64(q, 0);
    v->workspace_id = sqlite3_column_int64(q, 1);
    col_text(q, 2, v->email, sizeof(v->email));
    col_text(q, 3, v->name, sizeof(v->name));
    col_text(q, 4, v->role, sizeof(v->role));
    col_text(q, 5, v->language, sizeof(v->language));
    col_text(q, 6, v->delivery, sizeof(v->delivery));
    v->invited_by = sqlite3_column_int64(q, 7);
    col_text(q, 8, v->inviter_name, sizeof(v->inviter_name));
    col_text(q, 9, v->workspace_name, sizeof(v->workspace_name));
    v->created_at = sqlite3_column_int64(q, 10);
    v->expires_at = sqlite3_column_int64(q, 11);
    v->accepted_at = sqlite3_column_int64(q, 12);
    v->revoked_at = sqlite3_column_int64(q, 13);
}

static int invitation_get_locked(struct sq *s, int64_t id, const unsigned char *hash, struct store_invitation *out)
{
    sqlite3_stmt *q;
    int rc = prep(s, hash ? INVITATION_SELECT " WHERE i.token_hash = ?1" : INVITATION_SELECT " WHERE i.id = ?1", &q);
    if(rc)
        return rc;
    if(hash)
        sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(q, 1, id);
    rc = get_one(s, q, "invitation");
    if(!rc)
        row_invitation(q, out);
    release(s, q);
    return rc;
}

static int sq_invitation_get(struct store *st, int64_t id, const unsigned char *hash, struct store_invitation *out)
{
    struct sq *s = SQ(st);
    lock(s);
    int rc = invitation_get_locked(s, id, hash, out);
    unlock(s);
    return rc;
}

static int sq_invitation_insert(struct store *st, const unsigned char hash[32], struct store_invitation *v)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q = NULL;
    int rc;
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(rc)
        goto out;
    rc = prep(s, "UPDATE invitations SET revoked_at = ?3 WHERE workspace_id = ?1 AND email = ?2"
                 " AND accepted_at IS NULL AND revoked_at IS NULL", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, v->workspace_id);
        bind_text(q, 2, v->email);
        sqlite3_bind_int64(q, 3, v->created_at);
        rc = exec_stmt(s, q, "invitation", NULL);
        release(s, q);
    }
    if(!rc)
        rc = prep(s, "INSERT INTO invitations(workspace_id, email, name, role, token_hash, language, invited_by,"
                     " delivery, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, v->workspace_id);
        bind_text(q, 2, v->email);
        if(v->name[0])
            bind_text(q, 3, v->name);
        else
            sqlite3_bind_null(q, 3);
        bind_text(q, 4, v->role);
        sqlite3_bind_blob(q, 5, hash, 32, SQLITE_TRANSIENT);
        bind_text(q, 6, v->language[0] ? v->language : "en");
        if(v->invited_by)
            sqlite3_bind_int64(q, 7, v->invited_by);
        else
            sqlite3_bind_null(q, 7);
        bind_text(q, 8, v->delivery[0] ? v->delivery : "link");
        sqlite3_bind_int64(q, 9, v->created_at);
        sqlite3_bind_int64(q, 10, v->expires_at);
        rc = exec_stmt(s, q, "invitation", NULL);
        if(!rc)
            v->id = sqlite3_last_insert_rowid(s->db);
        release(s, q);
    }
    if(!rc)
        rc = invitation_get_locked(s, v->id, NULL, v);
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback");
    else
        rc = commit_tx(s, "commit");
out:
    unlock(s);
    return rc;
}

static int sq_invitation_list(struct store *st, int64_t ws, int64_t after, int limit, struct store_invitation **items,
                              size_t *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = prep(s, INVITATION_SELECT " WHERE i.workspace_id = ?1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL"
                 " AND i.id > ?2 ORDER BY i.id LIMIT ?3", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, after);
        sqlite3_bind_int(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_invitation, (void **)items, n);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_invitation_count(struct store *st, int64_t ws, int64_t by, int64_t since, int *n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    *n = 0;
    lock(s);
    rc = prep(s, "SELECT count(*) FROM invitations WHERE (?1 = 0 OR (workspace_id = ?1 AND accepted_at IS NULL"
                 " AND revoked_at IS NULL)) AND (?2 = 0 OR (invited_by = ?2 AND created_at >= ?3))", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, ws);
        sqlite3_bind_int64(q, 2, by);
        sqlite3_bind_int64(q, 3, since);
        rc = get_one(s, q, "invitations");
        if(!rc)
            *n = sqlite3_column_int(q, 0);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_invitation_revoke(struct store *st, int64_t ws, int64_t id, int64_t now)
{
    int n = 0;
    int rc = simple_exec(st, "UPDATE invitations SET revoked_at = ?3 WHERE id = ?1 AND workspace_id = ?2"
                             " AND accepted_at IS NULL AND revoked_at IS NULL", "invitation", id, ws, now, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "no pending invitation %lld", (long long)id);
    return rc;
}

static int sq_invitation_accept(struct store *st, const unsigned char hash[32], int64_t now, struct store_user *nu,
                                int64_t user_id, struct store_invitation *out)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q = NULL;
    int rc, n = 0;
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(rc)
        goto out;
    rc = invitation_get_locked(s, 0, hash, out);
    if(rc == SAM_ENOTFOUND)
        rc = sam_fail(SAM_ENOTFOUND, "this invitation link is not valid: check that it was copied whole");
    else if(!rc && out->accepted_at)
        rc = sam_fail(SAM_ENOTFOUND, "this invitation was already used; log in instead");
    else if(!rc && out->revoked_at)
        rc = sam_fail(SAM_ENOTFOUND, "this invitation was withdrawn; ask for a new one");
    else if(!rc && out->expires_at <= now)
        rc = sam_fail(SAM_ENOTFOUND, "this invitation has expired; ask for a new one");
    if(!rc && nu) {
        rc = prep(s, "INSERT INTO users(email, name, password_hash, must_change_password, created_at)"
                     " VALUES (?1, ?2, ?3, 0, ?4)", &q);
        if(!rc) {
            bind_text(q, 1, nu->email);
            bind_text(q, 2, nu->name);
            bind_text(q, 3, nu->password_hash);
            sqlite3_bind_int64(q, 4, nu->created_at);
            rc = exec_stmt(s, q, "account", NULL);
            if(rc == SAM_ECONFLICT)
                rc = sam_fail_field(SAM_ECONFLICT, "email", "%s already has a samtale account: log in with it, "
                                    "then open this link again to accept", nu->email);
            if(!rc)
                user_id = nu->id = sqlite3_last_insert_rowid(s->db);
            release(s, q);
        }
    }
    if(!rc)
        rc = prep(s, "INSERT INTO members(workspace_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, out->workspace_id);
        sqlite3_bind_int64(q, 2, user_id);
        bind_text(q, 3, out->role);
        sqlite3_bind_int64(q, 4, now);
        rc = exec_stmt(s, q, "membership", NULL);
        if(rc == SAM_ECONFLICT)
            rc = sam_fail(SAM_ECONFLICT, "you are already a member of %s", out->workspace_name);
        release(s, q);
    }
    if(!rc)
        rc = prep(s, "UPDATE invitations SET accepted_at = ?2, accepted_by = ?3 WHERE id = ?1"
                     " AND accepted_at IS NULL AND revoked_at IS NULL", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, out->id);
        sqlite3_bind_int64(q, 2, now);
        sqlite3_bind_int64(q, 3, user_id);
        rc = exec_stmt(s, q, "invitation", &n);
        if(!rc && n != 1)
            rc = sam_fail(SAM_ENOTFOUND, "this invitation was already used; log in instead");
        release(s, q);
    }
    if(!rc)
        out->accepted_at = now;
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback");
    else
        rc = commit_tx(s, "commit");
out:
    unlock(s);
    return rc;
}

static int col_blob(sqlite3_stmt *q, int i, unsigned char **out, size_t *len)
{
    const void *b = sqlite3_column_blob(q, i);
    int n = sqlite3_column_bytes(q, i);
    *out = NULL;
    *len = 0;
    if(!b || n <= 0)
        return SAM_OK;
    *out = malloc((size_t)n);
    if(!*out)
        return SAM_ENOMEM;
    memcpy(*out, b, (size_t)n);
    *len = (size_t)n;
    return SAM_OK;
}

static int sq_totp_get(struct store *st, int64_t user, struct store_totp *out)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    memset(out, 0, sizeof(*out));
    lock(s);
    rc = prep(s, "SELECT totp_secret, totp_pending, coalesce(totp_enabled_at, 0), totp_last_step FROM users"
                 " WHERE id = ?1", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, user);
        rc = get_one(s, q, "account");
        if(!rc)
            rc = col_blob(q, 0, &out->secret, &out->secret_len);
        if(!rc)
            rc = col_blob(q, 1, &out->pending, &out->pending_len);
        if(!rc) {
            out->enabled_at = sqlite3_column_int64(q, 2);
            out->last_step = sqlite3_column_int64(q, 3);
        }
        release(s, q);
    }
    unlock(s);
    if(rc)
        store_totp_cleanup(out);
    return rc;
}

static int sq_totp_set_pending(struct store *st, int64_t user, const unsigned char *sealed, size_t len)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    rc = prep(s, "UPDATE users SET totp_pending = ?2 WHERE id = ?1", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, user);
        if(sealed)
            sqlite3_bind_blob(q, 2, sealed, (int)len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(q, 2);
        rc = exec_stmt(s, q, "account", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "account not found");
        release(s, q);
    }
    unlock(s);
    return rc;
}

/* Inside a transaction: the account's recovery codes become exactly hashes[0..n). */
static int recovery_replace_locked(struct sq *s, int64_t user, const unsigned char (*hashes)[32], size_t n)
{
    sqlite3_stmt *q;
    int rc = prep(s, "DELETE FROM recovery_codes WHERE user_id = ?1", &q);
    if(rc)
        return rc;
    sqlite3_bind_int64(q, 1, user);
    rc = exec_stmt(s, q, "recovery codes", NULL);
    release(s, q);
    for(size_t i = 0; !rc && i < n; i++) {
        rc = prep(s, "INSERT INTO recovery_codes(user_id, code_hash) VALUES (?1, ?2)", &q);
        if(rc)
            break;
        sqlite3_bind_int64(q, 1, user);
        sqlite3_bind_blob(q, 2, hashes[i], 32, SQLITE_TRANSIENT);
        rc = exec_stmt(s, q, "recovery code", NULL);
        release(s, q);
    }
    return rc;
}

static int sq_totp_enable(struct store *st, int64_t user, const unsigned char *sealed, size_t len, int64_t now,
                          int64_t step, const unsigned char (*hashes)[32], size_t n)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, changed = 0;
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(rc)
        goto out;
    rc = prep(s, "UPDATE users SET totp_secret = ?2, totp_pending = NULL, totp_enabled_at = ?3, totp_last_step = ?4"
                 " WHERE id = ?1", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, user);
        sqlite3_bind_blob(q, 2, sealed, (int)len, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, now);
        sqlite3_bind_int64(q, 4, step);
        rc = exec_stmt(s, q, "account", &changed);
        if(!rc && !changed)
            rc = sam_fail(SAM_ENOTFOUND, "account not found");
        release(s, q);
    }
    if(!rc)
        rc = recovery_replace_locked(s, user, hashes, n);
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback");
    else
        rc = commit_tx(s, "commit");
out:
    unlock(s);
    return rc;
}

static int sq_totp_disable(struct store *st, int64_t user)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(rc)
        goto out;
    rc = prep(s, "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_enabled_at = NULL WHERE id = ?1", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, user);
        rc = exec_stmt(s, q, "account", NULL);
        release(s, q);
    }
    if(!rc)
        rc = recovery_replace_locked(s, user, NULL, 0);
    if(rc)
        exec_sql(s, "ROLLBACK", "rollback");
    else
        rc = commit_tx(s, "commit");
out:
    unlock(s);
    return rc;
}

static int sq_totp_use_step(struct store *st, int64_t user, int64_t step)
{
    int n = 0;
    int rc = simple_exec(st, "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2", "account",
                         user, step, 0, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ECONFLICT, "that code was used already; wait for the next one");
    return rc;
}

static int sq_recovery_replace(struct store *st, int64_t user, const unsigned char (*hashes)[32], size_t n)
{
    struct sq *s = SQ(st);
    int rc;
    lock(s);
    rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
    if(!rc) {
        rc = recovery_replace_locked(s, user, hashes, n);
        if(rc)
            exec_sql(s, "ROLLBACK", "rollback");
        else
            rc = commit_tx(s, "commit");
    }
    unlock(s);
    return rc;
}

static int sq_recovery_use(struct store *st, int64_t user, const unsigned char hash[32], int64_t now)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc, n = 0;
    lock(s);
    rc = prep(s, "UPDATE recovery_codes SET used_at = ?3 WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
              &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, user);
        sqlite3_bind_blob(q, 2, hash, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, now);
        rc = exec_stmt(s, q, "recovery code", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "that recovery code is not valid or was used already");
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_recovery_count(struct store *st, int64_t user, int *left)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    *left = 0;
    lock(s);
    rc = prep(s, "SELECT count(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, user);
        rc = get_one(s, q, "recovery codes");
        if(!rc)
            *left = sqlite3_column_int(q, 0);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_challenge_insert(struct store *st, const unsigned char hash[32], const struct store_challenge *c)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    lock(s);
    /* Old challenges go on the way (they are short-lived). */
    rc = prep(s, "DELETE FROM login_challenges WHERE expires_at <= ?1", &q);
    if(!rc) {
        sqlite3_bind_int64(q, 1, c->created_at);
        rc = exec_stmt(s, q, "login challenges", NULL);
        release(s, q);
    }
    if(!rc)
        rc = prep(s, "INSERT INTO login_challenges(token_hash, user_id, address, attempts, created_at, expires_at)"
                     " VALUES (?1, ?2, ?3, 0, ?4, ?5)", &q);
    if(!rc) {
        sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, c->user_id);
        bind_text(q, 3, c->address);
        sqlite3_bind_int64(q, 4, c->created_at);
        sqlite3_bind_int64(q, 5, c->expires_at);
        rc = exec_stmt(s, q, "login challenge", NULL);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_challenge_get(struct store *st, const unsigned char hash[32], int64_t now, struct store_challenge *out)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    memset(out, 0, sizeof(*out));
    lock(s);
    rc = prep(s, "SELECT user_id, address, attempts, created_at, expires_at FROM login_challenges"
                 " WHERE token_hash = ?1 AND expires_at > ?2", &q);
    if(!rc) {
        sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, now);
        rc = get_one(s, q, "login challenge");
        if(!rc) {
            out->user_id = sqlite3_column_int64(q, 0);
            col_text(q, 1, out->address, sizeof(out->address));
            out->attempts = sqlite3_column_int(q, 2);
            out->created_at = sqlite3_column_int64(q, 3);
            out->expires_at = sqlite3_column_int64(q, 4);
        }
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_challenge_fail(struct store *st, const unsigned char hash[32], int *attempts)
{
    struct sq *s = SQ(st);
    sqlite3_stmt *q;
    int rc;
    *attempts = 0;
    lock(s);
    rc = prep(s, "UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = ?1"
                 " RETURNING login_challenges.attempts", &q);
    if(!rc) {
        sqlite3_bind_blob(q, 1, hash, 32, SQLITE_TRANSIENT);
        rc = get_one(s, q, "login challenge");
        if(!rc)
            *attempts = sqlite3_column_int(q, 0);
        release(s, q);
    }
    unlock(s);
    return rc;
}

static int sq_challenge_delete(struct store *st, const unsigned char hash[32])
{
    return simple_exec(st, "DELETE FROM login_challenges WHERE token_hash = ?1", "login challenge", 0, 0, 0, hash,
                       NULL);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = sq_migrate,
    .schema_version = sq_schema_version,
    .ping = sq_ping,
    .stats = sq_stats,
    .backup = sq_backup,
    .integrity_check = sq_integrity_check,
    .workspace_insert = sq_workspace_insert,
    .workspace_get = sq_workspace_get,
    .workspace_get_by_name = sq_workspace_get_by_name,
    .workspace_update = sq_workspace_update,
    .workspace_list = sq_workspace_list,
    .user_insert = sq_user_insert,
    .user_get = sq_user_get,
    .user_get_by_email = sq_user_get_by_email,
    .user_set_password = sq_user_set_password,
    .user_count = sq_user_count,
    .member_insert = sq_member_insert,
    .member_get = sq_member_get,
    .member_set_role = sq_member_set_role,
    .member_delete = sq_member_delete,
    .member_list = sq_member_list,
    .session_insert = sq_session_insert,
    .session_get = sq_session_get,
    .session_touch = sq_session_touch,
    .session_delete = sq_session_delete,
    .session_delete_user = sq_session_delete_user,
    .token_insert = sq_token_insert,
    .token_get = sq_token_get,
    .token_get_by_hash = sq_token_get_by_hash,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .token_touch = sq_token_touch,
    .channel_insert = sq_channel_insert,
    .channel_get = sq_channel_get,
    .channel_update = sq_channel_update,
    .channel_delete = sq_channel_delete,
    .channel_list = sq_channel_list,
    .workspace_set_ical = sq_workspace_set_ical,
    .workspace_by_ical = sq_workspace_by_ical,
    .post_insert = sq_post_insert,
    .series_insert = sq_series_insert,
    .series_get = sq_series_get,
    .series_list = sq_series_list,
    .occurrence_previous = sq_occurrence_previous,
    .occurrence_mark_deleted = sq_occurrence_mark_deleted,
    .queue_items = sq_queue_items,
    .post_get = sq_post_get,
    .post_update = sq_post_update,
    .post_list = sq_post_list,
    .post_cancel = sq_post_cancel,
    .occurrence_list = sq_occurrence_list,
    .occurrence_claim = sq_occurrence_claim,
    .occurrence_page = sq_occurrence_page,
    .occurrence_finish = sq_occurrence_finish,
    .occurrence_release_leases = sq_occurrence_release_leases,
    .channel_set_status = sq_channel_set_status,
    .channel_mark_reconnect = sq_channel_mark_reconnect,
    .channel_reactivate = sq_channel_reactivate,
    .message_insert = sq_message_insert,
    .message_list = sq_message_list,
    .cursor_get = sq_cursor_get,
    .cursor_set = sq_cursor_set,
    .engagement_plan = sq_engagement_plan,
    .engagement_due = sq_engagement_due,
    .engagement_record = sq_engagement_record,
    .engagement_list = sq_engagement_list,
    .oauth_insert = sq_oauth_insert,
    .oauth_take = sq_oauth_take,
    .mail_insert = sq_mail_insert,
    .mail_claim = sq_mail_claim,
    .mail_finish = sq_mail_finish,
    .mail_list = sq_mail_list,
    .mail_counts = sq_mail_counts,
    .workspace_set_second_factor = sq_workspace_set_second_factor,
    .user_login_failed = sq_user_login_failed,
    .user_login_succeeded = sq_user_login_succeeded,
    .user_failed_notified = sq_user_failed_notified,
    .session_clear_notice = sq_session_clear_notice,
    .token_revoke_user = sq_token_revoke_user,
    .invitation_insert = sq_invitation_insert,
    .invitation_get = sq_invitation_get,
    .invitation_list = sq_invitation_list,
    .invitation_count = sq_invitation_count,
    .invitation_revoke = sq_invitation_revoke,
    .invitation_accept = sq_invitation_accept,
    .totp_get = sq_totp_get,
    .totp_set_pending = sq_totp_set_pending,
    .totp_enable = sq_totp_enable,
    .totp_disable = sq_totp_disable,
    .totp_use_step = sq_totp_use_step,
    .recovery_replace = sq_recovery_replace,
    .recovery_use = sq_recovery_use,
    .recovery_count = sq_recovery_count,
    .challenge_insert = sq_challenge_insert,
    .challenge_get = sq_challenge_get,
    .challenge_fail = sq_challenge_fail,
    .challenge_delete = sq_challenge_delete,
    .audit_insert = sq_audit_insert,
    .audit_list = sq_audit_list,
};

int store_sqlite_open(const char *path, struct store **out)
{
    struct sq *s;
    int rc;
    static const char *pragmas =
        "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;";

    *out = NULL;
    rc = mkdirs_for(path);
    if(!rc && strcmp(path, ":memory:"))
        rc = private_file(path);
    if(rc)
        return rc;
    s = calloc(1, sizeof(*s));
    if(!s)
        return SAM_ENOMEM;
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->mu, NULL);
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if(rc != SQLITE_OK) {
        rc = sam_fail(SAM_ESTORE, "cannot open database %s: %s", path,
                      s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sq_close(&s->base);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    rc = exec_sql(s, pragmas, "configure database");
    if(rc) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return SAM_OK;
}
