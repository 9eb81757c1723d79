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
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slots.h"
#include "util/i18n.h"
#include "util/buf.h"
#include "store/store.h"

struct core {
    struct store *st;
    unsigned char key[32]; /* encrypts channel secrets; kept outside the database */
    void (*on_due)(void *arg); /* called when something became due now (wakes the publisher) */
    void *on_due_arg;
    void (*on_read)(void *arg); /* called to read the channels now (wakes the poller) */
    void *on_read_arg;
    int mail_enabled;      /* SMTP is configured: mail in the outbox goes out (core/mail.h) */
    _Atomic unsigned long read_passes; /* passes the poller made over the channels (metrics) */
    _Atomic unsigned long publish_passes; /* passes the publisher's workers made over due work (metrics) */
    int64_t media_keep_s;  /* an image no post uses is kept this long after its last upload
                              (media_keep_unused_s; core/media.h); 0: not at all */
};

/* Something became due now: wakes this process's workers (on_due) and tells the other
 * processes on the database (store_notify_due). */
void core_due(struct core *c);

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
    PERM_POSTS_APPROVE = 1u << 11, /* decide on posts waiting for approval (P12) */
    PERM_ALL = (1u << 12) - 1
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
/* SAM_EINVAL (field "new_password") when a new password has fewer than 10 or more than
 * 256 characters. */
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
/* PERM_* bits a role grants in a workspace whose approval setting is approval_mode (P12,
 * core/approval.h): agents write posts while their posts need approval, and editors
 * approve while only agents' posts need it. */
unsigned core_member_perms(const char *role, const char *approval_mode);
int core_role_valid(const char *role);
/* 1 for the roles a workspace's second-factor rule applies to (owner, editor). */
int core_role_needs_second_factor(const char *role);

/* Looks up an API token. SAM_EAUTH when it is unknown or revoked, or (u given) its
 * account is gone; fills actor, u (when not NULL) with the token's account and tok (when
 * not NULL) with the token.
 * Answers from a short-lived cache (CORE_AUTH_CACHE_MS) that any write of this process to
 * accounts, sessions, tokens or memberships empties; another process's revocation is
 * seen within that time. */
int core_actor_from_token(struct core *c, const char *token, struct actor *a, struct store_user *u,
                          struct store_token *tok);
/* The account's memberships (every workspace), from the same kind of cache: free *items. */
int core_user_memberships(struct core *c, int64_t user, struct store_member **items, size_t *n);
#define CORE_AUTH_CACHE_MS 2000
/* SAM_OK when the actor may do perm in workspace ws; SAM_ENOTFOUND when the actor cannot
 * see the workspace at all; SAM_EPERM (message says which role or scope) otherwise, with
 * the field "second_factor" when the workspace requires a second factor the account
 * lacks (owners and editors).
 * *role, when not NULL, gets the actor's role there ("owner" for the system actor). */
int core_allowed(struct core *c, const struct actor *a, int64_t ws, unsigned perm, char role[16]);

/* Checks an email and password: SAM_EAUTH for a wrong email or password (one message
 * for both, the same effort either way); on success *user is the account. A wrong
 * password for an existing account is counted on it (from addr), and its owner is told
 * (core_login_failures_notify). */
int core_login_check(struct core *c, const char *email, const char *password, const char *addr, int64_t now,
                     struct store_user *user);
/* Opens a session for an account whose every factor passed: writes the cookie value into
 * session_token (n >= 64), records the login, and carries the failed attempts since the
 * last login in the session's notice. */
int core_session_open(struct core *c, const struct store_user *user, int64_t now, char *session_token, size_t n,
                      struct store_session *session);
/* Both of the above, for an account without a second factor (tests, the CLI). */
int core_login(struct core *c, const char *email, const char *password, int64_t now,
               char *session_token, size_t n, struct store_session *session, struct store_user *user);
/* After `failures` failed logins on u (the last from addr): mails its owner once when
 * they reach CORE_FAILED_NOTIFY (at most once a day), when mail is configured. */
void core_login_failures_notify(struct core *c, const struct store_user *u, int failures, const char *addr,
                                int64_t now);

