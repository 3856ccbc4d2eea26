/* oidc_scope.c - a workflow's repository and what it may read and write; see oidc_scope.h. */
#include "oidc/oidc_scope.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "org/org_names.h"

static const struct org_input_repository *
find_by_id(const struct org_snapshot *snapshot, long long id)
{
	long index = org_snapshot_find_repository_id(snapshot, id);

	return index >= 0 ? &org_snapshot_input(snapshot)->repositories[index] : NULL;
}

/* Names of GitHub repositories compare without case. */
static const struct org_input_repository *
find_by_name(const struct org_input *input, const char *name)
{
	for (size_t i = 0; i < input->repository_count; i++)
		if (strcasecmp(input->repositories[i].name, name) == 0)
			return &input->repositories[i];
	return NULL;
}

/* The package the repository yields (the snapshot borrows the record's name). */
static long
package_of(const struct org_snapshot *snapshot, const struct org_input_repository *record)
{
	long package = org_snapshot_package_of_repository(snapshot, record->name);

	return package >= 0 && org_snapshot_package_repository(snapshot, package) == record->name
		       ? package
		       : -1;
}

enum oidc_standing
oidc_repository_standing(const struct org_snapshot *snapshot, long long organization_id,
			 long long repository_id, const char *claimed_name,
			 struct oidc_repository *out, char *why, size_t why_size)
{
	const struct org_input *input = org_snapshot_input(snapshot);
	const struct org_input_repository *record;
	const char *skip;

	memset(out, 0, sizeof(*out));
	out->package = -1;
	if (input->organization_id <= 0) {
		snprintf(why, why_size, "ghaccess does not know the organization's id yet "
			 "(a snapshot from an older version): try again after the next sync");
		return OIDC_STANDING_NO_ORGANIZATION_ID;
	}
	if (organization_id != input->organization_id) {
		snprintf(why, why_size, "the workflow's repository belongs to another organization "
			 "(repository_owner_id %lld), not to %s (%lld)", organization_id,
			 input->organization, input->organization_id);
		return OIDC_STANDING_WRONG_ORGANIZATION;
	}
	record = find_by_id(snapshot, repository_id);
	if (record == NULL) {
		const struct org_input_repository *named =
			claimed_name != NULL ? find_by_name(input, claimed_name) : NULL;

		if (named != NULL) {
			snprintf(why, why_size, "repository_id %lld is not the id of %s/%s (%lld): "
				 "was the repository deleted and re-created, or renamed?",
				 repository_id, input->organization, named->name, named->id);
			return OIDC_STANDING_ID_MISMATCH;
		}
		snprintf(why, why_size, "no repository of %s has id %lld (a new repository "
			 "is known after the next sync)", input->organization, repository_id);
		return OIDC_STANDING_UNKNOWN_REPOSITORY;
	}
	out->record = record;
	if (record->disabled) {
		snprintf(why, why_size, "repository %s is disabled", record->name);
		return OIDC_STANDING_DISABLED;
	}
	if (record->archived) {
		snprintf(why, why_size, "repository %s is archived (read-only)", record->name);
		return OIDC_STANDING_ARCHIVED;
	}
	out->package = package_of(snapshot, record);
	if (out->package < 0) {
		skip = org_snapshot_skip_reason_of(snapshot, record->name);
		snprintf(why, why_size, "repository %s provides no package of the index (%s)",
			 record->name, skip != NULL ? skip : "no pyproject.toml name");
		return OIDC_STANDING_NO_PACKAGE;
	}
	out->package_key = org_snapshot_package_key(snapshot, out->package);
	return OIDC_STANDING_OK;
}

/* Someone GitHub lets run the repository's workflows who is not a member. */
static bool
has_outside_writer(const struct org_snapshot *snapshot,
		   const struct org_input_repository *record)
{
	if (!record->collaborators_known)
		return true;	/* unknown: assume the worst */
	for (size_t i = 0; i < record->collaborator_count; i++)
		if (record->collaborators[i].level >= ORG_LEVEL_WRITE &&
		    org_snapshot_find_member(snapshot, record->collaborators[i].name) < 0)
			return true;
	return false;
}

/* read_grants holds "<repository>:<key>" (repository without case, package normalised). */
static bool
granted(const struct config *config, const char *repository, const char *key)
{
	const struct config_list *grants = &config->tp_read_grants;
	size_t repository_len = strlen(repository);

	for (size_t i = 0; i < grants->count; i++) {
		const char *item = grants->items[i];
		const char *colon = strchr(item, ':');
		char normal[ORG_PACKAGE_NAME_MAX];

		if (colon == NULL || (size_t)(colon - item) != repository_len ||
		    strncasecmp(item, repository, repository_len) != 0)
			continue;
		if (org_normalize_package(colon + 1, strlen(colon + 1), normal, sizeof(normal)) &&
		    strcmp(normal, key) == 0)
			return true;
	}
	return false;
}

struct oidc_access
oidc_scope_access(const struct org_snapshot *snapshot, const struct config *config,
		  const struct oidc_repository *repository, const char *name, bool stored)
{
	struct oidc_access access = { 0 };
	char key[ORG_PACKAGE_NAME_MAX];
	size_t len = strlen(name);
	long package;

	if (repository->record == NULL || repository->package_key == NULL ||
	    !org_is_valid_project_name(name, len) ||
	    !org_normalize_package(name, len, key, sizeof(key)))
		return access;
	if (strcmp(key, repository->package_key) == 0) {
		access.read = true;
		access.write = true;
		return access;
	}
	package = org_snapshot_find_package(snapshot, key);
	if (package >= 0) {
		access.read = granted(config, repository->record->name, key) &&
			      !has_outside_writer(snapshot, repository->record);
		return access;
	}
	/* A name nobody in the organization claims, which the index does not
	 * hold, may be looked up on the public index like any member's. */
	access.fallback = !stored && !org_snapshot_name_is_claimed(snapshot, key);
	return access;
}
