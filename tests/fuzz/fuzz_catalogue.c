/* fuzz_catalogue.c: the reader of compiled message catalogues (src/util/i18n.c) takes any
 * bytes without reading outside them; the seed in corpus-catalogue is a small catalogue
 * compiled by msgfmt. */
#include "util/i18n.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan sees any read past the end. */
    void *copy = malloc(size ? size : 1);
    if(!copy)
        return 0;
    memcpy(copy, data, size);
    (void)i18n_mo_entries(copy, size);
    free(copy);
    return 0;
}
