/*
 * api_auth.c: logging in and out, and the signed-in person's own account (/me).
 */
#include "web/api.h"
#include "core/approval.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- authentication ---- */

int api_logged_in(struct web_request *r, struct web_reply *out, const struct store_user *u,
                     const struct store_session *s, char *token, size_t n)
{
    char device[64];
    const char *secure = web_cookie_secure(r->web) ? "; Secure" : "";
    json_t *j;
    snprintf(out->set_cookie, sizeof(out->set_cookie),
             "samtale_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", token, CORE_SESSION_SECONDS,
             secure);
    sodium_memzero(token, n);
    core_device_cookie(r->core, u->email, time_now(), device, sizeof(device));
    snprintf(out->set_cookie2, sizeof(out->set_cookie2),
             "samtale_device=%s; Path=/api/v1/auth/; HttpOnly; SameSite=Strict; Max-Age=%d%s", device,
             CORE_DEVICE_SECONDS, secure);
    j = json_pack("{s:o, s:s, s:b}", "user", view_user(u), "csrf_token", s->csrf_token, "password_change_required",
                  u->must_change_password);
    if(j && s->notice_failed)
        json_object_set_new(j, "failed_logins", view_failed_logins(s));
    return api_reply(out, 200, j);
}

int api_login(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"email", "password", NULL};
    const char *email, *password;
    char token[64];
    struct store_session s;
    struct store_user u;
    int64_t now = time_now();
    int rc;

    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "email", 1, &email)) ||
       (rc = api_body_str(r->body, "password", 1, &password)))
        return rc;
    /* Over the bounds no account can have: said as such (it reveals no account), and not
     * counted as an attempt. */
    if((rc = core_check_length("email", email, CORE_EMAIL_MAX, 0)) ||
       (rc = core_check_length("password", password, CORE_PASSWORD_MAX, 1)))
        return rc;
    /* Counted before the password is checked: parallel guesses cannot all pass. */
    if((rc = ratelimit_login_gate(email, r->client_ip, core_device_trusted(r->core, email, r->cookie_device, now),
                                  now, &out->retry_after)))
        return rc;
    rc = core_login_check(r->core, email, password, r->client_ip, now, &u);
    if(rc == SAM_EAUTH) {
        out->error_code = "invalid_credentials";
        ratelimit_login_failed(email, r->client_ip, time_now());
        return rc; /* the attempt stays counted */
    }
    if(rc) {
        ratelimit_login_refund(email, r->client_ip, now);
        return rc;
    }
    ratelimit_login_succeeded(email, r->client_ip, now);
    if(u.totp_enabled_at) {
        /* The password was right; the second factor decides. */
        char challenge[64];
        if((rc = core_challenge_open(r->core, &u, r->client_ip, now, challenge, sizeof(challenge))))
            return rc;
        out->error_code = "second_factor_required";
        out->error_extra = json_pack("{s:s, s:i}", "challenge", challenge, "expires_in", CORE_CHALLENGE_SECONDS);
        sodium_memzero(challenge, sizeof(challenge));
        return sam_fail(SAM_EAUTH, "enter the 6-digit code from your authenticator app, or a recovery code");
    }
    if((rc = core_session_open(r->core, &u, now, token, sizeof(token), &s)))
        return rc;
    return api_logged_in(r, out, &u, &s, token, sizeof(token));
}

