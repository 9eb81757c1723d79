/*
 * api_posts.c: posts, the queue and its checks, series, and engagement counts.
 */
#include "web/api.h"
#include "core/approval.h"
#include "engine/preview.h"
#include "core/post.h"
#include "engine/poller.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- posts and the queue ---- */

#define TIME_MAX_RFC3339 253402300799LL /* 9999-12-31T23:59:59Z */

static json_t *v_post(const void *p) { return view_post(p); }
static int64_t k_post(const void *p) { return ((const struct store_post *)p)->id; }

/* The body's "offers": [{"channel_id", "code"}, ...] into buf (POST_CHANNELS_MAX), codes
 * borrowed from body. */
static int offers_from(json_t *body, struct offer_input *buf, size_t *n)
{
    json_t *list = json_object_get(body, "offers"), *e;
    size_t i;
    *n = 0;
    if(!list || json_is_null(list))
        return SAM_OK;
    if(!json_is_array(list) || json_array_size(list) > POST_CHANNELS_MAX)
        return sam_fail_field(SAM_EINVAL, "offers", "offers must be a list of at most %d {\"channel_id\", \"code\"}",
                              POST_CHANNELS_MAX);
    json_array_foreach(list, i, e) {
        json_t *ch = json_object_get(e, "channel_id"), *code = json_object_get(e, "code");
        if(json_is_string(code) && json_string_length(code) > OFFER_CODE_MAX)
            return sam_fail_field(SAM_EINVAL, "offers.code", "an offer code has %d to %d letters, digits, - or _",
                                  OFFER_CODE_MIN, OFFER_CODE_MAX);
        if(!json_is_object(e) || json_object_size(e) != 2 || !json_is_integer(ch) || json_integer_value(ch) < 1 ||
           !json_is_string(code))
            return sam_fail_field(SAM_EINVAL, "offers", "each offer is {\"channel_id\": a channel of the post, "
                                                        "\"code\": 3 to %d letters, digits, - or _}",
                                  OFFER_CODE_MAX);
        buf[i].channel_id = json_integer_value(ch);
        buf[i].code = json_string_value(code);
    }
    *n = json_array_size(list);
    return SAM_OK;
}

/* The body's "media": [{"id", "alt"?}, ...] into buf (MEDIA_PER_POST_MAX), alt texts
 * borrowed from body; in->media_set when the key is there (null or [] removes them). */
static int media_from(json_t *body, struct media_input *buf, struct post_input *in)
{
    json_t *list = json_object_get(body, "media"), *e;
    size_t i;
    in->media = buf;
    in->nmedia = 0;
    in->media_set = list != NULL;
    if(!list || json_is_null(list))
        return SAM_OK;
    if(!json_is_array(list) || json_array_size(list) > MEDIA_PER_POST_MAX)
        return sam_fail_field(SAM_EINVAL, "media", "media must be a list of at most %d {\"id\", \"alt\"}",
                              MEDIA_PER_POST_MAX);
    json_array_foreach(list, i, e) {
        json_t *id = json_object_get(e, "id"), *alt = json_object_get(e, "alt");
        int rc;
        if(json_is_string(alt) && strlen(json_string_value(alt)) != json_string_length(alt))
            return sam_fail_field(SAM_EINVAL, "media.alt", "an alt text must not contain NUL characters");
        if(json_is_string(alt) && (rc = core_check_length("media.alt", json_string_value(alt), MEDIA_ALT_MAX, 1)))
            return rc;
        if(!json_is_object(e) || !json_is_integer(id) || json_integer_value(id) < 1 ||
           json_object_size(e) != (alt ? 2u : 1u) || (alt && !json_is_null(alt) && !json_is_string(alt)))
            return sam_fail_field(SAM_EINVAL, "media", "each image is {\"id\": an uploaded image's id, \"alt\": its "
                                                       "description}");
        buf[i].id = json_integer_value(id);
        buf[i].alt = json_string_value(alt);
    }
    in->nmedia = json_array_size(list);
    return SAM_OK;
}

