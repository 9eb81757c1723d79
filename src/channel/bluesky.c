/*
 * bluesky.c: the Bluesky connector (CH1). It publishes a post as an app.bsky.feed.post
 * record in the account's repository on its PDS and deletes it again (P4), over XRPC
 * with the small HTTP client (channel/http.h).
 *
 * Settings: {"handle": "alice.bsky.social", "service_url": "https://bsky.social",
 * "langs": ["nb", "en"]}; handle is required (a leading "@" is ignored; an email or a DID
 * works too, as in the app's login), service_url defaults to https://bsky.social (the
 * entryway, which forwards to the account's PDS) and langs (at most 3 BCP-47 tags) is
 * optional. The channel's secret is an app password (Settings > App passwords).
 *
 * Sessions. com.atproto.server.createSession gives an access token and a refresh token;
 * both are kept in memory only, in a small cache keyed by channel id plus a fingerprint
 * of the service, the handle and the secret (so a changed password or handle is a new
 * login), guarded by one mutex and bounded to SESSION_CACHE_MAX entries (the least
 * recently used one goes). A call answered ExpiredToken or InvalidToken (or 401) is
 * repeated once after com.atproto.server.refreshSession, or after a new createSession when
 * the refresh is refused. createSession answered AuthenticationRequired is a permanent
 * failure: the app password was revoked or mistyped, and people must reconnect the channel.
 *
 * Publishing. The record is {"$type":"app.bsky.feed.post","text","createdAt",
 * "facets"?,"langs"?}; the post's link is appended to the text when the text does not
 * already contain it. Facets come from bsky_facets_find (links, #tags, @mentions);
 * mentions are resolved to DIDs with com.atproto.identity.resolveHandle and left as plain
 * text when the handle does not resolve. The record key is bsky_tid_make(planned_at,
 * idempotency key) (see bluesky.h), so every attempt for one occurrence asks for the same
 * key. When createRecord does not answer 2xx (the reference PDS answers 500 for a key that
 * is taken; others say 400 or 409), com.atproto.repo.getRecord looks for the key: a record
 * there is this occurrence's, published by an earlier attempt whose answer was lost, and
 * counts as published with the same URI. remote_id is the at:// URI; remote_url is
 * https://bsky.app/profile/HANDLE/post/RKEY.
 *
 * Outcomes: 2xx (or the record found) is CHANNEL_OK; timeouts, unreachable servers, 5xx
 * and 429 are CHANNEL_RETRY (429 with the wait the server named in Retry-After or
 * RateLimit-Reset, when http.c hands it over); 400 InvalidRecord and other 4xx answers are
 * CHANNEL_FAIL quoting the XRPC error name and message of the answer (short and cleaned,
 * channel/peer.h; never the text of a body that is not XRPC's JSON error); a service_url
 * the outbound address policy refuses is CHANNEL_FAIL; an app password the server refuses is
 * CHANNEL_FAIL asking people to reconnect the channel. Deleting (com.atproto.repo.
 * deleteRecord) a record that is already gone is CHANNEL_OK.
 *
 * Images (P16): each of at most IMAGES_MAX images becomes a version of at most
 * IMAGE_BYTES_MAX bytes (core/image.h image_fit: JPEG or PNG; an animated GIF becomes its
 * first frame, as Bluesky shows no GIF in an image embed), is uploaded with
 * com.atproto.repo.uploadBlob, and the first post's record gets an app.bsky.embed.images
 * embed with each blob, its alt text and its aspectRatio (the version's width and
 * height). A post has one embed: with images, the link card goes on the last post of a
 * thread, and a single post keeps its link in the text. A retry uploads again (the PDS
 * keeps one blob per content and drops blobs no record uses); the record key keeps the
 * post itself single (images_embed).
 *
 * Limits: answers are read up to ANSWER_MAX bytes; tokens and DIDs longer than their
 * fields are refused; a post's text is at most 300 graphemes and 3000 bytes (Bluesky's
 * own limits, checked here so the message can say so); at most FACETS_MAX facets.
 */
#include "channel/bluesky.h"
#include "channel/discover.h"
#include "channel/linkcard.h"
#include "channel/channel.h"
#include "channel/http.h"
#include "channel/peer.h"
#include "core/image.h"
#include "text/normalise.h"
#include "text/thread.h"
#include "util/err.h"
#include "util/i18n.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <sodium.h>
#include <utf8proc.h>

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SAMTALE_VERSION
#define SAMTALE_VERSION "0"
#endif

#define SERVICE_DEFAULT "https://bsky.social"
#define SERVICE_MAX 512          /* bytes of service_url */
#define HANDLE_MAX 256           /* bytes of a handle, email or DID used to log in */
#define DID_MAX 256
#define JWT_MAX 4096
#define ANSWER_MAX (256 * 1024)  /* bytes of an XRPC answer we read */
#define REASON_MAX PEER_REASON_MAX /* bytes of the server's message quoted in ours */
#define NO_REASON "no reason given" /* when an answer is not XRPC's error shape */
#define TEXT_GRAPHEMES_MAX 300
#define TEXT_BYTES_MAX 3000
#define FACETS_MAX 64
#define LANGS_MAX 3
#define KEY_MAX 80
#define SESSION_CACHE_MAX 256
#define POST_COLLECTION "app.bsky.feed.post"
#define IMAGES_MAX 4                /* app.bsky.embed.images */
#define IMAGE_BYTES_MAX 1000000     /* the lexicon's maxSize of an image blob */

static const char tid_alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";

/* ---------- messages ---------- */

/* Copies at most max bytes of s into out (size n) as text fit for a message (peer.h). */
static void clean_text(const char *s, size_t max, char *out, size_t n)
{
    peer_text(s, strlen(s), max, out, n);
}

/* ---------- facets ---------- */