int api_logout(struct web_request *r, struct web_reply *out)
{
    int rc = core_logout(r->core, r->session_token);
    if(rc)
        return rc;
    snprintf(out->set_cookie, sizeof(out->set_cookie),
             "samtale_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             web_cookie_secure(r->web) ? "; Secure" : "");
    out->status = 204;
    return SAM_OK;
}

int api_me(struct web_request *r, struct web_reply *out)
{
    struct store_member *ms = NULL;
    size_t n = 0;
    json_t *list, *me;
    int rc = core_user_memberships(r->core, r->user.id, &ms, &n);
    if(rc)
        return rc;
    list = json_array();
    for(size_t i = 0; i < n; i++) {
        if(r->actor.token_id && ms[i].workspace_id != r->actor.token_ws)
            continue;
        json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:b, s:s, s:b, s:b}", "workspace_id",
                                              (json_int_t)ms[i].workspace_id, "workspace_name", ms[i].workspace_name,
                                              "role", ms[i].role, "second_factor_required",
                                              ms[i].workspace_requires_second_factor && !ms[i].second_factor &&
                                                  core_role_needs_second_factor(ms[i].role),
                                              "approval", ms[i].workspace_approval[0] ? ms[i].workspace_approval : "off",
                                              "posts_need_approval",
                                              approval_needed(ms[i].workspace_approval, ms[i].role),
                                              "can_approve", approval_can_approve(ms[i].workspace_approval, ms[i].role)));
    }
    free(ms);
    me = json_pack("{s:o, s:s, s:b, s:o, s:{s:b}}", "user", view_user(&r->user), "auth",
                   r->via_session ? "session" : "token", "password_change_required",
                   r->user.must_change_password, "memberships", list, "second_factor", "enabled",
                   r->user.totp_enabled_at != 0);
    if(!me)
        return SAM_ENOMEM;
    if(r->user.totp_enabled_at) {
        int left = 0;
        if(!store_recovery_count(r->core->st, r->user.id, &left))
            json_object_set_new(json_object_get(me, "second_factor"), "recovery_codes_left", json_integer(left));
    }
    if(r->via_session) {
        json_object_set_new(me, "csrf_token", json_string(r->session.csrf_token));
        if(r->session.notice_failed)
            json_object_set_new(me, "failed_logins", view_failed_logins(&r->session));
    } else {
        const struct store_token *t = &r->api_token; /* read with the authentication */
        json_t *tv = view_token(t);
        json_object_set_new(me, "token", json_pack("{s:I, s:s, s:I, s:O}", "id", (json_int_t)t->id, "name", t->name,
                                                   "workspace_id", (json_int_t)t->workspace_id, "scopes",
                                                   json_object_get(tv, "scopes")));
        json_decref(tv);
    }
    return api_reply(out, 200, me);
}

#define PASSWORD_FAILURES_MAX 10 /* wrong passwords a signed-in account takes in the limiter's window */

/* Counts a check of the signed-in person's password before it is made, so a session
 * (a browser left open) cannot be used to guess the password past the login limits.
 * key receives the limiter's key, for password_checked. */
static int password_gate(struct web_request *r, struct web_reply *out, char key[64], int64_t now)
{
    int rc;
    snprintf(key, 64, "password:%lld", (long long)r->user.id);
    rc = ratelimit_check(key, PASSWORD_FAILURES_MAX, now, &out->retry_after);
    if(rc == SAM_ERATE)
        rc = sam_fail(SAM_ERATE, "too many wrong passwords; try again in %d minutes", (out->retry_after + 59) / 60);
    return rc;
}

/* Gives the attempt back unless rc says the password (field) was wrong. */
static void password_checked(const char *key, int rc, const char *field, int64_t now)
{
    const char *f = sam_errfield();
    if(!(rc == SAM_EINVAL && f && !strcmp(f, field)))
        ratelimit_release(key, now);
}

int api_me_password(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"current_password", "new_password", NULL};
    const char *cur, *next;
    char key[64];
    int64_t now = time_now();
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "current_password", 1, &cur)) ||
       (rc = api_body_str(r->body, "new_password", 1, &next)))
        return rc;
    if((rc = password_gate(r, out, key, now)))
        return rc;
    rc = core_password_change(r->core, r->user.id, r->session.id, cur, next);
    password_checked(key, rc, "current_password", now);
    if(rc)
        return rc;
    core_audit(r->core, &r->actor, 0, "user.password", r->user.email, NULL);
    out->status = 204;
    return SAM_OK;
}

/* The notice of failed logins has been read: it is not shown again. */
int api_me_notice_dismiss(struct web_request *r, struct web_reply *out)
{
    int rc = store_session_clear_notice(r->core->st, r->session.id);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}

/* Revokes every API token of the signed-in person, in every workspace (they outlive a
 * password change otherwise). */
int api_me_tokens_revoke(struct web_request *r, struct web_reply *out)
{
    int n = 0;
    int rc = core_token_revoke_all(r->core, &r->actor, r->user.id, time_now(), &n);
    if(rc)
        return rc;
    return api_reply(out, 200, json_pack("{s:i}", "revoked", n));
}

/* ---- the second factor (X6) ---- */

#include "core/totp.h"

#define CODE_FAILURES_MAX 10 /* wrong codes one account takes in the limiter's window */

/* Reads "code" or "recovery_code" (exactly one may be given). */
static int factor_fields(json_t *body, const char **code, const char **recovery)
{
    int rc = api_body_str(body, "code", 0, code);
    if(!rc)
        rc = api_body_str(body, "recovery_code", 0, recovery);
    if(!rc && *code && strlen(*code) > TOTP_CODE_INPUT_MAX)
        rc = sam_fail_field(SAM_EINVAL, "code", "code must have at most %d characters", TOTP_CODE_INPUT_MAX);
    if(!rc && *recovery && strlen(*recovery) > 40)
        rc = sam_fail_field(SAM_EINVAL, "recovery_code", "recovery_code must have at most 40 characters");
    return rc;
}

