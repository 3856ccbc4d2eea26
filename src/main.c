/* main.c - the ghaccess binary: dispatch to a subcommand (src/cli/). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command *const commands[] = {
	&cli_serve_command,
	&cli_sync_command,
	&cli_explain_command,
	&cli_index_command,
	&cli_check_config_command,
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void
print_help(FILE *out)
{
	fprintf(out,
		"ghaccess %s - a private Python package index whose access rules are a GitHub "
		"organization\n\n"
		"usage: ghaccess COMMAND [OPTIONS]\n\n"
		"commands:\n", GHACCESS_VERSION);
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-13s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\n"
		"options:\n"
		"  -h, --help     show this help (ghaccess COMMAND --help for a command)\n"
		"  -V, --version  show the version\n\n"
		"See ghaccess(8) and ghaccess.ini(5).\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		print_help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_help(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("ghaccess %s\n", GHACCESS_VERSION);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(argv[1], commands[i]->name) == 0)
			return commands[i]->run(argc - 1, argv + 1);
	fprintf(stderr, "ghaccess: unknown command '%s'\n\n", argv[1]);
	print_help(stderr);
	return CLI_EXIT_USAGE;
}