/* A device cookie: a browser that logged in to email proves it later, so the per-email
 * login delay does not slow its owner (web/ratelimit.c). out gets base64 text (n >= 40). */
#define CORE_DEVICE_SECONDS (365 * 86400)
#define CORE_FAILED_NOTIFY 5
void core_device_cookie(const struct core *c, const char *email, int64_t now, char *out, size_t n);
/* 1 when cookie is a device cookie this server gave for email within the last year. */
int core_device_trusted(const struct core *c, const char *email, const char *cookie, int64_t now);
/* Looks up a live session by its cookie value and extends it; SAM_EAUTH when unknown or
 * expired. Cached like core_actor_from_token. */
int core_session_resume(struct core *c, const char *session_token, int64_t now,
                        struct store_session *session, struct store_user *user);
int core_logout(struct core *c, const char *session_token);
/* Changes a password after checking the current one; ends the user's other sessions. */
int core_password_change(struct core *c, int64_t user_id, int64_t keep_session, const char *current,
                         const char *next);

#define CORE_SESSION_SECONDS (14 * 86400)

/* ---- workspaces, accounts, members (core/account.c) ---- */

/* The bounds on what people and programs send (docs/api.md, Limits). Text people type is
 * counted in characters (UTF-8 code points); addresses, secrets and codes in bytes. */
#define CORE_NAME_MAX 100        /* characters: a member, workspace, channel, token, campaign */
#define CORE_EMAIL_MAX STORE_EMAIL_MAX /* bytes */
#define CORE_TIMEZONE_MAX 64     /* characters: the longest IANA name has 32 */
#define CORE_PASSWORD_MIN 10     /* characters */
#define CORE_PASSWORD_MAX 256    /* characters */
#define CORE_URL_MAX 2048        /* bytes: a feed, webhook, page or link address */
#define CORE_SERVER_URL_MAX 400  /* bytes: the address of a server (a Mastodon instance, a PDS) */
#define CORE_TIME_TEXT_MAX 64    /* characters: an RFC 3339 time as text */

/* SAM_EINVAL naming field, "field must have at most max characters" (chars: UTF-8 code
 * points, or bytes when s is not valid UTF-8) or "... bytes" (!chars), when s is longer. */
int core_check_length(const char *field, const char *s, size_t max, int chars);

/* A name or label people choose: 1-100 characters, no control, invisible or
 * direction-changing characters (text/visible.h), no space at either end. */
int core_validate_name(const char *field, const char *name);
/* An email: at most 254 bytes, one "@" with something on both sides, no spaces, <>", no
 * controls, no invisible or direction-changing characters. */
int core_validate_email(const char *email);
/* An IANA time zone name of at most 64 characters that this machine knows. */
int core_validate_timezone(const char *field, const char *tz);

int core_workspace_create(struct core *c, const struct actor *a, const char *name, const char *tz,
                          struct store_workspace *out);
/* name, tz and mix_preset may each be NULL (unchanged). */
int core_workspace_update(struct core *c, const struct actor *a, int64_t ws, const char *name,
                          const char *tz, const char *mix_preset, struct store_workspace *out);
/* Sets whose posts need approval (P12): "off", "agents" or "editors_and_agents". Posts
 * already waiting keep waiting (owners decide on them whatever the setting). Audited. */
int core_workspace_set_approval(struct core *c, const struct actor *a, int64_t ws, const char *mode,
                                struct store_workspace *out);
/* Makes the workspace require (or not) a second factor of its owners and editors. A
 * person who has none cannot turn it on (it would lock them out): SAM_ECONFLICT. */
int core_workspace_require_second_factor(struct core *c, const struct actor *a, int64_t ws, int required);
/* Only the check of core_workspace_require_second_factor (nothing changes): callers that
 * change more in one request check it first, so a refusal leaves everything as it was. */
int core_workspace_second_factor_allowed(struct core *c, const struct actor *a, int required);
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

/* ---- invitations (core/invite.c) ---- */

#define CORE_INVITE_SECONDS (7 * 86400)
#define CORE_INVITE_SECRET_MAX 64     /* bytes of a link's secret, with its NUL */
#define CORE_INVITE_PENDING_MAX 500   /* pending invitations a workspace may have */
#define CORE_INVITE_DAILY_MAX 200     /* invitations one person may send in 24 hours */

