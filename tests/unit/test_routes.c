/*
 * tests/unit/test_routes.c - HTTP routes without sockets: status mapping
 * of every service code, store failures as 503, and the 404/405 rules,
 * on a worker whose store fails on demand.
 */
#include <assert.h>
#include <jansson.h>
#include <string.h>

#include "adapters/memory/memory_uow.h"
#include "bootstrap.h"
#include "common/mem.h"
#include "entrypoints/auth/auth.h"
#include "entrypoints/http/routes.h"
#include "support/cmocka.h"
#include "support/faulty_uow.h"

struct fixture {
	struct memory_store *store;
	struct uow *inner;
	struct faulty_uow faulty;
	struct worker w;
};

static int setup(void **state)
{
	static struct fixture f;
	struct deps d = {0};
	struct sc_err err;

	err_clear(&err);
	assert_int_equal(memory_store_new(&f.store, &err), SC_OK);
	assert_int_equal(memory_uow_new(f.store, &f.inner, &err), SC_OK);
	faulty_uow_init(&f.faulty, f.inner);
	d.uow = &f.faulty.base;
	f.w.uow = &f.faulty.base;
	bus_init(&f.w.bus, &d, 3);
	f.w.bus.backoff_us = 1;
	arena_init(&f.w.scratch);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bus_release(&f->w.bus);
	arena_release(&f->w.scratch);
	uow_free(f->inner);
	memory_store_free(f->store);
	return 0;
}

/* Dispatch and return the status; *msg (may be NULL) gets the message. */
static unsigned call(struct fixture *f, const char *method, const char *path,
		     const char *body, char *msg, size_t n)
{
	struct http_req req = {.method = method,
			       .path = path,
			       .body = body,
			       .len = body ? strlen(body) : 0,
			       .content_type = "application/json"};
	struct http_reply rep = {0};
	json_t *j;

	routes_dispatch(&f->w, &req, &rep);
	assert_non_null(rep.body);
	j = json_loads(rep.body, 0, NULL);
	assert_non_null(j);
	if (msg)
		(void)snprintf(msg, n, "%s",
			       json_string_value(json_object_get(j, "message"))
				       ? json_string_value(
						 json_object_get(j, "message"))
				       : "");
	json_decref(j);
	mem_free(rep.body);
	return rep.status;
}

static void store_failures_are_503_and_say_why(void **state)
{
	struct fixture *f = *state;
	char msg[256];

	f->faulty.fail_call = 0;
	f->faulty.n_calls = 0;
	assert_int_equal(call(f, "GET", "/healthz", NULL, msg, sizeof(msg)),
			 503);
	/* the store's own text (file paths...) goes to the log only */
	assert_string_equal(msg, "the store is unavailable; try again later");
	f->faulty.fail_call = 0;
	f->faulty.n_calls = 0;
	assert_int_equal(call(f, "POST", "/allocate",
			      "{\"orderid\":\"o\",\"sku\":\"S\",\"qty\":1}",
			      msg, sizeof(msg)),
			 503);
	f->faulty.fail_call = 0;
	f->faulty.n_calls = 0;
	assert_int_equal(call(f, "GET", "/allocations/o1", NULL, NULL, 0), 503);
	f->faulty.fail_call = 0;
	f->faulty.n_calls = 0;
	assert_int_equal(call(f, "GET", "/products", NULL, NULL, 0), 503);
	f->faulty.fail_call = -1;
	assert_int_equal(call(f, "GET", "/healthz", NULL, NULL, 0), 200);
}

