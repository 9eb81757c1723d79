/*
 * test_feed.c: the feed reader (channel/feed.h) on inline documents of every format it
 * reads (RSS 2.0, RSS 1.0, RSS 0.91, Atom with xml:base, JSON Feed), HTML entities, a
 * windows-1252 document whose charset only the Content-Type gives, hostile input (an
 * entity bomb that must not expand, an external entity that must not be read, truncated,
 * malformed, oversized and entry-flooded documents), the date formats, the stable-id
 * rule, and feed_fetch's conditional GET against tests/peers/feedserver.py, which the
 * test starts and stops by PID.
 *
 * The conformance with Python's feedparser over its whole corpus is measured by
 * tests/integration/test_feed_conformance.py, not here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "channel/feed.h"
#include "channel/http.h"
#include "util/err.h"
#include "util/netpolicy.h"

#include "listen_probe.h"

#define T_20230403 1680483723 /* Mon, 03 Apr 2023 01:02:03 GMT */

static int parse(const char *doc, const char *ctype, const char *base, struct feed *f)
{
    return feed_parse(doc, strlen(doc), ctype, base, f);
}

static void test_rss20(void **state)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n"
        "     xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
        "<channel><title>  Example\n  feed </title><link>http://example.com/</link>\n"
        "<image><title>not the title</title><link>http://img.example/</link></image>\n"
        "<item><title>First &amp; best</title><link>/a/1</link>\n"
        "  <guid isPermaLink=\"false\">tag:example.com,2023:1</guid>\n"
        "  <pubDate>Mon, 03 Apr 2023 01:02:03 GMT</pubDate>\n"
        "  <description>&lt;p&gt;Hello&lt;/p&gt;</description>\n"
        "  <content:encoded><![CDATA[<p>Full <b>text</b></p>]]></content:encoded>\n"
        "  <dc:creator>Kari</dc:creator></item>\n"
        "<item><title>&lt;b&gt;Bold&lt;/b&gt; title</title><guid>http://example.com/2</guid>\n"
        "  <pubDate>Wed, 31 Dec 03 10:14:55 +0000</pubDate></item>\n"
        "</channel></rss>\n";
    struct feed f;
    (void)state;
    assert_int_equal(parse(doc, "application/rss+xml", "http://example.com/feed.xml", &f), SAM_OK);
    assert_int_equal(f.format, FEED_FORMAT_RSS);
    assert_string_equal(f.title, "Example feed");
    assert_string_equal(f.link, "http://example.com/");
    assert_int_equal(f.n_entries, 2);
    assert_string_equal(f.entries[0].id, "tag:example.com,2023:1");
    assert_int_equal(f.entries[0].id_generated, 0);
    assert_string_equal(f.entries[0].title, "First & best");
    assert_string_equal(f.entries[0].link, "http://example.com/a/1");
    assert_int_equal(f.entries[0].published, T_20230403);
    assert_string_equal(f.entries[0].summary, "<p>Hello</p>");
    assert_string_equal(f.entries[0].content, "<p>Full <b>text</b></p>");
    assert_string_equal(f.entries[0].author, "Kari");
    /* A permalink guid is the link when there is no <link>; HTML in a title is dropped. */
    assert_string_equal(f.entries[1].id, "http://example.com/2");
    assert_string_equal(f.entries[1].link, "http://example.com/2");
    assert_string_equal(f.entries[1].title, "Bold title");
    assert_int_equal(f.entries[1].published, 1072865695);
    assert_int_equal(f.recovered, 0);
    feed_free(&f);
    feed_free(&f); /* twice is harmless */
}

