/* preview.c: the composer's previews (see preview.h). */
#include "engine/preview.h"
#include "channel/bluesky.h"
#include "channel/linkcard.h"
#include "core/checks.h"
#include "text/normalise.h"
#include "text/thread.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The cards read lately, so a composer asking again as one types does not read the page
 * each time: CARD_CACHE links, each kept CARD_TTL_S (a page that could not be read is not
 * kept: the next preview tries again). */
#define CARD_CACHE 32
#define CARD_TTL_S 300

struct card_entry {
    char *url;
    int rc;                    /* SAM_OK, or SAM_EPERM (the policy refused it) */
    struct discover_card card;
    int64_t at;
};

static pthread_mutex_t card_mu = PTHREAD_MUTEX_INITIALIZER;
static struct card_entry card_cache[CARD_CACHE];

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* Copies a card's texts (new strings); SAM_ENOMEM. */
static int card_copy(const struct discover_card *from, struct discover_card *to)
{
    memset(to, 0, sizeof(*to));
    to->title = dup_or_empty(from->title);
    to->description = dup_or_empty(from->description);
    to->image = dup_or_empty(from->image);
    to->site = dup_or_empty(from->site);
    if(!to->title || !to->description || !to->image || !to->site) {
        discover_card_cleanup(to);
        return SAM_ENOMEM;
    }
    return SAM_OK;
}

/* linkcard_read through the cache. */
static int card_read(const char *link, long timeout_ms, struct discover_card *out)
{
    int64_t now = time_now();
    struct card_entry *slot = NULL;
    int rc;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&card_mu);
    for(size_t i = 0; i < CARD_CACHE; i++) {
        struct card_entry *e = &card_cache[i];
        if(e->url && !strcmp(e->url, link) && now - e->at < CARD_TTL_S) {
            rc = e->rc ? e->rc : card_copy(&e->card, out);
            pthread_mutex_unlock(&card_mu);
            return rc;
        }
    }
    pthread_mutex_unlock(&card_mu);
    rc = linkcard_read(link, timeout_ms, out); /* no lock held while the page is read */
    if(rc && rc != SAM_EPERM)
        return rc;
    pthread_mutex_lock(&card_mu);
    for(size_t i = 0; i < CARD_CACHE; i++) { /* the same link's entry, else the oldest */
        struct card_entry *e = &card_cache[i];
        if(e->url && !strcmp(e->url, link)) {
            slot = e;
            break;
        }
        if(!slot || e->at < slot->at)
            slot = e;
    }
    free(slot->url);
    discover_card_cleanup(&slot->card);
    slot->url = strdup(link);
    slot->rc = rc;
    slot->at = now;
    if(!slot->url || (!rc && card_copy(out, &slot->card))) {
        free(slot->url);
        slot->url = NULL;
        slot->at = 0;
    }
    pthread_mutex_unlock(&card_mu);
    return rc;
}

/* The UTF-16 index of byte offset b of the (valid UTF-8) text s. */
static size_t utf16_at(const char *s, size_t b)
{
    size_t u = 0;
    for(size_t i = 0; i < b && s[i];) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        u += k == 4 ? 2 : 1;
        i += k;
    }
    return u;
}

/* The marks (links, mentions, tags) of one part, found as Bluesky's client finds them
 * (Mastodon finds the same ones on its side). */
static json_t *marks_of(const char *part)
{
    static const char *const kinds[] = {"link", "mention", "tag"};
    struct bsky_facet f[64];
    size_t n = 0;
    json_t *arr = json_array();
    if(!arr || bsky_facets_find(part, strlen(part), f, 64, &n))
        return arr;
    for(size_t i = 0; i < n; i++) {
        const char *kind = f[i].kind == BSKY_FACET_LINK ? kinds[0] : f[i].kind == BSKY_FACET_MENTION ? kinds[1] : kinds[2];
        json_t *m = json_pack("{s:I, s:I, s:s, s:s%}", "start", (json_int_t)utf16_at(part, f[i].byte_start), "end",
                              (json_int_t)utf16_at(part, f[i].byte_end), "kind", kind, "value",
                              part + f[i].value_start, f[i].value_end - f[i].value_start);
        if(m)
            json_array_append_new(arr, m);
    }
    return arr;
}


