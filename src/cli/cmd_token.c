/* cmd_token.c: `samtale token create|list|revoke`. */
#include "cli/cli.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: samtale token create --workspace W --name N --scope S [--scope S ...] [--user EMAIL]\n"
    "       samtale token list [--workspace W]\n"
    "       samtale token revoke ID\n"
    "\n"
    "API tokens let scripts use the HTTP API ('Authorization: Bearer TOKEN'). A token is\n"
    "shown once, when created; only its hash is kept. It acts as its member (--user, by\n"
    "default the workspace's first owner) and can never do more than that member's role.\n"
    "\n"
    "Scopes: workspaces:read workspaces:write members:read members:write tokens:read\n"
    "        tokens:write channels:read channels:write audit:read, or * for all.\n";

static int token_create(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *name = NULL, *user = NULL, *scopes[32], *pos[1];
    int nscopes = 0, npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--name", &name, 0, 0, 0, 0},
                             {"--user", &user, 0, 0, 0, 0}, {"--scope", 0, 0, scopes, &nscopes, 32}, {0}};
    struct store_workspace w;
    struct store_token t;
    struct actor sys = {.system = 1};
    char text[STORE_SCOPES_MAX + 1] = "", secret[80];
    unsigned bits;
    int64_t uid = 0;

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if(!name || !nscopes) {
        fprintf(stderr, "samtale: token create needs --name and at least one --scope\n\n%s", usage);
        return EXIT_USAGE;
    }
    for(int i = 0; i < nscopes; i++) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof(text) - used, "%s%s", used ? " " : "", scopes[i]);
    }
    if((rc = core_scopes_parse(text, &bits)))
        return cli_fail(rc);
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    if(user) {
        struct store_user u;
        if((rc = store_user_get_by_email(c->core.st, user, &u)))
            return cli_fail(rc == SAM_ENOTFOUND ? sam_fail(rc, "no account with email %s", user) : rc);
        uid = u.id;
    }
    snprintf(sys.label, sizeof(sys.label), "cli");
    rc = core_token_create(&c->core, &sys, w.id, uid, name, bits, secret, sizeof(secret), &t);
    if(rc)
        return cli_fail(rc);
    if(c->json) {
        json_t *j = view_token(&t);
        json_object_set_new(j, "token", json_string(secret));
        cli_print_json(j);
    } else {
        printf("token %lld \"%s\" created with scopes: %s\n%s\n"
               "(this is the only time it is shown: store it now)\n",
               (long long)t.id, t.name, t.scopes, secret);
    }
    sodium_memzero(secret, sizeof(secret));
    return EXIT_OK;
}

static int token_list(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {0}};
    struct store_workspace w = {0};
    struct store_token *ts = NULL;
    size_t n = 0;
    const char *headers[] = {"ID", "WORKSPACE", "NAME", "PREFIX", "SCOPES", "LAST USED", "REVOKED"};

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if((code = cli_open(c)))
        return code;
    if(ws && (rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    if((rc = store_token_list(c->core.st, w.id, 0, 100000, &ts, &n)))
        return cli_fail(rc);
    if(c->json) {
        json_t *a = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(a, view_token(&ts[i]));
        cli_print_json(a);
    } else {
        struct cli_table *t = cli_table_new(7, headers);
        for(size_t i = 0; i < n; i++) {
            char id[24], wsid[24], used[32] = "never", rev[32] = "";
            snprintf(id, sizeof(id), "%lld", (long long)ts[i].id);
            snprintf(wsid, sizeof(wsid), "%lld", (long long)ts[i].workspace_id);
            if(ts[i].last_used_at)
                time_rfc3339(ts[i].last_used_at, used, sizeof(used));
            if(ts[i].revoked_at)
                time_rfc3339(ts[i].revoked_at, rev, sizeof(rev));
            const char *row[] = {id, wsid, ts[i].name, ts[i].prefix, ts[i].scopes, used, rev};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    free(ts);
    return EXIT_OK;
}

static int token_revoke(struct cli *c, int argc, char **argv)
{
    const char *pos[1];
    int npos, code, rc;
    struct actor sys = {.system = 1};
    char *end;
    long long id;
    CLI_PARSE(argc, argv, NULL, pos, 1, &npos, usage);
    if(npos != 1 || (id = strtoll(pos[0], &end, 10)) <= 0 || *end) {
        fprintf(stderr, "samtale: token revoke needs a token ID (see 'samtale token list')\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    snprintf(sys.label, sizeof(sys.label), "cli");
    if((rc = core_token_revoke(&c->core, &sys, 0, id)))
        return cli_fail(rc);
    if(c->json)
        cli_print_json(json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
    else
        printf("token %lld revoked\n", id);
    return EXIT_OK;
}

int cmd_token(struct cli *c, int argc, char **argv)
{
    if(argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    if(!strcmp(argv[0], "create"))
        return token_create(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "list"))
        return token_list(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "revoke"))
        return token_revoke(c, argc - 1, argv + 1);
    fprintf(stderr, "samtale: unknown token command '%s'\n\n%s", argv[0], usage);
    return EXIT_USAGE;
}
