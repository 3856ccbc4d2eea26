/*
 * org_input.h - what a sync learned about an organization, as plain records.
 *
 * The GitHub client fills a struct org_input; org_snapshot_build() turns it
 * into an immutable, indexed snapshot.  Keeping the raw records apart lets a
 * snapshot file or a memcached entry hold exactly what GitHub said, so that
 * a configuration change (repo_pattern, group_name) applies on reload
 * without asking GitHub again.
 *
 * Every string is owned by the struct (ga_malloc'd) and freed by
 * org_input_free().  Nothing here is interpreted yet: names are as GitHub
 * spelled them, pyproject text is raw up to ORG_PYPROJECT_KEEP_MAX (1 kB);
 * a longer one is kept as a short text that declares the same name, or no
 * name for the same reason (org_pyproject_kept, org_package.h), so that
 * nobody can make the server hold large files.
 */
#ifndef ORG_INPUT_H
#define ORG_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/ga_err.h"

/* GitHub repository roles, ordered so that a higher value grants more. */
enum org_level {
	ORG_LEVEL_NONE = 0,
	ORG_LEVEL_READ,
	ORG_LEVEL_TRIAGE,
	ORG_LEVEL_WRITE,
	ORG_LEVEL_MAINTAIN,
	ORG_LEVEL_ADMIN,
};

struct org_input_member {
	char *login;
	long long id;
	bool is_owner;		/* membersWithRole role ADMIN */
};

/* A (name, level) pair: a team's repository grant or a direct collaborator. */
struct org_input_grant {
	char *name;		/* repository name (team grant) or login (collaborator) */
	enum org_level level;
};

struct org_input_team {
	long long id;
	char *slug;
	char *name;
	char *parent_slug;	/* NULL for a top-level team */
	char **member_logins;	/* immediate members */
	size_t member_count;
	struct org_input_grant *repositories;
	size_t repository_count;
};

enum org_pyproject_state {
	ORG_PYPROJECT_MISSING = 0,	/* no HEAD:pyproject.toml */
	ORG_PYPROJECT_TEXT,		/* text holds the file */
	ORG_PYPROJECT_BINARY,		/* a binary blob */
	ORG_PYPROJECT_TRUNCATED,	/* too large for GitHub to return its text */
	ORG_PYPROJECT_UNREADABLE,	/* the token may not read the file */
	ORG_PYPROJECT_UNDETERMINED,	/* GitHub could not read it: Blob.isBinary
					 * null ("unable to determine the encoding"),
					 * or no text for a file it calls text */
};

struct org_input_repository {
	long long id;
	char *name;
	bool archived;
	bool disabled;
	enum org_pyproject_state pyproject_state;
	char *pyproject_text;		/* NUL-terminated; NULL unless TEXT */
	size_t pyproject_length;
	/* Direct collaborators.  When collaborators_known is false (GitHub
	 * answered FORBIDDEN) the list is empty and direct grants are unknown:
	 * nobody gains access through them. */
	bool collaborators_known;
	struct org_input_grant *collaborators;
	size_t collaborator_count;
	bool is_fork;			/* Repository.isFork */
	char *fork_parent;		/* "owner/name" of a fork's parent; NULL if unknown */
	bool is_template;		/* Repository.isTemplate */
};

struct org_input {
	char *organization;		/* login */
	long long organization_id;	/* GitHub's numeric id; 0: unknown (an older
					 * snapshot): trusted publishing then mints nothing */
	bool base_permission_known;	/* false: GitHub did not tell us */
	enum org_level base_permission;
	struct org_input_member *members;
	size_t member_count;
	struct org_input_team *teams;
	size_t team_count;
	struct org_input_repository *repositories;
	size_t repository_count;
	/* Repositories GitHub answered null for (their names are unknown):
	 * while there are any, no package name may fall back to another index. */
	size_t unnamed_repositories;
	long long synced_at;		/* Unix time the data was read from GitHub */
	/* The same start in milliseconds, when this process synced (0 when
	 * unknown: a snapshot file or memcached keeps whole seconds). */
	long long synced_at_ms;
};

/* When the data was read, in Unix milliseconds: synced_at_ms, or the start
 * of the second synced_at (never later than the real start). */
long long org_input_read_at_ms(const struct org_input *input);

/* A zeroed input (free with org_input_free). */
struct org_input *org_input_new(void);
void org_input_free(struct org_input *input);

/* Append records; the returned pointer stays valid until the next append of
 * the same kind.  Strings passed in are copied. */
struct org_input_member *org_input_add_member(struct org_input *input, const char *login,
					      long long id, bool is_owner);
struct org_input_team *org_input_add_team(struct org_input *input, long long id,
					  const char *slug, const char *name,
					  const char *parent_slug);
