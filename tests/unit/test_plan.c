/* test_plan.c: planning over the store (core/post.c, core/plan.c): where a post goes and
 * what the checks say of it, read from ranges of the queue, against the same answers
 * computed the slow way from everything (the whole window of the checks, every taken
 * instant of the channel). A range that missed a post that matters fails here: a
 * near-duplicate just inside the window, a promo a month back, a post published later
 * than it was planned, a slot held far in the future, a slot freed by a cancel, a failure
 * or a move, by this process or another one. Runs on the engine of this run (SQLite, or
 * PostgreSQL with SAMTALE_TEST_ENGINE=postgres). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checks.h"
#include "core/core.h"
#include "core/post.h"
#include "util/err.h"
#include "core_fixture.h"

#define DAY 86400
#define T0 1780000000 /* a Monday in 2026, 08:53 UTC: the tests' "now" */

struct pfx {
    struct fx *store;
    struct core core;
    struct actor sys;
    struct store_workspace w;
};

static int setup(void **state)
{
    struct pfx *f = calloc(1, sizeof(*f));
    if(!f || fx_core_open("plan", 1, &f->store, &f->core, &f->sys))
        return -1;
    if(core_workspace_create(&f->core, &f->sys, "Plan", "Europe/Oslo", &f->w))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct pfx *f = *state;
    void *sf = f->store;
    if(fx_close(&sf))
        return -1;
    free(f);
    return 0;
}

static unsigned rnd_state = 12345;

static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

static int64_t add_channel(struct pfx *f, const char *kind, const char *name, const char *slots, int per_hour,
                           int per_day)
{
    struct store_channel ch;
    memset(&ch, 0, sizeof(ch));
    ch.workspace_id = f->w.id;
    snprintf(ch.kind, sizeof(ch.kind), "%s", kind);
    snprintf(ch.name, sizeof(ch.name), "%s", name);
    snprintf(ch.timezone, sizeof(ch.timezone), "Europe/Oslo");
    snprintf(ch.status, sizeof(ch.status), "active");
    ch.settings = strdup("{}");
    ch.slots = strdup(slots);
    ch.max_per_hour = per_hour;
    ch.max_per_day = per_day;
    ch.created_at = ch.updated_at = T0;
    assert_int_equal(store_channel_insert(f->core.st, &ch), SAM_OK);
    store_channel_cleanup(&ch);
    return ch.id;
}

/* A post stored as it is, at the given times (one occurrence per channel). */
static int64_t add_post(struct pfx *f, const char *text, const char *category, const char *variants,
                        const int64_t *chans, const int64_t *at, size_t n)
{
    struct store_post p;
    struct store_occurrence o[4];
    memset(&p, 0, sizeof(p));
    memset(o, 0, sizeof(o));
    p.workspace_id = f->w.id;
    p.text = (char *)text;
    p.variants = (char *)(variants ? variants : "[]");
    snprintf(p.category, sizeof(p.category), "%s", category);
    snprintf(p.state, sizeof(p.state), "scheduled");
    p.created_at = p.updated_at = T0 - 60 * DAY;
    for(size_t i = 0; i < n; i++) {
        o[i].channel_id = chans[i];
        o[i].planned_at = at[i];
        o[i].variant = variants ? (int)(i + 1) : 0;
        snprintf(o[i].idempotency_key, sizeof(o[i].idempotency_key), "t-%u-%u", rnd(1u << 30), rnd(1u << 30));
    }
    assert_int_equal(store_post_insert(f->core.st, &p, o, n), SAM_OK);
    return p.id;
}

static const char *texts[] = {
    "Our spring menu is here: wild garlic soup, rhubarb tart and cold brew on tap",
    "Our spring menu is here: wild garlic soup, rhubarb tart and cold brew on tap!",
    "Our spring menu is here - wild garlic soup, rhubarb tart, cold brew on tap",
    "Volunteers wanted for the beach clean-up on Saturday morning, gloves provided",
    "Volunteers wanted for the beach clean up Saturday morning; gloves provided",
    "How we cut delivery times in half: a thread about routes, bikes and patience",
    "How we cut delivery times in half - a thread about routes, bikes, patience",
    "New opening hours from Monday: 07 to 19 on weekdays, 09 to 16 on Saturdays",
    "Question of the week: what should we bake for the market in Bergen?",
    "Thank you, Oslo! Ten years of coffee, and every cup poured for you",
};
static const char *cats[] = {"value", "promo", "value", "dialogue", "share", "personal", "promo", "value"};

