/*
 * store.c: dispatch from the store_* functions to the backend chosen at open, and the
 * helpers every backend shares. Kept free of any database library.
 */
#include "store/store.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

int store_sql_open(const char *target, int postgres, int pool_size, struct store **out);

int store_open(const char *url, struct store **out)
{
    *out = NULL;
    if(!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
        return store_sql_open(url, 1, STORE_PG_POOL, out);
    if(!strncmp(url, "sqlite:", 7))
        url += 7;
    if(!*url)
        return sam_fail(SAM_EINVAL, "the database path is empty");
    return store_sql_open(url, 0, STORE_SQLITE_POOL, out);
}

void store_close(struct store *st)
{
    if(st)
        st->ops->close(st);
}

void store_channel_cleanup(struct store_channel *c)
{
    if(!c)
        return;
    free(c->settings);
    free(c->slots);
    free(c->secret);
    c->settings = NULL;
    c->slots = NULL;
    c->secret = NULL;
    c->secret_len = 0;
}

void store_channel_list_free(struct store_channel *items, size_t n)
{
    for(size_t i = 0; i < n; i++)
        store_channel_cleanup(&items[i]);
    free(items);
}

void store_audit_list_free(struct store_audit *items, size_t n)
{
    for(size_t i = 0; i < n; i++)
        free(items[i].detail);
    free(items);
}

int store_migrate(struct store *st, int *version)
{
    return st->ops->migrate(st, version);
}

int store_schema_version(struct store *st, int *version)
{
    return st->ops->schema_version(st, version);
}

int store_ping(struct store *st)
{
    return st->ops->ping(st);
}

int store_stats(struct store *st, struct store_stats *out)
{
    return st->ops->stats(st, out);
}

int store_backup(struct store *st, const char *dest, store_progress_fn fn, void *arg)
{
    return st->ops->backup(st, dest, fn, arg);
}

int store_integrity_check(struct store *st, char *msg, size_t n)
{
    return st->ops->integrity_check(st, msg, n);
}

int store_workspace_insert(struct store *st, struct store_workspace *ws)
{
    return st->ops->workspace_insert(st, ws);
}

int store_workspace_get(struct store *st, int64_t id, struct store_workspace *out)
{
    return st->ops->workspace_get(st, id, out);
}

int store_workspace_get_by_name(struct store *st, const char *name, struct store_workspace *out)
{
    return st->ops->workspace_get_by_name(st, name, out);
}

int store_workspace_update(struct store *st, const struct store_workspace *ws)
{
    return st->ops->workspace_update(st, ws);
}

int store_workspace_list(struct store *st, int64_t user_id, int64_t after, int limit, struct store_workspace **items, size_t *n)
{
    return st->ops->workspace_list(st, user_id, after, limit, items, n);
}

int store_user_insert(struct store *st, struct store_user *u)
{
    return st->ops->user_insert(st, u);
}

int store_user_get(struct store *st, int64_t id, struct store_user *out)
{
    return st->ops->user_get(st, id, out);
}

int store_user_get_by_email(struct store *st, const char *email, struct store_user *out)
{
    return st->ops->user_get_by_email(st, email, out);
}

int store_user_set_password(struct store *st, int64_t id, const char *hash, int must_change)
{
    return st->ops->user_set_password(st, id, hash, must_change);
}

int store_user_count(struct store *st, int64_t *n)
{
    return st->ops->user_count(st, n);
}

int store_member_insert(struct store *st, struct store_member *m)
{
    return st->ops->member_insert(st, m);
}

int store_member_get(struct store *st, int64_t ws, int64_t user, struct store_member *out)
{
    return st->ops->member_get(st, ws, user, out);
}

int store_member_set_role(struct store *st, int64_t ws, int64_t user, const char *role)
{
    return st->ops->member_set_role(st, ws, user, role);
}

int store_member_delete(struct store *st, int64_t ws, int64_t user)
{
    return st->ops->member_delete(st, ws, user);
}

int store_member_list(struct store *st, int64_t ws, int64_t user, int64_t after, int limit, struct store_member **items, size_t *n)
{
    return st->ops->member_list(st, ws, user, after, limit, items, n);
}

int store_session_insert(struct store *st, const unsigned char hash[32], struct store_session *s)
{
    return st->ops->session_insert(st, hash, s);
}

int store_session_get(struct store *st, const unsigned char hash[32], struct store_session *out)
{
    return st->ops->session_get(st, hash, out);
}

int store_session_touch(struct store *st, int64_t id, int64_t now, int64_t expires)
{
    return st->ops->session_touch(st, id, now, expires);
}

int store_session_delete(struct store *st, const unsigned char hash[32])
{
    return st->ops->session_delete(st, hash);
}

int store_session_delete_user(struct store *st, int64_t user_id, int64_t keep_id)
{
    return st->ops->session_delete_user(st, user_id, keep_id);
}

int store_token_insert(struct store *st, const unsigned char hash[32], struct store_token *t)
{
    return st->ops->token_insert(st, hash, t);
}

int store_token_get(struct store *st, int64_t id, struct store_token *out)
{
    return st->ops->token_get(st, id, out);
}

int store_token_get_by_hash(struct store *st, const unsigned char hash[32], struct store_token *out)
{
    return st->ops->token_get_by_hash(st, hash, out);
}

int store_token_list(struct store *st, int64_t ws, int64_t after, int limit, struct store_token **items, size_t *n)
{
    return st->ops->token_list(st, ws, after, limit, items, n);
}

int store_token_revoke(struct store *st, int64_t id, int64_t now)
{
    return st->ops->token_revoke(st, id, now);
}

int store_token_touch(struct store *st, int64_t id, int64_t now)
{
    return st->ops->token_touch(st, id, now);
}

int store_channel_insert(struct store *st, struct store_channel *c)
{
    return st->ops->channel_insert(st, c);
}

int store_channel_get(struct store *st, int64_t id, struct store_channel *out)
{
    return st->ops->channel_get(st, id, out);
}

int store_channel_update(struct store *st, const struct store_channel *c)
{
    return st->ops->channel_update(st, c);
}

int store_channel_delete(struct store *st, int64_t id)
{
    return st->ops->channel_delete(st, id);
}

int store_channel_list(struct store *st, int64_t ws, const char *kind, int64_t after, int limit, struct store_channel **items, size_t *n)
{
    return st->ops->channel_list(st, ws, kind, after, limit, items, n);
}

int store_channel_set_status(struct store *st, int64_t id, const char *status, const char *message, int64_t now)
{
    return st->ops->channel_set_status(st, id, status, message, now);
}

int store_channel_mark_reconnect(struct store *st, const struct store_channel *as_read, const char *message,
                                 int64_t now, int *changed)
{
    return st->ops->channel_mark_reconnect(st, as_read, message, now, changed);
}

int store_channel_reactivate(struct store *st, int64_t id, int64_t now, int *changed)
{
    return st->ops->channel_reactivate(st, id, now, changed);
}

int store_message_insert(struct store *st, struct store_message *m, int *inserted)
{
    return st->ops->message_insert(st, m, inserted);
}

int store_message_list(struct store *st, int64_t ws, int64_t channel, const char *kind, int64_t before, int limit,
                       struct store_message **items, size_t *n)
{
    return st->ops->message_list(st, ws, channel, kind, before, limit, items, n);
}

void store_message_cleanup(struct store_message *m)
{
    if(!m)
        return;
    free(m->remote_id);
    free(m->remote_url);
    free(m->parent_remote_id);
    free(m->root_remote_id);
    free(m->thread_id);
    free(m->author_id);
    free(m->author_handle);
    free(m->author_name);
    free(m->text);
    memset(m, 0, sizeof(*m));
}

void store_message_list_free(struct store_message *items, size_t n)
{
    for(size_t i = 0; items && i < n; i++)
        store_message_cleanup(&items[i]);
    free(items);
}

int store_cursor_get(struct store *st, int64_t channel, const char *name, char *out, size_t n)
{
    return st->ops->cursor_get(st, channel, name, out, n);
}

int store_cursor_set(struct store *st, int64_t channel, const char *name, const char *value, int64_t now)
{
    return st->ops->cursor_set(st, channel, name, value, now);
}

int store_engagement_plan(struct store *st, int64_t occurrence, int64_t published_at, const int64_t *checkpoints,
                          size_t n)
{
    return st->ops->engagement_plan(st, occurrence, published_at, checkpoints, n);
}

int store_engagement_due(struct store *st, int64_t now, int limit, struct store_engagement **items, size_t *n)
{
    return st->ops->engagement_due(st, now, limit, items, n);
}

int store_engagement_record(struct store *st, const struct store_engagement *e)
{
    return st->ops->engagement_record(st, e);
}

int store_engagement_list(struct store *st, int64_t ws, int64_t post, int64_t occurrence,
                          struct store_engagement **items, size_t *n)
{
    return st->ops->engagement_list(st, ws, post, occurrence, items, n);
}

int store_oauth_insert(struct store *st, const struct store_oauth *o)
{
    return st->ops->oauth_insert(st, o);
}

int store_oauth_take(struct store *st, const char *state_hash, int64_t now, struct store_oauth *out)
{
    return st->ops->oauth_take(st, state_hash, now, out);
}

void store_oauth_cleanup(struct store_oauth *o)
{
    if(!o)
        return;
    free(o->detail);
    if(o->secret) {
        memset(o->secret, 0, o->secret_len);
        free(o->secret);
    }
    memset(o, 0, sizeof(*o));
}

int store_mail_insert(struct store *st, struct store_mail *m)
{
    return st->ops->mail_insert(st, m);
}

int store_mail_claim(struct store *st, int64_t now, const char *owner, int lease_seconds, int limit,
                     struct store_mail **items, size_t *n)
{
    return st->ops->mail_claim(st, now, owner, lease_seconds, limit, items, n);
}

int store_mail_finish(struct store *st, int64_t id, const char *owner, const struct store_mail_outcome *o,
                      int64_t now)
{
    return st->ops->mail_finish(st, id, owner, o, now);
}

int store_mail_list(struct store *st, const char *state, int64_t before, int limit, struct store_mail **items,
                    size_t *n)
{
    return st->ops->mail_list(st, state, before, limit, items, n);
}

int store_mail_counts(struct store *st, int64_t counts[STORE_MAIL_NSTATES])
{
    return st->ops->mail_counts(st, counts);
}

void store_mail_cleanup(struct store_mail *m)
{
    if(!m)
        return;
    free(m->subject);
    free(m->body);
    m->subject = m->body = NULL;
}

void store_mail_list_free(struct store_mail *items, size_t n)
{
    for(size_t i = 0; items && i < n; i++)
        store_mail_cleanup(&items[i]);
    free(items);
}

int store_audit_insert(struct store *st, const struct store_audit *a)
{
    return st->ops->audit_insert(st, a);
}

int store_audit_list(struct store *st, int64_t ws, int64_t before, int limit, struct store_audit **items, size_t *n)
{
    return st->ops->audit_list(st, ws, before, limit, items, n);
}

int store_post_insert(struct store *st, struct store_post *p, struct store_occurrence *occ, size_t n)
{
    return st->ops->post_insert(st, p, occ, n);
}

int store_post_get(struct store *st, int64_t id, struct store_post *out)
{
    return st->ops->post_get(st, id, out);
}

int store_post_update(struct store *st, const struct store_post *p)
{
    return st->ops->post_update(st, p);
}

int store_post_list(struct store *st, int64_t ws, const char *state, int64_t after, int limit, struct store_post **items, size_t *n)
{
    return st->ops->post_list(st, ws, state, after, limit, items, n);
}

int store_post_cancel(struct store *st, int64_t id, int64_t now)
{
    return st->ops->post_cancel(st, id, now);
}

int store_occurrence_list(struct store *st, int64_t ws, int64_t post, int64_t channel, int64_t from, int64_t to, int64_t after, int limit, struct store_occurrence **items, size_t *n)
{
    return st->ops->occurrence_list(st, ws, post, channel, from, to, after, limit, items, n);
}

int store_occurrence_page(struct store *st, int64_t ws, int64_t channel, int64_t from, int64_t to, int64_t after,
                          int limit, struct store_occurrence_post **items, size_t *n)
{
    return st->ops->occurrence_page(st, ws, channel, from, to, after, limit, items, n);
}

void store_occurrence_posts_free(struct store_occurrence_post *items, size_t n)
{
    for(size_t i = 0; items && i < n; i++) {
        free(items[i].text);
        free(items[i].variants);
    }
    free(items);
}

int store_occurrence_claim(struct store *st, int64_t now, const char *owner, int lease_seconds, int limit, struct store_occurrence **items, size_t *n)
{
    return st->ops->occurrence_claim(st, now, owner, lease_seconds, limit, items, n);
}

int store_occurrence_finish(struct store *st, int64_t id, const char *owner, const struct store_outcome *o)
{
    return st->ops->occurrence_finish(st, id, owner, o);
}

int store_workspace_set_ical(struct store *st, int64_t ws, const char *token_hash)
{
    return st->ops->workspace_set_ical(st, ws, token_hash);
}

int store_workspace_by_ical(struct store *st, const char *token_hash, struct store_workspace *out)
{
    return st->ops->workspace_by_ical(st, token_hash, out);
}

int store_occurrence_release_leases(struct store *st, int *n)
{
    return st->ops->occurrence_release_leases(st, n);
}

int store_series_insert(struct store *st, struct store_post *p, struct store_series *s,
                        struct store_occurrence *occ, size_t n)
{
    return st->ops->series_insert(st, p, s, occ, n);
}

int store_series_get(struct store *st, int64_t id, struct store_series *out)
{
    return st->ops->series_get(st, id, out);
}

int store_series_list(struct store *st, int64_t ws, int64_t after, int limit, struct store_series **items,
                      size_t *n)
{
    return st->ops->series_list(st, ws, after, limit, items, n);
}

int store_occurrence_previous(struct store *st, int64_t series, int64_t channel, int64_t before,
                              struct store_occurrence *out)
{
    return st->ops->occurrence_previous(st, series, channel, before, out);
}

int store_occurrence_mark_deleted(struct store *st, int64_t id, int64_t now)
{
    return st->ops->occurrence_mark_deleted(st, id, now);
}

int store_queue_items(struct store *st, int64_t ws, int64_t channel, int64_t from, int64_t to,
                      struct store_queue_item **items, size_t *n)
{
    return st->ops->queue_items(st, ws, channel, from, to, items, n);
}

void store_queue_items_free(struct store_queue_item *items, size_t n)
{
    for(size_t i = 0; i < n; i++) {
        free(items[i].text);
        free(items[i].variants);
    }
    free(items);
}

void store_post_cleanup(struct store_post *p)
{
    if(!p)
        return;
    free(p->text);
    free(p->link);
    free(p->campaign);
    free(p->variants);
    free(p->override_reason);
    p->text = p->link = p->campaign = p->variants = p->override_reason = NULL;
}

void store_post_list_free(struct store_post *items, size_t n)
{
    for(size_t i = 0; i < n; i++)
        store_post_cleanup(&items[i]);
    free(items);
}

/* ---- security (X6) ---- */

int store_workspace_set_second_factor(struct store *st, int64_t ws, int required)
{
    return st->ops->workspace_set_second_factor(st, ws, required);
}

int store_user_login_failed(struct store *st, int64_t id, int64_t now, const char *addr, int *count)
{
    return st->ops->user_login_failed(st, id, now, addr, count);
}

int store_user_login_succeeded(struct store *st, int64_t id, int64_t now, struct store_user *before)
{
    return st->ops->user_login_succeeded(st, id, now, before);
}

int store_user_failed_notified(struct store *st, int64_t id, int64_t now)
{
    return st->ops->user_failed_notified(st, id, now);
}

int store_session_clear_notice(struct store *st, int64_t id)
{
    return st->ops->session_clear_notice(st, id);
}

int store_token_revoke_user(struct store *st, int64_t user_id, int64_t now, int *n)
{
    return st->ops->token_revoke_user(st, user_id, now, n);
}

int store_invitation_insert(struct store *st, const unsigned char hash[32], struct store_invitation *inv)
{
    return st->ops->invitation_insert(st, hash, inv);
}

int store_invitation_get(struct store *st, int64_t id, const unsigned char *hash, struct store_invitation *out)
{
    return st->ops->invitation_get(st, id, hash, out);
}

int store_invitation_list(struct store *st, int64_t ws, int64_t after, int limit, struct store_invitation **items,
                          size_t *n)
{
    return st->ops->invitation_list(st, ws, after, limit, items, n);
}

int store_invitation_count(struct store *st, int64_t ws, int64_t by, int64_t since, int *n)
{
    return st->ops->invitation_count(st, ws, by, since, n);
}

int store_invitation_revoke(struct store *st, int64_t ws, int64_t id, int64_t now)
{
    return st->ops->invitation_revoke(st, ws, id, now);
}

int store_invitation_accept(struct store *st, const unsigned char hash[32], int64_t now, struct store_user *new_user,
                            int64_t user_id, struct store_invitation *out)
{
    return st->ops->invitation_accept(st, hash, now, new_user, user_id, out);
}

int store_totp_get(struct store *st, int64_t user, struct store_totp *out)
{
    return st->ops->totp_get(st, user, out);
}

void store_totp_cleanup(struct store_totp *t)
{
    if(!t)
        return;
    free(t->secret);
    free(t->pending);
    t->secret = t->pending = NULL;
    t->secret_len = t->pending_len = 0;
}

int store_totp_set_pending(struct store *st, int64_t user, const unsigned char *sealed, size_t len)
{
    return st->ops->totp_set_pending(st, user, sealed, len);
}

int store_totp_enable(struct store *st, int64_t user, const unsigned char *sealed, size_t len, int64_t now,
                      int64_t step, const unsigned char (*hashes)[32], size_t n)
{
    return st->ops->totp_enable(st, user, sealed, len, now, step, hashes, n);
}

int store_totp_disable(struct store *st, int64_t user)
{
    return st->ops->totp_disable(st, user);
}

int store_totp_use_step(struct store *st, int64_t user, int64_t step)
{
    return st->ops->totp_use_step(st, user, step);
}

int store_recovery_replace(struct store *st, int64_t user, const unsigned char (*hashes)[32], size_t n)
{
    return st->ops->recovery_replace(st, user, hashes, n);
}

int store_recovery_use(struct store *st, int64_t user, const unsigned char hash[32], int64_t now)
{
    return st->ops->recovery_use(st, user, hash, now);
}

int store_recovery_count(struct store *st, int64_t user, int *left)
{
    return st->ops->recovery_count(st, user, left);
}

int store_challenge_insert(struct store *st, const unsigned char hash[32], const struct store_challenge *c)
{
    return st->ops->challenge_insert(st, hash, c);
}

int store_challenge_get(struct store *st, const unsigned char hash[32], int64_t now, struct store_challenge *out)
{
    return st->ops->challenge_get(st, hash, now, out);
}

int store_challenge_fail(struct store *st, const unsigned char hash[32], int *attempts)
{
    return st->ops->challenge_fail(st, hash, attempts);
}

int store_challenge_delete(struct store *st, const unsigned char hash[32])
{
    return st->ops->challenge_delete(st, hash);
}
