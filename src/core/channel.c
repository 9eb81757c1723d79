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
#include "util/tz.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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

/* 1 when a file channel's path is relative and never climbs out of its folder. */
static int path_stays_inside(const char *p)
{
    if(p[0] == '/')
        return 0;
    for(const char *s = p; *s;) {
        size_t n = strcspn(s, "/");
        if(n == 2 && s[0] == '.' && s[1] == '.')
            return 0;
        s += n;
        while(*s == '/')
            s++;
    }
    return 1;
}

/* The settings samtale reads or writes, with their bounds. A key not listed here is kept
 * as it is, within the bound on the whole object. */
enum setting_type { SET_URL, SET_TEXT, SET_NONEMPTY, SET_EVENTS, SET_LANGS };

static const struct {
    const char *key;
    int type;        /* enum setting_type */
    size_t max;      /* a string's length (SET_LANGS: each tag's), SET_EVENTS: items */
    int chars;       /* max counts characters (else bytes) */
} known_settings[] = {
    {"url", SET_URL, CORE_URL_MAX, 0},                  /* feed, webhook */
    {"instance_url", SET_URL, CORE_SERVER_URL_MAX, 0},  /* mastodon */
    {"service_url", SET_URL, CORE_SERVER_URL_MAX, 0},   /* bluesky */
    {"handle", SET_NONEMPTY, CHANNEL_HANDLE_MAX, 0},    /* bluesky: a handle, a DID or an email */
    {"path", SET_NONEMPTY, CHANNEL_PATH_MAX, 0},        /* file */
    {"title", SET_TEXT, CHANNEL_TITLE_MAX, 1},          /* feed */
    {"visibility", SET_TEXT, 16, 0},                    /* mastodon */
    {"account_id", SET_TEXT, 256, 0},                   /* what the network said of the account */
    {"acct", SET_TEXT, CORE_SERVER_URL_MAX, 0},
    {"did", SET_TEXT, 256, 0},
    {"events", SET_EVENTS, 8, 0},                       /* webhook */
    {"langs", SET_LANGS, 35, 0},                        /* bluesky: at most 3 BCP-47 tags */
};

/* Checks one known setting v (named field, "settings.url") of a channel of kind. */
static int check_setting(const char *kind, size_t k, json_t *v, const char *field)
{
    const char *str = json_string_value(v);
    size_t i;
    json_t *e;
    int rc;
    switch(known_settings[k].type) {
    case SET_EVENTS:
        if(!json_is_array(v) || strcmp(kind, "webhook"))
            return sam_fail_field(SAM_EINVAL, field, "%s is a list of events, for webhook channels", field);
        if(json_array_size(v) > known_settings[k].max)
            return sam_fail_field(SAM_EINVAL, field, "%s must have at most %zu events", field, known_settings[k].max);
        json_array_foreach(v, i, e)
            if(!json_is_string(e) || strcmp(json_string_value(e), "post.failed"))
                return sam_fail_field(SAM_EINVAL, field, "%s: the events sent now are: post.failed", field);
        return SAM_OK;
    case SET_LANGS:
        if(json_is_string(v))
            return core_check_length(field, str, known_settings[k].max, 0);
        if(!json_is_array(v) || json_array_size(v) > 3)
            return sam_fail_field(SAM_EINVAL, field, "%s must be a list of at most 3 language tags such as \"nb\"",
                                  field);
        json_array_foreach(v, i, e) {
            if(!json_is_string(e))
                return sam_fail_field(SAM_EINVAL, field, "%s must be a list of language tags such as \"nb\"", field);
            if((rc = core_check_length(field, json_string_value(e), known_settings[k].max, 0)))
                return rc;
        }
        return SAM_OK;
    case SET_URL:
        if(!str || (strncmp(str, "https://", 8) && strncmp(str, "http://", 7)))
            return sam_fail_field(SAM_EINVAL, field, "%s must be an http:// or https:// URL", field);
        return core_check_length(field, str, known_settings[k].max, 0);
    default:
        if(!str || (known_settings[k].type == SET_NONEMPTY && !*str))
            return known_settings[k].type == SET_NONEMPTY
                       ? sam_fail_field(SAM_EINVAL, field, "%s must be filled in", field)
                       : sam_fail_field(SAM_EINVAL, field, "%s must be a text", field);
        return core_check_length(field, str, known_settings[k].max, known_settings[k].chars);
    }
}

/* Checks the settings object of a channel of this kind: its size, the type and length of
 * the keys samtale knows, and the key the kind requires. Errors name the field
 * ("settings.url"). */
