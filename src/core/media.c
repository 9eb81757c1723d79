/* media.c: images on posts (see media.h). */
#include "core/media.h"
#include "core/approval.h"
#include "core/post.h"
#include "util/err.h"
#include "util/log.h"
#include "util/utf8.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_BATCH 100

int core_media_upload(struct core *c, const struct actor *a, int64_t ws, const void *data, size_t len, int64_t now,
                      struct store_media *out, int *created)
{
    struct image im;
    unsigned char hash[crypto_hash_sha256_BYTES];
    int rc;
    memset(out, 0, sizeof(*out));
    *created = 0;
    if(!data || !len)
        return sam_fail_field(SAM_EINVAL, "file", "send the image as the request's body");
    if((rc = image_intake(data, len, &im)))
        return rc;
    if(sodium_init() < 0) {
        image_cleanup(&im);
        return sam_fail(SAM_EINTERNAL, "the crypto library could not start");
    }
    crypto_hash_sha256(hash, im.data, im.len);
    sodium_bin2hex(out->sha256, sizeof(out->sha256), hash, sizeof(hash));
    out->workspace_id = ws;
    snprintf(out->type, sizeof(out->type), "%s", image_mime(im.type));
    out->width = im.width;
    out->height = im.height;
    out->frames = im.frames;
    out->bytes = (int64_t)im.len;
    out->data = im.data;            /* handed over: store_media_cleanup frees it */
    out->created_by = a && !a->system ? a->user_id : 0;
    im.data = NULL;
    rc = store_media_put(c->st, out, now, created);
    if(rc) {
        store_media_cleanup(out);
        return rc;
    }
    if(*created) {
        json_t *d = json_pack("{s:I, s:s, s:s, s:I}", "media_id", (json_int_t)out->id, "sha256", out->sha256, "type",
                              out->type, "bytes", (json_int_t)out->bytes);
        core_audit(c, a, ws, "media.upload", out->sha256, d);
        json_decref(d);
    }
    return SAM_OK;
}

int core_media_get(struct core *c, int64_t ws, int64_t id, int with_data, struct store_media *out)
{
    return store_media_get(c->st, ws, id, with_data, out);
}

