/*
 * service_webhook_revocations.c - what webhooks took away, applied to the
 * organization's raw records until GitHub's own data has it; see
 * service_webhook.h.
 */
#include "service/service_webhook.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "util/ga_log.h"
#include "util/ga_xalloc.h"

struct revocation {
	struct service_webhook_removal removal;
	long long recorded_ms;
};

struct service_webhook_revocations {
	pthread_mutex_t lock;
	struct revocation *entries;	/* oldest first */
	size_t count;
	size_t cap;
};

struct service_webhook_revocations *
service_webhook_revocations_create(void)
{
	struct service_webhook_revocations *revocations = ga_calloc(1, sizeof(*revocations));

	pthread_mutex_init(&revocations->lock, NULL);
	return revocations;
}

void
service_webhook_revocations_destroy(struct service_webhook_revocations *revocations)
{
	if (revocations == NULL)
		return;
	pthread_mutex_destroy(&revocations->lock);
	ga_free(revocations->entries);
	ga_free(revocations);
}

static void
drop_entry(struct service_webhook_revocations *revocations, size_t index)
{
	memmove(&revocations->entries[index], &revocations->entries[index + 1],
		(revocations->count - index - 1) * sizeof(*revocations->entries));
	revocations->count--;
}

void
service_webhook_revocations_add(struct service_webhook_revocations *revocations,
				const struct service_webhook_removal *removal, long long now_ms)
{
	if (removal->kind == SERVICE_WEBHOOK_REMOVE_NONE)
		return;
	pthread_mutex_lock(&revocations->lock);
	if (revocations->count == SERVICE_WEBHOOK_REVOCATIONS_MAX) {
		drop_entry(revocations, 0);
		ga_log(GA_LOG_WARN, "too many webhook removals waiting for a sync; the oldest "
		       "is dropped", (char *)NULL);
	}
	if (revocations->count == revocations->cap) {
		revocations->cap = revocations->cap ? revocations->cap * 2 : 16;
		revocations->entries = ga_reallocarray(revocations->entries, revocations->cap,
						       sizeof(*revocations->entries));
	}
	revocations->entries[revocations->count].removal = *removal;
	revocations->entries[revocations->count].recorded_ms = now_ms;
	revocations->count++;
	pthread_mutex_unlock(&revocations->lock);
}

size_t
service_webhook_revocations_expire(struct service_webhook_revocations *revocations,
				   long long read_at_ms)
{
	size_t kept = 0;

	pthread_mutex_lock(&revocations->lock);
	for (size_t i = 0; i < revocations->count; i++)
		if (revocations->entries[i].recorded_ms >= read_at_ms)
			revocations->entries[kept++] = revocations->entries[i];
	revocations->count = kept;
	pthread_mutex_unlock(&revocations->lock);
	return kept;
}

size_t
service_webhook_revocations_count(struct service_webhook_revocations *revocations)
{
	size_t count;

	pthread_mutex_lock(&revocations->lock);
	count = revocations->count;
	pthread_mutex_unlock(&revocations->lock);
	return count;
}

/* The removals that apply to data read at read_at_ms (copied out of the lock). */
struct applicable {
	struct service_webhook_removal *removals;
	size_t count;
};

static void
collect_applicable(struct service_webhook_revocations *revocations, long long read_at_ms,
		   struct applicable *out)
{
	out->removals = NULL;
	out->count = 0;
	pthread_mutex_lock(&revocations->lock);
	for (size_t i = 0; i < revocations->count; i++) {
		if (revocations->entries[i].recorded_ms < read_at_ms)
			continue;
		if (out->removals == NULL)
			out->removals = ga_reallocarray(NULL, revocations->count,
							sizeof(*out->removals));
		out->removals[out->count++] = revocations->entries[i].removal;
	}
	pthread_mutex_unlock(&revocations->lock);
}

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static bool
member_removed(const struct applicable *applicable, const char *login)
{
	for (size_t i = 0; i < applicable->count; i++)
		if (applicable->removals[i].kind == SERVICE_WEBHOOK_REMOVE_MEMBER &&
		    same(applicable->removals[i].login, login))
			return true;
	return false;
}

static bool
matches(const struct applicable *applicable, enum service_webhook_removal_kind kind,
	const char *login, const char *team, const char *repository)
{
	for (size_t i = 0; i < applicable->count; i++) {
		const struct service_webhook_removal *removal = &applicable->removals[i];

		if (removal->kind != kind)
			continue;
		if ((login == NULL || same(removal->login, login)) &&
		    (team == NULL || same(removal->team, team)) &&
		    (repository == NULL || same(removal->repository, repository)))
			return true;
	}
	return false;
}

/* level, lowered by every LOWER removal of kind that names login or team
 * (whichever is not NULL) and repository. */
static enum org_level
lowered(const struct applicable *applicable, enum service_webhook_removal_kind kind,
	const char *login, const char *team, const char *repository, enum org_level level)
{
	for (size_t i = 0; i < applicable->count; i++) {
		const struct service_webhook_removal *removal = &applicable->removals[i];

		if (removal->kind == kind && removal->level < level &&
		    (login == NULL || same(removal->login, login)) &&
		    (team == NULL || same(removal->team, team)) && same(removal->repository, repository))
			level = removal->level;
	}
	return level;
}

