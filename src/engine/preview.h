/*
 * preview.h: a post as it will look on each of its channels before it is saved (the
 * composer's previews, P2): per channel, its network's count and limit, the parts it
 * goes out as (a numbered thread when longer than one post, cut exactly as the publisher
 * cuts it), the links, mentions and tags each part marks, and the card of the post's
 * link (read through the outbound policy, bounded in time: it runs on the worker pool).
 */
#ifndef SAM_PREVIEW_H
#define SAM_PREVIEW_H

#include <jansson.h>

#include "core/core.h"

/* *out (a new reference): {"previews":[{"channel_id","kind","network"|null,"limit"|null,
 * "length","parts":[{"text","length","marks":[{"start","end","kind","value"}],"images",
 * "card"}]}], "card": {"uri","title","description","site","image"} | null, "card_error"?}.
 * Offsets of marks are UTF-16 code units of the part's text (what a browser's strings
 * index). nimages is how many images the post carries: a part's "images" says it carries
 * them (the first), "card" that it carries the link's card (Bluesky: the first, or the
 * last of a thread with images; none for a single post with images, whose text then ends
 * with the link). Errors: SAM_EINVAL (field "channels") for a channel not in the
 * workspace, SAM_ENOMEM. */
int preview_build(struct core *c, int64_t ws, const char *text, const char *link, int nimages,
                  const int64_t *channels, size_t n, long timeout_ms, json_t **out);

#endif
