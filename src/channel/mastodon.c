/* mastodon.c: the Mastodon connector, its OAuth calls, mentions and the streaming parser
 * (see mastodon.h).
 *
 * Images (P16): the instance's limits come from GET /api/v2/instance
 * (configuration.media_attachments: supported_mime_types, image_size_limit,
 * image_matrix_limit; statuses.max_media_attachments), kept per channel for an hour; each
 * image becomes a version within them (core/image.h image_fit; an animated GIF stays
 * animated when the instance takes GIFs and it fits) and is uploaded with POST
 * /api/v2/media (multipart: file, description = its alt text). An answer 202 means the
 * instance processes it later: GET /api/v1/media/:id is asked until it answers 200 (206
 * meanwhile), at most MEDIA_WAIT_MS, in the publisher's thread; still processing then is
 * a retry. The status names the ids (media_ids) and keeps its Idempotency-Key, so a retry
 * uploads again (new ids, the old ones never attached) but never posts twice. */
#include "channel/mastodon.h"
#include "text/normalise.h"
#include "text/thread.h"
#include "channel/channel.h"
#include "channel/http.h"
#include "channel/peer.h"
#include "text/html.h"
#include "util/err.h"
#include "util/i18n.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include "core/image.h"
#include "util/log.h"

#include <sodium.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MASTO_URL_MAX 512
#define MASTO_STATUS_CHARS 500 /* a status's characters on a stock instance */
#define MEDIA_MAX 4                  /* images on a status, unless the instance says fewer */
#define MEDIA_WAIT_MS 30000          /* how long an image may take to be processed */
#define LIMITS_TTL_S 3600            /* an instance's limits are asked again after this */
#define LIMITS_CACHE_MAX 256

/* "https://host" + path, refusing anything but an http(s) base without a query. */
static int api_url(const char *instance, const char *path, char *out, size_t n)
{
    size_t len;
    if(!instance || (strncmp(instance, "https://", 8) && strncmp(instance, "http://", 7)) ||
       strpbrk(instance, "?# \t\r\n"))
        return sam_fail(SAM_EINVAL, "the instance URL must look like https://mastodon.example");
    len = strlen(instance);
    while(len && instance[len - 1] == '/')
        len--;
    if((size_t)snprintf(out, n, "%.*s%s", (int)len, instance, path) >= n)
        return sam_fail(SAM_EINVAL, "the instance URL is too long");
    return SAM_OK;
}

/* The instance's reason for an error answer, from Mastodon's error shape ({"error": "...",
 * "error_description": "..."}), short and cleaned (channel/peer.h); "" for any other
 * answer, whose text is never quoted. The answer's beginning goes to the debug log. */
static void reason_of(const char *url, const struct http_resp *resp, char *out, size_t n)
{
    static const char *const keys[] = {"error_description", "error", NULL};
    peer_log_answer("mastodon", url, resp);
    peer_reason(resp, keys, out, n);
}

static int call(const char *method, const char *url, const char *token, const char *body, const char *key,
                long timeout_ms, struct http_resp *resp)
{
    char auth[1100], idem[128];
    const char *headers[6];
    size_t nh = 0;
    struct http_req req;
    headers[nh++] = "Accept: application/json";
    headers[nh++] = "User-Agent: samtale/" SAMTALE_VERSION;
    if(body)
        headers[nh++] = "Content-Type: application/json";
    if(token) {
        if((size_t)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token) >= sizeof(auth))
            return sam_fail(SAM_EINVAL, "the access token is too long");
        headers[nh++] = auth;
    }
    if(key) {
        snprintf(idem, sizeof(idem), "Idempotency-Key: %s", key);
        headers[nh++] = idem;
    }
    headers[nh] = NULL;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.timeout_ms = timeout_ms;
    return http_request(&req, resp);
}

/* Maps an answer onto the channel outcomes; `what` names the action for messages, url is
 * where the request went (for the debug log). */
static void judge(int rc, const char *url, const struct http_resp *resp, const char *what,
                  struct channel_result *res)
{
    char why[PEER_REASON_MAX + 8];
    int wait = 0;
    res->http_status = (int)resp->status;
    if(rc == SAM_EIO) {
        res->outcome = CHANNEL_RETRY;
        channel_result_say(res, "The instance did not answer in time; samtale tries again.");
        return;
    }
    if(rc == SAM_EPERM) {
        res->outcome = CHANNEL_FAIL;
        res->address_refused = 1;
        channel_result_say(res, "samtale did not call the instance to %s: %.300s. Set the "
                 "channel's instance_url to a Mastodon server on the internet.", what, resp->error);
        return;
    }
    if(rc) {
        res->outcome = CHANNEL_FAIL;
        channel_result_say(res, "Could not %s: %.300s", what, sam_errmsg(rc));
        return;
    }
    if(resp->status >= 200 && resp->status < 300) {
        res->outcome = CHANNEL_OK;
        return;
    }
    reason_of(url, resp, why, sizeof(why));
    if(!why[0])
        snprintf(why, sizeof(why), "no reason given");
    if(resp->status == 429 || resp->status >= 500 || resp->status == 408) {
        res->outcome = CHANNEL_RETRY;
        if(!http_wait_hint(resp, time_now(), &wait))
            res->retry_after = wait;
        channel_result_say(res, "The instance answered %ld (%s); samtale waits and tries again.",
                 resp->status, why);
    } else if(resp->status == 401) {
        res->outcome = CHANNEL_FAIL;
        res->reconnect = 1;
        channel_result_say(res,
                 "The instance refused the channel's access token (%ld: %s). Reconnect the channel; its queued "
                 "posts wait until then.", resp->status, why);
    } else if(resp->status == 403) {
        res->outcome = CHANNEL_FAIL;
        channel_result_say(res,
                 "The instance does not allow samtale to %s (403: %s). Check the account on the instance, or "
                 "reconnect the channel to grant samtale read and write access.", what, why);
    } else {
        res->outcome = CHANNEL_FAIL;
        channel_result_say(res, "The instance refused to %s (%ld): %s", what, resp->status, why);
    }
}

