/*
 * http.c: the blocking HTTP client of channel/ (see http.h), the only file of samtale
 * that includes curl.h. Every libcurl option that matters for safety is set here:
 * protocols limited to http and https, no redirects, no proxy, TLS verification on,
 * timeouts always, no signals (we run in worker threads), and the socket callback that
 * asks the outbound address policy (util/netpolicy.h) about every address before a
 * socket is opened for it. libcurl's
 * CURLcode is translated to samtale's error codes in map_curl(), and nowhere else.
 */
#include "channel/http.h"
#include "util/err.h"
#include "util/netpolicy.h"
#include "util/timeutil.h"
#include "util/url.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_resp_init(struct http_resp *resp)
{
    memset(resp, 0, sizeof(*resp));
    buf_init(&resp->body, HTTP_BODY_MAX);
}

void http_resp_cleanup(struct http_resp *resp)
{
    buf_cleanup(&resp->body);
}

/* Forgets a previous answer (headers only: the body is reset by the caller). */
static void clear_headers(struct http_resp *resp)
{
    resp->content_type[0] = '\0';
    resp->retry_after[0] = '\0';
    resp->ratelimit_remaining[0] = '\0';
    resp->ratelimit_reset[0] = '\0';
    resp->location[0] = '\0';
    resp->etag[0] = '\0';
    resp->last_modified[0] = '\0';
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct http_resp *resp = userdata;
    size_t n = size * nmemb, room = resp->body.limit - resp->body.len;
    if(n > room) {
        /* Keep what fits and stop reading: returning short makes libcurl abort the
         * transfer with CURLE_WRITE_ERROR, which http_request treats as success. */
        if(room && buf_append(&resp->body, p, room))
            return 0;
        resp->truncated = 1;
        return 0;
    }
    if(buf_append(&resp->body, p, n))
        return 0;
    return n;
}

/* Copies a header value into a fixed field, trimmed, cut to the field's size, with
 * control characters (a folded line's leftovers) replaced by spaces. */
