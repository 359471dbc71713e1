/*
 * bootstrap.c - builds adapters from the configuration.
 */
#include "bootstrap.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "adapters/log/log_adapters.h"
#include "adapters/memory/memory_uow.h"
#include "adapters/postgres/pg_uow.h"
#include "adapters/redis/redis_publisher.h"
#include "adapters/smtp/smtp_notifier.h"
#include "adapters/sqlite/sqlite_uow.h"
#include "adapters/webhook/webhook_http.h"
#include "common/arena.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/url.h"
#include "common/util.h"
#include "service/notifier.h"
#include "service/publisher.h"
#include "service/uow.h"
#include "service/webhook.h"
#include "service/writer.h"

struct app {
	struct config cfg;		 /* as loaded and overridden */
	struct memory_store *memory;	 /* for memory: */
	struct sqlite_db *sqlite;	 /* for sqlite:, else NULL */
	struct pg_db *pg;		 /* for postgresql:, else NULL */
	struct notifier *notifier;	 /* shared by relays */
	struct webhook *webhook;	 /* customers' webhooks */
	struct publisher *publisher;	 /* shared by relays */
	struct outbox_signal *signal;	 /* wakes the relay; may be NULL */
	uint64_t seed;			 /* next worker's jitter seed */
	struct delivery_status delivery; /* shared by the relays */
	struct bus_metrics bus_metrics;	 /* shared by the buses */
	bool curl_ready;		 /* curl_global_init done */
	pthread_mutex_t writer_lock;	 /* guards the lazy start below */
	struct writer writer;		 /* SQLITE_BATCH: one per process */
	struct uow *writer_uow;		 /* its own connection, or NULL */
	struct uow *syncer_uow;		 /* its syncer's, with writer_uow */
};

typedef int store_open_fn(struct app *app, const char *rest, struct uow **out,
			  struct sc_err *err);

static int open_sqlite(struct app *app, const char *path, struct uow **out,
		       struct sc_err *err)
{
	struct sqlite_options opt = {
		.synchronous_full = app->cfg.sqlite_synchronous_full,
		.group_commit = app->cfg.sqlite_group_commit,
		.busy_timeout_ms = 10000,
		.must_exist = app->cfg.open_existing != 0,
		/* 8 MiB of WAL between checkpoints, off the writer's
		   thread.  Larger ones (32 MiB) stalled the WAL's fsync
		   behind the database's for up to 170 ms (p99); SQLite's
		   1 000 frames, in the writer, cost it throughput
		   (docs/decisions/0013) */
		.checkpoint_frames = 2000,
	};
	int rc = SC_OK;

	if (!app->sqlite)
		rc = sqlite_db_open(path, &opt, &app->sqlite, err);
	return rc ? rc : sqlite_uow_new(app->sqlite, out, err);
}

static int open_pg(struct app *app, const char *rest, struct uow **out,
		   struct sc_err *err)
{
	struct pg_options opt = {
		.locking =
			app->cfg.pg_row_lock ? PG_LOCK_ROW : PG_LOCK_OPTIMISTIC,
	};
	int rc = SC_OK;

	(void)rest;
	if (!app->pg)
		rc = pg_db_open(app->cfg.database_url, &opt, &app->pg, err);
	return rc ? rc : pg_uow_new(app->pg, out, err);
}

static int open_memory(struct app *app, const char *rest, struct uow **out,
		       struct sc_err *err)
{
	(void)rest;
	return memory_uow_new(app->memory, out, err);
}

static const struct {
	const char *scheme;  /* DATABASE_URL prefix */
	store_open_fn *open; /* opens one connection */
} stores[] = {
	{"sqlite:", open_sqlite},
	{"memory:", open_memory},
	{"postgresql://", open_pg},
	{"postgres://", open_pg},
};

