/* test_netpolicy.c: the outbound address policy's decision (util/netpolicy.c), as a table
 * of addresses and what samtale does with them. Nothing here opens a connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"
#include "util/netpolicy.h"

static const struct {
    const char *ip;
    enum netpolicy_class c;
} table[] = {
    /* IPv4 */
    {"0.0.0.0", NETPOLICY_UNSPECIFIED},
    {"0.1.2.3", NETPOLICY_UNSPECIFIED},
    {"10.0.0.1", NETPOLICY_PRIVATE},
    {"10.255.255.255", NETPOLICY_PRIVATE},
    {"100.63.255.255", NETPOLICY_PUBLIC},
    {"100.64.0.1", NETPOLICY_SHARED},
    {"100.127.255.255", NETPOLICY_SHARED},
    {"100.128.0.0", NETPOLICY_PUBLIC},
    {"127.0.0.1", NETPOLICY_LOOPBACK},
    {"127.255.0.9", NETPOLICY_LOOPBACK},
    {"169.254.169.254", NETPOLICY_LINK_LOCAL},
    {"172.15.255.255", NETPOLICY_PUBLIC},
    {"172.16.0.1", NETPOLICY_PRIVATE},
    {"172.31.255.255", NETPOLICY_PRIVATE},
    {"172.32.0.0", NETPOLICY_PUBLIC},
    {"192.0.0.8", NETPOLICY_RESERVED},
    {"192.0.2.1", NETPOLICY_RESERVED},
    {"192.88.99.1", NETPOLICY_RESERVED},
    {"192.168.1.1", NETPOLICY_PRIVATE},
    {"198.18.0.1", NETPOLICY_RESERVED},
    {"198.19.255.255", NETPOLICY_RESERVED},
    {"198.20.0.0", NETPOLICY_PUBLIC},
    {"198.51.100.7", NETPOLICY_RESERVED},
    {"203.0.113.9", NETPOLICY_RESERVED},
    {"224.0.0.1", NETPOLICY_MULTICAST},
    {"239.255.255.250", NETPOLICY_MULTICAST},
    {"240.0.0.1", NETPOLICY_RESERVED},
    {"255.255.255.255", NETPOLICY_RESERVED},
    {"1.1.1.1", NETPOLICY_PUBLIC},
    {"8.8.8.8", NETPOLICY_PUBLIC},
    {"193.69.0.1", NETPOLICY_PUBLIC},
    /* IPv6 */
    {"::", NETPOLICY_UNSPECIFIED},
    {"0::0", NETPOLICY_UNSPECIFIED},
    {"0:0:0:0:0:0:0:0", NETPOLICY_UNSPECIFIED},
    {"::1", NETPOLICY_LOOPBACK},
    {"0:0:0:0:0:0:0:1", NETPOLICY_LOOPBACK},
    {"::ffff:127.0.0.1", NETPOLICY_LOOPBACK},       /* IPv4-mapped */
    {"::ffff:7f00:1", NETPOLICY_LOOPBACK},
    {"::ffff:10.1.2.3", NETPOLICY_PRIVATE},
    {"::ffff:169.254.169.254", NETPOLICY_LINK_LOCAL},
    {"::ffff:0.0.0.0", NETPOLICY_UNSPECIFIED},
    {"::ffff:8.8.8.8", NETPOLICY_PUBLIC},
    {"::127.0.0.1", NETPOLICY_LOOPBACK},            /* IPv4-compatible */
    {"::10.0.0.1", NETPOLICY_PRIVATE},
    {"::8.8.8.8", NETPOLICY_PUBLIC},
    {"64:ff9b::127.0.0.1", NETPOLICY_LOOPBACK},     /* NAT64 well-known prefix */
    {"64:ff9b::a9fe:a9fe", NETPOLICY_LINK_LOCAL},
    {"64:ff9b::8.8.8.8", NETPOLICY_PUBLIC},
    {"64:ff9b:1::1", NETPOLICY_PRIVATE},            /* NAT64 local use */
    {"2002:7f00:1::", NETPOLICY_LOOPBACK},          /* 6to4 of 127.0.0.1 */
    {"2002:c0a8:101::1", NETPOLICY_PRIVATE},        /* 6to4 of 192.168.1.1 */
    {"2002:808:808::1", NETPOLICY_PUBLIC},          /* 6to4 of 8.8.8.8 */
    {"2001::1", NETPOLICY_RESERVED},                /* Teredo */
    {"2001:0:4136:e378:8000:63bf:3fff:fdd2", NETPOLICY_RESERVED},
    {"2001:2::1", NETPOLICY_RESERVED},
    {"2001:db8::1", NETPOLICY_RESERVED},
    {"2001:10::1", NETPOLICY_RESERVED},
    {"3fff::1", NETPOLICY_RESERVED},
    {"100::1", NETPOLICY_RESERVED},
    {"fc00::1", NETPOLICY_PRIVATE},
    {"fd12:3456::1", NETPOLICY_PRIVATE},
    {"fe80::1", NETPOLICY_LINK_LOCAL},
    {"febf::1", NETPOLICY_LINK_LOCAL},
    {"fec0::1", NETPOLICY_PRIVATE},
    {"ff02::1", NETPOLICY_MULTICAST},
    {"ff0e::1", NETPOLICY_MULTICAST},
    {"4000::1", NETPOLICY_RESERVED},                /* outside 2000::/3 */
    {"2a00:1450:4001:80b::200e", NETPOLICY_PUBLIC},
    {"2606:4700:4700::1111", NETPOLICY_PUBLIC},
    {"2001:4860:4860::8888", NETPOLICY_PUBLIC},
};

