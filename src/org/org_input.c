/* org_input.c - building and freeing the raw organization records; see org_input.h. */
#include "org/org_input.h"

#include <strings.h>

#include "org/org_package.h"
#include "util/ga_xalloc.h"

struct org_input *
org_input_new(void)
{
	return ga_calloc(1, sizeof(struct org_input));
}

long long
org_input_read_at_ms(const struct org_input *input)
{
	return input->synced_at_ms > 0 ? input->synced_at_ms : input->synced_at * 1000;
}

static void
free_grants(struct org_input_grant *grants, size_t count)
{
	for (size_t i = 0; i < count; i++)
		ga_free(grants[i].name);
	ga_free(grants);
}

void
org_input_free(struct org_input *input)
{
	if (input == NULL)
		return;
	for (size_t i = 0; i < input->member_count; i++)
		ga_free(input->members[i].login);
	ga_free(input->members);
	for (size_t i = 0; i < input->team_count; i++) {
		struct org_input_team *team = &input->teams[i];

		ga_free(team->slug);
		ga_free(team->name);
		ga_free(team->parent_slug);
		for (size_t m = 0; m < team->member_count; m++)
			ga_free(team->member_logins[m]);
		ga_free(team->member_logins);
		free_grants(team->repositories, team->repository_count);
	}
	ga_free(input->teams);
	for (size_t i = 0; i < input->repository_count; i++) {
		struct org_input_repository *repository = &input->repositories[i];

		ga_free(repository->name);
		ga_free(repository->pyproject_text);
		ga_free(repository->fork_parent);
		free_grants(repository->collaborators, repository->collaborator_count);
	}
	ga_free(input->repositories);
	ga_free(input->organization);
	ga_free(input);
}

/* Grow an array by one element (doubling at powers of two) and zero it. */
static void *
append_slot(void *array, size_t *count, size_t size)
{
	size_t n = *count;
	char *grown = array;

	if ((n & (n - 1)) == 0)
		grown = ga_reallocarray(array, n ? n * 2 : 1, size);
	for (size_t i = 0; i < size; i++)
		grown[n * size + i] = 0;
	*count = n + 1;
	return grown;
}

struct org_input_member *
org_input_add_member(struct org_input *input, const char *login, long long id, bool is_owner)
{
	struct org_input_member *member;

	input->members = append_slot(input->members, &input->member_count,
				     sizeof(*input->members));
	member = &input->members[input->member_count - 1];
	member->login = ga_strdup(login);
	member->id = id;
	member->is_owner = is_owner;
	return member;
}

struct org_input_team *
org_input_add_team(struct org_input *input, long long id, const char *slug, const char *name,
		   const char *parent_slug)
{
	struct org_input_team *team;

	input->teams = append_slot(input->teams, &input->team_count, sizeof(*input->teams));
	team = &input->teams[input->team_count - 1];
	team->id = id;
	team->slug = ga_strdup(slug);
	team->name = ga_strdup(name ? name : slug);
	team->parent_slug = parent_slug ? ga_strdup(parent_slug) : NULL;
	return team;
}

void
org_input_team_add_member(struct org_input_team *team, const char *login)
{
	team->member_logins = append_slot(team->member_logins, &team->member_count,
					  sizeof(*team->member_logins));
	team->member_logins[team->member_count - 1] = ga_strdup(login);
}

void
org_input_team_add_repository(struct org_input_team *team, const char *repository,
			      enum org_level level)
{
	struct org_input_grant *grant;

	team->repositories = append_slot(team->repositories, &team->repository_count,
					 sizeof(*team->repositories));
	grant = &team->repositories[team->repository_count - 1];
	grant->name = ga_strdup(repository);
	grant->level = level;
}

struct org_input_repository *
org_input_add_repository(struct org_input *input, long long id, const char *name,
			 bool archived, bool disabled)
{
	struct org_input_repository *repository;

	input->repositories = append_slot(input->repositories, &input->repository_count,
					  sizeof(*input->repositories));
	repository = &input->repositories[input->repository_count - 1];
	repository->id = id;
	repository->name = ga_strdup(name);
	repository->archived = archived;
	repository->disabled = disabled;
	repository->collaborators_known = true;
	return repository;
}

void
org_input_repository_set_pyproject(struct org_input_repository *repository, const char *text,
				   size_t len)
{
	ga_free(repository->pyproject_text);
	repository->pyproject_text = org_pyproject_kept(text, len, &repository->pyproject_length,
							&repository->pyproject_state);
}

void
org_input_repository_set_fork(struct org_input_repository *repository, bool is_fork,
			      const char *parent)
{
	ga_free(repository->fork_parent);
	repository->is_fork = is_fork;
	repository->fork_parent = is_fork && parent != NULL ? ga_strdup(parent) : NULL;
}

void
org_input_repository_add_collaborator(struct org_input_repository *repository,
				      const char *login, enum org_level level)
{
	struct org_input_grant *grant;

	repository->collaborators = append_slot(repository->collaborators,
						&repository->collaborator_count,
						sizeof(*repository->collaborators));
	grant = &repository->collaborators[repository->collaborator_count - 1];
	grant->name = ga_strdup(login);
	grant->level = level;
}

static const struct {
	const char *name;
	enum org_level level;
} level_names[] = {
	{"none", ORG_LEVEL_NONE},
	{"read", ORG_LEVEL_READ},
	{"pull", ORG_LEVEL_READ},
	{"triage", ORG_LEVEL_TRIAGE},
	{"write", ORG_LEVEL_WRITE},
	{"push", ORG_LEVEL_WRITE},
	{"maintain", ORG_LEVEL_MAINTAIN},
	{"admin", ORG_LEVEL_ADMIN},
};

bool
org_level_parse(const char *text, enum org_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(text, level_names[i].name) == 0) {
			*level = level_names[i].level;
			return true;
		}
	}
	return false;
}

const char *
org_level_name(enum org_level level)
{
	switch (level) {
	case ORG_LEVEL_NONE:	 return "none";
	case ORG_LEVEL_READ:	 return "read";
	case ORG_LEVEL_TRIAGE:	 return "triage";
	case ORG_LEVEL_WRITE:	 return "write";
	case ORG_LEVEL_MAINTAIN: return "maintain";
	case ORG_LEVEL_ADMIN:	 return "admin";
	}
	return "none";
}
