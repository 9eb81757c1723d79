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
    size_t login_entries; /* entries of the login limiter's table; 0 = RL_DEFAULT_ENTRIES */
    const char *metrics_token; /* bearer token /metrics wants; "" or NULL = none */
    const char *trusted_proxies; /* reverse proxies whose X-Forwarded-For is believed (CIDR list) */
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
    ROUTE_NET = 1 << 5,          /* may wait on a network: runs on the worker pool (pool.h) */
    ROUTE_BIG_BODY = 1 << 6,     /* takes a body up to WEB_BIG_BODY_MAX (a CSV file as JSON) */
    ROUTE_UPLOAD = 1 << 7        /* takes a raw image body (Content-Type image/...) of up to
                                    WEB_UPLOAD_MAX, read only once the caller is authenticated */
};

/* The body a ROUTE_BIG_BODY route takes (when max_body is less), and how many requests may
 * hold a body past max_body at once, all routes together: more wait (503 busy), so such
 * bodies hold at most WEB_BIG_BODIES x WEB_BIG_BODY_MAX bytes of memory. */
#define WEB_BIG_BODY_MAX ((size_t)16 << 20)
#define WEB_BIG_BODIES 4

/* The body of a ROUTE_UPLOAD request (an image: core/media.h MEDIA_UPLOAD_MAX). */
#define WEB_UPLOAD_MAX (20u << 20)

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
    const void *upload;         /* ROUTE_UPLOAD: the raw body (owned by the server), else NULL */
    size_t upload_len;
    int64_t wid, id;            /* path parameters, 0 when absent */
    char token[104];            /* a {token} path parameter, "" when absent */
    int authed, via_session;
    struct actor actor;
    struct store_user user;
    struct store_session session;
    struct store_token api_token;  /* the bearer token's row, when authenticated by one */
    char session_token[64];
    char client_ip[64];
    const char *query_limit, *query_cursor, *query_kind, *query_days, *query_state, *query_from, *query_to,
        *query_channel, *query_code, *query_error, *query_mine, *query_separator;
    const char *cookie_oauth;   /* the samtale_oauth cookie (Mastodon's connect flow), or NULL */
    const char *cookie_device;  /* the samtale_device cookie (an earlier login here), or NULL */
    const char *authorization;  /* the Authorization header, or NULL (read by public routes) */
    char lang[8];               /* the language the answer speaks (util/i18n.h) */
    char view_role[16];         /* the role a network's error texts are shown for ("": none) */
};

struct web_reply {
    int status;
    json_t *json;               /* owned; NULL for no body */
    struct buf raw;             /* for ROUTE_RAW */
    const char *content_type;
    const char *cache;          /* Cache-Control of a ROUTE_RAW answer; NULL: no-store */
    char set_cookie[256];
    char set_cookie2[256];      /* a second cookie, "" = none */
    int retry_after;            /* seconds, 0 = none */
    char location[1024];        /* Location header (redirects), "" = none */
    char disposition[200];      /* Content-Disposition header (a file to save), "" = none */
    const char *error_code;     /* overrides the code from web_status_for */
    json_t *error_extra;        /* owned; merged into the error object (e.g. violations) */
    int close;                  /* close the connection after this answer */
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

/* Login throttling (ratelimit.c; see its opening comment for the rules). */
#define RL_WINDOW 900              /* seconds a failure is counted */
#define RL_PAIR_LIMIT 5            /* failures of one email from one address */
#define RL_ADDR_LIMIT 20           /* failures from one address (an IPv6 /64) */
#define RL_NET_LIMIT 100           /* failures from one IPv6 site (/48) */
#define RL_EMAIL_FREE 5            /* failures of one email before attempts are slowed */
#define RL_EMAIL_DELAY_MAX 60      /* seconds: the longest wait between attempts on one email */
#define RL_DEFAULT_ENTRIES 65536   /* entries of the table (48 bytes each) */

/* Sizes the table (and draws new random keys); the counts start empty. Called once at
 * start; without it the first use makes a table of RL_DEFAULT_ENTRIES. */
int ratelimit_init(size_t entries);
/* Before a password is checked: counts this attempt against its pair, address and email,
 * or answers SAM_ERATE with *retry_after (seconds) when the attempt must wait. trusted:
 * the browser proved an earlier login to this email (it skips the per-email delay). */
int ratelimit_login_gate(const char *email, const char *addr, int trusted, int64_t now, int *retry_after);
/* A failed login, once its password was checked: the per-email delay runs from now. */
void ratelimit_login_failed(const char *email, const char *addr, int64_t now);
/* A successful login: its pair is cleared, and its attempt given back. */
void ratelimit_login_succeeded(const char *email, const char *addr, int64_t now);
/* An attempt that was not a guess (the server failed): its count is given back. */
void ratelimit_login_refund(const char *email, const char *addr, int64_t now);
/* A plain counter of failures for key (second-factor codes): SAM_ERATE when key reached
 * limit in the window (or no room is left); else the attempt is counted. */
int ratelimit_check(const char *key, int limit, int64_t now, int *retry_after);
/* Gives one counted attempt of key back (it succeeded). */
void ratelimit_release(const char *key, int64_t now);
/* Entries inside their window (tests and metrics). */
size_t ratelimit_live_entries(int64_t now);

int web_cookie_secure(const struct web *w);
/* samtale's own address, without a trailing "/" (public_url, else the bound one). */
const char *web_base_url(const struct web *w);
/* public_url as configured (no trailing "/"), or "" when samtale is reached at its own
 * address: links into the dashboard are then relative. */
const char *web_public_url(const struct web *w);
long web_net_timeout_ms(const struct web *w);
/* The token /metrics wants ("" when it is open). */
const char *web_metrics_token(const struct web *w);
/* How many requests that reach a network wait for a worker and how many run (metrics). */
void web_net_stats(const struct web *w, unsigned *waiting, unsigned *running);
/* Requests holding one of the WEB_BIG_BODIES places for a body past max_body now. */
unsigned web_large_bodies(struct web *w);
const char *web_file_dir(const struct web *w);

#endif
