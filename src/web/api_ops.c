/*
 * api_ops.c: the operations endpoints: /healthz, /readyz, /metrics.
 */
#include "web/api.h"
#include "util/i18n.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

/* ---- operations ---- */

int api_healthz(struct web_request *r, struct web_reply *out)
{
    (void)r;
    return api_reply(out, 200, json_pack("{s:s}", "status", "ok"));
}

int api_readyz(struct web_request *r, struct web_reply *out)
{
    int v = 0;
    if(store_ping(r->core->st) || store_schema_version(r->core->st, &v) || v == 0)
        return api_reply(out, 503, json_pack("{s:{s:s, s:s}}", "error", "code", "unavailable", "message",
                                         _("the database cannot be used; see the server log")));
    return api_reply(out, 200, json_pack("{s:s, s:i}", "status", "ready", "schema_version", v));
}

int api_metrics(struct web_request *r, struct web_reply *out)
{
    const char *want = web_metrics_token(r->web);
    unsigned waiting, running;
    int rc;
    if(want[0]) {
        /* metrics_token set: only a scraper that knows it may read. */
        const char *authz = r->authorization;
        size_t n = strlen(want);
        if(!authz || strncasecmp(authz, "Bearer ", 7) || strlen(authz + 7) != n ||
           sodium_memcmp(authz + 7, want, n)) {
            out->content_type = NULL;
            return sam_fail(SAM_EAUTH, "send 'Authorization: Bearer' with the metrics_token of samtale.conf");
        }
    }
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    rc = metrics_render(r->core, &out->raw);
    if(rc)
        return rc;
    web_net_stats(r->web, &waiting, &running);
    return buf_printf(&out->raw,
                      "# HELP samtale_net_requests_waiting Requests that wait on a network, queued for a worker.\n"
                      "# TYPE samtale_net_requests_waiting gauge\n"
                      "samtale_net_requests_waiting %u\n"
                      "# HELP samtale_net_requests_running Requests that wait on a network, running on a worker.\n"
                      "# TYPE samtale_net_requests_running gauge\n"
                      "samtale_net_requests_running %u\n"
                      "# HELP samtale_channel_read_passes_total Passes this process made over the channels' mentions"
                      " and messages.\n"
                      "# TYPE samtale_channel_read_passes_total counter\n"
                      "samtale_channel_read_passes_total %lu\n"
                      "# HELP samtale_publisher_passes_total Passes this process's publisher made over the due"
                      " occurrences.\n"
                      "# TYPE samtale_publisher_passes_total counter\n"
                      "samtale_publisher_passes_total %lu\n"
                      "# HELP samtale_http_large_bodies Requests holding one of the few places for a body past"
                      " max_body (an image upload, a CSV import).\n"
                      "# TYPE samtale_http_large_bodies gauge\n"
                      "samtale_http_large_bodies %u\n",
                      waiting, running, atomic_load(&r->core->read_passes), atomic_load(&r->core->publish_passes),
                      web_large_bodies(r->web));
}
