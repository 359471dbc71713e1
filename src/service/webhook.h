/*
 * service/webhook.h - the webhook port: POST one notice to a customer's
 * URL, signed with the customer's secret.
 *
 * The adapter (adapters/webhook) renders the body from the delivery, so
 * every attempt of one delivery sends the same bytes under the same id;
 * only the timestamp and signature change.  A receiver's 2xx is success;
 * anything else, a refused connection or a timeout is SC_EIO.
 */
#ifndef SCENTS_SERVICE_WEBHOOK_H
#define SCENTS_SERVICE_WEBHOOK_H

#include "common/err.h"

struct delivery;
struct webhook;

struct webhook_ops {
	/* Send @d (channel "webhook") now.  SC_EIO: try again later. */
	int (*send)(struct webhook *self, const struct delivery *d,
		    struct sc_err *err);

	/* Release the adapter. */
	void (*free)(struct webhook *self);
};

struct webhook {
	const struct webhook_ops *ops; /* first member; set by the adapter */
};

static inline int webhook_send(struct webhook *w, const struct delivery *d,
			       struct sc_err *err)
{
	return w->ops->send(w, d, err);
}

static inline void webhook_free(struct webhook *w)
{
	if (w)
		w->ops->free(w);
}

#endif
