/*
 * entrypoints/dispensing/venue_io.c - the venue JSON format and the
 * pre-show report.
 */
#include "entrypoints/dispensing/venue_io.h"

#include <string.h>

#include "common/arena.h"
#include "common/err.h"

/* Optional zone field @name of @o into @z (@def when absent). */
static bool zone_field(json_t *o, const char *name, const char *def,
		       struct zone *z)
{
	json_t *v = json_object_get(o, name);

	if (!v || json_is_null(v))
		return def ? cue_zone_parse(def, z)
			   : (memset(z, 0, sizeof(*z)), true);
	return json_is_string(v) && cue_zone_parse(json_string_value(v), z);
}

static int slots_of(json_t *arr, struct arena *a, struct cartridge **out,
		    size_t *n_out, struct sc_err *err)
{
	size_t n = json_array_size(arr);
	struct cartridge *c = arena_calloc(a, n ? n : 1, sizeof(*c));

	if (!c)
		return err_set(err, SC_ENOMEM, "out of memory");
	if (!json_is_array(arr) || n > CUE_PALETTE_MAX)
		return err_set(err, SC_EINVAL,
			       "slots must be an array of at most %d "
			       "{\"slot\",\"sku\",\"batch\",\"level_ul\"}",
			       CUE_PALETTE_MAX);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		json_t *batch = json_object_get(e, "batch");

		c[i].slot =
			(int32_t)json_integer_value(json_object_get(e, "slot"));
		c[i].sku = json_string_value(json_object_get(e, "sku"));
		c[i].batch = json_string_value(batch);
		c[i].level_ul =
			json_integer_value(json_object_get(e, "level_ul"));
		if (!json_is_object(e) ||
		    !json_is_integer(json_object_get(e, "slot")) || !c[i].sku ||
		    !json_is_integer(json_object_get(e, "level_ul")) ||
		    (batch && !json_is_string(batch)))
			return err_set(err, SC_EINVAL,
				       "slot %zu: needs a slot, a sku and a "
				       "level_ul (batch optional)",
				       i + 1);
	}
	*out = c;
	*n_out = n;
	return SC_OK;
}

/* Optional integer field @name of @o in @lo..@hi into *@out (@def when
 * absent); false when present and not such an integer. */
static bool int_field(json_t *o, const char *name, int64_t def, int64_t lo,
		      int64_t hi, int64_t *out)
{
	json_t *v = json_object_get(o, name);

	if (!v || json_is_null(v)) {
		*out = def;
		return true;
	}
	*out = json_integer_value(v);
	return json_is_integer(v) && *out >= lo && *out <= hi;
}

/* Devices read so far, in an arena. */
struct device_list {
	struct seat_device *v; /* n entries */
	size_t n, cap;	       /* used, allocated */
	int64_t latency_ms;    /* the venue's default */
};

static int gateways_of(json_t *arr, struct arena *a, struct venue *v,
		       struct sc_err *err)
{
	size_t n = json_array_size(arr);
	struct gateway *g = arena_calloc(a, n ? n : 1, sizeof(*g));

	if (!g)
		return err_set(err, SC_ENOMEM, "out of memory");
	if (arr && !json_is_array(arr))
		return err_set(err, SC_EINVAL,
			       "gateways must be an array of "
			       "{\"address\",\"seats\"}");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);

		g[i].address = json_string_value(json_object_get(e, "address"));
		if (!g[i].address || !zone_field(e, "seats", NULL, &g[i].seats))
			return err_set(err, SC_EINVAL,
				       "gateway %zu: needs an address "
				       "(\"host:port\") and its seats",
				       i + 1);
	}
	v->gateways = g;
	v->n_gateways = n;
	return SC_OK;
}

static int scent_latencies_of(json_t *o, struct arena *a, struct venue *v,
			      struct sc_err *err)
{
	size_t n = json_object_size(o), i = 0;
	struct scent_latency *l = arena_calloc(a, n ? n : 1, sizeof(*l));
	const char *sku;
	json_t *ms;

