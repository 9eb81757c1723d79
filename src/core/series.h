/*
 * series.h: evergreen series (PRODUCT.md P3): one post repeated by a rule, each copy
 * its own occurrence anchored to its planned time. Planning is pure logic over a
 * channel's slots: at most per_day copies in a local day, never in two consecutive slots
 * of the channel (so other posts can sit between), at least gap_minutes apart, never in
 * a slot another post holds; variants rotate copy by copy (A, B, C, A, ...).
 */
#ifndef SAM_SERIES_H
#define SAM_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "core/slots.h"

struct series_rule {
    int per_day;       /* copies a day, default 3 */
    int gap_minutes;   /* at least this far apart, default 240 */
    int64_t start;     /* first copy at or after */
    int64_t end;       /* no copy at or after (0: start + 366 days) */
    int max_count;     /* stop after this many copies (0: no count limit) */
};

/* Why slots were passed over while planning, so a plan with fewer copies than asked can
 * say why. */
struct series_stats {
    size_t slots;    /* slots seen in the series' time */
    size_t taken;    /* held by another post */
    size_t adjacent; /* right after a copy (never two slots in a row) */
    size_t gap;      /* closer than gap_minutes to the last copy */
    size_t per_day;  /* the day already had per_day copies */
};

/* Plans copies on one channel; taken is sorted. Writes at most max instants (ascending)
 * into out; *count gets how many. */
int series_plan(const struct series_rule *r, const struct slot *s, size_t n, const char *zone,
                const int64_t *taken, size_t ntaken, int64_t *out, size_t max, size_t *count);
/* The same, counting in *st (zeroed first) why slots were passed over. */
int series_plan_stats(const struct series_rule *r, const struct slot *s, size_t n, const char *zone,
                      const int64_t *taken, size_t ntaken, int64_t *out, size_t max, size_t *count,
                      struct series_stats *st);

#endif
