/*
 * entrypoints/http/guard.c - connection deadlines, limits and eviction.
 */
#include "entrypoints/http/guard.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "common/mem.h"

enum conn_state {
	WAIT_HEAD, /* idle or receiving a head: evictable */
	WAIT_BODY, /* head in, receiving a body */
	BUSY,	   /* request in, being handled: never cut */
	GONE	   /* closed by the guard; waiting for guard_closed */
};

struct guard_conn {
	struct guard_conn *prev; /* list of open connections */
	struct guard_conn *next; /* list of open connections */
	int fd;			 /* the socket */
	uint8_t ip[16];		 /* peer address, IPv4 as v4-mapped v6 */
	enum conn_state state;	 /* see above */
	uint64_t since_ms;	 /* when the current state began */
};

struct guard {
	pthread_mutex_t lock;	  /* guards everything below */
	struct guard_limits lim;  /* as given */
	guard_close_fn *close;	  /* closes a socket */
	void *ctx;		  /* for close */
	struct guard_conn head;	  /* sentinel of the list */
	struct guard_stats stats; /* counters */
};

int guard_new(const struct guard_limits *lim, guard_close_fn *close, void *ctx,
	      struct guard **out, struct sc_err *err)
{
	struct guard *g = mem_calloc(1, sizeof(*g));

	if (!g)
		return err_set(err, SC_ENOMEM, "out of memory");
	(void)pthread_mutex_init(&g->lock, NULL);
	g->lim = *lim;
	g->close = close;
	g->ctx = ctx;
	g->head.next = g->head.prev = &g->head;
	*out = g;
	return SC_OK;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	while (g->head.next != &g->head)
		guard_closed(g, g->head.next);
	(void)pthread_mutex_destroy(&g->lock);
	mem_free(g);
}

static void ip_of(const struct sockaddr *addr, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (addr && addr->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)addr;

		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &v4->sin_addr, 4);
	} else if (addr && addr->sa_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
	}
}

/* Close @c through the callback; it stays listed until guard_closed. */
static void cut(struct guard *g, struct guard_conn *c)
{
	c->state = GONE;
	g->stats.open--;
	g->close(g->ctx, c->fd);
}

/*
 * The connection waiting longest for a head (from @ip when not NULL),
 * or NULL.  A linear scan: the list is bounded by conn_max.
 */
static struct guard_conn *idlest(struct guard *g, const uint8_t *ip,
				 size_t *n_same)
{
	struct guard_conn *best = NULL;

	*n_same = 0;
	for (struct guard_conn *c = g->head.next; c != &g->head; c = c->next) {
		if (c->state == GONE || (ip && memcmp(c->ip, ip, 16) != 0))
			continue;
		(*n_same)++;
		if (c->state == WAIT_HEAD &&
		    (!best || c->since_ms < best->since_ms))
			best = c;
	}
	return best;
}

/*
 * Make room for newcomer @c (listed as GONE, so not counted); false when
 * nothing could go.
 */
static bool make_room(struct guard *g, struct guard_conn *c)
{
	struct guard_conn *victim;
	size_t n;

	victim = idlest(g, c->ip, &n);
	if (n >= g->lim.per_ip_max) {
		if (!victim)
			return false;
		cut(g, victim);
		g->stats.evicted++;
	}
	if (g->stats.open >= g->lim.conn_max) {
		victim = idlest(g, NULL, &n);
		if (!victim)
			return false;
		cut(g, victim);
		g->stats.evicted++;
	}
	return true;
}

struct guard_conn *guard_opened(struct guard *g, int fd,
				const struct sockaddr *addr, uint64_t now_ms)
{
	struct guard_conn *c = mem_calloc(1, sizeof(*c));

	(void)pthread_mutex_lock(&g->lock);
	if (!c) {
		g->close(g->ctx, fd);
		(void)pthread_mutex_unlock(&g->lock);
		return NULL;
	}
	c->fd = fd;
	ip_of(addr, c->ip);
	c->since_ms = now_ms;
	c->next = &g->head;
	c->prev = g->head.prev;
	g->head.prev->next = c;
	g->head.prev = c;
	c->state = GONE; /* not counted by make_room's totals */
	if (make_room(g, c)) {
		c->state = WAIT_HEAD;
		g->stats.open++;
	} else {
		g->stats.refused++;
		g->close(g->ctx, fd);
	}
	(void)pthread_mutex_unlock(&g->lock);
	return c;
}

void guard_closed(struct guard *g, struct guard_conn *c)
{
	if (!c)
		return;
	(void)pthread_mutex_lock(&g->lock);
	if (c->state != GONE)
		g->stats.open--;
	c->prev->next = c->next;
	c->next->prev = c->prev;
	(void)pthread_mutex_unlock(&g->lock);
	mem_free(c);
}

static void set_state(struct guard *g, struct guard_conn *c, enum conn_state s,
		      uint64_t now_ms)
{
	if (!c)
		return;
	(void)pthread_mutex_lock(&g->lock);
	if (c->state != GONE) {
		c->state = s;
		c->since_ms = now_ms;
	}
	(void)pthread_mutex_unlock(&g->lock);
}

void guard_head_done(struct guard *g, struct guard_conn *c, uint64_t now_ms)
{
	set_state(g, c, WAIT_BODY, now_ms);
}

void guard_busy(struct guard *g, struct guard_conn *c)
{
	set_state(g, c, BUSY, 0);
}

void guard_idle(struct guard *g, struct guard_conn *c, uint64_t now_ms)
{
	set_state(g, c, WAIT_HEAD, now_ms);
}

void guard_tick(struct guard *g, uint64_t now_ms)
{
	(void)pthread_mutex_lock(&g->lock);
	for (struct guard_conn *c = g->head.next; c != &g->head; c = c->next) {
		uint64_t limit = c->state == WAIT_HEAD	 ? g->lim.head_ms
				 : c->state == WAIT_BODY ? g->lim.body_ms
							 : 0;

		if (limit && now_ms - c->since_ms >= limit) {
			cut(g, c);
			g->stats.timed_out++;
		}
	}
	(void)pthread_mutex_unlock(&g->lock);
}

void guard_get_stats(struct guard *g, struct guard_stats *out)
{
	(void)pthread_mutex_lock(&g->lock);
	*out = g->stats;
	(void)pthread_mutex_unlock(&g->lock);
}
