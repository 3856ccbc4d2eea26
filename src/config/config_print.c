/* config_print.c - the effective configuration as INI, secrets masked; see config.h. */
#include "config/config_internal.h"

#include <stdio.h>
#include <string.h>

#include "util/ga_buf.h"

#define SECRET_MASK "********"

static const char *
choice_name(const struct config_choice *choices, int value)
{
	for (const struct config_choice *choice = choices; choice->name != NULL; choice++)
		if (choice->value == value)
			return choice->name;
	return "";	/* unset, e.g. base_permission */
}

static void
format_list(const struct config_list *list, struct ga_buf *out)
{
	for (size_t i = 0; i < list->count; i++)
		ga_buf_printf(out, "%s%s", i == 0 ? "" : ", ", list->items[i]);
}

/* Where the token came from, as a comment after its masked value. */
static const char *
token_origin(const struct config *config)
{
	switch (config->token_source) {
	case CONFIG_TOKEN_FILE:
		return "from token_file";
	case CONFIG_TOKEN_ENVIRONMENT:
		return "from $GHACCESS_GITHUB_TOKEN";
	case CONFIG_TOKEN_SETTING:
	case CONFIG_TOKEN_NONE:
		break;
	}
	return NULL;
}

/* The value of key as the file would spell it; empty when unset. */
static void
format_value(const struct config *config, const struct config_key *key, struct ga_buf *out)
{
	const void *field = config_key_field_const(config, key);
	char bytes[32];

	switch (key->type) {
	case CONFIG_VALUE_STRING:
	case CONFIG_VALUE_PATH:
		if (*(char *const *)field != NULL)
			ga_buf_append_str(out, *(char *const *)field);
		break;
	case CONFIG_VALUE_SECRET:
		if (*(char *const *)field != NULL)
			ga_buf_append_str(out, SECRET_MASK);
		break;
	case CONFIG_VALUE_LIST:
		format_list(field, out);
		break;
	case CONFIG_VALUE_INT:
		ga_buf_printf(out, "%d", *(const int *)field);
		break;
	case CONFIG_VALUE_LLONG:
		/* 0 is "unset" for keys whose range excludes it (app_installation_id). */
		if (*(const long long *)field != 0 || key->min <= 0)
			ga_buf_printf(out, "%lld", *(const long long *)field);
		break;
	case CONFIG_VALUE_COUNT:
		ga_buf_printf(out, "%zu", *(const size_t *)field);
		break;
	case CONFIG_VALUE_BYTES:
		config_format_bytes(*(const long long *)field, bytes);
		ga_buf_append_str(out, bytes);
		break;
	case CONFIG_VALUE_FRACTION:
		config_format_fraction(*(const int *)field, bytes);
		ga_buf_append_str(out, bytes);
		break;
	case CONFIG_VALUE_BOOL:
		ga_buf_append_str(out, *(const bool *)field ? "true" : "false");
		break;
	case CONFIG_VALUE_CHOICE:
		ga_buf_append_str(out, choice_name(key->choices, *(const int *)field));
		break;
	}
}

bool
config_backend_credentials_set(const struct config *config)
{
	return config->backend_user != NULL && config->backend_user[0] != '\0' &&
	       config->backend_password != NULL && config->backend_password[0] != '\0';
}

const char *
config_backend_hint(const struct config *config)
{
	if (config->server_ini)
		return "the pypicloud protocol is off (404): set auth.user and auth.password in"
		       " pypicloud's [app:main] to turn it on";
	return "the pypicloud protocol is off (404): set [server] backend_user and"
	       " backend_password_file (pypicloud's auth.user and auth.password) to turn it on";
}

void
config_print(const struct config *config, FILE *out)
{
	const char *section = NULL;
	struct ga_buf value;

	ga_buf_init(&value, 0);
	fprintf(out, "# ghaccess effective configuration%s%s (secrets masked)\n",
		config->path != NULL ? " from " : "", config->path != NULL ? config->path : "");
	for (size_t i = 0; i < config_key_count; i++) {
		const struct config_key *key = &config_keys[i];

		if (section == NULL || strcmp(section, key->section) != 0) {
			section = key->section;
			fprintf(out, "\n[%s]\n", section);
		}
		ga_buf_reset(&value);
		format_value(config, key, &value);
		fprintf(out, "%s =%s%s", key->name, value.len > 0 ? " " : "", ga_buf_cstr(&value));
		if (key->offset == offsetof(struct config, token) && token_origin(config) != NULL)
			fprintf(out, "  ; %s", token_origin(config));
		fputc('\n', out);
	}
	ga_buf_free(&value);
}
