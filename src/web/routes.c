/*
 * routes.c: the route table of the HTTP API, in one place: method, path pattern, handler
 * (one handler file per area: api_*.c), the permission it needs in the {wid} workspace
 * (or the token scope without one) and its flags (web.h). Every handler that may wait on a
 * network (credential checks, feed discovery, reading a channel, OAuth, engagement counts)
 * carries ROUTE_NET, so it runs on the worker pool, never on an HTTP thread. docs/api.md and
 * docs/api/openapi.yaml describe the same routes; test_openapi.py keeps them in step.
 */
#include "web/api.h"

/* ---- the route table ---- */

#define WS "/api/v1/workspaces/{wid}"

const struct web_route web_routes[] = {
    {"GET", "/healthz", api_healthz, 0, ROUTE_PUBLIC},
    {"GET", "/readyz", api_readyz, 0, ROUTE_PUBLIC},
    {"GET", "/metrics", api_metrics, 0, ROUTE_PUBLIC | ROUTE_RAW},
    {"POST", "/api/v1/auth/login", api_login, 0, ROUTE_PUBLIC | ROUTE_BODY},
    {"POST", "/api/v1/auth/second-factor", api_login_second_factor, 0, ROUTE_PUBLIC | ROUTE_BODY},
    {"POST", "/api/v1/auth/logout", api_logout, 0, ROUTE_SESSION_ONLY | ROUTE_PW_GATE_OK},
    {"GET", "/api/v1/me", api_me, 0, ROUTE_PW_GATE_OK},
    {"POST", "/api/v1/me/password", api_me_password, 0, ROUTE_SESSION_ONLY | ROUTE_PW_GATE_OK | ROUTE_BODY},
    {"DELETE", "/api/v1/me/failed-logins", api_me_notice_dismiss, 0, ROUTE_SESSION_ONLY | ROUTE_PW_GATE_OK},
    {"POST", "/api/v1/me/tokens/revoke", api_me_tokens_revoke, 0, ROUTE_SESSION_ONLY},
    {"POST", "/api/v1/me/second-factor", api_second_factor_begin, 0, ROUTE_SESSION_ONLY | ROUTE_BODY},
    {"POST", "/api/v1/me/second-factor/confirm", api_second_factor_confirm, 0, ROUTE_SESSION_ONLY | ROUTE_BODY},
    {"POST", "/api/v1/me/second-factor/disable", api_second_factor_disable, 0, ROUTE_SESSION_ONLY | ROUTE_BODY},
    {"POST", "/api/v1/me/second-factor/recovery-codes", api_second_factor_recovery, 0,
     ROUTE_SESSION_ONLY | ROUTE_BODY},
    {"GET", "/api/v1/workspaces", api_ws_list, PERM_WORKSPACES_READ, 0},
    {"POST", "/api/v1/workspaces", api_ws_create, PERM_WORKSPACES_WRITE, ROUTE_SESSION_ONLY | ROUTE_BODY},
    {"GET", WS, api_ws_get, PERM_WORKSPACES_READ, 0},
    {"PATCH", WS, api_ws_patch, PERM_WORKSPACES_WRITE, ROUTE_BODY},
    {"GET", WS "/members", api_members_list, PERM_MEMBERS_READ, 0},
    {"PATCH", WS "/members/{uid}", api_member_patch, PERM_MEMBERS_WRITE, ROUTE_BODY},
    {"DELETE", WS "/members/{uid}", api_member_delete, PERM_MEMBERS_WRITE, 0},
    {"GET", WS "/invitations", api_invitations_list, PERM_MEMBERS_READ, 0},
    {"POST", WS "/invitations", api_invitations_create, PERM_MEMBERS_WRITE, ROUTE_BODY},
    {"POST", WS "/invitations/{iid}/renew", api_invitation_renew, PERM_MEMBERS_WRITE, 0},
    {"DELETE", WS "/invitations/{iid}", api_invitation_delete, PERM_MEMBERS_WRITE, 0},
    {"GET", "/api/v1/invitations/{token}", api_invitation_peek, 0, ROUTE_PUBLIC},
    {"POST", "/api/v1/invitations/{token}/accept", api_invitation_accept, 0, ROUTE_PUBLIC | ROUTE_BODY},
    {"POST", "/api/v1/invitations/{token}/join", api_invitation_join, 0, ROUTE_SESSION_ONLY},
    {"GET", WS "/tokens", api_tokens_list, PERM_TOKENS_READ, 0},
    {"POST", WS "/tokens", api_tokens_create, PERM_TOKENS_WRITE, ROUTE_BODY},
    {"DELETE", WS "/tokens/{tid}", api_token_delete, PERM_TOKENS_WRITE, 0},
    {"GET", WS "/channels", api_channels_list, PERM_CHANNELS_READ, 0},
    {"POST", WS "/channels", api_channels_create, PERM_CHANNELS_WRITE, ROUTE_BODY | ROUTE_NET},
    {"GET", WS "/channels/{cid}", api_channel_get, PERM_CHANNELS_READ, 0},
    {"PATCH", WS "/channels/{cid}", api_channel_patch, PERM_CHANNELS_WRITE, ROUTE_BODY | ROUTE_NET},
    {"DELETE", WS "/channels/{cid}", api_channel_delete, PERM_CHANNELS_WRITE, 0},
    {"GET", WS "/channels/{cid}/slots", api_channel_slots, PERM_CHANNELS_READ, 0},
    {"POST", WS "/channels/{cid}/read", api_channel_read, PERM_CHANNELS_READ, ROUTE_NET},
    {"POST", WS "/channels/connect/mastodon", api_connect_mastodon, PERM_CHANNELS_WRITE, ROUTE_BODY | ROUTE_NET},
    {"POST", WS "/channels/connect/mastodon/finish", api_connect_mastodon_finish, PERM_CHANNELS_WRITE, ROUTE_BODY | ROUTE_NET},
    {"POST", WS "/channels/discover", api_discover, PERM_CHANNELS_WRITE, ROUTE_BODY | ROUTE_NET},
    {"GET", WS "/messages", api_messages_list, PERM_CHANNELS_READ, 0},
    {"GET", WS "/audit", api_audit_list, PERM_AUDIT_READ, 0},
    {"GET", WS "/posts", api_posts_list, PERM_POSTS_READ, 0},
    {"POST", WS "/posts", api_posts_create, PERM_POSTS_WRITE, ROUTE_BODY},
    {"GET", WS "/posts/{pid}", api_post_get, PERM_POSTS_READ, 0},
    {"PATCH", WS "/posts/{pid}", api_post_patch, PERM_POSTS_WRITE, ROUTE_BODY},
    {"DELETE", WS "/posts/{pid}", api_post_delete, PERM_POSTS_WRITE, 0},
    {"POST", WS "/posts/{pid}/cancel", api_post_cancel, PERM_POSTS_WRITE, 0},
    {"PATCH", WS "/occurrences/{oid}", api_occurrence_patch, PERM_POSTS_WRITE, ROUTE_BODY},
    {"GET", WS "/offers", api_offers_list, PERM_POSTS_READ, 0},
    {"POST", WS "/media", api_media_upload, PERM_POSTS_WRITE, ROUTE_UPLOAD | ROUTE_NET},
    {"GET", WS "/media/{mid}", api_media_get, PERM_POSTS_READ, ROUTE_RAW},
    {"GET", WS "/posts/{pid}/engagement", api_post_engagement, PERM_POSTS_READ, 0},
    {"POST", WS "/posts/{pid}/engagement", api_post_engagement_refresh, PERM_POSTS_READ, ROUTE_NET},
    {"GET", WS "/queue", api_queue, PERM_POSTS_READ, 0},
    {"POST", WS "/check", api_check, PERM_POSTS_READ, ROUTE_BODY},
    {"GET", WS "/queue/check", api_queue_check, PERM_POSTS_READ, 0},
    {"GET", WS "/series", api_series_list, PERM_POSTS_READ, 0},
    {"POST", WS "/series", api_series_create, PERM_POSTS_WRITE, ROUTE_BODY},
    {"POST", WS "/calendar", api_calendar_create, PERM_WORKSPACES_WRITE, 0},
    {"DELETE", WS "/calendar", api_calendar_delete, PERM_WORKSPACES_WRITE, 0},
    {"GET", "/ical/{token}", api_ical, 0, ROUTE_PUBLIC | ROUTE_RAW},
    {"GET", "/api/v1/oauth/mastodon/callback", api_oauth_callback, 0, ROUTE_PUBLIC | ROUTE_RAW | ROUTE_NET},
};
const size_t web_nroutes = sizeof(web_routes) / sizeof(web_routes[0]);
