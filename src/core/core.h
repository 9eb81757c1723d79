/*
 * core.h: the product's rules over the store, shared by both front doors (HTTP handlers
 * in web/ and commands in cli/). Nothing here speaks HTTP or parses argv: a handler or a
 * command turns its input into these calls, and turns the result (or the error code and
 * sam_errmsg) into its output.
 *
 * Every function takes a struct core (the store and the secret key) and, where it changes
 * something, the actor who asked, for the audit log. Permission checks are
 * core_allowed(); callers ask before acting. The CLI acts as the system actor, which the
 * operator of the machine is.
 */
#ifndef SAM_CORE_H
#define SAM_CORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slots.h"
#include "store/store.h"

struct core {
    struct store *st;
    unsigned char key[32]; /* encrypts channel secrets; kept outside the database */
    void (*on_due)(void *arg); /* called when something became due now (wakes the publisher) */
    void *on_due_arg;
    void (*on_read)(void *arg); /* called to read the channels now (wakes the poller) */
    void *on_read_arg;
};

/* Planning (placement, checks, insert) runs under this lock, so two posts planned at once
 * see each other (core/post.c). */
void core_plan_lock(void);
void core_plan_unlock(void);

struct actor {
    int system;          /* the CLI operator: every permission */
    int64_t user_id;
    int64_t token_id;    /* 0 unless acting through an API token */
    int64_t token_ws;    /* the token's workspace */
    unsigned scopes;     /* PERM_* bits granted by the token (all for sessions) */
    char label[STORE_EMAIL_MAX + 32]; /* e.g. "owner@example.com" or "token:3 (ci)" */
};

enum perm {
    PERM_WORKSPACES_READ = 1u << 0,
    PERM_WORKSPACES_WRITE = 1u << 1,
    PERM_MEMBERS_READ = 1u << 2,
    PERM_MEMBERS_WRITE = 1u << 3,
    PERM_TOKENS_READ = 1u << 4,
    PERM_TOKENS_WRITE = 1u << 5,
    PERM_CHANNELS_READ = 1u << 6,
    PERM_CHANNELS_WRITE = 1u << 7,
    PERM_AUDIT_READ = 1u << 8,
    PERM_POSTS_READ = 1u << 9,
    PERM_POSTS_WRITE = 1u << 10,
    PERM_ALL = (1u << 11) - 1
};

/* ---- secrets (core/secret.c) ---- */

/* Loads the key from base64 text (when key_b64 is non-empty) or from key_file, creating
 * that file with a new random key (mode 0600) when it does not exist. */
int core_key_load(struct core *c, const char *key_b64, const char *key_file);
/* Encrypts plain into a new buffer (nonce || ciphertext); the caller frees *out. */
int core_secret_seal(const struct core *c, const void *plain, size_t len,
                     unsigned char **out, size_t *outlen);
/* Decrypts; *out is a NUL-terminated buffer the caller frees (after sodium_memzero). */
int core_secret_open(const struct core *c, const unsigned char *sealed, size_t len,
                     char **out, size_t *outlen);

/* ---- authentication and permissions (core/auth.c) ---- */

int core_password_hash(const char *password, char out[160]);
/* 1 when password matches hash; 0 otherwise (also for an empty hash). */
int core_password_verify(const char *hash, const char *password);
/* SAM_EINVAL with a message when a new password is too short or too long. */
int core_password_check(const char *password);
/* A readable random one-time password, e.g. "k7pq-3mzx-w9fd-h2tc". */
void core_one_time_password(char out[24]);
/* A random URL-safe secret of 43 characters with an optional prefix. */
void core_random_token(const char *prefix, char *out, size_t n);
/* BLAKE2b-256 of a token, the only form in which tokens and sessions are stored. */
void core_token_hash(const char *token, unsigned char out[32]);

/* Parses space- or comma-separated scope names into PERM_* bits. SAM_EINVAL names the
 * unknown scope. */
