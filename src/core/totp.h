/*
 * totp.h: the building blocks of the second login factor: time-based one-time codes
 * (TOTP, RFC 6238, over HOTP, RFC 4226), their secrets in base32 (RFC 4648), the
 * otpauth:// URI an authenticator app reads from a QR code, the QR code as SVG, and
 * recovery codes. Pure functions: no store, no network, no clock (the caller passes
 * "now" in Unix seconds), no global state.
 *
 * Formats:
 * - A secret is TOTP_SECRET_BYTES random bytes; apps are given it in base32: upper case
 *   A-Z 2-7, no '=' padding ("JBSWY3DPEHPK3PXP..."), 32 characters for 20 bytes.
 * - A code is `digits` decimal digits (6 to 8, leading zeros kept): HOTP of the step
 *   number floor(now / step) (step 30 s by default, T0 = 0), HMAC-SHA1 by default as
 *   authenticator apps expect; SHA-256 and SHA-512 are there for RFC 6238 and for apps
 *   that offer them. HMAC comes from OpenSSL's libcrypto (libsodium has no SHA-1).
 * - Verification accepts the step before, at and after now (TOTP_WINDOW), only a step
 *   after the last one used: the caller stores the matched step and passes it back, so a
 *   code works once.
 * - A recovery code is TOTP_RECOVERY_CHARS characters of a 31-letter alphabet without
 *   0 o 1 l i, in two groups of six ("k7pq3m-zxw9ab", 59 bits). Only its keyed hash is
 *   stored: BLAKE2b-256 of the normalised code (lower case, no spaces or dashes), keyed
 *   with a key the caller derives from the server's secret key, so the database alone
 *   does not let anyone try all codes offline.
 *
 * Errors follow util/err.h (SAM_OK or a code, with a message from sam_errmsg). Nothing
 * here allocates except totp_uri and totp_qr_svg, which append to the caller's struct
 * buf (and libqrencode's working memory, freed before return). Every function is
 * thread-safe. Intermediate copies of secrets are wiped before return.
 */
#ifndef SAM_TOTP_H
#define SAM_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define TOTP_SECRET_BYTES 20        /* 160 bits, RFC 4226's recommended length */
#define TOTP_KEY_MAX 64             /* longest key accepted (RFC 6238's SHA-512 seed) */
#define TOTP_B32_LEN(n) (((n) * 8 + 4) / 5)  /* base32 characters for n bytes, no padding */
#define TOTP_SECRET_B32_SIZE (TOTP_B32_LEN(TOTP_SECRET_BYTES) + 1)  /* 33: 32 and the NUL */
#define TOTP_DIGITS_MIN 6
#define TOTP_DIGITS_MAX 8
#define TOTP_DIGITS_DEFAULT 6
#define TOTP_STEP_DEFAULT 30        /* seconds */
#define TOTP_STEP_MAX 86400
#define TOTP_WINDOW 1               /* steps accepted either side of now */
#define TOTP_CODE_SIZE (TOTP_DIGITS_MAX + 1)  /* a code as text, with its NUL */
#define TOTP_CODE_INPUT_MAX 32      /* longest code text verified, spaces included */
#define TOTP_LABEL_MAX 128          /* bytes of an issuer or account name in the URI */
#define TOTP_URI_MAX 2048           /* longest URI totp_uri writes (it always fits) */
#define TOTP_QR_TEXT_MAX 2048       /* longest text put in a QR code */
#define TOTP_QR_SVG_MAX (512 * 1024)  /* an SVG of any QR code fits in this many bytes */
#define TOTP_RECOVERY_COUNT 10      /* codes in a set */
#define TOTP_RECOVERY_MAX 100       /* most codes totp_recovery_new makes at once */
#define TOTP_RECOVERY_CHARS 12      /* characters of a code, without the dash */
#define TOTP_RECOVERY_SIZE 14       /* "k7pq3m-zxw9ab" and its NUL */
#define TOTP_RECOVERY_KEY_BYTES 32  /* key of the recovery code hash */
#define TOTP_RECOVERY_HASH_BYTES 32 /* BLAKE2b-256 */