static const char *network_of(const char *kind)
{
    return !strcmp(kind, "bluesky") || !strcmp(kind, "mastodon") ? kind : "";
}

/* What the checks said of a post the slow way: every post planned within 31 days (the
 * candidates' channels) or 8 days (the others) of the candidates, each candidate against
 * all of them, as the checks read the queue before they read ranges of it. */
static json_t *reference(struct pfx *f, const struct post_input *in, const int64_t *at, int64_t self)
{
    static const char *names[] = {"value", "promo", "personal", "share", "dialogue"};
    struct store_channel *chans = NULL;
    size_t nch = 0, nall = 0;
    struct store_queue_item *all[2] = {NULL, NULL};
    size_t nitems[2] = {0, 0};
    struct check_post *others = calloc(20000, sizeof(*others));
    char **owned = calloc(20000, sizeof(*owned));
    int64_t lo = at[0], hi = at[0];
    json_t *out = json_array();
    assert_non_null(others);
    assert_int_equal(store_channel_list(f->core.st, f->w.id, NULL, 0, 10000, &chans, &nch), SAM_OK);
    for(size_t i = 0; i < in->nchannels; i++) {
        lo = at[i] < lo ? at[i] : lo;
        hi = at[i] > hi ? at[i] : hi;
    }
    /* The candidate's own channels over the wide window (31 days), the others over the
     * narrow one (8 days). */
    assert_int_equal(store_queue_items(f->core.st, f->w.id, 0, lo - 31 * DAY, hi + 31 * DAY, &all[0], &nitems[0]),
                     SAM_OK);
    assert_int_equal(store_queue_items(f->core.st, f->w.id, 0, lo - 8 * DAY, hi + 8 * DAY, &all[1], &nitems[1]),
                     SAM_OK);
    for(int pass = 0; pass < 2; pass++)
        for(size_t i = 0; i < nitems[pass]; i++) {
            struct store_queue_item *q = &all[pass][i];
            const struct store_channel *ch = core_channel_find(chans, nch, q->channel_id);
            struct store_post p = {.text = q->text, .variants = q->variants};
            int wide = 0;
            for(size_t j = 0; j < in->nchannels; j++)
                wide |= in->channels[j] == q->channel_id;
            if(!ch || wide != (pass == 0) || q->post_id == self)
                continue; /* each channel in its own window */
            owned[nall] = q->variant ? core_post_text_for(&p, q->variant) : strdup(q->text);
            others[nall] = (struct check_post){.id = q->post_id, .channel_id = q->channel_id,
                                               .network = network_of(ch->kind), .text = owned[nall], .at = q->at,
                                               .published = q->published};
            for(size_t k = 0; k < 5; k++)
                if(!strcmp(q->category, names[k]))
                    others[nall].category = names[k];
            nall++;
        }
    for(size_t i = 0; i < in->nchannels; i++) {
        const struct store_channel *ch = core_channel_find(chans, nch, in->channels[i]);
        struct check_post cand = {.channel_id = in->channels[i], .network = network_of(ch->kind), .text = in->text,
                                  .category = in->category, .at = at[i]};
        struct check_policy pol;
        struct check_violation found[32];
        size_t k = nall, count = 0;
        for(size_t j = 0; j < in->nchannels; j++)
            if(j != i) {
                const struct store_channel *cj = core_channel_find(chans, nch, in->channels[j]);
                others[k] = (struct check_post){.channel_id = in->channels[j], .network = network_of(cj->kind),
                                                .text = in->text, .category = in->category, .at = at[j], .copy = 1};
                k++;
            }
        checks_default_policy(&pol, f->w.mix_preset);
        if(ch->max_per_hour > 0)
            pol.max_per_hour = ch->max_per_hour;
        if(ch->max_per_day > 0)
            pol.max_per_day = ch->max_per_day;
        assert_int_equal(checks_candidate(&pol, &cand, others, k, found, 32, &count), SAM_OK);
        for(size_t v = 0; v < count && v < 32; v++) {
            json_t *posts = json_array();
            for(size_t m = 0; m < found[v].nposts; m++)
                if(found[v].posts[m])
                    json_array_append_new(posts, json_integer(found[v].posts[m]));
            json_array_append_new(out, json_pack("{s:s, s:s, s:o}", "rule", found[v].rule, "message",
                                                 found[v].message, "posts", posts));
        }
    }
    for(size_t i = 0; i < nall; i++)
        free(owned[i]);
    free(owned);
    free(others);
    store_queue_items_free(all[0], nitems[0]);
    store_queue_items_free(all[1], nitems[1]);
    store_channel_list_free(chans, nch);
    return out;
}

