/* test_web.c: web/: the one table from error codes to HTTP statuses, the route table's
 * shape (unique routes, workspace routes carry a permission, the routes that reach a
 * network run on the pool), and the worker pool: its limits, its deadline, stopping, and
 * that every job is answered once and freed once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/err.h"
#include "web/pool.h"
#include "web/web.h"

static void status_table(void **state)
{
    static const struct {
        int rc;
        const char *field;
        int status;
        const char *code;
    } cases[] = {
        {SAM_EINVAL, "name", 422, "validation_failed"},
        {SAM_EBADREQ, NULL, 400, "bad_request"},
        {SAM_ENOTFOUND, NULL, 404, "not_found"},
        {SAM_ECONFLICT, "name", 409, "conflict"},
        {SAM_EAUTH, NULL, 401, "unauthorized"},
        {SAM_EPERM, NULL, 403, "forbidden"},
        {SAM_EPERM, "second_factor", 403, "second_factor_required"},
        {SAM_ETOOBIG, NULL, 413, "payload_too_large"},
        {SAM_ETOOBIG, "settings", 422, "validation_failed"},
        {SAM_ERATE, NULL, 429, "rate_limited"},
        {SAM_EUNSUPPORTED, NULL, 501, "not_implemented"},
        {SAM_ESTORE, NULL, 500, "internal"},
        {SAM_ENOMEM, NULL, 500, "internal"},
        {SAM_EIO, NULL, 502, "peer_unavailable"},
        {SAM_EINTERNAL, NULL, 500, "internal"},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *code = NULL;
        assert_int_equal(web_status_for(cases[i].rc, cases[i].field, &code), cases[i].status);
        assert_string_equal(code, cases[i].code);
    }
}

static void route_table(void **state)
{
    struct buf b;
    (void)state;
    assert_true(web_nroutes > 20);
    for(size_t i = 0; i < web_nroutes; i++) {
        const struct web_route *r = &web_routes[i];
        assert_int_equal(r->pattern[0], '/');
        assert_non_null(r->fn);
        /* Anything inside a workspace asks for a permission there. */
        if(strstr(r->pattern, "{wid}"))
            assert_true(r->perm != 0);
        /* Only the operations endpoints, login and the secret-bearing links (calendar
         * token, OAuth state, invitation link) are public. */
        if(r->flags & ROUTE_PUBLIC)
            assert_true(!strncmp(r->pattern, "/healthz", 8) || !strncmp(r->pattern, "/readyz", 7) ||
                        !strncmp(r->pattern, "/metrics", 8) || !strcmp(r->pattern, "/api/v1/auth/login") ||
                        !strcmp(r->pattern, "/ical/{token}") || !strcmp(r->pattern, "/api/v1/auth/second-factor") ||
                        !strcmp(r->pattern, "/api/v1/invitations/{token}") ||
                        !strcmp(r->pattern, "/api/v1/invitations/{token}/accept") ||
                        !strcmp(r->pattern, "/api/v1/oauth/mastodon/callback"));
        for(size_t j = 0; j < i; j++)
            assert_false(!strcmp(r->method, web_routes[j].method) && !strcmp(r->pattern, web_routes[j].pattern));
    }
    /* Exactly the handlers that may wait on a network run on the pool, and the image
     * upload, whose decoding must not hold an HTTP thread (P16). */
    {
        static const char *const net[] = {
            "POST /api/v1/workspaces/{wid}/channels",
            "PATCH /api/v1/workspaces/{wid}/channels/{cid}",
            "POST /api/v1/workspaces/{wid}/channels/{cid}/read",
            "POST /api/v1/workspaces/{wid}/channels/connect/mastodon",
            "POST /api/v1/workspaces/{wid}/channels/connect/mastodon/finish",
            "POST /api/v1/workspaces/{wid}/channels/discover",
            "POST /api/v1/workspaces/{wid}/posts/{pid}/engagement",
            "POST /api/v1/workspaces/{wid}/preview",
            "GET /api/v1/oauth/mastodon/callback",
            "POST /api/v1/workspaces/{wid}/media",
        };
        size_t found = 0;
        for(size_t i = 0; i < web_nroutes; i++) {
            char name[200];
            int listed = 0;
            snprintf(name, sizeof(name), "%s %s", web_routes[i].method, web_routes[i].pattern);
            for(size_t k = 0; k < sizeof(net) / sizeof(net[0]); k++)
                listed |= !strcmp(name, net[k]);
            if(!!(web_routes[i].flags & ROUTE_NET) != listed)
                fail_msg("%s: ROUTE_NET is %s", name, listed ? "missing" : "unexpected");
            found += (size_t)listed;
        }
        assert_int_equal(found, sizeof(net) / sizeof(net[0]));
    }
    buf_init(&b, 1 << 16);
    assert_int_equal(web_routes_list(&b), SAM_OK);
    assert_non_null(strstr(buf_str(&b), "GET /api/v1/workspaces/{wid}/channels\n"));
    buf_cleanup(&b);
}

