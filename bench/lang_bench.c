/*
 * lang_bench.c: how fast lang_identify (src/text/lang.h) is on one core, against a
 * reference in the same run: text_normalise (src/text/normalise.h), the comparison form
 * the spam checks make of every post, over the same texts.
 *
 *   build/lang_bench [DATA_DIR] [SECONDS]      (defaults: ../shared/data 2)
 *
 * Texts: the held-out sentences of DATA_DIR/langid/{nb,nn,sv,da,en}.txt (every tenth
 * line, as tools/train_lang.c holds them out), and each of them cut or repeated to exactly
 * 100 characters for the per-text time of a 100-character text.
 * Each measurement runs for SECONDS (the median of five runs of a fifth of it) and reports
 * texts per second and microseconds a text.
 * The last line is for scripts:
 *   result lang_per_s=N lang_us_100=X ref_per_s=N ref_us_100=X ratio_100=X model_bytes=N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/lang.h"
#include "text/normalise.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct text {
    char *s;
    size_t len;
};

static volatile unsigned sink;

static double rate_once(struct text *t, size_t n, double secs, int lang);

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Texts per second: the median of five runs of secs / 5 seconds each (a shared machine
 * moves single runs by 10-20%). */
static double rate(struct text *t, size_t n, double secs, int lang)
{
    double r[5];
    for(int i = 0; i < 5; i++)
        r[i] = rate_once(t, n, secs / 5, lang);
    qsort(r, 5, sizeof(r[0]), cmp_double);
    return r[2];
}

/* Runs f over the texts, round after round, for about secs seconds: texts per second. */
static double rate_once(struct text *t, size_t n, double secs, int lang)
{
    static char norm[TEXT_NORM_MAX_OUT + 1];
    double t0 = now_s(), el;
    long done = 0;
    do {
        for(size_t i = 0; i < n; i++) {
            if(lang) {
                struct lang_result r;
                lang_identify(NULL, t[i].s, t[i].len, &r);
                sink += (unsigned)r.lang;
            } else {
                size_t outlen;
                text_normalise(t[i].s, t[i].len, norm, sizeof(norm), &outlen);
                sink += (unsigned)outlen;
            }
        }
        done += (long)n;
        el = now_s() - t0;
    } while(el < secs);
    return (double)done / el;
}

int main(int argc, char **argv)
{
    static const char *const files[] = {"nb", "nn", "sv", "da", "en"};
    const char *dir = argc > 1 ? argv[1] : "../shared/data";
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    struct text *all = NULL, *hundred = NULL;
    size_t n = 0, cap = 0;
    double lang_all, ref_all, lang_100, ref_100;
    const struct lang_model *m = lang_model_default();
    if(!m)
        return fprintf(stderr, "lang_bench: no language model in this build\n"), 1;
    for(int k = 0; k < 5; k++) {
        char path[4200], *line = NULL;
        size_t lcap = 0;
        ssize_t len;
        long number = 0;
        FILE *f;
        snprintf(path, sizeof(path), "%s/langid/%s.txt", dir, files[k]);
        if(!(f = fopen(path, "r")))
            return fprintf(stderr, "lang_bench: cannot read %s\n", path), 1;
        while((len = getline(&line, &lcap, f)) >= 0) {
            while(len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
            if(len == 0 || number++ % 10)
                continue;
            if(n == cap) {
                cap = cap ? cap * 2 : 4096;
                all = realloc(all, cap * sizeof(*all));
                hundred = realloc(hundred, cap * sizeof(*hundred));
                if(!all || !hundred)
                    return 1;
            }
            all[n].s = strdup(line);
            all[n].len = (size_t)len;
            /* 100 characters of it (code points), repeated with a space between as needed */
            hundred[n].s = malloc(100 * 4 + 1);
            if(!all[n].s || !hundred[n].s)
                return 1;
            {
                size_t at = 0, i = 0;
                int chars = 0;
                while(chars < 100) {
                    unsigned char c = i < (size_t)len ? (unsigned char)line[i] : ' ';
                    int more = 0;
                    chars++;
                    hundred[n].s[at++] = (char)c;
                    i = i < (size_t)len ? i + 1 : 0;
                    /* the rest of the character: at most 3 bytes, whatever the line holds */
                    while(i < (size_t)len && ((unsigned char)line[i] & 0xc0) == 0x80 && more++ < 3)
                        hundred[n].s[at++] = line[i++];
                    while(i < (size_t)len && ((unsigned char)line[i] & 0xc0) == 0x80)
                        i++;
                }
                hundred[n].s[at] = '\0';
                hundred[n].len = at;
            }
            n++;
        }
        free(line);
        fclose(f);
    }
    lang_all = rate(all, n, secs, 1);
    ref_all = rate(all, n, secs, 0);
    lang_100 = rate(hundred, n, secs, 1);
    ref_100 = rate(hundred, n, secs, 0);
    printf("texts: %zu held-out sentences (nb, nn, sv, da, en), and each as 100 characters\n", n);
    printf("language, sentences:     %9.0f texts/s  %6.2f us a text\n", lang_all, 1e6 / lang_all);
    printf("reference, sentences:    %9.0f texts/s  %6.2f us a text (text_normalise)\n", ref_all, 1e6 / ref_all);
    printf("language, 100 chars:     %9.0f texts/s  %6.2f us a text (goal: at most 3 us)\n", lang_100, 1e6 / lang_100);
    printf("reference, 100 chars:    %9.0f texts/s  %6.2f us a text\n", ref_100, 1e6 / ref_100);
    printf("language / reference time on 100 characters: %.2f\n", ref_100 / lang_100);
    printf("model: %zu bytes (2^%u buckets x %d classes)\n", ((size_t)1 << m->bits) * LANG_CLASSES, m->bits,
           LANG_CLASSES);
    printf("result lang_per_s=%.0f lang_us_100=%.3f ref_per_s=%.0f ref_us_100=%.3f ratio_100=%.2f model_bytes=%zu\n",
           lang_all, 1e6 / lang_100, ref_all, 1e6 / ref_100, ref_100 / lang_100,
           ((size_t)1 << m->bits) * LANG_CLASSES);
    return 0;
}
