/*
 * entrypoints/dispensing/player.h - the two ends of the gateway
 * protocol (issue 16): the show scheduler, which plays a cue track in a
 * venue chasing a time source, and the gateway simulator, which stands
 * in for a room's gateways and seat devices.
 */
#ifndef SCENTS_ENTRYPOINTS_DISPENSING_PLAYER_H
#define SCENTS_ENTRYPOINTS_DISPENSING_PLAYER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "domain/show.h"

struct arena;
struct sc_err;

/* How the simulator misbehaves, and what it records. */
struct sim_opts {
	int64_t latency_us;	 /* one way, each datagram */
	int64_t jitter_us;	 /* plus 0..jitter, uniform */
	int32_t loss_ppm;	 /* datagrams dropped, each way, per million */
	int64_t clock_offset_us; /* its clock = ours + this */
	uint64_t seed;		 /* of the loss and jitter draws */
	FILE *log;		 /* a JSON line per fire, or NULL */
	const char *levels_path; /* cartridge levels written at exit */
	volatile int *stop;	 /* set by a signal: write levels, exit */
};

/*
 * Serve every gateway of @v (its addresses) as seat devices with @v's
 * cartridges until *@o->stop.  SC_EIO when a socket cannot be had.
 */
int gatewaysim_run(const struct venue *v, const struct sim_opts *o,
		   struct sc_err *err);

/* Where the title's time comes from. */
struct show_source {
	enum lock_mode lock;
	int64_t from_us;  /* start command: the title position at start */
	FILE *ltc;	  /* else LTC audio, unsigned 8-bit mono, or NULL */
	int32_t ltc_rate; /* its sample rate */
	bool ltc_paced;	  /* a file: read at the sample rate, as a card */
};

/* How the scheduler plays. */
struct show_opts {
	struct show_source src;
	int64_t speed;	      /* title time per real time: 1, or compressed */
	int64_t tolerance_us; /* a fire this late still goes (title time) */
	int64_t lead_us;      /* FIRE sent this early, timestamped (real) */
	int64_t retry_us;     /* resend an unacknowledged FIRE (real) */
	FILE *log;	      /* a JSON line per fire and per clock sync */
	volatile int *stop;   /* set by a signal: stop, report */
};

/* What a show did. */
struct show_result {
	int64_t fires, acked, missed, unacked;	    /* datagrams' fates */
	int64_t seat_releases;			    /* acknowledged seats */
	int64_t short_seats;			    /* reported dry */
	int64_t sent, retries;			    /* FIRE datagrams */
	int64_t err_p50_us, err_p99_us, err_max_us; /* |actual - planned| */
	int64_t seeks;
	int64_t *consumed_ul; /* [CUE_MAP_SEATS * CUE_PALETTE_MAX]: seat x
				 slot s-1 at x * CUE_PALETTE_MAX + s - 1 */
};

/* What a show plays: a track, the venue, the plan made of them. */
struct show_input {
	const struct cue_track *t;
	const struct venue *v;
	const struct show_plan *p;
};

/*
 * Play @in's plan against its venue's gateways, into *@out (arrays in
 * @a).  SC_EIO when a socket or the time source fails.
 */
int show_run(const struct show_input *in, const struct show_opts *o,
	     struct arena *a, struct show_result *out, struct sc_err *err);

#endif
