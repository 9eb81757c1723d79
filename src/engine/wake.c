/* wake.c: sleeping and waking the engine's loops (see wake.h). */
#include "engine/wake.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char owner_host[64];
static time_t owner_start;

static void owner_start_init(void)
{
    if(gethostname(owner_host, sizeof(owner_host)) || !owner_host[0])
        snprintf(owner_host, sizeof(owner_host), "localhost");
    owner_host[sizeof(owner_host) - 1] = '\0';
    owner_host[strcspn(owner_host, ":")] = '\0';
    owner_start = time(NULL);
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
    snprintf(out, n, "%.20s:%d:%lld:%.5s", owner_host, (int)getpid(), (long long)owner_start, tag);
}
