/* timeutil.c: clocks, RFC 3339 and time zone names (see timeutil.h). */
#include "util/timeutil.h"
#include "util/err.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t time_now(void)
{
    return (int64_t)time(NULL);
}

int64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double time_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void time_rfc3339(int64_t t, char *out, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void time_rfc3339_ms(int64_t ms, char *out, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)(ms / 1000);
    char base[32];
    gmtime_r(&tt, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03dZ", base, (int)(ms % 1000));
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for(int i = 0; i < n; i++) {
        if(!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int time_parse_rfc3339(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p;

    if(strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
       s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
       !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
       !digits(s + 17, 2, &se))
        return sam_fail(SAM_EINVAL, "time must look like 2026-11-23T19:45:00Z");
    if(mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return sam_fail(SAM_EINVAL, "time has a field out of range");
    p = s + 19;
    if(*p == '.') {
        p++;
        if(!isdigit((unsigned char)*p))
            return sam_fail(SAM_EINVAL, "time has an empty fraction");
        while(isdigit((unsigned char)*p))
            p++;
    }
    if(*p == 'Z' || *p == 'z') {
        p++;
    } else if(*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if(!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return sam_fail(SAM_EINVAL, "time has a malformed offset");
        p += 6;
    } else {
        return sam_fail(SAM_EINVAL, "time needs a zone: Z or an offset like +01:00");
    }
    if(*p)
        return sam_fail(SAM_EINVAL, "time has trailing characters");
    if(se == 60)
        se = 59;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
           sign * (oh * 3600 + om * 60);
    return SAM_OK;
}

int tz_valid(const char *name)
{
    char path[512], magic[4];
    const char *dir = getenv("TZDIR");
    FILE *f;
    size_t n = strlen(name);

    if(n == 0 || n > 64 || name[0] == '/' || strstr(name, ".."))
        return 0;
    for(const char *p = name; *p; p++)
        if(!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
            return 0;
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    f = fopen(path, "rb");
    if(!f)
        return 0;
    n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && !memcmp(magic, "TZif", 4);
}
