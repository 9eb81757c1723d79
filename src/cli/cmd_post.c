/* cmd_post.c: `samtale post add|list|edit|cancel|schedule|move` and `samtale queue show|check`. */
#include "cli/cli.h"
#include "core/post.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/tz.h"
#include "util/utf8.h"

#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: samtale post add --text TEXT [--channel ID ...] [--now | --next-slot | --at TIME]\n"
    "                        [--category C] [--link URL] [--campaign NAME] [--variant TEXT ...]\n"
    "                        [--workspace W] [--override REASON] [--offer CHANNEL_ID=CODE ...]\n"
    "                        [--as EMAIL]\n"
    "       samtale post list [--workspace W] [--state S]\n"
    "       samtale post edit ID [--text TEXT] [--link URL] [--category C] [--campaign NAME] [--as EMAIL]\n"
    "       samtale post cancel ID | --occurrence OCCURRENCE_ID [--as EMAIL]\n"
    "       samtale post schedule DRAFT_ID --channel ID ... (--now | --next-slot | --at TIME)\n"
    "                        [--text TEXT] [--override REASON] [--as EMAIL]\n"
    "       samtale post move OCCURRENCE_ID --at TIME [--override REASON] [--as EMAIL]\n"
    "       samtale post offers [--workspace W]\n"
    "       samtale post approve ID [--note NOTE] [--late publish|skip] [--as EMAIL]\n"
    "       samtale post request-changes ID --note NOTE [--as EMAIL]\n"
    "       samtale post reject ID --note NOTE [--as EMAIL]\n"
    "       samtale post import FILE [--dry-run] [--workspace W] [--override REASON] [--import-id ID]\n"
    "       samtale post export [--workspace W] [--state S] [--from T] [--to T] [--channel ID]\n"
    "                        [--semicolon] [--output FILE]\n"
    "\n"
    "A post goes to each --channel once, at a time (--at 2027-03-28T09:00:00+02:00), at the\n"
    "channel's next free posting slot (--next-slot) or at once (--now); without any of\n"
    "those it is a draft. Categories: value (default), promo, personal, share, dialogue.\n"
    "--variant adds alternative wording for repeated posts. States: draft, scheduled,\n"
    "published, failed, cancelled. A running 'samtale serve' publishes what is due.\n"
    "'schedule' gives a draft its channels and time (it keeps its id); 'move' plans one\n"
    "delivery of a post (an occurrence, as 'post list --json' shows) at another time. Both\n"
    "run the checks at the new place. 'cancel' stops what has not gone out of a post, or\n"
    "with --occurrence only that one delivery (one copy of a series, one channel).\n"
    "--offer gives a channel its own offer code (P15): where the text says {offer}, that\n"
    "channel's copy publishes its code; 'offers' lists the codes with the channel each\n"
    "names.\n"
    "--as EMAIL acts as that member, whose role decides: a post of a member whose posts\n"
    "need approval waits for an approver ('samtale approval list'; approve, request changes\n"
    "or reject it here). Without --as the operator acts, whose posts need no approval.\n";

static const char *queue_usage =
    "usage: samtale queue show [--workspace W] [--days N] [--channel ID]\n"
    "       samtale queue check [--workspace W]\n"
    "\n"
    "show: the occurrences planned from now for N days (default 7, at most 93), in time\n"
    "order, with each channel's local time.\n"
    "check: every rule the queue breaks (near-duplicates, content mix, frequency caps, promo\n"
    "spacing, cross-posts, length limits), with rule id, severity and what to do; exits 1\n"
    "when anything blocks.\n";

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if(v <= 0 || *end)
        return -1;
    *id = v;
    return 0;
}

static void print_post(struct cli *c, const struct store_post *p, const struct store_occurrence *occ, size_t n)
{
    if(c->json) {
        json_t *j = view_post(p), *list = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(list, view_occurrence(&occ[i]));
        json_object_set_new(j, "occurrences", list);
        cli_print_json(j);
        return;
    }
    printf("post %lld (%s, %s): %s\n", (long long)p->id, p->category, p->state, p->text);
    if(p->approval[0] && strcmp(p->approval, "none"))
        printf("  approval: %s\n", p->approval);
    for(size_t i = 0; i < n; i++) {
        char at[32], why[1024];
        time_rfc3339(occ[i].planned_at, at, sizeof(at));
        i18n_message(occ[i].last_error, why, sizeof(why)); /* in the environment's language */
        printf("  channel %lld at %s: %s%s%s\n", (long long)occ[i].channel_id, at, occ[i].state,
               occ[i].last_error[0] ? " - " : "", why);
    }
}