/* ---- images (P16) ---- */

static json_t *get_api(const struct channel_ctx *ctx, const char *path, const char *what, struct channel_result *res);
static int id_ok(const char *id);

struct media_limits {
    int64_t channel_id;
    char instance[MASTO_URL_MAX];
    int64_t at;                       /* when asked; 0: a free slot */
    struct image_limits lim;
    int max_images;
};

static pthread_mutex_t limits_mu = PTHREAD_MUTEX_INITIALIZER;
static struct media_limits limits_cache[LIMITS_CACHE_MAX];

/* Mastodon's defaults (4.x), for an instance that does not say. */
static void limits_default(struct media_limits *l)
{
    l->lim.types = IMAGE_BIT(IMAGE_JPEG) | IMAGE_BIT(IMAGE_PNG) | IMAGE_BIT(IMAGE_GIF) | IMAGE_BIT(IMAGE_WEBP);
    l->lim.max_bytes = 16u << 20;
    l->lim.max_pixels = 33177600;
    l->lim.animated = 1;
    l->max_images = MEDIA_MAX;
}

/* Reads configuration of a /api/v2/instance answer into l (what it does not say keeps
 * the defaults). */
static void limits_from(json_t *inst, struct media_limits *l)
{
    json_t *conf = json_object_get(inst, "configuration");
    json_t *ma = json_object_get(conf, "media_attachments"), *types = json_object_get(ma, "supported_mime_types"), *t;
    json_t *max = json_object_get(json_object_get(conf, "statuses"), "max_media_attachments");
    json_t *size = json_object_get(ma, "image_size_limit"), *matrix = json_object_get(ma, "image_matrix_limit");
    size_t i;
    limits_default(l);
    if(json_is_array(types)) {
        l->lim.types = 0;
        json_array_foreach(types, i, t) {
            int ty = image_type_of_mime(json_string_value(t));
            if(ty != IMAGE_NONE)
                l->lim.types |= IMAGE_BIT(ty);
        }
        if(!(l->lim.types & (IMAGE_BIT(IMAGE_JPEG) | IMAGE_BIT(IMAGE_PNG))))
            l->lim.types = 0; /* no image type samtale makes: the upload will say so */
        l->lim.animated = (l->lim.types & IMAGE_BIT(IMAGE_GIF)) != 0;
    }
    if(json_is_integer(size) && json_integer_value(size) > 1024)
        l->lim.max_bytes = (size_t)json_integer_value(size);
    if(json_is_integer(matrix) && json_integer_value(matrix) > 256)
        l->lim.max_pixels = json_integer_value(matrix);
    if(json_is_integer(max) && json_integer_value(max) >= 0 && json_integer_value(max) < MEDIA_MAX)
        l->max_images = (int)json_integer_value(max);
}

/* The instance's limits for this channel: cached for LIMITS_TTL_S, else asked. 0 with res
 * saying why when they could not be learnt for now (a retry). */
static int media_limits(const struct channel_ctx *ctx, const char *instance, struct media_limits *out,
                        struct channel_result *res)
{
    int64_t now = time_now(), id = ctx->channel ? ctx->channel->id : 0;
    struct media_limits *slot = NULL;
    json_t *inst;
    pthread_mutex_lock(&limits_mu);
    for(size_t i = 0; i < LIMITS_CACHE_MAX; i++)
        if(limits_cache[i].at && limits_cache[i].channel_id == id && !strcmp(limits_cache[i].instance, instance) &&
           now - limits_cache[i].at < LIMITS_TTL_S) {
            *out = limits_cache[i];
            pthread_mutex_unlock(&limits_mu);
            res->outcome = CHANNEL_OK;
            return 1;
        }
    pthread_mutex_unlock(&limits_mu);
    memset(out, 0, sizeof(*out));
    out->channel_id = id;
    snprintf(out->instance, sizeof(out->instance), "%s", instance);
    if(!(inst = get_api(ctx, "/api/v2/instance", N_("read the instance's limits for images"), res))) {
        if(res->outcome == CHANNEL_RETRY || res->reconnect)
            return 0;
        /* An instance without /api/v2/instance (older than 4.0): Mastodon's defaults. */
        limits_default(out);
    } else {
        limits_from(inst, out);
        json_decref(inst);
    }
    channel_result_clear(res);
    res->outcome = CHANNEL_OK;
    out->at = now;
    /* This channel's entry, else a free one, else the oldest. */
    pthread_mutex_lock(&limits_mu);
    for(size_t i = 0; i < LIMITS_CACHE_MAX; i++) {
        struct media_limits *c = &limits_cache[i];
        if(c->at && c->channel_id == id) {
            slot = c;
            break;
        }
        if(!slot || (slot->at && (!c->at || c->at < slot->at)))
            slot = c;
    }
    *slot = *out;
    pthread_mutex_unlock(&limits_mu);
    return 1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while(nanosleep(&ts, &ts) && ts.tv_sec + ts.tv_nsec > 0)
        ;
}

