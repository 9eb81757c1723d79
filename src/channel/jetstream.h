/*
 * jetstream.h: a client for Bluesky's Jetstream (CH4): a WebSocket that streams the
 * network's events as JSON, one event per text message. It sits in channel/ as a
 * listening connector (it never publishes); the engine's listener drives it.
 *
 * Built on libwebsockets (client API), one lws_context per client. The service loop runs
 * in the caller's thread: jetstream_run() blocks, connects, hands each event to the
 * callback, reconnects after every disconnect or error, and returns only when
 * jetstream_stop() is called (from any thread), the callback asks to stop, or
 * max_reconnects reconnects in a row failed. See docs/jetstream.md.
 *
 * Wire format (Jetstream v1): GET {base}/subscribe?wantedCollections=C&...&cursor=T, then
 * text messages such as
 *   {"did":"did:plc:..","time_us":1725911162329308,"kind":"commit",
 *    "commit":{"rev":"..","operation":"create","collection":"app.bsky.feed.post",
 *              "rkey":"..","record":{...},"cid":"bafy.."}}
 *   {"did":..,"time_us":..,"kind":"identity","identity":{"did":..,"handle":..,"seq":..}}
 *   {"did":..,"time_us":..,"kind":"account","account":{"active":true,"did":..,"seq":..}}
 *
 * Invariants: the cursor is the time_us of the last event handed to the callback (or the
 * configured start cursor); events arrive in time_us order, so an event with
 * time_us <= cursor has been handled already and is dropped (counted as a duplicate).
 * A reconnect asks for cursor - rewind, so nothing between the last handled event and the
 * disconnect is missed. Every message is bounded by max_frame bytes.
 */
#ifndef SAM_JETSTREAM_H
#define SAM_JETSTREAM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum jetstream_kind {
    JETSTREAM_OTHER = 0,   /* a well-formed event of a kind this client does not know */
    JETSTREAM_COMMIT = 1,
    JETSTREAM_IDENTITY = 2,
    JETSTREAM_ACCOUNT = 3
};

enum jetstream_operation {
    JETSTREAM_OP_NONE = 0, /* not a commit */
    JETSTREAM_CREATE = 1,
    JETSTREAM_UPDATE = 2,
    JETSTREAM_DELETE = 3
};

/* One event. Every pointer is borrowed from root: valid during the callback, or until
 * jetstream_event_cleanup() for an event filled by jetstream_parse_event(). */
struct jetstream_event {
    int kind;                  /* enum jetstream_kind */
    const char *kind_name;     /* as sent: "commit", "identity", "account", ... */
    const char *did;           /* starts with "did:" */
    int64_t time_us;           /* > 0 */
    /* commit events */
    int operation;             /* enum jetstream_operation */
    const char *collection;    /* e.g. "app.bsky.feed.post" */
    const char *rkey;
    const char *rev;           /* or NULL */
    const char *cid;           /* NULL for delete */
    json_t *record;            /* an object; NULL for delete */
    /* identity events */
    const char *handle;        /* or NULL */
    /* account events */
    int active;                /* 1 or 0 */
    const char *status;        /* or NULL (e.g. "takendown", "deactivated") */
    /* identity and account events: the relay's sequence number, or 0 */
    int64_t seq;
    json_t *root;              /* the whole document; owned by the event */
};

/* Parses one Jetstream message of len bytes (need not be NUL-terminated). SAM_OK fills ev
 * (kind JETSTREAM_OTHER for a well-formed event of an unknown kind); SAM_EINVAL when the
 * text is not JSON or lacks a required field (message says which); SAM_ENOMEM. ev is
 * always safe to pass to jetstream_event_cleanup afterwards. */
int jetstream_parse_event(const char *json, size_t len, struct jetstream_event *ev);

/* Releases what jetstream_parse_event() took; ev's pointers become invalid. */
void jetstream_event_cleanup(struct jetstream_event *ev);

/* Called once per new event, in order, on the thread running jetstream_run(). Returning
 * SAM_OK marks the event handled (the cursor moves to its time_us); any other value stops
 * jetstream_run(), which returns it, and the event does not count as handled. */
typedef int (*jetstream_event_fn)(const struct jetstream_event *ev, void *user);

