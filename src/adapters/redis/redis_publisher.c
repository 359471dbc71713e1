/*
 * adapters/redis/redis_publisher.c - PUBLISH over one hiredis connection.
 */
#include "adapters/redis/redis_publisher.h"

#include <assert.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/event_json.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/util.h"
#include "domain/messages.h"
#include "service/publisher.h"

struct redis_publisher {
	struct publisher base;	    /* must stay first */
	struct redis_target target; /* where, as whom */
	redisContext *ctx;	    /* NULL until connected, and after errors */
	bool streams;		    /* XADD, not PUBLISH */
};

static const struct publisher_ops redis_publisher_ops;

static struct redis_publisher *to_redis(struct publisher *p)
{
	assert(p->ops == &redis_publisher_ops);
	return container_of(p, struct redis_publisher, base);
}

int redis_target_parse(const char *url, struct redis_target *out,
		       struct sc_err *err)
{
	struct url_parts u;
	char *end;
	long db = 0;
	int rc = url_parse("REDIS_URL", url, &u, err);

	if (rc)
		return rc;
	if (strcmp(u.scheme, "redis") != 0)
		return err_set(err, SC_EINVAL,
			       "REDIS_URL must start with "
			       "redis://");
	if (u.path[0] && strcmp(u.path, "/") != 0) {
		db = strtol(u.path + 1, &end, 10);
		if (*end || end == u.path + 1 || db < 0 || db > 65535)
			return err_set(err, SC_EINVAL,
				       "REDIS_URL database must be a number, "
				       "as in redis://host:6379/0");
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->host, u.host, sizeof(out->host));
	memcpy(out->user, u.user, sizeof(out->user));
	memcpy(out->password, u.password, sizeof(out->password));
	out->port = u.port ? u.port : 6379;
	out->db = (int)db;
	return SC_OK;
}

/* Run one setup command; SC_EIO naming @what (not its arguments). */
static int setup(redisContext *ctx, const char *what, redisReply *reply,
		 struct sc_err *err)
{
	int rc = SC_OK;

	if (!reply || reply->type == REDIS_REPLY_ERROR)
		rc = err_set(err, SC_EIO, "redis %s: %s", what,
			     reply ? reply->str : ctx->errstr);
	if (reply)
		freeReplyObject(reply);
	return rc;
}

int redis_connect(const struct redis_target *t, redisContext **out,
		  struct sc_err *err)
{
	struct timeval ct = {0, (long)REDIS_CONNECT_TIMEOUT_MS * 1000};
	struct timeval rt = {REDIS_COMMAND_TIMEOUT_MS / 1000,
			     (long)(REDIS_COMMAND_TIMEOUT_MS % 1000) * 1000};
	redisContext *ctx = redisConnectWithTimeout(t->host, t->port, ct);
	int rc = SC_OK;

	if (!ctx || ctx->err)
		rc = err_set(err, SC_EIO, "redis %s:%d: %s", t->host, t->port,
			     ctx ? ctx->errstr : "out of memory");
	else if (redisSetTimeout(ctx, rt) != REDIS_OK)
		rc = err_set(err, SC_EIO, "redis: cannot set timeout");
	/* %s arguments travel as binary-safe bulk strings, never parsed */
	if (!rc && t->password[0] && t->user[0])
		rc = setup(
			ctx, "auth",
			redisCommand(ctx, "AUTH %s %s", t->user, t->password),
			err);
	else if (!rc && t->password[0])
		rc = setup(ctx, "auth",
			   redisCommand(ctx, "AUTH %s", t->password), err);
	if (!rc && t->db)
		rc = setup(ctx, "select", redisCommand(ctx, "SELECT %d", t->db),
			   err);
	if (rc) {
		if (ctx)
			redisFree(ctx);
		return rc;
	}
	*out = ctx;
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
	return redis_connect(&r->target, &r->ctx, err);
}

static int redis_publish(struct publisher *p, const char *channel, int64_t id,
			 const struct msg *ev, struct sc_err *err)
{
	struct redis_publisher *r = to_redis(p);
	redisReply *reply;
	char *body = event_json(id, ev);
	int rc = SC_OK;

	if (!body)
		return err_set(err, SC_ENOMEM, "out of memory");
	if (!r->ctx)
		rc = connect_now(r, err);
	if (!rc) {
		if (r->streams)
			reply = redisCommand(r->ctx,
					     "XADD %s MAXLEN ~ %d * id %lld "
					     "data %b",
					     channel, REDIS_STREAM_MAXLEN,
					     (long long)id, body, strlen(body));
		else
			reply = redisCommand(r->ctx, "PUBLISH %s %b", channel,
					     body, strlen(body));
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

void redis_publisher_use_streams(struct publisher *p)
{
	to_redis(p)->streams = true;
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
	rc = redis_target_parse(url, &r->target, err);
	if (rc) {
		mem_free(r);
		return rc;
	}
	*out = &r->base;
	return SC_OK;
}
