/*
 * bootstrap.c - builds adapters from the configuration.
 */
#include "bootstrap.h"

#include <string.h>
#include <time.h>

#include "adapters/log/log_adapters.h"
#include "adapters/memory/memory_uow.h"
#include "adapters/sqlite/sqlite_uow.h"
#include "common/arena.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "service/notifier.h"
#include "service/publisher.h"
#include "service/uow.h"

struct app {
	struct config cfg;	     /* as loaded and overridden */
	struct memory_store *memory; /* for memory: */
	struct sqlite_db *sqlite;    /* for sqlite:, else NULL */
	struct notifier *notifier;   /* shared by workers */
	struct publisher *publisher; /* shared by workers */
	uint64_t seed;		     /* next worker's jitter seed */
};

typedef int store_open_fn(struct app *app, const char *rest, struct uow **out,
			  struct sc_err *err);

static int open_sqlite(struct app *app, const char *path, struct uow **out,
		       struct sc_err *err)
{
	struct sqlite_options opt = {
		.synchronous_full = app->cfg.sqlite_synchronous_full,
		.busy_timeout_ms = 10000,
	};
	int rc = SC_OK;

	if (!app->sqlite)
		rc = sqlite_db_open(path, &opt, &app->sqlite, err);
	return rc ? rc : sqlite_uow_new(app->sqlite, out, err);
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
};

static int open_store(struct app *app, struct uow **out, struct sc_err *err)
{
	const char *url = app->cfg.database_url;

	for (size_t i = 0; i < ARRAY_SIZE(stores); i++) {
		size_t n = strlen(stores[i].scheme);

		if (!strncmp(url, stores[i].scheme, n))
			return stores[i].open(app, url + n, out, err);
	}
	return err_set(err, SC_EINVAL, "store '%.60s' is not built in", url);
}

void bootstrap_close(struct app *app)
{
	if (!app)
		return;
	notifier_free(app->notifier);
	publisher_free(app->publisher);
	memory_store_free(app->memory);
	sqlite_db_close(app->sqlite);
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
	rc = memory_store_new(&app->memory, err);
	if (!rc)
		rc = log_notifier_new(&app->notifier, err);
	if (!rc)
		rc = log_publisher_new(&app->publisher, err);
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

int bootstrap_worker_init(struct app *app, struct worker *w, struct sc_err *err)
{
	struct deps d = {0};
	int rc = open_store(app, &w->uow, err);

	if (rc)
		return rc;
	d.uow = w->uow;
	d.notifier = app->notifier;
	d.publisher = app->publisher;
	d.stock_email = app->cfg.stock_email;
	bus_init(&w->bus, &d, app->seed++);
	arena_init(&w->scratch);
	return SC_OK;
}

void bootstrap_worker_release(struct worker *w)
{
	bus_release(&w->bus);
	arena_release(&w->scratch);
	uow_free(w->uow);
	w->uow = NULL;
}