static int channel_preview(const struct store_channel *ch, const char *text, const char *link, int card,
                           int nimages, json_t **out)
{
    const char *network = NULL;
    long limit = 0;
    size_t bytes = (size_t)-1, n = 0;
    text_count_fn count = text_graphemes;
    struct text_part parts[TEXT_THREAD_MAX];
    json_t *list, *o;
    char *full;
    long card_part = -1;
    char lang0[36] = "";
    int rc;
    if(!strcmp(ch->kind, "bluesky")) {
        /* The channel's first language, as the publisher splits with it (langs_of). */
        json_t *settings = json_loads(ch->settings ? ch->settings : "{}", 0, NULL);
        json_t *l = json_object_get(settings, "langs");
        const char *first = json_is_string(l) ? json_string_value(l) : json_string_value(json_array_get(l, 0));
        if(first && *first && strlen(first) < sizeof(lang0))
            memcpy(lang0, first, strlen(first) + 1);
        json_decref(settings);
        network = "bluesky";
        limit = 300;
        bytes = CHECKS_BLUESKY_BYTES;
    } else if(!strcmp(ch->kind, "mastodon")) {
        json_t *settings = json_loads(ch->settings ? ch->settings : "{}", 0, NULL);
        json_t *m = json_object_get(settings, "max_characters");
        network = "mastodon";
        limit = json_is_integer(m) && json_integer_value(m) >= 100 ? (long)json_integer_value(m) : 500;
        count = text_mastodon_length;
        json_decref(settings);
    }
    /* On Bluesky a card carries the link; elsewhere it ends the text. A Bluesky post has
     * one embed, so with images (on the first post) the card goes on a thread's last post,
     * and a single post keeps its link in the text: as the publisher does. */
    card = card && network && !strcmp(network, "bluesky");
    if(!(full = card ? strdup(text) : linkcard_with_link(text, link)))
        return SAM_ENOMEM;
    if(network) {
        for(int again = 0;; again = 1) {
            rc = text_thread_split(full, limit, bytes, lang0[0] ? lang0 : NULL, count, parts, TEXT_THREAD_MAX, &n);
            if(rc == SAM_ETOOBIG || rc == SAM_EINVAL) {
                n = 0; /* too long even for a thread: the checks say so (P8b) */
                rc = SAM_OK;
            } else if(rc) {
                free(full);
                return rc;
            }
            if(!card || !nimages || n != 1 || again)
                break;
            card = 0;
            free(full);
            if(!(full = linkcard_with_link(text, link)))
                return SAM_ENOMEM;
        }
        if(card && n)
            card_part = nimages && n > 1 ? (long)n - 1 : 0;
    } else {
        parts[0].start = 0;
        parts[0].len = strlen(full);
        n = 1;
    }
    list = json_array();
    for(size_t k = 0; list && k < n; k++) {
        char *p = text_thread_part(full, &parts[k], k, n);
        if(!p) {
            json_decref(list);
            free(full);
            return SAM_ENOMEM;
        }
        json_array_append_new(list, json_pack("{s:s, s:I, s:o, s:b, s:b}", "text", p, "length",
                                              (json_int_t)count(p, strlen(p)), "marks", marks_of(p), "images",
                                              nimages > 0 && k == 0, "card", (long)k == card_part));
        free(p);
    }
    o = json_pack("{s:I, s:s, s:s?, s:o, s:I, s:o}", "channel_id", (json_int_t)ch->id, "kind", ch->kind, "network",
                  network, "limit", network ? json_integer(limit) : json_null(), "length",
                  (json_int_t)count(full, strlen(full)), "parts", list);
    free(full);
    if(!o)
        return SAM_ENOMEM;
    *out = o;
    return SAM_OK;
}

int preview_build(struct core *c, int64_t ws, const char *text, const char *link, int nimages,
                  const int64_t *channels, size_t n, long timeout_ms, json_t **out)
{
    struct discover_card card;
    json_t *previews = json_array(), *j;
    int rc = SAM_OK, have_card = 0;
    const char *card_error = NULL;
    *out = NULL;
    memset(&card, 0, sizeof(card));
    if(!previews)
        return SAM_ENOMEM;
    if(link && *link) {
        int r = card_read(link, timeout_ms, &card);
        if(!r && (card.title[0] || card.description[0]))
            have_card = 1;
        else if(!r)
            card_error = _("The page says nothing a card could show (no title or description).");
        else if(r == SAM_EPERM)
            card_error = _("samtale may not read that address (the outbound address policy).");
        else
            card_error = _("The page could not be read now; the card is made again when the post goes out.");
    }
    for(size_t i = 0; !rc && i < n; i++) {
        struct store_channel ch;
        json_t *p = NULL;
        rc = core_channel_get(c, ws, channels[i], &ch);
        if(rc == SAM_ENOTFOUND)
            rc = sam_fail_field(SAM_EINVAL, "channels", "channel %lld is not in this workspace", (long long)channels[i]);
        if(rc)
            break;
        rc = channel_preview(&ch, text, link, have_card, nimages, &p);
        store_channel_cleanup(&ch);
        if(!rc)
            json_array_append_new(previews, p);
    }
    if(rc) {
        json_decref(previews);
        discover_card_cleanup(&card);
        return rc;
    }
    j = json_pack("{s:o, s:o}", "previews", previews, "card",
                  have_card ? json_pack("{s:s, s:s, s:s, s:s, s:s}", "uri", link, "title", card.title, "description",
                                        card.description, "site", card.site, "image", card.image)
                            : json_null());
    if(j && card_error)
        json_object_set_new(j, "card_error", json_string(card_error));
    discover_card_cleanup(&card);
    if(!j)
        return SAM_ENOMEM;
    *out = j;
    return SAM_OK;
}
