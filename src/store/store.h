/*
 * store.h: the one interface to samtale's database.
 *
 * Callers (core/, web/, cli/) use only the store_* functions below. The queries behind
 * them (sql.c) are written once and run on SQLite or PostgreSQL through a small driver
 * per engine (db.h). Every function returns SAM_OK or an error code from
 * util/err.h: SAM_ENOTFOUND when the object does not exist, SAM_ECONFLICT for a unique or
 * invariant violation (message names which), SAM_ESTORE for a database failure.
 *
 * Data: instants are int64 Unix seconds (UTC). Small strings live in fixed arrays sized
 * by the limits below (core/ validates before storing); larger values (settings JSON,
 * encrypted secrets, audit details) are heap strings owned by the struct and released by
 * its *_cleanup function. List functions return a malloc'd array the caller releases
 * with the matching *_list_free; they return at most `limit` items that come after the
 * cursor `after` (an id; 0 = from the start) in id order (audit: newest first, `after` is
 * then an upper bound).
 */
#ifndef SAM_STORE_H
#define SAM_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX 400  /* bytes: 100 characters of up to 4 bytes */
#define STORE_EMAIL_MAX 254
#define STORE_TZ_MAX 64
#define STORE_ROLE_MAX 15
#define STORE_KIND_MAX 15
#define STORE_SCOPES_MAX 400

struct store;

struct store_workspace {
    int64_t id;
    char name[STORE_NAME_MAX + 1];
    char timezone[STORE_TZ_MAX + 1];
    int64_t created_at;
    char role[STORE_ROLE_MAX + 1]; /* the asking user's role, when listed for a user */
    char mix_preset[16];           /* gentle, balanced, retail (P6) */
    int require_second_factor;     /* owners and editors must use a second factor (X6) */
    char approval[24];             /* whose posts need approval (P12): off, agents, editors_and_agents */
    int require_alt_text;          /* every image of a post needs alt text (P16) */
};

struct store_user {
    int64_t id;
    char email[STORE_EMAIL_MAX + 1];
    char name[STORE_NAME_MAX + 1];
    char password_hash[160]; /* argon2id string, "" when none is set */
    int must_change_password;
    int64_t created_at;
    int64_t last_login_at;          /* 0 = never */
    int failed_logins;              /* failed logins since the last successful one */
    int64_t failed_login_at;        /* the last of them, 0 = none */
    char failed_login_addr[64];     /* the address it came from */
    int64_t failed_notified_at;     /* when the owner was last mailed about them */
    int64_t totp_enabled_at;        /* 0: no second factor */
};

struct store_member {
    int64_t workspace_id;
    int64_t user_id;
    char workspace_name[STORE_NAME_MAX + 1];
    char email[STORE_EMAIL_MAX + 1];
    char name[STORE_NAME_MAX + 1];
    char role[STORE_ROLE_MAX + 1];
    int64_t created_at;
    int workspace_requires_second_factor; /* the workspace asks owners and editors for one */
    int second_factor;                    /* the account has one */
    char workspace_approval[24];          /* the workspace's approval setting (P12) */
};

struct store_session {
    int64_t id;
    int64_t user_id;
    char csrf_token[64];
    int64_t created_at;
    int64_t last_seen_at;
    int64_t expires_at;
    int notice_failed;              /* failed logins before this one, to tell once (0 = none) */
    int64_t notice_failed_at;
    char notice_failed_addr[64];
};

/* An invitation to a workspace (X6): a pending one has accepted_at and revoked_at 0. */
struct store_invitation {
    int64_t id, workspace_id;
    char email[STORE_EMAIL_MAX + 1];  /* lower case */
    char name[STORE_NAME_MAX + 1];    /* suggested name, "" for none */
    char role[STORE_ROLE_MAX + 1];
    char language[8];                 /* of the mail and the page: en, nb, sv */
    char delivery[8];                 /* link (shown to the inviter once) or email */
    int64_t invited_by;               /* 0 when that account is gone */
    char inviter_name[STORE_NAME_MAX + 1];  /* filled by reads */
    char workspace_name[STORE_NAME_MAX + 1];
    int64_t created_at, expires_at, accepted_at, revoked_at;
};

/* The second factor of an account: sealed secrets (owned; NULL when none). */
struct store_totp {
    unsigned char *secret;            /* the enabled one */
    size_t secret_len;
    unsigned char *pending;           /* the one being enrolled */
    size_t pending_len;
    int64_t enabled_at, last_step;
};

/* A login waiting for its second factor. */
struct store_challenge {
    int64_t user_id;
    char address[64];
    int attempts;
    int64_t created_at, expires_at;
};

/* A message in the mail outbox: written by core_mail_enqueue, sent by the mailer. */
struct store_mail {
    int64_t id;
    char recipient[STORE_EMAIL_MAX + 1];
    char *subject;            /* owned */
    char *body;               /* owned; NULL in lists (store_mail_list) */
    int sealed;               /* body is sealed under the secret key (base64); emptied once done */
    char kind[STORE_KIND_MAX + 1];
    char state[16];           /* queued, sending, sent, failed */
    int attempts;
    int64_t next_attempt_at;  /* when a queued message is due */
    char lease_owner[48];     /* who is sending it (state sending) */
    int64_t lease_until;
    char last_error[512];     /* for people: why the last attempt failed, "" when none */
    char reply[512];          /* the mail server's last reply, "" when none */
    int64_t created_at, updated_at, sent_at;
};

/* What the mailer writes back after an attempt. */
struct store_mail_outcome {
    const char *state;        /* sent, queued (try again at next_attempt_at), failed */
    const char *error;        /* NULL: none */
    const char *reply;        /* NULL: none */
    int64_t next_attempt_at;
};

#define STORE_MAIL_NSTATES 4  /* queued, sending, sent, failed (store_mail_counts) */

