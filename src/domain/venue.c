/*
 * domain/venue.c - venue rules and the pre-show check.
 */
#include "domain/venue.h"

#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/model.h"

static bool in_zone(const struct zone *z, int32_t row, int32_t seat)
{
	return row >= 0 && row < CUE_ROWS_MAX && seat >= 1 &&
	       seat <= CUE_SEATS_MAX && (z->rows[row] >> (seat - 1) & 1);
}

/* Every seat of @z exists in @v's map. */
static bool within(const struct venue *v, const struct zone *z)
{
	for (int r = 0; r < CUE_ROWS_MAX; r++)
		if (z->rows[r] & ~v->seats.rows[r])
			return false;
	return true;
}

static int check_device(const struct venue *v, const struct seat_device *d,
			struct sc_err *err)
{
	char seat[8];

	(void)snprintf(seat, sizeof(seat), "%c%d",
		       d->row >= 0 && d->row < CUE_ROWS_MAX ? 'A' + d->row
							    : '?',
		       (int)d->seat);
	if (!in_zone(&v->seats, d->row, d->seat))
		return err_set(err, SC_EINVAL,
			       "device of seat %s: no such seat in the map",
			       seat);
	if (d->latency_ms < 0 || d->latency_ms > VENUE_LATENCY_MAX_MS)
		return err_set(err, SC_EINVAL,
			       "device of seat %s: latency_ms must be 0 to %d",
			       seat, VENUE_LATENCY_MAX_MS);
	if (v->n_gateways && venue_gateway_of(v, d->row, d->seat) < 0)
		return err_set(err, SC_EINVAL,
			       "device of seat %s: no gateway serves it", seat);
	if (d->n_slots > CUE_PALETTE_MAX)
		return err_set(err, SC_EINVAL,
			       "device of seat %s: more than %d slots", seat,
			       CUE_PALETTE_MAX);
	for (size_t i = 0; i < d->n_slots; i++) {
		const struct cartridge *c = &d->slots[i];

		if (c->slot < 1 || c->slot > CUE_PALETTE_MAX || !c->sku ||
		    !ident_valid(c->sku, strlen(c->sku)) || c->level_ul < 0 ||
		    c->level_ul > v->capacity_ul)
			return err_set(err, SC_EINVAL,
				       "device of seat %s: each slot is 1 to "
				       "%d with a sku and a level from 0 to "
				       "%lld ul",
				       seat, CUE_PALETTE_MAX,
				       (long long)v->capacity_ul);
		for (size_t j = 0; j < i; j++)
			if (d->slots[j].slot == c->slot)
				return err_set(err, SC_EINVAL,
					       "device of seat %s: slot %d "
					       "twice",
					       seat, (int)c->slot);
	}
	return SC_OK;
}

/* Latencies in 0..SHOW_LATENCY_MAX_MS, thresholds and caps in range. */
static int check_calibration(const struct venue *v, struct sc_err *err)
{
	if (v->n_scent_latency > VENUE_LATENCIES_MAX)
		return err_set(err, SC_EINVAL, "at most %d scent latencies",
			       VENUE_LATENCIES_MAX);
	for (size_t i = 0; i < v->n_scent_latency; i++) {
		const struct scent_latency *l = &v->scent_latency[i];

		if (!l->sku || !ident_valid(l->sku, strlen(l->sku)) ||
		    l->extra_ms < -VENUE_LATENCY_MAX_MS ||
		    l->extra_ms > VENUE_LATENCY_MAX_MS)
			return err_set(err, SC_EINVAL,
				       "scent latency %zu: a sku and -%d to "
				       "%d ms",
				       i + 1, VENUE_LATENCY_MAX_MS,
				       VENUE_LATENCY_MAX_MS);
	}
	if (v->alert_below_ul < 0 || v->alert_below_ul > v->capacity_ul)
		return err_set(err, SC_EINVAL,
			       "alert_below_ul must be 0 to the capacity");
	if (v->refill_unit_ul < 1 || v->refill_unit_ul > CARTRIDGE_MAX_UL)
		return err_set(err, SC_EINVAL,
			       "refill_unit_ul must be 1 to %d ul",
			       CARTRIDGE_MAX_UL);
	if (v->caps.max_ul_per_min < 1 ||
	    v->caps.max_ul_per_min > CARTRIDGE_MAX_UL ||
	    v->caps.max_burst_ms < 1 || v->caps.max_burst_ms > CUE_BURST_MAX_MS)
		return err_set(err, SC_EINVAL,
			       "caps: max_ul_per_min 1 to %d, max_burst_ms "
			       "1 to %d",
			       CARTRIDGE_MAX_UL, CUE_BURST_MAX_MS);
	return SC_OK;
}

