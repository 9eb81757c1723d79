/*
 * metrics.c: Prometheus metrics in the text exposition format: requests by route, method
 * and status, a latency histogram by route, database figures, the mail outbox by state,
 * and process figures.
 * Counters are updated under one mutex (a few adds per request).
 */
#include "web/web.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NB (sizeof(bounds) / sizeof(bounds[0]))
static const int statuses[] = {200, 201, 204, 303, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 501, 502,
                                503, 504};
#define NS (sizeof(statuses) / sizeof(statuses[0]))

/* One slot per route of the table, then one for requests no route took (404, 413 before
 * routing) and one for the dashboard's assets; made on first use, as many as routes.c has. */
struct route_slot {
    unsigned long long counts[NS + 1]; /* last column: other statuses */
    unsigned long long buckets[NB];
    unsigned long long observations;
    double sum;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct route_slot *slots;   /* web_nroutes + 2 of them, under mu */
#define SLOT_NONE ((int)web_nroutes)
#define SLOT_ASSETS ((int)web_nroutes + 1)
#define NSLOTS ((int)web_nroutes + 2)

/* Under mu: the slots, made on first use (NULL when out of memory: nothing is counted). */
static struct route_slot *slots_ready(void)
{
    if(!slots)
        slots = calloc((size_t)NSLOTS, sizeof(*slots));
    return slots;
}

static int slot_of(int route)
{
    if(route >= 0 && route < (int)web_nroutes)
        return route;
    return route == -2 ? SLOT_ASSETS : SLOT_NONE;
}

void metrics_observe(int route, const char *method, int status, double seconds)
{
    int s = slot_of(route);
    size_t k;
    for(k = 0; k < NS; k++)
        if(statuses[k] == status)
            break;
    pthread_mutex_lock(&mu);
    if(slots_ready()) {
        struct route_slot *x = &slots[s];
        x->counts[k]++;
        for(size_t b = 0; b < NB; b++)
            if(seconds <= bounds[b])
                x->buckets[b]++;
        x->observations++;
        x->sum += seconds;
    }
    pthread_mutex_unlock(&mu);
    (void)method;
}

static void route_labels(int s, char *out, size_t n)
{
    if(s < (int)web_nroutes)
        snprintf(out, n, "method=\"%s\",route=\"%s\"", web_routes[s].method, web_routes[s].pattern);
    else if(s == SLOT_ASSETS)
        snprintf(out, n, "method=\"GET\",route=\"/assets\"");
    else
        snprintf(out, n, "method=\"\",route=\"none\"");
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if(!f)
        return 0;
    if(fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

int metrics_render(struct core *core, struct buf *b)
{
    struct store_stats st;
    char labels[256];
    int rc = SAM_OK;

    rc |= buf_puts(b, "# HELP samtale_http_requests_total HTTP requests answered, by route and status.\n"
                      "# TYPE samtale_http_requests_total counter\n");
    pthread_mutex_lock(&mu);
    for(int s = 0; slots_ready() && s < NSLOTS; s++) {
        route_labels(s, labels, sizeof(labels));
        for(size_t k = 0; k <= NS; k++) {
            if(!slots[s].counts[k])
                continue;
            if(k < NS)
                rc |= buf_printf(b, "samtale_http_requests_total{%s,status=\"%d\"} %llu\n", labels, statuses[k],
                                 slots[s].counts[k]);
            else
                rc |= buf_printf(b, "samtale_http_requests_total{%s,status=\"other\"} %llu\n", labels,
                                 slots[s].counts[k]);
        }
    }
    rc |= buf_puts(b, "# HELP samtale_http_request_duration_seconds Time to answer HTTP requests.\n"
                      "# TYPE samtale_http_request_duration_seconds histogram\n");
    for(int s = 0; slots_ready() && s < NSLOTS; s++) {
        if(!slots[s].observations)
            continue;
        route_labels(s, labels, sizeof(labels));
        for(size_t i = 0; i < NB; i++)
            rc |= buf_printf(b, "samtale_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", labels,
                             bounds[i], slots[s].buckets[i]);
        rc |= buf_printf(b, "samtale_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", labels,
                         slots[s].observations);
        rc |= buf_printf(b, "samtale_http_request_duration_seconds_sum{%s} %.6f\n", labels, slots[s].sum);
        rc |= buf_printf(b, "samtale_http_request_duration_seconds_count{%s} %llu\n", labels,
                         slots[s].observations);
    }
    pthread_mutex_unlock(&mu);

    if(!store_stats(core->st, &st)) {
        rc |= buf_printf(b,
                         "# HELP samtale_db_schema_version Version of the database schema.\n"
                         "# TYPE samtale_db_schema_version gauge\nsamtale_db_schema_version %d\n"
                         "# HELP samtale_db_size_bytes Size of the database file.\n"
                         "# TYPE samtale_db_size_bytes gauge\nsamtale_db_size_bytes %lld\n"
                         "# HELP samtale_db_free_bytes Unused space inside the database file.\n"
                         "# TYPE samtale_db_free_bytes gauge\nsamtale_db_free_bytes %lld\n"
                         "# HELP samtale_db_rows Rows in the main tables.\n"
                         "# TYPE samtale_db_rows gauge\n"
                         "samtale_db_rows{table=\"workspaces\"} %lld\n"
                         "samtale_db_rows{table=\"users\"} %lld\n"
                         "samtale_db_rows{table=\"channels\"} %lld\n"
                         "samtale_db_rows{table=\"sessions\"} %lld\n"
                         "samtale_db_rows{table=\"api_tokens\"} %lld\n",
                         st.schema_version, (long long)st.db_bytes, (long long)st.free_bytes,
                         (long long)st.workspaces, (long long)st.users, (long long)st.channels,
                         (long long)st.sessions, (long long)st.tokens);
    }
    {
        static const char *const states[STORE_MAIL_NSTATES] = {"queued", "sending", "sent", "failed"};
        int64_t mail[STORE_MAIL_NSTATES];
        if(!store_mail_counts(core->st, mail)) {
            rc |= buf_puts(b, "# HELP samtale_mail_outbox Messages in the mail outbox, by state.\n"
                              "# TYPE samtale_mail_outbox gauge\n");
            for(int i = 0; i < STORE_MAIL_NSTATES; i++)
                rc |= buf_printf(b, "samtale_mail_outbox{state=\"%s\"} %lld\n", states[i], (long long)mail[i]);
        }
    }
    rc |= buf_printf(b,
                     "# HELP samtale_process_resident_memory_bytes Resident memory of this process.\n"
                     "# TYPE samtale_process_resident_memory_bytes gauge\n"
                     "samtale_process_resident_memory_bytes %ld\n"
                     "# HELP samtale_build_info Version of samtale.\n"
                     "# TYPE samtale_build_info gauge\nsamtale_build_info{version=\"%s\"} 1\n",
                     resident_bytes(), SAMTALE_VERSION);
    return rc ? SAM_ENOMEM : SAM_OK;
}
