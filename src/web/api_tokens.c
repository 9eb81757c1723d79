/*
 * api_tokens.c: API tokens.
 */
#include "web/api.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_SCOPES_MAX 32     /* items in the scopes list */
#define TOKEN_SCOPE_TEXT_MAX 16 /* characters of a scope name, "workspaces:write" */

static json_t *v_token(const void *p) { return view_token(p); }
static int64_t k_token(const void *p) { return ((const struct store_token *)p)->id; }

/* ---- tokens ---- */

int api_tokens_list(struct web_request *r, struct web_reply *out)
{
    struct store_token *ts = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    rc = store_token_list(r->core->st, r->wid, after, limit + 1, &ts, &n);
    if(rc)
        return rc;
    items = api_page_of(ts, n, sizeof(*ts), limit, v_token, k_token);
    free(ts);
    return api_reply(out, 200, items);
}

int api_tokens_create(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"name", "scopes", NULL};
    const char *name;
    json_t *scopes = json_object_get(r->body, "scopes"), *v, *j;
    char secret[80];
    unsigned bits = 0, one;
    size_t i;
    struct store_token t;
    int rc;

    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "name", 1, &name)))
        return rc;
    if(!json_is_array(scopes) || json_array_size(scopes) == 0 || json_array_size(scopes) > TOKEN_SCOPES_MAX)
        return sam_fail_field(SAM_EINVAL, "scopes", "scopes must be a list of 1 to %d scope names", TOKEN_SCOPES_MAX);
    /* One name at a time: a list item may not hide two names ("a b") or none. */
    json_array_foreach(scopes, i, v) {
        const char *scope = json_string_value(v);
        if(!scope || !*scope || json_string_length(v) > TOKEN_SCOPE_TEXT_MAX || strpbrk(scope, " ,"))
            return sam_fail_field(SAM_EINVAL, "scopes", "each scope must be a scope name such as posts:read");
        if((rc = core_scopes_parse(scope, &one)))
            return rc;
        bits |= one;
    }
    if(r->actor.token_id && (bits & ~r->actor.scopes))
        return sam_fail_field(SAM_EPERM, "scopes", "a token cannot create a token with more scopes than its own");
    rc = core_token_create(r->core, &r->actor, r->wid, r->user.id, name, bits, secret, sizeof(secret), &t);
    if(rc)
        return rc;
    j = view_token(&t);
    if(j)
        json_object_set_new(j, "token", json_string(secret));
    sodium_memzero(secret, sizeof(secret));
    return api_reply(out, 201, j);
}

int api_token_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_token_revoke(r->core, &r->actor, r->wid, r->id);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}
