/*
 * service_webhook_revocations.c - the change log: what webhooks took away
 * and what targeted reads found, applied to the organization's raw records
 * until GitHub's own data (a full sync started later) has it; see
 * service_webhook.h.
 */
#include "service/service_webhook.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* One change: a removal, or (targeted.target.kind != NONE) a targeted
 * result whose data the entry owns. */
struct revocation {
	struct service_webhook_removal removal;
	struct service_targeted_result targeted;
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
	for (size_t i = 0; i < revocations->count; i++)
		org_input_free(revocations->entries[i].targeted.data);
	ga_free(revocations->entries);
	ga_free(revocations);
}

static void
drop_entry(struct service_webhook_revocations *revocations, size_t index)
{
	org_input_free(revocations->entries[index].targeted.data);
	memmove(&revocations->entries[index], &revocations->entries[index + 1],
		(revocations->count - index - 1) * sizeof(*revocations->entries));
	revocations->count--;
}

/* Under the lock: a zeroed slot at the end, the oldest dropped when full. */
static struct revocation *
append_entry(struct service_webhook_revocations *revocations, long long now_ms)
{
	struct revocation *entry;

	if (revocations->count == SERVICE_WEBHOOK_REVOCATIONS_MAX) {
		drop_entry(revocations, 0);
		ga_log(GA_LOG_WARN, "too many webhook changes waiting for a sync; the oldest "
		       "is dropped", (char *)NULL);
	}
	if (revocations->count == revocations->cap) {
		revocations->cap = revocations->cap ? revocations->cap * 2 : 16;
		revocations->entries = ga_reallocarray(revocations->entries, revocations->cap,
						       sizeof(*revocations->entries));
	}
	entry = &revocations->entries[revocations->count++];
	memset(entry, 0, sizeof(*entry));
	entry->removal.kind = SERVICE_WEBHOOK_REMOVE_NONE;
	entry->targeted.target.kind = SERVICE_TARGETED_NONE;
	entry->recorded_ms = now_ms;
	return entry;
}

void
service_webhook_revocations_add(struct service_webhook_revocations *revocations,
				const struct service_webhook_removal *removal, long long now_ms)
{
	if (removal->kind == SERVICE_WEBHOOK_REMOVE_NONE)
		return;
	pthread_mutex_lock(&revocations->lock);
	append_entry(revocations, now_ms)->removal = *removal;
	pthread_mutex_unlock(&revocations->lock);
}

static bool same(const char *a, const char *b);

static bool
same_target(const struct service_webhook_target *a, const struct service_webhook_target *b)
{
	return a->kind == b->kind && same(a->name, b->name);
}

void
service_webhook_revocations_add_targeted(struct service_webhook_revocations *revocations,
					 const struct service_targeted_result *result,
					 long long read_at_ms)
{
	struct revocation *entry;

	if (result->target.kind == SERVICE_TARGETED_NONE || result->data == NULL)
		return;
	pthread_mutex_lock(&revocations->lock);
	for (size_t i = 0; i < revocations->count; i++) {
		if (!same_target(&revocations->entries[i].targeted.target, &result->target))
			continue;
		if (revocations->entries[i].recorded_ms > read_at_ms) {
			/* A later read of the same thing is kept: this one is older news. */
			pthread_mutex_unlock(&revocations->lock);
			return;
		}
		drop_entry(revocations, i);
		break;	/* at most one per target */
	}
	entry = append_entry(revocations, read_at_ms);
	entry->targeted.target = result->target;
	entry->targeted.data = org_input_copy(result->data, NULL);
	/* Entries stay in time order: a read that started before the last
	 * change recorded goes before it. */
	for (size_t i = revocations->count - 1;
	     i > 0 && revocations->entries[i - 1].recorded_ms > read_at_ms; i--) {
		struct revocation swap = revocations->entries[i];

		revocations->entries[i] = revocations->entries[i - 1];
		revocations->entries[i - 1] = swap;
	}
	pthread_mutex_unlock(&revocations->lock);
}