/* ---- the worker pool ---- */

/* A job whose work waits until the test opens the gate; counts are read under tmu. */
struct tjob {
    int started, ran, ready, freed;
    enum web_job_end how;
};

static pthread_mutex_t tmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tcv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void t_run(void *arg)
{
    struct tjob *j = arg;
    pthread_mutex_lock(&tmu);
    j->started++;
    pthread_cond_broadcast(&tcv);
    while(!gate_open)
        pthread_cond_wait(&tcv, &tmu);
    j->ran++;
    pthread_mutex_unlock(&tmu);
}

static void t_ready(void *arg, enum web_job_end how)
{
    struct tjob *j = arg;
    pthread_mutex_lock(&tmu);
    j->ready++;
    j->how = how;
    pthread_cond_broadcast(&tcv);
    pthread_mutex_unlock(&tmu);
}

static void t_free(void *arg)
{
    struct tjob *j = arg;
    pthread_mutex_lock(&tmu);
    j->freed++;
    pthread_cond_broadcast(&tcv);
    pthread_mutex_unlock(&tmu);
}

static const struct web_job_ops tops = {t_run, t_ready, t_free};

/* Waits (at most 10 s) until *counter reaches want; 1 when it did. */
static int wait_count(const int *counter, int want)
{
    struct timespec until;
    int ok;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&tmu);
    while(*counter < want && !pthread_cond_timedwait(&tcv, &tmu, &until))
        ;
    ok = *counter >= want;
    pthread_mutex_unlock(&tmu);
    return ok;
}

static void set_gate(int open)
{
    pthread_mutex_lock(&tmu);
    gate_open = open;
    pthread_cond_broadcast(&tcv);
    pthread_mutex_unlock(&tmu);
}

static void pool_limits(void **state)
{
    struct web_pool_options o = {.workers = 1, .queue = 1, .per_workspace = 2, .deadline_ms = 600000};
    struct web_pool *p = NULL;
    struct tjob a = {0}, b = {0}, c = {0}, d = {0};
    struct web_job *ja, *jb, *jc, *jd;
    unsigned waiting, running;
    (void)state;
    set_gate(0);
    assert_int_equal(web_pool_new(&o, &p), SAM_OK);
    assert_int_equal(web_pool_submit(p, 1, &tops, &a, &ja), WEB_POOL_OK);
    assert_true(wait_count(&a.started, 1));
    assert_int_equal(web_pool_submit(p, 1, &tops, &b, &jb), WEB_POOL_OK);
    web_pool_stats(p, &waiting, &running);
    assert_int_equal(waiting, 1);
    assert_int_equal(running, 1);
    /* workspace 1 has 2 waiting or running; the queue (1) is full for workspace 2 */
    assert_int_equal(web_pool_submit(p, 1, &tops, &c, &jc), WEB_POOL_WORKSPACE);
    assert_null(jc);
    assert_int_equal(web_pool_submit(p, 2, &tops, &d, &jd), WEB_POOL_FULL);
    assert_null(jd);
    set_gate(1);
    assert_true(wait_count(&a.ready, 1));
    assert_true(wait_count(&b.ready, 1));
    assert_int_equal(a.how, WEB_JOB_DONE);
    assert_int_equal(b.how, WEB_JOB_DONE);
    /* the worker let go; the connections still hold the jobs */
    assert_int_equal(a.freed + b.freed, 0);
    web_job_release(ja);
    web_job_release(jb);
    assert_int_equal(a.freed, 1);
    assert_int_equal(b.freed, 1);
    assert_true(web_pool_wait_released(p, 1000));
    /* room again, for both workspaces */
    assert_int_equal(web_pool_submit(p, 2, &tops, &d, &jd), WEB_POOL_OK);
    assert_true(wait_count(&d.ready, 1));
    web_job_release(jd);
    web_pool_free(p);
    assert_int_equal(a.ready + b.ready + d.ready, 3);
    assert_int_equal(c.started + c.ready + c.freed, 0);
    assert_int_equal(d.freed, 1);
}

