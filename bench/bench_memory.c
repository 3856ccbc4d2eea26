/*
 * bench_memory.c - where a snapshot's memory goes, by malloc counting.
 *
 *   build/bench/bench_memory SNAPSHOT_FILE
 *
 * It loads a snapshot file (`ghaccess sync --out`) the way `serve` does and
 * reads glibc's count of bytes in use (mallinfo2: uordblks + hblkhd, i.e.
 * heap and mmapped chunks with their headers) around each stage:
 *
 *   the file's text, the parse (org_input_from_json, with the peak of the
 *   jansson tree counted through json_set_alloc_funcs), the raw records
 *   kept (struct org_input), the snapshot's indexes (org_snapshot_build),
 *   each front end's per-snapshot derivation (service_derivation.build),
 *   and the serialisation that memcached publication and a SIGHUP rebuild
 *   make (org_input_to_json, again with its jansson peak).
 *
 * Then it walks the records and indexes with malloc_usable_size to split
 * the kept bytes by what they are for: per member, per team, per team
 * membership, per repository, per grant.  docs/internals/memory.md shows
 * the results and explains them.  The program is single-threaded, so every
 * count is exact for this process (no other thread allocates).
 */
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "http/http.h"
#include "service/service.h"
#include "org/org_input.h"
#include "org/org_snapshot.h"
#include "util/ga_file.h"
#include "util/ga_xalloc.h"

/* glibc's chunk header beside each allocation. */
#define CHUNK_OVERHEAD sizeof(size_t)

static size_t
in_use(void)
{
	struct mallinfo2 info = mallinfo2();

	return info.uordblks + info.hblkhd;
}

/* ---- jansson's live bytes and their peak ------------------------------ */

static size_t json_live, json_peak;

/* The usable size, not a header of ours: jansson's json_dumps result is
 * released with free() by its callers, which must keep working. */
static void *
counting_malloc(size_t size)
{
	void *block = malloc(size);

	if (block == NULL)
		return NULL;
	json_live += malloc_usable_size(block);
	if (json_live > json_peak)
		json_peak = json_live;
	return block;
}

static void
counting_free(void *block)
{
	if (block == NULL)
		return;
	json_live -= malloc_usable_size(block);
	free(block);
}

/* ---- the size of what a pointer holds -------------------------------- */

static size_t
chunk(const void *pointer)
{
	return pointer != NULL ? malloc_usable_size((void *)pointer) + CHUNK_OVERHEAD : 0;
}

struct account {
	const char *what;
	size_t bytes;
	size_t count;
	const char *unit;
};

static void
account_add(struct account *account, size_t bytes)
{
	account->bytes += bytes;
}

static void
print_account(const struct account *account)
{
	printf("| %s | %.2f MiB | %zu %s | %.0f |\n", account->what,
	       (double)account->bytes / 1048576.0, account->count, account->unit,
	       account->count ? (double)account->bytes / (double)account->count : 0.0);
}

