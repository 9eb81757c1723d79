/* fuzz_lang.c: language identification (src/text/lang.c) takes any bytes (invalid UTF-8,
 * NULs, cut characters, long runs of marks, links and handles) without reading outside
 * them, and its probabilities stay a distribution; the model file reader
 * (lang_model_parse) takes any bytes too. Seeds in corpus-lang: short social texts. */
#include "text/lang.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan sees any read past the end. */
    unsigned char *copy = malloc(size ? size : 1);
    struct lang_result r;
    struct lang_model m;
    float sum = 0;
    if(!copy)
        return 0;
    memcpy(copy, data, size);
    if(lang_identify(NULL, (const char *)copy, size, &r) == 0) {
        for(int c = 0; c < LANG_CLASSES; c++)
            sum += r.probs[c];
        if(!(fabsf(sum - 1) < 1e-3f) || (unsigned)r.lang > LANG_UND)
            abort();
    }
    (void)lang_model_parse(copy, size, &m);
    free(copy);
    return 0;
}
