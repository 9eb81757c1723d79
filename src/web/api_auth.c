/*
 * api_auth.c: logging in and out, and the signed-in person's own account (/me).
 */
#include "web/api.h"
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
    if(strlen(email) > STORE_EMAIL_MAX || strlen(password) > 1024) {
        out->error_code = "invalid_credentials";
        return sam_fail(SAM_EAUTH, "wrong email or password");
    }
    /* Counted before the password is checked: parallel guesses cannot all pass. */
    if((rc = ratelimit_login_gate(email, r->client_ip, core_device_trusted(r->core, email, r->cookie_device, now),
                                  now, &out->retry_after)))
        return rc;
    rc = core_login_check(r->core, email, password, r->client_ip, now, &u);
    if(rc == SAM_EAUTH) {
        out->error_code = "invalid_credentials";
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
    int rc = store_member_list(r->core->st, 0, r->user.id, 0, 1000, &ms, &n);
    if(rc)
        return rc;
    list = json_array();
    for(size_t i = 0; i < n; i++) {
        if(r->actor.token_id && ms[i].workspace_id != r->actor.token_ws)
            continue;
        json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:b}", "workspace_id", (json_int_t)ms[i].workspace_id,
                                              "workspace_name", ms[i].workspace_name, "role", ms[i].role,
                                              "second_factor_required",
                                              ms[i].workspace_requires_second_factor && !ms[i].second_factor &&
                                                  core_role_needs_second_factor(ms[i].role)));
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
        struct store_token t;
        if(!store_token_get(r->core->st, r->actor.token_id, &t)) {
            json_t *tv = view_token(&t);
            json_object_set_new(me, "token", json_pack("{s:I, s:s, s:I, s:O}", "id", (json_int_t)t.id, "name",
                                                       t.name, "workspace_id", (json_int_t)t.workspace_id,
                                                       "scopes", json_object_get(tv, "scopes")));
            json_decref(tv);
        }
    }
    return api_reply(out, 200, me);
}

int api_me_password(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"current_password", "new_password", NULL};
    const char *cur, *next;
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "current_password", 1, &cur)) ||
       (rc = api_body_str(r->body, "new_password", 1, &next)))
        return rc;
    rc = core_password_change(r->core, r->user.id, r->session.id, cur, next);
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
