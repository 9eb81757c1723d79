/* util.c: option parsing, output helpers and opening the database for commands. */
#include "cli/cli.h"
#include "util/err.h"
#include "util/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_parse(int argc, char **argv, const struct cli_opt *opts, const char **pos, int maxpos, int *npos,
              const char *usage)
{
    *npos = 0;
    for(int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if(!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return -1;
        }
        if(!strncmp(a, "--", 2) && a[2]) {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            const struct cli_opt *o = NULL;
            for(const struct cli_opt *p = opts; p && p->name; p++)
                if(strlen(p->name) == len && !strncmp(p->name, a, len))
                    o = p;
            if(!o) {
                fprintf(stderr, "samtale: unknown option %.*s\n\n%s", (int)len, a, usage);
                return EXIT_USAGE;
            }
            if(o->flag) {
                if(eq) {
                    fprintf(stderr, "samtale: %s takes no value\n", o->name);
                    return EXIT_USAGE;
                }
                *o->flag = 1;
                continue;
            }
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if(!v) {
                fprintf(stderr, "samtale: %s needs a value\n\n%s", o->name, usage);
                return EXIT_USAGE;
            }
            if(o->list) {
                if(*o->nlist >= o->max) {
                    fprintf(stderr, "samtale: too many %s options (at most %d)\n", o->name, o->max);
                    return EXIT_USAGE;
                }
                o->list[(*o->nlist)++] = v;
            } else {
                *o->value = v;
            }
            continue;
        }
        if(*npos >= maxpos) {
            fprintf(stderr, "samtale: unexpected argument '%s'\n\n%s", a, usage);
            return EXIT_USAGE;
        }
        pos[(*npos)++] = a;
    }
    return 0;
}

int cli_exit_code(int rc)
{
    switch(rc) {
    case SAM_OK: return EXIT_OK;
    case SAM_ENOTFOUND: return EXIT_NOTFOUND;
    case SAM_ECONFLICT: return EXIT_CONFLICT;
    case SAM_EINVAL: case SAM_ETOOBIG: case SAM_EBADREQ: return EXIT_INVALID;
    case SAM_ESTORE: return EXIT_DB;
    default: return EXIT_FAIL;
    }
}

int cli_fail(int rc)
{
    fprintf(stderr, "samtale: %s\n", sam_errmsg(rc));
    return cli_exit_code(rc);
}

int cli_db_is_postgres(const char *db)
{
    return !strncmp(db, "postgres://", 11) || !strncmp(db, "postgresql://", 13);
}

/* Where a file of the installation goes when none is configured: beside a SQLite
 * database; for PostgreSQL, which has no folder of its own, under var/ in the working
 * folder (made when missing): the file channels' folder. -1 when it does not fit in n
 * bytes or var/ cannot be made. */
int cli_beside_db(const char *db, const char *name, char *out, size_t n)
{
    const char *slash;
    if(cli_db_is_postgres(db)) {
        if(mkdir("var", 0700) && errno != EEXIST)
            return -1;
        return snprintf(out, n, "var/%s", name) < (int)n ? 0 : -1;
    }
    if(!strncmp(db, "sqlite:", 7))
        db += 7;
    slash = strrchr(db, '/');
    if(slash)
        return snprintf(out, n, "%.*s/%s", (int)(slash - db), db, name) < (int)n ? 0 : -1;
    return snprintf(out, n, "%s", name) < (int)n ? 0 : -1;
}

int cli_open(struct cli *c)
{
    const char *db = conf_get(c->conf, "db");
    const char *kf = conf_get(c->conf, "secret_key_file");
    char keyfile[4096];
    int rc, version;

    if(c->opened)
        return EXIT_OK;
    if(cli_db_is_postgres(db) && !*kf && !*conf_get(c->conf, "secret_key")) {
        /* Every process on one PostgreSQL database (web, workers, the CLI, on any machine)
         * must seal and open secrets with the same key: it is never made up on the spot. */
        fprintf(stderr, "samtale: on PostgreSQL, set secret_key_file (or secret_key): every process on the "
                        "database must use the same key (docs/operations.md, PostgreSQL)\n");
        return EXIT_USAGE;
    }
    rc = store_open(db, &c->core.st);
    if(!rc)
        rc = store_migrate(c->core.st, &version);
    if(rc)
        return cli_fail(rc);
    if(!*kf) {
        if(cli_beside_db(db, "secret.key", keyfile, sizeof(keyfile))) {
            fprintf(stderr, "samtale: cannot choose a key file (database path too long); set secret_key_file\n");
            return EXIT_FAIL;
        }
        kf = keyfile;
    }
    rc = core_key_load(&c->core, conf_get(c->conf, "secret_key"), kf);
    if(rc)
        return cli_fail(rc);
    /* Mail queued from here goes out through `samtale serve` once SMTP is configured. */
    c->core.mail_enabled = *conf_get(c->conf, "smtp_url") != '\0';
    c->core.media_keep_s = conf_get_long(c->conf, "media_keep_unused_s");
    if(c->core.media_keep_s < 0 || c->core.media_keep_s > 366L * 86400) {
        fprintf(stderr, "samtale: media_keep_unused_s must be from 0 to 31622400\n");
        return EXIT_USAGE;
    }
    c->opened = 1;
    return EXIT_OK;
}

