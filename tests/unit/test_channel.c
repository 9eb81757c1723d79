/*
 * test_channel.c: channel/: the connector table, the file channel (CH6), Retry-After and
 * rate-limit parsing, the HTTP client's limits, and the webhook channel (CH5) against a
 * real receiver (tests/peers/receiver.py) on 127.0.0.1.
 *
 * The receiver is started by the webhook group's setup with /usr/bin/python3. Its path is
 * taken from, in order: the SAMTALE_RECEIVER environment variable; SAMTALE_SOURCE_DIR (a
 * compile definition) + /tests/peers/receiver.py; this file's own path (__FILE__, which
 * CMake passes as an absolute path) with unit/test_channel.c replaced by
 * peers/receiver.py. A receiver that cannot be started fails the group: these tests
 * must not pass by not running.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "channel/channel.h"
#include "channel/http.h"
#include "channel/peer.h"
#include "engine/poller.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/netpolicy.h"
#include "util/timeutil.h"

#include "listen_probe.h"

#define SECRET "hook-secret-for-tests"

/* ---------- helpers ---------- */

static void rm_rf(const char *path)
{
    struct stat st;
    if(lstat(path, &st))
        return;
    if(S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char sub[4096];
        while(d && (e = readdir(d))) {
            if(!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        if(d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void make_tmpdir(char *out, size_t n)
{
    const char *t = getenv("TMPDIR");
    snprintf(out, n, "%s/samtale-chan-XXXXXX", t && *t ? t : "/tmp");
    assert_non_null(mkdtemp(out));
}

/* Reads a whole small file into a NUL-terminated heap string (caller frees), or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[4096];
    size_t got;
    if(!f)
        return NULL;
    buf_init(&b, 16 * 1024 * 1024);
    while((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(buf_append(&b, chunk, got), SAM_OK);
    fclose(f);
    if(!b.data)
        buf_puts(&b, "");
    return buf_take(&b);
}

static int count_lines(const char *s)
{
    int n = 0;
    for(; s && *s; s++)
        n += *s == '\n';
    return n;
}

/* The i-th line (0-based) of s parsed as JSON; the caller decrefs. */
static json_t *line_json(const char *s, int i)
{
    const char *end;
    while(i-- > 0) {
        s = strchr(s, '\n');
        assert_non_null(s);
        s++;
    }
    end = strchr(s, '\n');
    return json_loadb(s, end ? (size_t)(end - s) : strlen(s), 0, NULL);
}

static int has_control(const char *s)
{
    for(; *s; s++)
        if((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* ---------- the connector table ---------- */

static void ops_table(void **state)
{
    const struct channel_ops *f = channel_ops_for("file"), *w = channel_ops_for("webhook");
    (void)state;
    assert_non_null(f);
    assert_non_null(w);
    assert_string_equal(f->kind, "file");
    assert_string_equal(w->kind, "webhook");
    assert_true(f->can_publish && f->can_delete && f->publish && f->remove);
    assert_true(w->can_publish && w->can_delete && w->publish && w->remove);
    assert_non_null(channel_ops_for("mastodon"));
    assert_true(channel_ops_for("mastodon")->can_publish && channel_ops_for("mastodon")->can_delete);
    assert_null(channel_ops_for("nosuch"));
    assert_null(channel_ops_for(""));
    assert_null(channel_ops_for(NULL));
}

/* ---------- file channel ---------- */

struct file_fixture {
    char dir[512];   /* temporary root */
    char files[600]; /* the files folder (not created in advance) */
    json_t *settings;
    struct channel_ctx ctx;
};

static int file_setup(void **state)
{
    struct file_fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    make_tmpdir(fx->dir, sizeof(fx->dir));
    snprintf(fx->files, sizeof(fx->files), "%s/files", fx->dir);
    fx->settings = json_pack("{s:s}", "path", "demo/posts.jsonl");
    fx->ctx.settings = fx->settings;
    fx->ctx.file_dir = fx->files;
    fx->ctx.timeout_ms = 5000;
    *state = fx;
    return 0;
}

static int file_teardown(void **state)
{
    struct file_fixture *fx = *state;
    rm_rf(fx->dir);
    json_decref(fx->settings);
    free(fx);
    return 0;
}

static struct channel_post sample_post(const char *key)
{
    struct channel_post p;
    memset(&p, 0, sizeof(p));
    p.occurrence_id = 42;
    p.post_id = 7;
    p.planned_at = 1795463100; /* 2026-11-23T19:45:00Z */
    p.text = "Hei p\xc3\xa5 deg! \"Quotes\" and a\nnewline";
    p.link = "https://example.org/a?b=c";
    p.idempotency_key = key;
    return p;
}

static char *read_demo(const struct file_fixture *fx)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/demo/posts.jsonl", fx->files);
    return slurp(path);
}

static void file_publish_appends_one_line(void **state)
{
    struct file_fixture *fx = *state;
    const struct channel_ops *ops = channel_ops_for("file");
    struct channel_post p = sample_post("occ-42-abc");
    struct channel_result res;
    char planned[32], *text;
    json_t *j;
    int64_t published;

    assert_int_equal(ops->publish(&fx->ctx, &p, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    assert_string_equal(res.remote_id, "occ-42-abc");
    text = read_demo(fx);
    assert_non_null(text);
    assert_int_equal(count_lines(text), 1);
    j = line_json(text, 0);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "publish");
    assert_string_equal(json_string_value(json_object_get(j, "idempotency_key")), "occ-42-abc");
    assert_int_equal(json_integer_value(json_object_get(j, "occurrence_id")), 42);
    assert_int_equal(json_integer_value(json_object_get(j, "post_id")), 7);
    time_rfc3339(p.planned_at, planned, sizeof(planned));
    assert_string_equal(json_string_value(json_object_get(j, "planned_at")), planned);
    assert_string_equal(planned, "2026-11-23T19:45:00Z");
    assert_int_equal(time_parse_rfc3339(json_string_value(json_object_get(j, "published_at")),
                                        &published), SAM_OK);
    assert_true(published >= time_now() - 60 && published <= time_now() + 1);
    assert_string_equal(json_string_value(json_object_get(j, "text")), p.text);
    assert_string_equal(json_string_value(json_object_get(j, "link")), p.link);
    json_decref(j);
    free(text);
}

static void file_publish_is_idempotent(void **state)
{
    struct file_fixture *fx = *state;
    const struct channel_ops *ops = channel_ops_for("file");
    struct channel_post a = sample_post("occ-1"), b = sample_post("occ-2");
    struct channel_result res;
    char *text;

    b.link = NULL;
    for(int i = 0; i < 3; i++) {
        assert_int_equal(ops->publish(&fx->ctx, &a, &res), SAM_OK);
        assert_int_equal(res.outcome, CHANNEL_OK);
        assert_string_equal(res.remote_id, "occ-1");
    }
    /* A key that contains another as a prefix is still a different key. */
    assert_int_equal(ops->publish(&fx->ctx, &b, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    assert_int_equal(ops->publish(&fx->ctx, &b, &res), SAM_OK);
    text = read_demo(fx);
    assert_int_equal(count_lines(text), 2);
    {
        json_t *j = line_json(text, 1);
        assert_string_equal(json_string_value(json_object_get(j, "idempotency_key")), "occ-2");
        assert_true(json_is_null(json_object_get(j, "link")));
        json_decref(j);
    }
    free(text);
}

static void file_relative_path_under_files_folder(void **state)
{
    struct file_fixture *fx = *state;
    const struct channel_ops *ops = channel_ops_for("file");
    struct channel_post p = sample_post("occ-rel");
    struct channel_result res;
    json_t *settings = json_pack("{s:s}", "path", "./a/b/c.jsonl");
    struct channel_ctx ctx = fx->ctx;
    char path[1024];
    struct stat st;

    ctx.settings = settings;
    assert_int_equal(ops->publish(&ctx, &p, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    snprintf(path, sizeof(path), "%s/a/b/c.jsonl", fx->files);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 0);
    assert_int_not_equal(stat("a/b/c.jsonl", &st), 0); /* not under the working folder */
    json_decref(settings);
}

static void file_refuses_paths_outside(void **state)
{
    static const struct {
        const char *path;
        int ok;
    } cases[] = {
        {"/etc/samtale-test.jsonl", 0}, {"../x.jsonl", 0}, {"a/../../x.jsonl", 0},
        {"a/..", 0}, {"..", 0}, {"a/../b.jsonl", 0}, {"", 0}, {"dir/", 0},
        {"..hidden.jsonl", 1}, {"a..b/c...jsonl", 1}, {"x/.../y.jsonl", 1},
    };
    struct file_fixture *fx = *state;
    const struct channel_ops *ops = channel_ops_for("file");
    struct channel_post p = sample_post("occ-refuse");
    struct channel_result res;
    struct stat st;

    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *settings = json_pack("{s:s}", "path", cases[i].path);
        struct channel_ctx ctx = fx->ctx;
        ctx.settings = settings;
        assert_int_equal(ops->publish(&ctx, &p, &res), SAM_OK);
        if(cases[i].ok) {
            assert_int_equal(res.outcome, CHANNEL_OK);
        } else {
            if(res.outcome != CHANNEL_FAIL)
                fail_msg("path %s was accepted", cases[i].path);
            if(*cases[i].path && !strstr(res.message, "under the files folder"))
                fail_msg("message for %s: %s", cases[i].path, res.message);
            assert_int_equal(ops->remove(&ctx, "occ-refuse", &res), SAM_OK);
            assert_int_equal(res.outcome, CHANNEL_FAIL);
        }
        json_decref(settings);
    }
    assert_int_not_equal(stat("/etc/samtale-test.jsonl", &st), 0);
    {
        char outside[1024];
        snprintf(outside, sizeof(outside), "%s/x.jsonl", fx->dir);
        assert_int_not_equal(stat(outside, &st), 0);
    }
    /* No path at all, and no files folder. */
    {
        json_t *settings = json_object();
        struct channel_ctx ctx = fx->ctx;
        ctx.settings = settings;
        assert_int_equal(ops->publish(&ctx, &p, &res), SAM_OK);
        assert_int_equal(res.outcome, CHANNEL_FAIL);
        ctx.settings = fx->settings;
        ctx.file_dir = NULL;
        assert_int_equal(ops->publish(&ctx, &p, &res), SAM_OK);
        assert_int_equal(res.outcome, CHANNEL_FAIL);
        assert_non_null(strstr(res.message, "files folder"));
        json_decref(settings);
    }
}

static void file_remove_appends_delete(void **state)
{
    struct file_fixture *fx = *state;
    const struct channel_ops *ops = channel_ops_for("file");
    struct channel_post p = sample_post("occ-del");
    struct channel_result res;
    char *text;
    json_t *j;

    assert_int_equal(ops->publish(&fx->ctx, &p, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    assert_int_equal(ops->remove(&fx->ctx, res.remote_id, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    assert_int_equal(ops->remove(&fx->ctx, "occ-del", &res), SAM_OK); /* already deleted */
    assert_int_equal(res.outcome, CHANNEL_OK);
    text = read_demo(fx);
    assert_int_equal(count_lines(text), 2);
    j = line_json(text, 1);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "delete");
    assert_string_equal(json_string_value(json_object_get(j, "remote_id")), "occ-del");
    json_decref(j);
    /* Publishing the same occurrence again after the delete does not bring it back. */
    assert_int_equal(ops->publish(&fx->ctx, &p, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    free(text);
    text = read_demo(fx);
    assert_int_equal(count_lines(text), 2);
    free(text);
    /* Not something this channel could have written. */
    assert_int_equal(ops->remove(&fx->ctx, "has \"quotes\"", &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
}

static void file_torn_last_line(void **state)
{
    struct file_fixture *fx = *state;
    const struct channel_ops *ops = channel_ops_for("file");
    struct channel_post p = sample_post("occ-after-crash");
    struct channel_result res;
    char path[1024], *text;
    FILE *f;
    json_t *j;

    assert_int_equal(mkdir(fx->files, 0700), 0);
    snprintf(path, sizeof(path), "%s/demo", fx->files);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/demo/posts.jsonl", fx->files);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"type\":\"publish\",\"idempotency_key\":\"occ-after-crash\",\"te", f);
    fclose(f);
    assert_int_equal(ops->publish(&fx->ctx, &p, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    text = read_demo(fx);
    assert_int_equal(count_lines(text), 2);
    j = line_json(text, 1);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "idempotency_key")),
                        "occ-after-crash");
    json_decref(j);
    free(text);
    /* Invalid text is refused, not written. */
    p.idempotency_key = "occ-bad-utf8";
    p.text = "broken \xc3";
    assert_int_equal(ops->publish(&fx->ctx, &p, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    /* So is a key that would need escaping. */
    p.text = "fine";
    p.idempotency_key = "bad\"key";
    assert_int_not_equal(ops->publish(&fx->ctx, &p, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
}

static void file_concurrent_publishers(void **state)
{
    struct file_fixture *fx = *state;
    const struct channel_ops *ops = channel_ops_for("file");
    pid_t kids[4];
    char *text;
    int status;

    /* Four processes race through the same 60 occurrences: the lock around
     * look-then-append lets exactly one line per key through. */
    for(int k = 0; k < 4; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if(kids[k] == 0) {
            struct channel_result res;
            char key[32];
            int bad = 0;
            for(int i = 0; i < 60; i++) {
                struct channel_post p;
                snprintf(key, sizeof(key), "race-%d", i);
                p = sample_post(key);
                bad |= ops->publish(&fx->ctx, &p, &res) != SAM_OK || res.outcome != CHANNEL_OK;
            }
            _exit(bad);
        }
    }
    for(int k = 0; k < 4; k++) {
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    text = read_demo(fx);
    assert_int_equal(count_lines(text), 60);
    free(text);
}

/* ---------- Retry-After and rate-limit hints ---------- */

static void retry_after_table(void **state)
{
    /* 2015-10-21T07:28:00Z is 1445412480. */
    const int64_t date = 1445412480;
    static const struct {
        const char *value;
        int64_t now_minus; /* now = date - now_minus */
        int rc, seconds;
    } cases[] = {
        {"120", 0, SAM_OK, 120},
        {"0", 0, SAM_OK, 0},
        {" 7 ", 0, SAM_OK, 7},
        {"Wed, 21 Oct 2015 07:28:00 GMT", 30, SAM_OK, 30},        /* IMF-fixdate */
        {"Wednesday, 21-Oct-15 07:28:00 GMT", 30, SAM_OK, 30},    /* RFC 850 */
        {"Wed Oct 21 07:28:00 2015", 30, SAM_OK, 30},             /* asctime */
        {"Wed, 21 Oct 2015 07:28:00 GMT", -3600, SAM_OK, 0},      /* in the past */
        {"Fri, 01 Jan 2100 00:00:00 GMT", 0, SAM_OK, 86400},     /* too far: a day */
        {"86400", 0, SAM_OK, 86400},
        {"86401", 0, SAM_OK, 86400},
        {"99999999999999999999999", 0, SAM_OK, 86400},
        {"-5", 0, SAM_EINVAL, 0},
        {"+5", 0, SAM_EINVAL, 0},
        {"1.5", 0, SAM_EINVAL, 0},
        {"10 minutes", 0, SAM_EINVAL, 0},
        {"soon", 0, SAM_EINVAL, 0},
        {"Wed, garbage", 0, SAM_EINVAL, 0},
        {"", 0, SAM_EINVAL, 0},
        {"   ", 0, SAM_EINVAL, 0},
    };
    int s;
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s = -1;
        int rc = http_retry_after(cases[i].value, date - cases[i].now_minus, &s);
        if(rc != cases[i].rc || s != cases[i].seconds)
            fail_msg("Retry-After \"%s\": rc %d seconds %d, want rc %d seconds %d",
                     cases[i].value, rc, s, cases[i].rc, cases[i].seconds);
    }
    assert_int_equal(http_retry_after(NULL, date, &s), SAM_EINVAL);
}

static void wait_hint_table(void **state)
{
    const int64_t now = 1445412480;
    static const struct {
        const char *retry_after, *remaining, *reset;
        int rc, seconds;
    } cases[] = {
        {"12", "", "", SAM_OK, 12},
        {"12", "0", "1445412500", SAM_OK, 12},                /* Retry-After wins */
        {"", "0", "1445412500", SAM_OK, 20},                  /* Unix seconds */
        {"", "0", "45", SAM_OK, 45},                          /* a delay */
        {"", "0", "2015-10-21T07:28:10.123Z", SAM_OK, 10},    /* Mastodon */
        {"", "0", "1445412000", SAM_OK, 0},                   /* already passed */
        {"", "3", "1445412500", SAM_EINVAL, 0},               /* requests left */
        {"", "0", "whenever", SAM_EINVAL, 0},
        {"", "", "", SAM_EINVAL, 0},
        {"junk", "", "", SAM_EINVAL, 0},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_resp r;
        int s = -1, rc;
        http_resp_init(&r);
        snprintf(r.retry_after, sizeof(r.retry_after), "%s", cases[i].retry_after);
        snprintf(r.ratelimit_remaining, sizeof(r.ratelimit_remaining), "%s", cases[i].remaining);
        snprintf(r.ratelimit_reset, sizeof(r.ratelimit_reset), "%s", cases[i].reset);
        rc = http_wait_hint(&r, now, &s);
        if(rc != cases[i].rc || s != cases[i].seconds)
            fail_msg("case %zu: rc %d seconds %d, want rc %d seconds %d", i, rc, s, cases[i].rc,
                     cases[i].seconds);
        http_resp_cleanup(&r);
    }
}

static void http_refuses_other_protocols(void **state)
{
    static const char *urls[] = {"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://x/",
                                 "dict://127.0.0.1:1/", "", "http//missing-colon"};
    (void)state;
    for(size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct http_req req;
        struct http_resp resp;
        memset(&req, 0, sizeof(req));
        req.url = urls[i];
        req.timeout_ms = 1000;
        http_resp_init(&resp);
        assert_int_equal(http_request(&req, &resp), SAM_EINVAL);
        assert_int_equal(resp.status, 0);
        assert_true(resp.error[0]);
        http_resp_cleanup(&resp);
    }
}

/* One GET of url with a short timeout; returns http_request's code, resp.status in *status. */
static int get_once(const char *url, long *status, char *error, size_t n)
{
    struct http_req req;
    struct http_resp resp;
    int rc;
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.timeout_ms = 5000;
    http_resp_init(&resp);
    rc = http_request(&req, &resp);
    *status = resp.status;
    snprintf(error, n, "%s", resp.error);
    http_resp_cleanup(&resp);
    return rc;
}

#define ANSWER_204 "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

/* Every request is decided by the address policy, after DNS, before a socket is opened:
 * with private addresses refused, none of these spellings of this machine is connected
 * to (a listener on 127.0.0.1 and on ::1 at the port finds nothing in its backlog);
 * with the policy off, the same requests are answered; the allow list lets exactly its
 * addresses through. */
static void http_policy_refuses_loopback_without_connecting(void **state)
{
    static const char *const hosts[] = {
        "127.0.0.1", "[::1]", "[::]", "[0::0]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
        "[::127.0.0.1]", "localhost", "2130706433", "0x7f.0.0.1", "127.1", "017700000001",
        "0.0.0.0", "[64:ff9b::127.0.0.1]",
    };
    int fds[2], port = probe_pair(fds);
    char url[128], error[256];
    long status;
    struct probe_responder r;
    (void)state;
    assert_true(port > 0);

    assert_int_equal(netpolicy_configure(0, NULL), SAM_OK);
    for(size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        snprintf(url, sizeof(url), "http://%s:%d/admin", hosts[i], port);
        sam_clear();
        assert_int_equal(get_once(url, &status, error, sizeof(error)), SAM_EPERM);
        assert_int_equal(status, 0);
        assert_non_null(strstr(error, "samtale does not connect to"));
        assert_non_null(strstr(sam_errmsg(SAM_EPERM), "samtale does not connect to"));
        if(probe_pending(fds[0]) || probe_pending(fds[1]))
            fail_msg("%s reached a listener with the policy on", url);
    }

    /* Off: the same addresses are reached (so the refusals above were the policy's). */
    assert_int_equal(netpolicy_configure(1, NULL), SAM_OK);
    assert_int_equal(probe_respond(&r, fds[0], ANSWER_204), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/admin", port);
    assert_int_equal(get_once(url, &status, error, sizeof(error)), SAM_OK);
    assert_int_equal(status, 204);
    assert_true(probe_join(&r));
    assert_int_equal(probe_respond(&r, fds[1], ANSWER_204), 0);
    snprintf(url, sizeof(url), "http://[::]:%d/admin", port);
    assert_int_equal(get_once(url, &status, error, sizeof(error)), SAM_OK);
    assert_int_equal(status, 204);
    assert_true(probe_join(&r));

    /* An allow list of one address: that one, and not its IPv6 neighbour. */
    assert_int_equal(netpolicy_configure(0, "127.0.0.1"), SAM_OK);
    assert_int_equal(probe_respond(&r, fds[0], ANSWER_204), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/admin", port);
    assert_int_equal(get_once(url, &status, error, sizeof(error)), SAM_OK);
    assert_int_equal(status, 204);
    assert_true(probe_join(&r));
    snprintf(url, sizeof(url), "http://[::1]:%d/admin", port);
    assert_int_equal(get_once(url, &status, error, sizeof(error)), SAM_EPERM);
    snprintf(url, sizeof(url), "http://127.0.0.2:%d/admin", port);
    assert_int_equal(get_once(url, &status, error, sizeof(error)), SAM_EPERM);
    assert_int_equal(probe_pending(fds[0]), 0);
    assert_int_equal(probe_pending(fds[1]), 0);

    assert_int_equal(netpolicy_configure(1, NULL), SAM_OK); /* the other tests' peers */
    close(fds[0]);
    close(fds[1]);
}

struct text_case {
    const char *in, *want;
};

/* What a peer's text becomes in a message: markup and control characters gone, cut. */
static void peer_text_table(void **state)
{
    static const struct text_case cases[] = {
        {"plain reason", "plain reason"},
        {"<b>bold</b> and <i>more</i>", "bold and more"},
        {"<script>alert(1)</script>x", "alert(1) x"},
        {"a < b > c", "a c"},
        {"unclosed <tag", "unclosed tag"},
        {"line\nbreak\r\tand\x1b[31m", "line break and [31m"},
        {"  spaces   collapse  ", "spaces collapse"},
        {"bad \xff byte", "bad ? byte"},
        {"c1 \xc2\x85 control", "c1 control"},
        {"æøå <br/>ok", "æøå ok"},
        {"", ""},
    };
    char out[PEER_REASON_MAX + 8], big[400];
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        peer_text(cases[i].in, strlen(cases[i].in), PEER_REASON_MAX, out, sizeof(out));
        assert_string_equal(out, cases[i].want);
    }
    memset(big, 'q', sizeof(big));
    peer_text(big, sizeof(big), PEER_REASON_MAX, out, sizeof(out));
    assert_int_equal(strlen(out), PEER_REASON_MAX + 3);
    assert_string_equal(out + PEER_REASON_MAX, "...");
    /* A cut never splits a character. */
    for(size_t i = 0; i + 1 < sizeof(big); i += 2)
        memcpy(big + i, "\xc3\xa5", 2);
    peer_text(big, sizeof(big), 11, out, sizeof(out));
    assert_string_equal(out, "\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5...");
}

/* A peer's reason is read only from its JSON error shape. */
static void peer_reason_table(void **state)
{
    static const char *const keys[] = {"error_description", "error", "error.message", NULL};
    static const struct text_case cases[] = {
        {"{\"error\":\"invalid token\"}", "invalid token"},
        {"{\"error\":\"invalid_grant\",\"error_description\":\"The grant is <em>invalid</em>\"}",
         "The grant is invalid"},
        {"{\"error\":{\"message\":\"nested\"}}", "nested"},
        {"{\"error\":\"\",\"message\":\"not asked for\"}", ""},
        {"{\"message\":\"not asked for\"}", ""},
        {"<html><body>SECRET admin page</body></html>", ""},
        {"plain text SECRET", ""},
        {"\"a JSON string SECRET\"", ""},
        {"[\"SECRET\"]", ""},
        {"", ""},
    };
    char out[PEER_REASON_MAX + 8];
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_resp resp;
        http_resp_init(&resp);
        assert_int_equal(buf_puts(&resp.body, cases[i].in), SAM_OK);
        resp.status = 400;
        peer_reason(&resp, keys, out, sizeof(out));
        assert_string_equal(out, cases[i].want);
        resp.truncated = 1; /* a cut answer is not read */
        peer_reason(&resp, keys, out, sizeof(out));
        assert_string_equal(out, "");
        http_resp_cleanup(&resp);
    }
}

/* ---------- the webhook channel against tests/peers/receiver.py ---------- */

struct peer {
    pid_t pid;
    char dir[512];
    char log[600];
    char base[256];  /* "http://127.0.0.1:PORT/" */
    char hook[272];  /* base + "hook" */
};

static int find_receiver(char *out, size_t n)
{
    const char *env = getenv("SAMTALE_RECEIVER");
    if(env && *env) {
        snprintf(out, n, "%s", env);
        return access(out, R_OK) == 0;
    }
#ifdef SAMTALE_SOURCE_DIR
    snprintf(out, n, "%s/tests/peers/receiver.py", SAMTALE_SOURCE_DIR);
    if(access(out, R_OK) == 0)
        return 1;
#endif
    {
        const char *self = __FILE__, *suffix = "unit/test_channel.c";
        size_t len = strlen(self), sl = strlen(suffix);
        if(len >= sl && !strcmp(self + len - sl, suffix)) {
            snprintf(out, n, "%.*speers/receiver.py", (int)(len - sl), self);
            if(access(out, R_OK) == 0)
                return 1;
        }
    }
    return 0;
}

static int peer_start(void **state)
{
    struct peer *p = calloc(1, sizeof(*p));
    char script[4096], line[256];
    int fds[2];
    size_t got = 0;

    assert_non_null(p);
    if(!find_receiver(script, sizeof(script))) {
        fprintf(stderr, "tests/peers/receiver.py not found; set SAMTALE_RECEIVER to its path\n");
        free(p);
        return -1;
    }
    make_tmpdir(p->dir, sizeof(p->dir));
    snprintf(p->log, sizeof(p->log), "%s/receiver.jsonl", p->dir);
    assert_int_equal(pipe(fds), 0);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if(p->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3", script, "--port", "0", "--log", p->log, "--secret",
              SECRET, "--hang-seconds", "3", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    /* Wait (at most 15 s) for "listening on http://127.0.0.1:PORT/\n". */
    while(got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        ssize_t r;
        if(poll(&pfd, 1, 15000) <= 0)
            break;
        r = read(fds[0], line + got, sizeof(line) - 1 - got);
        if(r <= 0)
            break;
        got += (size_t)r;
    }
    close(fds[0]);
    line[got] = '\0';
    if(strncmp(line, "listening on http://127.0.0.1:", 30) || !strchr(line, '\n')) {
        fprintf(stderr, "receiver did not start: \"%s\"\n", line);
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        rm_rf(p->dir);
        free(p);
        return -1;
    }
    *strchr(line, '\n') = '\0';
    snprintf(p->base, sizeof(p->base), "%s", line + strlen("listening on "));
    snprintf(p->hook, sizeof(p->hook), "%shook", p->base);
    *state = p;
    return 0;
}

static int peer_stop(void **state)
{
    struct peer *p = *state;
    int status = 0;
    if(!p)
        return 0;
    kill(p->pid, SIGTERM);
    for(int i = 0; i < 100; i++) { /* up to 5 s for a clean exit */
        if(waitpid(p->pid, &status, WNOHANG) == p->pid)
            goto done;
        usleep(50000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
done:
    rm_rf(p->dir);
    free(p);
    return 0;
}

/* POSTs a control document (or GETs when body is NULL) to base + path; returns the
 * parsed answer (caller decrefs). */
static json_t *peer_call(const struct peer *p, const char *path, const char *body)
{
    struct http_req req;
    struct http_resp resp;
    char url[320];
    json_t *j;
    memset(&req, 0, sizeof(req));
    snprintf(url, sizeof(url), "%s%s", p->base, path);
    req.url = url;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.timeout_ms = 5000;
    http_resp_init(&resp);
    assert_int_equal(http_request(&req, &resp), SAM_OK);
    assert_int_equal(resp.status, 200);
    j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    assert_non_null(j);
    http_resp_cleanup(&resp);
    return j;
}

static void peer_script(const struct peer *p, const char *control)
{
    json_decref(peer_call(p, "_control", control));
}

static long stat_of(const struct peer *p, const char *name)
{
    json_t *j = peer_call(p, "_stats", NULL);
    long v = (long)json_integer_value(json_object_get(j, name));
    json_decref(j);
    return v;
}

/* The last request the receiver recorded (caller decrefs). */
static json_t *peer_last(const struct peer *p)
{
    char *text = slurp(p->log);
    json_t *j;
    int n;
    assert_non_null(text);
    n = count_lines(text);
    assert_true(n > 0);
    j = line_json(text, n - 1);
    assert_non_null(j);
    free(text);
    return j;
}

static void webhook_ctx(const struct peer *p, struct channel_ctx *ctx, json_t **settings,
                        const char *url)
{
    memset(ctx, 0, sizeof(*ctx));
    *settings = json_pack("{s:s}", "url", url ? url : p->hook);
    ctx->settings = *settings;
    ctx->secret = SECRET;
    ctx->secret_len = strlen(SECRET);
    ctx->timeout_ms = 5000;
}

static void webhook_201_signed(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-ok-1");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings, *last, *h, *body;
    long ok0 = stat_of(p, "signatures_ok"), bad0 = stat_of(p, "signatures_bad");
    int64_t ts;

    webhook_ctx(p, &ctx, &settings, NULL);
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    assert_int_equal(res.http_status, 201);
    assert_string_equal(res.remote_id, "wh-ok-1");
    assert_int_equal(stat_of(p, "signatures_ok"), ok0 + 1);
    assert_int_equal(stat_of(p, "signatures_bad"), bad0);

    last = peer_last(p);
    assert_true(json_is_true(json_object_get(last, "signature_ok")));
    assert_string_equal(json_string_value(json_object_get(last, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(last, "path")), "/hook");
    h = json_object_get(last, "headers");
    assert_string_equal(json_string_value(json_object_get(h, "Idempotency-Key")), "wh-ok-1");
    assert_string_equal(json_string_value(json_object_get(h, "Content-Type")), "application/json");
    assert_string_equal(json_string_value(json_object_get(h, "User-Agent")),
                        "samtale/" SAMTALE_VERSION);
    assert_non_null(strstr(json_string_value(json_object_get(h, "X-Samtale-Signature")),
                           "sha256="));
    ts = strtoll(json_string_value(json_object_get(h, "X-Samtale-Timestamp")), NULL, 10);
    assert_true(ts >= time_now() - 60 && ts <= time_now() + 1);
    body = json_loads(json_string_value(json_object_get(last, "body")), 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "type")), "post.publish");
    assert_string_equal(json_string_value(json_object_get(body, "idempotency_key")), "wh-ok-1");
    assert_int_equal(json_integer_value(json_object_get(body, "occurrence_id")), 42);
    assert_int_equal(json_integer_value(json_object_get(body, "post_id")), 7);
    assert_string_equal(json_string_value(json_object_get(body, "planned_at")),
                        "2026-11-23T19:45:00Z");
    assert_string_equal(json_string_value(json_object_get(body, "text")), post.text);
    assert_string_equal(json_string_value(json_object_get(body, "link")), post.link);
    json_decref(body);
    json_decref(last);
    json_decref(settings);
}

static void webhook_signature_can_fail(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-badsig");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings, *last;
    long bad0 = stat_of(p, "signatures_bad");

    webhook_ctx(p, &ctx, &settings, NULL);
    ctx.secret = "not-the-secret";
    ctx.secret_len = strlen(ctx.secret);
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK); /* this receiver records, it does not refuse */
    assert_int_equal(stat_of(p, "signatures_bad"), bad0 + 1);
    last = peer_last(p);
    assert_true(json_is_false(json_object_get(last, "signature_ok")));
    json_decref(last);

    /* Without a secret there is no signature header at all. */
    ctx.secret = NULL;
    ctx.secret_len = 0;
    post.idempotency_key = "wh-nosig";
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    last = peer_last(p);
    assert_null(json_object_get(json_object_get(last, "headers"), "X-Samtale-Signature"));
    assert_non_null(json_object_get(json_object_get(last, "headers"), "X-Samtale-Timestamp"));
    json_decref(last);
    json_decref(settings);
}

static void webhook_500_retries(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-500");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings;

    webhook_ctx(p, &ctx, &settings, NULL);
    peer_script(p, "{\"mode\":\"500\"}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_RETRY);
    assert_int_equal(res.http_status, 500);
    assert_int_equal(res.retry_after, 0);
    assert_non_null(strstr(res.message, "answered 500"));
    peer_script(p, "{\"mode\":\"503\",\"retry_after\":\"Wed, 21 Oct 2015 07:28:00 GMT\"}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_RETRY);
    assert_int_equal(res.retry_after, 0); /* a date in the past: no wait asked */
    /* The script ran out: the same occurrence now goes through, once. */
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    json_decref(settings);
}

static void webhook_429_retry_after(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-429");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings;
    static const char *transient[] = {"408", "425", "502", "504"};

    webhook_ctx(p, &ctx, &settings, NULL);
    peer_script(p, "{\"mode\":\"429\",\"retry_after\":7}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_RETRY);
    assert_int_equal(res.http_status, 429);
    assert_int_equal(res.retry_after, 7);
    assert_non_null(strstr(res.message, "7 seconds"));
    for(size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        char control[64];
        snprintf(control, sizeof(control), "{\"mode\":\"%s\"}", transient[i]);
        peer_script(p, control);
        assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
        assert_int_equal(res.outcome, CHANNEL_RETRY);
        assert_int_equal(res.http_status, atoi(transient[i]));
    }
    json_decref(settings);
}

static void webhook_hang_times_out_then_duplicate(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-hang");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings;
    long dup0 = stat_of(p, "duplicates"), uniq0 = stat_of(p, "unique_keys");
    double t0;

    webhook_ctx(p, &ctx, &settings, NULL);
    ctx.timeout_ms = 500;
    peer_script(p, "{\"mode\":\"hang\"}");
    t0 = time_mono();
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_true(time_mono() - t0 < 2.5);
    assert_int_equal(res.outcome, CHANNEL_RETRY);
    assert_int_equal(res.http_status, 0);
    assert_non_null(strstr(res.message, "did not answer"));
    /* The receiver took the event but its answer was lost; the retry carries the same
     * key, so the receiver sees a duplicate and answers as before. */
    ctx.timeout_ms = 5000;
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    assert_string_equal(res.remote_id, "wh-hang");
    assert_int_equal(stat_of(p, "duplicates"), dup0 + 1);
    assert_int_equal(stat_of(p, "unique_keys"), uniq0 + 1);
    json_decref(settings);
}

static void webhook_400_fails_with_reason(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-400");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings;

    webhook_ctx(p, &ctx, &settings, NULL);
    peer_script(p, "{\"mode\":\"400\",\"error\":\"text too long\"}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_int_equal(res.http_status, 400);
    assert_non_null(strstr(res.message, "text too long"));
    assert_non_null(strstr(res.message, "answered 400"));
    assert_non_null(strstr(res.message, p->hook));
    assert_non_null(strstr(res.message, "publish again"));

    /* A reason full of control characters is cleaned before people see it. */
    peer_script(p, "{\"mode\":\"422\",\"error\":\"bad\\n\\u001b[31mthing\\u0007 \\u0085here\"}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_false(has_control(res.message));
    assert_null(strstr(res.message, "\xc2\x85"));
    assert_non_null(strstr(res.message, "bad [31mthing here"));

    /* Nested {"error":{"message"}} is the receiver's error shape too. */
    peer_script(p, "{\"mode\":\"403\",\"body\":{\"error\":{\"message\":\"signature refused\"}}}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_non_null(strstr(res.message, "signature refused"));
    assert_non_null(strstr(res.message, "secret"));
    {
        /* A reason is cut at PEER_REASON_MAX bytes; a body of another shape (a JSON string
         * here, an HTML page below) is never quoted. */
        char control[1024] = "{\"mode\":\"422\",\"error\":\"";
        char run[PEER_REASON_MAX + 2];
        size_t n = strlen(control);
        memset(control + n, 'x', 400);
        strcpy(control + n + 400, "\"}");
        peer_script(p, control);
        assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
        assert_int_equal(res.outcome, CHANNEL_FAIL);
        assert_non_null(strstr(res.message, "xxxxxxxxxx..."));
        memset(run, 'x', PEER_REASON_MAX + 1);
        run[PEER_REASON_MAX + 1] = '\0';
        assert_null(strstr(res.message, run));

        memcpy(control, "{\"mode\":\"404\",\"body\":\"", strlen("{\"mode\":\"404\",\"body\":\""));
        n = strlen("{\"mode\":\"404\",\"body\":\"");
        memset(control + n, 'z', 400);
        strcpy(control + n + 400, "\"}");
        peer_script(p, control);
        assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
        assert_int_equal(res.outcome, CHANNEL_FAIL);
        assert_null(strstr(res.message, "zzz"));
        assert_non_null(strstr(res.message, "answered 404"));
        assert_non_null(strstr(res.message, "no reason given"));
    }
    peer_script(p, "{\"mode\":\"401\",\"raw\":\"<html><title>Admin</title><body><h1>Internal "
                   "admin page</h1><p>SECRET-MARKER-7731</p></body></html>\"}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_int_equal(res.http_status, 401);
    assert_non_null(strstr(res.message, "answered 401"));
    assert_null(strstr(res.message, "SECRET-MARKER"));
    assert_null(strstr(res.message, "admin"));
    json_decref(settings);
}

static void webhook_repeated_key_is_duplicate(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-dup");
    struct channel_result a, b;
    struct channel_ctx ctx;
    json_t *settings, *last;
    long dup0 = stat_of(p, "duplicates"), uniq0 = stat_of(p, "unique_keys"),
         del0 = stat_of(p, "deliveries");

    webhook_ctx(p, &ctx, &settings, NULL);
    assert_int_equal(ops->publish(&ctx, &post, &a), SAM_OK);
    assert_int_equal(ops->publish(&ctx, &post, &b), SAM_OK);
    assert_int_equal(a.outcome, CHANNEL_OK);
    assert_int_equal(b.outcome, CHANNEL_OK);
    assert_string_equal(a.remote_id, b.remote_id);
    assert_int_equal(stat_of(p, "deliveries"), del0 + 2);
    assert_int_equal(stat_of(p, "unique_keys"), uniq0 + 1);
    assert_int_equal(stat_of(p, "duplicates"), dup0 + 1);
    last = peer_last(p);
    assert_true(json_is_true(json_object_get(last, "duplicate")));
    json_decref(last);
    json_decref(settings);
}

static void webhook_flaky_then_ok(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-flaky");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings;

    webhook_ctx(p, &ctx, &settings, NULL);
    peer_script(p, "{\"mode\":\"flaky\",\"count\":2}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_RETRY);
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    json_decref(settings);
}

static void webhook_remote_id_forms(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-ids");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings;

    webhook_ctx(p, &ctx, &settings, NULL);
    peer_script(p, "{\"mode\":\"200\",\"body\":{\"id\":12345,\"url\":\"https://shop.example/p/1\"}}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    assert_string_equal(res.remote_id, "12345");
    assert_string_equal(res.remote_url, "https://shop.example/p/1");
    peer_script(p, "{\"mode\":\"202\",\"body\":\"accepted, no id\"}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    assert_string_equal(res.remote_id, "wh-ids");
    assert_string_equal(res.remote_url, "");
    peer_script(p, "{\"mode\":\"201\",\"body\":{\"id\":{\"nested\":1},\"url\":\"javascript:x\"}}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    assert_string_equal(res.remote_id, "wh-ids");
    assert_string_equal(res.remote_url, "");
    peer_script(p, "{\"mode\":\"302\"}");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_non_null(strstr(res.message, "redirect"));
    json_decref(settings);
}

static void webhook_remove(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings, *last, *body;

    webhook_ctx(p, &ctx, &settings, NULL);
    assert_int_equal(ops->remove(&ctx, "wh-ok-1", &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    last = peer_last(p);
    assert_true(json_is_true(json_object_get(last, "signature_ok")));
    body = json_loads(json_string_value(json_object_get(last, "body")), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "type")), "post.delete");
    assert_string_equal(json_string_value(json_object_get(body, "remote_id")), "wh-ok-1");
    json_decref(body);
    json_decref(last);
    peer_script(p, "{\"mode\":\"404\"}"); /* already gone */
    assert_int_equal(ops->remove(&ctx, "wh-ok-1", &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_OK);
    peer_script(p, "{\"mode\":\"500\"}");
    assert_int_equal(ops->remove(&ctx, "wh-ok-1", &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_RETRY);
    peer_script(p, "{\"mode\":\"400\",\"error\":\"unknown post\"}");
    assert_int_equal(ops->remove(&ctx, "wh-ok-1", &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_non_null(strstr(res.message, "unknown post"));
    json_decref(settings);
}

static void webhook_unreachable_and_bad_url(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-down");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    char url[128];
    int s = socket(AF_INET, SOCK_STREAM, 0);

    /* A port that was free a moment ago: nobody listens there. */
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    close(s);
    snprintf(url, sizeof(url), "http://user:pw@127.0.0.1:%d/hook?token=abc", ntohs(sa.sin_port));
    webhook_ctx(p, &ctx, &settings, url);
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_RETRY);
    assert_non_null(strstr(res.message, "Could not reach"));
    assert_null(strstr(res.message, "token=abc")); /* no secrets from the URL in messages */
    assert_null(strstr(res.message, "pw@"));
    json_decref(settings);

    webhook_ctx(p, &ctx, &settings, "ftp://127.0.0.1/hook");
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_non_null(strstr(res.message, "URL"));
    json_decref(settings);
}

/* A webhook URL the address policy refuses: a permanent failure saying why, and nothing
 * reaches the address. */
static void webhook_refused_address(void **state)
{
    struct peer *p = *state;
    const struct channel_ops *ops = channel_ops_for("webhook");
    struct channel_post post = sample_post("wh-refused");
    struct channel_result res;
    struct channel_ctx ctx;
    json_t *settings;
    long requests0 = stat_of(p, "requests");
    int fds[2], port = probe_pair(fds);
    char url[128];

    assert_true(port > 0);
    assert_int_equal(netpolicy_configure(0, NULL), SAM_OK);
    webhook_ctx(p, &ctx, &settings, NULL);
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_true(res.address_refused);
    assert_int_equal(res.http_status, 0);
    assert_non_null(strstr(res.message, "this machine"));
    assert_non_null(strstr(res.message, "publish again"));
    json_decref(settings);
    snprintf(url, sizeof(url), "http://[::]:%d/hook", port);
    webhook_ctx(p, &ctx, &settings, url);
    assert_int_equal(ops->publish(&ctx, &post, &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    assert_true(res.address_refused);
    assert_int_equal(ops->remove(&ctx, "x-1", &res), SAM_OK);
    assert_int_equal(res.outcome, CHANNEL_FAIL);
    json_decref(settings);
    assert_int_equal(netpolicy_configure(1, NULL), SAM_OK);
    assert_int_equal(probe_pending(fds[0]) + probe_pending(fds[1]), 0);
    assert_int_equal(stat_of(p, "requests"), requests0);
    close(fds[0]);
    close(fds[1]);
}

static void http_body_limit_truncates(void **state)
{
    struct peer *p = *state;
    struct http_req req;
    struct http_resp resp;
    char url[320];

    memset(&req, 0, sizeof(req));
    snprintf(url, sizeof(url), "%s_stats", p->base);
    req.url = url;
    req.timeout_ms = 5000;
    req.max_body = 10;
    http_resp_init(&resp);
    /* A proxy in the environment is ignored: this one would refuse the connection. */
    setenv("http_proxy", "http://127.0.0.1:9", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:9", 1);
    assert_int_equal(http_request(&req, &resp), SAM_OK);
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.truncated, 1);
    assert_int_equal(resp.body.len, 10);
    assert_string_equal(resp.content_type, "application/json");
    /* The same response object is reused: a full read clears the flag. */
    req.max_body = 0;
    assert_int_equal(http_request(&req, &resp), SAM_OK);
    assert_int_equal(resp.truncated, 0);
    {
        json_t *j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
        assert_non_null(j);
        json_decref(j);
    }
    http_resp_cleanup(&resp);
}

static void escape_table(void **state)
{
    char out[64];
    (void)state;
    assert_int_equal(http_escape("at://did:plc:abc/app.bsky.feed.post/3k", out, sizeof(out)), SAM_OK);
    assert_string_equal(out, "at%3A%2F%2Fdid%3Aplc%3Aabc%2Fapp.bsky.feed.post%2F3k");
    assert_int_equal(http_escape("æ ~-_.", out, sizeof(out)), SAM_OK);
    assert_string_equal(out, "%C3%A6%20~-_.");
    assert_int_equal(http_escape("", out, sizeof(out)), SAM_OK);
    assert_string_equal(out, "");
    assert_int_equal(http_escape("abc/", out, 6), SAM_ETOOBIG);   /* "abc%2F" needs 7 bytes */
    assert_string_equal(out, "");
    assert_int_equal(http_escape("abc", out, 4), SAM_OK);
}

static void checkpoints_table(void **state)
{
    int64_t cp[POLLER_CHECKPOINTS_MAX];
    size_t n = 0;
    (void)state;
    assert_int_equal(poller_parse_checkpoints("1h,24h,7d", cp, &n), SAM_OK);
    assert_int_equal(n, 3);
    assert_int_equal(cp[0], 3600);
    assert_int_equal(cp[1], 86400);
    assert_int_equal(cp[2], 604800);
    assert_int_equal(poller_parse_checkpoints("7d, 30s,15m ,30s", cp, &n), SAM_OK);  /* sorted, once each */
    assert_int_equal(n, 3);
    assert_int_equal(cp[0], 30);
    assert_int_equal(cp[1], 900);
    assert_int_equal(cp[2], 604800);
    assert_int_equal(poller_parse_checkpoints("", cp, &n), SAM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(poller_parse_checkpoints("90", cp, &n), SAM_OK);
    assert_int_equal(cp[0], 90);
    assert_int_equal(poller_parse_checkpoints("1w", cp, &n), SAM_EINVAL);
    assert_int_equal(poller_parse_checkpoints("-1h", cp, &n), SAM_EINVAL);
    assert_int_equal(poller_parse_checkpoints("0s", cp, &n), SAM_EINVAL);
    assert_int_equal(poller_parse_checkpoints("401d", cp, &n), SAM_EINVAL);
    assert_int_equal(poller_parse_checkpoints("99999999999999999999d", cp, &n), SAM_EINVAL);
    assert_int_equal(poller_parse_checkpoints("1s,2s,3s,4s,5s,6s,7s,8s,9s", cp, &n), SAM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest local[] = {
        cmocka_unit_test(ops_table),
        cmocka_unit_test_setup_teardown(file_publish_appends_one_line, file_setup, file_teardown),
        cmocka_unit_test_setup_teardown(file_publish_is_idempotent, file_setup, file_teardown),
        cmocka_unit_test_setup_teardown(file_relative_path_under_files_folder, file_setup,
                                        file_teardown),
        cmocka_unit_test_setup_teardown(file_refuses_paths_outside, file_setup, file_teardown),
        cmocka_unit_test_setup_teardown(file_remove_appends_delete, file_setup, file_teardown),
        cmocka_unit_test_setup_teardown(file_torn_last_line, file_setup, file_teardown),
        cmocka_unit_test_setup_teardown(file_concurrent_publishers, file_setup, file_teardown),
        cmocka_unit_test(retry_after_table),
        cmocka_unit_test(escape_table),
        cmocka_unit_test(checkpoints_table),
        cmocka_unit_test(wait_hint_table),
        cmocka_unit_test(http_refuses_other_protocols),
        cmocka_unit_test(http_policy_refuses_loopback_without_connecting),
        cmocka_unit_test(peer_text_table),
        cmocka_unit_test(peer_reason_table),
    };
    const struct CMUnitTest webhook[] = {
        cmocka_unit_test(webhook_201_signed),
        cmocka_unit_test(webhook_signature_can_fail),
        cmocka_unit_test(webhook_500_retries),
        cmocka_unit_test(webhook_429_retry_after),
        cmocka_unit_test(webhook_hang_times_out_then_duplicate),
        cmocka_unit_test(webhook_400_fails_with_reason),
        cmocka_unit_test(webhook_repeated_key_is_duplicate),
        cmocka_unit_test(webhook_flaky_then_ok),
        cmocka_unit_test(webhook_remote_id_forms),
        cmocka_unit_test(webhook_remove),
        cmocka_unit_test(webhook_unreachable_and_bad_url),
        cmocka_unit_test(webhook_refused_address),
        cmocka_unit_test(http_body_limit_truncates),
    };
    int failed;
    netpolicy_configure(1, NULL); /* the receiver is on 127.0.0.1 */
    failed = cmocka_run_group_tests_name("channel", local, NULL, NULL);
    failed += cmocka_run_group_tests_name("webhook", webhook, peer_start, peer_stop);
    return failed ? 1 : 0;
}