/* The checks' answer through core_post_check, in the reference's shape. */
static json_t *answer(struct pfx *f, const struct post_input *in)
{
    json_t *v = NULL, *out = json_array(), *e;
    int blocked = 0;
    size_t i;
    assert_int_equal(core_post_check(&f->core, f->w.id, in, T0 - 100 * DAY, &v, &blocked), SAM_OK);
    json_array_foreach(v, i, e)
        json_array_append_new(out, json_pack("{s:O, s:O, s:O}", "rule", json_object_get(e, "rule"), "message",
                                             json_object_get(e, "message"), "posts", json_object_get(e, "posts")));
    json_decref(v);
    return out;
}

static void assert_same(json_t *want, json_t *got, const char *what)
{
    if(!json_equal(want, got)) {
        char *a = json_dumps(want, JSON_INDENT(1)), *b = json_dumps(got, JSON_INDENT(1));
        fprintf(stderr, "%s:\nwanted %s\ngot %s\n", what, a, b);
        free(a);
        free(b);
        fail();
    }
}

/* A busy month on five channels of three kinds, some of it published (later than planned,
 * or never: failed), some cancelled; then posts checked at random places in it, and at
 * the edges of the windows of each rule around a stored post. */
static void checks_read_ranges_as_the_whole_window(void **state)
{
    struct pfx *f = *state;
    int64_t ch[5], placed[400][3];
    size_t nplaced = 0, checked = 0, flagged = 0;
    ch[0] = add_channel(f, "bluesky", "b1", "[]", 0, 0);
    ch[1] = add_channel(f, "bluesky", "b2", "[]", 3, 20);
    ch[2] = add_channel(f, "mastodon", "m1", "[]", 0, 0);
    ch[3] = add_channel(f, "file", "f1", "[]", 2, 12);
    ch[4] = add_channel(f, "webhook", "w1", "[]", 0, 0);
    rnd_state = 7;
    for(int i = 0; i < 380; i++) {
        int64_t c2[2], at[2];
        size_t n = rnd(5) == 0 ? 2 : 1;
        c2[0] = ch[rnd(5)];
        c2[1] = ch[(rnd(4) + 1 + (size_t)(c2[0] - ch[0])) % 5];
        /* Dense in places: minutes to days apart, over six weeks around T0. */
        at[0] = T0 - 14 * DAY + (int64_t)rnd(42 * 24) * 3600 + (int64_t)rnd(4) * 600;
        at[1] = at[0] + (int64_t)rnd(3) * 1800;
        unsigned tx = rnd(10);
        int64_t id = add_post(f, texts[tx], cats[rnd(8)], rnd(6) == 0 ? "[\"A variant of it\"]" : NULL, c2, at, n);
        placed[nplaced][0] = c2[0];
        placed[nplaced][1] = at[0];
        placed[nplaced++][2] = tx;
        if(rnd(12) == 0)
            assert_int_equal(store_post_cancel(f->core.st, id, T0 - 20 * DAY), SAM_OK);
    }
    /* What was due by T0 goes out, a little or a lot later than planned; some fail. */
    for(;;) {
        struct store_occurrence *occ = NULL;
        size_t n = 0;
        assert_int_equal(store_occurrence_claim(f->core.st, T0, "test", 60, 50, &occ, &n), SAM_OK);
        for(size_t i = 0; i < n; i++) {
            struct store_outcome o = {.state = rnd(10) == 0 ? "failed" : "published", .next_attempt_at = T0};
            if(!strcmp(o.state, "published"))
                o.published_at = occ[i].planned_at + (int64_t)rnd(4) * (rnd(3) == 0 ? DAY : 1800);
            else
                o.error = "refused";
            assert_int_equal(store_occurrence_finish(f->core.st, occ[i].id, "test", &o), SAM_OK);
        }
        free(occ);
        if(n == 0)
            break;
    }
    for(int i = 0; i < 260; i++) {
        struct post_input in;
        int64_t chans[2], at[2], d;
        json_t *want, *got;
        memset(&in, 0, sizeof(in));
        in.text = texts[rnd(10)];
        in.category = cats[rnd(8)];
        in.schedule = POST_AT;
        chans[0] = ch[rnd(5)];
        chans[1] = ch[(rnd(4) + 1 + (size_t)(chans[0] - ch[0])) % 5];
        in.channels = chans;
        in.nchannels = rnd(4) == 0 ? 2 : 1;
        if(i % 2) {
            /* Right at a window's edge from a stored post: 1 h, 3 h, 1 day, 7 days, 30 days. */
            static const int64_t edges[] = {3600, 3 * 3600, DAY, 7 * DAY, 30 * DAY};
            size_t p = rnd((unsigned)nplaced);
            d = edges[rnd(5)] + (int64_t)rnd(3) - 1;
            if(rnd(2))
                chans[0] = placed[p][0];
            else
                in.text = texts[placed[p][2]]; /* the same words elsewhere: P8a, P5 */
            in.at = placed[p][1] + (rnd(2) ? d : -d);
        } else {
            in.at = T0 - 10 * DAY + (int64_t)rnd(40 * 24) * 3600;
        }
        at[0] = at[1] = in.at;
        want = reference(f, &in, at, 0);
        got = answer(f, &in);
        assert_same(want, got, in.text);
        checked++;
        flagged += json_array_size(want) > 0;
        json_decref(want);
        json_decref(got);
    }
    /* The comparison saw the rules at work, not only quiet places. */
    assert_int_equal(checked, 260);
    assert_true(flagged > 60);
}

