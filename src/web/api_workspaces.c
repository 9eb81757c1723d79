/*
 * api_workspaces.c: workspaces, their calendar feed and their audit log.
 */
#include "web/api.h"
#include "core/approval.h"
#include "core/media.h"
#include "core/post.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *v_audit(const void *p) { return view_audit(p); }
static int64_t k_audit(const void *p) { return ((const struct store_audit *)p)->id; }

/* ---- workspaces ---- */

int api_ws_list(struct web_request *r, struct web_reply *out)
{
    struct store_workspace *ws = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;

    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    rc = store_workspace_list(r->core->st, r->user.id, after, limit + 1, &ws, &n);
    if(rc)
        return rc;
    items = json_array();
    size_t shown = 0;
    int64_t last = 0;
    for(size_t i = 0; i < n && shown < (size_t)limit; i++) {
        if(r->actor.token_id && ws[i].id != r->actor.token_ws)
            continue;
        json_array_append_new(items, view_workspace(&ws[i]));
        last = ws[i].id;
        shown++;
    }
    int more = n > (size_t)limit && !r->actor.token_id;
    free(ws);
    return api_reply(out, 200, api_page_json(items, more, last));
}

int api_ws_create(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"name", "timezone", NULL};
    const char *name, *tz;
    struct store_workspace w;
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "name", 1, &name)) ||
       (rc = api_body_str(r->body, "timezone", 0, &tz)))
        return rc;
    rc = core_workspace_create(r->core, &r->actor, name, tz ? tz : "Europe/Oslo", &w);
    if(rc)
        return rc;
    return api_reply(out, 201, view_workspace(&w));
}

static int ws_with_role(struct web_request *r, struct store_workspace *w)
{
    int rc = store_workspace_get(r->core->st, r->wid, w);
    if(!rc)
        rc = core_allowed(r->core, &r->actor, r->wid, 0, w->role);
    return rc;
}

int api_ws_get(struct web_request *r, struct web_reply *out)
{
    struct store_workspace w;
    int rc = ws_with_role(r, &w);
    if(rc)
        return rc;
    return api_reply(out, 200, view_workspace(&w));
}

int api_ws_patch(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"name", "timezone", "mix_preset", "require_second_factor", "approval",
                                       "require_alt_text", NULL};
    const char *name, *tz, *mix, *approval;
    json_t *sf = json_object_get(r->body, "require_second_factor");
    json_t *alt = json_object_get(r->body, "require_alt_text");
    struct store_workspace w;
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "name", 0, &name)) ||
       (rc = api_body_str(r->body, "timezone", 0, &tz)) || (rc = api_body_str(r->body, "mix_preset", 0, &mix)) ||
       (rc = api_body_str(r->body, "approval", 0, &approval)))
        return rc;
    if(sf && !json_is_boolean(sf))
        return sam_fail_field(SAM_EINVAL, "require_second_factor", "require_second_factor must be true or false");
    if(approval && approval_mode_parse(approval) < 0)
        return sam_fail_field(SAM_EINVAL, "approval", "approval must be off, agents or editors_and_agents");
    if(alt && !json_is_boolean(alt))
        return sam_fail_field(SAM_EINVAL, "require_alt_text", "require_alt_text must be true or false");
    /* Everything is checked before anything changes: one refusal leaves the workspace as it was. */
    if(sf && (rc = core_workspace_second_factor_allowed(r->core, &r->actor, json_is_true(sf))))
        return rc;
    rc = name || tz || mix || (!sf && !approval && !alt)
             ? core_workspace_update(r->core, &r->actor, r->wid, name, tz, mix, &w)
             : SAM_OK;
    if(!rc && sf)
        rc = core_workspace_require_second_factor(r->core, &r->actor, r->wid, json_is_true(sf));
    if(!rc && approval)
        rc = core_workspace_set_approval(r->core, &r->actor, r->wid, approval, &w);
    if(!rc && alt)
        rc = core_workspace_require_alt(r->core, &r->actor, r->wid, json_is_true(alt));
    if(!rc)
        rc = ws_with_role(r, &w);
    if(rc)
        return rc;
    return api_reply(out, 200, view_workspace(&w));
}

/* ---- calendar feed (P13) ---- */

static int ical_next(void *state, struct buf *b, int *done)
{
    return core_ical_next(state, b, done);
}

static void ical_free(void *state)
{
    core_ical_free(state);
}

/* The feed is streamed: a part at a time, as the client reads (server.c). */
int api_ical(struct web_request *r, struct web_reply *out)
{
    struct core_ical *it = NULL;
    int rc = core_ical_open(r->core, r->token, time_now(), &it);
    if(rc)
        return rc;
    out->content_type = "text/calendar; charset=utf-8";
    out->stream_next = ical_next;
    out->stream_free = ical_free;
    out->stream_state = it;
    return SAM_OK;
}

int api_calendar_create(struct web_request *r, struct web_reply *out)
{
    char token[80], path[128];
    int rc = core_ical_rotate(r->core, &r->actor, r->wid, token, sizeof(token));
    if(rc)
        return rc;
    snprintf(path, sizeof(path), "/ical/%s", token);
    sodium_memzero(token, sizeof(token));
    rc = api_reply(out, 201, json_pack("{s:s, s:s}", "path", path, "note",
                                   "Shown once. Anyone with this link can read the schedule; make a new one to end it."));
    sodium_memzero(path, sizeof(path));
    return rc;
}

int api_calendar_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_ical_disable(r->core, &r->actor, r->wid);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}

/* ---- audit ---- */

int api_audit_list(struct web_request *r, struct web_reply *out)
{
    struct store_audit *es = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t before;
    json_t *items;
    if((rc = api_page_params(r, &limit, &before)))
        return rc;
    rc = store_audit_list(r->core->st, r->wid, before, limit + 1, &es, &n);
    if(rc)
        return rc;
    items = api_page_of(es, n, sizeof(*es), limit, v_audit, k_audit);
    store_audit_list_free(es, n);
    return api_reply(out, 200, items);
}
