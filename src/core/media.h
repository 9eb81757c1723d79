/*
 * media.h: images on posts (PRODUCT.md P16): the rules between an upload and a post.
 *
 * An upload becomes the stored form (core/image.h: orientation applied, metadata such as
 * EXIF location stripped, at most 4096 pixels a side) and is kept once per workspace by
 * the SHA-256 of those bytes, in the database (docs/architecture.md, "Media"): the same
 * bytes uploaded twice are one image with one id. A post has at most MEDIA_PER_POST_MAX
 * images, each with alt text of at most MEDIA_ALT_MAX characters; a workspace with
 * require_alt_text refuses an image without it (422 naming the image), others get a
 * warning (rule P16) with the post. An image that no post uses goes: with the last post
 * that used it when that post is deleted, or by the sweep, in both cases only once it was
 * last uploaded media_keep_unused_s ago (a composer may be about to attach it).
 */
#ifndef SAM_MEDIA_H
#define SAM_MEDIA_H

#include "core/core.h"
#include "core/image.h"

#define MEDIA_PER_POST_MAX 4
#define MEDIA_ALT_MAX 1000               /* characters */
#define MEDIA_UPLOAD_MAX IMAGE_INPUT_MAX /* bytes of an upload (20 MiB) */
#define MEDIA_KEEP_UNUSED_DEFAULT 86400  /* seconds an unused image is kept after its upload */

/* An image a post names: its id and alt text (borrowed; NULL or "" for none). */
struct media_input {
    int64_t id;
    const char *alt;
};

/* Makes the stored form of an uploaded image and keeps it in workspace ws (audited as
 * media.upload when new). *out gets the image (with its bytes: store_media_cleanup);
 * *created is 1 when it is new, 0 when the same image was there. SAM_EINVAL (field
 * "file") for bytes that are not an image samtale takes; SAM_ETOOBIG over 20 MiB. */
int core_media_upload(struct core *c, const struct actor *a, int64_t ws, const void *data, size_t len, int64_t now,
                      struct store_media *out, int *created);
/* An image of workspace ws (SAM_ENOTFOUND for another's), with its bytes when with_data. */
int core_media_get(struct core *c, int64_t ws, int64_t id, int with_data, struct store_media *out);

/* The images of a post being written, checked, into out (MEDIA_PER_POST_MAX; alt texts
 * borrowed from in): at most MEDIA_PER_POST_MAX, each an image of ws, alt text of at most
 * MEDIA_ALT_MAX characters of UTF-8 without control characters but line breaks, and alt
 * text on each when the workspace requires it (SAM_EINVAL, field "media", naming the
 * image by its place and id). */
int core_media_prepare(struct core *c, int64_t ws, const struct media_input *in, size_t n, struct store_post_media *out,
                       size_t *nout);
/* Appends a warning (rule P16) to violations for each image without alt text. */
void core_media_alt_warnings(const struct store_post_media *pm, size_t n, json_t *violations);

/* The API's objects: an image {"id","sha256","type","width","height","bytes","frames"}; a
 * post's images [{"id","position","alt",... the image}]. New references. */
json_t *view_media(const struct store_media *m);
json_t *view_post_media(const struct store_post_media *pm, size_t n);

/* Deletes a draft, cancelled or failed post of ws (audited), and the images only it used
 * that were last uploaded more than c->media_keep_s ago. SAM_ECONFLICT while something of
 * it is scheduled, in flight or published. */
int core_post_delete(struct core *c, const struct actor *a, int64_t ws, int64_t id, int64_t now);
/* Deletes the images no post uses that were last uploaded more than c->media_keep_s
 * before now, in bounded batches; *n (when not NULL) gets how many went. */
int core_media_sweep(struct core *c, int64_t now, int *n);
/* Makes the workspace require alt text on every image of a post, or not (audited). */
int core_workspace_require_alt(struct core *c, const struct actor *a, int64_t ws, int required);

#endif
