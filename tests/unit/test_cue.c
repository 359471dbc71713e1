/*
 * tests/unit/test_cue.c - cue track rules (issue 16): timecodes, zones,
 * the burst cap, gaps between different scents, exclusive groups, and
 * the dose per scent a track asks of each seat, against hand-counted
 * numbers.
 */
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/cue.h"
#include "domain/show.h"
#include "domain/venue.h"
#include "support/cmocka.h"

static const struct palette_entry palette[] = {{"SEA", 1}, {"PINE", 2}};

/* A one-second cue of SEA at 24 fps from @start for every seat. */
static struct cue cue_at(const char *id, int64_t start, const char *sku)
{
	struct cue c;

	memset(&c, 0, sizeof(c));
	c.id = id;
	c.start = start;
	c.duration = 24;
	c.sku = sku;
	c.dose_ul = 10;
	(void)cue_zone_parse("all", &c.zone);
	return c;
}

static struct cue_track track_of(const struct cue *cues, size_t n)
{
	return (struct cue_track){"Ocean Drift", NULL, NULL, 24, 1,
				  palette,	 2,    cues, n};
}

static int check(const struct cue *cues, size_t n, struct sc_err *err)
{
	struct cue_track t = track_of(cues, n);
	struct arena a;
	int rc;

	arena_init(&a);
	err_clear(err);
	rc = cue_track_check(&t, &a, err);
	arena_release(&a);
	return rc;
}

static void timecodes_and_zones(void **state)
{
	struct zone z, w;
	int64_t f;

	(void)state;
	/* 00:01:10:12 at 24 fps = 70 s * 24 + 12 = 1692 */
	assert_true(cue_timecode_parse("00:01:10:12", 24, &f));
	assert_int_equal(f, 1692);
	assert_false(cue_timecode_parse("00:01:10:24", 24, &f));
	assert_false(cue_timecode_parse("00:61:10:00", 24, &f));
	assert_false(cue_timecode_parse("1:01:10:00", 24, &f));
	assert_true(cue_zone_parse("A-C", &z));
	assert_int_equal(cue_zone_seats(&z), 3 * 64);
	assert_true(cue_zone_parse("D12,D3-D5", &w));
	assert_int_equal(cue_zone_seats(&w), 4);
	assert_false(cue_zones_meet(&z, &w));
	assert_true(cue_zone_parse("C,D4", &z));
	assert_true(cue_zones_meet(&z, &w));
	assert_false(cue_zone_parse("D5-D3", &z));
	assert_false(cue_zone_parse("D65", &z));
	assert_false(cue_zone_parse("A,", &z));
	assert_false(cue_zone_parse("a", &z));
}

static void a_burst_is_capped_unless_pulsed(void **state)
{
	struct cue c = cue_at("long", 0, "SEA");
	struct sc_err err;

	(void)state;
	c.duration = 24 * 21; /* 21 s continuous */
	assert_int_equal(check(&c, 1, &err), SC_EINVAL);
	assert_non_null(strstr(err.msg, "21000 ms of continuous release"));
	c.pulse = (struct pulse){2000, 3000, 4}; /* 4 x 5 s = 20 s: fits */
	assert_int_equal(check(&c, 1, &err), SC_OK);
	c.pulse.count = 5; /* 25 s > 21 s */
	assert_int_equal(check(&c, 1, &err), SC_EINVAL);
}

/*
 * SEA ends at 1 s (frame 24); PINE starts at frame 60 = 2.5 s: 1 500 ms
 * later.  A gap of 1 500 ms is enough; 2 000 is not.
 */
