/*
 * cli_sync.c - `ghaccess sync`: read the organization from GitHub once and
 * say what the index would make of it.
 *
 * The summary (text, or one JSON object with --json) shows the packages,
 * the reserved names (owners only), the conflicts (newer repositories
 * declaring a name an older one owns) and why other repositories are
 * skipped, so an operator can check a configuration before serving it;
 * --out keeps the raw records as a snapshot file that `serve --snapshot`
 * and `explain --snapshot` read.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "github/github.h"
#include "org/org_snapshot.h"
#include "util/ga_log.h"

static int run_sync(int argc, char **argv);

const struct cli_command cli_sync_command = {
	.name = "sync",
	.usage = "--config FILE [--json] [--out SNAPSHOT]",
	.summary = "read the organization from GitHub once and print what it yields",
	.run = run_sync,
};

struct sync_options {
	const char *config_path;
	const char *out_path;
	bool json;
};

/* What one sync produced, for either kind of summary. */
struct sync_result {
	const struct org_snapshot *snapshot;
	const struct gh_sync_stats *stats;
};

static int
print_help(void)
{
	printf("usage: ghaccess %s %s\n\n%s.\n\n"
	       "  -c, --config FILE     the ghaccess .ini file or pypicloud server.ini\n"
	       "  -j, --json            print the summary as one JSON object\n"
	       "  -o, --out SNAPSHOT    also write the organization to a snapshot file\n"
	       "                        (atomically), for serve/explain --snapshot\n"
	       "  -h, --help            show this help\n\n"
	       "Exit status: 0 synced, 1 the sync failed (GitHub unreachable, token\n"
	       "refused, rate limit), 2 bad usage or configuration.\n",
	       cli_sync_command.name, cli_sync_command.usage, cli_sync_command.summary);
	return CLI_EXIT_OK;
}

static int
option_error(int option, char **argv)
{
	char problem[160];

	if (option == ':')
		snprintf(problem, sizeof(problem), "%s needs a value", argv[optind - 1]);
	else if (optopt != 0)
		snprintf(problem, sizeof(problem), "unknown option -%c", optopt);
	else
		snprintf(problem, sizeof(problem), "unknown option %s", argv[optind - 1]);
	return cli_usage_error(&cli_sync_command, problem);
}

