/*
 * domain/cue.c - cue track rules and dose per scent.
 */
#include "domain/cue.h"

#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/model.h"

int64_t cue_frame_ms(const struct cue_track *t, int64_t frame)
{
	return frame * 1000 * t->rate_den / t->rate_num;
}

bool cue_timecode_parse(const char *s, int32_t fps, int64_t *frame)
{
	int v[4] = {0}, k = 0, digits = 0;

	if (!s || fps < 1)
		return false;
	for (; *s && k < 4; s++) {
		if (*s >= '0' && *s <= '9' && digits < 2) {
			v[k] = v[k] * 10 + (*s - '0');
			digits++;
		} else if (*s == ':' && digits == 2 && k < 3) {
			k++;
			digits = 0;
		} else {
			return false;
		}
	}
	if (*s || k != 3 || digits != 2 || v[1] > 59 || v[2] > 59 ||
	    v[3] >= fps)
		return false;
	*frame = (((int64_t)v[0] * 60 + v[1]) * 60 + v[2]) * fps + v[3];
	return true;
}

/* "A" .. "Z" -> 0..25, or -1. */
static int row_of(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' : -1;
}

/* A seat "A12": its row and seat number; the length read, 0 when bad. */
static size_t seat_of(const char *s, int *row, int *seat)
{
	size_t n = 1;

	*row = row_of(s[0]);
	*seat = 0;
	if (*row < 0)
		return 0;
	while (s[n] >= '0' && s[n] <= '9' && n < 4)
		*seat = *seat * 10 + (s[n++] - '0');
	return n > 1 && *seat >= 1 && *seat <= CUE_SEATS_MAX ? n : 0;
}

/* One comma-separated item: "C", "C-F", "A12" or "B3-B9". */
static bool zone_item(const char *s, size_t len, struct zone *z)
{
	int r1, r2, s1, s2;
	size_t n;

	if (len == 1 || (len == 3 && s[1] == '-')) { /* rows */
		r1 = row_of(s[0]);
		r2 = len == 3 ? row_of(s[2]) : r1;
		if (r1 < 0 || r2 < r1)
			return false;
		for (int r = r1; r <= r2; r++)
			z->rows[r] = UINT64_MAX;
		return true;
	}
	n = seat_of(s, &r1, &s1);
	if (!n)
		return false;
	s2 = s1;
	if (n < len) { /* a range of one row: "B3-B9" */
		size_t m;

		if (s[n] != '-' || !(m = seat_of(s + n + 1, &r2, &s2)) ||
		    r2 != r1 || n + 1 + m != len || s2 < s1)
			return false;
	} else if (n != len) {
		return false;
	}
	for (int k = s1; k <= s2; k++)
		z->rows[r1] |= UINT64_C(1) << (k - 1);
	return true;
}

bool cue_zone_parse(const char *s, struct zone *z)
{
	struct zone out;

	if (!s || !*s)
		return false;
	memset(&out, 0, sizeof(out));
	if (!strcmp(s, "all")) {
		for (int r = 0; r < CUE_ROWS_MAX; r++)
			out.rows[r] = UINT64_MAX;
		*z = out;
		return true;
	}
	while (*s) {
		size_t len = strcspn(s, ",");

		if (!len || !zone_item(s, len, &out))
			return false;
		s += len;
		if (*s == ',' && !*++s)
			return false; /* a trailing comma */
	}
	*z = out;
	return true;
}

bool cue_zones_meet(const struct zone *a, const struct zone *b)
{
	for (int r = 0; r < CUE_ROWS_MAX; r++)
		if (a->rows[r] & b->rows[r])
			return true;
	return false;
}

int64_t cue_zone_seats(const struct zone *z)
{
	int64_t n = 0;

	for (int r = 0; r < CUE_ROWS_MAX; r++)
		n += __builtin_popcountll(z->rows[r]);
	return n;
}

static const struct palette_entry *palette_find(const struct cue_track *t,
						const char *sku)
{
	for (size_t i = 0; sku && i < t->n_palette; i++)
		if (!strcmp(t->palette[i].sku, sku))
			return &t->palette[i];
	return NULL;
}

static int check_palette(const struct cue_track *t, struct sc_err *err)
{
	if (t->rate_num < 1 || t->rate_den < 1 ||
	    t->rate_num > 240 * t->rate_den)
		return err_set(err, SC_EINVAL,
			       "edit_rate must be frames per second such as "
			       "24/1 or 30000/1001, at most 240");
	if (t->n_palette < 1 || t->n_palette > CUE_PALETTE_MAX)
		return err_set(err, SC_EINVAL, "a palette holds 1 to %d scents",
			       CUE_PALETTE_MAX);
	for (size_t i = 0; i < t->n_palette; i++) {
		const struct palette_entry *p = &t->palette[i];

		if (!p->sku || !ident_valid(p->sku, strlen(p->sku)) ||
		    p->slot < 1 || p->slot > CUE_PALETTE_MAX)
			return err_set(err, SC_EINVAL,
				       "palette: each scent is a sku with a "
				       "slot from 1 to %d",
				       CUE_PALETTE_MAX);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->palette[j].sku, p->sku) ||
			    t->palette[j].slot == p->slot)
				return err_set(err, SC_EINVAL,
					       "palette: '%s' and '%s' share a "
					       "sku or a slot",
					       t->palette[j].sku, p->sku);
	}
	return SC_OK;
}

