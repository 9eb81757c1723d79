/* cmd_admin.c: operations commands: migrate, backup, config, routes. */
#include "cli/cli.h"
#include "util/buf.h"
#include "util/err.h"
#include "web/web.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void copy_progress(const char *table, int64_t rows, void *arg)
{
    (void)arg;
    if(isatty(STDERR_FILENO))
        fprintf(stderr, "\rcopying %-20s %10lld rows", table, (long long)rows);
}

/* samtale migrate --to URL: this database's rows into an empty one, verified. */
static int migrate_to(struct cli *c, const char *to)
{
    struct store *dst = NULL;
    struct store_copy_table t[STORE_COPY_TABLES];
    size_t n = 0;
    int code, rc, v = 0;
    int64_t total = 0;
    if(!strcmp(to, conf_get(c->conf, "db"))) {
        fprintf(stderr, "samtale: --to names the database itself\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    rc = store_open(to, &dst);
    if(!rc)
        rc = store_migrate(dst, &v);
    if(!rc)
        rc = store_copy(c->core.st, dst, copy_progress, NULL, t, &n);
    if(isatty(STDERR_FILENO))
        fprintf(stderr, "\r%50s\r", "");
    store_close(dst);
    if(rc)
        return cli_fail(rc);
    if(c->json) {
        json_t *tables = json_array();
        for(size_t i = 0; i < n; i++) {
            char sum[17];
            snprintf(sum, sizeof(sum), "%016llx", (unsigned long long)t[i].target_sum);
            json_array_append_new(tables, json_pack("{s:s, s:I, s:s}", "table", t[i].table, "rows",
                                                    (json_int_t)t[i].rows, "checksum", sum));
        }
        cli_print_json(json_pack("{s:i, s:o}", "schema_version", v, "tables", tables));
        return EXIT_OK;
    }
    printf("%-20s %10s  %s\n", "table", "rows", "checksum (matched)");
    for(size_t i = 0; i < n; i++) {
        printf("%-20s %10lld  %016llx\n", t[i].table, (long long)t[i].rows, (unsigned long long)t[i].target_sum);
        total += t[i].rows;
    }
    {
        char kf[4096];
        const char *k = conf_get(c->conf, "secret_key_file");
        if(!*k && !*conf_get(c->conf, "secret_key") &&
           !cli_beside_db(conf_get(c->conf, "db"), "secret.key", kf, sizeof(kf)))
            k = kf;
        char shown[1024];
        conf_mask_url(to, shown, sizeof(shown));
        printf("copied %lld rows in %zu tables; every table read back the same.\n"
               "Next: stop samtale, set db = %s and keep the same secret key%s%s%s, then start it again.\n",
               (long long)total, n, shown, *k ? " (secret_key_file = " : "", k, *k ? ")" : "");
    }
    return EXIT_OK;
}

int cmd_migrate(struct cli *c, int argc, char **argv)
{
    static const char *usage =
        "usage: samtale migrate [--status] [--to URL]\n"
        "\n"
        "Applies every pending database migration (each in its own transaction) and prints\n"
        "the schema version. 'samtale serve' does this at start as well.\n"
        "\n"
        "  --status   only show the schema version and how many migrations are pending\n"
        "  --to URL   copy every row of this database (read as one snapshot; samtale may keep\n"
        "             running) into the empty database at URL (postgresql://...), migrated\n"
        "             first; each table is read back and must have the same number of rows\n"
        "             and the same checksum, or nothing is written. Then set db = URL.\n";
    const char *pos[1], *to = NULL;
    int npos, code, before = 0, after = 0, rc, status = 0, pending = 0, left = 0;
    struct cli_opt opts[] = {{"--status", 0, &status, 0, 0, 0}, {"--to", &to, 0, 0, 0, 0}, {0}};
    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if(to)
        return migrate_to(c, to);
    rc = store_open(conf_get(c->conf, "db"), &c->core.st);
    if(!rc)
        rc = store_schema_version(c->core.st, &before);
    if(!rc)
        rc = store_pending_migrations(c->core.st, &pending);
    if(rc)
        return cli_fail(rc);
    if(status) {
        if(c->json)
            cli_print_json(json_pack("{s:i, s:i}", "schema_version", before, "pending", pending));
        else
            printf("schema version %d (%d migration%s pending)\n", before, pending, pending == 1 ? "" : "s");
        return EXIT_OK;
    }
    store_close(c->core.st);
    c->core.st = NULL;
    if((code = cli_open(c)))
        return code;
    if((rc = store_schema_version(c->core.st, &after)) || (rc = store_pending_migrations(c->core.st, &left)))
        return cli_fail(rc);
    {
        /* Numbers may leave gaps: what was applied is what was pending before and is not now. */
        int applied = pending - left;
        if(c->json)
            cli_print_json(json_pack("{s:i, s:i}", "schema_version", after, "applied", applied));
        else
            printf("schema version %d (%d migration%s applied now)\n", after, applied, applied == 1 ? "" : "s");
    }
    return EXIT_OK;
}

static void progress(int remaining, int total, void *arg)
{
    (void)arg;
    if(total > 0 && isatty(STDERR_FILENO))
        fprintf(stderr, "\rbackup: %3d%%", (int)(100.0 * (total - remaining) / total));
}

int cmd_backup(struct cli *c, int argc, char **argv)
{
    static const char *usage =
        "usage: samtale backup FILE\n"
        "\n"
        "Writes a consistent copy of the database to FILE while samtale keeps running, then\n"
        "checks the copy's integrity. Restore by stopping samtale and putting FILE in place\n"
        "of the database file (see docs/operations.md).\n";
    const char *pos[1];
    int npos, code, rc;
    struct store *copy = NULL;
    char msg[256];
    struct stat stb;

    CLI_PARSE(argc, argv, NULL, pos, 1, &npos, usage);
    if(npos != 1) {
        fprintf(stderr, "samtale: backup needs a FILE\n\n%s", usage);
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    rc = store_backup(c->core.st, pos[0], progress, NULL);
    if(isatty(STDERR_FILENO))
        fputc('\n', stderr);
    if(rc)
        return cli_fail(rc);
    rc = store_open(pos[0], &copy);
    if(!rc)
        rc = store_integrity_check(copy, msg, sizeof(msg));
    store_close(copy);
    if(rc)
        return cli_fail(rc);
    stat(pos[0], &stb);
    if(c->json)
        cli_print_json(json_pack("{s:s, s:I, s:s}", "file", pos[0], "bytes", (json_int_t)stb.st_size,
                                 "integrity", "ok"));
    else
        printf("backup written to %s (%lld bytes, integrity ok)\n", pos[0], (long long)stb.st_size);
    return EXIT_OK;
}

int cmd_config(struct cli *c, int argc, char **argv)
{
    static const char *usage =
        "usage: samtale config\n"
        "\n"
        "Prints the effective configuration: each key, its value (secrets masked) and where\n"
        "it came from (default, file, environment or flag). The environment variable for a\n"
        "key is SAMTALE_ and the key in capitals, e.g. SAMTALE_LISTEN.\n";
    const char *pos[1];
    const char *headers[] = {"KEY", "VALUE", "FROM", "MEANING"};
    int npos;
    char shown[1024];
    CLI_PARSE(argc, argv, NULL, pos, 0, &npos, usage);
    if(c->json) {
        json_t *o = json_object();
        for(size_t i = 0; conf_key(i); i++) {
            conf_display(c->conf, conf_key(i), shown, sizeof(shown));
            json_object_set_new(o, conf_key(i), json_pack("{s:s, s:s}", "value", shown, "source",
                                                          conf_source_name(conf_source_of(c->conf, conf_key(i)))));
        }
        cli_print_json(o);
        return EXIT_OK;
    }
    struct cli_table *t = cli_table_new(4, headers);
    for(size_t i = 0; conf_key(i); i++) {
        conf_display(c->conf, conf_key(i), shown, sizeof(shown));
        const char *row[] = {conf_key(i), shown, conf_source_name(conf_source_of(c->conf, conf_key(i))), conf_help(i)};
        cli_table_row(t, row);
    }
    cli_table_print(t);
    cli_table_free(t);
    return EXIT_OK;
}

int cmd_routes(struct cli *c, int argc, char **argv)
{
    static const char *usage =
        "usage: samtale routes\n"
        "\n"
        "Lists the HTTP routes, one 'METHOD PATH' a line (docs/api/openapi.yaml describes them).\n";
    const char *pos[1];
    int npos;
    struct buf b;
    (void)c;
    CLI_PARSE(argc, argv, NULL, pos, 0, &npos, usage);
    buf_init(&b, 1u << 20);
    if(web_routes_list(&b))
        return EXIT_FAIL;
    fputs(buf_str(&b), stdout);
    buf_cleanup(&b);
    return EXIT_OK;
}
