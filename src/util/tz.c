/* tz.c: time zone conversions on ICU's calendar (see tz.h). */
#include "util/tz.h"
#include "util/err.h"
#include "util/timeutil.h"

#define STORE_TZ_LEN 65

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

int64_t tz_days_from_civil(int year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t days, struct tz_civil *out)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    memset(out, 0, sizeof(*out));
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(yoe + era * 400 + (out->month <= 2));
    out->weekday = (int)(((days + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
}

/* Opens an ICU calendar for zone; NULL (with a message) for an unknown zone. */
static UCalendar *open_zone(const char *zone)
{
    UChar id[80];
    UErrorCode st = U_ZERO_ERROR;
    UCalendar *cal;
    if(!tz_valid(zone)) {
        sam_fail(SAM_EINVAL, "'%.64s' is not a time zone name", zone);
        return NULL;
    }
    u_uastrncpy(id, zone, (int32_t)(sizeof(id) / sizeof(id[0])) - 1);
    id[sizeof(id) / sizeof(id[0]) - 1] = 0;
    cal = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &st);
    if(U_FAILURE(st)) {
        sam_fail(SAM_EINVAL, "time zone %.64s: %s", zone, u_errorName(st));
        return NULL;
    }
    ucal_setAttribute(cal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_NEXT_VALID);
    ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
    return cal;
}

/* Opening a calendar costs far more than using one, and planning converts thousands of
 * slot times: each thread keeps its last few calendars, closed when the thread ends. */
#define ZCACHE 4
struct zcache {
    struct {
        char zone[STORE_TZ_LEN];
        UCalendar *cal;
    } e[ZCACHE];
    unsigned next;
};
static pthread_key_t zkey;
static pthread_once_t zonce = PTHREAD_ONCE_INIT;

static void zcache_free(void *p)
{
    struct zcache *z = p;
    for(int i = 0; i < ZCACHE; i++)
        if(z->e[i].cal)
            ucal_close(z->e[i].cal);
    free(z);
}

static void zcache_key(void)
{
    pthread_key_create(&zkey, zcache_free);
}

/* The calendar of zone for this thread (borrowed: never closed by the caller). */
static UCalendar *zone_cal(const char *zone)
{
    struct zcache *z;
    UCalendar *cal;
    unsigned k;
    pthread_once(&zonce, zcache_key);
    z = pthread_getspecific(zkey);
    if(!z) {
        z = calloc(1, sizeof(*z));
        if(!z || pthread_setspecific(zkey, z)) {
            free(z);
            sam_fail(SAM_ENOMEM, "out of memory");
            return NULL;
        }
    }
    for(int i = 0; i < ZCACHE; i++)
        if(z->e[i].cal && !strcmp(z->e[i].zone, zone))
            return z->e[i].cal;
    if(strlen(zone) >= STORE_TZ_LEN || !(cal = open_zone(zone)))
        return sam_fail(SAM_EINVAL, "'%.64s' is not a time zone name", zone), NULL;
    k = z->next++ % ZCACHE;
    if(z->e[k].cal)
        ucal_close(z->e[k].cal);
    snprintf(z->e[k].zone, sizeof(z->e[k].zone), "%s", zone);
    z->e[k].cal = cal;
    return cal;
}

int tz_to_local(const char *zone, int64_t t, struct tz_civil *out)
{
    UErrorCode st = U_ZERO_ERROR;
    UCalendar *cal = zone_cal(zone);
    int64_t local, days, secs;
    if(!cal)
        return SAM_EINVAL;
    ucal_setMillis(cal, (UDate)t * 1000.0, &st);
    int32_t off = ucal_get(cal, UCAL_ZONE_OFFSET, &st) + ucal_get(cal, UCAL_DST_OFFSET, &st);
    if(U_FAILURE(st))
        return sam_fail(SAM_EINTERNAL, "time zone %.64s: %s", zone, u_errorName(st));
    local = t + off / 1000;
    days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    secs = local - days * 86400;
    tz_civil_from_days(days, out);
    out->hour = (int)(secs / 3600);
    out->minute = (int)(secs % 3600 / 60);
    out->second = (int)(secs % 60);
    out->utc_offset = off / 1000;
    return SAM_OK;
}

int tz_format_local(const char *zone, int64_t t, char *out, size_t n)
{
    struct tz_civil c;
    int rc = tz_to_local(zone, t, &c);
    int off;
    if(rc)
        return rc;
    off = c.utc_offset < 0 ? -c.utc_offset : c.utc_offset;
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
             c.second, c.utc_offset < 0 ? '-' : '+', off / 3600, off % 3600 / 60);
    return SAM_OK;
}

int tz_to_utc(const char *zone, const struct tz_civil *in, int64_t *out, int *moved)
{
    UErrorCode st = U_ZERO_ERROR;
    UCalendar *cal;
    struct tz_civil back;
    UDate ms;
    int rc;

    struct tz_civil check;
    if(in->month < 1 || in->month > 12 || in->day < 1 || in->day > 31 || in->hour < 0 || in->hour > 23 ||
       in->minute < 0 || in->minute > 59 || in->second < 0 || in->second > 59)
        return sam_fail(SAM_EINVAL, "wall time out of range");
    /* The calendar stays lenient (a strict one refuses wall times in a gap instead of moving
     * them), so impossible dates such as 02-30 are caught here. */
    tz_civil_from_days(tz_days_from_civil(in->year, in->month, in->day), &check);
    if(check.day != in->day || check.month != in->month)
        return sam_fail(SAM_EINVAL, "no such date: %04d-%02d-%02d", in->year, in->month, in->day);
    cal = zone_cal(zone);
    if(!cal)
        return SAM_EINVAL;
    ucal_clear(cal);
    ucal_setDateTime(cal, in->year, in->month - 1, in->day, in->hour, in->minute, in->second, &st);
    ms = ucal_getMillis(cal, &st);
    if(U_FAILURE(st))
        return sam_fail(SAM_EINVAL, "no such date: %04d-%02d-%02d", in->year, in->month, in->day);
    *out = (int64_t)(ms / 1000.0);
    if(moved) {
        rc = tz_to_local(zone, *out, &back);
        if(rc)
            return rc;
        *moved = back.hour != in->hour || back.minute != in->minute || back.day != in->day;
    }
    return SAM_OK;
}
