/*
 * auth.c: passwords, tokens, sessions, roles and scopes.
 *
 * Passwords are hashed with argon2id (libsodium's interactive limits). API tokens and
 * session cookies are 256-bit random strings; only their BLAKE2b hash is stored, so a
 * copy of the database lets nobody in. A token's effective permissions are its scopes
 * intersected with its member's role, so revoking a role also narrows the token.
 */
#include "core/core.h"
#include "core/approval.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *scope_names[] = {
    "workspaces:read", "workspaces:write", "members:read", "members:write", "tokens:read",
    "tokens:write", "channels:read", "channels:write", "audit:read", "posts:read", "posts:write",
    "posts:approve",
};
#define NSCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

int core_password_hash(const char *password, char out[160])
{
    char hash[crypto_pwhash_STRBYTES];
    if(crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE))
        return sam_fail(SAM_ENOMEM, "not enough memory to hash the password");
    snprintf(out, 160, "%s", hash);
    return SAM_OK;
}

int core_password_verify(const char *hash, const char *password)
{
    if(!hash || !*hash)
        return 0;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int core_password_check(const char *password)
{
    size_t len = strlen(password);
    long n = utf8_count(password, len);
    if(n < 0)
        n = (long)len; /* not UTF-8 (a terminal in another encoding): its bytes count */
    if(n < CORE_PASSWORD_MIN)
        return sam_fail_field(SAM_EINVAL, "new_password", "the password must have at least %d characters",
                              CORE_PASSWORD_MIN);
    if(n > CORE_PASSWORD_MAX)
        return sam_fail_field(SAM_EINVAL, "new_password", "the password must have at most %d characters",
                              CORE_PASSWORD_MAX);
    return SAM_OK;
}

void core_one_time_password(char out[24])
{
    static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789"; /* no 0/o, 1/l/i */
    int k = 0;
    for(int g = 0; g < 4; g++) {
        for(int i = 0; i < 4; i++)
            out[k++] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
        out[k++] = g < 3 ? '-' : '\0';
    }
}

void core_random_token(const char *prefix, char *out, size_t n)
{
    unsigned char raw[32];
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, n, "%s%s", prefix ? prefix : "", b64);
    sodium_memzero(raw, sizeof(raw));
}

