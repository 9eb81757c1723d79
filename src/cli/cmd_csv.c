/* cmd_csv.c: `samtale post import` and `samtale post export`: posts in and out as CSV files
 * (PRODUCT.md P14; the format is docs/csv.md), through the same core functions as the API
 * (core/csv.h). */
#include "cli/cli.h"
#include "core/csv.h"
#include "core/media.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *import_usage =
    "usage: samtale post import FILE [--dry-run] [--workspace W] [--override REASON] [--import-id ID]\n"
    "\n"
    "Reads posts from a CSV file (docs/csv.md; FILE - reads standard input): a header row\n"
    "naming the columns text, channels, time, category, campaign, link, images, alt, variant,\n"
    "and a row per post. The images column names image files beside FILE (or paths inside its\n"
    "folder; standard input: the current folder), separated by |, with their alt texts in the alt column in the same order; each\n"
    "is uploaded first (as the composer uploads), also for a dry run, and an image the\n"
    "workspace has already can be named media:ID. Every row is placed and checked as the\n"
    "composer would, against the queue and the rows before it. --dry-run lists each row's\n"
    "problems and the checks'\n"
    "findings and imports nothing. Otherwise the file is imported whole or not at all: any\n"
    "problem, or a blocking check without --override REASON (audited), imports nothing.\n"
    "--import-id names the import: run again with the same ID (after a crash or an error),\n"
    "it creates nothing twice. Exits 0 when the file imports (or would) cleanly, 5 when it\n"
    "does not.\n";

static const char *export_usage =
    "usage: samtale post export [--workspace W] [--state S] [--from TIME] [--to TIME]\n"
    "                           [--channel ID] [--semicolon] [--output FILE]\n"
    "\n"
    "Writes the workspace's posts as CSV (docs/csv.md) to standard output or FILE: a row per\n"
    "post and planned time, in the format 'post import' reads. --from/--to keep the copies\n"
    "planned in [FROM, TO) (RFC 3339), --channel those on one channel (both leave drafts\n"
    "out). --semicolon separates fields with ';', as Excel expects in Norwegian and Swedish.\n";

/* The whole file (at most CSV_FILE_MAX bytes) into *out (caller frees), "-" from stdin. */
static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    size_t cap = 1 << 16, n = 0;
    char *b;
    *out = NULL;
    *len = 0;
    if(!f) {
        fprintf(stderr, "samtale: cannot open %s: %s\n", path, strerror(errno));
        return EXIT_FAIL;
    }
    b = malloc(cap);
    while(b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if(n > CSV_FILE_MAX || got == 0)
            break;
        if(n == cap) {
            char *bigger = realloc(b, cap * 2);
            if(!bigger) {
                free(b);
                b = NULL;
                break;
            }
            b = bigger;
            cap *= 2;
        }
    }
    if(f != stdin)
        fclose(f);
    if(!b) {
        fprintf(stderr, "samtale: out of memory\n");
        return EXIT_FAIL;
    }
    if(n > CSV_FILE_MAX) {
        free(b);
        fprintf(stderr, "samtale: %s is over 5 MiB: split it into smaller files\n", path);
        return EXIT_INVALID;
    }
    *out = b;
    *len = n;
    return EXIT_OK;
}

/* The images the file's images column names, each read from beside the file (path: its
 * folder) and uploaded to ws, into *out (*n of them; the caller frees each name and the
 * array). A file that cannot be read is said on standard error and left out: its rows
 * then say the image was not given. */
