/*
 * adapters/webhook/webhook_http.c - one signed POST per attempt.
 */
#include "adapters/webhook/webhook_http.h"

#include <assert.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"
#include "common/util.h"
#include "domain/customer.h"
#include "domain/date.h"
#include "service/uow.h"
#include "service/webhook.h"

struct webhook_http {
	struct webhook base; /* must stay first */
	long timeout_ms;     /* whole request */
};

static const struct webhook_ops webhook_http_ops;

static struct webhook_http *to_http(struct webhook *w)
{
	assert(w->ops == &webhook_http_ops);
	return container_of(w, struct webhook_http, base);
}

char *webhook_body(const struct delivery *d)
{
	char when[32];
	time_t t = (time_t)d->created_at;
	struct tm tm;
	json_t *data, *j;
	char *s;

	/* the time of the change, not of the attempt: the same every time */
	if (!gmtime_r(&t, &tm) ||
	    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		(void)snprintf(when, sizeof(when), "1970-01-01T00:00:00Z");
	data = json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)d->id,
			 "customer", d->customer, "orderid", d->ev.orderid,
			 "sku", d->ev.sku, "qty", (json_int_t)d->ev.qty);
	if (data && d->ev.batchref) {
		char eta[DATE_STR_MAX];

		/* where the line is, and when that batch arrives (null: in
		   the warehouse) */
		if (d->has_eta)
			date_format(d->eta, eta);
		if (json_object_set_new(data, "batchref",
					json_string(d->ev.batchref)) ||
		    json_object_set_new(data, "eta",
					d->has_eta ? json_string(eta)
						   : json_null()))
			json_decref(data), data = NULL;
	}
	if (!data)
		return NULL;
	j = json_pack("{s:s, s:s, s:o}", "type", notice_name(d->kind),
		      "timestamp", when, "data", data);
	s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return s;
}

void webhook_sign(const uint8_t *secret, const char *msg_id,
		  long long timestamp, const char *body, char *out, size_t n)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char ts[24];

	(void)snprintf(ts, sizeof(ts), "%lld", timestamp);
	(void)crypto_auth_hmacsha256_init(&st, secret, WEBHOOK_SECRET_LEN);
	(void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id,
					    strlen(msg_id));
	(void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	(void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts,
					    strlen(ts));
	(void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	(void)crypto_auth_hmacsha256_update(&st, (const unsigned char *)body,
					    strlen(body));
	(void)crypto_auth_hmacsha256_final(&st, mac);
	assert(n >= 3 + sodium_base64_ENCODED_LEN(
				sizeof(mac), sodium_base64_VARIANT_ORIGINAL));
	out[0] = 'v';
	out[1] = '1';
	out[2] = ',';
	(void)sodium_bin2base64(out + 3, n - 3, mac, sizeof(mac),
				sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(&st, sizeof(st));
}

/* The receiver's answer is not ours to keep. */
/* NOLINTNEXTLINE(readability-non-const-parameter): curl's signature */
static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static int post(struct webhook_http *w, const struct delivery *d,
		const char *body, struct sc_err *err)
{
	char id[32], hdr_id[64], hdr_ts[64], hdr_sig[128], sig[96];
	long long now = (long long)time(NULL);
	struct curl_slist *h = NULL, *t;
	long status = 0;
	CURLcode cc;
	CURL *c = curl_easy_init();
	int rc = SC_OK;

	if (!c)
		return err_set(err, SC_ENOMEM, "out of memory");
	(void)snprintf(id, sizeof(id), "dlv_%lld", (long long)d->id);
	webhook_sign(d->secret, id, now, body, sig, sizeof(sig));
	(void)snprintf(hdr_id, sizeof(hdr_id), "webhook-id: %s", id);
	(void)snprintf(hdr_ts, sizeof(hdr_ts), "webhook-timestamp: %lld", now);
	(void)snprintf(hdr_sig, sizeof(hdr_sig), "webhook-signature: %s", sig);
	const char *lines[] = {"Content-Type: application/json", hdr_id, hdr_ts,
			       hdr_sig, "Expect:"};
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		if (!(t = curl_slist_append(h, lines[i]))) {
			rc = err_set(err, SC_ENOMEM, "out of memory");
			goto out;
		}
		h = t;
	}
	(void)curl_easy_setopt(c, CURLOPT_URL, d->target);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "scents-webhooks/1");
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, w->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			       w->timeout_ms < 2000 ? w->timeout_ms : 2000L);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		rc = err_set(err, SC_EIO, "webhook: %s",
			     curl_easy_strerror(cc));
		goto out;
	}
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		rc = err_set(err, SC_EIO, "webhook: the receiver answered %ld",
			     status);
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

static int http_send(struct webhook *self, const struct delivery *d,
		     struct sc_err *err)
{
	char *body = webhook_body(d);
	int rc;

	if (!body)
		return err_set(err, SC_ENOMEM, "out of memory");
	rc = post(to_http(self), d, body, err);
	mem_free(body);
	return rc;
}

static void http_free(struct webhook *self)
{
	mem_free(to_http(self));
}

static const struct webhook_ops webhook_http_ops = {
	.send = http_send,
	.free = http_free,
};

int webhook_http_new(long timeout_ms, struct webhook **out, struct sc_err *err)
{
	struct webhook_http *w = mem_calloc(1, sizeof(*w));

	if (!w)
		return err_set(err, SC_ENOMEM, "out of memory");
	w->base.ops = &webhook_http_ops;
	w->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	*out = &w->base;
	return SC_OK;
}
