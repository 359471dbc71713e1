/*
 * tests/unit/test_show.c - the show's transports (issue 16): LTC audio
 * made by libltc's encoder here, played through our decoder into the
 * chaser (position, lock modes on dropout, a seek); the gateway
 * protocol's messages round-trip and refuse what is not theirs; the
 * clock offset from one PING/PONG.
 */
#include <ltc.h>
#include <string.h>

#include "domain/show.h"
#include "entrypoints/dispensing/gateway_proto.h"
#include "entrypoints/dispensing/ltc_in.h"
#include "support/cmocka.h"

#define RATE	 48000
#define FPS	 24
#define FRAME_US (1000000 / FPS) /* 41666 */

/* An encoder at 48 kHz, 24 fps, from @h:@m:@s:00. */
static LTCEncoder *encoder_at(int h, int m, int s)
{
	LTCEncoder *e = ltc_encoder_create(RATE, FPS, LTC_TV_FILM_24, 0);
	SMPTETimecode tc;

	assert_non_null(e);
	memset(&tc, 0, sizeof(tc));
	strcpy(tc.timezone, "+0000");
	tc.hours = (unsigned char)h;
	tc.mins = (unsigned char)m;
	tc.secs = (unsigned char)s;
	ltc_encoder_set_timecode(e, &tc);
	return e;
}

/*
 * Play @frames frames from @e into @l as a sound card would: each
 * frame's samples arrive at the local time their last one was captured,
 * counted from @t0_us.  Returns the local time after the last.
 */
static int64_t play(LTCEncoder *e, struct ltc_in *l, struct chase *c,
		    int frames, int64_t t0_us)
{
	int64_t local = t0_us, fed = 0;

	for (int i = 0; i < frames; i++) {
		ltcsnd_sample_t *buf;
		int n;

		ltc_encoder_encode_frame(e);
		n = ltc_encoder_get_bufferptr(e, &buf, 1);
		fed += n;
		local = t0_us + fed * 1000000 / RATE;
		(void)ltc_in_feed(l, buf, (size_t)n, local, c);
		ltc_encoder_inc_timecode(e);
	}
	return local;
}

/*
 * Two seconds of 00:10:00:00 onwards: the chaser, fed only decoded
 * frames, says where the title is within a frame, at any local time.
 */
static void ltc_is_chased(void **state)
{
	LTCEncoder *e = encoder_at(0, 10, 0);
	struct ltc_in l;
	struct chase c;
	int64_t end, pos = 0;

	(void)state;
	assert_int_equal(ltc_in_open(&l, RATE, 24, 1), 0);
	chase_init(&c, LOCK_STRICT);
	end = play(e, &l, &c, 48, 0);
	/* The first frame or two train the decoder. */
	assert_in_range(l.frames, 45, 48);
	assert_true(chase_position(&c, end, &pos));
	/* 48 frames played: the title is at 00:10:02:00 at their end. */
	assert_in_range(pos, 602000000 - FRAME_US, 602000000 + FRAME_US);
	/* Half a frame later it has moved on half a frame. */
	assert_true(chase_position(&c, end + FRAME_US / 2, &pos));
	assert_in_range(pos, 602000000 - FRAME_US / 2,
			602000000 + FRAME_US * 3 / 2);
	/* Strict: the cable pulled, three frames later it stops. */
	assert_false(chase_position(&c, end + 200000, &pos));
	ltc_encoder_free(e);
	ltc_in_close(&l);
}

