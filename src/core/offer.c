/* offer.c: channel-exclusive offer codes (see offer.h). */
#include "core/offer.h"
#include "core/core.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

int offer_code_normalise(const char *code, char *out, size_t n)
{
    size_t len = code ? strlen(code) : 0;
    if(len < OFFER_CODE_MIN || len > OFFER_CODE_MAX || n < len + 1)
        return sam_fail_field(SAM_EINVAL, "offers", "an offer code has %d to %d letters, digits, - or _",
                              OFFER_CODE_MIN, OFFER_CODE_MAX);
    for(size_t i = 0; i < len; i++) {
        char ch = code[i];
        if(ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if(!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return sam_fail_field(SAM_EINVAL, "offers", "an offer code has %d to %d letters, digits, - or _",
                                  OFFER_CODE_MIN, OFFER_CODE_MAX);
        out[i] = ch;
    }
    out[len] = '\0';
    return SAM_OK;
}

int offer_wanted(const char *text)
{
    return text && strstr(text, OFFER_PLACEHOLDER) != NULL;
}

char *offer_apply(const char *text, const char *code)
{
    size_t pl = strlen(OFFER_PLACEHOLDER), cl = strlen(code), count = 0, len = strlen(text);
    const char *p = text, *hit;
    char *out, *w;
    while((hit = strstr(p, OFFER_PLACEHOLDER))) {
        count++;
        p = hit + pl;
    }
    out = malloc(len + count * (cl > pl ? cl - pl : 0) + 1);
    if(!out)
        return NULL;
    w = out;
    p = text;
    while((hit = strstr(p, OFFER_PLACEHOLDER))) {
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, code, cl);
        w += cl;
        p = hit + pl;
    }
    strcpy(w, p);
    return out;
}

json_t *view_offer(const struct store_offer *f)
{
    json_t *o = json_pack("{s:I, s:I, s:o, s:s, s:s, s:o}", "id", (json_int_t)f->id, "post_id", (json_int_t)f->post_id,
                          "channel_id", f->channel_id ? json_integer(f->channel_id) : json_null(), "channel_name",
                          f->channel_name, "code", f->code, "created_at", view_time(f->created_at));
    if(o && f->published_at)
        json_object_set_new(o, "published_at", view_time(f->published_at));
    return o;
}
