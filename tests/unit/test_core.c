/* test_core.c: core/: scopes and roles, permission decisions, passwords, validation,
 * sealed channel secrets, bootstrap, tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "core/post.h"
#include "util/err.h"
#include "util/utf8.h"
#include "core_fixture.h"

/* The store fixture (a migrated store on the engine of this run) with a core on it. */
struct cfx {
    struct fx *store;
    struct core core;
    struct actor sys;
};

static int setup(void **state)
{
    struct cfx *f = calloc(1, sizeof(*f));
    if(!f || fx_core_open("core", 1, &f->store, &f->core, &f->sys))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct cfx *f = *state;
    void *sf = f->store;
    if(fx_close(&sf))
        return -1;
    free(f);
    return 0;
}

static void scopes_table(void **state)
{
    static const struct {
        const char *text;
        int rc;
        const char *canonical;
    } cases[] = {
        {"channels:read", SAM_OK, "channels:read"},
        {"channels:write,channels:read", SAM_OK, "channels:read channels:write"},
        {"  audit:read  ", SAM_OK, "audit:read"},
        {"*", SAM_OK, "workspaces:read workspaces:write members:read members:write tokens:read "
                      "tokens:write channels:read channels:write audit:read posts:read posts:write posts:approve"},
        {"posts:approve", SAM_OK, "posts:approve"},
        {"channels:delete", SAM_EINVAL, NULL},
        {"", SAM_EINVAL, NULL},
        {",,", SAM_EINVAL, NULL},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned bits = 0;
        char out[400];
        assert_int_equal(core_scopes_parse(cases[i].text, &bits), cases[i].rc);
        if(cases[i].canonical) {
            core_scopes_format(bits, out, sizeof(out));
            assert_string_equal(out, cases[i].canonical);
        }
    }
}

static void roles_table(void **state)
{
    (void)state;
    assert_int_equal(core_role_perms("owner"), PERM_ALL);
    assert_true(core_role_perms("editor") & PERM_CHANNELS_WRITE);
    assert_false(core_role_perms("editor") & PERM_MEMBERS_WRITE);
    assert_false(core_role_perms("viewer") & PERM_CHANNELS_WRITE);
    assert_true(core_role_perms("viewer") & PERM_CHANNELS_READ);
    assert_false(core_role_perms("agent") & PERM_TOKENS_READ);
    assert_int_equal(core_role_perms("admin"), 0);
}

static void validation_table(void **state)
{
    static const struct {
        const char *name;
        int ok;
    } names[] = {{"Acme", 1}, {"Blåbær AS 🫐", 1}, {"", 0}, {" lead", 0}, {"trail ", 0},
                 {"tab\there", 0}, {"\xc3", 0}};
    static const struct {
        const char *email;
        int ok;
    } emails[] = {{"a@b", 1}, {"kari.nordmann@example.no", 1}, {"no-at", 0}, {"@x", 0}, {"x@", 0},
                  {"a@b@c", 0}, {"a b@c", 0}, {"<a@b>", 0}};
    char long_name[200];
    (void)state;
    for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_int_equal(core_validate_name("name", names[i].name) == SAM_OK, names[i].ok);
    for(size_t i = 0; i < sizeof(emails) / sizeof(emails[0]); i++)
        assert_int_equal(core_validate_email(emails[i].email) == SAM_OK, emails[i].ok);
    memset(long_name, 'x', 101);
    long_name[101] = '\0';
    assert_int_equal(core_validate_name("name", long_name), SAM_EINVAL);
    long_name[100] = '\0';
    assert_int_equal(core_validate_name("name", long_name), SAM_OK);
    assert_string_equal(sam_errfield() ? sam_errfield() : "name", "name");
    assert_int_equal(core_validate_timezone("timezone", "Mars/Olympus"), SAM_EINVAL);
}

/* Names that would show something other than what they hold are refused with one plain
 * message; emoji sequences and Nordic text stay as they are. */
