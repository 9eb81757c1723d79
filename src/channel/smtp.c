/*
 * smtp.c: the SMTP client of channel/ (see smtp.h), on libcurl's SMTP. Besides http.c it
 * is the only file of samtale that includes curl.h. Every libcurl option that matters
 * for safety is set here: protocols limited to smtp and smtps, TLS required unless the
 * operator chose smtp_security = none, verification on, no proxy from the environment,
 * timeouts always, no signals (the mailer runs in a thread), no connection kept after a
 * send. Every socket is opened through open_allowed(), which asks util/netpolicy.h about
 * the address first.
 *
 * The server's replies reach us through the header callback, one line at a time
 * ("250-..." continues a reply, "250 ..." ends it); we keep the last reply and the last
 * one with a code of 400 or more, each bounded and cleaned, and ignore the answer to
 * QUIT (221), which would otherwise hide the reply that mattered.
 */
#include "channel/smtp.h"
#include "core/mail.h"
#include "util/err.h"
#include "util/netpolicy.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void smtp_clean_reply(char *out, size_t n, const char *reply, size_t len)
{
    size_t k = 0;
    int space = 1; /* drops leading spaces and collapses runs */
    if(!n)
        return;
    for(size_t i = 0; i < len && k + 1 < n; i++) {
        unsigned char ch = (unsigned char)reply[i];
        if(ch < 0x20 || ch == 0x7f || ch == ' ') {
            if(!space)
                out[k++] = ' ';
            space = 1;
            continue;
        }
        out[k++] = (char)ch;
        space = 0;
    }
    while(k && out[k - 1] == ' ')
        k--;
    /* Cut at a character boundary: drop a lead byte whose sequence did not fit. */
    if(k) {
        size_t start = k, need;
        unsigned char lead;
        while(start > 0 && ((unsigned char)out[start - 1] & 0xC0) == 0x80)
            start--;
        if(start > 0) {
            lead = (unsigned char)out[start - 1];
            need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if(lead >= 0x80 && k - (start - 1) < need)
                k = start - 1;
        }
    }
    out[k] = '\0';
}

int smtp_security_parse(const char *text, int *security)
{
    if(!text || !strcmp(text, "starttls"))
        *security = SMTP_STARTTLS;
    else if(!strcmp(text, "tls"))
        *security = SMTP_TLS;
    else if(!strcmp(text, "none"))
        *security = SMTP_NONE;
    else
        return sam_fail(SAM_EINVAL, "smtp_security must be starttls, tls or none");
    return SAM_OK;
}

int smtp_config_check(const struct smtp_config *cfg)
{
    const char *u = cfg->url, *host;
    size_t hostlen;
    int tls;
    if(!u || !*u)
        return sam_fail(SAM_EINVAL, "smtp_url is not set");
    if(!strncasecmp(u, "smtp://", 7)) {
        tls = 0;
        host = u + 7;
    } else if(!strncasecmp(u, "smtps://", 8)) {
        tls = 1;
        host = u + 8;
    } else {
        return sam_fail(SAM_EINVAL, "smtp_url must start with smtp:// (STARTTLS, port 587) or smtps:// "
                                    "(TLS, port 465)");
    }
    for(const char *p = u; *p; p++)
        if((unsigned char)*p <= 0x20 || *p == 0x7f)
            return sam_fail(SAM_EINVAL, "smtp_url must not contain spaces or control characters");
    hostlen = strcspn(host, "/?#");
    if(!hostlen || *host == ':')
        return sam_fail(SAM_EINVAL, "smtp_url names no mail server");
    if(memchr(host, '@', hostlen))
        return sam_fail(SAM_EINVAL, "put the user name and password in smtp_user and smtp_password, not in "
                                    "smtp_url");
    if(tls && cfg->security == SMTP_NONE)
        return sam_fail(SAM_EINVAL, "smtps:// always uses TLS: set smtp_security = tls, or use smtp:// for a "
                                    "relay without TLS");
    if(!tls && cfg->security == SMTP_TLS)
        return sam_fail(SAM_EINVAL, "smtp_security = tls needs an smtps:// address (usually port 465); "
                                    "smtp:// uses STARTTLS");
    if(cfg->security != SMTP_STARTTLS && cfg->security != SMTP_TLS && cfg->security != SMTP_NONE)
        return sam_fail(SAM_EINVAL, "smtp_security must be starttls, tls or none");
    if(!cfg->from || !*cfg->from)
        return sam_fail(SAM_EINVAL, "smtp_from is not set: give the address mail comes from");
    if(mail_address_check("smtp_from", cfg->from))
        return SAM_EINVAL;
    if(cfg->user && *cfg->user && (!cfg->password || !*cfg->password))
        return sam_fail(SAM_EINVAL, "smtp_user is set but smtp_password is empty");
    if((!cfg->user || !*cfg->user) && cfg->password && *cfg->password)
        return sam_fail(SAM_EINVAL, "smtp_password is set but smtp_user is empty");
    if(cfg->user && (strpbrk(cfg->user, "\r\n") || (cfg->password && strpbrk(cfg->password, "\r\n"))))
        return sam_fail(SAM_EINVAL, "smtp_user and smtp_password must be one line each");
    if(cfg->timeout_ms && (cfg->timeout_ms < 1000 || cfg->timeout_ms > 300000))
        return sam_fail(SAM_EINVAL, "smtp_timeout_ms must be from 1000 to 300000");
    return SAM_OK;
}