struct store_token {
    int64_t id;
    int64_t workspace_id;
    int64_t user_id;
    char name[STORE_NAME_MAX + 1];
    char scopes[STORE_SCOPES_MAX + 1]; /* space-separated */
    char prefix[16];
    int64_t created_at;
    int64_t last_used_at; /* 0 = never */
    int64_t revoked_at;   /* 0 = active */
};

struct store_channel {
    int64_t id;
    int64_t workspace_id;
    char kind[STORE_KIND_MAX + 1];
    char name[STORE_NAME_MAX + 1];
    char timezone[STORE_TZ_MAX + 1];
    char status[16];         /* active, or reconnect (credentials refused; queue held) */
    char status_message[512];/* for people: why the status is what it is, "" when active */
    char *settings;          /* JSON object text, owned */
    char *slots;             /* JSON list of "mon 09:00", owned */
    int max_per_hour;        /* frequency caps (P7) */
    int max_per_day;
    int64_t paused_at;       /* 0: its queue publishes; else when a member paused it */
    unsigned char *secret;   /* encrypted blob or NULL, owned */
    size_t secret_len;
    int64_t created_at;
    int64_t updated_at;
};

struct store_audit {
    int64_t id;
    int64_t workspace_id;
    char actor[STORE_EMAIL_MAX + 32];
    char action[64];
    char target[128];
    char *detail; /* JSON object text, owned */
    int64_t at;
};

struct store_post {
    int64_t id;
    int64_t workspace_id;
    int64_t author_id;        /* 0 when the author's account is gone */
    char *text;               /* owned */
    char *link;               /* owned; NULL for none */
    char category[16];        /* value, promo, personal, share, dialogue */
    char *campaign;           /* owned; NULL for none */
    char *variants;           /* owned JSON list of alternative texts */
    char state[16];           /* draft, scheduled, published, failed, cancelled */
    char *override_reason;    /* owned; why a blocking check was overridden */
    int64_t created_at, updated_at;
    const struct store_offer *offers; /* borrowed, store_post_insert only: stored with the post */
    size_t noffers;
    char approval[24];        /* none, pending, changes_requested, approved, rejected (P12); "" = none */
    /* Borrowed, store_post_insert and store_post_update: with media_set the post's images
     * become these (none when nmedia is 0), in the same transaction; without, they stay. */
    const struct store_post_media *media;
    size_t nmedia;
    int media_set;
};

/* An image of a workspace (P16), stored once by the SHA-256 of its bytes. */
struct store_media {
    int64_t id, workspace_id;
    char sha256[65];          /* hex */
    char type[16];            /* image/jpeg, image/png, image/gif */
    int width, height, frames;
    int64_t bytes;
    unsigned char *data;      /* owned; NULL unless read with its bytes */
    int64_t created_by;       /* 0 when unknown or gone */
    int64_t created_at, uploaded_at;
};

/* An image on a post, in its place. */
struct store_post_media {
    int64_t media_id;
    int position;             /* 0.. in the post's order */
    const char *alt;          /* "" for none; owned by lists (freed with them), borrowed on insert */
    struct store_media media; /* the image, read with the list (its bytes only when asked) */
};

/* A channel-exclusive offer code (P15). */
struct store_offer {
    int64_t id, workspace_id, post_id, channel_id; /* channel_id 0 once the channel is gone */
    char channel_name[STORE_NAME_MAX + 1];
    char code[40];            /* upper case A-Z 0-9 - _ */
    int64_t created_at;
    int64_t published_at;     /* in lists: when its occurrence went out, 0 if not (yet) */
};

/* One step of a post's approval (P12): who did what, when, with what note. */
struct store_approval {
    int64_t id, workspace_id, post_id;
    char action[24];          /* submitted, resubmitted, approved, changes_requested, rejected */
    int64_t actor_id;         /* the account; 0 for the operator (CLI) or an account since removed */
    char actor[STORE_EMAIL_MAX + 32];    /* as the audit log names who acted */
    char actor_name[STORE_NAME_MAX + 1]; /* filled by reads: the account's name, "" when none */
    char *note;               /* owned; NULL for none */
    int64_t at;
    char *post_text;          /* owned; filled by store_approval_notices only */
};

/* A change of a post's approval made together with another write, as compare and set: the
 * write happens only while the post's approval is still `from` (else SAM_ECONFLICT, and
 * nothing is written), which then becomes `to`, with `step` (NULL: none) added to its
 * history. Going to pending or changes_requested also touches the post's scheduled
 * occurrences, so that a publisher claiming one of them meanwhile (on PostgreSQL, in
 * another transaction) and this write cannot both succeed. */
struct store_approval_change {
    int64_t post;
    const char *from, *to;
    const struct store_approval *step;
};

/* One delivery of one post to one channel at one instant (P10). */
struct store_occurrence {
    int64_t id;
    int64_t workspace_id, post_id, channel_id, series_id;
    int variant;              /* index into the post's texts: 0 = text, 1.. = variants */
    int64_t planned_at;
    char state[16];           /* scheduled, publishing, published, failed, cancelled */
    char idempotency_key[48];
    int attempts;
    int64_t next_attempt_at;  /* 0 = at planned_at */
    char lease_owner[48];
    int64_t lease_until;
    char remote_id[256];
    char remote_url[512];
    char last_error[512];
    int64_t published_at, deleted_at, created_at, updated_at;
    char wait_reason[16];     /* "" (not waiting), hour_cap or day_cap: due, held by a cap */
    int64_t wait_limit;       /* the cap it waits for */
};

/* An evergreen series (P3): the rule a post's copies were planned by. */
struct store_series {
    int64_t id, workspace_id, post_id;
    int per_day, days, max_count, min_gap_minutes, replace_previous;
    int64_t until_at, created_at;
};

/* An occurrence with what the checks need of its post, from one query. */
struct store_queue_item {
    int64_t post_id, channel_id, at;  /* at: published_at, else planned_at */
    int variant, published;
    char category[16];
    char *text;                       /* owned: the post's text */
    char *variants;                   /* owned: the post's variants (JSON list) */
    int64_t occurrence_id;
    int64_t planned_at;               /* filled by store_queue_channel only */
};

