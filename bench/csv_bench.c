/*
 * csv_bench.c: time to import a CSV file of ROWS posts (P14; goal: 1,000 rows with the
 * checks in under 2 s, cost linear in the rows), in one process, each run in a workspace of
 * its own with the same five channels (a file channel, two on Mastodon, two on Bluesky;
 * seven slots a day):
 *   dry run    core_csv_import with dry_run: read, placed and checked, row by row against
 *              the queue and the rows before it, nothing stored;
 *   import     the same file imported: all that, then every post stored in one transaction;
 *   reference  the same rows (read with csv_row_read) created one by one through
 *              core_post_create, as the API's POST .../posts does: each placed, checked
 *              against the queue (which holds the rows before it) and stored with its own
 *              commit.
 * The rows: one or two channels each, most at the next free slot, some at a time, some
 * drafts, every twelfth a promo, every ninth a rewording of an earlier one (near-duplicates
 * for P5).
 *
 *   build/csv_bench [ROWS] [DB]       (DB: a PostgreSQL URL, or a SQLite file in a new
 *                                      temporary folder by default)
 * Prints the three times, wall and CPU (a shared machine's load shows in the first only), and
 * "result rows=N dry_s=... import_s=... ref_s=... dry_c=... import_c=... ref_c=...".
 */
#include <sodium.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/csv.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/tz.h"

static const char *words[] = {"delivery", "customers", "Oslo", "Bergen", "spring", "coffee", "team", "launch",
                              "webinar", "guide", "recipe", "blåbær", "hiking", "service", "store", "winter",
                              "summer", "design", "tips", "story", "podcast", "event", "volunteers", "recycling",
                              "packaging", "support", "question", "answer", "review", "workshop", "city", "north"};
static const char *names[] = {"Blog", "Mastodon Oslo", "Mastodon Bergen", "Bluesky", "Bluesky Nord"};

/* CPU seconds of this process: what a run costs, whatever else the machine is doing. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_text(int i, char *out, size_t n)
{
    unsigned s = (unsigned)(i % 9 == 8 ? i - 5 : i) * 2654435761u; /* every ninth rewords an earlier row */
    size_t used = (size_t)snprintf(out, n, "%s %d:", i % 9 == 8 ? "Again," : "Post", i);
    for(int k = 0; k < 14 && used < n - 20; k++) {
        s = s * 1103515245u + 12345u;
        used += (size_t)snprintf(out + used, n - used, " %s", words[(s >> 16) % 32]);
    }
}

/* The file: ROWS rows in the format of docs/csv.md. */
static char *make_csv(int rows, int64_t now, size_t *len)
{
    struct buf b;
    struct tz_civil cv;
    buf_init(&b, CSV_FILE_MAX);
    buf_puts(&b, "text,channels,time,category\r\n");
    for(int i = 0; i < rows; i++) {
        char text[400], when[40] = "next slot";
        make_text(i, text, sizeof(text));
        if(i % 10 == 3) {
            /* An exact time: a day further ahead every ten rows, at 07:30 local. */
            tz_to_local("Europe/Oslo", now + (int64_t)(1 + i / 10) * 86400, &cv);
            snprintf(when, sizeof(when), "%04d-%02d-%02d 07:30", cv.year, cv.month, cv.day);
        }
        if(i % 25 == 7)
            buf_printf(&b, "\"%s\",,,value\r\n", text); /* a draft */
        else if(i % 4 == 0)
            buf_printf(&b, "\"%s\",%s|%s,%s,%s\r\n", text, names[i % 5], names[(i + 2) % 5], when,
                       i % 12 == 0 ? "promo" : "value");
        else
            buf_printf(&b, "\"%s\",%s,%s,%s\r\n", text, names[i % 5], when, i % 12 == 0 ? "promo" : "value");
    }
    *len = b.len;
    return buf_take(&b);
}

