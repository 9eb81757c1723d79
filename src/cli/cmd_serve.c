/* cmd_serve.c: `samtale serve`: open the database, make the first owner on an empty one,
 * start the HTTP server, and run until SIGINT or SIGTERM. */
#include "cli/cli.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "engine/publisher.h"
#include "web/web.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: samtale serve [--listen ADDR:PORT] [--threads N]\n"
    "\n"
    "Runs the HTTP server (API under /api/v1, dashboard at /, /healthz, /readyz, /metrics).\n"
    "Listens on 127.0.0.1:8080 unless told otherwise; port 0 picks a free port. Prints\n"
    "'listening on URL' once it accepts connections. On the first start with an empty\n"
    "database it creates a workspace and an owner and prints a one-time password.\n"
    "Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.\n"
    "\n"
    "  --listen ADDR:PORT   address to listen on (config: listen)\n"
    "  --threads N          HTTP worker threads (config: threads)\n";

static void on_due(void *arg)
{
    publisher_kick(arg);
}

int cmd_serve(struct cli *c, int argc, char **argv)
{
    const char *listen_on = NULL, *threads = NULL, *pos[1];
    struct cli_opt opts[] = {{"--listen", &listen_on, 0, 0, 0, 0}, {"--threads", &threads, 0, 0, 0, 0}, {0}};
    struct web_options wo;
    struct web *w = NULL;
    struct publisher *pub = NULL;
    char files[4096]; /* the publisher keeps a pointer to it while serving */
    char url[320], otp[24];
    sigset_t set;
    int npos, code, rc, created = 0, sig;
    double t0 = time_mono();

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if(listen_on)
        conf_set(c->conf, "listen", listen_on, CONF_FLAG);
    if(threads)
        conf_set(c->conf, "threads", threads, CONF_FLAG);

    /* Block the stop signals before any thread starts, so only sigwait sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if((code = cli_open(c)))
        return code;
    rc = core_bootstrap(&c->core, conf_get(c->conf, "bootstrap_workspace"), conf_get(c->conf, "timezone"),
                        conf_get(c->conf, "bootstrap_email"), otp, &created);
    if(rc)
        return cli_fail(rc);

    memset(&wo, 0, sizeof(wo));
    wo.listen = conf_get(c->conf, "listen");
    wo.max_body = (size_t)conf_get_long(c->conf, "max_body");
    wo.threads = (unsigned)conf_get_long(c->conf, "threads");
    wo.tls_cert = conf_get(c->conf, "tls_cert");
    wo.tls_key = conf_get(c->conf, "tls_key");
    wo.cookie_secure = !strcmp(conf_get(c->conf, "cookie_secure"), "auto") ? -1 : conf_get_bool(c->conf, "cookie_secure");
    if(wo.max_body < 1024 || wo.threads < 1 || wo.threads > 64) {
        fprintf(stderr, "samtale: max_body must be at least 1024 and threads from 1 to 64\n");
        return EXIT_USAGE;
    }
    {
        struct publisher_options po;
        const char *fd = conf_get(c->conf, "files_dir");
        if(!*fd) {
            const char *db = conf_get(c->conf, "db");
            const char *slash = strrchr(db, '/');
            if(!strncmp(db, "sqlite:", 7))
                db += 7;
            slash = strrchr(db, '/');
            snprintf(files, sizeof(files), "%.*s%sfiles", slash ? (int)(slash - db) : 0, db, slash ? "/" : "");
            fd = files;
        }
        po.workers = (int)conf_get_long(c->conf, "publish_workers");
        po.timeout_ms = conf_get_long(c->conf, "publish_timeout_ms");
        po.max_attempts = (int)conf_get_long(c->conf, "publish_max_attempts");
        po.lease_seconds = 60;
        po.backoff_s = (int)conf_get_long(c->conf, "publish_backoff_s");
        po.file_dir = fd;
        if(po.workers < 1 || po.workers > 64 || po.timeout_ms < 100 || po.max_attempts < 1 || po.backoff_s < 1) {
            fprintf(stderr, "samtale: publish_workers must be 1-64, publish_timeout_ms at least 100 and "
                            "publish_max_attempts at least 1\n");
            return EXIT_USAGE;
        }
        rc = publisher_start(&c->core, &po, &pub);
        if(rc)
            return cli_fail(rc);
        c->core.on_due = on_due;
        c->core.on_due_arg = pub;
    }
    rc = web_start(&wo, &c->core, &w, url, sizeof(url));
    if(rc) {
        publisher_stop(pub);
        return cli_fail(rc);
    }

    if(created) {
        printf("samtale: first start: created the workspace \"%s\" and its owner.\n"
               "  Log in at %s with\n"
               "  email: %s\n"
               "  one-time password: %s\n"
               "  (you will choose your own password when you first log in)\n",
               conf_get(c->conf, "bootstrap_workspace"), url, conf_get(c->conf, "bootstrap_email"), otp);
    }
    printf("listening on %s\n", url);
    fflush(stdout);
    {
        char ms[32];
        snprintf(ms, sizeof(ms), "%.1f", (time_mono() - t0) * 1000.0);
        log_kv(LOG_INFO, "serving", "url", url, "db", conf_get(c->conf, "db"), "startup_ms", ms, NULL);
    }

    sigwait(&set, &sig);
    log_kv(LOG_INFO, "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    web_stop(w);
    c->core.on_due = NULL;
    publisher_stop(pub);
    return EXIT_OK;
}