/* A post with its occurrences, its offers (P15) and its approval with its history (P12). */
int api_post_json(struct web_request *r, struct store_post *p, json_t **out)
{
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    json_t *j, *list, *appr = NULL;
    int rc = store_occurrence_list(r->core->st, r->wid, p->id, 0, 0, 0, 0, 1000, &occ, &n);
    if(rc)
        return rc;
    j = view_post(p);
    list = json_array();
    for(size_t i = 0; !rc && i < n; i++) {
        json_t *o = view_occurrence(&occ[i]);
        core_occurrence_approval(o, &occ[i], p->approval, time_now());
        if(!json_object_get(o, "approval")) /* waiting for approval: no cap estimate */
            rc = core_occurrence_expect(r->core, &occ[i], time_now(), o);
        json_array_append_new(list, o);
    }
    free(occ);
    if(!rc)
        rc = core_approval_json(r->core, p, &appr);
    if(rc) {
        json_decref(list);
        json_decref(j);
        return rc;
    }
    json_object_set_new(j, "occurrences", list);
    json_object_set_new(j, "approval", appr);
    {
        struct store_post_media *pm = NULL;
        size_t npm = 0;
        rc = store_post_media_list(r->core->st, p->id, 0, &pm, &npm);
        if(rc) {
            json_decref(j);
            return rc;
        }
        json_object_set_new(j, "media", view_post_media(pm, npm));
        store_post_media_list_free(pm, npm);
    }
    {
        struct store_offer *offs = NULL;
        size_t no = 0;
        json_t *ol = json_array();
        rc = store_offer_list_post(r->core->st, p->id, &offs, &no);
        for(size_t i = 0; !rc && i < no; i++)
            json_array_append_new(ol, view_offer(&offs[i]));
        free(offs);
        json_object_set_new(j, "offers", ol);
        if(rc) {
            json_decref(j);
            return rc;
        }
    }
    *out = j;
    return SAM_OK;
}


/* Reads the body of a post create (create 1), edit (0) or the scheduling of a draft (2:
 * the create fields, none required) into in; its images into media (MEDIA_PER_POST_MAX). */
