/* test_totp.c: core/totp: base32, HOTP and TOTP against the RFC vectors, verification
 * (window, replay, typed forms), the otpauth URI, the QR code's SVG against libqrencode's
 * matrix, recovery codes and their hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/totp.h"
#include "util/buf.h"
#include "util/err.h"

#define SEED20 "12345678901234567890"
#define SEED32 "12345678901234567890123456789012"
#define SEED64 "1234567890123456789012345678901234567890123456789012345678901234"
#define K20 ((const unsigned char *)SEED20)

/* RFC 4226 Appendix D: HOTP of the 20-byte seed for counters 0-9, 6 digits. */
static void hotp_rfc4226(void **state)
{
    static const uint32_t expect[10] = {755224, 287082, 359152, 969429, 338314,
                                        254676, 287922, 162583, 399871, 520489};
    uint32_t code;
    char text[TOTP_CODE_SIZE];
    (void)state;
    for(uint64_t c = 0; c < 10; c++) {
        assert_int_equal(totp_hotp(K20, 20, TOTP_SHA1, 6, c, &code), SAM_OK);
        assert_int_equal(code, expect[c]);
    }
    totp_code_format(7081804, 8, text);
    assert_string_equal(text, "07081804");
    totp_code_format(42, 6, text);
    assert_string_equal(text, "000042");
}

/* RFC 6238 Appendix B: 8 digits, step 30, each algorithm with its own seed length. */
static void totp_rfc6238(void **state)
{
    static const struct {
        int64_t t;
        const char *code[3]; /* SHA1, SHA256, SHA512 */
    } rows[] = {
        {59, {"94287082", "46119246", "90693936"}},
        {1111111109, {"07081804", "68084774", "25091201"}},
        {1111111111, {"14050471", "67062674", "99943326"}},
        {1234567890, {"89005924", "91819424", "93441116"}},
        {2000000000, {"69279037", "90698825", "38618901"}},
        {20000000000LL, {"65353130", "77737706", "47863826"}},
    };
    static const struct {
        enum totp_alg alg;
        const char *seed;
    } algs[3] = {{TOTP_SHA1, SEED20}, {TOTP_SHA256, SEED32}, {TOTP_SHA512, SEED64}};
    (void)state;
    for(size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        for(int a = 0; a < 3; a++) {
            struct totp_params p = {algs[a].alg, 8, 30};
            uint32_t code;
            int64_t step;
            char text[TOTP_CODE_SIZE];
            assert_int_equal(totp_code((const unsigned char *)algs[a].seed, strlen(algs[a].seed), &p,
                                       rows[i].t, &code, &step),
                             SAM_OK);
            totp_code_format(code, 8, text);
            assert_string_equal(text, rows[i].code[a]);
            assert_int_equal(step, rows[i].t / 30);
        }
    }
}

static void params_and_keys_refused(void **state)
{
    uint32_t code = 1;
    int64_t step = 1;
    struct totp_params p = {TOTP_SHA1, 0, 0};
    unsigned char big[TOTP_KEY_MAX + 1];
    enum totp_alg alg;
    (void)state;
    memset(big, 7, sizeof(big));
    assert_int_equal(totp_hotp(K20, 0, TOTP_SHA1, 6, 0, &code), SAM_EINVAL);
    assert_int_equal(totp_hotp(big, sizeof(big), TOTP_SHA1, 6, 0, &code), SAM_EINVAL);
    assert_int_equal(totp_hotp(big, TOTP_KEY_MAX, TOTP_SHA1, 6, 0, &code), SAM_OK);
    assert_int_equal(totp_hotp(K20, 20, TOTP_SHA1, 5, 0, &code), SAM_EINVAL);
    assert_int_equal(totp_hotp(K20, 20, TOTP_SHA1, 9, 0, &code), SAM_EINVAL);
    assert_int_equal(totp_hotp(K20, 20, (enum totp_alg)7, 6, 0, &code), SAM_EINVAL);
    assert_int_equal(totp_code(K20, 20, NULL, -1, &code, &step), SAM_EINVAL);
    assert_int_equal(step, -1);
    p.step = -30;
    assert_int_equal(totp_code(K20, 20, &p, 59, &code, NULL), SAM_EINVAL);
    p.step = TOTP_STEP_MAX + 1;
    assert_int_equal(totp_code(K20, 20, &p, 59, &code, NULL), SAM_EINVAL);
    /* NULL and a zeroed struct are the defaults: SHA-1, 6 digits, 30 s. */
    p.step = 0;
    assert_int_equal(totp_code(K20, 20, &p, 59, &code, &step), SAM_OK);
    assert_int_equal(code, 287082); /* step 1: the HOTP of counter 1 */
    assert_int_equal(totp_code(K20, 20, NULL, 59, &code, &step), SAM_OK);
    assert_int_equal(code, 287082);
    assert_int_equal(step, 1);

    assert_int_equal(totp_alg_parse("sha1", &alg), SAM_OK);
    assert_int_equal(alg, TOTP_SHA1);
    assert_int_equal(totp_alg_parse("SHA-256", &alg), SAM_OK);
    assert_int_equal(alg, TOTP_SHA256);
    assert_int_equal(totp_alg_parse("Sha512", &alg), SAM_OK);
    assert_int_equal(alg, TOTP_SHA512);
    assert_int_equal(totp_alg_parse("md5", &alg), SAM_EINVAL);
    assert_int_equal(totp_alg_parse("", &alg), SAM_EINVAL);
    assert_string_equal(totp_alg_name(TOTP_SHA256), "SHA256");
}

