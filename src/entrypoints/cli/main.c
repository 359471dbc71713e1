/*
 * entrypoints/cli/main.c - argument parsing and dispatch of `scents`.
 *
 * getopt_long twice: once for the global options before the command
 * (stopping at the command's name), once for the command's own options,
 * which may come before, between or after its operands (GNU argument
 * permutation; "--" ends options).  -h/--help anywhere prints usage on
 * stdout and exits 0; a usage error prints one line and exits 2.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "entrypoints/cli/cli.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	(void)fputs("scents: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

const struct cli_command *cli_find(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void cli_usage(FILE *f, const struct cli_command *cmd)
{
	(void)fprintf(f, "usage: scents %s%s%s\n\n%s\n", cmd->name,
		      cmd->args[0] ? " " : "", cmd->args, cmd->help);
	if (cmd->details)
		(void)fprintf(f, "\n%s\n", cmd->details);
}

/* Every command option; each command accepts the letters it lists. */
static const struct option command_options[] = {
	{"help", no_argument, NULL, 'h'},
	{"threshold", required_argument, NULL, 't'},
	{"json", no_argument, NULL, 'j'},
	{"name", required_argument, NULL, 'n'},
	{"scope", required_argument, NULL, 's'},
	{"limit", required_argument, NULL, 'l'},
	{"after", required_argument, NULL, 'a'},
	{"repair", no_argument, NULL, 'r'},
	{"backorder", no_argument, NULL, 'b'},
	{"email", required_argument, NULL, 'e'},
	{"webhook", required_argument, NULL, 'w'},
	{"state", required_argument, NULL, 'S'},
	{"customer", required_argument, NULL, 'c'},
	{"weeks", required_argument, NULL, 'W'},
	{"history", required_argument, NULL, 'H'},
	{"min-batch", required_argument, NULL, 'm'},
	{"lead-days", required_argument, NULL, 'L'},
	{"apply", no_argument, NULL, 'A'},
	{"segment", required_argument, NULL, 'g'},
	{"version", required_argument, NULL, 'V'},
	{"ml", required_argument, NULL, 'M'},
	{"reason", required_argument, NULL, 'R'},
	{"from", required_argument, NULL, 'f'},
	{"to", required_argument, NULL, 'T'},
	{"period", required_argument, NULL, 'P'},
	{"by-segment", no_argument, NULL, 'B'},
	{"unit-ml", required_argument, NULL, 'U'},
	{"density", required_argument, NULL, 'D'},
	{"note", required_argument, NULL, 'N'},
	{"csv", no_argument, NULL, 'C'},
	{"as-of", required_argument, NULL, 'O'},
	{"speed", required_argument, NULL, 'x'},
	{"lock", required_argument, NULL, 'k'},
	{"ltc", required_argument, NULL, 'i'},
	{"ltc-rate", required_argument, NULL, 'F'},
	{"tolerance-ms", required_argument, NULL, 'o'},
	{"lead-ms", required_argument, NULL, 'E'},
	{"retry-ms", required_argument, NULL, 'y'},
	{"log", required_argument, NULL, 'q'},
	{"latency-ms", required_argument, NULL, 'z'},
	{"jitter-ms", required_argument, NULL, 'J'},
	{"loss", required_argument, NULL, 'X'},
	{"levels", required_argument, NULL, 'v'},
	{"seed", required_argument, NULL, 'Y'},
	{"clock-offset-ms", required_argument, NULL, 'K'},
	{NULL, 0, NULL, 0},
};

/* The options of issue 15's and 16's commands (formula, survey, demand,
 * plan, show, gatewaysim). */
static void take_analytics_option(struct cli_opts *o, int opt, const char *arg)
{
	static const struct {
		int opt;    /* letter */
		size_t off; /* its const char * in struct cli_opts */
	} text[] = {
		{'W', offsetof(struct cli_opts, weeks)},
		{'H', offsetof(struct cli_opts, history)},
		{'m', offsetof(struct cli_opts, min_batch)},
		{'L', offsetof(struct cli_opts, lead_days)},
		{'g', offsetof(struct cli_opts, segment)},
		{'V', offsetof(struct cli_opts, version)},
		{'M', offsetof(struct cli_opts, ml)},
		{'R', offsetof(struct cli_opts, reason)},
		{'f', offsetof(struct cli_opts, from)},
		{'T', offsetof(struct cli_opts, to)},
		{'P', offsetof(struct cli_opts, period)},
		{'U', offsetof(struct cli_opts, unit_ml)},
		{'D', offsetof(struct cli_opts, density)},
		{'N', offsetof(struct cli_opts, note)},
		{'O', offsetof(struct cli_opts, as_of)},
		{'x', offsetof(struct cli_opts, speed)},
		{'k', offsetof(struct cli_opts, lock)},
		{'i', offsetof(struct cli_opts, ltc)},
		{'F', offsetof(struct cli_opts, ltc_rate)},
		{'o', offsetof(struct cli_opts, tolerance_ms)},
		{'E', offsetof(struct cli_opts, lead_ms)},
		{'y', offsetof(struct cli_opts, retry_ms)},
		{'q', offsetof(struct cli_opts, log)},
		{'z', offsetof(struct cli_opts, latency_ms)},
		{'J', offsetof(struct cli_opts, jitter_ms)},
		{'X', offsetof(struct cli_opts, loss)},
		{'v', offsetof(struct cli_opts, levels)},
		{'Y', offsetof(struct cli_opts, seed)},
		{'K', offsetof(struct cli_opts, clock_offset_ms)},
	};

	if (opt == 'A')
		o->apply = true;
	if (opt == 'B')
		o->by_segment = true;
	if (opt == 'C')
		o->csv = true;
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (text[i].opt == opt)
			*(const char **)((char *)o + text[i].off) = arg;
}

