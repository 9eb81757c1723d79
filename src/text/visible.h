/*
 * visible.h: whether a name shows what it says. Names and labels people choose (members,
 * workspaces, channels, tokens, campaigns) and emails are shown to other people, so they
 * may not hide characters that are invisible or that change the direction of the text
 * around them: "\u202Enimda" would read "admin".
 *
 * Refused: format characters (Unicode category Cf: the bidirectional controls U+202A-202E,
 * U+2066-2069, U+200E, U+200F, U+061C, the zero-width U+200B, U+200C, U+2060-2064, U+FEFF,
 * the soft hyphen U+00AD, U+180E, the interlinear annotations U+FFF9-FFFB, ...), the tag
 * characters U+E0000-E007F, line and paragraph separators (Zl, Zp), C1 controls, and the
 * other default-ignorable code points that are not combining marks (the Hangul fillers
 * U+115F, U+1160, U+3164, U+FFA0, ...). Kept: combining marks (Nordic and every other
 * script's accents, variation selectors such as the U+FE0F of "❤️"), and the zero width
 * joiner U+200D between two pictographs, as in the emoji "👩‍💻" (U+1F469 U+200D U+1F4BB).
 *
 * Depends on libutf8proc only.
 */
#ifndef SAM_TEXT_VISIBLE_H
#define SAM_TEXT_VISIBLE_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..len) contains a refused character (its code point into *cp when cp is not
 * NULL), 0 when it has none, -1 when s is not valid UTF-8. */
int text_has_invisible(const char *s, size_t len, int32_t *cp);

#endif
