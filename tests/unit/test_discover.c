/*
 * test_discover.c: feed autodiscovery (channel/discover.h). A table of small pages gives,
 * for each, the links discover_feed_links must find (relative, protocol-relative and
 * <base href> resolution, rel tokens, type parameters, unsafe schemes, entities, upper
 * case, white space, malformed and truncated HTML, links hidden in comments and scripts);
 * RFC 3986's examples check the resolver; separate tests cover empty and oversized pages,
 * the link, URL and title limits, pages in windows-1252, UTF-8 and UTF-16, and the errors
 * discover_feed gives before and without a network answer (a typed address that is not
 * http(s), a refused connection).
 *
 * discover_feed against real pages and feeds (redirects, a page naming its feed, a feed
 * typed directly) is tested end to end by the integration tests with tests/peers/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel/discover.h"
#include "util/buf.h"
#include "channel/http.h"
#include "util/err.h"
#include "util/netpolicy.h"

#include "listen_probe.h"
#include "util/utf8.h"

#define PAGE "https://example.com/blog/post.html"
#define RSS "type=\"application/rss+xml\""

/* The links of a result as "url | title | type" lines, for one comparison per case. */
static char *render(const struct discover_links *l)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    for(size_t i = 0; i < l->n; i++)
        assert_int_equal(buf_printf(&b, "%s | %s | %s\n", l->items[i].url, l->items[i].title,
                                    l->items[i].type), SAM_OK);
    return buf_take(&b);
}

struct link_case {
    const char *name;
    const char *base;
    const char *html;
    const char *want;
};

