/*
 * pool.h: the bounded worker pool that runs the requests which reach a network (route
 * flag ROUTE_NET), so that no HTTP thread ever waits on a network. Internal to web/.
 *
 * A job is submitted by an HTTP thread after the request was routed, authenticated and
 * parsed, and after its connection was suspended; a worker thread runs it. Whatever
 * happens, the job's `ready` function is called exactly once, and then the connection is
 * resumed by it to send the answer:
 *
 *   WEB_JOB_DONE     the work finished (from the worker, after `run` returned);
 *   WEB_JOB_LATE     the deadline passed first (from the pool's watch thread); the work,
 *                    when it had started, runs on and its result is dropped;
 *   WEB_JOB_STOPPED  the pool is stopping (from the thread that calls web_pool_stop).
 *
 * Limits, checked at submission: at most `queue` jobs wait for a worker (else
 * WEB_POOL_FULL), and at most `per_workspace` jobs of one workspace wait or run at once
 * (else WEB_POOL_WORKSPACE; workspace 0, the public routes, is one workspace for this).
 *
 * Ownership: a job has two holders, the connection (released by web_job_release, from
 * the completed callback) and the pool (released when `run` returned, or when a job that
 * never started is dropped). The last to let go calls `free_arg`, exactly once.
 */
#ifndef SAM_WEB_POOL_H
#define SAM_WEB_POOL_H

#include <stdint.h>

struct web_pool;
struct web_job;

enum web_job_end { WEB_JOB_DONE = 1, WEB_JOB_LATE, WEB_JOB_STOPPED };
enum web_pool_refusal { WEB_POOL_OK = 0, WEB_POOL_FULL, WEB_POOL_WORKSPACE, WEB_POOL_STOPPING };

struct web_pool_options {
    unsigned workers;         /* threads that run jobs, 1.. */
    unsigned queue;           /* jobs that may wait for a worker, 1.. */
    unsigned per_workspace;   /* jobs of one workspace waiting or running, 1.. */
    long deadline_ms;         /* from submission to the answer */
};

struct web_job_ops {
    void (*run)(void *arg);                          /* the work, in a worker thread */
    void (*ready)(void *arg, enum web_job_end how);  /* exactly once per job; must not block */
    void (*free_arg)(void *arg);                     /* after both holders let go */
};

/* Starts the workers and the watch thread. *out is stopped by web_pool_stop and freed by
 * web_pool_free. SAM_ENOMEM, or SAM_EINTERNAL when a thread cannot start. */
int web_pool_new(const struct web_pool_options *o, struct web_pool **out);

/* Queues arg's work for workspace ws. WEB_POOL_OK with *job set (the caller holds the
 * connection's share of it), or the refusal: then nothing was queued, arg is still the
 * caller's and no callback will be called for it. ops must outlive the job. */
enum web_pool_refusal web_pool_submit(struct web_pool *p, int64_t ws, const struct web_job_ops *ops, void *arg,
                                      struct web_job **job);

/* The connection lets go of its share (after the answer went out or the client left). */
void web_job_release(struct web_job *job);

/* Refuses new jobs and ends every waiting or running one with WEB_JOB_STOPPED. Returns at
 * once; work in progress runs on until web_pool_free. */
void web_pool_stop(struct web_pool *p);

/* Waits until every connection let go of its jobs, at most timeout_ms; 1 when they all
 * did. */
int web_pool_wait_released(struct web_pool *p, long timeout_ms);

/* How many jobs wait for a worker, and how many a worker runs now (for /metrics). */
void web_pool_stats(struct web_pool *p, unsigned *waiting, unsigned *running);

/* Stops (if not yet), waits for the work in progress (bounded by its own network time
 * limits) and frees the pool. Every connection must have let go first. NULL is allowed. */
void web_pool_free(struct web_pool *p);

#endif
