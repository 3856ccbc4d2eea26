/*
 * service_targeted_apply.c - what a targeted read found, replacing its
 * record in a copy of the organization's raw records; see service_webhook.h
 * (service_targeted_apply) and docs/internals/webhooks.md.
 */
#include "service/service_webhook.h"

#include <strings.h>

#include "util/ga_xalloc.h"

/* Logins, slugs and names compare without regard to case, as on GitHub. */
static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static struct org_input_team *
find_team(struct org_input *input, const char *slug)
{
	for (size_t i = 0; i < input->team_count; i++)
		if (same(input->teams[i].slug, slug))
			return &input->teams[i];
	return NULL;
}

/* The teams' grants follow a renamed repository, as on GitHub. */
static void
rename_team_grants(struct org_input *input, const char *from, const char *to)
{
	for (size_t t = 0; t < input->team_count; t++) {
		struct org_input_team *team = &input->teams[t];

		for (size_t g = 0; g < team->repository_count; g++) {
			if (!same(team->repositories[g].name, from))
				continue;
			ga_free(team->repositories[g].name);
			team->repositories[g].name = ga_strdup(to);
		}
	}
}

static void
replace_repository(struct org_input *input, const struct org_input_repository *read)
{
	struct org_input_repository *by_id = NULL;
	struct org_input_repository *by_name = NULL;

	for (size_t i = 0; i < input->repository_count; i++) {
		struct org_input_repository *repository = &input->repositories[i];

		if (read->id != 0 && repository->id == read->id)
			by_id = repository;
		else if (same(repository->name, read->name))
			by_name = repository;
	}
	if (by_id != NULL && by_name != NULL) {
		/* Another repository had the name: it has not any more, and
		 * what it held is unknown until the sync; it yields nothing. */
		by_name->disabled = true;
	}
	if (by_id != NULL && !same(by_id->name, read->name))
		rename_team_grants(input, by_id->name, read->name);
	if (by_id == NULL)
		by_id = by_name;
	if (by_id == NULL)
		by_id = org_input_add_repository(input, read->id, read->name, false, false);
	org_input_repository_replace(by_id, read);
}

/* An active member: the base permission and the owner role as GitHub
 * answered (team memberships come with their own events). */
static void
upsert_member(struct org_input *input, const struct org_input_member *read)
{
	for (size_t i = 0; i < input->member_count; i++) {
		if (!same(input->members[i].login, read->login))
			continue;
		input->members[i].id = read->id;
		input->members[i].is_owner = read->is_owner;
		return;
	}
	org_input_add_member(input, read->login, read->id, read->is_owner);
}

void
service_targeted_apply(struct org_input *input, const struct service_targeted_result *result)
{
	const struct org_input *data = result->data;
	struct org_input_team *team;

	switch (result->target.kind) {
	case SERVICE_TARGETED_TEAM_MEMBERS:
		team = find_team(input, result->target.name);
		if (team != NULL && data->team_count == 1)
			org_input_team_replace_members(team, &data->teams[0]);
		break;
	case SERVICE_TARGETED_TEAM_REPOSITORIES:
		team = find_team(input, result->target.name);
		if (team != NULL && data->team_count == 1)
			org_input_team_replace_repositories(team, &data->teams[0]);
		break;
	case SERVICE_TARGETED_REPOSITORY:
		if (data->repository_count == 1)
			replace_repository(input, &data->repositories[0]);
		break;
	case SERVICE_TARGETED_MEMBER:
		if (data->member_count == 1)
			upsert_member(input, &data->members[0]);
		break;
	case SERVICE_TARGETED_NONE:
	default:
		break;
	}
}
