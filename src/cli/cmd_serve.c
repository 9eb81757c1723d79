/* cmd_serve.c: `samtale serve`: open the database, make the first owner on an empty one,
 * start the HTTP server, and run until SIGINT or SIGTERM. */
#include "cli/cli.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "engine/mailer.h"
#include "engine/poller.h"
#include "engine/publisher.h"
#include "web/web.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
    "usage: samtale serve [--listen ADDR:PORT] [--threads N] [--role all|web|worker]\n"
    "\n"
    "Runs the HTTP server (API under /api/v1, dashboard at /, /healthz, /readyz, /metrics).\n"
    "Listens on 127.0.0.1:8080 unless told otherwise; port 0 picks a free port. Prints\n"
    "'listening on URL' once it accepts connections. On the first start with an empty\n"
    "database it creates a workspace and an owner and prints a one-time password.\n"
    "With smtp_url set it also sends the mail outbox ('samtale mail list').\n"
    "Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.\n"
    "\n"
    "  --listen ADDR:PORT   address to listen on (config: listen)\n"
    "  --threads N          HTTP worker threads (config: threads)\n"
    "  --role ROLE          all (default): the HTTP server and the workers (publisher, reader,\n"
    "                       mailer); web: the HTTP server only; worker: the workers only.\n"
    "                       web and worker need PostgreSQL; any number of each may share it\n"
    "                       (config: role)\n";

/* What on_due wakes: the publisher, and the mailer when mail is configured. */
struct due_workers {
    struct publisher *pub;
    struct mailer *mail;
};

static void on_due(void *arg)
{
    struct due_workers *w = arg;
    publisher_kick(w->pub);
    mailer_kick(w->mail);
}

static void on_read(void *arg)
{
    poller_kick(arg);
}

/* Worker processes on PostgreSQL: what another process made due (a post written through
 * a web process) wakes the workers here at once, through LISTEN/NOTIFY. */
struct listener {
    struct core *core;
    struct due_workers *due;
    volatile int stop;
    pthread_t thread;
    int running;
};

static void *listen_due(void *arg)
{
    struct listener *l = arg;
    int failures = 0;
    while(!l->stop) {
        int got = 0;
        if(store_wait_due(l->core->st, 1000, &got)) {
            /* The database is away: the workers look every second anyway. */
            if(failures++ % 60 == 0)
                log_kv(LOG_WARN, "cannot listen for due work", "error", sam_errmsg(SAM_ESTORE), NULL);
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
            continue;
        }
        failures = 0;
        if(got)
            on_due(l->due);
    }
    return NULL;
}

/* Raises the soft open-file limit to the hard one and returns the limit now in force
 * (0 when unknown). Each HTTP connection holds a descriptor. */
