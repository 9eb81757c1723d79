/* test_csv.c: CSV files of posts (core/csv.h, docs/csv.md): reading the bytes (a table of
 * files and what they read as: quotes, line ends in values, the ; separator, a BOM, CRLF,
 * ragged rows, unknown and repeated columns, empty lines, broken files), reading a row
 * into a post (channels by name, times, every problem of a row at once), and the batch an
 * import plans and stores (rows checked against the rows before them, next free slots
 * shared, all or nothing, an import id used once), on the store of this run's engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/tz.h"
#include "core_fixture.h"

/* ---- reading the bytes ---- */

/* The table as text: "sep=, cols=text,channels\n" then per row "LINE:[field][field]\n". */
static char *dump(const struct csv_table *t)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_printf(&b, "sep=%c cols=", t->sep);
    for(size_t i = 0; i < t->header.n; i++)
        buf_printf(&b, "%s%s", i ? "," : "", t->header.fields[i]);
    buf_puts(&b, "\n");
    for(size_t r = 0; r < t->nrows; r++) {
        buf_printf(&b, "%ld:", t->rows[r].line);
        for(size_t i = 0; i < t->rows[r].n; i++)
            buf_printf(&b, "[%s]", t->rows[r].fields[i]);
        buf_puts(&b, "\n");
    }
    return buf_take(&b);
}

static const struct read_case {
    const char *name;
    const char *in;
    size_t len;            /* 0: strlen(in) */
    const char *want;      /* dump() of the table, or NULL when a problem is expected */
    const char *problem;   /* a part of the first problem's message, or NULL for none */
    long problem_line;
} read_cases[] = {
    {"plain", "text,channels\nHello,Blog\n", 0, "sep=, cols=text,channels\n2:[Hello][Blog]\n", NULL, 0},
    {"no line end at the end", "text,channels\nHello,Blog", 0, "sep=, cols=text,channels\n2:[Hello][Blog]\n", NULL, 0},
    {"quotes doubled", "text\n\"He said \"\"hi\"\", then left\"\n", 0, "sep=, cols=text\n2:[He said \"hi\", then left]\n",
     NULL, 0},
    {"a quote inside an unquoted value is a quote", "text\nsay \"hi\" now\n", 0, "sep=, cols=text\n2:[say \"hi\" now]\n",
     NULL, 0},
    {"a line end inside quotes", "text,time\n\"line one\nline two\",now\nnext,now\n", 0,
     "sep=, cols=text,time\n2:[line one\nline two][now]\n4:[next][now]\n", NULL, 0},
    {"CRLF, and CRLF inside quotes", "text,time\r\n\"a\r\nb\",now\r\nc,now\r\n", 0,
     "sep=, cols=text,time\n2:[a\nb][now]\n4:[c][now]\n", NULL, 0},
    {"a lone CR ends lines too", "text,time\rA,now\rB,now\r", 0, "sep=, cols=text,time\n2:[A][now]\n3:[B][now]\n", NULL,
     0},
    {"; when the header has more of them", "Text;Channels;Time\nHei, verden;Blog;now\n", 0,
     "sep=; cols=text,channels,time\n2:[Hei, verden][Blog][now]\n", NULL, 0},
    {"; with a quoted ; and CRLF (Excel in Norwegian)", "text;time\r\n\"a;b\";now\r\n", 0,
     "sep=; cols=text,time\n2:[a;b][now]\n", NULL, 0},
    {"a BOM is skipped", "\xEF\xBB\xBFtext\nHei\n", 0, "sep=, cols=text\n2:[Hei]\n", NULL, 0},
    {"ragged rows are kept as they are", "text,channels\na,b,c\nd\n", 0, "sep=, cols=text,channels\n2:[a][b][c]\n3:[d]\n",
     NULL, 0},
    {"empty lines and rows of empty values are left out", "text\n\nA\n   \n\nB\n\"\"\n", 0,
     "sep=, cols=text\n3:[A]\n6:[B]\n", NULL, 0},
    {"a spreadsheet's empty rows", "text;time\nA;now\n;\n;\n", 0, "sep=; cols=text,time\n2:[A][now]\n", NULL, 0},
    {"spaces around values go, except in quotes of the text", "text, channels \n\"  Hi  \",  Blog  \n", 0,
     "sep=, cols=text,channels\n2:[  Hi  ][Blog]\n", NULL, 0},
    {"the formula guard comes off", "text\n\"'=1+1\"\n'+47\n''=x\n'plain\n", 0,
     "sep=, cols=text\n2:[=1+1]\n3:[+47]\n4:['=x]\n5:['plain]\n", NULL, 0},
    {"variant columns may repeat", "text,variant,Variant 2,variant_3\nA,B,C,D\n", 0,
     "sep=, cols=text,variant,variant 2,variant_3\n2:[A][B][C][D]\n", NULL, 0},
    {"header only", "text,channels\n", 0, "sep=, cols=text,channels\n", NULL, 0},
    {"unknown column", "text,colour\nHi,red\n", 0, NULL, "unknown column \"colour\"", 1},
    {"a column named twice", "text,Text\nA,B\n", 0, NULL, "named twice", 1},
    {"no text column", "channels,time\nBlog,now\n", 0, NULL, "no text column", 1},
    {"no header", "Hello,Blog,now\n", 0, NULL, "first row must name the columns", 1},
    {"an open quote", "text\nok\n\"abc\nxyz\n", 0, NULL, "starts on line 3 is never closed", 3},
    {"a NUL", "text\nA\0B\n", 9, NULL, "NUL byte on line 2", 2},
    {"not UTF-8 (Latin-1 from Excel)", "text\nok\nbl\xE5" "b\xE6" "r\n", 0, NULL, "not UTF-8 (first on line 3)", 3},
    {"UTF-16", "\xFF\xFEt\0e\0", 6, NULL, "UTF-16", 1},
    {"empty file", "", 0, NULL, "empty", 1},
    {"truncated in a quoted header", "\"tex", 0, NULL, "never closed", 1},
    {"a header of more than 64 columns",
     "text,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,"
     "variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,"
     "variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,"
     "variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,"
     "variant,variant,variant,variant,variant,variant,variant,variant,variant\nx\n",
     0, NULL, "more than 64 columns", 1},
};