/* What store_queue_near reads: one channel's scheduled, in-flight and published (not
 * deleted) occurrences whose time (published_at, else planned_at) is in [from, to] and
 * whose planned_at is in [planned_from, planned_to), except those of post exclude_post (0:
 * none); the first `limit` in (time, post, occurrence) order, or with last the last
 * `limit`, latest first. */
struct store_queue_range {
    int64_t channel;
    int64_t from, to;
    int64_t planned_from, planned_to;
    int64_t exclude_post;
    int limit;
    int last;
};

/* An occurrence with what the calendar shows of its post, from one query (the queue's
 * pages, the iCalendar feed). */
struct store_occurrence_post {
    struct store_occurrence occ;
    char category[16];
    char *text;                       /* owned: the post's text */
    char *variants;                   /* owned: the post's variants (JSON list) */
    char *campaign;                   /* owned: the post's campaign, NULL when it has none */
    /* A copy of a series (occ.series_id set): the copies of its series on its channel that
     * are not cancelled, and its place among them in time order (1-based; 0 when it is
     * cancelled itself). Both 0 for an occurrence of no series. */
    int64_t series_copy, series_total;
    char approval[24];                /* the post's approval (P12) */
};

/* What the publisher writes back after calling a channel. */
struct store_outcome {
    const char *state;        /* published, scheduled (retry later), failed */
    const char *remote_id, *remote_url, *error;
    const char *remote_parts; /* published as a thread: the ids of the parts after the first
                                 (a JSON list), or NULL */
    int64_t next_attempt_at, published_at;
};

/* A message read from a network (D1): a mention, reply, quote or direct message. Strings
 * are owned (NULL when the network gave none, except remote_id, author_id and text). */
struct store_message {
    int64_t id, workspace_id, channel_id;
    char kind[16];                    /* mention, reply, quote, direct */
    char *remote_id, *remote_url;     /* the network's id (at:// URI, status id) and link */
    char *parent_remote_id, *root_remote_id; /* what it answers, the thread's first post */
    char *thread_id;                  /* a direct conversation's id */
    char *author_id, *author_handle, *author_name;
    char *text;                       /* plain text */
    int64_t created_at, received_at;
    char channel_name[STORE_NAME_MAX + 1]; /* filled by lists */
    char channel_kind[STORE_KIND_MAX + 1];
};

/* Engagement counts of a published occurrence at a checkpoint after publishing (M6).
 * Counts are -1 until fetched (or when the network does not count that). */
struct store_engagement {
    int64_t occurrence_id, checkpoint, due_at, fetched_at;
    int attempts;
    int64_t likes, reposts, replies, quotes;
    char error[512];
    /* filled by store_engagement_due and _list from the occurrence: */
    int64_t workspace_id, post_id, channel_id, published_at;
    char remote_id[256];
};

/* An OAuth connection waiting for the user to come back from the instance. */
struct store_oauth {
    char state_hash[65];              /* hex BLAKE2b of the state sent out */
    int64_t workspace_id, user_id, channel_id; /* channel_id: 0 = a new channel */
    char kind[STORE_KIND_MAX + 1];
    char *detail;                     /* JSON object text, owned */
    unsigned char *secret;            /* sealed client secret or NULL, owned */
    size_t secret_len;
    int64_t created_at, expires_at;
};

struct store_stats {
    int schema_version;
    int64_t db_bytes;
    int64_t free_bytes;
    int64_t workspaces, users, channels, sessions, tokens;
};

typedef void (*store_progress_fn)(int remaining, int total, void *arg);


/* A store: opaque (sql.c). */
struct store;

/* Connections a store keeps: on SQLite the writer and up to 3 readers beside it, on
 * PostgreSQL up to 8, opened as they are needed. */
#define STORE_SQLITE_POOL 4
#define STORE_PG_POOL 8

/* Opens the database named by url: a PostgreSQL URL (postgresql://user@host/db, or
 * postgres://; libpq's parameters such as ?host=/run/postgresql apply), a file path or
 * "sqlite:PATH" (created when missing, with its directory). Does not migrate. *out is
 * freed with store_close. */
int store_open(const char *url, struct store **out);
void store_close(struct store *st);
/* A number no other store opened by this process has had (none is 0): what a cache kept
 * beside a store is keyed by, since a closed store's address can come back. */
uint64_t store_serial(const struct store *st);

/* Applies pending migrations in one transaction each; *version gets the schema version. */
int store_migrate(struct store *st, int *version);
int store_schema_version(struct store *st, int *version);
/* The version the embedded migrations lead to. */
int store_latest_version(void);
/* How many embedded migrations the database has still to apply (*n). */
int store_pending_migrations(struct store *st, int *n);
/* SAM_OK when the database answers a trivial query. */
int store_ping(struct store *st);
int store_stats(struct store *st, struct store_stats *out);
/* A consistent copy of the live database into dest (replaced if it exists). */
int store_backup(struct store *st, const char *dest, store_progress_fn fn, void *arg);
/* SAM_OK and "ok" when the database passes its integrity check. */
int store_integrity_check(struct store *st, char *msg, size_t n);

/* Inserts fill in the new id (and keep the other fields). */
int store_workspace_insert(struct store *st, struct store_workspace *ws);
int store_workspace_get(struct store *st, int64_t id, struct store_workspace *out);
int store_workspace_get_by_name(struct store *st, const char *name, struct store_workspace *out);
int store_workspace_update(struct store *st, const struct store_workspace *ws);
/* user_id 0: every workspace; otherwise those the user belongs to, with role set. */
int store_workspace_list(struct store *st, int64_t user_id, int64_t after, int limit,
                         struct store_workspace **items, size_t *n);

int store_user_insert(struct store *st, struct store_user *u);
int store_user_get(struct store *st, int64_t id, struct store_user *out);
/* Email comparison ignores ASCII case. */
int store_user_get_by_email(struct store *st, const char *email, struct store_user *out);
int store_user_set_password(struct store *st, int64_t id, const char *hash, int must_change);
int store_user_count(struct store *st, int64_t *n);

