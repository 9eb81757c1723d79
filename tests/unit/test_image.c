/* test_image.c: core/image.c, the image pipeline of media (P16): types by their first
 * bytes, intake (EXIF GPS gone, orientation applied, pixel limit before decoding, damaged
 * files refused), a network's version within a byte budget (quality, then size), and the
 * GIF block walker. Test images are made here with libvips; the expected answers come from
 * the rules in core/image.h, not from the code's output. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <vips/vips.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/image.h"
#include "util/err.h"

/* "Exif\0\0" + a little-endian TIFF: IFD0 with Make "Samtale", Orientation 6 (rotate 90
 * clockwise to show) and a GPS IFD with GPSLatitudeRef N and GPSLatitude 59/1 54/1 3012/100. */
static const unsigned char exif_gps[] = {
    'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
    3, 0,                                               /* IFD0 at 8: 3 entries */
    0x0f, 0x01, 2, 0, 8, 0, 0, 0, 50, 0, 0, 0,          /* Make -> 50 */
    0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0,           /* Orientation 6 */
    0x25, 0x88, 4, 0, 1, 0, 0, 0, 58, 0, 0, 0,          /* GPSInfo -> 58 */
    0, 0, 0, 0,
    'S', 'a', 'm', 't', 'a', 'l', 'e', 0,               /* 50 */
    2, 0,                                               /* GPS IFD at 58 */
    0x01, 0x00, 2, 0, 2, 0, 0, 0, 'N', 0, 0, 0,
    0x02, 0x00, 5, 0, 3, 0, 0, 0, 88, 0, 0, 0,
    0, 0, 0, 0,
    59, 0, 0, 0, 1, 0, 0, 0, 54, 0, 0, 0, 1, 0, 0, 0, 0xc4, 0x0b, 0, 0, 100, 0, 0, 0, /* 88 */
};

/* A w x h sRGB picture: noise (a photo that compresses badly) or flat colour. */
static VipsImage *picture(int w, int h, int noise)
{
    VipsImage *out = NULL;
    if(noise) {
        VipsImage *n[3] = {0}, *rgb = NULL;
        for(int i = 0; i < 3; i++)
            assert_int_equal(vips_gaussnoise(&n[i], w, h, "mean", 128.0, "sigma", 50.0 + 10 * i, NULL), 0);
        assert_int_equal(vips_bandjoin(n, &rgb, 3, NULL), 0);
        assert_int_equal(vips_cast(rgb, &out, VIPS_FORMAT_UCHAR, NULL), 0);
        for(int i = 0; i < 3; i++)
            g_object_unref(n[i]);
        g_object_unref(rgb);
    } else {
        VipsImage *black = NULL;
        double ink[3] = {40, 120, 200};
        assert_int_equal(vips_black(&black, w, h, "bands", 3, NULL), 0);
        assert_non_null(out = vips_image_copy_memory(black));
        assert_int_equal(vips_draw_rect(out, ink, 3, 0, 0, w / 2, h, "fill", TRUE, NULL), 0);
        g_object_unref(black);
    }
    vips_image_set_int(out, "interpretation", VIPS_INTERPRETATION_sRGB);
    return out;
}

/* Saves im as a JPEG (with exif, when given) or PNG into a malloc'd buffer. */
static unsigned char *save(VipsImage *im, int png, const unsigned char *exif, size_t exif_len, size_t *len)
{
    VipsImage *copy = vips_image_copy_memory(im);
    void *buf = NULL;
    unsigned char *out;
    assert_non_null(copy);
    if(exif)
        vips_image_set_blob_copy(copy, VIPS_META_EXIF_NAME, exif, exif_len);
    if(png)
        assert_int_equal(vips_pngsave_buffer(copy, &buf, len, NULL), 0);
    else
        assert_int_equal(vips_jpegsave_buffer(copy, &buf, len, "Q", 92, NULL), 0);
    out = malloc(*len);
    memcpy(out, buf, *len);
    g_free(buf);
    g_object_unref(copy);
    return out;
}

/* What libvips reads in bytes: 1 when there is EXIF (any) and when a GPS tag is in it. */
static void probe(const struct image *im, int *exif, int *gps, int *w, int *h)
{
    VipsImage *v = NULL;
    gchar **fields;
    *gps = 0;
    if(im->type == IMAGE_JPEG)
        assert_int_equal(vips_jpegload_buffer(im->data, im->len, &v, NULL), 0);
    else
        assert_int_equal(vips_pngload_buffer(im->data, im->len, &v, NULL), 0);
    *exif = vips_image_get_typeof(v, VIPS_META_EXIF_NAME) != 0;
    fields = vips_image_get_fields(v);
    for(int i = 0; fields[i]; i++)
        if(strstr(fields[i], "GPS"))
            *gps = 1;
    g_strfreev(fields);
    *w = vips_image_get_width(v);
    *h = vips_image_get_height(v);
    g_object_unref(v);
}

