/* index_filename.c - wheel and sdist filenames; see index_filename.h. */
#include "index/index_filename.h"

#include <stdio.h>
#include <string.h>

#include "index/index_version.h"

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_filename_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '!';
}

/* A wheel component: one or more of [A-Za-z0-9._] (no '-' by construction). */
static bool
is_wheel_component(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_')
			return false;
	return true;
}

static bool
ends_with(const char *s, size_t len, const char *suffix)
{
	size_t suffix_len = strlen(suffix);

	return len >= suffix_len && memcmp(s + len - suffix_len, suffix, suffix_len) == 0;
}

bool
index_filename_is_safe(const char *filename, char reason[INDEX_REASON_MAX])
{
	size_t len = strnlen(filename, INDEX_FILENAME_MAX + 1);

	if (len == 0) {
		snprintf(reason, INDEX_REASON_MAX, "empty filename");
		return false;
	}
	if (len > INDEX_FILENAME_MAX) {
		snprintf(reason, INDEX_REASON_MAX, "filename longer than %d characters",
			 INDEX_FILENAME_MAX);
		return false;
	}
	if (!is_alnum(filename[0])) {
		/* Rules out ".", "..", hidden names and "/abs" at once. */
		snprintf(reason, INDEX_REASON_MAX,
			 "filename must start with a letter or a digit");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_filename_char(filename[i])) {
			/* The name itself is not echoed: it may hold control
			 * characters or a path. */
			snprintf(reason, INDEX_REASON_MAX,
				 "filename may contain only letters, digits and . _ + ! -");
			return false;
		}
	}
	return true;
}

/* Length of the name without its extension, or 0 when not a distribution. */
static size_t
stem_length(const char *filename, size_t len, enum index_dist_type *type)
{
	if (ends_with(filename, len, ".whl")) {
		*type = INDEX_DIST_WHEEL;
		return len - 4;
	}
	if (ends_with(filename, len, ".tar.gz")) {
		*type = INDEX_DIST_SDIST;
		return len - 7;
	}
	if (ends_with(filename, len, ".zip")) {
		*type = INDEX_DIST_SDIST;
		return len - 4;
	}
	return 0;
}

bool
index_filename_type(const char *filename, enum index_dist_type *type)
{
	return stem_length(filename, strlen(filename), type) > 0;
}

/* The name and version parts of a wheel filename. */
struct wheel_parts {
	const char *name;
	size_t name_len;
	char version[INDEX_VERSION_MAX + 1];	/* '_' turned back into '-' */
	size_t version_len;
};

/*
 * A compressed tag set (PEP 425): tags separated by '.', each non-empty, of
 * [A-Za-z0-9_]; a Python tag starts with a letter ("py3", "cp312").
 */
static bool
is_tag_set(const char *s, size_t len, bool python)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!is_alnum(s[i]) && s[i] != '_')
				return false;
			continue;
		}
		if (i == start)
			return false;	/* "", "py2..py3", a leading or trailing '.' */
		if (python && !((s[start] >= 'a' && s[start] <= 'z') ||
				(s[start] >= 'A' && s[start] <= 'Z')))
			return false;
		start = i + 1;
	}
	return true;
}

/*
 * Split a wheel stem into 5 or 6 '-'-separated parts and check each: the
 * name a PEP 508 name without '-', the version PEP 440 once '_' is read as
 * '-' (PEP 427 escapes it that way), the build tag starting with a digit,
 * and the python, abi and platform tags well-formed tag sets.
 */