int store_member_insert(struct store *st, struct store_member *m);
int store_member_get(struct store *st, int64_t ws, int64_t user, struct store_member *out);
/* SAM_ECONFLICT when the change would leave the workspace without an owner. */
int store_member_set_role(struct store *st, int64_t ws, int64_t user, const char *role);
int store_member_delete(struct store *st, int64_t ws, int64_t user);
/* ws 0: every workspace's members; user 0: every user. Ordered by (workspace, user);
 * `after` is a user id within one workspace. */
int store_member_list(struct store *st, int64_t ws, int64_t user, int64_t after, int limit,
                      struct store_member **items, size_t *n);

int store_session_insert(struct store *st, const unsigned char hash[32], struct store_session *s);
int store_session_get(struct store *st, const unsigned char hash[32], struct store_session *out);
int store_session_touch(struct store *st, int64_t id, int64_t now, int64_t expires);
int store_session_delete(struct store *st, const unsigned char hash[32]);
/* Ends every session of the user but keep_id (0: all), and every login of the user
 * still waiting for its second factor (login_challenges). */
int store_session_delete_user(struct store *st, int64_t user_id, int64_t keep_id);

int store_token_insert(struct store *st, const unsigned char hash[32], struct store_token *t);
int store_token_get(struct store *st, int64_t id, struct store_token *out);
int store_token_get_by_hash(struct store *st, const unsigned char hash[32], struct store_token *out);
/* ws 0: every workspace's tokens. */
int store_token_list(struct store *st, int64_t ws, int64_t after, int limit,
                     struct store_token **items, size_t *n);
int store_token_revoke(struct store *st, int64_t id, int64_t now);
int store_token_touch(struct store *st, int64_t id, int64_t now);

int store_channel_insert(struct store *st, struct store_channel *c);
int store_channel_get(struct store *st, int64_t id, struct store_channel *out);
int store_channel_update(struct store *st, const struct store_channel *c);
int store_channel_delete(struct store *st, int64_t id);
/* ws 0: every workspace's channels; kind NULL: every kind. */
int store_channel_list(struct store *st, int64_t ws, const char *kind, int64_t after, int limit,
                       struct store_channel **items, size_t *n);
void store_channel_cleanup(struct store_channel *c);
void store_channel_list_free(struct store_channel *items, size_t n);

/* Sets (or with NULL removes) the hash of a workspace's calendar feed token, and finds a
 * workspace by it. */
int store_workspace_set_ical(struct store *st, int64_t ws, const char *token_hash);
int store_workspace_by_ical(struct store *st, const char *token_hash, struct store_workspace *out);

/* Inserts a post and its occurrences in one transaction; fills every id. Each occurrence
 * needs channel_id, planned_at, variant and idempotency_key; state defaults to scheduled.
 * With p->id set it schedules that draft instead: the post's row is updated (SAM_ECONFLICT
 * unless it is still a draft of p->workspace_id) and the occurrences are added. */
int store_post_insert(struct store *st, struct store_post *p, struct store_occurrence *occ, size_t n);
/* store_post_insert with its audit entry in the same transaction, so the post and the
 * record of who made it are saved together or not at all (and with one commit). The entry
 * is *audit with the detail detail(arg) returns once the ids are set in p and occ (a new
 * JSON text the store frees; NULL from it is SAM_ENOMEM); detail NULL: no detail. */
int store_post_insert_audited(struct store *st, struct store_post *p, struct store_occurrence *occ, size_t n,
                              const struct store_audit *audit, char *(*detail)(void *arg), void *arg,
                              const struct store_approval *step);
int store_post_get(struct store *st, int64_t id, struct store_post *out);

/* A file of posts imported under a key its client chose (P14; migration 0010). */
#define STORE_IMPORT_KEY_MAX 100
struct store_import {
    int64_t id, workspace_id;
    char key[STORE_IMPORT_KEY_MAX + 1];
    char digest[65];          /* BLAKE2b-256 of the file, hex */
    char *posts;              /* owned JSON text: [[line, post id], ...] */
    int64_t created_at;
};
/* One post of store_posts_insert: as store_post_insert_audited takes it. */
struct store_post_new {
    struct store_post *p;
    struct store_occurrence *occ;
    size_t n;
    struct store_audit audit;           /* detail: detail(arg), once the ids are set */
    char *(*detail)(void *arg);
    void *arg;
    const struct store_approval *step;  /* P12: the approval step stored with it, or NULL */
};
/* Inserts posts[0..n), each with its occurrences and audit entry (as
 * store_post_insert_audited; drafts being scheduled are not taken: p->id is reset), then
 * the entry *summary (its detail as given; NULL: none), then, with imp (NULL: none), the
 * import's row (imp->posts, when NULL, from posts_json(arg) once every id is set; a new
 * JSON text the store frees), all in one transaction: everything or nothing is stored.
 * SAM_ECONFLICT, with nothing stored, when the workspace already has an import with
 * imp->key. */
int store_posts_insert(struct store *st, struct store_post_new *posts, size_t n, const struct store_audit *summary,
                       struct store_import *imp, char *(*posts_json)(void *arg), void *arg);
/* The import of workspace ws with that key (SAM_ENOTFOUND when none); free with
 * store_import_cleanup. */
int store_import_get(struct store *st, int64_t ws, const char *key, struct store_import *out);
void store_import_cleanup(struct store_import *i);

/* Inserts a post, its series rule and every planned copy in one transaction; fills the
 * ids (each occurrence gets the series id). step (NULL: none): the first step of the
 * post's approval history (its post_id is set here), as with store_post_insert_audited. */
int store_series_insert(struct store *st, struct store_post *p, struct store_series *s,
                        struct store_occurrence *occ, size_t n, const struct store_approval *step);
int store_series_get(struct store *st, int64_t id, struct store_series *out);
int store_series_list(struct store *st, int64_t ws, int64_t after, int limit, struct store_series **items,
                      size_t *n);