static int post_input_from(json_t *body, int create, struct post_input *in, int64_t *channels,
                           struct media_input *media)
{
    static const char *const keys[] = {"text", "link", "category", "campaign", "variants", "channels", "schedule",
                                       "override_reason", "offers", "media", NULL};
    static const char *const edit_keys[] = {"text", "link", "category", "campaign", "variants", "override_reason",
                                            "media", NULL};
    json_t *v, *sched;
    size_t i;
    int rc;
    memset(in, 0, sizeof(*in));
    if((rc = api_body_only(body, create ? keys : edit_keys)) || (rc = api_body_str(body, "text", create == 1, &in->text)) ||
       (rc = api_body_str(body, "link", 0, &in->link)) || (rc = api_body_str(body, "category", 0, &in->category)) ||
       (rc = api_body_str(body, "campaign", 0, &in->campaign)))
        return rc;
    in->variants = json_object_get(body, "variants");
    if(json_is_null(in->variants))
        in->variants = NULL;
    if((rc = api_body_str(body, "override_reason", 0, &in->override_reason)))
        return rc;
    if((rc = media_from(body, media, in)))
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
    } else if((rc = core_check_length("schedule", json_string_value(sched), CORE_TIME_TEXT_MAX, 1))) {
        return rc;
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

int api_posts_list(struct web_request *r, struct web_reply *out)
{
    static const char *states[] = {"draft", "scheduled", "published", "failed", "cancelled"};
    struct store_post *ps = NULL;
    size_t n = 0, i;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    if(r->query_state) {
        for(i = 0; i < 5 && strcmp(r->query_state, states[i]); i++)
            ;
        if(i == 5)
            return sam_fail_field(SAM_EBADREQ, "state", "state must be draft, scheduled, published, failed or cancelled");
    }
    rc = store_post_list(r->core->st, r->wid, r->query_state, after, limit + 1, &ps, &n);
    if(rc)
        return rc;
    items = api_page_of(ps, n, sizeof(*ps), limit, v_post, k_post);
    store_post_list_free(ps, n);
    return api_reply(out, 200, items);
}

int api_posts_create(struct web_request *r, struct web_reply *out)
{
    struct post_input in;
    int64_t channels[POST_CHANNELS_MAX];
    struct media_input media[MEDIA_PER_POST_MAX];
    struct store_post p;
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    json_t *j = NULL;
    json_t *violations = NULL;
    struct offer_input offers[POST_CHANNELS_MAX];
    int rc = post_input_from(r->body, 1, &in, channels, media);
    if(!rc)
        rc = offers_from(r->body, offers, &in.noffers);
    in.offers = offers;
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
    rc = api_post_json(r, &p, &j);
    store_post_cleanup(&p);
    if(!rc)
        json_object_set_new(j, "violations", violations ? violations : json_array());
    else
        json_decref(violations);
    return rc ? rc : api_reply(out, 201, j);
}

int api_post_get(struct web_request *r, struct web_reply *out)
{
    struct store_post p;
    json_t *j = NULL;
    int rc = core_post_get(r->core, r->wid, r->id, &p);
    if(rc)
        return rc;
    rc = api_post_json(r, &p, &j);
    store_post_cleanup(&p);
    return rc ? rc : api_reply(out, 200, j);
}

int api_post_patch(struct web_request *r, struct web_reply *out)
{
    struct post_input in;
    struct store_post p;
    json_t *j = NULL, *violations = NULL, *sched = json_object_get(r->body, "schedule");
    int rc;
    if(sched && !json_is_null(sched)) {
        /* A draft is scheduled: placed and checked as a new post, keeping its id. */
        int64_t channels[POST_CHANNELS_MAX];
        struct media_input media[MEDIA_PER_POST_MAX];
        struct store_occurrence *occ = NULL;
        size_t n = 0;
        struct offer_input offers[POST_CHANNELS_MAX];
        rc = post_input_from(r->body, 2, &in, channels, media);
        if(!rc)
            rc = offers_from(r->body, offers, &in.noffers);
        in.offers = offers;
        in.draft_id = r->id;
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
        rc = api_post_json(r, &p, &j);
        store_post_cleanup(&p);
        if(!rc)
            json_object_set_new(j, "violations", violations ? violations : json_array());
        else
            json_decref(violations);
        return rc ? rc : api_reply(out, 200, j);
    }
    {
        /* Channels and offer codes come with scheduling a draft (above), not with an edit. */
        struct offer_input offers[POST_CHANNELS_MAX];
        size_t noffers = 0;
        if((rc = offers_from(r->body, offers, &noffers)))
            return rc;
        if(json_object_get(r->body, "offers"))
            return sam_fail_field(SAM_EINVAL, "offers", "offer codes are given when a draft is scheduled (with schedule)");
        if(json_object_get(r->body, "channels"))
            return sam_fail_field(SAM_EINVAL, "channels", "channels are given when a draft is scheduled (with schedule)");
    }
    {
        struct media_input media[MEDIA_PER_POST_MAX];
        rc = post_input_from(r->body, 0, &in, NULL, media);
        if(!rc)
            rc = core_post_edit(r->core, &r->actor, r->wid, r->id, &in, &p, &violations);
    }
    if(rc) {
        if(rc == SAM_EINVAL && sam_errfield() && !strcmp(sam_errfield(), "checks")) {
            out->error_code = "check_blocked";
            out->error_extra = json_pack("{s:o}", "violations", violations ? violations : json_array());
            violations = NULL;
        }
        json_decref(violations);
        return rc;
    }
    rc = api_post_json(r, &p, &j);
    store_post_cleanup(&p);
    if(!rc)
        json_object_set_new(j, "violations", violations ? violations : json_array());
    else
        json_decref(violations);
    return rc ? rc : api_reply(out, 200, j);
}

/* Moves one scheduled occurrence to another time (the calendar's drag and drop), after the
 * checks at its new place. */
int api_occurrence_patch(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"planned_at", "override_reason", NULL};
    const char *at_text = NULL, *reason = NULL;
    struct store_occurrence o;
    json_t *violations = NULL, *j;
    int64_t at = 0;
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "planned_at", 1, &at_text)) ||
       (rc = core_check_length("planned_at", at_text, CORE_TIME_TEXT_MAX, 1)) ||
       (rc = api_body_str(r->body, "override_reason", 0, &reason)))
        return rc;
    if(time_parse_rfc3339(at_text, &at))
        return sam_fail_field(SAM_EINVAL, "planned_at", "planned_at must be a time such as 2027-03-28T09:00:00+02:00");
    if(reason && (rc = core_check_length("override_reason", reason, POST_REASON_MAX, 1)))
        return rc;
    rc = core_occurrence_move(r->core, &r->actor, r->wid, r->id, at, reason, time_now(), &o, &violations);
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
    j = view_occurrence(&o);
    rc = core_occurrence_expect(r->core, &o, time_now(), j);
    if(rc) {
        json_decref(j);
        json_decref(violations);
        return rc;
    }
    return api_reply(out, 200, json_pack("{s:o, s:o}", "occurrence", j, "violations",
                                         violations ? violations : json_array()));
}