static void test_rss10(void **state)
{
    static const char doc[] =
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n"
        "  xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
        "<channel rdf:about=\"http://example.org/\"><title>RDF site</title>\n"
        "  <link>http://example.org/</link></channel>\n"
        "<image rdf:about=\"http://example.org/i.png\"><title>image</title></image>\n"
        "<item rdf:about=\"http://example.org/one\"><title>One</title>\n"
        "  <link>http://example.org/one</link><dc:date>2003-12-31T10:14:55Z</dc:date></item>\n"
        "<item rdf:about=\"http://example.org/two\"><dc:title>Two</dc:title>\n"
        "  <link>http://example.org/two</link><dc:date>2004-01-01</dc:date></item>\n"
        "<textinput><title>search</title><link>http://example.org/s</link></textinput>\n"
        "</rdf:RDF>";
    struct feed f;
    (void)state;
    assert_int_equal(parse(doc, NULL, NULL, &f), SAM_OK);
    assert_int_equal(f.format, FEED_FORMAT_RDF);
    assert_string_equal(f.title, "RDF site");
    assert_int_equal(f.n_entries, 2);
    assert_string_equal(f.entries[0].id, "http://example.org/one");
    assert_string_equal(f.entries[0].title, "One");
    assert_int_equal(f.entries[0].updated, 1072865695);
    assert_int_equal(f.entries[0].published, 0);
    assert_string_equal(f.entries[1].title, "Two");
    assert_int_equal(f.entries[1].updated, 1072915200);
    feed_free(&f);
}

static void test_rss091_entities(void **state)
{
    /* The Netscape DTD is named but never fetched; its HTML entities still decode. */
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
        "<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\"\n"
        " \"http://my.netscape.com/publish/formats/rss-0.91.dtd\">\n"
        "<rss version=\"0.91\"><channel><title>Caf&eacute;&nbsp;Oslo &#8217;s &#x2014; &copy;</title>\n"
        "<item><title>AT&T &unknownentity; &amp;amp;</title><link>http://x.example/?a=1&amp;b=2</link></item>\n"
        "</channel></rss>";
    struct feed f;
    (void)state;
    assert_int_equal(parse(doc, NULL, NULL, &f), SAM_OK);
    assert_string_equal(f.title, "Caf\xc3\xa9\xc2\xa0Oslo \xe2\x80\x99s \xe2\x80\x94 \xc2\xa9");
    assert_int_equal(f.n_entries, 1);
    /* A bare '&' and an unknown entity stay text, as feedparser keeps them; text with an
     * entity in it looks like HTML and is decoded once more, as feedparser does. */
    assert_string_equal(f.entries[0].title, "AT&T &unknownentity; &");
    assert_string_equal(f.entries[0].link, "http://x.example/?a=1&b=2");
    assert_int_equal(f.entries[0].id_generated, 1);
    feed_free(&f);
}

static void test_atom_xml_base(void **state)
{
    static const char doc[] =
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"http://example.org/blog/\">\n"
        "<title type=\"html\">A &lt;em&gt;blog&lt;/em&gt;</title>\n"
        "<link rel=\"self\" href=\"feed.atom\"/><link href=\"./\"/>\n"
        "<entry xml:base=\"2023/\"><id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>\n"
        "  <title type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">X <b>H</b>"
        "<script>evil()</script></div></title>\n"
        "  <link rel=\"alternate\" type=\"text/html\" href=\"post.html\"/>\n"
        "  <link rel=\"enclosure\" href=\"a.mp3\"/>\n"
        "  <published>2023-04-03T03:02:03+02:00</published><updated>2023-04-04T00:00:00Z</updated>\n"
        "  <author><name>Ola</name><email>ola@example.org</email></author>\n"
        "  <content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Hi</p></div></content>\n"
        "  <source><title>elsewhere</title></source></entry>\n"
        "<entry><id>  tag:example.org,2023:2 </id><title>Plain &lt;tag&gt; text</title>\n"
        "  <link href=\"javascript:alert(1)\"/><updated>2023-04-03T01:02:03.5Z</updated></entry>\n"
        "</feed>";
    struct feed f;
    (void)state;
    assert_int_equal(parse(doc, "application/atom+xml", "http://ignored.example/x", &f), SAM_OK);
    assert_int_equal(f.format, FEED_FORMAT_ATOM);
    assert_string_equal(f.title, "A blog");
    assert_string_equal(f.link, "http://example.org/blog/");
    assert_int_equal(f.n_entries, 2);
    assert_string_equal(f.entries[0].id, "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a");
    assert_string_equal(f.entries[0].title, "X H");
    assert_string_equal(f.entries[0].link, "http://example.org/blog/2023/post.html");
    assert_int_equal(f.entries[0].published, T_20230403);
    assert_int_equal(f.entries[0].updated, 1680566400);
    assert_string_equal(f.entries[0].author, "Ola");
    assert_non_null(strstr(f.entries[0].content, "<p>Hi</p>"));
    assert_string_equal(f.entries[1].id, "tag:example.org,2023:2");
    /* Atom text is text: angle brackets stay. */
    assert_string_equal(f.entries[1].title, "Plain <tag> text");
    /* javascript: links are dropped. */
    assert_string_equal(f.entries[1].link, "");
    assert_int_equal(f.entries[1].updated, T_20230403);
    feed_free(&f);
}

