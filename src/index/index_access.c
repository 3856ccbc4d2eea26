/* index_access.c - the built-in index's access rule; see index_access.h. */
#include "index/index_access.h"

#include <string.h>

#include "org/org_names.h"
#include "org/org_policy.h"

static struct index_access
owners_only(const struct org_snapshot *snapshot, long member, enum index_access_basis basis)
{
	struct index_access access = { .basis = basis };

	if (member >= 0 && org_snapshot_member_is_owner(snapshot, member)) {
		access.read = true;
		access.write = true;
	}
	return access;
}

struct index_access
index_access_decide(const struct org_snapshot *snapshot, long member, const char *name,
		    bool stored, enum config_unclaimed unclaimed)
{
	size_t len = strlen(name);
	struct index_access access;
	long package;

	if (!org_is_valid_project_name(name, len) || len >= ORG_PACKAGE_NAME_MAX)
		return owners_only(snapshot, member, INDEX_ACCESS_CLAIMED);
	package = org_snapshot_find_package(snapshot, name);
	if (package >= 0) {
		struct org_decision decision = org_decide(snapshot, member, package);

		access = (struct index_access){ .basis = INDEX_ACCESS_PACKAGE };
		access.read = decision.read;
		access.write = decision.write;
		return access;
	}
	if (org_snapshot_find_reserved(snapshot, name) >= 0) {
		struct org_decision decision = org_decide_reserved(snapshot, member);

		access = (struct index_access){ .basis = INDEX_ACCESS_CLAIMED };
		access.read = decision.read;
		access.write = decision.write;
		return access;
	}
	access = owners_only(snapshot, member, INDEX_ACCESS_UNCLAIMED);
	if (member >= 0 && unclaimed == CONFIG_UNCLAIMED_MEMBERS)
		access.read = true;
	access.fallback = !stored;
	return access;
}
