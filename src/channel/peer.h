/*
 * peer.h: what samtale repeats to people of another server's answer. Connectors
 * (webhook.c, mastodon.c, bluesky.c, feed.c, discover.c) turn a failed call into a message
 * that members read in the dashboard, the API and the CLI (a channel's status_message, an
 * occurrence's error, an API error). Such a message carries the HTTP status and at most a
 * short reason read from the peer's known error shape (Mastodon's {"error",
 * "error_description"}, XRPC's {"error", "message"}, a webhook receiver's {"error"}), cut
 * to PEER_REASON_MAX bytes with control characters and markup removed. The free text of
 * a body (an HTML page, plain text) is never repeated: an address a member typed may
 * reach a server that was not meant to answer them, and its page must not come back to
 * them. The beginning of a body may go to the server log at debug level, escaped.
 */
#ifndef SAM_PEER_H
#define SAM_PEER_H

#include <stddef.h>

#include "channel/http.h"

#define PEER_REASON_MAX 100   /* bytes of a peer's reason quoted in a message */
#define PEER_LOG_MAX 300      /* bytes of a body written to the debug log */

/* Copies s[0..n) into out (outn bytes, at least 8) as text for a message: at most max
 * bytes of it in whole valid UTF-8 characters (an invalid byte becomes '?'), markup
 * dropped (from '<' to the next '>'; a lone '<' or '>' too), C0 and C1 control characters
 * and DEL turned into spaces, runs of spaces collapsed, the ends trimmed, "..." marking a
 * cut. Never fails; out is always NUL-terminated. */
void peer_text(const char *s, size_t n, size_t max, char *out, size_t outn);

/* The short reason of a peer's error answer, read only from its known JSON shape: keys is
 * a NULL-terminated list of members tried in order ("error_description", "error"), where
 * "a.b" names member b of an object a ("error.message"); the first that is a non-empty
 * string is passed through peer_text with PEER_REASON_MAX into out. "" when the body is
 * not a JSON object (or was cut at its limit) or has none of them. */
void peer_reason(const struct http_resp *resp, const char *const *keys, char *out, size_t outn);

/* Writes the status and the beginning of an answer (PEER_LOG_MAX bytes, non-printable
 * bytes escaped as \xNN) to the log at debug level, for the operator. who names the peer
 * ("webhook", "mastodon"); url is where the request went (its query and fragment, where
 * tokens live, are not written). */
void peer_log_answer(const char *who, const char *url, const struct http_resp *resp);

#endif
