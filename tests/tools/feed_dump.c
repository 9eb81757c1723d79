/*
 * feed_dump.c: prints what feed_parse (channel/feed.h) reads from one file, as one JSON
 * object on standard output, for tests/integration/test_feed_conformance.py:
 *
 *   feed_dump FILE [--content-type TYPE] [--base URL]
 *   {"format": "rss", "title": "...", "link": "...", "entries": [{"id": "...",
 *    "id_generated": false, "title": "...", "link": "...", "published": 1072915200 | null,
 *    "updated": ... | null}, ...]}
 *
 * Exit status 0 when the document was read, 1 when feed_parse refused it (the JSON then
 * has "error" and no entries), 2 for a usage or I/O error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/feed.h"
#include "util/err.h"

static json_t *time_or_null(int64_t t)
{
    return t ? json_integer((json_int_t)t) : json_null();
}

static const char *format_name(int f)
{
    switch(f) {
    case FEED_FORMAT_RSS: return "rss";
    case FEED_FORMAT_RDF: return "rdf";
    case FEED_FORMAT_ATOM: return "atom";
    case FEED_FORMAT_JSON: return "json";
    default: return "unknown";
    }
}

int main(int argc, char **argv)
{
    const char *path = NULL, *ctype = NULL, *base = NULL;
    FILE *fp;
    char *data = NULL;
    size_t len = 0, cap = 0, n;
    struct feed f;
    json_t *out, *entries;
    int rc;

    for(int i = 1; i < argc; i++) {
        if(!strcmp(argv[i], "--content-type") && i + 1 < argc)
            ctype = argv[++i];
        else if(!strcmp(argv[i], "--base") && i + 1 < argc)
            base = argv[++i];
        else if(!path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: feed_dump FILE [--content-type TYPE] [--base URL]\n");
            return 2;
        }
    }
    if(!path) {
        fprintf(stderr, "usage: feed_dump FILE [--content-type TYPE] [--base URL]\n");
        return 2;
    }
    fp = fopen(path, "rb");
    if(!fp) {
        perror(path);
        return 2;
    }
    for(;;) {
        if(len == cap) {
            char *nd;
            cap = cap ? cap * 2 : 65536;
            if(cap > (size_t)FEED_MAX_BYTES + 65536 || !(nd = realloc(data, cap))) {
                fprintf(stderr, "%s: too large\n", path);
                free(data);
                fclose(fp);
                return 2;
            }
            data = nd;
        }
        n = fread(data + len, 1, cap - len, fp);
        if(!n)
            break;
        len += n;
    }
    fclose(fp);

    rc = feed_parse(data ? data : "", len, ctype, base, &f);
    free(data);
    out = json_object();
    entries = json_array();
    if(rc) {
        json_object_set_new(out, "error", json_string(sam_errmsg(rc)));
    } else {
        json_object_set_new(out, "format", json_string(format_name(f.format)));
        json_object_set_new(out, "title", json_string(f.title));
        json_object_set_new(out, "link", json_string(f.link));
        json_object_set_new(out, "recovered", json_boolean(f.recovered));
        for(size_t i = 0; i < f.n_entries; i++) {
            const struct feed_entry *e = &f.entries[i];
            json_t *o = json_object();
            json_object_set_new(o, "id", json_string(e->id));
            json_object_set_new(o, "id_generated", json_boolean(e->id_generated));
            json_object_set_new(o, "title", json_string(e->title));
            json_object_set_new(o, "link", json_string(e->link));
            json_object_set_new(o, "published", time_or_null(e->published));
            json_object_set_new(o, "updated", time_or_null(e->updated));
            json_array_append_new(entries, o);
        }
    }
    json_object_set_new(out, "entries", entries);
    json_dumpf(out, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
    putchar('\n');
    json_decref(out);
    feed_free(&f);
    return rc ? 1 : 0;
}