static const struct link_case link_cases[] = {
    {"relative href", PAGE,
     "<html><head><link rel=\"alternate\" " RSS " title=\"Posts\" href=\"feed.xml\"></head></html>",
     "https://example.com/blog/feed.xml | Posts | application/rss+xml\n"},
    {"absolute path, dot segments", PAGE,
     "<link rel=alternate " RSS " href=\"/a/../feed/\"><link rel=alternate " RSS " href=\"../../x.xml\">",
     "https://example.com/feed/ |  | application/rss+xml\n"
     "https://example.com/x.xml |  | application/rss+xml\n"},
    {"protocol-relative href takes the page's scheme", PAGE,
     "<link rel=alternate type=application/atom+xml href=\"//cdn.example.net/atom.xml\">",
     "https://cdn.example.net/atom.xml |  | application/atom+xml\n"},
    {"an empty path becomes /", "http://example.com",
     "<link rel=alternate " RSS " href=\"?feed=rss2\"><link rel=alternate " RSS " href=\"HTTP://Example.ORG\">",
     "http://example.com/?feed=rss2 |  | application/rss+xml\n"
     "http://Example.ORG/ |  | application/rss+xml\n"},
    {"<base href> applies to links before and after it", PAGE,
     "<head><link rel=alternate " RSS " href=\"rss.xml\"><base href=\"https://other.example/sub/\">"
     "<link rel=alternate type=application/atom+xml href=\"atom.xml\"></head>",
     "https://other.example/sub/rss.xml |  | application/rss+xml\n"
     "https://other.example/sub/atom.xml |  | application/atom+xml\n"},
    {"a relative <base href> is resolved against the page; only the first counts", PAGE,
     "<base target=_blank><base href=\"/sub/\"><base href=\"https://ignored.example/\">"
     "<link rel=alternate " RSS " href=\"rss.xml\">",
     "https://example.com/sub/rss.xml |  | application/rss+xml\n"},
    {"several links in document order, duplicates once", PAGE,
     "<link rel=alternate " RSS " title=\"Posts\" href=\"/feed.xml\">"
     "<link rel=alternate type=application/atom+xml title=\"Atom\" href=\"/atom.xml\">"
     "<link rel=alternate " RSS " title=\"Again\" href=\"./../feed.xml\">"
     "<link rel=feed title=\"Same\" href=\"https://example.com/feed.xml\">"
     "<link rel=alternate " RSS " title=\"Comments\" href=\"/comments/feed.xml\">",
     "https://example.com/feed.xml | Posts | application/rss+xml\n"
     "https://example.com/atom.xml | Atom | application/atom+xml\n"
     "https://example.com/comments/feed.xml | Comments | application/rss+xml\n"},
    {"rel is a token list without case", PAGE,
     "<link rel=\"Alternate Feed\" href=\"/1\"><link rel=\"  ALTERNATE\t\" " RSS " href=\"/2\">"
     "<link rel=\"alternate stylesheet\" type=text/css href=\"/3.css\">"
     "<link rel=alternative " RSS " href=\"/4\"><link rel=feeds " RSS " href=\"/5\">"
     "<link rel=\"home feed\" type=text/html href=\"/6\"><link " RSS " href=\"/7\">"
     "<link rel=stylesheet " RSS " href=\"/8\"><link rel=\"\nfeed\n\" href=\"/9\">",
     "https://example.com/1 |  | \n"
     "https://example.com/2 |  | application/rss+xml\n"
     "https://example.com/6 |  | text/html\n"
     "https://example.com/9 |  | \n"},
    {"types without case and parameters; the five feed types", PAGE,
     "<link rel=alternate type=\"application/rss+xml; charset=utf-8\" href=\"/1\">"
     "<link rel=alternate type=\" Application/Atom+XML ;q=1\" href=\"/2\">"
     "<link rel=alternate type=application/rdf+xml href=\"/3\">"
     "<link rel=alternate type=application/feed+json href=\"/4\">"
     "<link rel=alternate type=application/json href=\"/5\">"
     "<link rel=alternate type=application/json+oembed href=\"/6\">"
     "<link rel=alternate type=text/html hreflang=nb href=\"/7\">"
     "<link rel=alternate type=application/rss+xml2 href=\"/8\">"
     "<link rel=alternate href=\"/9\"><link rel=alternate type=text/xml href=\"/10\">",
     "https://example.com/1 |  | application/rss+xml\n"
     "https://example.com/2 |  | application/atom+xml\n"
     "https://example.com/3 |  | application/rdf+xml\n"
     "https://example.com/4 |  | application/feed+json\n"
     "https://example.com/5 |  | application/json\n"},
    {"only http and https results are kept", PAGE,
     "<link rel=alternate " RSS " href=\"javascript:alert(1)\">"
     "<link rel=alternate " RSS " href=\" JavaScript:alert(1)\">"
     "<link rel=alternate " RSS " href=\"java&#9;script:alert(1)\">"
     "<link rel=alternate " RSS " href=\"data:application/rss+xml,%3Crss%3E\">"
     "<link rel=alternate " RSS " href=\"vbscript:x\"><link rel=alternate " RSS " href=\"ftp://example.com/f\">"
     "<link rel=alternate " RSS " href=\"feed://example.com/f\"><link rel=alternate " RSS " href=\"mailto:a@b\">"
     "<link rel=alternate " RSS " href=\"https:///nohost\"><link rel=alternate " RSS " href=\"http:rel\">"
     "<link rel=alternate " RSS " href=\"http://example.com:99999/\">"
     "<link rel=alternate " RSS " href=\"http://[::1]:8080/ok\">"
     "<link rel=alternate " RSS " href=\"\"><link rel=alternate " RSS " href=\"  \"><link rel=alternate " RSS ">",
     "http://[::1]:8080/ok |  | application/rss+xml\n"},
    {"entities in attributes are decoded", PAGE,
     "<link rel=alternate " RSS " title=\"Tom &amp; Jerry&#8217;s &eacute;\" "
     "href=\"/feed?a=1&amp;b=2&#38;c=&quot;x&quot;\">",
     "https://example.com/feed?a=1&b=2&c=%22x%22 | Tom & Jerry\xe2\x80\x99s \xc3\xa9 | application/rss+xml\n"},
    {"upper-case tags and attributes", PAGE,
     "<HTML><HEAD><LINK REL=\"ALTERNATE\" TYPE=\"APPLICATION/RSS+XML\" HREF=\"/Feed.XML\" TITLE=\"Big\">"
     "<BASE HREF=\"/Sub/\"></HEAD></HTML>",
     "https://example.com/Feed.XML | Big | application/rss+xml\n"},
    {"white space trimmed, tabs and line breaks in a URL dropped, titles collapsed", PAGE,
     "<link rel=alternate " RSS " title=\"\n  Main \t\n feed  \" href=\"\n\t /fe\ned.xml  \">",
     "https://example.com/feed.xml | Main feed | application/rss+xml\n"},
    {"characters a URI may not hold are %-encoded", PAGE,
     "<link rel=alternate " RSS " href=\"/nyheter p\xc3\xa5 norsk[1].xml?q=a b|c#top#2\">"
     "<link rel=alternate " RSS " href=\"/50%off%2Fx.xml\"><link rel=alternate " RSS " href=\"\\win\\feed.xml\">",
     "https://example.com/nyheter%20p%C3%A5%20norsk%5B1%5D.xml?q=a%20b%7Cc#top%232 |  | application/rss+xml\n"
     "https://example.com/50%25off%2Fx.xml |  | application/rss+xml\n"
     "https://example.com/win/feed.xml |  | application/rss+xml\n"},
    {"links in <body> count", PAGE,
     "<html><head><title>t</title></head><body><p>Hi</p>"
     "<link rel=alternate type=application/atom+xml href=\"/atom\">"
     "<div><link rel=feed href=\"/f\"></div></body></html>",
     "https://example.com/atom |  | application/atom+xml\n"
     "https://example.com/f |  | \n"},
    {"comments, scripts and <a> are not links", PAGE,
     "<head><!-- <link rel=alternate " RSS " href=\"/c\"> --><script>document.write('<link rel=alternate "
     RSS " href=\"/s\">')</script><noscript></noscript></head><body><a rel=alternate " RSS
     " href=\"/a\">RSS</a><p>&lt;link rel=alternate " RSS " href=\"/t\"&gt;</p></body>",
     ""},
    {"malformed: unclosed title, unquoted values, stray and unclosed tags", PAGE,
     "<html><head><title>unclosed<link rel=alternate " RSS " href=/1.xml></title></head>"
     "<link rel=alternate " RSS " href=/2.xml/><table><link rel='alternate' " RSS " href='/3.xml'></div>"
     "<p><link rel=alternate type=\"application/rss+xml href=/4.xml>",
     "https://example.com/1.xml |  | application/rss+xml\n"
     "https://example.com/2.xml/ |  | application/rss+xml\n"
     "https://example.com/3.xml |  | application/rss+xml\n"},
    {"truncated in the middle of a tag", PAGE,
     "<html><head><link rel=alternate " RSS " href=\"/1.xml\"><link rel=alternate type=\"application/r",
     "https://example.com/1.xml |  | application/rss+xml\n"},
    {"truncated after the href: kept as far as it goes", PAGE,
     "<html><head><link rel=alternate " RSS " href=\"/1.xml\"><link rel=alternate " RSS " href=\"/2",
     "https://example.com/1.xml |  | application/rss+xml\n"
     "https://example.com/2 |  | application/rss+xml\n"},
    {"a base without authority gives no host to a path starting with //", PAGE,
     "<base href=\"https:nohost/\"><link rel=alternate " RSS " href=\"/..//evil.example/f\">"
     "<link rel=alternate " RSS " href=\"g\"><link rel=alternate " RSS " href=\"//h.example/f\">",
     "https://h.example/f |  | application/rss+xml\n"},
    {"no base URL: only absolute hrefs", NULL,
     "<link rel=alternate " RSS " href=\"feed.xml\"><link rel=alternate " RSS " href=\"//h.example/f\">"
     "<link rel=alternate " RSS " href=\"https://example.org/feed\">",
     "https://example.org/feed |  | application/rss+xml\n"},
    {"no base URL but a <base href>", NULL,
     "<base href=\"http://example.net/dir/\"><link rel=alternate " RSS " href=\"feed.xml\">",
     "http://example.net/dir/feed.xml |  | application/rss+xml\n"},
    {"a base that is not a URL resolves nothing relative", "not a url",
     "<link rel=alternate " RSS " href=\"feed.xml\"><link rel=alternate " RSS " href=\"http://e.example/f\">",
     "http://e.example/f |  | application/rss+xml\n"},
    {"no feed links", PAGE,
     "<!doctype html><html><head><title>Blog</title><link rel=stylesheet href=/s.css>"
     "<link rel=icon href=/favicon.ico></head><body><a href=\"/feed.xml\">RSS</a></body></html>",
     ""},
    {"not HTML at all", PAGE, "just some text, {\"json\": true} and <<<>>> &&&", ""},
};

