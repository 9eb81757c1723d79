/*
 * webhook.c: the outbound webhook channel (CH5). Publishing POSTs a signed JSON event to
 * the URL in the channel's settings ({"url": "https://..."}); deleting POSTs another.
 *
 * Events (compact JSON, UTF-8):
 *
 *   {"type":"post.publish","idempotency_key":K,"occurrence_id":N,"post_id":N,
 *    "planned_at":"2026-11-23T19:45:00Z","text":"...","link":"https://..." or null,
 *    "media":[{"id","sha256","type","width","height","bytes","frames","alt"}]}
 *
 * (media only when the post has images, P16: what each image is and its alt text, not its
 * bytes nor an address: samtale's images are for its members only, and a receiver that
 * needs them fetches them with an API token, GET .../media/{id}, by that id.)
 *   {"type":"post.delete","remote_id":"..."}
 *
 * Headers: Content-Type: application/json, User-Agent: samtale/VERSION,
 * Idempotency-Key: K (publish only; the same for every attempt of an occurrence, so the
 * receiver can drop repeats), X-Samtale-Timestamp: Unix seconds, and, when the channel
 * has a secret, X-Samtale-Signature: sha256=HEX, the HMAC-SHA256 of "TIMESTAMP.BODY"
 * keyed with the secret. A receiver recomputes it over the raw body and should refuse
 * stale timestamps to stop replays.
 *
 * Outcomes: 2xx is published (remote id from the answer's "id" when it is a string or a
 * number, else the idempotency key); 408, 425, 429, 5xx, timeouts and unreachable
 * receivers are retried (Retry-After honoured); any other answer is a permanent failure
 * whose message gives the status and, when the answer has the error shape of
 * docs/api.md ({"error": "..."}), its reason, short and cleaned (channel/peer.h);
 * never the free text of an answer. For delete, 404 and 410 mean already gone, which is
 * success. A URL the outbound address policy refuses is a permanent failure, and nothing
 * is sent.
 */
#include "channel/channel.h"
#include "channel/http.h"
#include "channel/peer.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <sodium.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SAMTALE_VERSION
#define SAMTALE_VERSION "0"
#endif

#define WEBHOOK_KEY_MAX 80
#define WEBHOOK_URL_SHOWN 150    /* bytes of the URL shown in messages */

/* The URL as people may see it: scheme, host and path, without user:password@, query
 * or fragment (where tokens tend to live), cleaned and cut. */
static void url_shown(const char *url, char *out, size_t n)
{
    char tmp[2048];
    const char *p = strstr(url, "://"), *host, *end, *at;
    size_t k = 0, len;
    if(!p) {
        peer_text(url, strcspn(url, "?#"), WEBHOOK_URL_SHOWN, out, n);
        return;
    }
    len = (size_t)(p + 3 - url);
    host = p + 3;
    end = host + strcspn(host, "/?#");
    at = NULL;
    for(const char *c = host; c < end; c++)
        if(*c == '@')
            at = c;
    if(at)
        host = at + 1;
    if(len < sizeof(tmp)) {
        memcpy(tmp, url, len);
        k = len;
    }
    len = strcspn(host, "?#");
    if(len > sizeof(tmp) - k - 1)
        len = sizeof(tmp) - k - 1;
    memcpy(tmp + k, host, len);
    k += len;
    peer_text(tmp, k, WEBHOOK_URL_SHOWN, out, n);
}

/* The receiver's reason for refusing, from the error shape docs/api.md documents:
 * {"error": "..."}, {"error": {"message": "..."}} or {"message": "..."}; "" for any other
 * answer (an HTML page or plain text is never quoted). */
static void reason_from(const struct http_resp *resp, char *out, size_t n)
{
    static const char *const keys[] = {"error", "error.message", "message", NULL};
    peer_reason(resp, keys, out, n);
}

/* The id the receiver gave what it made, or NULL: "id" as a string (1..255 bytes, no
 * control characters) or an integral number. */
static int remote_id_from(const struct http_resp *resp, char *out, size_t n)
{
    json_t *j = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
    json_t *id = json_object_get(j, "id");
    int ok = 0;
    if(json_is_string(id) && json_string_length(id) > 0 && json_string_length(id) < n &&
       !utf8_has_control(json_string_value(id)) &&
       strlen(json_string_value(id)) == json_string_length(id)) {
        snprintf(out, n, "%s", json_string_value(id));
        ok = 1;
    } else if(json_is_integer(id)) {
        snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        ok = 1;
    } else if(json_is_real(id)) {
        double d = json_real_value(id);
        if(d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(int64_t)d) {
            snprintf(out, n, "%.0f", d);
            ok = 1;
        }
    }
    json_decref(j);
    return ok;
}

