/*
 * test_jetstream.c: channel/jetstream.c (CH4): the event parser, the subscription path,
 * settings checks, and the client against a real WebSocket peer on 127.0.0.1
 * (tests/peers/jetstream_replay.py, run with /usr/bin/python3) that replays Jetstream
 * events from a JSONL file, drops a connection midway, or goes silent.
 *
 * Data: the replay cases read $SAMTALE_DATA_DIR/jetstream/{golden,events-sample}-v1.jsonl
 * (SAMTALE_DATA_DIR defaults to ../shared/data next to the source tree) and are skipped
 * with a message when those files are absent. The heartbeat, malformed-frame and error
 * cases write their own small files and always run. A peer that cannot be started fails
 * the case: these tests must not pass by not running.
 *
 * The peer replays in time_us order (as Jetstream does); the expected order is the
 * file's events sorted by time_us, computed here with jansson, independently of the
 * parser under test. Waits are polls of a condition with a deadline, never fixed sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "channel/jetstream.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/netpolicy.h"

#include "listen_probe.h"

#define PEER_SCRIPT SAMTALE_SOURCE_DIR "/tests/peers/jetstream_replay.py"
#define WAIT_MS 15000

/* ---------- time and waiting ---------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls cond every 5 ms until it holds or ms pass; evaluates to whether it held. */
#define WAIT_UNTIL(cond, ms)                                                                \
    ({                                                                                     \
        int64_t wu_end = mono_ms() + (ms);                                                 \
        int wu_ok;                                                                         \
        while(!(wu_ok = !!(cond)) && mono_ms() < wu_end)                                   \
            nap_ms(5);                                                                     \
        wu_ok;                                                                             \
    })

/* ---------- files ---------- */

static void data_path(const char *name, char *out, size_t n)
{
    const char *d = getenv("SAMTALE_DATA_DIR");
    if(d && *d)
        snprintf(out, n, "%s/jetstream/%s", d, name);
    else
        snprintf(out, n, "%s/../shared/data/jetstream/%s", SAMTALE_SOURCE_DIR, name);
}

static int have_file(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Temporary files made by a test, removed by its teardown even when it fails early. */
static char g_tmp[8][PATH_MAX];

static void tmp_path(const char *tag, char *out, size_t n)
{
    const char *t = getenv("TMPDIR");
    int fd;
    snprintf(out, n, "%s/samtale-js-%s-XXXXXX", t && *t ? t : P_tmpdir, tag);
    fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    for(size_t i = 0; i < sizeof(g_tmp) / sizeof(g_tmp[0]); i++)
        if(!g_tmp[i][0]) {
            snprintf(g_tmp[i], sizeof(g_tmp[i]), "%s", out);
            break;
        }
}

static void tmp_remove_all(void)
{
    for(size_t i = 0; i < sizeof(g_tmp) / sizeof(g_tmp[0]); i++)
        if(g_tmp[i][0]) {
            unlink(g_tmp[i]);
            g_tmp[i][0] = '\0';
        }
}

static void write_lines(const char *path, const char *const *lines, size_t n)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for(size_t i = 0; i < n; i++)
        fprintf(f, "%s\n", lines[i]);
    assert_int_equal(fclose(f), 0);
}

/* One expected event, from the file, read with jansson alone. */
struct want {
    int64_t t;
    size_t line;
    char kind[16];
    char op[16];
    char coll[128];
    char rkey[64];
    char did[64];
};

