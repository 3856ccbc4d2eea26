/*
 * config.h - the configuration of ghaccess, read from one INI file.
 *
 * config_load() reads either a ghaccess file ([github], [cache], [server],
 * [index], [webhook], [web], [trusted_publishing], [log]) or a pypicloud server.ini whose [app:main]
 * section holds the seed plugin's auth.otc.github.* keys.  It validates
 * everything up front: unknown keys, bad numbers, an invalid repo_pattern,
 * a missing organization or credentials are errors that name the file, line
 * and key.  Secrets (token, backend_password, secret files' contents) are
 * loaded into the struct and must never be printed: config_print() masks
 * them.
 *
 * A loaded config is immutable and may be shared by threads.  SIGHUP
 * builds a new one and swaps it.
 *
 * Values: empty means unset (the default applies); booleans are
 * true/false/yes/no/on/off/1/0; integers are decimal and range-checked;
 * sizes take a K, M or G suffix (1024-based); lists split on commas and/or
 * white space and may continue on indented lines (the only values that may).
 * Lines are limited to 199 characters (inih's INI_MAX_LINE).
 *
 * Secrets come from the file (token, backend_password), from *_file keys
 * read with ga_secret_read_file, or, for the GitHub token, from the
 * environment: GHACCESS_GITHUB_TOKEN, when set and not empty, wins over
 * token and token_file (token_file is then not read).  A relative *_file
 * path (token_file, app_private_key_file, backend_password_file, both
 * secret_file keys) is looked up in $CREDENTIALS_DIRECTORY when that is set,
 * so that systemd's LoadCredential= works with bare names; otherwise it is
 * relative to the working directory.
 *
 * A pypicloud server.ini is recognised by a PasteDeploy section ([app:...],
 * [pipeline:...], [server:...], ...) and read as PasteDeploy hands it to
 * pypicloud (config_paste.c): from the application section of "main",
 * auth.user and auth.password are [server] backend_user and
 * backend_password, and the seed plugin's auth.otc.github.{organization,
 * token, repo_pattern, repo_include_list, repo_exclude_list, cache.backend,
 * cache.expiration, cache.memcache.url} set the same fields as [github]
 * and [cache]; configparser's rules apply there (no inline comments,
 * %(name)s interpolation, exact keys), and pypicloud's PPC_* environment
 * variables win over the file.  ghaccess's own settings are in
 * [ghaccess:github], [ghaccess:cache]...; a bare [github] or [server] in a
 * server.ini is an error.  A setting may be given only once.
 *
 * Error messages (GA_EINVAL unless said otherwise; err->line is set for the
 * first three forms):
 *   FILE:LINE: [SECTION] KEY: PROBLEM    a bad value, unknown or repeated key,
 *                                        an unreadable *_file (GA_EIO)
 *   FILE:LINE: [SECTION]: unknown section (not in a server.ini)
 *   FILE:LINE: PROBLEM                   syntax error, key outside a section
 *   FILE: [SECTION] KEY: PROBLEM         a required key missing
 *   FILE: PROBLEM                        unreadable file (GA_EIO), too big...
 * [SECTION] KEY is spelled as in the file ("[app:main] auth.otc.github.token").
 * No message ever contains the value of a secret.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/ga_err.h"

enum config_cache_backend {
	CONFIG_CACHE_MEMORY = 0,
	CONFIG_CACHE_MEMCACHE,
};

enum config_group_name {
	CONFIG_GROUP_SLUG = 0,	/* team slug: stable, no spaces (default) */
	CONFIG_GROUP_NAME,	/* team display name: the seed's behaviour */
};

/*
 * base_permission values.  Each equals the enum org_level of the same name
 * (src/org/org_input.h: none 0, read 1, triage 2, write 3, maintain 4,
 * admin 5), so that the org module can cast one to the other; config cannot
 * include org's header (layers point the other way), so the numbers are
 * repeated here and must change with it.
 */
