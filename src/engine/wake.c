/* wake.c: sleeping and waking the engine's loops (see wake.h). */
#include "engine/wake.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char owner_host[64];
static time_t owner_start;
static uint32_t owner_random;

static void owner_start_init(void)
{
    if(gethostname(owner_host, sizeof(owner_host)) || !owner_host[0])
        snprintf(owner_host, sizeof(owner_host), "localhost");
    owner_host[sizeof(owner_host) - 1] = '\0';
    owner_host[strcspn(owner_host, ":")] = '\0';
    owner_start = time(NULL);
    /* Containers often run as PID 1 on hosts named alike, started in the same second:
     * a random part keeps two processes' names apart. */
    owner_random = randombytes_random();
}

#include <time.h>

void wake_init(struct wake *w)
{
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->stopping = 0;
    w->kicks = 0;
}

void wake_destroy(struct wake *w)
{
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

void wake_kick(struct wake *w)
{
    pthread_mutex_lock(&w->mu);
    w->kicks++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void wake_stop(struct wake *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int wake_begin(struct wake *w, unsigned *seen)
{
    int stop;
    pthread_mutex_lock(&w->mu);
    stop = w->stopping;
    *seen = w->kicks;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

void wake_sleep(struct wake *w, unsigned seen, int seconds)
{
    pthread_mutex_lock(&w->mu);
    if(!w->stopping && w->kicks == seen) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += seconds;
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    pthread_mutex_unlock(&w->mu);
}

void engine_owner_name(char *out, size_t n, const char *tag)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, owner_start_init);
    /* The host's name ends in what tells replicas apart (pod-name suffixes): its last
     * 12 characters are kept. */
    size_t hl = strlen(owner_host);
    snprintf(out, n, "%s:%d:%lld:%.4s:%08x", owner_host + (hl > 12 ? hl - 12 : 0), (int)getpid(),
             (long long)owner_start, tag, (unsigned)owner_random);
}