/* Cancels one scheduled occurrence (one delivery of a post, such as one copy of a series);
 * the post's other deliveries stay. */
int api_occurrence_cancel(struct web_request *r, struct web_reply *out)
{
    struct store_occurrence o;
    int rc = core_occurrence_cancel(r->core, &r->actor, r->wid, r->id, &o);
    if(rc)
        return rc;
    return api_reply(out, 200, view_occurrence(&o));
}

int api_post_cancel(struct web_request *r, struct web_reply *out)
{
    struct store_post p;
    json_t *j = NULL;
    int rc = core_post_cancel(r->core, &r->actor, r->wid, r->id);
    if(!rc)
        rc = core_post_get(r->core, r->wid, r->id, &p);
    if(rc)
        return rc;
    rc = api_post_json(r, &p, &j);
    store_post_cleanup(&p);
    return rc ? rc : api_reply(out, 200, j);
}

/* The channels of a queue page already looked at: whether each is paused. */
struct paused_seen {
    int64_t id;
    int paused;
};
#define PAUSED_SEEN_MAX 64

/* *paused: whether the queue of channel id is paused, read once per page for the first
 * PAUSED_SEEN_MAX channels in seen (a page holds few), each time for more. A channel gone
 * meanwhile is not paused. */
static int channel_paused(struct web_request *r, struct paused_seen *seen, size_t *nseen, int64_t id, int *paused)
{
    struct store_channel ch;
    int rc;
    for(size_t i = 0; i < *nseen; i++)
        if(seen[i].id == id) {
            *paused = seen[i].paused;
            return SAM_OK;
        }
    *paused = 0;
    rc = store_channel_get(r->core->st, id, &ch);
    if(rc == SAM_ENOTFOUND)
        return SAM_OK;
    if(rc)
        return rc;
    *paused = ch.paused_at != 0;
    store_channel_cleanup(&ch);
    if(*nseen < PAUSED_SEEN_MAX) {
        seen[*nseen].id = id;
        seen[*nseen].paused = *paused;
        (*nseen)++;
    }
    return SAM_OK;
}

/* The queue between ?from and ?to (RFC 3339; default: from a day ago for 31 days), a page
 * at a time (?limit, ?cursor): each occurrence with its post's text, category and
 * campaign (and a series copy with its place in the series), for the calendar, in time
 * order. The posts come with the occurrences, in the page's one query. */