static bool
parse_wheel(const char *stem, size_t stem_len, struct wheel_parts *parts,
	    char reason[INDEX_REASON_MAX])
{
	const char *part[7];
	size_t part_len[7];
	size_t count = 0;
	size_t start = 0;

	for (size_t i = 0; i <= stem_len; i++) {
		if (i < stem_len && stem[i] != '-')
			continue;
		if (count == 7)
			break;
		part[count] = stem + start;
		part_len[count] = i - start;
		count++;
		start = i + 1;
	}
	if (count != 5 && count != 6) {
		snprintf(reason, INDEX_REASON_MAX,
			 "invalid wheel filename %.*s.whl: expected "
			 "name-version(-build)-python-abi-platform.whl",
			 (int)stem_len, stem);
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		/* The version (part 1) is checked as PEP 440 below. */
		bool tag = i >= count - 3;

		if ((i != 1 && !is_wheel_component(part[i], part_len[i])) ||
		    (i == 0 && !org_is_valid_project_name(part[0], part_len[0])) ||
		    (count == 6 && i == 2 && (part[2][0] < '0' || part[2][0] > '9')) ||
		    (tag && !is_tag_set(part[i], part_len[i], i == count - 3))) {
			snprintf(reason, INDEX_REASON_MAX,
				 "invalid wheel filename %.*s.whl: bad part '%.*s'",
				 (int)stem_len, stem, (int)part_len[i], part[i]);
			return false;
		}
	}
	parts->name = part[0];
	parts->name_len = part_len[0];
	parts->version_len = part_len[1];
	if (parts->version_len > INDEX_VERSION_MAX)
		parts->version_len = 0;	/* reported as invalid below */
	for (size_t i = 0; i < parts->version_len; i++)
		parts->version[i] = part[1][i] == '_' ? '-' : part[1][i];
	parts->version[parts->version_len] = '\0';
	if (!index_version_is_valid(parts->version, parts->version_len)) {
		snprintf(reason, INDEX_REASON_MAX,
			 "invalid wheel filename %.*s.whl: '%.*s' is not a PEP 440 version",
			 (int)stem_len, stem, (int)part_len[1], part[1]);
		return false;
	}
	return true;
}

static bool
same_project(const char *a, size_t a_len, const char *b_key)
{
	char a_key[ORG_PACKAGE_NAME_MAX];

	return org_is_valid_project_name(a, a_len) &&
	       org_normalize_package(a, a_len, a_key, sizeof(a_key)) &&
	       strcmp(a_key, b_key) == 0;
}

static bool
check_wheel(const char *filename, size_t stem_len, const char *project_key, const char *version,
	    char reason[INDEX_REASON_MAX])
{
	struct wheel_parts parts;

	if (!parse_wheel(filename, stem_len, &parts, reason))
		return false;
	if (!same_project(parts.name, parts.name_len, project_key)) {
		snprintf(reason, INDEX_REASON_MAX, "filename %s is not a file of project %s",
			 filename, project_key);
		return false;
	}
	if (!index_version_equal(parts.version, parts.version_len, version, strlen(version))) {
		snprintf(reason, INDEX_REASON_MAX, "filename %s is not a file of version %s",
			 filename, version);
		return false;
	}
	return true;
}

/* Any split of "name-version" that names project_key at version. */
static bool
check_sdist(const char *filename, size_t stem_len, const char *project_key, const char *version,
	    char reason[INDEX_REASON_MAX])
{
	bool name_matched = false;

	for (size_t i = 1; i + 1 < stem_len; i++) {
		if (filename[i] != '-' || !same_project(filename, i, project_key) ||
		    !index_version_is_valid(filename + i + 1, stem_len - i - 1))
			continue;
		name_matched = true;
		if (index_version_equal(filename + i + 1, stem_len - i - 1, version,
					strlen(version)))
			return true;
	}
	if (name_matched)
		snprintf(reason, INDEX_REASON_MAX, "filename %s is not a file of version %s",
			 filename, version);
	else
		snprintf(reason, INDEX_REASON_MAX,
			 "filename %s is not an sdist of project %s "
			 "(expected {name}-{version}.tar.gz)",
			 filename, project_key);
	return false;
}

/*
 * PEP 625: {name}-{version}.tar.gz with the name normalised as a wheel's
 * (lower case, '_' for every run of "-_.") and the version in its PEP 440
 * normal form.
 */
static bool
check_pep625(const char *filename, size_t stem_len, const char *project_key, const char *version,
	     char reason[INDEX_REASON_MAX])
{
	char expected[INDEX_FILENAME_MAX + 1];
	char normal[INDEX_VERSION_NORMAL_MAX];
	char escaped[ORG_PACKAGE_NAME_MAX];
	size_t i;

	for (i = 0; project_key[i] != '\0'; i++)
		escaped[i] = project_key[i] == '-' ? '_' : project_key[i];
	escaped[i] = '\0';
	if (!index_version_normalize(version, strlen(version), false, normal) ||
	    snprintf(expected, sizeof(expected), "%s-%s.tar.gz", escaped, normal) >=
		    (int)sizeof(expected))
		expected[0] = '\0';
	if (strcmp(filename, expected) == 0)
		return true;
	/* The same release under another spelling: say what to send. */
	if (stem_len > 0 && check_sdist(filename, stem_len, project_key, version, reason))
		snprintf(reason, INDEX_REASON_MAX,
			 "%s is not a PEP 625 sdist name: this index accepts %s", filename,
			 expected[0] ? expected : "{name}-{version}.tar.gz");
	return false;
}

