/*
 * entrypoints/dispensing/stored_io.c - stored venues and shows for the
 * transports (stored_io.h).
 */
#include "entrypoints/dispensing/stored_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "entrypoints/dispensing/player.h"
#include "entrypoints/dispensing/venue_io.h"
#include "entrypoints/json/json_in.h"

bool seat_parse(const char *s, int32_t *row, int32_t *seat)
{
	char *end = NULL;
	long n;

	if (!s || s[0] < 'A' || s[0] > 'Z' || s[1] < '1' || s[1] > '9')
		return false;
	n = strtol(s + 1, &end, 10);
	if (*end || n < 1 || n > CUE_SEATS_MAX)
		return false;
	*row = s[0] - 'A';
	*seat = (int32_t)n;
	return true;
}

static void seat_name(int32_t row, int32_t seat, char *buf, size_t n)
{
	(void)snprintf(buf, n, "%c%d", 'A' + row, (int)seat);
}

int venue_of_record(const struct venue_record *rec, struct arena *a,
		    json_t **doc, struct venue **out, struct sc_err *err)
{
	struct seat_device *dev;
	struct venue *v;
	int rc;

	*doc = json_loads(rec->body, JSON_REJECT_DUPLICATES, NULL);
	if (!*doc)
		return err_set(err, SC_EIO, "stored venue %lld is not JSON",
			       (long long)rec->id);
	rc = venue_from_json(*doc, a, &v, err);
	if (rc)
		return rc == SC_ENOMEM ? rc : SC_EIO;
	/* Devices of one entry share their slots; levels differ by seat
	 * once shows have played: each seat gets its own, from the rows
	 * (sorted by row, seat, slot). */
	dev = arena_calloc(a, v->n_devices ? v->n_devices : 1, sizeof(*dev));
	if (!dev)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < v->n_devices; i++) {
		struct cartridge *slots;
		size_t first = 0, n = 0;

		dev[i] = v->devices[i];
		while (first < rec->n_cartridges &&
		       (rec->cartridges[first].row != dev[i].row ||
			rec->cartridges[first].seat != dev[i].seat))
			first++;
		while (first + n < rec->n_cartridges &&
		       rec->cartridges[first + n].row == dev[i].row &&
		       rec->cartridges[first + n].seat == dev[i].seat)
			n++;
		slots = arena_calloc(a, n ? n : 1, sizeof(*slots));
		if (!slots)
			return err_set(err, SC_ENOMEM, "out of memory");
		for (size_t k = 0; k < n; k++) {
			const struct cartridge_row *c =
				&rec->cartridges[first + k];

			slots[k] = (struct cartridge){c->slot, c->sku, c->batch,
						      c->level_ul};
		}
		dev[i].slots = slots;
		dev[i].n_slots = n;
	}
	v->devices = dev;
	*out = v;
	return SC_OK;
}

json_t *venue_summary_json(const struct venue_record *rec)
{
	return json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:I}", "id",
			 (json_int_t)rec->id, "name", rec->name, "version",
			 (json_int_t)rec->version, "created_at",
			 (json_int_t)rec->created_at, "capacity_ul",
			 (json_int_t)rec->capacity_ul, "alert_below_ul",
			 (json_int_t)rec->alert_below_ul, "refill_unit_ul",
			 (json_int_t)rec->refill_unit_ul);
}