static int check_settings(const char *kind, json_t *settings, char **text)
{
    const char *key, *need = required_setting(kind);
    char field[80];
    json_t *v;
    int rc;
    if(!json_is_object(settings))
        return sam_fail_field(SAM_EINVAL, "settings", "settings must be a JSON object");
    json_object_foreach(settings, key, v) {
        snprintf(field, sizeof(field), "settings.%.64s", key);
        for(size_t k = 0; k < sizeof(known_settings) / sizeof(known_settings[0]); k++)
            if(!strcmp(key, known_settings[k].key) && (rc = check_setting(kind, k, v, field)))
                return rc;
        if(!strcmp(key, "path") && !strcmp(kind, "file") && !path_stays_inside(json_string_value(v)))
            return sam_fail_field(SAM_EINVAL, field,
                                  "%s must be a relative path inside the files folder, without '..'", field);
    }
    if(*need && !json_object_get(settings, need)) {
        snprintf(field, sizeof(field), "settings.%s", need);
        return sam_fail_field(SAM_EINVAL, field, "a %s channel needs %s", kind, field);
    }
    *text = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
    if(!*text)
        return SAM_ENOMEM;
    if(strlen(*text) > CHANNEL_SETTINGS_MAX) {
        free(*text);
        *text = NULL;
        return sam_fail_field(SAM_EINVAL, "settings", "settings must have at most %d bytes of JSON",
                              CHANNEL_SETTINGS_MAX);
    }
    return SAM_OK;
}

/* Weekday slots a new publishing channel starts with; listening channels have none. */
static const char *default_slots(const char *kind)
{
    if(!strcmp(kind, "feed") || !strcmp(kind, "jetstream"))
        return "[]";
    return "[\"mon 09:00\",\"mon 12:30\",\"mon 15:30\",\"tue 09:00\",\"tue 12:30\",\"tue 15:30\","
           "\"wed 09:00\",\"wed 12:30\",\"wed 15:30\",\"thu 09:00\",\"thu 12:30\",\"thu 15:30\","
           "\"fri 09:00\",\"fri 12:30\",\"fri 15:30\"]";
}

/* Validates a JSON list of slots and gives it back normalised (sorted, unique) as text. */
static int check_slots(json_t *list, char **text)
{
    struct slot s[SLOTS_MAX];
    size_t n = 0, i;
    json_t *v, *out;
    char buf[16];
    if(!json_is_array(list))
        return sam_fail_field(SAM_EINVAL, "slots", "slots must be a list such as [\"mon 09:00\", \"wed 13:30\"]");
    if(json_array_size(list) > SLOTS_MAX)
        return sam_fail_field(SAM_EINVAL, "slots", "at most %d slots a week", SLOTS_MAX);
    json_array_foreach(list, i, v) {
        int rc;
        if(!json_is_string(v) || json_string_length(v) > CHANNEL_SLOT_TEXT_MAX)
            return sam_fail_field(SAM_EINVAL, "slots", "each slot must be a string such as \"mon 09:00\"");
        if((rc = slot_parse(json_string_value(v), &s[n])))
            return sam_fail_field(rc, "slots", "%s", sam_errmsg(rc));
        n++;
    }
    n = slots_normalise(s, n);
    out = json_array();
    for(i = 0; i < n; i++) {
        slot_format(&s[i], buf, sizeof(buf));
        json_array_append_new(out, json_string(buf));
    }
    *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return *text ? SAM_OK : SAM_ENOMEM;
}

int core_channel_upcoming(const struct store_channel *ch, int64_t from, int days, json_t **out)
{
    struct slot s[SLOTS_MAX];
    size_t n, cnt;
    int64_t *times;
    int rc;
    if(days < 1 || days > 92)
        return sam_fail(SAM_EBADREQ, "days must be from 1 to 92");
    core_channel_slots(ch, s, &n);
    times = malloc(sizeof(*times) * (size_t)(days + 2) * 24 * 7);
    if(!times)
        return SAM_ENOMEM;
    rc = slots_between(s, n, ch->timezone, from, from + (int64_t)days * 86400, times,
                       (size_t)(days + 2) * 24 * 7, &cnt);
    if(!rc) {
        *out = json_array();
        for(size_t i = 0; i < cnt; i++) {
            char local[40];
            tz_format_local(ch->timezone, times[i], local, sizeof(local));
            json_array_append_new(*out, json_pack("{s:o, s:s}", "at", view_time(times[i]), "local", local));
        }
    }
    free(times);
    return rc;
}

const struct store_channel *core_channel_find(const struct store_channel *list, size_t n, int64_t id)
{
    for(size_t i = 0; i < n; i++)
        if(list[i].id == id)
            return &list[i];
    return NULL;
}

