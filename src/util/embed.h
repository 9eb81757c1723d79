/*
 * embed.h: files compiled into the binary by tools/embed.c (dashboard assets, migrations).
 * Each generated table is sorted by name; data is NUL-terminated (not counted in len).
 */
#ifndef SAM_EMBED_H
#define SAM_EMBED_H

#include <stddef.h>

struct embedded_file {
    const char *name; /* path relative to the embedded directory, '/'-separated */
    const unsigned char *data;
    size_t len;
};

#endif
