/* poller.c: reading messages and engagement counts from the networks (see poller.h). */
#include "engine/poller.h"
#include "core/media.h"
#include "engine/chan.h"
#include "engine/wake.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CURSOR_MAX 512
#define ENGAGEMENT_BATCH 50
#define ENGAGEMENT_ATTEMPTS 5
#define REFRESH_MAX 50               /* copies of one post counted on demand at once */
#define FIELD_MAX 2048               /* bytes of an id, handle, name or link kept */
#define TEXT_MAX 20000               /* bytes of a message's text kept */

struct poller {
    struct core *core;
    struct poller_options opt;
    pthread_t thread;
    int started;
    struct wake wake;
};

struct sink {
    struct core *core;
    const struct store_channel *ch;
    int stored;
};

/* A copy of s cut to max bytes at a character boundary; NULL for NULL. */
static char *cut(const char *s, size_t max)
{
    size_t n;
    char *out;
    if(!s)
        return NULL;
    n = strlen(s);
    if(n > max) {
        n = max;
        while(n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if(!(out = malloc(n + 1)))
        return NULL;
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

static int store_message(const struct channel_message *m, void *arg)
{
    struct sink *k = arg;
    struct store_message sm;
    int inserted = 0, rc;
    if(!m->remote_id || !*m->remote_id || strlen(m->remote_id) > FIELD_MAX || !m->author_id || !*m->author_id ||
       strlen(m->author_id) > FIELD_MAX || !m->kind)
        return SAM_OK;                     /* nothing to file it under: skipped */
    memset(&sm, 0, sizeof(sm));
    sm.workspace_id = k->ch->workspace_id;
    sm.channel_id = k->ch->id;
    snprintf(sm.kind, sizeof(sm.kind), "%s", m->kind);
    sm.remote_id = cut(m->remote_id, FIELD_MAX);
    sm.remote_url = cut(m->remote_url, FIELD_MAX);
    sm.parent_remote_id = cut(m->parent_id, FIELD_MAX);
    sm.root_remote_id = cut(m->root_id, FIELD_MAX);
    sm.thread_id = cut(m->thread_id, FIELD_MAX);
    sm.author_id = cut(m->author_id, FIELD_MAX);
    sm.author_handle = cut(m->author_handle, FIELD_MAX);
    sm.author_name = cut(m->author_name, FIELD_MAX);
    sm.text = cut(m->text ? m->text : "", TEXT_MAX);
    sm.created_at = m->created_at;
    sm.received_at = time_now();
    if(!sm.remote_id || !sm.author_id || !sm.text)
        rc = SAM_ENOMEM;
    else
        rc = store_message_insert(k->core->st, &sm, &inserted);
    if(!rc && inserted) {
        char idbuf[32];
        k->stored++;
        snprintf(idbuf, sizeof(idbuf), "%lld", (long long)sm.id);
        log_kv(LOG_INFO, "message received", "channel", k->ch->name, "kind", sm.kind, "message", idbuf, NULL);
    }
    store_message_cleanup(&sm);
    return rc;
}

/* Reads one channel; 1 when it was read, 0 when it does not read, -1 on failure. */
static int read_channel(struct core *c, const struct poller_options *o, const struct store_channel *ch,
                        struct poller_stats *stats)
{
    struct chan cn;
    struct channel_result res;
    struct sink k = {.core = c, .ch = ch};
    char cursor[CURSOR_MAX], next[CURSOR_MAX];
    int rc;
    const struct channel_ops *ops = channel_ops_for(ch->kind);
    if(strcmp(ch->status, "active") || !ops || !ops->fetch_inbound)
        return 0;                          /* decrypt nothing for channels that do not read */
    if(chan_open(c, ch, o->timeout_ms, o->file_dir, &cn))
        return -1;
    if(store_cursor_get(c->st, ch->id, "inbound", cursor, sizeof(cursor)))
        cursor[0] = '\0';
    channel_result_clear(&res);
    rc = cn.ops->fetch_inbound(&cn.ctx, cursor, store_message, &k, next, sizeof(next), &res);
    stats->messages += k.stored;
    /* The cursor moves only when everything before it was stored. */
    if(!rc && strcmp(next, cursor))
        rc = store_cursor_set(c->st, ch->id, "inbound", next, time_now());
    if(res.reconnect)
        chan_mark_reconnect(c, ch, res.message);
    chan_close(&cn);
    if(rc || res.outcome != CHANNEL_OK) {
        char idbuf[32];
        snprintf(idbuf, sizeof(idbuf), "%lld", (long long)ch->id);
        log_kv(LOG_WARN, "reading the channel failed", "channel", ch->name, "id", idbuf, "error",
               rc ? sam_errmsg(rc) : res.message, NULL);
        return -1;
    }
    return 1;
}

/* Fetches one occurrence's counts into e (remote_id and channel_id set); the outcome is
 * recorded in e (fetched_at, counts, error, next due_at) for store_engagement_record. */
static void count_one(struct core *c, const struct poller_options *o, struct store_engagement *e, int64_t now,
                      struct poller_stats *stats)
{
    struct store_channel ch;
    struct chan cn;
    struct channel_counts counts = {-1, -1, -1, -1};
    struct channel_result res;
    channel_result_clear(&res);
    if(store_channel_get(c->st, e->channel_id, &ch)) {
        snprintf(e->error, sizeof(e->error), "the channel is gone");
        e->fetched_at = now;
        stats->failures++;
        return;
    }
    if(chan_open(c, &ch, o->timeout_ms, o->file_dir, &cn)) {
        channel_result_say(&res, "%s", sam_errmsg(SAM_EINVAL));
    } else {
        if(cn.ops && cn.ops->fetch_counts)
            cn.ops->fetch_counts(&cn.ctx, e->remote_id, &counts, &res);
        else
            channel_result_set(&res, CHANNEL_FAIL, "%s channels have no engagement counts", ch.kind);
        if(res.reconnect)
            chan_mark_reconnect(c, &ch, res.message);
        chan_close(&cn);
    }
    store_channel_cleanup(&ch);
    e->likes = counts.likes;
    e->reposts = counts.reposts;
    e->replies = counts.replies;
    e->quotes = counts.quotes;
    if(res.outcome == CHANNEL_OK) {
        e->fetched_at = now;
        e->error[0] = '\0';
        stats->counts++;
        return;
    }
    /* Tried again later, unless it failed for good or too often: then recorded as
     * fetched, with the error. A channel needing reconnection waits (not due). */
    snprintf(e->error, sizeof(e->error), "%s", res.message);
    if((res.outcome == CHANNEL_FAIL && !res.reconnect) || e->attempts + 1 >= ENGAGEMENT_ATTEMPTS)
        e->fetched_at = now;
    else
        e->due_at = now + (res.retry_after > 0 ? res.retry_after : 60 << e->attempts);
    stats->failures++;
}

int poller_refresh_post(struct core *c, const struct poller_options *o, int64_t post, int *fetched, int *failed)
{
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    int64_t zero = 0, now = time_now();
    struct poller_stats stats;
    int rc = store_occurrence_list(c->st, 0, post, 0, 0, 0, 0, 10000, &occ, &n);
    memset(&stats, 0, sizeof(stats));
    *fetched = *failed = 0;
    if(rc)
        return rc;
    for(size_t i = 0; !rc && i < n && stats.counts + stats.failures < REFRESH_MAX; i++) {
        struct store_engagement e;
        const struct channel_ops *ops;
        struct store_channel ch;
        if(strcmp(occ[i].state, "published") || occ[i].deleted_at || !occ[i].remote_id[0])
            continue;
        if(store_channel_get(c->st, occ[i].channel_id, &ch))
            continue;
        ops = channel_ops_for(ch.kind);
        store_channel_cleanup(&ch);
        if(!ops || !ops->fetch_counts)
            continue;
        if((rc = store_engagement_plan(c->st, occ[i].id, occ[i].published_at, &zero, 1)))
            break;
        memset(&e, 0, sizeof(e));
        e.occurrence_id = occ[i].id;
        e.checkpoint = 0;
        e.channel_id = occ[i].channel_id;
        e.due_at = occ[i].published_at;
        snprintf(e.remote_id, sizeof(e.remote_id), "%s", occ[i].remote_id);
        count_one(c, o, &e, now, &stats);
        e.fetched_at = now;            /* on demand: one try, the outcome kept either way */
        rc = store_engagement_record(c->st, &e);
    }
    free(occ);
    *fetched = stats.counts;
    *failed = stats.failures;
    return rc;
}

static void fetch_counts(struct core *c, const struct poller_options *o, int64_t now, struct poller_stats *stats)
{
    struct store_engagement *due = NULL;
    size_t n = 0;
    if(store_engagement_due(c->st, now, ENGAGEMENT_BATCH, &due, &n))
        return;
    for(size_t i = 0; i < n; i++) {
        count_one(c, o, &due[i], now, stats);
        (void)store_engagement_record(c->st, &due[i]);
    }
    free(due);
}

int poller_run_once(struct core *c, const struct poller_options *o, int64_t ws, int64_t channel, int64_t now,
                    struct poller_stats *stats)
{
    struct store_channel *chans = NULL;
    size_t n = 0;
    int64_t after = 0;
    int rc;
    memset(stats, 0, sizeof(*stats));
    do {
        rc = store_channel_list(c->st, ws, NULL, after, 200, &chans, &n);
        if(rc)
            return rc;
        for(size_t i = 0; i < n; i++) {
            int r;
            after = chans[i].id;
            if(channel && chans[i].id != channel)
                continue;
            r = read_channel(c, o, &chans[i], stats);
            if(r > 0)
                stats->channels++;
            else if(r < 0)
                stats->failures++;
        }
        store_channel_list_free(chans, n);
        chans = NULL;
    } while(n == 200);
    if(!channel)
        fetch_counts(c, o, now, stats);
    return SAM_OK;
}

/* Each second the due engagement fetches are made (they are due at exact times after
 * publishing); the channels are read every interval, or at once when kicked. */
static void *loop(void *arg)
{
    struct poller *p = arg;
    unsigned seen = 0, before = 0;
    int64_t next_read = 0, next_sweep = 0;
    for(;;) {
        struct poller_stats stats;
        int64_t now = time_now();
        int rc = SAM_OK;
        if(wake_begin(&p->wake, &seen))
            break;
        sam_clear();
        memset(&stats, 0, sizeof(stats));
        /* One reader at a time on a database several workers share: the one that holds
         * the lock reads this pass; if it dies its lock goes with its connection. */
        struct store_lock *lk = NULL;
        if(store_try_lock(p->core->st, STORE_LOCK_READER, &lk) == SAM_OK) {
            if(seen != before || now >= next_read) {
                rc = poller_run_once(p->core, &p->opt, 0, 0, now, &stats);
                next_read = now + p->opt.interval_s;
                atomic_fetch_add(&p->core->read_passes, 1);
            } else {
                fetch_counts(p->core, &p->opt, now, &stats);
            }
            if(now >= next_sweep) {
                /* Images no post uses, once they were kept long enough (P16). */
                int64_t keep = p->core->media_keep_s;
                if(core_media_sweep(p->core, now, NULL))
                    log_kv(LOG_WARN, "removing unused images failed", "error", sam_errmsg(SAM_ESTORE), NULL);
                next_sweep = now + (keep < 1 ? 1 : keep < 600 ? keep : 600);
            }
            store_unlock(lk);
        } else {
            sam_clear();
        }
        before = seen;
        if(rc)
            log_kv(LOG_WARN, "reading the channels failed", "error", sam_errmsg(rc), NULL);
        wake_sleep(&p->wake, seen, 1);
    }
    return NULL;
}

int poller_start(struct core *c, const struct poller_options *o, struct poller **out)
{
    struct poller *p = calloc(1, sizeof(*p));
    *out = NULL;
    if(!p)
        return SAM_ENOMEM;
    p->core = c;
    p->opt = *o;
    if(p->opt.interval_s < 1)
        p->opt.interval_s = 60;
    wake_init(&p->wake);
    if(pthread_create(&p->thread, NULL, loop, p)) {
        poller_stop(p);
        return sam_fail(SAM_EINTERNAL, "cannot start the poller's thread");
    }
    p->started = 1;
    *out = p;
    return SAM_OK;
}

void poller_kick(struct poller *p)
{
    if(!p)
        return;
    wake_kick(&p->wake);
}

void poller_stop(struct poller *p)
{
    if(!p)
        return;
    wake_stop(&p->wake);
    if(p->started)
        pthread_join(p->thread, NULL);
    wake_destroy(&p->wake);
    free(p);
}

int poller_parse_checkpoints(const char *text, int64_t *out, size_t *n)
{
    const char *p = text ? text : "";
    *n = 0;
    while(*p) {
        char *end;
        long long v;
        int64_t mult = 1;
        while(*p == ' ' || *p == ',')
            p++;
        if(!*p)
            break;
        if(!isdigit((unsigned char)*p))
            return sam_fail(SAM_EINVAL, "engagement_after must be a list like 1h,24h,7d");
        v = strtoll(p, &end, 10);
        p = end;
        switch(*p) {
        case 's': mult = 1; p++; break;
        case 'm': mult = 60; p++; break;
        case 'h': mult = 3600; p++; break;
        case 'd': mult = 86400; p++; break;
        default: break;
        }
        if(*p && *p != ',' && *p != ' ')
            return sam_fail(SAM_EINVAL, "engagement_after must be a list like 1h,24h,7d");
        if(v < 1 || v > 400LL * 86400 / mult)
            return sam_fail(SAM_EINVAL, "each engagement_after time must be from 1s to 400d");
        if(*n == POLLER_CHECKPOINTS_MAX)
            return sam_fail(SAM_EINVAL, "engagement_after takes at most %d times", POLLER_CHECKPOINTS_MAX);
        out[(*n)++] = (int64_t)v * mult;
    }
    /* Ascending, without repeats. */
    for(size_t i = 1; i < *n; i++)
        for(size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
            int64_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    size_t k = 0;
    for(size_t i = 0; i < *n; i++)
        if(!k || out[k - 1] != out[i])
            out[k++] = out[i];
    *n = k;
    return SAM_OK;
}