static void service_codes_map_to_statuses(void **state)
{
	struct fixture *f = *state;
	char msg[256];

	assert_int_equal(call(f, "POST", "/add_batch",
			      "{\"ref\":\"b\",\"sku\":\"S\",\"qty\":1}", NULL,
			      0),
			 201);
	assert_int_equal(call(f, "POST", "/add_batch",
			      "{\"ref\":\"b\",\"sku\":\"S\",\"qty\":2}", msg,
			      sizeof(msg)),
			 409); /* SC_EEXIST */
	assert_int_equal(call(f, "POST", "/allocate",
			      "{\"orderid\":\"o\",\"sku\":\"X\",\"qty\":1}",
			      msg, sizeof(msg)),
			 400); /* SC_ENOTFOUND on allocate */
	assert_string_equal(msg, "Invalid sku X");
	assert_int_equal(call(f, "POST", "/change_batch_quantity",
			      "{\"ref\":\"zz\",\"qty\":1}", msg, sizeof(msg)),
			 404); /* SC_ENOTFOUND elsewhere */
	assert_int_equal(call(f, "POST", "/allocate",
			      "{\"orderid\":\"o\",\"sku\":\"S\",\"qty\":5}",
			      msg, sizeof(msg)),
			 409); /* out of stock */
	assert_string_equal(msg, "out of stock for sku 'S'");
}

static void unknown_paths_and_methods(void **state)
{
	struct fixture *f = *state;
	struct http_req req = {.method = "DELETE", .path = "/allocate"};
	struct http_reply rep = {0};

	routes_dispatch(&f->w, &req, &rep);
	assert_int_equal(rep.status, 405);
	assert_string_equal(rep.allow, "POST");
	mem_free(rep.body);
	assert_int_equal(call(f, "GET", "/nope", NULL, NULL, 0), 404);
	/* "/" is the dashboard (issue 17): a page, not a 404 */
	memset(&rep, 0, sizeof(rep));
	req = (struct http_req){.method = "GET", .path = "/"};
	routes_dispatch(&f->w, &req, &rep);
	assert_int_equal(rep.status, 200);
	assert_string_equal(rep.content_type, "text/html; charset=utf-8");
	assert_true(rep.page);
	assert_non_null(strstr(rep.body, "<h1>Products</h1>"));
	mem_free(rep.body);
	assert_int_equal(call(f, "GET", "/products/a/b", NULL, NULL, 0), 404);
	assert_int_equal(call(f, "GET", "/sourcing/decisions", NULL, NULL, 0),
			 404);
}

/*
 * DELETE /allocations/{orderid}[/{sku}]: two templates, each segment
 * non-empty and decoded on its own; the other methods get 405.
 */
static void cancel_paths_take_one_or_two_segments(void **state)
{
	struct fixture *f = *state;
	struct http_req req = {.method = "PUT", .path = "/allocations/o1"};
	struct http_reply rep = {0};
	char msg[256];

	routes_dispatch(&f->w, &req, &rep);
	assert_int_equal(rep.status, 405);
	assert_string_equal(rep.allow, "GET, DELETE");
	mem_free(rep.body);
	assert_int_equal(call(f, "POST", "/add_batch",
			      "{\"ref\":\"b1\",\"sku\":\"A/B\",\"qty\":5}",
			      NULL, 0),
			 201);
	assert_int_equal(call(f, "POST", "/allocate",
			      "{\"orderid\":\"o 1\",\"sku\":\"A/B\",\"qty\":2}",
			      NULL, 0),
			 202);
	/* a '/' inside a sku travels as %2F and stays one segment */
	assert_int_equal(call(f, "DELETE", "/allocations/o%201/A%2FB", NULL,
			      msg, sizeof(msg)),
			 200);
	assert_int_equal(call(f, "DELETE", "/allocations/o%201/A%2FB", NULL,
			      msg, sizeof(msg)),
			 404);
	assert_string_equal(msg, "order 'o 1' holds no 'A/B'");
	assert_int_equal(
		call(f, "DELETE", "/allocations/o%201", NULL, msg, sizeof(msg)),
		404);
	assert_string_equal(msg, "order 'o 1' holds no lines");
	assert_int_equal(call(f, "DELETE", "/allocations/o1/%ZZ", NULL, msg,
			      sizeof(msg)),
			 400);
	assert_string_equal(msg, "sku in the path must be 1 to 255 bytes of "
				 "printable utf-8, percent-encoded");
	assert_int_equal(call(f, "DELETE", "/allocations/%01", NULL, NULL, 0),
			 400);
	/* empty segments and a third one match no route */
	assert_int_equal(call(f, "DELETE", "/allocations//x", NULL, NULL, 0),
			 404);
	assert_int_equal(call(f, "DELETE", "/allocations/o1/", NULL, NULL, 0),
			 404);
	assert_int_equal(call(f, "DELETE", "/allocations/a/b/c", NULL, NULL, 0),
			 404);
}