/* The second step of a login: the challenge from the first and a code. */
int api_login_second_factor(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"challenge", "code", "recovery_code", NULL};
    const char *challenge, *code = NULL, *recovery = NULL;
    struct store_challenge ch;
    struct store_user u;
    struct store_session s;
    char key[64], token[64];
    int64_t now = time_now();
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "challenge", 1, &challenge)) ||
       (rc = core_check_length("challenge", challenge, 100, 0)) || (rc = factor_fields(r->body, &code, &recovery)))
        return rc;
    if((rc = core_challenge_user(r->core, challenge, now, &ch)))
        return rc;
    /* Wrong codes are limited per account too: a new challenge (the password again) does
     * not give a guesser new tries. A browser that logged in to the account before (its
     * device cookie) counts on its own, so a guesser who knows the password cannot keep
     * the owner from their code. */
    if(store_user_get(r->core->st, ch.user_id, &u) == SAM_OK &&
       core_device_trusted(r->core, u.email, r->cookie_device, now)) {
        unsigned char h[8];
        crypto_generichash(h, sizeof(h), (const unsigned char *)r->cookie_device, strlen(r->cookie_device), NULL, 0);
        snprintf(key, sizeof(key), "second-factor:%lld:%02x%02x%02x%02x%02x%02x%02x%02x", (long long)ch.user_id, h[0],
                 h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
    } else {
        snprintf(key, sizeof(key), "second-factor:%lld", (long long)ch.user_id);
    }
    sam_clear();
    if((rc = ratelimit_check(key, CODE_FAILURES_MAX, now, &out->retry_after)))
        return rc;
    rc = core_challenge_answer(r->core, challenge, code, recovery, now, &u);
    if(rc == SAM_EAUTH) {
        /* How many tries the challenge has left (0: the password again). */
        char msg[300];
        struct store_challenge after;
        int left = 0;
        snprintf(msg, sizeof(msg), "%s", sam_errmsg(rc));
        if(core_challenge_user(r->core, challenge, now, &after) == SAM_OK)
            left = CORE_CHALLENGE_TRIES - after.attempts;
        out->error_code = "invalid_code";
        out->error_extra = json_pack("{s:i}", "tries_left", left > 0 ? left : 0);
        return sam_fail(SAM_EAUTH, "%s", msg);
    }
    if(rc) {
        ratelimit_release(key, now);
        return rc;
    }
    ratelimit_release(key, now);
    if((rc = core_session_open(r->core, &u, now, token, sizeof(token), &s)))
        return rc;
    return api_logged_in(r, out, &u, &s, token, sizeof(token));
}

static json_t *codes_json(char codes[][TOTP_RECOVERY_SIZE])
{
    json_t *a = json_array();
    for(size_t i = 0; a && i < TOTP_RECOVERY_COUNT; i++)
        json_array_append_new(a, json_string(codes[i]));
    return a;
}

/* Enrolment, step 1: a new secret and its QR code (rendered here, as an SVG data URI). */
int api_second_factor_begin(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"password", NULL};
    const char *password;
    char b32[TOTP_SECRET_B32_SIZE], key[64];
    struct buf uri, svg, img;
    int64_t now = time_now();
    int rc;
    /* The password first: an open session alone must not tie the account to someone
     * else's authenticator app. */
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "password", 1, &password)) ||
       (rc = core_check_length("password", password, CORE_PASSWORD_MAX, 1)))
        return rc;
    if(r->user.totp_enabled_at)
        return sam_fail(SAM_ECONFLICT, "two-step login is already on; turn it off first to move it to a new app");
    if((rc = password_gate(r, out, key, now)))
        return rc;
    rc = core_password_verify(r->user.password_hash, password)
             ? SAM_OK
             : sam_fail_field(SAM_EINVAL, "password", "the password is wrong");
    password_checked(key, rc, "password", now);
    if(rc)
        return rc;
    buf_init(&uri, TOTP_URI_MAX);
    buf_init(&svg, TOTP_QR_SVG_MAX);
    buf_init(&img, TOTP_QR_SVG_MAX * 2);
    rc = core_totp_begin(r->core, &r->user, "samtale", b32, &uri, &svg);
    if(!rc) {
        /* The QR code goes into an <img src>: a data URI, which the CSP allows for images. */
        size_t n = sodium_base64_ENCODED_LEN(svg.len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(n);
        if(!b64)
            rc = SAM_ENOMEM;
        if(!rc) {
            sodium_bin2base64(b64, n, (const unsigned char *)svg.data, svg.len, sodium_base64_VARIANT_ORIGINAL);
            rc = buf_puts(&img, "data:image/svg+xml;base64,");
            if(!rc)
                rc = buf_puts(&img, b64);
        }
        free(b64);
    }
    if(!rc)
        rc = api_reply(out, 201, json_pack("{s:s, s:s, s:s}", "secret", b32, "otpauth_uri", buf_str(&uri), "qr_code",
                                           buf_str(&img)));
    sodium_memzero(b32, sizeof(b32));
    if(uri.data)
        sodium_memzero(uri.data, uri.len);
    buf_cleanup(&uri);
    buf_cleanup(&svg);
    buf_cleanup(&img);
    return rc;
}

