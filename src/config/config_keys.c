/* config_keys.c - the table of configuration keys and how each is stored; see config_internal.h. */
#include "config/config_internal.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* Choice fields are enums written through an int: make sure they are ints. */
_Static_assert(sizeof(enum config_cache_backend) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_group_name) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_unclaimed) == sizeof(int), "enum size");

static const struct config_choice group_name_choices[] = {
	{ "slug", CONFIG_GROUP_SLUG },
	{ "name", CONFIG_GROUP_NAME },
	{ NULL, 0 },
};

static const struct config_choice permission_choices[] = {
	{ "none", CONFIG_PERMISSION_NONE },
	{ "read", CONFIG_PERMISSION_READ },
	{ "write", CONFIG_PERMISSION_WRITE },
	{ "admin", CONFIG_PERMISSION_ADMIN },
	{ NULL, 0 },
};

/* "memcached" is accepted because pypicloud's own settings spell it so. */
static const struct config_choice cache_backend_choices[] = {
	{ "memory", CONFIG_CACHE_MEMORY },
	{ "memcache", CONFIG_CACHE_MEMCACHE },
	{ "memcached", CONFIG_CACHE_MEMCACHE },
	{ NULL, 0 },
};

static const struct config_choice unclaimed_choices[] = {
	{ "owners", CONFIG_UNCLAIMED_OWNERS },
	{ "members", CONFIG_UNCLAIMED_MEMBERS },
	{ NULL, 0 },
};

static const struct config_choice log_level_choices[] = {
	{ "debug", GA_LOG_DEBUG },
	{ "info", GA_LOG_INFO },
	{ "warn", GA_LOG_WARN },
	{ "warning", GA_LOG_WARN },
	{ "error", GA_LOG_ERROR },
	{ NULL, 0 },
};

static const struct config_choice log_format_choices[] = {
	{ "logfmt", GA_LOG_LOGFMT },
	{ "json", GA_LOG_JSON },
	{ NULL, 0 },
};

#define FIELD(name) offsetof(struct config, name)
#define ONE_DAY 86400
#define ONE_TIB (1024LL * 1024 * 1024 * 1024)
#define ONE_GIB (1024LL * 1024 * 1024)

const char *const config_sections[] = {
	"github", "cache", "server", "index", "webhook", "web", "trusted_publishing", "log", NULL,
};

