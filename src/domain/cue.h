/*
 * domain/cue.h - scent cue tracks for cinemas (issue 16): what to release,
 * where and when, for one version of a title, and the rules a track must
 * keep before any seat fires it.
 *
 * A track is frame-addressed at its edit rate (24/1, 25/1, 30000/1001,
 * ...), like the picture it plays beside (4DX plays a separate effects
 * file in parallel with the unchanged film; docs/dispensing.md).  Each
 * cue releases one scent of the track's palette (sku -> cartridge slot)
 * for a number of frames, in a zone of the room (every seat, some rows,
 * or listed seats), a dose in microlitres per seat, optionally in pulses
 * (continuous release causes adaptation), followed by a purge of clean
 * air.  The rules come from scent physics:
 *   - a burst is capped (CUE_BURST_MAX_MS of continuous release);
 *   - two different scents reaching the same seat within their minimum
 *     gap blur: the later cue must start at least the larger of the two
 *     gaps after the earlier one ends (its purge included);
 *   - cues of one exclusive group never overlap (purge included) in the
 *     same seats;
 *   - a dose above CUE_DOSE_MAX_UL per seat is refused;
 *   - a fallback substitute is another scent of the palette.
 * Every error names the cue (and the other cue of a conflict).
 *
 * Pure C: the entry points parse JSON into these structs.
 */
#ifndef SCENTS_DOMAIN_CUE_H
#define SCENTS_DOMAIN_CUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct sc_err;

/* The format this code reads, written in every track. */
#define CUE_FORMAT	   "scents-cue-track/1"
#define CUE_TRACK_CUES_MAX 10000
#define CUE_PALETTE_MAX	   16 /* cartridge slots of a seat device */
#define CUE_ROWS_MAX	   26 /* rows A..Z */
#define CUE_SEATS_MAX	   64 /* seats per row, 1..64 */
#define CUE_BURST_MAX_MS   20000
#define CUE_DOSE_MAX_UL	   500
#define CUE_GAP_MAX_MS	   600000
#define CUE_PRIORITY_MAX   100

/* A scent of the track and the cartridge slot it is loaded in. */
struct palette_entry {
	const char *sku; /* the scent */
	int32_t slot;	 /* 1..CUE_PALETTE_MAX, unique */
};

/*
 * Where a cue releases: a set of seats as one bit per seat, rows A..Z by
 * seats 1..64.  "all" sets every bit.
 */
struct zone {
	uint64_t rows[CUE_ROWS_MAX]; /* bit s-1: seat s of the row */
};

/* Pulsed release: @count times @on_ms on, @off_ms off. */
struct pulse {
	int32_t on_ms;	/* 1..CUE_BURST_MAX_MS */
	int32_t off_ms; /* 0.. */
	int32_t count;	/* 0: continuous */
};

/* One cue. */
struct cue {
	const char *id;		/* unique in the track */
	int64_t start;		/* frame, from 0 */
	int64_t duration;	/* frames, >= 1 */
	const char *sku;	/* a palette scent */
	int32_t dose_ul;	/* per seat, 1..CUE_DOSE_MAX_UL */
	struct zone zone;	/* the seats */
	int32_t ramp_ms;	/* fade in, 0.. */
	struct pulse pulse;	/* count 0: continuous */
	int32_t purge_after_ms; /* clean air after, 0.. */
	const char *group;	/* exclusive group, or NULL */
	int32_t min_gap_ms;	/* from a different scent, 0.. */
	int32_t priority;	/* 0..CUE_PRIORITY_MAX */
	const char *substitute; /* fallback scent, or NULL: skip */
};

/* A title version's track. */
struct cue_track {
	const char *title;		     /* for people */
	const char *title_id;		     /* e.g. an EIDR id */
	const char *content_hash;	     /* of the picture it goes with */
	int32_t rate_num;		     /* edit rate numerator */
	int32_t rate_den;		     /* ... denominator */
	const struct palette_entry *palette; /* n_palette entries */
	size_t n_palette;		     /* 1..CUE_PALETTE_MAX */
	const struct cue *cues;		     /* n_cues, any order */
	size_t n_cues;			     /* 0..CUE_TRACK_CUES_MAX */
};

/* What a track asks of one scent, over the whole track. */
struct scent_dose {
	const char *sku;     /* the scent */
	int32_t slot;	     /* its cartridge slot */
	size_t cues;	     /* cues releasing it */
	int64_t max_seat_ul; /* the most any one seat receives */
	int64_t total_ul;    /* over every seat of the 26 x 64 map */
	int64_t seats;	     /* seats that receive any */
	int64_t release_ms;  /* time it is released, pulses counted */
};

/*
 * Check @t by the rules at the top.  SC_EINVAL naming the cue (and the
 * other cue of a conflict); SC_ENOMEM.  Scratch memory from @a.
 */
int cue_track_check(const struct cue_track *t, struct arena *a,
		    struct sc_err *err);

/*
 * Dose per scent for @t (checked), palette order, into *@out (n_palette
 * entries in @a).  SC_ENOMEM.
 */
int cue_track_doses(const struct cue_track *t, struct arena *a,
		    struct scent_dose **out, struct sc_err *err);

/* Seats of the map, and the index of (row 0..25, seat 1..64) in it. */
#define CUE_MAP_SEATS ((size_t)CUE_ROWS_MAX * CUE_SEATS_MAX)
#define CUE_SEAT_INDEX(row, seat)                                              \
	((size_t)(row)*CUE_SEATS_MAX + (size_t)(seat)-1)

/*
 * What @t (checked) releases at each seat of the map, per palette scent:
 * *@out gets n_palette * CUE_MAP_SEATS microlitres in @a, scent k's seat
 * x at [k * CUE_MAP_SEATS + x].  SC_ENOMEM.
 */
int cue_track_seat_doses(const struct cue_track *t, struct arena *a,
			 int64_t **out, struct sc_err *err);

/* Milliseconds from frame 0 to frame @frame at @t's edit rate. */
int64_t cue_frame_ms(const struct cue_track *t, int64_t frame);

/*
 * Parse "HH:MM:SS:FF" (non-drop) at @fps whole frames per second into a
 * frame number; false on anything else.
 */
bool cue_timecode_parse(const char *s, int32_t fps, int64_t *frame);

/*
 * Parse a zone: "all"; rows "A", "C-F" (comma-separated); or seats "A12",
 * "B3-B9".  False (zone untouched) on anything else.
 */
bool cue_zone_parse(const char *s, struct zone *z);

/* True when @a and @b share a seat. */
bool cue_zones_meet(const struct zone *a, const struct zone *b);

/* Seats in @z. */
int64_t cue_zone_seats(const struct zone *z);

#endif
