/*
 * second.c: the second factor of a login (X6): TOTP codes (RFC 6238) from an
 * authenticator app, and recovery codes for when the phone is gone.
 *
 * A login with a right password on an account that has the factor gets a challenge
 * instead of a session: a random secret the client sends back with a code within
 * CORE_CHALLENGE_SECONDS. A challenge takes CORE_CHALLENGE_TRIES wrong codes, then it is
 * gone and the password must be given again (which the login limiter counts). A code is
 * accepted once: the time step it matched is stored, and no code of that step or an
 * earlier one works again.
 */
#include "core/core.h"
#include "core/totp.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(TOTP_RECOVERY_SIZE == 14 && TOTP_SECRET_B32_SIZE == 33, "core.h spells these sizes out");

int core_challenge_open(struct core *c, const struct store_user *u, const char *addr, int64_t now, char *out,
                        size_t n)
{
    struct store_challenge ch;
    unsigned char hash[32];
    int rc;
    memset(&ch, 0, sizeof(ch));
    core_random_token("mfa_", out, n);
    core_token_hash(out, hash);
    ch.user_id = u->id;
    snprintf(ch.address, sizeof(ch.address), "%s", addr ? addr : "");
    ch.created_at = now;
    ch.expires_at = now + CORE_CHALLENGE_SECONDS;
    rc = store_challenge_insert(c->st, hash, &ch);
    if(rc)
        sodium_memzero(out, n);
    return rc;
}

/* The key of recovery-code hashes, derived from the secret key (so a copy of the
 * database alone cannot be tried offline). */
static void recovery_key(const struct core *c, unsigned char out[TOTP_RECOVERY_KEY_BYTES])
{
    crypto_kdf_derive_from_key(out, TOTP_RECOVERY_KEY_BYTES, 2, "smt_rcv_", c->key);
}

/* Makes a new set of recovery codes: the codes into codes, their hashes into hashes. */
static int new_recovery(const struct core *c, char codes[][TOTP_RECOVERY_SIZE],
                        unsigned char hashes[][TOTP_RECOVERY_HASH_BYTES])
{
    unsigned char key[TOTP_RECOVERY_KEY_BYTES];
    int rc = totp_recovery_new(codes, TOTP_RECOVERY_COUNT);
    recovery_key(c, key);
    for(size_t i = 0; !rc && i < TOTP_RECOVERY_COUNT; i++)
        rc = totp_recovery_hash(codes[i], key, hashes[i]);
    sodium_memzero(key, sizeof(key));
    return rc;
}

/* Opens a sealed TOTP secret into key (TOTP_SECRET_BYTES). */
static int open_secret(const struct core *c, const unsigned char *sealed, size_t len,
                       unsigned char key[TOTP_KEY_MAX], size_t *keylen)
{
    char *plain = NULL;
    size_t n = 0;
    int rc = core_secret_open(c, sealed, len, &plain, &n);
    if(rc)
        return sam_fail(SAM_EINTERNAL, "the stored second factor cannot be decrypted (was the secret key changed?)");
    if(n == 0 || n > TOTP_KEY_MAX) {
        sodium_memzero(plain, n);
        free(plain);
        return sam_fail(SAM_EINTERNAL, "the stored second factor is damaged");
    }
    memcpy(key, plain, n);
    *keylen = n;
    sodium_memzero(plain, n);
    free(plain);
    return SAM_OK;
}

int core_totp_begin(struct core *c, const struct store_user *u, const char *issuer, char b32[TOTP_SECRET_B32_SIZE],
                    struct buf *uri, struct buf *svg)
{
    unsigned char key[TOTP_SECRET_BYTES], *sealed = NULL;
    size_t sealed_len = 0;
    int rc = totp_secret_new(key, b32);
    if(!rc)
        rc = core_secret_seal(c, key, sizeof(key), &sealed, &sealed_len);
    if(!rc)
        rc = store_totp_set_pending(c->st, u->id, sealed, sealed_len);
    if(!rc)
        rc = totp_uri(issuer, u->email, key, sizeof(key), NULL, uri);
    if(!rc)
        rc = totp_qr_svg(buf_str(uri), 0, svg);
    sodium_memzero(key, sizeof(key));
    free(sealed);
    if(rc)
        sodium_memzero(b32, TOTP_SECRET_B32_SIZE);
    return rc;
}