enum totp_alg {
    TOTP_SHA1 = 0, /* the default, and what authenticator apps use */
    TOTP_SHA256,
    TOTP_SHA512
};

/* How codes are made. A zeroed struct (or NULL where a function takes one) means the
 * defaults: SHA-1, 6 digits, 30 seconds. */
struct totp_params {
    enum totp_alg alg;
    int digits; /* 6-8; 0 means TOTP_DIGITS_DEFAULT */
    int step;   /* seconds, 1-TOTP_STEP_MAX; 0 means TOTP_STEP_DEFAULT */
};

/* ---- base32 (RFC 4648 section 6) ---- */

/* Writes the base32 of in[0..n) into out (outsize bytes): upper case, no padding,
 * NUL-terminated, TOTP_B32_LEN(n) characters. SAM_ETOOBIG (out "" when outsize > 0) when
 * outsize < TOTP_B32_LEN(n) + 1. Runs in time that depends on n only. */
int totp_base32_encode(const unsigned char *in, size_t n, char *out, size_t outsize);

/* Reads base32 text in[0..len) (need not be NUL-terminated) into out (outsize bytes) and
 * sets *outlen. Accepts lower case, spaces anywhere, and '=' padding at the end when it is
 * the right amount for the length; refuses everything else with SAM_EINVAL: other
 * characters, a length no encoder writes (1, 3 or 6 characters past a group of 8) and
 * non-zero unused bits in the last character (so each byte string has one spelling).
 * SAM_ETOOBIG when the bytes do not fit in outsize. "" decodes to 0 bytes. On failure
 * *outlen is 0 and out[0..outsize) is zeroed. */
int totp_base32_decode(const char *in, size_t len, unsigned char *out, size_t outsize, size_t *outlen);

/* ---- codes ---- */

/* "SHA1", "SHA256" or "SHA512" (the spelling of the otpauth URI); never NULL. */
const char *totp_alg_name(enum totp_alg alg);

/* Reads an algorithm name, case-insensitive, with or without the dash ("sha-256").
 * SAM_EINVAL for anything else. */
int totp_alg_parse(const char *name, enum totp_alg *alg);

/* The HOTP value (RFC 4226) of key[0..keylen) (1-TOTP_KEY_MAX bytes) for counter, with
 * HMAC-alg, as a number below 10^digits (digits 6-8) in *code. SAM_EINVAL for a bad key
 * length, digits or alg; SAM_EINTERNAL when libcrypto fails. */
int totp_hotp(const unsigned char *key, size_t keylen, enum totp_alg alg, int digits,
              uint64_t counter, uint32_t *code);

/* The TOTP code (RFC 6238) of key at time now (Unix seconds, >= 0) with params p (NULL
 * for the defaults) in *code, and its step number floor(now / step) in *step (may be
 * NULL). Errors as totp_hotp, and SAM_EINVAL for a negative now or bad params. */
int totp_code(const unsigned char *key, size_t keylen, const struct totp_params *p, int64_t now,
              uint32_t *code, int64_t *step);

/* Writes code as `digits` decimal digits with leading zeros into out (the lowest digits
 * when code is larger; digits outside 1-8 count as 8). */
void totp_code_format(uint32_t code, int digits, char out[TOTP_CODE_SIZE]);

/* Checks a code someone typed against key at time now. The text may hold spaces ("123
 * 456") and must otherwise be exactly p's number of digits (at most TOTP_CODE_INPUT_MAX
 * bytes): else SAM_EINVAL ("a code is 6 digits"). The code is compared in constant time
 * with the codes of the steps now-1, now and now+1 (TOTP_WINDOW); a step at or before
 * last_step (the step stored at the last successful check; pass -1 when there was none)
 * never matches. SAM_OK sets *matched_step, which the caller stores as the new last_step
 * before it lets the person in; SAM_EAUTH when no allowed step has this code (the message
 * says so, or that the code was used already); SAM_EINVAL for a bad key or params;
 * SAM_EINTERNAL when libcrypto fails. */
