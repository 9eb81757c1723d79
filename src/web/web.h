/*
 * web.h: samtale's HTTP server: the JSON API under /api/v1, the operations endpoints
 * (/healthz, /readyz, /metrics) and the embedded dashboard, on libmicrohttpd.
 *
 * A request passes, in order: route lookup (404/405), body size (413), authentication
 * (401), CSRF for cookie sessions (403), the one-time-password gate (403), content type
 * (415), JSON parsing (400), workspace permission (404/403), then its handler. Errors
 * leave in one shape, {"error":{"code","message","field"?}}, with the status from one
 * table (http_status.c). Every response carries the security headers.
 *
 * A handler that may wait on a network (route flag ROUTE_NET) does not run on the HTTP
 * thread: after the checks above the connection is suspended and the request handed to
 * a bounded worker pool (pool.h), which answers 503 when its queue is full, 429 when the
 * workspace has too many such requests at once, and 504 when the work passes its
 * deadline. Connections are limited in number, per client address and in idle time.
 */
#ifndef SAM_WEB_H
#define SAM_WEB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "util/buf.h"

struct web;

struct web_options {
    const char *listen;   /* "127.0.0.1:8080", "[::1]:0", "localhost:8080" */
    size_t max_body;      /* bytes */
    unsigned threads;
    const char *tls_cert; /* PEM files; both or neither */
    const char *tls_key;
    int cookie_secure;    /* 1: always, 0: never, -1: when TLS */
    const char *public_url; /* how people reach samtale (OAuth redirects); "" or NULL: the bound address */
    long net_timeout_ms;  /* limit of a call to a network made while answering (verify, connect) */
    const char *file_dir; /* base folder of file channels */
    /* Requests that reach a network (ROUTE_NET) run on a pool of their own: */
    unsigned net_workers;       /* its threads */
    unsigned net_queue;         /* how many may wait for a thread (503 beyond) */
    unsigned net_per_workspace; /* how many of one workspace may wait or run (429 beyond) */
    long net_deadline_ms;       /* answered 504 when not done by then */
    /* Connections: */
    unsigned max_connections;   /* open at once, all clients together (0: 1000) */
    unsigned max_per_client;    /* open at once from one address (0: no limit) */
    unsigned idle_timeout_s;    /* an idle connection is closed after this (0: 30) */
};

/* Starts serving. *out is stopped and freed by web_stop. The core is borrowed and must
 * outlive the server. The bound address goes into url (e.g. "http://127.0.0.1:8080/"). */
int web_start(const struct web_options *opt, struct core *core, struct web **out, char *url, size_t n);
void web_stop(struct web *w);

/* Prints the route table, one "METHOD PATH" a line, into b. */
int web_routes_list(struct buf *b);

/* ---- inside web/: shared by server.c, routes.c, api_*.c, metrics.c ---- */

enum {
    ROUTE_PUBLIC = 1 << 0,       /* no authentication */
    ROUTE_SESSION_ONLY = 1 << 1, /* a cookie session, not a token */
    ROUTE_PW_GATE_OK = 1 << 2,   /* allowed before the one-time password is changed */
    ROUTE_BODY = 1 << 3,         /* takes a JSON object body */
    ROUTE_RAW = 1 << 4,          /* handler writes a non-JSON reply (metrics) */
    ROUTE_NET = 1 << 5           /* may wait on a network: runs on the worker pool (pool.h) */
};

/* No answer is built whole in memory past this: a JSON answer over it is refused (500,
 * logged); lists are pages, and large feeds are streamed (web_reply.stream_next). */
#define WEB_ANSWER_MAX (8u << 20)

struct web_request {
    const char *method;
    const char *path;
    void *conn;                 /* struct MHD_Connection */
    struct core *core;
    struct web *web;
    json_t *body;               /* parsed JSON object, or NULL */
    int64_t wid, id;            /* path parameters, 0 when absent */
    char token[104];            /* a {token} path parameter, "" when absent */
    int authed, via_session;
    struct actor actor;
    struct store_user user;
    struct store_session session;
    char session_token[64];
    char client_ip[64];
    const char *query_limit, *query_cursor, *query_kind, *query_days, *query_state, *query_from, *query_to,
        *query_channel, *query_code, *query_error;
    const char *cookie_oauth;   /* the samtale_oauth cookie (Mastodon's connect flow), or NULL */
};

struct web_reply {
    int status;
    json_t *json;               /* owned; NULL for no body */
    struct buf raw;             /* for ROUTE_RAW */
    const char *content_type;
    char set_cookie[256];
    int retry_after;            /* seconds, 0 = none */
    char location[1024];        /* Location header (redirects), "" = none */
    const char *error_code;     /* overrides the code from web_status_for */
    json_t *error_extra;        /* owned; merged into the error object (e.g. violations) */
    /* A streamed body (ROUTE_RAW), instead of raw: stream_next appends the next part of
     * the body to b (limit: WEB_ANSWER_MAX) and sets *done with the last one; it runs on
     * the HTTP thread as the client reads. stream_free releases stream_state (owned; also
     * called when the client leaves early). */
    int (*stream_next)(void *stream_state, struct buf *b, int *done);
    void (*stream_free)(void *stream_state);
    void *stream_state;
};

typedef int (*web_handler)(struct web_request *r, struct web_reply *out);

struct web_route {
    const char *method;
    const char *pattern;        /* "/api/v1/workspaces/{wid}/channels/{cid}" */
    web_handler fn;
    unsigned perm;              /* PERM_* needed in the {wid} workspace (or scope, without one) */
    unsigned flags;
};

extern const struct web_route web_routes[];
extern const size_t web_nroutes;

/* Maps an error code to an HTTP status and an error code name. */
int web_status_for(int rc, const char *field, const char **code);

/* Metrics (metrics.c). route is an index into web_routes, or -1 (none) / -2 (asset). */
void metrics_observe(int route, const char *method, int status, double seconds);
int metrics_render(struct core *core, struct buf *b);

/* Login rate limit (ratelimit.c): counts an attempt for key, or answers SAM_ERATE with
 * *retry_after when key already reached its limit; check and count are one step, so
 * parallel attempts cannot pass together. A successful attempt gives its count back
 * (ratelimit_release) or clears the key (ratelimit_reset). */
int ratelimit_check(const char *key, int limit, int *retry_after);
void ratelimit_release(const char *key);
void ratelimit_reset(const char *key);

int web_cookie_secure(const struct web *w);
/* samtale's own address, without a trailing "/" (public_url, else the bound one). */
const char *web_base_url(const struct web *w);
/* public_url as configured (no trailing "/"), or "" when samtale is reached at its own
 * address: links into the dashboard are then relative. */
const char *web_public_url(const struct web *w);
long web_net_timeout_ms(const struct web *w);
/* How many requests that reach a network wait for a worker and how many run (metrics). */
void web_net_stats(const struct web *w, unsigned *waiting, unsigned *running);
const char *web_file_dir(const struct web *w);

#endif
