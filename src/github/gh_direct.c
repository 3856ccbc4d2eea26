/*
 * gh_direct.c - direct grants GitHub did not name, inferred from the rest
 * of the organization; see gh_infer_direct_grants() in gh_internal.h.
 *
 * GitHub's collaborator edge carries the user's highest permission on the
 * repository after every source.  Taking it for the direct grant would let
 * a team grant outlive the team: once the team membership is removed (a
 * webhook applies that at once), the stored "direct" grant would still
 * hold the team's level.  When permissionSources cannot tell (a token
 * without admin:org, or a null), the organization data the same sync read
 * bounds it: whatever the owner role, the base permission and the teams
 * already give is not evidence of a direct grant above READ.
 */
#include "github/gh_internal.h"

#include <string.h>

#include "util/ga_xalloc.h"

/* A team's grant on a repository, listed per repository. */
struct repository_grants {
	size_t *teams;
	enum org_level *levels;
	size_t count;
};

struct inference {
	const struct org_input *input;
	struct ga_map team_by_slug;
	long *parent;			/* per team; -1 for none */
	struct ga_map member_by_login;
	struct repository_grants *grants;	/* per repository */
	/* member -> immediate teams, built once */
	size_t **member_teams;
	size_t *member_team_count;
};

static void
index_teams(struct inference *inf, const struct gh_collect *collect)
{
	const struct org_input *input = inf->input;

	inf->parent = ga_calloc(input->team_count + 1, sizeof(long));
	ga_map_init(&inf->team_by_slug);
	for (size_t t = 0; t < input->team_count; t++)
		ga_map_insert(&inf->team_by_slug, input->teams[t].slug, t);
	for (size_t t = 0; t < input->team_count; t++) {
		size_t parent;

		inf->parent[t] = -1;
		if (input->teams[t].parent_slug != NULL &&
		    ga_map_find(&inf->team_by_slug, input->teams[t].parent_slug, &parent))
			inf->parent[t] = (long)parent;
	}
	inf->grants = ga_calloc(input->repository_count + 1, sizeof(*inf->grants));
	for (size_t t = 0; t < input->team_count; t++) {
		for (size_t g = 0; g < input->teams[t].repository_count; g++) {
			const struct org_input_grant *grant = &input->teams[t].repositories[g];
			struct repository_grants *list;
			size_t r;

			if (!ga_map_find(&collect->repositories, grant->name, &r))
				continue;
			list = &inf->grants[r];
			list->teams = ga_reallocarray(list->teams, list->count + 1, sizeof(size_t));
			list->levels = ga_reallocarray(list->levels, list->count + 1,
						       sizeof(enum org_level));
			list->teams[list->count] = t;
			list->levels[list->count] = grant->level;
			list->count++;
		}
	}
}

static void
index_members(struct inference *inf)
{
	const struct org_input *input = inf->input;

	ga_map_init(&inf->member_by_login);
	for (size_t m = 0; m < input->member_count; m++)
		ga_map_insert(&inf->member_by_login, input->members[m].login, m);
	inf->member_teams = ga_calloc(input->member_count + 1, sizeof(size_t *));
	inf->member_team_count = ga_calloc(input->member_count + 1, sizeof(size_t));
	for (size_t t = 0; t < input->team_count; t++) {
		for (size_t i = 0; i < input->teams[t].member_count; i++) {
			size_t m;

			if (!ga_map_find(&inf->member_by_login, input->teams[t].member_logins[i], &m))
				continue;
			inf->member_teams[m] = ga_reallocarray(inf->member_teams[m],
							       inf->member_team_count[m] + 1,
							       sizeof(size_t));
			inf->member_teams[m][inf->member_team_count[m]++] = t;
		}
	}
}

/* Is team (or, through parents, one of its ancestors) granting_team? */
static bool
team_under(const struct inference *inf, size_t team, size_t granting_team)
{
	long current = (long)team;

	/* At most team_count steps: a cycle in bad data cannot loop. */
	for (size_t steps = 0; current >= 0 && steps <= inf->input->team_count; steps++) {
		if ((size_t)current == granting_team)
			return true;
		current = inf->parent[current];
	}
	return false;
}

/* The highest of what the owner role, the base permission and the teams
 * give member on repository: everything but a direct grant. */
static enum org_level
other_sources(const struct inference *inf, size_t member, size_t repository)
{
	const struct repository_grants *list = &inf->grants[repository];
	enum org_level level = inf->input->base_permission;

	if (inf->input->members[member].is_owner)
		return ORG_LEVEL_ADMIN;
	for (size_t g = 0; g < list->count; g++) {
		if (list->levels[g] <= level)
			continue;
		for (size_t i = 0; i < inf->member_team_count[member]; i++)
			if (team_under(inf, inf->member_teams[member][i], list->teams[g])) {
				level = list->levels[g];
				break;
			}
	}
	return level;
}

static void
inference_free(struct inference *inf)
{
	for (size_t r = 0; r < inf->input->repository_count; r++) {
		ga_free(inf->grants[r].teams);
		ga_free(inf->grants[r].levels);
	}
	for (size_t m = 0; m < inf->input->member_count; m++)
		ga_free(inf->member_teams[m]);
	ga_free(inf->member_teams);
	ga_free(inf->member_team_count);
	ga_free(inf->grants);
	ga_free(inf->parent);
	ga_map_free(&inf->team_by_slug);
	ga_map_free(&inf->member_by_login);
}

void
gh_infer_direct_grants(struct gh_collect *collect)
{
	struct inference inf = {.input = collect->input};

	if (collect->inferred_count == 0)
		return;
	index_teams(&inf, collect);
	index_members(&inf);
	for (size_t i = 0; i < collect->inferred_count; i++) {
		const struct gh_inferred *record = &collect->inferred[i];
		struct org_input_repository *repository =
			&collect->input->repositories[record->repository];
		struct org_input_grant *grant;
		size_t member;

		/* A list dropped later (FORBIDDEN on a follow-up page) is gone. */
		if (!repository->collaborators_known ||
		    record->collaborator >= repository->collaborator_count)
			continue;
		grant = &repository->collaborators[record->collaborator];
		/* Outside collaborators cannot log in: nothing to infer. */
		if (!ga_map_find(&inf.member_by_login, grant->name, &member))
			continue;
		if (grant->level <= other_sources(&inf, member, record->repository))
			grant->level = ORG_LEVEL_READ;
	}
	inference_free(&inf);
}