	if (!l)
		return err_set(err, SC_ENOMEM, "out of memory");
	if (o && !json_is_object(o))
		return err_set(err, SC_EINVAL,
			       "scent_latency_ms must be {sku: ms, ...}");
	json_object_foreach(o, sku, ms)
	{
		if (!json_is_integer(ms))
			return err_set(err, SC_EINVAL,
				       "scent_latency_ms of %s must be an "
				       "integer",
				       sku);
		l[i].sku = sku;
		l[i++].extra_ms = (int32_t)json_integer_value(ms);
	}
	v->scent_latency = l;
	v->n_scent_latency = n;
	return SC_OK;
}

/* Thresholds, units and caps, with their defaults (docs/dispensing.md). */
static int settings_of(json_t *o, struct venue *v, struct device_list *l,
		       struct sc_err *err)
{
	json_t *caps = json_object_get(o, "caps");
	int64_t per_min, burst;

	if (!int_field(o, "latency_ms", 0, 0, VENUE_LATENCY_MAX_MS,
		       &l->latency_ms) ||
	    !int_field(o, "alert_below_ul", v->capacity_ul / 10, 0,
		       CARTRIDGE_MAX_UL, &v->alert_below_ul) ||
	    !int_field(o, "refill_unit_ul", 1000, 1, CARTRIDGE_MAX_UL,
		       &v->refill_unit_ul))
		return err_set(err, SC_EINVAL,
			       "latency_ms (0 to %d), alert_below_ul and "
			       "refill_unit_ul (up to %d) are integers",
			       VENUE_LATENCY_MAX_MS, CARTRIDGE_MAX_UL);
	/* A personal dispenser sits a few centimetres from the nose: the
	 * defaults are a fifth of a cinema cue's cap per minute and a
	 * quarter of the cinema burst cap. */
	if ((caps && !json_is_object(caps)) ||
	    !int_field(caps, "max_ul_per_min", 100, 1, CARTRIDGE_MAX_UL,
		       &per_min) ||
	    !int_field(caps, "max_burst_ms", 5000, 1, CUE_BURST_MAX_MS, &burst))
		return err_set(err, SC_EINVAL,
			       "caps: {\"max_ul_per_min\": 1 to %d, "
			       "\"max_burst_ms\": 1 to %d}",
			       CARTRIDGE_MAX_UL, CUE_BURST_MAX_MS);
	v->caps.max_ul_per_min = (int32_t)per_min;
	v->caps.max_burst_ms = (int32_t)burst;
	return SC_OK;
}

/* One device entry: its "seats" zone expands to a device per seat. */
static int devices_of_entry(json_t *e, size_t i, struct arena *a,
			    struct device_list *l, struct sc_err *err)
{
	struct cartridge *slots = NULL;
	int64_t latency = l->latency_ms;
	struct zone z;
	size_t n_slots = 0;
	int rc;

	if (!json_is_object(e) || !zone_field(e, "seats", NULL, &z) ||
	    !cue_zone_seats(&z))
		return err_set(err, SC_EINVAL,
			       "device %zu: needs its seats, such as \"A1\" or "
			       "\"A1-A20,B1-B20\"",
			       i + 1);
	if (!int_field(e, "latency_ms", latency, 0, VENUE_LATENCY_MAX_MS,
		       &latency))
		return err_set(err, SC_EINVAL,
			       "device %zu: latency_ms must be 0 to %d", i + 1,
			       VENUE_LATENCY_MAX_MS);
	rc = slots_of(json_object_get(e, "slots"), a, &slots, &n_slots, err);
	for (int r = 0; !rc && r < CUE_ROWS_MAX; r++)
		for (int s = 1; !rc && s <= CUE_SEATS_MAX; s++) {
			if (!(z.rows[r] >> (s - 1) & 1))
				continue;
			if (arena_reserve(a, (void **)&l->v, &l->cap, l->n + 1,
					  sizeof(*l->v)))
				return err_set(err, SC_ENOMEM, "out of memory");
			l->v[l->n++] = (struct seat_device){
				r, s, slots, n_slots, (int32_t)latency};
		}
	return rc;
}

int venue_from_json(json_t *o, struct arena *a, struct venue **out,
		    struct sc_err *err)
{
	struct venue *v = arena_calloc(a, 1, sizeof(*v));
	json_t *devs = json_object_get(o, "devices");
	struct device_list l = {0};
	const char *format;
	int rc = SC_OK;

