/*
 * image_tool.c: makes and inspects images for the media tests (tests/integration/
 * test_media.py, tests/e2e/checks/70-media.mjs), with libvips, so the tests need no image
 * library of their own.
 *
 *   image_tool make W H TYPE [noise] [gps] [alpha]   writes an image to standard output:
 *        TYPE jpeg, png, webp or gif; "noise" fills it with random pixels (a photo that
 *        does not compress: large files), else a gradient with a square (a graphic);
 *        "gps" gives a JPEG an EXIF block with a GPS position (59°54'30.12" N) and a
 *        camera name; "alpha" adds a transparency band (PNG, WebP)
 *   image_tool animate W H FRAMES                    an animated GIF on standard output
 *   image_tool intake FILE OUT [MAXBYTES]            runs image_intake on FILE (then
 *        image_fit within MAXBYTES when given), writes the result to OUT and prints
 *        {"type","width","height","frames","bytes"}, or the refusal on stderr (exit 1)
 *   image_tool info FILE                             prints {"type","width","height",
 *        "frames","bytes","exif","gps","icc","xmp"}: what libvips reads in it (exif: any
 *        EXIF block; gps: a GPS tag in it)
 *
 * Exit status 0, 1 when libvips failed, 2 for a usage error.
 */
#include <vips/vips.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/image.h"
#include "util/err.h"

static int usage(void)
{
    fprintf(stderr, "usage: image_tool make W H jpeg|png|webp|gif [noise] [gps] [alpha]\n"
                    "       image_tool animate W H FRAMES\n"
                    "       image_tool info FILE\n");
    return 2;
}

/* "Exif\0\0" and a little-endian TIFF: IFD0 with Make and a GPS IFD pointer; the GPS IFD
 * with GPSLatitudeRef N and GPSLatitude 59/1 54/1 3012/100. */
static const unsigned char exif_gps[] = {
    'E', 'x', 'i', 'f', 0, 0,
    'I', 'I', 42, 0, 8, 0, 0, 0,
    /* IFD0 at 8: 2 entries */
    2, 0,
    0x0f, 0x01, 2, 0, 8, 0, 0, 0, 38, 0, 0, 0,      /* Make, ASCII, 8 bytes at 38 */
    0x25, 0x88, 4, 0, 1, 0, 0, 0, 46, 0, 0, 0,      /* GPSInfo, LONG, -> 46 */
    0, 0, 0, 0,
    /* 38: "Samtale\0" */
    'S', 'a', 'm', 't', 'a', 'l', 'e', 0,
    /* GPS IFD at 46: 2 entries */
    2, 0,
    0x01, 0x00, 2, 0, 2, 0, 0, 0, 'N', 0, 0, 0,     /* GPSLatitudeRef "N" */
    0x02, 0x00, 5, 0, 3, 0, 0, 0, 76, 0, 0, 0,      /* GPSLatitude, 3 RATIONAL at 76 */
    0, 0, 0, 0,
    /* 76: 59/1 54/1 3012/100 */
    59, 0, 0, 0, 1, 0, 0, 0, 54, 0, 0, 0, 1, 0, 0, 0, 0xc4, 0x0b, 0, 0, 100, 0, 0, 0,
};

