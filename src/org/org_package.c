/* org_package.c - repository filters and pyproject.toml names; see org_package.h. */
#include "org/org_package.h"

#include <stdio.h>
#include <string.h>

#include "org/org_names.h"
#include "toml/toml.h"
#include "util/ga_xalloc.h"

enum ga_rc
org_filters_init(struct org_filters *filters, const struct config *config, struct ga_err *err)
{
	const char *pattern = config->repo_pattern ? config->repo_pattern : ".*";
	int error_code;
	PCRE2_SIZE error_offset;

	memset(filters, 0, sizeof(*filters));
	/* Python's re.match anchors at the start only: PCRE2_ANCHORED does
	 * exactly that, and "-2$" still only matches a name ending in "-2". */
	filters->pattern = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
					 PCRE2_ANCHORED | PCRE2_UTF, &error_code, &error_offset,
					 NULL);
	if (filters->pattern == NULL) {
		PCRE2_UCHAR message[256];

		pcre2_get_error_message(error_code, message, sizeof(message));
		return ga_err_set(err, GA_EINVAL, "repo_pattern: %s at offset %zu",
				  (const char *)message, (size_t)error_offset);
	}
	filters->match_data = pcre2_match_data_create_from_pattern(filters->pattern, NULL);
	filters->include = &config->repo_include_list;
	filters->exclude = &config->repo_exclude_list;
	filters->include_forks = config->include_forks;
	return GA_OK;
}

void
org_filters_free(struct org_filters *filters)
{
	pcre2_match_data_free(filters->match_data);
	pcre2_code_free(filters->pattern);
	memset(filters, 0, sizeof(*filters));
}

bool
org_filters_accept(const struct org_filters *filters, const char *name,
		   char reason[ORG_REASON_MAX])
{
	int matched = pcre2_match(filters->pattern, (PCRE2_SPTR)name, PCRE2_ZERO_TERMINATED, 0,
				  0, filters->match_data, NULL);

	if (matched < 0) {
		snprintf(reason, ORG_REASON_MAX, "excluded by repo_pattern");
		return false;
	}
	if (filters->include->count > 0 && !config_list_contains(filters->include, name)) {
		snprintf(reason, ORG_REASON_MAX, "not in repo_include_list");
		return false;
	}
	if (config_list_contains(filters->exclude, name)) {
		snprintf(reason, ORG_REASON_MAX, "excluded by repo_exclude_list");
		return false;
	}
	return true;
}

/* table.key when table is a table, else NULL. */
static const struct toml_value *
lookup(const struct toml_value *table, const char *key)
{
	if (table == NULL || toml_value_type(table) != TOML_TABLE)
		return NULL;
	return toml_table_get(table, key);
}

static bool
name_from_document(const struct toml_document *doc, char **name, char reason[ORG_REASON_MAX])
{
	const struct toml_value *root = toml_document_root(doc);
	const struct toml_value *value = lookup(lookup(root, "project"), "name");
	const char *text;
	size_t len;

	/* PEP 621 [project].name wins over Poetry's [tool.poetry].name. */
	if (value == NULL)
		value = lookup(lookup(lookup(root, "tool"), "poetry"), "name");
	if (value == NULL) {
		snprintf(reason, ORG_REASON_MAX, "no project name");
		return false;
	}
	if (toml_value_type(value) != TOML_STRING) {
		snprintf(reason, ORG_REASON_MAX, "project name is not a string");
		return false;
	}
	text = toml_string(value, &len);
	if (!org_is_valid_project_name(text, len) || len >= ORG_PACKAGE_NAME_MAX) {
		snprintf(reason, ORG_REASON_MAX, "invalid project name");
		return false;
	}
	*name = ga_strndup(text, len);
	return true;
}