	if (!v)
		return err_set(err, SC_ENOMEM, "out of memory");
	format = json_string_value(json_object_get(o, "format"));
	if (!json_is_object(o) || !format || strcmp(format, VENUE_FORMAT) != 0)
		return err_set(err, SC_EINVAL,
			       "format must be \"" VENUE_FORMAT "\"");
	v->name = json_string_value(json_object_get(o, "name"));
	v->capacity_ul = json_integer_value(json_object_get(o, "capacity_ul"));
	if (!zone_field(o, "seats", NULL, &v->seats) ||
	    !zone_field(o, "occupied", NULL, &v->occupied) ||
	    !zone_field(o, "opted_out", NULL, &v->opted_out) ||
	    !json_is_integer(json_object_get(o, "capacity_ul")) ||
	    !json_is_array(devs))
		return err_set(err, SC_EINVAL,
			       "a venue needs seats, occupied and opted_out "
			       "as seat lists (\"A1-A20,B1-B20\"), a "
			       "capacity_ul and devices");
	rc = settings_of(o, v, &l, err);
	if (!rc)
		rc = gateways_of(json_object_get(o, "gateways"), a, v, err);
	if (!rc)
		rc = scent_latencies_of(json_object_get(o, "scent_latency_ms"),
					a, v, err);
	for (size_t i = 0; !rc && i < json_array_size(devs); i++)
		rc = devices_of_entry(json_array_get(devs, i), i, a, &l, err);
	v->devices = l.v;
	v->n_devices = l.n;
	*out = v;
	return rc;
}

json_t *preshow_json(const struct cue_track *t, const struct venue *v,
		     const struct preshow_report *r)
{
	json_t *lines = json_array(), *refill = json_object();

	for (size_t i = 0; lines && i < r->n_lines; i++) {
		const struct preshow_line *l = &r->lines[i];
		char seat[8];

		(void)snprintf(seat, sizeof(seat), "%c%d", 'A' + l->row,
			       (int)l->seat);
		if (json_array_append_new(
			    lines,
			    json_pack("{s:s,s:s,s:i,s:s,s:I,s:I,s:I}", "seat",
				      seat, "sku", l->sku, "slot", (int)l->slot,
				      "problem",
				      preshow_problem_name(l->problem),
				      "needed_ul", (json_int_t)l->needed_ul,
				      "level_ul", (json_int_t)l->level_ul,
				      "refill_ul", (json_int_t)l->refill_ul))) {
			json_decref(lines);
			lines = NULL;
		}
	}
	for (size_t k = 0; refill && k < t->n_palette; k++)
		if (json_object_set_new(refill, t->palette[k].sku,
					json_integer(r->refill_ul[k]))) {
			json_decref(refill);
			refill = NULL;
		}
	return json_pack("{s:s,s:s,s:b,s:I,s:o,s:o}", "venue", v->name, "title",
			 t->title, "ready", r->ready, "seats_playing",
			 (json_int_t)r->seats_playing, "refill_ul", refill,
			 "lines", lines);
}

void preshow_print(FILE *f, const struct cue_track *t, const struct venue *v,
		   const struct preshow_report *r)
{
	(void)fprintf(f, "%s in %s: %lld seats playing, %s\n", t->title,
		      v->name, (long long)r->seats_playing,
		      r->ready ? "ready" : "not ready");
	if (r->n_lines)
		(void)fprintf(f, "%-5s %-24s %4s %-12s %9s %9s %9s\n", "SEAT",
			      "SCENT", "SLOT", "PROBLEM", "NEEDS UL", "HAS UL",
			      "REFILL UL");
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct preshow_line *l = &r->lines[i];

		(void)fprintf(f, "%c%-4d %-24s %4d %-12s %9lld %9lld %9lld\n",
			      'A' + l->row, (int)l->seat, l->sku, (int)l->slot,
			      preshow_problem_name(l->problem),
			      (long long)l->needed_ul, (long long)l->level_ul,
			      (long long)l->refill_ul);
	}
	for (size_t k = 0; k < t->n_palette; k++)
		if (r->refill_ul[k])
			(void)fprintf(f, "refill %s: %lld ul\n",
				      t->palette[k].sku,
				      (long long)r->refill_ul[k]);
}
