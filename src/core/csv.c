/*
 * csv.c: posts in and out as CSV files (see csv.h for the contract, docs/csv.md for the
 * format).
 *
 * The quoting is libcsv's (Debian's libcsv-dev): a small, long-lived parser that takes
 * its input in pieces and calls back once per field and once per record. It is fed one
 * line at a time, so that each record knows the line it starts on: a record starts on the
 * first line that is not blank after the previous one ended, and it can only end at a line
 * end (a quoted field holds line ends as data). It runs in its lenient mode, as
 * spreadsheets and Python's csv module read: a quote inside an unquoted field is a quote.
 * A quoted field left open at the end of the file is found by feeding one more line end:
 * only an open quote can swallow it.
 *
 * Spreadsheet habits taken in: a UTF-8 BOM (Excel's "CSV UTF-8"), CRLF, a lone CR, a
 * semicolon as separator (what Excel writes in Norwegian and Swedish), trailing rows of
 * empty fields. A field that starts with ' followed by one of = + - @ loses that ': the
 * export writes it so that a spreadsheet does not run a post's text as a formula (OWASP's
 * CSV injection advice), and the import takes it back off.
 */
#include "core/csv.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/tz.h"
#include "util/utf8.h"

#include <csv.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const categories[] = {"value", "promo", "personal", "share", "dialogue"};

/* ---- small helpers ---- */

/* Appends {"line"?, "field", "message"} to list (line 0: none). */
static int add_problem(json_t *list, long line, const char *field, const char *message)
{
    json_t *p = json_pack("{s:s, s:s}", "field", field, "message", message);
    if(p && line > 0)
        json_object_set_new(p, "line", json_integer(line));
    return p && !json_array_append_new(list, p) ? SAM_OK : SAM_ENOMEM;
}

/* What a person wrote, cut to about 60 bytes on a character (with "..." when cut), for a
 * message that quotes it. */
static void quoted(char *out, size_t n, const char *s)
{
    size_t len = strlen(s);
    if(len <= 60) {
        snprintf(out, n, "%s", s);
        return;
    }
    snprintf(out, n, "%.*s...", utf8_prefix(s, 57), s);
}

