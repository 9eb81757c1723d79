/*
 * fuzz_discover.c: libFuzzer target over feed autodiscovery (discover_feed_links,
 * channel/discover.h), which reads HTML pages from any site a user names. The input is
 * the page, copied into a buffer of exactly its size (not NUL-terminated) so an over-read
 * shows up under ASan, and read against a fixed page URL. Every promise of discover.h is
 * checked on the result: the link limit, http(s) URLs of at most DISCOVER_URL_MAX bytes
 * holding only characters a URI may (so non-ASCII was %-encoded), no duplicates, titles
 * and types in valid UTF-8 within their bound, types in lower case. Each URL found must
 * also come back unchanged when a page names it again: resolution is idempotent.
 *
 *   build-asan/fuzz_discover -max_total_time=300 -max_len=65536 \
 *       build-asan/corpus-fuzz_discover tests/fuzz/corpus-discover
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/discover.h"
#include "util/err.h"
#include "util/utf8.h"

#define BASE "https://example.com/blog/2024/post.html?page=2#comments"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t limit)
{
    size_t n;
    if(!s)
        abort(); /* discover.h: never NULL */
    n = strlen(s);
    if(n > limit || utf8_count(s, n) < 0)
        abort();
}

static void check_url(const char *u)
{
    size_t n, k = 0;
    char *doc;
    struct discover_links again;
    if(!u)
        abort();
    n = strlen(u);
    if(!n || n > DISCOVER_URL_MAX)
        abort();
    if(strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
        abort();
    for(size_t i = 0; i < n; i++)
        if((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7F || strchr("\"<>\\`{}|^", u[i]))
            abort();
    /* Named again (as an attribute value: '&' written &amp;), it is itself. */
    doc = malloc(5 * n + 32);
    if(!doc)
        return;
    k += (size_t)sprintf(doc, "<link rel=feed href=\"");
    for(size_t i = 0; i < n; i++) {
        if(u[i] == '&') {
            memcpy(doc + k, "&amp;", 5);
            k += 5;
        } else {
            doc[k++] = u[i];
        }
    }
    memcpy(doc + k, "\">", 2);
    k += 2;
    if(discover_feed_links(doc, k, BASE, &again) != SAM_OK || again.n != 1 ||
       strcmp(again.items[0].url, u))
        abort();
    discover_links_cleanup(&again);
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct discover_links l;
    char *copy = malloc(size ? size : 1);
    int rc;
    if(!copy)
        return 0;
    if(size)
        memcpy(copy, data, size);
    {
        /* The link card of the same page: texts bounded and valid, the image absolute. */
        struct discover_card card;
        int crc = discover_card(copy, size, size % 3 ? NULL : "iso-8859-1", BASE, &card);
        if(crc == SAM_OK) {
            check_text(card.title, DISCOVER_TEXT_MAX / 4);
            check_text(card.site, DISCOVER_TEXT_MAX / 4);
            check_text(card.description, DISCOVER_TEXT_MAX);
            if(card.image[0])
                check_url(card.image);
            discover_card_cleanup(&card);
        } else if(crc != SAM_ENOMEM && !(crc == SAM_ETOOBIG && size > DISCOVER_MAX_BYTES)) {
            abort();
        }
    }
    rc = discover_feed_links(copy, size, BASE, &l);
    if(rc == SAM_ETOOBIG && size <= DISCOVER_MAX_BYTES)
        abort();
    if(rc == SAM_OK) {
        if(l.n > DISCOVER_MAX_LINKS || (l.n && !l.items))
            abort();
        for(size_t i = 0; i < l.n; i++) {
            const struct discover_link *k = &l.items[i];
            check_text(k->title, DISCOVER_TEXT_MAX);
            check_text(k->type, DISCOVER_TEXT_MAX);
            for(const char *p = k->type; *p; p++)
                if(*p >= 'A' && *p <= 'Z')
                    abort();
            for(size_t j = 0; j < i; j++)
                if(!strcmp(l.items[j].url, k->url))
                    abort(); /* duplicates are dropped */
            check_url(k->url);
        }
    } else if(rc != SAM_ETOOBIG && rc != SAM_ENOMEM) {
        abort();
    }
    discover_links_cleanup(&l);
    free(copy);
    return 0;
}
