/* mailer.c: sending the mail outbox (see mailer.h). */
#include "engine/mailer.h"
#include "core/mail.h"
#include "engine/wake.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 1 /* one message per claim: a lease covers one send */

struct mailer {
    struct core *core;
    struct mailer_options opt;
    pthread_t thread;
    int started;
    atomic_int stopping;
    struct wake wake;
};

int mailer_options_load(const struct conf *conf, struct mailer_options *o)
{
    int rc;
    memset(o, 0, sizeof(*o));
    o->smtp.url = conf_get(conf, "smtp_url");
    if(!*o->smtp.url)
        return sam_fail(SAM_EUNSUPPORTED, "mail is not configured: set smtp_url and smtp_from (docs/operations.md)");
    o->smtp.user = conf_get(conf, "smtp_user");
    o->smtp.password = conf_get(conf, "smtp_password");
    o->smtp.from = conf_get(conf, "smtp_from");
    o->smtp.ca_file = conf_get(conf, "smtp_ca_file");
    o->smtp.timeout_ms = conf_get_long(conf, "smtp_timeout_ms");
    if((rc = smtp_security_parse(conf_get(conf, "smtp_security"), &o->smtp.security)))
        return rc;
    if(o->smtp.timeout_ms < 1000 || o->smtp.timeout_ms > 300000)
        return sam_fail(SAM_EINVAL, "smtp_timeout_ms must be from 1000 to 300000");
    if((rc = smtp_config_check(&o->smtp)))
        return rc;
    o->retry_s = (int)conf_get_long(conf, "smtp_retry_s");
    if(o->retry_s < 1 || o->retry_s > MAILER_RETRY_MAX_S)
        return sam_fail(SAM_EINVAL, "smtp_retry_s must be from 1 to %d", MAILER_RETRY_MAX_S);
    o->retry_max_s = MAILER_RETRY_MAX_S;
    o->max_age_s = MAILER_MAX_AGE_S;
    o->lease_seconds = (int)(2 * o->smtp.timeout_ms / 1000) + 30;
    return SAM_OK;
}

int mailer_backoff(const struct mailer_options *o, int attempts)
{
    int64_t wait = o->retry_s > 0 ? o->retry_s : MAILER_RETRY_S;
    int max = o->retry_max_s > 0 ? o->retry_max_s : MAILER_RETRY_MAX_S;
    for(int i = 1; i < attempts && wait < max; i++)
        wait *= 2;
    return wait > max ? max : (int)wait;
}

void mailer_decide(const struct mailer_options *o, const struct store_mail *m, const struct smtp_result *r,
                   int64_t now, struct mailer_decision *d)
{
    int max_age = o->max_age_s > 0 ? o->max_age_s : MAILER_MAX_AGE_S;
    memset(d, 0, sizeof(*d));
    d->outcome.reply = r->reply[0] ? r->reply : NULL;
    switch(r->outcome) {
    case SMTP_SENT:
        d->outcome.state = "sent";
        break;
    case SMTP_TEMPORARY:
        if(now - m->created_at >= max_age) {
            d->outcome.state = "failed";
            snprintf(d->error, sizeof(d->error), "not sent within %d days (%d attempts): %s", max_age / 86400,
                     m->attempts, r->message);
            d->outcome.error = d->error;
            break;
        }
        d->outcome.state = "queued";
        d->outcome.next_attempt_at = now + mailer_backoff(o, m->attempts);
        /* One last try when the time runs out, rather than a wait past it. */
        if(d->outcome.next_attempt_at > m->created_at + max_age)
            d->outcome.next_attempt_at = m->created_at + max_age;
        if(d->outcome.next_attempt_at <= now)
            d->outcome.next_attempt_at = now + 1;
        snprintf(d->error, sizeof(d->error), "%s", r->message);
        d->outcome.error = d->error;
        break;
    default:
        d->outcome.state = "failed";
        snprintf(d->error, sizeof(d->error), "%s", r->message[0] ? r->message : "the mail server refused the message");
        d->outcome.error = d->error;
        break;
    }
}

/* The text of a sealed body (base64 of a sealed box) into *out (wiped and freed by the
 * caller). */
static int open_body(struct core *c, const char *b64, char **out, size_t *n)
{
    size_t len = strlen(b64), binlen = 0;
    unsigned char *bin = malloc(len + 1);
    int rc;
    *out = NULL;
    if(!bin)
        return SAM_ENOMEM;
    if(sodium_base642bin(bin, len + 1, b64, len, NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL)) {
        free(bin);
        return sam_fail(SAM_EINVAL, "the sealed message is damaged");
    }
    rc = core_secret_open(c, bin, binlen, out, n);
    free(bin);
    if(rc)
        return sam_fail(SAM_EINVAL, "the sealed message cannot be opened (was the secret key changed?)");
    return SAM_OK;
}

