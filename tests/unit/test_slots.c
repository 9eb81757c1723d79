/* test_slots.c: time zones and weekly posting slots (PRODUCT.md P1), with the
 * spring-forward and fall-back days of 2026 and 2027 in Europe/Oslo and a channel in
 * America/New_York on its own change days and on Oslo's. Expected instants were worked
 * out from each zone's rules by hand (UTC via calendar.timegm), not from this code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/slots.h"
#include "util/err.h"
#include "util/tz.h"

static void wall_to_utc_table(void **state)
{
    static const struct {
        const char *zone;
        int y, mo, d, h, mi;
        int64_t utc;
        int moved;
        const char *why;
    } cases[] = {
        {"Europe/Oslo", 2026, 3, 29, 1, 59, 1774745940, 0, "last minute of CET"},
        {"Europe/Oslo", 2026, 3, 29, 2, 0, 1774746000, 1, "gap start moves to 03:00 CEST"},
        {"Europe/Oslo", 2026, 3, 29, 2, 30, 1774746000, 1, "inside the gap moves to 03:00 CEST"},
        {"Europe/Oslo", 2026, 3, 29, 3, 0, 1774746000, 0, "03:00 CEST exists"},
        {"Europe/Oslo", 2026, 3, 29, 9, 0, 1774767600, 0, "09:00 CEST"},
        {"Europe/Oslo", 2026, 10, 25, 1, 30, 1792884600, 0, "before the overlap, CEST"},
        {"Europe/Oslo", 2026, 10, 25, 2, 0, 1792886400, 0, "overlap: first occurrence (CEST)"},
        {"Europe/Oslo", 2026, 10, 25, 2, 30, 1792888200, 0, "overlap: first occurrence (CEST)"},
        {"Europe/Oslo", 2026, 10, 25, 3, 0, 1792893600, 0, "after the overlap, CET"},
        {"Europe/Oslo", 2026, 10, 25, 9, 0, 1792915200, 0, "09:00 CET"},
        {"Europe/Oslo", 2027, 3, 28, 2, 30, 1806195600, 1, "2027 gap moves to 03:00 CEST"},
        {"Europe/Oslo", 2027, 3, 28, 9, 0, 1806217200, 0, "2027 spring 09:00 CEST"},
        {"Europe/Oslo", 2027, 10, 31, 2, 30, 1824942600, 0, "2027 overlap: first occurrence"},
        {"Europe/Oslo", 2027, 10, 31, 9, 0, 1824969600, 0, "2027 fall 09:00 CET"},
        {"America/New_York", 2026, 3, 8, 2, 30, 1772953200, 1, "NY gap moves to 03:00 EDT"},
        {"America/New_York", 2026, 3, 8, 9, 0, 1772974800, 0, "NY 09:00 EDT"},
        {"America/New_York", 2026, 11, 1, 1, 30, 1793511000, 0, "NY overlap: first occurrence (EDT)"},
        {"America/New_York", 2026, 11, 1, 9, 0, 1793541600, 0, "NY 09:00 EST"},
        {"America/New_York", 2026, 3, 29, 9, 0, 1774789200, 0, "NY on Oslo's spring day: EDT"},
        {"America/New_York", 2026, 10, 25, 9, 0, 1792933200, 0, "NY on Oslo's fall day: still EDT"},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tz_civil c = {.year = cases[i].y, .month = cases[i].mo, .day = cases[i].d,
                             .hour = cases[i].h, .minute = cases[i].mi};
        int64_t t = 0;
        int moved = -1;
        assert_int_equal(tz_to_utc(cases[i].zone, &c, &t, &moved), SAM_OK);
        if(t != cases[i].utc || moved != cases[i].moved)
            fail_msg("%s %04d-%02d-%02d %02d:%02d (%s): got %lld moved=%d, want %lld moved=%d", cases[i].zone,
                     cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi, cases[i].why, (long long)t,
                     moved, (long long)cases[i].utc, cases[i].moved);
    }
}

static void utc_to_wall(void **state)
{
    struct tz_civil c;
    (void)state;
    /* Both instants of the repeated 02:30 on Oslo's fall-back day read 02:30. */
    assert_int_equal(tz_to_local("Europe/Oslo", 1792888200, &c), SAM_OK);
    assert_int_equal(c.hour * 60 + c.minute, 150);
    assert_int_equal(c.utc_offset, 7200);
    assert_int_equal(c.weekday, 6); /* Sunday */
    assert_int_equal(tz_to_local("Europe/Oslo", 1792888200 + 3600, &c), SAM_OK);
    assert_int_equal(c.hour * 60 + c.minute, 150);
    assert_int_equal(c.utc_offset, 3600);
    assert_int_equal(tz_to_local("Mars/Olympus", 0, &c), SAM_EINVAL);
    struct tz_civil feb30 = {.year = 2026, .month = 2, .day = 30, .hour = 9};
    int64_t t;
    assert_int_equal(tz_to_utc("Europe/Oslo", &feb30, &t, NULL), SAM_EINVAL);
}

