/*
 * lang.c: language identification (see lang.h for the model and the decision).
 *
 * lang_features walks the text once: links and @mentions are skipped whole, each other
 * character is decoded (utf8proc_iterate), and letters and combining marks are gathered
 * into the current word, case folded: ASCII and Latin-1 letters directly, anything else
 * through utf8proc_decompose_char (compatibility decomposition with case folding) and,
 * when the word ends, utf8proc_normalize_utf32 (composition), both into fixed buffers.
 * A word's features are hashed as they are made; nothing is allocated.
 */
#include "text/lang.h"
#include "text/normalise.h"
#include "util/embed.h"
#include "util/err.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <utf8proc.h>

#define WORD_MAX 48       /* code points of a word kept (the rest of a longer one is cut) */
#define WORD_FEATURE_MAX 30 /* longer words give their n-grams only */
#define NGRAM_MAX 4

extern const struct embedded_file models_files[];
extern const size_t models_count;

static const char *const codes[] = {"nb", "nn", "sv", "da", "en", "other", "und"};

const char *lang_code(enum lang_id l)
{
    return (unsigned)l <= LANG_UND ? codes[l] : "und";
}

int lang_from_code(const char *code)
{
    for(int i = 0; code && i <= LANG_UND; i++)
        if(!strcmp(code, codes[i]))
            return i;
    return -1;
}

/* ---- features ---- */

#define H_START 2166136261u
#define H_PRIME 16777619u

static uint32_t h_step(uint32_t h, int32_t cp)
{
    return (h ^ (uint32_t)cp) * H_PRIME;
}

