/* test_mastodon.c: the Mastodon connector's parts that need no server: the streaming
 * API's server-sent events (recorded streams with heartbeats, CRLF, multi-line data,
 * split at every byte, oversized events) and the authorize URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "channel/mastodon.h"
#include "util/err.h"

struct got {
    char log[4096];
    int n;
};

static void on_event(const char *event, const char *data, size_t len, void *arg)
{
    struct got *g = arg;
    size_t used = strlen(g->log);
    snprintf(g->log + used, sizeof(g->log) - used, "[%s|%.*s]", event, (int)len, data);
    g->n++;
}

/* A stream as an instance sends it: a heartbeat, an update, a multi-line event, a
 * delete, with CRLF in places. */
static const char STREAM[] =
    ":)\n"
    "\n"
    ": thump\n"
    "event: update\n"
    "data: {\"id\":\"1\",\"content\":\"<p>Hei blåbær 🫐</p>\"}\n"
    "\n"
    "event: notification\r\n"
    "data: {\"type\":\"mention\",\r\n"
    "data: \"id\":\"7\"}\r\n"
    "\r\n"
    "data:no space\n"
    "\n"
    "event: delete\n"
    "data: 1\n"
    "\n";
static const char WANT[] =
    "[update|{\"id\":\"1\",\"content\":\"<p>Hei blåbær 🫐</p>\"}]"
    "[notification|{\"type\":\"mention\",\n\"id\":\"7\"}]"
    "[message|no space]"
    "[delete|1]";

static void whole_stream(void **state)
{
    struct sse p;
    struct got g = {.n = 0};
    (void)state;
    g.log[0] = '\0';
    sse_init(&p);
    assert_int_equal(sse_feed(&p, STREAM, sizeof(STREAM) - 1, on_event, &g), SAM_OK);
    assert_string_equal(g.log, WANT);
    assert_int_equal(p.events, 4);
    assert_int_equal(p.heartbeats, 2);
    sse_cleanup(&p);
}

static void split_at_every_byte(void **state)
{
    (void)state;
    for(size_t cut = 1; cut < sizeof(STREAM) - 1; cut++) {
        struct sse p;
        struct got g = {.n = 0};
        g.log[0] = '\0';
        sse_init(&p);
        sse_feed(&p, STREAM, cut, on_event, &g);
        sse_feed(&p, STREAM + cut, sizeof(STREAM) - 1 - cut, on_event, &g);
        if(strcmp(g.log, WANT))
            fail_msg("cut at %zu: %s", cut, g.log);
        sse_cleanup(&p);
    }
}

static void one_byte_at_a_time(void **state)
{
    struct sse p;
    struct got g = {.n = 0};
    (void)state;
    g.log[0] = '\0';
    sse_init(&p);
    for(size_t i = 0; i < sizeof(STREAM) - 1; i++)
        sse_feed(&p, STREAM + i, 1, on_event, &g);
    assert_string_equal(g.log, WANT);
    sse_cleanup(&p);
}

static void oversized_events_are_dropped(void **state)
{
    static char big[SSE_EVENT_MAX + 100];
    struct sse p;
    struct got g = {.n = 0};
    (void)state;
    g.log[0] = '\0';
    memcpy(big, "data: ", 6);
    memset(big + 6, 'x', sizeof(big) - 8);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = '\n';
    sse_init(&p);
    sse_feed(&p, big, sizeof(big), on_event, &g);
    sse_feed(&p, "event: update\ndata: after\n\n", 27, on_event, &g);
    assert_int_equal(p.dropped, 1);
    assert_string_equal(g.log, "[update|after]");
    sse_cleanup(&p);
}

static void authorize_url(void **state)
{
    char url[512];
    (void)state;
    assert_int_equal(masto_authorize_url("https://mastodon.example/", "id with space&x", "urn:ietf:wg:oauth:2.0:oob",
                                         url, sizeof(url)),
                     SAM_OK);
    assert_string_equal(url, "https://mastodon.example/oauth/authorize?response_type=code&scope=read+write&client_id="
                             "id%20with%20space%26x&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob");
    assert_int_equal(masto_authorize_url("ftp://x", "a", "b", url, sizeof(url)), SAM_EINVAL);
    assert_int_equal(masto_authorize_url("https://x/?q=1", "a", "b", url, sizeof(url)), SAM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_stream),
        cmocka_unit_test(split_at_every_byte),
        cmocka_unit_test(one_byte_at_a_time),
        cmocka_unit_test(oversized_events_are_dropped),
        cmocka_unit_test(authorize_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
