/*
 * entrypoints/cli/dispensing_cmds.c - `scents track` (issue 16): check a
 * cue track by the rules of domain/cue.h and print what it asks of each
 * scent per seat (or the first rule it breaks, naming the cue); import
 * one (ImportTrack, through the bus: checked again by its handler), list
 * them, show one; `scents show` plays one through a venue's gateways,
 * `scents gatewaysim` stands in for the gateways.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "entrypoints/cli/cli.h"
#include "entrypoints/cli/session.h"
#include "entrypoints/dispensing/cue_io.h"
#include "entrypoints/dispensing/player.h"
#include "entrypoints/dispensing/stored_io.h"
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

/*
 * A document to import: file @path's text (NUL-terminated, in @a, to be
 * stored as sent) and its JSON in *@j.  CLI_USAGE after saying why.
 */
static int read_document(const char *path, struct arena *a, char **text,
			 json_t **j)
{
	json_error_t jerr;
	size_t len;
	int rc = cli_slurp(path, a, text, &len);

	*j = NULL;
	if (!rc &&
	    !(*j = json_loadb(*text, len, JSON_REJECT_DUPLICATES, &jerr))) {
		cli_error("%s: line %d: %s", path, jerr.line, jerr.text);
		rc = CLI_USAGE;
	}
	if (!rc && !(*text = arena_strndup(a, *text, len)))
		rc = CLI_RUNTIME;
	return rc;
}

static int import_track(const struct config *cfg, const char *path)
{
	struct msg m = {.type = MSG_IMPORT_TRACK};
	struct bus_result res = {0};
	struct cue_track *t = NULL;
	struct sc_err err;
	struct arena a;
	json_t *j = NULL;
	char *text = NULL;
	int rc;

	arena_init(&a);
	err_clear(&err);
	rc = read_document(path, &a, &text, &j);
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
	err_clear(&err);
	rc = session_open_existing(cfg, &s, &err);
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

/* Set by SIGINT or SIGTERM: a show stops and reports, the simulator
 * writes its levels. */
static volatile int stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: the wait returns */
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
}

