/*
 * publisher.h: the loop inside `samtale serve` that publishes due occurrences (P10, P11).
 *
 * Exactly once, across crashes: an occurrence is claimed with a lease in one write (the
 * intent) before its channel is called with the occurrence's idempotency key, and the
 * outcome is recorded after; an occurrence whose process died in flight is claimed again
 * and published with the same key, which the channel turns into the same post (see
 * channel.h). Transient failures (timeouts, 5xx, 429) wait and retry with exponential
 * backoff and jitter, or as long as the peer said (Retry-After); permanent ones mark the
 * occurrence failed with the channel's message.
 */
#ifndef SAM_PUBLISHER_H
#define SAM_PUBLISHER_H

#include "core/core.h"

struct publisher_options {
    int workers;          /* threads, each publishing one occurrence at a time (default 4) */
    int lease_seconds;    /* how long a claim holds before another worker may take over (60) */
    long timeout_ms;      /* per channel call (15000) */
    int max_attempts;     /* transient failures before giving up (10) */
    int backoff_s;        /* first retry waits about this long, doubling after (10) */
    const char *file_dir; /* base folder of file channels */
    /* Engagement counts are fetched this many seconds after publishing (M6), on channels
     * that count; none when ncheckpoints is 0. */
    int64_t checkpoints[8];
    size_t ncheckpoints;
};

struct publisher;

int publisher_start(struct core *c, const struct publisher_options *o, struct publisher **out);
/* Wakes the workers now (something was scheduled for now). NULL is allowed. */
void publisher_kick(struct publisher *p);
/* Stops taking new work, lets calls in flight finish, joins the threads. NULL is allowed. */
void publisher_stop(struct publisher *p);

/* Publishes everything due at `now` in this thread (for tests and tools); *done gets how
 * many occurrences were attempted. */
int publisher_run_once(struct core *c, const struct publisher_options *o, const char *owner, int64_t now,
                       int *done);

/* The wait before retry number `attempt` (1-based): base seconds doubling, at most an
 * hour, times a random factor in [0.5, 1.5) so that retries do not arrive together. */
int publisher_backoff(int base, int attempt);

#endif
