/*
 * store_fixture.h: a migrated store in a fresh temporary folder, the fixture of the unit
 * tests that work on the store itself (test_store.c, test_mail.c). Header-only (static
 * inline functions); the folder is removed with everything in it on teardown.
 *
 * The store is a SQLite file in that folder, or, when SAMTALE_TEST_ENGINE is "postgres"
 * (scripts/test.sh sets it, with SAMTALE_TEST_PG_DIR naming the folder of the throwaway
 * cluster of tests/peers/pgcluster.py), a fresh database in that cluster, dropped on
 * teardown.
 */
#ifndef SAM_TEST_STORE_FIXTURE_H
#define SAM_TEST_STORE_FIXTURE_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

struct fx {
    char dir[64];
    char path[512];
    char pgdb[64];   /* the database made for this test on PostgreSQL, "" on SQLite */
    struct store *st;
};

/* Whether the store tests run on PostgreSQL this time. */
static inline int fx_postgres(void)
{
    const char *e = getenv("SAMTALE_TEST_ENGINE");
    return e && !strcmp(e, "postgres") && getenv("SAMTALE_TEST_PG_DIR");
}

/* Runs one statement as the test cluster's superuser on its postgres database. */
static inline int fx_pg_admin(const char *sql)
{
    char url[400];
    PGconn *c;
    PGresult *r;
    int ok;
    snprintf(url, sizeof(url), "postgresql:///postgres?host=%s/sock&user=postgres", getenv("SAMTALE_TEST_PG_DIR"));
    c = PQconnectdb(url);
    if(PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "fixture: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if(!ok)
        fprintf(stderr, "fixture: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

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
    if(fx_postgres()) {
        static int counter;
        char sql[128];
        snprintf(f->pgdb, sizeof(f->pgdb), "u_%s_%d_%d", tag, (int)getpid(), ++counter);
        snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\" TEMPLATE template0", f->pgdb);
        if(fx_pg_admin(sql))
            return -1;
        snprintf(f->path, sizeof(f->path), "postgresql:///%s?host=%s/sock&user=postgres", f->pgdb,
                 getenv("SAMTALE_TEST_PG_DIR"));
    }
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
    if(f->pgdb[0]) {
        snprintf(cmd, sizeof(cmd), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", f->pgdb);
        if(fx_pg_admin(cmd))
            return -1;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if(system(cmd))
        return -1;
    free(f);
    return 0;
}

#endif