static void different_scents_keep_their_gap(void **state)
{
	struct cue c[2] = {cue_at("sea", 0, "SEA"), cue_at("pine", 60, "PINE")};
	struct sc_err err;

	(void)state;
	c[0].min_gap_ms = 1500;
	assert_int_equal(check(c, 2, &err), SC_OK);
	c[1].min_gap_ms = 2000;
	assert_int_equal(check(c, 2, &err), SC_EINVAL);
	assert_string_equal(err.msg,
			    "cue 'pine' (PINE) starts 1500 ms after cue 'sea' "
			    "(SEA) ends in the same seats; different scents "
			    "need 2000 ms");
	/* other seats: no blur */
	(void)cue_zone_parse("A", &c[0].zone);
	(void)cue_zone_parse("B", &c[1].zone);
	assert_int_equal(check(c, 2, &err), SC_OK);
	/* the same scent may follow at once */
	c[1] = cue_at("sea2", 24, "SEA");
	c[1].min_gap_ms = 5000;
	(void)cue_zone_parse("A", &c[1].zone);
	assert_int_equal(check(c, 2, &err), SC_OK);
}

static void exclusive_groups_do_not_overlap(void **state)
{
	struct cue c[2] = {cue_at("rain", 0, "SEA"), cue_at("more", 30, "SEA")};
	struct sc_err err;

	(void)state;
	c[0].group = c[1].group = "weather";
	assert_int_equal(check(c, 2, &err), SC_OK); /* 1 s, then 1.25 s */
	c[0].purge_after_ms = 500;		    /* busy until 1.5 s */
	assert_int_equal(check(c, 2, &err), SC_EINVAL);
	assert_non_null(strstr(err.msg, "exclusive group 'weather' overlap"));
}

static void bad_cues_are_named(void **state)
{
	struct cue c[2] = {cue_at("a", 0, "SEA"), cue_at("a", 100, "SEA")};
	struct sc_err err;

	(void)state;
	assert_int_equal(check(c, 2, &err), SC_EINVAL);
	assert_string_equal(err.msg, "cue 'a' is listed twice");
	c[1].id = "b";
	c[1].sku = "ROSE";
	assert_int_equal(check(c, 2, &err), SC_EINVAL);
	assert_string_equal(err.msg,
			    "cue 'b': scent 'ROSE' is not in the palette");
	c[1].sku = "SEA";
	c[1].dose_ul = 501;
	assert_int_equal(check(c, 2, &err), SC_EINVAL);
	c[1].dose_ul = 10;
	c[1].substitute = "SEA";
	assert_int_equal(check(c, 2, &err), SC_EINVAL);
	c[1].substitute = "PINE";
	assert_int_equal(check(c, 2, &err), SC_OK);
}

/*
 * SEA: 10 ul to all 26 x 64 = 1 664 seats, then 25 ul to row A (64
 * seats): row A seats get 35, the rest 10; total 16 640 + 1 600.  PINE:
 * 4 pulses of 500 ms to seat B7 only.
 */
static void doses_per_scent_per_seat(void **state)
{
	struct cue c[3] = {cue_at("s1", 0, "SEA"), cue_at("s2", 48, "SEA"),
			   cue_at("p1", 96, "PINE")};
	struct cue_track t = track_of(c, 3);
	struct scent_dose *d;
	struct arena a;
	struct sc_err err;

	(void)state;
	c[1].dose_ul = 25;
	(void)cue_zone_parse("A", &c[1].zone);
	c[2].duration = 24 * 5;
	c[2].pulse = (struct pulse){500, 500, 4};
	c[2].min_gap_ms = 0;
	(void)cue_zone_parse("B7", &c[2].zone);
	arena_init(&a);
	err_clear(&err);
	assert_int_equal(cue_track_check(&t, &a, &err), SC_OK);
	assert_int_equal(cue_track_doses(&t, &a, &d, &err), SC_OK);
	assert_string_equal(d[0].sku, "SEA");
	assert_int_equal(d[0].cues, 2);
	assert_int_equal(d[0].max_seat_ul, 35);
	assert_int_equal(d[0].total_ul, 16640 + 1600);
	assert_int_equal(d[0].seats, 1664);
	assert_int_equal(d[0].release_ms, 2000);
	assert_int_equal(d[1].max_seat_ul, 10);
	assert_int_equal(d[1].seats, 1);
	assert_int_equal(d[1].release_ms, 2000); /* 4 x 500 ms */
	arena_release(&a);
}

/* A venue named Room of @n devices, 100 ul cartridges, no seats yet. */
static struct venue room(const struct seat_device *dev, size_t n)
{
	struct venue v;

