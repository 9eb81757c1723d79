/* test_util.c: util/: bounded buffers, UTF-8, RFC 3339, time zones, configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/conf.h"
#include "util/err.h"
#include "util/i18n.h"
#include "util/timeutil.h"
#include "util/utf8.h"

static void buf_limits(void **state)
{
    struct buf b;
    (void)state;
    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "abcd"), SAM_OK);
    assert_int_equal(buf_puts(&b, "efgh"), SAM_OK);
    assert_int_equal(buf_puts(&b, "i"), SAM_ETOOBIG);
    assert_string_equal(buf_str(&b), "abcdefgh"); /* a refused append leaves it as it was */
    assert_int_equal(buf_printf(&b, "%s", "x"), SAM_ETOOBIG);
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%d-%d", 12, 34), SAM_OK);
    assert_string_equal(buf_str(&b), "12-34");
    char *taken = buf_take(&b);
    assert_string_equal(taken, "12-34");
    assert_null(b.data);
    free(taken);
    buf_cleanup(&b);
}

static void buf_grows_past_small_printf(void **state)
{
    struct buf b;
    char big[2000];
    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_printf(&b, "[%s]", big), SAM_OK);
    assert_int_equal(b.len, sizeof(big) + 1);
    buf_cleanup(&b);
}

static void utf8_table(void **state)
{
    static const struct {
        const char *s;
        long n;
    } cases[] = {
        {"", 0}, {"abc", 3}, {"bl\xc3\xa5" "b\xc3\xa6r", 6},                   /* blåbær */
        {"\xf0\x9f\x98\x80", 1},                                             /* emoji */
        {"\xc3", -1},                                                        /* truncated */
        {"\xc0\xaf", -1},                                                    /* overlong */
        {"\xed\xa0\x80", -1},                                                /* surrogate */
        {"\xf4\x90\x80\x80", -1},                                            /* past U+10FFFF */
        {"\xe2\x82", -1}, {"a\x80" "z", -1},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(utf8_count(cases[i].s, strlen(cases[i].s)), cases[i].n);
    assert_true(utf8_has_control("a\tb"));
    assert_false(utf8_has_control("blåbær"));
}

/* A message cut inside a sequence (or quoting invalid bytes) becomes valid UTF-8 of the
 * same length. */
static void utf8_repair_table(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""}, {"blåbær", "blåbær"}, {"cut \xc3", "cut ?"}, {"cut \xe2\x82", "cut ??"},
        {"\xf0\x9f\x98", "???"}, {"a\x80z", "a?z"}, {"\xc0\xaf", "??"}, {"\xed\xa0\x80", "???"},
        {"\xf0\x9f\x98\x80 ok", "\xf0\x9f\x98\x80 ok"}, {"\xff\xfe", "??"},
    };
    char buf[64];
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(buf, sizeof(buf), "%s", cases[i].in);
        utf8_repair(buf);
        assert_string_equal(buf, cases[i].out);
    }
    /* Cutting on a character. */
    assert_int_equal(utf8_prefix("abc", 10), 3);
    assert_int_equal(utf8_prefix("abc", 3), 3);
    assert_int_equal(utf8_prefix("abcd", 3), 3);
    assert_int_equal(utf8_prefix("a\xc3\xb8", 2), 1);          /* inside ø */
    assert_int_equal(utf8_prefix("a\xc3\xb8", 3), 3);
    assert_int_equal(utf8_prefix("a\xc3\xb8z", 3), 3);
    assert_int_equal(utf8_prefix("\xf0\x9f\x98\x80!", 2), 0); /* inside an emoji */
    assert_int_equal(utf8_prefix("\xf0\x9f\x98\x80!", 4), 4);
    assert_int_equal(utf8_prefix("", 0), 0);
    /* The error message of a field named by a long multi-byte key stays valid UTF-8. */
    memset(buf, 0, sizeof(buf));
    for(size_t i = 0; i + 2 < sizeof(buf); i += 2)
        memcpy(buf + i, "\xc3\xb8", 2);
    sam_fail_field(SAM_EINVAL, buf, "unknown field '%.63s'", buf);
    assert_true(utf8_count(sam_errmsg(SAM_EINVAL), strlen(sam_errmsg(SAM_EINVAL))) > 0);
    assert_true(utf8_count(sam_errfield(), strlen(sam_errfield())) > 0);
}

