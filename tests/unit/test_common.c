/*
 * tests/unit/test_common.c - arena, errors, log escaping, dates, ids,
 * configuration.
 */
#include <stdint.h>
#include <string.h>

#include "common/arena.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "domain/date.h"
#include "domain/model.h"
#include "support/cmocka.h"
#include "support/fakes.h"

static void arena_hands_out_aligned_distinct_memory(void **state)
{
	struct arena a;
	char *p, *q;

	(void)state;
	arena_init(&a);
	p = arena_alloc(&a, 3);
	q = arena_alloc(&a, 100000); /* larger than a chunk */
	assert_non_null(p);
	assert_non_null(q);
	assert_int_equal((uintptr_t)q % _Alignof(max_align_t), 0);
	memset(q, 1, 100000);
	assert_string_equal(arena_strdup(&a, "scent"), "scent");
	assert_string_equal(arena_strndup(&a, "scented", 5), "scent");
	arena_reset(&a);
	assert_int_equal(a.n_bytes, 0);
	assert_non_null(arena_alloc(&a, 10));
	arena_release(&a);
}

static void arena_reserve_grows_and_keeps_contents(void **state)
{
	struct arena a;
	int *v = NULL;
	size_t cap = 0;

	(void)state;
	arena_init(&a);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(arena_reserve(&a, (void **)&v, &cap,
					       (size_t)i + 1, sizeof(*v)),
				 0);
		v[i] = i;
	}
	for (int i = 0; i < 1000; i++)
		assert_int_equal(v[i], i);
	assert_int_equal(
		arena_reserve(&a, (void **)&v, &cap, SIZE_MAX, sizeof(*v)), -1);
	arena_release(&a);
}

static void arena_reports_out_of_memory(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a);
	fault_mem_arm(0);
	assert_null(arena_alloc(&a, 10));
	fault_mem_disarm();
	arena_release(&a);
}

static void first_error_cause_wins(void **state)
{
	struct sc_err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(err_set(&err, SC_EIO, "disk %s", "full"), SC_EIO);
	assert_int_equal(err_set(&err, SC_EINVAL, "later"), SC_EINVAL);
	assert_int_equal(err.code, SC_EIO);
	assert_string_equal(err.msg, "disk full");
	assert_string_equal(err_name(SC_ECONFLICT), "econflict");
}

static void log_escape_hides_control_bytes(void **state)
{
	char out[64];
	const char in[] = "a\"b\\\n\x01\xff";

	(void)state;
	assert_string_equal(log_escape(in, sizeof(in) - 1, out, sizeof(out)),
			    "a\\x22b\\x5c\\x0a\\x01\\xff");
	assert_string_equal(log_escape("abcdef", 6, out, 4), "abc");
}

static void dates_parse_only_real_calendar_days(void **state)
{
	char buf[DATE_STR_MAX];
	int32_t d;

	(void)state;
	assert_true(date_parse("1970-01-01", &d));
	assert_int_equal(d, 0);
	assert_true(date_parse("2024-02-29", &d));
	date_format(d, buf);
	assert_string_equal(buf, "2024-02-29");
	assert_false(date_parse("2023-02-29", &d));
	assert_false(date_parse("2023-13-01", &d));
	assert_false(date_parse("2023-1-01", &d));
	assert_false(date_parse("2023-01-01T00", &d));
	assert_false(date_parse("", &d));
	assert_false(date_parse("0000-01-01", &d));
}

