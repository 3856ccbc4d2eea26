/*
 * index_manage.h - yank, un-yank (PEP 592) and delete stored files, a
 * whole release or one file, on a storage that a running server may be
 * using (the server's threads and `ghaccess index`, in another process,
 * serialise on the project directory's flock(2)).
 *
 * The target is a release (a PEP 440 version: every file of the project
 * whose filename has that version, PEP 440 equal) or one file (a wheel or
 * sdist filename of the project).  Who may do it is the caller's decision
 * (write on the package, and [index] allow_delete for a deletion): this
 * module only changes the storage and says what changed.
 *
 *   yank    every targeted file gets yanked = true, the reason (replacing
 *           an earlier one), who and when; pip then ignores it unless a
 *           requirement pins it with == (PEP 592).
 *   unyank  yanked = false; reason, who and when are dropped.
 *   delete  for each file: <filename>.deleted (who, when, why, SHA-256),
 *           then the distribution, its record and METADATA are removed.
 *           The name can never be uploaded again (PyPI's rule: a client
 *           that cached a hash must never get other bytes under it).
 *
 * Thread-safe (the storage is shared, each call locks what it changes).
 */
#ifndef INDEX_MANAGE_H
#define INDEX_MANAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "index/index_filename.h"
#include "index/index_storage.h"

/* Longest yank or deletion reason, in bytes of UTF-8. */
#define INDEX_MANAGE_REASON_MAX 512

enum index_manage_action {
	INDEX_MANAGE_YANK = 0,
	INDEX_MANAGE_UNYANK,
	INDEX_MANAGE_DELETE,
};

struct index_manage_request {
	enum index_manage_action action;
	const char *project;	/* a PEP 503 key */
	const char *target;	/* a version or a filename of project */
	const char *reason;	/* yank and delete; NULL is "" */
	const char *actor;	/* a GitHub login, or "local:<user>" for the CLI */
};

struct index_manage_result {
	char **files;		/* owned: the filenames the action applied to, sorted */
	size_t count;
	size_t changed;		/* of which were changed (a yank of a yanked file
				 * with the same reason changes nothing) */
};

/* "yank", "unyank", "delete". */
const char *index_manage_action_name(enum index_manage_action action);

/* The action of one of those names; false for any other. */
bool index_manage_action_parse(const char *name, enum index_manage_action *action);

/*
 * true when reason may be stored and shown: at most INDEX_MANAGE_REASON_MAX
 * bytes of UTF-8 without control characters.  Else false with why.
 */
bool index_manage_reason_valid(const char *reason, char why[INDEX_REASON_MAX]);

/*
 * Apply request.  GA_ENOTFOUND when the project holds no such release or
 * file; GA_EINVAL when the target is neither a version nor a filename of
 * the project, or the reason is invalid; GA_EIO on a file system error
 * (the files done before it stay done, and are in result).  result is
 * filled on GA_OK and GA_EIO; free it with index_manage_result_free.
 */
enum ga_rc index_manage_apply(struct index_storage *storage,
			      const struct index_manage_request *request,
			      struct index_manage_result *result, struct ga_err *err);

void index_manage_result_free(struct index_manage_result *result);

#endif
