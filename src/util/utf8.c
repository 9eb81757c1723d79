/* utf8.c: UTF-8 validation and counting (see utf8.h). */
#include "util/utf8.h"

#include <string.h>

long utf8_count(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    long n = 0;
    while(p < end) {
        unsigned c = *p;
        size_t need;
        unsigned cp;
        if(c < 0x80) {
            p++;
            n++;
            continue;
        } else if(c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if(c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if(c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        if((size_t)(end - p) <= need)
            return -1;
        for(size_t i = 1; i <= need; i++) {
            if((p[i] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
           (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        p += need + 1;
        n++;
    }
    return n;
}

int utf8_has_control(const char *s)
{
    for(const unsigned char *p = (const unsigned char *)s; *p; p++)
        if(*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

void utf8_repair(char *s)
{
    size_t len = strlen(s);
    for(size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t need = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
                                 : c >= 0xf0 && c <= 0xf4 ? 3 : 4;
        if(need < 4 && i + need < len && utf8_count(s + i, need + 1) == 1) {
            i += need + 1;
            continue;
        }
        s[i++] = '?';
    }
}

int utf8_prefix(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if(n < max || !s[n])
        return (int)n;
    /* s goes on past max: step back over continuation bytes to the start of the sequence
     * the cut falls in, unless that sequence ends exactly at the cut. */
    size_t start = n;
    while(start > 0 && ((unsigned char)s[start] & 0xC0) == 0x80)
        start--;
    return (int)start;
}
