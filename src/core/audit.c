/* audit.c: the audit log: who did what to which object, and when. */
#include "core/core.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void core_audit_entry(const struct actor *a, int64_t ws, const char *action, const char *target,
                      struct store_audit *e)
{
    memset(e, 0, sizeof(*e));
    e->workspace_id = ws;
    e->at = time_now();
    snprintf(e->actor, sizeof(e->actor), "%s", a->label[0] ? a->label : (a->system ? "system" : "?"));
    snprintf(e->action, sizeof(e->action), "%s", action);
    snprintf(e->target, sizeof(e->target), "%s", target ? target : "");
}

void core_audit(struct core *c, const struct actor *a, int64_t ws, const char *action,
                const char *target, json_t *detail)
{
    struct store_audit e;
    char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    core_audit_entry(a, ws, action, target, &e);
    e.detail = text;
    if(store_audit_insert(c->st, &e))
        log_kv(LOG_ERROR, "audit write failed", "action", action, "error", sam_errmsg(SAM_ESTORE), NULL);
    free(text);
}