enum config_permission {
	CONFIG_PERMISSION_UNSET = -1,
	CONFIG_PERMISSION_NONE = 0,
	CONFIG_PERMISSION_READ = 1,
	CONFIG_PERMISSION_WRITE = 3,
	CONFIG_PERMISSION_ADMIN = 5,
};

/* Where the GitHub token came from (check-config shows it). */
enum config_token_source {
	CONFIG_TOKEN_NONE = 0,
	CONFIG_TOKEN_SETTING,		/* token = ... in the file */
	CONFIG_TOKEN_FILE,		/* token_file */
	CONFIG_TOKEN_ENVIRONMENT,	/* GHACCESS_GITHUB_TOKEN */
};

enum config_unclaimed {
	CONFIG_UNCLAIMED_OWNERS = 0,	/* default */
	CONFIG_UNCLAIMED_MEMBERS,
};

/* A list of names from a "a, b c" setting. */
struct config_list {
	char **items;
	size_t count;
};

struct config {
	char *path;			/* the file it was read from */
	bool server_ini;		/* it was a pypicloud server.ini */

	/* [github] */
	char *organization;
	char *token;			/* secret: from token, token_file or GHACCESS_GITHUB_TOKEN */
	char *token_file;		/* resolved path, or NULL */
	enum config_token_source token_source;
	char *api_url;			/* default https://api.github.com, no trailing slash */
	char *graphql_url;		/* default {api_url}/graphql */
	char *repo_pattern;		/* default ".*"; Python re.match semantics */
	struct config_list repo_include_list;
	struct config_list repo_exclude_list;
	enum config_group_name group_name;
	int base_permission;		/* enum config_permission; default unset (-1) */
	bool include_forks;		/* forks may be packages; default true */
	char *app_client_id;		/* GitHub App instead of a token */
	char *app_private_key_file;	/* resolved path; checked readable, not read */
	long long app_installation_id;	/* 0: look it up */
	int http_timeout;		/* seconds, total per GitHub request; default 30 */
	int connect_timeout;		/* seconds; default 10 */
	int max_token_checks;		/* token checks with GitHub at once; default 16 */
	int max_token_checks_per_login;	/* ... for one login; default 2 */
	bool verify_token_org_access;	/* a login also asks GET /user/memberships/orgs/{org} */
	int budget_share;		/* thousandths of the hourly GraphQL budget the full
					 * syncs may spend; default 250 (budget_share = 0.25) */

	/* [cache] */
	enum config_cache_backend cache_backend;
	int expiration;			/* seconds; default 300: token cache TTL and refresh period */
	int negative_ttl;		/* seconds; default 30 */
	int max_stale;			/* seconds; default 3600, or expiration if longer */
	int poll_interval;		/* seconds; default 60 */
	int change_poll_interval_ms;	/* shared change log reads (memcache); default 250 */
	char *memcache_url;		/* default 127.0.0.1:11211 */
	char *secret_file;		/* resolved path, or NULL */
	char *secret;			/* secret: content of secret_file */
	size_t token_cache_entries;	/* default 100000 */

	/* [server] */
	char *listen;			/* default 127.0.0.1:8081 */
	char *backend_user;
	char *backend_password;		/* secret: backend_password or backend_password_file */
	char *backend_password_file;	/* resolved path, or NULL */
	int threads;			/* default 0: one per core */
	char *realm;			/* Basic realm; default "ghaccess" */
	int header_timeout;		/* seconds to send a request's headers; default 10 */
	int max_connections_per_ip;	/* default 128; 0: no limit */

	/* [index] (enabled when storage_dir is set) */
	char *index_storage_dir;
	enum config_unclaimed index_unclaimed;
	long long index_max_upload_size;	/* bytes; default 100 MiB */
	bool index_allow_overwrite;
	bool index_allow_delete;	/* writers may delete files; default false */
	bool index_allow_legacy_sdist;	/* .zip and non-PEP 625 sdist names; default false */
	char *index_fallback_url;
	int index_max_concurrent_uploads;		/* in all; default 16 */
	int index_max_concurrent_uploads_per_user;	/* default 4 */
	long long index_max_upload_disk;		/* bytes uploads in progress may take; default 1G */