static void types_by_magic(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        int type;
        const char *why;
    } cases[] = {
        {"\xff\xd8\xff\xe0", 4, IMAGE_JPEG, "JPEG (JFIF)"},
        {"\xff\xd8\xff\xe1", 4, IMAGE_JPEG, "JPEG (Exif)"},
        {"\x89PNG\r\n\x1a\n", 8, IMAGE_PNG, "PNG"},
        {"GIF89a", 6, IMAGE_GIF, "GIF 89a"},
        {"GIF87a", 6, IMAGE_GIF, "GIF 87a"},
        {"RIFF\x10\0\0\0WEBPVP8 ", 16, IMAGE_WEBP, "WebP"},
        {"RIFF\x10\0\0\0WAVEfmt ", 16, IMAGE_NONE, "a WAV file is RIFF too"},
        {"\xff\xd8", 2, IMAGE_NONE, "too short for JPEG"},
        {"\x89PNG\r\n", 6, IMAGE_NONE, "a PNG signature cut short"},
        {"GIF90a", 6, IMAGE_NONE, "no such GIF version"},
        {"<svg xmlns=", 11, IMAGE_NONE, "SVG is not taken"},
        {"%PDF-1.7", 8, IMAGE_NONE, "PDF is not taken"},
        {"photo.jpg", 9, IMAGE_NONE, "a name is no image"},
        {"", 0, IMAGE_NONE, "nothing"},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if(image_type_of(cases[i].bytes, cases[i].len) != cases[i].type)
            fail_msg("%s: type %d, want %d", cases[i].why, image_type_of(cases[i].bytes, cases[i].len),
                     cases[i].type);
    assert_string_equal(image_mime(IMAGE_PNG), "image/png");
    assert_int_equal(image_type_of_mime("image/gif"), IMAGE_GIF);
    assert_int_equal(image_type_of_mime("image/svg+xml"), IMAGE_NONE);
}

static void intake_strips_gps_and_applies_orientation(void **state)
{
    VipsImage *pic = picture(400, 300, 0);
    size_t len = 0;
    unsigned char *jpeg = save(pic, 0, exif_gps, sizeof(exif_gps), &len);
    struct image in = {jpeg, len, IMAGE_JPEG, 400, 300, 1}, out;
    int exif, gps, w, h;
    (void)state;
    /* The test image does carry the position (else this test could not fail). */
    probe(&in, &exif, &gps, &w, &h);
    assert_true(exif && gps);
    assert_non_null(memmem(jpeg, len, "Samtale", 7));
    assert_int_equal(image_intake(jpeg, len, &out), SAM_OK);
    assert_int_equal(out.type, IMAGE_JPEG);
    probe(&out, &exif, &gps, &w, &h);
    assert_false(exif);
    assert_false(gps);
    assert_null(memmem(out.data, out.len, "Exif", 4));
    assert_null(memmem(out.data, out.len, "Samtale", 7));
    /* Orientation 6: the stored image stands upright, 300 wide and 400 high. */
    assert_int_equal(out.width, 300);
    assert_int_equal(out.height, 400);
    assert_int_equal(w, 300);
    assert_int_equal(h, 400);
    image_cleanup(&out);
    /* The same bytes always give the same stored bytes (one image by SHA-256). */
    {
        struct image a, b;
        assert_int_equal(image_intake(jpeg, len, &a), SAM_OK);
        assert_int_equal(image_intake(jpeg, len, &b), SAM_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        image_cleanup(&a);
        image_cleanup(&b);
    }
    free(jpeg);
    g_object_unref(pic);
}

static void intake_sizes_and_types(void **state)
{
    VipsImage *big = picture(6000, 1500, 0), *flat = picture(300, 200, 0);
    size_t len = 0;
    unsigned char *bytes;
    struct image out;
    (void)state;
    /* The long side comes down to IMAGE_SIDE_MAX, the shape stays. */
    bytes = save(big, 0, NULL, 0, &len);
    assert_int_equal(image_intake(bytes, len, &out), SAM_OK);
    assert_int_equal(out.width, IMAGE_SIDE_MAX);
    assert_int_equal(out.height, IMAGE_SIDE_MAX / 4);
    image_cleanup(&out);
    free(bytes);
    /* A flat graphic stays PNG when PNG is the smaller. */
    bytes = save(flat, 1, NULL, 0, &len);
    assert_int_equal(image_intake(bytes, len, &out), SAM_OK);
    assert_int_equal(out.type, IMAGE_PNG);
    image_cleanup(&out);
    free(bytes);
    g_object_unref(big);
    g_object_unref(flat);
}

static void intake_refuses_what_it_must(void **state)
{
    /* A PNG whose header says 10000 x 10000 (a decompression bomb): refused from its
     * header, the pixels never decoded (they are not even there). */
    static const unsigned char bomb[] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
        0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10, 8, 2, 0, 0, 0, 0x35, 0x2c, 0xf5, 0x70,
        0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xaf, 0x06, 0x1e,
        0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82,
    };
    VipsImage *pic = picture(200, 200, 1);
    size_t len = 0;
    unsigned char *jpeg = save(pic, 0, NULL, 0, &len);
    struct image out;
    const char *text = "this is a text file named photo.jpg\n";
    (void)state;
    assert_int_equal(image_intake(text, strlen(text), &out), SAM_EINVAL);
    assert_string_equal(sam_errfield(), "file");
    assert_null(out.data);
    assert_int_equal(image_intake(bomb, sizeof(bomb), &out), SAM_EINVAL);
    assert_non_null(strstr(sam_errmsg(SAM_EINVAL), "50 million"));
    assert_int_equal(image_intake(jpeg, len / 2, &out), SAM_EINVAL);      /* cut short */
    assert_int_equal(image_intake(jpeg, 3, &out), SAM_EINVAL);            /* the magic alone */
    assert_int_equal(image_intake(jpeg, IMAGE_INPUT_MAX + 1, &out), SAM_ETOOBIG);
    free(jpeg);
    g_object_unref(pic);
}

