/*
 * api.c: the route table and the handlers of the JSON API (docs/api.md). A handler reads
 * its validated request, calls core/, and fills a reply; errors go back as codes with
 * sam_fail messages and server.c turns them into the error shape.
 */
#include "web/web.h"
#include "channel/discover.h"
#include "channel/http.h"
#include "core/post.h"
#include "engine/chan.h"
#include "engine/connect.h"
#include "engine/poller.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 50
#define LIST_MAX 200

/* ---- request helpers ---- */

/* Fails with 422 when body has a key not in allowed (NULL-terminated). */
static int body_only(json_t *body, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        size_t i;
        for(i = 0; allowed[i]; i++)
            if(!strcmp(key, allowed[i]))
                break;
        if(!allowed[i])
            return sam_fail_field(SAM_EINVAL, key, "unknown field '%.64s'", key);
    }
    return SAM_OK;
}

/* *out gets the string at key, or NULL when absent (an error when required). */
static int body_str(json_t *body, const char *key, int required, const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if(!v || json_is_null(v)) {
        if(required)
            return sam_fail_field(SAM_EINVAL, key, "%s is required", key);
        return SAM_OK;
    }
    if(!json_is_string(v))
        return sam_fail_field(SAM_EINVAL, key, "%s must be a string", key);
    if(strlen(json_string_value(v)) != json_string_length(v))
        return sam_fail_field(SAM_EINVAL, key, "%s must not contain NUL characters", key);
    *out = json_string_value(v);
    return SAM_OK;
}

static void cursor_encode(int64_t id, char *out, size_t n)
{
    char raw[32];
    snprintf(raw, sizeof(raw), "v1:%lld", (long long)id);
    sodium_bin2base64(out, n, (const unsigned char *)raw, strlen(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Reads ?limit and ?cursor. */
static int page_params(const struct web_request *r, int *limit, int64_t *after)
{
    *limit = LIST_DEFAULT;
    *after = 0;
    if(r->query_limit) {
        char *end;
        long v = strtol(r->query_limit, &end, 10);
        if(!*r->query_limit || *end || v < 1 || v > LIST_MAX)
            return sam_fail(SAM_EBADREQ, "limit must be a whole number from 1 to %d", LIST_MAX);
        *limit = (int)v;
    }
    if(r->query_cursor) {
        unsigned char raw[48];
        size_t len = 0;
        char *end;
        if(strlen(r->query_cursor) > 60 ||
           sodium_base642bin(raw, sizeof(raw) - 1, r->query_cursor, strlen(r->query_cursor), NULL, &len, NULL,
                             sodium_base64_VARIANT_URLSAFE_NO_PADDING))
            return sam_fail(SAM_EBADREQ, "cursor is not one this server gave out");
        raw[len] = '\0';
        if(len < 4 || memcmp(raw, "v1:", 3) || !isdigit(raw[3]))
            return sam_fail(SAM_EBADREQ, "cursor is not one this server gave out");
        *after = strtoll((const char *)raw + 3, &end, 10);
        if(*end || *after <= 0)
            return sam_fail(SAM_EBADREQ, "cursor is not one this server gave out");
    }
    return SAM_OK;
}

/* {"items": items, "next_cursor": ...}; takes ownership of items. */
static json_t *page_json(json_t *items, int more, int64_t last)
{
    char cur[64];
    if(!more)
        return json_pack("{s:o, s:n}", "items", items, "next_cursor");
    cursor_encode(last, cur, sizeof(cur));
    return json_pack("{s:o, s:s}", "items", items, "next_cursor", cur);
}

/* A page of a list: the first `limit` of n items (each `size` bytes) through view, with a
 * cursor after the last one shown when more came back. */
static json_t *page_of(const void *items, size_t n, size_t size, int limit, json_t *(*view)(const void *),
                       int64_t (*key)(const void *))
{
    json_t *arr = json_array();
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    const char *p = items;
    for(size_t i = 0; i < shown; i++)
        json_array_append_new(arr, view(p + i * size));
    return page_json(arr, n > (size_t)limit, shown ? key(p + (shown - 1) * size) : 0);
}

static json_t *v_member(const void *p) { return view_member(p); }
static json_t *v_token(const void *p) { return view_token(p); }
static json_t *v_channel(const void *p) { return view_channel(p); }
static json_t *v_audit(const void *p) { return view_audit(p); }
static int64_t k_member(const void *p) { return ((const struct store_member *)p)->user_id; }
static int64_t k_token(const void *p) { return ((const struct store_token *)p)->id; }
static int64_t k_channel(const void *p) { return ((const struct store_channel *)p)->id; }
static int64_t k_audit(const void *p) { return ((const struct store_audit *)p)->id; }

static int reply(struct web_reply *out, int status, json_t *j)
{
    if(!j)
        return SAM_ENOMEM;
    out->status = status;
    out->json = j;
    return SAM_OK;
}

/* ---- operations ---- */

static int h_healthz(struct web_request *r, struct web_reply *out)
{
    (void)r;
    return reply(out, 200, json_pack("{s:s}", "status", "ok"));
}

static int h_readyz(struct web_request *r, struct web_reply *out)
{
    int v = 0;
    if(store_ping(r->core->st) || store_schema_version(r->core->st, &v) || v == 0)
        return reply(out, 503, json_pack("{s:{s:s, s:s}}", "error", "code", "unavailable", "message",
                                         "the database cannot be used; see the server log"));
    return reply(out, 200, json_pack("{s:s, s:i}", "status", "ready", "schema_version", v));
}

static int h_metrics(struct web_request *r, struct web_reply *out)
{
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return metrics_render(r->core, &out->raw);
}

/* ---- authentication ---- */

static int h_login(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"email", "password", NULL};
    const char *email, *password;
    char ekey[300], akey[80], token[64];
    struct store_session s;
    struct store_user u;
    int rc;

    if((rc = body_only(r->body, keys)) || (rc = body_str(r->body, "email", 1, &email)) ||
       (rc = body_str(r->body, "password", 1, &password)))
        return rc;
    if(strlen(email) > STORE_EMAIL_MAX || strlen(password) > 1024) {
        out->error_code = "invalid_credentials";
        return sam_fail(SAM_EAUTH, "wrong email or password");
    }
    snprintf(ekey, sizeof(ekey), "email:");
    for(size_t i = 0; email[i] && i + 7 < sizeof(ekey); i++)
        ekey[6 + i] = (char)tolower((unsigned char)email[i]), ekey[7 + i] = '\0';
    snprintf(akey, sizeof(akey), "addr:%s", r->client_ip);
    if((rc = ratelimit_check(ekey, 5, &out->retry_after)))
        return rc;
    if((rc = ratelimit_check(akey, 20, &out->retry_after))) {
        ratelimit_release(ekey);
        return rc;
    }
    rc = core_login(r->core, email, password, time_now(), token, sizeof(token), &s, &u);
    if(rc == SAM_EAUTH) {
        out->error_code = "invalid_credentials";
        return rc; /* the attempt stays counted */
    }
    ratelimit_release(akey);
    if(rc) {
        ratelimit_release(ekey);
        return rc;
    }
    ratelimit_reset(ekey);
    snprintf(out->set_cookie, sizeof(out->set_cookie),
             "samtale_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", token,
             CORE_SESSION_SECONDS, web_cookie_secure(r->web) ? "; Secure" : "");
    sodium_memzero(token, sizeof(token));
    return reply(out, 200, json_pack("{s:o, s:s, s:b}", "user", view_user(&u), "csrf_token", s.csrf_token,
                                     "password_change_required", u.must_change_password));
}

static int h_logout(struct web_request *r, struct web_reply *out)
{
    int rc = core_logout(r->core, r->session_token);
    if(rc)
        return rc;
    snprintf(out->set_cookie, sizeof(out->set_cookie),
             "samtale_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             web_cookie_secure(r->web) ? "; Secure" : "");
    out->status = 204;
    return SAM_OK;
}

static int h_me(struct web_request *r, struct web_reply *out)
{
    struct store_member *ms = NULL;
    size_t n = 0;
    json_t *list, *me;
    int rc = store_member_list(r->core->st, 0, r->user.id, 0, 1000, &ms, &n);
    if(rc)
        return rc;
    list = json_array();
    for(size_t i = 0; i < n; i++) {
        if(r->actor.token_id && ms[i].workspace_id != r->actor.token_ws)
            continue;
        json_array_append_new(list, json_pack("{s:I, s:s, s:s}", "workspace_id", (json_int_t)ms[i].workspace_id,
                                              "workspace_name", ms[i].workspace_name, "role", ms[i].role));
    }
    free(ms);
    me = json_pack("{s:o, s:s, s:b, s:o}", "user", view_user(&r->user), "auth",
                   r->via_session ? "session" : "token", "password_change_required",
                   r->user.must_change_password, "memberships", list);
    if(!me)
        return SAM_ENOMEM;
    if(r->via_session) {
        json_object_set_new(me, "csrf_token", json_string(r->session.csrf_token));
    } else {
        struct store_token t;
        if(!store_token_get(r->core->st, r->actor.token_id, &t)) {
            json_t *tv = view_token(&t);
            json_object_set_new(me, "token", json_pack("{s:I, s:s, s:I, s:O}", "id", (json_int_t)t.id, "name",
                                                       t.name, "workspace_id", (json_int_t)t.workspace_id,
                                                       "scopes", json_object_get(tv, "scopes")));
            json_decref(tv);
        }
    }
    return reply(out, 200, me);
}

static int h_me_password(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"current_password", "new_password", NULL};
    const char *cur, *next;
    int rc;
    if((rc = body_only(r->body, keys)) || (rc = body_str(r->body, "current_password", 1, &cur)) ||
       (rc = body_str(r->body, "new_password", 1, &next)))
        return rc;
    rc = core_password_change(r->core, r->user.id, r->session.id, cur, next);
    if(rc)
        return rc;
    core_audit(r->core, &r->actor, 0, "user.password", r->user.email, NULL);
    out->status = 204;
    return SAM_OK;
}

/* ---- workspaces ---- */

static int h_ws_list(struct web_request *r, struct web_reply *out)
{
    struct store_workspace *ws = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;

    if((rc = page_params(r, &limit, &after)))
        return rc;
    rc = store_workspace_list(r->core->st, r->user.id, after, limit + 1, &ws, &n);
    if(rc)
        return rc;
    items = json_array();
    size_t shown = 0;
    int64_t last = 0;
    for(size_t i = 0; i < n && shown < (size_t)limit; i++) {
        if(r->actor.token_id && ws[i].id != r->actor.token_ws)
            continue;
        json_array_append_new(items, view_workspace(&ws[i]));
        last = ws[i].id;
        shown++;
    }
    int more = n > (size_t)limit && !r->actor.token_id;
    free(ws);
    return reply(out, 200, page_json(items, more, last));
}

static int h_ws_create(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"name", "timezone", NULL};
    const char *name, *tz;
    struct store_workspace w;
    int rc;
    if((rc = body_only(r->body, keys)) || (rc = body_str(r->body, "name", 1, &name)) ||
       (rc = body_str(r->body, "timezone", 0, &tz)))
        return rc;
    rc = core_workspace_create(r->core, &r->actor, name, tz ? tz : "Europe/Oslo", &w);
    if(rc)
        return rc;
    return reply(out, 201, view_workspace(&w));
}

static int ws_with_role(struct web_request *r, struct store_workspace *w)
{
    int rc = store_workspace_get(r->core->st, r->wid, w);
    if(!rc)
        rc = core_allowed(r->core, &r->actor, r->wid, 0, w->role);
    return rc;
}

static int h_ws_get(struct web_request *r, struct web_reply *out)
{
    struct store_workspace w;
    int rc = ws_with_role(r, &w);
    if(rc)
        return rc;
    return reply(out, 200, view_workspace(&w));
}

static int h_ws_patch(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"name", "timezone", "mix_preset", NULL};
    const char *name, *tz, *mix;
    struct store_workspace w;
    int rc;
    if((rc = body_only(r->body, keys)) || (rc = body_str(r->body, "name", 0, &name)) ||
       (rc = body_str(r->body, "timezone", 0, &tz)) || (rc = body_str(r->body, "mix_preset", 0, &mix)))
        return rc;
    rc = core_workspace_update(r->core, &r->actor, r->wid, name, tz, mix, &w);
    if(!rc)
        rc = ws_with_role(r, &w);
    if(rc)
        return rc;
    return reply(out, 200, view_workspace(&w));
}

