/*
 * feed.c: the feed reader behind feed.h. XML feeds are read with libxml2 into a tree and
 * walked once; JSON Feed is read with jansson. The rules for which element gives which
 * field follow Python's feedparser (the reference the conformance test compares with),
 * so that a feed that reads well there reads the same here:
 *
 *   - element names are compared without case; elements in the core namespaces (none,
 *     RSS 0.9x/1.0/2.0, Atom 0.3/1.0, or any namespace bound without a prefix) and in
 *     Dublin Core, DC terms and content: are read, other prefixed elements are skipped
 *     but their children are still visited (an <item> inside an unknown wrapper counts);
 *   - every <item> or <entry> anywhere starts an entry; fields outside an entry count
 *     for the feed only inside <channel> or <feed>; <image>, <textinput> and Atom's
 *     <source> are skipped;
 *   - title: the first non-empty one wins; link: the last <link> text or the last
 *     alternate HTML <link href>, else a permalink guid; id: the last guid/id, else
 *     rdf:about; published: the last pubDate/published/issued/dcterms:issued; updated:
 *     the last updated/modified/lastBuildDate/dc:date/dcterms:modified;
 *   - titles and authors are plain text: Atom type="html" and RSS text that looks like
 *     HTML lose their tags and have their entities decoded, type="xhtml" keeps its
 *     character data; C1 controls are read as windows-1252, as feedparser does;
 *   - links are resolved against xml:base and the document URL; a resolved link whose
 *     scheme is not on feedparser's list of safe schemes (javascript:, data:, ...) is
 *     dropped.
 *
 * Before libxml2 sees the bytes, a pre-pass (ASCII-compatible encodings only) rewrites
 * HTML named entities that the document does not declare (&nbsp; &eacute; ...) as
 * numeric references and escapes a bare '&' that starts no reference, outside CDATA and
 * comments; feedparser's fallback parser reads such feeds the same way.
 *
 * Security: libxml2 is called without XML_PARSE_NOENT, XML_PARSE_DTDLOAD and
 * XML_PARSE_HUGE and with XML_PARSE_NONET, so no external entity or DTD is fetched and
 * libxml2's own amplification checks stay on. Internal entity references are expanded by
 * collect() below, never by xmlNodeGetContent: depth at most ENTITY_DEPTH_MAX, each text
 * bounded, and a budget of WALK_BUDGET node visits per document, so an entity bomb costs
 * a bounded amount of work. External entities are never expanded.
 */
#include "channel/feed.h"

#include <ctype.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "channel/http.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/utf8.h"

#define ENTITY_DEPTH_MAX 4
#define WALK_BUDGET 2000000L
#define TREE_DEPTH_MAX 200
#define GENERATED_ID_PREFIX "urn:samtale:entry:"

/* ---- small helpers ---------------------------------------------------------------- */

/* A bounded text under construction: appends past the limit are cut on a UTF-8
 * boundary and set full, which stops the walk that fills it. */
struct tbuf {
    struct buf b;
    int full;
    int oom;
};

static void tb_init(struct tbuf *t, size_t limit)
{
    buf_init(&t->b, limit);
    t->full = 0;
    t->oom = 0;
}

static void tb_append(struct tbuf *t, const char *p, size_t n)
{
    int rc;
    if(t->full || t->oom || !n)
        return;
    rc = buf_append(&t->b, p, n);
    if(rc == SAM_ETOOBIG) {
        size_t room = t->b.limit - t->b.len;
        /* Do not cut inside a UTF-8 sequence. */
        while(room && ((unsigned char)p[room] & 0xC0) == 0x80)
            room--;
        if(room && buf_append(&t->b, p, room))
            t->oom = 1;
        t->full = 1;
    } else if(rc) {
        t->oom = 1;
    }
}

static void tb_puts(struct tbuf *t, const char *s)
{
    tb_append(t, s, strlen(s));
}

