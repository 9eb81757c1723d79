/*
 * ratelimit.c: login throttling that a flood of requests cannot flush.
 *
 * Three counters watch failed logins over a window of RL_WINDOW seconds:
 *   - per (email, address) pair: RL_PAIR_LIMIT failures lock that pair until the window
 *     ends: a guesser at one address is stopped, the owner elsewhere is not;
 *   - per address (an IPv6 address counts by its /64): RL_ADDR_LIMIT failures lock the
 *     address, whatever email it tries; an IPv6 site (/48) takes RL_NET_LIMIT in all, so
 *     its many /64s cannot fill the table one by one;
 *   - per email alone: never a lock, only a growing delay. Past RL_EMAIL_FREE failures
 *     from anywhere, each attempt must wait 2^(n - RL_EMAIL_FREE) seconds after the last,
 *     at most RL_EMAIL_DELAY_MAX; a browser that logged in to that email before (it shows
 *     the device cookie, see core_device_trusted) skips even that.
 *
 * The table: a fixed array of entries, open addressing with a bounded probe. A key is
 * placed by SipHash under a random key drawn at start and recognised by a keyed BLAKE2b
 * tag, so nobody outside can aim keys at one neighbourhood. An entry inside its window is
 * never evicted: when a key finds no free or expired entry within its probe, the attempt
 * is refused (429) instead, so old counts cannot be pushed out by new ones. Memory is
 * fixed: RL_PROBE entries of 48 bytes times the capacity chosen at start.
 *
 * Check and count are one step (ratelimit_login_gate counts the attempt before the
 * password is checked), so parallel attempts cannot all pass; a successful login gives
 * its count back.
 */
#include "web/web.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RL_PROBE 64

struct rl_entry {
    unsigned char tag[16]; /* keyed hash of the key; all zero = free */
    int64_t start;         /* window start */
    int64_t last;          /* last attempt */
    int count;
    int used;
};

static struct {
    pthread_mutex_t mu;
    struct rl_entry *table;
    size_t cap;
    unsigned char place_key[crypto_shorthash_KEYBYTES];
    unsigned char tag_key[32];
    int ready;
} rl = {.mu = PTHREAD_MUTEX_INITIALIZER};

int ratelimit_init(size_t entries)
{
    struct rl_entry *t;
    if(entries < RL_PROBE)
        entries = RL_PROBE;
    if(entries > (1u << 24))
        return sam_fail(SAM_EINVAL, "the login limiter may hold at most %u entries", 1u << 24);
    t = calloc(entries, sizeof(*t));
    if(!t)
        return SAM_ENOMEM;
    pthread_mutex_lock(&rl.mu);
    free(rl.table);
    rl.table = t;
    rl.cap = entries;
    randombytes_buf(rl.place_key, sizeof(rl.place_key));
    randombytes_buf(rl.tag_key, sizeof(rl.tag_key));
    rl.ready = 1;
    pthread_mutex_unlock(&rl.mu);
    return SAM_OK;
}

/* Under rl.mu: makes the table on first use. */
static int ensure_ready(void)
{
    if(rl.ready)
        return SAM_OK;
    rl.table = calloc(RL_DEFAULT_ENTRIES, sizeof(*rl.table));
    if(!rl.table)
        return SAM_ENOMEM;
    rl.cap = RL_DEFAULT_ENTRIES;
    randombytes_buf(rl.place_key, sizeof(rl.place_key));
    randombytes_buf(rl.tag_key, sizeof(rl.tag_key));
    rl.ready = 1;
    return SAM_OK;
}

static int expired(const struct rl_entry *e, int64_t now)
{
    return !e->used || now - e->start >= RL_WINDOW;
}

/* Under rl.mu: the live entry of key; with create, a free or expired one is taken for it.
 * NULL when there is none (and, with create, when its neighbourhood is full of live
 * entries). */
static struct rl_entry *find(const char *key, int create, int64_t now)
{
    unsigned char place[crypto_shorthash_BYTES], tag[16];
    uint64_t h = 0;
    struct rl_entry *spare = NULL;
    crypto_shorthash(place, (const unsigned char *)key, strlen(key), rl.place_key);
    crypto_generichash(tag, sizeof(tag), (const unsigned char *)key, strlen(key), rl.tag_key, sizeof(rl.tag_key));
    for(size_t i = 0; i < sizeof(h); i++)
        h = h << 8 | place[i];
    for(size_t probe = 0; probe < RL_PROBE; probe++) {
        struct rl_entry *e = &rl.table[(h + probe) % rl.cap];
        if(e->used && !memcmp(e->tag, tag, sizeof(tag))) {
            if(expired(e, now)) {
                e->start = now;
                e->count = 0;
            }
            return e;
        }
        if(!spare && expired(e, now))
            spare = e;
    }
    if(!create || !spare)
        return NULL;
    memcpy(spare->tag, tag, sizeof(tag));
    spare->used = 1;
    spare->start = now;
    spare->last = 0;
    spare->count = 0;
    return spare;
}

