/* test_text.c: text/: the comparison form of a text (normalise), link spans, grapheme
 * counts and shingle signatures. Expected forms were written by hand from the rules in
 * text/normalise.h, not taken from the code's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/html.h"
#include "text/normalise.h"
#include "text/shingle.h"
#include "text/thread.h"
#include "text/visible.h"
#include "util/err.h"

static void normalise_table(void **state)
{
    static const struct {
        const char *in, *want, *why;
    } cases[] = {
        {"", "", "empty"},
        {"Hello, World!", "hello world", "case and punctuation"},
        {"  many   spaces\t\nand\r\nlines  ", "many spaces and lines", "whitespace collapses and trims"},
        {"SPRING SALE!!! 20% off 🎉 https://x.example/a", "spring sale 20 off", "emoji and link dropped"},
        {"spring sale - 20% OFF", "spring sale 20 off", "same form as the line above"},
        {"Blåbær, rømme og ØL", "blåbær rømme og øl", "Norwegian letters stay"},
        {"Smörgåsbord ÄR gött", "smörgåsbord är gött", "Swedish letters stay"},
        {"a\xcc\x8a", "\xc3\xa5", "a + combining ring composes to å (NFKC)"},
        {"Ｓａｌｅ ｔｏｄａｙ", "sale today", "fullwidth folds to ASCII (NFKC)"},
        {"Straße", "strasse", "case folding of ß"},
        {"e\xc2\xad" "post", "epost", "a soft hyphen is ignorable, not a break"},
        {"#Sale @shop", "sale shop", "hashtag and mention marks go"},
        {"see www.example.no/tilbud today", "see today", "www. words are links"},
        {"see (https://example.no/a) now", "see now", "a link in parentheses"},
        {"xhttps://example.no stays", "xhttps example no stays", "no link inside a word"},
        {"https:// alone", "https alone", "a scheme without a host is not a link"},
        {"bad \xff\xfe bytes", "bad bytes", "invalid UTF-8 reads as separators"},
        {"over\xc0\xaflong", "over long", "overlong slash is invalid"},
        {"sur\xed\xa0\x80rogate", "sur rogate", "an encoded surrogate is invalid"},
        {"👩‍👩‍👧 family 👍🏽", "family", "ZWJ sequences and skin tones are symbols"},
        {"Ⅻ and ½", "xii and 1 2", "number forms fold and stay digits"},
    };
    char out[TEXT_NORM_MAX_OUT + 1];
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = 99;
        assert_int_equal(text_normalise(cases[i].in, strlen(cases[i].in), out, sizeof(out), &n), SAM_OK);
        if(strcmp(out, cases[i].want) != 0 || n != strlen(cases[i].want))
            fail_msg("case %zu (%s): got \"%s\" (%zu), want \"%s\"", i, cases[i].why, out, n, cases[i].want);
    }
}

static void normalise_limits(void **state)
{
    char small[8], big[TEXT_NORM_MAX_OUT + 1];
    size_t n = 0, len = 3 * TEXT_NORM_MAX_IN;
    char *in = malloc(len + 1);
    (void)state;
    assert_non_null(in);
    /* A cap cuts at a whole code point: "æææ" is 6 bytes, 7 bytes of room keep 3 letters. */
    assert_int_equal(text_normalise("æææææ", strlen("æææææ"), small, sizeof(small), &n), SAM_OK);
    assert_string_equal(small, "æææ");
    assert_int_equal(n, 6);
    /* Only the first TEXT_NORM_MAX_IN bytes are read, never split inside a character. */
    for(size_t i = 0; i + 1 < len; i += 2)
        memcpy(in + i, "\xc3\xa6", 2); /* æ */
    in[len] = '\0';
    assert_int_equal(text_normalise(in, len, big, sizeof(big), &n), SAM_OK);
    assert_true(n <= TEXT_NORM_MAX_OUT);
    assert_true(n % 2 == 0);
    assert_int_equal(n, TEXT_NORM_MAX_IN);
    /* NULL input, bad arguments */
    assert_int_equal(text_normalise(NULL, 0, small, sizeof(small), &n), SAM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(text_normalise("x", 1, NULL, 4, &n), SAM_EINVAL);
    assert_int_equal(text_normalise("x", 1, small, 0, &n), SAM_EINVAL);
    /* An input of only a multi-byte sequence cut at the limit */
    memset(in, 'a', TEXT_NORM_MAX_IN - 1);
    memcpy(in + TEXT_NORM_MAX_IN - 1, "\xc3\xa6", 2);
    in[TEXT_NORM_MAX_IN + 1] = '\0';
    assert_int_equal(text_normalise(in, TEXT_NORM_MAX_IN + 1, big, sizeof(big), &n), SAM_OK);
    assert_int_equal(n, TEXT_NORM_MAX_IN - 1);
    free(in);
}

