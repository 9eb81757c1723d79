/*
 * lang_textcat.c: libexttextcat's language of each item (bench/lang_items.py's file on
 * standard input), with all of its fingerprints (fpdb.conf), mapped to samtale's codes,
 * one a line: nb, nn, da, sv and en as they are, SHORT and UNKNOWN und, anything else
 * other. For bench/lang_compare.sh only.
 *
 *   lang_textcat FINGERPRINT_DIR < items.tsv
 */
#include <libexttextcat/textcat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    char conf[4096], dir[4096], *line = NULL;
    size_t cap = 0;
    ssize_t n;
    void *tc;
    if(argc != 2)
        return fprintf(stderr, "usage: lang_textcat FINGERPRINT_DIR < items.tsv\n"), 2;
    snprintf(conf, sizeof(conf), "%s/fpdb.conf", argv[1]);
    snprintf(dir, sizeof(dir), "%s/", argv[1]);
    if(!(tc = special_textcat_Init(conf, dir)))
        return fprintf(stderr, "lang_textcat: cannot read %s\n", conf), 1;
    while((n = getline(&line, &cap, stdin)) >= 0) {
        char *text = line, code[64];
        const char *r;
        for(int tabs = 0; tabs < 3 && text; tabs++)
            if((text = strchr(text, '\t')))
                text++;
        if(!text)
            text = line + n;
        n = (ssize_t)strcspn(text, "\r\n");
        r = textcat_Classify(tc, text, (size_t)n);
        if(!r || r[0] != '[') {
            puts("und"); /* SHORT or UNKNOWN */
            continue;
        }
        snprintf(code, sizeof(code), "%.*s", (int)strcspn(r + 1, "-]"), r + 1);
        if(strcmp(code, "nb") && strcmp(code, "nn") && strcmp(code, "da") && strcmp(code, "sv") && strcmp(code, "en"))
            snprintf(code, sizeof(code), "other");
        puts(code);
    }
    free(line);
    textcat_Done(tc);
    return 0;
}
