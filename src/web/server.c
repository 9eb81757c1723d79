/*
 * server.c: the libmicrohttpd glue: listening socket, request lifecycle, body limits,
 * authentication, CSRF, dispatch through the route table, static assets, security
 * headers, access logs and metrics. Handlers live in api_*.c, the route table in routes.c.
 *
 * Requests of ROUTE_NET routes are answered in two steps: on the first call of the
 * access handler the connection is suspended and a struct net_call (an own copy of the
 * request) goes to the worker pool; the pool's `ready` resumes the connection, MHD calls
 * the access handler again, and the answer the call holds is sent. The call is freed
 * once by whichever lets go last: the worker or the connection (completed callback).
 */
#include "web/web.h"
#include "web/pool.h"
#include "util/cidr.h"
#include "util/embed.h"
#include "util/err.h"
#include "util/i18n.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

extern const struct embedded_file assets_files[];
extern const size_t assets_count;

struct web {
    struct MHD_Daemon *daemon;
    struct core *core;
    size_t max_body;
    int tls;
    int cookie_secure;
    int fd;
    char *cert, *key;
    char base_url[512];
    char public_url[512];    /* as configured (no trailing "/"), "" when not */
    long net_timeout_ms;
    char file_dir[4096];
    char metrics_token[256];
    struct cidr_list trusted; /* reverse proxies whose X-Forwarded-For names the client */
    struct web_pool *pool;   /* runs the ROUTE_NET requests */
    _Atomic unsigned big_bodies; /* requests holding a body past max_body (WEB_BIG_BODIES at most) */
};

/* A ROUTE_NET request handed to the pool. The request's strings are copies (the handler
 * may still run after the connection was answered, at the deadline or at shutdown);
 * how (written before the connection resumes) says which answer to send. */
struct net_call {
    struct MHD_Connection *conn;
    int route;                    /* index into web_routes */
    struct web_request req;       /* its strings point into strings */
    struct web_reply rep;
    int rc;
    char msg[512];                /* the handler's error message, captured on its thread */
    char field[64];
    enum web_job_end how;         /* 0 while the pool has it, or when it was refused */
    enum web_pool_refusal refused;
    struct web_job *job;          /* NULL when refused */
    char *strings;                /* one block holding every copied string */
    struct buf upload;            /* a ROUTE_UPLOAD body, taken from the request (req.upload) */
};

/* Per-request state (MHD's con_cls), made by on_uri when the request line arrives. */
struct req_state {
    struct buf body;
    size_t limit;    /* the body this request's route takes: max_body, or more (ROUTE_BIG_BODY, ROUTE_UPLOAD) */
    int big;         /* it holds one of the WEB_BIG_BODIES places for a body past max_body */
    int busy;        /* it needed one and none was free: answered 503 once the body has ended */
    int upload;      /* a ROUTE_UPLOAD route: a raw body, its larger limit */
    int too_big;
    int started;
    int seen;        /* the headers were looked at (the first call of on_request) */
    int nul_in_path; /* the raw path holds %00 */
    double t0;
    struct net_call *net;         /* a ROUTE_NET request, or NULL */
    int answered;                 /* net: its answer was queued */
};

static const char *CSP =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

int web_cookie_secure(const struct web *w)
{
    return w->cookie_secure < 0 ? w->tls : w->cookie_secure;
}

const char *web_base_url(const struct web *w)
{
    return w->base_url;
}

const char *web_public_url(const struct web *w)
{
    return w->public_url;
}

long web_net_timeout_ms(const struct web *w)
{
    return w->net_timeout_ms > 0 ? w->net_timeout_ms : 15000;
}

const char *web_metrics_token(const struct web *w)
{
    return w->metrics_token;
}

const char *web_file_dir(const struct web *w)
{
    return w->file_dir;
}

void web_net_stats(const struct web *w, unsigned *waiting, unsigned *running)
{
    web_pool_stats(w->pool, waiting, running);
}

unsigned web_large_bodies(struct web *w)
{
    return atomic_load(&w->big_bodies);
}

static void add_security_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

/* Queues a response made of bytes (copied). */
static enum MHD_Result send_bytes(struct MHD_Connection *conn, int status, const char *type,
                                  const void *data, size_t len, const struct web_reply *rep,
                                  const char *allow, const char *cache)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    char num[32];
    if(!resp)
        return MHD_NO;
    add_security_headers(resp);
    if(type)
        MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", cache ? cache : "no-store");
    if(allow)
        MHD_add_response_header(resp, "Allow", allow);
    if(rep && rep->set_cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", rep->set_cookie);
    if(rep && rep->set_cookie2[0])
        MHD_add_response_header(resp, "Set-Cookie", rep->set_cookie2);
    if(rep && rep->retry_after > 0) {
        snprintf(num, sizeof(num), "%d", rep->retry_after);
        MHD_add_response_header(resp, "Retry-After", num);
    }
    if(rep && rep->location[0])
        MHD_add_response_header(resp, "Location", rep->location);
    if(rep && rep->disposition[0])
        MHD_add_response_header(resp, "Content-Disposition", rep->disposition);
    if(rep && rep->close)
        MHD_add_response_header(resp, "Connection", "close");
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, int status, json_t *j,
                                 const struct web_reply *rep, const char *allow)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    enum MHD_Result ret;
    if(j && !text)
        return MHD_NO;
    if(text && strlen(text) > WEB_ANSWER_MAX) {
        static const char big[] = "{\"error\":{\"code\":\"internal\",\"message\":\"the answer would be too "
                                  "large; ask for less (a smaller limit or range)\"}}";
        log_kv(LOG_ERROR, "answer over the size limit", NULL);
        free(text);
        return send_bytes(conn, 500, "application/json; charset=utf-8", big, strlen(big), NULL, NULL, NULL);
    }
    ret = send_bytes(conn, status, text ? "application/json; charset=utf-8" : NULL, text ? text : "",
                     text ? strlen(text) : 0, rep, allow, NULL);
    free(text);
    return ret;
}

static json_t *error_json(const char *code, const char *message, const char *field, json_t *extra)
{
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);
    if(e && field)
        json_object_set_new(e, "field", json_string(field));
    if(e && extra)
        json_object_update(e, extra);
    return json_pack("{s:o}", "error", e);
}

