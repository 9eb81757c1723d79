/*
 * post.h: posts and their occurrences (PRODUCT.md P2, P10): what a person writes, and
 * one delivery per channel at one instant. Scheduling places each occurrence at an
 * exact time, at the channel's next free slot (P1), or now; each occurrence gets an
 * idempotency key that never changes, so no retry can publish it twice.
 */
#ifndef SAM_POST_H
#define SAM_POST_H

#include "core/core.h"
#include "core/media.h"
#include "core/offer.h"
#include "util/buf.h"

enum post_schedule { POST_DRAFT = 0, POST_AT, POST_NEXT_SLOT, POST_NOW };

struct post_input {
    const char *text;            /* create: required; edit: NULL = unchanged */
    const char *link;            /* NULL = none / unchanged; "" removes it on edit */
    const char *category;        /* value (default), promo, personal, share, dialogue */
    const char *campaign;
    json_t *variants;            /* borrowed list of alternative texts (P3), or NULL */
    const int64_t *channels;     /* create: where to publish (ignored for drafts) */
    size_t nchannels;
    int schedule;                /* enum post_schedule */
    int64_t at;                  /* for POST_AT */
    const char *override_reason; /* skip blocking checks, audited */
    int64_t draft_id;            /* create: schedule this draft (its id stays) instead of a new post */
    const struct offer_input *offers; /* create: a channel-exclusive offer code per channel (P15) */
    size_t noffers;
    const struct media_input *media;  /* the post's images in order (P16); with media_set they */
    size_t nmedia;                    /* replace what a draft or an edited post had (none when */
    int media_set;                    /* nmedia is 0); without, those stay */
};

#define POST_TEXT_MAX 10000      /* characters of the text and of each variant */
#define POST_REASON_MAX 1000     /* characters of override_reason */
#define POST_VARIANTS_MAX 10
#define POST_CHANNELS_MAX 50

/* Validates and stores a post with one occurrence per channel. *occ (caller frees) gets
 * the occurrences, in the order of in->channels. The spam checks (P5-P8) run first;
 * *violations (when not NULL; a new reference, caller releases) gets what they found.
 * A blocking violation stops it with SAM_EINVAL, field "checks", unless
 * in->override_reason is given (then it goes ahead and the override is audited). */
/* With in->draft_id the draft is scheduled instead: text and the other content fields not
 * given (NULL) keep the draft's, the checks and placement are a new post's, and the post
 * keeps its id (SAM_ENOTFOUND for another workspace's, SAM_ECONFLICT when it is not a
 * draft). */
int core_post_create(struct core *c, const struct actor *a, int64_t ws, const struct post_input *in,
                     int64_t now, struct store_post *out, struct store_occurrence **occ, size_t *nocc,
                     json_t **violations);
/* The checks of a post's content that core_post_create makes first (text, link, category,
 * campaign, variants, override_reason: each that is given; text may be NULL), without
 * the store: SAM_EINVAL naming the field at fault. */
int core_post_validate(const struct post_input *in);
/* Runs the checks on a post that is not stored (what the composer shows as you type).
 * *violations: a JSON list of {"rule","severity","message","posts","channel_id","at"};
 * *blocked: 1 when any is a block. */
int core_post_check(struct core *c, int64_t ws, const struct post_input *in, int64_t now, json_t **violations,
                    int *blocked);
/* Checks the whole queue of a workspace from now on (P9). */
int core_queue_check(struct core *c, int64_t ws, int64_t now, json_t **violations);
/* Edits text, link, category, campaign or variants of a post that has not gone out.
 * SAM_ECONFLICT once an occurrence is published or in flight, or the post was cancelled.
 * The edited post faces the checks where its copies are planned (without its own earlier
 * version); a block stops it as in core_post_create unless in->override_reason is given.
 * *violations (when not NULL; a new reference, caller releases) gets what they found, also when a block stops it.
 * An edit by someone whose posts need approval sends a scheduled post back for approval
 * (P12, core/approval.h); an agent edits, moves or cancels only the posts they wrote (SAM_EPERM). */
int core_post_edit(struct core *c, const struct actor *a, int64_t ws, int64_t id, const struct post_input *in,
                   struct store_post *out, json_t **violations);
