/*
 * i18n.h: what samtale says to people, in their language.
 *
 * The texts are written in English in the code and marked for translation; the
 * translations live in one gettext catalogue per language (po/nb.po, po/sv.po), which the
 * build checks and compiles with msgfmt and embeds in the binary, so translators use
 * their usual tools and the binary needs no files beside it. English is the source
 * language and needs no catalogue.
 *
 * The language is per thread: the HTTP server sets the asking member's language for each
 * request (i18n_set_lang), and everything worded on that thread (sam_fail messages, the
 * checks' explanations) comes out in it. A thread that never sets it speaks English.
 *
 *   _("text")               the translation of a literal text in this thread's language
 *   N_("text")              marks a literal for the catalogue without translating it here
 *   n_("one", "many", n)    the singular or plural form for n, translated
 *
 * A text with printf conversions keeps them in its translations (msgfmt --check verifies
 * it), so a translated format takes the same arguments.
 */
#ifndef SAM_I18N_H
#define SAM_I18N_H

#include <stddef.h>

/* The languages samtale speaks: English (the source), Norwegian bokmål and Swedish. */
#define I18N_LANGS "en", "nb", "sv"

/* The language tag this thread speaks ("en" until set). Never NULL. */
const char *i18n_lang(void);
/* Sets this thread's language from a tag ("nb", "sv", "en", or a longer tag such as
 * "nb-NO"); an unknown or NULL tag means English. */
void i18n_set_lang(const char *tag);
/* The best language for an Accept-Language header value ("nb-NO,nb;q=0.9,en;q=0.8"):
 * the acceptable language with the highest weight that samtale speaks ("no" and "nn" are
 * read as bokmål), "en" when none. Never NULL. */
const char *i18n_negotiate(const char *accept_language);
/* 1 when tag names a language samtale speaks exactly (en, nb, sv). */
int i18n_known(const char *tag);

/* msgid translated into this thread's language (msgid itself when English or missing). */
const char *i18n_text(const char *msgid) __attribute__((format_arg(1)));
/* The same in a given language. */
const char *i18n_text_in(const char *lang, const char *msgid) __attribute__((format_arg(2)));
/* The form of singular/plural for n in this thread's language. */
const char *i18n_plural(const char *singular, const char *plural, unsigned long n)
    __attribute__((format_arg(1), format_arg(2)));

/* A message worded earlier in English (a publishing error stored when it happened) in
 * this thread's language, into out (n bytes): the catalogue's text it was made from is
 * found by matching the message against the texts' formats (the words must match, each
 * conversion takes what stands in its place; of several, the one with the most words),
 * and its translation is filled with the same arguments; an argument that is itself such
 * a message is translated too. 1 when translated; else out gets the message as it is.
 * The matching work is bounded, so any text is safe. */
int i18n_message(const char *english, char *out, size_t n);

/* How many catalogues were loaded, and the texts of lang's (for tests). -1 on a damaged
 * catalogue (reported once in the log). */
int i18n_catalogue_size(const char *lang);

/* Reads a compiled catalogue (GNU .mo) as the loader does: the number of translated
 * texts, or -1 when it is damaged. For tests and fuzzing; any input is safe. */
int i18n_mo_entries(const void *data, size_t len);

#define _(s) i18n_text(s)
#define N_(s) (s)
#define n_(s, p, n) i18n_plural((s), (p), (n))

#endif