/* ---- members ---- */

static int h_members_list(struct web_request *r, struct web_reply *out)
{
    struct store_member *ms = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = page_params(r, &limit, &after)))
        return rc;
    rc = store_member_list(r->core->st, r->wid, 0, after, limit + 1, &ms, &n);
    if(rc)
        return rc;
    items = page_of(ms, n, sizeof(*ms), limit, v_member, k_member);
    free(ms);
    return reply(out, 200, items);
}

static int h_members_add(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"email", "name", "role", NULL};
    const char *email, *name, *role;
    char otp[24];
    struct store_member m;
    json_t *j;
    int rc;
    if((rc = body_only(r->body, keys)) || (rc = body_str(r->body, "email", 1, &email)) ||
       (rc = body_str(r->body, "name", 0, &name)) || (rc = body_str(r->body, "role", 1, &role)))
        return rc;
    rc = core_member_add(r->core, &r->actor, r->wid, email, name, role, NULL, otp, &m);
    if(rc)
        return rc;
    j = view_member(&m);
    if(j && otp[0])
        json_object_set_new(j, "one_time_password", json_string(otp));
    sodium_memzero(otp, sizeof(otp));
    return reply(out, 201, j);
}

static int h_member_patch(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"role", NULL};
    const char *role;
    struct store_member m;
    int rc;
    if((rc = body_only(r->body, keys)) || (rc = body_str(r->body, "role", 1, &role)))
        return rc;
    rc = core_member_set_role(r->core, &r->actor, r->wid, r->id, role, &m);
    if(rc)
        return rc;
    return reply(out, 200, view_member(&m));
}

static int h_member_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_member_remove(r->core, &r->actor, r->wid, r->id);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}

/* ---- tokens ---- */