/* The path as a log may show it: the calendar feed's path is its key, and an invitation's
 * public routes carry the link's secret; neither goes into a log. Returns path, a
 * constant, or buf. */
static const char *log_path(const char *path, char *buf, size_t n)
{
    static const char inv[] = "/api/v1/invitations/";
    if(!strncmp(path, "/ical/", 6))
        return "/ical/(secret)";
    if(!strncmp(path, inv, sizeof(inv) - 1)) {
        const char *rest = strchr(path + sizeof(inv) - 1, '/');
        snprintf(buf, n, "%s(secret)%.32s", inv, rest ? rest : "");
        return buf;
    }
    return path;
}

static void access_log(const char *method, const char *path, int status, double secs)
{
    char st[8], ms[32], shown[80];
    path = log_path(path, shown, sizeof(shown));
    snprintf(st, sizeof(st), "%d", status);
    snprintf(ms, sizeof(ms), "%.3f", secs * 1000.0);
    log_kv(status >= 500 ? LOG_WARN : LOG_DEBUG, "request", "method", method, "path", path,
           "status", st, "ms", ms, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *code,
                                  const char *message, const char *field, struct web_reply *rep,
                                  const char *allow)
{
    json_t *j = error_json(code, message, field, rep ? rep->error_extra : NULL);
    enum MHD_Result ret = send_json(conn, status, j, rep, allow);
    json_decref(j);
    return ret;
}

/* ---- routing ---- */

/* Matches path against a pattern; fills wid/id (numbers) and token (a URL-safe string of
 * up to 100 characters, for "{token}"). 1 on a match. */
static int match(const char *pattern, const char *path, int64_t *wid, int64_t *id, char token[104])
{
    const char *p = pattern, *s = path;
    *wid = *id = 0;
    token[0] = '\0';
    while(*p && *s) {
        if(!strncmp(p, "{token}", 7)) {
            size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
            if(n == 0 || n > 100)
                return 0;
            memcpy(token, s, n);
            token[n] = '\0';
            s += n;
            p += 7;
            continue;
        }
        if(*p == '{') {
            const char *pe = strchr(p, '}');
            char *end;
            long long v;
            if(!pe || !isdigit((unsigned char)*s))
                return 0;
            errno = 0;
            v = strtoll(s, &end, 10);
            if(errno || v <= 0 || (*end && *end != '/'))
                return 0;
            if(!strncmp(p, "{wid}", 5))
                *wid = v;
            else
                *id = v;
            p = pe + 1;
            s = end;
        } else if(*p == *s) {
            p++;
            s++;
        } else {
            return 0;
        }
    }
    return !*p && !*s;
}

/* Finds the route; -1 when no path matches (404), -2 when only the method is wrong (405,
 * with allow filled). */
static int find_route(const char *method, const char *path, int64_t *wid, int64_t *id, char token[104],
                      char *allow, size_t n)
{
    int path_seen = 0;
    allow[0] = '\0';
    for(size_t i = 0; i < web_nroutes; i++) {
        if(!match(web_routes[i].pattern, path, wid, id, token))
            continue;
        if(!strcmp(web_routes[i].method, method))
            return (int)i;
        path_seen = 1;
        size_t used = strlen(allow);
        snprintf(allow + used, n - used, "%s%s", used ? ", " : "", web_routes[i].method);
    }
    return path_seen ? -2 : -1;
}

int web_routes_list(struct buf *b)
{
    for(size_t i = 0; i < web_nroutes; i++) {
        int rc = buf_printf(b, "%s %s\n", web_routes[i].method, web_routes[i].pattern);
        if(rc)
            return rc;
    }
    return SAM_OK;
}

/* ---- static assets ---- */

static int asset_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct embedded_file *)elem)->name);
}

