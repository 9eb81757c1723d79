/*
 * discover.c: feed autodiscovery behind discover.h. A page is read with libxml2's HTML
 * parser (no network, recover mode, errors silenced: pages are rarely valid HTML) into a
 * tree, and the tree is walked twice without recursion: once for the first <base href>,
 * which applies to every link of the page wherever it stands, and once for <link>.
 *
 * Encoding: libxml2 finds it from a byte order mark or <meta>; a charset from the HTTP
 * answer overrides both. A page that is not UTF-8 and declares a latin1 label or nothing
 * is read again as windows-1252, as browsers read it (libxml2 alone switches to
 * ISO-8859-1 in mid-page and garbles the byte that made it switch). Titles and types are
 * made valid UTF-8 here whatever libxml2 gives.
 *
 * URLs: an href is first made into something RFC 3986 allows (what browsers do before
 * they resolve: trim, drop tabs and line breaks, %-encode spaces, non-ASCII bytes and the
 * other characters a URI may not hold, a '\' before the query read as '/'), then resolved
 * by RFC 3986 section 5.2, and the result kept only when it is http(s) with a host and a
 * port of at most 65535. The resolver is ours, not libxml2's xmlBuildURI, because that one
 * decodes %-escapes in the path it rebuilds ("%2F" becomes a '/', another URL) and leaves
 * dot segments in absolute paths (so duplicates would not be seen as such). Redirect
 * targets (Location) go through the same rule, against the URL that redirected.
 *
 * discover_feed tells a feed from a page by asking feed_parse (feed.h): an answer that
 * parses with a known root (RSS, RDF, Atom, JSON Feed), or one that is not served as HTML
 * and still gives entries or a title, is a feed. Everything else is read as a page. One
 * deadline bounds all requests of a call, so a page naming slow feeds cannot hold a
 * caller for DISCOVER_MAX_TRIES times the timeout.
 */
#include "channel/discover.h"

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel/feed.h"
#include "channel/http.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

/* ---- text --------------------------------------------------------------------------- */

