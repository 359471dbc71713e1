/*
 * domain/venue.h - auditoriums and their seat devices, and the pre-show
 * check of a cue track against the cartridges (issue 16).
 *
 * A venue is a seat map (rows A..Z, seats 1..n per row, some numbers
 * missing: aisles and gaps), a seat device per seat with its cartridge
 * slots (the scent loaded, the batch it was filled from, the level in
 * microlitres), the seats sold for a show and those that opted out.
 *
 * Before a show, every occupied seat that did not opt out must hold, in
 * the slot the track's palette names, the scent the track expects and at
 * least the dose the track will release at that seat (summed over the
 * whole track, domain/cue.h).  The pre-show report lists each seat and
 * scent that falls short (the refill it needs, to the cartridge's
 * capacity), each seat whose device lacks the slot or holds another
 * scent there, and the microlitres to refill per scent: the order lines
 * a refill will allocate from stock.
 */
#ifndef SCENTS_DOMAIN_VENUE_H
#define SCENTS_DOMAIN_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/cue.h"

struct arena;
struct sc_err;

#define VENUE_DEVICES_MAX    CUE_MAP_SEATS
#define CARTRIDGE_MAX_UL     100000 /* 100 ml */
#define VENUE_GATEWAYS_MAX   64
#define VENUE_LATENCIES_MAX  64
#define VENUE_LATENCY_MAX_MS 10000 /* calibration beyond this is a typo */

/* One cartridge slot of a seat device. */
struct cartridge {
	int32_t slot;	   /* 1..CUE_PALETTE_MAX */
	const char *sku;   /* the scent loaded */
	const char *batch; /* the batch it was filled from, or NULL */
	int64_t level_ul;  /* what is left, 0..capacity */
};

/* The device of one seat. */
struct seat_device {
	int32_t row;		       /* 0..25 (A..Z) */
	int32_t seat;		       /* 1..CUE_SEATS_MAX */
	const struct cartridge *slots; /* n_slots */
	size_t n_slots;		       /* 0..CUE_PALETTE_MAX */
	int32_t latency_ms;	       /* onset latency, calibrated */
};

/* A gateway bridging the network to its seats' Bluetooth. */
struct gateway {
	const char *address; /* "host:port" (UDP, docs/dispensing.md) */
	struct zone seats;   /* the seats it serves, no seat twice */
};

/* A scent's onset latency on top of the device's (calibration). */
struct scent_latency {
	const char *sku;
	int32_t extra_ms; /* may be negative; the sum is kept >= 0 */
};

/* A personal (VR) dispenser's safety caps. */
struct dispense_caps {
	int32_t max_ul_per_min; /* over any sliding minute */
	int32_t max_burst_ms;	/* one release, 1..CUE_BURST_MAX_MS */
};

/* An auditorium, and who sits where for one show. */
struct venue {
	const char *name;			   /* for people */
	struct zone seats;			   /* the seats that exist */
	const struct seat_device *devices;	   /* n_devices, one per seat */
	size_t n_devices;			   /* 0..VENUE_DEVICES_MAX */
	struct zone occupied;			   /* sold for this show */
	struct zone opted_out;			   /* asked for no scent */
	int64_t capacity_ul;			   /* a full cartridge */
	const struct gateway *gateways;		   /* n_gateways */
	size_t n_gateways;			   /* 0..VENUE_GATEWAYS_MAX */
	const struct scent_latency *scent_latency; /* n_scent_latency */
	size_t n_scent_latency;			   /* 0..VENUE_LATENCIES_MAX */
	int64_t alert_below_ul;	   /* a cartridge below this: staff alert */
	int64_t refill_unit_ul;	   /* what one unit of stock fills */
	struct dispense_caps caps; /* for a personal dispenser */
};

/* The onset latency of seat device @d for scent @sku in @v, >= 0. */
int32_t venue_latency_ms(const struct venue *v, const struct seat_device *d,
			 const char *sku);

/* The device of seat (@row, @seat) in @v, or NULL. */
const struct seat_device *venue_device_at(const struct venue *v, int32_t row,
					  int32_t seat);

/* The cartridge in @slot of @d (may be NULL), or NULL. */
const struct cartridge *device_slot(const struct seat_device *d, int32_t slot);

/* The gateway serving seat (@row, @seat) of @v, or -1. */
int venue_gateway_of(const struct venue *v, int32_t row, int32_t seat);

/* Why a seat cannot play a scent of the track. */
enum preshow_problem {
	PRESHOW_REFILL,	    /* the level is below the dose: refill */
	PRESHOW_NO_DEVICE,  /* an occupied seat the track reaches has none */
	PRESHOW_NO_SLOT,    /* its device lacks the palette's slot */
	PRESHOW_WRONG_SCENT /* the slot holds another scent */
};

/* One line of the pre-show report. */
struct preshow_line {
	int32_t row, seat; /* where */
	const char *sku;   /* the track's scent */
	int32_t slot;	   /* its palette slot */
	enum preshow_problem problem;
	int64_t needed_ul; /* the track's dose at this seat */
	int64_t level_ul;  /* what the cartridge holds (0 if none) */
	int64_t refill_ul; /* to fill it up (REFILL only) */
};

/* The pre-show report. */
struct preshow_report {
	struct preshow_line *lines; /* by row, seat, slot */
	size_t n_lines;
	int64_t *refill_ul;    /* per palette scent, to order */
	int64_t seats_playing; /* occupied, not opted out, reached */
	bool ready;	       /* no line at all */
};

/*
 * Check @v (its map, one device per existing seat, slots 1..16 once,
 * levels 0..capacity, occupied and opt-out seats that exist).
 * SC_EINVAL naming the seat; SC_ENOMEM.
 */
int venue_check(const struct venue *v, struct sc_err *err);

/*
 * The pre-show report of checked track @t in checked venue @v, into @a.
 * SC_ENOMEM.
 */
int venue_preshow(const struct cue_track *t, const struct venue *v,
		  struct arena *a, struct preshow_report *out,
		  struct sc_err *err);

/* "refill", "no device", "no slot", "wrong scent". */
const char *preshow_problem_name(enum preshow_problem p);

#endif