/* Frees an entry that holds nothing. */
static void drop_if_empty(struct rl_entry *e)
{
    if(e && e->count <= 0) {
        memset(e, 0, sizeof(*e));
    }
}

/* The address a limit counts by: IPv4 as it is, IPv6 by its /64 (one subscriber). An
 * IPv4 client of a socket listening on [::] comes as ::ffff:a.b.c.d: it counts as its
 * IPv4 address (by its /64 every IPv4 client would share one count). */
static void addr_key(const char *addr, char *out, size_t n)
{
    struct in6_addr a6;
    if(strchr(addr, ':') && inet_pton(AF_INET6, addr, &a6) == 1) {
        if(IN6_IS_ADDR_V4MAPPED(&a6)) {
            char v4[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, a6.s6_addr + 12, v4, sizeof(v4));
            snprintf(out, n, "%s", v4);
            return;
        }
        memset(a6.s6_addr + 8, 0, 8);
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
        snprintf(out, n, "%s/64", buf);
        return;
    }
    snprintf(out, n, "%s", addr);
}

static void email_lower(const char *email, char *out, size_t n)
{
    size_t i;
    for(i = 0; email[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)email[i]);
    out[i] = '\0';
}

struct rl_keys {
    char pair[400], addr[80], email[300];
    char net[80];   /* an IPv6 address's /48 (one site), "" for IPv4 */
};

static void make_keys(const char *email, const char *addr, struct rl_keys *k)
{
    char e[STORE_EMAIL_MAX + 1], a[64];
    email_lower(email, e, sizeof(e));
    addr_key(addr, a, sizeof(a));
    snprintf(k->pair, sizeof(k->pair), "p\n%s\n%s", e, a);
    snprintf(k->addr, sizeof(k->addr), "a\n%s", a);
    snprintf(k->email, sizeof(k->email), "e\n%s", e);
    k->net[0] = '\0';
    {
        struct in6_addr a6;
        if(strchr(addr, ':') && inet_pton(AF_INET6, addr, &a6) == 1 && !IN6_IS_ADDR_V4MAPPED(&a6)) {
            char buf[INET6_ADDRSTRLEN];
            memset(a6.s6_addr + 6, 0, 10);
            inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
            snprintf(k->net, sizeof(k->net), "n\n%s/48", buf);
        }
    }
}

static int wait_of(const struct rl_entry *e, int64_t now)
{
    int64_t w = e->start + RL_WINDOW - now;
    return w < 1 ? 1 : (int)w;
}

/* The delay the email's n-th failure asks before the next attempt. */
static int email_delay(int n)
{
    int over = n - RL_EMAIL_FREE;
    if(over < 0)
        return 0;
    if(over >= 20)
        return RL_EMAIL_DELAY_MAX;
    long d = 1L << over;
    return d > RL_EMAIL_DELAY_MAX ? RL_EMAIL_DELAY_MAX : (int)d;
}

int ratelimit_login_gate(const char *email, const char *addr, int trusted, int64_t now, int *retry_after)
{
    struct rl_keys k;
    struct rl_entry *pair = NULL, *ad = NULL, *em = NULL, *net = NULL;
    int rc = SAM_OK;

    *retry_after = 0;
    make_keys(email, addr, &k);
    pthread_mutex_lock(&rl.mu);
    if((rc = ensure_ready()))
        goto out;
    pair = find(k.pair, 1, now);
    ad = find(k.addr, 1, now);
    em = find(k.email, 1, now);
    net = k.net[0] ? find(k.net, 1, now) : NULL;
    if(!pair || !ad || !em || (k.net[0] && !net)) {
        /* No room without forgetting someone's count: refuse rather than forget. */
        *retry_after = 60;
        rc = sam_fail(SAM_ERATE, "samtale is receiving a great many failed logins and cannot take yours now; "
                                 "try again in a minute");
        goto out;
    }
    if(pair->count >= RL_PAIR_LIMIT) {
        *retry_after = wait_of(pair, now);
        rc = sam_fail(SAM_ERATE, "too many failed logins; try again in %d minutes", (*retry_after + 59) / 60);
        goto out;
    }
    if(net && net->count >= RL_NET_LIMIT) {
        /* A whole IPv6 site (/48): its many addresses cannot fill the table one by one. */
        *retry_after = wait_of(net, now);
        rc = sam_fail(SAM_ERATE, "too many failed logins from your network; try again in %d minutes",
                      (*retry_after + 59) / 60);
        goto out;
    }
    if(ad->count >= RL_ADDR_LIMIT) {
        *retry_after = wait_of(ad, now);
        rc = sam_fail(SAM_ERATE, "too many failed logins from your address; try again in %d minutes",
                      (*retry_after + 59) / 60);
        goto out;
    }
    if(!trusted && em->count >= RL_EMAIL_FREE) {
        int64_t next = em->last + email_delay(em->count);
        if(now < next) {
            *retry_after = (int)(next - now);
            rc = sam_fail(SAM_ERATE, "there were many failed logins to this account; wait %d seconds and try again",
                          *retry_after);
            goto out;
        }
    }
    pair->count++;
    ad->count++;
    em->count++;
    pair->last = ad->last = em->last = now;
    if(net) {
        net->count++;
        net->last = now;
    }
out:
    if(rc) {
        /* Entries made for this attempt and left empty are given back. */
        drop_if_empty(pair);
        drop_if_empty(ad);
        drop_if_empty(em);
        drop_if_empty(net);
    }
    pthread_mutex_unlock(&rl.mu);
    return rc;
}

