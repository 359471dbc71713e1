/*
 * entrypoints/cli/cli.h - the `scents` command line (design.md section 8).
 *
 * Each subcommand builds a command message and sends it through the same
 * message bus as the HTTP API; none touches the store directly.
 * Exit codes: CLI_OK 0, CLI_RUNTIME 1 (the store, not found, out of
 * stock, conflicts), CLI_USAGE 2 (bad arguments); errors go to stderr as
 * one line "scents: <reason>".
 */
#ifndef SCENTS_ENTRYPOINTS_CLI_CLI_H
#define SCENTS_ENTRYPOINTS_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct config;

enum cli_exit {
	CLI_OK = 0,	 /* done */
	CLI_RUNTIME = 1, /* could not be done */
	CLI_USAGE = 2	 /* asked wrongly */
};

/* Options any subcommand may take; each accepts only its own. */
struct cli_opts {
	const char *threshold; /* --threshold PCT (sourcing import) */
	bool json;	       /* --json (sourcing report) */
	const char *name;      /* --name NAME (token create) */
	char *scopes[8];       /* --scope S,... (token create), repeatable */
	size_t n_scopes;       /* entries in scopes */
	const char *limit;     /* --limit N (products) */
	const char *after;     /* --after SKU (products) */
	bool repair;	       /* --repair (check) */
	bool backorder;	       /* --backorder (allocate) */
	const char *email;     /* --email ADDRESS (customer add) */
	const char *webhook;   /* --webhook URL (customer add) */
	const char *state;     /* --state S (deliveries) */
	const char *customer;  /* --customer ID (allocate) */
	/* issue 15: formulas, surveys, demand and plans */
	const char *weeks;     /* --weeks N (plan) */
	const char *history;   /* --history N (plan) */
	const char *min_batch; /* --min-batch N (plan) */
	const char *lead_days; /* --lead-days N (plan) */
	bool apply;	       /* --apply (plan) */
	const char *segment;   /* --segment S (survey report, customer add) */
	const char *version;   /* --version N (formula show, bom) */
	const char *ml;	       /* --ml N (formula bom) */
	const char *reason;    /* --reason TEXT (activate, revert, promote) */
	const char *from;      /* --from DATE (demand report) */
	const char *to;	       /* --to DATE (demand report) */
	const char *period;    /* --period day|week (demand report) */
	bool by_segment;       /* --by-segment (demand report) */
	const char *unit_ml;   /* --unit-ml N (formula add) */
	const char *density;   /* --density G (formula add) */
	const char *note;      /* --note TEXT (formula add) */
	bool csv;	       /* --csv (formula show, ingredients list) */
	const char *as_of;     /* --as-of DATE (plan) */
	/* issue 16: shows and the gateway simulator */
	const char *speed;	     /* --speed N (show) */
	const char *lock;	     /* --lock MODE (show) */
	const char *ltc;	     /* --ltc FILE|- (show) */
	const char *ltc_rate;	     /* --ltc-rate HZ (show) */
	const char *tolerance_ms;    /* --tolerance-ms N (show) */
	const char *lead_ms;	     /* --lead-ms N (show) */
	const char *retry_ms;	     /* --retry-ms N (show) */
	const char *log;	     /* --log FILE (show, gatewaysim) */
	const char *latency_ms;	     /* --latency-ms N (gatewaysim) */
	const char *jitter_ms;	     /* --jitter-ms N (gatewaysim) */
	const char *loss;	     /* --loss PCT (gatewaysim) */
	const char *levels;	     /* --levels FILE (gatewaysim) */
	const char *seed;	     /* --seed N (gatewaysim) */
	const char *clock_offset_ms; /* --clock-offset-ms N (gatewaysim) */
};

/*
 * A subcommand: @argv holds its @argc operands (options removed, in any
 * order they were given); @cfg is loaded and overridden.
 */
typedef int cli_command_fn(const struct config *cfg, const struct cli_opts *o,
			   int argc, char **argv);

struct cli_command {
	const char *name;    /* as typed */
	const char *args;    /* synopsis of its options and operands */
	const char *help;    /* one line, for `scents help` */
	const char *details; /* more, for `scents help NAME`; may be NULL */
	const char *accepts; /* its options, as getopt letters ("t:j") */
	int min_args;	     /* operands */
	int max_args;	     /* operands */
	bool reads_only;     /* never creates a database or a directory */
	cli_command_fn *run; /* does it */
};

/* The table, terminated by a zero entry; defined in commands.c. */
extern const struct cli_command cli_commands[];

/* The command called @name, or NULL. */
const struct cli_command *cli_find(const char *name);

/* Print @cmd's usage and details on @f. */
void cli_usage(FILE *f, const struct cli_command *cmd);

/* Print "scents: <fmt>" and a newline to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