static void read_table(void **state)
{
    (void)state;
    for(size_t i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++) {
        const struct read_case *c = &read_cases[i];
        struct csv_table t;
        size_t len = c->len ? c->len : strlen(c->in);
        int rc = csv_table_read(c->in, len, &t);
        if(rc)
            fail_msg("%s: csv_table_read answered %d", c->name, rc);
        if(c->problem) {
            json_t *p = json_array_get(t.problems, 0);
            const char *msg = json_string_value(json_object_get(p, "message"));
            if(!msg || !strstr(msg, c->problem))
                fail_msg("%s: problem \"%s\", want one with \"%s\"", c->name, msg ? msg : "(none)", c->problem);
            if(json_integer_value(json_object_get(p, "line")) != c->problem_line)
                fail_msg("%s: problem on line %lld, want %ld", c->name,
                         (long long)json_integer_value(json_object_get(p, "line")), c->problem_line);
        } else {
            char *got = dump(&t);
            if(json_array_size(t.problems))
                fail_msg("%s: unexpected problem: %s", c->name,
                         json_string_value(json_object_get(json_array_get(t.problems, 0), "message")));
            if(strcmp(got, c->want))
                fail_msg("%s:\n got: %s\nwant: %s", c->name, got, c->want);
            free(got);
        }
        csv_table_cleanup(&t);
    }
}

static void limits(void **state)
{
    struct buf b;
    struct csv_table t;
    char *big;
    (void)state;
    /* 5,000 rows are read; one more is a problem of the file at the row past the limit. */
    buf_init(&b, CSV_FILE_MAX);
    buf_puts(&b, "text\n");
    for(int i = 0; i < CSV_ROWS_MAX; i++)
        buf_printf(&b, "post %d\n", i);
    assert_int_equal(csv_table_read(b.data, b.len, &t), SAM_OK);
    assert_int_equal(json_array_size(t.problems), 0);
    assert_int_equal(t.nrows, CSV_ROWS_MAX);
    csv_table_cleanup(&t);
    buf_puts(&b, "one too many\n");
    assert_int_equal(csv_table_read(b.data, b.len, &t), SAM_OK);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(t.problems, 0), "message")),
                           "more than 5000 rows"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(t.problems, 0), "line")), CSV_ROWS_MAX + 2);
    csv_table_cleanup(&t);
    buf_cleanup(&b);
    /* Over 5 MiB: refused before reading. */
    big = malloc(CSV_FILE_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', CSV_FILE_MAX + 1);
    assert_int_equal(csv_table_read(big, CSV_FILE_MAX + 1, &t), SAM_ETOOBIG);
    csv_table_cleanup(&t);
    free(big);
    /* More fields than a row may have: kept as a mark on the row. */
    buf_init(&b, 1 << 16);
    buf_puts(&b, "text\nA");
    for(int i = 0; i < CSV_FIELDS_MAX + 5; i++)
        buf_puts(&b, ",x");
    buf_puts(&b, "\n");
    assert_int_equal(csv_table_read(b.data, b.len, &t), SAM_OK);
    assert_int_equal(t.nrows, 1);
    assert_true(t.rows[0].too_many);
    assert_int_equal(t.rows[0].n, CSV_FIELDS_MAX);
    csv_table_cleanup(&t);
    buf_cleanup(&b);
}

/* ---- reading a row ---- */

#define NOW 1796025600 /* Mon 2026-11-30 09:00 Oslo (08:00Z) */

static const struct store_channel chans[] = {
    {.id = 11, .kind = "file", .name = "Blog"},
    {.id = 12, .kind = "mastodon", .name = "Mastodon"},
    {.id = 13, .kind = "feed", .name = "Competitor"},
    {.id = 14, .kind = "bluesky", .name = "Bluesky Nordic"},
};

