/*
 * lang.h: the language of a text (PRODUCT.md L3): Norwegian bokmål (nb), nynorsk (nn),
 * Swedish (sv), Danish (da), English (en), any other language (other), or too little text
 * to say (und), with a probability. Offline, from a model compiled into the binary
 * (src/text/model/lang.bin, made by tools/train_lang.c from the data docs/models.md
 * names; `make model` makes it again).
 *
 * The model is a multinomial logistic regression over hashed features of the text's
 * language form (lang_features):
 *   - links (http://, https:// and www. words, text_url_span and text_www_span),
 *     @mentions (an @ not after an ASCII letter or digit, up to whitespace of any kind)
 *     and anything that is not a letter or a combining mark are left out (a #hashtag's
 *     word stays: people tag in their language); letters are case folded and composed
 *     (utf8proc: compatibility decomposition with case folding, then composition; marks
 *     are not reordered), so "Å" typed as A + ring reads as "å";
 *   - each word of at most 30 letters gives its whole-word feature and, when the word
 *     before it was one too, the pair of them; every word gives its character 1- to
 *     4-grams with a space either side (" ikkje " gives " i", "ikk", "kje ", ...).
 * Each feature is a 32-bit hash; the model keeps LANG_CLASSES int8 weights per bucket of
 * the hash (its low bits), one scale, and a bias per class. A text's scores are the sums
 * of its features' weights over the square root of their number, plus the biases; the
 * probabilities are their softmax.
 *
 * Decision (lang_identify): fewer than LANG_MIN_LETTERS letters is und; under
 * LANG_SHORT_LETTERS letters with a best probability below LANG_SHORT_P is und as well;
 * from LANG_SHORT_LETTERS letters on, a best probability below LANG_OTHER_P is other (a
 * language unlike all five reads as none of them). Whatever is decided, the probabilities
 * of the six classes are given.
 *
 * Thread-safe: a model is read-only once parsed; lang_identify allocates nothing and
 * keeps everything it needs on its stack (about 20 KB).
 */
#ifndef SAM_TEXT_LANG_H
#define SAM_TEXT_LANG_H

#include <stddef.h>
#include <stdint.h>

enum lang_id { LANG_NB, LANG_NN, LANG_SV, LANG_DA, LANG_EN, LANG_OTHER, LANG_UND };

#define LANG_CLASSES 6        /* the model's classes: LANG_NB .. LANG_OTHER */
#define LANG_MAX_IN 1024      /* bytes of a text looked at (cut back to a whole character) */
#define LANG_MAX_FEATURES 4096
#define LANG_MIN_LETTERS 3
#define LANG_SHORT_LETTERS 15
#define LANG_SHORT_P 0.4f
#define LANG_OTHER_P 0.4f

/* "nb", "nn", "sv", "da", "en", "other" or "und"; "und" for anything else. */
const char *lang_code(enum lang_id l);

/* The language named by code (as lang_code gives it), or -1. */
int lang_from_code(const char *code);

/* The feature hashes of s[0..len) (at most LANG_MAX_IN bytes of it are read; invalid
 * UTF-8 reads as a separator): at most cap written to out, their number returned, the
 * letters read to *letters. Used by lang_identify and by the trainer, so both see the
 * same features. */
size_t lang_features(const char *s, size_t len, uint32_t *out, size_t cap, int *letters);

/* A parsed model; w and the data it came from are borrowed (the embedded model lives as
 * long as the process). */
struct lang_model {
    uint32_t bits;                /* 2^bits buckets */
    float scale;                  /* a weight is w[i] * scale */
    float bias[LANG_CLASSES];
    const int8_t *w;              /* (1 << bits) rows of LANG_CLASSES */
};

/* The model file format (little-endian):
 *   "SAMLANG1"            8 bytes
 *   bits                  uint32 (10 .. 24)
 *   classes               uint32 (LANG_CLASSES)
 *   scale                 float32
 *   bias                  float32 x classes
 *   weights               int8 x (2^bits x classes), row by row
 * lang_model_parse checks the magic, the counts and the length: SAM_EINVAL if any is
 * wrong, and a scale outside (0, 1000] or a bias outside [-1000, 1000]. */
#define LANG_MODEL_MAGIC "SAMLANG1"
int lang_model_parse(const unsigned char *data, size_t len, struct lang_model *m);

/* The model compiled into the binary (parsed once), or NULL when it is missing or broken
 * (a build without `make model` run once: never in a release). */
const struct lang_model *lang_model_default(void);

struct lang_result {
    enum lang_id lang;
    float p;                      /* the probability of lang; for und, of the best class */
    float probs[LANG_CLASSES];    /* every class's probability, summing to 1 */
    int letters;
};

/* The language of s[0..len) by model m (lang_model_default() when NULL). SAM_EINVAL for
 * a NULL out or no model; never fails on content. */
int lang_identify(const struct lang_model *m, const char *s, size_t len, struct lang_result *out);

#endif
