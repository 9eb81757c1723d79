/*
 * checks.c: the anti-spam rules of the publishing queue (PRODUCT.md P5-P8; contract in
 * checks.h, method and examples in docs/checks.md). Pure logic over the caller's structs:
 * no store, no clock, no I/O, no globals.
 *
 * Both entry points build one working set of items (checks_candidate: the others plus
 * the candidate; checks_queue: the posts) and sort pointers to them three ways:
 *   by_key   every item by (at, candidate last, channel_id, id, input index): the order
 *            of time, total and independent of the input order;
 *   by_chan  by channel, then key: each channel's posts are a contiguous run, and an
 *            item's rank in its run counts the channel's posts before it;
 *   by_net   by network name (ASCII case-insensitive), then key;
 * plus the channel's promo posts in channel order, and a lane number per (network,
 * channel) pair. Window rules slide two pointers over a channel's run; pair rules walk
 * back from a post only while the window allows (P5 also stops once every lane is
 * dup_last_k posts back), so the work follows the windows, not the square of the set.
 * Signatures for similarity are built once per item, on first use, and freed at the end.
 *
 * Conventions (see docs/checks.md): "within X" means less than X apart, so a promo exactly
 * promo_gap_minutes after another is fine; a policy value of 0 or less turns its rule
 * off; a NULL text is empty, a NULL or empty network unknown, a NULL category not promo.
 * Times are compared through unsigned differences, so no instant can overflow.
 */
#include "core/checks.h"
#include "text/normalise.h"
#include "text/shingle.h"
#include "text/thread.h"
#include "util/i18n.h"
#include "util/err.h"
#include "util/utf8.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECKS_MAX_POSTS (1u << 20) /* refuse sets larger than this (SAM_ETOOBIG) */
#define P5_MAX_COMPARE 256          /* similarity computations per post in checks_queue */
#define MAX_LISTED 8                /* capacity of check_violation.posts */

struct item {
    const struct check_post *p;
    size_t idx;          /* index in the caller's array; the candidate has n */
    int late;            /* the candidate: after every other post at its instant */
    int promo;
    size_t cpos;         /* index in by_chan */
    size_t npos;         /* index in by_net */
    size_t net;          /* network number: equal for equal names (ASCII case-insensitive) */
    int net_known;       /* the network has a name */
    size_t lane;         /* number of its (network, channel) pair */
    size_t cstart, cend; /* its channel's run in by_chan */
    size_t ppos;         /* index in promo (promo items only) */
    size_t lo_h, lo_d;   /* first by_chan index of the trailing hour / day window */
    size_t lo_mix;       /* first by_chan index of the trailing mix window */
    size_t lo_gap;       /* first promo index within promo_gap before it */
    int sig_built;
    struct text_sig sig;
};

struct ctx {
    struct check_policy pol; /* negatives clamped to 0 */
    uint64_t win_dup, win_mix, win_gap, win_cross;
    struct item *it;
    size_t n;
    struct item **by_key, **by_chan, **by_net, **promo;
    size_t npromo;
    size_t *pref; /* pref[k]: promo items among by_chan[0..k) */
    struct item **scratch;
    struct check_violation *out;
    size_t max, count;
};

/* ---- small helpers ---- */

static const char *text_of(const struct check_post *p)
{
    return p->text ? p->text : "";
}

static const char *net_of(const struct check_post *p)
{
    return p->network ? p->network : "";
}

static int net_known(const struct check_post *p)
{
    return p->network && p->network[0];
}

/* b - a for a <= b, exact as an unsigned number whatever the instants. */
static uint64_t span(int64_t a, int64_t b)
{
    return (uint64_t)b - (uint64_t)a;
}

static uint64_t dist(int64_t a, int64_t b)
{
    return a <= b ? span(a, b) : span(b, a);
}