bool
org_pyproject_name(const struct org_input_repository *repository, char **name,
		   char reason[ORG_REASON_MAX])
{
	struct toml_document *doc;
	struct ga_err err;
	bool found;

	*name = NULL;
	switch (repository->pyproject_state) {
	case ORG_PYPROJECT_MISSING:
		snprintf(reason, ORG_REASON_MAX, "no pyproject.toml");
		return false;
	case ORG_PYPROJECT_BINARY:
		snprintf(reason, ORG_REASON_MAX, "pyproject.toml is a binary file");
		return false;
	case ORG_PYPROJECT_TRUNCATED:
		snprintf(reason, ORG_REASON_MAX, "pyproject.toml too large to read");
		return false;
	case ORG_PYPROJECT_UNREADABLE:
		snprintf(reason, ORG_REASON_MAX, "pyproject.toml not readable with the token");
		return false;
	case ORG_PYPROJECT_UNDETERMINED:
		snprintf(reason, ORG_REASON_MAX,
			 "GitHub could not read pyproject.toml (it could not tell text from binary)");
		return false;
	case ORG_PYPROJECT_TEXT:
		break;
	}
	ga_err_clear(&err);
	if (toml_parse(repository->pyproject_text, repository->pyproject_length, &doc, &err) !=
	    GA_OK) {
		snprintf(reason, ORG_REASON_MAX, "invalid TOML at line %d: %.100s", err.line,
			 err.message);
		return false;
	}
	found = name_from_document(doc, name, reason);
	toml_document_free(doc);
	return found;
}

/* What a pyproject.toml text declares, as org_pyproject_name reads it. */
struct declared {
	bool named;
	char *name;			/* ga_malloc'd when named */
	char reason[ORG_REASON_MAX];
	int error_line;			/* a TOML error's line, else 0 */
};

static void
declare(const char *text, size_t len, struct declared *out)
{
	struct org_input_repository repository = {
		.pyproject_state = ORG_PYPROJECT_TEXT,
		.pyproject_text = (char *)text,
		.pyproject_length = len,
	};
	struct toml_document *doc;
	struct ga_err err;

	out->error_line = 0;
	out->named = org_pyproject_name(&repository, &out->name, out->reason);
	ga_err_clear(&err);
	/* Parsed a second time for the line only when it failed: rare. */
	if (!out->named && strncmp(out->reason, "invalid TOML", 12) == 0) {
		if (toml_parse(text, len, &doc, &err) == GA_OK)
			toml_document_free(doc);
		else
			out->error_line = err.line;
	}
}

static bool
same_declaration(const struct declared *a, const struct declared *b)
{
	if (a->named != b->named)
		return false;
	return a->named ? strcmp(a->name, b->name) == 0 : strcmp(a->reason, b->reason) == 0;
}

/* A short text that should declare what original does, or NULL. */
static char *
short_text(const char *text, size_t len, const struct declared *original, size_t *short_len)
{
	char *out = NULL;
	size_t end = 0;

	/* A valid name holds letters, digits, '.', '_' and '-' only: nothing
	 * to escape in a TOML string. */
	if (original->named)
		out = ga_asprintf("[project]\nname = \"%s\"\n", original->name);
	else if (strcmp(original->reason, "no project name") == 0)
		out = ga_strdup("");
	else if (strcmp(original->reason, "project name is not a string") == 0)
		out = ga_strdup("[project]\nname = 0\n");
	else if (strcmp(original->reason, "invalid project name") == 0)
		out = ga_strdup("[project]\nname = \"\"\n");
	if (out != NULL) {
		*short_len = strlen(out);
		return out;
	}
	if (original->error_line <= 0)
		return NULL;
	/* The text up to the end of the line of the TOML error. */
	for (int line = 1; end < len && line <= original->error_line; end++)
		if (text[end] == '\n')
			line++;
	if (end > ORG_PYPROJECT_KEEP_MAX)
		return NULL;
	*short_len = end;
	return ga_strndup(text, end);
}

char *
org_pyproject_kept(const char *text, size_t len, size_t *kept_len,
		   enum org_pyproject_state *state)
{
	struct declared original, shortened;
	char *kept;

	*state = ORG_PYPROJECT_TEXT;
	*kept_len = len;
	if (len <= ORG_PYPROJECT_KEEP_MAX)
		return ga_strndup(text, len);
	declare(text, len, &original);
	kept = short_text(text, len, &original, kept_len);
	if (kept != NULL) {
		declare(kept, *kept_len, &shortened);
		if (!same_declaration(&original, &shortened)) {
			ga_free(kept);
			kept = NULL;
		}
		ga_free(shortened.name);
	}
	if (kept == NULL && original.named) {
		/* Never reached (a valid name reads back), but a name must not
		 * be lost: keep the whole text. */
		*kept_len = len;
		kept = ga_strndup(text, len);
	} else if (kept == NULL) {
		*kept_len = 0;
		*state = ORG_PYPROJECT_TRUNCATED;
	}
	ga_free(original.name);
	return kept;
}