static enum MHD_Result serve_asset(struct MHD_Connection *conn, const char *path, int *status)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json; charset=utf-8"}, {".svg", "image/svg+xml"},
        {".png", "image/png"}, {".ico", "image/x-icon"}, {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *name = !strcmp(path, "/") ? "index.html" : path + strlen("/assets/");
    const struct embedded_file *f;
    const char *type = "application/octet-stream", *dot, *inm;
    char etag[32];

    f = strstr(name, "..") ? NULL
                           : bsearch(name, assets_files, assets_count, sizeof(*f), asset_cmp);
    if(!f) {
        *status = 404;
        return send_error(conn, 404, "not_found", _("no such file"), NULL, NULL, NULL);
    }
    dot = strrchr(f->name, '.');
    for(size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if(!strcmp(dot, types[i].ext))
            type = types[i].type;
    {
        uint64_t h = 1469598103934665603ull;
        for(size_t i = 0; i < f->len; i++)
            h = (h ^ f->data[i]) * 1099511628211ull;
        snprintf(etag, sizeof(etag), "\"%016llx\"", (unsigned long long)h);
    }
    inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    if(inm && !strcmp(inm, etag)) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret;
        add_security_headers(resp);
        MHD_add_response_header(resp, "ETag", etag);
        *status = 304;
        ret = MHD_queue_response(conn, 304, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;
    if(!resp)
        return MHD_NO;
    add_security_headers(resp);
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "ETag", etag);
    *status = 200;
    ret = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- authentication ---- */

static int authenticate(struct web *w, struct MHD_Connection *conn, struct web_request *r)
{
    const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "samtale_session");
    int rc;

    if(authz) {
        if(strncasecmp(authz, "Bearer ", 7) || strlen(authz + 7) > 200)
            return sam_fail(SAM_EAUTH, "the Authorization header must be 'Bearer <token>'");
        rc = core_actor_from_token(w->core, authz + 7, &r->actor, &r->user, &r->api_token);
        if(rc)
            return rc;
        r->authed = 1;
        return SAM_OK;
    }
    if(cookie && *cookie) {
        if(strlen(cookie) >= sizeof(r->session_token))
            return sam_fail(SAM_EAUTH, "your session has ended; log in again");
        rc = core_session_resume(w->core, cookie, time_now(), &r->session, &r->user);
        if(rc)
            return rc;
        snprintf(r->session_token, sizeof(r->session_token), "%s", cookie);
        memset(&r->actor, 0, sizeof(r->actor));
        r->actor.user_id = r->user.id;
        r->actor.scopes = PERM_ALL;
        snprintf(r->actor.label, sizeof(r->actor.label), "%s", r->user.email);
        r->authed = 1;
        r->via_session = 1;
        return SAM_OK;
    }
    return sam_fail(SAM_EAUTH, "log in, or send an API token as 'Authorization: Bearer <token>'");
}

/* 1 when a browser's Origin is samtale itself: the scheme and host it was reached at
 * (https under TLS), or the origin of public_url (behind a proxy that ends TLS). */
static int origin_ok(const struct web *w, const char *origin, const char *host)
{
    char mine[600];
    if(host && (size_t)snprintf(mine, sizeof(mine), "%s://%s", w->tls ? "https" : "http", host) < sizeof(mine) &&
       !strcasecmp(origin, mine))
        return 1;
    if(w->public_url[0]) {
        const char *auth = strstr(w->public_url, "://");
        size_t n = auth ? (size_t)(auth + 3 - w->public_url) + strcspn(auth + 3, "/?#") : 0;
        if(n && strlen(origin) == n && !strncasecmp(origin, w->public_url, n))
            return 1;
    }
    return 0;
}

/* Origin (when the browser sends it) must be samtale's own; the token must match. */
static int check_csrf(const struct web *w, struct MHD_Connection *conn, const struct web_request *r)
{
    const char *tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    size_t n = strlen(r->session.csrf_token);
    if(origin && strcmp(origin, "null") && !origin_ok(w, origin, host))
        return 0;
    return tok && strlen(tok) == n && n > 0 && !sodium_memcmp(tok, r->session.csrf_token, n);
}

/* The address a request comes from: the peer's, or, when the peer is a reverse proxy
 * samtale trusts (trusted_proxies), the client the proxy names in X-Forwarded-For: the
 * right-most address that is not itself a trusted proxy (entries to its left were written
 * by the client and prove nothing). A malformed entry stops the walk at the last trusted
 * hop. IPv4-mapped IPv6 addresses are written as IPv4. */
static void client_ip(const struct web *w, struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *xff;
    out[0] = '\0';
    if(!ci || !ci->client_addr)
        return;
    if(ci->client_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out, (socklen_t)n);
    } else if(ci->client_addr->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr;
        if(IN6_IS_ADDR_V4MAPPED(a6))
            inet_ntop(AF_INET, a6->s6_addr + 12, out, (socklen_t)n);
        else
            inet_ntop(AF_INET6, a6, out, (socklen_t)n);
    }
    if(!w->trusted.n || !cidr_list_match(&w->trusted, ci->client_addr))
        return;
    xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
    if(!xff || strlen(xff) > 4096)
        return;
    for(const char *end = xff + strlen(xff); end > xff;) {
        const char *start = end;
        char ip[INET6_ADDRSTRLEN + 1];
        unsigned char bin[16];
        size_t len;
        while(start > xff && start[-1] != ',')
            start--;
        {
            const char *a = start, *b = end;
            while(a < b && (*a == ' ' || *a == '\t'))
                a++;
            while(b > a && (b[-1] == ' ' || b[-1] == '\t'))
                b--;
            len = (size_t)(b - a);
            if(len == 0 || len >= sizeof(ip))
                return;
            memcpy(ip, a, len);
            ip[len] = '\0';
        }
        if(inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1)
            return;              /* not an address: keep the last trusted hop's */
        snprintf(out, n, "%s", ip);
        if(!cidr_list_match_text(&w->trusted, ip))
            return;              /* the first hop samtale does not trust: the client */
        end = start > xff ? start - 1 : start;
    }
}
static int is_json_type(const char *ct)
{
    size_t n = strlen("application/json");
    return ct && !strncasecmp(ct, "application/json", n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* ---- answers ---- */

/* A streamed body: parts come from the reply's stream_next as MHD asks for bytes. */
struct stream {
    struct buf part;
    size_t off;
    int done;
    int (*next)(void *state, struct buf *b, int *done);
    void (*free_state)(void *state);
    void *state;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *s = cls;
    size_t n;
    (void)pos;
    while(s->off == s->part.len) {
        if(s->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        buf_reset(&s->part);
        s->off = 0;
        if(s->next(s->state, &s->part, &s->done)) {
            log_kv(LOG_ERROR, "streamed answer cut short", "error", sam_errmsg(SAM_EINTERNAL), NULL);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    n = s->part.len - s->off < max ? s->part.len - s->off : max;
    memcpy(out, s->part.data + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    if(s->free_state)
        s->free_state(s->state);
    buf_cleanup(&s->part);
    free(s);
}

/* Queues a streamed answer; takes ownership of rep's stream state in every case. */
static enum MHD_Result send_stream(struct MHD_Connection *conn, int status, struct web_reply *rep)
{
    struct stream *s = calloc(1, sizeof(*s));
    struct MHD_Response *resp;
    enum MHD_Result ret;
    if(!s) {
        rep->stream_free(rep->stream_state);
        rep->stream_state = NULL;
        return MHD_NO;
    }
    buf_init(&s->part, WEB_ANSWER_MAX);
    s->next = rep->stream_next;
    s->free_state = rep->stream_free;
    s->state = rep->stream_state;
    rep->stream_state = NULL;
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s, stream_free);
    if(!resp) {
        stream_free(s);
        return MHD_NO;
    }
    add_security_headers(resp);
    if(rep->content_type)
        MHD_add_response_header(resp, "Content-Type", rep->content_type);
    if(rep->disposition[0])
        MHD_add_response_header(resp, "Content-Disposition", rep->disposition);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Sends what a handler answered: its error (rc, with the message and field captured on
 * the thread that ran it) or its reply. Frees what rep owns and leaves it empty. */
static enum MHD_Result send_result(struct MHD_Connection *conn, const struct web_route *route, int rc,
                                   struct web_reply *rep, const char *msg, const char *field, const char *method,
                                   const char *path, int *status)
{
    enum MHD_Result ret;
    if(rc) {
        const char *code;
        int st = web_status_for(rc, field, &code);
        if(rep->error_code)
            code = rep->error_code;
        if(st >= 500 && st != 502) {       /* 502: a network's answer, worth showing */
            char shown[80];
            log_kv(LOG_ERROR, "request failed", "method", method, "path", log_path(path, shown, sizeof(shown)),
                   "error", msg, NULL);
            msg = "internal error; the server log has details";
            field = NULL;
        }
        *status = st;
        json_decref(rep->json);
        rep->json = NULL;
        if(rep->stream_state)
            rep->stream_free(rep->stream_state);
        rep->stream_state = NULL;
        ret = send_error(conn, st, code, msg, field, rep, NULL);
        json_decref(rep->error_extra);
        rep->error_extra = NULL;
    } else if(rep->stream_state) {
        *status = rep->status ? rep->status : 200;
        ret = send_stream(conn, *status, rep);
    } else if(route->flags & ROUTE_RAW) {
        *status = rep->status ? rep->status : 200;
        ret = send_bytes(conn, *status, rep->content_type, buf_str(&rep->raw), rep->raw.len, rep, NULL, rep->cache);
    } else {
        *status = rep->status ? rep->status : 200;
        ret = send_json(conn, *status, rep->json, rep, NULL);
        json_decref(rep->json);
        rep->json = NULL;
    }
    buf_cleanup(&rep->raw);
    return ret;
}

/* ---- requests that reach a network (ROUTE_NET) ---- */

static void net_call_free(struct net_call *nc)
{
    if(!nc)
        return;
    json_decref(nc->req.body);
    json_decref(nc->rep.json);
    json_decref(nc->rep.error_extra);
    if(nc->rep.stream_state)
        nc->rep.stream_free(nc->rep.stream_state);
    buf_cleanup(&nc->rep.raw);
    buf_cleanup(&nc->upload);
    free(nc->strings);
    free(nc);
}

/* Copies *s into the block at *at (sized beforehand) and points *s at the copy. */
static void copy_into(const char **s, char **at)
{
    size_t n;
    if(!*s)
        return;
    n = strlen(*s) + 1;
    memcpy(*at, *s, n);
    *s = *at;
    *at += n;
}

/* A call holding its own copy of r; takes r->body. NULL when out of memory. */
static struct net_call *net_call_new(struct MHD_Connection *conn, int route, struct web_request *r)
{
    struct net_call *nc = calloc(1, sizeof(*nc));
    size_t total = 1;
    char *at;
    if(!nc)
        return NULL;
    const char **strs[] = {&nc->req.method, &nc->req.path, &nc->req.query_limit, &nc->req.query_cursor,
                           &nc->req.query_kind, &nc->req.query_days, &nc->req.query_state, &nc->req.query_from,
                           &nc->req.query_to, &nc->req.query_channel, &nc->req.query_code, &nc->req.query_error,
                           &nc->req.query_mine, &nc->req.cookie_oauth};
    nc->req = *r;
    nc->req.conn = NULL;         /* the connection may be gone while the handler runs */
    for(size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        total += *strs[i] ? strlen(*strs[i]) + 1 : 0;
    nc->strings = malloc(total);
    if(!nc->strings) {
        free(nc);
        return NULL;
    }
    at = nc->strings;
    for(size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        copy_into(strs[i], &at);
    r->body = NULL;
    nc->conn = conn;
    nc->route = route;
    buf_init(&nc->rep.raw, WEB_ANSWER_MAX);
    return nc;
}

/* In a worker thread: the handler, with its error message captured here, where the
 * per-thread message lives. */
static void net_run(void *arg)
{
    struct net_call *nc = arg;
    const char *field;
    sam_clear();
    /* Views on this thread are for the caller's role, as on the HTTP thread; a worker never
     * keeps another request's (nor the default of a thread that never said). */
    view_for_role(nc->req.view_role);
    i18n_set_lang(nc->req.lang);
    nc->rc = web_routes[nc->route].fn(&nc->req, &nc->rep);
    view_for_role("");
    i18n_set_lang(NULL);
    if(nc->rc) {
        field = sam_errfield();
        snprintf(nc->msg, sizeof(nc->msg), "%s", sam_errmsg(nc->rc));
        snprintf(nc->field, sizeof(nc->field), "%s", field ? field : "");
    }
    json_decref(nc->req.body);
    nc->req.body = NULL;
}

static void net_ready(void *arg, enum web_job_end how)
{
    struct net_call *nc = arg;
    nc->how = how;
    MHD_resume_connection(nc->conn);
}

static void net_free(void *arg)
{
    net_call_free(arg);
}

static const struct web_job_ops net_ops = {net_run, net_ready, net_free};

/* Suspends the connection and hands the request to the pool; a refusal resumes it at
 * once, and the access handler, called again, answers either way. */
static enum MHD_Result hand_to_pool(struct web *w, struct MHD_Connection *conn, int route, struct web_request *r,
                                    struct req_state *rs, int *status)
{
    struct net_call *nc = net_call_new(conn, route, r);
    if(!nc) {
        json_decref(r->body);
        *status = 500;
        return send_error(conn, 500, "internal", _("internal error; the server log has details"), NULL, NULL, NULL);
    }
    rs->net = nc;
    if(r->upload) {
        /* The body goes with the call: it may run on after the connection was answered. */
        nc->upload = rs->body;
        buf_init(&rs->body, 0);
        nc->req.upload = nc->upload.data;
        nc->req.upload_len = nc->upload.len;
    }
    /* Suspended before it is queued, so a worker never resumes it first. */
    MHD_suspend_connection(conn);
    nc->refused = web_pool_submit(w->pool, r->wid, &net_ops, nc, &nc->job);
    if(nc->refused)
        MHD_resume_connection(conn);
    return MHD_YES;
}

/* ---- dispatch ---- */

static enum MHD_Result dispatch(struct web *w, struct MHD_Connection *conn, const char *method,
                                const char *path, struct req_state *rs, int *status, int *route_out)
{
    struct web_request r;
    struct web_reply rep;
    char allow[128];
    const struct web_route *route;
    enum MHD_Result ret;
    int idx, rc;

    memset(&r, 0, sizeof(r));
    memset(&rep, 0, sizeof(rep));
    buf_init(&rep.raw, WEB_ANSWER_MAX);
    r.method = method;
    r.path = path;
    r.conn = conn;
    r.core = w->core;
    r.web = w;
    snprintf(r.lang, sizeof(r.lang), "%s", i18n_lang());

    if(!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
        if(!strcmp(path, "/") || !strncmp(path, "/assets/", 8)) {
            *route_out = -2;
            return serve_asset(conn, path, status);
        }
    }
    idx = find_route(method, path, &r.wid, &r.id, r.token, allow, sizeof(allow));
    *route_out = idx >= 0 ? idx : -1;
    if(idx == -1) {
        *status = 404;
        return send_error(conn, 404, "not_found", _("no such endpoint; see docs/api.md"), NULL, NULL, NULL);
    }
    if(idx == -2) {
        *status = 405;
        return send_error(conn, 405, "method_not_allowed", _("this endpoint does not take that method"), NULL,
                          NULL, allow);
    }
    route = &web_routes[idx];
    if(rs->too_big) {
        *status = 413;
        return send_error(conn, 413, "payload_too_large", _("the request body is over the size limit"), NULL,
                          NULL, NULL);
    }
    if(rs->busy) {
        struct web_reply later;
        memset(&later, 0, sizeof(later));
        later.retry_after = 5;
        *status = 503;
        return send_error(conn, 503, "busy", _("the server is receiving as many large files as it may at once; try "
                          "again in a few seconds"), NULL, &later, NULL);
    }
    client_ip(w, conn, r.client_ip, sizeof(r.client_ip));
    r.query_limit = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
    r.query_cursor = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "cursor");
    r.query_kind = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "kind");
    r.query_days = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "days");
    r.query_state = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "state");
    r.query_from = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "from");
    r.query_to = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "to");
    r.query_channel = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "channel");
    r.query_code = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "code");
    r.query_error = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "error");
    r.query_mine = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "mine");
    r.query_separator = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "separator");
    r.cookie_oauth = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "samtale_oauth");
    r.cookie_device = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "samtale_device");
    r.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");

    sam_clear();
    view_for_role(""); /* generic texts for networks' errors until the role is known */
    if(!(route->flags & ROUTE_PUBLIC)) {
        rc = authenticate(w, conn, &r);
        if(rc) {
            const char *code;
            int st = web_status_for(rc, NULL, &code);
            *status = st;
            if(rc == SAM_EAUTH && r.session_token[0] == '\0' &&
               MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "samtale_session"))
                snprintf(rep.set_cookie, sizeof(rep.set_cookie),
                         "samtale_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
            ret = send_error(conn, st, code, st == 500 ? _("internal error; the server log has details")
                                                       : sam_errmsg(rc), NULL, &rep, NULL);
            buf_cleanup(&rep.raw);
            return ret;
        }
        if((route->flags & ROUTE_SESSION_ONLY) && !r.via_session) {
            *status = 403;
            return send_error(conn, 403, "forbidden", _("this needs a dashboard session, not an API token"),
                              NULL, NULL, NULL);
        }
        if(r.via_session && strcmp(method, "GET") && strcmp(method, "HEAD") && !check_csrf(w, conn, &r)) {
            *status = 403;
            return send_error(conn, 403, "csrf_failed",
                              _("missing or wrong X-CSRF-Token header; reload the page"), NULL, NULL, NULL);
        }
        if(r.user.must_change_password && !(route->flags & ROUTE_PW_GATE_OK)) {
            *status = 403;
            return send_error(conn, 403, "password_change_required",
                              _("choose your own password first (POST /api/v1/me/password)"), NULL, NULL, NULL);
        }
    }
    if(route->flags & ROUTE_UPLOAD) {
        /* The type was checked before the body was read (on_request); the bytes decide
         * what the image is (core/image.h). */
        r.upload = rs->body.data ? rs->body.data : "";
        r.upload_len = rs->body.len;
    }
    if(route->flags & ROUTE_BODY) {
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        json_error_t jerr;
        if(!is_json_type(ct)) {
            *status = 415;
            return send_error(conn, 415, "unsupported_media_type", _("send the body as application/json"),
                              NULL, NULL, NULL);
        }
        r.body = json_loadb(rs->body.data ? rs->body.data : "", rs->body.len,
                            JSON_REJECT_DUPLICATES, &jerr);
        if(!r.body) {
            char msg[300];
            snprintf(msg, sizeof(msg), _("the body is not valid JSON: %s (line %d, column %d)"), jerr.text,
                     jerr.line, jerr.column);
            *status = 400;
            return send_error(conn, 400, "invalid_json", msg, NULL, NULL, NULL);
        }
        if(!json_is_object(r.body)) {
            json_decref(r.body);
            *status = 422;
            return send_error(conn, 422, "validation_failed", _("the body must be a JSON object"), NULL, NULL,
                              NULL);
        }
    }
    if(!(route->flags & ROUTE_PUBLIC) && route->perm) {
        char role[16] = "";
        if(r.wid) {
            rc = core_allowed(w->core, &r.actor, r.wid, route->perm, role);
            if(!rc) {
                view_for_role(role); /* what of a network's errors this member may read */
                snprintf(r.view_role, sizeof(r.view_role), "%s", role); /* and on a pool worker */
            }
        } else
            rc = (r.actor.scopes & route->perm) == route->perm
                     ? SAM_OK
                     : sam_fail(SAM_EPERM, "this token lacks a scope this endpoint needs");
        if(rc) {
            const char *code, *field = sam_errfield();
            int st = web_status_for(rc, field, &code);
            if(rc == SAM_EPERM && r.actor.token_id && (r.actor.scopes & route->perm) != route->perm)
                code = "insufficient_scope";
            *status = st;
            json_decref(r.body);
            return send_error(conn, st, code, sam_errmsg(rc), NULL, NULL, NULL);
        }
    }

    if(route->flags & ROUTE_NET) {
        buf_cleanup(&rep.raw);
        return hand_to_pool(w, conn, idx, &r, rs, status);
    }
    rc = route->fn(&r, &rep);
    json_decref(r.body);
    return send_result(conn, route, rc, &rep, rc ? sam_errmsg(rc) : NULL, rc ? sam_errfield() : NULL, method, path,
                       status);
}