int core_scopes_parse(const char *text, unsigned *bits);
/* Writes the canonical space-separated names of bits. */
void core_scopes_format(unsigned bits, char *out, size_t n);
/* The scope name of each bit, in order; NULL past the end. */
const char *core_scope_name(size_t i);
/* PERM_* bits a role grants; 0 for an unknown role. */
unsigned core_role_perms(const char *role);
int core_role_valid(const char *role);

/* Looks up an API token. SAM_EAUTH when it is unknown or revoked; fills actor. */
int core_actor_from_token(struct core *c, const char *token, struct actor *a);
/* SAM_OK when the actor may do perm in workspace ws; SAM_ENOTFOUND when the actor cannot
 * see the workspace at all; SAM_EPERM (message says which role or scope) otherwise.
 * *role, when not NULL, gets the actor's role there ("owner" for the system actor). */
int core_allowed(struct core *c, const struct actor *a, int64_t ws, unsigned perm, char role[16]);

/* Session login: SAM_EAUTH for a wrong email or password (one message for both). */
int core_login(struct core *c, const char *email, const char *password, int64_t now,
               char *session_token, size_t n, struct store_session *session, struct store_user *user);
/* Looks up a live session by its cookie value and extends it; SAM_EAUTH when unknown or
 * expired. */
int core_session_resume(struct core *c, const char *session_token, int64_t now,
                        struct store_session *session, struct store_user *user);
int core_logout(struct core *c, const char *session_token);
/* Changes a password after checking the current one; ends the user's other sessions. */
int core_password_change(struct core *c, int64_t user_id, int64_t keep_session, const char *current,
                         const char *next);

#define CORE_SESSION_SECONDS (14 * 86400)

/* ---- workspaces, accounts, members (core/account.c) ---- */

int core_validate_name(const char *field, const char *name);
int core_validate_email(const char *email);
int core_validate_timezone(const char *field, const char *tz);

int core_workspace_create(struct core *c, const struct actor *a, const char *name, const char *tz,
                          struct store_workspace *out);
/* name, tz and mix_preset may each be NULL (unchanged). */
int core_workspace_update(struct core *c, const struct actor *a, int64_t ws, const char *name,
                          const char *tz, const char *mix_preset, struct store_workspace *out);
/* Finds a workspace by id (all digits) or by name. */
int core_workspace_find(struct core *c, const char *id_or_name, struct store_workspace *out);

/* Adds a member; creates the account when the email is new. The password (NULL for none)
 * is set on a new account; without one a one-time password is made and written into
 * otp (which must hold 24 bytes), else otp is set to "". */
int core_member_add(struct core *c, const struct actor *a, int64_t ws, const char *email,
                    const char *name, const char *role, const char *password, char *otp,
                    struct store_member *out);
int core_member_set_role(struct core *c, const struct actor *a, int64_t ws, int64_t user,
                         const char *role, struct store_member *out);
int core_member_remove(struct core *c, const struct actor *a, int64_t ws, int64_t user);
/* Sets a password (from the CLI); NULL makes a one-time password written into otp. */
int core_user_set_password(struct core *c, const struct actor *a, const char *email,
                           const char *password, char otp[24]);
/* On an empty database: creates the first workspace and owner and a one-time password.
 * *created is 0 when accounts already existed (then nothing is done). */
int core_bootstrap(struct core *c, const char *ws_name, const char *tz, const char *email,
                   char otp[24], int *created);

/* ---- API tokens (core/token.c) ---- */

/* Creates a token for user in ws; the secret is written into secret (n >= 64) once and
 * only its hash is kept. user 0 means the workspace's first owner. */
int core_token_create(struct core *c, const struct actor *a, int64_t ws, int64_t user,
                      const char *name, unsigned scopes, char *secret, size_t n,
                      struct store_token *out);
int core_token_revoke(struct core *c, const struct actor *a, int64_t ws, int64_t id);

/* ---- channels (core/channel.c) ---- */

