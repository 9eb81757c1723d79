/*
 * store_bench.c: the store on one engine (issue X2's store benchmark), in one process:
 *   insert      POSTS posts, each with one occurrence, through store_post_insert (one
 *               transaction each, as the API writes them): posts a second;
 *   grow        the occurrences multiplied up to OCCURRENCES (one INSERT ... SELECT, not
 *               timed as the product's work: it only builds the data to read);
 *   listings    at that size, the reads the API and the engine make, each repeated and
 *               timed (median of the repeats): the queue's first page and a page deep in
 *               it (by cursor), a page of posts, a post's occurrences, a week of the queue
 *               for the checks (store_queue_items), and the due claim when nothing is due.
 *
 *   build/store_bench DB [POSTS] [OCCURRENCES]     (DB: a SQLite path or postgresql:// URL)
 *
 * The database must be new (a SQLite path that does not exist, or an empty PostgreSQL
 * database); bench/store.sh runs it on both engines and prints the ratios.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "util/timeutil.h"

#define REPEAT 21

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    const char *db = argc > 1 ? argv[1] : NULL;
    int posts = argc > 2 ? atoi(argv[2]) : 100000;
    long occurrences = argc > 3 ? atol(argv[3]) : 1000000;
    struct store *st;
    struct store_workspace w = {0};
    struct store_channel ch = {0};
    struct store_user u = {0};
    int v;
    int64_t now = time_now(), mid_id = 0, post_id = 0;
    double t0, took, times[REPEAT];
    char text[200];

    if(!db) {
        fprintf(stderr, "usage: store_bench DB [POSTS] [OCCURRENCES]\n");
        return 2;
    }
    if(store_open(db, &st) || store_migrate(st, &v)) {
        fprintf(stderr, "store_bench: cannot open %s\n", db);
        return 1;
    }
    snprintf(w.name, sizeof(w.name), "Bench");
    snprintf(w.timezone, sizeof(w.timezone), "Europe/Oslo");
    w.created_at = now;
    snprintf(u.email, sizeof(u.email), "b@example.com");
    snprintf(u.name, sizeof(u.name), "B");
    u.created_at = now;
    if(store_workspace_insert(st, &w) || store_user_insert(st, &u))
        return 1;
    ch.workspace_id = w.id;
    snprintf(ch.kind, sizeof(ch.kind), "webhook");
    snprintf(ch.name, sizeof(ch.name), "hook");
    snprintf(ch.timezone, sizeof(ch.timezone), "UTC");
    ch.created_at = ch.updated_at = now;
    if(store_channel_insert(st, &ch))
        return 1;

    /* insert */
    t0 = time_mono();
    for(int i = 0; i < posts; i++) {
        struct store_post p = {.workspace_id = w.id, .author_id = u.id, .text = text, .created_at = now,
                               .updated_at = now};
        struct store_occurrence o = {.channel_id = ch.id, .planned_at = now + 86400 + (int64_t)i * 60};
        snprintf(text, sizeof(text), "Bench post %d: blåbær og kaffe på fjellet", i);
        snprintf(p.category, sizeof(p.category), "value");
        snprintf(p.state, sizeof(p.state), "scheduled");
        snprintf(o.idempotency_key, sizeof(o.idempotency_key), "bench-%d", i);
        if(store_post_insert(st, &p, &o, 1)) {
            fprintf(stderr, "store_bench: insert %d failed\n", i);
            return 1;
        }
        if(i == posts / 2) {
            mid_id = o.id;
            post_id = p.id;
        }
    }
    took = time_mono() - t0;
    printf("insert     %d posts in %.2f s: %.0f posts/s\n", posts, took, posts / took);

    /* grow: each occurrence repeated k times, a minute apart, up to the wanted count */
    {
        long k = occurrences / posts;
        struct dbc *c;
        struct dbq *q;
        char sql[1200];
        if(k > 1) {
            snprintf(sql, sizeof(sql),
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
                     " INSERT INTO occurrences(workspace_id, post_id, channel_id, variant, planned_at, state,"
                     " idempotency_key, next_attempt_at, created_at, updated_at)"
                     " SELECT o.workspace_id, o.post_id, o.channel_id, 0, o.planned_at + n.i * %lld,"
                     " 'scheduled', o.idempotency_key || '-' || CAST(n.i AS TEXT),"
                     " o.planned_at + n.i * %lld, o.created_at, o.updated_at FROM occurrences o, n",
                     k - 1, (long long)posts * 60, (long long)posts * 60);
            t0 = time_mono();
            if(db_take(st->pool, 1, &c) || c->drv->prepare_once(c, sql, &q) || db_step(q) == DB_ERROR) {
                fprintf(stderr, "store_bench: growing failed\n");
                return 1;
            }
            db_release(q);
            db_give(st->pool, c);
            printf("grow       to %ld occurrences in %.2f s (not a product path)\n", k * posts,
                   time_mono() - t0);
        }
        /* After a bulk load the planner's statistics are stale until (auto)analyze: the
         * reads are measured as a running installation sees them. */
        if(db_take(st->pool, 1, &c) || c->drv->exec(c, "ANALYZE")) {
            fprintf(stderr, "store_bench: analyze failed\n");
            return 1;
        }
        db_give(st->pool, c);
    }

    /* listings at that size */
    {
        struct store_occurrence_post *page;
        struct store_post *pl;
        struct store_occurrence *ol;
        struct store_queue_item *qi;
        size_t n = 0;
#define TIME(label, call, free_it)                                                                                    \
    do {                                                                                                              \
        for(int r = 0; r < REPEAT; r++) {                                                                             \
            double s0 = time_mono();                                                                                  \
            if(call) {                                                                                                \
                fprintf(stderr, "store_bench: %s failed\n", label);                                                   \
                return 1;                                                                                             \
            }                                                                                                         \
            times[r] = time_mono() - s0;                                                                              \
            free_it;                                                                                                  \
        }                                                                                                             \
        printf("%-44s %8.3f ms  (%zu rows)\n", label, median(times, REPEAT) * 1000.0, n);                             \
    } while(0)
        TIME("queue page, first 200", store_occurrence_page(st, w.id, 0, now, now + 400LL * 86400 * 365, 0, 200,
                                                            &page, &n),
             store_occurrence_posts_free(page, n));
        TIME("queue page, 200 after the middle (cursor)",
             store_occurrence_page(st, w.id, 0, now, now + 400LL * 86400 * 365, mid_id, 200, &page, &n),
             store_occurrence_posts_free(page, n));
        TIME("posts page, 200 after the middle", store_post_list(st, w.id, NULL, post_id, 200, &pl, &n),
             store_post_list_free(pl, n));
        TIME("a post's occurrences", store_occurrence_list(st, w.id, post_id, 0, 0, 0, 0, 1000, &ol, &n), free(ol));
        TIME("a week of the queue for the checks",
             store_queue_items(st, w.id, 0, now + 86400 + (int64_t)posts * 30, now + 86400 + (int64_t)posts * 30
                                                                                  + 7 * 86400, &qi, &n),
             store_queue_items_free(qi, n));
        TIME("claim when nothing is due", store_occurrence_claim(st, now, "bench", 60, 1, &ol, &n), free(ol));
    }
    store_close(st);
    return 0;
}
