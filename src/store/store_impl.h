/*
 * store_impl.h: what a store is inside src/store/ (sql.c, copy.c): its pool of
 * connections, and the connections of its own that the locks and the listener keep.
 */
#ifndef SAM_STORE_IMPL_H
#define SAM_STORE_IMPL_H

#include "store/db.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>

struct store {
    struct db_pool *pool;
    /* store_lock, per kind: one thread of this process at a time, then the engine's lock
     * on a connection of its own (PostgreSQL) or a lock file (SQLite) */
    struct {
        pthread_mutex_t mu;
        struct dbc *conn;
    } locks[STORE_LOCK_KINDS];
    /* PostgreSQL: a thread that listens (a connection of its own) for the words other
     * processes send: work became due (store_wait_due), authentication changed. Started
     * when first needed. */
    pthread_mutex_t watch_mu;
    pthread_cond_t watch_cv;
    pthread_t watcher;
    int watching;
    volatile int stop_watch;
    struct dbc *listener;
    unsigned due_words, due_seen;
    _Atomic unsigned long auth_words;
    _Atomic int listening;       /* the watcher listens now: nothing said since is missed */
    /* SQLite: a read-only connection of its own whose data_version changes whenever
     * anyone commits a change (the CLI beside the server included). */
    pthread_mutex_t epoch_mu;
    struct dbc *epoch_conn;
    /* Bumped after every write of this process to accounts, sessions, tokens and
     * memberships (the authentication cache of core/auth.c drops what it read before). */
    _Atomic unsigned long auth_gen;
    uint64_t serial; /* store_serial */
};

#endif