/* POSTs one image version to /api/v2/media as multipart/form-data (file, description). */
static int media_post(const struct channel_ctx *ctx, const char *url, const struct image *v, const char *alt,
                      struct http_resp *resp)
{
    static const char *const ext[] = {"", "jpg", "png", "webp", "gif"};
    unsigned char rnd[12];
    char boundary[64], ctype[128], auth[1100];
    const char *headers[6];
    struct buf body;
    struct http_req req;
    int rc;
    randombytes_buf(rnd, sizeof(rnd));
    memcpy(boundary, "samtale-", 8);
    sodium_bin2hex(boundary + 8, sizeof(boundary) - 8, rnd, sizeof(rnd));
    snprintf(ctype, sizeof(ctype), "Content-Type: multipart/form-data; boundary=%s", boundary);
    if((size_t)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ctx->secret) >= sizeof(auth))
        return sam_fail(SAM_EINVAL, "the access token is too long");
    buf_init(&body, v->len + strlen(alt ? alt : "") * 2 + 1024);
    rc = buf_printf(&body, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"image.%s\"\r\n"
                           "Content-Type: %s\r\n\r\n", boundary, ext[v->type > 0 && v->type <= 4 ? v->type : 0],
                    image_mime(v->type));
    if(!rc)
        rc = buf_append(&body, v->data, v->len);
    if(!rc && alt && *alt)
        rc = buf_printf(&body, "\r\n--%s\r\nContent-Disposition: form-data; name=\"description\"\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n\r\n%s", boundary, alt);
    if(!rc)
        rc = buf_printf(&body, "\r\n--%s--\r\n", boundary);
    if(rc) {
        buf_cleanup(&body);
        return rc == SAM_ETOOBIG ? SAM_ENOMEM : rc;
    }
    headers[0] = "Accept: application/json";
    headers[1] = "User-Agent: samtale/" SAMTALE_VERSION;
    headers[2] = ctype;
    headers[3] = auth;
    headers[4] = NULL;
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body.data;
    req.body_len = body.len;
    req.timeout_ms = ctx->timeout_ms;
    rc = http_request(&req, resp);
    buf_cleanup(&body);
    return rc;
}

/* Uploads image number `n` (1-based, for messages) and waits while the instance processes
 * it; its id goes into id (n bytes). res->outcome is CHANNEL_OK when it is ready. */
static void media_upload(const struct channel_ctx *ctx, const char *instance, const struct image *v, const char *alt,
                         size_t n, char *id, size_t idn, struct channel_result *res)
{
    char url[MASTO_URL_MAX + 64], path[96], what[64];
    struct http_resp resp;
    json_t *ans = NULL;
    const char *got;
    long waited = 0, step = 250;
    int rc, processing;
    id[0] = '\0';
    snprintf(what, sizeof(what), N_("upload image %zu"), n);
    if(api_url(instance, "/api/v2/media", url, sizeof(url))) {
        channel_result_set(res, CHANNEL_FAIL, "The channel's instance_url is not usable: %s", sam_errmsg(SAM_EINVAL));
        return;
    }
    http_resp_init(&resp);
    rc = media_post(ctx, url, v, alt, &resp);
    judge(rc, url, &resp, what, res);
    if(res->outcome == CHANNEL_OK) {
        ans = resp.truncated ? NULL : json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        got = json_string_value(json_object_get(ans, "id"));
        if(!id_ok(got)) {
            channel_result_set(res, CHANNEL_RETRY, "The instance took image %zu but answered without its id; samtale "
                               "tries again.", n);
        } else {
            snprintf(id, idn, "%s", got);
        }
    }
    processing = res->outcome == CHANNEL_OK && resp.status == 202;
    json_decref(ans);
    http_resp_cleanup(&resp);
    /* 202: processed later. Asked again until it is ready, a bounded time. */
    while(processing) {
        if(waited >= MEDIA_WAIT_MS) {
            channel_result_set(res, CHANNEL_RETRY, "The instance is still processing image %zu after %ld seconds; "
                               "samtale tries again later.", n, waited / 1000);
            id[0] = '\0';
            return;
        }
        sleep_ms(step);
        waited += step;
        step = step < 2000 ? step * 2 : 2000;
        snprintf(path, sizeof(path), "/api/v1/media/%s", id);
        if(api_url(instance, path, url, sizeof(url)))
            break;
        http_resp_init(&resp);
        rc = call("GET", url, ctx->secret, NULL, NULL, ctx->timeout_ms, &resp);
        judge(rc, url, &resp, N_("read an image's processing"), res);
        processing = res->outcome == CHANNEL_OK && resp.status == 206;
        http_resp_cleanup(&resp);
    }
    if(res->outcome != CHANNEL_OK)
        id[0] = '\0';
}

/* The ids of the post's images on the instance (each fitted to its limits and uploaded)
 * as a JSON list into *ids (NULL when the post has none); res->outcome is not CHANNEL_OK
 * when one could not be uploaded for now or at all. SAM_ENOMEM. */