static void test_link_table(void **state)
{
    int failures = 0;
    (void)state;
    for(size_t i = 0; i < sizeof(link_cases) / sizeof(link_cases[0]); i++) {
        const struct link_case *c = &link_cases[i];
        struct discover_links l;
        char *got;
        int rc = discover_feed_links(c->html, strlen(c->html), c->base, &l);
        if(rc != SAM_OK) {
            print_error("case \"%s\": rc %d (%s)\n", c->name, rc, sam_errmsg(rc));
            failures++;
            continue;
        }
        got = render(&l);
        assert_non_null(got);
        if(strcmp(got, c->want)) {
            print_error("case \"%s\":\n--- want\n%s--- got\n%s---\n", c->name, c->want, got);
            failures++;
        }
        free(got);
        discover_links_cleanup(&l);
    }
    assert_int_equal(failures, 0);
}

/* RFC 3986 section 5.4: the reference resolution examples, each as a page's only link
 * (a result that is not http(s) with a host, like "g:h", gives no link: ""). */
static void test_rfc3986(void **state)
{
    static const char *const cases[][2] = {
        {"g:h", ""}, {"g", "http://a/b/c/g"}, {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"}, {"/g", "http://a/g"}, {"//g", "http://g/"},
        {"?y", "http://a/b/c/d;p?y"}, {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"}, {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"}, {";x", "http://a/b/c/;x"}, {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"}, {"", ""}, {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"}, {"..", "http://a/b/"}, {"../", "http://a/b/"},
        {"../g", "http://a/b/g"}, {"../..", "http://a/"}, {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        /* 5.4.2, abnormal examples */
        {"../../../g", "http://a/g"}, {"../../../../g", "http://a/g"}, {"/./g", "http://a/g"},
        {"/../g", "http://a/g"}, {"g.", "http://a/b/c/g."}, {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."}, {"..g", "http://a/b/c/..g"}, {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"}, {"g/./h", "http://a/b/c/g/h"}, {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"}, {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"}, {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"}, {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"http:g", ""},
    };
    int failures = 0;
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct discover_links l;
        char doc[128];
        const char *got;
        snprintf(doc, sizeof(doc), "<link rel=feed href=\"%s\">", cases[i][0]);
        assert_int_equal(discover_feed_links(doc, strlen(doc), "http://a/b/c/d;p?q", &l), SAM_OK);
        assert_true(l.n <= 1);
        got = l.n ? l.items[0].url : "";
        if(strcmp(got, cases[i][1])) {
            print_error("\"%s\": want \"%s\", got \"%s\"\n", cases[i][0], cases[i][1], got);
            failures++;
        }
        discover_links_cleanup(&l);
    }
    assert_int_equal(failures, 0);
}

static void test_empty(void **state)
{
    struct discover_links l;
    (void)state;
    assert_int_equal(discover_feed_links("", 0, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 0);
    assert_null(l.items);
    discover_links_cleanup(&l);
    assert_int_equal(discover_feed_links(NULL, 0, NULL, &l), SAM_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(discover_feed_links("  \n", 3, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 0);
    discover_links_cleanup(&l);
    discover_links_cleanup(&l); /* twice is harmless */
    discover_links_cleanup(NULL);
}

/* A page of size bytes: one feed link, then a comment filling the rest. */
static char *padded_page(size_t size)
{
    static const char head[] = "<html><head><link rel=alternate " RSS " href=\"/feed.xml\"><!--";
    char *p = malloc(size);
    assert_non_null(p);
    memset(p, 'x', size);
    memcpy(p, head, sizeof(head) - 1);
    memcpy(p + size - 3, "-->", 3);
    return p;
}

static void test_size_limit(void **state)
{
    struct discover_links l;
    char *page;
    (void)state;
    page = padded_page(3 * 1024 * 1024);
    memset(&l, 0x55, sizeof(l)); /* out is emptied even on error */
    assert_int_equal(discover_feed_links(page, 3 * 1024 * 1024, PAGE, &l), SAM_ETOOBIG);
    assert_int_equal(l.n, 0);
    assert_null(l.items);
    assert_non_null(strstr(sam_errmsg(SAM_ETOOBIG), "larger than"));
    assert_int_equal(discover_feed_links(page, DISCOVER_MAX_BYTES + 1, PAGE, &l), SAM_ETOOBIG);
    free(page);

    page = padded_page(DISCOVER_MAX_BYTES);
    assert_int_equal(discover_feed_links(page, DISCOVER_MAX_BYTES, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].url, "https://example.com/feed.xml");
    discover_links_cleanup(&l);
    free(page);
}

/* The input need not be NUL-terminated: len is the end, even before a NUL. */
static void test_length_not_nul(void **state)
{
    static const char doc[] = "<link rel=alternate " RSS " href=\"/a\"><link rel=alternate " RSS " href=\"/b\">";
    char *copy = malloc(sizeof(doc) - 1);
    struct discover_links l;
    size_t first = strchr(doc, '>') - doc + 1;
    (void)state;
    assert_non_null(copy);
    memcpy(copy, doc, sizeof(doc) - 1); /* no NUL: an over-read shows under ASan */
    assert_int_equal(discover_feed_links(copy, sizeof(doc) - 1, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 2);
    discover_links_cleanup(&l);
    assert_int_equal(discover_feed_links(copy, first, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].url, "https://example.com/a");
    discover_links_cleanup(&l);
    free(copy);
}

static void test_limits(void **state)
{
    struct buf b;
    struct discover_links l;
    char path[DISCOVER_URL_MAX + 8], want[64];
    size_t fixed = strlen("https://example.com/");
    (void)state;

    /* At most DISCOVER_MAX_LINKS, the first ones. */
    buf_init(&b, 1 << 20);
    for(int i = 0; i < DISCOVER_MAX_LINKS + 8; i++)
        assert_int_equal(buf_printf(&b, "<link rel=alternate " RSS " href=\"/f/%d\">", i), SAM_OK);
    assert_int_equal(discover_feed_links(b.data, b.len, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, DISCOVER_MAX_LINKS);
    snprintf(want, sizeof(want), "https://example.com/f/%d", DISCOVER_MAX_LINKS - 1);
    assert_string_equal(l.items[DISCOVER_MAX_LINKS - 1].url, want);
    discover_links_cleanup(&l);
    buf_cleanup(&b);

    /* A URL of exactly DISCOVER_URL_MAX bytes is kept; one byte more is skipped (a cut
     * URL would be a wrong one), and the next link still counts. */
    buf_init(&b, 1 << 20);
    memset(path, 'a', sizeof(path));
    path[DISCOVER_URL_MAX - fixed] = '\0';
    assert_int_equal(buf_printf(&b, "<link rel=alternate " RSS " href=\"/%s\">", path), SAM_OK);
    path[DISCOVER_URL_MAX - fixed] = 'b';
    path[DISCOVER_URL_MAX - fixed + 1] = '\0';
    assert_int_equal(buf_printf(&b, "<link rel=alternate " RSS " href=\"/%s\">", path), SAM_OK);
    assert_int_equal(buf_printf(&b, "<link rel=alternate " RSS " href=\"/%s\">", "short"), SAM_OK);
    assert_int_equal(discover_feed_links(b.data, b.len, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(strlen(l.items[0].url), DISCOVER_URL_MAX);
    assert_string_equal(l.items[1].url, "https://example.com/short");
    discover_links_cleanup(&l);
    buf_cleanup(&b);

    /* A long title is cut on a character boundary (U+20AC is three bytes). */
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_puts(&b, "<link rel=alternate " RSS " href=\"/f\" title=\""), SAM_OK);
    for(int i = 0; i < 2000; i++)
        assert_int_equal(buf_puts(&b, "\xe2\x82\xac"), SAM_OK);
    assert_int_equal(buf_puts(&b, "\">"), SAM_OK);
    assert_int_equal(discover_feed_links(b.data, b.len, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(strlen(l.items[0].title), DISCOVER_TEXT_MAX / 3 * 3);
    assert_true(utf8_count(l.items[0].title, strlen(l.items[0].title)) == DISCOVER_TEXT_MAX / 3);
    discover_links_cleanup(&l);
    buf_cleanup(&b);
}

/* Pages in windows-1252: declared by <meta charset>, by http-equiv, as ISO-8859-1 (which
 * browsers read as windows-1252), and not at all. Titles come out in UTF-8, non-ASCII
 * hrefs %-encoded as UTF-8. */
static void test_windows1252(void **state)
{
    static const char *const pages[] = {
        "<html><head><meta charset=\"windows-1252\"><title>Caf\xe9</title>",
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">",
        "<html><head><meta charset=iso-8859-1>",
        "<html><head>",
    };
    static const char tail[] = "<link rel=alternate " RSS " title=\"Caf\xe9 \x96 nyheter\" "
                               "href=\"/caf\xe9.xml\"></head><body>\x93quoted\x94</body></html>";
    (void)state;
    for(size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        struct discover_links l;
        char doc[512];
        snprintf(doc, sizeof(doc), "%s%s", pages[i], tail);
        assert_int_equal(discover_feed_links(doc, strlen(doc), PAGE, &l), SAM_OK);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.items[0].title, "Caf\xc3\xa9 \xe2\x80\x93 nyheter");
        assert_string_equal(l.items[0].url, "https://example.com/caf%C3%A9.xml");
        discover_links_cleanup(&l);
    }
}

/* UTF-8, with and without a byte order mark, and UTF-16 with one. */
static void test_other_encodings(void **state)
{
    static const char utf8[] = "\xef\xbb\xbf<link rel=alternate " RSS
                               " title=\"\xc3\xa6\xc3\xb8\xc3\xa5\" href=\"/\xc3\xa6.xml\">";
    static const char utf16le[] = "\xff\xfe<\0l\0i\0n\0k\0 \0r\0e\0l\0=\0f\0e\0e\0d\0 \0"
                                  "t\0i\0t\0l\0e\0=\0\xe6\0 \0h\0r\0e\0f\0=\0/\0f\0>\0";
    struct discover_links l;
    (void)state;
    assert_int_equal(discover_feed_links(utf8, sizeof(utf8) - 1, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].title, "\xc3\xa6\xc3\xb8\xc3\xa5");
    assert_string_equal(l.items[0].url, "https://example.com/%C3%A6.xml");
    discover_links_cleanup(&l);
    assert_int_equal(discover_feed_links(utf8 + 3, sizeof(utf8) - 4, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].title, "\xc3\xa6\xc3\xb8\xc3\xa5");
    discover_links_cleanup(&l);
    assert_int_equal(discover_feed_links(utf16le, sizeof(utf16le) - 1, PAGE, &l), SAM_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].title, "\xc3\xa6");
    assert_string_equal(l.items[0].url, "https://example.com/f");
    discover_links_cleanup(&l);
}

/* A port on 127.0.0.1 that nothing listens on (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t n = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_discover_errors(void **state)
{
    static const char *const not_http[] = {
        "", "   ", "example.com", "example.com/feed.xml", "ftp://example.com/feed",
        "javascript:alert(1)", "file:///etc/passwd", "http://", "https:///feed", "//example.com/",
        "feed://example.com/rss", "http://example.com:70000/",
    };
    char url[64], *feed_url = (char *)"x", *title = (char *)"x", *longurl;
    (void)state;
    for(size_t i = 0; i < sizeof(not_http) / sizeof(not_http[0]); i++) {
        sam_clear();
        assert_int_equal(discover_feed(not_http[i], 1000, &feed_url, &title), SAM_EINVAL);
        assert_null(feed_url);
        assert_null(title);
        assert_non_null(strstr(sam_errmsg(SAM_EINVAL), "not an http(s) URL"));
        assert_non_null(sam_errfield());
        assert_string_equal(sam_errfield(), "url");
    }
    assert_int_equal(discover_feed(NULL, 1000, &feed_url, &title), SAM_EINVAL);

    longurl = malloc(DISCOVER_URL_MAX + 32);
    assert_non_null(longurl);
    memset(longurl, 'a', DISCOVER_URL_MAX + 31);
    memcpy(longurl, "http://example.com/", 19);
    longurl[DISCOVER_URL_MAX + 31] = '\0';
    assert_int_equal(discover_feed(longurl, 1000, &feed_url, &title), SAM_EINVAL);
    assert_non_null(strstr(sam_errmsg(SAM_EINVAL), "longer than"));
    free(longurl);

    /* Nobody answers: transient, and the message names the address. */
    snprintf(url, sizeof(url), "  http://127.0.0.1:%d/blog  ", closed_port());
    feed_url = title = (char *)"x";
    assert_int_equal(discover_feed(url, 5000, &feed_url, &title), SAM_EIO);
    assert_null(feed_url);
    assert_null(title);
    url[strlen(url) - 2] = '\0';
    assert_non_null(strstr(sam_errmsg(SAM_EIO), url + 2));
}

/* Each redirect is a new request, decided by the address policy like the first: a page
 * on an allowed address that redirects to a refused one gives SAM_EPERM, and the refused
 * address is never connected to. */
static void test_redirect_hop_decided(void **state)
{
    int first = probe_listen_v4("127.0.0.1", 0), other = probe_listen_v4("127.0.0.3", 0);
    char url[96], answer[256], *feed_url = NULL, *title = NULL;
    struct probe_responder r;
    (void)state;
    assert_true(first >= 0 && other >= 0);
    snprintf(answer, sizeof(answer), "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.3:%d/feed.xml\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n", probe_port(other));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/blog", probe_port(first));
    assert_int_equal(netpolicy_configure(0, "127.0.0.1"), SAM_OK);
    assert_int_equal(probe_respond(&r, first, answer), 0);
    assert_int_equal(discover_feed(url, 5000, &feed_url, &title), SAM_EPERM);
    assert_true(probe_join(&r));
    assert_null(feed_url);
    assert_null(title);
    assert_non_null(strstr(sam_errmsg(SAM_EPERM), "127.0.0.3"));
    assert_non_null(strstr(sam_errmsg(SAM_EPERM), "samtale does not connect to this machine"));
    assert_int_equal(probe_pending(other), 0);
    assert_int_equal(netpolicy_configure(1, NULL), SAM_OK);
    close(first);
    close(other);
}

static void test_card(void **state)
{
    static const struct {
        const char *html, *title, *description, *image, *site;
    } cases[] = {
        {"<html><head><meta property='og:title' content='  Spring   sale '><meta property=og:description "
         "content='Tulips &amp; more'><meta property=og:image content='/img/a.png'><meta property=og:site_name "
         "content=Acme><title>Fallback</title></head></html>",
         "Spring sale", "Tulips & more", "https://example.com/img/a.png", "Acme"},
        {"<title>Only a title</title><meta name=description content='Plain description'>", "Only a title",
         "Plain description", "", ""},
        {"<meta property=og:title content=First><meta property=og:title content=Second>", "First", "", "", ""},
        {"<meta property=og:image content='javascript:alert(1)'><title>x</title>", "x", "", "", ""},
        {"<meta property=og:image content='//cdn.example.net/p.jpg'>", "", "", "https://cdn.example.net/p.jpg", ""},
        {"<base href='https://other.example/dir/'><meta property=og:image content='p.jpg'>", "", "",
         "https://other.example/dir/p.jpg", ""},
        {"", "", "", "", ""},
        {"<meta property=og:title content='\xc3\xa6\xc3\xb8\xc3\xa5 Bl\xc3\xa5" "b\xc3\xa6r'>", "\xc3\xa6\xc3\xb8\xc3\xa5 Bl\xc3\xa5" "b\xc3\xa6r", "", "", ""},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct discover_card c;
        assert_int_equal(discover_card(cases[i].html, strlen(cases[i].html), NULL, "https://example.com/page", &c),
                         SAM_OK);
        assert_string_equal(c.title, cases[i].title);
        assert_string_equal(c.description, cases[i].description);
        assert_string_equal(c.image, cases[i].image);
        assert_string_equal(c.site, cases[i].site);
        discover_card_cleanup(&c);
    }
    {
        /* A title longer than a card holds is cut on a character. */
        char big[4000] = "<meta property=og:title content='";
        struct discover_card c;
        for(int i = 0; i < 500; i++)
            strcat(big, "\xc3\xa5");
        strcat(big, "'>");
        assert_int_equal(discover_card(big, strlen(big), NULL, NULL, &c), SAM_OK);
        assert_true(strlen(c.title) <= DISCOVER_TEXT_MAX / 4 && strlen(c.title) % 2 == 0 && strlen(c.title) > 0);
        discover_card_cleanup(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_table),
        cmocka_unit_test(test_card),
        cmocka_unit_test(test_rfc3986),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_length_not_nul),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_windows1252),
        cmocka_unit_test(test_other_encodings),
        cmocka_unit_test(test_discover_errors),
        cmocka_unit_test(test_redirect_hop_decided),
    };
    netpolicy_configure(1, NULL); /* the test servers are on 127.0.0.1 */
    return cmocka_run_group_tests_name("discover", tests, NULL, NULL);
}
