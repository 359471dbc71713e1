/*
 * domain/show.c - the fire plan, the chaser and the due rule (show.h).
 */
#include "domain/show.h"

#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"

/* Microseconds from frame 0 to @frame at @t's edit rate (exact to 1 us). */
static int64_t frame_us(const struct cue_track *t, int64_t frame)
{
	return frame * 1000000 * t->rate_den / t->rate_num;
}

/* A slot's remaining level per seat, followed through the plan. */
struct levels {
	int64_t ul[CUE_MAP_SEATS][CUE_PALETTE_MAX]; /* by seat index, slot-1 */
	const char *sku[CUE_MAP_SEATS][CUE_PALETTE_MAX];
	const struct seat_device *dev[CUE_MAP_SEATS];
};

static void levels_init(struct levels *l, const struct venue *v)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < v->n_devices; i++) {
		const struct seat_device *d = &v->devices[i];
		size_t x = CUE_SEAT_INDEX(d->row, d->seat);

		l->dev[x] = d;
		for (size_t k = 0; k < d->n_slots; k++) {
			l->ul[x][d->slots[k].slot - 1] = d->slots[k].level_ul;
			l->sku[x][d->slots[k].slot - 1] = d->slots[k].sku;
		}
	}
}

static int32_t palette_slot(const struct cue_track *t, const char *sku)
{
	for (size_t k = 0; sku && k < t->n_palette; k++)
		if (strcmp(t->palette[k].sku, sku) == 0)
			return t->palette[k].slot;
	return 0;
}

/* Seat @x takes @dose of @sku from its slot when it holds enough. */
static bool take(struct levels *l, size_t x, const struct cue_track *t,
		 const char *sku, int32_t dose)
{
	int32_t slot = palette_slot(t, sku);

	if (!sku || !slot || !l->sku[x][slot - 1] ||
	    strcmp(l->sku[x][slot - 1], sku) != 0 || l->ul[x][slot - 1] < dose)
		return false;
	l->ul[x][slot - 1] -= dose;
	return true;
}

/* A plan being built. */
struct builder {
	const struct cue_track *t;
	const struct venue *v;
	struct levels *l;
	struct arena *a;
	struct show_plan *p;
	size_t cap; /* of p->fires */
};

/* The fire of @b's plan for @proto's key in row @row (from @first), made
 * when absent. */
static struct fire *group_of(struct builder *b, size_t first,
			     const struct fire *proto)
{
	for (size_t i = first; i < b->p->n_fires; i++) {
		struct fire *f = &b->p->fires[i];

		if (f->gateway == proto->gateway && f->slot == proto->slot &&
		    f->latency_ms == proto->latency_ms)
			return f;
	}
	if (arena_reserve(b->a, (void **)&b->p->fires, &b->cap,
			  b->p->n_fires + 1, sizeof(*b->p->fires)))
		return NULL;
	b->p->fires[b->p->n_fires] = *proto;
	return &b->p->fires[b->p->n_fires++];
}

/* Cue @ci's fires for row @r of playing seats @mask. */
static int plan_row(struct builder *b, size_t ci, int32_t r, uint64_t mask,
		    struct sc_err *err)
{
	const struct cue_track *t = b->t;
	const struct venue *v = b->v;
	struct levels *l = b->l;
	const struct cue *c = &t->cues[ci];
	size_t first = b->p->n_fires;