static void invisible_names_table(void **state)
{
    static const struct {
        const char *name;
        int ok;
    } cases[] = {
        {"\u202Enimda", 0},                      /* the review's: shows as "admin" */
        {"adm\u202Ein", 0},
        {"\u202Aleft\u202C", 0},                 /* LRE ... PDF */
        {"\u202Bx", 0}, {"\u202Dx", 0},           /* RLE, LRO */
        {"\u2066isolate\u2069", 0}, {"a\u2067b", 0}, {"a\u2068b", 0},
        {"mark\u200E", 0}, {"\u200Fmark", 0},    /* LRM, RLM (the end is not a space: still refused) */
        {"ar\u061Cb", 0},                        /* Arabic letter mark */
        {"zero\u200Bwidth", 0}, {"non\u200Cjoiner", 0},
        {"word\u2060joiner", 0}, {"a\u2061b", 0}, {"a\u2062b", 0}, {"a\u2063b", 0}, {"a\u2064b", 0},
        {"\uFEFFbom", 0}, {"soft\u00ADhyphen", 0}, {"mongolian\u180Evs", 0},
        {"a\uFFF9b\uFFFAc\uFFFB", 0},           /* interlinear annotation */
        {"tag\U000E0041", 0}, {"\U000E0001x", 0}, {"x\U000E007F", 0}, {"x\U000E0000", 0},
        {"🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", 0},
        {"line\u2028sep", 0}, {"para\u2029sep", 0}, {"c1\xc2\x85" "x", 0},
        {"hangul\u3164filler", 0},
        {"a\u200Db", 0},                         /* a joiner between letters hides nothing but is invisible */
        {"\u200D", 0}, {"👩\u200D", 0}, {"\u200D💻", 0},
        {"👩\u200D💻 Support", 1},                /* woman technologist */
        {"👨🏽\u200D💻 Dev", 1},                  /* with a skin tone */
        {"🏳️\u200D🌈 Pride", 1},                 /* with a variation selector */
        {"❤️\u200D🔥", 1},
        {"👩\u200D👩\u200D👧 Family", 1},
        {"Blåbærsyltetøy Ærø", 1}, {"Smörgåsbord Öl", 1}, {"Þórshöfn Ðóra", 1},
        {"a\u030Angstrøm", 1},                   /* combining ring */
        {"Acme \u2764\uFE0F", 1},                /* variation selector */
        {"東京 Kontor", 1}, {"שלום", 1}, {"مرحبا", 1},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;
        sam_clear();
        rc = core_validate_name("name", cases[i].name);
        if((rc == SAM_OK) != cases[i].ok)
            fail_msg("case %zu (%s): rc %d, want %s (%s)", i, cases[i].name, rc, cases[i].ok ? "ok" : "refused",
                     sam_errmsg(rc));
        if(!cases[i].ok) {
            assert_string_equal(sam_errfield(), "name");
            assert_string_equal(sam_errmsg(rc), "name must not contain invisible or direction-changing characters");
        }
    }
    /* Emails likewise. */
    assert_int_equal(core_validate_email("\u202Enimda@example.com"), SAM_EINVAL);
    assert_string_equal(sam_errmsg(SAM_EINVAL), "email must not contain invisible or direction-changing characters");
    assert_int_equal(core_validate_email("ad\u200Bmin@example.com"), SAM_EINVAL);
    assert_int_equal(core_validate_email("kari@blåbær.no"), SAM_OK);
}

/* The bounds: characters where people type, bytes for addresses; at the bound is
 * accepted, one past it is refused naming the field. */
static void length_limits_table(void **state)
{
    static const struct {
        const char *field;
        size_t max;
        int chars;
        const char *unit; /* repeated */
        size_t reps;
        int ok;
    } cases[] = {
        {"override_reason", 1000, 1, "a", 1000, 1},
        {"override_reason", 1000, 1, "a", 1001, 0},
        {"override_reason", 1000, 1, "ø", 1000, 1},  /* 2000 bytes, 1000 characters */
        {"override_reason", 1000, 1, "ø", 1001, 0},
        {"url", 2048, 0, "a", 2048, 1},
        {"url", 2048, 0, "ø", 1024, 1},              /* 2048 bytes */
        {"url", 2048, 0, "ø", 1025, 0},
        {"x", 0, 1, "a", 0, 1},
    };
    char buf[4096];
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t u = strlen(cases[i].unit), n = 0;
        int rc;
        for(size_t k = 0; k < cases[i].reps; k++, n += u)
            memcpy(buf + n, cases[i].unit, u);
        buf[n] = '\0';
        sam_clear();
        rc = core_check_length(cases[i].field, buf, cases[i].max, cases[i].chars);
        if((rc == SAM_OK) != cases[i].ok)
            fail_msg("case %zu: rc %d", i, rc);
        if(!cases[i].ok) {
            char want[128];
            snprintf(want, sizeof(want), "%s must have at most %zu %s", cases[i].field, cases[i].max,
                     cases[i].chars ? "characters" : "bytes");
            assert_string_equal(sam_errmsg(rc), want);
            assert_string_equal(sam_errfield(), cases[i].field);
        }
    }
    /* Passwords count characters too: ten Nordic letters are ten characters. */
    assert_int_equal(core_password_check("æøåæøåæøåæ"), SAM_OK);
    assert_int_equal(core_password_check("æøåæø"), SAM_EINVAL);
    memset(buf, 'p', 257);
    buf[257] = '\0';
    assert_int_equal(core_password_check(buf), SAM_EINVAL);
    buf[256] = '\0';
    assert_int_equal(core_password_check(buf), SAM_OK);
    /* A time zone is bounded before the file system is asked. */
    memset(buf, 'A', 65);
    buf[65] = '\0';
    assert_int_equal(core_validate_timezone("timezone", buf), SAM_EINVAL);
    assert_string_equal(sam_errmsg(SAM_EINVAL), "timezone must have at most 64 characters");
}

