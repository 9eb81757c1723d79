/*
 * invite.c: membership by invitation (X6).
 *
 * Adding someone to a workspace makes a pending invitation, never an account: the link
 * carries a 256-bit secret of which only the BLAKE2b hash is stored; it works once and
 * expires after CORE_INVITE_SECONDS. The account is created, or an existing one joins,
 * only when the person opens the link and either chooses their own password (a new
 * account) or confirms while logged in as the invited email (an existing one). Nothing
 * the inviter sees says whether the email already has an account: the invitation looks
 * the same either way.
 *
 * The link goes out by email when mail is configured (the inviter never sees it then, so
 * holding it proves the mailbox); otherwise the inviter is shown it once to pass on.
 */
#include "core/core.h"
#include "core/mail.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int language_valid(const char *lang)
{
    return !strcmp(lang, "en") || !strcmp(lang, "nb") || !strcmp(lang, "sv");
}

/* Email in the form invitations keep it: ASCII letters in lower case. */
static void email_key(const char *email, char out[STORE_EMAIL_MAX + 1])
{
    size_t i;
    for(i = 0; email[i] && i < STORE_EMAIL_MAX; i++)
        out[i] = (char)tolower((unsigned char)email[i]);
    out[i] = '\0';
}

/* The link's secret: "inv_" and 43 URL-safe characters; its hash is the stored form. */
static void new_secret(char secret[CORE_INVITE_SECRET_MAX], unsigned char hash[32])
{
    core_random_token("inv_", secret, CORE_INVITE_SECRET_MAX);
    core_token_hash(secret, hash);
}

int core_invite_secret_valid(const char *secret)
{
    size_t n = strlen(secret);
    if(n < 20 || n >= CORE_INVITE_SECRET_MAX || strncmp(secret, "inv_", 4))
        return 0;
    for(size_t i = 0; i < n; i++)
        if(!isalnum((unsigned char)secret[i]) && secret[i] != '_' && secret[i] != '-')
            return 0;
    return 1;
}

int core_invite_create(struct core *c, const struct actor *a, int64_t ws, const struct invite_input *in,
                       int64_t now, struct store_invitation *out, char secret[CORE_INVITE_SECRET_MAX])
{
    struct store_user u;
    struct store_member m;
    unsigned char hash[32];
    int rc;

    secret[0] = '\0';
    if((rc = core_validate_email(in->email)))
        return rc;
    if(!core_role_valid(in->role))
        return sam_fail_field(SAM_EINVAL, "role", "role must be owner, editor, agent or viewer");
    if(in->name && *in->name && (rc = core_validate_name("name", in->name)))
        return rc;
    if(in->language && !language_valid(in->language))
        return sam_fail_field(SAM_EINVAL, "language", "language must be en, nb or sv");
    /* Whether the email is a member here is no secret from someone who may invite: they
     * see the member list. Whether it has an account elsewhere is, and stays one. */
    if(store_user_get_by_email(c->st, in->email, &u) == SAM_OK && store_member_get(c->st, ws, u.id, &m) == SAM_OK)
        return sam_fail_field(SAM_ECONFLICT, "email", "%s is already a member of this workspace", m.email);
    sam_clear();
    {
        /* Bounds on what one workspace, or one person, can send out. */
        int pending = 0, sent = 0;
        if((rc = store_invitation_count(c->st, ws, 0, 0, &pending)))
            return rc;
        if(pending >= CORE_INVITE_PENDING_MAX)
            return sam_fail(SAM_ERATE, "this workspace has %d invitations waiting: withdraw some first", pending);
        if(!a->system && (rc = store_invitation_count(c->st, 0, a->user_id, now - 86400, &sent)))
            return rc;
        if(sent >= CORE_INVITE_DAILY_MAX)
            return sam_fail(SAM_ERATE, "you have sent %d invitations in the last 24 hours; try again tomorrow", sent);
    }
    memset(out, 0, sizeof(*out));
    out->workspace_id = ws;
    email_key(in->email, out->email);
    snprintf(out->name, sizeof(out->name), "%s", in->name ? in->name : "");
    snprintf(out->role, sizeof(out->role), "%s", in->role);
    snprintf(out->language, sizeof(out->language), "%s", in->language ? in->language : "en");
    snprintf(out->delivery, sizeof(out->delivery), "%s", in->by_email ? "email" : "link");
    out->invited_by = a->system ? 0 : a->user_id;
    out->created_at = now;
    out->expires_at = now + CORE_INVITE_SECONDS;
    new_secret(secret, hash);
    rc = store_invitation_insert(c->st, hash, out);
    sodium_memzero(hash, sizeof(hash));
    if(rc) {
        sodium_memzero(secret, CORE_INVITE_SECRET_MAX);
        return rc;
    }
    json_t *d = json_pack("{s:s, s:s}", "role", out->role, "delivery", out->delivery);
    core_audit(c, a, ws, "member.invite", out->email, d);
    json_decref(d);
    return SAM_OK;
}

