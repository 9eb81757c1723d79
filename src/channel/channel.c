/*
 * channel.c: the table of connectors, one struct channel_ops per channel kind (see
 * channel.h). Each connector lives in its own file (file.c, webhook.c; bluesky.c,
 * mastodon.c, feed.c and jetstream.c later) and exports only its ops; this file is the
 * one place that lists them, so adding a kind is one line here.
 */
#include "channel/channel.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defined by the connectors; only this table refers to them. */
extern const struct channel_ops channel_file_ops;
extern const struct channel_ops channel_webhook_ops;
extern const struct channel_ops channel_mastodon_ops;
extern const struct channel_ops channel_bluesky_ops;

static const struct channel_ops *const connectors[] = {
    &channel_file_ops,
    &channel_webhook_ops,
    &channel_mastodon_ops,
    &channel_bluesky_ops,
};

void channel_result_set(struct channel_result *res, int outcome, const char *fmt, ...)
{
    va_list ap;
    res->outcome = outcome;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
}

void channel_result_say(struct channel_result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
}

void channel_result_parts(struct channel_result *res, const json_t *later)
{
    char *list = later ? json_dumps(later, JSON_COMPACT) : NULL;
    if(!later)
        return;
    if(list && strlen(list) < sizeof(res->parts))
        memcpy(res->parts, list, strlen(list) + 1);
    else
        log_kv(LOG_WARN, "a thread's reply ids do not fit: replacing it would leave its replies", NULL);
    free(list);
}

void channel_result_clear(struct channel_result *res)
{
    memset(res, 0, sizeof(*res));
    res->outcome = CHANNEL_FAIL;
}

int64_t channel_count(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
}

json_t *channel_media_json(const struct channel_post *post)
{
    json_t *list = json_array();
    for(size_t i = 0; list && i < post->nmedia; i++) {
        const struct channel_media *m = &post->media[i];
        json_t *j = json_pack("{s:I, s:s, s:s, s:i, s:i, s:I, s:i, s:s}", "id", (json_int_t)m->id, "sha256",
                              m->sha256 ? m->sha256 : "", "type",
                              m->type ? m->type : "", "width", m->width, "height", m->height, "bytes",
                              (json_int_t)m->len, "frames", m->frames > 0 ? m->frames : 1, "alt",
                              m->alt ? m->alt : "");
        if(!j || json_array_append_new(list, j)) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

const struct channel_ops *channel_ops_for(const char *kind)
{
    if(!kind)
        return NULL;
    for(size_t i = 0; i < sizeof(connectors) / sizeof(connectors[0]); i++)
        if(!strcmp(connectors[i]->kind, kind))
            return connectors[i];
    return NULL;
}
