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
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adapters/redis/redis_publisher.h"
#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"

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

/* What became of a message. */
enum outcome {
	OUTCOME_APPLIED, /* committed */
	OUTCOME_REFUSED, /* bad input: never will be */
	OUTCOME_RETRY	 /* the store failed: try again later */
};

/* Validate one payload and send ChangeBatchQuantity through the bus. */
static enum outcome handle_payload(struct consumer *c, const char *data,
				   size_t len)
{
	enum outcome o = OUTCOME_REFUSED;
	int rc;

	struct msg m = {.type = MSG_CHANGE_BATCH_QUANTITY};
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *ref = json_object_get(j, "batchref");
	json_t *qty = json_object_get(j, "qty");
	struct sc_err err;

	if (!json_is_object(j))
		skip(c, "not a JSON object", data, len);
	/*
	 * Only the shape of the JSON is checked here; the values' rules
	 * (lengths, ranges) are the handler's, the same for every transport.
	 * A NUL inside a JSON string would hide its tail from C: refused.
	 */
	else if (!json_is_string(ref) ||
		 strlen(json_string_value(ref)) != json_string_length(ref))
		skip(c, "batchref must be a string", data, len);
	else if (!json_is_integer(qty))
		skip(c, "qty must be an integer", data, len);
	else {
		m.u.change_batch_quantity.ref = json_string_value(ref);
		m.u.change_batch_quantity.qty = json_integer_value(qty);
		err_clear(&err);
		rc = bus_handle(&c->w.bus, &m, NULL, &err);
		if (rc)
			skip(c, err.msg, data, len);
		else
			c->n_ok++;
		o = !rc ? OUTCOME_APPLIED
		    : rc == SC_EIO || rc == SC_ENOMEM || rc == SC_ECONFLICT
			    ? OUTCOME_RETRY
			    : OUTCOME_REFUSED;
	}
	json_decref(j);
	return o;
}

/* A reply from the subscription: a message, or a subscribe notice. */
static void handle_reply(struct consumer *c, redisReply *r)
{
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    !strcmp(r->element[0]->str, "message") &&
	    r->element[2]->type == REDIS_REPLY_STRING)
		(void)handle_payload(c, r->element[2]->str, r->element[2]->len);
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

/* ---- Redis Streams (REDIS_MODE=streams) ------------------------------ */

/*
 * Each message is applied once across every server of the group: Redis
 * hands an entry to one consumer, which acknowledges it (XACK) only after
 * its command committed, or it was refused for good.  An entry whose
 * command failed for a passing reason (the store down) stays pending; an
 * entry pending on a consumer that died is claimed by a live one after
 * CONSUMER_CLAIM_IDLE_MS (XAUTOCLAIM).  The group starts at the end of the
 * stream and keeps its place across restarts.
 */
#define CONSUMER_GROUP	       "scents"
#define CONSUMER_CLAIM_IDLE_MS 30000
#define CONSUMER_BLOCK_MS      1000

/* The "data" field of a stream entry's field list, or NULL. */
static const redisReply *entry_data(const redisReply *fields)
{
	for (size_t i = 0;
	     fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements;
	     i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    !strcmp(fields->element[i]->str, "data"))
			return fields->element[i + 1];
	return NULL;
}

/* Handle entries [[id, [field, value...]], ...]; XACK the settled ones. */
static int handle_entries(struct consumer *c, redisContext *ctx,
			  const redisReply *entries)
{
	for (size_t i = 0; entries && entries->type == REDIS_REPLY_ARRAY &&
			   i < entries->elements;
	     i++) {
		const redisReply *e = entries->element[i], *data;
		enum outcome o = OUTCOME_REFUSED;
		redisReply *ack;

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue; /* a deleted entry claimed: nil fields */
		data = entry_data(e->element[1]);
		if (data && data->type == REDIS_REPLY_STRING)
			o = handle_payload(c, data->str, data->len);
		else
			skip(c, "no data field", "", 0);
		if (o == OUTCOME_RETRY)
			continue; /* stays pending; claimed again later */
		/* one line per entry: operators (and the scale-out test) can
		   tell which server applied which message */
		if (o == OUTCOME_APPLIED)
			log_msg(LOG_INFO, "consumer=applied stream=%s id=%s",
				CONSUMER_CHANNEL, e->element[0]->str);
		ack = redisCommand(ctx, "XACK %s %s %s", CONSUMER_CHANNEL,
				   CONSUMER_GROUP, e->element[0]->str);
		if (!ack)
			return -1;
		freeReplyObject(ack);
	}
	return 0;
}

