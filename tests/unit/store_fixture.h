/*
 * store_fixture.h: a migrated SQLite store in a fresh temporary folder, the fixture of the
 * unit tests that work on the store itself (test_store.c, test_mail.c). Header-only
 * (static inline functions); the folder is removed with everything in it on teardown.
 */
#ifndef SAM_TEST_STORE_FIXTURE_H
#define SAM_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"

struct fx {
    char dir[64];
    char path[128];
    struct store *st;
};

/* Opens and migrates the store at dir/db (a path inside the new folder) in a folder named
 * after tag; fails unless the schema is at least min_version. */
static inline int fx_open(void **state, const char *tag, const char *db, int min_version)
{
    struct fx *f = calloc(1, sizeof(*f));
    int v = 0;
    if(!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/samtale-%s-XXXXXX", tag);
    if(!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, db);
    if(store_open(f->path, &f->st) || store_migrate(f->st, &v) || v < min_version)
        return -1;
    *state = f;
    return 0;
}

static inline int fx_close(void **state)
{
    struct fx *f = *state;
    char cmd[200];
    store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if(system(cmd))
        return -1;
    free(f);
    return 0;
}

#endif