/* Composes and sends message m (its body loaded) and fills res. */
static void send_message(struct core *c, const struct mailer_options *o, const struct store_mail *m,
                         struct smtp_result *res)
{
    struct buf msg;
    struct mail_message mm;
    char mid[320], *plain = NULL;
    size_t plain_len = 0;
    int rc;

    buf_init(&msg, MAIL_MESSAGE_MAX);
    mail_message_id(m->id, m->created_at, o->smtp.from, mid, sizeof(mid));
    memset(&mm, 0, sizeof(mm));
    mm.from = o->smtp.from;
    mm.to = m->recipient;
    mm.subject = m->subject;
    mm.text = m->body;
    mm.date = m->created_at;
    mm.message_id = mid;
    rc = SAM_OK;
    if(m->sealed && m->body && (rc = open_body(c, m->body, &plain, &plain_len)) == SAM_OK)
        mm.text = plain;
    if(!rc)
        rc = mm.subject && mm.text ? mail_compose(&mm, &msg) : SAM_ENOMEM;
    if(rc) {
        memset(res, 0, sizeof(*res));
        res->outcome = rc == SAM_ENOMEM ? SMTP_TEMPORARY : SMTP_PERMANENT;
        snprintf(res->message, sizeof(res->message), "the message cannot be written: %s", sam_errmsg(rc));
    } else {
        smtp_send(&o->smtp, m->recipient, msg.data, msg.len, res);
    }
    if(plain) {
        sodium_memzero(plain, plain_len);
        free(plain);
        if(msg.data)
            sodium_memzero(msg.data, msg.len);
    }
    buf_cleanup(&msg);
}

static void log_outcome(const struct store_mail *m, const struct mailer_decision *d, int recorded)
{
    char id[24], attempts[16], next[24];
    snprintf(id, sizeof(id), "%lld", (long long)m->id);
    snprintf(attempts, sizeof(attempts), "%d", m->attempts);
    if(recorded) {
        log_kv(LOG_WARN, "mail outcome not recorded", "mail", id, "error", sam_errmsg(recorded), NULL);
        return;
    }
    if(!strcmp(d->outcome.state, "sent")) {
        log_kv(LOG_INFO, "mail sent", "mail", id, "to", m->recipient, "kind", m->kind, "attempts", attempts, "reply",
               d->outcome.reply, NULL);
    } else if(!strcmp(d->outcome.state, "queued")) {
        snprintf(next, sizeof(next), "%lld", (long long)(d->outcome.next_attempt_at - time_now()));
        log_kv(LOG_INFO, "mail will retry", "mail", id, "to", m->recipient, "kind", m->kind, "attempts", attempts,
               "retry_in_s", next, "error", d->outcome.error, NULL);
    } else {
        log_kv(LOG_WARN, "mail failed", "mail", id, "to", m->recipient, "kind", m->kind, "attempts", attempts,
               "error", d->outcome.error, NULL);
    }
}

/* Sends one claimed message and records the outcome. */
static void send_one(struct core *c, const struct mailer_options *o, const char *owner, const struct store_mail *m,
                     const atomic_int *stopping)
{
    struct smtp_result res;
    struct mailer_decision d;
    int64_t now;
    int rc;
    send_message(c, o, m, &res);
    now = time_now();
    mailer_decide(o, m, &res, now, &d);
    if(stopping && atomic_load(stopping) && res.outcome == SMTP_TEMPORARY) {
        /* Cut short by a stop: due again at once on the next start. */
        d.outcome.state = "queued";
        d.outcome.next_attempt_at = now;
    }
    rc = store_mail_finish(c->st, m->id, owner, &d.outcome, now);
    log_outcome(m, &d, rc);
}

static int run_once(struct core *c, const struct mailer_options *o, const char *owner, int64_t now, int *done,
                    const atomic_int *stopping)
{
    struct store_mail *items = NULL;
    size_t n = 0;
    int rc;
    *done = 0;
    do {
        if(stopping && atomic_load(stopping))
            break;
        rc = store_mail_claim(c->st, now, owner, o->lease_seconds, BATCH, &items, &n);
        if(rc)
            return rc;
        for(size_t i = 0; i < n; i++)
            send_one(c, o, owner, &items[i], stopping);
        *done += (int)n;
        store_mail_list_free(items, n);
        items = NULL;
    } while(n == BATCH);
    return SAM_OK;
}