static VipsImage *picture(int w, int h, int noise, int alpha)
{
    VipsImage *base = NULL, *out = NULL;
    if(noise) {
        VipsImage *g = NULL;
        if(vips_gaussnoise(&g, w, h, "mean", 128.0, "sigma", 60.0, NULL))
            return NULL;
        VipsImage *bands[3] = {g, g, g}, *rgb = NULL, *n2 = NULL, *n3 = NULL;
        /* Three different noises, so colour is not grey. */
        if(vips_gaussnoise(&n2, w, h, "mean", 100.0, "sigma", 50.0, NULL) ||
           vips_gaussnoise(&n3, w, h, "mean", 150.0, "sigma", 40.0, NULL))
            return NULL;
        bands[1] = n2;
        bands[2] = n3;
        if(vips_bandjoin(bands, &rgb, 3, NULL))
            return NULL;
        if(vips_cast(rgb, &base, VIPS_FORMAT_UCHAR, NULL))
            return NULL;
        g_object_unref(g);
        g_object_unref(n2);
        g_object_unref(n3);
        g_object_unref(rgb);
    } else {
        VipsImage *x = NULL, *y = NULL, *b = NULL, *rgb = NULL;
        VipsImage *bands[3];
        if(vips_xyz(&x, w, h, NULL))
            return NULL;
        VipsImage *xs = NULL, *ys = NULL;
        if(vips_extract_band(x, &xs, 0, NULL) || vips_extract_band(x, &ys, 1, NULL))
            return NULL;
        if(vips_linear1(xs, &y, 255.0 / (w > 1 ? w - 1 : 1), 0.0, NULL) ||
           vips_linear1(ys, &b, 255.0 / (h > 1 ? h - 1 : 1), 0.0, NULL))
            return NULL;
        bands[0] = y;
        bands[1] = b;
        bands[2] = y;
        if(vips_bandjoin(bands, &rgb, 3, NULL) || vips_cast(rgb, &base, VIPS_FORMAT_UCHAR, NULL))
            return NULL;
        double ink[3] = {200, 30, 30};
        if(vips_draw_rect(base, ink, 3, w / 4, h / 4, w / 2, h / 2, "fill", TRUE, NULL))
            return NULL;
        g_object_unref(x);
        g_object_unref(xs);
        g_object_unref(ys);
        g_object_unref(y);
        g_object_unref(b);
        g_object_unref(rgb);
    }
    vips_image_set_int(base, "interpretation", VIPS_INTERPRETATION_sRGB);
    if(alpha) {
        if(vips_bandjoin_const1(base, &out, 128.0, NULL))
            return NULL;
        g_object_unref(base);
        return out;
    }
    return base;
}

static int make(int argc, char **argv)
{
    int w = atoi(argv[2]), h = atoi(argv[3]), noise = 0, gps = 0, alpha = 0, r = -1;
    const char *type = argv[4];
    void *buf = NULL;
    size_t len = 0;
    VipsImage *im, *copy = NULL;
    for(int i = 5; i < argc; i++) {
        noise |= !strcmp(argv[i], "noise");
        gps |= !strcmp(argv[i], "gps");
        alpha |= !strcmp(argv[i], "alpha");
    }
    if(w < 1 || h < 1 || w > 20000 || h > 20000)
        return usage();
    if(!(im = picture(w, h, noise, alpha)))
        return 1;
    if(!(copy = vips_image_copy_memory(im)))
        return 1;
    if(gps)
        vips_image_set_blob_copy(copy, VIPS_META_EXIF_NAME, exif_gps, sizeof(exif_gps));
    if(!strcmp(type, "jpeg"))
        r = vips_jpegsave_buffer(copy, &buf, &len, "Q", 92, NULL);
    else if(!strcmp(type, "png"))
        r = vips_pngsave_buffer(copy, &buf, &len, NULL);
    else if(!strcmp(type, "webp"))
        r = vips_webpsave_buffer(copy, &buf, &len, NULL);
    else if(!strcmp(type, "gif"))
        r = vips_gifsave_buffer(copy, &buf, &len, NULL);
    else
        return usage();
    if(r) {
        fprintf(stderr, "image_tool: %s\n", vips_error_buffer());
        return 1;
    }
    fwrite(buf, 1, len, stdout);
    g_free(buf);
    g_object_unref(copy);
    g_object_unref(im);
    return 0;
}

