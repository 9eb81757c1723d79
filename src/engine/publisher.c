/* publisher.c: publishing due occurrences (see publisher.h). */
#include "engine/publisher.h"
#include "core/offer.h"
#include "channel/channel.h"
#include "engine/chan.h"
#include "engine/wake.h"
#include "core/post.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One occurrence per claim: its lease has to cover one channel call only. */
#define BATCH 1

struct publisher {
    struct core *core;
    struct publisher_options opt;
    pthread_t *threads;
    int nthreads;
    struct wake wake;
};

int publisher_backoff(int base_s, int attempt)
{
    double base = base_s > 0 ? base_s : 10.0;
    for(int i = 1; i < attempt && base < 3600; i++)
        base *= 2;
    if(base > 3600)
        base = 3600;
    return (int)(base * (0.5 + randombytes_uniform(1000) / 1000.0)) + 1;
}

static void fail_text(char *out, size_t n, const char *fmt, const char *msg, int attempts)
{
    snprintf(out, n, fmt, attempts, msg);
}

/* Deletes a published copy on its channel: a copy published as a thread goes whole, its
 * replies last first, then its first post. 1 when all of it is gone (already gone counts);
 * 0 with *res saying why at the first refusal (what is left stays, for a later try). */
static int remove_copy(struct core *c, const struct channel_ops *ops, const struct channel_ctx *ctx,
                       const struct store_occurrence *prev, struct channel_result *res)
{
    char *parts = NULL;
    json_t *list = NULL;
    int ok = 1;
    if(store_occurrence_parts(c->st, prev->id, &parts)) {
        /* Without its replies' ids, deleting the first post would orphan them: later. */
        channel_result_clear(res);
        channel_result_say(res, "could not read which posts make up the thread: %s", sam_errmsg(SAM_ESTORE));
        return 0;
    }
    if(parts)
        list = json_loads(parts, 0, NULL);
    free(parts);
    for(size_t k = json_array_size(list); ok && k-- > 0;) {
        const char *part = json_string_value(json_array_get(list, k));
        memset(res, 0, sizeof(*res));
        ok = !part || (ops->remove(ctx, part, res) == SAM_OK && res->outcome == CHANNEL_OK);
    }
    json_decref(list);
    if(!ok)
        return 0;
    memset(res, 0, sizeof(*res));
    return ops->remove(ctx, prev->remote_id, res) == SAM_OK && res->outcome == CHANNEL_OK;
}

/* Replace on repost (P4): after a copy of a series went out, the previous copy on the
 * same channel is deleted where the channel can delete (all of a thread). A failure is
 * logged and audited; it never undoes the new copy. */
static void replace_previous(struct core *c, const struct channel_ops *ops, const struct channel_ctx *ctx,
                             const struct store_occurrence *occ)
{
    struct store_series ser;
    struct store_occurrence prev;
    struct channel_result res;
    char idbuf[32];
    if(!occ->series_id || !ops->can_delete || !ops->remove || store_series_get(c->st, occ->series_id, &ser) ||
       !ser.replace_previous)
        return;
    /* Every earlier copy still up goes, newest first: a copy delayed by retries or caps
     * must not outlive the ones after it. At most a series' length of rounds. */
    for(int round = 0; round < 1000; round++) {
        struct actor sys = {.system = 1};
        json_t *d;
        if(store_occurrence_previous(c->st, occ->series_id, occ->channel_id, occ->planned_at, &prev))
            return;
        snprintf(idbuf, sizeof(idbuf), "%lld", (long long)prev.id);
        if(remove_copy(c, ops, ctx, &prev, &res)) {
            if(store_occurrence_mark_deleted(c->st, prev.id, time_now()))
                return;
            log_kv(LOG_INFO, "previous copy deleted", "occurrence", idbuf, "remote_id", prev.remote_id, NULL);
            continue;
        }
        d = json_pack("{s:I, s:s}", "occurrence_id", (json_int_t)prev.id, "error", res.message);
        snprintf(sys.label, sizeof(sys.label), "publisher");
        log_kv(LOG_WARN, "previous copy not deleted", "occurrence", idbuf, "error", res.message, NULL);
        core_audit(c, &sys, occ->workspace_id, "post.replace_failed", ctx->channel->name, d);
        json_decref(d);
        return;
    }
}

/* Tells every webhook channel of the workspace that asked for "post.failed" (in its
 * settings.events) that an occurrence failed for good. One attempt each, signed like a
 * post, with a key derived from the occurrence so a receiver can drop a repeat. */
