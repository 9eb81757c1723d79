/* test_checks.c: the anti-spam rules of the publishing queue (core/checks.c, PRODUCT.md
 * P5-P9): each rule firing and not firing at its boundaries, the near-duplicate examples
 * of docs/checks.md, the networks' length counting, the presets, a whole-queue check that
 * reports each pair once in time order, and hostile input (NULL fields, extreme instants,
 * long texts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checks.h"
#include "util/err.h"

#define T0 INT64_C(1780000000) /* 2026-05-28 20:26:40 UTC */
#define MIN 60
#define HOUR 3600
#define DAY 86400
#define MAXV 64

static struct check_post post(int64_t id, int64_t channel, const char *network, const char *text,
                              const char *category, int64_t at)
{
    struct check_post p = {.id = id, .channel_id = channel, .network = network, .text = text,
                           .category = category, .at = at, .published = 0};
    return p;
}

/* Distinct texts, so that only the rule under test can fire. */
static const char *filler[] = {
    "Tips for better customer service on social media",
    "Meet Kari, who answers your questions every morning",
    "Five things we learned from our customer survey",
    "Behind the scenes at the bakery at four in the morning",
    "How to choose the right running shoes for winter",
    "Thank you for all the questions at the fair yesterday",
    "Our favourite reader photos from the Lofoten trip",
    "Why we switched to recycled packaging this year",
    "A short guide to caring for wool sweaters",
    "Ask us anything about bikes this Friday afternoon",
    "The story of our first shop in Trondheim",
    "What our support team reads on the bus to work",
    "Seven small habits that make mornings easier",
    "Recipe: cardamom buns from the Bergen kitchen",
    "Listening tips from the people who answer the phone",
    "Photos from the summer party at the warehouse",
    "How a customer idea became our best selling bag",
    "Questions and answers about our new return policy",
    "Meet the drivers who deliver on the islands",
    "The weekly roundup of stories from our community",
    "Winter cycling: lights, tyres and warm gloves",
    "How we plan a product launch with our customers",
    "An interview with the designer of the autumn range",
    "Our volunteers planted two hundred trees in April",
    "Ten questions we get about shipping to Iceland",
    "A day with the service desk in Gothenburg",
};
#define NFILL (sizeof(filler) / sizeof(filler[0]))

static size_t rules(const struct check_violation *v, size_t n, const char *rule)
{
    size_t k = 0;
    for(size_t i = 0; i < n; i++)
        k += strcmp(v[i].rule, rule) == 0;
    return k;
}

static const struct check_violation *find(const struct check_violation *v, size_t n, const char *rule)
{
    for(size_t i = 0; i < n; i++)
        if(strcmp(v[i].rule, rule) == 0)
            return &v[i];
    return NULL;
}

static int lists(const struct check_violation *v, int64_t id)
{
    for(size_t i = 0; i < v->nposts; i++)
        if(v->posts[i] == id)
            return 1;
    return 0;
}

/* Runs checks_candidate and returns how many violations of rule were found. */
static size_t cand_rule(const struct check_policy *pol, const struct check_post *cand,
                        const struct check_post *others, size_t n, const char *rule,
                        struct check_violation *out)
{
    size_t count = 99;
    memset(out, 0, MAXV * sizeof(*out)); /* so find() never reads a stale slot */
    assert_int_equal(checks_candidate(pol, cand, others, n, out, MAXV, &count), SAM_OK);
    assert_true(count <= MAXV);
    return rules(out, count, rule);
}

/* ---- presets ---- */

static void presets(void **state)
{
    static const struct {
        const char *name;
        int ratio;
    } cases[] = {
        {"gentle", 50}, {"balanced", 10}, {"retail", 4}, {NULL, 10}, {"", 10}, {"wholesale", 10}, {"RETAIL", 4},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct check_policy p;
        memset(&p, 0x7f, sizeof(p));
        checks_default_policy(&p, cases[i].name);
        assert_int_equal(p.mix_ratio, cases[i].ratio);
        assert_int_equal(p.max_per_hour, 2);
        assert_int_equal(p.max_per_day, 12);
        assert_int_equal(p.promo_gap_minutes, 180);
        assert_int_equal(p.mix_window_days, 30);
        assert_int_equal(p.dup_window_days, 7);
        assert_int_equal(p.dup_last_k, 10);
        assert_int_equal(p.crosspost_minutes, 60);
        assert_int_equal(p.mastodon_limit, 500);
        assert_int_equal(p.bluesky_limit, 300);
    }
    checks_default_policy(NULL, "gentle"); /* no crash */
}

/* ---- similarity: the table of docs/checks.md ---- */