void cli_close(struct cli *c)
{
    if(c->core.st)
        store_close(c->core.st);
    c->core.st = NULL;
    c->opened = 0;
}

int cli_workspace(struct cli *c, const char *arg, struct store_workspace *out)
{
    struct store_workspace *list = NULL;
    size_t n = 0;
    int rc;
    if(arg)
        return core_workspace_find(&c->core, arg, out);
    rc = store_workspace_list(c->core.st, 0, 0, 2, &list, &n);
    if(!rc && n == 1)
        *out = list[0];
    free(list);
    if(rc)
        return rc;
    if(n == 0)
        return sam_fail(SAM_ENOTFOUND, "there is no workspace yet: add one with 'samtale workspace add NAME'");
    if(n > 1)
        return sam_fail(SAM_EINVAL, "there are several workspaces: name one with --workspace ID|NAME");
    return SAM_OK;
}

char *cli_read_line(size_t max)
{
    char *line = malloc(max + 2);
    size_t n;
    if(!line)
        return NULL;
    if(!fgets(line, (int)max + 2, stdin)) {
        free(line);
        return NULL;
    }
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    return line;
}

json_t *cli_string_list(const char *const *v, int n)
{
    json_t *list;
    if(n <= 0)
        return NULL;
    list = json_array();
    for(int i = 0; list && i < n; i++)
        json_array_append_new(list, json_string(v[i]));
    return list;
}

void cli_print_json(json_t *j)
{
    if(!j) {
        fputs("null\n", stdout);
        return;
    }
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
}

void cli_print_finding(FILE *to, const char *prefix, const json_t *v)
{
    const char *sev = json_string_value(json_object_get(v, "severity"));
    fprintf(to, "%s%s %s: %s\n", prefix ? prefix : "", sev && !strcmp(sev, "block") ? "BLOCK" : "warning",
            json_string_value(json_object_get(v, "rule")), json_string_value(json_object_get(v, "message")));
}

struct cli_table {
    int ncols;
    size_t nrows, cap;
    char **cells; /* nrows * ncols, row 0 = headers */
};

struct cli_table *cli_table_new(int ncols, const char *const *headers)
{
    struct cli_table *t = calloc(1, sizeof(*t));
    if(!t)
        return NULL;
    t->ncols = ncols;
    cli_table_row(t, headers);
    return t;
}

void cli_table_row(struct cli_table *t, const char *const *cells)
{
    if(!t)
        return;
    if(t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **p = realloc(t->cells, cap * (size_t)t->ncols * sizeof(*p));
        if(!p)
            return;
        t->cells = p;
        t->cap = cap;
    }
    for(int i = 0; i < t->ncols; i++) {
        /* Control characters in names must not move the terminal's cursor. */
        char *s = strdup(cells[i] ? cells[i] : "");
        for(char *q = s; q && *q; q++)
            if((unsigned char)*q < 0x20 || *q == 0x7f)
                *q = '?';
        t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = s;
    }
    t->nrows++;
}

static size_t width(const char *s)
{
    long n = utf8_count(s, strlen(s));
    return n < 0 ? strlen(s) : (size_t)n;
}

void cli_table_print(struct cli_table *t)
{
    size_t w[32] = {0};
    if(!t)
        return;
    for(size_t r = 0; r < t->nrows; r++)
        for(int c = 0; c < t->ncols && c < 32; c++) {
            const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];
            if(s && width(s) > w[c])
                w[c] = width(s);
        }
    for(size_t r = 0; r < t->nrows; r++) {
        for(int c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];
            s = s ? s : "";
            if(c == t->ncols - 1)
                printf("%s", s);
            else
                printf("%s%*s  ", s, (int)(w[c] - width(s)), "");
        }
        putchar('\n');
    }
    if(t->nrows == 1)
        printf("(none)\n");
}

void cli_table_free(struct cli_table *t)
{
    if(!t)
        return;
    for(size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
