/*
 * test_bluesky.c: the pure parts of the Bluesky connector (channel/bluesky.h), without a
 * network: rich-text facets (UTF-8 byte offsets of links, #tags and @mentions) from a
 * table of texts with ASCII, æøå, emoji, ZWJ sequences, flags and several facets; and the
 * record keys (TIDs) derived from an occurrence. The connector against a real PDS is
 * tested by tests/integration/test_bluesky.py.
 *
 * The expected offsets in the table were counted on the UTF-8 bytes of each text (so
 * "æøå " is 7 bytes, "🎉 " 5, "👩‍👩‍👧 " 19), not in code points or UTF-16 units.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "channel/bluesky.h"
#include "channel/channel.h"
#include "util/err.h"

#define L BSKY_FACET_LINK
#define T BSKY_FACET_TAG
#define M BSKY_FACET_MENTION

struct want {
    int kind;
    size_t start, end;
    const char *value;
};

static const struct facet_case {
    const char *text;
    size_t n;
    struct want w[6];
} facet_cases[] = {
    {"hello https://example.com/a", 1, {{L, 6, 27, "https://example.com/a"}}},
    {"æøå #tag", 1, {{T, 7, 11, "tag"}}},
    {"🎉 #fest", 1, {{T, 5, 10, "fest"}}},
    {"👩\u200d👩\u200d👧 #familie https://x.example", 2,
     {{T, 19, 27, "familie"}, {L, 28, 45, "https://x.example"}}},
    {"Se https://a.example/1, og https://b.example/2. #én #to! (https://c.example/x)", 5,
     {{L, 3, 22, "https://a.example/1"}, {L, 27, 46, "https://b.example/2"}, {T, 48, 52, "én"},
      {T, 53, 56, "to"}, {L, 59, 78, "https://c.example/x"}}},
    {"Hei @bob.test! æøå 🎉", 1, {{M, 4, 13, "bob.test"}}},
    {"Blåbær 🫐 med @alice.bsky.social og #sommer2026 🇳🇴", 2,
     {{M, 18, 36, "alice.bsky.social"}, {T, 40, 51, "sommer2026"}}},
    {"@bob.test. og @carol.test-", 2, {{M, 0, 9, "bob.test"}, {M, 14, 25, "carol.test"}}},
    {"\xef\xbc\x83hashtag", 1, {{T, 0, 10, "hashtag"}}},               /* full-width ＃ */
    {"HTTPS://EXAMPLE.COM/Æ", 1, {{L, 0, 22, "HTTPS://EXAMPLE.COM/Æ"}}},
    {"(https://x.example/a(b))", 1, {{L, 1, 24, "https://x.example/a(b))"}}},
    {"#tag\u200dmore", 1, {{T, 0, 4, "tag"}}},                            /* ZWJ ends a tag */
    /* Not facets. */
    {"a#b c@d.example e https://f.example", 1, {{L, 18, 35, "https://f.example"}}},
    {"#123 #!!! #\xef\xb8\x8f\xe2\x83\xa3 # x", 0, {{0}}},              /* digits, punctuation, keycap */
    {"mail me@example.com or @nodot or @-bad.example or @x.123", 0, {{0}}},
    {"http:// https://. xhttps://y.example", 0, {{0}}},
    {"", 0, {{0}}},
};

static void test_facets_table(void **state)
{
    (void)state;
    for(size_t c = 0; c < sizeof(facet_cases) / sizeof(facet_cases[0]); c++) {
        const struct facet_case *fc = &facet_cases[c];
        struct bsky_facet f[16];
        size_t n = 99;
        assert_int_equal(bsky_facets_find(fc->text, strlen(fc->text), f, 16, &n), SAM_OK);
        if(n != fc->n)
            fail_msg("case %zu (%s): %zu facets, expected %zu", c, fc->text, n, fc->n);
        for(size_t i = 0; i < n; i++) {
            const struct want *w = &fc->w[i];
            char val[128];
            size_t vn = f[i].value_end - f[i].value_start;
            assert_true(vn < sizeof(val));
            memcpy(val, fc->text + f[i].value_start, vn);
            val[vn] = '\0';
            if(f[i].kind != w->kind || f[i].byte_start != w->start || f[i].byte_end != w->end ||
               strcmp(val, w->value))
                fail_msg("case %zu (%s) facet %zu: kind %d [%zu,%zu) \"%s\", expected kind %d [%zu,%zu) "
                         "\"%s\"", c, fc->text, i, f[i].kind, f[i].byte_start, f[i].byte_end, val, w->kind,
                         w->start, w->end, w->value);
        }
    }
}