static void similarity_examples(void **state)
{
    static const struct {
        const char *a, *b;
        int caught;
        const char *why;
        double sim; /* as docs/checks.md shows it, to two decimals */
    } cases[] = {
        /* caught */
        {"New blog post: how we cut delivery times", "Our new blog post: how we cut delivery times in half", 1,
         "reworded: words added", 0.86},
        {"Check out our new spring collection, now in stores and online",
         "Our new spring collection is now in stores and online. Check it out!", 1, "reworded: clauses swapped", 0.87},
        {"Join our webinar on Thursday about social media strategy",
         "Join our webinar on Friday about social media strategy", 1, "one word swapped", 0.87},
        {"Free shipping on all orders this week", "This week: free shipping on all orders", 1, "word order", 0.94},
        {"Spring sale: 20% off all jackets https://shop.example/a?utm_source=bsky",
         "Spring sale: 20% off all jackets https://shop.example/b", 1, "another link", 1.00},
        {"Spring sale: 20% off all jackets 🎉", "Spring sale: 20% off all jackets 🔥🔥👍🏽", 1, "other emoji", 1.00},
        {"SPRING SALE!!! 20% off all jackets.", "spring sale - 20% off all jackets", 1, "case and punctuation", 1.00},
        {"Vi har åpnet ny butikk på Grünerløkka", "Vi har åpnet en ny butikk på Grünerløkka!", 1,
         "Norwegian, one word added", 0.91},
        {"Nu öppnar vi vår nya butik i Malmö", "NU ÖPPNAR VI VÅR NYA BUTIK I MALMÖ!!!", 1, "Swedish, shouting", 1.00},
        {"Tips: svar på kundeklager innen en time", "Tips: svar på kundeklager innen én time 👍", 1,
         "an accent and an emoji", 0.89},
        {"Ｓａｌｅ ｔｏｄａｙ ａｔ ｔｈｅ ｓｈｏｐ", "Sale today at the shop", 1, "fullwidth letters (NFKC)", 1.00},
        /* let through */
        {"We are hiring developers in Oslo", "Our Oslo office opens in May", 0, "same topic, different message", 0.17},
        {"Happy Friday!", "Happy Friday! Here is our weekly roundup of the best customer stories", 0,
         "a greeting inside a longer post", 0.28},
        {"Customer story: how Hansen Bakeri doubled their orders",
         "Customer story: how Nordic Bikes doubled their orders", 0, "same template, another customer", 0.70},
        {"Customer story: how Hansen Bakeri doubled their orders", "Customer story: how Nordic Bikes found new riders",
         0, "same series, another story", 0.38},
        {"Åpent hus på lørdag kl 12", "Åpent hus på søndag kl 14", 0, "another day and time", 0.67},
        {"Takk til alle som kom på frokostmøtet i dag!", "Takk til alle som kom på lanseringen i går!", 0,
         "thanks for another event", 0.55},
        {"Spring sale: 20% off all jackets", "Summer sale: 30% off all shoes and boots", 0, "another offer", 0.30},
        {"Happy Friday", "Happy Monday", 0, "short greetings", 0.45},
        {"Join our webinar on Thursday", "Join our webinar on Friday", 0, "short: another day is another event", 0.73},
        {"Meet Kari from our customer service team in Bergen", "Meet Ola from our customer service team in Tromsø",
         0, "same series, another person and place", 0.72},
        {"Winner of this week's quiz: Anna from Lund", "Winner of this week's quiz: Per from Umeå", 0,
         "another winner", 0.71},
        {"🎉", "🔥", 0, "nothing but emoji, different", 0.00},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double s = checks_similarity(cases[i].a, cases[i].b), r = checks_similarity(cases[i].b, cases[i].a);
        int caught = s >= CHECKS_DUP_THRESHOLD;
        if(caught != cases[i].caught || s != r || s < cases[i].sim - 0.005 || s > cases[i].sim + 0.005)
            fail_msg("case %zu (%s): similarity %.3f (reversed %.3f), want %.2f, %s", i, cases[i].why, s, r,
                     cases[i].sim, cases[i].caught ? "caught" : "let through");
    }
}

static void similarity_edges(void **state)
{
    size_t len = 100000;
    char *a = malloc(len + 1), *b = malloc(len + 1);
    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_true(checks_similarity("Same text", "Same text") == 1.0);
    assert_true(checks_similarity("same TEXT!", "Same text") == 1.0);
    assert_true(checks_similarity("abc", "xyz") == 0.0);
    assert_true(checks_similarity(NULL, NULL) == 1.0);    /* both empty */
    assert_true(checks_similarity(NULL, "Hello") == 0.0); /* nothing to compare */
    assert_true(checks_similarity("🎉", "🎉") == 1.0);
    assert_true(checks_similarity("bad \xff bytes", "bad bytes") == 1.0);
    /* Long texts: only the first 5,000 bytes count, so a difference after them is not seen. */
    for(size_t i = 0; i < len; i++)
        a[i] = (char)('a' + (i * 7 + i / 26) % 26);
    a[len] = '\0';
    memcpy(b, a, len + 1);
    memset(b + 6000, 'z', 1000);
    assert_true(checks_similarity(a, b) == 1.0);
    memset(b + 100, 'z', 3000);
    assert_true(checks_similarity(a, b) < CHECKS_DUP_THRESHOLD);
    free(a);
    free(b);
}

/* ---- lengths ---- */

static void length_table(void **state)
{
    static const struct {
        const char *network, *text;
        long want;
    } cases[] = {
        {"bluesky", "", 0},
        {"bluesky", "Blåbærsyltetøy", 14},
        {"bluesky", "a\xcc\x8a", 1},                    /* å as a + ring is one grapheme */
        {"bluesky", "👍🏽", 1},                          /* skin tone */
        {"bluesky", "👩‍👩‍👧", 1},                          /* ZWJ family */
        {"bluesky", "👩🏽‍💻 jobber", 8},
        {"bluesky", "🇳🇴", 1},
        {"bluesky", "Se https://example.no/a/long/path", 33}, /* Bluesky counts links in full */
        {"mastodon", "Blåbærsyltetøy", 14},
        {"mastodon", "👍🏽", 2},                         /* two code points */
        {"mastodon", "👩‍👩‍👧", 5},                         /* three people, two joiners */
        {"mastodon", "a\xcc\x8a", 2},
        {"mastodon", "Les mer: https://example.no/a/very/long/path?with=query&and=more", 9 + 23},
        {"mastodon", "http://x.no.", 24},               /* the full stop is not part of the link */
        {"mastodon", "https://a.no https://b.no/æøå", 23 + 1 + 23},
        {"mastodon", "xhttps://example.no", 19},        /* not a link */
        {"MASTODON", "https://a.no", 23},
        {"file", "æøå", 6},                             /* other networks: bytes */
        {"webhook", "👍🏽", 8},
        {NULL, "abc", 3},
        {"bluesky", NULL, 0},
        {"bluesky", "\xc3", -1},
        {"mastodon", "ok \xff", -1},
        {"file", "\xed\xa0\x80", -1},
        {NULL, "\xc0\xaf", -1},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long got = checks_length(cases[i].network, cases[i].text);
        if(got != cases[i].want)
            fail_msg("case %zu (%s): got %ld, want %ld", i, cases[i].network ? cases[i].network : "NULL", got,
                     cases[i].want);
    }
}

