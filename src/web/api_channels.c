/*
 * api_channels.c: channels, connecting accounts (Mastodon OAuth, feed discovery),
 * reading a channel now, and the messages read from them.
 */
#include "web/api.h"
#include "channel/discover.h"
#include "channel/http.h"
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

static json_t *v_channel(const void *p) { return view_channel(p); }
static int64_t k_channel(const void *p) { return ((const struct store_channel *)p)->id; }

/* ---- channels ---- */

static int channel_input_from(json_t *body, int create, struct channel_input *in)
{
    static const char *const create_keys[] = {"kind", "name", "timezone", "settings", "secret", "slots",
                                              "max_per_hour", "max_per_day", "verify", "discover", NULL};
    static const char *const patch_keys[] = {"name", "timezone", "settings", "secret", "slots", "max_per_hour",
                                             "max_per_day", "paused", "verify", "discover", NULL};
    static const char *const caps[] = {"max_per_hour", "max_per_day"};
    static const int cap_max[] = {1000, 10000};
    json_t *secret = json_object_get(body, "secret");
    int rc;
    memset(in, 0, sizeof(*in));
    if((rc = api_body_only(body, create ? create_keys : patch_keys)))
        return rc;
    if(create && (rc = api_body_str(body, "kind", 1, &in->kind)))
        return rc;
    if((rc = api_body_str(body, "name", create, &in->name)) || (rc = api_body_str(body, "timezone", 0, &in->timezone)))
        return rc;
    in->slots = json_object_get(body, "slots");
    if(in->slots && !json_is_array(in->slots))
        return sam_fail_field(SAM_EINVAL, "slots", "slots must be a list such as [\"mon 09:00\"]");
    for(int i = 0; i < 2; i++) {
        json_t *v = json_object_get(body, caps[i]);
        if(!v)
            continue;
        /* Said with the cap's name in words too: the dashboard shows it at the field. */
        if(!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > cap_max[i])
            return i ? sam_fail_field(SAM_EINVAL, caps[i], "max_per_day (posts a day) must be a whole number "
                                      "from 1 to %d", cap_max[i])
                     : sam_fail_field(SAM_EINVAL, caps[i], "max_per_hour (posts an hour) must be a whole number "
                                      "from 1 to %d", cap_max[i]);
        *(i ? &in->max_per_day : &in->max_per_hour) = (int)json_integer_value(v);
    }
    json_t *paused = json_object_get(body, "paused");
    if(paused && !json_is_boolean(paused))
        return sam_fail_field(SAM_EINVAL, "paused", "paused must be true or false");
    if(paused)
        in->pause = json_is_true(paused) ? CHANNEL_PAUSE : CHANNEL_RESUME;
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

int api_channels_list(struct web_request *r, struct web_reply *out)
{
    struct store_channel *cs = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    if(r->query_kind && !core_channel_kind_valid(r->query_kind))
        return sam_fail_field(SAM_EBADREQ, "kind", "kind must be bluesky, mastodon, feed, jetstream, file or webhook");
    rc = store_channel_list(r->core->st, r->wid, r->query_kind, after, limit + 1, &cs, &n);
    if(rc)
        return rc;
    items = api_page_of(cs, n, sizeof(*cs), limit, v_channel, k_channel);
    store_channel_list_free(cs, n);
    return api_reply(out, 200, items);
}

/* A site's title may be longer than a title people could set (settings.title): it is cut
 * in place, on a character, to CHANNEL_TITLE_MAX characters. */
static char *cut_title(char *title)
{
    size_t cut = 0;
    for(long n = 0; title[cut] && n < CHANNEL_TITLE_MAX; n++)
        for(cut++; ((unsigned char)title[cut] & 0xC0) == 0x80; cut++)
            ;
    title[cut] = '\0';
    return title;
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
            rc = sam_fail_field(SAM_EINVAL, "settings.url", "%s", sam_errmsg(SAM_EPERM));
        if(rc == SAM_EINVAL && !sam_errfield())
            rc = sam_fail_field(SAM_EINVAL, "settings", "%s", sam_errmsg(SAM_EINVAL));
        if(!rc && !(*owned = json_deep_copy(in->settings)))
            rc = SAM_ENOMEM;
        if(!rc) {
            json_object_set_new(*owned, "url", json_string(feed_url));
            if(title && !json_object_get(*owned, "title"))
                json_object_set_new(*owned, "title", json_string(cut_title(title)));
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

int api_channels_create(struct web_request *r, struct web_reply *out)
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
    rc = api_reply(out, 201, view_channel(&ch));
    store_channel_cleanup(&ch);
    return rc;
}

int api_channel_get(struct web_request *r, struct web_reply *out)
{
    struct store_channel ch;
    int rc = core_channel_get(r->core, r->wid, r->id, &ch);
    if(rc)
        return rc;
    rc = api_reply(out, 200, view_channel(&ch));
    store_channel_cleanup(&ch);
    return rc;
}

int api_channel_patch(struct web_request *r, struct web_reply *out)
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
    rc = api_reply(out, 200, view_channel(&ch));
    store_channel_cleanup(&ch);
    return rc;
}

int api_channel_slots(struct web_request *r, struct web_reply *out)
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
            return sam_fail_field(SAM_EBADREQ, "days", "days must be a whole number from 1 to 92");
    }
    rc = core_channel_get(r->core, r->wid, r->id, &ch);
    if(rc)
        return rc;
    rc = core_channel_upcoming(&ch, time_now(), (int)d, &items);
    if(!rc) {
        json_t *slots = json_loads(ch.slots ? ch.slots : "[]", 0, NULL);
        rc = api_reply(out, 200, json_pack("{s:s, s:o, s:o}", "timezone", ch.timezone, "slots",
                                       slots ? slots : json_array(), "upcoming", items));
    }
    store_channel_cleanup(&ch);
    return rc;
}

