/*
 * normalise.h: the comparison form of a post's text, links found the way the networks
 * find them, and lengths counted the way the networks count them. Used by the spam checks
 * (core/checks.c: P5 near-duplicates, P8a cross-posts, P8b length limits) and later by
 * listening.
 *
 * The comparison form ("normalised text") of a text is, in this order:
 *   1. at most the first TEXT_NORM_MAX_IN bytes, cut back to a whole UTF-8 sequence;
 *      bytes that are not valid UTF-8 become a space;
 *   2. links (http:// or https:// as text_url_span finds them, and words starting with
 *      "www.") removed;
 *   3. NFKC with Unicode case folding, default-ignorable characters (soft hyphen,
 *      zero-width joiner, variation selectors) dropped (utf8proc);
 *   4. every code point that is not a letter, a combining mark or a number (so
 *      punctuation, symbols, emoji, controls and spaces of every kind) becomes a
 *      separator; runs of separators become one ASCII space; no leading or trailing space;
 *   5. at most TEXT_NORM_MAX_OUT bytes, cut back to a whole code point.
 * So "SPRING SALE!!! 20% off 🎉 https://x.example/a" and "spring sale - 20% OFF" both
 * read "spring sale 20 off"; "Ｓａｌｅ" reads "sale"; "Straße" reads "strasse"; æ, ø, å, ä
 * and ö stay letters.
 *
 * Depends on util/ and libutf8proc only.
 */
#ifndef SAM_TEXT_NORMALISE_H
#define SAM_TEXT_NORMALISE_H

#include <stddef.h>
#include <stdint.h>

#define TEXT_NORM_MAX_IN 5000  /* bytes of input the comparison form looks at */
#define TEXT_NORM_MAX_OUT 5000 /* bytes of comparison form kept */

/* Writes the comparison form of s[0..len) (s may be NULL when len is 0) into out, which
 * has room for cap bytes (cap >= 1; at most TEXT_NORM_MAX_OUT + 1 are ever used), always
 * NUL-terminated, and its length to *outlen. Never fails on content (invalid UTF-8 is
 * read as separators). SAM_ENOMEM when utf8proc cannot allocate, SAM_EINVAL for a NULL
 * out or a zero cap. */
int text_normalise(const char *s, size_t len, char *out, size_t cap, size_t *outlen);

/* If a link starts at s[i] (of the len bytes of s), its length in bytes, else 0. A link is
 * "http://" or "https://" (any case) not preceded by an ASCII letter or digit, followed by
 * at least one letter or digit, up to the first whitespace or control character; trailing
 * . , : ; ! ? ' " ] } > and an unbalanced ) are not part of it (as in "see
 * https://x.example/a."). The networks' own link finders are more elaborate; this is the
 * common case they agree on. */
size_t text_url_span(const char *s, size_t len, size_t i);

/* Where the word that starts at s[i] ends: the first whitespace of any kind (a no-break
 * space included), control character or invalid UTF-8 sequence at or after i (len when
 * none). */
size_t text_word_end(const char *s, size_t len, size_t i);

/* Length of a word starting with "www." at s[i] (any case, not preceded by an ASCII letter
 * or digit, '.', '/' or '@', followed by a letter or digit) up to the first whitespace or
 * control character, else 0: a link written without its scheme. */
size_t text_www_span(const char *s, size_t len, size_t i);

/* Number of extended grapheme clusters (what a reader sees as one character: "å" written
 * as a + ring, "👍🏽", "👩‍👩‍👧" each count 1) in s[0..len), or -1 when s is not valid UTF-8. */
long text_graphemes(const char *s, size_t len);

/* Mastodon's length of s[0..len) (valid UTF-8): code points, every link (text_url_span)
 * counting TEXT_MASTODON_URL_LENGTH however long it is; -1 when s is not valid UTF-8. */
#define TEXT_MASTODON_URL_LENGTH 23
long text_mastodon_length(const char *s, size_t len);

/* 64-bit FNV-1a hash of s[0..len): equal comparison forms hash equal. */
uint64_t text_hash(const char *s, size_t len);

#endif