static void url_span_table(void **state)
{
    static const struct {
        const char *s;
        size_t at, want;
    } cases[] = {
        {"https://example.no/a", 0, 20},
        {"HTTP://EXAMPLE.NO", 0, 17},
        {"see https://example.no/a.", 4, 20},        /* trailing full stop is prose */
        {"(https://example.no/a)", 1, 20},           /* unbalanced ) is prose */
        {"https://en.wikipedia.org/wiki/A_(b)", 0, 35}, /* balanced ) belongs */
        {"https://example.no/a?b=1&c=2, ok", 0, 28},
        {"https://blåbær.no/ø here", 0, 22},         /* non-ASCII host and path */
        {"https://x\xc2\xa0y", 0, 9},                 /* stops at a no-break space */
        {"xhttps://example.no", 1, 0},               /* inside a word */
        {"https://", 0, 0},
        {"https://.", 0, 0},
        {"ftp://example.no", 0, 0},
        {"http:/example.no", 0, 0},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = text_url_span(cases[i].s, strlen(cases[i].s), cases[i].at);
        if(got != cases[i].want)
            fail_msg("case %zu \"%s\" at %zu: got %zu, want %zu", i, cases[i].s, cases[i].at, got, cases[i].want);
    }
    assert_int_equal(text_url_span(NULL, 0, 0), 0);
    assert_int_equal(text_url_span("abc", 3, 5), 0);
}

static void graphemes_table(void **state)
{
    static const struct {
        const char *s;
        long want;
    } cases[] = {
        {"", 0},
        {"abc", 3},
        {"blåbær", 6},
        {"a\xcc\x8a", 1},                 /* a + combining ring */
        {"👍", 1},
        {"👍🏽", 1},                       /* skin tone modifier */
        {"👩‍👩‍👧", 1},                       /* ZWJ family */
        {"🏳️‍🌈", 1},                       /* flag with variation selector and ZWJ */
        {"🇳🇴🇸🇪", 2},                       /* two regional-indicator flags */
        {"\r\n", 1},
        {"æ👍🏽ø", 3},
        {"\xc3", -1},
        {"a\xff", -1},
        {"\xed\xa0\x80", -1},             /* surrogate */
        {"\xf4\x90\x80\x80", -1},         /* past U+10FFFF */
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long got = text_graphemes(cases[i].s, strlen(cases[i].s));
        if(got != cases[i].want)
            fail_msg("case %zu: got %ld, want %ld", i, got, cases[i].want);
    }
}

/* Invisible and direction-changing characters, by their code points. */
static void invisible_table(void **state)
{
    static const struct {
        const char *s;
        int want;
        int32_t cp;
    } cases[] = {
        {"", 0, 0},
        {"plain", 0, 0},
        {"Blåbær Ærø Smörgås", 0, 0},
        {"\u202Enimda", 1, 0x202E},
        {"a\u202Ab", 1, 0x202A}, {"a\u202Bb", 1, 0x202B}, {"a\u202Cb", 1, 0x202C}, {"a\u202Db", 1, 0x202D},
        {"a\u2066b", 1, 0x2066}, {"a\u2067b", 1, 0x2067}, {"a\u2068b", 1, 0x2068}, {"a\u2069b", 1, 0x2069},
        {"a\u200Eb", 1, 0x200E}, {"a\u200Fb", 1, 0x200F}, {"a\u061Cb", 1, 0x061C},
        {"a\u200Bb", 1, 0x200B}, {"a\u200Cb", 1, 0x200C}, {"a\u2060b", 1, 0x2060}, {"a\u2064b", 1, 0x2064},
        {"a\uFEFFb", 1, 0xFEFF}, {"a\u00ADb", 1, 0x00AD}, {"a\u180Eb", 1, 0x180E},
        {"a\uFFF9b", 1, 0xFFF9}, {"a\uFFFBb", 1, 0xFFFB},
        {"a\U000E0000b", 1, 0xE0000}, {"a\U000E0020b", 1, 0xE0020}, {"a\U000E007Fb", 1, 0xE007F},
        {"a\u2028b", 1, 0x2028}, {"a\xc2\x85" "b", 1, 0x85}, {"a\u3164b", 1, 0x3164}, {"a\uFFA0b", 1, 0xFFA0},
        {"👩\u200D💻", 0, 0}, {"👨🏽\u200D💻", 0, 0}, {"🏳️\u200D🌈", 0, 0}, {"❤️\u200D🔥", 0, 0},
        {"x\u200D💻", 1, 0x200D}, {"👩\u200Dx", 1, 0x200D}, {"👩\u200D", 1, 0x200D},
        {"👩\u200D\u200D💻", 1, 0x200D},
        {"a\u0301", 0, 0}, {"\u2764\uFE0F", 0, 0},
        {"tab\tand\nnewline", 0, 0},  /* C0 controls are for utf8_has_control to refuse */
        {"\xc3", -1, 0}, {"a\xff" "b", -1, 0},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int32_t cp = 0;
        int got = text_has_invisible(cases[i].s, strlen(cases[i].s), &cp);
        if(got != cases[i].want || (got == 1 && cp != cases[i].cp))
            fail_msg("case %zu: got %d (U+%04X), want %d (U+%04X)", i, got, (unsigned)cp, cases[i].want,
                     (unsigned)cases[i].cp);
    }
}

