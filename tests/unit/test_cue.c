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
	static const struct seat_device dev[] = {{0, 1, low, 1},
						 {0, 2, ok, 2},
						 {0, 3, ok, 2},
						 {0, 4, sea_only, 1}};
	struct cue c[2] = {cue_at("s", 0, "SEA"), cue_at("p", 84, "PINE")};
	struct cue_track t = track_of(c, 2);
	struct venue v = {"Room", {{0}}, dev, 4, {{0}}, {{0}}, 100};
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
	struct seat_device dev = {0, 1, twice, 2};
	struct venue v = {"Room", {{0}}, &dev, 1, {{0}}, {{0}}, 100};
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
	};

	return cmocka_run_group_tests_name("test_cue", tests, NULL, NULL);
}