/* JavaScript's \s, which Bluesky's detectFacets uses. */
static int is_space(int32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

/* Characters that end a tag besides spaces: soft hyphen, word joiner, zero-width space,
 * non-joiner and joiner, hair space, enclosing keycap. */
static int ends_tag(int32_t cp)
{
    return is_space(cp) || cp == 0xad || cp == 0x2060 || cp == 0x200a || cp == 0x200b ||
           cp == 0x200c || cp == 0x200d || cp == 0x20e2;
}

static int is_punct(int32_t cp)
{
    switch(utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return 1;
    default:
        return 0;
    }
}

/* Decodes the code point at s[i] (valid UTF-8 is assumed, checked once up front) and
 * returns its length in bytes. */
static size_t cp_at(const char *s, size_t len, size_t i, int32_t *cp)
{
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
    if(k <= 0) {
        *cp = (unsigned char)s[i];
        return 1;
    }
    *cp = c;
    return (size_t)k;
}

/* The start of the code point that ends just before s[i] (i > 0). */
static size_t cp_before(const char *s, size_t i)
{
    size_t j = i - 1;
    while(j > 0 && ((unsigned char)s[j] & 0xc0) == 0x80)
        j--;
    return j;
}

static int ascii_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A handle: a domain name of two or more labels of letters, digits and inner hyphens,
 * each 1..63 bytes, at most 253 bytes, the last label starting with a letter. */
static int handle_valid(const char *h, size_t n)
{
    size_t label = 0, labels = 0, last_start = 0;
    if(n == 0 || n > 253)
        return 0;
    for(size_t i = 0; i <= n; i++) {
        if(i == n || h[i] == '.') {
            if(label == 0 || label > 63 || h[i - 1] == '-' || h[i - label] == '-')
                return 0;
            labels++;
            last_start = i - label;
            label = 0;
        } else if(ascii_alnum((unsigned char)h[i]) || h[i] == '-') {
            label++;
        } else {
            return 0;
        }
    }
    return labels >= 2 && isalpha((unsigned char)h[last_start]);
}

static int prefix_nocase(const char *s, size_t len, size_t i, const char *p)
{
    size_t n = strlen(p);
    return len - i >= n && !strncasecmp(s + i, p, n);
}

/* A link at s[i]: "http://" or "https://" and the non-space characters after it, less
 * one trailing . , ; ! or ? and then one ")" when the link has no "(". */
static int link_at(const char *s, size_t len, size_t i, struct bsky_facet *f)
{
    size_t scheme, end;
    int32_t cp;
    if(prefix_nocase(s, len, i, "https://"))
        scheme = 8;
    else if(prefix_nocase(s, len, i, "http://"))
        scheme = 7;
    else
        return 0;
    end = i + scheme;
    while(end < len) {
        size_t k = cp_at(s, len, end, &cp);
        if(is_space(cp))
            break;
        end += k;
    }
    if(end > i + scheme && strchr(".,;!?", s[end - 1]))
        end--;
    if(end > i + scheme && s[end - 1] == ')' && !memchr(s + i, '(', end - i))
        end--;
    if(end == i + scheme)
        return 0;
    *f = (struct bsky_facet){BSKY_FACET_LINK, i, end, i, end};
    return 1;
}

/* A mention at s[i]: "@" and a handle, trailing dots and hyphens not part of it. */
static int mention_at(const char *s, size_t len, size_t i, struct bsky_facet *f)
{
    size_t end = i + 1;
    if(s[i] != '@')
        return 0;
    while(end < len && (ascii_alnum((unsigned char)s[end]) || s[end] == '.' || s[end] == '-'))
        end++;
    while(end > i + 1 && (s[end - 1] == '.' || s[end - 1] == '-'))
        end--;
    if(end < len && s[end] == '_')
        return 0;
    if(!handle_valid(s + i + 1, end - i - 1))
        return 0;
    *f = (struct bsky_facet){BSKY_FACET_MENTION, i, end, i + 1, end};
    return 1;
}

/* A tag at s[i]: "#" or "＃", not followed by U+FE0F (a keycap emoji), then a run of
 * characters up to a space or one of ends_tag's, holding at least one that is not a digit
 * or punctuation; trailing punctuation is dropped; 1..64 UTF-16 units long. */
static int tag_at(const char *s, size_t len, size_t i, struct bsky_facet *f)
{
    size_t h, end, units = 0;
    int32_t cp;
    int word = 0;
    if(s[i] == '#')
        h = 1;
    else if(prefix_nocase(s, len, i, "\xef\xbc\x83"))
        h = 3;
    else
        return 0;
    if(prefix_nocase(s, len, i + h, "\xef\xb8\x8f"))
        return 0;
    end = i + h;
    while(end < len) {
        size_t k = cp_at(s, len, end, &cp);
        if(ends_tag(cp))
            break;
        if(!(cp >= '0' && cp <= '9') && !is_punct(cp))
            word = 1;
        end += k;
    }
    if(!word)
        return 0;
    while(end > i + h) {
        size_t j = cp_before(s, end);
        cp_at(s, len, j, &cp);
        if(!is_punct(cp))
            break;
        end = j;
    }
    for(size_t j = i + h; j < end;) {
        j += cp_at(s, len, j, &cp);
        units += cp >= 0x10000 ? 2 : 1;
    }
    if(units == 0 || units > BSKY_TAG_MAX_CHARS)
        return 0;
    *f = (struct bsky_facet){BSKY_FACET_TAG, i, end, i + h, end};
    return 1;
}

int bsky_facets_find(const char *text, size_t len, struct bsky_facet *out, size_t max, size_t *n)
{
    size_t i = 0;
    *n = 0;
    if(!text || utf8_count(text, len) < 0)
        return SAM_EINVAL;
    while(i < len && *n < max) {
        struct bsky_facet f;
        int32_t prev = -1, cp;
        int spaced, found = 0;
        if(i > 0)
            cp_at(text, len, cp_before(text, i), &prev);
        spaced = prev < 0 || is_space(prev);
        if(spaced || prev == '(')
            found = link_at(text, len, i, &f) || mention_at(text, len, i, &f);
        if(!found && spaced)
            found = tag_at(text, len, i, &f);
        if(found) {
            out[(*n)++] = f;
            i = f.byte_end;
            continue;
        }
        i += cp_at(text, len, i, &cp);
    }
    return SAM_OK;
}

/* ---------- record keys ---------- */

int bsky_tid_make(int64_t planned_at, const char *key, char *out)
{
    unsigned char h[16];
    uint64_t a = 0, b = 0, micros, v;
    out[0] = '\0';
    if(!key || !*key)
        return sam_fail(SAM_EINVAL, "a record key needs an idempotency key");
    if(planned_at < 0 || planned_at >= (int64_t)((UINT64_C(1) << 53) / 1000000))
        return sam_fail(SAM_EINVAL, "the planned time is outside what a record key can hold");
    if(sodium_init() < 0)
        return sam_fail(SAM_EINTERNAL, "the crypto library could not start");
    crypto_generichash(h, sizeof(h), (const unsigned char *)key, strlen(key), NULL, 0);
    for(int i = 0; i < 8; i++) {
        a = (a << 8) | h[i];
        b = (b << 8) | h[8 + i];
    }
    micros = (uint64_t)planned_at * 1000000u + a % 1000000u;
    v = (micros << 10) | (b & 0x3ff);
    for(int i = BSKY_TID_LEN - 1; i >= 0; i--) {
        out[i] = tid_alphabet[v & 31];
        v >>= 5;
    }
    out[BSKY_TID_LEN] = '\0';
    return SAM_OK;
}

/* The number a TID encodes, or -1 when s is not one. */
static int64_t tid_value(const char *s)
{
    uint64_t v = 0;
    if(!s || strlen(s) != BSKY_TID_LEN || !strchr("234567abcdefghij", s[0]) || !s[0])
        return -1;
    for(int i = 0; i < BSKY_TID_LEN; i++) {
        const char *p = s[i] ? strchr(tid_alphabet, s[i]) : NULL;
        if(!p)
            return -1;
        v = (v << 5) | (uint64_t)(p - tid_alphabet);
    }
    return (int64_t)v;
}

int bsky_tid_valid(const char *s)
{
    return tid_value(s) >= 0;
}

int bsky_tid_clock_id(const char *s)
{
    int64_t v = tid_value(s);
    return v < 0 ? -1 : (int)(v & 0x3ff);
}

int64_t bsky_tid_micros(const char *s)
{
    int64_t v = tid_value(s);
    return v < 0 ? -1 : v >> 10;
}

/* ---------- the connection: settings, sessions ---------- */

struct conn {
    int64_t channel_id;
    char service[SERVICE_MAX];       /* without a trailing "/" */
    char handle[HANDLE_MAX];         /* as typed, less a leading "@" */
    const char *secret;              /* the app password (borrowed from ctx) */
    size_t secret_len;
    long timeout_ms;
    unsigned char fp[16];            /* fingerprint of service, handle and secret */
};

struct session {
    char did[DID_MAX];
    char handle[HANDLE_MAX];         /* the account's handle as the server says it */
    char access[JWT_MAX];
    char refresh[JWT_MAX];
};

struct cache_entry {
    int64_t channel_id;
    unsigned char fp[16];
    uint64_t used;                   /* a tick: larger is more recent */
    struct session s;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry *cache[SESSION_CACHE_MAX];
static uint64_t cache_tick;

static struct cache_entry **cache_find(const struct conn *cn)
{
    for(size_t i = 0; i < SESSION_CACHE_MAX; i++)
        if(cache[i] && cache[i]->channel_id == cn->channel_id)
            return &cache[i];
    return NULL;
}

/* Copies the cached session of this channel into s. 1 when there was one. */
static int cache_get(const struct conn *cn, struct session *s)
{
    struct cache_entry **e;
    int found = 0;
    pthread_mutex_lock(&cache_mu);
    e = cache_find(cn);
    if(e && !sodium_memcmp((*e)->fp, cn->fp, sizeof(cn->fp))) {
        *s = (*e)->s;
        (*e)->used = ++cache_tick;
        found = 1;
    }
    pthread_mutex_unlock(&cache_mu);
    return found;
}

/* Stores s as this channel's session; an old one goes, and when the cache is full the
 * least recently used entry makes room. Out of memory only means no caching. */
static void cache_put(const struct conn *cn, const struct session *s)
{
    struct cache_entry **e, **slot = NULL;
    pthread_mutex_lock(&cache_mu);
    e = cache_find(cn);
    if(!e) {
        for(size_t i = 0; i < SESSION_CACHE_MAX; i++) {
            if(!cache[i]) {
                slot = &cache[i];
                break;
            }
            if(!slot || cache[i]->used < (*slot)->used)
                slot = &cache[i];
        }
        if(!*slot)
            *slot = malloc(sizeof(**slot));
        e = *slot ? slot : NULL;
    }
    if(e) {
        (*e)->channel_id = cn->channel_id;
        memcpy((*e)->fp, cn->fp, sizeof(cn->fp));
        (*e)->s = *s;
        (*e)->used = ++cache_tick;
    }
    pthread_mutex_unlock(&cache_mu);
}

static void cache_forget(const struct conn *cn)
{
    struct cache_entry **e;
    pthread_mutex_lock(&cache_mu);
    e = cache_find(cn);
    if(e) {
        sodium_memzero(*e, sizeof(**e));
        free(*e);
        *e = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
}

void bsky_sessions_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    for(size_t i = 0; i < SESSION_CACHE_MAX; i++) {
        if(cache[i]) {
            sodium_memzero(cache[i], sizeof(*cache[i]));
            free(cache[i]);
            cache[i] = NULL;
        }
    }
    pthread_mutex_unlock(&cache_mu);
}

/* Reads the channel's settings and secret into cn, or fills res with what to fix and
 * returns 0. */
static int conn_from(const struct channel_ctx *ctx, struct conn *cn, struct channel_result *res)
{
    const char *handle = ctx->settings ? json_string_value(json_object_get(ctx->settings, "handle")) : NULL;
    json_t *sv = ctx->settings ? json_object_get(ctx->settings, "service_url") : NULL;
    const char *service = sv ? json_string_value(sv) : SERVICE_DEFAULT;
    size_t n;
    crypto_generichash_state st;

    memset(cn, 0, sizeof(*cn));
    if(handle && handle[0] == '@')
        handle++;
    if(!handle || !*handle || strlen(handle) >= sizeof(cn->handle) || utf8_has_control(handle) ||
       strpbrk(handle, " \"\\")) {
        channel_result_set(res, CHANNEL_FAIL, "This Bluesky channel has no valid handle. Set the channel's "
                                   "handle (e.g. alice.bsky.social) and publish again.");
        return 0;
    }
    if(!service || (strncmp(service, "https://", 8) && strncmp(service, "http://", 7)) ||
       strlen(service) >= sizeof(cn->service) || strpbrk(service, " \t\r\n?#\"\\<>") ||
       utf8_has_control(service)) {
        channel_result_set(res, CHANNEL_FAIL, "This Bluesky channel's service_url is not an http:// or "
                                   "https:// address. Fix it (or remove it to use %s) and publish again.",
                                   SERVICE_DEFAULT);
        return 0;
    }
    if(!ctx->secret || !ctx->secret_len) {
        channel_result_set(res, CHANNEL_FAIL, "This Bluesky channel has no app password. Create one in "
                                   "Bluesky (Settings, App passwords), reconnect the channel "
                                   "with it and publish again.");
        return 0;
    }
    snprintf(cn->handle, sizeof(cn->handle), "%s", handle);
    snprintf(cn->service, sizeof(cn->service), "%s", service);
    n = strlen(cn->service);
    while(n > 0 && cn->service[n - 1] == '/')
        cn->service[--n] = '\0';
    cn->channel_id = ctx->channel ? ctx->channel->id : 0;
    cn->secret = ctx->secret;
    cn->secret_len = ctx->secret_len;
    cn->timeout_ms = ctx->timeout_ms;
    if(sodium_init() < 0) {
        channel_result_set(res, CHANNEL_RETRY, "samtale's crypto library could not start; it will try again.");
        return 0;
    }
    crypto_generichash_init(&st, NULL, 0, sizeof(cn->fp));
    crypto_generichash_update(&st, (const unsigned char *)cn->service, strlen(cn->service) + 1);
    crypto_generichash_update(&st, (const unsigned char *)cn->handle, strlen(cn->handle) + 1);
    crypto_generichash_update(&st, (const unsigned char *)cn->secret, cn->secret_len);
    crypto_generichash_final(&st, cn->fp, sizeof(cn->fp));
    return 1;
}

/* ---------- XRPC ---------- */

/* One XRPC call: GET when body is NULL, else POST of JSON. token may be NULL. Returns
 * what http_request returned, or SAM_ETOOBIG for a URL that does not fit. */
static int xrpc_raw(const struct conn *cn, const char *nsid, const char *query, const char *body, size_t body_len,
                    const char *content_type, const char *token, struct http_resp *resp);

static int xrpc(const struct conn *cn, const char *nsid, const char *query, const char *body,
                const char *token, struct http_resp *resp)
{
    return xrpc_raw(cn, nsid, query, body, body ? strlen(body) : 0, "application/json", token, resp);
}

/* xrpc with a body of any type (an image for uploadBlob). */
static int xrpc_raw(const struct conn *cn, const char *nsid, const char *query, const char *body, size_t body_len,
                    const char *content_type, const char *token, struct http_resp *resp)
{
    char url[SERVICE_MAX + 1024], auth[JWT_MAX + 32], ctype[96];
    const char *headers[6];
    size_t nh = 0;
    struct http_req req;
    int rc, w = snprintf(url, sizeof(url), "%s/xrpc/%s%s%s", cn->service, nsid, query ? "?" : "",
                         query ? query : "");
    if(w < 0 || (size_t)w >= sizeof(url))
        return sam_fail(SAM_ETOOBIG, "the XRPC address is too long");
    headers[nh++] = "Accept: application/json";
    headers[nh++] = "User-Agent: samtale/" SAMTALE_VERSION;
    if(body) {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
        headers[nh++] = ctype;
    }
    if(token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        headers[nh++] = auth;
    }
    headers[nh] = NULL;
    memset(&req, 0, sizeof(req));
    req.method = body ? "POST" : "GET";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = body ? body_len : 0;
    req.timeout_ms = cn->timeout_ms;
    req.max_body = ANSWER_MAX;
    rc = http_request(&req, resp);
    if(!rc && resp->status >= 400)
        peer_log_answer("bluesky", url, resp);
    return rc;
}

/* The parsed answer body (a new reference, or NULL when it is not JSON). */
static json_t *answer_json(const struct http_resp *resp)
{
    if(!resp->body.data || !resp->body.len || resp->truncated)
        return NULL;
    return json_loadb(resp->body.data, resp->body.len, 0, NULL);
}

/* The XRPC error name ("ExpiredToken") and message of an answer, cleaned, "" when none. */
static void xrpc_error(const struct http_resp *resp, char *name, size_t nn, char *msg, size_t mn)
{
    json_t *j = answer_json(resp);
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *m = json_string_value(json_object_get(j, "message"));
    clean_text(e ? e : "", 60, name, nn);
    clean_text(m ? m : "", REASON_MAX, msg, mn);
    json_decref(j);
}

/* 1 when the answer says the access token is no good (expired, revoked, unknown). */
static int token_refused(const struct http_resp *resp)
{
    char name[80], msg[REASON_MAX + 8];
    if(resp->status != 400 && resp->status != 401)
        return 0;
    xrpc_error(resp, name, sizeof(name), msg, sizeof(msg));
    return !strcmp(name, "ExpiredToken") || !strcmp(name, "InvalidToken") ||
           (resp->status == 401 && strcmp(name, "AuthMissing") != 0);
}

/* Copies the string member key of j into out (size n); 0 when absent, empty or too long. */
static int take_string(json_t *j, const char *key, char *out, size_t n)
{
    const char *v = json_string_value(json_object_get(j, key));
    if(!v || !*v || strlen(v) >= n || utf8_has_control(v))
        return 0;
    memcpy(out, v, strlen(v) + 1);
    return 1;
}

/* Reads a session answer (createSession, refreshSession) into s. 1 when complete. */
static int session_from(const struct http_resp *resp, const struct conn *cn, struct session *s)
{
    json_t *j = answer_json(resp);
    int ok = take_string(j, "accessJwt", s->access, sizeof(s->access)) &&
             take_string(j, "refreshJwt", s->refresh, sizeof(s->refresh)) &&
             take_string(j, "did", s->did, sizeof(s->did)) && !strncmp(s->did, "did:", 4) &&
             !strpbrk(s->did, "/?#&% ");
    if(ok && !take_string(j, "handle", s->handle, sizeof(s->handle)))
        snprintf(s->handle, sizeof(s->handle), "%s", cn->handle);
    json_decref(j);
    return ok;
}

/* Fills res for an answer that is not a success, the common cases: unreachable, timed
 * out, 429, 5xx. Returns 1 when it did, 0 when the caller must judge the answer. */
static int judge_transient(const struct conn *cn, int rc, const struct http_resp *resp, const char *what,
                           struct channel_result *res)
{
    char detail[160];
    long timeout = cn->timeout_ms > 0 ? cn->timeout_ms : HTTP_TIMEOUT_MS_DEFAULT;
    res->http_status = (int)resp->status;
    if(rc == SAM_EIO) {
        clean_text(resp->error, 150, detail, sizeof(detail));
        if(resp->timed_out)
            channel_result_set(res, CHANNEL_RETRY, "Bluesky (%s) did not answer %s within %.1f seconds; samtale "
                    "will try again.", cn->service, what, (double)timeout / 1000.0);
        else
            channel_result_set(res, CHANNEL_RETRY, "Could not reach Bluesky at %s for %s (%s); samtale will try "
                    "again.", cn->service, what, detail);
        return 1;
    }
    if(rc == SAM_EPERM) {
        res->address_refused = 1;
        channel_result_set(res, CHANNEL_FAIL, "samtale did not call Bluesky at %s for %s: %s. Set the channel's "
                "service_url to a Bluesky server on the internet (or remove it to use %s).",
                cn->service, what, resp->error, SERVICE_DEFAULT);
        return 1;
    }
    if(rc == SAM_EAUTH) {
        clean_text(resp->error, 150, detail, sizeof(detail));
        channel_result_set(res, CHANNEL_FAIL, "The Bluesky server %s has a TLS certificate samtale cannot verify "
                "(%s). Check the channel's service_url and publish again.", cn->service, detail);
        return 1;
    }
    if(rc == SAM_ENOMEM) {
        channel_result_set(res, CHANNEL_RETRY, "samtale ran out of memory calling Bluesky; it will try again.");
        return 1;
    }
    if(rc) {
        clean_text(resp->error[0] ? resp->error : sam_errmsg(rc), 150, detail, sizeof(detail));
        channel_result_set(res, CHANNEL_FAIL, "Could not call Bluesky at %s: %s. Check the channel's "
                "service_url and publish again.", cn->service, detail);
        return 1;
    }
    if(resp->status == 429) {
        (void)http_wait_hint(resp, time_now(), &res->retry_after);
        if(res->retry_after)
            channel_result_set(res, CHANNEL_RETRY, "Bluesky (%s) is rate limiting %s; samtale will try again in "
                    "%d seconds, as it asked.", cn->service, what, res->retry_after);
        else
            channel_result_set(res, CHANNEL_RETRY, "Bluesky (%s) is rate limiting %s; samtale will try again.",
                    cn->service, what);
        return 1;
    }
    if(resp->status >= 500 || resp->status == 408 || resp->status == 425 || resp->status < 200) {
        (void)http_wait_hint(resp, time_now(), &res->retry_after);
        channel_result_set(res, CHANNEL_RETRY, "Bluesky (%s) answered %ld to %s; samtale will try again.",
                cn->service, resp->status, what);
        return 1;
    }
    return 0;
}

/* Logs in with the app password. On success res->outcome is CHANNEL_OK and s is filled
 * and cached; otherwise res says why. Returns SAM_OK (the outcome is in res). */
static int login(const struct conn *cn, struct session *s, struct channel_result *res)
{
    json_t *j = NULL;
    char *body = NULL, name[80], msg[REASON_MAX + 8];
    struct http_resp resp;
    int rc;

    http_resp_init(&resp);
    j = json_pack("{s:s, s:s%}", "identifier", cn->handle, "password", cn->secret, cn->secret_len);
    if(!j || !(body = json_dumps(j, JSON_COMPACT))) {
        channel_result_set(res, CHANNEL_RETRY, "samtale ran out of memory logging in to Bluesky; it will try again.");
        goto out;
    }
    rc = xrpc(cn, "com.atproto.server.createSession", NULL, body, NULL, &resp);
    if(judge_transient(cn, rc, &resp, N_("the login"), res))
        goto out;
    if(resp.status >= 200 && resp.status < 300) {
        memset(s, 0, sizeof(*s));
        if(!session_from(&resp, cn, s)) {
            channel_result_set(res, CHANNEL_RETRY, "Bluesky (%s) accepted the login but its answer was not "
                    "understood; samtale will try again.", cn->service);
            goto out;
        }
        cache_put(cn, s);
        res->outcome = CHANNEL_OK;
        goto out;
    }
    xrpc_error(&resp, name, sizeof(name), msg, sizeof(msg));
    res->http_status = (int)resp.status;
    if(!strcmp(name, "AuthenticationRequired") || resp.status == 401) {
        channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) refused the app password for @%s (%ld: %s). Create a "
                "new app password in Bluesky (Settings, App passwords) and reconnect the channel with it; its "
                "queued posts wait until then.", cn->service, cn->handle, resp.status,
                msg[0] ? msg : name[0] ? name : NO_REASON);
        res->reconnect = 1;
    }
    else if(!strcmp(name, "AccountTakedown") || !strcmp(name, "AccountDeactivated") ||
            !strcmp(name, "AccountSuspended"))
        channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) says the account @%s cannot post (%s: %s). Sort "
                "it out with Bluesky, then publish again.", cn->service, cn->handle, name, msg);
    else
        channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) refused the login for @%s with %ld (%s%s%s). Check "
                "the channel's handle and app password, then publish again.", cn->service, cn->handle,
                resp.status, name, name[0] && msg[0] ? ": " : "",
                name[0] || msg[0] ? msg : NO_REASON);
