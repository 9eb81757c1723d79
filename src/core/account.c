/*
 * account.c: workspaces, accounts and memberships, with the rules that keep them sane:
 * names and emails validated, every workspace with at least one owner, the first start
 * of an empty database making a workspace and its owner.
 */
#include "core/core.h"
#include "core/approval.h"
#include "text/visible.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int core_check_length(const char *field, const char *s, size_t max, int chars)
{
    size_t len = strlen(s);
    long n = chars ? utf8_count(s, len) : -1;
    if((n >= 0 ? (size_t)n : len) <= max)
        return SAM_OK;
    return chars ? sam_fail_field(SAM_EINVAL, field, "%s must have at most %zu characters", field, max)
                 : sam_fail_field(SAM_EINVAL, field, "%s must have at most %zu bytes", field, max);
}

int core_validate_name(const char *field, const char *name)
{
    size_t len = strlen(name);
    long chars = utf8_count(name, len);
    if(chars < 0)
        return sam_fail_field(SAM_EINVAL, field, "%s is not valid UTF-8", field);
    if(len == 0 || isspace((unsigned char)name[0]) || isspace((unsigned char)name[len - 1]))
        return sam_fail_field(SAM_EINVAL, field, "%s must not be empty or start or end with a space", field);
    if(chars > CORE_NAME_MAX)
        return sam_fail_field(SAM_EINVAL, field, "%s must have at most %d characters", field, CORE_NAME_MAX);
    if(utf8_has_control(name))
        return sam_fail_field(SAM_EINVAL, field, "%s must not contain control characters", field);
    if(text_has_invisible(name, len, NULL))
        return sam_fail_field(SAM_EINVAL, field, "%s must not contain invisible or direction-changing characters",
                              field);
    return SAM_OK;
}

