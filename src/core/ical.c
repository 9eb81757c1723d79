/*
 * ical.c: the schedule as an iCalendar feed (PRODUCT.md P13, RFC 5545) at a secret URL,
 * for people who live in their calendar. The URL's token is shown once when made and
 * stored only as a hash; making a new one ends the old. Each occurrence is one event
 * (UID = its idempotency key), 15 minutes long, in UTC; text is escaped and lines are
 * folded at 75 octets without splitting a UTF-8 character.
 *
 * The feed is written part by part (core_ical_next: the head, then the events of ICAL_PAGE
 * occurrences read from the store at a time, then the end), so what it holds in memory
 * stays the same whatever the size of the schedule; the HTTP server streams the parts.
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

/* Appends one content line, escaped value, folded at 75 octets (RFC 5545 3.1, 3.3.11).
 * Runs of plain characters are copied at once: a large feed is mostly such runs. */
static int put_line(struct buf *b, const char *name, const char *value, int escape)
{
    struct buf line;
    const unsigned char *p = (const unsigned char *)value;
    size_t i = 0;
    int rc, first = 1;
    buf_init(&line, 1u << 20);
    rc = buf_puts(&line, name);
    while(!rc && *p) {
        const unsigned char *run = p;
        while(*p && !(escape && (*p == '\\' || *p == ';' || *p == ',' || *p == '\n')) &&
              !(*p == '\r' || (*p < 0x20 && *p != '\t')))
            p++;
        if(p > run)
            rc = buf_append(&line, run, (size_t)(p - run));
        if(rc || !*p)
            break;
        if(escape && *p == '\n') {
            rc = buf_puts(&line, "\\n");
        } else if(escape && *p != '\r' && *p >= 0x20) {
            char esc[2] = {'\\', (char)*p};
            rc = buf_append(&line, esc, 2);
        } /* else: CR and other control characters are dropped */
        p++;
    }
    /* Fold before a character that would pass 75 octets, never inside one; a folded
     * line starts with a space, which counts. */
    while(!rc && i < line.len) {
        size_t j = i, used = 0, limit = first ? 75 : 74;
        while(j < line.len) {
            unsigned char ch = (unsigned char)line.data[j];
            size_t clen = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 1;
            if(clen > line.len - j)
                clen = line.len - j;
            if(used + clen > limit)
                break;
            used += clen;
            j += clen;
        }
        if(!first)
            rc = buf_puts(b, "\r\n ");
        if(!rc)
            rc = buf_append(b, line.data + i, j - i);
        i = j;
        first = 0;
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

/* Occurrences read from the store at a time: what one part of the feed holds. */
#define ICAL_PAGE 100

struct core_ical {
    struct core *c;
    struct store_workspace w;
    struct store_channel *chans;   /* the workspace's channels, once: many events share few */
    size_t nchans;
    int64_t from, to, after;       /* the range, and the last occurrence written */
    char stamp[20];
    int head_done, end_done;
};

int core_ical_open(struct core *c, const char *token, int64_t now, struct core_ical **out)
{
    struct core_ical *it;
    char hex[65];
    int rc;

    *out = NULL;
    if(strlen(token) > 100)
        return sam_fail(SAM_ENOTFOUND, "no such calendar");
    if(!(it = calloc(1, sizeof(*it))))
        return SAM_ENOMEM;
    hash_hex(token, hex);
    rc = store_workspace_by_ical(c->st, hex, &it->w);
    if(rc == SAM_ENOTFOUND)
        rc = sam_fail(rc, "no such calendar (the link may have been replaced)");
    if(!rc)
        rc = store_channel_list(c->st, it->w.id, NULL, 0, 10000, &it->chans, &it->nchans);
    if(rc) {
        free(it);
        return rc;
    }
    it->c = c;
    it->from = now - 31 * 86400;
    it->to = now + 186 * 86400;
    ical_time(now, it->stamp);
    *out = it;
    return SAM_OK;
}

/* One VEVENT for an occurrence. */
static int put_event(struct core_ical *it, const struct store_occurrence_post *x, struct buf *out)
{
    const struct store_occurrence *o = &x->occ;
    const struct store_channel *ch = core_channel_find(it->chans, it->nchans, o->channel_id);
    struct store_post p;
    char start[20], end[20], summary[300], uid[80], *text;
    int64_t at = o->published_at ? o->published_at : o->planned_at;
    /* P12: a copy of a post waiting for approval is tentative, and says so. */
    int waits = !strcmp(o->state, "scheduled") && (!strcmp(x->approval, "pending") ||
                                                    !strcmp(x->approval, "changes_requested"));
    int rc;

    if(!ch || !strcmp(o->state, "cancelled"))
        return SAM_OK;
    memset(&p, 0, sizeof(p));
    p.text = x->text;
    p.variants = x->variants;
    text = core_post_text_for(&p, o->variant);
    if(!text)
        return SAM_ENOMEM;
    ical_time(at, start);
    ical_time(at + 900, end);
    /* Both parts are cut on a character, so the summary stays whole UTF-8. */
    snprintf(summary, sizeof(summary), "[%.*s] %s%s%.*s", utf8_prefix(ch->name, 40), ch->name,
             waits ? _("(awaiting approval)") : "", waits ? " " : "", utf8_prefix(text, 120), text);
    snprintf(uid, sizeof(uid), "%s@samtale", o->idempotency_key);
    rc = buf_puts(out, "BEGIN:VEVENT\r\n");
    if(!rc)
        rc = put_line(out, "UID:", uid, 0);
    if(!rc)
        rc = put_line(out, "DTSTAMP:", it->stamp, 0);
    if(!rc)
        rc = put_line(out, "DTSTART:", start, 0);
    if(!rc)
        rc = put_line(out, "DTEND:", end, 0);
    if(!rc)
        rc = put_line(out, "SUMMARY:", summary, 1);
    if(!rc)
        rc = put_line(out, "DESCRIPTION:", text, 1);
    if(!rc)
        rc = put_line(out, "CATEGORIES:", x->category, 1);
    if(!rc)
        rc = put_line(out, "X-SAMTALE-STATE:", o->state, 0);
    if(!rc && waits)
        rc = put_line(out, "X-SAMTALE-APPROVAL:", x->approval, 0);
    if(!rc)
        rc = put_line(out, "STATUS:", !strcmp(o->state, "failed") || waits ? "TENTATIVE" : "CONFIRMED", 0);
    if(!rc)
        rc = buf_puts(out, "END:VEVENT\r\n");
    free(text);
    return rc;
}

int core_ical_next(struct core_ical *it, struct buf *out, int *done)
{
    struct store_occurrence_post *items = NULL;
    size_t n = 0;
    int rc;

    *done = 0;
    if(!it->head_done) {
        char name[STORE_NAME_MAX + 32];
        it->head_done = 1;
        rc = buf_puts(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//samtale//publishing queue//EN\r\n"
                           "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n");
        snprintf(name, sizeof(name), "samtale: %s", it->w.name);
        return rc ? rc : put_line(out, "X-WR-CALNAME:", name, 1);
    }
    if(it->end_done) {
        *done = 1;
        return SAM_OK;
    }
    rc = store_occurrence_page(it->c->st, it->w.id, 0, it->from, it->to, it->after, ICAL_PAGE, &items, &n);
    if(rc)
        return rc;
    for(size_t i = 0; !rc && i < n; i++) {
        rc = put_event(it, &items[i], out);
        it->after = items[i].occ.id;
    }
    store_occurrence_posts_free(items, n);
    if(!rc && n < ICAL_PAGE) {
        it->end_done = 1;
        *done = 1;
        rc = buf_puts(out, "END:VCALENDAR\r\n");
    }
    return rc;
}

void core_ical_free(struct core_ical *it)
{
    if(!it)
        return;
    store_channel_list_free(it->chans, it->nchans);
    free(it);
}
