/* oidc_json.c - bounded JSON string copies; see oidc_json.h. */
#include "oidc/oidc_json.h"

#include <string.h>

bool
oidc_json_string(json_t *object, const char *name, char *out, size_t size)
{
	json_t *value = json_object_get(object, name);

	if (!json_is_string(value) || json_string_length(value) >= size ||
	    strlen(json_string_value(value)) != json_string_length(value))
		return false;
	memcpy(out, json_string_value(value), json_string_length(value) + 1);
	return true;
}
