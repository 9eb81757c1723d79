/*
 * core_fixture.h: a core on the store fixture (store_fixture.h): a migrated store in a
 * fresh folder, its secret key, and the operator as actor. Header-only, for the unit tests
 * of core/ (test_core.c, test_plan.c, test_csv.c).
 */
#ifndef SAM_TEST_CORE_FIXTURE_H
#define SAM_TEST_CORE_FIXTURE_H

#include "core/core.h"
#include "store_fixture.h"

/* Opens the store fixture named name (pool connections) into *store, and a core on it with
 * its key in the fixture's folder into *c; *sys is the operator. 0, or -1 on failure. */
static inline int fx_core_open(const char *name, int pool, struct fx **store, struct core *c, struct actor *sys)
{
    void *sf = NULL;
    char path[128];
    if(fx_open(&sf, name, "s.db", pool))
        return -1;
    *store = sf;
    c->st = (*store)->st;
    snprintf(path, sizeof(path), "%s/secret.key", (*store)->dir);
    if(core_key_load(c, NULL, path))
        return -1;
    memset(sys, 0, sizeof(*sys));
    sys->system = 1;
    snprintf(sys->label, sizeof(sys->label), "test");
    return 0;
}

#endif
