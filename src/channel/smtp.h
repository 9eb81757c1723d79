/*
 * smtp.h: the blocking SMTP client of channel/ (smtp.c, the second file of samtale that
 * includes curl.h, after http.c). It hands one composed message (core/mail.h) to one
 * mail server for one recipient, and says what the server answered. The rules for
 * talking to a mail server live here:
 *
 *   - smtp:// with STARTTLS required (SMTP_STARTTLS, the default), smtps:// with TLS from
 *     the first byte (SMTP_TLS), or plain smtp:// only when the operator asked for it
 *     (SMTP_NONE: a relay on the same machine);
 *   - certificates and host names are always verified, against the system's store or
 *     the CA file the operator named (a private CA);
 *   - AUTH with user and password when a user is given (libcurl picks the mechanism the
 *     server offers);
 *   - a connect timeout and a whole-send timeout, always; no proxy from the environment;
 *   - every connection is decided by the outbound address policy (util/netpolicy.h) on
 *     the address it is about to reach, after DNS, before the socket is opened;
 *   - libcurl's codes and the server's replies are mapped here, once, into temporary
 *     (try again later: the server could not be reached, timed out, or answered 4xx)
 *     and permanent (5xx, credentials refused, certificate refused, address refused by
 *     the policy) outcomes.
 *
 * The server's last reply is kept for people (bounded, control characters removed); the
 * password is never part of any message. Thread-safe: each call uses its own handle.
 */
#ifndef SAM_SMTP_H
#define SAM_SMTP_H

#include <stddef.h>

#define SMTP_REPLY_MAX 400              /* bytes of the server's reply kept */
#define SMTP_TIMEOUT_MS_DEFAULT 30000L
#define SMTP_CONNECT_TIMEOUT_MS_MAX 10000L

enum smtp_security {
    SMTP_STARTTLS = 0, /* smtp://, STARTTLS required before anything is sent */
    SMTP_TLS,          /* smtps://, implicit TLS */
    SMTP_NONE          /* smtp:// in the clear (a relay on this machine) */
};

enum smtp_outcome {
    SMTP_SENT = 0,     /* the server took the message (250 after DATA) */
    SMTP_TEMPORARY,    /* try again later */
    SMTP_PERMANENT     /* will not go through as it is: do not retry */
};

/* Where and how to send. Strings are borrowed for the duration of a call. */
struct smtp_config {
    const char *url;          /* smtp://host[:port] or smtps://host[:port] */
    const char *user;         /* NULL or "": no AUTH */
    const char *password;
    const char *from;         /* envelope sender: one plain address */
    int security;             /* enum smtp_security */
    const char *ca_file;      /* PEM file of trusted CAs; NULL or "": the system's */
    long timeout_ms;          /* whole send; 0 = SMTP_TIMEOUT_MS_DEFAULT */
    int (*cancelled)(void *arg); /* NULL, or asked about once a second: nonzero stops the
                                    send (a temporary outcome: "the send was stopped") */
    void *cancel_arg;
};

struct smtp_result {
    int outcome;              /* enum smtp_outcome */
    int code;                 /* the last SMTP reply code seen (0: none) */
    char reply[SMTP_REPLY_MAX + 1]; /* that reply ("250 2.0.0 Ok: queued"), cleaned */
    char message[600];        /* for people: what happened, with the reply when there is one */
};

/* Checks a configuration before any use: the URL's scheme against the security (smtps://
 * is TLS; smtp:// is STARTTLS or, when asked, none), no user name or password inside
 * the URL, a plain from address, a password with a user, a timeout from 1 s to 5 min.
 * SAM_EINVAL with a message naming the setting (smtp_url, smtp_security, ...). */
int smtp_config_check(const struct smtp_config *cfg);

/* Parses "starttls", "tls" or "none" (SAM_EINVAL otherwise). */
int smtp_security_parse(const char *text, int *security);

/* Sends message (len bytes of RFC 5322 text with CRLF line ends, as core/mail.h composes
 * it) from cfg->from to rcpt. Returns SAM_OK whenever the attempt was made or refused,
 * with res saying how it went (SMTP_SENT, SMTP_TEMPORARY, SMTP_PERMANENT) and why;
 * SAM_EINVAL (res->outcome SMTP_PERMANENT) for a configuration smtp_config_check
 * refuses; SAM_ENOMEM; SAM_EINTERNAL when libcurl cannot be set up (temporary). */
int smtp_send(const struct smtp_config *cfg, const char *rcpt, const char *message, size_t len,
              struct smtp_result *res);

/* The one mapping of a failed attempt to an outcome: curl_code is the CURLcode of the
 * attempt, reply_code the last SMTP reply code (0 when none), refused_by_policy 1 when
 * the address policy refused the connection. A 4xx reply is temporary and a 5xx reply
 * permanent whatever libcurl made of it; without a reply, network failures (refused,
 * reset, timed out, name lookup) are temporary and the rest (TLS verification, STARTTLS
 * missing, credentials refused, bad URL) permanent. CURLE_OK is SMTP_SENT. */
int smtp_classify(int curl_code, int reply_code, int refused_by_policy);

/* Copies a server's reply into out (n bytes) for a log or a database row: control
 * characters become spaces, runs of spaces one space, cut at n - 1 bytes on a UTF-8
 * character boundary. */
void smtp_clean_reply(char *out, size_t n, const char *reply, size_t len);

#endif
