/*
 * channel.c: channels of a workspace: a connected account (bluesky, mastodon), a source
 * (feed, jetstream) or a target (file, webhook). Each has a time zone for its posting
 * slots, a settings object, and optionally a secret (an app password, a webhook signing
 * key) that is sealed with the key outside the database before it is stored and is
 * never given back by the API.
 */
#include "core/core.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTINGS_MAX 16384
#define SECRET_MAX 4096

static const char *kinds[] = {"bluesky", "mastodon", "feed", "jetstream", "file", "webhook"};

int core_channel_kind_valid(const char *kind)
{
    for(size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if(!strcmp(kind, kinds[i]))
            return 1;
    return 0;
}

/* The setting each kind cannot work without ("" for none). */
static const char *required_setting(const char *kind)
{
    static const struct {
        const char *kind, *key;
    } req[] = {{"file", "path"}, {"webhook", "url"}, {"feed", "url"}, {"bluesky", "handle"},
               {"mastodon", "instance_url"}, {"jetstream", ""}};
    for(size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
        if(!strcmp(kind, req[i].kind))
            return req[i].key;
    return "";
}

/* Checks the settings object of a channel of this kind: its size, the type of the keys
 * samtale knows, and the key the kind requires. Errors name the field ("settings.url"). */
static int check_settings(const char *kind, json_t *settings, char **text)
{
    const char *key, *need = required_setting(kind);
    char field[80];
    json_t *v;
    if(!json_is_object(settings))
        return sam_fail_field(SAM_EINVAL, "settings", "settings must be a JSON object");
    json_object_foreach(settings, key, v) {
        snprintf(field, sizeof(field), "settings.%.64s", key);
        if(!strcmp(key, "url") || !strcmp(key, "instance_url")) {
            const char *u = json_string_value(v);
            if(!u || (strncmp(u, "https://", 8) && strncmp(u, "http://", 7)) || strlen(u) > 2048)
                return sam_fail_field(SAM_EINVAL, field, "%s must be an http:// or https:// URL", field);
        } else if(!strcmp(key, "path") || !strcmp(key, "handle")) {
            if(!json_is_string(v) || !*json_string_value(v) || json_string_length(v) > 1024)
                return sam_fail_field(SAM_EINVAL, field, "%s must be a non-empty string", field);
        }
    }
    if(*need && !json_object_get(settings, need)) {
        snprintf(field, sizeof(field), "settings.%s", need);
        return sam_fail_field(SAM_EINVAL, field, "a %s channel needs %s", kind, field);
    }
    *text = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
    if(!*text)
        return SAM_ENOMEM;
    if(strlen(*text) > SETTINGS_MAX) {
        free(*text);
        *text = NULL;
        return sam_fail_field(SAM_ETOOBIG, "settings", "settings must be at most 16 KiB");
    }
    return SAM_OK;
}

/* Applies in to ch (validated); ch keeps ownership of what it holds. */
static int apply_input(struct core *c, const struct channel_input *in, struct store_channel *ch)
{
    int rc;
    if(in->name) {
        if((rc = core_validate_name("name", in->name)))
            return rc;
        snprintf(ch->name, sizeof(ch->name), "%s", in->name);
    }
    if(in->timezone) {
        if((rc = core_validate_timezone("timezone", in->timezone)))
            return rc;
        snprintf(ch->timezone, sizeof(ch->timezone), "%s", in->timezone);
    }
    if(in->settings || !ch->settings) {
        char *text = NULL;
        json_t *empty = in->settings ? NULL : json_object();
        rc = check_settings(ch->kind, in->settings ? in->settings : empty, &text);
        json_decref(empty);
        if(rc)
            return rc;
        free(ch->settings);
        ch->settings = text;
    }
    if(in->clear_secret) {
        free(ch->secret);
        ch->secret = NULL;
        ch->secret_len = 0;
    } else if(in->secret) {
        unsigned char *sealed;
        size_t n;
        if(in->secret_len > SECRET_MAX)
            return sam_fail_field(SAM_ETOOBIG, "secret", "secret must be at most 4 KiB");
        if(in->secret_len == 0)
            return sam_fail_field(SAM_EINVAL, "secret", "secret must not be empty (use null to remove it)");
        if((rc = core_secret_seal(c, in->secret, in->secret_len, &sealed, &n)))
            return rc;
        free(ch->secret);
        ch->secret = sealed;
        ch->secret_len = n;
    }
    return SAM_OK;
}

int core_channel_create(struct core *c, const struct actor *a, int64_t ws,
                        const struct channel_input *in, struct store_channel *out)
{
    struct store_workspace w;
    int rc;

    memset(out, 0, sizeof(*out));
    if(!in->kind || !core_channel_kind_valid(in->kind))
        return sam_fail_field(SAM_EINVAL, "kind",
                              "kind must be bluesky, mastodon, feed, jetstream, file or webhook");
    if(!in->name)
        return sam_fail_field(SAM_EINVAL, "name", "name is required");
    if((rc = store_workspace_get(c->st, ws, &w)))
        return rc;
    snprintf(out->kind, sizeof(out->kind), "%s", in->kind);
    snprintf(out->timezone, sizeof(out->timezone), "%s", w.timezone);
    snprintf(out->status, sizeof(out->status), "active");
    out->workspace_id = ws;
    rc = apply_input(c, in, out);
    if(rc)
        goto fail;
    out->created_at = out->updated_at = time_now();
    rc = store_channel_insert(c->st, out);
    if(rc == SAM_ECONFLICT)
        rc = sam_fail_field(rc, "name", "a channel named '%s' already exists in this workspace", out->name);
    if(rc)
        goto fail;
    json_t *d = json_pack("{s:s, s:I}", "kind", out->kind, "channel_id", (json_int_t)out->id);
    core_audit(c, a, ws, "channel.create", out->name, d);
    json_decref(d);
    return SAM_OK;
fail:
    store_channel_cleanup(out);
    return rc;
}

int core_channel_get(struct core *c, int64_t ws, int64_t id, struct store_channel *out)
{
    int rc = store_channel_get(c->st, id, out);
    if(!rc && ws && out->workspace_id != ws) {
        store_channel_cleanup(out);
        rc = SAM_ENOTFOUND;
    }
    if(rc == SAM_ENOTFOUND)
        return sam_fail(rc, "channel %lld not found", (long long)id);
    return rc;
}

int core_channel_update(struct core *c, const struct actor *a, int64_t ws, int64_t id,
                        const struct channel_input *in, struct store_channel *out)
{
    int rc = core_channel_get(c, ws, id, out);
    if(rc)
        return rc;
    rc = apply_input(c, in, out);
    if(rc)
        goto fail;
    out->updated_at = time_now();
    rc = store_channel_update(c->st, out);
    if(rc == SAM_ECONFLICT)
        rc = sam_fail_field(rc, "name", "a channel named '%s' already exists in this workspace", out->name);
    if(rc)
        goto fail;
    json_t *d = json_pack("{s:I, s:b, s:b}", "channel_id", (json_int_t)id, "secret_changed",
                          in->secret != NULL || in->clear_secret, "settings_changed", in->settings != NULL);
    core_audit(c, a, out->workspace_id, "channel.update", out->name, d);
    json_decref(d);
    return SAM_OK;
fail:
    store_channel_cleanup(out);
    return rc;
}

int core_channel_delete(struct core *c, const struct actor *a, int64_t ws, int64_t id)
{
    struct store_channel ch;
    int rc = core_channel_get(c, ws, id, &ch);
    if(rc)
        return rc;
    rc = store_channel_delete(c->st, id);
    if(!rc) {
        json_t *d = json_pack("{s:I, s:s}", "channel_id", (json_int_t)id, "kind", ch.kind);
        core_audit(c, a, ch.workspace_id, "channel.delete", ch.name, d);
        json_decref(d);
    }
    store_channel_cleanup(&ch);
    return rc;
}
