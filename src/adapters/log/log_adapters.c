/*
 * adapters/log/log_adapters.c - notifications and events to the log.
 */
#include "adapters/log/log_adapters.h"

#include <string.h>

#include "adapters/event_json.h"
#include "common/log.h"
#include "common/mem.h"
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

static int log_publish(struct publisher *self, const char *channel, int64_t id,
		       const struct msg *ev, struct sc_err *err)
{
	char *body = event_json(id, ev);
	char esc[2048];

	(void)self;
	if (!body)
		return err_set(err, SC_ENOMEM, "out of memory");
	/* the message as Redis would carry it: one encoder for both */
	log_msg(LOG_INFO, "publish=log channel=%s id=%lld event=%s body=\"%s\"",
		channel, (long long)id, msg_name(ev->type), ESC(body, esc));
	mem_free(body);
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
