/* i18n.c: the message catalogues (see i18n.h). The build compiles po/LANG.po with msgfmt
 * into the GNU .mo format and embeds the results as catalogues_files[] ("nb.mo", ...).
 * A .mo file holds N pairs of (original, translation), each a (length, offset) record in
 * two tables; this reader checks every record against the file's size, keeps its own
 * sorted index of the originals (it does not rely on the file's order or hash table) and
 * looks texts up by binary search. Loaded once, then read-only: safe from any thread. */
#include "util/i18n.h"
#include "util/embed.h"
#include "util/log.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

extern const struct embedded_file catalogues_files[];
extern const size_t catalogues_count;

#define MO_MAGIC 0x950412deu

struct entry {
    const char *id;  /* msgid; a plural entry is "singular\0plural" */
    const char *str; /* msgstr; a plural entry is "form0\0form1" */
    uint32_t str_len;
};

struct catalogue {
    char lang[8];
    struct entry *e;
    size_t n;
    int damaged;
};

static const char *const langs[] = {I18N_LANGS};
#define NLANGS (sizeof(langs) / sizeof(langs[0]))

static struct catalogue cats[NLANGS];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Thread_local int thread_lang; /* index into langs */

static uint32_t rd32(const unsigned char *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->id, ((const struct entry *)b)->id);
}

/* A string record of the table at off: index i, within the file, NUL-terminated. */
static const char *record(const unsigned char *d, size_t len, uint32_t table, uint32_t i, int swap,
                          uint32_t *slen)
{
    uint64_t at = (uint64_t)table + (uint64_t)i * 8;
    uint32_t n, o;
    if(at + 8 > len)
        return NULL;
    n = rd32(d + at, swap);
    o = rd32(d + at + 4, swap);
    if((uint64_t)o + n + 1 > len || d[o + n] != '\0')
        return NULL;
    *slen = n;
    return (const char *)d + o;
}

static int load_one(struct catalogue *c, const unsigned char *d, size_t len)
{
    uint32_t magic, count, orig, trans;
    int swap;
    if(len < 28)
        return -1;
    memcpy(&magic, d, 4);
    if(magic == MO_MAGIC)
        swap = 0;
    else if(__builtin_bswap32(magic) == MO_MAGIC)
        swap = 1;
    else
        return -1;
    if(rd32(d + 4, swap) >> 16 != 0) /* major revision 0 is the only one */
        return -1;
    count = rd32(d + 8, swap);
    orig = rd32(d + 12, swap);
    trans = rd32(d + 16, swap);
    if(count > len / 16)
        return -1;
    c->e = calloc(count ? count : 1, sizeof(*c->e));
    if(!c->e)
        return -1;
    for(uint32_t i = 0; i < count; i++) {
        uint32_t il, sl;
        const char *id = record(d, len, orig, i, swap, &il), *str = record(d, len, trans, i, swap, &sl);
        if(!id || !str)
            return -1;
        if(!*id || !*str) /* the header, or an untranslated text: English it stays */
            continue;
        c->e[c->n].id = id;
        c->e[c->n].str = str;
        c->e[c->n].str_len = sl;
        c->n++;
    }
    qsort(c->e, c->n, sizeof(*c->e), entry_cmp);
    return 0;
}

static void load(void)
{
    for(size_t k = 1; k < NLANGS; k++) {
        struct catalogue *c = &cats[k];
        char name[16];
        snprintf(c->lang, sizeof(c->lang), "%s", langs[k]);
        snprintf(name, sizeof(name), "%s.mo", langs[k]);
        for(size_t i = 0; i < catalogues_count; i++)
            if(!strcmp(catalogues_files[i].name, name) &&
               load_one(c, catalogues_files[i].data, catalogues_files[i].len)) {
                free(c->e);
                c->e = NULL;
                c->n = 0;
                c->damaged = 1;
                log_kv(LOG_ERROR, "message catalogue damaged; its texts stay English", "language", langs[k],
                       NULL);
            }
    }
}

static int lang_index(const char *tag)
{
    size_t n;
    if(!tag)
        return 0;
    n = strcspn(tag, "-_");
    if(n == 2 && (!strncasecmp(tag, "no", 2) || !strncasecmp(tag, "nn", 2)))
        return 1; /* Norwegian in general, and nynorsk readers, get bokmål */
    for(size_t k = 0; k < NLANGS; k++)
        if(strlen(langs[k]) == n && !strncasecmp(tag, langs[k], n))
            return (int)k;
    return -1;
}

int i18n_known(const char *tag)
{
    for(size_t k = 0; tag && k < NLANGS; k++)
        if(!strcmp(tag, langs[k]))
            return 1;
    return 0;
}

const char *i18n_lang(void)
{
    return langs[thread_lang];
}

void i18n_set_lang(const char *tag)
{
    int k = lang_index(tag);
    thread_lang = k > 0 ? k : 0;
}

