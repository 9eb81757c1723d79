/*
 * store_impl.h: what a store is inside src/store/ (sql.c, copy.c): its pool of
 * connections, and the connections of its own that the locks and the listener keep.
 */
#ifndef SAM_STORE_IMPL_H
#define SAM_STORE_IMPL_H

#include "store/db.h"

#include <pthread.h>

struct store {
    struct db_pool *pool;
    /* store_lock: one thread of this process at a time, then the engine's lock on a
     * connection of its own (PostgreSQL) or a lock file (SQLite) */
    pthread_mutex_t lock_mu;
    struct dbc *locker;
    /* store_wait_due: the connection that listens (PostgreSQL) */
    pthread_mutex_t listen_mu;
    struct dbc *listener;
};

#endif