static void signatures(void **state)
{
    struct text_sig a, b, e1, e2;
    double s = -1;
    (void)state;
    assert_int_equal(text_sig_build("abcdef", &a), SAM_OK);
    /* " abcdef " has 8 code points: 5 shingles of 4 */
    assert_int_equal(a.n, 5);
    for(size_t i = 1; i < a.n; i++)
        assert_true(a.h[i - 1] < a.h[i]);
    assert_int_equal(text_sig_build("ABCDEF!", &b), SAM_OK);
    assert_true(text_sig_similarity(&a, &b) == 1.0);
    assert_int_equal(text_sig_at_least(&a, &b, 0.8, &s), 1);
    assert_true(s == 1.0);
    text_sig_cleanup(&b);
    /* "abcdxy": " abc", "abcd" shared of 5 each: Dice 2*2/10 = 0.4 */
    assert_int_equal(text_sig_build("abcdxy", &b), SAM_OK);
    assert_true(text_sig_similarity(&a, &b) > 0.399 && text_sig_similarity(&a, &b) < 0.401);
    s = -1;
    assert_int_equal(text_sig_at_least(&a, &b, 0.8, &s), 0);
    assert_true(s == -1);
    assert_int_equal(text_sig_at_least(&a, &b, 0.4, &s), 1);
    assert_true(s > 0.399 && s < 0.401);
    text_sig_cleanup(&b);
    /* A very short text is one shingle. */
    assert_int_equal(text_sig_build("a", &b), SAM_OK);
    assert_int_equal(b.n, 1);
    text_sig_cleanup(&b);
    /* Empty forms: same raw bytes are the same, else nothing in common. */
    assert_int_equal(text_sig_build("🎉", &e1), SAM_OK);
    assert_int_equal(text_sig_build(NULL, &e2), SAM_OK);
    assert_int_equal(e1.n, 0);
    assert_true(text_sig_similarity(&e1, &e2) == 0.0);
    assert_true(text_sig_similarity(&e1, &e1) == 1.0);
    assert_true(text_sig_similarity(&e1, &a) == 0.0);
    text_sig_cleanup(&e1);
    text_sig_cleanup(&e2);
    text_sig_cleanup(&a);
    text_sig_cleanup(&a); /* twice is harmless */
    text_sig_cleanup(NULL);
}

static void signature_bounded(void **state)
{
    size_t len = 200000;
    char *s = malloc(len + 1);
    struct text_sig a;
    (void)state;
    assert_non_null(s);
    for(size_t i = 0; i < len; i++)
        s[i] = (char)('a' + (i * 7 + i / 26) % 26);
    s[len] = '\0';
    assert_int_equal(text_sig_build(s, &a), SAM_OK);
    assert_true(a.n > 100);
    assert_true(a.n <= TEXT_SIG_MAX_CHARS);
    text_sig_cleanup(&a);
    free(s);
}

