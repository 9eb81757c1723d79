/*
 * api.h: what the API's handler files (api_*.c) share: the request helpers of api_util.c
 * and every handler, which routes.c puts in the route table. Internal to web/.
 *
 * A handler reads its validated request, calls core/ (or engine/ for work that reaches a
 * network), and fills a reply; errors go back as codes with sam_fail messages and
 * server.c turns them into the error shape.
 */
#ifndef SAM_WEB_API_H
#define SAM_WEB_API_H

#include "web/web.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200

/* Fails with 422 (naming the field) when body has a key not in allowed (NULL-terminated). */
int api_body_only(json_t *body, const char *const *allowed);
/* *out gets the string at key (borrowed from body), or NULL when absent (an error when
 * required); a non-string or a string with NUL characters is refused. */
int api_body_str(json_t *body, const char *key, int required, const char **out);
/* An integer field from min to max into *out; absent or null leaves *out as it is. */
int api_int_field(json_t *body, const char *key, int min, int max, int *out);
/* Reads ?limit (1..LIST_MAX, default LIST_DEFAULT) and ?cursor (an id, 0 when absent). */
int api_page_params(const struct web_request *r, int *limit, int64_t *after);
/* {"items": items, "next_cursor": ...}; takes ownership of items. */
json_t *api_page_json(json_t *items, int more, int64_t last);
/* A page of a list: the first `limit` of n items (each `size` bytes) through view, with a
 * cursor after the last one shown when more came back. */
json_t *api_page_of(const void *items, size_t n, size_t size, int limit, json_t *(*view)(const void *),
                    int64_t (*key)(const void *));
/* After a login succeeded: sets the session cookie (and the device cookie that spares this
 * browser the per-email login delay later) and answers what a login answers: the user,
 * the CSRF token and the notice of failed logins. Wipes token (n bytes). */
int api_logged_in(struct web_request *r, struct web_reply *out, const struct store_user *u,
                  const struct store_session *s, char *token, size_t n);
/* Sets the reply's status and body (takes ownership of j; SAM_ENOMEM when j is NULL). */
int api_reply(struct web_reply *out, int status, json_t *j);
/* A post of r's workspace as a single post's answer: with its occurrences and its approval
 * and history (api_posts.c). New reference in *out. */
int api_post_json(struct web_request *r, struct store_post *p, json_t **out);

int api_audit_list(struct web_request *r, struct web_reply *out);
int api_calendar_create(struct web_request *r, struct web_reply *out);
int api_calendar_delete(struct web_request *r, struct web_reply *out);
int api_channel_delete(struct web_request *r, struct web_reply *out);
int api_channel_get(struct web_request *r, struct web_reply *out);
int api_channel_patch(struct web_request *r, struct web_reply *out);
int api_channel_read(struct web_request *r, struct web_reply *out);
int api_channel_slots(struct web_request *r, struct web_reply *out);
int api_channels_create(struct web_request *r, struct web_reply *out);
int api_channels_list(struct web_request *r, struct web_reply *out);
int api_check(struct web_request *r, struct web_reply *out);
int api_connect_mastodon(struct web_request *r, struct web_reply *out);
int api_connect_mastodon_finish(struct web_request *r, struct web_reply *out);
int api_discover(struct web_request *r, struct web_reply *out);
int api_healthz(struct web_request *r, struct web_reply *out);
int api_ical(struct web_request *r, struct web_reply *out);
int api_login(struct web_request *r, struct web_reply *out);
int api_logout(struct web_request *r, struct web_reply *out);
int api_me(struct web_request *r, struct web_reply *out);
int api_me_password(struct web_request *r, struct web_reply *out);
int api_me_notice_dismiss(struct web_request *r, struct web_reply *out);
int api_login_second_factor(struct web_request *r, struct web_reply *out);
int api_second_factor_begin(struct web_request *r, struct web_reply *out);
int api_second_factor_confirm(struct web_request *r, struct web_reply *out);
int api_second_factor_disable(struct web_request *r, struct web_reply *out);
int api_second_factor_recovery(struct web_request *r, struct web_reply *out);
int api_me_tokens_revoke(struct web_request *r, struct web_reply *out);
int api_member_delete(struct web_request *r, struct web_reply *out);
int api_member_patch(struct web_request *r, struct web_reply *out);
int api_members_list(struct web_request *r, struct web_reply *out);
int api_messages_list(struct web_request *r, struct web_reply *out);
int api_metrics(struct web_request *r, struct web_reply *out);
int api_oauth_callback(struct web_request *r, struct web_reply *out);
int api_post_cancel(struct web_request *r, struct web_reply *out);
int api_post_approve(struct web_request *r, struct web_reply *out);
int api_post_request_changes(struct web_request *r, struct web_reply *out);
int api_post_reject(struct web_request *r, struct web_reply *out);
int api_approvals_list(struct web_request *r, struct web_reply *out);
int api_approvals_notices(struct web_request *r, struct web_reply *out);
int api_post_delete(struct web_request *r, struct web_reply *out);
int api_media_upload(struct web_request *r, struct web_reply *out);
int api_media_get(struct web_request *r, struct web_reply *out);
int api_post_engagement(struct web_request *r, struct web_reply *out);
int api_post_engagement_refresh(struct web_request *r, struct web_reply *out);
int api_post_get(struct web_request *r, struct web_reply *out);
int api_post_patch(struct web_request *r, struct web_reply *out);
int api_occurrence_patch(struct web_request *r, struct web_reply *out);
int api_occurrence_cancel(struct web_request *r, struct web_reply *out);
int api_offers_list(struct web_request *r, struct web_reply *out);
int api_preview(struct web_request *r, struct web_reply *out);
int api_posts_create(struct web_request *r, struct web_reply *out);
int api_posts_list(struct web_request *r, struct web_reply *out);
int api_posts_import(struct web_request *r, struct web_reply *out);
int api_posts_export(struct web_request *r, struct web_reply *out);
int api_queue(struct web_request *r, struct web_reply *out);
int api_queue_check(struct web_request *r, struct web_reply *out);
int api_readyz(struct web_request *r, struct web_reply *out);
int api_series_create(struct web_request *r, struct web_reply *out);
int api_series_list(struct web_request *r, struct web_reply *out);
int api_token_delete(struct web_request *r, struct web_reply *out);
int api_tokens_create(struct web_request *r, struct web_reply *out);
int api_tokens_list(struct web_request *r, struct web_reply *out);
int api_ws_create(struct web_request *r, struct web_reply *out);
int api_ws_get(struct web_request *r, struct web_reply *out);
int api_ws_list(struct web_request *r, struct web_reply *out);
int api_ws_patch(struct web_request *r, struct web_reply *out);

int api_invitations_list(struct web_request *r, struct web_reply *out);
int api_invitations_create(struct web_request *r, struct web_reply *out);
int api_invitation_renew(struct web_request *r, struct web_reply *out);
int api_invitation_delete(struct web_request *r, struct web_reply *out);
int api_invitation_peek(struct web_request *r, struct web_reply *out);
int api_invitation_accept(struct web_request *r, struct web_reply *out);
int api_invitation_join(struct web_request *r, struct web_reply *out);

#endif