int core_validate_email(const char *email)
{
    size_t len = strlen(email);
    const char *at = strchr(email, '@');
    if(len > CORE_EMAIL_MAX)
        return sam_fail_field(SAM_EINVAL, "email", "email must have at most %d bytes", CORE_EMAIL_MAX);
    if(len < 3 || !at || at == email || !at[1] || strchr(at + 1, '@'))
        return sam_fail_field(SAM_EINVAL, "email", "email must look like name@example.com");
    for(const char *p = email; *p; p++)
        if((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '"')
            return sam_fail_field(SAM_EINVAL, "email", "email must not contain spaces or <>\"");
    if(utf8_count(email, len) < 0)
        return sam_fail_field(SAM_EINVAL, "email", "email is not valid UTF-8");
    if(text_has_invisible(email, len, NULL))
        return sam_fail_field(SAM_EINVAL, "email", "email must not contain invisible or direction-changing characters");
    return SAM_OK;
}

int core_validate_timezone(const char *field, const char *tz)
{
    int rc = core_check_length(field, tz, CORE_TIMEZONE_MAX, 1);
    if(rc)
        return rc;
    if(!tz_valid(tz))
        return sam_fail_field(SAM_EINVAL, field,
                              "'%.64s' is not a time zone name; use an IANA name such as Europe/Oslo", tz);
    return SAM_OK;
}

int core_workspace_create(struct core *c, const struct actor *a, const char *name, const char *tz,
                          struct store_workspace *out)
{
    int rc = core_validate_name("name", name);
    if(!rc)
        rc = core_validate_timezone("timezone", tz);
    if(rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(out->timezone, sizeof(out->timezone), "%s", tz);
    out->created_at = time_now();
    rc = store_workspace_insert(c->st, out);
    if(rc == SAM_ECONFLICT)
        return sam_fail_field(rc, "name", "a workspace named '%s' already exists", name);
    if(rc)
        return rc;
    if(!a->system) {
        struct store_member m = {.workspace_id = out->id, .user_id = a->user_id, .created_at = out->created_at};
        snprintf(m.role, sizeof(m.role), "owner");
        rc = store_member_insert(c->st, &m);
        if(rc)
            return rc;
        snprintf(out->role, sizeof(out->role), "owner");
    }
    json_t *d = json_pack("{s:s, s:s}", "name", name, "timezone", tz);
    core_audit(c, a, out->id, "workspace.create", out->name, d);
    json_decref(d);
    return SAM_OK;
}

int core_workspace_update(struct core *c, const struct actor *a, int64_t ws, const char *name,
                          const char *tz, const char *mix_preset, struct store_workspace *out)
{
    int rc = store_workspace_get(c->st, ws, out);
    if(rc)
        return rc;
    if(mix_preset) {
        if(strcmp(mix_preset, "gentle") && strcmp(mix_preset, "balanced") && strcmp(mix_preset, "retail"))
            return sam_fail_field(SAM_EINVAL, "mix_preset", "mix_preset must be gentle, balanced or retail");
        snprintf(out->mix_preset, sizeof(out->mix_preset), "%s", mix_preset);
    }
    if(name && (rc = core_validate_name("name", name)))
        return rc;
    if(tz && (rc = core_validate_timezone("timezone", tz)))
        return rc;
    if(name)
        snprintf(out->name, sizeof(out->name), "%s", name);
    if(tz)
        snprintf(out->timezone, sizeof(out->timezone), "%s", tz);
    rc = store_workspace_update(c->st, out);
    if(rc == SAM_ECONFLICT)
        return sam_fail_field(rc, "name", "a workspace named '%s' already exists", name);
    if(rc)
        return rc;
    json_t *d = json_pack("{s:s, s:s, s:s}", "name", out->name, "timezone", out->timezone, "mix_preset",
                          out->mix_preset);
    core_audit(c, a, ws, "workspace.update", out->name, d);
    json_decref(d);
    return SAM_OK;
}

int core_workspace_set_approval(struct core *c, const struct actor *a, int64_t ws, const char *mode,
                                struct store_workspace *out)
{
    char before[24];
    int rc;
    if(approval_mode_parse(mode) < 0 || !*mode)
        return sam_fail_field(SAM_EINVAL, "approval", "approval must be off, agents or editors_and_agents");
    if((rc = store_workspace_get(c->st, ws, out)))
        return rc;
    snprintf(before, sizeof(before), "%s", out->approval[0] ? out->approval : "off");
    if(!strcmp(before, mode))
        return SAM_OK;
    snprintf(out->approval, sizeof(out->approval), "%s", mode);
    if((rc = store_workspace_update(c->st, out)))
        return rc;
    json_t *d = json_pack("{s:s, s:s}", "from", before, "to", mode);
    core_audit(c, a, ws, "workspace.approval", out->name, d);
    json_decref(d);
    return SAM_OK;
}

int core_workspace_second_factor_allowed(struct core *c, const struct actor *a, int required)
{
    struct store_user u;
    int rc;
    if(!required || a->system)
        return SAM_OK;
    if((rc = store_user_get(c->st, a->user_id, &u)))
        return rc;
    if(!u.totp_enabled_at)
        return sam_fail_field(SAM_ECONFLICT, "require_second_factor", "turn on two-step login for your own "
                              "account first (under Your account), or this rule would lock you out too");
    return SAM_OK;
}

int core_workspace_require_second_factor(struct core *c, const struct actor *a, int64_t ws, int required)
{
    struct store_workspace w;
    int rc = store_workspace_get(c->st, ws, &w);
    if(rc)
        return rc;
    if((rc = core_workspace_second_factor_allowed(c, a, required)))
        return rc;
    if(w.require_second_factor == (required != 0))
        return SAM_OK;
    if((rc = store_workspace_set_second_factor(c->st, ws, required)))
        return rc;
    json_t *d = json_pack("{s:b}", "require_second_factor", required != 0);
    core_audit(c, a, ws, "workspace.second_factor", w.name, d);
    json_decref(d);
    return SAM_OK;
}

int core_workspace_find(struct core *c, const char *id_or_name, struct store_workspace *out)
{
    const char *p = id_or_name;
    while(*p && isdigit((unsigned char)*p))
        p++;
    if(*id_or_name && !*p && p - id_or_name < 18) {
        int rc = store_workspace_get(c->st, strtoll(id_or_name, NULL, 10), out);
        if(rc != SAM_ENOTFOUND)
            return rc;
    }
    int rc = store_workspace_get_by_name(c->st, id_or_name, out);
    if(rc == SAM_ENOTFOUND)
        return sam_fail(rc, "no workspace '%s'", id_or_name);
    return rc;
}

static int ensure_user(struct core *c, const char *email, const char *name, const char *password,
                       char *otp, struct store_user *u, int *created)
{
    int rc = store_user_get_by_email(c->st, email, u);
    *created = 0;
    if(otp)
        otp[0] = '\0';
    if(rc != SAM_ENOTFOUND)
        return rc;
    memset(u, 0, sizeof(*u));
    if(name && *name) {
        if((rc = core_validate_name("name", name)))
            return rc;
        snprintf(u->name, sizeof(u->name), "%s", name);
    } else {
        snprintf(u->name, sizeof(u->name), "%.*s", (int)strcspn(email, "@"), email);
    }
    snprintf(u->email, sizeof(u->email), "%s", email);
    if(password) {
        if((rc = core_password_check(password)))
            return sam_fail_field(rc, "password", "%s", sam_errmsg(rc));
        rc = core_password_hash(password, u->password_hash);
    } else {
        char tmp[24];
        core_one_time_password(otp ? otp : tmp);
        rc = core_password_hash(otp ? otp : tmp, u->password_hash);
        u->must_change_password = 1;
    }
    if(rc)
        return rc;
    u->created_at = time_now();
    rc = store_user_insert(c->st, u);
    if(!rc)
        *created = 1;
    return rc;
}

int core_member_add(struct core *c, const struct actor *a, int64_t ws, const char *email,
                    const char *name, const char *role, const char *password, char *otp,
                    struct store_member *out)
{
    struct store_user u;
    int rc, created;

    if((rc = core_validate_email(email)))
        return rc;
    /* Checked even when the account exists (and the name is not used): what is refused
     * is refused the same way every time. */
    if(name && *name && (rc = core_validate_name("name", name)))
        return rc;
    if(!core_role_valid(role))
        return sam_fail_field(SAM_EINVAL, "role", "role must be owner, editor, agent or viewer");
    rc = ensure_user(c, email, name, password, otp, &u, &created);
    if(rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->workspace_id = ws;
    out->user_id = u.id;
    out->created_at = time_now();
    snprintf(out->role, sizeof(out->role), "%s", role);
    rc = store_member_insert(c->st, out);
    if(rc == SAM_ECONFLICT)
        return sam_fail_field(rc, "email", "%s is already a member of this workspace", email);
    if(rc)
        return rc;
    rc = store_member_get(c->st, ws, u.id, out);
    if(rc)
        return rc;
    json_t *d = json_pack("{s:s, s:b}", "role", role, "new_account", created);
    core_audit(c, a, ws, "member.add", email, d);
    json_decref(d);
    return SAM_OK;
}

/* Withdraws the pending invitations user sent into ws: someone who may no longer invite
 * (removed, or given a role without members:write) must not keep a link they were shown
 * to come back through. */
static int withdraw_invitations_of(struct core *c, int64_t ws, int64_t user)
{
    struct store_invitation *vs = NULL;
    size_t n = 0;
    int64_t after = 0, now = time_now();
    int rc;
    do {
        if((rc = store_invitation_list(c->st, ws, after, 200, &vs, &n)))
            return rc;
        for(size_t i = 0; !rc && i < n; i++) {
            after = vs[i].id;
            if(vs[i].invited_by == user) {
                rc = store_invitation_revoke(c->st, ws, vs[i].id, now);
                if(rc == SAM_ENOTFOUND) /* accepted or withdrawn meanwhile */
                    rc = SAM_OK;
            }
        }
        free(vs);
        vs = NULL;
    } while(!rc && n == 200);
    if(!rc)
        sam_clear();
    return rc;
}

int core_member_set_role(struct core *c, const struct actor *a, int64_t ws, int64_t user,
                         const char *role, struct store_member *out)
{
    int rc;
    if(!core_role_valid(role))
        return sam_fail_field(SAM_EINVAL, "role", "role must be owner, editor, agent or viewer");
    rc = store_member_set_role(c->st, ws, user, role);
    if(!rc && !(core_role_perms(role) & PERM_MEMBERS_WRITE))
        rc = withdraw_invitations_of(c, ws, user);
    if(!rc)
        rc = store_member_get(c->st, ws, user, out);
    if(rc)
        return rc;
    json_t *d = json_pack("{s:s}", "role", role);
    core_audit(c, a, ws, "member.role", out->email, d);
    json_decref(d);
    return SAM_OK;
}

int core_member_remove(struct core *c, const struct actor *a, int64_t ws, int64_t user)
{
    struct store_member m;
    int rc = store_member_get(c->st, ws, user, &m);
    if(!rc)
        rc = store_member_delete(c->st, ws, user);
    if(rc)
        return rc;
    core_audit(c, a, ws, "member.remove", m.email, NULL);
    return withdraw_invitations_of(c, ws, user);
}

int core_user_set_password(struct core *c, const struct actor *a, const char *email,
                           const char *password, char otp[24])
{
    struct store_user u;
    char hash[160];
    int rc = store_user_get_by_email(c->st, email, &u);
    if(rc == SAM_ENOTFOUND)
        return sam_fail(rc, "no account with email %s", email);
    if(rc)
        return rc;
    otp[0] = '\0';
    if(password) {
        if((rc = core_password_check(password)))
            return rc;
        rc = core_password_hash(password, hash);
    } else {
        core_one_time_password(otp);
        rc = core_password_hash(otp, hash);
    }
    if(!rc)
        rc = store_user_set_password(c->st, u.id, hash, password == NULL);
    if(!rc)
        rc = store_session_delete_user(c->st, u.id, 0);
    if(!rc)
        core_audit(c, a, 0, "user.password", email, NULL);
    return rc;
}

int core_bootstrap(struct core *c, const char *ws_name, const char *tz, const char *email,
                   char otp[24], int *created)
{
    struct actor sys = {.system = 1};
    struct store_workspace w;
    struct store_member m;
    struct store_lock *lk = NULL;
    int64_t users = 0;
    int rc;

    *created = 0;
    otp[0] = '\0';
    /* Several web processes may start together on one new PostgreSQL database: one of
     * them makes the first owner, the others find it made. */
    rc = store_lock(c->st, STORE_LOCK_PLAN, &lk);
    if(!rc)
        rc = store_user_count(c->st, &users);
    if(rc || users > 0)
        goto out;
    snprintf(sys.label, sizeof(sys.label), "bootstrap");
    rc = store_workspace_get_by_name(c->st, ws_name, &w);
    if(rc == SAM_ENOTFOUND)
        rc = core_workspace_create(c, &sys, ws_name, tz, &w);
    if(!rc)
        rc = core_member_add(c, &sys, w.id, email, "Owner", "owner", NULL, otp, &m);
    if(!rc)
        *created = 1;
out:
    store_unlock(lk);
    return rc;
}