static int media_attach(const struct channel_ctx *ctx, const char *instance, const struct channel_post *post,
                        json_t **ids, struct channel_result *res)
{
    struct media_limits ml;
    int rc = SAM_OK;
    *ids = NULL;
    channel_result_clear(res);
    res->outcome = CHANNEL_OK;
    if(!post->nmedia)
        return SAM_OK;
    if(!media_limits(ctx, instance, &ml, res))
        return SAM_OK;
    if(!ml.lim.types) {
        channel_result_set(res, CHANNEL_FAIL, "The instance takes no JPEG or PNG images; remove the images and "
                           "publish again.");
        return SAM_OK;
    }
    if(post->nmedia > (size_t)ml.max_images) {
        channel_result_set(res, CHANNEL_FAIL, "The post has %zu images; this instance takes at most %d. Remove some "
                           "and publish again.", post->nmedia, ml.max_images);
        return SAM_OK;
    }
    if(!(*ids = json_array()))
        return SAM_ENOMEM;
    for(size_t i = 0; i < post->nmedia && res->outcome == CHANNEL_OK; i++) {
        const struct channel_media *m = &post->media[i];
        struct image in = {(unsigned char *)m->data, m->len, image_type_of_mime(m->type), m->width, m->height,
                           m->frames > 0 ? m->frames : 1};
        struct image v;
        char id[48];
        rc = image_fit(&in, &ml.lim, &v);
        if(rc == SAM_ENOMEM)
            break;
        if(rc) {
            rc = SAM_OK;
            channel_result_set(res, CHANNEL_FAIL, "Image %zu of the post cannot be made to fit the instance's limits "
                               "(%zu bytes, %lld pixels). Replace it and publish again.", i + 1, ml.lim.max_bytes,
                               (long long)ml.lim.max_pixels);
            break;
        }
        media_upload(ctx, instance, &v, m->alt, i + 1, id, sizeof(id), res);
        image_cleanup(&v);
        if(res->outcome == CHANNEL_OK && json_array_append_new(*ids, json_string(id)))
            rc = SAM_ENOMEM;
        if(rc)
            break;
    }
    if(rc || res->outcome != CHANNEL_OK) {
        json_decref(*ids);
        *ids = NULL;
    }
    return rc;
}

/* The instance's limit of characters in a status: settings.max_characters when the channel
 * learnt it, else Mastodon's default. */
static long status_limit(const struct channel_ctx *ctx)
{
    json_t *m = json_object_get(ctx->settings, "max_characters");
    json_int_t v = json_is_integer(m) ? json_integer_value(m) : 0;
    return v >= 100 && v <= 100000 ? (long)v : MASTO_STATUS_CHARS;
}

/* Posts one status (a reply to in_reply_to when given) under the key; fills id (and the
 * first part's address) or res. */
static void post_status(const struct channel_ctx *ctx, const char *url, const char *status, const char *vis,
                        const char *in_reply_to, json_t *media_ids, const char *key, char *id, size_t idn,
                        struct channel_result *res, int first)
{
    struct http_resp resp;
    json_t *body, *ans = NULL;
    char *doc = NULL;
    int rc;
    id[0] = '\0';
    body = json_pack("{s:s, s:s}", "status", status, "visibility", vis);
    if(body && in_reply_to)
        json_object_set_new(body, "in_reply_to_id", json_string(in_reply_to));
    if(body && media_ids && json_object_set(body, "media_ids", media_ids)) { /* P16: images */
        json_decref(body);
        body = NULL;
    }
    if(!body || !(doc = json_dumps(body, JSON_COMPACT))) {
        json_decref(body);
        res->outcome = CHANNEL_RETRY;
        channel_result_say(res, "samtale ran out of memory; it will try again.");
        return;
    }
    http_resp_init(&resp);
    rc = call("POST", url, ctx->secret, doc, key, ctx->timeout_ms, &resp);
    judge(rc, url, &resp, N_("publish the post"), res);
    if(res->outcome == CHANNEL_OK) {
        ans = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        const char *sid = json_string_value(json_object_get(ans, "id"));
        const char *link = json_string_value(json_object_get(ans, "url"));
        if(!sid || strlen(sid) >= idn) {
            res->outcome = CHANNEL_RETRY;
            channel_result_say(res, "The instance answered without a status id; samtale asks again "
                                                          "with the same key.");
        } else {
            snprintf(id, idn, "%s", sid);
            if(first) {
                snprintf(res->remote_id, sizeof(res->remote_id), "%s", sid);
                if(link && (!strncmp(link, "https://", 8) || !strncmp(link, "http://", 7)))
                    snprintf(res->remote_url, sizeof(res->remote_url), "%s", link);
            }
        }
    }
    json_decref(ans);
    json_decref(body);
    free(doc);
    http_resp_cleanup(&resp);
}