static void html_table(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"<p>Hei <span class=\"h-card\"><a href=\"https://m.example/@alice\" class=\"u-url mention\">@<span>alice"
         "</span></a></span> blåbær &amp; 🫐</p>", "Hei @alice blåbær & 🫐"},
        /* Mastodon's shortened links: the invisible parts are kept, so the link is whole. */
        {"<p>Se <a href=\"https://example.com/a/very/long/path\"><span class=\"invisible\">https://</span>"
         "<span class=\"ellipsis\">example.com/a/very/</span><span class=\"invisible\">long/path</span></a></p>",
         "Se https://example.com/a/very/long/path"},
        {"<p>første</p><p>andre<br>linje<br/>tre</p>", "første\n\nandre\nlinje\ntre"},
        {"  <p>  mange    mellomrom \n\t her </p>  ", "mange mellomrom her"},
        {"<script>alert(1)</script><style>p{}</style>synlig", "synlig"},
        {"&lt;img src=x onerror=alert(1)&gt;", "<img src=x onerror=alert(1)>"},
        {"<p>unclosed <b>bold", "unclosed bold"},
        {"", ""},
        {"<p></p>", ""},
        {"text &#128512; &eacute;", "text 😀 é"},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL;
        assert_int_equal(text_from_html(cases[i].in, strlen(cases[i].in), 10000, &out), SAM_OK);
        if(strcmp(out, cases[i].out))
            fail_msg("case %zu: %s -> [%s], want [%s]", i, cases[i].in, out, cases[i].out);
        free(out);
    }
}

