/*
 * html.h: the plain text of a fragment of HTML, as networks send posts (Mastodon's
 * status content: <p>, <br>, <a>, <span class="invisible">).
 *
 * text_from_html parses with libxml2's HTML parser (no network, recovering from broken
 * markup), keeps the text of every node except <script>, <style> and <head> (Mastodon's
 * "invisible" spans are kept: they hold the scheme and tail of a shortened link, so the
 * text gets the whole link back), turns <br> into a line break
 * and block ends (</p>, </div>, </li>, </blockquote>) into a blank line, decodes entities,
 * collapses runs of spaces and trims the ends. The result is UTF-8, at most max bytes
 * (cut at a character boundary).
 */
#ifndef SAM_TEXT_HTML_H
#define SAM_TEXT_HTML_H

#include <stddef.h>

#define HTML_INPUT_MAX (1024 * 1024)

/* *out (malloc'd, NUL-terminated) gets the text of html[0..len). SAM_ETOOBIG for input
 * over HTML_INPUT_MAX, SAM_ENOMEM. Empty or unparsable input gives "". */
int text_from_html(const char *html, size_t len, size_t max, char **out);

#endif
