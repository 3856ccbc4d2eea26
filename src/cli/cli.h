/*
 * cli.h - subcommands of the ghaccess binary.
 *
 * Each subcommand lives in its own file (cli_<name>.c) and exports exactly
 * one const struct cli_command.  src/main.c collects them in a table, prints
 * --help from their summaries and dispatches on argv[1].
 *
 * Exit statuses shared by every subcommand: 0 success, 1 the operation
 * failed (GitHub unreachable, a denied decision for `explain`...), 2 bad
 * usage or bad configuration.
 */
#ifndef CLI_H
#define CLI_H

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1,
	CLI_EXIT_USAGE = 2,
};

struct cli_command {
	const char *name;	/* "check-config" */
	const char *usage;	/* "--config FILE" (after "ghaccess NAME ") */
	const char *summary;	/* one line for ghaccess --help */
	/* argv[0] is the subcommand name; returns an enum cli_exit value. */
	int (*run)(int argc, char **argv);
};

extern const struct cli_command cli_check_config_command;
extern const struct cli_command cli_sync_command;
extern const struct cli_command cli_serve_command;
extern const struct cli_command cli_explain_command;
extern const struct cli_command cli_index_command;

/*
 * Print "usage: ghaccess NAME USAGE" to standard error and return
 * CLI_EXIT_USAGE; for subcommands' argument errors.
 */
int cli_usage_error(const struct cli_command *command, const char *problem);

#endif