static int upload_images(struct cli *c, const struct actor *a, int64_t ws, const struct csv_table *t,
                         const char *csv_path, struct csv_image **out, size_t *n)
{
    char dir[4096] = ".", path[8192];
    const char *slash = strcmp(csv_path, "-") ? strrchr(csv_path, '/') : NULL;
    size_t col = (size_t)-1;
    int rc = SAM_OK;
    *out = NULL;
    *n = 0;
    for(size_t i = 0; i < t->header.n; i++)
        if(t->cols[i] == CSV_IMAGES)
            col = i;
    if(col == (size_t)-1)
        return SAM_OK;
    if(slash && (size_t)(slash - csv_path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - csv_path), csv_path);
    if(!(*out = calloc(CSV_IMAGES_GIVEN_MAX, sizeof(**out))))
        return SAM_ENOMEM;
    for(size_t r = 0; !rc && r < t->nrows; r++) {
        char *names[MEDIA_PER_POST_MAX];
        size_t k = 0;
        if(col >= t->rows[r].n || csv_split_list(t->rows[r].fields[col], names, MEDIA_PER_POST_MAX, &k))
            continue; /* too many: the row says so */
        for(size_t i = 0; i < k; i++) {
            size_t j;
            char *data = NULL;
            size_t len = 0;
            FILE *f;
            for(j = 0; j < *n && strcmp((*out)[j].name, names[i]); j++)
                ;
            if(rc || j < *n || !names[i][0] || !strncmp(names[i], "media:", 6) || *n == CSV_IMAGES_GIVEN_MAX)
                continue;
            /* A file someone else wrote names only images in its own folder. */
            if(names[i][0] == '/' || !strcmp(names[i], "..") || !strncmp(names[i], "../", 3) ||
               strstr(names[i], "/../") || (strlen(names[i]) >= 3 && !strcmp(names[i] + strlen(names[i]) - 3, "/.."))) {
                fprintf(stderr, "samtale: the image %s is outside the file's folder: name it by its path inside "
                                "that folder\n", names[i]);
                continue;
            }
            if((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path))
                continue;
            if(!(f = fopen(path, "rb"))) {
                fprintf(stderr, "samtale: cannot read the image %s: %s\n", path, strerror(errno));
                continue;
            }
            data = malloc(MEDIA_UPLOAD_MAX + 1);
            if(data)
                len = fread(data, 1, MEDIA_UPLOAD_MAX + 1, f);
            fclose(f);
            if(!data) {
                rc = SAM_ENOMEM;
                continue;
            }
            {
                struct store_media m;
                int created = 0, up = len > MEDIA_UPLOAD_MAX ? sam_fail(SAM_ETOOBIG, "the image is over 20 MiB")
                                                           : core_media_upload(&c->core, a, ws, data, len, time_now(),
                                                                               &m, &created);
                if(up == SAM_ENOMEM)
                    rc = up;
                else if(up)
                    fprintf(stderr, "samtale: the image %s was not taken: %s\n", path, sam_errmsg(up));
                else {
                    (*out)[*n].name = names[i]; /* the name as the row wrote it, now the list's */
                    names[i] = NULL;
                    (*out)[(*n)++].id = m.id;
                    store_media_cleanup(&m);
                }
            }
            free(data);
        }
        for(size_t i = 0; i < k; i++)
            free(names[i]);
    }
    return rc;
}

static void print_report(const json_t *rep)
{
    const json_t *rows = json_object_get(rep, "rows"), *problems = json_object_get(rep, "problems"), *row, *p;
    size_t i, k;
    json_array_foreach(problems, i, p)
        printf("line %lld: %s: %s\n", (long long)json_integer_value(json_object_get(p, "line")),
               json_string_value(json_object_get(p, "field")), json_string_value(json_object_get(p, "message")));
    json_array_foreach(rows, i, row) {
        long long line = (long long)json_integer_value(json_object_get(row, "line"));
        const json_t *planned = json_object_get(row, "planned");
        json_array_foreach(json_object_get(row, "problems"), k, p)
            printf("line %lld: %s: %s\n", line, json_string_value(json_object_get(p, "field")),
                   json_string_value(json_object_get(p, "message")));
        json_array_foreach(json_object_get(row, "violations"), k, p) {
            char prefix[40];
            snprintf(prefix, sizeof(prefix), "line %lld: ", line);
            cli_print_finding(stdout, prefix, p);
        }
        if(json_object_get(row, "post_id"))
            printf("line %lld: post %lld%s\n", line, (long long)json_integer_value(json_object_get(row, "post_id")),
                   json_is_true(json_object_get(row, "draft")) ? " (draft)" : "");
        else if(json_is_true(json_object_get(row, "ok")) && json_array_size(planned))
            printf("line %lld: ok, %zu %s from %s\n", line, json_array_size(planned),
                   json_array_size(planned) == 1 ? "copy" : "copies",
                   json_string_value(json_object_get(json_array_get(planned, 0), "at")));
    }
}