out:
    if(body) {
        sodium_memzero(body, strlen(body));
        free(body);
    }
    json_decref(j);
    http_resp_cleanup(&resp);
    return SAM_OK;
}

/* Trades the refresh token for new tokens. 1 when s was renewed (and cached), 0 when the
 * server refused or could not be asked (the caller logs in again). */
static int refresh(const struct conn *cn, struct session *s)
{
    struct http_resp resp;
    struct session fresh;
    int ok = 0;
    http_resp_init(&resp);
    if(xrpc(cn, "com.atproto.server.refreshSession", NULL, "", s->refresh, &resp) == SAM_OK &&
       resp.status >= 200 && resp.status < 300) {
        memset(&fresh, 0, sizeof(fresh));
        if(session_from(&resp, cn, &fresh) && !strcmp(fresh.did, s->did)) {
            *s = fresh;
            cache_put(cn, s);
            ok = 1;
        }
        sodium_memzero(&fresh, sizeof(fresh));
    }
    http_resp_cleanup(&resp);
    return ok;
}

/* The channel's session: cached, or a new login. res->outcome is CHANNEL_OK when s is
 * ready; otherwise res says why. */
static int session_get(const struct conn *cn, struct session *s, struct channel_result *res)
{
    if(cache_get(cn, s)) {
        res->outcome = CHANNEL_OK;
        return SAM_OK;
    }
    return login(cn, s, res);
}

