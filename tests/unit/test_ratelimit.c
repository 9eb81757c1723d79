/* test_ratelimit.c: the login limiter (web/ratelimit.c): the three counters, the
 * per-email delay that never locks the owner out, and the review's eviction attack: a
 * flood of keys never pushes a live count out of the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util/err.h"
#include "web/web.h"

#define T0 1800000000

static int gate(const char *email, const char *addr, int trusted, int64_t now, int *retry)
{
    return ratelimit_login_gate(email, addr, trusted, now, retry);
}

static void pair_locks_only_that_pair(void **state)
{
    int retry;
    (void)state;
    assert_int_equal(ratelimit_init(4096), SAM_OK);
    for(int i = 0; i < RL_PAIR_LIMIT; i++)
        assert_int_equal(gate("victim@example.com", "10.0.0.1", 0, T0 + i, &retry), SAM_OK);
    assert_int_equal(gate("victim@example.com", "10.0.0.1", 0, T0 + 10, &retry), SAM_ERATE);
    assert_true(retry > 0 && retry <= RL_WINDOW);
    /* Case does not make a new pair. */
    assert_int_equal(gate("VICTIM@example.com", "10.0.0.1", 0, T0 + 11, &retry), SAM_ERATE);
    /* The owner from elsewhere is slowed at most, never locked: with the device cookie not
     * even slowed. */
    assert_int_equal(gate("victim@example.com", "10.9.9.9", 1, T0 + 12, &retry), SAM_OK);
    ratelimit_login_succeeded("victim@example.com", "10.9.9.9", T0 + 12);
    /* The window passes: the pair may try again. */
    assert_int_equal(gate("victim@example.com", "10.0.0.1", 0, T0 + RL_WINDOW + 1, &retry), SAM_OK);
}

static void address_limit_counts_ipv6_by_64(void **state)
{
    int retry;
    char email[64];
    (void)state;
    assert_int_equal(ratelimit_init(4096), SAM_OK);
    for(int i = 0; i < RL_ADDR_LIMIT; i++) {
        char addr[64];
        snprintf(email, sizeof(email), "user%d@example.com", i);
        /* A different address in the same /64 each time. */
        snprintf(addr, sizeof(addr), "2001:db8:1:2::%x", i + 1);
        assert_int_equal(gate(email, addr, 0, T0, &retry), SAM_OK);
    }
    assert_int_equal(gate("another@example.com", "2001:db8:1:2:ffff::1", 0, T0, &retry), SAM_ERATE);
    assert_int_equal(gate("another@example.com", "2001:db8:1:3::1", 0, T0, &retry), SAM_OK);
}

static void an_ipv6_site_cannot_fill_the_table_one_64_at_a_time(void **state)
{
    int retry;
    char email[64], addr[64];
    (void)state;
    assert_int_equal(ratelimit_init(4096), SAM_OK);
    /* RL_NET_LIMIT failures from as many /64s of one /48, each on its own email. */
    for(int i = 0; i < RL_NET_LIMIT; i++) {
        snprintf(email, sizeof(email), "u%d@example.com", i);
        snprintf(addr, sizeof(addr), "2001:db8:7:%x::1", i + 1);
        assert_int_equal(gate(email, addr, 0, T0, &retry), SAM_OK);
    }
    assert_int_equal(gate("next@example.com", "2001:db8:7:ffff::1", 0, T0, &retry), SAM_ERATE);
    assert_true(retry > 0);
    /* Another site is not held for it, nor is IPv4. */
    assert_int_equal(gate("next@example.com", "2001:db8:8:1::1", 0, T0, &retry), SAM_OK);
    assert_int_equal(gate("next2@example.com", "198.51.100.9", 0, T0, &retry), SAM_OK);
}

static void email_is_slowed_with_a_growing_delay(void **state)
{
    int retry;
    int64_t now = T0;
    (void)state;
    assert_int_equal(ratelimit_init(4096), SAM_OK);
    /* Failures from many addresses: no pair or address limit is reached. */
    for(int i = 0; i < RL_EMAIL_FREE; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "10.1.0.%d", i + 1);
        assert_int_equal(gate("owner@example.com", addr, 0, now, &retry), SAM_OK);
    }
    int last_delay = 0;
    for(int i = 0; i < 12; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "10.2.0.%d", i + 1);
        int rc = gate("owner@example.com", addr, 0, now, &retry);
        if(i == 0) {
            /* The sixth attempt at once must wait one second. */
            assert_int_equal(rc, SAM_ERATE);
            assert_int_equal(retry, 1);
        }
        if(rc == SAM_ERATE) {
            assert_true(retry >= 1 && retry <= RL_EMAIL_DELAY_MAX);
            assert_true(retry >= last_delay || retry == RL_EMAIL_DELAY_MAX);
            last_delay = retry;
            now += retry;
            assert_int_equal(gate("owner@example.com", addr, 0, now, &retry), SAM_OK);
        }
    }
    /* The delay never exceeds the cap: the owner can always try within a minute... */
    assert_int_equal(gate("owner@example.com", "10.3.0.1", 0, now, &retry), SAM_ERATE);
    assert_true(retry <= RL_EMAIL_DELAY_MAX);
    /* ...and a browser that logged in before is not slowed at all. */
    assert_int_equal(gate("owner@example.com", "10.3.0.1", 1, now, &retry), SAM_OK);
}