static int want_cmp(const void *a, const void *b)
{
    const struct want *x = a, *y = b;
    if(x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line; /* stable */
}

static void copy_str(char *dst, size_t n, json_t *v)
{
    snprintf(dst, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* The events of a JSONL file in time_us order; only == NULL or collection filter. */
static struct want *load_wants(const char *path, const char *only, size_t *count)
{
    FILE *f = fopen(path, "r");
    struct want *w = NULL;
    size_t n = 0, line = 0;
    char *text = NULL;
    size_t cap = 0;
    ssize_t len;

    assert_non_null(f);
    while((len = getline(&text, &cap, f)) > 0) {
        json_error_t err;
        json_t *root, *commit;
        struct want one;
        line++;
        if(len <= 1)
            continue;
        root = json_loadb(text, (size_t)len, 0, &err);
        assert_non_null(root);
        memset(&one, 0, sizeof(one));
        one.line = line;
        one.t = json_integer_value(json_object_get(root, "time_us"));
        copy_str(one.kind, sizeof(one.kind), json_object_get(root, "kind"));
        copy_str(one.did, sizeof(one.did), json_object_get(root, "did"));
        commit = json_object_get(root, "commit");
        copy_str(one.op, sizeof(one.op), json_object_get(commit, "operation"));
        copy_str(one.coll, sizeof(one.coll), json_object_get(commit, "collection"));
        copy_str(one.rkey, sizeof(one.rkey), json_object_get(commit, "rkey"));
        json_decref(root);
        if(only && !strcmp(one.kind, "commit") && strcmp(one.coll, only))
            continue;
        w = realloc(w, (n + 1) * sizeof(*w));
        assert_non_null(w);
        w[n++] = one;
    }
    free(text);
    fclose(f);
    qsort(w, n, sizeof(*w), want_cmp);
    *count = n;
    return w;
}

/* ---------- the replay peer ---------- */

struct peer {
    pid_t pid;
    int port;
    char log[PATH_MAX];
    char url[64];
};

/* One peer and one client per test, static so the teardown can end them when an
 * assertion leaves a test early. */
static struct peer g_peer;

/* Starts the peer with file and extra arguments (NULL-terminated); fails the test when it
 * does not say "listening on" within the deadline. */
static void peer_start(struct peer *p, const char *file, const char *const *extra)
{
    const char *argv[24];
    int n = 0, fds[2];
    char line[256];
    size_t got = 0;
    int64_t end;

    memset(p, 0, sizeof(*p));
    tmp_path("log", p->log, sizeof(p->log));
    argv[n++] = "/usr/bin/python3";
    argv[n++] = PEER_SCRIPT;
    argv[n++] = "--file";
    argv[n++] = file;
    argv[n++] = "--log";
    argv[n++] = p->log;
    for(int i = 0; extra && extra[i] && n < 22; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;

    assert_int_equal(pipe(fds), 0);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if(p->pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    end = mono_ms() + WAIT_MS;
    while(got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        ssize_t r;
        int left = (int)(end - mono_ms());
        if(left <= 0 || poll(&pfd, 1, left) <= 0)
            break;
        r = read(fds[0], line + got, sizeof(line) - 1 - got);
        if(r <= 0)
            break;
        got += (size_t)r;
    }
    close(fds[0]);
    line[got] = '\0';
    if(sscanf(line, "listening on ws://127.0.0.1:%d/", &p->port) != 1) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
        fail_msg("the replay peer did not start (%s); said: %s", PEER_SCRIPT, line);
    }
    snprintf(p->url, sizeof(p->url), "ws://127.0.0.1:%d", p->port);
}

static void peer_stop(struct peer *p)
{
    int64_t end;
    if(p->pid > 0) {
        kill(p->pid, SIGTERM);
        end = mono_ms() + 5000;
        while(waitpid(p->pid, NULL, WNOHANG) == 0) {
            if(mono_ms() > end) {
                kill(p->pid, SIGKILL);
                waitpid(p->pid, NULL, 0);
                break;
            }
            nap_ms(5);
        }
        p->pid = 0;
    }
    if(p->log[0])
        unlink(p->log);
    p->log[0] = '\0';
}

/* The peer's "connect" log lines, as a JSON array (caller decrefs). */
static json_t *peer_connects(const struct peer *p)
{
    json_t *all = json_array();
    FILE *f = fopen(p->log, "r");
    char *text = NULL;
    size_t cap = 0;
    ssize_t len;
    assert_non_null(f);
    while((len = getline(&text, &cap, f)) > 0) {
        json_t *o = json_loadb(text, (size_t)len, 0, NULL);
        if(o && !strcmp(json_string_value(json_object_get(o, "event")), "connect"))
            json_array_append(all, o);
        json_decref(o);
    }
    free(text);
    fclose(f);
    return all;
}

/* ---------- a client on its own thread, recording what it is handed ---------- */

struct got {
    int64_t t;
    int kind;
    int op;
    char coll[128];
    char rkey[64];
    char did[64];
};

struct client {
    struct jetstream *js;
    pthread_t thread;
    int running;         /* the thread was started and not joined */
    int rc;
    pthread_mutex_t lock;
    struct got *items;
    size_t n;
    size_t stop_after;   /* when nonzero, the callback answers SAM_EINVAL past this many */
};

static int record_event(const struct jetstream_event *ev, void *user)
{
    struct client *c = user;
    struct got g;
    if(c->stop_after && c->n >= c->stop_after)
        return SAM_EINVAL;
    memset(&g, 0, sizeof(g));
    g.t = ev->time_us;
    g.kind = ev->kind;
    g.op = ev->operation;
    snprintf(g.coll, sizeof(g.coll), "%s", ev->collection ? ev->collection : "");
    snprintf(g.rkey, sizeof(g.rkey), "%s", ev->rkey ? ev->rkey : "");
    snprintf(g.did, sizeof(g.did), "%s", ev->did);
    pthread_mutex_lock(&c->lock);
    c->items = realloc(c->items, (c->n + 1) * sizeof(*c->items));
    if(!c->items) {
        pthread_mutex_unlock(&c->lock);
        return SAM_ENOMEM;
    }
    c->items[c->n++] = g;
    pthread_mutex_unlock(&c->lock);
    return SAM_OK;
}

static struct jetstream_stats stats_of(struct client *c)
{
    struct jetstream_stats s;
    jetstream_get_stats(c->js, &s);
    return s;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    c->rc = jetstream_run(c->js);
    return NULL;
}

/* Test settings: short heartbeat and backoff. */
static void fast_config(struct jetstream_config *cfg, const char *url, struct client *c)
{
    jetstream_config_init(cfg);
    cfg->url = url;
    cfg->ping_interval_ms = 100;
    cfg->silence_timeout_ms = 1500;
    cfg->connect_timeout_ms = 3000;
    cfg->backoff_min_ms = 50;
    cfg->backoff_max_ms = 400;
    cfg->on_event = record_event;
    cfg->user = c;
}

static void client_start(struct client *c, const struct jetstream_config *cfg)
{
    int rc = jetstream_new(cfg, &c->js);
    assert_int_equal(rc, SAM_OK);
    assert_int_equal(pthread_create(&c->thread, NULL, client_main, c), 0);
    c->running = 1;
}

static void client_init(struct client *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
}

/* Stops the client from this thread, as the engine would, and checks run's result. */
static void client_stop(struct client *c, int want_rc)
{
    int64_t t0 = mono_ms();
    jetstream_stop(c->js);
    assert_int_equal(pthread_join(c->thread, NULL), 0);
    c->running = 0;
    assert_true(mono_ms() - t0 < 4000);
    assert_int_equal(c->rc, want_rc);
    jetstream_free(c->js);
    c->js = NULL;
}

static void client_cleanup(struct client *c)
{
    free(c->items);
    c->items = NULL;
    c->n = 0;
    pthread_mutex_destroy(&c->lock);
}

static struct client g_client;

/* Ends whatever a test left running: its client thread, its peer. */
static int teardown(void **state)
{
    (void)state;
    if(g_client.running) {
        jetstream_stop(g_client.js);
        pthread_join(g_client.thread, NULL);
        g_client.running = 0;
    }
    if(g_client.js) {
        jetstream_free(g_client.js);
        g_client.js = NULL;
        client_cleanup(&g_client);
    }
    peer_stop(&g_peer);
    tmp_remove_all();
    return 0;
}

/* Every wanted event arrived once, in order, with the right fields. */
static void check_same(const struct client *c, const struct want *w, size_t n)
{
    assert_int_equal(c->n, n);
    for(size_t i = 0; i < n; i++) {
        const struct got *g = &c->items[i];
        int kind = !strcmp(w[i].kind, "commit")     ? JETSTREAM_COMMIT
                   : !strcmp(w[i].kind, "identity") ? JETSTREAM_IDENTITY
                   : !strcmp(w[i].kind, "account")  ? JETSTREAM_ACCOUNT
                                                    : -1;
        int op = !strcmp(w[i].op, "create")   ? JETSTREAM_CREATE
                 : !strcmp(w[i].op, "update") ? JETSTREAM_UPDATE
                 : !strcmp(w[i].op, "delete") ? JETSTREAM_DELETE
                                              : JETSTREAM_OP_NONE;
        if(g->t != w[i].t)
            fail_msg("event %zu: time_us %lld, wanted %lld (line %zu)", i, (long long)g->t,
                     (long long)w[i].t, w[i].line);
        assert_int_equal(g->kind, kind);
        assert_int_equal(g->op, op);
        assert_string_equal(g->coll, w[i].coll);
        assert_string_equal(g->rkey, w[i].rkey);
        assert_string_equal(g->did, w[i].did);
    }
}

/* ---------- parser ---------- */

struct parse_case {
    const char *json;
    int rc;
    int kind;
    int op;
};

static void test_parse_table(void **state)
{
    static const struct parse_case cases[] = {
        {"{\"did\":\"did:plc:a\",\"time_us\":5,\"kind\":\"commit\",\"commit\":{\"rev\":\"r\","
         "\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"k\","
         "\"record\":{\"text\":\"hei\"},\"cid\":\"bafy\"}}",
         SAM_OK, JETSTREAM_COMMIT, JETSTREAM_CREATE},
        {"{\"did\":\"did:plc:a\",\"time_us\":5,\"kind\":\"commit\",\"commit\":{"
         "\"operation\":\"delete\",\"collection\":\"app.bsky.feed.like\",\"rkey\":\"k\"}}",
         SAM_OK, JETSTREAM_COMMIT, JETSTREAM_DELETE},
        {"{\"did\":\"did:plc:a\",\"time_us\":5,\"kind\":\"commit\",\"commit\":{"
         "\"operation\":\"update\",\"collection\":\"c.d\",\"rkey\":\"self\",\"record\":{}}}",
         SAM_EINVAL, 0, 0}, /* update without cid */
        {"{\"did\":\"did:plc:a\",\"time_us\":5,\"kind\":\"commit\",\"commit\":{"
         "\"operation\":\"upsert\",\"collection\":\"c.d\",\"rkey\":\"k\"}}",
         SAM_EINVAL, 0, 0},
        {"{\"did\":\"did:plc:a\",\"time_us\":5,\"kind\":\"commit\"}", SAM_EINVAL, 0, 0},
        {"{\"did\":\"did:plc:a\",\"time_us\":7,\"kind\":\"identity\",\"identity\":{"
         "\"did\":\"did:plc:a\",\"handle\":\"a.example\",\"seq\":9}}",
         SAM_OK, JETSTREAM_IDENTITY, JETSTREAM_OP_NONE},
        {"{\"did\":\"did:plc:a\",\"time_us\":8,\"kind\":\"account\",\"account\":{"
         "\"active\":false,\"status\":\"deactivated\",\"seq\":10}}",
         SAM_OK, JETSTREAM_ACCOUNT, JETSTREAM_OP_NONE},
        {"{\"did\":\"did:plc:a\",\"time_us\":8,\"kind\":\"account\",\"account\":{}}",
         SAM_EINVAL, 0, 0},
        {"{\"did\":\"did:plc:a\",\"time_us\":9,\"kind\":\"sync\",\"sync\":{}}", SAM_OK,
         JETSTREAM_OTHER, JETSTREAM_OP_NONE},
        {"{\"did\":\"plc:a\",\"time_us\":9,\"kind\":\"identity\",\"identity\":{}}", SAM_EINVAL, 0,
         0},
        {"{\"did\":\"did:plc:a\",\"time_us\":\"9\",\"kind\":\"identity\",\"identity\":{}}",
         SAM_EINVAL, 0, 0},
        {"{\"did\":\"did:plc:a\",\"time_us\":0,\"kind\":\"identity\",\"identity\":{}}",
         SAM_EINVAL, 0, 0},
        {"{\"did\":\"did:plc:a\",\"time_us\":1.5,\"kind\":\"identity\",\"identity\":{}}",
         SAM_EINVAL, 0, 0},
        {"{\"did\":\"did:plc:a\",\"time_us\":9,\"identity\":{}}", SAM_EINVAL, 0, 0},
        {"{\"did\":\"did:plc:a\",\"did\":\"did:plc:b\",\"time_us\":9,\"kind\":\"x\"}", SAM_EINVAL,
         0, 0},
        {"{\"did\":\"did:plc:\\u0000a\",\"time_us\":9,\"kind\":\"x\"}", SAM_EINVAL, 0, 0},
        {"[1,2]", SAM_EINVAL, 0, 0},
        {"not json", SAM_EINVAL, 0, 0},
        {"", SAM_EINVAL, 0, 0},
        {"{\"did\":\"did:plc:a\",\"time_us\":9,\"kind\":\"x\"", SAM_EINVAL, 0, 0},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jetstream_event ev;
        int rc = jetstream_parse_event(cases[i].json, strlen(cases[i].json), &ev);
        if(rc != cases[i].rc)
            fail_msg("case %zu: rc %d, wanted %d (%s)", i, rc, cases[i].rc, sam_errmsg(rc));
        if(rc == SAM_OK) {
            assert_int_equal(ev.kind, cases[i].kind);
            assert_int_equal(ev.operation, cases[i].op);
            assert_non_null(ev.root);
            assert_true(ev.time_us > 0);
        } else {
            assert_null(ev.root);
        }
        jetstream_event_cleanup(&ev);
    }
}

static void test_parse_fields(void **state)
{
    static const char text[] =
        "{\"did\":\"did:plc:a\",\"time_us\":1725911162329308,\"kind\":\"commit\","
        "\"commit\":{\"rev\":\"3l3q\",\"operation\":\"create\",\"collection\":"
        "\"app.bsky.feed.post\",\"rkey\":\"3l3qo2\",\"record\":{\"text\":\"hei\"},"
        "\"cid\":\"bafyx\"}}trailing";
    static const char acct[] = "{\"did\":\"did:plc:b\",\"time_us\":3,\"kind\":\"account\","
                               "\"account\":{\"active\":true,\"seq\":42}}";
    struct jetstream_event ev;
    (void)state;
    /* The length bounds the text: "trailing" is not part of it. */
    assert_int_equal(jetstream_parse_event(text, strlen(text) - 8, &ev), SAM_OK);
    assert_string_equal(ev.did, "did:plc:a");
    assert_true(ev.time_us == 1725911162329308LL);
    assert_string_equal(ev.kind_name, "commit");
    assert_string_equal(ev.collection, "app.bsky.feed.post");
    assert_string_equal(ev.rkey, "3l3qo2");
    assert_string_equal(ev.rev, "3l3q");
    assert_string_equal(ev.cid, "bafyx");
    assert_string_equal(json_string_value(json_object_get(ev.record, "text")), "hei");
    jetstream_event_cleanup(&ev);
    assert_null(ev.root);
    assert_int_equal(jetstream_parse_event(text, strlen(text), &ev), SAM_EINVAL);
    jetstream_event_cleanup(&ev);

    assert_int_equal(jetstream_parse_event(acct, strlen(acct), &ev), SAM_OK);
    assert_int_equal(ev.active, 1);
    assert_true(ev.seq == 42);
    assert_null(ev.status);
    jetstream_event_cleanup(&ev);
}

/* ---------- subscription path and settings ---------- */

static void test_subscribe_path(void **state)
{
    static const char *const two[] = {"app.bsky.feed.post", "app.bsky.graph.*"};
    static const char *const bad1[] = {"app bsky"};
    static const char *const bad2[] = {"app.*.post"};
    static const char *const bad3[] = {"a&cursor=1"};
    struct {
        const char *base;
        const char *const *colls;
        size_t n;
        int64_t cursor;
        int rc;
        const char *want;
    } cases[] = {
        {"", NULL, 0, 0, SAM_OK, "/subscribe"},
        {"/", NULL, 0, 0, SAM_OK, "/subscribe"},
        {"/subscribe", NULL, 0, 12, SAM_OK, "/subscribe?cursor=12"},
        {"/js/", two, 2, 0, SAM_OK,
         "/js/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.graph.*"},
        {"/a/subscribe/", two, 1, 1725911162329308LL, SAM_OK,
         "/a/subscribe?wantedCollections=app.bsky.feed.post&cursor=1725911162329308"},
        {"", bad1, 1, 0, SAM_EINVAL, NULL},
        {"", bad2, 1, 0, SAM_EINVAL, NULL},
        {"", bad3, 1, 0, SAM_EINVAL, NULL},
    };
    struct buf b;
    (void)state;
    buf_init(&b, 4096);
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = jetstream_subscribe_path(cases[i].base, cases[i].colls, cases[i].n,
                                          cases[i].cursor, &b);
        assert_int_equal(rc, cases[i].rc);
        if(!rc)
            assert_string_equal(buf_str(&b), cases[i].want);
    }
    buf_cleanup(&b);
    buf_init(&b, 16); /* too small a limit */
    assert_int_equal(jetstream_subscribe_path("", two, 2, 0, &b), SAM_ETOOBIG);
    buf_cleanup(&b);
}

static int never_called(const struct jetstream_event *ev, void *user)
{
    (void)ev;
    (void)user;
    fail_msg("no event expected");
    return SAM_EINTERNAL;
}

static void test_new_rejects(void **state)
{
    static const char *const bad_urls[] = {
        "http://127.0.0.1:1", "ws://", "ws://:80", "ws://host:0", "ws://host:99999",
        "ws://host:x", "ws://host/sub?x=1", "ws://ho st", "ws://[::1]:80", "wss://h/a b",
    };
    static const char *const bad_coll[] = {"app.bsky.feed.post", "not a name"};
    struct jetstream_config cfg;
    struct jetstream *js = (struct jetstream *)1;
    (void)state;
    for(size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        jetstream_config_init(&cfg);
        cfg.url = bad_urls[i];
        cfg.on_event = never_called;
        if(jetstream_new(&cfg, &js) != SAM_EINVAL)
            fail_msg("URL %s was accepted", bad_urls[i]);
        assert_null(js);
    }
    jetstream_config_init(&cfg);
    cfg.url = "ws://127.0.0.1:9";
    assert_int_equal(jetstream_new(&cfg, &js), SAM_EINVAL); /* no callback */
    cfg.on_event = never_called;
    cfg.collections = bad_coll;
    cfg.n_collections = 2;
    assert_int_equal(jetstream_new(&cfg, &js), SAM_EINVAL);
    cfg.n_collections = 1;
    cfg.ping_interval_ms = 0;
    assert_int_equal(jetstream_new(&cfg, &js), SAM_EINVAL);
    cfg.ping_interval_ms = 100;
    cfg.n_collections = 101;
    assert_int_equal(jetstream_new(&cfg, &js), SAM_EINVAL);
    cfg.n_collections = 1;
    cfg.url = "wss://jetstream2.us-east.bsky.network/subscribe";
    assert_int_equal(jetstream_new(&cfg, &js), SAM_OK);
    /* Stopped before it ran: run returns at once, without connecting. */
    jetstream_stop(js);
    assert_int_equal(jetstream_run(js), SAM_OK);
    jetstream_free(js);
    jetstream_free(NULL);
}

/* Nothing listens: every attempt fails, and run gives up after max_reconnects. */
static void test_refused_gives_up(void **state)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char url[64];
    struct jetstream_config cfg;
    struct jetstream_stats s;
    int64_t t0;
    (void)state;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd); /* a port that was free a moment ago and has no listener */
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", ntohs(sa.sin_port));

    client_init(&g_client);
    fast_config(&cfg, url, &g_client);
    cfg.backoff_min_ms = 20;
    cfg.backoff_max_ms = 60;
    cfg.max_reconnects = 3;
    assert_int_equal(jetstream_new(&cfg, &g_client.js), SAM_OK);
    t0 = mono_ms();
    assert_int_equal(jetstream_run(g_client.js), SAM_EIO);
    /* 20 + 40 + 60 ms of backoff at least: the delays grew and were capped. */
    assert_true(mono_ms() - t0 >= 120);
    jetstream_get_stats(g_client.js, &s);
    assert_int_equal(s.attempts, 4);
    assert_int_equal(s.reconnects, 3);
    assert_int_equal(s.connects, 0);
    assert_int_equal(s.connected, 0);
    jetstream_free(g_client.js);
    g_client.js = NULL;
    client_cleanup(&g_client);
}

/* The address policy decides each address of the host before libwebsockets connects:
 * with private addresses refused, run ends at once with SAM_EPERM and nothing reaches a
 * listener at the port; an address on the allow list is connected to (the listener never
 * answers the upgrade, so the attempts time out, and the connections wait in its backlog). */
static void test_policy_refuses_loopback(void **state)
{
    static const char *const hosts[] = {"127.0.0.1", "localhost", "2130706433", "0x7f.0.0.1", "127.1",
                                        "0.0.0.0"};
    int fds[2], port = probe_pair(fds);
    char url[96];
    struct jetstream_config cfg;
    struct jetstream_stats s;
    (void)state;
    assert_true(port > 0);

    assert_int_equal(netpolicy_configure(0, NULL), SAM_OK);
    for(size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        snprintf(url, sizeof(url), "ws://%s:%d", hosts[i], port);
        client_init(&g_client);
        fast_config(&cfg, url, &g_client);
        cfg.max_reconnects = 3;
        assert_int_equal(jetstream_new(&cfg, &g_client.js), SAM_OK);
        sam_clear();
        assert_int_equal(jetstream_run(g_client.js), SAM_EPERM);
        assert_non_null(strstr(sam_errmsg(SAM_EPERM), "samtale does not connect to"));
        jetstream_get_stats(g_client.js, &s);
        assert_int_equal(s.attempts, 1);  /* no retry can change the answer */
        assert_int_equal(s.connects, 0);
        jetstream_free(g_client.js);
        g_client.js = NULL;
        client_cleanup(&g_client);
        if(probe_pending(fds[0]) || probe_pending(fds[1]))
            fail_msg("%s reached a listener with the policy on", url);
    }

    assert_int_equal(netpolicy_configure(0, "127.0.0.1"), SAM_OK);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", port);
    client_init(&g_client);
    fast_config(&cfg, url, &g_client);
    cfg.connect_timeout_ms = 300;
    cfg.backoff_min_ms = 20;
    cfg.backoff_max_ms = 20;
    cfg.max_reconnects = 1;
    assert_int_equal(jetstream_new(&cfg, &g_client.js), SAM_OK);
    assert_int_equal(jetstream_run(g_client.js), SAM_EIO);
    jetstream_get_stats(g_client.js, &s);
    assert_int_equal(s.attempts, 2);
    jetstream_free(g_client.js);
    g_client.js = NULL;
    client_cleanup(&g_client);
    assert_true(probe_pending(fds[0]) >= 1);
    assert_int_equal(probe_pending(fds[1]), 0);

    /* A redirect of the upgrade is not followed: libwebsockets would resolve and connect
     * to its address without asking the policy. */
    {
        int other = probe_listen_v4("127.0.0.3", 0);
        char answer[256];
        struct probe_responder r;
        assert_true(other >= 0);
        snprintf(answer, sizeof(answer), "HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.3:%d/subscribe\r\n"
                 "Content-Length: 0\r\n\r\n", probe_port(other));
        assert_int_equal(probe_respond(&r, fds[0], answer), 0);
        client_init(&g_client);
        fast_config(&cfg, url, &g_client);
        cfg.connect_timeout_ms = 300;
        cfg.backoff_min_ms = 20;
        cfg.backoff_max_ms = 20;
        cfg.max_reconnects = 1;
        assert_int_equal(jetstream_new(&cfg, &g_client.js), SAM_OK);
        assert_int_equal(jetstream_run(g_client.js), SAM_EIO);
        assert_true(probe_join(&r));
        jetstream_free(g_client.js);
        g_client.js = NULL;
        client_cleanup(&g_client);
        assert_int_equal(probe_pending(other), 0);
        probe_pending(fds[0]);
        close(other);
    }

    assert_int_equal(netpolicy_configure(1, NULL), SAM_OK); /* the replay peer */
    close(fds[0]);
    close(fds[1]);
}

/* ---------- against the replay peer ---------- */

/* (a) every event of golden-v1.jsonl, in order, with the right kinds; then the idle
 * connection stays up because pongs answer the pings. */
static void replay_golden(const char *const *extra)
{
    char file[PATH_MAX];
    struct want *w;
    size_t n;
    struct jetstream_config cfg;
    struct jetstream_stats s;

    data_path("golden-v1.jsonl", file, sizeof(file));
    if(!have_file(file)) {
        print_message("skipped: %s is absent (set SAMTALE_DATA_DIR)\n", file);
        skip();
    }
    w = load_wants(file, NULL, &n);
    assert_int_equal(n, 10);
    peer_start(&g_peer, file, extra);
    client_init(&g_client);
    fast_config(&cfg, g_peer.url, &g_client);
    client_start(&g_client, &cfg);

    assert_true(WAIT_UNTIL(stats_of(&g_client).events >= n, WAIT_MS));
    /* Quiet, but alive: 15 pongs take 1.5 s, past the 1.5 s silence timeout. */
    assert_true(WAIT_UNTIL(stats_of(&g_client).pongs >= 15, WAIT_MS));
    s = stats_of(&g_client);
    client_stop(&g_client, SAM_OK);
    peer_stop(&g_peer);

    check_same(&g_client, w, n);
    assert_int_equal(s.connects, 1);
    assert_int_equal(s.reconnects, 0);
    assert_int_equal(s.heartbeat_timeouts, 0);
    assert_int_equal(s.malformed, 0);
    assert_int_equal(s.duplicates, 0);
    assert_true(s.cursor == w[n - 1].t);
    {
        int kinds[4] = {0};
        for(size_t i = 0; i < g_client.n; i++)
            kinds[g_client.items[i].kind]++;
        assert_int_equal(kinds[JETSTREAM_COMMIT], 8);
        assert_int_equal(kinds[JETSTREAM_IDENTITY], 1);
        assert_int_equal(kinds[JETSTREAM_ACCOUNT], 1);
    }
    client_cleanup(&g_client);
    free(w);
}

static void test_golden_in_order(void **state)
{
    (void)state;
    replay_golden(NULL);
}

/* The same, with every message split into 50-character fragments. */
static void test_golden_fragmented(void **state)
{
    static const char *const extra[] = {"--fragment", "50", NULL};
    (void)state;
    replay_golden(extra);
}

/* (b) wantedCollections=app.bsky.feed.post: only posts, plus identity and account. */
static void test_wanted_collections(void **state)
{
    static const char *const posts[] = {"app.bsky.feed.post"};
    char file[PATH_MAX];
    struct want *w;
    size_t n;
    struct jetstream_config cfg;
    json_t *conns;
    (void)state;

    data_path("events-sample-v1.jsonl", file, sizeof(file));
    if(!have_file(file)) {
        print_message("skipped: %s is absent (set SAMTALE_DATA_DIR)\n", file);
        skip();
    }
    w = load_wants(file, "app.bsky.feed.post", &n);
    assert_true(n > 2 && n < 152);
    peer_start(&g_peer, file, NULL);
    client_init(&g_client);
    fast_config(&cfg, g_peer.url, &g_client);
    cfg.collections = posts;
    cfg.n_collections = 1;
    client_start(&g_client, &cfg);
    assert_true(WAIT_UNTIL(stats_of(&g_client).events >= n, WAIT_MS));
    client_stop(&g_client, SAM_OK);
    conns = peer_connects(&g_peer);
    peer_stop(&g_peer);

    check_same(&g_client, w, n);
    for(size_t i = 0; i < g_client.n; i++)
        assert_true(g_client.items[i].kind != JETSTREAM_COMMIT ||
                    !strcmp(g_client.items[i].coll, "app.bsky.feed.post"));
    assert_int_equal(json_array_size(conns), 1);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_array_get(conns, 0), "wantedCollections"), 0)),
                        "app.bsky.feed.post");
    print_message("wantedCollections=app.bsky.feed.post: %zu events\n", g_client.n);
    json_decref(conns);
    client_cleanup(&g_client);
    free(w);
}

