/*
 * org_snapshot_internal.h - the layout of a snapshot, shared by the files of
 * src/org only (org_snapshot.c builds it, org_policy.c reads it).
 */
#ifndef ORG_SNAPSHOT_INTERNAL_H
#define ORG_SNAPSHOT_INTERNAL_H

#include <stdatomic.h>

#include "org/org_snapshot.h"
#include "util/ga_map.h"

struct snapshot_member {
	const char *login;		/* borrowed from the input */
	long long id;
	bool is_owner;
	long *groups;			/* teams and their ancestors, sorted */
	size_t group_count;
	long *teams;			/* immediate teams, sorted */
	size_t team_count;
};

struct snapshot_team {
	const char *slug;		/* borrowed from the input */
	const char *key;		/* slug or display name */
	long parent;			/* -1: none (or broken by a cycle) */
	long *immediate_members;	/* sorted member indexes */
	size_t immediate_count;
	long *members;			/* immediate + descendants', sorted */
	size_t member_count;
};

struct snapshot_package {
	char *key;			/* PEP 503 normalised, owned */
	const char *repository;		/* borrowed from the input */
	bool archived;
	bool collaborators_known;
	bool is_fork;
	bool is_template;
	const char *fork_parent;	/* borrowed from the input; NULL if unknown */
	struct org_package_grant *team_grants;	/* sorted by team index */
	size_t team_grant_count;
	struct org_package_grant *member_grants;	/* sorted by member index */
	size_t member_grant_count;
};

struct snapshot_skip {
	const char *repository;		/* borrowed from the input */
	char *reason;			/* owned */
};

/* A name whose owner (the oldest declaring repository) yields no package. */
struct snapshot_reserved {
	char *key;			/* PEP 503 normalised, owned */
	const char *repository;		/* the owner, borrowed from the input */
	char *reason;			/* why the owner yields no package, owned */
};

/* A newer repository that declares a name an older one owns. */
struct snapshot_conflict {
	const char *repository;		/* the newer one, borrowed from the input */
	const char *key;		/* borrowed from the package or reserved name */
	const char *owner;		/* the owning repository, borrowed */
};

/*
 * The raw records, shared by the snapshots built from them: a rebuild under
 * a new configuration (org_snapshot_rebuild, on SIGHUP) takes a reference
 * instead of a copy.  Nothing changes them once built (a webhook patch
 * copies them), so sharing needs no lock.
 */
struct snapshot_records {
	atomic_long references;
	struct org_input *input;	/* owned */
};

struct org_snapshot {
	atomic_long references;
	struct snapshot_records *records;	/* a counted reference */
	struct org_input *input;	/* records->input */
	enum org_level base_permission;

	struct snapshot_member *members;
	size_t member_count;
	struct snapshot_team *teams;
	size_t team_count;
	struct snapshot_package *packages;
	size_t package_count;
	struct snapshot_skip *skipped;
	size_t skipped_count;
	long *owners;			/* member indexes sorted by login */
	size_t owner_count;
	struct snapshot_reserved *reserved;	/* sorted by key */
	size_t reserved_count;
	struct snapshot_conflict *conflicts;	/* sorted by repository */
	size_t conflict_count;

	struct ga_map member_by_login;
	struct ga_map team_by_key;
	struct ga_map package_by_key;
	struct ga_map skip_by_repository;
	struct ga_map reserved_by_key;
	/* Trusted publishing finds a workflow's repository by GitHub's id
	 * (the 8 bytes of input->repositories[i].id) and its package. */
	struct ga_map repository_by_id;
	struct ga_map package_by_repository;
};

#endif
