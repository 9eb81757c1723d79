/*
 * totp.c: one-time codes, their secrets, URI and QR code, recovery codes (totp.h).
 *
 * HMAC is OpenSSL's (EVP_Q_mac, the OpenSSL 3 interface): libsodium has HMAC-SHA-256 and
 * -512 but no SHA-1, and authenticator apps use HMAC-SHA-1. Random bytes, the keyed
 * BLAKE2b of recovery codes and constant-time comparison are libsodium's; the QR matrix
 * is libqrencode's, drawn here as SVG.
 *
 * Secrets are compared and base32-encoded without branches or table look-ups on their
 * bytes; checks of the input's shape (lengths, characters) do branch, as the shape is not
 * secret.
 */
#include "core/totp.h"
#include "util/err.h"
#include "util/url.h"
#include "util/utf8.h"

#include <assert.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The recovery code alphabet: digits and lower-case letters without 0 o 1 l i. */
static const char recovery_alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz";
#define RECOVERY_ALPHABET_LEN (sizeof(recovery_alphabet) - 1)
#define RECOVERY_INPUT_MAX 64
#define QR_QUIET 4

/* ---- base32 ---- */

/* The character of a 5-bit value v: 'A' + v for 0-25, '2' + v - 26 for 26-31, by
 * arithmetic on a mask rather than a table (no look-up indexed by a secret). */
static char b32_char(unsigned v)
{
    int x = (int)v;
    return (char)(x + 'A' + (((25 - x) >> 8) & ('2' - 'A' - 26)));
}

/* The value of a base32 character (either case), or -1. Branch-free like b32_char. */
static int b32_value(unsigned char ch)
{
    int c = ch, up = ch & 0xDF, ret = -1;
    ret += (((0x40 - up) & (up - 0x5B)) >> 8) & (up - 0x40);  /* A-Z, a-z: 1-26 */
    ret += (((0x31 - c) & (c - 0x38)) >> 8) & (c - 0x31 + 26); /* 2-7: 27-32 */
    return ret;
}

int totp_base32_encode(const unsigned char *in, size_t n, char *out, size_t outsize)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;

    if(n > (SIZE_MAX - 5) / 8 || outsize < TOTP_B32_LEN(n) + 1) {
        if(outsize)
            out[0] = '\0';
        return sam_fail(SAM_ETOOBIG, "no room for the base32 text");
    }
    for(size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while(bits >= 5) {
            bits -= 5;
            out[o++] = b32_char((acc >> bits) & 31);
        }
    }
    if(bits)
        out[o++] = b32_char((acc << (5 - bits)) & 31);
    out[o] = '\0';
    sodium_memzero(&acc, sizeof(acc));
    return SAM_OK;
}

