/*
 * connect.h: connecting accounts and sources to samtale, shared by the API and the CLI.
 *
 *   - connect_verify: before a Bluesky or Mastodon channel is saved (created, or its
 *     credentials changed), its credentials are tried against the network, and what the
 *     network says of the account (DID and handle, account id and acct) is added to the
 *     settings. A refusal is an error for people; nothing is saved.
 *   - Mastodon's OAuth authorization-code flow: begin registers samtale as an app on the
 *     instance and returns the URL the person opens; the state sent along is stored as a
 *     hash for 15 minutes, with the app's client secret sealed. finish exchanges the code
 *     for a token, verifies it, and creates the channel (or reconnects the one being
 *     reconnected). The redirect goes to samtale's callback, or is the out-of-band
 *     "urn:ietf:wg:oauth:2.0:oob" for the CLI (the instance shows the code to copy).
 *   - channel_reactivate (in core): a channel marked 'reconnect' becomes active again
 *     when its credentials are replaced, and its queue resumes.
 */
#ifndef SAM_CONNECT_H
#define SAM_CONNECT_H

#include <jansson.h>

#include "core/core.h"

#define CONNECT_OOB "urn:ietf:wg:oauth:2.0:oob"
#define CONNECT_TTL 900   /* seconds an OAuth connection may take */
#define CONNECT_STATE_MAX 100 /* bytes of a state (samtale's are 32) */
#define CONNECT_CODE_MAX 512  /* bytes of an authorization code */

/* Tries the credentials of a channel of kind with settings and secret (plain). SAM_OK
 * when accepted (or the kind has nothing to check): the account's facts are added to
 * settings. SAM_EINVAL (field "secret") when refused, SAM_EIO when the network could not
 * be reached, each with a message for people. */
int connect_verify(const char *kind, json_t *settings, const char *secret, size_t secret_len, long timeout_ms);

struct connect_begin {
    int64_t workspace_id;
    int64_t user_id;           /* who connects (0: the operator, from the CLI) */
    int64_t channel_id;        /* reconnect this channel; 0: create a new one */
    const char *instance_url;  /* https://mastodon.example */
    const char *name;          /* the new channel's name */
    const char *timezone;      /* or NULL: the workspace's */
    const char *redirect_uri;  /* samtale's callback, or CONNECT_OOB */
    const char *browser;       /* the value of the cookie set in the browser that starts, or
                                  NULL: then only finish with the same user (or the CLI) */
};

/* Registers the app and stores the pending connection. authorize_url (n bytes) and state
 * (at least 48 bytes) are filled. */
int connect_mastodon_begin(struct core *c, const struct connect_begin *b, char *authorize_url, size_t n,
                           char *state, size_t sn);

/* Who may finish a connection: the browser that started it (its cookie), or the same
 * user in the same workspace, or the operator (CLI). */
struct connect_finisher {
    int64_t workspace_id;      /* 0: any (the callback, the CLI) */
    int64_t user_id;           /* 0: not known (the callback, the CLI) */
    const char *browser;       /* the callback's cookie, or NULL */
    int operator;              /* the CLI */
};

/* Finishes a connection. *out gets the channel created or reconnected. SAM_ENOTFOUND for
 * an unknown or expired state or one started by someone else (the pending connection is
 * used up either way: a link passed to another person is dead), SAM_EINVAL when the
 * instance refused the code, SAM_EIO when it was unreachable. */
int connect_mastodon_finish(struct core *c, const struct connect_finisher *who, const char *state, const char *code,
                            struct store_channel *out);

/* The hash a browser's connection cookie is kept as (65 bytes: hex). */
void connect_browser_hash(const char *cookie, char out[65]);

#endif
