/* cidr.c: lists of address ranges (see cidr.h). */
#include "util/cidr.h"
#include "util/err.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cidr_prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if(memcmp(a, b, (size_t)whole))
        return 0;
    if(!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* Parses "addr" or "addr/bits" into r. */
static int parse_range(const char *text, struct cidr_range *r)
{
    char tmp[64];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    long bits = -1;
    if(n == 0 || n >= sizeof(tmp))
        return SAM_EINVAL;
    memcpy(tmp, text, n);
    tmp[n] = '\0';
    memset(r, 0, sizeof(*r));
    if(inet_pton(AF_INET, tmp, r->addr) == 1)
        r->family = AF_INET;
    else if(inet_pton(AF_INET6, tmp, r->addr) == 1)
        r->family = AF_INET6;
    else
        return SAM_EINVAL;
    if(slash) {
        char *end;
        if(!isdigit((unsigned char)slash[1]))
            return SAM_EINVAL;
        bits = strtol(slash + 1, &end, 10);
        if(*end || bits < 0 || bits > (r->family == AF_INET ? 32 : 128))
            return SAM_EINVAL;
    }
    r->bits = bits >= 0 ? (int)bits : (r->family == AF_INET ? 32 : 128);
    return SAM_OK;
}

int cidr_list_parse(const char *text, const char *setting, struct cidr_list *out)
{
    struct cidr_list l;
    const char *p = text ? text : "";
    memset(&l, 0, sizeof(l));
    while(*p) {
        char item[80];
        size_t n = strcspn(p, ", \t");
        if(n == 0) {
            p++;
            continue;
        }
        if(n >= sizeof(item) || l.n == CIDR_LIST_MAX)
            return sam_fail(SAM_EINVAL, "%s: give at most %d addresses or ranges such as 10.0.0.5 or fd00::/8",
                            setting, CIDR_LIST_MAX);
        memcpy(item, p, n);
        item[n] = '\0';
        p += n;
        if(parse_range(item, &l.r[l.n]))
            return sam_fail(SAM_EINVAL, "%s: '%.64s' is not an address or a range such as 10.0.0.0/8", setting,
                            item);
        l.n++;
    }
    *out = l;
    return SAM_OK;
}

int cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa)
{
    const unsigned char *b4 = NULL, *b6 = NULL;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if(!sa)
        return 0;
    if(sa->sa_family == AF_INET) {
        b4 = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr;
    } else if(sa->sa_family == AF_INET6) {
        b6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        if(!memcmp(b6, mapped, 12))
            b4 = b6 + 12;
    }
    for(size_t i = 0; i < l->n; i++) {
        const struct cidr_range *r = &l->r[i];
        if(r->family == AF_INET && b4 && cidr_prefix_eq(b4, r->addr, r->bits))
            return 1;
        if(r->family == AF_INET6 && b6 && cidr_prefix_eq(b6, r->addr, r->bits))
            return 1;
    }
    return 0;
}

int cidr_list_match_text(const struct cidr_list *l, const char *ip)
{
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    memset(&v4, 0, sizeof(v4));
    memset(&v6, 0, sizeof(v6));
    if(inet_pton(AF_INET, ip, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        return cidr_list_match(l, (const struct sockaddr *)&v4);
    }
    if(inet_pton(AF_INET6, ip, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        return cidr_list_match(l, (const struct sockaddr *)&v6);
    }
    return 0;
}
