/* series.c: planning evergreen series (see series.h). */
#include "core/series.h"
#include "util/err.h"
#include "util/tz.h"

#include <stdlib.h>
#include <string.h>

int series_plan(const struct series_rule *r, const struct slot *s, size_t n, const char *zone,
                const int64_t *taken, size_t ntaken, int64_t *out, size_t max, size_t *count)
{
    struct series_stats st;
    return series_plan_stats(r, s, n, zone, taken, ntaken, out, max, count, &st);
}

int series_plan_stats(const struct series_rule *r, const struct slot *s, size_t n, const char *zone,
                      const int64_t *taken, size_t ntaken, int64_t *out, size_t max, size_t *count,
                      struct series_stats *st)
{
    int64_t end = r->end ? r->end : r->start + 366 * 86400, last_t = INT64_MIN / 2, day_key = -1;
    int64_t week[SLOTS_MAX * 8 + 16];
    size_t got = 0, ti = 0;
    long idx = 0, last_idx = -10;
    int in_day = 0, rc;

    *count = 0;
    memset(st, 0, sizeof(*st));
    if(r->per_day < 1 || r->per_day > 48)
        return sam_fail_field(SAM_EINVAL, "per_day", "per_day must be from 1 to 48");
    if(n == 0)
        return sam_fail_field(SAM_EINVAL, "channels", "a channel has no posting slots: a series needs them");
    for(int64_t from = r->start; from < end && got < max; from += 7 * 86400) {
        size_t cnt;
        int64_t to = from + 7 * 86400 < end ? from + 7 * 86400 : end;
        rc = slots_between(s, n, zone, from, to, week, sizeof(week) / sizeof(week[0]), &cnt);
        if(rc)
            return rc;
        for(size_t i = 0; i < cnt && got < max; i++, idx++) {
            struct tz_civil c;
            int64_t t = week[i], key;
            st->slots++;
            while(ti < ntaken && taken[ti] < t)
                ti++;
            if(ti < ntaken && taken[ti] == t) {
                st->taken++;
                continue; /* another post's slot: it sits between our copies */
            }
            if(idx == last_idx + 1) {
                st->adjacent++;
                continue;
            }
            if(t - last_t < (int64_t)r->gap_minutes * 60) {
                st->gap++;
                continue;
            }
            if((rc = tz_to_local(zone, t, &c)))
                return rc;
            key = tz_days_from_civil(c.year, c.month, c.day);
            if(key != day_key) {
                day_key = key;
                in_day = 0;
            }
            if(in_day >= r->per_day) {
                st->per_day++;
                continue;
            }
            out[got++] = t;
            in_day++;
            last_t = t;
            last_idx = idx;
            if(r->max_count && got >= (size_t)r->max_count) {
                *count = got;
                return SAM_OK;
            }
        }
    }
    *count = got;
    return SAM_OK;
}