int api_queue(struct web_request *r, struct web_reply *out)
{
    struct store_occurrence_post *occ = NULL;
    struct paused_seen seen[PAUSED_SEEN_MAX];
    size_t n = 0, shown, nseen = 0;
    int64_t from = time_now() - 86400, to, channel = 0, after;
    json_t *items, *page;
    int limit, rc;
    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    if(r->query_from && time_parse_rfc3339(r->query_from, &from))
        return sam_fail_field(SAM_EBADREQ, "from", "from must be a time such as 2027-03-01T00:00:00Z");
    to = from + 31 * 86400;
    if(r->query_to && time_parse_rfc3339(r->query_to, &to))
        return sam_fail_field(SAM_EBADREQ, "to", "to must be a time such as 2027-04-01T00:00:00Z");
    if(to <= from || to - from > 93 * 86400)
        return sam_fail_field(SAM_EBADREQ, "to", "to must come after from, at most 93 days later");
    /* The answer writes both back as RFC 3339, which has years 0000-9999; nothing is planned
     * before 1970. */
    if(from < 0 || to > TIME_MAX_RFC3339)
        return sam_fail_field(SAM_EBADREQ, from < 0 ? "from" : "to", "the range must lie between 1970 and 9999");
    if(r->query_channel) {
        char *end;
        channel = strtoll(r->query_channel, &end, 10);
        if(*end || channel <= 0)
            return sam_fail_field(SAM_EBADREQ, "channel", "channel must be a channel id");
    }
    rc = store_occurrence_page(r->core->st, r->wid, channel, from, to, after, limit + 1, &occ, &n);
    if(rc)
        return rc;
    items = json_array();
    shown = n > (size_t)limit ? (size_t)limit : n;
    for(size_t i = 0; items && i < shown; i++) {
        struct store_post p;
        json_t *j = view_occurrence(&occ[i].occ);
        char *text;
        int paused = 0;
        if(!strcmp(occ[i].occ.state, "scheduled") &&
           (rc = channel_paused(r, seen, &nseen, occ[i].occ.channel_id, &paused))) {
            json_decref(j);
            json_decref(items);
            store_occurrence_posts_free(occ, n);
            return rc;
        }
        if(paused)
            core_occurrence_paused(j);
        memset(&p, 0, sizeof(p));
        p.text = occ[i].text;
        p.variants = occ[i].variants;
        text = core_post_text_for(&p, occ[i].occ.variant);
        json_object_set_new(j, "text", json_string(text ? text : p.text));
        json_object_set_new(j, "category", json_string(occ[i].category));
        if(occ[i].campaign && occ[i].campaign[0])
            json_object_set_new(j, "campaign", json_string(occ[i].campaign));
        if(occ[i].occ.series_id) {
            if(occ[i].series_copy)
                json_object_set_new(j, "series_copy", json_integer(occ[i].series_copy));
            json_object_set_new(j, "series_total", json_integer(occ[i].series_total));
        }
        core_occurrence_approval(j, &occ[i].occ, occ[i].approval, time_now()); /* P12: the calendar's mark */
        free(text);
        json_array_append_new(items, j);
    }
    page = items ? api_page_json(items, n > (size_t)limit, shown ? occ[shown - 1].occ.id : 0) : NULL;
    store_occurrence_posts_free(occ, n);
    if(page) {
        json_object_set_new(page, "from", view_time(from));
        json_object_set_new(page, "to", view_time(to));
    }
    return api_reply(out, 200, page);
}

/* The composer's live checks: a post as for create, or with "post_id" the content of an
 * edit of that post, checked where its copies are planned (what PATCH would find). */
int api_check(struct web_request *r, struct web_reply *out)
{
    struct post_input in;
    int64_t channels[POST_CHANNELS_MAX];
    struct media_input media[MEDIA_PER_POST_MAX];
    json_t *violations = NULL, *id = json_object_get(r->body, "post_id");
    int blocked = 0;
    struct offer_input offers[POST_CHANNELS_MAX];
    int rc;
    if(id) {
        json_t *edit;
        if(!json_is_integer(id) || json_integer_value(id) <= 0)
            return sam_fail_field(SAM_EINVAL, "post_id", "post_id must be the id of a post");
        if(json_object_get(r->body, "channels") || json_object_get(r->body, "schedule"))
            return sam_fail_field(SAM_EINVAL, "post_id", "with post_id the post is checked where its copies are "
                                                         "planned: leave out channels and schedule");
        /* The rest of the body is an edit, as for PATCH. */
        if(!(edit = json_deep_copy(r->body)))
            return SAM_ENOMEM;
        json_object_del(edit, "post_id");
        rc = post_input_from(edit, 0, &in, NULL, media);
        if(!rc)
            rc = core_post_check_edit(r->core, &r->actor, r->wid, json_integer_value(id), &in, &violations,
                                      &blocked);
        json_decref(edit);
    } else {
        rc = post_input_from(r->body, 1, &in, channels, media);
        if(!rc)
            rc = offers_from(r->body, offers, &in.noffers);
        in.offers = offers;
        if(!rc)
            rc = core_post_check(r->core, r->wid, &in, time_now(), &violations, &blocked);
    }
    if(rc)
        return rc;
    return api_reply(out, 200, json_pack("{s:o, s:b}", "violations", violations, "blocked", blocked));
}

int api_queue_check(struct web_request *r, struct web_reply *out)
{
    json_t *violations = NULL;
    int rc = core_queue_check(r->core, r->wid, time_now(), &violations);
    if(rc)
        return rc;
    return api_reply(out, 200, json_pack("{s:o}", "violations", violations));
}

