/*
 * api_invitations.c: invitations to a workspace (X6). Members with members:write invite
 * by email; the invited person opens the link (the dashboard's #/invite/SECRET page),
 * which reads the invitation through the public GET, then either makes their account
 * (POST .../accept with their name and password: they are logged in) or, logged in
 * already, joins (POST .../join). The link's secret is in the URL fragment, so it never
 * reaches a Referer; the API paths below carry it, and server.c keeps them out of its log.
 */
#include "web/api.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *v_invitation(const void *p)
{
    return view_invitation(p, time_now());
}

static int64_t k_invitation(const void *p)
{
    return ((const struct store_invitation *)p)->id;
}

/* The invitation as the inviter sees it, with the link when it is theirs to pass on
 * (shown this once: only its hash is kept). */
static json_t *invitation_json(struct web_request *r, const struct store_invitation *v, const char *secret)
{
    json_t *j = view_invitation(v, time_now());
    if(j && !strcmp(v->delivery, "link") && secret[0]) {
        char link[700];
        snprintf(link, sizeof(link), "%s/#/invite/%s", web_base_url(r->web), secret);
        json_object_set_new(j, "link", json_string(link));
    }
    return j;
}

int api_invitations_list(struct web_request *r, struct web_reply *out)
{
    struct store_invitation *vs = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    rc = store_invitation_list(r->core->st, r->wid, after, limit + 1, &vs, &n);
    if(rc)
        return rc;
    items = api_page_of(vs, n, sizeof(*vs), limit, v_invitation, k_invitation);
    free(vs);
    return api_reply(out, 200, items);
}

int api_invitations_create(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"email", "name", "role", "language", NULL};
    struct invite_input in;
    struct store_invitation v;
    char secret[CORE_INVITE_SECRET_MAX];
    json_t *j;
    int rc;
    memset(&in, 0, sizeof(in));
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "email", 1, &in.email)) ||
       (rc = api_body_str(r->body, "name", 0, &in.name)) || (rc = api_body_str(r->body, "role", 1, &in.role)) ||
       (rc = api_body_str(r->body, "language", 0, &in.language)))
        return rc;
    in.by_email = r->core->mail_enabled;
    rc = core_invite_send(r->core, &r->actor, r->wid, &in, web_base_url(r->web), time_now(), &v, secret);
    if(rc)
        return rc;
    j = invitation_json(r, &v, secret);
    sodium_memzero(secret, sizeof(secret));
    return api_reply(out, 201, j);
}

int api_invitation_renew(struct web_request *r, struct web_reply *out)
{
    struct store_invitation v;
    char secret[CORE_INVITE_SECRET_MAX];
    json_t *j;
    int rc = core_invite_resend(r->core, &r->actor, r->wid, r->id, web_base_url(r->web), time_now(), &v, secret);
    if(rc)
        return rc;
    j = invitation_json(r, &v, secret);
    sodium_memzero(secret, sizeof(secret));
    return api_reply(out, 200, j);
}

int api_invitation_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_invite_revoke(r->core, &r->actor, r->wid, r->id, time_now());
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}

/* Public: what the link holder may know before accepting. Whether the invited email has
 * an account is not part of it. */
int api_invitation_peek(struct web_request *r, struct web_reply *out)
{
    struct store_invitation v;
    int rc = core_invite_find(r->core, r->token, &v);
    if(rc)
        return rc;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "workspace_name", v.workspace_name, "email", v.email,
                          "inviter_name", v.inviter_name, "role", v.role, "state", core_invite_state(&v, time_now()),
                          "expires_at", view_time(v.expires_at));
    if(j && v.name[0])
        json_object_set_new(j, "name", json_string(v.name));
    return api_reply(out, 200, j);
}

/* Public: accepts by making the invited email's account, and logs the person in. */
int api_invitation_accept(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"name", "password", NULL};
    const char *name = NULL, *password = NULL;
    struct store_invitation v;
    struct store_user u;
    struct store_session s;
    char token[64];
    int64_t now = time_now();
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "name", 0, &name)) ||
       (rc = api_body_str(r->body, "password", 1, &password)) ||
       (name && (rc = core_check_length("name", name, CORE_NAME_MAX, 1))) ||
       (rc = core_check_length("password", password, CORE_PASSWORD_MAX, 1)))
        return rc;
    rc = core_invite_accept_new(r->core, r->token, name, password, now, &v, &u);
    if(rc == SAM_ECONFLICT && sam_errfield() && !strcmp(sam_errfield(), "email"))
        out->error_code = "account_exists";
    if(rc)
        return rc;
    if((rc = core_session_open(r->core, &u, now, token, sizeof(token), &s)))
        return rc;
    if((rc = api_logged_in(r, out, &u, &s, token, sizeof(token))))
        return rc;
    out->status = 201;
    json_object_set_new(out->json, "workspace_id", json_integer(v.workspace_id));
    return SAM_OK;
}

/* Joins as the logged-in account (whose email must be the invited one). */
int api_invitation_join(struct web_request *r, struct web_reply *out)
{
    struct store_invitation v;
    int rc = core_invite_accept_as(r->core, r->token, &r->user, time_now(), &v);
    if(rc)
        return rc;
    return api_reply(out, 200, json_pack("{s:I, s:s, s:s}", "workspace_id", (json_int_t)v.workspace_id,
                                         "workspace_name", v.workspace_name, "role", v.role));
}
