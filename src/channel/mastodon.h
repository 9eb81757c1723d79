/*
 * mastodon.h: the Mastodon connector (PRODUCT.md CH2) and what it needs besides
 * publishing: the OAuth calls that connect an account (app registration, the authorize
 * URL, the code exchange, verify credentials), reading mentions, and an incremental
 * parser of the streaming API's server-sent events.
 *
 * A channel's settings.instance_url names the server; its secret is the access token.
 * Publishing sends the occurrence's idempotency key as Idempotency-Key, which Mastodon
 * keeps for an hour, so a retry after a lost answer returns the same status.
 */
#ifndef SAM_MASTODON_H
#define SAM_MASTODON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Registers samtale as an app on the instance (POST /api/v1/apps). client_id and
 * client_secret (at least 128 bytes each) get the answer. */
int masto_register_app(const char *instance, const char *redirect_uri, char *client_id, size_t n_id,
                       char *client_secret, size_t n_secret);
/* The URL a person opens to allow samtale (scopes "read write"), into out. */
int masto_authorize_url(const char *instance, const char *client_id, const char *redirect_uri, char *out, size_t n);
/* Exchanges an authorization code for an access token (POST /oauth/token). */
int masto_exchange_code(const char *instance, const char *client_id, const char *client_secret,
                        const char *redirect_uri, const char *code, char *token, size_t n);
/* Checks a token (GET /api/v1/accounts/verify_credentials); *account (new reference)
 * gets the account. SAM_EAUTH when the instance refuses the token. */
int masto_verify(const char *instance, const char *token, json_t **account);
/* Mentions since since_id ("" for the newest page): GET /api/v1/notifications with
 * types[]=mention; *list (new reference) gets the notifications as the instance sent them. */
int masto_mentions(const char *instance, const char *token, const char *since_id, json_t **list);

/* Server-sent events (the streaming API): feed bytes as they arrive; each complete event
 * (a blank line ends it) is passed to fn with its name ("update", "notification", ...,
 * "message" when unnamed) and its data (lines joined with '\n'). Comment lines (": thump"
 * heartbeats) only count. An event over SSE_EVENT_MAX bytes is dropped and counted. */
#define SSE_EVENT_MAX (1024 * 1024)
struct sse {
    struct buf line;   /* the line being read */
    struct buf data;   /* data of the event being read */
    char event[64];
    int cr;            /* the previous byte was CR (a CRLF pair ends one line) */
    int oversized;     /* the current event passed the limit */
    unsigned long heartbeats, events, dropped;
};
typedef void (*sse_fn)(const char *event, const char *data, size_t len, void *arg);
void sse_init(struct sse *p);
void sse_cleanup(struct sse *p);
int sse_feed(struct sse *p, const char *bytes, size_t n, sse_fn fn, void *arg);

#endif
