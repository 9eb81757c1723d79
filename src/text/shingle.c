/*
 * shingle.c: character 4-gram signatures and their Dice similarity (see shingle.h).
 * Working buffers are on the stack and bounded by TEXT_NORM_MAX_OUT and
 * TEXT_SIG_MAX_CHARS; the only heap block is the signature's own array.
 */
#include "text/shingle.h"
#include "text/normalise.h"
#include "util/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define GRAM 4
#define NO_CP 0x1fffff /* fills a short text's only shingle; not a code point */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Code points are below 2^21, so three of them pack into one 63-bit word. */
static uint32_t gram_hash(const int32_t *c)
{
    uint64_t a = (uint64_t)(uint32_t)c[0] | (uint64_t)(uint32_t)c[1] << 21 | (uint64_t)(uint32_t)c[2] << 42;
    return (uint32_t)(mix64(a ^ mix64((uint64_t)(uint32_t)c[3] + 0x9e3779b97f4a7c15ULL)) >> 32);
}

/* Sorts v[0..n) ascending: insertion sort for short arrays, else a byte-wise LSD radix
 * sort through tmp (room for n). */
static void sort_u32(uint32_t *v, uint32_t *tmp, size_t n)
{
    if(n < 48) {
        for(size_t i = 1; i < n; i++) {
            uint32_t x = v[i];
            size_t j = i;
            for(; j > 0 && v[j - 1] > x; j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
        return;
    }
    for(int shift = 0; shift < 32; shift += 8) {
        size_t cnt[257] = {0};
        for(size_t i = 0; i < n; i++)
            cnt[((v[i] >> shift) & 0xff) + 1]++;
        for(int b = 0; b < 256; b++)
            cnt[b + 1] += cnt[b];
        for(size_t i = 0; i < n; i++)
            tmp[cnt[(v[i] >> shift) & 0xff]++] = v[i];
        memcpy(v, tmp, n * sizeof(*v));
    }
}

int text_sig_build(const char *s, struct text_sig *sig)
{
    char form[TEXT_NORM_MAX_OUT + 1];
    int32_t cps[TEXT_SIG_MAX_CHARS + 2];
    uint32_t tmp[TEXT_SIG_MAX_CHARS + 2];
    size_t len, flen = 0, m = 0, pos = 0, ngram, k;
    uint32_t *h;
    int rc;

    memset(sig, 0, sizeof(*sig));
    if(!s)
        s = "";
    for(len = 0; len <= TEXT_NORM_MAX_IN && s[len]; len++)
        ;
    sig->raw = text_hash(s, len > TEXT_NORM_MAX_IN ? TEXT_NORM_MAX_IN : len);
    rc = text_normalise(s, len, form, sizeof(form), &flen);
    if(rc)
        return rc;
    sig->form_len = flen;
    if(flen == 0)
        return SAM_OK;
    sig->form = text_hash(form, flen);
    if(sig->form == 0)
        sig->form = 1; /* 0 means "empty" */
    cps[m++] = ' ';
    while(pos < flen && m < TEXT_SIG_MAX_CHARS + 1) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step = utf8proc_iterate((const utf8proc_uint8_t *)form + pos,
                                                 (utf8proc_ssize_t)(flen - pos), &cp);
        if(step <= 0)
            break; /* cannot happen: text_normalise writes valid UTF-8 */
        cps[m++] = cp;
        pos += (size_t)step;
    }
    cps[m++] = ' ';
    if(m < GRAM) {
        for(k = m; k < GRAM; k++)
            cps[k] = NO_CP;
        ngram = 1;
    } else {
        ngram = m - GRAM + 1;
    }
    h = malloc(ngram * sizeof(*h));
    if(!h)
        return SAM_ENOMEM;
    for(k = 0; k < ngram; k++)
        h[k] = gram_hash(cps + k);
    sort_u32(h, tmp, ngram);
    m = 0;
    for(k = 0; k < ngram; k++)
        if(m == 0 || h[m - 1] != h[k])
            h[m++] = h[k];
    sig->h = h;
    sig->n = m;
    sig->bucket_ok = 1;
    for(k = 0; k < m; k++) {
        uint8_t *b = &sig->bucket[h[k] >> 24];
        if(*b == UINT8_MAX)
            sig->bucket_ok = 0;
        else
            (*b)++;
    }
    return SAM_OK;
}

void text_sig_cleanup(struct text_sig *sig)
{
    if(!sig)
        return;
    free(sig->h);
    memset(sig, 0, sizeof(*sig));
}

/* Similarity when either comparison form is empty or both are the same form; -1 when the
 * shingles must be compared. */
static double trivial(const struct text_sig *a, const struct text_sig *b)
{
    if(a->form_len == 0 && b->form_len == 0)
        return a->raw == b->raw ? 1.0 : 0.0;
    if(a->form_len == 0 || b->form_len == 0 || a->n == 0 || b->n == 0)
        return 0.0;
    if(a->form == b->form && a->form_len == b->form_len)
        return 1.0;
    return -1.0;
}

static double dice(size_t inter, size_t na, size_t nb)
{
    return 2.0 * (double)inter / (double)(na + nb);
}

double text_sig_similarity(const struct text_sig *a, const struct text_sig *b)
{
    size_t i = 0, j = 0, inter = 0;
    double t = trivial(a, b);
    if(t >= 0)
        return t;
    while(i < a->n && j < b->n) {
        if(a->h[i] < b->h[j]) {
            i++;
        } else if(a->h[i] > b->h[j]) {
            j++;
        } else {
            inter++;
            i++;
            j++;
        }
    }
    return dice(inter, a->n, b->n);
}

int text_sig_at_least(const struct text_sig *a, const struct text_sig *b, double threshold,
                      double *score)
{
    size_t i = 0, j = 0, inter = 0, need, lo;
    double t = trivial(a, b);
    if(threshold != threshold)
        return 0; /* NaN: nothing reaches it */
    if(threshold < 0)
        threshold = 0;
    if(t >= 0) {
        if(t < threshold)
            return 0;
        *score = t;
        return 1;
    }
    /* need: the fewest shared shingles whose Dice reaches the threshold (computed with
     * the same arithmetic as the final score, so both always agree). */
    lo = a->n < b->n ? a->n : b->n;
    if(dice(lo, a->n, b->n) < threshold)
        return 0;
    need = (size_t)(threshold * (double)(a->n + b->n) / 2.0);
    if(need > lo)
        need = lo;
    while(need > 0 && dice(need - 1, a->n, b->n) >= threshold)
        need--;
    while(need < lo && dice(need, a->n, b->n) < threshold)
        need++;
    if(a->bucket_ok && b->bucket_ok) {
        size_t bound = 0;
        for(size_t k = 0; k < TEXT_SIG_BUCKETS; k++)
            bound += a->bucket[k] < b->bucket[k] ? a->bucket[k] : b->bucket[k];
        if(bound < need)
            return 0;
    }
    while(i < a->n && j < b->n) {
        size_t ra = a->n - i, rb = b->n - j;
        if(inter + (ra < rb ? ra : rb) < need)
            return 0;
        if(a->h[i] < b->h[j]) {
            i++;
        } else if(a->h[i] > b->h[j]) {
            j++;
        } else {
            inter++;
            i++;
            j++;
        }
    }
    if(inter < need)
        return 0;
    *score = dice(inter, a->n, b->n);
    return 1;
}

/* ---- the signature cache ---- */

#define SIG_CACHE 4096

static struct {
    uint64_t key;
    size_t len;
    struct text_sig sig;
    int used;
} sig_cache[SIG_CACHE];
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;

/* Copies a signature (its array too). */
static int sig_copy(const struct text_sig *from, struct text_sig *to)
{
    *to = *from;
    to->h = NULL;
    if(from->n) {
        to->h = malloc(from->n * sizeof(*to->h));
        if(!to->h) {
            memset(to, 0, sizeof(*to));
            return SAM_ENOMEM;
        }
        memcpy(to->h, from->h, from->n * sizeof(*to->h));
    }
    return SAM_OK;
}

int text_sig_build_cached(const char *s, struct text_sig *sig)
{
    size_t len = s ? strlen(s) : 0;
    uint64_t key = text_hash(s ? s : "", len);
    size_t slot = (size_t)(key % SIG_CACHE);
    int rc;

    pthread_mutex_lock(&sig_mu);
    if(sig_cache[slot].used && sig_cache[slot].key == key && sig_cache[slot].len == len) {
        rc = sig_copy(&sig_cache[slot].sig, sig);
        pthread_mutex_unlock(&sig_mu);
        return rc;
    }
    pthread_mutex_unlock(&sig_mu);
    rc = text_sig_build(s, sig);
    if(rc)
        return rc;
    pthread_mutex_lock(&sig_mu);
    if(sig_cache[slot].used)
        text_sig_cleanup(&sig_cache[slot].sig);
    sig_cache[slot].used = sig_copy(sig, &sig_cache[slot].sig) == SAM_OK;
    sig_cache[slot].key = key;
    sig_cache[slot].len = len;
    pthread_mutex_unlock(&sig_mu);
    return SAM_OK;
}
