/*
 * peer.c: the short, clean reasons samtale quotes from other servers' error answers, and
 * the debug log of what they said (see peer.h). One cleaner for every connector, so the
 * rule "status plus a short known-shape reason, never a body's free text" lives here.
 */
#include "channel/peer.h"
#include "util/log.h"
#include "util/utf8.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

void peer_text(const char *s, size_t n, size_t max, char *out, size_t outn)
{
    size_t i = 0, k = 0, lim;
    int space = 1, cut = 0;
    if(outn < 8) {
        if(outn)
            out[0] = '\0';
        return;
    }
    lim = max < outn - 4 ? max : outn - 4;
    while(s && i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        const char *add = s + i;
        size_t addn = len;
        if(c == '<') {
            /* A tag: skip through its '>' (or only the '<' when none follows). */
            const char *gt = memchr(s + i, '>', n - i);
            i = gt ? (size_t)(gt - s) + 1 : i + 1;
            add = " ";
            addn = 1;
        } else if(c == '>') {
            i++;
            continue;
        } else if(len > n - i || (len > 1 && utf8_count(s + i, len) != 1) || (len == 1 && c >= 0x80)) {
            add = "?";
            addn = 1;
            i++;
        } else {
            if(c < 0x20 || c == 0x7f || (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)) {
                add = " ";
                addn = 1;
            }
            i += len;
        }
        if(add[0] == ' ' && addn == 1) {
            if(space)
                continue;
            space = 1;
        } else {
            space = 0;
        }
        if(k + addn > lim) {
            cut = 1;
            break;
        }
        memcpy(out + k, add, addn);
        k += addn;
    }
    while(k && out[k - 1] == ' ')
        k--;
    if(cut) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

/* The string at path ("a" or "a.b") in j, or NULL. */
static const char *string_at(json_t *j, const char *path)
{
    char first[64];
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    if(n >= sizeof(first))
        return NULL;
    memcpy(first, path, n);
    first[n] = '\0';
    j = json_object_get(j, first);
    if(dot)
        return json_is_object(j) ? string_at(j, dot + 1) : NULL;
    return json_string_value(j);
}

void peer_reason(const struct http_resp *resp, const char *const *keys, char *out, size_t outn)
{
    json_t *j = NULL;
    if(outn)
        out[0] = '\0';
    if(!resp->body.data || !resp->body.len || resp->truncated)
        return;
    j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
    if(json_is_object(j)) {
        for(const char *const *k = keys; *k; k++) {
            const char *v = string_at(j, *k);
            if(v && *v) {
                peer_text(v, strlen(v), PEER_REASON_MAX, out, outn);
                if(out[0])
                    break;
            }
        }
    }
    json_decref(j);
}

void peer_log_answer(const char *who, const char *url, const struct http_resp *resp)
{
    char status[16], where[256], body[PEER_LOG_MAX * 4 + 8];
    const char *host, *end;
    size_t k = 0, n;
    snprintf(status, sizeof(status), "%ld", resp->status);
    /* scheme://host/path without user:password@, query or fragment */
    host = url ? strstr(url, "://") : NULL;
    if(host) {
        const char *at = NULL;
        host += 3;
        end = host + strcspn(host, "/?#");
        for(const char *c = host; c < end; c++)
            if(*c == '@')
                at = c;
        n = strcspn(at ? at + 1 : host, "?#");
        snprintf(where, sizeof(where), "%.*s%.*s", (int)(host - url), url, (int)(n < 200 ? n : 200),
                 at ? at + 1 : host);
    } else {
        snprintf(where, sizeof(where), "?");
    }
    n = resp->body.len < PEER_LOG_MAX ? resp->body.len : PEER_LOG_MAX;
    for(size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)resp->body.data[i];
        if(c >= 0x20 && c < 0x7f && c != '\\')
            body[k++] = (char)c;
        else
            k += (size_t)snprintf(body + k, sizeof(body) - k, "\\x%02x", c);
    }
    body[k] = '\0';
    log_kv(LOG_DEBUG, "peer answered with an error", "peer", who, "url", where, "status", status, "body", body,
           NULL);
}