static int h_tokens_list(struct web_request *r, struct web_reply *out)
{
    struct store_token *ts = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = page_params(r, &limit, &after)))
        return rc;
    rc = store_token_list(r->core->st, r->wid, after, limit + 1, &ts, &n);
    if(rc)
        return rc;
    items = page_of(ts, n, sizeof(*ts), limit, v_token, k_token);
    free(ts);
    return reply(out, 200, items);
}

static int h_tokens_create(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"name", "scopes", NULL};
    const char *name;
    json_t *scopes = json_object_get(r->body, "scopes"), *v, *j;
    char text[STORE_SCOPES_MAX + 1] = "", secret[80];
    unsigned bits;
    size_t i;
    struct store_token t;
    int rc;

    if((rc = body_only(r->body, keys)) || (rc = body_str(r->body, "name", 1, &name)))
        return rc;
    if(!json_is_array(scopes) || json_array_size(scopes) == 0 || json_array_size(scopes) > 32)
        return sam_fail_field(SAM_EINVAL, "scopes", "scopes must be a list of 1 to 32 scope names");
    json_array_foreach(scopes, i, v) {
        if(!json_is_string(v) || json_string_length(v) > 40)
            return sam_fail_field(SAM_EINVAL, "scopes", "each scope must be a scope name");
        size_t used = strlen(text);
        snprintf(text + used, sizeof(text) - used, "%s%s", used ? " " : "", json_string_value(v));
    }
    if((rc = core_scopes_parse(text, &bits)))
        return rc;
    if(r->actor.token_id && (bits & ~r->actor.scopes))
        return sam_fail_field(SAM_EPERM, "scopes", "a token cannot create a token with more scopes than its own");
    rc = core_token_create(r->core, &r->actor, r->wid, r->user.id, name, bits, secret, sizeof(secret), &t);
    if(rc)
        return rc;
    j = view_token(&t);
    if(j)
        json_object_set_new(j, "token", json_string(secret));
    sodium_memzero(secret, sizeof(secret));
    return reply(out, 201, j);
}

static int h_token_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_token_revoke(r->core, &r->actor, r->wid, r->id);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}

/* ---- channels ---- */

static int channel_input_from(json_t *body, int create, struct channel_input *in)
{
    static const char *const create_keys[] = {"kind", "name", "timezone", "settings", "secret", "slots",
                                              "max_per_hour", "max_per_day", "verify", "discover", NULL};
    static const char *const patch_keys[] = {"name", "timezone", "settings", "secret", "slots", "max_per_hour",
                                             "max_per_day", "verify", "discover", NULL};
    static const char *const caps[] = {"max_per_hour", "max_per_day"};
    json_t *secret = json_object_get(body, "secret");
    int rc;
    memset(in, 0, sizeof(*in));
    if((rc = body_only(body, create ? create_keys : patch_keys)))
        return rc;
    if(create && (rc = body_str(body, "kind", 1, &in->kind)))
        return rc;
    if((rc = body_str(body, "name", create, &in->name)) || (rc = body_str(body, "timezone", 0, &in->timezone)))
        return rc;
    in->slots = json_object_get(body, "slots");
    if(in->slots && !json_is_array(in->slots))
        return sam_fail_field(SAM_EINVAL, "slots", "slots must be a list such as [\"mon 09:00\"]");
    for(int i = 0; i < 2; i++) {
        json_t *v = json_object_get(body, caps[i]);
        if(!v)
            continue;
        if(!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 10000)
            return sam_fail_field(SAM_EINVAL, caps[i], "%s must be a whole number from 1 to 10000", caps[i]);
        *(i ? &in->max_per_day : &in->max_per_hour) = (int)json_integer_value(v);
    }
    in->settings = json_object_get(body, "settings");
    if(in->settings && json_is_null(in->settings))
        in->settings = NULL;
    if(in->settings && !json_is_object(in->settings))
        return sam_fail_field(SAM_EINVAL, "settings", "settings must be a JSON object");
    if(secret && json_is_null(secret)) {
        in->clear_secret = !create;
    } else if(secret) {
        if(!json_is_string(secret))
            return sam_fail_field(SAM_EINVAL, "secret", "secret must be a string or null");
        /* An empty field in a form means "no secret given". */
        if(json_string_length(secret)) {
            in->secret = json_string_value(secret);
            in->secret_len = json_string_length(secret);
        }
    }
    return SAM_OK;
}

static int h_channels_list(struct web_request *r, struct web_reply *out)
{
    struct store_channel *cs = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = page_params(r, &limit, &after)))
        return rc;
    if(r->query_kind && !core_channel_kind_valid(r->query_kind))
        return sam_fail(SAM_EBADREQ, "kind must be bluesky, mastodon, feed, jetstream, file or webhook");
    rc = store_channel_list(r->core->st, r->wid, r->query_kind, after, limit + 1, &cs, &n);
    if(rc)
        return rc;
    items = page_of(cs, n, sizeof(*cs), limit, v_channel, k_channel);
    store_channel_list_free(cs, n);
    return reply(out, 200, items);
}

/* Tries the credentials that a create (cur NULL) or an edit of cur would save, unless the
 * body says "verify": false; on success in->settings points at *owned, the settings with
 * what the network said of the account added. */
static int verify_input(struct web_request *r, const struct store_channel *cur, struct channel_input *in,
                        json_t **owned)
{
    json_t *v = json_object_get(r->body, "verify");
    const char *kind = cur ? cur->kind : in->kind;
    char *old_secret = NULL;
    size_t old_len = 0;
    int rc;
    *owned = NULL;
    if(v && !json_is_boolean(v))
        return sam_fail_field(SAM_EINVAL, "verify", "verify must be true or false");
    if(v && json_is_false(v))
        return SAM_OK;
    if(json_object_get(r->body, "discover") && !json_is_boolean(json_object_get(r->body, "discover")))
        return sam_fail_field(SAM_EINVAL, "discover", "discover must be true or false");
    if(kind && !strcmp(kind, "feed") && json_is_true(json_object_get(r->body, "discover")) && in->settings &&
       json_is_string(json_object_get(in->settings, "url"))) {
        /* "discover": the address may be a page that names its feed: the feed is saved. */
        char *feed_url = NULL, *title = NULL;
        rc = discover_feed(json_string_value(json_object_get(in->settings, "url")), web_net_timeout_ms(r->web),
                           &feed_url, &title);
        if(rc == SAM_EPERM)
            rc = sam_fail_field(SAM_EINVAL, "settings", "%s", sam_errmsg(SAM_EPERM));
        if(rc == SAM_EINVAL && !sam_errfield())
            rc = sam_fail_field(SAM_EINVAL, "settings", "%s", sam_errmsg(SAM_EINVAL));
        if(!rc && !(*owned = json_deep_copy(in->settings)))
            rc = SAM_ENOMEM;
        if(!rc) {
            json_object_set_new(*owned, "url", json_string(feed_url));
            if(title && !json_object_get(*owned, "title"))
                json_object_set_new(*owned, "title", json_string(title));
            in->settings = *owned;
        }
        free(feed_url);
        free(title);
        return rc;
    }
    if(!kind || (cur && !in->secret && !in->settings) || (!cur && !in->secret) ||
       (cur && !in->secret && !cur->secret))
        return SAM_OK;                 /* nothing to try: no credentials */
    if(in->settings)
        *owned = json_deep_copy(in->settings);
    else
        *owned = json_loads(cur && cur->settings ? cur->settings : "{}", 0, NULL);
    if(!*owned || !json_is_object(*owned)) {
        json_decref(*owned);
        *owned = NULL;
        return in->settings ? SAM_ENOMEM : sam_fail_field(SAM_EINVAL, "settings", "settings must be a JSON object");
    }
    if(!in->secret && cur && cur->secret &&
       core_secret_open(r->core, cur->secret, cur->secret_len, &old_secret, &old_len)) {
        json_decref(*owned);
        *owned = NULL;
        return sam_fail_field(SAM_EINVAL, "secret", "the stored secret cannot be decrypted; enter it again");
    }
    rc = connect_verify(kind, *owned, in->secret ? in->secret : old_secret, in->secret ? in->secret_len : old_len,
                        web_net_timeout_ms(r->web));
    if(old_secret) {
        sodium_memzero(old_secret, old_len);
        free(old_secret);
    }
    if(rc) {
        json_decref(*owned);
        *owned = NULL;
        return rc;
    }
    in->settings = *owned;
    return SAM_OK;
}