static int open_store(struct app *app, struct uow **out, struct sc_err *err)
{
	const char *url = app->cfg.database_url;
	char shown[120];

	for (size_t i = 0; i < ARRAY_SIZE(stores); i++) {
		size_t n = strlen(stores[i].scheme);

		if (!strncmp(url, stores[i].scheme, n))
			return stores[i].open(app, url + n, out, err);
	}
	return err_set(err, SC_EINVAL, "store '%s' is not built in",
		       url_redact(url, shown, sizeof(shown)));
}

/* SMTP when SMTP_URL is set, Redis when REDIS_URL is; else the log. */
static int make_transports(struct app *app, struct sc_err *err)
{
	const struct config *c = &app->cfg;
	int rc;

	/* customers' webhooks need curl whatever else is configured */
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, mem_alloc, mem_free,
				 mem_realloc, mem_strdup,
				 mem_calloc) != CURLE_OK)
		return err_set(err, SC_EIO, "cannot initialise curl");
	app->curl_ready = true;
	if (sodium_init() < 0) /* signs them */
		return err_set(err, SC_EIO, "cannot initialise libsodium");
	rc = webhook_http_new(c->webhook_timeout_ms, &app->webhook, err);
	if (rc)
		return rc;
	if (c->smtp_url[0]) {
		rc = smtp_notifier_new(c->smtp_url, c->from_email,
				       &app->notifier, err);
		if (!rc && c->smtp_ca_file[0])
			rc = smtp_notifier_set_ca_file(app->notifier,
						       c->smtp_ca_file, err);
	} else {
		rc = log_notifier_new(&app->notifier, err);
	}
	if (rc)
		return rc;
	if (c->redis_url[0]) {
		rc = redis_publisher_new(c->redis_url, &app->publisher, err);
		if (!rc && c->redis_streams)
			redis_publisher_use_streams(app->publisher);
		return rc;
	}
	return log_publisher_new(&app->publisher, err);
}

void bootstrap_close(struct app *app)
{
	if (!app)
		return;
	if (app->writer_uow) {
		writer_stop(&app->writer);
		uow_free(app->syncer_uow);
		uow_free(app->writer_uow);
	}
	(void)pthread_mutex_destroy(&app->writer_lock);
	notifier_free(app->notifier);
	publisher_free(app->publisher);
	webhook_free(app->webhook);
	memory_store_free(app->memory);
	sqlite_db_close(app->sqlite);
	pg_db_close(app->pg);
	if (app->curl_ready)
		curl_global_cleanup();
	mem_free(app);
}

int bootstrap_open(const struct config *cfg, struct app **out,
		   struct sc_err *err)
{
	struct app *app = mem_calloc(1, sizeof(*app));
	struct uow *probe = NULL;
	int rc;

	if (!app)
		return err_set(err, SC_ENOMEM, "out of memory");
	app->cfg = *cfg;
	app->seed = (uint64_t)time(NULL) * 2654435761u + 1;
	(void)pthread_mutex_init(&app->writer_lock, NULL);
	rc = memory_store_new(&app->memory, err);
	if (!rc)
		rc = make_transports(app, err);
	if (!rc)
		rc = open_store(app, &probe, err);
	uow_free(probe);
	if (rc) {
		bootstrap_close(app);
		return rc;
	}
	*out = app;
	return SC_OK;
}

/*
 * The batched writer's page cache: 32 MiB, against SQLite's 2 MiB.  Over
 * a 5-minute soak at 64 connections it kept durable allocation 11%
 * higher on average, 37% higher by the fifth minute, as the
 * (orderid, sku) index outgrew 2 MiB; it fills only as pages are used,
 * and leaves RSS well under the design's 64 MiB (docs/benchmarks.md).
 */
#define WRITER_CACHE_KIB (32 * 1024)

/*
 * The batched writer, started with the first worker that sends commands
 * (docs/decisions/0013); NULL when the store cannot batch or
 * SQLITE_BATCH=off.  Its connection is its own, and so is its syncer's.
 */
static int writer_for(struct app *app, struct uow *probe, struct writer **out,
		      struct sc_err *err)
{
	struct deps d = {0};
	int rc = SC_OK;

