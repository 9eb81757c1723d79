/*
 * buf.h: a growable byte buffer with a hard size limit (after curl's dynbuf).
 *
 * Every buffer filled from the network or from a user is a struct buf with a limit; an
 * append that would pass the limit fails with SAM_ETOOBIG and leaves the buffer as it was.
 * The content is always NUL-terminated (the NUL is not counted in len), so text can be
 * read as a C string. Embedded: buf_init / buf_cleanup.
 */
#ifndef SAM_BUF_H
#define SAM_BUF_H

#include <stddef.h>

struct buf {
    char *data;   /* NULL until the first append */
    size_t len;   /* bytes used, without the terminating NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* largest len allowed */
};

void buf_init(struct buf *b, size_t limit);
void buf_cleanup(struct buf *b);
void buf_reset(struct buf *b);

/* Appends n bytes. SAM_ETOOBIG past the limit, SAM_ENOMEM when allocation fails. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text ("" when empty); borrowed, valid until the next change of b. */
const char *buf_str(const struct buf *b);

/* Hands the data to the caller, who frees it with free(); b is left empty. */
char *buf_take(struct buf *b);

#endif