int cmd_post_import(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *override = NULL, *id = NULL, *pos[1];
    int dry = 0, npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--override", &override, 0, 0, 0, 0},
                             {"--import-id", &id, 0, 0, 0, 0}, {"--dry-run", 0, &dry, 0, 0, 0}, {0}};
    struct csv_import_options o;
    struct store_workspace w;
    struct actor sys = {.system = 1};
    json_t *report = NULL;
    char *data;
    size_t len;

    CLI_PARSE(argc, argv, opts, pos, 1, &npos, import_usage);
    if(npos != 1) {
        fprintf(stderr, "samtale: post import needs a FILE\n\n%s", import_usage);
        return EXIT_USAGE;
    }
    if((code = read_file(pos[0], &data, &len)))
        return code;
    if((code = cli_open(c)) || (rc = cli_workspace(c, ws, &w), code = rc ? cli_fail(rc) : EXIT_OK)) {
        free(data);
        return code;
    }
    snprintf(sys.label, sizeof(sys.label), "cli");
    memset(&o, 0, sizeof(o));
    o.dry_run = dry;
    o.override_reason = override;
    o.import_id = id;
    {
        /* The images the file names, uploaded first (P16). */
        struct csv_table t;
        struct csv_image *given = NULL;
        size_t ngiven = 0;
        rc = csv_table_read(data, len, &t);
        if(!rc && !json_array_size(t.problems))
            rc = upload_images(c, &sys, w.id, &t, pos[0], &given, &ngiven);
        csv_table_cleanup(&t);
        o.images = given;
        o.nimages = ngiven;
        o.exact_names = 1; /* uploaded by the names as written */
        if(!rc)
            rc = core_csv_import(&c->core, &sys, w.id, data, len, &o, time_now(), &report);
        for(size_t i = 0; i < ngiven; i++)
            free((char *)given[i].name);
        free(given);
    }
    free(data);
    if(!report)
        return cli_fail(rc);
    if(c->json) {
        if(rc)
            json_object_set_new(report, "error", json_pack("{s:s, s:s?}", "message", sam_errmsg(rc), "field",
                                                           sam_errfield()));
        cli_print_json(json_incref(report));
    } else {
        json_int_t total = json_integer_value(json_object_get(report, "total"));
        json_int_t bad = json_integer_value(json_object_get(report, "with_problems"));
        json_int_t blocked = json_integer_value(json_object_get(report, "blocked"));
        print_report(report);
        if(json_is_true(json_object_get(report, "already_imported")))
            printf("imported before under this id: %lld posts; nothing was created now\n", (long long)total);
        else if(dry)
            printf("dry run: %lld rows, %lld with problems, %lld stopped by a check; nothing was imported\n",
                   (long long)total, (long long)bad, (long long)blocked);
        else if(!rc)
            printf("imported %lld posts\n", (long long)json_integer_value(json_object_get(report, "created")));
        if(rc)
            fprintf(stderr, "samtale: %s%s\n", sam_errmsg(rc),
                    sam_errfield() && !strcmp(sam_errfield(), "checks") ? "; import anyway with --override REASON" : "");
    }
    code = rc ? cli_exit_code(rc)
              : (json_array_size(json_object_get(report, "problems")) ||
                 json_integer_value(json_object_get(report, "with_problems")) ||
                 (json_integer_value(json_object_get(report, "blocked")) && !(override && *override)))
                    ? EXIT_INVALID
                    : EXIT_OK;
    json_decref(report);
    return code;
}

int cmd_post_export(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *state = NULL, *from = NULL, *to = NULL, *channel = NULL, *output = NULL, *pos[1];
    int semicolon = 0, npos, code, rc, done = 0;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--state", &state, 0, 0, 0, 0},
                             {"--from", &from, 0, 0, 0, 0},     {"--to", &to, 0, 0, 0, 0},
                             {"--channel", &channel, 0, 0, 0, 0}, {"--output", &output, 0, 0, 0, 0},
                             {"--semicolon", 0, &semicolon, 0, 0, 0}, {0}};
    struct csv_export_filter f;
    struct store_workspace w;
    struct core_csv_export *it = NULL;
    struct buf part;
    FILE *out = stdout;

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, export_usage);
    memset(&f, 0, sizeof(f));
    f.state = state;
    f.sep = semicolon ? ';' : ',';
    if((from && time_parse_rfc3339(from, &f.from)) || (to && time_parse_rfc3339(to, &f.to))) {
        fprintf(stderr, "samtale: --from and --to take a time such as 2027-03-01T00:00:00Z\n");
        return EXIT_USAGE;
    }
    if(channel) {
        char *end;
        f.channel = strtoll(channel, &end, 10);
        if(*end || f.channel <= 0) {
            fprintf(stderr, "samtale: --channel takes a channel ID\n");
            return EXIT_USAGE;
        }
    }
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)) || (rc = core_csv_export_open(&c->core, w.id, &f, &it)))
        return cli_fail(rc);
    if(output && !(out = fopen(output, "wb"))) {
        fprintf(stderr, "samtale: cannot write %s: %s\n", output, strerror(errno));
        core_csv_export_free(it);
        return EXIT_FAIL;
    }
    buf_init(&part, (size_t)64 << 20);
    while(!rc && !done) {
        buf_reset(&part);
        rc = core_csv_export_next(it, &part, &done);
        if(!rc && part.len && fwrite(part.data, 1, part.len, out) != part.len)
            rc = sam_fail(SAM_EIO, "cannot write the file");
    }
    buf_cleanup(&part);
    core_csv_export_free(it);
    if((out != stdout ? fclose(out) : fflush(out)) && !rc)
        rc = sam_fail(SAM_EIO, "cannot write the file");
    return rc ? cli_fail(rc) : EXIT_OK;
}