static void notify_failed(struct core *c, const struct publisher_options *o, const struct store_channel *failed,
                          const struct store_occurrence *occ, const char *error)
{
    struct store_channel *chans = NULL;
    size_t n = 0;
    char key[80];
    if(store_channel_list(c->st, failed->workspace_id, "webhook", 0, 1000, &chans, &n))
        return;
    snprintf(key, sizeof(key), "evt-failed-%s", occ->idempotency_key);
    for(size_t i = 0; i < n; i++) {
        const struct channel_ops *ops = channel_ops_for(chans[i].kind);
        json_t *settings = json_loads(chans[i].settings ? chans[i].settings : "{}", 0, NULL), *ev, *e;
        size_t k;
        int wants = 0;
        char *secret = NULL;
        size_t secret_len = 0;
        json_array_foreach(json_object_get(settings, "events"), k, e) if(!strcmp(json_string_value(e), "post.failed"))
            wants = 1;
        if(wants && ops && ops->notify &&
           !(chans[i].secret && core_secret_open(c, chans[i].secret, chans[i].secret_len, &secret, &secret_len))) {
            struct channel_ctx ctx = {.channel = &chans[i], .settings = settings, .secret = secret,
                                      .secret_len = secret_len, .file_dir = o->file_dir, .timeout_ms = o->timeout_ms};
            struct channel_result res;
            ev = json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:o, s:o}", "type", "post.failed", "occurrence_id",
                           (json_int_t)occ->id, "post_id", (json_int_t)occ->post_id, "channel_id",
                           (json_int_t)failed->id, "channel", failed->name, "error", error, "planned_at",
                           view_time(occ->planned_at), "at", view_time(time_now()));
            memset(&res, 0, sizeof(res));
            if(ev && (ops->notify(&ctx, ev, key, &res) || res.outcome != CHANNEL_OK))
                log_kv(LOG_WARN, "post.failed event not delivered", "channel", chans[i].name, "error", res.message,
                       NULL);
            json_decref(ev);
        }
        if(secret) {
            sodium_memzero(secret, secret_len);
            free(secret);
        }
        json_decref(settings);
    }
    store_channel_list_free(chans, n);
}