/* (c) the peer drops the first connection after 50 events without a close frame; the
 * client resumes from its cursor and handles every event exactly once, in order. */
static void resume_after_drop(long rewind_ms)
{
    static const char *const extra[] = {"--drop-after", "50", NULL};
    char file[PATH_MAX];
    struct want *w;
    size_t n, dup = 0, gaps = 0;
    struct jetstream_config cfg;
    struct jetstream_stats s;
    json_t *conns, *second;

    data_path("events-sample-v1.jsonl", file, sizeof(file));
    if(!have_file(file)) {
        print_message("skipped: %s is absent (set SAMTALE_DATA_DIR)\n", file);
        skip();
    }
    w = load_wants(file, NULL, &n);
    assert_int_equal(n, 152);
    peer_start(&g_peer, file, extra);
    client_init(&g_client);
    fast_config(&cfg, g_peer.url, &g_client);
    cfg.rewind_ms = rewind_ms;
    client_start(&g_client, &cfg);
    assert_true(WAIT_UNTIL(stats_of(&g_client).events >= n, WAIT_MS));
    s = stats_of(&g_client);
    client_stop(&g_client, SAM_OK);
    conns = peer_connects(&g_peer);
    peer_stop(&g_peer);

    /* Count duplicates and gaps against the file before the exact comparison, so a
     * failure says which. */
    for(size_t i = 1; i < g_client.n; i++)
        if(g_client.items[i].t <= g_client.items[i - 1].t)
            dup++;
    for(size_t i = 0, j = 0; i < n; i++) {
        while(j < g_client.n && g_client.items[j].t < w[i].t)
            j++;
        if(j >= g_client.n || g_client.items[j].t != w[i].t)
            gaps++;
    }
    print_message("resume (rewind %ld ms): %zu events handled of %zu, %llu connections, "
                  "%llu reconnects, %llu replayed and dropped, %zu duplicates, %zu gaps, "
                  "second cursor %lld, event 50 at %lld\n",
                  rewind_ms, g_client.n, n, (unsigned long long)s.connects,
                  (unsigned long long)s.reconnects, (unsigned long long)s.duplicates, dup, gaps,
                  (long long)json_integer_value(
                      json_object_get(json_array_get(conns, 1), "cursor")),
                  (long long)w[49].t);
    assert_int_equal(dup, 0);
    assert_int_equal(gaps, 0);
    check_same(&g_client, w, n);
    assert_int_equal(s.connects, 2);
    assert_int_equal(s.reconnects, 1);
    assert_int_equal(json_array_size(conns), 2);
    assert_true(json_is_null(json_object_get(json_array_get(conns, 0), "cursor")));
    second = json_object_get(json_array_get(conns, 1), "cursor");
    assert_true(json_is_integer(second));
    assert_true(json_integer_value(second) > 0);
    assert_true(json_integer_value(second) <= w[49].t);
    {
        /* The cursor asked for is (time_us of the last event handled before the drop) -
         * rewind: some event among the first 50, moved back by exactly the rewind. */
        int found = 0;
        for(size_t i = 0; i < 50 && !found; i++)
            found = json_integer_value(second) == w[i].t - (int64_t)rewind_ms * 1000;
        assert_true(found);
    }
    if(rewind_ms == 0)
        assert_int_equal(s.duplicates, 0);
    json_decref(conns);
    client_cleanup(&g_client);
    free(w);
}