static void ipv4_mapped_counts_as_its_ipv4_address(void **state)
{
    int retry;
    char email[64], addr[64];
    (void)state;
    /* A server listening on [::] sees IPv4 clients as ::ffff:a.b.c.d. Their /64 is the
     * same for every IPv4 client: counted so, twenty failures anywhere would lock every
     * IPv4 client out, and five on the owner's email would lock the owner out. */
    assert_int_equal(ratelimit_init(4096), SAM_OK);
    for(int i = 0; i < RL_ADDR_LIMIT; i++) {
        snprintf(email, sizeof(email), "sprayed%d@example.com", i);
        snprintf(addr, sizeof(addr), "::ffff:198.51.100.%d", i % 4 + 1);
        if(i < 4)
            assert_int_equal(gate("owner@example.com", addr, 0, T0, &retry), SAM_OK);
        else
            assert_int_equal(gate(email, addr, 0, T0, &retry), SAM_OK);
    }
    /* Another IPv4 client, and the owner from it: neither is locked. */
    assert_int_equal(gate("someone@example.com", "::ffff:203.0.113.9", 0, T0, &retry), SAM_OK);
    assert_int_equal(gate("owner@example.com", "::ffff:203.0.113.9", 1, T0, &retry), SAM_OK);
    /* The mapped form and the plain form are one address. */
    for(int i = 0; i < RL_PAIR_LIMIT; i++)
        assert_int_equal(gate("pair@example.com", "::ffff:192.0.2.50", 0, T0, &retry), SAM_OK);
    assert_int_equal(gate("pair@example.com", "192.0.2.50", 0, T0, &retry), SAM_ERATE);
}

static void eviction_attack_cannot_flush_a_live_count(void **state)
{
    int retry, refused = 0, allowed = 0;
    (void)state;
    /* A small table, so the flood fills it. */
    assert_int_equal(ratelimit_init(256), SAM_OK);
    for(int i = 0; i < RL_PAIR_LIMIT; i++)
        assert_int_equal(gate("target@example.com", "192.0.2.7", 0, T0, &retry), SAM_OK);
    assert_int_equal(gate("target@example.com", "192.0.2.7", 0, T0, &retry), SAM_ERATE);
    /* The flood: ten times the table in new keys (crafted emails from many addresses). */
    for(int i = 0; i < 2560; i++) {
        char email[64], addr[32];
        snprintf(email, sizeof(email), "flood%05d@example.com", i);
        snprintf(addr, sizeof(addr), "198.51.%d.%d", (i / 250) % 250, i % 250 + 1);
        if(gate(email, addr, 0, T0 + 1, &retry) == SAM_OK)
            allowed++;
        else
            refused++;
    }
    assert_true(allowed > 0);
    assert_true(refused > 0);              /* full: new keys are refused... */
    assert_true(ratelimit_live_entries(T0 + 1) <= 256);
    /* ...and the target's count is still there: still locked. */
    assert_int_equal(gate("target@example.com", "192.0.2.7", 0, T0 + 2, &retry), SAM_ERATE);
    assert_true(retry > RL_WINDOW - 10);
    /* Once the window has passed, the old entries make room again. */
    assert_int_equal(gate("newcomer@example.com", "203.0.113.1", 0, T0 + RL_WINDOW + 5, &retry), SAM_OK);
}

static void parallel_attempts_are_counted_before_the_check(void **state)
{
    int retry, passed = 0;
    (void)state;
    assert_int_equal(ratelimit_init(4096), SAM_OK);
    /* Twenty attempts that all arrive before any finishes: only the limit's worth pass. */
    for(int i = 0; i < 20; i++)
        passed += gate("p@example.com", "10.5.5.5", 0, T0, &retry) == SAM_OK;
    assert_int_equal(passed, RL_PAIR_LIMIT);
    /* A refund (the server failed, not the guess) gives one attempt back. */
    ratelimit_login_refund("p@example.com", "10.5.5.5", T0);
    assert_int_equal(gate("p@example.com", "10.5.5.5", 0, T0, &retry), SAM_OK);
}

static void plain_counter(void **state)
{
    int retry;
    (void)state;
    assert_int_equal(ratelimit_init(4096), SAM_OK);
    for(int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_check("code:1", 3, T0, &retry), SAM_OK);
    assert_int_equal(ratelimit_check("code:1", 3, T0, &retry), SAM_ERATE);
    ratelimit_release("code:1", T0);
    assert_int_equal(ratelimit_check("code:1", 3, T0, &retry), SAM_OK);
    assert_int_equal(ratelimit_check("code:2", 3, T0, &retry), SAM_OK);
    assert_int_equal(ratelimit_check("code:1", 3, T0 + RL_WINDOW, &retry), SAM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pair_locks_only_that_pair),
        cmocka_unit_test(address_limit_counts_ipv6_by_64),
        cmocka_unit_test(ipv4_mapped_counts_as_its_ipv4_address),
        cmocka_unit_test(an_ipv6_site_cannot_fill_the_table_one_64_at_a_time),
        cmocka_unit_test(email_is_slowed_with_a_growing_delay),
        cmocka_unit_test(eviction_attack_cannot_flush_a_live_count),
        cmocka_unit_test(parallel_attempts_are_counted_before_the_check),
        cmocka_unit_test(plain_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