int api_channel_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_channel_delete(r->core, &r->actor, r->wid, r->id);
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}

/* Reads a channel's mentions and messages now, and answers how many were new. */
int api_channel_read(struct web_request *r, struct web_reply *out)
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
        rc = sam_fail(SAM_ECONFLICT, "the channel needs reconnecting first: %s",
                      view_peer_text(ch.status_message, PERM_CHANNELS_WRITE, VIEW_CHANNEL_ERROR_HIDDEN));
    } else {
        rc = poller_run_once(r->core, &o, r->wid, r->id, time_now(), &stats);
    }
    store_channel_cleanup(&ch);
    if(!rc && (rc = core_channel_get(r->core, r->wid, r->id, &ch)) == SAM_OK) {
        rc = api_reply(out, 200, json_pack("{s:i, s:b, s:o}", "new_messages", stats.messages, "ok", stats.failures == 0,
                                       "channel", view_channel(&ch)));
        store_channel_cleanup(&ch);
    }
    return rc;
}

static json_t *v_message(const void *p) { return view_message(p); }
static int64_t k_message(const void *p) { return ((const struct store_message *)p)->id; }

int api_messages_list(struct web_request *r, struct web_reply *out)
{
    struct store_message *ms = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t before, channel = 0;
    json_t *items;
    static const char *const kinds[] = {"mention", "reply", "quote", "direct", NULL};
    if((rc = api_page_params(r, &limit, &before)))
        return rc;
    if(r->query_kind) {
        int ok = 0;
        for(size_t i = 0; kinds[i]; i++)
            ok |= !strcmp(kinds[i], r->query_kind);
        if(!ok)
            return sam_fail_field(SAM_EBADREQ, "kind", "kind must be mention, reply, quote or direct");
    }
    if(r->query_channel) {
        char *end;
        channel = strtoll(r->query_channel, &end, 10);
        if(!*r->query_channel || *end || channel < 1)
            return sam_fail_field(SAM_EBADREQ, "channel", "channel must be a channel id");
    }
    rc = store_message_list(r->core->st, r->wid, channel, r->query_kind, before, limit + 1, &ms, &n);
    if(rc)
        return rc;
    items = api_page_of(ms, n, sizeof(*ms), limit, v_message, k_message);
    store_message_list_free(ms, n);
    return api_reply(out, 200, items);
}

