/*
 * http.h: the small blocking HTTP client every connector uses. It sits under channel/
 * and is the only place that knows libcurl (only http.c includes curl.h), so the rules
 * for talking to other people's servers live in one file:
 *
 *   - only http:// and https:// URLs; redirects are never followed (a connector that
 *     wants to follow one must decide to, and make a new request for the new URL);
 *   - every address is decided by the outbound address policy (util/netpolicy.h) at the
 *     moment the socket would be opened, after DNS, for every request: loopback, private,
 *     link-local and the other special addresses are refused with SAM_EPERM unless the
 *     operator allowed them, and no request can skip the check;
 *   - TLS certificates and host names are always verified;
 *   - no proxy, ever (http_proxy and friends are ignored): a proxy would be the only
 *     address the policy saw;
 *   - a whole-request timeout and a connect timeout, always;
 *   - the response body goes into a struct buf with a limit (HTTP_BODY_MAX unless the
 *     request asks for less); a larger answer is cut at the limit and flagged as
 *     truncated, which is not an error;
 *   - libcurl's error codes are mapped here, once: SAM_EIO means "the peer could not be
 *     reached or did not answer in time" (timeouts, refused or reset connections, name
 *     lookups that failed), which callers treat as transient and retry; every other code
 *     is permanent for this request.
 *
 * Thread-safe: each call uses its own handle; libcurl's global state is set up once
 * (pthread_once) on the first call.
 */
#ifndef SAM_HTTP_H
#define SAM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define HTTP_BODY_MAX (1024 * 1024)       /* default limit of a response body */
#define HTTP_TIMEOUT_MS_DEFAULT 30000L    /* when the request says 0 */
#define HTTP_CONNECT_TIMEOUT_MS_MAX 10000L
#define HTTP_RETRY_AFTER_MAX 86400        /* Retry-After is clamped to one day */
#define HTTP_RESP_VALIDATORS 1            /* struct http_resp has etag and last_modified */

struct http_req {
    const char *method;               /* "GET", "POST", "PUT", "DELETE", ...; NULL: GET,
                                         or POST when there is a body */
    const char *url;                  /* http:// or https:// */
    const char *const *headers;       /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;                 /* request body or NULL (borrowed) */
    size_t body_len;
    long timeout_ms;                  /* whole request; 0 = HTTP_TIMEOUT_MS_DEFAULT */
    long connect_timeout_ms;          /* 0 = the smaller of timeout_ms and 10 s */
    size_t max_body;                  /* response body limit; 0 = HTTP_BODY_MAX */
};

struct http_resp {
    long status;                      /* HTTP status, 0 when no answer was received */
    char content_type[128];           /* selected headers, "" when absent; values longer */
    char retry_after[64];             /* than the field are cut */
    char ratelimit_remaining[32];     /* X-RateLimit-Remaining */
    char ratelimit_reset[64];         /* X-RateLimit-Reset */
    char location[512];               /* Location (redirects are reported, not followed) */
    char etag[256];                   /* ETag and Last-Modified, for conditional requests */
    char last_modified[64];
    struct buf body;                  /* NUL-terminated; owned, freed by http_resp_cleanup */
    int truncated;                    /* 1 when the body was cut at the limit */
    int timed_out;                    /* 1 when the request failed by a timeout */
    char error[256];                  /* when http_request fails: what went wrong, in words */
};

/* Prepares resp for http_request. Always pair with http_resp_cleanup. */
void http_resp_init(struct http_resp *resp);
/* Frees the body; resp may be reused after http_resp_init. */
void http_resp_cleanup(struct http_resp *resp);

/* Performs one request and waits for the whole answer. Returns SAM_OK when an answer
 * arrived, whatever its status (resp->status, the headers above and the body are set);
 * SAM_EIO when the peer could not be reached or did not answer in time (transient:
 * retry); SAM_EPERM when the address policy refused every address the host name gave
 * (nothing was connected; resp->error says what kind of address it was, in words for
 * people); SAM_EINVAL for a URL that is malformed or not http(s); SAM_EAUTH when the
 * peer's TLS certificate could not be verified; SAM_ENOMEM; SAM_EINTERNAL for any other
 * libcurl failure. On failure resp->error says why (also recorded with sam_fail). The
 * request is borrowed for the duration of the call; resp's old content is discarded. */
int http_request(const struct http_req *req, struct http_resp *resp);

/* Percent-encodes s for a URL's query (everything but A-Z a-z 0-9 - . _ ~) into out (n
 * bytes). SAM_ETOOBIG (out "") when it does not fit. The same as url_escape (util/url.h),
 * kept under this name for the connectors. */
int http_escape(const char *s, char *out, size_t n);

/* Parses a Retry-After value: delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015
 * 07:28:00 GMT", also the obsolete RFC 850 and asctime forms), relative to now (Unix
 * seconds). *seconds is clamped to [0, HTTP_RETRY_AFTER_MAX]: a date in the past gives
 * 0, a huge delay gives one day. Returns SAM_EINVAL (and *seconds = 0) for anything
 * else, including negative numbers and empty text. */
int http_retry_after(const char *value, int64_t now, int *seconds);

/* How long a rate-limited answer asks us to wait, from Retry-After or else from
 * X-RateLimit-Reset when X-RateLimit-Remaining is 0 (the reset may be Unix seconds,
 * delta-seconds or an RFC 3339 time, as Mastodon sends). Clamped like http_retry_after.
 * Returns SAM_EINVAL (and *seconds = 0) when the answer says nothing usable. */
int http_wait_hint(const struct http_resp *resp, int64_t now, int *seconds);

#endif
