/*
 * tests/unit/test_html.c - the dashboard's page buffer (issue 17): text
 * from the store is escaped wherever it goes, URLs are percent-encoded,
 * long formatted output is whole, and an allocation failure loses the
 * page instead of sending half of one.
 */
#include <string.h>

#include "common/mem.h"
#include "entrypoints/dashboard/html.h"
#include "support/cmocka.h"
#include "support/fakes.h"

static void text_is_escaped(void **state)
{
	struct html h = {0};
	char *s;

	(void)state;
	html_raw(&h, "<p title=\"");
	html_text(&h, "a\"b'<c>&d");
	html_raw(&h, "\">");
	html_text(&h, "<script>alert(1)</script>");
	html_raw(&h, "</p>");
	s = html_take(&h);
	assert_string_equal(s, "<p title=\"a&quot;b&#39;&lt;c&gt;&amp;d\">"
			       "&lt;script&gt;alert(1)&lt;/script&gt;</p>");
	mem_free(s);
}

static void urls_are_percent_encoded(void **state)
{
	struct html h = {0};
	char *s;

	(void)state;
	html_url(&h, "SEA BREEZE/1?&=é~._-");
	s = html_take(&h);
	assert_string_equal(s, "SEA%20BREEZE%2F1%3F%26%3D%C3%A9~._-");
	mem_free(s);
}

static void long_output_is_whole(void **state)
{
	struct html h = {0};
	char big[5000];
	char *s;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	html_rawf(&h, "[%s]%d", big, 42);
	s = html_take(&h);
	assert_int_equal(strlen(s), sizeof(big) - 1 + 4);
	assert_string_equal(s + sizeof(big) + 1, "42");
	mem_free(s);
	/* nothing written: an empty page, not NULL */
	s = html_take(&h);
	assert_string_equal(s, "");
	mem_free(s);
}

/* Every allocation point of a page, failed in turn: no page, no leak. */
static void out_of_memory_loses_the_page(void **state)
{
	long points = 0;

	(void)state;
	for (long n = 0;; n++) {
		struct html h = {0};
		char *s;

		fault_mem_arm(n);
		html_raw(&h, "<p>");
		for (int i = 0; i < 2000; i++)
			html_text(&h, "&amp;");
		s = html_take(&h);
		points = fault_mem_seen();
		fault_mem_disarm();
		if (s && !fault_mem_fired()) {
			assert_int_equal(strlen(s), 3 + 2000 * 9);
			mem_free(s);
			break;
		}
		assert_null(s);
	}
	/* the buffer doubles from 4 KiB to 32 KiB: four growths, each a
	 * point where the failure was injected */
	assert_int_equal(points, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_is_escaped),
		cmocka_unit_test(urls_are_percent_encoded),
		cmocka_unit_test(long_output_is_whole),
		cmocka_unit_test(out_of_memory_loses_the_page),
	};

	return cmocka_run_group_tests_name("test_html", tests, NULL, NULL);
}
