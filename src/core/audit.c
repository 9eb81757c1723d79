/* audit.c: the audit log: who did what to which object, and when. */
#include "core/core.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

void core_audit(struct core *c, const struct actor *a, int64_t ws, const char *action,
                const char *target, json_t *detail)
{
    struct store_audit e = {.workspace_id = ws, .at = time_now()};
    char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    snprintf(e.actor, sizeof(e.actor), "%s", a->label[0] ? a->label : (a->system ? "system" : "?"));
    snprintf(e.action, sizeof(e.action), "%s", action);
    snprintf(e.target, sizeof(e.target), "%s", target ? target : "");
    e.detail = text;
    if(store_audit_insert(c->st, &e))
        log_kv(LOG_ERROR, "audit write failed", "action", action, "error", sam_errmsg(SAM_ESTORE), NULL);
    free(text);
}