/* Printing and the documentation follow this order. */
const struct config_key config_keys[] = {
	/* section, name, seed name, type, field, default, min, max, choices, check */
	{ "github", "organization", "organization", CONFIG_VALUE_STRING, FIELD(organization),
	  NULL, 0, 0, NULL, config_check_organization },
	{ "github", "token", "token", CONFIG_VALUE_SECRET, FIELD(token),
	  NULL, 0, 0, NULL, NULL },
	{ "github", "token_file", NULL, CONFIG_VALUE_PATH, FIELD(token_file),
	  NULL, 0, 0, NULL, NULL },
	{ "github", "api_url", NULL, CONFIG_VALUE_STRING, FIELD(api_url),
	  "https://api.github.com", 0, 0, NULL, config_check_url },
	{ "github", "graphql_url", NULL, CONFIG_VALUE_STRING, FIELD(graphql_url),
	  "https://api.github.com/graphql", 0, 0, NULL, config_check_url },
	{ "github", "repo_pattern", "repo_pattern", CONFIG_VALUE_STRING, FIELD(repo_pattern),
	  ".*", 0, 0, NULL, config_check_regex },
	{ "github", "repo_include_list", "repo_include_list", CONFIG_VALUE_LIST,
	  FIELD(repo_include_list), NULL, 0, 0, NULL, NULL },
	{ "github", "repo_exclude_list", "repo_exclude_list", CONFIG_VALUE_LIST,
	  FIELD(repo_exclude_list), NULL, 0, 0, NULL, NULL },
	{ "github", "group_name", NULL, CONFIG_VALUE_CHOICE, FIELD(group_name),
	  "slug", 0, 0, group_name_choices, NULL },
	{ "github", "base_permission", NULL, CONFIG_VALUE_CHOICE, FIELD(base_permission),
	  NULL, 0, 0, permission_choices, NULL },
	{ "github", "include_forks", NULL, CONFIG_VALUE_BOOL, FIELD(include_forks),
	  "true", 0, 0, NULL, NULL },
	{ "github", "app_client_id", NULL, CONFIG_VALUE_STRING, FIELD(app_client_id),
	  NULL, 0, 0, NULL, NULL },
	{ "github", "app_private_key_file", NULL, CONFIG_VALUE_PATH, FIELD(app_private_key_file),
	  NULL, 0, 0, NULL, NULL },
	{ "github", "app_installation_id", NULL, CONFIG_VALUE_LLONG, FIELD(app_installation_id),
	  NULL, 1, LLONG_MAX, NULL, NULL },
	{ "github", "timeout", NULL, CONFIG_VALUE_INT, FIELD(http_timeout),
	  "30", 1, 600, NULL, NULL },
	{ "github", "connect_timeout", NULL, CONFIG_VALUE_INT, FIELD(connect_timeout),
	  "10", 1, 600, NULL, NULL },
	{ "github", "max_token_checks", NULL, CONFIG_VALUE_INT, FIELD(max_token_checks),
	  "16", 1, 1024, NULL, NULL },
	{ "github", "max_token_checks_per_login", NULL, CONFIG_VALUE_INT,
	  FIELD(max_token_checks_per_login), "2", 1, 1024, NULL, NULL },
	{ "github", "verify_token_org_access", NULL, CONFIG_VALUE_BOOL,
	  FIELD(verify_token_org_access), "false", 0, 0, NULL, NULL },
	{ "github", "budget_share", NULL, CONFIG_VALUE_FRACTION, FIELD(budget_share),
	  "0.25", 10, 1000, NULL, NULL },

	{ "cache", "backend", "cache.backend", CONFIG_VALUE_CHOICE, FIELD(cache_backend),
	  "memory", 0, 0, cache_backend_choices, NULL },
	{ "cache", "expiration", "cache.expiration", CONFIG_VALUE_INT, FIELD(expiration),
	  "300", 1, ONE_DAY, NULL, NULL },
	{ "cache", "negative_ttl", NULL, CONFIG_VALUE_INT, FIELD(negative_ttl),
	  "30", 0, 3600, NULL, NULL },
	{ "cache", "max_stale", NULL, CONFIG_VALUE_INT, FIELD(max_stale),
	  "3600", 1, 7 * ONE_DAY, NULL, NULL },
	{ "cache", "poll_interval", NULL, CONFIG_VALUE_INT, FIELD(poll_interval),
	  "60", 0, ONE_DAY, NULL, NULL },
	{ "cache", "change_poll_interval_ms", NULL, CONFIG_VALUE_INT,
	  FIELD(change_poll_interval_ms), "250", 50, 10000, NULL, NULL },
	{ "cache", "memcache.url", "cache.memcache.url", CONFIG_VALUE_STRING, FIELD(memcache_url),
	  "127.0.0.1:11211", 0, 0, NULL, config_check_memcache_url },
	{ "cache", "secret_file", NULL, CONFIG_VALUE_PATH, FIELD(secret_file),
	  NULL, 0, 0, NULL, NULL },
	{ "cache", "token_cache_entries", NULL, CONFIG_VALUE_COUNT, FIELD(token_cache_entries),
	  "100000", 1, 100000000, NULL, NULL },

	{ "server", "listen", NULL, CONFIG_VALUE_STRING, FIELD(listen),
	  "127.0.0.1:8081", 0, 0, NULL, config_check_listen },
	{ "server", "backend_user", NULL, CONFIG_VALUE_STRING, FIELD(backend_user),
	  NULL, 0, 0, NULL, config_check_user },
	{ "server", "backend_password", NULL, CONFIG_VALUE_SECRET, FIELD(backend_password),
	  NULL, 0, 0, NULL, NULL },
	{ "server", "backend_password_file", NULL, CONFIG_VALUE_PATH,
	  FIELD(backend_password_file), NULL, 0, 0, NULL, NULL },
	{ "server", "threads", NULL, CONFIG_VALUE_INT, FIELD(threads),
	  "0", 0, 256, NULL, NULL },
	{ "server", "realm", NULL, CONFIG_VALUE_STRING, FIELD(realm),
	  "ghaccess", 0, 0, NULL, config_check_realm },
	{ "server", "header_timeout", NULL, CONFIG_VALUE_INT, FIELD(header_timeout),
	  "10", 1, 3600, NULL, NULL },
	{ "server", "max_connections_per_ip", NULL, CONFIG_VALUE_INT,
	  FIELD(max_connections_per_ip), "128", 0, 100000, NULL, NULL },

	{ "index", "storage_dir", NULL, CONFIG_VALUE_STRING, FIELD(index_storage_dir),
	  NULL, 0, 0, NULL, NULL },
	{ "index", "unclaimed", NULL, CONFIG_VALUE_CHOICE, FIELD(index_unclaimed),
	  "owners", 0, 0, unclaimed_choices, NULL },
	{ "index", "max_upload_size", NULL, CONFIG_VALUE_BYTES, FIELD(index_max_upload_size),
	  "100M", 1, ONE_TIB, NULL, NULL },
	{ "index", "allow_overwrite", NULL, CONFIG_VALUE_BOOL, FIELD(index_allow_overwrite),
	  "false", 0, 0, NULL, NULL },
	{ "index", "allow_delete", NULL, CONFIG_VALUE_BOOL, FIELD(index_allow_delete),
	  "false", 0, 0, NULL, NULL },
	{ "index", "allow_legacy_sdist", NULL, CONFIG_VALUE_BOOL,
	  FIELD(index_allow_legacy_sdist), "false", 0, 0, NULL, NULL },
	{ "index", "fallback_url", NULL, CONFIG_VALUE_STRING, FIELD(index_fallback_url),
	  NULL, 0, 0, NULL, config_check_url },
	{ "index", "max_concurrent_uploads", NULL, CONFIG_VALUE_INT,
	  FIELD(index_max_concurrent_uploads), "16", 1, 1024, NULL, NULL },
	{ "index", "max_concurrent_uploads_per_user", NULL, CONFIG_VALUE_INT,
	  FIELD(index_max_concurrent_uploads_per_user), "4", 1, 1024, NULL, NULL },
	{ "index", "max_upload_disk", NULL, CONFIG_VALUE_BYTES, FIELD(index_max_upload_disk),
	  "1G", 1, ONE_TIB, NULL, NULL },

	{ "webhook", "secret_file", NULL, CONFIG_VALUE_PATH, FIELD(webhook_secret_file),
	  NULL, 0, 0, NULL, NULL },
	{ "webhook", "max_body", NULL, CONFIG_VALUE_BYTES, FIELD(webhook_max_body),
	  "25M", 1024, ONE_GIB, NULL, NULL },
	{ "webhook", "max_memory", NULL, CONFIG_VALUE_BYTES, FIELD(webhook_max_memory),
	  "64M", 1024, 4 * ONE_GIB, NULL, NULL },
	{ "webhook", "debounce_ms", NULL, CONFIG_VALUE_INT, FIELD(webhook_debounce_ms),
	  "500", 0, 60000, NULL, NULL },

	{ "web", "client_id", NULL, CONFIG_VALUE_STRING, FIELD(web_client_id),
	  NULL, 0, 0, NULL, config_check_client_id },
	{ "web", "client_secret_file", NULL, CONFIG_VALUE_PATH, FIELD(web_client_secret_file),
	  NULL, 0, 0, NULL, NULL },
	{ "web", "session_key_file", NULL, CONFIG_VALUE_PATH, FIELD(web_session_key_file),
	  NULL, 0, 0, NULL, NULL },
	{ "web", "url", NULL, CONFIG_VALUE_STRING, FIELD(web_url),
	  NULL, 0, 0, NULL, config_check_url },
	{ "web", "github_url", NULL, CONFIG_VALUE_STRING, FIELD(web_github_url),
	  NULL, 0, 0, NULL, config_check_url },
	{ "web", "index_url", NULL, CONFIG_VALUE_STRING, FIELD(web_index_url),
	  NULL, 0, 0, NULL, config_check_url },
	{ "web", "session_lifetime", NULL, CONFIG_VALUE_INT, FIELD(web_session_lifetime),
	  "28800", 300, 7 * ONE_DAY, NULL, NULL },
	{ "web", "cookie_secure", NULL, CONFIG_VALUE_BOOL, FIELD(web_cookie_secure),
	  "true", 0, 0, NULL, NULL },

	{ "trusted_publishing", "enabled", NULL, CONFIG_VALUE_BOOL, FIELD(tp_enabled),
	  "false", 0, 0, NULL, NULL },
	{ "trusted_publishing", "issuer", NULL, CONFIG_VALUE_STRING, FIELD(tp_issuer),
	  "https://token.actions.githubusercontent.com", 0, 0, NULL, config_check_url },
	{ "trusted_publishing", "audience", NULL, CONFIG_VALUE_STRING, FIELD(tp_audience),
	  NULL, 0, 0, NULL, config_check_audience },
	{ "trusted_publishing", "key_file", NULL, CONFIG_VALUE_PATH, FIELD(tp_key_file),
	  NULL, 0, 0, NULL, NULL },
	{ "trusted_publishing", "token_lifetime", NULL, CONFIG_VALUE_INT, FIELD(tp_token_lifetime),
	  "900", 60, 900, NULL, NULL },
	{ "trusted_publishing", "allowed_refs", NULL, CONFIG_VALUE_LIST, FIELD(tp_allowed_refs),
	  NULL, 0, 0, NULL, NULL },
	{ "trusted_publishing", "allowed_environments", NULL, CONFIG_VALUE_LIST,
	  FIELD(tp_allowed_environments), NULL, 0, 0, NULL, NULL },
	{ "trusted_publishing", "allowed_workflows", NULL, CONFIG_VALUE_LIST,
	  FIELD(tp_allowed_workflows), NULL, 0, 0, NULL, NULL },
	{ "trusted_publishing", "allowed_events", NULL, CONFIG_VALUE_LIST, FIELD(tp_allowed_events),
	  NULL, 0, 0, NULL, NULL },
	{ "trusted_publishing", "read_grants", NULL, CONFIG_VALUE_LIST, FIELD(tp_read_grants),
	  NULL, 0, 0, NULL, NULL },

	{ "log", "level", NULL, CONFIG_VALUE_CHOICE, FIELD(log_level),
	  "info", 0, 0, log_level_choices, NULL },
	{ "log", "format", NULL, CONFIG_VALUE_CHOICE, FIELD(log_format),
	  "logfmt", 0, 0, log_format_choices, NULL },
};