static void fit_steps_down_to_a_byte_budget(void **state)
{
    VipsImage *pic = picture(2400, 1600, 1);
    size_t len = 0;
    unsigned char *jpeg = save(pic, 0, NULL, 0, &len);
    struct image stored, v;
    struct image_limits lim = {.max_bytes = 1000000};
    (void)state;
    assert_int_equal(image_intake(jpeg, len, &stored), SAM_OK);
    assert_true(stored.len > 1000000);            /* noise: the budget has to bite */
    assert_int_equal(image_fit(&stored, &lim, &v), SAM_OK);
    assert_true(v.len <= 1000000);
    assert_int_equal(v.type, IMAGE_JPEG);
    assert_true(v.width <= stored.width && v.width > 200);
    assert_true(abs(v.width * 2 - v.height * 3) <= 3);   /* 3:2 kept */
    image_cleanup(&v);
    /* A pixel limit and a side limit. */
    lim = (struct image_limits){.max_pixels = 100000, .max_side = 300};
    assert_int_equal(image_fit(&stored, &lim, &v), SAM_OK);
    assert_true((int64_t)v.width * v.height <= 100000 && v.width <= 300 && v.height <= 300);
    image_cleanup(&v);
    /* What already fits is the same bytes. */
    lim = (struct image_limits){.max_bytes = stored.len};
    assert_int_equal(image_fit(&stored, &lim, &v), SAM_OK);
    assert_int_equal(v.len, stored.len);
    assert_memory_equal(v.data, stored.data, v.len);
    image_cleanup(&v);
    /* A budget nothing can meet. */
    lim = (struct image_limits){.max_bytes = 100};
    assert_int_equal(image_fit(&stored, &lim, &v), SAM_EINVAL);
    image_cleanup(&stored);
    free(jpeg);
    g_object_unref(pic);
}

