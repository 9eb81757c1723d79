/*
 * train_lang.c: trains the language model of src/text/lang.h from the sentence files of
 * the data folder (docs/models.md names them and their licences), writes it, and measures
 * it on the sentences it did not learn from. `make model` runs it; the build never does.
 *
 *   train_lang DATA_DIR OUT.bin [--bits N] [--epochs N] [--lr X] [--weighting 0|1|2]
 *              [--seed N] [--errors LANG]
 *
 * DATA_DIR/langid/ holds one sentence per line per language: nb.txt, nn.txt, sv.txt,
 * da.txt, en.txt, and other-XX.txt for the class "other" (de, fi, is and nl are learnt
 * from; fo is never learnt from: it stands for a language the model has not seen). Every
 * tenth line (line number % 10 == 0) of each file is held out as the dev set; the rest is
 * the training set.
 *
 * Training: multinomial logistic regression on lang_features' hashed features (the exact
 * features lang_identify reads), AdaGrad, classes weighted by the inverse square root of
 * their number of sentences (--weighting 2; 1: by the inverse, 0: not weighted). Each training sentence is seen whole and as two pieces of itself (a run of
 * 1 to 3 words and one of 4 to 8), drawn anew each epoch, so that short texts are learnt
 * too. The weights are then scaled into int8 (one scale for the model). The file is
 * written beside OUT.bin and renamed over it once whole.
 *
 * Measuring: the written model is read back with lang_model_parse and every dev sentence
 * classified by lang_identify, whole and as a two-word snippet (words k and k+1, k = line
 * number % (words - 1)); accuracy per language, bokmål taken for nynorsk and for Danish,
 * and how much Faroese reads as "other". The last lines are for scripts:
 *   result lang=nb sentences=0.993 snippets=0.871 n=1538
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/lang.h"

struct source {
    const char *file;
    int cls;                       /* LANG_*; -1: held out whole (an unseen language) */
};

static const struct source sources[] = {
    {"nb.txt", LANG_NB},          {"nn.txt", LANG_NN},          {"sv.txt", LANG_SV},
    {"da.txt", LANG_DA},          {"en.txt", LANG_EN},          {"other-de.txt", LANG_OTHER},
    {"other-fi.txt", LANG_OTHER}, {"other-is.txt", LANG_OTHER}, {"other-nl.txt", LANG_OTHER},
    {"other-fo.txt", -1},
};
#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

struct line {
    char *text;
    int cls;                       /* LANG_*, or -1 for the unseen language */
    int dev;
    long number;                   /* in its file, from 0 */
};