void org_input_team_add_member(struct org_input_team *team, const char *login);
void org_input_team_add_repository(struct org_input_team *team, const char *repository,
				   enum org_level level);
struct org_input_repository *org_input_add_repository(struct org_input *input, long long id,
						      const char *name, bool archived,
						      bool disabled);
/* Set the pyproject text (len bytes, copied, or shortened as
 * org_pyproject_kept says: state ORG_PYPROJECT_TEXT, or ORG_PYPROJECT_TRUNCATED
 * with no text when it declares no name and no short text says why). */
void org_input_repository_set_pyproject(struct org_input_repository *repository,
					const char *text, size_t len);
void org_input_repository_add_collaborator(struct org_input_repository *repository,
					   const char *login, enum org_level level);
/* Mark a fork; parent ("owner/name", copied) may be NULL when unknown. */
void org_input_repository_set_fork(struct org_input_repository *repository, bool is_fork,
				   const char *parent);

/* "READ"/"read"/"pull" ... -> level; false when unknown.  Accepts GraphQL
 * enum names (READ, TRIAGE, WRITE, MAINTAIN, ADMIN), REST base permission
 * names (none, read, write, admin) and REST role names (pull, triage, push,
 * maintain, admin), case-insensitively. */
bool org_level_parse(const char *text, enum org_level *level);

/* "none", "read", "triage", "write", "maintain", "admin". */
const char *org_level_name(enum org_level level);

/*
 * Serialise to / parse from the snapshot file format (JSON, versioned, see
 * docs/internals/snapshot-format.md).  org_input_from_json validates every
 * field and returns GA_EPARSE with a message for anything unexpected; it
 * never trusts sizes in the data.  *out owned by the caller.
 */
char *org_input_to_json(const struct org_input *input);
enum ga_rc org_input_from_json(const char *text, size_t len, struct org_input **out,
			       struct ga_err *err);

/*
 * Snapshot files: read one (at most 1 GiB) or write one atomically
 * (temporary file, fsync, rename, directory fsync).  `sync --out`,
 * `serve --snapshot` and `explain --snapshot` use these.
 */
enum ga_rc org_input_read_file(const char *path, struct org_input **out, struct ga_err *err);
enum ga_rc org_input_write_file(const struct org_input *input, const char *path,
				struct ga_err *err);

/* ---- filtered copies (org_input_copy.c) --------------------------------- */

/*
 * What org_input_copy() leaves out or changes.  Every callback may be NULL
 * (keep as it is); each gets context.  Predicates and grant callbacks see
 * the original record; edits get the copy of a kept record, whose fields
 * are all copied and whose lists are already filtered, and may change its
 * scalar fields or its parent (org_input_team_set_parent).
 */
struct org_input_filter {
	void *context;
	bool (*keep_member)(void *context, const struct org_input_member *member);
	bool (*keep_team)(void *context, const struct org_input_team *team);
	bool (*keep_team_member)(void *context, const struct org_input_team *team,
				 const char *login);
	bool (*keep_repository)(void *context, const struct org_input_repository *repository);
	/* The level a grant keeps in the copy; ORG_LEVEL_NONE leaves it out. */
	enum org_level (*team_grant)(void *context, const struct org_input_team *team,
				     const struct org_input_grant *grant);
	enum org_level (*collaborator)(void *context, const struct org_input_repository *repository,
				       const struct org_input_grant *grant);
	void (*edit_team)(void *context, struct org_input_team *copy);
	void (*edit_repository)(void *context, struct org_input_repository *copy);
};

/*
 * A deep copy of input without what filter (NULL: nothing) leaves out.
 * Every field of every record is copied, including fields added to this
 * header later: records are copied whole, then their strings and lists
 * are duplicated (tests/unit/org/test_org_input_copy.c fails when a field
 * that owns memory is added and not duplicated here).  Free with
 * org_input_free; the copy can be appended to like any input.  Never
 * fails (allocation failure aborts).  Thread-safe for distinct copies.
 */
struct org_input *org_input_copy(const struct org_input *input,
				 const struct org_input_filter *filter);

/* Set (copied) or clear (NULL) a team's parent slug. */
void org_input_team_set_parent(struct org_input_team *team, const char *parent_slug);

/*
 * A record of an input replaced by (a deep copy of) what a targeted read
 * of GitHub found (service/service_webhook_revocations.c): a team's
 * immediate members, a team's repository grants, or a whole repository,
 * whose old strings and lists are freed.  Never fail.
 */
void org_input_team_replace_members(struct org_input_team *team, const struct org_input_team *from);
void org_input_team_replace_repositories(struct org_input_team *team,
					 const struct org_input_team *from);
void org_input_repository_replace(struct org_input_repository *to,
				  const struct org_input_repository *from);

#endif
