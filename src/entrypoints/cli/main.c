/*
 * entrypoints/cli/main.c - argument parsing and dispatch of `scents`.
 */
#include <jansson.h>
#include <stdarg.h>
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

static const struct cli_command *find(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;
	struct config cfg;
	struct sc_err err;
	int i = 1;

	err_clear(&err);
	json_set_alloc_funcs(mem_alloc, mem_free); /* before any JSON */
	if (config_load(&cfg, &err)) {
		cli_error("%s", err.msg);
		return CLI_USAGE;
	}
	log_set_level((enum log_level)cfg.log_level);
	log_set_json(cfg.log_json != 0);
	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
		if ((!strcmp(argv[i], "--database") ||
		     !strcmp(argv[i], "-d")) &&
		    i + 1 < argc) {
			if (config_set_database_url(&cfg, argv[i + 1], &err)) {
				cli_error("%s", err.msg);
				return CLI_USAGE;
			}
			i += 2;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			return find("help")->run(&cfg, 1, argv + i);
		} else {
			cli_error("unknown option '%s' (see 'scents help')",
				  argv[i]);
			return CLI_USAGE;
		}
	}
	if (i >= argc) {
		cli_error("no command given (see 'scents help')");
		return CLI_USAGE;
	}
	cmd = find(argv[i]);
	if (!cmd) {
		cli_error("unknown command '%s' (see 'scents help')", argv[i]);
		return CLI_USAGE;
	}
	if (argc - i - 1 < cmd->min_args || argc - i - 1 > cmd->max_args) {
		cli_error("usage: scents %s %s", cmd->name, cmd->args);
		return CLI_USAGE;
	}
	return cmd->run(&cfg, argc - i, argv + i);
}