/* Gateways with an address, on seats of the map, no seat twice. */
static int check_gateways(const struct venue *v, struct sc_err *err)
{
	uint64_t seen[CUE_ROWS_MAX] = {0};

	if (v->n_gateways > VENUE_GATEWAYS_MAX)
		return err_set(err, SC_EINVAL, "at most %d gateways",
			       VENUE_GATEWAYS_MAX);
	for (size_t i = 0; i < v->n_gateways; i++) {
		const struct gateway *g = &v->gateways[i];

		if (!g->address || !*g->address || !cue_zone_seats(&g->seats))
			return err_set(err, SC_EINVAL,
				       "gateway %zu: needs an address and "
				       "its seats",
				       i + 1);
		if (!within(v, &g->seats))
			return err_set(err, SC_EINVAL,
				       "gateway %s serves seats not in the "
				       "map",
				       g->address);
		for (int r = 0; r < CUE_ROWS_MAX; r++) {
			if (seen[r] & g->seats.rows[r])
				return err_set(err, SC_EINVAL,
					       "gateway %s: a seat of row %c "
					       "is served by another gateway",
					       g->address, 'A' + r);
			seen[r] |= g->seats.rows[r];
		}
	}
	return SC_OK;
}

int32_t venue_latency_ms(const struct venue *v, const struct seat_device *d,
			 const char *sku)
{
	int32_t ms = d ? d->latency_ms : 0;

	for (size_t i = 0; sku && i < v->n_scent_latency; i++)
		if (strcmp(v->scent_latency[i].sku, sku) == 0)
			ms += v->scent_latency[i].extra_ms;
	return ms < 0 ? 0 : ms;
}

int venue_gateway_of(const struct venue *v, int32_t row, int32_t seat)
{
	for (size_t i = 0; i < v->n_gateways; i++)
		if (in_zone(&v->gateways[i].seats, row, seat))
			return (int)i;
	return -1;
}

int venue_check(const struct venue *v, struct sc_err *err)
{
	uint64_t seen[CUE_ROWS_MAX] = {0};
	int rc;

	/* The name goes into alerts and mails: bounded, printable. */
	if (!v->name || !ident_valid(v->name, strlen(v->name)))
		return err_set(err, SC_EINVAL,
			       "a venue needs a name of 1 to %d bytes of "
			       "printable utf-8",
			       SC_ID_MAX);
	if (v->capacity_ul < 1 || v->capacity_ul > CARTRIDGE_MAX_UL)
		return err_set(err, SC_EINVAL,
			       "cartridge capacity must be 1 to %d ul",
			       CARTRIDGE_MAX_UL);
	if (!cue_zone_seats(&v->seats) || v->n_devices > VENUE_DEVICES_MAX)
		return err_set(err, SC_EINVAL,
			       "a venue needs seats, and at most one device "
			       "per seat");
	if (!within(v, &v->occupied) || !within(v, &v->opted_out))
		return err_set(err, SC_EINVAL,
			       "occupied and opted-out seats must be seats of "
			       "the map");
	rc = check_calibration(v, err);
	if (!rc)
		rc = check_gateways(v, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < v->n_devices; i++) {
		const struct seat_device *d = &v->devices[i];
		rc = check_device(v, d, err);
		if (rc)
			return rc;
		if (seen[d->row] >> (d->seat - 1) & 1)
			return err_set(err, SC_EINVAL,
				       "seat %c%d has two devices",
				       'A' + d->row, (int)d->seat);
		seen[d->row] |= UINT64_C(1) << (d->seat - 1);
	}
	return SC_OK;
}

