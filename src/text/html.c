/* html.c: the plain text of an HTML fragment (see html.h). */
#include "text/html.h"
#include "util/buf.h"
#include "util/err.h"

#include <libxml/HTMLparser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEPTH_MAX 256

struct walk {
    struct buf out;
    int space;       /* the last thing written was white space (or nothing yet) */
    int oom;
};

static void put(struct walk *w, const char *s, size_t n)
{
    if(!w->oom && buf_append(&w->out, s, n))
        w->oom = 1;
}

/* Appends text with runs of white space made one space. */
static void put_text(struct walk *w, const char *s)
{
    for(; *s; s++) {
        if(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f') {
            if(!w->space)
                put(w, " ", 1);
            w->space = 1;
        } else {
            put(w, s, 1);
            w->space = 0;
        }
    }
}

/* Ends the line: drops a trailing space, then adds breaks until `breaks` are there. */
static void put_break(struct walk *w, int breaks)
{
    size_t have = 0;
    if(w->out.len && w->out.data[w->out.len - 1] == ' ')
        w->out.data[--w->out.len] = '\0';
    if(!w->out.len)
        return;
    while(have < w->out.len && w->out.data[w->out.len - 1 - have] == '\n')
        have++;
    for(; (int)have < breaks; have++)
        put(w, "\n", 1);
    w->space = 1;
}

static int is_block(const char *name)
{
    static const char *const blocks[] = {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5",
                                         "h6", "ul", "ol", "table", "tr", NULL};
    for(size_t i = 0; blocks[i]; i++)
        if(!strcasecmp(name, blocks[i]))
            return 1;
    return 0;
}

static void walk(struct walk *w, xmlNode *n, int depth)
{
    for(; n && !w->oom; n = n->next) {
        if(n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if(n->content)
                put_text(w, (const char *)n->content);
            continue;
        }
        if(n->type != XML_ELEMENT_NODE || !n->name)
            continue;
        const char *name = (const char *)n->name;
        if(!strcasecmp(name, "script") || !strcasecmp(name, "style") || !strcasecmp(name, "head"))
            continue;
        if(!strcasecmp(name, "br")) {
            put_break(w, 1);
            continue;
        }
        if(depth < DEPTH_MAX)
            walk(w, n->children, depth + 1);
        if(is_block(name))
            put_break(w, 2);
    }
}

int text_from_html(const char *html, size_t len, size_t max, char **out)
{
    struct walk w;
    htmlDocPtr doc;
    size_t end;
    *out = NULL;
    if(len > HTML_INPUT_MAX)
        return sam_fail(SAM_ETOOBIG, "the HTML is larger than %d bytes", HTML_INPUT_MAX);
    memset(&w, 0, sizeof(w));
    w.space = 1;
    buf_init(&w.out, 2 * (size_t)HTML_INPUT_MAX);
    if(len) {
        doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                             HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER);
        if(doc) {
            walk(&w, doc->children, 0);
            xmlFreeDoc(doc);
        }
    }
    if(w.oom) {
        buf_cleanup(&w.out);
        return SAM_ENOMEM;
    }
    /* Trim both ends. */
    end = w.out.len;
    while(end && (w.out.data[end - 1] == ' ' || w.out.data[end - 1] == '\n'))
        end--;
    if(end > max) {
        end = max;
        while(end && ((unsigned char)w.out.data[end] & 0xC0) == 0x80)
            end--;
    }
    *out = malloc(end + 1);
    if(!*out) {
        buf_cleanup(&w.out);
        return SAM_ENOMEM;
    }
    if(end)
        memcpy(*out, w.out.data, end);
    (*out)[end] = '\0';
    buf_cleanup(&w.out);
    return SAM_OK;
}
