/*
 * queue_bench.c: time to plan and check a queue of 10,000 posts on 20 channels (issue:
 * bench/), in one process:
 *   plan+check  every post created through core_post_create at its channel's next free
 *               slot, each checked against the queue around it (P5-P8), as the API does;
 *   queue check core_queue_check over the whole queue (P9);
 *   batch       the same posts planned and checked the same way through post_batch, BATCH
 *               a transaction (as a CSV import of that many rows), with the same channels;
 *   reference   the same 10,000 posts stored with store_post_insert at precomputed
 *               times, no placement and no checks: the storage floor.
 *
 *   build/queue_bench [POSTS] [CHANNELS]
 *
 * Each of plan+check, batch and reference runs in a database of its own, files in a new
 * folder under $TMPDIR (default /tmp), as a server's would be, so that each grows with its
 * own posts only (in one database, the batch's 20,000 posts met the 20,000 planned before
 * them in the indexes they share, and the ratio measured both). Every post planned one by
 * one is a durable commit (SQLite, synchronous=FULL), so the disk's flush time is part of
 * what is measured. The last line is for scripts (bench/queue.sh):
 *   result posts=N plan_s=S check_s=S ref_s=S plan_cpu_s=S ref_cpu_s=S warned=N blocked=N
 *          batch_s=S batch_cpu_s=S
 * (*_cpu_s: the processor time this process spent, which other work on the machine does
 * not stretch the way it stretches the elapsed time.)
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/post.h"
#include "util/err.h"
#include "util/timeutil.h"

#define BATCH 1000 /* posts a transaction in the batch run: an import of 1,000 rows */

static const char *words[] = {"delivery", "customers", "Oslo", "Bergen", "spring", "coffee", "team", "launch",
                              "webinar", "guide", "recipe", "blåbær", "hiking", "service", "store", "winter",
                              "summer", "design", "tips", "story", "podcast", "event", "volunteers", "recycling",
                              "packaging", "support", "question", "answer", "review", "workshop", "city", "north"};