struct invite_input {
    const char *email;
    const char *name;        /* suggested name, NULL for none */
    const char *role;
    const char *language;    /* en, nb, sv; NULL: en */
    int by_email;            /* the link goes out by mail (else it is shown to the inviter) */
};

/* Invites email into ws: a pending invitation (out) and its link's secret (written once
 * into secret; only its hash is kept). A pending invitation of the same email to ws is
 * withdrawn. SAM_ECONFLICT when the email is already a member of ws. The answer is the
 * same whether or not the email has an account. */
int core_invite_create(struct core *c, const struct actor *a, int64_t ws, const struct invite_input *in,
                       int64_t now, struct store_invitation *out, char secret[CORE_INVITE_SECRET_MAX]);
/* core_invite_create, then the mail with the link when in->by_email (the invitation is
 * withdrawn again if the mail cannot be queued). base_url: samtale's address for people,
 * without a trailing "/". */
int core_invite_send(struct core *c, const struct actor *a, int64_t ws, const struct invite_input *in,
                     const char *base_url, int64_t now, struct store_invitation *out,
                     char secret[CORE_INVITE_SECRET_MAX]);
/* A new link and 7 more days for a pending invitation, sent by mail when mail is
 * configured: a new invitation (out, with its own id) of the same email, name, role and
 * language, which withdraws the old one and counts toward the sender's daily bound. */
int core_invite_resend(struct core *c, const struct actor *a, int64_t ws, int64_t id, const char *base_url,
                       int64_t now, struct store_invitation *out, char secret[CORE_INVITE_SECRET_MAX]);
int core_invite_revoke(struct core *c, const struct actor *a, int64_t ws, int64_t id, int64_t now);
/* "pending", "accepted", "withdrawn" or "expired". */
const char *core_invite_state(const struct store_invitation *v, int64_t now);
/* 1 when secret has the form of an invitation link's secret. */
int core_invite_secret_valid(const char *secret);
/* The invitation a link's secret belongs to, whatever its state (SAM_ENOTFOUND when none). */
int core_invite_find(struct core *c, const char *secret, struct store_invitation *out);
/* Accepts by creating the invited email's account with the person's own name and
 * password (user gets it). SAM_ECONFLICT (field email) when the email has an account:
 * then the person logs in and uses core_invite_accept_as. */
int core_invite_accept_new(struct core *c, const char *secret, const char *name, const char *password, int64_t now,
                           struct store_invitation *out, struct store_user *user);
/* Accepts as a logged-in account, which must have the invited email (SAM_EPERM). */
int core_invite_accept_as(struct core *c, const char *secret, const struct store_user *user, int64_t now,
                          struct store_invitation *out);

/* ---- API tokens (core/token.c) ---- */

/* Creates a token for user in ws; the secret is written into secret (n >= 64) once and
 * only its hash is kept. user 0 means the workspace's first owner. */
int core_token_create(struct core *c, const struct actor *a, int64_t ws, int64_t user,
                      const char *name, unsigned scopes, char *secret, size_t n,
                      struct store_token *out);
int core_token_revoke(struct core *c, const struct actor *a, int64_t ws, int64_t id);
/* Revokes every active token of an account in every workspace; *n gets how many. */
int core_token_revoke_all(struct core *c, const struct actor *a, int64_t user, int64_t now, int *n);

/* ---- the second factor (core/second.c) ---- */

#define CORE_CHALLENGE_SECONDS 300    /* time to enter the code after the password */
#define CORE_CHALLENGE_TRIES 5        /* wrong codes one challenge takes */

/* After a right password on an account with a second factor: a challenge the client
 * answers with a code (core_challenge_answer); its secret goes into out (n >= 64), only
 * its hash is kept, for CORE_CHALLENGE_SECONDS. */
int core_challenge_open(struct core *c, const struct store_user *u, const char *addr, int64_t now, char *out,
                        size_t n);
/* The challenge behind a secret (SAM_EAUTH when unknown or expired). */
int core_challenge_user(struct core *c, const char *challenge, int64_t now, struct store_challenge *out);
/* Answers a challenge with a code (code) or a recovery code (recovery), exactly one:
 * SAM_OK and *u the account, the challenge used up; SAM_EAUTH for a wrong or used code
 * (after CORE_CHALLENGE_TRIES the challenge is gone: the password again). */
