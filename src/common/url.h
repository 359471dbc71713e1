/*
 * common/url.h - service URLs (REDIS_URL, SMTP_URL, DATABASE_URL):
 * parsed with libcurl's URL parser (RFC 3986, percent-decoding of user
 * and password), and shown only with the password replaced.
 *
 * Every place that prints a URL prints url_redact() of it: logs, errors
 * and help output never carry a password.
 */
#ifndef SCENTS_COMMON_URL_H
#define SCENTS_COMMON_URL_H

#include <stddef.h>

struct sc_err;

#define URL_PART_MAX 256

/* A URL's parts, decoded.  Missing parts are "" (port: 0). */
struct url_parts {
	char scheme[16];	     /* lower-case, e.g. "redis" */
	char user[URL_PART_MAX];     /* decoded user, or "" */
	char password[URL_PART_MAX]; /* decoded password, or "" */
	char host[URL_PART_MAX];     /* name or address, no brackets */
	int port;		     /* 1..65535, or 0 when absent */
	char path[URL_PART_MAX];     /* decoded path, "" or "/..." */
};

/*
 * Parse @url into @out.  SC_EINVAL naming @what (e.g. "REDIS_URL") when
 * it is not a URL, has no host, a bad port, or a part longer than
 * URL_PART_MAX; the message never quotes the password.
 */
int url_parse(const char *what, const char *url, struct url_parts *out,
	      struct sc_err *err);

/*
 * @url with its password replaced by "***", into @out (@n bytes); a
 * string that does not parse is shown as "<unparsable url>", since it may
 * still hold a secret.  A string without "://" (sqlite:PATH, memory:)
 * has no place for one and is shown as it is.  Returns @out.
 */
char *url_redact(const char *url, char *out, size_t n);

#endif
