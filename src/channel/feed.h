/*
 * feed.h: reading syndication feeds (RSS 0.90/0.91/0.92/2.0, RSS 1.0 (RDF), Atom 0.3 and
 * 1.0, JSON Feed 1 and 1.1) into one flat shape, and fetching them with conditional GET.
 * It sits in channel/ beside the other connectors; the feed poller (engine/) calls
 * feed_fetch and then feed_parse, and stores what it needs. docs/feeds.md says what is
 * supported, how it compares with Python's feedparser, and why it differs where it does.
 *
 * Shape of a parsed feed (all strings UTF-8, NUL-terminated, owned by the struct feed and
 * freed by feed_free; a missing text is "" never NULL, so callers need not test):
 *
 *   struct feed      title, link (already absolute), and entries[0..n_entries)
 *   struct feed_entry id (never empty: see "stable ids"), title (plain text, whitespace
 *                    collapsed), link (absolute when a base was known), published and
 *                    updated (Unix seconds, 0 when unknown or unparseable), summary and
 *                    content (text as the feed gave it: HTML stays HTML; each cut at
 *                    FEED_BODY_MAX bytes on a character boundary), author (plain text).
 *
 * Stable ids: the entry's guid (RSS), id (Atom), rdf:about (RSS 1.0) or id (JSON Feed)
 * when present and not blank; otherwise "urn:samtale:entry:" followed by 32 hex digits of
 * BLAKE2b-128 over link, a newline and title (or over the summary and content when both
 * are empty), so the same entry keeps the same id across polls. id_generated says which.
 *
 * Security and limits: external entities and DTDs are never loaded (no network, no file
 * access), internal entities are expanded by our own walker with a depth and size bound
 * (so "billion laughs" costs nothing), input over FEED_MAX_BYTES is refused, entries past
 * FEED_MAX_ENTRIES are dropped (truncated = 1), and every text is bounded.
 */
#ifndef SAM_FEED_H
#define SAM_FEED_H

#include <stddef.h>
#include <stdint.h>

#define FEED_MAX_BYTES (10 * 1024 * 1024) /* largest document feed_parse accepts */
#define FEED_MAX_ENTRIES 10000            /* entries past this are dropped */
#define FEED_TEXT_MAX 8192                /* title, link, id, author: bytes */
#define FEED_BODY_MAX (256 * 1024)        /* summary, content: bytes */

enum feed_format {
    FEED_FORMAT_UNKNOWN = 0,
    FEED_FORMAT_RSS,      /* RSS 0.9x and 2.0 (<rss>) */
    FEED_FORMAT_RDF,      /* RSS 0.90 and 1.0 (<rdf:RDF>) */
    FEED_FORMAT_ATOM,     /* Atom 0.3 and 1.0 (<feed>) */
    FEED_FORMAT_JSON      /* JSON Feed 1 and 1.1 */
};

struct feed_entry {
    char *id;
    int id_generated;     /* 1 when id was made by the hash rule above */
    char *title;
    char *link;
    int64_t published;    /* Unix seconds, 0 unknown */
    int64_t updated;      /* Unix seconds, 0 unknown */
    char *summary;
    char *content;
    char *author;
};

struct feed {
    int format;           /* enum feed_format */
    char *title;
    char *link;
    int64_t updated;      /* feed-level lastBuildDate / updated, 0 unknown */
    struct feed_entry *entries;
    size_t n_entries;
    int truncated;        /* 1 when entries past FEED_MAX_ENTRIES were dropped */
    int recovered;        /* 1 when the XML was ill-formed and read in recover mode */
};

/* Parses one feed document of len bytes (need not be NUL-terminated). content_type is the
 * HTTP Content-Type or NULL: its charset, when given, overrides the document's own
 * declaration (as RFC 3023 says); "json" in it selects JSON Feed (the first non-blank
 * byte '{' does too). base_url (or NULL) is the document's address, against which
 * relative links are resolved together with xml:base. On SAM_OK *out is filled and must
 * be released with feed_free; on error *out is left empty (feed_free on it is harmless).
 * Errors: SAM_EINVAL (not a feed we can read: no root element, not JSON, unknown root),
 * SAM_ETOOBIG (len > FEED_MAX_BYTES), SAM_ENOMEM. Ill-formed XML is not an error: it is
 * read in recover mode, as feedparser does, and out->recovered is set. */
int feed_parse(const char *data, size_t len, const char *content_type, const char *base_url,
               struct feed *out);

/* Frees what feed_parse put into f and leaves it empty; f itself is the caller's. NULL is
 * allowed. */
void feed_free(struct feed *f);

/* The result of a conditional fetch. */
struct feed_fetch_result {
    long status;                 /* HTTP status; 304 means not modified (feed untouched) */
    int not_modified;            /* 1 on 304 */
    char etag[256];              /* validators to send next time ("" when none); on 304 */
    char last_modified[64];      /* the ones passed in are kept */
    char content_type[128];
    int truncated;               /* body was cut at FEED_MAX_BYTES: not parsed */
};

/* Fetches url with GET, sending If-None-Match: etag and If-Modified-Since: last_modified
 * when these are non-NULL and non-empty, and parses a 200 answer into *out (released with
 * feed_free) using the answer's Content-Type and url as the base. A 304 answer returns
 * SAM_OK with res->not_modified = 1 and *out empty. timeout_ms bounds the whole request
 * (0: the HTTP default). Errors: those of http_request (SAM_EIO is transient; SAM_EPERM
 * when the outbound address policy refuses the feed's address: nothing fetched), SAM_EIO for
 * any other status than 200 and 304 (res->status says which), SAM_ETOOBIG when the body
 * was larger than FEED_MAX_BYTES, and those of feed_parse. */
int feed_fetch(const char *url, const char *etag, const char *last_modified, long timeout_ms,
               struct feed_fetch_result *res, struct feed *out);

/* Parses a feed date into Unix seconds: RFC 822/1123 and their common variants (two-digit
 * years, no seconds, no day name, named and military zones), W3C-DTF / RFC 3339 / ISO 8601
 * (also partial dates such as "2003-12" and basic forms such as "20031231T120000Z"), and
 * asctime. Returns SAM_EINVAL (and *out = 0) for anything else. */
int feed_parse_date(const char *s, int64_t *out);

/* The charset parameter of a Content-Type header value into out (n bytes; "" when none). */
void feed_content_charset(const char *content_type, char *out, size_t n);

#endif
