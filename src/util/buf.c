/* buf.c: bounded growable buffer (see buf.h). */
#include "util/buf.h"
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void buf_cleanup(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if(b->data)
        b->data[0] = '\0';
}

static int grow(struct buf *b, size_t need)
{
    size_t cap;
    char *p;
    if(need + 1 <= b->cap)
        return SAM_OK;
    cap = b->cap ? b->cap : 64;
    while(cap < need + 1)
        cap *= 2;
    if(cap > b->limit + 1)
        cap = b->limit + 1;
    p = realloc(b->data, cap);
    if(!p)
        return SAM_ENOMEM;
    b->data = p;
    b->cap = cap;
    return SAM_OK;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int rc;
    if(n > b->limit || b->len > b->limit - n)
        return SAM_ETOOBIG;
    rc = grow(b, b->len + n);
    if(rc)
        return rc;
    if(n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SAM_OK;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    int n, rc;
    char *big;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if(n < 0)
        return SAM_EINTERNAL;
    if((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    big = malloc((size_t)n + 1);
    if(!big)
        return SAM_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

char *buf_take(struct buf *b)
{
    char *p = b->data;
    if(!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