static void copy_value(char *dst, size_t dstlen, const char *v, size_t n)
{
    size_t i, k = 0;
    while(n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while(n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    for(i = 0; i < n && k + 1 < dstlen; i++)
        dst[k++] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? ' ' : v[i];
    dst[k] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct http_resp *resp = userdata;
    size_t n = size * nmemb, namelen;
    const char *colon;
    static const struct {
        const char *name;
        size_t off, len;
    } wanted[] = {
        {"content-type", offsetof(struct http_resp, content_type), sizeof(resp->content_type)},
        {"retry-after", offsetof(struct http_resp, retry_after), sizeof(resp->retry_after)},
        {"x-ratelimit-remaining", offsetof(struct http_resp, ratelimit_remaining),
         sizeof(resp->ratelimit_remaining)},
        {"x-ratelimit-reset", offsetof(struct http_resp, ratelimit_reset),
         sizeof(resp->ratelimit_reset)},
        /* Bluesky sends them without the X- prefix. */
        {"ratelimit-remaining", offsetof(struct http_resp, ratelimit_remaining),
         sizeof(resp->ratelimit_remaining)},
        {"ratelimit-reset", offsetof(struct http_resp, ratelimit_reset),
         sizeof(resp->ratelimit_reset)},
        {"location", offsetof(struct http_resp, location), sizeof(resp->location)},
        {"etag", offsetof(struct http_resp, etag), sizeof(resp->etag)},
        {"last-modified", offsetof(struct http_resp, last_modified), sizeof(resp->last_modified)},
    };

    if(n >= 5 && !memcmp(p, "HTTP/", 5)) {
        /* A new status line: an interim answer (100 Continue) came before this one. */
        clear_headers(resp);
        return n;
    }
    colon = memchr(p, ':', n);
    if(!colon)
        return n;
    namelen = (size_t)(colon - p);
    for(size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        if(strlen(wanted[i].name) == namelen && !strncasecmp(p, wanted[i].name, namelen)) {
            copy_value((char *)resp + wanted[i].off, wanted[i].len, colon + 1,
                       n - namelen - 1);
            break;
        }
    }
    return n;
}

/* The one translation of CURLcode into samtale's codes (see http.h). */
static int map_curl(CURLcode cc, const char *detail, struct http_resp *resp)
{
    int rc;
    const char *what = detail && *detail ? detail : curl_easy_strerror(cc);
    switch(cc) {
    case CURLE_OK:
        return SAM_OK;
    case CURLE_OPERATION_TIMEDOUT:
        resp->timed_out = 1;
        rc = SAM_EIO;
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
        rc = SAM_EIO;
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        rc = SAM_EINVAL;
        what = "the address must be a valid http:// or https:// URL";
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        rc = SAM_EAUTH;
        break;
    case CURLE_OUT_OF_MEMORY:
        rc = SAM_ENOMEM;
        break;
    default:
        rc = SAM_EINTERNAL;
        break;
    }
    copy_value(resp->error, sizeof(resp->error), what, strlen(what));
    return sam_fail(rc, "%s", resp->error);
}

/* Sets an option and remembers the first failure (an option libcurl does not know
 * means this libcurl cannot keep our rules, so the request must not be made). */
#define SETOPT(h, opt, val)                                                                 \
    do {                                                                                    \
        if(!cc)                                                                             \
            cc = curl_easy_setopt((h), (opt), (val));                                       \
    } while(0)

/* What the socket callback saw: addresses the policy refused (and its words), sockets
 * opened for the ones it allowed. */
struct sock_guard {
    int refused;
    int opened;
    char why[200];
};

/* Opens the socket curl asked for, after the address policy allowed the address. curl
 * calls this for every address it tries (each of a name's addresses, IPv4 and IPv6), so
 * the check is on what is about to be connected, after DNS; refusing makes curl try the
 * next address or fail with CURLE_COULDNT_CONNECT. */
static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct sock_guard *g = arg;
    (void)purpose;
    if(netpolicy_allowed(&addr->addr)) {
        if(!g->refused)
            snprintf(g->why, sizeof(g->why), "%s", sam_errmsg(SAM_EPERM));
        g->refused = 1;
        return CURL_SOCKET_BAD;
    }
    g->opened = 1;
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

int http_request(const struct http_req *req, struct http_resp *resp)
{
    CURL *h = NULL;
    struct curl_slist *hdrs = NULL, *tmp;
    CURLcode cc = CURLE_OK;
    char errbuf[CURL_ERROR_SIZE];
    long timeout = req->timeout_ms > 0 ? req->timeout_ms : HTTP_TIMEOUT_MS_DEFAULT;
    long connect_timeout = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : timeout;
    const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
    struct sock_guard guard = {0};
    int rc = SAM_OK;

    resp->status = 0;
    resp->truncated = 0;
    resp->timed_out = 0;
    resp->error[0] = '\0';
    clear_headers(resp);
    buf_reset(&resp->body);
    resp->body.limit = req->max_body ? req->max_body : HTTP_BODY_MAX;
    if(connect_timeout > HTTP_CONNECT_TIMEOUT_MS_MAX)
        connect_timeout = HTTP_CONNECT_TIMEOUT_MS_MAX;
    if(connect_timeout > timeout)
        connect_timeout = timeout;
    if(!req->url || (strncasecmp(req->url, "http://", 7) && strncasecmp(req->url, "https://", 8))) {
        snprintf(resp->error, sizeof(resp->error), "the address must be an http:// or https:// URL");
        return sam_fail(SAM_EINVAL, "%s", resp->error);
    }

    pthread_once(&global_once, global_init);
    if(global_rc != CURLE_OK) {
        snprintf(resp->error, sizeof(resp->error), "the HTTP library could not start");
        return sam_fail(SAM_EINTERNAL, "%s", resp->error);
    }
    h = curl_easy_init();
    if(!h)
        return sam_fail(SAM_ENOMEM, "out of memory starting an HTTP request");

    /* Expect: 100-continue would cost a round trip (or a second) on every POST. */
    tmp = curl_slist_append(hdrs, "Expect:");
    if(!tmp) {
        rc = SAM_ENOMEM;
        goto out;
    }
    hdrs = tmp;
    for(const char *const *p = req->headers; p && *p; p++) {
        if(strpbrk(*p, "\r\n")) {
            snprintf(resp->error, sizeof(resp->error), "a request header contains a line break");
            rc = sam_fail(SAM_EINVAL, "%s", resp->error);
            goto out;
        }
        tmp = curl_slist_append(hdrs, *p);
        if(!tmp) {
            rc = SAM_ENOMEM;
            goto out;
        }
        hdrs = tmp;
    }

    errbuf[0] = '\0';
    SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(h, CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SETOPT(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(h, CURLOPT_PROXY, ""); /* "" ignores http_proxy and friends */
    SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_TIMEOUT_MS, timeout);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout);
    SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(h, CURLOPT_WRITEDATA, resp);
    SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(h, CURLOPT_HEADERDATA, resp);
    /* Every request, whoever makes it: the one place where an address is decided. */
    SETOPT(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    SETOPT(h, CURLOPT_OPENSOCKETDATA, &guard);
    if(!strcmp(method, "GET")) {
        SETOPT(h, CURLOPT_HTTPGET, 1L);
    } else if(!strcmp(method, "HEAD")) {
        SETOPT(h, CURLOPT_NOBODY, 1L);
    } else {
        if(strcmp(method, "POST"))
            SETOPT(h, CURLOPT_CUSTOMREQUEST, method);
        SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
        SETOPT(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    }
    if(cc) {
        snprintf(resp->error, sizeof(resp->error), "the HTTP library refused an option: %s",
                 curl_easy_strerror(cc));
        rc = sam_fail(SAM_EINTERNAL, "%s", resp->error);
        goto out;
    }

    cc = curl_easy_perform(h);
    if(cc != CURLE_OK && guard.refused && !guard.opened) {
        /* Every address was refused (when some other address was tried and failed, that
         * failure is the answer, mapped below). */
        snprintf(resp->error, sizeof(resp->error), "%s", guard.why);
        rc = sam_fail(SAM_EPERM, "%s", resp->error);
        goto out;
    }
    if(cc == CURLE_WRITE_ERROR && resp->truncated)
        cc = CURLE_OK; /* we stopped reading at the limit on purpose */
    if(cc == CURLE_OK) {
        if(curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK)
            resp->status = 0;
    } else if(cc == CURLE_WRITE_ERROR) {
        rc = SAM_ENOMEM; /* buf_append failed below its limit: allocation */
    } else {
        rc = map_curl(cc, errbuf, resp);
    }

out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}

/* 1 when s is one or more ASCII digits and nothing else. */
static int all_digits(const char *s)
{
    if(!*s)
        return 0;
    for(; *s; s++)
        if(*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Digits as a number of seconds, saturating at the clamp (so "99999999999999999999"
 * is a day, not an overflow). */
static int digits_clamped(const char *s)
{
    long v = 0;
    for(; *s; s++) {
        v = v * 10 + (*s - '0');
        if(v > HTTP_RETRY_AFTER_MAX)
            return HTTP_RETRY_AFTER_MAX;
    }
    return (int)v;
}

static int clamp_seconds(int64_t d)
{
    if(d < 0)
        return 0;
    if(d > HTTP_RETRY_AFTER_MAX)
        return HTTP_RETRY_AFTER_MAX;
    return (int)d;
}

int http_retry_after(const char *value, int64_t now, int *seconds)
{
    char v[64];
    time_t t;
    *seconds = 0;
    if(!value)
        return SAM_EINVAL;
    copy_value(v, sizeof(v), value, strlen(value));
    if(all_digits(v)) {
        *seconds = digits_clamped(v);
        return SAM_OK;
    }
    /* An HTTP-date starts with the day's name; requiring a letter first keeps
     * curl_getdate's leniency from reading "-5" or "10 minutes" as a date. */
    if(!isalpha((unsigned char)v[0]))
        return SAM_EINVAL;
    t = curl_getdate(v, NULL);
    if(t == (time_t)-1)
        return SAM_EINVAL;
    *seconds = clamp_seconds((int64_t)t - now);
    return SAM_OK;
}

int http_wait_hint(const struct http_resp *resp, int64_t now, int *seconds)
{
    const char *reset = resp->ratelimit_reset;
    int64_t t;
    *seconds = 0;
    if(resp->retry_after[0] && http_retry_after(resp->retry_after, now, seconds) == SAM_OK)
        return SAM_OK;
    if(strcmp(resp->ratelimit_remaining, "0") || !reset[0])
        return SAM_EINVAL;
    if(all_digits(reset)) {
        /* Unix seconds (GitHub and friends) or a delay (some others): a number past
         * 2001 can only be a time. */
        if(strlen(reset) >= 10) {
            t = strtoll(reset, NULL, 10);
            *seconds = clamp_seconds(t - now);
        } else {
            *seconds = digits_clamped(reset);
        }
        return SAM_OK;
    }
    if(time_parse_rfc3339(reset, &t) == SAM_OK) {
        *seconds = clamp_seconds(t - now);
        return SAM_OK;
    }
    return SAM_EINVAL;
}

int http_escape(const char *s, char *out, size_t n)
{
    return url_escape(s, out, n);
}
