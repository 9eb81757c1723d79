/* visible.c: invisible and direction-changing characters in names (see visible.h). */
#include "text/visible.h"

#include <utf8proc.h>

/* 1 for a code point no name may hold (the zero width joiner is judged by its neighbours). */
static int refused(int32_t cp, const utf8proc_property_t *p)
{
    if(cp >= 0xE0000 && cp <= 0xE007F)
        return 1; /* tag characters, including unassigned ones */
    switch(p->category) {
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return 1;
    case UTF8PROC_CATEGORY_CC:
        return cp >= 0x80; /* C0 and DEL have their own message (utf8_has_control) */
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
        return 0;
    default:
        return p->ignorable;
    }
}

static int is_pictograph(const utf8proc_property_t *p)
{
    return p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC;
}

/* Skin tone modifiers and variation selectors that may sit between a pictograph and a
 * joiner ("👨🏽‍💻", "🏳️‍🌈"). */
static int is_emoji_extend(const utf8proc_property_t *p)
{
    return p->boundclass == UTF8PROC_BOUNDCLASS_EXTEND || p->boundclass == UTF8PROC_BOUNDCLASS_E_MODIFIER;
}

int text_has_invisible(const char *s, size_t len, int32_t *cp_out)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t pos = 0, n = (utf8proc_ssize_t)len;
    int after_pictograph = 0; /* the last code point that is not an emoji extender was one */
    while(pos < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(u + pos, n - pos, &cp);
        const utf8proc_property_t *p;
        if(k <= 0)
            return -1;
        pos += k;
        p = utf8proc_get_property(cp);
        if(cp == 0x200D) {
            utf8proc_int32_t next = -1;
            if(after_pictograph && pos < n && utf8proc_iterate(u + pos, n - pos, &next) > 0 &&
               is_pictograph(utf8proc_get_property(next))) {
                after_pictograph = 0;
                continue;
            }
            if(cp_out)
                *cp_out = cp;
            return 1;
        }
        if(refused(cp, p)) {
            if(cp_out)
                *cp_out = cp;
            return 1;
        }
        if(is_pictograph(p))
            after_pictograph = 1;
        else if(!is_emoji_extend(p))
            after_pictograph = 0;
    }
    return 0;
}
