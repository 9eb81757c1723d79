/*
 * plan.c: the next free slot of a channel, from where the last search ended (see plan.h
 * for the method and why it gives the answer a search from scratch gives).
 *
 * The marks live in a small table shared by the process's threads (a mutex guards it; the
 * store is asked with the mutex let go). Entries are allocated when first needed and
 * reused, least recently used first; they stay reachable until the process ends.
 */
#include "core/plan.h"
#include "util/err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_MARKS 64
#define SEARCH_DAYS 371              /* slots_next_free: 53 windows of a week after after + 1 */
#define WEEK (7 * 86400)
#define WINDOW_MAX (SLOTS_MAX * 2 + 16) /* instants a week can hold: 8 local days at most */

struct mark {
    uint64_t store;               /* store_serial; 0: unused */
    int64_t channel;
    struct slot s[SLOTS_MAX];
    size_t n;
    char zone[STORE_TZ_MAX + 1];
    /* Every slot instant in (base, upto] is taken; freed: the channel's count then. */
    int known;
    int64_t base, upto, freed;
    /* The slot instants in [from, to), ascending (to == from: none computed). */
    int64_t from, to;
    int64_t inst[WINDOW_MAX];
    size_t ninst;
    uint64_t used;
};

static struct {
    pthread_mutex_t mu;
    struct mark *m[PLAN_MARKS];
    uint64_t tick;
} marks = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};

static int same_slots(const struct mark *m, const struct slot *s, size_t n, const char *zone)
{
    return m->n == n && !memcmp(m->s, s, n * sizeof(*s)) && !strcmp(m->zone, zone);
}

/* Copies the table's mark for (store, channel) into *out when it is for these slots and
 * zone; else makes *out a fresh one. */
static void mark_get(uint64_t store, int64_t channel, const struct slot *s, size_t n, const char *zone,
                     struct mark *out)
{
    int hit = 0;
    pthread_mutex_lock(&marks.mu);
    for(size_t i = 0; i < PLAN_MARKS && !hit; i++) {
        struct mark *m = marks.m[i];
        if(m && m->store == store && m->channel == channel && same_slots(m, s, n, zone)) {
            m->used = ++marks.tick;
            *out = *m;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&marks.mu);
    if(hit)
        return;
    memset(out, 0, sizeof(*out));
    out->store = store;
    out->channel = channel;
    memcpy(out->s, s, n * sizeof(*s));
    out->n = n;
    snprintf(out->zone, sizeof(out->zone), "%s", zone);
}

/* Stores m in the table: over the entry of its (store, channel), else in a new or the
 * least recently used one. Out of memory leaves the table as it was (a mark is a hint). */
static void mark_put(const struct mark *m)
{
    size_t at = PLAN_MARKS;
    pthread_mutex_lock(&marks.mu);
    for(size_t i = 0; i < PLAN_MARKS; i++) {
        struct mark *e = marks.m[i];
        if(e && e->store == m->store && e->channel == m->channel) {
            at = i;
            break;
        }
        if(at == PLAN_MARKS || (marks.m[at] && (!e || e->used < marks.m[at]->used)))
            at = i;
    }
    if(!marks.m[at])
        marks.m[at] = malloc(sizeof(*marks.m[at]));
    if(marks.m[at]) {
        *marks.m[at] = *m;
        marks.m[at]->used = ++marks.tick;
    }
    pthread_mutex_unlock(&marks.mu);
}

/* Makes m's instants those of the week from `from` on. */
static int window_at(struct mark *m, int64_t from)
{
    int rc = slots_between(m->s, m->n, m->zone, from, from + WEEK, m->inst, WINDOW_MAX, &m->ninst);
    if(rc) {
        m->from = m->to = 0;
        m->ninst = 0;
        return rc;
    }
    m->from = from;
    m->to = from + WEEK;
    return SAM_OK;
}

int plan_next_slot(struct core *c, const struct store_channel *ch, const struct slot *s, size_t n, int64_t after,
                   int64_t *at, struct plan_found *found)
{
    struct mark *m = malloc(sizeof(*m));
    int64_t end = after + 1 + (int64_t)SEARCH_DAYS * 86400, start, t, freed = 0, *taken = NULL;
    size_t nt = 0, ti = 0;
    int rc = SAM_ENOTFOUND;

    if(!m)
        return SAM_ENOMEM;
    if(n == 0) {
        free(m);
        return SAM_ENOTFOUND;
    }
    mark_get(store_serial(c->st), ch->id, s, n, ch->timezone, m);
    /* From the end of the run of taken slots when the mark still holds, else from after. */
    start = m->known && m->base <= after && m->upto > after ? m->upto : after;
    for(;;) {
        int r = store_channel_taken(c->st, ch->id, start, end, &taken, &nt, &freed);
        if(r) {
            free(m);
            return r;
        }
        if(start == after || freed == m->freed)
            break;
        /* Something let go of an instant since the mark was made: search from after. */
        free(taken);
        taken = NULL;
        m->known = 0;
        start = after;
    }
    for(t = start; t + 1 < end && rc == SAM_ENOTFOUND;) {
        size_t i = 0;
        if(m->to == m->from || t + 1 < m->from || t + 1 >= m->to) {
            int r = window_at(m, t + 1);
            if(r) {
                rc = r;
                break;
            }
        }
        while(i < m->ninst && m->inst[i] <= t)
            i++;
        for(; i < m->ninst && rc == SAM_ENOTFOUND; i++) {
            int64_t x = m->inst[i];
            if(x >= end)
                break;
            while(ti < nt && taken[ti] < x)
                ti++;
            if(ti < nt && taken[ti] == x)
                continue;
            *at = x;
            rc = SAM_OK;
        }
        if(rc == SAM_ENOTFOUND)
            t = m->to - 1;
    }
    free(taken);
    if(rc == SAM_OK) {
        /* Every slot instant in (start, *at) was seen taken in this snapshot, and those in
         * (base, start] by the mark it kept. */
        if(start == after || !m->known)
            m->base = after;
        m->known = 1;
        m->upto = *at - 1;
        m->freed = freed;
        if(found) {
            found->channel = ch->id;
            found->base = m->base;
            found->at = *at;
            found->freed = freed;
            found->store = m->store;
        }
    }
    if(rc == SAM_OK || rc == SAM_ENOTFOUND)
        mark_put(m);
    free(m);
    return rc;
}

void plan_taken(struct core *c, const struct plan_found *found)
{
    (void)c;
    pthread_mutex_lock(&marks.mu);
    for(size_t i = 0; i < PLAN_MARKS; i++) {
        struct mark *m = marks.m[i];
        if(m && m->store == found->store && m->channel == found->channel) {
            /* Only the mark this search left extends: one made since may say otherwise. */
            if(m->known && m->base == found->base && m->freed == found->freed && m->upto == found->at - 1)
                m->upto = found->at;
            break;
        }
    }
    pthread_mutex_unlock(&marks.mu);
}