int core_invite_revoke(struct core *c, const struct actor *a, int64_t ws, int64_t id, int64_t now)
{
    struct store_invitation v;
    int rc = store_invitation_get(c->st, id, NULL, &v);
    if(rc == SAM_OK && v.workspace_id != ws)
        rc = sam_fail(SAM_ENOTFOUND, "no pending invitation %lld", (long long)id);
    if(!rc)
        rc = store_invitation_revoke(c->st, ws, id, now);
    if(!rc)
        core_audit(c, a, ws, "member.invite_revoke", v.email, NULL);
    return rc;
}

const char *core_invite_state(const struct store_invitation *v, int64_t now)
{
    if(v->accepted_at)
        return "accepted";
    if(v->revoked_at)
        return "withdrawn";
    if(v->expires_at <= now)
        return "expired";
    return "pending";
}

/* SAM_OK for a pending invitation, else SAM_ENOTFOUND saying why it cannot be used. */
static int usable(const struct store_invitation *v, int64_t now)
{
    if(v->accepted_at)
        return sam_fail(SAM_ENOTFOUND, "this invitation was already used; log in instead");
    if(v->revoked_at)
        return sam_fail(SAM_ENOTFOUND, "this invitation was withdrawn; ask for a new one");
    if(v->expires_at <= now)
        return sam_fail(SAM_ENOTFOUND, "this invitation has expired; ask for a new one");
    return SAM_OK;
}

int core_invite_find(struct core *c, const char *secret, struct store_invitation *out)
{
    unsigned char hash[32];
    int rc;
    if(!core_invite_secret_valid(secret))
        return sam_fail(SAM_ENOTFOUND, "this invitation link is not valid: check that it was copied whole");
    core_token_hash(secret, hash);
    rc = store_invitation_get(c->st, 0, hash, out);
    if(rc == SAM_ENOTFOUND)
        return sam_fail(SAM_ENOTFOUND, "this invitation link is not valid: check that it was copied whole");
    return rc;
}

/* Audits that user joined by invitation v (as themselves: they are the actor). */
static void joined(struct core *c, const struct store_user *user, const struct store_invitation *v)
{
    struct actor who = {0};
    who.user_id = user->id;
    snprintf(who.label, sizeof(who.label), "%s", user->email);
    json_t *d = json_pack("{s:s}", "role", v->role);
    core_audit(c, &who, v->workspace_id, "member.join", user->email, d);
    json_decref(d);
}

int core_invite_accept_new(struct core *c, const char *secret, const char *name, const char *password, int64_t now,
                           struct store_invitation *out, struct store_user *user)
{
    unsigned char hash[32];
    int rc;

    memset(user, 0, sizeof(*user));
    rc = core_invite_find(c, secret, out);
    if(rc)
        return rc;
    if((rc = usable(out, now)))
        return rc;
    if(!name || !*name)
        name = out->name[0] ? out->name : NULL;
    if(name) {
        if((rc = core_validate_name("name", name)))
            return rc;
        snprintf(user->name, sizeof(user->name), "%s", name);
    } else {
        snprintf(user->name, sizeof(user->name), "%.*s", (int)strcspn(out->email, "@"), out->email);
    }
    if((rc = core_password_check(password)))
        return sam_fail_field(rc, "password", "%s", sam_errmsg(rc));
    snprintf(user->email, sizeof(user->email), "%s", out->email);
    if((rc = core_password_hash(password, user->password_hash)))
        return rc;
    user->created_at = now;
    core_token_hash(secret, hash);
    rc = store_invitation_accept(c->st, hash, now, user, 0, out);
    if(rc)
        return rc;
    joined(c, user, out);
    return SAM_OK;
}

int core_invite_accept_as(struct core *c, const char *secret, const struct store_user *user, int64_t now,
                          struct store_invitation *out)
{
    unsigned char hash[32];
    char key[STORE_EMAIL_MAX + 1];
    int rc = core_invite_find(c, secret, out);
    if(rc)
        return rc;
    if((rc = usable(out, now)))
        return rc;
    email_key(user->email, key);
    if(strcmp(key, out->email))
        return sam_fail(SAM_EPERM, "this invitation is for %s, and you are logged in as %s: log out and open the "
                        "link again", out->email, user->email);
    core_token_hash(secret, hash);
    rc = store_invitation_accept(c->st, hash, now, NULL, user->id, out);
    if(rc)
        return rc;
    joined(c, user, out);
    return SAM_OK;
}

