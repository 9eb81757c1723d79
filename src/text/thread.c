/* thread.c: splitting a long text into a numbered thread (see thread.h). ICU finds the
 * sentence and line-break boundaries over the UTF-8 text itself (a UText: its native
 * indexes are byte offsets); utf8proc counts graphemes as text_graphemes does. */
#include "text/thread.h"
#include "text/normalise.h"
#include "util/err.h"
#include "util/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>
#include <utf8proc.h>

struct cuts {
    size_t *at;
    size_t n, cap;
};

static int cuts_add(struct cuts *c, size_t at)
{
    if(c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        size_t *a = realloc(c->at, cap * sizeof(*a));
        if(!a)
            return SAM_ENOMEM;
        c->at = a;
        c->cap = cap;
    }
    c->at[c->n++] = at;
    return SAM_OK;
}

/* 1 when byte i lies inside a link (a cut there would break it). */
static int in_link(const char *s, size_t len, size_t i)
{
    /* Links are short next to a thread part: look back at most 2,000 bytes for a start. */
    size_t from = i > 2000 ? i - 2000 : 0;
    for(size_t k = from; k < i; k++) {
        size_t span = text_url_span(s, len, k);
        if(span && k < i && i < k + span)
            return 1;
        if(span)
            k += span - 1;
    }
    return 0;
}

/* The boundaries of kind (UBRK_SENTENCE or UBRK_LINE) strictly inside s, outside links. */
static int boundaries(const char *s, size_t len, const char *lang, UBreakIteratorType kind, struct cuts *out)
{
    UErrorCode st = U_ZERO_ERROR;
    UText *ut = utext_openUTF8(NULL, s, (int64_t)len, &st);
    UBreakIterator *bi = NULL;
    int rc = SAM_OK;
    if(U_SUCCESS(st))
        bi = ubrk_open(kind, lang && *lang ? lang : "", NULL, 0, &st);
    if(U_SUCCESS(st))
        ubrk_setUText(bi, ut, &st);
    if(U_FAILURE(st)) {
        rc = sam_fail(SAM_EINTERNAL, "the text's boundaries could not be found (%s)", u_errorName(st));
    } else {
        for(int32_t b = ubrk_next(bi); !rc && b != UBRK_DONE; b = ubrk_next(bi))
            if(b > 0 && (size_t)b < len && !in_link(s, len, (size_t)b))
                rc = cuts_add(out, (size_t)b);
    }
    if(bi)
        ubrk_close(bi);
    if(ut)
        utext_close(ut);
    return rc;
}

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* [a, b) without ASCII whitespace at its ends. */
static void trim(const char *s, size_t *a, size_t *b)
{
    while(*a < *b && is_ws((unsigned char)s[*a]))
        (*a)++;
    while(*b > *a && is_ws((unsigned char)s[*b - 1]))
        (*b)--;
}

static int fits(text_count_fn count, const char *s, size_t a, size_t b, long limit, size_t max_bytes)
{
    long n;
    trim(s, &a, &b);
    if(b - a > max_bytes)
        return 0;
    n = count(s + a, b - a);
    return n >= 0 && n <= limit;
}

/* The furthest grapheme boundary after a such that [a, end) fits; at least one grapheme
 * (a single grapheme longer than a part is cut after it anyway). */
static size_t hard_cut(text_count_fn count, const char *s, size_t a, size_t len, long limit, size_t max_bytes)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_int32_t state = 0, prev = -1, cp;
    size_t i = a, last = a;
    while(i < len) {
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        if(k <= 0)
            break;
        if(prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state)) {
            /* a boundary at i: does [a, i) fit? */
            if(!fits(count, s, a, i, limit, max_bytes))
                return last > a ? last : i;
            last = i;
        }
        prev = cp;
        i += (size_t)k;
    }
    return fits(count, s, a, i, limit, max_bytes) || last == a ? i : last;
}

