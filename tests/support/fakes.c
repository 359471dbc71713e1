/*
 * tests/support/fakes.c - fakes, fault allocator and test app.
 */
#include "support/fakes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/memory/memory_uow.h"
#include "common/mem.h"
#include "domain/date.h"
#include "domain/events.h"
#include "service/uow.h"

static int fake_send(struct notifier *self, const char *to, const char *body,
		     struct sc_err *err)
{
	struct fake_notifier *n = (struct fake_notifier *)self;

	if (n->fail_with)
		return err_set(err, n->fail_with, "fake notifier fails");
	if (n->n_calls < FAKE_MAX) {
		(void)snprintf(n->to[n->n_calls], sizeof(n->to[0]), "%s", to);
		(void)snprintf(n->body[n->n_calls], sizeof(n->body[0]), "%s",
			       body);
	}
	n->n_calls++;
	return SC_OK;
}

static void fake_notifier_free(struct notifier *self)
{
	(void)self;
}

static const struct notifier_ops fake_notifier_ops = {
	.name = "fake",
	.send = fake_send,
	.free = fake_notifier_free,
};

void fake_notifier_init(struct fake_notifier *n)
{
	memset(n, 0, sizeof(*n));
	n->base.ops = &fake_notifier_ops;
}

static int fake_publish(struct publisher *self, const char *channel, int64_t id,
			const struct msg *ev, struct sc_err *err)
{
	struct fake_publisher *p = (struct fake_publisher *)self;

	if (p->fail_with)
		return err_set(err, p->fail_with, "fake publisher fails");
	if (p->n_calls < FAKE_MAX) {
		size_t i = p->n_calls;

		(void)snprintf(p->channel[i], sizeof(p->channel[0]), "%s",
			       channel);
		p->id[i] = id;
		struct event_fields f;

		/* through the event table, as every real publisher reads */
		event_flatten(ev, &f);
		(void)snprintf(p->orderid[i], sizeof(p->orderid[0]), "%s",
			       f.orderid ? f.orderid : "");
		(void)snprintf(p->batchref[i], sizeof(p->batchref[0]), "%s",
			       f.batchref ? f.batchref : "");
	}
	p->n_calls++;
	return SC_OK;
}

static void fake_publisher_free(struct publisher *self)
{
	(void)self;
}

static const struct publisher_ops fake_publisher_ops = {
	.name = "fake",
	.publish = fake_publish,
	.free = fake_publisher_free,
};

void fake_publisher_init(struct fake_publisher *p)
{
	memset(p, 0, sizeof(*p));
	p->base.ops = &fake_publisher_ops;
}

static long countdown = -1;
static bool fired;
static long seen; /* allocations asked for since fault_mem_arm() */

static void *fault_alloc(size_t size)
{
	seen++;
	if (countdown == 0) {
		fired = true;
		countdown = -1;
		return NULL;
	}
	if (countdown > 0)
		countdown--;
	return malloc(size);
}

static void *fault_realloc(void *ptr, size_t size)
{
	seen++;
	if (countdown == 0) {
		fired = true;
		countdown = -1;
		return NULL;
	}
	if (countdown > 0)
		countdown--;
	return realloc(ptr, size);
}

static const struct mem_hooks fault_hooks = {
	.alloc = fault_alloc,
	.realloc = fault_realloc,
	.free = free,
};

void fault_mem_arm(long n)
{
	countdown = n;
	fired = false;
	seen = 0;
	mem_set_hooks(&fault_hooks);
}

bool fault_mem_fired(void)
{
	return fired;
}

long fault_mem_seen(void)
{
	return seen;
}

long fault_mem_end(long n)
{
	long asked = seen;

	if (n != FAULT_MEM_COUNT && !fired) {
		/* a loop that claims a point it never reached proves nothing */
		(void)fprintf(stderr, "fault %ld of %ld never fired\n", n,
			      asked);
		abort();
	}
	fault_mem_disarm();
	return asked;
}

void fault_mem_disarm(void)
{
	countdown = -1;
	mem_set_hooks(NULL);
}

