/* cmd_channel.c: `samtale channel add|list|show|remove`. */
#include "cli/cli.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: samtale channel add --workspace W --kind K --name N [--timezone TZ]\n"
    "                           [--setting KEY=VALUE ...] [--secret-stdin]\n"
    "       samtale channel list [--workspace W] [--kind K]\n"
    "       samtale channel show ID\n"
    "       samtale channel slots ID [--set SLOT ...] [--days N]\n"
    "       samtale channel remove ID\n"
    "\n"
    "A channel is a connected account (bluesky, mastodon), a source to listen to (feed,\n"
    "jetstream) or a target (file, webhook). Its time zone (default: the workspace's) is\n"
    "the one its posting slots use. --secret-stdin reads a secret (app password, signing\n"
    "key) from standard input; it is stored encrypted and never shown again.\n"
    "Settings by kind: file: path; webhook: url; feed: url; bluesky: handle;\n"
    "mastodon: instance_url.\n"
    "\n"
    "Posting slots are weekly times in the channel's time zone, e.g. --slot 'mon 09:00'\n"
    "(repeat it; publishing channels start with weekdays 09:00, 12:30 and 15:30).\n"
    "'channel slots ID' shows the next slot times (14 days, --days up to 92), with the\n"
    "daylight-saving changes applied; --set replaces the slots.\n";

static void print_channel(struct cli *c, const struct store_channel *ch)
{
    char at[32];
    if(c->json) {
        cli_print_json(view_channel(ch));
        return;
    }
    time_rfc3339(ch->created_at, at, sizeof(at));
    printf("channel %lld\n  name:      %s\n  kind:      %s\n  workspace: %lld\n  time zone: %s\n"
           "  status:    %s\n  settings:  %s\n  secret:    %s\n  slots:     %s\n  caps:      %d an hour, %d a day\n"
           "  created:   %s\n",
           (long long)ch->id, ch->name, ch->kind, (long long)ch->workspace_id, ch->timezone, ch->status,
           ch->settings ? ch->settings : "{}", ch->secret ? "stored (encrypted)" : "none",
           ch->slots ? ch->slots : "[]", ch->max_per_hour, ch->max_per_day, at);
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if(v <= 0 || *end)
        return -1;
    *id = v;
    return 0;
}

static int channel_add(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *kind = NULL, *name = NULL, *tz = NULL, *settings[64], *slots[SLOTS_MAX], *pos[1];
    int nsettings = 0, nslots = 0, secret_stdin = 0, npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--kind", &kind, 0, 0, 0, 0},
                             {"--name", &name, 0, 0, 0, 0}, {"--timezone", &tz, 0, 0, 0, 0},
                             {"--setting", 0, 0, settings, &nsettings, 64},
                             {"--slot", 0, 0, slots, &nslots, SLOTS_MAX},
                             {"--secret-stdin", 0, &secret_stdin, 0, 0, 0}, {0}};
    struct store_workspace w;
    struct store_channel ch;
    struct channel_input in;
    struct actor sys = {.system = 1};
    json_t *obj;
    char *secret = NULL;

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if(!kind || !name) {
        fprintf(stderr, "samtale: channel add needs --kind and --name\n\n%s", usage);
        return EXIT_USAGE;
    }
    obj = json_object();
    for(int i = 0; i < nsettings; i++) {
        const char *eq = strchr(settings[i], '=');
        if(!eq || eq == settings[i]) {
            fprintf(stderr, "samtale: --setting takes KEY=VALUE, not '%s'\n", settings[i]);
            json_decref(obj);
            return EXIT_USAGE;
        }
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - settings[i]), settings[i]);
        json_object_set_new(obj, key, json_string(eq + 1));
    }
    if((code = cli_open(c))) {
        json_decref(obj);
        return code;
    }
    if((rc = cli_workspace(c, ws, &w))) {
        json_decref(obj);
        return cli_fail(rc);
    }
    if(secret_stdin && !(secret = cli_read_line(8192))) {
        fprintf(stderr, "samtale: --secret-stdin: no secret on standard input\n");
        json_decref(obj);
        return EXIT_USAGE;
    }
    memset(&in, 0, sizeof(in));
    in.kind = kind;
    in.name = name;
    in.timezone = tz;
    in.settings = obj;
    in.secret = secret;
    in.secret_len = secret ? strlen(secret) : 0;
    json_t *slot_list = cli_string_list(slots, nslots);
    in.slots = slot_list;
    snprintf(sys.label, sizeof(sys.label), "cli");
    rc = core_channel_create(&c->core, &sys, w.id, &in, &ch);
    json_decref(obj);
    json_decref(slot_list);
    if(secret) {
        sodium_memzero(secret, strlen(secret));
        free(secret);
    }
    if(rc)
        return cli_fail(rc);
    print_channel(c, &ch);
    store_channel_cleanup(&ch);
    return EXIT_OK;
}