/* The answer of the request whose access handler is called again after its connection
 * was resumed: the handler's reply, or what the pool or its refusal said. */
static enum MHD_Result answer_net(struct MHD_Connection *conn, struct net_call *nc, int *status)
{
    struct web_reply later;
    memset(&later, 0, sizeof(later));
    later.retry_after = 5;
    switch(nc->how) {
    case WEB_JOB_DONE:
        return send_result(conn, &web_routes[nc->route], nc->rc, &nc->rep, nc->msg, nc->field[0] ? nc->field : NULL,
                           nc->req.method, nc->req.path, status);
    case WEB_JOB_LATE:
        /* The work may still run and write nc->rep: only the status is sent. */
        *status = 504;
        return send_error(conn, 504, "timeout", _("a network did not answer in time; try again later"), NULL, NULL,
                          NULL);
    case WEB_JOB_STOPPED:
        *status = 503;
        return send_error(conn, 503, "unavailable", _("the server is stopping; try again in a moment"), NULL, &later,
                          NULL);
    }
    switch(nc->refused) {
    case WEB_POOL_WORKSPACE:
        *status = 429;
        return send_error(conn, 429, "rate_limited", _("this workspace already waits on networks for as many requests "
                          "as it may; try again when they are done"), NULL, &later, NULL);
    case WEB_POOL_STOPPING:
        *status = 503;
        return send_error(conn, 503, "unavailable", _("the server is stopping; try again in a moment"), NULL, &later,
                          NULL);
    default:
        *status = 503;
        return send_error(conn, 503, "busy", _("the server is busy with requests that wait on networks; try again in "
                          "a few seconds"), NULL, &later, NULL);
    }
}

