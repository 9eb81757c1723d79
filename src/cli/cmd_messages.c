/* cmd_messages.c: `samtale messages` (what the networks brought in) and `samtale
 * engagement POST` (the counts fetched after publishing). */
#include "cli/cli.h"
#include "core/post.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

static const char *messages_usage =
    "usage: samtale messages [--workspace W] [--channel ID] [--kind K] [--limit N]\n"
    "\n"
    "Lists the mentions, replies, quotes and direct messages read from the workspace's\n"
    "channels, newest first (default 50, --limit up to 1000). --kind is mention, reply,\n"
    "quote or direct. 'samtale serve' reads every poll_interval_s seconds; 'samtale\n"
    "channel read ID' reads one channel now.\n";

static const char *engagement_usage =
    "usage: samtale engagement POST_ID\n"
    "\n"
    "Shows the engagement counts (likes, reposts, replies, quotes) of a post's published\n"
    "copies, fetched at the times after publishing set by engagement_after (default\n"
    "1h,24h,7d). A count the network does not keep shows as '-'.\n";

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if(!*s || v <= 0 || *end)
        return -1;
    *id = v;
    return 0;
}

int cmd_messages(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *chan = NULL, *kind = NULL, *limit = NULL, *pos[1];
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--channel", &chan, 0, 0, 0, 0},
                             {"--kind", &kind, 0, 0, 0, 0}, {"--limit", &limit, 0, 0, 0, 0}, {0}};
    const char *headers[] = {"ID", "WHEN", "CHANNEL", "KIND", "FROM", "TEXT"};
    struct store_workspace w;
    struct store_message *ms = NULL;
    size_t n = 0;
    int64_t channel = 0;
    long lim = 50;
    int npos, code, rc;

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, messages_usage);
    if(chan && parse_id(chan, &channel)) {
        fprintf(stderr, "samtale: --channel takes a channel ID\n");
        return EXIT_USAGE;
    }
    if(kind && strcmp(kind, "mention") && strcmp(kind, "reply") && strcmp(kind, "quote") && strcmp(kind, "direct")) {
        fprintf(stderr, "samtale: --kind must be mention, reply, quote or direct\n");
        return EXIT_USAGE;
    }
    if(limit && ((lim = strtol(limit, NULL, 10)) < 1 || lim > 1000)) {
        fprintf(stderr, "samtale: --limit must be from 1 to 1000\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)))
        return cli_fail(rc);
    if((rc = store_message_list(c->core.st, w.id, channel, kind, 0, (int)lim, &ms, &n)))
        return cli_fail(rc);
    if(c->json) {
        json_t *a = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(a, view_message(&ms[i]));
        cli_print_json(a);
    } else {
        struct cli_table *t = cli_table_new(6, headers);
        for(size_t i = 0; i < n; i++) {
            char id[24], when[32], from[80], text[100];
            size_t k = 0;
            snprintf(id, sizeof(id), "%lld", (long long)ms[i].id);
            time_rfc3339(ms[i].created_at, when, sizeof(when));
            snprintf(from, sizeof(from), "%.78s", ms[i].author_handle ? ms[i].author_handle : ms[i].author_id);
            /* One line of text, cut at a character boundary. */
            for(const char *p = ms[i].text; *p && k < sizeof(text) - 4; p++)
                text[k++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
            while(k && ((unsigned char)ms[i].text[k] & 0xC0) == 0x80)
                k--;
            text[k] = '\0';
            const char *row[] = {id, when, ms[i].channel_name, ms[i].kind, from, text};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    store_message_list_free(ms, n);
    return EXIT_OK;
}

static void count_cell(int64_t v, char *out, size_t n)
{
    if(v < 0)
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%lld", (long long)v);
}

int cmd_engagement(struct cli *c, int argc, char **argv)
{
    const char *pos[1];
    const char *headers[] = {"OCCURRENCE", "AFTER", "FETCHED", "LIKES", "REPOSTS", "REPLIES", "QUOTES", "NOTE"};
    struct store_post p;
    struct store_engagement *es = NULL;
    size_t n = 0;
    int64_t id;
    int npos, code, rc;

    CLI_PARSE(argc, argv, NULL, pos, 1, &npos, engagement_usage);
    if(npos != 1 || parse_id(pos[0], &id)) {
        fprintf(stderr, "samtale: give a post ID (see 'samtale post list')\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = store_post_get(c->core.st, id, &p)))
        return cli_fail(rc);
    store_post_cleanup(&p);
    if((rc = store_engagement_list(c->core.st, 0, id, 0, &es, &n)))
        return cli_fail(rc);
    if(c->json) {
        json_t *a = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(a, view_engagement(&es[i]));
        cli_print_json(a);
    } else {
        struct cli_table *t = cli_table_new(8, headers);
        for(size_t i = 0; i < n; i++) {
            char occ[24], after[24], fetched[32], l[24], r[24], re[24], q[24];
            snprintf(occ, sizeof(occ), "%lld", (long long)es[i].occurrence_id);
            if(es[i].checkpoint % 86400 == 0)
                snprintf(after, sizeof(after), "%lldd", (long long)(es[i].checkpoint / 86400));
            else if(es[i].checkpoint % 3600 == 0)
                snprintf(after, sizeof(after), "%lldh", (long long)(es[i].checkpoint / 3600));
            else
                snprintf(after, sizeof(after), "%llds", (long long)es[i].checkpoint);
            if(es[i].fetched_at)
                time_rfc3339(es[i].fetched_at, fetched, sizeof(fetched));
            else
                snprintf(fetched, sizeof(fetched), "(due)");
            count_cell(es[i].likes, l, sizeof(l));
            count_cell(es[i].reposts, r, sizeof(r));
            count_cell(es[i].replies, re, sizeof(re));
            count_cell(es[i].quotes, q, sizeof(q));
            const char *row[] = {occ, after, fetched, l, r, re, q, es[i].error};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    free(es);
    return EXIT_OK;
}
