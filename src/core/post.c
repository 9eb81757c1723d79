/*
 * post.c: posts and occurrences (see post.h). The rules that decide whether a post may
 * be scheduled at all (spam checks, P5-P9) live in checks.c and are applied by the
 * caller before core_post_create; this file keeps the data right.
 */
#include "core/post.h"
#include "core/approval.h"
#include "core/checks.h"
#include "core/plan.h"
#include "core/series.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The network a channel posts to, for the checks: Bluesky and Mastodon are networks; a
 * file or a webhook is not (its posts are compared within the channel only, P5, and the
 * rules about networks, P8, leave them alone). */
static const char *network_of(const struct store_channel *ch)
{
    return ch && (!strcmp(ch->kind, "bluesky") || !strcmp(ch->kind, "mastodon")) ? ch->kind : "";
}

static const char *categories[] = {"value", "promo", "personal", "share", "dialogue"};

void core_due(struct core *c)
{
    if(c->on_due)
        c->on_due(c->on_due_arg);
    (void)store_notify_due(c->st); /* the others look again within a second anyway */
}

static int check_text(const char *field, const char *text)
{
    size_t len = strlen(text);
    const char *p = text;
    long n = utf8_count(text, len);
    if(n < 0)
        return sam_fail_field(SAM_EINVAL, field, "%s is not valid UTF-8", field);
    if(n > POST_TEXT_MAX)
        return sam_fail_field(SAM_EINVAL, field, "%s must have at most %d characters", field, POST_TEXT_MAX);
    while(*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if(!*p)
        return sam_fail_field(SAM_EINVAL, field, "%s must not be empty", field);
    for(p = text; *p; p++)
        if(((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            return sam_fail_field(SAM_EINVAL, field, "%s must not contain control characters", field);
    return SAM_OK;
}

static int check_content(const struct post_input *in, char **variants_text)
{
    int rc;
    *variants_text = NULL;
    if(in->text && (rc = check_text("text", in->text)))
        return rc;
    if(in->link && (rc = core_check_length("link", in->link, CORE_URL_MAX, 0)))
        return rc;
    if(in->link && *in->link) {
        if((strncmp(in->link, "https://", 8) && strncmp(in->link, "http://", 7)) ||
           strpbrk(in->link, " \t\r\n\"<>"))
            return sam_fail_field(SAM_EINVAL, "link", "link must be an http:// or https:// URL");
    }
    if(in->category) {
        size_t i;
        for(i = 0; i < 5 && strcmp(in->category, categories[i]); i++)
            ;
        if(i == 5)
            return sam_fail_field(SAM_EINVAL, "category", "category must be value, promo, personal, share or dialogue");
    }
    if(in->campaign && *in->campaign && (rc = core_validate_name("campaign", in->campaign)))
        return rc;
    if(in->override_reason && *in->override_reason) {
        const char *p;
        if((rc = core_check_length("override_reason", in->override_reason, POST_REASON_MAX, 1)))
            return rc;
        for(p = in->override_reason; *p; p++)
            if(((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
                return sam_fail_field(SAM_EINVAL, "override_reason", "override_reason must not contain control "
                                                                     "characters");
    }
    if(in->variants) {
        size_t i;
        json_t *v;
        if(!json_is_array(in->variants) || json_array_size(in->variants) > POST_VARIANTS_MAX)
            return sam_fail_field(SAM_EINVAL, "variants", "variants must be a list of at most %d texts",
                                  POST_VARIANTS_MAX);
        json_array_foreach(in->variants, i, v) {
            if(!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
                return sam_fail_field(SAM_EINVAL, "variants", "each variant must be a text");
            if((rc = check_text("variants", json_string_value(v))))
                return rc;
        }
        *variants_text = json_dumps(in->variants, JSON_COMPACT);
        if(!*variants_text)
            return SAM_ENOMEM;
    }
    return SAM_OK;
}

static void new_key(char out[48])
{
    unsigned char raw[12];
    char hex[25];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
    snprintf(out, 48, "smt-%s", hex);
}

/* Instants already used on a channel from `from` on, a little over a year ahead
 * (scheduled, in flight or published), ascending and distinct; the caller frees *out. */
static int taken_times(struct core *c, int64_t channel, int64_t from, int64_t **out, size_t *n)
{
    int64_t freed;
    return store_channel_taken(c->st, channel, from - 1, from + 400 * 86400, out, n, &freed);
}

/* Where the copy for ch goes. *found (may be NULL) gets what plan_taken needs when it is
 * the channel's next free slot (found->store 0 otherwise). */
static int place(struct core *c, const struct post_input *in, const struct store_channel *ch, int64_t now,
                 int64_t *at, struct plan_found *found)
{
    if(found)
        memset(found, 0, sizeof(*found));
    if(in->schedule == POST_NOW) {
        *at = now;
        return SAM_OK;
    }
    if(in->schedule == POST_AT) {
        if(in->at < now - 60)
            return sam_fail_field(SAM_EINVAL, "schedule", "that time has passed: choose a time in the future or 'now'");
        if(in->at > now + 2 * 366 * 86400)
            return sam_fail_field(SAM_EINVAL, "schedule", "schedule at most two years ahead");
        *at = in->at < now ? now : in->at;
        return SAM_OK;
    }
    /* The next slot of this channel that no other occurrence holds (core/plan.c). */
    struct slot s[SLOTS_MAX];
    size_t n;
    int rc;
    core_channel_slots(ch, s, &n);
    if(n == 0)
        return sam_fail_field(SAM_EINVAL, "schedule", "channel \"%s\" has no posting slots: add some or pick a time",
                              ch->name);
    rc = plan_next_slot(c, ch, s, n, now, at, found);
    if(rc == SAM_ENOTFOUND)
        return sam_fail_field(SAM_EINVAL, "schedule", "every slot of \"%s\" in the coming year is taken", ch->name);
    return rc;
}

/* Turns found violations into the answer: *violations gets them (when not NULL); a block
 * without an override reason is SAM_EINVAL on field "checks" naming the first block. */
static int judge_checks(json_t *found, int blocked, const char *override, json_t **violations)
{
    if(violations)
        *violations = json_incref(found);
    if(blocked && !(override && *override)) {
        json_t *first = NULL, *v;
        size_t i;
        json_array_foreach(found, i, v) if(!first && !strcmp(json_string_value(json_object_get(v, "severity")), "block"))
            first = v;
        /* In words: the rule's id is for programs (it is in the violations). */
        return sam_fail_field(SAM_EINVAL, "checks", "%s (give a reason to publish anyway)",
                              json_string_value(json_object_get(first, "message")));
    }
    return SAM_OK;
}

/* Fills a new post from validated input; takes ownership of *variants (NULLed). */
static int fill_post(struct store_post *out, int64_t ws, const struct actor *a, const struct post_input *in,
                     char **variants, const char *state, int64_t now)
{
    out->workspace_id = ws;
    out->author_id = a->system ? 0 : a->user_id;
    out->text = strdup(in->text);
    out->link = in->link && *in->link ? strdup(in->link) : NULL;
    out->campaign = in->campaign && *in->campaign ? strdup(in->campaign) : NULL;
    out->variants = *variants ? *variants : strdup("[]");
    *variants = NULL;
    out->override_reason = in->override_reason && *in->override_reason ? strdup(in->override_reason) : NULL;
    snprintf(out->category, sizeof(out->category), "%s", in->category ? in->category : "value");
    snprintf(out->state, sizeof(out->state), "%s", state);
    out->created_at = out->updated_at = now;
    return out->text && out->variants ? SAM_OK : SAM_ENOMEM;
}

/* ---- a batch of posts planned together (post.h) ---- */

/* A copy a post of the batch has on a channel, as the checks read the queue: its post and
 * occurrence have ids from POST_BATCH_ID_BASE up (above every stored one, as a post
 * stored after the others would be). */
struct batch_copy {
    int64_t at, post, occ;
    char category[16];
    char *text;                   /* owned */
};

/* What the batch holds on one channel of the workspace. */
struct batch_channel {
    /* The channel's queue as the checks read it, in two parts, each by (at, post,
     * occurrence) as store_queue_near: the past (planned from BATCH_STORED_FROM to `now`,
     * where a published copy's time is published_at), read whole the first time a check
     * asks about the channel; and the future (planned from `now` on, where the time is
     * planned_at), read as one span [flo, fhi) that grows to cover what the checks ask
     * about, and moves with them when they ask about a span it does not touch. A batch
     * whose posts lie months ahead so reads only the queue around them, not every post
     * between now and them. While the batch holds the planning lock nobody plans, moves
     * or adds an occurrence; only the publisher may turn one published meanwhile (then its
     * time is published_at, a little after planned_at), which a check reading the store
     * again might see, and the batch does not. */
    int past_loaded;
    struct store_queue_item *past;
    size_t npast;
    int64_t flo, fhi;               /* the future span read; empty while flo == fhi */
    struct store_queue_item *fut;
    size_t nfut;

    struct batch_copy *copies;    /* by (at, post, occ), the order of store_queue_near */
    size_t n, cap;
    /* Placing at the next free slot: the instants the queue held from `now` on, read once
     * (taken_loaded), and the batch's own (mine, ascending); every slot instant in
     * (now, upto] is taken by one or the other, so the next search starts after upto. */
    int taken_loaded;
    int64_t *taken;
    size_t ntaken;
    int64_t *mine;
    size_t nmine, capmine;
    int64_t upto;
    /* The channel's slots (read once: a batch holds the planning lock, so they stay) and
     * the slot instants of a week, [win_from, win_to), which the next searches reuse:
     * turning wall times into instants is the costly part (plan.c keeps them so too). */
    int slots_loaded;
    struct slot slots[SLOTS_MAX];
    size_t nslots;
    int64_t win_from, win_to;
    int64_t *win;
    size_t nwin;
};

struct batch_post {
    struct store_post p;
    struct store_occurrence *occ;
    size_t n;
    struct store_post_media pm[MEDIA_PER_POST_MAX]; /* its images (P16), alt texts in alts */
    char *alts[MEDIA_PER_POST_MAX];
    size_t npm;
    int blocked;
    int64_t line;
    const char *import_key;       /* for the audit detail, while storing */
};

struct post_batch {
    struct core *c;
    const struct actor *a;
    int64_t ws, now;
    struct store_lock *lk;
    size_t pending;                 /* stored posts waiting for approval (P12) */
    struct store_channel *channels; /* the workspace's, and beside each its batch_channel */
    size_t nchannels;
    struct batch_channel *bc;
    struct batch_post *posts;
    size_t nposts, cap;
    int64_t copies;               /* copies made: the next virtual occurrence id */
};

/* ---- the spam checks (P5-P9) over the queue ---- */

/* The posts around a time window, as the checks see them. Strings are owned here. */
struct context {
    struct check_post *items;
    char **texts;
    int64_t *occ;                   /* occ[i]: the occurrence items[i] is */
    size_t n, cap;
    struct store_channel *channels; /* cache of the workspace's channels */
    size_t nchannels;
    const struct post_batch *batch; /* NULL, or posts planned but not stored: they count too */
};

/* Empties x of its items (the channels stay). */
static void context_clear(struct context *x)
{
    for(size_t i = 0; i < x->n; i++)
        free(x->texts[i]);
    x->n = 0;
}

static void context_free(struct context *x)
{
    context_clear(x);
    free(x->texts);
    free(x->items);
    free(x->occ);
    store_channel_list_free(x->channels, x->nchannels);
    memset(x, 0, sizeof(*x));
}

static int context_add(struct context *x, const struct check_post *cp, const char *text, int64_t occ)
{
    if(x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        struct check_post *it = realloc(x->items, cap * sizeof(*it));
        char **tx;
        int64_t *oc;
        if(!it)
            return SAM_ENOMEM;
        x->items = it;
        tx = realloc(x->texts, cap * sizeof(*tx));
        if(!tx)
            return SAM_ENOMEM;
        x->texts = tx;
        oc = realloc(x->occ, cap * sizeof(*oc));
        if(!oc)
            return SAM_ENOMEM;
        x->occ = oc;
        x->cap = cap;
    }
    x->texts[x->n] = strdup(text ? text : "");
    if(!x->texts[x->n])
        return SAM_ENOMEM;
    x->items[x->n] = *cp;
    x->items[x->n].text = x->texts[x->n];
    x->occ[x->n] = occ;
    x->n++;
    return SAM_OK;
}

/* Adds what the store gave (items of channel ch) to x, each occurrence once. */
static int context_add_items(struct context *x, const struct store_channel *ch, struct store_queue_item *items,
                             size_t n)
{
    static const char *cats[] = {"value", "promo", "personal", "share", "dialogue"};
    int rc = SAM_OK;
    for(size_t i = 0; !rc && i < n; i++) {
        struct store_post p = {.text = items[i].text, .variants = items[i].variants};
        char *text;
        size_t k;
        for(k = 0; k < x->n && x->occ[k] != items[i].occurrence_id; k++)
            ;
        if(k < x->n)
            continue; /* read by another of the ranges too */
        text = items[i].variant ? core_post_text_for(&p, items[i].variant) : NULL;
        struct check_post cp = {.id = items[i].post_id, .channel_id = ch->id, .network = network_of(ch),
                                .at = items[i].at, .published = items[i].published};
        if(items[i].post_id >= POST_BATCH_ID_BASE)
            cp.line = items[i].post_id - POST_BATCH_ID_BASE; /* a post of the batch, not stored */
        /* The category must outlive the item: point at one of the five static names. */
        for(k = 0; k < 5; k++)
            if(!strcmp(items[i].category, cats[k]))
                cp.category = cats[k];
        rc = context_add(x, &cp, text ? text : items[i].text, items[i].occurrence_id);
        free(text);
    }
    return rc;
}

/* Loads the workspace's scheduled, in-flight and published occurrences in [from, to):
 * all of them for the channels in `wide` (nwide of them; NULL: every channel), and for the
 * other channels only those in [near_from, near_to) (the rules that look across channels,
 * near-duplicates and cross-posts, look no further than a week). */
static int context_load(struct core *c, int64_t ws, int64_t from, int64_t to, const int64_t *wide, size_t nwide,
                        int64_t near_from, int64_t near_to, int64_t exclude_post, struct context *x)
{
    static const char *cats[] = {"value", "promo", "personal", "share", "dialogue"};
    int rc = store_channel_list(c->st, ws, NULL, 0, 10000, &x->channels, &x->nchannels);
    /* Pass 0: every channel (or, with wide, the other channels over the near window);
     * passes 1..nwide: each wide channel over the whole window. */
    for(size_t pass = 0; !rc && pass <= nwide; pass++) {
        struct store_queue_item *items = NULL;
        size_t n = 0;
        if(pass == 0)
            rc = wide ? store_queue_items(c->st, ws, 0, near_from, near_to, &items, &n)
                      : store_queue_items(c->st, ws, 0, from, to, &items, &n);
        else
            rc = store_queue_items(c->st, ws, wide[pass - 1], from, to, &items, &n);
        for(size_t i = 0; !rc && i < n; i++) {
            const struct store_channel *ch = core_channel_find(x->channels, x->nchannels, items[i].channel_id);
            struct store_post p = {.text = items[i].text, .variants = items[i].variants};
            char *text;
            int is_wide = 0;
            for(size_t k = 0; pass == 0 && k < nwide && !is_wide; k++)
                is_wide = wide[k] == items[i].channel_id;
            if(!ch || is_wide || items[i].post_id == exclude_post)
                continue; /* a wide channel is loaded whole in its own pass; a post is not its own neighbour */
            text = items[i].variant ? core_post_text_for(&p, items[i].variant) : NULL;
            struct check_post cp = {.id = items[i].post_id, .channel_id = ch->id, .network = network_of(ch),
                                    .at = items[i].at, .published = items[i].published};
            /* The category must outlive the item: point at one of the five static names. */
            for(size_t k = 0; k < 5; k++)
                if(!strcmp(items[i].category, cats[k]))
                    cp.category = cats[k];
            rc = context_add(x, &cp, text ? text : items[i].text, items[i].occurrence_id);
            free(text);
        }
        store_queue_items_free(items, n);
    }
    return rc;
}

static struct batch_channel *batch_channel_of(const struct post_batch *b, int64_t channel)
{
    for(size_t i = 0; i < b->nchannels; i++)
        if(b->channels[i].id == channel)
            return &b->bc[i];
    return NULL;
}

/* Planned time a batch's checks can ask about, around its `now`: from 31 days before
 * the earliest copy (at or after now) to 31 days after the latest (two years ahead at
 * most), a little wider (context_near). */
#define BATCH_STORED_FROM(now) ((now) - 32 * 86400)
#define BATCH_STORED_TO(now) ((now) + (2 * 366 + 32) * 86400)

/* -1, 0, 1 as (at, post, occ) of a orders before, with or after b's. */
static int item_order(const struct store_queue_item *a, const struct store_queue_item *b);

static int item_cmp(const void *a, const void *b)
{
    return item_order(a, b);
}

/* Extra span read past what a check asks about, so that the next posts of the batch (a
 * little later in the queue) find it read already. */
#define BATCH_FUTURE_PAD (14 * 86400)

/* Makes bc's future span cover planned times [from, to): read what is missing, or read
 * [from, to) afresh when the span read does not touch it. */
static int future_cover(const struct post_batch *b, struct batch_channel *bc, const struct store_channel *ch,
                        int64_t from, int64_t to)
{
    struct store_queue_item *more = NULL, *all;
    size_t nmore = 0;
    int64_t lo, hi;
    int rc;
    if(from >= to || (bc->flo < bc->fhi && from >= bc->flo && to <= bc->fhi))
        return SAM_OK;
    if(to < BATCH_STORED_TO(b->now) - BATCH_FUTURE_PAD)
        to += BATCH_FUTURE_PAD;
    else
        to = BATCH_STORED_TO(b->now);
    if(bc->flo == bc->fhi || to < bc->flo || from > bc->fhi) {
        /* Nothing read yet, or nothing in common: read [from, to) in its place. */
        /* The checks copy what they read (context_add), so the old span can go. */
        rc = store_queue_channel(b->c->st, ch->id, from, to, &more, &nmore);
        if(rc)
            return rc;
        store_queue_items_free(bc->fut, bc->nfut);
        bc->fut = more;
        bc->nfut = nmore;
        bc->flo = from;
        bc->fhi = to;
        return SAM_OK;
    }
    /* Overlapping: read the parts before and after, and merge. */
    lo = from < bc->flo ? from : bc->flo;
    hi = to > bc->fhi ? to : bc->fhi;
    for(int side = 0; side < 2; side++) {
        int64_t a = side ? bc->fhi : lo, z = side ? hi : bc->flo;
        if(a >= z)
            continue;
        rc = store_queue_channel(b->c->st, ch->id, a, z, &more, &nmore);
        if(rc)
            return rc;
        if(nmore) {
            if(!(all = realloc(bc->fut, (bc->nfut + nmore) * sizeof(*all)))) {
                store_queue_items_free(more, nmore);
                return SAM_ENOMEM;
            }
            memcpy(all + bc->nfut, more, nmore * sizeof(*all));
            free(more); /* its texts now belong to bc->fut */
            bc->fut = all;
            bc->nfut += nmore;
            qsort(bc->fut, bc->nfut, sizeof(*bc->fut), item_cmp);
        } else {
            store_queue_items_free(more, nmore);
        }
        more = NULL;
        nmore = 0;
        if(side) /* what is read, so far: a failure of the other side leaves it true */
            bc->fhi = hi;
        else
            bc->flo = lo;
    }
    return SAM_OK;
}

/* Up to limit items of sorted list[0..n) that range r takes, in r's direction, appended
 * to out (*k of them so far). */
static void range_take(const struct store_queue_item *list, size_t n, const struct store_queue_range *r, size_t limit,
                       struct store_queue_item *out, size_t *k)
{
    size_t lo = 0, hi, got = 0;
    for(hi = n; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        if(list[mid].at < (r->last ? r->to + (r->to < INT64_MAX) : r->from))
            lo = mid + 1;
        else
            hi = mid;
    }
    /* ASC: from the first at >= from; DESC: back from the last at <= to. */
    if(r->last) {
        for(size_t i = lo; i-- > 0 && got < limit;) {
            const struct store_queue_item *it = &list[i];
            if(it->at < r->from)
                break;
            if(it->planned_at >= r->planned_from && it->planned_at < r->planned_to && it->post_id != r->exclude_post) {
                out[(*k)++] = *it;
                got++;
            }
        }
    } else {
        for(size_t i = lo; i < n && got < limit; i++) {
            const struct store_queue_item *it = &list[i];
            if(it->at > r->to)
                break;
            if(it->planned_at >= r->planned_from && it->planned_at < r->planned_to && it->post_id != r->exclude_post) {
                out[(*k)++] = *it;
                got++;
            }
        }
    }
}

static int item_cmp_desc(const void *a, const void *b)
{
    return item_order(b, a);
}

/* The store's part of range r on channel ch, from the batch's copy of the queue: the
 * items store_queue_near would answer, in its order, as a new array whose texts are
 * borrowed from the batch's. */
static int batch_stored(const struct post_batch *b, struct batch_channel *bc, const struct store_channel *ch,
                        const struct store_queue_range *r, struct store_queue_item **out, size_t *n)
{
    size_t k = 0, limit = r->limit > 0 ? (size_t)r->limit : 0;
    int64_t from, to;
    int rc;
    *out = NULL;
    *n = 0;
    if(!bc->past_loaded) {
        rc = store_queue_channel(b->c->st, ch->id, BATCH_STORED_FROM(b->now), b->now, &bc->past, &bc->npast);
        if(rc)
            return rc;
        bc->past_loaded = 1;
    }
    /* The future part of what r asks about: planned from now, at most to r's end (a
     * future copy's time is its planned time). */
    from = r->from > b->now ? r->from : b->now;
    to = r->to < BATCH_STORED_TO(b->now) ? r->to + 1 : BATCH_STORED_TO(b->now);
    if(limit && r->from <= r->to && (rc = future_cover(b, bc, ch, from, to)))
        return rc;
    if(!(*out = malloc(2 * (limit < bc->npast + bc->nfut ? limit : bc->npast + bc->nfut) * sizeof(**out) + 1)))
        return SAM_ENOMEM;
    if(!limit || r->from > r->to)
        return SAM_OK;
    range_take(bc->past, bc->npast, r, limit, *out, &k);
    range_take(bc->fut, bc->nfut, r, limit, *out, &k);
    /* Both in r's order, merged; the first limit of them. */
    qsort(*out, k, sizeof(**out), r->last ? item_cmp_desc : item_cmp);
    *n = k < limit ? k : limit;
    return SAM_OK;
}

/* -1, 0, 1 as (at, post, occ) of a orders before, with or after b's. */
static int item_order(const struct store_queue_item *a, const struct store_queue_item *b)
{
    if(a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if(a->post_id != b->post_id)
        return a->post_id < b->post_id ? -1 : 1;
    return (a->occurrence_id > b->occurrence_id) - (a->occurrence_id < b->occurrence_id);
}

/* The store's answer to r (items[0..n), in r's order) merged with the batch's copies that
 * r names, in r's order, the first r->limit of them: *out (a new array whose texts are
 * borrowed; *out == items when the batch has none there). */
static int batch_merge(const struct post_batch *b, const struct store_channel *ch, const struct store_queue_range *r,
                       struct store_queue_item *items, size_t n, struct store_queue_item **out, size_t *nout)
{
    const struct batch_channel *bc = batch_channel_of(b, ch->id);
    size_t lo, hi, first, mine = 0, k = 0, i = 0, limit;
    struct store_queue_item *m;
    *out = items;
    *nout = n;
    if(!bc || !bc->n || r->limit <= 0 || r->from > r->to || r->channel != ch->id)
        return SAM_OK;
    /* The copies with at in [from, to] (planned_at is at: none is published). */
    for(lo = 0, hi = bc->n; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        if(bc->copies[mid].at < r->from)
            lo = mid + 1;
        else
            hi = mid;
    }
    first = lo;
    for(hi = bc->n; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        if(bc->copies[mid].at <= r->to)
            lo = mid + 1;
        else
            hi = mid;
    }
    for(size_t q = first; q < lo; q++)
        if(bc->copies[q].at >= r->planned_from && bc->copies[q].at < r->planned_to)
            mine++;
    if(!mine)
        return SAM_OK;
    limit = (size_t)r->limit;
    m = calloc(n + mine < limit ? n + mine : limit, sizeof(*m));
    if(!m)
        return SAM_ENOMEM;
    /* Walk the batch's run in r's direction (last: latest first), merging. */
    {
        size_t q = r->last ? lo : first, stop = r->last ? first : lo;
        while(k < limit && (i < n || q != stop)) {
            struct store_queue_item bi;
            const struct batch_copy *bcp = NULL;
            while(q != stop) {
                const struct batch_copy *cand = &bc->copies[r->last ? q - 1 : q];
                if(cand->at >= r->planned_from && cand->at < r->planned_to) {
                    bcp = cand;
                    break;
                }
                q = r->last ? q - 1 : q + 1;
            }
            if(bcp) {
                memset(&bi, 0, sizeof(bi));
                bi.post_id = bcp->post;
                bi.channel_id = ch->id;
                bi.at = bcp->at;
                bi.occurrence_id = bcp->occ;
                snprintf(bi.category, sizeof(bi.category), "%s", bcp->category);
                bi.text = bcp->text;
            }
            if(bcp && (i >= n || (r->last ? item_order(&bi, &items[i]) > 0 : item_order(&bi, &items[i]) < 0))) {
                m[k++] = bi;
                q = r->last ? q - 1 : q + 1;
            } else if(i < n) {
                m[k++] = items[i++];
            } else {
                break;
            }
        }
    }
    *out = m;
    *nout = k;
    return SAM_OK;
}

/* Reads what r names of channel ch into x; *last_at (may be NULL) gets the time of the
 * last item read (0 with none), *got how many were read. */
static int context_range(struct core *c, struct context *x, const struct store_channel *ch,
                         const struct store_queue_range *r, int64_t *last_at, size_t *got)
{
    struct store_queue_item *items = NULL, *all;
    struct batch_channel *bc = x->batch ? batch_channel_of(x->batch, ch->id) : NULL;
    size_t n = 0, nall;
    /* A batch reads the store once per channel (batch_stored); a post alone, by range. */
    int rc = bc ? batch_stored(x->batch, bc, ch, r, &items, &n) : store_queue_near(c->st, r, &items, &n);
    if(rc)
        return rc;
    /* With a batch, its copies are read as if the store held them: the two runs merged in
     * r's order, the first r->limit kept. all's texts are borrowed from either. */
    all = items;
    nall = n;
    if(x->batch)
        rc = batch_merge(x->batch, ch, r, items, n, &all, &nall);
    if(!rc)
        rc = context_add_items(x, ch, all, nall);
    if(last_at)
        *last_at = nall ? all[nall - 1].at : 0;
    if(got)
        *got = nall;
    if(all != items)
        free(all);
    if(bc)
        free(items); /* its texts are the batch's */
    else
        store_queue_items_free(items, n);
    return rc;
}

#define RANGE_ALL 200000 /* "every one in the range" (as store_queue_items reads) */

/* Loads into x the posts the checks of candidate y can involve: what a load of the whole
 * window (planned in [lo - 31 days, hi + 31 days) on the channels in wide, [lo - 8 days,
 * hi + 8 days) on the others; without post self) would give them, narrowed to where each
 * rule looks (checks.c; "within X" is less than X apart):
 *   y's channel   P6 promo share over the mix window up to y, P7 the hour or day either
 *                 side, P7c promo posts within the gap either side: every post in that
 *                 range;
 *   P5            y's network (or y's channel alone when it has none): a post counts when
 *                 fewer than dup_last_k posts of the earlier one's channel come between, so
 *                 on each such channel the last dup_last_k posts up to y, and after y only
 *                 up to y's channel's dup_last_k-th post after it (all within the window);
 *   P8a           the other networks' channels within the cross-post window either side.
 * Each is a range of an index (store_queue_near), so the cost follows these windows, not
 * the length of the queue. On a channel, the posts read are a run of consecutive ones
 * (the last k up to an instant, or every one in a range), which is what keeps the counts
 * between two posts (P5) the same as over the whole window. */
static int context_near(struct core *c, struct context *x, const struct check_policy *pol, const struct check_post *y,
                        int64_t lo, int64_t hi, const int64_t *wide, size_t nwide, int64_t self)
{
    const int64_t day = 86400;
    const struct store_channel *yc = core_channel_find(x->channels, x->nchannels, y->channel_id);
    const char *net = network_of(yc);
    int promo = y->category && !strcmp(y->category, "promo");
    int64_t t = y->at, back = 0, ahead = 0, mix = pol->mix_window_days > 0 ? pol->mix_window_days * day : 0;
    int64_t gap = pol->promo_gap_minutes > 0 ? pol->promo_gap_minutes * 60 : 0;
    int64_t dup = pol->dup_window_days > 0 ? pol->dup_window_days * day : 0;
    int64_t cross = pol->crosspost_minutes > 0 ? pol->crosspost_minutes * 60 : 0, until = t + dup - 1;
    int k = pol->dup_last_k > 0 ? pol->dup_last_k : 0, rc = SAM_OK;

    if(!yc)
        return SAM_OK; /* not one of the workspace's channels: nothing of it was loaded before either */
    /* y's own channel: the caps (an hour or a day either side), the promo gap and mix. */
    if(pol->max_per_day > 0)
        back = ahead = day;
    else if(pol->max_per_hour > 0)
        back = ahead = 3600;
    if(promo && gap > back)
        back = gap;
    if(promo && gap > ahead)
        ahead = gap;
    if(promo && pol->mix_ratio > 0 && mix > back)
        back = mix;
    {
        /* y's channel is one of the post's own (wide) channels. */
        struct store_queue_range r = {.channel = yc->id, .planned_from = lo - 31 * day, .planned_to = hi + 31 * day,
                                      .exclude_post = self};
        if(back || ahead) {
            r.from = t - (back ? back - 1 : 0);
            r.to = t + (ahead ? ahead - 1 : 0);
            r.limit = RANGE_ALL;
            rc = context_range(c, x, yc, &r, NULL, NULL);
        }
        if(!rc && k && dup) {
            int64_t kth = 0;
            size_t got = 0;
            r.from = t - dup + 1;
            r.to = t;
            r.limit = k;
            r.last = 1;
            rc = context_range(c, x, yc, &r, NULL, NULL);
            r.from = t + 1;
            r.to = until;
            r.last = 0;
            if(!rc)
                rc = context_range(c, x, yc, &r, &kth, &got);
            if(!rc && got == (size_t)k)
                until = kth; /* a post after y's channel's k-th next one has k of them between */
        }
    }
    /* The other channels: y's network (P5), the other networks (P8a). */
    for(size_t i = 0; !rc && i < x->nchannels; i++) {
        const struct store_channel *ch = &x->channels[i];
        const char *cn = network_of(ch);
        int is_wide = 0;
        for(size_t j = 0; j < nwide && !is_wide; j++)
            is_wide = wide[j] == ch->id;
        struct store_queue_range r = {.channel = ch->id, .planned_from = lo - (is_wide ? 31 : 8) * day,
                                      .planned_to = hi + (is_wide ? 31 : 8) * day, .exclude_post = self};
        if(ch->id == y->channel_id || !net[0] || !cn[0])
            continue; /* no network: its posts meet only its own channel's (P5), and no P8 */
        if(!strcasecmp(cn, net)) {
            if(!k || !dup)
                continue;
            r.from = t - dup + 1;
            r.to = t;
            r.limit = k;
            r.last = 1;
            rc = context_range(c, x, ch, &r, NULL, NULL);
            r.from = t + 1;
            r.to = until;
            r.limit = RANGE_ALL;
            r.last = 0;
            if(!rc)
                rc = context_range(c, x, ch, &r, NULL, NULL);
        } else if(cross) {
            r.from = t - cross + 1;
            r.to = t + cross - 1;
            r.limit = RANGE_ALL;
            rc = context_range(c, x, ch, &r, NULL, NULL);
        }
    }
    return rc;
}

static void policy_for(struct check_policy *pol, const char *preset, const struct store_channel *ch)
{
    checks_default_policy(pol, preset);
    if(ch && ch->max_per_hour > 0)
        pol->max_per_hour = ch->max_per_hour;
    if(ch && ch->max_per_day > 0)
        pol->max_per_day = ch->max_per_day;
}

static json_t *violation_json(const struct check_violation *v, int64_t channel, int64_t at)
{
    json_t *posts = json_array(), *lines = NULL;
    for(size_t k = 0; k < v->nposts && k < 8; k++) {
        if(v->posts[k] >= POST_BATCH_ID_BASE) {
            /* A post of a batch, not stored: named by the line it came from. */
            if(!lines)
                lines = json_array();
            json_array_append_new(lines, json_integer(v->posts[k] - POST_BATCH_ID_BASE));
        } else if(v->posts[k])
            json_array_append_new(posts, json_integer(v->posts[k]));
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:o}", "rule", v->rule, "severity",
                          v->severity == CHECK_BLOCK ? "block" : "warn", "message", v->message, "posts", posts);
    if(j && lines)
        json_object_set(j, "lines", lines);
    json_decref(lines);
    if(j && channel)
        json_object_set_new(j, "channel_id", json_integer(channel));
    if(j && at)
        json_object_set_new(j, "at", view_time(at));
    return j;
}

/* Checks the post's copies, placed at at[i] on in->channels[i], against the queue (without
 * the occurrences of post `self`, the post being edited or 0) and, with batch, the posts
 * planned in it. */
static int check_at_in(struct core *c, int64_t ws, const struct post_input *in, const int64_t *at, int64_t self,
                       const struct post_batch *batch, json_t **violations, int *blocked)
{
    struct context x;
    struct store_workspace w;
    struct check_post *cands = NULL, *others = NULL;
    struct check_violation found[32];
    int64_t lo = at[0], hi = at[0];
    int rc;

    memset(&x, 0, sizeof(x));
    x.batch = batch;
    *violations = json_array();
    *blocked = 0;
    if((rc = store_workspace_get(c->st, ws, &w)))
        return rc;
    cands = calloc(in->nchannels, sizeof(*cands));
    if(!cands)
        return SAM_ENOMEM;
    for(size_t i = 0; i < in->nchannels; i++) {
        cands[i].channel_id = in->channels[i];
        cands[i].at = at[i];
        if(at[i] < lo)
            lo = at[i];
        if(at[i] > hi)
            hi = at[i];
    }
    if(!rc)
        rc = store_channel_list(c->st, ws, NULL, 0, 10000, &x.channels, &x.nchannels);
    for(size_t i = 0; !rc && i < in->nchannels; i++) {
        const struct store_channel *ch = core_channel_find(x.channels, x.nchannels, cands[i].channel_id);
        struct check_policy pol;
        size_t k = 0, count = 0;
        cands[i].network = network_of(ch);
        cands[i].text = in->text;
        cands[i].category = in->category ? in->category : "value";
        policy_for(&pol, w.mix_preset, ch);
        /* Each copy meets the posts around it (context_near), read for it alone. */
        context_clear(&x);
        rc = context_near(c, &x, &pol, &cands[i], lo, hi, in->channels, in->nchannels, self);
        free(others);
        if(!rc && !(others = calloc(x.n + in->nchannels, sizeof(*others))))
            rc = SAM_ENOMEM;
        if(rc)
            break;
        for(size_t j = 0; j < x.n; j++)
            others[k++] = x.items[j];
        /* The post's other channels count too (the cross-post check). */
        for(size_t j = 0; j < in->nchannels; j++)
            if(j != i) {
                const struct store_channel *cj = core_channel_find(x.channels, x.nchannels, cands[j].channel_id);
                others[k] = cands[j];
                others[k].network = network_of(cj);
                others[k].text = in->text;
                others[k].category = cands[i].category;
                others[k].copy = 1;
                k++;
            }
        rc = checks_candidate(&pol, &cands[i], others, k, found, 32, &count);
        for(size_t v = 0; !rc && v < count && v < 32; v++) {
            json_array_append_new(*violations, violation_json(&found[v], cands[i].channel_id, cands[i].at));
            if(found[v].severity == CHECK_BLOCK)
                *blocked = 1;
        }
    }
    free(cands);
    free(others);
    context_free(&x);
    if(rc) {
        json_decref(*violations);
        *violations = NULL;
    }
    return rc;
}

static int check_at(struct core *c, int64_t ws, const struct post_input *in, const int64_t *at, int64_t self,
                    json_t **violations, int *blocked)
{
    return check_at_in(c, ws, in, at, self, NULL, violations, blocked);
}

int core_post_validate(const struct post_input *in)
{
    char *variants = NULL;
    int rc = check_content(in, &variants);
    free(variants);
    return rc;
}

static int post_check(struct core *c, int64_t ws, const struct post_input *in, int64_t now, json_t **violations,
                      int *blocked);

int core_post_check(struct core *c, int64_t ws, const struct post_input *in, int64_t now, json_t **violations,
                    int *blocked)
{
    /* The images face their rules as you type too; a missing alt text is a warning. */
    struct store_post_media pm[MEDIA_PER_POST_MAX];
    size_t npm = 0;
    int rc = core_media_prepare(c, ws, in->media, in->nmedia, pm, &npm);
    *violations = NULL;
    *blocked = 0;
    if(!rc)
        rc = post_check(c, ws, in, now, violations, blocked);
    if(!rc)
        core_media_alt_warnings(pm, npm, *violations);
    return rc;
}

static int post_check(struct core *c, int64_t ws, const struct post_input *in, int64_t now, json_t **violations,
                      int *blocked)
{
    int64_t at[POST_CHANNELS_MAX];
    char *variants = NULL;
    int rc;
    *violations = NULL;
    *blocked = 0;
    /* What could not be saved is refused here too, so the composer says so as you type. */
    rc = check_content(in, &variants);
    free(variants);
    if(rc)
        return rc;
    if(in->schedule == POST_DRAFT || in->nchannels == 0 || !in->text) {
        *violations = json_array();
        return SAM_OK;
    }
    if(in->nchannels > POST_CHANNELS_MAX)
        return sam_fail_field(SAM_EINVAL, "channels", "at most %d channels", POST_CHANNELS_MAX);
    if(in->noffers && offer_wanted(in->text)) {
        /* The length checks count the text as it goes out: with the longest offer code. */
        char code[OFFER_CODE_MAX + 1], longest[OFFER_CODE_MAX + 1] = "";
        struct post_input chk = *in;
        char *applied;
        for(size_t i = 0; i < in->noffers; i++) {
            if((rc = offer_code_normalise(in->offers[i].code, code, sizeof(code))))
                return rc;
            if(strlen(code) > strlen(longest))
                memcpy(longest, code, sizeof(code));
        }
        if(!(applied = offer_apply(in->text, longest)))
            return SAM_ENOMEM;
        chk.text = applied;
        chk.noffers = 0;
        rc = post_check(c, ws, &chk, now, violations, blocked);
        free(applied);
        return rc;
    }
    /* Where each copy would go. */
    for(size_t i = 0; !rc && i < in->nchannels; i++) {
        struct store_channel ch;
        rc = core_channel_get(c, ws, in->channels[i], &ch);
        if(rc == SAM_ENOTFOUND)
            rc = sam_fail_field(SAM_EINVAL, "channels", "channel %lld is not in this workspace",
                                (long long)in->channels[i]);
        if(rc)
            break;
        rc = place(c, in, &ch, now, &at[i], NULL);
        store_channel_cleanup(&ch);
    }
    return rc ? rc : check_at(c, ws, in, at, 0, violations, blocked);
}

int core_queue_check(struct core *c, int64_t ws, int64_t now, json_t **violations)
{
    struct context x;
    struct store_workspace w;
    struct check_violation *found = NULL;
    struct check_post *sub = NULL;
    int rc;
    size_t max = 1000;

    memset(&x, 0, sizeof(x));
    *violations = json_array();
    if((rc = store_workspace_get(c->st, ws, &w)))
        return rc;
    rc = context_load(c, ws, now - 7 * 86400, now + 93 * 86400, NULL, 0, 0, 0, 0, &x);
    if(!rc && (!(found = calloc(max, sizeof(*found))) || !(sub = calloc(x.n ? x.n : 1, sizeof(*sub)))))
        rc = SAM_ENOMEM;
    /* Rules across channels (near-duplicates, cross-posts) over everything at once... */
    if(!rc) {
        struct check_policy pol;
        size_t count = 0;
        policy_for(&pol, w.mix_preset, NULL);
        rc = checks_queue(&pol, x.items, x.n, found, max, &count);
        for(size_t v = 0; !rc && v < count && v < max; v++)
            if(found[v].rule[1] == '5' || found[v].rule[1] == '8')
                json_array_append_new(*violations, violation_json(&found[v], 0, 0));
    }
    /* ...and each channel's own rules (mix, caps) with that channel's caps. */
    for(size_t ci = 0; !rc && ci < x.nchannels; ci++) {
        struct check_policy pol;
        size_t k = 0, count = 0;
        for(size_t j = 0; j < x.n; j++)
            if(x.items[j].channel_id == x.channels[ci].id)
                sub[k++] = x.items[j];
        if(!k)
            continue;
        policy_for(&pol, w.mix_preset, &x.channels[ci]);
        rc = checks_queue(&pol, sub, k, found, max, &count);
        for(size_t v = 0; !rc && v < count && v < max; v++)
            if(found[v].rule[1] == '6' || found[v].rule[1] == '7')
                json_array_append_new(*violations, violation_json(&found[v], x.channels[ci].id, 0));
    }
    free(found);
    free(sub);
    context_free(&x);
    if(rc) {
        json_decref(*violations);
        *violations = NULL;
    }
    return rc;
}

static int batch_place(struct post_batch *b, const struct post_input *in, const struct store_channel *ch,
                       int64_t now, int64_t *at);

/* Channel channels[i] of a post or series being made, read into *ch: listed once, of the
 * workspace, and one that publishes (not a feed or Jetstream). On an error *ch holds
 * nothing to clean up. */
static int publishing_channel(struct core *c, int64_t ws, const int64_t *channels, size_t i, struct store_channel *ch)
{
    int rc;
    for(size_t j = 0; j < i; j++)
        if(channels[j] == channels[i])
            return sam_fail_field(SAM_EINVAL, "channels", "channel %lld is listed twice", (long long)channels[i]);
    rc = core_channel_get(c, ws, channels[i], ch);
    if(rc == SAM_ENOTFOUND)
        return sam_fail_field(SAM_EINVAL, "channels", "channel %lld is not in this workspace", (long long)channels[i]);
    if(rc)
        return rc;
    if(!strcmp(ch->kind, "feed") || !strcmp(ch->kind, "jetstream")) {
        rc = sam_fail_field(SAM_EINVAL, "channels", "\"%s\" is a %s channel: it listens, it cannot publish", ch->name,
                            ch->kind);
        store_channel_cleanup(ch);
    }
    return rc;
}

/* Checks in's channels (at least one, at most POST_CHANNELS_MAX, each once, of workspace
 * ws, able to publish) and places a copy on each, with a new idempotency key: at its
 * time, now, or its channel's next free slot (with b, the first that neither the queue
 * nor the batch's posts hold). *o (caller frees, also on failure) gets the copies, *n how
 * many; marks[i] what plan_taken needs of copy i (its store is 0 with b). */
static int place_copies(struct core *c, struct post_batch *b, int64_t ws, const struct post_input *in, int64_t now,
                        struct store_occurrence **o, struct plan_found *marks, size_t *n)
{
    int rc = SAM_OK;
    *o = NULL;
    *n = 0;
    if(in->nchannels == 0)
        return sam_fail_field(SAM_EINVAL, "channels", "choose at least one channel to publish to");
    if(in->nchannels > POST_CHANNELS_MAX)
        return sam_fail_field(SAM_EINVAL, "channels", "at most %d channels", POST_CHANNELS_MAX);
    if(!(*o = calloc(in->nchannels, sizeof(**o))))
        return SAM_ENOMEM;
    for(size_t i = 0; !rc && i < in->nchannels; i++) {
        struct store_occurrence *oi = &(*o)[i];
        struct store_channel ch;
        if((rc = publishing_channel(c, ws, in->channels, i, &ch)))
            break;
        memset(&marks[i], 0, sizeof(marks[i]));
        rc = b ? batch_place(b, in, &ch, now, &oi->planned_at) : place(c, in, &ch, now, &oi->planned_at, &marks[i]);
        oi->channel_id = ch.id;
        new_key(oi->idempotency_key);
        store_channel_cleanup(&ch);
        (*n)++;
    }
    return rc;
}

/* The detail of a post.create audit entry, once the post has its id. */
struct create_detail {
    const struct store_post *p;
    size_t n;
};

static char *create_detail(void *arg)
{
    const struct create_detail *cd = arg;
    json_t *d = json_pack("{s:I, s:s, s:i, s:s?}", "post_id", (json_int_t)cd->p->id, "state", cd->p->state,
                          "occurrences", (int)cd->n, "override_reason", cd->p->override_reason);
    if(d && !strcmp(cd->p->approval, "pending"))
        json_object_set_new(d, "approval", json_string("pending")); /* P12: sent for approval */
    char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    return text;
}

/* The offers of a post being created, checked and in their stored form: each for one of
 * its channels, at most one per channel, codes well formed, unique in the request and in
 * the workspace; and where the text (or a variant) says {offer}, every channel has one.
 * *longest gets the longest code (for the length checks), or NULL. */
static int offers_prepare(struct core *c, int64_t ws, const struct post_input *in, struct store_offer *out,
                          size_t *n, const char **longest)
{
    int wanted = offer_wanted(in->text), rc;
    size_t i, k;
    *n = 0;
    *longest = NULL;
    for(i = 0; !wanted && i < json_array_size(in->variants); i++)
        wanted = offer_wanted(json_string_value(json_array_get(in->variants, i)));
    if(!in->noffers && !wanted)
        return SAM_OK;
    if(in->schedule == POST_DRAFT)
        return in->noffers ? sam_fail_field(SAM_EINVAL, "offers", "give the offer codes when you schedule the post")
                           : SAM_OK;
    if(in->noffers > in->nchannels)
        return sam_fail_field(SAM_EINVAL, "offers", "give at most one offer code per channel of the post");
    for(i = 0; i < in->noffers; i++) {
        struct store_offer *f = &out[i];
        struct store_channel ch;
        int used = 0;
        memset(f, 0, sizeof(*f));
        for(k = 0; k < in->nchannels && in->channels[k] != in->offers[i].channel_id; k++)
            ;
        if(k == in->nchannels)
            return sam_fail_field(SAM_EINVAL, "offers", "an offer code is for one of the post's channels");
        for(k = 0; k < i; k++)
            if(out[k].channel_id == in->offers[i].channel_id)
                return sam_fail_field(SAM_EINVAL, "offers", "give one offer code per channel");
        if((rc = offer_code_normalise(in->offers[i].code, f->code, sizeof(f->code))))
            return rc;
        for(k = 0; k < i; k++)
            if(!strcmp(out[k].code, f->code))
                return sam_fail_field(SAM_EINVAL, "offers",
                                      "each channel needs a code of its own, so that an order tells which channel "
                                      "brought it");
        if((rc = store_offer_code_used(c->st, ws, f->code, &used)))
            return rc;
        if(used)
            return sam_fail_field(SAM_ECONFLICT, "offers",
                                  "the offer code %s is already used in this workspace; an offer code names one "
                                  "channel of one post",
                                  f->code);
        if((rc = core_channel_get(c, ws, in->offers[i].channel_id, &ch)))
            return rc == SAM_ENOTFOUND ? sam_fail_field(SAM_EINVAL, "offers", "an offer code is for one of the post's "
                                                                              "channels")
                                       : rc;
        f->channel_id = ch.id;
        snprintf(f->channel_name, sizeof(f->channel_name), "%s", ch.name);
        store_channel_cleanup(&ch);
        if(!*longest || strlen(f->code) > strlen(*longest))
            *longest = f->code;
        (*n)++;
    }
    if(wanted && *n < in->nchannels)
        return sam_fail_field(SAM_EINVAL, "offers", "the text says {offer}: give every channel of the post its own "
                                                    "offer code");
    return SAM_OK;
}

static int post_create(struct core *c, const struct actor *a, int64_t ws, const struct post_input *in,
                       int64_t now, struct store_post *out, struct store_occurrence **occ, size_t *nocc,
                       json_t **violations)
{
    struct store_offer offs[POST_CHANNELS_MAX];
    size_t noffs = 0;
    struct store_post_media pm[MEDIA_PER_POST_MAX], *kept = NULL;
    size_t npm = 0, nkept = 0;
    const char *longest = NULL;
    char *checked_text = NULL;
    struct plan_found marks[POST_CHANNELS_MAX];
    char *variants = NULL;
    struct store_occurrence *o = NULL;
    struct store_approval submitted, *step = NULL;
    size_t n = 0;
    int rc, blocked = 0;
    json_t *found = NULL;

    memset(out, 0, sizeof(*out));
    *occ = NULL;
    *nocc = 0;
    if(violations)
        *violations = NULL;
    if(!in->text)
        return sam_fail_field(SAM_EINVAL, "text", "text is required");
    if((rc = check_content(in, &variants)))
        return rc;
    if((rc = offers_prepare(c, ws, in, offs, &noffs, &longest))) {
        free(variants);
        return rc;
    }
    /* Its images (P16): those given, or a draft's own, which face the same rules. */
    if(!in->media_set && in->draft_id && (rc = store_post_media_list(c->st, in->draft_id, 0, &kept, &nkept))) {
        free(variants);
        return rc;
    }
    if(!in->media_set && nkept) {
        struct media_input mi[MEDIA_PER_POST_MAX];
        for(size_t i = 0; i < nkept && i < MEDIA_PER_POST_MAX; i++)
            mi[i] = (struct media_input){kept[i].media_id, kept[i].alt};
        rc = core_media_prepare(c, ws, mi, nkept, pm, &npm);
    } else {
        rc = core_media_prepare(c, ws, in->media, in->nmedia, pm, &npm);
    }
    if(rc) {
        store_post_media_list_free(kept, nkept);
        free(variants);
        return rc;
    }

    if(in->schedule != POST_DRAFT)
        rc = place_copies(c, NULL, ws, in, now, &o, marks, &n);
    if(rc)
        goto fail;
    if(n > 0) {
        /* The checks see each copy where it was just placed. */
        int64_t at[POST_CHANNELS_MAX];
        for(size_t i = 0; i < n; i++)
            at[i] = o[i].planned_at;
        if(longest && offer_wanted(in->text)) {
            /* The length checks count the text as published: with the longest code. */
            struct post_input chk = *in;
            if(!(checked_text = offer_apply(in->text, longest))) {
                rc = SAM_ENOMEM;
                goto fail;
            }
            chk.text = checked_text;
            rc = check_at(c, ws, &chk, at, 0, &found, &blocked);
        } else {
            rc = check_at(c, ws, in, at, 0, &found, &blocked);
        }
        if(rc)
            goto fail;
        rc = judge_checks(found, blocked, in->override_reason, violations);
        json_decref(found);
        if(rc)
            goto fail;
    }
    if(violations) {
        if(!*violations && !(*violations = json_array())) {
            rc = SAM_ENOMEM;
            goto fail;
        }
        core_media_alt_warnings(pm, npm, *violations);
    }
    rc = fill_post(out, ws, a, in, &variants, in->schedule == POST_DRAFT ? "draft" : "scheduled", now);
    if(rc)
        goto fail;
    out->id = in->draft_id; /* 0: a new post; else the draft becomes this one */
    out->offers = offs;       /* stored with the post, in its transaction */
    out->noffers = noffs;
    out->media = pm;          /* and its images (a draft keeps its own unless new ones came) */
    out->nmedia = in->media_set ? npm : 0;
    out->media_set = in->media_set;
    {
        /* P12: a post scheduled by someone whose posts need approval waits for an approver
         * (a draft waits for nobody until it is scheduled). */
        struct approval_actor aa;
        rc = core_approval_actor(c, a, ws, &aa);
        if(rc)
            goto fail;
        if(aa.needs && in->schedule != POST_DRAFT) {
            snprintf(out->approval, sizeof(out->approval), "pending");
            core_approval_step(&submitted, a, ws, "submitted", NULL, now);
            step = &submitted;
        }
    }
    {
        /* The post and its audit entry in one transaction (one commit). */
        struct store_audit e;
        struct create_detail cd = {out, n};
        core_audit_entry(a, ws,
                         in->draft_id ? (out->override_reason ? "post.schedule_draft.override" : "post.schedule_draft")
                                      : (out->override_reason ? "post.create.override" : "post.create"),
                         out->category, &e);
        rc = store_post_insert_audited(c->st, out, o, n, &e, create_detail, &cd, step);
    }
    if(rc)
        goto fail;
    out->offers = NULL;
    out->noffers = 0;
    out->media = NULL;
    out->nmedia = 0;
    out->media_set = 0;
    store_post_media_list_free(kept, nkept);
    free(checked_text);
    for(size_t i = 0; i < n; i++)
        if(marks[i].store)
            plan_taken(c, &marks[i]);
    *occ = o;
    *nocc = n;
    for(size_t i = 0; i < n && !step; i++) /* a post waiting for approval is not due for the publisher */
        if(o[i].planned_at <= now) {
            core_due(c);
            break;
        }
    return SAM_OK;
fail:
    free(checked_text);
    out->offers = NULL;
    out->noffers = 0;
    out->media = NULL;
    out->nmedia = 0;
    out->media_set = 0;
    store_post_media_list_free(kept, nkept);
    free(variants);
    free(o);
    store_post_cleanup(out);
    return rc;
}

/* Why fewer copies fit on a channel than were asked, in words; "" when all fit. */
static void plan_message(char *b, size_t n, const char *channel, size_t asked, size_t planned,
                         const struct series_stats *st, int gap_minutes)
{
    char why[600] = "", part[200];
    size_t used = 0;
    if(planned >= asked) {
        b[0] = '\0';
        return;
    }
    if(st->slots < asked) {
        snprintf(part, sizeof(part),
                 n_("the channel has only %zu posting slot in that time", "the channel has only %zu posting slots in that time",
                    st->slots),
                 st->slots);
        used += (size_t)snprintf(why + used, sizeof(why) - used, "%s%s", used ? "; " : "", part);
    }
    if(st->adjacent && used < sizeof(why))
        used += (size_t)snprintf(why + used, sizeof(why) - used, "%s%s", used ? "; " : "",
                                 _("copies never take two of its slots in a row, so other posts can sit between them"));
    if(st->gap && used < sizeof(why)) {
        if(gap_minutes % 60 == 0)
            snprintf(part, sizeof(part), n_("copies stay at least %d hour apart", "copies stay at least %d hours apart",
                                            (unsigned long)(gap_minutes / 60)),
                     gap_minutes / 60);
        else
            snprintf(part, sizeof(part), n_("copies stay at least %d minute apart", "copies stay at least %d minutes apart",
                                            (unsigned long)gap_minutes),
                     gap_minutes);
        used += (size_t)snprintf(why + used, sizeof(why) - used, "%s%s", used ? "; " : "", part);
    }
    if(st->taken && used < sizeof(why)) {
        snprintf(part, sizeof(part), n_("%zu of its slots holds another post", "%zu of its slots hold other posts", st->taken),
                 st->taken);
        used += (size_t)snprintf(why + used, sizeof(why) - used, "%s%s", used ? "; " : "", part);
    }
    if(!used)
        snprintf(why, sizeof(why), "%s", _("the copies a day leave no more room"));
    snprintf(b, n, _("%zu of the %zu copies asked for fit on \"%s\": %s. Add posting slots to the channel, or ask for fewer copies a day."),
             planned, asked, channel, why);
}

static int series_create(struct core *c, const struct actor *a, int64_t ws, const struct series_input *in,
                         int64_t now, struct store_post *post, struct store_series *series,
                         struct store_occurrence **occ, size_t *nocc, json_t *plan, json_t **violations)
{
    const struct post_input *pi = &in->post;
    struct series_rule rule;
    struct store_approval submitted, *step = NULL;
    struct store_occurrence *o = NULL;
    int64_t *times = NULL, firsts[POST_CHANNELS_MAX];
    char *variants = NULL;
    size_t n = 0;
    int rc;

    memset(post, 0, sizeof(*post));
    memset(series, 0, sizeof(*series));
    *occ = NULL;
    *nocc = 0;
    if(!pi->text)
        return sam_fail_field(SAM_EINVAL, "text", "text is required");
    if((rc = check_content(pi, &variants)))
        return rc;
    memset(&rule, 0, sizeof(rule));
    rule.per_day = in->per_day ? in->per_day : 3;
    rule.gap_minutes = in->gap_minutes ? in->gap_minutes : 240;
    rule.start = in->start > now ? in->start : now;
    rule.max_count = in->count;
    if(in->days < 0 || in->days > 366 || in->count < 0 || in->count > SERIES_COPIES_MAX ||
       (in->until && (in->until <= now || in->until > now + 366 * 86400)))
        rc = sam_fail_field(SAM_EINVAL, "days", "a series runs for 1-366 days, until a date within a year, or "
                                                "for 1-%d copies", SERIES_COPIES_MAX);
    else if(in->start > now + 2 * 366 * 86400)
        rc = sam_fail_field(SAM_EINVAL, "start", "a series starts at most two years ahead");
    else if(in->gap_minutes < 0 || in->gap_minutes > 7 * 1440)
        rc = sam_fail_field(SAM_EINVAL, "min_gap_hours", "the gap must be at most a week");
    else if(pi->nchannels == 0 || pi->nchannels > POST_CHANNELS_MAX)
        rc = sam_fail_field(SAM_EINVAL, "channels", "choose 1 to %d channels", POST_CHANNELS_MAX);
    if(rc)
        goto fail;
    rule.end = in->until ? in->until : rule.start + (int64_t)(in->days ? in->days : (in->count ? 366 : 7)) * 86400;
    o = calloc(pi->nchannels * SERIES_COPIES_MAX, sizeof(*o));
    times = malloc(sizeof(*times) * SERIES_COPIES_MAX);
    if(!o || !times) {
        rc = SAM_ENOMEM;
        goto fail;
    }
    for(size_t i = 0; !rc && i < pi->nchannels; i++) {
        struct store_channel ch;
        struct slot s[SLOTS_MAX];
        struct series_stats st;
        size_t ns, ntaken = 0, cnt = 0, asked;
        int64_t *taken = NULL;
        if((rc = publishing_channel(c, ws, pi->channels, i, &ch)))
            break;
        core_channel_slots(&ch, s, &ns);
        if(!rc)
            rc = taken_times(c, ch.id, now, &taken, &ntaken);
        if(!rc)
            rc = series_plan_stats(&rule, s, ns, ch.timezone, taken, ntaken, times, SERIES_COPIES_MAX, &cnt, &st);
        /* What was asked: the count, or per_day for each day of the series' time. */
        asked = in->count ? (size_t)in->count
                          : (size_t)rule.per_day * (size_t)((rule.end - rule.start + 86399) / 86400);
        if(asked > SERIES_COPIES_MAX)
            asked = SERIES_COPIES_MAX;
        if(!rc && plan) {
            char msg[900];
            json_t *e;
            plan_message(msg, sizeof(msg), ch.name, asked, cnt, &st, rule.gap_minutes);
            e = json_pack("{s:I, s:I, s:I}", "channel_id", (json_int_t)ch.id, "asked", (json_int_t)asked, "planned",
                          (json_int_t)cnt);
            if(e && cnt) {
                json_object_set_new(e, "first", view_time(times[0]));
                json_object_set_new(e, "last", view_time(times[cnt - 1]));
            }
            if(e && msg[0])
                json_object_set_new(e, "message", json_string(msg));
            json_array_append_new(plan, e);
        }
        if(!rc && cnt == 0 && !in->dry_run)
            rc = sam_fail_field(SAM_EINVAL, "channels", "no slot of \"%s\" fits the series: add slots or widen it",
                                ch.name);
        firsts[i] = cnt ? times[0] : now;
        for(size_t k = 0; !rc && k < cnt; k++) {
            o[n].channel_id = ch.id;
            o[n].planned_at = times[k];
            o[n].variant = (int)k; /* copy k rotates through the text and its variants */
            new_key(o[n].idempotency_key);
            n++;
        }
        free(taken);
        store_channel_cleanup(&ch);
    }
    if(rc)
        goto fail;
    {
        /* The text faces the checks once per channel, at its first copy, against the other
         * posts: its own copies repeat by design (that is what a series is). */
        json_t *found = NULL;
        int blocked = 0;
        struct post_input first = *pi;
        first.schedule = POST_AT;
        rc = check_at(c, ws, &first, firsts, 0, &found, &blocked);
        if(!rc && in->dry_run) {
            if(violations)
                *violations = found;
            else
                json_decref(found);
            free(variants);
            free(times);
            free(o);
            return SAM_OK;
        }
        if(!rc)
            rc = judge_checks(found, blocked, pi->override_reason, NULL);
        if(!rc && violations)
            *violations = json_incref(found);
        json_decref(found);
        if(rc)
            goto fail;
    }
    rc = fill_post(post, ws, a, pi, &variants, "scheduled", now);
    if(rc)
        goto fail;
    {
        /* P12: a series by someone whose posts need approval waits for an approver. */
        struct approval_actor aa;
        rc = core_approval_actor(c, a, ws, &aa);
        if(rc)
            goto fail;
        if(aa.needs) {
            snprintf(post->approval, sizeof(post->approval), "pending");
            core_approval_step(&submitted, a, ws, "submitted", NULL, now);
            step = &submitted;
        }
    }
    series->per_day = rule.per_day;
    series->min_gap_minutes = rule.gap_minutes;
    series->days = in->days;
    series->until_at = in->until;
    series->max_count = in->count;
    series->replace_previous = in->replace_previous;
    series->created_at = now;
    rc = store_series_insert(c->st, post, series, o, n, step);
    if(rc)
        goto fail;
    json_t *d = json_pack("{s:I, s:I, s:i, s:i, s:b}", "series_id", (json_int_t)series->id, "post_id",
                          (json_int_t)post->id, "copies", (int)n, "per_day", rule.per_day, "replace_previous",
                          in->replace_previous);
    if(d && step)
        json_object_set_new(d, "approval", json_string("pending"));
    core_audit(c, a, ws, "series.create", post->category, d);
    json_decref(d);
    free(times);
    *occ = o;
    *nocc = n;
    return SAM_OK;
fail:
    free(variants);
    free(times);
    free(o);
    store_post_cleanup(post);
    return rc;
}

int core_post_create(struct core *c, const struct actor *a, int64_t ws, const struct post_input *in,
                     int64_t now, struct store_post *out, struct store_occurrence **occ, size_t *nocc,
                     json_t **violations)
{
    /* Planning (placement, checks, insert) runs under the installation's planning lock,
     * so two posts planned at once, by any process, see each other. */
    struct store_lock *lk;
    struct store_post draft;
    struct post_input merged;
    int rc;
    memset(&draft, 0, sizeof(draft));
    if(in->draft_id) {
        /* The draft's content where the caller gave none. */
        rc = core_post_get(c, ws, in->draft_id, &draft);
        if(!rc) {
            struct approval_actor aa; /* P12: an agent schedules only its own drafts */
            rc = core_approval_actor(c, a, ws, &aa);
            if(!rc)
                rc = core_approval_may_change(&aa, a, &draft);
        }
        if(!rc && strcmp(draft.state, "draft"))
            rc = sam_fail(SAM_ECONFLICT, "the post is no longer a draft");
        if(!rc && in->schedule == POST_DRAFT)
            rc = sam_fail_field(SAM_EINVAL, "schedule", "say when: \"now\", \"next_slot\" or a time");
        if(rc) {
            store_post_cleanup(&draft);
            return rc;
        }
        merged = *in;
        if(!merged.text)
            merged.text = draft.text;
        if(!merged.link)
            merged.link = draft.link;
        if(!merged.category)
            merged.category = draft.category;
        if(!merged.campaign)
            merged.campaign = draft.campaign;
        json_t *vars = NULL;
        if(!merged.variants && draft.variants && (vars = json_loads(draft.variants, 0, NULL)))
            merged.variants = vars;
        in = &merged;
        rc = store_lock(c->st, STORE_LOCK_PLAN, &lk);
        if(!rc) {
            rc = post_create(c, a, ws, in, now, out, occ, nocc, violations);
            store_unlock(lk);
        }
        json_decref(vars);
        store_post_cleanup(&draft);
        return rc;
    }
    rc = store_lock(c->st, STORE_LOCK_PLAN, &lk);
    if(rc)
        return rc;
    rc = post_create(c, a, ws, in, now, out, occ, nocc, violations);
    store_unlock(lk);
    return rc;
}

/* ---- batches (post.h) ---- */

#define BATCH_SEARCH_DAYS 371 /* where plan_next_slot and slots_next_free look */
#define BATCH_WEEK (7 * 86400)
#define BATCH_WINDOW (SLOTS_MAX * 2 + 16)

static int has_instant(const int64_t *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while(lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if(v[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == t;
}

/* Where the batch places ch's copy of in: as place() does, except that the next free slot
 * is the first slot instant after now that neither the queue (read once per channel, a
 * year ahead, as plan_next_slot reads it) nor the batch's earlier posts hold. A post's
 * next free slot never comes before the one found for the post before it, so each search
 * starts where the last one ended: the batch costs the slots it passes, once. */
static int batch_place(struct post_batch *b, const struct post_input *in, const struct store_channel *ch,
                       int64_t now, int64_t *at)
{
    struct batch_channel *bc = batch_channel_of(b, ch->id);
    int64_t end = now + 1 + (int64_t)BATCH_SEARCH_DAYS * 86400, from;
    int rc;
    if(in->schedule != POST_NEXT_SLOT || !bc)
        return place(b->c, in, ch, now, at, NULL);
    if(!bc->slots_loaded) {
        core_channel_slots(ch, bc->slots, &bc->nslots);
        bc->slots_loaded = 1;
    }
    if(bc->nslots == 0)
        return sam_fail_field(SAM_EINVAL, "schedule", "channel \"%s\" has no posting slots: add some or pick a time",
                              ch->name);
    if(!bc->taken_loaded) {
        /* Where the channel's first free slot is, from the planner's mark (plan.h: it does
         * not read the queue before it), so that a channel whose queue runs months ahead
         * costs the batch only the slots from there on, not every one it has taken. */
        int64_t freed, first = 0;
        rc = plan_next_slot(b->c, ch, bc->slots, bc->nslots, now, &first, NULL);
        if(rc && rc != SAM_ENOTFOUND)
            return rc;
        bc->upto = !rc && first > now ? first - 1 : now;
        rc = store_channel_taken(b->c->st, ch->id, bc->upto, end, &bc->taken, &bc->ntaken, &freed);
        if(rc)
            return rc;
        bc->taken_loaded = 1;
    }
    if(!bc->win && !(bc->win = malloc(BATCH_WINDOW * sizeof(*bc->win))))
        return SAM_ENOMEM;
    for(from = bc->upto + 1; from < end;) {
        if(!(bc->win_to > bc->win_from && from >= bc->win_from && from < bc->win_to)) {
            rc = slots_between(bc->slots, bc->nslots, ch->timezone, from, from + BATCH_WEEK, bc->win, BATCH_WINDOW,
                               &bc->nwin);
            if(rc) {
                bc->win_from = bc->win_to = 0;
                return rc;
            }
            bc->win_from = from;
            bc->win_to = from + BATCH_WEEK;
        }
        for(size_t i = 0; i < bc->nwin && bc->win[i] < end; i++) {
            if(bc->win[i] < from || has_instant(bc->taken, bc->ntaken, bc->win[i]) ||
               has_instant(bc->mine, bc->nmine, bc->win[i]))
                continue;
            *at = bc->win[i];
            return SAM_OK;
        }
        from = bc->win_to;
    }
    return sam_fail_field(SAM_EINVAL, "schedule", "every slot of \"%s\" in the coming year is taken", ch->name);
}

/* Records the batch's copy at `at` on bc (text and category as the checks read them). */
static int batch_hold(struct post_batch *b, struct batch_channel *bc, int64_t post, int64_t at, const char *text,
                      const char *category, int next_slot)
{
    size_t lo = 0, hi;
    struct batch_copy cp;
    memset(&cp, 0, sizeof(cp));
    cp.at = at;
    cp.post = post;
    cp.occ = POST_BATCH_ID_BASE + ++b->copies;
    snprintf(cp.category, sizeof(cp.category), "%s", category);
    if(bc->n == bc->cap) {
        size_t cap = bc->cap ? bc->cap * 2 : 16;
        struct batch_copy *v = realloc(bc->copies, cap * sizeof(*v));
        if(!v)
            return SAM_ENOMEM;
        bc->copies = v;
        bc->cap = cap;
    }
    if(bc->nmine == bc->capmine) {
        size_t cap = bc->capmine ? bc->capmine * 2 : 16;
        int64_t *v = realloc(bc->mine, cap * sizeof(*v));
        if(!v)
            return SAM_ENOMEM;
        bc->mine = v;
        bc->capmine = cap;
    }
    if(!(cp.text = strdup(text)))
        return SAM_ENOMEM;
    /* In (at, post, occ) order: post and occ only grow, so after every copy at `at`. */
    for(hi = bc->n; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        if(bc->copies[mid].at <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&bc->copies[lo + 1], &bc->copies[lo], (bc->n - lo) * sizeof(*bc->copies));
    bc->copies[lo] = cp;
    bc->n++;
    for(lo = 0, hi = bc->nmine; lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        if(bc->mine[mid] <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&bc->mine[lo + 1], &bc->mine[lo], (bc->nmine - lo) * sizeof(*bc->mine));
    bc->mine[lo] = at;
    bc->nmine++;
    if(next_slot && at > bc->upto)
        bc->upto = at; /* every slot instant up to it is taken now */
    return SAM_OK;
}

int post_batch_open(struct core *c, const struct actor *a, int64_t ws, int64_t now, struct post_batch **out)
{
    struct post_batch *b = calloc(1, sizeof(*b));
    int rc;
    *out = NULL;
    if(!b)
        return SAM_ENOMEM;
    b->c = c;
    b->a = a;
    b->ws = ws;
    b->now = now;
    rc = store_lock(c->st, STORE_LOCK_PLAN, &b->lk);
    if(!rc)
        rc = store_channel_list(c->st, ws, NULL, 0, 10000, &b->channels, &b->nchannels);
    if(!rc && !(b->bc = calloc(b->nchannels ? b->nchannels : 1, sizeof(*b->bc))))
        rc = SAM_ENOMEM;
    if(rc) {
        post_batch_free(b);
        return rc;
    }
    *out = b;
    return SAM_OK;
}

int post_batch_add(struct post_batch *b, const struct post_input *in, int64_t line, json_t **violations,
                   int *blocked)
{
    struct plan_found marks[POST_CHANNELS_MAX];
    struct store_post_media pm[MEDIA_PER_POST_MAX];
    struct store_occurrence *o = NULL;
    struct batch_post *bp;
    char *variants = NULL;
    json_t *found = NULL;
    size_t n = 0, npm = 0;
    int rc;
    int64_t post;

    *violations = NULL;
    *blocked = 0;
    if(line <= 0)
        line = (int64_t)b->nposts + 1;
    post = POST_BATCH_ID_BASE + line;
    if(!in->text)
        return sam_fail_field(SAM_EINVAL, "text", "text is required");
    if(in->noffers)
        return sam_fail_field(SAM_EINVAL, "offers", "offer codes are given to each post on its own, not in an import");
    /* Its images face the rules a post's do (P16), before anything is placed. */
    if(in->nmedia && (rc = core_media_prepare(b->c, b->ws, in->media, in->nmedia, pm, &npm)))
        return rc;
    if((rc = check_content(in, &variants)))
        return rc;
    {
        /* As post_create: a text that says {offer} needs a code for each channel, which a
         * post of a batch cannot have (a draft may: its codes come when it is scheduled). */
        struct store_offer offs[POST_CHANNELS_MAX];
        size_t noffs = 0;
        const char *longest = NULL;
        if((rc = offers_prepare(b->c, b->ws, in, offs, &noffs, &longest))) {
            free(variants);
            return rc;
        }
    }
    if(in->schedule != POST_DRAFT) {
        int64_t at[POST_CHANNELS_MAX];
        rc = place_copies(b->c, b, b->ws, in, b->now, &o, marks, &n);
        for(size_t i = 0; !rc && i < n; i++)
            at[i] = o[i].planned_at;
        if(!rc)
            rc = check_at_in(b->c, b->ws, in, at, 0, b, &found, blocked);
    } else if(!(found = json_array()))
        rc = SAM_ENOMEM;
    if(!rc && b->nposts == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct batch_post *v = realloc(b->posts, cap * sizeof(*v));
        if(!v)
            rc = SAM_ENOMEM;
        else {
            b->posts = v;
            b->cap = cap;
        }
    }
    if(rc)
        goto fail;
    bp = &b->posts[b->nposts];
    memset(bp, 0, sizeof(*bp));
    {
        /* The override reason is the file's, given when it is stored. */
        struct post_input plain = *in;
        plain.override_reason = NULL;
        rc = fill_post(&bp->p, b->ws, b->a, &plain, &variants, in->schedule == POST_DRAFT ? "draft" : "scheduled",
                       b->now);
    }
    if(!rc && npm) {
        /* Kept with the post until it is stored: its images and a copy of their alt texts. */
        memcpy(bp->pm, pm, npm * sizeof(*pm));
        bp->npm = npm;
        for(size_t i = 0; !rc && i < bp->npm; i++) {
            if(!(bp->alts[i] = strdup(bp->pm[i].alt ? bp->pm[i].alt : "")))
                rc = SAM_ENOMEM;
            else
                bp->pm[i].alt = bp->alts[i];
        }
        if(!rc)
            core_media_alt_warnings(bp->pm, bp->npm, found);
    }
    for(size_t i = 0; !rc && i < n; i++) {
        struct batch_channel *bc = batch_channel_of(b, o[i].channel_id);
        if(bc)
            rc = batch_hold(b, bc, post, o[i].planned_at, in->text, bp->p.category, in->schedule == POST_NEXT_SLOT);
    }
    if(rc) {
        for(size_t i = 0; i < MEDIA_PER_POST_MAX; i++)
            free(bp->alts[i]);
        store_post_cleanup(&bp->p);
        goto fail;
    }
    bp->occ = o;
    bp->n = n;
    bp->blocked = *blocked;
    bp->line = line;
    b->nposts++;
    *violations = found;
    return SAM_OK;
fail:
    free(variants);
    free(o);
    json_decref(found);
    *blocked = 0;
    return rc;
}

static char *batch_detail(void *arg)
{
    const struct batch_post *bp = arg;
    json_t *d = json_pack("{s:I, s:s, s:i, s:s?, s:{s:I, s:s?}}", "post_id", (json_int_t)bp->p.id, "state",
                          bp->p.state, "occurrences", (int)bp->n, "override_reason", bp->p.override_reason, "import",
                          "line", (json_int_t)bp->line, "id", bp->import_key);
    if(d && !strcmp(bp->p.approval, "pending"))
        json_object_set_new(d, "approval", json_string("pending")); /* P12: sent for approval */
    char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    return text;
}

/* The import's record of its posts: [[line, post id], ...]. */
static char *batch_posts_json(void *arg)
{
    const struct post_batch *b = arg;
    json_t *list = json_array();
    char *text;
    for(size_t i = 0; list && i < b->nposts; i++)
        if(json_array_append_new(list, json_pack("[I, I]", (json_int_t)b->posts[i].line,
                                                  (json_int_t)b->posts[i].p.id))) {
            json_decref(list);
            list = NULL;
        }
    text = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    return text;
}

int post_batch_store(struct post_batch *b, const char *override_reason, const struct post_batch_import *imp)
{
    struct store_post_new *pn = NULL;
    struct store_audit summary;
    struct store_import rec;
    struct store_approval submitted;
    struct approval_actor aa;
    int rc = SAM_OK, due = 0;
    memset(&summary, 0, sizeof(summary));
    memset(&rec, 0, sizeof(rec));
    for(size_t i = 0; i < b->nposts; i++)
        if(b->posts[i].blocked && !(override_reason && *override_reason))
            return sam_fail_field(SAM_EINVAL, "checks", "a blocking check stops the post on line %lld (give a reason "
                                  "to import anyway)", (long long)b->posts[i].line);
    if(override_reason && *override_reason) {
        struct post_input r = {.override_reason = override_reason};
        if((rc = core_post_validate(&r)))
            return rc;
    }
    /* P12: the posts of someone whose posts need approval wait for an approver, as each
     * would made one by one (a draft waits for nobody until it is scheduled). */
    if((rc = core_approval_actor(b->c, b->a, b->ws, &aa)))
        return rc;
    core_approval_step(&submitted, b->a, b->ws, "submitted", NULL, b->now);
    if(!(pn = calloc(b->nposts ? b->nposts : 1, sizeof(*pn))))
        return SAM_ENOMEM;
    b->pending = 0;
    for(size_t i = 0; !rc && i < b->nposts; i++) {
        struct batch_post *bp = &b->posts[i];
        int waits = aa.needs && strcmp(bp->p.state, "draft") != 0;
        free(bp->p.override_reason);
        bp->p.override_reason = NULL;
        if(bp->blocked && !(bp->p.override_reason = strdup(override_reason)))
            rc = SAM_ENOMEM;
        bp->import_key = imp ? imp->key : NULL;
        pn[i].p = &bp->p;
        pn[i].occ = bp->occ;
        pn[i].n = bp->n;
        bp->p.media = bp->pm; /* its images, in the post's transaction */
        bp->p.nmedia = bp->npm;
        bp->p.media_set = bp->npm > 0;
        core_audit_entry(b->a, b->ws, bp->blocked ? "post.create.override" : "post.create", bp->p.category,
                         &pn[i].audit);
        pn[i].detail = batch_detail;
        pn[i].arg = bp;
        snprintf(bp->p.approval, sizeof(bp->p.approval), "%s", waits ? "pending" : "none");
        pn[i].step = waits ? &submitted : NULL;
        b->pending += (size_t)waits;
        for(size_t k = 0; k < bp->n && !waits; k++) /* one waiting for approval is not due */
            if(bp->occ[k].planned_at <= b->now)
                due = 1;
    }
    if(!rc && imp) {
        core_audit_entry(b->a, b->ws, "post.import", NULL, &summary);
        if(imp->summary && !(summary.detail = json_dumps(imp->summary, JSON_COMPACT | JSON_SORT_KEYS)))
            rc = SAM_ENOMEM;
    }
    if(!rc && imp && imp->key) {
        rec.workspace_id = b->ws;
        snprintf(rec.key, sizeof(rec.key), "%s", imp->key);
        snprintf(rec.digest, sizeof(rec.digest), "%s", imp->digest ? imp->digest : "");
        rec.created_at = b->now;
    }
    if(!rc)
        rc = store_posts_insert(b->c->st, pn, b->nposts, imp ? &summary : NULL, imp && imp->key ? &rec : NULL,
                                batch_posts_json, b);
    free(summary.detail);
    free(pn);
    if(rc) {
        for(size_t i = 0; i < b->nposts; i++)
            b->posts[i].p.id = 0;
        return rc;
    }
    if(due)
        core_due(b->c);
    return SAM_OK;
}

size_t post_batch_count(const struct post_batch *b)
{
    return b->nposts;
}

size_t post_batch_pending(const struct post_batch *b)
{
    return b->pending;
}

int64_t post_batch_id(const struct post_batch *b, size_t i)
{
    return i < b->nposts ? b->posts[i].p.id : 0;
}

const struct store_occurrence *post_batch_copies(const struct post_batch *b, size_t i, size_t *n)
{
    *n = i < b->nposts ? b->posts[i].n : 0;
    return i < b->nposts ? b->posts[i].occ : NULL;
}

void post_batch_free(struct post_batch *b)
{
    if(!b)
        return;
    if(b->lk)
        store_unlock(b->lk);
    for(size_t i = 0; i < b->nposts; i++) {
        b->posts[i].p.media = NULL;
        b->posts[i].p.nmedia = 0;
        store_post_cleanup(&b->posts[i].p);
        free(b->posts[i].occ);
        for(size_t k = 0; k < MEDIA_PER_POST_MAX; k++)
            free(b->posts[i].alts[k]);
    }
    free(b->posts);
    for(size_t i = 0; b->bc && i < b->nchannels; i++) {
        for(size_t k = 0; k < b->bc[i].n; k++)
            free(b->bc[i].copies[k].text);
        free(b->bc[i].copies);
        store_queue_items_free(b->bc[i].past, b->bc[i].npast);
        store_queue_items_free(b->bc[i].fut, b->bc[i].nfut);
        free(b->bc[i].taken);
        free(b->bc[i].mine);
        free(b->bc[i].win);
    }
    free(b->bc);
    store_channel_list_free(b->channels, b->nchannels);
    free(b);
}

int core_series_create(struct core *c, const struct actor *a, int64_t ws, const struct series_input *in,
                       int64_t now, struct store_post *post, struct store_series *series,
                       struct store_occurrence **occ, size_t *nocc, json_t **plan, json_t **violations)
{
    struct store_lock *lk;
    json_t *p = json_array();
    int rc;
    if(violations)
        *violations = NULL;
    if(plan)
        *plan = NULL;
    if(!p)
        return SAM_ENOMEM;
    rc = store_lock(c->st, STORE_LOCK_PLAN, &lk);
    if(!rc) {
        rc = series_create(c, a, ws, in, now, post, series, occ, nocc, p, violations);
        store_unlock(lk);
    }
    if(!rc && plan)
        *plan = p;
    else
        json_decref(p);
    return rc;
}

json_t *view_series(const struct store_series *s)
{
    json_t *j = json_pack("{s:I, s:I, s:i, s:i, s:b, s:o}", "id", (json_int_t)s->id, "post_id",
                          (json_int_t)s->post_id, "per_day", s->per_day, "min_gap_minutes", s->min_gap_minutes,
                          "replace_previous", s->replace_previous, "created_at", view_time(s->created_at));
    if(!j)
        return NULL;
    if(s->days)
        json_object_set_new(j, "days", json_integer(s->days));
    if(s->until_at)
        json_object_set_new(j, "until", view_time(s->until_at));
    if(s->max_count)
        json_object_set_new(j, "count", json_integer(s->max_count));
    return j;
}

int core_post_get(struct core *c, int64_t ws, int64_t id, struct store_post *out)
{
    int rc = store_post_get(c->st, id, out);
    if(!rc && out->workspace_id != ws) {
        store_post_cleanup(out);
        rc = SAM_ENOTFOUND;
    }
    if(rc == SAM_ENOTFOUND)
        return sam_fail(rc, "post %lld not found", (long long)id);
    return rc;
}

static int occurrence_move(struct core *c, const struct actor *a, int64_t ws, int64_t id, int64_t at,
                           const char *override_reason, int64_t now, struct store_occurrence *out,
                           json_t **violations)
{
    struct store_post p;
    struct approval_actor aa;
    struct store_approval step;
    struct store_approval_change ac;
    json_t *found = NULL, *vars = NULL, *d;
    int blocked = 0, to_pending = 0, rc = store_occurrence_get(c->st, id, out);
    int64_t from;
    if(!rc && out->workspace_id != ws)
        rc = sam_fail(SAM_ENOTFOUND, "%s", _("no such post"));
    if(!rc && strcmp(out->state, "scheduled"))
        rc = sam_fail(SAM_ECONFLICT, "only a scheduled post can be moved; this one has gone out, is going out or was "
                                     "cancelled");
    if(!rc && at < now - 60)
        rc = sam_fail_field(SAM_EINVAL, "planned_at", "choose a time from now on");
    if(!rc && at > now + 2 * 366 * 86400)
        rc = sam_fail_field(SAM_EINVAL, "planned_at", "a post can be planned at most two years ahead");
    if(rc)
        return rc;
    if(at < now)
        at = now;
    rc = core_post_get(c, ws, out->post_id, &p);
    if(rc)
        return rc;
    /* P12: an agent moves only its own posts; a move by someone whose posts need approval
     * sends the post back for approval (the approver approved what and when). */
    rc = core_approval_actor(c, a, ws, &aa);
    if(!rc)
        rc = core_approval_may_change(&aa, a, &p);
    if(!rc)
        rc = core_approval_on_change(&aa, a, &p, now, &step, &ac, &to_pending);
    if(rc) {
        store_post_cleanup(&p);
        return rc;
    }
    {
        /* The copy faces the checks at its new place, as a new post would there (its post's
         * other copies are not its neighbours). */
        struct post_input chk = {.text = p.text, .link = p.link, .category = p.category, .campaign = p.campaign,
                                 .channels = &out->channel_id, .nchannels = 1, .schedule = POST_AT, .at = at};
        if(p.variants && (vars = json_loads(p.variants, 0, NULL)))
            chk.variants = vars;
        rc = check_at(c, ws, &chk, &at, p.id, &found, &blocked);
        if(!rc)
            rc = judge_checks(found, blocked, override_reason, violations);
        json_decref(found);
        json_decref(vars);
    }
    store_post_cleanup(&p);
    if(rc)
        return rc;
    from = out->planned_at;
    rc = store_occurrence_move(c->st, id, at, now, &ac);
    if(rc)
        return rc;
    out->planned_at = at;
    out->next_attempt_at = 0;
    out->wait_reason[0] = '\0';
    out->wait_limit = 0;
    d = json_pack("{s:I, s:I, s:I, s:o, s:o, s:s?}", "occurrence_id", (json_int_t)id, "post_id",
                  (json_int_t)out->post_id, "channel_id", (json_int_t)out->channel_id, "from", view_time(from), "to",
                  view_time(at), "override_reason", blocked ? override_reason : NULL);
    if(d && to_pending)
        json_object_set_new(d, "approval", json_string("pending"));
    core_audit(c, a, ws, blocked ? "occurrence.move.override" : "occurrence.move", NULL, d);
    json_decref(d);
    if(at <= now && (!strcmp(ac.to, "none") || !strcmp(ac.to, "approved")))
        core_due(c);
    return SAM_OK;
}

int core_occurrence_move(struct core *c, const struct actor *a, int64_t ws, int64_t id, int64_t at,
                         const char *override_reason, int64_t now, struct store_occurrence *out,
                         json_t **violations)
{
    struct store_lock *lk;
    int rc;
    if(violations)
        *violations = NULL;
    rc = store_lock(c->st, STORE_LOCK_PLAN, &lk);
    if(rc)
        return rc;
    rc = occurrence_move(c, a, ws, id, at, override_reason, now, out, violations);
    store_unlock(lk);
    return rc;
}

int core_occurrence_cancel(struct core *c, const struct actor *a, int64_t ws, int64_t id,
                           struct store_occurrence *out)
{
    struct store_post p;
    struct approval_actor aa;
    int rc = store_occurrence_get(c->st, id, out);
    json_t *d;
    if(!rc && out->workspace_id != ws)
        rc = sam_fail(SAM_ENOTFOUND, "%s", _("no such post"));
    if(rc)
        return rc;
    /* P12: an agent withdraws only its own posts, one delivery as much as all of them. */
    if((rc = core_post_get(c, ws, out->post_id, &p)))
        return rc;
    rc = core_approval_actor(c, a, ws, &aa);
    if(!rc)
        rc = core_approval_may_change(&aa, a, &p);
    store_post_cleanup(&p);
    if(!rc)
        rc = store_occurrence_cancel(c->st, id, time_now());
    if(rc)
        return rc;
    snprintf(out->state, sizeof(out->state), "%s", "cancelled");
    d = json_pack("{s:I, s:I, s:I, s:o}", "occurrence_id", (json_int_t)id, "post_id", (json_int_t)out->post_id,
                  "channel_id", (json_int_t)out->channel_id, "planned_at", view_time(out->planned_at));
    core_audit(c, a, ws, "occurrence.cancel", NULL, d);
    json_decref(d);
    return SAM_OK;
}

/* What an edit does beyond the post's fields, filled in place: to its approval (P12,
 * core_approval_on_change; ac.step may point to step), and its images (P16) when the edit
 * gives them (media_set). */
struct edit_approval {
    struct store_approval step;
    struct store_approval_change ac, *change; /* change: &ac, or NULL for a draft */
    int to_pending;
    struct store_post_media pm[MEDIA_PER_POST_MAX];
    size_t npm;
    int media_set;
};

/* The edit of post id by a as PATCH would make it, not yet stored: *out gets the post with
 * in's content fields over its own, and *found and *blocked what the checks say of it where
 * its scheduled copies are planned (as a new post would, without its own earlier version).
 * SAM_ECONFLICT once an occurrence is published or in flight, or the post was cancelled;
 * SAM_EPERM for an agent's edit of a post it did not write (P12). *ap gets what the edit does
 * to the post's approval. On success the caller cleans up *out and releases *found. */
static int edit_prepare(struct core *c, const struct actor *a, int64_t ws, int64_t id, const struct post_input *in,
                        struct store_post *out, json_t **found, int *blocked, struct edit_approval *ap)
{
    struct store_occurrence *occ = NULL;
    struct approval_actor aa;
    size_t n = 0;
    char *variants = NULL;
    int64_t chans[POST_CHANNELS_MAX], at[POST_CHANNELS_MAX];
    size_t k = 0;
    int rc;

    *found = NULL;
    *blocked = 0;
    ap->change = NULL;
    ap->to_pending = 0;
    ap->npm = 0;
    ap->media_set = in->media_set;
    rc = core_post_get(c, ws, id, out);
    if(rc)
        return rc;
    /* P12: an agent edits only its own posts; an edit of a scheduled post by someone whose
     * posts need approval sends it back for approval (a draft waits for nobody). */
    rc = core_approval_actor(c, a, ws, &aa);
    if(!rc)
        rc = core_approval_may_change(&aa, a, out);
    if(!rc && strcmp(out->state, "draft") &&
       !(rc = core_approval_on_change(&aa, a, out, time_now(), &ap->step, &ap->ac, &ap->to_pending)))
        ap->change = &ap->ac;
    if(rc)
        goto fail;
    rc = store_occurrence_list(c->st, ws, id, 0, 0, 0, 0, 1000, &occ, &n);
    for(size_t i = 0; !rc && i < n; i++)
        if(!strcmp(occ[i].state, "published") || !strcmp(occ[i].state, "publishing"))
            rc = sam_fail(SAM_ECONFLICT, "the post has already gone out on a channel: write a new post instead");
    if(!rc && !strcmp(out->state, "cancelled"))
        rc = sam_fail(SAM_ECONFLICT, "the post was cancelled");
    if(!rc)
        rc = check_content(in, &variants);
    if(!rc && in->media_set)
        rc = core_media_prepare(c, ws, in->media, in->nmedia, ap->pm, &ap->npm);
    if(rc)
        goto fail;
#define REPLACE(field, value)                                                                                  \
    do {                                                                                                       \
        char *v_ = (value) && *(value) ? strdup(value) : NULL;                                                 \
        free(out->field);                                                                                      \
        out->field = v_;                                                                                       \
    } while(0)
    if(in->text)
        REPLACE(text, in->text);
    if(in->link)
        REPLACE(link, in->link);
    if(in->campaign)
        REPLACE(campaign, in->campaign);
#undef REPLACE
    if(variants) {
        free(out->variants);
        out->variants = variants;
        variants = NULL;
    }
    if(in->category)
        snprintf(out->category, sizeof(out->category), "%s", in->category);
    if(!out->text) {
        rc = SAM_ENOMEM;
        goto fail;
    }
    for(size_t i = 0; i < n && k < POST_CHANNELS_MAX; i++)
        if(!strcmp(occ[i].state, "scheduled")) {
            chans[k] = occ[i].channel_id;
            at[k++] = occ[i].planned_at;
        }
    if(k) {
        struct post_input chk = {.text = out->text, .link = out->link, .category = out->category,
                                 .channels = chans, .nchannels = k, .schedule = POST_AT};
        rc = check_at(c, ws, &chk, at, id, found, blocked);
    } else {
        *found = json_array();
        rc = *found ? SAM_OK : SAM_ENOMEM;
    }
    if(rc)
        goto fail;
    free(occ);
    return SAM_OK;
fail:
    free(occ);
    free(variants);
    store_post_cleanup(out);
    return rc;
}

int core_post_check_edit(struct core *c, const struct actor *a, int64_t ws, int64_t id, const struct post_input *in,
                         json_t **violations, int *blocked)
{
    struct store_post p;
    struct edit_approval ap;
    int rc = edit_prepare(c, a, ws, id, in, &p, violations, blocked, &ap);
    if(!rc) {
        if(ap.media_set) /* P16: a missing alt text is a warning */
            core_media_alt_warnings(ap.pm, ap.npm, *violations);
        store_post_cleanup(&p);
    }
    return rc;
}

int core_post_edit(struct core *c, const struct actor *a, int64_t ws, int64_t id, const struct post_input *in,
                   struct store_post *out, json_t **violations)
{
    json_t *found = NULL;
    int blocked = 0;
    struct edit_approval ap;
    int rc = edit_prepare(c, a, ws, id, in, out, &found, &blocked, &ap);
    if(rc)
        return rc;
    rc = judge_checks(found, blocked, in->override_reason, violations);
    json_decref(found);
    if(rc)
        goto fail;
    if(ap.media_set && violations && *violations) /* P16: a missing alt text is a warning */
        core_media_alt_warnings(ap.pm, ap.npm, *violations);
    if(in->override_reason && *in->override_reason) {
        char *r = strdup(in->override_reason);
        free(out->override_reason);
        out->override_reason = r;
    }
    out->updated_at = time_now();
    out->media = ap.pm; /* its images change in the same transaction, when given */
    out->nmedia = ap.npm;
    out->media_set = ap.media_set;
    rc = store_post_update(c->st, out, ap.change);
    out->media = NULL;
    out->nmedia = 0;
    out->media_set = 0;
    if(rc)
        goto fail;
    store_post_cleanup(out); /* as stored: its approval, and updated_at, which only goes up */
    if((rc = core_post_get(c, ws, id, out)))
        return rc;
    json_t *d = json_pack("{s:I}", "post_id", (json_int_t)id);
    if(d && ap.to_pending)
        json_object_set_new(d, "approval", json_string("pending"));
    core_audit(c, a, ws, "post.edit", out->category, d);
    json_decref(d);
    return SAM_OK;
fail:
    store_post_cleanup(out); /* *violations stays: a block's findings are the answer */
    return rc;
}

int core_post_cancel(struct core *c, const struct actor *a, int64_t ws, int64_t id)
{
    struct store_post p;
    struct approval_actor aa;
    int rc = core_post_get(c, ws, id, &p);
    if(rc)
        return rc;
    /* P12: an agent withdraws only its own posts. */
    rc = core_approval_actor(c, a, ws, &aa);
    if(!rc)
        rc = core_approval_may_change(&aa, a, &p);
    if(!rc)
        rc = store_post_cancel(c->st, id, time_now());
    if(!rc) {
        json_t *d = json_pack("{s:I}", "post_id", (json_int_t)id);
        core_audit(c, a, ws, "post.cancel", p.category, d);
        json_decref(d);
    }
    store_post_cleanup(&p);
    return rc;
}

int core_post_findings(struct core *c, const struct store_post *p, int64_t now, json_t **violations)
{
    /* What the checks find where the post's scheduled copies are planned, as an edit of it
     * would be checked (without its own copies). */
    struct store_occurrence *sched = NULL;
    size_t ns = 0, k = 0;
    int64_t chans[POST_CHANNELS_MAX], at[POST_CHANNELS_MAX];
    json_t *vars = NULL;
    int blocked = 0, rc;
    (void)now;
    *violations = NULL;
    rc = store_occurrence_list(c->st, p->workspace_id, p->id, 0, 0, 0, 0, 1000, &sched, &ns);
    for(size_t i = 0; !rc && i < ns && k < POST_CHANNELS_MAX; i++) {
        size_t j;
        if(strcmp(sched[i].state, "scheduled"))
            continue;
        for(j = 0; j < k && chans[j] != sched[i].channel_id; j++)
            ;
        if(j < k)
            continue; /* a series: each channel at its first copy, as the series was checked */
        chans[k] = sched[i].channel_id;
        at[k++] = sched[i].planned_at;
    }
    free(sched);
    if(rc)
        return rc;
    if(!k) {
        *violations = json_array();
        return *violations ? SAM_OK : SAM_ENOMEM;
    }
    struct post_input chk = {.text = p->text, .link = p->link, .category = p->category, .campaign = p->campaign,
                             .channels = chans, .nchannels = k, .schedule = POST_AT};
    if(p->variants && (vars = json_loads(p->variants, 0, NULL)))
        chk.variants = vars;
    rc = check_at(c, p->workspace_id, &chk, at, p->id, violations, &blocked);
    json_decref(vars);
    return rc;
}

char *core_post_text_for(const struct store_post *p, int variant)
{
    json_t *vs;
    size_t n;
    char *out;
    if(variant <= 0)
        return strdup(p->text);
    vs = json_loads(p->variants ? p->variants : "[]", 0, NULL);
    n = json_array_size(vs);
    /* Rotation: 0 is the text, 1..n the variants, then round again. */
    variant %= (int)(n + 1);
    if(variant == 0 || !json_is_string(json_array_get(vs, (size_t)variant - 1)))
        out = strdup(p->text);
    else
        out = strdup(json_string_value(json_array_get(vs, (size_t)variant - 1)));
    json_decref(vs);
    return out;
}

json_t *view_post(const struct store_post *p)
{
    json_t *variants = json_loads(p->variants ? p->variants : "[]", 0, NULL);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s?, s:s, s:s?, s:o, s:s, s:o, s:o}", "id", (json_int_t)p->id,
                          "workspace_id", (json_int_t)p->workspace_id, "text", p->text, "link", p->link,
                          "category", p->category, "campaign", p->campaign, "variants",
                          variants ? variants : json_array(), "state", p->state, "created_at",
                          view_time(p->created_at), "updated_at", view_time(p->updated_at));
    if(o && p->author_id)
        json_object_set_new(o, "author_id", json_integer(p->author_id));
    if(o && p->override_reason)
        json_object_set_new(o, "override_reason", json_string(p->override_reason));
    if(o) /* P12; a single post's answer adds the history (core_approval_json) */
        json_object_set_new(o, "approval", json_pack("{s:s}", "state", p->approval[0] ? p->approval : "none"));
    return o;
}

/* {"reason","limit","message","until"} of an occurrence held by its channel's cap (not a
 * failure, and said as what it is), with "expected": true when it is an estimate. */
static json_t *waiting_json(const char *reason, int64_t limit, int64_t until, int expected)
{
    char why[240];
    if(!strcmp(reason, "hour_cap"))
        snprintf(why, sizeof(why),
                 n_("This channel may post %lld time an hour, and that is used up: it goes out when the hour "
                    "allows.",
                    "This channel may post %lld times an hour, and that is used up: it goes out when the hour "
                    "allows.",
                    (unsigned long)limit),
                 (long long)limit);
    else
        snprintf(why, sizeof(why),
                 n_("This channel may post %lld time a day, and that is used up: it goes out when the day "
                    "allows.",
                    "This channel may post %lld times a day, and that is used up: it goes out when the day "
                    "allows.",
                    (unsigned long)limit),
                 (long long)limit);
    json_t *j = json_pack("{s:s, s:I, s:s, s:o}", "reason", reason, "limit", (json_int_t)limit, "message", why,
                          "until", view_time(until));
    if(j && expected)
        json_object_set_new(j, "expected", json_true());
    return j;
}

void core_occurrence_paused(json_t *j)
{
    json_t *w = json_pack("{s:s, s:s}", "reason", "paused", "message",
                          _("This channel is paused: nothing is published on it until publishing is resumed. "
                            "Then what became due meanwhile goes out, oldest first, within the channel's "
                            "limits."));
    if(!j || !w) {
        json_decref(w);
        return;
    }
    json_object_del(j, "expected_at");
    json_object_set_new(j, "waiting", w);
}

int core_occurrence_expect(struct core *c, const struct store_occurrence *o, int64_t now, json_t *j)
{
    struct store_channel ch;
    int64_t due = o->next_attempt_at > o->planned_at ? o->next_attempt_at : o->planned_at, at, limit;
    char reason[16];
    int rc;
    if(!j || strcmp(o->state, "scheduled"))
        return SAM_OK;
    if(due < now)
        due = now;
    rc = store_channel_get(c->st, o->channel_id, &ch);
    if(rc)
        return rc == SAM_ENOTFOUND ? SAM_OK : rc;
    /* A pause holds it before any cap does, and for as long as it lasts. */
    if(ch.paused_at || o->wait_reason[0]) {
        if(ch.paused_at)
            core_occurrence_paused(j);
        store_channel_cleanup(&ch);
        return SAM_OK;
    }
    rc = store_occurrence_expected(c->st, o->channel_id, o->id, due, ch.max_per_hour, ch.max_per_day, &at, reason,
                                   &limit);
    store_channel_cleanup(&ch);
    if(!rc && reason[0]) {
        json_object_set_new(j, "expected_at", view_time(at));
        json_object_set_new(j, "waiting", waiting_json(reason, limit, at, 1));
    }
    return rc;
}

json_t *view_occurrence(const struct store_occurrence *o)
{
    json_t *j = json_pack("{s:I, s:I, s:I, s:i, s:o, s:s, s:i}", "id", (json_int_t)o->id, "post_id",
                          (json_int_t)o->post_id, "channel_id", (json_int_t)o->channel_id, "variant", o->variant,
                          "planned_at", view_time(o->planned_at), "state", o->state, "attempts", o->attempts);
    if(!j)
        return NULL;
    if(o->remote_id[0])
        json_object_set_new(j, "remote_id", json_string(o->remote_id));
    if(o->remote_url[0])
        json_object_set_new(j, "remote_url", json_string(o->remote_url));
    if(o->last_error[0])
        json_object_set_new(j, "error", view_peer_message(o->last_error, PERM_POSTS_WRITE,
                                                          strcmp(o->state, "failed") ? VIEW_RETRY_ERROR_HIDDEN
                                                                                     : VIEW_PUBLISH_ERROR_HIDDEN));
    if(o->published_at)
        json_object_set_new(j, "published_at", view_time(o->published_at));
    if(o->deleted_at)
        json_object_set_new(j, "deleted_at", view_time(o->deleted_at));
    if(!strcmp(o->state, "scheduled") && o->next_attempt_at > o->planned_at)
        json_object_set_new(j, "next_attempt_at", view_time(o->next_attempt_at));
    if(!strcmp(o->state, "scheduled") && o->wait_reason[0])
        json_object_set_new(j, "waiting", waiting_json(o->wait_reason, o->wait_limit, o->next_attempt_at, 0));
    if(o->series_id)
        json_object_set_new(j, "series_id", json_integer(o->series_id));
    return j;
}