static int masto_publish(const struct channel_ctx *ctx, const struct channel_post *post, struct channel_result *res)
{
    const char *instance = json_string_value(json_object_get(ctx->settings, "instance_url"));
    const char *vis = json_string_value(json_object_get(ctx->settings, "visibility"));
    char url[MASTO_URL_MAX], prev[128] = "";
    struct text_part parts[TEXT_THREAD_MAX];
    struct buf text;
    json_t *media_ids = NULL, *later = NULL; /* later: the ids of the statuses after the first */
    size_t nparts = 0;
    int rc;

    memset(res, 0, sizeof(*res));
    if(!ctx->secret || !*ctx->secret) {
        res->outcome = CHANNEL_FAIL;
        channel_result_say(res, "The channel has no access token: connect it to Mastodon first.");
        return SAM_OK;
    }
    if(api_url(instance, "/api/v1/statuses", url, sizeof(url))) {
        res->outcome = CHANNEL_FAIL;
        channel_result_say(res, "%s", sam_errmsg(SAM_EINVAL));
        return SAM_OK;
    }
    vis = vis && (!strcmp(vis, "public") || !strcmp(vis, "unlisted") || !strcmp(vis, "private")) ? vis : "public";
    /* Images first (P16): the first status of a thread names them. */
    if((rc = media_attach(ctx, instance, post, &media_ids, res)))
        return rc;
    if(res->outcome != CHANNEL_OK)
        return SAM_OK;
    memset(res, 0, sizeof(*res));
    /* The link goes at the end unless the text has it already. */
    buf_init(&text, 20000);
    rc = buf_puts(&text, post->text ? post->text : "");
    if(!rc && post->link && *post->link && !strstr(buf_str(&text), post->link))
        rc = buf_printf(&text, "\n\n%s", post->link);
    if(rc) {
        buf_cleanup(&text);
        json_decref(media_ids);
        return SAM_ENOMEM;
    }
    /* A text longer than one status goes out as a numbered thread of replies, each part
     * under a key of its own that every attempt shares. */
    rc = text_thread_split(buf_str(&text), status_limit(ctx), (size_t)-1, NULL, text_mastodon_length, parts,
                           TEXT_THREAD_MAX, &nparts);
    if(rc) {
        buf_cleanup(&text);
        json_decref(media_ids);
        if(rc == SAM_ENOMEM)
            return rc;
        res->outcome = CHANNEL_FAIL;
        channel_result_say(res, "The post is too long even for a thread of %d statuses. "
                                                      "Shorten it and publish again.", TEXT_THREAD_MAX);
        return SAM_OK;
    }
    for(size_t k = 0; k < nparts; k++) {
        char key[160], id[128], *part = text_thread_part(buf_str(&text), &parts[k], k, nparts);
        if(!part) {
            buf_cleanup(&text);
            json_decref(media_ids);
            return SAM_ENOMEM;
        }
        if(k == 0)
            snprintf(key, sizeof(key), "%s", post->idempotency_key);
        else
            snprintf(key, sizeof(key), "%s#%zu", post->idempotency_key, k);
        post_status(ctx, url, part, vis, k ? prev : NULL, k ? NULL : media_ids, key, id, sizeof(id), res, k == 0);
        free(part);
        if(res->outcome != CHANNEL_OK)
            break;
        snprintf(prev, sizeof(prev), "%s", id);
        if(k > 0 && ((!later && !(later = json_array())) || json_array_append_new(later, json_string(id)))) {
            buf_cleanup(&text);
            json_decref(media_ids);
            json_decref(later);
            return SAM_ENOMEM;
        }
    }
    if(res->outcome == CHANNEL_OK)
        channel_result_parts(res, later);
    json_decref(later);
    if(res->outcome == CHANNEL_OK && nparts > 1)
        channel_result_say(res, "Published on Mastodon, a thread of %zu statuses.", nparts);
    buf_cleanup(&text);
    json_decref(media_ids);
    return SAM_OK;
}

static int masto_remove(const struct channel_ctx *ctx, const char *remote_id_in, struct channel_result *res)
{
    const char *instance = json_string_value(json_object_get(ctx->settings, "instance_url"));
    char path[320], url[MASTO_URL_MAX], remote_id[256];
    struct http_resp resp;
    int rc;
    snprintf(remote_id, sizeof(remote_id), "%s", remote_id_in ? remote_id_in : "");
    memset(res, 0, sizeof(*res));
    for(const char *p = remote_id; *p; p++)
        if(!isalnum((unsigned char)*p)) {
            res->outcome = CHANNEL_FAIL;
            channel_result_say(res, "This is not a Mastodon status id; there is nothing to delete.");
            return SAM_OK;
        }
    snprintf(path, sizeof(path), "/api/v1/statuses/%s", remote_id);
    if(!*remote_id || api_url(instance, path, url, sizeof(url))) {
        res->outcome = CHANNEL_FAIL;
        channel_result_say(res, "Nothing to delete, or the instance URL is not usable.");
        return SAM_OK;
    }
    http_resp_init(&resp);
    rc = call("DELETE", url, ctx->secret, NULL, NULL, ctx->timeout_ms, &resp);
    if(!rc && resp.status == 404) {
        res->outcome = CHANNEL_OK; /* already gone */
    } else {
        judge(rc, url, &resp, N_("delete the post"), res);
    }
    if(res->outcome == CHANNEL_OK)
        snprintf(res->remote_id, sizeof(res->remote_id), "%s", remote_id);
    http_resp_cleanup(&resp);
    return SAM_OK;
}

/* A GET of the instance's API with the channel's token; the parsed answer, or NULL with
 * res saying why. */
static json_t *get_api(const struct channel_ctx *ctx, const char *path, const char *what, struct channel_result *res)
{
    const char *instance = json_string_value(json_object_get(ctx->settings, "instance_url"));
    char url[MASTO_URL_MAX + 256];
    struct http_resp resp;
    json_t *j = NULL;
    int rc;
    if(!ctx->secret || !*ctx->secret) {
        channel_result_set(res, CHANNEL_FAIL, "The channel has no access token: connect it to Mastodon first.");
        res->reconnect = 1;
        return NULL;
    }
    if(api_url(instance, path, url, sizeof(url))) {
        channel_result_set(res, CHANNEL_FAIL, "The channel's instance_url is not usable: %s", sam_errmsg(SAM_EINVAL));
        return NULL;
    }
    http_resp_init(&resp);
    rc = call("GET", url, ctx->secret, NULL, NULL, ctx->timeout_ms, &resp);
    judge(rc, url, &resp, what, res);
    if(res->outcome == CHANNEL_OK) {
        j = resp.truncated ? NULL : json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        if(!j)
            channel_result_set(res, CHANNEL_RETRY, "The instance's answer to %s is not JSON; samtale tries again.", what);
    }
    http_resp_cleanup(&resp);
    return j;
}

