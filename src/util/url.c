/*
 * url.c: percent-encoding (url.h). Moved here from channel/http.c so that layers below
 * channel/ can encode without depending on the HTTP client.
 */
#include "util/url.h"
#include "util/err.h"

int url_escape(const char *s, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    if(!n)
        return sam_fail(SAM_ETOOBIG, "no room to escape into");
    for(const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                    *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if(o + (plain ? 1 : 3) >= n) {
            out[0] = '\0';
            return sam_fail(SAM_ETOOBIG, "the text does not fit in a URL of this size");
        }
        if(plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return SAM_OK;
}