/* An authenticated call. When the server refuses the access token, it is refreshed (or,
 * failing that, a new login made) and the call made once more. Returns what http_request
 * returned for the last call (resp filled), or SAM_OK with res filled and resp->status 0
 * when no new session could be had (*gave_up set). */
static int authed(const struct conn *cn, struct session *s, const char *nsid, const char *query,
                  const char *body, struct http_resp *resp, struct channel_result *res, int *gave_up)
{
    int rc;
    *gave_up = 0;
    rc = xrpc(cn, nsid, query, body, s->access, resp);
    if(rc || !token_refused(resp))
        return rc;
    log_kv(LOG_DEBUG, "bluesky access token refused, renewing the session", "service", cn->service,
           "handle", cn->handle, NULL);
    if(!refresh(cn, s)) {
        login(cn, s, res);
        if(res->outcome != CHANNEL_OK) {
            if(res->outcome == CHANNEL_FAIL)
                cache_forget(cn);
            *gave_up = 1;
            return SAM_OK;
        }
    }
    res->outcome = CHANNEL_FAIL;
    return xrpc(cn, nsid, query, body, s->access, resp);
}

/* Looks for the record at rkey in the account's posts. *found is 1 when it is there (uri
 * filled), 0 when the server says it is not, -1 when that could not be learnt. */
static void record_lookup(const struct conn *cn, const char *did, const char *rkey, char *uri, size_t un,
                          char *cid, size_t cn_len, int *found)
{
    char query[DID_MAX + 128], name[80], msg[REASON_MAX + 8];
    struct http_resp resp;
    json_t *j;
    *found = -1;
    http_resp_init(&resp);
    snprintf(query, sizeof(query), "repo=%s&collection=" POST_COLLECTION "&rkey=%s", did, rkey);
    if(xrpc(cn, "com.atproto.repo.getRecord", query, NULL, NULL, &resp) == SAM_OK) {
        if(resp.status == 200) {
            j = answer_json(&resp);
            if(take_string(j, "uri", uri, un))
                *found = 1;
            if(cid && !take_string(j, "cid", cid, cn_len))
                cid[0] = '\0';
            json_decref(j);
        } else if(resp.status == 400 || resp.status == 404) {
            xrpc_error(&resp, name, sizeof(name), msg, sizeof(msg));
            if(!strcmp(name, "RecordNotFound") || resp.status == 404)
                *found = 0;
        }
    }
    http_resp_cleanup(&resp);
}

/* Resolves a handle to a DID into did (size n). 1 when resolved, 0 when the server says
 * there is no such handle, -1 when it could not be asked (res filled). */
static int resolve_handle(const struct conn *cn, const char *handle, size_t hn, char *did, size_t n,
                          struct channel_result *res)
{
    char query[300], lower[256];
    struct http_resp resp;
    json_t *j;
    int rc, r = 0;
    if(hn >= sizeof(lower))
        return 0;
    for(size_t i = 0; i < hn; i++)
        lower[i] = (char)tolower((unsigned char)handle[i]);
    lower[hn] = '\0';
    snprintf(query, sizeof(query), "handle=%s", lower);
    http_resp_init(&resp);
    rc = xrpc(cn, "com.atproto.identity.resolveHandle", query, NULL, NULL, &resp);
    if(judge_transient(cn, rc, &resp, N_("a mention"), res)) {
        r = -1;
    } else if(resp.status == 200) {
        j = answer_json(&resp);
        r = take_string(j, "did", did, n) && !strncmp(did, "did:", 4);
        json_decref(j);
    }
    http_resp_cleanup(&resp);
    return r;
}

/* ---------- publish and remove ---------- */

/* The text to post: the post's text, and its link after a blank line when the text does
 * not already hold it. Caller frees. NULL when out of memory. */
static char *post_text(const struct channel_post *post)
{
    return linkcard_with_link(post->text, post->link);
}

/* Builds the facets array for text, resolving mentions. Returns SAM_OK with *out set (an
 * array, maybe empty; caller decrefs), or SAM_OK with *out NULL and res filled when a
 * mention could not be resolved for now, or SAM_ENOMEM. */
static int facets_build(const struct conn *cn, const char *text, json_t **out, struct channel_result *res)
{
    struct bsky_facet f[FACETS_MAX];
    size_t n = 0;
    json_t *arr = json_array();
    char did[DID_MAX], *val = NULL;
    *out = NULL;
    if(!arr)
        return SAM_ENOMEM;
    if(bsky_facets_find(text, strlen(text), f, FACETS_MAX, &n))
        n = 0;
    for(size_t i = 0; i < n; i++) {
        size_t vn = f[i].value_end - f[i].value_start;
        json_t *feature = NULL, *facet;
        free(val);
        if(!(val = strndup(text + f[i].value_start, vn)))
            goto oom;
        if(f[i].kind == BSKY_FACET_MENTION) {
            int r = resolve_handle(cn, val, vn, did, sizeof(did), res);
            if(r < 0) {
                free(val);
                json_decref(arr);
                return SAM_OK;
            }
            if(r == 0)
                continue;
            feature = json_pack("{s:s, s:s}", "$type", "app.bsky.richtext.facet#mention", "did", did);
        } else if(f[i].kind == BSKY_FACET_LINK) {
            feature = json_pack("{s:s, s:s}", "$type", "app.bsky.richtext.facet#link", "uri", val);
        } else {
            feature = json_pack("{s:s, s:s}", "$type", "app.bsky.richtext.facet#tag", "tag", val);
        }
        facet = json_pack("{s:{s:I, s:I}, s:[o]}", "index", "byteStart", (json_int_t)f[i].byte_start,
                          "byteEnd", (json_int_t)f[i].byte_end, "features", feature);
        if(!facet || json_array_append_new(arr, facet))
            goto oom;
    }
    free(val);
    *out = arr;
    return SAM_OK;
oom:
    free(val);
    json_decref(arr);
    return SAM_ENOMEM;
}