/* The checks an edit of post id would face (core_post_edit), without storing it: the
 * composer's live checks while a scheduled post is changed. Refuses what core_post_edit
 * refuses (SAM_ECONFLICT, SAM_ENOTFOUND, invalid content, SAM_EPERM for an agent and a post
 * it did not write). *violations and *blocked as core_post_check; a post with no scheduled
 * copy (a draft) gets an empty list. */
int core_post_check_edit(struct core *c, const struct actor *a, int64_t ws, int64_t id, const struct post_input *in,
                         json_t **violations, int *blocked);
int core_post_cancel(struct core *c, const struct actor *a, int64_t ws, int64_t id);
/* Moves a scheduled occurrence of workspace ws to `at` (from now to two years ahead), after
 * the checks at its new place (P5-P8; a block needs override_reason, audited); *out gets
 * it moved, *violations (when not NULL) what the checks found. */
int core_occurrence_move(struct core *c, const struct actor *a, int64_t ws, int64_t id, int64_t at,
                         const char *override_reason, int64_t now, struct store_occurrence *out,
                         json_t **violations);
/* Cancels one scheduled occurrence of workspace ws (one delivery: the post's other
 * deliveries, such as the other copies of a series, stay), audited; *out gets it
 * cancelled. SAM_ENOTFOUND for another workspace's, SAM_ECONFLICT once it is not
 * scheduled. */
int core_occurrence_cancel(struct core *c, const struct actor *a, int64_t ws, int64_t id,
                           struct store_occurrence *out);
/* A post of workspace ws (SAM_ENOTFOUND for another's). */
int core_post_get(struct core *c, int64_t ws, int64_t id, struct store_post *out);
/* What the checks (P5-P8) find where p's scheduled copies are planned (each channel at its
 * first copy), against the rest of the queue: what an approver reads before deciding (P12).
 * *violations: a new JSON list, as core_post_check gives. */
int core_post_findings(struct core *c, const struct store_post *p, int64_t now, json_t **violations);

/* A batch: many posts planned together and stored together, all or none (a file of posts
 * imported, core/csv.c). Each post added is validated, placed and checked exactly as
 * core_post_create would (the same functions), against the queue and against the posts
 * added to the batch before it: they count as planned already, so a later post's next
 * free slot skips theirs, and their copies are its neighbours in the checks (a
 * near-duplicate of an earlier row, the hour's cap reached by earlier rows). The findings
 * name them "the post on line N" and list their lines in "lines". Nothing is stored until
 * post_batch_store, which stores every post in one transaction. The batch holds the
 * installation's planning lock from open to free, so what it planned is still free when
 * it is stored. */
struct post_batch;
/* The id a post of the batch has in the checks until it is stored: base + its line. */
#define POST_BATCH_ID_BASE ((int64_t)1 << 62)
/* A batch for workspace ws, planned at `now`, made by actor a (borrowed; it must outlive
 * the batch); free with post_batch_free. */
int post_batch_open(struct core *c, const struct actor *a, int64_t ws, int64_t now, struct post_batch **out);
/* Plans in (line > 0: the line of the file it came from, unique in the batch; it names
 * the post in the findings of the posts after it) and adds it to the batch. An input
 * core_post_create would refuse is refused the same way (the message and field of
 * sam_fail), and not added. Otherwise *violations (a new reference) gets what the checks
 * found and *blocked is 1 when one of them blocks; the post is added either way. */
int post_batch_add(struct post_batch *b, const struct post_input *in, int64_t line, json_t **violations,
                   int *blocked);
/* What the import writes beside the posts (post_batch_store). */
struct post_batch_import {
    const char *key;      /* the client's id of the import, or NULL (no record is kept) */
    const char *digest;   /* BLAKE2b-256 of the file, hex */
    json_t *summary;      /* the detail of the one "post.import" audit entry (borrowed) */
};
/* Stores every post added, with its occurrences and its audit entry, the summary entry and
 * (with imp->key) the import's record, in one transaction: all of them or nothing. A post
 * whose checks blocked it needs override_reason (SAM_EINVAL, field "checks", without it);
 * it is kept on that post and its audit entry says so. SAM_ECONFLICT when the workspace
 * has an import under imp->key already. On success post_batch_id gives the ids. */