/* Processor time of this process, in seconds. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_text(int i, char *out, size_t n)
{
    unsigned s = (unsigned)i * 2654435761u;
    size_t used = (size_t)snprintf(out, n, "Post %d:", i);
    for(int k = 0; k < 12 && used < n - 20; k++) {
        s = s * 1103515245u + 12345u;
        used += (size_t)snprintf(out + used, n - used, " %s", words[(s >> 16) % 32]);
    }
}

int main(int argc, char **argv)
{
    int posts = argc > 1 ? atoi(argv[1]) : 10000, nch = argc > 2 ? atoi(argv[2]) : 20, blocked = 0, warned = 0;
    char dir[256], path[300], text[400];
    const char *tmp = getenv("TMPDIR");
    struct core c, cb, cr;
    struct actor sys = {.system = 1};
    struct store_workspace w, w2, w3;
    int64_t *chans, now = time_now();
    int v;
    double t0, c0, plan_s, check_s, ref_s, plan_cpu, ref_cpu, batch_s, batch_cpu;
    int64_t *bchans;
    json_t *slots = json_array(), *viol = NULL;

    snprintf(dir, sizeof(dir), "%s/samtale-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if(sodium_init() < 0 || !mkdtemp(dir))
        return 1;
    /* Each run in a database of its own, so that each grows with its own posts only. */
    {
        struct core *cs[3] = {&c, &cb, &cr};
        static const char *const names[3] = {"plan.db", "batch.db", "ref.db"};
        for(int k = 0; k < 3; k++) {
            memset(cs[k], 0, sizeof(*cs[k]));
            snprintf(path, sizeof(path), "%s/%s", dir, names[k]);
            if(store_open(path, &cs[k]->st) || store_migrate(cs[k]->st, &v))
                return 1;
            snprintf(path, sizeof(path), "%s/key", dir);
            core_key_load(cs[k], NULL, path);
        }
    }
    snprintf(sys.label, sizeof(sys.label), "bench");
    if(core_workspace_create(&c, &sys, "Bench", "Europe/Oslo", &w) ||
       core_workspace_create(&cr, &sys, "Reference", "Europe/Oslo", &w2) ||
       core_workspace_create(&cb, &sys, "Batch", "Europe/Oslo", &w3))
        return 1;
    /* Seven slots a day, every day: 08:00 to 20:00, two hours apart. */
    for(int d = 0; d < 7; d++)
        for(int h = 8; h <= 20; h += 2) {
            static const char *dn[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
            char s[16];
            snprintf(s, sizeof(s), "%s %02d:00", dn[d], h);
            json_array_append_new(slots, json_string(s));
        }
    chans = calloc((size_t)nch, sizeof(*chans));
    bchans = calloc((size_t)nch, sizeof(*bchans));
    for(int i = 0; i < 2 * nch; i++) {
        struct store_channel ch;
        json_t *settings = json_pack("{s:s}", "path", "bench.jsonl");
        char name[32];
        snprintf(name, sizeof(name), "channel %d", i % nch);
        struct channel_input in = {.kind = "file", .name = name, .settings = settings, .slots = slots};
        if(core_channel_create(i < nch ? &c : &cb, &sys, i < nch ? w.id : w3.id, &in, &ch))
            return fprintf(stderr, "channel: %s\n", sam_errmsg(1)), 1;
        if(i < nch)
            chans[i] = ch.id;
        else
            bchans[i - nch] = ch.id;
        store_channel_cleanup(&ch);
        json_decref(settings);
    }

    t0 = time_mono();
    c0 = cpu_now();
    for(int i = 0; i < posts; i++) {
        struct post_input in;
        struct store_post p;
        struct store_occurrence *occ = NULL;
        size_t n = 0;
        json_t *found = NULL;
        int rc;
        make_text(i, text, sizeof(text));
        memset(&in, 0, sizeof(in));
        in.text = text;
        in.category = i % 12 == 0 ? "promo" : "value";
        in.channels = &chans[i % nch];
        in.nchannels = 1;
        in.schedule = POST_NEXT_SLOT;
        rc = core_post_create(&c, &sys, w.id, &in, now, &p, &occ, &n, &found);
        if(rc == SAM_EINVAL && sam_errfield() && !strcmp(sam_errfield(), "checks")) {
            blocked++;
            in.override_reason = "bench";
            rc = core_post_create(&c, &sys, w.id, &in, now, &p, &occ, &n, NULL);
        } else if(json_array_size(found)) {
            warned++;
        }
        json_decref(found);
        if(rc)
            return fprintf(stderr, "post %d: %s\n", i, sam_errmsg(rc)), 1;
        free(occ);
        store_post_cleanup(&p);
    }
    plan_s = time_mono() - t0;
    plan_cpu = cpu_now() - c0;

    t0 = time_mono();
    if(core_queue_check(&c, w.id, now, &viol))
        return 1;
    check_s = time_mono() - t0;

    /* The same posts planned in batches of BATCH (as a CSV import of that many rows plans
     * them: each placed and checked against the queue and the rows before it, each batch
     * stored in one transaction), into a workspace of its own with the same channels. */
    t0 = time_mono();
    c0 = cpu_now();
    for(int first = 0; first < posts; first += BATCH) {
        struct post_batch *b = NULL;
        int over = 0;
        if(post_batch_open(&cb, &sys, w3.id, now, &b))
            return fprintf(stderr, "batch: %s\n", sam_errmsg(1)), 1;
        for(int i = first; i < posts && i < first + BATCH; i++) {
            struct post_input in;
            json_t *found = NULL;
            int bl = 0, rc;
            make_text(i, text, sizeof(text));
            memset(&in, 0, sizeof(in));
            in.text = text;
            in.category = i % 12 == 0 ? "promo" : "value";
            in.channels = &bchans[i % nch];
            in.nchannels = 1;
            in.schedule = POST_NEXT_SLOT;
            rc = post_batch_add(b, &in, i - first + 2, &found, &bl);
            json_decref(found);
            if(rc)
                return fprintf(stderr, "batch post %d: %s\n", i, sam_errmsg(rc)), 1;
            over |= bl;
        }
        if(post_batch_store(b, over ? "bench" : NULL, NULL))
            return fprintf(stderr, "batch store: %s\n", sam_errmsg(1)), 1;
        post_batch_free(b);
    }
    batch_s = time_mono() - t0;
    batch_cpu = cpu_now() - c0;

    /* Reference: the same number of posts, stored without placement or checks. */
    {
        struct store_channel ch;
        json_t *settings = json_pack("{s:s}", "path", "ref.jsonl");
        struct channel_input in = {.kind = "file", .name = "reference", .settings = settings, .slots = slots};
        core_channel_create(&cr, &sys, w2.id, &in, &ch);
        t0 = time_mono();
        c0 = cpu_now();
        for(int i = 0; i < posts; i++) {
            struct store_post p = {.workspace_id = w2.id, .created_at = now, .updated_at = now};
            struct store_occurrence o = {.channel_id = ch.id, .planned_at = now + 3600 + i * 60};
            make_text(i, text, sizeof(text));
            p.text = text;
            snprintf(p.category, sizeof(p.category), "value");
            snprintf(p.state, sizeof(p.state), "scheduled");
            snprintf(o.idempotency_key, sizeof(o.idempotency_key), "ref-%d", i);
            if(store_post_insert(cr.st, &p, &o, 1))
                return 1;
        }
        ref_s = time_mono() - t0;
        ref_cpu = cpu_now() - c0;
        store_channel_cleanup(&ch);
        json_decref(settings);
    }

    printf("posts: %d on %d channels (7 slots a day each)\n", posts, nch);
    printf("plan+check (next free slot, checks against the queue, stored): %.2f s, %.0f posts/s"
           " (%d with warnings, %d blocked and overridden)\n", plan_s, posts / plan_s, warned, blocked);
    printf("queue check over the whole queue: %.3f s, %zu violations\n", check_s, json_array_size(viol));
    printf("batch plan+check (the same, %d posts a transaction, as an import): %.2f s, %.0f posts/s\n", BATCH,
           batch_s, posts / batch_s);
    printf("reference (store the same posts, no placement or checks): %.2f s\n", ref_s);
    printf("ratio plan+check / reference: %.1f\n", plan_s / ref_s);
    printf("result posts=%d plan_s=%.3f check_s=%.3f ref_s=%.3f plan_cpu_s=%.3f ref_cpu_s=%.3f warned=%d blocked=%d"
           " batch_s=%.3f batch_cpu_s=%.3f\n",
           posts, plan_s, check_s, ref_s, plan_cpu, ref_cpu, warned, blocked, batch_s, batch_cpu);
    json_decref(viol);
    json_decref(slots);
    free(chans);
    free(bchans);
    store_close(c.st);
    store_close(cb.st);
    store_close(cr.st);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    return system(path) ? 1 : 0;
}
