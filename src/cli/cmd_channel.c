/* cmd_channel.c: `samtale channel add|edit|list|show|remove|slots|pause|resume|connect|read|discover`. */
#include "cli/cli.h"
#include "channel/discover.h"
#include "engine/connect.h"
#include "engine/poller.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <unistd.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: samtale channel add --workspace W --kind K --name N [--timezone TZ]\n"
    "                           [--setting KEY=VALUE ...] [--secret-stdin] [--no-verify]\n"
    "       samtale channel edit ID [--name N] [--timezone TZ] [--setting KEY=VALUE ...]\n"
    "                           [--secret-stdin] [--no-verify]\n"
    "       samtale channel connect mastodon --workspace W --instance URL --name N\n"
    "       samtale channel connect mastodon --channel ID        (reconnect it)\n"
    "       samtale channel connect mastodon --state S --code C  (finish)\n"
    "       samtale channel discover URL\n"
    "       samtale channel read ID\n"
    "       samtale channel list [--workspace W] [--kind K]\n"
    "       samtale channel show ID\n"
    "       samtale channel slots ID [--set SLOT ...] [--days N]\n"
    "       samtale channel pause ID\n"
    "       samtale channel resume ID\n"
    "       samtale channel remove ID\n"
    "\n"
    "A channel is a connected account (bluesky, mastodon), a source to listen to (feed,\n"
    "jetstream) or a target (file, webhook). Its time zone (default: the workspace's) is\n"
    "the one its posting slots use. --secret-stdin reads a secret (app password, signing\n"
    "key) from standard input; it is stored encrypted and never shown again.\n"
    "Settings by kind: file: path; webhook: url; feed: url; bluesky: handle (and\n"
    "service_url when not bsky.social); mastodon: instance_url.\n"
    "\n"
    "Connecting: a Bluesky channel is added with its handle and an app password\n"
    "(--secret-stdin); samtale logs in to check them first (--no-verify skips that). A\n"
    "Mastodon account is connected with 'channel connect mastodon': open the address it\n"
    "prints, allow samtale, and paste the code the instance shows (or run the --state\n"
    "--code form later, within 15 minutes). A feed is added with the address of the feed\n"
    "or of any page that names its feed (--setting url=https://blog.example): samtale\n"
    "finds the feed ('channel discover URL' shows what it would use).\n"
    "\n"
    "A channel whose network refuses its credentials shows status 'reconnect': its queued\n"
    "posts wait. 'channel edit ID --secret-stdin' with a new app password, or 'channel\n"
    "connect mastodon --channel ID', reconnects it and the queue resumes. 'channel read\n"
    "ID' reads its mentions and messages now (samtale serve does it every\n"
    "poll_interval_s seconds); see them with 'samtale messages'.\n"
    "\n"
    "Posting slots are weekly times in the channel's time zone, e.g. --slot 'mon 09:00'\n"
    "(repeat it; publishing channels start with weekdays 09:00, 12:30 and 15:30).\n"
    "'channel slots ID' shows the next slot times (14 days, --days up to 92), with the\n"
    "daylight-saving changes applied; --set replaces the slots.\n"
    "\n"
    "'channel pause ID' stops publishing to the channel: its posts stay scheduled (and in\n"
    "the calendar), and nothing of it goes out, while its mentions and messages are still\n"
    "read. 'channel resume ID' starts it again: posts that became due meanwhile go out at\n"
    "once, oldest first, within the channel's caps (posts an hour and a day).\n";

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
    if(ch->paused_at) {
        time_rfc3339(ch->paused_at, at, sizeof(at));
        printf("  paused:    since %s; nothing is published until 'samtale channel resume %lld'\n", at,
               (long long)ch->id);
    }
    if(strcmp(ch->status, "active"))
        printf("  needs reconnecting: %s\n  (nothing queued is lost; give new credentials with 'samtale channel edit "
               "%lld --secret-stdin' or 'samtale channel connect mastodon --channel %lld')\n",
               ch->status_message, (long long)ch->id, (long long)ch->id);
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

/* Applies --setting KEY=VALUE options to obj; "KEY=" removes the key. -1 (after saying
 * why) for one without "=". */
static int apply_settings(json_t *obj, const char *const *settings, int n)
{
    for(int i = 0; i < n; i++) {
        const char *eq = strchr(settings[i], '=');
        char key[128];
        if(!eq || eq == settings[i]) {
            fprintf(stderr, "samtale: --setting takes KEY=VALUE, not '%s'\n", settings[i]);
            return -1;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - settings[i]), settings[i]);
        if(eq[1])
            json_object_set_new(obj, key, json_string(eq + 1));
        else
            json_object_del(obj, key);
    }
    return 0;
}

static long net_timeout(struct cli *c)
{
    long t = conf_get_long(c->conf, "publish_timeout_ms");
    return t > 0 ? t : 15000;
}

