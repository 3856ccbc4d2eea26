/* index_manage.c - yank, un-yank and delete under the project's lock; see index_manage.h. */
#include "index/index_manage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "index/index_storage_internal.h"
#include "index/index_version.h"
#include "util/ga_utf8.h"
#include "util/ga_xalloc.h"

const char *
index_manage_action_name(enum index_manage_action action)
{
	switch (action) {
	case INDEX_MANAGE_YANK:
		return "yank";
	case INDEX_MANAGE_UNYANK:
		return "unyank";
	case INDEX_MANAGE_DELETE:
		return "delete";
	}
	return "?";
}

bool
index_manage_action_parse(const char *name, enum index_manage_action *action)
{
	static const enum index_manage_action actions[] = {
		INDEX_MANAGE_YANK, INDEX_MANAGE_UNYANK, INDEX_MANAGE_DELETE,
	};

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(name, index_manage_action_name(actions[i])) == 0) {
			*action = actions[i];
			return true;
		}
	}
	return false;
}

bool
index_manage_reason_valid(const char *reason, char why[INDEX_REASON_MAX])
{
	size_t len = strlen(reason);

	if (len > INDEX_MANAGE_REASON_MAX) {
		snprintf(why, INDEX_REASON_MAX, "reason longer than %d bytes",
			 INDEX_MANAGE_REASON_MAX);
		return false;
	}
	if (!ga_utf8_valid(reason, len)) {
		snprintf(why, INDEX_REASON_MAX, "reason is not UTF-8 text");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)reason[i];

		if (c < 0x20 || c == 0x7f) {
			snprintf(why, INDEX_REASON_MAX, "reason holds a control character");
			return false;
		}
	}
	return true;
}

/* Does filename (of project) fall under the request's target? */
static bool
targeted(const struct index_manage_request *request, bool by_filename, const char *filename)
{
	char version[INDEX_VERSION_MAX + 1];

	if (by_filename)
		return strcmp(filename, request->target) == 0;
	return index_filename_version(filename, request->project, version) &&
	       index_version_equal(version, strlen(version), request->target,
				   strlen(request->target));
}

static void
add_result(struct index_manage_result *result, const char *filename, bool changed)
{
	result->files = ga_reallocarray(result->files, result->count + 1, sizeof(*result->files));
	result->files[result->count++] = ga_strdup(filename);
	result->changed += changed;
}

/* One file, under the exclusive lock. */
static enum ga_rc
apply_one(int dir_fd, const struct index_manage_request *request, struct index_file *file,
	  bool *changed, struct ga_err *err)
{
	const char *reason = request->reason ? request->reason : "";
	enum ga_rc rc;

	*changed = false;
	switch (request->action) {
	case INDEX_MANAGE_YANK:
		if (file->yanked && file->yanked_reason != NULL &&
		    strcmp(file->yanked_reason, reason) == 0)
			return GA_OK;
		file->yanked = true;
		ga_free(file->yanked_reason);
		ga_free(file->yanked_by);
		file->yanked_reason = ga_strdup(reason);
		file->yanked_by = ga_strdup(request->actor);
		file->yanked_at = (long long)time(NULL);
		break;
	case INDEX_MANAGE_UNYANK:
		if (!file->yanked)
			return GA_OK;
		file->yanked = false;
		ga_free(file->yanked_reason);
		ga_free(file->yanked_by);
		file->yanked_reason = NULL;
		file->yanked_by = NULL;
		file->yanked_at = 0;
		break;
	case INDEX_MANAGE_DELETE:
		/* The tombstone first: from then on the name is gone, whatever
		 * a crash leaves (index_storage_open finishes the rest). */
		rc = index_tombstone_write(dir_fd, file, request->actor, reason, err);
		if (rc != GA_OK)
			return rc;
		index_remove_stored(dir_fd, file->filename);
		*changed = true;
		return GA_OK;
	}
	rc = index_record_write(dir_fd, file, err);
	*changed = rc == GA_OK;
	return rc;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The targeted distributions of the directory, before anything changes
 * in it (a directory that changes while it is read may be read oddly). */
static size_t
collect_targets(int dir_fd, const struct index_manage_request *request, bool by_filename,
		char ***names)
{
	DIR *dir = index_open_stream(dir_fd);
	struct dirent *entry;
	size_t count = 0;

	*names = NULL;
	if (dir == NULL)
		return 0;
	while ((entry = readdir(dir)) != NULL) {
		if (!index_is_distribution_name(entry->d_name) ||
		    !targeted(request, by_filename, entry->d_name))
			continue;
		*names = ga_reallocarray(*names, count + 1, sizeof(**names));
		(*names)[count++] = ga_strdup(entry->d_name);
	}
	closedir(dir);
	return count;
}

/* Every targeted file of the directory, under its exclusive lock. */
static enum ga_rc
apply_locked(int dir_fd, const struct index_manage_request *request, bool by_filename,
	     struct index_manage_result *result, struct ga_err *err)
{
	char **names;
	size_t count = collect_targets(dir_fd, request, by_filename, &names);
	enum ga_rc rc = GA_OK;

	for (size_t i = 0; i < count; i++) {
		struct index_file file;
		bool changed;

		if (rc != GA_OK || index_is_deleted(dir_fd, names[i]) ||
		    !index_exists_at(dir_fd, names[i]) ||
		    index_record_read(dir_fd, names[i], &file) != GA_OK) {
			ga_free(names[i]);
			continue;
		}
		rc = apply_one(dir_fd, request, &file, &changed, err);
		if (rc == GA_OK)
			add_result(result, file.filename, changed);
		index_file_clear(&file);
		ga_free(names[i]);
	}
	ga_free(names);
	return rc;
}

enum ga_rc
index_manage_apply(struct index_storage *storage, const struct index_manage_request *request,
		   struct index_manage_result *result, struct ga_err *err)
{
	char version[INDEX_VERSION_MAX + 1];
	char why[INDEX_REASON_MAX];
	enum index_dist_type type;
	bool by_filename;
	enum ga_rc rc;
	int dir_fd;

	memset(result, 0, sizeof(*result));
	if (request->reason != NULL && !index_manage_reason_valid(request->reason, why))
		return ga_err_set(err, GA_EINVAL, "%s", why);
	by_filename = index_filename_type(request->target, &type);
	if (by_filename ? !index_filename_version(request->target, request->project, version)
			: !index_version_is_valid(request->target, strlen(request->target)))
		return ga_err_set(err, GA_EINVAL, "%s is neither a version nor a file of %s",
				  by_filename ? "the filename" : "the target", request->project);
	rc = index_open_project(storage, request->project, false, &dir_fd, err);
	if (rc != GA_OK)
		return ga_err_set(err, GA_ENOTFOUND, "no such project");
	index_lock_dir(dir_fd, LOCK_EX);
	rc = apply_locked(dir_fd, request, by_filename, result, err);
	close(dir_fd);	/* releases the lock */
	if (result->count > 1)
		qsort(result->files, result->count, sizeof(*result->files), compare_names);
	if (rc == GA_OK && result->count == 0)
		return ga_err_set(err, GA_ENOTFOUND, "%s has no %s %s", request->project,
				  by_filename ? "file" : "release", request->target);
	return rc;
}

void
index_manage_result_free(struct index_manage_result *result)
{
	for (size_t i = 0; i < result->count; i++)
		ga_free(result->files[i]);
	ga_free(result->files);
	memset(result, 0, sizeof(*result));
}
