/*
 * url.h: percent-encoding (RFC 3986), the one encoder of samtale.
 *
 * Everything but the unreserved characters (A-Z a-z 0-9 - . _ ~) is written %XX with
 * upper-case hex digits, byte by byte, so UTF-8 text becomes its encoded octets. The same
 * output is right for a query value, a path segment and a label that must not contain
 * '/', ':', '?', '&' or '=' as such. The HTTP client (channel/http.c, http_escape) and
 * core/ (the otpauth:// URI of core/totp.c) both call this.
 */
#ifndef SAM_URL_H
#define SAM_URL_H

#include <stddef.h>

/* Percent-encodes the C string s into out (n bytes, NUL-terminated). SAM_ETOOBIG (and
 * out "" when n > 0) when the result and its NUL do not fit; the caller sizes out at
 * 3 * strlen(s) + 1 to never see that. Nothing is allocated. */
int url_escape(const char *s, char *out, size_t n);

#endif