const char *i18n_negotiate(const char *h)
{
    int best = 0;
    double best_q = -1;
    if(!h)
        return langs[0];
    while(*h) {
        char tag[36];
        size_t n;
        double q = 1.0;
        int k;
        while(*h == ' ' || *h == ',')
            h++;
        n = strcspn(h, ",;");
        if(!n)
            break;
        snprintf(tag, sizeof(tag), "%.*s", (int)(n < sizeof(tag) - 1 ? n : sizeof(tag) - 1), h);
        for(size_t e = strlen(tag); e && tag[e - 1] == ' '; e--)
            tag[e - 1] = '\0';
        h += n;
        while(*h == ';') { /* parameters: only q matters */
            const char *p = h + 1;
            size_t m;
            while(*p == ' ')
                p++;
            m = strcspn(p, ",;");
            if((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                char num[8];
                char *end;
                snprintf(num, sizeof(num), "%.*s", (int)(m - 2 < sizeof(num) - 1 ? m - 2 : sizeof(num) - 1), p + 2);
                q = strtod(num, &end);
                if(end == num || q < 0 || q > 1)
                    q = 0;
            }
            h = p + m;
        }
        k = lang_index(tag);
        if(k >= 0 && q > 0 && q > best_q) {
            best = k;
            best_q = q;
        }
    }
    return langs[best];
}

static const struct entry *find(int k, const char *msgid)
{
    struct entry key = {.id = msgid};
    if(k <= 0 || !msgid || !*msgid)
        return NULL;
    pthread_once(&once, load);
    return cats[k].n ? bsearch(&key, cats[k].e, cats[k].n, sizeof(key), entry_cmp) : NULL;
}

const char *i18n_text_in(const char *lang, const char *msgid)
{
    const struct entry *e = find(lang_index(lang), msgid);
    return e ? e->str : msgid;
}

const char *i18n_text(const char *msgid)
{
    const struct entry *e = find(thread_lang, msgid);
    return e ? e->str : msgid;
}

/* English, bokmål and Swedish share one plural rule: one, and everything else. */
const char *i18n_plural(const char *singular, const char *plural, unsigned long n)
{
    const struct entry *e = find(thread_lang, singular);
    int form = n != 1;
    if(!e)
        return form ? plural : singular;
    if(form) {
        size_t l0 = strlen(e->str);
        return l0 < e->str_len ? e->str + l0 + 1 : plural;
    }
    return e->str;
}

int i18n_catalogue_size(const char *lang)
{
    int k = lang_index(lang);
    if(k < 0)
        return -1;
    pthread_once(&once, load);
    return cats[k].damaged ? -1 : (int)cats[k].n;
}

int i18n_mo_entries(const void *data, size_t len)
{
    struct catalogue c;
    int n;
    memset(&c, 0, sizeof(c));
    n = load_one(&c, data, len) ? -1 : (int)c.n;
    free(c.e);
    return n;
}

/* ---- messages worded earlier, in English, read in another language (i18n_message) ---- */

#define MSG_ARGS 16
#define MSG_STEPS 200000 /* matching work allowed per message: hostile text cannot stall */

struct span {
    const char *p;
    size_t n;
};

struct matcher {
    struct span arg[MSG_ARGS];
    int nargs;
    long *steps;     /* the message's budget, shared by every text tried */
};

/* One printf conversion at f (f[0] == '%', not "%%"): its conversion character in *conv
 * and, in *pos, its n of "%n$" (0 when it has none); the text after it, or NULL for one
 * this reader does not take. */
static const char *conversion(const char *f, char *conv, int *pos)
{
    const char *p = f + 1, *q = p;
    int n = 0;
    *pos = 0;
    while(*q >= '0' && *q <= '9')
        n = n * 10 + (*q++ - '0');
    if(*q == '$' && q > p) {
        *pos = n;
        p = q + 1;
    }
    while(*p && strchr("-+ #0", *p))
        p++;
    while((*p >= '0' && *p <= '9'))
        p++;
    if(*p == '.') {
        p++;
        while(*p >= '0' && *p <= '9')
            p++;
    }
    if(*p == '*')
        return NULL; /* a width or precision given as an argument: not in these texts */
    while(*p && strchr("hlzjt", *p))
        p++;
    if(!*p || !strchr("diuxsc", *p))
        return NULL;
    *conv = *p;
    return p + 1;
}

/* Whether s matches the format f (from f on, s on), recording each argument's text. */
static int match(struct matcher *m, const char *f, const char *s)
{
    while(*f) {
        if(++*m->steps > MSG_STEPS)
            return 0;
        if(*f == '%' && f[1] == '%') {
            if(*s != '%')
                return 0;
            f += 2;
            s++;
            continue;
        }
        if(*f == '%') {
            char conv;
            int pos;
            const char *rest = conversion(f, &conv, &pos);
            size_t len = strlen(s);
            if(!rest || pos || m->nargs == MSG_ARGS)
                return 0;
            if(conv == 's') {
                /* Shortest first: the text after it decides how far it reaches. */
                for(size_t k = 0; k <= len; k++) {
                    if(++*m->steps > MSG_STEPS)
                        return 0;
                    m->arg[m->nargs] = (struct span){s, k};
                    m->nargs++;
                    if(match(m, rest, s + k))
                        return 1;
                    m->nargs--;
                }
                return 0;
            }
            {
                size_t k = 0;
                if(conv == 'c')
                    k = *s ? 1 : 0;
                else {
                    if((conv == 'd' || conv == 'i') && s[k] == '-')
                        k++;
                    while(s[k] && (conv == 'x' ? isxdigit((unsigned char)s[k]) : isdigit((unsigned char)s[k])))
                        k++;
                    if(k == 0 || (k == 1 && s[0] == '-'))
                        return 0;
                }
                if(!k)
                    return 0;
                m->arg[m->nargs++] = (struct span){s, k};
                if(match(m, rest, s + k))
                    return 1;
                m->nargs--;
                return 0;
            }
        }
        if(*f != *s)
            return 0;
        f++;
        s++;
    }
    return *s == '\0';
}

static size_t message_in(int k, const char *english, char *out, size_t n, int depth, long *steps);

/* Appends a (its bytes up to n - 1 in all) to out at *used, never cutting a character;
 * 1 when it did not fit whole (then out is full: nothing more goes after it). */
static int put_text(char *out, size_t n, size_t *used, const char *a, size_t len)
{
    int cut = 0;
    if(*used + len >= n) {
        len = n - 1 - *used;
        while(len > 0 && ((unsigned char)a[len] & 0xC0) == 0x80)
            len--; /* back to the start of a character */
        cut = 1;
    }
    memcpy(out + *used, a, len);
    *used += len;
    return cut;
}

/* Writes the translated format tr with the arguments m found into out (n bytes); an
 * argument of %s is itself read again as a message (a message quoting another). */
static size_t render(int k, const char *tr, const struct matcher *m, char *out, size_t n, int depth, long *steps)
{
    size_t used = 0;
    int next = 0;
    for(const char *f = tr; *f && used + 1 < n;) {
        char conv;
        int pos;
        const char *rest, *lit = strchr(f, '%');
        size_t litn = lit ? (size_t)(lit - f) : strlen(f);
        if(litn) {
            if(put_text(out, n, &used, f, litn))
                break;
            f += litn;
            continue;
        }
        if(f[1] == '%') {
            if(put_text(out, n, &used, "%", 1))
                break;
            f += 2;
            continue;
        }
        if(!(rest = conversion(f, &conv, &pos)))
            return 0;
        {
            int i = pos ? pos - 1 : next++, cut;
            char *arg, *inner = NULL;
            if(i < 0 || i >= m->nargs || !(arg = strndup(m->arg[i].p, m->arg[i].n)))
                return 0;
            /* An argument that is itself a message of samtale's (one quoting another). */
            if(conv == 's' && depth < 2 && (inner = malloc(n)) &&
               message_in(k, arg, inner, n, depth + 1, steps))
                cut = put_text(out, n, &used, inner, strlen(inner));
            else
                cut = put_text(out, n, &used, arg, strlen(arg));
            free(inner);
            free(arg);
            if(cut)
                break;
        }
        f = rest;
    }
    out[used] = '\0';
    return used;
}

/* english in catalogue k's language into out; 0 when no text of the catalogue made it. */
static size_t message_in(int k, const char *english, char *out, size_t n, int depth, long *steps)
{
    const struct entry *e = find(k, english);
    if(e) {
        size_t used = 0;
        put_text(out, n, &used, e->str, strlen(e->str));
        out[used] = '\0';
        return 1;
    }
    /* Of the texts the message matches, the one that says most in words (not in its
     * arguments): "%s" matches anything, "Could not %s: %s" less. */
    {
        struct matcher best = {0};
        const struct entry *be = NULL;
        size_t best_words = 0;
        for(size_t i = 0; i < cats[k].n; i++) {
            const char *id = cats[k].e[i].id, *pct = strchr(id, '%');
            struct matcher m;
            size_t words;
            if(!pct || strncmp(id, english, (size_t)(pct - id)))
                continue; /* the text before its first conversion must begin the message */
            memset(&m, 0, sizeof(m));
            m.steps = steps;
            if(!match(&m, id, english))
                continue;
            words = strlen(english);
            for(int a = 0; a < m.nargs; a++)
                words -= m.arg[a].n;
            if(!be || words > best_words) {
                be = &cats[k].e[i];
                best = m;
                best_words = words;
            }
        }
        if(be && best_words > 0)
            return render(k, be->str, &best, out, n, depth, steps) ? 1 : 0;
    }
    return 0;
}

int i18n_message(const char *english, char *out, size_t n)
{
    int k = thread_lang;
    if(!n)
        return 0;
    out[0] = '\0';
    if(!english)
        return 0;
    pthread_once(&once, load);
    {
        long steps = 0;
        if(k > 0 && *english && message_in(k, english, out, n, 0, &steps))
            return 1;
    }
    snprintf(out, n, "%s", english);
    return 0;
}