/* The latest published, not yet deleted copy of a series on a channel planned before
 * `before` (for replace on repost, P4). SAM_ENOTFOUND when there is none. */
int store_occurrence_previous(struct store *st, int64_t series, int64_t channel, int64_t before,
                              struct store_occurrence *out);
int store_occurrence_mark_deleted(struct store *st, int64_t id, int64_t now);
/* The workspace's scheduled, in-flight and published (not deleted) occurrences in
 * [from, to) (of one channel, or all with channel 0) with their posts' text, in one query;
 * free with store_queue_items_free. */
int store_queue_items(struct store *st, int64_t ws, int64_t channel, int64_t from, int64_t to,
                      struct store_queue_item **items, size_t *n);
void store_queue_items_free(struct store_queue_item *items, size_t n);
/* The occurrences r names, with their posts' text, from ranges of two indexes (each stops
 * after r->limit rows, however long the queue); free with store_queue_items_free. */
int store_queue_near(struct store *st, const struct store_queue_range *r, struct store_queue_item **items,
                     size_t *n);
/* Every one of a channel's occurrences that store_queue_near reads ranges of (scheduled,
 * in-flight and published, not deleted) planned in [from, to), with their posts' text and
 * planned_at, in its order (time, post, occurrence): for a reader that asks about many
 * ranges of one moment of the queue (a batch of posts, core/post.c). Free with
 * store_queue_items_free. */
int store_queue_channel(struct store *st, int64_t channel, int64_t from, int64_t to, struct store_queue_item **items,
                        size_t *n);
/* The instants a channel's scheduled, in-flight and published occurrences hold in (after,
 * before), ascending and distinct (*times: caller frees), and *freed, the channel's count
 * of instants let go (channels.freed: an occurrence cancelled, failed or moved; it never
 * goes down), both read in one statement, so of one moment. SAM_ENOTFOUND without the
 * channel. */
int store_channel_taken(struct store *st, int64_t channel, int64_t after, int64_t before, int64_t **times,
                        size_t *n, int64_t *freed);
/* Writes text, link, category, campaign, variants and override_reason, unless the post is
 * published or cancelled or one of its occurrences went out or is going out: then
 * SAM_ECONFLICT (the check and the write are one statement). ac (NULL: none) changes the
 * post's approval in the same transaction (see struct store_approval_change). */
int store_post_update(struct store *st, const struct store_post *p, const struct store_approval_change *ac);
/* state NULL: every state. By id ascending; `after` is an id. */
int store_post_list(struct store *st, int64_t ws, const char *state, int64_t after, int limit,
                    struct store_post **items, size_t *n);
/* Cancels the post and its occurrences not yet published or in flight. SAM_ECONFLICT
 * when nothing is left to cancel. */
int store_post_cancel(struct store *st, int64_t id, int64_t now);
void store_post_cleanup(struct store_post *p);
void store_post_list_free(struct store_post *items, size_t n);

/* ---- approval (P12) ---- */

/* An approver's decision on a scheduled post of workspace ws, in one transaction: ac
 * changes its approval (compare and set), and only while its updated_at is still seen
 * (0: any); else SAM_ECONFLICT and nothing changes. Occurrences still scheduled and planned
 * before cancel_before (0: none; INT64_MAX: all of them) are cancelled, and the post's
 * state follows. audit (NULL: none) is written in the same transaction, with detail
 * (a JSON text, borrowed; NULL: none). updated_at becomes now. */
int store_post_decide(struct store *st, int64_t ws, const struct store_approval_change *ac, int64_t seen,
                      int64_t cancel_before, int64_t now, const struct store_audit *audit, const char *detail);
/* A post's approval history, oldest first. Free with store_approval_list_free. */
int store_approval_list(struct store *st, int64_t post, struct store_approval **items, size_t *n);
/* Posts of workspace ws whose approval is `approval` (pending and changes_requested: only
 * those still scheduled), written by author (0: anyone), in id order after `after`. */
int store_approval_queue(struct store *st, int64_t ws, const char *approval, int64_t author, int64_t after,
                         int limit, struct store_post **items, size_t *n);
/* How many posts store_approval_queue would list in all. */
int store_approval_count(struct store *st, int64_t ws, const char *approval, int64_t author, int64_t *n);
/* The decisions (approved, changes_requested, rejected) on author's posts in ws made at or
 * after since, newest first, each with its post's text (post_text). */
int store_approval_notices(struct store *st, int64_t ws, int64_t author, int64_t since, int limit,
                           struct store_approval **items, size_t *n);
void store_approval_cleanup(struct store_approval *a);
void store_approval_list_free(struct store_approval *items, size_t n);

/* Occurrences of workspace ws (0: all) filtered by post and channel (0: any) with
 * planned_at in [from, to) (to 0: no end), ordered by (planned_at, id); at most limit.
 * `after` skips occurrences with id <= after (paging by id when filtering by post). */
/* The offers of a post (*items, caller frees), in channel order of creation. */
int store_offer_list_post(struct store *st, int64_t post, struct store_offer **items, size_t *n);
/* A page of workspace ws's offers, newest first after the cursor (an id; 0: from the
 * newest), with when each one's occurrence was published. */
int store_offer_list(struct store *st, int64_t ws, int64_t before, int limit, struct store_offer **items, size_t *n);
/* The code of post's offer on channel into code (n bytes; "" when none). */
int store_offer_code(struct store *st, int64_t post, int64_t channel, char *code, size_t n);
/* 1 in *used when workspace ws has an offer with code. */
int store_offer_code_used(struct store *st, int64_t ws, const char *code, int *used);
/* One occurrence by id (SAM_ENOTFOUND when none). */
int store_occurrence_get(struct store *st, int64_t id, struct store_occurrence *out);
/* The ids of the parts after the first of a copy published as a thread (a JSON list, new
 * text: free it), NULL for a single post. */