struct header_count {
    int content_length, transfer_encoding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct header_count *hc = cls;
    (void)kind;
    (void)value;
    if(!strcasecmp(key, "Content-Length"))
        hc->content_length++;
    else if(!strcasecmp(key, "Transfer-Encoding"))
        hc->transfer_encoding++;
    return MHD_YES;
}

/* A place for a body past max_body on a route that takes one (WEB_BIG_BODIES of them,
 * given back in on_completed): 1 when rs holds one now, 0 when the route takes no such body
 * or every place is taken. */
static int take_big_body(struct web *w, struct req_state *rs)
{
    if(rs->big)
        return 1;
    if(rs->limit <= w->max_body)
        return 0;
    if(atomic_fetch_add(&w->big_bodies, 1) >= WEB_BIG_BODIES) {
        atomic_fetch_sub(&w->big_bodies, 1);
        return 0;
    }
    rs->big = 1;
    return 1;
}

/* Called with the raw request target, before it is decoded: the request's state starts
 * here, noting an encoded NUL (which decoding would turn into an early end of the path). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct req_state *rs = calloc(1, sizeof(*rs));
    (void)cls;
    (void)conn;
    if(rs && uri) {
        const char *q = strchr(uri, '?');
        for(const char *p = uri; *p && (!q || p < q); p++)
            if(p[0] == '%' && p[1] == '0' && p[2] == '0')
                rs->nul_in_path = 1;
    }
    return rs;
}

/* 1 when method and path name a ROUTE_UPLOAD route (the image upload: a POST whose path
 * ends in /media; the table decides). */