/* Optional whole-number option --@what in @lo..@hi (@def when absent). */
static int opt_int(const char *what, const char *s, long long def, long long lo,
		   long long hi, long long *out)
{
	char *end;

	*out = def;
	if (!s)
		return CLI_OK;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || end == s || *end || *out < lo || *out > hi) {
		cli_error("--%s must be a whole number from %lld to %lld, not "
			  "'%.40s'",
			  what, lo, hi, s);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* A track and a venue, each a file or a stored one, checked, in @a. */
struct show_files {
	json_t *tj, *vj;
	struct cue_track *t;
	struct venue *v;
	int64_t track_id, venue_id; /* stored ones; 0 for files */
};

/* All digits: the id of a stored track or venue, not a file name. */
static int64_t stored_id(const char *s)
{
	long long v = 0;

	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9' || v > INT64_MAX / 10)
			return 0;
		else
			v = v * 10 + (*p - '0');
	return v;
}

/* The stored ones of @f's track and venue, bodies parsed into @f. */
static int load_stored(const struct config *cfg, struct arena *a,
		       struct show_files *f, struct sc_err *err)
{
	struct venue_record *vr;
	struct track_record *tr;
	struct session s;
	int rc;

	rc = session_open_existing(cfg, &s, err);
	if (!rc && f->track_id) {
		rc = uow_track_get(s.w.uow, f->track_id, a, &tr, err);
		if (!rc && !(f->tj = json_loads(tr->body,
						JSON_REJECT_DUPLICATES, NULL)))
			rc = err_set(err, SC_EIO,
				     "stored track %lld is not JSON",
				     (long long)f->track_id);
	}
	if (!rc && f->venue_id)
		rc = uow_venue_get(s.w.uow, f->venue_id, a, &vr, err);
	if (!rc && f->venue_id)
		rc = venue_of_record(vr, a, &f->vj, &f->v, err);
	session_close(&s);
	return rc;
}

static int load_show(const struct config *cfg, const char *track,
		     const char *venue, struct arena *a, struct show_files *f)
{
	struct sc_err err;
	int rc = CLI_OK;

	f->track_id = stored_id(track);
	f->venue_id = stored_id(venue);
	err_clear(&err);
	if ((f->track_id || f->venue_id) && load_stored(cfg, a, f, &err))
		return cli_fail(&err);
	if (!f->track_id)
		rc = load(track, &f->tj);
	if (!rc && !f->venue_id)
		rc = load(venue, &f->vj);
	if (!rc && (cue_track_from_json(f->tj, a, &f->t, &err) ||
		    cue_track_check(f->t, a, &err) ||
		    (!f->venue_id && venue_from_json(f->vj, a, &f->v, &err)) ||
		    venue_check(f->v, &err)))
		rc = cli_fail(&err);
	return rc;
}

/* A stored venue's show goes on record: levels, alerts, what it used. */
static int record(const struct config *cfg, const struct show_files *f,
		  const struct show_result *r, struct arena *a,
		  struct bus_result *res)
{
	struct msg m = {.type = MSG_RECORD_SHOW};
	struct used_line *lines = NULL;
	struct sc_err err;
	size_t n = 0;

	err_clear(&err);
	if (show_used_lines(f->v, r, a, &lines, &n, &err))
		return cli_fail(&err);
	m.u.record_show = (struct cmd_record_show){
		f->venue_id,	  f->track_id, (int64_t)time(NULL),
		r->fires,	  r->acked,    r->missed + r->unacked,
		r->seat_releases, lines,       n};
	return cli_send(cfg, &m, res);
}

static void unload_show(struct show_files *f)
{
	json_decref(f->tj);
	json_decref(f->vj);
}

/* The show's options, checked. */
static int show_options(const struct cli_opts *o, const struct cue_track *t,
			struct show_opts *so, FILE **ltc)
{
	long long speed, tol, lead, retry, rate = 48000;
	int64_t from = 0;

	if (opt_int("speed", o->speed, 1, 1, 3600, &speed) ||
	    opt_int("tolerance-ms", o->tolerance_ms, 200, 0, 60000, &tol) ||
	    opt_int("lead-ms", o->lead_ms, 50, 0, 10000, &lead) ||
	    opt_int("retry-ms", o->retry_ms, 10, 1, 10000, &retry) ||
	    opt_int("ltc-rate", o->ltc_rate, 48000, 8000, 192000, &rate))
		return CLI_USAGE;
	memset(so, 0, sizeof(*so));
	so->src.lock = LOCK_FREEWHEEL;
	if (o->lock && !lock_mode_parse(o->lock, &so->src.lock)) {
		cli_error("--lock must be strict, freewheel or jam");
		return CLI_USAGE;
	}
	if (o->from &&
	    !cue_timecode_parse(o->from,
				(t->rate_num + t->rate_den - 1) / t->rate_den,
				&from)) {
		cli_error("--from must be a timecode HH:MM:SS:FF");
		return CLI_USAGE;
	}
	if (o->ltc &&
	    !(*ltc = strcmp(o->ltc, "-") ? fopen(o->ltc, "rb") : stdin)) {
		cli_error("%s: %s", o->ltc, strerror(errno));
		return CLI_USAGE;
	}
	so->src.from_us = from * 1000000 * t->rate_den / t->rate_num;
	so->src.ltc = o->ltc ? *ltc : NULL;
	so->src.ltc_rate = (int32_t)rate;
	so->src.ltc_paced = o->ltc && strcmp(o->ltc, "-") != 0;
	so->speed = speed;
	so->tolerance_us = tol * 1000;
	so->lead_us = lead * 1000;
	so->retry_us = retry * 1000;
	so->stop = &stop_flag;
	return CLI_OK;
}

/* Released per (seat, slot), with the cartridge's sku and batch. */
static json_t *consumption_json(const struct venue *v,
				const struct show_result *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < v->n_devices; i++) {
		const struct seat_device *d = &v->devices[i];

		for (size_t k = 0; k < d->n_slots; k++) {
			const struct cartridge *c = &d->slots[k];
			int64_t ul =
				r->consumed_ul[CUE_SEAT_INDEX(d->row, d->seat) *
						       CUE_PALETTE_MAX +
					       c->slot - 1];
			char seat[8];

			if (!ul)
				continue;
			(void)snprintf(seat, sizeof(seat), "%c%d", 'A' + d->row,
				       (int)d->seat);
			(void)json_array_append_new(
				arr, json_pack("{s:s,s:i,s:s,s:s?,s:I}", "seat",
					       seat, "slot", (int)c->slot,
					       "sku", c->sku, "batch", c->batch,
					       "released_ul", (json_int_t)ul));
		}
	}
	return arr;
}