static void animated_gif_kept_or_made_still(void **state)
{
    VipsImage *frames[3], *strip = NULL, *copy;
    void *buf = NULL;
    size_t len = 0;
    struct image stored, v;
    struct image_limits bsky = {.max_bytes = 1000000};                 /* JPEG, PNG: no GIF */
    struct image_limits masto = {.max_bytes = 1000000, .types = IMAGE_BIT(IMAGE_JPEG) | IMAGE_BIT(IMAGE_GIF),
                                 .animated = 1};
    (void)state;
    for(int i = 0; i < 3; i++) {
        double ink[3] = {i * 80.0, 50, 200};
        frames[i] = picture(60, 40, 0);
        assert_int_equal(vips_draw_rect(frames[i], ink, 3, i * 10, 0, 10, 10, "fill", TRUE, NULL), 0);
    }
    assert_int_equal(vips_arrayjoin(frames, &strip, 3, "across", 1, NULL), 0);
    copy = vips_image_copy_memory(strip);
    vips_image_set_int(copy, "page-height", 40);
    assert_int_equal(vips_gifsave_buffer(copy, &buf, &len, NULL), 0);
    assert_int_equal(image_intake(buf, len, &stored), SAM_OK);
    assert_int_equal(stored.type, IMAGE_GIF);
    assert_int_equal(stored.frames, 3);
    assert_int_equal(stored.width, 60);
    assert_int_equal(stored.height, 40);
    assert_int_equal(image_fit(&stored, &masto, &v), SAM_OK);          /* as it is */
    assert_int_equal(v.type, IMAGE_GIF);
    assert_int_equal(v.len, stored.len);
    image_cleanup(&v);
    assert_int_equal(image_fit(&stored, &bsky, &v), SAM_OK);           /* its first frame */
    assert_int_equal(v.frames, 1);
    assert_true(v.type == IMAGE_JPEG || v.type == IMAGE_PNG);
    assert_int_equal(v.width, 60);
    assert_int_equal(v.height, 40);
    image_cleanup(&v);
    image_cleanup(&stored);
    g_free(buf);
    for(int i = 0; i < 3; i++)
        g_object_unref(frames[i]);
    g_object_unref(strip);
    g_object_unref(copy);
}

static void gif_blocks(void **state)
{
    /* A GIF of 2 x 2 with a comment, an XMP application block, the NETSCAPE looping block,
     * a graphic control block and one frame. */
    static const unsigned char gif[] = {
        'G', 'I', 'F', '8', '9', 'a', 2, 0, 2, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
        0x21, 0xfe, 5, 'h', 'e', 'l', 'l', 'o', 0,
        0x21, 0xff, 11, 'X', 'M', 'P', ' ', 'D', 'a', 't', 'a', 'X', 'M', 'P', 3, 'g', 'p', 's', 0,
        0x21, 0xff, 11, 'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0', 3, 1, 0, 0, 0,
        0x21, 0xf9, 4, 0, 10, 0, 0, 0,
        0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0, 2, 2, 0x44, 0x01, 0,
        0x3b,
    };
    unsigned char out[sizeof(gif)], bad[sizeof(gif)];
    size_t n = 0;
    int frames = 0, w = 0, h = 0;
    (void)state;
    assert_int_equal(image_gif_clean(gif, sizeof(gif), out, sizeof(out), &n, &frames, &w, &h), SAM_OK);
    assert_int_equal(frames, 1);
    assert_int_equal(w, 2);
    assert_int_equal(h, 2);
    assert_null(memmem(out, n, "hello", 5));                   /* the comment went */
    assert_null(memmem(out, n, "XMP Data", 8));                /* the XMP block went */
    assert_non_null(memmem(out, n, "NETSCAPE2.0", 11));        /* looping stays */
    assert_int_equal(n, sizeof(gif) - 9 - 19);
    assert_int_equal(out[n - 1], 0x3b);
    /* Cut anywhere before the trailer: refused, never read past the end. */
    for(size_t cut = 0; cut < sizeof(gif) - 1; cut++)
        assert_int_equal(image_gif_clean(gif, cut, out, sizeof(out), &n, &frames, &w, &h), SAM_EINVAL);
    /* A frame outside the picture. */
    memcpy(bad, gif, sizeof(gif));
    bad[sizeof(gif) - 16 + 5] = 3;                              /* frame width 3 on a 2-wide screen */
    assert_int_equal(image_gif_clean(bad, sizeof(bad), out, sizeof(out), &n, &frames, &w, &h), SAM_EINVAL);
    /* An unknown block. */
    memcpy(bad, gif, sizeof(gif));
    bad[19] = 0x99;
    assert_int_equal(image_gif_clean(bad, sizeof(bad), out, sizeof(out), &n, &frames, &w, &h), SAM_EINVAL);
}

static int setup(void **state)
{
    (void)state;
    return image_init() == SAM_OK ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types_by_magic),
        cmocka_unit_test(intake_strips_gps_and_applies_orientation),
        cmocka_unit_test(intake_sizes_and_types),
        cmocka_unit_test(intake_refuses_what_it_must),
        cmocka_unit_test(fit_steps_down_to_a_byte_budget),
        cmocka_unit_test(animated_gif_kept_or_made_still),
        cmocka_unit_test(gif_blocks),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