/* Freewheel runs on through a dropout; then a jump is a seek. */
static void ltc_dropout_and_seek(void **state)
{
	LTCEncoder *e = encoder_at(1, 0, 0);
	struct ltc_in l;
	struct chase c;
	int64_t end, pos = 0;

	(void)state;
	assert_int_equal(ltc_in_open(&l, RATE, 24, 1), 0);
	chase_init(&c, LOCK_FREEWHEEL);
	end = play(e, &l, &c, 24, 0);
	/* One second of silence: still running, a second further on. */
	assert_true(chase_position(&c, end + 1000000, &pos));
	assert_in_range(pos, 3601000000 + 1000000 - FRAME_US,
			3601000000 + 1000000 + FRAME_US);
	/* The projectionist jumps to 02:00:00:00. */
	ltc_encoder_free(e);
	e = encoder_at(2, 0, 0);
	end = play(e, &l, &c, 24, end + 1000000);
	assert_int_equal(c.seeks, 1);
	assert_true(chase_position(&c, end, &pos));
	assert_in_range(pos, 7201000000 - FRAME_US * 2, 7201000000 + FRAME_US);
	ltc_encoder_free(e);
	ltc_in_close(&l);
}

static void gateway_messages_round_trip(void **state)
{
	struct gw_msg m, back;
	uint8_t buf[GW_MAX_LEN];
	size_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = GW_FIRE;
	m.show = 0xdeadbeef;
	m.seq = 77;
	m.fire_at_us = UINT64_C(0x0102030405060708);
	m.seats = UINT64_C(0x8000000000000001);
	m.row = 25;
	m.slot = 16;
	m.dose_ul = 500;
	m.release_ms = 20000;
	m.ramp_ms = 800;
	m.pulse_on_ms = 2000;
	m.pulse_off_ms = 3000;
	m.pulse_count = 4;
	m.purge_ms = 3000;
	m.cue = 9999;
	n = gw_encode(&m, buf);
	assert_int_equal(n, 64);
	assert_true(gw_decode(buf, n, &back));
	assert_memory_equal(&m, &back, sizeof(m));
	/* Not ours: short, wrong magic, wrong length, a bad slot. */
	assert_false(gw_decode(buf, n - 1, &back));
	buf[0] = 'X';
	assert_false(gw_decode(buf, n, &back));
	buf[0] = 'S';
	buf[GW_HEADER_LEN + 17] = 0; /* slot 0 */
	assert_false(gw_decode(buf, n, &back));

	memset(&m, 0, sizeof(m));
	m.type = GW_ACK;
	m.flags = GW_FLAG_DUPLICATE;
	m.seq = 3;
	m.fired_at_us = 123456789;
	m.seats = 0xff;
	m.short_seats = 0x100;
	m.row = 2;
	n = gw_encode(&m, buf);
	assert_int_equal(n, 41);
	assert_true(gw_decode(buf, n, &back));
	assert_memory_equal(&m, &back, sizeof(m));
	buf[4] = 9; /* no such type */
	assert_false(gw_decode(buf, n, &back));
}

/* NTP's arithmetic: the gateway 5 s ahead, 3 ms each way, 1 ms inside. */
static void clock_offset_from_one_ping(void **state)
{
	struct gw_msg pong;
	int64_t rtt = 0;

	(void)state;
	memset(&pong, 0, sizeof(pong));
	pong.type = GW_PONG;
	pong.t0_us = 1000000;
	pong.t1_us = 1000000 + 3000 + 5000000;
	pong.t2_us = pong.t1_us + 1000;
	assert_int_equal(gw_offset(&pong, 1000000 + 7000, &rtt), 5000000);
	assert_int_equal(rtt, 6000);
	/* Asymmetric: 1 ms out, 5 ms back; the error is half the
	 * difference, which is why the shortest round trip is used. */
	pong.t1_us = 1000000 + 1000 + 5000000;
	pong.t2_us = pong.t1_us + 1000;
	assert_int_equal(gw_offset(&pong, 1000000 + 7000, &rtt), 4998000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ltc_is_chased),
		cmocka_unit_test(ltc_dropout_and_seek),
		cmocka_unit_test(gateway_messages_round_trip),
		cmocka_unit_test(clock_offset_from_one_ping),
	};

	return cmocka_run_group_tests_name("test_show", tests, NULL, NULL);
}
