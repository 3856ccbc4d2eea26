/*
 * org_policy.c - the decision of docs/access-model.md §4; see org_policy.h.
 *
 * Hot path: every front end calls org_decide() for every request.  It does
 * no allocation: a few hash lookups by the callers, then a walk over the
 * package's team grants with a binary search in the member's sorted groups.
 */
#include "org/org_policy.h"

#include <stdio.h>
#include <string.h>

#include "org/org_snapshot_internal.h"
#include "util/ga_buf.h"
#include "util/ga_xalloc.h"

void
org_level_permissions(enum org_level level, bool *read, bool *write)
{
	*read = level >= ORG_LEVEL_READ;
	*write = level >= ORG_LEVEL_WRITE;
}

static bool
sorted_contains(const long *items, size_t count, long value)
{
	size_t low = 0;
	size_t high = count;

	while (low < high) {
		size_t middle = low + (high - low) / 2;

		if (items[middle] == value)
			return true;
		if (items[middle] < value)
			low = middle + 1;
		else
			high = middle;
	}
	return false;
}

static const struct org_package_grant *
find_grant(const struct org_package_grant *grants, size_t count, long index)
{
	size_t low = 0;
	size_t high = count;

	while (low < high) {
		size_t middle = low + (high - low) / 2;

		if (grants[middle].index == index)
			return &grants[middle];
		if (grants[middle].index < index)
			low = middle + 1;
		else
			high = middle;
	}
	return NULL;
}

/* Raise the decision to level when strictly higher: among equal levels the
 * first source considered stays (collaborator, then team, then base). */
static void
consider(struct org_decision *decision, enum org_level level, enum org_source source,
	 long team)
{
	if (level <= decision->level)
		return;
	decision->level = level;
	decision->source = source;
	decision->granting_team = team;
}

struct org_decision
org_decide(const struct org_snapshot *snapshot, long member, long package)
{
	struct org_decision decision = {.source = ORG_SOURCE_NONE, .granting_team = -1};
	const struct snapshot_member *who;
	const struct snapshot_package *what;
	const struct org_package_grant *direct;

	if (member < 0 || package < 0 || (size_t)member >= snapshot->member_count ||
	    (size_t)package >= snapshot->package_count)
		return decision;
	who = &snapshot->members[member];
	what = &snapshot->packages[package];
	if (who->is_owner) {
		decision.level = ORG_LEVEL_ADMIN;
		decision.source = ORG_SOURCE_OWNER;
	} else {
		direct = find_grant(what->member_grants, what->member_grant_count, member);
		if (direct != NULL)
			consider(&decision, direct->level, ORG_SOURCE_COLLABORATOR, -1);
		for (size_t g = 0; g < what->team_grant_count; g++) {
			const struct org_package_grant *grant = &what->team_grants[g];

			if (sorted_contains(who->groups, who->group_count, grant->index))
				consider(&decision, grant->level, ORG_SOURCE_TEAM, grant->index);
		}
		consider(&decision, snapshot->base_permission, ORG_SOURCE_BASE, -1);
	}
	org_level_permissions(decision.level, &decision.read, &decision.write);
	if (what->archived && decision.write) {
		/* GitHub makes archived repositories read-only. */
		decision.write = false;
		decision.archived = true;
	}
	return decision;
}

struct org_decision
org_decide_reserved(const struct org_snapshot *snapshot, long member)
{
	struct org_decision decision = {.source = ORG_SOURCE_NONE, .granting_team = -1,
					.reserved = true};

	if (member >= 0 && (size_t)member < snapshot->member_count &&
	    snapshot->members[member].is_owner) {
		decision.level = ORG_LEVEL_ADMIN;
		decision.source = ORG_SOURCE_OWNER;
		decision.read = true;
		decision.write = true;
	}
	return decision;
}

struct org_decision
org_decide_by_name(const struct org_snapshot *snapshot, const char *login, const char *package)
{
	long member = org_snapshot_find_member(snapshot, login);
	long found = org_snapshot_find_package(snapshot, package);

	if (found >= 0)
		return org_decide(snapshot, member, found);
	if (org_snapshot_find_reserved(snapshot, package) >= 0)
		return org_decide_reserved(snapshot, member);
	return org_decide(snapshot, member, -1);
}

/* ---- explanation ------------------------------------------------------ */

static const char *
grant_name(enum org_level level)
{
	static const char *const names[] = {"NONE", "READ", "TRIAGE", "WRITE", "MAINTAIN",
					    "ADMIN"};

	return names[level];
}

static void
append_permissions(struct ga_buf *text, const struct org_decision *decision)
{
	if (decision->write)
		ga_buf_append_str(text, "read, write");
	else if (decision->read)
		ga_buf_append_str(text, "read");
	else
		ga_buf_append_str(text, "no access");
}

/* The member's own team that lies under (or is) the granting team. */
static long
member_team_under(const struct org_snapshot *snapshot, const struct snapshot_member *who,
		  long granting)
{
	for (size_t i = 0; i < who->team_count; i++)
		for (long t = who->teams[i]; t >= 0; t = snapshot->teams[t].parent)
			if (t == granting)
				return who->teams[i];
	return -1;
}