/* settings.langs as a JSON array of at most LANGS_MAX short tags, or NULL when unset. */
static json_t *langs_of(const struct channel_ctx *ctx)
{
    json_t *l = ctx->settings ? json_object_get(ctx->settings, "langs") : NULL, *out, *e;
    size_t i;
    if(json_is_string(l)) {
        const char *s = json_string_value(l);
        return *s && strlen(s) < 36 && !strpbrk(s, " \"\\") ? json_pack("[s]", s) : NULL;
    }
    if(!json_is_array(l) || !json_array_size(l) || !(out = json_array()))
        return NULL;
    json_array_foreach(l, i, e) {
        const char *s = json_string_value(e);
        if(s && *s && strlen(s) < 36 && json_array_size(out) < LANGS_MAX && !utf8_has_control(s))
            json_array_append_new(out, json_string(s));
    }
    if(!json_array_size(out)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static int key_ok(const char *key)
{
    size_t n = 0;
    if(!key)
        return 0;
    for(; key[n]; n++)
        if((unsigned char)key[n] <= 0x20 || (unsigned char)key[n] >= 0x7f)
            return 0;
    return n > 0 && n <= KEY_MAX;
}

/* Fills remote_id and remote_url for the record uri (at://DID/COLLECTION/RKEY). */
static void remote_of(const struct session *s, const char *uri, const char *rkey, struct channel_result *res)
{
    snprintf(res->remote_id, sizeof(res->remote_id), "%s", uri);
    snprintf(res->remote_url, sizeof(res->remote_url), "https://bsky.app/profile/%s/post/%s",
             s->handle[0] ? s->handle : s->did, rkey);
}

/* ---------- images (P16) ---------- */

/* Uploads one image version; *blob gets the answer's blob (a new reference) or NULL with
 * res saying why. A refused token is renewed once, as for any call (authed). */
static void blob_upload(const struct conn *cn, struct session *s, const struct image *v, json_t **blob,
                        struct channel_result *res)
{
    struct http_resp resp;
    char name[80], msg[REASON_MAX + 8];
    json_t *j;
    int rc;
    *blob = NULL;
    http_resp_init(&resp);
    rc = xrpc_raw(cn, "com.atproto.repo.uploadBlob", NULL, (const char *)v->data, v->len, image_mime(v->type), s->access,
                  &resp);
    if(!rc && token_refused(&resp)) {
        if(!refresh(cn, s)) {
            login(cn, s, res);
            if(res->outcome != CHANNEL_OK)
                goto out;
        }
        rc = xrpc_raw(cn, "com.atproto.repo.uploadBlob", NULL, (const char *)v->data, v->len, image_mime(v->type), s->access,
                  &resp);
    }
    res->outcome = CHANNEL_FAIL;
    if(judge_transient(cn, rc, &resp, N_("an image"), res))
        goto out;
    if(resp.status >= 200 && resp.status < 300) {
        res->outcome = CHANNEL_OK;
        j = answer_json(&resp);
        *blob = json_incref(json_object_get(j, "blob"));
        json_decref(j);
        if(!json_is_object(*blob) || !json_is_object(json_object_get(*blob, "ref"))) {
            json_decref(*blob);
            *blob = NULL;
            channel_result_set(res, CHANNEL_RETRY, "Bluesky (%s) took an image but its answer was not understood; "
                    "samtale will try again.", cn->service);
        }
        goto out;
    }
    xrpc_error(&resp, name, sizeof(name), msg, sizeof(msg));
    res->http_status = (int)resp.status;
    channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) refused an image of the post with %ld (%s%s%s). Replace the "
            "image and publish again.", cn->service, resp.status, name, name[0] && msg[0] ? ": " : "",
            name[0] || msg[0] ? msg : NO_REASON);
out:
    http_resp_cleanup(&resp);
}

/* The app.bsky.embed.images of the post's images: each made to fit (at most
 * IMAGE_BYTES_MAX bytes, JPEG or PNG, a GIF's first frame), uploaded, with its alt text and
 * aspect ratio. *embed is NULL when the post has no images; when an image could not be
 * uploaded *embed is NULL and res says why (outcome not CHANNEL_OK). SAM_ENOMEM. */
static int images_embed(const struct conn *cn, struct session *s, const struct channel_post *post, json_t **embed,
                        struct channel_result *res)
{
    static const struct image_limits lim = {.max_bytes = IMAGE_BYTES_MAX,
                                            .types = IMAGE_BIT(IMAGE_JPEG) | IMAGE_BIT(IMAGE_PNG)};
    json_t *images;
    int rc = SAM_OK;
    *embed = NULL;
    res->outcome = CHANNEL_OK;
    if(!post->nmedia)
        return SAM_OK;
    if(post->nmedia > IMAGES_MAX) {
        channel_result_set(res, CHANNEL_FAIL, "The post has %zu images; Bluesky takes at most %d. Remove some and "
                "publish again.", post->nmedia, IMAGES_MAX);
        return SAM_OK;
    }
    if(!(images = json_array()))
        return SAM_ENOMEM;
    for(size_t i = 0; i < post->nmedia; i++) {
        const struct channel_media *m = &post->media[i];
        struct image in = {(unsigned char *)m->data, m->len, image_type_of_mime(m->type), m->width, m->height,
                           m->frames > 0 ? m->frames : 1};
        struct image v;
        json_t *blob = NULL, *item;
        rc = image_fit(&in, &lim, &v);
        if(rc == SAM_ENOMEM)
            break;
        if(rc) {
            rc = SAM_OK;
            channel_result_set(res, CHANNEL_FAIL, "Image %zu of the post cannot be made to fit Bluesky's limit of "
                    "%d bytes. Replace it and publish again.", i + 1, IMAGE_BYTES_MAX);
            break;
        }
        blob_upload(cn, s, &v, &blob, res);
        if(blob) {
            item = json_pack("{s:o, s:s, s:{s:i, s:i}}", "image", blob, "alt", m->alt ? m->alt : "", "aspectRatio",
                             "width", v.width, "height", v.height);
            if(!item || json_array_append_new(images, item))
                rc = SAM_ENOMEM;
        }
        image_cleanup(&v);
        if(rc || !blob)
            break;
    }
    if(!rc && res->outcome == CHANNEL_OK) {
        *embed = json_pack("{s:s, s:O}", "$type", "app.bsky.embed.images", "images", images);
        if(!*embed)
            rc = SAM_ENOMEM;
    }
    json_decref(images);
    return rc;
}

/* ---------- link cards ---------- */

#define CARD_THUMB_MAX 1000000        /* Bluesky's limit of a blob for a thumb */
#define CARD_TITLE_MAX 300            /* bytes kept of the card's texts */
#define CARD_DESC_MAX 1000

/* Uploads data as a blob; *blob gets the blob reference the PDS answered (a new
 * reference), NULL when it could not (logged; the card goes without its thumb). */
static void upload_thumb(const struct conn *cn, struct session *s, const char *data, size_t len, const char *mime,
                         json_t **blob)
{
    struct http_resp resp;
    json_t *j;
    int rc;
    *blob = NULL;
    http_resp_init(&resp);
    rc = xrpc_raw(cn, "com.atproto.repo.uploadBlob", NULL, data, len, mime, s->access, &resp);
    if(!rc && resp.status == 200 && (j = answer_json(&resp))) {
        json_t *b = json_object_get(j, "blob");
        if(json_is_object(b))
            *blob = json_incref(b);
        json_decref(j);
    } else {
        log_kv(LOG_INFO, "bluesky link card without its image: the upload failed", "service", cn->service, NULL);
    }
    http_resp_cleanup(&resp);
}

/* Copies s into a new string of at most max bytes, cut on a character. */
static char *card_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    char *out;
    if(n > max)
        n = utf8_prefix(s, max);
    out = malloc(n + 1);
    if(out) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

/* The app.bsky.embed.external of the post's link (a new reference), or NULL when the page
 * gives nothing to show (then the link stays in the text, as a facet). The page and its
 * image are fetched through the outbound address policy, bounded in size and time. */
static json_t *link_card(const struct channel_ctx *ctx, const struct conn *cn, struct session *s, const char *link)
{
    struct http_resp resp;
    struct discover_card card;
    json_t *embed = NULL, *thumb = NULL;
    char *title = NULL, *desc = NULL;
    long timeout = ctx->timeout_ms > 0 && ctx->timeout_ms < LINKCARD_TIMEOUT_MS ? ctx->timeout_ms : LINKCARD_TIMEOUT_MS;
    memset(&card, 0, sizeof(card));
    if(linkcard_read(link, timeout, &card)) {
        log_kv(LOG_INFO, "bluesky post without a link card: the page could not be read", "error",
               sam_errmsg(SAM_EIO), NULL);
        return NULL;
    }
    if(!card.title[0] && !card.description[0]) {
        discover_card_cleanup(&card);
        return NULL;
    }
    http_resp_init(&resp);
    if(card.image[0] && !linkcard_image(card.image, CARD_THUMB_MAX, timeout, &resp)) {
        const char *mime = linkcard_image_type((const unsigned char *)resp.body.data, resp.body.len);
        upload_thumb(cn, s, resp.body.data, resp.body.len, mime, &thumb);
    }
    http_resp_cleanup(&resp);
    title = card_text(card.title[0] ? card.title : card.site, CARD_TITLE_MAX);
    desc = card_text(card.description, CARD_DESC_MAX);
    if(title && desc)
        embed = json_pack("{s:s, s:{s:s, s:s, s:s}}", "$type", "app.bsky.embed.external", "external", "uri", link,
                          "title", title, "description", desc);
    if(embed && thumb)
        json_object_set(json_object_get(embed, "external"), "thumb", thumb);
    json_decref(thumb);
    free(title);
    free(desc);
    discover_card_cleanup(&card);
    return embed;
}