static int upload_route(const char *method, const char *path)
{
    int64_t wid = 0, id = 0;
    char token[104], allow[128];
    size_t n = strlen(path);
    int idx;
    if(strcmp(method, "POST") || n < 6 || strcmp(path + n - 6, "/media"))
        return 0;
    idx = find_route(method, path, &wid, &id, token, allow, sizeof(allow));
    return idx >= 0 && (web_routes[idx].flags & ROUTE_UPLOAD);
}

/* Before a body larger than max_body is read: the caller must be authenticated (a session
 * or a token: the route's own checks follow once it is read) and, for an upload
 * (image), send an image type. 0 with *status (401, 403, 415) when not. */
static int big_body_allowed(struct web *w, struct MHD_Connection *conn, int image, int *status)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    struct web_request r;
    memset(&r, 0, sizeof(r));
    r.core = w->core;
    r.web = w;
    if(image && (!ct || strncasecmp(ct, "image/", 6))) {
        *status = 415;
        return 0;
    }
    if(authenticate(w, conn, &r)) {
        sam_clear();
        *status = 401;
        return 0;
    }
    if(r.via_session && !check_csrf(w, conn, &r)) {
        *status = 403;
        return 0;
    }
    return 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct web *w = cls;
    struct req_state *rs = *con_cls;
    int status = 0, route = -1;
    enum MHD_Result ret;
    double secs;
    (void)version;

    if(!rs)
        return MHD_NO; /* on_uri makes it; without one (out of memory) the connection closes */
    /* What this thread says from here on, in the language the client asked for (the
     * dashboard sends its own choice). */
    i18n_set_lang(i18n_negotiate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Language")));
    if(!rs->seen) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        struct header_count hc = {0, 0};
        struct web_reply closing;
        memset(&closing, 0, sizeof(closing));
        closing.close = 1;
        rs->seen = 1;
        {
            /* The route's body limit: max_body, or more for the routes that take files. */
            int64_t wid, id;
            char token[104], allow[64];
            int idx = find_route(method, url, &wid, &id, token, allow, sizeof(allow));
            rs->limit = w->max_body;
            if(idx >= 0 && (web_routes[idx].flags & ROUTE_BIG_BODY) && WEB_BIG_BODY_MAX > rs->limit)
                rs->limit = WEB_BIG_BODY_MAX;
        }
        rs->t0 = time_mono();
        if(upload_route(method, url)) {
            rs->upload = 1;
            if(WEB_UPLOAD_MAX > rs->limit)
                rs->limit = WEB_UPLOAD_MAX;
        }
        buf_init(&rs->body, rs->limit);
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &hc);
        if(hc.content_length > 1 || (hc.content_length && hc.transfer_encoding) || rs->nul_in_path) {
            /* Framing two parties could read two ways (request smuggling), or a NUL that
             * would cut the path short: refused, and the connection closed. */
            rs->too_big = 1;
            rs->started = 1;
            metrics_observe(-1, method, 400, 0);
            access_log(method, url, 400, 0);
            return send_error(conn, 400, "bad_request",
                              rs->nul_in_path ? _("the address holds an encoded NUL character (%00)")
                                              : _("the request gives its length twice (two Content-Length headers, "
                                                  "or Content-Length with Transfer-Encoding)"),
                              NULL, &closing, NULL);
        }
        if(rs->limit > w->max_body) {
            /* A route that takes a larger body (an image, a CSV file) reads it only for
             * someone who may send one (authenticated), and an upload only as an image: a
             * stranger holds none of the few places for large bodies. */
            int st = 0;
            if(!big_body_allowed(w, conn, rs->upload, &st)) {
                rs->too_big = 1;
                rs->started = 1;
                metrics_observe(-1, method, st, 0);
                access_log(method, url, st, 0);
                if(st == 415)
                    return send_error(conn, 415, "unsupported_media_type",
                                      _("send the image as the body, with Content-Type image/jpeg, image/png, "
                                        "image/webp or image/gif"), NULL, &closing, NULL);
                if(st == 403)
                    return send_error(conn, 403, "csrf_failed",
                                      _("missing or wrong X-CSRF-Token header; reload the page"), NULL, &closing, NULL);
                return send_error(conn, 401, "unauthorized",
                                  _("log in, or send an API token as 'Authorization: Bearer <token>'"), NULL,
                                  &closing, NULL);
            }
        }
        if(cl && strtoull(cl, NULL, 10) > rs->limit) {
            /* Refuse before reading a byte of it. */
            rs->too_big = 1;
            rs->started = 1;
            metrics_observe(-1, method, 413, 0);
            access_log(method, url, 413, 0);
            return send_error(conn, 413, "payload_too_large", _("the request body is over the size limit"),
                              NULL, NULL, NULL);
        }
        if(cl && strtoull(cl, NULL, 10) > w->max_body && !take_big_body(w, rs)) {
            /* A body past max_body whose length is known holds its place from the start; with
             * none free it is refused before a byte of it is read. */
            struct web_reply later;
            memset(&later, 0, sizeof(later));
            later.retry_after = 5;
            later.close = 1;
            rs->started = 1;
            metrics_observe(-1, method, 503, 0);
            access_log(method, url, 503, 0);
            return send_error(conn, 503, "busy", _("the server is receiving as many large files as it may at once; "
                              "try again in a few seconds"), NULL, &later, NULL);
        }
        return MHD_YES;
    }
    if(*upload_data_size) {
        if(rs->started) { /* the answer is already queued: discard */
            *upload_data_size = 0;
            return MHD_YES;
        }
        /* A body past max_body (a route that takes files) holds one of the few places for
         * one; without a free place the rest is dropped and the answer is 503. */
        if(!rs->too_big && !rs->busy && !rs->big && rs->limit > w->max_body &&
           rs->body.len + *upload_data_size > w->max_body && !take_big_body(w, rs)) {
            rs->busy = 1;
            buf_cleanup(&rs->body);
        }
        /* Past the limit the rest is read and dropped (MHD cannot answer mid-upload);
         * memory stays bounded and the answer is 413 once the body has ended. */
        if(!rs->too_big && !rs->busy && buf_append(&rs->body, upload_data, *upload_data_size)) {
            rs->too_big = 1;
            buf_cleanup(&rs->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if(rs->started) {
        if(!rs->net || rs->answered)
            return MHD_YES;
        /* Resumed: the pool's answer is ready. */
        rs->answered = 1;
        route = rs->net->route;
        ret = answer_net(conn, rs->net, &status);
    } else {
        rs->started = 1;
        ret = dispatch(w, conn, method, url, rs, &status, &route);
        if(rs->net && !rs->answered)
            return ret; /* suspended: logged when answered */
    }
    secs = time_mono() - rs->t0;
    metrics_observe(route, method, status, secs);
    access_log(method, url, status, secs);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req_state *rs = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if(rs) {
        if(rs->net && rs->net->job)
            web_job_release(rs->net->job); /* may free rs->net */
        else if(rs->net)
            net_call_free(rs->net);
        if(rs->big)
            atomic_fetch_sub(&((struct web *)cls)->big_bodies, 1);
        buf_cleanup(&rs->body);
        free(rs);
        *con_cls = NULL;
    }
}

/* MHD's warnings. A flood repeats one warning per connection (a client over its limit):
 * the same warning is logged at most once every 10 seconds, with how often it came. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char last[512];
    static double last_at;
    static unsigned long repeats;
    char msg[512], old[512] = "", n[32] = "";
    double now = time_mono();
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    pthread_mutex_lock(&mu);
    if(!strcmp(msg, last) && now - last_at < 10) {
        repeats++;
        pthread_mutex_unlock(&mu);
        return;
    }
    if(repeats) {
        snprintf(n, sizeof(n), "%lu", repeats);
        if(strcmp(msg, last))
            snprintf(old, sizeof(old), "%s", last);
    }
    repeats = 0;
    snprintf(last, sizeof(last), "%s", msg);
    last_at = now;
    pthread_mutex_unlock(&mu);
    if(old[0])
        log_kv(LOG_WARN, "http server", "detail", old, "repeated", n, NULL);
    log_kv(LOG_WARN, "http server", "detail", msg, n[0] && !old[0] ? "repeated" : NULL, n, NULL);
}

/* Opens the listening socket for "host:port" or "[v6]:port". */
static int open_listener(const char *listen_on, int *fd_out, char *url, size_t n, int tls)
{
    char host[256], port[16], shown[300];
    struct addrinfo hints, *res = NULL;
    const char *colon;
    int fd = -1, one = 1, r;

    if(listen_on[0] == '[') {
        const char *end = strchr(listen_on, ']');
        if(!end || end[1] != ':')
            return sam_fail(SAM_EINVAL, "listen must look like [::1]:8080");
        snprintf(host, sizeof(host), "%.*s", (int)(end - listen_on - 1), listen_on + 1);
        colon = end + 1;
    } else {
        colon = strrchr(listen_on, ':');
        if(!colon)
            return sam_fail(SAM_EINVAL, "listen must look like 127.0.0.1:8080");
        snprintf(host, sizeof(host), "%.*s", (int)(colon - listen_on), listen_on);
    }
    snprintf(port, sizeof(port), "%s", colon + 1);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if(r)
        return sam_fail(SAM_EINVAL, "cannot resolve listen address %s: %s", listen_on, gai_strerror(r));
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if(fd < 0) {
        freeaddrinfo(res);
        return sam_fail(SAM_EIO, "socket: %s", strerror(errno));
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if(bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 256)) {
        int e = errno;
        close(fd);
        freeaddrinfo(res);
        return e == EADDRINUSE ? sam_fail(SAM_EIO, "cannot listen on %s: %s (another program uses that port: choose "
                                                   "another with --listen)", listen_on, strerror(e))
                               : sam_fail(SAM_EIO, "cannot listen on %s: %s", listen_on, strerror(e));
    }
    freeaddrinfo(res);
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        char addr[INET6_ADDRSTRLEN] = "";
        int p = 0;
        getsockname(fd, (struct sockaddr *)&ss, &sl);
        if(ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
            p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            snprintf(shown, sizeof(shown), "%s:%d", addr, p);
        } else {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
            p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            snprintf(shown, sizeof(shown), "[%s]:%d", addr, p);
        }
        snprintf(url, n, "%s://%s/", tls ? "https" : "http", shown);
    }
    *fd_out = fd;
    return SAM_OK;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[4096];
    size_t n;
    if(!f)
        return NULL;
    buf_init(&b, 1u << 20);
    while((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if(buf_append(&b, chunk, n)) {
            fclose(f);
            buf_cleanup(&b);
            return NULL;
        }
    fclose(f);
    return buf_take(&b);
}

int web_start(const struct web_options *opt, struct core *core, struct web **out, char *url, size_t n)
{
    struct web *w = calloc(1, sizeof(*w));
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    unsigned threads = opt->threads ? opt->threads : 1;
    unsigned limit = opt->max_connections ? opt->max_connections : 1000;
    unsigned idle = opt->idle_timeout_s ? opt->idle_timeout_s : 30;
    struct web_pool_options po = {.workers = opt->net_workers ? opt->net_workers : 8,
                                  .queue = opt->net_queue ? opt->net_queue : 64,
                                  .per_workspace = opt->net_per_workspace ? opt->net_per_workspace : 4,
                                  .deadline_ms = opt->net_deadline_ms > 0 ? opt->net_deadline_ms : 60000};
    int rc;

    *out = NULL;
    if(!w)
        return SAM_ENOMEM;
    w->core = core;
    w->max_body = opt->max_body;
    w->cookie_secure = opt->cookie_secure;
    w->fd = -1;
    if(opt->tls_cert && *opt->tls_cert) {
        w->cert = read_file(opt->tls_cert);
        w->key = opt->tls_key ? read_file(opt->tls_key) : NULL;
        if(!w->cert || !w->key) {
            rc = sam_fail(SAM_EIO, "cannot read tls_cert %s or tls_key %s", opt->tls_cert,
                          opt->tls_key ? opt->tls_key : "(unset)");
            goto fail;
        }
        w->tls = 1;
        flags |= MHD_USE_TLS;
    }
    rc = open_listener(opt->listen, &w->fd, url, n, w->tls);
    if(rc)
        goto fail;
    snprintf(w->base_url, sizeof(w->base_url), "%s", opt->public_url && *opt->public_url ? opt->public_url : url);
    for(size_t len = strlen(w->base_url); len && w->base_url[len - 1] == '/'; len--)
        w->base_url[len - 1] = '\0';
    if(opt->public_url && *opt->public_url)
        snprintf(w->public_url, sizeof(w->public_url), "%s", w->base_url);
    w->net_timeout_ms = opt->net_timeout_ms;
    if(opt->metrics_token && strlen(opt->metrics_token) >= sizeof(w->metrics_token)) {
        rc = sam_fail(SAM_EINVAL, "metrics_token must be shorter than %zu characters", sizeof(w->metrics_token));
        goto fail;
    }
    snprintf(w->metrics_token, sizeof(w->metrics_token), "%s", opt->metrics_token ? opt->metrics_token : "");
    if((rc = cidr_list_parse(opt->trusted_proxies, "trusted_proxies", &w->trusted)))
        goto fail;
    if((rc = ratelimit_init(opt->login_entries ? opt->login_entries : RL_DEFAULT_ENTRIES)))
        goto fail;
    snprintf(w->file_dir, sizeof(w->file_dir), "%s", opt->file_dir ? opt->file_dir : "");
    rc = web_pool_new(&po, &w->pool);
    if(rc)
        goto fail;
    /* With a thread pool MHD gives each thread an equal share of the limit (and the
     * per-address counts are shared): a thread at its share stops accepting, the others
     * go on, and connections past the limit wait in the kernel's backlog. */
    if(limit < threads)
        limit = threads;
    if(w->tls)
        w->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w,
                                     MHD_OPTION_LISTEN_SOCKET, w->fd,
                                     MHD_OPTION_THREAD_POOL_SIZE, opt->threads ? opt->threads : 1,
                                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
                                     MHD_OPTION_URI_LOG_CALLBACK, on_uri, w,
                                     MHD_OPTION_CONNECTION_TIMEOUT, idle, MHD_OPTION_CONNECTION_LIMIT, limit,
                                     MHD_OPTION_PER_IP_CONNECTION_LIMIT, opt->max_per_client,
                                     MHD_OPTION_HTTPS_MEM_CERT, w->cert, MHD_OPTION_HTTPS_MEM_KEY, w->key,
                                     MHD_OPTION_END);
    else
        w->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w,
                                     MHD_OPTION_LISTEN_SOCKET, w->fd,
                                     MHD_OPTION_THREAD_POOL_SIZE, opt->threads ? opt->threads : 1,
                                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
                                     MHD_OPTION_URI_LOG_CALLBACK, on_uri, w,
                                     MHD_OPTION_CONNECTION_TIMEOUT, idle, MHD_OPTION_CONNECTION_LIMIT, limit,
                                     MHD_OPTION_PER_IP_CONNECTION_LIMIT, opt->max_per_client, MHD_OPTION_END);
    if(!w->daemon) {
        rc = sam_fail(SAM_EIO, "the HTTP server did not start (see the log above)");
        goto fail;
    }
    *out = w;
    return SAM_OK;
fail:
    web_stop(w);
    return rc;
}

void web_stop(struct web *w)
{
    if(!w)
        return;
    if(w->daemon) {
        /* No new connections; requests waiting on networks are answered 503 and their
         * connections resumed (MHD must not stop with one suspended), and get a moment
         * to go out. Stopping the daemon leaves the listening socket to us. */
        if(MHD_quiesce_daemon(w->daemon) == MHD_INVALID_SOCKET)
            w->fd = -1; /* not quiesced: MHD_stop_daemon closes it */
        web_pool_stop(w->pool);
        if(!web_pool_wait_released(w->pool, 3000))
            log_kv(LOG_WARN, "stopping with answers unsent", NULL);
        MHD_stop_daemon(w->daemon);
    }
    /* Waits for network calls still running; their own time limits bound the wait. */
    web_pool_free(w->pool);
    if(w->fd >= 0)
        close(w->fd);
    free(w->cert);
    free(w->key);
    free(w);
}