static void passwords(void **state)
{
    char hash[160], otp[24];
    (void)state;
    assert_int_equal(core_password_hash("correct horse battery", hash), SAM_OK);
    assert_true(core_password_verify(hash, "correct horse battery"));
    assert_false(core_password_verify(hash, "correct horse batterY"));
    assert_false(core_password_verify("", "anything"));
    assert_int_equal(core_password_check("short"), SAM_EINVAL);
    core_one_time_password(otp);
    assert_int_equal(strlen(otp), 19);
    assert_int_equal(otp[4], '-');
}

static void sealed_secrets(void **state)
{
    struct cfx *f = *state;
    struct store_workspace w;
    struct store_channel ch, got;
    json_t *settings = json_pack("{s:s}", "url", "https://example.com/hook");
    struct channel_input in = {.kind = "webhook", .name = "Hook", .secret = "s3cr3t-VALUE", .secret_len = 12,
                               .settings = settings};
    char *plain;
    size_t n;
    assert_int_equal(core_workspace_create(&f->core, &f->sys, "W", "Europe/Oslo", &w), SAM_OK);
    assert_int_equal(core_channel_create(&f->core, &f->sys, w.id, &in, &ch), SAM_OK);
    assert_int_equal(store_channel_get(f->core.st, ch.id, &got), SAM_OK);
    assert_non_null(got.secret);
    for(size_t i = 0; i + 6 <= got.secret_len; i++)
        assert_memory_not_equal(got.secret + i, "s3cr3t", 6);
    assert_int_equal(core_secret_open(&f->core, got.secret, got.secret_len, &plain, &n), SAM_OK);
    assert_string_equal(plain, "s3cr3t-VALUE");
    free(plain);
    got.secret[got.secret_len - 1] ^= 1; /* tampering is detected */
    assert_int_equal(core_secret_open(&f->core, got.secret, got.secret_len, &plain, &n), SAM_EINVAL);
    assert_string_equal(ch.timezone, "Europe/Oslo"); /* inherited from the workspace */
    store_channel_cleanup(&got);
    store_channel_cleanup(&ch);
    json_decref(settings);
}

static void channel_rules(void **state)
{
    struct cfx *f = *state;
    struct store_workspace w, w2;
    struct store_channel ch;
    json_t *bad = json_pack("{s:s}", "url", "ftp://x");
    json_t *path = json_pack("{s:s}", "path", "out.jsonl");
    struct channel_input in = {.kind = "file", .name = "F"};
    assert_int_equal(core_workspace_create(&f->core, &f->sys, "W", "UTC", &w), SAM_OK);
    assert_int_equal(core_workspace_create(&f->core, &f->sys, "W2", "UTC", &w2), SAM_OK);
    /* A file channel without its path is refused when it is typed, not when it publishes. */
    assert_int_equal(core_channel_create(&f->core, &f->sys, w.id, &in, &ch), SAM_EINVAL);
    assert_string_equal(sam_errfield(), "settings.path");
    in.settings = path;
    assert_int_equal(core_channel_create(&f->core, &f->sys, w.id, &in, &ch), SAM_OK);
    store_channel_cleanup(&ch);
    assert_int_equal(core_channel_create(&f->core, &f->sys, w.id, &in, &ch), SAM_ECONFLICT);
    in.kind = "myspace";
    in.name = "M";
    assert_int_equal(core_channel_create(&f->core, &f->sys, w.id, &in, &ch), SAM_EINVAL);
    assert_string_equal(sam_errfield(), "kind");
    in.kind = "webhook";
    in.settings = bad;
    assert_int_equal(core_channel_create(&f->core, &f->sys, w.id, &in, &ch), SAM_EINVAL);
    assert_string_equal(sam_errfield(), "settings.url");
    json_decref(bad);
    json_decref(path);
    /* Another workspace's channel is not found, not forbidden. */
    assert_int_equal(core_channel_get(&f->core, w2.id, 1, &ch), SAM_ENOTFOUND);
}

