/*
 * tests/support/faulty_uow.c - forwarding with injected faults.
 */
#include "support/faulty_uow.h"

#include <string.h>

static struct faulty_uow *to_faulty(struct uow *u)
{
	return (struct faulty_uow *)u;
}

/* Give the inner adapter the wrapper's transaction state. */
static struct uow *sync(struct faulty_uow *f)
{
	f->inner->arena = f->base.arena;
	f->inner->seen = f->base.seen;
	f->inner->n_seen = f->base.n_seen;
	f->inner->cap_seen = f->base.cap_seen;
	return f->inner;
}

static int fault(struct faulty_uow *f, struct sc_err *err)
{
	if (f->n_calls++ == f->fail_call)
		return err_set(err, SC_EIO, "injected fault at call %ld",
			       f->n_calls - 1);
	return SC_OK;
}

static int f_begin(struct uow *u, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->begin(sync(f), err);
}

static int f_get(struct uow *u, const char *sku, const struct load_hint *h,
		 struct product **out, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->get(sync(f), sku, h, out, err);
}

static int f_sku_of_batch(struct uow *u, const char *ref, const char **out,
			  struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->sku_of_batch(sync(f), ref, out, err);
}

static int f_commit(struct uow *u, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	if (rc)
		return rc;
	if (f->races > 0 && f->rival) {
		f->races--;
		f->rival(f->rival_ctx);
	}
	return f->inner->ops->commit(sync(f), err);
}

static void f_rollback(struct uow *u)
{
	struct faulty_uow *f = to_faulty(u);

	f->inner->ops->rollback(sync(f));
}

static int f_allocations(struct uow *u, const char *orderid, struct arena *a,
			 struct allocation_row **out, size_t *n,
			 struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc
		  : f->inner->ops->allocations(f->inner, orderid, a, out, n,
					       err);
}

static int f_outbox_add(struct uow *u, const struct msg *ev, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->outbox_add(sync(f), ev, err);
}

static int f_outbox_pending(struct uow *u, size_t limit, struct arena *a,
			    struct outbox_item **out, size_t *n,
			    struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc
		  : f->inner->ops->outbox_pending(f->inner, limit, a, out, n,
						  err);
}

static int f_outbox_mark(struct uow *u, const int64_t *ids, size_t n, bool sent,
			 struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc
		  : f->inner->ops->outbox_mark(f->inner, ids, n, sent, err);
}

static int f_research_add(struct uow *u, const struct research_round *r,
			  int64_t *id, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->research_add(sync(f), r, id, err);
}

static int f_research_round(struct uow *u, int64_t id, struct arena *a,
			    struct research_round **out, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc
		  : f->inner->ops->research_round(f->inner, id, a, out, err);
}

static int f_research_history(struct uow *u, const char *sku, size_t limit,
			      struct arena *a, struct sku_history *out,
			      struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc
		  : f->inner->ops->research_history(sync(f), sku, limit, a, out,
						    err);
}

static int f_read_product(struct uow *u, const char *sku, struct arena *a,
			  struct product **out, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc
		  : f->inner->ops->read_product(f->inner, sku, a, out, err);
}

static int f_list_products(struct uow *u, const char *after, size_t limit,
			   struct arena *a, struct product_list *out,
			   struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc
		  : f->inner->ops->list_products(f->inner, after, limit, a, out,
						 err);
}

static int f_token_add(struct uow *u, const struct token_record *t,
		       struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->token_add(sync(f), t, err);
}

static int f_token_revoke(struct uow *u, const char *name, int64_t at,
			  struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->token_revoke(sync(f), name, at, err);
}

static int f_token_list(struct uow *u, struct arena *a,
			struct token_record **out, size_t *n_out,
			struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc
		  : f->inner->ops->token_list(f->inner, a, out, n_out, err);
}

static int f_stats(struct uow *u, struct store_stats *out, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->stats(f->inner, out, err);
}

static int f_check(struct uow *u, bool repair, struct arena *a,
		   struct check_report *out, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->check(f->inner, repair, a, out, err);
}

static int f_backup(struct uow *u, const char *path, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->backup(f->inner, path, err);
}

static int f_probe_write(struct uow *u, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->probe_write(f->inner, err);
}

static int f_outbox_stats(struct uow *u, int64_t *n_out, int64_t *oldest_out,
			  struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc
		  : f->inner->ops->outbox_stats(f->inner, n_out, oldest_out,
						err);
}

static int f_ping(struct uow *u, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	return rc ? rc : f->inner->ops->ping(f->inner, err);
}

static void f_free(struct uow *u)
{
	(void)u;
}

static const struct uow_ops faulty_ops = {
	.name = "faulty",
	.begin = f_begin,
	.get = f_get,
	.sku_of_batch = f_sku_of_batch,
	.commit = f_commit,
	.rollback = f_rollback,
	.allocations = f_allocations,
	.outbox_add = f_outbox_add,
	.outbox_pending = f_outbox_pending,
	.outbox_mark = f_outbox_mark,
	.research_add = f_research_add,
	.research_round = f_research_round,
	.research_history = f_research_history,
	.read_product = f_read_product,
	.list_products = f_list_products,
	.token_add = f_token_add,
	.token_revoke = f_token_revoke,
	.token_list = f_token_list,
	.ping = f_ping,
	.stats = f_stats,
	.check = f_check,
	.backup = f_backup,
	.probe_write = f_probe_write,
	.outbox_stats = f_outbox_stats,
	.free = f_free,
};

void faulty_uow_init(struct faulty_uow *f, struct uow *inner)
{
	memset(f, 0, sizeof(*f));
	f->base.ops = &faulty_ops;
	f->inner = inner;
	f->fail_call = -1;
}