static int blank_char(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Takes the spaces and tabs off both ends of s, in place. */
static void trim(char *s)
{
    size_t len = strlen(s), a = 0;
    while(len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    while(a < len && (s[a] == ' ' || s[a] == '\t'))
        a++;
    memmove(s, s + a, len - a);
    s[len - a] = '\0';
}

/* 1 when s is ' then (any more ' and) one of = + - @: the export's guard against formulas. */
static int formula_guarded(const char *s)
{
    if(*s != '\'')
        return 0;
    while(*s == '\'')
        s++;
    return *s == '=' || *s == '+' || *s == '-' || *s == '@';
}

/* 1 when a spreadsheet would read s as a formula unless guarded (or it is guarded already,
 * so that taking one ' off gives s back). */
static int formula_like(const char *s)
{
    return *s == '=' || *s == '+' || *s == '-' || *s == '@' || formula_guarded(s);
}

/* ---- reading the bytes (csv_table_read) ---- */

struct reader {
    struct csv_table *t;
    long line;                /* the line being fed */
    long start;               /* the line the record being read starts on; 0 between records */
    struct csv_record rec;    /* the record being read */
    int rc;                   /* SAM_ENOMEM once memory ran out */
    int full;                 /* CSV_ROWS_MAX rows read: the rest is not kept */
};

static void record_free(struct csv_record *r)
{
    for(size_t i = 0; i < r->n; i++)
        free(r->fields[i]);
    free(r->fields);
    memset(r, 0, sizeof(*r));
}

/* libcsv: one field of the record being read. Line ends inside it become "\n". */
static void on_field(void *s, size_t len, void *data)
{
    struct reader *r = data;
    const char *in = s ? s : "";
    char *f, **grown;
    size_t k = 0;
    if(r->rc || r->full)
        return;
    if(r->rec.n >= CSV_FIELDS_MAX) {
        r->rec.too_many = 1;
        return;
    }
    if(!(f = malloc(len + 1))) {
        r->rc = SAM_ENOMEM;
        return;
    }
    for(size_t i = 0; i < len; i++) {
        if(in[i] == '\r') {
            f[k++] = '\n';
            if(i + 1 < len && in[i + 1] == '\n')
                i++;
        } else
            f[k++] = in[i];
    }
    f[k] = '\0';
    if(!(grown = realloc(r->rec.fields, (r->rec.n + 1) * sizeof(*grown)))) {
        free(f);
        r->rc = SAM_ENOMEM;
        return;
    }
    r->rec.fields = grown;
    r->rec.fields[r->rec.n++] = f;
}

/* Makes the header's columns from its names. */
static int read_header(struct csv_table *t)
{
    static const struct {
        const char *name;
        int col;
    } known[] = {{"text", CSV_TEXT},         {"channels", CSV_CHANNELS}, {"time", CSV_TIME},
                 {"category", CSV_CATEGORY}, {"campaign", CSV_CAMPAIGN}, {"link", CSV_LINK},
                 {"images", CSV_IMAGES},     {"alt", CSV_ALT}};
    struct csv_record *h = &t->header;
    int has_text = 0, has_known = 0, rc = SAM_OK;
    char msg[400], name[80];
    if(!(t->cols = calloc(h->n ? h->n : 1, sizeof(*t->cols))))
        return SAM_ENOMEM;
    for(size_t i = 0; i < h->n; i++) {
        char *f = h->fields[i];
        size_t k;
        trim(f);
        for(char *p = f; *p; p++)
            if(*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        t->cols[i] = *f ? CSV_UNKNOWN : CSV_UNNAMED;
        for(k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            if(!strcmp(f, known[k].name))
                t->cols[i] = known[k].col;
        if(!strncmp(f, "variant", 7)) {
            /* "variant", and "variant 2", "variant_2", "variant-2", "variant2" */
            const char *p = f + 7;
            if(*p == ' ' || *p == '_' || *p == '-')
                p++;
            while(*p >= '0' && *p <= '9')
                p++;
            if(!*p && (p == f + 7 || p[-1] != ' '))
                t->cols[i] = CSV_VARIANT;
        }
        if(t->cols[i] == CSV_TEXT)
            has_text = 1;
        if(t->cols[i] != CSV_UNKNOWN && t->cols[i] != CSV_UNNAMED)
            has_known = 1;
    }
    if(!has_known) {
        quoted(name, sizeof(name), h->n ? h->fields[0] : "");
        snprintf(msg, sizeof(msg),
                 _("the first row must name the columns (text, channels, time, category, campaign, link, images, "
                   "alt, variant), but its first value is \"%s\""),
                 name);
        return add_problem(t->problems, h->line, "header", msg);
    }
    if(!has_text)
        rc = add_problem(t->problems, h->line, "header", _("the header has no text column: every post needs its text"));
    if(!rc && h->too_many) {
        snprintf(msg, sizeof(msg), _("the header names more than %d columns"), CSV_FIELDS_MAX);
        rc = add_problem(t->problems, h->line, "header", msg);
    }
    for(size_t i = 0; !rc && i < h->n; i++) {
        quoted(name, sizeof(name), h->fields[i]);
        if(t->cols[i] == CSV_UNKNOWN) {
            snprintf(msg, sizeof(msg),
                     _("unknown column \"%s\": the columns are text, channels, time, category, campaign, link, images, "
                       "alt and variant"),
                     name);
            rc = add_problem(t->problems, h->line, "header", msg);
            continue;
        }
        if(t->cols[i] == CSV_VARIANT || t->cols[i] == CSV_UNNAMED)
            continue;
        for(size_t j = 0; !rc && j < i; j++)
            if(t->cols[j] == t->cols[i]) {
                snprintf(msg, sizeof(msg), _("the column \"%s\" is named twice (columns %zu and %zu)"), name, j + 1,
                         i + 1);
                rc = add_problem(t->problems, h->line, "header", msg);
                break;
            }
    }
    return rc;
}

/* libcsv: the record being read ended. */
static void on_record(int c, void *data)
{
    struct reader *r = data;
    struct csv_table *t = r->t;
    int empty = 1;
    (void)c;
    r->rec.line = r->start ? r->start : r->line;
    r->start = 0;
    if(r->rc || r->full) {
        record_free(&r->rec);
        return;
    }
    for(size_t i = 0; i < r->rec.n && empty; i++)
        empty = r->rec.fields[i][0] == '\0';
    if(!t->header.line) {
        t->header = r->rec;
        memset(&r->rec, 0, sizeof(r->rec));
        if((r->rc = read_header(t)))
            return;
        if(json_array_size(t->problems))
            r->full = 1; /* the rows cannot be read without their columns */
        return;
    }
    if(empty && !r->rec.too_many) {
        record_free(&r->rec);
        return;
    }
    if(t->nrows == CSV_ROWS_MAX) {
        char msg[200];
        snprintf(msg, sizeof(msg), _("the file has more than %d rows of posts: split it into smaller files"),
                 CSV_ROWS_MAX);
        r->rc = add_problem(t->problems, r->rec.line, "file", msg);
        r->full = 1;
        record_free(&r->rec);
        return;
    }
    for(size_t i = 0; i < r->rec.n; i++) {
        char *f = r->rec.fields[i];
        int col = i < t->header.n ? t->cols[i] : CSV_UNKNOWN;
        if(col != CSV_TEXT && col != CSV_VARIANT)
            trim(f);
        if(formula_guarded(f))
            memmove(f, f + 1, strlen(f));
    }
    if(!(t->nrows % 64)) {
        struct csv_record *grown = realloc(t->rows, (t->nrows + 64) * sizeof(*grown));
        if(!grown) {
            r->rc = SAM_ENOMEM;
            record_free(&r->rec);
            return;
        }
        t->rows = grown;
    }
    t->rows[t->nrows++] = r->rec;
    memset(&r->rec, 0, sizeof(r->rec));
}

/* The line of the byte at off (1 for the first line). */
static long line_at(const char *data, size_t off)
{
    long line = 1;
    for(size_t i = 0; i < off; i++)
        if(data[i] == '\n' || (data[i] == '\r' && (i + 1 >= off || data[i + 1] != '\n')))
            line++;
    return line;
}

/* The separator: ';' when the header line (up to its first line end outside quotes) holds
 * more semicolons than commas, else ','. */
static char detect_separator(const char *p, size_t len)
{
    size_t commas = 0, semis = 0;
    int q = 0;
    for(size_t i = 0; i < len; i++) {
        if(p[i] == '"')
            q = !q;
        else if(!q && (p[i] == '\n' || p[i] == '\r'))
            break;
        else if(!q && p[i] == ',')
            commas++;
        else if(!q && p[i] == ';')
            semis++;
    }
    return semis > commas ? ';' : ',';
}

/* Checks the bytes are UTF-8 text; a problem of the file (and 1) when not. */
static int bytes_problem(struct csv_table *t, const char *data, size_t len, int *bad)
{
    const char *nul = memchr(data, '\0', len);
    char msg[300];
    *bad = 1;
    if(len >= 2 && (((unsigned char)data[0] == 0xFF && (unsigned char)data[1] == 0xFE) ||
                    ((unsigned char)data[0] == 0xFE && (unsigned char)data[1] == 0xFF)))
        return add_problem(t->problems, 1, "file",
                           _("the file is UTF-16 text: save it as CSV UTF-8 (in Excel: Save as, \"CSV UTF-8\")"));
    if(nul) {
        snprintf(msg, sizeof(msg), _("the file holds a NUL byte on line %ld: it is not a text file; save it as CSV "
                                     "UTF-8"),
                 line_at(data, (size_t)(nul - data)));
        return add_problem(t->problems, line_at(data, (size_t)(nul - data)), "file", msg);
    }
    if(utf8_count(data, len) < 0) {
        /* The first line that is not UTF-8. */
        size_t start = 0;
        for(size_t i = 0; i <= len; i++) {
            if(i < len && data[i] != '\n')
                continue;
            if(utf8_count(data + start, i - start) < 0)
                break;
            start = i + 1;
        }
        snprintf(msg, sizeof(msg),
                 _("the file is not UTF-8 (first on line %ld): save it as CSV UTF-8 (in Excel: Save as, \"CSV "
                   "UTF-8\"), not as plain CSV"),
                 line_at(data, start));
        return add_problem(t->problems, line_at(data, start), "file", msg);
    }
    *bad = 0;
    return SAM_OK;
}

int csv_table_read(const char *data, size_t len, struct csv_table *out)
{
    struct csv_parser p;
    struct reader r;
    size_t off = 0;
    int bad, rc;

    memset(out, 0, sizeof(*out));
    out->sep = ',';
    if(!(out->problems = json_array()))
        return SAM_ENOMEM;
    if(len > CSV_FILE_MAX)
        return sam_fail(SAM_ETOOBIG, "the file is over 5 MiB: split it into smaller files");
    if((rc = bytes_problem(out, data, len, &bad)) || bad)
        return rc;
    if(len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        out->bom = 1;
        off = 3;
    }
    out->sep = detect_separator(data + off, len - off);
    if(csv_init(&p, 0))
        return SAM_ENOMEM;
    csv_set_delim(&p, (unsigned char)out->sep);
    /* libcsv grows a field's buffer by this many bytes at a time (128 by default): a field
     * of megabytes would be copied thousands of times over. */
    csv_set_blk_size(&p, (size_t)1 << 20);
    memset(&r, 0, sizeof(r));
    r.t = out;
    r.line = 1;
    while(off < len && !r.rc && !r.full) {
        /* One line: up to and with "\n", or a CR that no "\n" follows. */
        size_t end = off, blank = 1;
        while(end < len && data[end] != '\n' && !(data[end] == '\r' && (end + 1 >= len || data[end + 1] != '\n'))) {
            if(!blank_char(data[end]))
                blank = 0;
            end++;
        }
        if(end < len)
            end++;
        if(!r.start && !blank)
            r.start = r.line;
        if(r.start && csv_parse(&p, data + off, end - off, on_field, on_record, &r) != end - off && !r.rc)
            r.rc = csv_error(&p) == CSV_ENOMEM ? SAM_ENOMEM : SAM_EINTERNAL;
        off = end;
        r.line++;
    }
    if(r.start && !r.rc && !r.full) {
        /* The last record: ended by one more line end, unless a quote is still open. */
        r.line--;
        csv_parse(&p, "\n", 1, on_field, on_record, &r);
        if(r.start && !r.rc) {
            char msg[300];
            snprintf(msg, sizeof(msg),
                     _("a quoted value that starts on line %ld is never closed: a \" is missing, so the rest of the "
                       "file would be one value"),
                     r.start);
            r.rc = add_problem(out->problems, r.start, "file", msg);
        }
    }
    csv_free(&p);
    record_free(&r.rec);
    if(!r.rc && !out->header.line && !json_array_size(out->problems))
        r.rc = add_problem(out->problems, 1, "file", _("the file is empty: it needs a header row and a row for each post"));
    return r.rc;
}

void csv_table_cleanup(struct csv_table *t)
{
    if(!t)
        return;
    record_free(&t->header);
    for(size_t i = 0; i < t->nrows; i++)
        record_free(&t->rows[i]);
    free(t->rows);
    free(t->cols);
    json_decref(t->problems);
    memset(t, 0, sizeof(*t));
}

/* ---- reading a row (csv_row_read) ---- */

/* n decimal digits at s into *v. */
static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for(int i = 0; i < n; i++) {
        if(s[i] < '0' || s[i] > '9')
            return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

int csv_time_parse(const char *s, const char *zone, int *schedule, int64_t *at)
{
    struct tz_civil cv;
    char word[16];
    const char *p;
    int offset = 0, has_offset = 0;
    size_t n = strlen(s), i;

    *at = 0;
    if(!*s) {
        *schedule = POST_DRAFT;
        return SAM_OK;
    }
    if(n < sizeof(word)) {
        for(i = 0; i < n; i++)
            word[i] = s[i] == '_' || s[i] == '-' ? ' ' : (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
        word[n] = '\0';
        if(!strcmp(word, "now")) {
            *schedule = POST_NOW;
            return SAM_OK;
        }
        if(!strcmp(word, "next slot")) {
            *schedule = POST_NEXT_SLOT;
            return SAM_OK;
        }
    }
    memset(&cv, 0, sizeof(cv));
    /* The date: 2027-03-28, or 28.03.2027. */
    if(n >= 10 && digits(s, 4, &cv.year) && s[4] == '-' && digits(s + 5, 2, &cv.month) && s[7] == '-' &&
       digits(s + 8, 2, &cv.day))
        p = s + 10;
    else if(n >= 10 && digits(s, 2, &cv.day) && s[2] == '.' && digits(s + 3, 2, &cv.month) && s[5] == '.' &&
            digits(s + 6, 4, &cv.year))
        p = s + 10;
    else
        return SAM_EINVAL;
    /* The time of day: [T or space] 09:00, seconds and a fraction optional. */
    if(*p != 'T' && *p != 't' && *p != ' ')
        return SAM_EINVAL;
    p++;
    if(!digits(p, 2, &cv.hour) || p[2] != ':' || !digits(p + 3, 2, &cv.minute))
        return SAM_EINVAL;
    p += 5;
    if(*p == ':') {
        if(!digits(p + 1, 2, &cv.second))
            return SAM_EINVAL;
        p += 3;
        if(*p == '.') {
            p++;
            if(*p < '0' || *p > '9')
                return SAM_EINVAL;
            while(*p >= '0' && *p <= '9')
                p++;
        }
    }
    /* An offset: Z, +02:00, -0500. */
    if(*p == 'Z' || *p == 'z') {
        has_offset = 1;
        p++;
    } else if(*p == '+' || *p == '-') {
        int oh, om, sign = *p == '-' ? -1 : 1;
        if(!digits(p + 1, 2, &oh))
            return SAM_EINVAL;
        if(p[3] == ':' && digits(p + 4, 2, &om))
            p += 6;
        else if(digits(p + 3, 2, &om))
            p += 5;
        else
            return SAM_EINVAL;
        if(oh > 23 || om > 59)
            return SAM_EINVAL;
        offset = sign * (oh * 3600 + om * 60);
        has_offset = 1;
    }
    if(*p)
        return SAM_EINVAL;
    if(cv.year < 1970 || cv.year > 9999 || cv.month < 1 || cv.month > 12 || cv.day < 1 ||
       cv.day > days_in_month(cv.year, cv.month) || cv.hour > 23 || cv.minute > 59 || cv.second > 59)
        return SAM_EINVAL;
    if(has_offset)
        *at = tz_days_from_civil(cv.year, cv.month, cv.day) * 86400 + cv.hour * 3600 + cv.minute * 60 + cv.second -
              offset;
    else if(!zone || tz_to_utc(zone, &cv, at, NULL))
        return SAM_EINVAL;
    *schedule = POST_AT;
    return SAM_OK;
}

/* The channels column: names separated by "|" into out->in.channels. */
static int read_channels(const char *field, const struct csv_env *env, struct csv_row *out)
{
    const char *p = field;
    char msg[700], name[80], list[300];
    int rc = SAM_OK;
    size_t used = 0;

    /* The names it could have meant, for the message about one it does not know. */
    list[0] = '\0';
    for(size_t i = 0; i < env->nchannels && used < sizeof(list); i++) {
        const struct store_channel *ch = &env->channels[i];
        if(!strcmp(ch->kind, "feed") || !strcmp(ch->kind, "jetstream"))
            continue;
        quoted(name, sizeof(name), ch->name);
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", name);
    }
    if(used >= sizeof(list))
        snprintf(list + sizeof(list) - 5, 5, "...");
    while(!rc && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char *part = strndup(p, len);
        const struct store_channel *found = NULL;
        size_t matches = 0;
        p += len + (bar ? 1 : 0);
        if(!part)
            return SAM_ENOMEM;
        trim(part);
        if(!*part) {
            free(part);
            continue;
        }
        for(size_t i = 0; i < env->nchannels && !found; i++)
            if(!strcmp(env->channels[i].name, part))
                found = &env->channels[i];
        for(size_t i = 0; i < env->nchannels && !found; i++)
            if(!strcasecmp(env->channels[i].name, part))
                matches++;
        for(size_t i = 0; i < env->nchannels && !found && matches == 1; i++)
            if(!strcasecmp(env->channels[i].name, part))
                found = &env->channels[i];
        quoted(name, sizeof(name), part);
        free(part);
        if(!found) {
            if(list[0])
                snprintf(msg, sizeof(msg), _("no channel is named \"%s\" in this workspace (its channels: %s)"), name,
                         list);
            else
                snprintf(msg, sizeof(msg), _("no channel is named \"%s\": this workspace has no channel to publish to "
                                             "yet"),
                         name);
            rc = add_problem(out->problems, 0, "channels", msg);
            continue;
        }
        if(!strcmp(found->kind, "feed") || !strcmp(found->kind, "jetstream")) {
            snprintf(msg, sizeof(msg), _("\"%s\" is a %s channel: it listens, it cannot publish"), name, found->kind);
            rc = add_problem(out->problems, 0, "channels", msg);
            continue;
        }
        {
            size_t k;
            for(k = 0; k < out->in.nchannels && out->channels[k] != found->id; k++)
                ;
            if(k < out->in.nchannels) {
                snprintf(msg, sizeof(msg), _("\"%s\" is named twice"), name);
                rc = add_problem(out->problems, 0, "channels", msg);
                continue;
            }
        }
        if(out->in.nchannels == POST_CHANNELS_MAX) {
            snprintf(msg, sizeof(msg), _("a post goes to at most %d channels"), POST_CHANNELS_MAX);
            rc = add_problem(out->problems, 0, "channels", msg);
            break;
        }
        out->channels[out->in.nchannels++] = found->id;
    }
    return rc;
}

int csv_split_list(const char *field, char **out, size_t max, size_t *n)
{
    const char *p = field;
    *n = 0;
    while(*p == ' ' || *p == '\t')
        p++;
    if(!*p)
        return SAM_OK;
    for(;;) {
        const char *end = strchr(p, '|'), *stop = end ? end : p + strlen(p);
        const char *a = p, *z = stop;
        while(a < z && (*a == ' ' || *a == '\t'))
            a++;
        while(z > a && (z[-1] == ' ' || z[-1] == '\t'))
            z--;
        if(*n == max || !(out[*n] = strndup(a, (size_t)(z - a)))) {
            int rc = *n == max ? SAM_ETOOBIG : SAM_ENOMEM;
            /* Nothing given back: out holds no pointer to what is freed here (a caller's
             * cleanup frees what out holds). */
            for(size_t i = 0; i < *n; i++) {
                free(out[i]);
                out[i] = NULL;
            }
            *n = 0;
            return rc;
        }
        (*n)++;
        if(!end)
            return SAM_OK;
        p = end + 1;
    }
}

/* The image a name of the images column means: "media:ID" (an image of the workspace, as
 * an export writes it), else an image given with the file by that name, or by the last
 * part of it (a path's file name). 0 when there is none. */
static int64_t image_named(const char *name, const struct csv_env *env)
{
    const char *base = strrchr(name, '/');
    char *end;
    if(!strncmp(name, "media:", 6)) {
        long long id = strtoll(name + 6, &end, 10);
        return id > 0 && !*end ? (int64_t)id : 0;
    }
    base = base ? base + 1 : name;
    if(strrchr(base, '\\'))
        base = strrchr(base, '\\') + 1;
    for(size_t i = 0; i < env->nimages; i++)
        if(env->images[i].name && !strcmp(env->images[i].name, name))
            return env->images[i].id;
    for(size_t i = 0; !env->exact_names && i < env->nimages; i++)
        if(env->images[i].name && !strcmp(env->images[i].name, base))
            return env->images[i].id;
    return 0;
}

/* The images column (names separated by "|") and the alt column (their alt texts, in the
 * same order) into out->media. */
static int read_images(const char *images, const char *alt, const struct csv_env *env, struct csv_row *out)
{
    char *names[MEDIA_PER_POST_MAX], what[80], msg[400];
    size_t n = 0, nalt = 0;
    int rc = csv_split_list(images, names, MEDIA_PER_POST_MAX, &n);
    if(rc == SAM_ETOOBIG) {
        snprintf(msg, sizeof(msg), _("a post has at most %d images; separate their names with |"), MEDIA_PER_POST_MAX);
        return add_problem(out->problems, 0, "images", msg);
    }
    if(rc)
        return rc;
    rc = csv_split_list(alt, out->alts, MEDIA_PER_POST_MAX, &nalt);
    if(rc == SAM_ETOOBIG || (!rc && nalt > n)) {
        rc = add_problem(out->problems, 0, "alt",
                         _("the alt column has more texts than the images column has images: give one alt text "
                           "per image, separated by |, in the same order"));
    }
    for(size_t i = 0; !rc && i < n; i++) {
        int64_t id = names[i][0] ? image_named(names[i], env) : 0;
        if(!id) {
            quoted(what, sizeof(what), names[i]);
            snprintf(msg, sizeof(msg),
                     _("the image \"%s\" was not given with the file: choose it together with the CSV file (in the "
                       "CLI, put it beside the file)"),
                     what);
            rc = add_problem(out->problems, 0, "images", msg);
            continue;
        }
        out->media[out->in.nmedia].id = id;
        out->media[out->in.nmedia].alt = i < nalt ? out->alts[i] : NULL;
        out->in.nmedia++;
    }
    for(size_t i = 0; i < n; i++)
        free(names[i]);
    out->in.media = out->media;
    out->in.media_set = out->in.nmedia > 0;
    return rc;
}

/* A problem core_post_validate found with in: its field and message. */
static int validate_one(struct csv_row *out, const struct post_input *in, const char *column)
{
    int rc = core_post_validate(in);
    if(rc == SAM_EINVAL || rc == SAM_ETOOBIG)
        return add_problem(out->problems, 0, column, sam_errmsg(rc));
    return rc;
}

int csv_row_read(const struct csv_table *t, size_t row, const struct csv_env *env, struct csv_row *out)
{
    const struct csv_record *r = &t->rows[row];
    const char *text = "", *channels = "", *when = "", *category = "", *campaign = "", *link = "", *images = "";
    const char *alt = "";
    char msg[400], what[80];
    int rc = SAM_OK, schedule;
    int64_t at;

    memset(out, 0, sizeof(*out));
    out->line = r->line;
    out->in.channels = out->channels;
    if(!(out->problems = json_array()) || !(out->variants = json_array()))
        return SAM_ENOMEM;
    size_t extra = 0;
    for(size_t i = t->header.n; i < r->n; i++)
        extra += r->fields[i][0] != '\0';
    if(r->too_many || extra) {
        snprintf(msg, sizeof(msg),
                 _("this row has %zu values but the header names %zu columns: a value that holds a \"%c\" needs "
                   "quotes around it"),
                 r->too_many ? (size_t)CSV_FIELDS_MAX + 1 : r->n, t->header.n, t->sep);
        /* Its values are likely in the wrong columns: what they would say is no help. */
        return add_problem(out->problems, 0, "row", msg);
    }
    for(size_t i = 0; !rc && i < r->n && i < t->header.n; i++) {
        const char *f = r->fields[i];
        switch(t->cols[i]) {
        case CSV_TEXT: text = f; break;
        case CSV_CHANNELS: channels = f; break;
        case CSV_TIME: when = f; break;
        case CSV_CATEGORY: category = f; break;
        case CSV_CAMPAIGN: campaign = f; break;
        case CSV_LINK: link = f; break;
        case CSV_IMAGES: images = f; break;
        case CSV_ALT: alt = f; break;
        case CSV_VARIANT:
            if(*f && json_array_append_new(out->variants, json_string(f)))
                rc = SAM_ENOMEM;
            break;
        default:
            if(*f) {
                snprintf(msg, sizeof(msg), _("column %zu has a value but no name in the header"), i + 1);
                rc = add_problem(out->problems, 0, "row", msg);
            }
        }
    }
    if(rc)
        return rc;
    /* The content, each field on its own, so that every problem is told at once. */
    out->in.text = text;
    {
        struct post_input v = {.text = text};
        rc = validate_one(out, &v, "text");
    }
    if(!rc && *link) {
        struct post_input v = {.link = link};
        out->in.link = link;
        rc = validate_one(out, &v, "link");
    }
    if(!rc && *campaign) {
        struct post_input v = {.campaign = campaign};
        out->in.campaign = campaign;
        rc = validate_one(out, &v, "campaign");
    }
    if(!rc && json_array_size(out->variants)) {
        struct post_input v = {.variants = out->variants};
        out->in.variants = out->variants;
        rc = validate_one(out, &v, "variant");
    }
    if(!rc && *category) {
        for(size_t k = 0; k < 5; k++)
            if(!strcasecmp(category, categories[k]))
                out->in.category = categories[k];
        if(!out->in.category) {
            quoted(what, sizeof(what), category);
            snprintf(msg, sizeof(msg), _("category must be value, promo, personal, share or dialogue, not \"%s\""),
                     what);
            rc = add_problem(out->problems, 0, "category", msg);
        }
    }
    if(!rc && (*images || *alt))
        rc = read_images(images, alt, env, out);
    if(!rc)
        rc = read_channels(channels, env, out);
    if(rc)
        return rc;
    if(csv_time_parse(when, env->zone, &schedule, &at)) {
        quoted(what, sizeof(what), when);
        snprintf(msg, sizeof(msg),
                 _("the time \"%s\" is not understood: write 2027-03-28 09:00 (the workspace's time zone, %s), "
                   "2027-03-28T09:00:00+02:00, next slot, now, or leave it empty for a draft"),
                 what, env->zone ? env->zone : "UTC");
        return add_problem(out->problems, 0, "time", msg);
    }
    out->in.schedule = schedule;
    out->in.at = at;
    if(schedule == POST_AT && at < env->now - 60 &&
       (rc = add_problem(out->problems, 0, "time", _("that time has passed: choose a time in the future or 'now'"))))
        return rc;
    if(schedule == POST_DRAFT && out->in.nchannels)
        return add_problem(out->problems, 0, "channels",
                           _("a draft has no channels yet: leave channels empty, or give a time (a date, next slot "
                             "or now) to schedule the post"));
    if(schedule != POST_DRAFT && !out->in.nchannels && !*channels)
        return add_problem(out->problems, 0, "channels",
                           _("name the channels to publish to (several separated by |), or leave the time empty for "
                             "a draft"));
    return SAM_OK;
}

void csv_row_cleanup(struct csv_row *p)
{
    if(!p)
        return;
    for(size_t i = 0; i < MEDIA_PER_POST_MAX; i++)
        free(p->alts[i]);
    json_decref(p->variants);
    json_decref(p->problems);
    memset(p, 0, sizeof(*p));
}

/* ---- importing (core_csv_import) ---- */

/* Findings the report lists at most (each about half a kilobyte): the rest are counted. */
#define REPORT_VIOLATIONS 4000

/* The column of a file that a field of post_input is read from. */
static const char *column_of(const char *field)
{
    static const char *const same[] = {"text", "channels", "category", "campaign", "link"};
    if(!field)
        return "row";
    if(!strcmp(field, "media"))
        return "images";
    if(!strcmp(field, "media.alt"))
        return "alt";
    for(size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        if(!strcmp(field, same[i]))
            return same[i];
    if(!strcmp(field, "schedule"))
        return "time";
    if(!strcmp(field, "variants"))
        return "variant";
    if(!strcmp(field, "offers"))
        return "text"; /* the text says {offer}, and a file gives no codes */
    return "row";
}

static int import_id_valid(const char *id)
{
    size_t n = strlen(id);
    if(n == 0 || n > CSV_IMPORT_ID_MAX)
        return 0;
    for(const char *p = id; *p; p++)
        if(!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
             *p == '_' || *p == ':' || *p == '-'))
            return 0;
    return 1;
}

/* The answer to an import sent again under the id of one stored before. */
static int repeated_report(const struct store_import *imp, json_t **report)
{
    json_t *posts = json_loads(imp->posts, 0, NULL), *rows = json_array(), *pair;
    size_t i;
    if(!posts || !rows) {
        json_decref(posts);
        json_decref(rows);
        return SAM_ENOMEM;
    }
    json_array_foreach(posts, i, pair)
        json_array_append_new(rows, json_pack("{s:O, s:b, s:[], s:[], s:O}", "line", json_array_get(pair, 0), "ok", 1,
                                              "problems", "violations", "post_id", json_array_get(pair, 1)));
    *report = json_pack("{s:b, s:o, s:[], s:I, s:i, s:i, s:i, s:s, s:b, s:o}", "dry_run", 0, "rows", rows, "problems",
                        "total", (json_int_t)json_array_size(posts), "with_problems", 0, "blocked", 0, "created", 0,
                        "import_id", imp->key, "already_imported", 1, "imported_at", view_time(imp->created_at));
    json_decref(posts);
    return *report ? SAM_OK : SAM_ENOMEM;
}

/* Looks for an import stored before under o->import_id: 1 (and *report, or rc) when the
 * answer is that one's. */
static int earlier_import(struct core *c, int64_t ws, const char *id, const char *digest, json_t **report, int *rc)
{
    struct store_import imp;
    int r = store_import_get(c->st, ws, id, &imp);
    if(r == SAM_ENOTFOUND)
        return 0;
    if(r) {
        *rc = r;
        return 1;
    }
    if(strcmp(imp.digest, digest))
        *rc = sam_fail_field(SAM_ECONFLICT, "import_id", "the import id \"%s\" was used for another file: choose a new "
                                                         "id for this one",
                             id);
    else
        *rc = repeated_report(&imp, report);
    store_import_cleanup(&imp);
    return 1;
}

static const char *channel_name(const struct store_channel *list, size_t n, int64_t id)
{
    const struct store_channel *ch = core_channel_find(list, n, id);
    return ch ? ch->name : "";
}

int core_csv_import(struct core *c, const struct actor *a, int64_t ws, const char *data, size_t len,
                    const struct csv_import_options *o, int64_t now, json_t **report)
{
    struct csv_table t;
    struct store_workspace w;
    struct store_channel *chans = NULL;
    size_t nchans = 0, with_problems = 0, blocked = 0, listed = 0, omitted = 0;
    struct post_batch *b = NULL;
    json_t *rows = NULL, *rep = NULL;
    unsigned char hash[32];
    char digest[65];
    size_t *batch_of = NULL; /* batch_of[row]: its post in the batch + 1, 0 when none */
    int rc;

    *report = NULL;
    memset(&t, 0, sizeof(t));
    if(o->import_id && !import_id_valid(o->import_id))
        return sam_fail_field(SAM_EINVAL, "import_id", "import_id must be 1-%d characters of A-Z, a-z, 0-9, '.', '_', "
                                                       "':' and '-'",
                              CSV_IMPORT_ID_MAX);
    if(o->override_reason && *o->override_reason) {
        struct post_input v = {.override_reason = o->override_reason};
        if((rc = core_post_validate(&v)))
            return rc;
    }
    if(len > CSV_FILE_MAX)
        return sam_fail_field(SAM_EINVAL, "csv", "%s must have at most %zu bytes", "csv", CSV_FILE_MAX);
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)data, len, NULL, 0);
    sodium_bin2hex(digest, sizeof(digest), hash, sizeof(hash));
    if(!o->dry_run && o->import_id && earlier_import(c, ws, o->import_id, digest, report, &rc))
        return rc;
    if((rc = store_workspace_get(c->st, ws, &w)))
        return rc;
    if((rc = csv_table_read(data, len, &t)))
        goto out;
    if(!(rows = json_array()) || !(batch_of = calloc(t.nrows + 1, sizeof(*batch_of)))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    if(!json_array_size(t.problems) && t.nrows == 0)
        rc = add_problem(t.problems, t.header.line, "file", _("the file has a header but no rows of posts"));
    if(!rc && !json_array_size(t.problems)) {
        /* Every row planned in one batch, under the planning lock. */
        rc = store_channel_list(c->st, ws, NULL, 0, 10000, &chans, &nchans);
        if(!rc)
            rc = post_batch_open(c, a, ws, now, &b);
        if(!rc && !o->dry_run && o->import_id && earlier_import(c, ws, o->import_id, digest, report, &rc))
            goto out; /* the same import, stored while this one waited for the lock */
        for(size_t i = 0; !rc && i < t.nrows; i++) {
            struct csv_env env = {w.timezone, now, chans, nchans, o->images, o->nimages, o->exact_names};
            struct csv_row cp;
            json_t *violations = NULL, *row;
            size_t row_omitted = 0;
            int blk = 0;
            rc = csv_row_read(&t, i, &env, &cp);
            if(!rc && !json_array_size(cp.problems)) {
                sam_clear();
                rc = post_batch_add(b, &cp.in, cp.line, &violations, &blk);
                if(rc == SAM_EINVAL || rc == SAM_ETOOBIG)
                    rc = add_problem(cp.problems, 0, column_of(sam_errfield()), sam_errmsg(rc));
                else if(!rc)
                    batch_of[i] = post_batch_count(b);
            }
            if(!rc && violations && listed + json_array_size(violations) > REPORT_VIOLATIONS) {
                /* The report stays well within an answer's size: past the budget, the
                 * findings are counted, not listed. */
                size_t keep = listed < REPORT_VIOLATIONS ? REPORT_VIOLATIONS - listed : 0;
                omitted += json_array_size(violations) - keep;
                row_omitted = json_array_size(violations) - keep;
                while(json_array_size(violations) > keep)
                    json_array_remove(violations, json_array_size(violations) - 1);
            }
            if(!rc && violations)
                listed += json_array_size(violations);
            if(!rc) {
                int has_problems = json_array_size(cp.problems) > 0;
                with_problems += has_problems;
                blocked += blk;
                row = json_pack("{s:I, s:b, s:O, s:o}", "line", (json_int_t)cp.line, "ok", !has_problems && !blk,
                                "problems", cp.problems, "violations", violations ? violations : json_array());
                violations = NULL;
                if(row && blk)
                    json_object_set_new(row, "blocked", json_true());
                if(row && row_omitted)
                    json_object_set_new(row, "violations_omitted", json_integer((json_int_t)row_omitted));
                if(row && batch_of[i] && cp.in.schedule == POST_DRAFT)
                    json_object_set_new(row, "draft", json_true());
                if(row && batch_of[i]) {
                    size_t n;
                    const struct store_occurrence *occ = post_batch_copies(b, batch_of[i] - 1, &n);
                    json_t *planned = json_array();
                    for(size_t k = 0; planned && k < n; k++)
                        json_array_append_new(planned, json_pack("{s:I, s:s, s:o}", "channel_id",
                                                                 (json_int_t)occ[k].channel_id, "channel",
                                                                 channel_name(chans, nchans, occ[k].channel_id), "at",
                                                                 view_time(occ[k].planned_at)));
                    json_object_set_new(row, "planned", planned ? planned : json_array());
                }
                if(!row || json_array_append_new(rows, row))
                    rc = SAM_ENOMEM;
            }
            json_decref(violations);
            csv_row_cleanup(&cp);
        }
    }
    if(rc)
        goto out;
    rep = json_pack("{s:b, s:O, s:O, s:I, s:I, s:I, s:i}", "dry_run", o->dry_run, "rows", rows, "problems", t.problems,
                    "total", (json_int_t)t.nrows, "with_problems", (json_int_t)with_problems, "blocked",
                    (json_int_t)blocked, "created", 0);
    if(!rep) {
        rc = SAM_ENOMEM;
        goto out;
    }
    if(o->import_id)
        json_object_set_new(rep, "import_id", json_string(o->import_id));
    if(omitted)
        json_object_set_new(rep, "violations_omitted", json_integer((json_int_t)omitted));
    if(o->dry_run)
        goto answer;
    if(json_array_size(t.problems)) {
        rc = sam_fail_field(SAM_EINVAL, "csv", "the file cannot be read as posts; nothing was imported");
        goto answer;
    }
    if(with_problems) {
        char msg[200];
        snprintf(msg, sizeof(msg), n_("%zu row has problems; nothing was imported", "%zu rows have problems; nothing "
                                      "was imported", with_problems),
                 with_problems);
        rc = sam_fail_field(SAM_EINVAL, "csv", "%s", msg);
        goto answer;
    }
    if(blocked && !(o->override_reason && *o->override_reason)) {
        char msg[240];
        snprintf(msg, sizeof(msg), n_("a blocking check stops %zu row; nothing was imported (give a reason to import "
                                      "anyway)",
                                      "blocking checks stop %zu rows; nothing was imported (give a reason to import "
                                      "anyway)",
                                      blocked),
                 blocked);
        rc = sam_fail_field(SAM_EINVAL, "checks", "%s", msg);
        goto answer;
    }
    {
        /* Everything in one transaction: the posts, their audit entries, the summary and
         * the import's record. */
        json_t *lines = json_array(), *summary;
        struct post_batch_import imp = {o->import_id, digest, NULL};
        size_t i, created = post_batch_count(b);
        json_t *row;
        json_array_foreach(rows, i, row)
            if(json_is_true(json_object_get(row, "blocked")))
                json_array_append(lines, json_object_get(row, "line"));
        summary = json_pack("{s:I, s:I, s:s?, s:s?, s:o}", "rows", (json_int_t)t.nrows, "created",
                            (json_int_t)created, "import_id", o->import_id, "override_reason",
                            blocked ? o->override_reason : NULL, "overridden_lines", lines ? lines : json_array());
        imp.summary = summary;
        rc = summary ? post_batch_store(b, o->override_reason, &imp) : SAM_ENOMEM;
        json_decref(summary);
        if(rc) {
            json_decref(rep);
            rep = NULL;
            goto out;
        }
        for(size_t k = 0; k < t.nrows; k++) {
            row = json_array_get(rows, k);
            if(!batch_of[k])
                continue;
            json_object_set_new(row, "post_id", json_integer(post_batch_id(b, batch_of[k] - 1)));
            if(json_is_true(json_object_get(row, "blocked")))
                json_object_set_new(row, "overridden", json_true());
        }
        json_object_set_new(rep, "created", json_integer((json_int_t)created));
        if(post_batch_pending(b)) /* P12: they wait for an approver */
            json_object_set_new(rep, "approval_pending", json_integer((json_int_t)post_batch_pending(b)));
    }
answer:
    *report = rep;
    rep = NULL;
out:
    post_batch_free(b);
    store_channel_list_free(chans, nchans);
    json_decref(rows);
    json_decref(rep);
    free(batch_of);
    csv_table_cleanup(&t);
    return rc;
}

/* ---- exporting (core_csv_export) ---- */

#define EXPORT_PAGE 100 /* posts a part */

struct core_csv_export {
    struct core *c;
    int64_t ws;
    struct csv_export_filter f;
    char zone[STORE_TZ_MAX + 1];
    struct store_channel *channels;
    size_t nchannels;
    size_t variants;     /* variant columns: the most any post has */
    int64_t after;       /* the last post written */
    int header_done, done;
};

/* Appends one field (quoted when it must be, guarded when a spreadsheet would take it
 * for a formula) and the separator or line end after it. */
static int put_field(struct buf *out, const char *s, char sep, int last)
{
    size_t len = strlen(s);
    int rc, guard = formula_like(s);
    int quote = guard || strchr(s, sep) || strpbrk(s, "\"\r\n") ||
                (len && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t'));
    if(!quote)
        rc = buf_append(out, s, len);
    else {
        /* libcsv's writer: the field in quotes, its quotes doubled; a guarded one starts
         * with ' (taken off again by csv_table_read). */
        char *src = malloc(len + 2), *tmp = malloc(2 * (len + 1) + 3);
        size_t n;
        if(!src || !tmp) {
            free(src);
            free(tmp);
            return SAM_ENOMEM;
        }
        snprintf(src, len + 2, "%s%s", guard ? "'" : "", s);
        n = csv_write2(tmp, 2 * (len + 1) + 3, src, strlen(src), '"');
        rc = buf_append(out, tmp, n);
        free(src);
        free(tmp);
    }
    if(!rc)
        rc = buf_append(out, last ? "\r\n" : &sep, last ? 2 : 1);
    return rc;
}

static int put_row(struct core_csv_export *it, struct buf *out, const char *text, const char *channels,
                   const char *when, const char *category, const char *campaign, const char *link,
                   const char *images, const char *alt, json_t *variants)
{
    char sep = it->f.sep;
    int rc = put_field(out, text, sep, 0);
    if(!rc)
        rc = put_field(out, channels, sep, 0);
    if(!rc)
        rc = put_field(out, when, sep, 0);
    if(!rc)
        rc = put_field(out, category, sep, 0);
    if(!rc)
        rc = put_field(out, campaign, sep, 0);
    if(!rc)
        rc = put_field(out, link, sep, 0);
    if(!rc)
        rc = put_field(out, images, sep, 0);
    if(!rc)
        rc = put_field(out, alt, sep, it->variants == 0);
    for(size_t i = 0; !rc && i < it->variants; i++) {
        const char *v = json_string_value(json_array_get(variants, i));
        rc = put_field(out, v ? v : "", sep, i + 1 == it->variants);
    }
    return rc;
}

int core_csv_export_open(struct core *c, int64_t ws, const struct csv_export_filter *f, struct core_csv_export **out)
{
    struct core_csv_export *it;
    struct store_workspace w;
    int64_t after = 0;
    int rc;
    *out = NULL;
    if(f->state) {
        static const char *const states[] = {"draft", "scheduled", "published", "failed", "cancelled"};
        size_t i;
        for(i = 0; i < 5 && strcmp(f->state, states[i]); i++)
            ;
        if(i == 5)
            return sam_fail_field(SAM_EINVAL, "state", "state must be draft, scheduled, published, failed or cancelled");
    }
    if(f->channel) {
        struct store_channel ch;
        rc = core_channel_get(c, ws, f->channel, &ch);
        if(rc == SAM_ENOTFOUND)
            return sam_fail_field(SAM_EINVAL, "channel", "channel %lld is not in this workspace", (long long)f->channel);
        if(rc)
            return rc;
        store_channel_cleanup(&ch);
    }
    if((rc = store_workspace_get(c->st, ws, &w)))
        return rc;
    if(!(it = calloc(1, sizeof(*it))))
        return SAM_ENOMEM;
    it->c = c;
    it->ws = ws;
    it->f = *f;
    it->f.state = NULL;
    if(f->state && !(it->f.state = strdup(f->state))) {
        free(it);
        return SAM_ENOMEM;
    }
    if(it->f.sep != ';')
        it->f.sep = ',';
    snprintf(it->zone, sizeof(it->zone), "%s", w.timezone);
    rc = store_channel_list(c->st, ws, NULL, 0, 10000, &it->channels, &it->nchannels);
    /* The variant columns the header needs: the most any post has. */
    for(;;) {
        struct store_post *ps = NULL;
        size_t n = 0;
        if(rc || (rc = store_post_list(c->st, ws, it->f.state, after, 500, &ps, &n)))
            break;
        for(size_t i = 0; i < n; i++) {
            json_t *v = json_loads(ps[i].variants ? ps[i].variants : "[]", 0, NULL);
            if(json_array_size(v) > it->variants)
                it->variants = json_array_size(v);
            json_decref(v);
        }
        after = n ? ps[n - 1].id : after;
        store_post_list_free(ps, n);
        if(n < 500)
            break;
    }
    if(rc) {
        core_csv_export_free(it);
        return rc;
    }
    *out = it;
    return SAM_OK;
}

/* The rows of one post: a row per planned time of its copies (those the filter keeps). */
static int export_post(struct core_csv_export *it, const struct store_post *p, struct buf *out)
{
    struct store_occurrence *occ = NULL;
    size_t n = 0;
    json_t *variants = json_loads(p->variants ? p->variants : "[]", 0, NULL);
    int cancelled = !strcmp(p->state, "cancelled"), rc;
    const char *link = p->link ? p->link : "", *campaign = p->campaign ? p->campaign : "";
    struct store_post_media *pm = NULL;
    size_t npm = 0;
    struct buf images, alts;
    /* Its images as media:ID (an image of the workspace: the import takes it back as it
     * is), their alt texts in the same order; a | in an alt text, which would split it,
     * becomes /. */
    buf_init(&images, 4096);
    buf_init(&alts, 16384);
    rc = store_post_media_list(it->c->st, p->id, 0, &pm, &npm);
    for(size_t k = 0; !rc && k < npm; k++) {
        rc = buf_printf(&images, "%smedia:%lld", k ? "|" : "", (long long)pm[k].media_id);
        if(!rc && k)
            rc = buf_puts(&alts, " | ");
        for(const char *a = pm[k].alt ? pm[k].alt : ""; !rc && *a; a++)
            rc = buf_append(&alts, *a == '|' ? "/" : a, 1);
    }
    store_post_media_list_free(pm, npm);
    if(rc) {
        buf_cleanup(&images);
        buf_cleanup(&alts);
        json_decref(variants);
        return rc;
    }
    if(!strcmp(p->state, "draft")) {
        rc = it->f.channel || it->f.from || it->f.to
                 ? SAM_OK
                 : put_row(it, out, p->text, "", "", p->category, campaign, link, buf_str(&images), buf_str(&alts),
                           variants ? variants : json_array());
        json_decref(variants);
        buf_cleanup(&images);
        buf_cleanup(&alts);
        return rc;
    }
    rc = store_occurrence_list(it->c->st, it->ws, p->id, it->f.channel, it->f.from, it->f.to, 0, 100000, &occ, &n);
    for(size_t i = 0; !rc && i < n;) {
        struct buf names;
        char when[48];
        size_t j;
        buf_init(&names, 1 << 16);
        for(j = i; !rc && j < n && occ[j].planned_at == occ[i].planned_at; j++) {
            if(!cancelled && !strcmp(occ[j].state, "cancelled"))
                continue;
            rc = buf_printf(&names, "%s%s", names.len ? "|" : "",
                            channel_name(it->channels, it->nchannels, occ[j].channel_id));
        }
        if(!rc && names.len) {
            if(tz_format_local(it->zone, occ[i].planned_at, when, sizeof(when)))
                time_rfc3339(occ[i].planned_at, when, sizeof(when));
            rc = put_row(it, out, p->text, buf_str(&names), when, p->category, campaign, link, buf_str(&images),
                         buf_str(&alts), variants ? variants : json_array());
        }
        buf_cleanup(&names);
        i = j;
    }
    free(occ);
    json_decref(variants);
    buf_cleanup(&images);
    buf_cleanup(&alts);
    return rc;
}

int core_csv_export_next(struct core_csv_export *it, struct buf *out, int *done)
{
    struct store_post *ps = NULL;
    size_t n = 0;
    int rc;
    *done = 0;
    if(!it->header_done) {
        it->header_done = 1;
        rc = buf_append(out, "\xEF\xBB\xBF", 3);
        if(!rc) {
            char sep = it->f.sep;
            rc = buf_printf(out, "text%cchannels%ctime%ccategory%ccampaign%clink%cimages%calt", sep, sep, sep, sep, sep,
                            sep, sep);
            for(size_t i = 0; !rc && i < it->variants; i++)
                rc = buf_printf(out, "%cvariant", sep);
            if(!rc)
                rc = buf_append(out, "\r\n", 2);
        }
        return rc;
    }
    if(it->done) {
        *done = 1;
        return SAM_OK;
    }
    rc = store_post_list(it->c->st, it->ws, it->f.state, it->after, EXPORT_PAGE, &ps, &n);
    for(size_t i = 0; !rc && i < n; i++)
        rc = export_post(it, &ps[i], out);
    if(!rc && n)
        it->after = ps[n - 1].id;
    if(!rc && n < EXPORT_PAGE)
        it->done = *done = 1;
    store_post_list_free(ps, n);
    return rc;
}

void core_csv_export_free(struct core_csv_export *it)
{
    if(!it)
        return;
    store_channel_list_free(it->channels, it->nchannels);
    free((char *)it->f.state);
    free(it);
}
