/*
 * adapters/redis/redis_publisher.h - the publisher port on Redis pub/sub
 * (hiredis).  line_allocated payload: {"id","orderid","sku","qty",
 * "batchref"}, compatible with the reference app's consumers plus the
 * outbox id for deduplication.
 *
 * Connects lazily with a connect timeout and sets a command timeout; on
 * any error or timeout it frees the connection and reports SC_EIO, and the
 * next publish reconnects (the relay backs off between attempts).
 * Used by one thread at a time.
 */
#ifndef SCENTS_ADAPTERS_REDIS_REDIS_PUBLISHER_H
#define SCENTS_ADAPTERS_REDIS_REDIS_PUBLISHER_H

#include <hiredis/hiredis.h>

#include "common/url.h"

struct publisher;
struct sc_err;

/* Connect and command timeouts, milliseconds. */
#define REDIS_CONNECT_TIMEOUT_MS 1000
#define REDIS_COMMAND_TIMEOUT_MS 2000

/* Where and as whom to connect: redis://[[user]:password@]host[:port][/db] */
struct redis_target {
	char host[URL_PART_MAX];     /* server */
	int port;		     /* default 6379 */
	char user[URL_PART_MAX];     /* ACL user (Redis 6+), or "" */
	char password[URL_PART_MAX]; /* AUTH password, or "": no AUTH */
	int db;			     /* SELECT this when not 0 */
};

/* Parse REDIS_URL @url into @out.  SC_EINVAL (never quoting secrets). */
int redis_target_parse(const char *url, struct redis_target *out /* OUT */,
		       struct sc_err *err);

/*
 * Connect to @t within REDIS_CONNECT_TIMEOUT_MS, set the command
 * timeout, then AUTH and SELECT as @t asks.  SC_EIO with the server's
 * reason (never the password); SC_ENOMEM.
 */
int redis_connect(const struct redis_target *t, redisContext **out /* OUT */,
		  struct sc_err *err);

/* Entries kept per stream in streams mode (XADD MAXLEN ~). */
#define REDIS_STREAM_MAXLEN 100000

/* A publisher for @url; does not connect yet.  SC_EINVAL, SC_ENOMEM. */
int redis_publisher_new(const char *url, struct publisher **out /* OUT */,
			struct sc_err *err);

/*
 * Publish with XADD to a stream named as the channel, capped near
 * REDIS_STREAM_MAXLEN entries, instead of PUBLISH: a consumer that is
 * away misses nothing.  Each entry has fields "id" and "data" (the JSON).
 */
void redis_publisher_use_streams(struct publisher *p);

#endif