int core_challenge_answer(struct core *c, const char *challenge, const char *code, const char *recovery, int64_t now,
                          struct store_user *u);

/* Enrolment, step 1: a new secret waiting for confirmation (the one before is dropped):
 * its base32 into b32 (33 bytes), the otpauth:// URI into uri and its QR code (SVG) into
 * svg. */
int core_totp_begin(struct core *c, const struct store_user *u, const char *issuer, char b32[33],
                    struct buf *uri, struct buf *svg);
/* Step 2: a code from the app turns the factor on; ten recovery codes are made and
 * written into codes (10 x 14 bytes) once; only their keyed hashes are kept. */
int core_totp_confirm(struct core *c, const struct actor *a, const struct store_user *u, const char *code, int64_t now,
                      char codes[][14]);
/* Turns the factor off, after the password and a code (or a recovery code). */
int core_totp_disable(struct core *c, const struct actor *a, const struct store_user *u, const char *password,
                      const char *code, const char *recovery, int64_t now);
/* A new set of recovery codes (the old ones stop working), after the password and a code
 * (or a recovery code: exactly one of code and recovery), as turning the factor off asks. */
int core_recovery_renew(struct core *c, const struct actor *a, const struct store_user *u, const char *password,
                        const char *code, const char *recovery, int64_t now, char codes[][14]);
/* The operator's way back in for someone who lost phone and codes: the factor is removed
 * and the account's sessions end. */
int core_totp_reset(struct core *c, const struct actor *a, const char *email);

/* ---- channels (core/channel.c) ---- */

#define CHANNEL_SETTINGS_MAX 16384 /* bytes of the settings object as compact JSON */
#define CHANNEL_SECRET_MAX 4096    /* bytes */
#define CHANNEL_HANDLE_MAX 253     /* bytes of settings.handle (a handle, a DID or an email) */
#define CHANNEL_PATH_MAX 1024      /* bytes of settings.path */
#define CHANNEL_TITLE_MAX 300      /* characters of settings.title */
#define CHANNEL_SLOT_TEXT_MAX 16   /* characters of one slot, "mon 09:00" */

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
    int pause;               /* CHANNEL_PAUSE_KEEP, CHANNEL_PAUSE or CHANNEL_RESUME (update only) */
};

/* What an update does to a channel's queue (channel_input.pause). While paused, nothing of
 * the channel is published: its posts stay scheduled and go out after it is resumed. */
enum { CHANNEL_PAUSE_KEEP = 0, CHANNEL_PAUSE, CHANNEL_RESUME };

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
/* Changes channel id of workspace ws (0: any) as in says, audited (channel.update, and
 * channel.pause or channel.resume when in->pause changed the queue); *out is the channel
 * after it (caller cleans it up with store_channel_cleanup). SAM_EINVAL names the field. */
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
/* Fills e with who (a), where (ws), what (action, target) and when (now), without a
 * detail: an entry the store writes in the transaction of what it records
 * (store_post_insert_audited). */
void core_audit_entry(const struct actor *a, int64_t ws, const char *action, const char *target,
                      struct store_audit *e);

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
/* An invitation as its workspace's members see it (never the link). */
json_t *view_invitation(const struct store_invitation *v, int64_t now);
/* The failed logins a session's login was told about: {count, last_at, last_address}. */
json_t *view_failed_logins(const struct store_session *s);

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
/* view_peer_text as a JSON string, and a message samtale worded (in English, when it
 * happened: a publishing error) in this thread's language (i18n_message). */
json_t *view_peer_message(const char *text, unsigned perm, const char *generic);

#define VIEW_CHANNEL_ERROR_HIDDEN N_("The channel needs attention; an editor can see why.")
#define VIEW_PUBLISH_ERROR_HIDDEN N_("Publishing failed; an editor can see why.")
#define VIEW_RETRY_ERROR_HIDDEN N_("The last attempt to publish failed; an editor can see why.")
#define VIEW_COUNTS_ERROR_HIDDEN N_("Reading the counts failed; an editor can see why.")

#endif
