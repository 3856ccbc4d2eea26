/*
 * org_snapshot.h - an immutable, indexed view of one organization.
 *
 * org_snapshot_build() applies the repository filters and the pyproject
 * rules of docs/access-model.md to a struct org_input and indexes the result:
 * members by login, packages and reserved names by PEP 503 key, groups by
 * key, each in O(1);
 * a member's groups (immediate teams and all their ancestors) and a group's
 * members (immediate members of it and of all its descendants) are computed
 * once, at build time.  After that nothing changes: any number of threads
 * may read a snapshot without locking.
 *
 * Lifetime: a snapshot is reference counted.  The builder returns it with
 * one reference; org_snapshot_retain/release are atomic, and the last
 * release frees it.  The server publishes the current snapshot, with the
 * data front ends derive from it, as a view swapped atomically
 * (service/service_publisher.c) so a sync never blocks a decision.
 *
 * Indexes (member, team, package) are small integers valid only for the
 * snapshot that returned them; -1 means "not found".
 */
#ifndef ORG_SNAPSHOT_H
#define ORG_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "org/org_input.h"
#include "util/ga_err.h"

struct org_snapshot;

/* A team's grant on a package's repository, or a member's direct grant. */
struct org_package_grant {
	long index;		/* team index or member index */
	enum org_level level;
};

/*
 * Build a snapshot from input, which it takes (the snapshot keeps it for
 * org_snapshot_input() and frees it).  config (borrowed, read during the
 * call only) gives repo_pattern, the include and exclude lists, group_name
 * and the base_permission override.  Bad data (a parent cycle, a grant on
 * an unknown repository) is tolerated and logged, never fatal.  Returns
 * GA_EINVAL only for an invalid repo_pattern.
 */
enum ga_rc org_snapshot_build(struct org_input *input, const struct config *config,
			      struct org_snapshot **out, struct ga_err *err);

/*
 * The same records as snapshot under another configuration (SIGHUP): a new
 * snapshot that shares snapshot's raw records (org_snapshot_input) instead
 * of copying them.  snapshot is borrowed and may be released afterwards.
 * Fails as org_snapshot_build.
 */
enum ga_rc org_snapshot_rebuild(const struct org_snapshot *snapshot, const struct config *config,
				struct org_snapshot **out, struct ga_err *err);

struct org_snapshot *org_snapshot_retain(struct org_snapshot *snapshot);
void org_snapshot_release(struct org_snapshot *snapshot);

/* The raw records the snapshot was built from (borrowed). */
const struct org_input *org_snapshot_input(const struct org_snapshot *snapshot);
const char *org_snapshot_organization(const struct org_snapshot *snapshot);
long long org_snapshot_synced_at(const struct org_snapshot *snapshot);
enum org_level org_snapshot_base_permission(const struct org_snapshot *snapshot);

/* Members of the organization (owners included). */
size_t org_snapshot_member_count(const struct org_snapshot *snapshot);
long org_snapshot_find_member(const struct org_snapshot *snapshot, const char *login);
const char *org_snapshot_member_login(const struct org_snapshot *snapshot, long member);
long long org_snapshot_member_id(const struct org_snapshot *snapshot, long member);
bool org_snapshot_member_is_owner(const struct org_snapshot *snapshot, long member);
/* Teams of the member and all their ancestors, sorted by team index. */
const long *org_snapshot_member_groups(const struct org_snapshot *snapshot, long member,
				       size_t *count);
/* Members that are owners, sorted by login. */
const long *org_snapshot_owners(const struct org_snapshot *snapshot, size_t *count);

/* Teams ("groups"); the key is the slug or the display name (group_name). */
size_t org_snapshot_team_count(const struct org_snapshot *snapshot);
long org_snapshot_find_group(const struct org_snapshot *snapshot, const char *key);
const char *org_snapshot_group_key(const struct org_snapshot *snapshot, long team);
const char *org_snapshot_team_slug(const struct org_snapshot *snapshot, long team);
/* The parent team index, or -1 (also for a team whose chain is a cycle). */
long org_snapshot_team_parent(const struct org_snapshot *snapshot, long team);
/* Members of the team and of all its descendants, sorted by member index. */
const long *org_snapshot_group_members(const struct org_snapshot *snapshot, long team,
				       size_t *count);