static void test_json_feed(void **state)
{
    static const char doc[] =
        "\xef\xbb\xbf {\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"J  feed\",\n"
        " \"home_page_url\": \"https://j.example/\", \"items\": [\n"
        "  {\"id\": \"1\", \"url\": \"/p/1\", \"title\": \"One\", \"content_html\": \"<p>x</p>\",\n"
        "   \"date_published\": \"2023-04-03T01:02:03Z\", \"authors\": [{\"name\": \"Kim\"}]},\n"
        "  {\"id\": 2, \"content_text\": \"no title\", \"date_modified\": \"bogus\"},\n"
        "  {\"url\": \"https://j.example/3\", \"title\": \"Three\"},\n"
        "  \"not an object\"]}";
    struct feed f;
    (void)state;
    assert_int_equal(parse(doc, NULL, "https://j.example/feed.json", &f), SAM_OK);
    assert_int_equal(f.format, FEED_FORMAT_JSON);
    assert_string_equal(f.title, "J feed");
    assert_string_equal(f.link, "https://j.example/");
    assert_int_equal(f.n_entries, 3);
    assert_string_equal(f.entries[0].id, "1");
    assert_string_equal(f.entries[0].link, "https://j.example/p/1");
    assert_int_equal(f.entries[0].published, T_20230403);
    assert_string_equal(f.entries[0].author, "Kim");
    assert_string_equal(f.entries[0].content, "<p>x</p>");
    assert_string_equal(f.entries[1].id, "2");
    assert_string_equal(f.entries[1].content, "no title");
    assert_int_equal(f.entries[1].updated, 0);
    assert_int_equal(f.entries[2].id_generated, 1);
    assert_non_null(strstr(f.entries[2].id, "urn:samtale:entry:"));
    feed_free(&f);

    assert_int_equal(parse("{\"version\": 1, \"items\": ", NULL, NULL, &f), SAM_EINVAL);
    assert_int_equal(parse("{\"a\": 1}", NULL, NULL, &f), SAM_EINVAL);
    assert_int_equal(parse("[1,2]", "application/feed+json", NULL, &f), SAM_EINVAL);
}

static void test_windows1252_charset(void **state)
{
    /* No XML declaration: only the HTTP charset says these bytes are windows-1252. */
    static const char doc[] = "<rss version=\"2.0\"><channel><title>caf\xe9 \x96 \x93q\x94</title>"
                              "</channel></rss>";
    struct feed f;
    (void)state;
    assert_int_equal(parse(doc, "text/xml; charset=\"windows-1252\"", NULL, &f), SAM_OK);
    assert_string_equal(f.title, "caf\xc3\xa9 \xe2\x80\x93 \xe2\x80\x9cq\xe2\x80\x9d");
    feed_free(&f);
    /* Without the charset the bytes are not UTF-8; they are read as windows-1252 anyway,
     * and never produce invalid UTF-8. */
    assert_int_equal(parse(doc, NULL, NULL, &f), SAM_OK);
    assert_string_equal(f.title, "caf\xc3\xa9 \xe2\x80\x93 \xe2\x80\x9cq\xe2\x80\x9d");
    feed_free(&f);
    /* An unknown charset falls back to the document's own. */
    assert_int_equal(parse("<rss><channel><title>ok</title></channel></rss>",
                           "text/xml; charset=no-such-charset", NULL, &f), SAM_OK);
    assert_string_equal(f.title, "ok");
    feed_free(&f);
}

