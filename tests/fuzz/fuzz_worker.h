/*
 * tests/fuzz/fuzz_worker.h - the one worker every fuzz target serves
 * with: a bus over the memory store, built on first use and kept for the
 * process (libFuzzer runs a target millions of times in one process).
 */
#ifndef SCENTS_TESTS_FUZZ_FUZZ_WORKER_H
#define SCENTS_TESTS_FUZZ_FUZZ_WORKER_H

#include <jansson.h>
#include <stdlib.h>

#include "adapters/memory/memory_uow.h"
#include "bootstrap.h"
#include "common/mem.h"

static struct worker *fuzz_worker(void)
{
	static struct memory_store *store;
	static struct worker w;

	if (!store) {
		struct deps d = {0};
		struct sc_err err;

		json_set_alloc_funcs(mem_alloc, mem_free);
		err_clear(&err);
		if (memory_store_new(&store, &err) ||
		    memory_uow_new(store, &w.uow, &err))
			abort();
		d.uow = w.uow;
		bus_init(&w.bus, &d, 1);
		arena_init(&w.scratch);
	}
	return &w;
}

#endif
