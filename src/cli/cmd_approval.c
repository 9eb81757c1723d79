/* cmd_approval.c: approval of posts (P12) from the command line: `samtale approval list`,
 * `samtale post approve|reject|request-changes ID`, and cli_actor, which lets a command act
 * as a member (--as EMAIL) so that the member's role decides, as it does in the API. */
#include "cli/cli.h"
#include "core/approval.h"
#include "core/post.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <stdlib.h>
#include <string.h>

static const char *approval_usage =
    "usage: samtale approval list [--workspace W] [--state S]\n"
    "\n"
    "The posts of the approval queue: states pending (the default), changes_requested,\n"
    "approved, rejected. Decide with 'samtale post approve|reject|request-changes ID'.\n"
    "Whose posts wait for approval is the workspace's setting (PATCH the workspace's\n"
    "\"approval\": off, agents or editors_and_agents).\n";

static const char *decide_usage =
    "usage: samtale post approve ID [--note NOTE] [--late publish|skip] [--as EMAIL]\n"
    "       samtale post request-changes ID --note NOTE [--as EMAIL]\n"
    "       samtale post reject ID --note NOTE [--as EMAIL]\n"
    "\n"
    "Decides on a post waiting for approval. A copy more than an hour past its time is not\n"
    "approved without --late: publish sends it now, skip leaves it out. Rejecting cancels\n"
    "the post. --as decides as that member (whose role must allow it); without it the\n"
    "operator decides.\n";

int cli_actor(struct cli *c, int64_t ws, const char *email, unsigned perm, struct actor *out)
{
    struct store_user u;
    int rc;
    memset(out, 0, sizeof(*out));
    if(!email) {
        out->system = 1;
        snprintf(out->label, sizeof(out->label), "cli");
        return SAM_OK;
    }
    rc = store_user_get_by_email(c->core.st, email, &u);
    if(rc == SAM_ENOTFOUND)
        return sam_fail(rc, "no account has the email %s", email);
    if(rc)
        return rc;
    out->user_id = u.id;
    out->scopes = PERM_ALL; /* a member acting through the operator: the role decides */
    snprintf(out->label, sizeof(out->label), "%s (cli)", u.email);
    rc = core_allowed(&c->core, out, ws, perm, NULL);
    if(rc == SAM_ENOTFOUND)
        return sam_fail(rc, "%s is not a member of that workspace", u.email);
    return rc;
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

int cmd_post_decide(struct cli *c, int argc, char **argv)
{
    const char *what = argv[0], *note = NULL, *late = NULL, *as = NULL, *pos[1];
    int npos, code, rc, event = !strcmp(what, "approve")   ? APPROVAL_APPROVE
                                : !strcmp(what, "reject") ? APPROVAL_REJECT
                                                          : APPROVAL_REQUEST_CHANGES;
    struct cli_opt opts[] = {{"--note", &note, 0, 0, 0, 0}, {"--late", &late, 0, 0, 0, 0},
                             {"--as", &as, 0, 0, 0, 0}, {0}};
    struct store_post p, found;
    struct actor a;
    json_t *j = NULL;
    int64_t id;
    CLI_PARSE(argc - 1, argv + 1, opts, pos, 1, &npos, decide_usage);
    if(npos != 1 || parse_id(pos[0], &id)) {
        fprintf(stderr, "samtale: post %s needs a post ID\n", what);
        return EXIT_USAGE;
    }
    if(event != APPROVAL_APPROVE && !note) {
        fprintf(stderr, "samtale: post %s needs --note saying what should change or why\n", what);
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = store_post_get(c->core.st, id, &found)))
        return cli_fail(rc == SAM_ENOTFOUND ? sam_fail(rc, "post %lld not found", (long long)id) : rc);
    rc = cli_actor(c, found.workspace_id, as, PERM_POSTS_APPROVE, &a);
    if(!rc)
        rc = core_approval_decide(&c->core, &a, found.workspace_id, id, event, note, late, 0, time_now(), &p);
    store_post_cleanup(&found);
    if(rc) {
        if(rc == SAM_ECONFLICT && sam_errfield() && !strcmp(sam_errfield(), "late"))
            fprintf(stderr, "samtale: %s\nsamtale: add --late publish or --late skip, or move the copies first "
                            "('samtale post move')\n", sam_errmsg(rc));
        else
            return cli_fail(rc);
        return cli_exit_code(rc);
    }
    if(c->json) {
        if(!core_approval_json(&c->core, &p, &j)) {
            json_t *v = view_post(&p);
            json_object_set_new(v, "approval", j);
            cli_print_json(v);
        }
    } else {
        printf("post %lld: %s\n", (long long)p.id, p.approval);
    }
    store_post_cleanup(&p);
    return EXIT_OK;
}

int cmd_approval(struct cli *c, int argc, char **argv)
{
    const char *ws = NULL, *state = "pending", *pos[1];
    const char *headers[] = {"ID", "APPROVAL", "AUTHOR", "FIRST TIME", "TEXT"};
    struct cli_opt opts[] = {{"--workspace", &ws, 0, 0, 0, 0}, {"--state", &state, 0, 0, 0, 0}, {0}};
    struct store_workspace w;
    struct store_post *ps = NULL;
    size_t n = 0;
    int npos, code, rc;
    if(argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(approval_usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    if(strcmp(argv[0], "list")) {
        fprintf(stderr, "samtale: unknown approval command '%s'\n\n%s", argv[0], approval_usage);
        return EXIT_USAGE;
    }
    CLI_PARSE(argc - 1, argv + 1, opts, pos, 0, &npos, approval_usage);
    if(approval_state_parse(state) <= APPROVAL_NONE) {
        fprintf(stderr, "samtale: --state is pending, changes_requested, approved or rejected\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = cli_workspace(c, ws, &w)) || (rc = store_approval_queue(c->core.st, w.id, state, 0, 0, 100000, &ps, &n)))
        return cli_fail(rc);
    if(c->json) {
        json_t *a = json_array();
        for(size_t i = 0; !rc && i < n; i++) {
            json_t *item = NULL;
            rc = core_approval_item(&c->core, &ps[i], time_now(), &item);
            json_array_append_new(a, item);
        }
        if(rc) {
            json_decref(a);
            store_post_list_free(ps, n);
            return cli_fail(rc);
        }
        cli_print_json(a);
    } else {
        struct cli_table *t = cli_table_new(5, headers);
        for(size_t i = 0; i < n; i++) {
            struct store_occurrence *occ = NULL;
            struct store_user u;
            size_t no = 0;
            char id[24], at[32] = "-", text[84], author[STORE_EMAIL_MAX + 1] = "-";
            snprintf(id, sizeof(id), "%lld", (long long)ps[i].id);
            if(!store_occurrence_list(c->core.st, w.id, ps[i].id, 0, 0, 0, 0, 1, &occ, &no) && no)
                time_rfc3339(occ[0].planned_at, at, sizeof(at));
            free(occ);
            if(ps[i].author_id && !store_user_get(c->core.st, ps[i].author_id, &u))
                snprintf(author, sizeof(author), "%s", u.email);
            snprintf(text, sizeof(text), "%.*s", utf8_prefix(ps[i].text, 60), ps[i].text);
            const char *row[] = {id, ps[i].approval, author, at, text};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    store_post_list_free(ps, n);
    return EXIT_OK;
}
