/* test_approval.c: the rules of approval (core/approval.c, PRODUCT.md P12) as tables: the
 * state machine (every state on every event: the next state, the step the history records,
 * or a refusal), who needs approval, who approves and who writes under each setting, the
 * permissions a role gets in a workspace, and the boundary of a late approval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/approval.h"
#include "util/err.h"

enum { N = APPROVAL_NONE, P = APPROVAL_PENDING, C = APPROVAL_CHANGES_REQUESTED, A = APPROVAL_APPROVED,
       R = APPROVAL_REJECTED, X = -1 /* refused (SAM_ECONFLICT), nothing changes */ };

static void state_machine(void **state)
{
    /* [state][event] -> next state, and the step recorded ("" for none). */
    static const struct {
        int next;
        const char *step;
    } table[APPROVAL_NSTATES][APPROVAL_NEVENTS] = {
        /*                submit               change_needs          change_free           approve            request_changes            reject */
        [N] = {{P, "submitted"}, {P, "submitted"}, {N, ""}, {X, ""}, {X, ""}, {X, ""}},
        [P] = {{X, ""}, {P, ""}, {P, ""}, {A, "approved"}, {C, "changes_requested"}, {R, "rejected"}},
        [C] = {{X, ""}, {P, "resubmitted"}, {P, "resubmitted"}, {A, "approved"}, {X, ""}, {R, "rejected"}},
        [A] = {{X, ""}, {P, "resubmitted"}, {A, ""}, {X, ""}, {X, ""}, {X, ""}},
        [R] = {{X, ""}, {X, ""}, {X, ""}, {X, ""}, {X, ""}, {X, ""}},
    };
    (void)state;
    for(int s = 0; s < APPROVAL_NSTATES; s++)
        for(int e = 0; e < APPROVAL_NEVENTS; e++) {
            int next = -7;
            const char *step = "unset";
            int rc = approval_next(s, e, &next, &step);
            if(table[s][e].next == X) {
                if(rc != SAM_ECONFLICT)
                    fail_msg("%s on %s: rc %d, expected a refusal", approval_event_name(e), approval_state_name(s),
                             rc);
                assert_int_equal(next, s); /* nothing changes */
                assert_non_null(sam_errmsg(rc));
                assert_true(strlen(sam_errmsg(rc)) > 10);
                continue;
            }
            if(rc != SAM_OK)
                fail_msg("%s on %s: refused (%s)", approval_event_name(e), approval_state_name(s), sam_errmsg(rc));
            if(next != table[s][e].next)
                fail_msg("%s on %s: %s, expected %s", approval_event_name(e), approval_state_name(s),
                         approval_state_name(next), approval_state_name(table[s][e].next));
            assert_string_equal(step ? step : "", table[s][e].step);
        }
    /* Out of range: refused, not read past the tables. */
    int next;
    const char *step;
    assert_int_equal(approval_next(APPROVAL_NSTATES, APPROVAL_APPROVE, &next, &step), SAM_EINVAL);
    assert_int_equal(approval_next(P, APPROVAL_NEVENTS, &next, &step), SAM_EINVAL);
    assert_int_equal(approval_next(-1, 0, &next, &step), SAM_EINVAL);
}

static void names(void **state)
{
    (void)state;
    for(int s = 0; s < APPROVAL_NSTATES; s++)
        assert_int_equal(approval_state_parse(approval_state_name(s)), s);
    for(int m = 0; m < APPROVAL_NMODES; m++)
        assert_int_equal(approval_mode_parse(approval_mode_name(m)), m);
    assert_int_equal(approval_state_parse(""), APPROVAL_NONE);
    assert_int_equal(approval_state_parse(NULL), APPROVAL_NONE);
    assert_int_equal(approval_state_parse("Pending"), -1);
    assert_int_equal(approval_mode_parse(""), APPROVAL_OFF);
    assert_int_equal(approval_mode_parse("editors"), -1);
    assert_string_equal(approval_state_name(99), "?");
    assert_string_equal(approval_mode_name(-1), "?");
}

static void who(void **state)
{
    /* mode, role -> needs approval, approves, writes posts */
    static const struct {
        const char *mode, *role;
        int needs, approves, writes;
    } cases[] = {
        {"off", "owner", 0, 1, 1},
        {"off", "editor", 0, 0, 1},
        {"off", "agent", 0, 0, 0},
        {"off", "viewer", 0, 0, 0},
        {"agents", "owner", 0, 1, 1},
        {"agents", "editor", 0, 1, 1},
        {"agents", "agent", 1, 0, 1},
        {"agents", "viewer", 0, 0, 0},
        {"editors_and_agents", "owner", 0, 1, 1},
        {"editors_and_agents", "editor", 1, 0, 1},
        {"editors_and_agents", "agent", 1, 0, 1},
        {"editors_and_agents", "viewer", 0, 0, 0},
        {"", "agent", 0, 0, 0},
        {"agents", "admin", 0, 0, 0},
        {"agents", NULL, 0, 0, 0},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *m = cases[i].mode, *r = cases[i].role;
        if(approval_needed(m, r) != cases[i].needs || approval_can_approve(m, r) != cases[i].approves ||
           approval_can_write(m, r) != cases[i].writes)
            fail_msg("%s/%s: needs %d approves %d writes %d", m, r ? r : "(null)", approval_needed(m, r),
                     approval_can_approve(m, r), approval_can_write(m, r));
        /* Nobody both needs approval and approves: an approver's own posts never wait. */
        assert_false(cases[i].needs && cases[i].approves);
        if(!r || !core_role_valid(r))
            continue;
        unsigned perms = core_member_perms(r, m);
        assert_int_equal(!!(perms & PERM_POSTS_WRITE), cases[i].writes);
        assert_int_equal(!!(perms & PERM_POSTS_APPROVE), cases[i].approves);
        /* The setting changes nothing else a role may do. */
        assert_int_equal(perms & ~(PERM_POSTS_WRITE | PERM_POSTS_APPROVE),
                         core_role_perms(r) & ~(PERM_POSTS_WRITE | PERM_POSTS_APPROVE));
    }
}

static void late(void **state)
{
    const int64_t now = INT64_C(1780000000);
    (void)state;
    assert_false(approval_late(now + 60, now));
    assert_false(approval_late(now, now));
    assert_false(approval_late(now - APPROVAL_LATE_SECONDS, now)); /* an hour: still at once */
    assert_true(approval_late(now - APPROVAL_LATE_SECONDS - 1, now));
    assert_true(approval_late(0, now));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_machine),
        cmocka_unit_test(names),
        cmocka_unit_test(who),
        cmocka_unit_test(late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
