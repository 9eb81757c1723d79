/*
 * wake.h: how the engine's loops sleep and are woken: a loop works, then sleeps up to a
 * few seconds unless someone kicked it meanwhile (something became due) or it is being
 * stopped. Kicks are counted, so one that arrives while the loop works is not lost.
 */
#ifndef SAM_ENGINE_WAKE_H
#define SAM_ENGINE_WAKE_H

#include <pthread.h>
#include <stddef.h>

struct wake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    unsigned kicks;
};

void wake_init(struct wake *w);
void wake_destroy(struct wake *w);
/* Wakes every loop sleeping on w now (and the next one to sleep, once). */
void wake_kick(struct wake *w);
/* Asks the loops to end; they see it in wake_begin. */
void wake_stop(struct wake *w);
/* At the top of a pass: 1 when the loop must end; else *seen gets the kicks so far. */
int wake_begin(struct wake *w, unsigned *seen);
/* At the end of a pass: sleeps up to seconds, unless stopping or kicked since seen. */
void wake_sleep(struct wake *w, unsigned seen, int seconds);

/* The name a worker's leases carry: host:pid:start:tag:random (the host's last 12
 * characters, start the Unix time this process first asked, tag up to 4 characters, 32
 * random bits of this process), so a lease tells which machine and which run of which
 * process holds it, and two processes never share one. Fits in 48 bytes. */
void engine_owner_name(char *out, size_t n, const char *tag);

#endif
