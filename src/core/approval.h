/*
 * approval.h: approval of posts before they go out (PRODUCT.md P12).
 *
 * A workspace's setting says whose posts wait for an approver:
 *   off                 nobody's (agents write no posts then)
 *   agents              agents' posts; owners and editors approve
 *   editors_and_agents  editors' and agents' posts; owners approve
 * An approver's own posts never wait, and neither do the operator's (the CLI without --as).
 *
 * A post's approval (posts.approval) moves by a small state machine (approval_next):
 *   none ──submit──> pending ──approve──> approved
 *                      │  └──request changes──> changes_requested ──change──> pending
 *                      └──reject──> rejected (the post is cancelled)
 * A change (an edit, or a copy moved) by someone whose posts need approval sends a post
 * back to pending from none, approved or changes_requested; any change of a post whose
 * changes were requested sends it back. The publisher claims only posts whose approval is
 * none or approved (store_occurrence_claim), so nothing unapproved goes out, while its
 * copies stay planned where they would go.
 *
 * Late approvals: a copy approved up to APPROVAL_LATE_SECONDS after its time goes out at
 * once; when a copy is later than that, approving asks what to do (field "late"): publish
 * the late copies now, or skip them (they are cancelled; the others keep their times).
 *
 * The first part is pure logic (unit-tested alone); the second works on the store.
 */
#ifndef SAM_APPROVAL_H
#define SAM_APPROVAL_H

#include "core/core.h"

#define APPROVAL_LATE_SECONDS 3600  /* a copy approved later than this after its time asks first */
#define APPROVAL_NOTE_MAX 1000      /* characters of a note */
#define APPROVAL_NOTICE_DAYS 14     /* decisions the author's notice looks back on */

enum approval_mode { APPROVAL_OFF, APPROVAL_AGENTS, APPROVAL_EDITORS_AND_AGENTS, APPROVAL_NMODES };

enum approval_state {
    APPROVAL_NONE,
    APPROVAL_PENDING,
    APPROVAL_CHANGES_REQUESTED,
    APPROVAL_APPROVED,
    APPROVAL_REJECTED,
    APPROVAL_NSTATES
};

enum approval_event {
    APPROVAL_SUBMIT,          /* scheduled by someone whose posts need approval */
    APPROVAL_CHANGE_NEEDS,    /* edited or moved by someone whose posts need approval */
    APPROVAL_CHANGE_FREE,     /* edited or moved by someone whose posts do not */
    APPROVAL_APPROVE,
    APPROVAL_REQUEST_CHANGES,
    APPROVAL_REJECT,
    APPROVAL_NEVENTS
};

/* ---- the rules (pure) ---- */

/* The mode or state of a name, or -1 for an unknown one ("" and NULL are off / none). */
int approval_mode_parse(const char *name);
int approval_state_parse(const char *name);
/* The name of a mode, a state or an event (static strings; "?" for an unknown value). */
const char *approval_mode_name(int mode);
const char *approval_state_name(int state);
const char *approval_event_name(int event);

/* Under mode (a name), whether posts written by role need approval, whether role may
 * approve, and whether role may write posts at all. */
int approval_needed(const char *mode, const char *role);
int approval_can_approve(const char *mode, const char *role);
int approval_can_write(const char *mode, const char *role);

/* The next state of a post in `state` on `event`: SAM_OK with *next, and *step the
 * history entry that records it (its action, "submitted", "resubmitted", "approved",
 * "changes_requested" or "rejected"; NULL when nothing is recorded). SAM_ECONFLICT, with a
 * message that says why, when the event does not apply (approving a post that needs no
 * approval, or one already decided, ...). */
int approval_next(int state, int event, int *next, const char **step);

/* Whether a copy planned at `planned` is late when approved at `now` (more than
 * APPROVAL_LATE_SECONDS after its time). */
int approval_late(int64_t planned, int64_t now);

/* ---- over the store ---- */

/* What an actor is in a workspace, for approval: role, the workspace's mode, whether its
 * posts need approval and whether it may approve. The operator (a->system) is an owner. */
struct approval_actor {
    char role[16];
    char mode[24];
    int needs;
    int can_approve;
};
int core_approval_actor(struct core *c, const struct actor *a, int64_t ws, struct approval_actor *out);

/* SAM_EPERM when aa is an agent and p is not its own post: agents propose posts, and change
 * or cancel only those they wrote. */
int core_approval_may_change(const struct approval_actor *aa, const struct actor *a, const struct store_post *p);

/* Fills a history step of a's action on workspace ws at now (note borrowed; NULL: none). */
void core_approval_step(struct store_approval *step, const struct actor *a, int64_t ws, const char *action,
                        const char *note, int64_t now);

/* The change a change (edit or move) by aa makes to p's approval: *ac is the compare and
 * set from p's state to the next (step points into *step when one is recorded). *to_pending
 * (may be NULL) says whether it sends the post back to the queue. SAM_ECONFLICT when p
 * cannot change (rejected). */
int core_approval_on_change(const struct approval_actor *aa, const struct actor *a, const struct store_post *p,
                            int64_t now, struct store_approval *step, struct store_approval_change *ac,
                            int *to_pending);

/* An approver's decision on post id of workspace ws: event is APPROVAL_APPROVE,
 * APPROVAL_REQUEST_CHANGES or APPROVAL_REJECT. note (NULL: none) is required for the last
 * two and at most APPROVAL_NOTE_MAX characters. late (NULL: not said) is "publish" or
 * "skip": what to do with copies approved more than APPROVAL_LATE_SECONDS after their time;
 * without it such a copy stops the approval with SAM_ECONFLICT on field "late". seen (0: not
 * checked) is the post's updated_at as the approver read it: a post changed since is
 * SAM_ECONFLICT. A rejected post is cancelled. The caller checks that a may approve
 * (PERM_POSTS_APPROVE). Audited. *out (when not NULL) gets the post afterwards. */
int core_approval_decide(struct core *c, const struct actor *a, int64_t ws, int64_t id, int event, const char *note,
                         const char *late, int64_t seen, int64_t now, struct store_post *out);

/* {"state","history":[step...]} of a post, history read from the store. New reference in
 * *out. A step is {"id","action","actor","by":{"id","name"}|null,"note"?,"at"}. */
int core_approval_json(struct core *c, const struct store_post *p, json_t **out);
json_t *view_approval_step(const struct store_approval *a);

/* Adds "approval": {"state","message"} to the view j of occurrence o, whose post's approval
 * is `approval`, while it waits for a decision (o scheduled, the post pending or
 * changes_requested): the calendar's mark, and, once it is due, why it has not gone out.
 * Nothing otherwise. */
void core_occurrence_approval(json_t *j, const struct store_occurrence *o, const char *approval, int64_t now);

/* One item of the approval queue: {"post": Post with approval and occurrences, "author":
 * {"id","name","email"}|null, "violations": what the checks find where its copies are
 * planned}. New reference in *out. */
int core_approval_item(struct core *c, const struct store_post *p, int64_t now, json_t **out);

#endif
