/*
 * pool.c: the bounded worker pool for requests that reach a network (see pool.h).
 *
 * One mutex guards everything. A job is on the waiting queue (FIFO) until a worker takes
 * it, and on the list of unanswered jobs until its `ready` was called; since every job
 * gets the same time limit, that list, in submission order, is also in deadline order,
 * and the watch thread only ever looks at its head. Per-workspace counts live in a small
 * array: a workspace is in it while one of its jobs waits or runs, so it never holds more
 * than workers + queue entries. Callbacks are never called with the mutex held.
 */
#include "web/pool.h"
#include "util/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct web_job {
    struct web_pool *pool;
    const struct web_job_ops *ops;
    void *arg;
    int64_t ws;
    struct timespec deadline;       /* CLOCK_MONOTONIC */
    int holders;                    /* the connection and the pool: 2, then 1, then 0 */
    int started;                    /* a worker took it */
    int ended;                      /* ready was called (or is about to be) */
    struct web_job *qnext, *qprev;  /* the waiting queue */
    struct web_job *anext, *aprev;  /* unanswered jobs, in deadline order */
};

struct ws_count {
    int64_t ws;
    unsigned n;
};

struct web_pool {
    struct web_pool_options o;
    pthread_mutex_t mu;
    pthread_cond_t work;            /* a job waits, or freeing */
    pthread_cond_t watch;           /* the unanswered list changed, or freeing */
    pthread_cond_t released;        /* a connection let go */
    pthread_t *threads;
    unsigned nthreads;
    pthread_t watcher;
    int watcher_started;
    struct web_job *qhead, *qtail;
    unsigned queued;
    struct web_job *ahead, *atail;
    struct ws_count *counts;
    size_t ncounts, capcounts;
    unsigned running;               /* jobs a worker runs now */
    unsigned conn_holds;            /* jobs whose connection has not let go */
    int stopping, freeing;
};

/* ---- lists and counts (mutex held) ---- */

static void queue_push(struct web_pool *p, struct web_job *j)
{
    j->qnext = NULL;
    j->qprev = p->qtail;
    if(p->qtail)
        p->qtail->qnext = j;
    else
        p->qhead = j;
    p->qtail = j;
    p->queued++;
}

static void queue_remove(struct web_pool *p, struct web_job *j)
{
    if(j->qprev)
        j->qprev->qnext = j->qnext;
    else
        p->qhead = j->qnext;
    if(j->qnext)
        j->qnext->qprev = j->qprev;
    else
        p->qtail = j->qprev;
    j->qnext = j->qprev = NULL;
    p->queued--;
}

static void active_push(struct web_pool *p, struct web_job *j)
{
    j->anext = NULL;
    j->aprev = p->atail;
    if(p->atail)
        p->atail->anext = j;
    else
        p->ahead = j;
    p->atail = j;
}

static void active_remove(struct web_pool *p, struct web_job *j)
{
    if(j->aprev)
        j->aprev->anext = j->anext;
    else
        p->ahead = j->anext;
    if(j->anext)
        j->anext->aprev = j->aprev;
    else
        p->atail = j->aprev;
    j->anext = j->aprev = NULL;
}

static struct ws_count *ws_find(struct web_pool *p, int64_t ws)
{
    for(size_t i = 0; i < p->ncounts; i++)
        if(p->counts[i].ws == ws)
            return &p->counts[i];
    return NULL;
}

static void ws_dec(struct web_pool *p, int64_t ws)
{
    struct ws_count *c = ws_find(p, ws);
    if(!c)
        return;
    if(--c->n == 0)
        *c = p->counts[--p->ncounts];
}

/* Marks j answered and takes it off the lists; a job no worker took is dropped from the
 * queue, and the pool lets go of it (the connection still holds it: never the last). */
static void end_job(struct web_pool *p, struct web_job *j)
{
    j->ended = 1;
    active_remove(p, j);
    if(!j->started) {
        queue_remove(p, j);
        ws_dec(p, j->ws);
        j->holders--;
    }
}

static int before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Calls ready(how) for every job of the chain built through anext by the caller (mutex
 * not held). A job may be freed as soon as its ready returned. */
static void call_ready(struct web_job *chain, enum web_job_end how)
{
    while(chain) {
        struct web_job *next = chain->anext;
        const struct web_job_ops *ops = chain->ops;
        void *arg = chain->arg;
        chain->anext = NULL;
        ops->ready(arg, how);
        chain = next;
    }
}

/* ---- threads ---- */