/* Repeats unit count times into a new string. */
static char *repeat(const char *unit, size_t count, const char *tail)
{
    size_t u = strlen(unit), t = tail ? strlen(tail) : 0;
    char *s = malloc(u * count + t + 1);
    assert_non_null(s);
    for(size_t i = 0; i < count; i++)
        memcpy(s + i * u, unit, u);
    if(t)
        memcpy(s + u * count, tail, t);
    s[u * count + t] = '\0';
    return s;
}

static void p8b_limits(void **state)
{
    static const struct {
        const char *network, *unit, *tail;
        size_t count;
        int blocked;
    } cases[] = {
        /* blocked: 0 fits, 1 a warning (it goes out as a thread), 2 a block (even a thread
         * of TEXT_THREAD_MAX posts cannot hold it) */
        {"bluesky", "æ", NULL, 300, 0},
        {"bluesky", "æ", NULL, 301, 1},
        {"bluesky", "👩‍👩‍👧", NULL, 300, 0}, /* 300 graphemes, 1,800 bytes */
        {"bluesky", "👍🏽", NULL, 301, 1},
        {"bluesky", "æ", NULL, 8000, 2},    /* 28 posts of 293 */
        {"mastodon", "ø", NULL, 500, 0},
        {"mastodon", "ø", NULL, 501, 1},
        {"mastodon", "a", " https://example.no/a/really/long/path/that/goes/on/and/on/and/on", 476, 0}, /* 476+1+23 */
        {"mastodon", "a", " https://example.no/a/really/long/path/that/goes/on/and/on/and/on", 477, 1},
        {"mastodon", "👍🏽", NULL, 251, 1}, /* 502 code points */
        {"file", "a", NULL, 100000, 0},     /* no limit */
    };
    struct check_policy pol;
    struct check_violation out[MAXV];
    (void)state;
    checks_default_policy(&pol, NULL);
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = repeat(cases[i].unit, cases[i].count, cases[i].tail);
        struct check_post c = post(0, 1, cases[i].network, text, "value", T0);
        size_t got = cand_rule(&pol, &c, NULL, 0, "P8b", out);
        if(got != (cases[i].blocked ? 1u : 0u))
            fail_msg("case %zu (%s x%zu): P8b %zu, want %d", i, cases[i].network, cases[i].count, got,
                     cases[i].blocked);
        if(got) {
            char limit[16];
            const struct check_violation *v = find(out, MAXV, "P8b");
            snprintf(limit, sizeof(limit), "%d", strcmp(cases[i].network, "bluesky") ? 500 : 300);
            assert_int_equal(v->severity, cases[i].blocked == 1 ? CHECK_WARN : CHECK_BLOCK);
            if(cases[i].blocked == 1)
                assert_non_null(strstr(v->message, "thread of 2 posts"));
            assert_non_null(strstr(v->message, limit));
            assert_int_equal(v->nposts, 1);
            assert_true(v->posts[0] == 0);
        }
        free(text);
    }
    /* An instance with a bigger limit */
    pol.mastodon_limit = 1000;
    {
        char *text = repeat("ø", 600, NULL);
        struct check_post c = post(0, 1, "mastodon", text, "value", T0);
        assert_int_equal(cand_rule(&pol, &c, NULL, 0, "P8b", out), 0);
        free(text);
    }
    /* Invalid UTF-8 cannot be posted */
    {
        struct check_post c = post(5, 1, "bluesky", "broken \xc3", "value", T0);
        assert_int_equal(cand_rule(&pol, &c, NULL, 0, "P8b", out), 1);
        assert_non_null(strstr(out[0].message, "UTF-8"));
        assert_true(out[0].posts[0] == 5);
    }
}

/* ---- P7: frequency caps ---- */

static void p7a_hour(void **state)
{
    /* offsets (seconds) of the other posts on the candidate's channel, relative to the
     * candidate at T0 */
    static const struct {
        int64_t off[4];
        size_t n;
        int blocked;
        const char *why;
    } cases[] = {
        {{-30 * MIN}, 1, 0, "two in an hour is the limit"},
        {{-30 * MIN, -10 * MIN}, 2, 1, "three in an hour"},
        {{-30 * MIN, +10 * MIN}, 2, 1, "three in an hour, one after"},
        {{-59 * MIN, +59 * MIN}, 2, 0, "no 60-minute window holds all three"},
        {{-HOUR, -HOUR + 1}, 2, 0, "exactly an hour before is outside"},
        {{-HOUR + 1, -HOUR + 2}, 2, 1, "59:59 before is inside"},
        {{+HOUR - 1, +10}, 2, 1, "window starting at the candidate"},
        {{0}, 1, 0, "two at the same instant"},
        {{0, 0}, 2, 1, "three at the same instant"},
    };
    struct check_policy pol;
    struct check_violation out[MAXV];
    (void)state;
    checks_default_policy(&pol, NULL);
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct check_post others[5];
        struct check_post c = post(0, 1, "mastodon", "Candidate text about gloves", "value", T0);
        for(size_t k = 0; k < cases[i].n; k++)
            others[k] = post((int64_t)k + 1, 1, "mastodon", filler[k], "value", T0 + cases[i].off[k]);
        /* the same posts on another channel never count */
        others[cases[i].n] = post(99, 2, "mastodon", filler[10], "value", T0);
        if(cand_rule(&pol, &c, others, cases[i].n + 1, "P7a", out) != (size_t)cases[i].blocked)
            fail_msg("case %zu (%s): want %s", i, cases[i].why, cases[i].blocked ? "blocked" : "fine");
        if(cases[i].blocked) {
            const struct check_violation *v = find(out, MAXV, "P7a");
            assert_int_equal(v->severity, CHECK_BLOCK);
            assert_true(v->posts[0] == 0);
            assert_int_equal(v->nposts, 3);
            assert_false(lists(v, 99));
            assert_non_null(strstr(v->message, "limit is 2"));
        }
    }
}

