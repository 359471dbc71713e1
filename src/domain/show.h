/*
 * domain/show.h - playing a cue track in a venue (issue 16): the fire
 * plan, the timecode chaser and its lock modes, and the decision, at
 * each moment, of which fires are due, late or missed.
 *
 * The plan.  Each cue becomes fires: one per (cue, row, gateway, onset
 * latency), a seat mask of that row in each, so a 300-seat room sends a
 * few dozen packets per cue, not 300.  A fire is planned for the cue's
 * start minus the onset latency of the seat's device for that scent
 * (calibration: the device's latency plus the scent's extra, measured
 * per venue; a heavy molecule takes longer to reach the nose).  Seats
 * not sold, opted out, or without a device are left out.  Levels are
 * followed through the track in time order: a seat whose cartridge will
 * no longer hold a cue's dose gets the cue's substitute when its slot
 * holds enough (the fallback), else the seat is skipped and the skip is
 * counted, never fired dry.
 *
 * The chaser.  A time source gives readings (this position of the
 * title was current at this local time): LTC frames decoded from audio,
 * or one reading at a start command.  Lock modes, as show-control
 * software names them:
 *   - STRICT: follow every reading; when readings stop for longer than
 *     the dropout (a few frames), the show is stopped;
 *   - FREEWHEEL: follow every reading; on dropout run on the local clock
 *     for up to freewheel_us, then stop (sync-then-freewheel);
 *   - JAM: take the first reading (and any seek), then run on the local
 *     clock regardless of the source (jam-sync; a start command).
 * A reading that jumps from the predicted position by more than seek_us
 * is a seek; a reading that repeats the previous position is a pause.
 *
 * Due.  Fires are taken in order of planned time; one is due when the
 * position reaches its planned time, fired late up to the tolerance, and
 * missed beyond it (after a seek, a pause or a stall: a scent released
 * seconds off its scene is worse than none).  A fire fires at most once
 * per show; seeking back does not release again.  A late fire is
 * shortened by its lateness, so its release, purge and the next cue's
 * gap end where the track planned them: the gap and exclusive-group
 * rules the track was checked by hold at run time too.
 *
 * Pure C, no clock: every time is an argument (microseconds).
 */
#ifndef SCENTS_DOMAIN_SHOW_H
#define SCENTS_DOMAIN_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/cue.h"
#include "domain/venue.h"

struct arena;
struct sc_err;

/* One fire: a cue at some seats of one row, through one gateway. */
struct fire {
	int64_t at_us;	     /* track time the scent must reach the seats */
	int64_t plan_us;     /* at_us - latency: when the device fires */
	uint32_t cue;	     /* index into the track's cues */
	uint16_t gateway;    /* index into the venue's gateways */
	uint8_t row;	     /* 0..25 */
	uint8_t slot;	     /* cartridge slot to release */
	uint64_t seats;	     /* bit s-1: seat s of the row */
	const char *sku;     /* the scent released (maybe a substitute) */
	int32_t dose_ul;     /* per seat */
	int32_t duration_ms; /* of the cue */
	int32_t latency_ms;  /* the onset latency fired ahead by */
	int32_t priority;    /* the cue's, for order at one instant */
	bool substitute;     /* the cue's fallback scent */
};

/* A track's fires in a venue, by plan_us then priority. */
struct show_plan {
	struct fire *fires;
	size_t n_fires;
	int64_t seat_fires;  /* fires times seats: releases planned */
	int64_t skipped;     /* seat releases skipped: cartridge too low */
	int64_t substituted; /* seat releases given the fallback scent */
	int64_t seats_playing;
	int64_t end_us; /* the last cue's end */
};

/*
 * Plan checked track @t in checked venue @v (its levels as they are
 * before the show) into *@out, arrays in @a.  SC_EINVAL when a reached
 * seat's device has no gateway; SC_ENOMEM.
 */
int show_plan(const struct cue_track *t, const struct venue *v, struct arena *a,
	      struct show_plan *out, struct sc_err *err);

/* Lock modes of the chaser (above). */
enum lock_mode { LOCK_STRICT, LOCK_FREEWHEEL, LOCK_JAM };

/* "strict", "freewheel", "jam" -> *@m; false on anything else. */
bool lock_mode_parse(const char *s, enum lock_mode *m);
const char *lock_mode_name(enum lock_mode m);

/* The chaser's settings and state. */
struct chase {
	enum lock_mode mode;
	int64_t dropout_us;   /* no reading this long: the source is lost */
	int64_t freewheel_us; /* FREEWHEEL: run on this long after loss */
	int64_t seek_us;      /* a jump beyond this is a seek */
	int64_t speed;	      /* title time per local time (1: real time) */
	/* state */
	bool locked;	       /* a reading has come */
	bool still;	       /* the last two readings had one position */
	int64_t anchor_pos_us; /* position at anchor_local_us */
	int64_t anchor_local_us;
	int64_t last_reading_us; /* local time of the last reading */
	int64_t last_pos_us;	 /* its position */
	uint64_t seeks;		 /* jumps seen */
};

/* Defaults: 3 frames of 24 fps dropout, 2 s freewheel, 1 s seek. */
void chase_init(struct chase *c, enum lock_mode m);

/* A reading: title position @pos_us was current at local time @now_us. */
void chase_reading(struct chase *c, int64_t now_us, int64_t pos_us);

/*
 * Where the title is at local time @now_us: true with *@pos_us when it
 * is playing; false when stopped (no lock yet, lost, paused).
 */
bool chase_position(const struct chase *c, int64_t now_us, int64_t *pos_us);

/* What to do with a fire at a position. */
enum fire_due { FIRE_WAIT, FIRE_NOW, FIRE_MISSED };

/*
 * For fire @f at title position @pos_us, late fires tolerated up to
 * @tolerance_us: wait, fire now, or missed.
 */
enum fire_due fire_due(const struct fire *f, int64_t pos_us,
		       int64_t tolerance_us);

/*
 * Release time of @f fired at @pos_us: its duration less its lateness,
 * at least 1 ms (fire_due said FIRE_NOW).
 */
int32_t fire_release_ms(const struct fire *f, int64_t pos_us);

/*
 * A personal (VR) dispenser's safety caps (struct dispense_caps in
 * domain/venue.h): at most max_ul_per_min over any sliding minute and
 * bursts of at most max_burst_ms.  @recent holds the doses released
 * lately (time and ul), @n of them, any order.  SC_EINVAL naming the cap
 * that @ask (dose_ul for duration_ms at now_us) would break.
 */
struct dispense_mark {
	int64_t at_us;
	int32_t dose_ul;
};
struct dispense_ask {
	int64_t now_us;
	int32_t dose_ul;
	int32_t duration_ms;
};
int dispense_allowed(const struct dispense_caps *caps,
		     const struct dispense_mark *recent, size_t n,
		     const struct dispense_ask *ask, struct sc_err *err);

#endif
