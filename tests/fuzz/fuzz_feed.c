/*
 * fuzz_feed.c: libFuzzer target over the feed reader (feed_parse, channel/feed.h), which
 * reads documents fetched from any server a user names. The first byte picks the
 * Content-Type and base URL handed to the parser (so the charset override, the JSON
 * switch and link resolution are all reached); the rest is the document, copied into a
 * buffer of exactly its size (not NUL-terminated) so an over-read shows up under ASan.
 * Every string of the result is read back, and the bounds feed.h promises are checked.
 *
 *   build-asan/fuzz_feed -max_total_time=300 tests/fuzz/corpus-feed
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel/feed.h"
#include "util/err.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[8] = {
    NULL,
    "application/rss+xml",
    "application/atom+xml; charset=utf-8",
    "text/xml; charset=windows-1252",
    "application/xml; charset=\"iso-8859-1\"",
    "application/feed+json",
    "text/xml; charset=utf-16",
    "text/html; charset=shift_jis",
};

static const char *const bases[4] = {NULL, "http://example.com/dir/feed.xml",
                                     "https://example.org/", "not a url"};

static void check(const char *s, size_t limit)
{
    size_t n;
    if(!s)
        abort(); /* feed.h: never NULL */
    n = strlen(s);
    if(n > limit)
        abort();
    if(utf8_count(s, n) < 0)
        abort(); /* always valid UTF-8 */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed f;
    char *copy;
    unsigned sel;
    if(size < 1)
        return 0;
    sel = data[0];
    data++;
    size--;
    copy = malloc(size ? size : 1);
    if(!copy)
        return 0;
    if(size)
        memcpy(copy, data, size);
    if(feed_parse(copy, size, content_types[sel & 7], bases[(sel >> 3) & 3], &f) == SAM_OK) {
        check(f.title, FEED_TEXT_MAX);
        check(f.link, FEED_TEXT_MAX);
        if(f.n_entries > FEED_MAX_ENTRIES)
            abort();
        for(size_t i = 0; i < f.n_entries; i++) {
            const struct feed_entry *e = &f.entries[i];
            check(e->id, FEED_TEXT_MAX);
            if(!*e->id)
                abort(); /* ids are never empty */
            check(e->title, FEED_TEXT_MAX);
            check(e->link, FEED_TEXT_MAX);
            check(e->summary, FEED_BODY_MAX);
            check(e->content, FEED_BODY_MAX);
            check(e->author, FEED_TEXT_MAX);
        }
    }
    feed_free(&f);
    free(copy);
    return 0;
}
