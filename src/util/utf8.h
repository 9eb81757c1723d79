/* utf8.h: UTF-8 checks used when validating names and text. Full normalising and
 * grapheme work lives in text/. */
#ifndef SAM_UTF8_H
#define SAM_UTF8_H

#include <stddef.h>

/* Number of code points in s[0..len), or -1 when s is not valid UTF-8 (overlong forms,
 * surrogates and code points past U+10FFFF are invalid). */
long utf8_count(const char *s, size_t len);

/* 1 when s contains a C0 control character (other than none allowed) or DEL. */
int utf8_has_control(const char *s);

/* The length of the longest prefix of s of at most max bytes that does not end inside a
 * UTF-8 sequence: "%.*s" with it cuts a text on a character. */
int utf8_prefix(const char *s, size_t max);

/* Makes the NUL-terminated s valid UTF-8 in place: each byte that does not start a valid
 * sequence (a sequence cut short by truncation, a stray continuation byte) becomes '?'.
 * The length does not change. For messages that quote what people sent. */
void utf8_repair(char *s);

#endif
