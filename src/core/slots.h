/*
 * slots.h: weekly posting slots (PRODUCT.md P1), pure logic.
 *
 * A slot is a weekday and a wall-clock minute in the channel's IANA time zone, written
 * "mon 09:00" (mon tue wed thu fri sat sun; 24-hour time). A channel has at most
 * SLOTS_MAX of them, kept sorted and unique. Expanding slots into instants follows
 * tz.h: a slot inside a spring-forward gap moves to the first valid minute after it
 * (and merges with a slot already there); a slot inside a fall-back overlap runs once,
 * at its first occurrence.
 */
#ifndef SAM_SLOTS_H
#define SAM_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#define SLOTS_MAX 168 /* one an hour, every hour of the week */

struct slot {
    int weekday; /* 0 = Monday ... 6 = Sunday */
    int minute;  /* minutes after local midnight, 0-1439 */
};

/* Parses one "mon 09:00" (case-insensitive; "9:00" accepted). SAM_EINVAL with a message. */
int slot_parse(const char *text, struct slot *out);
/* Writes "mon 09:00" into out (at least 10 bytes). */
void slot_format(const struct slot *s, char *out, size_t n);
/* Sorts and removes duplicates; returns the new count. */
size_t slots_normalise(struct slot *s, size_t n);

/* The instants of the slots in [from, to), ascending and unique, at most max of them into
 * out; *count gets how many were written. */
int slots_between(const struct slot *s, size_t n, const char *zone, int64_t from, int64_t to,
                  int64_t *out, size_t max, size_t *count);

/* The first slot instant strictly after `after` that is not in taken (sorted ascending),
 * searching up to a year ahead. SAM_ENOTFOUND when there are no slots. */
int slots_next_free(const struct slot *s, size_t n, const char *zone, int64_t after,
                    const int64_t *taken, size_t ntaken, int64_t *out);

#endif
