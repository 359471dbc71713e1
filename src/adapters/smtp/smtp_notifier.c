/*
 * adapters/smtp/smtp_notifier.c - one mail per send, over libcurl.
 */
#include "adapters/smtp/smtp_notifier.h"

#include <assert.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/url.h"
#include "common/util.h"
#include "service/notifier.h"

#define MAIL_MAX 4096

struct smtp_notifier {
	struct notifier base; /* must stay first */
	char url[512];	      /* smtp[s]://[user:pass@]host:port */
	char shown[512];      /* url with the password hidden, for errors */
	long use_ssl;	      /* CURLOPT_USE_SSL for smtp:// */
	char ca_file[512];    /* CA bundle; "" = the system's */
	char from[256];	      /* sender address */
};

/* The message being uploaded by curl's read callback. */
struct upload {
	const char *data; /* whole message */
	size_t len;	  /* its length */
	size_t off;	  /* bytes handed to curl so far */
};

static const struct notifier_ops smtp_notifier_ops;

static struct smtp_notifier *to_smtp(struct notifier *n)
{
	assert(n->ops == &smtp_notifier_ops);
	return container_of(n, struct smtp_notifier, base);
}

/* Safe in a header: printable ASCII, no angle brackets. */
static bool header_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '<' || *s == '>')
			return false;
	return true;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct upload *u = userdata; /* curl's READDATA */
	size_t n = size * nitems;

	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

/* Compose the RFC 5322 message into @buf; -1 when it does not fit. */
static int compose(const struct smtp_notifier *s, const char *to,
		   const char *body, char *buf, size_t n)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int len;

	(void)gmtime_r(&now, &tm);
	(void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	len = snprintf(buf, n,
		       "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\n"
		       "Subject: " SMTP_SUBJECT "\r\n"
		       "MIME-Version: 1.0\r\n"
		       "Content-Type: text/plain; charset=utf-8\r\n\r\n"
		       "%s\r\n",
		       date, s->from, to, body);
	return len < 0 || (size_t)len >= n ? -1 : len;
}

/* One SMTP transaction; SC_EIO with curl's reason on failure. */
static int transfer(struct smtp_notifier *s, const char *to, struct upload *up,
		    struct sc_err *err)
{
	char from[300], rcpt_addr[300];
	struct curl_slist *rcpt;
	CURL *curl = curl_easy_init();
	CURLcode cc;

	if (!curl)
		return err_set(err, SC_ENOMEM, "out of memory");
	(void)snprintf(from, sizeof(from), "<%s>", s->from);
	(void)snprintf(rcpt_addr, sizeof(rcpt_addr), "<%s>", to);
	rcpt = curl_slist_append(NULL, rcpt_addr);
	if (!rcpt) {
		curl_easy_cleanup(curl);
		return err_set(err, SC_ENOMEM, "out of memory");
	}
	(void)curl_easy_setopt(curl, CURLOPT_URL, s->url);
	(void)curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	(void)curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	(void)curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	(void)curl_easy_setopt(curl, CURLOPT_READDATA, up);
	(void)curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	(void)curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
			       (long)SMTP_CONNECT_TIMEOUT_S);
	(void)curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)SMTP_TIMEOUT_S);
	(void)curl_easy_setopt(curl, CURLOPT_USE_SSL, s->use_ssl);
	if (s->ca_file[0])
		(void)curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca_file);
	cc = curl_easy_perform(curl);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	if (cc != CURLE_OK)
		return err_set(err, SC_EIO, "smtp %s: %s", s->shown,
			       curl_easy_strerror(cc));
	return SC_OK;
}

static int smtp_send(struct notifier *n, const char *to, const char *body,
		     struct sc_err *err)
{
	struct smtp_notifier *s = to_smtp(n);
	char msg[MAIL_MAX];
	struct upload up = {msg, 0, 0};
	int len;

	if (!header_safe(to))
		return err_set(err, SC_EINVAL, "bad recipient address");
	len = compose(s, to, body, msg, sizeof(msg));
	if (len < 0)
		return err_set(err, SC_EINVAL, "notification too long");
	up.len = (size_t)len;
	return transfer(s, to, &up, err);
}

int smtp_notifier_set_ca_file(struct notifier *n, const char *path,
			      struct sc_err *err)
{
	struct smtp_notifier *s = to_smtp(n);

	if (strlen(path) >= sizeof(s->ca_file))
		return err_set(err, SC_EINVAL, "SMTP_CA_FILE is too long");
	memcpy(s->ca_file, path, strlen(path) + 1);
	return SC_OK;
}

static void smtp_notifier_free(struct notifier *n)
{
	mem_free(to_smtp(n));
}

static const struct notifier_ops smtp_notifier_ops = {
	.name = "smtp",
	.send = smtp_send,
	.free = smtp_notifier_free,
};

int smtp_notifier_new(const char *url, const char *from, struct notifier **out,
		      struct sc_err *err)
{
	struct smtp_notifier *s;
	struct url_parts u;

	if (url_parse("SMTP_URL", url, &u, err))
		return SC_EINVAL;
	if ((strcmp(u.scheme, "smtp") != 0 && strcmp(u.scheme, "smtps") != 0) ||
	    !header_safe(url))
		return err_set(err, SC_EINVAL,
			       "SMTP_URL must be smtp://host:port or "
			       "smtps://host:port");
	if (strlen(url) >= sizeof(((struct smtp_notifier *)0)->url) ||
	    strlen(from) >= sizeof(((struct smtp_notifier *)0)->from))
		return err_set(err, SC_EINVAL,
			       "SMTP_URL or FROM_EMAIL too long");
	if (!header_safe(from) || !strchr(from, '@'))
		return err_set(err, SC_EINVAL, "FROM_EMAIL is not an address");
	s = mem_calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, SC_ENOMEM, "out of memory");
	s->base.ops = &smtp_notifier_ops;
	(void)snprintf(s->url, sizeof(s->url), "%s", url);
	(void)url_redact(url, s->shown, sizeof(s->shown));
	/*
	 * smtps:// is TLS from the first byte.  On smtp://, STARTTLS is
	 * used when the server offers it, and required when we would send
	 * a password: credentials never cross the network in clear text.
	 */
	s->use_ssl =
		u.password[0] ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY;
	(void)snprintf(s->from, sizeof(s->from), "%s", from);
	*out = &s->base;
	return SC_OK;
}
