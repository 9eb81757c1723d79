/*
 * image.c: the image pipeline on libvips (see image.h). The only file that includes
 * vips.h. Its invariants:
 *   - libvips starts once (pthread_once) with every loader blocked but JPEG, PNG, WebP and
 *     GIF, no operation cache (it would keep our buffers and images alive), and one
 *     worker thread per operation;
 *   - at most IMAGE_WORK_MAX images are worked on at once in the process (a counting
 *     gate): each holds at most one decoded image of at most IMAGE_SIDE_MAX squared
 *     pixels in memory (67 MB with four bands), so memory stays bounded whoever asks;
 *   - a loader is called by its own name for the type the magic bytes gave, and the
 *     header (width, height, frames) is checked before any pixel is decoded;
 *   - what libvips allocates (g_malloc) is copied into malloc'd memory before it leaves.
 */
#include "core/image.h"
#include "util/err.h"
#include "util/i18n.h"
#include "util/log.h"

#include <vips/vips.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_WORK_MAX 2           /* images worked on at once */
#define JPEG_QUALITY 90            /* of a stored photo */
#define FIT_STEPS 12               /* sizes tried by image_fit */
#define FIT_SIDE_MIN 16            /* pixels: smaller than this is not worth sending */

/* ---- starting libvips ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = SAM_EINTERNAL;

static void quiet(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)domain;
    (void)level;
    (void)data;
    /* libvips warns about damaged images on stderr; they are refused or logged here. */
    log_kv(LOG_DEBUG, "libvips", "message", message, NULL);
}

static void start(void)
{
    static const char *const allowed[] = {"VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp",
                                          "VipsForeignLoadNsgif", NULL};
    if(VIPS_INIT("samtale")) {
        log_kv(LOG_ERROR, "libvips did not start", "error", vips_error_buffer(), NULL);
        vips_error_clear();
        return;
    }
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO, quiet, NULL);
    g_log_set_handler("GLib-GObject", G_LOG_LEVEL_WARNING, quiet, NULL);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_concurrency_set(1);
    vips_block_untrusted_set(TRUE);
    /* Every loader off, then the four back on (a class's state goes to its subclasses,
     * the buffer and source loaders among them). */
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for(size_t i = 0; allowed[i]; i++)
        vips_operation_block_set(allowed[i], FALSE);
    init_rc = SAM_OK;
}

int image_init(void)
{
    pthread_once(&init_once, start);
    return init_rc == SAM_OK ? SAM_OK : sam_fail(SAM_EINTERNAL, "the image library could not start");
}

/* ---- the gate: at most IMAGE_WORK_MAX images at once ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_busy;

static void gate_enter(void)
{
    pthread_mutex_lock(&gate_mu);
    while(gate_busy >= IMAGE_WORK_MAX)
        pthread_cond_wait(&gate_cv, &gate_mu);
    gate_busy++;
    pthread_mutex_unlock(&gate_mu);
}

static void gate_leave(void)
{
    pthread_mutex_lock(&gate_mu);
    gate_busy--;
    pthread_cond_signal(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

/* ---- types ---- */

