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
