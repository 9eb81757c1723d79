/* test_mail.c: email: the composer (core/mail.c) as a table of inputs and what must come
 * out, decoded again and checked line by line; addresses; the one mapping of libcurl's
 * codes and SMTP replies (channel/smtp.c) as a table; the SMTP settings; the outbox's
 * store functions on a temporary SQLite database; the mailer's retry decisions. Nothing
 * here opens a connection: the policy test refuses before any socket is made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel/smtp.h"
#include "core/mail.h"
#include "engine/mailer.h"
#include "util/err.h"
#include "util/netpolicy.h"
#include "store_fixture.h"

/* ---- helpers: decode what the composer wrote ---- */

static int b64val(char c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(a, c) : NULL;
    return p ? (int)(p - a) : -1;
}

/* Decodes base64 text of n characters into out; returns the byte count. */
static size_t b64decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    assert_int_equal(n % 4, 0);
    for(size_t i = 0; i < n; i += 4) {
        int v[4];
        for(int k = 0; k < 4; k++)
            v[k] = in[i + k] == '=' ? 0 : b64val(in[i + k]);
        for(int k = 0; k < 4; k++)
            assert_true(v[k] >= 0);
        out[o++] = (char)(v[0] << 2 | v[1] >> 4);
        if(in[i + 2] != '=')
            out[o++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
        if(in[i + 3] != '=')
            out[o++] = (char)((v[2] & 3) << 6 | v[3]);
    }
    return o;
}

/* The value of header name in msg, unfolded and with RFC 2047 words decoded (only the
 * B form the composer writes, and whitespace between adjacent words dropped). */