int totp_verify(const unsigned char *key, size_t keylen, const struct totp_params *p,
                const char *code, int64_t now, int64_t last_step, int64_t *matched_step);

/* ---- enrolment ---- */

/* A new secret from libsodium's randombytes into key, and its base32 into b32 (may be
 * NULL). SAM_EINTERNAL when libsodium cannot be initialised. */
int totp_secret_new(unsigned char key[TOTP_SECRET_BYTES], char b32[TOTP_SECRET_B32_SIZE]);

/* Appends the otpauth:// URI of Google's Key Uri Format to out:
 *   otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * ISSUER and ACCOUNT percent-encoded (util/url.h: UTF-8 octets, and also ':', '@', ' ');
 * a ':' inside them becomes %3A, and apps that read the label rather than the issuer
 * parameter may then split it there. issuer and account: valid UTF-8, 1-TOTP_LABEL_MAX
 * bytes, no control characters, else SAM_EINVAL. key as in totp_hotp; p NULL for the
 * defaults. The URI is at most TOTP_URI_MAX bytes. SAM_ETOOBIG or SAM_ENOMEM from out;
 * on any failure out is as it was. */
int totp_uri(const char *issuer, const char *account, const unsigned char *key, size_t keylen,
             const struct totp_params *p, struct buf *out);

/* Appends an SVG image of the QR code of text (1-TOTP_QR_TEXT_MAX bytes, error correction
 * level M, byte mode, smallest version) to out: one <path> of the dark modules in black
 * on a white <rect>, a 4-module quiet zone, viewBox "0 0 N N" with N = the libqrencode
 * matrix width + 8, width and height N * module_px pixels (module_px 1-32; 0 means 4),
 * shape-rendering="crispEdges". Nothing of text appears in the SVG, and it has no script,
 * no style and no reference to anything outside, so it is safe as an
 * <img src="data:image/svg+xml;base64,...">. SAM_EINVAL for an empty text or module_px out
 * of range; SAM_ETOOBIG when text does not fit in a QR code or the SVG passes out's limit
 * (TOTP_QR_SVG_MAX is always enough); SAM_ENOMEM. On failure out is as it was. */
int totp_qr_svg(const char *text, int module_px, struct buf *out);

/* ---- recovery codes ---- */

/* n (1-TOTP_RECOVERY_MAX) new, distinct recovery codes "xxxxxx-xxxxxx" from libsodium's
 * randombytes into codes. SAM_EINVAL for a bad n; SAM_EINTERNAL when libsodium cannot be
 * initialised. */
int totp_recovery_new(char codes[][TOTP_RECOVERY_SIZE], size_t n);

/* The normal form of a typed recovery code: ASCII lower case, spaces and dashes dropped,
 * into out (TOTP_RECOVERY_CHARS characters and a NUL). SAM_EINVAL, out "", when the
 * result is not TOTP_RECOVERY_CHARS characters of the code alphabet (or code is longer
 * than 64 bytes). */
int totp_recovery_normalise(const char *code, char out[TOTP_RECOVERY_CHARS + 1]);

/* The stored form of a recovery code: BLAKE2b-256 of its normal form, keyed with key, in
 * out. Errors as totp_recovery_normalise (out then zeroed). */
int totp_recovery_hash(const char *code, const unsigned char key[TOTP_RECOVERY_KEY_BYTES],
                       unsigned char out[TOTP_RECOVERY_HASH_BYTES]);

/* 1 when a[0..n) and b[0..n) are equal, else 0, in time that depends on n only. */
int totp_equal(const void *a, const void *b, size_t n);

#endif