static void test_resume_after_drop(void **state)
{
    (void)state;
    resume_after_drop(3000);
}

static void test_resume_after_drop_no_rewind(void **state)
{
    (void)state;
    resume_after_drop(0);
}

/* Valid synthetic events (written here, not taken from the data set). */
#define EV_POST(t, rkey)                                                                    \
    "{\"did\":\"did:plc:test\",\"time_us\":" #t ",\"kind\":\"commit\",\"commit\":{"        \
    "\"rev\":\"r" #t "\",\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\","   \
    "\"rkey\":\"" rkey "\",\"record\":{\"text\":\"hello " #t "\"},\"cid\":\"bafy" #t "\"}}"

/* (d) a peer that accepts and then says nothing, not even pongs: the heartbeat finds it
 * dead after the silence timeout and the client reconnects. */
static void test_silent_peer(void **state)
{
    static const char *const lines[] = {EV_POST(1000, "a")};
    static const char *const extra[] = {"--silent", NULL};
    char file[PATH_MAX];
    struct jetstream_config cfg;
    struct jetstream_stats s;
    int64_t t0, took;
    json_t *conns;
    (void)state;

    tmp_path("silent", file, sizeof(file));
    write_lines(file, lines, 1);
    peer_start(&g_peer, file, extra);
    client_init(&g_client);
    fast_config(&cfg, g_peer.url, &g_client);
    cfg.silence_timeout_ms = 600;
    t0 = mono_ms();
    client_start(&g_client, &cfg);
    assert_true(WAIT_UNTIL(stats_of(&g_client).heartbeat_timeouts >= 1, WAIT_MS));
    took = mono_ms() - t0;
    assert_true(WAIT_UNTIL(stats_of(&g_client).connects >= 2, WAIT_MS));
    s = stats_of(&g_client);
    client_stop(&g_client, SAM_OK);
    conns = peer_connects(&g_peer);
    peer_stop(&g_peer);
    unlink(file);

    print_message("silent peer: dead after %lld ms (timeout 600 ms), %llu pings, %llu pongs\n",
                  (long long)took, (unsigned long long)s.pings, (unsigned long long)s.pongs);
    assert_true(took >= 600);
    assert_true(took < 600 + 1500);
    assert_true(s.pings >= 3);
    assert_int_equal(s.pongs, 0);
    assert_int_equal(s.events, 0);
    assert_true(s.reconnects >= 1);
    assert_true(json_array_size(conns) >= 2);
    json_decref(conns);
    client_cleanup(&g_client);
}