static size_t digits(size_t n)
{
    size_t d = 1;
    while(n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

/* One pass with room for numbers of d digits: 0, or 1 when a number would need more. */
static int pack(text_count_fn count, const char *s, size_t len, long limit, size_t max_bytes, const struct cuts *sent,
                const struct cuts *line, size_t d, struct text_part *parts, size_t max, size_t *n, int *more)
{
    size_t reserve = 3 + 2 * d; /* "\n\n" + k + "/" + n */
    long budget = limit - (long)reserve;
    size_t bytes = max_bytes > reserve ? max_bytes - reserve : 0, a = 0, si = 0, li = 0;
    *n = 0;
    *more = 0;
    if(budget < 1 || bytes < 4)
        return sam_fail(SAM_EINVAL, "the limit is too small for a thread");
    while(a < len && is_ws((unsigned char)s[a]))
        a++;
    while(a < len) {
        size_t end = 0, pa, pb;
        if(fits(count, s, a, len, budget, bytes)) {
            end = len;
        } else {
            /* The furthest sentence end that fits; else the furthest line break; else a
             * cut between characters. */
            while(si < sent->n && sent->at[si] <= a)
                si++;
            for(size_t k = si; k < sent->n && fits(count, s, a, sent->at[k], budget, bytes); k++)
                end = sent->at[k];
            if(!end) {
                while(li < line->n && line->at[li] <= a)
                    li++;
                for(size_t k = li; k < line->n && fits(count, s, a, line->at[k], budget, bytes); k++)
                    end = line->at[k];
            }
            if(!end)
                end = hard_cut(count, s, a, len, budget, bytes);
        }
        pa = a;
        pb = end;
        trim(s, &pa, &pb);
        if(pb > pa) {
            if(*n == max)
                return sam_fail(SAM_ETOOBIG, "the text would need more than %zu posts", max);
            parts[*n].start = pa;
            parts[*n].len = pb - pa;
            (*n)++;
        }
        a = end;
        while(a < len && is_ws((unsigned char)s[a]))
            a++;
    }
    if(digits(*n) > d)
        *more = 1;
    return SAM_OK;
}

int text_thread_split(const char *text, long limit, size_t max_bytes, const char *lang, text_count_fn count,
                      struct text_part *parts, size_t max, size_t *n)
{
    size_t len = text ? strlen(text) : 0, a = 0, b = len;
    struct cuts sent = {0}, line = {0};
    int rc, more = 0;
    *n = 0;
    if(!text || utf8_count(text, len) < 0)
        return sam_fail(SAM_EINVAL, "the text is not valid UTF-8");
    if(max == 0 || limit < 8 || max_bytes < 16)
        return sam_fail(SAM_EINVAL, "the limit is too small for a thread");
    if(!count)
        count = text_graphemes;
    trim(text, &a, &b);
    if(fits(count, text, a, b, limit, max_bytes)) {
        parts[0].start = a;
        parts[0].len = b - a;
        *n = 1;
        return SAM_OK;
    }
    rc = boundaries(text, len, lang, UBRK_SENTENCE, &sent);
    if(!rc)
        rc = boundaries(text, len, lang, UBRK_LINE, &line);
    for(size_t d = 1; !rc && d <= 3; d++) {
        rc = pack(count, text, len, limit, max_bytes, &sent, &line, d, parts, max, n, &more);
        if(!rc && !more)
            break;
    }
    free(sent.at);
    free(line.at);
    if(!rc && *n == 1) { /* only the trimmed ends made it long: one part after all */
        parts[0].start = a;
        parts[0].len = b - a;
    }
    return rc;
}

char *text_thread_part(const char *text, const struct text_part *p, size_t k, size_t n)
{
    char num[48] = "";
    size_t nl;
    char *out;
    if(n > 1)
        snprintf(num, sizeof(num), "\n\n%zu/%zu", k + 1, n);
    nl = strlen(num);
    out = malloc(p->len + nl + 1);
    if(!out)
        return NULL;
    memcpy(out, text + p->start, p->len);
    memcpy(out + p->len, num, nl + 1);
    return out;
}