/* 1 when alt has something to read (not only spaces). */
static int has_alt(const char *alt)
{
    for(const char *p = alt ? alt : ""; *p; p++)
        if(*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
            return 1;
    return 0;
}

int core_media_prepare(struct core *c, int64_t ws, const struct media_input *in, size_t n, struct store_post_media *out,
                       size_t *nout)
{
    struct store_workspace w;
    int rc;
    *nout = 0;
    if(n == 0)
        return SAM_OK;
    if(n > MEDIA_PER_POST_MAX)
        return sam_fail_field(SAM_EINVAL, "media", "a post has at most %d images", MEDIA_PER_POST_MAX);
    if((rc = store_workspace_get(c->st, ws, &w)))
        return rc;
    for(size_t i = 0; i < n; i++) {
        const char *alt = in[i].alt ? in[i].alt : "";
        long chars = utf8_count(alt, strlen(alt));
        memset(&out[i], 0, sizeof(out[i]));
        if(chars < 0)
            return sam_fail_field(SAM_EINVAL, "media.alt", "the alt text of image %zu is not valid UTF-8", i + 1);
        if(chars > MEDIA_ALT_MAX)
            return sam_fail_field(SAM_EINVAL, "media.alt", "the alt text of image %zu has %ld characters; at most %d",
                                  i + 1, chars, MEDIA_ALT_MAX);
        for(const char *p = alt; *p; p++)
            if(((unsigned char)*p < 0x20 && *p != '\n') || *p == 0x7f)
                return sam_fail_field(SAM_EINVAL, "media.alt", "the alt text of image %zu has a control character",
                                      i + 1);
        if((rc = store_media_get(c->st, ws, in[i].id, 0, &out[i].media)))
            return rc == SAM_ENOTFOUND ? sam_fail_field(SAM_EINVAL, "media", "image %zu (id %lld) is not in this "
                                                        "workspace; upload it first", i + 1, (long long)in[i].id)
                                       : rc;
        if(w.require_alt_text && !has_alt(alt))
            return sam_fail_field(SAM_EINVAL, "media", "image %zu (id %lld) has no alt text; this workspace requires "
                                                       "a description of every image", i + 1, (long long)in[i].id);
        out[i].media_id = in[i].id;
        out[i].position = (int)i;
        out[i].alt = alt;
    }
    *nout = n;
    return SAM_OK;
}

void core_media_alt_warnings(const struct store_post_media *pm, size_t n, json_t *violations)
{
    char msg[300];
    for(size_t i = 0; violations && i < n; i++) {
        json_t *v;
        if(has_alt(pm[i].alt))
            continue;
        snprintf(msg, sizeof(msg), _("Image %zu has no alt text: describe it for people who cannot see it."), i + 1);
        v = json_pack("{s:s, s:s, s:s, s:[], s:I}", "rule", "P16", "severity", "warn", "message", msg, "posts",
                      "media_id", (json_int_t)pm[i].media_id);
        if(v)
            json_array_append_new(violations, v);
    }
}

json_t *view_media(const struct store_media *m)
{
    return json_pack("{s:I, s:s, s:s, s:i, s:i, s:I, s:i}", "id", (json_int_t)m->id, "sha256", m->sha256, "type",
                     m->type, "width", m->width, "height", m->height, "bytes", (json_int_t)m->bytes, "frames",
                     m->frames > 0 ? m->frames : 1);
}

json_t *view_post_media(const struct store_post_media *pm, size_t n)
{
    json_t *list = json_array();
    for(size_t i = 0; list && i < n; i++) {
        json_t *j = view_media(&pm[i].media);
        if(!j)
            continue;
        json_object_set_new(j, "position", json_integer(pm[i].position));
        json_object_set_new(j, "alt", json_string(pm[i].alt ? pm[i].alt : ""));
        json_array_append_new(list, j);
    }
    return list;
}

int core_post_delete(struct core *c, const struct actor *a, int64_t ws, int64_t id, int64_t now)
{
    struct store_post p;
    struct approval_actor aa;
    int removed = 0, rc = core_post_get(c, ws, id, &p);
    if(rc)
        return rc;
    /* P12: an agent deletes only its own posts, as it cancels only its own. */
    rc = core_approval_actor(c, a, ws, &aa);
    if(!rc)
        rc = core_approval_may_change(&aa, a, &p);
    if(!rc)
        rc = store_post_delete(c->st, ws, id, now - (c->media_keep_s > 0 ? c->media_keep_s : 0), &removed);
    if(!rc) {
        json_t *d = json_pack("{s:I, s:s, s:i}", "post_id", (json_int_t)id, "state", p.state, "images_removed",
                              removed);
        core_audit(c, a, ws, "post.delete", p.category, d);
        json_decref(d);
    }
    store_post_cleanup(&p);
    return rc;
}

int core_media_sweep(struct core *c, int64_t now, int *n)
{
    int total = 0, got = 0, rc;
    int64_t before = now - (c->media_keep_s > 0 ? c->media_keep_s : 0);
    do {
        rc = store_media_sweep(c->st, before, SWEEP_BATCH, &got);
        total += got;
    } while(!rc && got == SWEEP_BATCH && total < 100 * SWEEP_BATCH);
    if(total) {
        char num[16];
        snprintf(num, sizeof(num), "%d", total);
        log_kv(LOG_INFO, "unused images removed", "count", num, NULL);
    }
    if(n)
        *n = total;
    return rc;
}

int core_workspace_require_alt(struct core *c, const struct actor *a, int64_t ws, int required)
{
    struct store_workspace w;
    int rc = store_workspace_get(c->st, ws, &w);
    if(rc || w.require_alt_text == (required != 0))
        return rc;
    if((rc = store_workspace_set_require_alt(c->st, ws, required)))
        return rc;
    json_t *d = json_pack("{s:b}", "require_alt_text", required != 0);
    core_audit(c, a, ws, "workspace.require_alt_text", w.name, d);
    json_decref(d);
    return SAM_OK;
}