/* (e) malformed, oversized, unknown and replayed messages are counted and skipped; the
 * stream goes on over the same connection. */
static void malformed_frames(const char *fragment)
{
    char big[7000];
    const char *lines[16];
    size_t k = 0;
    const char *extra[] = {"--raw", fragment ? "--fragment" : NULL, fragment, NULL};
    char file[PATH_MAX];
    struct jetstream_config cfg;
    struct jetstream_stats s;
    static const int64_t want_t[] = {1000, 2000, 3000, 4000, 5000, 7000};
    static const int want_kind[] = {JETSTREAM_COMMIT,   JETSTREAM_COMMIT, JETSTREAM_IDENTITY,
                                    JETSTREAM_COMMIT,   JETSTREAM_ACCOUNT, JETSTREAM_COMMIT};

    snprintf(big, sizeof(big),
             "{\"did\":\"did:plc:test\",\"time_us\":2600,\"kind\":\"commit\",\"commit\":{"
             "\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"big\","
             "\"cid\":\"bafybig\",\"record\":{\"text\":\"%06000d\"}}}",
             0);
    lines[k++] = EV_POST(1000, "a");
    lines[k++] = "not json at all";
    lines[k++] = EV_POST(2000, "b");
    lines[k++] = "{\"did\":\"did:plc:test\",\"kind\":\"commit\",\"commit\":{\"operation\":"
                 "\"delete\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"x\"}}";
    lines[k++] = "{\"did\":\"did:plc:test\",\"time_us\":2500,\"kind\":\"commit\",\"commit\":{"
                 "\"operation\":\"create\",\"rkey\":\"r\",\"record\":{},\"cid\":\"c\"}}";
    lines[k++] = big;
    lines[k++] = "[1,2,3]";
    lines[k++] = "{\"did\":\"did:plc:test\",\"time_us\":3000,\"kind\":\"identity\","
                 "\"identity\":{\"did\":\"did:plc:test\",\"handle\":\"t.example\",\"seq\":1}}";
    lines[k++] = "{\"did\":\"did:plc:test\",\"time_us\":3500,\"kind\":\"future\",\"future\":{}}";
    lines[k++] = "{\"did\":\"did:plc:test\",\"time_us\":4000,\"kind\":\"commit\",\"commit\":{"
                 "\"operation\":\"delete\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"a\"}}";
    lines[k++] = EV_POST(4000, "again");
    lines[k++] = "{\"did\":\"did:plc:test\",\"time_us\":5000,\"kind\":\"account\","
                 "\"account\":{\"active\":true,\"did\":\"did:plc:test\",\"seq\":2}}";
    lines[k++] = "{\"did\":\"did:plc:test\",\"time_us\":\"6000\",\"kind\":\"identity\","
                 "\"identity\":{}}";
    lines[k++] = EV_POST(7000, "d");

    tmp_path("bad", file, sizeof(file));
    write_lines(file, lines, k);
    peer_start(&g_peer, file, extra);
    client_init(&g_client);
    fast_config(&cfg, g_peer.url, &g_client);
    cfg.max_frame = 4096;
    client_start(&g_client, &cfg);
    assert_true(WAIT_UNTIL(stats_of(&g_client).events >= 6, WAIT_MS));
    s = stats_of(&g_client);
    client_stop(&g_client, SAM_OK);
    peer_stop(&g_peer);
    unlink(file);

    assert_int_equal(g_client.n, 6);
    for(size_t i = 0; i < 6; i++) {
        assert_true(g_client.items[i].t == want_t[i]);
        assert_int_equal(g_client.items[i].kind, want_kind[i]);
    }
    assert_int_equal(g_client.items[3].op, JETSTREAM_DELETE);
    assert_int_equal(s.malformed, 5);
    assert_int_equal(s.oversized, 1);
    assert_int_equal(s.skipped, 1);
    assert_int_equal(s.duplicates, 1);
    assert_int_equal(s.connects, 1);
    assert_int_equal(s.reconnects, 0);
    assert_true(s.cursor == 7000);
    client_cleanup(&g_client);
}

