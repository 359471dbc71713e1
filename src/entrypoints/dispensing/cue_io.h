/*
 * entrypoints/dispensing/cue_io.h - cue tracks in and out (issue 16): the
 * JSON file format (docs/dispensing.md) into struct cue_track, shapes
 * checked here with errors naming the cue and field; the rules by
 * cue_track_check() (domain/cue.h), once for every transport.
 */
#ifndef SCENTS_ENTRYPOINTS_DISPENSING_CUE_IO_H
#define SCENTS_ENTRYPOINTS_DISPENSING_CUE_IO_H

#include <jansson.h>
#include <stdio.h>

#include "domain/cue.h"

struct arena;
struct sc_err;

/* Parse track @o into *@out (strings borrowed from @o, arrays in @a). */
int cue_track_from_json(json_t *o, struct arena *a, struct cue_track **out,
			struct sc_err *err);

/* {"title",...,"cues","scents":[{"sku","slot","cues","max_seat_ul",
 * "total_ul","seats","release_ms"}]}; NULL on OOM. */
json_t *cue_summary_json(const struct cue_track *t, const struct scent_dose *d);

/* The same as a table for people. */
void cue_summary_print(FILE *f, const struct cue_track *t,
		       const struct scent_dose *d);

#endif