static int masto_verify_op(const struct channel_ctx *ctx, json_t *info, struct channel_result *res)
{
    json_t *acct;
    const char *id;
    channel_result_clear(res);
    if(!(acct = get_api(ctx, "/api/v1/accounts/verify_credentials", N_("check the access token"), res)))
        return SAM_OK;
    id = json_string_value(json_object_get(acct, "id"));
    if(!json_is_object(acct)) {
        channel_result_set(res, CHANNEL_FAIL, "The instance's answer is not an account.");
    } else {
        const char *name = json_string_value(json_object_get(acct, "acct"));
        if(id && *id && strlen(id) <= 64)
            json_object_set_new(info, "account_id", json_string(id));
        if(name && utf8_count(name, strlen(name)) >= 0)
            json_object_set_new(info, "acct", json_string(name));
        name = json_string_value(json_object_get(acct, "display_name"));
        if(name && utf8_count(name, strlen(name)) >= 0)
            json_object_set_new(info, "display_name", json_string(name));
        channel_result_set(res, CHANNEL_OK, "The instance accepted the access token.");
    }
    json_decref(acct);
    return SAM_OK;
}

/* Mastodon ids are decimal strings that grow: compare by length, then by text. */
static int id_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

static int id_ok(const char *id)
{
    if(!id || !*id || strlen(id) > 40)
        return 0;
    for(const char *p = id; *p; p++)
        if(!isalnum((unsigned char)*p))
            return 0;
    return 1;
}

#define INBOUND_TEXT_MAX 20000
#define MENTION_PAGES_MAX 5

/* Delivers one status as a message. */
static int deliver_status(const struct channel_ctx *ctx, json_t *status, json_t *fallback_account, const char *kind,
                          const char *thread, channel_message_fn fn, void *arg)
{
    /* The status's author; else the notification's account (or a conversation's first
     * participant), which is the same person. */
    json_t *account = json_is_object(json_object_get(status, "account")) ? json_object_get(status, "account")
                                                                          : fallback_account;
    const char *self = json_string_value(json_object_get(ctx->settings, "account_id"));
    const char *content = json_string_value(json_object_get(status, "content"));
    const char *when = json_string_value(json_object_get(status, "created_at"));
    const char *reply_to = json_string_value(json_object_get(status, "in_reply_to_id"));
    const char *reply_acct = json_string_value(json_object_get(status, "in_reply_to_account_id"));
    struct channel_message m;
    char *text = NULL;
    int rc;
    memset(&m, 0, sizeof(m));
    m.remote_id = json_string_value(json_object_get(status, "id"));
    m.author_id = json_string_value(json_object_get(account, "id"));
    if(!id_ok(m.remote_id) || !m.author_id || !*m.author_id || (self && !strcmp(self, m.author_id)))
        return SAM_OK;                  /* not a message, or our own */
    if(!strcmp(kind, "mention") && reply_to && (!self || !reply_acct || !strcmp(reply_acct, self)))
        kind = "reply";
    rc = text_from_html(content ? content : "", content ? strlen(content) : 0, INBOUND_TEXT_MAX, &text);
    if(rc == SAM_ETOOBIG)
        return SAM_OK;
    if(rc)
        return rc;
    m.kind = kind;
    m.remote_url = json_string_value(json_object_get(status, "url"));
    if(m.remote_url && strncmp(m.remote_url, "https://", 8) && strncmp(m.remote_url, "http://", 7))
        m.remote_url = NULL;
    m.parent_id = reply_to;
    m.thread_id = thread;
    m.author_handle = json_string_value(json_object_get(account, "acct"));
    m.author_name = json_string_value(json_object_get(account, "display_name"));
    m.text = text;
    if(!when || time_parse_rfc3339(when, &m.created_at))
        m.created_at = time_now();
    rc = fn(&m, arg);
    free(text);
    return rc;
}