/* murmur3's finaliser: every bit of h moves the low bits the model buckets by. */
static uint32_t h_final(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

struct feat {
    uint32_t *out;
    size_t cap, n;
    int letters;
    int32_t w[WORD_MAX + 8];      /* the current word; room for one decomposition more */
    size_t wn;
    int composed;                 /* 0 when w holds decomposed code points to compose */
    uint32_t prev;                /* the word before's hash (0: none next to this one) */
};

static void emit(struct feat *f, uint32_t h)
{
    if(f->n < f->cap)
        f->out[f->n++] = h;
}

/* The current word's features, then a new word. */
static void word_end(struct feat *f)
{
    int32_t pad[WORD_MAX + 10];
    size_t k = f->wn;
    if(k == 0)
        return;
    if(!f->composed) {
        utf8proc_ssize_t r = utf8proc_normalize_utf32(f->w, (utf8proc_ssize_t)k, UTF8PROC_COMPOSE);
        if(r > 0)
            k = (size_t)r;
    }
    if(k > WORD_MAX)
        k = WORD_MAX;
    if(k <= WORD_FEATURE_MAX) {
        uint32_t h = h_step(H_START, 'W');
        for(size_t i = 0; i < k; i++)
            h = h_step(h, f->w[i]);
        emit(f, h_final(h));
        if(f->prev)
            emit(f, h_final(h_step(h_step(h_step(H_START, 'B'), (int32_t)f->prev), (int32_t)h)));
        f->prev = h;
    } else {
        f->prev = 0;
    }
    pad[0] = ' ';
    memcpy(pad + 1, f->w, k * sizeof(*pad));
    pad[k + 1] = ' ';
    for(size_t start = 0; start < k + 2; start++) {
        uint32_t h = H_START;
        for(size_t n = 1; n <= NGRAM_MAX && start + n <= k + 2; n++) {
            h = h_step(h, pad[start + n - 1]);
            if(n == 1 && pad[start] == ' ')
                continue; /* a space alone says nothing */
            emit(f, h_final(h + (uint32_t)n));
        }
    }
    f->wn = 0;
    f->composed = 1;
}

static void word_add(struct feat *f, int32_t cp)
{
    if(f->wn < WORD_MAX)
        f->w[f->wn++] = cp;
}

/* A letter or mark beyond ASCII, case folded into the word. */
static void word_add_wide(struct feat *f, int32_t cp, int letter)
{
    if(cp >= 0xc0 && cp <= 0xff && cp != 0xd7 && cp != 0xf7 && cp != 0xdf) {
        /* Latin-1 letters fold by their case bit and are composed already. */
        word_add(f, cp < 0xe0 ? cp + 0x20 : cp);
        f->letters += letter;
    } else {
        int32_t d[8];
        int bound = 0;
        utf8proc_ssize_t r = utf8proc_decompose_char(cp, d, 8, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT |
                                                                  UTF8PROC_CASEFOLD, &bound);
        if(r <= 0 || r > 8)
            return;
        for(utf8proc_ssize_t i = 0; i < r; i++) {
            word_add(f, d[i]);
            /* a letter that folds into several ("ﬁ", "ß") counts as what it folds into */
            utf8proc_category_t cat = utf8proc_category(d[i]);
            f->letters += letter && cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
        }
        f->composed = 0;
    }
}

static int ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

size_t lang_features(const char *s, size_t len, uint32_t *out, size_t cap, int *letters)
{
    const unsigned char *u = (const unsigned char *)s;
    struct feat f;
    size_t i = 0;
    f.out = out;
    f.cap = out ? cap : 0;
    f.n = 0;
    f.letters = 0;
    f.wn = 0;
    f.composed = 1;
    f.prev = 0;
    if(!s)
        len = 0;
    if(len > LANG_MAX_IN) {
        len = LANG_MAX_IN;
        while(len > 0 && (u[len] & 0xc0) == 0x80)
            len--; /* not in the middle of a character */
    }
    while(i < len) {
        unsigned char c = u[i];
        utf8proc_int32_t cp;
        utf8proc_ssize_t r;
        size_t span;
        if(c < 0x80) {
            if((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                /* a link starts a word (after a separator, so the word is empty) */
                if(f.wn == 0 && (((c | 0x20) == 'h' && (span = text_url_span(s, len, i)) > 0) ||
                                 ((c | 0x20) == 'w' && (span = text_www_span(s, len, i)) > 0))) {
                    word_end(&f);
                    i += span;
                    continue;
                }
                word_add(&f, c | 0x20);
                f.letters++;
                i++;
                continue;
            }
            word_end(&f);
            if(c == '@' && (i == 0 || !ascii_alnum(u[i - 1]))) {
                /* A mention: a handle says nothing of the language. */
                i = text_word_end(s, len, i + 1);
                continue;
            }
            i++;
            continue;
        }
        r = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
        if(r <= 0) {
            word_end(&f);
            i++;
            continue;
        }
        i += (size_t)r;
        switch(utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
            word_add_wide(&f, cp, 1);
            break;
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
            if(f.wn > 0)
                word_add_wide(&f, cp, 0);
            break;
        case UTF8PROC_CATEGORY_CF:
            break; /* soft hyphen, zero-width joiner: inside a word, not between words */
        default:
            word_end(&f);
        }
    }
    word_end(&f);
    if(letters)
        *letters = f.letters;
    return f.n;
}

/* ---- the model ---- */

int lang_model_parse(const unsigned char *data, size_t len, struct lang_model *m)
{
    uint32_t bits, classes;
    size_t head = 8 + 4 + 4 + 4 + 4 * LANG_CLASSES;
    if(!data || !m || len < head || memcmp(data, LANG_MODEL_MAGIC, 8))
        return sam_fail(SAM_EINVAL, "not a language model");
    memcpy(&bits, data + 8, 4);
    memcpy(&classes, data + 12, 4);
    if(bits < 10 || bits > 24 || classes != LANG_CLASSES)
        return sam_fail(SAM_EINVAL, "a language model of another shape");
    if(len != head + ((size_t)1 << bits) * LANG_CLASSES)
        return sam_fail(SAM_EINVAL, "a language model of the wrong length");
    m->bits = bits;
    memcpy(&m->scale, data + 16, 4);
    memcpy(m->bias, data + 20, 4 * LANG_CLASSES);
    /* Bounded, so that no sum of weights can overflow a float on its way to softmax. */
    if(!(m->scale > 0 && m->scale <= 1000))
        return sam_fail(SAM_EINVAL, "a language model with a broken scale");
    for(int c = 0; c < LANG_CLASSES; c++)
        if(!(m->bias[c] >= -1000 && m->bias[c] <= 1000))
            return sam_fail(SAM_EINVAL, "a language model with a broken bias");
    m->w = (const int8_t *)(data + head);
    return SAM_OK;
}

static struct lang_model default_model;
static int default_ok;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_load(void)
{
    for(size_t i = 0; i < models_count; i++)
        if(!strcmp(models_files[i].name, "lang.bin"))
            default_ok = !lang_model_parse(models_files[i].data, models_files[i].len, &default_model);
}

const struct lang_model *lang_model_default(void)
{
    pthread_once(&default_once, default_load);
    return default_ok ? &default_model : NULL;
}

/* acc[c] += the weights of class c of the rows of f[0..n). The rows are spread over the
 * whole table, so a few ahead are asked for early. With GCC's vector extensions (gcc and
 * clang) a row is read as 8 bytes (its 6 and 2 of the next; the last row of the table,
 * which has no next, alone), summed 8 lanes at a time in 16 bits, and moved into acc every
 * 256 rows, before 256 * 127 could overflow a lane. */
static void accumulate(const struct lang_model *m, const uint32_t *f, size_t n, int32_t *acc)
{
    const uint32_t mask = ((uint32_t)1 << m->bits) - 1;
#if defined(__GNUC__)
    typedef int8_t v8s8 __attribute__((vector_size(8)));
    typedef int16_t v8s16 __attribute__((vector_size(16)));
    v8s16 sum = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t since = 0;
    for(size_t i = 0; i < n; i++) {
        const uint32_t at = f[i] & mask;
        const int8_t *row = m->w + (size_t)at * LANG_CLASSES;
        v8s8 b;
        if(i + 8 < n)
            __builtin_prefetch(m->w + (size_t)(f[i + 8] & mask) * LANG_CLASSES);
        if(at == mask) {
            for(int c = 0; c < LANG_CLASSES; c++)
                acc[c] += row[c];
            continue;
        }
        memcpy(&b, row, sizeof(b));
        sum += __builtin_convertvector(b, v8s16);
        if(++since == 256) {
            for(int c = 0; c < LANG_CLASSES; c++)
                acc[c] += sum[c];
            sum = (v8s16){0, 0, 0, 0, 0, 0, 0, 0};
            since = 0;
        }
    }
    for(int c = 0; c < LANG_CLASSES; c++)
        acc[c] += sum[c];
#else
    for(size_t i = 0; i < n; i++) {
        const int8_t *row = m->w + (size_t)(f[i] & mask) * LANG_CLASSES;
        for(int c = 0; c < LANG_CLASSES; c++)
            acc[c] += row[c];
    }
#endif
}

int lang_identify(const struct lang_model *m, const char *s, size_t len, struct lang_result *out)
{
    uint32_t f[LANG_MAX_FEATURES];
    int32_t acc[LANG_CLASSES] = {0};
    float z[LANG_CLASSES], top = -INFINITY, sum = 0, inv;
    size_t n;
    int best = 0;
    if(!m)
        m = lang_model_default();
    if(!out || !m)
        return sam_fail(SAM_EINVAL, "no language model");
    n = lang_features(s, len, f, LANG_MAX_FEATURES, &out->letters);
    accumulate(m, f, n, acc);
    inv = n ? m->scale / sqrtf((float)n) : 0;
    for(int c = 0; c < LANG_CLASSES; c++) {
        z[c] = m->bias[c] + (float)acc[c] * inv;
        if(z[c] > top) {
            top = z[c];
            best = c;
        }
    }
    for(int c = 0; c < LANG_CLASSES; c++)
        sum += out->probs[c] = expf(z[c] - top);
    for(int c = 0; c < LANG_CLASSES; c++)
        out->probs[c] /= sum;
    out->p = out->probs[best];
    out->lang = (enum lang_id)best;
    if(out->letters < LANG_MIN_LETTERS || (out->letters < LANG_SHORT_LETTERS && out->p < LANG_SHORT_P))
        out->lang = LANG_UND;
    else if(out->letters >= LANG_SHORT_LETTERS && out->p < LANG_OTHER_P)
        out->lang = LANG_OTHER;
    return SAM_OK;
}