static void ids_must_be_printable_utf8(void **state)
{
	char big[300];

	(void)state;
	assert_true(ident_valid("SEA-BREEZE", 10));
	assert_true(ident_valid("caf\xc3\xa9", 5));
	assert_false(ident_valid("", 0));
	assert_false(ident_valid("a\nb", 3));
	assert_false(ident_valid("a\x7f", 2));
	assert_false(ident_valid("\xc3", 1));	      /* truncated */
	assert_false(ident_valid("\xc0\xaf", 2));     /* overlong */
	assert_false(ident_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(ident_valid("\xc2\x85", 2));     /* C1 control */
	assert_false(ident_valid("a\0b", 3));
	memset(big, 'x', sizeof(big));
	assert_true(ident_valid(big, 255));
	assert_false(ident_valid(big, 256));
}

static const char *env_of(void *ctx, const char *name)
{
	const char *const *kv = ctx;

	for (; *kv; kv += 2)
		if (!strcmp(kv[0], name))
			return kv[1];
	return NULL;
}

static void config_has_documented_defaults(void **state)
{
	const char *env[] = {NULL};
	struct config c;
	struct sc_err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(config_load_from(&c, env_of, (void *)env, &err),
			 SC_OK);
	assert_string_equal(c.database_url, "sqlite:var/scents.db");
	assert_string_equal(c.http_host, "127.0.0.1");
	assert_int_equal(c.http_port, 5005);
	assert_string_equal(c.redis_url, "");
	assert_string_equal(c.smtp_url, "");
	assert_string_equal(c.stock_email, "stock@scents.example");
	assert_string_equal(c.from_email, "allocations@example.com");
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(c.sqlite_synchronous_full, 1);
	assert_int_equal(c.sqlite_group_commit, 1);
	assert_int_equal(c.pg_row_lock, 0);  /* optimistic, lock on retry */
	assert_int_equal(c.sqlite_batch, 1); /* decisions/0013 */
}

static void config_rejects_bad_values_with_the_variable_named(void **state)
{
	const char *port[] = {"HTTP_PORT", "70000", NULL};
	const char *db[] = {"DATABASE_URL", "mysql://x", NULL};
	const char *lvl[] = {"LOG_LEVEL", "loud", NULL};
	const char *mail[] = {"STOCK_EMAIL", "a@b\r\nBcc: x", NULL};
	struct config c;
	struct sc_err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(config_load_from(&c, env_of, (void *)port, &err),
			 SC_EINVAL);
	assert_string_equal(err.msg, "HTTP_PORT must be 0 to 65535, not "
				     "'70000'");
	err_clear(&err);
	assert_int_equal(config_load_from(&c, env_of, (void *)db, &err),
			 SC_EINVAL);
	assert_non_null(strstr(err.msg, "DATABASE_URL"));
	err_clear(&err);
	assert_int_equal(config_load_from(&c, env_of, (void *)lvl, &err),
			 SC_EINVAL);
	err_clear(&err);
	assert_int_equal(config_load_from(&c, env_of, (void *)mail, &err),
			 SC_EINVAL);
	static const char *const more[][3] = {
		{"REDIS_URL", "http://cache", NULL},
		{"SMTP_URL", "mail.example:25", NULL},
		{"HTTP_THREADS", "0", NULL},
		{"HTTP_THREADS", "65", NULL},
		{"HTTP_THREADS", "4x", NULL},
		{"SQLITE_SYNCHRONOUS", "OFF", NULL},
		{"SQLITE_GROUP_COMMIT", "yes", NULL},
		{"FROM_EMAIL", "two@at@signs", NULL},
		{"PG_LOCKING", "pessimistic", NULL},
		{"SQLITE_BATCH", "yes", NULL},
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		const char *kv[] = {more[i][0], more[i][1], NULL};

		err_clear(&err);
		assert_int_equal(config_load_from(&c, env_of, (void *)kv, &err),
				 SC_EINVAL);
		assert_non_null(strstr(err.msg, more[i][0]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arena_hands_out_aligned_distinct_memory),
		cmocka_unit_test(arena_reserve_grows_and_keeps_contents),
		cmocka_unit_test(arena_reports_out_of_memory),
		cmocka_unit_test(first_error_cause_wins),
		cmocka_unit_test(log_escape_hides_control_bytes),
		cmocka_unit_test(dates_parse_only_real_calendar_days),
		cmocka_unit_test(ids_must_be_printable_utf8),
		cmocka_unit_test(config_has_documented_defaults),
		cmocka_unit_test(
			config_rejects_bad_values_with_the_variable_named),
	};

	return cmocka_run_group_tests_name("test_common", tests, NULL, NULL);
}