static void html_limits(void **state)
{
    char *out = NULL, *big;
    (void)state;
    /* Cut at a character boundary: "ææ" cut at 3 bytes keeps one æ. */
    assert_int_equal(text_from_html("ææ", strlen("ææ"), 3, &out), SAM_OK);
    assert_string_equal(out, "æ");
    free(out);
    big = malloc(HTML_INPUT_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', HTML_INPUT_MAX + 1);
    big[HTML_INPUT_MAX + 1] = '\0';
    assert_int_equal(text_from_html(big, HTML_INPUT_MAX + 1, 100, &out), SAM_ETOOBIG);
    assert_null(out);
    /* Deep nesting and binary junk do not crash and give text. */
    for(size_t i = 0; i < 100000; i++)
        big[i] = "<b>"[i % 3];
    assert_int_equal(text_from_html(big, 100000, 100, &out), SAM_OK);
    free(out);
    for(size_t i = 0; i < 1000; i++)
        big[i] = (char)(i * 37);
    assert_int_equal(text_from_html(big, 1000, 100, &out), SAM_OK);
    free(out);
    free(big);
}

/* Every part as published fits; the parts, joined, are the text with its whitespace runs
 * between parts dropped; returns the number of parts. */
static size_t check_thread(const char *text, long limit, size_t max_bytes, const char *lang)
{
    struct text_part parts[TEXT_THREAD_MAX];
    size_t n = 0, used = 0;
    char *joined = calloc(strlen(text) + 1, 1);
    assert_non_null(joined);
    assert_int_equal(text_thread_split(text, limit, max_bytes, lang, NULL, parts, TEXT_THREAD_MAX, &n), SAM_OK);
    assert_true(n >= 1);
    for(size_t k = 0; k < n; k++) {
        char *p = text_thread_part(text, &parts[k], k, n);
        char num[32];
        assert_non_null(p);
        assert_true(text_graphemes(p, strlen(p)) <= limit);
        assert_true(strlen(p) <= max_bytes);
        if(n > 1) {
            snprintf(num, sizeof(num), "\n\n%zu/%zu", k + 1, n);
            assert_true(strlen(p) > strlen(num) && !strcmp(p + strlen(p) - strlen(num), num));
        }
        if(k > 0)
            assert_true(parts[k].start >= parts[k - 1].start + parts[k - 1].len);
        memcpy(joined + used, text + parts[k].start, parts[k].len);
        used += parts[k].len;
        free(p);
    }
    {
        /* Nothing but whitespace was dropped: without whitespace, the same text. */
        char *x = calloc(strlen(text) + 1, 1), *y = calloc(used + 1, 1);
        size_t xi = 0, yi = 0;
        assert_true(x && y);
        for(size_t i = 0; text[i]; i++)
            if(!strchr(" \n\t\r", text[i]))
                x[xi++] = text[i];
        for(size_t i = 0; i < used; i++)
            if(!strchr(" \n\t\r", joined[i]))
                y[yi++] = joined[i];
        assert_string_equal(x, y);
        free(x);
        free(y);
    }
    free(joined);
    return n;
}

static void thread_split(void **state)
{
    char text[4000], word[1200];
    struct text_part parts[TEXT_THREAD_MAX];
    size_t n;
    (void)state;
    /* Short: one part, no number. */
    assert_int_equal(check_thread("  Hello, spring!  ", 300, 3000, "en"), 1);
    assert_int_equal(text_thread_split("  Hello, spring!  ", 300, 3000, "en", NULL, parts, TEXT_THREAD_MAX, &n), SAM_OK);
    assert_int_equal(parts[0].start, 2);
    assert_int_equal(parts[0].len, 14);
    /* 700 characters of sentences: three parts, each ending at a sentence's end. */
    text[0] = '\0';
    for(int i = 0; strlen(text) < 700; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "Sentence number %d is about blåbær and the fjord. ",
                 i);
    n = check_thread(text, 300, 3000, "nb");
    assert_int_equal(n, 3);
    assert_int_equal(text_thread_split(text, 300, 3000, "nb", NULL, parts, TEXT_THREAD_MAX, &n), SAM_OK);
    for(size_t k = 0; k < n; k++)
        assert_int_equal(text[parts[k].start + parts[k].len - 1], '.');
    /* A sentence longer than a part is cut between words, never inside one. */
    text[0] = '\0';
    for(int i = 0; i < 120; i++)
        strcat(text, "ord ");
    strcat(text, "slutt.");
    n = check_thread(text, 100, 3000, "nb");
    assert_true(n >= 5);
    assert_int_equal(text_thread_split(text, 100, 3000, "nb", NULL, parts, TEXT_THREAD_MAX, &n), SAM_OK);
    for(size_t k = 0; k + 1 < n; k++) {
        const char *end = text + parts[k].start + parts[k].len;
        assert_true(end[-1] == 'd' && (end[0] == ' ' || end[0] == '\0'));
    }
    /* A link is never cut, even where a part would end inside it. */
    snprintf(text, sizeof(text), "%s https://example.com/a/very/long/path/that/goes/on/and/on?with=query&and=more "
                                 "and then some words after it.",
             "Read the whole story of our spring launch in the blog post");
    assert_int_equal(text_thread_split(text, 120, 3000, "en", NULL, parts, TEXT_THREAD_MAX, &n), SAM_OK);
    assert_true(n >= 2);
    for(size_t k = 0; k < n; k++) {
        const char *p = text + parts[k].start;
        const char *u = strstr(text, "https://");
        size_t ul = strcspn(u, " ");
        assert_false(p > u && p < u + ul); /* no part starts inside the link */
        assert_false(p + parts[k].len > u && p + parts[k].len < u + ul);
    }
    /* One word longer than a part: cut between characters, never inside an emoji. */
    word[0] = '\0';
    for(int i = 0; i < 150; i++)
        strcat(word, "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7"); /* family */
    check_thread(word, 50, 3000, NULL);
    /* The byte limit holds too. */
    check_thread(word, 300, 200, NULL);
    /* Too many parts, bad input. */
    memset(text, 'a', 3000);
    text[3000] = '\0';
    assert_int_equal(text_thread_split(text, 20, 3000, NULL, NULL, parts, 3, &n), SAM_ETOOBIG);
    assert_int_equal(text_thread_split("\xff\xfe", 300, 3000, NULL, NULL, parts, 3, &n), SAM_EINVAL);
    assert_int_equal(text_thread_split("short", 4, 3000, NULL, NULL, parts, 3, &n), SAM_EINVAL);
    /* Counted as Mastodon counts (a link is 23, an emoji sequence is its code points). */
    {
        char m[3000] = "";
        size_t mn;
        for(int i = 0; i < 40; i++)
            strcat(m, "Se https://example.com/a/really/long/link/that/counts/as/twenty/three \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 n\xc3\xa5. ");
        assert_int_equal(text_thread_split(m, 500, 5000, "nb", text_mastodon_length, parts, TEXT_THREAD_MAX, &mn), SAM_OK);
        assert_true(mn >= 2);
        for(size_t k = 0; k < mn; k++) {
            char *p = text_thread_part(m, &parts[k], k, mn);
            assert_true(text_mastodon_length(p, strlen(p)) <= 500);
            free(p);
        }
    }
    /* Ten or more parts: every number fits (the reserve grows with the count's digits). */
    text[0] = '\0';
    for(int i = 0; i < 40; i++)
        strcat(text, "Kort setning her. ");
    n = check_thread(text, 50, 3000, "nb");
    assert_true(n >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalise_table),   cmocka_unit_test(normalise_limits),
        cmocka_unit_test(html_table),        cmocka_unit_test(html_limits),
        cmocka_unit_test(url_span_table),    cmocka_unit_test(graphemes_table),
        cmocka_unit_test(signatures),        cmocka_unit_test(signature_bounded),
        cmocka_unit_test(invisible_table), cmocka_unit_test(thread_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