static int h_channels_create(struct web_request *r, struct web_reply *out)
{
    struct channel_input in;
    struct store_channel ch;
    json_t *owned = NULL;
    int rc = channel_input_from(r->body, 1, &in);
    if(!rc && !core_channel_kind_valid(in.kind))
        rc = sam_fail_field(SAM_EINVAL, "kind", "kind must be bluesky, mastodon, feed, jetstream, file or webhook");
    if(!rc)
        rc = verify_input(r, NULL, &in, &owned);
    if(!rc)
        rc = core_channel_create(r->core, &r->actor, r->wid, &in, &ch);
    json_decref(owned);
    if(rc)
        return rc;
    rc = reply(out, 201, view_channel(&ch));
    store_channel_cleanup(&ch);
    return rc;
}

static int h_channel_get(struct web_request *r, struct web_reply *out)
{
    struct store_channel ch;
    int rc = core_channel_get(r->core, r->wid, r->id, &ch);
    if(rc)
        return rc;
    rc = reply(out, 200, view_channel(&ch));
    store_channel_cleanup(&ch);
    return rc;
}

static int h_channel_patch(struct web_request *r, struct web_reply *out)
{
    struct channel_input in;
    struct store_channel ch, cur;
    json_t *owned = NULL;
    int rc = channel_input_from(r->body, 0, &in);
    if(!rc && !(rc = core_channel_get(r->core, r->wid, r->id, &cur))) {
        rc = verify_input(r, &cur, &in, &owned);
        store_channel_cleanup(&cur);
    }
    if(!rc)
        rc = core_channel_update(r->core, &r->actor, r->wid, r->id, &in, &ch);
    json_decref(owned);
    if(rc)
        return rc;
    rc = reply(out, 200, view_channel(&ch));
    store_channel_cleanup(&ch);
    return rc;
}

static int h_channel_slots(struct web_request *r, struct web_reply *out)
{
    struct store_channel ch;
    const char *days = r->query_days;
    long d = 14;
    json_t *items = NULL;
    int rc;
    if(days) {
        char *end;
        d = strtol(days, &end, 10);
        if(!*days || *end || d < 1 || d > 92)
            return sam_fail(SAM_EBADREQ, "days must be a whole number from 1 to 92");
    }
    rc = core_channel_get(r->core, r->wid, r->id, &ch);
    if(rc)
        return rc;
    rc = core_channel_upcoming(&ch, time_now(), (int)d, &items);
    if(!rc) {
        json_t *slots = json_loads(ch.slots ? ch.slots : "[]", 0, NULL);
        rc = reply(out, 200, json_pack("{s:s, s:o, s:o}", "timezone", ch.timezone, "slots",
                                       slots ? slots : json_array(), "upcoming", items));
    }
    store_channel_cleanup(&ch);
    return rc;
}

static int h_channel_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_channel_delete(r->core, &r->actor, r->wid, r->id);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}

/* Reads a channel's mentions and messages now, and answers how many were new. */
static int h_channel_read(struct web_request *r, struct web_reply *out)
{
    struct store_channel ch;
    struct poller_stats stats;
    struct poller_options o = {.interval_s = 60, .timeout_ms = web_net_timeout_ms(r->web),
                               .file_dir = web_file_dir(r->web)};
    const struct channel_ops *ops;
    int rc = core_channel_get(r->core, r->wid, r->id, &ch);
    if(rc)
        return rc;
    ops = channel_ops_for(ch.kind);
    if(!ops || !ops->fetch_inbound) {
        rc = sam_fail(SAM_EINVAL, "%s channels bring no mentions or messages in", ch.kind);
    } else if(strcmp(ch.status, "active")) {
        rc = sam_fail(SAM_ECONFLICT, "the channel needs reconnecting first: %s", ch.status_message);
    } else {
        rc = poller_run_once(r->core, &o, r->wid, r->id, time_now(), &stats);
    }
    store_channel_cleanup(&ch);
    if(!rc && (rc = core_channel_get(r->core, r->wid, r->id, &ch)) == SAM_OK) {
        rc = reply(out, 200, json_pack("{s:i, s:b, s:o}", "new_messages", stats.messages, "ok", stats.failures == 0,
                                       "channel", view_channel(&ch)));
        store_channel_cleanup(&ch);
    }
    return rc;
}

static json_t *v_message(const void *p) { return view_message(p); }
static int64_t k_message(const void *p) { return ((const struct store_message *)p)->id; }

static int h_messages_list(struct web_request *r, struct web_reply *out)
{
    struct store_message *ms = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t before, channel = 0;
    json_t *items;
    static const char *const kinds[] = {"mention", "reply", "quote", "direct", NULL};
    if((rc = page_params(r, &limit, &before)))
        return rc;
    if(r->query_kind) {
        int ok = 0;
        for(size_t i = 0; kinds[i]; i++)
            ok |= !strcmp(kinds[i], r->query_kind);
        if(!ok)
            return sam_fail(SAM_EBADREQ, "kind must be mention, reply, quote or direct");
    }
    if(r->query_channel) {
        char *end;
        channel = strtoll(r->query_channel, &end, 10);
        if(!*r->query_channel || *end || channel < 1)
            return sam_fail(SAM_EBADREQ, "channel must be a channel id");
    }
    rc = store_message_list(r->core->st, r->wid, channel, r->query_kind, before, limit + 1, &ms, &n);
    if(rc)
        return rc;
    items = page_of(ms, n, sizeof(*ms), limit, v_message, k_message);
    store_message_list_free(ms, n);
    return reply(out, 200, items);
}

static int h_post_engagement(struct web_request *r, struct web_reply *out)
{
    struct store_post p;
    struct store_engagement *es = NULL;
    size_t n = 0;
    json_t *items;
    int rc = core_post_get(r->core, r->wid, r->id, &p);
    if(rc)
        return rc;
    store_post_cleanup(&p);
    if((rc = store_engagement_list(r->core->st, r->wid, r->id, 0, &es, &n)))
        return rc;
    items = json_array();
    for(size_t i = 0; i < n; i++)
        json_array_append_new(items, view_engagement(&es[i]));
    free(es);
    return reply(out, 200, json_pack("{s:o}", "items", items));
}