/* The answer's "url" when it is an http(s) URL that fits, else "". */
static void remote_url_from(const struct http_resp *resp, char *out, size_t n)
{
    json_t *j = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
    const char *u = json_string_value(json_object_get(j, "url"));
    out[0] = '\0';
    if(u && strlen(u) < n && !utf8_has_control(u) && !strpbrk(u, " \"<>") &&
       (!strncmp(u, "https://", 8) || !strncmp(u, "http://", 7)))
        snprintf(out, n, "%s", u);
    json_decref(j);
}

/* Idempotency keys travel in a header: printable ASCII without spaces, 1..80 bytes. */
static int key_ok(const char *key)
{
    size_t n = 0;
    if(!key)
        return 0;
    for(; key[n]; n++)
        if((unsigned char)key[n] <= 0x20 || (unsigned char)key[n] >= 0x7f)
            return 0;
    return n > 0 && n <= WEBHOOK_KEY_MAX;
}

/* settings.url, or NULL after filling res with what to fix. */
static const char *url_of(const struct channel_ctx *ctx, struct channel_result *res)
{
    const char *u = ctx->settings ? json_string_value(json_object_get(ctx->settings, "url")) : NULL;
    if(!u || (strncmp(u, "https://", 8) && strncmp(u, "http://", 7)) || strpbrk(u, " \r\n\t")) {
        channel_result_set(res, CHANNEL_FAIL, "This webhook channel has no valid URL. Set the channel's "
                                   "URL to an http:// or https:// address and publish again.");
        return NULL;
    }
    return u;
}

/* Signs and POSTs body to url. Returns what http_request returned (resp filled), or
 * SAM_ENOMEM. */
static int deliver(const struct channel_ctx *ctx, const char *url, const char *body,
                   const char *key, struct http_resp *resp)
{
    char h_key[128], h_ts[64], h_sig[128], hex[crypto_auth_hmacsha256_BYTES * 2 + 1], ts[32];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    const char *headers[8];
    size_t nh = 0;
    struct http_req req;

    snprintf(ts, sizeof(ts), "%" PRId64, time_now());
    headers[nh++] = "Content-Type: application/json";
    headers[nh++] = "Accept: application/json";
    headers[nh++] = "User-Agent: samtale/" SAMTALE_VERSION;
    snprintf(h_ts, sizeof(h_ts), "X-Samtale-Timestamp: %s", ts);
    headers[nh++] = h_ts;
    if(key) {
        snprintf(h_key, sizeof(h_key), "Idempotency-Key: %s", key);
        headers[nh++] = h_key;
    }
    if(ctx->secret && ctx->secret_len) {
        crypto_auth_hmacsha256_state st;
        if(sodium_init() < 0)
            return sam_fail(SAM_EINTERNAL, "the crypto library could not start");
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)ctx->secret, ctx->secret_len);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_memzero(&st, sizeof(st));
        sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
        snprintf(h_sig, sizeof(h_sig), "X-Samtale-Signature: sha256=%s", hex);
        headers[nh++] = h_sig;
    }
    headers[nh] = NULL;

    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = ctx->timeout_ms;
    req.max_body = 64 * 1024; /* an acknowledgement, not a download */
    return http_request(&req, resp);
}