/* A tag may be 64 characters (UTF-16 units, as Bluesky counts), not 65. */
static void test_facets_tag_length(void **state)
{
    char text[200];
    struct bsky_facet f[2];
    size_t n;
    (void)state;
    text[0] = '#';
    memset(text + 1, 'a', 64);
    text[65] = '\0';
    assert_int_equal(bsky_facets_find(text, strlen(text), f, 2, &n), SAM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].byte_end, 65);
    strcat(text, "a");
    assert_int_equal(bsky_facets_find(text, strlen(text), f, 2, &n), SAM_OK);
    assert_int_equal(n, 0);
    /* 32 emoji are 64 UTF-16 units (128 bytes): still a tag; 33 are not. */
    text[0] = '#';
    for(int i = 0; i < 32; i++)
        memcpy(text + 1 + 4 * i, "🎉", 4);
    text[129] = '\0';
    assert_int_equal(bsky_facets_find(text, strlen(text), f, 2, &n), SAM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].byte_end, 129);
    memcpy(text + 129, "🎉", 5);
    assert_int_equal(bsky_facets_find(text, strlen(text), f, 2, &n), SAM_OK);
    assert_int_equal(n, 0);
}

static void test_facets_limits_and_bad_input(void **state)
{
    struct bsky_facet f[2];
    size_t n = 7;
    const char *many = "#a #b #c #d";
    (void)state;
    assert_int_equal(bsky_facets_find(many, strlen(many), f, 2, &n), SAM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(f[1].byte_start, 3);
    assert_int_equal(bsky_facets_find("#ok \xff", 5, f, 2, &n), SAM_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(bsky_facets_find("\xc3", 1, f, 2, &n), SAM_EINVAL);
    assert_int_equal(bsky_facets_find(NULL, 0, f, 2, &n), SAM_EINVAL);
    assert_int_equal(bsky_facets_find(many, strlen(many), NULL, 0, &n), SAM_OK);
    assert_int_equal(n, 0);
}

static void test_tid_shape_and_determinism(void **state)
{
    char a[BSKY_TID_LEN + 1], b[BSKY_TID_LEN + 1];
    const int64_t planned = 1795467600; /* 2026-11-23T20:20:00Z */
    (void)state;
    assert_int_equal(bsky_tid_make(planned, "occ-42-abcdef", a), SAM_OK);
    assert_int_equal(strlen(a), BSKY_TID_LEN);
    assert_non_null(strchr("234567abcdefghij", a[0]));
    for(size_t i = 0; i < BSKY_TID_LEN; i++)
        assert_non_null(strchr("234567abcdefghijklmnopqrstuvwxyz", a[i]));
    assert_true(bsky_tid_valid(a));
    /* The same occurrence gives the same key, every time. */
    assert_int_equal(bsky_tid_make(planned, "occ-42-abcdef", b), SAM_OK);
    assert_string_equal(a, b);
    /* The time inside is planned_at's second; the sub-second part comes from the key. */
    assert_int_equal(bsky_tid_micros(a) / 1000000, planned);
    /* Later planned times sort later (TIDs are sortable). */
    assert_int_equal(bsky_tid_make(planned + 1, "occ-42-abcdef", b), SAM_OK);
    assert_true(strcmp(a, b) < 0);
    assert_int_equal(bsky_tid_micros(b) / 1000000, planned + 1);
    assert_int_equal(bsky_tid_clock_id(a), bsky_tid_clock_id(b));
}

static void test_tid_keys_differ(void **state)
{
    char a[BSKY_TID_LEN + 1], b[BSKY_TID_LEN + 1], key[32];
    int seen[1024] = {0}, distinct = 0;
    const int64_t planned = 1795467600;
    (void)state;
    assert_int_equal(bsky_tid_make(planned, "occ-1", a), SAM_OK);
    assert_int_equal(bsky_tid_make(planned, "occ-2", b), SAM_OK);
    assert_string_not_equal(a, b);
    assert_int_not_equal(bsky_tid_clock_id(a), bsky_tid_clock_id(b));
    assert_int_not_equal(bsky_tid_micros(a), bsky_tid_micros(b));
    /* 100 keys at the same second: clock ids spread over the 1024 values, and no two
     * keys share a TID. */
    for(int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "occ-%d-key", i);
        assert_int_equal(bsky_tid_make(planned, key, a), SAM_OK);
        assert_true(bsky_tid_valid(a));
        assert_int_equal(bsky_tid_micros(a) / 1000000, planned);
        if(!seen[bsky_tid_clock_id(a)]++)
            distinct++;
    }
    assert_true(distinct >= 90);
}

static void test_tid_parse_and_refuse(void **state)
{
    char out[BSKY_TID_LEN + 1] = "x";
    int64_t m;
    (void)state;
    assert_true(bsky_tid_valid("2222222222222"));
    assert_int_equal(bsky_tid_micros("2222222222222"), 0);
    assert_int_equal(bsky_tid_clock_id("2222222222223"), 1);
    /* The example TID of the atproto specification is from 2023. */
    assert_true(bsky_tid_valid("3jzfcijpj2z2a"));
    m = bsky_tid_micros("3jzfcijpj2z2a") / 1000000;
    assert_true(m >= 1672531200 && m < 1704067200);
    assert_false(bsky_tid_valid("notatid"));
    assert_false(bsky_tid_valid("kjzfcijpj2z2a"));   /* top bit set */
    assert_false(bsky_tid_valid("3jzfcijpj2z2"));    /* 12 characters */
    assert_false(bsky_tid_valid("3jzfcijpj2z2aa"));
    assert_false(bsky_tid_valid("3JZFCIJPJ2Z2A"));
    assert_false(bsky_tid_valid("3jzfcijpj2z21"));   /* 1 is not in the alphabet */
    assert_false(bsky_tid_valid(NULL));
    assert_int_equal(bsky_tid_clock_id("bad"), -1);
    assert_int_equal(bsky_tid_make(-1, "k", out), SAM_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(bsky_tid_make(9007199255LL, "k", out), SAM_EINVAL);
    assert_int_equal(bsky_tid_make(0, "", out), SAM_EINVAL);
    assert_int_equal(bsky_tid_make(0, NULL, out), SAM_EINVAL);
    assert_int_equal(bsky_tid_make(0, "k", out), SAM_OK);
    assert_true(bsky_tid_micros(out) < 1000000);
}

/* The connector is in the table and fails cleanly without settings or a secret, before
 * any network call. */
static void test_ops_refuse_bad_settings(void **state)
{
    const struct channel_ops *ops = channel_ops_for("bluesky");
    struct store_channel ch;
    struct channel_ctx ctx;
    struct channel_post post = {.occurrence_id = 1, .post_id = 1, .planned_at = 1795467600,
                                .text = "hei", .idempotency_key = "occ-1"};
    struct channel_result res;
    json_t *settings = json_pack("{s:s, s:s}", "handle", "alice.test", "service_url", "ftp://x");
    (void)state;
    assert_non_null(ops);
    assert_true(ops->can_publish && ops->can_delete);
    memset(&ch, 0, sizeof(ch));
    ch.id = 1;
    memset(&ctx, 0, sizeof(ctx));
    ctx.channel = &ch;
    ctx.settings = settings;
    ctx.secret = "app-pass";
    ctx.secret_len = 8;
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_non_null(strstr(res.message, "service_url"));
    json_object_set_new(settings, "service_url", json_string("http://127.0.0.1:9"));
    ctx.secret = NULL;
    ctx.secret_len = 0;
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_non_null(strstr(res.message, "app password"));
    json_object_del(settings, "handle");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_non_null(strstr(res.message, "handle"));
    assert_int_equal(ops->remove(&ctx, "https://bsky.app/x", &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    json_decref(settings);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facets_table),
        cmocka_unit_test(test_facets_tag_length),
        cmocka_unit_test(test_facets_limits_and_bad_input),
        cmocka_unit_test(test_tid_shape_and_determinism),
        cmocka_unit_test(test_tid_keys_differ),
        cmocka_unit_test(test_tid_parse_and_refuse),
        cmocka_unit_test(test_ops_refuse_bad_settings),
    };
    return cmocka_run_group_tests_name("bluesky", tests, NULL, NULL);
}