static const struct row_case {
    const char *name;
    const char *csv;          /* header and one row */
    const char *problems;     /* the fields of the row's problems, in order, joined by "," ("" for none) */
    int schedule;
    int64_t at;
    const char *channels;     /* ids, "11,12" */
    const char *category;     /* NULL: none given */
    int variants;
} row_cases[] = {
    {"next slot on two channels", "text,channels,time\nHi,Blog|Mastodon,next slot\n", "", POST_NEXT_SLOT, 0, "11,12",
     NULL, 0},
    {"names in another case, spaces around", "text,channels,time\nHi, blog | BLUESKY nordic ,NOW\n", "", POST_NOW, 0,
     "11,14", NULL, 0},
    {"next_slot spelled the API's way", "text,channels,time\nHi,Blog,next_slot\n", "", POST_NEXT_SLOT, 0, "11", NULL,
     0},
    {"a local time in the workspace's zone (summer time from 28 March 2027)",
     "text,channels,time\nHi,Blog,2027-03-28 09:00\n", "", POST_AT, 1806217200, "11", NULL, 0},
    {"the Norwegian way of writing it", "text,channels,time\nHi,Blog,28.03.2027 09:00\n", "", POST_AT, 1806217200,
     "11", NULL, 0},
    {"RFC 3339 with an offset", "text,channels,time\nHi,Blog,2027-03-28T09:00:00+02:00\n", "", POST_AT, 1806217200,
     "11", NULL, 0},
    {"UTC with seconds", "text,channels,time\nHi,Blog,2027-03-28 07:00:30Z\n", "", POST_AT, 1806217230, "11", NULL, 0},
    {"in the spring-forward gap: the first minute after it",
     "text,channels,time\nHi,Blog,2027-03-28 02:30\n", "", POST_AT, 1806195600, "11", NULL, 0},
    {"a draft", "text,channels,time\nHi,,\n", "", POST_DRAFT, 0, "", NULL, 0},
    {"category any case, variants kept", "text,category,variant,variant\nHi,PROMO,v1,\n", "", POST_DRAFT, 0, "",
     "promo", 1},
    {"no 29 February in 2027", "text,channels,time\nHi,Blog,2027-02-29 09:00\n", "time", 0, 0, NULL, NULL, 0},
    {"a word for a time", "text,channels,time\nHi,Blog,tomorrow\n", "time", 0, 0, NULL, NULL, 0},
    {"a date without a time", "text,channels,time\nHi,Blog,2027-03-28\n", "time", 0, 0, NULL, NULL, 0},
    {"a time that has passed", "text,channels,time\nHi,Blog,2026-11-01 09:00\n", "time", 0, 0, NULL, NULL, 0},
    {"an unknown channel", "text,channels,time\nHi,Blogg,now\n", "channels", 0, 0, NULL, NULL, 0},
    {"a channel that listens", "text,channels,time\nHi,Competitor,now\n", "channels", 0, 0, NULL, NULL, 0},
    {"a channel named twice", "text,channels,time\nHi,Blog|blog,now\n", "channels", 0, 0, NULL, NULL, 0},
    {"a draft with channels", "text,channels,time\nHi,Blog,\n", "channels", 0, 0, NULL, NULL, 0},
    {"a time without channels", "text,channels,time\nHi,,now\n", "channels", 0, 0, NULL, NULL, 0},
    {"an image not given with the file", "text,images\nHi,photo.jpg\n", "images", 0, 0, NULL, NULL, 0},
    {"an unknown category", "text,category\nHi,spam\n", "category", 0, 0, NULL, NULL, 0},
    {"an empty text", "text,channels\n\" \",\n", "text", 0, 0, NULL, NULL, 0},
    {"a link that is not http", "text,link\nHi,ftp://example.com/x\n", "link", 0, 0, NULL, NULL, 0},
    {"a value under no column name", "text,,channels\nHi,oops,\n", "row", 0, 0, NULL, NULL, 0},
    {"more values than columns", "text,channels\nHi,Blog,now\n", "row", 0, 0, NULL, NULL, 0},
    {"empty values past the columns are fine", "text,channels\nHi,,,\n", "", POST_DRAFT, 0, "", NULL, 0},
    {"every problem of a row at once", "text,channels,time,images,category\n,Blogg,soon,a.png,spam\n",
     "text,category,images,channels,time", 0, 0, NULL, NULL, 0},
};

static void row_table(void **state)
{
    struct csv_env env = {"Europe/Oslo", NOW, chans, sizeof(chans) / sizeof(chans[0]), NULL, 0, 0};
    (void)state;
    for(size_t i = 0; i < sizeof(row_cases) / sizeof(row_cases[0]); i++) {
        const struct row_case *c = &row_cases[i];
        struct csv_table t;
        struct csv_row p;
        char fields[200] = "", ids[200] = "";
        size_t k;
        json_t *pr;
        assert_int_equal(csv_table_read(c->csv, strlen(c->csv), &t), SAM_OK);
        if(json_array_size(t.problems) || t.nrows != 1)
            fail_msg("%s: the file did not read as one row", c->name);
        assert_int_equal(csv_row_read(&t, 0, &env, &p), SAM_OK);
        json_array_foreach(p.problems, k, pr) {
            size_t used = strlen(fields);
            snprintf(fields + used, sizeof(fields) - used, "%s%s", used ? "," : "",
                     json_string_value(json_object_get(pr, "field")));
            if(!json_string_length(json_object_get(pr, "message")))
                fail_msg("%s: a problem without words", c->name);
        }
        if(strcmp(fields, c->problems))
            fail_msg("%s: problems in \"%s\", want \"%s\" (first: %s)", c->name, fields, c->problems,
                     json_string_value(json_object_get(json_array_get(p.problems, 0), "message")));
        if(c->channels) {
            for(k = 0; k < p.in.nchannels; k++) {
                size_t used = strlen(ids);
                snprintf(ids + used, sizeof(ids) - used, "%s%lld", k ? "," : "", (long long)p.in.channels[k]);
            }
            if(strcmp(ids, c->channels))
                fail_msg("%s: channels %s, want %s", c->name, ids, c->channels);
            if(p.in.schedule != c->schedule || (c->schedule == POST_AT && p.in.at != c->at))
                fail_msg("%s: schedule %d at %lld, want %d at %lld", c->name, p.in.schedule, (long long)p.in.at,
                         c->schedule, (long long)c->at);
            if((c->category || p.in.category) && (!c->category || !p.in.category || strcmp(c->category, p.in.category)))
                fail_msg("%s: category %s, want %s", c->name, p.in.category ? p.in.category : "(none)",
                         c->category ? c->category : "(none)");
            if((int)json_array_size(p.variants) != c->variants)
                fail_msg("%s: %zu variants, want %d", c->name, json_array_size(p.variants), c->variants);
        }
        csv_row_cleanup(&p);
        csv_table_cleanup(&t);
    }
}