static void rfc3339_table(void **state)
{
    static const struct {
        const char *s;
        int ok;
        int64_t t;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 1, 0},
        {"2026-11-23T19:45:00Z", 1, 1795463100},
        {"2026-11-23T20:45:00+01:00", 1, 1795463100},
        {"2026-11-23T14:45:00.123-05:00", 1, 1795463100},
        {"2024-02-29T00:00:00Z", 1, 1709164800},
        {"2026-13-01T00:00:00Z", 0, 0},
        {"2026-11-23 19:45:00", 0, 0},
        {"2026-11-23T19:45:00", 0, 0},
        {"2026-11-23T19:45:00Zjunk", 0, 0},
        {"2026-11-23T25:00:00Z", 0, 0},
        {"", 0, 0},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t = -1;
        int rc = time_parse_rfc3339(cases[i].s, &t);
        assert_int_equal(rc == SAM_OK, cases[i].ok);
        if(cases[i].ok)
            assert_int_equal(t, cases[i].t);
    }
    char out[32];
    time_rfc3339(1795463100, out, sizeof(out));
    assert_string_equal(out, "2026-11-23T19:45:00Z");
}

static void timezones(void **state)
{
    (void)state;
    assert_true(tz_valid("Europe/Oslo"));
    assert_true(tz_valid("America/New_York"));
    assert_true(tz_valid("UTC"));
    assert_false(tz_valid("Europe/Osloo"));
    assert_false(tz_valid("../../etc/passwd"));
    assert_false(tz_valid("/etc/localtime"));
    assert_false(tz_valid(""));
    assert_false(tz_valid("Europe/Oslo;rm"));
}

static void conf_precedence(void **state)
{
    char path[] = "/tmp/samtale-conf-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    struct conf *c = conf_new();
    char shown[256];
    (void)state;
    fprintf(f, "# comment\nlisten = 127.0.0.1:9000\nthreads = \"3\"\nsecret_key = abc\n");
    fclose(f);
    assert_string_equal(conf_get(c, "listen"), "127.0.0.1:8080");
    assert_int_equal(conf_source_of(c, "listen"), CONF_DEFAULT);
    assert_int_equal(conf_load_file(c, path), SAM_OK);
    assert_string_equal(conf_get(c, "listen"), "127.0.0.1:9000");
    assert_int_equal(conf_get_long(c, "threads"), 3);
    setenv("SAMTALE_LISTEN", "127.0.0.1:9100", 1);
    assert_int_equal(conf_load_env(c), SAM_OK);
    unsetenv("SAMTALE_LISTEN");
    assert_string_equal(conf_get(c, "listen"), "127.0.0.1:9100");
    assert_int_equal(conf_source_of(c, "listen"), CONF_ENV);
    assert_int_equal(conf_set(c, "listen", "127.0.0.1:9200", CONF_FLAG), SAM_OK);
    assert_string_equal(conf_get(c, "listen"), "127.0.0.1:9200");
    conf_display(c, "secret_key", shown, sizeof(shown));
    assert_string_equal(shown, "****");
    assert_int_equal(conf_set(c, "db", "postgresql://app:hunter2@db/samtale", CONF_FLAG), SAM_OK);
    conf_display(c, "db", shown, sizeof(shown));
    assert_string_equal(shown, "postgresql://app:****@db/samtale");
    assert_int_equal(conf_set(c, "nonsense", "1", CONF_FLAG), SAM_EINVAL);
    conf_free(c);

    f = fopen(path, "w");
    fprintf(f, "listen 127.0.0.1\n");
    fclose(f);
    c = conf_new();
    assert_int_equal(conf_load_file(c, path), SAM_EINVAL);
    assert_non_null(strstr(sam_errmsg(SAM_EINVAL), ":1:"));
    conf_free(c);
    unlink(path);
}

/* fetch_private_addresses is the old name of allow_private_addresses: read from files,
 * the environment and conf_set alike; the new name wins when a source gives both. */