static int cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static int key_cmp(const struct item *a, const struct item *b)
{
    int c;
    if((c = cmp_i64(a->p->at, b->p->at)) != 0)
        return c;
    if((c = (a->late > b->late) - (a->late < b->late)) != 0)
        return c;
    if((c = cmp_i64(a->p->channel_id, b->p->channel_id)) != 0)
        return c;
    if((c = cmp_i64(a->p->id, b->p->id)) != 0)
        return c;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static int qs_key(const void *x, const void *y)
{
    return key_cmp(*(struct item *const *)x, *(struct item *const *)y);
}

static int qs_chan(const void *x, const void *y)
{
    const struct item *a = *(struct item *const *)x, *b = *(struct item *const *)y;
    int c = cmp_i64(a->p->channel_id, b->p->channel_id);
    return c ? c : key_cmp(a, b);
}

static int qs_net(const void *x, const void *y)
{
    const struct item *a = *(struct item *const *)x, *b = *(struct item *const *)y;
    int c = strcasecmp(net_of(a->p), net_of(b->p));
    return c ? c : key_cmp(a, b);
}

static int qs_lane(const void *x, const void *y)
{
    const struct item *a = *(struct item *const *)x, *b = *(struct item *const *)y;
    int c = (a->net > b->net) - (a->net < b->net);
    return c ? c : cmp_i64(a->p->channel_id, b->p->channel_id);
}

static int item_sig(struct item *x)
{
    int rc;
    if(x->sig_built)
        return SAM_OK;
    rc = text_sig_build_cached(x->p->text, &x->sig);
    if(rc)
        return rc;
    x->sig_built = 1;
    return SAM_OK;
}

/* ---- words for people ---- */

/* "post 12", "the post on line 4" (a row of a file being imported), "this post" (the
 * candidate without an id), "its copy" (another channel's copy of the candidate) or "an
 * unsaved post"; capitalised when cap. */
static void post_name(char *b, size_t n, const struct item *x, int cap)
{
    if(x->p->line > 0 && !x->late)
        snprintf(b, n, cap ? _("The post on line %lld") : _("the post on line %lld"), (long long)x->p->line);
    else if(x->p->id != 0)
        snprintf(b, n, cap ? _("Post %lld") : _("post %lld"), (long long)x->p->id);
    else if(x->late)
        snprintf(b, n, "%s", cap ? _("This post") : _("this post"));
    else if(x->p->copy)
        snprintf(b, n, "%s", cap ? _("Its copy") : _("its copy"));
    else
        snprintf(b, n, "%s", cap ? _("An unsaved post") : _("an unsaved post"));
}

static void net_name(char *b, size_t n, const struct check_post *p)
{
    if(!net_known(p))
        snprintf(b, n, "%s", _("this channel"));
    else if(strcasecmp(p->network, "bluesky") == 0)
        snprintf(b, n, "Bluesky");
    else if(strcasecmp(p->network, "mastodon") == 0)
        snprintf(b, n, "Mastodon");
    else
        snprintf(b, n, "%.24s", p->network);
}

/* A duration in words: "45 minutes", "2 hours 30 minutes", "3 days". */
static void duration(char *b, size_t n, uint64_t s)
{
    unsigned long long m = (unsigned long long)(s / 60), h = m / 60, d = (unsigned long long)(s / 86400);
    if(s < 60)
        snprintf(b, n, "%s", _("less than a minute"));
    else if(m < 120)
        snprintf(b, n, n_("%llu minute", "%llu minutes", m), m);
    else if(h < 48 && m % 60)
        snprintf(b, n, n_("%llu hours %llu minute", "%llu hours %llu minutes", m % 60), h, m % 60);
    else if(h < 48)
        snprintf(b, n, _("%llu hours"), h);
    else
        snprintf(b, n, _("%llu days"), d);
}

/* "at the same time" or "2 hours apart". */
static void apart(char *b, size_t n, int64_t t1, int64_t t2)
{
    char d[48];
    uint64_t s = dist(t1, t2);
    if(s == 0) {
        snprintf(b, n, "%s", _("at the same time"));
        return;
    }
    duration(d, sizeof(d), s);
    snprintf(b, n, _("%s apart"), d);
}

/* ---- output ---- */

/* A zeroed slot for the next violation, or NULL when out is full (it is still counted). */
static struct check_violation *emit(struct ctx *c, const char *rule, int severity)
{
    struct check_violation *v = NULL;
    if(c->count < c->max) {
        v = &c->out[c->count];
        memset(v, 0, sizeof(*v));
        snprintf(v->rule, sizeof(v->rule), "%s", rule);
        v->severity = severity;
    }
    c->count++;
    return v;
}

static void list_post(struct check_violation *v, const struct item *x)
{
    if(v->nposts < MAX_LISTED)
        v->posts[v->nposts++] = x->p->id;
}

/* Lists y, then the other posts of by_chan[first..last) nearest to y first. */
static void list_window(struct ctx *c, struct check_violation *v, const struct item *y, size_t first,
                        size_t last, int promo_only)
{
    size_t lo = y->cpos, hi = y->cpos + 1;
    list_post(v, y);
    while(v->nposts < MAX_LISTED && (lo > first || hi < last)) {
        struct item *x;
        if(lo > first && (hi >= last || span(c->by_chan[lo - 1]->p->at, y->p->at) <=
                                            span(y->p->at, c->by_chan[hi]->p->at)))
            x = c->by_chan[--lo];
        else
            x = c->by_chan[hi++];
        if(!promo_only || x->promo)
            list_post(v, x);
    }
}

/* ---- the rules; y is the post being judged, x another ---- */

static void p5_emit(struct ctx *c, const struct item *y, const struct item *x, double score)
{
    char ny[48], nx[48], net[32], ap[64];
    struct check_violation *v = emit(c, "P5", CHECK_WARN);
    if(!v)
        return;
    post_name(ny, sizeof(ny), y, 1);
    post_name(nx, sizeof(nx), x, 0);
    net_name(net, sizeof(net), y->p);
    apart(ap, sizeof(ap), x->p->at, y->p->at);
    snprintf(v->message, sizeof(v->message),
             _("%s reads almost the same as %s (%d%% similar), on %s and %s, so followers see both "
               "among the last %d posts. Repeating a message back to back looks like spam and makes "
               "people unfollow. Reword it, or move it further away from %s."),
             ny, nx, (int)(score * 100.0), net, ap, c->pol.dup_last_k, nx);
    list_post(v, y);
    list_post(v, x);
}

/* Number of posts of the channel run [s, e) of by_chan that come before item k in key
 * order. */
static size_t before_in(const struct ctx *c, size_t s, size_t e, const struct item *k)
{
    while(s < e) {
        size_t mid = s + (e - s) / 2;
        if(key_cmp(c->by_chan[mid], k) < 0)
            s = mid + 1;
        else
            e = mid;
    }
    return s;
}

/* 1 when a and b (on the same network) are close enough in time and in the feed for P5:
 * less than dup_window_days apart and fewer than dup_last_k posts of the earlier one's
 * channel between them. */
static int p5_near(const struct ctx *c, const struct item *a, const struct item *b)
{
    const struct item *e = key_cmp(a, b) < 0 ? a : b, *l = e == a ? b : a;
    size_t between;
    if(dist(a->p->at, b->p->at) >= c->win_dup)
        return 0;
    between = before_in(c, e->cstart, e->cend, l) - (e->cpos + 1);
    return between < (size_t)c->pol.dup_last_k;
}

/* P5 compares posts with text on the same network: the same network name, or, for posts
 * without one, the same channel. */
static int p5_candidate(const struct item *a, const struct item *b)
{
    /* Copies of one post (an evergreen series) repeat by design: they face the caps and
     * the promo gap, not P5 against each other. */
    if(a->p->id != 0 && a->p->id == b->p->id)
        return 0;
    return text_of(a->p)[0] && text_of(b->p)[0] && a->net == b->net &&
           (a->net_known || a->p->channel_id == b->p->channel_id);
}

static void p6_check(struct ctx *c, const struct item *y)
{
    size_t total, promos, other;
    int ratio = c->pol.mix_ratio;
    char ny[48], mix[96], np[48], no[48];
    struct check_violation *v;
    if(!y->promo || ratio <= 0 || c->win_mix == 0)
        return;
    total = y->cpos + 1 - y->lo_mix;
    promos = c->pref[y->cpos + 1] - c->pref[y->lo_mix];
    other = total - promos;
    /* The first promo of the window is free (one post is too few to judge a mix by); each
     * further one needs `ratio` other posts: (promos - 1) * ratio > other warns. */
    if(promos == 0 || (uint64_t)(promos - 1) * (uint64_t)ratio <= (uint64_t)other)
        return;
    v = emit(c, "P6", CHECK_WARN);
    if(!v)
        return;
    post_name(ny, sizeof(ny), y, 0);
    if(ratio == 50 || ratio == 10 || ratio == 4)
        snprintf(mix, sizeof(mix), "%s",
                 ratio == 50 ? _("The gentle mix") : ratio == 10 ? _("The balanced mix") : _("The retail mix"));
    else
        snprintf(mix, sizeof(mix), "%s", _("This workspace's mix"));
    snprintf(np, sizeof(np), n_("%zu promo post", "%zu promo posts", promos), promos);
    snprintf(no, sizeof(no), n_("%zu other post", "%zu other posts", other), other);
    snprintf(v->message, sizeof(v->message),
             _("Too much promotion on this channel: in the %d days up to %s it has %s and %s "
               "(counting this one). %s allows one promo, and one more for every %d other posts. A feed that keeps "
               "asking loses its followers; add value or dialogue posts (tips, answers, stories, "
               "shares) before the next promo, or move this one later."),
             c->pol.mix_window_days, ny, np, no, mix, ratio);
    list_window(c, v, y, y->lo_mix, y->cpos + 1, 1);
}

static void p7_emit(struct ctx *c, const struct item *y, int day, size_t count, size_t first, size_t last)
{
    char ny[48];
    struct check_violation *v = emit(c, day ? "P7b" : "P7a", CHECK_BLOCK);
    if(!v)
        return;
    post_name(ny, sizeof(ny), y, 0);
    if(day)
        snprintf(v->message, sizeof(v->message),
                 _("Too many posts in one day: with %s there are %zu posts on this channel within 24 "
                   "hours, and the limit is %d. Followers mute accounts that post too often. Move it to "
                   "another day."),
                 ny, count, c->pol.max_per_day);
    else
        snprintf(v->message, sizeof(v->message),
                 _("Too many posts in one hour: with %s there are %zu posts on this channel within 60 "
                   "minutes, and the limit is %d. Bursts flood followers' feeds and bury each post. Move it "
                   "to a later slot."),
                 ny, count, c->pol.max_per_hour);
    list_window(c, v, y, first, last, 0);
}

static void p7c_emit(struct ctx *c, const struct item *y, const struct item *x)
{
    char ny[48], nx[48], ap[64], gap[48];
    struct check_violation *v = emit(c, "P7c", CHECK_BLOCK);
    if(!v)
        return;
    post_name(ny, sizeof(ny), y, 1);
    post_name(nx, sizeof(nx), x, 0);
    apart(ap, sizeof(ap), x->p->at, y->p->at);
    duration(gap, sizeof(gap), c->win_gap);
    snprintf(v->message, sizeof(v->message),
             _("Two promo posts too close together: %s and %s are both promo posts on this channel, %s; "
               "promo posts need at least %s between them. Back-to-back sales pitches feel like "
               "spam. Move one of them, or put a value or dialogue post in between."),
             ny, nx, ap, gap);
    list_post(v, y);
    list_post(v, x);
}

static int p8a_match(struct ctx *c, struct item *y, struct item *x, int *rc)
{
    if(x->p->channel_id == y->p->channel_id || !x->net_known || !y->net_known || x->net == y->net)
        return 0;
    if(dist(x->p->at, y->p->at) >= c->win_cross)
        return 0;
    if((*rc = item_sig(x)) != SAM_OK || (*rc = item_sig(y)) != SAM_OK)
        return 0;
    return y->sig.form_len > 0 && x->sig.form_len == y->sig.form_len && x->sig.form == y->sig.form;
}

static void p8a_emit(struct ctx *c, const struct item *y, const struct item *x)
{
    char ny[48], nx[48], nety[32], netx[32], ap[64];
    struct check_violation *v = emit(c, "P8a", CHECK_WARN);
    if(!v)
        return;
    post_name(ny, sizeof(ny), y, 1);
    post_name(nx, sizeof(nx), x, 0);
    net_name(nety, sizeof(nety), y->p);
    net_name(netx, sizeof(netx), x->p);
    apart(ap, sizeof(ap), x->p->at, y->p->at);
    snprintf(v->message, sizeof(v->message),
             _("Same text on two networks: %s (%s) and %s (%s) say exactly the same thing, %s. "
               "People who follow you on both see it twice, and it reads as automated. Write a "
               "variant for one of the networks."),
             ny, nety, nx, netx, ap);
    list_post(v, y);
    list_post(v, x);
}

long checks_length(const char *network, const char *text)
{
    size_t len;
    if(!text)
        return 0;
    len = strlen(text);
    if(utf8_count(text, len) < 0)
        return -1;
    if(network && strcasecmp(network, "bluesky") == 0)
        return text_graphemes(text, len);
    if(network && strcasecmp(network, "mastodon") == 0)
        return text_mastodon_length(text, len);
    return len > (size_t)LONG_MAX ? LONG_MAX : (long)len;
}

static void p8b_check(struct ctx *c, const struct item *y)
{
    const char *note;
    char ny[48], net[32];
    int limit, split = -1;
    long len;
    size_t bytes, nparts = 0;
    text_count_fn count;
    struct text_part parts[TEXT_THREAD_MAX];
    struct check_violation *v;
    if(!net_known(y->p))
        return;
    if(strcasecmp(y->p->network, "bluesky") == 0) {
        limit = c->pol.bluesky_limit;
        note = _("Bluesky counts each emoji, flag or accented letter as one");
        count = text_graphemes;
        bytes = CHECKS_BLUESKY_BYTES;
    } else if(strcasecmp(y->p->network, "mastodon") == 0) {
        limit = c->pol.mastodon_limit;
        note = _("Mastodon counts each link as 23, however long it is");
        count = text_mastodon_length;
        bytes = (size_t)-1;
    } else {
        return;
    }
    if(limit <= 0)
        return;
    len = checks_length(y->p->network, text_of(y->p));
    if(len >= 0 && len <= limit)
        return;
    /* Longer than one post goes out as a numbered thread: a warning, unless even a thread
     * cannot hold it. */
    if(len >= 0)
        split = text_thread_split(text_of(y->p), limit, bytes, NULL, count, parts, TEXT_THREAD_MAX, &nparts);
    v = emit(c, "P8b", split == SAM_OK ? CHECK_WARN : CHECK_BLOCK);
    if(!v)
        return;
    post_name(ny, sizeof(ny), y, 0);
    net_name(net, sizeof(net), y->p);
    if(len < 0)
        snprintf(v->message, sizeof(v->message),
                 _("The text of %s contains broken characters (it is not valid UTF-8), so %s cannot "
                   "count or show it and will refuse it. Paste or type the text again."),
                 ny, net);
    else if(split == SAM_OK)
        snprintf(v->message, sizeof(v->message),
                 _("Longer than one %s post: %s has %ld characters and the limit is %d (%s), so it goes out "
                   "as a thread of %zu posts, numbered 1/%zu to %zu/%zu. To keep it one post, shorten it by "
                   "%ld characters."),
                 net, ny, len, limit, note, nparts, nparts, nparts, nparts, len - limit);
    else
        snprintf(v->message, sizeof(v->message),
                 _("Too long for %s, even as a thread of %d posts: %s has %ld characters and each post "
                   "takes %d (%s). Shorten it, or split it into several posts."),
                 net, TEXT_THREAD_MAX, ny, len, limit, note);
    list_post(v, y);
}

/* ---- the working set ---- */

static void ctx_free(struct ctx *c)
{
    if(c->it)
        for(size_t i = 0; i < c->n; i++)
            text_sig_cleanup(&c->it[i].sig);
    free(c->it);
    free(c->by_key);
    free(c->by_chan);
    free(c->by_net);
    free(c->promo);
    free(c->pref);
    free(c->scratch);
}

static uint64_t seconds(int v, uint64_t unit)
{
    return v > 0 ? (uint64_t)v * unit : 0;
}

/* Fills c with the items and every order and window bound the rules use. cand (may be
 * NULL) joins the set last. */
static int ctx_init(struct ctx *c, const struct check_policy *p, const struct check_post *posts, size_t n,
                    const struct check_post *cand, struct check_violation *out, size_t max)
{
    size_t total = n + (cand != NULL), k, i;
    int *fields[] = {&c->pol.max_per_hour,   &c->pol.max_per_day,     &c->pol.promo_gap_minutes,
                     &c->pol.mix_ratio,      &c->pol.mix_window_days, &c->pol.dup_window_days,
                     &c->pol.dup_last_k,     &c->pol.crosspost_minutes, &c->pol.mastodon_limit,
                     &c->pol.bluesky_limit};

    memset(c, 0, sizeof(*c));
    c->pol = *p;
    for(k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
        if(*fields[k] < 0)
            *fields[k] = 0;
    c->win_dup = seconds(c->pol.dup_window_days, 86400);
    c->win_mix = seconds(c->pol.mix_window_days, 86400);
    c->win_gap = seconds(c->pol.promo_gap_minutes, 60);
    c->win_cross = seconds(c->pol.crosspost_minutes, 60);
    c->out = out;
    c->max = max;
    if(total == 0)
        return SAM_OK;
    c->it = calloc(total, sizeof(*c->it));
    c->by_key = calloc(total, sizeof(*c->by_key));
    c->by_chan = calloc(total, sizeof(*c->by_chan));
    c->by_net = calloc(total, sizeof(*c->by_net));
    c->promo = calloc(total, sizeof(*c->promo));
    c->pref = calloc(total + 1, sizeof(*c->pref));
    c->scratch = calloc(total, sizeof(*c->scratch));
    if(!c->it || !c->by_key || !c->by_chan || !c->by_net || !c->promo || !c->pref || !c->scratch)
        return SAM_ENOMEM;
    for(i = 0; i < n; i++) {
        const struct check_post *q = &posts[i];
        /* The candidate itself among the others (same stored post, channel and instant) is
         * not another post. */
        if(cand && (q == cand || (cand->id != 0 && q->id == cand->id && q->channel_id == cand->channel_id &&
                                  q->at == cand->at)))
            continue;
        c->it[c->n].p = q;
        c->it[c->n].idx = i;
        c->n++;
    }
    if(cand) {
        c->it[c->n].p = cand;
        c->it[c->n].idx = n;
        c->it[c->n].late = 1;
        c->n++;
    }
    for(i = 0; i < c->n; i++) {
        struct item *x = &c->it[i];
        x->promo = x->p->category && strcasecmp(x->p->category, "promo") == 0;
        c->by_key[i] = c->by_chan[i] = c->by_net[i] = x;
    }
    qsort(c->by_key, c->n, sizeof(*c->by_key), qs_key);
    qsort(c->by_chan, c->n, sizeof(*c->by_chan), qs_chan);
    qsort(c->by_net, c->n, sizeof(*c->by_net), qs_net);
    for(i = 0; i < c->n; i++) {
        struct item *x = c->by_net[i];
        x->npos = i;
        x->net_known = net_known(x->p);
        x->net = i == 0 ? 0 : c->by_net[i - 1]->net + (strcasecmp(net_of(x->p), net_of(c->by_net[i - 1]->p)) != 0);
    }
    memcpy(c->scratch, c->by_net, c->n * sizeof(*c->scratch));
    qsort(c->scratch, c->n, sizeof(*c->scratch), qs_lane);
    for(i = 0; i < c->n; i++)
        c->scratch[i]->lane = i == 0 ? 0 : c->scratch[i - 1]->lane + (qs_lane(&c->scratch[i], &c->scratch[i - 1]) != 0);

    /* Channel runs, promo list, and the trailing windows by two pointers per run. */
    for(size_t s = 0; s < c->n;) {
        size_t e = s, h = s, d = s, m = s, g;
        while(e < c->n && c->by_chan[e]->p->channel_id == c->by_chan[s]->p->channel_id)
            e++;
        g = c->npromo;
        for(k = s; k < e; k++) {
            struct item *y = c->by_chan[k];
            int64_t t = y->p->at;
            y->cpos = k;
            y->cstart = s;
            y->cend = e;
            c->pref[k + 1] = c->pref[k] + (size_t)y->promo;
            while(span(c->by_chan[h]->p->at, t) >= 3600)
                h++;
            while(span(c->by_chan[d]->p->at, t) >= 86400)
                d++;
            while(m < k && span(c->by_chan[m]->p->at, t) >= c->win_mix)
                m++;
            y->lo_h = h;
            y->lo_d = d;
            y->lo_mix = m;
            if(y->promo) {
                y->ppos = c->npromo;
                c->promo[c->npromo++] = y;
                while(g < y->ppos && span(c->promo[g]->p->at, t) >= c->win_gap)
                    g++;
                y->lo_gap = g;
            }
        }
        s = e;
    }
    return SAM_OK;
}

/* ---- entry points ---- */

void checks_default_policy(struct check_policy *p, const char *preset)
{
    if(!p)
        return;
    memset(p, 0, sizeof(*p));
    p->max_per_hour = 2;
    p->max_per_day = 12;
    p->promo_gap_minutes = 180;
    p->mix_ratio = 10;
    if(preset && strcasecmp(preset, "gentle") == 0)
        p->mix_ratio = 50;
    else if(preset && strcasecmp(preset, "retail") == 0)
        p->mix_ratio = 4;
    p->mix_window_days = 30;
    p->dup_window_days = 7;
    p->dup_last_k = 10;
    p->crosspost_minutes = 60;
    p->mastodon_limit = 500;
    p->bluesky_limit = 300;
}

double checks_similarity(const char *a, const char *b)
{
    struct text_sig sa, sb;
    double s = 0.0;
    if(text_sig_build(a, &sa) != SAM_OK)
        return 0.0;
    if(text_sig_build(b, &sb) == SAM_OK)
        s = text_sig_similarity(&sa, &sb);
    text_sig_cleanup(&sa);
    text_sig_cleanup(&sb);
    return s;
}

static int check_args(const struct check_policy *p, const void *posts, size_t n,
                      const struct check_violation *out, size_t max, size_t *count)
{
    if(count)
        *count = 0;
    if(!p || !count)
        return sam_fail(SAM_EINVAL, "checks need a policy and a place for the count");
    if(n > 0 && !posts)
        return sam_fail(SAM_EINVAL, "checks were given %zu posts but no array", n);
    if(max > 0 && !out)
        return sam_fail(SAM_EINVAL, "checks were given room for %zu violations but no array", max);
    if(n >= CHECKS_MAX_POSTS)
        return sam_fail(SAM_ETOOBIG, "checks take at most %u posts at a time", CHECKS_MAX_POSTS - 1);
    return SAM_OK;
}

int checks_candidate(const struct check_policy *p, const struct check_post *cand,
                     const struct check_post *others, size_t n, struct check_violation *out,
                     size_t max, size_t *count)
{
    struct ctx c;
    struct item *y;
    size_t k, first = 0, last = 0, lo;
    int rc = check_args(p, others, n, out, max, count);
    if(rc)
        return rc;
    if(!cand)
        return sam_fail(SAM_EINVAL, "no candidate post to check");
    rc = ctx_init(&c, p, others, n, cand, out, max);
    if(rc)
        goto out;
    y = &c.it[c.n - 1];

    /* P5: every other post on the network, in time order. */
    if(c.pol.dup_last_k > 0 && c.win_dup > 0) {
        for(k = 0; k < c.n; k++) {
            struct item *x = c.by_key[k];
            double score;
            if(x == y || !p5_candidate(x, y) || !p5_near(&c, x, y))
                continue;
            if((rc = item_sig(x)) != SAM_OK || (rc = item_sig(y)) != SAM_OK)
                goto out;
            if(text_sig_at_least(&y->sig, &x->sig, CHECKS_DUP_THRESHOLD, &score))
                p5_emit(&c, y, x, score);
        }
    }
    p6_check(&c, y);
    /* P7a, P7b: the fullest window of an hour (a day) that holds the candidate. */
    for(int day = 0; day < 2; day++) {
        uint64_t len = day ? 86400 : 3600;
        int cap = day ? c.pol.max_per_day : c.pol.max_per_hour;
        size_t best = 0, j = y->cstart;
        if(cap <= 0)
            continue;
        for(k = y->cstart; k < y->cend; k++) {
            int64_t t = c.by_chan[k]->p->at;
            if(t > y->p->at)
                break;
            if(span(t, y->p->at) >= len)
                continue;
            if(j < k)
                j = k;
            while(j < y->cend && span(t, c.by_chan[j]->p->at) < len)
                j++;
            if(j - k > best) {
                best = j - k;
                first = k;
                last = j;
            }
        }
        if(best > (size_t)cap)
            p7_emit(&c, y, day, best, first, last);
    }
    /* P7c: promo posts of the channel on either side within the gap, in time order. */
    if(y->promo && c.win_gap > 0) {
        lo = y->ppos;
        while(lo > 0 && c.promo[lo - 1]->cstart == y->cstart && span(c.promo[lo - 1]->p->at, y->p->at) < c.win_gap)
            lo--;
        for(k = lo; k < c.npromo && c.promo[k]->cstart == y->cstart; k++) {
            if(k > y->ppos && span(y->p->at, c.promo[k]->p->at) >= c.win_gap)
                break;
            if(k != y->ppos)
                p7c_emit(&c, y, c.promo[k]);
        }
    }
    /* P8a: the same text on another network within the hour, in time order. */
    if(c.win_cross > 0) {
        for(k = 0; k < c.n; k++) {
            struct item *x = c.by_key[k];
            if(x != y && p8a_match(&c, y, x, &rc))
                p8a_emit(&c, y, x);
            if(rc)
                goto out;
        }
    }
    p8b_check(&c, y);
out:
    *count = rc ? 0 : c.count;
    ctx_free(&c);
    return rc;
}

int checks_queue(const struct check_policy *p, const struct check_post *posts, size_t n,
                 struct check_violation *out, size_t max, size_t *count)
{
    struct ctx c;
    size_t *seen = NULL, *found_at = NULL, *active = NULL, *stamp = NULL;
    double *found_score = NULL;
    int rc = check_args(p, posts, n, out, max, count);
    if(rc)
        return rc;
    rc = ctx_init(&c, p, posts, n, NULL, out, max);
    if(rc)
        goto out;
    if(c.n == 0)
        goto out;
    /* seen[k]: posts of by_chan run starting at k already judged (key before y). */
    seen = calloc(c.n, sizeof(*seen));
    /* active[net]: lanes of the network with a post already judged; stamp[2 * lane]:
     * g + 1 once the lane is exhausted for P5 while judging by_key[g]; stamp[2 * lane + 1]:
     * 1 once the lane has a judged post. */
    active = calloc(c.n, sizeof(*active));
    stamp = calloc(2 * c.n, sizeof(*stamp));
    found_at = calloc(P5_MAX_COMPARE, sizeof(*found_at));
    found_score = calloc(P5_MAX_COMPARE, sizeof(*found_score));
    if(!seen || !active || !stamp || !found_at || !found_score) {
        rc = SAM_ENOMEM;
        goto out;
    }
    for(size_t g = 0; g < c.n; g++) {
        struct item *y = c.by_key[g];
        size_t k, nfound = 0, compared = 0;

        /* P5: walk back through the network within the window; x qualifies while fewer
         * than dup_last_k posts of its channel came between x and y. Once a lane
         * (network, channel) has a post that far back, its older posts are too; the walk
         * ends when every lane with earlier posts is that far back. An unnamed network
         * only compares a channel with itself, so only y's own lane matters there. */
        if(c.pol.dup_last_k > 0 && c.win_dup > 0 && text_of(y->p)[0] &&
           (y->net_known ? active[y->net] > 0 : stamp[2 * y->lane + 1] != 0)) {
            size_t exhausted = 0, lanes = y->net_known ? active[y->net] : 1;
            for(k = y->npos; k > 0 && compared < P5_MAX_COMPARE; k--) {
                struct item *x = c.by_net[k - 1];
                double score;
                if(x->net != y->net || span(x->p->at, y->p->at) >= c.win_dup)
                    break;
                if(!y->net_known && x->cstart != y->cstart)
                    continue;
                if(seen[x->cstart] - (x->cpos - x->cstart) - 1 >= (size_t)c.pol.dup_last_k) {
                    if(stamp[2 * x->lane] != g + 1) {
                        stamp[2 * x->lane] = g + 1;
                        if(++exhausted == lanes)
                            break;
                    }
                    continue;
                }
                if(!p5_candidate(x, y))
                    continue;
                if((rc = item_sig(x)) != SAM_OK || (rc = item_sig(y)) != SAM_OK)
                    goto out;
                compared++;
                if(text_sig_at_least(&y->sig, &x->sig, CHECKS_DUP_THRESHOLD, &score)) {
                    found_at[nfound] = k - 1;
                    found_score[nfound++] = score;
                }
            }
            while(nfound > 0) {
                nfound--;
                p5_emit(&c, y, c.by_net[found_at[nfound]], found_score[nfound]);
            }
        }
        p6_check(&c, y);
        if(c.pol.max_per_hour > 0 && y->cpos + 1 - y->lo_h > (size_t)c.pol.max_per_hour)
            p7_emit(&c, y, 0, y->cpos + 1 - y->lo_h, y->lo_h, y->cpos + 1);
        if(c.pol.max_per_day > 0 && y->cpos + 1 - y->lo_d > (size_t)c.pol.max_per_day)
            p7_emit(&c, y, 1, y->cpos + 1 - y->lo_d, y->lo_d, y->cpos + 1);
        if(y->promo && c.win_gap > 0) {
            for(k = y->lo_gap; k < y->ppos; k++) {
                if(c.count >= c.max) {
                    c.count += y->ppos - k; /* counted, no room to write */
                    break;
                }
                p7c_emit(&c, y, c.promo[k]);
            }
        }
        if(c.win_cross > 0) {
            size_t nx = 0;
            for(k = g; k > 0; k--) {
                struct item *x = c.by_key[k - 1];
                if(span(x->p->at, y->p->at) >= c.win_cross)
                    break;
                if(p8a_match(&c, y, x, &rc))
                    c.scratch[nx++] = x;
                if(rc)
                    goto out;
            }
            while(nx > 0)
                p8a_emit(&c, y, c.scratch[--nx]);
        }
        p8b_check(&c, y);
        seen[y->cstart]++;
        if(!stamp[2 * y->lane + 1]) {
            stamp[2 * y->lane + 1] = 1;
            active[y->net]++;
        }
    }
out:
    *count = rc ? 0 : c.count;
    free(seen);
    free(active);
    free(stamp);
    free(found_at);
    free(found_score);
    ctx_free(&c);
    return rc;
}
