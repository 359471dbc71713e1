/*
 * tests/fuzz/fuzz_routes.c - libFuzzer target: any bytes as the JSON (or
 * CSV) body of every POST route, on a worker over the memory store.  Each
 * answer must be a status the API documents, with a JSON body.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "entrypoints/http/routes.h"
#include "fuzz_worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
	"/allocate",
	"/add_batch",
	"/change_batch_quantity",
	"/sourcing/research",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct worker *w = fuzz_worker();
	struct http_req req = {0};
	struct http_reply rep = {0};
	json_t *body;

	if (size < 1)
		return 0;
	req.method = "POST";
	req.path = paths[data[0] % 4];
	req.content_type = data[0] & 4 ? "text/csv" : "application/json";
	req.body = (const char *)data + 1;
	req.len = size - 1;
	routes_dispatch(w, &req, &rep);
	switch (rep.status) {
	case 200:
	case 201:
	case 202:
	case 400:
	case 404:
	case 409:
	case 415: /* text/csv sent to a JSON-only route */
		break;
	default:
		abort();
	}
	body = rep.body ? json_loads(rep.body, 0, NULL) : NULL;
	if (!body)
		abort();
	json_decref(body);
	mem_free(rep.body);
	return 0;
}