static struct line *lines;
static size_t nlines, caplines;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int read_source(const char *dir, const struct source *src)
{
    char path[4096], *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    long number = 0;
    FILE *f;
    snprintf(path, sizeof(path), "%s/langid/%s", dir, src->file);
    if(!(f = fopen(path, "r"))) {
        fprintf(stderr, "train_lang: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    while((n = getline(&buf, &cap, f)) >= 0) {
        while(n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        if(n == 0)
            continue;
        if(nlines == caplines) {
            size_t more = caplines ? caplines * 2 : 65536;
            struct line *l = realloc(lines, more * sizeof(*l));
            if(!l)
                return -1;
            lines = l;
            caplines = more;
        }
        lines[nlines].text = strdup(buf);
        if(!lines[nlines].text)
            return -1;
        lines[nlines].cls = src->cls;
        lines[nlines].dev = number % 10 == 0;
        lines[nlines].number = number;
        nlines++;
        number++;
    }
    free(buf);
    fclose(f);
    return 0;
}

/* The byte span of words [from, from + count) of s (words: runs of non-spaces). */
static int word_span(const char *s, int from, int count, size_t *start, size_t *len)
{
    int w = 0;
    size_t i = 0, n = strlen(s), b = 0;
    int in = 0, got = 0;
    for(i = 0; i <= n; i++) {
        int space = i == n || s[i] == ' ';
        if(!space && !in) {
            in = 1;
            if(w == from)
                b = i;
        } else if(space && in) {
            in = 0;
            w++;
            if(w == from + count) {
                *start = b;
                *len = i - b;
                got = 1;
                break;
            }
        }
    }
    return got ? 0 : -1;
}

static int count_words(const char *s)
{
    int w = 0, in = 0;
    for(; *s; s++) {
        if(*s != ' ' && !in)
            w++;
        in = *s != ' ';
    }
    return w;
}

/* ---- training ---- */

static float *W, *G;               /* (1 << bits) x LANG_CLASSES weights, AdaGrad sums */
static float B[LANG_CLASSES], GB[LANG_CLASSES];
static uint32_t feats[LANG_MAX_FEATURES];

static void learn(const char *s, size_t len, int cls, float weight, uint32_t mask, float lr)
{
    int letters;
    size_t n = lang_features(s, len, feats, LANG_MAX_FEATURES, &letters);
    float z[LANG_CLASSES], top = -INFINITY, sum = 0, inv;
    if(n == 0)
        return;
    inv = 1.0f / sqrtf((float)n);
    for(int c = 0; c < LANG_CLASSES; c++)
        z[c] = B[c];
    for(size_t i = 0; i < n; i++) {
        const float *row = W + (size_t)(feats[i] & mask) * LANG_CLASSES;
        for(int c = 0; c < LANG_CLASSES; c++)
            z[c] += row[c] * inv;
    }
    for(int c = 0; c < LANG_CLASSES; c++)
        if(z[c] > top)
            top = z[c];
    for(int c = 0; c < LANG_CLASSES; c++)
        sum += z[c] = expf(z[c] - top);
    for(int c = 0; c < LANG_CLASSES; c++) {
        float g = weight * (z[c] / sum - (c == cls ? 1.0f : 0.0f));
        GB[c] += g * g;
        B[c] -= lr * g / sqrtf(GB[c] + 1e-8f);
        g *= inv;
        for(size_t i = 0; i < n; i++) {
            size_t at = (size_t)(feats[i] & mask) * LANG_CLASSES + (size_t)c;
            G[at] += g * g;
            W[at] -= lr * g / sqrtf(G[at] + 1e-8f);
        }
    }
}

static int write_model(const char *final, uint32_t bits, float *scale_out)
{
    char out[4200];
    size_t nw = ((size_t)1 << bits) * LANG_CLASSES;
    float top = 0, scale;
    uint32_t classes = LANG_CLASSES;
    int8_t *q = malloc(nw);
    FILE *f;
    int rc = 0;
    if(!q)
        return -1;
    snprintf(out, sizeof(out), "%s.part", final);
    for(size_t i = 0; i < nw; i++)
        if(fabsf(W[i]) > top)
            top = fabsf(W[i]);
    scale = top > 0 ? top / 127.0f : 1.0f;
    for(size_t i = 0; i < nw; i++) {
        long v = lroundf(W[i] / scale);
        q[i] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
    }
    if(!(f = fopen(out, "wb"))) {
        fprintf(stderr, "train_lang: cannot write %s: %s\n", out, strerror(errno));
        free(q);
        return -1;
    }
    if(fwrite(LANG_MODEL_MAGIC, 1, 8, f) != 8 || fwrite(&bits, 4, 1, f) != 1 || fwrite(&classes, 4, 1, f) != 1 ||
       fwrite(&scale, 4, 1, f) != 1 || fwrite(B, 4, LANG_CLASSES, f) != LANG_CLASSES || fwrite(q, 1, nw, f) != nw)
        rc = -1;
    if(fclose(f))
        rc = -1;
    if(!rc && rename(out, final))
        rc = -1;
    if(rc)
        remove(out);
    free(q);
    *scale_out = scale;
    return rc;
}

/* ---- measuring ---- */

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    long n;
    if(!f)
        return NULL;
    if(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n)) &&
       fread(b, 1, (size_t)n, f) == (size_t)n) {
        *len = (size_t)n;
    } else {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static int show_errors = -1;       /* --errors LANG: print that language's misread dev sentences */

/* What the dev lines of one kind (whole sentences, or their two-word snippets) came to. */
struct tally {
    long n[LANG_CLASSES], ok[LANG_CLASSES], argmax[LANG_CLASSES];
    long nbto[LANG_UND + 1];          /* what bokmal was read as */
    long other;                       /* lines of the unseen language read as other */
};

static void count(struct tally *t, const struct line *l, const struct lang_result *r)
{
    if(l->cls < 0) {
        t->other += r->lang == LANG_OTHER;
        return;
    }
    t->n[l->cls]++;
    t->ok[l->cls] += (int)r->lang == l->cls;
    t->argmax[l->cls] += r->probs[l->cls] >= r->p;
    if(l->cls == LANG_NB)
        t->nbto[r->lang]++;
}

static int measure(const char *path)
{
    size_t len = 0;
    unsigned char *data = slurp(path, &len);
    struct lang_model m;
    struct tally t[2]; /* sentences, snippets */
    long fo = 0, *n = t[0].n, *snippets = t[1].n;
    memset(t, 0, sizeof(t));
    if(!data || lang_model_parse(data, len, &m)) {
        fprintf(stderr, "train_lang: the written model does not read back\n");
        free(data);
        return -1;
    }
    for(size_t i = 0; i < nlines; i++) {
        const struct line *l = &lines[i];
        struct lang_result r;
        int words = count_words(l->text);
        size_t a = 0, b = 0;
        if(!l->dev && l->cls >= 0)
            continue;
        lang_identify(&m, l->text, strlen(l->text), &r);
        if(l->cls == show_errors && (int)r.lang != l->cls)
            fprintf(stderr, "misread as %s (p %.2f, %d letters): %s\n", lang_code(r.lang), (double)r.p, r.letters,
                    l->text);
        fo += l->cls < 0;
        count(&t[0], l, &r);
        if(words < 2 || word_span(l->text, (int)(l->number % (words - 1)), 2, &a, &b))
            continue;
        lang_identify(&m, l->text + a, b, &r);
        count(&t[1], l, &r);
    }
    printf("%-6s %9s %9s %7s   (best class alone: sentences, snippets)\n", "lang", "sentences", "snippets", "n");
    for(int c = 0; c < LANG_CLASSES; c++)
        printf("%-6s %9.3f %9.3f %7ld   %.3f %.3f\n", lang_code((enum lang_id)c), n[c] ? (double)t[0].ok[c] / n[c] : 0,
               snippets[c] ? (double)t[1].ok[c] / snippets[c] : 0, n[c], n[c] ? (double)t[0].argmax[c] / n[c] : 0,
               snippets[c] ? (double)t[1].argmax[c] / snippets[c] : 0);
    printf("nb read as nn: %.1f%% of sentences, %.1f%% of snippets; as da: %.1f%%, %.1f%%; und: %.1f%% of snippets\n",
           100.0 * t[0].nbto[LANG_NN] / n[LANG_NB], 100.0 * t[1].nbto[LANG_NN] / snippets[LANG_NB],
           100.0 * t[0].nbto[LANG_DA] / n[LANG_NB], 100.0 * t[1].nbto[LANG_DA] / snippets[LANG_NB],
           100.0 * t[1].nbto[LANG_UND] / snippets[LANG_NB]);
    printf("unseen language (fo, %ld sentences): %.1f%% of sentences and %.1f%% of snippets read as other\n", fo,
           fo ? 100.0 * t[0].other / fo : 0, fo ? 100.0 * t[1].other / fo : 0);
    for(int c = 0; c < LANG_CLASSES; c++)
        printf("result lang=%s sentences=%.4f snippets=%.4f n=%ld\n", lang_code((enum lang_id)c),
               n[c] ? (double)t[0].ok[c] / n[c] : 0, snippets[c] ? (double)t[1].ok[c] / snippets[c] : 0, n[c]);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t bits = 18, mask;
    int epochs = 8;
    float lr = 0.5f;
    int weighting = 2;            /* classes weighted: 0 not, 1 by 1/size, 2 by 1/sqrt(size) */
    long count[LANG_CLASSES] = {0}, total = 0;
    float weight[LANG_CLASSES], scale = 0;
    size_t *order;
    if(argc < 3) {
        fprintf(stderr, "usage: train_lang DATA_DIR OUT.bin [--bits N] [--epochs N] [--lr X] [--weighting 0|1|2] [--seed N] [--errors LANG]\n");
        return 2;
    }
    for(int i = 3; i + 1 < argc; i += 2) {
        if(!strcmp(argv[i], "--bits"))
            bits = (uint32_t)atoi(argv[i + 1]);
        else if(!strcmp(argv[i], "--epochs"))
            epochs = atoi(argv[i + 1]);
        else if(!strcmp(argv[i], "--weighting"))
            weighting = atoi(argv[i + 1]);
        else if(!strcmp(argv[i], "--errors"))
            show_errors = lang_from_code(argv[i + 1]);
        else if(!strcmp(argv[i], "--lr"))
            lr = strtof(argv[i + 1], NULL);
        else if(!strcmp(argv[i], "--seed"))
            rng = strtoull(argv[i + 1], NULL, 10) | 1;
        else
            return fprintf(stderr, "train_lang: unknown option %s\n", argv[i]), 2;
    }
    if(bits < 10 || bits > 24 || epochs < 1 || weighting < 0 || weighting > 2)
        return fprintf(stderr, "train_lang: --bits 10..24, --epochs from 1, --weighting 0, 1 or 2\n"), 2;
    for(size_t s = 0; s < NSOURCES; s++)
        if(read_source(argv[1], &sources[s]))
            return 1;
    for(size_t i = 0; i < nlines; i++)
        if(!lines[i].dev && lines[i].cls >= 0) {
            count[lines[i].cls]++;
            total++;
        }
    for(int c = 0; c < LANG_CLASSES; c++)
        weight[c] = !count[c] ? 0 : weighting == 0 ? 1.0f : weighting == 2 ? sqrtf((float)total / (float)(LANG_CLASSES * count[c])) : (float)total / (float)(LANG_CLASSES * count[c]);
    mask = ((uint32_t)1 << bits) - 1;
    W = calloc(((size_t)1 << bits) * LANG_CLASSES, sizeof(*W));
    G = calloc(((size_t)1 << bits) * LANG_CLASSES, sizeof(*G));
    order = malloc(nlines * sizeof(*order));
    if(!W || !G || !order)
        return fprintf(stderr, "train_lang: out of memory\n"), 1;
    for(int e = 0; e < epochs; e++) {
        size_t k = 0;
        for(size_t i = 0; i < nlines; i++)
            if(!lines[i].dev && lines[i].cls >= 0)
                order[k++] = i;
        for(size_t i = k; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)(next_rand() % i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for(size_t x = 0; x < k; x++) {
            const struct line *l = &lines[order[x]];
            int words = count_words(l->text);
            size_t a, b;
            learn(l->text, strlen(l->text), l->cls, weight[l->cls], mask, lr);
            for(int piece = 0; piece < 2; piece++) {
                int want = piece == 0 ? 1 + (int)(next_rand() % 3) : 4 + (int)(next_rand() % 5);
                if(words <= want)
                    continue;
                if(!word_span(l->text, (int)(next_rand() % (uint64_t)(words - want + 1)), want, &a, &b))
                    learn(l->text + a, b, l->cls, weight[l->cls], mask, lr);
            }
        }
        fprintf(stderr, "train_lang: epoch %d of %d done\n", e + 1, epochs);
    }
    if(write_model(argv[2], bits, &scale))
        return fprintf(stderr, "train_lang: writing %s failed\n", argv[2]), 1;
    printf("model: %s, 2^%u buckets x %d classes, %zu bytes, scale %g; trained on %ld sentences\n", argv[2],
           bits, LANG_CLASSES, (size_t)20 + 4 * LANG_CLASSES + ((size_t)1 << bits) * LANG_CLASSES, (double)scale, total);
    return measure(argv[2]) ? 1 : 0;
}
