/*
 * entrypoints/dispensing/stored_io.h - stored venues and shows for the
 * transports (issue 16), once for HTTP and the CLI: a stored venue
 * back as struct venue with today's levels, as JSON, the refills a
 * pre-show report asks for, what a show used, and the answers of
 * RecordShow and RefillCartridges.
 */
#ifndef SCENTS_ENTRYPOINTS_DISPENSING_STORED_IO_H
#define SCENTS_ENTRYPOINTS_DISPENSING_STORED_IO_H

#include <jansson.h>

#include "domain/messages.h"
#include "domain/venue.h"
#include "service/handlers.h"
#include "service/uow.h"

struct arena;
struct sc_err;
struct show_result;

/*
 * Venue @rec (with its cartridges) as struct venue, each seat's slots
 * from today's cartridge rows.  *@doc gets the parsed body, which the
 * venue's strings borrow from: json_decref it after.  SC_EIO for a
 * body that no longer parses.
 */
int venue_of_record(const struct venue_record *rec, struct arena *a,
		    json_t **doc, struct venue **out, struct sc_err *err);

/* {"id","name","version","created_at","capacity_ul","alert_below_ul",
 * "refill_unit_ul","venue":<as imported>,"cartridges":[{"seat","slot",
 * "sku","batch","level_ul"}]}; NULL on OOM or a broken body. */
json_t *venue_record_json(const struct venue_record *rec);

/* The list entry of @rec (no body, no cartridges). */
json_t *venue_summary_json(const struct venue_record *rec);

/*
 * The cartridges pre-show report @r asks to fill: each seat short of
 * a scent (refill) or holding another scent in its slot (load the
 * track's).  Seats without a device or slot need hands, not stock.
 */
int preshow_refill_lines(const struct preshow_report *r, struct arena *a,
			 struct refill_line **out, size_t *n_out,
			 struct sc_err *err);

/* What show result @r released, per cartridge of @v, as RecordShow
 * lines in @a. */
int show_used_lines(const struct venue *v, const struct show_result *r,
		    struct arena *a, struct used_line **out, size_t *n_out,
		    struct sc_err *err);

/*
 * A RecordShow from a show's JSON (what `scents show --json` prints:
 * the counts and "consumption":[{"seat","slot","released_ul"}], other
 * fields of that output ignored) into *@c, lines in @a.  SC_EINVAL
 * naming the field.
 */
int record_show_from_json(json_t *o, struct arena *a, struct cmd_record_show *c,
			  struct sc_err *err);

/* {"show_id","alerts"} */
json_t *record_show_json(const struct bus_result *res);

/* {"orderid","refills":[{"sku","ul","qty","allocated","repeated",
 * "batchref","cartridges"}]} */
json_t *refill_json(const char *orderid, const struct bus_result *res);

/* [{"id","track_id","played_at","fires","acked","missed",
 * "seat_releases","used":[{"sku","batch","ul"}]}] */
json_t *shows_json(const struct show_record *s, size_t n);

/* "A12" -> row 0, seat 12; false on anything else. */
bool seat_parse(const char *s, int32_t *row, int32_t *seat);

#endif
