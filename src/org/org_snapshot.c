/*
 * org_snapshot.c - building and reading the immutable snapshot; see
 * org_snapshot.h.  The rules applied here are docs/access-model.md §2 and §5;
 * the decision itself is in org_policy.c.
 */
#include "org/org_snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "org/org_names.h"
#include "org/org_package.h"
#include "org/org_snapshot_internal.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* A growable array of longs, used while building. */
struct index_list {
	long *items;
	size_t count;
	size_t capacity;
};

static void
index_list_add(struct index_list *list, long value)
{
	if (list->count == list->capacity) {
		list->capacity = list->capacity ? list->capacity * 2 : 4;
		list->items = ga_reallocarray(list->items, list->capacity, sizeof(long));
	}
	list->items[list->count++] = value;
}

static int
compare_long(const void *a, const void *b)
{
	long x = *(const long *)a;
	long y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Sort and remove duplicates; returns the new count. */
static size_t
sort_unique(long *items, size_t count)
{
	size_t kept = 0;

	if (count == 0)
		return 0;
	qsort(items, count, sizeof(long), compare_long);
	for (size_t i = 1; i < count; i++)
		if (items[i] != items[kept])
			items[++kept] = items[i];
	return kept + 1;
}

/* ---- members and teams ------------------------------------------------ */

static void
index_members(struct org_snapshot *snapshot)
{
	const struct org_input *input = snapshot->input;

	snapshot->members = ga_calloc(input->member_count, sizeof(*snapshot->members));
	for (size_t i = 0; i < input->member_count; i++) {
		const struct org_input_member *record = &input->members[i];
		struct snapshot_member *member = &snapshot->members[snapshot->member_count];

		if (!ga_map_insert(&snapshot->member_by_login, record->login,
				   snapshot->member_count)) {
			ga_log(GA_LOG_WARN, "duplicate member in GitHub data", "login",
			       record->login, NULL);
			continue;
		}
		member->login = record->login;
		member->id = record->id;
		member->is_owner = record->is_owner;
		snapshot->member_count++;
	}
}

/* A team whose parent chain comes back to itself is in a cycle. */
static bool
team_in_cycle(const struct snapshot_team *teams, size_t count, long team)
{
	long current = teams[team].parent;

	for (size_t steps = 0; current >= 0 && steps <= count; steps++) {
		if (current == team)
			return true;
		current = teams[current].parent;
	}
	return false;
}

static void
resolve_parents(struct org_snapshot *snapshot, const struct ga_map *team_by_slug)
{
	const struct org_input *input = snapshot->input;
	bool *in_cycle = ga_calloc(snapshot->team_count, sizeof(bool));

	for (size_t t = 0; t < snapshot->team_count; t++) {
		const char *parent_slug = input->teams[t].parent_slug;
		size_t parent;

		snapshot->teams[t].parent = -1;
		if (parent_slug != NULL && ga_map_find(team_by_slug, parent_slug, &parent))
			snapshot->teams[t].parent = (long)parent;
	}
	/* Detect first, then cut: cutting while detecting would hide the
	 * cycle from the teams examined later. */
	for (size_t t = 0; t < snapshot->team_count; t++)
		in_cycle[t] = team_in_cycle(snapshot->teams, snapshot->team_count, (long)t);
	for (size_t t = 0; t < snapshot->team_count; t++) {
		if (!in_cycle[t])
			continue;
		ga_log(GA_LOG_WARN, "team parent chain is a cycle; parent ignored", "team",
		       snapshot->teams[t].slug, NULL);
		snapshot->teams[t].parent = -1;
	}
	ga_free(in_cycle);
}

static void
index_teams(struct org_snapshot *snapshot, const struct config *config)
{
	const struct org_input *input = snapshot->input;
	struct ga_map team_by_slug;

	/* Teams are kept in input order so that indexes match input->teams. */
	ga_map_init(&team_by_slug);
	snapshot->teams = ga_calloc(input->team_count, sizeof(*snapshot->teams));
	snapshot->team_count = input->team_count;
	for (size_t t = 0; t < input->team_count; t++) {
		const struct org_input_team *record = &input->teams[t];
		struct snapshot_team *team = &snapshot->teams[t];

		team->slug = record->slug;
		team->key = config->group_name == CONFIG_GROUP_NAME ? record->name : record->slug;
		ga_map_insert(&team_by_slug, record->slug, t);
		if (!ga_map_insert(&snapshot->team_by_key, team->key, t))
			ga_log(GA_LOG_WARN, "two teams share a group name; the first keeps it",
			       "group", team->key, NULL);
	}
	resolve_parents(snapshot, &team_by_slug);
	ga_map_free(&team_by_slug);
}

/* Immediate members of each team, and each member's immediate teams. */
static void
index_team_members(struct org_snapshot *snapshot, struct index_list *member_teams)
{
	const struct org_input *input = snapshot->input;

	for (size_t t = 0; t < snapshot->team_count; t++) {
		const struct org_input_team *record = &input->teams[t];
		struct snapshot_team *team = &snapshot->teams[t];
		struct index_list immediate = {0};

		for (size_t m = 0; m < record->member_count; m++) {
			size_t member;

			/* A team member who is not an organization member (bad
			 * data, or a pending invitation) gains nothing. */
			if (!ga_map_find(&snapshot->member_by_login, record->member_logins[m],
					 &member))
				continue;
			index_list_add(&immediate, (long)member);
			index_list_add(&member_teams[member], (long)t);
		}
		team->immediate_count = sort_unique(immediate.items, immediate.count);
		team->immediate_members = immediate.items;
	}
}

/*
 * groups(U) = U's teams and all their ancestors; members(G) = members whose
 * groups contain G.  Building members from groups gives "immediate members
 * of G and of all its descendants" without walking down the tree.
 */
static void
compute_groups(struct org_snapshot *snapshot)
{
	struct index_list *member_teams = ga_calloc(snapshot->member_count + 1,
						    sizeof(*member_teams));
	struct index_list *team_members = ga_calloc(snapshot->team_count + 1,
						    sizeof(*team_members));

	index_team_members(snapshot, member_teams);
	for (size_t m = 0; m < snapshot->member_count; m++) {
		struct snapshot_member *member = &snapshot->members[m];
		struct index_list groups = {0};

		member->team_count = sort_unique(member_teams[m].items, member_teams[m].count);
		member->teams = member_teams[m].items;
		for (size_t i = 0; i < member->team_count; i++)
			for (long t = member->teams[i]; t >= 0; t = snapshot->teams[t].parent)
				index_list_add(&groups, t);
		member->group_count = sort_unique(groups.items, groups.count);
		member->groups = groups.items;
		for (size_t g = 0; g < member->group_count; g++)
			index_list_add(&team_members[member->groups[g]], (long)m);
	}
	for (size_t t = 0; t < snapshot->team_count; t++) {
		snapshot->teams[t].members = team_members[t].items;
		snapshot->teams[t].member_count = team_members[t].count;
	}
	ga_free(member_teams);
	ga_free(team_members);
}

static int
compare_owner_login(const void *a, const void *b, void *context)
{
	const struct snapshot_member *members = context;

	return strcmp(members[*(const long *)a].login, members[*(const long *)b].login);
}

static void
index_owners(struct org_snapshot *snapshot)
{
	snapshot->owners = ga_calloc(snapshot->member_count, sizeof(long));
	for (size_t m = 0; m < snapshot->member_count; m++)
		if (snapshot->members[m].is_owner)
			snapshot->owners[snapshot->owner_count++] = (long)m;
	snapshot->owners = ga_reallocarray(snapshot->owners, snapshot->owner_count, sizeof(long));
	qsort_r(snapshot->owners, snapshot->owner_count, sizeof(long), compare_owner_login,
		snapshot->members);
}

/* ---- repositories and packages ---------------------------------------- */

/* What the builder knows of one repository while deciding. */
struct candidate {
	const struct org_input_repository *repository;
	char *key;		/* normalised declared name, or NULL */
	const char *owned_key;	/* once it owns its name: the snapshot's copy */
	bool yields;		/* passes the filters and is not disabled */
	char reason[ORG_REASON_MAX];	/* why it yields no package */
};

static void
add_skip(struct org_snapshot *snapshot, const char *repository, const char *reason)
{
	struct snapshot_skip *skip = &snapshot->skipped[snapshot->skipped_count++];

	skip->repository = repository;
	skip->reason = ga_strdup(reason);
}

/* Oldest first (lower id); the name breaks a tie, so the order is total. */
static int
compare_candidate_id(const void *a, const void *b)
{
	const struct org_input_repository *x = ((const struct candidate *)a)->repository;
	const struct org_input_repository *y = ((const struct candidate *)b)->repository;

	if (x->id != y->id)
		return (x->id > y->id) - (x->id < y->id);
	return strcmp(x->name, y->name);
}

/*
 * The name a repository declares, read whatever the filters say: a
 * filtered or disabled repository still owns its names (access-model.md
 * §2), so every pyproject is parsed.  Then whether it may yield a package,
 * with the reason when it may not (a filter first, as `sync` shows it).
 */
static void
examine_repository(const struct org_filters *filters, struct candidate *candidate)
{
	const struct org_input_repository *repository = candidate->repository;
	char name_reason[ORG_REASON_MAX];
	char normalized[ORG_PACKAGE_NAME_MAX];
	char *name = NULL;
	bool named = org_pyproject_name(repository, &name, name_reason);

	if (named && org_normalize_package(name, strlen(name), normalized, sizeof(normalized))) {
		candidate->key = ga_strdup(normalized);
	} else if (named) {
		named = false;
		snprintf(name_reason, sizeof(name_reason), "invalid project name");
	}
	ga_free(name);
	candidate->yields = false;
	if (!org_filters_accept(filters, repository->name, candidate->reason)) {
		/* reason set by the filter */
	} else if (repository->disabled) {
		snprintf(candidate->reason, ORG_REASON_MAX, "repository is disabled");
	} else if (repository->is_fork && !filters->include_forks) {
		snprintf(candidate->reason, ORG_REASON_MAX, "fork of %.100s (include_forks = false)",
			 repository->fork_parent != NULL ? repository->fork_parent
							  : "another repository");
	} else if (!named) {
		memcpy(candidate->reason, name_reason, ORG_REASON_MAX);
	} else if (repository->id <= 0) {
		/* Its age cannot settle a conflict.  Sorted first (id <= 0), it
		 * owns its name and reserves it: no repository gets the name
		 * while GitHub does not say which one is older. */
		snprintf(candidate->reason, ORG_REASON_MAX,
			 "GitHub did not give the repository's id, which settles name conflicts");
	} else {
		candidate->yields = true;
	}
}

static void
add_package(struct org_snapshot *snapshot, struct candidate *candidate)
{
	struct snapshot_package *package = &snapshot->packages[snapshot->package_count];

	package->key = candidate->key;
	candidate->key = NULL;
	candidate->owned_key = package->key;
	package->repository = candidate->repository->name;
	package->archived = candidate->repository->archived;
	package->collaborators_known = candidate->repository->collaborators_known;
	package->is_fork = candidate->repository->is_fork;
	package->is_template = candidate->repository->is_template;
	package->fork_parent = candidate->repository->fork_parent;
	ga_map_insert(&snapshot->package_by_key, package->key, snapshot->package_count);
	ga_map_insert(&snapshot->package_by_repository, package->repository,
		      snapshot->package_count);
	snapshot->package_count++;
}

/* The owner of the name yields no package: the name is reserved. */
static void
add_reserved(struct org_snapshot *snapshot, struct candidate *candidate)
{
	struct snapshot_reserved *reserved = &snapshot->reserved[snapshot->reserved_count++];

	reserved->key = candidate->key;
	candidate->key = NULL;
	candidate->owned_key = reserved->key;
	reserved->repository = candidate->repository->name;
	reserved->reason = ga_strdup(candidate->reason);
	add_skip(snapshot, candidate->repository->name, candidate->reason);
}

/* candidate declares a name that the older owner already holds. */
static void
add_conflict(struct org_snapshot *snapshot, struct candidate *candidate,
	     const struct candidate *owner)
{
	struct snapshot_conflict *conflict = &snapshot->conflicts[snapshot->conflict_count++];
	char reason[2 * ORG_REASON_MAX];	/* room for the owner's reason */

	conflict->repository = candidate->repository->name;
	conflict->key = owner->owned_key;
	conflict->owner = owner->repository->name;
	/* A repository the filters keep out is reported for that first. */
	if (!candidate->yields)
		snprintf(reason, sizeof(reason), "%s", candidate->reason);
	else if (owner->yields)
		snprintf(reason, sizeof(reason),
			 "conflict: package %s already belongs to %s (older repository)",
			 owner->owned_key, owner->repository->name);
	else if (owner->repository->id <= 0)
		snprintf(reason, sizeof(reason),
			 "conflict: %s is reserved: %s declares it too, and GitHub did not say "
			 "which repository is older", owner->owned_key, owner->repository->name);
	else
		snprintf(reason, sizeof(reason),
			 "conflict: %s is reserved by %s (older repository, %s)",
			 owner->owned_key, owner->repository->name, owner->reason);
	add_skip(snapshot, candidate->repository->name, reason);
	ga_free(candidate->key);
	candidate->key = NULL;
}

/*
 * Every repository competes for the name it declares, whatever the filters
 * and its state: the oldest (lowest id) owns it.  Otherwise a member
 * allowed to create repositories could take over the package of an
 * excluded or disabled repository by declaring its name.  When the owner
 * yields no package the name is reserved (owners only, never a fallback).
 */
static void
select_packages(struct org_snapshot *snapshot, struct candidate *candidates, size_t count)
{
	struct ga_map owner_by_key;

	ga_map_init(&owner_by_key);
	qsort(candidates, count, sizeof(*candidates), compare_candidate_id);
	for (size_t i = 0; i < count; i++) {
		struct candidate *candidate = &candidates[i];
		size_t owner;

		if (candidate->key == NULL)
			add_skip(snapshot, candidate->repository->name, candidate->reason);
		else if (ga_map_find(&owner_by_key, candidate->key, &owner))
			add_conflict(snapshot, candidate, &candidates[owner]);
		else {
			/* The oldest declaring repository: it owns the name. */
			ga_map_insert(&owner_by_key, candidate->key, i);
			if (candidate->yields)
				add_package(snapshot, candidate);
			else
				add_reserved(snapshot, candidate);
		}
	}
	ga_map_free(&owner_by_key);
}

static int
compare_grant(const void *a, const void *b)
{
	long x = ((const struct org_package_grant *)a)->index;
	long y = ((const struct org_package_grant *)b)->index;

	return (x > y) - (x < y);
}

/* Sort by index and keep the highest level of duplicates. */
static size_t
sort_grants(struct org_package_grant *grants, size_t count)
{
	size_t kept = 0;

	if (count == 0)
		return 0;
	qsort(grants, count, sizeof(*grants), compare_grant);
	for (size_t i = 1; i < count; i++) {
		if (grants[i].index == grants[kept].index) {
			if (grants[i].level > grants[kept].level)
				grants[kept].level = grants[i].level;
		} else {
			grants[++kept] = grants[i];
		}
	}
	return kept + 1;
}

static void
add_grant(struct org_package_grant **grants, size_t *count, long index, enum org_level level)
{
	size_t n = *count;

	if ((n & (n - 1)) == 0)
		*grants = ga_reallocarray(*grants, n ? n * 2 : 1, sizeof(**grants));
	(*grants)[n].index = index;
	(*grants)[n].level = level;
	*count = n + 1;
}

static void
index_grants(struct org_snapshot *snapshot)
{
	const struct org_input *input = snapshot->input;
	struct ga_map package_by_repository;

	ga_map_init(&package_by_repository);
	for (size_t p = 0; p < snapshot->package_count; p++)
		ga_map_insert(&package_by_repository, snapshot->packages[p].repository, p);
	for (size_t t = 0; t < input->team_count; t++) {
		for (size_t g = 0; g < input->teams[t].repository_count; g++) {
			const struct org_input_grant *grant = &input->teams[t].repositories[g];
			size_t p;

			if (ga_map_find(&package_by_repository, grant->name, &p))
				add_grant(&snapshot->packages[p].team_grants,
					  &snapshot->packages[p].team_grant_count, (long)t,
					  grant->level);
		}
	}
	for (size_t r = 0; r < input->repository_count; r++) {
		const struct org_input_repository *repository = &input->repositories[r];
		size_t p;

		if (!ga_map_find(&package_by_repository, repository->name, &p) ||
		    snapshot->packages[p].repository != repository->name)
			continue;
		for (size_t c = 0; c < repository->collaborator_count; c++) {
			size_t member;

			/* Outside collaborators cannot log in: not listed. */
			if (ga_map_find(&snapshot->member_by_login,
					repository->collaborators[c].name, &member))
				add_grant(&snapshot->packages[p].member_grants,
					  &snapshot->packages[p].member_grant_count, (long)member,
					  repository->collaborators[c].level);
		}
	}
	for (size_t p = 0; p < snapshot->package_count; p++) {
		struct snapshot_package *package = &snapshot->packages[p];

		package->team_grant_count = sort_grants(package->team_grants,
							package->team_grant_count);
		package->member_grant_count = sort_grants(package->member_grants,
							  package->member_grant_count);
	}
	ga_map_free(&package_by_repository);
}

static int
compare_skip(const void *a, const void *b)
{
	return strcmp(((const struct snapshot_skip *)a)->repository,
		      ((const struct snapshot_skip *)b)->repository);
}

static int
compare_reserved(const void *a, const void *b)
{
	return strcmp(((const struct snapshot_reserved *)a)->key,
		      ((const struct snapshot_reserved *)b)->key);
}

static int
compare_conflict(const void *a, const void *b)
{
	return strcmp(((const struct snapshot_conflict *)a)->repository,
		      ((const struct snapshot_conflict *)b)->repository);
}

static void
index_repositories(struct org_snapshot *snapshot, const struct org_filters *filters)
{
	const struct org_input *input = snapshot->input;
	size_t count = input->repository_count;
	struct candidate *candidates = ga_calloc(count, sizeof(*candidates));

	snapshot->packages = ga_calloc(count, sizeof(*snapshot->packages));
	snapshot->skipped = ga_calloc(count, sizeof(*snapshot->skipped));
	snapshot->reserved = ga_calloc(count, sizeof(*snapshot->reserved));
	snapshot->conflicts = ga_calloc(count, sizeof(*snapshot->conflicts));
	for (size_t r = 0; r < count; r++) {
		candidates[r].repository = &input->repositories[r];
		examine_repository(filters, &candidates[r]);
	}
	select_packages(snapshot, candidates, count);
	/* Sized for every repository while selecting; keep what was used
	 * (keys and names are separate strings: nothing points into these). */
	snapshot->packages = ga_reallocarray(snapshot->packages, snapshot->package_count,
					     sizeof(*snapshot->packages));
	snapshot->skipped = ga_reallocarray(snapshot->skipped, snapshot->skipped_count,
					    sizeof(*snapshot->skipped));
	snapshot->reserved = ga_reallocarray(snapshot->reserved, snapshot->reserved_count,
					     sizeof(*snapshot->reserved));
	snapshot->conflicts = ga_reallocarray(snapshot->conflicts, snapshot->conflict_count,
					      sizeof(*snapshot->conflicts));
	for (size_t r = 0; r < count; r++)
		ga_free(candidates[r].key);
	ga_free(candidates);
	qsort(snapshot->skipped, snapshot->skipped_count, sizeof(*snapshot->skipped),
	      compare_skip);
	for (size_t s = 0; s < snapshot->skipped_count; s++)
		ga_map_insert(&snapshot->skip_by_repository, snapshot->skipped[s].repository, s);
	qsort(snapshot->reserved, snapshot->reserved_count, sizeof(*snapshot->reserved),
	      compare_reserved);
	for (size_t r = 0; r < snapshot->reserved_count; r++)
		ga_map_insert(&snapshot->reserved_by_key, snapshot->reserved[r].key, r);
	qsort(snapshot->conflicts, snapshot->conflict_count, sizeof(*snapshot->conflicts),
	      compare_conflict);
	index_grants(snapshot);
}

/* ---- build and free --------------------------------------------------- */

/* config cannot include org (layers point one way), so its permission enum
 * repeats org_level's numbers; these keep the two in step. */
_Static_assert((int)CONFIG_PERMISSION_NONE == (int)ORG_LEVEL_NONE, "config/org levels");
_Static_assert((int)CONFIG_PERMISSION_READ == (int)ORG_LEVEL_READ, "config/org levels");
_Static_assert((int)CONFIG_PERMISSION_WRITE == (int)ORG_LEVEL_WRITE, "config/org levels");
_Static_assert((int)CONFIG_PERMISSION_ADMIN == (int)ORG_LEVEL_ADMIN, "config/org levels");

static enum org_level
effective_base_permission(const struct org_input *input, const struct config *config)
{
	if (input->base_permission_known)
		return input->base_permission;
	if (config->base_permission >= 0)
		return (enum org_level)config->base_permission;
	return ORG_LEVEL_NONE;
}

static struct snapshot_records *
records_retain(struct snapshot_records *records)
{
	atomic_fetch_add(&records->references, 1);
	return records;
}

static void
records_release(struct snapshot_records *records)
{
	if (atomic_fetch_sub(&records->references, 1) == 1) {
		org_input_free(records->input);
		ga_free(records);
	}
}

/* Build over records, whose reference it takes (released on failure). */
static enum ga_rc
build(struct snapshot_records *records, const struct config *config, struct org_snapshot **out,
      struct ga_err *err)
{
	const struct org_input *input = records->input;
	struct org_filters filters;
	struct org_snapshot *snapshot;
	enum ga_rc rc = org_filters_init(&filters, config, err);

	*out = NULL;
	if (rc != GA_OK) {
		records_release(records);
		return rc;
	}
	snapshot = ga_calloc(1, sizeof(*snapshot));
	atomic_init(&snapshot->references, 1);
	snapshot->records = records;
	snapshot->input = records->input;
	snapshot->base_permission = effective_base_permission(records->input, config);
	ga_map_init(&snapshot->member_by_login);
	ga_map_init(&snapshot->team_by_key);
	ga_map_init(&snapshot->package_by_key);
	ga_map_init(&snapshot->skip_by_repository);
	ga_map_init(&snapshot->reserved_by_key);
	ga_map_init(&snapshot->repository_by_id);
	ga_map_init(&snapshot->package_by_repository);
	for (size_t r = 0; r < input->repository_count; r++)
		ga_map_insert_n(&snapshot->repository_by_id, (const char *)&input->repositories[r].id,
				sizeof(input->repositories[r].id), r);
	index_members(snapshot);
	index_teams(snapshot, config);
	compute_groups(snapshot);
	index_owners(snapshot);
	index_repositories(snapshot, &filters);
	org_filters_free(&filters);
	*out = snapshot;
	return GA_OK;
}

enum ga_rc
org_snapshot_build(struct org_input *input, const struct config *config,
		   struct org_snapshot **out, struct ga_err *err)
{
	struct snapshot_records *records = ga_malloc(sizeof(*records));

	atomic_init(&records->references, 1);
	records->input = input;
	return build(records, config, out, err);
}

enum ga_rc
org_snapshot_rebuild(const struct org_snapshot *snapshot, const struct config *config,
		     struct org_snapshot **out, struct ga_err *err)
{
	return build(records_retain(snapshot->records), config, out, err);
}

static void
snapshot_free(struct org_snapshot *snapshot)
{
	for (size_t m = 0; m < snapshot->member_count; m++) {
		ga_free(snapshot->members[m].groups);
		ga_free(snapshot->members[m].teams);
	}
	for (size_t t = 0; t < snapshot->team_count; t++) {
		ga_free(snapshot->teams[t].immediate_members);
		ga_free(snapshot->teams[t].members);
	}
	for (size_t p = 0; p < snapshot->package_count; p++) {
		ga_free(snapshot->packages[p].key);
		ga_free(snapshot->packages[p].team_grants);
		ga_free(snapshot->packages[p].member_grants);
	}
	for (size_t s = 0; s < snapshot->skipped_count; s++)
		ga_free(snapshot->skipped[s].reason);
	for (size_t r = 0; r < snapshot->reserved_count; r++) {
		ga_free(snapshot->reserved[r].key);
		ga_free(snapshot->reserved[r].reason);
	}
	ga_free(snapshot->members);
	ga_free(snapshot->teams);
	ga_free(snapshot->packages);
	ga_free(snapshot->skipped);
	ga_free(snapshot->owners);
	ga_free(snapshot->reserved);
	ga_free(snapshot->conflicts);
	ga_map_free(&snapshot->member_by_login);
	ga_map_free(&snapshot->team_by_key);
	ga_map_free(&snapshot->package_by_key);
	ga_map_free(&snapshot->skip_by_repository);
	ga_map_free(&snapshot->reserved_by_key);
	ga_map_free(&snapshot->repository_by_id);
	ga_map_free(&snapshot->package_by_repository);
	records_release(snapshot->records);
	ga_free(snapshot);
}

struct org_snapshot *
org_snapshot_retain(struct org_snapshot *snapshot)
{
	atomic_fetch_add(&snapshot->references, 1);
	return snapshot;
}

void
org_snapshot_release(struct org_snapshot *snapshot)
{
	if (snapshot != NULL && atomic_fetch_sub(&snapshot->references, 1) == 1)
		snapshot_free(snapshot);
}
