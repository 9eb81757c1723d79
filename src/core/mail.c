/*
 * mail.c: checking and composing email, and the outbox's front door (see mail.h). Pure
 * text work and one store call: nothing here touches a network.
 */
#include "core/mail.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QP_LINE 76     /* RFC 2045: encoded lines of at most 76 characters */
#define FOLD_AT 78     /* RFC 5322: header lines should stay within 78 */
#define EW_BYTES 39    /* bytes of text per encoded-word: "=?UTF-8?B?" + 52 + "?=" */

static int atext(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-/=?^_`{|}~", ch));
}

static int host_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-';
}

int mail_address_check(const char *field, const char *addr)
{
    const char *at, *p, *label;
    size_t len;
    if(!addr || !*addr)
        return sam_fail_field(SAM_EINVAL, field, "%s is empty: give one address such as name@example.com", field);
    len = strlen(addr);
    at = strrchr(addr, '@');
    if(len > MAIL_ADDRESS_MAX || !at || at == addr || (size_t)(at - addr) > 64 || !at[1])
        goto bad;
    /* Local part: a dot-atom (no quoted strings, no leading, trailing or double dot). */
    if(*addr == '.' || at[-1] == '.')
        goto bad;
    for(p = addr; p < at; p++)
        if(!(atext((unsigned char)*p) || (*p == '.' && p[1] != '.')))
            goto bad;
    /* Host: labels of letters, digits and hyphens, 1-63 each, no hyphen at either end. */
    label = at + 1;
    for(p = at + 1;; p++) {
        if(*p == '.' || !*p) {
            size_t n = (size_t)(p - label);
            if(!n || n > 63 || *label == '-' || p[-1] == '-')
                goto bad;
            if(!*p)
                break;
            label = p + 1;
        } else if(!host_char((unsigned char)*p)) {
            goto bad;
        }
    }
    return SAM_OK;
bad:
    return sam_fail_field(SAM_EINVAL, field, "%s must be one plain address such as name@example.com (no name, "
                                             "brackets, spaces or second address)", field);
}

int mail_header_check(const char *field, const char *value, size_t max)
{
    size_t len = value ? strlen(value) : 0;
    if(!len)
        return sam_fail_field(SAM_EINVAL, field, "%s is empty", field);
    if(len > max)
        return sam_fail_field(SAM_ETOOBIG, field, "%s is longer than %zu bytes", field, max);
    for(const unsigned char *p = (const unsigned char *)value; *p; p++)
        if(*p < 0x20 || *p == 0x7f)
            return sam_fail_field(SAM_EINVAL, field, "%s must be one line without control characters", field);
    if(utf8_count(value, len) < 0)
        return sam_fail_field(SAM_EINVAL, field, "%s is not valid UTF-8", field);
    return SAM_OK;
}

void mail_message_id(int64_t id, int64_t created, const char *from, char *out, size_t n)
{
    const char *at = from ? strrchr(from, '@') : NULL;
    snprintf(out, n, "<%lld.%lld.samtale@%.256s>", (long long)created, (long long)id,
             at && at[1] ? at + 1 : "localhost");
}

/* "Mon, 07 Dec 2026 02:06:20 +0000", without the C library's locale. */
static int put_date(struct buf *out, int64_t t)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if(!gmtime_r(&tt, &tm))
        return sam_fail(SAM_EINVAL, "the date cannot be written");
    return buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
                      months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int needs_encoded_words(const char *s)
{
    for(const unsigned char *p = (const unsigned char *)s; *p; p++)
        if(*p >= 0x80)
            return 1;
    return strstr(s, "=?") != NULL;
}

static int put_base64(struct buf *out, const unsigned char *p, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    int rc = SAM_OK;
    for(size_t i = 0; !rc && i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        q[0] = b64[v >> 18 & 63];
        q[1] = b64[v >> 12 & 63];
        q[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? b64[v & 63] : '=';
        rc = buf_append(out, q, 4);
    }
    return rc;
}

/* The length of the UTF-8 character starting at p (1 for a stray byte). */
static size_t char_len(const unsigned char *p)
{
    size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
    for(size_t i = 1; i < n; i++)
        if((p[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

/* Subject: encoded-words of at most EW_BYTES bytes of text each, cut between characters,
 * one a line (whitespace between encoded-words is dropped when decoding). */
static int put_encoded_subject(struct buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int rc = buf_puts(out, "Subject:");
    while(!rc && *p) {
        size_t n = 0, c;
        while(p[n] && n + (c = char_len(p + n)) <= EW_BYTES)
            n += c;
        if(!n)
            n = char_len(p); /* cannot happen with EW_BYTES >= 4 */
        rc = buf_puts(out, p == (const unsigned char *)s ? " =?UTF-8?B?" : "\r\n =?UTF-8?B?");
        if(!rc)
            rc = put_base64(out, p, n);
        if(!rc)
            rc = buf_puts(out, "?=");
        p += n;
    }
    return rc ? rc : buf_puts(out, "\r\n");
}

/* Subject: plain ASCII, folded before a space where a line would pass FOLD_AT (unfolding
 * gives back the text exactly). A word longer than a line stays whole: the subject's
 * limit keeps it under 998. */
static int put_plain_subject(struct buf *out, const char *s)
{
    size_t col = strlen("Subject: "), len = strlen(s);
    int rc = buf_puts(out, "Subject: ");
    for(size_t i = 0; !rc && i < len;) {
        size_t word = strcspn(s + i + 1, " ") + 1; /* this character and what follows up to a space */
        if(s[i] == ' ' && col + word > FOLD_AT && col > strlen("Subject: ")) {
            rc = buf_puts(out, "\r\n");
            col = 0;
        }
        if(!rc)
            rc = buf_append(out, s + i, word);
        col += word;
        i += word;
    }
    return rc ? rc : buf_puts(out, "\r\n");
}

/* Appends one encoded unit (a literal character or =XX triplets), breaking the line
 * softly first when it would not fit (room is QP_LINE - 1, leaving space for the "=" of
 * a soft break, or QP_LINE for the last unit of a line). */
static int qp_put(struct buf *out, size_t *col, const char *unit, size_t n, size_t room)
{
    int rc = SAM_OK;
    if(*col + n > room) {
        rc = buf_puts(out, "=\r\n");
        *col = 0;
    }
    if(!rc)
        rc = buf_append(out, unit, n);
    *col += n;
    return rc;
}

/* One line of text (without its break) as quoted-printable lines. */
static int qp_line(struct buf *out, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0, i = 0, room;
    int rc = SAM_OK;
    while(!rc && i < n) {
        char unit[12];
        size_t k = 0, clen = char_len(p + i);
        if(i + clen > n)
            clen = 1;
        /* What must be encoded: '=', controls, bytes past ASCII, a space or tab ending
         * the line, and what a transport might change at a line's start ('.' and the F
         * of "From "). col is 0 at the start of each encoded line, soft breaks too. */
        int lead_dot = col == 0 && p[i] == '.';
        int lead_from = col == 0 && n - i >= 5 && !memcmp(p + i, "From ", 5);
        int trailing_ws = (p[i] == ' ' || p[i] == '\t') && i + 1 == n;
        int plain = clen == 1 && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '=';
        if(clen == 1 && p[i] == '\t')
            plain = 1;
        if(plain && !lead_dot && !lead_from && !trailing_ws) {
            unit[k++] = (char)p[i];
            /* A character written plain at the end of a full line could start the next
             * line with '.' or "From ": col decides that when it gets there. */
        } else {
            for(size_t j = 0; j < clen; j++) {
                unit[k++] = '=';
                unit[k++] = hex[p[i + j] >> 4];
                unit[k++] = hex[p[i + j] & 15];
            }
        }
        room = i + clen == n ? QP_LINE : QP_LINE - 1;
        /* A soft break would put this unit at a line's start: check it again there. */
        if(col + k > room && plain && (p[i] == '.' || (n - i >= 5 && !memcmp(p + i, "From ", 5)))) {
            rc = buf_puts(out, "=\r\n");
            col = 0;
            continue;
        }
        rc = qp_put(out, &col, unit, k, room);
        i += clen;
    }
    return rc ? rc : buf_puts(out, "\r\n");
}

/* The body: each line of text (ending in LF, CRLF or CR) as quoted-printable. */
static int put_qp_body(struct buf *out, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    int rc = SAM_OK;
    while(!rc && *p) {
        size_t n = strcspn((const char *)p, "\r\n");
        rc = qp_line(out, p, n);
        p += n;
        if(*p == '\r' && p[1] == '\n')
            p += 2;
        else if(*p)
            p++;
    }
    return rc;
}

static int check_text(const char *text)
{
    size_t len = text ? strlen(text) : 0;
    if(!len)
        return sam_fail_field(SAM_EINVAL, "text", "text is empty");
    if(len > MAIL_TEXT_MAX)
        return sam_fail_field(SAM_ETOOBIG, "text", "text is longer than %d bytes", MAIL_TEXT_MAX);
    if(utf8_count(text, len) < 0)
        return sam_fail_field(SAM_EINVAL, "text", "text is not valid UTF-8");
    return SAM_OK;
}

int mail_compose(const struct mail_message *m, struct buf *out)
{
    int rc;
    if((rc = mail_address_check("from", m->from)) || (rc = mail_address_check("to", m->to)) ||
       (rc = mail_header_check("subject", m->subject, MAIL_SUBJECT_MAX)) ||
       (rc = mail_header_check("message_id", m->message_id, 300)) || (rc = check_text(m->text)))
        return rc;
    rc = buf_printf(out, "From: %s\r\nTo: %s\r\n", m->from, m->to);
    if(!rc)
        rc = needs_encoded_words(m->subject) ? put_encoded_subject(out, m->subject)
                                             : put_plain_subject(out, m->subject);
    if(!rc)
        rc = put_date(out, m->date);
    if(!rc)
        rc = buf_printf(out, "Message-ID: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             "Content-Transfer-Encoding: quoted-printable\r\nAuto-Submitted: auto-generated\r\n\r\n",
                        m->message_id);
    if(!rc)
        rc = put_qp_body(out, m->text);
    if(rc == SAM_ETOOBIG)
        return sam_fail(SAM_ETOOBIG, "the message is larger than %zu bytes once encoded", out->limit);
    return rc;
}

int core_mail_check(const char *to, const char *subject, const char *text, const char *kind)
{
    size_t klen = kind ? strlen(kind) : 0;
    int rc;
    if((rc = mail_address_check("to", to)) || (rc = mail_header_check("subject", subject, MAIL_SUBJECT_MAX)) ||
       (rc = check_text(text)))
        return rc;
    if(!klen || klen > MAIL_KIND_MAX || strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789_-") != klen)
        return sam_fail_field(SAM_EINVAL, "kind", "kind must be 1 to %d of a-z, 0-9, _ and -", MAIL_KIND_MAX);
    return SAM_OK;
}

int core_mail_enqueue(struct core *c, const char *to, const char *subject, const char *text, const char *kind)
{
    return core_mail_add(c, to, subject, text, kind, NULL);
}

/* Stores a message: text as it is, or (sealed) sealed under the secret key. */
static int add(struct core *c, const char *to, const char *subject, const char *text, const char *kind, int sealed,
               int64_t *id);

int core_mail_add(struct core *c, const char *to, const char *subject, const char *text, const char *kind,
                  int64_t *id)
{
    return add(c, to, subject, text, kind, 0, id);
}

int core_mail_enqueue_sealed(struct core *c, const char *to, const char *subject, const char *text, const char *kind)
{
    return add(c, to, subject, text, kind, 1, NULL);
}

static int add(struct core *c, const char *to, const char *subject, const char *text, const char *kind, int sealed,
               int64_t *id)
{
    char *b64 = NULL;
    struct store_mail m;
    int64_t now = time_now();
    int rc = core_mail_check(to, subject, text, kind);
    if(rc)
        return rc;
    memset(&m, 0, sizeof(m));
    snprintf(m.recipient, sizeof(m.recipient), "%s", to);
    snprintf(m.kind, sizeof(m.kind), "%s", kind);
    snprintf(m.state, sizeof(m.state), "queued");
    m.subject = (char *)subject; /* borrowed for the insert; not freed here */
    m.body = (char *)text;
    if(sealed) {
        unsigned char *box = NULL;
        size_t boxlen = 0, n;
        if((rc = core_secret_seal(c, text, strlen(text), &box, &boxlen)))
            return rc;
        n = sodium_base64_ENCODED_LEN(boxlen, sodium_base64_VARIANT_ORIGINAL);
        b64 = malloc(n);
        if(!b64) {
            free(box);
            return SAM_ENOMEM;
        }
        sodium_bin2base64(b64, n, box, boxlen, sodium_base64_VARIANT_ORIGINAL);
        free(box);
        m.body = b64;
        m.sealed = 1;
    }
    m.next_attempt_at = now;
    m.created_at = now;
    rc = store_mail_insert(c->st, &m);
    free(b64);
    if(rc)
        return rc;
    if(id)
        *id = m.id;
    core_due(c);
    return SAM_OK;
}

json_t *view_mail(const struct store_mail *m)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:o, s:s?, s:s?, s:o, s:o}", "id", (json_int_t)m->id,
                     "recipient", m->recipient, "subject", m->subject ? m->subject : "", "kind", m->kind,
                     "state", m->state, "attempts", m->attempts, "next_attempt_at",
                     !strcmp(m->state, "queued") ? view_time(m->next_attempt_at) : json_null(), "last_error",
                     m->last_error[0] ? m->last_error : NULL, "reply", m->reply[0] ? m->reply : NULL,
                     "created_at", view_time(m->created_at), "sent_at", view_time(m->sent_at));
}