static void test_entity_bomb(void **state)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n"
        "<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
        "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
        "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
        "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
        "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
        "<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
        "]>\n<rss version=\"2.0\"><channel><title>&h;</title>\n"
        "<item><title>t &h;</title><description>&h;&h;&h;</description></item></channel></rss>";
    struct feed f;
    struct timespec t0, t1;
    int rc;
    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = parse(doc, NULL, NULL, &f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* 16^7 * 52 bytes (about 14 GB) if it expanded: it must not. */
    assert_true((t1.tv_sec - t0.tv_sec) < 3);
    if(rc == SAM_OK) {
        assert_true(strlen(f.title) <= FEED_TEXT_MAX);
        for(size_t i = 0; i < f.n_entries; i++) {
            assert_true(strlen(f.entries[i].title) <= FEED_TEXT_MAX);
            assert_true(strlen(f.entries[i].summary) <= FEED_BODY_MAX);
        }
        feed_free(&f);
    } else {
        assert_int_equal(rc, SAM_EINVAL);
    }
}

static void test_external_entity(void **state)
{
    char path[] = "/tmp/samtale-feed-xxe-XXXXXX", doc[1024];
    int fd = mkstemp(path);
    struct feed f;
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "SECRET-CONTENT", 14), 14);
    close(fd);
    snprintf(doc, sizeof(doc),
             "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file://%s\">\n"
             "<!ENTITY pe SYSTEM \"http://127.0.0.1:9/x\"><!ENTITY fine \"inner\">]>\n"
             "<rss version=\"2.0\"><channel><title>a &xxe; b &fine;</title>"
             "<item><title>&xxe;&pe;</title><description>&xxe;</description><guid>g</guid>"
             "</item></channel></rss>", path);
    assert_int_equal(parse(doc, NULL, NULL, &f), SAM_OK);
    unlink(path);
    assert_null(strstr(f.title, "SECRET"));
    assert_string_equal(f.title, "a b inner");
    assert_int_equal(f.n_entries, 1);
    assert_null(strstr(f.entries[0].title, "SECRET"));
    assert_null(strstr(f.entries[0].summary, "SECRET"));
    feed_free(&f);
}

static void test_broken_input(void **state)
{
    static const char full[] =
        "<rss version=\"2.0\"><channel><title>T</title><item><title>One</title>"
        "<guid>1</guid></item><item><title>Two</title><guid>2</guid></item></channel></rss>";
    struct feed f;
    char *big;
    (void)state;
    /* Every prefix of a feed parses or is refused cleanly; a long enough one recovers. */
    for(size_t n = 0; n <= sizeof(full) - 1; n++) {
        int rc = feed_parse(full, n, NULL, NULL, &f);
        assert_true(rc == SAM_OK || rc == SAM_EINVAL);
        if(rc == SAM_OK && n > 100)
            assert_true(f.n_entries >= 1);
        feed_free(&f);
    }
    assert_int_equal(feed_parse(full, 110, NULL, NULL, &f), SAM_OK);
    assert_int_equal(f.recovered, 1);
    assert_string_equal(f.title, "T");
    feed_free(&f);
    /* Mismatched tags, a stray '<', not XML at all, nothing. */
    assert_int_equal(parse("<rss><channel><title>x</foo></channel><item><title>a < b</title></item></rss>",
                           NULL, NULL, &f), SAM_OK);
    assert_string_equal(f.title, "x");
    feed_free(&f);
    assert_int_equal(parse("this is not a feed", NULL, NULL, &f), SAM_EINVAL);
    assert_int_equal(parse("<html><body>hi</body></html>", NULL, NULL, &f), SAM_EINVAL);
    assert_int_equal(feed_parse("", 0, NULL, NULL, &f), SAM_EINVAL);
    assert_int_equal(feed_parse(NULL, 0, NULL, NULL, &f), SAM_EINVAL);
    /* Over the size limit. */
    big = malloc((size_t)FEED_MAX_BYTES + 1);
    assert_non_null(big);
    memset(big, ' ', (size_t)FEED_MAX_BYTES + 1);
    assert_int_equal(feed_parse(big, (size_t)FEED_MAX_BYTES + 1, NULL, NULL, &f), SAM_ETOOBIG);
    free(big);
    assert_int_equal(f.n_entries, 0);
    feed_free(&f);
}

