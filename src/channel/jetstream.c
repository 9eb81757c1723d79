/*
 * jetstream.c: the Jetstream client (see jetstream.h and docs/jetstream.md).
 *
 * Threads: everything but jetstream_stop() and jetstream_get_stats() runs on the thread
 * inside jetstream_run(), the only one that services the lws_context. jetstream_stop()
 * sets an atomic flag and wakes the service loop with lws_cancel_service(); the counters
 * are under a mutex so other threads can read them.
 *
 * Connection life: connect_now() starts an attempt; CLIENT_ESTABLISHED marks it up;
 * CLIENT_CONNECTION_ERROR or CLIENT_CLOSED (whichever comes) calls on_gone(), which
 * schedules the next attempt after the backoff (sul_retry). A periodic timer (sul_tick)
 * times out attempts that do not connect, sends pings, and kills a connection that has
 * been silent (no message, no pong) for silence_timeout_ms. Killing goes through
 * lws_set_timeout(LWS_TO_KILL_ASYNC), so lws closes the wsi in its own time and the usual
 * CLOSED path reconnects.
 *
 * Addresses: libwebsockets would resolve the host itself and connect to whatever it finds
 * (and follow a redirect of the upgrade). Instead, each attempt resolves the host here
 * (getaddrinfo), asks the outbound address policy (util/netpolicy.h) about every address,
 * and hands libwebsockets one allowed address as a numeric string ("address"), so nothing
 * else is resolved and nothing else is connected. The URL's host name stays the "host"
 * (Host header, with the port when the URL has one), which libwebsockets also uses, with
 * the port cut, for TLS: SNI and the certificate's name check are against the name, not
 * the number. Redirects of the upgrade are not followed (LCCSCF_HTTP_NO_FOLLOW_REDIRECT).
 * A host whose every address is refused ends jetstream_run with SAM_EPERM at once: no
 * retry can change the answer without a new configuration.
 *
 * Messages: text arrives in pieces (fragments, and frames larger than lws' rx buffer);
 * the pieces go into one bounded buffer until lws_is_final_fragment(). A message past
 * max_frame is dropped as it arrives (only its remaining pieces are read and ignored).
 */
#include "channel/jetstream.h"
#include "util/err.h"
#include "util/log.h"
#include "util/netpolicy.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JS_MAX_COLLECTIONS 100
#define JS_MAX_NSID 317
#define JS_MAX_PATH (64 * 1024)
#define JS_MAX_ADDRS 8          /* allowed addresses of the host tried in turn */

struct jetstream {
    /* settings: cfg's strings point at the copies below */
    struct jetstream_config cfg;
    char *url;
    char **collections;
    char *base_path;
    char host[256];
    char host_header[272];
    char address[INET6_ADDRSTRLEN]; /* the allowed address of this attempt, numeric */
    int port;
    int tls;
    long tick_ms;
    struct lws_context *ctx;

    /* service-thread state */
    struct lws *wsi;            /* the current attempt or connection, or NULL */
    lws_sorted_usec_list_t sul_retry;
    lws_sorted_usec_list_t sul_tick;
    int retry_pending;
    int failures;               /* attempts in a row that delivered no event */
    int got_message;            /* this attempt delivered a well-formed message */
    int established;
    int killing;                /* a kill was asked for this attempt */
    int want_ping;
    int closing;                /* jetstream_run is closing for good */
    int done;                   /* jetstream_run should return (result says why) */
    int result;
    int64_t attempt_ms, last_rx_ms, last_ping_ms, close_deadline_ms;
    char last_error[128];
    struct buf path;
    struct buf msg;
    int msg_started, msg_binary, msg_skip;

