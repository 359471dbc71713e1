/*
 * entrypoints/dispensing/ltc_in.c - LTC audio into chaser readings.
 */
#include "entrypoints/dispensing/ltc_in.h"

#include <ltc.h>
#include <string.h>

#include "domain/show.h"

int ltc_in_open(struct ltc_in *l, int32_t rate, int32_t num, int32_t den)
{
	memset(l, 0, sizeof(l[0]));
	l->rate = rate;
	l->rate_num = num;
	l->rate_den = den;
	/* Timecode counts whole frames: 30 for 30000/1001 (non-drop). */
	l->fps = (num + den - 1) / den;
	/* libltc wants audio samples per frame as a first guess; it tracks
	 * the real speed itself.  32 frames of queue: more than a loop
	 * turn ever leaves. */
	l->decoder = ltc_decoder_create(rate / (l->fps ? l->fps : 1), 32);
	return l->decoder ? 0 : -1;
}

void ltc_in_close(struct ltc_in *l)
{
	if (l->decoder)
		ltc_decoder_free(l->decoder);
	l->decoder = NULL;
}

size_t ltc_in_feed(struct ltc_in *l, uint8_t *samples, size_t n,
		   int64_t end_local_us, struct chase *c)
{
	LTCFrameExt fx;
	size_t got = 0;

	ltc_decoder_write(l->decoder, samples, n, l->samples);
	l->samples += (int64_t)n;
	while (ltc_decoder_read(l->decoder, &fx)) {
		SMPTETimecode tc;
		int64_t frame, pos, at;

		ltc_frame_to_time(&tc, &fx.ltc, 0);
		frame = (((int64_t)tc.hours * 60 + tc.mins) * 60 + tc.secs) *
				l->fps +
			tc.frame + 1;
		pos = frame * 1000000 * l->rate_den / l->rate_num;
		/* The sample ending the codeword, as local time. */
		at = end_local_us -
		     (l->samples - 1 - fx.off_end) * 1000000 / l->rate;
		chase_reading(c, at, pos);
		l->last_pos_us = pos;
		l->frames++;
		got++;
	}
	return got;
}