static int h_post_engagement_refresh(struct web_request *r, struct web_reply *out)
{
    struct store_post p;
    struct poller_options o = {.interval_s = 60, .timeout_ms = web_net_timeout_ms(r->web),
                               .file_dir = web_file_dir(r->web)};
    int fetched = 0, failed = 0;
    int rc = core_post_get(r->core, r->wid, r->id, &p);
    if(rc)
        return rc;
    store_post_cleanup(&p);
    if((rc = poller_refresh_post(r->core, &o, r->id, &fetched, &failed)))
        return rc;
    if((rc = h_post_engagement(r, out)))
        return rc;
    json_object_set_new(out->json, "fetched", json_integer(fetched));
    json_object_set_new(out->json, "failed", json_integer(failed));
    return SAM_OK;
}

/* ---- connecting accounts and sources ---- */

static int callback_uri(struct web_request *r, char *out, size_t n)
{
    if((size_t)snprintf(out, n, "%s/api/v1/oauth/mastodon/callback", web_base_url(r->web)) >= n)
        return sam_fail(SAM_EINVAL, "public_url is too long");
    return SAM_OK;
}

static int h_connect_mastodon(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"instance_url", "name", "timezone", "channel_id", "redirect_uri", NULL};
    struct connect_begin b;
    char redirect[600], url[2048], state[64];
    const char *uri = NULL;
    json_t *cid = json_object_get(r->body, "channel_id");
    int rc = body_only(r->body, keys);
    memset(&b, 0, sizeof(b));
    b.workspace_id = r->wid;
    b.user_id = r->actor.user_id;
    if(!rc)
        rc = body_str(r->body, "instance_url", 1, &b.instance_url);
    if(!rc)
        rc = body_str(r->body, "name", 0, &b.name);
    if(!rc)
        rc = body_str(r->body, "timezone", 0, &b.timezone);
    if(!rc)
        rc = body_str(r->body, "redirect_uri", 0, &uri);
    if(rc)
        return rc;
    if(uri && strcmp(uri, CONNECT_OOB))
        return sam_fail_field(SAM_EINVAL, "redirect_uri", "redirect_uri may only be " CONNECT_OOB
                              " (for a code to copy); leave it out for samtale's own callback");
    if(cid) {
        struct store_channel ch;
        if(!json_is_integer(cid) || json_integer_value(cid) < 1)
            return sam_fail_field(SAM_EINVAL, "channel_id", "channel_id must be a channel id");
        if((rc = core_channel_get(r->core, r->wid, (int64_t)json_integer_value(cid), &ch)))
            return rc;
        rc = strcmp(ch.kind, "mastodon") ? sam_fail_field(SAM_EINVAL, "channel_id", "channel %lld is not a "
                                                          "Mastodon channel", (long long)ch.id) : SAM_OK;
        b.channel_id = ch.id;
        store_channel_cleanup(&ch);
        if(rc)
            return rc;
    }
    if(!uri) {
        if((rc = callback_uri(r, redirect, sizeof(redirect))))
            return rc;
        uri = redirect;
    }
    b.redirect_uri = uri;
    /* The browser that starts is the one that may come back: a cookie only it has (sent
     * on the instance's top-level redirect back, SameSite=Lax), kept as a hash. */
    char browser[48];
    unsigned char raw[24];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(browser, sizeof(browser), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if(strcmp(uri, CONNECT_OOB))
        b.browser = browser;
    if((rc = connect_mastodon_begin(r->core, &b, url, sizeof(url), state, sizeof(state))))
        return rc;
    if(b.browser)
        snprintf(out->set_cookie, sizeof(out->set_cookie),
                 "samtale_oauth=%s; Path=/api/v1/oauth/; Max-Age=%d; HttpOnly; SameSite=Lax%s", browser, CONNECT_TTL,
                 web_cookie_secure(r->web) ? "; Secure" : "");
    return reply(out, 201, json_pack("{s:s, s:s, s:s, s:i}", "authorize_url", url, "state", state, "redirect_uri",
                                     uri, "expires_in", CONNECT_TTL));
}

static int h_connect_mastodon_finish(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"state", "code", NULL};
    const char *state = NULL, *code = NULL;
    struct store_channel ch;
    int rc = body_only(r->body, keys);
    if(!rc)
        rc = body_str(r->body, "state", 1, &state);
    if(!rc)
        rc = body_str(r->body, "code", 1, &code);
    struct connect_finisher who = {.workspace_id = r->wid, .user_id = r->actor.user_id};
    if(!rc)
        rc = connect_mastodon_finish(r->core, &who, state, code, &ch);
    if(rc)
        return rc;
    rc = reply(out, 201, view_channel(&ch));
    store_channel_cleanup(&ch);
    return rc;
}

/* Where the instance sends the person back. Public (the session cookie is SameSite=Strict
 * and does not come along on a redirect from another site): the state, single-use and
 * short-lived, is what ties the answer to the workspace and person who started. The
 * browser is sent on to the dashboard's channels page, which shows the outcome. */
static int h_oauth_callback(struct web_request *r, struct web_reply *out)
{
    struct store_channel ch;
    char esc[800];
    int rc;
    out->status = 303;
    out->content_type = "text/plain; charset=utf-8";
    if(r->query_error || !r->query_code || !r->query_state) {
        snprintf(out->location, sizeof(out->location), "%s/#/channels?connect_error=%s", web_public_url(r->web),
                 r->query_error && !strcmp(r->query_error, "access_denied") ? "denied" : "incomplete");
        return buf_puts(&out->raw, "Not connected: the instance did not give samtale access.\n");
    }
    struct connect_finisher who = {.browser = r->cookie_oauth};
    /* The cookie has done its work, whatever the outcome. */
    snprintf(out->set_cookie, sizeof(out->set_cookie), "samtale_oauth=; Path=/api/v1/oauth/; Max-Age=0; HttpOnly; "
             "SameSite=Lax%s", web_cookie_secure(r->web) ? "; Secure" : "");
    rc = connect_mastodon_finish(r->core, &who, r->query_state, r->query_code, &ch);
    if(rc) {
        const char *msg = sam_errmsg(rc);
        char brief[240];
        size_t cut = strlen(msg) < sizeof(brief) ? strlen(msg) : sizeof(brief) - 1;
        /* The message goes to the dashboard in the URL fragment, shortened, encoded. */
        while(cut && ((unsigned char)msg[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(brief, msg, cut);
        brief[cut] = '\0';
        if(http_escape(brief, esc, sizeof(esc)))
            snprintf(esc, sizeof(esc), "incomplete");
        snprintf(out->location, sizeof(out->location), "%s/#/channels?connect_error=%s", web_public_url(r->web), esc);
        return buf_printf(&out->raw, "Not connected: %s\n", msg);
    }
    snprintf(out->location, sizeof(out->location), "%s/#/channels?connected=%lld", web_public_url(r->web),
             (long long)ch.id);
    rc = buf_printf(&out->raw, "Connected: channel %lld.\n", (long long)ch.id);
    store_channel_cleanup(&ch);
    return rc;
}

/* Finds the feed of a web page (or checks a feed's address). */
static int h_discover(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"url", NULL};
    const char *url = NULL;
    char *feed_url = NULL, *title = NULL;
    int rc = body_only(r->body, keys);
    if(!rc)
        rc = body_str(r->body, "url", 1, &url);
    if(!rc && (strlen(url) > 2000 || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))))
        rc = sam_fail_field(SAM_EINVAL, "url", "url must be an http:// or https:// address");
    if(!rc)
        rc = discover_feed(url, web_net_timeout_ms(r->web), &feed_url, &title);
    if(rc == SAM_EPERM)
        rc = sam_fail_field(SAM_EINVAL, "url", "%s", sam_errmsg(SAM_EPERM));
    if(rc == SAM_EINVAL && !sam_errfield())
        rc = sam_fail_field(SAM_EINVAL, "url", "%s", sam_errmsg(SAM_EINVAL));
    if(!rc)
        rc = reply(out, 200, json_pack("{s:s, s:s?}", "feed_url", feed_url, "title", title));
    free(feed_url);
    free(title);
    return rc;
}

