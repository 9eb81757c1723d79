/* connect.c: verifying credentials and Mastodon's OAuth flow (see connect.h). */
#include "engine/connect.h"
#include "channel/channel.h"
#include "channel/mastodon.h"
#include "util/err.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rewrites a connector's message for a check before saving: the connector speaks to the
 * publisher ("samtale will try again", "its queued posts wait"), but nothing is queued
 * or retried here. */
static void for_checking(char *msg, size_t n)
{
    static const struct {
        const char *from, *to;
    } swaps[] = {
        {"; samtale will try again in ", NULL},
        {"; samtale waits and tries again.", "."},
        {"; samtale will try again.", "."},
        {"; samtale tries again.", "."},
        {"; it will try again.", "."},
        {" and reconnect the channel with it; its queued posts wait until then.", ", and give that here."},
        {" Reconnect the channel; its queued posts wait until then.", " Check the token, or connect the account "
                                                                      "again."},
        {" Reconnect the channel with a new app password; its queued posts wait until then.",
         " Check the handle and the app password."},
    };
    for(size_t i = 0; i < sizeof(swaps) / sizeof(swaps[0]); i++) {
        char *at = strstr(msg, swaps[i].from);
        if(!at)
            continue;
        if(!swaps[i].to) {            /* "...; samtale will try again in N seconds, as it asked." */
            strcpy(at, ".");
            continue;
        }
        char tail[600];
        snprintf(tail, sizeof(tail), "%s%s", swaps[i].to, at + strlen(swaps[i].from));
        snprintf(at, n - (size_t)(at - msg), "%s", tail);
    }
}

int connect_verify(const char *kind, json_t *settings, const char *secret, size_t secret_len, long timeout_ms)
{
    const struct channel_ops *ops = channel_ops_for(kind);
    struct store_channel ch;
    struct channel_result res;
    json_t *info;
    int rc;
    if(!ops || !ops->verify)
        return SAM_OK;
    memset(&ch, 0, sizeof(ch));
    snprintf(ch.kind, sizeof(ch.kind), "%s", kind);
    struct channel_ctx ctx = {.channel = &ch, .settings = settings, .secret = secret, .secret_len = secret_len,
                              .timeout_ms = timeout_ms};
    if(!(info = json_object()))
        return SAM_ENOMEM;
    channel_result_clear(&res);
    rc = ops->verify(&ctx, info, &res);
    if(!rc && res.outcome == CHANNEL_OK) {
        json_object_update(settings, info);
    } else if(!rc && res.address_refused) {
        /* The setting that named the address is what to fix, not the credentials. */
        rc = sam_fail_field(SAM_EINVAL, !strcmp(kind, "mastodon") ? "settings.instance_url"
                                        : !strcmp(kind, "bluesky") ? "settings.service_url" : "settings.url",
                            "%s", res.message);
    } else if(!rc && res.outcome == CHANNEL_RETRY) {
        for_checking(res.message, sizeof(res.message));
        rc = sam_fail(SAM_EIO, "samtale could not check the credentials: %s Try again in a while, or save the "
                               "channel without checking (API: \"verify\": false; CLI: --no-verify).", res.message);
    } else if(!rc) {
        for_checking(res.message, sizeof(res.message));
        rc = sam_fail_field(SAM_EINVAL, "secret", "%s", res.message);
    }
    json_decref(info);
    return rc;
}

