/*
 * netpolicy.c: the outbound address policy (see netpolicy.h). Ranges follow IANA's IPv4
 * and IPv6 Special-Purpose Address Registries; an address is public only when it falls
 * in none of them. The allow list is kept as (address, prefix length) pairs and checked
 * before the classes, so an operator can name a private relay without turning the
 * policy off.
 */
#include "util/netpolicy.h"
#include "util/i18n.h"
#include "util/cidr.h"
#include "util/err.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct settings {
    int allow_private;
    struct cidr_list allow;
};

static struct settings cur;
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

static enum netpolicy_class classify_v4(uint32_t a)
{
    static const struct {
        uint32_t net;
        int bits;
        enum netpolicy_class c;
    } v4[] = {
        {0x00000000u, 8, NETPOLICY_UNSPECIFIED},  /* 0.0.0.0/8 "this network" */
        {0x0A000000u, 8, NETPOLICY_PRIVATE},      /* 10/8 */
        {0x64400000u, 10, NETPOLICY_SHARED},      /* 100.64/10 carrier-grade NAT */
        {0x7F000000u, 8, NETPOLICY_LOOPBACK},     /* 127/8 */
        {0xA9FE0000u, 16, NETPOLICY_LINK_LOCAL},  /* 169.254/16 (cloud metadata lives here) */
        {0xAC100000u, 12, NETPOLICY_PRIVATE},     /* 172.16/12 */
        {0xC0000000u, 24, NETPOLICY_RESERVED},    /* 192.0.0/24 IETF protocol assignments */
        {0xC0000200u, 24, NETPOLICY_RESERVED},    /* 192.0.2/24 documentation */
        {0xC0586300u, 24, NETPOLICY_RESERVED},    /* 192.88.99/24 6to4 relay anycast */
        {0xC0A80000u, 16, NETPOLICY_PRIVATE},     /* 192.168/16 */
        {0xC6120000u, 15, NETPOLICY_RESERVED},    /* 198.18/15 benchmarking */
        {0xC6336400u, 24, NETPOLICY_RESERVED},    /* 198.51.100/24 documentation */
        {0xCB007100u, 24, NETPOLICY_RESERVED},    /* 203.0.113/24 documentation */
        {0xE0000000u, 4, NETPOLICY_MULTICAST},    /* 224/4 */
        {0xF0000000u, 4, NETPOLICY_RESERVED},     /* 240/4 future use, 255.255.255.255 */
    };
    for(size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        uint32_t mask = v4[i].bits ? 0xFFFFFFFFu << (32 - v4[i].bits) : 0;
        if((a & mask) == v4[i].net)
            return v4[i].c;
    }
    return NETPOLICY_PUBLIC;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum netpolicy_class classify_v6(const unsigned char *b)
{
    static const unsigned char zero[16] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    static const struct {
        unsigned char p[16];
        int bits;
        enum netpolicy_class c;
    } v6[] = {
        {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, NETPOLICY_PRIVATE},   /* 64:ff9b:1::/48 local NAT64 */
        {{0x01, 0x00}, 64, NETPOLICY_RESERVED},                          /* 100::/64 discard */
        {{0x20, 0x01, 0x00, 0x00}, 32, NETPOLICY_RESERVED},              /* 2001::/32 Teredo */
        {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, NETPOLICY_RESERVED},  /* 2001:2::/48 benchmarking */
        {{0x20, 0x01, 0x00, 0x10}, 28, NETPOLICY_RESERVED},              /* 2001:10::/28 ORCHID */
        {{0x20, 0x01, 0x00, 0x20}, 28, NETPOLICY_RESERVED},              /* 2001:20::/28 ORCHIDv2 */
        {{0x20, 0x01, 0x0d, 0xb8}, 32, NETPOLICY_RESERVED},              /* 2001:db8::/32 documentation */
        {{0x3f, 0xff}, 20, NETPOLICY_RESERVED},                          /* 3fff::/20 documentation */
        {{0x5f, 0x00}, 16, NETPOLICY_RESERVED},                          /* 5f00::/16 SRv6 SIDs */
        {{0xfc}, 7, NETPOLICY_PRIVATE},                                  /* fc00::/7 unique local */
        {{0xfe, 0x80}, 10, NETPOLICY_LINK_LOCAL},                        /* fe80::/10 */
        {{0xfe, 0xc0}, 10, NETPOLICY_PRIVATE},                           /* fec0::/10 site-local */
        {{0xff}, 8, NETPOLICY_MULTICAST},                                /* ff00::/8 */
    };
    if(!memcmp(b, zero, 16))
        return NETPOLICY_UNSPECIFIED;
    if(!memcmp(b, zero, 15) && b[15] == 1)
        return NETPOLICY_LOOPBACK;
    /* Forms that carry an IPv4 address: judged by it. */
    if(!memcmp(b, mapped, 12) || !memcmp(b, zero, 12) || !memcmp(b, nat64, 12))
        return classify_v4(be32(b + 12));
    if(b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4: 2002:AABB:CCDD:: carries AA.BB.CC.DD */
        return classify_v4(be32(b + 2));
    for(size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
        if(cidr_prefix_eq(b, v6[i].p, v6[i].bits))
            return v6[i].c;
    /* Outside 2000::/3 nothing is assigned for global unicast. */
    if((b[0] & 0xe0) != 0x20)
        return NETPOLICY_RESERVED;
    return NETPOLICY_PUBLIC;
}

enum netpolicy_class netpolicy_classify(const struct sockaddr *sa)
{
    if(!sa)
        return NETPOLICY_UNKNOWN;
    if(sa->sa_family == AF_INET)
        return classify_v4(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
    if(sa->sa_family == AF_INET6)
        return classify_v6(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
    return NETPOLICY_UNKNOWN;
}

const char *netpolicy_class_name(enum netpolicy_class c)
{
    switch(c) {
    case NETPOLICY_PUBLIC:
        return N_("a public address");
    case NETPOLICY_LOOPBACK:
        return N_("this machine");
    case NETPOLICY_UNSPECIFIED:
        return N_("an unspecified address (it means this machine)");
    case NETPOLICY_PRIVATE:
        return N_("a private network");
    case NETPOLICY_LINK_LOCAL:
        return N_("a link-local address");
    case NETPOLICY_SHARED:
        return N_("a carrier's shared network");
    case NETPOLICY_MULTICAST:
        return N_("a multicast address");
    case NETPOLICY_RESERVED:
        return N_("a reserved address");
    case NETPOLICY_UNKNOWN:
        break;
    }
    return "an address that is not on the internet";
}

int netpolicy_configure(int allow_private, const char *allow)
{
    struct settings s;
    int rc;
    memset(&s, 0, sizeof(s));
    s.allow_private = allow_private != 0;
    if((rc = cidr_list_parse(allow, "outbound_allow", &s.allow)))
        return rc;
    pthread_rwlock_wrlock(&lock);
    cur = s;
    pthread_rwlock_unlock(&lock);
    return SAM_OK;
}

int netpolicy_private_allowed(void)
{
    int v;
    pthread_rwlock_rdlock(&lock);
    v = cur.allow_private;
    pthread_rwlock_unlock(&lock);
    return v;
}

int netpolicy_allowed(const struct sockaddr *sa)
{
    enum netpolicy_class c = netpolicy_classify(sa);
    int ok;
    if(c == NETPOLICY_PUBLIC)
        return SAM_OK;
    pthread_rwlock_rdlock(&lock);
    ok = cur.allow_private || cidr_list_match(&cur.allow, sa);
    pthread_rwlock_unlock(&lock);
    if(ok && c != NETPOLICY_UNKNOWN)
        return SAM_OK;
    return sam_fail(SAM_EPERM, "samtale does not connect to %s for this; ask the person who runs samtale if it "
                               "should", _(netpolicy_class_name(c)));
}

int netpolicy_allowed_text(const char *ip)
{
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    memset(&v4, 0, sizeof(v4));
    memset(&v6, 0, sizeof(v6));
    if(inet_pton(AF_INET, ip, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        return netpolicy_allowed((const struct sockaddr *)&v4);
    }
    if(inet_pton(AF_INET6, ip, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        return netpolicy_allowed((const struct sockaddr *)&v6);
    }
    return sam_fail(SAM_EINVAL, "'%.64s' is not an IP address", ip);
}
