/*
 * fuzz_parsers.c: libFuzzer target over the parsers that take outside input before any
 * library does: configuration text, RFC 3339 times, UTF-8 checks and repairs, invisible
 * characters, scope lists, time zone names, emails and names, the Mastodon streaming
 * parser, and the HTML-to-text of Mastodon statuses.
 * The first input byte picks the parser; the rest is the input.
 *
 *   build-asan/fuzz_parsers -max_total_time=60 tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel/mastodon.h"
#include "core/core.h"
#include "text/html.h"
#include "text/visible.h"
#include "util/conf.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sse_ignore(const char *event, const char *data, size_t len, void *arg)
{
    (void)event;
    (void)data;
    (void)len;
    (void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    if(size < 1 || size > 65536)
        return 0;
    s = malloc(size);
    if(!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch(data[0] % 8) {
    case 0: {
        struct conf *c = conf_new();
        if(c)
            conf_load_text(c, (const char *)data + 1, size - 1, "fuzz");
        conf_free(c);
        break;
    }
    case 1: {
        int64_t t;
        if(time_parse_rfc3339(s, &t) == SAM_OK) {
            char out[32];
            time_rfc3339(t, out, sizeof(out));
        }
        break;
    }
    case 2: {
        /* Repaired text is valid UTF-8 of the same length; a cut on a character keeps a
         * valid text valid; the invisible-character check reads no further than it may. */
        size_t len = strlen(s), max = size > 2 ? data[1] % (len + 1) : 0;
        long whole = utf8_count(s, len);
        utf8_count((const char *)data + 1, size - 1);
        utf8_has_control(s);
        text_has_invisible((const char *)data + 1, size - 1, NULL);
        if(whole >= 0 && utf8_count(s, (size_t)utf8_prefix(s, max)) < 0)
            abort();
        utf8_repair(s);
        if(strlen(s) != len || utf8_count(s, len) < 0)
            abort();
        break;
    }
    case 3: {
        unsigned bits;
        char out[512];
        if(core_scopes_parse(s, &bits) == SAM_OK)
            core_scopes_format(bits, out, sizeof(out));
        break;
    }
    case 4:
        tz_valid(s);
        break;
    case 5:
        core_validate_email(s);
        core_validate_name("name", s);
        break;
    case 6: {
        /* The streaming parser, fed in two pieces split where the second byte says. */
        struct sse p;
        size_t cut = size > 2 ? data[1] % (size - 1) : 0;
        sse_init(&p);
        sse_feed(&p, (const char *)data + 1, cut, sse_ignore, NULL);
        sse_feed(&p, (const char *)data + 1 + cut, size - 1 - cut, sse_ignore, NULL);
        sse_cleanup(&p);
        break;
    }
    case 7: {
        char *text = NULL;
        if(text_from_html((const char *)data + 1, size - 1, 5000, &text) == SAM_OK && !text)
            abort();
        free(text);
        break;
    }
    }
    free(s);
    return 0;
}
