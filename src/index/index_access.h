/*
 * index_access.h - who may read and write a package of the built-in index
 * (and of an index guarded by forward-auth).
 *
 * Three kinds of names:
 *
 *   1. A package of the organization (a repository yields it): the
 *      decision of docs/access-model.md, org_decide(), unchanged.
 *   2. A reserved name (org_snapshot_find_reserved): the oldest
 *      repository that declares it is excluded by the filters or disabled,
 *      so it yields no package, and no newer repository may take the name
 *      over.  Owners only, read and write, whatever [index] unclaimed says
 *      (org_decide_reserved).  Letting every member read it could expose
 *      what the filters were meant to hide, and letting a newer
 *      repository's writers in would hand them the excluded repository's
 *      package (docs/access-model.md §2).
 *   3. A name no repository claims: readable by owners, and by every member
 *      when [index] unclaimed = members; writable by owners only (a member
 *      cannot create a package without a repository).  Only here may a
 *      request be sent to fallback_url, and only when the index does not
 *      store the name itself (a private name is never redirected to a
 *      public index: that is the dependency-confusion attack).
 *
 * A login that is not a member of the organization (member -1) gets
 * nothing, in every case.  Owners keep no write on an archived repository's
 * package (case 1 decides that).
 *
 * Pure, allocation-free, thread-safe over an immutable snapshot.
 */
#ifndef INDEX_ACCESS_H
#define INDEX_ACCESS_H

#include <stdbool.h>

#include "config/config.h"
#include "org/org_snapshot.h"

enum index_access_basis {
	INDEX_ACCESS_PACKAGE = 0,	/* case 1: org_decide */
	INDEX_ACCESS_CLAIMED,		/* case 2: reserved (or an invalid name) */
	INDEX_ACCESS_UNCLAIMED,		/* case 3 */
};

struct index_access {
	bool read;
	bool write;
	bool fallback;			/* may be redirected to fallback_url */
	enum index_access_basis basis;
};

/*
 * Access of member (an index of snapshot, or -1) to the project named name
 * (any spelling; PEP 503 normalised here).  stored tells whether the index
 * holds files of that name (only case 3 uses it: fallback).  unclaimed is
 * the [index] unclaimed setting.  An invalid or over-long name is treated as
 * case 2 (owners only, no fallback).
 */
struct index_access index_access_decide(const struct org_snapshot *snapshot, long member,
					const char *name, bool stored,
					enum config_unclaimed unclaimed);

#endif
