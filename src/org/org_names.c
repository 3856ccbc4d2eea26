/* org_names.c - package, project, login and token name rules; see org_names.h. */
#include "org/org_names.h"

static bool
is_separator(char c)
{
	return c == '-' || c == '_' || c == '.';
}

static bool
is_ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool
org_normalize_package(const char *name, size_t name_len, char *out, size_t out_size)
{
	size_t used = 0;

	if (out_size == 0)
		return false;
	for (size_t i = 0; i < name_len; i++) {
		char c = name[i];

		if (is_separator(c)) {
			/* A run of separators becomes one '-'. */
			while (i + 1 < name_len && is_separator(name[i + 1]))
				i++;
			c = '-';
		} else {
			/* Python's str.lower() also folds non-ASCII letters; names
			 * that reach here are valid PEP 508 names (ASCII) or request
			 * input, which must then simply not match. */
			c = ascii_lower(c);
		}
		if (used + 1 >= out_size) {
			out[0] = '\0';
			return false;
		}
		out[used++] = c;
	}
	out[used] = '\0';
	return true;
}

bool
org_is_valid_project_name(const char *name, size_t len)
{
	if (len == 0 || !is_ascii_alnum(name[0]) || !is_ascii_alnum(name[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!is_ascii_alnum(name[i]) && !is_separator(name[i]))
			return false;
	return true;
}

bool
org_is_valid_login(const char *login, size_t len)
{
	if (len == 0 || len > 39 || login[0] == '-' || login[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (login[i] == '-') {
			if (login[i + 1] == '-')
				return false;
		} else if (!is_ascii_alnum(login[i])) {
			return false;
		}
	}
	return true;
}

bool
org_is_valid_token(const char *token, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
			return false;
	return true;
}
