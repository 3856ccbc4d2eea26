/* test_config.c - unit tests of src/config: loading, defaults, errors and printing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_internal.h"
#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

#define MAX_FILES 16
#define TOKEN "ghp_TestTokenThatMustNeverBePrinted0001"
#define ENV_TOKEN "ghp_EnvironmentTokenNeverPrinted0002"
#define FILE_TOKEN "ghp_FileTokenNeverPrinted0003"
#define PASSWORD "backend-password-never-printed"
#define CACHE_KEY "cache-hmac-key-never-printed"
#define WEBHOOK_KEY "webhook-secret-never-printed"

/* A temporary directory and the files written in it. */
struct fixture {
	char dir[64];
	char *paths[MAX_FILES];
	size_t count;
};

static int
setup(void **state)
{
	struct fixture *fixture = ga_calloc(1, sizeof(*fixture));

	snprintf(fixture->dir, sizeof(fixture->dir), "/tmp/ghaccess-config-XXXXXX");
	assert_non_null(mkdtemp(fixture->dir));
	unsetenv("GHACCESS_GITHUB_TOKEN");
	unsetenv("CREDENTIALS_DIRECTORY");
	*state = fixture;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fixture = *state;

	for (size_t i = 0; i < fixture->count; i++) {
		unlink(fixture->paths[i]);
		ga_free(fixture->paths[i]);
	}
	rmdir(fixture->dir);
	ga_free(fixture);
	unsetenv("GHACCESS_GITHUB_TOKEN");
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

/* Write content to dir/name; the path stays owned by the fixture. */
static const char *
write_file(struct fixture *fixture, const char *name, const char *content)
{
	char *path = ga_asprintf("%s/%s", fixture->dir, name);
	FILE *file = fopen(path, "w");

	assert_non_null(file);
	assert_int_equal(fputs(content, file) >= 0, 1);
	assert_int_equal(fclose(file), 0);
	assert_true(fixture->count < MAX_FILES);
	fixture->paths[fixture->count++] = path;
	return path;
}

/* Load content as name; fail the test when it does not load. */
static struct config *
load_ok(struct fixture *fixture, const char *name, const char *content)
{
	struct config *config = NULL;
	struct ga_err err;
	const char *path = write_file(fixture, name, content);
	enum ga_rc rc = config_load(path, &config, &err);

	if (rc != GA_OK)
		fail_msg("config_load(%s): %s", name, err.message);
	assert_non_null(config);
	return config;
}

static void
assert_list(const struct config_list *list, const char *const *expected, size_t count)
{
	assert_int_equal(list->count, count);
	for (size_t i = 0; i < count; i++)
		assert_string_equal(list->items[i], expected[i]);
}

/* --- defaults ------------------------------------------------------------ */

static void
assert_defaults(const struct config *config)
{
	assert_string_equal(config->api_url, "https://api.github.com");
	assert_string_equal(config->graphql_url, "https://api.github.com/graphql");
	assert_string_equal(config->repo_pattern, ".*");
	assert_int_equal(config->repo_include_list.count, 0);
	assert_int_equal(config->repo_exclude_list.count, 0);
	assert_int_equal(config->group_name, CONFIG_GROUP_SLUG);
	assert_int_equal(config->base_permission, CONFIG_PERMISSION_UNSET);
	assert_null(config->app_client_id);
	assert_null(config->app_private_key_file);
	assert_int_equal(config->app_installation_id, 0);
	assert_int_equal(config->http_timeout, 30);
	assert_int_equal(config->connect_timeout, 10);
	assert_int_equal(config->budget_share, 250);
	assert_int_equal(config->cache_backend, CONFIG_CACHE_MEMORY);
	assert_int_equal(config->expiration, 300);
	assert_int_equal(config->negative_ttl, 30);
	assert_int_equal(config->max_stale, 3600);
	assert_int_equal(config->poll_interval, 60);
	assert_string_equal(config->memcache_url, "127.0.0.1:11211");
	assert_null(config->secret_file);
	assert_null(config->secret);
	assert_int_equal(config->token_cache_entries, 100000);
	assert_string_equal(config->listen, "127.0.0.1:8081");
	assert_null(config->backend_user);
	assert_null(config->backend_password);
	assert_int_equal(config->threads, 0);
	assert_string_equal(config->realm, "ghaccess");
	assert_null(config->index_storage_dir);
	assert_int_equal(config->index_unclaimed, CONFIG_UNCLAIMED_OWNERS);
	assert_int_equal(config->index_max_upload_size, 100LL * 1024 * 1024);
	assert_false(config->index_allow_overwrite);
	assert_false(config->index_allow_delete);
	assert_false(config->index_allow_legacy_sdist);
	assert_null(config->index_fallback_url);
	assert_null(config->webhook_secret_file);
	assert_null(config->webhook_secret);
	assert_int_equal(config->webhook_max_body, 25LL * 1024 * 1024);
	assert_int_equal(config->webhook_max_memory, 64LL * 1024 * 1024);
	assert_int_equal(config->webhook_debounce_ms, 500);
	assert_int_equal(config->log_level, GA_LOG_INFO);
	assert_int_equal(config->log_format, GA_LOG_LOGFMT);
}

static void
test_new_defaults(void **state)
{
	struct config *config = config_new_defaults();

	(void)state;
	assert_defaults(config);
	assert_null(config->organization);
	assert_null(config->token);
	config_free(config);
}

static void
test_minimal_file_has_defaults(void **state)
{
	struct config *config = load_ok(*state, "minimal.ini",
					 "[github]\norganization = acme\ntoken = " TOKEN "\n");

	assert_defaults(config);
	assert_string_equal(config->organization, "acme");
	assert_string_equal(config->token, TOKEN);
	assert_int_equal(config->token_source, CONFIG_TOKEN_SETTING);
	assert_non_null(strstr(config->path, "minimal.ini"));
	config_free(config);
}

/* --- every key ----------------------------------------------------------- */

static void
test_every_key(void **state)
{
	struct fixture *fixture = *state;
	struct config *config;
	char *content;
	const char *token_file = write_file(fixture, "token", FILE_TOKEN "\n");
	const char *key_file = write_file(fixture, "app.pem", "-----BEGIN PRIVATE KEY-----\n");
	const char *password_file = write_file(fixture, "password", PASSWORD);
	const char *cache_key = write_file(fixture, "cache.key", CACHE_KEY "\r\n");
	const char *webhook_key = write_file(fixture, "webhook.key", WEBHOOK_KEY);
	static const char *const includes[] = { "lib-a", "lib-b", "lib-c" };
	static const char *const excludes[] = { "old" };

	content = ga_asprintf(
		"; every key, none at its default\n"
		"[github]\n"
		"organization = acme-corp\n"
		"token_file = %s\n"
		"api_url = https://ghe.example.com/api/v3/\n"
		"graphql_url = https://ghe.example.com/api/graphql//\n"
		"repo_pattern = py-[a-z]+   ; inline comment\n"
		"repo_include_list = lib-a, lib-b\n"
		"    lib-c\n"
		"repo_exclude_list = old\n"
		"group_name = name\n"
		"base_permission = write\n"
		"app_client_id = Iv1.0123456789abcdef\n"
		"app_private_key_file = %s\n"
		"app_installation_id = 4242\n"
		"timeout = 45\n"
		"connect_timeout = 5\n"
		"budget_share = 0.1\n"
		"\n"
		"[cache]\n"
		"backend = memcache\n"
		"expiration = 600\n"
		"negative_ttl = 0\n"
		"max_stale = 7200\n"
		"poll_interval = 0\n"
		"memcache.url = memcached://cache.internal:11311/\n"
		"secret_file = %s\n"
		"token_cache_entries = 5000\n"
		"[server]\n"
		"listen = [::1]:9090\n"
		"backend_user = pypicloud\n"
		"backend_password_file = %s\n"
		"threads = 8\n"
		"realm = Acme packages\n"
		"[index]\n"
		"storage_dir = /var/lib/ghaccess\n"
		"unclaimed = members\n"
		"max_upload_size = 2G\n"
		"allow_overwrite = yes\n"
		"allow_delete = yes\n"
		"allow_legacy_sdist = on\n"
		"fallback_url = https://pypi.org/simple/\n"
		"[webhook]\n"
		"secret_file = %s\n"
		"max_body = 512K\n"
		"max_memory = 2M\n"
		"debounce_ms = 0\n"
		"[log]\n"
		"level = debug\n"
		"format = json\n",
		token_file, key_file, cache_key, password_file, webhook_key);
	config = load_ok(fixture, "every.ini", content);
	ga_free(content);

	assert_string_equal(config->organization, "acme-corp");
	assert_string_equal(config->token, FILE_TOKEN);
	assert_int_equal(config->token_source, CONFIG_TOKEN_FILE);
	assert_string_equal(config->token_file, token_file);
	assert_string_equal(config->api_url, "https://ghe.example.com/api/v3");
	assert_string_equal(config->graphql_url, "https://ghe.example.com/api/graphql");
	assert_string_equal(config->repo_pattern, "py-[a-z]+");
	assert_list(&config->repo_include_list, includes, 3);
	assert_list(&config->repo_exclude_list, excludes, 1);
	assert_int_equal(config->group_name, CONFIG_GROUP_NAME);
	assert_int_equal(config->base_permission, CONFIG_PERMISSION_WRITE);
	assert_string_equal(config->app_client_id, "Iv1.0123456789abcdef");
	assert_string_equal(config->app_private_key_file, key_file);
	assert_int_equal(config->app_installation_id, 4242);
	assert_int_equal(config->http_timeout, 45);
	assert_int_equal(config->connect_timeout, 5);
	assert_int_equal(config->budget_share, 100);
	assert_int_equal(config->cache_backend, CONFIG_CACHE_MEMCACHE);
	assert_int_equal(config->expiration, 600);
	assert_int_equal(config->negative_ttl, 0);
	assert_int_equal(config->max_stale, 7200);
	assert_int_equal(config->poll_interval, 0);
	assert_string_equal(config->memcache_url, "cache.internal:11311");
	assert_string_equal(config->secret_file, cache_key);
	assert_string_equal(config->secret, CACHE_KEY);
	assert_int_equal(config->token_cache_entries, 5000);
	assert_string_equal(config->listen, "[::1]:9090");
	assert_string_equal(config->backend_user, "pypicloud");
	assert_string_equal(config->backend_password, PASSWORD);
	assert_string_equal(config->backend_password_file, password_file);
	assert_int_equal(config->threads, 8);
	assert_string_equal(config->realm, "Acme packages");
	assert_string_equal(config->index_storage_dir, "/var/lib/ghaccess");
	assert_int_equal(config->index_unclaimed, CONFIG_UNCLAIMED_MEMBERS);
	assert_int_equal(config->index_max_upload_size, 2LL * 1024 * 1024 * 1024);
	assert_true(config->index_allow_overwrite);
	assert_true(config->index_allow_delete);
	assert_true(config->index_allow_legacy_sdist);
	assert_string_equal(config->index_fallback_url, "https://pypi.org/simple");
	assert_string_equal(config->webhook_secret_file, webhook_key);
	assert_string_equal(config->webhook_secret, WEBHOOK_KEY);
	assert_int_equal(config->webhook_max_body, 512 * 1024);
	assert_int_equal(config->webhook_max_memory, 2 * 1024 * 1024);
	assert_int_equal(config->webhook_debounce_ms, 0);
	assert_int_equal(config->log_level, GA_LOG_DEBUG);
	assert_int_equal(config->log_format, GA_LOG_JSON);
	config_free(config);
}

/* max_stale's default grows with a long expiration (the seed had no max_stale). */
static void
test_max_stale_follows_expiration(void **state)
{
	struct config *config = load_ok(*state, "stale.ini",
					"[app:main]\nauth.otc.github.organization = acme\n"
					"auth.otc.github.token = t\n"
					"auth.otc.github.cache.expiration = 7200\n");

	assert_int_equal(config->expiration, 7200);
	assert_int_equal(config->max_stale, 7200);
	config_free(config);
}

/* The webhook budget's default holds at least one delivery of max_body. */
static void
test_webhook_memory_follows_max_body(void **state)
{
	struct config *config = load_ok(*state, "webhook.ini",
					"[github]\norganization = acme\ntoken = t\n"
					"[webhook]\nmax_body = 100M\n");

	assert_int_equal(config->webhook_max_body, 100LL * 1024 * 1024);
	assert_int_equal(config->webhook_max_memory, 100LL * 1024 * 1024);
	config_free(config);
}

/* graphql_url follows api_url unless set. */
static void
test_graphql_url_derived(void **state)
{
	static const struct {
		const char *api_url;
		const char *graphql_url;
	} cases[] = {
		{ "https://api.github.com/", "https://api.github.com/graphql" },
		{ "https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql" },
		{ "http://127.0.0.1:9999", "http://127.0.0.1:9999/graphql" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		char *content = ga_asprintf("[github]\norganization = acme\ntoken = t\n"
					    "api_url = %s\n", cases[i].api_url);
		struct config *config;

		snprintf(name, sizeof(name), "graphql-%zu.ini", i);
		config = load_ok(*state, name, content);
		assert_string_equal(config->graphql_url, cases[i].graphql_url);
		config_free(config);
		ga_free(content);
	}
}

/* --- where the token comes from ------------------------------------------ */

static void
test_environment_token_wins(void **state)
{
	struct config *config;

	setenv("GHACCESS_GITHUB_TOKEN", ENV_TOKEN, 1);
	config = load_ok(*state, "env.ini", "[github]\norganization = acme\ntoken = " TOKEN "\n");
	assert_string_equal(config->token, ENV_TOKEN);
	assert_int_equal(config->token_source, CONFIG_TOKEN_ENVIRONMENT);
	config_free(config);

	/* token_file is not even read when the environment has the token. */
	config = load_ok(*state, "env-file.ini",
			 "[github]\norganization = acme\ntoken_file = /nonexistent/token\n");
	assert_string_equal(config->token, ENV_TOKEN);
	config_free(config);

	/* ... and the environment alone is enough. */
	config = load_ok(*state, "env-only.ini", "[github]\norganization = acme\n");
	assert_string_equal(config->token, ENV_TOKEN);
	config_free(config);

	/* An empty variable counts as unset. */
	setenv("GHACCESS_GITHUB_TOKEN", "", 1);
	config = load_ok(*state, "env-empty.ini",
			 "[github]\norganization = acme\ntoken = " TOKEN "\n");
	assert_string_equal(config->token, TOKEN);
	assert_int_equal(config->token_source, CONFIG_TOKEN_SETTING);
	config_free(config);
}

static void
test_token_file(void **state)
{
	struct fixture *fixture = *state;
	const char *token_file = write_file(fixture, "token-file", FILE_TOKEN "\n");
	char *content = ga_asprintf("[github]\norganization = acme\ntoken_file = %s\n", token_file);
	struct config *config = load_ok(fixture, "token-file.ini", content);

	assert_string_equal(config->token, FILE_TOKEN);
	assert_int_equal(config->token_source, CONFIG_TOKEN_FILE);
	config_free(config);
	ga_free(content);
}

/* systemd's LoadCredential=: relative *_file names live in $CREDENTIALS_DIRECTORY. */
static void
test_credentials_directory(void **state)
{
	struct fixture *fixture = *state;
	struct config *config;
	char *expected = ga_asprintf("%s/github-token", fixture->dir);

	write_file(fixture, "github-token", FILE_TOKEN);
	write_file(fixture, "cache-key", CACHE_KEY);
	setenv("CREDENTIALS_DIRECTORY", fixture->dir, 1);
	config = load_ok(fixture, "credentials.ini",
			 "[github]\norganization = acme\ntoken_file = github-token\n"
			 "[cache]\nbackend = memcache\nsecret_file = cache-key\n");
	assert_string_equal(config->token_file, expected);
	assert_string_equal(config->token, FILE_TOKEN);
	assert_string_equal(config->secret, CACHE_KEY);
	config_free(config);
	ga_free(expected);
}

static void
test_github_app_instead_of_token(void **state)
{
	struct fixture *fixture = *state;
	const char *key_file = write_file(fixture, "key.pem", "-----BEGIN RSA PRIVATE KEY-----\n");
	char *content = ga_asprintf("[github]\norganization = acme\napp_client_id = Iv1.abc\n"
				    "app_private_key_file = %s\n", key_file);
	struct config *config = load_ok(fixture, "app.ini", content);

	assert_null(config->token);
	assert_int_equal(config->token_source, CONFIG_TOKEN_NONE);
	assert_string_equal(config->app_client_id, "Iv1.abc");
	config_free(config);
	ga_free(content);
}

/* --- pypicloud server.ini ------------------------------------------------ */

static const char server_ini[] =
	"# pypicloud's server.ini with the seed plugin's settings\n"
	"[app:main]\n"
	"use = egg:pypicloud\n"
	"pyramid.reload_templates = False\n"
	"pyramid.includes =\n"
	"    pyramid_tm\n"
	"    pyramid_debugtoolbar\n"
	"pypi.default_read =\n"
	"    authenticated\n"
	"pypi.storage = file\n"
	"storage.dir = %(here)s/packages\n"
	"pypi.auth = outcome.pypicloud_access_github.Poetry\n"
	"auth.otc.github.organization = acme\n"
	"auth.otc.github.token = " TOKEN "\n"
	"auth.otc.github.repo_pattern = py-\n"
	"auth.otc.github.repo_include_list = py-one py-two\n"
	"    py-three\n"
	"auth.otc.github.repo_exclude_list = py-old,py-older\n"
	"auth.otc.github.cache.backend = memory\n"
	"auth.otc.github.cache.expiration = 120\n"
	"auth.otc.github.cache.memory.maxsize = 1000\n"
	"auth.otc.github.cache.memcache.url = memcached://10.1.2.3:11222\n"
	"auth.otc.github.some_future_option = ignored\n"
	"session.encrypt_key = secret-of-pyramid\n"
	"\n"
	"[server:main]\n"
	"use = egg:waitress#main\n"
	"host = 0.0.0.0\n"
	"port = 6543\n"
	"\n"
	"[loggers]\n"
	"keys = root\n";

static void
test_server_ini(void **state)
{
	static const char *const includes[] = { "py-one", "py-two", "py-three" };
	static const char *const excludes[] = { "py-old", "py-older" };
	struct config *config = load_ok(*state, "server.ini", server_ini);

	assert_string_equal(config->organization, "acme");
	assert_string_equal(config->token, TOKEN);
	assert_string_equal(config->repo_pattern, "py-");
	assert_list(&config->repo_include_list, includes, 3);
	assert_list(&config->repo_exclude_list, excludes, 2);
	assert_int_equal(config->cache_backend, CONFIG_CACHE_MEMORY);
	assert_int_equal(config->expiration, 120);
	assert_string_equal(config->memcache_url, "10.1.2.3:11222");
	assert_string_equal(config->listen, "127.0.0.1:8081");
	config_free(config);
}

/* A server.ini may carry ghaccess's own sections for what the seed had not. */
static void
test_server_ini_mixed(void **state)
{
	struct fixture *fixture = *state;
	const char *key_file = write_file(fixture, "shared.key", CACHE_KEY);
	char *content = ga_asprintf(
		"[app:main]\n"
		"pypi.auth = remote\n"
		"auth.otc.github.organization = acme\n"
		"AUTH.OTC.GITHUB.ORGANIZATION = ignored-as-by-pypicloud\n"
		"auth.otc.github.token = " TOKEN "\n"
		"auth.otc.github.cache.backend = memcached\n"
		"auth.otc.github.cache.memcache.url = 10.0.0.5\n"
		"auth.user = pypicloud\n"
		"auth.password = " PASSWORD "\n"
		"[server:main]\n"
		"use = egg:waitress#main\n"
		"[ghaccess:cache]\n"
		"secret_file = %s\n"
		"[ghaccess:server]\n"
		"listen = 0.0.0.0:8082\n", key_file);
	struct config *config = load_ok(fixture, "mixed.ini", content);

	assert_true(config->server_ini);
	assert_string_equal(config->backend_user, "pypicloud");
	assert_string_equal(config->backend_password, PASSWORD);
	assert_string_equal(config->organization, "acme");
	assert_int_equal(config->cache_backend, CONFIG_CACHE_MEMCACHE);
	assert_string_equal(config->memcache_url, "10.0.0.5:11211");
	assert_string_equal(config->secret, CACHE_KEY);
	assert_string_equal(config->listen, "0.0.0.0:8082");
	config_free(config);
	ga_free(content);
}

/*
 * What pypicloud gets from PasteDeploy is what ghaccess reads: inline
 * comments kept, %(name)s interpolation with [DEFAULT] and here, "get",
 * a pipeline's last application, pypicloud's PPC_* environment.
 */
static void
test_server_ini_as_pastedeploy_reads_it(void **state)
{
	struct fixture *fixture = *state;
	struct config *config;
	char *here = ga_asprintf("%s/packages", fixture->dir);

	config = load_ok(fixture, "paste.ini",
			 "[DEFAULT]\n"
			 "secret = a%%b\n"
			 "auth.otc.github.repo_pattern = py-\n"
			 "[pipeline:main]\n"
			 "pipeline = translogger pypicloud\n"
			 "[filter:translogger]\n"
			 "use = egg:Paste#translogger\n"
			 "[app:pypicloud]\n"
			 "use = egg:pypicloud\n"
			 "auth.otc.github.organization = acme\n"
			 "auth.otc.github.token = " TOKEN "\n"
			 "auth.user = pypi ; not a comment for configparser\n"
			 "get auth.password = secret\n"
			 "storage.dir = %(here)s/packages\n"
			 "auth.otc.github.memcache_note = 100%%\n"
			 "[server:main]\n"
			 "use = egg:waitress#main\n");
	assert_string_equal(config->backend_user, "pypi ; not a comment for configparser");
	assert_string_equal(config->backend_password, "a%b");
	assert_string_equal(config->repo_pattern, "py-");
	config_free(config);

	setenv("PPC_AUTH_OTC_GITHUB_TOKEN", ENV_TOKEN, 1);
	setenv("PPC_AUTH_PASSWORD", "from-the-environment", 1);
	config = load_ok(fixture, "environment.ini",
			 "[app:main]\n"
			 "auth.otc.github.organization = acme\n"
			 "auth.otc.github.token = " TOKEN "\n"
			 "auth.user = pypicloud\n"
			 "auth.password = %(here)s\n");
	assert_string_equal(config->token, ENV_TOKEN);
	assert_string_equal(config->backend_password, "from-the-environment");
	config_free(config);
	unsetenv("PPC_AUTH_PASSWORD");
	config = load_ok(fixture, "here.ini",
			 "[app:main]\n"
			 "auth.otc.github.organization = acme\n"
			 "auth.user = pypicloud\n"
			 "auth.password = %(here)s/packages\n");
	assert_string_equal(config->token, ENV_TOKEN);
	assert_string_equal(config->backend_password, here);
	config_free(config);
	unsetenv("PPC_AUTH_OTC_GITHUB_TOKEN");
	ga_free(here);
}

/* A file made to explode under interpolation is refused at once. */
static void
test_server_ini_interpolation_is_bounded(void **state)
{
	struct fixture *fixture = *state;
	struct ga_buf text;
	struct config *config = NULL;
	struct ga_err err;
	const char *path;

	ga_buf_init(&text, 0);
	ga_buf_append_str(&text, "[app:main]\nauth.otc.github.organization = acme\n"
			  "auth.otc.github.token = x\n");
	for (char level = 'a'; level < 'j'; level++)
		ga_buf_printf(&text, "%c = %%(%c)s%%(%c)s%%(%c)s%%(%c)s%%(%c)s%%(%c)s%%(%c)s%%(%c)s\n",
			      level, level + 1, level + 1, level + 1, level + 1, level + 1,
			      level + 1, level + 1, level + 1);
	ga_buf_append_str(&text, "j = x\n");
	path = write_file(fixture, "bomb.ini", ga_buf_cstr(&text));
	assert_int_equal(config_load(path, &config, &err), GA_EINVAL);
	assert_non_null(strstr(err.message, "interpolation too large"));
	ga_buf_free(&text);
}

/* --- lists --------------------------------------------------------------- */

static void
test_list_parse(void **state)
{
	static const struct {
		const char *text;
		size_t count;
		const char *items[4];
	} cases[] = {
		{ "", 0, { NULL } },
		{ " , ,, ", 0, { NULL } },
		{ "one", 1, { "one" } },
		{ "a,b", 2, { "a", "b" } },
		{ "a, b c", 3, { "a", "b", "c" } },
		{ "  a\tb\n c ,", 3, { "a", "b", "c" } },
		{ ",x,,y,", 2, { "x", "y" } },
		{ "a b c d", 4, { "a", "b", "c", "d" } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config_list list;

		config_list_parse(cases[i].text, &list);
		assert_list(&list, cases[i].items, cases[i].count);
		if (cases[i].count > 0) {
			assert_true(config_list_contains(&list, cases[i].items[0]));
			assert_false(config_list_contains(&list, "absent"));
		}
		config_list_free(&list);
		assert_int_equal(list.count, 0);
	}
}

/* --- value parsers --------------------------------------------------------- */

static void
test_value_parsers(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		long long bytes;
	} sizes[] = {
		{ "1", true, 1 }, { "10K", true, 10240 }, { "3m", true, 3 * 1048576 },
		{ "1G", true, 1073741824 }, { "", false, 0 }, { "K", false, 0 },
		{ "1 K", false, 0 }, { "1KB", false, 0 }, { "-1", false, 0 },
		{ "99999999999999999999", false, 0 }, { "9999999999G", false, 0 },
	};
	static const struct {
		const char *text;
		bool ok;
		long long value;
	} integers[] = {
		{ "0", true, 0 }, { "42", true, 42 }, { "+7", true, 7 }, { "100", true, 100 },
		{ "101", false, 0 }, { "-1", false, 0 }, { "1.5", false, 0 }, { " 1", false, 0 },
		{ "0x10", false, 0 }, { "", false, 0 }, { "9223372036854775808", false, 0 },
	};
	static const struct {
		const char *text;
		bool ok;
		bool value;
	} booleans[] = {
		{ "true", true, true }, { "Yes", true, true }, { "on", true, true },
		{ "1", true, true }, { "false", true, false }, { "NO", true, false },
		{ "off", true, false }, { "0", true, false }, { "2", false, false },
		{ "y", false, false },
	};
	char problem[CONFIG_PROBLEM_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		long long value = 0;

		assert_int_equal(config_parse_bytes(sizes[i].text, 0, 1LL << 40, &value, problem,
						    sizeof(problem)), sizes[i].ok);
		if (sizes[i].ok)
			assert_int_equal(value, sizes[i].bytes);
	}
	for (size_t i = 0; i < sizeof(integers) / sizeof(integers[0]); i++) {
		long long value = 0;

		assert_int_equal(config_parse_integer(integers[i].text, 0, 100, &value, problem,
						      sizeof(problem)), integers[i].ok);
		if (integers[i].ok)
			assert_int_equal(value, integers[i].value);
	}
	for (size_t i = 0; i < sizeof(booleans) / sizeof(booleans[0]); i++) {
		bool value = !booleans[i].value;

		assert_int_equal(config_parse_bool(booleans[i].text, &value, problem,
						   sizeof(problem)), booleans[i].ok);
		if (booleans[i].ok)
			assert_int_equal(value, booleans[i].value);
	}
}

static void
test_format_bytes(void **state)
{
	char text[32];

	(void)state;
	config_format_bytes(100LL * 1024 * 1024, text);
	assert_string_equal(text, "100M");
	config_format_bytes(1536, text);
	assert_string_equal(text, "1536");
	config_format_bytes(2048, text);
	assert_string_equal(text, "2K");
	config_format_bytes(1LL << 40, text);
	assert_string_equal(text, "1024G");
	config_format_bytes(7, text);
	assert_string_equal(text, "7");
}

/* Checks of strings: the accepted value and its normalised form. */
static void
test_string_checks(void **state)
{
	static const struct {
		config_check_fn *check;
		const char *value;
		const char *normalised;	/* NULL: rejected */
	} cases[] = {
		{ config_check_listen, "127.0.0.1:8081", "127.0.0.1:8081" },
		{ config_check_listen, "localhost:1", "localhost:1" },
		{ config_check_listen, "[::]:65535", "[::]:65535" },
		{ config_check_listen, "[fe80::1%eth0]:80", "[fe80::1%eth0]:80" },
		{ config_check_listen, "127.0.0.1", NULL },
		{ config_check_listen, ":8081", NULL },
		{ config_check_listen, "host:0", NULL },
		{ config_check_listen, "host:65536", NULL },
		{ config_check_listen, "host:80x", NULL },
		{ config_check_listen, "::1:80", NULL },
		{ config_check_listen, "[::1]80", NULL },
		{ config_check_listen, "[]:80", NULL },
		{ config_check_listen, "ho st:80", NULL },
		{ config_check_memcache_url, "127.0.0.1", "127.0.0.1:11211" },
		{ config_check_memcache_url, "mc:1234", "mc:1234" },
		{ config_check_memcache_url, "memcached://mc:1234/", "mc:1234" },
		{ config_check_memcache_url, "memcache://[::1]", "[::1]:11211" },
		{ config_check_memcache_url, "redis://mc", NULL },
		{ config_check_url, "https://api.github.com", "https://api.github.com" },
		{ config_check_url, "HTTP://h:8080/a/b///", "HTTP://h:8080/a/b" },
		{ config_check_url, "ftp://h", NULL },
		{ config_check_url, "https://", NULL },
		{ config_check_url, "https:///path", NULL },
		{ config_check_url, "https://h/?q=1", NULL },
		{ config_check_regex, "py-.*", "py-.*" },
		{ config_check_regex, "(?P<name>x)", "(?P<name>x)" },
		{ config_check_regex, "(", NULL },
		{ config_check_regex, "[a-", NULL },
		{ config_check_organization, "acme-corp", "acme-corp" },
		{ config_check_organization, "acme/other", NULL },
		{ config_check_organization, "a b", NULL },
		{ config_check_realm, "My \"realm\"", NULL },
		{ config_check_user, "user:x", NULL },
		{ config_check_user, "user", "user" },
	};
	char problem[CONFIG_PROBLEM_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *value = ga_strdup(cases[i].value);
		bool ok = cases[i].check(&value, problem, sizeof(problem));

		if (ok != (cases[i].normalised != NULL))
			fail_msg("case %zu (%s): %s", i, cases[i].value, ok ? "accepted" : problem);
		if (ok)
			assert_string_equal(value, cases[i].normalised);
		ga_free(value);
	}
}

/* --- errors -------------------------------------------------------------- */

#define ORG_AND_TOKEN "[github]\norganization = acme\ntoken = " TOKEN "\n"
#define SEED_ORG_AND_TOKEN "[app:main]\nauth.otc.github.organization = acme\n" \
	"auth.otc.github.token = " TOKEN "\n"

static const struct error_case {
	const char *name;
	const char *content;
	int line;		/* 0: the message is "FILE: ..." */
	const char *message;	/* after "FILE:LINE: " or "FILE: " */
} error_cases[] = {
	{ "unknown-key", ORG_AND_TOKEN "tokn = x\n", 4, "[github] tokn: unknown key" },
	{ "unknown-key-other-section", ORG_AND_TOKEN "[log]\nlevel = info\ncolour = yes\n", 6,
	  "[log] colour: unknown key" },
	{ "bad-number", ORG_AND_TOKEN "[cache]\nexpiration = 5m\n", 5,
	  "[cache] expiration: expected an integer, got \"5m\"" },
	{ "number-out-of-range", ORG_AND_TOKEN "[cache]\nexpiration = 0\n", 5,
	  "[cache] expiration: must be between 1 and 86400, got 0" },
	{ "budget-share-zero", ORG_AND_TOKEN "budget_share = 0\n", 4,
	  "[github] budget_share: must be between 0.01 and 1.0, got 0" },
	{ "budget-share-above-one", ORG_AND_TOKEN "budget_share = 1.5\n", 4,
	  "[github] budget_share: must be between 0.01 and 1.0, got 1.5" },
	{ "budget-share-too-small", ORG_AND_TOKEN "budget_share = 0.009\n", 4,
	  "[github] budget_share: must be between 0.01 and 1.0, got 0.009" },
	{ "budget-share-percent", ORG_AND_TOKEN "budget_share = 25%\n", 4,
	  "[github] budget_share: expected a decimal fraction such as 0.25 (at most three"
	  " decimals), got \"25%\"" },
	{ "budget-share-negative", ORG_AND_TOKEN "budget_share = -0.25\n", 4,
	  "[github] budget_share: expected a decimal fraction such as 0.25 (at most three"
	  " decimals), got \"-0.25\"" },
	{ "budget-share-four-decimals", ORG_AND_TOKEN "budget_share = 0.2501\n", 4,
	  "[github] budget_share: expected a decimal fraction such as 0.25 (at most three"
	  " decimals), got \"0.2501\"" },
	{ "budget-share-exponent", ORG_AND_TOKEN "budget_share = 2.5e-1\n", 4,
	  "[github] budget_share: expected a decimal fraction such as 0.25 (at most three"
	  " decimals), got \"2.5e-1\"" },
	{ "budget-share-trailing-point", ORG_AND_TOKEN "budget_share = 1.\n", 4,
	  "[github] budget_share: expected a decimal fraction such as 0.25 (at most three"
	  " decimals), got \"1.\"" },
	{ "threads-out-of-range", ORG_AND_TOKEN "[server]\nthreads = 257\n", 5,
	  "[server] threads: must be between 0 and 256, got 257" },
	{ "bad-regex", ORG_AND_TOKEN "repo_pattern = (\n", 4,
	  "[github] repo_pattern: invalid regular expression at offset 1:"
	  " missing closing parenthesis" },
	{ "bad-listen", ORG_AND_TOKEN "[server]\nlisten = localhost\n", 5,
	  "[server] listen: expected HOST:PORT or [IPV6]:PORT, got \"localhost\"" },
	{ "bad-port", ORG_AND_TOKEN "[server]\nlisten = localhost:0\n", 5,
	  "[server] listen: port must be a number from 1 to 65535, got \"0\"" },
	{ "bad-bool", ORG_AND_TOKEN "[index]\nallow_overwrite = maybe\n", 5,
	  "[index] allow_overwrite: expected true, false, yes, no, on, off, 1 or 0,"
	  " got \"maybe\"" },
	{ "bad-choice", ORG_AND_TOKEN "[cache]\nbackend = redis\n", 5,
	  "[cache] backend: expected one of memory, memcache, memcached; got \"redis\"" },
	{ "bad-permission", ORG_AND_TOKEN "base_permission = maintain\n", 4,
	  "[github] base_permission: expected one of none, read, write, admin;"
	  " got \"maintain\"" },
	{ "bad-url", ORG_AND_TOKEN "api_url = api.github.com\n", 4,
	  "[github] api_url: must start with http:// or https://" },
	{ "bad-size", ORG_AND_TOKEN "[index]\nmax_upload_size = 10 MB\n", 5,
	  "[index] max_upload_size: expected a number of bytes with an optional K, M or G"
	  " suffix, got \"10 MB\"" },
	{ "max-stale-below-expiration", ORG_AND_TOKEN "[cache]\nexpiration = 600\nmax_stale = 60\n",
	  6, "[cache] max_stale: must be at least the expiration (600)" },
	{ "webhook-memory-below-max-body",
	  ORG_AND_TOKEN "[webhook]\nmax_body = 2M\nmax_memory = 1M\n", 6,
	  "[webhook] max_memory: must be at least [webhook] max_body (2097152 bytes)" },
	{ "upload-disk-below-max-upload-size",
	  ORG_AND_TOKEN "[index]\nmax_upload_size = 2M\nmax_upload_disk = 1M\n", 6,
	  "[index] max_upload_disk: must be at least max_upload_size (2097152 bytes)" },
	{ "missing-organization", "[github]\ntoken = " TOKEN "\n", 0,
	  "[github] organization: required" },
	{ "missing-token", "[github]\norganization = acme\n", 0,
	  "[github] token: required (or token_file, $GHACCESS_GITHUB_TOKEN, or app_client_id"
	  " with app_private_key_file)" },
	{ "memcache-without-secret", ORG_AND_TOKEN "[cache]\nbackend = memcache\n", 0,
	  "[cache] secret_file: required with backend = memcache"
	  " (the key that protects the shared entries)" },
	{ "unknown-section", ORG_AND_TOKEN "[githbu]\n", 4, "[githbu]: unknown section" },
	{ "empty-file", "", 0,
	  "no ghaccess settings: expected a [github] section or, in a pypicloud server.ini,"
	  " auth.otc.github.* keys in [app:main] or a [ghaccess:github] section" },
	{ "server-ini-without-seed-keys", "[app:main]\npypi.auth = config\n", 0,
	  "no ghaccess settings: expected a [github] section or, in a pypicloud server.ini,"
	  " auth.otc.github.* keys in [app:main] or a [ghaccess:github] section" },
	{ "server-ini-bare-server", SEED_ORG_AND_TOKEN "[server:main]\nport = 1\n"
	  "[server]\nlisten = 127.0.0.1:1\n", 6,
	  "[server]: in a pypicloud server.ini write [ghaccess:server] ([server] makes"
	  " PasteDeploy's lookup of [server:main] ambiguous: pserve fails)" },
	{ "server-ini-bare-cache", SEED_ORG_AND_TOKEN "[cache]\nexpiration = 60\n", 4,
	  "[cache]: in a pypicloud server.ini write [ghaccess:cache], where PasteDeploy"
	  " never looks" },
	{ "prefixed-in-ghaccess-file", ORG_AND_TOKEN "[ghaccess:cache]\nexpiration = 60\n", 4,
	  "[ghaccess:...] sections belong in a pypicloud server.ini; in a ghaccess file write"
	  " the section without the prefix" },
	{ "server-ini-memcache-without-secret", SEED_ORG_AND_TOKEN
	  "auth.otc.github.cache.backend = memcache\n", 0,
	  "[ghaccess:cache] secret_file: required with backend = memcache"
	  " (the key that protects the shared entries)" },
	{ "server-ini-ambiguous", SEED_ORG_AND_TOKEN "[pipeline:main]\npipeline = x\n", 0,
	  "[app:main] and [pipeline:main]: ambiguous sections for the application \"main\""
	  " (PasteDeploy refuses the file)" },
	{ "server-ini-no-app", "[server:main]\nport = 1\n[ghaccess:github]\n"
	  "organization = acme\ntoken = x\n", 0,
	  "no application section for \"main\" (PasteDeploy looks for [app:main],"
	  " [pipeline:main], [filter-app:main] or [composite:main])" },
	{ "server-ini-composite", "[composite:main]\nuse = egg:Paste#urlmap\n", 0,
	  "[composite:main]: ghaccess cannot tell which application of a composite is"
	  " pypicloud (use [app:main] or a pipeline)" },
	{ "server-ini-use-section", SEED_ORG_AND_TOKEN "use = base\n", 4,
	  "[app:main] use: ghaccess reads the settings of this section only; a use = that"
	  " takes settings from another section or file is not followed (move the settings"
	  " here)" },
	{ "server-ini-bad-percent", SEED_ORG_AND_TOKEN "auth.password = 50%\nauth.user = u\n", 4,
	  "[app:main] auth.password: '%' must be followed by '%' or '(NAME)s' (configparser's"
	  " interpolation; write %% for a percent sign)" },
	{ "server-ini-missing-variable", SEED_ORG_AND_TOKEN "storage = %(nowhere)s\n", 4,
	  "[app:main] storage: %(nowhere)s: no such key to interpolate" },
	{ "server-ini-user-in-default", "[DEFAULT]\nauth.user = pypicloud\n"
	  SEED_ORG_AND_TOKEN, 2,
	  "[DEFAULT] auth.user: pypicloud does not see [DEFAULT] (PasteDeploy hands it over as"
	  " global configuration, which pypicloud ignores): set it in [app:main]" },
	{ "server-ini-default-shadows", "[DEFAULT]\nauth.otc.github.token = a\n"
	  SEED_ORG_AND_TOKEN, 5,
	  "[app:main] auth.otc.github.token: [DEFAULT] has it too (line 2), and then"
	  " PasteDeploy hands pypicloud neither: keep one" },
	{ "server-ini-repeated-section", SEED_ORG_AND_TOKEN "[app:main]\nx = 1\n", 4,
	  "[app:main]: repeated section (first on line 1); PasteDeploy cannot read the file" },
	{ "server-ini-user-without-password", SEED_ORG_AND_TOKEN "auth.user = pypicloud\n", 4,
	  "[app:main] auth.user: needs auth.password" },
	{ "syntax-error", ORG_AND_TOKEN "just some words\n", 4,
	  "syntax error: expected [section], key = value or a comment" },
	{ "unclosed-section", "[github\norganization = acme\n", 1,
	  "syntax error: expected [section], key = value or a comment" },
	{ "key-before-section", "organization = acme\n" ORG_AND_TOKEN, 1,
	  "organization: key before any [section]" },
	{ "set-twice", ORG_AND_TOKEN "organization = other\n", 4,
	  "[github] organization: already set on line 2" },
	{ "set-twice-seed-and-native",
	  "[app:main]\nauth.otc.github.organization = acme\n[ghaccess:github]\n"
	  "organization = acme\ntoken = x\n", 4,
	  "[ghaccess:github] organization: conflicts with [app:main]"
	  " auth.otc.github.organization on line 2 (set one)" },
	{ "token-and-token-file", ORG_AND_TOKEN "token_file = /run/token\n", 4,
	  "[github] token_file: conflicts with [github] token on line 3 (set one)" },
	{ "missing-token-file", "[github]\norganization = acme\ntoken_file = /nonexistent/t\n", 3,
	  "[github] token_file: /nonexistent/t: cannot open: No such file or directory" },
	{ "user-without-password", ORG_AND_TOKEN "[server]\nbackend_user = pypi\n", 5,
	  "[server] backend_user: needs backend_password or backend_password_file" },
	{ "app-without-key", "[github]\norganization = acme\napp_client_id = Iv1.x\n", 3,
	  "[github] app_client_id: needs app_private_key_file" },
	{ "multi-line-scalar", ORG_AND_TOKEN "[log]\nlevel = info\n  debug\n", 5,
	  "[log] level: continues on an indented line: only lists may (are the keys indented?)" },
	{ "indented-keys", "[github]\n  organization = acme\n  token = x\n", 2,
	  "[github] organization: continues on an indented line: only lists may"
	  " (are the keys indented?)" },
	{ "control-character", ORG_AND_TOKEN "[server]\nrealm = a\tb\n", 5,
	  "[server] realm: contains a control character" },
	{ "first-error-by-line", ORG_AND_TOKEN "[cache]\nexpiration = x\n[bogus]\n"
	  "[github]\nnope = 1\n", 5, "[cache] expiration: expected an integer, got \"x\"" },
	{ "seed-bad-number", "[app:main]\nauth.otc.github.organization = acme\n"
	  "auth.otc.github.token = x\nauth.otc.github.cache.expiration = soon\n", 4,
	  "[app:main] auth.otc.github.cache.expiration: expected an integer, got \"soon\"" },
	{ "long-line", ORG_AND_TOKEN "repo_include_list = "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  4, "[github] repo_include_list: line longer than 199 characters"
	  " (a list may continue on indented lines)" },
};

static void
test_errors(void **state)
{
	struct fixture *fixture = *state;

	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *c = &error_cases[i];
		char name[64];
		char expected[GA_ERR_MESSAGE_MAX];
		struct config *config = (struct config *)1;
		struct ga_err err;
		const char *path;
		enum ga_rc rc;

		snprintf(name, sizeof(name), "%s.ini", c->name);
		path = write_file(fixture, name, c->content);
		rc = config_load(path, &config, &err);
		if (c->line > 0)
			snprintf(expected, sizeof(expected), "%s:%d: %s", path, c->line, c->message);
		else
			snprintf(expected, sizeof(expected), "%s: %s", path, c->message);
		if (rc == GA_OK)
			fail_msg("%s: loaded", c->name);
		assert_null(config);
		if (strcmp(err.message, expected) != 0)
			fail_msg("%s:\n got      %s\n expected %s", c->name, err.message, expected);
		assert_int_equal(err.line, c->line);
		assert_null(strstr(err.message, TOKEN));
		/* Keep the fixture under MAX_FILES: each case's file is gone once checked. */
		unlink(path);
		ga_free(fixture->paths[--fixture->count]);
	}
}

static void
test_unreadable_file(void **state)
{
	struct fixture *fixture = *state;
	struct config *config = NULL;
	struct ga_err err;
	char *path = ga_asprintf("%s/absent.ini", fixture->dir);
	char *expected = ga_asprintf("%s: cannot open: No such file or directory", path);

	assert_int_equal(config_load(path, &config, &err), GA_EIO);
	assert_null(config);
	assert_string_equal(err.message, expected);
	ga_free(expected);
	ga_free(path);
}

static void
test_unusable_files(void **state)
{
	struct fixture *fixture = *state;
	struct config *config = NULL;
	struct ga_err err;
	char *expected = ga_asprintf("%s: cannot read: Is a directory", fixture->dir);
	const char *nul = write_file(fixture, "nul.ini", "[github]\norganization = acme\n");
	FILE *file = fopen(nul, "a");

	assert_int_equal(config_load(fixture->dir, &config, &err), GA_EIO);
	assert_string_equal(err.message, expected);
	assert_non_null(file);
	fputc('\0', file);
	fclose(file);
	assert_int_equal(config_load(nul, &config, &err), GA_EINVAL);
	assert_non_null(strstr(err.message, ": contains a NUL byte"));
	/* err is optional. */
	assert_int_equal(config_load(nul, &config, NULL), GA_EINVAL);
	assert_int_equal(config_load(fixture->dir, &config, NULL), GA_EIO);
	assert_null(config);
	ga_free(expected);
}

/* --- printing ------------------------------------------------------------ */

/* config_print into a string; free() it (open_memstream allocates with malloc). */
static char *
print_to_string(const struct config *config)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	config_print(config, out);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void
test_print_masks_secrets(void **state)
{
	struct fixture *fixture = *state;
	const char *cache_key = write_file(fixture, "print-cache.key", CACHE_KEY);
	const char *webhook_key = write_file(fixture, "print-webhook.key", WEBHOOK_KEY);
	char *content = ga_asprintf("[github]\norganization = acme\ntoken = %s\n"
				    "repo_include_list = a b,c\n"
				    "[cache]\nbackend = memcache\nsecret_file = %s\n"
				    "[server]\nbackend_user = pypi\nbackend_password = %s\n"
				    "[webhook]\nsecret_file = %s\n",
				    TOKEN, cache_key, PASSWORD, webhook_key);
	struct config *config = load_ok(fixture, "print.ini", content);
	char *text = print_to_string(config);

	assert_null(strstr(text, TOKEN));
	assert_null(strstr(text, PASSWORD));
	assert_null(strstr(text, CACHE_KEY));
	assert_null(strstr(text, WEBHOOK_KEY));
	assert_non_null(strstr(text, "\ntoken = ********\n"));
	assert_non_null(strstr(text, "\nbackend_password = ********\n"));
	assert_non_null(strstr(text, "\nrepo_include_list = a, b, c\n"));
	assert_non_null(strstr(text, "\norganization = acme\n"));
	assert_non_null(strstr(text, "\nbackend = memcache\n"));
	assert_non_null(strstr(text, "\nmax_upload_size = 100M\n"));
	assert_non_null(strstr(text, "\nbase_permission =\n"));
	assert_non_null(strstr(text, "\n[log]\nlevel = info\nformat = logfmt\n"));
	free(text);
	config_free(config);

	/* The environment's token is masked too, and its origin said. */
	setenv("GHACCESS_GITHUB_TOKEN", ENV_TOKEN, 1);
	config = load_ok(fixture, "print-env.ini", content);
	text = print_to_string(config);
	assert_null(strstr(text, ENV_TOKEN));
	assert_non_null(strstr(text, "\ntoken = ********  ; from $GHACCESS_GITHUB_TOKEN\n"));
	free(text);
	config_free(config);
	ga_free(content);
}

/* What check-config prints loads again and prints the same. */
static void
test_print_round_trip(void **state)
{
	struct fixture *fixture = *state;
	struct config *config = load_ok(fixture, "round.ini", server_ini);
	char *first = print_to_string(config);
	struct config *again;
	char *second;
	const char *header_end = strchr(first, '\n');

	config_free(config);
	again = load_ok(fixture, "round-again.ini", header_end);
	second = print_to_string(again);
	assert_string_equal(strchr(second, '\n'), header_end);
	free(first);
	free(second);
	config_free(again);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minimal_file_has_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_graphql_url_derived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_stale_follows_expiration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhook_memory_follows_max_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_token_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_github_app_instead_of_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_ini, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_ini_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_ini_as_pastedeploy_reads_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_server_ini_interpolation_is_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_parsers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_masks_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
