/*
 * tests/fuzz/fuzz_dispensing.c - libFuzzer target: any bytes as what
 * issue 16 reads from outside.  The first byte picks: a datagram of the
 * gateway protocol (what it decodes must encode to the same message:
 * decode(encode(m)) == m), a cue track or a venue in JSON (parsed, then
 * checked by the domain's rules, then planned: SC_OK or SC_EINVAL, never
 * a crash, an overrun or a leak under ASan+UBSan).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/show.h"
#include "entrypoints/dispensing/cue_io.h"
#include "entrypoints/dispensing/gateway_proto.h"
#include "entrypoints/dispensing/venue_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void datagram(const uint8_t *data, size_t size)
{
	struct gw_msg m, again;
	uint8_t buf[GW_MAX_LEN];
	size_t n;

	if (!gw_decode(data, size, &m))
		return;
	n = gw_encode(&m, buf);
	if (n != size || !gw_decode(buf, n, &again) ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		abort();
}

/* The example room's seats, for planning a fuzzed track. */
static const struct venue *room(void)
{
	static struct cartridge slots[] = {{1, "A", "b", 500},
					   {2, "B", NULL, 500}};
	static struct seat_device dev[] = {{0, 1, slots, 2, 100},
					   {1, 5, slots, 2, 0}};
	static struct gateway gw = {"127.0.0.1:1", {{0}}};
	static struct venue v;

	if (!v.name) {
		v.name = "fuzz";
		(void)cue_zone_parse("A1-A10,B1-B10", &v.seats);
		v.occupied = v.seats;
		gw.seats = v.seats;
		v.devices = dev;
		v.n_devices = 2;
		v.capacity_ul = 1000;
		v.refill_unit_ul = 1000;
		v.caps = (struct dispense_caps){100, 5000};
		v.gateways = &gw;
		v.n_gateways = 1;
	}
	return &v;
}

static void document(int which, const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
			       NULL);
	struct show_plan plan;
	struct cue_track *t;
	struct venue *v;
	struct sc_err err;
	struct arena a;
	int rc;

	if (!j)
		return;
	arena_init(&a);
	err_clear(&err);
	if (which == 1) {
		rc = cue_track_from_json(j, &a, &t, &err);
		if (!rc)
			rc = cue_track_check(t, &a, &err);
		if (!rc)
			rc = show_plan(t, room(), &a, &plan, &err);
	} else {
		rc = venue_from_json(j, &a, &v, &err);
		if (!rc)
			rc = venue_check(v, &err);
	}
	if (rc != SC_OK && rc != SC_EINVAL)
		abort();
	arena_release(&a);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] % 3 == 0)
		datagram(data + 1, size - 1);
	else
		document(data[0] % 3, data + 1, size - 1);
	return 0;
}