static int masto_fetch_inbound(const struct channel_ctx *ctx, const char *cursor, channel_message_fn fn, void *arg,
                               char *next, size_t next_n, struct channel_result *res)
{
    json_t *convs = NULL, *pages[MENTION_PAGES_MAX] = {0};
    char path[256], newest[48] = "";
    int npages = 0, rc = SAM_OK, failed = 0;
    size_t i;
    json_t *c;

    channel_result_clear(res);
    if(next_n)
        snprintf(next, next_n, "%s", cursor ? cursor : "");
    if(cursor && *cursor && !id_ok(cursor))
        cursor = "";
    /* Direct conversations first, so a direct message is stored with its thread. */
    if(!(convs = get_api(ctx, "/api/v1/conversations?limit=20", N_("read the direct conversations"), res)))
        return SAM_OK;
    for(i = json_array_size(convs); i-- > 0 && !rc;) {
        c = json_array_get(convs, i);
        json_t *last = json_object_get(c, "last_status");
        const char *cid = json_string_value(json_object_get(c, "id"));
        if(json_is_object(last) && id_ok(cid))
            rc = deliver_status(ctx, last, json_array_get(json_object_get(c, "accounts"), 0), "direct", cid, fn,
                                arg);
    }
    /* Mentions and quotes, oldest page first from the cursor (min_id pages forward). */
    snprintf(newest, sizeof(newest), "%s", cursor ? cursor : "");
    while(!rc && !failed && npages < MENTION_PAGES_MAX) {
        json_t *list;
        snprintf(path, sizeof(path), "/api/v1/notifications?types[]=mention&types[]=quote&limit=40%s%s",
                 newest[0] ? "&min_id=" : "", newest);
        if(!(list = get_api(ctx, path, N_("read the mentions"), res))) {
            failed = 1;
            break;
        }
        pages[npages++] = list;
        if(!json_is_array(list) || !json_array_size(list))
            break;
        /* An answer is newest first; deliver it backwards. */
        for(i = json_array_size(list); i-- > 0 && !rc;) {
            json_t *n = json_array_get(list, i), *st = json_object_get(n, "status");
            const char *nid = json_string_value(json_object_get(n, "id"));
            const char *type = json_string_value(json_object_get(n, "type"));
            if(!id_ok(nid))
                continue;
            if(json_is_object(st) && type && (!strcmp(type, "mention") || !strcmp(type, "quote"))) {
                const char *vis = json_string_value(json_object_get(st, "visibility"));
                rc = deliver_status(ctx, st, json_object_get(n, "account"), vis && !strcmp(vis, "direct") ? "direct" :
                                    !strcmp(type, "quote") ? "quote" : "mention", NULL, fn, arg);
            }
            if(!rc && id_cmp(nid, newest) > 0)
                snprintf(newest, sizeof(newest), "%s", nid);
        }
        if(!cursor || !*cursor)
            break;                      /* the first time: the newest page only */
        if(json_array_size(list) < 40)
            break;
    }
    if(failed) {
        /* res says why; what was read is kept, and the cursor moves past it */
    } else if(!rc) {
        channel_result_set(res, CHANNEL_OK, "Read the mentions and direct conversations.");
    }
    if(next_n && newest[0])
        snprintf(next, next_n, "%s", newest);
    for(int p = 0; p < npages; p++)
        json_decref(pages[p]);
    json_decref(convs);
    return rc;
}

static int masto_fetch_counts(const struct channel_ctx *ctx, const char *remote_id, struct channel_counts *out,
                              struct channel_result *res)
{
    char path[128];
    json_t *st;
    channel_result_clear(res);
    out->likes = out->reposts = out->replies = out->quotes = -1;
    if(!id_ok(remote_id)) {
        channel_result_set(res, CHANNEL_FAIL, "This is not a Mastodon status id.");
        return SAM_OK;
    }
    snprintf(path, sizeof(path), "/api/v1/statuses/%s", remote_id);
    if(!(st = get_api(ctx, path, "read the post's counts", res)))
        return SAM_OK;
    out->likes = channel_count(st, "favourites_count");
    out->reposts = channel_count(st, "reblogs_count");
    out->replies = channel_count(st, "replies_count");
    out->quotes = channel_count(st, "quotes_count");
    channel_result_set(res, CHANNEL_OK, "Counted.");
    json_decref(st);
    return SAM_OK;
}

const struct channel_ops channel_mastodon_ops = {
    .kind = "mastodon",
    .can_publish = 1,
    .can_delete = 1,
    .publish = masto_publish,
    .remove = masto_remove,
    .verify = masto_verify_op,
    .fetch_inbound = masto_fetch_inbound,
    .fetch_counts = masto_fetch_counts,
};

/* ---- connecting an account (OAuth) ---- */

static int json_call(const char *method, const char *instance, const char *path, const char *token, json_t *body,
                     json_t **out)
{
    char url[MASTO_URL_MAX], why[PEER_REASON_MAX + 8];
    char *doc = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct http_resp resp;
    int rc = api_url(instance, path, url, sizeof(url));
    *out = NULL;
    if(rc || (body && !doc)) {
        free(doc);
        return rc ? rc : SAM_ENOMEM;
    }
    http_resp_init(&resp);
    rc = call(method, url, token, doc, NULL, 15000, &resp);
    free(doc);
    if(!rc && (resp.status < 200 || resp.status >= 300)) {
        reason_of(url, &resp, why, sizeof(why));
        rc = sam_fail(resp.status == 401 || resp.status == 403 ? SAM_EAUTH : SAM_EINVAL,
                      "the instance answered %ld%s%s", resp.status, why[0] ? ": " : "", why);
    }
    if(!rc) {
        *out = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
        if(!*out)
            rc = sam_fail(SAM_EINVAL, "the instance's answer is not JSON");
    }
    http_resp_cleanup(&resp);
    return rc;
}

static int copy_field(json_t *j, const char *key, char *out, size_t n)
{
    json_t *v = json_object_get(j, key);
    if(json_is_string(v) && json_string_length(v) < n) {
        snprintf(out, n, "%s", json_string_value(v));
        return SAM_OK;
    }
    if(json_is_integer(v)) {
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
        return SAM_OK;
    }
    return sam_fail(SAM_EINVAL, "the instance's answer has no usable %s", key);
}

