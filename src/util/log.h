/*
 * log.h: structured logs on standard error, one event a line, as logfmt
 * (`ts=... level=info msg=request method=GET status=200`) or JSON lines.
 *
 * Values are quoted and escaped here, so social content and request paths can be logged
 * without letting them forge lines. Thread-safe: each line is written with one call.
 */
#ifndef SAM_LOG_H
#define SAM_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level written and the format ("logfmt" or "json"). Returns SAM_EINVAL for
 * an unknown level or format name. Levels: debug, info, warn, error. */
int log_setup(const char *level, const char *format);

/* Writes one event: msg, then NULL-terminated key, value string pairs. A NULL value is
 * written as an empty string. */
void log_kv(enum log_level level, const char *msg, ...);

#endif