/* The images column (P16): names separated by |, matched to the images given with the
 * file (by name, or a path's last part) or media:ID; alt texts in the same order. */
static void row_images(void **state)
{
    static const struct csv_image given[] = {{"fjord.jpg", 11}, {"kart.png", 12}, {"a.gif", 13}};
    struct csv_env env = {"Europe/Oslo", NOW, chans, sizeof(chans) / sizeof(chans[0]), given, 3, 0};
    static const struct {
        const char *csv, *problems;
        size_t n;
        int64_t ids[4];
        const char *alts[4];
    } cases[] = {
        {"text,images,alt\nHi,fjord.jpg | bilder/kart.png,Fjorden i morgenlys | Kart over turen\n", "", 2,
         {11, 12}, {"Fjorden i morgenlys", "Kart over turen"}},
        {"text,images\nHi,media:7|a.gif\n", "", 2, {7, 13}, {NULL, NULL}},
        {"text,images,alt\nHi,fjord.jpg|kart.png,Bare den første\n", "", 2, {11, 12}, {"Bare den første", NULL}},
        {"text,images,alt\nHi,C:\\Users\\Kari\\fjord.jpg,Fjord\n", "", 1, {11}, {"Fjord"}},
        {"text,images\nHi,fjord.jpg|kart.png|a.gif|fjord.jpg|kart.png\n", "images", 0, {0}, {NULL}},
        {"text,images,alt\nHi,fjord.jpg,en|to\n", "alt", 0, {0}, {NULL}},
        {"text,images\nHi,media:x|nope.png\n", "images,images", 0, {0}, {NULL}},
        {"text,alt\nHi,Alt uten bilde\n", "alt", 0, {0}, {NULL}},
        /* more alt texts than a post has images: none kept, nothing freed twice (fuzz_csv) */
        {"text,images,alt\nHi,fjord.jpg,a|b|c|d|e\n", "alt", 0, {0}, {NULL}},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct csv_table t;
        struct csv_row p;
        char fields[200] = "";
        size_t k;
        json_t *pr;
        assert_int_equal(csv_table_read(cases[i].csv, strlen(cases[i].csv), &t), SAM_OK);
        assert_int_equal(json_array_size(t.problems), 0);
        assert_int_equal(csv_row_read(&t, 0, &env, &p), SAM_OK);
        json_array_foreach(p.problems, k, pr) {
            size_t used = strlen(fields);
            snprintf(fields + used, sizeof(fields) - used, "%s%s", used ? "," : "",
                     json_string_value(json_object_get(pr, "field")));
        }
        if(strcmp(fields, cases[i].problems))
            fail_msg("case %zu: problems in \"%s\", want \"%s\"", i, fields, cases[i].problems);
        if(!cases[i].problems[0]) {
            assert_int_equal(p.in.nmedia, cases[i].n);
            assert_int_equal(p.in.media_set, 1);
            for(k = 0; k < cases[i].n; k++) {
                assert_int_equal(p.in.media[k].id, cases[i].ids[k]);
                if(cases[i].alts[k])
                    assert_string_equal(p.in.media[k].alt, cases[i].alts[k]);
                else
                    assert_null(p.in.media[k].alt);
            }
        }
        csv_row_cleanup(&p);
        csv_table_cleanup(&t);
    }
}

static void row_limits(void **state)
{
    struct csv_env env = {"Europe/Oslo", NOW, chans, sizeof(chans) / sizeof(chans[0]), NULL, 0, 0};
    struct buf b;
    struct csv_table t;
    struct csv_row p;
    (void)state;
    /* A text over 10,000 characters ("ø" is one), and eleven variants. */
    buf_init(&b, 1 << 20);
    buf_puts(&b, "text,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant,variant\n");
    for(int i = 0; i < POST_TEXT_MAX + 1; i++)
        buf_puts(&b, "\xC3\xB8");
    buf_puts(&b, ",1,2,3,4,5,6,7,8,9,10,11\n");
    assert_int_equal(csv_table_read(b.data, b.len, &t), SAM_OK);
    assert_int_equal(csv_row_read(&t, 0, &env, &p), SAM_OK);
    assert_int_equal(json_array_size(p.problems), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(p.problems, 0), "field")), "text");
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(p.problems, 0), "message")), "10000"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(p.problems, 1), "field")), "variant");
    csv_row_cleanup(&p);
    csv_table_cleanup(&t);
    buf_cleanup(&b);
    /* More values than a row may have. */
    buf_init(&b, 1 << 16);
    buf_puts(&b, "text\nA");
    for(int i = 0; i < CSV_FIELDS_MAX + 5; i++)
        buf_puts(&b, ",x");
    assert_int_equal(csv_table_read(b.data, b.len, &t), SAM_OK);
    assert_int_equal(csv_row_read(&t, 0, &env, &p), SAM_OK);
    assert_string_equal(json_string_value(json_object_get(json_array_get(p.problems, 0), "field")), "row");
    csv_row_cleanup(&p);
    csv_table_cleanup(&t);
    buf_cleanup(&b);
}

