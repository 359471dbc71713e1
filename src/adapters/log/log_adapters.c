/*
 * adapters/log/log_adapters.c - notifications and events to the log.
 */
#include "adapters/log/log_adapters.h"

#include <stdio.h>
#include <string.h>

#include "adapters/event_json.h"
#include "common/log.h"
#include "common/mem.h"
#include "domain/events.h"
#include "domain/messages.h"
#include "service/notifier.h"
#include "service/publisher.h"

#define ESC(s, buf) log_escape((s), strlen(s), (buf), sizeof(buf))

static int log_send(struct notifier *self, const char *to, const char *body,
		    struct sc_err *err)
{
	char t[256], b[1024];

	(void)self;
	(void)err;
	log_msg(LOG_INFO, "notify=log to=\"%s\" body=\"%s\"", ESC(to, t),
		ESC(body, b));
	return SC_OK;
}

static void log_notifier_free(struct notifier *self)
{
	mem_free(self);
}

static const struct notifier_ops log_notifier_ops = {
	.name = "log",
	.send = log_send,
	.free = log_notifier_free,
};

int log_notifier_new(struct notifier **out, struct sc_err *err)
{
	struct notifier *n = mem_calloc(1, sizeof(*n));

	if (!n)
		return err_set(err, SC_ENOMEM, "out of memory");
	n->ops = &log_notifier_ops;
	*out = n;
	return SC_OK;
}

/* ` name="value"` for a field the event carries (NULL: it has none). */
static size_t put_field(char *out, size_t at, size_t cap, const char *name,
			const char *value)
{
	char esc[600];
	int n;

	if (!value || at >= cap)
		return at;
	n = snprintf(out + at, cap - at, " %s=\"%s\"", name,
		     log_escape(value, strlen(value), esc, sizeof(esc)));
	return n < 0 ? at : at + (size_t)n;
}

/*
 * The fields domain/events.h gives the event's kind, as key=value pairs
 * (the JSON others receive is adapters/event_json.c's).
 */
static int log_publish(struct publisher *self, const char *channel, int64_t id,
		       const struct msg *ev, struct sc_err *err)
{
	struct event_fields f;
	char text[2048] = "";
	size_t at = 0;

	(void)self;
	(void)err;
	event_flatten(ev, &f);
	at = put_field(text, at, sizeof(text), "orderid", f.orderid);
	at = put_field(text, at, sizeof(text), "sku", f.sku);
	if (f.has_qty && at < sizeof(text))
		at += (size_t)snprintf(text + at, sizeof(text) - at,
				       " qty=%lld", (long long)f.qty);
	(void)put_field(text, at, sizeof(text), "batchref", f.batchref);
	log_msg(LOG_INFO, "publish=log channel=%s id=%lld event=%s%s", channel,
		(long long)id, msg_name(ev->type), text);
	return SC_OK;
}

static void log_publisher_free(struct publisher *self)
{
	mem_free(self);
}

static const struct publisher_ops log_publisher_ops = {
	.name = "log",
	.publish = log_publish,
	.free = log_publisher_free,
};

int log_publisher_new(struct publisher **out, struct sc_err *err)
{
	struct publisher *p = mem_calloc(1, sizeof(*p));

	if (!p)
		return err_set(err, SC_ENOMEM, "out of memory");
	p->ops = &log_publisher_ops;
	*out = p;
	return SC_OK;
}