/* Turns the result of deliver() into an outcome. Returns SAM_OK or SAM_ENOMEM. */
static int judge(const struct channel_ctx *ctx, const char *url, int rc,
                 const struct http_resp *resp, int is_delete, struct channel_result *res)
{
    char shown[WEBHOOK_URL_SHOWN + 8], reason[PEER_REASON_MAX + 8], detail[160];
    long st = resp->status;
    long timeout = ctx->timeout_ms > 0 ? ctx->timeout_ms : HTTP_TIMEOUT_MS_DEFAULT;

    url_shown(url, shown, sizeof(shown));
    res->http_status = (int)st;
    switch(rc) {
    case SAM_OK:
        break;
    case SAM_ENOMEM:
        channel_result_set(res, CHANNEL_FAIL, "samtale ran out of memory calling the webhook at %s.", shown);
        return rc;
    case SAM_EIO:
        peer_text(resp->error, strlen(resp->error), 150, detail, sizeof(detail));
        if(resp->timed_out)
            channel_result_set(res, CHANNEL_RETRY, "The webhook at %s did not answer within %.1f seconds; "
                    "samtale will try again.", shown, (double)timeout / 1000.0);
        else
            channel_result_set(res, CHANNEL_RETRY, "Could not reach the webhook at %s (%s); samtale will "
                    "try again.", shown, detail);
        return SAM_OK;
    case SAM_EINVAL:
        channel_result_set(res, CHANNEL_FAIL, "The webhook address %s is not a valid http:// or https:// "
                "URL. Fix the channel's URL and publish again.", shown);
        return SAM_OK;
    case SAM_EPERM:
        res->address_refused = 1;
        channel_result_set(res, CHANNEL_FAIL, "samtale did not call the webhook at %s: %s. Set the channel's "
                "URL to an address on the internet and publish again.", shown, resp->error);
        return SAM_OK;
    case SAM_EAUTH:
        peer_text(resp->error, strlen(resp->error), 150, detail, sizeof(detail));
        channel_result_set(res, CHANNEL_FAIL, "The webhook at %s has a TLS certificate samtale cannot "
                "verify (%s). Fix the receiver's certificate and publish again.", shown, detail);
        return SAM_OK;
    default:
        peer_text(resp->error, strlen(resp->error), 150, detail, sizeof(detail));
        channel_result_set(res, CHANNEL_FAIL, "Could not call the webhook at %s: %s. Check the channel's "
                "URL and publish again.", shown, detail);
        return SAM_OK;
    }

    if(st >= 200 && st < 300) {
        res->outcome = CHANNEL_OK;
        return SAM_OK;
    }
    peer_log_answer("webhook", url, resp);
    if(st == 408 || st == 425 || st == 429 || (st >= 500 && st < 600)) {
        (void)http_wait_hint(resp, time_now(), &res->retry_after);
        if(res->retry_after)
            channel_result_set(res, CHANNEL_RETRY, "The webhook at %s answered %ld; samtale will try again "
                    "in %d seconds, as it asked.", shown, st, res->retry_after);
        else
            channel_result_set(res, CHANNEL_RETRY, "The webhook at %s answered %ld; samtale will try "
                    "again.", shown, st);
        return SAM_OK;
    }
    if(is_delete && (st == 404 || st == 410)) {
        channel_result_set(res, CHANNEL_OK, "The webhook at %s says the post is already gone.", shown);
        return SAM_OK;
    }
    if(st >= 300 && st < 400) {
        char where[WEBHOOK_URL_SHOWN + 8];
        url_shown(resp->location, where, sizeof(where));
        channel_result_set(res, CHANNEL_FAIL, "The webhook at %s answered %ld, a redirect to %s; samtale "
                "does not follow redirects. Set the channel's URL to the new address and "
                "publish again.", shown, st, where[0] ? where : "an unnamed address");
        return SAM_OK;
    }
    reason_from(resp, reason, sizeof(reason));
    if(st == 401 || st == 403)
        channel_result_set(res, CHANNEL_FAIL, "The webhook at %s answered %ld: %s. Check the channel's "
                "secret and the receiver's settings, then publish again.", shown, st,
                reason[0] ? reason : "no reason given");
    else if(st >= 400 && st < 500)
        channel_result_set(res, CHANNEL_FAIL, "The webhook at %s answered %ld: %s. Fix the receiver or "
                "the post and publish again.", shown, st, reason[0] ? reason : "no reason given");
    else
        channel_result_set(res, CHANNEL_FAIL, "The webhook at %s answered with the unexpected status %ld. "
                "Fix the receiver and publish again.", shown, st);
    return SAM_OK;
}

static int webhook_publish(const struct channel_ctx *ctx, const struct channel_post *post,
                           struct channel_result *res)
{
    char planned[32], *body = NULL;
    const char *url;
    json_t *j = NULL;
    struct http_resp resp;
    int rc;