int core_totp_confirm(struct core *c, const struct actor *a, const struct store_user *u, const char *code, int64_t now,
                      char codes[][TOTP_RECOVERY_SIZE])
{
    struct store_totp t;
    unsigned char key[TOTP_KEY_MAX], hashes[TOTP_RECOVERY_COUNT][TOTP_RECOVERY_HASH_BYTES];
    size_t keylen = 0;
    int64_t step = 0;
    int rc = store_totp_get(c->st, u->id, &t);
    if(rc)
        return rc;
    if(!t.pending) {
        store_totp_cleanup(&t);
        return sam_fail(SAM_ECONFLICT, "start again: there is no second factor waiting to be confirmed");
    }
    rc = open_secret(c, t.pending, t.pending_len, key, &keylen);
    if(!rc) {
        rc = totp_verify(key, keylen, NULL, code, now, -1, &step);
        if(rc == SAM_EINVAL || rc == SAM_EAUTH)
            rc = sam_fail_field(SAM_EINVAL, "code", "that is not the code your app shows now: check the app and "
                                "the phone's clock, and type the 6 digits again");
    }
    if(!rc)
        rc = new_recovery(c, codes, hashes);
    if(!rc)
        rc = store_totp_enable(c->st, u->id, t.pending, t.pending_len, now, step,
                               (const unsigned char(*)[32])hashes, TOTP_RECOVERY_COUNT);
    sodium_memzero(key, sizeof(key));
    sodium_memzero(hashes, sizeof(hashes));
    store_totp_cleanup(&t);
    if(rc)
        return rc;
    core_audit(c, a, 0, "user.second_factor_on", u->email, NULL);
    return SAM_OK;
}

/* Checks a code (or, with recovery set, a recovery code) of an account that has the
 * factor, using it up: SAM_EAUTH when it is wrong or was used. */
static int check_factor(struct core *c, const struct store_user *u, const char *code, const char *recovery,
                        int64_t now)
{
    struct store_totp t;
    int rc;
    if(recovery) {
        unsigned char key[TOTP_RECOVERY_KEY_BYTES], hash[TOTP_RECOVERY_HASH_BYTES];
        recovery_key(c, key);
        rc = totp_recovery_hash(recovery, key, hash);
        sodium_memzero(key, sizeof(key));
        if(!rc)
            rc = store_recovery_use(c->st, u->id, hash, now);
        if(rc == SAM_EINVAL || rc == SAM_ENOTFOUND)
            return sam_fail(SAM_EAUTH, "that recovery code is not right, or was used already");
        return rc;
    }
    rc = store_totp_get(c->st, u->id, &t);
    if(rc)
        return rc;
    if(!t.secret) {
        store_totp_cleanup(&t);
        return sam_fail(SAM_EAUTH, "this account has no second factor");
    }
    {
        unsigned char key[TOTP_KEY_MAX];
        size_t keylen = 0;
        int64_t step = 0;
        rc = open_secret(c, t.secret, t.secret_len, key, &keylen);
        if(!rc)
            rc = totp_verify(key, keylen, NULL, code, now, t.last_step, &step);
        sodium_memzero(key, sizeof(key));
        /* The step is taken in one statement: of two logins racing with one code, one wins. */
        if(!rc && store_totp_use_step(c->st, u->id, step) == SAM_ECONFLICT)
            rc = sam_fail(SAM_EAUTH, "this code was used already; wait for the next one");
        if(rc == SAM_EINVAL)
            rc = sam_fail(SAM_EAUTH, "a code is the 6 digits your authenticator app shows");
    }
    store_totp_cleanup(&t);
    return rc;
}

int core_challenge_user(struct core *c, const char *challenge, int64_t now, struct store_challenge *out)
{
    unsigned char hash[32];
    int rc;
    if(strlen(challenge) > 100)
        return sam_fail(SAM_EAUTH, "the login took too long or was replaced; enter your password again");
    core_token_hash(challenge, hash);
    rc = store_challenge_get(c->st, hash, now, out);
    if(rc == SAM_ENOTFOUND)
        return sam_fail(SAM_EAUTH, "the login took too long or was replaced; enter your password again");
    return rc;
}

