/*
 * tz.h: wall time in IANA time zones, for posting slots and schedules.
 *
 * The conversions follow the product's rules (PRODUCT.md P1): a wall time that does not
 * exist (inside a spring-forward gap) becomes the first valid instant after the gap, i.e.
 * the transition itself (Oslo, 2026-03-29 02:30 -> 03:00 CEST); a wall time that exists
 * twice (inside a fall-back overlap) is taken once, at its first occurrence (Oslo,
 * 2026-10-25 02:30 -> 02:30 CEST, 00:30 UTC). Backed by ICU's calendar; zone names are
 * checked with tz_valid (timeutil.h) first.
 *
 * Civil dates are proleptic Gregorian; weekday is 0 = Monday ... 6 = Sunday.
 */
#ifndef SAM_TZ_H
#define SAM_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tz_civil {
    int year, month, day;      /* month 1-12 */
    int hour, minute, second;
    int weekday;               /* 0 = Monday; filled by tz_to_local and tz_civil_from_days */
    int utc_offset;            /* seconds east of UTC; filled by tz_to_local */
};

/* The wall time in zone at instant t. SAM_EINVAL for an unknown zone. */
int tz_to_local(const char *zone, int64_t t, struct tz_civil *out);

/* The instant of a wall time in zone, by the rules above. *moved (may be NULL) is set to 1
 * when the wall time fell in a gap and was moved to the end of it, else 0. */
int tz_to_utc(const char *zone, const struct tz_civil *in, int64_t *out, int *moved);

/* "2026-03-29T03:00:00+02:00": instant t as wall time in zone with its offset. */
int tz_format_local(const char *zone, int64_t t, char *out, size_t n);

/* Days since 1970-01-01 of a civil date, and back (weekday filled, time fields zeroed). */
int64_t tz_days_from_civil(int year, int month, int day);
void tz_civil_from_days(int64_t days, struct tz_civil *out);

#endif