struct jetstream_config {
    const char *url;               /* ws://host[:port][/path] or wss://...; "/subscribe" is
                                      appended unless the path already ends with it */
    const char *const *collections; /* wantedCollections (NSIDs or "prefix.*"), or NULL */
    size_t n_collections;          /* at most 100, as Jetstream allows */
    int64_t cursor;                /* time_us of the last event already handled; 0 = live */
    long rewind_ms;                /* resume this long before the cursor (default 3000) */
    long ping_interval_ms;         /* send a ping this often (default 20000) */
    long silence_timeout_ms;       /* no frame and no pong for this long: dead (60000) */
    long connect_timeout_ms;       /* TCP + TLS + upgrade (default 10000) */
    long backoff_min_ms;           /* first reconnect delay, doubled per failure (250) */
    long backoff_max_ms;           /* longest reconnect delay (30000) */
    int max_reconnects;            /* reconnects in a row that may fail (none delivering
                                      an event) before jetstream_run gives up with SAM_EIO:
                                      1 + max_reconnects attempts; 0 = never (default) */
    size_t max_frame;              /* largest message in bytes (default 1 MiB) */
    jetstream_event_fn on_event;
    void *user;                    /* passed to on_event */
};

/* Counters since jetstream_new(); a consistent snapshot. */
struct jetstream_stats {
    uint64_t events;               /* handed to the callback and accepted */
    uint64_t duplicates;           /* dropped: time_us <= cursor (the rewind's replay) */
    uint64_t malformed;            /* not JSON, missing fields, binary: skipped */
    uint64_t oversized;            /* over max_frame: skipped */
    uint64_t skipped;              /* well-formed events of unknown kinds: skipped */
    uint64_t connects;             /* WebSocket connections established */
    uint64_t attempts;             /* connection attempts, the first one included */
    uint64_t reconnects;           /* attempts after a disconnect or a failure */
    uint64_t heartbeat_timeouts;   /* connections dropped as silent */
    uint64_t pings;                /* pings sent */
    uint64_t pongs;                /* pongs received */
    int64_t cursor;                /* time_us of the last handled event */
    int connected;                 /* 1 while a connection is established */
};

struct jetstream;

/* Fills cfg with the defaults above (no URL, no callback). */
void jetstream_config_init(struct jetstream_config *cfg);

/* A client for cfg (copied; cfg's strings may go away after the call). SAM_EINVAL with a
 * message for a bad URL, collection or setting; SAM_ENOMEM; SAM_EINTERNAL when
 * libwebsockets cannot make its context. Free with jetstream_free(). Lowers
 * libwebsockets' process-wide log level to errors only. */
int jetstream_new(const struct jetstream_config *cfg, struct jetstream **out);

/* Closes everything; accepts NULL. Must not run while jetstream_run() does. */
void jetstream_free(struct jetstream *js);

/* Runs the client in this thread until stopped: SAM_OK after jetstream_stop(), the
 * callback's code when it asked to stop, SAM_EIO when max_reconnects reconnects in a row
 * failed, SAM_EPERM (at once, with a message for people) when the outbound address policy
 * (util/netpolicy.h) refuses every address of the URL's host; each attempt resolves the
 * host anew and connects only to an address the policy allowed. Closes the connection
 * with a close frame before returning. One thread at a
 * time; after a stop the client stays stopped (a later run returns SAM_OK at once). */
int jetstream_run(struct jetstream *js);

/* Asks jetstream_run() to return; safe from any thread (not from a signal handler), and
 * before jetstream_run() has started. Does not wait. */
void jetstream_stop(struct jetstream *js);

/* Copies the counters; safe from any thread. */
void jetstream_get_stats(struct jetstream *js, struct jetstream_stats *out);

/* The path and query of a subscription, e.g.
 * "/subscribe?wantedCollections=app.bsky.feed.post&cursor=1725911162329308", into out
 * (reset first). base_path is the URL's path ("" or "/" for none); cursor 0 means none.
 * SAM_EINVAL for a collection with characters outside [A-Za-z0-9.-] (and a final "*"),
 * SAM_ETOOBIG past out's limit. */
int jetstream_subscribe_path(const char *base_path, const char *const *collections,
                             size_t n_collections, int64_t cursor, struct buf *out);

#endif