static void die(const char *what, const struct sc_err *err)
{
	fprintf(stderr, "test setup: %s: %s\n", what, err->msg);
	abort();
}

static void run_relay(struct outbox_signal *self)
{
	struct sync_signal *s = (struct sync_signal *)self;
	struct sc_err err;

	err_clear(&err);
	s->n_signals++;
	s->last_rc = relay_run_once(s->relay, NULL, &err);
}

void sync_signal_init(struct sync_signal *s, struct relay *r)
{
	memset(s, 0, sizeof(*s));
	s->base.notify = run_relay;
	s->relay = r;
}

void test_app_init(struct test_app *app)
{
	struct deps d = {0};
	struct sc_err err;

	memset(app, 0, sizeof(*app));
	err_clear(&err);
	if (memory_store_new(&app->store, &err) ||
	    memory_uow_new(app->store, &app->uow, &err) ||
	    memory_uow_new(app->store, &app->relay_uow, &err))
		die("memory store", &err);
	fake_notifier_init(&app->notifier);
	fake_publisher_init(&app->publisher);
	relay_init(&app->relay, app->relay_uow, &app->publisher.base,
		   &app->notifier.base, "stock@scents.example");
	sync_signal_init(&app->signal, &app->relay);
	d.uow = app->uow;
	d.signal = &app->signal.base;
	bus_init(&app->bus, &d, 42);
	arena_init(&app->scratch);
}

void test_app_release(struct test_app *app)
{
	bus_release(&app->bus);
	relay_release(&app->relay);
	uow_free(app->relay_uow);
	uow_free(app->uow);
	memory_store_free(app->store);
	arena_release(&app->scratch);
}

int app_add_batch(struct test_app *app, const char *ref, const char *sku,
		  long long qty, const char *eta)
{
	struct msg m = {.type = MSG_CREATE_BATCH};
	struct sc_err err;

	err_clear(&err);
	m.u.create_batch.ref = ref;
	m.u.create_batch.sku = sku;
	m.u.create_batch.qty = qty;
	m.u.create_batch.has_eta = eta && *eta;
	if (m.u.create_batch.has_eta && !date_parse(eta, &m.u.create_batch.eta))
		abort();
	return bus_handle(&app->bus, &m, NULL, &err);
}

int app_allocate(struct test_app *app, const char *orderid, const char *sku,
		 long long qty, char *ref_out, size_t ref_len)
{
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};
	struct sc_err err;
	int rc;

	err_clear(&err);
	m.u.allocate.orderid = orderid;
	m.u.allocate.sku = sku;
	m.u.allocate.qty = qty;
	rc = bus_handle(&app->bus, &m, &res, &err);
	if (ref_out)
		(void)snprintf(ref_out, ref_len, "%s", rc ? "" : res.batchref);
	return rc;
}

int app_deallocate(struct test_app *app, const char *orderid, const char *sku,
		   struct bus_result *res, struct sc_err *err)
{
	struct msg m = {.type = MSG_DEALLOCATE};

	err_clear(err);
	m.u.deallocate.orderid = orderid;
	m.u.deallocate.sku = sku;
	if (res) {
		memset(res, 0, sizeof(*res));
		res->arena = &app->scratch;
	}
	return bus_handle(&app->bus, &m, res, err);
}

int app_change_qty(struct test_app *app, const char *ref, long long qty)
{
	struct msg m = {.type = MSG_CHANGE_BATCH_QUANTITY};
	struct sc_err err;

	err_clear(&err);
	m.u.change_batch_quantity.ref = ref;
	m.u.change_batch_quantity.qty = qty;
	return bus_handle(&app->bus, &m, NULL, &err);
}

struct product *app_load(struct test_app *app, const char *sku)
{
	struct product *p = NULL;
	struct sc_err err;

	err_clear(&err);
	if (uow_begin(app->uow, &app->scratch, &err))
		die("begin", &err);
	if (repo_get(app->uow, sku, NULL, &p, &err))
		p = NULL;
	uow_rollback(app->uow);
	return p;
}
