/* linkcard.c: reading a link's page for its card (see linkcard.h). */
#include "channel/linkcard.h"
#include "util/err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* GETs url (following at most LINKCARD_REDIRECTS absolute http(s) redirects). SAM_OK with a
 * 200 answer in resp (initialised here; the caller cleans it up), else an error. */
static int get(const char *url, size_t max_body, long timeout_ms, struct http_resp *resp)
{
    char cur[DISCOVER_URL_MAX + 1];
    snprintf(cur, sizeof(cur), "%s", url);
    http_resp_init(resp);
    for(int hop = 0; hop <= LINKCARD_REDIRECTS; hop++) {
        const char *headers[] = {"User-Agent: samtale/" SAMTALE_VERSION " (link preview)",
                                 "Accept: text/html, image/*;q=0.9, */*;q=0.1", NULL};
        struct http_req req;
        int rc;
        memset(&req, 0, sizeof(req));
        req.url = cur;
        req.headers = headers;
        req.timeout_ms = timeout_ms > 0 && timeout_ms < LINKCARD_TIMEOUT_MS ? timeout_ms : LINKCARD_TIMEOUT_MS;
        req.max_body = max_body;
        rc = http_request(&req, resp);
        if(rc)
            return rc;
        if(resp->status == 200)
            return SAM_OK;
        if(resp->status < 300 || resp->status >= 400 || resp->status == 304 ||
           (strncmp(resp->location, "https://", 8) && strncmp(resp->location, "http://", 7)) ||
           strlen(resp->location) > DISCOVER_URL_MAX)
            break;
        snprintf(cur, sizeof(cur), "%s", resp->location);
    }
    return sam_fail(SAM_ENOTFOUND, "the page did not answer with itself");
}

int linkcard_read(const char *url, long timeout_ms, struct discover_card *card)
{
    struct http_resp resp;
    char lower[sizeof(resp.content_type)], charset[40] = "";
    const char *cs;
    int rc = get(url, DISCOVER_MAX_BYTES, timeout_ms, &resp);
    memset(card, 0, sizeof(*card));
    if(!rc && strncasecmp(resp.content_type, "text/html", 9) && strncasecmp(resp.content_type, "application/xhtml", 17))
        rc = sam_fail(SAM_ENOTFOUND, "the link is not a web page");
    if(rc) {
        http_resp_cleanup(&resp);
        return rc;
    }
    for(size_t i = 0; i < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)resp.content_type[i]);
    lower[sizeof(lower) - 1] = '\0';
    if((cs = strstr(lower, "charset=")))
        snprintf(charset, sizeof(charset), "%.*s", (int)strcspn(cs + 8, "; \""), cs + 8);
    rc = discover_card(resp.body.data ? resp.body.data : "", resp.body.len, charset[0] ? charset : NULL, url, card);
    http_resp_cleanup(&resp);
    return rc;
}

const char *linkcard_image_type(const unsigned char *d, size_t n)
{
    if(n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
        return "image/jpeg";
    if(n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
        return "image/png";
    if(n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4))
        return "image/webp";
    if(n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6)))
        return "image/gif";
    return "";
}

int linkcard_image(const char *url, size_t max, long timeout_ms, struct http_resp *resp)
{
    int rc;
    http_resp_cleanup(resp);
    rc = get(url, max + 1, timeout_ms, resp);
    if(rc)
        return rc;
    if(resp->truncated || resp->body.len > max ||
       !*linkcard_image_type((const unsigned char *)resp->body.data, resp->body.len))
        return sam_fail(SAM_ENOTFOUND, "the card's image is too large or not an image");
    return SAM_OK;
}
