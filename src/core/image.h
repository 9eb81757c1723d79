/*
 * image.h: the image pipeline of media (PRODUCT.md P16): what an uploaded image becomes
 * before it is stored, and the version of a stored image that fits a network's limits.
 * Pure functions over bytes on libvips; nothing here touches the store or the network.
 *
 * Every image is hostile input (docs/security.md). The type is decided by the first
 * bytes alone (JPEG, PNG, WebP, GIF; never the name or the declared type), and only the
 * four loaders for those types can run: libvips's other loaders (PDF, SVG, ImageMagick,
 * FITS, ...) are blocked for the whole process when the library starts. The header is read
 * before any pixel is decoded, so an image over IMAGE_PIXELS_MAX (a decompression bomb)
 * is refused without decoding it; pixels are read sequentially, libvips keeps no cache
 * of operations, and each operation runs on one thread of libvips's own. A truncated or
 * corrupt image is refused, not half-decoded.
 *
 * What intake makes of an upload (the stored form):
 *   - its orientation applied (EXIF Orientation), its colours in sRGB (an embedded ICC
 *     profile is applied, then dropped), and every piece of metadata gone: EXIF (GPS
 *     location, camera, time), XMP, IPTC, ICC, comments; libvips writes none back;
 *   - the long side at most IMAGE_SIDE_MAX pixels;
 *   - a photo (a JPEG, or anything without transparency that PNG would make larger) as a
 *     JPEG of quality 90; a graphic as PNG when PNG is the smaller (or when it has
 *     transparency);
 *   - an animated GIF stays the GIF it is, frames and timing untouched, with its comment,
 *     plain-text and application blocks (XMP, ICC; NETSCAPE looping is kept) removed by
 *     image_gif_clean, and every frame decoded once to prove it is whole; one over
 *     IMAGE_SIDE_MAX or IMAGE_STORED_MAX becomes a still of its first frame. An animated
 *     WebP becomes a still of its first frame;
 *   - at most IMAGE_STORED_MAX bytes (a larger result is made to fit like a network's
 *     version below).
 * The same bytes always give the same result (libvips's encoders are deterministic), so
 * storing by the SHA-256 of the result keeps one copy of an image uploaded twice.
 *
 * A network's version (image_fit): the stored bytes as they are when they already fit
 * (type allowed, bytes, pixels and sides within the limits); else re-encoded: quality
 * steps down (85, 75, 65, 55), then the size (by the square root of how far the bytes
 * are over, at least 10% a step), until it fits. An animated GIF that may not stay
 * animated becomes its first frame.
 */
#ifndef SAM_IMAGE_H
#define SAM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_PIXELS_MAX 50000000LL     /* width x height (x frames for an animated GIF) */
#define IMAGE_SIDE_MAX 4096             /* pixels of a stored image's long side */
#define IMAGE_STORED_MAX 8000000u       /* bytes of a stored image (under the 8 MiB of an answer) */
#define IMAGE_FRAMES_MAX 1000           /* frames of an animated GIF */
#define IMAGE_INPUT_MAX (20u << 20)     /* bytes of an upload */

enum image_type { IMAGE_NONE = 0, IMAGE_JPEG = 1, IMAGE_PNG = 2, IMAGE_WEBP = 3, IMAGE_GIF = 4 };
#define IMAGE_BIT(t) (1u << (t))

/* An image in memory: data is owned (malloc) and freed by image_cleanup. */
struct image {
    unsigned char *data;
    size_t len;
    int type;                /* enum image_type */
    int width, height;       /* pixels (of one frame) */
    int frames;              /* 1, or the frames of an animated GIF */
};

/* The limits a network puts on an image (zero fields: no limit). */
struct image_limits {
    size_t max_bytes;
    int64_t max_pixels;      /* width x height */
    int max_side;            /* pixels of the long side */
    unsigned types;          /* IMAGE_BIT()s the network takes; 0: JPEG and PNG */
    int animated;            /* 1: an animated GIF may stay animated (GIF must be in types) */
};

/* Starts libvips once for the process (thread-safe; later calls do nothing): blocks
 * every loader but the four, no operation cache, one thread per operation. SAM_EINTERNAL
 * when the library cannot start. Every function below calls it. */
int image_init(void);

/* The type the first bytes say, or IMAGE_NONE. */
int image_type_of(const void *data, size_t len);
/* "image/jpeg", "image/png", "image/webp", "image/gif"; NULL for anything else. */
const char *image_mime(int type);
/* The type of a MIME type as image_mime spells it, or IMAGE_NONE. */
int image_type_of_mime(const char *mime);

/* Turns uploaded bytes into the stored form (above). SAM_EINVAL (field "file") with a
 * message for people when they are not one of the four types, are over the limits, or do
 * not decode; SAM_ETOOBIG (field "file") over IMAGE_INPUT_MAX; SAM_ENOMEM. out is filled
 * on success (image_cleanup frees it) and empty otherwise. */
int image_intake(const void *data, size_t len, struct image *out);

/* A version of the stored image in (as intake made it) within lim (above): a copy of
 * the same bytes when they fit. SAM_EINVAL when it cannot be made to fit (a limit below
 * what a 16-pixel image needs); SAM_ENOMEM. */
int image_fit(const struct image *in, const struct image_limits *lim, struct image *out);

/* Copies a GIF without its comment, plain-text and application extensions (but NETSCAPE2.0
 * and ANIMEXTS1.0 looping blocks) into out (n bytes, at least len), walking its blocks.
 * *written gets the bytes written, *frames the image descriptors, *w and *h the logical
 * screen. SAM_EINVAL when it is not a well-formed GIF (a block that runs past the end, an
 * unknown block, no trailer, a frame outside the screen), or has more than
 * IMAGE_FRAMES_MAX frames. */
int image_gif_clean(const unsigned char *in, size_t len, unsigned char *out, size_t n, size_t *written,
                    int *frames, int *w, int *h);

void image_cleanup(struct image *im);

#endif