static int channel_list(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *kind = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--kind", &kind, 0, 0, 0, 0}, {0}};
    struct store_workspace w = {0};
    struct store_channel *cs = NULL;
    size_t n = 0;
    const char *headers[] = {"ID", "WORKSPACE", "KIND", "NAME", "TIME ZONE", "STATUS"};

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if(kind && !core_channel_kind_valid(kind)) {
        fprintf(stderr, "samtale: --kind must be bluesky, mastodon, feed, jetstream, file or webhook\n");
        return EXIT_INVALID;
    }
    if((code = cli_open(c)))
        return code;
    if(ws && (rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    if((rc = store_channel_list(c->core.st, w.id, kind, 0, 100000, &cs, &n)))
        return cli_fail(rc);
    if(c->json) {
        json_t *a = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(a, view_channel(&cs[i]));
        cli_print_json(a);
    } else {
        struct cli_table *t = cli_table_new(6, headers);
        for(size_t i = 0; i < n; i++) {
            char id[24], wsid[24];
            snprintf(id, sizeof(id), "%lld", (long long)cs[i].id);
            snprintf(wsid, sizeof(wsid), "%lld", (long long)cs[i].workspace_id);
            const char *row[] = {id, wsid, cs[i].kind, cs[i].name, cs[i].timezone, cs[i].status};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    store_channel_list_free(cs, n);
    return EXIT_OK;
}

static int channel_one(struct cli *c, int argc, char **argv, int remove)
{
    const char *pos[1];
    int npos, code, rc;
    int64_t id;
    struct store_channel ch;
    struct actor sys = {.system = 1};
    CLI_PARSE(argc, argv, NULL, pos, 1, &npos, usage);
    if(npos != 1 || parse_id(pos[0], &id)) {
        fprintf(stderr, "samtale: give a channel ID (see 'samtale channel list')\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if(!remove) {
        if((rc = core_channel_get(&c->core, 0, id, &ch)))
            return cli_fail(rc);
        print_channel(c, &ch);
        store_channel_cleanup(&ch);
        return EXIT_OK;
    }
    snprintf(sys.label, sizeof(sys.label), "cli");
    if((rc = core_channel_delete(&c->core, &sys, 0, id)))
        return cli_fail(rc);
    if(c->json)
        cli_print_json(json_pack("{s:I, s:b}", "id", (json_int_t)id, "removed", 1));
    else
        printf("channel %lld removed\n", (long long)id);
    return EXIT_OK;
}

static int channel_slots(struct cli *c, int argc, char **argv)
{
    const char *pos[1], *days = NULL, *set[SLOTS_MAX];
    int npos, nset = 0, code, rc;
    struct cli_opt opts[] = {{"--days", &days, 0, 0, 0, 0}, {"--set", 0, 0, set, &nset, SLOTS_MAX}, {0}};
    struct store_channel ch;
    struct actor sys = {.system = 1};
    int64_t id;
    long d = 14;
    json_t *up = NULL, *v;
    size_t i;

    CLI_PARSE(argc, argv, opts, pos, 1, &npos, usage);
    if(npos != 1 || parse_id(pos[0], &id)) {
        fprintf(stderr, "samtale: give a channel ID (see 'samtale channel list')\n");
        return EXIT_USAGE;
    }
    if(days && ((d = strtol(days, NULL, 10)) < 1 || d > 92)) {
        fprintf(stderr, "samtale: --days must be from 1 to 92\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if(nset) {
        struct channel_input in;
        json_t *list = cli_string_list(set, nset);
        memset(&in, 0, sizeof(in));
        in.slots = list;
        snprintf(sys.label, sizeof(sys.label), "cli");
        rc = core_channel_update(&c->core, &sys, 0, id, &in, &ch);
        json_decref(list);
    } else {
        rc = core_channel_get(&c->core, 0, id, &ch);
    }
    if(!rc)
        rc = core_channel_upcoming(&ch, time_now(), (int)d, &up);
    if(rc) {
        store_channel_cleanup(&ch);
        return cli_fail(rc);
    }
    if(c->json) {
        cli_print_json(json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)ch.id, "timezone", ch.timezone,
                                 "slots", json_loads(ch.slots, 0, NULL), "upcoming", up));
    } else {
        printf("channel %lld \"%s\" (%s): slots %s\nnext %ld days:\n", (long long)ch.id, ch.name, ch.timezone,
               ch.slots, d);
        json_array_foreach(up, i, v)
            printf("  %s  (%s)\n", json_string_value(json_object_get(v, "local")),
                   json_string_value(json_object_get(v, "at")));
        if(json_array_size(up) == 0)
            printf("  (no slots)\n");
        json_decref(up);
    }
    store_channel_cleanup(&ch);
    return EXIT_OK;
}

int cmd_channel(struct cli *c, int argc, char **argv)
{
    if(argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    if(!strcmp(argv[0], "add"))
        return channel_add(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "list"))
        return channel_list(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "show"))
        return channel_one(c, argc - 1, argv + 1, 0);
    if(!strcmp(argv[0], "remove"))
        return channel_one(c, argc - 1, argv + 1, 1);
    if(!strcmp(argv[0], "slots"))
        return channel_slots(c, argc - 1, argv + 1);
    fprintf(stderr, "samtale: unknown channel command '%s'\n\n%s", argv[0], usage);
    return EXIT_USAGE;
}
