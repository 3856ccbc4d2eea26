/* org_snapshot_lookup.c - read-only accessors of a snapshot; see org_snapshot.h. */
#include <string.h>

#include "org/org_names.h"
#include "org/org_snapshot.h"
#include "org/org_snapshot_internal.h"

const struct org_input *
org_snapshot_input(const struct org_snapshot *snapshot)
{
	return snapshot->input;
}

const char *
org_snapshot_organization(const struct org_snapshot *snapshot)
{
	return snapshot->input->organization ? snapshot->input->organization : "";
}

long long
org_snapshot_synced_at(const struct org_snapshot *snapshot)
{
	return snapshot->input->synced_at;
}

enum org_level
org_snapshot_base_permission(const struct org_snapshot *snapshot)
{
	return snapshot->base_permission;
}

size_t
org_snapshot_member_count(const struct org_snapshot *snapshot)
{
	return snapshot->member_count;
}

long
org_snapshot_find_member(const struct org_snapshot *snapshot, const char *login)
{
	size_t member;

	if (login == NULL || !ga_map_find(&snapshot->member_by_login, login, &member))
		return -1;
	return (long)member;
}

const char *
org_snapshot_member_login(const struct org_snapshot *snapshot, long member)
{
	return snapshot->members[member].login;
}

long long
org_snapshot_member_id(const struct org_snapshot *snapshot, long member)
{
	return snapshot->members[member].id;
}

bool
org_snapshot_member_is_owner(const struct org_snapshot *snapshot, long member)
{
	return member >= 0 && snapshot->members[member].is_owner;
}

const long *
org_snapshot_member_groups(const struct org_snapshot *snapshot, long member, size_t *count)
{
	*count = snapshot->members[member].group_count;
	return snapshot->members[member].groups;
}

const long *
org_snapshot_owners(const struct org_snapshot *snapshot, size_t *count)
{
	*count = snapshot->owner_count;
	return snapshot->owners;
}

size_t
org_snapshot_team_count(const struct org_snapshot *snapshot)
{
	return snapshot->team_count;
}

long
org_snapshot_find_group(const struct org_snapshot *snapshot, const char *key)
{
	size_t team;

	if (key == NULL || !ga_map_find(&snapshot->team_by_key, key, &team))
		return -1;
	return (long)team;
}

const char *
org_snapshot_group_key(const struct org_snapshot *snapshot, long team)
{
	return snapshot->teams[team].key;
}

const char *
org_snapshot_team_slug(const struct org_snapshot *snapshot, long team)
{
	return snapshot->teams[team].slug;
}

long
org_snapshot_team_parent(const struct org_snapshot *snapshot, long team)
{
	return snapshot->teams[team].parent;
}

const long *
org_snapshot_group_members(const struct org_snapshot *snapshot, long team, size_t *count)
{
	*count = snapshot->teams[team].member_count;
	return snapshot->teams[team].members;
}

const long *
org_snapshot_team_immediate_members(const struct org_snapshot *snapshot, long team,
				    size_t *count)
{
	*count = snapshot->teams[team].immediate_count;
	return snapshot->teams[team].immediate_members;
}

size_t
org_snapshot_package_count(const struct org_snapshot *snapshot)
{
	return snapshot->package_count;
}

/* The index of name (any spelling) in a map by PEP 503 key, or -1. */
static long
find_by_key(const struct ga_map *map, const char *name)
{
	char key[ORG_PACKAGE_NAME_MAX];
	size_t index;

	if (name == NULL || !org_normalize_package(name, strlen(name), key, sizeof(key)) ||
	    !ga_map_find(map, key, &index))
		return -1;
	return (long)index;
}

long
org_snapshot_find_package(const struct org_snapshot *snapshot, const char *name)
{
	return find_by_key(&snapshot->package_by_key, name);
}

const char *
org_snapshot_package_key(const struct org_snapshot *snapshot, long package)
{
	return snapshot->packages[package].key;
}

const char *
org_snapshot_package_repository(const struct org_snapshot *snapshot, long package)
{
	return snapshot->packages[package].repository;
}

bool
org_snapshot_package_archived(const struct org_snapshot *snapshot, long package)
{
	return snapshot->packages[package].archived;
}

