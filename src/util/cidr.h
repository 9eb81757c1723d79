/*
 * cidr.h: lists of address ranges ("10.0.0.0/8, 192.168.1.5, fd00::/8"), as settings name
 * them: the outbound policy's allow list (util/netpolicy.c) and the reverse proxies the
 * HTTP server trusts to say who the client is (web/server.c). A list is a fixed array,
 * parsed once from text and read by any thread afterwards.
 */
#ifndef SAM_CIDR_H
#define SAM_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

#define CIDR_LIST_MAX 32

struct cidr_range {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network order; 4 bytes used for IPv4 */
    int bits;
};

struct cidr_list {
    struct cidr_range r[CIDR_LIST_MAX];
    size_t n;
};

/* 1 when the first `bits` bits of the addresses a and b (network order) are equal. */
int cidr_prefix_eq(const unsigned char *a, const unsigned char *b, int bits);
/* Parses a comma- or space-separated list of addresses or CIDR ranges into *out ("" or
 * NULL: an empty list). SAM_EINVAL names the setting and the bad entry; *out is then
 * unchanged. */
int cidr_list_parse(const char *text, const char *setting, struct cidr_list *out);
/* 1 when sa falls in a range of l (an IPv4-mapped IPv6 address matches IPv4 ranges). */
int cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa);
/* The same for an address written as text; 0 for text that is not an IP address. */
int cidr_list_match_text(const struct cidr_list *l, const char *ip);

#endif
