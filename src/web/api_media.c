/*
 * api_media.c: images (P16): the upload (a raw image body, ROUTE_UPLOAD, run on the pool so
 * no HTTP thread decodes an image) and the image itself for the composer's preview.
 */
#include "web/api.h"
#include "core/media.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

int api_media_upload(struct web_request *r, struct web_reply *out)
{
    struct store_media m;
    int created = 0;
    int rc = core_media_upload(r->core, &r->actor, r->wid, r->upload, r->upload_len, time_now(), &m, &created);
    if(rc)
        return rc;
    rc = api_reply(out, created ? 201 : 200, view_media(&m));
    store_media_cleanup(&m);
    return rc;
}

/* The image's bytes, as stored (metadata already gone), typed by what it is. */
int api_media_get(struct web_request *r, struct web_reply *out)
{
    struct store_media m;
    int rc = core_media_get(r->core, r->wid, r->id, 1, &m);
    if(rc)
        return rc;
    rc = buf_append(&out->raw, m.data, (size_t)m.bytes);
    if(!rc) {
        /* A string of the view's lifetime: the types are a closed list. */
        out->content_type = !strcmp(m.type, "image/png") ? "image/png" : !strcmp(m.type, "image/gif") ? "image/gif"
                                                                                                     : "image/jpeg";
        out->cache = "private, max-age=86400";
    }
    store_media_cleanup(&m);
    return rc;
}

int api_post_delete(struct web_request *r, struct web_reply *out)
{
    int rc = core_post_delete(r->core, &r->actor, r->wid, r->id, time_now());
    if(rc)
        return rc;
    out->status = 204;
    return SAM_OK;
}