bool
index_filename_check(const char *filename, const char *project, const char *version,
		     bool allow_legacy_sdist, enum index_dist_type *type,
		     char reason[INDEX_REASON_MAX])
{
	char project_key[ORG_PACKAGE_NAME_MAX];
	size_t len;
	size_t stem_len;

	if (!index_filename_is_safe(filename, reason))
		return false;
	len = strlen(filename);
	stem_len = stem_length(filename, len, type);
	if (stem_len == 0) {
		snprintf(reason, INDEX_REASON_MAX,
			 "%s is neither a wheel (.whl) nor an sdist (.tar.gz, .zip)", filename);
		return false;
	}
	if (!org_is_valid_project_name(project, strlen(project)) ||
	    !org_normalize_package(project, strlen(project), project_key, sizeof(project_key))) {
		snprintf(reason, INDEX_REASON_MAX, "invalid project name");
		return false;
	}
	if (!index_version_is_valid(version, strlen(version))) {
		snprintf(reason, INDEX_REASON_MAX, "invalid version (not PEP 440)");
		return false;
	}
	if (*type == INDEX_DIST_WHEEL)
		return check_wheel(filename, stem_len, project_key, version, reason);
	if (allow_legacy_sdist)
		return check_sdist(filename, stem_len, project_key, version, reason);
	if (!ends_with(filename, len, ".tar.gz")) {
		snprintf(reason, INDEX_REASON_MAX,
			 "%s: this index accepts sdists as .tar.gz only (PEP 625)", filename);
		return false;
	}
	return check_pep625(filename, stem_len, project_key, version, reason);
}

bool
index_filename_version(const char *filename, const char *project_key,
		       char out[INDEX_VERSION_MAX + 1])
{
	char reason[INDEX_REASON_MAX];
	enum index_dist_type type;
	struct wheel_parts parts;
	size_t stem_len = index_filename_is_safe(filename, reason)
				  ? stem_length(filename, strlen(filename), &type)
				  : 0;

	out[0] = '\0';
	if (stem_len == 0)
		return false;
	if (type == INDEX_DIST_WHEEL) {
		if (!parse_wheel(filename, stem_len, &parts, reason) ||
		    !same_project(parts.name, parts.name_len, project_key))
			return false;
		memcpy(out, parts.version, parts.version_len + 1);
		return true;
	}
	for (size_t i = 1; i + 1 < stem_len; i++) {
		size_t len = stem_len - i - 1;

		if (filename[i] == '-' && same_project(filename, i, project_key) &&
		    len <= INDEX_VERSION_MAX && index_version_is_valid(filename + i + 1, len)) {
			memcpy(out, filename + i + 1, len);
			out[len] = '\0';
			return true;
		}
	}
	return false;
}

/* Add key to out unless present; false when out is full. */
static bool
add_candidate(struct index_filename_projects *out, const char *name, size_t len)
{
	char key[ORG_PACKAGE_NAME_MAX];

	if (!org_normalize_package(name, len, key, sizeof(key)))
		return false;
	for (size_t i = 0; i < out->count; i++)
		if (strcmp(out->names[i], key) == 0)
			return true;
	if (out->count == INDEX_CANDIDATES_MAX)
		return false;
	memcpy(out->names[out->count++], key, strlen(key) + 1);
	return true;
}

bool
index_filename_projects(const char *filename, struct index_filename_projects *out)
{
	char reason[INDEX_REASON_MAX];
	enum index_dist_type type;
	size_t stem_len;

	out->count = 0;
	if (!index_filename_is_safe(filename, reason))
		return false;
	stem_len = stem_length(filename, strlen(filename), &type);
	if (stem_len == 0)
		return false;
	if (type == INDEX_DIST_WHEEL) {
		struct wheel_parts parts;

		return parse_wheel(filename, stem_len, &parts, reason) &&
		       add_candidate(out, parts.name, parts.name_len);
	}
	for (size_t i = 1; i + 1 < stem_len; i++) {
		if (filename[i] != '-' || !org_is_valid_project_name(filename, i) ||
		    !index_version_is_valid(filename + i + 1, stem_len - i - 1))
			continue;
		if (!add_candidate(out, filename, i)) {
			out->count = 0;
			return false;
		}
	}
	return out->count > 0;
}