static void test_entry_limit(void **state)
{
    size_t n = FEED_MAX_ENTRIES + 5, cap = n * 32 + 128, len = 0;
    char *doc = malloc(cap);
    struct feed f;
    (void)state;
    assert_non_null(doc);
    len += (size_t)snprintf(doc + len, cap - len, "<rss><channel>");
    for(size_t i = 0; i < n; i++)
        len += (size_t)snprintf(doc + len, cap - len, "<item><guid>%zu</guid></item>", i);
    len += (size_t)snprintf(doc + len, cap - len, "</channel></rss>");
    assert_int_equal(feed_parse(doc, len, NULL, NULL, &f), SAM_OK);
    free(doc);
    assert_int_equal(f.n_entries, FEED_MAX_ENTRIES);
    assert_int_equal(f.truncated, 1);
    assert_string_equal(f.entries[FEED_MAX_ENTRIES - 1].id, "9999");
    feed_free(&f);
}

static void test_stable_ids(void **state)
{
    static const char a[] = "<rss><channel><item><title>Hello</title><link>http://x.example/1</link>"
                            "</item><item><title>Hello!</title><link>http://x.example/1</link></item>"
                            "<item><description>only a body</description></item>"
                            "<item><guid>   </guid><title>Hello</title><link>http://x.example/1</link></item>"
                            "</channel></rss>";
    struct feed f, g;
    (void)state;
    assert_int_equal(parse(a, NULL, NULL, &f), SAM_OK);
    assert_int_equal(parse(a, NULL, NULL, &g), SAM_OK);
    assert_int_equal(f.n_entries, 4);
    for(size_t i = 0; i < 4; i++) {
        assert_int_equal(f.entries[i].id_generated, 1);
        assert_string_equal(f.entries[i].id, g.entries[i].id);
        assert_int_equal(strlen(f.entries[i].id), strlen("urn:samtale:entry:") + 32);
    }
    assert_string_not_equal(f.entries[0].id, f.entries[1].id);
    assert_string_not_equal(f.entries[0].id, f.entries[2].id);
    /* A blank guid counts as none: same rule, same id. */
    assert_string_equal(f.entries[0].id, f.entries[3].id);
    feed_free(&f);
    feed_free(&g);
}

static void test_dates(void **state)
{
    static const struct {
        const char *in;
        int64_t want; /* 0: refused */
    } cases[] = {
        {"Mon, 03 Apr 2023 01:02:03 GMT", T_20230403},
        {"Mon, 3 Apr 2023 01:02:03 +0000", T_20230403},
        {"3 Apr 2023 03:02:03 +0200", T_20230403},
        {"Sun, 02 Apr 2023 20:02:03 EST", T_20230403},
        {"Sun, 02 Apr 2023 21:02:03 -04:00", T_20230403},
        {"Mon, 03 Apr 23 01:02:03 Z", T_20230403},
        {"Mon, 03 Apr 2023 01:02", T_20230403 - 3},
        {"Apr 03 2023 01:02:03 GMT", T_20230403},
        {"Wed, 31 Dec 2003", 1072828800},
        {"Tue, 01 Jun 99 12:00:00 GMT", 928238400},
        {"2023-04-03T01:02:03Z", T_20230403},
        {"2023-04-03T01:02:03.123456Z", T_20230403},
        {"2023-04-03T03:02:03+02:00", T_20230403},
        {"2023-04-03T03:02:03+0200", T_20230403},
        {"2023-04-03 01:02:03", T_20230403},
        {"20230403T010203Z", T_20230403},
        {"2003-12", 1070236800},
        {"2004", 1072915200},
        {"2003-12-31", 1072828800},
        {"Mon Apr  3 01:02:03 2023", T_20230403},
        {"  2023-04-03T01:02:03Z\n", T_20230403},
        {"", 0},
        {"yesterday", 0},
        {"2023-13-01", 0},
        {"2023-02-29T00:00:00Z", 0},
        {"Mon, 32 Apr 2023 01:02:03 GMT", 0},
        {"99999999999999999999999", 0},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t = -1;
        int rc = feed_parse_date(cases[i].in, &t);
        if(cases[i].want) {
            if(rc || t != cases[i].want)
                fail_msg("date %zu \"%s\": rc %d, got %lld want %lld", i, cases[i].in, rc,
                         (long long)t, (long long)cases[i].want);
        } else {
            assert_int_equal(rc, SAM_EINVAL);
            assert_int_equal(t, 0);
        }
    }
}