/* Dispatch with @token against checker @a; the status, and the challenge. */
static unsigned call_as(struct fixture *f, struct auth *a, const char *token,
			const char *method, const char *path,
			const char **challenge)
{
	char header[128];
	struct http_req req = {.method = method,
			       .path = path,
			       .content_type = "application/json",
			       .auth = a};
	struct http_reply rep = {0};

	if (token)
		(void)snprintf(header, sizeof(header), "Bearer %s", token);
	req.authorization = token ? header : NULL;
	routes_dispatch(&f->w, &req, &rep);
	*challenge = rep.www_authenticate;
	mem_free(rep.body);
	return rep.status;
}

static void scopes_decide_and_loopback_is_open_without_tokens(void **state)
{
	struct fixture *f = *state;
	struct msg m = {.type = MSG_CREATE_TOKEN};
	struct uow *conn;
	struct auth *open_auth, *closed_auth;
	char secret[AUTH_SECRET_SIZE];
	uint8_t hash[TOKEN_HASH_LEN];
	const char *ch;
	struct sc_err err;

	err_clear(&err);
	assert_int_equal(auth_global_init(&err), SC_OK);
	assert_int_equal(memory_uow_new(f->store, &conn, &err), SC_OK);
	assert_int_equal(auth_new(conn, true, &open_auth, &err), SC_OK);
	assert_int_equal(auth_new(conn, false, &closed_auth, &err), SC_OK);
	/* no token yet: loopback open, anything else closed */
	assert_int_equal(call_as(f, open_auth, NULL, "GET", "/products", &ch),
			 200);
	assert_int_equal(call_as(f, closed_auth, NULL, "GET", "/products", &ch),
			 401);
	assert_string_equal(ch, "Bearer realm=\"scents\"");
	auth_secret_new(secret, hash);
	m.u.create_token.name = "reader";
	m.u.create_token.scopes = TOKEN_SCOPE_READ;
	m.u.create_token.hash = hash;
	assert_int_equal(bus_handle(&f->w.bus, &m, NULL, &err), SC_OK);
	auth_invalidate(open_auth);
	assert_int_equal(call_as(f, open_auth, NULL, "GET", "/products", &ch),
			 401);
	assert_int_equal(
		call_as(f, open_auth, "sct_nope", "GET", "/products", &ch),
		401);
	assert_non_null(strstr(ch, "invalid_token"));
	assert_int_equal(call_as(f, open_auth, secret, "GET", "/products", &ch),
			 200);
	assert_int_equal(
		call_as(f, open_auth, secret, "POST", "/allocate", &ch), 403);
	assert_non_null(strstr(ch, "insufficient_scope"));
	assert_int_equal(call_as(f, open_auth, NULL, "GET", "/healthz", &ch),
			 200);
	auth_free(open_auth);
	auth_free(closed_auth);
	uow_free(conn);
}

static void bodies_must_be_json_with_known_fields(void **state)
{
	struct fixture *f = *state;
	struct http_req req = {
		.method = "POST",
		.path = "/add_batch",
		.body = "{\"ref\":\"b\",\"sku\":\"S\",\"qty\":1}",
		.content_type = "text/plain"};
	struct http_reply rep = {0};
	char msg[256];

	req.len = strlen(req.body);
	routes_dispatch(&f->w, &req, &rep);
	assert_int_equal(rep.status, 415);
	mem_free(rep.body);
	assert_int_equal(call(f, "POST", "/add_batch",
			      "{\"ref\":\"b\",\"sku\":\"S\",\"qty\":1,"
			      "\"ETA\":null}",
			      msg, sizeof(msg)),
			 400);
	assert_string_equal(msg, "unknown field 'ETA'");
	assert_int_equal(call(f, "GET", "/products/S", NULL, NULL, 0), 404);
}

