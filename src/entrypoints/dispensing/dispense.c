/*
 * entrypoints/dispensing/dispense.c - the caps' counts (dispense.h).
 *
 * A fixed table of devices, each with the releases of its last minute;
 * a device idle for a minute frees its entry.  One mutex: a reservation
 * is a few dozen comparisons.
 */
#include "entrypoints/dispensing/dispense.h"

#include <pthread.h>
#include <string.h>

#include "common/err.h"
#include "entrypoints/dispensing/gateway_proto.h"

#define DEVICES	  256
#define MARKS	  64 /* releases a minute, per device, at most */
#define MINUTE_US 60000000

struct device_marks {
	int64_t venue; /* 0: free */
	int32_t row, seat;
	struct dispense_mark marks[MARKS];
	size_t n;
};

static struct device_marks devices[DEVICES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Drop marks older than a minute before @now_us. */
static void expire(struct device_marks *d, int64_t now_us)
{
	size_t k = 0;

	for (size_t i = 0; i < d->n; i++)
		if (now_us - d->marks[i].at_us < MINUTE_US)
			d->marks[k++] = d->marks[i];
	d->n = k;
	if (!k)
		d->venue = 0;
}

static struct device_marks *find(int64_t venue, int32_t row, int32_t seat,
				 int64_t now_us, bool make)
{
	struct device_marks *free_one = NULL;

	for (size_t i = 0; i < DEVICES; i++) {
		struct device_marks *d = &devices[i];

		if (d->venue)
			expire(d, now_us);
		if (d->venue == venue && d->row == row && d->seat == seat)
			return d;
		if (!d->venue && !free_one)
			free_one = d;
	}
	if (make && free_one)
		*free_one =
			(struct device_marks){venue, row, seat, {{0, 0}}, 0};
	return make ? free_one : NULL;
}

enum dispense_verdict dispense_reserve(int64_t venue, int32_t row, int32_t seat,
				       const struct dispense_caps *caps,
				       const struct dispense_ask *ask,
				       struct sc_err *err)
{
	struct device_marks *d;
	enum dispense_verdict v = DISPENSE_OK;

	if (dispense_allowed(caps, NULL, 0, ask, err))
		return DISPENSE_BAD;
	(void)pthread_mutex_lock(&lock);
	d = find(venue, row, seat, ask->now_us, true);
	if (!d || d->n == MARKS) {
		v = DISPENSE_OVER_RATE;
		(void)err_set(err, SC_EINVAL,
			      "too many releases this minute (%d at most)",
			      MARKS);
	} else if (dispense_allowed(caps, d->marks, d->n, ask, err)) {
		v = DISPENSE_OVER_RATE;
	} else {
		d->marks[d->n++] =
			(struct dispense_mark){ask->now_us, ask->dose_ul};
	}
	(void)pthread_mutex_unlock(&lock);
	return v;
}

void dispense_unreserve(int64_t venue, int32_t row, int32_t seat, int64_t at_us)
{
	struct device_marks *d;

	(void)pthread_mutex_lock(&lock);
	d = find(venue, row, seat, at_us, false);
	for (size_t i = 0; d && i < d->n; i++)
		if (d->marks[i].at_us == at_us) {
			d->marks[i] = d->marks[--d->n];
			break;
		}
	(void)pthread_mutex_unlock(&lock);
}

int dispense_fire(const struct venue *v, const struct dispense_at *at,
		  const struct dispense_ask *ask, bool *released,
		  struct sc_err *err)
{
	/* A puff later than half a second belongs to another moment of
	 * the game: resent every 20 ms until then, not after. */
	static const int64_t times[2] = {20000, 500000};
	int g = venue_gateway_of(v, at->row, at->seat);
	struct gw_msg fire = {.type = GW_FIRE,
			      .show = (uint32_t)ask->now_us,
			      .seq = 1,
			      .seats = UINT64_C(1) << (at->seat - 1),
			      .row = (uint8_t)at->row,
			      .slot = (uint8_t)at->slot,
			      .dose_ul = (uint16_t)ask->dose_ul,
			      .release_ms = (uint32_t)ask->duration_ms};
	struct gw_addr to;
	struct gw_msg ack;
	int rc;

	*released = false;
	if (g < 0)
		return err_set(err, SC_EINVAL, "no gateway serves seat %c%d",
			       'A' + at->row, (int)at->seat);
	rc = gw_resolve(v->gateways[g].address, &to, err);
	if (!rc)
		rc = gw_fire(&to, &fire, times, &ack, err);
	if (!rc)
		*released = ack.seats >> (at->seat - 1) & 1;
	return rc;
}
