/*
 * org_package.h - which repositories are packages (docs/access-model.md §2).
 *
 * Internal to src/org: the snapshot builder calls these for every
 * repository.  A repository either yields a package key or a reason that
 * `sync` and `explain` show to the operator.
 */
#ifndef ORG_PACKAGE_H
#define ORG_PACKAGE_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "org/org_input.h"

#define ORG_REASON_MAX 160

/* The compiled filter settings of a config. */
struct org_filters {
	pcre2_code *pattern;			/* anchored at the start only */
	pcre2_match_data *match_data;
	const struct config_list *include;	/* borrowed from the config */
	const struct config_list *exclude;
	bool include_forks;			/* [github] include_forks */
};

/* Compile config->repo_pattern (PCRE2, UTF, anchored).  GA_EINVAL with
 * PCRE2's message and offset when it does not compile. */
enum ga_rc org_filters_init(struct org_filters *filters, const struct config *config,
			    struct ga_err *err);
void org_filters_free(struct org_filters *filters);

/* true when the repository name passes the filters; else reason is set. */
bool org_filters_accept(const struct org_filters *filters, const char *name,
			char reason[ORG_REASON_MAX]);

/*
 * The declared project name of a pyproject.toml: [project].name, else
 * [tool.poetry].name; a string that is a valid PEP 508 name.  On success
 * writes the raw name (ga_malloc'd) to *name and returns true; else sets
 * reason ("invalid TOML at line 3: ...", "no project name", ...).
 */
bool org_pyproject_name(const struct org_input_repository *repository, char **name,
			char reason[ORG_REASON_MAX]);

/* A pyproject.toml longer than this is not kept as GitHub sent it. */
#define ORG_PYPROJECT_KEEP_MAX 1024

/*
 * What the records keep of a pyproject.toml of len bytes: the text itself
 * when at most ORG_PYPROJECT_KEEP_MAX bytes; else a short text that
 * org_pyproject_name reads exactly as the original (the same name, or no
 * name for the same reason).  When no short text says the same (a TOML
 * error past the first ORG_PYPROJECT_KEEP_MAX bytes), nothing is kept and
 * *state is ORG_PYPROJECT_TRUNCATED, which declares no name either.  A
 * text that declares a name always keeps it (a lost name could be taken
 * by a newer repository), and one that declares none never gains one.
 *
 * Memory: every instance keeps every repository's text, twice during a
 * refresh, and a member who may create repositories chooses its size (up
 * to GitHub's limit for Blob.text).  Returns the text to keep (ga_malloc'd,
 * NUL-terminated, *kept_len bytes), or NULL with ORG_PYPROJECT_TRUNCATED.
 */
char *org_pyproject_kept(const char *text, size_t len, size_t *kept_len,
			 enum org_pyproject_state *state);

#endif