int totp_base32_decode(const char *in, size_t len, unsigned char *out, size_t outsize, size_t *outlen)
{
    uint32_t acc = 0;
    int bits = 0, rc = SAM_OK;
    size_t o = 0, chars = 0, pads = 0;

    *outlen = 0;
    for(size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        int v;
        if(c == ' ')
            continue;
        if(c == '=') {
            pads++;
            continue;
        }
        v = b32_value(c);
        if(v < 0 || pads) {
            rc = sam_fail(SAM_EINVAL, pads ? "base32 text goes on after its '=' padding"
                                           : "base32 text may hold only the letters A-Z, the digits 2-7 "
                                             "and spaces");
            goto out;
        }
        chars++;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if(bits >= 8) {
            bits -= 8;
            if(o == outsize) {
                rc = sam_fail(SAM_ETOOBIG, "the base32 text is longer than %zu bytes", outsize);
                goto out;
            }
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* 5 bits a character: 1, 3 or 6 characters past a group of 8 leave 5 or more bits
     * over, which no encoder writes; the bits over must be zero. */
    if(bits >= 5 || (acc & ((1u << bits) - 1))) {
        rc = sam_fail(SAM_EINVAL, "base32 text of this length or ending is not valid");
        goto out;
    }
    if(pads && (chars % 8 == 0 || chars % 8 + pads != 8)) {
        rc = sam_fail(SAM_EINVAL, "base32 text has the wrong amount of '=' padding");
        goto out;
    }
    *outlen = o;
out:
    if(rc && outsize)
        sodium_memzero(out, outsize);
    sodium_memzero(&acc, sizeof(acc));
    return rc;
}

/* ---- codes ---- */

const char *totp_alg_name(enum totp_alg alg)
{
    switch(alg) {
    case TOTP_SHA256: return "SHA256";
    case TOTP_SHA512: return "SHA512";
    default: return "SHA1";
    }
}

int totp_alg_parse(const char *name, enum totp_alg *alg)
{
    if(!strcasecmp(name, "sha1") || !strcasecmp(name, "sha-1"))
        *alg = TOTP_SHA1;
    else if(!strcasecmp(name, "sha256") || !strcasecmp(name, "sha-256"))
        *alg = TOTP_SHA256;
    else if(!strcasecmp(name, "sha512") || !strcasecmp(name, "sha-512"))
        *alg = TOTP_SHA512;
    else
        return sam_fail(SAM_EINVAL, "the algorithm is SHA1, SHA256 or SHA512");
    return SAM_OK;
}

/* libcrypto's name of the digest, or NULL for an unknown alg. */
static const char *digest_name(enum totp_alg alg)
{
    switch(alg) {
    case TOTP_SHA1: return "SHA1";
    case TOTP_SHA256: return "SHA256";
    case TOTP_SHA512: return "SHA512";
    }
    return NULL;
}

static int check_key(const unsigned char *key, size_t keylen)
{
    if(!key || keylen < 1 || keylen > TOTP_KEY_MAX)
        return sam_fail(SAM_EINVAL, "a one-time code key is 1 to %d bytes", TOTP_KEY_MAX);
    return SAM_OK;
}

/* p with its zeros replaced by the defaults, into *q; SAM_EINVAL when out of range. */
static int params_resolve(const struct totp_params *p, struct totp_params *q)
{
    static const struct totp_params zero;
    if(!p)
        p = &zero;
    q->alg = p->alg;
    q->digits = p->digits ? p->digits : TOTP_DIGITS_DEFAULT;
    q->step = p->step ? p->step : TOTP_STEP_DEFAULT;
    if(!digest_name(q->alg))
        return sam_fail(SAM_EINVAL, "the algorithm is SHA1, SHA256 or SHA512");
    if(q->digits < TOTP_DIGITS_MIN || q->digits > TOTP_DIGITS_MAX)
        return sam_fail(SAM_EINVAL, "a code is %d to %d digits", TOTP_DIGITS_MIN, TOTP_DIGITS_MAX);
    if(q->step < 1 || q->step > TOTP_STEP_MAX)
        return sam_fail(SAM_EINVAL, "the time step is 1 to %d seconds", TOTP_STEP_MAX);
    return SAM_OK;
}

int totp_hotp(const unsigned char *key, size_t keylen, enum totp_alg alg, int digits,
              uint64_t counter, uint32_t *code)
{
    static const uint32_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    const char *md = digest_name(alg);
    uint32_t bin;
    unsigned off;
    int rc;

    *code = 0;
    rc = check_key(key, keylen);
    if(rc)
        return rc;
    if(!md)
        return sam_fail(SAM_EINVAL, "the algorithm is SHA1, SHA256 or SHA512");
    if(digits < TOTP_DIGITS_MIN || digits > TOTP_DIGITS_MAX)
        return sam_fail(SAM_EINVAL, "a code is %d to %d digits", TOTP_DIGITS_MIN, TOTP_DIGITS_MAX);
    for(int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    if(!EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key, keylen, msg, sizeof(msg), mac, sizeof(mac), &maclen) ||
       maclen < 20) {
        ERR_clear_error();
        sodium_memzero(mac, sizeof(mac));
        return sam_fail(SAM_EINTERNAL, "the HMAC of a one-time code could not be computed");
    }
    /* Dynamic truncation (RFC 4226 section 5.3). */
    off = mac[maclen - 1] & 0x0f;
    bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
          ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    *code = bin % pow10[digits];
    sodium_memzero(mac, sizeof(mac));
    sodium_memzero(&bin, sizeof(bin));
    return SAM_OK;
}

int totp_code(const unsigned char *key, size_t keylen, const struct totp_params *p, int64_t now,
              uint32_t *code, int64_t *step)
{
    struct totp_params q;
    int rc;

    *code = 0;
    if(step)
        *step = -1;
    rc = params_resolve(p, &q);
    if(rc)
        return rc;
    if(now < 0)
        return sam_fail(SAM_EINVAL, "the time is before 1970");
    rc = totp_hotp(key, keylen, q.alg, q.digits, (uint64_t)(now / q.step), code);
    if(!rc && step)
        *step = now / q.step;
    return rc;
}

void totp_code_format(uint32_t code, int digits, char out[TOTP_CODE_SIZE])
{
    if(digits < 1 || digits > TOTP_DIGITS_MAX)
        digits = TOTP_DIGITS_MAX;
    out[digits] = '\0';
    for(int i = digits - 1; i >= 0; i--) {
        out[i] = (char)('0' + code % 10);
        code /= 10;
    }
}

/* Reads typed code text: digits with spaces anywhere, exactly `digits` of them. */
static int parse_code(const char *text, int digits, uint32_t *value)
{
    size_t len = strnlen(text, TOTP_CODE_INPUT_MAX + 1);
    int n = 0;
    uint32_t v = 0;

    if(len > TOTP_CODE_INPUT_MAX)
        return sam_fail(SAM_EINVAL, "a code is %d digits", digits);
    for(size_t i = 0; i < len; i++) {
        if(text[i] == ' ')
            continue;
        if(text[i] < '0' || text[i] > '9' || ++n > digits)
            return sam_fail(SAM_EINVAL, "a code is %d digits", digits);
        v = v * 10 + (uint32_t)(text[i] - '0');
    }
    if(n != digits)
        return sam_fail(SAM_EINVAL, "a code is %d digits", digits);
    *value = v;
    return SAM_OK;
}

int totp_verify(const unsigned char *key, size_t keylen, const struct totp_params *p,
                const char *code, int64_t now, int64_t last_step, int64_t *matched_step)
{
    struct totp_params q;
    uint32_t given = 0, cand = 0;
    int64_t now_step, found = 0, used = 0, match = -1;
    int rc;

    *matched_step = -1;
    rc = params_resolve(p, &q);
    if(rc)
        return rc;
    rc = check_key(key, keylen);
    if(rc)
        return rc;
    if(now < 0)
        return sam_fail(SAM_EINVAL, "the time is before 1970");
    rc = parse_code(code, q.digits, &given);
    if(rc)
        return rc;
    now_step = now / q.step;
    /* Every step of the window is computed and compared, whatever matched before, and the
     * outcome is gathered with masks: the time taken does not say which step matched. */
    for(int64_t s = now_step - TOTP_WINDOW; s <= now_step + TOTP_WINDOW; s++) {
        int64_t eq, allowed, hit;
        if(s < 0)
            continue; /* depends on the time only */
        rc = totp_hotp(key, keylen, q.alg, q.digits, (uint64_t)s, &cand);
        if(rc)
            goto out;
        eq = -(int64_t)(sodium_memcmp(&cand, &given, sizeof(cand)) == 0);  /* all ones when equal */
        allowed = -(int64_t)(s > last_step);
        hit = eq & allowed;
        match = (match & ~hit) | (s & hit); /* the latest allowed step that matches */
        found |= hit;
        used |= eq & ~allowed;
    }
    if(found) {
        *matched_step = match;
    } else if(used) {
        rc = sam_fail(SAM_EAUTH, "this code was used already; wait for the next one");
    } else {
        rc = sam_fail(SAM_EAUTH, "the code is not right");
    }
out:
    sodium_memzero(&cand, sizeof(cand));
    sodium_memzero(&given, sizeof(given));
    return rc;
}

/* ---- enrolment ---- */

int totp_secret_new(unsigned char key[TOTP_SECRET_BYTES], char b32[TOTP_SECRET_B32_SIZE])
{
    if(sodium_init() < 0)
        return sam_fail(SAM_EINTERNAL, "the random number generator could not be started");
    randombytes_buf(key, TOTP_SECRET_BYTES);
    if(b32)
        return totp_base32_encode(key, TOTP_SECRET_BYTES, b32, TOTP_SECRET_B32_SIZE);
    return SAM_OK;
}

static int check_label(const char *s, const char *what)
{
    size_t n = s ? strnlen(s, TOTP_LABEL_MAX + 1) : 0;
    if(!n)
        return sam_fail(SAM_EINVAL, "the %s name is empty", what);
    if(n > TOTP_LABEL_MAX)
        return sam_fail(SAM_EINVAL, "the %s name is longer than %d bytes", what, TOTP_LABEL_MAX);
    if(utf8_count(s, n) < 0 || utf8_has_control(s))
        return sam_fail(SAM_EINVAL, "the %s name is not plain UTF-8 text", what);
    return SAM_OK;
}

int totp_uri(const char *issuer, const char *account, const unsigned char *key, size_t keylen,
             const struct totp_params *p, struct buf *out)
{
    char iss[3 * TOTP_LABEL_MAX + 1], acc[3 * TOTP_LABEL_MAX + 1];
    char b32[TOTP_B32_LEN(TOTP_KEY_MAX) + 1], uri[TOTP_URI_MAX + 1];
    struct totp_params q;
    int rc, n;

    rc = params_resolve(p, &q);
    if(!rc)
        rc = check_key(key, keylen);
    if(!rc)
        rc = check_label(issuer, "issuer");
    if(!rc)
        rc = check_label(account, "account");
    if(rc)
        return rc;
    rc = url_escape(issuer, iss, sizeof(iss));
    if(rc)
        goto out;
    rc = url_escape(account, acc, sizeof(acc));
    if(rc)
        goto out;
    rc = totp_base32_encode(key, keylen, b32, sizeof(b32));
    if(rc)
        goto out;
    n = snprintf(uri, sizeof(uri), "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=%s&digits=%d&period=%d",
                 iss, acc, b32, iss, totp_alg_name(q.alg), q.digits, q.step);
    assert(n > 0 && (size_t)n < sizeof(uri)); /* the limits above make it fit */
    rc = buf_append(out, uri, (size_t)n);
out:
    sodium_memzero(b32, sizeof(b32));
    sodium_memzero(uri, sizeof(uri));
    return rc;
}

int totp_qr_svg(const char *text, int module_px, struct buf *out)
{
    QRcode *qr;
    struct buf svg;
    size_t len;
    int rc, w, size;

    if(module_px == 0)
        module_px = 4;
    if(module_px < 1 || module_px > 32)
        return sam_fail(SAM_EINVAL, "a QR module is 1 to 32 pixels");
    len = text ? strnlen(text, TOTP_QR_TEXT_MAX + 1) : 0;
    if(!len)
        return sam_fail(SAM_EINVAL, "there is no text for the QR code");
    if(len > TOTP_QR_TEXT_MAX)
        return sam_fail(SAM_ETOOBIG, "the text is too long for a QR code");
    errno = 0;
    qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if(!qr) {
        if(errno == ENOMEM)
            return sam_fail(SAM_ENOMEM, "out of memory making a QR code");
        if(errno == ERANGE)
            return sam_fail(SAM_ETOOBIG, "the text is too long for a QR code");
        return sam_fail(SAM_EINTERNAL, "the QR code could not be made");
    }
    w = qr->width;
    size = w + 2 * QR_QUIET;
    buf_init(&svg, out->limit > out->len ? out->limit - out->len : 0);
    rc = buf_printf(&svg,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                    "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>"
                    "<path fill=\"#000000\" d=\"",
                    size, size, size * module_px, size * module_px, size, size);
    /* One subpath per horizontal run of dark modules: M x y h run v 1 h -run z. */
    for(int y = 0; y < w && !rc; y++) {
        const unsigned char *row = qr->data + (size_t)y * (size_t)w;
        for(int x = 0; x < w && !rc;) {
            int run = 0;
            while(x + run < w && (row[x + run] & 1))
                run++;
            if(run)
                rc = buf_printf(&svg, "M%d %dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET, run, run);
            x += run ? run : 1;
        }
    }
    if(!rc)
        rc = buf_puts(&svg, "\"/></svg>\n");
    if(!rc)
        rc = buf_append(out, svg.data, svg.len);
    if(rc == SAM_ETOOBIG)
        rc = sam_fail(SAM_ETOOBIG, "the QR code's picture is larger than its limit");
    buf_cleanup(&svg);
    QRcode_free(qr);
    return rc;
}

/* ---- recovery codes ---- */

int totp_recovery_new(char codes[][TOTP_RECOVERY_SIZE], size_t n)
{
    if(n < 1 || n > TOTP_RECOVERY_MAX)
        return sam_fail(SAM_EINVAL, "a set has 1 to %d recovery codes", TOTP_RECOVERY_MAX);
    if(sodium_init() < 0)
        return sam_fail(SAM_EINTERNAL, "the random number generator could not be started");
    for(size_t i = 0; i < n; i++) {
        int dup;
        do {
            char *c = codes[i];
            for(int k = 0, o = 0; k < TOTP_RECOVERY_CHARS; k++) {
                if(k == TOTP_RECOVERY_CHARS / 2)
                    c[o++] = '-';
                c[o++] = recovery_alphabet[randombytes_uniform((uint32_t)RECOVERY_ALPHABET_LEN)];
            }
            c[TOTP_RECOVERY_SIZE - 1] = '\0';
            dup = 0;
            for(size_t j = 0; j < i; j++)
                dup |= !strcmp(codes[j], c);
        } while(dup); /* one in 2^59 per pair: a set is distinct all the same */
    }
    return SAM_OK;
}

int totp_recovery_normalise(const char *code, char out[TOTP_RECOVERY_CHARS + 1])
{
    size_t len = code ? strnlen(code, RECOVERY_INPUT_MAX + 1) : 0;
    int o = 0;

    out[0] = '\0';
    if(len > RECOVERY_INPUT_MAX)
        goto bad;
    for(size_t i = 0; i < len; i++) {
        char c = code[i];
        if(c == ' ' || c == '-')
            continue;
        if(c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if(o == TOTP_RECOVERY_CHARS || !c || !strchr(recovery_alphabet, c))
            goto bad;
        out[o++] = c;
    }
    if(o != TOTP_RECOVERY_CHARS)
        goto bad;
    out[o] = '\0';
    return SAM_OK;
bad:
    sodium_memzero(out, TOTP_RECOVERY_CHARS + 1);
    return sam_fail(SAM_EINVAL, "a recovery code is %d letters and digits, like k7pq3m-zxw9ab",
                    TOTP_RECOVERY_CHARS);
}

int totp_recovery_hash(const char *code, const unsigned char key[TOTP_RECOVERY_KEY_BYTES],
                       unsigned char out[TOTP_RECOVERY_HASH_BYTES])
{
    char norm[TOTP_RECOVERY_CHARS + 1];
    int rc;

    sodium_memzero(out, TOTP_RECOVERY_HASH_BYTES);
    rc = totp_recovery_normalise(code, norm);
    if(rc)
        return rc;
    if(crypto_generichash(out, TOTP_RECOVERY_HASH_BYTES, (const unsigned char *)norm, TOTP_RECOVERY_CHARS,
                          key, TOTP_RECOVERY_KEY_BYTES))
        rc = sam_fail(SAM_EINTERNAL, "the recovery code could not be hashed");
    sodium_memzero(norm, sizeof(norm));
    return rc;
}

int totp_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}
