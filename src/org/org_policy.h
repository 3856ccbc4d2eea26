/*
 * org_policy.h - the access decision of docs/access-model.md section 4.
 *
 * org_decide() is pure and allocation-free: given a snapshot, a member and
 * a package it returns the effective GitHub level, the package permissions
 * and which source gave the level.  Every front end (pypicloud protocol,
 * forward-auth, built-in index, explain) decides through here.
 *
 * Logging in is decided elsewhere (token check + org_snapshot_find_member);
 * a login that is not a member gets nothing from any function here.
 */
#ifndef ORG_POLICY_H
#define ORG_POLICY_H

#include <stdbool.h>

#include "org/org_snapshot.h"

enum org_source {
	ORG_SOURCE_NONE = 0,		/* no grant at all */
	ORG_SOURCE_OWNER,		/* organization owner */
	ORG_SOURCE_BASE,		/* the organization's base permission */
	ORG_SOURCE_TEAM,		/* a team grant (maybe through a parent) */
	ORG_SOURCE_COLLABORATOR,	/* a direct collaborator grant */
};

struct org_decision {
	bool read;
	bool write;
	enum org_level level;		/* effective GitHub level */
	enum org_source source;		/* which source gave level (the first in
					 * the order owner, collaborator, team,
					 * base among equals) */
	long granting_team;		/* ORG_SOURCE_TEAM: team with the grant,
					 * an ancestor-or-self of one of the
					 * member's teams (org_explain names it) */
	bool archived;			/* write removed because archived */
	bool reserved;			/* a reserved name: owners only */
};

/* Decision for member index and package index (either -1: no access). */
struct org_decision org_decide(const struct org_snapshot *snapshot, long member, long package);

/*
 * Decision for member on a reserved name (org_snapshot_find_reserved):
 * owners read and write, nobody else gets anything (ORG_SOURCE_OWNER or
 * ORG_SOURCE_NONE, reserved set).  The owning repository's grants, the
 * base permission and archiving do not apply: the configuration chose not
 * to make that repository a package, and no newer one may take its name.
 */
struct org_decision org_decide_reserved(const struct org_snapshot *snapshot, long member);

/* Same by login (exact) and package name (any spelling): a package through
 * org_decide, a reserved name through org_decide_reserved, else nothing. */
struct org_decision org_decide_by_name(const struct org_snapshot *snapshot, const char *login,
				       const char *package);

/* Package permissions of a GitHub level, before the archived rule. */
void org_level_permissions(enum org_level level, bool *read, bool *write);

/*
 * The decision in plain words, e.g. "read, write: via team platform (parent
 * of platform-infra, of which carol is a member), which has WRITE on
 * core-lib".  Returns a new string (ga_free).
 */
char *org_explain(const struct org_snapshot *snapshot, const char *login, const char *package);

#endif