int store_occurrence_parts(struct store *st, int64_t id, char **parts);
/* Moves a scheduled occurrence to planned_at `at` (a retry or cap wait is forgotten: it is
 * due at the new time); SAM_ECONFLICT when it is not scheduled any more (it went out, is
 * going out, or was cancelled). */
int store_occurrence_move(struct store *st, int64_t id, int64_t at, int64_t now,
                          const struct store_approval_change *ac);
/* Cancels one scheduled occurrence (one delivery of a post; its post's other deliveries
 * stay) and derives the post's state again, in one transaction; SAM_ECONFLICT when it is
 * not scheduled any more. */
int store_occurrence_cancel(struct store *st, int64_t id, int64_t now);
int store_occurrence_list(struct store *st, int64_t ws, int64_t post, int64_t channel, int64_t from, int64_t to,
                          int64_t after, int limit, struct store_occurrence **items, size_t *n);
/* A page of workspace ws's occurrences (of one channel, or all with channel 0) with
 * planned_at in [from, to), in (planned_at, id) order, each with its post's text and
 * campaign and its place in its series: the first `limit` after the occurrence `after`
 * (0: from the start). `after` stands for its place in that order, which does not change
 * (planned_at is never rewritten); an id that is not one of the workspace's gives an
 * empty page. Free with store_occurrence_posts_free. */
int store_occurrence_page(struct store *st, int64_t ws, int64_t channel, int64_t from, int64_t to, int64_t after,
                          int limit, struct store_occurrence_post **items, size_t *n);
void store_occurrence_posts_free(struct store_occurrence_post *items, size_t n);
/* Claims up to limit occurrences that are due at `now` (scheduled and past their planned
 * or retry time) or whose lease expired while in flight, in one transaction: they become
 * `publishing` with owner's lease until now + lease_seconds and attempts + 1. This is the
 * intent written before any network call. A due occurrence whose channel already reached
 * its max_per_hour or max_per_day is not claimed: it waits until the cap allows it, with
 * the cap in wait_reason and wait_limit (last_error keeps the last failed attempt's).
 * Nothing of a channel that is not active or is paused is claimed: its occurrences stay
 * as they are until it is active and resumed, then go out oldest first, within the caps.
 * Occurrences of a post waiting for approval (its approval neither none nor approved,
 * P12) are never claimed, however due: the query itself passes them over, and the claim's
 * own update checks the post again, so a post sent back for approval meanwhile stays. */
int store_occurrence_claim(struct store *st, int64_t now, const char *owner, int lease_seconds, int limit,
                           struct store_occurrence **items, size_t *n);
/* When occurrence self of channel, due at `at`, is expected to go out under the channel's
 * caps (max_hour posts an hour, max_day a day) after what the channel published in the day
 * before and what is due before it: *out is `at` when nothing holds it, else the first
 * instant the caps allow, with reason "hour_cap" or "day_cap" and *limit the cap. An
 * estimate (posts planned later cannot delay it; a post added before it can). */
int store_occurrence_expected(struct store *st, int64_t channel, int64_t self, int64_t at, int max_hour, int max_day,
                              int64_t *out, char reason[16], int64_t *limit);
/* Records the result of an attempt, only while owner still holds the lease (else
 * SAM_ECONFLICT: another worker took it over), and brings the post's state up to date. */
int store_occurrence_finish(struct store *st, int64_t id, const char *owner, const struct store_outcome *o);
/* At start of a single-node server (SQLite): every occurrence left in flight by a process
 * that died becomes claimable at once (its channel call is idempotent). *n gets how many.
 * On PostgreSQL, where several servers share the database, nothing is released: a lease
 * that runs out is claimed again by store_occurrence_claim. */
int store_occurrence_release_leases(struct store *st, int *n);
/* Moves the lease of an occurrence owner holds (state publishing) on to until, for a
 * delivery that takes more calls than one (a post with images). SAM_ECONFLICT when owner
 * no longer holds it. */
int store_occurrence_extend_lease(struct store *st, int64_t id, const char *owner, int64_t until);

/* Sets a channel's status (active, reconnect) and the message for people that explains
 * it (NULL or "" when active). The publisher claims nothing for a channel that is not
 * active: its occurrences wait, scheduled, until it is active again. */
int store_channel_set_status(struct store *st, int64_t id, const char *status, const char *message, int64_t now);
/* Marks a channel 'reconnect' with message in one statement, only while it is active and
 * still has the credentials and settings of as_read (the record the refused call used):
 * a channel reconnected meanwhile is left alone. *changed says whether it was marked. */
int store_channel_mark_reconnect(struct store *st, const struct store_channel *as_read, const char *message,
                                 int64_t now, int *changed);
/* Pauses (paused 1: paused_at = now) or resumes (0: paused_at cleared) a channel's queue,
 * in one statement that changes only a channel not already so; *changed says whether it
 * did. The publisher claims nothing of a paused channel (store_occurrence_claim). */
int store_channel_set_paused(struct store *st, int64_t id, int paused, int64_t now, int *changed);
/* Makes a channel that is not active active again (message cleared), in one statement;
 * *changed says whether it was not active. */
int store_channel_reactivate(struct store *st, int64_t id, int64_t now, int *changed);

/* Stores a message read from a network. A message already stored for the channel (same
 * remote_id) is left as it is: *inserted is then 0 and m->id the stored one's id. */
int store_message_insert(struct store *st, struct store_message *m, int *inserted);
/* Newest first (by id); channel 0 and kind NULL: all; before 0 = from the newest. */
int store_message_list(struct store *st, int64_t ws, int64_t channel, const char *kind, int64_t before, int limit,
                       struct store_message **items, size_t *n);
void store_message_cleanup(struct store_message *m);
void store_message_list_free(struct store_message *items, size_t n);

/* A channel's named read position; "" (and SAM_OK) when none was stored. SAM_ETOOBIG when
 * it does not fit in n bytes. */
int store_cursor_get(struct store *st, int64_t channel, const char *name, char *out, size_t n);
int store_cursor_set(struct store *st, int64_t channel, const char *name, const char *value, int64_t now);