/* Enrolment, step 2: the first code turns it on; the recovery codes are shown once. */
int api_second_factor_confirm(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"code", NULL};
    const char *code;
    char codes[TOTP_RECOVERY_COUNT][TOTP_RECOVERY_SIZE];
    char key[64];
    int64_t now = time_now();
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "code", 1, &code)))
        return rc;
    if(strlen(code) > TOTP_CODE_INPUT_MAX)
        return sam_fail_field(SAM_EINVAL, "code", "code must have at most %d characters", TOTP_CODE_INPUT_MAX);
    snprintf(key, sizeof(key), "second-factor:%lld", (long long)r->user.id);
    if((rc = ratelimit_check(key, CODE_FAILURES_MAX, now, &out->retry_after)))
        return rc;
    rc = core_totp_confirm(r->core, &r->actor, &r->user, code, now, codes);
    if(rc && !(rc == SAM_EINVAL && sam_errfield() && !strcmp(sam_errfield(), "code")))
        ratelimit_release(key, now);
    if(rc)
        return rc;
    ratelimit_release(key, now);
    rc = api_reply(out, 200, json_pack("{s:b, s:o}", "enabled", 1, "recovery_codes", codes_json(codes)));
    sodium_memzero(codes, sizeof(codes));
    return rc;
}

int api_second_factor_disable(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"password", "code", "recovery_code", NULL};
    const char *password, *code = NULL, *recovery = NULL;
    char key[64];
    int64_t now = time_now();
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "password", 1, &password)) ||
       (rc = core_check_length("password", password, CORE_PASSWORD_MAX, 1)) ||
       (rc = factor_fields(r->body, &code, &recovery)))
        return rc;
    snprintf(key, sizeof(key), "second-factor:%lld", (long long)r->user.id);
    if((rc = ratelimit_check(key, CODE_FAILURES_MAX, now, &out->retry_after)))
        return rc;
    rc = core_totp_disable(r->core, &r->actor, &r->user, password, code, recovery, now);
    if(rc == SAM_EINVAL && sam_errfield() && strcmp(sam_errfield(), "password") && !code == !recovery)
        ratelimit_release(key, now);  /* a form error, not a guess */
    else if(!rc)
        ratelimit_release(key, now);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}

int api_second_factor_recovery(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"password", "code", "recovery_code", NULL};
    const char *password, *code = NULL, *recovery = NULL;
    char codes[TOTP_RECOVERY_COUNT][TOTP_RECOVERY_SIZE], key[64], fkey[64];
    int64_t now = time_now();
    int rc;
    /* New codes need the password and a code: with the password alone they would be a way
     * around the code that turning the factor off asks for. */
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "password", 1, &password)) ||
       (rc = core_check_length("password", password, CORE_PASSWORD_MAX, 1)) ||
       (rc = factor_fields(r->body, &code, &recovery)))
        return rc;
    if((rc = password_gate(r, out, key, now)))
        return rc;
    snprintf(fkey, sizeof(fkey), "second-factor:%lld", (long long)r->user.id);
    if((rc = ratelimit_check(fkey, CODE_FAILURES_MAX, now, &out->retry_after))) {
        ratelimit_release(key, now);
        return rc;
    }
    rc = core_recovery_renew(r->core, &r->actor, &r->user, password, code, recovery, now, codes);
    password_checked(key, rc, "password", now);
    password_checked(fkey, rc, recovery ? "recovery_code" : "code", now);
    if(rc)
        return rc;
    rc = api_reply(out, 200, json_pack("{s:o}", "recovery_codes", codes_json(codes)));
    sodium_memzero(codes, sizeof(codes));
    return rc;
}