static void header_value(const char *msg, const char *name, char *out, size_t n)
{
    char unfolded[4096], line[64];
    const char *p, *end = strstr(msg, "\r\n\r\n");
    size_t k = 0, o = 0;
    snprintf(line, sizeof(line), "\r\n%s: ", name);
    p = strncmp(msg, line + 2, strlen(line + 2)) ? strstr(msg, line) : msg - 2;
    assert_non_null(p);
    assert_true(p < end);
    p += strlen(line);
    /* Unfold: CRLF followed by a space is the space. */
    while(*p && !(p[0] == '\r' && p[1] == '\n' && p[2] != ' ' && p[2] != '\t')) {
        if(p[0] == '\r' && p[1] == '\n') {
            p += 2;
            continue;
        }
        assert_true(k + 1 < sizeof(unfolded));
        unfolded[k++] = *p++;
    }
    unfolded[k] = '\0';
    for(size_t i = 0; i < k;) {
        if(!strncmp(unfolded + i, "=?UTF-8?B?", 10)) {
            const char *start = unfolded + i + 10, *stop = strstr(start, "?=");
            assert_non_null(stop);
            assert_true(o + (size_t)(stop - start) < n);
            o += b64decode(start, (size_t)(stop - start), out + o);
            i = (size_t)(stop + 2 - unfolded);
            if(!strncmp(unfolded + i, " =?UTF-8?B?", 11))
                i++; /* whitespace between encoded-words is not text */
            continue;
        }
        assert_true(o + 1 < n);
        out[o++] = unfolded[i++];
    }
    out[o] = '\0';
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes a quoted-printable body (CRLF lines) into out. */
static void qp_decode(const char *body, char *out, size_t n)
{
    size_t o = 0;
    for(const char *p = body; *p;) {
        if(p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
            p += 3;
        } else if(p[0] == '=') {
            assert_true(hexval(p[1]) >= 0 && hexval(p[2]) >= 0);
            assert_true(o + 1 < n);
            out[o++] = (char)(hexval(p[1]) << 4 | hexval(p[2]));
            p += 3;
        } else {
            assert_true(o + 1 < n);
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

/* Every line ends in CRLF (no bare CR or LF); header lines are at most hmax characters,
 * body lines at most 76 and none starts with '.' or "From ". */
static void check_lines(const char *msg, size_t hmax)
{
    int in_body = 0;
    const char *p = msg;
    while(*p) {
        const char *cr = strstr(p, "\r\n");
        size_t len;
        assert_non_null(cr);
        len = (size_t)(cr - p);
        assert_null(memchr(p, '\n', len));
        assert_null(memchr(p, '\r', len));
        if(!in_body && len == 0) {
            in_body = 1;
        } else if(in_body) {
            assert_true(len <= 76);
            assert_false(len > 0 && p[0] == '.');
            assert_false(len >= 5 && !memcmp(p, "From ", 5));
            for(size_t i = 0; i < len; i++)
                assert_true((unsigned char)p[i] >= 0x20 && (unsigned char)p[i] < 0x7f);
            assert_false(len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'));
        } else {
            assert_true(len <= hmax);
            for(size_t i = 0; i < len; i++)
                assert_true((unsigned char)p[i] >= 0x20 && (unsigned char)p[i] < 0x7f);
        }
        p = cr + 2;
    }
    assert_true(in_body);
}

/* The text with line ends made CRLF and a final CRLF, as the decoded body must be. */
static void canonical(const char *text, char *out, size_t n)
{
    size_t o = 0;
    for(const char *p = text; *p; p++) {
        assert_true(o + 3 < n);
        if(*p == '\r' && p[1] == '\n')
            continue;
        if(*p == '\r' || *p == '\n') {
            out[o++] = '\r';
            out[o++] = '\n';
        } else {
            out[o++] = *p;
        }
    }
    if(o < 2 || out[o - 2] != '\r' || out[o - 1] != '\n') {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o] = '\0';
}

/* ---- the composer ---- */

static char long_ascii_subject[400], long_utf8_subject[MAIL_SUBJECT_MAX + 1], too_long_subject[MAIL_SUBJECT_MAX + 2];
static char long_line[1200], long_utf8_line[800], dots_at_breaks[400];

static void fill_inputs(void)
{
    size_t k = 0;
    long_ascii_subject[0] = '\0';
    while(strlen(long_ascii_subject) < 300)
        strcat(long_ascii_subject, "Welcome to the samtale workspace ");
    strcat(long_ascii_subject, "today");
    for(k = 0; k + 2 <= 300; k += 2)
        memcpy(long_utf8_subject + k, "\xc3\xb8", 2); /* 150 x "ø" */
    long_utf8_subject[k] = '\0';
    memset(too_long_subject, 'x', MAIL_SUBJECT_MAX + 1);
    too_long_subject[MAIL_SUBJECT_MAX + 1] = '\0';
    memset(long_line, 'a', 1000);
    strcpy(long_line + 1000, "\nshort\n");
    long_utf8_line[0] = '\0';
    for(int i = 0; i < 200; i++)
        strcat(long_utf8_line, "\xc3\xa6"); /* "æ" */
    /* '.' and "From " exactly where a soft break falls (column 75). */
    memset(dots_at_breaks, 'b', 75);
    strcpy(dots_at_breaks + 75, "..more\n");
    memset(dots_at_breaks + 82, 'c', 75);
    strcpy(dots_at_breaks + 157, "From here on\n");
}

static const struct compose_case {
    const char *name;
    const char *subject;
    const char *text;
    const char *to;
    int rc;                 /* expected result */
    const char *field;      /* the field named when refused */
    int encoded;            /* 1: the Subject must be encoded-words */
    const char *must_have;  /* a substring the raw message must contain */
} cases[] = {
    {"ascii", "Welcome to samtale", "Hello Ada.\nYour invitation is below.\n", NULL, SAM_OK, NULL, 0,
     "Subject: Welcome to samtale\r\n"},
    {"norwegian subject", "Invitasjon til Bl\xc3\xa5" "b\xc3\xa6r AS: \xc3\xa6\xc3\xb8\xc3\xa5 \xc3\x86\xc3\x98\xc3\x85",
     "Hei!\n", NULL, SAM_OK, NULL, 1, "Subject: =?UTF-8?B?"},
    {"emoji subject", "Hei \xf0\x9f\x91\x8b og \xe2\x98\x95", "x", NULL, SAM_OK, NULL, 1, NULL},
    {"encoded-word lookalike is encoded", "a =?UTF-8?B?Zm9v?= b", "x", NULL, SAM_OK, NULL, 1, NULL},
    {"long ascii subject folds", long_ascii_subject, "x", NULL, SAM_OK, NULL, 0, "\r\n Welcome"},
    {"long utf-8 subject", long_utf8_subject, "x", NULL, SAM_OK, NULL, 1, "?=\r\n =?UTF-8?B?"},
    {"long body line", "s", long_line, NULL, SAM_OK, NULL, 0, "=\r\naaaa"},
    {"long utf-8 body line", "s", long_utf8_line, NULL, SAM_OK, NULL, 0, "=C3=A6=C3=A6"},
    {"dots at line start", "s", ".\n..\n.hidden\nend.\n", NULL, SAM_OK, NULL, 0,
     "\r\n\r\n=2E\r\n=2E.\r\n=2Ehidden\r\nend.\r\n"},
    {"dots and From at soft breaks", "s", dots_at_breaks, NULL, SAM_OK, NULL, 0, "=\r\n=2E.more"},
    {"From at line start", "s", "From here\nFrom\nfrom x\n", NULL, SAM_OK, NULL, 0, "=46rom here"},
    {"trailing spaces and tabs", "s", "trail  \nx\t\nmid dle\n", NULL, SAM_OK, NULL, 0, "trail =20\r\n"},
    {"equals and controls", "s", "a=b \x01 \x1b[31m\n", NULL, SAM_OK, NULL, 0, "a=3Db =01 =1B[31m"},
    {"line ends of every kind", "s", "a\r\nb\rc\n\nd", NULL, SAM_OK, NULL, 0, "a\r\nb\r\nc\r\n\r\nd\r\n"},
    {"subject with CRLF", "Hi\r\nBcc: evil@example.com", "x", NULL, SAM_EINVAL, "subject", 0, NULL},
    {"subject with LF", "Hi\nBcc: evil@example.com", "x", NULL, SAM_EINVAL, "subject", 0, NULL},
    {"subject with CR", "Hi\rBcc: evil@example.com", "x", NULL, SAM_EINVAL, "subject", 0, NULL},
    {"subject with a tab", "Hi\tthere", "x", NULL, SAM_EINVAL, "subject", 0, NULL},
    {"subject with DEL", "Hi\x7f", "x", NULL, SAM_EINVAL, "subject", 0, NULL},
    {"subject not UTF-8", "Hi \xff\xfe", "x", NULL, SAM_EINVAL, "subject", 0, NULL},
    {"empty subject", "", "x", NULL, SAM_EINVAL, "subject", 0, NULL},
    {"subject too long", too_long_subject, "x", NULL, SAM_ETOOBIG, "subject", 0, NULL},
    {"text not UTF-8", "s", "caf\xe9", NULL, SAM_EINVAL, "text", 0, NULL},
    {"empty text", "s", "", NULL, SAM_EINVAL, "text", 0, NULL},
    {"to with CRLF", "s", "x", "ada@example.com\r\nBcc: evil@example.com", SAM_EINVAL, "to", 0, NULL},
    {"to with a name", "s", "x", "Ada <ada@example.com>", SAM_EINVAL, "to", 0, NULL},
    {"to with two addresses", "s", "x", "ada@example.com, eve@example.com", SAM_EINVAL, "to", 0, NULL},
};

static void compose_table(void **state)
{
    (void)state;
    fill_inputs();
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct compose_case *t = &cases[i];
        struct mail_message m = {.from = "samtale@example.com", .to = t->to ? t->to : "ada@example.com",
                                 .subject = t->subject, .text = t->text, .date = 1796601980,
                                 .message_id = "<1796601980.7.samtale@example.com>"};
        struct buf out;
        int rc;
        print_message("case: %s\n", t->name);
        buf_init(&out, MAIL_MESSAGE_MAX);
        sam_clear();
        rc = mail_compose(&m, &out);
        assert_int_equal(rc, t->rc);
        if(rc) {
            assert_non_null(sam_errfield());
            assert_string_equal(sam_errfield(), t->field);
            buf_cleanup(&out);
            continue;
        }
        {
            const char *msg = buf_str(&out);
            static char subject[2048], body[8192], want[8192];
            check_lines(msg, strstr(msg, "=?UTF-8?B?") ? 76 : 998);
            if(!t->encoded && strlen(t->subject) < 60)
                assert_non_null(strstr(msg, "Subject: "));
            assert_int_equal(strstr(msg, "Subject: =?UTF-8?B?") != NULL, t->encoded);
            header_value(msg, "Subject", subject, sizeof(subject));
            assert_string_equal(subject, t->subject);
            /* Folded header lines stay within 78 characters where a space allows it. */
            if(t->subject == long_ascii_subject)
                check_lines(msg, 78);
            qp_decode(strstr(msg, "\r\n\r\n") + 4, body, sizeof(body));
            canonical(t->text, want, sizeof(want));
            assert_string_equal(body, want);
            if(t->must_have)
                assert_non_null(strstr(msg, t->must_have));
            assert_non_null(strstr(msg, "\r\nDate: Mon, 07 Dec 2026 00:06:20 +0000\r\n"));
            assert_non_null(strstr(msg, "From: samtale@example.com\r\nTo: ada@example.com\r\n"));
            assert_non_null(strstr(msg, "\r\nMessage-ID: <1796601980.7.samtale@example.com>\r\n"));
            assert_non_null(strstr(msg, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
            assert_non_null(strstr(msg, "\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
            assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
        }
        buf_cleanup(&out);
    }
}

static void compose_respects_the_limit(void **state)
{
    static char text[MAIL_TEXT_MAX + 1];
    struct mail_message m = {.from = "s@example.com", .to = "a@example.com", .subject = "s", .text = text,
                             .date = 1, .message_id = "<1.1.samtale@example.com>"};
    struct buf out;
    (void)state;
    memset(text, '=', MAIL_TEXT_MAX); /* every byte becomes three */
    text[MAIL_TEXT_MAX] = '\0';
    buf_init(&out, 4096);
    assert_int_equal(mail_compose(&m, &out), SAM_ETOOBIG);
    buf_cleanup(&out);
    buf_init(&out, MAIL_MESSAGE_MAX);
    assert_int_equal(mail_compose(&m, &out), SAM_OK);
    assert_true(out.len > 3 * (size_t)MAIL_TEXT_MAX);
    buf_cleanup(&out);
}

static void message_id_from_row(void **state)
{
    char id[320];
    (void)state;
    mail_message_id(42, 1796601980, "samtale@mail.example.no", id, sizeof(id));
    assert_string_equal(id, "<1796601980.42.samtale@mail.example.no>");
}

/* ---- addresses ---- */

static void address_table(void **state)
{
    static const char *good[] = {"ada@example.com", "a.b+tag@sub.example.no", "owner@localhost",
                                 "x_y-z@a-b.c", "o'brien@example.ie", "1@2.3"};
    static const char *bad[] = {"", "ada", "@example.com", "ada@", "Ada <ada@example.com>",
                                "<ada@example.com>", "ada@example.com, bob@example.com", "ada@example.com bob",
                                "a b@example.com", "\"ada\"@example.com", "ada@@example.com",
                                "ada@exa mple.com", ".ada@example.com", "ada.@example.com", "a..da@example.com",
                                "ada@-example.com", "ada@example-.com", "ada@example..com", "ada@example.com.",
                                "ada@[127.0.0.1]", "\xc3\xa5se@example.no", "ada@ex\xc3\xa4mple.no",
                                "ada@example.com\r\nBcc: x@example.com", "ada@example.com\n", "ada(x)@example.com",
                                "ada@example.com;eve@example.com"};
    char local65[80], label64[90], huge[300];
    (void)state;
    for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        print_message("good: %s\n", good[i]);
        assert_int_equal(mail_address_check("to", good[i]), SAM_OK);
    }
    for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("bad: %s\n", bad[i]);
        assert_int_equal(mail_address_check("to", bad[i]), SAM_EINVAL);
        assert_string_equal(sam_errfield(), "to");
    }
    memset(local65, 'a', 65);
    strcpy(local65 + 65, "@example.com");
    assert_int_equal(mail_address_check("to", local65), SAM_EINVAL);
    local65[1] = '@';
    local65[2] = '\0';
    strcat(local65, "example.com"); /* "a@example.com" */
    assert_int_equal(mail_address_check("to", local65), SAM_OK);
    strcpy(label64, "a@");
    memset(label64 + 2, 'b', 64);
    strcpy(label64 + 66, ".com");
    assert_int_equal(mail_address_check("to", label64), SAM_EINVAL);
    strcpy(huge, "a@");
    for(int i = 0; i < 30; i++)
        strcat(huge, "abcdefgh.");
    strcat(huge, "com");
    assert_true(strlen(huge) > MAIL_ADDRESS_MAX);
    assert_int_equal(mail_address_check("to", huge), SAM_EINVAL);
}

/* ---- SMTP: the error mapping, replies, settings, the policy ---- */

static void classify_table(void **state)
{
    static const struct {
        int curl, reply, policy, want;
    } t[] = {
        {CURLE_OK, 250, 0, SMTP_SENT},
        {CURLE_COULDNT_CONNECT, 0, 0, SMTP_TEMPORARY},        /* refused: the server is down */
        {CURLE_OPERATION_TIMEDOUT, 0, 0, SMTP_TEMPORARY},
        {CURLE_OPERATION_TIMEDOUT, 250, 0, SMTP_TEMPORARY},   /* timed out after a good reply */
        {CURLE_COULDNT_RESOLVE_HOST, 0, 0, SMTP_TEMPORARY},
        {CURLE_RECV_ERROR, 0, 0, SMTP_TEMPORARY},
        {CURLE_GOT_NOTHING, 0, 0, SMTP_TEMPORARY},
        {CURLE_SSL_CONNECT_ERROR, 0, 0, SMTP_TEMPORARY},
        {CURLE_ABORTED_BY_CALLBACK, 0, 0, SMTP_TEMPORARY},    /* samtale stopping */
        {CURLE_OUT_OF_MEMORY, 0, 0, SMTP_TEMPORARY},
        {CURLE_SEND_ERROR, 450, 0, SMTP_TEMPORARY},           /* RCPT/DATA refused for now */
        {CURLE_SEND_ERROR, 451, 0, SMTP_TEMPORARY},
        {CURLE_SEND_ERROR, 452, 0, SMTP_TEMPORARY},
        {CURLE_WEIRD_SERVER_REPLY, 421, 0, SMTP_TEMPORARY},   /* closing: after DATA or at greeting */
        {CURLE_REMOTE_ACCESS_DENIED, 421, 0, SMTP_TEMPORARY},
        {CURLE_LOGIN_DENIED, 454, 0, SMTP_TEMPORARY},         /* temporary authentication failure */
        {CURLE_SEND_ERROR, 550, 0, SMTP_PERMANENT},
        {CURLE_SEND_ERROR, 553, 0, SMTP_PERMANENT},
        {CURLE_WEIRD_SERVER_REPLY, 554, 0, SMTP_PERMANENT},
        {CURLE_WEIRD_SERVER_REPLY, 552, 0, SMTP_PERMANENT},
        {CURLE_REMOTE_ACCESS_DENIED, 554, 0, SMTP_PERMANENT},
        {CURLE_LOGIN_DENIED, 535, 0, SMTP_PERMANENT},         /* credentials refused */
        {CURLE_LOGIN_DENIED, 0, 0, SMTP_PERMANENT},
        {CURLE_PEER_FAILED_VERIFICATION, 0, 0, SMTP_PERMANENT},
        {CURLE_SSL_CACERT_BADFILE, 0, 0, SMTP_PERMANENT},
        {CURLE_USE_SSL_FAILED, 0, 0, SMTP_PERMANENT},         /* no STARTTLS offered */
        {CURLE_USE_SSL_FAILED, 454, 0, SMTP_TEMPORARY},       /* STARTTLS refused for now */
        {CURLE_URL_MALFORMAT, 0, 0, SMTP_PERMANENT},
        {CURLE_COULDNT_CONNECT, 0, 1, SMTP_PERMANENT},        /* the address policy refused */
    };
    (void)state;
    for(size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        print_message("curl %d reply %d policy %d\n", t[i].curl, t[i].reply, t[i].policy);
        assert_int_equal(smtp_classify(t[i].curl, t[i].reply, t[i].policy), t[i].want);
    }
}

static void reply_cleaning(void **state)
{
    char out[32];
    (void)state;
    smtp_clean_reply(out, sizeof(out), "550 5.1.1 no\r\n such\x1b[31m user\t\x7f", 31);
    assert_string_equal(out, "550 5.1.1 no such [31m user");
    smtp_clean_reply(out, 12, "  250   ok  ", 12);
    assert_string_equal(out, "250 ok");
    /* Cut on a character boundary: "æ" does not fit whole in the last byte. */
    smtp_clean_reply(out, 6, "451 \xc3\xa6\xc3\xa6", 8);
    assert_string_equal(out, "451 ");
    smtp_clean_reply(out, 7, "451 \xc3\xa6\xc3\xa6", 8);
    assert_string_equal(out, "451 \xc3\xa6");
}

static void config_table(void **state)
{
    static const struct {
        const char *url, *from, *user, *password;
        int security;
        long timeout;
        int want;
    } t[] = {
        {"smtp://mail.example.com:587", "s@example.com", NULL, NULL, SMTP_STARTTLS, 0, SAM_OK},
        {"smtp://mail.example.com", "s@example.com", "u", "p", SMTP_STARTTLS, 30000, SAM_OK},
        {"smtps://mail.example.com:465", "s@example.com", NULL, NULL, SMTP_TLS, 0, SAM_OK},
        {"SMTPS://mail.example.com", "s@example.com", NULL, NULL, SMTP_STARTTLS, 0, SAM_OK}, /* TLS anyway */
        {"smtp://127.0.0.1:25", "s@example.com", NULL, NULL, SMTP_NONE, 0, SAM_OK},
        {"", "s@example.com", NULL, NULL, SMTP_STARTTLS, 0, SAM_EINVAL},
        {"http://mail.example.com", "s@example.com", NULL, NULL, SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtp://", "s@example.com", NULL, NULL, SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtp://:25", "s@example.com", NULL, NULL, SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtp://u:secret@mail.example.com", "s@example.com", NULL, NULL, SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtp://mail.example.com/ x", "s@example.com", NULL, NULL, SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtps://mail.example.com", "s@example.com", NULL, NULL, SMTP_NONE, 0, SAM_EINVAL},
        {"smtp://mail.example.com", "s@example.com", NULL, NULL, SMTP_TLS, 0, SAM_EINVAL},
        {"smtp://mail.example.com", "s@example.com", NULL, NULL, 7, 0, SAM_EINVAL},
        {"smtp://mail.example.com", "", NULL, NULL, SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtp://mail.example.com", "Samtale <s@example.com>", NULL, NULL, SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtp://mail.example.com", "s@example.com", "u", "", SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtp://mail.example.com", "s@example.com", "", "p", SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtp://mail.example.com", "s@example.com", "u\r\n", "p", SMTP_STARTTLS, 0, SAM_EINVAL},
        {"smtp://mail.example.com", "s@example.com", NULL, NULL, SMTP_STARTTLS, 500, SAM_EINVAL},
        {"smtp://mail.example.com", "s@example.com", NULL, NULL, SMTP_STARTTLS, 300001, SAM_EINVAL},
    };
    int sec;
    (void)state;
    for(size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct smtp_config c = {.url = t[i].url, .from = t[i].from, .user = t[i].user, .password = t[i].password,
                                .security = t[i].security, .timeout_ms = t[i].timeout};
        print_message("%s from %s security %d\n", t[i].url, t[i].from, t[i].security);
        assert_int_equal(smtp_config_check(&c), t[i].want);
        if(t[i].want)
            assert_null(strstr(sam_errmsg(t[i].want), "secret")); /* a password is never repeated */
    }
    assert_int_equal(smtp_security_parse("starttls", &sec), SAM_OK);
    assert_int_equal(sec, SMTP_STARTTLS);
    assert_int_equal(smtp_security_parse("tls", &sec), SAM_OK);
    assert_int_equal(sec, SMTP_TLS);
    assert_int_equal(smtp_security_parse("none", &sec), SAM_OK);
    assert_int_equal(sec, SMTP_NONE);
    assert_int_equal(smtp_security_parse("ssl", &sec), SAM_EINVAL);
}

/* The policy is asked before every socket: loopback by address and by a name that
 * resolves to it are refused, permanently, and no socket is ever opened. */
static void policy_refuses_before_connecting(void **state)
{
    static const char *urls[] = {"smtp://127.0.0.1:1", "smtp://localhost:1", "smtp://[::1]:1"};
    static const char msg[] = "Subject: x\r\n\r\nx\r\n";
    (void)state;
    assert_int_equal(netpolicy_configure(0, NULL), SAM_OK);
    for(size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct smtp_config c = {.url = urls[i], .from = "s@example.com", .security = SMTP_NONE,
                                .user = "u", .password = "hunter2-secret", .timeout_ms = 2000};
        struct smtp_result r;
        print_message("%s\n", urls[i]);
        assert_int_equal(smtp_send(&c, "a@example.com", msg, sizeof(msg) - 1, &r), SAM_OK);
        assert_int_equal(r.outcome, SMTP_PERMANENT);
        assert_non_null(strstr(r.message, "this machine"));
        assert_null(strstr(r.message, "hunter2"));
        assert_int_equal(r.code, 0);
    }
    /* A bad recipient is refused before anything else. */
    {
        struct smtp_config c = {.url = "smtp://127.0.0.1:1", .from = "s@example.com", .security = SMTP_NONE};
        struct smtp_result r;
        assert_int_equal(smtp_send(&c, "a@example.com\r\nRCPT TO:<b@example.com>", msg, sizeof(msg) - 1, &r),
                         SAM_EINVAL);
        assert_int_equal(r.outcome, SMTP_PERMANENT);
    }
}

/* ---- the outbox in the store ---- */

static int setup(void **state) { return fx_open(state, "mail", "s.db", 5); }
static int teardown(void **state) { return fx_close(state); }

static int64_t put(struct store *st, const char *to, int64_t at)
{
    struct store_mail m;
    memset(&m, 0, sizeof(m));
    snprintf(m.recipient, sizeof(m.recipient), "%s", to);
    snprintf(m.kind, sizeof(m.kind), "invitation");
    m.subject = (char *)"Velkommen";
    m.body = (char *)"Hei \xc3\xa6\xc3\xb8\xc3\xa5\n";
    m.next_attempt_at = at;
    m.created_at = at;
    assert_int_equal(store_mail_insert(st, &m), SAM_OK);
    assert_true(m.id > 0);
    return m.id;
}

static void outbox_claim_finish_list(void **state)
{
    struct fx *f = *state;
    struct store_mail *got = NULL;
    size_t n = 0;
    int64_t a = put(f->st, "a@example.com", 100), b = put(f->st, "b@example.com", 100),
            c = put(f->st, "c@example.com", 500), counts[STORE_MAIL_NSTATES];
    struct store_mail_outcome retry = {.state = "queued", .error = "the mail server answered: 451 later",
                                       .reply = "451 later", .next_attempt_at = 200};
    struct store_mail_outcome sent = {.state = "sent", .reply = "250 OK: queued as X"};
    struct store_mail_outcome failed = {.state = "failed", .error = "the mail server answered: 550 no",
                                        .reply = "550 no"};

    /* Due at 100: a and b, with their bodies, leased and counted. */
    assert_int_equal(store_mail_claim(f->st, 100, "w1", 60, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 2);
    for(size_t i = 0; i < n; i++) {
        assert_string_equal(got[i].state, "sending");
        assert_string_equal(got[i].lease_owner, "w1");
        assert_int_equal(got[i].lease_until, 160);
        assert_int_equal(got[i].attempts, 1);
        assert_string_equal(got[i].body, "Hei \xc3\xa6\xc3\xb8\xc3\xa5\n");
        assert_string_equal(got[i].subject, "Velkommen");
        assert_true(got[i].id == a || got[i].id == b);
    }
    store_mail_list_free(got, n);
    /* Nothing more is due; c is not yet. */
    assert_int_equal(store_mail_claim(f->st, 100, "w2", 60, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 0);
    assert_null(got);

    /* Only the lease holder records an outcome. */
    assert_int_equal(store_mail_finish(f->st, a, "w2", &sent, 101), SAM_ECONFLICT);
    assert_int_equal(store_mail_finish(f->st, a, "w1", &retry, 101), SAM_OK);
    assert_int_equal(store_mail_finish(f->st, a, "w1", &retry, 101), SAM_ECONFLICT); /* no longer leased */
    /* b's worker died: its lease runs out at 160 and another worker takes it over. */
    assert_int_equal(store_mail_claim(f->st, 160, "w2", 60, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_mail_claim(f->st, 161, "w2", 60, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].id, b);
    assert_int_equal(got[0].attempts, 2);
    store_mail_list_free(got, n);
    assert_int_equal(store_mail_finish(f->st, b, "w1", &failed, 162), SAM_ECONFLICT);
    assert_int_equal(store_mail_finish(f->st, b, "w2", &failed, 162), SAM_OK);

    /* a is due again at 200. */
    assert_int_equal(store_mail_claim(f->st, 199, "w1", 60, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_mail_claim(f->st, 200, "w1", 60, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].id, a);
    assert_int_equal(got[0].attempts, 2);
    assert_string_equal(got[0].last_error, "the mail server answered: 451 later");
    store_mail_list_free(got, n);
    assert_int_equal(store_mail_finish(f->st, a, "w1", &sent, 201), SAM_OK);

    /* The list: newest first, no bodies, filtered by state; the counts. */
    assert_int_equal(store_mail_list(f->st, NULL, 0, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 3);
    assert_int_equal(got[0].id, c);
    assert_int_equal(got[1].id, b);
    assert_int_equal(got[2].id, a);
    assert_null(got[0].body);
    assert_string_equal(got[0].state, "queued");
    assert_string_equal(got[1].state, "failed");
    assert_string_equal(got[1].last_error, "the mail server answered: 550 no");
    assert_string_equal(got[1].reply, "550 no");
    assert_string_equal(got[1].lease_owner, "");
    assert_string_equal(got[2].state, "sent");
    assert_int_equal(got[2].sent_at, 201);
    assert_string_equal(got[2].last_error, "");
    assert_string_equal(got[2].reply, "250 OK: queued as X");
    store_mail_list_free(got, n);
    assert_int_equal(store_mail_list(f->st, "failed", 0, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].id, b);
    store_mail_list_free(got, n);
    assert_int_equal(store_mail_list(f->st, NULL, c, 1, &got, &n), SAM_OK); /* paging: before c */
    assert_int_equal(n, 1);
    assert_int_equal(got[0].id, b);
    store_mail_list_free(got, n);
    assert_int_equal(store_mail_counts(f->st, counts), SAM_OK);
    assert_int_equal(counts[0], 1); /* queued */
    assert_int_equal(counts[1], 0); /* sending */
    assert_int_equal(counts[2], 1); /* sent */
    assert_int_equal(counts[3], 1); /* failed */
}

static void outbox_insert_as_sending(void **state)
{
    struct fx *f = *state;
    struct store_mail m, *got = NULL;
    size_t n = 0;
    memset(&m, 0, sizeof(m));
    snprintf(m.recipient, sizeof(m.recipient), "t@example.com");
    snprintf(m.kind, sizeof(m.kind), "test");
    snprintf(m.state, sizeof(m.state), "sending");
    snprintf(m.lease_owner, sizeof(m.lease_owner), "cli-1");
    m.subject = (char *)"s";
    m.body = (char *)"b";
    m.attempts = 1;
    m.lease_until = 1060;
    m.next_attempt_at = m.created_at = 1000;
    assert_int_equal(store_mail_insert(f->st, &m), SAM_OK);
    /* A worker does not take a message a send in progress holds. */
    assert_int_equal(store_mail_claim(f->st, 1059, "w", 60, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 0);
    {
        struct store_mail_outcome o = {.state = "sent", .reply = "250 ok"};
        assert_int_equal(store_mail_finish(f->st, m.id, "cli-1", &o, 1001), SAM_OK);
    }
}

static int dues;

static void count_due(void *arg)
{
    (void)arg;
    dues++;
}

static void enqueue_checks_stores_and_wakes(void **state)
{
    struct fx *f = *state;
    struct core c;
    struct store_mail *got = NULL;
    size_t n = 0;
    int64_t id = 0;
    memset(&c, 0, sizeof(c));
    c.st = f->st;
    c.on_due = count_due;
    dues = 0;
    assert_int_equal(core_mail_enqueue(&c, "ada@example.com", "Invitasjon til \xc3\x86rfugl AS", "Hei Ada\n",
                                       "invitation"), SAM_OK);
    assert_int_equal(dues, 1);
    assert_int_equal(core_mail_add(&c, "bob@example.com", "s", "t", "alert", &id), SAM_OK);
    assert_true(id > 0);
    /* Refused: nothing stored, nobody woken. */
    assert_int_equal(core_mail_enqueue(&c, "ada@example.com", "Hi\r\nBcc: eve@example.com", "x", "invitation"),
                     SAM_EINVAL);
    assert_string_equal(sam_errfield(), "subject");
    assert_int_equal(core_mail_enqueue(&c, "Ada <ada@example.com>", "s", "x", "invitation"), SAM_EINVAL);
    assert_string_equal(sam_errfield(), "to");
    assert_int_equal(core_mail_enqueue(&c, "ada@example.com", "s", "x", "Invitation!"), SAM_EINVAL);
    assert_string_equal(sam_errfield(), "kind");
    assert_int_equal(core_mail_enqueue(&c, "ada@example.com", "s", "x", ""), SAM_EINVAL);
    assert_int_equal(dues, 2);
    assert_int_equal(store_mail_list(f->st, NULL, 0, 10, &got, &n), SAM_OK);
    assert_int_equal(n, 2);
    assert_string_equal(got[1].recipient, "ada@example.com");
    assert_string_equal(got[1].subject, "Invitasjon til \xc3\x86rfugl AS");
    assert_string_equal(got[1].kind, "invitation");
    assert_string_equal(got[1].state, "queued");
    assert_int_equal(got[1].attempts, 0);
    assert_true(got[1].next_attempt_at > 0 && got[1].next_attempt_at == got[1].created_at);
    {
        json_t *v = view_mail(&got[1]);
        assert_string_equal(json_string_value(json_object_get(v, "recipient")), "ada@example.com");
        assert_string_equal(json_string_value(json_object_get(v, "state")), "queued");
        assert_true(json_is_string(json_object_get(v, "next_attempt_at")));
        assert_true(json_is_null(json_object_get(v, "sent_at")));
        assert_null(json_object_get(v, "body"));
        json_decref(v);
    }
    store_mail_list_free(got, n);
}

/* ---- the mailer's decisions ---- */

static void backoff_doubles_to_an_hour(void **state)
{
    struct mailer_options o = {.retry_s = 30, .retry_max_s = 3600, .max_age_s = 2 * 86400};
    static const int want[] = {30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600};
    (void)state;
    for(int i = 0; i < 10; i++)
        assert_int_equal(mailer_backoff(&o, i + 1), want[i]);
    assert_int_equal(mailer_backoff(&o, 1000), 3600);
    o.retry_s = 1;
    assert_int_equal(mailer_backoff(&o, 3), 4);
}

static void decide_table(void **state)
{
    struct mailer_options o = {.retry_s = 30, .retry_max_s = 3600, .max_age_s = 2 * 86400};
    const int64_t now = 1000000;
    static const struct {
        int outcome, attempts;
        int64_t age;
        const char *state;
        int64_t next; /* seconds after now; -1: not set */
    } t[] = {
        {SMTP_SENT, 1, 0, "sent", -1},
        {SMTP_PERMANENT, 1, 0, "failed", -1},
        {SMTP_PERMANENT, 7, 3600, "failed", -1},
        {SMTP_TEMPORARY, 1, 0, "queued", 30},
        {SMTP_TEMPORARY, 2, 30, "queued", 60},
        {SMTP_TEMPORARY, 9, 20000, "queued", 3600},
        {SMTP_TEMPORARY, 40, 2 * 86400 - 100, "queued", 100},   /* one last try at two days */
        {SMTP_TEMPORARY, 41, 2 * 86400, "failed", -1},           /* two days: given up */
        {SMTP_TEMPORARY, 2, 5 * 86400, "failed", -1},            /* found old: tried once, then given up */
    };
    (void)state;
    for(size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct store_mail m;
        struct smtp_result r;
        struct mailer_decision d;
        memset(&m, 0, sizeof(m));
        memset(&r, 0, sizeof(r));
        m.attempts = t[i].attempts;
        m.created_at = now - t[i].age;
        r.outcome = t[i].outcome;
        snprintf(r.message, sizeof(r.message), "the mail server answered: 451 later");
        snprintf(r.reply, sizeof(r.reply), "451 later");
        print_message("case %zu\n", i);
        mailer_decide(&o, &m, &r, now, &d);
        assert_string_equal(d.outcome.state, t[i].state);
        assert_string_equal(d.outcome.reply, "451 later");
        if(t[i].next >= 0)
            assert_int_equal(d.outcome.next_attempt_at, now + t[i].next);
        if(!strcmp(t[i].state, "sent"))
            assert_null(d.outcome.error);
        else
            assert_non_null(strstr(d.outcome.error, "451 later"));
        if(t[i].outcome == SMTP_TEMPORARY && !strcmp(t[i].state, "failed"))
            assert_non_null(strstr(d.outcome.error, "not sent within 2 days"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compose_table),
        cmocka_unit_test(compose_respects_the_limit),
        cmocka_unit_test(message_id_from_row),
        cmocka_unit_test(address_table),
        cmocka_unit_test(classify_table),
        cmocka_unit_test(reply_cleaning),
        cmocka_unit_test(config_table),
        cmocka_unit_test(policy_refuses_before_connecting),
        cmocka_unit_test_setup_teardown(outbox_claim_finish_list, setup, teardown),
        cmocka_unit_test_setup_teardown(outbox_insert_as_sending, setup, teardown),
        cmocka_unit_test_setup_teardown(enqueue_checks_stores_and_wakes, setup, teardown),
        cmocka_unit_test(backoff_doubles_to_an_hour),
        cmocka_unit_test(decide_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