void ratelimit_login_failed(const char *email, const char *addr, int64_t now)
{
    struct rl_keys k;
    struct rl_entry *e;
    make_keys(email, addr, &k);
    pthread_mutex_lock(&rl.mu);
    /* The email's delay runs from the answer (a password check takes a while). */
    if(rl.ready && (e = find(k.email, 0, now)) && e->last < now)
        e->last = now;
    pthread_mutex_unlock(&rl.mu);
}

void ratelimit_login_succeeded(const char *email, const char *addr, int64_t now)
{
    struct rl_keys k;
    struct rl_entry *e;
    make_keys(email, addr, &k);
    pthread_mutex_lock(&rl.mu);
    if(rl.ready) {
        /* The pair is cleared; the address and the email get this attempt back (other
         * failures on them stay counted: the owner logging in does not reset a guesser). */
        if((e = find(k.pair, 0, now))) {
            e->count = 0;
            drop_if_empty(e);
        }
        if((e = find(k.addr, 0, now)) && e->count > 0) {
            e->count--;
            drop_if_empty(e);
        }
        if((e = find(k.email, 0, now)) && e->count > 0) {
            e->count--;
            drop_if_empty(e);
        }
        if(k.net[0] && (e = find(k.net, 0, now)) && e->count > 0) {
            e->count--;
            drop_if_empty(e);
        }
    }
    pthread_mutex_unlock(&rl.mu);
}

void ratelimit_login_refund(const char *email, const char *addr, int64_t now)
{
    struct rl_keys k;
    const char *keys[4];
    make_keys(email, addr, &k);
    keys[0] = k.pair;
    keys[1] = k.addr;
    keys[2] = k.email;
    keys[3] = k.net;
    pthread_mutex_lock(&rl.mu);
    for(int i = 0; rl.ready && i < 4 && keys[i][0]; i++) {
        struct rl_entry *e = find(keys[i], 0, now);
        if(e && e->count > 0) {
            e->count--;
            drop_if_empty(e);
        }
    }
    pthread_mutex_unlock(&rl.mu);
}

int ratelimit_check(const char *key, int limit, int64_t now, int *retry_after)
{
    struct rl_entry *e;
    int rc = SAM_OK;
    *retry_after = 0;
    pthread_mutex_lock(&rl.mu);
    if((rc = ensure_ready()))
        goto out;
    e = find(key, 1, now);
    if(e && e->count >= limit) {
        *retry_after = wait_of(e, now);
        rc = sam_fail(SAM_ERATE, "too many wrong codes; try again in %d minutes", (*retry_after + 59) / 60);
    } else if(!e) {
        *retry_after = 60;
        rc = sam_fail(SAM_ERATE, "samtale is receiving a great many failed attempts and cannot take yours now; "
                                 "try again in a minute");
    } else {
        e->count++;
        e->last = now;
    }
out:
    pthread_mutex_unlock(&rl.mu);
    return rc;
}

void ratelimit_release(const char *key, int64_t now)
{
    struct rl_entry *e;
    pthread_mutex_lock(&rl.mu);
    if(rl.ready && (e = find(key, 0, now)) && e->count > 0) {
        e->count--;
        drop_if_empty(e);
    }
    pthread_mutex_unlock(&rl.mu);
}

size_t ratelimit_live_entries(int64_t now)
{
    size_t n = 0;
    pthread_mutex_lock(&rl.mu);
    for(size_t i = 0; rl.ready && i < rl.cap; i++)
        n += !expired(&rl.table[i], now);
    pthread_mutex_unlock(&rl.mu);
    return n;
}