static int show_report(const struct show_files *f, const struct show_plan *p,
		       const struct show_result *r, bool as_json)
{
	if (as_json)
		return cli_print_json(json_pack(
			"{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
			"s:I,s:I,s:I,s:I,s:I,s:o,s:I}",
			"title", f->t->title, "venue", f->v->name,
			"seats_playing", (json_int_t)p->seats_playing, "fires",
			(json_int_t)r->fires, "acked", (json_int_t)r->acked,
			"missed", (json_int_t)r->missed, "unacked",
			(json_int_t)r->unacked, "sent", (json_int_t)r->sent,
			"resent", (json_int_t)r->retries, "seat_releases",
			(json_int_t)r->seat_releases, "dry_seats",
			(json_int_t)r->short_seats, "skipped",
			(json_int_t)p->skipped, "substituted",
			(json_int_t)p->substituted, "error_p50_us",
			(json_int_t)r->err_p50_us, "error_p99_us",
			(json_int_t)r->err_p99_us, "error_max_us",
			(json_int_t)r->err_max_us, "seeks",
			(json_int_t)r->seeks, "consumption",
			consumption_json(f->v, r), "track_id",
			(json_int_t)f->track_id));
	printf("%s in %s: %lld seats playing, %lld fires\n", f->t->title,
	       f->v->name, (long long)p->seats_playing, (long long)r->fires);
	printf("fires: %lld acknowledged, %lld missed, %lld unacknowledged "
	       "(%lld datagrams, %lld resent)\n",
	       (long long)r->acked, (long long)r->missed, (long long)r->unacked,
	       (long long)r->sent, (long long)r->retries);
	printf("seat releases: %lld acknowledged, %lld dry; planning skipped "
	       "%lld, substituted %lld\n",
	       (long long)r->seat_releases, (long long)r->short_seats,
	       (long long)p->skipped, (long long)p->substituted);
	printf("fire-time error (actual - planned): p50 %.3f ms, p99 %.3f "
	       "ms, max %.3f ms\n",
	       (double)r->err_p50_us / 1000, (double)r->err_p99_us / 1000,
	       (double)r->err_max_us / 1000);
	for (size_t k = 0; k < f->t->n_palette; k++) {
		int64_t ul = 0;

		for (size_t x = 0; x < CUE_MAP_SEATS; x++)
			ul += r->consumed_ul[x * CUE_PALETTE_MAX +
					     f->t->palette[k].slot - 1];
		printf("released %s (slot %d): %lld ul\n", f->t->palette[k].sku,
		       (int)f->t->palette[k].slot, (long long)ul);
	}
	return CLI_OK;
}

int cmd_show(const struct config *cfg, const struct cli_opts *o, int argc,
	     char **argv)
{
	struct show_files f = {0};
	struct bus_result res = {0};
	struct show_result r;
	struct show_plan p;
	struct show_opts so;
	struct sc_err err;
	struct arena a;
	FILE *ltc = NULL;
	FILE *log = NULL;
	int rc;

	(void)argc;
	arena_init(&a);
	err_clear(&err);
	rc = load_show(cfg, argv[0], argv[1], &a, &f);
	if (!rc)
		rc = show_options(o, f.t, &so, &ltc);
	if (!rc && o->log && !(log = fopen(o->log, "w"))) {
		cli_error("%s: %s", o->log, strerror(errno));
		rc = CLI_USAGE;
	}
	so.log = log;
	if (!rc && show_plan(f.t, f.v, &a, &p, &err))
		rc = cli_fail(&err);
	if (!rc) {
		catch_stop();
		if (show_run(&(struct show_input){f.t, f.v, &p}, &so, &a, &r,
			     &err))
			rc = cli_fail(&err);
	}
	if (!rc)
		rc = show_report(&f, &p, &r, o->json);
	/* After the report: a show that played is reported even when the
	 * store cannot take it, and the report says what to post later
	 * (POST /venues/{id}/shows takes that JSON as it is). */
	if (!rc && f.venue_id && !record(cfg, &f, &r, &a, &res))
		(void)fprintf(o->json ? stderr : stdout,
			      "recorded as show %lld of venue %lld: %lld "
			      "cartridge alert(s)\n",
			      (long long)res.show_id, (long long)f.venue_id,
			      (long long)res.alerts);
	else if (!rc && f.venue_id)
		rc = CLI_RUNTIME;
	if (!rc && (r.missed || r.unacked))
		rc = CLI_RUNTIME;
	if (ltc && ltc != stdin)
		(void)fclose(ltc);
	if (log)
		(void)fclose(log);
	unload_show(&f);
	arena_release(&a);
	return rc;
}