int core_channel_slots(const struct store_channel *ch, struct slot *out, size_t *n)
{
    json_t *list = json_loads(ch->slots ? ch->slots : "[]", 0, NULL), *v;
    size_t i;
    *n = 0;
    json_array_foreach(list, i, v) {
        if(*n < SLOTS_MAX && json_is_string(v) && !slot_parse(json_string_value(v), &out[*n]))
            (*n)++;
    }
    json_decref(list);
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
    if(in->slots || !ch->slots) {
        char *text = NULL;
        json_t *def = in->slots ? NULL : json_loads(default_slots(ch->kind), 0, NULL);
        rc = check_slots(in->slots ? in->slots : def, &text);
        json_decref(def);
        if(rc)
            return rc;
        free(ch->slots);
        ch->slots = text;
    }
    if(in->max_per_hour) {
        if(in->max_per_hour < 1 || in->max_per_hour > 1000)
            return sam_fail_field(SAM_EINVAL, "max_per_hour",
                                  "max_per_hour (posts an hour) must be a whole number from 1 to 1000");
        ch->max_per_hour = in->max_per_hour;
    }
    if(in->max_per_day) {
        if(in->max_per_day < 1 || in->max_per_day > 10000)
            return sam_fail_field(SAM_EINVAL, "max_per_day",
                                  "max_per_day (posts a day) must be a whole number from 1 to 10000");
        ch->max_per_day = in->max_per_day;
    }
    if(ch->max_per_hour <= 0)
        ch->max_per_hour = 2;
    if(ch->max_per_day <= 0)
        ch->max_per_day = 12;
    if(ch->max_per_day < ch->max_per_hour)
        return sam_fail_field(SAM_EINVAL, "max_per_day",
                              "max_per_day (posts a day) must be at least max_per_hour (posts an hour: %d)",
                              ch->max_per_hour);
    if(in->clear_secret) {
        free(ch->secret);
        ch->secret = NULL;
        ch->secret_len = 0;
    } else if(in->secret) {
        unsigned char *sealed;
        size_t n;
        if(in->secret_len > CHANNEL_SECRET_MAX)
            return sam_fail_field(SAM_EINVAL, "secret", "secret must have at most %d bytes", CHANNEL_SECRET_MAX);
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

/* 1 when the settings name another account or server than before (the read cursor of
 * the old one means nothing there). */
static int account_changed(const char *before, const char *after)
{
    static const char *const keys[] = {"instance_url", "account_id", "service_url", "handle", "did", "url", NULL};
    json_t *a = json_loads(before ? before : "{}", 0, NULL), *b = json_loads(after ? after : "{}", 0, NULL);
    int changed = 0;
    for(size_t i = 0; keys[i] && !changed; i++) {
        json_t *x = json_object_get(a, keys[i]), *y = json_object_get(b, keys[i]);
        changed = (x || y) && !(x && y && json_equal(x, y));
    }
    json_decref(a);
    json_decref(b);
    return changed;
}

int core_channel_update(struct core *c, const struct actor *a, int64_t ws, int64_t id,
                        const struct channel_input *in, struct store_channel *out)
{
    char *old_settings = NULL;
    int rc = core_channel_get(c, ws, id, out);
    if(rc)
        return rc;
    if(in->settings && !(old_settings = strdup(out->settings ? out->settings : "{}"))) {
        store_channel_cleanup(out);
        return SAM_ENOMEM;
    }
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
    /* A pause or a resume is a change of its own (the edit above does not write it), told
     * in the audit log only when it changed something. Resumed: what became due meanwhile
     * is due now, so the publisher looks at once. */
    if(in->pause != CHANNEL_PAUSE_KEEP) {
        int changed = 0, paused = in->pause == CHANNEL_PAUSE;
        int64_t now = time_now();
        rc = store_channel_set_paused(c->st, id, paused, now, &changed);
        if(rc)
            goto fail;
        if(changed) {
            out->paused_at = paused ? now : 0;
            d = json_pack("{s:I}", "channel_id", (json_int_t)id);
            core_audit(c, a, out->workspace_id, paused ? "channel.pause" : "channel.resume", out->name, d);
            json_decref(d);
            if(!paused)
                core_due(c);
        }
    }
    /* Another account or server: read it from its newest messages, not from the old one's
     * cursor. */
    if(old_settings && account_changed(old_settings, out->settings))
        (void)store_cursor_set(c->st, id, "inbound", "", time_now());
    free(old_settings);
    old_settings = NULL;
    /* New credentials for a channel that lost its own: it is active again, and what
     * waited in its queue goes out (within its frequency caps). */
    int changed = 0;
    if((in->secret || in->settings) && !store_channel_reactivate(c->st, id, time_now(), &changed) && changed) {
        snprintf(out->status, sizeof(out->status), "active");
        out->status_message[0] = '\0';
        d = json_pack("{s:I}", "channel_id", (json_int_t)id);
        core_audit(c, a, out->workspace_id, "channel.reconnect", out->name, d);
        json_decref(d);
        core_due(c);
        if(c->on_read)
            c->on_read(c->on_read_arg);
    }
    return SAM_OK;
fail:
    free(old_settings);
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
