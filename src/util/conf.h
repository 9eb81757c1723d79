/*
 * conf.h: samtale's configuration: a fixed table of keys, each with a default, filled in
 * order from the configuration file, then SAMTALE_* environment variables, then
 * command-line flags; later sources win. Each value remembers where it came from, so
 * `samtale config` can say so, and secret values are masked when printed.
 *
 * File format: `key = value` lines; `#` starts a comment; blank lines are ignored.
 *
 * A renamed key keeps its old name as an alias (fetch_private_addresses for
 * allow_private_addresses): the old name is read from files, SAMTALE_* variables and
 * conf_set as the new one, and the new name wins when both are given in one source.
 */
#ifndef SAM_CONF_H
#define SAM_CONF_H

#include <stddef.h>

enum conf_source { CONF_DEFAULT, CONF_FILE, CONF_ENV, CONF_FLAG };

struct conf;

/* A configuration holding every key at its default. NULL when out of memory. */
struct conf *conf_new(void);
void conf_free(struct conf *c);

/* Reads a configuration file. SAM_EIO when it cannot be read, SAM_EINVAL (message names
 * the line) for a malformed line or unknown key. */
int conf_load_file(struct conf *c, const char *path);
/* Parses configuration text of len bytes; name is used in messages ("file:line: ..."). */
int conf_load_text(struct conf *c, const char *text, size_t len, const char *name);
/* Takes every SAMTALE_<KEY> variable of the environment. */
int conf_load_env(struct conf *c);
/* Sets one key (or an old name of one). SAM_EINVAL for an unknown key. */
int conf_set(struct conf *c, const char *key, const char *value, enum conf_source src);

/* The value of key (never NULL for a known key; "" when empty). Borrowed from c. */
const char *conf_get(const struct conf *c, const char *key);
long conf_get_long(const struct conf *c, const char *key);
int conf_get_bool(const struct conf *c, const char *key);

/* Iteration for printing: the i-th key, or NULL past the end. */
const char *conf_key(size_t i);
const char *conf_help(size_t i);
enum conf_source conf_source_of(const struct conf *c, const char *key);
const char *conf_source_name(enum conf_source s);
/* The value as it may be shown: secrets masked ("****" or URL passwords hidden).
 * Written into out. */
void conf_display(const struct conf *c, const char *key, char *out, size_t n);
/* A URL as it may be shown: its password (user:password@ or ?password=) as ****. */
void conf_mask_url(const char *url, char *out, size_t n);

#endif
