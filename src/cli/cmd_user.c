/* cmd_user.c: `samtale user ...` and `samtale workspace ...`. */
#include "cli/cli.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *user_usage =
    "usage: samtale user add --email E [--name N] --workspace W --role R [--password-stdin]\n"
    "       samtale user list [--workspace W]\n"
    "       samtale user passwd --email E [--password-stdin]\n"
    "       samtale user reset-second-factor --email E\n"
    "\n"
    "  add      create an account (or reuse the one with that email) and make it a member\n"
    "           of workspace W with role R (owner, editor, agent or viewer). Without\n"
    "           --password-stdin a one-time password is printed; it must be changed at\n"
    "           the first login.\n"
    "  list     accounts and their roles\n"
    "  passwd   set a new password: from standard input, or a printed one-time password\n"
    "  reset-second-factor\n"
    "           remove the account's two-step login (lost phone and recovery codes); its\n"
    "           sessions end, and it turns two-step login on again at the next login\n";

static void print_member(struct cli *c, const struct store_member *m, const char *otp)
{
    if(c->json) {
        json_t *j = view_member(m);
        if(otp && *otp)
            json_object_set_new(j, "one_time_password", json_string(otp));
        cli_print_json(j);
        return;
    }
    printf("%s is %s of workspace \"%s\" (account %lld)\n", m->email, m->role, m->workspace_name,
           (long long)m->user_id);
    if(otp && *otp)
        printf("one-time password: %s\n(it must be changed at the first login)\n", otp);
}

static char *password_from_stdin(void)
{
    char *pw = cli_read_line(1024);
    if(!pw)
        fprintf(stderr, "samtale: --password-stdin: no password on standard input\n");
    return pw;
}

static int user_add(struct cli *c, int argc, char **argv)
{
    const char *email = NULL, *name = NULL, *ws = NULL, *role = NULL, *pos[1];
    int pwstdin = 0, npos, code, rc;
    struct cli_opt opts[] = {{"--email", &email, 0, 0, 0, 0}, {"--name", &name, 0, 0, 0, 0},
                             {"--workspace", &ws, 0, 0, 0, 0}, {"--role", &role, 0, 0, 0, 0},
                             {"--password-stdin", 0, &pwstdin, 0, 0, 0}, {0}};
    struct store_workspace w;
    struct store_member m;
    struct actor sys = {.system = 1};
    char otp[24] = "", *pw = NULL;

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, user_usage);
    if(!email || !role) {
        fprintf(stderr, "samtale: user add needs --email and --role\n\n%s", user_usage);
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    if(pwstdin && !(pw = password_from_stdin()))
        return EXIT_USAGE;
    snprintf(sys.label, sizeof(sys.label), "cli");
    rc = core_member_add(&c->core, &sys, w.id, email, name, role, pw, otp, &m);
    if(pw) {
        sodium_memzero(pw, strlen(pw));
        free(pw);
    }
    if(rc)
        return cli_fail(rc);
    print_member(c, &m, otp);
    return EXIT_OK;
}

