/*
 * notify.c: what samtale tells an account's owner by mail about their account: failed
 * logins on it. Written in English, Norwegian and Swedish together (the account has no
 * language of its own yet), plain text, through the mail outbox (core/mail.h): queued
 * only when mail is configured.
 */
#include "core/core.h"
#include "core/mail.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

void core_login_failures_notify(struct core *c, const struct store_user *u, int failures, const char *addr,
                                int64_t now)
{
    char subject[200], body[2400], at[32];
    int rc;
    /* Once when the failures reach the mark, at most once a day. */
    if(!c->mail_enabled || failures != CORE_FAILED_NOTIFY || now - u->failed_notified_at < 86400)
        return;
    time_rfc3339(now, at, sizeof(at));
    snprintf(subject, sizeof(subject), "samtale: failed logins to your account / mislykkede innlogginger / "
                                       "misslyckade inloggningar");
    snprintf(body, sizeof(body),
             "Someone tried to log in to your samtale account (%s) with a wrong password %d times, the last from\n"
             "the address %s at %s (UTC). If it was you, there is nothing to do. If not, choose a new password\n"
             "and turn on two-step login under Your account. Logins from that address are held for a while.\n"
             "\n"
             "Noen har prøvd å logge inn på samtale-kontoen din (%s) med feil passord %d ganger, sist fra\n"
             "adressen %s %s (UTC). Var det deg, trenger du ikke gjøre noe. Hvis ikke: velg et nytt passord\n"
             "og slå på totrinnsinnlogging under Din konto.\n"
             "\n"
             "Någon har försökt logga in på ditt samtale-konto (%s) med fel lösenord %d gånger, senast från\n"
             "adressen %s %s (UTC). Var det du behöver du inte göra något. Om inte: välj ett nytt lösenord\n"
             "och slå på tvåstegsinloggning under Ditt konto.\n",
             u->email, failures, addr && *addr ? addr : "?", at, u->email, failures, addr && *addr ? addr : "?",
             at, u->email, failures, addr && *addr ? addr : "?", at);
    rc = core_mail_enqueue(c, u->email, subject, body, "login_alert");
    if(!rc)
        rc = store_user_failed_notified(c->st, u->id, now);
    if(rc)
        log_kv(LOG_WARN, "failed-login notice not queued", "account", u->email, "error", sam_errmsg(rc), NULL);
}
