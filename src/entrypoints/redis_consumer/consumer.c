/*
 * entrypoints/redis_consumer/consumer.c - subscribe, validate, dispatch.
 *
 * Reads without blocking forever: poll() on the socket with a short
 * timeout, then redisBufferRead() and the reader, so the thread notices
 * consumer_stop() and a dead connection promptly.
 */
#include "entrypoints/redis_consumer/consumer.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "adapters/redis/redis_publisher.h"
#include "common/config.h"
#include "common/log.h"
#include "domain/model.h"

#define POLL_MS 200

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

static void skip(struct consumer *c, const char *why, const char *data,
		 size_t len)
{
	char esc[512];

	c->n_bad++;
	log_msg(LOG_WARN, "consumer=skip reason=\"%s\" payload=\"%s\"", why,
		log_escape(data, len, esc, sizeof(esc)));
}

/* Validate one payload and send ChangeBatchQuantity through the bus. */
static void handle_payload(struct consumer *c, const char *data, size_t len)
{
	struct msg m = {.type = MSG_CHANGE_BATCH_QUANTITY};
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *ref = json_object_get(j, "batchref");
	json_t *qty = json_object_get(j, "qty");
	struct sc_err err;

	if (!json_is_object(j))
		skip(c, "not a JSON object", data, len);
	else if (!json_is_string(ref) ||
		 !ident_valid(json_string_value(ref), json_string_length(ref)))
		skip(c, "batchref must be 1 to 255 bytes of printable utf-8",
		     data, len);
	else if (!json_is_integer(qty) || json_integer_value(qty) < 0 ||
		 json_integer_value(qty) > SC_QTY_MAX)
		skip(c, "qty must be an integer from 0 to 1000000000", data,
		     len);
	else {
		m.u.change_batch_quantity.ref = json_string_value(ref);
		m.u.change_batch_quantity.qty = json_integer_value(qty);
		err_clear(&err);
		if (bus_handle(&c->w.bus, &m, NULL, &err))
			skip(c, err.msg, data, len);
		else
			c->n_ok++;
	}
	json_decref(j);
}

/* A reply from the subscription: a message, or a subscribe notice. */
static void handle_reply(struct consumer *c, redisReply *r)
{
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    !strcmp(r->element[0]->str, "message") &&
	    r->element[2]->type == REDIS_REPLY_STRING)
		handle_payload(c, r->element[2]->str, r->element[2]->len);
	else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
		 r->element[0]->type == REDIS_REPLY_STRING &&
		 !strcmp(r->element[0]->str, "subscribe"))
		log_msg(LOG_INFO, "consumer=subscribed channel=%s",
			CONSUMER_CHANNEL);
}

static redisContext *subscribe(struct consumer *c)
{
	redisContext *ctx = NULL;
	struct sc_err err;

	err_clear(&err);
	if (redis_connect(&c->target, &ctx, &err) ||
	    redisAppendCommand(ctx, "SUBSCRIBE %s", CONSUMER_CHANNEL) !=
		    REDIS_OK) {
		log_msg(LOG_WARN,
			"consumer=connect host=%s port=%d error=\"%s\"",
			c->target.host, c->target.port,
			err.msg[0] ? err.msg : ctx->errstr);
		if (ctx)
			redisFree(ctx);
		return NULL;
	}
	(void)redisEnableKeepAlive(ctx);
	return ctx;
}

/* Flush, then read replies until an error or a stop.  Returns on error. */
static void pump(struct consumer *c, redisContext *ctx)
{
	int done = 0;
	void *reply;

	while (!done)
		if (redisBufferWrite(ctx, &done) != REDIS_OK)
			return;
	while (!atomic_load(&c->stop)) {
		struct pollfd pfd = {.fd = ctx->fd, .events = POLLIN};

		if (redisGetReplyFromReader(ctx, &reply) != REDIS_OK)
			return;
		if (reply) {
			handle_reply(c, reply);
			freeReplyObject(reply);
			continue;
		}
		if (poll(&pfd, 1, POLL_MS) > 0 &&
		    redisBufferRead(ctx) != REDIS_OK)
			return;
	}
}

static void *run(void *arg)
{
	struct consumer *c = arg;
	long backoff = 0;

	while (!atomic_load(&c->stop)) {
		redisContext *ctx = subscribe(c);

		if (ctx) {
			backoff = 0;
			pump(c, ctx);
			if (!atomic_load(&c->stop))
				log_msg(LOG_WARN,
					"consumer=disconnected error=\"%s\"",
					ctx->errstr[0] ? ctx->errstr : "eof");
			redisFree(ctx);
		}
		if (atomic_load(&c->stop))
			break;
		backoff = backoff ? backoff * 2 : CONSUMER_BACKOFF_MIN_MS;
		if (backoff > CONSUMER_BACKOFF_MAX_MS)
			backoff = CONSUMER_BACKOFF_MAX_MS;
		for (long t = 0; t < backoff && !atomic_load(&c->stop); t += 50)
			sleep_ms(50);
	}
	return NULL;
}

int consumer_start(struct consumer *c, struct app *app, struct sc_err *err)
{
	const struct config *cfg = bootstrap_config(app);
	int rc;

	memset(c, 0, sizeof(*c));
	atomic_init(&c->stop, false);
	rc = redis_target_parse(cfg->redis_url, &c->target, err);
	if (!rc)
		rc = bootstrap_worker_init(app, &c->w, err);
	if (rc)
		return rc;
	if (pthread_create(&c->tid, NULL, run, c)) {
		bootstrap_worker_release(&c->w);
		return err_set(err, SC_EIO, "cannot start the consumer thread");
	}
	return SC_OK;
}

void consumer_stop(struct consumer *c)
{
	atomic_store(&c->stop, true);
	(void)pthread_join(c->tid, NULL);
	log_msg(LOG_INFO, "consumer=stopped handled=%lu skipped=%lu", c->n_ok,
		c->n_bad);
	bootstrap_worker_release(&c->w);
}