/* Milliseconds of release of @c (pulses counted). */
static int64_t release_ms(const struct cue_track *t, const struct cue *c)
{
	return c->pulse.count ? (int64_t)c->pulse.count * c->pulse.on_ms
			      : cue_frame_ms(t, c->duration);
}

static int check_timing(const struct cue_track *t, const struct cue *c,
			struct sc_err *err)
{
	int64_t ms = cue_frame_ms(t, c->duration);
	const struct pulse *p = &c->pulse;

	if (c->start < 0 || c->duration < 1)
		return err_set(err, SC_EINVAL,
			       "cue '%s': start from frame 0, last one frame "
			       "or more",
			       c->id);
	if (!p->count && ms > CUE_BURST_MAX_MS)
		return err_set(err, SC_EINVAL,
			       "cue '%s': %lld ms of continuous release is "
			       "above the %d ms burst cap (pulse it)",
			       c->id, (long long)ms, CUE_BURST_MAX_MS);
	if (p->count &&
	    (p->count < 0 || p->on_ms < 1 || p->on_ms > CUE_BURST_MAX_MS ||
	     p->off_ms < 0 || (int64_t)p->count * (p->on_ms + p->off_ms) > ms))
		return err_set(err, SC_EINVAL,
			       "cue '%s': its pulses (on 1 to %d ms, off 0 or "
			       "more) must fit its duration of %lld ms",
			       c->id, CUE_BURST_MAX_MS, (long long)ms);
	if (c->ramp_ms < 0 || c->ramp_ms > ms)
		return err_set(err, SC_EINVAL,
			       "cue '%s': ramp_ms must be 0 to its duration",
			       c->id);
	return SC_OK;
}

static int check_cue(const struct cue_track *t, const struct cue *c,
		     struct sc_err *err)
{
	if (!c->id || !ident_valid(c->id, strlen(c->id)))
		return err_set(err, SC_EINVAL,
			       "every cue needs an id of 1 to %d bytes",
			       SC_ID_MAX);
	if (!palette_find(t, c->sku))
		return err_set(err, SC_EINVAL,
			       "cue '%s': scent '%s' is not in the palette",
			       c->id, c->sku ? c->sku : "");
	if (c->dose_ul < 1 || c->dose_ul > CUE_DOSE_MAX_UL)
		return err_set(err, SC_EINVAL,
			       "cue '%s': dose %d ul is not 1 to %d ul per "
			       "seat",
			       c->id, (int)c->dose_ul, CUE_DOSE_MAX_UL);
	if (!cue_zone_seats(&c->zone))
		return err_set(err, SC_EINVAL, "cue '%s': its zone is empty",
			       c->id);
	if (c->purge_after_ms < 0 || c->purge_after_ms > CUE_GAP_MAX_MS ||
	    c->min_gap_ms < 0 || c->min_gap_ms > CUE_GAP_MAX_MS ||
	    c->priority < 0 || c->priority > CUE_PRIORITY_MAX)
		return err_set(err, SC_EINVAL,
			       "cue '%s': purge and gap 0 to %d ms, priority "
			       "0 to %d",
			       c->id, CUE_GAP_MAX_MS, CUE_PRIORITY_MAX);
	if (c->substitute &&
	    (!palette_find(t, c->substitute) || !strcmp(c->substitute, c->sku)))
		return err_set(err, SC_EINVAL,
			       "cue '%s': its substitute must be another "
			       "scent of the palette",
			       c->id);
	return check_timing(t, c, err);
}

/* Cues in some order, without a global for qsort (threads share this). */
static int by_start(const void *pa, const void *pb)
{
	const struct cue *a = *(const struct cue *const *)pa;
	const struct cue *b = *(const struct cue *const *)pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return strcmp(a->id, b->id);
}

static int by_id(const void *pa, const void *pb)
{
	return strcmp((*(const struct cue *const *)pa)->id,
		      (*(const struct cue *const *)pb)->id);
}

/*
 * Cue @b starts at or after cue @a: do they break a rule?  Exclusive
 * groups may not overlap, purge included; different scents need the
 * larger of their gaps between @a's end of release and @b's start.
 */
