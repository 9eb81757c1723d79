/*
 * api_approvals.c: approval of posts (P12): the queue, the decisions on a post, and the
 * notice of decisions for their authors. The rules are core/approval.c's; the route table
 * asks for posts:approve before a decision, posts:read before the lists.
 */
#include "web/api.h"
#include "core/approval.h"
#include "core/post.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define APPROVALS_PAGE_MAX 50 /* each item carries its checks: a page costs as many check runs */

/* A decision: {"note"?, "updated_at"?, "late"? (approve only)} -> the post, as a single
 * post's answer. */
static int decide(struct web_request *r, struct web_reply *out, int event)
{
    static const char *const keys[] = {"note", "updated_at", "late", NULL};
    static const char *const keys_no_late[] = {"note", "updated_at", NULL};
    const char *note = NULL, *seen_text = NULL, *late = NULL;
    struct store_post p;
    int64_t seen = 0;
    json_t *j = NULL;
    int rc;
    if((rc = api_body_only(r->body, event == APPROVAL_APPROVE ? keys : keys_no_late)) ||
       (rc = api_body_str(r->body, "note", event != APPROVAL_APPROVE, &note)) ||
       (rc = api_body_str(r->body, "updated_at", 0, &seen_text)) || (rc = api_body_str(r->body, "late", 0, &late)))
        return rc;
    if(seen_text && ((rc = core_check_length("updated_at", seen_text, CORE_TIME_TEXT_MAX, 1)) ||
                     time_parse_rfc3339(seen_text, &seen)))
        return rc ? rc : sam_fail_field(SAM_EINVAL, "updated_at", "updated_at must be the post's updated_at, such as "
                                                                "2027-03-28T09:00:00Z");
    if(late && (rc = core_check_length("late", late, 7, 0)))
        return rc;
    rc = core_approval_decide(r->core, &r->actor, r->wid, r->id, event, note, late, seen, time_now(), &p);
    if(rc)
        return rc;
    rc = api_post_json(r, &p, &j);
    store_post_cleanup(&p);
    return rc ? rc : api_reply(out, 200, j);
}

int api_post_approve(struct web_request *r, struct web_reply *out)
{
    return decide(r, out, APPROVAL_APPROVE);
}

int api_post_request_changes(struct web_request *r, struct web_reply *out)
{
    return decide(r, out, APPROVAL_REQUEST_CHANGES);
}

int api_post_reject(struct web_request *r, struct web_reply *out)
{
    return decide(r, out, APPROVAL_REJECT);
}

/* The queue: ?state= (pending, the default; changes_requested, approved, rejected) and
 * ?mine=true (the caller's own posts), a page at a time (at most APPROVALS_PAGE_MAX), with
 * the count of all of them. */
int api_approvals_list(struct web_request *r, struct web_reply *out)
{
    const char *state = r->query_state ? r->query_state : "pending";
    struct store_post *ps = NULL;
    size_t n = 0, shown;
    int64_t after, author = 0, total = 0;
    int limit, rc, st = approval_state_parse(state);
    json_t *items, *page;
    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    if(limit > APPROVALS_PAGE_MAX)
        return sam_fail_field(SAM_EBADREQ, "limit", "limit must be from 1 to %d here", APPROVALS_PAGE_MAX);
    if(st <= APPROVAL_NONE || !*state)
        return sam_fail_field(SAM_EBADREQ, "state", "state must be pending, changes_requested, approved or rejected");
    if(r->query_mine) {
        if(strcmp(r->query_mine, "true") && strcmp(r->query_mine, "false"))
            return sam_fail_field(SAM_EBADREQ, "mine", "mine must be true or false");
        if(!strcmp(r->query_mine, "true"))
            author = r->actor.user_id ? r->actor.user_id : -1; /* the operator writes no posts of an account */
    }
    if((rc = store_approval_count(r->core->st, r->wid, state, author, &total)) ||
       (rc = store_approval_queue(r->core->st, r->wid, state, author, after, limit + 1, &ps, &n)))
        return rc;
    items = json_array();
    shown = n > (size_t)limit ? (size_t)limit : n;
    for(size_t i = 0; !rc && items && i < shown; i++) {
        json_t *item = NULL;
        rc = core_approval_item(r->core, &ps[i], time_now(), &item);
        if(!rc)
            json_array_append_new(items, item);
    }
    page = !rc && items ? api_page_json(items, n > (size_t)limit, shown ? ps[shown - 1].id : 0) : NULL;
    if(rc)
        json_decref(items);
    store_post_list_free(ps, n);
    if(rc)
        return rc;
    if(page)
        json_object_set_new(page, "count", json_integer((json_int_t)total));
    return api_reply(out, 200, page);
}

/* The decisions on the caller's posts in the last APPROVAL_NOTICE_DAYS days, newest first
 * (at most ?limit): what the dashboard tells an author. */
int api_approvals_notices(struct web_request *r, struct web_reply *out)
{
    struct store_approval *items = NULL;
    size_t n = 0;
    int64_t after;
    int limit, rc;
    json_t *list;
    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    if(!r->actor.user_id)
        return api_reply(out, 200, json_pack("{s:[]}", "items"));
    rc = store_approval_notices(r->core->st, r->wid, r->actor.user_id,
                                time_now() - (int64_t)APPROVAL_NOTICE_DAYS * 86400, limit, &items, &n);
    if(rc)
        return rc;
    list = json_array();
    for(size_t i = 0; list && i < n; i++) {
        json_t *j = view_approval_step(&items[i]);
        if(j) {
            json_object_set_new(j, "post_id", json_integer((json_int_t)items[i].post_id));
            json_object_set_new(j, "text", json_string(items[i].post_text ? items[i].post_text : ""));
        }
        json_array_append_new(list, j);
    }
    store_approval_list_free(items, n);
    return api_reply(out, 200, json_pack("{s:o}", "items", list ? list : json_array()));
}
