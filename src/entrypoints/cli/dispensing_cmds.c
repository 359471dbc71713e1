/*
 * entrypoints/cli/dispensing_cmds.c - `scents track check FILE` (issue
 * 16): read a cue track, check it by the rules of domain/cue.h, and print
 * what it asks of each scent per seat (or the first rule it breaks,
 * naming the cue).  Changes nothing.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "entrypoints/cli/cli.h"
#include "entrypoints/cli/session.h"
#include "entrypoints/dispensing/cue_io.h"

static int check_track(const char *path, bool as_json)
{
	struct scent_dose *d = NULL;
	struct cue_track *t = NULL;
	json_error_t jerr;
	struct sc_err err;
	struct arena a;
	json_t *j;
	int rc;

	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		cli_error("%s: line %d: %s", path, jerr.line, jerr.text);
		return CLI_USAGE;
	}
	arena_init(&a);
	err_clear(&err);
	rc = cue_track_from_json(j, &a, &t, &err);
	if (!rc)
		rc = cue_track_check(t, &a, &err);
	if (!rc)
		rc = cue_track_doses(t, &a, &d, &err);
	if (rc)
		rc = cli_fail(&err);
	else if (as_json)
		rc = cli_print_json(cue_summary_json(t, d));
	else
		cue_summary_print(stdout, t, d);
	arena_release(&a);
	json_decref(j);
	return rc;
}

int cmd_track(const struct config *cfg, const struct cli_opts *o, int argc,
	      char **argv)
{
	(void)cfg;
	if (!strcmp(argv[0], "check") && argc == 2)
		return check_track(argv[1], o->json);
	cli_error("usage: scents track check FILE [--json]");
	return CLI_USAGE;
}