	memset(&v, 0, sizeof(v));
	v.name = "Room";
	v.devices = dev;
	v.n_devices = n;
	v.capacity_ul = 100;
	v.refill_unit_ul = 100;
	v.caps = (struct dispense_caps){100, 5000};
	return v;
}

/*
 * Row A seats 1-4, all sold, seat 2 opted out; the track sends SEA (slot
 * 1) 10 ul to all and PINE (slot 2) 10 ul to A4 only (2.5 s later).
 * Seat 1 holds 5 ul of SEA: refill 95 to the 100 ul capacity; seat 3
 * is fine; seat 4 has SEA but no PINE slot.  Three seats play.
 */
static void preshow_by_hand(void **state)
{
	static const struct cartridge low[] = {{1, "SEA", NULL, 5}};
	static const struct cartridge sea_only[] = {{1, "SEA", NULL, 50}};
	static const struct cartridge ok[] = {{1, "SEA", NULL, 50},
					      {2, "PINE", NULL, 50}};
	static const struct seat_device dev[] = {{0, 1, low, 1, 0},
						 {0, 2, ok, 2, 0},
						 {0, 3, ok, 2, 0},
						 {0, 4, sea_only, 1, 0}};
	struct cue c[2] = {cue_at("s", 0, "SEA"), cue_at("p", 84, "PINE")};
	struct cue_track t = track_of(c, 2);
	struct venue v = room(dev, 4);
	struct preshow_report r;
	struct arena a;
	struct sc_err err;

	(void)state;
	(void)cue_zone_parse("A4", &c[1].zone);
	(void)cue_zone_parse("A1-A4", &v.seats);
	(void)cue_zone_parse("A1-A4", &v.occupied);
	(void)cue_zone_parse("A2", &v.opted_out);
	arena_init(&a);
	err_clear(&err);
	assert_int_equal(cue_track_check(&t, &a, &err), SC_OK);
	assert_int_equal(venue_check(&v, &err), SC_OK);
	assert_int_equal(venue_preshow(&t, &v, &a, &r, &err), SC_OK);
	assert_int_equal(r.seats_playing, 3);
	assert_false(r.ready);
	assert_int_equal(r.n_lines, 2);
	assert_int_equal(r.lines[0].seat, 1);
	assert_int_equal(r.lines[0].problem, PRESHOW_REFILL);
	assert_int_equal(r.lines[0].refill_ul, 95);
	assert_int_equal(r.lines[1].seat, 4);
	assert_int_equal(r.lines[1].problem, PRESHOW_NO_SLOT);
	assert_int_equal(r.refill_ul[0], 95);
	assert_int_equal(r.refill_ul[1], 0);
	assert_string_equal(preshow_problem_name(PRESHOW_NO_SLOT), "no slot");
	arena_release(&a);
}

static void venues_keep_their_rules(void **state)
{
	static const struct cartridge twice[] = {{1, "SEA", NULL, 5},
						 {1, "PINE", NULL, 5}};
	static const struct cartridge full[] = {{1, "SEA", NULL, 101}};
	struct seat_device dev = {0, 1, twice, 2, 0};
	struct venue v = room(&dev, 1);
	struct sc_err err;

	(void)state;
	(void)cue_zone_parse("A1-A4", &v.seats);
	err_clear(&err);
	assert_int_equal(venue_check(&v, &err), SC_EINVAL);
	assert_string_equal(err.msg, "device of seat A1: slot 1 twice");
	dev.slots = full;
	dev.n_slots = 1;
	err_clear(&err);
	assert_int_equal(venue_check(&v, &err), SC_EINVAL); /* over capacity */
	dev.n_slots = 0;
	(void)cue_zone_parse("B1", &v.occupied);
	err_clear(&err);
	assert_int_equal(venue_check(&v, &err), SC_EINVAL); /* not a seat */
	memset(&v.occupied, 0, sizeof(v.occupied));
	v.capacity_ul = 0;
	err_clear(&err);
	assert_int_equal(venue_check(&v, &err), SC_EINVAL);
	v.capacity_ul = 100;
	v.name = "";
	err_clear(&err);
	assert_int_equal(venue_check(&v, &err), SC_EINVAL);
	v.name = "Room";
	err_clear(&err);
	assert_int_equal(venue_check(&v, &err), SC_OK);
}

