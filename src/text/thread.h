/*
 * thread.h: a text too long for one post, as a numbered thread of parts (P2: threads).
 *
 * The text is cut at sentence boundaries (ICU's sentence break rules, in the text's
 * language when known), a sentence too long for one part at the places a line may break
 * (between words), and a word too long at a character (grapheme) boundary. A link is never
 * cut. Each part gets its number, "1/3", on a line of its own at its end, and fits the
 * network's limit in characters (graphemes, as Bluesky counts) and in bytes with it.
 * Whitespace at the ends of a part is dropped; the rest of the text is kept as written.
 *
 * Depends on util/ and ICU only.
 */
#ifndef SAM_TEXT_THREAD_H
#define SAM_TEXT_THREAD_H

#include <stddef.h>

#define TEXT_THREAD_MAX 25 /* parts of one thread */

/* One part: text[start, start + len) before its number. */
struct text_part {
    size_t start, len;
};

/* How a network counts a text's length: text_graphemes (Bluesky), text_mastodon_length. */
typedef long (*text_count_fn)(const char *s, size_t len);

/* Splits text (valid UTF-8) into *n parts (at most max) of at most limit (as count counts;
 * NULL: graphemes) and max_bytes bytes each, counting the number that text_thread_part
 * adds. lang is a BCP 47 tag such as "nb" or NULL. A text that fits in one post is one
 * part, without a number. SAM_ETOOBIG when it needs more than max parts, SAM_EINVAL for
 * invalid UTF-8 or limits too small to hold a number, SAM_ENOMEM. */
int text_thread_split(const char *text, long limit, size_t max_bytes, const char *lang, text_count_fn count,
                      struct text_part *parts, size_t max, size_t *n);

/* Part k (0-based) of n as it is published: its text and, when n > 1, "\n\n(k+1)/n".
 * A new string (caller frees), NULL when out of memory. */
char *text_thread_part(const char *text, const struct text_part *p, size_t k, size_t n);

#endif