/* Immediate members only, sorted by member index. */
const long *org_snapshot_team_immediate_members(const struct org_snapshot *snapshot,
						long team, size_t *count);

/* Packages: repositories that passed every rule. */
size_t org_snapshot_package_count(const struct org_snapshot *snapshot);
/* name in any spelling (normalised here); -1 when unknown or too long. */
long org_snapshot_find_package(const struct org_snapshot *snapshot, const char *name);
const char *org_snapshot_package_key(const struct org_snapshot *snapshot, long package);
const char *org_snapshot_package_repository(const struct org_snapshot *snapshot, long package);
bool org_snapshot_package_archived(const struct org_snapshot *snapshot, long package);
/* Direct grants of team on the package's repository, sorted by team index. */
const struct org_package_grant *org_snapshot_package_team_grants(
	const struct org_snapshot *snapshot, long package, size_t *count);
/* Direct collaborators who are organization members, sorted by member index. */
const struct org_package_grant *org_snapshot_package_member_grants(
	const struct org_snapshot *snapshot, long package, size_t *count);
/* The package's repository is a fork (*parent, when not NULL, gets the
 * parent's "owner/name", or NULL when GitHub did not say) / a template. */
bool org_snapshot_package_is_fork(const struct org_snapshot *snapshot, long package,
				  const char **parent);
bool org_snapshot_package_is_template(const struct org_snapshot *snapshot, long package);
/* false when GitHub refused to list the repository's collaborators. */
bool org_snapshot_package_collaborators_known(const struct org_snapshot *snapshot,
					      long package);

/*
 * Reserved names (docs/access-model.md §2): the oldest repository that
 * declares the name (every repository competes, whatever the filters and
 * its state) yields no package, because a filter keeps it out or it is
 * disabled.  Only organization owners may use such a name, in every front
 * end, and it is never sent to a fallback index.  Sorted by key.
 */
size_t org_snapshot_reserved_count(const struct org_snapshot *snapshot);
/* name in any spelling (normalised here); -1 when not reserved or too long. */
long org_snapshot_find_reserved(const struct org_snapshot *snapshot, const char *name);
const char *org_snapshot_reserved_key(const struct org_snapshot *snapshot, long reserved);
/* The repository that owns the name, and why it yields no package. */
const char *org_snapshot_reserved_repository(const struct org_snapshot *snapshot,
					     long reserved);
const char *org_snapshot_reserved_reason(const struct org_snapshot *snapshot, long reserved);

/*
 * Conflicts: a newer repository declaring a name that an older one owns
 * (as a package or reserved), sorted by repository name.  Each is also
 * skipped; the conflict is reported whatever the newer repository's filters.
 */
size_t org_snapshot_conflict_count(const struct org_snapshot *snapshot);
const char *org_snapshot_conflict_repository(const struct org_snapshot *snapshot, size_t i);
const char *org_snapshot_conflict_key(const struct org_snapshot *snapshot, size_t i);
const char *org_snapshot_conflict_owner(const struct org_snapshot *snapshot, size_t i);

/*
 * true when the name is a package or reserved, i.e. some organization
 * repository owns it; also for a name too long to normalise, and for every
 * name while GitHub answered null for some repository (its name, and so
 * what it declares, is unknown).  The built-in index never sends such a
 * name to a fallback index.
 */
bool org_snapshot_name_is_claimed(const struct org_snapshot *snapshot, const char *name);

/* Trusted publishing (src/oidc/): the repository GitHub numbers id (an
 * index of org_snapshot_input()->repositories), or -1; and the package a
 * repository (by name, as in the input) yields, or -1.  O(1). */
long org_snapshot_find_repository_id(const struct org_snapshot *snapshot, long long id);
long org_snapshot_package_of_repository(const struct org_snapshot *snapshot,
					const char *repository);

/* Repositories that yield no package, with the reason, sorted by name. */
size_t org_snapshot_skipped_count(const struct org_snapshot *snapshot);
const char *org_snapshot_skipped_repository(const struct org_snapshot *snapshot, size_t i);
const char *org_snapshot_skipped_reason(const struct org_snapshot *snapshot, size_t i);
/* Reason a repository was skipped, or NULL if it was not (or is unknown). */
const char *org_snapshot_skip_reason_of(const struct org_snapshot *snapshot,
					const char *repository);

#endif