/* The parent a team keeps: NULL when a DETACH_TEAM names another. */
static const char *
kept_parent(const struct applicable *applicable, const struct org_input_team *team)
{
	if (team->parent_slug == NULL)
		return NULL;
	for (size_t i = 0; i < applicable->count; i++) {
		const struct service_webhook_removal *removal = &applicable->removals[i];

		if (removal->kind == SERVICE_WEBHOOK_DETACH_TEAM && same(removal->team, team->slug) &&
		    strcasecmp(removal->parent, team->parent_slug) != 0)
			return NULL;
	}
	return team->parent_slug;
}

static void
copy_teams(const struct applicable *applicable, const struct org_input *input,
	   struct org_input *copy)
{
	for (size_t t = 0; t < input->team_count; t++) {
		const struct org_input_team *from = &input->teams[t];
		struct org_input_team *to;

		if (matches(applicable, SERVICE_WEBHOOK_REMOVE_TEAM, NULL, from->slug, NULL))
			continue;
		to = org_input_add_team(copy, from->id, from->slug, from->name,
					kept_parent(applicable, from));
		for (size_t m = 0; m < from->member_count; m++) {
			const char *login = from->member_logins[m];

			if (!member_removed(applicable, login) &&
			    !matches(applicable, SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER, login,
				     from->slug, NULL))
				org_input_team_add_member(to, login);
		}
		for (size_t r = 0; r < from->repository_count; r++) {
			const struct org_input_grant *grant = &from->repositories[r];
			enum org_level level = lowered(applicable, SERVICE_WEBHOOK_LOWER_TEAM_GRANT,
						       NULL, from->slug, grant->name, grant->level);

			if (level != ORG_LEVEL_NONE &&
			    !matches(applicable, SERVICE_WEBHOOK_REMOVE_REPOSITORY, NULL, NULL,
				     grant->name) &&
			    !matches(applicable, SERVICE_WEBHOOK_REMOVE_TEAM_GRANT, NULL, from->slug,
				     grant->name))
				org_input_team_add_repository(to, grant->name, level);
		}
	}
}

static void
copy_repositories(const struct applicable *applicable, const struct org_input *input,
		  struct org_input *copy)
{
	for (size_t r = 0; r < input->repository_count; r++) {
		const struct org_input_repository *from = &input->repositories[r];
		struct org_input_repository *to;

		if (matches(applicable, SERVICE_WEBHOOK_REMOVE_REPOSITORY, NULL, NULL, from->name))
			continue;
		to = org_input_add_repository(
			copy, from->id, from->name,
			from->archived || matches(applicable, SERVICE_WEBHOOK_ARCHIVE, NULL, NULL,
						  from->name),
			from->disabled);
		if (from->pyproject_state == ORG_PYPROJECT_TEXT && from->pyproject_text != NULL)
			org_input_repository_set_pyproject(to, from->pyproject_text,
							   from->pyproject_length);
		else
			to->pyproject_state = from->pyproject_state;
		to->collaborators_known = from->collaborators_known;
		org_input_repository_set_fork(to, from->is_fork, from->fork_parent);
		to->is_template = from->is_template;
		for (size_t c = 0; c < from->collaborator_count; c++) {
			const struct org_input_grant *grant = &from->collaborators[c];
			enum org_level level = lowered(applicable,
						       SERVICE_WEBHOOK_LOWER_COLLABORATOR,
						       grant->name, NULL, from->name, grant->level);

			if (level != ORG_LEVEL_NONE && !member_removed(applicable, grant->name) &&
			    !matches(applicable, SERVICE_WEBHOOK_REMOVE_COLLABORATOR, grant->name,
				     NULL, from->name))
				org_input_repository_add_collaborator(to, grant->name, level);
		}
	}
}

struct org_input *
service_webhook_revocations_apply(struct service_webhook_revocations *revocations,
				  const struct org_input *input)
{
	struct applicable applicable;
	struct org_input *copy;

	collect_applicable(revocations, org_input_read_at_ms(input), &applicable);
	if (applicable.count == 0)
		return NULL;
	copy = org_input_new();
	copy->organization = ga_strdup(input->organization != NULL ? input->organization : "");
	copy->base_permission_known = input->base_permission_known;
	copy->base_permission = input->base_permission;
	copy->synced_at = input->synced_at;
	copy->unnamed_repositories = input->unnamed_repositories;
	copy->organization_id = input->organization_id;
	copy->synced_at_ms = input->synced_at_ms;
	for (size_t m = 0; m < input->member_count; m++) {
		const struct org_input_member *member = &input->members[m];

		if (!member_removed(&applicable, member->login))
			org_input_add_member(copy, member->login, member->id, member->is_owner);
	}
	copy_teams(&applicable, input, copy);
	copy_repositories(&applicable, input, copy);
	ga_free(applicable.removals);
	return copy;
}

