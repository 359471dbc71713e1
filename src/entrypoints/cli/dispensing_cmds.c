/*
 * entrypoints/cli/dispensing_cmds.c - `scents track` (issue 16): check a
 * cue track by the rules of domain/cue.h and print what it asks of each
 * scent per seat (or the first rule it breaks, naming the cue); import
 * one (ImportTrack, through the bus: checked again by its handler), list
 * them, show one.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "entrypoints/cli/cli.h"
#include "entrypoints/cli/session.h"
#include "entrypoints/dispensing/cue_io.h"
#include "entrypoints/dispensing/venue_io.h"
#include "service/uow.h"

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

static int import_track(const struct config *cfg, const char *path)
{
	struct msg m = {.type = MSG_IMPORT_TRACK};
	struct bus_result res = {0};
	struct cue_track *t = NULL;
	json_error_t jerr;
	struct sc_err err;
	struct arena a;
	json_t *j = NULL;
	size_t len;
	char *text;
	int rc;

	arena_init(&a);
	err_clear(&err);
	rc = cli_slurp(path, &a, &text, &len);
	if (!rc &&
	    !(j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr))) {
		cli_error("%s: line %d: %s", path, jerr.line, jerr.text);
		rc = CLI_USAGE;
	}
	if (!rc && !(text = arena_strndup(&a, text, len)))
		rc = CLI_RUNTIME;
	if (!rc && cue_track_from_json(j, &a, &t, &err))
		rc = cli_fail(&err);
	m.u.import_track =
		(struct cmd_import_track){t, text, (int64_t)time(NULL)};
	if (!rc)
		rc = cli_send(cfg, &m, &res);
	if (!rc)
		printf("track %lld: %s, %zu cues\n", (long long)res.track_id,
		       t->title, t->n_cues);
	json_decref(j);
	arena_release(&a);
	return rc;
}

/* `track list` and `track show ID`, on a store that must exist. */
static int list_or_show(const struct config *cfg, const char *id_text,
			bool as_json)
{
	struct config ro = *cfg;
	struct track_record *rec;
	struct scent_dose *d;
	struct cue_track *t;
	struct session s;
	struct sc_err err;
	long long id = 0;
	size_t n;
	json_t *j = NULL;
	int rc;

	if (id_text && cli_parse_qty("track id", id_text, 1, &id))
		return CLI_USAGE;
	ro.open_existing = 1;
	err_clear(&err);
	rc = session_open(&ro, NULL, &s, &err);
	if (!rc && !id_text)
		rc = uow_track_list(s.w.uow, &s.w.scratch, &rec, &n, &err);
	for (size_t i = 0; !rc && !id_text && i < n; i++)
		printf("%lld\t%s\t%lld cues\t%s\n", (long long)rec[i].id,
		       rec[i].title, (long long)rec[i].cues,
		       rec[i].content_hash ? rec[i].content_hash : "-");
	if (!rc && id_text)
		rc = uow_track_get(s.w.uow, id, &s.w.scratch, &rec, &err);
	if (!rc && id_text &&
	    !(j = json_loads(rec->body, JSON_REJECT_DUPLICATES, NULL)))
		rc = err_set(&err, SC_EIO, "stored track %lld is not JSON", id);
	if (!rc && id_text &&
	    (cue_track_from_json(j, &s.w.scratch, &t, &err) ||
	     cue_track_doses(t, &s.w.scratch, &d, &err)))
		rc = SC_EIO;
	if (!rc && id_text && as_json)
		rc = cli_print_json(cue_summary_json(t, d));
	else if (!rc && id_text)
		cue_summary_print(stdout, t, d);
	json_decref(j);
	session_close(&s);
	return rc > 0 ? rc : rc ? cli_fail(&err) : CLI_OK;
}

/* Load and parse JSON file @path; CLI_USAGE after saying why. */
static int load(const char *path, json_t **out)
{
	json_error_t jerr;

	*out = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (*out)
		return CLI_OK;
	cli_error("%s: line %d: %s", path, jerr.line, jerr.text);
	return CLI_USAGE;
}

/*
 * `track preshow TRACK VENUE`: each occupied seat's cartridges against
 * what the track releases there; exit 1 when the show is not ready.
 */
static int preshow(const char *track_path, const char *venue_path, bool as_json)
{
	struct preshow_report r = {0};
	struct cue_track *t = NULL;
	struct venue *v = NULL;
	struct sc_err err;
	struct arena a;
	json_t *tj = NULL, *vj = NULL;
	int rc = load(track_path, &tj);

	if (!rc)
		rc = load(venue_path, &vj);
	arena_init(&a);
	err_clear(&err);
	if (!rc && (cue_track_from_json(tj, &a, &t, &err) ||
		    cue_track_check(t, &a, &err) ||
		    venue_from_json(vj, &a, &v, &err) || venue_check(v, &err) ||
		    venue_preshow(t, v, &a, &r, &err)))
		rc = cli_fail(&err);
	if (!rc && (!t || !v))
		rc = CLI_RUNTIME;
	if (!rc && as_json)
		rc = cli_print_json(preshow_json(t, v, &r));
	else if (!rc)
		preshow_print(stdout, t, v, &r);
	if (!rc && !r.ready)
		rc = CLI_RUNTIME;
	arena_release(&a);
	json_decref(tj);
	json_decref(vj);
	return rc;
}

int cmd_track(const struct config *cfg, const struct cli_opts *o, int argc,
	      char **argv)
{
	if (!strcmp(argv[0], "preshow") && argc == 3)
		return preshow(argv[1], argv[2], o->json);
	if (!strcmp(argv[0], "check") && argc == 2)
		return check_track(argv[1], o->json);
	if (!strcmp(argv[0], "import") && argc == 2)
		return import_track(cfg, argv[1]);
	if (!strcmp(argv[0], "list") && argc == 1)
		return list_or_show(cfg, NULL, false);
	if (!strcmp(argv[0], "show") && argc == 2)
		return list_or_show(cfg, argv[1], o->json);
	cli_error("usage: scents track check FILE | import FILE | list | "
		  "show ID | preshow TRACK VENUE [--json]");
	return CLI_USAGE;
}