/* The group, created at the stream's end unless it exists. */
static int join_group(redisContext *ctx)
{
	redisReply *r = redisCommand(ctx, "XGROUP CREATE %s %s $ MKSTREAM",
				     CONSUMER_CHANNEL, CONSUMER_GROUP);
	int ok = r && (r->type != REDIS_REPLY_ERROR ||
		       !strncmp(r->str, "BUSYGROUP", 9));

	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Claim entries left pending by consumers gone for a while. */
static int claim_idle(struct consumer *c, redisContext *ctx)
{
	redisReply *r = redisCommand(ctx, "XAUTOCLAIM %s %s %s %d 0-0 COUNT 64",
				     CONSUMER_CHANNEL, CONSUMER_GROUP, c->name,
				     CONSUMER_CLAIM_IDLE_MS);
	int rc = -1;

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 2)
		rc = handle_entries(c, ctx, r->element[1]);
	if (r)
		freeReplyObject(r);
	return rc;
}

/* Read and handle until an error or a stop; first what we left pending. */
static void pump_stream(struct consumer *c, redisContext *ctx)
{
	const char *from = "0"; /* our own pending entries, after a restart */
	time_t last_claim = 0;

	while (!atomic_load(&c->stop)) {
		redisReply *r;
		int rc = 0;

		if (time(NULL) - last_claim >= 5) {
			if (claim_idle(c, ctx))
				return;
			last_claim = time(NULL);
		}
		r = redisCommand(ctx,
				 "XREADGROUP GROUP %s %s COUNT 64 BLOCK %d "
				 "STREAMS %s %s",
				 CONSUMER_GROUP, c->name, CONSUMER_BLOCK_MS,
				 CONSUMER_CHANNEL, from);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			if (r)
				freeReplyObject(r);
			return;
		}
		/* [[stream, entries]]; nil when BLOCK timed out */
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    r->element[0]->elements == 2) {
			const redisReply *entries = r->element[0]->element[1];

			rc = handle_entries(c, ctx, entries);
			if (!strcmp(from, "0") && !entries->elements)
				from = ">"; /* backlog done: new entries now */
		} else if (!strcmp(from, "0")) {
			from = ">";
		}
		freeReplyObject(r);
		if (rc)
			return;
	}
}

static redisContext *connect_stream(struct consumer *c)
{
	redisContext *ctx = NULL;
	struct sc_err err;

	err_clear(&err);
	if (redis_connect(&c->target, &ctx, &err) || join_group(ctx)) {
		log_msg(LOG_WARN,
			"consumer=connect host=%s port=%d error=\"%s\"",
			c->target.host, c->target.port,
			err.msg[0] ? err.msg : "cannot create the group");
		if (ctx)
			redisFree(ctx);
		return NULL;
	}
	log_msg(LOG_INFO, "consumer=subscribed stream=%s group=%s name=%s",
		CONSUMER_CHANNEL, CONSUMER_GROUP, c->name);
	return ctx;
}

static void *run(void *arg)
{
	struct consumer *c = arg;
	long backoff = 0;

	thread_name("scents-consumer");
	while (!atomic_load(&c->stop)) {
		redisContext *ctx =
			c->streams ? connect_stream(c) : subscribe(c);

		if (ctx) {
			backoff = 0;
			if (c->streams)
				pump_stream(c, ctx);
			else
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
	c->streams = cfg->redis_streams != 0;
	/* a name unique to this process: Redis tracks pending entries by it */
	(void)snprintf(c->name, sizeof(c->name), "scents-%ld-%lld",
		       (long)getpid(), (long long)time(NULL));
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