struct channel_input {
    const char *kind;        /* create only */
    const char *name;        /* NULL: unchanged */
    const char *timezone;    /* NULL: unchanged (create: the workspace's) */
    json_t *settings;        /* borrowed; NULL: unchanged */
    const char *secret;      /* NULL: unchanged */
    size_t secret_len;
    int clear_secret;        /* remove the stored secret */
    json_t *slots;           /* borrowed list of "mon 09:00"; NULL: unchanged (create: the kind's default) */
    int max_per_hour;        /* 0: unchanged (create: 2) */
    int max_per_day;         /* 0: unchanged (create: 12) */
};

/* The channel's slot instants from `from` for `days` days (1-92), as a JSON list of
 * {"at": UTC, "local": wall time with offset}. New reference in *out. */
int core_channel_upcoming(const struct store_channel *ch, int64_t from, int days, json_t **out);

/* The channel with this id in a list loaded with store_channel_list, or NULL. */
const struct store_channel *core_channel_find(const struct store_channel *list, size_t n, int64_t id);

/* Reads a channel's stored slots into out (at most SLOTS_MAX); *n gets the count. */
int core_channel_slots(const struct store_channel *ch, struct slot *out, size_t *n);

int core_channel_kind_valid(const char *kind);
int core_channel_create(struct core *c, const struct actor *a, int64_t ws,
                        const struct channel_input *in, struct store_channel *out);
int core_channel_update(struct core *c, const struct actor *a, int64_t ws, int64_t id,
                        const struct channel_input *in, struct store_channel *out);
int core_channel_delete(struct core *c, const struct actor *a, int64_t ws, int64_t id);
/* Gets a channel of workspace ws (ws 0: any); SAM_ENOTFOUND for another workspace's. */
int core_channel_get(struct core *c, int64_t ws, int64_t id, struct store_channel *out);

/* ---- audit (core/audit.c) ---- */

/* Records what an actor did. detail may be NULL; it is borrowed. Failures are logged,
 * never returned: an audit write never undoes the action it records. */
void core_audit(struct core *c, const struct actor *a, int64_t ws, const char *action,
                const char *target, json_t *detail);

/* ---- JSON views, the objects of docs/api.md (core/view.c). New references. ---- */

json_t *view_time(int64_t t); /* RFC 3339 string, or null for 0 */
json_t *view_workspace(const struct store_workspace *w);
json_t *view_user(const struct store_user *u);
json_t *view_member(const struct store_member *m);
json_t *view_token(const struct store_token *t);
json_t *view_channel(const struct store_channel *ch);
json_t *view_message(const struct store_message *m);
json_t *view_engagement(const struct store_engagement *e);
json_t *view_audit(const struct store_audit *e);

/* Errors a network worded (a channel's status_message, an occurrence's error, an
 * engagement fetch's error) are shown only to members whose role may change the thing:
 * PERM_CHANNELS_WRITE for a channel, PERM_POSTS_WRITE for a post (owners and editors).
 * The views give everyone else a plain text instead ("Publishing failed; an editor can
 * see why."), with the same fields, so the dashboard reads them alike. Whom a thread's
 * views are for is per thread: the HTTP server calls view_for_role for each request, ""
 * (generic texts) until the member's role in the workspace is known; a thread that never
 * calls it (the CLI, run by the operator) sees everything. */
void view_for_role(const char *role);
/* text, or generic when this thread's views are for a role without perm. Borrowed. */
const char *view_peer_text(const char *text, unsigned perm, const char *generic);

#define VIEW_CHANNEL_ERROR_HIDDEN "The channel needs attention; an editor can see why."
#define VIEW_PUBLISH_ERROR_HIDDEN "Publishing failed; an editor can see why."
#define VIEW_RETRY_ERROR_HIDDEN "The last attempt to publish failed; an editor can see why."
#define VIEW_COUNTS_ERROR_HIDDEN "Reading the counts failed; an editor can see why."

#endif