/* What a create or edit checks before saving: a feed's address is resolved to the feed
 * (a page names it in its link tags), an account's credentials are tried. */
static int check_input(struct cli *c, const char *kind, json_t *settings, const char *secret)
{
    const char *url = json_string_value(json_object_get(settings, "url"));
    if(kind && !strcmp(kind, "feed") && url) {
        char *feed_url = NULL, *title = NULL;
        int rc;
        fprintf(stderr, "samtale: looking for the feed at %s ...\n", url);
        rc = discover_feed(url, net_timeout(c), &feed_url, &title);
        if(rc)
            return rc;
        if(strcmp(feed_url, url))
            fprintf(stderr, "samtale: found the feed %s%s%s%s\n", feed_url, title ? " (\"" : "", title ? title : "",
                    title ? "\")" : "");
        json_object_set_new(settings, "url", json_string(feed_url));
        free(feed_url);
        free(title);
        return SAM_OK;
    }
    if(kind && (!strcmp(kind, "bluesky") || !strcmp(kind, "mastodon")) && secret) {
        fprintf(stderr, "samtale: checking the credentials with the network ...\n");
        return connect_verify(kind, settings, secret, strlen(secret), net_timeout(c));
    }
    return SAM_OK;
}

static int channel_add(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *kind = NULL, *name = NULL, *tz = NULL, *settings[64], *slots[SLOTS_MAX], *pos[1];
    int nsettings = 0, nslots = 0, secret_stdin = 0, no_verify = 0, npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--kind", &kind, 0, 0, 0, 0},
                             {"--name", &name, 0, 0, 0, 0}, {"--timezone", &tz, 0, 0, 0, 0},
                             {"--setting", 0, 0, settings, &nsettings, 64},
                             {"--slot", 0, 0, slots, &nslots, SLOTS_MAX},
                             {"--secret-stdin", 0, &secret_stdin, 0, 0, 0},
                             {"--no-verify", 0, &no_verify, 0, 0, 0}, {0}};
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
    if(apply_settings(obj, settings, nsettings)) {
        json_decref(obj);
        return EXIT_USAGE;
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
    if(!no_verify && (rc = check_input(c, kind, obj, secret))) {
        json_decref(obj);
        if(secret) {
            sodium_memzero(secret, strlen(secret));
            free(secret);
        }
        return cli_fail(rc);
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
            char status[32];
            snprintf(status, sizeof(status), "%s%s", cs[i].status, cs[i].paused_at ? ", paused" : "");
            const char *row[] = {id, wsid, cs[i].kind, cs[i].name, cs[i].timezone, status};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    store_channel_list_free(cs, n);
    return EXIT_OK;
}

/* A command that names one channel was given none, or not a number. */
static int no_channel_id(void)
{
    fprintf(stderr, "samtale: give a channel ID (see 'samtale channel list')\n");
    return EXIT_USAGE;
}

static int channel_one(struct cli *c, int argc, char **argv, int remove)
{
    const char *pos[1];
    int npos, code, rc;
    int64_t id;
    struct store_channel ch;
    struct actor sys = {.system = 1};
    CLI_PARSE(argc, argv, NULL, pos, 1, &npos, usage);
    if(npos != 1 || parse_id(pos[0], &id))
        return no_channel_id();
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
    if(npos != 1 || parse_id(pos[0], &id))
        return no_channel_id();
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

/* `channel pause ID` (pause 1) and `channel resume ID` (0): the same change as PATCH
 * {"paused": ...}, through core_channel_update, audited the same way. */
static int channel_pause(struct cli *c, int argc, char **argv, int pause)
{
    const char *pos[1];
    int npos, code, rc;
    int64_t id;
    struct store_channel ch;
    struct channel_input in;
    struct actor sys = {.system = 1};
    CLI_PARSE(argc, argv, NULL, pos, 1, &npos, usage);
    if(npos != 1 || parse_id(pos[0], &id))
        return no_channel_id();
    if((code = cli_open(c)))
        return code;
    memset(&in, 0, sizeof(in));
    in.pause = pause ? CHANNEL_PAUSE : CHANNEL_RESUME;
    snprintf(sys.label, sizeof(sys.label), "cli");
    if((rc = core_channel_update(&c->core, &sys, 0, id, &in, &ch)))
        return cli_fail(rc);
    print_channel(c, &ch);
    store_channel_cleanup(&ch);
    return EXIT_OK;
}

static int channel_edit(struct cli *c, int argc, char **argv)
{
    const char *name = NULL, *tz = NULL, *settings[64], *pos[1];
    int nsettings = 0, secret_stdin = 0, no_verify = 0, npos, code, rc;
    struct cli_opt opts[] = {{"--name", &name, 0, 0, 0, 0}, {"--timezone", &tz, 0, 0, 0, 0},
                             {"--setting", 0, 0, settings, &nsettings, 64},
                             {"--secret-stdin", 0, &secret_stdin, 0, 0, 0},
                             {"--no-verify", 0, &no_verify, 0, 0, 0}, {0}};
    struct store_channel cur, ch;
    struct channel_input in;
    struct actor sys = {.system = 1};
    json_t *obj = NULL;
    char *secret = NULL, *old = NULL;
    size_t old_len = 0;
    int64_t id;

    CLI_PARSE(argc, argv, opts, pos, 1, &npos, usage);
    if(npos != 1 || parse_id(pos[0], &id))
        return no_channel_id();
    if((code = cli_open(c)))
        return code;
    if((rc = core_channel_get(&c->core, 0, id, &cur)))
        return cli_fail(rc);
    if(nsettings) {
        obj = json_loads(cur.settings ? cur.settings : "{}", 0, NULL);
        if(!obj || apply_settings(obj, settings, nsettings)) {
            json_decref(obj);
            store_channel_cleanup(&cur);
            return EXIT_USAGE;
        }
    }
    if(secret_stdin && !(secret = cli_read_line(8192))) {
        fprintf(stderr, "samtale: --secret-stdin: no secret on standard input\n");
        json_decref(obj);
        store_channel_cleanup(&cur);
        return EXIT_USAGE;
    }
    rc = SAM_OK;
    if(!no_verify && (secret || obj)) {
        if(!obj)
            obj = json_loads(cur.settings ? cur.settings : "{}", 0, NULL);
        if(!secret && cur.secret && core_secret_open(&c->core, cur.secret, cur.secret_len, &old, &old_len))
            rc = sam_fail(SAM_EINVAL, "the stored secret cannot be decrypted; give it again with --secret-stdin");
        if(!rc)
            rc = check_input(c, cur.kind, obj, secret ? secret : old);
    }
    if(!rc) {
        memset(&in, 0, sizeof(in));
        in.name = name;
        in.timezone = tz;
        in.settings = obj;
        in.secret = secret;
        in.secret_len = secret ? strlen(secret) : 0;
        snprintf(sys.label, sizeof(sys.label), "cli");
        rc = core_channel_update(&c->core, &sys, 0, id, &in, &ch);
    }
    json_decref(obj);
    store_channel_cleanup(&cur);
    if(secret) {
        sodium_memzero(secret, strlen(secret));
        free(secret);
    }
    if(old) {
        sodium_memzero(old, old_len);
        free(old);
    }
    if(rc)
        return cli_fail(rc);
    print_channel(c, &ch);
    store_channel_cleanup(&ch);
    return EXIT_OK;
}

static int channel_connect(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *instance = NULL, *name = NULL, *tz = NULL, *chan = NULL, *state = NULL, *codearg = NULL,
               *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--instance", &instance, 0, 0, 0, 0},
                             {"--name", &name, 0, 0, 0, 0}, {"--timezone", &tz, 0, 0, 0, 0},
                             {"--channel", &chan, 0, 0, 0, 0}, {"--state", &state, 0, 0, 0, 0},
                             {"--code", &codearg, 0, 0, 0, 0}, {0}};
    struct store_channel ch;
    char url[2048], st[64], inst[512];
    char *typed = NULL;

    CLI_PARSE(argc, argv, opts, pos, 1, &npos, usage);
    if(npos != 1 || strcmp(pos[0], "mastodon")) {
        fprintf(stderr, "samtale: 'channel connect' connects a Mastodon account: channel connect mastodon ...\n"
                        "(a Bluesky account is added with 'channel add --kind bluesky --setting handle=H "
                        "--secret-stdin')\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if(!state) {
        struct connect_begin b;
        struct store_workspace w;
        memset(&b, 0, sizeof(b));
        if(chan) {
            struct store_channel cur;
            int64_t id;
            if(parse_id(chan, &id)) {
                fprintf(stderr, "samtale: --channel takes a channel ID\n");
                return EXIT_USAGE;
            }
            if((rc = core_channel_get(&c->core, 0, id, &cur)))
                return cli_fail(rc);
            b.workspace_id = cur.workspace_id;
            b.channel_id = cur.id;
            json_t *set = json_loads(cur.settings ? cur.settings : "{}", 0, NULL);
            const char *iu = json_string_value(json_object_get(set, "instance_url"));
            if(!instance && iu) {
                snprintf(inst, sizeof(inst), "%s", iu);
                instance = inst;
            }
            json_decref(set);
            store_channel_cleanup(&cur);
        } else {
            if(!instance || !name) {
                fprintf(stderr, "samtale: channel connect mastodon needs --instance URL and --name N "
                                "(or --channel ID to reconnect)\n");
                return EXIT_USAGE;
            }
            if((rc = cli_workspace(c, ws, &w)))
                return cli_fail(rc);
            b.workspace_id = w.id;
        }
        b.instance_url = instance;
        b.name = name;
        b.timezone = tz;
        b.redirect_uri = CONNECT_OOB;
        if((rc = connect_mastodon_begin(&c->core, &b, url, sizeof(url), st, sizeof(st))))
            return cli_fail(rc);
        if(c->json || !isatty(STDIN_FILENO)) {
            if(c->json)
                cli_print_json(json_pack("{s:s, s:s, s:i}", "authorize_url", url, "state", st, "expires_in",
                                         CONNECT_TTL));
            else
                printf("Open this address, allow samtale, and copy the code the instance shows:\n  %s\n"
                       "Then run:\n  samtale channel connect mastodon --state %s --code CODE\n"
                       "(within %d minutes)\n", url, st, CONNECT_TTL / 60);
            return EXIT_OK;
        }
        printf("Open this address, allow samtale, and paste the code the instance shows:\n  %s\ncode: ", url);
        fflush(stdout);
        if(!(typed = cli_read_line(600))) {
            fprintf(stderr, "samtale: no code given; nothing was connected\n");
            return EXIT_USAGE;
        }
        state = st;
        codearg = typed;
    }
    if(!codearg) {
        fprintf(stderr, "samtale: --state needs --code (the code the instance showed)\n");
        return EXIT_USAGE;
    }
    struct connect_finisher who = {.operator = 1};
    rc = connect_mastodon_finish(&c->core, &who, state, codearg, &ch);
    free(typed);
    if(rc)
        return cli_fail(rc);
    if(!c->json)
        printf("connected: ");
    print_channel(c, &ch);
    store_channel_cleanup(&ch);
    return EXIT_OK;
}

static int channel_discover(struct cli *c, int argc, char **argv)
{
    const char *pos[1];
    char *feed_url = NULL, *title = NULL;
    int npos, rc;
    CLI_PARSE(argc, argv, NULL, pos, 1, &npos, usage);
    if(npos != 1) {
        fprintf(stderr, "samtale: give the address of a feed or of a page that names one\n");
        return EXIT_USAGE;
    }
    if((rc = discover_feed(pos[0], net_timeout(c), &feed_url, &title)))
        return cli_fail(rc);
    if(c->json)
        cli_print_json(json_pack("{s:s, s:s?}", "feed_url", feed_url, "title", title));
    else
        printf("feed: %s\ntitle: %s\n", feed_url, title ? title : "(none)");
    free(feed_url);
    free(title);
    return EXIT_OK;
}

static int channel_read(struct cli *c, int argc, char **argv)
{
    const char *pos[1];
    int npos, code, rc;
    int64_t id;
    struct store_channel ch;
    struct poller_stats stats;
    struct poller_options o;
    CLI_PARSE(argc, argv, NULL, pos, 1, &npos, usage);
    if(npos != 1 || parse_id(pos[0], &id))
        return no_channel_id();
    if((code = cli_open(c)))
        return code;
    if((rc = core_channel_get(&c->core, 0, id, &ch)))
        return cli_fail(rc);
    if(strcmp(ch.status, "active")) {
        fprintf(stderr, "samtale: channel %lld needs reconnecting first: %s\n", (long long)id, ch.status_message);
        store_channel_cleanup(&ch);
        return EXIT_INVALID;
    }
    memset(&o, 0, sizeof(o));
    o.timeout_ms = net_timeout(c);
    o.file_dir = conf_get(c->conf, "files_dir");
    rc = poller_run_once(&c->core, &o, ch.workspace_id, id, time_now(), &stats);
    store_channel_cleanup(&ch);
    if(rc)
        return cli_fail(rc);
    if(c->json)
        cli_print_json(json_pack("{s:I, s:i, s:b}", "id", (json_int_t)id, "new_messages", stats.messages, "ok",
                                 stats.failures == 0));
    else if(stats.failures)
        printf("channel %lld: reading failed (see the log above or 'samtale channel show %lld'); %d new messages\n",
               (long long)id, (long long)id, stats.messages);
    else
        printf("channel %lld: %d new messages\n", (long long)id, stats.messages);
    return stats.failures ? EXIT_FAIL : EXIT_OK;
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
    if(!strcmp(argv[0], "edit"))
        return channel_edit(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "pause") || !strcmp(argv[0], "resume"))
        return channel_pause(c, argc - 1, argv + 1, !strcmp(argv[0], "pause"));
    if(!strcmp(argv[0], "connect"))
        return channel_connect(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "discover"))
        return channel_discover(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "read"))
        return channel_read(c, argc - 1, argv + 1);
    fprintf(stderr, "samtale: unknown channel command '%s'\n\n%s", argv[0], usage);
    return EXIT_USAGE;
}