/* ---- posts and the queue ---- */

static json_t *v_post(const void *p) { return view_post(p); }
static int64_t k_post(const void *p) { return ((const struct store_post *)p)->id; }

/* A post with its occurrences. */
static int post_json(struct web_request *r, struct store_post *p, json_t **out)
{
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    json_t *j, *list;
    int rc = store_occurrence_list(r->core->st, r->wid, p->id, 0, 0, 0, 0, 1000, &occ, &n);
    if(rc)
        return rc;
    j = view_post(p);
    list = json_array();
    for(size_t i = 0; i < n; i++)
        json_array_append_new(list, view_occurrence(&occ[i]));
    free(occ);
    json_object_set_new(j, "occurrences", list);
    *out = j;
    return SAM_OK;
}

/* Reads the body of a post create or edit into in. */
static int post_input_from(json_t *body, int create, struct post_input *in, int64_t *channels)
{
    static const char *const keys[] = {"text", "link", "category", "campaign", "variants", "channels", "schedule",
                                       "override_reason", NULL};
    static const char *const edit_keys[] = {"text", "link", "category", "campaign", "variants", "override_reason",
                                            NULL};
    json_t *v, *sched;
    size_t i;
    int rc;
    memset(in, 0, sizeof(*in));
    if((rc = body_only(body, create ? keys : edit_keys)) || (rc = body_str(body, "text", create, &in->text)) ||
       (rc = body_str(body, "link", 0, &in->link)) || (rc = body_str(body, "category", 0, &in->category)) ||
       (rc = body_str(body, "campaign", 0, &in->campaign)))
        return rc;
    in->variants = json_object_get(body, "variants");
    if(json_is_null(in->variants))
        in->variants = NULL;
    if((rc = body_str(body, "override_reason", 0, &in->override_reason)))
        return rc;
    if(!create)
        return SAM_OK;
    v = json_object_get(body, "channels");
    if(v && (!json_is_array(v) || json_array_size(v) > POST_CHANNELS_MAX))
        return sam_fail_field(SAM_EINVAL, "channels", "channels must be a list of at most %d channel ids",
                              POST_CHANNELS_MAX);
    json_array_foreach(v, i, sched) {
        if(!json_is_integer(sched) || json_integer_value(sched) <= 0)
            return sam_fail_field(SAM_EINVAL, "channels", "channels must be a list of channel ids");
        channels[i] = json_integer_value(sched);
    }
    in->channels = channels;
    in->nchannels = json_array_size(v);
    sched = json_object_get(body, "schedule");
    if(!sched || json_is_null(sched)) {
        in->schedule = POST_DRAFT;
    } else if(!json_is_string(sched)) {
        return sam_fail_field(SAM_EINVAL, "schedule", "schedule must be \"now\", \"next_slot\" or a time such as "
                                                      "\"2027-03-28T09:00:00+02:00\"");
    } else if(!strcmp(json_string_value(sched), "now")) {
        in->schedule = POST_NOW;
    } else if(!strcmp(json_string_value(sched), "next_slot")) {
        in->schedule = POST_NEXT_SLOT;
    } else {
        in->schedule = POST_AT;
        if(time_parse_rfc3339(json_string_value(sched), &in->at))
            return sam_fail_field(SAM_EINVAL, "schedule", "schedule must be \"now\", \"next_slot\" or a time "
                                                          "such as \"2027-03-28T09:00:00+02:00\"");
    }
    return SAM_OK;
}

static int h_posts_list(struct web_request *r, struct web_reply *out)
{
    static const char *states[] = {"draft", "scheduled", "published", "failed", "cancelled"};
    struct store_post *ps = NULL;
    size_t n = 0, i;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = page_params(r, &limit, &after)))
        return rc;
    if(r->query_state) {
        for(i = 0; i < 5 && strcmp(r->query_state, states[i]); i++)
            ;
        if(i == 5)
            return sam_fail(SAM_EBADREQ, "state must be draft, scheduled, published, failed or cancelled");
    }
    rc = store_post_list(r->core->st, r->wid, r->query_state, after, limit + 1, &ps, &n);
    if(rc)
        return rc;
    items = page_of(ps, n, sizeof(*ps), limit, v_post, k_post);
    store_post_list_free(ps, n);
    return reply(out, 200, items);
}

static int h_posts_create(struct web_request *r, struct web_reply *out)
{
    struct post_input in;
    int64_t channels[POST_CHANNELS_MAX];
    struct store_post p;
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    json_t *j = NULL;
    json_t *violations = NULL;
    int rc = post_input_from(r->body, 1, &in, channels);
    if(!rc)
        rc = core_post_create(r->core, &r->actor, r->wid, &in, time_now(), &p, &occ, &n, &violations);
    if(rc) {
        const char *field = sam_errfield();
        if(rc == SAM_EINVAL && field && !strcmp(field, "checks")) {
            out->error_code = "check_blocked";
            out->error_extra = json_pack("{s:o}", "violations", violations ? violations : json_array());
            violations = NULL;
        }
        json_decref(violations);
        return rc;
    }
    free(occ);
    rc = post_json(r, &p, &j);
    store_post_cleanup(&p);
    if(!rc)
        json_object_set_new(j, "violations", violations ? violations : json_array());
    else
        json_decref(violations);
    return rc ? rc : reply(out, 201, j);
}

static int h_post_get(struct web_request *r, struct web_reply *out)
{
    struct store_post p;
    json_t *j = NULL;
    int rc = core_post_get(r->core, r->wid, r->id, &p);
    if(rc)
        return rc;
    rc = post_json(r, &p, &j);
    store_post_cleanup(&p);
    return rc ? rc : reply(out, 200, j);
}

static int h_post_patch(struct web_request *r, struct web_reply *out)
{
    struct post_input in;
    struct store_post p;
    json_t *j = NULL;
    int rc = post_input_from(r->body, 0, &in, NULL);
    if(!rc)
        rc = core_post_edit(r->core, &r->actor, r->wid, r->id, &in, &p);
    if(rc) {
        if(rc == SAM_EINVAL && sam_errfield() && !strcmp(sam_errfield(), "checks"))
            out->error_code = "check_blocked";
        return rc;
    }
    rc = post_json(r, &p, &j);
    store_post_cleanup(&p);
    return rc ? rc : reply(out, 200, j);
}