int post_batch_store(struct post_batch *b, const char *override_reason, const struct post_batch_import *imp);
/* How many posts were added, and the id of the i-th once stored (0 before). */
size_t post_batch_count(const struct post_batch *b);
/* How many of the stored posts wait for approval (P12): all that are not drafts when the
 * batch's actor's posts need approval, else none. */
size_t post_batch_pending(const struct post_batch *b);
int64_t post_batch_id(const struct post_batch *b, size_t i);
/* The copies planned for the i-th post (*n of them; none for a draft), valid while b is. */
const struct store_occurrence *post_batch_copies(const struct post_batch *b, size_t i, size_t *n);
void post_batch_free(struct post_batch *b);

/* An evergreen series (P3): the post, and the rule its copies follow on every channel. */
struct series_input {
    struct post_input post;  /* text, link, category, campaign, variants, channels */
    int per_day;             /* copies a day (default 3) */
    int gap_minutes;         /* at least this far apart (default 240) */
    int days;                /* for this many days ... */
    int64_t until;           /* ... or until this instant ... */
    int count;               /* ... or this many copies per channel (default: 7 days) */
    int replace_previous;    /* delete the previous copy when the next goes out (P4) */
    int64_t start;           /* first copy at or after (0: now) */
    int dry_run;             /* plan and check, store nothing */
};

#define SERIES_COPIES_MAX 1000 /* per channel */

/* Plans and stores a series; *occ (caller frees) gets every copy on every channel.
 * *plan (when not NULL; a new reference) gets one entry per channel: {"channel_id",
 * "asked","planned","first","last","message"?}, the message saying in words why fewer
 * copies fit than were asked; *violations (when not NULL) what the checks found. With
 * in->dry_run nothing is stored and a blocking check does not fail it (it is in
 * *violations). */
int core_series_create(struct core *c, const struct actor *a, int64_t ws, const struct series_input *in,
                       int64_t now, struct store_post *post, struct store_series *series,
                       struct store_occurrence **occ, size_t *nocc, json_t **plan, json_t **violations);
json_t *view_series(const struct store_series *s);

/* The text an occurrence publishes: variant 0 is the post's text, k its k-th variant
 * (rotating when there are fewer). New string; caller frees. */
char *core_post_text_for(const struct store_post *p, int variant);

/* The calendar feed (ical.c): a new secret token for workspace ws (written into token,
 * n >= 64; the old one stops working), and no feed at all. */
int core_ical_rotate(struct core *c, const struct actor *a, int64_t ws, char *token, size_t n);
int core_ical_disable(struct core *c, const struct actor *a, int64_t ws);
/* The feed for a token, read part by part: core_ical_open finds the workspace
 * (SAM_ENOTFOUND when no feed has that token) and gives *out, freed with core_ical_free;
 * each core_ical_next appends the next part to out and sets *done with the last one. */
struct core_ical;
int core_ical_open(struct core *c, const char *token, int64_t now, struct core_ical **out);
int core_ical_next(struct core_ical *it, struct buf *out, int *done);
void core_ical_free(struct core_ical *it);

json_t *view_post(const struct store_post *p);
/* For a scheduled occurrence not yet held by a cap: when its channel's caps let it go out
 * (an estimate, store_occurrence_expected); when that is later than it is due, adds
 * "waiting" {"reason","limit","message","until","expected":true} to its view j, so nothing
 * says "now" of a post that will wait. On a paused channel it is "waiting" {"reason":
 * "paused","message"} instead (core_occurrence_paused), whatever held it before. */
int core_occurrence_expect(struct core *c, const struct store_occurrence *o, int64_t now, json_t *j);
json_t *view_occurrence(const struct store_occurrence *o);
/* Marks the view j of a scheduled occurrence as held by its channel's pause: "waiting"
 * {"reason":"paused","message"} (in the request's language), without a time, since it
 * waits for a person; an "expected_at" goes. j may be NULL. */
void core_occurrence_paused(json_t *j);

#endif
