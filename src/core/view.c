/* view.c: the JSON objects of the API (docs/api.md), used by the HTTP handlers and by the
 * CLI's --json output alike, so both doors show the same thing. Secrets never appear, and
 * errors worded by a network reach only those who may act on them (view_peer_text). */
#include "core/core.h"
#include "util/i18n.h"
#include "util/timeutil.h"

#include <string.h>

/* PERM_* bits of the role this thread's views are for; all for a thread that never said
 * (the CLI's operator). */
static _Thread_local unsigned audience = PERM_ALL;

void view_for_role(const char *role)
{
    audience = role ? core_role_perms(role) : 0;
}

const char *view_peer_text(const char *text, unsigned perm, const char *generic)
{
    if(!text || !*text)
        return text;
    return (audience & perm) == perm ? text : _(generic);
}

json_t *view_peer_message(const char *text, unsigned perm, const char *generic)
{
    char out[1024];
    if(!text || !*text)
        return json_string(text ? text : "");
    if((audience & perm) != perm)
        return json_string(_(generic));
    i18n_message(text, out, sizeof(out));
    {
        json_t *j = json_string(out);
        return j ? j : json_string(text); /* never lose the message: English, then */
    }
}

json_t *view_time(int64_t t)
{
    char buf[32];
    if(!t)
        return json_null();
    time_rfc3339(t, buf, sizeof(buf));
    return json_string(buf);
}

json_t *view_workspace(const struct store_workspace *w)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)w->id, "name", w->name,
                          "timezone", w->timezone, "created_at", view_time(w->created_at));
    if(o && w->role[0])
        json_object_set_new(o, "role", json_string(w->role));
    if(o) {
        json_object_set_new(o, "mix_preset", json_string(w->mix_preset[0] ? w->mix_preset : "balanced"));
        json_object_set_new(o, "require_second_factor", json_boolean(w->require_second_factor));
        json_object_set_new(o, "approval", json_string(w->approval[0] ? w->approval : "off"));
        json_object_set_new(o, "require_alt_text", json_boolean(w->require_alt_text));
    }
    return o;
}

json_t *view_user(const struct store_user *u)
{
    return json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)u->id, "email", u->email, "name",
                     u->name, "created_at", view_time(u->created_at));
}

json_t *view_member(const struct store_member *m)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:o}", "user_id", (json_int_t)m->user_id,
                     "workspace_id", (json_int_t)m->workspace_id, "email", m->email, "name", m->name,
                     "role", m->role, "created_at", view_time(m->created_at));
}

json_t *view_token(const struct store_token *t)
{
    json_t *scopes = json_array();
    const char *p = t->scopes;
    while(scopes && *p) {
        size_t n = strcspn(p, " ");
        if(n)
            json_array_append_new(scopes, json_stringn(p, n));
        p += n;
        while(*p == ' ')
            p++;
    }
    return json_pack("{s:I, s:I, s:I, s:s, s:o, s:s, s:o, s:o, s:o}", "id", (json_int_t)t->id,
                     "workspace_id", (json_int_t)t->workspace_id, "user_id", (json_int_t)t->user_id,
                     "name", t->name, "scopes", scopes, "prefix", t->prefix, "created_at",
                     view_time(t->created_at), "last_used_at", view_time(t->last_used_at),
                     "revoked_at", view_time(t->revoked_at));
}

json_t *view_channel(const struct store_channel *ch)
{
    json_t *settings = json_loads(ch->settings ? ch->settings : "{}", 0, NULL);
    json_t *slots = json_loads(ch->slots ? ch->slots : "[]", 0, NULL);
    if(!json_is_object(settings)) {
        json_decref(settings);
        settings = json_object();
    }
    if(!json_is_array(slots)) {
        json_decref(slots);
        slots = json_array();
    }
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:b, s:s, s:o, s:o, s:i, s:i, s:b, s:o, s:o, s:o}", "id",
                     (json_int_t)ch->id, "workspace_id", (json_int_t)ch->workspace_id, "kind", ch->kind, "name",
                     ch->name, "timezone", ch->timezone, "settings", settings, "has_secret", ch->secret != NULL,
                     "status", ch->status, "status_message",
                     ch->status_message[0] ? view_peer_message(ch->status_message, PERM_CHANNELS_WRITE,
                                                               VIEW_CHANNEL_ERROR_HIDDEN) : json_null(),
                     "slots", slots, "max_per_hour", ch->max_per_hour, "max_per_day",
                     ch->max_per_day, "paused", ch->paused_at != 0, "paused_at", view_time(ch->paused_at),
                     "created_at", view_time(ch->created_at), "updated_at",
                     view_time(ch->updated_at));
}

json_t *view_message(const struct store_message *m)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:{s:s, s:s?, s:s?}, s:s, s:o, s:o}",
                     "id", (json_int_t)m->id, "channel_id", (json_int_t)m->channel_id, "channel", m->channel_name,
                     "channel_kind", m->channel_kind, "kind", m->kind, "remote_id", m->remote_id, "remote_url",
                     m->remote_url, "parent_remote_id", m->parent_remote_id, "root_remote_id", m->root_remote_id,
                     "thread_id", m->thread_id, "author", "id", m->author_id, "handle", m->author_handle, "name",
                     m->author_name, "text", m->text, "created_at", view_time(m->created_at), "received_at",
                     view_time(m->received_at));
}

static json_t *count_or_null(int64_t v)
{
    return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

json_t *view_engagement(const struct store_engagement *e)
{
    return json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "occurrence_id",
                     (json_int_t)e->occurrence_id, "channel_id", (json_int_t)e->channel_id, "after_seconds",
                     (json_int_t)e->checkpoint, "due_at", view_time(e->due_at), "fetched_at",
                     e->fetched_at ? view_time(e->fetched_at) : json_null(), "likes", count_or_null(e->likes),
                     "reposts", count_or_null(e->reposts), "replies", count_or_null(e->replies), "quotes",
                     count_or_null(e->quotes), "error",
                     e->error[0] ? view_peer_message(e->error, PERM_POSTS_WRITE, VIEW_COUNTS_ERROR_HIDDEN)
                                 : json_null());
}

json_t *view_audit(const struct store_audit *e)
{
    json_t *detail = json_loads(e->detail ? e->detail : "{}", 0, NULL);
    if(!detail)
        detail = json_object();
    return json_pack("{s:I, s:o, s:s, s:s, s:s, s:o}", "id", (json_int_t)e->id, "at", view_time(e->at),
                     "actor", e->actor, "action", e->action, "target", e->target, "detail", detail);
}

json_t *view_invitation(const struct store_invitation *v, int64_t now)
{
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)v->id, "workspace_id",
                          (json_int_t)v->workspace_id, "email", v->email, "role", v->role, "language", v->language,
                          "delivery", v->delivery, "state", core_invite_state(v, now), "created_at",
                          view_time(v->created_at), "expires_at", view_time(v->expires_at));
    if(o && v->name[0])
        json_object_set_new(o, "name", json_string(v->name));
    return o;
}

json_t *view_failed_logins(const struct store_session *s)
{
    return json_pack("{s:i, s:o, s:s}", "count", s->notice_failed, "last_at", view_time(s->notice_failed_at),
                     "last_address", s->notice_failed_addr);
}
