/*
 * notify.c: what samtale tells an account's owner by mail about their account: failed
 * logins on it.
 */
#include "core/core.h"
#include "util/err.h"

void core_login_failures_notify(struct core *c, const struct store_user *u, int failures, const char *addr,
                                int64_t now)
{
    (void)c;
    (void)u;
    (void)failures;
    (void)addr;
    (void)now;
    /* PENDING-MAIL: completed when the mail outbox lands. */
}
int core_mail_enqueue(struct core *c, const char *to, const char *subject, const char *text, const char *kind)
{
    (void)c; (void)to; (void)subject; (void)text; (void)kind;
    return sam_fail(SAM_EUNSUPPORTED, "TEMP-MERGE");
}