/* Creates one post record under rkey, or finds it made by an earlier attempt. SAM_OK with
 * uri and cid filled when the record is there; otherwise res says why (and *gave_up when
 * the session could not be had). */
static int create_record(const struct conn *cn, struct session *s, const char *rkey, json_t *record, char *uri,
                         size_t un, char *cid, size_t cn_len, struct channel_result *res, int *gave_up)
{
    struct http_resp resp;
    char expect[DID_MAX + 64], name[80], msg[REASON_MAX + 8];
    char *body = NULL;
    json_t *req, *j;
    int rc, found;
    http_resp_init(&resp);
    uri[0] = cid[0] = '\0';
    req = json_pack("{s:s, s:s, s:s, s:O}", "repo", s->did, "collection", POST_COLLECTION, "rkey", rkey, "record",
                    record);
    if(!req || !(body = json_dumps(req, JSON_COMPACT))) {
        json_decref(req);
        return SAM_ENOMEM;
    }
    json_decref(req);
    rc = authed(cn, s, "com.atproto.repo.createRecord", NULL, body, &resp, res, gave_up);
    free(body);
    if(*gave_up) {
        http_resp_cleanup(&resp);
        return SAM_OK;
    }
    snprintf(expect, sizeof(expect), "at://%s/" POST_COLLECTION "/%s", s->did, rkey);
    if(rc == SAM_OK && resp.status >= 200 && resp.status < 300) {
        j = answer_json(&resp);
        if(!take_string(j, "uri", uri, un) && strlen(expect) < un)
            memcpy(uri, expect, strlen(expect) + 1);
        if(!take_string(j, "cid", cid, cn_len))
            cid[0] = '\0';
        json_decref(j);
        res->http_status = (int)resp.status;
        http_resp_cleanup(&resp);
        return SAM_OK;
    }
    if(rc == SAM_OK && resp.status != 429 && !token_refused(&resp)) {
        /* Maybe an earlier attempt made it: the reference PDS answers 500 for a key that is
         * taken, others 400 or 409. */
        record_lookup(cn, s->did, rkey, uri, un, cid, cn_len, &found);
        if(found == 1) {
            log_kv(LOG_INFO, "bluesky record already there", "uri", uri, "status_of_create",
                   resp.status == 500 ? "500" : resp.status == 409 ? "409" : resp.status == 400 ? "400" : "other",
                   NULL);
            res->http_status = (int)resp.status;
            http_resp_cleanup(&resp);
            return SAM_OK;
        }
    }
    uri[0] = '\0';
    rc = judge_transient(cn, rc, &resp, N_("the post"), res) ? SAM_OK : rc;
    if(res->outcome == CHANNEL_RETRY || res->message[0]) {
        http_resp_cleanup(&resp);
        return rc;
    }
    xrpc_error(&resp, name, sizeof(name), msg, sizeof(msg));
    res->http_status = (int)resp.status;
    if(token_refused(&resp)) {
        cache_forget(cn);
        channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) refused samtale's session for @%s even after a new "
                "login (%s). Reconnect the channel with a new app password; its queued posts wait until then.",
                cn->service, cn->handle, msg[0] ? msg : name[0] ? name : NO_REASON);
        res->reconnect = 1;
    } else {
        channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) refused the post with %ld (%s%s%s). Edit the post "
                "and publish again.", cn->service, resp.status, name, name[0] && msg[0] ? ": " : "",
                name[0] || msg[0] ? msg : NO_REASON);
    }
    http_resp_cleanup(&resp);
    return rc;
}

/* The record key of part k of a thread: part 0 keeps the key a single post has (so a post
 * made before threads existed is found again); part k derives its own from the
 * occurrence's key, the same on every attempt. */
static int part_rkey(const struct channel_post *post, size_t k, char *rkey)
{
    char key[KEY_MAX + 16];
    if(k == 0)
        return bsky_tid_make(post->planned_at, post->idempotency_key, rkey);
    snprintf(key, sizeof(key), "%s#%zu", post->idempotency_key, k);
    return bsky_tid_make(post->planned_at, key, rkey);
}

static int bluesky_publish(const struct channel_ctx *ctx, const struct channel_post *post,
                           struct channel_result *res)
{
    struct conn cn;
    struct session s;
    struct text_part parts[TEXT_THREAD_MAX];
    char rkey[BSKY_TID_LEN + 1], root_rkey[BSKY_TID_LEN + 1], created[32];
    char root_uri[sizeof(res->remote_id)] = "", root_cid[128] = "", parent_uri[sizeof(res->remote_id)] = "",
         parent_cid[128] = "";
    char *text = NULL, *part = NULL;
    const char *lang0;
    json_t *record = NULL, *facets = NULL, *langs = NULL, *card = NULL;
    json_t *images = NULL; /* P16: the images' embed, on the first post */
    json_t *later = NULL;  /* the at:// URIs of the parts after the first */
    size_t nparts = 0, card_part = 0;
    int rc = SAM_OK, gave_up = 0;

    channel_result_clear(res);
    memset(&s, 0, sizeof(s));
    if(!key_ok(post->idempotency_key)) {
        channel_result_set(res, CHANNEL_FAIL, "samtale made an unusable idempotency key for this post; this is "
                                   "a bug, please report it.");
        rc = sam_fail(SAM_EINVAL, "an idempotency key must be 1 to 80 printable characters without spaces");
        goto out;
    }
    if(!conn_from(ctx, &cn, res))
        goto out;
    if(!post->text || utf8_count(post->text, strlen(post->text)) < 0 ||
       (post->link && utf8_count(post->link, strlen(post->link)) < 0)) {
        channel_result_set(res, CHANNEL_FAIL, "The post's text or link is not valid UTF-8. Edit the post and "
                                   "publish again.");
        goto out;
    }
    if(part_rkey(post, 0, root_rkey)) {
        channel_result_set(res, CHANNEL_FAIL, "The post's planned time cannot be turned into a Bluesky record "
                                   "key. Reschedule it and publish again.");
        goto out;
    }
    rc = session_get(&cn, &s, res);
    if(rc || res->outcome != CHANNEL_OK)
        goto out;
    /* Images (P16): made to fit and uploaded first, so a post whose image cannot go out
     * fails before anything is posted. */
    rc = images_embed(&cn, &s, post, &images, res);
    if(rc || res->outcome != CHANNEL_OK)
        goto out;
    /* The post's link as a card (title, description, image); the text then need not repeat
     * the address. Without a card the link ends the text. */
    if(post->link && *post->link)
        card = link_card(ctx, &cn, &s, post->link);
    /* A text longer than one post goes out as a numbered thread of replies. Until a record
     * is made, running out of memory is a retry, not a failure (out:). */
    res->outcome = CHANNEL_FAIL;
    langs = langs_of(ctx);
    lang0 = langs ? json_string_value(json_array_get(langs, 0)) : NULL;
    for(int again = 0;; again = 1) {
        if(!(text = card ? strdup(post->text) : post_text(post))) {
            rc = SAM_ENOMEM;
            goto out;
        }
        rc = text_thread_split(text, TEXT_GRAPHEMES_MAX, TEXT_BYTES_MAX, lang0, text_graphemes, parts,
                               TEXT_THREAD_MAX, &nparts);
        /* A record has one embed. With images on the first post the card goes on the last
         * one; a single post with images keeps its link in the text instead. */
        if(rc || !card || !images || nparts > 1 || again)
            break;
        json_decref(card);
        card = NULL;
        free(text);
        text = NULL;
    }
    card_part = images && nparts > 1 ? nparts - 1 : 0;
    if(rc == SAM_ETOOBIG || rc == SAM_EINVAL) {
        channel_result_set(res, CHANNEL_FAIL, "The post is too long even for a thread of %d Bluesky posts. "
                "Shorten it and publish again.", TEXT_THREAD_MAX);
        rc = SAM_OK;
        goto out;
    }
    if(rc)
        goto out;
    /* Part by part, in order; each has a record key of its own that every attempt shares,
     * so a retry finds the parts an earlier attempt made and goes on from there. */
    for(size_t k = 0; k < nparts; k++) {
        char uri[sizeof(res->remote_id)], cid[128];
        res->outcome = CHANNEL_FAIL;
        free(part);
        json_decref(record);
        json_decref(facets);
        record = facets = NULL;
        if(!(part = text_thread_part(text, &parts[k], k, nparts))) {
            rc = SAM_ENOMEM;
            goto out;
        }
        if(part_rkey(post, k, rkey)) {
            channel_result_set(res, CHANNEL_FAIL, "The post's planned time cannot be turned into a Bluesky record "
                                       "key. Reschedule it and publish again.");
            goto out;
        }
        rc = facets_build(&cn, part, &facets, res);
        if(rc || !facets)
            goto out;
        time_rfc3339_ms(time_now_ms(), created, sizeof(created));
        record = json_pack("{s:s, s:s, s:s}", "$type", POST_COLLECTION, "text", part, "createdAt", created);
        if(!record || (json_array_size(facets) && json_object_set(record, "facets", facets)) ||
           (langs && json_object_set(record, "langs", langs))) {
            rc = SAM_ENOMEM;
            goto out;
        }
        if(k == 0 && images && json_object_set(record, "embed", images)) {
            rc = SAM_ENOMEM;
            goto out;
        }
        if(k == card_part && card && json_object_set(record, "embed", card)) {
            rc = SAM_ENOMEM;
            goto out;
        }
        if(k > 0 && json_object_set_new(record, "reply",
                                        json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "root", "uri", root_uri, "cid",
                                                  root_cid, "parent", "uri", parent_uri, "cid", parent_cid))) {
            rc = SAM_ENOMEM;
            goto out;
        }
        res->outcome = CHANNEL_OK;
        rc = create_record(&cn, &s, rkey, record, uri, sizeof(uri), cid, sizeof(cid), res, &gave_up);
        if(gave_up) {
            rc = SAM_OK;
            goto out;
        }
        if(rc || !uri[0])
            goto out;
        if(k + 1 < nparts && !cid[0]) {
            /* A reply needs its parent's content id: without it, try the thread again later. */
            channel_result_set(res, CHANNEL_RETRY, "Bluesky did not say the content id of part %zu of the thread; "
                                                   "samtale will try again.", k + 1);
            goto out;
        }
        if(k == 0) {
            snprintf(root_uri, sizeof(root_uri), "%s", uri);
            snprintf(root_cid, sizeof(root_cid), "%s", cid);
        } else if((!later && !(later = json_array())) || json_array_append_new(later, json_string(uri))) {
            rc = SAM_ENOMEM;
            goto out;
        }
        snprintf(parent_uri, sizeof(parent_uri), "%s", uri);
        snprintf(parent_cid, sizeof(parent_cid), "%s", cid);
    }
    remote_of(&s, root_uri, root_rkey, res);
    channel_result_parts(res, later);
    if(nparts > 1)
        channel_result_set(res, CHANNEL_OK, "Published on Bluesky as @%s, a thread of %zu posts.", s.handle, nparts);
    else
        channel_result_set(res, CHANNEL_OK, "Published on Bluesky as @%s.", s.handle);
