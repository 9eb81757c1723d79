/* approval.c: approval of posts (see approval.h). */
#include "core/approval.h"
#include "core/post.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the rules ---- */

static const char *const mode_names[APPROVAL_NMODES] = {"off", "agents", "editors_and_agents"};
static const char *const state_names[APPROVAL_NSTATES] = {"none", "pending", "changes_requested", "approved",
                                                          "rejected"};
static const char *const event_names[APPROVAL_NEVENTS] = {"submit", "change_needs", "change_free", "approve",
                                                          "request_changes", "reject"};

int approval_mode_parse(const char *name)
{
    if(!name || !*name)
        return APPROVAL_OFF;
    for(int i = 0; i < APPROVAL_NMODES; i++)
        if(!strcmp(name, mode_names[i]))
            return i;
    return -1;
}

int approval_state_parse(const char *name)
{
    if(!name || !*name)
        return APPROVAL_NONE;
    for(int i = 0; i < APPROVAL_NSTATES; i++)
        if(!strcmp(name, state_names[i]))
            return i;
    return -1;
}

const char *approval_mode_name(int mode)
{
    return mode >= 0 && mode < APPROVAL_NMODES ? mode_names[mode] : "?";
}

const char *approval_state_name(int state)
{
    return state >= 0 && state < APPROVAL_NSTATES ? state_names[state] : "?";
}

const char *approval_event_name(int event)
{
    return event >= 0 && event < APPROVAL_NEVENTS ? event_names[event] : "?";
}

int approval_needed(const char *mode, const char *role)
{
    int m = approval_mode_parse(mode);
    if(!role)
        return 0;
    if(!strcmp(role, "agent"))
        return m == APPROVAL_AGENTS || m == APPROVAL_EDITORS_AND_AGENTS;
    if(!strcmp(role, "editor"))
        return m == APPROVAL_EDITORS_AND_AGENTS;
    return 0; /* owners, and viewers (who write nothing) */
}

int approval_can_approve(const char *mode, const char *role)
{
    if(!role)
        return 0;
    if(!strcmp(role, "owner"))
        return 1;
    /* Editors approve agents' posts when only those need approval: the editor is then the
     * one who knows the channels. When editors' own posts need approval, owners decide. */
    return !strcmp(role, "editor") && approval_mode_parse(mode) == APPROVAL_AGENTS;
}

int approval_can_write(const char *mode, const char *role)
{
    if(!role)
        return 0;
    if(!strcmp(role, "owner") || !strcmp(role, "editor"))
        return 1;
    /* Agents, who talk with customers every day, may propose posts once an approver sees
     * every one of them. */
    return !strcmp(role, "agent") && approval_needed(mode, role);
}

int approval_next(int state, int event, int *next, const char **step)
{
    *next = state;
    *step = NULL;
    if(state < 0 || state >= APPROVAL_NSTATES || event < 0 || event >= APPROVAL_NEVENTS)
        return sam_fail(SAM_EINVAL, "unknown approval state or event");
    if(state == APPROVAL_REJECTED)
        return sam_fail(SAM_ECONFLICT, "the post was rejected; write a new post instead");
    switch(event) {
    case APPROVAL_SUBMIT:
        if(state != APPROVAL_NONE)
            return sam_fail(SAM_ECONFLICT, "the post was already sent for approval");
        *next = APPROVAL_PENDING;
        *step = "submitted";
        return SAM_OK;
    case APPROVAL_CHANGE_NEEDS:
        if(state == APPROVAL_PENDING)
            return SAM_OK; /* still waiting; the approver sees the new version */
        *next = APPROVAL_PENDING;
        *step = state == APPROVAL_NONE ? "submitted" : "resubmitted";
        return SAM_OK;
    case APPROVAL_CHANGE_FREE:
        if(state == APPROVAL_CHANGES_REQUESTED) {
            *next = APPROVAL_PENDING;
            *step = "resubmitted";
        }
        return SAM_OK;
    case APPROVAL_APPROVE:
    case APPROVAL_REQUEST_CHANGES:
    case APPROVAL_REJECT:
        if(state == APPROVAL_NONE)
            return sam_fail(SAM_ECONFLICT, "the post does not need approval");
        if(state == APPROVAL_APPROVED)
            return sam_fail(SAM_ECONFLICT, "the post is already approved; cancel it, or edit it to send it back for "
                                           "approval");
        if(event == APPROVAL_REQUEST_CHANGES && state == APPROVAL_CHANGES_REQUESTED)
            return sam_fail(SAM_ECONFLICT, "changes were already requested; the author's edit sends it back");
        *next = event == APPROVAL_APPROVE ? APPROVAL_APPROVED
                : event == APPROVAL_REJECT ? APPROVAL_REJECTED : APPROVAL_CHANGES_REQUESTED;
        *step = approval_state_name(*next);
        return SAM_OK;
    }
    return sam_fail(SAM_EINVAL, "unknown approval event");
}