/* The simulator's options, checked; its log opened. */
static int sim_options(const struct cli_opts *o, struct sim_opts *so)
{
	long long latency, jitter, offset, seed;
	double loss = 0;
	char *end = NULL;

	if (opt_int("latency-ms", o->latency_ms, 0, 0, 10000, &latency) ||
	    opt_int("jitter-ms", o->jitter_ms, 0, 0, 10000, &jitter) ||
	    opt_int("clock-offset-ms", o->clock_offset_ms, 0, -86400000,
		    86400000, &offset) ||
	    opt_int("seed", o->seed, 1, 1, INT64_MAX, &seed))
		return CLI_USAGE;
	if (o->loss)
		loss = strtod(o->loss, &end);
	if (o->loss &&
	    (end == o->loss || *end || !(loss >= 0 && loss <= 100))) {
		cli_error("--loss must be a percentage from 0 to 100");
		return CLI_USAGE;
	}
	memset(so, 0, sizeof(*so));
	so->latency_us = latency * 1000;
	so->jitter_us = jitter * 1000;
	so->clock_offset_us = offset * 1000;
	so->loss_ppm = (int32_t)lround(loss * 10000);
	so->seed = (uint64_t)seed;
	so->levels_path = o->levels;
	so->stop = &stop_flag;
	if (o->log && !(so->log = fopen(o->log, "w"))) {
		cli_error("%s: %s", o->log, strerror(errno));
		return CLI_USAGE;
	}
	return CLI_OK;
}

int cmd_gatewaysim(const struct config *cfg, const struct cli_opts *o, int argc,
		   char **argv)
{
	struct show_files f = {0};
	struct sim_opts so;
	struct venue *v = NULL;
	struct sc_err err;
	struct arena a;
	json_t *vj = NULL;
	int rc;

	(void)argc;
	rc = sim_options(o, &so);
	if (rc)
		return rc;
	arena_init(&a);
	err_clear(&err);
	/* A stored venue: its cartridges as the store has them today. */
	f.venue_id = stored_id(argv[0]);
	if (f.venue_id) {
		rc = load_stored(cfg, &a, &f, &err) ? cli_fail(&err) : CLI_OK;
		vj = f.vj;
		v = f.v;
	} else {
		rc = load(argv[0], &vj);
	}
	if (!rc && ((!f.venue_id && venue_from_json(vj, &a, &v, &err)) ||
		    venue_check(v, &err)))
		rc = cli_fail(&err);
	if (!rc && !v)
		rc = CLI_RUNTIME;
	if (!rc) {
		catch_stop();
		(void)fprintf(stderr,
			      "gatewaysim: %s, %zu gateways, %zu seat devices "
			      "(^C to stop)\n",
			      v->name, v->n_gateways, v->n_devices);
		if (gatewaysim_run(v, &so, &err))
			rc = cli_fail(&err);
	}
	if (so.log)
		(void)fclose(so.log);
	json_decref(vj);
	arena_release(&a);
	return rc;
}

/* ---- stored venues: `scents venue` ------------------------------------ */

/* A positive id operand; -1 after saying why. */
static int64_t id_arg(const char *what, const char *s)
{
	long long v;

	return cli_parse_qty(what, s, 1, &v) ? -1 : (int64_t)v;
}

