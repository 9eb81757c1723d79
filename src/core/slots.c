/* slots.c: weekly posting slots (see slots.h). */
#include "core/slots.h"
#include "util/err.h"
#include "util/tz.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int slot_parse(const char *text, struct slot *out)
{
    char day[4];
    int h = -1, m = -1, used = 0, i;
    const char *p = text;
    while(isspace((unsigned char)*p))
        p++;
    for(i = 0; i < 3 && isalpha((unsigned char)p[i]); i++)
        day[i] = (char)tolower((unsigned char)p[i]);
    day[i] = '\0';
    p += i;
    if(i != 3 || !isspace((unsigned char)*p))
        return sam_fail(SAM_EINVAL, "a slot looks like 'mon 09:00', not '%.40s'", text);
    for(i = 0; i < 7 && strcmp(day, days[i]); i++)
        ;
    if(i == 7)
        return sam_fail(SAM_EINVAL, "'%s' is not a weekday: use mon, tue, wed, thu, fri, sat or sun", day);
    while(isspace((unsigned char)*p))
        p++;
    if(!isdigit((unsigned char)*p) || sscanf(p, "%2d:%2d%n", &h, &m, &used) != 2 || used < 4 ||
       !isdigit((unsigned char)p[used - 1]) || !isdigit((unsigned char)p[used - 2]))
        return sam_fail(SAM_EINVAL, "a slot looks like 'mon 09:00', not '%.40s'", text);
    p += used;
    while(isspace((unsigned char)*p))
        p++;
    if(*p || h < 0 || h > 23 || m < 0 || m > 59)
        return sam_fail(SAM_EINVAL, "'%.40s' is not a time of day (00:00 to 23:59)", text);
    out->weekday = i;
    out->minute = h * 60 + m;
    return SAM_OK;
}

void slot_format(const struct slot *s, char *out, size_t n)
{
    snprintf(out, n, "%s %02d:%02d", days[s->weekday % 7], s->minute / 60 % 24, s->minute % 60);
}

static int cmp_slot(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    int ka = x->weekday * 1440 + x->minute, kb = y->weekday * 1440 + y->minute;
    return (ka > kb) - (ka < kb);
}

size_t slots_normalise(struct slot *s, size_t n)
{
    size_t k = 0;
    if(n == 0)
        return 0;
    qsort(s, n, sizeof(*s), cmp_slot);
    for(size_t i = 1; i < n; i++)
        if(cmp_slot(&s[i], &s[k]))
            s[++k] = s[i];
    return k + 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int slots_between(const struct slot *s, size_t n, const char *zone, int64_t from, int64_t to,
                  int64_t *out, size_t max, size_t *count)
{
    struct tz_civil lo, hi, day;
    int64_t d0, d1;
    size_t k = 0;
    int rc;

    *count = 0;
    if(to <= from || n == 0)
        return SAM_OK;
    if((rc = tz_to_local(zone, from, &lo)) || (rc = tz_to_local(zone, to, &hi)))
        return rc;
    /* A day either side: a slot's instant can move across midnight only by a gap. */
    d0 = tz_days_from_civil(lo.year, lo.month, lo.day) - 1;
    d1 = tz_days_from_civil(hi.year, hi.month, hi.day) + 1;
    for(int64_t d = d0; d <= d1; d++) {
        tz_civil_from_days(d, &day);
        for(size_t i = 0; i < n; i++) {
            int64_t t;
            if(s[i].weekday != day.weekday)
                continue;
            day.hour = s[i].minute / 60;
            day.minute = s[i].minute % 60;
            day.second = 0;
            if((rc = tz_to_utc(zone, &day, &t, NULL)))
                return rc;
            if(t < from || t >= to)
                continue;
            if(k == max)
                return sam_fail(SAM_ETOOBIG, "more than %zu slot times in that range", max);
            out[k++] = t;
        }
    }
    qsort(out, k, sizeof(*out), cmp_i64);
    size_t u = 0;
    for(size_t i = 0; i < k; i++)
        if(u == 0 || out[i] != out[u - 1])
            out[u++] = out[i];
    *count = u;
    return SAM_OK;
}

int slots_next_free(const struct slot *s, size_t n, const char *zone, int64_t after,
                    const int64_t *taken, size_t ntaken, int64_t *out)
{
    int64_t buf[SLOTS_MAX * 8 + 16];
    size_t cnt, ti = 0;
    int rc;
    if(n == 0)
        return sam_fail(SAM_ENOTFOUND, "the channel has no posting slots: add some (e.g. 'mon 09:00')");
    for(int64_t from = after + 1; from < after + 366 * 86400; from += 7 * 86400) {
        rc = slots_between(s, n, zone, from, from + 7 * 86400, buf, sizeof(buf) / sizeof(buf[0]), &cnt);
        if(rc)
            return rc;
        for(size_t i = 0; i < cnt; i++) {
            while(ti < ntaken && taken[ti] < buf[i])
                ti++;
            if(ti < ntaken && taken[ti] == buf[i])
                continue;
            *out = buf[i];
            return SAM_OK;
        }
    }
    return sam_fail(SAM_ENOTFOUND, "every slot of the coming year is taken");
}