/* ---- importing, on the store ---- */

struct cfx {
    struct fx *store;
    struct core core;
    struct actor sys;
    struct store_workspace w;
    struct store_channel blog, masto;
};

static int setup(void **state)
{
    struct cfx *f = calloc(1, sizeof(*f));
    json_t *slots;
    struct channel_input in;
    if(!f || fx_core_open("csv", 10, &f->store, &f->core, &f->sys))
        return -1;
    if(core_workspace_create(&f->core, &f->sys, "W", "Europe/Oslo", &f->w))
        return -1;
    /* A slot every hour of the week, two posts an hour at most. */
    slots = json_array();
    for(int d = 0; d < 7; d++)
        for(int h = 0; h < 24; h++) {
            static const char *days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
            char s[16];
            snprintf(s, sizeof(s), "%s %02d:00", days[d], h);
            json_array_append_new(slots, json_string(s));
        }
    memset(&in, 0, sizeof(in));
    in.kind = "file";
    in.name = "Blog";
    in.settings = json_pack("{s:s}", "path", "blog.jsonl");
    in.slots = slots;
    if(core_channel_create(&f->core, &f->sys, f->w.id, &in, &f->blog))
        return -1;
    json_decref(in.settings);
    in.name = "Mastodon";
    in.kind = "mastodon";
    in.settings = json_pack("{s:s}", "instance_url", "https://social.example");
    if(core_channel_create(&f->core, &f->sys, f->w.id, &in, &f->masto))
        return -1;
    json_decref(in.settings);
    json_decref(slots);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct cfx *f = *state;
    void *sf = f->store;
    store_channel_cleanup(&f->blog);
    store_channel_cleanup(&f->masto);
    if(fx_close(&sf))
        return -1;
    free(f);
    return 0;
}

static size_t count_posts(struct cfx *f)
{
    struct store_post *ps = NULL;
    size_t n = 0;
    assert_int_equal(store_post_list(f->core.st, f->w.id, NULL, 0, 100000, &ps, &n), SAM_OK);
    store_post_list_free(ps, n);
    return n;
}

static json_t *row_of(json_t *report, long line)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "rows"), i, r)
        if(json_integer_value(json_object_get(r, "line")) == line)
            return r;
    fail_msg("no row for line %ld", line);
    return NULL;
}

/* 1 when row has a finding of rule naming line `other` in its "lines". */
static int names_line(json_t *row, const char *rule, long other)
{
    size_t i, k;
    json_t *v, *l;
    json_array_foreach(json_object_get(row, "violations"), i, v) {
        if(strcmp(json_string_value(json_object_get(v, "rule")), rule))
            continue;
        json_array_foreach(json_object_get(v, "lines"), k, l)
            if(json_integer_value(l) == other)
                return 1;
    }
    return 0;
}

static void dry_run_checks_rows_against_each_other(void **state)
{
    struct cfx *f = *state;
    struct csv_import_options o = {.dry_run = 1};
    json_t *rep = NULL;
    const char *csv = "text,channels,time\n"
                      "Our new blog post: how we cut delivery times,Blog,next slot\n"
                      "Opening hours over Easter,Blog,next slot\n"
                      "Our new blog post: how we cut delivery times!,Blog,next slot\n";
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, csv, strlen(csv), &o, time_now(), &rep), SAM_OK);
    assert_int_equal(json_integer_value(json_object_get(rep, "total")), 3);
    /* Line 4 is a near-duplicate of line 2, which is not stored: named by its line. */
    assert_true(names_line(row_of(rep, 4), "P5", 2));
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(row_of(rep, 4), "violations"), 0), "message")),
                           "line 2"));
    /* Next free slots: three different hours, each after the one before. */
    {
        const char *a = json_string_value(json_object_get(json_array_get(json_object_get(row_of(rep, 2), "planned"), 0), "at"));
        const char *b = json_string_value(json_object_get(json_array_get(json_object_get(row_of(rep, 3), "planned"), 0), "at"));
        const char *c = json_string_value(json_object_get(json_array_get(json_object_get(row_of(rep, 4), "planned"), 0), "at"));
        assert_true(strcmp(a, b) < 0 && strcmp(b, c) < 0);
    }
    assert_int_equal(count_posts(f), 0); /* a dry run stores nothing */
    json_decref(rep);
}