static void tb_utf8(struct tbuf *t, unsigned long cp)
{
    char u[4];
    size_t n;
    if(cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if(cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if(cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if(cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    tb_append(t, u, n);
}

/* memmem and strcasestr are GNU extensions; the build is plain POSIX. */
static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
    if(m > n)
        return NULL;
    for(size_t i = 0; i + m <= n; i++)
        if(hay[i] == needle[0] && !memcmp(hay + i, needle, m))
            return hay + i;
    return NULL;
}

static const char *find_ci(const char *hay, const char *needle)
{
    size_t m = strlen(needle);
    for(; *hay; hay++)
        if(!strncasecmp(hay, needle, m))
            return hay;
    return NULL;
}

/* Replaces *dst by a copy of s (NULL: ""). SAM_ENOMEM. */
static int set_str(char **dst, const char *s)
{
    char *c = strdup(s ? s : "");
    if(!c)
        return SAM_ENOMEM;
    free(*dst);
    *dst = c;
    return SAM_OK;
}

static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims and collapses runs of ASCII white space into one space, in place. */
static void collapse_ws(char *s)
{
    char *w = s;
    int space = 0;
    for(const char *r = s; *r; r++) {
        if(is_ws((unsigned char)*r)) {
            space = w != s;
            continue;
        }
        if(space)
            *w++ = ' ';
        space = 0;
        *w++ = *r;
    }
    *w = '\0';
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while(n && is_ws((unsigned char)s[n - 1]))
        n--;
    while(i < n && is_ws((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i);
    s[n - i] = '\0';
}

/* windows-1252 meanings of 0x80..0x9F, which feeds often send as C1 controls. */
static const unsigned short cp1252[32] = {
    0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178};

/* Copies s into t, mapping UTF-8 encoded C1 controls to their windows-1252 characters. */
static void tb_fix_c1(struct tbuf *t, const char *s)
{
    const char *run = s;
    for(const char *p = s; *p; p++) {
        if((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] >= 0x80 &&
           (unsigned char)p[1] <= 0x9F) {
            tb_append(t, run, (size_t)(p - run));
            tb_utf8(t, cp1252[(unsigned char)p[1] - 0x80]);
            p++;
            run = p + 1;
        }
    }
    tb_append(t, run, strlen(run));
}

/* Decodes one entity reference at s (s[0] == '&') into t; returns bytes consumed, or 0
 * when s does not start a reference we know. */
static size_t decode_entity(const char *s, struct tbuf *t)
{
    char name[40];
    size_t i = 1, k = 0;
    if(s[1] == '#') {
        unsigned long cp = 0;
        int hex = (s[2] == 'x' || s[2] == 'X'), digits = 0;
        i = hex ? 3 : 2;
        for(; s[i] && digits < 8; i++, digits++) {
            int c = (unsigned char)s[i];
            if(hex && isxdigit(c))
                cp = cp * 16 + (unsigned long)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
            else if(!hex && isdigit(c))
                cp = cp * 10 + (unsigned long)(c - '0');
            else
                break;
        }
        if(!digits)
            return 0;
        if(s[i] == ';')
            i++;
        if(cp >= 0x80 && cp <= 0x9F)
            cp = cp1252[cp - 0x80];
        tb_utf8(t, cp);
        return i;
    }
    while(k + 1 < sizeof(name) && isalnum((unsigned char)s[i]))
        name[k++] = s[i++];
    name[k] = '\0';
    if(!k || s[i] != ';')
        return 0;
    if(!strcmp(name, "apos")) {
        tb_puts(t, "'");
        return i + 1;
    }
    {
        const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
        if(!e)
            return 0;
        tb_utf8(t, e->value);
    }
    return i + 1;
}

/* The '>' that closes the tag starting at p, skipping quoted attribute values. */
static const char *tag_end(const char *p)
{
    char q = 0;
    for(p++; *p; p++) {
        if(q) {
            if(*p == q)
                q = 0;
        } else if(*p == '"' || *p == '\'') {
            if(p[-1] == '=' || p[-1] == ' ')
                q = *p;
        } else if(*p == '>') {
            return p;
        }
    }
    return NULL;
}

/* Plain text of an HTML fragment: tags removed (with the content of script and style),
 * entities decoded. */
static void html_to_text(const char *s, struct tbuf *t)
{
    const char *p = s;
    while(*p && !t->full) {
        if(*p == '<' && (isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!' ||
                         p[1] == '?')) {
            const char *end;
            int skip = !strncasecmp(p, "<script", 7) || !strncasecmp(p, "<style", 6);
            if(!strncmp(p, "<!--", 4)) {
                /* An unterminated comment ends at the next '>', as in feedparser. */
                end = strstr(p + 4, "-->");
                if(end)
                    end += 2;
                else
                    end = strchr(p + 4, '>');
                p = end ? end + 1 : p + strlen(p);
                continue;
            }
            end = tag_end(p);
            if(!end)
                break;
            if(skip) {
                const char *close = find_ci(end, tolower((unsigned char)p[2]) == 'c' ? "</script" : "</style");
                end = close ? strchr(close, '>') : NULL;
                if(!end)
                    break;
            }
            p = end + 1;
            continue;
        }
        if(*p == '&') {
            size_t n = decode_entity(p, t);
            if(n) {
                p += n;
                continue;
            }
        }
        tb_append(t, p, 1);
        p++;
    }
}

/* feedparser's test for RSS text that is really HTML: a closing tag or an entity. */
static int looks_like_html(const char *s)
{
    for(const char *p = s; *p; p++) {
        if(p[0] == '<' && p[1] == '/' && isalnum((unsigned char)p[2])) {
            const char *q = p + 2;
            while(isalnum((unsigned char)*q) || *q == '_')
                q++;
            if(*q == '>')
                return 1;
        }
        if(p[0] == '&') {
            const char *q = p + 1;
            if(*q == '#')
                q++;
            if(isalnum((unsigned char)*q)) {
                while(isalnum((unsigned char)*q) || *q == '_')
                    q++;
                if(*q == ';')
                    return 1;
            }
        }
    }
    return 0;
}

/* ---- dates -------------------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date. */
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if(m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int make_time(int y, int mo, int d, int h, int mi, int s, int tzmin, int64_t *out)
{
    if(y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
       h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
        return SAM_EINVAL;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - (int64_t)tzmin * 60;
    return SAM_OK;
}

/* Zone names feedparser knows, in hours east of UTC. */
static int zone_name(const char *z, int *hours)
{
    static const struct {
        const char *n;
        int h;
    } zones[] = {{"ut", 0}, {"gmt", 0}, {"z", 0}, {"utc", 0}, {"adt", -3}, {"ast", -4},
                 {"at", -4}, {"edt", -4}, {"est", -5}, {"et", -5}, {"cdt", -5}, {"cst", -6},
                 {"ct", -6}, {"mdt", -6}, {"mst", -7}, {"mt", -7}, {"pdt", -7}, {"pst", -8},
                 {"pt", -8}, {"a", -1}, {"n", 1}, {"m", -12}, {"y", 12}, {"met", 1},
                 {"mest", 2}};
    for(size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
        if(!strcasecmp(z, zones[i].n)) {
            *hours = zones[i].h;
            return 1;
        }
    return 0;
}

static int month_name(const char *s)
{
    static const char *m[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                "jul", "aug", "sep", "oct", "nov", "dec"};
    for(int i = 0; i < 12; i++)
        if(!strncasecmp(s, m[i], 3))
            return i + 1;
    return 0;
}

static int all_digits(const char *s)
{
    if(!*s)
        return 0;
    for(; *s; s++)
        if(!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* A numeric zone "+hhmm", "-hh:mm", "+hh" into minutes east. */
static int zone_offset(const char *z, int *minutes)
{
    int sign, h, m = 0;
    size_t n = strlen(z);
    if((z[0] != '+' && z[0] != '-') || n < 3 || !isdigit((unsigned char)z[1]) ||
       !isdigit((unsigned char)z[2]))
        return 0;
    sign = z[0] == '-' ? -1 : 1;
    h = (z[1] - '0') * 10 + (z[2] - '0');
    if(n >= 5) {
        const char *mm = z[3] == ':' ? z + 4 : z + 3;
        if(strlen(mm) != 2 || !all_digits(mm))
            return 0;
        m = (mm[0] - '0') * 10 + (mm[1] - '0');
    } else if(n != 3) {
        return 0;
    }
    *minutes = sign * (h * 60 + m);
    return 1;
}

/* RFC 822 and its variants, as feedparser's _parse_date_rfc822 reads them. */
static int parse_rfc822(const char *s, int64_t *out)
{
    char copy[128], *parts[8], *save = NULL, *tok;
    int n = 0, first = 0, day, mon, year, h = 0, mi = 0, sec = 0, tz = 0;
    if(strlen(s) >= sizeof(copy))
        return SAM_EINVAL;
    strcpy(copy, s);
    for(char *c = copy; *c; c++)
        if(*c == ',')
            *c = ' ';
    for(tok = strtok_r(copy, " \t\r\n", &save); tok && n < 8; tok = strtok_r(NULL, " \t\r\n", &save))
        parts[n++] = tok;
    if(n && strlen(parts[0]) >= 3 && !all_digits(parts[0]) && !month_name(parts[0]))
        first = 1; /* a day name (not checked further) */
    else if(n && strlen(parts[0]) >= 3) {
        static const char *days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
        for(int i = 0; i < 7; i++)
            if(!strncasecmp(parts[0], days[i], 3))
                first = 1;
    }
    if(n - first < 3)
        return SAM_EINVAL;
    if(all_digits(parts[first]) && month_name(parts[first + 1])) {
        day = atoi(parts[first]);
        mon = month_name(parts[first + 1]);
    } else if(month_name(parts[first]) && all_digits(parts[first + 1])) {
        mon = month_name(parts[first]);
        day = atoi(parts[first + 1]);
    } else {
        return SAM_EINVAL;
    }
    if(!all_digits(parts[first + 2]) || strlen(parts[first + 2]) > 4)
        return SAM_EINVAL;
    year = atoi(parts[first + 2]);
    if(strlen(parts[first + 2]) <= 2)
        year += year < 90 ? 2000 : 1900;
    if(n - first >= 4) {
        const char *t = parts[first + 3];
        char *end;
        h = (int)strtol(t, &end, 10);
        if(end == t || h > 99)
            return SAM_EINVAL;
        if(*end == ':') {
            t = end + 1;
            mi = (int)strtol(t, &end, 10);
            if(end == t)
                return SAM_EINVAL;
            if(*end == ':') {
                t = end + 1;
                sec = (int)strtol(t, &end, 10);
                if(end == t)
                    return SAM_EINVAL;
            }
        }
        if(*end)
            return SAM_EINVAL;
    }
    if(n - first >= 5) {
        char *z = parts[first + 4];
        int hours;
        if(!strncasecmp(z, "etc/", 4))
            z += 4;
        if(!strncasecmp(z, "gmt", 3) && z[3]) {
            /* GMT+05:00, GMT-0500 */
            z += 3;
        }
        if(z[0] == '+' || z[0] == '-') {
            if(!zone_offset(z, &tz))
                return SAM_EINVAL;
        } else if(zone_name(z, &hours)) {
            tz = hours * 60;
        }
    }
    return make_time(year, mon, day, h, mi, sec, tz, out);
}

/* W3C-DTF / RFC 3339 / ISO 8601 (extended and basic forms, partial dates). */
static int parse_iso(const char *s, int64_t *out)
{
    int y = 0, mo = 1, d = 1, h = 0, mi = 0, sec = 0, tz = 0, n = 0;
    const char *p = s;
    while(isdigit((unsigned char)p[n]))
        n++;
    if(n == 8) { /* 20031231 */
        y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
        mo = (p[4] - '0') * 10 + (p[5] - '0');
        d = (p[6] - '0') * 10 + (p[7] - '0');
        p += 8;
    } else if(n == 4) {
        y = atoi(p);
        p += 4;
        if(*p == '-' && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2])) {
            mo = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if(*p == '-' && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2])) {
                d = (p[1] - '0') * 10 + (p[2] - '0');
                p += 3;
            }
        }
    } else {
        return SAM_EINVAL;
    }
    if(*p == 'T' || *p == 't' || *p == ' ') {
        int k = 0;
        p++;
        while(isdigit((unsigned char)p[k]))
            k++;
        if(k == 6 || k == 4) { /* basic: hhmmss, hhmm */
            h = (p[0] - '0') * 10 + (p[1] - '0');
            mi = (p[2] - '0') * 10 + (p[3] - '0');
            if(k == 6)
                sec = (p[4] - '0') * 10 + (p[5] - '0');
            p += k;
        } else if(k == 2 && p[2] == ':') {
            h = (p[0] - '0') * 10 + (p[1] - '0');
            p += 3;
            if(!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
                return SAM_EINVAL;
            mi = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
            if(*p == ':') {
                p++;
                if(!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
                    return SAM_EINVAL;
                sec = (p[0] - '0') * 10 + (p[1] - '0');
                p += 2;
            }
        } else {
            return SAM_EINVAL;
        }
        if(*p == '.' || *p == ',') {
            p++;
            while(isdigit((unsigned char)*p))
                p++;
        }
        while(*p == ' ')
            p++;
        if(*p == 'Z' || *p == 'z') {
            p++;
        } else if(*p == '+' || *p == '-') {
            char z[8];
            size_t zl = strcspn(p, " ");
            if(zl >= sizeof(z))
                return SAM_EINVAL;
            memcpy(z, p, zl);
            z[zl] = '\0';
            if(!zone_offset(z, &tz))
                return SAM_EINVAL;
            p += zl;
        } else if(isalpha((unsigned char)*p)) {
            int hours;
            if(!zone_name(p, &hours))
                return SAM_EINVAL;
            tz = hours * 60;
            p += strlen(p);
        }
    }
    while(is_ws((unsigned char)*p))
        p++;
    if(*p)
        return SAM_EINVAL;
    return make_time(y, mo, d, h, mi, sec, tz, out);
}

/* asctime: "Sun Jan  4 16:29:06 PST 2004" or without the zone. */
static int parse_asctime(const char *s, int64_t *out)
{
    char dn[8], mn[8], zone[8] = "";
    int d, h, mi, sec, y, hours = 0;
    if(sscanf(s, "%3s %3s %d %d:%d:%d %7s %d", dn, mn, &d, &h, &mi, &sec, zone, &y) == 8) {
        if(!zone_name(zone, &hours))
            return SAM_EINVAL;
    } else if(sscanf(s, "%3s %3s %d %d:%d:%d %d", dn, mn, &d, &h, &mi, &sec, &y) != 7) {
        return SAM_EINVAL;
    }
    if(!month_name(mn))
        return SAM_EINVAL;
    return make_time(y, month_name(mn), d, h, mi, sec, hours * 60, out);
}

int feed_parse_date(const char *s, int64_t *out)
{
    char copy[128];
    *out = 0;
    if(!s)
        return SAM_EINVAL;
    while(is_ws((unsigned char)*s))
        s++;
    if(strlen(s) >= sizeof(copy))
        return SAM_EINVAL;
    strcpy(copy, s);
    trim(copy);
    if(!*copy)
        return SAM_EINVAL;
    if(!parse_iso(copy, out) || !parse_rfc822(copy, out) || !parse_asctime(copy, out))
        return SAM_OK;
    *out = 0;
    return SAM_EINVAL;
}

/* ---- HTML entity pre-pass ------------------------------------------------------------- */

/* 1 when the document declares a general entity called name (internal DTD subset). */
static int declared(const char *data, size_t len, const char *name, size_t nlen)
{
    const char *p = data, *end = data + len;
    while((p = find_bytes(p, (size_t)(end - p), "<!ENTITY", 8))) {
        p += 8;
        while(p < end && is_ws((unsigned char)*p))
            p++;
        if((size_t)(end - p) > nlen && !memcmp(p, name, nlen) && is_ws((unsigned char)p[nlen]))
            return 1;
    }
    return 0;
}

/* Rewrites undeclared HTML entities and stray '&' (see the file comment) into out.
 * Returns SAM_OK; *changed says whether out should be used instead of the input. */
static int prepass(const char *data, size_t len, struct buf *out, int *changed)
{
    size_t i = 0, run = 0;
    int has_decl = find_bytes(data, len, "<!ENTITY", 8) != NULL, rc = SAM_OK;
    *changed = 0;
    if(len >= 2 && ((unsigned char)data[0] == 0xFE || (unsigned char)data[0] == 0xFF ||
                    data[0] == 0 || data[1] == 0))
        return SAM_OK; /* UTF-16 or UTF-32: leave it to libxml2 */
    while(i < len) {
        char c = data[i];
        if(c == '<' && len - i >= 9 && !memcmp(data + i, "<![CDATA[", 9)) {
            const char *e = find_bytes(data + i + 9, len - i - 9, "]]>", 3);
            i = e ? (size_t)(e - data) + 3 : len;
            continue;
        }
        if(c == '<' && len - i >= 4 && !memcmp(data + i, "<!--", 4)) {
            const char *e = find_bytes(data + i + 4, len - i - 4, "-->", 3);
            i = e ? (size_t)(e - data) + 3 : len;
            continue;
        }
        if(c == '&') {
            char name[40], rep[16];
            size_t k = 0, j = i + 1;
            const char *repl = NULL;
            if(j < len && data[j] == '#') {
                size_t d = j + 1;
                int upper_x = d < len && data[d] == 'X';
                if(d < len && (data[d] == 'x' || data[d] == 'X'))
                    d++;
                size_t start = d;
                while(d < len && isxdigit((unsigned char)data[d]))
                    d++;
                if(d == start || d >= len || data[d] != ';') {
                    repl = "&amp;";
                } else if(upper_x && d - start < 8) {
                    /* XML wants a lower-case x; HTML readers take both */
                    snprintf(rep, sizeof(rep), "&#x%.*s;", (int)(d - start), data + start);
                    repl = rep;
                    j = d + 1;
                }
            } else {
                while(j < len && k + 1 < sizeof(name) &&
                      (isalnum((unsigned char)data[j]) || data[j] == '_' || data[j] == '-' ||
                       data[j] == '.' || data[j] == ':'))
                    name[k++] = data[j++];
                name[k] = '\0';
                if(!k || j >= len || data[j] != ';') {
                    repl = "&amp;";
                } else if(strcmp(name, "amp") && strcmp(name, "lt") && strcmp(name, "gt") &&
                          strcmp(name, "quot") && strcmp(name, "apos") &&
                          !(has_decl && declared(data, len, name, k))) {
                    const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
                    if(e) {
                        snprintf(rep, sizeof(rep), "&#%u;", e->value);
                        repl = rep;
                        j++; /* the ';' */
                    } else {
                        repl = "&amp;"; /* unknown and undeclared: keep it as text */
                    }
                }
            }
            if(repl) {
                size_t skip = !strcmp(repl, "&amp;") ? 1 : j - i;
                if((rc = buf_append(out, data + run, i - run)) || (rc = buf_puts(out, repl)))
                    return rc;
                i += skip;
                run = i;
                *changed = 1;
                continue;
            }
        }
        i++;
    }
    if(*changed)
        rc = buf_append(out, data + run, len - run);
    return rc;
}

/* ---- the XML walk ------------------------------------------------------------------- */

enum ns_class { NS_OTHER, NS_CORE, NS_DC, NS_DCTERMS, NS_CONTENT, NS_RDF, NS_XHTML, NS_MEDIA };

struct walk {
    struct feed *f;
    xmlDocPtr doc;
    struct feed_entry *cur;   /* entry being filled, or NULL */
    char *media_title;        /* media:title of cur: its title when it has no other */
    long budget;              /* node visits left */
    int rc;
};

static int classify(xmlNodePtr n)
{
    static const char *core[] = {
        "http://backend.userland.com/rss", "http://blogs.law.harvard.edu/tech/rss",
        "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/",
        "http://example.com/newformat#", "http://example.com/necho", "http://purl.org/echo/",
        "uri/of/echo/namespace#", "http://purl.org/pie/", "http://purl.org/atom/ns#",
        "http://www.w3.org/2005/Atom", "http://purl.org/rss/1.0/modules/rss091#"};
    const char *href;
    if(!n->ns || !n->ns->href)
        return NS_CORE;
    href = (const char *)n->ns->href;
    for(size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++)
        if(!strcasecmp(href, core[i]))
            return NS_CORE;
    if(find_ci(href, "backend.userland.com/rss"))
        return NS_CORE; /* feedparser matches every backend.userland.com RSS namespace */
    if(!strcasecmp(href, "http://search.yahoo.com/mrss") ||
       !strcasecmp(href, "http://search.yahoo.com/mrss/"))
        return NS_MEDIA;
    if(!strcasecmp(href, "http://purl.org/dc/elements/1.1/") ||
       !strcasecmp(href, "http://purl.org/dc/elements/1.0/"))
        return NS_DC;
    if(!strcasecmp(href, "http://purl.org/dc/terms/"))
        return NS_DCTERMS;
    if(!strcasecmp(href, "http://purl.org/rss/1.0/modules/content/"))
        return NS_CONTENT;
    if(!strcasecmp(href, "http://www.w3.org/1999/02/22-rdf-syntax-ns#"))
        return NS_RDF;
    if(!strcasecmp(href, "http://www.w3.org/1999/xhtml"))
        return NS_XHTML;
    if(!n->ns->prefix || !*n->ns->prefix)
        return NS_CORE; /* an unknown default namespace: feedparser reads it as core */
    return NS_OTHER;
}

/* Appends the character data under node to t, expanding internal entities (bounded). */
static void collect(struct walk *w, xmlNodePtr node, struct tbuf *t, int edepth)
{
    /* edepth counts entity nesting; text of script and style elements is never text. */
    for(xmlNodePtr c = node; c && !t->full; c = c->next) {
        if(--w->budget <= 0) {
            t->full = 1;
            return;
        }
        switch(c->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if(c->content)
                tb_puts(t, (const char *)c->content);
            break;
        case XML_ENTITY_REF_NODE: {
            xmlEntityPtr ent = xmlGetDocEntity(w->doc, c->name);
            if(!ent || edepth >= ENTITY_DEPTH_MAX)
                break;
            if(ent->etype == XML_INTERNAL_PREDEFINED_ENTITY) {
                if(ent->content)
                    tb_puts(t, (const char *)ent->content);
            } else if(ent->etype == XML_INTERNAL_GENERAL_ENTITY) {
                if(ent->children)
                    collect(w, ent->children, t, edepth + 1);
                else if(ent->content && !strchr((const char *)ent->content, '&') &&
                        !strchr((const char *)ent->content, '<'))
                    tb_puts(t, (const char *)ent->content);
            }
            /* External entities are never read. */
            break;
        }
        case XML_ELEMENT_NODE:
            if(c->name && (!strcasecmp((const char *)c->name, "script") ||
                           !strcasecmp((const char *)c->name, "style")))
                break;
            collect(w, c->children, t, edepth);
            break;
        default:
            break;
        }
    }
}

/* Serialises the children of node as markup (for type="xhtml" content), bounded. */
static void serialise(struct walk *w, xmlNodePtr node, struct tbuf *t)
{
    xmlBufferPtr xb = xmlBufferCreate();
    if(!xb) {
        t->oom = 1;
        return;
    }
    for(xmlNodePtr c = node->children; c && !t->full; c = c->next) {
        if(--w->budget <= 0)
            break;
        xmlBufferEmpty(xb);
        if(xmlNodeDump(xb, w->doc, c, 0, 0) < 0)
            continue;
        tb_append(t, (const char *)xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
    }
    xmlBufferFree(xb);
}

static const char *attr(xmlNodePtr n, const char *name, xmlChar **hold)
{
    /* Attribute names compared without case, as feedparser lowercases them. */
    for(xmlAttrPtr a = n->properties; a; a = a->next) {
        if(a->name && !strcasecmp((const char *)a->name, name)) {
            *hold = xmlNodeGetContent((xmlNodePtr)a);
            return (const char *)*hold;
        }
    }
    *hold = NULL;
    return NULL;
}

static int is_text_type(const char *type)
{
    return !type || !strcasecmp(type, "text") || !strcasecmp(type, "text/plain") ||
           !strcasecmp(type, "plain");
}

static int is_html_type(const char *type)
{
    return type && (!strcasecmp(type, "html") || !strcasecmp(type, "text/html") ||
                    !strcasecmp(type, "escaped"));
}

static int is_xhtml_type(const char *type)
{
    return type && (!strcasecmp(type, "xhtml") || !strcasecmp(type, "application/xhtml+xml") ||
                    !strcasecmp(type, "xml"));
}

/* feedparser's rule for base64 text constructs: mode="base64", or a type that is
 * neither text/... nor XML (after mapping Atom's text/html/xhtml names). */
static int is_base64(const char *type, const char *mode)
{
    size_t n;
    if(mode && !strcmp(mode, "base64"))
        return 1;
    if(!type || !strcasecmp(type, "text") || !strcasecmp(type, "html") || !strcasecmp(type, "plain") ||
       !strcasecmp(type, "xhtml") || !strncasecmp(type, "text/", 5))
        return 0;
    n = strlen(type);
    if((n >= 4 && !strcasecmp(type + n - 4, "+xml")) || (n >= 4 && !strcasecmp(type + n - 4, "/xml")))
        return 0;
    return 1;
}

/* Decodes t's content as base64 in place when it is valid base64; else leaves it. */
static void tb_unbase64(struct tbuf *t)
{
    size_t bin_len = 0;
    unsigned char *bin;
    if(!t->b.len)
        return;
    bin = malloc(t->b.len + 1);
    if(!bin) {
        t->oom = 1;
        return;
    }
    if(!sodium_base642bin(bin, t->b.len, t->b.data, t->b.len, " \t\r\n", &bin_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) &&
       !memchr(bin, 0, bin_len) && utf8_count((const char *)bin, bin_len) >= 0) {
        /* Like feedparser, keep the text as it was unless it decodes to UTF-8. */
        buf_reset(&t->b);
        tb_append(t, (const char *)bin, bin_len);
    }
    free(bin);
}

/* The plain text of a text construct (title, author name): see the file comment. */
static int plain_text(struct walk *w, xmlNodePtr el, int atom_like, char **dst)
{
    struct tbuf raw, out;
    xmlChar *ht = NULL, *hm = NULL;
    const char *type = attr(el, "type", &ht), *mode = attr(el, "mode", &hm);
    int rc = SAM_OK, html;
    tb_init(&raw, FEED_TEXT_MAX);
    tb_init(&out, FEED_TEXT_MAX);
    collect(w, el->children, &raw, 0);
    if(is_base64(type, mode)) {
        tb_unbase64(&raw);
        if(mode && !strcmp(mode, "base64"))
            mode = NULL;
        if(!is_html_type(type) && !is_xhtml_type(type))
            type = NULL;
    }
    if(mode && !strcasecmp(mode, "xml"))
        type = "xhtml";
    else if(mode && !strcasecmp(mode, "escaped") && is_text_type(type))
        type = "html";
    if(is_xhtml_type(type))
        html = 0; /* the character data of the markup is the text */
    else if(is_html_type(type))
        html = 1;
    else if(!atom_like && (is_text_type(type)))
        html = looks_like_html(buf_str(&raw.b));
    else
        html = 0;
    if(html) {
        html_to_text(buf_str(&raw.b), &out);
        buf_reset(&raw.b);
        tb_fix_c1(&raw, buf_str(&out.b));
    } else {
        tb_fix_c1(&out, buf_str(&raw.b));
        buf_reset(&raw.b);
        tb_puts(&raw, buf_str(&out.b));
    }
    if(raw.oom || out.oom)
        rc = SAM_ENOMEM;
    else {
        char *s = buf_take(&raw.b);
        if(!s)
            s = strdup("");
        if(!s)
            rc = SAM_ENOMEM;
        else {
            collapse_ws(s);
            free(*dst);
            *dst = s;
        }
    }
    buf_cleanup(&raw.b);
    buf_cleanup(&out.b);
    xmlFree(ht);
    xmlFree(hm);
    return rc;
}

/* The trimmed character data of el, bounded by limit, into *dst. */
static int raw_text(struct walk *w, xmlNodePtr el, size_t limit, char **dst)
{
    struct tbuf t;
    char *s;
    tb_init(&t, limit);
    collect(w, el->children, &t, 0);
    if(t.oom) {
        buf_cleanup(&t.b);
        return SAM_ENOMEM;
    }
    s = buf_take(&t.b);
    if(!s && !(s = strdup("")))
        return SAM_ENOMEM;
    trim(s);
    free(*dst);
    *dst = s;
    return SAM_OK;
}

/* Summary or content: markup kept (xhtml serialised), bounded by FEED_BODY_MAX. */
static int body_text(struct walk *w, xmlNodePtr el, char **dst)
{
    xmlChar *ht = NULL, *hm = NULL;
    const char *type = attr(el, "type", &ht), *mode = attr(el, "mode", &hm);
    struct tbuf t;
    char *s;
    tb_init(&t, FEED_BODY_MAX);
    if(is_xhtml_type(type) || (mode && !strcasecmp(mode, "xml")) || classify(el) == NS_XHTML)
        serialise(w, el, &t);
    else {
        collect(w, el->children, &t, 0);
        if(is_base64(type, mode))
            tb_unbase64(&t);
    }
    xmlFree(ht);
    xmlFree(hm);
    if(t.oom) {
        buf_cleanup(&t.b);
        return SAM_ENOMEM;
    }
    s = buf_take(&t.b);
    if(!s && !(s = strdup("")))
        return SAM_ENOMEM;
    trim(s);
    free(*dst);
    *dst = s;
    return SAM_OK;
}

static int safe_scheme(const char *uri)
{
    static const char *ok[] = {
        "file", "ftp", "gopher", "h323", "hdl", "http", "https", "imap", "magnet", "mailto",
        "mms", "news", "nntp", "prospero", "rsync", "rtsp", "rtspu", "sftp", "shttp", "sip",
        "sips", "snews", "svn", "svn+ssh", "telnet", "wais", "aim", "callto", "cvs",
        "facetime", "feed", "git", "gtalk", "irc", "ircs", "irc6", "itms", "msnim", "skype",
        "ssh", "smb", "ymsg"};
    const char *colon = strchr(uri, ':');
    size_t n;
    if(!colon)
        return 0;
    n = (size_t)(colon - uri);
    for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if(strlen(ok[i]) == n && !strncasecmp(uri, ok[i], n))
            return 1;
    return 0;
}

/* The base URI in effect at el: the document URL, then each xml:base (or CDF's plain
 * base attribute, which feedparser also honours) from the root down. Freed with xmlFree;
 * NULL when there is none. */
static xmlChar *node_base(struct walk *w, xmlNodePtr el)
{
    xmlNodePtr chain[TREE_DEPTH_MAX + 8];
    int n = 0;
    xmlChar *cur = w->doc->URL ? xmlStrdup(w->doc->URL) : NULL;
    for(xmlNodePtr p = el; p && p->type == XML_ELEMENT_NODE && n < (int)(sizeof(chain) / sizeof(chain[0])); p = p->parent)
        chain[n++] = p;
    while(n-- > 0) {
        xmlChar *v = xmlGetNsProp(chain[n], (const xmlChar *)"base", XML_XML_NAMESPACE), *nb;
        if(!v)
            v = xmlGetNoNsProp(chain[n], (const xmlChar *)"base");
        if(!v)
            v = xmlGetNoNsProp(chain[n], (const xmlChar *)"BASE");
        if(!v)
            continue;
        nb = cur ? xmlBuildURI(v, cur) : xmlStrdup(v);
        xmlFree(v);
        if(nb) {
            xmlFree(cur);
            cur = nb;
        }
    }
    return cur;
}

/* 1 when s starts with a URI scheme ("urn:", "http:", ...). */
static int has_scheme(const char *s)
{
    const char *p = s;
    if(!isalpha((unsigned char)*p))
        return 0;
    while(isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    return *p == ':';
}

/* Resolves *s (owned) against the base in effect at el, in place. With no base the value
 * is kept as it is; a result with an unsafe scheme becomes "" (feedparser's rule). */
static int resolve(struct walk *w, xmlNodePtr el, char **s)
{
    xmlChar *base, *abs;
    if(!**s) {
        return SAM_OK;
    }
    base = node_base(w, el);
    if(!base || !*base) {
        xmlFree(base);
        if(!strncasecmp(*s, "javascript:", 11) || !strncasecmp(*s, "vbscript:", 9) ||
           !strncasecmp(*s, "data:", 5))
            (*s)[0] = '\0';
        return SAM_OK;
    }
    abs = xmlBuildURI((const xmlChar *)*s, base);
    xmlFree(base);
    if(abs) {
        int rc = set_str(s, safe_scheme((const char *)abs) ? (const char *)abs : "");
        xmlFree(abs);
        return rc;
    }
    if(!safe_scheme(*s))
        (*s)[0] = '\0';
    return SAM_OK;
}

/* feedparser's repair of query strings mangled as entity references in RSS links. */
static void fix_link_amp(char *s)
{
    char *r = s, *w = s;
    while(*r) {
        if(!strncmp(r, "&amp;", 5)) {
            *w++ = '&';
            r += 5;
            continue;
        }
        if(*r == '&') {
            char *q = r + 1;
            while(isalnum((unsigned char)*q) || *q == '_')
                q++;
            if(q > r + 1 && *q == ';') {
                size_t n = (size_t)(q - r);
                memmove(w, r, n);
                w += n;
                r = q + 1;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = '\0';
}

static int html_link_type(const char *type)
{
    return !type || !strcasecmp(type, "text/html") || !strcasecmp(type, "application/xhtml+xml") ||
           !strcasecmp(type, "html") || !strcasecmp(type, "xhtml");
}

/* The fields one element can set; the walk calls it with the entry or feed fields. */
struct fields {
    char **title, **link, **id, **author, **summary, **content;
    int64_t *published, *updated;
    int is_entry;
};

static void set_date(const char *text, int64_t *dst)
{
    int64_t t;
    *dst = feed_parse_date(text, &t) ? 0 : t;
}

static void walk_children(struct walk *w, xmlNodePtr parent, int in_channel, int depth);

static int read_author(struct walk *w, xmlNodePtr el, char **dst)
{
    for(xmlNodePtr c = el->children; c; c = c->next)
        if(c->type == XML_ELEMENT_NODE && !strcasecmp((const char *)c->name, "name"))
            return plain_text(w, c, 1, dst);
    return plain_text(w, el, 0, dst);
}

/* Handles one field element of an entry or the feed. Returns 1 when el was consumed. */
static int field(struct walk *w, xmlNodePtr el, int ns, const char *name, struct fields *fl,
                 int atom)
{
    char *tmp = NULL;
    xmlChar *h1 = NULL, *h2 = NULL, *h3 = NULL;
    int rc = SAM_OK, used = 1;
    if(ns == NS_CORE && !strcasecmp(name, "title")) {
        if(!**fl->title)
            rc = plain_text(w, el, atom, fl->title);
    } else if(ns == NS_MEDIA && !strcasecmp(name, "title")) {
        if(fl->is_entry && !*w->media_title)
            rc = plain_text(w, el, 0, &w->media_title);
    } else if(ns == NS_DC && !strcasecmp(name, "title")) {
        if(!**fl->title)
            rc = plain_text(w, el, 0, fl->title);
    } else if(ns == NS_CORE && !strcasecmp(name, "link")) {
        const char *href = attr(el, "href", &h1);
        if(!href) {
            xmlFree(h1);
            href = attr(el, "url", &h1);
        }
        if(href) {
            const char *rel = attr(el, "rel", &h2), *type = attr(el, "type", &h3);
            if((!rel || !strcmp(rel, "alternate")) && html_link_type(type)) {
                if(!(rc = set_str(&tmp, href)))
                    trim(tmp);
                if(!rc && !(rc = resolve(w, el, &tmp)))
                    rc = set_str(fl->link, tmp);
            }
        } else {
            rc = raw_text(w, el, FEED_TEXT_MAX, &tmp);
            if(!rc) {
                if(fl->is_entry)
                    fix_link_amp(tmp);
                if(!(rc = resolve(w, el, &tmp)))
                    rc = set_str(fl->link, tmp);
            }
        }
    } else if(ns == NS_CORE && (!strcasecmp(name, "guid") || !strcasecmp(name, "id"))) {
        const char *perma = attr(el, "ispermalink", &h1);
        int islink = !perma || !strcmp(perma, "true");
        char *as_link = NULL;
        rc = raw_text(w, el, FEED_TEXT_MAX, &tmp);
        if(!rc && islink && !(rc = set_str(&as_link, tmp)))
            rc = resolve(w, el, &as_link);
        /* An id with a scheme (urn:, tag:) is kept as it is; a relative one is resolved
         * like a link. feedparser drops ids whose scheme is not a "safe" one; we do not. */
        if(!rc)
            rc = set_str(fl->id, islink && !has_scheme(tmp) ? as_link : tmp);
        if(!rc && islink && !**fl->link && *as_link)
            rc = set_str(fl->link, as_link);
        free(as_link);
    } else if((ns == NS_CORE && (!strcasecmp(name, "pubdate") || !strcasecmp(name, "published") ||
                                 !strcasecmp(name, "issued"))) ||
              (ns == NS_DCTERMS && !strcasecmp(name, "issued"))) {
        if(!(rc = raw_text(w, el, 256, &tmp)))
            set_date(tmp, fl->published);
    } else if((ns == NS_CORE && (!strcasecmp(name, "updated") || !strcasecmp(name, "modified") ||
                                 !strcasecmp(name, "lastbuilddate"))) ||
              (ns == NS_DC && !strcasecmp(name, "date")) ||
              (ns == NS_DCTERMS && !strcasecmp(name, "modified"))) {
        if(!(rc = raw_text(w, el, 256, &tmp)))
            set_date(tmp, fl->updated);
    } else if((ns == NS_CORE && (!strcasecmp(name, "author") || !strcasecmp(name, "managingeditor"))) ||
              (ns == NS_DC && (!strcasecmp(name, "creator") || !strcasecmp(name, "author")))) {
        if(!**fl->author)
            rc = read_author(w, el, fl->author);
    } else if((ns == NS_CORE && (!strcasecmp(name, "description") || !strcasecmp(name, "summary") ||
                                 !strcasecmp(name, "abstract") || !strcasecmp(name, "subtitle") ||
                                 !strcasecmp(name, "tagline"))) ||
              (ns == NS_DC && !strcasecmp(name, "description"))) {
        if(fl->summary)
            rc = body_text(w, el, **fl->summary ? fl->content : fl->summary);
    } else if((ns == NS_CORE && !strcasecmp(name, "content")) ||
              (ns == NS_CONTENT && !strcasecmp(name, "encoded")) ||
              (ns == NS_XHTML && !strcasecmp(name, "body"))) {
        if(fl->content)
            rc = body_text(w, el, fl->content);
    } else if(ns == NS_CORE && (!strcasecmp(name, "image") || !strcasecmp(name, "textinput") ||
                                !strcasecmp(name, "source") || !strcasecmp(name, "contributor"))) {
        /* skipped with everything inside */
    } else {
        used = 0;
    }
    free(tmp);
    xmlFree(h1);
    xmlFree(h2);
    xmlFree(h3);
    if(rc && !w->rc)
        w->rc = rc;
    return used;
}

/* Makes an id for an entry that has none (see feed.h). */
static int generate_id(struct feed_entry *e)
{
    unsigned char h[16];
    char out[sizeof(GENERATED_ID_PREFIX) + 33];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    if(*e->link || *e->title) {
        crypto_generichash_update(&st, (const unsigned char *)e->link, strlen(e->link));
        crypto_generichash_update(&st, (const unsigned char *)"\n", 1);
        crypto_generichash_update(&st, (const unsigned char *)e->title, strlen(e->title));
    } else {
        crypto_generichash_update(&st, (const unsigned char *)e->summary, strlen(e->summary));
        crypto_generichash_update(&st, (const unsigned char *)"\n", 1);
        crypto_generichash_update(&st, (const unsigned char *)e->content, strlen(e->content));
    }
    crypto_generichash_final(&st, h, sizeof(h));
    memcpy(out, GENERATED_ID_PREFIX, sizeof(GENERATED_ID_PREFIX) - 1);
    sodium_bin2hex(out + sizeof(GENERATED_ID_PREFIX) - 1, 33, h, sizeof(h));
    e->id_generated = 1;
    return set_str(&e->id, out);
}

static int entry_init(struct feed_entry *e)
{
    memset(e, 0, sizeof(*e));
    if(set_str(&e->id, "") || set_str(&e->title, "") || set_str(&e->link, "") ||
       set_str(&e->summary, "") || set_str(&e->content, "") || set_str(&e->author, ""))
        return SAM_ENOMEM;
    return SAM_OK;
}

static void entry_cleanup(struct feed_entry *e)
{
    free(e->id);
    free(e->title);
    free(e->link);
    free(e->summary);
    free(e->content);
    free(e->author);
    memset(e, 0, sizeof(*e));
}

static void start_entry(struct walk *w, xmlNodePtr el, int depth)
{
    struct feed *f = w->f;
    struct feed_entry *e;
    xmlChar *h1 = NULL, *h2 = NULL;
    const char *about, *href, *lastmod;
    if(f->n_entries >= FEED_MAX_ENTRIES) {
        f->truncated = 1;
        return;
    }
    if((f->n_entries & (f->n_entries - 1)) == 0) { /* grow at powers of two */
        size_t cap = f->n_entries ? f->n_entries * 2 : 8;
        struct feed_entry *ne = realloc(f->entries, cap * sizeof(*ne));
        if(!ne) {
            w->rc = SAM_ENOMEM;
            return;
        }
        f->entries = ne;
    }
    e = &f->entries[f->n_entries];
    if(entry_init(e)) {
        entry_cleanup(e);
        w->rc = SAM_ENOMEM;
        return;
    }
    f->n_entries++;
    about = NULL;
    for(xmlAttrPtr a = el->properties; a; a = a->next)
        if(a->ns && a->ns->href && a->name && !strcmp((const char *)a->name, "about") &&
           !strcmp((const char *)a->ns->href, "http://www.w3.org/1999/02/22-rdf-syntax-ns#")) {
            h1 = xmlNodeGetContent((xmlNodePtr)a);
            about = (const char *)h1;
        }
    if(about && *about && set_str(&e->id, about))
        w->rc = SAM_ENOMEM;
    xmlFree(h1);
    href = attr(el, "href", &h1); /* CDF */
    if(href && *href && set_str(&e->link, href))
        w->rc = SAM_ENOMEM;
    else if(href && *href && resolve(w, el, &e->link))
        w->rc = SAM_ENOMEM;
    xmlFree(h1);
    lastmod = attr(el, "lastmod", &h2);
    if(lastmod)
        set_date(lastmod, &e->updated);
    xmlFree(h2);

    w->cur = e;
    if(set_str(&w->media_title, ""))
        w->rc = SAM_ENOMEM;
    walk_children(w, el, 1, depth + 1);
    w->cur = NULL;
    if(!w->rc && !*e->title && w->media_title && *w->media_title && set_str(&e->title, w->media_title))
        w->rc = SAM_ENOMEM;
    trim(e->id);
    if(!w->rc && !*e->id && generate_id(e))
        w->rc = SAM_ENOMEM;
}

static void walk_children(struct walk *w, xmlNodePtr parent, int in_channel, int depth)
{
    if(depth > TREE_DEPTH_MAX)
        return;
    for(xmlNodePtr el = parent->children; el && !w->rc; el = el->next) {
        int ns;
        const char *name;
        if(el->type != XML_ELEMENT_NODE || !el->name)
            continue;
        if(--w->budget <= 0)
            return;
        ns = classify(el);
        name = (const char *)el->name;
        if(ns == NS_CORE && (!strcasecmp(name, "item") || !strcasecmp(name, "entry"))) {
            if(!w->cur)
                start_entry(w, el, depth);
            continue;
        }
        if(ns == NS_CORE && (!strcasecmp(name, "channel") || !strcasecmp(name, "feed"))) {
            xmlChar *h = NULL;
            const char *href = attr(el, "href", &h); /* CDF */
            if(href && !w->cur && !*w->f->link && set_str(&w->f->link, href))
                w->rc = SAM_ENOMEM;
            xmlFree(h);
            walk_children(w, el, 1, depth + 1);
            continue;
        }
        if(w->cur) {
            struct feed_entry *e = w->cur;
            struct fields fl = {&e->title, &e->link, &e->id, &e->author, &e->summary,
                                &e->content, &e->published, &e->updated, 1};
            if(field(w, el, ns, name, &fl, w->f->format == FEED_FORMAT_ATOM))
                continue;
        } else if(in_channel) {
            char *id = NULL, *author = NULL;
            int64_t published = 0;
            struct fields fl = {&w->f->title, &w->f->link, &id, &author, NULL, NULL,
                                &published, &w->f->updated, 0};
            int used;
            if(set_str(&id, "") || set_str(&author, "")) {
                free(id);
                w->rc = SAM_ENOMEM;
                return;
            }
            used = field(w, el, ns, name, &fl, w->f->format == FEED_FORMAT_ATOM);
            free(id);
            free(author);
            if(used)
                continue;
        } else if(ns == NS_CORE && (!strcasecmp(name, "image") || !strcasecmp(name, "textinput"))) {
            continue;
        }
        walk_children(w, el, in_channel, depth + 1);
    }
}

/* ---- entry points ------------------------------------------------------------------- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

void feed_content_charset(const char *ct, char *out, size_t n)
{
    const char *p;
    size_t k = 0;
    out[0] = '\0';
    if(!ct || !(p = find_ci(ct, "charset")))
        return;
    p += 7;
    while(*p == ' ')
        p++;
    if(*p != '=')
        return;
    p++;
    while(*p == ' ' || *p == '"' || *p == '\'')
        p++;
    while(*p && *p != '"' && *p != '\'' && *p != ';' && *p != ' ' && k + 1 < n)
        out[k++] = *p++;
    out[k] = '\0';
}

static int feed_init_empty(struct feed *f)
{
    memset(f, 0, sizeof(*f));
    if(set_str(&f->title, "") || set_str(&f->link, "")) {
        feed_free(f);
        return SAM_ENOMEM;
    }
    return SAM_OK;
}

/* libxml2 reports encoding trouble through its generic error channel even with
 * XML_PARSE_NOERROR; a feed's bad bytes are not worth a line on our stderr. */
static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static xmlDocPtr read_xml(const char *data, size_t len, const char *base, const char *enc,
                          int *wellformed, int *encoding_error)
{
    const int opts = XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR |
                     XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | XML_PARSE_COMPACT;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    xmlDocPtr doc;
    if(!ctxt)
        return NULL;
    {
        /* The generic error handler is per thread in libxml2: restore it after. */
        xmlGenericErrorFunc old = xmlGenericError;
        void *old_ctx = xmlGenericErrorContext;
        xmlSetGenericErrorFunc(NULL, quiet);
        doc = xmlCtxtReadMemory(ctxt, data, (int)len, base, enc, opts);
        xmlSetGenericErrorFunc(old_ctx, old);
    }
    *wellformed = ctxt->wellFormed;
    *encoding_error = ctxt->errNo == XML_ERR_INVALID_CHAR ||
                      ctxt->errNo == XML_ERR_INVALID_ENCODING ||
                      ctxt->errNo == XML_ERR_UNSUPPORTED_ENCODING;
    xmlFreeParserCtxt(ctxt);
    return doc;
}

static int parse_xml(const char *data, size_t len, const char *content_type, const char *base_url,
                     struct feed *out)
{
    char charset[64];
    struct buf pre;
    int changed = 0, wf = 1, encerr = 0, rc;
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    struct walk w;

    buf_init(&pre, FEED_MAX_BYTES * 2);
    rc = prepass(data, len, &pre, &changed);
    if(rc) {
        buf_cleanup(&pre);
        return rc == SAM_ETOOBIG ? sam_fail(SAM_ETOOBIG, "feed too large") : rc;
    }
    if(changed) {
        data = pre.data;
        len = pre.len;
    }
    feed_content_charset(content_type, charset, sizeof(charset));
    if(*charset) {
        /* Only a charset libxml2 knows (an iconv handler must be closed again). */
        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(charset);
        if(h) {
            xmlCharEncCloseFunc(h);
            doc = read_xml(data, len, base_url, charset, &wf, &encerr);
        }
    }
    if(!doc)
        doc = read_xml(data, len, base_url, NULL, &wf, &encerr);
    if(encerr) {
        /* Not what it said it was: read it as windows-1252, as feedparser falls back. */
        int wf2, encerr2;
        xmlDocPtr d2 = read_xml(data, len, base_url, "windows-1252", &wf2, &encerr2);
        if(d2 && !encerr2) {
            xmlFreeDoc(doc);
            doc = d2;
            wf = wf2;
        } else {
            xmlFreeDoc(d2);
        }
    }
    buf_cleanup(&pre);
    if(!doc || !(root = xmlDocGetRootElement(doc))) {
        xmlFreeDoc(doc);
        return sam_fail(SAM_EINVAL, "not an XML document");
    }
    if(!strcasecmp((const char *)root->name, "rss"))
        out->format = FEED_FORMAT_RSS;
    else if(!strcasecmp((const char *)root->name, "RDF"))
        out->format = FEED_FORMAT_RDF;
    else if(!strcasecmp((const char *)root->name, "feed"))
        out->format = FEED_FORMAT_ATOM;
    else
        out->format = FEED_FORMAT_UNKNOWN;
    out->recovered = !wf;

    memset(&w, 0, sizeof(w));
    w.f = out;
    w.doc = doc;
    w.budget = WALK_BUDGET;
    /* From the document node, so a root <channel> or <feed> counts as one. */
    walk_children(&w, (xmlNodePtr)doc, 0, 0);
    free(w.media_title);
    if(!w.rc && out->format == FEED_FORMAT_UNKNOWN && !out->n_entries && !*out->title)
        w.rc = sam_fail(SAM_EINVAL, "not a feed: the document is not RSS, RDF or Atom");
    xmlFreeDoc(doc);
    return w.rc;
}

static int json_str(json_t *o, const char *key, size_t limit, char **dst)
{
    json_t *v = json_object_get(o, key);
    char num[32];
    const char *s = NULL;
    if(json_is_string(v))
        s = json_string_value(v);
    else if(json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        s = num;
    }
    if(!s)
        return SAM_OK;
    {
        size_t n = strnlen(s, limit);
        char *c;
        while(n < strlen(s) && n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        c = strndup(s, n);
        if(!c)
            return SAM_ENOMEM;
        free(*dst);
        *dst = c;
    }
    return SAM_OK;
}

static int json_resolve(const char *base, char **s)
{
    xmlChar *abs;
    int rc = SAM_OK;
    if(!**s || !base || !*base)
        return SAM_OK;
    abs = xmlBuildURI((const xmlChar *)*s, (const xmlChar *)base);
    if(abs) {
        rc = set_str(s, safe_scheme((const char *)abs) ? (const char *)abs : "");
        xmlFree(abs);
    }
    return rc;
}

static int parse_json(const char *data, size_t len, const char *base_url, struct feed *out)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr), *items, *v;
    const char *version;
    int rc = SAM_OK;
    size_t i;
    if(!json_is_object(root)) {
        json_decref(root);
        /* jansson's words quote the text near the error: the peer's, not repeated */
        return sam_fail(SAM_EINVAL, "not a JSON Feed: %s",
                        root ? "the document is not a JSON object" : "the document is not valid JSON");
    }
    version = json_string_value(json_object_get(root, "version"));
    items = json_object_get(root, "items");
    if((!version || strncmp(version, "https://jsonfeed.org/version/", 29)) && !json_is_array(items)) {
        json_decref(root);
        return sam_fail(SAM_EINVAL, "not a JSON Feed: no version and no items");
    }
    out->format = FEED_FORMAT_JSON;
    if((rc = json_str(root, "title", FEED_TEXT_MAX, &out->title)) ||
       (rc = json_str(root, "home_page_url", FEED_TEXT_MAX, &out->link)))
        goto out;
    collapse_ws(out->title);
    if(!json_is_array(items))
        goto out;
    for(i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        struct feed_entry *e;
        char *date = NULL;
        if(!json_is_object(it))
            continue;
        if(out->n_entries >= FEED_MAX_ENTRIES) {
            out->truncated = 1;
            break;
        }
        if((out->n_entries & (out->n_entries - 1)) == 0) {
            size_t cap = out->n_entries ? out->n_entries * 2 : 8;
            struct feed_entry *ne = realloc(out->entries, cap * sizeof(*ne));
            if(!ne) {
                rc = SAM_ENOMEM;
                goto out;
            }
            out->entries = ne;
        }
        e = &out->entries[out->n_entries];
        if((rc = entry_init(e))) {
            entry_cleanup(e);
            goto out;
        }
        out->n_entries++;
        if((rc = json_str(it, "id", FEED_TEXT_MAX, &e->id)) ||
           (rc = json_str(it, "url", FEED_TEXT_MAX, &e->link)) ||
           (rc = json_str(it, "title", FEED_TEXT_MAX, &e->title)) ||
           (rc = json_str(it, "summary", FEED_BODY_MAX, &e->summary)) ||
           (rc = json_str(it, "content_html", FEED_BODY_MAX, &e->content)))
            goto out;
        if(!*e->content && (rc = json_str(it, "content_text", FEED_BODY_MAX, &e->content)))
            goto out;
        if((rc = json_resolve(base_url, &e->link)))
            goto out;
        collapse_ws(e->title);
        trim(e->id);
        v = json_object_get(it, "author");
        if(!json_is_object(v)) {
            v = json_object_get(it, "authors");
            v = json_is_array(v) ? json_array_get(v, 0) : NULL;
        }
        if(json_is_object(v) && (rc = json_str(v, "name", FEED_TEXT_MAX, &e->author)))
            goto out;
        if((rc = set_str(&date, "")) || (rc = json_str(it, "date_published", 128, &date))) {
            free(date);
            goto out;
        }
        set_date(date, &e->published);
        if((rc = set_str(&date, "")) || (rc = json_str(it, "date_modified", 128, &date))) {
            free(date);
            goto out;
        }
        set_date(date, &e->updated);
        free(date);
        if(!*e->id && (rc = generate_id(e)))
            goto out;
    }
out:
    json_decref(root);
    return rc;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned long cp;
    size_t n, i;
    if(p[0] < 0x80)
        return 1;
    if(p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2, cp = p[0] & 0x1F;
    else if(p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3, cp = p[0] & 0x0F;
    else if(p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4, cp = p[0] & 0x07;
    else
        return 0;
    for(i = 1; i < n; i++) {
        if((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
       (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Makes *s valid UTF-8 (bytes that are not become U+FFFD) of at most limit bytes (cut
 * on a character boundary; a link that long is dropped instead, since a cut URL is a
 * wrong one). SAM_ENOMEM. */
static int clean_utf8(char **s, size_t limit, int drop_if_long)
{
    struct tbuf t;
    const unsigned char *p = (const unsigned char *)*s;
    char *c;
    size_t n = strlen(*s);
    if(n > limit && drop_if_long) {
        (*s)[0] = '\0';
        return SAM_OK;
    }
    if(n <= limit && utf8_count(*s, n) >= 0)
        return SAM_OK;
    tb_init(&t, limit);
    while(*p && !t.full) {
        size_t k = utf8_seq(p);
        if(k) {
            tb_append(&t, (const char *)p, k);
            p += k;
        } else {
            tb_utf8(&t, 0xFFFD);
            p++;
        }
    }
    if(t.oom || !(c = buf_take(&t.b))) {
        buf_cleanup(&t.b);
        return SAM_ENOMEM;
    }
    free(*s);
    *s = c;
    return SAM_OK;
}

static int clean_feed(struct feed *f)
{
    if(clean_utf8(&f->title, FEED_TEXT_MAX, 0) || clean_utf8(&f->link, FEED_TEXT_MAX, 1))
        return SAM_ENOMEM;
    for(size_t i = 0; i < f->n_entries; i++) {
        struct feed_entry *e = &f->entries[i];
        if(clean_utf8(&e->id, FEED_TEXT_MAX, 0) || clean_utf8(&e->title, FEED_TEXT_MAX, 0) ||
           clean_utf8(&e->link, FEED_TEXT_MAX, 1) || clean_utf8(&e->summary, FEED_BODY_MAX, 0) ||
           clean_utf8(&e->content, FEED_BODY_MAX, 0) || clean_utf8(&e->author, FEED_TEXT_MAX, 0))
            return SAM_ENOMEM;
    }
    return SAM_OK;
}

int feed_parse(const char *data, size_t len, const char *content_type, const char *base_url,
               struct feed *out)
{
    size_t i = 0;
    int rc;
    memset(out, 0, sizeof(*out));
    if(len > FEED_MAX_BYTES)
        return sam_fail(SAM_ETOOBIG, "feed larger than %d bytes", FEED_MAX_BYTES);
    if(!data || !len)
        return sam_fail(SAM_EINVAL, "empty feed document");
    if(feed_init_empty(out))
        return SAM_ENOMEM;
    pthread_once(&xml_once, xml_init);
    if(len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        i = 3;
    while(i < len && is_ws((unsigned char)data[i]))
        i++;
    if((i < len && data[i] == '{') || (content_type && find_ci(content_type, "json")))
        rc = parse_json(data + i, len - i, base_url, out);
    else
        rc = parse_xml(data, len, content_type, base_url, out);
    if(!rc)
        rc = clean_feed(out);
    if(rc) {
        feed_free(out);
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

void feed_free(struct feed *f)
{
    if(!f)
        return;
    for(size_t i = 0; i < f->n_entries; i++)
        entry_cleanup(&f->entries[i]);
    free(f->entries);
    free(f->title);
    free(f->link);
    memset(f, 0, sizeof(*f));
}

/* ---- fetching ----------------------------------------------------------------------- */

int feed_fetch(const char *url, const char *etag, const char *last_modified, long timeout_ms,
               struct feed_fetch_result *res, struct feed *out)
{
    char h_etag[300], h_since[100];
    const char *headers[4];
    size_t nh = 0;
    struct http_req req;
    struct http_resp resp;
    int rc;

    memset(res, 0, sizeof(*res));
    memset(out, 0, sizeof(*out));
    if(etag && *etag) {
        if(strpbrk(etag, "\r\n") || strlen(etag) >= sizeof(res->etag))
            return sam_fail(SAM_EINVAL, "bad ETag to send");
        snprintf(h_etag, sizeof(h_etag), "If-None-Match: %s", etag);
        headers[nh++] = h_etag;
        snprintf(res->etag, sizeof(res->etag), "%s", etag);
    }
    if(last_modified && *last_modified) {
        if(strpbrk(last_modified, "\r\n") || strlen(last_modified) >= sizeof(res->last_modified))
            return sam_fail(SAM_EINVAL, "bad Last-Modified to send");
        snprintf(h_since, sizeof(h_since), "If-Modified-Since: %s", last_modified);
        headers[nh++] = h_since;
        snprintf(res->last_modified, sizeof(res->last_modified), "%s", last_modified);
    }
    headers[nh++] = "Accept: application/rss+xml, application/atom+xml, application/feed+json, "
                    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1";
    headers[nh] = NULL;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = url;
    req.headers = headers;
    req.timeout_ms = timeout_ms;
    req.max_body = FEED_MAX_BYTES + 1;
    http_resp_init(&resp);
    rc = http_request(&req, &resp);
    if(rc)
        goto out;
    res->status = resp.status;
    snprintf(res->content_type, sizeof(res->content_type), "%s", resp.content_type);
#ifdef HTTP_RESP_VALIDATORS
    /* http.h reports ETag and Last-Modified: keep the peer's new validators. */
    if(resp.status == 200) {
        snprintf(res->etag, sizeof(res->etag), "%s", resp.etag);
        snprintf(res->last_modified, sizeof(res->last_modified), "%s", resp.last_modified);
    }
#else
    if(resp.status == 200) {
        /* http.h cannot report response headers other than its fixed few yet, so the
         * validators of a 200 are unknown: forget the old ones (sending stale ones would
         * be wrong). See docs/feeds.md. */
        res->etag[0] = '\0';
        res->last_modified[0] = '\0';
    }
#endif
    if(resp.status == 304) {
        res->not_modified = 1;
        goto out;
    }
    if(resp.status != 200) {
        rc = sam_fail(SAM_EIO, "feed %s answered HTTP %ld", url, resp.status);
        goto out;
    }
    if(resp.truncated || resp.body.len > FEED_MAX_BYTES) {
        res->truncated = 1;
        rc = sam_fail(SAM_ETOOBIG, "feed %s is larger than %d bytes", url, FEED_MAX_BYTES);
        goto out;
    }
    rc = feed_parse(resp.body.data ? resp.body.data : "", resp.body.len, resp.content_type, url, out);
out:
    http_resp_cleanup(&resp);
    return rc;
}
