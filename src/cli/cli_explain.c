/*
 * cli_explain.c - `ghaccess explain`: why may LOGIN read or write PACKAGE?
 *
 * Decides with the same engine as every front end, against a live sync or a
 * snapshot file, and prints the decision with its chain of reasons, e.g.
 * "read, write: via team platform (parent of platform-infra, of which carol
 * is a member), which has WRITE on core-lib".  For a reserved name it names
 * the repository that owns it; for a name nobody owns, which repository of
 * that name was skipped and why; and every newer repository that declares
 * the name too (a conflict).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "github/github.h"
#include "org/org_names.h"
#include "org/org_policy.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

static int run_explain(int argc, char **argv);

const struct cli_command cli_explain_command = {
	.name = "explain",
	.usage = "--config FILE [--snapshot FILE] LOGIN PACKAGE",
	.summary = "say whether LOGIN may read or write PACKAGE, and why",
	.run = run_explain,
};

static enum ga_rc
obtain_input(const struct config *config, const char *snapshot_path, struct org_input **input,
	     struct ga_err *err)
{
	struct gh_client *client;
	enum ga_rc rc;

	if (snapshot_path != NULL)
		return org_input_read_file(snapshot_path, input, err);
	client = gh_client_create(config, NULL);
	rc = gh_sync(client, input, NULL, err);
	gh_client_destroy(client);
	return rc;
}

/* For an unknown package: a skipped repository of that name is what the
 * operator looks for. */
static void
print_skipped_hint(const struct org_snapshot *snapshot, const char *package)
{
	const char *reason = org_snapshot_skip_reason_of(snapshot, package);

	if (reason != NULL)
		printf("note: the repository %s yields no package: %s\n", package, reason);
}

/* Newer repositories that declare the name too (or the repository of that
 * name, when it is one): ignored, and worth knowing, since someone may be
 * trying to take the name over. */
static void
print_conflicts(const struct org_snapshot *snapshot, const char *package)
{
	char key[ORG_PACKAGE_NAME_MAX];

	if (!org_normalize_package(package, strlen(package), key, sizeof(key)))
		key[0] = '\0';
	for (size_t i = 0; i < org_snapshot_conflict_count(snapshot); i++) {
		const char *repository = org_snapshot_conflict_repository(snapshot, i);
		const char *name = org_snapshot_conflict_key(snapshot, i);

		if (strcmp(name, key) == 0 || strcmp(repository, package) == 0)
			printf("conflict: the repository %s also declares %s, which belongs to "
			       "%s (older repository); %s is ignored\n", repository, name,
			       org_snapshot_conflict_owner(snapshot, i), repository);
	}
}

static int
run_explain(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"snapshot", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *snapshot_path = NULL;
	struct config *config = NULL;
	struct org_input *input = NULL;
	struct org_snapshot *snapshot = NULL;
	struct org_decision decision;
	struct ga_err err;
	char *text;
	int option;

	optind = 1;
	while ((option = getopt_long(argc, argv, "c:s:h", options, NULL)) != -1) {
		switch (option) {
		case 'c': config_path = optarg; break;
		case 's': snapshot_path = optarg; break;
		case 'h':
			printf("usage: ghaccess explain %s\n", cli_explain_command.usage);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(&cli_explain_command, NULL);
		}
	}
	if (config_path == NULL || argc - optind != 2)
		return cli_usage_error(&cli_explain_command, "need --config, LOGIN and PACKAGE");
	ga_err_clear(&err);
	if (config_load(config_path, &config, &err) != GA_OK) {
		fprintf(stderr, "ghaccess: %s\n", err.message);
		return CLI_EXIT_USAGE;
	}
	ga_log_setup(GA_LOG_WARN, GA_LOG_LOGFMT);
	if (obtain_input(config, snapshot_path, &input, &err) != GA_OK ||
	    org_snapshot_build(input, config, &snapshot, &err) != GA_OK) {
		fprintf(stderr, "ghaccess: %s\n", err.message);
		config_free(config);
		return CLI_EXIT_FAILURE;
	}
	decision = org_decide_by_name(snapshot, argv[optind], argv[optind + 1]);
	text = org_explain(snapshot, argv[optind], argv[optind + 1]);
	printf("%s may %s %s\n%s\n", argv[optind],
	       decision.write ? "read and write" : decision.read ? "read" : "not read",
	       argv[optind + 1], text);
	if (!org_snapshot_name_is_claimed(snapshot, argv[optind + 1]))
		print_skipped_hint(snapshot, argv[optind + 1]);
	print_conflicts(snapshot, argv[optind + 1]);
	ga_free(text);
	org_snapshot_release(snapshot);
	config_free(config);
	return decision.read ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