static void caps_across_rows_block_all_or_nothing(void **state)
{
    struct cfx *f = *state;
    struct csv_import_options o = {0};
    json_t *rep = NULL;
    char csv[600];
    int64_t hour = (time_now() / 3600 + 48) * 3600; /* a whole hour two days ahead */
    char t1[40], t2[40], t3[40];
    time_rfc3339(hour + 600, t1, sizeof(t1));
    time_rfc3339(hour + 1200, t2, sizeof(t2));
    time_rfc3339(hour + 1800, t3, sizeof(t3));
    snprintf(csv, sizeof(csv), "text,channels,time\nFirst,Blog,%s\nSecond,Blog,%s\nThird,Blog,%s\nA draft,,\n", t1, t2,
             t3);
    /* Three posts within an hour on a channel that takes two: the third row is blocked. */
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, csv, strlen(csv), &o, time_now(), &rep), SAM_EINVAL);
    assert_string_equal(sam_errfield(), "checks");
    assert_non_null(rep);
    assert_int_equal(json_integer_value(json_object_get(rep, "blocked")), 1);
    assert_true(json_is_true(json_object_get(row_of(rep, 4), "blocked")));
    assert_true(names_line(row_of(rep, 4), "P7a", 2) || names_line(row_of(rep, 4), "P7a", 3));
    assert_int_equal(count_posts(f), 0); /* nothing, not even the rows that were fine */
    json_decref(rep);
    /* With a reason the file goes in whole: four posts, the blocked one with the reason. */
    o.override_reason = "launch week, agreed";
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, csv, strlen(csv), &o, time_now(), &rep), SAM_OK);
    assert_int_equal(json_integer_value(json_object_get(rep, "created")), 4);
    assert_true(json_is_true(json_object_get(row_of(rep, 4), "overridden")));
    {
        struct store_post p;
        assert_int_equal(store_post_get(f->core.st, json_integer_value(json_object_get(row_of(rep, 4), "post_id")), &p),
                         SAM_OK);
        assert_string_equal(p.override_reason, "launch week, agreed");
        store_post_cleanup(&p);
        assert_int_equal(store_post_get(f->core.st, json_integer_value(json_object_get(row_of(rep, 2), "post_id")), &p),
                         SAM_OK);
        assert_null(p.override_reason);
        store_post_cleanup(&p);
        assert_int_equal(store_post_get(f->core.st, json_integer_value(json_object_get(row_of(rep, 5), "post_id")), &p),
                         SAM_OK);
        assert_string_equal(p.state, "draft");
        store_post_cleanup(&p);
    }
    assert_int_equal(count_posts(f), 4);
    json_decref(rep);
}

static void a_row_problem_imports_nothing(void **state)
{
    struct cfx *f = *state;
    struct csv_import_options o = {0};
    json_t *rep = NULL;
    const char *csv = "text,channels,time\nFine,Blog,next slot\nBroken,Nowhere,next slot\n";
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, csv, strlen(csv), &o, time_now(), &rep), SAM_EINVAL);
    assert_string_equal(sam_errfield(), "csv");
    assert_int_equal(json_integer_value(json_object_get(rep, "with_problems")), 1);
    assert_true(json_is_true(json_object_get(row_of(rep, 2), "ok")));
    assert_false(json_is_true(json_object_get(row_of(rep, 3), "ok")));
    assert_int_equal(count_posts(f), 0);
    json_decref(rep);
}

static void an_offer_placeholder_needs_codes_a_file_cannot_give(void **state)
{
    struct cfx *f = *state;
    struct csv_import_options o = {.dry_run = 1};
    json_t *rep = NULL, *p;
    const char *csv = "text,channels,time\nUse {offer} at checkout,Blog,next slot\nUse {offer} later,,\n";
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, csv, strlen(csv), &o, time_now(), &rep), SAM_OK);
    p = json_array_get(json_object_get(row_of(rep, 2), "problems"), 0);
    assert_string_equal(json_string_value(json_object_get(p, "field")), "text");
    assert_non_null(strstr(json_string_value(json_object_get(p, "message")), "{offer}"));
    assert_true(json_is_true(json_object_get(row_of(rep, 3), "ok"))); /* a draft gets its codes later */
    json_decref(rep);
}

static void an_import_id_creates_nothing_twice(void **state)
{
    struct cfx *f = *state;
    struct csv_import_options o = {.import_id = "plan-2027-03"};
    json_t *rep = NULL, *again = NULL;
    const char *csv = "text,channels,time\nOne,Blog|Mastodon,next slot\nTwo,Blog,next slot\n";
    const char *other = "text,channels,time\nThree,Blog,next slot\n";
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, csv, strlen(csv), &o, time_now(), &rep), SAM_OK);
    assert_int_equal(json_integer_value(json_object_get(rep, "created")), 2);
    assert_int_equal(count_posts(f), 2);
    /* The same file again under the same id: answered from the record, nothing new. */
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, csv, strlen(csv), &o, time_now(), &again), SAM_OK);
    assert_true(json_is_true(json_object_get(again, "already_imported")));
    assert_int_equal(json_integer_value(json_object_get(again, "created")), 0);
    assert_true(json_equal(json_object_get(row_of(rep, 3), "post_id"), json_object_get(row_of(again, 3), "post_id")));
    assert_int_equal(count_posts(f), 2);
    json_decref(again);
    /* Another file under the same id is refused. */
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, other, strlen(other), &o, time_now(), &again),
                     SAM_ECONFLICT);
    assert_null(again);
    assert_string_equal(sam_errfield(), "import_id");
    /* A bad id. */
    o.import_id = "no spaces";
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, other, strlen(other), &o, time_now(), &again),
                     SAM_EINVAL);
    assert_int_equal(count_posts(f), 2);
    json_decref(rep);
}