/* ---- series (P3) ---- */

static json_t *v_series(const void *p) { return view_series(p); }
static int64_t k_series(const void *p) { return ((const struct store_series *)p)->id; }

int api_series_create(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"text", "link", "category", "campaign", "variants", "channels", "per_day",
                                       "min_gap_hours", "days", "until", "count", "replace_previous", "start",
                                       "override_reason", "dry_run", NULL};
    struct series_input in;
    int64_t channels[POST_CHANNELS_MAX];
    struct store_post p;
    struct store_series s;
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    json_t *j = NULL, *copy, *v, *plan = NULL, *violations = NULL;
    const char *until = NULL, *start = NULL;
    int gap_h = 0, rc;

    if((rc = api_body_only(r->body, keys)))
        return rc;
    memset(&in, 0, sizeof(in));
    /* The post fields are read as for a post; the series fields are taken out first. */
    copy = json_deep_copy(r->body);
    for(size_t i = 6; keys[i]; i++)
        if(strcmp(keys[i], "override_reason"))
            json_object_del(copy, keys[i]);
    {
        struct media_input media[MEDIA_PER_POST_MAX];
        json_object_del(copy, "media"); /* a series takes no images (yet): refused above */
        rc = post_input_from(copy, 1, &in.post, channels, media);
        in.post.media = NULL;
        in.post.nmedia = 0;
        in.post.media_set = 0;
    }
    if(!rc && in.post.schedule != POST_DRAFT)
        rc = sam_fail_field(SAM_EINVAL, "schedule", "a series plans its own times: leave out schedule");
    if(!rc)
        rc = api_int_field(r->body, "per_day", 1, 48, &in.per_day);
    if(!rc)
        rc = api_int_field(r->body, "min_gap_hours", 0, 168, &gap_h);
    if(!rc)
        rc = api_int_field(r->body, "days", 1, 366, &in.days);
    if(!rc)
        rc = api_int_field(r->body, "count", 1, SERIES_COPIES_MAX, &in.count);
    if(!rc)
        rc = api_body_str(r->body, "until", 0, &until);
    if(!rc)
        rc = api_body_str(r->body, "start", 0, &start);
    if(!rc && until)
        rc = core_check_length("until", until, CORE_TIME_TEXT_MAX, 1);
    if(!rc && start)
        rc = core_check_length("start", start, CORE_TIME_TEXT_MAX, 1);
    if(!rc && until && time_parse_rfc3339(until, &in.until))
        rc = sam_fail_field(SAM_EINVAL, "until", "until must be a time such as 2027-01-31T23:59:00+01:00");
    if(!rc && start && time_parse_rfc3339(start, &in.start))
        rc = sam_fail_field(SAM_EINVAL, "start", "start must be a time such as 2027-01-01T00:00:00+01:00");
    v = json_object_get(r->body, "replace_previous");
    if(!rc && v && !json_is_boolean(v))
        rc = sam_fail_field(SAM_EINVAL, "replace_previous", "replace_previous must be true or false");
    in.replace_previous = json_is_true(v);
    v = json_object_get(r->body, "dry_run");
    if(!rc && v && !json_is_boolean(v))
        rc = sam_fail_field(SAM_EINVAL, "dry_run", "dry_run must be true or false");
    in.dry_run = json_is_true(v);
    in.gap_minutes = json_object_get(r->body, "min_gap_hours") ? gap_h * 60 : 0;
    if(!rc && json_object_get(r->body, "min_gap_hours") && gap_h == 0)
        in.gap_minutes = 1; /* 0 hours: any gap, but never the same minute */
    if(!rc)
        rc = core_series_create(r->core, &r->actor, r->wid, &in, time_now(), &p, &s, &occ, &n, &plan, &violations);
    json_decref(copy);
    if(rc) {
        if(rc == SAM_EINVAL && sam_errfield() && !strcmp(sam_errfield(), "checks"))
            out->error_code = "check_blocked";
        return rc;
    }
    free(occ);
    if(in.dry_run) /* nothing stored: what would be planned, and what the checks say */
        return api_reply(out, 200, json_pack("{s:b, s:o, s:o}", "dry_run", 1, "plan", plan, "violations",
                                             violations ? violations : json_array()));
    rc = api_post_json(r, &p, &j);
    store_post_cleanup(&p);
    if(rc) {
        json_decref(plan);
        json_decref(violations);
        return rc;
    }
    return api_reply(out, 201, json_pack("{s:o, s:o, s:o, s:o}", "series", view_series(&s), "post", j, "plan", plan,
                                         "violations", violations ? violations : json_array()));
}

