/*
 * channel.h: the interface every connector implements (the way SQLite's VFS and curl's
 * vtls do it): a struct of function pointers per channel kind, found by
 * channel_ops_for(kind). The publisher (engine/) calls it; connectors never touch the
 * store.
 *
 * Contract of publish: it delivers one occurrence and must be idempotent for the same
 * idempotency_key: calling it again after a crash, a timeout or a lost answer must not
 * create a second post (file: looks for the key before appending; webhook: sends the
 * key as Idempotency-Key; Bluesky: derives the record key from it; Mastodon: sends it as
 * Idempotency-Key). It returns SAM_OK and fills the result with one of three outcomes:
 * CHANNEL_OK (published; remote_id set), CHANNEL_RETRY (transient: timeout, 5xx, 429;
 * retry_after set when the peer said how long to wait), CHANNEL_FAIL (permanent; message
 * says what happened and what to do). A non-OK return code means the call could not be
 * made at all (out of memory, bad settings) and counts as CHANNEL_FAIL.
 */
#ifndef SAM_CHANNEL_H
#define SAM_CHANNEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum channel_outcome { CHANNEL_OK = 0, CHANNEL_RETRY = 1, CHANNEL_FAIL = 2 };

struct channel_ctx {
    const struct store_channel *channel; /* the record (kind, name, settings text) */
    json_t *settings;                    /* parsed settings object (borrowed) */
    const char *secret;                  /* decrypted secret or NULL (borrowed) */
    size_t secret_len;
    const char *file_dir;                /* base folder for file channels' relative paths */
    long timeout_ms;                     /* whole-request limit for network calls */
};

/* An image of a post (P16) as samtale stored it (core/image.h: upright, metadata gone, at
 * most 4096 pixels a side, JPEG, PNG or an animated GIF). A connector makes the version
 * its network takes with image_fit; the file and webhook channels write what it is. */
struct channel_media {
    int64_t id;                          /* samtale's id of the image (its media row) */
    const unsigned char *data;           /* the bytes (borrowed for the call) */
    size_t len;
    const char *type;                    /* image/jpeg, image/png, image/gif */
    int width, height;
    int frames;                          /* > 1: an animated GIF */
    const char *sha256;                  /* hex SHA-256 of data */
    const char *alt;                     /* alt text, "" for none */
};

struct channel_post {
    int64_t occurrence_id;
    int64_t post_id;
    int64_t planned_at;                  /* Unix seconds */
    const char *text;                    /* the variant chosen for this occurrence */
    const char *link;                    /* or NULL */
    const char *idempotency_key;         /* stable for the occurrence, at most 80 chars */
    const struct channel_media *media;   /* the post's images in order, or NULL (P16) */
    size_t nmedia;                       /* at most 4 */
};

struct channel_result {
    int outcome;                         /* enum channel_outcome */
    int retry_after;                     /* seconds the peer asked us to wait; 0 = ours */
    int http_status;                     /* for logs and messages; 0 when none */
    char remote_id[256];                 /* the network's id of what was published */
    char remote_url[512];
    char parts[8192];                    /* published as a thread: the ids of the parts after
                                            the first, a JSON list ("" for a single post): 24
                                            at:// URIs of the longest DIDs fit */
    char message[512];                   /* for people: what happened, what to do */
    int reconnect;                       /* 1: the network refused the channel's credentials;
                                            nothing will work until someone reconnects it */
    int address_refused;                 /* 1: the outbound address policy refused the address
                                            the channel's settings name (nothing was sent);
                                            permanent until the settings change */
};

/* A message read from a network: a mention, reply, quote or direct message. Every string
 * is borrowed for the duration of the callback; NULL when the network gave none (never
 * for kind, remote_id, author_id and text). */
struct channel_message {
    const char *kind;                    /* "mention", "reply", "quote", "direct" */
    const char *remote_id;               /* at:// URI, status id, ... */
    const char *remote_url;
    const char *parent_id, *root_id;     /* what it answers, and its thread's first post */
    const char *thread_id;               /* a direct conversation's id */
    const char *author_id, *author_handle, *author_name;
    const char *text;                    /* plain text (HTML already turned into text) */
    int64_t created_at;                  /* Unix seconds, as the network says */
};

/* Called for each message read; a non-OK return stops the reading (and is returned). */
typedef int (*channel_message_fn)(const struct channel_message *m, void *arg);

/* Counts of one published post; -1 where the network does not count that. */
struct channel_counts {
    int64_t likes, reposts, replies, quotes;
};

struct channel_ops {
    const char *kind;
    int can_publish;                     /* feeds and jetstream only listen */
    int can_delete;                      /* for replace-on-repost (P4) */
    int (*publish)(const struct channel_ctx *ctx, const struct channel_post *post,
                   struct channel_result *res);
    /* Deletes what publish made; idempotent (already gone is CHANNEL_OK). */
    int (*remove)(const struct channel_ctx *ctx, const char *remote_id, struct channel_result *res);
    /* Sends an event document (e.g. {"type":"post.failed",...}) with an idempotency key;
     * NULL for channels that do not take events (X4 outbound webhooks). */
    int (*notify)(const struct channel_ctx *ctx, json_t *event, const char *key, struct channel_result *res);
    /* Checks that the credentials work and adds what the network says of the account to
     * info (e.g. "did", "handle", "account_id", "acct", "display_name"); NULL when the
     * channel has nothing to check. res->reconnect is set when they are refused. */
    int (*verify)(const struct channel_ctx *ctx, json_t *info, struct channel_result *res);
    /* Reads mentions, replies, quotes and direct messages that arrived after cursor (the
     * connector's own text, "" the first time), calling fn for each, oldest first; writes
     * the cursor to keep into next (next_n bytes; unchanged text when nothing new). A
     * message may be delivered again after a crash: the store keeps one per remote_id.
     * NULL for channels that do not read. */
    int (*fetch_inbound)(const struct channel_ctx *ctx, const char *cursor, channel_message_fn fn, void *arg,
                         char *next, size_t next_n, struct channel_result *res);
    /* Fetches the counts of what publish made (remote_id). NULL when the network has none. */
    int (*fetch_counts)(const struct channel_ctx *ctx, const char *remote_id, struct channel_counts *out,
                        struct channel_result *res);
};

/* Sets res's outcome and its message for people (printf-style). The message is worded in
 * English when it happens and stored so; the format is a text of the message catalogues
 * (xgettext reads these calls), so a reader's dashboard shows it in their language
 * (i18n_message). */
void channel_result_set(struct channel_result *res, int outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Keeps the ids of a thread's parts after the first (later: a JSON list, or NULL for a
 * single post) in res->parts, so that replacing the copy deletes the whole thread. */
void channel_result_parts(struct channel_result *res, const json_t *later);
/* Sets only res's message, as channel_result_set does. */
void channel_result_say(struct channel_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties res, with CHANNEL_FAIL until something better is known. */
void channel_result_clear(struct channel_result *res);

/* A count member of a network's JSON answer (a non-negative integer), or -1. */
int64_t channel_count(json_t *obj, const char *key);

/* What the file and webhook channels write of a post's images: a list of {"id","sha256",
 * "type","width","height","bytes","frames","alt"}, never the bytes (new reference; NULL when
 * out of memory). */
json_t *channel_media_json(const struct channel_post *post);

/* The connector for a kind, or NULL. */
const struct channel_ops *channel_ops_for(const char *kind);

#endif