static void p7b_day(void **state)
{
    struct check_policy pol;
    struct check_violation out[MAXV];
    struct check_post others[20];
    struct check_post c = post(0, 1, "bluesky", "Candidate text about gloves", "value", T0);
    (void)state;
    checks_default_policy(&pol, NULL);
    /* 11 others two hours apart before the candidate: 12 in a day is the limit */
    for(int k = 0; k < 11; k++)
        others[k] = post(k + 1, 1, "bluesky", filler[k], "value", T0 - (k + 1) * 2 * HOUR);
    assert_int_equal(cand_rule(&pol, &c, others, 11, "P7b", out), 0);
    /* one more, 23:59:59 after the earliest: 13 */
    others[11] = post(12, 1, "bluesky", filler[11], "value", T0 - 22 * HOUR + DAY - 1);
    assert_int_equal(cand_rule(&pol, &c, others, 12, "P7b", out), 1);
    assert_int_equal(find(out, MAXV, "P7b")->severity, CHECK_BLOCK);
    assert_non_null(strstr(find(out, MAXV, "P7b")->message, "13 posts"));
    /* exactly 24 hours after the earliest: outside its day, so still 12 */
    others[11].at = T0 - 22 * HOUR + DAY;
    assert_int_equal(cand_rule(&pol, &c, others, 12, "P7b", out), 0);
    /* a policy value of 0 turns the rule off */
    others[11].at = T0 - 30 * MIN;
    pol.max_per_day = 0;
    assert_int_equal(cand_rule(&pol, &c, others, 12, "P7b", out), 0);
    pol.max_per_day = 12;
    assert_int_equal(cand_rule(&pol, &c, others, 12, "P7b", out), 1);
}

static void p7c_promo_gap(void **state)
{
    static const struct {
        int64_t off;
        const char *category;
        int64_t channel;
        int blocked;
        const char *why;
    } cases[] = {
        {-180 * MIN, "promo", 1, 0, "exactly at the gap"},
        {-179 * MIN, "promo", 1, 1, "a minute inside the gap"},
        {+180 * MIN - 1, "promo", 1, 1, "after the candidate, inside"},
        {+180 * MIN, "promo", 1, 0, "after the candidate, at the gap"},
        {-10 * MIN, "value", 1, 0, "the other is not promo"},
        {-10 * MIN, "promo", 2, 0, "promo on another channel"},
        {-10 * MIN, "PROMO", 1, 1, "category case does not matter"},
        {-10 * MIN, NULL, 1, 0, "no category is not promo"},
    };
    struct check_policy pol;
    struct check_violation out[MAXV];
    (void)state;
    checks_default_policy(&pol, "gentle");
    pol.mix_ratio = 0; /* keep P6 out of the way */
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct check_post o = post(7, cases[i].channel, "mastodon", filler[0], cases[i].category, T0 + cases[i].off);
        struct check_post c = post(0, 1, "mastodon", "Winter sale: 30% off gloves", "promo", T0);
        if(cand_rule(&pol, &c, &o, 1, "P7c", out) != (size_t)cases[i].blocked)
            fail_msg("case %zu (%s): want %s", i, cases[i].why, cases[i].blocked ? "blocked" : "fine");
        if(cases[i].blocked) {
            const struct check_violation *v = find(out, MAXV, "P7c");
            assert_int_equal(v->severity, CHECK_BLOCK);
            assert_int_equal(v->nposts, 2);
            assert_true(v->posts[0] == 0 && v->posts[1] == 7);
            assert_non_null(strstr(v->message, "post 7"));
            assert_non_null(strstr(v->message, "3 hours"));
        }
        /* a value candidate never trips the promo gap */
        c.category = "value";
        assert_int_equal(cand_rule(&pol, &c, &o, 1, "P7c", out), 0);
    }
}

/* ---- P6: content mix ---- */

static void p6_mix(void **state)
{
    static const struct {
        const char *preset;
        int value_before, promo_before;
        int64_t age; /* how old the value posts are */
        int warned;
    } cases[] = {
        {"balanced", 0, 0, DAY, 0},  /* the first promo of the window is free: too few to judge */
        {"gentle", 0, 0, DAY, 0},
        {"balanced", 10, 1, DAY, 0}, /* the second needs 10 other posts */
        {"balanced", 9, 1, DAY, 1},
        {"balanced", 20, 2, DAY, 0}, /* the third, 20 */
        {"balanced", 19, 2, DAY, 1},
        {"balanced", 0, 3, DAY, 1},  /* 4 promos and nothing else */
        {"retail", 4, 1, DAY, 0},
        {"retail", 3, 1, DAY, 1},
        {"gentle", 50, 1, DAY, 0},
        {"gentle", 49, 1, DAY, 1},
        {"balanced", 10, 1, 30 * DAY, 1},     /* value posts out of the 30-day window */
        {"balanced", 10, 1, 30 * DAY - 1, 0}, /* just inside */
    };
    struct check_policy pol;
    struct check_violation out[MAXV];
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = 0;
        struct check_post *others = calloc(80, sizeof(*others));
        struct check_post c = post(0, 3, "bluesky", "Winter sale: 30% off gloves", "promo", T0);
        assert_non_null(others);
        checks_default_policy(&pol, cases[i].preset);
        pol.max_per_day = 0;
        pol.max_per_hour = 0;
        for(int k = 0; k < cases[i].value_before; k++, n++)
            others[n] = post(100 + k, 3, "bluesky", filler[k % NFILL], "value", T0 - cases[i].age);
        for(int k = 0; k < cases[i].promo_before; k++, n++)
            others[n] = post(200 + k, 3, "bluesky", "Last week: the autumn sale", "promo", T0 - 10 * DAY);
        /* promo on another channel does not count */
        others[n++] = post(300, 4, "bluesky", "Another channel's sale", "promo", T0 - HOUR);
        if(cand_rule(&pol, &c, others, n, "P6", out) != (size_t)cases[i].warned)
            fail_msg("case %zu (%s %d+%d): want %s", i, cases[i].preset, cases[i].value_before,
                     cases[i].promo_before, cases[i].warned ? "warned" : "fine");
        if(cases[i].warned) {
            const struct check_violation *v = find(out, MAXV, "P6");
            char want[64];
            assert_int_equal(v->severity, CHECK_WARN);
            assert_true(v->posts[0] == 0);
            assert_false(lists(v, 300));
            snprintf(want, sizeof(want), "one more for every %d other", pol.mix_ratio);
            assert_non_null(strstr(v->message, want));
            assert_non_null(strstr(v->message, cases[i].preset));
            assert_non_null(strstr(v->message, "value or dialogue"));
        }
        /* a value post is never blamed for the mix */
        c.category = "value";
        assert_int_equal(cand_rule(&pol, &c, others, n, "P6", out), 0);
        free(others);
    }
}