/* A near-duplicate one second inside the seven-day window is flagged, one second outside
 * it is not; the tenth post back on the channel counts, the eleventh does not. */
static void near_duplicate_at_the_edges(void **state)
{
    struct pfx *f = *state;
    int64_t ch = add_channel(f, "mastodon", "m", "[]", 0, 0), other = add_channel(f, "mastodon", "m2", "[]", 0, 0);
    int64_t at = T0 + 10 * DAY, id;
    struct post_input in = {.text = texts[0], .category = "value", .schedule = POST_AT, .channels = &ch, .nchannels = 1};
    json_t *got;
    id = add_post(f, texts[1], "value", NULL, &other, &at, 1);
    in.at = at + 7 * DAY - 1;
    got = answer(f, &in);
    assert_int_equal(json_array_size(got), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "rule")), "P5");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(json_array_get(got, 0), "posts"), 0)), id);
    json_decref(got);
    in.at = at + 7 * DAY;
    got = answer(f, &in);
    assert_int_equal(json_array_size(got), 0);
    json_decref(got);
    /* Nine, then ten other posts on the duplicate's channel after it. */
    for(int i = 1; i <= 10; i++) {
        int64_t t = at + i * 3600;
        add_post(f, texts[3 + i % 6], "value", NULL, &other, &t, 1);
        in.at = at + 2 * DAY;
        got = answer(f, &in);
        assert_int_equal(json_array_size(got), i < 10 ? 1 : 0);
        json_decref(got);
    }
}

/* The same words on another network less than an hour before or after are flagged (P8a),
 * an hour apart they are not. */
static void cross_post_at_the_edges(void **state)
{
    struct pfx *f = *state;
    int64_t b = add_channel(f, "bluesky", "b", "[]", 0, 0), m = add_channel(f, "mastodon", "m", "[]", 0, 0);
    int64_t at = T0 + 3 * DAY, id = add_post(f, texts[5], "value", NULL, &b, &at, 1);
    static const struct {
        int64_t d;
        size_t n;
    } cases[] = {{3599, 1}, {3600, 0}, {-3599, 1}, {-3600, 0}, {0, 1}};
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct post_input in = {.text = texts[5], .category = "value", .schedule = POST_AT, .channels = &m,
                                .nchannels = 1, .at = at + cases[i].d};
        json_t *got = answer(f, &in);
        assert_int_equal(json_array_size(got), cases[i].n);
        if(cases[i].n) {
            assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "rule")), "P8a");
            assert_int_equal(json_integer_value(json_array_get(json_object_get(json_array_get(got, 0), "posts"), 0)),
                             id);
        }
        json_decref(got);
    }
}

/* The slow answer for the next free slot: every taken instant of the channel a year
 * ahead, and slots_next_free over them. */
static int64_t reference_slot(struct pfx *f, int64_t chan, int64_t now)
{
    struct store_channel ch;
    struct store_occurrence *occ = NULL;
    struct slot s[SLOTS_MAX];
    size_t n = 0, ns, k = 0;
    int64_t *taken, out = 0;
    assert_int_equal(store_channel_get(f->core.st, chan, &ch), SAM_OK);
    assert_int_equal(store_occurrence_list(f->core.st, 0, 0, chan, now, now + 400 * DAY, 0, 100000, &occ, &n), SAM_OK);
    taken = calloc(n + 1, sizeof(*taken));
    for(size_t i = 0; i < n; i++)
        if(strcmp(occ[i].state, "cancelled") && strcmp(occ[i].state, "failed"))
            taken[k++] = occ[i].planned_at;
    core_channel_slots(&ch, s, &ns);
    if(slots_next_free(s, ns, ch.timezone, now, taken, k, &out) != SAM_OK)
        out = -1;
    free(taken);
    free(occ);
    store_channel_cleanup(&ch);
    return out;
}

