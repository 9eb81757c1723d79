/*
 * plan.h: the next free slot of a channel (PRODUCT.md P1) in time that does not grow with
 * the queue; inside core/ (post.c places posts with it).
 *
 * The answer is the one slots_next_free gives over every occurrence the channel holds from
 * `after` on, a year ahead: the first slot instant after `after` that no scheduled,
 * in-flight or published occurrence of the channel holds. Found from scratch, that reads
 * the whole queue and turns every week of it into instants (ICU), each time a post is
 * placed; a queue filled slot after slot makes that quadratic. So each process keeps, per
 * channel, a mark: "every slot instant in (base, upto] is taken", with the channel's
 * count of instants let go (channels.freed, kept by a trigger: an occurrence cancelled,
 * failed or moved) at the moment that was read. Occurrences added since only take more
 * slots; while the count is the same, none was let go; so the search starts at upto and
 * reads only the occurrences after it. The count and the occurrences come from one
 * statement (one snapshot), and placing runs under the planning lock, so no other planner
 * takes the slot found before it is stored. A mark is also dropped when the channel's
 * slots or time zone change, or the store is another one.
 *
 * The slot instants themselves are kept a week at a time per channel (turning wall times
 * into instants is the costly part), keyed by the slots and the time zone only: they do
 * not depend on the queue.
 */
#ifndef SAM_CORE_PLAN_H
#define SAM_CORE_PLAN_H

#include "core/core.h"

/* What a search saw, for plan_taken once the slot it found is stored. */
struct plan_found {
    int64_t channel;
    int64_t base;    /* every slot instant in (base, at) was taken */
    int64_t at;      /* the free slot found */
    int64_t freed;   /* the channel's count of instants let go, when that was read */
    uint64_t store;  /* store_serial */
};

/* The first slot instant of ch (slots s[0..n), sorted and unique, in ch->timezone) after
 * `after` and before after + 1 + 371 days (where slots_next_free looks) that no
 * occurrence of ch holds: *at. SAM_ENOTFOUND (no message) when every one is taken or
 * there are no slots. *found (may be NULL) gets what plan_taken needs. */
int plan_next_slot(struct core *c, const struct store_channel *ch, const struct slot *s, size_t n, int64_t after,
                   int64_t *at, struct plan_found *found);

/* Tells the planner that the slot plan_next_slot found is now held by an occurrence that
 * was stored (call it after the insert committed, still under the planning lock). */
void plan_taken(struct core *c, const struct plan_found *found);

#endif