int masto_register_app(const char *instance, const char *redirect_uri, char *client_id, size_t n_id,
                       char *client_secret, size_t n_secret)
{
    json_t *body = json_pack("{s:s, s:[s], s:s}", "client_name", "samtale", "redirect_uris", redirect_uri, "scopes",
                             "read write");
    json_t *ans = NULL;
    int rc = json_call("POST", instance, "/api/v1/apps", NULL, body, &ans);
    if(!rc)
        rc = copy_field(ans, "client_id", client_id, n_id);
    if(!rc)
        rc = copy_field(ans, "client_secret", client_secret, n_secret);
    json_decref(body);
    json_decref(ans);
    return rc;
}

int masto_authorize_url(const char *instance, const char *client_id, const char *redirect_uri, char *out, size_t n)
{
    char base[MASTO_URL_MAX], id[800], redirect[1600];
    int rc = api_url(instance, "/oauth/authorize?response_type=code&scope=read+write&client_id=", base, sizeof(base));
    if(rc)
        return rc;
    if(http_escape(client_id, id, sizeof(id)) || http_escape(redirect_uri, redirect, sizeof(redirect)) ||
       (size_t)snprintf(out, n, "%s%s&redirect_uri=%s", base, id, redirect) >= n)
        return sam_fail(SAM_EINVAL, "the authorize URL is too long");
    return SAM_OK;
}

int masto_exchange_code(const char *instance, const char *client_id, const char *client_secret,
                        const char *redirect_uri, const char *code, char *token, size_t n)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "grant_type", "authorization_code", "code", code,
                             "client_id", client_id, "client_secret", client_secret, "redirect_uri", redirect_uri,
                             "scope", "read write");
    json_t *ans = NULL;
    int rc = json_call("POST", instance, "/oauth/token", NULL, body, &ans);
    if(!rc)
        rc = copy_field(ans, "access_token", token, n);
    json_decref(body);
    json_decref(ans);
    return rc;
}

int masto_verify(const char *instance, const char *token, json_t **account)
{
    int rc = json_call("GET", instance, "/api/v1/accounts/verify_credentials", token, NULL, account);
    if(!rc && !json_is_object(*account)) {
        json_decref(*account);
        *account = NULL;
        rc = sam_fail(SAM_EINVAL, "the instance's answer is not an account");
    }
    return rc;
}

int masto_mentions(const char *instance, const char *token, const char *since_id, json_t **list)
{
    char path[256];
    for(const char *p = since_id ? since_id : ""; *p; p++)
        if(!isalnum((unsigned char)*p))
            return sam_fail(SAM_EINVAL, "since_id must be a status id");
    snprintf(path, sizeof(path), "/api/v1/notifications?types[]=mention&limit=40%s%s",
             since_id && *since_id ? "&since_id=" : "", since_id && *since_id ? since_id : "");
    int rc = json_call("GET", instance, path, token, NULL, list);
    if(!rc && !json_is_array(*list)) {
        json_decref(*list);
        *list = NULL;
        rc = sam_fail(SAM_EINVAL, "the instance's answer is not a list");
    }
    return rc;
}

/* ---- server-sent events ---- */

void sse_init(struct sse *p)
{
    memset(p, 0, sizeof(*p));
    buf_init(&p->line, SSE_EVENT_MAX);
    buf_init(&p->data, SSE_EVENT_MAX);
}

void sse_cleanup(struct sse *p)
{
    buf_cleanup(&p->line);
    buf_cleanup(&p->data);
}

/* Handles one complete line (without its end). */
static int sse_line(struct sse *p, sse_fn fn, void *arg)
{
    const char *l = buf_str(&p->line), *colon, *value;
    size_t n = p->line.len, flen;
    if(n == 0) { /* a blank line ends the event */
        if(p->oversized)
            p->dropped++;
        else if(p->data.len || p->event[0]) {
            p->events++;
            fn(p->event[0] ? p->event : "message", buf_str(&p->data), p->data.len, arg);
        }
        buf_reset(&p->data);
        p->event[0] = '\0';
        p->oversized = 0;
        return SAM_OK;
    }
    if(l[0] == ':') {
        p->heartbeats++;
        return SAM_OK;
    }
    colon = memchr(l, ':', n);
    flen = colon ? (size_t)(colon - l) : n;
    value = colon ? colon + 1 : "";
    if(*value == ' ')
        value++;
    if(flen == 5 && !memcmp(l, "event", 5)) {
        snprintf(p->event, sizeof(p->event), "%s", value);
    } else if(flen == 4 && !memcmp(l, "data", 4) && !p->oversized) {
        if((p->data.len && buf_append(&p->data, "\n", 1)) || buf_puts(&p->data, value)) {
            p->oversized = 1;
            buf_reset(&p->data);
        }
    }
    return SAM_OK; /* id:, retry: and unknown fields are ignored */
}

int sse_feed(struct sse *p, const char *bytes, size_t n, sse_fn fn, void *arg)
{
    for(size_t i = 0; i < n; i++) {
        char ch = bytes[i];
        if(ch == '\n' && p->cr) { /* the LF of a CRLF: the line already ended */
            p->cr = 0;
            continue;
        }
        p->cr = ch == '\r';
        if(ch == '\r' || ch == '\n') {
            sse_line(p, fn, arg);
            buf_reset(&p->line);
            continue;
        }
        if(buf_append(&p->line, &ch, 1)) {
            /* A line past the limit: the event it belongs to is dropped. */
            p->oversized = 1;
            buf_reset(&p->line);
        }
    }
    return SAM_OK;
}