static int user_list(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {0}};
    struct store_workspace w = {0};
    struct store_member *ms = NULL;
    size_t n = 0;
    const char *headers[] = {"ACCOUNT", "EMAIL", "NAME", "WORKSPACE", "ROLE"};

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, user_usage);
    if((code = cli_open(c)))
        return code;
    if(ws && (rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    rc = store_member_list(c->core.st, w.id, 0, 0, 100000, &ms, &n);
    if(rc)
        return cli_fail(rc);
    if(c->json) {
        json_t *a = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(a, view_member(&ms[i]));
        cli_print_json(a);
    } else {
        struct cli_table *t = cli_table_new(5, headers);
        for(size_t i = 0; i < n; i++) {
            char id[24];
            snprintf(id, sizeof(id), "%lld", (long long)ms[i].user_id);
            const char *row[] = {id, ms[i].email, ms[i].name, ms[i].workspace_name, ms[i].role};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    free(ms);
    return EXIT_OK;
}

static int user_passwd(struct cli *c, int argc, char **argv)
{
    const char *email = NULL, *pos[1];
    int pwstdin = 0, npos, code, rc;
    struct cli_opt opts[] = {{"--email", &email, 0, 0, 0, 0}, {"--password-stdin", 0, &pwstdin, 0, 0, 0}, {0}};
    struct actor sys = {.system = 1};
    char otp[24], *pw = NULL;

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, user_usage);
    if(!email) {
        fprintf(stderr, "samtale: user passwd needs --email\n\n%s", user_usage);
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if(pwstdin && !(pw = password_from_stdin()))
        return EXIT_USAGE;
    snprintf(sys.label, sizeof(sys.label), "cli");
    rc = core_user_set_password(&c->core, &sys, email, pw, otp);
    if(pw) {
        sodium_memzero(pw, strlen(pw));
        free(pw);
    }
    if(rc)
        return cli_fail(rc);
    if(c->json)
        cli_print_json(otp[0] ? json_pack("{s:s, s:s}", "email", email, "one_time_password", otp)
                              : json_pack("{s:s}", "email", email));
    else if(otp[0])
        printf("one-time password for %s: %s\n(it must be changed at the next login; other sessions were ended)\n",
               email, otp);
    else
        printf("password of %s changed; their sessions were ended\n", email);
    return EXIT_OK;
}

static int user_reset_second_factor(struct cli *c, int argc, char **argv)
{
    const char *email = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--email", &email, 0, 0, 0, 0}, {0}};
    struct actor sys = {.system = 1};

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, user_usage);
    if(!email) {
        fprintf(stderr, "samtale: user reset-second-factor needs --email\n\n%s", user_usage);
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    snprintf(sys.label, sizeof(sys.label), "cli");
    if((rc = core_totp_reset(&c->core, &sys, email)))
        return cli_fail(rc);
    if(c->json)
        cli_print_json(json_pack("{s:s, s:b}", "email", email, "second_factor", 0));
    else
        printf("two-step login of %s removed; their sessions were ended\n", email);
    return EXIT_OK;
}

int cmd_user(struct cli *c, int argc, char **argv)
{
    if(argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(user_usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    if(!strcmp(argv[0], "add"))
        return user_add(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "list"))
        return user_list(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "passwd"))
        return user_passwd(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "reset-second-factor"))
        return user_reset_second_factor(c, argc - 1, argv + 1);
    fprintf(stderr, "samtale: unknown user command '%s'\n\n%s", argv[0], user_usage);
    return EXIT_USAGE;
}

static const char *ws_usage =
    "usage: samtale workspace add NAME [--timezone TZ]\n"
    "       samtale workspace list\n"
    "\n"
    "A workspace is one brand: a company, or an agency's client. Its time zone (an IANA\n"
    "name such as Europe/Oslo; default from the config key 'timezone') is the default for\n"
    "its channels.\n";

int cmd_workspace(struct cli *c, int argc, char **argv)
{
    const char *tz = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--timezone", &tz, 0, 0, 0, 0}, {0}};
    struct actor sys = {.system = 1};
    snprintf(sys.label, sizeof(sys.label), "cli");

    if(argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(ws_usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    if(!strcmp(argv[0], "add")) {
        struct store_workspace w;
        CLI_PARSE(argc - 1, argv + 1, opts, pos, 1, &npos, ws_usage);
        if(npos != 1) {
            fprintf(stderr, "samtale: workspace add needs a NAME\n\n%s", ws_usage);
            return EXIT_USAGE;
        }
        if((code = cli_open(c)))
            return code;
        rc = core_workspace_create(&c->core, &sys, pos[0], tz ? tz : conf_get(c->conf, "timezone"), &w);
        if(rc)
            return cli_fail(rc);
        if(c->json)
            cli_print_json(view_workspace(&w));
        else
            printf("workspace %lld \"%s\" created (time zone %s)\n", (long long)w.id, w.name, w.timezone);
        return EXIT_OK;
    }
    if(!strcmp(argv[0], "list")) {
        struct store_workspace *ws = NULL;
        size_t n = 0;
        const char *headers[] = {"ID", "NAME", "TIME ZONE", "CREATED"};
        CLI_PARSE(argc - 1, argv + 1, NULL, pos, 0, &npos, ws_usage);
        if((code = cli_open(c)))
            return code;
        if((rc = store_workspace_list(c->core.st, 0, 0, 100000, &ws, &n)))
            return cli_fail(rc);
        if(c->json) {
            json_t *a = json_array();
            for(size_t i = 0; i < n; i++)
                json_array_append_new(a, view_workspace(&ws[i]));
            cli_print_json(a);
        } else {
            struct cli_table *t = cli_table_new(4, headers);
            for(size_t i = 0; i < n; i++) {
                char id[24], at[32];
                snprintf(id, sizeof(id), "%lld", (long long)ws[i].id);
                time_rfc3339(ws[i].created_at, at, sizeof(at));
                const char *row[] = {id, ws[i].name, ws[i].timezone, at};
                cli_table_row(t, row);
            }
            cli_table_print(t);
            cli_table_free(t);
        }
        free(ws);
        return EXIT_OK;
    }
    fprintf(stderr, "samtale: unknown workspace command '%s'\n\n%s", argv[0], ws_usage);
    return EXIT_USAGE;
}