	for (int32_t s = 1; s <= CUE_SEATS_MAX; s++) {
		size_t x = CUE_SEAT_INDEX(r, s);
		const char *sku = c->sku;
		struct fire proto, *f;
		int gw;

		if (!(mask >> (s - 1) & 1) || !l->dev[x])
			continue;
		if (!take(l, x, t, sku, c->dose_ul)) {
			sku = c->substitute;
			if (!take(l, x, t, sku, c->dose_ul)) {
				b->p->skipped++;
				continue;
			}
			b->p->substituted++;
		}
		gw = venue_gateway_of(v, r, s);
		if (gw < 0)
			return err_set(err, SC_EINVAL,
				       "seat %c%d plays cue '%s' but no "
				       "gateway serves it",
				       'A' + r, (int)s, c->id);
		memset(&proto, 0, sizeof(proto));
		proto.at_us = frame_us(t, c->start);
		proto.latency_ms = venue_latency_ms(v, l->dev[x], sku);
		proto.plan_us = proto.at_us - (int64_t)proto.latency_ms * 1000;
		proto.cue = (uint32_t)ci;
		proto.gateway = (uint16_t)gw;
		proto.row = (uint8_t)r;
		proto.slot = (uint8_t)palette_slot(t, sku);
		proto.sku = sku;
		proto.dose_ul = c->dose_ul;
		proto.duration_ms = (int32_t)cue_frame_ms(t, c->duration);
		proto.substitute = sku != c->sku;
		proto.priority = c->priority;
		f = group_of(b, first, &proto);
		if (!f)
			return err_set(err, SC_ENOMEM, "out of memory");
		f->seats |= UINT64_C(1) << (s - 1);
		b->p->seat_fires++;
	}
	return SC_OK;
}

/* A cue's place in the plan: by start, then priority (higher first). */
struct cue_key {
	int64_t start;
	int32_t priority;
	uint32_t index;
};

static int by_start(const void *x, const void *y)
{
	const struct cue_key *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	return a->index < b->index ? -1 : 1;
}

/* Fire order: by planned time, then as the cues. */
static int by_plan(const void *x, const void *y)
{
	const struct fire *a = x, *b = y;

	if (a->plan_us != b->plan_us)
		return a->plan_us < b->plan_us ? -1 : 1;
	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	if (a->cue != b->cue)
		return a->cue < b->cue ? -1 : 1;
	return a->row != b->row ? (a->row < b->row ? -1 : 1)
				: (a->gateway < b->gateway ? -1 : 1);
}

int show_plan(const struct cue_track *t, const struct venue *v, struct arena *a,
	      struct show_plan *out, struct sc_err *err)
{
	struct levels *l = arena_alloc(a, sizeof(*l));
	struct cue_key *order =
		arena_calloc(a, t->n_cues ? t->n_cues : 1, sizeof(*order));
	struct builder b = {t, v, l, a, out, 0};
	uint64_t reached[CUE_ROWS_MAX] = {0};
	int rc = SC_OK;

	memset(out, 0, sizeof(*out));
	if (!l || !order)
		return err_set(err, SC_ENOMEM, "out of memory");
	levels_init(l, v);
	for (size_t i = 0; i < t->n_cues; i++)
		order[i] = (struct cue_key){t->cues[i].start,
					    t->cues[i].priority, (uint32_t)i};
	qsort(order, t->n_cues, sizeof(*order), by_start);
	for (size_t i = 0; !rc && i < t->n_cues; i++) {
		const struct cue *c = &t->cues[order[i].index];
		int64_t end = frame_us(t, c->start + c->duration);

		if (end > out->end_us)
			out->end_us = end;
		for (int32_t r = 0; !rc && r < CUE_ROWS_MAX; r++) {
			uint64_t m = c->zone.rows[r] & v->seats.rows[r] &
				     v->occupied.rows[r] &
				     ~v->opted_out.rows[r];

			if (!m)
				continue;
			reached[r] |= m;
			rc = plan_row(&b, order[i].index, r, m, err);
		}
	}
	for (int r = 0; r < CUE_ROWS_MAX; r++)
		for (int s = 1; s <= CUE_SEATS_MAX; s++)
			out->seats_playing += (reached[r] >> (s - 1) & 1) &&
					      l->dev[CUE_SEAT_INDEX(r, s)];
	if (!rc && out->n_fires)
		qsort(out->fires, out->n_fires, sizeof(*out->fires), by_plan);
	return rc;
}

bool lock_mode_parse(const char *s, enum lock_mode *m)
{
	for (int i = LOCK_STRICT; i <= LOCK_JAM; i++)
		if (s && strcmp(s, lock_mode_name((enum lock_mode)i)) == 0) {
			*m = (enum lock_mode)i;
			return true;
		}
	return false;
}