const char *preshow_problem_name(enum preshow_problem p)
{
	static const char *const names[] = {
		[PRESHOW_REFILL] = "refill",
		[PRESHOW_NO_DEVICE] = "no device",
		[PRESHOW_NO_SLOT] = "no slot",
		[PRESHOW_WRONG_SCENT] = "wrong scent",
	};

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}

const struct seat_device *venue_device_at(const struct venue *v, int32_t row,
					  int32_t seat)
{
	for (size_t i = 0; i < v->n_devices; i++)
		if (v->devices[i].row == row && v->devices[i].seat == seat)
			return &v->devices[i];
	return NULL;
}

const struct cartridge *device_slot(const struct seat_device *d, int32_t slot)
{
	for (size_t i = 0; d && i < d->n_slots; i++)
		if (d->slots[i].slot == slot)
			return &d->slots[i];
	return NULL;
}

/* What seat (@row, @seat) lacks for palette scent @k needing @need. */
static bool seat_problem(const struct cue_track *t, const struct venue *v,
			 size_t k, struct preshow_line *l)
{
	const struct seat_device *d = venue_device_at(v, l->row, l->seat);
	const struct cartridge *c = device_slot(d, t->palette[k].slot);

	l->sku = t->palette[k].sku;
	l->slot = t->palette[k].slot;
	l->level_ul = c ? c->level_ul : 0;
	if (!d)
		l->problem = PRESHOW_NO_DEVICE;
	else if (!c)
		l->problem = PRESHOW_NO_SLOT;
	else if (strcmp(c->sku, l->sku) != 0)
		l->problem = PRESHOW_WRONG_SCENT;
	else if (c->level_ul < l->needed_ul) {
		l->problem = PRESHOW_REFILL;
		l->refill_ul = v->capacity_ul - c->level_ul;
	} else {
		return false;
	}
	return true;
}

int venue_preshow(const struct cue_track *t, const struct venue *v,
		  struct arena *a, struct preshow_report *out,
		  struct sc_err *err)
{
	size_t cap = 0;
	int64_t *dose;
	int rc = cue_track_seat_doses(t, a, &dose, err);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->refill_ul = arena_calloc(a, t->n_palette, sizeof(*out->refill_ul));
	if (!out->refill_ul)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (int32_t r = 0; r < CUE_ROWS_MAX; r++)
		for (int32_t s = 1; s <= CUE_SEATS_MAX; s++) {
			bool reached = false;

			if (!in_zone(&v->occupied, r, s) ||
			    in_zone(&v->opted_out, r, s))
				continue;
			for (size_t k = 0; k < t->n_palette; k++) {
				struct preshow_line l;

				memset(&l, 0, sizeof(l));
				l.row = r;
				l.seat = s;

				l.needed_ul = dose[k * CUE_MAP_SEATS +
						   CUE_SEAT_INDEX(r, s)];
				if (!l.needed_ul)
					continue;
				reached = true;
				if (!seat_problem(t, v, k, &l))
					continue;
				if (arena_reserve(a, (void **)&out->lines, &cap,
						  out->n_lines + 1,
						  sizeof(*out->lines)))
					return err_set(err, SC_ENOMEM,
						       "out of memory");
				out->lines[out->n_lines++] = l;
				out->refill_ul[k] += l.refill_ul;
			}
			out->seats_playing += reached;
		}
	out->ready = out->n_lines == 0;
	return SC_OK;
}
