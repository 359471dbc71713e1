/*
 * tests/tools/ltcgen.c - write LTC audio (unsigned 8-bit mono) with
 * libltc, for the end-to-end show test: `ltcgen OUT RATE FPS HH:MM:SS
 * SECONDS [PAUSE_AT_S PAUSE_S]` writes SECONDS of timecode from HH:MM:SS,
 * optionally with PAUSE_S seconds of silence (a dropout) after PAUSE_AT_S.
 */
#include <ltc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	SMPTETimecode tc;
	LTCEncoder *e;
	FILE *f;
	int rate, fps, h, m, s, seconds, pause_at = -1, pause_s = 0;

	if (argc != 6 && argc != 8) {
		fprintf(stderr, "usage: ltcgen OUT RATE FPS HH:MM:SS SECONDS "
				"[PAUSE_AT_S PAUSE_S]\n");
		return 2;
	}
	rate = atoi(argv[2]);
	fps = atoi(argv[3]);
	seconds = atoi(argv[5]);
	if (argc == 8) {
		pause_at = atoi(argv[6]);
		pause_s = atoi(argv[7]);
	}
	if (sscanf(argv[4], "%d:%d:%d", &h, &m, &s) != 3 || rate < 8000 ||
	    fps < 1 || seconds < 1)
		return 2;
	f = fopen(argv[1], "wb");
	e = ltc_encoder_create(rate, fps,
			       fps == 25 ? LTC_TV_625_50 : LTC_TV_FILM_24, 0);
	if (!f || !e)
		return 1;
	memset(&tc, 0, sizeof(tc));
	strcpy(tc.timezone, "+0000");
	tc.hours = (unsigned char)h;
	tc.mins = (unsigned char)m;
	tc.secs = (unsigned char)s;
	ltc_encoder_set_timecode(e, &tc);
	for (int i = 0; i < seconds * fps; i++) {
		ltcsnd_sample_t *buf;
		int n;

		if (i == pause_at * fps)
			for (long k = 0; k < (long)pause_s * rate; k++)
				(void)fputc(128, f); /* silence */
		ltc_encoder_encode_frame(e);
		n = ltc_encoder_get_bufferptr(e, &buf, 1);
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n)
			return 1;
		ltc_encoder_inc_timecode(e);
	}
	ltc_encoder_free(e);
	return fclose(f) ? 1 : 0;
}
