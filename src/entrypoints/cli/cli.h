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

struct config;

enum cli_exit {
	CLI_OK = 0,	 /* done */
	CLI_RUNTIME = 1, /* could not be done */
	CLI_USAGE = 2	 /* asked wrongly */
};

/* A subcommand: @argv[0] is its name; @cfg is loaded and overridden. */
typedef int cli_command_fn(const struct config *cfg, int argc, char **argv);

struct cli_command {
	const char *name;    /* as typed */
	const char *args;    /* synopsis of its arguments */
	const char *help;    /* one line */
	int min_args;	     /* arguments after the name */
	int max_args;	     /* arguments after the name */
	cli_command_fn *run; /* does it */
};

/* The table, terminated by a zero entry; defined in commands.c. */
extern const struct cli_command cli_commands[];

/* Print "scents: <fmt>" and a newline to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