/* Publishes one claimed occurrence and records the outcome. */
static void publish_one(struct core *c, const struct publisher_options *o, const char *owner,
                        const struct store_occurrence *occ)
{
    struct store_channel ch;
    struct store_post post;
    struct channel_result res;
    struct store_outcome out;
    const struct channel_ops *ops;
    char *text = NULL, *secret = NULL, msg[600], idbuf[32];
    size_t secret_len = 0, npm = 0;
    struct store_post_media *pm = NULL;
    struct channel_media *media = NULL;
    json_t *settings = NULL;
    int64_t now;
    int rc, have_post = 0, have_channel = 0;

    memset(&res, 0, sizeof(res));
    memset(&out, 0, sizeof(out));
    rc = store_channel_get(c->st, occ->channel_id, &ch);
    if(!rc) {
        have_channel = 1;
        rc = store_post_get(c->st, occ->post_id, &post);
        have_post = !rc;
    }
    if(rc) {
        res.outcome = CHANNEL_RETRY;
        channel_result_say(&res, "cannot read the post or channel: %.400s", sam_errmsg(rc));
        goto record;
    }
    ops = channel_ops_for(ch.kind);
    if(!ops || !ops->can_publish) {
        res.outcome = CHANNEL_FAIL;
        channel_result_say(&res,
                 "samtale cannot publish to %s channels yet; move the post to another channel", ch.kind);
        goto record;
    }
    if(ch.secret && core_secret_open(c, ch.secret, ch.secret_len, &secret, &secret_len)) {
        res.outcome = CHANNEL_FAIL;
        channel_result_say(&res,
                 "the channel's secret cannot be decrypted (was the key file replaced?); enter the secret again");
        goto record;
    }
    settings = json_loads(ch.settings ? ch.settings : "{}", 0, NULL);
    text = core_post_text_for(&post, occ->variant);
    if(!text || !settings) {
        res.outcome = CHANNEL_RETRY;
        channel_result_say(&res, "out of memory");
        goto record;
    }
    if(offer_wanted(text)) {
        /* This channel's own offer code where the text says {offer} (P15). */
        char code[OFFER_CODE_MAX + 1];
        char *applied;
        rc = store_offer_code(c->st, occ->post_id, occ->channel_id, code, sizeof(code));
        if(rc) {
            res.outcome = CHANNEL_RETRY;
            channel_result_say(&res, "cannot read the offer code: %.400s", sam_errmsg(rc));
            goto record;
        }
        if(!code[0]) {
            res.outcome = CHANNEL_FAIL;
            channel_result_say(&res,
                     "the text says {offer} but this channel has no offer code; edit the post and give it one");
            goto record;
        }
        if(!(applied = offer_apply(text, code))) {
            res.outcome = CHANNEL_RETRY;
            channel_result_say(&res, "out of memory");
            goto record;
        }
        free(text);
        text = applied;
    }
    /* The post's images (P16), with their bytes, for this one call. */
    rc = store_post_media_list(c->st, occ->post_id, 1, &pm, &npm);
    if(!rc && npm && !(media = calloc(npm, sizeof(*media))))
        rc = SAM_ENOMEM;
    if(rc) {
        res.outcome = CHANNEL_RETRY;
        channel_result_say(&res, "cannot read the post's images: %.400s", sam_errmsg(rc));
        goto record;
    }
    for(size_t i = 0; i < npm; i++)
        media[i] = (struct channel_media){pm[i].media.id, pm[i].media.data, (size_t)pm[i].media.bytes, pm[i].media.type,
                                          pm[i].media.width, pm[i].media.height, pm[i].media.frames,
                                          pm[i].media.sha256, pm[i].alt ? pm[i].alt : ""};
    if(npm) {
        /* Each image is a call or more (an upload, a wait for the network to process it):
         * the lease covers them, so no other worker takes the occurrence meanwhile. */
        int64_t more = (int64_t)(2 + 3 * npm) * (o->timeout_ms / 1000 + 1) + 60;
        if(store_occurrence_extend_lease(c->st, occ->id, owner, time_now() + more))
            log_kv(LOG_WARN, "lease not extended", "error", sam_errmsg(SAM_ESTORE), NULL);
    }
    {
        struct channel_ctx ctx = {.channel = &ch, .settings = settings, .secret = secret,
                                  .secret_len = secret_len, .file_dir = o->file_dir, .timeout_ms = o->timeout_ms};
        struct channel_post cp = {.occurrence_id = occ->id, .post_id = occ->post_id, .planned_at = occ->planned_at,
                                  .text = text, .link = post.link, .idempotency_key = occ->idempotency_key,
                                  .media = media, .nmedia = npm};
        rc = ops->publish(&ctx, &cp, &res);
        if(rc && res.outcome == CHANNEL_OK) {
            res.outcome = CHANNEL_FAIL;
            channel_result_say(&res, "%s", sam_errmsg(rc));
        }
    }
record:
    now = time_now();
    switch(res.outcome) {
    case CHANNEL_OK:
        out.state = "published";
        out.remote_id = res.remote_id[0] ? res.remote_id : NULL;
        out.remote_url = res.remote_url[0] ? res.remote_url : NULL;
        out.remote_parts = res.parts[0] ? res.parts : NULL;
        out.published_at = now;
        out.next_attempt_at = now;
        break;
    case CHANNEL_RETRY:
        if(occ->attempts >= o->max_attempts) {
            out.state = "failed";
            fail_text(msg, sizeof(msg), N_("gave up after %d attempts: %s"), res.message, occ->attempts);
            out.error = msg;
        } else {
            out.state = "scheduled";
            out.next_attempt_at = now + (res.retry_after > 0 ? res.retry_after : publisher_backoff(o->backoff_s, occ->attempts));
            out.error = res.message;
        }
        break;
    default:
        if(res.reconnect && have_channel) {
            /* Nothing is lost: the occurrence waits, scheduled, until the channel is
             * reconnected (the claim skips channels that are not active). The channel is
             * marked first, so no other worker claims it again meanwhile. */
            chan_mark_reconnect(c, &ch, res.message);
            out.state = "scheduled";
            out.next_attempt_at = now;
            out.error = res.message;
            break;
        }
        out.state = "failed";
        out.error = res.message[0] ? res.message : N_("the channel refused the post");
        break;
    }
    rc = store_occurrence_finish(c->st, occ->id, owner, &out);
    if(!rc && res.outcome == CHANNEL_OK && have_channel && o->ncheckpoints && res.remote_id[0]) {
        const struct channel_ops *cops = channel_ops_for(ch.kind);
        if(cops && cops->fetch_counts &&
           store_engagement_plan(c->st, occ->id, now, o->checkpoints, o->ncheckpoints))
            log_kv(LOG_WARN, "engagement fetches not planned", "error", sam_errmsg(SAM_ESTORE), NULL);
    }
    /* What follows a recorded outcome needs no lease: replace the previous copy (P4). */
    if(!rc && res.outcome == CHANNEL_OK && have_channel && have_post && settings) {
        const struct channel_ops *rops = channel_ops_for(ch.kind);
        struct channel_ctx ctx = {.channel = &ch, .settings = settings, .secret = secret,
                                  .secret_len = secret_len, .file_dir = o->file_dir, .timeout_ms = o->timeout_ms};
        if(rops)
            replace_previous(c, rops, &ctx, occ);
    }
    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)occ->id);
    if(rc)
        log_kv(LOG_WARN, "publish result not recorded", "occurrence", idbuf, "error", sam_errmsg(rc), NULL);
    else if(res.outcome == CHANNEL_OK)
        log_kv(LOG_INFO, "published", "occurrence", idbuf, "channel", ch.name, "remote_id", res.remote_id, NULL);
    else
        log_kv(res.outcome == CHANNEL_RETRY && strcmp(out.state, "failed") ? LOG_INFO : LOG_WARN,
               !strcmp(out.state, "failed") ? "publish failed" : "publish will retry", "occurrence", idbuf,
               "channel", have_channel ? ch.name : "?", "error", out.error, NULL);
    if(!rc && !strcmp(out.state, "failed") && have_channel) {
        struct actor sys = {.system = 1};
        snprintf(sys.label, sizeof(sys.label), "publisher");
        json_t *d = json_pack("{s:I, s:I, s:s}", "occurrence_id", (json_int_t)occ->id, "post_id",
                              (json_int_t)occ->post_id, "error", out.error);
        core_audit(c, &sys, ch.workspace_id, "post.failed", ch.name, d);
        json_decref(d);
        notify_failed(c, o, &ch, occ, out.error);
    }
    if(secret) {
        sodium_memzero(secret, secret_len);
        free(secret);
    }
    free(text);
    free(media);
    store_post_media_list_free(pm, npm);
    json_decref(settings);
    if(have_post)
        store_post_cleanup(&post);
    if(have_channel)
        store_channel_cleanup(&ch);
}

