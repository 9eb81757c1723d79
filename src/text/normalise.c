/*
 * normalise.c: the comparison form of a text, link spans and grapheme counts (see
 * normalise.h). The input is copied into a bounded stack buffer with links and invalid
 * bytes already replaced by spaces, so utf8proc only ever sees valid UTF-8 of at most
 * TEXT_NORM_MAX_IN bytes; its one allocation is freed before returning.
 */
#include "text/normalise.h"
#include "util/err.h"
#include "util/utf8.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Length of the valid UTF-8 sequence at p (avail bytes left) and its code point, or 0
 * when the bytes there are not valid UTF-8 (overlong forms, surrogates, past U+10FFFF,
 * truncated). */
static size_t seq_decode(const unsigned char *p, size_t avail, int32_t *cp)
{
    unsigned c = p[0], v;
    size_t need;
    if(c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    } else if(c >= 0xc2 && c <= 0xdf) {
        need = 1;
        v = c & 0x1f;
    } else if(c >= 0xe0 && c <= 0xef) {
        need = 2;
        v = c & 0x0f;
    } else if(c >= 0xf0 && c <= 0xf4) {
        need = 3;
        v = c & 0x07;
    } else {
        return 0;
    }
    if(avail <= need)
        return 0;
    for(size_t i = 1; i <= need; i++) {
        if((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if((need == 2 && v < 0x800) || (need == 3 && (v < 0x10000 || v > 0x10ffff)) ||
       (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = (int32_t)v;
    return need + 1;
}

static int is_ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* 1 for a code point that ends a link or a "www." word: whitespace of any kind and
 * controls. */
static int is_space_or_control(int32_t cp)
{
    utf8proc_category_t cat;
    if(cp <= 0x20 || cp == 0x7f)
        return 1;
    if(cp < 0x80)
        return 0;
    cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_CC;
}

size_t text_word_end(const char *s, size_t len, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;
    while(i < len) {
        int32_t cp;
        size_t k = seq_decode(u + i, len - i, &cp);
        if(k == 0 || is_space_or_control(cp))
            break;
        i += k;
    }
    return i;
}

static int prefix_nocase(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    if(len - i < n)
        return 0;
    for(size_t k = 0; k < n; k++) {
        char c = s[i + k];
        if(c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if(c != lit[k])
            return 0;
    }
    return 1;
}

size_t text_url_span(const char *s, size_t len, size_t i)
{
    size_t scheme, end, open = 0, close = 0;
    const unsigned char *u = (const unsigned char *)s;
    if(!s || i >= len || (u[i] | 0x20) != 'h')
        return 0;
    if(i > 0 && is_ascii_alnum(u[i - 1]))
        return 0;
    if(prefix_nocase(s, len, i, "https://"))
        scheme = 8;
    else if(prefix_nocase(s, len, i, "http://"))
        scheme = 7;
    else
        return 0;
    if(i + scheme >= len || !(is_ascii_alnum(u[i + scheme]) || u[i + scheme] >= 0x80))
        return 0;
    end = text_word_end(s, len, i + scheme);
    for(size_t k = i + scheme; k < end; k++) {
        open += u[k] == '(';
        close += u[k] == ')';
    }
    while(end > i + scheme) {
        unsigned char c = u[end - 1];
        if(c == ')' && close > open) {
            close--;
        } else if(!(c && strchr(".,:;!?'\"]}>", c))) {
            break;
        }
        end--;
    }
    if(end == i + scheme)
        return 0;
    return end - i;
}

size_t text_www_span(const char *s, size_t len, size_t i)
{
    unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
    if(((unsigned char)s[i] | 0x20) != 'w' || is_ascii_alnum(prev) || prev == '.' || prev == '/' || prev == '@')
        return 0;
    if(!prefix_nocase(s, len, i, "www.") || i + 4 >= len || !is_ascii_alnum((unsigned char)s[i + 4]))
        return 0;
    return text_word_end(s, len, i) - i;
}

static int keep_category(int32_t cp)
{
    switch(utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

int text_normalise(const char *s, size_t len, char *out, size_t cap, size_t *outlen)
{
    char in[TEXT_NORM_MAX_IN + 1];
    const unsigned char *u = (const unsigned char *)s;
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t mlen, pos = 0;
    size_t n = 0, i = 0, o = 0, limit;
    int pending_space = 0;

    if(outlen)
        *outlen = 0;
    if(!out || cap == 0)
        return SAM_EINVAL;
    out[0] = '\0';
    if(!s)
        len = 0;
    if(len > TEXT_NORM_MAX_IN) {
        /* Cut before a sequence the limit would split (at most 3 continuation bytes). */
        len = TEXT_NORM_MAX_IN;
        for(int k = 0; k < 3 && len > 0 && (u[len] & 0xc0) == 0x80; k++)
            len--;
    }
    while(i < len) {
        int32_t cp;
        size_t k = text_url_span(s, len, i);
        if(k == 0)
            k = text_www_span(s, len, i);
        if(k > 0) {
            in[n++] = ' ';
            i += k;
            continue;
        }
        k = seq_decode(u + i, len - i, &cp);
        if(k == 0 || cp == 0) {
            in[n++] = ' ';
            i++;
            continue;
        }
        memcpy(in + n, s + i, k);
        n += k;
        i += k;
    }
    if(n == 0)
        goto out;
    mlen = utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)n, &mapped,
                        UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
                            UTF8PROC_IGNORE);
    if(mlen < 0)
        return mlen == UTF8PROC_ERROR_NOMEM ? SAM_ENOMEM
                                            : sam_fail(SAM_EINTERNAL, "utf8proc: %s", utf8proc_errmsg(mlen));
    limit = cap - 1 < TEXT_NORM_MAX_OUT ? cap - 1 : TEXT_NORM_MAX_OUT;
    while(pos < mlen) {
        utf8proc_int32_t cp;
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t k = utf8proc_iterate(mapped + pos, mlen - pos, &cp);
        size_t elen;
        if(k <= 0)
            break; /* cannot happen: utf8proc wrote it */
        pos += k;
        if(!keep_category(cp)) {
            pending_space = o > 0;
            continue;
        }
        elen = (size_t)utf8proc_encode_char(cp, enc);
        if(o + (size_t)pending_space + elen > limit)
            break;
        if(pending_space)
            out[o++] = ' ';
        pending_space = 0;
        memcpy(out + o, enc, elen);
        o += elen;
    }
    free(mapped);
out:
    out[o] = '\0';
    if(outlen)
        *outlen = o;
    return SAM_OK;
}

long text_graphemes(const char *s, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_int32_t state = 0, prev = -1;
    size_t i = 0;
    long n = 0;
    if(utf8_count(s, len) < 0)
        return -1;
    while(i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        if(k <= 0)
            return -1;
        if(prev < 0 || utf8proc_grapheme_break_stateful(prev, cp, &state))
            n++;
        prev = cp;
        i += (size_t)k;
    }
    return n;
}

uint64_t text_hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for(size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

long text_mastodon_length(const char *s, size_t len)
{
    size_t i = 0;
    long n = 0;
    if(utf8_count(s, len) < 0)
        return -1;
    while(i < len) {
        size_t u = text_url_span(s, len, i);
        unsigned char b = (unsigned char)s[i];
        if(u > 0) {
            n += TEXT_MASTODON_URL_LENGTH;
            i += u;
            continue;
        }
        n++;
        i += b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4; /* s is valid UTF-8 */
    }
    return n;
}