int api_series_list(struct web_request *r, struct web_reply *out)
{
    struct store_series *ss = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t after;
    json_t *items;
    if((rc = api_page_params(r, &limit, &after)))
        return rc;
    rc = store_series_list(r->core->st, r->wid, after, limit + 1, &ss, &n);
    if(rc)
        return rc;
    items = api_page_of(ss, n, sizeof(*ss), limit, v_series, k_series);
    free(ss);
    return api_reply(out, 200, items);
}

/* ---- engagement (M6) ---- */

int api_post_engagement(struct web_request *r, struct web_reply *out)
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
    return api_reply(out, 200, json_pack("{s:o}", "items", items));
}

int api_post_engagement_refresh(struct web_request *r, struct web_reply *out)
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
    if((rc = api_post_engagement(r, out)))
        return rc;
    json_object_set_new(out->json, "fetched", json_integer(fetched));
    json_object_set_new(out->json, "failed", json_integer(failed));
    return SAM_OK;
}

/* ---- channel-exclusive offers (P15) ---- */

static json_t *v_offer(const void *p) { return view_offer(p); }
static int64_t k_offer(const void *p) { return ((const struct store_offer *)p)->id; }

/* The workspace's offer codes, newest first, with the channel each names and when it went
 * out there: what an order's code is looked up in. */
int api_offers_list(struct web_request *r, struct web_reply *out)
{
    struct store_offer *items = NULL;
    size_t n = 0;
    int limit, rc;
    int64_t before;
    json_t *page;
    if((rc = api_page_params(r, &limit, &before)))
        return rc;
    rc = store_offer_list(r->core->st, r->wid, before, limit + 1, &items, &n);
    if(rc)
        return rc;
    page = api_page_of(items, n, sizeof(*items), limit, v_offer, k_offer);
    free(items);
    return api_reply(out, 200, page);
}

/* ---- previews (P2) ---- */

/* The post as it will look on each channel: parts, marks and the link's card. It reads
 * the link's page, so it runs on the worker pool (ROUTE_NET), bounded in time. */
int api_preview(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"text", "link", "channels", "images", NULL};
    const char *text = NULL, *link = NULL;
    int64_t channels[POST_CHANNELS_MAX];
    json_t *list, *e, *j = NULL, *images = json_object_get(r->body, "images");
    size_t i, n = 0;
    int rc;
    if((rc = api_body_only(r->body, keys)) || (rc = api_body_str(r->body, "text", 1, &text)) ||
       (rc = core_check_length("text", text, POST_TEXT_MAX, 1)) || (rc = api_body_str(r->body, "link", 0, &link)) ||
       (link && (rc = core_check_length("link", link, CORE_URL_MAX, 0))))
        return rc;
    if(link && *link && strncmp(link, "https://", 8) && strncmp(link, "http://", 7))
        return sam_fail_field(SAM_EINVAL, "link", "link must be an http:// or https:// address");
    list = json_object_get(r->body, "channels");
    if(!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > POST_CHANNELS_MAX)
        return sam_fail_field(SAM_EINVAL, "channels", "channels must be a list of 1 to %d channel ids", POST_CHANNELS_MAX);
    json_array_foreach(list, i, e) {
        if(!json_is_integer(e) || json_integer_value(e) <= 0)
            return sam_fail_field(SAM_EINVAL, "channels", "channels must be a list of channel ids");
        channels[n++] = json_integer_value(e);
    }
    if(images && (!json_is_integer(images) || json_integer_value(images) < 0 ||
                  json_integer_value(images) > MEDIA_PER_POST_MAX))
        return sam_fail_field(SAM_EINVAL, "images", "images is how many images the post has, 0 to %d",
                              MEDIA_PER_POST_MAX);
    rc = preview_build(r->core, r->wid, text, link, images ? (int)json_integer_value(images) : 0, channels, n,
                       web_net_timeout_ms(r->web), &j);
    return rc ? rc : api_reply(out, 200, j);
}
