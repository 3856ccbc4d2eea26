/* cli_check_config.c - `ghaccess check-config`: load a configuration and print what it means. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>

#include "config/config.h"

static int run_check_config(int argc, char **argv);

const struct cli_command cli_check_config_command = {
	.name = "check-config",
	.usage = "--config FILE",
	.summary = "validate a configuration file and print the effective settings",
	.run = run_check_config,
};

static int
print_help(void)
{
	printf("usage: ghaccess %s %s\n\n%s.\n\n"
	       "  -c, --config FILE   the ghaccess .ini file or pypicloud server.ini\n"
	       "  -h, --help          show this help\n\n"
	       "Prints the effective configuration (defaults included, secrets masked)\n"
	       "and exits 0, or prints the first problem and exits 2.  Says so when\n"
	       "the pypicloud protocol is off (no backend credentials).\n",
	       cli_check_config_command.name, cli_check_config_command.usage,
	       cli_check_config_command.summary);
	return CLI_EXIT_OK;
}

/* The problem getopt found with argv, for cli_usage_error. */
static int
option_error(int option, char **argv)
{
	char problem[160];

	if (option == ':')
		snprintf(problem, sizeof(problem), "%s needs a FILE", argv[optind - 1]);
	else if (optopt != 0)
		snprintf(problem, sizeof(problem), "unknown option -%c", optopt);
	else
		snprintf(problem, sizeof(problem), "unknown option %s", argv[optind - 1]);
	return cli_usage_error(&cli_check_config_command, problem);
}

static int
run_check_config(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct config *config;
	struct ga_err err;
	int option;

	/* 0 makes glibc start afresh, so that run() may be called more than once. */
	optind = 0;
	opterr = 0;
	while ((option = getopt_long(argc, argv, "+:c:h", options, NULL)) != -1) {
		switch (option) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			return print_help();
		default:
			return option_error(option, argv);
		}
	}
	if (optind < argc) {
		char problem[160];

		snprintf(problem, sizeof(problem), "unexpected argument %s", argv[optind]);
		return cli_usage_error(&cli_check_config_command, problem);
	}
	if (path == NULL)
		return cli_usage_error(&cli_check_config_command, "--config FILE is required");
	if (config_load(path, &config, &err) != GA_OK) {
		fprintf(stderr, "ghaccess: %s\n", err.message);
		return CLI_EXIT_USAGE;
	}
	config_print(config, stdout);
	if (!config_backend_credentials_set(config))
		printf("\n# %s\n", config_backend_hint(config));
	printf("# configuration OK\n");
	config_free(config);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