void core_token_hash(const char *token, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

int core_scopes_parse(const char *text, unsigned *bits)
{
    char word[64];
    const char *p = text;
    *bits = 0;
    while(*p) {
        size_t n = strcspn(p, " ,");
        if(n == 0) {
            p++;
            continue;
        }
        if(n >= sizeof(word))
            return sam_fail_field(SAM_EINVAL, "scopes", "unknown scope '%.*s'", 40, p);
        memcpy(word, p, n);
        word[n] = '\0';
        p += n;
        if(!strcmp(word, "*")) {
            *bits |= PERM_ALL;
            continue;
        }
        size_t i;
        for(i = 0; i < NSCOPES; i++)
            if(!strcmp(word, scope_names[i]))
                break;
        if(i == NSCOPES)
            return sam_fail_field(SAM_EINVAL, "scopes", "unknown scope '%s'", word);
        *bits |= 1u << i;
    }
    if(!*bits)
        return sam_fail_field(SAM_EINVAL, "scopes", "give at least one scope");
    return SAM_OK;
}

void core_scopes_format(unsigned bits, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for(size_t i = 0; i < NSCOPES; i++) {
        if(!(bits & (1u << i)))
            continue;
        int w = snprintf(out + used, n - used, "%s%s", used ? " " : "", scope_names[i]);
        if(w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

const char *core_scope_name(size_t i)
{
    return i < NSCOPES ? scope_names[i] : NULL;
}

unsigned core_role_perms(const char *role)
{
    const unsigned read = PERM_WORKSPACES_READ | PERM_MEMBERS_READ | PERM_CHANNELS_READ | PERM_POSTS_READ;
    if(!strcmp(role, "owner"))
        return PERM_ALL;
    if(!strcmp(role, "editor"))
        return read | PERM_CHANNELS_WRITE | PERM_POSTS_WRITE;
    if(!strcmp(role, "agent") || !strcmp(role, "viewer"))
        return read;
    return 0;
}

unsigned core_member_perms(const char *role, const char *approval_mode)
{
    unsigned perms = core_role_perms(role);
    if(approval_can_write(approval_mode, role))
        perms |= PERM_POSTS_WRITE;
    if(approval_can_approve(approval_mode, role))
        perms |= PERM_POSTS_APPROVE;
    return perms;
}

int core_role_needs_second_factor(const char *role)
{
    return !strcmp(role, "owner") || !strcmp(role, "editor");
}

int core_role_valid(const char *role)
{
    return core_role_perms(role) != 0;
}

/* ---- the authentication cache ----
 * What a bearer token or a session cookie authenticates (the token or session row and its
 * account), kept for CORE_AUTH_CACHE_MS so a burst of requests does not read the same rows
 * each time. An entry is valid only while the store's authentication generation is the
 * one read before the rows were: any write of this process to accounts, sessions, tokens
 * or memberships makes every entry stale at once. Direct-mapped by the credential's hash
 * (a keyed hash of a random secret), so lookups take constant time and memory is fixed. */
#define AUTH_SLOTS 256

struct auth_entry {
    const struct store *st;
    unsigned char hash[32];
    int kind;                  /* 1 token, 2 session */
    unsigned long gen;
    double at;                 /* time_mono() when read */
    union {
        struct store_token t;
        struct store_session s;
    } row;
    struct store_user u;
};

static struct {
    pthread_mutex_t mu;
    struct auth_entry e[AUTH_SLOTS];
} auth_cache = {PTHREAD_MUTEX_INITIALIZER, {{0}}};

static int cache_get(struct store *st, const unsigned char hash[32], int kind, void *row, size_t rowlen,
                     struct store_user *u)
{
    struct auth_entry *e = &auth_cache.e[(hash[0] | (unsigned)hash[1] << 8) % AUTH_SLOTS];
    unsigned long gen = store_auth_generation(st); /* outside the lock: it may ask the database */
    double now = time_mono();
    int hit = 0;
    pthread_mutex_lock(&auth_cache.mu);
    if(e->st == st && e->kind == kind && !sodium_memcmp(e->hash, hash, 32) && e->gen == gen &&
       (now - e->at) * 1000.0 < CORE_AUTH_CACHE_MS) {
        memcpy(row, &e->row, rowlen);
        *u = e->u;
        hit = 1;
    }
    pthread_mutex_unlock(&auth_cache.mu);
    return hit;
}

static void cache_put(struct store *st, const unsigned char hash[32], int kind, unsigned long gen, double at,
                      const void *row, size_t rowlen, const struct store_user *u)
{
    struct auth_entry *e = &auth_cache.e[(hash[0] | (unsigned)hash[1] << 8) % AUTH_SLOTS];
    pthread_mutex_lock(&auth_cache.mu);
    e->st = st;
    e->kind = kind;
    memcpy(e->hash, hash, 32);
    e->gen = gen;
    e->at = at;
    memcpy(&e->row, row, rowlen);
    e->u = *u;
    pthread_mutex_unlock(&auth_cache.mu);
}

int core_actor_from_token(struct core *c, const char *token, struct actor *a, struct store_user *u,
                          struct store_token *tok)
{
    unsigned char hash[32];
    struct store_token t;
    struct store_user user;
    unsigned bits;
    unsigned long gen;
    double at;
    int rc;

    memset(a, 0, sizeof(*a));
    core_token_hash(token, hash);
    if(!cache_get(c->st, hash, 1, &t, sizeof(t), &user)) {
        /* The generation is read before the rows: a write meanwhile leaves this stale. */
        gen = store_auth_generation(c->st);
        at = time_mono();
        rc = store_token_get_by_hash(c->st, hash, &t);
        if(rc == SAM_ENOTFOUND)
            return sam_fail(SAM_EAUTH, "unknown API token");
        if(rc)
            return rc;
        rc = store_user_get(c->st, t.user_id, &user);
        if(rc == SAM_ENOTFOUND)
            return sam_fail(SAM_EAUTH, "the token's account no longer exists");
        if(rc)
            return rc;
        cache_put(c->st, hash, 1, gen, at, &t, sizeof(t), &user);
    }
    if(t.revoked_at)
        return sam_fail(SAM_EAUTH, "this API token was revoked");
    if(core_scopes_parse(t.scopes, &bits))
        bits = 0;
    a->user_id = t.user_id;
    a->token_id = t.id;
    a->token_ws = t.workspace_id;
    a->scopes = bits;
    /* Cut on a character: the label goes into the audit log, as JSON. */
    snprintf(a->label, sizeof(a->label), "token:%lld (%.*s)", (long long)t.id, utf8_prefix(t.name, 80), t.name);
    /* Note the use, at most once a minute, so reads do not turn into writes. */
    int64_t now = time_now();
    if(now - t.last_used_at >= 60)
        store_token_touch(c->st, t.id, now);
    if(u)
        *u = user;
    if(tok)
        *tok = t;
    sam_clear();
    return SAM_OK;
}

/* The memberships of an account, cached like the credentials (same generation, same
 * age): the permission check of every workspace request and GET /me read them. Only
 * accounts with at most MEMBER_MAX memberships are kept; others are read each time. */
#define MEMBER_SLOTS 64
#define MEMBER_MAX 8

struct member_entry {
    const struct store *st;
    int64_t user;
    unsigned long gen;
    double at;
    size_t n;
    struct store_member m[MEMBER_MAX];
};

static struct {
    pthread_mutex_t mu;
    struct member_entry e[MEMBER_SLOTS];
} member_cache = {PTHREAD_MUTEX_INITIALIZER, {{0}}};

int core_user_memberships(struct core *c, int64_t user, struct store_member **items, size_t *n)
{
    struct member_entry *e = &member_cache.e[(uint64_t)user % MEMBER_SLOTS];
    unsigned long gen = store_auth_generation(c->st);
    double at = time_mono();
    int rc;
    *items = NULL;
    *n = 0;
    pthread_mutex_lock(&member_cache.mu);
    if(e->st == c->st && e->user == user && e->gen == gen && (at - e->at) * 1000.0 < CORE_AUTH_CACHE_MS) {
        *items = malloc((e->n ? e->n : 1) * sizeof(**items));
        if(*items) {
            memcpy(*items, e->m, e->n * sizeof(**items));
            *n = e->n;
        }
        pthread_mutex_unlock(&member_cache.mu);
        return *items ? SAM_OK : SAM_ENOMEM;
    }
    pthread_mutex_unlock(&member_cache.mu);
    rc = store_member_list(c->st, 0, user, 0, 1000, items, n);
    if(!rc && *n <= MEMBER_MAX) {
        pthread_mutex_lock(&member_cache.mu);
        e->st = c->st;
        e->user = user;
        e->gen = gen;
        e->at = at;
        e->n = *n;
        memcpy(e->m, *items, *n * sizeof(**items));
        pthread_mutex_unlock(&member_cache.mu);
    }
    return rc;
}

int core_allowed(struct core *c, const struct actor *a, int64_t ws, unsigned perm, char role[16])
{
    struct store_member m;
    int rc;

    if(a->system) {
        if(role)
            snprintf(role, 16, "owner");
        return SAM_OK;
    }
    if(a->token_id && a->token_ws != ws)
        return sam_fail(SAM_ENOTFOUND, "workspace not found");
    {
        struct store_member *ms = NULL;
        size_t n = 0;
        rc = core_user_memberships(c, a->user_id, &ms, &n);
        if(!rc) {
            rc = SAM_ENOTFOUND;
            for(size_t i = 0; i < n; i++)
                if(ms[i].workspace_id == ws) {
                    m = ms[i];
                    rc = SAM_OK;
                    break;
                }
        }
        free(ms);
    }
    if(rc == SAM_ENOTFOUND)
        return sam_fail(SAM_ENOTFOUND, "workspace not found");
    if(rc)
        return rc;
    if(role)
        snprintf(role, 16, "%s", m.role);
    if((core_member_perms(m.role, m.workspace_approval) & perm) != perm)
        return sam_fail(SAM_EPERM, "your role (%s) does not allow this", m.role);
    if(m.workspace_requires_second_factor && !m.second_factor && core_role_needs_second_factor(m.role))
        return sam_fail_field(SAM_EPERM, "second_factor", "%s asks its owners and editors to log in with a second "
                              "factor: turn on two-step login under Your account first", m.workspace_name);
    if(a->token_id && (a->scopes & perm) != perm) {
        char need[128];
        core_scopes_format(perm & ~a->scopes, need, sizeof(need));
        return sam_fail(SAM_EPERM, "this token lacks the scope %s", need);
    }
    return SAM_OK;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[160];

static void make_dummy(void)
{
    char pw[44];
    core_random_token(NULL, pw, sizeof(pw));
    if(core_password_hash(pw, dummy_hash))
        dummy_hash[0] = '\0';
}

int core_login_check(struct core *c, const char *email, const char *password, const char *addr, int64_t now,
                     struct store_user *u)
{
    int rc = store_user_get_by_email(c->st, email, u);
    int failures = 0;
    if(rc == SAM_ENOTFOUND) {
        /* Spend the same effort as a real check, so timing does not reveal accounts. */
        pthread_once(&dummy_once, make_dummy);
        core_password_verify(dummy_hash, password);
        return sam_fail(SAM_EAUTH, "wrong email or password");
    }
    if(rc)
        return rc;
    if(core_password_verify(u->password_hash, password))
        return SAM_OK;
    /* Counted on the account, so its owner hears of it at the next login. */
    if(store_user_login_failed(c->st, u->id, now, addr, &failures) == SAM_OK)
        core_login_failures_notify(c, u, failures, addr, now);
    return sam_fail(SAM_EAUTH, "wrong email or password");
}

int core_session_open(struct core *c, const struct store_user *u, int64_t now, char *session_token, size_t n,
                      struct store_session *s)
{
    unsigned char hash[32];
    struct store_user before;
    int rc = store_user_login_succeeded(c->st, u->id, now, &before);
    if(rc)
        return rc;
    memset(s, 0, sizeof(*s));
    core_random_token(NULL, session_token, n);
    core_random_token(NULL, s->csrf_token, sizeof(s->csrf_token));
    core_token_hash(session_token, hash);
    s->user_id = u->id;
    s->created_at = s->last_seen_at = now;
    s->expires_at = now + CORE_SESSION_SECONDS;
    s->notice_failed = before.failed_logins;
    s->notice_failed_at = before.failed_login_at;
    snprintf(s->notice_failed_addr, sizeof(s->notice_failed_addr), "%s", before.failed_login_addr);
    return store_session_insert(c->st, hash, s);
}

int core_login(struct core *c, const char *email, const char *password, int64_t now,
               char *session_token, size_t n, struct store_session *s, struct store_user *u)
{
    int rc = core_login_check(c, email, password, "", now, u);
    if(rc)
        return rc;
    return core_session_open(c, u, now, session_token, n, s);
}

/* The key that signs device cookies, derived from the secret key. */
static void device_key(const struct core *c, unsigned char out[32])
{
    crypto_kdf_derive_from_key(out, 32, 1, "smt_dev_", c->key);
}

static void device_mac(const struct core *c, const char *email, uint64_t issued, unsigned char mac[16])
{
    unsigned char key[32], stamp[8];
    crypto_generichash_state st;
    device_key(c, key);
    for(int i = 0; i < 8; i++)
        stamp[i] = (unsigned char)(issued >> (56 - 8 * i));
    crypto_generichash_init(&st, key, sizeof(key), 16);
    crypto_generichash_update(&st, (const unsigned char *)"device\n", 7);
    crypto_generichash_update(&st, stamp, sizeof(stamp));
    for(const char *p = email; *p; p++) {
        unsigned char ch = (unsigned char)tolower((unsigned char)*p);
        crypto_generichash_update(&st, &ch, 1);
    }
    crypto_generichash_final(&st, mac, 16);
    sodium_memzero(key, sizeof(key));
}

void core_device_cookie(const struct core *c, const char *email, int64_t now, char *out, size_t n)
{
    unsigned char raw[24];
    uint64_t issued = (uint64_t)now;
    for(int i = 0; i < 8; i++)
        raw[i] = (unsigned char)(issued >> (56 - 8 * i));
    device_mac(c, email, issued, raw + 8);
    sodium_bin2base64(out, n, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int core_device_trusted(const struct core *c, const char *email, const char *cookie, int64_t now)
{
    unsigned char raw[32], mac[16];
    size_t len = 0;
    uint64_t issued = 0;
    if(!cookie || !*cookie || strlen(cookie) > 64 ||
       sodium_base642bin(raw, sizeof(raw), cookie, strlen(cookie), NULL, &len, NULL,
                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) || len != 24)
        return 0;
    for(int i = 0; i < 8; i++)
        issued = issued << 8 | raw[i];
    if((int64_t)issued > now + 300 || now - (int64_t)issued > CORE_DEVICE_SECONDS)
        return 0;
    device_mac(c, email, issued, mac);
    return sodium_memcmp(mac, raw + 8, sizeof(mac)) == 0;
}

int core_session_resume(struct core *c, const char *session_token, int64_t now,
                        struct store_session *s, struct store_user *u)
{
    unsigned char hash[32];
    unsigned long gen;
    double at;
    int rc;
    core_token_hash(session_token, hash);
    if(!cache_get(c->st, hash, 2, s, sizeof(*s), u)) {
        gen = store_auth_generation(c->st);
        at = time_mono();
        rc = store_session_get(c->st, hash, s);
        if(!rc) {
            rc = store_user_get(c->st, s->user_id, u);
            if(rc == SAM_ENOTFOUND)
                return sam_fail(SAM_EAUTH, "your session has ended; log in again");
        }
        if(!rc)
            cache_put(c->st, hash, 2, gen, at, s, sizeof(*s), u);
    } else {
        rc = SAM_OK;
    }
    if(rc == SAM_ENOTFOUND || (!rc && s->expires_at <= now)) {
        if(!rc)
            store_session_delete(c->st, hash);
        return sam_fail(SAM_EAUTH, "your session has ended; log in again");
    }
    if(rc)
        return rc;
    if(now - s->last_seen_at >= 60) {
        s->last_seen_at = now;
        s->expires_at = now + CORE_SESSION_SECONDS;
        store_session_touch(c->st, s->id, now, s->expires_at);
    }
    return SAM_OK;
}

int core_logout(struct core *c, const char *session_token)
{
    unsigned char hash[32];
    core_token_hash(session_token, hash);
    return store_session_delete(c->st, hash);
}

int core_password_change(struct core *c, int64_t user_id, int64_t keep_session, const char *current,
                         const char *next)
{
    struct store_user u;
    char hash[160];
    int rc = core_check_length("current_password", current, CORE_PASSWORD_MAX, 1);
    if(!rc)
        rc = core_check_length("new_password", next, CORE_PASSWORD_MAX, 1);
    if(!rc)
        rc = store_user_get(c->st, user_id, &u);
    if(rc)
        return rc;
    if(!core_password_verify(u.password_hash, current))
        return sam_fail_field(SAM_EINVAL, "current_password", "the current password is wrong");
    rc = core_password_check(next);
    if(rc)
        return rc;
    if(!strcmp(current, next))
        return sam_fail_field(SAM_EINVAL, "new_password", "choose a password other than the current one");
    rc = core_password_hash(next, hash);
    if(rc)
        return rc;
    rc = store_user_set_password(c->st, user_id, hash, 0);
    if(!rc)
        rc = store_session_delete_user(c->st, user_id, keep_session);
    return rc;
}