static void conf_old_names(void **state)
{
    char path[] = "/tmp/samtale-conf-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    struct conf *c = conf_new();
    (void)state;
    fprintf(f, "fetch_private_addresses = true\noutbound_allow = 10.0.0.5, fd00::/8\n");
    fclose(f);
    assert_string_equal(conf_get(c, "allow_private_addresses"), "false");
    assert_string_equal(conf_get(c, "outbound_allow"), "");
    assert_int_equal(conf_load_file(c, path), SAM_OK);
    assert_true(conf_get_bool(c, "allow_private_addresses"));
    assert_int_equal(conf_source_of(c, "allow_private_addresses"), CONF_FILE);
    assert_string_equal(conf_get(c, "outbound_allow"), "10.0.0.5, fd00::/8");
    setenv("SAMTALE_FETCH_PRIVATE_ADDRESSES", "false", 1);
    assert_int_equal(conf_load_env(c), SAM_OK);
    assert_false(conf_get_bool(c, "allow_private_addresses"));
    assert_int_equal(conf_source_of(c, "allow_private_addresses"), CONF_ENV);
    setenv("SAMTALE_ALLOW_PRIVATE_ADDRESSES", "true", 1);
    assert_int_equal(conf_load_env(c), SAM_OK);
    unsetenv("SAMTALE_FETCH_PRIVATE_ADDRESSES");
    unsetenv("SAMTALE_ALLOW_PRIVATE_ADDRESSES");
    assert_true(conf_get_bool(c, "allow_private_addresses"));
    assert_int_equal(conf_set(c, "fetch_private_addresses", "no", CONF_FLAG), SAM_OK);
    assert_false(conf_get_bool(c, "allow_private_addresses"));
    for(size_t i = 0; conf_key(i); i++)
        assert_string_not_equal(conf_key(i), "fetch_private_addresses");
    conf_free(c);
    unlink(path);
}

static void error_message_may_quote_itself(void **state)
{
    (void)state;
    sam_fail(SAM_EINVAL, "inner reason");
    sam_fail_field(SAM_EINVAL, "slots", "%s", sam_errmsg(SAM_EINVAL));
    assert_string_equal(sam_errmsg(SAM_EINVAL), "inner reason");
    assert_string_equal(sam_errfield(), "slots");
    sam_fail(SAM_EINVAL, "outer: %s", sam_errmsg(SAM_EINVAL));
    assert_string_equal(sam_errmsg(SAM_EINVAL), "outer: inner reason");
}

/* A catalogue in the GNU .mo layout with the given pairs (little-endian). */
static size_t make_mo(unsigned char *out, size_t cap, const char *const *pairs, uint32_t n)
{
    uint32_t hdr[7] = {0x950412deu, 0, n, 28, 28 + 8 * n, 0, 0};
    size_t at = 28 + 16 * (size_t)n;
    assert_true(at <= cap);
    memcpy(out, hdr, sizeof(hdr));
    for(uint32_t t = 0; t < 2; t++)
        for(uint32_t i = 0; i < n; i++) {
            const char *str = pairs[2 * i + t];
            uint32_t rec[2] = {(uint32_t)strlen(str), (uint32_t)at};
            assert_true(at + strlen(str) + 1 <= cap);
            memcpy(out + 28 + 8 * n * t + 8 * i, rec, sizeof(rec));
            memcpy(out + at, str, strlen(str) + 1);
            at += strlen(str) + 1;
        }
    return at;
}

/* A message worded in English when it happened, read later in another language. */
static void stored_messages(void **state)
{
    char out[1024], want[1024], inner[512];
    const char *fmt = "channel %lld is not in this workspace";
    (void)state;
    /* English readers, and a text no catalogue has, get it as it is. */
    i18n_set_lang(NULL);
    assert_int_equal(i18n_message("channel 12 is not in this workspace", out, sizeof(out)), 0);
    assert_string_equal(out, "channel 12 is not in this workspace");
    i18n_set_lang("nb");
    assert_int_equal(i18n_message("Something only a network would say (503)", out, sizeof(out)), 0);
    assert_string_equal(out, "Something only a network would say (503)");
    /* A text with its arguments: the translation, filled with them. */
    assert_string_not_equal(i18n_text(fmt), fmt);
    snprintf(want, sizeof(want), i18n_text(fmt), 12LL);
    assert_int_equal(i18n_message("channel 12 is not in this workspace", out, sizeof(out)), 1);
    assert_string_equal(out, want);
    /* A number where the text has one, or the words differ: not that text. */
    i18n_message("channel twelve is not in this workspace", out, sizeof(out));
    assert_string_equal(out, "channel twelve is not in this workspace");
    /* A message quoting another: both translated. */
    snprintf(inner, sizeof(inner), "%s", "channel 7 is not in this workspace");
    snprintf(want, sizeof(want), i18n_text("gave up after %d attempts: %s"), 5, "X");
    assert_string_not_equal(i18n_text("gave up after %d attempts: %s"), "gave up after %d attempts: %s");
    {
        char msg[600], tr_inner[512];
        snprintf(msg, sizeof(msg), "gave up after %d attempts: %s", 5, inner);
        snprintf(tr_inner, sizeof(tr_inner), i18n_text(fmt), 7LL);
        snprintf(want, sizeof(want), i18n_text("gave up after %d attempts: %s"), 5, tr_inner);
        assert_int_equal(i18n_message(msg, out, sizeof(out)), 1);
        assert_string_equal(out, want);
    }
    /* Hostile text (a network's words are quoted in messages) cannot stall it, and a small
     * buffer holds a cut, terminated message. */
    {
        char hostile[1000];
        memset(hostile, '%', sizeof(hostile) - 1);
        hostile[sizeof(hostile) - 1] = '\0';
        memcpy(hostile, "gave up after 1 attempts: ", 26);
        i18n_message(hostile, out, sizeof(out));
        assert_true(strlen(out) < sizeof(out));
        assert_int_equal(i18n_message("channel 12 is not in this workspace", out, 8), 1);
        assert_int_equal(strlen(out), 7);
    }
    i18n_set_lang(NULL);
}