static void test_malformed_frames(void **state)
{
    (void)state;
    malformed_frames(NULL);
}

static void test_malformed_frames_fragmented(void **state)
{
    (void)state;
    malformed_frames("37");
}

/* A message larger than libwebsockets' read buffer (16 KiB) but under max_frame arrives in
 * several pieces and is put back together. */
static void test_large_message(void **state)
{
    static char big[48000];
    const char *lines[3];
    char file[PATH_MAX];
    struct jetstream_stats s;
    (void)state;

    snprintf(big, sizeof(big),
             "{\"did\":\"did:plc:test\",\"time_us\":20,\"kind\":\"commit\",\"commit\":{"
             "\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"big\","
             "\"cid\":\"bafybig\",\"record\":{\"text\":\"%040000d\"}}}",
             7);
    lines[0] = EV_POST(10, "a");
    lines[1] = big;
    lines[2] = EV_POST(30, "c");
    tmp_path("large", file, sizeof(file));
    write_lines(file, lines, 3);
    peer_start(&g_peer, file, NULL);
    client_init(&g_client);
    {
        struct jetstream_config cfg;
        fast_config(&cfg, g_peer.url, &g_client);
        client_start(&g_client, &cfg);
    }
    assert_true(WAIT_UNTIL(stats_of(&g_client).events >= 3, WAIT_MS));
    s = stats_of(&g_client);
    client_stop(&g_client, SAM_OK);
    peer_stop(&g_peer);
    unlink(file);
    assert_int_equal(g_client.n, 3);
    assert_string_equal(g_client.items[1].rkey, "big");
    assert_int_equal(s.malformed + s.oversized, 0);
    client_cleanup(&g_client);
}

