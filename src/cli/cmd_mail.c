/* cmd_mail.c: `samtale mail test` (one message now, through the configured mail server,
 * saying what the server answered) and `samtale mail list` (the outbox). */
#include "cli/cli.h"
#include "core/mail.h"
#include "engine/mailer.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: samtale mail test --to ADDRESS [--subject S] [--text T] [--queue]\n"
    "       samtale mail list [--state S] [--limit N]\n"
    "\n"
    "Email goes through the mail server set by smtp_url (with smtp_user, smtp_password,\n"
    "smtp_from, smtp_security, smtp_ca_file; see 'samtale config'). Every message is kept\n"
    "in the outbox, which 'samtale serve' sends, retrying while the server is unreachable.\n"
    "\n"
    "  test   sends one message to ADDRESS now and says what the mail server answered\n"
    "         (exit 0 when it took the message, 1 when not). It is recorded in the outbox\n"
    "         (kind test) and not retried. --subject and --text replace the test text.\n"
    "         --queue puts it in the outbox instead, for 'samtale serve' to send.\n"
    "  list   the outbox, newest first (default 50, --limit up to 1000); --state is queued,\n"
    "         sending, sent or failed.\n";

static int mail_test(struct cli *c, int argc, char **argv)
{
    const char *to = NULL, *subject = NULL, *text = NULL, *pos[1];
    int queue = 0, npos, code, rc;
    struct cli_opt opts[] = {{"--to", &to, 0, 0, 0, 0}, {"--subject", &subject, 0, 0, 0, 0},
                             {"--text", &text, 0, 0, 0, 0}, {"--queue", NULL, &queue, 0, 0, 0}, {0}};
    struct mailer_options mo;
    struct store_mail row;
    struct smtp_result res;
    char deftext[600], when[32];
    int64_t id = 0;

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if(!to) {
        fprintf(stderr, "samtale: give the address to send to with --to\n");
        return EXIT_USAGE;
    }
    time_rfc3339(time_now(), when, sizeof(when));
    snprintf(deftext, sizeof(deftext),
             "This is a test message from samtale, written at %s.\n\n"
             "If it reached you, samtale can send email (invitations, reports and alerts).\n", when);
    if(!subject)
        subject = "samtale test message";
    if(!text)
        text = deftext;
    if((rc = core_mail_check(to, subject, text, "test")))
        return cli_fail(rc);
    if((code = cli_open(c)))
        return code;
    if(queue) {
        if((rc = core_mail_add(&c->core, to, subject, text, "test", &id)))
            return cli_fail(rc);
        if(c->json) {
            cli_print_json(json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "queued"));
        } else {
            printf("queued for %s (outbox id %lld)", to, (long long)id);
            printf(c->core.mail_enabled ? "; 'samtale serve' sends it\n"
                                        : "; mail is not configured yet (smtp_url), so it waits in the outbox\n");
        }
        return EXIT_OK;
    }
    if((rc = mailer_options_load(c->conf, &mo)))
        return cli_fail(rc);
    if((rc = mailer_send_now(&c->core, &mo, to, subject, text, "test", &row, &res)))
        return cli_fail(rc);
    if(c->json) {
        json_t *o = view_mail(&row);
        json_object_set_new(o, "message", json_string(res.message));
        cli_print_json(o);
    } else if(res.outcome == SMTP_SENT) {
        printf("sent to %s (outbox id %lld): %s\n", to, (long long)row.id, res.message);
    } else {
        fprintf(stderr, "samtale: not sent to %s (outbox id %lld): %s\n%s", to, (long long)row.id, res.message,
                res.outcome == SMTP_TEMPORARY
                    ? "  (this may pass later; mail queued by samtale is sent again, a test is not)\n"
                    : "");
    }
    store_mail_cleanup(&row);
    return res.outcome == SMTP_SENT ? EXIT_OK : EXIT_FAIL;
}

static int mail_list(struct cli *c, int argc, char **argv)
{
    const char *state = NULL, *limit = NULL, *pos[1];
    struct cli_opt opts[] = {{"--state", &state, 0, 0, 0, 0}, {"--limit", &limit, 0, 0, 0, 0}, {0}};
    const char *headers[] = {"ID", "CREATED", "TO", "KIND", "STATE", "ATTEMPTS", "NOTE"};
    struct store_mail *ms = NULL;
    size_t n = 0;
    long lim = 50;
    int npos, code, rc;

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if(state && strcmp(state, "queued") && strcmp(state, "sending") && strcmp(state, "sent") &&
       strcmp(state, "failed")) {
        fprintf(stderr, "samtale: --state must be queued, sending, sent or failed\n");
        return EXIT_USAGE;
    }
    if(limit && ((lim = strtol(limit, NULL, 10)) < 1 || lim > 1000)) {
        fprintf(stderr, "samtale: --limit must be from 1 to 1000\n");
        return EXIT_USAGE;
    }
    if((code = cli_open(c)))
        return code;
    if((rc = store_mail_list(c->core.st, state, 0, (int)lim, &ms, &n)))
        return cli_fail(rc);
    if(c->json) {
        json_t *a = json_array();
        for(size_t i = 0; i < n; i++)
            json_array_append_new(a, view_mail(&ms[i]));
        cli_print_json(a);
    } else {
        struct cli_table *t = cli_table_new(7, headers);
        for(size_t i = 0; i < n; i++) {
            char id[24], created[32], attempts[16], note[640], at[32];
            snprintf(id, sizeof(id), "%lld", (long long)ms[i].id);
            time_rfc3339(ms[i].created_at, created, sizeof(created));
            snprintf(attempts, sizeof(attempts), "%d", ms[i].attempts);
            if(!strcmp(ms[i].state, "sent")) {
                time_rfc3339(ms[i].sent_at, at, sizeof(at));
                snprintf(note, sizeof(note), "sent %s%s%s", at, ms[i].reply[0] ? ": " : "", ms[i].reply);
            } else if(!strcmp(ms[i].state, "queued") && ms[i].last_error[0]) {
                time_rfc3339(ms[i].next_attempt_at, at, sizeof(at));
                snprintf(note, sizeof(note), "again at %s: %s", at, ms[i].last_error);
            } else {
                snprintf(note, sizeof(note), "%s", ms[i].last_error);
            }
            const char *row[] = {id, created, ms[i].recipient, ms[i].kind, ms[i].state, attempts, note};
            cli_table_row(t, row);
        }
        cli_table_print(t);
        cli_table_free(t);
    }
    store_mail_list_free(ms, n);
    return EXIT_OK;
}

int cmd_mail(struct cli *c, int argc, char **argv)
{
    if(argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : EXIT_OK;
    }
    if(!strcmp(argv[0], "test"))
        return mail_test(c, argc - 1, argv + 1);
    if(!strcmp(argv[0], "list"))
        return mail_list(c, argc - 1, argv + 1);
    fprintf(stderr, "samtale: unknown mail command '%s'\n\n%s", argv[0], usage);
    return EXIT_USAGE;
}
