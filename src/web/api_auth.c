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

int api_login(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"email", "password", NULL};
    const char *email, *password;
    char ekey[300], akey[80], token[64];
    struct store_session s;
    struct store_user u;
    int rc;

    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "email", 1, &email)) ||
       (rc = api_body_str(r->body, "password", 1, &password)))
        return rc;
    /* Over the bounds no account can have: said as such (it reveals no account), and not
     * counted as an attempt. */
    if((rc = core_check_length("email", email, CORE_EMAIL_MAX, 0)) ||
       (rc = core_check_length("password", password, CORE_PASSWORD_MAX, 1)))
        return rc;
    snprintf(ekey, sizeof(ekey), "email:");
    for(size_t i = 0; email[i] && i + 7 < sizeof(ekey); i++)
        ekey[6 + i] = (char)tolower((unsigned char)email[i]), ekey[7 + i] = '\0';
    snprintf(akey, sizeof(akey), "addr:%s", r->client_ip);
    if((rc = ratelimit_check(ekey, 5, &out->retry_after)))
        return rc;
    if((rc = ratelimit_check(akey, 20, &out->retry_after))) {
        ratelimit_release(ekey);
        return rc;
    }
    rc = core_login(r->core, email, password, time_now(), token, sizeof(token), &s, &u);
    if(rc == SAM_EAUTH) {
        out->error_code = "invalid_credentials";
        return rc; /* the attempt stays counted */
    }
    ratelimit_release(akey);
    if(rc) {
        ratelimit_release(ekey);
        return rc;
    }
    ratelimit_reset(ekey);
    snprintf(out->set_cookie, sizeof(out->set_cookie),
             "samtale_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", token,
             CORE_SESSION_SECONDS, web_cookie_secure(r->web) ? "; Secure" : "");
    sodium_memzero(token, sizeof(token));
    return api_reply(out, 200, json_pack("{s:o, s:s, s:b}", "user", view_user(&u), "csrf_token", s.csrf_token,
                                     "password_change_required", u.must_change_password));
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
        json_array_append_new(list, json_pack("{s:I, s:s, s:s}", "workspace_id", (json_int_t)ms[i].workspace_id,
                                              "workspace_name", ms[i].workspace_name, "role", ms[i].role));
    }
    free(ms);
    me = json_pack("{s:o, s:s, s:b, s:o}", "user", view_user(&r->user), "auth",
                   r->via_session ? "session" : "token", "password_change_required",
                   r->user.must_change_password, "memberships", list);
    if(!me)
        return SAM_ENOMEM;
    if(r->via_session) {
        json_object_set_new(me, "csrf_token", json_string(r->session.csrf_token));
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