/* Plans the engagement fetches of a published occurrence: one per checkpoint (seconds
 * after published_at). Planning again changes nothing. */
int store_engagement_plan(struct store *st, int64_t occurrence, int64_t published_at, const int64_t *checkpoints,
                          size_t n);
/* Fetches due at now (not fetched, due_at <= now, occurrence published and not deleted),
 * oldest first, with the occurrence's remote id and channel. */
int store_engagement_due(struct store *st, int64_t now, int limit, struct store_engagement **items, size_t *n);
/* Writes a fetch's result: counts and fetched_at, or (fetched_at 0) a failed attempt with
 * error and the next due_at. */
int store_engagement_record(struct store *st, const struct store_engagement *e);
/* The fetches of a post's occurrences (post != 0) or of one occurrence, by occurrence and
 * checkpoint; ws limits them to a workspace. */
int store_engagement_list(struct store *st, int64_t ws, int64_t post, int64_t occurrence,
                          struct store_engagement **items, size_t *n);

/* Stores a pending OAuth connection, and takes it back once (it is deleted): SAM_ENOTFOUND
 * when there is none under that state or it expired before now. Expired ones are removed
 * on the way. */
int store_oauth_insert(struct store *st, const struct store_oauth *o);
int store_oauth_take(struct store *st, const char *state_hash, int64_t now, struct store_oauth *out);
void store_oauth_cleanup(struct store_oauth *o);

/* The mail outbox. Inserts a message (fills id); state "" means queued, and a message
 * inserted as sending needs lease_owner and lease_until (a send made at once, `samtale
 * mail test`). updated_at is set to created_at. */
int store_mail_insert(struct store *st, struct store_mail *m);
/* Claims up to limit messages due at now (queued with next_attempt_at <= now, or sending
 * under a lease that ran out), oldest due first, in one transaction: each becomes
 * sending under owner's lease until now + lease_seconds, with attempts + 1. Bodies are
 * loaded. Free with store_mail_list_free. */
int store_mail_claim(struct store *st, int64_t now, const char *owner, int lease_seconds, int limit,
                     struct store_mail **items, size_t *n);
/* Records an attempt's outcome, only while owner holds the lease (else SAM_ECONFLICT):
 * sent (sent_at = now), queued again at o->next_attempt_at, or failed; last_error and
 * reply are replaced by o's (NULL clears them). */
int store_mail_finish(struct store *st, int64_t id, const char *owner, const struct store_mail_outcome *o,
                      int64_t now);
/* Newest first (by id), without bodies; state NULL: every state; before 0 = from the
 * newest. */
int store_mail_list(struct store *st, const char *state, int64_t before, int limit, struct store_mail **items,
                    size_t *n);
/* How many messages are queued, sending, sent and failed, in that order. */
int store_mail_counts(struct store *st, int64_t counts[STORE_MAIL_NSTATES]);
void store_mail_cleanup(struct store_mail *m);
void store_mail_list_free(struct store_mail *items, size_t n);

/* ---- media (P16) ---- */

/* Stores m (workspace_id, sha256, type, width, height, frames, bytes, data, created_by)
 * once per workspace and SHA-256, in one transaction: new, it gets its id and *created 1;
 * already there (the same bytes uploaded before), m gets the stored row's id and times,
 * its uploaded_at becomes now, and *created is 0. */
int store_media_put(struct store *st, struct store_media *m, int64_t now, int *created);
/* An image of workspace ws (SAM_ENOTFOUND for another's), with its bytes when with_data. */
int store_media_get(struct store *st, int64_t ws, int64_t id, int with_data, struct store_media *out);
/* The images of a post in their order, each with its image (bytes when with_data). */
int store_post_media_list(struct store *st, int64_t post, int with_data, struct store_post_media **items,
                          size_t *n);
/* Deletes at most limit images that no post uses and that were last uploaded before
 * `before`; *n gets how many went. */
int store_media_sweep(struct store *st, int64_t before, int limit, int *n);
void store_media_cleanup(struct store_media *m);
void store_post_media_list_free(struct store_post_media *items, size_t n);
int store_workspace_set_require_alt(struct store *st, int64_t ws, int required);
/* Deletes a post of workspace ws none of whose occurrences is scheduled, in flight or
 * published (a draft, a cancelled or a failed post), with its occurrences, series, offers
 * and images' places, in one transaction; the images it used
 * go too when no other post uses them and they were last uploaded before keep_after (a
 * composer may be about to attach one). *media_removed gets how many went.
 * SAM_ENOTFOUND for another workspace's post; SAM_ECONFLICT otherwise. */
int store_post_delete(struct store *st, int64_t ws, int64_t id, int64_t keep_after, int *media_removed);

/* ---- security (X6): login failures, invitations, the second factor ---- */

int store_workspace_set_second_factor(struct store *st, int64_t ws, int required);

/* Counts a failed login on an account (from addr); *count gets the failures since the
 * last successful login. */
int store_user_login_failed(struct store *st, int64_t id, int64_t now, const char *addr, int *count);
/* Records a successful login: last_login_at = now and the failure count cleared; *before
 * gets the account as it was (failed_logins, failed_login_at, failed_login_addr). */
int store_user_login_succeeded(struct store *st, int64_t id, int64_t now, struct store_user *before);
int store_user_failed_notified(struct store *st, int64_t id, int64_t now);
/* Forgets the notice a session carries (the person has seen it). */
int store_session_clear_notice(struct store *st, int64_t id);
/* Revokes every active API token of an account, in every workspace; *n gets how many. */
int store_token_revoke_user(struct store *st, int64_t user_id, int64_t now, int *n);

/* Stores a new invitation (fills its id) and, in the same transaction, withdraws any
 * other pending invitation of the same email to the same workspace. */