static void classify_table(void **state)
{
    (void)state;
    netpolicy_configure(0, NULL);
    for(size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
        const struct sockaddr *sa;
        memset(&v4, 0, sizeof(v4));
        memset(&v6, 0, sizeof(v6));
        if(inet_pton(AF_INET, table[i].ip, &v4.sin_addr) == 1) {
            v4.sin_family = AF_INET;
            sa = (const struct sockaddr *)&v4;
        } else {
            assert_int_equal(inet_pton(AF_INET6, table[i].ip, &v6.sin6_addr), 1);
            v6.sin6_family = AF_INET6;
            sa = (const struct sockaddr *)&v6;
        }
        enum netpolicy_class c = netpolicy_classify(sa);
        if(c != table[i].c)
            fail_msg("%s: class %d, expected %d", table[i].ip, (int)c, (int)table[i].c);
        int rc = netpolicy_allowed(sa);
        if((rc == SAM_OK) != (table[i].c == NETPOLICY_PUBLIC))
            fail_msg("%s: decision %d", table[i].ip, rc);
        assert_int_equal(netpolicy_allowed_text(table[i].ip), rc);
    }
}

static void unknown_family_is_refused(void **state)
{
    struct sockaddr sa;
    (void)state;
    memset(&sa, 0, sizeof(sa));
    sa.sa_family = AF_UNIX;
    netpolicy_configure(1, NULL);
    assert_int_equal(netpolicy_allowed(&sa), SAM_EPERM); /* even with the policy off */
    assert_int_equal(netpolicy_allowed(NULL), SAM_EPERM);
    netpolicy_configure(0, NULL);
}

static void message_says_what_kind_of_address(void **state)
{
    (void)state;
    netpolicy_configure(0, NULL);
    assert_int_equal(netpolicy_allowed_text("::"), SAM_EPERM);
    assert_non_null(strstr(sam_errmsg(SAM_EPERM), "this machine"));
    assert_int_equal(netpolicy_allowed_text("169.254.169.254"), SAM_EPERM);
    assert_non_null(strstr(sam_errmsg(SAM_EPERM), "link-local"));
    assert_int_equal(netpolicy_allowed_text("not-an-ip"), SAM_EINVAL);
}

static void policy_off_allows_everything_but_unknown(void **state)
{
    (void)state;
    assert_int_equal(netpolicy_configure(1, NULL), SAM_OK);
    assert_int_equal(netpolicy_private_allowed(), 1);
    assert_int_equal(netpolicy_allowed_text("127.0.0.1"), SAM_OK);
    assert_int_equal(netpolicy_allowed_text("::"), SAM_OK);
    assert_int_equal(netpolicy_allowed_text("10.0.0.1"), SAM_OK);
    assert_int_equal(netpolicy_configure(0, NULL), SAM_OK);
    assert_int_equal(netpolicy_private_allowed(), 0);
    assert_int_equal(netpolicy_allowed_text("127.0.0.1"), SAM_EPERM);
}

static void allow_list_names_private_ranges(void **state)
{
    (void)state;
    assert_int_equal(netpolicy_configure(0, "10.0.0.5, 192.168.0.0/16 fd00::/8"), SAM_OK);
    assert_int_equal(netpolicy_allowed_text("10.0.0.5"), SAM_OK);
    assert_int_equal(netpolicy_allowed_text("::ffff:10.0.0.5"), SAM_OK); /* mapped form of an allowed one */
    assert_int_equal(netpolicy_allowed_text("10.0.0.6"), SAM_EPERM);
    assert_int_equal(netpolicy_allowed_text("192.168.44.3"), SAM_OK);
    assert_int_equal(netpolicy_allowed_text("192.169.0.1"), SAM_OK);     /* public anyway */
    assert_int_equal(netpolicy_allowed_text("fd12::1"), SAM_OK);
    assert_int_equal(netpolicy_allowed_text("fc00::1"), SAM_EPERM);
    assert_int_equal(netpolicy_allowed_text("127.0.0.1"), SAM_EPERM);
    /* Bad entries leave the settings as they were. */
    assert_int_equal(netpolicy_configure(0, "10.0.0.0/33"), SAM_EINVAL);
    assert_non_null(strstr(sam_errmsg(SAM_EINVAL), "10.0.0.0/33"));
    assert_int_equal(netpolicy_configure(0, "example.com"), SAM_EINVAL);
    assert_int_equal(netpolicy_configure(0, "10.0.0.0/"), SAM_EINVAL);
    assert_int_equal(netpolicy_configure(0, "::1/129"), SAM_EINVAL);
    assert_int_equal(netpolicy_allowed_text("10.0.0.5"), SAM_OK);
    {
        char many[2000] = "";
        for(int i = 0; i < NETPOLICY_ALLOW_MAX + 1; i++) {
            char one[24];
            snprintf(one, sizeof(one), "10.0.%d.1,", i);
            strcat(many, one);
        }
        assert_int_equal(netpolicy_configure(0, many), SAM_EINVAL);
    }
    assert_int_equal(netpolicy_configure(0, ""), SAM_OK);
    assert_int_equal(netpolicy_allowed_text("10.0.0.5"), SAM_EPERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classify_table),
        cmocka_unit_test(unknown_family_is_refused),
        cmocka_unit_test(message_says_what_kind_of_address),
        cmocka_unit_test(policy_off_allows_everything_but_unknown),
        cmocka_unit_test(allow_list_names_private_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
