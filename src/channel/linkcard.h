/*
 * linkcard.h: what a link looks like as a card (a post's link on Bluesky, the composer's
 * preview): the page is fetched through http.h, so through the outbound address policy
 * like every request a member's address causes, bounded in size (DISCOVER_MAX_BYTES) and
 * time, following at most LINKCARD_REDIRECTS redirects to absolute http(s) addresses, and
 * read with discover_card (Open Graph tags, else title and description).
 */
#ifndef SAM_LINKCARD_H
#define SAM_LINKCARD_H

#include <stddef.h>

#include "channel/discover.h"
#include "channel/http.h"

#define LINKCARD_TIMEOUT_MS 10000L /* a page or its image, each, at most */
#define LINKCARD_REDIRECTS 3

/* The card of the page at url into *card (free with discover_card_cleanup). SAM_OK even
 * when the page says nothing (empty texts); SAM_ENOTFOUND when it does not answer 200 with
 * HTML; the errors of http_request (SAM_EPERM when the policy refuses the address). */
int linkcard_read(const char *url, long timeout_ms, struct discover_card *card);

/* The image at url into resp (initialised and filled; the caller cleans it up) when it is a
 * JPEG, PNG, WebP or GIF of at most max bytes; SAM_ENOTFOUND otherwise. */
int linkcard_image(const char *url, size_t max, long timeout_ms, struct http_resp *resp);

/* The image type of data by its first bytes ("image/jpeg", ...), "" when none of the four. */
const char *linkcard_image_type(const unsigned char *data, size_t n);

#endif