static int post_add_or_schedule(struct cli *c, int argc, char **argv, int schedule);

static int post_add(struct cli *c, int argc, char **argv)
{
    return post_add_or_schedule(c, argc, argv, 0);
}

/* Moves one occurrence to another time, after the checks there. */
static int post_move(struct cli *c, int argc, char **argv)
{
    const char *at = NULL, *override = NULL, *as = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--at", &at, 0, 0, 0, 0}, {"--override", &override, 0, 0, 0, 0},
                             {"--as", &as, 0, 0, 0, 0}, {0}};
    struct store_occurrence o;
    struct actor sys;
    int64_t id, when;
    json_t *violations = NULL, *v;
    size_t i;
    CLI_PARSE(argc, argv, opts, pos, 1, &npos, usage);
    if(npos != 1 || parse_id(pos[0], &id) || !at) {
        fprintf(stderr, "samtale: post move needs an occurrence ID and --at TIME\n\n%s", usage);
        return EXIT_USAGE;
    }
    if(time_parse_rfc3339(at, &when)) {
        fprintf(stderr, "samtale: --at takes a time such as 2027-03-28T09:00:00+02:00\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = store_occurrence_get(c->core.st, id, &o)) || (rc = cli_actor(c, o.workspace_id, as, PERM_POSTS_WRITE, &sys)))
        return cli_fail(rc);
    rc = core_occurrence_move(&c->core, &sys, o.workspace_id, id, when, override, time_now(), &o, &violations);
    if(!c->json)
        json_array_foreach(violations, i, v)
            cli_print_finding(stderr, NULL, v);
    if(rc) {
        json_decref(violations);
        if(rc == SAM_EINVAL && sam_errfield() && !strcmp(sam_errfield(), "checks"))
            fprintf(stderr, "samtale: a blocking check stops this move; move anyway with --override REASON\n");
        return cli_fail(rc);
    }
    if(c->json) {
        cli_print_json(json_pack("{s:o, s:o}", "occurrence", view_occurrence(&o), "violations",
                                 violations ? violations : json_array()));
    } else {
        char t[40];
        time_rfc3339(o.planned_at, t, sizeof(t));
        printf("occurrence %lld of post %lld now planned at %s\n", (long long)o.id, (long long)o.post_id, t);
        json_decref(violations);
    }
    return EXIT_OK;
}

/* The workspace's offer codes, newest first. */
static int post_offers(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {0}};
    struct store_workspace w;
    struct store_offer *items = NULL;
    size_t n = 0;
    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    if((rc = store_offer_list(c->core.st, w.id, 0, 100000, &items, &n)))
        return cli_fail(rc);
    if(c->json) {
        json_t *list = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(list, view_offer(&items[i]));
        cli_print_json(list);
    } else {
        printf("%-20s %-8s %-24s %s\n", "CODE", "POST", "CHANNEL", "PUBLISHED");
        for(size_t i = 0; i < n; i++) {
            char t[40] = "-";
            if(items[i].published_at)
                time_rfc3339(items[i].published_at, t, sizeof(t));
            printf("%-20s %-8lld %-24.24s %s\n", items[i].code, (long long)items[i].post_id, items[i].channel_name, t);
        }
    }
    free(items);
    return EXIT_OK;
}

static int post_schedule(struct cli *c, int argc, char **argv)
{
    return post_add_or_schedule(c, argc, argv, 1);
}