static void *worker(void *arg)
{
    struct web_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for(;;) {
        struct web_job *j;
        const struct web_job_ops *ops;
        void *jarg;
        int answer, last;
        while(!p->qhead && !p->freeing)
            pthread_cond_wait(&p->work, &p->mu);
        if(!p->qhead)
            break;
        j = p->qhead;
        queue_remove(p, j);
        j->started = 1;
        p->running++;
        ops = j->ops;
        jarg = j->arg;
        pthread_mutex_unlock(&p->mu);

        ops->run(jarg);

        pthread_mutex_lock(&p->mu);
        p->running--;
        ws_dec(p, j->ws);
        answer = !j->ended;
        if(answer) {
            j->ended = 1;
            active_remove(p, j);
        }
        last = --j->holders == 0;
        pthread_mutex_unlock(&p->mu);
        /* While the answer is unsent the connection holds the job: never the last here. */
        if(answer)
            ops->ready(jarg, WEB_JOB_DONE);
        if(last) {
            ops->free_arg(jarg);
            free(j);
        }
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void *watcher(void *arg)
{
    struct web_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while(!p->freeing) {
        struct timespec now;
        struct web_job *late = NULL, **tail = &late;
        if(!p->ahead) {
            pthread_cond_wait(&p->watch, &p->mu);
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if(before(&now, &p->ahead->deadline)) {
            struct timespec until = p->ahead->deadline;
            pthread_cond_timedwait(&p->watch, &p->mu, &until);
            continue;
        }
        while(p->ahead && !before(&now, &p->ahead->deadline)) {
            struct web_job *j = p->ahead;
            end_job(p, j);
            *tail = j;
            tail = &j->anext;
        }
        pthread_mutex_unlock(&p->mu);
        call_ready(late, WEB_JOB_LATE);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the interface ---- */

int web_pool_new(const struct web_pool_options *o, struct web_pool **out)
{
    struct web_pool *p = calloc(1, sizeof(*p));
    pthread_condattr_t ca;
    int rc = SAM_OK;

    *out = NULL;
    if(!p)
        return SAM_ENOMEM;
    p->o = *o;
    if(p->o.workers < 1)
        p->o.workers = 1;
    if(p->o.per_workspace < 1)
        p->o.per_workspace = 1;
    p->capcounts = (size_t)p->o.workers + p->o.queue;
    p->counts = calloc(p->capcounts, sizeof(*p->counts));
    p->threads = calloc(p->o.workers, sizeof(*p->threads));
    if(!p->counts || !p->threads) {
        free(p->counts);
        free(p->threads);
        free(p);
        return SAM_ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->watch, &ca);
    pthread_cond_init(&p->released, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&p->work, NULL);
    for(; p->nthreads < p->o.workers; p->nthreads++)
        if(pthread_create(&p->threads[p->nthreads], NULL, worker, p)) {
            rc = sam_fail(SAM_EINTERNAL, "cannot start the threads that make network calls");
            break;
        }
    if(!rc && pthread_create(&p->watcher, NULL, watcher, p))
        rc = sam_fail(SAM_EINTERNAL, "cannot start the threads that make network calls");
    p->watcher_started = !rc;
    if(rc) {
        web_pool_free(p);
        return rc;
    }
    *out = p;
    return SAM_OK;
}

enum web_pool_refusal web_pool_submit(struct web_pool *p, int64_t ws, const struct web_job_ops *ops, void *arg,
                                      struct web_job **job)
{
    struct web_job *j;
    struct ws_count *c;
    enum web_pool_refusal why = WEB_POOL_OK;

    *job = NULL;
    j = calloc(1, sizeof(*j));
    pthread_mutex_lock(&p->mu);
    c = ws_find(p, ws);
    if(p->stopping)
        why = WEB_POOL_STOPPING;
    else if(c && c->n >= p->o.per_workspace)
        why = WEB_POOL_WORKSPACE;
    else if(p->queued >= p->o.queue || !j)
        why = WEB_POOL_FULL;
    if(why) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return why;
    }
    if(!c) {
        c = &p->counts[p->ncounts++];
        c->ws = ws;
        c->n = 0;
    }
    c->n++;
    j->pool = p;
    j->ops = ops;
    j->arg = arg;
    j->ws = ws;
    j->holders = 2;
    clock_gettime(CLOCK_MONOTONIC, &j->deadline);
    j->deadline.tv_sec += p->o.deadline_ms / 1000;
    j->deadline.tv_nsec += (p->o.deadline_ms % 1000) * 1000000L;
    if(j->deadline.tv_nsec >= 1000000000L) {
        j->deadline.tv_sec++;
        j->deadline.tv_nsec -= 1000000000L;
    }
    queue_push(p, j);
    active_push(p, j);
    p->conn_holds++;
    pthread_cond_signal(&p->work);
    if(p->ahead == j)
        pthread_cond_signal(&p->watch);
    pthread_mutex_unlock(&p->mu);
    *job = j;
    return WEB_POOL_OK;
}

void web_job_release(struct web_job *j)
{
    struct web_pool *p;
    int last;
    if(!j)
        return;
    p = j->pool;
    pthread_mutex_lock(&p->mu);
    last = --j->holders == 0;
    p->conn_holds--;
    pthread_cond_broadcast(&p->released);
    pthread_mutex_unlock(&p->mu);
    if(last) {
        j->ops->free_arg(j->arg);
        free(j);
    }
}

void web_pool_stop(struct web_pool *p)
{
    struct web_job *all = NULL, **tail = &all;
    if(!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    while(p->ahead) {
        struct web_job *j = p->ahead;
        end_job(p, j);
        *tail = j;
        tail = &j->anext;
    }
    pthread_mutex_unlock(&p->mu);
    call_ready(all, WEB_JOB_STOPPED);
}

int web_pool_wait_released(struct web_pool *p, long timeout_ms)
{
    struct timespec until;
    int done;
    if(!p)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if(until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while(p->conn_holds && !pthread_cond_timedwait(&p->released, &p->mu, &until))
        ;
    done = p->conn_holds == 0;
    pthread_mutex_unlock(&p->mu);
    return done;
}

void web_pool_stats(struct web_pool *p, unsigned *waiting, unsigned *running)
{
    *waiting = *running = 0;
    if(!p)
        return;
    pthread_mutex_lock(&p->mu);
    *waiting = p->queued;
    *running = p->running;
    pthread_mutex_unlock(&p->mu);
}

void web_pool_free(struct web_pool *p)
{
    if(!p)
        return;
    web_pool_stop(p);
    pthread_mutex_lock(&p->mu);
    p->freeing = 1;
    pthread_cond_broadcast(&p->work);
    pthread_cond_broadcast(&p->watch);
    pthread_mutex_unlock(&p->mu);
    for(unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    if(p->watcher_started)
        pthread_join(p->watcher, NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->watch);
    pthread_cond_destroy(&p->released);
    pthread_mutex_destroy(&p->mu);
    free(p->counts);
    free(p->threads);
    free(p);
}
