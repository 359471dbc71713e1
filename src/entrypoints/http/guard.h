/*
 * entrypoints/http/guard.h - connection deadlines and limits that
 * libmicrohttpd lacks: slow clients are cut off, and a full server makes
 * room for a newcomer by closing the connection that has waited longest
 * without sending a request, instead of refusing the newcomer.
 *
 * libmicrohttpd's own timeout fires only after a silence, so a client
 * trickling a byte every few seconds holds its connection for ever, and
 * 256 of them from one address lock that address (a shared NAT, or
 * loopback) out.  The guard gives each request a deadline for its head
 * (GUARD_HEAD_MS, counted from when the connection became idle, so it also
 * bounds keep-alive idling) and one for its body (GUARD_BODY_MS).
 * Connections whose request is being handled are never cut.
 *
 * Pure bookkeeping: closing is done through the guard_close_fn given
 * (shutdown(2) in the server), so the policy is unit-tested with a fake
 * clock.  Thread-safe: every call takes the guard's lock, and
 * guard_close_fn runs under it, before the connection's own close
 * notification can free its handle.
 */
#ifndef SCENTS_ENTRYPOINTS_HTTP_GUARD_H
#define SCENTS_ENTRYPOINTS_HTTP_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct guard;
struct guard_conn;
struct sc_err;
struct sockaddr;

/* Whole request head, counted from connection start or last response. */
#define GUARD_HEAD_MS 10000
/* Whole request body, counted from the end of its head. */
#define GUARD_BODY_MS 10000

/* Limits and deadlines; see the defaults above and server.h. */
struct guard_limits {
	size_t conn_max;   /* open connections in all */
	size_t per_ip_max; /* open connections from one address */
	uint64_t head_ms;  /* deadline for a request head */
	uint64_t body_ms;  /* deadline for a request body */
};

/* Close connection @fd now (the guard forgets it only at guard_closed). */
typedef void guard_close_fn(void *ctx, int fd);

/* Counters, for logs and tests. */
struct guard_stats {
	size_t open;	    /* connections open, evicted ones excluded */
	uint64_t evicted;   /* closed to make room for a newcomer */
	uint64_t refused;   /* newcomers closed: nothing could be evicted */
	uint64_t timed_out; /* closed past a head or body deadline */
};

/* A guard closing through @close(@ctx, fd).  SC_ENOMEM. */
int guard_new(const struct guard_limits *lim, guard_close_fn *close, void *ctx,
	      struct guard **out /* OUT */, struct sc_err *err);

/* Release @g; every connection must have been closed.  NULL: no-op. */
void guard_free(struct guard *g);

/*
 * A connection on @fd from @addr opened at @now_ms.  Makes room by
 * evicting the connection idle longest (from the same address when that
 * address is at its limit), or closes this one when nothing can go.
 * Returns its handle, or NULL when out of memory (it is then closed).
 */
struct guard_conn *guard_opened(struct guard *g, int fd,
				const struct sockaddr *addr, uint64_t now_ms);

/* @c's socket is gone: forget it.  NULL is a no-op. */
void guard_closed(struct guard *g, struct guard_conn *c);

/* @c's request head is in; its body (if any) is due within body_ms. */
void guard_head_done(struct guard *g, struct guard_conn *c, uint64_t now_ms);

/* @c's whole request is in and being handled: no deadline. */
void guard_busy(struct guard *g, struct guard_conn *c);

/* @c answered; its next request head is due within head_ms. */
void guard_idle(struct guard *g, struct guard_conn *c, uint64_t now_ms);

/* Close every connection past its deadline at @now_ms. */
void guard_tick(struct guard *g, uint64_t now_ms);

/* Current counters. */
void guard_get_stats(struct guard *g, struct guard_stats *out /* OUT */);

#endif