	*out = NULL;
	if (!app->cfg.sqlite_batch || !uow_can_batch(probe))
		return SC_OK;
	(void)pthread_mutex_lock(&app->writer_lock);
	if (!app->writer_uow) {
		rc = open_store(app, &app->writer_uow, err);
		/* the writer's random index inserts: see sqlite_uow.h */
		if (!rc && app->sqlite)
			rc = sqlite_uow_set_cache(app->writer_uow,
						  WRITER_CACHE_KIB, err);
		if (!rc)
			rc = open_store(app, &app->syncer_uow, err);
		d.uow = app->writer_uow;
		d.signal = app->signal;
		d.metrics = &app->bus_metrics;
		if (!rc)
			rc = writer_start(&app->writer, &d, app->syncer_uow,
					  app->seed++, err);
		if (rc) {
			uow_free(app->syncer_uow);
			uow_free(app->writer_uow);
			app->syncer_uow = app->writer_uow = NULL;
		}
	}
	(void)pthread_mutex_unlock(&app->writer_lock);
	if (!rc)
		*out = &app->writer;
	return rc;
}

int bootstrap_worker_init(struct app *app, struct worker *w, struct sc_err *err)
{
	struct writer *writer = NULL;
	struct deps d = {0};
	int rc = open_store(app, &w->uow, err);

	if (!rc)
		rc = writer_for(app, w->uow, &writer, err);
	if (rc) {
		uow_free(w->uow);
		w->uow = NULL;
		return rc;
	}
	d.uow = w->uow;
	d.signal = app->signal;
	d.metrics = &app->bus_metrics;
	bus_init(&w->bus, &d, app->seed++);
	w->bus.writer = writer;
	w->writer = writer;
	arena_init(&w->scratch);
	w->delivery = &app->delivery;
	w->bus_metrics = &app->bus_metrics;
	w->publisher_kind = app->publisher->ops->name;
	w->notifier_kind = app->notifier->ops->name;
	return SC_OK;
}

void bootstrap_worker_release(struct worker *w)
{
	bus_release(&w->bus);
	arena_release(&w->scratch);
	uow_free(w->uow);
	w->uow = NULL;
}

void bootstrap_set_signal(struct app *app, struct outbox_signal *signal)
{
	app->signal = signal;
	(void)pthread_mutex_lock(&app->writer_lock);
	app->writer.bus.deps.signal = signal; /* before any command runs */
	(void)pthread_mutex_unlock(&app->writer_lock);
}

int bootstrap_relay_init(struct app *app, struct relay_worker *rw,
			 struct sc_err *err)
{
	int rc = open_store(app, &rw->uow, err);

	if (rc)
		return rc;
	relay_init(&rw->relay, rw->uow, app->publisher, app->notifier,
		   app->cfg.stock_email);
	rw->relay.status = &app->delivery;
	rw->relay.coalesce_s = app->cfg.stock_alert_window_s;
	return SC_OK;
}

int bootstrap_delivery_init(struct app *app, struct delivery_worker *dw,
			    struct sc_err *err)
{
	int rc = open_store(app, &dw->uow, err);

	if (rc)
		return rc;
	deliverer_init(&dw->deliverer, dw->uow, app->webhook, app->notifier,
		       app->seed++ * 0x9e3779b97f4a7c15ULL + 1);
	dw->deliverer.max_attempts = (unsigned)app->cfg.delivery_max_attempts;
	dw->deliverer.backoff_ms = (unsigned)app->cfg.delivery_backoff_ms;
	dw->deliverer.status = &app->delivery;
	return SC_OK;
}

void bootstrap_delivery_release(struct delivery_worker *dw)
{
	deliverer_release(&dw->deliverer);
	uow_free(dw->uow);
	dw->uow = NULL;
}

void bootstrap_relay_release(struct relay_worker *rw)
{
	relay_release(&rw->relay);
	uow_free(rw->uow);
	rw->uow = NULL;
}

const struct config *bootstrap_config(const struct app *app)
{
	return &app->cfg;
}