/* The callback can stop the stream; the event it refused is not handled. */
static void test_callback_stops(void **state)
{
    static const char *const lines[] = {EV_POST(10, "a"), EV_POST(20, "b"), EV_POST(30, "c"),
                                        EV_POST(40, "d")};
    char file[PATH_MAX];
    struct jetstream_config cfg;
    struct jetstream_stats s;
    (void)state;

    tmp_path("stop", file, sizeof(file));
    write_lines(file, lines, 4);
    peer_start(&g_peer, file, NULL);
    client_init(&g_client);
    g_client.stop_after = 2;
    fast_config(&cfg, g_peer.url, &g_client);
    assert_int_equal(jetstream_new(&cfg, &g_client.js), SAM_OK);
    assert_int_equal(jetstream_run(g_client.js), SAM_EINVAL);
    jetstream_get_stats(g_client.js, &s);
    jetstream_free(g_client.js);
    g_client.js = NULL;
    peer_stop(&g_peer);
    unlink(file);
    assert_int_equal(g_client.n, 2);
    assert_int_equal(s.events, 2);
    assert_true(s.cursor == 20);
    client_cleanup(&g_client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_subscribe_path),
        cmocka_unit_test(test_new_rejects),
        cmocka_unit_test_teardown(test_refused_gives_up, teardown),
        cmocka_unit_test_teardown(test_policy_refuses_loopback, teardown),
        cmocka_unit_test_teardown(test_golden_in_order, teardown),
        cmocka_unit_test_teardown(test_golden_fragmented, teardown),
        cmocka_unit_test_teardown(test_wanted_collections, teardown),
        cmocka_unit_test_teardown(test_resume_after_drop, teardown),
        cmocka_unit_test_teardown(test_resume_after_drop_no_rewind, teardown),
        cmocka_unit_test_teardown(test_silent_peer, teardown),
        cmocka_unit_test_teardown(test_malformed_frames, teardown),
        cmocka_unit_test_teardown(test_malformed_frames_fragmented, teardown),
        cmocka_unit_test_teardown(test_large_message, teardown),
        cmocka_unit_test_teardown(test_callback_stops, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    netpolicy_configure(1, NULL); /* the replay peer is on 127.0.0.1 */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
