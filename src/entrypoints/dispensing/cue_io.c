/*
 * entrypoints/dispensing/cue_io.c - the cue track JSON format.
 */
#include "entrypoints/dispensing/cue_io.h"

#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "entrypoints/json/json_in.h"

/* Optional integer @name of @o in [0, @max] (else @def). */
static bool opt_int(json_t *o, const char *name, int64_t max, int64_t def,
		    int64_t *out)
{
	json_t *v = json_object_get(o, name);

	*out = def;
	if (!v)
		return true;
	*out = json_integer_value(v);
	return json_is_integer(v) && *out >= 0 && *out <= max;
}

/* "24/1", "30000/1001" into the track. */
static bool edit_rate_of(const char *s, struct cue_track *t)
{
	char *end;
	long num, den;

	if (!s)
		return false;
	num = strtol(s, &end, 10);
	if (*end != '/')
		return false;
	den = strtol(end + 1, &end, 10);
	if (*end || num < 1 || den < 1 || num > 1000000 || den > 1000000)
		return false;
	t->rate_num = (int32_t)num;
	t->rate_den = (int32_t)den;
	return true;
}

static int palette_of(json_t *arr, struct arena *a, struct cue_track *t,
		      struct sc_err *err)
{
	struct palette_entry *p;
	size_t n = json_array_size(arr);

	if (!json_is_array(arr))
		return err_set(err, SC_EINVAL,
			       "palette must be an array of {\"sku\", "
			       "\"slot\"}");
	p = arena_calloc(a, n ? n : 1, sizeof(*p));
	if (!p)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		int64_t slot;

		if (!json_is_object(e) ||
		    !json_opt_string(e, "sku", &p[i].sku) || !p[i].sku ||
		    !opt_int(e, "slot", CUE_PALETTE_MAX, -1, &slot))
			return err_set(err, SC_EINVAL,
				       "palette entry %zu: needs a sku and a "
				       "slot from 1 to %d",
				       i + 1, CUE_PALETTE_MAX);
		p[i].slot = (int32_t)slot;
	}
	t->palette = p;
	t->n_palette = n;
	return SC_OK;
}

/* "start": a frame number or "HH:MM:SS:FF" at the track's rate. */
static bool start_of(json_t *v, const struct cue_track *t, int64_t *out)
{
	int32_t fps = (t->rate_num + t->rate_den - 1) / t->rate_den;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return *out >= 0;
	}
	return json_is_string(v) &&
	       cue_timecode_parse(json_string_value(v), fps, out);
}

/* "pulse": {"on_ms","off_ms","count"}, and "fallback". */
static bool pulse_and_fallback(json_t *o, struct cue *c)
{
	json_t *p = json_object_get(o, "pulse"), *f;
	int64_t on, off, count;

	if (p &&
	    (!json_is_object(p) ||
	     !opt_int(p, "on_ms", CUE_BURST_MAX_MS, -1, &on) ||
	     !opt_int(p, "off_ms", CUE_GAP_MAX_MS, 0, &off) ||
	     !opt_int(p, "count", 1000, -1, &count) || on < 1 || count < 1))
		return false;
	if (p)
		c->pulse = (struct pulse){(int32_t)on, (int32_t)off,
					  (int32_t)count};
	f = json_object_get(o, "fallback");
	if (!f || (json_is_string(f) && !strcmp(json_string_value(f), "skip")))
		return true;
	return json_is_object(f) && json_object_size(f) == 1 &&
	       json_opt_string(f, "substitute", &c->substitute) &&
	       c->substitute;
}

static int cue_of(json_t *o, size_t i, const struct cue_track *t, struct cue *c,
		  struct sc_err *err)
{
	static const char *const known[] = {
		"id",	     "start",	   "duration",
		"scent",     "dose_ul",	   "zone",
		"ramp_ms",   "pulse",	   "purge_after_ms",
		"exclusive", "min_gap_ms", "priority",
		"fallback",  NULL};
	const char *zone;
	char where[48];
	int64_t v[6];