static void take_option(struct cli_opts *o, int opt, char *arg)
{
	switch (opt) {
	case 't':
		o->threshold = arg;
		break;
	case 'j':
		o->json = true;
		break;
	case 'n':
		o->name = arg;
		break;
	case 's':
		if (o->n_scopes < sizeof(o->scopes) / sizeof(o->scopes[0]))
			o->scopes[o->n_scopes++] = arg;
		break;
	case 'l':
		o->limit = arg;
		break;
	case 'a':
		o->after = arg;
		break;
	case 'r':
		o->repair = true;
		break;
	case 'b':
		o->backorder = true;
		break;
	case 'e':
		o->email = arg;
		break;
	case 'w':
		o->webhook = arg;
		break;
	case 'S':
		o->state = arg;
		break;
	case 'c':
		o->customer = arg;
		break;
	default:
		take_analytics_option(o, opt, arg);
		break;
	}
}

/* The long name of option letter @opt, for messages. */
static const char *long_name(int opt)
{
	for (const struct option *p = command_options; p->name; p++)
		if (p->val == opt)
			return p->name;
	return "?";
}

/*
 * Parse @cmd's options and run it.  @argv[0] is the command's name.
 * opterr is off: messages are ours, one line, naming the command.
 */
static int run_command(const struct cli_command *cmd, struct config *cfg,
		       int argc, char **argv)
{
	struct cli_opts o;
	char shortopts[32];
	int opt;

	memset(&o, 0, sizeof(o));
	(void)snprintf(shortopts, sizeof(shortopts), ":h%s", cmd->accepts);
	optind = 0; /* glibc: 0 re-initialises, dropping the "+" of main */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, command_options,
				  NULL)) != -1) {
		if (opt == 'h') {
			cli_usage(stdout, cmd);
			return CLI_OK;
		}
		if (opt == ':') {
			cli_error("%s: option '%s' needs a value", cmd->name,
				  argv[optind - 1]);
			return CLI_USAGE;
		}
		if (opt == '?' || !strchr(cmd->accepts, opt)) {
			cli_error("%s: unknown option '%s' (see 'scents help "
				  "%s')",
				  cmd->name,
				  opt == '?' ? argv[optind - 1]
					     : long_name(opt),
				  cmd->name);
			return CLI_USAGE;
		}
		take_option(&o, opt, optarg);
	}
	if (argc - optind < cmd->min_args || argc - optind > cmd->max_args) {
		cli_error("usage: scents %s %s", cmd->name, cmd->args);
		return CLI_USAGE;
	}
	cfg->open_existing = cmd->reads_only;
	return cmd->run(cfg, &o, argc - optind, argv + optind);
}

static const struct option global_options[] = {
	{"database", required_argument, NULL, 'd'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	const struct cli_command *cmd;
	struct config cfg;
	struct sc_err err;
	int opt;

	err_clear(&err);
	json_set_alloc_funcs(mem_alloc, mem_free); /* before any JSON */
	if (config_load(&cfg, &err)) {
		cli_error("%s", err.msg);
		return CLI_USAGE;
	}
	log_set_level((enum log_level)cfg.log_level);
	log_set_json(cfg.log_json != 0);
	opterr = 0;
	/* "+": stop at the command's name; its options are its own */
	while ((opt = getopt_long(argc, argv, "+:d:hV", global_options,
				  NULL)) != -1) {
		if (opt == 'd' && config_set_database_url(&cfg, optarg, &err)) {
			cli_error("%s", err.msg);
			return CLI_USAGE;
		} else if (opt == 'h') {
			return run_command(cli_find("help"), &cfg, 1, argv);
		} else if (opt == 'V') {
			printf("scents %s\n", SCENTS_VERSION);
			return CLI_OK;
		} else if (opt == ':' || opt == '?') {
			cli_error("%s '%s' (see 'scents help')",
				  opt == ':' ? "option needs a value"
					     : "unknown option",
				  argv[optind - 1]);
			return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("no command given (see 'scents help')");
		return CLI_USAGE;
	}
	cmd = cli_find(argv[optind]);
	if (!cmd) {
		cli_error("unknown command '%s' (see 'scents help')",
			  argv[optind]);
		return CLI_USAGE;
	}
	return run_command(cmd, &cfg, argc - optind, argv + optind);
}