static int check_pair(const struct cue_track *t, const struct cue *a,
		      const struct cue *b, struct sc_err *err)
{
	int64_t a_end = cue_frame_ms(t, a->start + a->duration);
	int64_t b_start = cue_frame_ms(t, b->start);
	int32_t gap =
		a->min_gap_ms > b->min_gap_ms ? a->min_gap_ms : b->min_gap_ms;

	if (!cue_zones_meet(&a->zone, &b->zone))
		return SC_OK;
	if (a->group && b->group && !strcmp(a->group, b->group) &&
	    b_start < a_end + a->purge_after_ms)
		return err_set(err, SC_EINVAL,
			       "cues '%s' and '%s' of exclusive group '%s' "
			       "overlap",
			       a->id, b->id, a->group);
	if (strcmp(a->sku, b->sku) != 0 && b_start < a_end + gap)
		return err_set(err, SC_EINVAL,
			       "cue '%s' (%s) starts %lld ms after cue '%s' "
			       "(%s) ends in the same seats; different scents "
			       "need %d ms",
			       b->id, b->sku, (long long)(b_start - a_end),
			       a->id, a->sku, (int)gap);
	return SC_OK;
}

/* Pairs close enough in time to break a rule, by start. */
static int check_pairs(const struct cue_track *t,
		       const struct cue *const *order, struct sc_err *err)
{
	for (size_t i = 0; i < t->n_cues; i++) {
		const struct cue *a = order[i];
		int64_t horizon = cue_frame_ms(t, a->start + a->duration) +
				  a->purge_after_ms + CUE_GAP_MAX_MS;

		for (size_t j = i + 1; j < t->n_cues; j++) {
			const struct cue *b = order[j];
			int rc;

			if (cue_frame_ms(t, b->start) >= horizon)
				break;
			rc = check_pair(t, a, b, err);
			if (rc)
				return rc;
		}
	}
	return SC_OK;
}

int cue_track_check(const struct cue_track *t, struct arena *a,
		    struct sc_err *err)
{
	const struct cue **order;
	int rc = check_palette(t, err);

	if (rc)
		return rc;
	if (t->n_cues > CUE_TRACK_CUES_MAX)
		return err_set(err, SC_EINVAL, "a track holds at most %d cues",
			       CUE_TRACK_CUES_MAX);
	for (size_t i = 0; i < t->n_cues; i++) {
		rc = check_cue(t, &t->cues[i], err);
		if (rc)
			return rc;
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
	order = arena_calloc(a, t->n_cues + 1, sizeof(*order));
	if (!order)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n_cues; i++)
		order[i] = &t->cues[i];
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
	qsort(order, t->n_cues, sizeof(order[0]), by_id);
	for (size_t i = 1; i < t->n_cues; i++)
		if (!strcmp(order[i]->id, order[i - 1]->id))
			return err_set(err, SC_EINVAL,
				       "cue '%s' is listed twice",
				       order[i]->id);
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
	qsort(order, t->n_cues, sizeof(order[0]), by_start);
	return check_pairs(t, order, err);
}

int cue_track_seat_doses(const struct cue_track *t, struct arena *a,
			 int64_t **out, struct sc_err *err)
{
	int64_t *seat =
		arena_calloc(a, t->n_palette * CUE_MAP_SEATS, sizeof(*seat));

	if (!seat) {
		(void)err_set(err, SC_ENOMEM, "out of memory");
		return SC_ENOMEM;
	}
	for (size_t i = 0; i < t->n_cues; i++) {
		const struct cue *c = &t->cues[i];
		size_t k = (size_t)(palette_find(t, c->sku) - t->palette);
		int64_t *s = seat + k * CUE_MAP_SEATS;

		for (int r = 0; r < CUE_ROWS_MAX; r++)
			for (int n = 1; n <= CUE_SEATS_MAX; n++)
				if (c->zone.rows[r] >> (n - 1) & 1)
					s[CUE_SEAT_INDEX(r, n)] += c->dose_ul;
	}
	*out = seat;
	return SC_OK;
}

int cue_track_doses(const struct cue_track *t, struct arena *a,
		    struct scent_dose **out, struct sc_err *err)
{
	struct scent_dose *d = arena_calloc(a, t->n_palette, sizeof(*d));
	int64_t *seat;
	int rc = cue_track_seat_doses(t, a, &seat, err);

	if (rc)
		return rc;
	if (!d)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t k = 0; k < t->n_palette; k++) {
		d[k].sku = t->palette[k].sku;
		d[k].slot = t->palette[k].slot;
	}
	for (size_t i = 0; i < t->n_cues; i++) {
		size_t k =
			(size_t)(palette_find(t, t->cues[i].sku) - t->palette);

		d[k].cues++;
		d[k].release_ms += release_ms(t, &t->cues[i]);
	}
	for (size_t k = 0; k < t->n_palette; k++)
		for (size_t x = 0; x < CUE_MAP_SEATS; x++) {
			int64_t v = seat[k * CUE_MAP_SEATS + x];

			d[k].total_ul += v;
			d[k].seats += v > 0;
			if (v > d[k].max_seat_ul)
				d[k].max_seat_ul = v;
		}
	*out = d;
	return SC_OK;
}
