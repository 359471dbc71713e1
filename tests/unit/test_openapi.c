/*
 * tests/unit/test_openapi.c - the server's routes and the API description
 * (api/openapi.json, embedded in the binary) name the same operations:
 * a route the document lacks, or a documented operation no route serves,
 * fails here.  Responses themselves are checked against the document by
 * the end-to-end suite (tests/conftest.py).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "entrypoints/http/routes.h"
#include "support/cmocka.h"

static json_t *spec_paths(void)
{
	json_error_t jerr;
	json_t *spec = json_loadb((const char *)openapi_json, openapi_json_len,
				  JSON_REJECT_DUPLICATES, &jerr);

	assert_non_null(spec);
	assert_string_equal(json_string_value(json_object_get(spec, "openapi")),
			    "3.1.0");
	return spec;
}

/* Routes are written as the document writes its paths: equal strings. */
static int serves(const char *route, const char *doc)
{
	return !strcmp(route, doc);
}

static void every_route_is_documented(void **state)
{
	json_t *spec = spec_paths(), *paths = json_object_get(spec, "paths");

	(void)state;
	for (size_t i = 0; i < routes_count(); i++) {
		const char *method, *path, *doc;
		json_t *ops;
		int found = 0;

		routes_get(i, &method, &path);
		json_object_foreach(paths, doc, ops)
		{
			char lower[16];

			(void)snprintf(lower, sizeof(lower), "%s", method);
			for (char *c = lower; *c; c++)
				*c = (char)(*c - 'A' + 'a');
			if (serves(path, doc) && json_object_get(ops, lower))
				found = 1;
		}
		if (!found)
			fail_msg("route %s %s is not in api/openapi.json",
				 method, path);
	}
	json_decref(spec);
}

static void every_documented_operation_is_served(void **state)
{
	json_t *spec = spec_paths(), *paths = json_object_get(spec, "paths");
	const char *doc, *verb;
	json_t *ops, *op;
	size_t n_ops = 0;

	(void)state;
	json_object_foreach(paths, doc, ops)
	{
		json_object_foreach(ops, verb, op)
		{
			int found = 0;

			(void)op;
			for (size_t i = 0; i < routes_count(); i++) {
				const char *method, *path;

				routes_get(i, &method, &path);
				if (!strcasecmp(method, verb) &&
				    serves(path, doc))
					found = 1;
			}
			if (!found)
				fail_msg("%s %s is documented but not served",
					 verb, doc);
			n_ops++;
		}
	}
	assert_int_equal(n_ops, routes_count());
	json_decref(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_route_is_documented),
		cmocka_unit_test(every_documented_operation_is_served),
	};

	return cmocka_run_group_tests_name("test_openapi", tests, NULL, NULL);
}
