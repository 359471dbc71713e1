/*
 * service/publisher.h - the external publishing port (the book's
 * redis_eventpublisher.publish): tell other systems what happened.
 *
 * Adapters: log (default), redis.  The adapter serialises the event.
 */
#ifndef SCENTS_SERVICE_PUBLISHER_H
#define SCENTS_SERVICE_PUBLISHER_H

#include <stdint.h>

#include "common/err.h"

struct msg;
struct publisher;

struct publisher_ops {
	const char *name; /* "log", "redis", ...; for logs */

	/*
	 * Publish event @ev, outbox id @id, on @channel.  SC_EIO when the
	 * broker fails or does not answer in time.
	 */
	int (*publish)(struct publisher *self, const char *channel, int64_t id,
		       const struct msg *ev, struct sc_err *err);

	/* Release the adapter. */
	void (*free)(struct publisher *self);
};

struct publisher {
	const struct publisher_ops *ops; /* first member; set by adapter */
};

static inline int publisher_publish(struct publisher *p, const char *channel,
				    int64_t id, const struct msg *ev,
				    struct sc_err *err)
{
	return p->ops->publish(p, channel, id, ev, err);
}

/* Release @p (NULL is a no-op). */
static inline void publisher_free(struct publisher *p)
{
	if (p)
		p->ops->free(p);
}

#endif