/* ---- P5: near-duplicates ---- */

static void p5_near_duplicates(void **state)
{
    const char *orig = "New blog post: how we cut delivery times";
    const char *variant = "Our new blog post: how we cut delivery times in half";
    static const struct {
        int64_t channel;
        const char *network;
        int64_t off;
        int between;  /* posts of the other's channel between it and the candidate */
        int different; /* other text on topic but different */
        int warned;
        const char *why;
    } cases[] = {
        {1, "mastodon", -2 * DAY, 0, 0, 1, "same channel, 2 days ago"},
        {1, "mastodon", -7 * DAY + 1, 0, 0, 1, "just inside 7 days"},
        {1, "mastodon", -7 * DAY, 0, 0, 0, "exactly 7 days ago"},
        {1, "mastodon", +2 * DAY, 0, 0, 1, "queued after the candidate"},
        {2, "mastodon", -HOUR, 0, 0, 1, "another channel on the same network"},
        {2, "MASTODON", -HOUR, 0, 0, 1, "network names are case-insensitive"},
        {3, "bluesky", -HOUR, 0, 0, 0, "another network (P8a's business)"},
        {1, "mastodon", -2 * DAY, 9, 0, 1, "9 posts between: still among the last 10"},
        {1, "mastodon", -2 * DAY, 10, 0, 0, "10 posts between: scrolled away"},
        {1, "mastodon", -2 * DAY, 0, 1, 0, "a different message"},
    };
    struct check_policy pol;
    struct check_violation out[MAXV];
    (void)state;
    checks_default_policy(&pol, NULL);
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct check_post others[16];
        size_t n = 0;
        int64_t dir = cases[i].off < 0 ? -1 : 1;
        struct check_post c = post(0, 1, "mastodon", variant, "value", T0);
        others[n++] = post(42, cases[i].channel, cases[i].network,
                           cases[i].different ? "We are hiring developers in Oslo" : orig, "value", T0 + cases[i].off);
        /* posts between, on the other's channel, spread between it and the candidate */
        for(int k = 0; k < cases[i].between; k++)
            others[n++] = post(500 + k, cases[i].channel, cases[i].network, filler[k], "value",
                               T0 + cases[i].off - dir * (k + 1) * HOUR);
        if(cand_rule(&pol, &c, others, n, "P5", out) != (size_t)cases[i].warned)
            fail_msg("case %zu (%s): want %s", i, cases[i].why, cases[i].warned ? "warned" : "fine");
        if(cases[i].warned) {
            const struct check_violation *v = find(out, MAXV, "P5");
            assert_int_equal(v->severity, CHECK_WARN);
            assert_int_equal(v->nposts, 2);
            assert_true(v->posts[0] == 0 && v->posts[1] == 42);
            assert_non_null(strstr(v->message, "post 42"));
            assert_non_null(strstr(v->message, "86% similar"));
        }
    }
}

/* ---- P8a: cross-posts ---- */

static void p8a_crosspost(void **state)
{
    static const struct {
        int64_t channel;
        const char *network, *text;
        int64_t off;
        int warned;
        const char *why;
    } cases[] = {
        {2, "bluesky", "Winter sale: 30% off gloves", -30 * MIN, 1, "same text, other network"},
        {2, "bluesky", "WINTER SALE - 30% off gloves! 🧤 https://shop.example/b", -59 * MIN, 1,
         "same words, other link and emoji"},
        {2, "bluesky", "Winter sale: 30% off gloves", +59 * MIN, 1, "after the candidate"},
        {2, "bluesky", "Winter sale: 30% off gloves", -60 * MIN, 0, "an hour apart"},
        {2, "bluesky", "Winter sale: 30% off all gloves", -10 * MIN, 0, "a variant"},
        {2, "mastodon", "Winter sale: 30% off gloves", -10 * MIN, 0, "same network: P5, not P8a"},
        {2, NULL, "Winter sale: 30% off gloves", -10 * MIN, 0, "unknown network"},
        {1, "bluesky", "Winter sale: 30% off gloves", -10 * MIN, 0, "same channel"},
    };
    struct check_policy pol;
    struct check_violation out[MAXV];
    (void)state;
    checks_default_policy(&pol, NULL);
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct check_post o = post(8, cases[i].channel, cases[i].network, cases[i].text, "value", T0 + cases[i].off);
        struct check_post c = post(0, 1, "mastodon", "Winter sale: 30% off gloves https://shop.example/a", "value", T0);
        if(cand_rule(&pol, &c, &o, 1, "P8a", out) != (size_t)cases[i].warned)
            fail_msg("case %zu (%s): want %s", i, cases[i].why, cases[i].warned ? "warned" : "fine");
        if(cases[i].warned) {
            const struct check_violation *v = find(out, MAXV, "P8a");
            assert_int_equal(v->severity, CHECK_WARN);
            assert_true(v->posts[0] == 0 && v->posts[1] == 8);
            assert_non_null(strstr(v->message, "Bluesky"));
            assert_non_null(strstr(v->message, "Mastodon"));
            assert_non_null(strstr(v->message, "variant"));
        }
    }
}

/* ---- the candidate among the others, NULL fields, bad arguments ---- */

