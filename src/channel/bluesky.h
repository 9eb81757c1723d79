/*
 * bluesky.h: the Bluesky connector (CH1) and the pure pieces of it that the unit tests
 * check without a network: rich-text facets and record keys.
 *
 * The connector itself is channel_bluesky_ops (kind "bluesky"), listed in channel.c; see
 * bluesky.c for how it talks to a PDS and docs/bluesky.md for the whole story.
 *
 * Facets. Bluesky does not parse links, hashtags or mentions out of a post's text: the
 * client sends them as facets, each a byte range of the UTF-8 text plus what it means.
 * bsky_facets_find finds them the way Bluesky's own client does (its RichText
 * detectFacets): links start with http:// or https:// after the start of the text, a
 * space or "(" and end before trailing punctuation (text_url_span); tags are "#" or "＃"
 * after the start or a space, at most 64 characters, not only digits, trailing
 * punctuation dropped; mentions are "@" + a handle (a domain name with at least one dot)
 * after the start, a space or "(". Offsets are UTF-8 byte offsets into the text, never
 * code points or UTF-16 units, so "æøå @bob.test" has the mention at bytes 7..16.
 *
 * Record keys. app.bsky.feed.post records are keyed by a TID: 13 characters of
 * base32-sortable ("234567abcdefghijklmnopqrstuvwxyz") encoding a 64-bit number whose top
 * bit is 0, then 53 bits of microseconds since the Unix epoch, then a 10-bit clock id.
 * bsky_tid_make derives one from the occurrence so that every attempt to publish it asks
 * for the same key: the microseconds are planned_at's second plus a sub-second offset
 * taken from a hash of the idempotency key, and the clock id is another part of that
 * hash. A second createRecord for the same key cannot make a second post.
 */
#ifndef SAM_BLUESKY_H
#define SAM_BLUESKY_H

#include <stddef.h>
#include <stdint.h>

#define BSKY_TID_LEN 13
#define BSKY_TAG_MAX_CHARS 64   /* a tag's length limit, in characters, without the "#" */

enum bsky_facet_kind { BSKY_FACET_LINK = 1, BSKY_FACET_TAG = 2, BSKY_FACET_MENTION = 3 };

struct bsky_facet {
    int kind;                    /* enum bsky_facet_kind */
    size_t byte_start;           /* UTF-8 byte offsets into the text: [start, end) covers */
    size_t byte_end;             /* the whole link, "#tag" or "@handle" as written */
    size_t value_start;          /* what the facet points at, also a byte range of the */
    size_t value_end;            /* text: the URL, the tag without "#", the handle without "@" */
};

/* Finds the links, tags and mentions of text[0..len) in the order they appear, at most
 * max of them, into out (which may be NULL when max is 0); *n is set to how many were
 * found (never more than max: the rest are dropped). Mentions are found by their form
 * only: resolving the handle to a DID is the caller's work. Returns SAM_OK, or SAM_EINVAL
 * when text is NULL or not valid UTF-8 (*n is then 0). Allocates nothing. */
int bsky_facets_find(const char *text, size_t len, struct bsky_facet *out, size_t max, size_t *n);

/* Writes the record key of an occurrence into out (BSKY_TID_LEN + 1 bytes: 13 characters
 * and a NUL): deterministic for the same planned_at (Unix seconds) and idempotency key;
 * different keys give different clock ids and sub-second parts (with the odds of a hash).
 * Returns SAM_OK, or SAM_EINVAL (out set to "") for a NULL or empty key or a planned_at
 * outside 0 .. 2^53 microseconds (the year 2255). */
int bsky_tid_make(int64_t planned_at, const char *key, char *out);

/* 1 when s is a syntactically valid TID (13 characters, base32-sortable, the first one of
 * "234567abcdefghij" so the top bit is 0), else 0. */
int bsky_tid_valid(const char *s);

/* The 10-bit clock id inside a valid TID, or -1 when s is not one. */
int bsky_tid_clock_id(const char *s);

/* The microseconds since the epoch inside a valid TID, or -1 when s is not one. */
int64_t bsky_tid_micros(const char *s);

/* Forgets every cached session (the tests use it; the server never needs to). */
void bsky_sessions_clear(void);

#endif
