/*
 * entrypoints/dispensing/ltc_in.h - LTC (SMPTE 12M linear timecode)
 * audio in, decoded with libltc, as readings for the chaser
 * (domain/show.h).
 *
 * Audio is unsigned 8-bit mono at any rate (what `arecord -f U8` gives
 * and what libltc decodes natively).  Each decoded frame is a reading:
 * the title position at the end of that frame's codeword is the frame's
 * timecode plus one frame, and the local time of that sample follows
 * from the local time of the buffer it arrived in.
 */
#ifndef SCENTS_ENTRYPOINTS_DISPENSING_LTC_IN_H
#define SCENTS_ENTRYPOINTS_DISPENSING_LTC_IN_H

#include <stddef.h>
#include <stdint.h>

struct chase;

struct ltc_in {
	void *decoder;	  /* LTCDecoder */
	int32_t rate;	  /* samples per second */
	int32_t fps;	  /* whole frames per second (timecode base) */
	int32_t rate_num; /* the title's edit rate, for positions */
	int32_t rate_den;
	int64_t samples;     /* fed so far */
	int64_t frames;	     /* decoded so far */
	int64_t last_pos_us; /* the last reading's position */
};

/* A decoder for @rate Hz audio of a title at @num/@den fps; -1 on OOM. */
int ltc_in_open(struct ltc_in *l, int32_t rate, int32_t num, int32_t den);
void ltc_in_close(struct ltc_in *l);

/*
 * Feed @n samples, the last of which was captured at local time
 * @end_local_us; each frame decoded becomes a reading of @c.  The number
 * of frames decoded.
 */
size_t ltc_in_feed(struct ltc_in *l, uint8_t *samples, size_t n,
		   int64_t end_local_us, struct chase *c);

#endif
