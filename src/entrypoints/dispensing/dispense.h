/*
 * entrypoints/dispensing/dispense.h - personal (VR) dispensers driven
 * live (issue 16): the caps of each device, counted over what this
 * process released through it in the last minute.
 *
 * A game engine drives its headset's dispenser through one server;
 * the caps are counted where it sends (docs/dispensing.md says so, and
 * why a store round trip per puff is not worth it: the cap protects a
 * nose from one client's burst, not from two servers' sum).
 */
#ifndef SCENTS_ENTRYPOINTS_DISPENSING_DISPENSE_H
#define SCENTS_ENTRYPOINTS_DISPENSING_DISPENSE_H

#include <stdint.h>

#include "domain/show.h"

struct sc_err;

enum dispense_verdict {
	DISPENSE_OK,	   /* reserved: release it, or give it back */
	DISPENSE_BAD,	   /* a dose or burst the device never takes */
	DISPENSE_OVER_RATE /* over the device's ul per minute: later */
};

/* Reserve @ask on device (@venue, @row, @seat) under @caps. */
enum dispense_verdict dispense_reserve(int64_t venue, int32_t row, int32_t seat,
				       const struct dispense_caps *caps,
				       const struct dispense_ask *ask,
				       struct sc_err *err);

/* Give back a reservation made at @at_us that was not released. */
void dispense_unreserve(int64_t venue, int32_t row, int32_t seat,
			int64_t at_us);

/* Where a release goes: a seat and its cartridge slot. */
struct dispense_at {
	int32_t row, seat, slot;
};

/*
 * Release @ask at @at through @v's gateway for that seat (the gateway
 * protocol, resent every 20 ms for half a second); *@released says
 * whether the device released (false: its cartridge was dry).  SC_EIO
 * when the gateway did not answer, SC_EINVAL when none serves the seat.
 */
int dispense_fire(const struct venue *v, const struct dispense_at *at,
		  const struct dispense_ask *ask, bool *released,
		  struct sc_err *err);

#endif
