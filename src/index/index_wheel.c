/* index_wheel.c - a wheel's METADATA through libzip; see index_wheel.h. */
#include "index/index_wheel.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "index/index_metadata.h"
#include "index/index_version.h"
#include "org/org_names.h"

#define DIST_INFO ".dist-info"

/* One wheel at a time: see the memory bound in index_wheel.h. */
static pthread_mutex_t wheel_lock = PTHREAD_MUTEX_INITIALIZER;

static enum index_wheel_result
refuse(enum index_wheel_result result, char reason[INDEX_REASON_MAX], const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum index_wheel_result
refuse(enum index_wheel_result result, char reason[INDEX_REASON_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, INDEX_REASON_MAX, fmt, ap);
	va_end(ap);
	return result;
}

/* ----------------------------------------------------------------------
 * A libzip source over a descriptor that stops after a budget of bytes
 */

struct budget_source {
	int fd;
	long long size;		/* of the file */
	long long position;
	long long read;		/* bytes read so far */
	long long budget;	/* bytes that may be read */
	bool over;		/* a read would have passed the budget */
	zip_error_t error;
};

static zip_int64_t
source_read(struct budget_source *source, void *data, zip_uint64_t len)
{
	ssize_t got;

	if ((long long)len > source->budget - source->read) {
		source->over = true;
		zip_error_set(&source->error, ZIP_ER_READ, EFBIG);
		return -1;
	}
	do {
		got = pread(source->fd, data, len, source->position);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		zip_error_set(&source->error, ZIP_ER_READ, errno);
		return -1;
	}
	source->position += got;
	source->read += got;
	return got;
}

static zip_int64_t
source_callback(void *userdata, void *data, zip_uint64_t len, zip_source_cmd_t command)
{
	struct budget_source *source = userdata;
	zip_int64_t offset;

	switch (command) {
	case ZIP_SOURCE_OPEN:
		source->position = 0;
		return 0;
	case ZIP_SOURCE_READ:
		return source_read(source, data, len);
	case ZIP_SOURCE_CLOSE:
	case ZIP_SOURCE_FREE:
		return 0;
	case ZIP_SOURCE_STAT: {
		zip_stat_t *stat = data;

		if (len < sizeof(*stat))
			return -1;
		zip_stat_init(stat);
		stat->size = (zip_uint64_t)source->size;
		stat->valid |= ZIP_STAT_SIZE;
		return sizeof(*stat);
	}
	case ZIP_SOURCE_ERROR:
		return zip_error_to_data(&source->error, data, len);
	case ZIP_SOURCE_SEEK:
		offset = zip_source_seek_compute_offset((zip_uint64_t)source->position,
							(zip_uint64_t)source->size, data, len,
							&source->error);
		if (offset < 0)
			return -1;
		source->position = offset;
		return 0;
	case ZIP_SOURCE_TELL:
		return source->position;
	case ZIP_SOURCE_SUPPORTS:
		return zip_source_make_command_bitmap(
			ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
			ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL,
			ZIP_SOURCE_SUPPORTS, -1);
	default:
		zip_error_set(&source->error, ZIP_ER_OPNOTSUPP, 0);
		return -1;
	}
}

/* ----------------------------------------------------------------------
 * Member names
 */

/* true when name could not escape the directory a wheel is installed in. */
static bool
member_name_is_safe(const char *name)
{
	const char *segment = name;

	if (name[0] == '\0' || name[0] == '/' || strchr(name, '\\') != NULL)
		return false;
	/* A drive ("C:") or a stream in the first component. */
	if (memchr(name, ':', strcspn(name, "/")) != NULL)
		return false;
	while (*segment != '\0') {
		size_t len = strcspn(segment, "/");

		if (len == 2 && segment[0] == '.' && segment[1] == '.')
			return false;
		segment += len;
		if (*segment == '/')
			segment++;
	}
	return true;
}

/* The printable start of a name, for a reason ("?" for anything else). */
static void
shown_name(const char *name, char out[64])
{
	size_t i;

	for (i = 0; i < 60 && name[i] != '\0'; i++)
		out[i] = (name[i] >= 0x20 && name[i] < 0x7f && name[i] != '"') ? name[i] : '?';
	out[i] = '\0';
	if (name[i] != '\0')
		snprintf(out + i, 64 - i, "...");
}

/*
 * Check every member name and find the one top-level .dist-info directory
 * (pip's rule: the first component of every name), into dist_info.
 */
static enum index_wheel_result
find_dist_info(zip_t *archive, char dist_info[INDEX_FILENAME_MAX + 1],
	       char reason[INDEX_REASON_MAX])
{
	zip_int64_t count = zip_get_num_entries(archive, 0);
	char shown[64];

	dist_info[0] = '\0';
	for (zip_int64_t i = 0; i < count; i++) {
		const char *name = zip_get_name(archive, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
		size_t top;

		if (name == NULL)
			return refuse(INDEX_WHEEL_INVALID, reason, "unreadable member name");
		if (!member_name_is_safe(name)) {
			shown_name(name, shown);
			return refuse(INDEX_WHEEL_INVALID, reason,
				      "member \"%s\" would be installed outside the installation "
				      "directory", shown);
		}
		top = strcspn(name, "/");
		if (top < strlen(DIST_INFO) ||
		    memcmp(name + top - strlen(DIST_INFO), DIST_INFO, strlen(DIST_INFO)) != 0)
			continue;
		if (dist_info[0] != '\0' &&
		    (strlen(dist_info) != top || memcmp(dist_info, name, top) != 0))
			return refuse(INDEX_WHEEL_INVALID, reason,
				      "more than one .dist-info directory");
		if (top > INDEX_FILENAME_MAX)
			return refuse(INDEX_WHEEL_INVALID, reason, ".dist-info name too long");
		memcpy(dist_info, name, top);
		dist_info[top] = '\0';
	}
	if (dist_info[0] == '\0')
		return refuse(INDEX_WHEEL_INVALID, reason, "no .dist-info directory");
	return INDEX_WHEEL_OK;
}

/* {name}-{version}.dist-info naming project (a key) at version. */
static bool
dist_info_matches(const char *dist_info, const char *project, const char *version)
{
	size_t stem = strlen(dist_info) - strlen(DIST_INFO);
	const char *dash = memchr(dist_info, '-', stem);
	char key[ORG_PACKAGE_NAME_MAX];
	char wanted[INDEX_VERSION_MAX + 1];
	size_t name_len, version_len;

	if (dash == NULL || memchr(dash + 1, '-', stem - (size_t)(dash + 1 - dist_info)) != NULL)
		return false;
	name_len = (size_t)(dash - dist_info);
	version_len = stem - name_len - 1;
	if (version_len == 0 || version_len > INDEX_VERSION_MAX ||
	    !org_is_valid_project_name(dist_info, name_len) ||
	    !org_normalize_package(dist_info, name_len, key, sizeof(key)) ||
	    strcmp(key, project) != 0)
		return false;
	/* The version is escaped like a wheel filename's: '-' written '_'. */
	for (size_t i = 0; i < version_len; i++)
		wanted[i] = dash[1 + i] == '_' ? '-' : dash[1 + i];
	wanted[version_len] = '\0';
	return index_version_equal(wanted, version_len, version, strlen(version));
}

/* ----------------------------------------------------------------------
 * METADATA
 */

static enum index_wheel_result
read_member(zip_t *archive, zip_int64_t index, struct ga_buf *out, char reason[INDEX_REASON_MAX])
{
	char chunk[16384];
	zip_stat_t stat;
	zip_file_t *file;
	zip_int64_t got;
	enum index_wheel_result result = INDEX_WHEEL_OK;

	if (zip_stat_index(archive, (zip_uint64_t)index, 0, &stat) != 0 ||
	    (stat.valid & ZIP_STAT_SIZE) == 0)
		return refuse(INDEX_WHEEL_INVALID, reason, "METADATA cannot be read");
	if (stat.size > INDEX_METADATA_MAX)
		return refuse(INDEX_WHEEL_INVALID, reason,
			      "METADATA is larger than %d bytes", INDEX_METADATA_MAX);
	if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 &&
	    stat.encryption_method != ZIP_EM_NONE)
		return refuse(INDEX_WHEEL_INVALID, reason, "METADATA is encrypted");
	file = zip_fopen_index(archive, (zip_uint64_t)index, 0);
	if (file == NULL)
		return refuse(INDEX_WHEEL_INVALID, reason, "METADATA cannot be read: %s",
			      zip_error_strerror(zip_get_error(archive)));
	/* Whatever the declared size, never inflate past the limit. */
	while ((got = zip_fread(file, chunk, sizeof(chunk))) > 0) {
		if (!ga_buf_append(out, chunk, (size_t)got)) {
			result = refuse(INDEX_WHEEL_INVALID, reason,
					"METADATA is larger than %d bytes", INDEX_METADATA_MAX);
			break;
		}
	}
	/* zip_fread checks the CRC and the size at the end of the data. */
	if (result == INDEX_WHEEL_OK && got < 0)
		result = refuse(INDEX_WHEEL_INVALID, reason, "METADATA cannot be read: %s",
				zip_error_strerror(zip_file_get_error(file)));
	if (result == INDEX_WHEEL_OK && out->len != stat.size)
		result = refuse(INDEX_WHEEL_INVALID, reason,
				"METADATA is not the size its header declares");
	zip_fclose(file);
	return result;
}

/* The METADATA bytes must name the filename's project and version. */
static enum index_wheel_result
check_metadata(const struct ga_buf *text, const char *project, const char *version,
	       char reason[INDEX_REASON_MAX])
{
	struct index_metadata metadata;
	char key[ORG_PACKAGE_NAME_MAX];
	enum index_wheel_result result = INDEX_WHEEL_OK;

	if (!index_metadata_parse(text->data ? text->data : "", text->len, &metadata, reason))
		return INDEX_WHEEL_INVALID;
	if (!org_normalize_package(metadata.name, strlen(metadata.name), key, sizeof(key)) ||
	    strcmp(key, project) != 0)
		result = refuse(INDEX_WHEEL_INVALID, reason,
				"METADATA names the project %s, not %s", key, project);
	else if (!index_version_equal(metadata.version, strlen(metadata.version), version,
				      strlen(version)))
		result = refuse(INDEX_WHEEL_INVALID, reason,
				"METADATA says version %s, not %s", metadata.version, version);
	index_metadata_free(&metadata);
	return result;
}

static enum index_wheel_result
open_archive(struct budget_source *source, zip_t **archive, char reason[INDEX_REASON_MAX])
{
	zip_error_t error;
	zip_source_t *zip_source;

	zip_error_init(&error);
	zip_source = zip_source_function_create(source_callback, source, &error);
	if (zip_source == NULL) {
		zip_error_fini(&error);
		return refuse(INDEX_WHEEL_ERROR, reason, "cannot read the wheel");
	}
	*archive = zip_open_from_source(zip_source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
	if (*archive == NULL) {
		enum index_wheel_result result =
			source->over
				? refuse(INDEX_WHEEL_INVALID, reason,
					 "its zip directory is larger than the index reads (%d bytes)",
					 INDEX_WHEEL_DIRECTORY_MAX)
				: refuse(INDEX_WHEEL_INVALID, reason, "not a valid zip archive (%s)",
					 zip_error_strerror(&error));

		zip_source_free(zip_source);
		zip_error_fini(&error);
		return result;
	}
	zip_error_fini(&error);
	return INDEX_WHEEL_OK;
}

static enum index_wheel_result
read_locked(int fd, const char *filename, struct ga_buf *metadata, char reason[INDEX_REASON_MAX])
{
	struct budget_source source = { .fd = fd, .budget = INDEX_WHEEL_DIRECTORY_MAX };
	struct index_filename_projects projects;
	char version[INDEX_VERSION_MAX + 1];
	char dist_info[INDEX_FILENAME_MAX + 1];
	char path[INDEX_FILENAME_MAX + sizeof("/METADATA")];
	enum index_wheel_result result;
	zip_t *archive = NULL;
	zip_int64_t index;
	struct stat st;

	if (!index_filename_projects(filename, &projects) || projects.count != 1 ||
	    !index_filename_version(filename, projects.names[0], version))
		return refuse(INDEX_WHEEL_INVALID, reason, "not a wheel filename");
	if (fstat(fd, &st) != 0)
		return refuse(INDEX_WHEEL_ERROR, reason, "cannot read the wheel");
	source.size = (long long)st.st_size;
	zip_error_init(&source.error);
	result = open_archive(&source, &archive, reason);
	if (result == INDEX_WHEEL_OK)
		result = find_dist_info(archive, dist_info, reason);
	if (result == INDEX_WHEEL_OK && !dist_info_matches(dist_info, projects.names[0], version))
		result = refuse(INDEX_WHEEL_INVALID, reason,
				"its .dist-info directory is not named after %s %s",
				projects.names[0], version);
	if (result == INDEX_WHEEL_OK) {
		snprintf(path, sizeof(path), "%s/METADATA", dist_info);
		index = zip_name_locate(archive, path, ZIP_FL_ENC_RAW);
		result = index < 0 ? refuse(INDEX_WHEEL_INVALID, reason, "no %s", path)
				   : INDEX_WHEEL_OK;
	}
	if (result == INDEX_WHEEL_OK) {
		/* Reading the member itself is bounded by the inflated size. */
		source.budget = source.size;
		source.read = 0;
		result = read_member(archive, index, metadata, reason);
	}
	if (result == INDEX_WHEEL_OK)
		result = check_metadata(metadata, projects.names[0], version, reason);
	if (archive != NULL)
		zip_discard(archive);
	zip_error_fini(&source.error);
	return result;
}

enum index_wheel_result
index_wheel_metadata(int fd, const char *filename, struct ga_buf *metadata,
		     char reason[INDEX_REASON_MAX])
{
	enum index_wheel_result result;

	reason[0] = '\0';
	ga_buf_free(metadata);
	ga_buf_init(metadata, INDEX_METADATA_MAX);
	pthread_mutex_lock(&wheel_lock);
	result = read_locked(fd, filename, metadata, reason);
	pthread_mutex_unlock(&wheel_lock);
	if (result != INDEX_WHEEL_OK) {
		ga_buf_free(metadata);
		ga_buf_init(metadata, INDEX_METADATA_MAX);
	}
	return result;
}
