/*
 * main.c: the samtale command: global options, configuration (file < environment <
 * flags), and dispatch to the command modules (cmd_*.c). Commands are thin: they parse,
 * call core/, and print a table or JSON.
 */
#include "cli/cli.h"
#include "util/err.h"
#include "util/i18n.h"
#include "util/log.h"
#include "util/netpolicy.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *usage =
    "usage: samtale [--config FILE] [--db PATH|URL] [--secret-key-file PATH] [--json] COMMAND [ARGS]\n"
    "\n"
    "samtale is a self-hosted social media engine: publishing queue, shared inbox,\n"
    "listening, goals and reports, in one program with an embedded database.\n"
    "\n"
    "Commands:\n"
    "  serve       run the HTTP server, API, dashboard and workers\n"
    "  migrate     apply database migrations and show the schema version\n"
    "  backup      make a consistent copy of the database while it is in use\n"
    "  config      show the effective configuration (secrets masked)\n"
    "  routes      list the HTTP API routes\n"
    "  workspace   add and list workspaces (brands)\n"
    "  user        add accounts (as the operator), list them, set passwords\n"
    "  invite      invite people into a workspace; list, renew and withdraw invitations\n"
    "  token       create, list and revoke API tokens\n"
    "  channel     add, connect, edit, list and remove channels; slots; read now\n"
    "  messages    mentions, replies and direct messages read from the channels\n"
    "  engagement  likes, reposts and replies of a published post\n"
    "  post        write, schedule, list, edit and cancel posts\n"
    "  queue       show what is planned, in each channel's local time\n"
    "  series      repeat a post by a rule (evergreen), list series\n"
    "  approval    the posts waiting for approval (decide with 'post approve')\n"
    "  mail        send a test email, list the mail outbox\n"
    "  version     print the version\n"
    "\n"
    "Global options (also settable in samtale.conf or as SAMTALE_* environment variables):\n"
    "  --config FILE            configuration file (default: samtale.conf when present)\n"
    "  --db PATH|URL            SQLite database file (default: var/samtale.db), or a\n"
    "                           PostgreSQL URL: postgresql://user@host/dbname\n"
    "  --secret-key-file PATH   key that encrypts channel secrets (default: beside the database)\n"
    "  --json                   print JSON instead of tables\n"
    "  --log-level LEVEL        debug, info, warn or error\n"
    "\n"
    "Run 'samtale COMMAND --help' for a command's options. Exit codes: 0 success, 1 failure,\n"
    "2 usage, 3 not found, 4 conflict, 5 invalid input, 6 database error.\n";

struct command {
    const char *name;
    int (*fn)(struct cli *c, int argc, char **argv);
};

static const struct command commands[] = {
    {"serve", cmd_serve}, {"migrate", cmd_migrate}, {"backup", cmd_backup},
    {"config", cmd_config}, {"routes", cmd_routes}, {"user", cmd_user},
    {"workspace", cmd_workspace}, {"token", cmd_token}, {"channel", cmd_channel},
    {"post", cmd_post}, {"queue", cmd_queue}, {"series", cmd_series},
    {"messages", cmd_messages}, {"engagement", cmd_engagement}, {"invite", cmd_invite},
    {"mail", cmd_mail}, {"approval", cmd_approval},
};

/* Global options may stand anywhere; they are taken out of argv. */
static int take_globals(struct cli *c, int *argc, char **argv, const char **config)
{
    static const char *valued[] = {"--config", "--db", "--secret-key-file", "--log-level", "--log-format"};
    static const char *keys[] = {NULL, "db", "secret_key_file", "log_level", "log_format"};
    int out = 1;
    for(int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        int matched = 0;
        if(!strcmp(a, "--json")) {
            c->json = 1;
            continue;
        }
        for(size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
            size_t len = strlen(valued[k]);
            const char *v = NULL;
            if(!strcmp(a, valued[k])) {
                if(i + 1 >= *argc) {
                    fprintf(stderr, "samtale: %s needs a value\n", valued[k]);
                    return EXIT_USAGE;
                }
                v = argv[++i];
            } else if(!strncmp(a, valued[k], len) && a[len] == '=') {
                v = a + len + 1;
            } else {
                continue;
            }
            matched = 1;
            if(!keys[k])
                *config = v;
            else
                conf_set(c->conf, keys[k], v, CONF_FLAG);
            break;
        }
        if(!matched)
            argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    struct cli c;
    const char *config = NULL;
    int rc, code;
    struct conf *flags;

    memset(&c, 0, sizeof(c));
    /* The CLI speaks the language of its environment (POSIX order: LC_ALL, LC_MESSAGES,
     * LANG); "nb_NO.UTF-8" is bokmål, "C" or an unknown one English. */
    {
        const char *env[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
        for(size_t i = 0; i < 3; i++) {
            const char *v = getenv(env[i]);
            if(v && *v) {
                i18n_set_lang(v);
                break;
            }
        }
    }
    if(sodium_init() < 0) {
        fprintf(stderr, "samtale: libsodium failed to start\n");
        return EXIT_FAIL;
    }
    /* Flags are collected first, then applied over file and environment. */
    flags = conf_new();
    c.conf = conf_new();
    if(!flags || !c.conf) {
        fprintf(stderr, "samtale: out of memory\n");
        return EXIT_FAIL;
    }
    {
        struct cli tmp = {.conf = flags};
        if((code = take_globals(&tmp, &argc, argv, &config)))
            return code;
        c.json = tmp.json;
    }
    if(!config)
        config = getenv("SAMTALE_CONFIG");
    if(config || access("samtale.conf", R_OK) == 0) {
        rc = conf_load_file(c.conf, config ? config : "samtale.conf");
        if(rc) {
            fprintf(stderr, "samtale: %s\n", sam_errmsg(rc));
            return EXIT_USAGE;
        }
    }
    rc = conf_load_env(c.conf);
    for(size_t i = 0; !rc && conf_key(i); i++)
        if(conf_source_of(flags, conf_key(i)) == CONF_FLAG)
            rc = conf_set(c.conf, conf_key(i), conf_get(flags, conf_key(i)), CONF_FLAG);
    conf_free(flags);
    if(rc) {
        fprintf(stderr, "samtale: %s\n", sam_errmsg(rc));
        return EXIT_USAGE;
    }
    rc = log_setup(conf_get(c.conf, "log_level"), conf_get(c.conf, "log_format"));
    /* The outbound address policy, before any command can connect anywhere. */
    if(!rc)
        rc = netpolicy_configure(conf_get_bool(c.conf, "allow_private_addresses"), conf_get(c.conf, "outbound_allow"));
    if(rc) {
        fprintf(stderr, "samtale: %s\n", sam_errmsg(rc));
        conf_free(c.conf);
        return EXIT_USAGE;
    }

    if(argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        conf_free(c.conf);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if(!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("samtale %s\n", SAMTALE_VERSION);
        conf_free(c.conf);
        return EXIT_OK;
    }
    code = -1;
    for(size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if(!strcmp(argv[1], commands[i].name))
            code = commands[i].fn(&c, argc - 2, argv + 2);
    if(code < 0) {
        fprintf(stderr, "samtale: unknown command '%s'\n\n%s", argv[1], usage);
        code = EXIT_USAGE;
    }
    cli_close(&c);
    conf_free(c.conf);
    return code;
}