	(void)snprintf(where, sizeof(where), "cue %zu", i + 1);
	if (!json_is_object(o))
		return err_set(err, SC_EINVAL, "%s: must be an object", where);
	if (json_known_keys(o, known, where, err))
		return SC_EINVAL;
	if (!json_opt_string(o, "id", &c->id) || !c->id)
		return err_set(err, SC_EINVAL, "%s: needs an id", where);
	(void)snprintf(where, sizeof(where), "cue '%.30s'", c->id);
	if (!start_of(json_object_get(o, "start"), t, &c->start) ||
	    !opt_int(o, "duration", INT32_MAX, -1, &v[0]) || v[0] < 1)
		return err_set(err, SC_EINVAL,
			       "%s: start is a frame or HH:MM:SS:FF, duration "
			       "a number of frames",
			       where);
	c->duration = v[0];
	if (!json_opt_string(o, "scent", &c->sku) ||
	    !json_opt_string(o, "zone", &zone) ||
	    !cue_zone_parse(zone ? zone : "all", &c->zone) ||
	    !json_opt_string(o, "exclusive", &c->group))
		return err_set(err, SC_EINVAL,
			       "%s: scent and exclusive are strings; zone is "
			       "\"all\", rows \"A-C\" or seats \"A12,B3-B9\"",
			       where);
	if (!opt_int(o, "dose_ul", INT32_MAX, -1, &v[1]) ||
	    !opt_int(o, "ramp_ms", INT32_MAX, 0, &v[2]) ||
	    !opt_int(o, "purge_after_ms", INT32_MAX, 0, &v[3]) ||
	    !opt_int(o, "min_gap_ms", INT32_MAX, 0, &v[4]) ||
	    !opt_int(o, "priority", INT32_MAX, 0, &v[5]) ||
	    !pulse_and_fallback(o, c))
		return err_set(err, SC_EINVAL,
			       "%s: dose_ul, ramp_ms, purge_after_ms, "
			       "min_gap_ms and priority are whole numbers; "
			       "pulse is {on_ms, off_ms, count}; fallback "
			       "\"skip\" or {\"substitute\": sku}",
			       where);
	c->dose_ul = (int32_t)v[1];
	c->ramp_ms = (int32_t)v[2];
	c->purge_after_ms = (int32_t)v[3];
	c->min_gap_ms = (int32_t)v[4];
	c->priority = (int32_t)v[5];
	return SC_OK;
}

int cue_track_from_json(json_t *o, struct arena *a, struct cue_track **out,
			struct sc_err *err)
{
	static const char *const known[] = {
		"format",    "title",	"title_id", "content_hash",
		"edit_rate", "palette", "cues",	    NULL};
	struct cue_track *t = arena_calloc(a, 1, sizeof(*t));
	json_t *cues = json_object_get(o, "cues");
	const char *format, *rate;
	struct cue *c;
	size_t n = json_array_size(cues);
	int rc;

	if (!t)
		return err_set(err, SC_ENOMEM, "out of memory");
	if (!json_is_object(o))
		return err_set(err, SC_EINVAL, "a track is a JSON object");
	if (json_known_keys(o, known, "track", err))
		return SC_EINVAL;
	if (!json_opt_string(o, "format", &format) || !format ||
	    strcmp(format, CUE_FORMAT) != 0)
		return err_set(err, SC_EINVAL,
			       "format must be \"" CUE_FORMAT "\"");
	if (!json_opt_string(o, "title", &t->title) || !t->title ||
	    !json_opt_string(o, "title_id", &t->title_id) ||
	    !json_opt_string(o, "content_hash", &t->content_hash) ||
	    !json_opt_string(o, "edit_rate", &rate) || !edit_rate_of(rate, t))
		return err_set(err, SC_EINVAL,
			       "a track needs a title and an edit_rate such "
			       "as \"24/1\"");
	rc = palette_of(json_object_get(o, "palette"), a, t, err);
	if (rc)
		return rc;
	if (!json_is_array(cues) || n > CUE_TRACK_CUES_MAX)
		return err_set(err, SC_EINVAL,
			       "cues must be an array of at most %d cues",
			       CUE_TRACK_CUES_MAX);
	c = arena_calloc(a, n ? n : 1, sizeof(*c));
	if (!c)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		rc = cue_of(json_array_get(cues, i), i, t, &c[i], err);
		if (rc)
			return rc;
	}
	t->cues = c;
	t->n_cues = n;
	*out = t;
	return SC_OK;
}

json_t *cue_summary_json(const struct cue_track *t, const struct scent_dose *d)
{
	json_t *arr = json_array();

	for (size_t k = 0; arr && k < t->n_palette; k++) {
		json_t *e = json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I}", "sku",
				      d[k].sku, "slot", (int)d[k].slot, "cues",
				      (json_int_t)d[k].cues, "max_seat_ul",
				      (json_int_t)d[k].max_seat_ul, "total_ul",
				      (json_int_t)d[k].total_ul, "seats",
				      (json_int_t)d[k].seats, "release_ms",
				      (json_int_t)d[k].release_ms);

		if (!e || json_array_append_new(arr, e)) {
			json_decref(arr);
			return NULL;
		}
	}
	return json_pack("{s:s,s:s?,s:s?,s:s,s:I,s:o}", "title", t->title,
			 "title_id", t->title_id, "content_hash",
			 t->content_hash, "format", CUE_FORMAT, "cues",
			 (json_int_t)t->n_cues, "scents", arr);
}

void cue_summary_print(FILE *f, const struct cue_track *t,
		       const struct scent_dose *d)
{
	(void)fprintf(f, "%s: %zu cues at %d/%d fps\n", t->title, t->n_cues,
		      (int)t->rate_num, (int)t->rate_den);
	(void)fprintf(f, "%-24s %4s %5s %12s %12s %6s %11s\n", "SCENT", "SLOT",
		      "CUES", "MAX UL/SEAT", "TOTAL UL", "SEATS", "RELEASE S");
	for (size_t k = 0; k < t->n_palette; k++)
		(void)fprintf(f, "%-24s %4d %5zu %12lld %12lld %6lld %11.1f\n",
			      d[k].sku, (int)d[k].slot, d[k].cues,
			      (long long)d[k].max_seat_ul,
			      (long long)d[k].total_ul, (long long)d[k].seats,
			      (double)d[k].release_ms / 1000.0);
}
