/*
 * csv.h: posts in and out as CSV files (PRODUCT.md P14). The format is docs/csv.md: UTF-8
 * (a BOM is skipped), RFC 4180 quoting, a header row naming the columns (text, channels,
 * time, category, campaign, link, images, variant ...) in any order and case, a comma or,
 * when the header line has more of them, a semicolon between fields, CRLF or LF line ends.
 *
 * Reading is two steps that need no store, so the tests and the fuzzer reach them alone:
 *   csv_table_read       the bytes into a header and records (libcsv does the quoting), each
 *                  record with the line of the file it starts on; what keeps the file from
 *                  being read at all (not UTF-8, a NUL, an open quote, a header that names
 *                  no text column, too many rows) is listed as the file's problems;
 *   csv_row_read  one record into what core_post_create takes (channel names into ids, a
 *                  time into a schedule), with every problem of every field in words.
 * Then core_csv_import plans the rows as one batch (post.h: each row placed and checked as
 * the composer's post would be, against the queue and the rows before it) and, unless it is
 * a dry run, stores them all in one transaction, or none. core_csv_export writes a
 * workspace's posts in the same format, so an export imports again as it was.
 *
 * Invariants: a table's texts are valid UTF-8 without NUL; fields of the columns other than
 * text and variant have no space or tab at either end; line ends inside fields are "\n".
 */
#ifndef SAM_CORE_CSV_H
#define SAM_CORE_CSV_H

#include "core/post.h"
#include "util/buf.h"

#define CSV_FILE_MAX ((size_t)5 << 20) /* bytes of a file: 5 MiB */
#define CSV_ROWS_MAX 5000             /* rows of posts, the header not counted */
#define CSV_FIELDS_MAX 64             /* fields of a row; more is a problem of that row */
#define CSV_IMPORT_ID_MAX 100         /* characters of an import id: A-Z a-z 0-9 . _ : - */

/* What a column of the header is. */
enum csv_column {
    CSV_UNNAMED = 0, /* an empty name: its values must be empty too */
    CSV_TEXT,
    CSV_CHANNELS,
    CSV_TIME,
    CSV_CATEGORY,
    CSV_CAMPAIGN,
    CSV_LINK,
    CSV_IMAGES,
    CSV_ALT,
    CSV_VARIANT,
    CSV_UNKNOWN
};

struct csv_record {
    long line;       /* the line of the file it starts on (1: the first) */
    size_t n;
    char **fields;   /* n texts, owned */
    int too_many;    /* it had more than CSV_FIELDS_MAX fields: those past it were dropped */
};

struct csv_table {
    char sep;                  /* ',' or ';' */
    int bom;                   /* the file began with a UTF-8 BOM */
    struct csv_record header;  /* n == 0 when the file has none */
    int *cols;                 /* header.n entries of enum csv_column */
    struct csv_record *rows;   /* the records after the header; rows whose fields are all
                                * empty (blank lines, ";;;" from a spreadsheet) are left out */
    size_t nrows;
    json_t *problems;          /* the file's: [{"line","field","message"}], field "file" or "header" */
};

/* Reads len bytes of CSV into *out (csv_table_cleanup frees it, also on failure). SAM_OK
 * whatever the bytes are: what is wrong with the file is in out->problems (and then the
 * rows may be incomplete). SAM_ETOOBIG past CSV_FILE_MAX, SAM_ENOMEM. */
int csv_table_read(const char *data, size_t len, struct csv_table *out);
void csv_table_cleanup(struct csv_table *t);

/* An image given with a file, by the name its images column uses (P16): the dashboard
 * uploads the images chosen beside the file, the CLI those beside it, and each is then
 * named by its file name. */
#define CSV_IMAGES_GIVEN_MAX 500
struct csv_image {
    const char *name;          /* borrowed */
    int64_t id;                /* the uploaded image */
};

/* What a row is read against. */
struct csv_env {
    const char *zone;                      /* the workspace's time zone, for local times */
    int64_t now;                           /* a time before it (by more than a minute) has passed */
    const struct store_channel *channels;  /* the workspace's channels (borrowed) */
    size_t nchannels;
    const struct csv_image *images;        /* the images given with the file (borrowed) */
    size_t nimages;
    int exact_names;                       /* match names only as written (the CLI uploads
                                              by path), not also by a path's last part */
};

/* Splits an images or alt field at "|" into its parts, spaces around each taken off:
 * up to max parts as new strings into out (*n of them; free each). SAM_ETOOBIG when it
 * has more than max (none are kept), SAM_ENOMEM. An empty field has no parts. */