static int h_post_cancel(struct web_request *r, struct web_reply *out)
{
    struct store_post p;
    json_t *j = NULL;
    int rc = core_post_cancel(r->core, &r->actor, r->wid, r->id);
    if(!rc)
        rc = core_post_get(r->core, r->wid, r->id, &p);
    if(rc)
        return rc;
    rc = post_json(r, &p, &j);
    store_post_cleanup(&p);
    return rc ? rc : reply(out, 200, j);
}

/* The queue between ?from and ?to (RFC 3339; default: from now for 31 days): each
 * occurrence with its post's text and category, for the calendar. */
static int h_queue(struct web_request *r, struct web_reply *out)
{
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    int64_t from = time_now() - 86400, to, channel = 0;
    json_t *items;
    int rc;
    if(r->query_from && time_parse_rfc3339(r->query_from, &from))
        return sam_fail(SAM_EBADREQ, "from must be a time such as 2027-03-01T00:00:00Z");
    to = from + 31 * 86400;
    if(r->query_to && time_parse_rfc3339(r->query_to, &to))
        return sam_fail(SAM_EBADREQ, "to must be a time such as 2027-04-01T00:00:00Z");
    if(to <= from || to - from > 93 * 86400)
        return sam_fail(SAM_EBADREQ, "to must come after from, at most 93 days later");
    if(r->query_channel) {
        char *end;
        channel = strtoll(r->query_channel, &end, 10);
        if(*end || channel <= 0)
            return sam_fail(SAM_EBADREQ, "channel must be a channel id");
    }
    rc = store_occurrence_list(r->core->st, r->wid, 0, channel, from, to, 0, 5001, &occ, &n);
    if(rc)
        return rc;
    if(n > 5000) {
        free(occ);
        return sam_fail(SAM_EBADREQ, "more than 5000 occurrences in that range: ask for a shorter one");
    }
    items = json_array();
    for(size_t i = 0; i < n; i++) {
        struct store_post p;
        json_t *j = view_occurrence(&occ[i]);
        if(!store_post_get(r->core->st, occ[i].post_id, &p)) {
            char *text = core_post_text_for(&p, occ[i].variant);
            json_object_set_new(j, "text", json_string(text ? text : p.text));
            json_object_set_new(j, "category", json_string(p.category));
            free(text);
            store_post_cleanup(&p);
        }
        json_array_append_new(items, j);
    }
    free(occ);
    return reply(out, 200, json_pack("{s:o, s:o, s:o}", "from", view_time(from), "to", view_time(to), "items", items));
}

static int h_check(struct web_request *r, struct web_reply *out)
{
    struct post_input in;
    int64_t channels[POST_CHANNELS_MAX];
    json_t *violations = NULL;
    int blocked = 0;
    int rc = post_input_from(r->body, 1, &in, channels);
    if(!rc)
        rc = core_post_check(r->core, r->wid, &in, time_now(), &violations, &blocked);
    if(rc)
        return rc;
    return reply(out, 200, json_pack("{s:o, s:b}", "violations", violations, "blocked", blocked));
}

static int h_queue_check(struct web_request *r, struct web_reply *out)
{
    json_t *violations = NULL;
    int rc = core_queue_check(r->core, r->wid, time_now(), &violations);
    if(rc)
        return rc;
    return reply(out, 200, json_pack("{s:o}", "violations", violations));
}

/* ---- series (P3) ---- */

static json_t *v_series(const void *p) { return view_series(p); }
static int64_t k_series(const void *p) { return ((const struct store_series *)p)->id; }

static int int_field(json_t *body, const char *key, int min, int max, int *out)
{
    json_t *v = json_object_get(body, key);
    if(!v || json_is_null(v))
        return SAM_OK;
    if(!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return sam_fail_field(SAM_EINVAL, key, "%s must be a whole number from %d to %d", key, min, max);
    *out = (int)json_integer_value(v);
    return SAM_OK;
}

static int h_series_create(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"text", "link", "category", "campaign", "variants", "channels", "per_day",
                                       "min_gap_hours", "days", "until", "count", "replace_previous", "start",
                                       "override_reason", NULL};
    struct series_input in;
    int64_t channels[POST_CHANNELS_MAX];
    struct store_post p;
    struct store_series s;
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    json_t *j = NULL, *copy, *v;
    const char *until = NULL, *start = NULL;
    int gap_h = 0, rc;

    if((rc = body_only(r->body, keys)))
        return rc;
    memset(&in, 0, sizeof(in));
    /* The post fields are read as for a post; the series fields are taken out first. */
    copy = json_deep_copy(r->body);
    for(size_t i = 6; keys[i] && strcmp(keys[i], "override_reason"); i++)
        json_object_del(copy, keys[i]);
    rc = post_input_from(copy, 1, &in.post, channels);
    if(!rc && in.post.schedule != POST_DRAFT)
        rc = sam_fail_field(SAM_EINVAL, "schedule", "a series plans its own times: leave out schedule");
    if(!rc)
        rc = int_field(r->body, "per_day", 1, 48, &in.per_day);
    if(!rc)
        rc = int_field(r->body, "min_gap_hours", 0, 168, &gap_h);
    if(!rc)
        rc = int_field(r->body, "days", 1, 366, &in.days);
    if(!rc)
        rc = int_field(r->body, "count", 1, SERIES_COPIES_MAX, &in.count);
    if(!rc)
        rc = body_str(r->body, "until", 0, &until);
    if(!rc)
        rc = body_str(r->body, "start", 0, &start);
    if(!rc && until && time_parse_rfc3339(until, &in.until))
        rc = sam_fail_field(SAM_EINVAL, "until", "until must be a time such as 2027-01-31T23:59:00+01:00");
    if(!rc && start && time_parse_rfc3339(start, &in.start))
        rc = sam_fail_field(SAM_EINVAL, "start", "start must be a time such as 2027-01-01T00:00:00+01:00");
    v = json_object_get(r->body, "replace_previous");
    if(!rc && v && !json_is_boolean(v))
        rc = sam_fail_field(SAM_EINVAL, "replace_previous", "replace_previous must be true or false");
    in.replace_previous = json_is_true(v);
    in.gap_minutes = json_object_get(r->body, "min_gap_hours") ? gap_h * 60 : 0;
    if(!rc && json_object_get(r->body, "min_gap_hours") && gap_h == 0)
        in.gap_minutes = 1; /* 0 hours: any gap, but never the same minute */
    if(!rc)
        rc = core_series_create(r->core, &r->actor, r->wid, &in, time_now(), &p, &s, &occ, &n);
    json_decref(copy);
    if(rc) {
        if(rc == SAM_EINVAL && sam_errfield() && !strcmp(sam_errfield(), "checks"))
            out->error_code = "check_blocked";
        return rc;
    }
    free(occ);
    rc = post_json(r, &p, &j);
    store_post_cleanup(&p);
    if(rc)
        return rc;
    return reply(out, 201, json_pack("{s:o, s:o}", "series", view_series(&s), "post", j));
}

