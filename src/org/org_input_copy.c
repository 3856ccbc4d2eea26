/*
 * org_input_copy.c - a deep copy of the raw records, filtered by the
 * caller; see org_input_filter in org_input.h.
 *
 * Why whole records: a copy built field by field with the constructors
 * silently loses a field added to org_input.h later (a patched snapshot
 * would then differ from GitHub's data in ways nobody asked for).  Here
 * each record is copied byte for byte first, so every scalar field,
 * present or future, comes along; then exactly the fields that own memory
 * are duplicated.  The unit test keeps a table of those fields and fails
 * when the layout of a record gains one it does not know.
 *
 * Lists are allocated with a power-of-two capacity, which is what
 * org_input.c's append_slot() expects of a list it appends to.
 */
#include "org/org_input.h"

#include <string.h>

#include "util/ga_xalloc.h"

static const struct org_input_filter keep_everything;

static char *
dup_or_null(const char *text)
{
	return text != NULL ? ga_strdup(text) : NULL;
}

/* Room for count elements, as append_slot() would have grown it. */
static void *
list_alloc(size_t count, size_t size)
{
	size_t capacity = 1;

	if (count == 0)
		return NULL;
	while (capacity < count)
		capacity *= 2;
	return ga_reallocarray(NULL, capacity, size);
}

static void
copy_members(const struct org_input *input, const struct org_input_filter *filter,
	     struct org_input *copy)
{
	copy->members = list_alloc(input->member_count, sizeof(*copy->members));
	copy->member_count = 0;
	for (size_t m = 0; m < input->member_count; m++) {
		const struct org_input_member *from = &input->members[m];
		struct org_input_member *to;

		if (filter->keep_member != NULL && !filter->keep_member(filter->context, from))
			continue;
		to = &copy->members[copy->member_count++];
		memcpy(to, from, sizeof(*to));
		to->login = dup_or_null(from->login);
	}
}

static void
copy_grant(struct org_input_grant *to, const struct org_input_grant *from, enum org_level level)
{
	memcpy(to, from, sizeof(*to));
	to->name = dup_or_null(from->name);
	to->level = level;
}

static void
copy_team_lists(const struct org_input_team *from, const struct org_input_filter *filter,
		struct org_input_team *to)
{
	to->member_logins = list_alloc(from->member_count, sizeof(*to->member_logins));
	to->member_count = 0;
	for (size_t m = 0; m < from->member_count; m++) {
		const char *login = from->member_logins[m];

		if (filter->keep_team_member == NULL ||
		    filter->keep_team_member(filter->context, from, login))
			to->member_logins[to->member_count++] = dup_or_null(login);
	}
	to->repositories = list_alloc(from->repository_count, sizeof(*to->repositories));
	to->repository_count = 0;
	for (size_t r = 0; r < from->repository_count; r++) {
		const struct org_input_grant *grant = &from->repositories[r];
		enum org_level level = filter->team_grant != NULL
				       ? filter->team_grant(filter->context, from, grant) : grant->level;

		if (filter->team_grant == NULL || level != ORG_LEVEL_NONE)
			copy_grant(&to->repositories[to->repository_count++], grant, level);
	}
}

static void
copy_teams(const struct org_input *input, const struct org_input_filter *filter,
	   struct org_input *copy)
{
	copy->teams = list_alloc(input->team_count, sizeof(*copy->teams));
	copy->team_count = 0;
	for (size_t t = 0; t < input->team_count; t++) {
		const struct org_input_team *from = &input->teams[t];
		struct org_input_team *to;

		if (filter->keep_team != NULL && !filter->keep_team(filter->context, from))
			continue;
		to = &copy->teams[copy->team_count++];
		memcpy(to, from, sizeof(*to));
		to->slug = dup_or_null(from->slug);
		to->name = dup_or_null(from->name);
		to->parent_slug = dup_or_null(from->parent_slug);
		copy_team_lists(from, filter, to);
		if (filter->edit_team != NULL)
			filter->edit_team(filter->context, to);
	}
}

