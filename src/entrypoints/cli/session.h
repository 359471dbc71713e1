/*
 * entrypoints/cli/session.h - what the CLI's commands share: a session on
 * the store, sending a command through the bus, and the checks and
 * printing every command uses (entrypoints/cli/commands.c).
 */
#ifndef SCENTS_ENTRYPOINTS_CLI_SESSION_H
#define SCENTS_ENTRYPOINTS_CLI_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootstrap.h"
#include "common/config.h"
#include "common/err.h"
#include "domain/messages.h"
#include "service/handlers.h"

struct arena;

/* The app and one worker, for the length of one command. */
struct session {
	struct app *app; /* NULL until opened */
	struct worker w; /* usable when ready */
	bool ready;	 /* w was initialised */
};

/* Open the store (waking @sig, may be NULL, after commits) and a worker. */
int session_open(const struct config *cfg, struct outbox_signal *sig,
		 struct session *s, struct sc_err *err);

/* The same on a store that must exist already: reads never create one. */
int session_open_existing(const struct config *cfg, struct session *s,
			  struct sc_err *err);

void session_close(struct session *s);

/* Map a service code to an exit code, printing the reason. */
int cli_fail(const struct sc_err *err);

/* Open the store, send @m through the bus, deliver, close.  Exit code. */
int cli_send(const struct config *cfg, const struct msg *m,
	     struct bus_result *res);

/* Print @j (stolen) on one line; CLI_RUNTIME when out of memory. */
int cli_print_json(json_t *j);

/* Today (UTC) as days since the epoch. */
int32_t cli_today(void);

/* Read all of @path (at most 16 MiB) into @a. */
int cli_slurp(const char *path, struct arena *a, char **out, size_t *len);

/* @s as a whole number from @min to SC_QTY_MAX; -1 after saying why. */
int cli_parse_qty(const char *what, const char *s, long long min,
		  long long *out);

/* @s as an id; -1 after saying why. */
int cli_check_id(const char *what, const char *s);

/* Issue 15's commands (entrypoints/cli/analytics_cmds.c). */
struct cli_opts;
int cmd_ingredients(const struct config *cfg, const struct cli_opts *o,
		    int argc, char **argv);
int cmd_formula(const struct config *cfg, const struct cli_opts *o, int argc,
		char **argv);
int cmd_survey(const struct config *cfg, const struct cli_opts *o, int argc,
	       char **argv);
int cmd_demand(const struct config *cfg, const struct cli_opts *o, int argc,
	       char **argv);
int cmd_plan(const struct config *cfg, const struct cli_opts *o, int argc,
	     char **argv);

/* Issue 16's commands (entrypoints/cli/dispensing_cmds.c). */
int cmd_show(const struct config *cfg, const struct cli_opts *o, int argc,
	     char **argv);
int cmd_venue(const struct config *cfg, const struct cli_opts *o, int argc,
	      char **argv);
int cmd_gatewaysim(const struct config *cfg, const struct cli_opts *o, int argc,
		   char **argv);
int cmd_track(const struct config *cfg, const struct cli_opts *o, int argc,
	      char **argv);

#endif
