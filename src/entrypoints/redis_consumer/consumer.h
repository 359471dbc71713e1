/*
 * entrypoints/redis_consumer/consumer.h - the Redis consumer (the book's
 * redis_eventconsumer): SUBSCRIBE change_batch_quantity on a dedicated
 * connection; each message {"batchref","qty"} becomes ChangeBatchQuantity
 * on the message bus.
 *
 * A message that is not such an object (validated as HTTP input is), or
 * names an unknown batch, is logged (escaped) and skipped.  The consumer
 * never exits on bad input; when Redis goes away it reconnects and
 * resubscribes, backing off from CONSUMER_BACKOFF_MIN_MS to
 * CONSUMER_BACKOFF_MAX_MS.  Runs in its own thread with its own worker.
 */
#ifndef SCENTS_ENTRYPOINTS_REDIS_CONSUMER_CONSUMER_H
#define SCENTS_ENTRYPOINTS_REDIS_CONSUMER_CONSUMER_H

#include <pthread.h>
#include <stdatomic.h>

#include "adapters/redis/redis_publisher.h"
#include "bootstrap.h"

#define CONSUMER_CHANNEL	"change_batch_quantity"
#define CONSUMER_BACKOFF_MIN_MS 100
#define CONSUMER_BACKOFF_MAX_MS 2000

struct consumer {
	struct worker w;	    /* own connection and bus */
	struct redis_target target; /* Redis server and credentials */
	bool streams;		    /* REDIS_MODE=streams: a consumer group */
	char name[64];		    /* this consumer in the group */
	atomic_bool stop;	    /* set by consumer_stop() */
	pthread_t tid;		    /* the thread */
	unsigned long n_ok;	    /* messages handled */
	unsigned long n_bad;	    /* messages skipped */
};

/*
 * Start consuming REDIS_URL of @app in a thread.  Create it after the
 * relay, so that what it commits wakes the relay.  SC_EINVAL, SC_EIO.
 */
int consumer_start(struct consumer *c, struct app *app, struct sc_err *err);

/* Stop the thread (within ~0.5 s) and release it. */
void consumer_stop(struct consumer *c);

#endif
