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

struct publisher;
struct sc_err;

/* Connect and command timeouts, milliseconds. */
#define REDIS_CONNECT_TIMEOUT_MS 1000
#define REDIS_COMMAND_TIMEOUT_MS 2000

/*
 * Split "redis://host[:port][/db]" into @host (@n bytes) and *@port.
 * SC_EINVAL when it is not such a URL.
 */
int redis_url_parse(const char *url, char *host, unsigned long n, int *port,
		    struct sc_err *err);

/* A publisher for @url; does not connect yet.  SC_EINVAL, SC_ENOMEM. */
int redis_publisher_new(const char *url, struct publisher **out /* OUT */,
			struct sc_err *err);

#endif
