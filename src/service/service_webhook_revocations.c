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
		if (revocations->entries[i].recorded_ms > read_at_ms)
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
		if (revocations->entries[i].recorded_ms <= read_at_ms)
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

/* ---- the removals as an org_input_filter ------------------------------------ */

static bool
keep_member(void *context, const struct org_input_member *member)
{
	return !member_removed(context, member->login);
}

static bool
keep_team(void *context, const struct org_input_team *team)
{
	return !matches(context, SERVICE_WEBHOOK_REMOVE_TEAM, NULL, team->slug, NULL);
}

static bool
keep_team_member(void *context, const struct org_input_team *team, const char *login)
{
	return !member_removed(context, login) &&
	       !matches(context, SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER, login, team->slug, NULL);
}

static bool
keep_repository(void *context, const struct org_input_repository *repository)
{
	return !matches(context, SERVICE_WEBHOOK_REMOVE_REPOSITORY, NULL, NULL, repository->name);
}

static enum org_level
team_grant(void *context, const struct org_input_team *team, const struct org_input_grant *grant)
{
	if (matches(context, SERVICE_WEBHOOK_REMOVE_REPOSITORY, NULL, NULL, grant->name) ||
	    matches(context, SERVICE_WEBHOOK_REMOVE_TEAM_GRANT, NULL, team->slug, grant->name))
		return ORG_LEVEL_NONE;
	return lowered(context, SERVICE_WEBHOOK_LOWER_TEAM_GRANT, NULL, team->slug, grant->name,
		       grant->level);
}

static enum org_level
collaborator(void *context, const struct org_input_repository *repository,
	     const struct org_input_grant *grant)
{
	if (member_removed(context, grant->name) ||
	    matches(context, SERVICE_WEBHOOK_REMOVE_COLLABORATOR, grant->name, NULL,
		    repository->name))
		return ORG_LEVEL_NONE;
	return lowered(context, SERVICE_WEBHOOK_LOWER_COLLABORATOR, grant->name, NULL,
		       repository->name, grant->level);
}

static void
edit_team(void *context, struct org_input_team *copy)
{
	if (kept_parent(context, copy) == NULL)
		org_input_team_set_parent(copy, NULL);
}

static void
edit_repository(void *context, struct org_input_repository *copy)
{
	if (matches(context, SERVICE_WEBHOOK_ARCHIVE, NULL, NULL, copy->name))
		copy->archived = true;
}

struct org_input *
service_webhook_revocations_apply(struct service_webhook_revocations *revocations,
				  const struct org_input *input)
{
	struct applicable applicable;
	struct org_input *copy;
	const struct org_input_filter filter = {
		.context = &applicable,
		.keep_member = keep_member,
		.keep_team = keep_team,
		.keep_team_member = keep_team_member,
		.keep_repository = keep_repository,
		.team_grant = team_grant,
		.collaborator = collaborator,
		.edit_team = edit_team,
		.edit_repository = edit_repository,
	};

	collect_applicable(revocations, org_input_read_at_ms(input), &applicable);
	if (applicable.count == 0)
		return NULL;
	copy = org_input_copy(input, &filter);
	ga_free(applicable.removals);
	return copy;
}
