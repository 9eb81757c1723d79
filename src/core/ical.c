/*
 * ical.c: the schedule as an iCalendar feed (PRODUCT.md P13, RFC 5545) at a secret URL,
 * for people who live in their calendar. The URL's token is shown once when made and
 * stored only as a hash; making a new one ends the old. Each occurrence is one event
 * (UID = its idempotency key), 15 minutes long, in UTC; text is escaped and lines are
 * folded at 75 octets without splitting a UTF-8 character.
 */
#include "core/post.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void hash_hex(const char *token, char out[65])
{
    unsigned char h[32];
    core_token_hash(token, h);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

int core_ical_rotate(struct core *c, const struct actor *a, int64_t ws, char *token, size_t n)
{
    char hex[65];
    int rc;
    core_random_token("cal_", token, n);
    hash_hex(token, hex);
    rc = store_workspace_set_ical(c->st, ws, hex);
    if(!rc)
        core_audit(c, a, ws, "calendar.rotate", "calendar feed", NULL);
    return rc;
}

int core_ical_disable(struct core *c, const struct actor *a, int64_t ws)
{
    int rc = store_workspace_set_ical(c->st, ws, NULL);
    if(!rc)
        core_audit(c, a, ws, "calendar.disable", "calendar feed", NULL);
    return rc;
}

/* Appends one content line, escaped value, folded at 75 octets (RFC 5545 3.1, 3.3.11). */
static int put_line(struct buf *b, const char *name, const char *value, int escape)
{
    struct buf line;
    size_t col = 0;
    int rc;
    buf_init(&line, 1u << 20);
    rc = buf_puts(&line, name);
    for(const unsigned char *p = (const unsigned char *)value; !rc && *p; p++) {
        if(escape && (*p == '\\' || *p == ';' || *p == ','))
            rc = buf_printf(&line, "\\%c", *p);
        else if(escape && *p == '\n')
            rc = buf_puts(&line, "\\n");
        else if(*p == '\r' || (*p < 0x20 && *p != '\t'))
            continue;
        else
            rc = buf_append(&line, p, 1);
    }
    for(size_t i = 0; !rc && i < line.len; i++) {
        unsigned char ch = (unsigned char)line.data[i];
        /* Fold before a character that would pass 75 octets, never inside one. */
        size_t clen = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 1;
        if(col + clen > 75) {
            rc = buf_puts(b, "\r\n ");
            col = 1;
        }
        if(!rc)
            rc = buf_append(b, line.data + i, clen > line.len - i ? line.len - i : clen);
        col += clen;
        i += clen - 1;
    }
    if(!rc)
        rc = buf_puts(b, "\r\n");
    buf_cleanup(&line);
    return rc;
}

static void ical_time(int64_t t, char out[20])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 20, "%Y%m%dT%H%M%SZ", &tm);
}

int core_ical_render(struct core *c, const char *token, int64_t now, struct buf *out)
{
    struct store_workspace w;
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    char hex[65], stamp[20];
    int rc;

    if(strlen(token) > 100)
        return sam_fail(SAM_ENOTFOUND, "no such calendar");
    hash_hex(token, hex);
    rc = store_workspace_by_ical(c->st, hex, &w);
    if(rc == SAM_ENOTFOUND)
        return sam_fail(rc, "no such calendar (the link may have been replaced)");
    if(rc)
        return rc;
    rc = store_occurrence_list(c->st, w.id, 0, 0, now - 31 * 86400, now + 186 * 86400, 0, 20000, &occ, &n);
    if(rc)
        return rc;
    ical_time(now, stamp);
    rc = buf_puts(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//samtale//publishing queue//EN\r\n"
                       "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n");
    if(!rc) {
        char name[STORE_NAME_MAX + 32];
        snprintf(name, sizeof(name), "samtale: %s", w.name);
        rc = put_line(out, "X-WR-CALNAME:", name, 1);
    }
    /* The workspace's channels, once: many events share few channels. */
    struct store_channel *chans = NULL;
    size_t nchans = 0;
    if(!rc)
        rc = store_channel_list(c->st, w.id, NULL, 0, 10000, &chans, &nchans);
    for(size_t i = 0; !rc && i < n; i++) {
        struct store_post p;
        const struct store_channel *ch = core_channel_find(chans, nchans, occ[i].channel_id);
        char start[20], end[20], summary[200], uid[80], *text;
        if(!ch || !strcmp(occ[i].state, "cancelled") || store_post_get(c->st, occ[i].post_id, &p))
            continue;
        text = core_post_text_for(&p, occ[i].variant);
        ical_time(occ[i].published_at ? occ[i].published_at : occ[i].planned_at, start);
        ical_time((occ[i].published_at ? occ[i].published_at : occ[i].planned_at) + 900, end);
        /* Both parts are cut on a character, so the summary stays whole UTF-8. */
        snprintf(summary, sizeof(summary), "[%.*s] %.*s", utf8_prefix(ch->name, 40), ch->name,
                 utf8_prefix(text ? text : p.text, 120), text ? text : p.text);
        snprintf(uid, sizeof(uid), "%s@samtale", occ[i].idempotency_key);
        rc = buf_puts(out, "BEGIN:VEVENT\r\n");
        if(!rc)
            rc = put_line(out, "UID:", uid, 0);
        if(!rc)
            rc = put_line(out, "DTSTAMP:", stamp, 0);
        if(!rc)
            rc = put_line(out, "DTSTART:", start, 0);
        if(!rc)
            rc = put_line(out, "DTEND:", end, 0);
        if(!rc)
            rc = put_line(out, "SUMMARY:", summary, 1);
        if(!rc)
            rc = put_line(out, "DESCRIPTION:", text ? text : p.text, 1);
        if(!rc)
            rc = put_line(out, "CATEGORIES:", p.category, 1);
        if(!rc)
            rc = put_line(out, "X-SAMTALE-STATE:", occ[i].state, 0);
        if(!rc)
            rc = put_line(out, "STATUS:", !strcmp(occ[i].state, "failed") ? "TENTATIVE" : "CONFIRMED", 0);
        if(!rc)
            rc = buf_puts(out, "END:VEVENT\r\n");
        free(text);
        store_post_cleanup(&p);
    }
    store_channel_list_free(chans, nchans);
    free(occ);
    if(!rc)
        rc = buf_puts(out, "END:VCALENDAR\r\n");
    return rc;
}
