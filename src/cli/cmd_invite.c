/* cmd_invite.c: `samtale invite create|list|renew|revoke`: invitations to a workspace,
 * the same as the dashboard's Members page makes (core/invite.c). */
#include "cli/cli.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: samtale invite create --workspace W --email E --role R [--name N] [--language L]\n"
    "       samtale invite list [--workspace W]\n"
    "       samtale invite renew ID [--workspace W]\n"
    "       samtale invite revoke ID [--workspace W]\n"
    "\n"
    "Invites a person into workspace W with role R (owner, editor, agent or viewer). The\n"
    "person opens the invitation's link, chooses their own password (or logs in, when they\n"
    "have an account) and joins. When mail is configured (smtp_url) the link is mailed to E\n"
    "in language L (en, nb or sv); otherwise it is printed here, once: pass it on yourself.\n"
    "A link works once and for 7 days; renew makes a new one (the old stops working).\n";

/* samtale's address for people: public_url, else the listen address. */
static void base_url(struct cli *c, char *out, size_t n)
{
    const char *pub = conf_get(c->conf, "public_url");
    size_t len;
    if(*pub)
        snprintf(out, n, "%s", pub);
    else
        snprintf(out, n, "http://%s", conf_get(c->conf, "listen"));
    len = strlen(out);
    while(len && out[len - 1] == '/')
        out[--len] = '\0';
}

static void print_invitation(struct cli *c, const struct store_invitation *v, const char *secret)
{
    char link[800] = "", base[600];
    if(secret && secret[0] && !strcmp(v->delivery, "link")) {
        base_url(c, base, sizeof(base));
        snprintf(link, sizeof(link), "%s/#/invite/%s", base, secret);
    }
    if(c->json) {
        json_t *j = view_invitation(v, time_now());
        if(link[0])
            json_object_set_new(j, "link", json_string(link));
        cli_print_json(j);
    } else if(link[0]) {
        printf("invitation %lld: %s as %s of \"%s\"\nlink (shown once; send it to them): %s\n", (long long)v->id,
               v->email, v->role, v->workspace_name, link);
    } else {
        printf("invitation %lld: %s as %s of \"%s\"; the link was mailed to them\n", (long long)v->id, v->email,
               v->role, v->workspace_name);
    }
    sodium_memzero(link, sizeof(link));
}

static int invite_create(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *pos[1];
    struct invite_input in;
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--email", &in.email, 0, 0, 0, 0},
                             {"--role", &in.role, 0, 0, 0, 0},      {"--name", &in.name, 0, 0, 0, 0},
                             {"--language", &in.language, 0, 0, 0, 0}, {0}};
    struct store_workspace w;
    struct store_invitation v;
    struct actor sys = {.system = 1};
    char secret[CORE_INVITE_SECRET_MAX], base[600];

    memset(&in, 0, sizeof(in));
    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if(!in.email || !in.role) {
        fprintf(stderr, "samtale: invite create needs --email and --role\n\n%s", usage);
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    snprintf(sys.label, sizeof(sys.label), "cli");
    in.by_email = c->core.mail_enabled;
    base_url(c, base, sizeof(base));
    rc = core_invite_send(&c->core, &sys, w.id, &in, base, time_now(), &v, secret);
    if(rc)
        return cli_fail(rc);
    print_invitation(c, &v, secret);
    sodium_memzero(secret, sizeof(secret));
    return EXIT_OK;
}

static int invite_list(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {0}};
    struct store_workspace w;
    struct store_invitation *vs = NULL;
    size_t n = 0;
    int64_t now = time_now();
    const char *headers[] = {"ID", "EMAIL", "ROLE", "STATE", "SENT BY", "EXPIRES"};

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    if((rc = store_invitation_list(c->core.st, w.id, 0, 100000, &vs, &n)))
        return cli_fail(rc);
    if(c->json) {
        json_t *a = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(a, view_invitation(&vs[i], now));
        cli_print_json(a);
    } else {
        struct cli_table *t = cli_table_new(6, headers);
        for(size_t i = 0; i < n; i++) {
            char id[24], at[32];
            snprintf(id, sizeof(id), "%lld", (long long)vs[i].id);
            time_rfc3339(vs[i].expires_at, at, sizeof(at));
            const char *row[] = {id, vs[i].email, vs[i].role, core_invite_state(&vs[i], now),
                                 strcmp(vs[i].delivery, "email") ? "link" : "email", at};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    free(vs);
    return EXIT_OK;
}

static int invite_one(struct cli *c, int argc, char **argv, int renew)
{
    const char *ws = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {0}};
    struct store_workspace w;
    struct store_invitation v;
    struct actor sys = {.system = 1};
    char secret[CORE_INVITE_SECRET_MAX], base[600], *end;
    long long id;

    CLI_PARSE(argc, argv, opts, pos, 1, &npos, usage);
    if(npos != 1 || (id = strtoll(pos[0], &end, 10)) <= 0 || *end) {
        fprintf(stderr, "samtale: invite %s needs the invitation's ID\n\n%s", renew ? "renew" : "revoke", usage);
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    snprintf(sys.label, sizeof(sys.label), "cli");
    if(!renew) {
        if((rc = core_invite_revoke(&c->core, &sys, w.id, id, time_now())))
            return cli_fail(rc);
        if(c->json)
            cli_print_json(json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
        else
            printf("invitation %lld withdrawn: its link no longer works\n", id);
        return EXIT_OK;
    }
    base_url(c, base, sizeof(base));
    if((rc = core_invite_resend(&c->core, &sys, w.id, id, base, time_now(), &v, secret)))
        return cli_fail(rc);
    print_invitation(c, &v, secret);
    sodium_memzero(secret, sizeof(secret));
    return EXIT_OK;
}

int cmd_invite(struct cli *c, int argc, char **argv)
{
    if(argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    if(!strcmp(argv[0], "create"))
        return invite_create(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "list"))
        return invite_list(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "renew"))
        return invite_one(c, argc - 1, argv + 1, 1);
    if(!strcmp(argv[0], "revoke"))
        return invite_one(c, argc - 1, argv + 1, 0);
    fprintf(stderr, "samtale: unknown invite command '%s'\n\n%s", argv[0], usage);
    return EXIT_USAGE;
}