static void state_hash(const char *state, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof(h), (const unsigned char *)state, strlen(state), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

void connect_browser_hash(const char *cookie, char out[65])
{
    state_hash(cookie, out);
}

int connect_mastodon_begin(struct core *c, const struct connect_begin *b, char *authorize_url, size_t n,
                           char *state, size_t sn)
{
    char client_id[256], client_secret[256];
    unsigned char raw[24];
    struct store_oauth o;
    json_t *detail;
    int rc;
    if(sn < 48)
        return sam_fail(SAM_EINTERNAL, "no room for the state");
    if(b->instance_url && (rc = core_check_length("instance_url", b->instance_url, CORE_SERVER_URL_MAX, 0)))
        return rc;
    if(!b->instance_url || (strncmp(b->instance_url, "https://", 8) && strncmp(b->instance_url, "http://", 7)))
        return sam_fail_field(SAM_EINVAL, "instance_url", "the instance must be an address like https://mastodon.social");
    if(!b->channel_id && (!b->name || !*b->name))
        return sam_fail_field(SAM_EINVAL, "name", "name the new channel");
    /* The channel is made when the person comes back: what it would refuse then is
     * refused now, before anyone is sent to the instance. */
    if(b->name && (rc = core_validate_name("name", b->name)))
        return rc;
    if(b->timezone && (rc = core_validate_timezone("timezone", b->timezone)))
        return rc;
    rc = masto_register_app(b->instance_url, b->redirect_uri, client_id, sizeof(client_id), client_secret,
                            sizeof(client_secret));
    if(rc == SAM_EPERM)
        return sam_fail_field(SAM_EINVAL, "instance_url", "samtale did not call %.300s: %s", b->instance_url,
                              sam_errmsg(rc));
    if(rc == SAM_EIO)
        return sam_fail(SAM_EIO, "could not reach %s: %s", b->instance_url, sam_errmsg(rc));
    if(rc)
        return sam_fail_field(SAM_EINVAL, "instance_url", "%s refused to register samtale: %s", b->instance_url,
                              sam_errmsg(rc));
    rc = masto_authorize_url(b->instance_url, client_id, b->redirect_uri, authorize_url, n);
    if(rc)
        return rc;
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(state, sn, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    /* The state travels to the instance and back: add it to the URL. */
    if(strlen(authorize_url) + strlen(state) + 8 >= n)
        return sam_fail(SAM_EINVAL, "the authorize URL is too long");
    strcat(authorize_url, "&state=");
    strcat(authorize_url, state);

    memset(&o, 0, sizeof(o));
    state_hash(state, o.state_hash);
    o.workspace_id = b->workspace_id;
    o.user_id = b->user_id;
    o.channel_id = b->channel_id;
    snprintf(o.kind, sizeof(o.kind), "mastodon");
    char browser[65] = "";
    if(b->browser)
        connect_browser_hash(b->browser, browser);
    detail = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?}", "instance_url", b->instance_url, "client_id", client_id,
                       "redirect_uri", b->redirect_uri, "name", b->name, "timezone", b->timezone, "browser",
                       browser[0] ? browser : NULL);
    o.detail = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    rc = o.detail ? core_secret_seal(c, client_secret, strlen(client_secret), &o.secret, &o.secret_len) : SAM_ENOMEM;
    sodium_memzero(client_secret, sizeof(client_secret));
    o.created_at = time_now();
    o.expires_at = o.created_at + CONNECT_TTL;
    if(!rc)
        rc = store_oauth_insert(c->st, &o);
    store_oauth_cleanup(&o);
    return rc;
}

/* 1 when who may finish the pending connection o (whose detail is parsed). */
static int may_finish(const struct connect_finisher *who, const struct store_oauth *o, json_t *detail)
{
    const char *browser = json_string_value(json_object_get(detail, "browser"));
    if(who->workspace_id && who->workspace_id != o->workspace_id)
        return 0;
    if(who->operator)
        return 1;
    if(who->browser && browser) {
        char h[65];
        connect_browser_hash(who->browser, h);
        if(sodium_memcmp(h, browser, 64) == 0)
            return 1;
    }
    /* Without the browser's cookie, only the person who started, in their session. */
    return who->user_id && who->user_id == o->user_id;
}

int connect_mastodon_finish(struct core *c, const struct connect_finisher *who, const char *state, const char *code,
                            struct store_channel *out)
{
    struct store_oauth o;
    char hash[65], token[1024];
    char *client_secret = NULL;
    size_t cs_len = 0;
    json_t *detail = NULL, *account = NULL, *settings = NULL;
    struct actor a = {0};
    int rc;