/* RFC 4648 section 10, and the spellings the decoder takes besides. */
static void base32_rfc4648(void **state)
{
    static const struct {
        const char *plain, *enc, *padded;
    } v[] = {
        {"", "", ""},
        {"f", "MY", "MY======"},
        {"fo", "MZXQ", "MZXQ===="},
        {"foo", "MZXW6", "MZXW6==="},
        {"foob", "MZXW6YQ", "MZXW6YQ="},
        {"fooba", "MZXW6YTB", "MZXW6YTB"},
        {"foobar", "MZXW6YTBOI", "MZXW6YTBOI======"},
    };
    char out[64], lower[64], spaced[128];
    unsigned char bin[64];
    size_t n;
    (void)state;
    for(size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t len = strlen(v[i].plain);
        assert_int_equal(totp_base32_encode((const unsigned char *)v[i].plain, len, out, sizeof(out)), SAM_OK);
        assert_string_equal(out, v[i].enc);
        assert_int_equal(strlen(out), TOTP_B32_LEN(len));
        /* The exact size (characters and the NUL) is enough; one less is not. */
        assert_int_equal(totp_base32_encode((const unsigned char *)v[i].plain, len, out, TOTP_B32_LEN(len) + 1), SAM_OK);
        assert_int_equal(totp_base32_encode((const unsigned char *)v[i].plain, len, out, TOTP_B32_LEN(len)), SAM_ETOOBIG);
        assert_string_equal(out, "");

        assert_int_equal(totp_base32_decode(v[i].enc, strlen(v[i].enc), bin, sizeof(bin), &n), SAM_OK);
        assert_int_equal(n, len);
        assert_memory_equal(bin, v[i].plain, len);
        assert_int_equal(totp_base32_decode(v[i].padded, strlen(v[i].padded), bin, sizeof(bin), &n), SAM_OK);
        assert_int_equal(n, len);
        assert_memory_equal(bin, v[i].plain, len);
        /* lower case, and spaces anywhere (also among the padding) */
        size_t k = 0, s = 0;
        for(const char *p = v[i].padded; *p; p++) {
            lower[k++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
            spaced[s++] = ' ';
            spaced[s++] = *p;
        }
        lower[k] = '\0';
        spaced[s++] = ' ';
        spaced[s] = '\0';
        assert_int_equal(totp_base32_decode(lower, k, bin, sizeof(bin), &n), SAM_OK);
        assert_int_equal(n, len);
        assert_memory_equal(bin, v[i].plain, len);
        assert_int_equal(totp_base32_decode(spaced, s, bin, sizeof(bin), &n), SAM_OK);
        assert_int_equal(n, len);
        assert_memory_equal(bin, v[i].plain, len);
        /* The output bound: exactly len fits, len - 1 does not. */
        if(len) {
            assert_int_equal(totp_base32_decode(v[i].enc, strlen(v[i].enc), bin, len, &n), SAM_OK);
            assert_int_equal(totp_base32_decode(v[i].enc, strlen(v[i].enc), bin, len - 1, &n), SAM_ETOOBIG);
            assert_int_equal(n, 0);
        }
    }
    /* Every byte value, both ways: the arithmetic alphabet is the RFC's. */
    unsigned char all[256];
    char enc[TOTP_B32_LEN(256) + 1];
    for(int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    assert_int_equal(totp_base32_encode(all, sizeof(all), enc, sizeof(enc)), SAM_OK);
    for(size_t i = 0; enc[i]; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", enc[i]));
    unsigned char back[256];
    assert_int_equal(totp_base32_decode(enc, strlen(enc), back, sizeof(back), &n), SAM_OK);
    assert_int_equal(n, 256);
    assert_memory_equal(back, all, 256);
    assert_int_equal(totp_base32_encode(K20, 20, enc, sizeof(enc)), SAM_OK);
    assert_string_equal(enc, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

static void base32_malformed(void **state)
{
    static const char *bad[] = {
        "M",          /* 1, 3 or 6 characters past a group: no encoder writes these */
        "MZX",        "MZXW6Y",      "MZXW6YTBO",   "A",         "AAA",       "AAAAAA",
        "AAAAAAAAA",  "AAAAAAAAAAA", "AAAAAAAAAAAAAA",
        "MZ",         /* unused bits not zero */
        "MZXR",       "MZXW7",       "MZXW6YR",     "MZXW6YTBOJ",
        "MY1",        "MY0",         "MY8",         "MY9",         "MY-A",      "MY\tA",
        "MY\nA",      "MY_A",        "MY+A",        "MY/A",        "MY.A",
        "MY=",        /* wrong amount of padding */
        "MY=======",  "MZXQ===",     "MZXW6YTB========",           "========",  "=",
        "=MY",        "MY=A",        "MY======A",   "MY==== ==A",
        "M\xc3\x86",  "\xff",        ("MZXW6YT\xc2\xa0" "B"), /* no-break space */
    };
    unsigned char bin[64];
    size_t n;
    (void)state;
    for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 99;
        memset(bin, 0xAA, sizeof(bin));
        if(totp_base32_decode(bad[i], strlen(bad[i]), bin, sizeof(bin), &n) != SAM_EINVAL)
            fail_msg("\"%s\" was not refused", bad[i]);
        assert_int_equal(n, 0);
        for(size_t k = 0; k < sizeof(bin); k++)
            assert_int_equal(bin[k], 0); /* wiped on failure */
    }
    /* A NUL inside the given length is a character like any other: refused. */
    assert_int_equal(totp_base32_decode("MY\0A", 4, bin, sizeof(bin), &n), SAM_EINVAL);
    /* The length given is the text: what lies past it is not read. */
    assert_int_equal(totp_base32_decode("MYxyz", 2, bin, sizeof(bin), &n), SAM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(bin[0], 'f');
}

static int64_t step_of(int64_t t)
{
    return t / 30;
}

static void code_text(int64_t step, char out[TOTP_CODE_SIZE])
{
    uint32_t c;
    assert_int_equal(totp_hotp(K20, 20, TOTP_SHA1, 6, (uint64_t)step, &c), SAM_OK);
    totp_code_format(c, 6, out);
}

/* The window is the step before, at and after now; nothing further. */
static void verify_window(void **state)
{
    const int64_t s = 55555555;
    char c[TOTP_CODE_SIZE];
    int64_t m;
    (void)state;
    /* At the first and the last second of step s. */
    for(int64_t t = s * 30; t <= s * 30 + 29; t += 29) {
        for(int64_t d = -3; d <= 3; d++) {
            int rc;
            code_text(s + d, c);
            rc = totp_verify(K20, 20, NULL, c, t, -1, &m);
            if(d >= -1 && d <= 1) {
                assert_int_equal(rc, SAM_OK);
                assert_int_equal(m, s + d);
            } else {
                assert_int_equal(rc, SAM_EAUTH);
                assert_int_equal(m, -1);
            }
        }
    }
    /* One second on, step s + 2 comes into the window and s - 1 leaves it. */
    code_text(s + 2, c);
    assert_int_equal(totp_verify(K20, 20, NULL, c, s * 30 + 29, -1, &m), SAM_EAUTH);
    assert_int_equal(totp_verify(K20, 20, NULL, c, s * 30 + 30, -1, &m), SAM_OK);
    assert_int_equal(m, s + 2);
    code_text(s - 1, c);
    assert_int_equal(totp_verify(K20, 20, NULL, c, s * 30 + 29, -1, &m), SAM_OK);
    assert_int_equal(totp_verify(K20, 20, NULL, c, s * 30 + 30, -1, &m), SAM_EAUTH);
    /* Near the epoch there is no step -1. */
    code_text(0, c);
    assert_int_equal(totp_verify(K20, 20, NULL, c, 0, -1, &m), SAM_OK);
    assert_int_equal(m, 0);
    code_text(1, c);
    assert_int_equal(totp_verify(K20, 20, NULL, c, 0, -1, &m), SAM_OK);
    assert_int_equal(m, 1);
    assert_int_equal(totp_verify(K20, 20, NULL, c, -1, -1, &m), SAM_EINVAL);
    /* Other params: 8 digits of SHA-256 with a 60 s step. */
    {
        struct totp_params p = {TOTP_SHA256, 8, 60};
        uint32_t v;
        char t8[TOTP_CODE_SIZE];
        assert_int_equal(totp_hotp((const unsigned char *)SEED32, 32, TOTP_SHA256, 8, 1000, &v), SAM_OK);
        totp_code_format(v, 8, t8);
        assert_int_equal(totp_verify((const unsigned char *)SEED32, 32, &p, t8, 1001 * 60, -1, &m), SAM_OK);
        assert_int_equal(m, 1000);
        assert_int_equal(totp_verify((const unsigned char *)SEED32, 32, &p, t8, 1002 * 60, -1, &m), SAM_EAUTH);
        t8[6] = '\0'; /* 6 digits where p says 8 */
        assert_int_equal(totp_verify((const unsigned char *)SEED32, 32, &p, t8, 1000 * 60, -1, &m), SAM_EINVAL);
    }
}

/* A step at or before the last one used never matches again. */
static void verify_replay(void **state)
{
    const int64_t t = 1700000015;
    const int64_t s = step_of(t);
    char now[TOTP_CODE_SIZE], prev[TOTP_CODE_SIZE], next[TOTP_CODE_SIZE];
    int64_t m, last = -1;
    (void)state;
    code_text(s, now);
    code_text(s - 1, prev);
    code_text(s + 1, next);
    assert_int_equal(totp_verify(K20, 20, NULL, now, t, last, &m), SAM_OK);
    assert_int_equal(m, s);
    last = m;
    assert_int_equal(totp_verify(K20, 20, NULL, now, t, last, &m), SAM_EAUTH); /* the same code again */
    assert_int_equal(m, -1);
    assert_non_null(strstr(sam_errmsg(SAM_EAUTH), "used already"));
    assert_int_equal(totp_verify(K20, 20, NULL, now, t + 20, last, &m), SAM_EAUTH); /* later, in the window */
    assert_int_equal(totp_verify(K20, 20, NULL, prev, t, last, &m), SAM_EAUTH);     /* an older one */
    assert_int_equal(totp_verify(K20, 20, NULL, next, t, last, &m), SAM_OK);        /* a newer one */
    assert_int_equal(m, s + 1);
    last = m;
    assert_int_equal(totp_verify(K20, 20, NULL, next, t + 30, last, &m), SAM_EAUTH);
    /* A wrong code says so, not "used". */
    assert_int_equal(totp_verify(K20, 20, NULL, "000000", t, -1, &m), SAM_EAUTH);
    assert_null(strstr(sam_errmsg(SAM_EAUTH), "used already"));
}

static void verify_typed_forms(void **state)
{
    const int64_t t = 1700000015;
    char c[TOTP_CODE_SIZE], text[64];
    int64_t m;
    (void)state;
    code_text(step_of(t), c);
    /* Accepted: spaces anywhere. */
    const char *fmts[] = {"%.6s", "%.3s %.3s", " %.2s %.2s %.2s ", "%.3s    %.3s"};
    for(size_t i = 0; i < 4; i++) {
        if(i == 0)
            snprintf(text, sizeof(text), fmts[i], c);
        else if(i == 2)
            snprintf(text, sizeof(text), fmts[i], c, c + 2, c + 4);
        else
            snprintf(text, sizeof(text), fmts[i], c, c + 3);
        assert_int_equal(totp_verify(K20, 20, NULL, text, t, -1, &m), SAM_OK);
    }
    /* Refused as malformed, whatever the digits. */
    const char *bad[] = {"", " ", "12345", "1234567", "12345a", "123-456", "123\t456", "123456\n",
                         "+123456", "-12345", ("12345\xc2\xa0" "6"), "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc\x95\xef\xbc\x96",
                         "123456.", "0x1234"};
    for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if(totp_verify(K20, 20, NULL, bad[i], t, -1, &m) != SAM_EINVAL)
            fail_msg("code \"%s\" was not refused as malformed", bad[i]);
        assert_int_equal(m, -1);
    }
    /* The right digits in a text longer than TOTP_CODE_INPUT_MAX: refused. */
    memset(text, ' ', sizeof(text));
    memcpy(text + 30, c, 6);
    text[36] = '\0';
    assert_int_equal(totp_verify(K20, 20, NULL, text, t, -1, &m), SAM_EINVAL);
    memcpy(text, c, 6); /* the digits first, and the spaces past the limit */
    memset(text + 6, ' ', 30);
    assert_int_equal(totp_verify(K20, 20, NULL, text, t, -1, &m), SAM_EINVAL);
    memset(text, ' ', 30);
    memcpy(text + 30, c, 6);
    memmove(text, text + 4, 33); /* 32 bytes: accepted */
    assert_int_equal(strlen(text), 32);
    assert_int_equal(totp_verify(K20, 20, NULL, text, t, -1, &m), SAM_OK);
    /* Leading zeros count as digits. */
    assert_int_equal(totp_verify(K20, 20, NULL, "0", t, -1, &m), SAM_EINVAL);
}

static void secret_new(void **state)
{
    unsigned char a[TOTP_SECRET_BYTES], b[TOTP_SECRET_BYTES], back[TOTP_SECRET_BYTES];
    char ab32[TOTP_SECRET_B32_SIZE];
    size_t n;
    (void)state;
    assert_int_equal(totp_secret_new(a, ab32), SAM_OK);
    assert_int_equal(totp_secret_new(b, NULL), SAM_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(strlen(ab32), 32);
    assert_int_equal(totp_base32_decode(ab32, strlen(ab32), back, sizeof(back), &n), SAM_OK);
    assert_int_equal(n, TOTP_SECRET_BYTES);
    assert_memory_equal(back, a, sizeof(a));
}

static void uri_encoding(void **state)
{
    struct buf b;
    struct totp_params p = {TOTP_SHA256, 8, 60};
    char big[TOTP_LABEL_MAX + 2];
    (void)state;
    buf_init(&b, 4096);
    assert_int_equal(totp_uri("Acme Social: \xc3\x86r\xc3\xb8", "bj\xc3\xb8rn \xc3\xa5@example.com", K20, 20, NULL, &b),
                     SAM_OK);
    assert_string_equal(buf_str(&b),
                        "otpauth://totp/Acme%20Social%3A%20%C3%86r%C3%B8:bj%C3%B8rn%20%C3%A5%40example.com"
                        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Social%3A%20%C3%86r%C3%B8"
                        "&algorithm=SHA1&digits=6&period=30");
    buf_reset(&b);
    assert_int_equal(totp_uri("a&b=c?d/e#f", "x+y%z~_.-", K20, 10, &p, &b), SAM_OK);
    assert_string_equal(buf_str(&b), "otpauth://totp/a%26b%3Dc%3Fd%2Fe%23f:x%2By%25z~_.-?secret=GEZDGNBVGY3TQOJQ"
                                     "&issuer=a%26b%3Dc%3Fd%2Fe%23f&algorithm=SHA256&digits=8&period=60");
    /* Refused: empty, control characters, invalid UTF-8, too long; out stays as it was. */
    buf_reset(&b);
    buf_puts(&b, "kept");
    assert_int_equal(totp_uri("", "a", K20, 20, NULL, &b), SAM_EINVAL);
    assert_int_equal(totp_uri("a", "", K20, 20, NULL, &b), SAM_EINVAL);
    assert_int_equal(totp_uri(NULL, "a", K20, 20, NULL, &b), SAM_EINVAL);
    assert_int_equal(totp_uri("a\nb", "a", K20, 20, NULL, &b), SAM_EINVAL);
    assert_int_equal(totp_uri("a", "b\x7f", K20, 20, NULL, &b), SAM_EINVAL);
    assert_int_equal(totp_uri("a", "\xc3", K20, 20, NULL, &b), SAM_EINVAL);
    assert_int_equal(totp_uri("a", "b", K20, 0, NULL, &b), SAM_EINVAL);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(totp_uri(big, "a", K20, 20, NULL, &b), SAM_EINVAL);
    big[TOTP_LABEL_MAX] = '\0';
    assert_int_equal(totp_uri(big, "a", K20, 20, NULL, &b), SAM_OK);
    buf_cleanup(&b);
    buf_init(&b, 40);
    buf_puts(&b, "kept");
    assert_int_equal(totp_uri("Acme", "bob", K20, 20, NULL, &b), SAM_ETOOBIG);
    assert_string_equal(buf_str(&b), "kept");
    buf_cleanup(&b);
    /* The longest URI there can be fits TOTP_URI_MAX (every byte of both names escaped). */
    {
        char wide[TOTP_LABEL_MAX + 1];
        unsigned char key[TOTP_KEY_MAX] = {0};
        struct totp_params widest = {TOTP_SHA512, 8, TOTP_STEP_MAX};
        for(int i = 0; i < TOTP_LABEL_MAX; i += 2)
            memcpy(wide + i, "\xc3\xa6", 2);
        wide[TOTP_LABEL_MAX] = '\0';
        buf_init(&b, TOTP_URI_MAX);
        assert_int_equal(totp_uri(wide, wide, key, sizeof(key), &widest, &b), SAM_OK);
        assert_true(b.len <= TOTP_URI_MAX);
        buf_cleanup(&b);
    }
}

/* Reads the SVG's one path back into a matrix of side n and checks every module against
 * libqrencode's; the picture is a <rect> and a <path>, nothing else. */
static void check_svg(const char *svg, const char *text, int px)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    int n, w, h, vn, used;
    char head[256];
    const char *d, *p;
    unsigned char *m;

    assert_non_null(qr);
    n = qr->width + 8;
    assert_true(strncmp(svg, "<svg ", 5) == 0);
    assert_non_null(strstr(svg, "xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(svg, "shape-rendering=\"crispEdges\""));
    snprintf(head, sizeof(head), "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\"", n, n, n * px, n * px);
    assert_non_null(strstr(svg, head));
    snprintf(head, sizeof(head), "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>", n, n);
    assert_non_null(strstr(svg, head));
    p = strstr(svg, "<path");
    assert_non_null(p);
    assert_null(strstr(p + 1, "<path")); /* one path */
    assert_int_equal(strlen(svg) - (size_t)(strstr(svg, "</svg>\n") - svg), 7); /* it ends there */
    for(const char *q = svg; *q; q++)
        assert_true(*q == '\n' || (*q >= 0x20 && *q < 0x7f)); /* ASCII only */
    /* Elements: svg, rect, path; no script, style, link or entity. */
    int tags = 0;
    for(const char *q = strchr(svg, '<'); q; q = strchr(q + 1, '<'))
        tags++;
    assert_int_equal(tags, 4); /* <svg <rect <path </svg> */
    assert_null(strstr(svg, "href"));
    assert_null(strstr(svg, "&"));
    assert_null(strstr(svg, "script"));
    assert_null(strstr(svg, "style="));
    assert_null(strstr(svg, "url("));

    d = strstr(svg, " d=\"");
    assert_non_null(d);
    d += 4;
    m = calloc((size_t)n * (size_t)n, 1);
    assert_non_null(m);
    while(*d == 'M') {
        int x, y, run, back;
        assert_int_equal(sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &back, &used), 4);
        assert_int_equal(run, back);
        assert_true(run > 0 && x >= 4 && y >= 4 && x + run <= n - 4 && y < n - 4);
        for(int i = 0; i < run; i++) {
            assert_int_equal(m[y * n + x + i], 0); /* no module drawn twice */
            m[y * n + x + i] = 1;
        }
        d += used;
    }
    assert_int_equal(*d, '"');
    for(h = 0; h < n; h++)
        for(w = 0; w < n; w++) {
            int want = 0;
            if(h >= 4 && h < n - 4 && w >= 4 && w < n - 4)
                want = qr->data[(h - 4) * qr->width + (w - 4)] & 1;
            assert_int_equal(m[h * n + w], want);
        }
    vn = 0;
    for(int i = 0; i < n * n; i++)
        vn += m[i];
    assert_true(vn > 0);
    free(m);
    QRcode_free(qr);
}

static void qr_svg(void **state)
{
    const char *uri = "otpauth://totp/Acme%20Social%3A%20%C3%86r%C3%B8:bj%C3%B8rn%40example.com"
                      "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Social%3A%20%C3%86r%C3%B8"
                      "&algorithm=SHA1&digits=6&period=30";
    struct buf b;
    char *big;
    (void)state;
    buf_init(&b, TOTP_QR_SVG_MAX);
    assert_int_equal(totp_qr_svg(uri, 0, &b), SAM_OK);
    check_svg(buf_str(&b), uri, 4);
    buf_reset(&b);
    assert_int_equal(totp_qr_svg("x", 10, &b), SAM_OK);
    check_svg(buf_str(&b), "x", 10);
    /* UTF-8 text goes in as bytes (the URI itself is ASCII, but the function does not care). */
    buf_reset(&b);
    assert_int_equal(totp_qr_svg("bl\xc3\xa5" "b\xc3\xa6r <&>\"", 1, &b), SAM_OK);
    check_svg(buf_str(&b), "bl\xc3\xa5" "b\xc3\xa6r <&>\"", 1);
    /* Refusals leave out as it was. */
    buf_reset(&b);
    buf_puts(&b, "kept");
    assert_int_equal(totp_qr_svg("", 4, &b), SAM_EINVAL);
    assert_int_equal(totp_qr_svg(NULL, 4, &b), SAM_EINVAL);
    assert_int_equal(totp_qr_svg("x", -1, &b), SAM_EINVAL);
    assert_int_equal(totp_qr_svg("x", 33, &b), SAM_EINVAL);
    big = malloc(TOTP_QR_TEXT_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', TOTP_QR_TEXT_MAX + 1);
    big[TOTP_QR_TEXT_MAX + 1] = '\0';
    assert_int_equal(totp_qr_svg(big, 4, &b), SAM_ETOOBIG);
    assert_string_equal(buf_str(&b), "kept");
    buf_cleanup(&b);
    buf_init(&b, 300);
    buf_puts(&b, "kept");
    assert_int_equal(totp_qr_svg(uri, 4, &b), SAM_ETOOBIG); /* the buffer's limit */
    assert_string_equal(buf_str(&b), "kept");
    buf_cleanup(&b);
    /* The largest text: its SVG fits TOTP_QR_SVG_MAX, even with mixed bytes that make many runs. */
    for(int i = 0; i < TOTP_QR_TEXT_MAX; i++)
        big[i] = (char)(33 + (i * 7919) % 94);
    big[TOTP_QR_TEXT_MAX] = '\0';
    buf_init(&b, TOTP_QR_SVG_MAX);
    assert_int_equal(totp_qr_svg(big, 0, &b), SAM_OK);
    check_svg(buf_str(&b), big, 4);
    print_message("largest QR SVG: %zu bytes\n", b.len);
    buf_cleanup(&b);
    free(big);
}

static int in_alphabet(char c)
{
    return c && strchr("23456789abcdefghjkmnpqrstuvwxyz", c) != NULL;
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void recovery_codes(void **state)
{
    char codes[TOTP_RECOVERY_MAX][TOTP_RECOVERY_SIZE];
    int seen[128] = {0};
    (void)state;
    assert_int_equal(totp_recovery_new(codes, 0), SAM_EINVAL);
    assert_int_equal(totp_recovery_new(codes, TOTP_RECOVERY_MAX + 1), SAM_EINVAL);
    /* 50 sets of 100: each code well-formed, and all 5000 distinct. */
    char (*all)[TOTP_RECOVERY_SIZE] = calloc(5000, TOTP_RECOVERY_SIZE);
    assert_non_null(all);
    for(int set = 0; set < 50; set++) {
        assert_int_equal(totp_recovery_new(codes, TOTP_RECOVERY_MAX), SAM_OK);
        memcpy(all[set * 100], codes, sizeof(codes));
    }
    for(int i = 0; i < 5000; i++) {
        const char *c = all[i];
        assert_int_equal(strlen(c), TOTP_RECOVERY_SIZE - 1);
        for(int k = 0; k < TOTP_RECOVERY_SIZE - 1; k++) {
            if(k == 6) {
                assert_int_equal(c[k], '-');
            } else {
                assert_true(in_alphabet(c[k]));
                seen[(unsigned char)c[k]]++;
            }
        }
    }
    qsort(all, 5000, TOTP_RECOVERY_SIZE, cmp_code);
    for(int i = 1; i < 5000; i++)
        assert_string_not_equal(all[i - 1], all[i]);
    free(all);
    /* All 31 characters turn up, none of 0 o 1 l i. */
    for(const char *a = "23456789abcdefghjkmnpqrstuvwxyz"; *a; a++)
        assert_true(seen[(unsigned char)*a] > 0);
    assert_int_equal(seen['0'] + seen['o'] + seen['1'] + seen['l'] + seen['i'], 0);
    assert_int_equal(totp_recovery_new(codes, TOTP_RECOVERY_COUNT), SAM_OK);
}

static void recovery_hash(void **state)
{
    unsigned char key[TOTP_RECOVERY_KEY_BYTES], key2[TOTP_RECOVERY_KEY_BYTES];
    unsigned char h[TOTP_RECOVERY_HASH_BYTES], h2[TOTP_RECOVERY_HASH_BYTES], want[TOTP_RECOVERY_HASH_BYTES];
    char norm[TOTP_RECOVERY_CHARS + 1];
    (void)state;
    for(int i = 0; i < TOTP_RECOVERY_KEY_BYTES; i++) {
        key[i] = (unsigned char)i;
        key2[i] = (unsigned char)(i + 1);
    }
    /* BLAKE2b-256 of the normal form, keyed. */
    assert_int_equal(crypto_generichash(want, sizeof(want), (const unsigned char *)"k7pq3mzxw9ab", 12, key, sizeof(key)), 0);
    const char *same[] = {"k7pq3m-zxw9ab", "K7PQ3M-ZXW9AB", "k7pq3mzxw9ab", " k7pq 3mzx w9ab ", "k7pq3m--zxw9ab",
                          "K7pQ3m zXw9Ab"};
    for(size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        assert_int_equal(totp_recovery_normalise(same[i], norm), SAM_OK);
        assert_string_equal(norm, "k7pq3mzxw9ab");
        assert_int_equal(totp_recovery_hash(same[i], key, h), SAM_OK);
        assert_memory_equal(h, want, sizeof(h));
        assert_true(totp_equal(h, want, sizeof(h)));
    }
    assert_int_equal(totp_recovery_hash("k7pq3m-zxw9ab", key2, h2), SAM_OK); /* another key */
    assert_false(totp_equal(h, h2, sizeof(h)));
    assert_int_equal(totp_recovery_hash("k7pq3m-zxw9ac", key, h2), SAM_OK); /* another code */
    assert_false(totp_equal(h, h2, sizeof(h)));
    const char *bad[] = {"", "k7pq3m-zxw9a", "k7pq3m-zxw9abc", "k7pq3m-zxw9a0", "k7pq3m-zxw9ao", "k7pq3m-zxw9a1",
                         "k7pq3m-zxw9al", "k7pq3m-zxw9ai", "k7pq3m_zxw9ab", "k7pq3m\tzxw9ab", "k7pq3m-zxw9\xc3\xa6",
                         "                                                                 k7pq3mzxw9ab"};
    for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(h, 0xAA, sizeof(h));
        if(totp_recovery_hash(bad[i], key, h) != SAM_EINVAL)
            fail_msg("recovery code \"%s\" was not refused", bad[i]);
        for(size_t k = 0; k < sizeof(h); k++)
            assert_int_equal(h[k], 0);
        assert_int_equal(totp_recovery_normalise(bad[i], norm), SAM_EINVAL);
        assert_string_equal(norm, "");
    }
    /* A fresh code hashes like its typed variants. */
    char codes[1][TOTP_RECOVERY_SIZE], upper[TOTP_RECOVERY_SIZE];
    assert_int_equal(totp_recovery_new(codes, 1), SAM_OK);
    for(int i = 0; i < TOTP_RECOVERY_SIZE; i++)
        upper[i] = (codes[0][i] >= 'a' && codes[0][i] <= 'z') ? (char)(codes[0][i] - 32) : codes[0][i];
    assert_int_equal(totp_recovery_hash(codes[0], key, h), SAM_OK);
    assert_int_equal(totp_recovery_hash(upper, key, h2), SAM_OK);
    assert_true(totp_equal(h, h2, sizeof(h)));
    assert_true(totp_equal("", "", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hotp_rfc4226),       cmocka_unit_test(totp_rfc6238),
        cmocka_unit_test(params_and_keys_refused),
        cmocka_unit_test(base32_rfc4648),     cmocka_unit_test(base32_malformed),
        cmocka_unit_test(verify_window),      cmocka_unit_test(verify_replay),
        cmocka_unit_test(verify_typed_forms), cmocka_unit_test(secret_new),
        cmocka_unit_test(uri_encoding),       cmocka_unit_test(qr_svg),
        cmocka_unit_test(recovery_codes),     cmocka_unit_test(recovery_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
