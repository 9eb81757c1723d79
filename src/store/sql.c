/*
 * sql.c: the queries of store.h, written once for SQLite and PostgreSQL.
 *
 * Every statement is in the portable subset of db.h (numbered parameters, RETURNING
 * qualified by table name, ON CONFLICT, int64 instants, 0/1 booleans) and runs through the
 * driver of the engine the store was opened on. Reads take a read connection from the
 * pool, writes the writer (SQLite) or any connection (PostgreSQL); a function whose
 * statements must check and change together runs them in one transaction through db_tx,
 * which retries it when the engine asks. Only the embedded migrations run as text.
 */
#include "store/db.h"
#include "store/store_impl.h"
#include "store/store.h"
#include "util/err.h"
#include "util/i18n.h"
#include "util/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct store_lock {
    struct store *st;
    int kind;
    int fd;                   /* SQLite: the lock file, -1 on PostgreSQL */
};

#define P(st) ((st)->pool)

/* Takes a connection from the pool into s (a read one when write is 0), or returns the
 * failure from the function it is used in. */
#define TAKE(write)                                                                                                   \
    do {                                                                                                              \
        int take_rc_ = db_take(P(st), (write), &s);                                                                   \
        if(take_rc_)                                                                                                  \
            return take_rc_;                                                                                          \
    } while(0)

static int notify(struct store *st, const char *channel);
static int watch_start(struct store *st, int wait);

/* After a write to accounts, sessions, tokens, memberships, a workspace's name or rule,
 * or recovery codes: what was read before is stale (core/auth.c's caches), here and, told
 * by NOTIFY, in every other process on a PostgreSQL database. Answers rc, for
 * `return auth_changed(st, rc);`. */
static int auth_changed(struct store *st, int rc)
{
    atomic_fetch_add(&st->auth_gen, 1);
    if(P(st)->drv->notify)
        (void)notify(st, "samtale_auth");
    return rc;
}

unsigned long store_auth_generation(struct store *st)
{
    unsigned long gen = atomic_load(&st->auth_gen);
    struct db_pool *p = P(st);
    if(p->drv->data_version) {
        /* SQLite: any commit by anyone (the CLI beside the server too) changes it. */
        int64_t v = 0;
        pthread_mutex_lock(&st->epoch_mu);
        if(!st->epoch_conn && p->drv->connect(p->target, !strcmp(p->target, ":memory:"), &st->epoch_conn))
            st->epoch_conn = NULL;
        if(!st->epoch_conn || p->drv->data_version(st->epoch_conn, &v)) {
            /* Unknown: a value each call gets anew, so nothing cached is used. */
            pthread_mutex_unlock(&st->epoch_mu);
            return gen + (atomic_fetch_add(&st->auth_words, 1) << 20) + ((unsigned long)1 << 62);
        }
        pthread_mutex_unlock(&st->epoch_mu);
        return gen + ((unsigned long)v << 20);
    }
    if(p->drv->notify) {
        /* PostgreSQL: every word another process sent about authentication changes it.
         * While nobody listens (the listener is starting, or its connection broke), a
         * value each call gets anew: nothing cached is used, and nobody waits for it. */
        if(watch_start(st, 0))
            return gen + (atomic_fetch_add(&st->auth_words, 1) << 20);
        return gen + (atomic_load(&st->auth_words) << 20);
    }
    return gen;
}

/* An email as accounts keep it: ASCII letters in lower case, the rest as it is (both
 * engines then compare it the same way; migration 0007). */
static void fold_email(const char *email, char *out, size_t n)
{
    size_t i = 0;
    for(; email[i] && i + 1 < n; i++)
        out[i] = email[i] >= 'A' && email[i] <= 'Z' ? (char)(email[i] - 'A' + 'a') : email[i];
    out[i] = '\0';
}

static int prep(struct dbc *s, const char *sql, struct dbq **q)
{
    return db_prep(s, sql, q);
}

static void col_text(struct dbq *q, int i, char *dst, size_t n)
{
    snprintf(dst, n, "%s", db_text(q, i));
}

static char *col_dup(struct dbq *q, int i)
{
    return strdup(db_text(q, i));
}

static void bind_text(struct dbq *q, int i, const char *v)
{
    db_bind_text(q, i, v);
}

/* Runs a statement that returns no rows (or whose rows are not read); *changes gets the
 * rows changed. */
static int exec_stmt(struct dbc *s, struct dbq *q, const char *what, int *changes)
{
    int rc = db_step(q);
    if(rc == DB_ERROR)
        return db_fail(s, what);
    if(changes)
        *changes = db_changes(q);
    return SAM_OK;
}

/* Runs an INSERT ... RETURNING table.id and gives the new id. */
static int insert_id(struct dbc *s, struct dbq *q, const char *what, int64_t *id)
{
    int r = db_step(q);
    if(r == DB_ROW) {
        *id = db_int64(q, 0);
        return SAM_OK;
    }
    if(r == DB_DONE)
        return sam_fail(SAM_ESTORE, "%s: no id came back", what);
    return db_fail(s, what);
}

/* ---- open, close, migrations ---- */

void store_close(struct store *st)
{
    if(!st)
        return;
    if(st->watching) {
        st->stop_watch = 1;
        pthread_join(st->watcher, NULL); /* it looks at stop_watch at least once a second */
    }
    if(st->listener)
        st->listener->drv->close(st->listener);
    for(int k = 0; k < STORE_LOCK_KINDS; k++) {
        if(st->locks[k].conn)
            st->locks[k].conn->drv->close(st->locks[k].conn);
        pthread_mutex_destroy(&st->locks[k].mu);
    }
    if(st->epoch_conn)
        st->epoch_conn->drv->close(st->epoch_conn);
    pthread_mutex_destroy(&st->watch_mu);
    pthread_cond_destroy(&st->watch_cv);
    pthread_mutex_destroy(&st->epoch_mu);
    db_pool_close(P(st));
    free(st);
}

int store_migrate(struct store *st, int *version)
{
    return db_migrate(P(st), version);
}

int store_schema_version(struct store *st, int *version)
{
    struct dbc *s;
    int rc;
    TAKE(0);
    rc = db_schema_version(s, version);
    db_give(P(st), s);
    return rc;
}

int store_latest_version(void)
{
    return db_latest_version();
}

int store_pending_migrations(struct store *st, int *n)
{
    return db_pending(P(st), n);
}

int store_ping(struct store *st)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT 1 FROM schema_migrations LIMIT 1", &q);
    if(!rc) {
        if(db_step(q) == DB_ERROR)
            rc = db_fail(s, "ping");
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

static int64_t scalar(struct dbc *s, const char *sql)
{
    struct dbq *q;
    int64_t v = -1;
    if(prep(s, sql, &q))
        return -1;
    if(db_step(q) == DB_ROW)
        v = db_int64(q, 0);
    db_release(q);
    return v;
}

int store_stats(struct store *st, struct store_stats *o)
{
    struct dbc *s;
    struct db_stats ds = {0, 0};
    int rc;
    memset(o, 0, sizeof(*o));
    TAKE(0);
    rc = db_schema_version(s, &o->schema_version);
    if(!rc)
        rc = s->drv->stats(s, &ds);
    o->db_bytes = ds.db_bytes;
    o->free_bytes = ds.free_bytes;
    o->workspaces = scalar(s, "SELECT count(*) FROM workspaces");
    o->users = scalar(s, "SELECT count(*) FROM users");
    o->channels = scalar(s, "SELECT count(*) FROM channels");
    o->sessions = scalar(s, "SELECT count(*) FROM sessions");
    o->tokens = scalar(s, "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL");
    db_give(P(st), s);
    return rc;
}

int store_backup(struct store *st, const char *dest, store_progress_fn fn, void *arg)
{
    struct dbc *s;
    int rc;
    if(!P(st)->drv->backup)
        return sam_fail(SAM_EUNSUPPORTED, "a PostgreSQL database is backed up with pg_dump (see docs/operations.md)");
    TAKE(1);
    rc = s->drv->backup(s, dest, fn, arg);
    db_give(P(st), s);
    return rc;
}

int store_integrity_check(struct store *st, char *msg, size_t n)
{
    struct dbc *s;
    int rc;
    TAKE(0);
    rc = s->drv->integrity(s, msg, n);
    db_give(P(st), s);
    return rc;
}

/* ---- workspaces ---- */

static void row_workspace(struct dbq *q, struct store_workspace *w)
{
    memset(w, 0, sizeof(*w));
    w->id = db_int64(q, 0);
    col_text(q, 1, w->name, sizeof(w->name));
    col_text(q, 2, w->timezone, sizeof(w->timezone));
    w->created_at = db_int64(q, 3);
    col_text(q, 4, w->mix_preset, sizeof(w->mix_preset));
    w->require_second_factor = db_int(q, 5);
    col_text(q, 6, w->approval, sizeof(w->approval));
    w->require_alt_text = db_int(q, 7);
    if(db_ncols(q) > 8)
        col_text(q, 8, w->role, sizeof(w->role));
}

static void rd_workspace(struct dbq *q, void *p)
{
    row_workspace(q, p);
}

int store_workspace_insert(struct store *st, struct store_workspace *w)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, "INSERT INTO workspaces(name, timezone, created_at) VALUES (?1, ?2, ?3) RETURNING workspaces.id", &q);
    if(!rc) {
        bind_text(q, 1, w->name);
        bind_text(q, 2, w->timezone);
        db_bind_int64(q, 3, w->created_at);
        rc = insert_id(s, q, "workspace", &w->id);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

/* What a person reads when the thing named `what` is not there: a whole sentence for each,
 * so each translates as one. */
static int not_found(const char *what)
{
    static const struct {
        const char *what, *msg;
    } msgs[] = {
        {"workspace", N_("no such workspace")},
        {"calendar feed", N_("no such calendar feed; it may have been replaced by a new link")},
        {"account", N_("no such account")},
        {"session", N_("no such session; log in again")},
        {"token", N_("no such API token")},
        {"channel", N_("no such channel")},
        {"series", N_("no such series")},
        {"post", N_("no such post")},
        {"image", N_("no such image")},
        {"invitation", N_("no such invitation")},
        {"invitations", N_("no such invitation")},
        {"login challenge", N_("the login step has expired; log in again")},
        {"member", N_("no such member")},
        {"previous copy", N_("the previous copy is gone")},
        {"recovery codes", N_("no recovery codes are set up")},
    };
    for(size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
        if(!strcmp(what, msgs[i].what))
            return sam_fail(SAM_ENOTFOUND, "%s", _(msgs[i].msg));
    return sam_fail(SAM_ENOTFOUND, "%s", _("not found"));
}

static int get_one(struct dbc *s, struct dbq *q, const char *what)
{
    int r = db_step(q);
    if(r == DB_ROW)
        return SAM_OK;
    if(r == DB_DONE)
        return not_found(what);
    return db_fail(s, what);
}

/* Runs a one-row query keyed by a text, a 32-byte blob or an integer (the first that is
 * given) and lets read copy the row into out. SAM_ENOTFOUND names `what`. */
static int query_one(struct store *st, const char *sql, const char *what, const char *text,
                     const unsigned char *blob, int64_t id, void (*read)(struct dbq *, void *), void *out)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, sql, &q);
    if(!rc) {
        if(text)
            bind_text(q, 1, text);
        else if(blob)
            db_bind_blob(q, 1, blob, 32);
        else
            db_bind_int64(q, 1, id);
        rc = get_one(s, q, what);
        if(!rc)
            read(q, out);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_workspace_get(struct store *st, int64_t id, struct store_workspace *out)
{
    return query_one(st, "SELECT id, name, timezone, created_at, mix_preset, require_second_factor, approval, require_alt_text FROM workspaces WHERE id = ?1", "workspace",
                     NULL, NULL, id, rd_workspace, out);
}

int store_workspace_get_by_name(struct store *st, const char *name, struct store_workspace *out)
{
    return query_one(st, "SELECT id, name, timezone, created_at, mix_preset, require_second_factor, approval, require_alt_text FROM workspaces WHERE name = ?1", "workspace",
                     name, NULL, 0, rd_workspace, out);
}

int store_workspace_update(struct store *st, const struct store_workspace *w)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    rc = prep(s, "UPDATE workspaces SET name = ?1, timezone = ?2, mix_preset = ?3, approval = ?5 WHERE id = ?4", &q);
    if(!rc) {
        bind_text(q, 1, w->name);
        bind_text(q, 2, w->timezone);
        bind_text(q, 3, w->mix_preset[0] ? w->mix_preset : "balanced");
        db_bind_int64(q, 4, w->id);
        bind_text(q, 5, w->approval[0] ? w->approval : "off");
        rc = exec_stmt(s, q, "workspace", &n);
        if(!rc && n == 0)
            rc = sam_fail(SAM_ENOTFOUND, "workspace not found");
        db_release(q);
    }
    db_give(P(st), s);
    return auth_changed(st, rc);
}

/* Runs a list query whose rows are read by fn into an array of elements of size sz. */
static int run_list(struct dbc *s, struct dbq *q, size_t sz, int limit,
                    void (*fn)(struct dbq *, void *), void **items, size_t *n)
{
    /* The array grows with the rows: a large limit costs nothing when few rows come. */
    size_t cap = limit > 0 && limit < 64 ? (size_t)limit : 64, cnt = 0;
    char *arr = malloc(cap * sz);
    int r = DB_DONE;
    if(!arr)
        return SAM_ENOMEM;
    while(cnt < (size_t)limit && (r = db_step(q)) == DB_ROW) {
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
    if(cnt < (size_t)limit && r != DB_DONE) {
        free(arr);
        return db_fail(s, "list");
    }
    *items = arr;
    *n = cnt;
    return SAM_OK;
}

int store_workspace_list(struct store *st, int64_t user_id, int64_t after, int limit,
                             struct store_workspace **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    if(user_id)
        rc = prep(s, "SELECT w.id, w.name, w.timezone, w.created_at, w.mix_preset, w.require_second_factor, w.approval, w.require_alt_text, m.role"
                     " FROM workspaces w"
                     " JOIN members m ON m.workspace_id = w.id AND m.user_id = ?1"
                     " WHERE w.id > ?2 ORDER BY w.id LIMIT ?3", &q);
    else
        rc = prep(s, "SELECT id, name, timezone, created_at, mix_preset, require_second_factor, approval, require_alt_text FROM workspaces"
                     " WHERE ?1 = 0 AND id > ?2 ORDER BY id LIMIT ?3", &q);
    if(!rc) {
        db_bind_int64(q, 1, user_id);
        db_bind_int64(q, 2, after);
        db_bind_int64(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, rd_workspace, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_workspace_set_ical(struct store *st, int64_t ws, const char *token_hash)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    rc = prep(s, "UPDATE workspaces SET ical_token = ?1 WHERE id = ?2", &q);
    if(!rc) {
        if(token_hash)
            bind_text(q, 1, token_hash);
        else
            db_bind_null(q, 1);
        db_bind_int64(q, 2, ws);
        rc = exec_stmt(s, q, "workspace", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "workspace not found");
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_workspace_by_ical(struct store *st, const char *token_hash, struct store_workspace *out)
{
    return query_one(st, "SELECT id, name, timezone, created_at, mix_preset, require_second_factor, approval, require_alt_text FROM workspaces WHERE ical_token = ?1",
                     "calendar feed", token_hash, NULL, 0, rd_workspace, out);
}

/* ---- users ---- */

#define USER_COLS "id, email, name, password_hash, must_change_password, created_at, coalesce(last_login_at, 0)," \
                  " failed_logins, coalesce(failed_login_at, 0), coalesce(failed_login_addr, '')," \
                  " coalesce(failed_notified_at, 0), coalesce(totp_enabled_at, 0)"

static void row_user(struct dbq *q, struct store_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = db_int64(q, 0);
    col_text(q, 1, u->email, sizeof(u->email));
    col_text(q, 2, u->name, sizeof(u->name));
    col_text(q, 3, u->password_hash, sizeof(u->password_hash));
    u->must_change_password = db_int(q, 4);
    u->created_at = db_int64(q, 5);
    u->last_login_at = db_int64(q, 6);
    u->failed_logins = db_int(q, 7);
    u->failed_login_at = db_int64(q, 8);
    col_text(q, 9, u->failed_login_addr, sizeof(u->failed_login_addr));
    u->failed_notified_at = db_int64(q, 10);
    u->totp_enabled_at = db_int64(q, 11);
}

static void rd_user(struct dbq *q, void *p)
{
    row_user(q, p);
}

int store_user_insert(struct store *st, struct store_user *u)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, "INSERT INTO users(email, name, password_hash, must_change_password, created_at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING users.id", &q);
    if(!rc) {
        fold_email(u->email, u->email, sizeof(u->email));
        bind_text(q, 1, u->email);
        bind_text(q, 2, u->name);
        bind_text(q, 3, u->password_hash);
        db_bind_int64(q, 4, u->must_change_password);
        db_bind_int64(q, 5, u->created_at);
        rc = insert_id(s, q, "account with this email", &u->id);
        db_release(q);
    }
    db_give(P(st), s);
    return auth_changed(st, rc);
}


int store_user_get(struct store *st, int64_t id, struct store_user *out)
{
    return query_one(st, "SELECT " USER_COLS " FROM users WHERE id = ?1", "account", NULL, NULL, id, rd_user, out);
}

int store_user_get_by_email(struct store *st, const char *email, struct store_user *out)
{
    char folded[STORE_EMAIL_MAX + 1];
    fold_email(email, folded, sizeof(folded));
    return query_one(st, "SELECT " USER_COLS " FROM users WHERE email = ?1", "account", folded, NULL, 0, rd_user,
                     out);
}

int store_user_set_password(struct store *st, int64_t id, const char *hash, int must_change)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    rc = prep(s, "UPDATE users SET password_hash = ?1, must_change_password = ?2 WHERE id = ?3", &q);
    if(!rc) {
        bind_text(q, 1, hash);
        db_bind_int64(q, 2, must_change);
        db_bind_int64(q, 3, id);
        rc = exec_stmt(s, q, "account", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "account not found");
        db_release(q);
    }
    db_give(P(st), s);
    return auth_changed(st, rc);
}

int store_user_count(struct store *st, int64_t *n)
{
    struct dbc *s;
    TAKE(0);
    *n = scalar(s, "SELECT count(*) FROM users");
    db_give(P(st), s);
    return *n < 0 ? sam_fail(SAM_ESTORE, "cannot count accounts") : SAM_OK;
}

/* ---- members ---- */

#define MEMBER_SELECT "SELECT m.workspace_id, m.user_id, w.name, u.email, u.name, m.role, m.created_at," \
                      " w.require_second_factor, coalesce(u.totp_enabled_at, 0), w.approval" \
                      " FROM members m JOIN users u ON u.id = m.user_id" \
                      " JOIN workspaces w ON w.id = m.workspace_id"

static void row_member(struct dbq *q, void *p)
{
    struct store_member *m = p;
    memset(m, 0, sizeof(*m));
    m->workspace_id = db_int64(q, 0);
    m->user_id = db_int64(q, 1);
    col_text(q, 2, m->workspace_name, sizeof(m->workspace_name));
    col_text(q, 3, m->email, sizeof(m->email));
    col_text(q, 4, m->name, sizeof(m->name));
    col_text(q, 5, m->role, sizeof(m->role));
    m->created_at = db_int64(q, 6);
    m->workspace_requires_second_factor = db_int(q, 7);
    m->second_factor = db_int64(q, 8) != 0;
    col_text(q, 9, m->workspace_approval, sizeof(m->workspace_approval));
}

int store_member_insert(struct store *st, struct store_member *m)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, "INSERT INTO members(workspace_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)", &q);
    if(!rc) {
        db_bind_int64(q, 1, m->workspace_id);
        db_bind_int64(q, 2, m->user_id);
        bind_text(q, 3, m->role);
        db_bind_int64(q, 4, m->created_at);
        rc = exec_stmt(s, q, "membership", NULL);
        db_release(q);
    }
    db_give(P(st), s);
    return auth_changed(st, rc);
}

static int member_get_locked(struct dbc *s, int64_t ws, int64_t user, struct store_member *out)
{
    struct dbq *q;
    int rc = prep(s, MEMBER_SELECT " WHERE m.workspace_id = ?1 AND m.user_id = ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, user);
        rc = get_one(s, q, "member");
        if(!rc)
            row_member(q, out);
        db_release(q);
    }
    return rc;
}

int store_member_get(struct store *st, int64_t ws, int64_t user, struct store_member *out)
{
    struct dbc *s;
    TAKE(0);
    int rc = member_get_locked(s, ws, user, out);
    db_give(P(st), s);
    return rc;
}

/* Inside a transaction: SAM_ECONFLICT when user is the workspace's only owner. */
static int check_not_last_owner(struct dbc *s, int64_t ws, int64_t user)
{
    struct store_member m;
    struct dbq *q;
    int64_t owners = 0;
    int rc = member_get_locked(s, ws, user, &m);
    if(rc || strcmp(m.role, "owner"))
        return rc;
    rc = prep(s, "SELECT count(*) FROM members WHERE workspace_id = ?1 AND role = 'owner'", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, ws);
    if(db_step(q) == DB_ROW)
        owners = db_int64(q, 0);
    db_release(q);
    if(owners <= 1)
        return sam_fail(SAM_ECONFLICT, "a workspace needs at least one owner: make someone else owner first");
    return SAM_OK;
}

struct member_change {
    int64_t ws, user;
    const char *role; /* NULL: the member leaves */
};

static int member_change_tx(struct dbc *s, void *arg)
{
    const struct member_change *a = arg;
    struct dbq *q;
    int rc = SAM_OK, n = 0;
    if(!a->role || strcmp(a->role, "owner"))
        rc = check_not_last_owner(s, a->ws, a->user);
    if(rc)
        return rc;
    if(a->role)
        rc = prep(s, "UPDATE members SET role = ?3 WHERE workspace_id = ?1 AND user_id = ?2", &q);
    else
        rc = prep(s, "DELETE FROM members WHERE workspace_id = ?1 AND user_id = ?2", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, a->ws);
    db_bind_int64(q, 2, a->user);
    if(a->role)
        bind_text(q, 3, a->role);
    rc = exec_stmt(s, q, "member", &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "member not found");
    db_release(q);
    if(!rc && !a->role) {
        /* A member who leaves takes their tokens for this workspace along. */
        rc = prep(s, "UPDATE api_tokens SET revoked_at = ?3 WHERE workspace_id = ?1 AND user_id = ?2"
                     " AND revoked_at IS NULL", &q);
        if(!rc) {
            db_bind_int64(q, 1, a->ws);
            db_bind_int64(q, 2, a->user);
            db_bind_int64(q, 3, time_now());
            rc = exec_stmt(s, q, "revoke tokens", NULL);
            db_release(q);
        }
    }
    return rc;
}

static int member_change(struct store *st, int64_t ws, int64_t user, const char *role)
{
    struct member_change a = {ws, user, role};
    return auth_changed(st, db_tx(P(st), member_change_tx, &a));
}

int store_member_set_role(struct store *st, int64_t ws, int64_t user, const char *role)
{
    return member_change(st, ws, user, role);
}

int store_member_delete(struct store *st, int64_t ws, int64_t user)
{
    return member_change(st, ws, user, NULL);
}

int store_member_list(struct store *st, int64_t ws, int64_t user, int64_t after, int limit,
                          struct store_member **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, MEMBER_SELECT " WHERE (?1 = 0 OR m.workspace_id = ?1) AND (?2 = 0 OR m.user_id = ?2)"
                 " AND m.user_id > ?3 ORDER BY m.workspace_id, m.user_id LIMIT ?4", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, user);
        db_bind_int64(q, 3, ws ? after : 0);
        db_bind_int64(q, 4, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_member, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

/* ---- sessions ---- */

static void row_session(struct dbq *q, void *p)
{
    struct store_session *x = p;
    memset(x, 0, sizeof(*x));
    x->id = db_int64(q, 0);
    x->user_id = db_int64(q, 1);
    col_text(q, 2, x->csrf_token, sizeof(x->csrf_token));
    x->created_at = db_int64(q, 3);
    x->last_seen_at = db_int64(q, 4);
    x->expires_at = db_int64(q, 5);
    x->notice_failed = db_int(q, 6);
    x->notice_failed_at = db_int64(q, 7);
    col_text(q, 8, x->notice_failed_addr, sizeof(x->notice_failed_addr));
}

int store_session_insert(struct store *st, const unsigned char hash[32], struct store_session *x)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, "INSERT INTO sessions(token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at,"
                 " notice_failed, notice_failed_at, notice_failed_addr) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                 " RETURNING sessions.id", &q);
    if(!rc) {
        db_bind_blob(q, 1, hash, 32);
        db_bind_int64(q, 2, x->user_id);
        bind_text(q, 3, x->csrf_token);
        db_bind_int64(q, 4, x->created_at);
        db_bind_int64(q, 5, x->last_seen_at);
        db_bind_int64(q, 6, x->expires_at);
        db_bind_int64(q, 7, x->notice_failed);
        db_bind_int64(q, 8, x->notice_failed_at);
        bind_text(q, 9, x->notice_failed_addr);
        rc = insert_id(s, q, "session", &x->id);
        db_release(q);
    }
    db_give(P(st), s);
    return auth_changed(st, rc);
}

int store_session_get(struct store *st, const unsigned char hash[32], struct store_session *out)
{
    return query_one(st, "SELECT id, user_id, csrf_token, created_at, last_seen_at, expires_at, notice_failed,"
                             " coalesce(notice_failed_at, 0), coalesce(notice_failed_addr, '')"
                             " FROM sessions WHERE token_hash = ?1", "session", NULL, hash, 0, row_session, out);
}

static int simple_exec(struct store *st, const char *sql, const char *what, int64_t a, int64_t b,
                       int64_t c, const unsigned char *blob, int *changes)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, sql, &q);
    if(!rc) {
        /* Values for parameters the statement does not have are ignored. */
        if(blob)
            db_bind_blob(q, 1, blob, 32);
        else
            db_bind_int64(q, 1, a);
        db_bind_int64(q, 2, b);
        db_bind_int64(q, 3, c);
        rc = exec_stmt(s, q, what, changes);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_session_touch(struct store *st, int64_t id, int64_t now, int64_t expires)
{
    return auth_changed(st, simple_exec(st, "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3 WHERE id = ?1",
                       "session", id, now, expires, NULL, NULL));
}

int store_session_delete(struct store *st, const unsigned char hash[32])
{
    return auth_changed(st, simple_exec(st, "DELETE FROM sessions WHERE token_hash = ?1", "session", 0, 0, 0, hash, NULL));
}

int store_session_delete_user(struct store *st, int64_t user_id, int64_t keep_id)
{
    /* The logins waiting for a second factor go first: each was opened with the
     * password that is now being replaced (or the factor being removed). */
    int rc = simple_exec(st, "DELETE FROM login_challenges WHERE user_id = ?1", "login challenges", user_id, 0, 0,
                         NULL, NULL);
    if(!rc)
        rc = simple_exec(st, "DELETE FROM sessions WHERE user_id = ?1 AND id != ?2", "sessions", user_id, keep_id,
                         0, NULL, NULL);
    return auth_changed(st, rc);
}

/* ---- API tokens ---- */

#define TOKEN_COLS "id, workspace_id, user_id, name, scopes, prefix, created_at," \
                   " coalesce(last_used_at, 0), coalesce(revoked_at, 0)"

static void row_token(struct dbq *q, void *p)
{
    struct store_token *t = p;
    memset(t, 0, sizeof(*t));
    t->id = db_int64(q, 0);
    t->workspace_id = db_int64(q, 1);
    t->user_id = db_int64(q, 2);
    col_text(q, 3, t->name, sizeof(t->name));
    col_text(q, 4, t->scopes, sizeof(t->scopes));
    col_text(q, 5, t->prefix, sizeof(t->prefix));
    t->created_at = db_int64(q, 6);
    t->last_used_at = db_int64(q, 7);
    t->revoked_at = db_int64(q, 8);
}

int store_token_insert(struct store *st, const unsigned char hash[32], struct store_token *t)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, "INSERT INTO api_tokens(workspace_id, user_id, name, scopes, token_hash, prefix, created_at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING api_tokens.id", &q);
    if(!rc) {
        db_bind_int64(q, 1, t->workspace_id);
        db_bind_int64(q, 2, t->user_id);
        bind_text(q, 3, t->name);
        bind_text(q, 4, t->scopes);
        db_bind_blob(q, 5, hash, 32);
        bind_text(q, 6, t->prefix);
        db_bind_int64(q, 7, t->created_at);
        rc = insert_id(s, q, "token", &t->id);
        db_release(q);
    }
    db_give(P(st), s);
    return auth_changed(st, rc);
}