size_t
service_webhook_revocations_expire(struct service_webhook_revocations *revocations,
				   long long read_at_ms)
{
	size_t kept = 0;

	pthread_mutex_lock(&revocations->lock);
	for (size_t i = 0; i < revocations->count; i++) {
		if (revocations->entries[i].recorded_ms > read_at_ms)
			revocations->entries[kept++] = revocations->entries[i];
		else
			org_input_free(revocations->entries[i].targeted.data);
	}
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

/*
 * What applies to data read at read_at_ms, copied out of the lock: the
 * removals, and the targeted reads (only what they read and when).  A
 * removal does what it does to each record (a member, a team's list, a
 * repository's collaborators) unless a targeted read of that record
 * started after it, or in its millisecond: GitHub's later data already says what the removal
 * took away, or that it came back.
 */
struct applicable_removal {
	struct service_webhook_removal removal;
	long long at_ms;
};

struct applicable_read {
	struct service_webhook_target target;
	long long at_ms;
};

struct applicable {
	struct applicable_removal *removals;
	size_t count;
	struct applicable_read *reads;
	size_t read_count;
};

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static void
collect_applicable(struct service_webhook_revocations *revocations, long long read_at_ms,
		   struct applicable *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < revocations->count; i++) {
		const struct revocation *entry = &revocations->entries[i];

		if (entry->recorded_ms <= read_at_ms)
			continue;
		if (entry->targeted.target.kind != SERVICE_TARGETED_NONE) {
			if (out->reads == NULL)
				out->reads = ga_reallocarray(NULL, revocations->count,
							     sizeof(*out->reads));
			out->reads[out->read_count].target = entry->targeted.target;
			out->reads[out->read_count++].at_ms = entry->recorded_ms;
		} else if (entry->removal.kind != SERVICE_WEBHOOK_REMOVE_NONE) {
			if (out->removals == NULL)
				out->removals = ga_reallocarray(NULL, revocations->count,
								sizeof(*out->removals));
			out->removals[out->count].removal = entry->removal;
			out->removals[out->count++].at_ms = entry->recorded_ms;
		}
	}
}

static void
applicable_free(struct applicable *applicable)
{
	ga_free(applicable->removals);
	ga_free(applicable->reads);
}

/* Under the lock: does a targeted result apply to data read at read_at_ms? */
static bool
targeted_applies(const struct service_webhook_revocations *revocations, long long read_at_ms)
{
	for (size_t i = 0; i < revocations->count; i++)
		if (revocations->entries[i].recorded_ms > read_at_ms &&
		    revocations->entries[i].targeted.target.kind != SERVICE_TARGETED_NONE)
			return true;
	return false;
}

/* The record a removal acts on: a member, a team's members or grants, a
 * repository; kind NONE for what no read supersedes (a team or repository
 * deleted: what comes later under its name is another one; a parent). */
struct record {
	enum service_targeted_kind kind;
	const char *name;
};

/* Removal i does its part to record: no read of it started after, or in
 * the same millisecond (the event behind the delivery happened before the
 * delivery was recorded, so a read starting then sees it, as a sync does:
 * service_webhook_revocations_expire). */
static bool
applies_to(const struct applicable *applicable, size_t i, struct record record)
{
	if (record.kind == SERVICE_TARGETED_NONE)
		return true;
	for (size_t r = 0; r < applicable->read_count; r++) {
		const struct applicable_read *read = &applicable->reads[r];

		if (read->target.kind == record.kind && same(read->target.name, record.name) &&
		    read->at_ms >= applicable->removals[i].at_ms)
			return false;
	}
	return true;
}

static const struct record NOT_SUPERSEDED = {SERVICE_TARGETED_NONE, NULL};

static bool
member_removed(const struct applicable *applicable, const char *login, struct record record)
{
	for (size_t i = 0; i < applicable->count; i++)
		if (applicable->removals[i].removal.kind == SERVICE_WEBHOOK_REMOVE_MEMBER &&
		    same(applicable->removals[i].removal.login, login) &&
		    applies_to(applicable, i, record))
			return true;
	return false;
}

static bool
matches(const struct applicable *applicable, enum service_webhook_removal_kind kind,
	const char *login, const char *team, const char *repository, struct record record)
{
	for (size_t i = 0; i < applicable->count; i++) {
		const struct service_webhook_removal *removal = &applicable->removals[i].removal;

		if (removal->kind != kind)
			continue;
		if ((login == NULL || same(removal->login, login)) &&
		    (team == NULL || same(removal->team, team)) &&
		    (repository == NULL || same(removal->repository, repository)) &&
		    applies_to(applicable, i, record))
			return true;
	}
	return false;
}

/* level, lowered by every LOWER removal of kind that names login or team
 * (whichever is not NULL) and repository, and still applies to record. */
static enum org_level
lowered(const struct applicable *applicable, enum service_webhook_removal_kind kind,
	const char *login, const char *team, const char *repository, enum org_level level,
	struct record record)
{
	for (size_t i = 0; i < applicable->count; i++) {
		const struct service_webhook_removal *removal = &applicable->removals[i].removal;

		if (removal->kind == kind && removal->level < level &&
		    (login == NULL || same(removal->login, login)) &&
		    (team == NULL || same(removal->team, team)) &&
		    same(removal->repository, repository) && applies_to(applicable, i, record))
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
		const struct service_webhook_removal *removal = &applicable->removals[i].removal;

		if (removal->kind == SERVICE_WEBHOOK_DETACH_TEAM && same(removal->team, team->slug) &&
		    strcasecmp(removal->parent, team->parent_slug) != 0)
			return NULL;
	}
	return team->parent_slug;
}

/* ---- the removals as an org_input_filter ------------------------------------ */