const struct org_package_grant *
org_snapshot_package_team_grants(const struct org_snapshot *snapshot, long package,
				 size_t *count)
{
	*count = snapshot->packages[package].team_grant_count;
	return snapshot->packages[package].team_grants;
}

const struct org_package_grant *
org_snapshot_package_member_grants(const struct org_snapshot *snapshot, long package,
				   size_t *count)
{
	*count = snapshot->packages[package].member_grant_count;
	return snapshot->packages[package].member_grants;
}

bool
org_snapshot_package_is_fork(const struct org_snapshot *snapshot, long package,
			     const char **parent)
{
	if (parent != NULL)
		*parent = snapshot->packages[package].fork_parent;
	return snapshot->packages[package].is_fork;
}

bool
org_snapshot_package_is_template(const struct org_snapshot *snapshot, long package)
{
	return snapshot->packages[package].is_template;
}

bool
org_snapshot_package_collaborators_known(const struct org_snapshot *snapshot, long package)
{
	return snapshot->packages[package].collaborators_known;
}

size_t
org_snapshot_reserved_count(const struct org_snapshot *snapshot)
{
	return snapshot->reserved_count;
}

long
org_snapshot_find_reserved(const struct org_snapshot *snapshot, const char *name)
{
	return find_by_key(&snapshot->reserved_by_key, name);
}

const char *
org_snapshot_reserved_key(const struct org_snapshot *snapshot, long reserved)
{
	return snapshot->reserved[reserved].key;
}

const char *
org_snapshot_reserved_repository(const struct org_snapshot *snapshot, long reserved)
{
	return snapshot->reserved[reserved].repository;
}

const char *
org_snapshot_reserved_reason(const struct org_snapshot *snapshot, long reserved)
{
	return snapshot->reserved[reserved].reason;
}

size_t
org_snapshot_conflict_count(const struct org_snapshot *snapshot)
{
	return snapshot->conflict_count;
}

const char *
org_snapshot_conflict_repository(const struct org_snapshot *snapshot, size_t i)
{
	return snapshot->conflicts[i].repository;
}

const char *
org_snapshot_conflict_key(const struct org_snapshot *snapshot, size_t i)
{
	return snapshot->conflicts[i].key;
}

const char *
org_snapshot_conflict_owner(const struct org_snapshot *snapshot, size_t i)
{
	return snapshot->conflicts[i].owner;
}

bool
org_snapshot_name_is_claimed(const struct org_snapshot *snapshot, const char *name)
{
	char key[ORG_PACKAGE_NAME_MAX];

	/* A name too long to normalise cannot be refused as unclaimed safely:
	 * count it as claimed, so it is never sent to a fallback index. */
	if (name == NULL || !org_normalize_package(name, strlen(name), key, sizeof(key)))
		return true;
	/* Repositories GitHub answered null for may declare any name. */
	if (snapshot->input->unnamed_repositories > 0)
		return true;
	return ga_map_find(&snapshot->package_by_key, key, NULL) ||
	       ga_map_find(&snapshot->reserved_by_key, key, NULL);
}

size_t
org_snapshot_skipped_count(const struct org_snapshot *snapshot)
{
	return snapshot->skipped_count;
}

const char *
org_snapshot_skipped_repository(const struct org_snapshot *snapshot, size_t i)
{
	return snapshot->skipped[i].repository;
}

const char *
org_snapshot_skipped_reason(const struct org_snapshot *snapshot, size_t i)
{
	return snapshot->skipped[i].reason;
}

const char *
org_snapshot_skip_reason_of(const struct org_snapshot *snapshot, const char *repository)
{
	size_t skip;

	if (repository == NULL || !ga_map_find(&snapshot->skip_by_repository, repository, &skip))
		return NULL;
	return snapshot->skipped[skip].reason;
}

long
org_snapshot_find_repository_id(const struct org_snapshot *snapshot, long long id)
{
	size_t index;

	return ga_map_find_n(&snapshot->repository_by_id, (const char *)&id, sizeof(id), &index)
		       ? (long)index
		       : -1;
}

long
org_snapshot_package_of_repository(const struct org_snapshot *snapshot, const char *repository)
{
	size_t index;

	return ga_map_find(&snapshot->package_by_repository, repository, &index) ? (long)index : -1;
}
