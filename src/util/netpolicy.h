/*
 * netpolicy.h: the one outbound address policy of samtale.
 *
 * Every connection samtale opens because a member named an address (feeds and feed
 * discovery, webhooks, Mastodon instances, Bluesky servers, Jetstream, SMTP, and later
 * link previews and media) is decided here, on the address it is about to connect to,
 * after DNS: a name that resolves to a private address is refused like the address
 * itself, and each redirect is a new connection decided again. The HTTP client
 * (channel/http.c), the mail client and the WebSocket client call netpolicy_allowed()
 * from the point where the socket is opened, so nothing can skip it.
 *
 * Refused by default: loopback (127/8, ::1), unspecified (0/8, ::), private networks
 * (10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10), link-local (169.254/16, fe80::/10),
 * shared address space (100.64/10), multicast (224/4, ff00::/8), and the other special
 * purpose ranges of IANA's registries (documentation, benchmarking, reserved, broadcast,
 * NAT64 local use, discard, ORCHID, Teredo). IPv6 forms that carry an IPv4 address
 * (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4
 * 2002:AABB:CCDD::) are judged by the IPv4 address they carry.
 *
 * Settings (netpolicy_configure, once at start from samtale.conf): allow_private turns
 * the policy off (test peers on 127.0.0.1); an allow list of CIDR ranges lets the
 * operator name the private addresses samtale may reach (a mail relay on 10.0.0.5, say).
 * Thread-safe: the settings are replaced as a whole, and readers see one or the other.
 */
#ifndef SAM_NETPOLICY_H
#define SAM_NETPOLICY_H

#include <stddef.h>
#include <sys/socket.h>

enum netpolicy_class {
    NETPOLICY_PUBLIC = 0,
    NETPOLICY_LOOPBACK,
    NETPOLICY_UNSPECIFIED,
    NETPOLICY_PRIVATE,
    NETPOLICY_LINK_LOCAL,
    NETPOLICY_SHARED,
    NETPOLICY_MULTICAST,
    NETPOLICY_RESERVED,     /* documentation, benchmarking, broadcast, future use, ... */
    NETPOLICY_UNKNOWN       /* not IPv4 or IPv6 (a Unix socket, say) */
};

#define NETPOLICY_ALLOW_MAX 32  /* CIDR ranges in the allow list (CIDR_LIST_MAX) */

/* What kind of address sa is (IPv6 forms that carry IPv4 are judged by that IPv4). */
enum netpolicy_class netpolicy_classify(const struct sockaddr *sa);

/* A short name of a class for people: "this machine", "a private network", ... */
const char *netpolicy_class_name(enum netpolicy_class c);

/* Replaces the settings. allow is a comma- or space-separated list of CIDR ranges or
 * single addresses ("10.0.0.5, fd00::/8"), or NULL/"" for none; SAM_EINVAL (naming the
 * bad entry) leaves the settings as they were. */
int netpolicy_configure(int allow_private, const char *allow);

/* 1 when the policy is off (allow_private). */
int netpolicy_private_allowed(void);

/* The decision: SAM_OK when samtale may connect to sa; SAM_EPERM otherwise, with a
 * message for people that names the kind of address (never the setting's internals). */
int netpolicy_allowed(const struct sockaddr *sa);

/* The same decision for an address written as text ("::ffff:127.0.0.1", "10.1.2.3"):
 * SAM_EINVAL when it is not a numeric IPv4 or IPv6 address. For tests and messages. */
int netpolicy_allowed_text(const char *ip);

#endif