/* What a credential authenticated is cached briefly, and every change shows at once: a
 * revocation through this core, and one made by another process on the same database (a
 * second store opened on it stands for the CLI: SQLite's data version, PostgreSQL's
 * NOTIFY). A session that is deleted elsewhere ends at once too. */
static void auth_cache_follows_every_change(void **state)
{
    struct cfx *f = *state;
    struct store_workspace w;
    struct store_member owner;
    struct store_token t, t2;
    struct store_session s;
    struct store_user u;
    struct actor a;
    struct store *other = NULL;
    char secret[80], secret2[80], cookie[64];
    unsigned char hash[32];
    assert_int_equal(core_workspace_create(&f->core, &f->sys, "Cache", "UTC", &w), SAM_OK);
    assert_int_equal(core_member_add(&f->core, &f->sys, w.id, "c@x.no", "C", "owner", "password-123", NULL, &owner),
                     SAM_OK);
    assert_int_equal(core_token_create(&f->core, &f->sys, w.id, owner.user_id, "t", PERM_ALL, secret,
                                       sizeof(secret), &t), SAM_OK);
    assert_int_equal(core_token_create(&f->core, &f->sys, w.id, owner.user_id, "t2", PERM_ALL, secret2,
                                       sizeof(secret2), &t2), SAM_OK);
    for(int i = 0; i < 3; i++) {
        assert_int_equal(core_actor_from_token(&f->core, secret, &a, &u, NULL), SAM_OK);
        assert_int_equal(a.token_id, t.id);
        assert_string_equal(u.email, "c@x.no");
    }
    /* Another process revokes it: refused on the next request (on PostgreSQL once its
     * NOTIFY arrived: the generation changes within milliseconds; waited for, bounded). */
    assert_int_equal(store_open(f->store->path, &other), SAM_OK);
    unsigned long gen = store_auth_generation(f->core.st);
    assert_int_equal(store_token_revoke(other, t.id, 1000), SAM_OK);
    for(int i = 0; i < 2000 && store_auth_generation(f->core.st) == gen; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(core_actor_from_token(&f->core, secret, &a, NULL, NULL), SAM_EAUTH);
    /* This process revokes the other one. */
    assert_int_equal(core_actor_from_token(&f->core, secret2, &a, NULL, NULL), SAM_OK);
    assert_int_equal(store_token_revoke(f->core.st, t2.id, 1000), SAM_OK);
    assert_int_equal(core_actor_from_token(&f->core, secret2, &a, NULL, NULL), SAM_EAUTH);
    /* A session ended elsewhere. */
    core_random_token("sess_", cookie, sizeof(cookie));
    core_token_hash(cookie, hash);
    memset(&s, 0, sizeof(s));
    s.user_id = owner.user_id;
    s.created_at = s.last_seen_at = time(NULL);
    s.expires_at = s.created_at + 3600;
    snprintf(s.csrf_token, sizeof(s.csrf_token), "csrf");
    assert_int_equal(store_session_insert(f->core.st, hash, &s), SAM_OK);
    assert_int_equal(core_session_resume(&f->core, cookie, s.created_at, &s, &u), SAM_OK);
    assert_int_equal(core_session_resume(&f->core, cookie, s.created_at, &s, &u), SAM_OK);
    gen = store_auth_generation(f->core.st);
    assert_int_equal(store_session_delete(other, hash), SAM_OK);
    for(int i = 0; i < 2000 && store_auth_generation(f->core.st) == gen; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(core_session_resume(&f->core, cookie, s.created_at, &s, &u), SAM_EAUTH);
    store_close(other);
}

static void permissions(void **state)
{
    struct cfx *f = *state;
    struct store_workspace w, w2;
    struct store_member owner, viewer;
    struct store_token t;
    struct actor a;
    char secret[80];
    assert_int_equal(core_workspace_create(&f->core, &f->sys, "W", "UTC", &w), SAM_OK);
    assert_int_equal(core_workspace_create(&f->core, &f->sys, "W2", "UTC", &w2), SAM_OK);
    assert_int_equal(core_member_add(&f->core, &f->sys, w.id, "o@x.no", "O", "owner", "password-123", NULL, &owner), SAM_OK);
    assert_int_equal(core_member_add(&f->core, &f->sys, w.id, "v@x.no", "V", "viewer", "password-123", NULL, &viewer), SAM_OK);

    /* A viewer's token with every scope still cannot write. */
    assert_int_equal(core_token_create(&f->core, &f->sys, w.id, viewer.user_id, "v", PERM_ALL, secret,
                                       sizeof(secret), &t), SAM_OK);
    assert_int_equal(core_actor_from_token(&f->core, secret, &a, NULL, NULL), SAM_OK);
    assert_int_equal(core_allowed(&f->core, &a, w.id, PERM_CHANNELS_READ, NULL), SAM_OK);
    assert_int_equal(core_allowed(&f->core, &a, w.id, PERM_CHANNELS_WRITE, NULL), SAM_EPERM);
    assert_int_equal(core_allowed(&f->core, &a, w2.id, PERM_CHANNELS_READ, NULL), SAM_ENOTFOUND);

    /* An owner's token is bounded by its scopes. */
    assert_int_equal(core_token_create(&f->core, &f->sys, w.id, owner.user_id, "o", PERM_CHANNELS_READ, secret,
                                       sizeof(secret), &t), SAM_OK);
    assert_int_equal(core_actor_from_token(&f->core, secret, &a, NULL, NULL), SAM_OK);
    assert_int_equal(core_allowed(&f->core, &a, w.id, PERM_CHANNELS_READ, NULL), SAM_OK);
    assert_int_equal(core_allowed(&f->core, &a, w.id, PERM_CHANNELS_WRITE, NULL), SAM_EPERM);

    /* Revoked and unknown tokens do not authenticate. */
    assert_int_equal(core_token_revoke(&f->core, &f->sys, w.id, t.id), SAM_OK);
    assert_int_equal(core_actor_from_token(&f->core, secret, &a, NULL, NULL), SAM_EAUTH);
    assert_int_equal(core_actor_from_token(&f->core, "smt_nope", &a, NULL, NULL), SAM_EAUTH);
    /* Revoking through the wrong workspace finds nothing. */
    assert_int_equal(core_token_revoke(&f->core, &f->sys, w2.id, t.id), SAM_ENOTFOUND);

    /* A token's label (the actor in the audit log) is cut on a character: a name whose
     * 80th byte falls inside "ø" cannot make the audit entry invalid UTF-8. */
    {
        char name[120] = "a";
        for(int i = 0; i < 50; i++)
            strcat(name, "\xc3\xb8");
        assert_int_equal(core_token_create(&f->core, &f->sys, w.id, owner.user_id, name, PERM_AUDIT_READ, secret,
                                           sizeof(secret), &t), SAM_OK);
        assert_int_equal(core_actor_from_token(&f->core, secret, &a, NULL, NULL), SAM_OK);
        assert_true(utf8_count(a.label, strlen(a.label)) > 0);
        assert_non_null(strstr(a.label, "(a\xc3\xb8"));
        assert_int_equal(a.label[strlen(a.label) - 1], ')');
    }
}

static void login_and_sessions(void **state)
{
    struct cfx *f = *state;
    struct store_workspace w;
    struct store_member m;
    struct store_session s, s2;
    struct store_user u;
    char tok[64], tok2[64];
    assert_int_equal(core_workspace_create(&f->core, &f->sys, "W", "UTC", &w), SAM_OK);
    assert_int_equal(core_member_add(&f->core, &f->sys, w.id, "o@x.no", NULL, "owner", "password-123", NULL, &m), SAM_OK);
    assert_int_equal(core_login(&f->core, "o@x.no", "wrong-password", 1000, tok, sizeof(tok), &s, &u), SAM_EAUTH);
    assert_int_equal(core_login(&f->core, "nobody@x.no", "password-123", 1000, tok, sizeof(tok), &s, &u), SAM_EAUTH);
    assert_int_equal(core_login(&f->core, "O@X.NO", "password-123", 1000, tok, sizeof(tok), &s, &u), SAM_OK);
    assert_int_equal(core_login(&f->core, "o@x.no", "password-123", 1000, tok2, sizeof(tok2), &s2, &u), SAM_OK);
    assert_int_equal(core_session_resume(&f->core, tok, 2000, &s, &u), SAM_OK);
    /* Use extends a session; two weeks without use end it. */
    assert_int_equal(core_session_resume(&f->core, tok, 2000 + CORE_SESSION_SECONDS + 10, &s, &u), SAM_EAUTH);
    /* Changing the password ends the other sessions. */
    assert_int_equal(core_password_change(&f->core, u.id, s2.id, "password-123", "another-password"), SAM_OK);
    assert_int_equal(core_session_resume(&f->core, tok2, 3000, &s2, &u), SAM_OK);
    assert_int_equal(core_logout(&f->core, tok2), SAM_OK);
    assert_int_equal(core_session_resume(&f->core, tok2, 3000, &s2, &u), SAM_EAUTH);
    assert_int_equal(core_password_change(&f->core, u.id, 0, "wrong", "another-password-2"), SAM_EINVAL);
}

static void bootstrap_once(void **state)
{
    struct cfx *f = *state;
    char otp[24];
    int created;
    struct store_session s;
    struct store_user u;
    char tok[64];
    assert_int_equal(core_bootstrap(&f->core, "My workspace", "Europe/Oslo", "owner@localhost", otp, &created), SAM_OK);
    assert_true(created);
    assert_int_equal(strlen(otp), 19);
    assert_int_equal(core_login(&f->core, "owner@localhost", otp, 1000, tok, sizeof(tok), &s, &u), SAM_OK);
    assert_true(u.must_change_password);
    assert_int_equal(core_bootstrap(&f->core, "My workspace", "Europe/Oslo", "owner@localhost", otp, &created), SAM_OK);
    assert_false(created);
}

/* A network's words in a view, by role: owners, editors and the CLI's operator read them;
 * agents and viewers read the generic texts, in the same fields. */
static void peer_errors_by_role(void **state)
{
    static const struct {
        const char *role;
        int sees;
    } roles[] = {{"owner", 1}, {"editor", 1}, {"agent", 0}, {"viewer", 0}, {"", 0}, {"nonsense", 0}};
    struct store_channel ch;
    struct store_occurrence o;
    struct store_engagement e;
    (void)state;
    memset(&ch, 0, sizeof(ch));
    snprintf(ch.kind, sizeof(ch.kind), "mastodon");
    snprintf(ch.name, sizeof(ch.name), "m");
    snprintf(ch.timezone, sizeof(ch.timezone), "UTC");
    snprintf(ch.status, sizeof(ch.status), "reconnect");
    snprintf(ch.status_message, sizeof(ch.status_message), "The instance answered 401: token revoked");
    memset(&o, 0, sizeof(o));
    snprintf(o.state, sizeof(o.state), "failed");
    snprintf(o.last_error, sizeof(o.last_error), "The webhook answered 422: too long");
    memset(&e, 0, sizeof(e));
    snprintf(e.error, sizeof(e.error), "The instance answered 500");
    for(size_t pass = 0; pass < 2; pass++) {
        for(size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
            json_t *c, *oc, *en;
            view_for_role(roles[i].role);
            c = view_channel(&ch);
            oc = view_occurrence(&o);
            en = view_engagement(&e);
            assert_string_equal(json_string_value(json_object_get(c, "status_message")),
                                roles[i].sees ? ch.status_message : VIEW_CHANNEL_ERROR_HIDDEN);
            assert_string_equal(json_string_value(json_object_get(oc, "error")),
                                roles[i].sees ? o.last_error
                                : pass ? VIEW_RETRY_ERROR_HIDDEN : VIEW_PUBLISH_ERROR_HIDDEN);
            assert_string_equal(json_string_value(json_object_get(en, "error")),
                                roles[i].sees ? e.error : VIEW_COUNTS_ERROR_HIDDEN);
            assert_string_equal(json_string_value(json_object_get(c, "status")), "reconnect");
            json_decref(c);
            json_decref(oc);
            json_decref(en);
        }
        snprintf(o.state, sizeof(o.state), "scheduled");  /* a retry is due */
    }
    view_for_role("owner");
    o.last_error[0] = '\0';
    {
        json_t *oc = view_occurrence(&o);
        assert_null(json_object_get(oc, "error"));  /* nothing to hide: no field */
        json_decref(oc);
    }
}

int main(void)
{
    if(sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scopes_table),
        cmocka_unit_test(roles_table),
        cmocka_unit_test(validation_table),
        cmocka_unit_test(invisible_names_table),
        cmocka_unit_test(length_limits_table),
        cmocka_unit_test(passwords),
        cmocka_unit_test_setup_teardown(sealed_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(channel_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(auth_cache_follows_every_change, setup, teardown),
        cmocka_unit_test_setup_teardown(login_and_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(bootstrap_once, setup, teardown),
        cmocka_unit_test(peer_errors_by_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