out:
    if(rc == SAM_ENOMEM && res->outcome != CHANNEL_OK)
        channel_result_set(res, CHANNEL_RETRY, "samtale ran out of memory publishing to Bluesky; it will try again.");
    sodium_memzero(&s, sizeof(s));
    free(text);
    free(part);
    json_decref(record);
    json_decref(facets);
    json_decref(langs);
    json_decref(card);
    json_decref(images);
    json_decref(later);
    return rc;
}

/* Splits at://DID/app.bsky.feed.post/RKEY into its DID and record key. 1 when it is one. */
static int uri_split(const char *uri, char *did, size_t dn, char *rkey, size_t rn)
{
    const char *p, *slash, *coll;
    size_t n;
    if(!uri || strncmp(uri, "at://", 5))
        return 0;
    p = uri + 5;
    slash = strchr(p, '/');
    if(!slash || (n = (size_t)(slash - p)) == 0 || n >= dn || strncmp(p, "did:", 4))
        return 0;
    memcpy(did, p, n);
    did[n] = '\0';
    coll = slash + 1;
    if(strncmp(coll, POST_COLLECTION "/", strlen(POST_COLLECTION) + 1))
        return 0;
    p = coll + strlen(POST_COLLECTION) + 1;
    if(strlen(p) >= rn || strpbrk(did, "?#&% ") || !bsky_tid_valid(p))
        return 0;
    memcpy(rkey, p, strlen(p) + 1);
    return 1;
}

static int bluesky_remove(const struct channel_ctx *ctx, const char *remote_id_in, struct channel_result *res)
{
    struct conn cn;
    struct session s;
    struct http_resp resp;
    char remote_id[sizeof(res->remote_id)], did[DID_MAX], rkey[BSKY_TID_LEN + 1];
    char name[80], msg[REASON_MAX + 8], *body = NULL;
    json_t *req = NULL;
    int rc = SAM_OK, gave_up = 0;

    /* Copied first: the caller may pass res->remote_id, which result_clear wipes. */
    if(!remote_id_in || strlen(remote_id_in) >= sizeof(remote_id))
        remote_id_in = "";
    memcpy(remote_id, remote_id_in, strlen(remote_id_in) + 1);
    channel_result_clear(res);
    http_resp_init(&resp);
    memset(&s, 0, sizeof(s));
    if(!uri_split(remote_id, did, sizeof(did), rkey, sizeof(rkey))) {
        channel_result_set(res, CHANNEL_FAIL, "This is not the at:// address of a Bluesky post samtale published; "
                                   "there is nothing to delete.");
        goto out;
    }
    if(!conn_from(ctx, &cn, res))
        goto out;
    rc = session_get(&cn, &s, res);
    if(rc || res->outcome != CHANNEL_OK)
        goto out;
    if(strcmp(s.did, did)) {
        channel_result_set(res, CHANNEL_FAIL, "The post %s belongs to another Bluesky account than @%s; samtale "
                "cannot delete it with this channel.", remote_id, s.handle);
        goto out;
    }
    res->outcome = CHANNEL_FAIL;
    req = json_pack("{s:s, s:s, s:s}", "repo", did, "collection", POST_COLLECTION, "rkey", rkey);
    if(!req || !(body = json_dumps(req, JSON_COMPACT))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    rc = authed(&cn, &s, "com.atproto.repo.deleteRecord", NULL, body, &resp, res, &gave_up);
    if(gave_up) {
        rc = SAM_OK;
        goto out;
    }
    if(rc == SAM_OK && resp.status >= 200 && resp.status < 300) {
        memcpy(res->remote_id, remote_id, sizeof(res->remote_id));
        res->http_status = (int)resp.status;
        channel_result_set(res, CHANNEL_OK, "Deleted from Bluesky (@%s).", s.handle);
        goto out;
    }
    if(judge_transient(&cn, rc, &resp, N_("the deletion"), res)) {
        rc = SAM_OK;
        goto out;
    }
    xrpc_error(&resp, name, sizeof(name), msg, sizeof(msg));
    res->http_status = (int)resp.status;
    if(!strcmp(name, "RecordNotFound") || resp.status == 404) {
        memcpy(res->remote_id, remote_id, sizeof(res->remote_id));
        channel_result_set(res, CHANNEL_OK, "The post was already gone from Bluesky.");
    } else if(token_refused(&resp)) {
        cache_forget(&cn);
        channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) refused samtale's session for @%s even after a new "
                "login (%s). Reconnect the channel with a new app password.", cn.service, cn.handle,
                msg[0] ? msg : name[0] ? name : NO_REASON);
        res->reconnect = 1;
    } else {
        channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) refused to delete %s with %ld (%s%s%s).", cn.service,
                remote_id, resp.status, name, name[0] && msg[0] ? ": " : "",
                name[0] || msg[0] ? msg : NO_REASON);
    }
out:
    sodium_memzero(&s, sizeof(s));
    free(body);
    json_decref(req);
    http_resp_cleanup(&resp);
    return rc;
}

/* ---------- reading: the account, notifications, counts ---------- */

/* An authenticated GET whose answer is JSON. Returns the parsed answer, or NULL with res
 * saying why (transient, refused, not understood). */
static json_t *get_json(const struct conn *cn, struct session *s, const char *nsid, const char *query,
                        const char *what, struct channel_result *res)
{
    struct http_resp resp;
    char name[80], msg[REASON_MAX + 8];
    json_t *j = NULL;
    int gave_up = 0, rc;
    http_resp_init(&resp);
    rc = authed(cn, s, nsid, query, NULL, &resp, res, &gave_up);
    if(gave_up)
        goto out;
    if(rc == SAM_OK && resp.status >= 200 && resp.status < 300) {
        if(!(j = answer_json(&resp)) || !json_is_object(j)) {
            json_decref(j);
            j = NULL;
            channel_result_set(res, CHANNEL_RETRY, "Bluesky (%s) answered %s with something samtale does not "
                    "understand; it will try again.", cn->service, what);
        }
        goto out;
    }
    if(judge_transient(cn, rc, &resp, what, res))
        goto out;
    xrpc_error(&resp, name, sizeof(name), msg, sizeof(msg));
    res->http_status = (int)resp.status;
    if(token_refused(&resp)) {
        cache_forget(cn);
        channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) refused samtale's session for @%s even after a new "
                "login (%s). Reconnect the channel with a new app password.", cn->service, cn->handle,
                msg[0] ? msg : name[0] ? name : NO_REASON);
        res->reconnect = 1;
    } else {
        channel_result_set(res, CHANNEL_FAIL, "Bluesky (%s) refused %s with %ld (%s%s%s).", cn->service, what,
                resp.status, name, name[0] && msg[0] ? ": " : "",
                name[0] || msg[0] ? msg : NO_REASON);
    }
out:
    http_resp_cleanup(&resp);
    return j;
}