int smtp_classify(int curl_code, int reply_code, int refused_by_policy)
{
    if(curl_code == CURLE_OK)
        return SMTP_SENT;
    if(refused_by_policy)
        return SMTP_PERMANENT;
    if(reply_code >= 400 && reply_code < 500)
        return SMTP_TEMPORARY;
    if(reply_code >= 500 && reply_code < 600)
        return SMTP_PERMANENT;
    switch(curl_code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_USE_SSL_FAILED:
    case CURLE_LOGIN_DENIED:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
        return SMTP_PERMANENT;
    default:
        /* Refused, reset, timed out, name lookup, TLS handshake cut short, out of
         * memory, and whatever else: try again; the mailer gives up after two days. */
        return SMTP_TEMPORARY;
    }
}

/* What libcurl's failure means, in words, when the server gave no reply that says it. */
static const char *curl_words(CURLcode cc)
{
    switch(cc) {
    case CURLE_COULDNT_CONNECT: return "cannot connect to the mail server";
    case CURLE_COULDNT_RESOLVE_HOST: return "the mail server's name cannot be resolved";
    case CURLE_OPERATION_TIMEDOUT: return "the mail server did not answer in time";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING: return "the connection to the mail server broke off";
    case CURLE_SSL_CONNECT_ERROR: return "the TLS handshake with the mail server failed";
    case CURLE_PEER_FAILED_VERIFICATION:
        return "the mail server's certificate cannot be verified (for a private CA, set smtp_ca_file)";
    case CURLE_SSL_CACERT_BADFILE: return "the CA file named by smtp_ca_file cannot be read";
    case CURLE_USE_SSL_FAILED:
        return "the mail server does not offer STARTTLS, and samtale sends mail over TLS only (unless "
               "smtp_security = none)";
    case CURLE_LOGIN_DENIED: return "the mail server refused the user name or password";
    case CURLE_REMOTE_ACCESS_DENIED: return "the mail server refused the connection";
    case CURLE_WEIRD_SERVER_REPLY: return "the mail server answered something unexpected";
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return "smtp_url is not a valid smtp:// or smtps:// address";
    case CURLE_OUT_OF_MEMORY: return "out of memory";
    case CURLE_ABORTED_BY_CALLBACK: return "the send was stopped (samtale is stopping)";
    default: return NULL;
    }
}

/* The server's replies, read line by line (see the file's comment). */
struct replies {
    char cur[SMTP_REPLY_MAX + 1];
    size_t curlen;
    int cur_code;
    int cur_open;                     /* a "NNN-" line came and its reply goes on */
    char last[SMTP_REPLY_MAX + 1];    /* the last complete reply but 221 */
    int last_code;
    char err[SMTP_REPLY_MAX + 1];     /* the last complete reply of 400 or more */
    int err_code;
};