int mailer_run_once(struct core *c, const struct mailer_options *o, const char *owner, int64_t now, int *done)
{
    return run_once(c, o, owner, now, done, NULL);
}

int mailer_send_now(struct core *c, const struct mailer_options *o, const char *to, const char *subject,
                    const char *text, const char *kind, struct store_mail *row, struct smtp_result *res)
{
    struct mailer_decision d;
    int64_t now = time_now();
    unsigned char r[4];
    int rc;

    memset(row, 0, sizeof(*row));
    memset(res, 0, sizeof(*res));
    if((rc = core_mail_check(to, subject, text, kind)))
        return rc;
    randombytes_buf(r, sizeof(r));
    snprintf(row->lease_owner, sizeof(row->lease_owner), "cli-%d-%02x%02x%02x%02x", (int)getpid(), r[0], r[1], r[2],
             r[3]);
    snprintf(row->recipient, sizeof(row->recipient), "%s", to);
    snprintf(row->kind, sizeof(row->kind), "%s", kind);
    snprintf(row->state, sizeof(row->state), "sending");
    row->subject = strdup(subject);
    row->body = strdup(text);
    row->attempts = 1;
    row->next_attempt_at = now;
    row->lease_until = now + o->lease_seconds;
    row->created_at = now;
    if(!row->subject || !row->body) {
        store_mail_cleanup(row);
        return SAM_ENOMEM;
    }
    if((rc = store_mail_insert(c->st, row))) {
        store_mail_cleanup(row);
        return rc;
    }
    send_message(c, o, row, res);
    now = time_now();
    mailer_decide(o, row, res, now, &d);
    if(!strcmp(d.outcome.state, "queued")) {
        d.outcome.state = "failed"; /* a test is not retried: the person sees what happened */
        d.outcome.next_attempt_at = 0;
    }
    rc = store_mail_finish(c->st, row->id, row->lease_owner, &d.outcome, now);
    log_outcome(row, &d, rc);
    if(rc) {
        store_mail_cleanup(row);
        return rc;
    }
    /* The row as it now stands (what store_mail_finish wrote). */
    snprintf(row->state, sizeof(row->state), "%s", d.outcome.state);
    snprintf(row->last_error, sizeof(row->last_error), "%s", d.outcome.error ? d.outcome.error : "");
    snprintf(row->reply, sizeof(row->reply), "%s", d.outcome.reply ? d.outcome.reply : "");
    row->lease_owner[0] = '\0';
    row->lease_until = 0;
    row->updated_at = now;
    if(!strcmp(row->state, "sent"))
        row->sent_at = now;
    return SAM_OK;
}

static void *worker(void *arg)
{
    struct mailer *m = arg;
    char owner[48];
    engine_owner_name(owner, sizeof(owner), "mail");
    for(;;) {
        int done = 0, rc;
        unsigned seen;
        if(wake_begin(&m->wake, &seen))
            break;
        sam_clear();
        rc = run_once(m->core, &m->opt, owner, time_now(), &done, &m->stopping);
        if(rc)
            log_kv(LOG_WARN, "mailer pass failed", "error", sam_errmsg(rc), NULL);
        if(!done)
            wake_sleep(&m->wake, seen, 1);
    }
    return NULL;
}

static int is_stopping(void *arg)
{
    return atomic_load((atomic_int *)arg);
}

int mailer_start(struct core *c, const struct mailer_options *o, struct mailer **out)
{
    struct mailer *m = calloc(1, sizeof(*m));
    *out = NULL;
    if(!m)
        return SAM_ENOMEM;
    m->core = c;
    m->opt = *o;
    atomic_init(&m->stopping, 0);
    m->opt.smtp.cancelled = is_stopping;
    m->opt.smtp.cancel_arg = &m->stopping;
    wake_init(&m->wake);
    if(pthread_create(&m->thread, NULL, worker, m)) {
        wake_destroy(&m->wake);
        free(m);
        return sam_fail(SAM_EINTERNAL, "cannot start the mailer's thread");
    }
    m->started = 1;
    *out = m;
    return SAM_OK;
}

void mailer_kick(struct mailer *m)
{
    if(m)
        wake_kick(&m->wake);
}

void mailer_stop(struct mailer *m)
{
    if(!m)
        return;
    atomic_store(&m->stopping, 1);
    wake_stop(&m->wake);
    if(m->started)
        pthread_join(m->thread, NULL);
    wake_destroy(&m->wake);
    free(m);
}
