/*
 * fuzz_totp.c: libFuzzer target over the parts of core/totp.h that read what people type
 * or paste: base32 secrets, one-time codes and recovery codes.
 *
 * Input: a 12-byte header, then base32 text, a newline, and code text.
 *   byte 0      algorithm (% 3) and digits (6 + / 3 % 3)
 *   byte 1      bit 0: put the real code of a step (now + byte1 / 2 % 5 - 2) into the code
 *               text's digit positions, so the fuzzer reaches the accepting path
 *   bytes 2-9   now (little-endian, % 2^40 seconds)
 *   byte 10     last step used: -1 when bit 7 is set, else now's step - 3 + byte % 7
 *   byte 11     the step: 30 s, or 1 + byte when bit 7 is set
 * Every promise of totp.h is checked against an oracle written here: base32 decoding
 * gives what encoding the bytes gives back (one spelling each), failures leave nothing
 * behind; verification accepts exactly a well-formed code of an allowed step in the
 * window (recomputed with totp_hotp), and says which step; recovery code normalising
 * gives 12 characters of the alphabet.
 *
 *   build-asan/fuzz_totp -max_total_time=60 build-asan/corpus-fuzz_totp tests/fuzz/corpus-totp
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/totp.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 12

static const unsigned char fixed_key[20] = "12345678901234567890";

/* The base32 text as the encoder would write it: spaces and '=' out, upper case. */
static size_t canonical(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for(size_t i = 0; i < len; i++) {
        char c = in[i];
        if(c == ' ' || c == '=')
            continue;
        out[o++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    out[o] = '\0';
    return o;
}

static void check_base32(const char *text, size_t len, unsigned char *key, size_t *keylen)
{
    unsigned char out[TOTP_KEY_MAX];
    char *canon, *again;
    size_t n = 12345;
    int rc = totp_base32_decode(text, len, out, sizeof(out), &n);

    *keylen = 0;
    if(rc) {
        if((rc != SAM_EINVAL && rc != SAM_ETOOBIG) || n != 0)
            abort();
        for(size_t i = 0; i < sizeof(out); i++)
            if(out[i])
                abort(); /* wiped */
        return;
    }
    if(n > sizeof(out))
        abort();
    canon = malloc(len + 1);
    again = malloc(TOTP_B32_LEN(sizeof(out)) + 1);
    if(!canon || !again)
        abort();
    /* Decoding then encoding gives the text back, without spaces and padding: so only
     * A-Z a-z 2-7 ' ' '=' were accepted, and one spelling per byte string. */
    if(canonical(text, len, canon) != TOTP_B32_LEN(n) ||
       totp_base32_encode(out, n, again, TOTP_B32_LEN(sizeof(out)) + 1) || strcmp(canon, again))
        abort();
    /* A smaller output buffer is refused, not overrun. */
    if(n && totp_base32_decode(text, len, out, n - 1, &n) != SAM_ETOOBIG)
        abort();
    free(canon);
    free(again);
    totp_base32_decode(text, len, out, sizeof(out), &n);
    memcpy(key, out, n);
    *keylen = n;
}

/* The code text's shape by itself: at most TOTP_CODE_INPUT_MAX bytes of digits and
 * spaces, exactly `digits` digits. Its value in *v. */
static int well_formed(const char *s, int digits, uint32_t *v)
{
    size_t len = strlen(s);
    int n = 0;
    *v = 0;
    if(len > TOTP_CODE_INPUT_MAX)
        return 0;
    for(size_t i = 0; i < len; i++) {
        if(s[i] == ' ')
            continue;
        if(s[i] < '0' || s[i] > '9')
            return 0;
        n++;
        *v = *v * 10 + (uint32_t)(s[i] - '0'); /* wraps harmlessly when far too long */
    }
    return n == digits;
}

static void check_verify(const unsigned char *key, size_t keylen, const struct totp_params *p, char *code,
                         int64_t now, int64_t last, int put_real, int offset)
{
    int64_t now_step = now / p->step, m = 99, want = -1;
    uint32_t v, c;
    int rc, shaped;

    if(put_real && now_step + offset >= 0) {
        char real[TOTP_CODE_SIZE];
        int k = 0;
        if(totp_hotp(key, keylen, p->alg, p->digits, (uint64_t)(now_step + offset), &c))
            abort();
        totp_code_format(c, p->digits, real);
        for(char *q = code; *q && k < p->digits; q++)
            if(*q >= '0' && *q <= '9')
                *q = real[k++];
    }
    shaped = well_formed(code, p->digits, &v);
    /* The oracle: the latest step of the window after `last` whose code is v. */
    for(int64_t s = now_step - TOTP_WINDOW; shaped && s <= now_step + TOTP_WINDOW; s++) {
        if(s < 0 || s <= last)
            continue;
        if(totp_hotp(key, keylen, p->alg, p->digits, (uint64_t)s, &c))
            abort();
        if(c == v)
            want = s;
    }
    rc = totp_verify(key, keylen, p, code, now, last, &m);
    if(!shaped) {
        if(rc != SAM_EINVAL || m != -1)
            abort();
    } else if(want >= 0) {
        if(rc != SAM_OK || m != want)
            abort();
    } else if(rc != SAM_EAUTH || m != -1) {
        abort();
    }
}

static void check_recovery(const char *text)
{
    static const char alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz";
    char norm[TOTP_RECOVERY_CHARS + 1];
    unsigned char key[TOTP_RECOVERY_KEY_BYTES] = {1}, h[TOTP_RECOVERY_HASH_BYTES], h2[TOTP_RECOVERY_HASH_BYTES];
    int rc = totp_recovery_normalise(text, norm);
    if(rc) {
        if(rc != SAM_EINVAL || norm[0])
            abort();
        return;
    }
    if(strlen(norm) != TOTP_RECOVERY_CHARS)
        abort();
    for(int i = 0; i < TOTP_RECOVERY_CHARS; i++)
        if(!strchr(alphabet, norm[i]))
            abort();
    /* The hash of the text is the hash of its normal form. */
    if(totp_recovery_hash(text, key, h) || totp_recovery_hash(norm, key, h2) || !totp_equal(h, h2, sizeof(h)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct totp_params p;
    unsigned char key[TOTP_KEY_MAX];
    size_t keylen = 0, rest;
    const char *b32, *nl;
    char *code;
    uint64_t now = 0;
    int64_t last, now_step;

    if(size < HEADER || size > 4096)
        return 0;
    p.alg = (enum totp_alg)(data[0] % 3);
    p.digits = TOTP_DIGITS_MIN + data[0] / 3 % 3;
    p.step = (data[11] & 0x80) ? 1 + data[11] : TOTP_STEP_DEFAULT;
    for(int i = 9; i >= 2; i--)
        now = (now << 8) | data[i];
    now %= (uint64_t)1 << 40;
    now_step = (int64_t)now / p.step;
    last = (data[10] & 0x80) ? -1 : now_step - 3 + data[10] % 7;

    /* base32 text up to the first newline (copied to exactly its size, for ASan). */
    rest = size - HEADER;
    nl = memchr(data + HEADER, '\n', rest);
    {
        size_t blen = nl ? (size_t)(nl - (const char *)data - HEADER) : rest;
        char *copy = malloc(blen ? blen : 1);
        if(!copy)
            return 0;
        memcpy(copy, data + HEADER, blen);
        b32 = copy;
        check_base32(b32, blen, key, &keylen);
        free(copy);
    }
    if(!keylen) {
        memcpy(key, fixed_key, sizeof(fixed_key));
        keylen = sizeof(fixed_key);
    }
    /* The code text after the newline, as a C string (a NUL inside ends it). */
    if(nl) {
        size_t clen = size - (size_t)(nl + 1 - (const char *)data);
        code = malloc(clen + 1);
        if(!code)
            return 0;
        memcpy(code, nl + 1, clen);
        code[clen] = '\0';
        check_recovery(code);
        check_verify(key, keylen, &p, code, (int64_t)now, last, data[1] & 1, data[1] / 2 % 5 - 2);
        free(code);
    }
    return 0;
}
