/*
 * tests/unit/test_guard.c - the connection guard's policy with a fake
 * clock and a close function that records what it closed: deadlines for
 * heads and bodies, limits in all and per address, and eviction of the
 * connection idle longest instead of refusing a newcomer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "entrypoints/http/guard.h"
#include "support/cmocka.h"

/* What the guard closed, in order. */
struct closed {
	int fds[64];
	size_t n;
};

static void record(void *ctx, int fd)
{
	struct closed *c = ctx;

	c->fds[c->n++] = fd;
}

static struct sockaddr_in addr(const char *ip)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static struct guard *guard(size_t conn_max, size_t per_ip, struct closed *c)
{
	struct guard_limits lim = {conn_max, per_ip, 1000, 2000};
	struct guard *g;
	struct sc_err err;

	memset(c, 0, sizeof(*c));
	assert_int_equal(guard_new(&lim, record, c, &g, &err), SC_OK);
	return g;
}

static struct guard_conn *open_at(struct guard *g, int fd, const char *ip,
				  uint64_t now)
{
	struct sockaddr_in a = addr(ip);

	return guard_opened(g, fd, (struct sockaddr *)&a, now);
}

static void heads_and_bodies_have_deadlines_handled_requests_none(void **st)
{
	struct closed c;
	struct guard *g = guard(10, 10, &c);
	struct guard_conn *idle = open_at(g, 3, "10.0.0.1", 0);
	struct guard_conn *body = open_at(g, 4, "10.0.0.1", 0);
	struct guard_conn *busy = open_at(g, 5, "10.0.0.1", 0);
	struct guard_stats s;

	(void)st;
	guard_head_done(g, body, 500);
	guard_head_done(g, busy, 500);
	guard_busy(g, busy);
	guard_tick(g, 999);
	assert_int_equal(c.n, 0);
	guard_tick(g, 1000); /* the head is due within 1000 ms */
	assert_int_equal(c.n, 1);
	assert_int_equal(c.fds[0], 3);
	guard_tick(g, 2499);
	assert_int_equal(c.n, 1);
	guard_tick(g, 2500); /* the body within 2000 ms of its head */
	assert_int_equal(c.n, 2);
	assert_int_equal(c.fds[1], 4);
	guard_tick(g, 1000000); /* a request being handled is never cut */
	assert_int_equal(c.n, 2);
	guard_idle(g, busy, 1000000); /* answered: its next head is due */
	guard_tick(g, 1001000);
	assert_int_equal(c.n, 3);
	guard_get_stats(g, &s);
	assert_int_equal(s.timed_out, 3);
	assert_int_equal(s.open, 0);
	guard_closed(g, idle);
	guard_closed(g, body);
	guard_closed(g, busy);
	guard_free(g);
}

static void a_full_address_evicts_its_idlest_not_the_newcomer(void **st)
{
	struct closed c;
	struct guard *g = guard(100, 3, &c);
	struct guard_conn *a = open_at(g, 10, "10.0.0.1", 0);
	struct guard_conn *b = open_at(g, 11, "10.0.0.1", 5);
	struct guard_conn *d = open_at(g, 12, "10.0.0.1", 7);
	struct guard_conn *other = open_at(g, 20, "10.0.0.2", 1);
	struct guard_conn *e;
	struct guard_stats s;

	(void)st;
	guard_idle(g, a,
		   8); /* a answered at 8: b (waiting since 5) is idlest */
	e = open_at(g, 13, "10.0.0.1", 9);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.fds[0], 11);
	guard_get_stats(g, &s);
	assert_int_equal(s.open, 4);
	assert_int_equal(s.evicted, 1);
	/* all busy at that address: the newcomer is the one refused */
	guard_busy(g, a);
	guard_busy(g, d);
	guard_busy(g, e);
	guard_closed(g, open_at(g, 14, "10.0.0.1", 10));
	assert_int_equal(c.n, 2);
	assert_int_equal(c.fds[1], 14);
	guard_get_stats(g, &s);
	assert_int_equal(s.refused, 1);
	guard_closed(g, a);
	guard_closed(g, b);
	guard_closed(g, d);
	guard_closed(g, e);
	guard_closed(g, other);
	guard_free(g);
}

static void a_full_server_evicts_the_idlest_of_all(void **st)
{
	struct closed c;
	struct guard *g = guard(2, 10, &c);
	struct guard_conn *a = open_at(g, 30, "10.0.0.1", 3);
	struct guard_conn *b = open_at(g, 31, "10.0.0.2", 1);
	struct guard_conn *n = open_at(g, 32, "10.0.0.3", 4);
	struct guard_stats s;

	(void)st;
	assert_int_equal(c.n, 1);
	assert_int_equal(c.fds[0], 31); /* idle since 1 */
	guard_get_stats(g, &s);
	assert_int_equal(s.open, 2);
	guard_tick(g, 2000); /* an evicted one is not cut twice */
	assert_int_equal(c.n, 3);
	assert_int_equal(c.fds[1], 30);
	assert_int_equal(c.fds[2], 32);
	guard_closed(g, a);
	guard_closed(g, b);
	guard_closed(g, n);
	guard_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			heads_and_bodies_have_deadlines_handled_requests_none),
		cmocka_unit_test(
			a_full_address_evicts_its_idlest_not_the_newcomer),
		cmocka_unit_test(a_full_server_evicts_the_idlest_of_all),
	};

	return cmocka_run_group_tests_name("test_guard", tests, NULL, NULL);
}