static int animate(int argc, char **argv)
{
    int w = atoi(argv[2]), h = atoi(argv[3]), frames = atoi(argv[4]);
    VipsImage **pages, *strip = NULL, *copy;
    void *buf = NULL;
    size_t len = 0;
    (void)argc;
    if(w < 1 || h < 1 || frames < 2 || frames > 100)
        return usage();
    pages = calloc((size_t)frames, sizeof(*pages));
    for(int i = 0; i < frames; i++) {
        double ink[3] = {(double)(i * 40 % 256), 80, 200};
        if(!(pages[i] = picture(w, h, 0, 0)) ||
           vips_draw_rect(pages[i], ink, 3, (i * 7) % w, 0, w / 4 + 1, h / 4 + 1, "fill", TRUE, NULL))
            return 1;
    }
    if(vips_arrayjoin(pages, &strip, frames, "across", 1, NULL) || !(copy = vips_image_copy_memory(strip)))
        return 1;
    vips_image_set_int(copy, "page-height", h);
    int *delays = calloc((size_t)frames, sizeof(int));
    for(int i = 0; i < frames; i++)
        delays[i] = 100;
    vips_image_set_array_int(copy, "delay", delays, frames);
    vips_image_set_int(copy, "loop", 0);
    if(vips_gifsave_buffer(copy, &buf, &len, NULL)) {
        fprintf(stderr, "image_tool: %s\n", vips_error_buffer());
        return 1;
    }
    fwrite(buf, 1, len, stdout);
    g_free(buf);
    free(delays);
    for(int i = 0; i < frames; i++)
        g_object_unref(pages[i]);
    free(pages);
    g_object_unref(strip);
    g_object_unref(copy);
    return 0;
}

static int info(const char *path)
{
    gchar *data = NULL;
    gsize len = 0;
    VipsImage *im = NULL;
    int type, gps = 0;
    if(!g_file_get_contents(path, &data, &len, NULL))
        return 1;
    type = image_type_of(data, len);
    switch(type) {
    case IMAGE_JPEG: vips_jpegload_buffer(data, len, &im, NULL); break;
    case IMAGE_PNG: vips_pngload_buffer(data, len, &im, NULL); break;
    case IMAGE_WEBP: vips_webpload_buffer(data, len, &im, NULL); break;
    case IMAGE_GIF: vips_gifload_buffer(data, len, &im, NULL); break;
    default: break;
    }
    if(!im) {
        printf("{\"type\":null,\"bytes\":%zu}\n", (size_t)len);
        return 0;
    }
    gchar **fields = vips_image_get_fields(im);
    for(int i = 0; fields[i]; i++)
        if(strstr(fields[i], "GPS"))
            gps = 1;
    g_strfreev(fields);
    printf("{\"type\":\"%s\",\"width\":%d,\"height\":%d,\"frames\":%d,\"bytes\":%zu,\"exif\":%s,\"gps\":%s,"
           "\"icc\":%s,\"xmp\":%s}\n",
           image_mime(type), vips_image_get_width(im), vips_image_get_height(im), vips_image_get_n_pages(im),
           (size_t)len, vips_image_get_typeof(im, VIPS_META_EXIF_NAME) ? "true" : "false", gps ? "true" : "false",
           vips_image_get_typeof(im, VIPS_META_ICC_NAME) ? "true" : "false",
           vips_image_get_typeof(im, VIPS_META_XMP_NAME) ? "true" : "false");
    g_object_unref(im);
    g_free(data);
    return 0;
}

static int intake(const char *in, const char *out, const char *max)
{
    gchar *data = NULL;
    gsize len = 0;
    struct image im, fit;
    FILE *f;
    if(!g_file_get_contents(in, &data, &len, NULL))
        return 2;
    if(image_intake(data, len, &im)) {
        fprintf(stderr, "refused: %s\n", sam_errmsg(1));
        return 1;
    }
    if(max) {
        struct image_limits lim = {.max_bytes = (size_t)atol(max)};
        if(image_fit(&im, &lim, &fit)) {
            fprintf(stderr, "refused: %s\n", sam_errmsg(1));
            return 1;
        }
        image_cleanup(&im);
        im = fit;
    }
    if(!(f = fopen(out, "wb")) || fwrite(im.data, 1, im.len, f) != im.len || fclose(f))
        return 1;
    printf("{\"type\":\"%s\",\"width\":%d,\"height\":%d,\"frames\":%d,\"bytes\":%zu}\n", image_mime(im.type),
           im.width, im.height, im.frames, im.len);
    image_cleanup(&im);
    g_free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if(VIPS_INIT(argv[0]))
        return 1;
    if(argc >= 5 && !strcmp(argv[1], "make"))
        return make(argc, argv);
    if(argc == 5 && !strcmp(argv[1], "animate"))
        return animate(argc, argv);
    if((argc == 4 || argc == 5) && !strcmp(argv[1], "intake"))
        return intake(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if(argc == 3 && !strcmp(argv[1], "info"))
        return info(argv[2]);
    return usage();
}