static struct record
record_of(enum service_targeted_kind kind, const char *name)
{
	struct record record = {kind, name};

	return record;
}

static bool
keep_member(void *context, const struct org_input_member *member)
{
	return !member_removed(context, member->login,
			       record_of(SERVICE_TARGETED_MEMBER, member->login));
}

static bool
keep_team(void *context, const struct org_input_team *team)
{
	return !matches(context, SERVICE_WEBHOOK_REMOVE_TEAM, NULL, team->slug, NULL,
			NOT_SUPERSEDED);
}

static bool
keep_team_member(void *context, const struct org_input_team *team, const char *login)
{
	struct record members = record_of(SERVICE_TARGETED_TEAM_MEMBERS, team->slug);

	return !member_removed(context, login, members) &&
	       !matches(context, SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER, login, team->slug, NULL,
			members);
}

static bool
keep_repository(void *context, const struct org_input_repository *repository)
{
	return !matches(context, SERVICE_WEBHOOK_REMOVE_REPOSITORY, NULL, NULL, repository->name,
			NOT_SUPERSEDED);
}

static enum org_level
team_grant(void *context, const struct org_input_team *team, const struct org_input_grant *grant)
{
	struct record grants = record_of(SERVICE_TARGETED_TEAM_REPOSITORIES, team->slug);

	if (matches(context, SERVICE_WEBHOOK_REMOVE_REPOSITORY, NULL, NULL, grant->name,
		    NOT_SUPERSEDED) ||
	    matches(context, SERVICE_WEBHOOK_REMOVE_TEAM_GRANT, NULL, team->slug, grant->name,
		    grants))
		return ORG_LEVEL_NONE;
	return lowered(context, SERVICE_WEBHOOK_LOWER_TEAM_GRANT, NULL, team->slug, grant->name,
		       grant->level, grants);
}

static enum org_level
collaborator(void *context, const struct org_input_repository *repository,
	     const struct org_input_grant *grant)
{
	struct record read = record_of(SERVICE_TARGETED_REPOSITORY, repository->name);

	if (member_removed(context, grant->name, read) ||
	    matches(context, SERVICE_WEBHOOK_REMOVE_COLLABORATOR, grant->name, NULL,
		    repository->name, read))
		return ORG_LEVEL_NONE;
	return lowered(context, SERVICE_WEBHOOK_LOWER_COLLABORATOR, grant->name, NULL,
		       repository->name, grant->level, read);
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
	if (matches(context, SERVICE_WEBHOOK_ARCHIVE, NULL, NULL, copy->name,
		    record_of(SERVICE_TARGETED_REPOSITORY, copy->name)))
		copy->archived = true;
}

/*
 * Under the lock: the targeted results that apply, oldest first, into
 * copy, and the removals that still apply after them.
 */
static void
apply_locked(struct service_webhook_revocations *revocations, long long read_at_ms,
	     struct org_input *copy, struct applicable *applicable)
{
	for (size_t i = 0; copy != NULL && i < revocations->count; i++) {
		const struct revocation *entry = &revocations->entries[i];

		if (entry->recorded_ms > read_at_ms &&
		    entry->targeted.target.kind != SERVICE_TARGETED_NONE)
			service_targeted_apply(copy, &entry->targeted);
	}
	collect_applicable(revocations, read_at_ms, applicable);
}

struct org_input *
service_webhook_revocations_apply(struct service_webhook_revocations *revocations,
				  const struct org_input *input)
{
	struct applicable applicable;
	struct org_input *targeted = NULL;
	struct org_input *copy;
	long long read_at_ms = org_input_read_at_ms(input);
	bool any_targeted;
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

	pthread_mutex_lock(&revocations->lock);
	any_targeted = targeted_applies(revocations, read_at_ms);
	pthread_mutex_unlock(&revocations->lock);
	/* The whole copy outside the lock: only the replacements inside. */
	if (any_targeted)
		targeted = org_input_copy(input, NULL);
	pthread_mutex_lock(&revocations->lock);
	apply_locked(revocations, read_at_ms, targeted, &applicable);
	pthread_mutex_unlock(&revocations->lock);
	if (applicable.count == 0) {
		applicable_free(&applicable);
		return targeted;
	}
	copy = org_input_copy(targeted != NULL ? targeted : input, &filter);
	org_input_free(targeted);
	applicable_free(&applicable);
	return copy;
}

const char *
service_targeted_kind_name(enum service_targeted_kind kind)
{
	switch (kind) {
	case SERVICE_TARGETED_TEAM_MEMBERS:
		return "team members";
	case SERVICE_TARGETED_TEAM_REPOSITORIES:
		return "team repositories";
	case SERVICE_TARGETED_REPOSITORY:
		return "repository";
	case SERVICE_TARGETED_MEMBER:
		return "member";
	case SERVICE_TARGETED_NONE:
	default:
		return "none";
	}
}