	/* [webhook] */
	char *webhook_secret_file;	/* resolved path, or NULL */
	char *webhook_secret;		/* secret */
	long long webhook_max_body;	/* default 25 MiB (GitHub's cap) */
	long long webhook_max_memory;	/* every body in flight; default 64 MiB, >= max_body */
	int webhook_debounce_ms;	/* default 500 */

	/* [web] (the web pages, enabled when client_id is set) */
	char *web_client_id;		/* OAuth client id of the GitHub App or OAuth App */
	char *web_client_secret_file;	/* resolved path, or NULL */
	char *web_client_secret;	/* secret */
	char *web_session_key_file;	/* resolved path, or NULL */
	char *web_session_key;		/* secret: at least 32 bytes */
	char *web_url;			/* ghaccess's public base URL, no trailing slash */
	char *web_github_url;		/* GitHub's web host; default derived from api_url */
	char *web_index_url;		/* for install lines; default {url}/simple/ */
	int web_session_lifetime;	/* seconds; default 28800 (8 hours) */
	bool web_cookie_secure;		/* default true */

	/* [trusted_publishing] (GitHub Actions OIDC, src/oidc/; on when enabled) */
	bool tp_enabled;		/* default false */
	char *tp_issuer;		/* default https://token.actions.githubusercontent.com */
	char *tp_audience;		/* required when enabled */
	char *tp_key_file;		/* resolved path; required when enabled */
	char *tp_key;			/* secret: at least 32 bytes, signs minted tokens */
	int tp_token_lifetime;		/* seconds; default 900, at most 900 */
	struct config_list tp_allowed_refs;		/* fnmatch patterns; empty: any */
	struct config_list tp_allowed_environments;	/* empty: any (or none) */
	struct config_list tp_allowed_workflows;	/* job_workflow_ref patterns */
	struct config_list tp_allowed_events;		/* event_name values */
	struct config_list tp_read_grants;		/* REPOSITORY:PACKAGE */

	/* [log] */
	int log_level;			/* enum ga_log_level; default info */
	int log_format;			/* enum ga_log_format; default logfmt */
};

/*
 * Read and validate path into a new config (free with config_free).
 * Environment: GHACCESS_GITHUB_TOKEN overrides token/token_file;
 * CREDENTIALS_DIRECTORY resolves relative *_file paths.
 * Returns GA_OK, GA_EIO (unreadable file or secret file) or GA_EINVAL with
 * err holding one of the messages above (the first problem by line).
 * *out is NULL on failure.
 */
enum ga_rc config_load(const char *path, struct config **out, struct ga_err *err);

/* Free config and wipe its secrets.  NULL is fine. */
void config_free(struct config *config);

/* A config with every default and no file (tests); free with config_free. */
struct config *config_new_defaults(void);

/*
 * Write the effective configuration as INI: every section and key in the
 * order of the documentation, defaults included, lists joined with ", ",
 * secrets shown as "********" (empty when unset).
 */
void config_print(const struct config *config, FILE *out);

/*
 * Whether backend credentials are configured ([server] backend_user with a
 * password; auth.user and auth.password in a server.ini).  The pypicloud
 * protocol is served only then: it lists members, teams and packages and
 * tests tokens, so it never answers an anonymous caller.
 */
bool config_backend_credentials_set(const struct config *config);

/*
 * How to turn the pypicloud protocol on, in the words of the file's kind
 * (a static sentence, for logs and check-config).
 */
const char *config_backend_hint(const struct config *config);

/* true when list holds name (exact comparison). */
bool config_list_contains(const struct config_list *list, const char *name);

/*
 * Split "a, b  c" into a list (commas and/or white space, empty names
 * dropped).  list is overwritten: free what it held first.
 */
void config_list_parse(const char *text, struct config_list *list);
void config_list_free(struct config_list *list);

#endif