static int import_venue(const struct config *cfg, const char *path)
{
	struct msg m = {.type = MSG_IMPORT_VENUE};
	struct bus_result res = {0};
	struct venue *v = NULL;
	struct sc_err err;
	struct arena a;
	json_t *j = NULL;
	char *text = NULL;
	int rc;

	arena_init(&a);
	err_clear(&err);
	rc = read_document(path, &a, &text, &j);
	if (!rc && venue_from_json(j, &a, &v, &err))
		rc = cli_fail(&err);
	m.u.import_venue =
		(struct cmd_import_venue){v, text, (int64_t)time(NULL)};
	if (!rc)
		rc = cli_send(cfg, &m, &res);
	if (!rc)
		printf("venue %lld: %s, %zu seat devices\n",
		       (long long)res.venue_id, v->name, v->n_devices);
	json_decref(j);
	arena_release(&a);
	return rc;
}

/* What `venue` reads, with the store open read-only, into @a. */
struct venue_read {
	struct venue_record *rec; /* the venue, or a list */
	size_t n;
	struct show_record *shows;
	size_t n_shows;
	struct track_record *track;
};

/* `venue list`, `show ID`, `shows ID`: what each reads. */
static int read_venue(const struct config *cfg, const char *what, int64_t id,
		      int64_t track, struct arena *a, struct venue_read *r)
{
	struct session s;
	struct sc_err err;
	int rc;

	err_clear(&err);
	rc = session_open_existing(cfg, &s, &err);
	if (!rc && !id)
		rc = uow_venue_list(s.w.uow, a, &r->rec, &r->n, &err);
	else if (!rc)
		rc = uow_venue_get(s.w.uow, id, a, &r->rec, &err);
	if (!rc && !strcmp(what, "shows"))
		rc = uow_show_list(s.w.uow, id, a, &r->shows, &r->n_shows,
				   &err);
	if (!rc && track)
		rc = uow_track_get(s.w.uow, track, a, &r->track, &err);
	session_close(&s);
	return rc ? cli_fail(&err) : CLI_OK;
}

/* A stored venue and track, parsed, and the pre-show report. */
struct venue_preshow {
	json_t *vdoc, *tdoc;
	struct venue *v;
	struct cue_track *t;
	struct preshow_report r;
};

static int preshow_of(const struct venue_read *vr, struct arena *a,
		      struct venue_preshow *p)
{
	struct sc_err err;

	err_clear(&err);
	if (venue_of_record(vr->rec, a, &p->vdoc, &p->v, &err))
		return cli_fail(&err);
	p->tdoc = json_loads(vr->track->body, JSON_REJECT_DUPLICATES, NULL);
	if (!p->tdoc || cue_track_from_json(p->tdoc, a, &p->t, &err) ||
	    cue_track_check(p->t, a, &err) ||
	    venue_preshow(p->t, p->v, a, &p->r, &err)) {
		cli_error("stored track %lld does not parse: %s",
			  (long long)vr->track->id, err.msg);
		return CLI_RUNTIME;
	}
	return CLI_OK;
}

/* `venue refill ID TRACK ORDERID`: what the pre-show report asks for. */
static int refill_venue(const struct config *cfg, struct arena *a,
			const struct venue_preshow *p, int64_t id,
			const char *orderid)
{
	struct msg m = {.type = MSG_REFILL_CARTRIDGES};
	struct bus_result res = {.arena = a};
	struct refill_line *lines = NULL;
	struct sc_err err;
	size_t n = 0;
	int rc;

	err_clear(&err);
	if (preshow_refill_lines(&p->r, a, &lines, &n, &err))
		return cli_fail(&err);
	if (!n) {
		printf("nothing to refill: every cartridge holds what the "
		       "track needs\n");
		return CLI_OK;
	}
	m.u.refill_cartridges = (struct cmd_refill_cartridges){
		id, orderid, cli_today(), lines, n};
	rc = cli_send(cfg, &m, &res);
	for (size_t i = 0; !rc && i < res.n_refills; i++) {
		const struct refill_outcome *o = &res.refills[i];

		printf("%s: %lld ul, %lld units of order %s: %s", o->sku,
		       (long long)o->ul, (long long)o->qty, orderid,
		       o->repeated    ? "placed before, nothing filled again"
		       : o->allocated ? "allocated from "
				      : "out of stock, the stock team is told");
		if (o->allocated && !o->repeated)
			printf("%s, %lld cartridges filled", o->batchref,
			       (long long)o->cartridges);
		printf("\n");
	}
	return rc;
}