json_t *venue_record_json(const struct venue_record *rec)
{
	json_t *j = venue_summary_json(rec), *rows = json_array();
	json_t *body = json_loads(rec->body, JSON_REJECT_DUPLICATES, NULL);

	for (size_t i = 0; rows && i < rec->n_cartridges; i++) {
		const struct cartridge_row *c = &rec->cartridges[i];
		char seat[8];

		seat_name(c->row, c->seat, seat, sizeof(seat));
		if (json_array_append_new(
			    rows,
			    json_pack("{s:s,s:i,s:s,s:s?,s:I}", "seat", seat,
				      "slot", (int)c->slot, "sku", c->sku,
				      "batch", c->batch, "level_ul",
				      (json_int_t)c->level_ul))) {
			json_decref(rows);
			rows = NULL;
		}
	}
	if (!j || !body || !rows || json_object_set_new(j, "venue", body) ||
	    json_object_set_new(j, "cartridges", rows)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int preshow_refill_lines(const struct preshow_report *r, struct arena *a,
			 struct refill_line **out, size_t *n_out,
			 struct sc_err *err)
{
	struct refill_line *l =
		arena_calloc(a, r->n_lines ? r->n_lines : 1, sizeof(*l));
	size_t n = 0;

	if (!l)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct preshow_line *p = &r->lines[i];

		if (p->problem == PRESHOW_REFILL ||
		    p->problem == PRESHOW_WRONG_SCENT)
			l[n++] = (struct refill_line){p->row, p->seat, p->slot,
						      p->sku};
	}
	*out = l;
	*n_out = n;
	return SC_OK;
}

int show_used_lines(const struct venue *v, const struct show_result *r,
		    struct arena *a, struct used_line **out, size_t *n_out,
		    struct sc_err *err)
{
	size_t cap = 0, n = 0;

	*out = NULL;
	for (size_t i = 0; i < v->n_devices; i++) {
		const struct seat_device *d = &v->devices[i];

		for (size_t k = 0; k < d->n_slots; k++) {
			int64_t ul =
				r->consumed_ul[CUE_SEAT_INDEX(d->row, d->seat) *
						       CUE_PALETTE_MAX +
					       d->slots[k].slot - 1];

			if (!ul)
				continue;
			if (arena_reserve(a, (void **)out, &cap, n + 1,
					  sizeof(**out)))
				return err_set(err, SC_ENOMEM, "out of memory");
			(*out)[n++] = (struct used_line){d->row, d->seat,
							 d->slots[k].slot, ul};
		}
	}
	*n_out = n;
	return SC_OK;
}

/* Integer field @name of @o, 0 or more, into *@v (absent: 0). */
static bool count_of(json_t *o, const char *name, int64_t *v)
{
	json_t *x = json_object_get(o, name);

	*v = x ? json_integer_value(x) : 0;
	return !x || (json_is_integer(x) && *v >= 0);
}

int record_show_from_json(json_t *o, struct arena *a, struct cmd_record_show *c,
			  struct sc_err *err)
{
	/* Everything `scents show --json` prints, so its output posts as
	 * it is; only the counts and consumption are used. */
	static const char *const known[] = {
		"track_id",	"title",       "venue",		"seats_playing",
		"fires",	"acked",       "missed",	"unacked",
		"sent",		"resent",      "seat_releases", "dry_seats",
		"skipped",	"substituted", "error_p50_us",	"error_p99_us",
		"error_max_us", "seeks",       "consumption",	NULL};
	static const char *const line_keys[] = {"seat", "slot",	 "released_ul",
						"sku",	"batch", NULL};
	json_t *use = json_object_get(o, "consumption");
	struct used_line *l;
	int64_t unacked = 0;
	size_t n = json_array_size(use);
	int rc = json_known_keys(o, known, NULL, err);

	if (rc)
		return rc;
	if (!count_of(o, "track_id", &c->track_id) ||
	    !count_of(o, "fires", &c->fires) ||
	    !count_of(o, "acked", &c->acked) ||
	    !count_of(o, "missed", &c->missed) ||
	    !count_of(o, "unacked", &unacked) ||
	    !count_of(o, "seat_releases", &c->seat_releases) ||
	    (use && !json_is_array(use)) || n > SHOW_LINES_MAX)
		return err_set(err, SC_EINVAL,
			       "track_id, fires, acked, missed, unacked and "
			       "seat_releases are whole numbers of 0 or "
			       "more; consumption an array of at most %d "
			       "{\"seat\",\"slot\",\"released_ul\"}",
			       SHOW_LINES_MAX);
	c->missed += unacked; /* not acknowledged: not known to have fired */
	l = arena_calloc(a, n ? n : 1, sizeof(*l));
	if (!l)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(use, i);
		json_t *slot = json_object_get(e, "slot");
		json_t *ul = json_object_get(e, "released_ul");

		if (!json_is_object(e) ||
		    json_known_keys(e, line_keys, "consumption", err) ||
		    !seat_parse(json_string_value(json_object_get(e, "seat")),
				&l[i].row, &l[i].seat) ||
		    !json_is_integer(slot) || !json_is_integer(ul))
			return err_set(
				err, SC_EINVAL,
				"consumption %zu: needs a seat (\"A1\"), "
				"a slot and released_ul",
				i + 1);
		l[i].slot = (int32_t)json_integer_value(slot);
		l[i].ul = json_integer_value(ul);
	}
	c->lines = l;
	c->n_lines = n;
	return SC_OK;
}

json_t *record_show_json(const struct bus_result *res)
{
	return json_pack("{s:I,s:I}", "show_id", (json_int_t)res->show_id,
			 "alerts", (json_int_t)res->alerts);
}

json_t *refill_json(const char *orderid, const struct bus_result *res)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < res->n_refills; i++) {
		const struct refill_outcome *o = &res->refills[i];

		if (json_array_append_new(
			    arr,
			    json_pack("{s:s,s:I,s:I,s:b,s:b,s:s?,s:I}", "sku",
				      o->sku, "ul", (json_int_t)o->ul, "qty",
				      (json_int_t)o->qty, "allocated",
				      o->allocated, "repeated", o->repeated,
				      "batchref", o->batchref, "cartridges",
				      (json_int_t)o->cartridges))) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return json_pack("{s:s,s:o}", "orderid", orderid, "refills", arr);
}

json_t *shows_json(const struct show_record *s, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		json_t *used = json_array();

		for (size_t k = 0; used && k < s[i].n_used; k++)
			if (json_array_append_new(
				    used,
				    json_pack("{s:s,s:s?,s:I}", "sku",
					      s[i].used[k].sku, "batch",
					      s[i].used[k].batch, "ul",
					      (json_int_t)s[i].used[k].ul))) {
				json_decref(used);
				used = NULL;
			}
		if (json_array_append_new(
			    arr,
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "id",
				      (json_int_t)s[i].id, "track_id",
				      (json_int_t)s[i].track_id, "played_at",
				      (json_int_t)s[i].played_at, "fires",
				      (json_int_t)s[i].fires, "acked",
				      (json_int_t)s[i].acked, "missed",
				      (json_int_t)s[i].missed, "seat_releases",
				      (json_int_t)s[i].seat_releases, "used",
				      used))) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}
