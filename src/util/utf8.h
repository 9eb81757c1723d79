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

#endif
