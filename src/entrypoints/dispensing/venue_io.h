/*
 * entrypoints/dispensing/venue_io.h - venues in and the pre-show report
 * out (issue 16): the scents-venue/1 JSON format (docs/dispensing.md)
 * into struct venue, shapes checked here; the rules by venue_check().
 */
#ifndef SCENTS_ENTRYPOINTS_DISPENSING_VENUE_IO_H
#define SCENTS_ENTRYPOINTS_DISPENSING_VENUE_IO_H

#include <jansson.h>
#include <stdio.h>

#include "domain/venue.h"

struct arena;
struct sc_err;

#define VENUE_FORMAT "scents-venue/1"

/* Parse venue @o into *@out (strings borrowed from @o, arrays in @a). */
int venue_from_json(json_t *o, struct arena *a, struct venue **out,
		    struct sc_err *err);

/* {"venue","ready","seats_playing","refill_ul":{sku: ul},"lines":[...]};
 * NULL on OOM. */
json_t *preshow_json(const struct cue_track *t, const struct venue *v,
		     const struct preshow_report *r);

/* The same for people. */
void preshow_print(FILE *f, const struct cue_track *t, const struct venue *v,
		   const struct preshow_report *r);

#endif