    channel_result_clear(res);
    http_resp_init(&resp);
    if(!key_ok(post->idempotency_key)) {
        channel_result_set(res, CHANNEL_FAIL, "samtale made an unusable idempotency key for this post; "
                                   "this is a bug, please report it.");
        rc = sam_fail(SAM_EINVAL, "an idempotency key must be 1 to 80 printable characters "
                                  "without spaces");
        goto out;
    }
    rc = SAM_OK;
    if(!(url = url_of(ctx, res)))
        goto out;
    if(!post->text || utf8_count(post->text, strlen(post->text)) < 0 ||
       (post->link && utf8_count(post->link, strlen(post->link)) < 0)) {
        channel_result_set(res, CHANNEL_FAIL, "The post's text or link is not valid UTF-8. Edit the post "
                                   "and publish again.");
        goto out;
    }
    time_rfc3339(post->planned_at, planned, sizeof(planned));
    j = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s?}", "type", "post.publish",
                  "idempotency_key", post->idempotency_key, "occurrence_id",
                  (json_int_t)post->occurrence_id, "post_id", (json_int_t)post->post_id,
                  "planned_at", planned, "text", post->text, "link", post->link);
    if(j && post->nmedia && json_object_set_new(j, "media", channel_media_json(post))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    if(!j || !(body = json_dumps(j, JSON_COMPACT))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    rc = deliver(ctx, url, body, post->idempotency_key, &resp);
    rc = judge(ctx, url, rc, &resp, 0, res);
    if(rc || res->outcome != CHANNEL_OK)
        goto out;
    if(!remote_id_from(&resp, res->remote_id, sizeof(res->remote_id)))
        snprintf(res->remote_id, sizeof(res->remote_id), "%s", post->idempotency_key);
    remote_url_from(&resp, res->remote_url, sizeof(res->remote_url));
    {
        char shown[WEBHOOK_URL_SHOWN + 8];
        url_shown(url, shown, sizeof(shown));
        channel_result_say(res, "Delivered to the webhook at %s (%ld).",
                 shown, resp.status);
    }
out:
    free(body);
    json_decref(j);
    http_resp_cleanup(&resp);
    return rc;
}

static int webhook_remove(const struct channel_ctx *ctx, const char *remote_id_in,
                          struct channel_result *res)
{
    char *body = NULL, remote_id[sizeof(res->remote_id) + 1];
    const char *url;
    json_t *j = NULL;
    struct http_resp resp;
    int rc = SAM_OK;

    /* Copied first: the caller may pass res->remote_id, which result_clear wipes. */
    snprintf(remote_id, sizeof(remote_id), "%s", remote_id_in ? remote_id_in : "");
    channel_result_clear(res);
    http_resp_init(&resp);
    if(!*remote_id || strlen(remote_id) >= sizeof(res->remote_id) ||
       utf8_count(remote_id, strlen(remote_id)) < 0) {
        channel_result_set(res, CHANNEL_FAIL, "This is not the id of something this webhook published; "
                                   "there is nothing to delete.");
        goto out;
    }
    if(!(url = url_of(ctx, res)))
        goto out;
    j = json_pack("{s:s, s:s}", "type", "post.delete", "remote_id", remote_id);
    if(!j || !(body = json_dumps(j, JSON_COMPACT))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    rc = deliver(ctx, url, body, NULL, &resp);
    rc = judge(ctx, url, rc, &resp, 1, res);
    if(rc || res->outcome != CHANNEL_OK)
        goto out;
    snprintf(res->remote_id, sizeof(res->remote_id), "%s", remote_id);
    if(!res->message[0]) {
        char shown[WEBHOOK_URL_SHOWN + 8];
        url_shown(url, shown, sizeof(shown));
        channel_result_say(res, "Deleted through the webhook at %s (%ld).",
                 shown, resp.status);
    }
out:
    free(body);
    json_decref(j);
    http_resp_cleanup(&resp);
    return rc;
}

/* Sends an event (X4): the same signed POST, with the event's own idempotency key. */
static int webhook_notify(const struct channel_ctx *ctx, json_t *event, const char *key,
                          struct channel_result *res)
{
    char *body = NULL;
    const char *url;
    struct http_resp resp;
    int rc = SAM_OK;

    channel_result_clear(res);
    http_resp_init(&resp);
    if(!key_ok(key)) {
        channel_result_set(res, CHANNEL_FAIL, "The event has no usable idempotency key.");
        goto out;
    }
    if(!(url = url_of(ctx, res)))
        goto out;
    if(!(body = json_dumps(event, JSON_COMPACT))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    rc = deliver(ctx, url, body, key, &resp);
    rc = judge(ctx, url, rc, &resp, 0, res);
out:
    free(body);
    http_resp_cleanup(&resp);
    return rc;
}

const struct channel_ops channel_webhook_ops = {
    .kind = "webhook",
    .can_publish = 1,
    .can_delete = 1,
    .publish = webhook_publish,
    .remove = webhook_remove,
    .notify = webhook_notify,
};