/* The raw records of a sync, split by kind. */
static void
walk_input(const struct org_input *input)
{
	struct account members = { "members (records, logins)", 0, input->member_count,
				   "members" };
	struct account teams = { "teams (records, slug, name, parent)", 0, input->team_count,
				 "teams" };
	struct account memberships = { "team memberships (login copies)", 0, 0, "memberships" };
	struct account team_grants = { "team repository grants (name copies)", 0, 0, "grants" };
	struct account repositories = { "repositories (records, names)", 0,
					input->repository_count, "repositories" };
	struct account pyproject = { "pyproject.toml text", 0, 0, "files" };
	struct account collaborators = { "collaborator grants (login copies)", 0, 0, "grants" };

	account_add(&members, chunk(input->members));
	for (size_t i = 0; i < input->member_count; i++)
		account_add(&members, chunk(input->members[i].login));
	account_add(&teams, chunk(input->teams));
	for (size_t i = 0; i < input->team_count; i++) {
		const struct org_input_team *team = &input->teams[i];

		account_add(&teams, chunk(team->slug) + chunk(team->name) +
					    chunk(team->parent_slug));
		account_add(&memberships, chunk(team->member_logins));
		for (size_t m = 0; m < team->member_count; m++)
			account_add(&memberships, chunk(team->member_logins[m]));
		memberships.count += team->member_count;
		account_add(&team_grants, chunk(team->repositories));
		for (size_t g = 0; g < team->repository_count; g++)
			account_add(&team_grants, chunk(team->repositories[g].name));
		team_grants.count += team->repository_count;
	}
	account_add(&repositories, chunk(input->repositories));
	for (size_t i = 0; i < input->repository_count; i++) {
		const struct org_input_repository *repository = &input->repositories[i];

		account_add(&repositories, chunk(repository->name) + chunk(repository->fork_parent));
		if (repository->pyproject_text != NULL) {
			account_add(&pyproject, chunk(repository->pyproject_text));
			pyproject.count++;
		}
		account_add(&collaborators, chunk(repository->collaborators));
		for (size_t c = 0; c < repository->collaborator_count; c++)
			account_add(&collaborators, chunk(repository->collaborators[c].name));
		collaborators.count += repository->collaborator_count;
	}
	printf("\nRaw records (struct org_input), by kind:\n\n"
	       "| what | bytes | count | bytes each |\n|---|---:|---:|---:|\n");
	print_account(&members);
	print_account(&teams);
	print_account(&memberships);
	print_account(&team_grants);
	print_account(&repositories);
	print_account(&pyproject);
	print_account(&collaborators);
}

/* The snapshot's own arrays (closures, grants), through its public API;
 * the rest of total is its records (member, team, package) and hash maps. */
static void
walk_snapshot(const struct org_snapshot *snapshot, size_t total)
{
	size_t members = org_snapshot_member_count(snapshot);
	size_t teams = org_snapshot_team_count(snapshot);
	size_t packages = org_snapshot_package_count(snapshot);
	struct account groups = { "member -> groups (teams and ancestors)", 0, 0, "entries" };
	struct account closure = { "team -> members (with descendants')", 0, 0, "entries" };
	struct account immediate = { "team -> immediate members", 0, 0, "entries" };
	struct account package_grants = { "package grants (team and member)", 0, 0, "grants" };
	struct account keys = { "package keys", 0, packages, "packages" };

	for (size_t m = 0; m < members; m++) {
		size_t count;
		const void *items = org_snapshot_member_groups(snapshot, (long)m, &count);

		account_add(&groups, chunk(items));
		groups.count += count;
	}
	for (size_t t = 0; t < teams; t++) {
		size_t count;
		const void *items = org_snapshot_group_members(snapshot, (long)t, &count);

		account_add(&closure, chunk(items));
		closure.count += count;
		items = org_snapshot_team_immediate_members(snapshot, (long)t, &count);
		account_add(&immediate, chunk(items));
		immediate.count += count;
	}
	for (size_t p = 0; p < packages; p++) {
		size_t count;
		const void *items = org_snapshot_package_team_grants(snapshot, (long)p, &count);

		account_add(&package_grants, chunk(items));
		package_grants.count += count;
		items = org_snapshot_package_member_grants(snapshot, (long)p, &count);
		account_add(&package_grants, chunk(items));
		package_grants.count += count;
		account_add(&keys, chunk(org_snapshot_package_key(snapshot, (long)p)));
	}
	printf("\nSnapshot arrays (org_snapshot_build), by kind:\n\n"
	       "| what | bytes | count | bytes each |\n|---|---:|---:|---:|\n");
	print_account(&groups);
	print_account(&closure);
	print_account(&immediate);
	print_account(&package_grants);
	print_account(&keys);
	printf("| the rest: records of members, teams, packages; hash maps by name | %.2f MiB | "
	       "| |\n", (double)(total - groups.bytes - closure.bytes - immediate.bytes -
				  package_grants.bytes - keys.bytes) / 1048576.0);
}