/*
 * Row A seats 1-4 sold, A2 opted out.  Gateway 0 serves A1-A2, gateway 1
 * A3-A4.  Devices A1 and A3 take 100 ms to reach the nose, A4 300 ms;
 * SEA adds 50 ms.  A SEA cue at 2 s: A4 fires at 1.65 s, then A1 and A3
 * at 1.85 s, one fire per gateway.
 */
static void plan_fires_ahead_by_latency(void **state)
{
	static const struct cartridge sea[] = {{1, "SEA", NULL, 50}};
	static const struct seat_device dev[] = {{0, 1, sea, 1, 100},
						 {0, 2, sea, 1, 100},
						 {0, 3, sea, 1, 100},
						 {0, 4, sea, 1, 300}};
	static const struct scent_latency extra[] = {{"SEA", 50}};
	struct gateway gw[2] = {{"127.0.0.1:1", {{0}}}, {"127.0.0.1:2", {{0}}}};
	struct cue c = cue_at("s", 48, "SEA");
	struct cue_track t = track_of(&c, 1);
	struct venue v = room(dev, 4);
	struct show_plan p;
	struct arena a;
	struct sc_err err;

	(void)state;
	(void)cue_zone_parse("A1-A2", &gw[0].seats);
	(void)cue_zone_parse("A3-A4", &gw[1].seats);
	(void)cue_zone_parse("A1-A4", &v.seats);
	(void)cue_zone_parse("A1-A4", &v.occupied);
	(void)cue_zone_parse("A2", &v.opted_out);
	v.scent_latency = extra;
	v.n_scent_latency = 1;
	arena_init(&a);
	err_clear(&err);
	/* Without gateways nothing can be sent: the seat is named. */
	assert_int_equal(show_plan(&t, &v, &a, &p, &err), SC_EINVAL);
	assert_string_equal(err.msg, "seat A1 plays cue 's' but no gateway "
				     "serves it");
	v.gateways = gw;
	v.n_gateways = 2;
	err_clear(&err);
	assert_int_equal(venue_check(&v, &err), SC_OK);
	assert_int_equal(show_plan(&t, &v, &a, &p, &err), SC_OK);
	assert_int_equal(p.n_fires, 3);
	assert_int_equal(p.seat_fires, 3);
	assert_int_equal(p.seats_playing, 3);
	assert_int_equal(p.end_us, 3000000);
	assert_int_equal(p.fires[0].plan_us, 1650000);
	assert_int_equal(p.fires[0].seats, 1u << 3);
	assert_int_equal(p.fires[0].gateway, 1);
	assert_int_equal(p.fires[1].plan_us, 1850000);
	assert_int_equal(p.fires[1].seats, 1u << 0);
	assert_int_equal(p.fires[1].gateway, 0);
	assert_int_equal(p.fires[2].seats, 1u << 2);
	assert_int_equal(p.fires[2].at_us, 2000000);
	assert_int_equal(p.fires[2].duration_ms, 1000);
	/* A seat both gateways claim is refused before any plan. */
	(void)cue_zone_parse("A2-A4", &gw[1].seats);
	err_clear(&err);
	assert_int_equal(venue_check(&v, &err), SC_EINVAL);
	arena_release(&a);
}

/*
 * One seat with 15 ul of SEA and 100 of PINE; three 10 ul SEA cues, the
 * first two falling back to PINE: the first takes SEA, the second (5 ul
 * of SEA left) PINE, the third has no fallback and is skipped, never
 * fired dry.
 */