int approval_late(int64_t planned, int64_t now)
{
    return planned < now - APPROVAL_LATE_SECONDS;
}

/* ---- over the store ---- */

int core_approval_actor(struct core *c, const struct actor *a, int64_t ws, struct approval_actor *out)
{
    int rc = SAM_OK;
    memset(out, 0, sizeof(*out));
    if(a->system) {
        struct store_workspace w;
        snprintf(out->role, sizeof(out->role), "owner");
        rc = store_workspace_get(c->st, ws, &w);
        if(!rc)
            snprintf(out->mode, sizeof(out->mode), "%s", w.approval);
    } else {
        struct store_member *ms = NULL;
        size_t n = 0;
        rc = core_user_memberships(c, a->user_id, &ms, &n);
        if(!rc) {
            rc = sam_fail(SAM_ENOTFOUND, "workspace not found");
            for(size_t i = 0; i < n; i++)
                if(ms[i].workspace_id == ws) {
                    snprintf(out->role, sizeof(out->role), "%s", ms[i].role);
                    snprintf(out->mode, sizeof(out->mode), "%s", ms[i].workspace_approval);
                    sam_clear();
                    rc = SAM_OK;
                    break;
                }
        }
        free(ms);
    }
    if(rc)
        return rc;
    if(!out->mode[0])
        snprintf(out->mode, sizeof(out->mode), "off");
    out->needs = approval_needed(out->mode, out->role);
    out->can_approve = approval_can_approve(out->mode, out->role);
    return SAM_OK;
}

int core_approval_may_change(const struct approval_actor *aa, const struct actor *a, const struct store_post *p)
{
    if(strcmp(aa->role, "agent") || a->system || (p->author_id && p->author_id == a->user_id))
        return SAM_OK;
    return sam_fail(SAM_EPERM, "an agent changes only the posts they wrote");
}

void core_approval_step(struct store_approval *step, const struct actor *a, int64_t ws, const char *action,
                        const char *note, int64_t now)
{
    memset(step, 0, sizeof(*step));
    step->workspace_id = ws;
    snprintf(step->action, sizeof(step->action), "%s", action);
    step->actor_id = a->system ? 0 : a->user_id;
    snprintf(step->actor, sizeof(step->actor), "%s", a->label[0] ? a->label : (a->system ? "system" : "?"));
    step->note = (char *)note; /* borrowed: the store only reads it */
    step->at = now;
}

int core_approval_on_change(const struct approval_actor *aa, const struct actor *a, const struct store_post *p,
                            int64_t now, struct store_approval *step, struct store_approval_change *ac,
                            int *to_pending)
{
    int state = approval_state_parse(p->approval), next;
    const char *action = NULL;
    int rc;
    memset(ac, 0, sizeof(*ac));
    if(to_pending)
        *to_pending = 0;
    if(state < 0)
        return sam_fail(SAM_EINTERNAL, "post %lld has an unknown approval state", (long long)p->id);
    rc = approval_next(state, aa->needs ? APPROVAL_CHANGE_NEEDS : APPROVAL_CHANGE_FREE, &next, &action);
    if(rc)
        return rc;
    ac->post = p->id;
    ac->from = approval_state_name(state);
    ac->to = approval_state_name(next);
    if(action) {
        core_approval_step(step, a, p->workspace_id, action, NULL, now);
        ac->step = step;
    }
    if(to_pending)
        *to_pending = next == APPROVAL_PENDING && state != APPROVAL_PENDING;
    return SAM_OK;
}

/* The text of a note: at most APPROVAL_NOTE_MAX characters, no control characters but
 * line breaks and tabs. */