static int h_series_list(struct web_request *r, struct web_reply *out)
{
    struct store_series *ss = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = page_params(r, &limit, &after)))
        return rc;
    rc = store_series_list(r->core->st, r->wid, after, limit + 1, &ss, &n);
    if(rc)
        return rc;
    items = page_of(ss, n, sizeof(*ss), limit, v_series, k_series);
    free(ss);
    return reply(out, 200, items);
}

/* ---- calendar feed (P13) ---- */

static int h_ical(struct web_request *r, struct web_reply *out)
{
    int rc = core_ical_render(r->core, r->token, time_now(), &out->raw);
    if(rc)
        return rc;
    out->content_type = "text/calendar; charset=utf-8";
    return SAM_OK;
}

static int h_calendar_create(struct web_request *r, struct web_reply *out)
{
    char token[80], path[128];
    int rc = core_ical_rotate(r->core, &r->actor, r->wid, token, sizeof(token));
    if(rc)
        return rc;
    snprintf(path, sizeof(path), "/ical/%s", token);
    sodium_memzero(token, sizeof(token));
    rc = reply(out, 201, json_pack("{s:s, s:s}", "path", path, "note",
                                   "Shown once. Anyone with this link can read the schedule; make a new one to end it."));
    sodium_memzero(path, sizeof(path));
    return rc;
}

static int h_calendar_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_ical_disable(r->core, &r->actor, r->wid);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}

/* ---- audit ---- */

static int h_audit_list(struct web_request *r, struct web_reply *out)
{
    struct store_audit *es = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t before;
    json_t *items;
    if((rc = page_params(r, &limit, &before)))
        return rc;
    rc = store_audit_list(r->core->st, r->wid, before, limit + 1, &es, &n);
    if(rc)
        return rc;
    items = page_of(es, n, sizeof(*es), limit, v_audit, k_audit);
    store_audit_list_free(es, n);
    return reply(out, 200, items);
}

/* ---- the route table ---- */

#define WS "/api/v1/workspaces/{wid}"

const struct web_route web_routes[] = {
    {"GET", "/healthz", h_healthz, 0, ROUTE_PUBLIC},
    {"GET", "/readyz", h_readyz, 0, ROUTE_PUBLIC},
    {"GET", "/metrics", h_metrics, 0, ROUTE_PUBLIC | ROUTE_RAW},
    {"POST", "/api/v1/auth/login", h_login, 0, ROUTE_PUBLIC | ROUTE_BODY},
    {"POST", "/api/v1/auth/logout", h_logout, 0, ROUTE_SESSION_ONLY | ROUTE_PW_GATE_OK},
    {"GET", "/api/v1/me", h_me, 0, ROUTE_PW_GATE_OK},
    {"POST", "/api/v1/me/password", h_me_password, 0, ROUTE_SESSION_ONLY | ROUTE_PW_GATE_OK | ROUTE_BODY},
    {"GET", "/api/v1/workspaces", h_ws_list, PERM_WORKSPACES_READ, 0},
    {"POST", "/api/v1/workspaces", h_ws_create, PERM_WORKSPACES_WRITE, ROUTE_SESSION_ONLY | ROUTE_BODY},
    {"GET", WS, h_ws_get, PERM_WORKSPACES_READ, 0},
    {"PATCH", WS, h_ws_patch, PERM_WORKSPACES_WRITE, ROUTE_BODY},
    {"GET", WS "/members", h_members_list, PERM_MEMBERS_READ, 0},
    {"POST", WS "/members", h_members_add, PERM_MEMBERS_WRITE, ROUTE_BODY},
    {"PATCH", WS "/members/{uid}", h_member_patch, PERM_MEMBERS_WRITE, ROUTE_BODY},
    {"DELETE", WS "/members/{uid}", h_member_delete, PERM_MEMBERS_WRITE, 0},
    {"GET", WS "/tokens", h_tokens_list, PERM_TOKENS_READ, 0},
    {"POST", WS "/tokens", h_tokens_create, PERM_TOKENS_WRITE, ROUTE_BODY},
    {"DELETE", WS "/tokens/{tid}", h_token_delete, PERM_TOKENS_WRITE, 0},
    {"GET", WS "/channels", h_channels_list, PERM_CHANNELS_READ, 0},
    {"POST", WS "/channels", h_channels_create, PERM_CHANNELS_WRITE, ROUTE_BODY},
    {"GET", WS "/channels/{cid}", h_channel_get, PERM_CHANNELS_READ, 0},
    {"PATCH", WS "/channels/{cid}", h_channel_patch, PERM_CHANNELS_WRITE, ROUTE_BODY},
    {"DELETE", WS "/channels/{cid}", h_channel_delete, PERM_CHANNELS_WRITE, 0},
    {"GET", WS "/channels/{cid}/slots", h_channel_slots, PERM_CHANNELS_READ, 0},
    {"POST", WS "/channels/{cid}/read", h_channel_read, PERM_CHANNELS_READ, 0},
    {"POST", WS "/channels/connect/mastodon", h_connect_mastodon, PERM_CHANNELS_WRITE, ROUTE_BODY},
    {"POST", WS "/channels/connect/mastodon/finish", h_connect_mastodon_finish, PERM_CHANNELS_WRITE, ROUTE_BODY},
    {"POST", WS "/channels/discover", h_discover, PERM_CHANNELS_WRITE, ROUTE_BODY},
    {"GET", WS "/messages", h_messages_list, PERM_CHANNELS_READ, 0},
    {"GET", WS "/audit", h_audit_list, PERM_AUDIT_READ, 0},
    {"GET", WS "/posts", h_posts_list, PERM_POSTS_READ, 0},
    {"POST", WS "/posts", h_posts_create, PERM_POSTS_WRITE, ROUTE_BODY},
    {"GET", WS "/posts/{pid}", h_post_get, PERM_POSTS_READ, 0},
    {"PATCH", WS "/posts/{pid}", h_post_patch, PERM_POSTS_WRITE, ROUTE_BODY},
    {"POST", WS "/posts/{pid}/cancel", h_post_cancel, PERM_POSTS_WRITE, 0},
    {"GET", WS "/posts/{pid}/engagement", h_post_engagement, PERM_POSTS_READ, 0},
    {"POST", WS "/posts/{pid}/engagement", h_post_engagement_refresh, PERM_POSTS_READ, 0},
    {"GET", WS "/queue", h_queue, PERM_POSTS_READ, 0},
    {"POST", WS "/check", h_check, PERM_POSTS_READ, ROUTE_BODY},
    {"GET", WS "/queue/check", h_queue_check, PERM_POSTS_READ, 0},
    {"GET", WS "/series", h_series_list, PERM_POSTS_READ, 0},
    {"POST", WS "/series", h_series_create, PERM_POSTS_WRITE, ROUTE_BODY},
    {"POST", WS "/calendar", h_calendar_create, PERM_WORKSPACES_WRITE, 0},
    {"DELETE", WS "/calendar", h_calendar_delete, PERM_WORKSPACES_WRITE, 0},
    {"GET", "/ical/{token}", h_ical, 0, ROUTE_PUBLIC | ROUTE_RAW},
    {"GET", "/api/v1/oauth/mastodon/callback", h_oauth_callback, 0, ROUTE_PUBLIC | ROUTE_RAW},
};
const size_t web_nroutes = sizeof(web_routes) / sizeof(web_routes[0]);