static void plan_falls_back_then_skips(void **state)
{
	static const struct cartridge two[] = {{1, "SEA", "b-1", 15},
					       {2, "PINE", "b-2", 100}};
	static const struct seat_device dev[] = {{0, 1, two, 2, 0}};
	struct gateway gw = {"127.0.0.1:1", {{0}}};
	struct cue c[3] = {cue_at("a", 0, "SEA"), cue_at("b", 480, "SEA"),
			   cue_at("c", 960, "SEA")};
	struct cue_track t = track_of(c, 3);
	struct venue v = room(dev, 1);
	struct show_plan p;
	struct arena a;
	struct sc_err err;

	(void)state;
	c[0].substitute = c[1].substitute = "PINE";
	(void)cue_zone_parse("A1", &gw.seats);
	(void)cue_zone_parse("A1", &v.seats);
	(void)cue_zone_parse("A1", &v.occupied);
	v.gateways = &gw;
	v.n_gateways = 1;
	arena_init(&a);
	err_clear(&err);
	assert_int_equal(cue_track_check(&t, &a, &err), SC_OK);
	assert_int_equal(show_plan(&t, &v, &a, &p, &err), SC_OK);
	assert_int_equal(p.n_fires, 2);
	assert_string_equal(p.fires[0].sku, "SEA");
	assert_false(p.fires[0].substitute);
	assert_string_equal(p.fires[1].sku, "PINE");
	assert_int_equal(p.fires[1].slot, 2);
	assert_true(p.fires[1].substitute);
	assert_int_equal(p.substituted, 1);
	assert_int_equal(p.skipped, 1);
	/* Nobody sold: nothing planned. */
	memset(&v.occupied, 0, sizeof(v.occupied));
	assert_int_equal(show_plan(&t, &v, &a, &p, &err), SC_OK);
	assert_int_equal(p.n_fires, 0);
	assert_int_equal(p.seats_playing, 0);
	arena_release(&a);
}

/* Strict follows the source and stops when it stops. */
static void chase_strict(void **state)
{
	struct chase c;
	int64_t pos = -1;

	(void)state;
	chase_init(&c, LOCK_STRICT);
	assert_false(chase_position(&c, 0, &pos)); /* no lock yet */
	chase_reading(&c, 1000000, 60000000);	   /* 00:01:00:00 */
	assert_true(chase_position(&c, 1040000, &pos));
	assert_int_equal(pos, 60040000);
	/* The source runs 1 ms slow: strict follows it. */
	chase_reading(&c, 1041667, 60040667);
	assert_true(chase_position(&c, 1041667, &pos));
	assert_int_equal(pos, 60040667);
	/* Three frames without a reading: stopped. */
	assert_true(chase_position(&c, 1041667 + 125000, &pos));
	assert_false(chase_position(&c, 1041667 + 125001, &pos));
	/* A reading two minutes on is a seek, counted, and followed. */
	chase_reading(&c, 2000000, 180000000);
	assert_int_equal(c.seeks, 1);
	assert_true(chase_position(&c, 2010000, &pos));
	assert_int_equal(pos, 180010000);
	/* The same position again: paused. */
	chase_reading(&c, 2041667, 180000000 + 41667);
	chase_reading(&c, 2083333, 180000000 + 41667);
	assert_false(chase_position(&c, 2083334, &pos));
	/* It moves again: playing from there. */
	chase_reading(&c, 3000000, 180000000 + 83333);
	assert_true(chase_position(&c, 3000000, &pos));
	assert_int_equal(pos, 180083333);
	assert_string_equal(lock_mode_name(LOCK_STRICT), "strict");
}

/* Freewheel runs on through a dropout, for a while; jam for ever. */
static void chase_freewheel_and_jam(void **state)
{
	enum lock_mode m = LOCK_STRICT;
	struct chase c;
	int64_t pos = -1;

	(void)state;
	chase_init(&c, LOCK_FREEWHEEL);
	chase_reading(&c, 0, 1000000);
	assert_true(chase_position(&c, 2000000, &pos));
	assert_int_equal(pos, 3000000);
	assert_true(chase_position(&c, 2125000, &pos));
	assert_false(chase_position(&c, 2125001, &pos));

	chase_init(&c, LOCK_JAM);
	chase_reading(&c, 0, 1000000);
	/* Jam ignores a reading off by less than a seek ... */
	chase_reading(&c, 500000, 1400000);
	assert_true(chase_position(&c, 600000, &pos));
	assert_int_equal(pos, 1600000);
	/* ... runs on without readings ... */
	assert_true(chase_position(&c, 3600000000LL, &pos));
	/* ... and re-jams on a seek. */
	chase_reading(&c, 1000000, 9000000);
	assert_true(chase_position(&c, 1000000, &pos));
	assert_int_equal(pos, 9000000);
	assert_int_equal(c.seeks, 1);

	/* A compressed show runs the title at its speed. */
	chase_init(&c, LOCK_JAM);
	c.speed = 60;
	chase_reading(&c, 0, 0);
	assert_true(chase_position(&c, 1000000, &pos));
	assert_int_equal(pos, 60000000);

	assert_true(lock_mode_parse("freewheel", &m));
	assert_int_equal(m, LOCK_FREEWHEEL);
	assert_false(lock_mode_parse("loose", &m));
}