static int check_note(const char *note, int required)
{
    const char *p;
    int rc;
    if(!note || !*note) {
        if(required)
            return sam_fail_field(SAM_EINVAL, "note", "say in a note what should change or why");
        return SAM_OK;
    }
    if((rc = core_check_length("note", note, APPROVAL_NOTE_MAX, 1)))
        return rc;
    for(p = note; *p; p++)
        if(((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            return sam_fail_field(SAM_EINVAL, "note", "note must not contain control characters");
    for(p = note; *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'; p++)
        ;
    if(!*p && required)
        return sam_fail_field(SAM_EINVAL, "note", "say in a note what should change or why");
    return SAM_OK;
}

int core_approval_decide(struct core *c, const struct actor *a, int64_t ws, int64_t id, int event, const char *note,
                         const char *late, int64_t seen, int64_t now, struct store_post *out)
{
    static const char *const actions[] = {[APPROVAL_APPROVE] = "post.approve",
                                          [APPROVAL_REQUEST_CHANGES] = "post.request_changes",
                                          [APPROVAL_REJECT] = "post.reject"};
    struct store_post p;
    struct store_occurrence *occ = NULL;
    struct store_approval step;
    struct store_approval_change ac;
    struct store_audit e;
    const char *action = NULL;
    size_t n = 0, nlate = 0, nsched = 0, due_after = 0;
    int64_t first_late = 0, cancel_before = 0;
    int state, next, rc;
    json_t *d = NULL;
    char *detail = NULL;

    if(event != APPROVAL_APPROVE && event != APPROVAL_REQUEST_CHANGES && event != APPROVAL_REJECT)
        return sam_fail(SAM_EINVAL, "unknown decision");
    if((rc = check_note(note, event != APPROVAL_APPROVE)))
        return rc;
    if(late && strcmp(late, "publish") && strcmp(late, "skip"))
        return sam_fail_field(SAM_EINVAL, "late", "late must be \"publish\" or \"skip\"");
    if((rc = core_post_get(c, ws, id, &p)))
        return rc;
    state = approval_state_parse(p.approval);
    rc = state < 0 ? sam_fail(SAM_EINTERNAL, "unknown approval state") : approval_next(state, event, &next, &action);
    if(!rc && strcmp(p.state, "scheduled"))
        rc = sam_fail(SAM_ECONFLICT, "the post is no longer scheduled: it was cancelled or has gone out");
    if(!rc && seen && seen != p.updated_at)
        rc = sam_fail(SAM_ECONFLICT, "the post changed since you read it: look at it again before you decide");
    if(!rc)
        rc = store_occurrence_list(c->st, ws, id, 0, 0, 0, 0, 1000, &occ, &n);
    for(size_t i = 0; !rc && i < n; i++) {
        if(strcmp(occ[i].state, "scheduled"))
            continue;
        nsched++;
        if(approval_late(occ[i].planned_at, now)) {
            if(!nlate++ || occ[i].planned_at < first_late)
                first_late = occ[i].planned_at;
        } else if(occ[i].planned_at <= now) {
            due_after++;
        }
    }
    free(occ);
    if(!rc && event == APPROVAL_APPROVE && nlate) {
        /* Long past its time, a post may no longer fit what happens now (an offer that
         * ended, a greeting for yesterday): the approver says what to do. */
        char when[32];
        time_rfc3339(first_late, when, sizeof(when));
        if(!late)
            rc = sam_fail_field(SAM_ECONFLICT, "late",
                                n_("%zu copy was due more than an hour ago (at %s): move it to a new time first, or "
                                   "approve with late \"publish\" to send it now or \"skip\" to leave it out",
                                   "%zu copies were due more than an hour ago (the first at %s): move them to new "
                                   "times first, or approve with late \"publish\" to send them now or \"skip\" to "
                                   "leave them out",
                                   nlate),
                                nlate, when);
        else if(!strcmp(late, "skip") && nlate == nsched)
            rc = sam_fail_field(SAM_ECONFLICT, "late", "every copy is late: move them to new times, or publish them "
                                                       "now");
        else if(!strcmp(late, "skip"))
            cancel_before = now - APPROVAL_LATE_SECONDS;
    }
    if(event == APPROVAL_REJECT)
        cancel_before = INT64_MAX;
    if(rc)
        goto out;
    core_approval_step(&step, a, ws, action, note, now);
    ac.post = id;
    ac.from = approval_state_name(state);
    ac.to = approval_state_name(next);
    ac.step = &step;
    d = json_pack("{s:I, s:s, s:s}", "post_id", (json_int_t)id, "from", ac.from, "to", ac.to);
    if(d && note && *note)
        json_object_set_new(d, "note", json_string(note));
    if(d && nlate && event == APPROVAL_APPROVE && late) {
        json_object_set_new(d, "late", json_string(late));
        json_object_set_new(d, "late_copies", json_integer((json_int_t)nlate));
    }
    detail = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if(!detail) {
        rc = SAM_ENOMEM;
        goto out;
    }
    core_audit_entry(a, ws, actions[event], p.category, &e);
    e.at = now;
    rc = store_post_decide(c->st, ws, &ac, p.updated_at, cancel_before, now, &e, detail);
    if(!rc && event == APPROVAL_APPROVE && (due_after || (nlate && late && !strcmp(late, "publish"))))
        core_due(c); /* due now: out at once */
    if(!rc && out)
        rc = core_post_get(c, ws, id, out);
out:
    json_decref(d);
    free(detail);
    store_post_cleanup(&p);
    return rc;
}

void core_occurrence_approval(json_t *j, const struct store_occurrence *o, const char *approval, int64_t now)
{
    int state = approval_state_parse(approval);
    const char *msg;
    if(!j || strcmp(o->state, "scheduled") || (state != APPROVAL_PENDING && state != APPROVAL_CHANGES_REQUESTED))
        return;
    if(state == APPROVAL_CHANGES_REQUESTED)
        msg = o->planned_at <= now ? _("Due, but changes were requested: it goes out once the post is changed and "
                                       "approved.")
                                   : _("Changes were requested: it goes out only once the post is changed and "
                                       "approved.");
    else
        msg = o->planned_at <= now ? _("Due, but waiting for approval: it goes out once an approver approves it.")
                                   : _("Awaiting approval: it goes out only once an approver approves it.");
    json_object_set_new(j, "approval", json_pack("{s:s, s:s, s:b}", "state", approval, "message", msg, "due",
                                                 o->planned_at <= now));
}

json_t *view_approval_step(const struct store_approval *a)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)a->id, "action", a->action, "actor", a->actor,
                          "at", view_time(a->at));
    if(!j)
        return NULL;
    json_object_set_new(j, "by", a->actor_id ? json_pack("{s:I, s:s}", "id", (json_int_t)a->actor_id, "name",
                                                         a->actor_name)
                                             : json_null());
    if(a->note)
        json_object_set_new(j, "note", json_string(a->note));
    return j;
}

int core_approval_json(struct core *c, const struct store_post *p, json_t **out)
{
    struct store_approval *items = NULL;
    size_t n = 0;
    json_t *hist;
    int rc = store_approval_list(c->st, p->id, &items, &n);
    *out = NULL;
    if(rc)
        return rc;
    hist = json_array();
    for(size_t i = 0; hist && i < n; i++)
        json_array_append_new(hist, view_approval_step(&items[i]));
    store_approval_list_free(items, n);
    *out = json_pack("{s:s, s:o}", "state", p->approval[0] ? p->approval : "none", "history",
                     hist ? hist : json_array());
    return *out ? SAM_OK : SAM_ENOMEM;
}

int core_approval_item(struct core *c, const struct store_post *p, int64_t now, json_t **out)
{
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    json_t *post = view_post(p), *list = json_array(), *appr = NULL, *violations = NULL, *author = json_null();
    int rc = post && list ? SAM_OK : SAM_ENOMEM;
    *out = NULL;
    if(!rc)
        rc = store_occurrence_list(c->st, p->workspace_id, p->id, 0, 0, 0, 0, 1000, &occ, &n);
    for(size_t i = 0; !rc && i < n; i++) {
        json_t *o = view_occurrence(&occ[i]);
        core_occurrence_approval(o, &occ[i], p->approval, now);
        json_array_append_new(list, o);
    }
    free(occ);
    if(!rc)
        rc = core_approval_json(c, p, &appr);
    if(!rc)
        rc = core_post_findings(c, p, now, &violations);
    if(!rc && p->author_id) {
        struct store_user u;
        if(!store_user_get(c->st, p->author_id, &u)) {
            json_decref(author);
            author = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)u.id, "name", u.name, "email", u.email);
        }
    }
    if(!rc) {
        json_object_set_new(post, "occurrences", list);
        json_object_set_new(post, "approval", appr);
        *out = json_pack("{s:o, s:o, s:o}", "post", post, "author", author ? author : json_null(), "violations",
                         violations ? violations : json_array());
        return *out ? SAM_OK : SAM_ENOMEM;
    }
    json_decref(post);
    json_decref(list);
    json_decref(appr);
    json_decref(violations);
    json_decref(author);
    return rc;
}