static void catalogues(void **state)
{
    static const char *const pairs[] = {"", "Content-Type: text/plain; charset=UTF-8\n", "b", "B", "a", "A"};
    unsigned char mo[512];
    size_t len;
    (void)state;
    /* Accept-Language: the highest weight samtale speaks; Norwegian in general is bokmål. */
    assert_string_equal(i18n_negotiate("nb-NO,nb;q=0.9,en;q=0.8"), "nb");
    assert_string_equal(i18n_negotiate("de-DE, sv;q=0.5, en;q=0.4"), "sv");
    assert_string_equal(i18n_negotiate("en;q=0.3, no;q=0.7"), "nb");
    assert_string_equal(i18n_negotiate("nn"), "nb");
    assert_string_equal(i18n_negotiate("sv;q=0, en"), "en");
    assert_string_equal(i18n_negotiate("fr, de"), "en");
    assert_string_equal(i18n_negotiate(""), "en");
    assert_string_equal(i18n_negotiate(NULL), "en");
    assert_string_equal(i18n_negotiate(";;;,,q=,sv;q=abc"), "en");
    assert_string_equal(i18n_negotiate("*"), "en");
    /* The thread's language; English needs no catalogue. */
    i18n_set_lang("sv-SE");
    assert_string_equal(i18n_lang(), "sv");
    i18n_set_lang("nb_NO.UTF-8");
    assert_string_equal(i18n_lang(), "nb");
    i18n_set_lang("C");
    assert_string_equal(i18n_lang(), "en");
    assert_string_equal(i18n_text("no such file"), "no such file");
    assert_string_equal(n_("%zu post", "%zu posts", 2), "%zu posts");
    assert_string_equal(n_("%zu post", "%zu posts", 1), "%zu post");
    /* The shipped catalogues load and translate. */
    assert_true(i18n_catalogue_size("nb") > 400);
    assert_true(i18n_catalogue_size("sv") > 400);
    assert_string_not_equal(i18n_text_in("nb", "no such file"), "no such file");
    assert_string_not_equal(i18n_text_in("sv", "no such file"), "no such file");
    i18n_set_lang("nb");
    assert_string_equal(i18n_text("no such file"), i18n_text_in("nb", "no such file"));
    /* sam_fail words its message in the thread's language. */
    sam_fail(SAM_ENOTFOUND, "no such file");
    assert_string_equal(sam_errmsg(SAM_ENOTFOUND), i18n_text_in("nb", "no such file"));
    i18n_set_lang(NULL);
    /* The reader: a well-formed catalogue, then every cut and a damaged offset. */
    len = make_mo(mo, sizeof(mo), pairs, 3);
    assert_int_equal(i18n_mo_entries(mo, len), 2);
    for(size_t cut = 0; cut < len; cut++)
        assert_true(i18n_mo_entries(mo, cut) <= 2);
    mo[28 + 8 * 3 + 8 + 4] = 0xff; /* a translation's offset far past the end */
    assert_int_equal(i18n_mo_entries(mo, len), -1);
    mo[0] = 0;
    assert_int_equal(i18n_mo_entries(mo, len), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_limits),     cmocka_unit_test(buf_grows_past_small_printf),
        cmocka_unit_test(utf8_table), cmocka_unit_test(utf8_repair_table),     cmocka_unit_test(rfc3339_table),
        cmocka_unit_test(timezones),      cmocka_unit_test(conf_precedence),
        cmocka_unit_test(conf_old_names),
        cmocka_unit_test(error_message_may_quote_itself), cmocka_unit_test(catalogues),
        cmocka_unit_test(stored_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
