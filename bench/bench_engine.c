/*
 * bench_engine.c - the access engine in-process: snapshot build time and
 * decisions per second on one core, for generated organizations.
 *
 *   build/bench/bench_engine [repos teams members [seconds]]
 *   build/bench/bench_engine --snapshot FILE [seconds]
 *
 * With --snapshot it decides on a snapshot file (`ghaccess sync --out`), e.g.
 * the stand-in's generated organizations of bench/scale.py, with members
 * and packages drawn uniformly from the snapshot's own.  Otherwise
 * the organization is synthetic (seeded, so every run decides the same
 * pairs): nested teams up to four deep, each with 3-30 members and 1-20
 * repository grants, direct collaborators on a tenth of the repositories,
 * base permission none so that team and collaborator paths are exercised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "org/org_policy.h"
#include "util/ga_xalloc.h"

static unsigned long long rng_state = 42;

static unsigned
next_random(unsigned bound)
{
	/* xorshift64*: fast and good enough to spread benchmark inputs. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 2685821657736338717ULL) >> 33) % bound;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct org_input *
generate(unsigned repos, unsigned teams, unsigned members)
{
	struct org_input *input = org_input_new();
	char name[64], text[96];

	input->organization = ga_strdup("benchorg");
	input->base_permission_known = true;
	input->base_permission = ORG_LEVEL_NONE;
	for (unsigned m = 0; m < members; m++) {
		snprintf(name, sizeof(name), "user-%u", m);
		org_input_add_member(input, name, m + 1, m % 50 == 0);
	}
	for (unsigned t = 0; t < teams; t++) {
		char parent[64];
		struct org_input_team *team;
		unsigned count = 3 + next_random(28);

		snprintf(name, sizeof(name), "team-%u", t);
		snprintf(parent, sizeof(parent), "team-%u", t / 4);
		team = org_input_add_team(input, 1000 + t, name, name,
					  t > 0 && t % 3 != 0 ? parent : NULL);
		for (unsigned i = 0; i < count; i++) {
			snprintf(name, sizeof(name), "user-%u", next_random(members));
			org_input_team_add_member(team, name);
		}
		count = 1 + next_random(20);
		for (unsigned i = 0; i < count; i++) {
			snprintf(name, sizeof(name), "repo-%u", next_random(repos));
			org_input_team_add_repository(team, name,
						      (enum org_level)(1 + next_random(5)));
		}
	}
	for (unsigned r = 0; r < repos; r++) {
		struct org_input_repository *repository;
		int len;

		snprintf(name, sizeof(name), "repo-%u", r);
		repository = org_input_add_repository(input, 100000 + r, name, r % 40 == 0, false);
		len = snprintf(text, sizeof(text), "[project]\nname = \"pkg-%u\"\n", r);
		org_input_repository_set_pyproject(repository, text, (size_t)len);
		if (r % 10 == 0) {
			snprintf(name, sizeof(name), "user-%u", next_random(members));
			org_input_repository_add_collaborator(repository, name, ORG_LEVEL_WRITE);
		}
	}
	return input;
}

/* The organization to decide on: a snapshot file, or a synthetic one. */
static struct org_input *
load(int argc, char **argv, double *seconds)
{
	struct org_input *input = NULL;
	struct ga_err err;

	if (argc > 2 && strcmp(argv[1], "--snapshot") == 0) {
		*seconds = argc > 3 ? strtod(argv[3], NULL) : 2.0;
		if (org_input_read_file(argv[2], &input, &err) != GA_OK) {
			fprintf(stderr, "%s\n", err.message);
			exit(1);
		}
		return input;
	}
	*seconds = argc > 4 ? strtod(argv[4], NULL) : 2.0;
	return generate(argc > 3 ? (unsigned)strtoul(argv[1], NULL, 10) : 10000,
			argc > 3 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000,
			argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 20000);
}

int
main(int argc, char **argv)
{
	double seconds;
	struct config *config = config_new_defaults();
	struct org_input *input = load(argc, argv, &seconds);
	size_t repos = input->repository_count, teams = input->team_count;
	struct org_snapshot *snapshot;
	struct ga_err err;
	unsigned long long decisions = 0, allowed = 0;
	unsigned members, packages;
	double start, elapsed;

	start = now_seconds();
	if (org_snapshot_build(input, config, &snapshot, &err) != GA_OK) {
		fprintf(stderr, "build failed: %s\n", err.message);
		return 1;
	}
	members = (unsigned)org_snapshot_member_count(snapshot);
	packages = (unsigned)org_snapshot_package_count(snapshot);
	printf("organization: %zu repositories, %zu teams, %u members, %u packages\n", repos,
	       teams, members, packages);
	printf("snapshot build: %.1f ms\n", (now_seconds() - start) * 1000.0);
	if (members == 0 || packages == 0) {
		fprintf(stderr, "nothing to decide on\n");
		return 1;
	}
	start = now_seconds();
	do {
		/* Batches between clock reads keep the clock out of the figure. */
		for (int i = 0; i < 100000; i++) {
			long member = (long)next_random(members);
			long package = (long)next_random(packages);
			struct org_decision decision = org_decide(snapshot, member, package);

			allowed += decision.read;
			decisions++;
		}
		elapsed = now_seconds() - start;
	} while (elapsed < seconds);
	printf("decisions: %llu in %.2f s = %.2f million/s on one core (%.1f%% allowed)\n",
	       decisions, elapsed, (double)decisions / elapsed / 1e6,
	       100.0 * (double)allowed / (double)decisions);
	org_snapshot_release(snapshot);
	config_free(config);
	return 0;
}
