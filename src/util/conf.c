/* conf.c: configuration table and its sources (see conf.h). */
#include "util/conf.h"
#include "util/err.h"
#include "util/i18n.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item_def {
    const char *key;
    const char *def;
    int secret;
    const char *help;
};

static const struct item_def defs[] = {
    {"db", "var/samtale.db", 1, "database: a SQLite file path, or a PostgreSQL URL (postgresql://user@host/db)"},
    {"listen", "127.0.0.1:8080", 0, "address and port of the HTTP server"},
    {"secret_key_file", "", 0, "file holding the key that encrypts channel secrets (default: secret.key beside the database)"},
    {"secret_key", "", 1, "the key itself, base64 (instead of secret_key_file)"},
    {"log_level", "info", 0, "debug, info, warn or error"},
    {"log_format", "logfmt", 0, "logfmt or json"},
    {"max_body", "1048576", 0, "largest request body in bytes"},
    {"threads", "4", 0, "HTTP worker threads"},
    {"role", "all", 0, "what serve runs: all, web (HTTP only) or worker (publisher, reader, mailer; PostgreSQL only)"},
    {"max_connections", "0", 0, "open HTTP connections at once (0: from the open-file limit, leaving room for the rest)"},
    {"max_connections_per_client", "64", 0, "open HTTP connections from one address (0: no limit; raise it behind a proxy)"},
    {"idle_timeout_s", "30", 0, "seconds before an idle HTTP connection is closed"},
    {"net_workers", "8", 0, "threads for requests that wait on a network (reading a channel, checking an account)"},
    {"net_queue", "64", 0, "such requests that may wait for a thread (503 beyond)"},
    {"net_per_workspace", "4", 0, "such requests of one workspace at once (429 beyond)"},
    {"net_deadline_ms", "60000", 0, "such a request not done by then is answered 504"},
    {"tls_cert", "", 0, "PEM certificate file: serve HTTPS"},
    {"tls_key", "", 0, "PEM private key file for tls_cert"},
    {"cookie_secure", "auto", 0, "mark session cookies Secure: auto (when TLS), true, false"},
    {"public_url", "", 0, "URL people use to reach samtale (when behind a proxy)"},
    {"timezone", "Europe/Oslo", 0, "time zone of the first workspace"},
    {"files_dir", "", 0, "folder of file channels' output (default: files/ beside the database)"},
    {"publish_workers", "4", 0, "publisher threads (each publishes one post at a time)"},
    {"publish_timeout_ms", "15000", 0, "time limit of one call to a network, in milliseconds"},
    {"publish_max_attempts", "10", 0, "attempts after transient failures before a post is marked failed"},
    {"publish_backoff_s", "10", 0, "first wait before a retry in seconds (doubles each time, at most an hour)"},
    {"allow_private_addresses", "false", 0, "let samtale connect to this machine and private networks when a "
                                            "member names an address (feeds, webhooks, Mastodon and Bluesky "
                                            "servers, Jetstream)"},
    {"outbound_allow", "", 0, "addresses or CIDR ranges samtale may connect to although they are private, e.g. "
                              "10.0.0.5, fd00::/8"},
    {"poll_interval_s", "60", 0, "seconds between two readings of a channel's mentions and messages"},
    {"engagement_after", "1h,24h,7d", 0, "when engagement counts are fetched after publishing"},
    {"media_keep_unused_s", "86400", 0, "seconds an image no post uses is kept after its last upload, so a composer "
                                        "can attach it; then it is deleted"},
    {"login_limiter_entries", "65536", 0, "entries of the failed-login table (48 bytes each; when full, new logins wait)"},
    {"metrics_token", "", 1, "when set, /metrics wants 'Authorization: Bearer <this>'"},
    {"trusted_proxies", "", 0, "reverse proxies (addresses or ranges) whose X-Forwarded-For says who the client is"},
    {"bootstrap_email", "owner@localhost", 0, "login of the first owner, made on the first start"},
    {"bootstrap_workspace", N_("My workspace"), 0, "name of the first workspace"},
    {"smtp_url", "", 0, "mail server: smtp://host:587 (STARTTLS) or smtps://host:465 (TLS); empty: no mail is sent"},
    {"smtp_user", "", 0, "user name for the mail server (empty: no AUTH)"},
    {"smtp_password", "", 1, "password for the mail server"},
    {"smtp_from", "", 0, "the address mail comes from, e.g. samtale@example.com"},
    {"smtp_security", "starttls", 0, "starttls (required), tls (smtps://) or none (a relay on this machine only)"},
    {"smtp_ca_file", "", 0, "PEM file of the CA that signed the mail server's certificate (default: the system's)"},
    {"smtp_timeout_ms", "30000", 0, "time limit of one send to the mail server, in milliseconds"},
    {"smtp_retry_s", "30", 0, "first wait before mail is sent again after a temporary failure (doubles, at most an hour)"},
    {"outbound_allow", "", 0, "private addresses samtale may connect to, e.g. 10.0.0.5 or 192.168.0.0/16 (a mail relay)"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

/* Old names that still work (in files, as SAMTALE_* variables and for conf_set), each
 * for the key that replaced it. conf_key lists only the new names. */
static const struct {
    const char *old, *key;
} aliases[] = {
    {"fetch_private_addresses", "allow_private_addresses"},
};
#define CONF_FILE_MAX (1u << 20)

struct conf {
    char *value[NDEFS];
    enum conf_source src[NDEFS];
};

static int find(const char *key)
{
    for(size_t i = 0; i < NDEFS; i++)
        if(!strcmp(defs[i].key, key))
            return (int)i;
    for(size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++)
        if(!strcmp(aliases[a].old, key))
            return find(aliases[a].key);
    return -1;
}

/* SAMTALE_ + key in capitals, into name (n bytes). */
static void env_name(const char *key, char *name, size_t n)
{
    size_t j;
    snprintf(name, n, "SAMTALE_");
    for(j = 0; key[j] && j + 9 < n; j++)
        name[8 + j] = (char)toupper((unsigned char)key[j]);
    name[8 + j] = '\0';
}

struct conf *conf_new(void)
{
    struct conf *c = calloc(1, sizeof(*c));
    if(!c)
        return NULL;
    for(size_t i = 0; i < NDEFS; i++) {
        c->value[i] = strdup(defs[i].def);
        if(!c->value[i]) {
            conf_free(c);
            return NULL;
        }
    }
    return c;
}

void conf_free(struct conf *c)
{
    if(!c)
        return;
    for(size_t i = 0; i < NDEFS; i++)
        free(c->value[i]);
    free(c);
}

int conf_set(struct conf *c, const char *key, const char *value, enum conf_source src)
{
    int i = find(key);
    char *v;
    if(i < 0)
        return sam_fail(SAM_EINVAL, "unknown configuration key '%s'", key);
    v = strdup(value);
    if(!v)
        return SAM_ENOMEM;
    free(c->value[i]);
    c->value[i] = v;
    c->src[i] = src;
    return SAM_OK;
}

static char *trim(char *s)
{
    char *e;
    while(isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while(e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int conf_load_text(struct conf *c, const char *text, size_t len, const char *name)
{
    char line[4096];
    int lineno = 0, rc = SAM_OK;
    size_t pos = 0;

    while(pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        char *s, *eq, *key, *val;
        lineno++;
        if(n >= sizeof(line))
            return sam_fail(SAM_EINVAL, "%s:%d: line too long", name, lineno);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + 1;
        if(strlen(line) != n)
            return sam_fail(SAM_EINVAL, "%s:%d: NUL byte in line", name, lineno);
        s = trim(line);
        if(!*s || *s == '#')
            continue;
        eq = strchr(s, '=');
        if(!eq)
            return sam_fail(SAM_EINVAL, "%s:%d: expected 'key = value'", name, lineno);
        *eq = '\0';
        key = trim(s);
        val = trim(eq + 1);
        if(strlen(val) >= 2 && val[0] == '"' && val[strlen(val) - 1] == '"') {
            val[strlen(val) - 1] = '\0';
            val++;
        }
        if(find(key) < 0)
            return sam_fail(SAM_EINVAL, "%s:%d: unknown key '%.64s'", name, lineno, key);
        rc = conf_set(c, key, val, CONF_FILE);
        if(rc)
            return rc;
    }
    return SAM_OK;
}

int conf_load_file(struct conf *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text;
    size_t n;
    int rc;

    if(!f)
        return sam_fail(SAM_EIO, "cannot read configuration file %s", path);
    text = malloc(CONF_FILE_MAX + 1);
    if(!text) {
        fclose(f);
        return SAM_ENOMEM;
    }
    n = fread(text, 1, CONF_FILE_MAX + 1, f);
    fclose(f);
    if(n > CONF_FILE_MAX)
        rc = sam_fail(SAM_ETOOBIG, "configuration file %s is over 1 MiB", path);
    else
        rc = conf_load_text(c, text, n, path);
    free(text);
    return rc;
}

int conf_load_env(struct conf *c)
{
    char name[96];
    /* Old names first, so the new name wins when both are set. */
    for(size_t a = 0; a < sizeof(aliases) / sizeof(aliases[0]); a++) {
        const char *v;
        env_name(aliases[a].old, name, sizeof(name));
        if((v = getenv(name))) {
            int rc = conf_set(c, aliases[a].key, v, CONF_ENV);
            if(rc)
                return rc;
        }
    }
    for(size_t i = 0; i < NDEFS; i++) {
        const char *v;
        env_name(defs[i].key, name, sizeof(name));
        v = getenv(name);
        if(v) {
            int rc = conf_set(c, defs[i].key, v, CONF_ENV);
            if(rc)
                return rc;
        }
    }
    return SAM_OK;
}

const char *conf_get(const struct conf *c, const char *key)
{
    int i = find(key);
    return i < 0 ? "" : c->value[i];
}

long conf_get_long(const struct conf *c, const char *key)
{
    return strtol(conf_get(c, key), NULL, 10);
}

int conf_get_bool(const struct conf *c, const char *key)
{
    const char *v = conf_get(c, key);
    return !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on");
}

const char *conf_key(size_t i)
{
    return i < NDEFS ? defs[i].key : NULL;
}

const char *conf_help(size_t i)
{
    return i < NDEFS ? defs[i].help : NULL;
}

enum conf_source conf_source_of(const struct conf *c, const char *key)
{
    int i = find(key);
    return i < 0 ? CONF_DEFAULT : c->src[i];
}

const char *conf_source_name(enum conf_source s)
{
    switch(s) {
    case CONF_DEFAULT: return "default";
    case CONF_FILE: return "file";
    case CONF_ENV: return "environment";
    case CONF_FLAG: return "flag";
    }
    return "?";
}

void conf_mask_url(const char *v, char *out, size_t n)
{
    const char *scheme = strstr(v, "://"), *at, *pw;
    size_t len = 0;
    at = scheme ? strchr(scheme + 3, '@') : NULL;
    if(scheme && at) {
        const char *colon = memchr(scheme + 3, ':', (size_t)(at - (scheme + 3)));
        if(colon)
            len = (size_t)snprintf(out, n, "%.*s****%s", (int)(colon + 1 - v), v, at);
        else
            len = (size_t)snprintf(out, n, "%s", v);
    } else {
        len = (size_t)snprintf(out, n, "%s", v);
    }
    /* libpq also takes ?password=...: hidden the same way */
    if(len < n && (pw = strstr(out, "password=")) && (pw == out || pw[-1] == '?' || pw[-1] == '&')) {
        char *val = (char *)pw + 9, *end = val + strcspn(val, "&");
        char rest[1024];
        snprintf(rest, sizeof(rest), "%s", end);
        snprintf(val, n - (size_t)(val - out), "****%s", rest);
    }
}

void conf_display(const struct conf *c, const char *key, char *out, size_t n)
{
    int i = find(key);
    const char *v = i < 0 ? "" : c->value[i];
    if(i < 0 || !defs[i].secret || !*v) {
        snprintf(out, n, "%s", v);
        return;
    }
    /* A URL keeps everything but its password; a database path is no secret; anything
     * else is hidden whole. */
    if(strstr(v, "://") || !strcmp(key, "db"))
        conf_mask_url(v, out, n);
    else
        snprintf(out, n, "****");
}