/* CLI_EXIT_OK to go on, -1 after --help, or a usage error. */
static int
parse_options(int argc, char **argv, struct sync_options *options)
{
	static const struct option long_options[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int option;

	memset(options, 0, sizeof(*options));
	/* 0 makes glibc start afresh, so that run() may be called more than once. */
	optind = 0;
	while ((option = getopt_long(argc, argv, ":c:jo:h", long_options, NULL)) != -1) {
		switch (option) {
		case 'c': options->config_path = optarg; break;
		case 'j': options->json = true; break;
		case 'o': options->out_path = optarg; break;
		case 'h': print_help(); return -1;
		default: return option_error(option, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cli_sync_command, "unexpected argument");
	if (options->config_path == NULL)
		return cli_usage_error(&cli_sync_command, "--config FILE is required");
	return CLI_EXIT_OK;
}

/* A line that rewrites itself on a terminal. */
static void
show_progress(void *context, const struct gh_sync_progress *progress)
{
	(void)context;
	fprintf(stderr, "\rsyncing %-12s %5u pages, %5lld points", progress->phase,
		progress->pages, progress->points);
	fflush(stderr);
}

static const char *
base_permission_source(const struct org_snapshot *snapshot, const struct config *config)
{
	if (org_snapshot_input(snapshot)->base_permission_known)
		return "from GitHub";
	if (config->base_permission != CONFIG_PERMISSION_UNSET)
		return "configured; hidden from the token, which lacks admin:org";
	return "hidden from the token, which lacks admin:org; assumed";
}

/* ---- forks and templates -------------------------------------------------- */

/* Forks and template repositories of the organization, packages or not:
 * a fork's declared name becomes an organization name (docs/access-model.md). */
static void
print_origins(const struct org_snapshot *snapshot)
{
	const struct org_input *input = org_snapshot_input(snapshot);
	size_t forks = 0;
	size_t templates = 0;

	for (size_t i = 0; i < input->repository_count; i++) {
		forks += input->repositories[i].is_fork;
		templates += input->repositories[i].is_template;
	}
	printf("forks:           %zu\n", forks);
	for (size_t i = 0; i < input->repository_count && forks > 0; i++)
		if (input->repositories[i].is_fork)
			printf("  %s (fork of %s)\n", input->repositories[i].name,
			       input->repositories[i].fork_parent != NULL
				       ? input->repositories[i].fork_parent
				       : "a repository GitHub does not show");
	printf("templates:       %zu\n", templates);
	for (size_t i = 0; i < input->repository_count && templates > 0; i++)
		if (input->repositories[i].is_template)
			printf("  %s\n", input->repositories[i].name);
}

static json_t *
json_origins(const struct org_snapshot *snapshot, bool templates)
{
	const struct org_input *input = org_snapshot_input(snapshot);
	json_t *out = templates ? json_array() : json_object();

	for (size_t i = 0; i < input->repository_count; i++) {
		const struct org_input_repository *repository = &input->repositories[i];

		if (templates && repository->is_template)
			json_array_append_new(out, json_string(repository->name));
		else if (!templates && repository->is_fork)
			json_object_set_new(out, repository->name,
					    repository->fork_parent != NULL
						    ? json_string(repository->fork_parent)
						    : json_null());
	}
	return out;
}

/* ---- text summary ------------------------------------------------------- */

static void
print_owners(const struct org_snapshot *snapshot)
{
	size_t count;
	const long *owners = org_snapshot_owners(snapshot, &count);

	printf("owners:          %zu", count);
	for (size_t i = 0; i < count; i++)
		printf("%s%s", i == 0 ? " (" : ", ", org_snapshot_member_login(snapshot, owners[i]));
	printf("%s\n", count > 0 ? ")" : "");
}

/* " (fork of psf/requests)", " (template)": where a package comes from. */
static void
print_origin(const struct org_snapshot *snapshot, long package)
{
	const char *parent = NULL;

	if (org_snapshot_package_is_fork(snapshot, package, &parent))
		printf(" (fork of %s)", parent != NULL ? parent : "another repository");
	if (org_snapshot_package_is_template(snapshot, package))
		printf(" (template)");
}

static void
print_packages(const struct org_snapshot *snapshot)
{
	size_t count = org_snapshot_package_count(snapshot);

	printf("packages:        %zu\n", count);
	for (size_t i = 0; i < count; i++) {
		printf("  %s <- %s%s", org_snapshot_package_key(snapshot, (long)i),
		       org_snapshot_package_repository(snapshot, (long)i),
		       org_snapshot_package_archived(snapshot, (long)i) ? " (archived: read-only)"
									: "");
		print_origin(snapshot, (long)i);
		putchar('\n');
	}
	count = org_snapshot_reserved_count(snapshot);
	printf("reserved:        %zu%s\n", count, count > 0 ? " (owners only)" : "");
	for (size_t i = 0; i < count; i++)
		printf("  %s <- %s (%s)\n", org_snapshot_reserved_key(snapshot, (long)i),
		       org_snapshot_reserved_repository(snapshot, (long)i),
		       org_snapshot_reserved_reason(snapshot, (long)i));
	count = org_snapshot_conflict_count(snapshot);
	printf("conflicts:       %zu\n", count);
	for (size_t i = 0; i < count; i++)
		printf("  %s declares %s, which belongs to %s (older repository)\n",
		       org_snapshot_conflict_repository(snapshot, i),
		       org_snapshot_conflict_key(snapshot, i),
		       org_snapshot_conflict_owner(snapshot, i));
	count = org_snapshot_skipped_count(snapshot);
	printf("skipped:         %zu\n", count);
	for (size_t i = 0; i < count; i++)
		printf("  %s: %s\n", org_snapshot_skipped_repository(snapshot, i),
		       org_snapshot_skipped_reason(snapshot, i));
}

static void
print_text(const struct sync_result *result, const struct config *config)
{
	const struct org_snapshot *snapshot = result->snapshot;
	const struct gh_sync_stats *stats = result->stats;

	printf("organization:    %s\n", org_snapshot_organization(snapshot));
	printf("base permission: %s (%s)\n",
	       org_level_name(org_snapshot_base_permission(snapshot)),
	       base_permission_source(snapshot, config));
	printf("members:         %zu\n", org_snapshot_member_count(snapshot));
	print_owners(snapshot);
	printf("teams:           %zu\n", org_snapshot_team_count(snapshot));
	printf("repositories:    %zu\n", stats->repositories);
	print_origins(snapshot);
	print_packages(snapshot);
	printf("GraphQL:         %u request%s, %lld points", stats->graphql_requests,
	       stats->graphql_requests == 1 ? "" : "s",
	       stats->graphql_points);
	if (stats->rate_limit_remaining >= 0)
		printf(" (%lld left this hour)", stats->rate_limit_remaining);
	printf("\nREST:            %u request%s\n", stats->rest_requests,
	       stats->rest_requests == 1 ? "" : "s");
	printf("duration:        %lld ms\n", stats->duration_ms);
	if (stats->direct_grants_inferred > 0)
		printf("direct grants:   %zu inferred (GitHub did not name them)\n",
		       stats->direct_grants_inferred);
	if (stats->nulls > 0)
		printf("GitHub nulls:    %zu (each cost only its item; see the warnings)\n",
		       stats->nulls);
	printf("warnings:        %zu\n", stats->warning_count + stats->warnings_omitted);
	for (size_t i = 0; i < stats->warning_count; i++)
		printf("  %s\n", stats->warnings[i]);
	if (stats->warnings_omitted > 0)
		printf("  ... and %zu more\n", stats->warnings_omitted);
}

/* ---- JSON summary ------------------------------------------------------- */

static json_t *
json_packages(const struct org_snapshot *snapshot)
{
	json_t *packages = json_object();

	for (size_t i = 0; i < org_snapshot_package_count(snapshot); i++)
		json_object_set_new(packages, org_snapshot_package_key(snapshot, (long)i),
				    json_string(org_snapshot_package_repository(snapshot, (long)i)));
	return packages;
}

static json_t *
json_skipped(const struct org_snapshot *snapshot)
{
	json_t *skipped = json_object();

	for (size_t i = 0; i < org_snapshot_skipped_count(snapshot); i++)
		json_object_set_new(skipped, org_snapshot_skipped_repository(snapshot, i),
				    json_string(org_snapshot_skipped_reason(snapshot, i)));
	return skipped;
}

/* {"name": "repository"}, like packages. */
static json_t *
json_reserved(const struct org_snapshot *snapshot)
{
	json_t *reserved = json_object();

	for (size_t i = 0; i < org_snapshot_reserved_count(snapshot); i++)
		json_object_set_new(reserved, org_snapshot_reserved_key(snapshot, (long)i),
				    json_string(org_snapshot_reserved_repository(snapshot, (long)i)));
	return reserved;
}

/* {"newer repository": {"name": ..., "owner": "older repository"}}. */
static json_t *
json_conflicts(const struct org_snapshot *snapshot)
{
	json_t *conflicts = json_object();

	for (size_t i = 0; i < org_snapshot_conflict_count(snapshot); i++)
		json_object_set_new(conflicts, org_snapshot_conflict_repository(snapshot, i),
				    json_pack("{s:s, s:s}",
					      "name", org_snapshot_conflict_key(snapshot, i),
					      "owner", org_snapshot_conflict_owner(snapshot, i)));
	return conflicts;
}

static json_t *
json_owner_logins(const struct org_snapshot *snapshot)
{
	size_t count;
	const long *owners = org_snapshot_owners(snapshot, &count);
	json_t *logins = json_array();

	for (size_t i = 0; i < count; i++)
		json_array_append_new(logins,
				      json_string(org_snapshot_member_login(snapshot, owners[i])));
	return logins;
}

static json_t *
json_warnings(const struct gh_sync_stats *stats)
{
	json_t *warnings = json_array();

	for (size_t i = 0; i < stats->warning_count; i++)
		json_array_append_new(warnings, json_string(stats->warnings[i]));
	return warnings;
}

static void
print_json(const struct sync_result *result)
{
	const struct org_snapshot *snapshot = result->snapshot;
	const struct gh_sync_stats *stats = result->stats;
	json_t *owners = json_owner_logins(snapshot);
	json_t *summary = json_object();

	json_object_set_new(summary, "organization",
			    json_string(org_snapshot_organization(snapshot)));
	json_object_set_new(summary, "base_permission",
			    json_string(org_level_name(org_snapshot_base_permission(snapshot))));
	json_object_set_new(summary, "base_permission_known",
			    json_boolean(org_snapshot_input(snapshot)->base_permission_known));
	json_object_set_new(summary, "members",
			    json_integer((json_int_t)org_snapshot_member_count(snapshot)));
	json_object_set_new(summary, "owners", json_integer((json_int_t)json_array_size(owners)));
	json_object_set_new(summary, "owner_logins", owners);
	json_object_set_new(summary, "teams",
			    json_integer((json_int_t)org_snapshot_team_count(snapshot)));
	json_object_set_new(summary, "repositories", json_integer((json_int_t)stats->repositories));
	json_object_set_new(summary, "packages", json_packages(snapshot));
	json_object_set_new(summary, "reserved", json_reserved(snapshot));
	json_object_set_new(summary, "conflicts", json_conflicts(snapshot));
	json_object_set_new(summary, "skipped", json_skipped(snapshot));
	json_object_set_new(summary, "forks", json_origins(snapshot, false));
	json_object_set_new(summary, "templates", json_origins(snapshot, true));
	json_object_set_new(summary, "graphql_requests", json_integer(stats->graphql_requests));
	json_object_set_new(summary, "graphql_points", json_integer(stats->graphql_points));
	json_object_set_new(summary, "rate_limit_remaining",
			    json_integer(stats->rate_limit_remaining));
	json_object_set_new(summary, "rest_requests", json_integer(stats->rest_requests));
	json_object_set_new(summary, "pages", json_integer(stats->pages));
	json_object_set_new(summary, "duration_ms", json_integer(stats->duration_ms));
	json_object_set_new(summary, "github_nulls", json_integer((json_int_t)stats->nulls));
	json_object_set_new(summary, "direct_grants_inferred",
			    json_integer((json_int_t)stats->direct_grants_inferred));
	json_object_set_new(summary, "warnings", json_warnings(stats));
	json_dumpf(summary, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(summary);
}

/* ---- the command -------------------------------------------------------- */

static int
sync_and_report(const struct config *config, const struct sync_options *options)
{
	struct gh_client_options client_options;
	struct gh_client *client;
	struct gh_sync_stats stats;
	struct org_input *input = NULL;
	struct org_snapshot *snapshot = NULL;
	struct sync_result result;
	struct ga_err err;
	enum ga_rc rc;
	bool progress = isatty(STDERR_FILENO);

	gh_client_options_default(&client_options);
	if (progress)
		client_options.progress = show_progress;
	client = gh_client_create(config, &client_options);
	ga_err_clear(&err);
	rc = gh_sync(client, &input, &stats, &err);
	gh_client_destroy(client);
	if (progress)
		fprintf(stderr, "\r%60s\r", "");
	if (rc != GA_OK) {
		fprintf(stderr, "ghaccess: sync of %s failed: %s\n", config->organization,
			err.message);
		gh_sync_stats_free(&stats);
		return CLI_EXIT_FAILURE;
	}
	/* Written before the snapshot build, which takes the input. */
	if (options->out_path != NULL &&
	    org_input_write_file(input, options->out_path, &err) != GA_OK) {
		fprintf(stderr, "ghaccess: %s\n", err.message);
		org_input_free(input);
		gh_sync_stats_free(&stats);
		return CLI_EXIT_FAILURE;
	}
	if (org_snapshot_build(input, config, &snapshot, &err) != GA_OK) {
		fprintf(stderr, "ghaccess: %s\n", err.message);
		gh_sync_stats_free(&stats);
		return CLI_EXIT_USAGE;
	}
	result = (struct sync_result){.snapshot = snapshot, .stats = &stats};
	if (options->json)
		print_json(&result);
	else
		print_text(&result, config);
	org_snapshot_release(snapshot);
	gh_sync_stats_free(&stats);
	return CLI_EXIT_OK;
}

static int
run_sync(int argc, char **argv)
{
	struct sync_options options;
	struct config *config = NULL;
	struct ga_err err;
	int status = parse_options(argc, argv, &options);

	if (status != CLI_EXIT_OK)
		return status < 0 ? CLI_EXIT_OK : status;
	ga_err_clear(&err);
	if (config_load(options.config_path, &config, &err) != GA_OK) {
		fprintf(stderr, "ghaccess: %s\n", err.message);
		return CLI_EXIT_USAGE;
	}
	/* The summary reports the sync's warnings itself; the log adds only
	 * errors, unless the configuration asks for debugging. */
	ga_log_setup(config->log_level == GA_LOG_DEBUG ? GA_LOG_DEBUG : GA_LOG_ERROR,
		     (enum ga_log_format)config->log_format);
	status = sync_and_report(config, &options);
	config_free(config);
	return status;
}
