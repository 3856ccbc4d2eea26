/* index_path.c - request paths of a package index; see index_path.h. */
#include "index/index_path.h"

#include <stdio.h>
#include <string.h>

#include "util/ga_secret.h"

bool
index_path_decode(const char *path, size_t len, char *out, size_t out_size)
{
	size_t used = 0;
	size_t segment_start = 1;

	if (out_size == 0)
		return false;
	out[0] = '\0';
	if (len == 0 || path[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = path[i];
		bool literal_slash = c == '/';

		if (c == '%') {
			int high = i + 2 < len ? ga_hex_value(path[i + 1]) : -1;
			int low = i + 2 < len ? ga_hex_value(path[i + 2]) : -1;

			if (high < 0 || low < 0)
				return false;
			c = (char)(high * 16 + low);
			i += 2;
			if (c == '/')
				return false;	/* an encoded '/' is not a separator */
		}
		if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e || c == '\\')
			return false;
		if (used + 1 >= out_size)
			return false;
		if (literal_slash && used > 0) {
			/* The segment that ends here: not empty, not . or .. */
			size_t segment_len = used - segment_start;

			if (segment_len == 0 ||
			    (segment_len == 1 && out[segment_start] == '.') ||
			    (segment_len == 2 && memcmp(out + segment_start, "..", 2) == 0))
				return false;
			segment_start = used + 1;
		}
		out[used++] = c;
	}
	out[used] = '\0';
	/* The last segment (after the last '/'). */
	if (strcmp(out + segment_start, ".") == 0 || strcmp(out + segment_start, "..") == 0)
		return false;
	return true;
}

/* Segment i counted from the end (0: the last non-empty one) of a decoded
 * path, as [start, start + len); false when there are not that many. */
static bool
segment_from_end(const char *path, size_t path_len, int index, const char **start, size_t *len)
{
	size_t end = path_len;

	if (end > 0 && path[end - 1] == '/')
		end--;
	for (;;) {
		size_t begin = end;

		while (begin > 0 && path[begin - 1] != '/')
			begin--;
		if (begin == end)
			return false;
		if (index-- == 0) {
			*start = path + begin;
			*len = end - begin;
			return true;
		}
		if (begin == 0)
			return false;
		end = begin - 1;
	}
}

static bool
segment_is(const char *start, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(start, word, len) == 0;
}

/* A distribution filename, possibly with a .metadata or .asc suffix. */
static bool
classify_file(const char *segment, size_t len, struct index_path *out)
{
	static const char *const suffixes[] = { ".metadata", ".asc" };
	char name[INDEX_FILENAME_MAX + 1];

	if (len > INDEX_FILENAME_MAX)
		return false;
	memcpy(name, segment, len);
	name[len] = '\0';
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t suffix_len = strlen(suffixes[i]);

		if (len > suffix_len && strcmp(name + len - suffix_len, suffixes[i]) == 0) {
			name[len - suffix_len] = '\0';
			break;
		}
	}
	if (!index_filename_projects(name, &out->projects))
		return false;
	memcpy(out->filename, segment, len);
	out->filename[len] = '\0';
	return true;
}

enum index_path_kind
index_path_classify(const char *target, struct index_path *out)
{
	char path[INDEX_PATH_MAX + 1];
	size_t target_len = strcspn(target, "?#");
	const char *last;
	const char *parent;
	size_t last_len;
	size_t parent_len;
	size_t path_len;
	bool directory;

	memset(out, 0, sizeof(*out));
	out->kind = INDEX_PATH_INVALID;
	if (target_len > INDEX_PATH_MAX || !index_path_decode(target, target_len, path, sizeof(path)))
		return out->kind;
	path_len = strlen(path);
	out->kind = INDEX_PATH_OTHER;
	if (!segment_from_end(path, path_len, 0, &last, &last_len))
		return out->kind;	/* "/" */
	directory = path[path_len - 1] == '/';
	if (!directory && segment_is(last, last_len, "index.html")) {
		/* ".../simple/<name>/index.html" is the directory itself. */
		path_len = (size_t)(last - path);
		directory = true;
		if (!segment_from_end(path, path_len, 0, &last, &last_len))
			return out->kind;
	}
	if (!directory && classify_file(last, last_len, out)) {
		out->kind = INDEX_PATH_FILE;
		return out->kind;
	}
	if (segment_is(last, last_len, "simple")) {
		out->kind = directory ? INDEX_PATH_ROOT : INDEX_PATH_OTHER;
		return out->kind;
	}
	if (segment_from_end(path, path_len, 1, &parent, &parent_len) &&
	    segment_is(parent, parent_len, "simple") &&
	    org_is_valid_project_name(last, last_len) &&
	    org_normalize_package(last, last_len, out->project, sizeof(out->project)))
		out->kind = INDEX_PATH_PROJECT;
	return out->kind;
}
