/* test_series.c: planning evergreen series (PRODUCT.md P3): copies a day, never in
 * consecutive slots, a minimum gap, other posts interleaved, a count limit. Expected
 * instants worked out by hand for Europe/Oslo (CET, +01:00) from Monday 2026-11-30. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/series.h"
#include "util/err.h"

#define D1 1796025600 /* Mon 2026-11-30 09:00 Oslo */
#define H 3600
#define DAY 86400

static size_t four_a_day(struct slot *s)
{
    size_t n = 0;
    for(int d = 0; d < 7; d++)
        for(int h = 9; h <= 18; h += 3)
            s[n++] = (struct slot){d, h * 60};
    return n;
}

static void plan(const struct series_rule *r, const int64_t *taken, size_t nt, const int64_t *want, size_t nw)
{
    struct slot s[SLOTS_MAX];
    size_t n = four_a_day(s), cnt;
    int64_t out[64];
    assert_int_equal(series_plan(r, s, n, "Europe/Oslo", taken, nt, out, 64, &cnt), SAM_OK);
    if(cnt != nw)
        fail_msg("planned %zu copies, want %zu", cnt, nw);
    for(size_t i = 0; i < nw; i++)
        if(out[i] != want[i])
            fail_msg("copy %zu at %lld, want %lld", i, (long long)out[i], (long long)want[i]);
}

static void never_consecutive_and_gap(void **state)
{
    /* 09, 12, 15, 18 a day; three a day wanted but 12 and 18 are each next to a copy. */
    struct series_rule r = {.per_day = 3, .gap_minutes = 240, .start = D1 - 9 * H, .max_count = 6};
    const int64_t want[] = {D1, D1 + 6 * H, D1 + DAY, D1 + DAY + 6 * H, D1 + 2 * DAY, D1 + 2 * DAY + 6 * H};
    (void)state;
    plan(&r, NULL, 0, want, 6);
}

static void other_posts_are_interleaved(void **state)
{
    /* 09:00 on day one belongs to another post: copies go to 12 and 18, and day two
     * starts at 12 because 09 follows 18 directly. */
    struct series_rule r = {.per_day = 3, .gap_minutes = 240, .start = D1 - 9 * H, .max_count = 4};
    const int64_t taken[] = {D1};
    const int64_t want[] = {D1 + 3 * H, D1 + 9 * H, D1 + DAY + 3 * H, D1 + DAY + 9 * H};
    (void)state;
    plan(&r, taken, 1, want, 4);
}

static void one_a_day_until_an_end(void **state)
{
    struct series_rule r = {.per_day = 1, .gap_minutes = 240, .start = D1 - 9 * H, .end = D1 + 3 * DAY};
    const int64_t want[] = {D1, D1 + DAY, D1 + 2 * DAY};
    (void)state;
    plan(&r, NULL, 0, want, 3);
}

static void a_long_gap_wins_over_copies_a_day(void **state)
{
    struct series_rule r = {.per_day = 3, .gap_minutes = 12 * 60, .start = D1 - 9 * H, .max_count = 3};
    /* 09 day one, then nothing until 12 hours later: 09 is next to 18? no, 09 day two
     * comes after 18 (skipped), so it is not consecutive to the copy at 09. */
    const int64_t want[] = {D1, D1 + DAY, D1 + 2 * DAY};
    (void)state;
    plan(&r, NULL, 0, want, 3);
}

static void bad_rules(void **state)
{
    struct slot s[SLOTS_MAX];
    size_t n = four_a_day(s), cnt;
    int64_t out[4];
    struct series_rule r = {.per_day = 0, .gap_minutes = 240, .start = D1};
    (void)state;
    assert_int_equal(series_plan(&r, s, n, "Europe/Oslo", NULL, 0, out, 4, &cnt), SAM_EINVAL);
    r.per_day = 3;
    assert_int_equal(series_plan(&r, s, 0, "Europe/Oslo", NULL, 0, out, 4, &cnt), SAM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(never_consecutive_and_gap),
        cmocka_unit_test(other_posts_are_interleaved),
        cmocka_unit_test(one_a_day_until_an_end),
        cmocka_unit_test(a_long_gap_wins_over_copies_a_day),
        cmocka_unit_test(bad_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
