/*
 * api_util.c: helpers every handler file uses: strict body fields, paging with
 * opaque cursors, and the reply.
 */
#include "web/api.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- request helpers ---- */

/* Fails with 422 when body has a key not in allowed (NULL-terminated). */
int api_body_only(json_t *body, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        size_t i;
        for(i = 0; allowed[i]; i++)
            if(!strcmp(key, allowed[i]))
                break;
        if(!allowed[i])
            return sam_fail_field(SAM_EINVAL, key, "unknown field '%.64s'", key);
    }
    return SAM_OK;
}

/* *out gets the string at key, or NULL when absent (an error when required). */
int api_body_str(json_t *body, const char *key, int required, const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if(!v || json_is_null(v)) {
        if(required)
            return sam_fail_field(SAM_EINVAL, key, "%s is required", key);
        return SAM_OK;
    }
    if(!json_is_string(v))
        return sam_fail_field(SAM_EINVAL, key, "%s must be a string", key);
    if(strlen(json_string_value(v)) != json_string_length(v))
        return sam_fail_field(SAM_EINVAL, key, "%s must not contain NUL characters", key);
    *out = json_string_value(v);
    return SAM_OK;
}

static void cursor_encode(int64_t id, char *out, size_t n)
{
    char raw[32];
    snprintf(raw, sizeof(raw), "v1:%lld", (long long)id);
    sodium_bin2base64(out, n, (const unsigned char *)raw, strlen(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Reads ?limit and ?cursor. */
int api_page_params(const struct web_request *r, int *limit, int64_t *after)
{
    *limit = LIST_DEFAULT;
    *after = 0;
    if(r->query_limit) {
        char *end;
        long v = strtol(r->query_limit, &end, 10);
        if(!*r->query_limit || *end || v < 1 || v > LIST_MAX)
            return sam_fail_field(SAM_EBADREQ, "limit", "limit must be a whole number from 1 to %d", LIST_MAX);
        *limit = (int)v;
    }
    if(r->query_cursor) {
        unsigned char raw[48];
        size_t len = 0;
        char *end;
        if(strlen(r->query_cursor) > 60 ||
           sodium_base642bin(raw, sizeof(raw) - 1, r->query_cursor, strlen(r->query_cursor), NULL, &len, NULL,
                             sodium_base64_VARIANT_URLSAFE_NO_PADDING))
            return sam_fail_field(SAM_EBADREQ, "cursor", "cursor is not one this server gave out");
        raw[len] = '\0';
        if(len < 4 || memcmp(raw, "v1:", 3) || !isdigit(raw[3]))
            return sam_fail_field(SAM_EBADREQ, "cursor", "cursor is not one this server gave out");
        *after = strtoll((const char *)raw + 3, &end, 10);
        if(*end || *after <= 0)
            return sam_fail_field(SAM_EBADREQ, "cursor", "cursor is not one this server gave out");
    }
    return SAM_OK;
}

/* {"items": items, "next_cursor": ...}; takes ownership of items. */
json_t *api_page_json(json_t *items, int more, int64_t last)
{
    char cur[64];
    if(!more)
        return json_pack("{s:o, s:n}", "items", items, "next_cursor");
    cursor_encode(last, cur, sizeof(cur));
    return json_pack("{s:o, s:s}", "items", items, "next_cursor", cur);
}

/* A page of a list: the first `limit` of n items (each `size` bytes) through view, with a
 * cursor after the last one shown when more came back. */
json_t *api_page_of(const void *items, size_t n, size_t size, int limit, json_t *(*view)(const void *),
                       int64_t (*key)(const void *))
{
    json_t *arr = json_array();
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    const char *p = items;
    for(size_t i = 0; i < shown; i++)
        json_array_append_new(arr, view(p + i * size));
    return api_page_json(arr, n > (size_t)limit, shown ? key(p + (shown - 1) * size) : 0);
}


int api_reply(struct web_reply *out, int status, json_t *j)
{
    if(!j)
        return SAM_ENOMEM;
    out->status = status;
    out->json = j;
    return SAM_OK;
}

int api_int_field(json_t *body, const char *key, int min, int max, int *out)
{
    json_t *v = json_object_get(body, key);
    if(!v || json_is_null(v))
        return SAM_OK;
    if(!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return sam_fail_field(SAM_EINVAL, key, "%s must be a whole number from %d to %d", key, min, max);
    *out = (int)json_integer_value(v);
    return SAM_OK;
}