static void percent_decoding(void **state)
{
	char out[16];
	size_t len;

	(void)state;
	assert_int_equal(
		routes_percent_decode("a%20b%00c", out, sizeof(out), &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "a b\0c", 5);
	assert_int_equal(routes_percent_decode("%4", out, sizeof(out), &len),
			 -1);
	assert_int_equal(routes_percent_decode("%zz", out, sizeof(out), &len),
			 -1);
	assert_int_equal(routes_percent_decode("0123456789abcdef", out,
					       sizeof(out), &len),
			 -1);
}

/* POST /ui/login with @form on an open server (no tokens); the reply. */
static struct http_reply sign_in(struct fixture *f, const char *form)
{
	struct http_req req = {.method = "POST",
			       .path = "/ui/login",
			       .body = form,
			       .len = strlen(form),
			       .content_type =
				       "application/x-www-form-urlencoded"};
	struct http_reply rep = {0};

	routes_dispatch(&f->w, &req, &rep);
	assert_non_null(rep.body);
	assert_true(http_reply_headers_safe(&rep));
	return rep;
}

/*
 * The sign-in's token goes back out in Set-Cookie: on an open server,
 * where any token is accepted, a value with CR LF in it wrote headers of
 * its own into the answer (the HTTP fuzzer found it).  Only a secret's
 * shape passes now, and the server refuses any header with a line break.
 */
static void sign_in_takes_only_a_token_shaped_value(void **state)
{
	static const char good[] =
		"sct_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
	struct fixture *f = *state;
	struct http_reply rep;
	char form[128];

	static_assert(sizeof(good) == AUTH_SECRET_SIZE, "a secret's length");
	rep = sign_in(f, "token=32%0D%0A%0D%0Atoken=sct_a");
	assert_int_equal(rep.status, 401);
	assert_string_equal(rep.set_cookie, "");
	assert_non_null(strstr(rep.body, "not a scents token"));
	mem_free(rep.body);
	rep = sign_in(f, "token=sct_short");
	assert_int_equal(rep.status, 401);
	mem_free(rep.body);
	(void)snprintf(form, sizeof(form), "token=%s", good);
	form[20] = '.'; /* not base64url */
	rep = sign_in(f, form);
	assert_int_equal(rep.status, 401);
	mem_free(rep.body);
	(void)snprintf(form, sizeof(form), "token=%s", good);
	rep = sign_in(f, form);
	assert_int_equal(rep.status, 303);
	assert_non_null(strstr(rep.set_cookie, good));
	mem_free(rep.body);
	/* the server's last line: any header value with a line break */
	rep = (struct http_reply){.status = 200};
	assert_true(http_reply_headers_safe(&rep));
	rep.location = "/\r\nX-Evil: 1";
	assert_false(http_reply_headers_safe(&rep));
	rep.location = NULL;
	(void)snprintf(rep.set_cookie, sizeof(rep.set_cookie), "a=b\nc");
	assert_false(http_reply_headers_safe(&rep));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(store_failures_are_503_and_say_why),
		T(service_codes_map_to_statuses),
		T(unknown_paths_and_methods),
		T(cancel_paths_take_one_or_two_segments),
		T(percent_decoding),
		T(scopes_decide_and_loopback_is_open_without_tokens),
		T(bodies_must_be_json_with_known_fields),
		T(sign_in_takes_only_a_token_shaped_value),
#undef T
	};

	json_set_alloc_funcs(mem_alloc, mem_free);
	return cmocka_run_group_tests_name("test_routes", tests, NULL, NULL);
}