int image_type_of(const void *data, size_t len)
{
    const unsigned char *b = data;
    if(!b)
        return IMAGE_NONE;
    if(len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return IMAGE_JPEG;
    if(len >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return IMAGE_PNG;
    if(len >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6)))
        return IMAGE_GIF;
    if(len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
        return IMAGE_WEBP;
    return IMAGE_NONE;
}

const char *image_mime(int type)
{
    switch(type) {
    case IMAGE_JPEG: return "image/jpeg";
    case IMAGE_PNG: return "image/png";
    case IMAGE_WEBP: return "image/webp";
    case IMAGE_GIF: return "image/gif";
    default: return NULL;
    }
}

int image_type_of_mime(const char *mime)
{
    for(int t = IMAGE_JPEG; t <= IMAGE_GIF; t++)
        if(mime && !strcmp(mime, image_mime(t)))
            return t;
    return IMAGE_NONE;
}

void image_cleanup(struct image *im)
{
    if(!im)
        return;
    free(im->data);
    memset(im, 0, sizeof(*im));
}

/* ---- GIF blocks ---- */

static unsigned le16(const unsigned char *p)
{
    return (unsigned)p[0] | ((unsigned)p[1] << 8);
}

/* Skips the data sub-blocks at in[*i] (each a length byte and that many bytes, ended by
 * a 0), copying them to out when keep. 0 when they run past the end. */
static int sub_blocks(const unsigned char *in, size_t len, size_t *i, unsigned char *out, size_t *o, int keep)
{
    for(;;) {
        size_t k;
        if(*i >= len)
            return 0;
        k = in[*i];
        if(*i + 1 + k > len)
            return 0;
        if(keep) {
            memcpy(out + *o, in + *i, 1 + k);
            *o += 1 + k;
        }
        *i += 1 + k;
        if(k == 0)
            return 1;
    }
}

int image_gif_clean(const unsigned char *in, size_t len, unsigned char *out, size_t n, size_t *written,
                    int *frames, int *w, int *h)
{
    size_t i = 13, o = 0, table;
    *written = 0;
    *frames = 0;
    *w = *h = 0;
    if(!in || !out || n < len || len < 14 || image_type_of(in, len) != IMAGE_GIF)
        return sam_fail_field(SAM_EINVAL, "file", "the GIF is damaged");
    *w = (int)le16(in + 6);
    *h = (int)le16(in + 8);
    table = (in[10] & 0x80) ? 3u * (2u << (in[10] & 7)) : 0;
    if(*w == 0 || *h == 0 || i + table > len)
        return sam_fail_field(SAM_EINVAL, "file", "the GIF is damaged");
    memcpy(out, in, i + table);
    o = i + table;
    i += table;
    while(i < len) {
        unsigned char kind = in[i];
        if(kind == 0x3b) {              /* trailer: whatever follows it is dropped */
            out[o++] = kind;
            *written = o;
            return *frames ? SAM_OK : sam_fail_field(SAM_EINVAL, "file", "the GIF has no image in it");
        }
        if(kind == 0x2c) {              /* an image: descriptor, local table, LZW data */
            unsigned left, top, fw, fh;
            size_t start = i;
            if(i + 10 > len)
                break;
            left = le16(in + i + 1);
            top = le16(in + i + 3);
            fw = le16(in + i + 5);
            fh = le16(in + i + 7);
            table = (in[i + 9] & 0x80) ? 3u * (2u << (in[i + 9] & 7)) : 0;
            if(fw == 0 || fh == 0 || left + fw > (unsigned)*w || top + fh > (unsigned)*h)
                return sam_fail_field(SAM_EINVAL, "file", "a frame of the GIF lies outside its picture");
            i += 10 + table;
            if(i >= len || in[i] < 1 || in[i] > 11)
                break;
            i++;
            memcpy(out + o, in + start, i - start);
            o += i - start;
            if(!sub_blocks(in, len, &i, out, &o, 1))
                break;
            if(++*frames > IMAGE_FRAMES_MAX)
                return sam_fail_field(SAM_EINVAL, "file", "the GIF has more than %d frames", IMAGE_FRAMES_MAX);
            continue;
        }
        if(kind == 0x21) {              /* an extension: label, then sub-blocks */
            unsigned char label;
            int keep;
            if(i + 2 > len)
                break;
            label = in[i + 1];
            keep = label == 0xf9;       /* graphic control: delays, disposal, transparency */
            if(label == 0xff)           /* application: only the looping blocks stay */
                keep = i + 14 <= len && in[i + 2] == 11 &&
                       (!memcmp(in + i + 3, "NETSCAPE2.0", 11) || !memcmp(in + i + 3, "ANIMEXTS1.0", 11));
            if(keep) {
                memcpy(out + o, in + i, 2);
                o += 2;
            }
            i += 2;
            if(!sub_blocks(in, len, &i, out, &o, keep))
                break;
            continue;
        }
        return sam_fail_field(SAM_EINVAL, "file", "the GIF is damaged");
    }
    return sam_fail_field(SAM_EINVAL, "file", "the GIF is damaged or cut short");
}

/* ---- decoding ---- */

/* The loader for type over data: the header only until pixels are asked for. n is the
 * pages a GIF or WebP loads (1, or -1 for all); shrink a JPEG's shrink-on-load (1, 2, 4,
 * 8). NULL (and the libvips error cleared) when it fails. */
static VipsImage *load(int type, const void *data, size_t len, int n, int shrink)
{
    VipsImage *im = NULL;
    void *buf = (void *)data; /* libvips reads it and never writes */
    int r = -1;
    switch(type) {
    case IMAGE_JPEG:
        r = vips_jpegload_buffer(buf, len, &im, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED,
                                 "shrink", shrink, NULL);
        break;
    case IMAGE_PNG:
        r = vips_pngload_buffer(buf, len, &im, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED,
                                NULL);
        break;
    case IMAGE_WEBP:
        r = vips_webpload_buffer(buf, len, &im, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED,
                                 "n", n, NULL);
        break;
    case IMAGE_GIF:
        r = vips_gifload_buffer(buf, len, &im, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED,
                                "n", n, NULL);
        break;
    default:
        break;
    }
    if(r) {
        vips_error_clear();
        return NULL;
    }
    return im;
}

/* Frees the images of a chain (NULLs skipped). */
static void unref_all(VipsImage **ims, size_t n)
{
    for(size_t i = 0; i < n; i++)
        if(ims[i])
            g_object_unref(ims[i]);
}

/* Decodes page 0 of data (type) into memory: at most side pixels on the long side,
 * upright, sRGB, 8 bits a band, with an alpha band only when some pixel is not opaque.
 * *out is a new reference (g_object_unref). SAM_EINVAL (field "file") when it does not
 * decode. The header must have been checked against IMAGE_PIXELS_MAX. */
static int decode_still(int type, const void *data, size_t len, int side, VipsImage **out)
{
    VipsImage *c[8] = {0};
    VipsImage *im;
    int shrink = 1, w, h, k = 0, rc = SAM_OK;
    double scale;
    *out = NULL;
    if(!(c[k++] = im = load(type, data, len, 1, 1)))
        return sam_fail_field(SAM_EINVAL, "file", "the image cannot be read: it is damaged or cut short");
    w = vips_image_get_width(im);
    h = vips_image_get_height(im);
    if(type == IMAGE_JPEG) {
        /* Shrink while decoding (a quarter of the work per halving), staying above side. */
        while(shrink < 8 && (w > h ? w : h) / (shrink * 2) >= side)
            shrink *= 2;
        if(shrink > 1) {
            g_object_unref(im);
            if(!(c[0] = im = load(type, data, len, 1, shrink))) {
                rc = sam_fail_field(SAM_EINVAL, "file", "the image cannot be read: it is damaged or cut short");
                goto out;
            }
            w = vips_image_get_width(im);
            h = vips_image_get_height(im);
        }
    }
    scale = (double)side / (double)(w > h ? w : h);
    if(scale < 1.0) {
        if(vips_resize(im, &c[k], scale, NULL))
            goto bad;
        im = c[k++];
    }
    /* One pass over the pixels into memory: the decoding happens here, truncation shows. */
    if(!(c[k] = vips_image_copy_memory(im)))
        goto bad;
    im = c[k++];
    if(vips_autorot(im, &c[k], NULL))
        goto bad;
    im = c[k++];
    if(vips_image_get_typeof(im, VIPS_META_ICC_NAME) &&
       !vips_icc_transform(im, &c[k], "srgb", "embedded", TRUE, "intent", VIPS_INTENT_PERCEPTUAL, NULL)) {
        im = c[k++];
    } else {
        vips_error_clear();
        if(vips_image_get_interpretation(im) != VIPS_INTERPRETATION_sRGB) {
            if(vips_colourspace(im, &c[k], VIPS_INTERPRETATION_sRGB, NULL))
                goto bad;
            im = c[k++];
        }
    }
    if(vips_image_get_format(im) != VIPS_FORMAT_UCHAR) {
        if(vips_cast(im, &c[k], VIPS_FORMAT_UCHAR, "shift", vips_image_get_format(im) == VIPS_FORMAT_USHORT, NULL))
            goto bad;
        im = c[k++];
    }
    if(vips_image_hasalpha(im)) {
        /* A transparency band that is opaque everywhere goes: it only makes files larger. */
        VipsImage *alpha = NULL;
        double min = 0;
        int bands = vips_image_get_bands(im);
        if(vips_extract_band(im, &alpha, bands - 1, NULL) || vips_min(alpha, &min, NULL)) {
            if(alpha)
                g_object_unref(alpha);
            goto bad;
        }
        g_object_unref(alpha);
        if(min >= 255) {
            if(vips_extract_band(im, &c[k], 0, "n", bands - 1, NULL))
                goto bad;
            im = c[k++];
        }
    }
    /* The result stands alone: its own memory, no reference to data. */
    if(!(*out = vips_image_copy_memory(im)))
        goto bad;
    goto out;
bad:
    vips_error_clear();
    rc = sam_fail_field(SAM_EINVAL, "file", "the image cannot be read: it is damaged or cut short");
out:
    unref_all(c, sizeof(c) / sizeof(c[0]));
    return rc;
}

/* The header of data: its size, and the frames of a GIF or WebP. */
static int header(int type, const void *data, size_t len, int *w, int *h, int *pages)
{
    VipsImage *im = load(type, data, len, 1, 1);
    if(!im)
        return sam_fail_field(SAM_EINVAL, "file", "the image cannot be read: it is damaged or cut short");
    *w = vips_image_get_width(im);
    *h = vips_image_get_height(im);
    *pages = (type == IMAGE_GIF || type == IMAGE_WEBP) ? vips_image_get_n_pages(im) : 1;
    g_object_unref(im);
    if(*pages < 1)
        *pages = 1;
    if(*w < 1 || *h < 1 || (int64_t)*w * *h > IMAGE_PIXELS_MAX)
        return sam_fail_field(SAM_EINVAL, "file",
                              "the image is %d x %d pixels; samtale takes images of at most 50 million pixels", *w, *h);
    return SAM_OK;
}

/* ---- encoding ---- */

/* Copies a libvips buffer into out (malloc). */
static int take_buffer(void *buf, size_t len, int type, int w, int h, struct image *out)
{
    memset(out, 0, sizeof(*out));
    out->data = malloc(len ? len : 1);
    if(!out->data) {
        g_free(buf);
        return SAM_ENOMEM;
    }
    memcpy(out->data, buf, len);
    g_free(buf);
    out->len = len;
    out->type = type;
    out->width = w;
    out->height = h;
    out->frames = 1;
    return SAM_OK;
}

/* Encodes im as type (JPEG at quality q, alpha flattened onto white; or PNG), without
 * metadata. */
static int encode(VipsImage *im, int type, int q, struct image *out)
{
    VipsImage *flat = NULL;
    void *buf = NULL;
    size_t len = 0;
    int r;
    if(type == IMAGE_JPEG) {
        if(vips_image_hasalpha(im)) {
            VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
            r = vips_flatten(im, &flat, "background", white, NULL);
            vips_area_unref(VIPS_AREA(white));
            if(r) {
                vips_error_clear();
                return sam_fail(SAM_EINTERNAL, "an image could not be encoded");
            }
            im = flat;
        }
        r = vips_jpegsave_buffer(im, &buf, &len, "Q", q, "strip", TRUE, "optimize_coding", TRUE, NULL);
    } else {
        r = vips_pngsave_buffer(im, &buf, &len, "compression", 9, "strip", TRUE, NULL);
    }
    if(flat)
        g_object_unref(flat);
    if(r) {
        vips_error_clear();
        return sam_fail(SAM_EINTERNAL, "an image could not be encoded");
    }
    return take_buffer(buf, len, type, vips_image_get_width(im), vips_image_get_height(im), out);
}

/* im resized by scale (<= 1) into *out (a new reference). */
static int scaled(VipsImage *im, double scale, VipsImage **out)
{
    *out = NULL;
    if(scale >= 1.0) {
        g_object_ref(im);
        *out = im;
        return SAM_OK;
    }
    if(vips_resize(im, out, scale, NULL)) {
        vips_error_clear();
        return sam_fail(SAM_EINTERNAL, "an image could not be resized");
    }
    return SAM_OK;
}

/* Fits a decoded image (upright, sRGB) to lim: PNG first when prefer_png and PNG is
 * allowed, then JPEG at falling qualities, then smaller. */
static int fit_decoded(VipsImage *im, const struct image_limits *lim, int prefer_png, struct image *out)
{
    static const int qualities[] = {85, 75, 65, 55};
    unsigned types = lim->types ? lim->types : IMAGE_BIT(IMAGE_JPEG) | IMAGE_BIT(IMAGE_PNG);
    int w = vips_image_get_width(im), h = vips_image_get_height(im), rc;
    double scale = 1.0;
    size_t last = 0;
    if(lim->max_side > 0 && (w > lim->max_side || h > lim->max_side))
        scale = (double)lim->max_side / (double)(w > h ? w : h);
    if(lim->max_pixels > 0 && (int64_t)w * h > lim->max_pixels) {
        double s = sqrt((double)lim->max_pixels / ((double)w * h));
        if(s < scale)
            scale = s;
    }
    for(int step = 0; step < FIT_STEPS; step++) {
        VipsImage *s = NULL;
        int sw = (int)(w * scale), sh = (int)(h * scale);
        if(sw < FIT_SIDE_MIN || sh < FIT_SIDE_MIN)
            break;
        /* One pixel of rounding must not break a pixel limit. */
        while(lim->max_pixels > 0 && (int64_t)sw * sh > lim->max_pixels && scale > 0) {
            scale *= 0.995;
            sw = (int)(w * scale);
            sh = (int)(h * scale);
        }
        if((rc = scaled(im, scale, &s)))
            return rc;
        if(prefer_png && (types & IMAGE_BIT(IMAGE_PNG))) {
            rc = encode(s, IMAGE_PNG, 0, out);
            if(rc) {
                g_object_unref(s);
                return rc;
            }
            if(!lim->max_bytes || out->len <= lim->max_bytes) {
                g_object_unref(s);
                return SAM_OK;
            }
            last = out->len;
            image_cleanup(out);
        }
        if(types & IMAGE_BIT(IMAGE_JPEG)) {
            for(size_t qi = 0; qi < sizeof(qualities) / sizeof(qualities[0]); qi++) {
                rc = encode(s, IMAGE_JPEG, qualities[qi], out);
                if(rc) {
                    g_object_unref(s);
                    return rc;
                }
                if(!lim->max_bytes || out->len <= lim->max_bytes) {
                    g_object_unref(s);
                    return SAM_OK;
                }
                last = out->len;
                image_cleanup(out);
            }
        }
        g_object_unref(s);
        if(!lim->max_bytes || !last)
            break;
        /* Bytes go with the pixels: shrink the sides by the root of how far over it was. */
        {
            double f = sqrt((double)lim->max_bytes / (double)last) * 0.95;
            if(f > 0.9)
                f = 0.9;
            if(f < 0.3)
                f = 0.3;
            scale *= f;
        }
    }
    return sam_fail(SAM_EINVAL, "the image cannot be made small enough for the network's limits");
}

/* ---- intake ---- */

/* The stored form of a still image: PNG kept for a graphic where it is the smaller (or has
 * transparency), JPEG for a photo. */
static int intake_still(int type, const void *data, size_t len, struct image *out)
{
    VipsImage *im = NULL;
    struct image png, jpg;
    int rc;
    memset(&png, 0, sizeof(png));
    memset(&jpg, 0, sizeof(jpg));
    if((rc = decode_still(type, data, len, IMAGE_SIDE_MAX, &im)))
        return rc;
    if(type != IMAGE_JPEG || vips_image_hasalpha(im)) {
        if((rc = encode(im, IMAGE_PNG, 0, &png)))
            goto out;
    }
    if(!vips_image_hasalpha(im)) {
        if((rc = encode(im, IMAGE_JPEG, JPEG_QUALITY, &jpg)))
            goto out;
    }
    if(png.data && (!jpg.data || png.len <= jpg.len)) {
        *out = png;
        memset(&png, 0, sizeof(png));
    } else {
        *out = jpg;
        memset(&jpg, 0, sizeof(jpg));
    }
    if(out->len > IMAGE_STORED_MAX) {
        struct image_limits lim = {.max_bytes = IMAGE_STORED_MAX};
        image_cleanup(out);
        rc = fit_decoded(im, &lim, vips_image_hasalpha(im), out);
    }
out:
    image_cleanup(&png);
    image_cleanup(&jpg);
    g_object_unref(im);
    return rc;
}

/* An animated GIF: cleaned of its extra blocks and decoded whole once. 1 in *kept when it
 * was kept animated; 0 when it must become a still (too large). */
static int intake_gif(const void *data, size_t len, int w, int h, int pages, struct image *out, int *kept)
{
    unsigned char *clean;
    size_t n = 0;
    int frames = 0, sw = 0, sh = 0, rc;
    VipsImage *all;
    double avg;
    *kept = 0;
    if(pages > IMAGE_FRAMES_MAX || (int64_t)w * h * pages > IMAGE_PIXELS_MAX)
        return sam_fail_field(SAM_EINVAL, "file", "the animated GIF has %d frames of %d x %d pixels; samtale "
                                                  "takes at most 50 million pixels in all", pages, w, h);
    if(!(clean = malloc(len)))
        return SAM_ENOMEM;
    if((rc = image_gif_clean(data, len, clean, len, &n, &frames, &sw, &sh))) {
        free(clean);
        return rc;
    }
    /* Every frame decodes: one pass over them all. */
    all = load(IMAGE_GIF, clean, n, -1, 1);
    if(!all || vips_avg(all, &avg, NULL)) {
        if(all)
            g_object_unref(all);
        vips_error_clear();
        free(clean);
        return sam_fail_field(SAM_EINVAL, "file", "the image cannot be read: it is damaged or cut short");
    }
    g_object_unref(all);
    if(n > IMAGE_STORED_MAX || w > IMAGE_SIDE_MAX || h > IMAGE_SIDE_MAX) {
        free(clean);
        return SAM_OK;
    }
    memset(out, 0, sizeof(*out));
    out->data = clean;
    out->len = n;
    out->type = IMAGE_GIF;
    out->width = w;
    out->height = h;
    out->frames = pages;
    *kept = 1;
    return SAM_OK;
}

int image_intake(const void *data, size_t len, struct image *out)
{
    int type, w = 0, h = 0, pages = 1, rc, kept = 0;
    memset(out, 0, sizeof(*out));
    if(len > IMAGE_INPUT_MAX)
        return sam_fail_field(SAM_ETOOBIG, "file", "an image may have at most 20 MB");
    type = image_type_of(data, len);
    if(type == IMAGE_NONE)
        return sam_fail_field(SAM_EINVAL, "file", "the file is not a JPEG, PNG, WebP or GIF image (its first bytes "
                                                  "say so, whatever its name)");
    if((rc = image_init()))
        return rc;
    gate_enter();
    rc = header(type, data, len, &w, &h, &pages);
    if(!rc && type == IMAGE_GIF && pages > 1)
        rc = intake_gif(data, len, w, h, pages, out, &kept);
    if(!rc && !kept)
        rc = intake_still(type, data, len, out);
    gate_leave();
    if(rc)
        image_cleanup(out);
    return rc;
}

/* ---- a network's version ---- */

static int fits(const struct image *in, const struct image_limits *lim)
{
    unsigned types = lim->types ? lim->types : IMAGE_BIT(IMAGE_JPEG) | IMAGE_BIT(IMAGE_PNG);
    return (types & IMAGE_BIT(in->type)) && (!lim->max_bytes || in->len <= lim->max_bytes) &&
           (!lim->max_pixels || (int64_t)in->width * in->height <= lim->max_pixels) &&
           (!lim->max_side || (in->width <= lim->max_side && in->height <= lim->max_side)) &&
           (in->frames <= 1 || lim->animated);
}

int image_fit(const struct image *in, const struct image_limits *lim, struct image *out)
{
    VipsImage *im = NULL;
    int rc, w = 0, h = 0, pages = 1;
    memset(out, 0, sizeof(*out));
    if(!in || !in->data || in->type == IMAGE_NONE)
        return sam_fail(SAM_EINVAL, "no image");
    if(fits(in, lim)) {
        if(!(out->data = malloc(in->len ? in->len : 1)))
            return SAM_ENOMEM;
        memcpy(out->data, in->data, in->len);
        out->len = in->len;
        out->type = in->type;
        out->width = in->width;
        out->height = in->height;
        out->frames = in->frames;
        return SAM_OK;
    }
    if((rc = image_init()))
        return rc;
    gate_enter();
    rc = header(in->type, in->data, in->len, &w, &h, &pages);
    if(!rc)
        rc = decode_still(in->type, in->data, in->len, IMAGE_SIDE_MAX, &im);
    if(!rc) {
        unsigned types = lim->types ? lim->types : IMAGE_BIT(IMAGE_JPEG) | IMAGE_BIT(IMAGE_PNG);
        /* A graphic stays PNG where PNG is allowed; a photo goes straight to JPEG. */
        int png = in->type == IMAGE_PNG || (vips_image_hasalpha(im) && !(types & IMAGE_BIT(IMAGE_JPEG)));
        rc = fit_decoded(im, lim, png, out);
        g_object_unref(im);
    }
    gate_leave();
    return rc;
}