static void print_venue(const struct venue_record *rec)
{
	printf("venue %lld: %s, version %lld, cartridges of %lld ul, alert "
	       "below %lld ul, a stock unit fills %lld ul\n",
	       (long long)rec->id, rec->name, (long long)rec->version,
	       (long long)rec->capacity_ul, (long long)rec->alert_below_ul,
	       (long long)rec->refill_unit_ul);
	printf("%-5s %4s %-24s %-16s %9s\n", "SEAT", "SLOT", "SCENT", "BATCH",
	       "LEVEL UL");
	for (size_t i = 0; i < rec->n_cartridges; i++) {
		const struct cartridge_row *c = &rec->cartridges[i];

		printf("%c%-4d %4d %-24s %-16s %9lld\n", 'A' + c->row,
		       (int)c->seat, (int)c->slot, c->sku,
		       c->batch ? c->batch : "-", (long long)c->level_ul);
	}
}

/* `venue list | show ID | shows ID | preshow ID TRACK | refill ...` */
static int venue_reads(const struct config *cfg, const struct cli_opts *o,
		       int argc, char **argv)
{
	int64_t id = argc > 1 ? id_arg("venue id", argv[1]) : 0;
	int64_t track = argc > 2 ? id_arg("track id", argv[2]) : 0;
	struct venue_read vr = {0};
	struct venue_preshow p = {0};
	struct arena a;
	int rc;

	if (id < 0 || track < 0)
		return CLI_USAGE;
	arena_init(&a);
	rc = read_venue(cfg, argv[0], id, track, &a, &vr);
	if (!rc && strcmp(argv[0], "list") != 0 && !vr.rec)
		rc = CLI_RUNTIME;
	if (!rc && track)
		rc = preshow_of(&vr, &a, &p);
	if (rc)
		goto out;
	if (!strcmp(argv[0], "list")) {
		for (size_t i = 0; i < vr.n; i++)
			printf("%lld\t%s\tversion %lld\n",
			       (long long)vr.rec[i].id, vr.rec[i].name,
			       (long long)vr.rec[i].version);
	} else if (!strcmp(argv[0], "show") && vr.rec) {
		if (o->json)
			rc = cli_print_json(venue_record_json(vr.rec));
		else
			print_venue(vr.rec);
	} else if (!strcmp(argv[0], "shows")) {
		rc = cli_print_json(shows_json(vr.shows, vr.n_shows));
	} else if (!strcmp(argv[0], "preshow")) {
		if (o->json)
			rc = cli_print_json(preshow_json(p.t, p.v, &p.r));
		else
			preshow_print(stdout, p.t, p.v, &p.r);
		if (!rc && !p.r.ready)
			rc = CLI_RUNTIME;
	} else {
		rc = refill_venue(cfg, &a, &p, id, argv[3]);
	}
out:
	json_decref(p.vdoc);
	json_decref(p.tdoc);
	arena_release(&a);
	return rc;
}

int cmd_venue(const struct config *cfg, const struct cli_opts *o, int argc,
	      char **argv)
{
	static const struct {
		const char *name;
		int argc;
	} reads[] = {{"list", 1},
		     {"show", 2},
		     {"shows", 2},
		     {"preshow", 3},
		     {"refill", 4}};

	if (!strcmp(argv[0], "import") && argc == 2)
		return import_venue(cfg, argv[1]);
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		if (!strcmp(argv[0], reads[i].name) && argc == reads[i].argc)
			return venue_reads(cfg, o, argc, argv);
	cli_error("usage: scents venue import FILE | list | show ID | shows ID "
		  "| preshow ID TRACK | refill ID TRACK ORDERID [--json]");
	return CLI_USAGE;
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
