/*
 * mailer.h: the loop inside `samtale serve` that sends the mail outbox (core/mail.h)
 * through the configured mail server (channel/smtp.h), when smtp_url is set.
 *
 * A message is claimed with a lease in one write before it is handed to the server, and
 * the outcome is written after: sent; a temporary failure (the server could not be
 * reached, timed out, or answered 4xx) queues it again after a wait that starts at
 * smtp_retry_s (30 s) and doubles up to an hour; a permanent one (5xx, credentials or
 * certificate refused, address refused by the outbound policy) fails it at once; a
 * message still not sent two days after it was queued fails after its next temporary
 * failure. A message whose process died while sending is claimed again when its lease
 * runs out and sent again with the same Message-ID (at least once: a server that took
 * it just before the crash gets it twice).
 *
 * One thread; woken when mail is queued (core_mail_enqueue calls the core's on_due),
 * otherwise it looks at the outbox every second. Each outcome is logged (recipient,
 * kind, attempts, the server's reply); the password never is.
 */
#ifndef SAM_MAILER_H
#define SAM_MAILER_H

#include "channel/smtp.h"
#include "core/core.h"
#include "util/conf.h"

#define MAILER_RETRY_S 30              /* first wait after a temporary failure */
#define MAILER_RETRY_MAX_S 3600        /* longest wait */
#define MAILER_MAX_AGE_S (2 * 86400)   /* a message is given up two days after it was queued */

struct mailer_options {
    struct smtp_config smtp;  /* strings borrowed for the mailer's life */
    int retry_s;              /* first wait (MAILER_RETRY_S), doubling after */
    int retry_max_s;          /* longest wait (MAILER_RETRY_MAX_S) */
    int max_age_s;            /* MAILER_MAX_AGE_S */
    int lease_seconds;        /* how long a claim holds: longer than one send */
};

/* What the mailer writes after an attempt: the outcome for store_mail_finish (its
 * strings point into this struct or into the smtp_result it was decided from). */
struct mailer_decision {
    struct store_mail_outcome outcome;
    char error[700];
};

/* Fills o from the configuration (smtp_url, smtp_user, smtp_password, smtp_from,
 * smtp_security, smtp_ca_file, smtp_timeout_ms, smtp_retry_s); the strings stay
 * borrowed from conf. SAM_EUNSUPPORTED when smtp_url is empty (mail is not configured);
 * SAM_EINVAL naming the setting when one is wrong (smtp_config_check). */
int mailer_options_load(const struct conf *conf, struct mailer_options *o);

/* The wait after temporary failure number `attempts` (1-based): retry_s doubling, at
 * most retry_max_s. */
int mailer_backoff(const struct mailer_options *o, int attempts);

/* Decides what becomes of message m (as claimed: attempts counts this attempt) after an
 * attempt at `now` that ended as r says. */
void mailer_decide(const struct mailer_options *o, const struct store_mail *m, const struct smtp_result *r,
                   int64_t now, struct mailer_decision *d);

struct mailer;

/* Starts the thread. *out is stopped and freed with mailer_stop. The core and the
 * options' strings must outlive it. */
int mailer_start(struct core *c, const struct mailer_options *o, struct mailer **out);
/* Wakes the thread now (mail was queued). NULL is allowed. */
void mailer_kick(struct mailer *m);
/* Stops: a send in flight is cut short (its message is queued again, due at once, and
 * sent again on the next start), the thread is joined. NULL is allowed. */
void mailer_stop(struct mailer *m);

/* Sends everything due at `now` in this thread (tests and tools); *done gets how many
 * messages were attempted. */
int mailer_run_once(struct core *c, const struct mailer_options *o, const char *owner, int64_t now, int *done);

/* Sends one message now, in this thread, bypassing the queue but recording it in the
 * outbox (kind, e.g. "test"): the row is written as sending under this caller's lease,
 * then sent or failed (a temporary failure is recorded as failed too: nothing retries
 * it). *row gets the row as recorded (owned strings: store_mail_cleanup), *res what the
 * server said. Returns SAM_OK when the attempt was made, whatever its outcome; the
 * checks' codes (SAM_EINVAL naming the field) or SAM_ESTORE otherwise. */
int mailer_send_now(struct core *c, const struct mailer_options *o, const char *to, const char *subject,
                    const char *text, const char *kind, struct store_mail *row, struct smtp_result *res);

#endif