static void pool_deadline(void **state)
{
    struct web_pool_options o = {.workers = 1, .queue = 4, .per_workspace = 4, .deadline_ms = 200};
    struct web_pool *p = NULL;
    struct tjob a = {0}, b = {0};
    struct web_job *ja, *jb;
    (void)state;
    set_gate(0);
    assert_int_equal(web_pool_new(&o, &p), SAM_OK);
    assert_int_equal(web_pool_submit(p, 7, &tops, &a, &ja), WEB_POOL_OK);
    assert_true(wait_count(&a.started, 1));
    assert_int_equal(web_pool_submit(p, 7, &tops, &b, &jb), WEB_POOL_OK);
    /* both pass the deadline: the running one and the one that waits */
    assert_true(wait_count(&a.ready, 1));
    assert_true(wait_count(&b.ready, 1));
    assert_int_equal(a.how, WEB_JOB_LATE);
    assert_int_equal(b.how, WEB_JOB_LATE);
    /* the answer went out and the client left: the waiting one is gone for good, the
     * running one is freed when its work ends */
    web_job_release(jb);
    assert_int_equal(b.freed, 1);
    web_job_release(ja);
    assert_int_equal(a.freed, 0);
    set_gate(1);
    assert_true(wait_count(&a.freed, 1));
    web_pool_free(p);
    assert_int_equal(a.ready, 1);
    assert_int_equal(a.ran, 1);
    assert_int_equal(b.started, 0);
    assert_int_equal(a.freed + b.freed, 2);
}

static void pool_stop(void **state)
{
    struct web_pool_options o = {.workers = 1, .queue = 4, .per_workspace = 4, .deadline_ms = 600000};
    struct web_pool *p = NULL;
    struct tjob a = {0}, b = {0}, c = {0};
    struct web_job *ja, *jb, *jc;
    (void)state;
    set_gate(0);
    assert_int_equal(web_pool_new(&o, &p), SAM_OK);
    assert_int_equal(web_pool_submit(p, 0, &tops, &a, &ja), WEB_POOL_OK);
    assert_true(wait_count(&a.started, 1));
    assert_int_equal(web_pool_submit(p, 0, &tops, &b, &jb), WEB_POOL_OK);
    web_pool_stop(p);
    /* answered at once, the running one too */
    assert_int_equal(a.ready, 1);
    assert_int_equal(b.ready, 1);
    assert_int_equal(a.how, WEB_JOB_STOPPED);
    assert_int_equal(b.how, WEB_JOB_STOPPED);
    assert_int_equal(web_pool_submit(p, 0, &tops, &c, &jc), WEB_POOL_STOPPING);
    assert_false(web_pool_wait_released(p, 10));
    web_job_release(ja);
    web_job_release(jb);
    assert_true(web_pool_wait_released(p, 1000));
    set_gate(1);
    web_pool_free(p);       /* waits for the running work */
    assert_int_equal(a.ran, 1);
    assert_int_equal(b.started, 0);
    assert_int_equal(a.freed, 1);
    assert_int_equal(b.freed, 1);
    assert_int_equal(a.ready + b.ready, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_table),
        cmocka_unit_test(route_table),
        cmocka_unit_test(pool_limits),
        cmocka_unit_test(pool_deadline),
        cmocka_unit_test(pool_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