static size_t on_reply_line(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct replies *r = userdata;
    size_t n = size * nmemb, k;
    int code, final;
    char piece[SMTP_REPLY_MAX + 1];
    if(n < 3 || p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
        return n; /* not a reply line: ignore it, never fail the transfer for it */
    code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    final = n == 3 || p[3] != '-';
    if(!r->cur_open || code != r->cur_code) {
        r->curlen = 0;
        r->cur[0] = '\0';
        r->cur_code = code;
        k = (size_t)snprintf(r->cur, sizeof(r->cur), "%d", code);
        r->curlen = k < sizeof(r->cur) ? k : sizeof(r->cur) - 1;
    }
    smtp_clean_reply(piece, sizeof(piece), p + (n > 3 ? 4 : 3), n > 3 ? n - 4 : 0);
    if(piece[0] && r->curlen + 1 < sizeof(r->cur)) {
        r->cur[r->curlen++] = ' ';
        r->cur[r->curlen] = '\0';
        smtp_clean_reply(r->cur + r->curlen, sizeof(r->cur) - r->curlen, piece, strlen(piece));
        r->curlen += strlen(r->cur + r->curlen);
    }
    r->cur_open = !final;
    if(final) {
        if(code != 221) {
            memcpy(r->last, r->cur, sizeof(r->last));
            r->last_code = code;
        }
        if(code >= 400) {
            memcpy(r->err, r->cur, sizeof(r->err));
            r->err_code = code;
        }
    }
    return n;
}

struct upload {
    const char *p;
    size_t left;
};

static size_t on_read(char *dst, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nitems;
    if(n > u->left)
        n = u->left;
    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/* Progress: stops the transfer when the caller's cancelled() says so. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    const struct smtp_config *cfg = arg;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return cfg->cancelled(cfg->cancel_arg) ? 1 : 0;
}

struct sock_guard {
    int refused, allowed;
    char why[200];
};

/* Opens the socket libcurl asked for, unless the address policy refuses the address. */
static curl_socket_t open_allowed(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct sock_guard *g = arg;
    (void)purpose;
    if(netpolicy_allowed(&addr->addr) != SAM_OK) {
        if(!g->refused)
            snprintf(g->why, sizeof(g->why), "%s", netpolicy_class_name(netpolicy_classify(&addr->addr)));
        g->refused++;
        return CURL_SOCKET_BAD;
    }
    g->allowed++;
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

#define SETOPT(h, opt, val)                                                                 \
    do {                                                                                    \
        if(!cc)                                                                             \
            cc = curl_easy_setopt((h), (opt), (val));                                       \
    } while(0)

int smtp_send(const struct smtp_config *cfg, const char *rcpt, const char *message, size_t len,
              struct smtp_result *res)
{
    CURL *h = NULL;
    struct curl_slist *rcpts = NULL;
    struct replies *rep = NULL;
    struct upload up = {message, len};
    struct sock_guard guard;
    char errbuf[CURL_ERROR_SIZE], from[MAIL_ADDRESS_MAX + 3], to[MAIL_ADDRESS_MAX + 3], detail[CURL_ERROR_SIZE];
    long timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : SMTP_TIMEOUT_MS_DEFAULT;
    long connect_timeout = timeout < SMTP_CONNECT_TIMEOUT_MS_MAX ? timeout : SMTP_CONNECT_TIMEOUT_MS_MAX;
    CURLcode cc = CURLE_OK;
    const char *words;
    int rc = SAM_OK;

    memset(res, 0, sizeof(*res));
    memset(&guard, 0, sizeof(guard));
    res->outcome = SMTP_PERMANENT;
    if((rc = smtp_config_check(cfg)) || (rc = mail_address_check("to", rcpt))) {
        snprintf(res->message, sizeof(res->message), "%s", sam_errmsg(rc));
        return rc;
    }
    snprintf(from, sizeof(from), "<%s>", cfg->from);
    snprintf(to, sizeof(to), "<%s>", rcpt);

    res->outcome = SMTP_TEMPORARY;
    pthread_once(&global_once, global_init);
    if(global_rc != CURLE_OK) {
        snprintf(res->message, sizeof(res->message), "the mail library could not start");
        return sam_fail(SAM_EINTERNAL, "%s", res->message);
    }
    rep = calloc(1, sizeof(*rep));
    h = curl_easy_init();
    rcpts = curl_slist_append(NULL, to);
    if(!rep || !h || !rcpts) {
        snprintf(res->message, sizeof(res->message), "out of memory");
        rc = sam_fail(SAM_ENOMEM, "out of memory sending mail");
        goto out;
    }

    errbuf[0] = '\0';
    SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(h, CURLOPT_URL, cfg->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    SETOPT(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    SETOPT(h, CURLOPT_USE_SSL, (long)(cfg->security == SMTP_NONE ? CURLUSESSL_NONE : CURLUSESSL_ALL));
    SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if(cfg->ca_file && *cfg->ca_file)
        SETOPT(h, CURLOPT_CAINFO, cfg->ca_file);
    SETOPT(h, CURLOPT_PROXY, ""); /* "" ignores all_proxy and friends */
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_FORBID_REUSE, 1L);
    SETOPT(h, CURLOPT_TIMEOUT_MS, timeout);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout);
    SETOPT(h, CURLOPT_OPENSOCKETFUNCTION, open_allowed);
    SETOPT(h, CURLOPT_OPENSOCKETDATA, &guard);
    SETOPT(h, CURLOPT_HEADERFUNCTION, on_reply_line);
    SETOPT(h, CURLOPT_HEADERDATA, rep);
    SETOPT(h, CURLOPT_MAIL_FROM, from);
    SETOPT(h, CURLOPT_MAIL_RCPT, rcpts);
    if(cfg->user && *cfg->user) {
        SETOPT(h, CURLOPT_USERNAME, cfg->user);
        SETOPT(h, CURLOPT_PASSWORD, cfg->password);
    }
    SETOPT(h, CURLOPT_UPLOAD, 1L);
    SETOPT(h, CURLOPT_READFUNCTION, on_read);
    SETOPT(h, CURLOPT_READDATA, &up);
    SETOPT(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    if(cfg->cancelled) {
        SETOPT(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        SETOPT(h, CURLOPT_XFERINFODATA, (void *)cfg);
        SETOPT(h, CURLOPT_NOPROGRESS, 0L);
    }
    if(cc) {
        snprintf(res->message, sizeof(res->message), "the mail library refused an option: %s",
                 curl_easy_strerror(cc));
        rc = sam_fail(SAM_EINTERNAL, "%s", res->message);
        goto out;
    }

    cc = curl_easy_perform(h);
    /* Closes the connection now (QUIT), while rep is alive for its answer. */
    curl_easy_cleanup(h);
    h = NULL;

    if(cc == CURLE_OK) {
        res->outcome = SMTP_SENT;
        res->code = rep->last_code;
        snprintf(res->reply, sizeof(res->reply), "%s", rep->last);
        snprintf(res->message, sizeof(res->message), "the mail server took the message%s%s",
                 rep->last[0] ? ": " : "", rep->last);
        goto out;
    }
    if(guard.refused && !guard.allowed) {
        res->outcome = smtp_classify(cc, 0, 1);
        snprintf(res->message, sizeof(res->message),
                 "not connecting to the mail server: it is on %s, which samtale does not connect to unless "
                 "outbound_allow lists its address", guard.why);
        goto out;
    }
    res->code = rep->err_code;
    snprintf(res->reply, sizeof(res->reply), "%s", rep->err);
    res->outcome = smtp_classify(cc, rep->err_code, 0);
    smtp_clean_reply(detail, sizeof(detail), errbuf, strlen(errbuf));
    words = curl_words(cc);
    /* libcurl's own text adds what the words cannot know (the address, the errno, the
     * certificate's problem) for network and TLS failures; elsewhere it only repeats. */
    if(cc != CURLE_COULDNT_CONNECT && cc != CURLE_COULDNT_RESOLVE_HOST && cc != CURLE_OPERATION_TIMEDOUT &&
       cc != CURLE_SEND_ERROR && cc != CURLE_RECV_ERROR && cc != CURLE_SSL_CONNECT_ERROR &&
       cc != CURLE_PEER_FAILED_VERIFICATION && cc != CURLE_SSL_CACERT_BADFILE)
        detail[0] = words ? '\0' : detail[0];
    if(rep->err[0])
        snprintf(res->message, sizeof(res->message), "the mail server answered: %s", rep->err);
    else if(words && detail[0])
        snprintf(res->message, sizeof(res->message), "%s (%s)", words, detail);
    else
        snprintf(res->message, sizeof(res->message), "%s", words ? words : detail[0] ? detail : curl_easy_strerror(cc));

out:
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(h);
    free(rep);
    return rc;
}
