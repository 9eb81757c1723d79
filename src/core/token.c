/*
 * token.c: API tokens. A token is "smt_" followed by 43 random URL-safe characters; it is
 * shown once, at creation, and only its hash is stored. It belongs to one workspace and
 * one member and can never do more than that member's role allows.
 */
#include "core/core.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int core_token_create(struct core *c, const struct actor *a, int64_t ws, int64_t user,
                      const char *name, unsigned scopes, char *secret, size_t n,
                      struct store_token *out)
{
    struct store_member m;
    unsigned char hash[32];
    int rc = core_validate_name("name", name);
    if(rc)
        return rc;
    if(!scopes)
        return sam_fail_field(SAM_EINVAL, "scopes", "give at least one scope");
    if(!user) {
        struct store_member *list = NULL;
        size_t cnt = 0;
        rc = store_member_list(c->st, ws, 0, 0, 200, &list, &cnt);
        for(size_t i = 0; !rc && i < cnt && !user; i++)
            if(!strcmp(list[i].role, "owner"))
                user = list[i].user_id;
        free(list);
        if(rc)
            return rc;
        if(!user)
            return sam_fail(SAM_ENOTFOUND, "the workspace has no owner to own the token");
    }
    rc = store_member_get(c->st, ws, user, &m);
    if(rc == SAM_ENOTFOUND)
        return sam_fail_field(rc, "user", "that account is not a member of this workspace");
    if(rc)
        return rc;
    memset(out, 0, sizeof(*out));
    core_random_token("smt_", secret, n);
    core_token_hash(secret, hash);
    out->workspace_id = ws;
    out->user_id = user;
    snprintf(out->name, sizeof(out->name), "%s", name);
    core_scopes_format(scopes, out->scopes, sizeof(out->scopes));
    snprintf(out->prefix, sizeof(out->prefix), "%.12s", secret);
    out->created_at = time_now();
    rc = store_token_insert(c->st, hash, out);
    if(rc)
        return rc;
    json_t *d = json_pack("{s:s, s:s}", "scopes", out->scopes, "prefix", out->prefix);
    core_audit(c, a, ws, "token.create", name, d);
    json_decref(d);
    return SAM_OK;
}

int core_token_revoke(struct core *c, const struct actor *a, int64_t ws, int64_t id)
{
    struct store_token t;
    int rc = store_token_get(c->st, id, &t);
    if(rc == SAM_ENOTFOUND || (!rc && ws && t.workspace_id != ws))
        return sam_fail(SAM_ENOTFOUND, "token %lld not found", (long long)id);
    if(rc)
        return rc;
    rc = store_token_revoke(c->st, id, time_now());
    if(!rc) {
        json_t *d = json_pack("{s:I}", "token_id", (json_int_t)id);
        core_audit(c, a, t.workspace_id, "token.revoke", t.name, d);
        json_decref(d);
    }
    return rc;
}

int core_token_revoke_all(struct core *c, const struct actor *a, int64_t user, int64_t now, int *n)
{
    int rc = store_token_revoke_user(c->st, user, now, n);
    if(rc)
        return rc;
    json_t *d = json_pack("{s:i}", "revoked", *n);
    core_audit(c, a, 0, "token.revoke_all", a->label, d);
    json_decref(d);
    return SAM_OK;
}
