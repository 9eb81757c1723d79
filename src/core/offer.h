/*
 * offer.h: channel-exclusive offers (PRODUCT.md P15). A post can carry an offer code for
 * each channel it goes to, unique in its workspace, so that an order naming the code tells
 * which channel brought it (the same sale, one code on Bluesky and another on Mastodon).
 * Where the text says {offer}, each channel's copy publishes its own code.
 */
#ifndef SAM_OFFER_H
#define SAM_OFFER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define OFFER_PLACEHOLDER "{offer}"
#define OFFER_CODE_MIN 3
#define OFFER_CODE_MAX 32

/* What a caller gives: a channel of the post and its code as typed. */
struct offer_input {
    int64_t channel_id;
    const char *code;
};

/* The code in its stored form (upper case) into out (n >= OFFER_CODE_MAX + 1): 3-32
 * letters A-Z, digits, - and _ (SAM_EINVAL, field "offers", otherwise). */
int offer_code_normalise(const char *code, char *out, size_t n);
/* text with every {offer} replaced by code: a new string (NULL when out of memory). */
char *offer_apply(const char *text, const char *code);
/* 1 when text holds {offer}. */
int offer_wanted(const char *text);
/* {"id","post_id","channel_id" (null once the channel is gone),"channel_name","code",
 * "created_at","published_at"?} */
json_t *view_offer(const struct store_offer *f);

#endif