int store_invitation_insert(struct store *st, const unsigned char hash[32], struct store_invitation *inv);
/* By id (hash NULL) or by the hash of its link's secret (id 0), whatever its state. */
int store_invitation_get(struct store *st, int64_t id, const unsigned char *hash, struct store_invitation *out);
/* A workspace's pending invitations (expired ones included), by id; `after` is an id. */
int store_invitation_list(struct store *st, int64_t ws, int64_t after, int limit, struct store_invitation **items,
                          size_t *n);
/* Counts invitations: ws's pending ones (by 0), or those made by account `by` since
 * `since` (ws 0), whatever their state. */
int store_invitation_count(struct store *st, int64_t ws, int64_t by, int64_t since, int *n);
/* SAM_ENOTFOUND when there is no pending invitation with that id in ws. */
int store_invitation_revoke(struct store *st, int64_t ws, int64_t id, int64_t now);
/* Accepts the pending, unexpired invitation with that hash, in one transaction: with
 * new_user, creates that account first (SAM_ECONFLICT, field "email", when the email has
 * one); else user_id joins. Adds the membership (SAM_ECONFLICT when already a member) and
 * marks the invitation used. SAM_ENOTFOUND (message: used, withdrawn, expired or unknown)
 * when it cannot be accepted. out gets the invitation. */
int store_invitation_accept(struct store *st, const unsigned char hash[32], int64_t now, struct store_user *new_user,
                            int64_t user_id, struct store_invitation *out);

/* An account's second factor; free with store_totp_cleanup. */
int store_totp_get(struct store *st, int64_t user, struct store_totp *out);
void store_totp_cleanup(struct store_totp *t);
int store_totp_set_pending(struct store *st, int64_t user, const unsigned char *sealed, size_t len);
/* Turns the second factor on with the sealed secret and step of the confirming code, and
 * replaces the recovery codes, in one transaction; the pending secret is cleared. */
int store_totp_enable(struct store *st, int64_t user, const unsigned char *sealed, size_t len, int64_t now,
                      int64_t step, const unsigned char (*hashes)[32], size_t n);
/* Turns it off: secrets and recovery codes removed. */
int store_totp_disable(struct store *st, int64_t user);
/* Records that a code of time step `step` was accepted, in one statement, only when no
 * code of that step or a later one was: SAM_ECONFLICT otherwise (a replayed code). */
int store_totp_use_step(struct store *st, int64_t user, int64_t step);
int store_recovery_replace(struct store *st, int64_t user, const unsigned char (*hashes)[32], size_t n);
/* Uses an unused recovery code once: SAM_ENOTFOUND when none matches. */
int store_recovery_use(struct store *st, int64_t user, const unsigned char hash[32], int64_t now);
int store_recovery_count(struct store *st, int64_t user, int *left);

/* Login challenges (a password checked, the second factor to come). get answers
 * SAM_ENOTFOUND for an unknown or expired one (expired ones are removed on the way);
 * fail counts a wrong code and gives the new count. */
int store_challenge_insert(struct store *st, const unsigned char hash[32], const struct store_challenge *c);
int store_challenge_get(struct store *st, const unsigned char hash[32], int64_t now, struct store_challenge *out);
int store_challenge_fail(struct store *st, const unsigned char hash[32], int *attempts);
int store_challenge_delete(struct store *st, const unsigned char hash[32]);

/* A number that changes after every write to accounts, sessions, API tokens,
 * memberships, workspaces' names and second-factor rule, or recovery codes, by this
 * process or (seen through the database) another: a cache of what authentication read
 * is valid while it stays the same (core/auth.c). */
unsigned long store_auth_generation(struct store *st);

/* ---- several processes on one database (X3) ---- */

/* Planning posts into slots: one planner at a time in the whole installation, so a CLI
 * and several servers never plan two posts into one slot. */
#define STORE_LOCK_PLAN 2
/* Reading the channels (mentions, messages, engagement counts): one worker at a time. */
#define STORE_LOCK_READER 3
#define STORE_LOCK_KINDS 4
struct store_lock;
/* Takes the lock of that kind, waiting up to 30 s (then SAM_ESTORE): every process on
 * the database sees it (PostgreSQL: an advisory lock on a connection of its own; SQLite:
 * a lock file beside the database, DB.plan.lock), and so does every thread of this one.
 * Let go with store_unlock. */
int store_lock(struct store *st, int kind, struct store_lock **out);
/* Like store_lock without waiting: SAM_ECONFLICT when someone else holds it. */
int store_try_lock(struct store *st, int kind, struct store_lock **out);
void store_unlock(struct store_lock *l);
/* Tells the other processes on the database that work became due now (PostgreSQL
 * NOTIFY; nothing on SQLite, whose one process is told directly). */
int store_notify_due(struct store *st);
/* Waits up to timeout_ms for another process's store_notify_due (*got 1 when one came),
 * on a connection of its own; SAM_EUNSUPPORTED on SQLite. */
int store_wait_due(struct store *st, int timeout_ms, int *got);

/* ---- moving an installation (samtale migrate --to) ---- */

#define STORE_COPY_TABLES 32
struct store_copy_table {
    char table[32];
    int64_t rows, target_rows;          /* read from the source; read back from the target */
    uint64_t source_sum, target_sum;    /* order-free checksums of the rows */
};
typedef void (*store_copy_progress_fn)(const char *table, int64_t rows, void *arg);
/* Copies every row of every table of src (read as one snapshot, while it is in use) into
 * dst, which must be migrated to the same version and empty, in one transaction that is
 * committed only when each table read back from dst has src's row count and checksum.
 * out gets one entry per table copied (*n of them), also on failure. */
int store_copy(struct store *src, struct store *dst, store_copy_progress_fn fn, void *arg,
               struct store_copy_table out[STORE_COPY_TABLES], size_t *n);

int store_audit_insert(struct store *st, const struct store_audit *a);
/* Newest first; before 0 = from the newest. */
int store_audit_list(struct store *st, int64_t ws, int64_t before, int limit,
                     struct store_audit **items, size_t *n);
void store_audit_list_free(struct store_audit *items, size_t n);

#endif