static void candidate_in_others(void **state)
{
    struct check_policy pol;
    struct check_violation out[MAXV];
    struct check_post others[2];
    struct check_post c = post(17, 1, "mastodon", "Winter sale: 30% off gloves", "promo", T0);
    (void)state;
    checks_default_policy(&pol, "retail");
    /* the stored copy of the candidate itself is not another post: no P5 with itself, no
     * P7c with itself, and it does not count twice in the hour */
    others[0] = c;
    others[1] = post(18, 1, "mastodon", filler[0], "value", T0 - 5 * MIN);
    assert_int_equal(cand_rule(&pol, &c, others, 2, "P5", out), 0);
    assert_int_equal(cand_rule(&pol, &c, others, 2, "P7c", out), 0);
    assert_int_equal(cand_rule(&pol, &c, others, 2, "P7a", out), 0);
    /* an earlier copy of the same post (a series) is another post for the caps and the
     * promo gap, but never its near-duplicate: copies of a series repeat by design */
    others[0].at = T0 - 4 * HOUR;
    assert_int_equal(cand_rule(&pol, &c, others, 2, "P5", out), 0);
    others[0].at = T0 - 2 * HOUR;
    assert_int_equal(cand_rule(&pol, &c, others, 2, "P7c", out), 1);
    /* a different post with the same text is a near-duplicate */
    others[0].id = 16;
    others[0].at = T0 - 4 * HOUR;
    assert_int_equal(cand_rule(&pol, &c, others, 2, "P5", out), 1);
    assert_true(find(out, MAXV, "P5")->posts[0] == 17);
}