static void export_imports_again_as_it_was(void **state)
{
    struct cfx *f = *state;
    struct csv_import_options o = {0};
    struct csv_export_filter ef = {0};
    struct core_csv_export *it = NULL;
    struct store_workspace w2;
    struct store_channel b2, m2;
    struct channel_input in;
    json_t *rep = NULL, *slots;
    struct buf first, second;
    int done = 0;
    char csv[600], later[40];
    struct tz_civil cv;
    /* A month ahead, 10:00 in the workspace's zone. */
    assert_int_equal(tz_to_local("Europe/Oslo", time_now() + 30 * 86400, &cv), SAM_OK);
    snprintf(later, sizeof(later), "%04d-%02d-%02d 10:00", cv.year, cv.month, cv.day);
    snprintf(csv, sizeof(csv),
             "text,channels,time,category,campaign,link,variant,variant\n"
             "\"Spring; sale, \"\"20%%\"\" off\",Blog|Mastodon,next slot,promo,Spring,https://example.com/s,V1,\n"
             "\"=SUM(A1:A2) is not a formula\nsecond line\",Mastodon,%s,value,,,,\n"
             "\"  padded  \",,,share,,,A,B\n",
             later);
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, csv, strlen(csv), &o, time_now(), &rep), SAM_OK);
    json_decref(rep);
    buf_init(&first, 1 << 20);
    assert_int_equal(core_csv_export_open(&f->core, f->w.id, &ef, &it), SAM_OK);
    while(!done)
        assert_int_equal(core_csv_export_next(it, &first, &done), SAM_OK);
    core_csv_export_free(it);
    /* Into an empty workspace with channels of the same names. */
    assert_int_equal(core_workspace_create(&f->core, &f->sys, "W2", "Europe/Oslo", &w2), SAM_OK);
    memset(&in, 0, sizeof(in));
    slots = json_pack("[s]", "mon 09:00");
    in.kind = "file";
    in.name = "Blog";
    in.slots = slots;
    in.settings = json_pack("{s:s}", "path", "b2.jsonl");
    assert_int_equal(core_channel_create(&f->core, &f->sys, w2.id, &in, &b2), SAM_OK);
    json_decref(in.settings);
    in.kind = "mastodon";
    in.name = "Mastodon";
    in.settings = json_pack("{s:s}", "instance_url", "https://social.example");
    assert_int_equal(core_channel_create(&f->core, &f->sys, w2.id, &in, &m2), SAM_OK);
    json_decref(in.settings);
    json_decref(slots);
    assert_int_equal(core_csv_import(&f->core, &f->sys, w2.id, first.data, first.len, &o, time_now(), &rep), SAM_OK);
    json_decref(rep);
    buf_init(&second, 1 << 20);
    done = 0;
    assert_int_equal(core_csv_export_open(&f->core, w2.id, &ef, &it), SAM_OK);
    while(!done)
        assert_int_equal(core_csv_export_next(it, &second, &done), SAM_OK);
    core_csv_export_free(it);
    assert_string_equal(first.data, second.data);
    assert_non_null(strstr(first.data, "\"'=SUM(A1:A2)")); /* guarded for spreadsheets */
    assert_non_null(strstr(first.data, "\"  padded  \""));
    buf_cleanup(&first);
    buf_cleanup(&second);
    store_channel_cleanup(&b2);
    store_channel_cleanup(&m2);
}

/* The batch finds what core_post_create finds row by row: the same places and the same
 * rules, for a file of rows that meet each other (near-duplicates, caps, promo gaps, cross
 * posts), on a queue that already holds posts. */
