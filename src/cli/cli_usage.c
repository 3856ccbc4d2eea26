/* cli_usage.c - the usage message shared by subcommands; see cli.h. */
#include "cli/cli.h"

#include <stdio.h>

int
cli_usage_error(const struct cli_command *command, const char *problem)
{
	if (problem != NULL)
		fprintf(stderr, "ghaccess %s: %s\n", command->name, problem);
	fprintf(stderr, "usage: ghaccess %s %s\n", command->name, command->usage);
	return CLI_EXIT_USAGE;
}