static int post_add_or_schedule(struct cli *c, int argc, char **argv, int schedule)
{
    const char *text = NULL, *ws = NULL, *at = NULL, *category = NULL, *link = NULL, *campaign = NULL,
               *override = NULL, *as = NULL, *chans[POST_CHANNELS_MAX], *variants[POST_VARIANTS_MAX], *pos[1],
               *offers_raw[POST_CHANNELS_MAX];
    int nchans = 0, nvariants = 0, now = 0, next = 0, noffers = 0, npos, code, rc;
    struct offer_input offers[POST_CHANNELS_MAX];
    struct cli_opt opts[] = {{"--text", &text, 0, 0, 0, 0}, {"--workspace", &ws, 0, 0, 0, 0},
                             {"--at", &at, 0, 0, 0, 0}, {"--category", &category, 0, 0, 0, 0},
                             {"--link", &link, 0, 0, 0, 0}, {"--campaign", &campaign, 0, 0, 0, 0},
                             {"--override", &override, 0, 0, 0, 0}, {"--now", 0, &now, 0, 0, 0},
                             {"--next-slot", 0, &next, 0, 0, 0}, {"--as", &as, 0, 0, 0, 0},
                             {"--channel", 0, 0, chans, &nchans, POST_CHANNELS_MAX},
                             {"--variant", 0, 0, variants, &nvariants, POST_VARIANTS_MAX},
                             {"--offer", 0, 0, offers_raw, &noffers, POST_CHANNELS_MAX}, {0}};
    struct post_input in;
    struct store_workspace w;
    struct store_post p;
    struct store_occurrence *occ = NULL;
    struct actor sys;
    int64_t ids[POST_CHANNELS_MAX];
    size_t n = 0;
    json_t *vlist = NULL;

    CLI_PARSE(argc, argv, opts, pos, schedule ? 1 : 0, &npos, usage);
    memset(&in, 0, sizeof(in));
    if(schedule && (npos != 1 || parse_id(pos[0], &in.draft_id) || (now + next + (at != NULL)) != 1)) {
        fprintf(stderr, "samtale: post schedule needs a draft's ID and one of --now, --next-slot, --at\n\n%s", usage);
        return EXIT_USAGE;
    }
    if(!schedule && (!text || (now + next + (at != NULL)) > 1)) {
        fprintf(stderr, "samtale: post add needs --text and at most one of --now, --next-slot, --at\n\n%s", usage);
        return EXIT_USAGE;
    }
    for(int i = 0; i < nchans; i++)
        if(parse_id(chans[i], &ids[i])) {
            fprintf(stderr, "samtale: --channel takes a channel ID, not '%s'\n", chans[i]);
            return EXIT_USAGE;
        }
    for(int i = 0; i < noffers; i++) {
        const char *eq = strchr(offers_raw[i], '=');
        char idtext[24];
        if(!eq || eq == offers_raw[i] || (size_t)(eq - offers_raw[i]) >= sizeof(idtext)) {
            fprintf(stderr, "samtale: --offer takes CHANNEL_ID=CODE, not '%s'\n", offers_raw[i]);
            return EXIT_USAGE;
        }
        memcpy(idtext, offers_raw[i], (size_t)(eq - offers_raw[i]));
        idtext[eq - offers_raw[i]] = '\0';
        if(parse_id(idtext, &offers[i].channel_id)) {
            fprintf(stderr, "samtale: --offer takes CHANNEL_ID=CODE, not '%s'\n", offers_raw[i]);
            return EXIT_USAGE;
        }
        offers[i].code = eq + 1;
    }
    in.offers = offers;
    in.noffers = (size_t)noffers;
    in.schedule = now ? POST_NOW : next ? POST_NEXT_SLOT : at ? POST_AT : POST_DRAFT;
    if(at && time_parse_rfc3339(at, &in.at)) {
        fprintf(stderr, "samtale: --at takes a time such as 2027-03-28T09:00:00+02:00\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if(schedule) { /* the draft's own workspace */
        struct store_post d;
        if((rc = store_post_get(c->core.st, in.draft_id, &d)))
            return cli_fail(rc);
        memset(&w, 0, sizeof(w));
        w.id = d.workspace_id;
        store_post_cleanup(&d);
    } else if((rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    if((rc = cli_actor(c, w.id, as, PERM_POSTS_WRITE, &sys)))
        return cli_fail(rc);
    vlist = cli_string_list(variants, nvariants);
    in.text = text;
    in.link = link;
    in.category = category;
    in.campaign = campaign;
    in.variants = vlist;
    in.channels = ids;
    in.nchannels = (size_t)nchans;
    in.override_reason = override;
    json_t *violations = NULL;
    rc = core_post_create(&c->core, &sys, w.id, &in, time_now(), &p, &occ, &n, &violations);
    json_decref(vlist);
    if(violations && !c->json) {
        size_t i;
        json_t *v;
        json_array_foreach(violations, i, v)
            cli_print_finding(stderr, NULL, v);
    }
    if(rc) {
        json_decref(violations);
        if(rc == SAM_EINVAL && sam_errfield() && !strcmp(sam_errfield(), "checks"))
            fprintf(stderr, "samtale: a blocking check stops this post; publish anyway with --override REASON\n");
        return cli_fail(rc);
    }
    if(c->json) {
        json_t *j = view_post(&p), *list = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(list, view_occurrence(&occ[i]));
        json_object_set_new(j, "occurrences", list);
        json_object_set_new(j, "violations", violations ? violations : json_array());
        cli_print_json(j);
        free(occ);
        store_post_cleanup(&p);
        return EXIT_OK;
    }
    json_decref(violations);
    print_post(c, &p, occ, n);
    free(occ);
    store_post_cleanup(&p);
    return EXIT_OK;
}

static int post_list(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *state = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--state", &state, 0, 0, 0, 0}, {0}};
    struct store_workspace w;
    struct store_post *ps = NULL;
    size_t n = 0;
    const char *headers[] = {"ID", "STATE", "CATEGORY", "CREATED", "TEXT"};

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)) || (rc = store_post_list(c->core.st, w.id, state, 0, 100000, &ps, &n)))
        return cli_fail(rc);
    if(c->json) {
        json_t *a = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(a, view_post(&ps[i]));
        cli_print_json(a);
    } else {
        struct cli_table *t = cli_table_new(5, headers);
        for(size_t i = 0; i < n; i++) {
            char id[24], at[32], text[84];
            snprintf(id, sizeof(id), "%lld", (long long)ps[i].id);
            time_rfc3339(ps[i].created_at, at, sizeof(at));
            snprintf(text, sizeof(text), "%.80s", ps[i].text);
            /* A cut may split a UTF-8 sequence: drop bytes until the text is whole again. */
            while(*text && utf8_count(text, strlen(text)) < 0)
                text[strlen(text) - 1] = '\0';
            const char *row[] = {id, ps[i].state, ps[i].category, at, text};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    store_post_list_free(ps, n);
    return EXIT_OK;
}

/* `post cancel --occurrence ID`: one delivery of a post. */
static int occurrence_cancel(struct cli *c, const char *arg, const char *as)
{
    struct store_occurrence o;
    struct actor sys;
    int64_t id;
    int code, rc;
    if(parse_id(arg, &id)) {
        fprintf(stderr, "samtale: --occurrence takes an occurrence ID (see 'samtale post list --json')\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = store_occurrence_get(c->core.st, id, &o)) || (rc = cli_actor(c, o.workspace_id, as, PERM_POSTS_WRITE, &sys)))
        return cli_fail(rc);
    if((rc = core_occurrence_cancel(&c->core, &sys, o.workspace_id, id, &o)))
        return cli_fail(rc);
    if(c->json)
        cli_print_json(view_occurrence(&o));
    else
        printf("occurrence %lld of post %lld cancelled\n", (long long)o.id, (long long)o.post_id);
    return EXIT_OK;
}

static int post_one(struct cli *c, int argc, char **argv, int cancel)
{
    const char *pos[1], *text = NULL, *link = NULL, *category = NULL, *campaign = NULL, *as = NULL;
    const char *occurrence = NULL;
    int npos, code, rc;
    struct cli_opt opts[] = {{"--text", &text, 0, 0, 0, 0}, {"--link", &link, 0, 0, 0, 0},
                             {"--category", &category, 0, 0, 0, 0}, {"--campaign", &campaign, 0, 0, 0, 0},
                             {"--as", &as, 0, 0, 0, 0}, {0}};
    struct cli_opt cancel_opts[] = {{"--occurrence", &occurrence, 0, 0, 0, 0}, {"--as", &as, 0, 0, 0, 0}, {0}};
    struct actor sys;
    struct store_post p, found;
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    int64_t id;

    CLI_PARSE(argc, argv, cancel ? cancel_opts : opts, pos, 1, &npos, usage);
    if(occurrence && !npos)
        return occurrence_cancel(c, occurrence, as);
    if(npos != 1 || parse_id(pos[0], &id) || occurrence) {
        fprintf(stderr, "samtale: give a post ID (see 'samtale post list')\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = store_post_get(c->core.st, id, &found)))
        return cli_fail(rc == SAM_ENOTFOUND ? sam_fail(rc, "post %lld not found", (long long)id) : rc);
    if((rc = cli_actor(c, found.workspace_id, as, PERM_POSTS_WRITE, &sys))) {
        store_post_cleanup(&found);
        return cli_fail(rc);
    }
    if(cancel) {
        rc = core_post_cancel(&c->core, &sys, found.workspace_id, id);
        if(!rc)
            rc = core_post_get(&c->core, found.workspace_id, id, &p);
    } else {
        struct post_input in;
        memset(&in, 0, sizeof(in));
        in.text = text;
        in.link = link;
        in.category = category;
        in.campaign = campaign;
        rc = core_post_edit(&c->core, &sys, found.workspace_id, id, &in, &p, NULL);
    }
    store_post_cleanup(&found);
    if(rc)
        return cli_fail(rc);
    store_occurrence_list(c->core.st, p.workspace_id, id, 0, 0, 0, 0, 1000, &occ, &n);
    print_post(c, &p, occ, n);
    free(occ);
    store_post_cleanup(&p);
    return EXIT_OK;
}

int cmd_post(struct cli *c, int argc, char **argv)
{
    if(argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    if(!strcmp(argv[0], "add"))
        return post_add(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "list"))
        return post_list(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "edit"))
        return post_one(c, argc - 1, argv + 1, 0);
    if(!strcmp(argv[0], "schedule"))
        return post_schedule(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "move"))
        return post_move(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "offers"))
        return post_offers(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "cancel"))
        return post_one(c, argc - 1, argv + 1, 1);
    if(!strcmp(argv[0], "approve") || !strcmp(argv[0], "reject") || !strcmp(argv[0], "request-changes"))
        return cmd_post_decide(c, argc, argv); /* P12, cmd_approval.c */
    if(!strcmp(argv[0], "import"))
        return cmd_post_import(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "export"))
        return cmd_post_export(c, argc - 1, argv + 1);
    fprintf(stderr, "samtale: unknown post command '%s'\n\n%s", argv[0], usage);
    return EXIT_USAGE;
}

int cmd_queue(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *days = NULL, *channel = NULL, *pos[1];
    int npos, code, rc;
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--days", &days, 0, 0, 0, 0},
                             {"--channel", &channel, 0, 0, 0, 0}, {0}};
    struct store_workspace w;
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    int64_t now = time_now(), chan = 0;
    long d = 7;
    const char *headers[] = {"WHEN (CHANNEL TIME)", "CHANNEL", "POST", "STATE", "TEXT"};

    if(argc >= 1 && !strcmp(argv[0], "check")) {
        json_t *violations = NULL, *v;
        size_t i;
        int blocked = 0;
        CLI_PARSE(argc - 1, argv + 1, opts, pos, 0, &npos, queue_usage);
        if((code = cli_open(c)))
            return code;
        if((rc = cli_workspace(c, ws, &w)) || (rc = core_queue_check(&c->core, w.id, now, &violations)))
            return cli_fail(rc);
        json_array_foreach(violations, i, v) if(!strcmp(json_string_value(json_object_get(v, "severity")), "block"))
            blocked = 1;
        if(c->json) {
            cli_print_json(violations);
        } else {
            const char *h[] = {"RULE", "SEVERITY", "POSTS", "WHAT TO DO"};
            struct cli_table *t = cli_table_new(4, h);
            json_array_foreach(violations, i, v) {
                char posts[64] = "";
                size_t k;
                json_t *pid;
                json_array_foreach(json_object_get(v, "posts"), k, pid) {
                    size_t used = strlen(posts);
                    snprintf(posts + used, sizeof(posts) - used, "%s%lld", used ? "," : "",
                             (long long)json_integer_value(pid));
                }
                const char *row[] = {json_string_value(json_object_get(v, "rule")),
                                     json_string_value(json_object_get(v, "severity")), posts,
                                     json_string_value(json_object_get(v, "message"))};
                cli_table_row(t, row);
            }
            cli_table_print(t);
            cli_table_free(t);
            json_decref(violations);
        }
        return blocked ? EXIT_FAIL : EXIT_OK;
    }
    if(argc < 1 || strcmp(argv[0], "show")) {
        if(argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
            fputs(queue_usage, stdout);
            return EXIT_OK;
        }
        fprintf(stderr, "%s", queue_usage);
        return EXIT_USAGE;
    }
    CLI_PARSE(argc - 1, argv + 1, opts, pos, 0, &npos, queue_usage);
    if((days && ((d = strtol(days, NULL, 10)) < 1 || d > 93)) || (channel && parse_id(channel, &chan))) {
        fprintf(stderr, "samtale: --days must be 1-93 and --channel a channel ID\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)) ||
       (rc = store_occurrence_list(c->core.st, w.id, 0, chan, now - 3600, now + d * 86400, 0, 100000, &occ, &n)))
        return cli_fail(rc);
    struct store_channel *chans = NULL;
    size_t nchans = 0;
    if((rc = store_channel_list(c->core.st, w.id, NULL, 0, 10000, &chans, &nchans))) {
        free(occ);
        return cli_fail(rc);
    }
    json_t *arr = c->json ? json_array() : NULL;
    struct cli_table *t = c->json ? NULL : cli_table_new(5, headers);
    for(size_t i = 0; i < n; i++) {
        const struct store_channel *ch = core_channel_find(chans, nchans, occ[i].channel_id);
        struct store_post p;
        char when[40] = "?", name[64] = "?", pid[24], *text = NULL;
        if(ch) {
            tz_format_local(ch->timezone, occ[i].planned_at, when, sizeof(when));
            snprintf(name, sizeof(name), "%.60s", ch->name);
        }
        if(!store_post_get(c->core.st, occ[i].post_id, &p)) {
            text = core_post_text_for(&p, occ[i].variant);
            store_post_cleanup(&p);
        }
        snprintf(pid, sizeof(pid), "%lld", (long long)occ[i].post_id);
        if(arr) {
            json_t *j = view_occurrence(&occ[i]);
            json_object_set_new(j, "text", json_string(text ? text : ""));
            json_array_append_new(arr, j);
        } else {
            const char *row[] = {when, name, pid, occ[i].state, text ? text : ""};
            cli_table_row(t, row);
        }
        free(text);
    }
    store_channel_list_free(chans, nchans);
    free(occ);
    if(arr)
        cli_print_json(arr);
    else {
        cli_table_print(t);
        cli_table_free(t);
    }
    return EXIT_OK;
}

static const char *series_usage =
    "usage: samtale series add --text TEXT --channel ID [--channel ID ...] [--variant TEXT ...]\n"
    "                          [--per-day N] [--gap-hours H] [--days D | --until TIME | --count N]\n"
    "                          [--replace-previous] [--category C] [--link URL] [--workspace W]\n"
    "                          [--as EMAIL]\n"
    "       samtale series list [--workspace W]\n"
    "\n"
    "An evergreen series repeats a post in each channel's posting slots: at most N copies\n"
    "a day (default 3), never in two consecutive slots, at least H hours apart (default 4),\n"
    "for D days (default 7), until a time, or for N copies. Variants rotate so followers see\n"
    "different wording. --replace-previous deletes the previous copy when the next goes out.\n";

int cmd_series(struct cli *c, int argc, char **argv)
{
    const char *text = NULL, *ws = NULL, *category = NULL, *link = NULL, *per_day = NULL, *gap = NULL,
               *days = NULL, *until = NULL, *count = NULL, *as = NULL, *chans[POST_CHANNELS_MAX],
               *variants[POST_VARIANTS_MAX], *pos[1];
    int nchans = 0, nvariants = 0, replace = 0, npos, code, rc;
    struct cli_opt opts[] = {{"--text", &text, 0, 0, 0, 0}, {"--workspace", &ws, 0, 0, 0, 0},
                             {"--category", &category, 0, 0, 0, 0}, {"--link", &link, 0, 0, 0, 0},
                             {"--per-day", &per_day, 0, 0, 0, 0}, {"--gap-hours", &gap, 0, 0, 0, 0},
                             {"--days", &days, 0, 0, 0, 0}, {"--until", &until, 0, 0, 0, 0},
                             {"--count", &count, 0, 0, 0, 0}, {"--replace-previous", 0, &replace, 0, 0, 0},
                             {"--as", &as, 0, 0, 0, 0},
                             {"--channel", 0, 0, chans, &nchans, POST_CHANNELS_MAX},
                             {"--variant", 0, 0, variants, &nvariants, POST_VARIANTS_MAX}, {0}};
    struct series_input in;
    struct store_workspace w;
    struct store_post p;
    struct store_series s;
    struct store_occurrence *occ = NULL;
    struct actor sys;
    json_t *plan = NULL;
    int64_t ids[POST_CHANNELS_MAX];
    size_t n = 0;
    json_t *vlist = NULL;

    if(argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(series_usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    if(!strcmp(argv[0], "list")) {
        struct store_series *ss = NULL;
        const char *headers[] = {"ID", "POST", "PER DAY", "GAP (MIN)", "REPLACE", "UNTIL/DAYS/COUNT"};
        CLI_PARSE(argc - 1, argv + 1, opts, pos, 0, &npos, series_usage);
        if((code = cli_open(c)))
            return code;
        if((rc = cli_workspace(c, ws, &w)) || (rc = store_series_list(c->core.st, w.id, 0, 100000, &ss, &n)))
            return cli_fail(rc);
        if(c->json) {
            json_t *a = json_array();
            for(size_t i = 0; i < n; i++)
                json_array_append_new(a, view_series(&ss[i]));
            cli_print_json(a);
        } else {
            struct cli_table *t = cli_table_new(6, headers);
            for(size_t i = 0; i < n; i++) {
                char id[24], post[24], pd[16], g[16], lim[48];
                snprintf(id, sizeof(id), "%lld", (long long)ss[i].id);
                snprintf(post, sizeof(post), "%lld", (long long)ss[i].post_id);
                snprintf(pd, sizeof(pd), "%d", ss[i].per_day);
                snprintf(g, sizeof(g), "%d", ss[i].min_gap_minutes);
                if(ss[i].until_at)
                    time_rfc3339(ss[i].until_at, lim, sizeof(lim));
                else if(ss[i].max_count)
                    snprintf(lim, sizeof(lim), "%d copies", ss[i].max_count);
                else
                    snprintf(lim, sizeof(lim), "%d days", ss[i].days ? ss[i].days : 7);
                const char *row[] = {id, post, pd, g, ss[i].replace_previous ? "yes" : "no", lim};
                cli_table_row(t, row);
            }
            cli_table_print(t);
            cli_table_free(t);
        }
        free(ss);
        return EXIT_OK;
    }
    if(strcmp(argv[0], "add")) {
        fprintf(stderr, "samtale: unknown series command '%s'\n\n%s", argv[0], series_usage);
        return EXIT_USAGE;
    }
    CLI_PARSE(argc - 1, argv + 1, opts, pos, 0, &npos, series_usage);
    if(!text || !nchans) {
        fprintf(stderr, "samtale: series add needs --text and at least one --channel\n\n%s", series_usage);
        return EXIT_USAGE;
    }
    memset(&in, 0, sizeof(in));
    for(int i = 0; i < nchans; i++)
        if(parse_id(chans[i], &ids[i])) {
            fprintf(stderr, "samtale: --channel takes a channel ID, not '%s'\n", chans[i]);
            return EXIT_USAGE;
        }
    in.per_day = per_day ? atoi(per_day) : 0;
    in.gap_minutes = gap ? atoi(gap) * 60 : 0;
    in.days = days ? atoi(days) : 0;
    in.count = count ? atoi(count) : 0;
    in.replace_previous = replace;
    if((per_day && in.per_day < 1) || (gap && atoi(gap) < 0) || (days && in.days < 1) || (count && in.count < 1) ||
       (until && time_parse_rfc3339(until, &in.until))) {
        fprintf(stderr, "samtale: --per-day, --days and --count take whole numbers from 1, --gap-hours from 0, "
                        "--until a time such as 2027-01-31T23:59:00+01:00\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)) || (rc = cli_actor(c, w.id, as, PERM_POSTS_WRITE, &sys)))
        return cli_fail(rc);
    vlist = cli_string_list(variants, nvariants);
    in.post.text = text;
    in.post.link = link;
    in.post.category = category;
    in.post.variants = vlist;
    in.post.channels = ids;
    in.post.nchannels = (size_t)nchans;
    rc = core_series_create(&c->core, &sys, w.id, &in, time_now(), &p, &s, &occ, &n, &plan, NULL);
    json_decref(vlist);
    if(rc)
        return cli_fail(rc);
    if(c->json) {
        json_t *j = view_post(&p), *list = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(list, view_occurrence(&occ[i]));
        json_object_set_new(j, "occurrences", list);
        cli_print_json(json_pack("{s:o, s:o, s:o}", "series", view_series(&s), "post", j, "plan", plan));
    } else {
        size_t k;
        json_t *e;
        printf("series %lld: %zu copies of post %lld planned\n", (long long)s.id, n, (long long)p.id);
        json_array_foreach(plan, k, e)
            if(json_string_value(json_object_get(e, "message")))
                printf("  %s\n", json_string_value(json_object_get(e, "message")));
        json_decref(plan);
        print_post(c, &p, occ, n);
    }
    free(occ);
    store_post_cleanup(&p);
    return EXIT_OK;
}