/* ---- feed_fetch against tests/peers/feedserver.py ---- */

static pid_t server_pid;
static int server_port;

static int start_server(void **state)
{
    int fds[2];
    char line[256];
    FILE *fp;
    (void)state;
    if(pipe(fds))
        return -1;
    server_pid = fork();
    if(server_pid < 0)
        return -1;
    if(server_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3", SAMTALE_SOURCE_DIR "/tests/peers/feedserver.py",
              "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    fp = fdopen(fds[0], "r");
    if(!fp || !fgets(line, sizeof(line), fp) ||
       sscanf(line, "listening on http://127.0.0.1:%d/", &server_port) != 1) {
        if(fp)
            fclose(fp);
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
        return -1;
    }
    fclose(fp);
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    if(server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    return 0;
}

static void test_fetch_conditional(void **state)
{
    char url[128], reqs[128];
    struct feed_fetch_result res;
    struct feed f;
    struct http_req req;
    struct http_resp resp;
    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed.xml", server_port);

    /* First poll: 200 and a parsed feed, links resolved against the URL. */
    assert_int_equal(feed_fetch(url, NULL, NULL, 5000, &res, &f), SAM_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.not_modified, 0);
    assert_string_equal(res.content_type, "application/rss+xml");
#ifdef HTTP_RESP_VALIDATORS
    assert_string_equal(res.etag, "\"samtale-feed-v1\"");
    assert_string_equal(res.last_modified, "Mon, 03 Apr 2023 01:02:03 GMT");
#endif
    assert_string_equal(f.title, "Feed server");
    assert_int_equal(f.n_entries, 2);
    assert_string_equal(f.entries[0].id, "post-1");
    assert_int_equal(f.entries[0].published, T_20230403);
    {
        char want[128];
        snprintf(want, sizeof(want), "http://127.0.0.1:%d/posts/1", server_port);
        assert_string_equal(f.entries[0].link, want);
        snprintf(want, sizeof(want), "http://127.0.0.1:%d/posts/2", server_port);
        assert_string_equal(f.entries[1].link, want);
    }
    feed_free(&f);

    /* Second poll with the ETag: 304, nothing parsed, validators kept. */
    assert_int_equal(feed_fetch(url, "\"samtale-feed-v1\"", "Mon, 03 Apr 2023 01:02:03 GMT",
                                5000, &res, &f), SAM_OK);
    assert_int_equal(res.status, 304);
    assert_int_equal(res.not_modified, 1);
    assert_int_equal(f.n_entries, 0);
    assert_string_equal(res.etag, "\"samtale-feed-v1\"");
    assert_string_equal(res.last_modified, "Mon, 03 Apr 2023 01:02:03 GMT");
    feed_free(&f);

    /* Last-Modified alone also gives 304; a stale ETag gives 200 again. */
    assert_int_equal(feed_fetch(url, NULL, "Mon, 03 Apr 2023 01:02:03 GMT", 5000, &res, &f), SAM_OK);
    assert_int_equal(res.status, 304);
    feed_free(&f);
    assert_int_equal(feed_fetch(url, "\"old\"", NULL, 5000, &res, &f), SAM_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(f.n_entries, 2);
    feed_free(&f);

    /* The server saw the conditional headers exactly as sent. */
    snprintf(reqs, sizeof(reqs), "http://127.0.0.1:%d/requests", server_port);
    memset(&req, 0, sizeof(req));
    req.url = reqs;
    req.timeout_ms = 5000;
    http_resp_init(&resp);
    assert_int_equal(http_request(&req, &resp), SAM_OK);
    assert_non_null(strstr(buf_str(&resp.body), "\"if_none_match\": \"\\\"samtale-feed-v1\\\"\""));
    assert_non_null(strstr(buf_str(&resp.body),
                           "\"if_modified_since\": \"Mon, 03 Apr 2023 01:02:03 GMT\""));
    http_resp_cleanup(&resp);

    /* Header injection through a validator is refused before anything is sent. */
    assert_int_equal(feed_fetch(url, "\"x\"\r\nX-Evil: 1", NULL, 5000, &res, &f), SAM_EINVAL);
}

static void test_fetch_charset_and_errors(void **state)
{
    char url[128];
    struct feed_fetch_result res;
    struct feed f;
    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/latin1.xml", server_port);
    assert_int_equal(feed_fetch(url, NULL, NULL, 5000, &res, &f), SAM_OK);
    assert_string_equal(f.title, "caf\xc3\xa9 \xe2\x80\x93 ok");
    feed_free(&f);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/json", server_port);
    assert_int_equal(feed_fetch(url, NULL, NULL, 5000, &res, &f), SAM_OK);
    assert_int_equal(f.format, FEED_FORMAT_JSON);
    assert_int_equal(f.n_entries, 1);
    feed_free(&f);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/error", server_port);
    assert_int_equal(feed_fetch(url, NULL, NULL, 5000, &res, &f), SAM_EIO);
    assert_int_equal(res.status, 500);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/missing", server_port);
    assert_int_equal(feed_fetch(url, NULL, NULL, 5000, &res, &f), SAM_EIO);
    assert_int_equal(res.status, 404);
    assert_int_equal(feed_fetch("ftp://127.0.0.1/feed", NULL, NULL, 5000, &res, &f), SAM_EINVAL);
}

/* A feed at an address the policy refuses: SAM_EPERM, and nothing reaches it. */
static void test_fetch_refused_address(void **state)
{
    static const char *const hosts[] = {"127.0.0.1", "[::1]", "[::]", "[::ffff:127.0.0.1]", "localhost"};
    int fds[2], port = probe_pair(fds);
    char url[96];
    struct feed_fetch_result res;
    struct feed f;
    (void)state;
    assert_true(port > 0);
    assert_int_equal(netpolicy_configure(0, NULL), SAM_OK);
    for(size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        snprintf(url, sizeof(url), "http://%s:%d/feed.xml", hosts[i], port);
        assert_int_equal(feed_fetch(url, NULL, NULL, 5000, &res, &f), SAM_EPERM);
        assert_int_equal(res.status, 0);
        assert_int_equal(f.n_entries, 0);
    }
    assert_int_equal(netpolicy_configure(1, NULL), SAM_OK);
    assert_int_equal(probe_pending(fds[0]) + probe_pending(fds[1]), 0);
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    const struct CMUnitTest parse_tests[] = {
        cmocka_unit_test(test_rss20),
        cmocka_unit_test(test_rss10),
        cmocka_unit_test(test_rss091_entities),
        cmocka_unit_test(test_atom_xml_base),
        cmocka_unit_test(test_json_feed),
        cmocka_unit_test(test_windows1252_charset),
        cmocka_unit_test(test_entity_bomb),
        cmocka_unit_test(test_external_entity),
        cmocka_unit_test(test_broken_input),
        cmocka_unit_test(test_entry_limit),
        cmocka_unit_test(test_stable_ids),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_fetch_refused_address),
    };
    netpolicy_configure(1, NULL); /* the test servers are on 127.0.0.1 */
    const struct CMUnitTest fetch_tests[] = {
        cmocka_unit_test(test_fetch_conditional),
        cmocka_unit_test(test_fetch_charset_and_errors),
    };
    int failed = cmocka_run_group_tests_name("feed_parse", parse_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("feed_fetch", fetch_tests, start_server, stop_server);
    return failed;
}