static void null_fields(void **state)
{
    struct check_policy pol;
    struct check_violation out[MAXV];
    struct check_post others[4];
    size_t count = 99;
    struct check_post c = post(0, 1, NULL, NULL, NULL, T0);
    (void)state;
    checks_default_policy(&pol, NULL);
    others[0] = post(1, 1, NULL, NULL, NULL, T0 - MIN);
    others[1] = post(2, 2, "bluesky", NULL, "promo", T0);
    others[2] = post(3, 1, "mastodon", "", "promo", T0 - 2 * MIN);
    others[3] = post(4, 3, "", "text", "", T0);
    assert_int_equal(checks_candidate(&pol, &c, others, 4, out, MAXV, &count), SAM_OK);
    /* three posts of channel 1 within an hour: the only thing wrong */
    assert_int_equal(count, 1);
    assert_string_equal(out[0].rule, "P7a");
    assert_int_equal(checks_length(NULL, NULL), 0);
    /* a queue of nothing but NULLs: nothing (each promo is its channel's first, which the
     * mix allows) */
    others[0].at = T0 - HOUR;
    assert_int_equal(checks_queue(&pol, others, 4, out, MAXV, &count), SAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(rules(out, count, "P6"), 0);
    /* arguments */
    assert_int_equal(checks_candidate(NULL, &c, others, 4, out, MAXV, &count), SAM_EINVAL);
    assert_int_equal(checks_candidate(&pol, NULL, others, 4, out, MAXV, &count), SAM_EINVAL);
    assert_int_equal(checks_candidate(&pol, &c, NULL, 4, out, MAXV, &count), SAM_EINVAL);
    assert_int_equal(checks_candidate(&pol, &c, others, 4, NULL, MAXV, &count), SAM_EINVAL);
    assert_int_equal(checks_candidate(&pol, &c, others, 4, out, MAXV, NULL), SAM_EINVAL);
    assert_int_equal(checks_queue(NULL, others, 4, out, MAXV, &count), SAM_EINVAL);
    assert_int_equal(checks_queue(&pol, NULL, 4, out, MAXV, &count), SAM_EINVAL);
    assert_int_equal(checks_queue(&pol, NULL, 0, NULL, 0, &count), SAM_OK);
    assert_int_equal(count, 0);
    assert_int_equal(checks_candidate(&pol, &c, NULL, 0, NULL, 0, &count), SAM_OK);
}

static void hostile_values(void **state)
{
    struct check_policy pol;
    struct check_violation out[MAXV];
    struct check_post p[6];
    size_t count = 0;
    (void)state;
    checks_default_policy(&pol, NULL);
    /* instants at the ends of int64: differences must not overflow */
    p[0] = post(1, 1, "mastodon", "Winter sale: 30% off gloves", "promo", INT64_MIN);
    p[1] = post(2, 1, "mastodon", "Winter sale: 30% off gloves", "promo", INT64_MAX);
    p[2] = post(3, 1, "mastodon", "Winter sale: 30% off gloves", "promo", INT64_MAX);
    p[3] = post(4, 2, "bluesky", "Winter sale: 30% off gloves", "promo", INT64_MAX - 1);
    p[4] = post(5, 1, "mastodon", "Winter sale: 30% off gloves", "promo", INT64_MIN + 1);
    p[5] = post(6, 1, "mastodon", "Winter sale: 30% off gloves", "promo", 0);
    assert_int_equal(checks_queue(&pol, p, 6, out, MAXV, &count), SAM_OK);
    assert_int_equal(rules(out, count, "P5"), 2);  /* 1-5 and 2-3 */
    assert_int_equal(rules(out, count, "P7c"), 2); /* 1-5 and 2-3 */
    assert_int_equal(rules(out, count, "P8a"), 2); /* 4 with 2 and with 3 */
    assert_int_equal(checks_candidate(&pol, &p[0], p + 1, 5, out, MAXV, &count), SAM_OK);
    assert_int_equal(rules(out, count, "P7c"), 1);
    /* negative and huge policy values */
    pol.max_per_hour = -1;
    pol.dup_last_k = -5;
    pol.dup_window_days = 2147483647;
    pol.promo_gap_minutes = 2147483647;
    pol.mix_ratio = 2147483647;
    pol.mix_window_days = 2147483647;
    pol.crosspost_minutes = -1;
    pol.bluesky_limit = -1;
    assert_int_equal(checks_queue(&pol, p, 6, out, MAXV, &count), SAM_OK);
    assert_int_equal(rules(out, count, "P5"), 0);  /* off */
    assert_int_equal(rules(out, count, "P8a"), 0); /* off */
    assert_int_equal(rules(out, count, "P7c"), 2); /* 4,000 years of gap still cannot span int64 */
    assert_int_equal(rules(out, count, "P7a"), 0); /* off */
}

/* ---- checks_queue ---- */

static void queue_pairs_once_in_order(void **state)
{
    struct check_policy pol;
    struct check_violation out[MAXV];
    size_t count = 0;
    struct check_post q[] = {
        /* given out of order on purpose */
        post(13, 1, "mastodon", "Winter sale: 30% off gloves today", "promo", T0 + 2 * HOUR),
        post(11, 1, "mastodon", "Winter sale: 30% off gloves", "promo", T0),
        post(12, 1, "mastodon", filler[0], "value", T0 + 10 * MIN),
        post(21, 2, "bluesky", "Winter sale: 30% off gloves", "value", T0 + 5 * MIN),
        post(14, 1, "mastodon", filler[1], "value", T0 + 20 * MIN),
    };
    static const struct {
        const char *rule;
        int64_t a, b;
    } want[] = {
        {"P8a", 21, 11}, /* T0+5min */
        {"P7a", 14, 12}, /* T0+20min: 11, 12, 14 in one hour; listed nearest first */
        {"P5", 13, 11},  /* T0+2h */
        {"P7c", 13, 11},
    };
    (void)state;
    checks_default_policy(&pol, NULL);
    pol.mix_ratio = 0;
    assert_int_equal(checks_queue(&pol, q, sizeof(q) / sizeof(q[0]), out, MAXV, &count), SAM_OK);
    if(count != sizeof(want) / sizeof(want[0])) {
        for(size_t i = 0; i < count && i < MAXV; i++)
            print_message("%s: %s\n", out[i].rule, out[i].message);
        fail_msg("got %zu violations, want %zu", count, sizeof(want) / sizeof(want[0]));
    }
    for(size_t i = 0; i < count; i++) {
        if(strcmp(out[i].rule, want[i].rule) != 0 || out[i].posts[0] != want[i].a || out[i].posts[1] != want[i].b)
            fail_msg("violation %zu: got %s %lld,%lld, want %s %lld,%lld", i, out[i].rule, (long long)out[i].posts[0],
                     (long long)out[i].posts[1], want[i].rule, (long long)want[i].a, (long long)want[i].b);
    }
    assert_int_equal(out[1].nposts, 3);
    assert_non_null(strstr(out[2].message, "post 11"));
    /* Same input in another order: same output. */
    {
        struct check_violation again[MAXV];
        size_t count2 = 0;
        struct check_post r[5];
        for(size_t i = 0; i < 5; i++)
            r[i] = q[4 - i];
        assert_int_equal(checks_queue(&pol, r, 5, again, MAXV, &count2), SAM_OK);
        assert_int_equal(count2, count);
        for(size_t i = 0; i < count; i++) {
            assert_string_equal(again[i].rule, out[i].rule);
            assert_string_equal(again[i].message, out[i].message);
        }
    }
    /* Less room than violations: the first ones in order, the full count. */
    {
        struct check_violation two[2];
        size_t c2 = 0;
        assert_int_equal(checks_queue(&pol, q, 5, two, 2, &c2), SAM_OK);
        assert_int_equal(c2, 4);
        assert_string_equal(two[0].rule, "P8a");
        assert_string_equal(two[1].rule, "P7a");
        assert_int_equal(checks_queue(&pol, q, 5, NULL, 0, &c2), SAM_OK);
        assert_int_equal(c2, 4);
    }
}

static void queue_windows_and_pairs(void **state)
{
    struct check_policy pol;
    struct check_violation out[MAXV];
    struct check_post q[8];
    size_t count = 0;
    (void)state;
    checks_default_policy(&pol, NULL);
    pol.mix_ratio = 0;
    /* Four posts in one hour with a cap of 2: the third and the fourth are one too many,
     * each reported once. */
    for(int k = 0; k < 4; k++)
        q[k] = post(k + 1, 1, "bluesky", filler[k], "value", T0 + k * 10 * MIN);
    assert_int_equal(checks_queue(&pol, q, 4, out, MAXV, &count), SAM_OK);
    assert_int_equal(count, 2);
    assert_string_equal(out[0].rule, "P7a");
    assert_true(out[0].posts[0] == 3);
    assert_true(out[1].posts[0] == 4);
    /* Three identical promos: each pair once (3 pairs of P5, 3 of P7c). */
    for(int k = 0; k < 3; k++)
        q[k] = post(k + 1, 1, "bluesky", "Winter sale: 30% off gloves", "promo", T0 + k * 2 * HOUR);
    assert_int_equal(checks_queue(&pol, q, 3, out, MAXV, &count), SAM_OK);
    assert_int_equal(rules(out, count, "P5"), 3);
    assert_int_equal(rules(out, count, "P7c"), 2); /* 1-2 and 2-3; 1-3 are 4 hours apart */
    assert_int_equal(count, 5);
    for(size_t i = 0; i < count; i++)
        for(size_t j = i + 1; j < count; j++)
            if(strcmp(out[i].rule, out[j].rule) == 0 &&
               ((out[i].posts[0] == out[j].posts[0] && out[i].posts[1] == out[j].posts[1]) ||
                (out[i].posts[0] == out[j].posts[1] && out[i].posts[1] == out[j].posts[0])))
                fail_msg("%s between %lld and %lld reported twice", out[i].rule, (long long)out[i].posts[0],
                         (long long)out[i].posts[1]);
    /* The queue agrees with the candidate check on pairs: checking post 3 against the
     * others finds its two P5 pairs. */
    assert_int_equal(cand_rule(&pol, &q[2], q, 2, "P5", out), 2);
    /* Thirteen in a day on one channel: the 13th blocked, once. */
    {
        struct check_post d[13];
        for(int k = 0; k < 13; k++)
            d[k] = post(k + 1, 1, "bluesky", filler[k], "value", T0 + k * 90 * MIN);
        assert_int_equal(checks_queue(&pol, d, 13, out, MAXV, &count), SAM_OK);
        assert_int_equal(count, 1);
        assert_string_equal(out[0].rule, "P7b");
        assert_true(out[0].posts[0] == 13);
        assert_int_equal(checks_queue(&pol, d, 12, out, MAXV, &count), SAM_OK);
        assert_int_equal(count, 0);
    }
}

static void queue_boundaries(void **state)
{
    struct check_policy pol;
    struct check_violation out[MAXV];
    struct check_post q[4];
    size_t count = 0;
    (void)state;
    checks_default_policy(&pol, NULL);
    pol.mix_ratio = 0;
    /* Promos exactly 180 minutes apart are fine; 179 minutes block. */
    q[0] = post(1, 1, "bluesky", "Winter sale: 30% off gloves", "promo", T0);
    q[1] = post(2, 1, "bluesky", "Free delivery on all boots this week", "promo", T0 + 180 * MIN);
    assert_int_equal(checks_queue(&pol, q, 2, out, MAXV, &count), SAM_OK);
    assert_int_equal(count, 0);
    q[1].at -= MIN;
    assert_int_equal(checks_queue(&pol, q, 2, out, MAXV, &count), SAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(out[0].rule, "P7c");
    assert_true(out[0].posts[0] == 2 && out[0].posts[1] == 1);
    /* Three posts spanning exactly an hour are not in one hour; 59:59 are. */
    q[0] = post(1, 1, "bluesky", filler[0], "value", T0);
    q[1] = post(2, 1, "bluesky", filler[1], "value", T0 + 30 * MIN);
    q[2] = post(3, 1, "bluesky", filler[2], "value", T0 + HOUR);
    assert_int_equal(checks_queue(&pol, q, 3, out, MAXV, &count), SAM_OK);
    assert_int_equal(count, 0);
    q[2].at -= 1;
    assert_int_equal(checks_queue(&pol, q, 3, out, MAXV, &count), SAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(out[0].rule, "P7a");
    assert_true(out[0].posts[0] == 3);
    /* One post with the same text as two earlier posts on the other network: two P8a,
     * earliest partner first. */
    q[0] = post(1, 1, "bluesky", "Winter sale: 30% off gloves", "value", T0);
    q[1] = post(2, 2, "bluesky", "Winter sale: 30% off gloves", "value", T0 + 10 * MIN);
    q[2] = post(3, 3, "mastodon", "Winter sale: 30% off gloves", "value", T0 + 20 * MIN);
    assert_int_equal(checks_queue(&pol, q, 3, out, MAXV, &count), SAM_OK);
    assert_int_equal(rules(out, count, "P5"), 1); /* 1 and 2 share a network */
    assert_int_equal(rules(out, count, "P8a"), 2);
    assert_string_equal(out[1].rule, "P8a");
    assert_true(out[1].posts[0] == 3 && out[1].posts[1] == 1);
    assert_true(out[2].posts[0] == 3 && out[2].posts[1] == 2);
    /* P5 in a queue: exactly 7 days apart is outside the window, a second less inside; a
     * channel with no network name still compares with itself. */
    q[0] = post(1, 1, NULL, "Winter sale: 30% off gloves", "value", T0);
    q[1] = post(2, 1, NULL, "Winter sale: 30% off gloves!", "value", T0 + 7 * DAY);
    q[2] = post(3, 2, NULL, "Winter sale: 30% off gloves!", "value", T0 + 7 * DAY - 10);
    assert_int_equal(checks_queue(&pol, q, 3, out, MAXV, &count), SAM_OK);
    assert_int_equal(count, 0); /* 3 is on another channel of unknown network */
    q[1].at -= 1;
    assert_int_equal(checks_queue(&pol, q, 3, out, MAXV, &count), SAM_OK);
    assert_int_equal(count, 1);
    assert_string_equal(out[0].rule, "P5");
    assert_true(out[0].posts[0] == 2 && out[0].posts[1] == 1);
}

static void queue_last_k(void **state)
{
    /* The same text 11 posts apart on a channel is not flagged; 10 apart is. */
    struct check_policy pol;
    struct check_violation out[MAXV];
    struct check_post q[12];
    size_t count = 0;
    (void)state;
    checks_default_policy(&pol, NULL);
    q[0] = post(1, 1, "mastodon", "Winter sale: 30% off gloves", "value", T0);
    for(int k = 1; k <= 10; k++)
        q[k] = post(k + 1, 1, "mastodon", filler[k], "value", T0 + k * 3 * HOUR);
    q[11] = post(12, 1, "mastodon", "Winter sale: 30% off gloves!", "value", T0 + 33 * HOUR);
    assert_int_equal(checks_queue(&pol, q, 12, out, MAXV, &count), SAM_OK);
    assert_int_equal(rules(out, count, "P5"), 0);
    assert_int_equal(checks_queue(&pol, q + 1, 11, out, MAXV, &count), SAM_OK); /* no duplicate left */
    assert_int_equal(rules(out, count, "P5"), 0);
    q[10].channel_id = 2; /* one fewer post between them on channel 1 */
    assert_int_equal(checks_queue(&pol, q, 12, out, MAXV, &count), SAM_OK);
    assert_int_equal(rules(out, count, "P5"), 1);
    assert_true(find(out, count, "P5")->posts[0] == 12);
    assert_true(find(out, count, "P5")->posts[1] == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(presets),
        cmocka_unit_test(similarity_examples),
        cmocka_unit_test(similarity_edges),
        cmocka_unit_test(length_table),
        cmocka_unit_test(p8b_limits),
        cmocka_unit_test(p7a_hour),
        cmocka_unit_test(p7b_day),
        cmocka_unit_test(p7c_promo_gap),
        cmocka_unit_test(p6_mix),
        cmocka_unit_test(p5_near_duplicates),
        cmocka_unit_test(p8a_crosspost),
        cmocka_unit_test(candidate_in_others),
        cmocka_unit_test(null_fields),
        cmocka_unit_test(hostile_values),
        cmocka_unit_test(queue_pairs_once_in_order),
        cmocka_unit_test(queue_windows_and_pairs),
        cmocka_unit_test(queue_boundaries),
        cmocka_unit_test(queue_last_k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