static void
explain_team(struct ga_buf *text, const struct org_snapshot *snapshot, long member,
	     const struct org_decision *decision, long package)
{
	const struct snapshot_member *who = &snapshot->members[member];
	long granting = decision->granting_team;
	long own = member_team_under(snapshot, who, granting);

	ga_buf_printf(text, "via team %s (", snapshot->teams[granting].key);
	if (own != granting && own >= 0) {
		/* Name the chain from the granting team down to the member's team. */
		ga_buf_printf(text, "parent of ");
		for (long t = own; t >= 0 && snapshot->teams[t].parent != granting;
		     t = snapshot->teams[t].parent)
			ga_buf_printf(text, "%s, parent of ",
				      snapshot->teams[snapshot->teams[t].parent].key);
		ga_buf_printf(text, "%s, of which %s is a member", snapshot->teams[own].key,
			      who->login);
	} else {
		ga_buf_printf(text, "of which %s is a member", who->login);
	}
	ga_buf_printf(text, "), which has %s on %s", grant_name(decision->level),
		      snapshot->packages[package].repository);
}

static void
explain_source(struct ga_buf *text, const struct org_snapshot *snapshot, long member,
	       long package, const struct org_decision *decision)
{
	const char *repository = snapshot->packages[package].repository;

	switch (decision->source) {
	case ORG_SOURCE_OWNER:
		ga_buf_printf(text, "%s is an owner of the organization %s",
			      snapshot->members[member].login, org_snapshot_organization(snapshot));
		break;
	case ORG_SOURCE_BASE:
		ga_buf_printf(text, "the organization's base permission is %s",
			      org_level_name(decision->level));
		break;
	case ORG_SOURCE_TEAM:
		explain_team(text, snapshot, member, decision, package);
		break;
	case ORG_SOURCE_COLLABORATOR:
		ga_buf_printf(text, "%s is a direct collaborator with %s on %s",
			      snapshot->members[member].login, grant_name(decision->level),
			      repository);
		break;
	case ORG_SOURCE_NONE:
		ga_buf_printf(text, "no owner role, team, direct grant or base permission gives %s "
			      "access to %s", snapshot->members[member].login, repository);
		break;
	}
}

/* The reserved name in words: who owns it and why only owners may use it. */
static void
explain_reserved(struct ga_buf *text, const struct org_snapshot *snapshot, long member,
		 long reserved)
{
	struct org_decision decision = org_decide_reserved(snapshot, member);

	append_permissions(text, &decision);
	ga_buf_append_str(text, ": ");
	if (decision.read)
		ga_buf_printf(text, "%s is an owner of the organization %s; ",
			      snapshot->members[member].login, org_snapshot_organization(snapshot));
	ga_buf_printf(text, "%s is reserved: the oldest repository that declares it, %s, "
		      "yields no package (%s), so only organization owners may read or "
		      "upload it", snapshot->reserved[reserved].key,
		      snapshot->reserved[reserved].repository, snapshot->reserved[reserved].reason);
}

/* Forks and templates: where a package's repository comes from. */
static void
explain_origin(struct ga_buf *text, const struct snapshot_package *package)
{
	if (package->is_fork)
		ga_buf_printf(text, "; note: %s is a fork of %s, so the name %s is served from the "
			      "organization, never from another index", package->repository,
			      package->fork_parent != NULL ? package->fork_parent
							   : "another repository",
			      package->key);
	if (package->is_template)
		ga_buf_printf(text, "; note: %s is a template repository: repositories made from it "
			      "start with its pyproject.toml, and its name", package->repository);
}

char *
org_explain(const struct org_snapshot *snapshot, const char *login, const char *package_name)
{
	struct ga_buf text;
	long member = org_snapshot_find_member(snapshot, login);
	long package = org_snapshot_find_package(snapshot, package_name);
	long reserved = package < 0 ? org_snapshot_find_reserved(snapshot, package_name) : -1;
	struct org_decision decision;

	ga_buf_init(&text, 0);
	if (package < 0 && reserved < 0) {
		ga_buf_printf(&text, "no access: no repository of %s provides the package %s",
			      org_snapshot_organization(snapshot), package_name);
		return ga_buf_steal(&text);
	}
	if (member < 0) {
		ga_buf_printf(&text, "no access: %s is not a member of the organization %s "
			      "(outside collaborators and strangers cannot log in)",
			      login, org_snapshot_organization(snapshot));
		return ga_buf_steal(&text);
	}
	if (reserved >= 0) {
		explain_reserved(&text, snapshot, member, reserved);
		return ga_buf_steal(&text);
	}
	decision = org_decide(snapshot, member, package);
	append_permissions(&text, &decision);
	ga_buf_append_str(&text, ": ");
	explain_source(&text, snapshot, member, package, &decision);
	if (decision.archived)
		ga_buf_printf(&text, "; write removed because %s is archived",
			      snapshot->packages[package].repository);
	else if (snapshot->packages[package].archived)
		ga_buf_printf(&text, " (%s is archived: read-only)",
			      snapshot->packages[package].repository);
	if (!snapshot->packages[package].collaborators_known)
		ga_buf_printf(&text, "; note: GitHub did not list the direct collaborators of %s, "
			      "so direct grants are not counted", snapshot->packages[package].repository);
	explain_origin(&text, &snapshot->packages[package]);
	return ga_buf_steal(&text);
}
