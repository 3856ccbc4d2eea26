/* gh_json.c - type-checked access to GitHub's JSON replies. */
#include "github/gh_internal.h"

#include <string.h>

#include "util/ga_xalloc.h"

static const char *
type_name(const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/* The member, or an error naming it when it is missing. */
static enum ga_rc
member(const json_t *parent, const char *key, json_t **out, const char *where,
       struct ga_err *err)
{
	*out = json_is_object(parent) ? json_object_get(parent, key) : NULL;
	if (*out == NULL)
		return ga_err_set(err, GA_EUPSTREAM, "malformed reply: %s.%s is missing", where,
				  key);
	return GA_OK;
}

static enum ga_rc
wrong_type(const json_t *value, const char *key, const char *expected, const char *where,
	   struct ga_err *err)
{
	return ga_err_set(err, GA_EUPSTREAM, "malformed reply: %s.%s is %s, expected %s", where,
			  key, type_name(value), expected);
}

enum ga_rc
gh_json_object(const json_t *parent, const char *key, bool nullable, json_t **out,
	       const char *where, struct ga_err *err)
{
	json_t *value;
	enum ga_rc rc = member(parent, key, &value, where, err);

	*out = NULL;
	if (rc != GA_OK)
		return rc;
	if (nullable && json_is_null(value))
		return GA_OK;
	if (!json_is_object(value))
		return wrong_type(value, key, "an object", where, err);
	*out = value;
	return GA_OK;
}

enum ga_rc
gh_json_array(const json_t *parent, const char *key, json_t **out, const char *where,
	      struct ga_err *err)
{
	json_t *value;
	enum ga_rc rc = member(parent, key, &value, where, err);

	*out = NULL;
	if (rc != GA_OK)
		return rc;
	if (!json_is_array(value))
		return wrong_type(value, key, "an array", where, err);
	*out = value;
	return GA_OK;
}

enum ga_rc
gh_json_string(const json_t *parent, const char *key, bool nullable, const char **out,
	       const char *where, struct ga_err *err)
{
	json_t *value;
	enum ga_rc rc = member(parent, key, &value, where, err);

	*out = NULL;
	if (rc != GA_OK)
		return rc;
	if (nullable && json_is_null(value))
		return GA_OK;
	if (!json_is_string(value))
		return wrong_type(value, key, "a string", where, err);
	/* Names go on as C strings: one with a NUL inside would be cut short. */
	if (strlen(json_string_value(value)) != json_string_length(value))
		return ga_err_set(err, GA_EUPSTREAM, "malformed reply: %s.%s contains a NUL byte",
				  where, key);
	*out = json_string_value(value);
	return GA_OK;
}

enum ga_rc
gh_json_bool(const json_t *parent, const char *key, bool *out, const char *where,
	     struct ga_err *err)
{
	json_t *value;
	enum ga_rc rc = member(parent, key, &value, where, err);

	*out = false;
	if (rc != GA_OK)
		return rc;
	if (!json_is_boolean(value))
		return wrong_type(value, key, "a boolean", where, err);
	*out = json_is_true(value);
	return GA_OK;
}

enum ga_rc
gh_json_integer(const json_t *parent, const char *key, bool nullable, long long *out,
		const char *where, struct ga_err *err)
{
	json_t *value;
	enum ga_rc rc = member(parent, key, &value, where, err);

	*out = 0;
	if (rc != GA_OK)
		return rc;
	if (nullable && json_is_null(value))
		return GA_OK;
	if (!json_is_integer(value))
		return wrong_type(value, key, "an integer", where, err);
	*out = (long long)json_integer_value(value);
	return GA_OK;
}

enum ga_rc
gh_json_parse(const char *text, size_t len, json_t **out, const char *what,
	      struct ga_err *err)
{
	json_error_t error;

	/* NUL inside strings is allowed so that a pyproject.toml holding one
	 * cannot make the whole page unreadable; gh_json_string rejects it in
	 * names. */
	*out = json_loadb(text != NULL ? text : "", len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
			  &error);
	if (*out == NULL)
		return ga_err_set(err, GA_EUPSTREAM,
				  "%s: malformed JSON reply at line %d, column %d: %s", what,
				  error.line, error.column, error.text);
	return GA_OK;
}

static int
dump_to_buf(const char *data, size_t size, void *context)
{
	return ga_buf_append(context, data, size) ? 0 : -1;
}

char *
gh_json_dump(const json_t *value)
{
	struct ga_buf out;

	ga_buf_init(&out, 0);
	json_dump_callback(value, dump_to_buf, &out, JSON_COMPACT);
	return ga_buf_steal(&out);
}