/* ---- connecting accounts and sources ---- */

static int callback_uri(struct web_request *r, char *out, size_t n)
{
    if((size_t)snprintf(out, n, "%s/api/v1/oauth/mastodon/callback", web_base_url(r->web)) >= n)
        return sam_fail(SAM_EINVAL, "public_url is too long");
    return SAM_OK;
}

int api_connect_mastodon(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"instance_url", "name", "timezone", "channel_id", "redirect_uri", NULL};
    struct connect_begin b;
    char redirect[600], url[2048], state[64];
    const char *uri = NULL;
    json_t *cid = json_object_get(r->body, "channel_id");
    int rc = api_body_only(r->body, keys);
    memset(&b, 0, sizeof(b));
    b.workspace_id = r->wid;
    b.user_id = r->actor.user_id;
    if(!rc)
        rc = api_body_str(r->body, "instance_url", 1, &b.instance_url);
    if(!rc)
        rc = api_body_str(r->body, "name", 0, &b.name);
    if(!rc)
        rc = api_body_str(r->body, "timezone", 0, &b.timezone);
    if(!rc)
        rc = api_body_str(r->body, "redirect_uri", 0, &uri);
    if(rc)
        return rc;
    if(uri && strcmp(uri, CONNECT_OOB))
        return sam_fail_field(SAM_EINVAL, "redirect_uri",
                              "redirect_uri may only be %s (for a code to copy); leave it out for samtale's own "
                              "callback", CONNECT_OOB);
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
    return api_reply(out, 201, json_pack("{s:s, s:s, s:s, s:i}", "authorize_url", url, "state", state, "redirect_uri",
                                     uri, "expires_in", CONNECT_TTL));
}

int api_connect_mastodon_finish(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"state", "code", NULL};
    const char *state = NULL, *code = NULL;
    struct store_channel ch;
    int rc = api_body_only(r->body, keys);
    if(!rc)
        rc = api_body_str(r->body, "state", 1, &state);
    if(!rc)
        rc = api_body_str(r->body, "code", 1, &code);
    struct connect_finisher who = {.workspace_id = r->wid, .user_id = r->actor.user_id};
    if(!rc)
        rc = connect_mastodon_finish(r->core, &who, state, code, &ch);
    if(rc)
        return rc;
    rc = api_reply(out, 201, view_channel(&ch));
    store_channel_cleanup(&ch);
    return rc;
}

/* Where the instance sends the person back. Public (the session cookie is SameSite=Strict
 * and does not come along on a redirect from another site): the state, single-use and
 * short-lived, is what ties the answer to the workspace and person who started. The
 * browser is sent on to the dashboard's channels page, which shows the outcome. */
int api_oauth_callback(struct web_request *r, struct web_reply *out)
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
int api_discover(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"url", NULL};
    const char *url = NULL;
    char *feed_url = NULL, *title = NULL;
    int rc = api_body_only(r->body, keys);
    if(!rc)
        rc = api_body_str(r->body, "url", 1, &url);
    if(!rc)
        rc = core_check_length("url", url, CORE_URL_MAX, 0);
    if(!rc && strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
        rc = sam_fail_field(SAM_EINVAL, "url", "url must be an http:// or https:// address");
    if(!rc)
        rc = discover_feed(url, web_net_timeout_ms(r->web), &feed_url, &title);
    if(rc == SAM_EPERM)
        rc = sam_fail_field(SAM_EINVAL, "url", "%s", sam_errmsg(SAM_EPERM));
    if(rc == SAM_EINVAL && !sam_errfield())
        rc = sam_fail_field(SAM_EINVAL, "url", "%s", sam_errmsg(SAM_EINVAL));
    if(!rc)
        rc = api_reply(out, 200, json_pack("{s:s, s:s?}", "feed_url", feed_url, "title",
                                           title ? cut_title(title) : NULL));
    free(feed_url);
    free(title);
    return rc;
}
