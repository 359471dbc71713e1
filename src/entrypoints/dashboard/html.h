/*
 * entrypoints/dashboard/html.h - building HTML pages: a growing buffer,
 * text always escaped, markup written by the caller.
 *
 * Everything a page shows from the store (skus, order ids, venue names:
 * any printable UTF-8 a client sent) goes through html_text() or the
 * %s of html_textf(), which escape & < > " '; only literal markup and
 * numbers go through html_raw() and html_rawf().  An allocation failure
 * is remembered and reported once, by html_take().
 */
#ifndef SCENTS_ENTRYPOINTS_DASHBOARD_HTML_H
#define SCENTS_ENTRYPOINTS_DASHBOARD_HTML_H

#include <stdbool.h>
#include <stddef.h>

struct html {
	char *buf;	 /* NUL-terminated while !oom */
	size_t len, cap; /* bytes used (without the NUL), allocated */
	bool oom;	 /* an append failed: the page is lost */
};

/* Append markup @s as it is. */
void html_raw(struct html *h, const char *s);

/* Append printf(@fmt, ...) as it is: numbers and literal markup only. */
void html_rawf(struct html *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append text @s escaped for element content and attribute values. */
void html_text(struct html *h, const char *s);

/* Append @s percent-encoded for a URL's query or path segment. */
void html_url(struct html *h, const char *s);

/* The page (mem_alloc'd, the caller frees it with mem_free), or NULL
 * when out of memory; @h is emptied either way. */
char *html_take(struct html *h);

#endif