    /* shared between threads */
    atomic_int stop;
    pthread_mutex_t lock;
    struct jetstream_stats stats;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------- parsing ---------- */

static const char *get_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t get_seq(json_t *obj)
{
    json_t *v = json_object_get(obj, "seq");
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int parse_commit(json_t *root, struct jetstream_event *ev)
{
    json_t *c = json_object_get(root, "commit");
    const char *op;
    if(!json_is_object(c))
        return sam_fail(SAM_EINVAL, "jetstream: commit event without a commit object");
    op = get_str(c, "operation");
    if(!op)
        return sam_fail(SAM_EINVAL, "jetstream: commit without an operation");
    if(!strcmp(op, "create"))
        ev->operation = JETSTREAM_CREATE;
    else if(!strcmp(op, "update"))
        ev->operation = JETSTREAM_UPDATE;
    else if(!strcmp(op, "delete"))
        ev->operation = JETSTREAM_DELETE;
    else
        return sam_fail(SAM_EINVAL, "jetstream: unknown commit operation");
    ev->collection = get_str(c, "collection");
    ev->rkey = get_str(c, "rkey");
    if(!ev->collection || !*ev->collection || !ev->rkey || !*ev->rkey)
        return sam_fail(SAM_EINVAL, "jetstream: commit without a collection or rkey");
    ev->rev = get_str(c, "rev");
    if(ev->operation == JETSTREAM_DELETE)
        return SAM_OK;
    ev->record = json_object_get(c, "record");
    ev->cid = get_str(c, "cid");
    if(!json_is_object(ev->record) || !ev->cid)
        return sam_fail(SAM_EINVAL, "jetstream: %s without a record object or cid", op);
    return SAM_OK;
}

int jetstream_parse_event(const char *json, size_t len, struct jetstream_event *ev)
{
    json_error_t jerr;
    json_t *root, *v, *sub;
    int rc = SAM_OK;

    memset(ev, 0, sizeof(*ev));
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if(!root) {
        if(json_error_code(&jerr) == json_error_out_of_memory)
            return SAM_ENOMEM;
        return sam_fail(SAM_EINVAL, "jetstream: not JSON: %s", jerr.text);
    }
    ev->root = root;
    if(!json_is_object(root)) {
        rc = sam_fail(SAM_EINVAL, "jetstream: the message is not a JSON object");
        goto out;
    }
    ev->did = get_str(root, "did");
    if(!ev->did || strncmp(ev->did, "did:", 4) != 0) {
        rc = sam_fail(SAM_EINVAL, "jetstream: event without a did");
        goto out;
    }
    v = json_object_get(root, "time_us");
    if(!json_is_integer(v) || json_integer_value(v) <= 0) {
        rc = sam_fail(SAM_EINVAL, "jetstream: event without a positive integer time_us");
        goto out;
    }
    ev->time_us = (int64_t)json_integer_value(v);
    ev->kind_name = get_str(root, "kind");
    if(!ev->kind_name) {
        rc = sam_fail(SAM_EINVAL, "jetstream: event without a kind");
        goto out;
    }
    if(!strcmp(ev->kind_name, "commit")) {
        ev->kind = JETSTREAM_COMMIT;
        rc = parse_commit(root, ev);
    } else if(!strcmp(ev->kind_name, "identity")) {
        ev->kind = JETSTREAM_IDENTITY;
        sub = json_object_get(root, "identity");
        if(!json_is_object(sub)) {
            rc = sam_fail(SAM_EINVAL, "jetstream: identity event without an identity object");
            goto out;
        }
        ev->handle = get_str(sub, "handle");
        ev->seq = get_seq(sub);
    } else if(!strcmp(ev->kind_name, "account")) {
        ev->kind = JETSTREAM_ACCOUNT;
        sub = json_object_get(root, "account");
        if(!json_is_object(sub) || !json_is_boolean(json_object_get(sub, "active"))) {
            rc = sam_fail(SAM_EINVAL, "jetstream: account event without account.active");
            goto out;
        }
        ev->active = json_is_true(json_object_get(sub, "active"));
        ev->status = get_str(sub, "status");
        ev->seq = get_seq(sub);
    } else {
        ev->kind = JETSTREAM_OTHER;
    }
out:
    if(rc)
        jetstream_event_cleanup(ev);
    return rc;
}

void jetstream_event_cleanup(struct jetstream_event *ev)
{
    if(!ev)
        return;
    json_decref(ev->root);
    memset(ev, 0, sizeof(*ev));
}

/* ---------- settings ---------- */

/* An NSID such as app.bsky.feed.post, or a prefix wildcard such as app.bsky.feed.* */
static int collection_ok(const char *c)
{
    size_t n = strlen(c);
    if(n == 0 || n > JS_MAX_NSID)
        return 0;
    for(size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)c[i];
        if(ch == '*') {
            if(i != n - 1 || i == 0 || c[i - 1] != '.')
                return 0;
        } else if(!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-')) {
            return 0;
        }
    }
    return 1;
}

int jetstream_subscribe_path(const char *base_path, const char *const *collections,
                             size_t n_collections, int64_t cursor, struct buf *out)
{
    size_t bl;
    char sep = '?';
    int rc;

    buf_reset(out);
    while(*base_path == '/')
        base_path++;
    bl = strlen(base_path);
    while(bl && base_path[bl - 1] == '/')
        bl--;
    /* "/" + the base path without its slashes at either end, then "/subscribe" unless it
     * already ends so. */
    if((rc = buf_append(out, "/", 1)) || (rc = buf_append(out, base_path, bl)))
        return rc;
    if(!(out->len >= 10 && !memcmp(out->data + out->len - 10, "/subscribe", 10)) &&
       (rc = buf_puts(out, bl ? "/subscribe" : "subscribe")))
        return rc;
    for(size_t i = 0; i < n_collections; i++) {
        if(!collection_ok(collections[i]))
            return sam_fail(SAM_EINVAL, "jetstream: not a collection name: \"%.80s\"",
                            collections[i]);
        if((rc = buf_printf(out, "%cwantedCollections=%s", sep, collections[i])))
            return rc;
        sep = '&';
    }
    if(cursor > 0 && (rc = buf_printf(out, "%ccursor=%lld", sep, (long long)cursor)))
        return rc;
    return SAM_OK;
}

static int parse_url(struct jetstream *js, const char *url)
{
    const char *p, *end;
    size_t n;

    if(!strncmp(url, "ws://", 5)) {
        p = url + 5;
        js->port = 80;
    } else if(!strncmp(url, "wss://", 6)) {
        p = url + 6;
        js->port = 443;
        js->tls = 1;
    } else {
        return sam_fail(SAM_EINVAL, "jetstream: the URL must start with ws:// or wss://");
    }
    end = p + strcspn(p, ":/?#");
    n = (size_t)(end - p);
    if(n == 0 || n >= sizeof(js->host))
        return sam_fail(SAM_EINVAL, "jetstream: the URL has no host, or too long a one");
    for(size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if(!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '.' || ch == '-'))
            return sam_fail(SAM_EINVAL, "jetstream: the URL's host is not a name or IPv4 address");
    }
    memcpy(js->host, p, n);
    js->host[n] = '\0';
    p = end;
    if(*p == ':') {
        long port = 0;
        p++;
        if(*p < '0' || *p > '9')
            return sam_fail(SAM_EINVAL, "jetstream: the URL's port is not a number");
        while(*p >= '0' && *p <= '9' && port <= 65535)
            port = port * 10 + (*p++ - '0');
        if(port < 1 || port > 65535)
            return sam_fail(SAM_EINVAL, "jetstream: the URL's port is out of range");
        js->port = (int)port;
        snprintf(js->host_header, sizeof(js->host_header), "%s:%d", js->host, js->port);
    } else {
        snprintf(js->host_header, sizeof(js->host_header), "%s", js->host);
    }
    if(*p && *p != '/')
        return sam_fail(SAM_EINVAL, "jetstream: the URL may not carry a query or fragment; "
                                    "use collections and cursor");
    for(const char *q = p; *q; q++)
        if((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '?' || *q == '#')
            return sam_fail(SAM_EINVAL, "jetstream: the URL's path may not carry spaces, "
                                        "control characters, a query or a fragment");
    js->base_path = strdup(p);
    return js->base_path ? SAM_OK : SAM_ENOMEM;
}

void jetstream_config_init(struct jetstream_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->rewind_ms = 3000;
    cfg->ping_interval_ms = 20000;
    cfg->silence_timeout_ms = 60000;
    cfg->connect_timeout_ms = 10000;
    cfg->backoff_min_ms = 250;
    cfg->backoff_max_ms = 30000;
    cfg->max_frame = 1024 * 1024;
}

/* ---------- counters ---------- */

#define STAT_ADD(js, field, n)                                                              \
    do {                                                                                   \
        pthread_mutex_lock(&(js)->lock);                                                   \
        (js)->stats.field += (n);                                                          \
        pthread_mutex_unlock(&(js)->lock);                                                 \
    } while(0)

void jetstream_get_stats(struct jetstream *js, struct jetstream_stats *out)
{
    pthread_mutex_lock(&js->lock);
    *out = js->stats;
    pthread_mutex_unlock(&js->lock);
}

static int64_t cursor_of(struct jetstream *js)
{
    int64_t c;
    pthread_mutex_lock(&js->lock);
    c = js->stats.cursor;
    pthread_mutex_unlock(&js->lock);
    return c;
}

static void set_connected(struct jetstream *js, int up)
{
    pthread_mutex_lock(&js->lock);
    js->stats.connected = up;
    if(up)
        js->stats.connects++;
    pthread_mutex_unlock(&js->lock);
}

/* ---------- connection life ---------- */

static void connect_now(struct jetstream *js);

static void on_retry(lws_sorted_usec_list_t *sul)
{
    struct jetstream *js = lws_container_of(sul, struct jetstream, sul_retry);
    js->retry_pending = 0;
    connect_now(js);
}

/* The attempt ended: waits the backoff, then tries again; gives up past max_reconnects. */
static void schedule_retry(struct jetstream *js)
{
    long delay;
    if(js->retry_pending || js->done || js->closing || atomic_load(&js->stop))
        return;
    if(js->got_message)
        js->failures = 0;
    js->failures++;
    if(js->cfg.max_reconnects > 0 && js->failures > js->cfg.max_reconnects) {
        js->result = sam_fail(SAM_EIO, "jetstream: %d connection attempts in a row to %s "
                                       "failed (last: %s)",
                              js->failures, js->url, js->last_error[0] ? js->last_error : "closed");
        js->done = 1;
        return;
    }
    delay = js->cfg.backoff_min_ms;
    for(int i = 1; i < js->failures && delay < js->cfg.backoff_max_ms; i++)
        delay *= 2;
    if(delay > js->cfg.backoff_max_ms)
        delay = js->cfg.backoff_max_ms;
    js->retry_pending = 1;
    lws_sul_schedule(js->ctx, 0, &js->sul_retry, on_retry, (lws_usec_t)delay * LWS_US_PER_MS);
}

/* Resolves the URL's host and picks the address of this attempt into js->address: the
 * allowed addresses are taken in turn, one per failed attempt in a row. SAM_EPERM (with
 * the policy's words) when the host has addresses and the policy refuses every one;
 * SAM_EIO when the name does not resolve (worth trying again). */
static int pick_address(struct jetstream *js)
{
    struct addrinfo hints, *res = NULL;
    char found[JS_MAX_ADDRS][INET6_ADDRSTRLEN], why[200] = "";
    size_t n = 0;
    int gai;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(js->host, NULL, &hints, &res);
    if(gai)
        return sam_fail(SAM_EIO, "could not resolve %s: %s", js->host, gai_strerror(gai));
    for(struct addrinfo *a = res; a && n < JS_MAX_ADDRS; a = a->ai_next) {
        const void *bytes;
        if(a->ai_family == AF_INET)
            bytes = &((const struct sockaddr_in *)(const void *)a->ai_addr)->sin_addr;
        else if(a->ai_family == AF_INET6)
            bytes = &((const struct sockaddr_in6 *)(const void *)a->ai_addr)->sin6_addr;
        else
            continue;
        if(netpolicy_allowed(a->ai_addr)) {
            if(!why[0])
                snprintf(why, sizeof(why), "%s", sam_errmsg(SAM_EPERM));
            continue;
        }
        if(inet_ntop(a->ai_family, bytes, found[n], sizeof(found[n])))
            n++;
    }
    freeaddrinfo(res);
    if(!n && why[0])
        return sam_fail(SAM_EPERM, "jetstream: samtale did not connect to %s: %s", js->host, why);
    if(!n)
        return sam_fail(SAM_EIO, "%s has no address samtale can connect to", js->host);
    snprintf(js->address, sizeof(js->address), "%s", found[(size_t)js->failures % n]);
    return SAM_OK;
}

static void connect_now(struct jetstream *js)
{
    struct lws_client_connect_info i;
    int64_t cursor, resume = 0;
    int rc;

    if(js->done || js->closing || atomic_load(&js->stop))
        return;
    cursor = cursor_of(js);
    if(cursor > 0) {
        resume = cursor - (int64_t)js->cfg.rewind_ms * 1000;
        if(resume < 1)
            resume = 1;
    }
    rc = jetstream_subscribe_path(js->base_path, js->cfg.collections, js->cfg.n_collections,
                                  resume, &js->path);
    if(rc) {
        js->result = rc;
        js->done = 1;
        return;
    }
    pthread_mutex_lock(&js->lock);
    if(js->stats.attempts++)
        js->stats.reconnects++;
    pthread_mutex_unlock(&js->lock);

    js->established = js->killing = js->want_ping = js->got_message = 0;
    js->msg_started = 0;
    js->last_error[0] = '\0';
    js->attempt_ms = now_ms();
    buf_reset(&js->msg);

    rc = pick_address(js);
    if(rc == SAM_EPERM) {
        js->result = rc;
        js->done = 1;
        log_kv(LOG_WARN, "jetstream address refused", "url", js->url, "reason", sam_errmsg(rc), NULL);
        return;
    }
    if(rc) {
        snprintf(js->last_error, sizeof(js->last_error), "%s", sam_errmsg(rc));
        schedule_retry(js);
        return;
    }
    memset(&i, 0, sizeof(i));
    i.context = js->ctx;
    i.address = js->address;    /* numeric: libwebsockets resolves nothing else */
    i.port = js->port;
    i.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT | (js->tls ? LCCSCF_USE_SSL : 0);
    i.path = buf_str(&js->path);
    i.host = js->host_header;
    i.origin = js->host_header;
    i.protocol = NULL;
    i.local_protocol_name = "jetstream";
    i.pwsi = &js->wsi;
    if(!lws_client_connect_via_info(&i)) {
        js->wsi = NULL;
        if(!js->last_error[0])
            snprintf(js->last_error, sizeof(js->last_error), "could not start a connection");
        schedule_retry(js);
    }
}

static void kill_wsi(struct jetstream *js)
{
    if(js->wsi && !js->killing) {
        js->killing = 1;
        lws_set_timeout(js->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

/* The current connection or attempt is over (error or close). */
static void on_gone(struct jetstream *js, struct lws *wsi)
{
    int was_up;
    if(js->wsi && js->wsi != wsi)
        return; /* not ours any more */
    was_up = js->established;
    js->wsi = NULL;
    js->established = 0;
    set_connected(js, 0);
    if(was_up && !js->closing)
        log_kv(LOG_INFO, "jetstream disconnected", "url", js->url, "reason",
               js->last_error[0] ? js->last_error : "closed by the peer", NULL);
    schedule_retry(js);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct jetstream *js = lws_container_of(sul, struct jetstream, sul_tick);
    int64_t now = now_ms();

    if(js->wsi && !js->killing) {
        if(js->closing) {
            if(now >= js->close_deadline_ms)
                kill_wsi(js);
        } else if(!js->established) {
            if(now - js->attempt_ms >= js->cfg.connect_timeout_ms) {
                snprintf(js->last_error, sizeof(js->last_error), "connect timeout");
                kill_wsi(js);
            }
        } else if(now - js->last_rx_ms >= js->cfg.silence_timeout_ms) {
            snprintf(js->last_error, sizeof(js->last_error),
                     "silent for %ld ms (no message, no pong)", js->cfg.silence_timeout_ms);
            STAT_ADD(js, heartbeat_timeouts, 1);
            kill_wsi(js);
        } else if(now - js->last_ping_ms >= js->cfg.ping_interval_ms) {
            js->want_ping = 1;
            lws_callback_on_writable(js->wsi);
        }
    }
    lws_sul_schedule(js->ctx, 0, &js->sul_tick, on_tick, (lws_usec_t)js->tick_ms * LWS_US_PER_MS);
}

/* ---------- messages ---------- */

static void count_malformed(struct jetstream *js, const char *why)
{
    uint64_t n;
    pthread_mutex_lock(&js->lock);
    n = ++js->stats.malformed;
    pthread_mutex_unlock(&js->lock);
    if((n & (n - 1)) == 0) /* 1, 2, 4, 8, ...: a flood does not flood the log */
        log_kv(LOG_WARN, "jetstream message skipped", "reason", why, "url", js->url, NULL);
}

static void handle_message(struct jetstream *js, const char *data, size_t len)
{
    struct jetstream_event ev;
    int rc = jetstream_parse_event(data, len, &ev);

    if(rc) {
        count_malformed(js, sam_errmsg(rc));
        return;
    }
    js->got_message = 1;
    if(ev.time_us <= cursor_of(js)) {
        STAT_ADD(js, duplicates, 1);
        goto out;
    }
    if(ev.kind == JETSTREAM_OTHER) {
        pthread_mutex_lock(&js->lock);
        js->stats.skipped++;
        js->stats.cursor = ev.time_us;
        pthread_mutex_unlock(&js->lock);
        goto out;
    }
    rc = js->cfg.on_event(&ev, js->cfg.user);
    if(rc) {
        js->result = rc;
        js->done = 1;
        goto out;
    }
    pthread_mutex_lock(&js->lock);
    js->stats.events++;
    js->stats.cursor = ev.time_us;
    pthread_mutex_unlock(&js->lock);
out:
    jetstream_event_cleanup(&ev);
}

/* One piece of a message: gathers pieces until the message is complete. */
static void on_piece(struct jetstream *js, struct lws *wsi, const void *in, size_t len)
{
    if(!js->msg_started) {
        js->msg_started = 1;
        js->msg_binary = lws_frame_is_binary(wsi);
        js->msg_skip = 0;
        buf_reset(&js->msg);
    }
    if(!js->msg_skip && !js->msg_binary) {
        int rc = buf_append(&js->msg, in, len);
        if(rc) {
            js->msg_skip = rc;
            buf_reset(&js->msg);
        }
    }
    if(!lws_is_final_fragment(wsi))
        return;
    js->msg_started = 0;
    if(js->done || js->closing)
        ;
    else if(js->msg_binary)
        count_malformed(js, "binary message");
    else if(js->msg_skip == SAM_ETOOBIG) {
        STAT_ADD(js, oversized, 1);
        log_kv(LOG_WARN, "jetstream message skipped", "reason", "over max_frame", NULL);
    } else if(js->msg_skip)
        count_malformed(js, sam_strerror(js->msg_skip));
    else
        handle_message(js, js->msg.data ? js->msg.data : "", js->msg.len);
    buf_reset(&js->msg);
}

static int js_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    struct jetstream *js = ctx ? lws_context_user(ctx) : NULL;
    unsigned char frame[LWS_PRE + 8];

    (void)user;
    if(!js)
        return 0;
    switch(reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = in, *end = *p + len;
        static const char ua[] = "samtale/" SAMTALE_VERSION;
        if(lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_USER_AGENT,
                                        (const unsigned char *)ua, (int)strlen(ua), p, end))
            return -1;
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if(js->wsi && js->wsi != wsi)
            break;
        js->wsi = wsi;
        js->established = 1;
        js->last_rx_ms = js->last_ping_ms = now_ms();
        set_connected(js, 1);
        log_kv(LOG_INFO, "jetstream connected", "url", js->url, "path", buf_str(&js->path), NULL);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if(wsi != js->wsi)
            break;
        js->last_rx_ms = now_ms();
        on_piece(js, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        if(wsi != js->wsi)
            break;
        js->last_rx_ms = now_ms();
        STAT_ADD(js, pongs, 1);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if(wsi != js->wsi)
            break;
        if(js->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if(js->want_ping) {
            js->want_ping = 0;
            js->last_ping_ms = now_ms();
            if(lws_write(wsi, frame + LWS_PRE, 0, LWS_WRITE_PING) < 0)
                return -1;
            STAT_ADD(js, pings, 1);
        }
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        snprintf(js->last_error, sizeof(js->last_error), "%.*s", in ? (int)len : 0,
                 in ? (const char *)in : "");
        if(!js->last_error[0])
            snprintf(js->last_error, sizeof(js->last_error), "connection failed");
        on_gone(js, wsi);
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        /* The second is how libwebsockets reports an attempt closed while it waited for
         * the answer to the upgrade (a peer that accepts and never answers, killed by the
         * connect timeout): without it no retry would ever be scheduled. */
        on_gone(js, wsi);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols js_protocols[] = {
    {.name = "jetstream", .callback = js_callback, .rx_buffer_size = 16384},
    {.name = NULL, .callback = NULL},
};

/* ---------- the client ---------- */

static long min_l(long a, long b)
{
    return a < b ? a : b;
}

int jetstream_new(const struct jetstream_config *cfg, struct jetstream **out)
{
    struct jetstream *js;
    struct lws_context_creation_info info;
    int rc = SAM_OK;

    *out = NULL;
    if(!cfg->url || !cfg->on_event)
        return sam_fail(SAM_EINVAL, "jetstream: a URL and an event callback are required");
    if(cfg->n_collections > JS_MAX_COLLECTIONS)
        return sam_fail(SAM_EINVAL, "jetstream: at most %d collections", JS_MAX_COLLECTIONS);
    if(cfg->n_collections && !cfg->collections)
        return sam_fail(SAM_EINVAL, "jetstream: collections missing");
    if(cfg->rewind_ms < 0 || cfg->ping_interval_ms <= 0 || cfg->silence_timeout_ms <= 0 ||
       cfg->connect_timeout_ms <= 0 || cfg->backoff_min_ms <= 0 ||
       cfg->backoff_max_ms < cfg->backoff_min_ms || cfg->max_reconnects < 0 ||
       cfg->max_frame < 64 || cfg->cursor < 0)
        return sam_fail(SAM_EINVAL, "jetstream: a timing or size setting is out of range");
    for(size_t i = 0; i < cfg->n_collections; i++)
        if(!cfg->collections[i] || !collection_ok(cfg->collections[i]))
            return sam_fail(SAM_EINVAL, "jetstream: not a collection name: \"%.80s\"",
                            cfg->collections[i] ? cfg->collections[i] : "(null)");

    js = calloc(1, sizeof(*js));
    if(!js)
        return SAM_ENOMEM;
    pthread_mutex_init(&js->lock, NULL);
    atomic_init(&js->stop, 0);
    buf_init(&js->path, JS_MAX_PATH);
    buf_init(&js->msg, cfg->max_frame);
    js->cfg = *cfg;
    js->cfg.collections = NULL;
    js->stats.cursor = cfg->cursor;
    js->url = strdup(cfg->url);
    if(!js->url) {
        rc = SAM_ENOMEM;
        goto out;
    }
    js->cfg.url = js->url;
    if(cfg->n_collections) {
        js->collections = calloc(cfg->n_collections, sizeof(char *));
        if(!js->collections) {
            rc = SAM_ENOMEM;
            goto out;
        }
        for(size_t i = 0; i < cfg->n_collections; i++)
            if(!(js->collections[i] = strdup(cfg->collections[i]))) {
                rc = SAM_ENOMEM;
                goto out;
            }
        js->cfg.collections = (const char *const *)js->collections;
    }
    rc = parse_url(js, cfg->url);
    if(rc)
        goto out;
    /* Fail now, not at the first connection, when the subscription cannot be written. */
    rc = jetstream_subscribe_path(js->base_path, js->cfg.collections, js->cfg.n_collections,
                                  INT64_MAX, &js->path);
    if(rc)
        goto out;
    js->tick_ms = min_l(min_l(cfg->ping_interval_ms, cfg->silence_timeout_ms),
                        cfg->connect_timeout_ms) / 4;
    if(js->tick_ms < 10)
        js->tick_ms = 10;
    if(js->tick_ms > 1000)
        js->tick_ms = 1000;

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = js_protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = js;
    info.fd_limit_per_thread = 16;
    info.timeout_secs = (unsigned)((cfg->connect_timeout_ms + 999) / 1000) + 1;
    info.connect_timeout_secs = info.timeout_secs;
    if(js->tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    js->ctx = lws_create_context(&info);
    if(!js->ctx) {
        rc = sam_fail(SAM_EINTERNAL, "jetstream: libwebsockets could not make a context");
        goto out;
    }
out:
    if(rc) {
        jetstream_free(js);
        return rc;
    }
    *out = js;
    return SAM_OK;
}

void jetstream_free(struct jetstream *js)
{
    if(!js)
        return;
    js->closing = 1;
    if(js->ctx)
        lws_context_destroy(js->ctx);
    if(js->collections)
        for(size_t i = 0; i < js->cfg.n_collections; i++)
            free(js->collections[i]);
    free(js->collections);
    free(js->url);
    free(js->base_path);
    buf_cleanup(&js->path);
    buf_cleanup(&js->msg);
    pthread_mutex_destroy(&js->lock);
    free(js);
}

void jetstream_stop(struct jetstream *js)
{
    atomic_store(&js->stop, 1);
    if(js->ctx)
        lws_cancel_service(js->ctx);
}

int jetstream_run(struct jetstream *js)
{
    if(atomic_load(&js->stop))
        return SAM_OK;
    js->closing = 0;
    js->done = 0;
    js->result = SAM_OK;
    js->failures = 0;
    lws_sul_schedule(js->ctx, 0, &js->sul_tick, on_tick, (lws_usec_t)js->tick_ms * LWS_US_PER_MS);
    connect_now(js);
    while(!js->done && !atomic_load(&js->stop))
        if(lws_service(js->ctx, 0) < 0) {
            js->result = sam_fail(SAM_EINTERNAL, "jetstream: the libwebsockets loop failed");
            break;
        }

    /* Close for good: a close frame when up, a kill otherwise; at most ~2 s. */
    js->closing = 1;
    lws_sul_cancel(&js->sul_retry);
    js->retry_pending = 0;
    js->close_deadline_ms = now_ms() + 2000;
    if(js->wsi) {
        if(js->established)
            lws_callback_on_writable(js->wsi);
        else
            kill_wsi(js);
    }
    while(js->wsi && now_ms() < js->close_deadline_ms + 1000)
        if(lws_service(js->ctx, 0) < 0)
            break;
    lws_sul_cancel(&js->sul_tick);
    set_connected(js, 0);
    return js->result;
}