/*
 * A fire planned at 1 s, 1 s long, with a 200 ms tolerance: it waits
 * before, fires from 1 s to 1.2 s shortened by its lateness (so its end,
 * its purge and the next cue's gap stay where planned), and is missed
 * after (a seek past it, a pause over it).
 */
static void fires_due_within_tolerance(void **state)
{
	struct fire f;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.plan_us = 1000000;
	f.duration_ms = 1000;
	assert_int_equal(fire_due(&f, 999999, 200000), FIRE_WAIT);
	assert_int_equal(fire_due(&f, 1000000, 200000), FIRE_NOW);
	assert_int_equal(fire_release_ms(&f, 1000000), 1000);
	assert_int_equal(fire_due(&f, 1150000, 200000), FIRE_NOW);
	assert_int_equal(fire_release_ms(&f, 1150000), 850);
	assert_int_equal(fire_due(&f, 1200000, 200000), FIRE_NOW);
	assert_int_equal(fire_due(&f, 1200001, 200000), FIRE_MISSED);
	f.duration_ms = 10;
	assert_int_equal(fire_release_ms(&f, 1150000), 1);
}

/* A personal dispenser's caps: per burst, per sliding minute. */
static void dispense_caps_hold(void **state)
{
	const struct dispense_caps caps = {100, 5000};
	const struct dispense_mark recent[] = {{0, 40}, {30000000, 40}};
	struct dispense_ask ask = {59000000, 20, 2000};
	struct sc_err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(dispense_allowed(&caps, recent, 2, &ask, &err), SC_OK);
	ask.dose_ul = 21;
	assert_int_equal(dispense_allowed(&caps, recent, 2, &ask, &err),
			 SC_EINVAL);
	assert_string_equal(err.msg, "this device's cap is 100 ul per "
				     "minute; 80 ul were released in the "
				     "last minute");
	/* A minute after the first, it no longer counts. */
	ask.now_us = 60000000;
	err_clear(&err);
	assert_int_equal(dispense_allowed(&caps, recent, 2, &ask, &err), SC_OK);
	ask.duration_ms = 5001;
	assert_int_equal(dispense_allowed(&caps, recent, 2, &ask, &err),
			 SC_EINVAL);
	ask.duration_ms = 100;
	ask.dose_ul = 0;
	err_clear(&err);
	assert_int_equal(dispense_allowed(&caps, recent, 2, &ask, &err),
			 SC_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timecodes_and_zones),
		cmocka_unit_test(a_burst_is_capped_unless_pulsed),
		cmocka_unit_test(different_scents_keep_their_gap),
		cmocka_unit_test(exclusive_groups_do_not_overlap),
		cmocka_unit_test(bad_cues_are_named),
		cmocka_unit_test(doses_per_scent_per_seat),
		cmocka_unit_test(preshow_by_hand),
		cmocka_unit_test(venues_keep_their_rules),
		cmocka_unit_test(plan_fires_ahead_by_latency),
		cmocka_unit_test(plan_falls_back_then_skips),
		cmocka_unit_test(chase_strict),
		cmocka_unit_test(chase_freewheel_and_jam),
		cmocka_unit_test(fires_due_within_tolerance),
		cmocka_unit_test(dispense_caps_hold),
	};

	return cmocka_run_group_tests_name("test_cue", tests, NULL, NULL);
}
