/*
 * entrypoints/dashboard/html.c - the page buffer (html.h).
 */
#include "entrypoints/dashboard/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"

static bool grow(struct html *h, size_t more)
{
	size_t cap = h->cap ? h->cap : 4096;
	char *b;

	if (h->oom)
		return false;
	if (h->len + more + 1 <= h->cap)
		return true;
	while (cap < h->len + more + 1)
		cap *= 2;
	b = mem_realloc(h->buf, cap);
	if (!b) {
		h->oom = true;
		return false;
	}
	h->buf = b;
	h->cap = cap;
	return true;
}

static void append(struct html *h, const char *s, size_t n)
{
	if (!grow(h, n))
		return;
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

void html_raw(struct html *h, const char *s)
{
	append(h, s, strlen(s));
}

void html_rawf(struct html *h, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->oom = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		append(h, small, (size_t)n);
		return;
	}
	if (!grow(h, (size_t)n))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(h->buf + h->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	h->len += (size_t)n;
}

void html_text(struct html *h, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			html_raw(h, "&amp;");
			break;
		case '<':
			html_raw(h, "&lt;");
			break;
		case '>':
			html_raw(h, "&gt;");
			break;
		case '"':
			html_raw(h, "&quot;");
			break;
		case '\'':
			html_raw(h, "&#39;");
			break;
		default:
			append(h, s, 1);
		}
	}
}

void html_url(struct html *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			append(h, s, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			append(h, e, 3);
		}
	}
}

char *html_take(struct html *h)
{
	char *b = h->oom ? NULL : h->buf;

	if (h->oom)
		mem_free(h->buf);
	if (b == NULL && !h->oom) /* nothing written: an empty page */
		b = mem_strdup("");
	h->buf = NULL;
	h->len = h->cap = 0;
	h->oom = false;
	return b;
}
