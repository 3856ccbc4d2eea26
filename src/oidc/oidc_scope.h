/*
 * oidc_scope.h - what a GitHub Actions workflow of one repository may do
 * in the built-in index, decided from the current snapshot: when a token
 * is minted, and again at every use of the minted token.
 *
 * A repository is identified by GitHub's numeric id (repository_id),
 * never by its name: a repository that was renamed, or deleted and
 * re-created under the same name, is another id and inherits nothing.  It
 * stands (may publish) while, in the snapshot the request decides with:
 *   - the snapshot's organization id is known and is the token's;
 *   - a repository of that id exists, neither archived nor disabled;
 *   - it owns a package name (docs/access-model.md section 2: it yields a
 *     package, so it is the oldest repository declaring that name and
 *     passes the filters).
 *
 * Access of a standing repository's workflow (docs/production.md,
 * "Publishing from GitHub Actions"):
 *   - read and write its own package;
 *   - read a package P of another repository only when [trusted_publishing]
 *     read_grants holds "<its name>:P", P is an organization package (not a
 *     reserved or unclaimed name), and the granted repository's direct
 *     collaborators are known and none of them is an outside collaborator
 *     with write access: GitHub lets such a person run any workflow of the
 *     repository, so a grant would let them read P, which GitHub would not
 *     let the repository's GITHUB_TOKEN read;
 *   - nothing else (no owners' rights, no member's base permission).
 *
 * Cost: finding the repository and its package scans the snapshot's
 * repositories and packages (a few microseconds per thousand; see the note
 * in bench/results-trusted-publishing.md).  Pure, thread-safe over an
 * immutable snapshot.
 */
#ifndef OIDC_SCOPE_H
#define OIDC_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "org/org_snapshot.h"

enum oidc_standing {
	OIDC_STANDING_OK = 0,
	OIDC_STANDING_NO_ORGANIZATION_ID,	/* the snapshot lacks it: sync again */
	OIDC_STANDING_WRONG_ORGANIZATION,
	OIDC_STANDING_UNKNOWN_REPOSITORY,	/* no repository has that id */
	OIDC_STANDING_ID_MISMATCH,		/* the name is another repository's */
	OIDC_STANDING_ARCHIVED,
	OIDC_STANDING_DISABLED,
	OIDC_STANDING_NO_PACKAGE,		/* owns no package name */
};

struct oidc_repository {
	const struct org_input_repository *record;	/* NULL unless found */
	long package;			/* its package index, or -1 */
	const char *package_key;	/* PEP 503 name, or NULL */
};

/*
 * The standing of repository_id for organization_id.  claimed_name (the
 * token's "repository" claim without the owner, or NULL) only sharpens the
 * refusal of an unknown id (ID_MISMATCH instead of UNKNOWN_REPOSITORY).
 * why gets a sentence for the person reading the CI log.
 */
enum oidc_standing oidc_repository_standing(const struct org_snapshot *snapshot,
					    long long organization_id, long long repository_id,
					    const char *claimed_name, struct oidc_repository *out,
					    char *why, size_t why_size);

struct oidc_access {
	bool read;
	bool write;
	bool fallback;		/* an unclaimed name the index lacks: may redirect */
};

/*
 * Access of a minted token's repository (already standing in snapshot, as
 * repository says) to the project named name (any spelling).  stored tells
 * whether the index holds files of that name.
 */
struct oidc_access oidc_scope_access(const struct org_snapshot *snapshot,
				     const struct config *config,
				     const struct oidc_repository *repository, const char *name,
				     bool stored);

#endif
