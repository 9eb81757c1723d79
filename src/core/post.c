/*
 * post.c: posts and occurrences (see post.h). The rules that decide whether a post may
 * be scheduled at all (spam checks, P5-P9) live in checks.c and are applied by the
 * caller before core_post_create; this file keeps the data right.
 */
#include "core/post.h"
#include "core/series.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *categories[] = {"value", "promo", "personal", "share", "dialogue"};

static int check_text(const char *field, const char *text)
{
    size_t len = strlen(text);
    const char *p = text;
    if(len > POST_TEXT_MAX)
        return sam_fail_field(SAM_EINVAL, field, "%s must be at most %d bytes", field, POST_TEXT_MAX);
    if(utf8_count(text, len) < 0)
        return sam_fail_field(SAM_EINVAL, field, "%s is not valid UTF-8", field);
    while(*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if(!*p)
        return sam_fail_field(SAM_EINVAL, field, "%s must not be empty", field);
    for(p = text; *p; p++)
        if(((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            return sam_fail_field(SAM_EINVAL, field, "%s must not contain control characters", field);
    return SAM_OK;
}

static int check_content(const struct post_input *in, char **variants_text)
{
    int rc;
    *variants_text = NULL;
    if(in->text && (rc = check_text("text", in->text)))
        return rc;
    if(in->link && *in->link) {
        if((strncmp(in->link, "https://", 8) && strncmp(in->link, "http://", 7)) || strlen(in->link) > 2048 ||
           strpbrk(in->link, " \t\r\n\"<>"))
            return sam_fail_field(SAM_EINVAL, "link", "link must be an http:// or https:// URL");
    }
    if(in->category) {
        size_t i;
        for(i = 0; i < 5 && strcmp(in->category, categories[i]); i++)
            ;
        if(i == 5)
            return sam_fail_field(SAM_EINVAL, "category", "category must be value, promo, personal, share or dialogue");
    }
    if(in->campaign && *in->campaign && (rc = core_validate_name("campaign", in->campaign)))
        return rc;
    if(in->variants) {
        size_t i;
        json_t *v;
        if(!json_is_array(in->variants) || json_array_size(in->variants) > POST_VARIANTS_MAX)
            return sam_fail_field(SAM_EINVAL, "variants", "variants must be a list of at most %d texts",
                                  POST_VARIANTS_MAX);
        json_array_foreach(in->variants, i, v) {
            if(!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
                return sam_fail_field(SAM_EINVAL, "variants", "each variant must be a text");
            if((rc = check_text("variants", json_string_value(v))))
                return rc;
        }
        *variants_text = json_dumps(in->variants, JSON_COMPACT);
        if(!*variants_text)
            return SAM_ENOMEM;
    }
    return SAM_OK;
}

static void new_key(char out[48])
{
    unsigned char raw[12];
    char hex[25];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
    snprintf(out, 48, "smt-%s", hex);
}

/* Instants already used on a channel from `from` on (scheduled, in flight or published),
 * sorted; the caller frees *out. */
static int taken_times(struct core *c, int64_t channel, int64_t from, int64_t **out, size_t *n)
{
    struct store_occurrence *occ = NULL;
    size_t cnt = 0, k = 0;
    int rc = store_occurrence_list(c->st, 0, 0, channel, from, from + 400 * 86400, 0, 20000, &occ, &cnt);
    *out = NULL;
    *n = 0;
    if(rc)
        return rc;
    *out = malloc(sizeof(**out) * (cnt ? cnt : 1));
    if(!*out) {
        free(occ);
        return SAM_ENOMEM;
    }
    for(size_t i = 0; i < cnt; i++)
        if(strcmp(occ[i].state, "cancelled") && strcmp(occ[i].state, "failed"))
            (*out)[k++] = occ[i].planned_at;
    *n = k;
    free(occ);
    return SAM_OK;
}

static int place(struct core *c, const struct post_input *in, const struct store_channel *ch, int64_t now,
                 int64_t *at)
{
    if(in->schedule == POST_NOW) {
        *at = now;
        return SAM_OK;
    }
    if(in->schedule == POST_AT) {
        if(in->at < now - 60)
            return sam_fail_field(SAM_EINVAL, "schedule", "that time has passed: choose a time in the future or 'now'");
        if(in->at > now + 2 * 366 * 86400)
            return sam_fail_field(SAM_EINVAL, "schedule", "schedule at most two years ahead");
        *at = in->at < now ? now : in->at;
        return SAM_OK;
    }
    /* The next slot of this channel that no other occurrence holds. */
    struct slot s[SLOTS_MAX];
    size_t n, ntaken;
    int64_t *taken;
    int rc;
    core_channel_slots(ch, s, &n);
    if(n == 0)
        return sam_fail_field(SAM_EINVAL, "schedule", "channel \"%s\" has no posting slots: add some or pick a time",
                              ch->name);
    if((rc = taken_times(c, ch->id, now, &taken, &ntaken)))
        return rc;
    rc = slots_next_free(s, n, ch->timezone, now, taken, ntaken, at);
    free(taken);
    if(rc == SAM_ENOTFOUND)
        return sam_fail_field(SAM_EINVAL, "schedule", "every slot of \"%s\" in the coming year is taken", ch->name);
    return rc;
}

int core_post_create(struct core *c, const struct actor *a, int64_t ws, const struct post_input *in,
                     int64_t now, struct store_post *out, struct store_occurrence **occ, size_t *nocc)
{
    char *variants = NULL;
    struct store_occurrence *o = NULL;
    size_t n = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    *occ = NULL;
    *nocc = 0;
    if(!in->text)
        return sam_fail_field(SAM_EINVAL, "text", "text is required");
    if((rc = check_content(in, &variants)))
        return rc;
    if(in->schedule != POST_DRAFT) {
        if(in->nchannels == 0)
            rc = sam_fail_field(SAM_EINVAL, "channels", "choose at least one channel to publish to");
        else if(in->nchannels > POST_CHANNELS_MAX)
            rc = sam_fail_field(SAM_EINVAL, "channels", "at most %d channels", POST_CHANNELS_MAX);
        if(!rc && !(o = calloc(in->nchannels, sizeof(*o))))
            rc = SAM_ENOMEM;
        for(size_t i = 0; !rc && i < in->nchannels; i++) {
            struct store_channel ch;
            for(size_t j = 0; j < i; j++)
                if(in->channels[j] == in->channels[i])
                    rc = sam_fail_field(SAM_EINVAL, "channels", "channel %lld is listed twice",
                                        (long long)in->channels[i]);
            if(rc)
                break;
            rc = core_channel_get(c, ws, in->channels[i], &ch);
            if(rc == SAM_ENOTFOUND)
                rc = sam_fail_field(SAM_EINVAL, "channels", "channel %lld is not in this workspace",
                                    (long long)in->channels[i]);
            if(rc)
                break;
            if(!strcmp(ch.kind, "feed") || !strcmp(ch.kind, "jetstream"))
                rc = sam_fail_field(SAM_EINVAL, "channels", "\"%s\" is a %s channel: it listens, it cannot publish",
                                    ch.name, ch.kind);
            if(!rc)
                rc = place(c, in, &ch, now, &o[i].planned_at);
            o[i].channel_id = ch.id;
            new_key(o[i].idempotency_key);
            store_channel_cleanup(&ch);
            n++;
        }
    }
    if(rc)
        goto fail;
    out->workspace_id = ws;
    out->author_id = a->system ? 0 : a->user_id;
    out->text = strdup(in->text);
    out->link = in->link && *in->link ? strdup(in->link) : NULL;
    out->campaign = in->campaign && *in->campaign ? strdup(in->campaign) : NULL;
    out->variants = variants ? variants : strdup("[]");
    variants = NULL;
    out->override_reason = in->override_reason && *in->override_reason ? strdup(in->override_reason) : NULL;
    snprintf(out->category, sizeof(out->category), "%s", in->category ? in->category : "value");
    snprintf(out->state, sizeof(out->state), "%s", in->schedule == POST_DRAFT ? "draft" : "scheduled");
    out->created_at = out->updated_at = now;
    if(!out->text || !out->variants) {
        rc = SAM_ENOMEM;
        goto fail;
    }
    rc = store_post_insert(c->st, out, o, n);
    if(rc)
        goto fail;
    json_t *d = json_pack("{s:I, s:s, s:i, s:s?}", "post_id", (json_int_t)out->id, "state", out->state,
                          "occurrences", (int)n, "override_reason", out->override_reason);
    core_audit(c, a, ws, out->override_reason ? "post.create.override" : "post.create", out->category, d);
    json_decref(d);
    *occ = o;
    *nocc = n;
    for(size_t i = 0; i < n && c->on_due; i++)
        if(o[i].planned_at <= now) {
            c->on_due(c->on_due_arg);
            break;
        }
    return SAM_OK;
fail:
    free(variants);
    free(o);
    store_post_cleanup(out);
    return rc;
}

int core_series_create(struct core *c, const struct actor *a, int64_t ws, const struct series_input *in,
                       int64_t now, struct store_post *post, struct store_series *series,
                       struct store_occurrence **occ, size_t *nocc)
{
    const struct post_input *pi = &in->post;
    struct series_rule rule;
    struct store_occurrence *o = NULL;
    int64_t *times = NULL;
    char *variants = NULL;
    size_t n = 0;
    int rc;

    memset(post, 0, sizeof(*post));
    memset(series, 0, sizeof(*series));
    *occ = NULL;
    *nocc = 0;
    if(!pi->text)
        return sam_fail_field(SAM_EINVAL, "text", "text is required");
    if((rc = check_content(pi, &variants)))
        return rc;
    memset(&rule, 0, sizeof(rule));
    rule.per_day = in->per_day ? in->per_day : 3;
    rule.gap_minutes = in->gap_minutes ? in->gap_minutes : 240;
    rule.start = in->start > now ? in->start : now;
    rule.max_count = in->count;
    if(in->days < 0 || in->days > 366 || in->count < 0 || in->count > SERIES_COPIES_MAX ||
       (in->until && (in->until <= now || in->until > now + 366 * 86400)))
        rc = sam_fail_field(SAM_EINVAL, "days", "a series runs for 1-366 days, until a date within a year, or "
                                                "for 1-%d copies", SERIES_COPIES_MAX);
    else if(in->gap_minutes < 0 || in->gap_minutes > 7 * 1440)
        rc = sam_fail_field(SAM_EINVAL, "min_gap_hours", "the gap must be at most a week");
    else if(pi->nchannels == 0 || pi->nchannels > POST_CHANNELS_MAX)
        rc = sam_fail_field(SAM_EINVAL, "channels", "choose 1 to %d channels", POST_CHANNELS_MAX);
    if(rc)
        goto fail;
    rule.end = in->until ? in->until : rule.start + (int64_t)(in->days ? in->days : (in->count ? 366 : 7)) * 86400;
    o = calloc(pi->nchannels * SERIES_COPIES_MAX, sizeof(*o));
    times = malloc(sizeof(*times) * SERIES_COPIES_MAX);
    if(!o || !times) {
        rc = SAM_ENOMEM;
        goto fail;
    }
    for(size_t i = 0; !rc && i < pi->nchannels; i++) {
        struct store_channel ch;
        struct slot s[SLOTS_MAX];
        size_t ns, ntaken, cnt;
        int64_t *taken = NULL;
        for(size_t j = 0; j < i; j++)
            if(pi->channels[j] == pi->channels[i])
                rc = sam_fail_field(SAM_EINVAL, "channels", "a channel is listed twice");
        if(rc)
            break;
        rc = core_channel_get(c, ws, pi->channels[i], &ch);
        if(rc == SAM_ENOTFOUND)
            rc = sam_fail_field(SAM_EINVAL, "channels", "channel %lld is not in this workspace",
                                (long long)pi->channels[i]);
        if(rc)
            break;
        if(!strcmp(ch.kind, "feed") || !strcmp(ch.kind, "jetstream"))
            rc = sam_fail_field(SAM_EINVAL, "channels", "\"%s\" listens; it cannot publish", ch.name);
        core_channel_slots(&ch, s, &ns);
        if(!rc)
            rc = taken_times(c, ch.id, now, &taken, &ntaken);
        if(!rc)
            rc = series_plan(&rule, s, ns, ch.timezone, taken, ntaken, times, SERIES_COPIES_MAX, &cnt);
        if(!rc && cnt == 0)
            rc = sam_fail_field(SAM_EINVAL, "channels", "no slot of \"%s\" fits the series: add slots or widen it",
                                ch.name);
        for(size_t k = 0; !rc && k < cnt; k++) {
            o[n].channel_id = ch.id;
            o[n].planned_at = times[k];
            o[n].variant = (int)k; /* copy k rotates through the text and its variants */
            new_key(o[n].idempotency_key);
            n++;
        }
        free(taken);
        store_channel_cleanup(&ch);
    }
    if(rc)
        goto fail;
    post->workspace_id = ws;
    post->author_id = a->system ? 0 : a->user_id;
    post->text = strdup(pi->text);
    post->link = pi->link && *pi->link ? strdup(pi->link) : NULL;
    post->campaign = pi->campaign && *pi->campaign ? strdup(pi->campaign) : NULL;
    post->variants = variants ? variants : strdup("[]");
    variants = NULL;
    post->override_reason = pi->override_reason && *pi->override_reason ? strdup(pi->override_reason) : NULL;
    snprintf(post->category, sizeof(post->category), "%s", pi->category ? pi->category : "value");
    snprintf(post->state, sizeof(post->state), "scheduled");
    post->created_at = post->updated_at = now;
    series->per_day = rule.per_day;
    series->min_gap_minutes = rule.gap_minutes;
    series->days = in->days;
    series->until_at = in->until;
    series->max_count = in->count;
    series->replace_previous = in->replace_previous;
    series->created_at = now;
    if(!post->text || !post->variants) {
        rc = SAM_ENOMEM;
        goto fail;
    }
    rc = store_series_insert(c->st, post, series, o, n);
    if(rc)
        goto fail;
    json_t *d = json_pack("{s:I, s:I, s:i, s:i, s:b}", "series_id", (json_int_t)series->id, "post_id",
                          (json_int_t)post->id, "copies", (int)n, "per_day", rule.per_day, "replace_previous",
                          in->replace_previous);
    core_audit(c, a, ws, "series.create", post->category, d);
    json_decref(d);
    free(times);
    *occ = o;
    *nocc = n;
    return SAM_OK;
fail:
    free(variants);
    free(times);
    free(o);
    store_post_cleanup(post);
    return rc;
}

json_t *view_series(const struct store_series *s)
{
    json_t *j = json_pack("{s:I, s:I, s:i, s:i, s:b, s:o}", "id", (json_int_t)s->id, "post_id",
                          (json_int_t)s->post_id, "per_day", s->per_day, "min_gap_minutes", s->min_gap_minutes,
                          "replace_previous", s->replace_previous, "created_at", view_time(s->created_at));
    if(!j)
        return NULL;
    if(s->days)
        json_object_set_new(j, "days", json_integer(s->days));
    if(s->until_at)
        json_object_set_new(j, "until", view_time(s->until_at));
    if(s->max_count)
        json_object_set_new(j, "count", json_integer(s->max_count));
    return j;
}

int core_post_get(struct core *c, int64_t ws, int64_t id, struct store_post *out)
{
    int rc = store_post_get(c->st, id, out);
    if(!rc && out->workspace_id != ws) {
        store_post_cleanup(out);
        rc = SAM_ENOTFOUND;
    }
    if(rc == SAM_ENOTFOUND)
        return sam_fail(rc, "post %lld not found", (long long)id);
    return rc;
}

int core_post_edit(struct core *c, const struct actor *a, int64_t ws, int64_t id, const struct post_input *in,
                   struct store_post *out)
{
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    char *variants = NULL;
    int rc = core_post_get(c, ws, id, out);
    if(rc)
        return rc;
    rc = store_occurrence_list(c->st, ws, id, 0, 0, 0, 0, 1000, &occ, &n);
    for(size_t i = 0; !rc && i < n; i++)
        if(!strcmp(occ[i].state, "published") || !strcmp(occ[i].state, "publishing"))
            rc = sam_fail(SAM_ECONFLICT, "the post has already gone out on a channel: write a new post instead");
    free(occ);
    if(!rc && !strcmp(out->state, "cancelled"))
        rc = sam_fail(SAM_ECONFLICT, "the post was cancelled");
    if(!rc)
        rc = check_content(in, &variants);
    if(rc)
        goto fail;
#define REPLACE(field, value)                                                                                  \
    do {                                                                                                       \
        char *v_ = (value) && *(value) ? strdup(value) : NULL;                                                 \
        free(out->field);                                                                                      \
        out->field = v_;                                                                                       \
    } while(0)
    if(in->text)
        REPLACE(text, in->text);
    if(in->link)
        REPLACE(link, in->link);
    if(in->campaign)
        REPLACE(campaign, in->campaign);
#undef REPLACE
    if(variants) {
        free(out->variants);
        out->variants = variants;
        variants = NULL;
    }
    if(in->category)
        snprintf(out->category, sizeof(out->category), "%s", in->category);
    if(!out->text) {
        rc = SAM_ENOMEM;
        goto fail;
    }
    out->updated_at = time_now();
    rc = store_post_update(c->st, out);
    if(rc)
        goto fail;
    json_t *d = json_pack("{s:I}", "post_id", (json_int_t)id);
    core_audit(c, a, ws, "post.edit", out->category, d);
    json_decref(d);
    return SAM_OK;
fail:
    free(variants);
    store_post_cleanup(out);
    return rc;
}

int core_post_cancel(struct core *c, const struct actor *a, int64_t ws, int64_t id)
{
    struct store_post p;
    int rc = core_post_get(c, ws, id, &p);
    if(rc)
        return rc;
    rc = store_post_cancel(c->st, id, time_now());
    if(!rc) {
        json_t *d = json_pack("{s:I}", "post_id", (json_int_t)id);
        core_audit(c, a, ws, "post.cancel", p.category, d);
        json_decref(d);
    }
    store_post_cleanup(&p);
    return rc;
}

char *core_post_text_for(const struct store_post *p, int variant)
{
    json_t *vs;
    size_t n;
    char *out;
    if(variant <= 0)
        return strdup(p->text);
    vs = json_loads(p->variants ? p->variants : "[]", 0, NULL);
    n = json_array_size(vs);
    /* Rotation: 0 is the text, 1..n the variants, then round again. */
    variant %= (int)(n + 1);
    if(variant == 0 || !json_is_string(json_array_get(vs, (size_t)variant - 1)))
        out = strdup(p->text);
    else
        out = strdup(json_string_value(json_array_get(vs, (size_t)variant - 1)));
    json_decref(vs);
    return out;
}

json_t *view_post(const struct store_post *p)
{
    json_t *variants = json_loads(p->variants ? p->variants : "[]", 0, NULL);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s?, s:s, s:s?, s:o, s:s, s:o, s:o}", "id", (json_int_t)p->id,
                          "workspace_id", (json_int_t)p->workspace_id, "text", p->text, "link", p->link,
                          "category", p->category, "campaign", p->campaign, "variants",
                          variants ? variants : json_array(), "state", p->state, "created_at",
                          view_time(p->created_at), "updated_at", view_time(p->updated_at));
    if(o && p->author_id)
        json_object_set_new(o, "author_id", json_integer(p->author_id));
    if(o && p->override_reason)
        json_object_set_new(o, "override_reason", json_string(p->override_reason));
    return o;
}

json_t *view_occurrence(const struct store_occurrence *o)
{
    json_t *j = json_pack("{s:I, s:I, s:I, s:i, s:o, s:s, s:i}", "id", (json_int_t)o->id, "post_id",
                          (json_int_t)o->post_id, "channel_id", (json_int_t)o->channel_id, "variant", o->variant,
                          "planned_at", view_time(o->planned_at), "state", o->state, "attempts", o->attempts);
    if(!j)
        return NULL;
    if(o->remote_id[0])
        json_object_set_new(j, "remote_id", json_string(o->remote_id));
    if(o->remote_url[0])
        json_object_set_new(j, "remote_url", json_string(o->remote_url));
    if(o->last_error[0])
        json_object_set_new(j, "error", json_string(o->last_error));
    if(o->published_at)
        json_object_set_new(j, "published_at", view_time(o->published_at));
    if(o->deleted_at)
        json_object_set_new(j, "deleted_at", view_time(o->deleted_at));
    if(!strcmp(o->state, "scheduled") && o->next_attempt_at > o->planned_at)
        json_object_set_new(j, "next_attempt_at", view_time(o->next_attempt_at));
    if(o->series_id)
        json_object_set_new(j, "series_id", json_integer(o->series_id));
    return j;
}
