/*
 * mail.h: email as samtale writes it: checking what goes into a message, composing the
 * RFC 5322 text, and the outbox (core/mail.c). Sending is channel/smtp.h's; the worker
 * that sends what is queued is engine/mailer.h's.
 *
 * A message is plain text in UTF-8:
 *
 *   From: noreply@example.com               smtp_from and the recipient: one plain
 *   To: ada@example.com                     address each, never a display name
 *   Subject: ...                            folded at spaces; RFC 2047 =?UTF-8?B?...?=
 *                                           words (on character boundaries) when it is
 *                                           not plain ASCII or contains "=?"
 *   Date: Mon, 07 Dec 2026 02:06:20 +0000   when it was queued (the same on every retry)
 *   Message-ID: <created.id.samtale@domain> from the outbox row (the same on every retry)
 *   MIME-Version: 1.0
 *   Content-Type: text/plain; charset=utf-8
 *   Content-Transfer-Encoding: quoted-printable
 *   Auto-Submitted: auto-generated          (RFC 3834: no auto-replies to it)
 *
 * Lines end in CRLF. The body is quoted-printable: every line is at most 76 characters
 * (soft breaks "=" where a line is longer), "=", bytes outside printable ASCII, spaces
 * and tabs at a line's end, a "." at a line's start and the F of "From " at a line's
 * start are written =XX, so no transport can alter the text. Header values (subject,
 * addresses) must not contain CR, LF or other control characters: that is refused, never
 * cleaned, so nobody can add a header through a subject.
 */
#ifndef SAM_CORE_MAIL_H
#define SAM_CORE_MAIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "util/buf.h"

#define MAIL_ADDRESS_MAX 254             /* bytes of one address */
#define MAIL_SUBJECT_MAX 500             /* bytes of a subject */
#define MAIL_TEXT_MAX (256 * 1024)       /* bytes of a body before encoding */
#define MAIL_MESSAGE_MAX (1024 * 1024)   /* bytes of a composed message */
#define MAIL_KIND_MAX 15                 /* "invitation", "report", "alert", "test" */

struct mail_message {
    const char *from;         /* one plain address (smtp_from) */
    const char *to;           /* one plain address */
    const char *subject;      /* one line of UTF-8 */
    const char *text;         /* UTF-8; lines end in LF, CRLF or CR */
    int64_t date;             /* Unix seconds */
    const char *message_id;   /* "<...@...>" (mail_message_id) */
};

/* SAM_OK when addr is one plain address, local@domain: a dot-atom local part of at most
 * 64 characters and a host name of letters, digits and hyphens (ASCII), at most 254 bytes
 * in all; nothing else (no display name, brackets, comma, space, quotes, second
 * address). SAM_EINVAL naming field otherwise. */
int mail_address_check(const char *field, const char *addr);

/* SAM_OK when value is one line of valid UTF-8 without control characters (no CR, LF,
 * tab or others) and at most max bytes; SAM_EINVAL (SAM_ETOOBIG past max) naming field. */
int mail_header_check(const char *field, const char *value, size_t max);

/* The Message-ID of outbox row id created at `created`, in out (n >= 300 bytes):
 * "<created.id.samtale@domain-of-from>". */
void mail_message_id(int64_t id, int64_t created, const char *from, char *out, size_t n);

/* Composes m into out (appended; out's limit bounds it). SAM_EINVAL (naming the field)
 * when an address, the subject or the text is refused, SAM_ETOOBIG past out's limit,
 * SAM_ENOMEM. */
int mail_compose(const struct mail_message *m, struct buf *out);

/* Checks what core_mail_enqueue would store: to (one plain address), subject (one line,
 * 1..MAIL_SUBJECT_MAX bytes), text (valid UTF-8, 1..MAIL_TEXT_MAX bytes), kind (1..15 of
 * a-z 0-9 _ -). SAM_EINVAL or SAM_ETOOBIG naming the field. */
int core_mail_check(const char *to, const char *subject, const char *text, const char *kind);

/* Puts a message in the outbox: checked (core_mail_check), stored as queued and due now,
 * and the mailer of a running server is woken (c->on_due). No network: the mailer of
 * `samtale serve` sends it when SMTP is configured (c->mail_enabled says whether it is;
 * until then the message waits in the outbox). The strings are borrowed. Returns SAM_OK,
 * SAM_EINVAL / SAM_ETOOBIG (field named), or SAM_ESTORE. */
int core_mail_enqueue(struct core *c, const char *to, const char *subject, const char *text, const char *kind);
/* core_mail_enqueue, and *id (when not NULL) gets the outbox row's id. */
/* core_mail_enqueue for a message whose text is a secret (a link that lets someone in):
 * it is stored sealed under the secret key and emptied once sent or failed for good. */
int core_mail_enqueue_sealed(struct core *c, const char *to, const char *subject, const char *text, const char *kind);
int core_mail_add(struct core *c, const char *to, const char *subject, const char *text, const char *kind,
                  int64_t *id);

/* The outbox row as JSON: {"id", "recipient", "subject", "kind", "state", "attempts",
 * "next_attempt_at", "last_error", "reply", "created_at", "sent_at"} (times RFC 3339 or
 * null). New reference. */
json_t *view_mail(const struct store_mail *m);

#endif