    memset(out, 0, sizeof(*out));
    if(!state || !*state)
        return sam_fail_field(SAM_EINVAL, "state", "state is missing");
    if((rc = core_check_length("state", state, CONNECT_STATE_MAX, 0)))
        return rc;
    if(!code || !*code)
        return sam_fail_field(SAM_EINVAL, "code", "the authorization code is missing");
    if((rc = core_check_length("code", code, CONNECT_CODE_MAX, 0)))
        return rc;
    state_hash(state, hash);
    if((rc = store_oauth_take(c->st, hash, time_now(), &o)))
        return rc;
    detail = json_loads(o.detail ? o.detail : "{}", 0, NULL);
    if(!may_finish(who, &o, detail)) {
        log_kv(LOG_WARN, "a connection was finished by another browser or person than the one who started it; "
                         "refused", NULL);
        rc = sam_fail(SAM_ENOTFOUND, "this connection was started in another browser or by someone else; start "
                                     "connecting again from samtale");
        goto out;
    }
    const char *instance = json_string_value(json_object_get(detail, "instance_url"));
    const char *client_id = json_string_value(json_object_get(detail, "client_id"));
    const char *redirect = json_string_value(json_object_get(detail, "redirect_uri"));
    if(!instance || !client_id || !redirect || !o.secret ||
       core_secret_open(c, o.secret, o.secret_len, &client_secret, &cs_len)) {
        rc = sam_fail(SAM_EINTERNAL, "the pending connection cannot be read; start connecting again");
        goto out;
    }
    rc = masto_exchange_code(instance, client_id, client_secret, redirect, code, token, sizeof(token));
    if(rc == SAM_EPERM) {
        rc = sam_fail_field(SAM_EINVAL, "instance_url", "samtale did not call %.300s to finish connecting: %s",
                            instance, sam_errmsg(rc));
        goto out;
    }
    if(rc == SAM_EIO) {
        rc = sam_fail(SAM_EIO, "could not reach %s to finish connecting; start connecting again", instance);
        goto out;
    }
    if(rc) {
        rc = sam_fail_field(SAM_EINVAL, "code", "%s refused the authorization code (%s); start connecting again",
                            instance, sam_errmsg(rc));
        goto out;
    }
    if((rc = masto_verify(instance, token, &account))) {
        rc = sam_fail_field(SAM_EINVAL, "code", "%s gave a token it then refused (%s); start connecting again",
                            instance, sam_errmsg(rc));
        goto out;
    }
    const char *acct_id = json_string_value(json_object_get(account, "id"));
    const char *acct = json_string_value(json_object_get(account, "acct"));
    a.system = o.user_id == 0;
    a.user_id = o.user_id;
    a.scopes = PERM_ALL;
    if(o.user_id) {
        struct store_user u;
        if(!store_user_get(c->st, o.user_id, &u))
            snprintf(a.label, sizeof(a.label), "%s", u.email);
    } else {
        snprintf(a.label, sizeof(a.label), "cli");
    }
    if(o.channel_id) {
        struct store_channel cur;
        if((rc = core_channel_get(c, o.workspace_id, o.channel_id, &cur)))
            goto out;
        settings = json_loads(cur.settings ? cur.settings : "{}", 0, NULL);
        store_channel_cleanup(&cur);
    } else {
        settings = json_object();
    }
    if(!settings) {
        rc = SAM_ENOMEM;
        goto out;
    }
    json_object_set_new(settings, "instance_url", json_string(instance));
    if(acct_id)
        json_object_set_new(settings, "account_id", json_string(acct_id));
    if(acct)
        json_object_set_new(settings, "acct", json_string(acct));
    struct channel_input in = {.settings = settings, .secret = token, .secret_len = strlen(token)};
    if(o.channel_id) {
        rc = core_channel_update(c, &a, o.workspace_id, o.channel_id, &in, out);
    } else {
        in.kind = "mastodon";
        in.name = json_string_value(json_object_get(detail, "name"));
        in.timezone = json_string_value(json_object_get(detail, "timezone"));
        rc = core_channel_create(c, &a, o.workspace_id, &in, out);
    }
    if(!rc)
        log_kv(LOG_INFO, "mastodon account connected", "channel", out->name, "instance", instance, NULL);
out:
    sodium_memzero(token, sizeof(token));
    if(client_secret) {
        sodium_memzero(client_secret, cs_len);
        free(client_secret);
    }
    json_decref(settings);
    json_decref(account);
    json_decref(detail);
    store_oauth_cleanup(&o);
    return rc;
}
