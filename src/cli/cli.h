/*
 * cli.h: what the command modules share: the global state (configuration, output mode,
 * the opened core), option parsing, table and JSON output, and exit codes.
 *
 * Exit codes (docs/cli.md): 0 success, 1 failure, 2 usage, 3 not found, 4 conflict,
 * 5 invalid input, 6 database error.
 */
#ifndef SAM_CLI_H
#define SAM_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "core/core.h"
#include "util/conf.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NOTFOUND = 3, EXIT_CONFLICT = 4,
       EXIT_INVALID = 5, EXIT_DB = 6 };

struct cli {
    struct conf *conf;
    int json;
    struct core core;
    int opened;
};

/* One option of a command: "--name VALUE" (value != NULL) or "--flag" (flag != NULL).
 * For repeatable options, list/nlist collect every value (up to max). */
struct cli_opt {
    const char *name;
    const char **value;
    int *flag;
    const char **list;
    int *nlist;
    int max;
};

/* Parses argv[0..argc) against opts; positional arguments go into pos (up to maxpos).
 * Prints the problem and returns EXIT_USAGE on an unknown option or a missing value;
 * returns -1 (after printing usage) for --help; else 0. */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, const char **pos, int maxpos, int *npos,
              const char *usage);

/* Parses, returning from the calling command on --help (EXIT_OK) or a usage error. */
#define CLI_PARSE(argc, argv, opts, pos, maxpos, npos, usage)                          \
    do {                                                                                 \
        int pr_ = cli_parse(argc, argv, opts, pos, maxpos, npos, usage);                 \
        if(pr_)                                                                          \
            return pr_ < 0 ? EXIT_OK : pr_;                                              \
    } while(0)

/* Opens the database (migrating it) and the secret key, once. Returns an exit code. */
int cli_open(struct cli *c);
void cli_close(struct cli *c);

/* Prints "samtale: <message>" for rc and returns its exit code. */
int cli_fail(int rc);
/* Whether the configured database is a PostgreSQL URL. */
int cli_db_is_postgres(const char *db);
/* The path of file `name` of the installation: beside a SQLite database, or var/NAME for
 * PostgreSQL (the files folder; the key must be configured there). -1 when it cannot be
 * made. */
int cli_beside_db(const char *db, const char *name, char *out, size_t n);
int cli_exit_code(int rc);

/* Resolves --workspace (id or name; may be NULL when there is only one). */
int cli_workspace(struct cli *c, const char *arg, struct store_workspace *out);

/* Reads one line (without its newline) from standard input into a new string. */
char *cli_read_line(size_t max);

/* A JSON list of the n strings of a repeated option (--slot, --variant), or NULL when n is
 * 0 (the option was not given). New reference. */
json_t *cli_string_list(const char *const *v, int n);

/* Prints j as JSON (pretty) and releases it. */
void cli_print_json(json_t *j);
/* One finding of the checks (a Violation) as a line: prefix, "BLOCK" or "warning", the
 * rule, the message in words. */
void cli_print_finding(FILE *to, const char *prefix, const json_t *v);

/* A simple table: columns sized to their widest cell. */
struct cli_table;
struct cli_table *cli_table_new(int ncols, const char *const *headers);
void cli_table_row(struct cli_table *t, const char *const *cells);
void cli_table_print(struct cli_table *t);
void cli_table_free(struct cli_table *t);

int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_migrate(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);
int cmd_config(struct cli *c, int argc, char **argv);
int cmd_routes(struct cli *c, int argc, char **argv);
int cmd_user(struct cli *c, int argc, char **argv);
int cmd_workspace(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_channel(struct cli *c, int argc, char **argv);
int cmd_post(struct cli *c, int argc, char **argv);
int cmd_post_import(struct cli *c, int argc, char **argv);
int cmd_post_export(struct cli *c, int argc, char **argv);
int cmd_queue(struct cli *c, int argc, char **argv);
int cmd_series(struct cli *c, int argc, char **argv);
int cmd_messages(struct cli *c, int argc, char **argv);
int cmd_engagement(struct cli *c, int argc, char **argv);
int cmd_invite(struct cli *c, int argc, char **argv);
int cmd_mail(struct cli *c, int argc, char **argv);
int cmd_approval(struct cli *c, int argc, char **argv);
/* samtale post approve|reject|request-changes ID (argv[0] is the decision). */
int cmd_post_decide(struct cli *c, int argc, char **argv);

/* The actor a command acts as in workspace ws: the operator (every right) when email is
 * NULL, else that member (--as EMAIL), who must be allowed perm there (core_allowed):
 * their role then decides, as in the API (whose posts need approval, who approves). */
int cli_actor(struct cli *c, int64_t ws, const char *email, unsigned perm, struct actor *out);

#endif
