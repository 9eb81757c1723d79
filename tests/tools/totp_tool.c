/*
 * totp_tool.c: drives core/totp.h for tests/integration/test_totp_codes.py.
 *
 *   totp_tool code BASE32 UNIXTIME DIGITS ALG   prints the TOTP code (step 30 s)
 *   totp_tool codes                             the same for each line "BASE32 UNIXTIME
 *                                               DIGITS ALG" of standard input, one code a
 *                                               line ("error" for a line refused)
 *   totp_tool uri ISSUER ACCOUNT BASE32         prints the otpauth:// URI (defaults)
 *   totp_tool qr TEXT [SCALE]                   prints the QR code of TEXT as a plain PBM
 *                                               image (P1), SCALE pixels a module (4)
 *
 * The PBM is drawn from the SVG that totp_qr_svg writes (its viewBox and its path of
 * "MxYhRv1h-Rz" runs), so a decoder reading the PBM reads what the dashboard would show.
 * Exit status 0 on success, 1 when the library refused the input, 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/totp.h"
#include "util/err.h"

static int usage(void)
{
    fprintf(stderr, "usage: totp_tool code BASE32 UNIXTIME DIGITS ALG\n"
                    "       totp_tool codes < lines\n"
                    "       totp_tool uri ISSUER ACCOUNT BASE32\n"
                    "       totp_tool qr TEXT [SCALE]\n");
    return 2;
}

static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v;
    if(!*s)
        return -1;
    v = strtoll(s, &end, 10);
    if(*end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* One code into text; SAM_OK or the library's error. */
static int one_code(const char *b32, const char *when, const char *digits, const char *alg,
                    char text[TOTP_CODE_SIZE])
{
    unsigned char key[TOTP_KEY_MAX];
    size_t keylen = 0;
    long long t, d;
    struct totp_params p = {TOTP_SHA1, 0, 0};
    uint32_t code;
    int rc;

    if(parse_int(when, 0, INT64_MAX, &t) || parse_int(digits, 0, 99, &d))
        return SAM_EINVAL;
    p.digits = (int)d;
    rc = totp_alg_parse(alg, &p.alg);
    if(!rc)
        rc = totp_base32_decode(b32, strlen(b32), key, sizeof(key), &keylen);
    if(!rc)
        rc = totp_code(key, keylen, &p, (int64_t)t, &code, NULL);
    if(!rc)
        totp_code_format(code, p.digits, text);
    return rc;
}

static int cmd_codes(void)
{
    char line[512], b32[256], when[32], digits[8], alg[16], text[TOTP_CODE_SIZE];
    while(fgets(line, sizeof(line), stdin)) {
        if(sscanf(line, "%255s %31s %7s %15s", b32, when, digits, alg) != 4 ||
           one_code(b32, when, digits, alg, text))
            puts("error");
        else
            puts(text);
    }
    return ferror(stdin) ? 2 : 0;
}

/* Draws the SVG's modules into a P1 image. */
static int svg_to_pbm(const char *svg, int scale)
{
    const char *vb = strstr(svg, "viewBox=\"0 0 "), *d = strstr(svg, " d=\"");
    int n, nn, used;
    unsigned char *m;

    if(!vb || !d || sscanf(vb, "viewBox=\"0 0 %d %d\"", &n, &nn) != 2 || n != nn || n < 21 || n > 200)
        return 1;
    m = calloc((size_t)n * (size_t)n, 1);
    if(!m)
        return 1;
    for(d += 4; *d == 'M'; d += used) {
        int x, y, run, back;
        if(sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &back, &used) != 4 || run != back || x < 0 || y < 0 ||
           run < 1 || x + run > n || y >= n) {
            free(m);
            return 1;
        }
        memset(m + (size_t)y * (size_t)n + (size_t)x, 1, (size_t)run);
    }
    printf("P1\n%d %d\n", n * scale, n * scale);
    for(int y = 0; y < n * scale; y++) {
        for(int x = 0; x < n * scale; x++)
            putchar(m[(y / scale) * n + x / scale] ? '1' : '0');
        putchar('\n');
    }
    free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if(argc < 2)
        return usage();
    if(!strcmp(argv[1], "code") && argc == 6) {
        char text[TOTP_CODE_SIZE];
        int rc = one_code(argv[2], argv[3], argv[4], argv[5], text);
        if(rc) {
            fprintf(stderr, "totp_tool: %s\n", sam_errmsg(rc));
            return 1;
        }
        puts(text);
        return 0;
    }
    if(!strcmp(argv[1], "codes") && argc == 2)
        return cmd_codes();
    if(!strcmp(argv[1], "uri") && argc == 5) {
        unsigned char key[TOTP_KEY_MAX];
        size_t keylen = 0;
        struct buf b;
        int rc;
        buf_init(&b, TOTP_URI_MAX);
        rc = totp_base32_decode(argv[4], strlen(argv[4]), key, sizeof(key), &keylen);
        if(!rc)
            rc = totp_uri(argv[2], argv[3], key, keylen, NULL, &b);
        if(!rc)
            puts(buf_str(&b));
        else
            fprintf(stderr, "totp_tool: %s\n", sam_errmsg(rc));
        buf_cleanup(&b);
        return rc ? 1 : 0;
    }
    if(!strcmp(argv[1], "qr") && (argc == 3 || argc == 4)) {
        long long scale = 4;
        struct buf b;
        int rc;
        if(argc == 4 && parse_int(argv[3], 1, 32, &scale))
            return usage();
        buf_init(&b, TOTP_QR_SVG_MAX);
        rc = totp_qr_svg(argv[2], 0, &b);
        if(rc) {
            fprintf(stderr, "totp_tool: %s\n", sam_errmsg(rc));
        } else if(svg_to_pbm(buf_str(&b), (int)scale)) {
            fprintf(stderr, "totp_tool: the SVG could not be read back\n");
            rc = 1;
        }
        buf_cleanup(&b);
        return rc ? 1 : 0;
    }
    return usage();
}
