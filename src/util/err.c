/* err.c: error names and the per-thread error message (see err.h). */
#include "util/err.h"
#include "util/i18n.h"
#include "util/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_msg[512];
static _Thread_local char err_field[64];

const char *sam_strerror(int rc)
{
    switch(rc) {
    case SAM_OK: return "success";
    case SAM_ENOMEM: return "out of memory";
    case SAM_EINVAL: return "invalid input";
    case SAM_EBADREQ: return "malformed request";
    case SAM_ENOTFOUND: return "not found";
    case SAM_ECONFLICT: return "conflict";
    case SAM_EAUTH: return "authentication failed";
    case SAM_EPERM: return "permission denied";
    case SAM_ETOOBIG: return "too large";
    case SAM_ERATE: return "rate limited";
    case SAM_ESTORE: return "database error";
    case SAM_EIO: return "input/output error";
    case SAM_EUNSUPPORTED: return "not supported";
    case SAM_EINTERNAL: return "internal error";
    }
    return "unknown error";
}

/* Formats through a copy, so a message may quote the previous one (sam_errmsg), in this
 * thread's language (util/i18n.h: fmt is the catalogue's msgid, and its translations keep
 * its conversions, which msgfmt checks). A message
 * or field quoting what people sent may have been cut inside a UTF-8 sequence (by a
 * "%.64s" or by the buffer's size): it is repaired, because the API sends both as JSON
 * strings, which must be valid UTF-8. */
static void record(const char *field, const char *fmt, va_list ap)
{
    char tmp[sizeof(err_msg)], ftmp[sizeof(err_field)];
    vsnprintf(tmp, sizeof(tmp), i18n_text(fmt), ap);
    snprintf(ftmp, sizeof(ftmp), "%s", field ? field : "");
    utf8_repair(tmp);
    utf8_repair(ftmp);
    memcpy(err_msg, tmp, sizeof(err_msg));
    memcpy(err_field, ftmp, sizeof(err_field));
}

int sam_fail(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int sam_fail_field(int rc, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(field, fmt, ap);
    va_end(ap);
    return rc;
}

const char *sam_errmsg(int rc)
{
    return err_msg[0] ? err_msg : sam_strerror(rc);
}

const char *sam_errfield(void)
{
    return err_field[0] ? err_field : NULL;
}

void sam_clear(void)
{
    err_msg[0] = '\0';
    err_field[0] = '\0';
}