static int64_t next_slot(struct pfx *f, int64_t chan, int64_t now, int64_t *post)
{
    struct post_input in = {.text = texts[rnd(10)], .category = "value", .channels = &chan, .nchannels = 1,
                            .schedule = POST_NEXT_SLOT, .override_reason = "test"};
    struct store_post p;
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    int64_t at;
    int rc = core_post_create(&f->core, &f->sys, f->w.id, &in, now, &p, &occ, &n, NULL);
    if(rc == SAM_EINVAL)
        return -1; /* every slot taken */
    assert_int_equal(rc, SAM_OK);
    assert_int_equal(n, 1);
    at = occ[0].planned_at;
    if(post)
        *post = p.id;
    free(occ);
    store_post_cleanup(&p);
    return at;
}

/* Posts placed one after another at the next free slot land where a search over every
 * taken instant says, however the queue changes between them: slots taken far ahead,
 * posts cancelled, failed or moved (in this process or through another store on the same
 * database), slots changed, time moving on. */
static void next_free_slot_as_from_scratch(void **state)
{
    struct pfx *f = *state;
    int64_t a = add_channel(f, "file", "a", "[\"mon 09:00\", \"wed 12:30\", \"fri 17:00\", \"sun 10:00\"]", 0, 0);
    int64_t b = add_channel(f, "file", "b", "[\"tue 08:00\", \"thu 20:00\"]", 0, 0);
    int64_t ids[400], now = T0;
    size_t nids = 0;
    struct store *other = NULL;
    assert_int_equal(store_open(f->store->path, &other), SAM_OK);
    rnd_state = 99;
    for(int step = 0; step < 300; step++) {
        int64_t chan = rnd(3) ? a : b, want = reference_slot(f, chan, now), got, id = 0;
        unsigned what = rnd(20);
        got = next_slot(f, chan, now, &id);
        assert_int_equal(got, want);
        if(id && nids < 400)
            ids[nids++] = id;
        if(what == 0 && nids) {
            /* Cancelled here: its slot is free again. */
            store_post_cancel(f->core.st, ids[rnd((unsigned)nids)], now);
        } else if(what == 1 && nids) {
            /* Cancelled by another process on the same database. */
            store_post_cancel(other, ids[rnd((unsigned)nids)], now);
        } else if(what == 2 && nids) {
            /* Moved to a time that is not a slot. */
            struct store_occurrence *occ = NULL;
            size_t n = 0;
            assert_int_equal(store_occurrence_list(f->core.st, 0, ids[rnd((unsigned)nids)], 0, 0, 0, 0, 10, &occ, &n),
                             SAM_OK);
            if(n && !strcmp(occ[0].state, "scheduled"))
                assert_int_equal(store_occurrence_move(other, occ[0].id, occ[0].planned_at + 7 * 60, now, NULL), SAM_OK);
            free(occ);
        } else if(what == 3) {
            /* A post at a slot far ahead, which the search reaches later. */
            int64_t far = reference_slot(f, chan, now + (int64_t)(20 + rnd(60)) * DAY);
            int64_t pid = add_post(f, texts[2], "value", NULL, &chan, &far, 1);
            if(nids < 400)
                ids[nids++] = pid;
        } else if(what == 4) {
            now += (int64_t)rnd(3) * DAY + 3600; /* time moves on */
        }
        if(step == 150) {
            /* The channel's slots change. */
            struct store_channel ch;
            assert_int_equal(store_channel_get(f->core.st, a, &ch), SAM_OK);
            free(ch.slots);
            ch.slots = strdup("[\"mon 09:00\", \"tue 18:00\", \"sat 11:00\"]");
            assert_int_equal(store_channel_update(f->core.st, &ch), SAM_OK);
            store_channel_cleanup(&ch);
        }
    }
    store_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(checks_read_ranges_as_the_whole_window, setup, teardown),
        cmocka_unit_test_setup_teardown(near_duplicate_at_the_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(cross_post_at_the_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(next_free_slot_as_from_scratch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
