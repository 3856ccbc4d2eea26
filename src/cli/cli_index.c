/*
 * cli_index.c - `ghaccess index yank|unyank|delete`: change the built-in
 * index's storage from the shell, safely while a server uses it.
 *
 * The storage is opened as a second user (never cleaned: the server's
 * uploads in progress live there) and every change takes the project
 * directory's lock, as the server's do (index_manage.h).  The server reads
 * records on every request, so a change is visible at once.
 *
 * Who runs this can already write the storage directory; the command is
 * the safe way to do what an operator would otherwise do by hand: it
 * records who did it ("local:<user>"), writes the audit line, and keeps a
 * deleted name from ever being uploaded again.  [index] allow_delete still
 * applies to `delete`: an index configured never to delete never does.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "index/index_manage.h"
#include "index/index_storage.h"
#include "org/org_names.h"
#include "util/ga_log.h"

static int run_index(int argc, char **argv);

const struct cli_command cli_index_command = {
	.name = "index",
	.usage = "yank|unyank|delete --config FILE [--reason TEXT] PACKAGE VERSION|FILENAME",
	.summary = "yank, un-yank or delete a release or file of the built-in index",
	.run = run_index,
};

static int
print_help(void)
{
	printf("usage: ghaccess %s %s\n\n%s.\n\n"
	       "  yank      mark the release (every file of VERSION) or FILENAME yanked\n"
	       "            (PEP 592: pip ignores it unless pinned with ==)\n"
	       "  unyank    undo a yank\n"
	       "  delete    remove the release or file for good; its filenames can never\n"
	       "            be uploaded again (needs [index] allow_delete = true)\n\n"
	       "  -c, --config FILE   the configuration of the server ([index] storage_dir)\n"
	       "  -r, --reason TEXT   why (shown by pip for a yank; recorded for a delete)\n"
	       "  -h, --help          show this help\n\n"
	       "Safe while the server runs.  Prints each file changed; exits 0, 1 when\n"
	       "there is no such release or file (or on a storage error), 2 on bad usage.\n",
	       cli_index_command.name, cli_index_command.usage, cli_index_command.summary);
	return CLI_EXIT_OK;
}

/* "local:<user>", the user who ran sudo when there is one. */
static void
local_actor(char *out, size_t size)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *entry = getpwuid(geteuid());

	if (geteuid() == 0 && sudo != NULL && sudo[0] != '\0')
		snprintf(out, size, "local:%s@sudo", sudo);
	else if (entry != NULL)
		snprintf(out, size, "local:%s", entry->pw_name);
	else
		snprintf(out, size, "local:uid-%u", (unsigned)geteuid());
}

static void
audit(const char *action, const char *actor, const char *project, const char *file, bool done,
      const char *reason)
{
	ga_log(GA_LOG_INFO, "audit", "action", action, "user", actor, "decision",
	       done ? "allow" : "deny", "reason", reason, "package", project, "file", file,
	       (char *)NULL);
}

/* Apply request to the storage of config; print and audit the outcome. */
static int
apply(const struct config *config, const struct index_manage_request *request)
{
	const char *verb = index_manage_action_name(request->action);
	struct index_manage_result result;
	struct index_storage *storage;
	struct ga_err err;
	enum ga_rc rc;

	if (index_storage_open(config->index_storage_dir, INDEX_STORAGE_SHARED, &storage, &err) !=
	    GA_OK) {
		fprintf(stderr, "ghaccess index: %s\n", err.message);
		return CLI_EXIT_FAILURE;
	}
	rc = index_manage_apply(storage, request, &result, &err);
	for (size_t i = 0; i < result.count; i++) {
		printf("%s %s\n", verb, result.files[i]);
		audit(verb, request->actor, request->project, result.files[i], true,
		      request->reason && request->reason[0] ? request->reason : "ok");
	}
	if (rc != GA_OK) {
		fprintf(stderr, "ghaccess index: %s\n", err.message);
		audit(verb, request->actor, request->project, request->target, false, err.message);
	}
	index_manage_result_free(&result);
	index_storage_close(storage);
	if (rc == GA_EINVAL)
		return CLI_EXIT_USAGE;
	return rc == GA_OK && fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

static int
run_index(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct index_manage_request request = { 0 };
	char project[ORG_PACKAGE_NAME_MAX];
	const char *path = NULL;
	char actor[128];
	struct config *config;
	struct ga_err err;
	int option, status;

	optind = 0;
	opterr = 0;
	/* The subcommand may come before or after the options: two passes,
	 * each stopping at the first argument that is not an option. */
	for (int pass = 0; pass < 2; pass++) {
		while ((option = getopt_long(argc, argv, "+:c:r:h", options, NULL)) != -1) {
			switch (option) {
			case 'c': path = optarg; break;
			case 'r': request.reason = optarg; break;
			case 'h': return print_help();
			default:
				return cli_usage_error(&cli_index_command,
						       "unknown option or missing value");
			}
		}
		if (pass > 0)
			break;
		if (optind >= argc || !index_manage_action_parse(argv[optind], &request.action))
			return cli_usage_error(&cli_index_command, "yank, unyank or delete?");
		optind++;
	}
	if (path == NULL || argc - optind != 2)
		return cli_usage_error(&cli_index_command, "need --config, PACKAGE and VERSION|FILENAME");
	if (request.action == INDEX_MANAGE_UNYANK && request.reason != NULL)
		return cli_usage_error(&cli_index_command, "unyank takes no --reason");
	if (!org_is_valid_project_name(argv[optind], strlen(argv[optind])) ||
	    !org_normalize_package(argv[optind], strlen(argv[optind]), project, sizeof(project)))
		return cli_usage_error(&cli_index_command, "not a valid package name");
	if (config_load(path, &config, &err) != GA_OK) {
		fprintf(stderr, "ghaccess: %s\n", err.message);
		return CLI_EXIT_USAGE;
	}
	/* The audit lines, in the server's format. */
	ga_log_setup(GA_LOG_INFO, (enum ga_log_format)config->log_format);
	if (config->index_storage_dir == NULL || config->index_storage_dir[0] == '\0') {
		fprintf(stderr, "ghaccess index: %s has no [index] storage_dir\n", path);
		config_free(config);
		return CLI_EXIT_USAGE;
	}
	if (request.action == INDEX_MANAGE_DELETE && !config->index_allow_delete) {
		fprintf(stderr, "ghaccess index: deleting is turned off ([index] allow_delete = "
			"false in %s); yank instead\n", path);
		config_free(config);
		return CLI_EXIT_FAILURE;
	}
	local_actor(actor, sizeof(actor));
	request.project = project;
	request.target = argv[optind + 1];
	request.actor = actor;
	status = apply(config, &request);
	config_free(config);
	return status;
}
