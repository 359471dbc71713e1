/*
 * common/url.c - URL parsing on libcurl's curl_url().
 */
#include "common/url.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* Copy part @which of @h (decoded) into @out; "" when absent. */
static int get_part(CURLU *h, CURLUPart which, char *out, size_t n)
{
	char *v = NULL;
	CURLUcode uc = curl_url_get(h, which, &v, CURLU_URLDECODE);
	size_t len;

	out[0] = '\0';
	if (uc != CURLUE_OK)
		return 0; /* absent */
	len = strlen(v);
	if (len >= n || memchr(v, '\0', len) != NULL) {
		curl_free(v);
		return -1;
	}
	memcpy(out, v, len + 1);
	curl_free(v);
	return 0;
}

int url_parse(const char *what, const char *url, struct url_parts *out,
	      struct sc_err *err)
{
	CURLU *h = curl_url();
	char port[16];
	int bad;

	memset(out, 0, sizeof(*out));
	if (!h)
		return err_set(err, SC_ENOMEM, "out of memory");
	/* NON_SUPPORT_SCHEME: redis: and postgresql: are not curl's */
	bad = curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
	      CURLUE_OK;
	bad = bad ||
	      get_part(h, CURLUPART_SCHEME, out->scheme, sizeof(out->scheme)) ||
	      get_part(h, CURLUPART_USER, out->user, sizeof(out->user)) ||
	      get_part(h, CURLUPART_PASSWORD, out->password,
		       sizeof(out->password)) ||
	      get_part(h, CURLUPART_HOST, out->host, sizeof(out->host)) ||
	      get_part(h, CURLUPART_PORT, port, sizeof(port)) ||
	      get_part(h, CURLUPART_PATH, out->path, sizeof(out->path));
	curl_url_cleanup(h);
	if (bad || !out->host[0])
		return err_set(err, SC_EINVAL,
			       "%s is not a valid URL "
			       "scheme://[user[:password]@]host[:port][/path]",
			       what);
	if (port[0]) {
		char *end;
		long p = strtol(port, &end, 10);

		if (*end || p < 1 || p > 65535)
			return err_set(err, SC_EINVAL, "%s has a bad port",
				       what);
		out->port = (int)p;
	}
	/* curl keeps IPv6 brackets in the host; connect() wants none */
	if (out->host[0] == '[') {
		size_t n = strlen(out->host);

		memmove(out->host, out->host + 1, n - 2);
		out->host[n - 2] = '\0';
	}
	return SC_OK;
}

char *url_redact(const char *url, char *out, size_t n)
{
	CURLU *h = curl_url();
	char *pw = NULL, *shown = NULL;

	if (!strstr(url, "://")) { /* sqlite:PATH, memory: - no authority */
		(void)snprintf(out, n, "%s", url);
		curl_url_cleanup(h);
		return out;
	}
	(void)snprintf(out, n, "<unparsable url>");
	if (!h)
		return out;
	if (curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
	    CURLUE_OK) {
		if (curl_url_get(h, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK)
			(void)curl_url_set(h, CURLUPART_PASSWORD, "***", 0);
		if (curl_url_get(h, CURLUPART_URL, &shown, 0) == CURLUE_OK)
			(void)snprintf(out, n, "%s", shown);
	}
	curl_free(pw);
	curl_free(shown);
	curl_url_cleanup(h);
	return out;
}
