/*
 * fuzz_mail.c: libFuzzer target over email: the address check, the checks of what goes
 * into a message, the composer, and the cleaning of a mail server's replies. The input is
 * "to NUL subject NUL text"; whatever it holds, a message that is composed must keep the
 * format's invariants, which abort() when broken:
 *
 *   - every line ends in CRLF, no CR or LF elsewhere, only 7-bit bytes;
 *   - exactly the nine headers the composer writes (nothing injected through a value);
 *   - header lines within 998 characters; body lines within 76, none starting with ".".
 *
 *   build-asan/fuzz_mail -max_total_time=60 tests/fuzz/corpus-mail
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel/smtp.h"
#include "core/mail.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *msg, size_t len)
{
    size_t pos = 0, headers = 0;
    int in_body = 0;
    while(pos < len) {
        const char *line = msg + pos, *cr = memchr(line, '\r', len - pos);
        size_t n;
        if(!cr || cr + 1 >= msg + len || cr[1] != '\n')
            abort();
        n = (size_t)(cr - line);
        if(memchr(line, '\n', n))
            abort();
        for(size_t i = 0; i < n; i++)
            if((unsigned char)line[i] >= 0x80 || (unsigned char)line[i] == 0 ||
               ((unsigned char)line[i] < 0x20 && !(in_body && line[i] == '\t')))
                abort();
        if(!in_body && n == 0) {
            in_body = 1;
        } else if(!in_body) {
            if(n > 998)
                abort();
            if(line[0] != ' ' && line[0] != '\t')
                headers++;
        } else if(n > 76 || (n && line[0] == '.')) {
            abort();
        }
        pos += n + 2;
    }
    if(!in_body || headers != 9)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, *to, *subject, *text, *nul, reply[80];
    size_t n;
    if(size < 1 || size > 65536)
        return 0;
    /* The reply cleaner, on the raw bytes, into a buffer of 1-64 bytes. */
    n = 1 + data[0] % 64;
    smtp_clean_reply(reply, n, (const char *)data, size);
    if(strlen(reply) >= n)
        abort();
    for(const char *p = reply; *p; p++)
        if((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();

    s = malloc(size + 3);
    if(!s)
        return 0;
    memcpy(s, data, size);
    s[size] = s[size + 1] = s[size + 2] = '\0';
    to = s;
    nul = memchr(to, '\0', size + 3);
    subject = nul + 1;
    nul = memchr(subject, '\0', (size_t)(s + size + 3 - subject));
    text = nul && nul + 1 < s + size + 3 ? nul + 1 : s + size + 2;
    mail_address_check("to", to);
    if(core_mail_check(to, subject, text, "test") == SAM_OK) {
        struct mail_message m = {.from = "samtale@example.com", .to = to, .subject = subject, .text = text,
                                 .date = 1796601980, .message_id = "<1796601980.1.samtale@example.com>"};
        struct buf out;
        int rc;
        buf_init(&out, MAIL_MESSAGE_MAX);
        rc = mail_compose(&m, &out);
        if(rc == SAM_OK)
            check_message(out.data, out.len);
        else if(rc != SAM_ETOOBIG && rc != SAM_ENOMEM)
            abort(); /* checked input must compose */
        buf_cleanup(&out);
    }
    free(s);
    return 0;
}