static void parse_table(void **state)
{
    static const struct {
        const char *text;
        int ok, weekday, minute;
    } cases[] = {
        {"mon 09:00", 1, 0, 540}, {"MON 9:00", 1, 0, 540}, {" sun  23:59 ", 1, 6, 1439},
        {"wed 00:00", 1, 2, 0},   {"mon 9:5", 0, 0, 0},    {"xyz 09:00", 0, 0, 0},
        {"mon 24:00", 0, 0, 0},   {"mon 09:60", 0, 0, 0},  {"mon09:00", 0, 0, 0},
        {"mon 09:00 x", 0, 0, 0}, {"", 0, 0, 0},           {"monday 09:00", 0, 0, 0},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct slot s;
        int rc = slot_parse(cases[i].text, &s);
        if((rc == SAM_OK) != cases[i].ok)
            fail_msg("'%s': rc %d", cases[i].text, rc);
        if(cases[i].ok) {
            assert_int_equal(s.weekday, cases[i].weekday);
            assert_int_equal(s.minute, cases[i].minute);
        }
    }
    struct slot s = {4, 13 * 60 + 5};
    char out[16];
    slot_format(&s, out, sizeof(out));
    assert_string_equal(out, "fri 13:05");
}

static void gap_slots_merge_and_overlap_runs_once(void **state)
{
    struct slot s[3];
    int64_t out[16];
    size_t n;
    (void)state;
    assert_int_equal(slot_parse("sun 02:30", &s[0]), SAM_OK);
    assert_int_equal(slot_parse("sun 03:00", &s[1]), SAM_OK);
    assert_int_equal(slot_parse("sun 09:00", &s[2]), SAM_OK);
    /* Spring forward: 02:30 moves to 03:00 and merges with the 03:00 slot. */
    assert_int_equal(slots_between(s, 3, "Europe/Oslo", 1774738800 /* 03-29 00:00 CET */,
                                   1774738800 + 86400, out, 16, &n), SAM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 1774746000);
    assert_int_equal(out[1], 1774767600);
    /* Fall back: 02:30 exists twice but runs once, at the first. */
    assert_int_equal(slots_between(s, 1, "Europe/Oslo", 1792879200 /* 10-25 00:00 CEST */,
                                   1792879200 + 25 * 3600, out, 16, &n), SAM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 1792888200);
}

static void a_week_across_spring_forward(void **state)
{
    struct slot s[7];
    int64_t out[32];
    size_t n;
    static const int64_t want[] = {1774252800, 1774339200, 1774425600, 1774512000,
                                   1774598400, 1774684800, 1774767600};
    (void)state;
    for(int d = 0; d < 7; d++)
        s[d] = (struct slot){d, 9 * 60};
    /* Monday 2026-03-23 00:00 CET to Sunday 23:00 CEST: 09:00 every day, an hour earlier
     * in UTC on the Sunday. */
    assert_int_equal(slots_between(s, 7, "Europe/Oslo", 1774220400, 1774821600, out, 32, &n), SAM_OK);
    assert_int_equal(n, 7);
    for(size_t i = 0; i < 7; i++)
        assert_int_equal(out[i], want[i]);
}

static void next_free_slot(void **state)
{
    struct slot s[2];
    int64_t t, taken[2];
    (void)state;
    assert_int_equal(slot_parse("wed 09:00", &s[0]), SAM_OK);
    assert_int_equal(slot_parse("mon 09:00", &s[1]), SAM_OK);
    assert_int_equal(slots_normalise(s, 2), 2);
    /* Saturday 2026-03-07 12:00Z; New York moves to EDT on Sunday the 8th. */
    assert_int_equal(slots_next_free(s, 2, "America/New_York", 1772884800, NULL, 0, &t), SAM_OK);
    assert_int_equal(t, 1773061200); /* Monday 09:00 EDT = 13:00Z */
    taken[0] = 1773061200;
    assert_int_equal(slots_next_free(s, 2, "America/New_York", 1772884800, taken, 1, &t), SAM_OK);
    assert_int_equal(t, 1773234000); /* Wednesday 09:00 EDT */
    assert_int_equal(slots_next_free(s, 0, "America/New_York", 1772884800, NULL, 0, &t), SAM_ENOTFOUND);
}

static void normalise(void **state)
{
    struct slot s[] = {{2, 60}, {0, 540}, {2, 60}, {0, 30}};
    (void)state;
    assert_int_equal(slots_normalise(s, 4), 3);
    assert_int_equal(s[0].minute, 30);
    assert_int_equal(s[1].minute, 540);
    assert_int_equal(s[2].weekday, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wall_to_utc_table),
        cmocka_unit_test(utc_to_wall),
        cmocka_unit_test(parse_table),
        cmocka_unit_test(gap_slots_merge_and_overlap_runs_once),
        cmocka_unit_test(a_week_across_spring_forward),
        cmocka_unit_test(next_free_slot),
        cmocka_unit_test(normalise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
