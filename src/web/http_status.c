/* http_status.c: the one table from samtale error codes to HTTP statuses and API error
 * codes (docs/api.md). */
#include "web/web.h"
#include "util/err.h"

#include <string.h>

int web_status_for(int rc, const char *field, const char **code)
{
    switch(rc) {
    case SAM_EINVAL: *code = "validation_failed"; return 422;
    case SAM_EBADREQ: *code = "bad_request"; return 400;
    case SAM_ENOTFOUND: *code = "not_found"; return 404;
    case SAM_ECONFLICT: *code = "conflict"; return 409;
    case SAM_EAUTH: *code = "unauthorized"; return 401;
    case SAM_EPERM:
        /* The workspace requires a second factor the account has not turned on. */
        *code = field && !strcmp(field, "second_factor") ? "second_factor_required" : "forbidden";
        return 403;
    case SAM_ETOOBIG:
        /* A field over its limit is a validation error; a whole body over it is 413. */
        if(field) {
            *code = "validation_failed";
            return 422;
        }
        *code = "payload_too_large";
        return 413;
    case SAM_ERATE: *code = "rate_limited"; return 429;
    case SAM_EIO: *code = "peer_unavailable"; return 502;
    case SAM_EUNSUPPORTED: *code = "not_implemented"; return 501;
    default: *code = "internal"; return 500;
    }
}