const char *lock_mode_name(enum lock_mode m)
{
	static const char *const names[] = {
		[LOCK_STRICT] = "strict",
		[LOCK_FREEWHEEL] = "freewheel",
		[LOCK_JAM] = "jam",
	};

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

void chase_init(struct chase *c, enum lock_mode m)
{
	memset(c, 0, sizeof(*c));
	c->mode = m;
	/* Three frames at 24 fps: one lost frame is noise on a cable, three
	 * are a source that stopped. */
	c->dropout_us = 125000;
	c->freewheel_us = 2000000;
	/* Readings jitter by a frame at most; a second off is an edit. */
	c->seek_us = 1000000;
	c->speed = 1;
}

static void anchor(struct chase *c, int64_t now_us, int64_t pos_us)
{
	c->anchor_pos_us = pos_us;
	c->anchor_local_us = now_us;
}

void chase_reading(struct chase *c, int64_t now_us, int64_t pos_us)
{
	if (!c->locked) {
		c->locked = true;
		c->still = false;
		anchor(c, now_us, pos_us);
	} else {
		int64_t predicted = c->anchor_pos_us +
				    (now_us - c->anchor_local_us) * c->speed;

		/* A repeated position is a pause in every mode: a jam-synced
		 * clock running on through a paused projector would fire
		 * scenes nobody sees. */
		bool seek;

		c->still = pos_us == c->last_pos_us;
		seek = !c->still && llabs(pos_us - predicted) > c->seek_us;
		c->seeks += seek;
		/* Jam keeps its own clock but for a pause or a seek. */
		if (c->still || seek || c->mode != LOCK_JAM)
			anchor(c, now_us, pos_us);
	}
	c->last_reading_us = now_us;
	c->last_pos_us = pos_us;
}

bool chase_position(const struct chase *c, int64_t now_us, int64_t *pos_us)
{
	int64_t since = now_us - c->last_reading_us;

	if (!c->locked || c->still)
		return false;
	if (c->mode == LOCK_STRICT && since > c->dropout_us)
		return false;
	if (c->mode == LOCK_FREEWHEEL &&
	    since > c->dropout_us + c->freewheel_us)
		return false;
	*pos_us = c->anchor_pos_us + (now_us - c->anchor_local_us) * c->speed;
	return true;
}

enum fire_due fire_due(const struct fire *f, int64_t pos_us,
		       int64_t tolerance_us)
{
	if (pos_us < f->plan_us)
		return FIRE_WAIT;
	return pos_us - f->plan_us <= tolerance_us ? FIRE_NOW : FIRE_MISSED;
}

int32_t fire_release_ms(const struct fire *f, int64_t pos_us)
{
	int64_t late_ms = (pos_us - f->plan_us) / 1000;
	int64_t ms = f->duration_ms - (late_ms > 0 ? late_ms : 0);

	return ms < 1 ? 1 : (int32_t)ms;
}

int dispense_allowed(const struct dispense_caps *caps,
		     const struct dispense_mark *recent, size_t n,
		     const struct dispense_ask *ask, struct sc_err *err)
{
	int64_t sum = ask->dose_ul;

	if (ask->dose_ul < 1 || ask->dose_ul > CUE_DOSE_MAX_UL)
		return err_set(err, SC_EINVAL, "dose_ul must be 1 to %d",
			       CUE_DOSE_MAX_UL);
	if (ask->duration_ms < 1 || ask->duration_ms > caps->max_burst_ms)
		return err_set(err, SC_EINVAL,
			       "duration_ms must be 1 to this device's burst "
			       "cap, %d ms",
			       (int)caps->max_burst_ms);
	for (size_t i = 0; i < n; i++)
		if (ask->now_us - recent[i].at_us < 60000000)
			sum += recent[i].dose_ul;
	if (sum > caps->max_ul_per_min)
		return err_set(err, SC_EINVAL,
			       "this device's cap is %d ul per minute; %lld "
			       "ul were released in the last minute",
			       (int)caps->max_ul_per_min,
			       (long long)(sum - ask->dose_ul));
	return SC_OK;
}
