/*
 * api_csv.c: posts in and out as CSV files (PRODUCT.md P14; the format is docs/csv.md, the
 * rules core/csv.h): the import, a dry run that lists every row's problems and the checks'
 * findings or the import itself (all rows or none), and the export, streamed as text/csv.
 *
 * A refused import (a problem, or a blocking check without a reason) answers 422 with the
 * report's fields in the error object, as check_blocked carries its violations.
 *
 * The import's body is JSON, {"csv": the file's text, ...}; its route takes bodies up to
 * WEB_BIG_BODY_MAX (a 5 MiB file may double in size as a JSON string) where every other
 * route keeps max_body (server.c).
 */
#include "web/api.h"
#include "core/csv.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_posts_import(struct web_request *r, struct web_reply *out)
{
    static const char *const keys[] = {"csv", "dry_run", "override_reason", "import_id", "images", NULL};
    struct csv_import_options o;
    struct csv_image *given = NULL;
    json_t *csv, *dry, *report = NULL, *images;
    int rc;

    memset(&o, 0, sizeof(o));
    if((rc = api_body_only(r->body, keys)))
        return rc;
    csv = json_object_get(r->body, "csv");
    if(!json_is_string(csv))
        return sam_fail_field(SAM_EINVAL, "csv", "csv must be the text of the file");
    dry = json_object_get(r->body, "dry_run");
    if(dry && !json_is_boolean(dry) && !json_is_null(dry))
        return sam_fail_field(SAM_EINVAL, "dry_run", "dry_run must be true or false");
    if((rc = api_body_str(r->body, "override_reason", 0, &o.override_reason)) ||
       (rc = api_body_str(r->body, "import_id", 0, &o.import_id)))
        return rc;
    o.dry_run = json_is_true(dry);
    /* The images given with the file (P16): {"file name": id of the uploaded image}. */
    images = json_object_get(r->body, "images");
    if(images && !json_is_null(images)) {
        const char *name;
        json_t *id;
        if(!json_is_object(images) || json_object_size(images) > CSV_IMAGES_GIVEN_MAX)
            return sam_fail_field(SAM_EINVAL, "images", "images must map at most %d file names to uploaded images' ids",
                                  CSV_IMAGES_GIVEN_MAX);
        if(!(given = calloc(json_object_size(images) + 1, sizeof(*given))))
            return SAM_ENOMEM;
        json_object_foreach(images, name, id) {
            if(!json_is_integer(id) || json_integer_value(id) <= 0 || !*name || strlen(name) > 255) {
                free(given);
                return sam_fail_field(SAM_EINVAL, "images", "each image is \"file name\": the id an upload answered");
            }
            given[o.nimages].name = name;
            given[o.nimages++].id = json_integer_value(id);
        }
        o.images = given;
    }
    rc = core_csv_import(r->core, &r->actor, r->wid, json_string_value(csv), json_string_length(csv), &o, time_now(),
                         &report);
    free(given);
    if(rc && report) {
        /* Nothing was imported: the report goes in the error object, beside the code and
         * message, as a blocked post's violations do. */
        const char *field = sam_errfield();
        if(field && !strcmp(field, "checks"))
            out->error_code = "check_blocked";
        out->error_extra = report;
        return rc;
    }
    if(rc)
        return rc;
    return api_reply(out, o.dry_run || json_is_true(json_object_get(report, "already_imported")) ? 200 : 201, report);
}

static int export_next(void *state, struct buf *b, int *done)
{
    return core_csv_export_next(state, b, done);
}

static void export_free(void *state)
{
    core_csv_export_free(state);
}

int api_posts_export(struct web_request *r, struct web_reply *out)
{
    static const char *const states[] = {"draft", "scheduled", "published", "failed", "cancelled"};
    struct csv_export_filter f;
    struct core_csv_export *it = NULL;
    char day[32];
    int rc;

    memset(&f, 0, sizeof(f));
    f.sep = ',';
    if(r->query_state) {
        size_t i;
        for(i = 0; i < 5 && strcmp(r->query_state, states[i]); i++)
            ;
        if(i == 5)
            return sam_fail_field(SAM_EBADREQ, "state", "state must be draft, scheduled, published, failed or cancelled");
        f.state = r->query_state;
    }
    if(r->query_from && time_parse_rfc3339(r->query_from, &f.from))
        return sam_fail_field(SAM_EBADREQ, "from", "from must be a time such as 2027-03-01T00:00:00Z");
    if(r->query_to && time_parse_rfc3339(r->query_to, &f.to))
        return sam_fail_field(SAM_EBADREQ, "to", "to must be a time such as 2027-04-01T00:00:00Z");
    if(f.from && f.to && f.to <= f.from)
        return sam_fail_field(SAM_EBADREQ, "to", "to must come after from");
    if(r->query_channel) {
        char *end;
        long long v = strtoll(r->query_channel, &end, 10);
        if(*end || v <= 0)
            return sam_fail_field(SAM_EBADREQ, "channel", "channel must be a channel id");
        f.channel = v;
    }
    if(r->query_separator) {
        if(!strcmp(r->query_separator, "semicolon") || !strcmp(r->query_separator, ";"))
            f.sep = ';';
        else if(strcmp(r->query_separator, "comma") && strcmp(r->query_separator, ","))
            return sam_fail_field(SAM_EBADREQ, "separator", "separator must be comma or semicolon");
    }
    rc = core_csv_export_open(r->core, r->wid, &f, &it);
    if(rc == SAM_EINVAL)
        rc = SAM_EBADREQ; /* a query parameter (channel) names what is not there */
    if(rc)
        return rc;
    time_rfc3339(time_now(), day, sizeof(day));
    day[10] = '\0';
    out->content_type = "text/csv; charset=utf-8";
    snprintf(out->disposition, sizeof(out->disposition), "attachment; filename=\"samtale-posts-%lld-%s.csv\"",
             (long long)r->wid, day);
    out->stream_next = export_next;
    out->stream_free = export_free;
    out->stream_state = it;
    return SAM_OK;
}