int publisher_run_once(struct core *c, const struct publisher_options *o, const char *owner, int64_t now,
                       int *done)
{
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    int rc;
    *done = 0;
    do {
        rc = store_occurrence_claim(c->st, now, owner, o->lease_seconds, BATCH, &occ, &n);
        if(rc)
            return rc;
        for(size_t i = 0; i < n; i++)
            publish_one(c, o, owner, &occ[i]);
        *done += (int)n;
        free(occ);
        occ = NULL;
    } while(n == BATCH);
    return SAM_OK;
}

struct worker_arg {
    struct publisher *p;
    int index;
};

static void *worker(void *arg)
{
    struct worker_arg *wa = arg;
    struct publisher *p = wa->p;
    char owner[48], tag[8];
    snprintf(tag, sizeof(tag), "p%d", wa->index);
    engine_owner_name(owner, sizeof(owner), tag);
    free(wa);
    for(;;) {
        int done = 0;
        unsigned seen;
        if(wake_begin(&p->wake, &seen))
            break;
        sam_clear();
        int rc = publisher_run_once(p->core, &p->opt, owner, time_now(), &done);
        if(rc)
            log_kv(LOG_WARN, "publisher pass failed", "error", sam_errmsg(rc), NULL);
        else
            atomic_fetch_add(&p->core->publish_passes, 1);
        if(!done)
            wake_sleep(&p->wake, seen, 1);
    }
    return NULL;
}

int publisher_start(struct core *c, const struct publisher_options *o, struct publisher **out)
{
    struct publisher *p = calloc(1, sizeof(*p));
    int released = 0, rc;
    char num[16];
    *out = NULL;
    if(!p)
        return SAM_ENOMEM;
    p->core = c;
    p->opt = *o;
    wake_init(&p->wake);
    rc = store_occurrence_release_leases(c->st, &released);
    if(rc) {
        publisher_stop(p);
        return rc;
    }
    if(released) {
        snprintf(num, sizeof(num), "%d", released);
        log_kv(LOG_INFO, "resolving occurrences left in flight", "count", num, NULL);
    }
    p->threads = calloc((size_t)o->workers, sizeof(*p->threads));
    if(!p->threads) {
        publisher_stop(p);
        return SAM_ENOMEM;
    }
    for(int i = 0; i < o->workers; i++) {
        struct worker_arg *wa = malloc(sizeof(*wa));
        if(wa) {
            wa->p = p;
            wa->index = i;
        }
        if(!wa || pthread_create(&p->threads[i], NULL, worker, wa)) {
            free(wa);
            publisher_stop(p);
            return sam_fail(SAM_EINTERNAL, "cannot start the publisher's threads");
        }
        p->nthreads++;
    }
    *out = p;
    return SAM_OK;
}

void publisher_kick(struct publisher *p)
{
    if(!p)
        return;
    wake_kick(&p->wake);
}

void publisher_stop(struct publisher *p)
{
    if(!p)
        return;
    wake_stop(&p->wake);
    for(int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    wake_destroy(&p->wake);
    free(p);
}
