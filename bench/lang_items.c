/*
 * lang_items.c: samtale's language of each item of bench/lang_items.py's file (standard
 * input: gold, kind, source, text, tab-separated), one code a line on standard output
 * (nb, nn, sv, da, en, other or und), for bench/lang_compare.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/lang.h"

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    if(!lang_model_default())
        return fprintf(stderr, "lang_items: no language model in this build\n"), 1;
    while((n = getline(&line, &cap, stdin)) >= 0) {
        char *text = line;
        struct lang_result r;
        for(int tabs = 0; tabs < 3 && text; tabs++)
            if((text = strchr(text, '\t')))
                text++;
        if(!text)
            text = line + n; /* no text column: an empty text */
        n = (ssize_t)strcspn(text, "\r\n");
        lang_identify(NULL, text, (size_t)n, &r);
        puts(lang_code(r.lang));
    }
    free(line);
    return 0;
}
