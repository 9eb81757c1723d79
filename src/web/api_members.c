/*
 * api_members.c: a workspace's members.
 */
#include "web/api.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *v_member(const void *p) { return view_member(p); }
static int64_t k_member(const void *p) { return ((const struct store_member *)p)->user_id; }

/* ---- members ---- */

int api_members_list(struct web_request *r, struct web_reply *out)
{
    struct store_member *ms = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    rc = store_member_list(r->core->st, r->wid, 0, after, limit + 1, &ms, &n);
    if(rc)
        return rc;
    items = api_page_of(ms, n, sizeof(*ms), limit, v_member, k_member);
    free(ms);
    return api_reply(out, 200, items);
}

int api_member_patch(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"role", NULL};
    const char *role;
    struct store_member m;
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "role", 1, &role)))
        return rc;
    rc = core_member_set_role(r->core, &r->actor, r->wid, r->id, role, &m);
    if(rc)
        return rc;
    return api_reply(out, 200, view_member(&m));
}

int api_member_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_member_remove(r->core, &r->actor, r->wid, r->id);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}
