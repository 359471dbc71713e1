/*
 * adapters/redis/redis_publisher.c - PUBLISH over one hiredis connection.
 */
#include "adapters/redis/redis_publisher.h"

#include <assert.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/util.h"
#include "domain/messages.h"
#include "service/publisher.h"

struct redis_publisher {
	struct publisher base; /* must stay first */
	char host[256];	       /* server */
	int port;	       /* server port */
	redisContext *ctx;     /* NULL until connected, and after errors */
};

static const struct publisher_ops redis_publisher_ops;

static struct redis_publisher *to_redis(struct publisher *p)
{
	assert(p->ops == &redis_publisher_ops);
	return container_of(p, struct redis_publisher, base);
}

int redis_url_parse(const char *url, char *host, unsigned long n, int *port,
		    struct sc_err *err)
{
	const char *h = url + strlen("redis://");
	size_t len;
	char *end;
	long p = 6379;

	if (strncmp(url, "redis://", 8) != 0 || !*h)
		return err_set(err, SC_EINVAL,
			       "REDIS_URL must be redis://host[:port]");
	len = strcspn(h, ":/");
	if (!len || len >= n)
		return err_set(err, SC_EINVAL, "REDIS_URL has a bad host");
	if (h[len] == ':') {
		p = strtol(h + len + 1, &end, 10);
		if (end == h + len + 1 || (*end && *end != '/') || p < 1 ||
		    p > 65535)
			return err_set(err, SC_EINVAL,
				       "REDIS_URL has a bad port");
	}
	memcpy(host, h, len);
	host[len] = '\0';
	*port = (int)p;
	return SC_OK;
}

static void disconnect(struct redis_publisher *r)
{
	if (r->ctx)
		redisFree(r->ctx);
	r->ctx = NULL;
}

static int connect_now(struct redis_publisher *r, struct sc_err *err)
{
	struct timeval ct = {0, (long)REDIS_CONNECT_TIMEOUT_MS * 1000};
	struct timeval rt = {REDIS_COMMAND_TIMEOUT_MS / 1000,
			     (long)(REDIS_COMMAND_TIMEOUT_MS % 1000) * 1000};

	r->ctx = redisConnectWithTimeout(r->host, r->port, ct);
	if (!r->ctx || r->ctx->err) {
		err_set(err, SC_EIO, "redis %s:%d: %s", r->host, r->port,
			r->ctx ? r->ctx->errstr : "out of memory");
		disconnect(r);
		return SC_EIO;
	}
	if (redisSetTimeout(r->ctx, rt) != REDIS_OK) {
		disconnect(r);
		return err_set(err, SC_EIO, "redis: cannot set timeout");
	}
	return SC_OK;
}

/* The JSON payload of @ev (caller frees with mem_free), or NULL. */
static char *payload(int64_t id, const struct msg *ev)
{
	json_t *j;
	char *s;

	if (ev->type == MSG_ALLOCATED)
		j = json_pack("{s:I, s:s, s:s, s:I, s:s}", "id", (json_int_t)id,
			      "orderid", ev->u.allocated.orderid, "sku",
			      ev->u.allocated.sku, "qty",
			      (json_int_t)ev->u.allocated.qty, "batchref",
			      ev->u.allocated.batchref);
	else
		j = json_pack("{s:I, s:s}", "id", (json_int_t)id, "sku",
			      ev->u.out_of_stock.sku);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

static int redis_publish(struct publisher *p, const char *channel, int64_t id,
			 const struct msg *ev, struct sc_err *err)
{
	struct redis_publisher *r = to_redis(p);
	redisReply *reply;
	char *body = payload(id, ev);
	int rc = SC_OK;

	if (!body)
		return err_set(err, SC_ENOMEM, "out of memory");
	if (!r->ctx)
		rc = connect_now(r, err);
	if (!rc) {
		reply = redisCommand(r->ctx, "PUBLISH %s %b", channel, body,
				     strlen(body));
		if (!reply || reply->type == REDIS_REPLY_ERROR) {
			rc = err_set(err, SC_EIO, "redis publish: %s",
				     reply ? reply->str : r->ctx->errstr);
			disconnect(r);
		}
		if (reply)
			freeReplyObject(reply);
	}
	mem_free(body); /* jansson allocates through mem.c (main) */
	return rc;
}

static void redis_publisher_free(struct publisher *p)
{
	struct redis_publisher *r = to_redis(p);

	disconnect(r);
	mem_free(r);
}

static const struct publisher_ops redis_publisher_ops = {
	.name = "redis",
	.publish = redis_publish,
	.free = redis_publisher_free,
};

int redis_publisher_new(const char *url, struct publisher **out,
			struct sc_err *err)
{
	struct redis_publisher *r = mem_calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return err_set(err, SC_ENOMEM, "out of memory");
	r->base.ops = &redis_publisher_ops;
	rc = redis_url_parse(url, r->host, sizeof(r->host), &r->port, err);
	if (rc) {
		mem_free(r);
		return rc;
	}
	*out = &r->base;
	return SC_OK;
}
