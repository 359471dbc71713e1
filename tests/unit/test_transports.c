/*
 * tests/unit/test_transports.c - the error paths of the Redis publisher
 * and the SMTP notifier that need no server: bad URLs and addresses,
 * header injection, and a closed loopback port (connection refused).
 * The happy paths run against real servers in tests/integration.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <string.h>

#include "adapters/redis/redis_publisher.h"
#include "adapters/smtp/smtp_notifier.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/url.h"
#include "domain/messages.h"
#include "service/notifier.h"
#include "service/publisher.h"
#include "support/cmocka.h"

/* Port 1 on loopback: nothing listens there, so connects are refused. */
#define CLOSED "127.0.0.1:1"

static void redis_urls_are_checked(void **state)
{
	struct redis_target t;
	struct sc_err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(redis_target_parse("redis://cache:6380/0", &t, &err),
			 SC_OK);
	assert_string_equal(t.host, "cache");
	assert_int_equal(t.port, 6380);
	assert_int_equal(t.db, 0);
	assert_string_equal(t.password, "");
	assert_int_equal(redis_target_parse("redis://cache", &t, &err), SC_OK);
	assert_int_equal(t.port, 6379);
	/* a password alone (AUTH pw), and an ACL user with one, decoded */
	assert_int_equal(
		redis_target_parse("redis://:s%40cret@h:7000/3", &t, &err),
		SC_OK);
	assert_string_equal(t.user, "");
	assert_string_equal(t.password, "s@cret");
	assert_int_equal(t.db, 3);
	assert_int_equal(
		redis_target_parse("redis://app:pw@[::1]:7000", &t, &err),
		SC_OK);
	assert_string_equal(t.user, "app");
	assert_string_equal(t.password, "pw");
	assert_string_equal(t.host, "::1");
	static const char *const bad[] = {
		"http://x",    "redis://",	  "redis://:1",
		"redis://h:0", "redis://h:99999", "redis://h:12x",
		"redis://h/x", "redis://:pw@h/-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&err);
		assert_int_equal(redis_target_parse(bad[i], &t, &err),
				 SC_EINVAL);
		assert_null(strstr(err.msg, "pw"));
	}
}

static void urls_are_shown_without_their_password(void **state)
{
	char out[200];

	(void)state;
	assert_string_equal(
		url_redact("smtp://u:hunter2@mail:25", out, sizeof(out)),
		"smtp://u:***@mail:25/");
	assert_string_equal(url_redact("postgresql://app:p%40ss@db:5432/x", out,
				       sizeof(out)),
			    "postgresql://app:***@db:5432/x");
	assert_string_equal(url_redact("redis://h:6379", out, sizeof(out)),
			    "redis://h:6379/");
	assert_string_equal(url_redact("sqlite:var/x.db", out, sizeof(out)),
			    "sqlite:var/x.db");
	assert_string_equal(url_redact("redis://:pw@[bad", out, sizeof(out)),
			    "<unparsable url>");
}

static void redis_down_is_eio_and_the_next_publish_retries(void **state)
{
	struct msg ev = {.type = MSG_ALLOCATED};
	struct publisher *p;
	struct sc_err err;

	(void)state;
	ev.u.allocated.orderid = "o1";
	ev.u.allocated.sku = "S";
	ev.u.allocated.qty = 1;
	ev.u.allocated.batchref = "b1";
	err_clear(&err);
	assert_int_equal(redis_publisher_new("redis://" CLOSED, &p, &err),
			 SC_OK);
	assert_int_equal(publisher_publish(p, "line_allocated", 1, &ev, &err),
			 SC_EIO);
	assert_non_null(strstr(err.msg, "redis 127.0.0.1:1"));
	err_clear(&err);
	assert_int_equal(publisher_publish(p, "line_allocated", 1, &ev, &err),
			 SC_EIO); /* reconnects each time, fails cleanly */
	publisher_free(p);
}

static void smtp_settings_are_checked(void **state)
{
	struct notifier *n;
	struct sc_err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(smtp_notifier_new("http://x", "a@b.example", &n, &err),
			 SC_EINVAL);
	err_clear(&err);
	assert_int_equal(
		smtp_notifier_new("smtp://" CLOSED, "not-an-address", &n, &err),
		SC_EINVAL);
	err_clear(&err);
	assert_int_equal(smtp_notifier_new("smtp://" CLOSED, "a@b.example\r\n",
					   &n, &err),
			 SC_EINVAL);
}

static void smtp_refuses_header_injection_and_reports_a_dead_server(void **s)
{
	struct notifier *n;
	struct sc_err err;

	(void)s;
	err_clear(&err);
	assert_int_equal(smtp_notifier_new("smtp://" CLOSED,
					   "allocations@example.com", &n, &err),
			 SC_OK);
	assert_int_equal(notifier_send(n, "a@b.example\r\nBcc: x@y.example",
				       "Out of stock for S", &err),
			 SC_EINVAL);
	assert_string_equal(err.msg, "bad recipient address");
	err_clear(&err);
	assert_int_equal(notifier_send(n, "stock@scents.example",
				       "Out of stock for S", &err),
			 SC_EIO);
	assert_non_null(strstr(err.msg, "smtp smtp://127.0.0.1:1"));
	notifier_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(redis_urls_are_checked),
		cmocka_unit_test(urls_are_shown_without_their_password),
		cmocka_unit_test(
			redis_down_is_eio_and_the_next_publish_retries),
		cmocka_unit_test(smtp_settings_are_checked),
		cmocka_unit_test(
			smtp_refuses_header_injection_and_reports_a_dead_server),
	};
	int rc;

	json_set_alloc_funcs(mem_alloc, mem_free);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	rc = cmocka_run_group_tests_name("test_transports", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