/* HTML's ASCII white space (no vertical tab). */
static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* Length of the valid UTF-8 character at p (at most n bytes left), or 0. */
static size_t utf8_char(const char *p, size_t n)
{
    unsigned char c = (unsigned char)*p;
    size_t k = 0;
    if(c < 0x80)
        k = 1;
    else if(c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if(c >= 0xE0 && c <= 0xEF)
        k = 3;
    else if(c >= 0xF0 && c <= 0xF4)
        k = 4;
    if(!k || k > n || utf8_count(p, k) != 1)
        return 0;
    return k;
}

/* A copy of s with white space trimmed and runs of it collapsed into one space (collapse)
 * or kept (!collapse), other ASCII controls dropped, bytes that are not UTF-8 replaced by
 * U+FFFD, and cut at limit bytes on a character boundary. The caller frees it; NULL
 * when out of memory. */
static char *text_copy(const char *s, size_t limit, int collapse)
{
    size_t n = strlen(s), len = 0;
    char *out = malloc(limit + 1);
    int space = 0;
    if(!out)
        return NULL;
    for(size_t i = 0; i < n;) {
        const char *add = s + i;
        size_t k = utf8_char(s + i, n - i), step = k ? k : 1;
        if(collapse && is_ws((unsigned char)s[i])) {
            space = len > 0;
            i++;
            continue;
        }
        if((unsigned char)s[i] < 0x20 || s[i] == 0x7F) {
            i++; /* other controls have no place in a title or a type */
            continue;
        }
        if(!k) {
            add = "\xEF\xBF\xBD";
            k = 3;
        }
        if(len + (size_t)space + k > limit)
            break;
        if(space)
            out[len++] = ' ';
        space = 0;
        memcpy(out + len, add, k);
        len += k;
        i += step;
    }
    out[len] = '\0';
    return out;
}

/* 1 when the white-space-separated token list holds tok (ASCII case ignored). */
static int has_token(const char *list, const char *tok)
{
    size_t m = strlen(tok);
    const char *p = list;
    while(*p) {
        size_t k = 0;
        while(is_ws((unsigned char)*p))
            p++;
        while(p[k] && !is_ws((unsigned char)p[k]))
            k++;
        if(k == m && !strncasecmp(p, tok, m))
            return 1;
        p += k;
    }
    return 0;
}

/* A MIME type without its parameters, trimmed, in ASCII lower case; NULL when out of
 * memory. */
static char *media_type(const char *s)
{
    char *t, *c;
    size_t n;
    while(is_ws((unsigned char)*s))
        s++;
    n = strcspn(s, ";");
    while(n && is_ws((unsigned char)s[n - 1]))
        n--;
    t = malloc(n + 1);
    if(!t)
        return NULL;
    for(size_t i = 0; i < n; i++)
        t[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    t[n] = '\0';
    c = text_copy(t, DISCOVER_TEXT_MAX, 0);
    free(t);
    return c;
}

static int is_feed_type(const char *t)
{
    static const char *const types[] = {"application/rss+xml", "application/atom+xml",
                                        "application/rdf+xml", "application/feed+json",
                                        "application/json"};
    for(size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if(!strcmp(t, types[i]))
            return 1;
    return 0;
}

/* ---- URLs --------------------------------------------------------------------------- */

static int is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The five parts of a URI reference (RFC 3986, appendix B), pointing into the string: a
 * part that is absent has has_x == 0; one that is present may still be empty. A scheme
 * is only taken when it is one (a letter, then letters, digits, '+', '-', '.'). */
struct uri_parts {
    const char *scheme, *auth, *path, *query, *frag;
    size_t scheme_n, auth_n, path_n, query_n, frag_n;
    int has_scheme, has_auth, has_query, has_frag;
};

static void split_uri(const char *s, struct uri_parts *u)
{
    const char *p = s;
    memset(u, 0, sizeof(*u));
    if(is_alpha((unsigned char)*p)) {
        const char *q = p + 1;
        while(is_alpha((unsigned char)*q) || (*q >= '0' && *q <= '9') || *q == '+' || *q == '-' ||
              *q == '.')
            q++;
        if(*q == ':') {
            u->has_scheme = 1;
            u->scheme = p;
            u->scheme_n = (size_t)(q - p);
            p = q + 1;
        }
    }
    if(p[0] == '/' && p[1] == '/') {
        u->has_auth = 1;
        u->auth = p + 2;
        u->auth_n = strcspn(u->auth, "/?#");
        p = u->auth + u->auth_n;
    }
    u->path = p;
    u->path_n = strcspn(p, "?#");
    p += u->path_n;
    if(*p == '?') {
        u->has_query = 1;
        u->query = p + 1;
        u->query_n = strcspn(u->query, "#");
        p = u->query + u->query_n;
    }
    if(*p == '#') {
        u->has_frag = 1;
        u->frag = p + 1;
        u->frag_n = strlen(u->frag);
    }
}

/* Makes an href as a page gives it into a URI reference RFC 3986 allows (see the top of
 * the file). *out (the caller frees it) is "" for an href of only white space.
 * SAM_ETOOBIG when it is longer than 4 * DISCOVER_URL_MAX bytes (no URL that long can
 * resolve to one we keep), SAM_ENOMEM. */
static int clean_href(const char *s, char **out)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *end;
    char *t, *w;
    struct uri_parts u;
    struct buf b;
    int in_query = 0, seen_hash = 0, rc = SAM_OK;

    *out = NULL;
    /* WHATWG trims C0 controls and spaces; tabs and line breaks inside are dropped, and
     * a '\' before the query is a '/' (http and https are "special" schemes there). */
    while(*s && (unsigned char)*s <= 0x20)
        s++;
    end = s + strlen(s);
    while(end > s && (unsigned char)end[-1] <= 0x20)
        end--;
    if((size_t)(end - s) > 4 * DISCOVER_URL_MAX)
        return SAM_ETOOBIG;
    if(!(t = malloc((size_t)(end - s) + 1)))
        return SAM_ENOMEM;
    w = t;
    for(const char *p = s; p < end; p++) {
        if(*p == '\t' || *p == '\n' || *p == '\r')
            continue;
        if(*p == '?' || *p == '#')
            in_query = 1;
        *w++ = *p == '\\' && !in_query ? '/' : *p;
    }
    *w = '\0';

    split_uri(t, &u);
    buf_init(&b, 4 * DISCOVER_URL_MAX);
    for(const char *p = t; *p && !rc; p++) {
        unsigned char c = (unsigned char)*p;
        int keep = c > 0x20 && c < 0x7F && !strchr("\"<>\\`{}|^", c);
        if(c == '#') {
            keep = !seen_hash; /* a fragment holds no second '#' */
            seen_hash = 1;
        } else if(c == '[' || c == ']') {
            keep = u.has_auth && p >= u.auth && p < u.auth + u.auth_n; /* IPv6 literals */
        } else if(c == '%') {
            keep = is_hex((unsigned char)p[1]) && is_hex((unsigned char)p[2]);
        }
        if(keep) {
            rc = buf_append(&b, p, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = buf_append(&b, e, 3);
        }
    }
    free(t);
    if(!rc && !(*out = buf_take(&b)))
        rc = SAM_ENOMEM;
    buf_cleanup(&b);
    return rc;
}

/* Appends path[0..n) with its "." and ".." segments removed (RFC 3986, 5.2.4).
 * SAM_ETOOBIG, SAM_ENOMEM. */
static int append_path(struct buf *out, const char *path, size_t n)
{
    char *in = malloc(n + 1), *o = malloc(n + 1);
    size_t i = 0, olen = 0;
    int rc;
    if(!in || !o) {
        free(in);
        free(o);
        return SAM_ENOMEM;
    }
    memcpy(in, path, n);
    in[n] = '\0';
    while(i < n) {
        const char *r = in + i;
        size_t left = n - i;
        int pop = 0;
        if(left >= 3 && !memcmp(r, "../", 3)) {
            i += 3;
        } else if(left >= 2 && !memcmp(r, "./", 2)) {
            i += 2;
        } else if(left >= 3 && !memcmp(r, "/./", 3)) {
            i += 2;
        } else if(left == 2 && !memcmp(r, "/.", 2)) {
            in[++i] = '/';
        } else if(left >= 4 && !memcmp(r, "/../", 4)) {
            i += 3;
            pop = 1;
        } else if(left == 3 && !memcmp(r, "/..", 3)) {
            i += 2;
            in[i] = '/';
            pop = 1;
        } else if((left == 1 && r[0] == '.') || (left == 2 && !memcmp(r, "..", 2))) {
            i = n;
        } else {
            size_t k = r[0] == '/';
            k += strcspn(r + k, "/");
            memcpy(o + olen, r, k);
            olen += k;
            i += k;
        }
        if(pop) {
            /* The last segment of the output and the '/' before it. */
            while(olen && o[olen - 1] != '/')
                olen--;
            if(olen)
                olen--;
        }
    }
    rc = buf_append(out, o, olen);
    free(in);
    free(o);
    return rc;
}

/* Resolves ref against base (both as clean_href makes them; base NULL or without a
 * scheme: only an absolute ref resolves) as RFC 3986, 5.2.2 says, with the scheme in
 * lower case and an empty path after an authority made "/". *out (the caller frees it)
 * is NULL when ref cannot be resolved or the result is longer than DISCOVER_URL_MAX.
 * SAM_ENOMEM. */
static int join(const char *ref, const char *base, char **out)
{
    struct uri_parts r, b;
    const struct uri_parts *s, *a, *q;
    struct buf u;
    int rc = SAM_OK;

    *out = NULL;
    split_uri(ref, &r);
    memset(&b, 0, sizeof(b));
    if(base)
        split_uri(base, &b);
    if(!r.has_scheme && !b.has_scheme)
        return SAM_OK;
    s = r.has_scheme ? &r : &b;                 /* whose scheme */
    a = r.has_scheme || r.has_auth ? &r : &b;   /* whose authority */
    q = a == &r || r.path_n || r.has_query ? &r : &b; /* whose query */
    buf_init(&u, DISCOVER_URL_MAX);
    for(size_t i = 0; i < s->scheme_n && !rc; i++) {
        char c = s->scheme[i] >= 'A' && s->scheme[i] <= 'Z' ? (char)(s->scheme[i] - 'A' + 'a')
                                                          : s->scheme[i];
        rc = buf_append(&u, &c, 1);
    }
    if(!rc)
        rc = buf_append(&u, ":", 1);
    if(!rc && a->has_auth && !(rc = buf_append(&u, "//", 2)))
        rc = buf_append(&u, a->auth, a->auth_n);
    if(rc)
        goto out;
    if(a == &r || (r.path_n && r.path[0] == '/')) {
        rc = append_path(&u, r.path, r.path_n);
    } else if(!r.path_n) {
        rc = buf_append(&u, b.path, b.path_n);
    } else {
        /* Merge: the base's path up to its last '/', then the reference's. */
        size_t keep = b.path_n;
        char *m;
        while(keep && b.path[keep - 1] != '/')
            keep--;
        if(!(m = malloc(keep + r.path_n + 2))) {
            rc = SAM_ENOMEM;
        } else {
            size_t k = 0;
            if(b.has_auth && !b.path_n)
                m[k++] = '/';
            memcpy(m + k, b.path, keep);
            memcpy(m + k + keep, r.path, r.path_n);
            rc = append_path(&u, m, k + keep + r.path_n);
            free(m);
        }
    }
    if(!rc && a->has_auth && u.len == s->scheme_n + 3 + a->auth_n)
        rc = buf_append(&u, "/", 1); /* the path is empty */
    if(!rc && !a->has_auth && u.len >= s->scheme_n + 3 && !memcmp(u.data + s->scheme_n + 1, "//", 2))
        goto out; /* "s:" + "//x": a path read back as an authority (RFC 3986, 5.3) */
    if(!rc && q->has_query && !(rc = buf_append(&u, "?", 1)))
        rc = buf_append(&u, q->query, q->query_n);
    if(!rc && r.has_frag && !(rc = buf_append(&u, "#", 1)))
        rc = buf_append(&u, r.frag, r.frag_n);
    if(!rc && !(*out = buf_take(&u)))
        rc = SAM_ENOMEM;
out:
    buf_cleanup(&u);
    return rc == SAM_ETOOBIG ? SAM_OK : rc;
}

/* 1 when u is an http:// or https:// URL with a host and, if any, a port of at most
 * 65535; the scheme is put in lower case in place. */
static int is_http_url(char *u)
{
    size_t k = !strncasecmp(u, "http://", 7) ? 7 : !strncasecmp(u, "https://", 8) ? 8 : 0;
    char *host, *end, *port;
    if(!k)
        return 0;
    for(size_t i = 0; i < k - 3; i++)
        u[i] = u[i] >= 'A' && u[i] <= 'Z' ? (char)(u[i] - 'A' + 'a') : u[i];
    host = u + k;
    end = host + strcspn(host, "/?#");
    for(char *p = host; p < end; p++)
        if(*p == '@')
            host = p + 1; /* after the user info */
    if(host < end && *host == '[') {
        char *close = memchr(host, ']', (size_t)(end - host));
        if(!close || close == host + 1)
            return 0;
        port = close + 1;
    } else {
        port = memchr(host, ':', (size_t)(end - host));
        if(!port)
            port = end;
        if(port == host)
            return 0;
    }
    if(port < end) {
        long v = 0;
        if(*port++ != ':')
            return 0;
        for(; port < end; port++) {
            if(*port < '0' || *port > '9')
                return 0;
            v = v * 10 + (*port - '0');
            if(v > 65535)
                return 0;
        }
    }
    return 1;
}

/* Resolves href against base (as clean_href makes it, or NULL: none, so only absolute
 * hrefs resolve) into *url (the caller frees it), or *url = NULL when the result is not
 * an http(s) URL we keep (see discover.h). SAM_ENOMEM. */
static int resolve(const char *href, const char *base, char **url)
{
    char *c = NULL;
    int rc;

    *url = NULL;
    rc = clean_href(href, &c);
    if(rc == SAM_ETOOBIG)
        return SAM_OK;
    if(!rc && *c && !(rc = join(c, base, url)) && *url && !is_http_url(*url)) {
        free(*url);
        *url = NULL;
    }
    free(c);
    return rc;
}

/* ---- the page ----------------------------------------------------------------------- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

/* libxml2 reports encoding trouble through its generic error channel even with
 * HTML_PARSE_NOERROR; a page's bad bytes are not worth a line on our stderr. */
static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* 1 for the labels the WHATWG Encoding standard reads as windows-1252 (NULL: none). */
static int latin1_label(const char *name)
{
    static const char *const labels[] = {"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1",
                                         "l1", "us-ascii", "ascii", "windows-1252", "cp1252"};
    if(!name)
        return 1;
    for(size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
        if(!strcasecmp(name, labels[i]))
            return 1;
    return 0;
}

/* charset (or NULL) overrides what the page declares, when libxml2 knows it; the
 * latin1 labels mean windows-1252, as browsers read them. */
static htmlDocPtr read_html(const char *data, size_t len, const char *charset)
{
    const int opts = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                     HTML_PARSE_RECOVER | HTML_PARSE_COMPACT;
    const char *enc = NULL;
    xmlGenericErrorFunc old = xmlGenericError;
    void *old_ctx = xmlGenericErrorContext;
    htmlDocPtr doc;
    if(charset && *charset && latin1_label(charset))
        charset = "windows-1252";
    if(charset && *charset) {
        /* Only a charset libxml2 knows (an iconv handler must be closed again). */
        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(charset);
        if(h) {
            xmlCharEncCloseFunc(h);
            enc = charset;
        }
    }
    /* The generic error handler is per thread in libxml2: restore it after. */
    xmlSetGenericErrorFunc(NULL, quiet);
    doc = htmlReadMemory(data, (int)len, NULL, enc, opts);
    xmlSetGenericErrorFunc(old_ctx, old);
    return doc;
}

/* The node after n in document order, descending only into elements; NULL at the end. */
static xmlNodePtr next_node(xmlNodePtr n)
{
    if(n->type == XML_ELEMENT_NODE && n->children)
        return n->children;
    for(; n; n = n->parent) {
        if(n->next)
            return n->next;
        if(!n->parent || n->parent->type != XML_ELEMENT_NODE)
            return NULL;
    }
    return NULL;
}

static int is_element(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && !xmlStrcasecmp(n->name, (const xmlChar *)name);
}

static char *attr(xmlNodePtr n, const char *name)
{
    return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

/* The base of the page's links into *base (the caller frees it; NULL when there is
 * none): the first <base href> resolved against base_url, else base_url. SAM_ENOMEM. */
static int page_base(htmlDocPtr doc, const char *base_url, char **base)
{
    int rc = SAM_OK;
    *base = NULL;
    if(base_url) {
        rc = clean_href(base_url, base);
        if(rc == SAM_ETOOBIG)
            rc = SAM_OK;
        if(rc)
            return rc;
    }
    for(xmlNodePtr n = doc->children; n; n = next_node(n)) {
        char *href, *c = NULL, *abs = NULL;
        if(!is_element(n, "base") || !(href = attr(n, "href")))
            continue;
        rc = clean_href(href, &c);
        xmlFree(href);
        if(!rc)
            rc = join(c, *base, &abs);
        free(c);
        if(rc == SAM_ENOMEM)
            return rc;
        if(abs) {
            free(*base);
            *base = abs;
        }
        break; /* only the first <base href> counts */
    }
    return SAM_OK;
}

/* Adds the <link> el to out when it names a feed with a URL not seen yet. SAM_ENOMEM. */
static int add_link(struct discover_links *out, xmlNodePtr el, const char *base)
{
    char *rel = NULL, *type = NULL, *href = NULL, *title = NULL;
    char *url = NULL, *t_type = NULL, *t_title = NULL;
    int rc = SAM_OK, feed_rel;
    struct discover_link *items;

    if(!(rel = attr(el, "rel")))
        goto out;
    feed_rel = has_token(rel, "feed");
    if(!feed_rel && !has_token(rel, "alternate"))
        goto out;
    type = attr(el, "type");
    if(!(t_type = media_type(type ? type : ""))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    if(!feed_rel && !is_feed_type(t_type))
        goto out;
    if(!(href = attr(el, "href")))
        goto out;
    rc = resolve(href, base, &url);
    if(rc || !url)
        goto out;
    for(size_t i = 0; i < out->n; i++)
        if(!strcmp(out->items[i].url, url))
            goto out;
    title = attr(el, "title");
    if(!(t_title = text_copy(title ? title : "", DISCOVER_TEXT_MAX, 1))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    items = realloc(out->items, (out->n + 1) * sizeof(*items));
    if(!items) {
        rc = SAM_ENOMEM;
        goto out;
    }
    out->items = items;
    items[out->n].url = url;
    items[out->n].title = t_title;
    items[out->n].type = t_type;
    out->n++;
    url = t_title = t_type = NULL;
out:
    free(url);
    free(t_title);
    free(t_type);
    xmlFree(rel);
    xmlFree(type);
    xmlFree(href);
    xmlFree(title);
    return rc;
}

static int has_bom(const char *p, size_t n)
{
    return (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) ||
           (n >= 2 && (!memcmp(p, "\xFE\xFF", 2) || !memcmp(p, "\xFF\xFE", 2)));
}

/* discover_feed_links with the charset of the HTTP answer (or NULL). */
static int find_links(const char *html, size_t len, const char *charset, const char *base_url,
                      struct discover_links *out)
{
    htmlDocPtr doc;
    char *base = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if(len > DISCOVER_MAX_BYTES)
        return sam_fail(SAM_ETOOBIG, "page larger than %d bytes", DISCOVER_MAX_BYTES);
    if(!html || !len)
        return SAM_OK;
    pthread_once(&xml_once, xml_init);
    doc = read_html(html, len, charset);
    if(doc && !(charset && *charset) && latin1_label((const char *)doc->encoding) &&
       !has_bom(html, len) && utf8_count(html, len) < 0) {
        /* Not UTF-8 and declared latin1 or not at all: libxml2 falls back to ISO-8859-1
         * (and garbles the byte that made it switch); browsers read windows-1252. */
        htmlDocPtr again = read_html(html, len, "windows-1252");
        if(again) {
            xmlFreeDoc(doc);
            doc = again;
        }
    }
    if(!doc)
        return SAM_OK; /* nothing libxml2 could read names no feed */
    rc = page_base(doc, base_url, &base);
    for(xmlNodePtr n = doc->children; n && !rc && out->n < DISCOVER_MAX_LINKS; n = next_node(n))
        if(is_element(n, "link"))
            rc = add_link(out, n, base);
    free(base);
    xmlFreeDoc(doc);
    if(rc)
        discover_links_cleanup(out);
    return rc;
}

int discover_feed_links(const char *html, size_t len, const char *base_url,
                        struct discover_links *out)
{
    return find_links(html, len, NULL, base_url, out);
}

void discover_links_cleanup(struct discover_links *l)
{
    if(!l)
        return;
    for(size_t i = 0; i < l->n; i++) {
        free(l->items[i].url);
        free(l->items[i].title);
        free(l->items[i].type);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* ---- fetching ----------------------------------------------------------------------- */

static int is_html_type(const char *ct)
{
    return !strncasecmp(ct, "text/html", 9) || !strncasecmp(ct, "application/xhtml+xml", 21);
}

/* Milliseconds left until deadline (time_mono seconds), 0 when it has passed. */
static long ms_left(double deadline)
{
    double left = deadline - time_mono();
    return left > 0.001 ? (long)(left * 1000.0) : 0;
}

/* GETs url, following redirects to http(s) URLs, into resp (a 200 or 203 answer, its body
 * cut at FEED_MAX_BYTES + 1 with resp->truncated set); *final (the caller frees it) gets
 * the URL the answer came from. Errors as discover_feed's, with a message. */
static int fetch(const char *url, double deadline, struct http_resp *resp, char **final)
{
    static const char *const headers[] = {
        "Accept: application/rss+xml, application/atom+xml, application/feed+json, "
        "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
        "text/html;q=0.7, */*;q=0.1",
        "User-Agent: samtale/" SAMTALE_VERSION, NULL};
    struct http_req req;
    char *cur = strdup(url), *next;
    int rc = SAM_OK;

    *final = NULL;
    if(!cur)
        return SAM_ENOMEM;
    for(int hops = 0;; hops++) {
        long ms = ms_left(deadline), st;
        if(!ms) {
            rc = sam_fail(SAM_EIO, "%.300s did not answer in time", cur);
            goto out;
        }
        memset(&req, 0, sizeof(req));
        req.method = "GET";
        req.url = cur;
        req.headers = headers;
        req.timeout_ms = ms;
        req.max_body = FEED_MAX_BYTES + 1;
        /* Each hop is a new request, so the address policy decides every address a
         * redirect leads to, as it decided the first. */
        rc = http_request(&req, resp);
        if(rc == SAM_EPERM) {
            rc = sam_fail(rc, "samtale did not fetch %.300s: %s", cur, resp->error);
            goto out;
        }
        if(rc) {
            rc = sam_fail(rc, "%.300s could not be fetched: %s", cur,
                          *resp->error ? resp->error : sam_strerror(rc));
            goto out;
        }
        st = resp->status;
        if(st == 200 || st == 203)
            break;
        if(st == 301 || st == 302 || st == 303 || st == 307 || st == 308) {
            if(hops == DISCOVER_MAX_REDIRECTS) {
                rc = sam_fail(SAM_EINVAL, "%.300s: more than %d redirects", url,
                              DISCOVER_MAX_REDIRECTS);
                goto out;
            }
            if(!*resp->location) {
                rc = sam_fail(SAM_EINVAL, "%.300s redirects without saying where to", cur);
                goto out;
            }
            if(strlen(resp->location) + 1 >= sizeof(resp->location)) {
                rc = sam_fail(SAM_EINVAL, "%.300s redirects to an address too long to follow", cur);
                goto out;
            }
            if((rc = resolve(resp->location, cur, &next)))
                goto out;
            if(!next) {
                rc = sam_fail(SAM_EINVAL, "%.300s redirects to an address that is not an http(s) URL",
                              cur);
                goto out;
            }
            free(cur);
            cur = next;
            continue;
        }
        if(st == 429 || st >= 500)
            rc = sam_fail(SAM_EIO, "%.300s answered HTTP %ld; try again later", cur, st);
        else
            rc = sam_fail(SAM_EINVAL, "%.300s answered HTTP %ld", cur, st);
        goto out;
    }
    *final = cur;
    cur = NULL;
out:
    free(cur);
    return rc;
}

/* Whether the answer from url reads as a feed (*is_feed); if so *title (the caller frees
 * it) gets its title, NULL when it has none. SAM_ENOMEM. */
static int read_feed(const struct http_resp *resp, const char *url, int *is_feed, char **title)
{
    struct feed f;
    int rc;
    *is_feed = 0;
    *title = NULL;
    if(resp->truncated || !resp->body.len)
        return SAM_OK;
    rc = feed_parse(resp->body.data, resp->body.len, resp->content_type, url, &f);
    if(rc == SAM_ENOMEM)
        return rc;
    if(!rc && (f.format != FEED_FORMAT_UNKNOWN ||
               (!is_html_type(resp->content_type) && (f.n_entries || *f.title)))) {
        *is_feed = 1;
        if(*f.title && !(*title = strdup(f.title)))
            rc = SAM_ENOMEM;
    }
    feed_free(&f);
    return rc == SAM_ENOMEM ? rc : SAM_OK;
}

int discover_feed(const char *url, long timeout_ms, char **feed_url, char **title)
{
    struct http_resp resp;
    struct discover_links links = {NULL, 0};
    char *start = NULL, *page = NULL, *cand = NULL, charset[64], first_error[300];
    double deadline;
    int rc, is_feed, transient = 0, truncated;
    size_t i, len;

    *feed_url = NULL;
    *title = NULL;
    first_error[0] = '\0';
    http_resp_init(&resp);
    if(url && strlen(url) > DISCOVER_URL_MAX) {
        rc = sam_fail_field(SAM_EINVAL, "url", "the URL is longer than %d bytes", DISCOVER_URL_MAX);
        goto out;
    }
    rc = resolve(url ? url : "", NULL, &start);
    if(rc)
        goto out;
    if(!start) {
        rc = sam_fail_field(SAM_EINVAL, "url", "not an http(s) URL: %.300s", url ? url : "");
        goto out;
    }
    if(timeout_ms <= 0)
        timeout_ms = HTTP_TIMEOUT_MS_DEFAULT;
    deadline = time_mono() + (double)timeout_ms / 1000.0;

    if((rc = fetch(start, deadline, &resp, &page)))
        goto out;
    if((rc = read_feed(&resp, page, &is_feed, title)))
        goto out;
    if(is_feed) {
        *feed_url = page;
        page = NULL;
        goto out;
    }
    truncated = resp.truncated;
    feed_content_charset(resp.content_type, charset, sizeof(charset));
    /* The links are in <head>: a longer page is read as far as the limit. */
    len = resp.body.len < DISCOVER_MAX_BYTES ? resp.body.len : DISCOVER_MAX_BYTES;
    rc = find_links(resp.body.data, len, charset, page, &links);
    if(rc)
        goto out;
    if(!links.n) {
        if(truncated)
            rc = sam_fail(SAM_ETOOBIG, "no feed found at %.300s: the answer is larger than "
                          "%d bytes", start, FEED_MAX_BYTES);
        else
            rc = sam_fail(SAM_EINVAL, "no feed found at %.300s: the page names none in its "
                          "<link rel=alternate> tags", start);
        goto out;
    }

    for(i = 0; i < links.n && i < DISCOVER_MAX_TRIES; i++) {
        rc = fetch(links.items[i].url, deadline, &resp, &cand);
        if(!rc)
            rc = read_feed(&resp, cand, &is_feed, title);
        if(rc == SAM_ENOMEM)
            goto out;
        if(!rc && is_feed) {
            *feed_url = cand;
            cand = NULL;
            if(!*title && *links.items[i].title && !(*title = strdup(links.items[i].title)))
                rc = SAM_ENOMEM;
            goto out;
        }
        if(!rc)
            sam_fail(SAM_EINVAL, "%.300s is not a feed", cand);
        else if(rc == SAM_EIO)
            transient = 1;
        if(!first_error[0])
            snprintf(first_error, sizeof(first_error), "%s", sam_errmsg(rc));
        free(cand);
        cand = NULL;
    }
    if(transient)
        rc = sam_fail(SAM_EIO, "the feed named by %.300s could not be fetched (%s); "
                      "try again later", start, first_error);
    else
        rc = sam_fail(SAM_EINVAL, "no feed found at %.300s: the feeds its page names do not "
                      "read as feeds (%s)", start, first_error);
out:
    if(rc) {
        free(*feed_url);
        free(*title);
        *feed_url = NULL;
        *title = NULL;
    }
    discover_links_cleanup(&links);
    http_resp_cleanup(&resp);
    free(cand);
    free(page);
    free(start);
    return rc;
}

/* ---- link cards ---- */

void discover_card_cleanup(struct discover_card *c)
{
    if(!c)
        return;
    free(c->title);
    free(c->description);
    free(c->image);
    free(c->site);
    memset(c, 0, sizeof(*c));
}

/* Keeps the first value of a field: *slot gets a collapsed copy of v when it is empty. */
static int card_take(char **slot, const char *v, size_t limit)
{
    char *t;
    if(!v || (*slot && **slot))
        return SAM_OK;
    if(!(t = text_copy(v, limit, 1)))
        return SAM_ENOMEM;
    if(!*t) {
        free(t);
        return SAM_OK;
    }
    free(*slot);
    *slot = t;
    return SAM_OK;
}

int discover_card(const char *html, size_t len, const char *charset, const char *base_url,
                  struct discover_card *out)
{
    htmlDocPtr doc;
    char *base = NULL, *img = NULL, *title_el = NULL, *desc = NULL;
    int rc = SAM_OK;
    memset(out, 0, sizeof(*out));
    if(len > DISCOVER_MAX_BYTES)
        return sam_fail(SAM_ETOOBIG, "page larger than %d bytes", DISCOVER_MAX_BYTES);
    pthread_once(&xml_once, xml_init);
    doc = html && len ? read_html(html, len, has_bom(html, len) ? NULL : charset) : NULL;
    if(doc) {
        rc = page_base(doc, base_url, &base);
        for(xmlNodePtr n = doc->children; !rc && n; n = next_node(n)) {
            if(is_element(n, "meta")) {
                char *prop = attr(n, "property"), *name = attr(n, "name"), *content = attr(n, "content");
                const char *key = prop ? prop : name;
                if(key && content) {
                    if(!strcasecmp(key, "og:title"))
                        rc = card_take(&out->title, content, DISCOVER_TEXT_MAX / 4);
                    else if(!strcasecmp(key, "og:description"))
                        rc = card_take(&out->description, content, DISCOVER_TEXT_MAX);
                    else if(!strcasecmp(key, "og:site_name"))
                        rc = card_take(&out->site, content, DISCOVER_TEXT_MAX / 4);
                    else if((!strcasecmp(key, "og:image") || !strcasecmp(key, "og:image:url")) && !img)
                        img = strdup(content);
                    else if(!strcasecmp(key, "description"))
                        rc = card_take(&desc, content, DISCOVER_TEXT_MAX);
                }
                xmlFree(prop);
                xmlFree(name);
                xmlFree(content);
            } else if(is_element(n, "title") && !title_el) {
                xmlChar *t = xmlNodeGetContent(n);
                rc = card_take(&title_el, t ? (const char *)t : "", DISCOVER_TEXT_MAX / 4);
                xmlFree(t);
            }
        }
        xmlFreeDoc(doc);
    }
    if(!rc && (!out->title || !*out->title)) {
        free(out->title);
        out->title = title_el;
        title_el = NULL;
    }
    if(!rc && (!out->description || !*out->description)) {
        free(out->description);
        out->description = desc;
        desc = NULL;
    }
    if(!rc && img) {
        char *url = NULL;
        rc = resolve(img, base, &url);
        if(!rc)
            out->image = url;
    }
    if(!rc && !out->title && !(out->title = strdup("")))
        rc = SAM_ENOMEM;
    if(!rc && !out->description && !(out->description = strdup("")))
        rc = SAM_ENOMEM;
    if(!rc && !out->image && !(out->image = strdup("")))
        rc = SAM_ENOMEM;
    if(!rc && !out->site && !(out->site = strdup("")))
        rc = SAM_ENOMEM;
    free(img);
    free(base);
    free(title_el);
    free(desc);
    if(rc)
        discover_card_cleanup(out);
    return rc;
}
