/*
 * ratelimit.c: failed-login counting per key ("email:..." or "addr:...") over a fixed
 * 15-minute window, in a fixed-size table (a flood of keys evicts the oldest windows
 * rather than growing memory).
 */
#include "web/web.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define SLOTS 4096
#define WINDOW 900

struct rl_slot {
    unsigned char key[16];
    int64_t start;
    int count;
};

static struct rl_slot table[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static struct rl_slot *find(const char *key, int create, int64_t now)
{
    unsigned char h[16];
    crypto_generichash(h, sizeof(h), (const unsigned char *)key, strlen(key), NULL, 0);
    size_t i = ((size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16) % SLOTS;
    struct rl_slot *oldest = NULL;
    for(size_t probe = 0; probe < 8; probe++) {
        struct rl_slot *s = &table[(i + probe) % SLOTS];
        if(s->count && !memcmp(s->key, h, sizeof(h))) {
            if(now - s->start >= WINDOW)
                s->count = 0;
            return s;
        }
        /* Prefer a free slot, else the oldest window. */
        if(!oldest || (oldest->count && (!s->count || s->start < oldest->start)))
            oldest = s;
    }
    if(!create)
        return NULL;
    memcpy(oldest->key, h, sizeof(h));
    oldest->start = now;
    oldest->count = 0;
    return oldest;
}

int ratelimit_check(const char *key, int limit, int *retry_after)
{
    int64_t now = time_now();
    int rc = SAM_OK;
    pthread_mutex_lock(&mu);
    struct rl_slot *s = find(key, 1, now);
    if(s->count == 0)
        s->start = now;
    if(s->count >= limit) {
        *retry_after = (int)(s->start + WINDOW - now);
        if(*retry_after < 1)
            *retry_after = 1;
        rc = sam_fail(SAM_ERATE, "too many failed logins; try again in %d minutes",
                      (*retry_after + 59) / 60);
    } else {
        s->count++; /* counted now, in the same step: parallel attempts cannot all pass */
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

void ratelimit_release(const char *key)
{
    pthread_mutex_lock(&mu);
    struct rl_slot *s = find(key, 0, time_now());
    if(s && s->count > 0)
        s->count--;
    pthread_mutex_unlock(&mu);
}

void ratelimit_reset(const char *key)
{
    pthread_mutex_lock(&mu);
    struct rl_slot *s = find(key, 0, time_now());
    if(s)
        s->count = 0;
    pthread_mutex_unlock(&mu);
}