const size_t config_key_count = sizeof(config_keys) / sizeof(config_keys[0]);

const struct config_key *
config_key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < config_key_count; i++)
		if (strcmp(config_keys[i].section, section) == 0
		    && strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

const struct config_key *
config_key_find_seed(const char *seed_name)
{
	for (size_t i = 0; i < config_key_count; i++)
		if (config_keys[i].seed_name != NULL
		    && strcasecmp(config_keys[i].seed_name, seed_name) == 0)
			return &config_keys[i];
	return NULL;
}

bool
config_section_known(const char *section)
{
	for (const char *const *known = config_sections; *known != NULL; known++)
		if (strcmp(*known, section) == 0)
			return true;
	return false;
}

void *
config_key_field(struct config *config, const struct config_key *key)
{
	return (char *)config + key->offset;
}

const void *
config_key_field_const(const struct config *config, const struct config_key *key)
{
	return (const char *)config + key->offset;
}

/* true when value holds a control character such as a tab. */
static bool
has_control_character(const char *value)
{
	for (; *value != '\0'; value++)
		if ((unsigned char)*value < 0x20 || *value == 0x7f)
			return true;
	return false;
}

/* Store a string value after its check; the field takes the copy. */
static bool
apply_string(struct config *config, const struct config_key *key, const char *value,
	     char *problem, size_t problem_size)
{
	char *copy = key->type == CONFIG_VALUE_PATH ? config_resolve_credential_path(value)
						    : ga_strdup(value);

	if (key->check != NULL && !key->check(&copy, problem, problem_size)) {
		ga_free(copy);
		return false;
	}
	config_key_clear(config, key);
	*(char **)config_key_field(config, key) = copy;
	return true;
}

/* Store a number of any of the numeric types. */
static bool
apply_number(struct config *config, const struct config_key *key, const char *value,
	     char *problem, size_t problem_size)
{
	void *field = config_key_field(config, key);
	long long number;
	bool ok = key->type == CONFIG_VALUE_BYTES
		? config_parse_bytes(value, key->min, key->max, &number, problem, problem_size)
		: key->type == CONFIG_VALUE_FRACTION
		? config_parse_fraction(value, key->min, key->max, &number, problem, problem_size)
		: config_parse_integer(value, key->min, key->max, &number, problem, problem_size);

	if (!ok)
		return false;
	if (key->type == CONFIG_VALUE_INT || key->type == CONFIG_VALUE_FRACTION)
		*(int *)field = (int)number;
	else if (key->type == CONFIG_VALUE_COUNT)
		*(size_t *)field = (size_t)number;
	else
		*(long long *)field = number;
	return true;
}

bool
config_key_apply(struct config *config, const struct config_key *key, const char *value,
		 char *problem, size_t problem_size)
{
	void *field = config_key_field(config, key);

	if (key->type != CONFIG_VALUE_LIST && strchr(value, '\n') != NULL) {
		/* An indented line after a key continues its value (configparser's rule). */
		snprintf(problem, problem_size,
			 "continues on an indented line: only lists may (are the keys indented?)");
		return false;
	}
	if (key->type != CONFIG_VALUE_LIST && has_control_character(value)) {
		snprintf(problem, problem_size, "contains a control character");
		return false;
	}
	switch (key->type) {
	case CONFIG_VALUE_STRING:
	case CONFIG_VALUE_SECRET:
	case CONFIG_VALUE_PATH:
		return apply_string(config, key, value, problem, problem_size);
	case CONFIG_VALUE_LIST:
		config_list_free(field);
		config_list_parse(value, field);
		return true;
	case CONFIG_VALUE_INT:
	case CONFIG_VALUE_LLONG:
	case CONFIG_VALUE_COUNT:
	case CONFIG_VALUE_BYTES:
	case CONFIG_VALUE_FRACTION:
		return apply_number(config, key, value, problem, problem_size);
	case CONFIG_VALUE_BOOL:
		return config_parse_bool(value, field, problem, problem_size);
	case CONFIG_VALUE_CHOICE:
		return config_parse_choice(value, key->choices, field, problem, problem_size);
	}
	return false;
}

void
config_key_clear(struct config *config, const struct config_key *key)
{
	void *field = config_key_field(config, key);

	switch (key->type) {
	case CONFIG_VALUE_STRING:
	case CONFIG_VALUE_PATH:
		ga_free(*(char **)field);
		*(char **)field = NULL;
		break;
	case CONFIG_VALUE_SECRET:
		ga_secret_free(*(char **)field);
		*(char **)field = NULL;
		break;
	case CONFIG_VALUE_LIST:
		config_list_free(field);
		break;
	default:
		break;
	}
}