static unsigned long raise_nofile(void)
{
    struct rlimit rl;
    if(getrlimit(RLIMIT_NOFILE, &rl))
        return 0;
    if(rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max;
        if(!setrlimit(RLIMIT_NOFILE, &want))
            rl = want;
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1ul << 20 : (unsigned long)rl.rlim_cur;
}

/* How many connections may be open at once: max_connections, or (0) the open-file limit
 * less room for what else needs descriptors (the database and its journal, network calls
 * of the publisher, the poller and the request workers, files), at most 10000; never so
 * many that the descriptors run out first. */
static unsigned connection_limit(long wanted, unsigned long nofile, long other_threads)
{
    unsigned long room = 64 + 4 * (unsigned long)other_threads, most;
    if(nofile == 0)
        nofile = 1024;
    if(room < nofile / 8)
        room = nofile / 8;
    most = nofile > room + 16 ? nofile - room : 16;
    if(most > 10000)
        most = 10000;
    if(wanted <= 0)
        return (unsigned)most;
    if((unsigned long)wanted > most) {
        char a[32], b[32];
        snprintf(a, sizeof(a), "%ld", wanted);
        snprintf(b, sizeof(b), "%lu", most);
        log_kv(LOG_WARN, "max_connections lowered to fit the open-file limit", "asked", a, "allowed", b, NULL);
        return (unsigned)most;
    }
    return (unsigned)wanted;
}

static void stop_listener(struct listener *l)
{
    if(!l->running)
        return;
    l->stop = 1;
    pthread_join(l->thread, NULL); /* it looks at stop at least once a second */
    l->running = 0;
}

int cmd_serve(struct cli *c, int argc, char **argv)
{
    const char *listen_on = NULL, *threads = NULL, *role_opt = NULL, *role, *pos[1];
    struct cli_opt opts[] = {{"--listen", &listen_on, 0, 0, 0, 0}, {"--threads", &threads, 0, 0, 0, 0},
                             {"--role", &role_opt, 0, 0, 0, 0}, {0}};
    struct listener lis;
    int do_web, do_work, postgres;
    struct web_options wo;
    struct web *w = NULL;
    struct publisher *pub = NULL;
    struct poller *pol = NULL;
    struct mailer *mail = NULL;
    struct mailer_options mo;
    struct due_workers due = {NULL, NULL};
    int lock_fd = -1; /* held while serving; the kernel releases it if the process dies */
    char files[4096] = ""; /* the publisher keeps a pointer to it while serving */
    char url[320], otp[24];
    sigset_t set;
    int npos, code, rc, created = 0, sig;
    double t0 = time_mono();
    unsigned long nofile = raise_nofile();

    CLI_PARSE(argc, argv, opts, pos, 0, &npos, usage);
    if(listen_on)
        conf_set(c->conf, "listen", listen_on, CONF_FLAG);
    if(threads)
        conf_set(c->conf, "threads", threads, CONF_FLAG);
    if(role_opt)
        conf_set(c->conf, "role", role_opt, CONF_FLAG);
    role = conf_get(c->conf, "role");
    postgres = cli_db_is_postgres(conf_get(c->conf, "db"));
    if(strcmp(role, "all") && strcmp(role, "web") && strcmp(role, "worker")) {
        fprintf(stderr, "samtale: role must be all, web or worker\n");
        return EXIT_USAGE;
    }
    if(strcmp(role, "all") && !postgres) {
        fprintf(stderr, "samtale: --role %s needs PostgreSQL (db = postgresql://...): on SQLite one process "
                        "serves and works (--role all)\n", role);
        return EXIT_USAGE;
    }
    do_web = strcmp(role, "worker") != 0;
    do_work = strcmp(role, "web") != 0;
    memset(&lis, 0, sizeof(lis));

    /* Block the stop signals before any thread starts, so only sigwait sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if((code = cli_open(c)))
        return code;
    if(!postgres) {
        /* One server per SQLite database: a second one would release the first one's
         * leases. On PostgreSQL any number of servers share the database. */
        char lockpath[4200];
        const char *db = conf_get(c->conf, "db");
        snprintf(lockpath, sizeof(lockpath), "%s.serve.lock", !strncmp(db, "sqlite:", 7) ? db + 7 : db);
        lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if(lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB)) {
            fprintf(stderr, "samtale: another 'samtale serve' is using %s; stop it first (lock file %s)\n", db,
                    lockpath);
            if(lock_fd >= 0)
                close(lock_fd);
            return EXIT_FAIL;
        }
    }
    if(do_web)
        rc = core_bootstrap(&c->core, _(conf_get(c->conf, "bootstrap_workspace")), conf_get(c->conf, "timezone"),
                        conf_get(c->conf, "bootstrap_email"), otp, &created);
    else
        rc = SAM_OK;
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
        long nw = conf_get_long(c->conf, "net_workers"), nq = conf_get_long(c->conf, "net_queue"),
             npw = conf_get_long(c->conf, "net_per_workspace"), dl = conf_get_long(c->conf, "net_deadline_ms"),
             mc = conf_get_long(c->conf, "max_connections"),
             mpc = conf_get_long(c->conf, "max_connections_per_client"),
             idle = conf_get_long(c->conf, "idle_timeout_s");
        if(nw < 1 || nw > 256 || nq < 1 || nq > 100000 || npw < 1 || npw > 100000 || dl < 1000 || dl > 3600000 ||
           mc < 0 || mc > 1000000 || mpc < 0 || mpc > 1000000 || idle < 1 || idle > 86400) {
            fprintf(stderr, "samtale: net_workers must be 1-256, net_queue and net_per_workspace at least 1, "
                            "net_deadline_ms 1000-3600000, max_connections and max_connections_per_client 0 or "
                            "more, idle_timeout_s 1-86400\n");
            return EXIT_USAGE;
        }
        wo.net_workers = (unsigned)nw;
        wo.net_queue = (unsigned)nq;
        wo.net_per_workspace = (unsigned)npw;
        wo.net_deadline_ms = dl;
        wo.max_connections = connection_limit(mc, nofile, nw + conf_get_long(c->conf, "publish_workers") + 1);
        wo.max_per_client = (unsigned)mpc;
        wo.idle_timeout_s = (unsigned)idle;
    }
    if(!*conf_get(c->conf, "files_dir") && cli_beside_db(conf_get(c->conf, "db"), "files", files, sizeof(files)))
        return cli_fail(sam_fail(SAM_EINVAL, "cannot choose the files folder; set files_dir"));
    if(do_work) {
        struct publisher_options po;
        const char *fd = files[0] ? files : conf_get(c->conf, "files_dir");
        po.workers = (int)conf_get_long(c->conf, "publish_workers");
        po.timeout_ms = conf_get_long(c->conf, "publish_timeout_ms");
        po.max_attempts = (int)conf_get_long(c->conf, "publish_max_attempts");
        /* A lease outlasts one channel call (the outcome is recorded right after it). */
        po.lease_seconds = (int)(2 * po.timeout_ms / 1000) + 30;
        po.backoff_s = (int)conf_get_long(c->conf, "publish_backoff_s");
        po.file_dir = fd;
        if(po.workers < 1 || po.workers > 64 || po.timeout_ms < 100 || po.timeout_ms > 300000 ||
           po.max_attempts < 1 || po.backoff_s < 1) {
            fprintf(stderr, "samtale: publish_workers must be 1-64, publish_timeout_ms 100-300000, "
                            "publish_max_attempts and publish_backoff_s at least 1\n");
            return EXIT_USAGE;
        }
        if(poller_parse_checkpoints(conf_get(c->conf, "engagement_after"), po.checkpoints, &po.ncheckpoints)) {
            fprintf(stderr, "samtale: %s\n", sam_errmsg(SAM_EINVAL));
            return EXIT_USAGE;
        }
        struct poller_options lo = {.interval_s = (int)conf_get_long(c->conf, "poll_interval_s"),
                                    .timeout_ms = po.timeout_ms, .file_dir = fd};
        if(lo.interval_s < 1 || lo.interval_s > 86400) {
            fprintf(stderr, "samtale: poll_interval_s must be from 1 to 86400\n");
            return EXIT_USAGE;
        }
        /* Mail (smtp_url set): its settings are checked before anything starts. */
        memset(&mo, 0, sizeof(mo));
        if(*conf_get(c->conf, "smtp_url") && (rc = mailer_options_load(c->conf, &mo))) {
            fprintf(stderr, "samtale: %s\n", sam_errmsg(rc));
            return EXIT_USAGE;
        }
        rc = publisher_start(&c->core, &po, &pub);
        if(rc)
            return cli_fail(rc);
        due.pub = pub;
        if(*conf_get(c->conf, "smtp_url")) {
            rc = mailer_start(&c->core, &mo, &mail);
            if(rc) {
                publisher_stop(pub);
                return cli_fail(rc);
            }
            log_kv(LOG_INFO, "mail enabled", "smtp_url", mo.smtp.url, "from", mo.smtp.from, "security",
                   conf_get(c->conf, "smtp_security"), NULL);
        }
        due.mail = mail;
        c->core.mail_enabled = mail != NULL;
        c->core.on_due = on_due;
        c->core.on_due_arg = &due;
        rc = poller_start(&c->core, &lo, &pol);
        if(rc) {
            c->core.on_due = NULL;
            mailer_stop(mail);
            publisher_stop(pub);
            return cli_fail(rc);
        }
        c->core.on_read = on_read;
        c->core.on_read_arg = pol;
        if(postgres) {
            lis.core = &c->core;
            lis.due = &due;
            if(pthread_create(&lis.thread, NULL, listen_due, &lis)) {
                c->core.on_due = NULL;
                poller_stop(pol);
                mailer_stop(mail);
                publisher_stop(pub);
                return cli_fail(sam_fail(SAM_EINTERNAL, "cannot start the listener thread"));
            }
            lis.running = 1;
        }
    }
    wo.public_url = conf_get(c->conf, "public_url");
    wo.metrics_token = conf_get(c->conf, "metrics_token");
    wo.trusted_proxies = conf_get(c->conf, "trusted_proxies");
    {
        long entries = conf_get_long(c->conf, "login_limiter_entries");
        if(entries < 64 || entries > (1L << 24)) {
            fprintf(stderr, "samtale: login_limiter_entries must be from 64 to 16777216\n");
            return EXIT_USAGE;
        }
        wo.login_entries = (size_t)entries;
    }
    wo.net_timeout_ms = conf_get_long(c->conf, "publish_timeout_ms");
    wo.file_dir = files[0] ? files : conf_get(c->conf, "files_dir");
    rc = do_web ? web_start(&wo, &c->core, &w, url, sizeof(url)) : SAM_OK;
    if(rc) {
        c->core.on_due = NULL;
        stop_listener(&lis);
        poller_stop(pol);
        mailer_stop(mail);
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
    if(do_web)
        printf("listening on %s\n", url);
    else
        printf("working on the database (role worker)\n");
    fflush(stdout);
    if(do_web) {
        char ms[32], conns[32], nfiles[32];
        snprintf(ms, sizeof(ms), "%.1f", (time_mono() - t0) * 1000.0);
        snprintf(conns, sizeof(conns), "%u", wo.max_connections);
        snprintf(nfiles, sizeof(nfiles), "%lu", nofile);
        char dbshown[1024];
        conf_display(c->conf, "db", dbshown, sizeof(dbshown));
        log_kv(LOG_INFO, "serving", "url", url, "db", dbshown, "startup_ms", ms, "max_connections",
               conns, "open_file_limit", nfiles, NULL);
    }

    sigwait(&set, &sig);
    log_kv(LOG_INFO, "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    if(w)
        web_stop(w);
    stop_listener(&lis);
    c->core.on_due = NULL;
    c->core.on_read = NULL;
    poller_stop(pol);
    mailer_stop(mail);
    publisher_stop(pub);
    close(lock_fd);
    return EXIT_OK;
}