/* VmRSS of this process, in bytes. */
static size_t
resident(void)
{
	FILE *status = fopen("/proc/self/status", "r");
	char line[256];
	size_t kib = 0;

	if (status == NULL)
		return 0;
	while (fgets(line, sizeof(line), status) != NULL)
		if (sscanf(line, "VmRSS: %zu kB", &kib) == 1)
			break;
	fclose(status);
	return kib * 1024;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- stages ---------------------------------------------------------- */

static void
stage(const char *what, size_t bytes, size_t per, const char *unit)
{
	printf("| %s | %.2f MiB | %.0f bytes per %s |\n", what, (double)bytes / 1048576.0,
	       per ? (double)bytes / (double)per : 0.0, unit);
}

int
main(int argc, char **argv)
{
	struct config *config = config_new_defaults();
	const struct service_derivation *derivations[16];
	size_t derivation_count = http_collect_derivations(derivations, 16);
	struct org_input *input = NULL;
	struct org_snapshot *snapshot = NULL;
	struct ga_buf text;
	struct ga_err err;
	size_t before, after_text, after_parse, before_build, after_build, repositories, base;
	size_t derived, kept, rss;
	double started;
	char *serialised;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_memory SNAPSHOT_FILE\n");
		return 2;
	}
	json_set_alloc_funcs(counting_malloc, counting_free);
	before = in_use();
	if (ga_file_read(argv[1], (size_t)1 << 30, &text, &err) != GA_OK) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	after_text = in_use();
	json_peak = json_live = 0;
	if (org_input_from_json(ga_buf_cstr(&text), text.len, &input, &err) != GA_OK) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	after_parse = in_use();
	repositories = input->repository_count;
	printf("organization: %zu repositories, %zu teams, %zu members\n\n", repositories,
	       input->team_count, input->member_count);
	printf("| stage | bytes | |\n|---|---:|---:|\n");
	stage("snapshot text (file, memcached value)", after_text - before, repositories,
	      "repository");
	stage("jansson tree while parsing it (peak)", json_peak, repositories, "repository");
	stage("raw records kept (struct org_input)", after_parse - after_text, repositories,
	      "repository");
	walk_input(input);
	ga_buf_free(&text);
	before_build = in_use();
	if (org_snapshot_build(input, config, &snapshot, &err) != GA_OK) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	after_build = in_use();
	printf("\n| stage | bytes | |\n|---|---:|---:|\n");
	stage("snapshot indexes (org_snapshot_build)", after_build - before_build, repositories,
	      "repository");
	derived = 0;
	for (size_t i = 0; i < derivation_count; i++) {
		size_t start = in_use();
		void *data = derivations[i]->build(snapshot, config);
		char label[96];

		derived += in_use() - start;
		snprintf(label, sizeof(label), "derivation \"%s\"", derivations[i]->name);
		stage(label, in_use() - start, org_snapshot_package_count(snapshot), "package");
		if (derivations[i]->destroy != NULL && data != NULL)
			derivations[i]->destroy(data);
	}
	kept = (after_parse - after_text) + (after_build - before_build) + derived;
	printf("| **kept while serving** (records, indexes, derivations) | **%.2f MiB** | "
	       "%.0f bytes per repository |\n", (double)kept / 1048576.0,
	       (double)kept / (double)repositories);
	json_peak = json_live = 0;
	base = in_use();
	serialised = org_input_to_json(org_snapshot_input(snapshot));
	stage("serialised text (memcached publication, sync --out)", in_use() - base, repositories,
	      "repository");
	stage("jansson tree while serialising (peak)", json_peak, repositories, "repository");
	ga_free(serialised);
	walk_snapshot(snapshot, after_build - before_build);
	org_snapshot_release(snapshot);
	/* What glibc keeps of it, and what malloc_trim gives back. */
	rss = resident();
	started = now_ms();
	ga_trim();
	printf("\nAfter the snapshot is freed: resident %.1f MiB; ga_trim() (malloc_trim) "
	       "takes %.1f ms and leaves %.1f MiB.\n", (double)rss / 1048576.0, now_ms() - started,
	       (double)resident() / 1048576.0);
	config_free(config);
	return 0;
}
