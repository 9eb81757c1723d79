/*
 * fuzz_csv.c: libFuzzer target over the reading of CSV files of posts (core/csv.h), which
 * takes whatever a person uploads: malformed quoting, files cut short, huge values, NULs,
 * text that is not UTF-8, any line ends. The input is the file, copied into a buffer of
 * exactly its size (not NUL-terminated) so that an over-read shows under ASan.
 *
 * Every promise of csv.h is checked: a table's texts are valid UTF-8 without NUL, fields
 * of the columns other than text and variant have no space at either end, line ends in
 * values are "\n", rows start on ascending lines within the file, no more than
 * CSV_ROWS_MAX rows and CSV_FIELDS_MAX fields; every problem has a field and words. Then
 * each row is read as a post against a fixed workspace (two channels, Europe/Oslo), and
 * what it gives is checked the same way.
 *
 *   build-asan/fuzz_csv -max_total_time=300 build-asan/corpus-fuzz_csv tests/fuzz/corpus-csv
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "util/err.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct store_channel chans[] = {
    {.id = 1, .kind = "file", .name = "Blog"},
    {.id = 2, .kind = "mastodon", .name = "Mastodon"},
    {.id = 3, .kind = "feed", .name = "Feed"},
};
static const struct csv_image images[] = {{"fjord.jpg", 11}, {"kart.png", 12}};

static void text_ok(const char *s)
{
    if(!s || utf8_count(s, strlen(s)) < 0 || strchr(s, '\r'))
        abort();
}

static void problems_ok(const json_t *list)
{
    size_t i;
    json_t *p;
    if(!json_is_array(list))
        abort();
    json_array_foreach(list, i, p) {
        const char *field = json_string_value(json_object_get(p, "field"));
        const char *msg = json_string_value(json_object_get(p, "message"));
        if(!field || !msg || !*msg || utf8_count(msg, strlen(msg)) < 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csv_table t;
    struct csv_env env = {"Europe/Oslo", 1796025600, chans, sizeof(chans) / sizeof(chans[0]), images, 2, 0};
    char *copy = malloc(size ? size : 1);
    long lines = 1, last = 0;
    if(!copy)
        return 0;
    memcpy(copy, data, size);
    for(size_t i = 0; i < size; i++)
        lines += copy[i] == '\n' || (copy[i] == '\r' && (i + 1 == size || copy[i + 1] != '\n'));
    if(csv_table_read(copy, size, &t) == SAM_OK) {
        problems_ok(t.problems);
        if(t.nrows > CSV_ROWS_MAX || (t.sep != ',' && t.sep != ';'))
            abort();
        for(size_t i = 0; i < t.header.n; i++)
            text_ok(t.header.fields[i]);
        for(size_t r = 0; r < t.nrows; r++) {
            const struct csv_record *rec = &t.rows[r];
            if(rec->line <= last || rec->line > lines || rec->n > CSV_FIELDS_MAX || rec->line <= t.header.line)
                abort();
            last = rec->line;
            for(size_t i = 0; i < rec->n; i++) {
                const char *f = rec->fields[i];
                size_t len = strlen(f);
                int col = i < t.header.n ? t.cols[i] : CSV_UNKNOWN;
                text_ok(f);
                if(col != CSV_TEXT && col != CSV_VARIANT && len &&
                   (f[0] == ' ' || f[0] == '\t' || f[len - 1] == ' ' || f[len - 1] == '\t'))
                    abort();
            }
        }
        /* The rows as posts, when the file could be read as a whole. */
        for(size_t r = 0; !json_array_size(t.problems) && r < t.nrows && r < 300; r++) {
            struct csv_row p;
            if(csv_row_read(&t, r, &env, &p) == SAM_OK) {
                problems_ok(p.problems);
                if(p.line != t.rows[r].line || p.in.nchannels > POST_CHANNELS_MAX)
                    abort();
                for(size_t k = 0; k < p.in.nchannels; k++)
                    if(p.in.channels[k] != 1 && p.in.channels[k] != 2)
                        abort(); /* a listening channel never gets through */
                if(!json_array_size(p.problems)) {
                    text_ok(p.in.text);
                    if(p.in.schedule == POST_AT && p.in.at < env.now - 60)
                        abort();
                    if(p.in.schedule != POST_DRAFT && !p.in.nchannels)
                        abort();
                }
            }
            csv_row_cleanup(&p);
        }
    }
    csv_table_cleanup(&t);
    free(copy);
    return 0;
}
