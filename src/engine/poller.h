/*
 * poller.h: the loop inside `samtale serve` that reads what the networks bring in and
 * what they say of what was published:
 *
 *   - every poll interval, each active channel whose connector reads (fetch_inbound:
 *     Bluesky notifications, Mastodon mentions and direct conversations) is asked for
 *     what arrived after the channel's stored cursor; each message is stored once (the
 *     store keeps one per channel and remote id) and the cursor moves on only after the
 *     messages before it were stored, so a crash re-reads rather than loses;
 *   - engagement fetches that are due (M6: planned by the publisher at checkpoints after
 *     publishing, by default 1 hour, 24 hours and 7 days) are made and stored; a failed
 *     fetch is tried again a few times, then recorded with its error.
 *   - every few minutes (at most media_keep_unused_s apart), the images no post uses that
 *     were last uploaded longer ago than that are deleted (core_media_sweep, P16).
 *
 * A channel whose credentials are refused is marked 'reconnect' (chan_mark_reconnect):
 * the publisher holds its queue and the poller skips it until someone reconnects it.
 */
#ifndef SAM_POLLER_H
#define SAM_POLLER_H

#include "core/core.h"

#define POLLER_CHECKPOINTS_MAX 8

struct poller_options {
    int interval_s;            /* seconds between two readings of a channel (60) */
    long timeout_ms;           /* per network call */
    const char *file_dir;      /* base folder of file channels */
};

struct poller_stats {
    int channels;              /* channels read */
    int messages;              /* messages newly stored */
    int counts;                /* engagement fetches recorded */
    int failures;              /* channels or fetches that failed */
};

struct poller;

int poller_start(struct core *c, const struct poller_options *o, struct poller **out);
/* Reads now instead of at the next interval. NULL is allowed. */
void poller_kick(struct poller *p);
void poller_stop(struct poller *p);

/* One pass in this thread (for tests and tools): every channel of workspace ws (0: all)
 * and then the engagement fetches due at now; or, when channel is not 0, that channel's
 * reading only. */
int poller_run_once(struct core *c, const struct poller_options *o, int64_t ws, int64_t channel, int64_t now,
                    struct poller_stats *stats);

/* Fetches the counts of every published copy of a post now (on demand, kept as the
 * checkpoint 0 fetch, replaced by the next on-demand fetch); *fetched gets how many
 * copies were counted, *failed how many could not be. */
int poller_refresh_post(struct core *c, const struct poller_options *o, int64_t post, int *fetched, int *failed);

/* Parses a list of durations ("1h,24h,7d", also "30s", "15m", plain seconds) into
 * seconds, ascending, at most POLLER_CHECKPOINTS_MAX. SAM_EINVAL with a message. */
int poller_parse_checkpoints(const char *text, int64_t *out, size_t *n);

#endif
