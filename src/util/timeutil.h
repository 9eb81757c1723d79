/*
 * timeutil.h: wall-clock and monotonic time, RFC 3339 formatting and parsing, and IANA
 * time zone names.
 *
 * Instants are int64_t seconds (or milliseconds where the name says _ms) since the Unix
 * epoch, UTC. Time zone names are checked against the system's tz database (TZDIR or
 * /usr/share/zoneinfo), so a typo is caught when it is typed, not when a post goes out.
 */
#ifndef SAM_TIMEUTIL_H
#define SAM_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t time_now(void);
int64_t time_now_ms(void);
/* Monotonic clock in seconds, for durations. */
double time_mono(void);

/* "2026-11-23T19:45:00Z" into out (at least 21 bytes). */
void time_rfc3339(int64_t t, char *out, size_t n);
/* "2026-11-23T19:45:00.123Z" into out (at least 25 bytes). */
void time_rfc3339_ms(int64_t ms, char *out, size_t n);
/* Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)". SAM_EINVAL when malformed. */
int time_parse_rfc3339(const char *s, int64_t *out);

/* 1 when name is a time zone of the tz database (e.g. "Europe/Oslo", "UTC"), else 0. */
int tz_valid(const char *name);

#endif