/* The invitation mail, in the invitation's language. */
static int invite_mail(struct core *c, const struct store_invitation *v, const char *secret, const char *base_url)
{
    static const struct {
        const char *lang, *subject, *body;
    } texts[] = {
        {"en", "%s invites you to %s on samtale",
         "Hello,\n\n%s has invited you to join the workspace \"%s\" on samtale as %s.\n\n"
         "Open this link to accept. You choose your own password there, or log in if you\n"
         "already have a samtale account with this email:\n\n%s\n\n"
         "The link works once and expires on %s (UTC).\n"
         "If you did not expect this invitation, you can ignore this email.\n"},
        {"nb", "%s inviterer deg til %s i samtale",
         "Hei,\n\n%s har invitert deg til arbeidsområdet «%s» i samtale som %s.\n\n"
         "Åpne lenken for å godta. Der velger du ditt eget passord, eller logger inn\n"
         "hvis du allerede har en samtale-konto med denne e-postadressen:\n\n%s\n\n"
         "Lenken virker én gang og utløper %s (UTC).\n"
         "Om du ikke ventet denne invitasjonen, kan du se bort fra e-posten.\n"},
        {"sv", "%s bjuder in dig till %s i samtale",
         "Hej,\n\n%s har bjudit in dig till arbetsytan \"%s\" i samtale som %s.\n\n"
         "Öppna länken för att tacka ja. Där väljer du ditt eget lösenord, eller loggar in\n"
         "om du redan har ett samtale-konto med den här e-postadressen:\n\n%s\n\n"
         "Länken fungerar en gång och går ut %s (UTC).\n"
         "Om du inte väntade dig den här inbjudan kan du bortse från mejlet.\n"},
    };
    static const struct {
        const char *role, *en, *nb, *sv;
    } roles[] = {
        {"owner", "an owner", "eier", "ägare"},
        {"editor", "an editor", "redaktør", "redaktör"},
        {"agent", "an agent", "kundebehandler", "handläggare"},
        {"viewer", "a viewer", "leser", "läsare"},
    };
    size_t t = 0, k;
    const char *role = v->role, *who = v->inviter_name[0] ? v->inviter_name : "samtale";
    char subject[600], link[700], expires[32], *body;
    int rc;
    for(k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
        if(!strcmp(texts[k].lang, v->language))
            t = k;
    for(k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
        if(!strcmp(roles[k].role, v->role))
            role = t == 1 ? roles[k].nb : t == 2 ? roles[k].sv : roles[k].en;
    snprintf(link, sizeof(link), "%s/#/invite/%s", base_url, secret);
    time_rfc3339(v->expires_at, expires, sizeof(expires));
    expires[16] = '\0';
    expires[10] = ' ';
    snprintf(subject, sizeof(subject), texts[t].subject, who, v->workspace_name);
    size_t n = strlen(texts[t].body) + strlen(who) + strlen(v->workspace_name) + strlen(role) + strlen(link) + 64;
    body = malloc(n);
    if(!body)
        return SAM_ENOMEM;
    snprintf(body, n, texts[t].body, who, v->workspace_name, role, link, expires);
    rc = core_mail_enqueue_sealed(c, v->email, subject, body, "invitation");
    sodium_memzero(link, sizeof(link));
    sodium_memzero(body, n);
    free(body);
    return rc;
}

int core_invite_send(struct core *c, const struct actor *a, int64_t ws, const struct invite_input *in,
                     const char *base_url, int64_t now, struct store_invitation *out,
                     char secret[CORE_INVITE_SECRET_MAX])
{
    int rc = core_invite_create(c, a, ws, in, now, out, secret);
    if(rc || !in->by_email)
        return rc;
    rc = invite_mail(c, out, secret, base_url);
    sodium_memzero(secret, CORE_INVITE_SECRET_MAX);
    if(rc) {
        char why[300];
        snprintf(why, sizeof(why), "%s", sam_errmsg(rc));
        store_invitation_revoke(c->st, ws, out->id, now);
        return sam_fail(rc, "the invitation could not be mailed (%s); nothing was sent", why);
    }
    return SAM_OK;
}

int core_invite_resend(struct core *c, const struct actor *a, int64_t ws, int64_t id, const char *base_url,
                       int64_t now, struct store_invitation *out, char secret[CORE_INVITE_SECRET_MAX])
{
    struct store_invitation v;
    struct invite_input in;
    int rc = store_invitation_get(c->st, id, NULL, &v);
    secret[0] = '\0';
    if(rc == SAM_OK && (v.workspace_id != ws || v.accepted_at || v.revoked_at))
        rc = sam_fail(SAM_ENOTFOUND, "no pending invitation %lld", (long long)id);
    if(rc)
        return rc;
    /* A renewal is a new invitation of the same person, which withdraws the old one: it
     * counts toward the sender's daily bound like any other, so that renewing cannot mail
     * one address without end. */
    memset(&in, 0, sizeof(in));
    in.email = v.email;
    in.name = v.name[0] ? v.name : NULL;
    in.role = v.role;
    in.language = v.language;
    in.by_email = c->mail_enabled;
    return core_invite_send(c, a, ws, &in, base_url, now, out, secret);
}
