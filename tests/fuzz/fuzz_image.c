/*
 * fuzz_image.c: libFuzzer target over the image intake (core/image.h), the first thing an
 * uploaded file meets: the type by its first bytes, the header and its pixel limit, the
 * decoders of the four types, the GIF block walker, the re-encoding. Whatever the bytes,
 * intake either refuses them (SAM_EINVAL or SAM_ETOOBIG, naming the field "file") or
 * gives an image that keeps its invariants, which abort() when broken:
 *
 *   - its type is JPEG, PNG or GIF and its bytes start with that type's signature;
 *   - its sides are 1..IMAGE_SIDE_MAX pixels, its bytes at most IMAGE_STORED_MAX;
 *   - it has more than one frame only as a GIF;
 *   - the GIF walker never writes more than it read.
 *
 * Seeds: tests/fuzz/corpus-image (tiny images of each type, one with EXIF GPS, an animated
 * GIF, cut-short files, a file that only starts like a JPEG, a PNG whose header claims
 * 10000 x 10000 pixels, a text file named .jpg).
 *
 *   build-asan/fuzz_image -max_total_time=600 -max_len=65536 tests/fuzz/corpus-image
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/image.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct image out;
    int rc = image_intake(data, size, &out);
    if(rc == SAM_OK) {
        if(!out.data || !out.len || out.len > IMAGE_STORED_MAX || image_type_of(out.data, out.len) != out.type ||
           (out.type != IMAGE_JPEG && out.type != IMAGE_PNG && out.type != IMAGE_GIF))
            abort();
        if(out.width < 1 || out.height < 1 || out.width > IMAGE_SIDE_MAX || out.height > IMAGE_SIDE_MAX)
            abort();
        if(out.frames != 1 && (out.type != IMAGE_GIF || out.frames < 2))
            abort();
        image_cleanup(&out);
    } else if(rc != SAM_EINVAL && rc != SAM_ETOOBIG && rc != SAM_ENOMEM) {
        abort();
    } else if(out.data) {
        abort();
    }
    if(image_type_of(data, size) == IMAGE_GIF) {
        unsigned char *copy = malloc(size ? size : 1);
        size_t n = 0;
        int frames = 0, w = 0, h = 0;
        if(copy) {
            if(image_gif_clean(data, size, copy, size, &n, &frames, &w, &h) == SAM_OK && (n > size || frames < 1))
                abort();
            free(copy);
        }
    }
    sam_clear();
    return 0;
}
