/*
 * err.h: the one error enum of samtale, and a per-thread message that says what
 * happened in words a person can act on.
 *
 * Functions return an int that is SAM_OK (0) or one of the codes below and give results
 * through out-parameters. A function that fails with a reason worth telling calls
 * sam_fail(rc, fmt, ...) which records the message for this thread and returns rc, so
 * `return sam_fail(SAM_EINVAL, "name is empty");` is the usual idiom. The HTTP layer maps
 * codes to statuses in one table (web/http_status.c); the CLI maps them to exit codes.
 */
#ifndef SAM_ERR_H
#define SAM_ERR_H

enum sam_rc {
    SAM_OK = 0,
    SAM_ENOMEM,       /* out of memory */
    SAM_EINVAL,       /* input failed validation */
    SAM_EBADREQ,      /* malformed request: bad cursor or query parameter */
    SAM_ENOTFOUND,    /* no such object */
    SAM_ECONFLICT,    /* already exists, or would break an invariant (last owner) */
    SAM_EAUTH,        /* not authenticated: bad credentials, unknown token */
    SAM_EPERM,        /* authenticated, but not allowed */
    SAM_ETOOBIG,      /* input over its size limit */
    SAM_ERATE,        /* rate limited */
    SAM_ESTORE,       /* database error */
    SAM_EIO,          /* file or network I/O */
    SAM_EUNSUPPORTED, /* not available in this build or configuration */
    SAM_EINTERNAL     /* a bug or an unexpected library failure */
};

/* Short stable name of a code, e.g. "not found". Never NULL. */
const char *sam_strerror(int rc);

/* Records a formatted message for this thread and returns rc. */
int sam_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like sam_fail, and also names the input field at fault (for API errors). */
int sam_fail_field(int rc, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The last message recorded on this thread, or sam_strerror(rc) if none was recorded
 * since sam_clear(). Valid until the next sam_fail on this thread. */
const char *sam_errmsg(int rc);

/* The field named by the last sam_fail_field, or NULL. */
const char *sam_errfield(void);

/* Forgets the recorded message. */
void sam_clear(void);

#endif
