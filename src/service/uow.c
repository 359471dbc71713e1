/*
 * service/uow.c - the wrappers of the unit-of-work port: seen-tracking and
 * the identity map, common to every adapter.
 */
#include "service/uow.h"

#include <assert.h>
#include <string.h>

#include "common/arena.h"
#include "domain/model.h"

static struct product *find_seen(struct uow *u, const char *sku)
{
	for (size_t i = 0; i < u->n_seen; i++)
		if (!strcmp(u->seen[i]->sku, sku))
			return u->seen[i];
	return NULL;
}

static int track(struct uow *u, struct product *p, struct sc_err *err)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
	size_t size = sizeof(*u->seen);

	if (arena_reserve(u->arena, (void **)&u->seen, &u->cap_seen,
			  u->n_seen + 1, size))
		return err_set(err, SC_ENOMEM, "out of memory");
	u->seen[u->n_seen++] = p;
	return SC_OK;
}

int uow_begin(struct uow *u, struct arena *a, struct sc_err *err)
{
	int rc;

	assert(!u->active);
	u->arena = a;
	u->seen = NULL;
	u->n_seen = 0;
	u->cap_seen = 0;
	rc = u->ops->begin(u, err);
	if (!rc)
		u->active = true;
	return rc;
}

int repo_get(struct uow *u, const char *sku, const struct load_hint *hint,
	     struct product **out, struct sc_err *err)
{
	struct product *p;
	int rc;

	assert(u->active);
	p = find_seen(u, sku);
	if (p) {
		*out = p;
		return SC_OK;
	}
	rc = u->ops->get(u, sku, hint, &p, err);
	if (!rc)
		rc = track(u, p, err);
	if (!rc)
		*out = p;
	return rc;
}

int repo_sku_of_batch(struct uow *u, const char *ref, const char **out,
		      struct sc_err *err)
{
	assert(u->active);
	for (size_t i = 0; i < u->n_seen; i++)
		if (product_find_batch(u->seen[i], ref)) {
			*out = u->seen[i]->sku;
			return SC_OK;
		}
	return u->ops->sku_of_batch(u, ref, out, err);
}

int repo_get_by_batchref(struct uow *u, const char *ref, struct product **out,
			 struct sc_err *err)
{
	struct load_hint hint = {.lines_of = ref};
	const char *sku;
	int rc = repo_sku_of_batch(u, ref, &sku, err);

	if (!rc)
		rc = repo_get(u, sku, &hint, out, err);
	return rc;
}

int repo_add(struct uow *u, struct product *p, struct sc_err *err)
{
	assert(u->active && !find_seen(u, p->sku));
	return track(u, p, err);
}

int uow_commit(struct uow *u, struct sc_err *err)
{
	int rc;

	assert(u->active);
	rc = u->ops->commit(u, err);
	if (!rc)
		u->active = false;
	return rc;
}

void uow_rollback(struct uow *u)
{
	if (!u->active)
		return;
	u->ops->rollback(u);
	u->active = false;
	u->n_seen = 0;
}
