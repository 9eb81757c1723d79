/* log.c: structured logging (see log.h). */
#include "util/log.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static int json_format;

int log_setup(const char *level, const char *format)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    int found = -1;
    for(int i = 0; i < 4; i++)
        if(level && !strcmp(level, names[i]))
            found = i;
    if(found < 0)
        return sam_fail(SAM_EINVAL, "log_level must be debug, info, warn or error");
    if(format && strcmp(format, "logfmt") && strcmp(format, "json"))
        return sam_fail(SAM_EINVAL, "log_format must be logfmt or json");
    min_level = (enum log_level)found;
    json_format = format && !strcmp(format, "json");
    return SAM_OK;
}

/* Appends s quoted for logfmt (only when needed) or JSON (always). */
static void put_value(struct buf *b, const char *s)
{
    int quote = json_format || !*s;
    for(const char *p = s; *p && !quote; p++)
        if(*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20)
            quote = 1;
    if(quote)
        buf_append(b, "\"", 1);
    for(const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if(*p == '"' || *p == '\\') {
            buf_append(b, "\\", 1);
            buf_append(b, p, 1);
        } else if(*p == '\n') {
            buf_puts(b, "\\n");
        } else if(*p < 0x20 || *p == 0x7f) {
            buf_printf(b, "\\u%04x", *p);
        } else {
            buf_append(b, p, 1);
        }
    }
    if(quote)
        buf_append(b, "\"", 1);
}

void log_kv(enum log_level level, const char *msg, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char ts[40];
    struct buf b;
    va_list ap;
    const char *k, *v;

    if(level < min_level)
        return;
    buf_init(&b, 16384);
    time_rfc3339_ms(time_now_ms(), ts, sizeof(ts));
    if(json_format) {
        buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, names[level]);
        put_value(&b, msg);
    } else {
        buf_printf(&b, "ts=%s level=%s msg=", ts, names[level]);
        put_value(&b, msg);
    }
    va_start(ap, msg);
    while((k = va_arg(ap, const char *)) != NULL) {
        v = va_arg(ap, const char *);
        if(json_format) {
            buf_puts(&b, ",");
            put_value(&b, k);
            buf_puts(&b, ":");
        } else {
            buf_printf(&b, " %s=", k);
        }
        put_value(&b, v ? v : "");
    }
    va_end(ap);
    buf_puts(&b, json_format ? "}\n" : "\n");
    if(b.data) {
        ssize_t w = write(STDERR_FILENO, b.data, b.len);
        (void)w;
    }
    buf_cleanup(&b);
}
