/*
 * service/notifier.h - the notification port (the book's
 * AbstractNotifications): tell a person something happened.
 *
 * Adapters: log (default), smtp.  send() may block on the network; it is
 * called from event handlers, after the transaction that raised the event
 * committed.
 */
#ifndef SCENTS_SERVICE_NOTIFIER_H
#define SCENTS_SERVICE_NOTIFIER_H

#include "common/err.h"

struct notifier;

struct notifier_ops {
	const char *name; /* "log", "smtp", ...; for logs */

	/* Deliver @body to @to.  SC_EIO when the transport fails. */
	int (*send)(struct notifier *self, const char *to, const char *body,
		    struct sc_err *err);

	/* Release the adapter. */
	void (*free)(struct notifier *self);
};

struct notifier {
	const struct notifier_ops *ops; /* first member; set by the adapter */
};

static inline int notifier_send(struct notifier *n, const char *to,
				const char *body, struct sc_err *err)
{
	return n->ops->send(n, to, body, err);
}

/* Release @n (NULL is a no-op). */
static inline void notifier_free(struct notifier *n)
{
	if (n)
		n->ops->free(n);
}

#endif
