/*
 * checks.h: the rules that keep a queue from spamming (PRODUCT.md P5-P8), pure logic
 * over plain structs: no store, no clock, no I/O. The caller gathers the posts around a
 * candidate (the workspace's published and queued posts of the last days) and asks.
 *
 * Rule ids (stable; used in the API, the CLI, the dashboard and docs):
 *   P5  near-duplicate of a post on the same network in the window (names the post)
 *   P6  content mix: promo share over the channel's rolling window exceeds the preset
 *   P7a more than max_per_hour posts on a channel in any hour
 *   P7b more than max_per_day posts on a channel in any local day... (24 h window)
 *   P7c two promo posts on a channel closer than promo_gap_minutes
 *   P8a identical text to two networks within an hour (suggests a variant)
 *   P8b over the network's length limit (Bluesky 300 graphemes, Mastodon 500 characters):
 *       a warning when it goes out as a thread of numbered parts (text/thread.h), a block
 *       when even a thread of TEXT_THREAD_MAX parts cannot hold it
 * Severity: CHECK_WARN or CHECK_BLOCK; a block stops scheduling unless a member
 * overrides it with a reason (audited by the caller).
 */
#ifndef SAM_CHECKS_H
#define SAM_CHECKS_H

#include <stddef.h>
#include <stdint.h>

enum check_severity { CHECK_WARN = 1, CHECK_BLOCK = 2 };

#define CHECKS_BLUESKY_BYTES 3000 /* Bluesky's limit of a post's text in bytes, beside its graphemes */

struct check_post {
    int64_t id;             /* 0 for a candidate not stored yet */
    int64_t channel_id;
    const char *network;    /* channel kind: bluesky, mastodon, file, webhook */
    const char *text;       /* the text that goes out (the variant, for a series copy) */
    const char *category;   /* value, promo, personal, share, dialogue */
    int64_t at;             /* planned (queued) or published instant, Unix seconds */
    int published;          /* 1 published, 0 queued */
    int copy;               /* another copy of the candidate: the same post, on another channel */
    int64_t line;           /* > 0: a post not stored yet, planned from this line of a file
                             * being imported (core/csv.c); the messages name it by it */
};

struct check_policy {
    int max_per_hour;         /* default 2 */
    int max_per_day;          /* default 12 */
    int promo_gap_minutes;    /* default 180 */
    int mix_ratio;            /* value posts allowed per promo: 50 gentle, 10 balanced, 4 retail */
    int mix_window_days;      /* rolling window of the mix rule, default 30 */
    int dup_window_days;      /* default 7 */
    int dup_last_k;           /* compare with the last K visible posts of the channel, default 10 */
    int crosspost_minutes;    /* default 60 */
    int mastodon_limit;       /* characters, default 500 (instance-configurable) */
    int bluesky_limit;        /* graphemes, default 300 */
};

struct check_violation {
    char rule[8];             /* "P5", "P7a", ... */
    int severity;             /* enum check_severity */
    char message[512];        /* plain language: what, why it matters, what to do */
    int64_t posts[8];         /* the posts involved (ids; 0 = the candidate) */
    size_t nposts;
};

/* The default policy for a mix preset name ("gentle", "balanced", "retail"); NULL or an
 * unknown name gives "balanced". */
void checks_default_policy(struct check_policy *p, const char *preset);

/* Checks one candidate against the others (which may include the candidate's own
 * earlier copies). Writes at most max violations; *count gets how many were found
 * (may exceed max). */
int checks_candidate(const struct check_policy *p, const struct check_post *cand,
                     const struct check_post *others, size_t n, struct check_violation *out,
                     size_t max, size_t *count);

/* Checks a whole queue: every post against those before it, plus the window rules over
 * the set. Same output convention. */
int checks_queue(const struct check_policy *p, const struct check_post *posts, size_t n,
                 struct check_violation *out, size_t max, size_t *count);

/* Near-duplicate score of two texts in [0, 1] (1 = same after normalising), and the
 * threshold at or above which P5 flags them. */
double checks_similarity(const char *a, const char *b);
#define CHECKS_DUP_THRESHOLD 0.8

/* Length of text as the network counts it: graphemes for bluesky, characters for
 * mastodon (a URL counts as 23, as Mastodon does), bytes otherwise. -1 for invalid UTF-8. */
long checks_length(const char *network, const char *text);

#endif