int core_challenge_answer(struct core *c, const char *challenge, const char *code, const char *recovery, int64_t now,
                          struct store_user *u)
{
    struct store_challenge ch;
    unsigned char hash[32];
    int rc = core_challenge_user(c, challenge, now, &ch);
    if(rc)
        return rc;
    if((!code) == (!recovery))
        return sam_fail_field(SAM_EINVAL, "code", "give the code from your app, or one recovery code");
    if((rc = store_user_get(c->st, ch.user_id, u)))
        return rc == SAM_ENOTFOUND ? sam_fail(SAM_EAUTH, "enter your password again") : rc;
    core_token_hash(challenge, hash);
    rc = check_factor(c, u, code, recovery, now);
    if(rc == SAM_EAUTH) {
        char why[200];
        int attempts = 0;
        snprintf(why, sizeof(why), "%s", sam_errmsg(rc));
        if(store_challenge_fail(c->st, hash, &attempts) == SAM_OK && attempts >= CORE_CHALLENGE_TRIES) {
            store_challenge_delete(c->st, hash);
            return sam_fail(SAM_EAUTH, "%s; that was the last try: enter your password again", why);
        }
        return sam_fail(SAM_EAUTH, "%s", why);
    }
    if(rc)
        return rc;
    store_challenge_delete(c->st, hash);
    if(recovery) {
        struct actor who = {.user_id = u->id};
        snprintf(who.label, sizeof(who.label), "%s", u->email);
        core_audit(c, &who, 0, "user.recovery_code_used", u->email, NULL);
    }
    return SAM_OK;
}

/* What changing the factor asks of a session: the factor on, the password, and a code or
 * a recovery code (exactly one), used up. Errors name the field at fault (422). */
static int confirm_change(struct core *c, const struct store_user *u, const char *password, const char *code,
                          const char *recovery, int64_t now)
{
    int rc;
    if(!u->totp_enabled_at)
        return sam_fail(SAM_ECONFLICT, "two-step login is not on for this account");
    if(!password || !core_password_verify(u->password_hash, password))
        return sam_fail_field(SAM_EINVAL, "password", "the password is wrong");
    if((!code) == (!recovery))
        return sam_fail_field(SAM_EINVAL, "code", "give the code from your app, or one recovery code");
    rc = check_factor(c, u, code, recovery, now);
    if(rc == SAM_EAUTH)
        return sam_fail_field(SAM_EINVAL, recovery ? "recovery_code" : "code", "%s", sam_errmsg(rc));
    return rc;
}

int core_totp_disable(struct core *c, const struct actor *a, const struct store_user *u, const char *password,
                      const char *code, const char *recovery, int64_t now)
{
    int rc;
    rc = confirm_change(c, u, password, code, recovery, now);
    if(!rc)
        rc = store_totp_disable(c->st, u->id);
    if(!rc)
        core_audit(c, a, 0, "user.second_factor_off", u->email, NULL);
    return rc;
}

int core_recovery_renew(struct core *c, const struct actor *a, const struct store_user *u, const char *password,
                        const char *code, const char *recovery, int64_t now, char codes[][TOTP_RECOVERY_SIZE])
{
    unsigned char hashes[TOTP_RECOVERY_COUNT][TOTP_RECOVERY_HASH_BYTES];
    int rc;
    rc = confirm_change(c, u, password, code, recovery, now);
    if(!rc)
        rc = new_recovery(c, codes, hashes);
    if(!rc)
        rc = store_recovery_replace(c->st, u->id, (const unsigned char(*)[32])hashes, TOTP_RECOVERY_COUNT);
    sodium_memzero(hashes, sizeof(hashes));
    if(!rc)
        core_audit(c, a, 0, "user.recovery_codes", u->email, NULL);
    return rc;
}

int core_totp_reset(struct core *c, const struct actor *a, const char *email)
{
    struct store_user u;
    int rc = store_user_get_by_email(c->st, email, &u);
    if(rc == SAM_ENOTFOUND)
        return sam_fail(rc, "no account with email %s", email);
    if(!rc)
        rc = store_totp_disable(c->st, u.id);
    if(!rc)
        rc = store_session_delete_user(c->st, u.id, 0);
    if(!rc)
        core_audit(c, a, 0, "user.second_factor_reset", email, NULL);
    return rc;
}
