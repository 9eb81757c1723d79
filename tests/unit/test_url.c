/* test_url.c: util/url: percent-encoding, the one encoder (channel/http.c's http_escape and
 * core/totp.c's otpauth URI both use it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "channel/http.h"
#include "util/err.h"
#include "util/url.h"

static void escape_table(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"abcXYZ019-._~", "abcXYZ019-._~"},                 /* unreserved: as they are */
        {"a b", "a%20b"},
        {"Acme: \xc3\x86r\xc3\xb8", "Acme%3A%20%C3%86r%C3%B8"}, /* UTF-8 octets, upper-case hex */
        {"bj\xc3\xb8rn@example.com", "bj%C3%B8rn%40example.com"},
        {":/?#[]@!$&'()*+,;=%", "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25"},
        {"\x01\x7f\xff", "%01%7F%FF"},
        {"at://did:plc:abc/app.bsky.feed.post/3k", "at%3A%2F%2Fdid%3Aplc%3Aabc%2Fapp.bsky.feed.post%2F3k"},
    };
    char out[256], via_http[256];
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(url_escape(cases[i].in, out, sizeof(out)), SAM_OK);
        assert_string_equal(out, cases[i].out);
        /* The HTTP client's name for it gives the same. */
        assert_int_equal(http_escape(cases[i].in, via_http, sizeof(via_http)), SAM_OK);
        assert_string_equal(via_http, out);
    }
}

static void escape_bounds(void **state)
{
    char out[16];
    (void)state;
    assert_int_equal(url_escape("abc", out, 4), SAM_OK); /* exactly: 3 and the NUL */
    assert_string_equal(out, "abc");
    assert_int_equal(url_escape("abcd", out, 4), SAM_ETOOBIG);
    assert_string_equal(out, "");
    assert_int_equal(url_escape("ab/", out, 6), SAM_OK); /* "ab%2F" and the NUL */
    assert_int_equal(url_escape("ab/", out, 5), SAM_ETOOBIG);
    assert_string_equal(out, "");
    assert_int_equal(url_escape("", out, 1), SAM_OK);
    assert_string_equal(out, "");
    assert_int_equal(url_escape("", out, 0), SAM_ETOOBIG);
    /* 3 * strlen + 1 is always enough. */
    assert_int_equal(url_escape("\xff\xff\xff\xff\xff", out, 16), SAM_OK);
    assert_string_equal(out, "%FF%FF%FF%FF%FF");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_table),
        cmocka_unit_test(escape_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