static int workspace(struct core *c, const struct actor *a, const char *name, json_t *slots,
                     struct store_workspace *w)
{
    static const char *kinds[] = {"file", "mastodon", "mastodon", "bluesky", "bluesky"};
    if(core_workspace_create(c, a, name, "Europe/Oslo", w))
        return 1;
    for(int i = 0; i < 5; i++) {
        struct store_channel ch;
        json_t *settings = !strcmp(kinds[i], "file")       ? json_pack("{s:s}", "path", "bench.jsonl")
                           : !strcmp(kinds[i], "mastodon") ? json_pack("{s:s}", "instance_url", "https://m.example")
                                                           : json_pack("{s:s}", "handle", "bench.example");
        struct channel_input in = {.kind = kinds[i], .name = names[i], .settings = settings, .slots = slots,
                                   .max_per_hour = 4, .max_per_day = 40};
        int rc = core_channel_create(c, a, w->id, &in, &ch);
        json_decref(settings);
        if(rc)
            return fprintf(stderr, "channel: %s\n", sam_errmsg(rc)), 1;
        store_channel_cleanup(&ch);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rows = argc > 1 ? atoi(argv[1]) : 1000, v, created = 0, blocked = 0, warned = 0;
    const char *url = argc > 2 ? argv[2] : NULL;
    char dir[256], path[512], wname[3][64];
    struct core c;
    struct actor sys = {.system = 1};
    struct store_workspace w[3];
    struct csv_import_options o = {.override_reason = "bench"};
    int64_t now = time_now();
    json_t *slots = json_array(), *rep = NULL;
    double t0, c0, dry_s, import_s, ref_s, dry_c, import_c, ref_c;
    char *data;
    size_t len;

    snprintf(dir, sizeof(dir), "%s/samtale-bench-csv-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if(sodium_init() < 0 || !mkdtemp(dir))
        return 1;
    memset(&c, 0, sizeof(c));
    if(!url)
        snprintf(path, sizeof(path), "%s/b.db", dir);
    if(store_open(url ? url : path, &c.st) || store_migrate(c.st, &v))
        return fprintf(stderr, "store: %s\n", sam_errmsg(SAM_ESTORE)), 1;
    snprintf(path, sizeof(path), "%s/key", dir);
    core_key_load(&c, NULL, path);
    snprintf(sys.label, sizeof(sys.label), "bench");
    for(int d = 0; d < 7; d++)
        for(int h = 8; h <= 20; h += 2) {
            static const char *dn[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
            char s[16];
            snprintf(s, sizeof(s), "%s %02d:00", dn[d], h);
            json_array_append_new(slots, json_string(s));
        }
    for(int i = 0; i < 3; i++) {
        snprintf(wname[i], sizeof(wname[i]), "%s %d %lld", i == 0 ? "dry" : i == 1 ? "import" : "reference", rows,
                 (long long)now);
        if(workspace(&c, &sys, wname[i], slots, &w[i]))
            return 1;
    }
    data = make_csv(rows, now, &len);

    /* Dry run. */
    o.dry_run = 1;
    t0 = time_mono();
    c0 = cpu_now();
    if(core_csv_import(&c, &sys, w[0].id, data, len, &o, now, &rep))
        return fprintf(stderr, "dry run: %s\n", sam_errmsg(1)), 1;
    dry_s = time_mono() - t0;
    dry_c = cpu_now() - c0;
    if(json_integer_value(json_object_get(rep, "with_problems")))
        return fprintf(stderr, "dry run: the file has problems: %s\n",
                       json_dumps(json_array_get(json_object_get(rep, "rows"), 0), 0)), 1;
    blocked = (int)json_integer_value(json_object_get(rep, "blocked"));
    {
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(rep, "rows"), i, r) warned += json_array_size(json_object_get(r, "violations")) > 0;
    }
    json_decref(rep);

    /* The import. */
    o.dry_run = 0;
    t0 = time_mono();
    c0 = cpu_now();
    if(core_csv_import(&c, &sys, w[1].id, data, len, &o, now, &rep))
        return fprintf(stderr, "import: %s\n", sam_errmsg(1)), 1;
    import_s = time_mono() - t0;
    import_c = cpu_now() - c0;
    created = (int)json_integer_value(json_object_get(rep, "created"));
    json_decref(rep);

    /* Reference: the same rows through core_post_create, one by one. */
    {
        struct csv_table t;
        struct store_channel *chans = NULL;
        size_t nchans = 0;
        if(csv_table_read(data, len, &t) || store_channel_list(c.st, w[2].id, NULL, 0, 100, &chans, &nchans))
            return 1;
        struct csv_env env = {"Europe/Oslo", now, chans, nchans};
        t0 = time_mono();
        c0 = cpu_now();
        for(size_t i = 0; i < t.nrows; i++) {
            struct csv_row r;
            struct store_post p;
            struct store_occurrence *occ = NULL;
            size_t n = 0;
            int rc = csv_row_read(&t, i, &env, &r);
            if(!rc) {
                r.in.override_reason = "bench";
                rc = core_post_create(&c, &sys, w[2].id, &r.in, now, &p, &occ, &n, NULL);
            }
            if(rc)
                return fprintf(stderr, "reference row %zu: %s\n", i, sam_errmsg(rc)), 1;
            free(occ);
            store_post_cleanup(&p);
            csv_row_cleanup(&r);
        }
        ref_s = time_mono() - t0;
        ref_c = cpu_now() - c0;
        store_channel_list_free(chans, nchans);
        csv_table_cleanup(&t);
    }

    printf("rows: %d (%zu bytes) on 5 channels, %s; wall seconds (CPU seconds of this process)\n", rows, len,
           url ? "PostgreSQL" : "SQLite");
    printf("dry run (read, place, check against the queue and earlier rows): %.3f s (%.3f), %.0f rows/s"
           " (%d with findings, %d blocked)\n", dry_s, dry_c, rows / dry_s, warned, blocked);
    printf("import (the same, then every post stored in one transaction): %.3f s (%.3f), %.0f rows/s, %d posts\n",
           import_s, import_c, rows / import_s, created);
    printf("reference (core_post_create row by row, a commit each): %.3f s (%.3f), %.0f rows/s\n", ref_s, ref_c,
           rows / ref_s);
    printf("result rows=%d dry_s=%.4f import_s=%.4f ref_s=%.4f dry_c=%.4f import_c=%.4f ref_c=%.4f\n", rows, dry_s,
           import_s, ref_s, dry_c, import_c, ref_c);
    free(data);
    json_decref(slots);
    store_close(c.st);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    return system(path) ? 1 : 0;
}
