/*
 * discover.h: finding a site's feed from what a person typed, a feed's URL or a page that
 * names its feed in its link tags (PRODUCT.md CH3). It sits in channel/ beside feed.h,
 * whose reader it uses to tell a feed from a page, and fetches with http.h.
 *
 * Autodiscovery reads the page's <link> elements the way browsers and feed readers do:
 *
 *   <link rel="alternate" type="application/rss+xml" title="Posts" href="/feed.xml">
 *
 * A link names a feed when its rel (a list of tokens separated by ASCII white space,
 * compared without case) holds "alternate" and its type (compared without case, without
 * parameters such as "; charset=utf-8") is one of application/rss+xml,
 * application/atom+xml, application/rdf+xml, application/feed+json or application/json;
 * or when its rel holds "feed" (HTML's keyword for a feed), whatever its type. <link>
 * elements in <body> count too: real pages put them there.
 *
 * Shape of a result (all strings UTF-8, NUL-terminated, owned by the struct
 * discover_links and freed by discover_links_cleanup; a missing text is "" never NULL):
 *
 *   url    absolute http:// or https:// URL, at most DISCOVER_URL_MAX bytes: the href
 *          with entities decoded, surrounding white space trimmed, tabs and line breaks
 *          removed, bytes that RFC 3986 does not allow %-encoded (non-ASCII as UTF-8),
 *          then resolved against the page's first <base href> and the page's URL; a
 *          link whose result is another scheme, has no host or is too long is skipped
 *   title  the title attribute, white space collapsed, at most DISCOVER_TEXT_MAX bytes
 *   type   the type attribute in lower case without parameters ("" when absent)
 *
 * Links keep document order, a URL named twice is kept once (the first), and at most
 * DISCOVER_MAX_LINKS are kept. Pages over DISCOVER_MAX_BYTES are refused. Malformed HTML
 * is read as libxml2's parser recovers it, which is close to browsers but not the same:
 * a <link> inside an unclosed <title> counts, and a page cut off inside an href keeps the
 * part it has. discover_feed fetches every link before it believes it.
 */
#ifndef SAM_DISCOVER_H
#define SAM_DISCOVER_H

#include <stddef.h>

#define DISCOVER_MAX_BYTES (2 * 1024 * 1024) /* largest page discover_feed_links reads */
#define DISCOVER_MAX_LINKS 32                /* links past this are dropped */
#define DISCOVER_URL_MAX 2048                /* a longer URL is skipped, not cut */
#define DISCOVER_TEXT_MAX 1024               /* title and type: bytes, cut on a character */
#define DISCOVER_MAX_REDIRECTS 5             /* redirects discover_feed follows per fetch */
#define DISCOVER_MAX_TRIES 4                 /* links of a page discover_feed fetches */

struct discover_link {
    char *url;
    char *title;
    char *type;
};

struct discover_links {
    struct discover_link *items;
    size_t n;
};

/* Finds the feed links of an HTML document of len bytes (need not be NUL-terminated; the
 * encoding is found as libxml2's HTML parser finds it: a byte order mark, <meta charset>
 * or <meta http-equiv="Content-Type">, else UTF-8 falling back to ISO-8859-1). base_url
 * is the page's address, or NULL when unknown (then only absolute hrefs are kept). On
 * SAM_OK *out holds zero or more links and must be released with discover_links_cleanup;
 * on error *out is left empty. A page that names no feed, an empty one included, is
 * SAM_OK with out->n == 0. Errors: SAM_ETOOBIG (len > DISCOVER_MAX_BYTES), SAM_ENOMEM.
 * Malformed and truncated HTML is not an error (see above). */
int discover_feed_links(const char *html, size_t len, const char *base_url,
                        struct discover_links *out);

/* Frees what discover_feed_links put into l and leaves it empty; l itself is the
 * caller's. NULL is allowed, and so is a second call. */
void discover_links_cleanup(struct discover_links *l);

/* Turns what a person typed into the URL of a feed. Fetches url (surrounding white space
 * is ignored; it must be http:// or https://), following up to DISCOVER_MAX_REDIRECTS
 * redirects, each to an http(s) URL. When the answer reads as a feed (feed_parse), the
 * URL it was finally fetched from is the feed's. Otherwise the answer is read as an HTML
 * page (its first DISCOVER_MAX_BYTES) and its feed links are fetched in document order,
 * at most DISCOVER_MAX_TRIES of them; the first that reads as a feed wins. timeout_ms
 * bounds the whole search (0: HTTP_TIMEOUT_MS_DEFAULT).
 *
 * On SAM_OK *feed_url gets the feed's URL and *title its title (the feed's own, else the
 * link's title attribute, else NULL); both are the caller's to free(). On error both are
 * NULL and the recorded message (sam_errmsg) is meant for the person who typed the URL.
 * Errors: SAM_EINVAL for a URL that is not http(s) (field "url"), a page that names no
 * feed or whose feed links do not lead to one, an HTTP 4xx answer, too many redirects;
 * SAM_EIO when the site or the feed could not be reached, did not answer in time, or
 * answered 5xx or 429 (transient: worth trying again later); SAM_EAUTH when its TLS
 * certificate could not be verified; SAM_EPERM when the outbound address policy refused
 * the address of url or of a redirect from it (nothing was fetched from that address);
 * SAM_ETOOBIG when the answer is larger than
 * FEED_MAX_BYTES and names no feed in its first DISCOVER_MAX_BYTES; SAM_ENOMEM;
 * SAM_EINTERNAL. */
int discover_feed(const char *url, long timeout_ms, char **feed_url, char **title);

/* What a link card shows of a page (a post's link on Bluesky, the composer's preview):
 * the Open Graph tags of its head (og:title, og:description, og:image, og:site_name),
 * else <title> and <meta name="description">. Texts have white space collapsed and are
 * cut on a character (title DISCOVER_TEXT_MAX / 4 bytes, description DISCOVER_TEXT_MAX);
 * image is an absolute http(s) URL resolved like a feed link, or "". Owned strings, ""
 * when absent; free with discover_card_cleanup. */
struct discover_card {
    char *title;
    char *description;
    char *image;
    char *site;
};

/* Reads the card of an HTML page of len bytes (charset as discover_feed_links; base_url
 * the page's address). SAM_OK with *out filled (empty texts when the page says nothing);
 * SAM_ETOOBIG, SAM_ENOMEM. */
int discover_card(const char *html, size_t len, const char *charset, const char *base_url,
                  struct discover_card *out);
void discover_card_cleanup(struct discover_card *c);

#endif