int csv_split_list(const char *field, char **out, size_t max, size_t *n);

/* A row read as a post. in's strings point into the table or into this struct: both must
 * outlive its use. */
struct csv_row {
    long line;
    struct post_input in;
    int64_t channels[POST_CHANNELS_MAX];
    struct media_input media[MEDIA_PER_POST_MAX]; /* in.media: its images (P16) */
    char *alts[MEDIA_PER_POST_MAX];               /* owned: their alt texts */
    json_t *variants;          /* owned; in.variants when it has any */
    json_t *problems;          /* owned: [{"field","message"}], empty when there are none */
};

/* Reads row `row` of t (t must have no problems) into *out; csv_row_cleanup frees it.
 * The row's problems, each naming its column (text, channels, time, category, campaign,
 * link, images, variant, or "row" for the row as a whole), go into out->problems. SAM_OK
 * unless memory runs out. */
int csv_row_read(const struct csv_table *t, size_t row, const struct csv_env *env, struct csv_row *out);
void csv_row_cleanup(struct csv_row *p);

/* Parses what the time column holds: "" (a draft), "now", "next slot", an RFC 3339 time
 * with an offset, or a wall time in zone ("2027-03-28 09:00", "28.03.2027 09:00", seconds
 * optional). SAM_EINVAL when it is none of those (no message). */
int csv_time_parse(const char *s, const char *zone, int *schedule, int64_t *at);

struct csv_import_options {
    int dry_run;                  /* check every row, store nothing */
    const struct csv_image *images; /* the images given with the file, by name (borrowed) */
    size_t nimages;
    int exact_names;                /* see csv_env */
    const char *override_reason;  /* lets rows that a check blocks in (audited); NULL: none */
    const char *import_id;        /* the client's name for the import, or NULL (see below) */
};

/* Imports len bytes of CSV into workspace ws as actor a (the caller checked that a may write posts):
 * every row is read, placed and checked (P5-P8) as one batch. *report (a new reference)
 * gets {"dry_run","rows":[{"line","ok","problems":[{"field","message"}],"violations":[...],
 * "draft"?,"planned":[{"channel_id","channel","at"}],"post_id"?,"overridden"?}],
 * "problems":[{"line","field","message"}],"total","with_problems","blocked","created",
 * "import_id"?,"already_imported"?,"violations_omitted"?} (past 4,000 findings in all, a
 * row's are counted in its "violations_omitted" instead of listed).
 *   A dry run answers SAM_OK with the report, whatever it found.
 *   Otherwise the file is imported whole or not at all: a problem (of the file or of any
 *   row) is SAM_EINVAL on field "csv", a blocking check without o->override_reason is
 *   SAM_EINVAL on field "checks", both with the report; nothing is stored. Else every
 *   post is stored in one transaction and the report says created and each post_id.
 *   With o->import_id an import that was stored before under that id (same workspace, same
 *   bytes) is answered from its record (already_imported, created 0) and nothing is made
 *   again; the same id with another file is SAM_ECONFLICT on field "import_id".
 * Other failures (SAM_EINVAL on csv: the file is over CSV_FILE_MAX, like any field over its
 * bound; on import_id or override_reason; the store's) leave *report NULL. */
int core_csv_import(struct core *c, const struct actor *a, int64_t ws, const char *data, size_t len,
                    const struct csv_import_options *o, int64_t now, json_t **report);

/* Which posts an export writes. */
struct csv_export_filter {
    const char *state;   /* a post state, NULL: every one */
    int64_t from, to;    /* only copies planned in [from, to) (0: open); drafts then have none */
    int64_t channel;     /* only copies on this channel (0: every one); drafts then have none */
    char sep;            /* ',' (default when 0) or ';' */
};

/* The export of workspace ws, read part by part as core_ical is: core_csv_export_open
 * checks the filter (SAM_EINVAL naming state or channel), core_csv_export_next appends the
 * next part (the header, then the rows of some posts) to out and sets *done with the
 * last. A row per post and planned time: a post whose copies go out at one time is one row
 * naming its channels; copies at different times are a row each; a draft is a row with no
 * channels and no time. Times are RFC 3339 in the workspace's zone. */
struct core_csv_export;
int core_csv_export_open(struct core *c, int64_t ws, const struct csv_export_filter *f, struct core_csv_export **out);
int core_csv_export_next(struct core_csv_export *it, struct buf *out, int *done);
void core_csv_export_free(struct core_csv_export *it);

#endif