static int bluesky_verify(const struct channel_ctx *ctx, json_t *info, struct channel_result *res)
{
    struct conn cn;
    struct session s;
    channel_result_clear(res);
    memset(&s, 0, sizeof(s));
    if(!conn_from(ctx, &cn, res))
        return SAM_OK;
    cache_forget(&cn);                 /* a real login: the password is what is checked */
    login(&cn, &s, res);
    if(res->outcome == CHANNEL_OK) {
        json_object_set_new(info, "did", json_string(s.did));
        json_object_set_new(info, "handle", json_string(s.handle));
        channel_result_set(res, CHANNEL_OK, "Logged in to Bluesky (%s) as @%s.", cn.service, s.handle);
    }
    cache_forget(&cn);                 /* a check keeps no session behind */
    sodium_memzero(&s, sizeof(s));
    return SAM_OK;
}

#define NOTIF_PAGES_MAX 40      /* 40 pages of 100: likes and follows fill pages too */
#define NOTIF_PAGE 100

/* An indexedAt time as milliseconds since the epoch (-1 when unreadable): the cursor is
 * compared as a time, not as text, whatever precision the AppView writes. */
static int64_t at_ms(const char *s)
{
    int64_t t;
    const char *dot;
    int64_t ms = 0;
    if(!s || time_parse_rfc3339(s, &t))
        return -1;
    dot = strchr(s, '.');
    if(dot && dot < s + 25) {
        int digits = 0;
        for(const char *p = dot + 1; *p >= '0' && *p <= '9'; p++, digits++)
            if(digits < 3)
                ms = ms * 10 + (*p - '0');
        for(; digits < 3; digits++)
            ms *= 10;
    }
    return t * 1000 + ms;
}

/* The message a notification stands for, or 0 when it is not one (likes, follows, ...). */
static int notification_message(json_t *n, struct channel_message *m, char *url, size_t un)
{
    const char *reason = json_string_value(json_object_get(n, "reason"));
    json_t *author = json_object_get(n, "author"), *record = json_object_get(n, "record");
    json_t *reply = json_object_get(record, "reply");
    const char *uri = json_string_value(json_object_get(n, "uri"));
    const char *did = json_string_value(json_object_get(author, "did"));
    const char *handle = json_string_value(json_object_get(author, "handle"));
    const char *text = json_string_value(json_object_get(record, "text"));
    const char *when = json_string_value(json_object_get(record, "createdAt"));
    char rdid[DID_MAX], rkey[BSKY_TID_LEN + 64];
    int64_t t = 0;
    memset(m, 0, sizeof(*m));
    if(!reason || (strcmp(reason, "mention") && strcmp(reason, "reply") && strcmp(reason, "quote")))
        return 0;
    if(!uri || !*uri || !did || !*did || strlen(uri) > 1000 || strlen(did) >= DID_MAX)
        return 0;
    m->kind = reason;
    m->remote_id = uri;
    m->author_id = did;
    m->author_handle = handle;
    m->author_name = json_string_value(json_object_get(author, "displayName"));
    m->text = text ? text : "";
    m->parent_id = json_string_value(json_object_get(json_object_get(reply, "parent"), "uri"));
    m->root_id = json_string_value(json_object_get(json_object_get(reply, "root"), "uri"));
    if(!when || time_parse_rfc3339(when, &t))
        (void)time_parse_rfc3339(json_string_value(json_object_get(n, "indexedAt")), &t);
    m->created_at = t;
    url[0] = '\0';
    if(handle && uri_split(uri, rdid, sizeof(rdid), rkey, sizeof(rkey)))
        snprintf(url, un, "https://bsky.app/profile/%s/post/%s", handle, rkey);
    m->remote_url = url[0] ? url : NULL;
    return 1;
}

static int bluesky_fetch_inbound(const struct channel_ctx *ctx, const char *cursor, channel_message_fn fn,
                                 void *arg, char *next, size_t next_n, struct channel_result *res)
{
    struct conn cn;
    struct session s;
    json_t **pages = NULL;
    char query[512], esc[300], newest[64] = "", url[600];
    const char *page_cursor = NULL;
    int npages = 0, rc = SAM_OK, done = 0;

    channel_result_clear(res);
    memset(&s, 0, sizeof(s));
    if(next_n)
        snprintf(next, next_n, "%s", cursor ? cursor : "");
    if(!conn_from(ctx, &cn, res))
        return SAM_OK;
    if(!(pages = calloc(NOTIF_PAGES_MAX, sizeof(*pages)))) {
        channel_result_set(res, CHANNEL_RETRY, "samtale ran out of memory reading Bluesky; it will try again.");
        return SAM_OK;
    }
    session_get(&cn, &s, res);
    if(res->outcome != CHANNEL_OK)
        goto out;
    /* Newest first, page by page, until a notification at or before the cursor (an
     * indexedAt time); the first time, one page. */
    int64_t since = cursor && *cursor ? at_ms(cursor) : -1, newest_ms = since;
    while(!done && npages < NOTIF_PAGES_MAX) {
        json_t *j, *list, *n;
        size_t i;
        if(page_cursor) {
            if(http_escape(page_cursor, esc, sizeof(esc)))
                break;
            snprintf(query, sizeof(query), "limit=%d&cursor=%s", NOTIF_PAGE, esc);
        } else {
            snprintf(query, sizeof(query), "limit=%d", NOTIF_PAGE);
        }
        j = get_json(&cn, &s, "app.bsky.notification.listNotifications", query, N_("the notifications"), res);
        if(!j)
            goto out;
        pages[npages++] = j;
        list = json_object_get(j, "notifications");
        json_array_foreach(list, i, n) {
            const char *at = json_string_value(json_object_get(n, "indexedAt"));
            int64_t ms = at_ms(at);
            if(ms > newest_ms && strlen(at) < sizeof(newest)) {
                newest_ms = ms;
                snprintf(newest, sizeof(newest), "%s", at);
            }
            if(since >= 0 && ms >= 0 && ms < since)
                done = 1;
        }
        page_cursor = json_string_value(json_object_get(j, "cursor"));
        if(since < 0 || !page_cursor || !*page_cursor || !json_array_size(list))
            done = 1;
    }
    if(!done)
        log_kv(LOG_WARN, "bluesky: more notifications arrived than samtale reads at once; the oldest of them are "
               "skipped", "handle", cn.handle, "pages", "40", NULL);
    /* Oldest first: pages backwards, each page backwards. */
    for(int p = npages - 1; p >= 0 && !rc; p--) {
        json_t *list = json_object_get(pages[p], "notifications");
        for(size_t i = json_array_size(list); i-- > 0 && !rc;) {
            json_t *n = json_array_get(list, i);
            int64_t ms = at_ms(json_string_value(json_object_get(n, "indexedAt")));
            struct channel_message m;
            if(since >= 0 && ms >= 0 && ms < since)
                continue;
            if(notification_message(n, &m, url, sizeof(url)))
                rc = fn(&m, arg);
        }
    }
    if(!rc && newest[0] && next_n)
        snprintf(next, next_n, "%s", newest);
    if(!rc)
        channel_result_set(res, CHANNEL_OK, "Read the notifications of @%s.", s.handle);
out:
    for(int p = 0; p < npages; p++)
        json_decref(pages[p]);
    free(pages);
    sodium_memzero(&s, sizeof(s));
    return rc;
}

static int bluesky_fetch_counts(const struct channel_ctx *ctx, const char *remote_id, struct channel_counts *out,
                                struct channel_result *res)
{
    struct conn cn;
    struct session s;
    char query[1200], esc[1100], did[DID_MAX], rkey[BSKY_TID_LEN + 64];
    json_t *j = NULL, *post;
    channel_result_clear(res);
    memset(&s, 0, sizeof(s));
    out->likes = out->reposts = out->replies = out->quotes = -1;
    if(!remote_id || !uri_split(remote_id, did, sizeof(did), rkey, sizeof(rkey)) ||
       http_escape(remote_id, esc, sizeof(esc))) {
        channel_result_set(res, CHANNEL_FAIL, "This is not the at:// address of a Bluesky post.");
        return SAM_OK;
    }
    if(!conn_from(ctx, &cn, res))
        return SAM_OK;
    session_get(&cn, &s, res);
    if(res->outcome != CHANNEL_OK)
        goto out;
    snprintf(query, sizeof(query), "uris=%s", esc);
    if(!(j = get_json(&cn, &s, "app.bsky.feed.getPosts", query, "the post's counts", res)))
        goto out;
    post = json_array_get(json_object_get(j, "posts"), 0);
    if(!post) {
        /* Not in the AppView yet (it indexes a moment after the PDS took the post), or
         * deleted: asked again soon, a few times. */
        channel_result_set(res, CHANNEL_RETRY, "Bluesky (%s) does not show the post %s yet (or it was deleted); "
                "samtale will ask again.", cn.service, remote_id);
        res->retry_after = 5;
        goto out;
    }
    out->likes = channel_count(post, "likeCount");
    out->reposts = channel_count(post, "repostCount");
    out->replies = channel_count(post, "replyCount");
    out->quotes = channel_count(post, "quoteCount");
    channel_result_set(res, CHANNEL_OK, "Counted.");
out:
    json_decref(j);
    sodium_memzero(&s, sizeof(s));
    return SAM_OK;
}

const struct channel_ops channel_bluesky_ops = {
    .kind = "bluesky",
    .can_publish = 1,
    .can_delete = 1,
    .publish = bluesky_publish,
    .remove = bluesky_remove,
    .notify = NULL,
    .verify = bluesky_verify,
    .fetch_inbound = bluesky_fetch_inbound,
    .fetch_counts = bluesky_fetch_counts,
};