static void the_batch_finds_what_posts_one_by_one_find(void **state)
{
    struct cfx *f = *state;
    static const char *texts[] = {"Spring sale: everything 20% off this week", "Our Oslo office opens in May",
                                  "Spring sale: everything 20%% off this week!", "How we cut delivery times in half",
                                  "Come to our summer party in Bergen", "How we cut delivery times in half, part two"};
    struct store_workspace w2;
    struct store_channel b2, m2, *list = NULL;
    struct channel_input in;
    struct csv_import_options o = {.dry_run = 1};
    struct csv_table t;
    struct buf csv;
    json_t *rep = NULL, *slots = json_array();
    size_t nchans = 0;
    int64_t now = time_now();
    /* The second workspace: the same channels. */
    for(int d = 0; d < 7; d++)
        for(int h = 8; h <= 20; h += 3) {
            static const char *days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
            char sl[16];
            snprintf(sl, sizeof(sl), "%s %02d:00", days[d], h);
            json_array_append_new(slots, json_string(sl));
        }
    assert_int_equal(core_workspace_create(&f->core, &f->sys, "W2", "Europe/Oslo", &w2), SAM_OK);
    memset(&in, 0, sizeof(in));
    in.slots = slots;
    in.max_per_hour = 2;
    in.max_per_day = 5;
    in.kind = "file";
    in.name = "Blog";
    in.settings = json_pack("{s:s}", "path", "b2.jsonl");
    assert_int_equal(core_channel_create(&f->core, &f->sys, w2.id, &in, &b2), SAM_OK);
    json_decref(in.settings);
    in.kind = "mastodon";
    in.name = "Mastodon";
    in.settings = json_pack("{s:s}", "instance_url", "https://social.example");
    assert_int_equal(core_channel_create(&f->core, &f->sys, w2.id, &in, &m2), SAM_OK);
    json_decref(in.settings);
    {
        /* Both workspaces' channels get the same slots and caps; both queues a few posts. */
        struct channel_input up = {.slots = slots, .max_per_hour = 2, .max_per_day = 5};
        struct store_channel tmp;
        assert_int_equal(core_channel_update(&f->core, &f->sys, f->w.id, f->blog.id, &up, &tmp), SAM_OK);
        store_channel_cleanup(&tmp);
        assert_int_equal(core_channel_update(&f->core, &f->sys, f->w.id, f->masto.id, &up, &tmp), SAM_OK);
        store_channel_cleanup(&tmp);
    }
    buf_init(&csv, 1 << 20);
    buf_puts(&csv, "text,channels,time,category\n");
    for(int i = 0; i < 60; i++) {
        struct tz_civil cv;
        char when[40] = "next slot";
        if(i % 7 == 3) {
            assert_int_equal(tz_to_local("Europe/Oslo", now + (int64_t)(2 + i / 14) * 86400, &cv), SAM_OK);
            snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d", cv.year, cv.month, cv.day, 9 + i % 3, 10 * (i % 4));
        }
        buf_printf(&csv, "\"%s (%d)\",%s,%s,%s\n", texts[i % 6], i % 3 == 0 ? i / 3 : i,
                   i % 4 == 0 ? "Blog|Mastodon" : i % 4 == 1 ? "Mastodon" : "Blog", when,
                   i % 5 == 0 ? "promo" : "value");
    }
    /* The same posts already queued in both, before the file. */
    for(int k = 0; k < 2; k++) {
        int64_t ws = k ? w2.id : f->w.id, ch = k ? b2.id : f->blog.id;
        for(int i = 0; i < 8; i++) {
            struct post_input pi = {.text = texts[(i * 5) % 6], .channels = &ch, .nchannels = 1,
                                    .schedule = POST_NEXT_SLOT, .override_reason = "setup"};
            struct store_post p;
            struct store_occurrence *occ = NULL;
            size_t n = 0;
            assert_int_equal(core_post_create(&f->core, &f->sys, ws, &pi, now, &p, &occ, &n, NULL), SAM_OK);
            free(occ);
            store_post_cleanup(&p);
        }
    }
    /* The batch, as a dry run in the first workspace. */
    assert_int_equal(core_csv_import(&f->core, &f->sys, f->w.id, csv.data, csv.len, &o, now, &rep), SAM_OK);
    assert_int_equal(json_integer_value(json_object_get(rep, "with_problems")), 0);
    /* Row by row through core_post_create in the second. */
    assert_int_equal(csv_table_read(csv.data, csv.len, &t), SAM_OK);
    assert_int_equal(store_channel_list(f->core.st, w2.id, NULL, 0, 100, &list, &nchans), SAM_OK);
    {
        struct csv_env env = {"Europe/Oslo", now, list, nchans, NULL, 0, 0};
        size_t differ = 0, findings = 0;
        for(size_t i = 0; i < t.nrows; i++) {
            struct csv_row r;
            struct store_post p;
            struct store_occurrence *occ = NULL;
            size_t n = 0, k;
            json_t *found = NULL, *row = json_array_get(json_object_get(rep, "rows"), i), *v;
            char one[600] = "", batch[600] = "";
            assert_int_equal(csv_row_read(&t, i, &env, &r), SAM_OK);
            r.in.override_reason = "compare";
            assert_int_equal(core_post_create(&f->core, &f->sys, w2.id, &r.in, now, &p, &occ, &n, &found), SAM_OK);
            /* Where: the same instants, channel by channel. */
            for(k = 0; k < n; k++) {
                json_t *pl = json_array_get(json_object_get(row, "planned"), k);
                char at[40];
                time_rfc3339(occ[k].planned_at, at, sizeof(at));
                if(strcmp(at, json_string_value(json_object_get(pl, "at"))))
                    fail_msg("line %ld copy %zu: placed at %s alone, %s in the batch", r.line, k, at,
                             json_string_value(json_object_get(pl, "at")));
            }
            /* What: the same rules with the same severities, in the same order. */
            json_array_foreach(found, k, v) {
                size_t used = strlen(one);
                snprintf(one + used, sizeof(one) - used, "%s/%s ", json_string_value(json_object_get(v, "rule")),
                         json_string_value(json_object_get(v, "severity")));
            }
            json_array_foreach(json_object_get(row, "violations"), k, v) {
                size_t used = strlen(batch);
                snprintf(batch + used, sizeof(batch) - used, "%s/%s ", json_string_value(json_object_get(v, "rule")),
                         json_string_value(json_object_get(v, "severity")));
            }
            if(strcmp(one, batch)) {
                differ++;
                print_message("line %ld: alone [%s], in the batch [%s]\n", r.line, one, batch);
            }
            findings += json_array_size(found);
            json_decref(found);
            free(occ);
            store_post_cleanup(&p);
            csv_row_cleanup(&r);
        }
        assert_int_equal(differ, 0);
        assert_true(findings > 20); /* the file does meet the rules */
    }
    store_channel_list_free(list, nchans);
    csv_table_cleanup(&t);
    buf_cleanup(&csv);
    json_decref(rep);
    json_decref(slots);
    store_channel_cleanup(&b2);
    store_channel_cleanup(&m2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_table),
        cmocka_unit_test(limits),
        cmocka_unit_test(row_table),
        cmocka_unit_test(row_images),
        cmocka_unit_test(row_limits),
        cmocka_unit_test_setup_teardown(dry_run_checks_rows_against_each_other, setup, teardown),
        cmocka_unit_test_setup_teardown(caps_across_rows_block_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(a_row_problem_imports_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(an_offer_placeholder_needs_codes_a_file_cannot_give, setup, teardown),
        cmocka_unit_test_setup_teardown(an_import_id_creates_nothing_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(export_imports_again_as_it_was, setup, teardown),
        cmocka_unit_test_setup_teardown(the_batch_finds_what_posts_one_by_one_find, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
