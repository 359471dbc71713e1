/*
 * adapters/webhook/webhook_http.h - webhooks over libcurl, signed as
 * Standard Webhooks 1.0 asks (docs/notifications.md):
 *   webhook-id:        dlv_<delivery id>, the same on every attempt
 *   webhook-timestamp: unix seconds of this attempt
 *   webhook-signature: v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>
 * with libsodium's HMAC.  No redirects, http and https only, a connect
 * and a total timeout.  Needs curl_global_init() and sodium_init().
 */
#ifndef SCENTS_ADAPTERS_WEBHOOK_WEBHOOK_HTTP_H
#define SCENTS_ADAPTERS_WEBHOOK_WEBHOOK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct delivery;
struct webhook;

/* A sender whose every POST ends within @timeout_ms.  SC_ENOMEM. */
int webhook_http_new(long timeout_ms, struct webhook **out, struct sc_err *err);

/*
 * The body of delivery @d, as sent (malloc'd; mem_free it), or NULL when
 * out of memory: {"type","timestamp","data":{"id","customer","orderid",
 * "sku","qty","batchref"?}}.
 */
char *webhook_body(const struct delivery *d);

/*
 * The webhook-signature value for @msg_id, @timestamp and @body under
 * @secret (WEBHOOK_SECRET_LEN bytes) into @out (@n bytes, >= 52).
 */
void webhook_sign(const uint8_t *secret, const char *msg_id,
		  long long timestamp, const char *body, char *out, size_t n);

#endif