int store_token_get(struct store *st, int64_t id, struct store_token *out)
{
    return query_one(st, "SELECT " TOKEN_COLS " FROM api_tokens WHERE id = ?1", "token", NULL, NULL, id,
                     row_token, out);
}

int store_token_get_by_hash(struct store *st, const unsigned char hash[32], struct store_token *out)
{
    return query_one(st, "SELECT " TOKEN_COLS " FROM api_tokens WHERE token_hash = ?1", "token", NULL, hash, 0,
                     row_token, out);
}

int store_token_list(struct store *st, int64_t ws, int64_t after, int limit,
                         struct store_token **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " TOKEN_COLS " FROM api_tokens WHERE (?1 = 0 OR workspace_id = ?1)"
                 " AND id > ?2 ORDER BY id LIMIT ?3", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, after);
        db_bind_int64(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_token, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_token_revoke(struct store *st, int64_t id, int64_t now)
{
    int n = 0;
    int rc = simple_exec(st, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
                         "token", id, now, 0, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "token %lld not found", (long long)id);
    return auth_changed(st, rc);
}

int store_token_touch(struct store *st, int64_t id, int64_t now)
{
    return auth_changed(st, simple_exec(st, "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", "token", id, now,
                       0, NULL, NULL));
}

/* ---- channels ---- */

#define CHANNEL_COLS "id, workspace_id, kind, name, timezone, status, settings, secret, created_at, updated_at," \
                     " slots, max_per_hour, max_per_day, coalesce(status_message, ''), coalesce(paused_at, 0)"

static void row_channel(struct dbq *q, void *p)
{
    struct store_channel *c = p;
    const void *blob;
    memset(c, 0, sizeof(*c));
    c->id = db_int64(q, 0);
    c->workspace_id = db_int64(q, 1);
    col_text(q, 2, c->kind, sizeof(c->kind));
    col_text(q, 3, c->name, sizeof(c->name));
    col_text(q, 4, c->timezone, sizeof(c->timezone));
    col_text(q, 5, c->status, sizeof(c->status));
    c->settings = col_dup(q, 6);
    blob = db_blob(q, 7, &c->secret_len);
    if(blob) {
        c->secret = malloc(c->secret_len ? c->secret_len : 1);
        if(c->secret)
            memcpy(c->secret, blob, c->secret_len);
        else
            c->secret_len = 0;
    }
    c->created_at = db_int64(q, 8);
    c->updated_at = db_int64(q, 9);
    c->slots = col_dup(q, 10);
    c->max_per_hour = db_int(q, 11);
    c->max_per_day = db_int(q, 12);
    col_text(q, 13, c->status_message, sizeof(c->status_message));
    c->paused_at = db_int64(q, 14);
}

static void bind_channel(struct dbq *q, const struct store_channel *c)
{
    db_bind_int64(q, 1, c->workspace_id);
    bind_text(q, 2, c->kind);
    bind_text(q, 3, c->name);
    bind_text(q, 4, c->timezone);
    bind_text(q, 5, c->status[0] ? c->status : "active");
    bind_text(q, 6, c->settings ? c->settings : "{}");
    if(c->secret)
        db_bind_blob(q, 7, c->secret, c->secret_len);
    else
        db_bind_null(q, 7);
    db_bind_int64(q, 8, c->created_at);
    db_bind_int64(q, 9, c->updated_at);
    db_bind_int64(q, 10, c->id);
    bind_text(q, 11, c->slots ? c->slots : "[]");
    db_bind_int64(q, 12, c->max_per_hour > 0 ? c->max_per_hour : 2);
    db_bind_int64(q, 13, c->max_per_day > 0 ? c->max_per_day : 12);
}

int store_channel_insert(struct store *st, struct store_channel *c)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, "INSERT INTO channels(workspace_id, kind, name, timezone, status, settings, secret,"
                 " created_at, updated_at, slots, max_per_hour, max_per_day)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11, ?12, ?13) RETURNING channels.id", &q);
    if(!rc) {
        bind_channel(q, c);
        rc = insert_id(s, q, "channel with this name", &c->id);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_channel_get(struct store *st, int64_t id, struct store_channel *out)
{
    return query_one(st, "SELECT " CHANNEL_COLS " FROM channels WHERE id = ?1", "channel", NULL, NULL, id,
                     row_channel, out);
}

int store_channel_update(struct store *st, const struct store_channel *c)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    /* status is changed by store_channel_set_status only, so that an edit cannot undo a
     * status set meanwhile (a channel marked 'reconnect' by the publisher); paused_at by
     * store_channel_set_paused only, for the same reason. */
    rc = prep(s, "UPDATE channels SET workspace_id = ?1, kind = ?2, name = ?3, timezone = ?4,"
                 " settings = ?6, secret = ?7, created_at = ?8, updated_at = ?9,"
                 " slots = ?11, max_per_hour = ?12, max_per_day = ?13 WHERE id = ?10", &q);
    if(!rc) {
        bind_channel(q, c);
        rc = exec_stmt(s, q, "channel with this name", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "channel not found");
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_channel_delete(struct store *st, int64_t id)
{
    int n = 0;
    int rc = simple_exec(st, "DELETE FROM channels WHERE id = ?1", "channel", id, 0, 0, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "channel not found");
    return rc;
}

int store_channel_list(struct store *st, int64_t ws, const char *kind, int64_t after, int limit,
                           struct store_channel **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " CHANNEL_COLS " FROM channels WHERE (?1 = 0 OR workspace_id = ?1)"
                 " AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2) AND id > ?3 ORDER BY id LIMIT ?4", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        if(kind)
            bind_text(q, 2, kind);
        db_bind_int64(q, 3, after);
        db_bind_int64(q, 4, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_channel, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

/* ---- posts and occurrences ---- */

#define POST_COLS "id, workspace_id, coalesce(author_id, 0), text, link, category, campaign, variants, state," \
                  " override_reason, created_at, updated_at, approval"

static char *col_dup_or_null(struct dbq *q, int i)
{
    return db_is_null(q, i) ? NULL : col_dup(q, i);
}

static void row_post(struct dbq *q, void *p)
{
    struct store_post *x = p;
    memset(x, 0, sizeof(*x));
    x->id = db_int64(q, 0);
    x->workspace_id = db_int64(q, 1);
    x->author_id = db_int64(q, 2);
    x->text = col_dup(q, 3);
    x->link = col_dup_or_null(q, 4);
    col_text(q, 5, x->category, sizeof(x->category));
    x->campaign = col_dup_or_null(q, 6);
    x->variants = col_dup(q, 7);
    col_text(q, 8, x->state, sizeof(x->state));
    x->override_reason = col_dup_or_null(q, 9);
    x->created_at = db_int64(q, 10);
    x->updated_at = db_int64(q, 11);
    col_text(q, 12, x->approval, sizeof(x->approval));
}

#define OCC_COLS "id, workspace_id, post_id, channel_id, coalesce(series_id, 0), variant, planned_at, state," \
                 " idempotency_key, attempts, coalesce(next_attempt_at, 0), coalesce(lease_owner, '')," \
                 " coalesce(lease_until, 0), coalesce(remote_id, ''), coalesce(remote_url, '')," \
                 " coalesce(last_error, ''), coalesce(published_at, 0), coalesce(deleted_at, 0), created_at," \
                 " updated_at, coalesce(wait_reason, ''), coalesce(wait_limit, 0)"

#define OCC_NCOLS 22 /* the columns of OCC_COLS */

static void row_occurrence(struct dbq *q, void *p)
{
    struct store_occurrence *o = p;
    memset(o, 0, sizeof(*o));
    o->id = db_int64(q, 0);
    o->workspace_id = db_int64(q, 1);
    o->post_id = db_int64(q, 2);
    o->channel_id = db_int64(q, 3);
    o->series_id = db_int64(q, 4);
    o->variant = db_int(q, 5);
    o->planned_at = db_int64(q, 6);
    col_text(q, 7, o->state, sizeof(o->state));
    col_text(q, 8, o->idempotency_key, sizeof(o->idempotency_key));
    o->attempts = db_int(q, 9);
    o->next_attempt_at = db_int64(q, 10);
    col_text(q, 11, o->lease_owner, sizeof(o->lease_owner));
    o->lease_until = db_int64(q, 12);
    col_text(q, 13, o->remote_id, sizeof(o->remote_id));
    col_text(q, 14, o->remote_url, sizeof(o->remote_url));
    col_text(q, 15, o->last_error, sizeof(o->last_error));
    o->published_at = db_int64(q, 16);
    o->deleted_at = db_int64(q, 17);
    o->created_at = db_int64(q, 18);
    o->updated_at = db_int64(q, 19);
    col_text(q, 20, o->wait_reason, sizeof(o->wait_reason));
    o->wait_limit = db_int64(q, 21);
}

static void bind_text_or_null(struct dbq *q, int i, const char *v)
{
    if(v)
        bind_text(q, i, v);
    else
        db_bind_null(q, i);
}

struct post_insert {
    struct store_post *p;
    struct store_series *ser;
    struct store_occurrence *occ;
    size_t n;
    int64_t draft; /* p->id as the caller gave it: the draft to schedule, or 0 */
    const struct store_audit *audit;
    char *(*detail)(void *arg);
    void *arg;
    const struct store_approval *step; /* P12: the approval step stored with it, or NULL */
};

static int audit_insert_on(struct dbc *s, const struct store_audit *a);
static int approval_step_on(struct dbc *s, int64_t ws, int64_t post, const struct store_approval *a);
static int approval_change_on(struct dbc *s, const struct store_approval_change *ac, int64_t ws, int64_t now,
                              int64_t seen, int bump);

/* A post's updated_at after a write at now: it goes up with every write, even two in one
 * second, so that it tells one version of the post from the next (an approver decides on
 * the version they read). ?N is now. */
#define POST_BUMP(n) "CASE WHEN updated_at >= ?" #n " THEN updated_at + 1 ELSE ?" #n " END"

static const char *approval_of(const struct store_post *p)
{
    return p->approval[0] ? p->approval : "none";
}

/* The audit entry of an insert, once the ids are known (store_post_insert_audited). */
static int post_insert_audit(struct dbc *s, const struct post_insert *a)
{
    struct store_audit e = *a->audit;
    int rc;
    e.detail = a->detail ? a->detail(a->arg) : NULL;
    if(a->detail && !e.detail)
        return SAM_ENOMEM;
    rc = audit_insert_on(s, &e);
    free(e.detail);
    return rc;
}

/* The post's images become p->media (P16): the old places go, the new ones are written
 * in order. An image of another workspace is refused (the insert finds no row). */
static int post_media_write(struct dbc *s, const struct store_post *p)
{
    struct dbq *q;
    int rc = prep(s, "DELETE FROM post_media WHERE post_id = ?1", &q), n = 0;
    if(rc)
        return rc;
    db_bind_int64(q, 1, p->id);
    rc = exec_stmt(s, q, "post images", NULL);
    db_release(q);
    for(size_t i = 0; !rc && i < p->nmedia; i++) {
        rc = prep(s, "INSERT INTO post_media(post_id, position, media_id, alt) SELECT ?1, ?2, media.id, ?4"
                     " FROM media WHERE media.id = ?3 AND media.workspace_id = ?5", &q);
        if(rc)
            break;
        db_bind_int64(q, 1, p->id);
        db_bind_int64(q, 2, (int64_t)i);
        db_bind_int64(q, 3, p->media[i].media_id);
        bind_text(q, 4, p->media[i].alt ? p->media[i].alt : "");
        db_bind_int64(q, 5, p->workspace_id);
        rc = exec_stmt(s, q, "post image", &n);
        db_release(q);
        if(!rc && n != 1)
            rc = sam_fail_field(SAM_EINVAL, "media", "image %lld is not in this workspace (or was removed); upload it "
                                                     "again", (long long)p->media[i].media_id);
    }
    return rc;
}

static int post_insert_tx(struct dbc *s, void *arg)
{
    const struct post_insert *a = arg;
    struct store_post *p = a->p;
    struct store_series *ser = a->ser;
    struct store_occurrence *occ = a->occ;
    size_t n = a->n;
    struct dbq *q = NULL;
    int rc, changed = 0;
    /* Run again after a serialization failure, the body starts from what the caller gave:
     * the first attempt's new id is not a draft. */
    p->id = a->draft;
    if(p->id && !ser) {
        /* A draft gets its occurrences: the row is brought up to date in the same statement
         * that checks it is still a draft. */
        rc = prep(s, "UPDATE posts SET text = ?3, link = ?4, category = ?5, campaign = ?6, variants = ?7, state = ?8,"
                     " override_reason = ?9, updated_at = ?10, approval = ?11 WHERE id = ?2 AND workspace_id = ?1"
                     " AND state = 'draft'", &q);
        if(!rc) {
            db_bind_int64(q, 1, p->workspace_id);
            db_bind_int64(q, 2, p->id);
            bind_text(q, 3, p->text);
            bind_text_or_null(q, 4, p->link);
            bind_text(q, 5, p->category);
            bind_text_or_null(q, 6, p->campaign);
            bind_text(q, 7, p->variants ? p->variants : "[]");
            bind_text(q, 8, p->state);
            bind_text_or_null(q, 9, p->override_reason);
            db_bind_int64(q, 10, p->updated_at);
            bind_text(q, 11, approval_of(p));
            rc = exec_stmt(s, q, "post", &changed);
            if(!rc && !changed)
                rc = sam_fail(SAM_ECONFLICT, "the post is no longer a draft");
            db_release(q);
        }
    } else
    rc = prep(s, "INSERT INTO posts(workspace_id, author_id, text, link, category, campaign, variants, state,"
                 " override_reason, created_at, updated_at, approval)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING posts.id", &q);
    if(!rc && !changed) {
        db_bind_int64(q, 1, p->workspace_id);
        if(p->author_id)
            db_bind_int64(q, 2, p->author_id);
        else
            db_bind_null(q, 2);
        bind_text(q, 3, p->text);
        bind_text_or_null(q, 4, p->link);
        bind_text(q, 5, p->category);
        bind_text_or_null(q, 6, p->campaign);
        bind_text(q, 7, p->variants ? p->variants : "[]");
        bind_text(q, 8, p->state);
        bind_text_or_null(q, 9, p->override_reason);
        db_bind_int64(q, 10, p->created_at);
        db_bind_int64(q, 11, p->updated_at);
        bind_text(q, 12, approval_of(p));
        rc = insert_id(s, q, "post", &p->id);
        db_release(q);
    }
    if(!rc && ser) {
        rc = prep(s, "INSERT INTO series(workspace_id, post_id, per_day, days, until_at, max_count, min_gap_minutes,"
                     " replace_previous, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING series.id", &q);
        if(!rc) {
            ser->workspace_id = p->workspace_id;
            ser->post_id = p->id;
            db_bind_int64(q, 1, ser->workspace_id);
            db_bind_int64(q, 2, ser->post_id);
            db_bind_int64(q, 3, ser->per_day);
            if(ser->days)
                db_bind_int64(q, 4, ser->days);
            else
                db_bind_null(q, 4);
            if(ser->until_at)
                db_bind_int64(q, 5, ser->until_at);
            else
                db_bind_null(q, 5);
            if(ser->max_count)
                db_bind_int64(q, 6, ser->max_count);
            else
                db_bind_null(q, 6);
            db_bind_int64(q, 7, ser->min_gap_minutes);
            db_bind_int64(q, 8, ser->replace_previous);
            db_bind_int64(q, 9, ser->created_at);
            rc = insert_id(s, q, "series", &ser->id);
            db_release(q);
        }
    }
    for(size_t i = 0; !rc && i < n; i++) {
        struct store_occurrence *o = &occ[i];
        if(ser)
            o->series_id = ser->id;
        rc = prep(s, "INSERT INTO occurrences(workspace_id, post_id, channel_id, series_id, variant, planned_at,"
                     " state, idempotency_key, next_attempt_at, created_at, updated_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING occurrences.id", &q);
        if(rc)
            break;
        o->workspace_id = p->workspace_id;
        o->post_id = p->id;
        if(!o->state[0])
            snprintf(o->state, sizeof(o->state), "scheduled");
        db_bind_int64(q, 1, o->workspace_id);
        db_bind_int64(q, 2, o->post_id);
        db_bind_int64(q, 3, o->channel_id);
        if(o->series_id)
            db_bind_int64(q, 4, o->series_id);
        else
            db_bind_null(q, 4);
        db_bind_int64(q, 5, o->variant);
        db_bind_int64(q, 6, o->planned_at);
        bind_text(q, 7, o->state);
        bind_text(q, 8, o->idempotency_key);
        db_bind_int64(q, 9, o->next_attempt_at ? o->next_attempt_at : o->planned_at);
        db_bind_int64(q, 10, p->created_at);
        db_bind_int64(q, 11, p->created_at);
        rc = insert_id(s, q, "occurrence", &o->id);
        db_release(q);
    }
    for(size_t i = 0; !rc && i < p->noffers; i++) { /* its channel-exclusive offers (P15) */
        const struct store_offer *f = &p->offers[i];
        rc = prep(s, "INSERT INTO offers(workspace_id, post_id, channel_id, channel_name, code, created_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &q);
        if(rc)
            break;
        db_bind_int64(q, 1, p->workspace_id);
        db_bind_int64(q, 2, p->id);
        db_bind_int64(q, 3, f->channel_id);
        bind_text(q, 4, f->channel_name);
        bind_text(q, 5, f->code);
        db_bind_int64(q, 6, p->created_at);
        rc = exec_stmt(s, q, "offer", NULL);
        db_release(q);
    }
    if(!rc && a->step)
        rc = approval_step_on(s, p->workspace_id, p->id, a->step);
    if(!rc && (p->media_set || p->nmedia))
        rc = post_media_write(s, p);
    if(!rc && a->audit)
        rc = post_insert_audit(s, a);
    return rc;
}

int store_post_insert(struct store *st, struct store_post *p, struct store_occurrence *occ, size_t n)
{
    struct post_insert a = {p, NULL, occ, n, p->id, NULL, NULL, NULL, NULL};
    return db_tx(P(st), post_insert_tx, &a);
}

int store_post_insert_audited(struct store *st, struct store_post *p, struct store_occurrence *occ, size_t n,
                              const struct store_audit *audit, char *(*detail)(void *arg), void *arg,
                              const struct store_approval *step)
{
    struct post_insert a = {p, NULL, occ, n, p->id, audit, detail, arg, step};
    return db_tx(P(st), post_insert_tx, &a);
}

int store_series_insert(struct store *st, struct store_post *p, struct store_series *ser,
                            struct store_occurrence *occ, size_t n, const struct store_approval *step)
{
    struct post_insert a = {p, ser, occ, n, p->id, NULL, NULL, NULL, step};
    return db_tx(P(st), post_insert_tx, &a);
}

struct posts_insert {
    struct store_post_new *posts;
    size_t n;
    const struct store_audit *summary;
    struct store_import *imp;
    char *(*posts_json)(void *arg);
    void *arg;
};

static int posts_insert_tx(struct dbc *s, void *arg)
{
    struct posts_insert *a = arg;
    int rc = SAM_OK;
    for(size_t i = 0; !rc && i < a->n; i++) {
        struct store_post_new *pn = &a->posts[i];
        /* Each a new post (draft 0), also when the engine asks for another attempt. */
        struct post_insert one = {pn->p, NULL, pn->occ, pn->n, 0, &pn->audit, pn->detail, pn->arg, pn->step};
        rc = post_insert_tx(s, &one);
    }
    if(!rc && a->summary)
        rc = audit_insert_on(s, a->summary);
    if(!rc && a->imp) {
        struct dbq *q;
        char *posts = a->imp->posts ? NULL : a->posts_json(a->arg);
        if(!a->imp->posts && !posts)
            return SAM_ENOMEM;
        rc = prep(s, "INSERT INTO imports(workspace_id, import_key, digest, posts, created_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING imports.id", &q);
        if(!rc) {
            db_bind_int64(q, 1, a->imp->workspace_id);
            bind_text(q, 2, a->imp->key);
            bind_text(q, 3, a->imp->digest);
            bind_text(q, 4, posts ? posts : a->imp->posts);
            db_bind_int64(q, 5, a->imp->created_at);
            rc = insert_id(s, q, "import", &a->imp->id);
            db_release(q);
            if(rc == SAM_ECONFLICT)
                rc = sam_fail(SAM_ECONFLICT, "this import id was used already");
        }
        free(posts);
    }
    return rc;
}

int store_posts_insert(struct store *st, struct store_post_new *posts, size_t n, const struct store_audit *summary,
                       struct store_import *imp, char *(*posts_json)(void *arg), void *arg)
{
    struct posts_insert a = {posts, n, summary, imp, posts_json, arg};
    return db_tx(P(st), posts_insert_tx, &a);
}

static void row_import(struct dbq *q, void *p)
{
    struct store_import *x = p;
    memset(x, 0, sizeof(*x));
    x->id = db_int64(q, 0);
    x->workspace_id = db_int64(q, 1);
    col_text(q, 2, x->key, sizeof(x->key));
    col_text(q, 3, x->digest, sizeof(x->digest));
    x->posts = col_dup(q, 4);
    x->created_at = db_int64(q, 5);
}

int store_import_get(struct store *st, int64_t ws, const char *key, struct store_import *out)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    memset(out, 0, sizeof(*out));
    TAKE(0);
    rc = prep(s, "SELECT id, workspace_id, import_key, digest, posts, created_at FROM imports"
                 " WHERE workspace_id = ?1 AND import_key = ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        bind_text(q, 2, key);
        rc = get_one(s, q, "import");
        if(!rc)
            row_import(q, out);
        db_release(q);
    }
    db_give(P(st), s);
    if(!rc && !out->posts)
        rc = SAM_ENOMEM;
    return rc;
}

void store_import_cleanup(struct store_import *i)
{
    if(!i)
        return;
    free(i->posts);
    i->posts = NULL;
}

static void row_series(struct dbq *q, void *p)
{
    struct store_series *x = p;
    memset(x, 0, sizeof(*x));
    x->id = db_int64(q, 0);
    x->workspace_id = db_int64(q, 1);
    x->post_id = db_int64(q, 2);
    x->per_day = db_int(q, 3);
    x->days = db_int(q, 4);
    x->until_at = db_int64(q, 5);
    x->max_count = db_int(q, 6);
    x->min_gap_minutes = db_int(q, 7);
    x->replace_previous = db_int(q, 8);
    x->created_at = db_int64(q, 9);
}

#define SERIES_COLS "id, workspace_id, post_id, per_day, coalesce(days, 0), coalesce(until_at, 0)," \
                    " coalesce(max_count, 0), min_gap_minutes, replace_previous, created_at"

int store_series_get(struct store *st, int64_t id, struct store_series *out)
{
    return query_one(st, "SELECT " SERIES_COLS " FROM series WHERE id = ?1", "series", NULL, NULL, id,
                     row_series, out);
}

int store_series_list(struct store *st, int64_t ws, int64_t after, int limit, struct store_series **items,
                          size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " SERIES_COLS " FROM series WHERE workspace_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, after);
        db_bind_int64(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_series, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_occurrence_previous(struct store *st, int64_t series, int64_t channel, int64_t before,
                                  struct store_occurrence *out)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " OCC_COLS " FROM occurrences WHERE series_id = ?1 AND channel_id = ?2 AND planned_at < ?3"
                 " AND state = 'published' AND deleted_at IS NULL ORDER BY planned_at DESC, id DESC LIMIT 1", &q);
    if(!rc) {
        db_bind_int64(q, 1, series);
        db_bind_int64(q, 2, channel);
        db_bind_int64(q, 3, before);
        rc = get_one(s, q, "previous copy");
        if(!rc)
            row_occurrence(q, out);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_occurrence_mark_deleted(struct store *st, int64_t id, int64_t now)
{
    return simple_exec(st, "UPDATE occurrences SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1", "occurrence", id,
                       now, 0, NULL, NULL);
}

int store_post_get(struct store *st, int64_t id, struct store_post *out)
{
    return query_one(st, "SELECT " POST_COLS " FROM posts WHERE id = ?1", "post", NULL, NULL, id, row_post, out);
}

struct post_update {
    const struct store_post *p;
    const struct store_approval_change *ac;
};

static int post_update_tx(struct dbc *s, void *arg)
{
    const struct post_update *a = arg;
    const struct store_post *p = a->p;
    struct dbq *q;
    int rc, n = 0;
    /* The state follows the occurrences (refresh_post_state); an edit never sets it, and
     * is refused in the same statement once anything went out or is going out. */
    rc = prep(s, "UPDATE posts SET text = ?1, link = ?2, category = ?3, campaign = ?4, variants = ?5,"
                 " override_reason = ?6, updated_at = " POST_BUMP(7) " WHERE id = ?8"
                 " AND state NOT IN ('published', 'cancelled')"
                 " AND NOT EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?8"
                 " AND state IN ('publishing', 'published'))", &q);
    if(!rc) {
        bind_text(q, 1, p->text);
        bind_text_or_null(q, 2, p->link);
        bind_text(q, 3, p->category);
        bind_text_or_null(q, 4, p->campaign);
        bind_text(q, 5, p->variants ? p->variants : "[]");
        bind_text_or_null(q, 6, p->override_reason);
        db_bind_int64(q, 7, p->updated_at);
        db_bind_int64(q, 8, p->id);
        rc = exec_stmt(s, q, "post", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ECONFLICT, "the post has gone out (or is going out) or was cancelled: write a new "
                                         "post instead");
        db_release(q);
    }
    if(!rc && p->media_set) /* its images change with it, or not at all */
        rc = post_media_write(s, p);
    if(!rc && a->ac)
        rc = approval_change_on(s, a->ac, p->workspace_id, p->updated_at, 0, 0);
    return rc;
}

int store_post_update(struct store *st, const struct store_post *p, const struct store_approval_change *ac)
{
    struct post_update a = {p, ac};
    return db_tx(P(st), post_update_tx, &a);
}

int store_post_list(struct store *st, int64_t ws, const char *state, int64_t after, int limit,
                        struct store_post **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " POST_COLS " FROM posts WHERE workspace_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR state = ?2)"
                 " AND id > ?3 ORDER BY id LIMIT ?4", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        bind_text_or_null(q, 2, state);
        db_bind_int64(q, 3, after);
        db_bind_int64(q, 4, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_post, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

/* Derives a post's state from its occurrences (inside the caller's lock). */
static int refresh_post_state(struct dbc *s, int64_t post, int64_t now)
{
    struct dbq *q;
    int rc = prep(s, "UPDATE posts SET updated_at = ?2, state = CASE"
                     " WHEN EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?1 AND state IN ('scheduled', 'publishing'))"
                     "  THEN 'scheduled'"
                     " WHEN EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?1 AND state = 'failed') THEN 'failed'"
                     " WHEN EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?1 AND state = 'published') THEN 'published'"
                     " WHEN EXISTS (SELECT 1 FROM occurrences WHERE post_id = ?1) THEN 'cancelled'"
                     " ELSE state END WHERE id = ?1", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, post);
    db_bind_int64(q, 2, now);
    rc = exec_stmt(s, q, "post state", NULL);
    db_release(q);
    return rc;
}

struct post_cancel {
    int64_t id, now;
};

static int post_cancel_tx(struct dbc *s, void *arg)
{
    const struct post_cancel *a = arg;
    int64_t id = a->id, now = a->now;
    struct dbq *q;
    int rc, n = 0;
    rc = prep(s, "UPDATE occurrences SET state = 'cancelled', updated_at = ?2 WHERE post_id = ?1"
                 " AND state = 'scheduled'", &q);
    if(!rc) {
        db_bind_int64(q, 1, id);
        db_bind_int64(q, 2, now);
        rc = exec_stmt(s, q, "cancel", &n);
        db_release(q);
    }
    if(!rc) {
        /* A draft has no occurrences: cancelling it is a change of its own state. */
        rc = prep(s, "UPDATE posts SET state = 'cancelled', updated_at = ?2 WHERE id = ?1 AND state = 'draft'", &q);
        if(!rc) {
            int m = 0;
            db_bind_int64(q, 1, id);
            db_bind_int64(q, 2, now);
            rc = exec_stmt(s, q, "cancel", &m);
            n += m;
            db_release(q);
        }
    }
    if(!rc && n == 0)
        rc = sam_fail(SAM_ECONFLICT, "nothing left to cancel: the post is published, in flight or already cancelled");
    if(!rc)
        rc = refresh_post_state(s, id, now);
    return rc;
}

int store_post_cancel(struct store *st, int64_t id, int64_t now)
{
    struct post_cancel a = {id, now};
    return db_tx(P(st), post_cancel_tx, &a);
}

/* ---- approval (P12) ---- */

/* Adds a step to post's approval history (in the caller's transaction). */
static int approval_step_on(struct dbc *s, int64_t ws, int64_t post, const struct store_approval *a)
{
    struct dbq *q;
    int64_t id = 0;
    int rc = prep(s, "INSERT INTO post_approvals(workspace_id, post_id, action, actor_id, actor, note, at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING post_approvals.id", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, ws ? ws : a->workspace_id);
    db_bind_int64(q, 2, post);
    bind_text(q, 3, a->action);
    if(a->actor_id)
        db_bind_int64(q, 4, a->actor_id);
    else
        db_bind_null(q, 4);
    bind_text(q, 5, a->actor);
    bind_text_or_null(q, 6, a->note && *a->note ? a->note : NULL);
    db_bind_int64(q, 7, a->at);
    rc = insert_id(s, q, "approval", &id);
    db_release(q);
    return rc;
}

/* The compare and set of struct store_approval_change (in the caller's transaction); ws 0:
 * the post's own workspace. With bump the post's updated_at goes up (POST_BUMP); without,
 * the caller's write of the post did that. seen (0: any) is the updated_at it must have. */
static int approval_change_on(struct dbc *s, const struct store_approval_change *ac, int64_t ws, int64_t now,
                              int64_t seen, int bump)
{
    struct dbq *q;
    int rc, n = 0;
    rc = prep(s, bump ? "UPDATE posts SET approval = ?2, updated_at = " POST_BUMP(5) " WHERE id = ?1"
                        " AND approval = ?3 AND (?4 = 0 OR updated_at = ?4)"
                      : "UPDATE posts SET approval = ?2 WHERE id = ?1 AND approval = ?3 AND (?4 = 0 OR updated_at = ?4)",
              &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, ac->post);
    bind_text(q, 2, ac->to);
    bind_text(q, 3, ac->from);
    db_bind_int64(q, 4, seen);
    if(bump)
        db_bind_int64(q, 5, now);
    rc = exec_stmt(s, q, "approval", &n);
    db_release(q);
    if(!rc && !n)
        return sam_fail(SAM_ECONFLICT, "the post changed meanwhile (someone edited it or decided on it): reload it "
                                       "and try again");
    /* A claim of one of its occurrences meanwhile and this change cannot both commit: on
     * PostgreSQL the claim locks the row, and this write of it then fails (and is tried
     * again, seeing the claim); on SQLite there is one writer. */
    if(!rc && (!strcmp(ac->to, "pending") || !strcmp(ac->to, "changes_requested"))) {
        rc = prep(s, "UPDATE occurrences SET updated_at = ?2 WHERE post_id = ?1 AND state = 'scheduled'", &q);
        if(!rc) {
            db_bind_int64(q, 1, ac->post);
            db_bind_int64(q, 2, now);
            rc = exec_stmt(s, q, "approval", NULL);
            db_release(q);
        }
    }
    if(!rc && ac->step)
        rc = approval_step_on(s, ws, ac->post, ac->step);
    return rc;
}

struct post_decide {
    int64_t ws;
    const struct store_approval_change *ac;
    int64_t seen, cancel_before, now;
    const struct store_audit *audit;
    const char *detail;
};

static int post_decide_tx(struct dbc *s, void *arg)
{
    const struct post_decide *a = arg;
    struct dbq *q;
    int rc, n = 0;
    /* Only a scheduled post of this workspace, in the approval state the decision was made
     * on, as the approver saw it. */
    rc = prep(s, "SELECT 1 FROM posts WHERE id = ?1 AND workspace_id = ?2 AND state = 'scheduled'", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, a->ac->post);
    db_bind_int64(q, 2, a->ws);
    int r = db_step(q);
    if(r == DB_ROW)
        n = 1;
    else if(r != DB_DONE)
        rc = db_fail(s, "approval");
    db_release(q);
    if(!rc && !n)
        rc = sam_fail(SAM_ECONFLICT, "the post is no longer scheduled: it was cancelled or has gone out");
    if(!rc)
        rc = approval_change_on(s, a->ac, a->ws, a->now, a->seen, 1);
    if(!rc && a->cancel_before) {
        rc = prep(s, "UPDATE occurrences SET state = 'cancelled', updated_at = ?3 WHERE post_id = ?1"
                     " AND state = 'scheduled' AND planned_at < ?2", &q);
        if(!rc) {
            db_bind_int64(q, 1, a->ac->post);
            db_bind_int64(q, 2, a->cancel_before);
            db_bind_int64(q, 3, a->now);
            rc = exec_stmt(s, q, "approval", NULL);
            db_release(q);
        }
        if(!rc)
            rc = refresh_post_state(s, a->ac->post, a->now);
    }
    if(!rc && a->audit) {
        struct store_audit e = *a->audit;
        e.detail = (char *)a->detail;
        rc = audit_insert_on(s, &e);
    }
    return rc;
}

int store_post_decide(struct store *st, int64_t ws, const struct store_approval_change *ac, int64_t seen,
                      int64_t cancel_before, int64_t now, const struct store_audit *audit, const char *detail)
{
    struct post_decide a = {ws, ac, seen, cancel_before, now, audit, detail};
    return db_tx(P(st), post_decide_tx, &a);
}

#define APPROVAL_COLS "a.id, a.workspace_id, a.post_id, a.action, coalesce(a.actor_id, 0), a.actor," \
                      " coalesce(u.name, ''), a.note, a.at"

static void row_approval(struct dbq *q, void *p)
{
    struct store_approval *x = p;
    memset(x, 0, sizeof(*x));
    x->id = db_int64(q, 0);
    x->workspace_id = db_int64(q, 1);
    x->post_id = db_int64(q, 2);
    col_text(q, 3, x->action, sizeof(x->action));
    x->actor_id = db_int64(q, 4);
    col_text(q, 5, x->actor, sizeof(x->actor));
    col_text(q, 6, x->actor_name, sizeof(x->actor_name));
    x->note = col_dup_or_null(q, 7);
    x->at = db_int64(q, 8);
    if(db_ncols(q) > 9)
        x->post_text = col_dup(q, 9);
}

int store_approval_list(struct store *st, int64_t post, struct store_approval **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " APPROVAL_COLS " FROM post_approvals a LEFT JOIN users u ON u.id = a.actor_id"
                 " WHERE a.post_id = ?1 ORDER BY a.id LIMIT ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, post);
        db_bind_int64(q, 2, 10000);
        rc = run_list(s, q, sizeof(**items), 10000, row_approval, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

/* The posts of the approval queue: a pending post or one sent back counts only while it
 * is scheduled (cancelled, it waits for nobody). */
#define APPROVAL_QUEUE_WHERE "workspace_id = ?1 AND approval = ?2 AND (?3 = 0 OR author_id = ?3)" \
                             " AND (approval NOT IN ('pending', 'changes_requested') OR state = 'scheduled')"

int store_approval_queue(struct store *st, int64_t ws, const char *approval, int64_t author, int64_t after,
                         int limit, struct store_post **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " POST_COLS " FROM posts WHERE " APPROVAL_QUEUE_WHERE " AND id > ?4 ORDER BY id LIMIT ?5",
              &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        bind_text(q, 2, approval);
        db_bind_int64(q, 3, author);
        db_bind_int64(q, 4, after);
        db_bind_int64(q, 5, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_post, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_approval_count(struct store *st, int64_t ws, const char *approval, int64_t author, int64_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *n = 0;
    TAKE(0);
    rc = prep(s, "SELECT count(*) FROM posts WHERE " APPROVAL_QUEUE_WHERE, &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        bind_text(q, 2, approval);
        db_bind_int64(q, 3, author);
        if(db_step(q) == DB_ROW)
            *n = db_int64(q, 0);
        else
            rc = db_fail(s, "approval count");
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}
#undef APPROVAL_QUEUE_WHERE

int store_approval_notices(struct store *st, int64_t ws, int64_t author, int64_t since, int limit,
                           struct store_approval **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " APPROVAL_COLS ", p.text FROM post_approvals a JOIN posts p ON p.id = a.post_id"
                 " LEFT JOIN users u ON u.id = a.actor_id WHERE a.workspace_id = ?1 AND p.author_id = ?2"
                 " AND a.action IN ('approved', 'changes_requested', 'rejected') AND a.at >= ?3"
                 " ORDER BY a.id DESC LIMIT ?4", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, author);
        db_bind_int64(q, 3, since);
        db_bind_int64(q, 4, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_approval, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_occurrence_list(struct store *st, int64_t ws, int64_t post, int64_t channel, int64_t from,
                              int64_t to, int64_t after, int limit, struct store_occurrence **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    /* The filter that is given leads as a plain equality, so its index is used: a post's
     * occurrences, or a channel's from a time on, never a scan of them all. */
#define OCC_LIST(lead)                                                                                                \
    "SELECT " OCC_COLS " FROM occurrences WHERE " lead " AND (?1 = 0 OR workspace_id = ?1)"                          \
    " AND (?2 = 0 OR post_id = ?2) AND (?3 = 0 OR channel_id = ?3) AND planned_at >= ?4"                             \
    " AND (?5 = 0 OR planned_at < ?5) AND id > ?6 ORDER BY planned_at, id LIMIT ?7"
    rc = prep(s, post ? OCC_LIST("post_id = ?2") : channel ? OCC_LIST("channel_id = ?3") : OCC_LIST("1 = 1"), &q);
#undef OCC_LIST
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, post);
        db_bind_int64(q, 3, channel);
        db_bind_int64(q, 4, from);
        db_bind_int64(q, 5, to);
        db_bind_int64(q, 6, after);
        db_bind_int64(q, 7, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_occurrence, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_occurrence_get(struct store *st, int64_t id, struct store_occurrence *out)
{
    return query_one(st, "SELECT " OCC_COLS " FROM occurrences WHERE id = ?1", "post", NULL, NULL, id,
                     row_occurrence, out);
}

static void row_parts(struct dbq *q, void *p)
{
    *(char **)p = col_dup_or_null(q, 0);
}

int store_occurrence_parts(struct store *st, int64_t id, char **parts)
{
    *parts = NULL;
    return query_one(st, "SELECT remote_parts FROM occurrences WHERE id = ?1", "post", NULL, NULL, id, row_parts,
                     parts);
}

struct occurrence_move {
    int64_t id, at, now;
    const struct store_approval_change *ac;
};

static int occurrence_move_tx(struct dbc *s, void *arg)
{
    const struct occurrence_move *a = arg;
    int64_t id = a->id, at = a->at, now = a->now;
    struct dbq *q;
    int rc, n = 0;
    rc = prep(s, "UPDATE occurrences SET planned_at = ?2, next_attempt_at = NULL, wait_reason = NULL,"
                 " wait_limit = NULL, updated_at = ?3 WHERE id = ?1 AND state = 'scheduled'", &q);
    if(!rc) {
        db_bind_int64(q, 1, id);
        db_bind_int64(q, 2, at);
        db_bind_int64(q, 3, now);
        rc = exec_stmt(s, q, "occurrence move", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ECONFLICT, "only a scheduled post can be moved; this one has gone out, is going out "
                                         "or was cancelled");
        db_release(q);
    }
    if(!rc && a->ac)
        rc = approval_change_on(s, a->ac, 0, now, 0, 1);
    return rc;
}

static int occurrence_cancel_tx(struct dbc *s, void *arg)
{
    const int64_t *a = arg; /* id, now */
    struct dbq *q;
    int64_t post = 0;
    int rc, n = 0;
    rc = prep(s, "SELECT post_id FROM occurrences WHERE id = ?1", &q);
    if(!rc) {
        db_bind_int64(q, 1, a[0]);
        rc = get_one(s, q, "post");
        if(!rc)
            post = db_int64(q, 0);
        db_release(q);
    }
    if(!rc)
        rc = prep(s, "UPDATE occurrences SET state = 'cancelled', updated_at = ?2 WHERE id = ?1 AND state = 'scheduled'",
                  &q);
    if(!rc) {
        db_bind_int64(q, 1, a[0]);
        db_bind_int64(q, 2, a[1]);
        rc = exec_stmt(s, q, "occurrence cancel", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ECONFLICT, "only a scheduled post can be cancelled; this one has gone out, is going out "
                                         "or was cancelled");
        db_release(q);
    }
    if(!rc)
        rc = refresh_post_state(s, post, a[1]);
    return rc;
}

int store_occurrence_cancel(struct store *st, int64_t id, int64_t now)
{
    int64_t a[2] = {id, now};
    return db_tx(P(st), occurrence_cancel_tx, a);
}

int store_occurrence_move(struct store *st, int64_t id, int64_t at, int64_t now,
                          const struct store_approval_change *ac)
{
    struct occurrence_move a = {id, at, now, ac};
    return db_tx(P(st), occurrence_move_tx, &a);
}

static void row_occurrence_post(struct dbq *q, void *p)
{
    struct store_occurrence_post *x = p;
    row_occurrence(q, &x->occ);
    col_text(q, OCC_NCOLS, x->category, sizeof(x->category));
    x->text = col_dup(q, OCC_NCOLS + 1);
    x->variants = col_dup(q, OCC_NCOLS + 2);
    x->campaign = col_dup_or_null(q, OCC_NCOLS + 3);
    x->series_total = db_int64(q, OCC_NCOLS + 4);
    x->series_copy = db_int64(q, OCC_NCOLS + 5);
    col_text(q, OCC_NCOLS + 6, x->approval, sizeof(x->approval));
}

int store_occurrence_page(struct store *st, int64_t ws, int64_t channel, int64_t from, int64_t to, int64_t after,
                          int limit, struct store_occurrence_post **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int64_t at = from;
    int rc = SAM_OK;
    *items = NULL;
    *n = 0;
    TAKE(0);
    /* After a cursor the page starts at the cursor's time: the window's start moves up to
     * it, so the page is a range of the index (workspace_id, planned_at, id) that begins
     * there, however deep it is. A cursor that is not one of the workspace's gives an
     * empty page. */
    if(after) {
        rc = prep(s, "SELECT planned_at FROM occurrences WHERE id = ?1 AND workspace_id = ?2", &q);
        if(!rc) {
            db_bind_int64(q, 1, after);
            db_bind_int64(q, 2, ws);
            int r = db_step(q);
            if(r == DB_ROW)
                at = db_int64(q, 0);
            else if(r == DB_ERROR)
                rc = db_fail(s, "queue page");
            else
                rc = SAM_ENOTFOUND;
            db_release(q);
        }
        if(rc == SAM_ENOTFOUND) {
            db_give(P(st), s);
            *items = malloc(sizeof(**items));
            return *items ? SAM_OK : SAM_ENOMEM;
        }
    }
    /* The post's columns come through a subquery, so OCC_COLS' names stay unambiguous. A
     * series copy's place is counted among its post's occurrences (a series is one post),
     * on the post's index: only rows of a series pay for it. */
    if(!rc)
        rc = prep(s, "SELECT " OCC_COLS ", p_category, p_text, p_variants, p_campaign,"
                     " CASE WHEN series_id IS NULL THEN 0 ELSE (SELECT count(*) FROM occurrences AS c"
                     "  WHERE c.post_id = occurrences.post_id AND c.series_id = occurrences.series_id"
                     "  AND c.channel_id = occurrences.channel_id AND c.state != 'cancelled') END,"
                     " CASE WHEN series_id IS NULL OR state = 'cancelled' THEN 0 ELSE (SELECT count(*) FROM occurrences AS c"
                     "  WHERE c.post_id = occurrences.post_id AND c.series_id = occurrences.series_id"
                     "  AND c.channel_id = occurrences.channel_id AND c.state != 'cancelled'"
                     "  AND (c.planned_at < occurrences.planned_at OR (c.planned_at = occurrences.planned_at"
                     "  AND c.id <= occurrences.id))) END, p_approval"
                     " FROM occurrences"
                     " JOIN (SELECT id AS p_id, category AS p_category, text AS p_text, variants AS p_variants,"
                     " campaign AS p_campaign, approval AS p_approval FROM posts) AS p ON p.p_id = post_id"
                     " WHERE workspace_id = ?1 AND (?2 = 0 OR channel_id = ?2) AND planned_at >= ?3 AND planned_at < ?4"
                     " AND (planned_at > ?3 OR id > ?5) ORDER BY planned_at, id LIMIT ?6", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, channel);
        db_bind_int64(q, 3, after && at > from ? at : from);
        db_bind_int64(q, 4, to);
        /* Within the first time (the cursor's, or the window's start) only what comes
         * after the cursor's id; 0 takes all of it. */
        db_bind_int64(q, 5, after && at >= from ? after : 0);
        db_bind_int64(q, 6, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_occurrence_post, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

/* Published or in-flight occurrences of a channel since `since` (other than `self`), and
 * the earliest of their times; in the claim's transaction. */
static int channel_load(struct dbc *s, int64_t channel, int64_t self, int64_t since, int64_t *count, int64_t *oldest)
{
    static const char *sql = "SELECT count(*), min(coalesce(published_at, updated_at)) FROM occurrences"
                             " WHERE channel_id = ?1 AND id != ?2 AND ((state = 'published' AND published_at >= ?3)"
                             " OR (state = 'publishing' AND updated_at >= ?3))";
    struct dbq *q;
    int rc = prep(s, sql, &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, channel);
    db_bind_int64(q, 2, self);
    db_bind_int64(q, 3, since);
    *count = 0;
    *oldest = 0;
    if(db_step(q) == DB_ROW) {
        *count = db_int64(q, 0);
        *oldest = db_int64(q, 1);
    } else {
        rc = db_fail(s, "channel load");
    }
    db_release(q);
    return rc;
}

#define EXPECTED_MAX 20000 /* go-out times read for one estimate (a day of a busy channel): reading stops there */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The earliest instant at or after t when the caps allow one more post after the go-out
 * times g[0..n) (ascending, all at or before t): a cap of k in a window w is reached when
 * the k-th most recent time is within w of t; then t moves to that time plus w. */
static int64_t cap_next(const int64_t *g, size_t n, int64_t t, int max_hour, int max_day, const char **why,
                        int64_t *limit)
{
    for(int moved = 1; moved;) {
        moved = 0;
        if(max_hour > 0 && n >= (size_t)max_hour && g[n - (size_t)max_hour] + 3600 > t) {
            t = g[n - (size_t)max_hour] + 3600;
            *why = "hour_cap";
            *limit = max_hour;
            moved = 1;
        }
        if(max_day > 0 && n >= (size_t)max_day && g[n - (size_t)max_day] + 86400 > t) {
            t = g[n - (size_t)max_day] + 86400;
            *why = "day_cap";
            *limit = max_day;
            moved = 1;
        }
    }
    return t;
}

int store_occurrence_expected(struct store *st, int64_t channel, int64_t self, int64_t at, int max_hour, int max_day,
                              int64_t *out, char reason[16], int64_t *limit)
{
    /* What went out in the day before, and what is due before this one (in the order the
     * publisher claims: due time, then id), each with the time it is due. */
    static const char *sql =
        "SELECT 0, coalesce(published_at, updated_at) FROM occurrences WHERE channel_id = ?1 AND id != ?2"
        " AND ((state = 'published' AND published_at >= ?3) OR (state = 'publishing' AND updated_at >= ?3))"
        " UNION ALL SELECT 1, CASE WHEN coalesce(next_attempt_at, 0) > planned_at THEN next_attempt_at"
        " ELSE planned_at END FROM occurrences WHERE channel_id = ?1 AND id != ?2 AND state = 'scheduled'"
        " AND planned_at <= ?4 AND coalesce(next_attempt_at, planned_at) <= ?4"
        " AND EXISTS (SELECT 1 FROM posts WHERE posts.id = occurrences.post_id"
        " AND posts.approval IN ('none', 'approved'))";
    struct dbc *s;
    struct dbq *q;
    int64_t *done = NULL, *due = NULL, t;
    size_t nd = 0, nq = 0;
    const char *why = NULL;
    int rc, r;
    *out = at;
    reason[0] = '\0';
    *limit = 0;
    if(max_hour <= 0 && max_day <= 0)
        return SAM_OK;
    /* done holds what went out and, as they are placed, what is due before this one. */
    if(!(done = malloc(2 * EXPECTED_MAX * sizeof(*done))) || !(due = malloc(EXPECTED_MAX * sizeof(*due)))) {
        free(done);
        return sam_fail(SAM_ENOMEM, "out of memory");
    }
    rc = db_take(P(st), 0, &s);
    if(rc) {
        free(done);
        free(due);
        return rc;
    }
    rc = prep(s, sql, &q);
    if(!rc) {
        db_bind_int64(q, 1, channel);
        db_bind_int64(q, 2, self);
        db_bind_int64(q, 3, at - 86400);
        db_bind_int64(q, 4, at);
        while((r = db_step(q)) == DB_ROW && nd < EXPECTED_MAX && nq < EXPECTED_MAX) {
            if(db_int64(q, 0))
                due[nq++] = db_int64(q, 1);
            else
                done[nd++] = db_int64(q, 1);
        }
        if(r == DB_ROW)
            r = DB_DONE; /* more than a day's worth: the estimate uses what it read */
        if(r != DB_DONE)
            rc = db_fail(s, "expected time");
        db_release(q);
    }
    db_give(P(st), s);
    if(!rc) {
        /* Each post due before this one goes out at the first instant the caps allow after
         * the ones before it; then this one. */
        qsort(done, nd, sizeof(*done), cmp_i64);
        qsort(due, nq, sizeof(*due), cmp_i64);
        for(size_t i = 0; i < nq; i++) {
            const char *w = NULL;
            int64_t l = 0, go = cap_next(done, nd, due[i], max_hour, max_day, &w, &l);
            done[nd++] = go; /* go is at or after every earlier time: done stays sorted */
        }
        t = cap_next(done, nd, at, max_hour, max_day, &why, limit);
        *out = t;
        if(why && t > at)
            snprintf(reason, 16, "%s", why);
        else
            *limit = 0;
    }
    free(done);
    free(due);
    return rc;
}

struct occurrence_claim {
    int64_t now;
    const char *owner;
    int lease_seconds, limit;
    int64_t (*due)[5];
    size_t cap;
    struct store_occurrence *out;
    size_t got;
};

static int occurrence_claim_tx(struct dbc *s, void *arg)
{
    struct occurrence_claim *a = arg;
    int64_t now = a->now;
    struct dbq *q;
    size_t ndue = 0;
    int rc;

    a->got = 0;
    /* What is due: scheduled and past its time, or in flight under a lease that ran out
     * (reclaimed here, by the claim itself: there is no separate rescuer to race with).
     * On PostgreSQL the rows are locked as they are chosen, and rows another worker is
     * claiming are skipped, so workers never wait on each other nor take the same one;
     * SQLite's IMMEDIATE transaction makes this process the only writer meanwhile. */
    /* Nothing of a paused channel, and only posts that need no approval or have it (P12):
     * a post waiting for an approver stays planned, however due. */
#define CLAIM_DUE "SELECT o.id, o.channel_id, CASE WHEN o.state = 'publishing' THEN 1 ELSE 0 END," \
                  " c.max_per_hour, c.max_per_day" \
                  " FROM occurrences o JOIN channels c ON c.id = o.channel_id JOIN posts p ON p.id = o.post_id" \
                  " WHERE c.status = 'active' AND c.paused_at IS NULL AND p.approval IN ('none', 'approved')" \
                  "   AND ((o.state = 'scheduled' AND o.next_attempt_at <= ?1)" \
                  "    OR (o.state = 'publishing' AND o.lease_until < ?1))" \
                  " ORDER BY o.next_attempt_at, o.id LIMIT ?2"
    rc = prep(s, DB_VARIANT(s, CLAIM_DUE, CLAIM_DUE " FOR UPDATE OF o SKIP LOCKED"), &q);
#undef CLAIM_DUE
    if(rc)
        return rc;
    db_bind_int64(q, 1, now);
    db_bind_int64(q, 2, (int64_t)a->cap);
    int r;
    while(ndue < a->cap && (r = db_step(q)) == DB_ROW) {
        for(int k = 0; k < 5; k++)
            a->due[ndue][k] = db_int64(q, k);
        ndue++;
    }
    if(ndue < a->cap && r == DB_ERROR)
        rc = db_fail(s, "claim");
    db_release(q);
    /* The caps hold across workers: the channels whose rows may be claimed are locked
     * (one claim per channel at a time), all before any is counted and in ascending id
     * order, so two workers never wait on each other in a circle; in READ COMMITTED each
     * count then sees every claim committed before it. */
    if(!rc && s->drv->lock_xact) {
        int64_t chans[64];
        size_t nch = 0;
        for(size_t i = 0; i < ndue && nch < sizeof(chans) / sizeof(chans[0]); i++) {
            size_t k = 0;
            if(a->due[i][2])
                continue; /* in flight: counted when first claimed */
            while(k < nch && chans[k] < a->due[i][1])
                k++;
            if(k < nch && chans[k] == a->due[i][1])
                continue;
            memmove(&chans[k + 1], &chans[k], (nch - k) * sizeof(chans[0]));
            chans[k] = a->due[i][1];
            nch++;
        }
        for(size_t k = 0; !rc && k < nch; k++)
            rc = db_lock_xact(s, DB_LOCK_CHANNEL, chans[k]);
    }
    /* One at a time, so every claim counts the ones before it: a channel's caps hold at
     * publish time too (P7). An occurrence left in flight is resolved at once: it was
     * counted when it was first claimed. Over a cap, it waits with the reason shown. */
    for(size_t i = 0; !rc && i < ndue && a->got < (size_t)a->limit; i++) {
        int64_t id = a->due[i][0], channel = a->due[i][1], hour = 0, day = 0, oh = 0, od = 0, wait = 0, limit = 0;
        const char *why = NULL;
        if(!a->due[i][2]) {
            rc = channel_load(s, channel, id, now - 3600, &hour, &oh);
            if(!rc)
                rc = channel_load(s, channel, id, now - 86400, &day, &od);
            if(rc)
                break;
            if(hour >= a->due[i][3]) {
                wait = oh + 3600;
                why = "hour_cap";
                limit = a->due[i][3];
            }
            if(day >= a->due[i][4] && od + 86400 > wait) {
                wait = od + 86400;
                why = "day_cap";
                limit = a->due[i][4];
            }
        }
        if(wait) {
            rc = prep(s, "UPDATE occurrences SET next_attempt_at = ?2, wait_reason = ?3, wait_limit = ?5,"
                         " updated_at = ?4 WHERE id = ?1", &q);
            if(!rc) {
                db_bind_int64(q, 1, id);
                db_bind_int64(q, 2, wait > now ? wait : now + 1);
                bind_text(q, 3, why);
                db_bind_int64(q, 4, now);
                db_bind_int64(q, 5, limit);
                rc = exec_stmt(s, q, "defer", NULL);
                db_release(q);
            }
            continue;
        }
        /* The post is read again by this statement (on PostgreSQL a statement of its own
         * snapshot): one sent back for approval since the rows were chosen is left. */
        rc = prep(s, "UPDATE occurrences SET state = 'publishing', lease_owner = ?2, lease_until = ?3 + ?4,"
                     " attempts = attempts + 1, wait_reason = NULL, wait_limit = NULL, updated_at = ?3"
                     " WHERE id = ?1 AND EXISTS (SELECT 1 FROM posts WHERE posts.id = occurrences.post_id"
                     " AND posts.approval IN ('none', 'approved')) RETURNING " OCC_COLS, &q);
        if(!rc) {
            db_bind_int64(q, 1, id);
            bind_text(q, 2, a->owner);
            db_bind_int64(q, 3, now);
            db_bind_int64(q, 4, a->lease_seconds);
            r = db_step(q);
            if(r == DB_ROW) {
                row_occurrence(q, &a->out[a->got++]);
                r = db_step(q);
            }
            if(r != DB_DONE)
                rc = db_fail(s, "claim");
            db_release(q);
        }
    }
    return rc;
}

int store_occurrence_claim(struct store *st, int64_t now, const char *owner, int lease_seconds, int limit,
                               struct store_occurrence **items, size_t *n)
{
    struct occurrence_claim a = {now, owner, lease_seconds, limit, NULL, (size_t)limit * 4 + 4, NULL, 0};
    int rc;

    *items = NULL;
    *n = 0;
    if(!(a.due = calloc(a.cap, sizeof(*a.due))) || !(a.out = calloc((size_t)limit, sizeof(*a.out)))) {
        free(a.due);
        free(a.out);
        return SAM_ENOMEM;
    }
    rc = db_tx_locking(P(st), occurrence_claim_tx, &a);
    free(a.due);
    if(rc || !a.got) {
        free(a.out);
        return rc;
    }
    *items = a.out;
    *n = a.got;
    return SAM_OK;
}

struct occurrence_finish {
    int64_t id;
    const char *owner;
    const struct store_outcome *o;
};

static int occurrence_finish_tx(struct dbc *s, void *arg)
{
    const struct occurrence_finish *a = arg;
    const struct store_outcome *o = a->o;
    struct dbq *q;
    int rc, n = 0;
    int64_t post = 0, now = time_now();
    rc = prep(s, "UPDATE occurrences SET state = ?3, remote_id = coalesce(?4, remote_id),"
                 " remote_url = coalesce(?5, remote_url), last_error = ?6, next_attempt_at = ?7,"
                 " published_at = coalesce(?8, published_at), lease_owner = NULL, lease_until = NULL,"
                 " updated_at = ?9, remote_parts = coalesce(?10, remote_parts)"
                 " WHERE id = ?1 AND state = 'publishing' AND lease_owner = ?2"
                 " RETURNING occurrences.post_id", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, a->id);
    bind_text(q, 2, a->owner);
    bind_text(q, 3, o->state);
    bind_text_or_null(q, 4, o->remote_id);
    bind_text_or_null(q, 5, o->remote_url);
    bind_text_or_null(q, 6, o->error);
    db_bind_int64(q, 7, o->next_attempt_at);
    if(o->published_at)
        db_bind_int64(q, 8, o->published_at);
    else
        db_bind_null(q, 8);
    db_bind_int64(q, 9, now);
    bind_text_or_null(q, 10, o->remote_parts);
    int r = db_step(q);
    if(r == DB_ROW) {
        post = db_int64(q, 0);
        n = 1;
        r = db_step(q);
    }
    if(r != DB_DONE)
        rc = db_fail(s, "finish occurrence");
    db_release(q);
    if(!rc && !n)
        rc = sam_fail(SAM_ECONFLICT, "occurrence %lld is no longer leased to %s", (long long)a->id, a->owner);
    if(!rc)
        rc = refresh_post_state(s, post, now);
    return rc;
}

int store_occurrence_finish(struct store *st, int64_t id, const char *owner, const struct store_outcome *o)
{
    struct occurrence_finish a = {id, owner, o};
    return db_tx(P(st), occurrence_finish_tx, &a);
}

int store_occurrence_extend_lease(struct store *st, int64_t id, const char *owner, int64_t until)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    rc = prep(s, "UPDATE occurrences SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2 AND state = 'publishing'"
                 " AND lease_until < ?3", &q);
    if(!rc) {
        db_bind_int64(q, 1, id);
        bind_text(q, 2, owner);
        db_bind_int64(q, 3, until);
        rc = exec_stmt(s, q, "lease", &n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_occurrence_release_leases(struct store *st, int *n)
{
    *n = 0;
    /* Several servers may share a PostgreSQL database: another one's lease is not ours
     * to release; it is claimed again once it runs out. */
    if(!P(st)->single_writer)
        return SAM_OK;
    return simple_exec(st, "UPDATE occurrences SET lease_until = 0 WHERE state = 'publishing'", "release leases", 0,
                       0, 0, NULL, n);
}

static void row_queue_item(struct dbq *q, void *p)
{
    struct store_queue_item *x = p;
    memset(x, 0, sizeof(*x));
    x->post_id = db_int64(q, 0);
    x->channel_id = db_int64(q, 1);
    x->at = db_int64(q, 2);
    x->variant = db_int(q, 3);
    x->published = db_int(q, 4);
    col_text(q, 5, x->category, sizeof(x->category));
    x->text = col_dup(q, 6);
    x->variants = col_dup(q, 7);
    x->occurrence_id = db_int64(q, 8);
}

int store_queue_items(struct store *st, int64_t ws, int64_t channel, int64_t from, int64_t to,
                          struct store_queue_item **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc, limit = 200000;
    TAKE(0);
    rc = prep(s, "SELECT o.post_id, o.channel_id, coalesce(o.published_at, o.planned_at), o.variant,"
                 " CASE WHEN o.state = 'published' THEN 1 ELSE 0 END, p.category, p.text, p.variants, o.id"
                 " FROM occurrences o JOIN posts p ON p.id = o.post_id WHERE o.workspace_id = ?1 AND o.planned_at >= ?2"
                 " AND o.planned_at < ?3 AND (?4 = 0 OR o.channel_id = ?4)"
                 " AND o.state IN ('scheduled', 'publishing', 'published')"
                 " AND o.deleted_at IS NULL ORDER BY o.planned_at, o.id", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, from);
        db_bind_int64(q, 3, to);
        db_bind_int64(q, 4, channel);
        rc = run_list(s, q, sizeof(**items), limit, row_queue_item, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

/* One kind of a channel's occurrences for store_queue_near: those whose time is in [?2,
 * ?3], planned in [?4, ?5), not of post ?6, not deleted. Queued ones are read by planned_at
 * (occurrences_channel), published ones by published_at (occurrences_published). */
#define NEAR_PART(kind, at, at_as, id_as)                                                                             \
    "SELECT o.post_id, o.channel_id, " at at_as ", o.variant, CASE WHEN o.state = 'published' THEN 1 ELSE 0 END,"    \
    " p.category, p.text, p.variants, o.id" id_as " FROM occurrences o JOIN posts p ON p.id = o.post_id"             \
    " WHERE o.channel_id = ?1 AND " kind " AND " at " >= ?2 AND " at " <= ?3 AND o.planned_at >= ?4"                  \
    " AND o.planned_at < ?5 AND o.post_id <> ?6 AND o.deleted_at IS NULL"
/* The kinds as one statement, in (time, occurrence) order: each part is a range of its
 * index in that order and the engine merges them (no sort), reading only as far as the
 * caller steps. */
#define NEAR(dir)                                                                                                     \
    NEAR_PART("o.state IN ('scheduled', 'publishing')", "o.planned_at", " AS o_at", " AS id") " UNION ALL "           \
    NEAR_PART("o.state = 'published' AND o.published_at IS NOT NULL", "o.published_at", "", "") " UNION ALL "        \
    NEAR_PART("o.state = 'published' AND o.published_at IS NULL", "o.planned_at", "", "")                            \
    " ORDER BY o_at " dir ", id " dir

static int near_cmp_asc(const void *a, const void *b)
{
    const struct store_queue_item *x = a, *y = b;
    if(x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if(x->post_id != y->post_id)
        return x->post_id < y->post_id ? -1 : 1;
    return (x->occurrence_id > y->occurrence_id) - (x->occurrence_id < y->occurrence_id);
}

static int near_cmp_desc(const void *a, const void *b)
{
    return near_cmp_asc(b, a);
}

int store_queue_near(struct store *st, const struct store_queue_range *r, struct store_queue_item **items,
                     size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    size_t cap = 0, cnt = 0;
    struct store_queue_item *arr = NULL;
    int rc = SAM_OK, step = DB_DONE;
    *items = NULL;
    *n = 0;
    if(r->limit > 0 && r->from <= r->to) {
        TAKE(0);
        rc = prep(s, r->last ? NEAR("DESC") : NEAR("ASC"), &q);
        if(!rc) {
            db_bind_int64(q, 1, r->channel);
            db_bind_int64(q, 2, r->from);
            db_bind_int64(q, 3, r->to);
            db_bind_int64(q, 4, r->planned_from);
            db_bind_int64(q, 5, r->planned_to);
            db_bind_int64(q, 6, r->exclude_post);
            /* The first r->limit rows, then any more at the time of the last of them: which
             * of those come first is by post, settled below. */
            while((step = db_step(q)) == DB_ROW) {
                if(cnt >= (size_t)r->limit && db_int64(q, 2) != arr[cnt - 1].at)
                    break;
                if(cnt == cap) {
                    size_t bigger = cap ? cap * 2 : 16;
                    struct store_queue_item *more = realloc(arr, bigger * sizeof(*arr));
                    if(!more) {
                        rc = SAM_ENOMEM;
                        break;
                    }
                    arr = more;
                    cap = bigger;
                }
                row_queue_item(q, &arr[cnt++]);
            }
            if(!rc && step == DB_ERROR)
                rc = db_fail(s, "queue");
            db_release(q);
        }
        db_give(P(st), s);
        if(rc) {
            store_queue_items_free(arr, cnt);
            return rc;
        }
    }
    /* In (time, post, occurrence) order, the first r->limit kept. */
    if(cnt > 1)
        qsort(arr, cnt, sizeof(*arr), r->last ? near_cmp_desc : near_cmp_asc);
    while(cnt > 0 && cnt > (size_t)(r->limit > 0 ? r->limit : 0)) {
        cnt--;
        free(arr[cnt].text);
        free(arr[cnt].variants);
    }
    if(!arr && !(arr = malloc(sizeof(*arr))))
        return SAM_ENOMEM;
    *items = arr;
    *n = cnt;
    return SAM_OK;
}
#undef NEAR
#undef NEAR_PART

static void row_queue_item_planned(struct dbq *q, void *p)
{
    struct store_queue_item *x = p;
    row_queue_item(q, p);
    x->planned_at = db_int64(q, 9);
}

int store_queue_channel(struct store *st, int64_t channel, int64_t from, int64_t to, struct store_queue_item **items,
                        size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc, limit = 1000000;
    TAKE(0);
    /* The time of each as store_queue_near has it: published_at once published (when
     * known), else planned_at. */
    rc = prep(s, "SELECT o.post_id, o.channel_id, CASE WHEN o.state = 'published' AND o.published_at IS NOT NULL"
                 " THEN o.published_at ELSE o.planned_at END AS o_at, o.variant,"
                 " CASE WHEN o.state = 'published' THEN 1 ELSE 0 END, p.category, p.text, p.variants, o.id, o.planned_at"
                 " FROM occurrences o JOIN posts p ON p.id = o.post_id WHERE o.channel_id = ?1 AND o.planned_at >= ?2"
                 " AND o.planned_at < ?3 AND o.state IN ('scheduled', 'publishing', 'published')"
                 " AND o.deleted_at IS NULL ORDER BY o_at, o.post_id, o.id", &q);
    if(!rc) {
        db_bind_int64(q, 1, channel);
        db_bind_int64(q, 2, from);
        db_bind_int64(q, 3, to);
        rc = run_list(s, q, sizeof(**items), limit, row_queue_item_planned, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_channel_taken(struct store *st, int64_t channel, int64_t after, int64_t before, int64_t **times,
                        size_t *n, int64_t *freed)
{
    struct dbc *s;
    struct dbq *q;
    size_t cap = 0, k = 0;
    int64_t *t = NULL;
    int rc, r, found = 0;
    *times = NULL;
    *n = 0;
    *freed = 0;
    TAKE(0);
    /* One statement, so the count and the instants are of the same moment. */
    rc = prep(s, "SELECT 0 AS k, freed AS v FROM channels WHERE id = ?1 UNION ALL"
                 " SELECT 1 AS k, planned_at AS v FROM occurrences WHERE channel_id = ?1 AND planned_at > ?2"
                 " AND planned_at < ?3 AND state IN ('scheduled', 'publishing', 'published') ORDER BY k, v", &q);
    if(!rc) {
        db_bind_int64(q, 1, channel);
        db_bind_int64(q, 2, after);
        db_bind_int64(q, 3, before);
        while((r = db_step(q)) == DB_ROW) {
            int64_t v = db_int64(q, 1);
            if(db_int64(q, 0) == 0) {
                *freed = v;
                found = 1;
                continue;
            }
            if(k > 0 && t[k - 1] == v)
                continue; /* two occurrences at one instant hold one slot */
            if(k == cap) {
                int64_t *bigger = realloc(t, (cap ? cap * 2 : 64) * sizeof(*t));
                if(!bigger) {
                    rc = SAM_ENOMEM;
                    break;
                }
                t = bigger;
                cap = cap ? cap * 2 : 64;
            }
            t[k++] = v;
        }
        if(!rc && r != DB_DONE)
            rc = db_fail(s, "taken slots");
        if(!rc && !found)
            rc = sam_fail(SAM_ENOTFOUND, "channel not found");
        db_release(q);
    }
    db_give(P(st), s);
    if(rc) {
        free(t);
        return rc;
    }
    *times = t ? t : malloc(sizeof(*t));
    *n = k;
    return *times ? SAM_OK : SAM_ENOMEM;
}

/* ---- audit log ---- */

static void row_audit(struct dbq *q, void *p)
{
    struct store_audit *a = p;
    memset(a, 0, sizeof(*a));
    a->id = db_int64(q, 0);
    a->workspace_id = db_int64(q, 1);
    col_text(q, 2, a->actor, sizeof(a->actor));
    col_text(q, 3, a->action, sizeof(a->action));
    col_text(q, 4, a->target, sizeof(a->target));
    a->detail = col_dup(q, 5);
    a->at = db_int64(q, 6);
}

/* Writes one audit entry on a connection the caller holds (in its transaction, if any). */
static int audit_insert_on(struct dbc *s, const struct store_audit *a)
{
    struct dbq *q;
    int rc = prep(s, "INSERT INTO audit_log(workspace_id, actor, action, target, detail, at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &q);
    if(!rc) {
        if(a->workspace_id)
            db_bind_int64(q, 1, a->workspace_id);
        else
            db_bind_null(q, 1);
        bind_text(q, 2, a->actor);
        bind_text(q, 3, a->action);
        bind_text(q, 4, a->target);
        bind_text(q, 5, a->detail ? a->detail : "{}");
        db_bind_int64(q, 6, a->at);
        rc = exec_stmt(s, q, "audit entry", NULL);
        db_release(q);
    }
    return rc;
}

int store_audit_insert(struct store *st, const struct store_audit *a)
{
    struct dbc *s;
    int rc;
    TAKE(1);
    rc = audit_insert_on(s, a);
    db_give(P(st), s);
    return rc;
}

int store_audit_list(struct store *st, int64_t ws, int64_t before, int limit,
                         struct store_audit **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT id, coalesce(workspace_id, 0), actor, action, target, detail, at FROM audit_log"
                 " WHERE workspace_id = ?1 AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, before);
        db_bind_int64(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_audit, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

/* ---- channel status, messages, cursors, engagement, OAuth ---- */

int store_channel_set_status(struct store *st, int64_t id, const char *status, const char *message, int64_t now)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    rc = prep(s, "UPDATE channels SET status = ?2, status_message = ?3, status_at = ?4, updated_at = ?4"
                 " WHERE id = ?1", &q);
    if(!rc) {
        db_bind_int64(q, 1, id);
        bind_text(q, 2, status);
        if(message && *message)
            bind_text(q, 3, message);
        else
            db_bind_null(q, 3);
        db_bind_int64(q, 4, now);
        rc = exec_stmt(s, q, "channel status", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "channel not found");
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_channel_mark_reconnect(struct store *st, const struct store_channel *c, const char *message,
                                     int64_t now, int *changed)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *changed = 0;
    TAKE(1);
    rc = prep(s, "UPDATE channels SET status = 'reconnect', status_message = ?2, status_at = ?3, updated_at = ?3"
                 " WHERE id = ?1 AND status = 'active' AND secret IS NOT DISTINCT FROM ?4 AND settings = ?5", &q);
    if(!rc) {
        db_bind_int64(q, 1, c->id);
        bind_text(q, 2, message && *message ? message : "the network refused the channel's credentials");
        db_bind_int64(q, 3, now);
        if(c->secret)
            db_bind_blob(q, 4, c->secret, c->secret_len);
        else
            db_bind_null(q, 4);
        bind_text(q, 5, c->settings ? c->settings : "{}");
        rc = exec_stmt(s, q, "channel status", changed);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_channel_set_paused(struct store *st, int64_t id, int paused, int64_t now, int *changed)
{
    /* Only a change is written, so that *changed says whether this call paused or resumed
     * it (for the audit log) and a second pause keeps the time of the first. */
    return simple_exec(st, paused ? "UPDATE channels SET paused_at = ?2, updated_at = ?2 WHERE id = ?1"
                                    " AND paused_at IS NULL"
                                  : "UPDATE channels SET paused_at = NULL, updated_at = ?2 WHERE id = ?1"
                                    " AND paused_at IS NOT NULL",
                       "channel pause", id, now, 0, NULL, changed);
}

int store_channel_reactivate(struct store *st, int64_t id, int64_t now, int *changed)
{
    return simple_exec(st, "UPDATE channels SET status = 'active', status_message = NULL, status_at = ?2,"
                           " updated_at = ?2 WHERE id = ?1 AND status <> 'active'", "channel status", id, now, 0,
                       NULL, changed);
}

static void bind_opt(struct dbq *q, int i, const char *v)
{
    if(v)
        bind_text(q, i, v);
    else
        db_bind_null(q, i);
}

static char *col_opt(struct dbq *q, int i)
{
    return db_is_null(q, i) ? NULL : col_dup(q, i);
}

int store_message_insert(struct store *st, struct store_message *m, int *inserted)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    *inserted = 0;
    TAKE(1);
    rc = prep(s, "INSERT INTO messages(workspace_id, channel_id, kind, remote_id, remote_url, parent_remote_id,"
                 " root_remote_id, thread_id, author_id, author_handle, author_name, text, created_at, received_at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                 " ON CONFLICT (channel_id, remote_id) DO NOTHING RETURNING messages.id", &q);
    if(!rc) {
        db_bind_int64(q, 1, m->workspace_id);
        db_bind_int64(q, 2, m->channel_id);
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
        db_bind_int64(q, 13, m->created_at);
        db_bind_int64(q, 14, m->received_at);
        int r = db_step(q);
        if(r == DB_ROW) {
            m->id = db_int64(q, 0);
            n = 1;
        } else if(r == DB_ERROR) {
            rc = db_fail(s, "message");
        }
        db_release(q);
    }
    if(!rc && n) {
        *inserted = 1;
    } else if(!rc) {
        rc = prep(s, "SELECT id FROM messages WHERE channel_id = ?1 AND remote_id = ?2", &q);
        if(!rc) {
            db_bind_int64(q, 1, m->channel_id);
            bind_text(q, 2, m->remote_id ? m->remote_id : "");
            if(db_step(q) == DB_ROW)
                m->id = db_int64(q, 0);
            db_release(q);
        }
    }
    db_give(P(st), s);
    return rc;
}

static void row_message(struct dbq *q, void *p)
{
    struct store_message *m = p;
    memset(m, 0, sizeof(*m));
    m->id = db_int64(q, 0);
    m->workspace_id = db_int64(q, 1);
    m->channel_id = db_int64(q, 2);
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
    m->created_at = db_int64(q, 13);
    m->received_at = db_int64(q, 14);
    col_text(q, 15, m->channel_name, sizeof(m->channel_name));
    col_text(q, 16, m->channel_kind, sizeof(m->channel_kind));
}

int store_message_list(struct store *st, int64_t ws, int64_t channel, const char *kind, int64_t before,
                           int limit, struct store_message **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT m.id, m.workspace_id, m.channel_id, m.kind, m.remote_id, m.remote_url,"
                 " m.parent_remote_id, m.root_remote_id, m.thread_id, m.author_id, m.author_handle,"
                 " m.author_name, m.text, m.created_at, m.received_at, c.name, c.kind"
                 " FROM messages m JOIN channels c ON c.id = m.channel_id"
                 " WHERE m.workspace_id = ?1 AND (?2 = 0 OR m.channel_id = ?2) AND (CAST(?3 AS TEXT) IS NULL OR m.kind = ?3)"
                 " AND (?4 = 0 OR m.id < ?4) ORDER BY m.id DESC LIMIT ?5", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, channel);
        bind_opt(q, 3, kind);
        db_bind_int64(q, 4, before);
        db_bind_int64(q, 5, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_message, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_cursor_get(struct store *st, int64_t channel, const char *name, char *out, size_t n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    if(n)
        out[0] = '\0';
    TAKE(0);
    rc = prep(s, "SELECT value FROM channel_cursors WHERE channel_id = ?1 AND name = ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, channel);
        bind_text(q, 2, name);
        if(db_step(q) == DB_ROW) {
            const char *v = db_text(q, 0);
            size_t len = strlen(v);
            if(len >= n)
                rc = sam_fail(SAM_ETOOBIG, "the stored cursor %s is longer than %zu bytes", name, n);
            else if(v)
                memcpy(out, v, len + 1);
        }
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_cursor_set(struct store *st, int64_t channel, const char *name, const char *value, int64_t now)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, "INSERT INTO channel_cursors(channel_id, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)"
                 " ON CONFLICT (channel_id, name) DO UPDATE SET value = excluded.value,"
                 " updated_at = excluded.updated_at", &q);
    if(!rc) {
        db_bind_int64(q, 1, channel);
        bind_text(q, 2, name);
        bind_text(q, 3, value);
        db_bind_int64(q, 4, now);
        rc = exec_stmt(s, q, "channel cursor", NULL);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_engagement_plan(struct store *st, int64_t occurrence, int64_t published_at,
                              const int64_t *checkpoints, size_t n)
{
    struct dbc *s;
    struct dbq *q;
    int rc = SAM_OK;
    TAKE(1);
    for(size_t i = 0; !rc && i < n; i++) {
        rc = prep(s, "INSERT INTO engagement(occurrence_id, checkpoint, due_at) VALUES (?1, ?2, ?3)"
                     " ON CONFLICT DO NOTHING", &q);
        if(rc)
            break;
        db_bind_int64(q, 1, occurrence);
        db_bind_int64(q, 2, checkpoints[i]);
        db_bind_int64(q, 3, published_at + checkpoints[i]);
        rc = exec_stmt(s, q, "engagement", NULL);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

#define ENG_COLS "e.occurrence_id, e.checkpoint, e.due_at, coalesce(e.fetched_at, 0), e.attempts," \
                 " coalesce(e.likes, -1), coalesce(e.reposts, -1), coalesce(e.replies, -1), coalesce(e.quotes, -1)," \
                 " coalesce(e.error, ''), o.workspace_id, o.post_id, o.channel_id, coalesce(o.published_at, 0)," \
                 " coalesce(o.remote_id, '')"

static void row_engagement(struct dbq *q, void *p)
{
    struct store_engagement *e = p;
    memset(e, 0, sizeof(*e));
    e->occurrence_id = db_int64(q, 0);
    e->checkpoint = db_int64(q, 1);
    e->due_at = db_int64(q, 2);
    e->fetched_at = db_int64(q, 3);
    e->attempts = db_int(q, 4);
    e->likes = db_int64(q, 5);
    e->reposts = db_int64(q, 6);
    e->replies = db_int64(q, 7);
    e->quotes = db_int64(q, 8);
    col_text(q, 9, e->error, sizeof(e->error));
    e->workspace_id = db_int64(q, 10);
    e->post_id = db_int64(q, 11);
    e->channel_id = db_int64(q, 12);
    e->published_at = db_int64(q, 13);
    col_text(q, 14, e->remote_id, sizeof(e->remote_id));
}

int store_engagement_due(struct store *st, int64_t now, int limit, struct store_engagement **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " ENG_COLS " FROM engagement e JOIN occurrences o ON o.id = e.occurrence_id"
                 " JOIN channels c ON c.id = o.channel_id"
                 " WHERE e.fetched_at IS NULL AND e.due_at <= ?1 AND e.checkpoint > 0 AND o.state = 'published'"
                 " AND o.deleted_at IS NULL AND c.status = 'active'"
                 " ORDER BY e.due_at, e.occurrence_id, e.checkpoint LIMIT ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, now);
        db_bind_int64(q, 2, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_engagement, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

static void bind_count(struct dbq *q, int i, int64_t v)
{
    if(v >= 0)
        db_bind_int64(q, i, v);
    else
        db_bind_null(q, i);
}

int store_engagement_record(struct store *st, const struct store_engagement *e)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    rc = prep(s, "UPDATE engagement SET fetched_at = ?3, due_at = ?4, attempts = attempts + 1, likes = ?5,"
                 " reposts = ?6, replies = ?7, quotes = ?8, error = ?9"
                 " WHERE occurrence_id = ?1 AND checkpoint = ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, e->occurrence_id);
        db_bind_int64(q, 2, e->checkpoint);
        if(e->fetched_at)
            db_bind_int64(q, 3, e->fetched_at);
        else
            db_bind_null(q, 3);
        db_bind_int64(q, 4, e->due_at);
        bind_count(q, 5, e->likes);
        bind_count(q, 6, e->reposts);
        bind_count(q, 7, e->replies);
        bind_count(q, 8, e->quotes);
        bind_opt(q, 9, e->error[0] ? e->error : NULL);
        rc = exec_stmt(s, q, "engagement", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "engagement fetch not found");
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_engagement_list(struct store *st, int64_t ws, int64_t post, int64_t occurrence,
                              struct store_engagement **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
#define ENG_LIST(lead)                                                                                                \
    "SELECT " ENG_COLS " FROM engagement e JOIN occurrences o ON o.id = e.occurrence_id"                             \
    " WHERE " lead " AND (?1 = 0 OR o.workspace_id = ?1) AND (?2 = 0 OR o.post_id = ?2)"                             \
    " AND (?3 = 0 OR o.id = ?3) ORDER BY e.occurrence_id, e.checkpoint LIMIT 3000"
    rc = prep(s, occurrence ? ENG_LIST("o.id = ?3") : post ? ENG_LIST("o.post_id = ?2") : ENG_LIST("1 = 1"), &q);
#undef ENG_LIST
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, post);
        db_bind_int64(q, 3, occurrence);
        rc = run_list(s, q, sizeof(**items), 3000, row_engagement, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_oauth_insert(struct store *st, const struct store_oauth *o)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, "INSERT INTO oauth_pending(state_hash, workspace_id, user_id, kind, channel_id, detail, secret,"
                 " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &q);
    if(!rc) {
        bind_text(q, 1, o->state_hash);
        db_bind_int64(q, 2, o->workspace_id);
        if(o->user_id)
            db_bind_int64(q, 3, o->user_id);
        else
            db_bind_null(q, 3);
        bind_text(q, 4, o->kind);
        if(o->channel_id)
            db_bind_int64(q, 5, o->channel_id);
        else
            db_bind_null(q, 5);
        bind_text(q, 6, o->detail ? o->detail : "{}");
        if(o->secret)
            db_bind_blob(q, 7, o->secret, o->secret_len);
        else
            db_bind_null(q, 7);
        db_bind_int64(q, 8, o->created_at);
        db_bind_int64(q, 9, o->expires_at);
        rc = exec_stmt(s, q, "pending connection", NULL);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

struct oauth_take {
    const char *state_hash;
    int64_t now;
    struct store_oauth *out;
    int found;
};

static int oauth_take_tx(struct dbc *s, void *arg)
{
    struct oauth_take *a = arg;
    const char *state_hash = a->state_hash;
    int64_t now = a->now;
    struct store_oauth *out = a->out;
    struct dbq *q;
    int rc;
    store_oauth_cleanup(out);
    memset(out, 0, sizeof(*out));
    a->found = 0;
    rc = prep(s, "SELECT state_hash, workspace_id, coalesce(user_id, 0), kind, coalesce(channel_id, 0), detail,"
                     " secret, created_at, expires_at FROM oauth_pending WHERE state_hash = ?1 AND expires_at > ?2", &q);
    if(!rc) {
        bind_text(q, 1, state_hash);
        db_bind_int64(q, 2, now);
        int r = db_step(q);
        if(r == DB_ERROR) {
            /* The engine's words count (a retry), not the DELETE's after them. */
            rc = db_fail(s, "pending connection");
            db_release(q);
            return rc;
        }
        if(r == DB_ROW) {
            size_t blen = 0;
            const void *blob = db_blob(q, 6, &blen);
            a->found = 1;
            col_text(q, 0, out->state_hash, sizeof(out->state_hash));
            out->workspace_id = db_int64(q, 1);
            out->user_id = db_int64(q, 2);
            col_text(q, 3, out->kind, sizeof(out->kind));
            out->channel_id = db_int64(q, 4);
            out->detail = col_dup(q, 5);
            if(blob) {
                out->secret_len = blen;
                out->secret = malloc(out->secret_len ? out->secret_len : 1);
                if(out->secret)
                    memcpy(out->secret, blob, out->secret_len);
                else
                    out->secret_len = 0;
            }
            out->created_at = db_int64(q, 7);
            out->expires_at = db_int64(q, 8);
        }
        db_release(q);
        rc = prep(s, "DELETE FROM oauth_pending WHERE state_hash = ?1 OR expires_at <= ?2", &q);
        if(!rc) {
            bind_text(q, 1, state_hash);
            db_bind_int64(q, 2, now);
            rc = exec_stmt(s, q, "pending connection", NULL);
            db_release(q);
        }
    }
    return rc;
}

int store_oauth_take(struct store *st, const char *state_hash, int64_t now, struct store_oauth *out)
{
    struct oauth_take a = {state_hash, now, out, 0};
    int rc;
    memset(out, 0, sizeof(*out));
    rc = db_tx(P(st), oauth_take_tx, &a);
    if(!rc && !a.found)
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
static void row_mail(struct dbq *q, void *p)
{
    struct store_mail *m = p;
    memset(m, 0, sizeof(*m));
    m->id = db_int64(q, 0);
    col_text(q, 1, m->recipient, sizeof(m->recipient));
    m->subject = col_dup(q, 2);
    col_text(q, 3, m->kind, sizeof(m->kind));
    col_text(q, 4, m->state, sizeof(m->state));
    m->attempts = db_int(q, 5);
    m->next_attempt_at = db_int64(q, 6);
    col_text(q, 7, m->lease_owner, sizeof(m->lease_owner));
    m->lease_until = db_int64(q, 8);
    col_text(q, 9, m->last_error, sizeof(m->last_error));
    col_text(q, 10, m->reply, sizeof(m->reply));
    m->created_at = db_int64(q, 11);
    m->updated_at = db_int64(q, 12);
    m->sent_at = db_int64(q, 13);
    m->sealed = db_int(q, 14);
    if(db_ncols(q) > 15)
        m->body = col_dup(q, 15);
}

int store_mail_insert(struct store *st, struct store_mail *m)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    rc = prep(s, "INSERT INTO mail_outbox(recipient, subject, body, kind, state, attempts, next_attempt_at,"
                 " lease_owner, lease_until, created_at, updated_at, sealed)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11) RETURNING mail_outbox.id", &q);
    if(!rc) {
        bind_text(q, 1, m->recipient);
        bind_text(q, 2, m->subject ? m->subject : "");
        bind_text(q, 3, m->body ? m->body : "");
        bind_text(q, 4, m->kind);
        bind_text(q, 5, m->state[0] ? m->state : "queued");
        db_bind_int64(q, 6, m->attempts);
        db_bind_int64(q, 7, m->next_attempt_at);
        bind_text_or_null(q, 8, m->lease_owner[0] ? m->lease_owner : NULL);
        if(m->lease_until)
            db_bind_int64(q, 9, m->lease_until);
        else
            db_bind_null(q, 9);
        db_bind_int64(q, 10, m->created_at);
        db_bind_int64(q, 11, m->sealed ? 1 : 0);
        rc = insert_id(s, q, "mail", &m->id);
        if(!rc)
            m->updated_at = m->created_at;
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_mail_claim(struct store *st, int64_t now, const char *owner, int lease_seconds, int limit,
                         struct store_mail **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *items = NULL;
    *n = 0;
    TAKE(1);
    /* One statement: the rows are chosen and leased together, so two workers (or a
     * worker and `samtale mail test`) never take the same message. On PostgreSQL the
     * rows another worker is leasing are skipped (SKIP LOCKED), and the outer condition
     * repeats the inner one, so a row leased meanwhile is left out. */
#define MAIL_DUE "(state = 'queued' AND next_attempt_at <= ?1) OR (state = 'sending' AND lease_until < ?1)"
#define MAIL_CLAIM(lock)                                                                                              \
    "UPDATE mail_outbox SET state = 'sending', lease_owner = ?2, lease_until = ?1 + ?3,"                              \
    " attempts = attempts + 1, updated_at = ?1 WHERE id IN (SELECT id FROM mail_outbox WHERE " MAIL_DUE               \
    " ORDER BY next_attempt_at, id LIMIT ?4" lock ") AND (" MAIL_DUE ") RETURNING " MAIL_COLS ", body"
    rc = prep(s, DB_VARIANT(s, MAIL_CLAIM(""), MAIL_CLAIM(" FOR UPDATE SKIP LOCKED")), &q);
#undef MAIL_CLAIM
#undef MAIL_DUE
    if(!rc) {
        db_bind_int64(q, 1, now);
        bind_text(q, 2, owner);
        db_bind_int64(q, 3, lease_seconds);
        db_bind_int64(q, 4, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_mail, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    if(!rc && !*n) {
        free(*items);
        *items = NULL;
    }
    return rc;
}

int store_mail_finish(struct store *st, int64_t id, const char *owner, const struct store_mail_outcome *o,
                          int64_t now)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    rc = prep(s, "UPDATE mail_outbox SET state = ?3, last_error = ?4, reply = ?5,"
                 " next_attempt_at = CASE WHEN ?6 > 0 THEN ?6 ELSE next_attempt_at END,"
                 " sent_at = CASE WHEN ?3 = 'sent' THEN ?7 ELSE sent_at END, lease_owner = NULL, lease_until = NULL,"
                 " body = CASE WHEN sealed = 1 AND ?3 IN ('sent', 'failed') THEN '' ELSE body END,"
                 " updated_at = ?7 WHERE id = ?1 AND state = 'sending' AND lease_owner = ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, id);
        bind_text(q, 2, owner);
        bind_text(q, 3, o->state);
        bind_text_or_null(q, 4, o->error);
        bind_text_or_null(q, 5, o->reply);
        db_bind_int64(q, 6, o->next_attempt_at);
        db_bind_int64(q, 7, now);
        rc = exec_stmt(s, q, "mail", &n);
        db_release(q);
    }
    db_give(P(st), s);
    if(!rc && !n)
        rc = sam_fail(SAM_ECONFLICT, "mail %lld is no longer leased to %s", (long long)id, owner);
    return rc;
}

int store_mail_list(struct store *st, const char *state, int64_t before, int limit, struct store_mail **items,
                        size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, "SELECT " MAIL_COLS " FROM mail_outbox WHERE (CAST(?1 AS TEXT) IS NULL OR state = ?1) AND (?2 = 0 OR id < ?2)"
                 " ORDER BY id DESC LIMIT ?3", &q);
    if(!rc) {
        bind_text_or_null(q, 1, state);
        db_bind_int64(q, 2, before);
        db_bind_int64(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_mail, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_mail_counts(struct store *st, int64_t counts[STORE_MAIL_NSTATES])
{
    static const char *const states[STORE_MAIL_NSTATES] = {"queued", "sending", "sent", "failed"};
    struct dbc *s;
    struct dbq *q;
    int rc, r;
    memset(counts, 0, sizeof(int64_t) * STORE_MAIL_NSTATES);
    TAKE(0);
    rc = prep(s, "SELECT state, count(*) FROM mail_outbox GROUP BY state", &q);
    if(!rc) {
        while((r = db_step(q)) == DB_ROW) {
            const char *state = db_text(q, 0);
            for(int i = 0; state && i < STORE_MAIL_NSTATES; i++)
                if(!strcmp(state, states[i]))
                    counts[i] = db_int64(q, 1);
        }
        if(r != DB_DONE)
            rc = db_fail(s, "mail counts");
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_workspace_set_require_alt(struct store *st, int64_t ws, int required)
{
    int n = 0;
    int rc = simple_exec(st, "UPDATE workspaces SET require_alt_text = ?2 WHERE id = ?1", "workspace", ws,
                         required ? 1 : 0, 0, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "workspace not found");
    return rc;
}

/* ---- security (X6): login failures, invitations, the second factor ---- */

int store_workspace_set_second_factor(struct store *st, int64_t ws, int required)
{
    int n = 0;
    int rc = simple_exec(st, "UPDATE workspaces SET require_second_factor = ?2 WHERE id = ?1", "workspace", ws,
                         required ? 1 : 0, 0, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "workspace not found");
    return auth_changed(st, rc);
}

int store_user_login_failed(struct store *st, int64_t id, int64_t now, const char *addr, int *count)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *count = 0;
    TAKE(1);
    rc = prep(s, "UPDATE users SET failed_logins = failed_logins + 1, failed_login_at = ?2, failed_login_addr = ?3"
                 " WHERE id = ?1 RETURNING users.failed_logins", &q);
    if(!rc) {
        db_bind_int64(q, 1, id);
        db_bind_int64(q, 2, now);
        bind_text(q, 3, addr ? addr : "");
        rc = get_one(s, q, "account");
        if(!rc)
            *count = db_int(q, 0);
        db_release(q);
    }
    db_give(P(st), s);
    return auth_changed(st, rc);
}

struct user_login_succeeded {
    int64_t id;
    int64_t now;
    struct store_user *before;
};

static int user_login_succeeded_tx(struct dbc *s, void *arg)
{
    const struct user_login_succeeded *a = arg;
    int64_t id = a->id;
    int64_t now = a->now;
    struct store_user *before = a->before;
    struct dbq *q = NULL;
    int rc;
    rc = prep(s, "SELECT " USER_COLS " FROM users WHERE id = ?1", &q);
    if(!rc) {
        db_bind_int64(q, 1, id);
        rc = get_one(s, q, "account");
        if(!rc)
            row_user(q, before);
        db_release(q);
    }
    if(!rc)
        rc = prep(s, "UPDATE users SET last_login_at = ?2, failed_logins = 0, failed_login_at = NULL,"
                     " failed_login_addr = NULL WHERE id = ?1", &q);
    if(!rc) {
        db_bind_int64(q, 1, id);
        db_bind_int64(q, 2, now);
        rc = exec_stmt(s, q, "account", NULL);
        db_release(q);
    }
    return rc;
}

int store_user_login_succeeded(struct store *st, int64_t id, int64_t now, struct store_user *before)
{
    struct user_login_succeeded a = {id, now, before};
    return auth_changed(st, db_tx(P(st), user_login_succeeded_tx, &a));
}

int store_user_failed_notified(struct store *st, int64_t id, int64_t now)
{
    return auth_changed(st, simple_exec(st, "UPDATE users SET failed_notified_at = ?2 WHERE id = ?1", "account", id, now, 0, NULL,
                       NULL));
}

int store_session_clear_notice(struct store *st, int64_t id)
{
    return auth_changed(st, simple_exec(st, "UPDATE sessions SET notice_failed = 0, notice_failed_at = NULL, notice_failed_addr = NULL"
                           " WHERE id = ?1", "session", id, 0, 0, NULL, NULL));
}

int store_token_revoke_user(struct store *st, int64_t user_id, int64_t now, int *n)
{
    *n = 0;
    return auth_changed(st, simple_exec(st, "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                       "tokens", user_id, now, 0, NULL, n));
}

#define INVITATION_SELECT "SELECT i.id, i.workspace_id, i.email, coalesce(i.name, ''), i.role, i.language," \
                          " i.delivery, coalesce(i.invited_by, 0), coalesce(u.name, ''), w.name, i.created_at," \
                          " i.expires_at, coalesce(i.accepted_at, 0), coalesce(i.revoked_at, 0)" \
                          " FROM invitations i JOIN workspaces w ON w.id = i.workspace_id" \
                          " LEFT JOIN users u ON u.id = i.invited_by"

static void row_invitation(struct dbq *q, void *p)
{
    struct store_invitation *v = p;
    memset(v, 0, sizeof(*v));
    v->id = db_int64(q, 0);
    v->workspace_id = db_int64(q, 1);
    col_text(q, 2, v->email, sizeof(v->email));
    col_text(q, 3, v->name, sizeof(v->name));
    col_text(q, 4, v->role, sizeof(v->role));
    col_text(q, 5, v->language, sizeof(v->language));
    col_text(q, 6, v->delivery, sizeof(v->delivery));
    v->invited_by = db_int64(q, 7);
    col_text(q, 8, v->inviter_name, sizeof(v->inviter_name));
    col_text(q, 9, v->workspace_name, sizeof(v->workspace_name));
    v->created_at = db_int64(q, 10);
    v->expires_at = db_int64(q, 11);
    v->accepted_at = db_int64(q, 12);
    v->revoked_at = db_int64(q, 13);
}

static int invitation_get_locked(struct dbc *s, int64_t id, const unsigned char *hash, struct store_invitation *out)
{
    struct dbq *q;
    int rc = prep(s, hash ? INVITATION_SELECT " WHERE i.token_hash = ?1" : INVITATION_SELECT " WHERE i.id = ?1", &q);
    if(rc)
        return rc;
    if(hash)
        db_bind_blob(q, 1, hash, 32);
    else
        db_bind_int64(q, 1, id);
    rc = get_one(s, q, "invitation");
    if(!rc)
        row_invitation(q, out);
    db_release(q);
    return rc;
}

int store_invitation_get(struct store *st, int64_t id, const unsigned char *hash, struct store_invitation *out)
{
    struct dbc *s;
    TAKE(0);
    int rc = invitation_get_locked(s, id, hash, out);
    db_give(P(st), s);
    return rc;
}

struct invitation_insert {
    const unsigned char *hash;
    struct store_invitation *v;
};

static int invitation_insert_tx(struct dbc *s, void *arg)
{
    const struct invitation_insert *a = arg;
    const unsigned char *hash = a->hash;
    struct store_invitation *v = a->v;
    struct dbq *q = NULL;
    int rc;
    rc = prep(s, "UPDATE invitations SET revoked_at = ?3 WHERE workspace_id = ?1 AND email = ?2"
                 " AND accepted_at IS NULL AND revoked_at IS NULL", &q);
    if(!rc) {
        db_bind_int64(q, 1, v->workspace_id);
        bind_text(q, 2, v->email);
        db_bind_int64(q, 3, v->created_at);
        rc = exec_stmt(s, q, "invitation", NULL);
        db_release(q);
    }
    if(!rc)
        rc = prep(s, "INSERT INTO invitations(workspace_id, email, name, role, token_hash, language, invited_by,"
                     " delivery, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                     " RETURNING invitations.id", &q);
    if(!rc) {
        db_bind_int64(q, 1, v->workspace_id);
        bind_text(q, 2, v->email);
        if(v->name[0])
            bind_text(q, 3, v->name);
        else
            db_bind_null(q, 3);
        bind_text(q, 4, v->role);
        db_bind_blob(q, 5, hash, 32);
        bind_text(q, 6, v->language[0] ? v->language : "en");
        if(v->invited_by)
            db_bind_int64(q, 7, v->invited_by);
        else
            db_bind_null(q, 7);
        bind_text(q, 8, v->delivery[0] ? v->delivery : "link");
        db_bind_int64(q, 9, v->created_at);
        db_bind_int64(q, 10, v->expires_at);
        rc = insert_id(s, q, "invitation", &v->id);
        db_release(q);
    }
    if(!rc)
        rc = invitation_get_locked(s, v->id, NULL, v);
    return rc;
}

int store_invitation_insert(struct store *st, const unsigned char hash[32], struct store_invitation *v)
{
    struct invitation_insert a = {hash, v};
    return db_tx(P(st), invitation_insert_tx, &a);
}

int store_invitation_list(struct store *st, int64_t ws, int64_t after, int limit, struct store_invitation **items,
                              size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(0);
    rc = prep(s, INVITATION_SELECT " WHERE i.workspace_id = ?1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL"
                 " AND i.id > ?2 ORDER BY i.id LIMIT ?3", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, after);
        db_bind_int64(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_invitation, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_invitation_count(struct store *st, int64_t ws, int64_t by, int64_t since, int *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *n = 0;
    TAKE(0);
    rc = prep(s, "SELECT count(*) FROM invitations WHERE (?1 = 0 OR (workspace_id = ?1 AND accepted_at IS NULL"
                 " AND revoked_at IS NULL)) AND (?2 = 0 OR (invited_by = ?2 AND created_at >= ?3))", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, by);
        db_bind_int64(q, 3, since);
        rc = get_one(s, q, "invitations");
        if(!rc)
            *n = db_int(q, 0);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_invitation_revoke(struct store *st, int64_t ws, int64_t id, int64_t now)
{
    int n = 0;
    int rc = simple_exec(st, "UPDATE invitations SET revoked_at = ?3 WHERE id = ?1 AND workspace_id = ?2"
                             " AND accepted_at IS NULL AND revoked_at IS NULL", "invitation", id, ws, now, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ENOTFOUND, "no pending invitation %lld", (long long)id);
    return rc;
}

struct invitation_accept {
    const unsigned char *hash;
    int64_t now;
    struct store_user *nu;
    int64_t user_id;
    struct store_invitation *out;
};

static int invitation_accept_tx(struct dbc *s, void *arg)
{
    const struct invitation_accept *a = arg;
    const unsigned char *hash = a->hash;
    int64_t now = a->now;
    struct store_user *nu = a->nu;
    int64_t user_id = a->user_id;
    struct store_invitation *out = a->out;
    struct dbq *q = NULL;
    int rc, n = 0;
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
                     " VALUES (?1, ?2, ?3, 0, ?4) RETURNING users.id", &q);
        if(!rc) {
            fold_email(nu->email, nu->email, sizeof(nu->email));
            bind_text(q, 1, nu->email);
            bind_text(q, 2, nu->name);
            bind_text(q, 3, nu->password_hash);
            db_bind_int64(q, 4, nu->created_at);
            rc = insert_id(s, q, "account", &nu->id);
            if(rc == SAM_ECONFLICT)
                rc = sam_fail_field(SAM_ECONFLICT, "email", "%s already has a samtale account: log in with it, "
                                    "then open this link again to accept", nu->email);
            if(!rc)
                user_id = nu->id;
            db_release(q);
        }
    }
    if(!rc)
        rc = prep(s, "INSERT INTO members(workspace_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)", &q);
    if(!rc) {
        db_bind_int64(q, 1, out->workspace_id);
        db_bind_int64(q, 2, user_id);
        bind_text(q, 3, out->role);
        db_bind_int64(q, 4, now);
        rc = exec_stmt(s, q, "membership", NULL);
        if(rc == SAM_ECONFLICT)
            rc = sam_fail(SAM_ECONFLICT, "you are already a member of %s", out->workspace_name);
        db_release(q);
    }
    if(!rc)
        rc = prep(s, "UPDATE invitations SET accepted_at = ?2, accepted_by = ?3 WHERE id = ?1"
                     " AND accepted_at IS NULL AND revoked_at IS NULL", &q);
    if(!rc) {
        db_bind_int64(q, 1, out->id);
        db_bind_int64(q, 2, now);
        db_bind_int64(q, 3, user_id);
        rc = exec_stmt(s, q, "invitation", &n);
        if(!rc && n != 1)
            rc = sam_fail(SAM_ENOTFOUND, "this invitation was already used; log in instead");
        db_release(q);
    }
    if(!rc)
        out->accepted_at = now;
    return rc;
}

int store_invitation_accept(struct store *st, const unsigned char hash[32], int64_t now, struct store_user *nu,
                                int64_t user_id, struct store_invitation *out)
{
    struct invitation_accept a = {hash, now, nu, user_id, out};
    return auth_changed(st, db_tx(P(st), invitation_accept_tx, &a));
}

static int col_blob(struct dbq *q, int i, unsigned char **out, size_t *len)
{
    size_t n = 0;
    const void *b = db_blob(q, i, &n);
    *out = NULL;
    *len = 0;
    if(!b || !n)
        return SAM_OK;
    *out = malloc(n);
    if(!*out)
        return SAM_ENOMEM;
    memcpy(*out, b, n);
    *len = n;
    return SAM_OK;
}

int store_totp_get(struct store *st, int64_t user, struct store_totp *out)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    memset(out, 0, sizeof(*out));
    TAKE(0);
    rc = prep(s, "SELECT totp_secret, totp_pending, coalesce(totp_enabled_at, 0), totp_last_step FROM users"
                 " WHERE id = ?1", &q);
    if(!rc) {
        db_bind_int64(q, 1, user);
        rc = get_one(s, q, "account");
        if(!rc)
            rc = col_blob(q, 0, &out->secret, &out->secret_len);
        if(!rc)
            rc = col_blob(q, 1, &out->pending, &out->pending_len);
        if(!rc) {
            out->enabled_at = db_int64(q, 2);
            out->last_step = db_int64(q, 3);
        }
        db_release(q);
    }
    db_give(P(st), s);
    if(rc)
        store_totp_cleanup(out);
    return rc;
}

int store_totp_set_pending(struct store *st, int64_t user, const unsigned char *sealed, size_t len)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    rc = prep(s, "UPDATE users SET totp_pending = ?2 WHERE id = ?1", &q);
    if(!rc) {
        db_bind_int64(q, 1, user);
        if(sealed)
            db_bind_blob(q, 2, sealed, len);
        else
            db_bind_null(q, 2);
        rc = exec_stmt(s, q, "account", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "account not found");
        db_release(q);
    }
    db_give(P(st), s);
    return auth_changed(st, rc);
}

/* Inside a transaction: the account's recovery codes become exactly hashes[0..n). */
static int recovery_replace_locked(struct dbc *s, int64_t user, const unsigned char (*hashes)[32], size_t n)
{
    struct dbq *q;
    int rc = prep(s, "DELETE FROM recovery_codes WHERE user_id = ?1", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, user);
    rc = exec_stmt(s, q, "recovery codes", NULL);
    db_release(q);
    for(size_t i = 0; !rc && i < n; i++) {
        rc = prep(s, "INSERT INTO recovery_codes(user_id, code_hash) VALUES (?1, ?2)", &q);
        if(rc)
            break;
        db_bind_int64(q, 1, user);
        db_bind_blob(q, 2, hashes[i], 32);
        rc = exec_stmt(s, q, "recovery code", NULL);
        db_release(q);
    }
    return rc;
}

struct totp_enable {
    int64_t user;
    const unsigned char *sealed;
    size_t len;
    int64_t now;
    int64_t step;
    const unsigned char (*hashes)[32];
    size_t n;
};

static int totp_enable_tx(struct dbc *s, void *arg)
{
    const struct totp_enable *a = arg;
    int64_t user = a->user;
    const unsigned char *sealed = a->sealed;
    size_t len = a->len;
    int64_t now = a->now;
    int64_t step = a->step;
    const unsigned char (*hashes)[32] = a->hashes;
    size_t n = a->n;
    struct dbq *q;
    int rc, changed = 0;
    rc = prep(s, "UPDATE users SET totp_secret = ?2, totp_pending = NULL, totp_enabled_at = ?3, totp_last_step = ?4"
                 " WHERE id = ?1", &q);
    if(!rc) {
        db_bind_int64(q, 1, user);
        db_bind_blob(q, 2, sealed, len);
        db_bind_int64(q, 3, now);
        db_bind_int64(q, 4, step);
        rc = exec_stmt(s, q, "account", &changed);
        if(!rc && !changed)
            rc = sam_fail(SAM_ENOTFOUND, "account not found");
        db_release(q);
    }
    if(!rc)
        rc = recovery_replace_locked(s, user, hashes, n);
    return rc;
}

int store_totp_enable(struct store *st, int64_t user, const unsigned char *sealed, size_t len, int64_t now,
                          int64_t step, const unsigned char (*hashes)[32], size_t n)
{
    struct totp_enable a = {user, sealed, len, now, step, hashes, n};
    return auth_changed(st, db_tx(P(st), totp_enable_tx, &a));
}

struct totp_disable {
    int64_t user;
};

static int totp_disable_tx(struct dbc *s, void *arg)
{
    const struct totp_disable *a = arg;
    int64_t user = a->user;
    struct dbq *q;
    int rc;
    rc = prep(s, "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_enabled_at = NULL WHERE id = ?1", &q);
    if(!rc) {
        db_bind_int64(q, 1, user);
        rc = exec_stmt(s, q, "account", NULL);
        db_release(q);
    }
    if(!rc)
        rc = recovery_replace_locked(s, user, NULL, 0);
    return rc;
}

int store_totp_disable(struct store *st, int64_t user)
{
    struct totp_disable a = {user};
    return auth_changed(st, db_tx(P(st), totp_disable_tx, &a));
}

int store_totp_use_step(struct store *st, int64_t user, int64_t step)
{
    int n = 0;
    int rc = simple_exec(st, "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2", "account",
                         user, step, 0, NULL, &n);
    if(!rc && !n)
        rc = sam_fail(SAM_ECONFLICT, "that code was used already; wait for the next one");
    return rc;
}

struct recovery_replace {
    int64_t user;
    const unsigned char (*hashes)[32];
    size_t n;
};

static int recovery_replace_tx(struct dbc *s, void *arg)
{
    const struct recovery_replace *a = arg;
    return recovery_replace_locked(s, a->user, a->hashes, a->n);
}

int store_recovery_replace(struct store *st, int64_t user, const unsigned char (*hashes)[32], size_t n)
{
    struct recovery_replace a = {user, hashes, n};
    return auth_changed(st, db_tx(P(st), recovery_replace_tx, &a));
}

int store_recovery_use(struct store *st, int64_t user, const unsigned char hash[32], int64_t now)
{
    struct dbc *s;
    struct dbq *q;
    int rc, n = 0;
    TAKE(1);
    rc = prep(s, "UPDATE recovery_codes SET used_at = ?3 WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
              &q);
    if(!rc) {
        db_bind_int64(q, 1, user);
        db_bind_blob(q, 2, hash, 32);
        db_bind_int64(q, 3, now);
        rc = exec_stmt(s, q, "recovery code", &n);
        if(!rc && !n)
            rc = sam_fail(SAM_ENOTFOUND, "that recovery code is not valid or was used already");
        db_release(q);
    }
    db_give(P(st), s);
    return auth_changed(st, rc);
}

int store_recovery_count(struct store *st, int64_t user, int *left)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *left = 0;
    TAKE(0);
    rc = prep(s, "SELECT count(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL", &q);
    if(!rc) {
        db_bind_int64(q, 1, user);
        rc = get_one(s, q, "recovery codes");
        if(!rc)
            *left = db_int(q, 0);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_challenge_insert(struct store *st, const unsigned char hash[32], const struct store_challenge *c)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    TAKE(1);
    /* Old challenges go on the way (they are short-lived). */
    rc = prep(s, "DELETE FROM login_challenges WHERE expires_at <= ?1", &q);
    if(!rc) {
        db_bind_int64(q, 1, c->created_at);
        rc = exec_stmt(s, q, "login challenges", NULL);
        db_release(q);
    }
    if(!rc)
        rc = prep(s, "INSERT INTO login_challenges(token_hash, user_id, address, attempts, created_at, expires_at)"
                     " VALUES (?1, ?2, ?3, 0, ?4, ?5)", &q);
    if(!rc) {
        db_bind_blob(q, 1, hash, 32);
        db_bind_int64(q, 2, c->user_id);
        bind_text(q, 3, c->address);
        db_bind_int64(q, 4, c->created_at);
        db_bind_int64(q, 5, c->expires_at);
        rc = exec_stmt(s, q, "login challenge", NULL);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_challenge_get(struct store *st, const unsigned char hash[32], int64_t now, struct store_challenge *out)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    memset(out, 0, sizeof(*out));
    TAKE(0);
    rc = prep(s, "SELECT user_id, address, attempts, created_at, expires_at FROM login_challenges"
                 " WHERE token_hash = ?1 AND expires_at > ?2", &q);
    if(!rc) {
        db_bind_blob(q, 1, hash, 32);
        db_bind_int64(q, 2, now);
        rc = get_one(s, q, "login challenge");
        if(!rc) {
            out->user_id = db_int64(q, 0);
            col_text(q, 1, out->address, sizeof(out->address));
            out->attempts = db_int(q, 2);
            out->created_at = db_int64(q, 3);
            out->expires_at = db_int64(q, 4);
        }
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_challenge_fail(struct store *st, const unsigned char hash[32], int *attempts)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *attempts = 0;
    TAKE(1);
    rc = prep(s, "UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = ?1"
                 " RETURNING login_challenges.attempts", &q);
    if(!rc) {
        db_bind_blob(q, 1, hash, 32);
        rc = get_one(s, q, "login challenge");
        if(!rc)
            *attempts = db_int(q, 0);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_challenge_delete(struct store *st, const unsigned char hash[32])
{
    return simple_exec(st, "DELETE FROM login_challenges WHERE token_hash = ?1", "login challenge", 0, 0, 0, hash,
                       NULL);
}


/* Opens the store on the engine the target names: a libpq URL (postgresql://...) or a
 * SQLite path. pool_size bounds the connections (SQLite: the writer and its readers). */
static _Atomic uint64_t store_serials;

int store_sql_open(const char *target, int postgres, int pool_size, struct store **out)
{
    struct store *ss;
    int rc;
    *out = NULL;
    ss = calloc(1, sizeof(*ss));
    if(!ss)
        return SAM_ENOMEM;
    if(!postgres && !strcmp(target, ":memory:"))
        pool_size = 1; /* each connection would be a database of its own */
    for(int k = 0; k < STORE_LOCK_KINDS; k++)
        pthread_mutex_init(&ss->locks[k].mu, NULL);
    pthread_mutex_init(&ss->watch_mu, NULL);
    pthread_cond_init(&ss->watch_cv, NULL);
    pthread_mutex_init(&ss->epoch_mu, NULL);
    rc = db_pool_open(postgres ? &db_pg_driver : &db_sqlite_driver, target, pool_size, &ss->pool);
    if(rc) {
        for(int k = 0; k < STORE_LOCK_KINDS; k++)
            pthread_mutex_destroy(&ss->locks[k].mu);
        pthread_mutex_destroy(&ss->watch_mu);
        pthread_cond_destroy(&ss->watch_cv);
        pthread_mutex_destroy(&ss->epoch_mu);
        free(ss);
        return rc;
    }
    ss->serial = atomic_fetch_add(&store_serials, 1) + 1;
    *out = ss;
    return SAM_OK;
}

uint64_t store_serial(const struct store *st)
{
    return st->serial;
}

/* ---- several processes on one database (X3) ---- */

#define LOCK_WAIT_S 30

static const char *const lock_names[STORE_LOCK_KINDS] = {"", "", "plan", "reader"};

/* Takes (wait 1) or tries (wait 0) the lock of that kind: SAM_ECONFLICT when tried and
 * held by someone else. */
static int take_lock(struct store *st, int kind, int wait, struct store_lock **out)
{
    struct db_pool *p = P(st);
    struct store_lock *l;
    int rc = SAM_OK;
    *out = NULL;
    if(kind < STORE_LOCK_PLAN || kind >= STORE_LOCK_KINDS)
        return sam_fail(SAM_EINTERNAL, "unknown lock");
    if(!(l = calloc(1, sizeof(*l))))
        return SAM_ENOMEM;
    l->st = st;
    l->kind = kind;
    l->fd = -1;
    if(wait) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += LOCK_WAIT_S;
        rc = pthread_mutex_timedlock(&st->locks[kind].mu, &until);
    } else {
        rc = pthread_mutex_trylock(&st->locks[kind].mu);
    }
    if(rc) {
        free(l);
        return wait ? sam_fail(SAM_ESTORE, "%s is busy; try again", lock_names[kind])
                    : sam_fail(SAM_ECONFLICT, "%s is held", lock_names[kind]);
    }
    if(p->drv->lock_session) {
        /* A connection of its own per kind: whoever holds the lock needs the pool's. */
        struct dbc **conn = &st->locks[kind].conn;
        if(!*conn && (rc = p->drv->connect(p->target, 1, conn)))
            *conn = NULL;
        if(!rc)
            rc = p->drv->lock_session(*conn, 16 + kind, wait ? DB_LOCK_WAIT : DB_LOCK_TRY);
    } else if(strcmp(p->target, ":memory:")) {
        /* Every process on this machine (SQLite's database is on one) sees the file's
         * lock; each take opens the file anew, so threads exclude each other too. */
        char path[4200];
        snprintf(path, sizeof(path), "%s.%s.lock", p->target, lock_names[kind]);
        l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if(l->fd < 0) {
            rc = sam_fail(SAM_EIO, "cannot open the lock file %s: %s", path, strerror(errno));
        } else {
            for(int waited = 0; flock(l->fd, LOCK_EX | LOCK_NB); waited += 5) {
                struct timespec ts = {0, 5000000};
                if(errno != EWOULDBLOCK || !wait || waited >= LOCK_WAIT_S * 1000) {
                    rc = wait ? sam_fail(SAM_ESTORE, "%s is busy (another samtale holds %s); try again",
                                         lock_names[kind], path)
                              : sam_fail(SAM_ECONFLICT, "%s is held", lock_names[kind]);
                    break;
                }
                nanosleep(&ts, NULL);
            }
        }
    }
    if(rc) {
        if(l->fd >= 0)
            close(l->fd);
        pthread_mutex_unlock(&st->locks[kind].mu);
        free(l);
        return rc;
    }
    if(kind == STORE_LOCK_PLAN)
        db_reads_on_writer(1); /* planning reads, then writes what it read (db.h) */
    *out = l;
    return SAM_OK;
}

int store_lock(struct store *st, int kind, struct store_lock **out)
{
    return take_lock(st, kind, 1, out);
}

int store_try_lock(struct store *st, int kind, struct store_lock **out)
{
    return take_lock(st, kind, 0, out);
}

void store_unlock(struct store_lock *l)
{
    struct store *st;
    struct dbc **conn;
    if(!l)
        return;
    st = l->st;
    if(l->kind == STORE_LOCK_PLAN)
        db_reads_on_writer(0);
    conn = &st->locks[l->kind].conn;
    if(l->fd >= 0)
        close(l->fd); /* lets go of the flock */
    else if(*conn && P(st)->drv->lock_session(*conn, 16 + l->kind, DB_LOCK_FREE)) {
        /* The lock is held by a session in a bad state: ending the session lets it go. */
        (*conn)->drv->close(*conn);
        *conn = NULL;
    }
    pthread_mutex_unlock(&st->locks[l->kind].mu);
    free(l);
}

#define DUE_CHANNEL "samtale_due"
#define AUTH_CHANNEL "samtale_auth"

static void *watch(void *arg)
{
    static const char *const channels[] = {DUE_CHANNEL, AUTH_CHANNEL};
    struct store *st = arg;
    struct db_pool *p = P(st);
    while(!st->stop_watch) {
        unsigned counts[2] = {0, 0};
        int rc = SAM_OK;
        if(!st->listener && (rc = p->drv->connect(p->target, 1, &st->listener)))
            st->listener = NULL;
        if(!rc && !atomic_load(&st->listening)) {
            /* Listen first (a wait of no time), then say so: watch_start waits for it. */
            rc = p->drv->wait_notify(st->listener, channels, 2, 0, counts);
            if(!rc) {
                pthread_mutex_lock(&st->watch_mu);
                atomic_store(&st->listening, 1);
                pthread_cond_broadcast(&st->watch_cv);
                pthread_mutex_unlock(&st->watch_mu);
            }
        }
        if(!rc)
            rc = p->drv->wait_notify(st->listener, channels, 2, 1000, counts);
        if(rc) {
            /* Words may have been missed meanwhile: what authentication read is stale,
             * and the workers look for due work anyway. */
            struct timespec ts = {1, 0};
            atomic_store(&st->listening, 0);
            counts[0] = counts[1] = 1;
            if(st->listener) {
                st->listener->drv->close(st->listener);
                st->listener = NULL;
            }
            nanosleep(&ts, NULL);
        }
        if(counts[1])
            atomic_fetch_add(&st->auth_words, counts[1]);
        if(counts[0]) {
            pthread_mutex_lock(&st->watch_mu);
            st->due_words += counts[0];
            pthread_cond_broadcast(&st->watch_cv);
            pthread_mutex_unlock(&st->watch_mu);
        }
    }
    return NULL;
}

/* Starts the watcher once (PostgreSQL); with wait, waits (up to 2 s) until it listens.
 * SAM_OK when it listens. */
static int watch_start(struct store *st, int wait)
{
    int rc = SAM_OK;
    if(atomic_load(&st->listening))
        return SAM_OK;
    pthread_mutex_lock(&st->watch_mu);
    if(!st->watching) {
        if(pthread_create(&st->watcher, NULL, watch, st))
            rc = sam_fail(SAM_EINTERNAL, "cannot start the database listener");
        else
            st->watching = 1;
    }
    if(!rc && !wait && !atomic_load(&st->listening))
        rc = SAM_ESTORE; /* not yet: the caller does not wait */
    else if(!rc) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 2;
        while(!atomic_load(&st->listening) && pthread_cond_timedwait(&st->watch_cv, &st->watch_mu, &until) == 0)
            ;
        if(!atomic_load(&st->listening))
            rc = sam_fail(SAM_ESTORE, "the database listener is not listening yet");
    }
    pthread_mutex_unlock(&st->watch_mu);
    return rc;
}

static int notify(struct store *st, const char *channel)
{
    struct dbc *s;
    int rc;
    TAKE(1);
    rc = s->drv->notify(s, channel);
    db_give(P(st), s);
    return rc;
}

int store_notify_due(struct store *st)
{
    return P(st)->drv->notify ? notify(st, DUE_CHANNEL) : SAM_OK;
}

int store_wait_due(struct store *st, int timeout_ms, int *got)
{
    struct timespec until;
    int rc;
    *got = 0;
    if(!P(st)->drv->wait_notify)
        return sam_fail(SAM_EUNSUPPORTED, "one process has a SQLite database: nothing to listen for");
    if((rc = watch_start(st, 1)))
        return rc;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if(until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->watch_mu);
    while(st->due_words == st->due_seen &&
          pthread_cond_timedwait(&st->watch_cv, &st->watch_mu, &until) == 0)
        ;
    *got = st->due_words != st->due_seen;
    st->due_seen = st->due_words;
    pthread_mutex_unlock(&st->watch_mu);
    return SAM_OK;
}

/* ---- channel-exclusive offers (P15) ---- */

#define POST_OFFERS_MAX 50 /* one per channel of a post */
#define OFFER_COLS "id, workspace_id, post_id, coalesce(channel_id, 0), channel_name, code, created_at"

static void row_offer(struct dbq *q, void *p)
{
    struct store_offer *f = p;
    memset(f, 0, sizeof(*f));
    f->id = db_int64(q, 0);
    f->workspace_id = db_int64(q, 1);
    f->post_id = db_int64(q, 2);
    f->channel_id = db_int64(q, 3);
    col_text(q, 4, f->channel_name, sizeof(f->channel_name));
    col_text(q, 5, f->code, sizeof(f->code));
    f->created_at = db_int64(q, 6);
}

static void row_offer_published(struct dbq *q, void *p)
{
    struct store_offer *f = p;
    row_offer(q, p);
    f->published_at = db_int64(q, 7);
}

int store_offer_list_post(struct store *st, int64_t post, struct store_offer **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *items = NULL;
    *n = 0;
    TAKE(0);
    rc = prep(s, "SELECT " OFFER_COLS " FROM offers WHERE post_id = ?1 ORDER BY id", &q);
    if(!rc) {
        db_bind_int64(q, 1, post);
        rc = run_list(s, q, sizeof(**items), POST_OFFERS_MAX, row_offer, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_offer_list(struct store *st, int64_t ws, int64_t before, int limit, struct store_offer **items, size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *items = NULL;
    *n = 0;
    TAKE(0);
    rc = prep(s, "SELECT " OFFER_COLS ", coalesce((SELECT max(o.published_at) FROM occurrences o"
                 " WHERE o.post_id = offers.post_id AND o.channel_id = offers.channel_id AND o.state = 'published'), 0)"
                 " FROM offers WHERE workspace_id = ?1 AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        db_bind_int64(q, 2, before);
        db_bind_int64(q, 3, limit);
        rc = run_list(s, q, sizeof(**items), limit, row_offer_published, (void **)items, n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_offer_code(struct store *st, int64_t post, int64_t channel, char *code, size_t n)
{
    struct dbc *s;
    struct dbq *q;
    int rc, r;
    code[0] = '\0';
    TAKE(0);
    rc = prep(s, "SELECT code FROM offers WHERE post_id = ?1 AND channel_id = ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, post);
        db_bind_int64(q, 2, channel);
        r = db_step(q);
        if(r == DB_ROW)
            col_text(q, 0, code, n);
        else if(r != DB_DONE)
            rc = db_fail(s, "offer code");
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_offer_code_used(struct store *st, int64_t ws, const char *code, int *used)
{
    struct dbc *s;
    struct dbq *q;
    int rc, r;
    *used = 0;
    TAKE(0);
    rc = prep(s, "SELECT 1 FROM offers WHERE workspace_id = ?1 AND code = ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, ws);
        bind_text(q, 2, code);
        r = db_step(q);
        if(r == DB_ROW)
            *used = 1;
        else if(r != DB_DONE)
            rc = db_fail(s, "offer code");
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

/* ---- media (P16) ---- */

#define MEDIA_COLS "id, workspace_id, sha256, type, width, height, frames, bytes, coalesce(created_by, 0), created_at," \
                   " uploaded_at"

static void row_media_at(struct dbq *q, int k, struct store_media *m)
{
    memset(m, 0, sizeof(*m));
    m->id = db_int64(q, k);
    m->workspace_id = db_int64(q, k + 1);
    col_text(q, k + 2, m->sha256, sizeof(m->sha256));
    col_text(q, k + 3, m->type, sizeof(m->type));
    m->width = db_int(q, k + 4);
    m->height = db_int(q, k + 5);
    m->frames = db_int(q, k + 6);
    m->bytes = db_int64(q, k + 7);
    m->created_by = db_int64(q, k + 8);
    m->created_at = db_int64(q, k + 9);
    m->uploaded_at = db_int64(q, k + 10);
}

/* The bytes of column k into m->data (malloc'd); SAM_ENOMEM, or SAM_ESTORE when they do
 * not have the length the row says. */
static int col_media_data(struct dbq *q, int k, struct store_media *m)
{
    size_t n = 0;
    const void *b = db_blob(q, k, &n);
    if(!b || (int64_t)n != m->bytes)
        return sam_fail(SAM_ESTORE, "image %lld: its bytes are not as long as recorded", (long long)m->id);
    if(!(m->data = malloc(n ? n : 1)))
        return SAM_ENOMEM;
    memcpy(m->data, b, n);
    return SAM_OK;
}

struct media_put {
    struct store_media *m;
    int64_t now;
    int *created;
};

static int media_put_tx(struct dbc *s, void *arg)
{
    struct media_put *a = arg;
    struct store_media *m = a->m;
    struct dbq *q;
    int rc, r;
    *a->created = 0;
    /* Already there: the same bytes were uploaded before; it is fresh again. */
    rc = prep(s, "UPDATE media SET uploaded_at = ?3 WHERE workspace_id = ?1 AND sha256 = ?2"
                 " RETURNING " MEDIA_COLS, &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, m->workspace_id);
    bind_text(q, 2, m->sha256);
    db_bind_int64(q, 3, a->now);
    r = db_step(q);
    if(r == DB_ROW) {
        unsigned char *data = m->data;
        row_media_at(q, 0, m);
        m->data = data;
    } else if(r != DB_DONE) {
        rc = db_fail(s, "image");
    }
    db_release(q);
    if(rc || r == DB_ROW)
        return rc;
    rc = prep(s, "INSERT INTO media(workspace_id, sha256, type, width, height, frames, bytes, data, created_by,"
                 " created_at, uploaded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING media.id", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, m->workspace_id);
    bind_text(q, 2, m->sha256);
    bind_text(q, 3, m->type);
    db_bind_int64(q, 4, m->width);
    db_bind_int64(q, 5, m->height);
    db_bind_int64(q, 6, m->frames > 0 ? m->frames : 1);
    db_bind_int64(q, 7, m->bytes);
    db_bind_blob(q, 8, m->data, (size_t)m->bytes);
    if(m->created_by)
        db_bind_int64(q, 9, m->created_by);
    else
        db_bind_null(q, 9);
    db_bind_int64(q, 10, a->now);
    rc = insert_id(s, q, "image", &m->id);
    db_release(q);
    if(!rc) {
        m->created_at = m->uploaded_at = a->now;
        *a->created = 1;
    }
    return rc;
}

int store_media_put(struct store *st, struct store_media *m, int64_t now, int *created)
{
    struct media_put a = {m, now, created};
    return db_tx(P(st), media_put_tx, &a);
}

int store_media_get(struct store *st, int64_t ws, int64_t id, int with_data, struct store_media *out)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    memset(out, 0, sizeof(*out));
    TAKE(0);
    rc = with_data ? prep(s, "SELECT " MEDIA_COLS ", data FROM media WHERE id = ?1 AND workspace_id = ?2", &q)
                   : prep(s, "SELECT " MEDIA_COLS " FROM media WHERE id = ?1 AND workspace_id = ?2", &q);
    if(!rc) {
        db_bind_int64(q, 1, id);
        db_bind_int64(q, 2, ws);
        rc = get_one(s, q, "image");
        if(!rc) {
            row_media_at(q, 0, out);
            if(with_data)
                rc = col_media_data(q, 11, out);
        }
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

int store_post_media_list(struct store *st, int64_t post, int with_data, struct store_post_media **items,
                          size_t *n)
{
    struct dbc *s;
    struct dbq *q;
    struct store_post_media *arr = NULL;
    size_t cnt = 0, cap = 0;
    int rc, r = DB_DONE;
    *items = NULL;
    *n = 0;
    TAKE(0);
    rc = with_data ? prep(s, "SELECT pm.position, pm.alt, m.id, m.workspace_id, m.sha256, m.type, m.width, m.height,"
                             " m.frames, m.bytes, coalesce(m.created_by, 0), m.created_at, m.uploaded_at, m.data"
                             " FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id = ?1"
                             " ORDER BY pm.position, m.id", &q)
                   : prep(s, "SELECT pm.position, pm.alt, m.id, m.workspace_id, m.sha256, m.type, m.width, m.height,"
                             " m.frames, m.bytes, coalesce(m.created_by, 0), m.created_at, m.uploaded_at"
                             " FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id = ?1"
                             " ORDER BY pm.position, m.id", &q);
    if(!rc) {
        db_bind_int64(q, 1, post);
        while(!rc && cnt < 64 && (r = db_step(q)) == DB_ROW) {
            struct store_post_media *x;
            if(cnt == cap) {
                struct store_post_media *bigger = realloc(arr, (cap ? cap * 2 : 4) * sizeof(*arr));
                if(!bigger) {
                    rc = SAM_ENOMEM;
                    break;
                }
                arr = bigger;
                cap = cap ? cap * 2 : 4;
            }
            x = &arr[cnt];
            memset(x, 0, sizeof(*x));
            x->position = db_int(q, 0);
            row_media_at(q, 2, &x->media);
            x->media_id = x->media.id;
            cnt++;
            if(!(x->alt = col_dup(q, 1)))
                rc = SAM_ENOMEM;
            else if(with_data)
                rc = col_media_data(q, 13, &x->media);
        }
        if(!rc && r == DB_ERROR)
            rc = db_fail(s, "post images");
        db_release(q);
    }
    db_give(P(st), s);
    if(rc) {
        store_post_media_list_free(arr, cnt);
        return rc;
    }
    *items = arr;
    *n = cnt;
    return SAM_OK;
}

int store_media_sweep(struct store *st, int64_t before, int limit, int *n)
{
    struct dbc *s;
    struct dbq *q;
    int rc;
    *n = 0;
    TAKE(1);
    rc = prep(s, "DELETE FROM media WHERE id IN (SELECT m.id FROM media m WHERE m.uploaded_at < ?1"
                 " AND NOT EXISTS (SELECT 1 FROM post_media pm WHERE pm.media_id = m.id) ORDER BY m.uploaded_at, m.id"
                 " LIMIT ?2)", &q);
    if(!rc) {
        db_bind_int64(q, 1, before);
        db_bind_int64(q, 2, limit);
        rc = exec_stmt(s, q, "unused images", n);
        db_release(q);
    }
    db_give(P(st), s);
    return rc;
}

struct post_delete {
    int64_t ws, id, keep_after;
    int *removed;
};

static int post_delete_tx(struct dbc *s, void *arg)
{
    struct post_delete *a = arg;
    struct dbq *q;
    int rc, r, n = 0;
    int64_t used[64];
    size_t nused = 0;
    *a->removed = 0;
    rc = prep(s, "SELECT CASE WHEN EXISTS (SELECT 1 FROM occurrences o WHERE o.post_id = posts.id"
                 " AND o.state IN ('scheduled', 'publishing', 'published')) THEN 1 ELSE 0 END FROM posts"
                 " WHERE id = ?1 AND workspace_id = ?2", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, a->id);
    db_bind_int64(q, 2, a->ws);
    rc = get_one(s, q, "post");
    if(!rc && db_int(q, 0))
        rc = sam_fail(SAM_ECONFLICT, "only a draft, a cancelled or a failed post can be deleted: cancel it first (what "
                                     "went out stays in the record)");
    db_release(q);
    if(rc)
        return rc;
    rc = prep(s, "SELECT DISTINCT media_id FROM post_media WHERE post_id = ?1 ORDER BY media_id", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, a->id);
    while(nused < sizeof(used) / sizeof(used[0]) && (r = db_step(q)) == DB_ROW)
        used[nused++] = db_int64(q, 0);
    if(nused < sizeof(used) / sizeof(used[0]) && r == DB_ERROR)
        rc = db_fail(s, "post images");
    db_release(q);
    if(rc)
        return rc;
    rc = prep(s, "DELETE FROM posts WHERE id = ?1 AND workspace_id = ?2", &q);
    if(rc)
        return rc;
    db_bind_int64(q, 1, a->id);
    db_bind_int64(q, 2, a->ws);
    rc = exec_stmt(s, q, "post", &n);
    db_release(q);
    /* Its images go with it when nothing else uses them (and nobody just uploaded them). */
    for(size_t i = 0; !rc && i < nused; i++) {
        rc = prep(s, "DELETE FROM media WHERE id = ?1 AND uploaded_at < ?2"
                     " AND NOT EXISTS (SELECT 1 FROM post_media pm WHERE pm.media_id = media.id)", &q);
        if(rc)
            break;
        db_bind_int64(q, 1, used[i]);
        db_bind_int64(q, 2, a->keep_after);
        rc = exec_stmt(s, q, "image", &n);
        db_release(q);
        if(!rc)
            *a->removed += n;
    }
    return rc;
}

int store_post_delete(struct store *st, int64_t ws, int64_t id, int64_t keep_after, int *media_removed)
{
    struct post_delete a = {ws, id, keep_after, media_removed};
    return db_tx(P(st), post_delete_tx, &a);
}