static void
copy_collaborators(const struct org_input_repository *from,
		   const struct org_input_filter *filter, struct org_input_repository *to)
{
	to->collaborators = list_alloc(from->collaborator_count, sizeof(*to->collaborators));
	to->collaborator_count = 0;
	for (size_t c = 0; c < from->collaborator_count; c++) {
		const struct org_input_grant *grant = &from->collaborators[c];
		enum org_level level = filter->collaborator != NULL
				       ? filter->collaborator(filter->context, from, grant)
				       : grant->level;

		if (filter->collaborator == NULL || level != ORG_LEVEL_NONE)
			copy_grant(&to->collaborators[to->collaborator_count++], grant, level);
	}
}

static void
copy_repositories(const struct org_input *input, const struct org_input_filter *filter,
		  struct org_input *copy)
{
	copy->repositories = list_alloc(input->repository_count, sizeof(*copy->repositories));
	copy->repository_count = 0;
	for (size_t r = 0; r < input->repository_count; r++) {
		const struct org_input_repository *from = &input->repositories[r];
		struct org_input_repository *to;

		if (filter->keep_repository != NULL &&
		    !filter->keep_repository(filter->context, from))
			continue;
		to = &copy->repositories[copy->repository_count++];
		memcpy(to, from, sizeof(*to));
		to->name = dup_or_null(from->name);
		/* The text may hold NUL bytes: its length is what counts. */
		to->pyproject_text = from->pyproject_text != NULL
				     ? ga_strndup(from->pyproject_text, from->pyproject_length) : NULL;
		to->fork_parent = dup_or_null(from->fork_parent);
		copy_collaborators(from, filter, to);
		if (filter->edit_repository != NULL)
			filter->edit_repository(filter->context, to);
	}
}

struct org_input *
org_input_copy(const struct org_input *input, const struct org_input_filter *filter)
{
	struct org_input *copy = org_input_new();

	if (filter == NULL)
		filter = &keep_everything;
	memcpy(copy, input, sizeof(*copy));
	copy->organization = dup_or_null(input->organization);
	copy_members(input, filter, copy);
	copy_teams(input, filter, copy);
	copy_repositories(input, filter, copy);
	return copy;
}

void
org_input_team_set_parent(struct org_input_team *team, const char *parent_slug)
{
	ga_free(team->parent_slug);
	team->parent_slug = dup_or_null(parent_slug);
}

/* ---- replacing one record by another's data (targeted updates) --------- */

static void
free_grant_list(struct org_input_grant *grants, size_t count)
{
	for (size_t i = 0; i < count; i++)
		ga_free(grants[i].name);
	ga_free(grants);
}

void
org_input_team_replace_members(struct org_input_team *team, const struct org_input_team *from)
{
	for (size_t m = 0; m < team->member_count; m++)
		ga_free(team->member_logins[m]);
	ga_free(team->member_logins);
	team->member_logins = list_alloc(from->member_count, sizeof(*team->member_logins));
	for (size_t m = 0; m < from->member_count; m++)
		team->member_logins[m] = dup_or_null(from->member_logins[m]);
	team->member_count = from->member_count;
}

void
org_input_team_replace_repositories(struct org_input_team *team,
				    const struct org_input_team *from)
{
	free_grant_list(team->repositories, team->repository_count);
	team->repositories = list_alloc(from->repository_count, sizeof(*team->repositories));
	for (size_t r = 0; r < from->repository_count; r++)
		copy_grant(&team->repositories[r], &from->repositories[r],
			   from->repositories[r].level);
	team->repository_count = from->repository_count;
}

/* The fields that own memory are those of copy_repositories(): keep the two
 * in step when one is added to struct org_input_repository. */
void
org_input_repository_replace(struct org_input_repository *to,
			     const struct org_input_repository *from)
{
	ga_free(to->name);
	ga_free(to->pyproject_text);
	ga_free(to->fork_parent);
	free_grant_list(to->collaborators, to->collaborator_count);
	memcpy(to, from, sizeof(*to));
	to->name = dup_or_null(from->name);
	to->pyproject_text = from->pyproject_text != NULL
			     ? ga_strndup(from->pyproject_text, from->pyproject_length) : NULL;
	to->fork_parent = dup_or_null(from->fork_parent);
	copy_collaborators(from, &keep_everything, to);
}
