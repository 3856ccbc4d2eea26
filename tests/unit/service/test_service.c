/* test_service.c - views, derivations, staleness and the login syntax of src/service/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/service_pipeline.h"
#include "util/ga_clock.h"
#include "../support/scenario.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* What the test derivation builds: which snapshot it was built from. */
struct derived {
	const struct org_snapshot *snapshot;
	size_t packages;
};

static atomic_int builds;
static atomic_int destroys;

static void *
derive(const struct org_snapshot *snapshot, const struct config *config)
{
	struct derived *derived = ga_calloc(1, sizeof(*derived));

	(void)config;
	derived->snapshot = snapshot;
	derived->packages = org_snapshot_package_count(snapshot);
	atomic_fetch_add(&builds, 1);
	return derived;
}

static void
underive(void *data)
{
	atomic_fetch_add(&destroys, 1);
	ga_free(data);
}

static const struct service_derivation test_derivation = {
	.name = "test",
	.build = derive,
	.destroy = underive,
};

static const struct service_derivation *const derivations[] = { &test_derivation, NULL };

struct fixture {
	char snapshot_path[64];
	char *snapshot_text;
	struct service *service;
};

/* The worked example as a snapshot file whose data is age seconds old. */
static char *
worked_example_text(long long age)
{
	char *path = ga_asprintf("%s/worked-example.json", scenario_directory());
	json_t *scenario = scenario_load(path);
	struct org_input *input = scenario_to_input(scenario);
	char *text;

	input->synced_at = (long long)time(NULL) - age;
	text = org_input_to_json(input);
	org_input_free(input);
	json_decref(scenario);
	ga_free(path);
	return text;
}

static struct config *
offline_config(int max_stale)
{
	struct config *config = config_new_defaults();

	config->organization = ga_strdup("acme");
	config->token = ga_strdup("ghp_unused_in_these_tests");
	ga_free(config->api_url);
	config->api_url = ga_strdup("http://127.0.0.1:9");
	ga_free(config->graphql_url);
	config->graphql_url = ga_strdup("http://127.0.0.1:9/graphql");
	config->http_timeout = 2;
	config->connect_timeout = 1;
	config->max_stale = max_stale;
	return config;
}

static struct fixture *
start(long long age, int max_stale)
{
	struct fixture *fixture = ga_calloc(1, sizeof(*fixture));
	struct service_options options = { fixture->snapshot_path, derivations };
	struct ga_err err = {0};
	FILE *file;
	int fd;

	snprintf(fixture->snapshot_path, sizeof(fixture->snapshot_path),
		 "/tmp/test-service-XXXXXX");
	fd = mkstemp(fixture->snapshot_path);
	assert_true(fd >= 0);
	fixture->snapshot_text = worked_example_text(age);
	file = fdopen(fd, "w");
	fputs(fixture->snapshot_text, file);
	fclose(file);
	atomic_store(&builds, 0);
	atomic_store(&destroys, 0);
	if (service_create(offline_config(max_stale), &options, &fixture->service, &err) != GA_OK)
		fail_msg("service_create: %s", err.message);
	return fixture;
}

static void
finish(struct fixture *fixture)
{
	service_destroy(fixture->service);
	assert_int_equal(atomic_load(&builds), atomic_load(&destroys));
	unlink(fixture->snapshot_path);
	ga_free(fixture->snapshot_text);
	ga_free(fixture);
}

static void
test_view_carries_derived_data(void **state)
{
	struct fixture *fixture = start(0, 3600);
	const struct service_view *view;
	const struct derived *derived;
	struct org_snapshot *snapshot;
	struct service_health health;

	(void)state;
	view = service_acquire_view(fixture->service);
	assert_non_null(view);
	derived = service_view_derived(view, &test_derivation);
	assert_non_null(derived);
	assert_ptr_equal(derived->snapshot, service_view_snapshot(view));
	assert_int_equal(derived->packages, 3);
	assert_int_equal(org_snapshot_member_count(service_view_snapshot(view)), 4);
	service_release_view(view);

	snapshot = service_acquire_snapshot(fixture->service);
	assert_non_null(snapshot);
	org_snapshot_release(snapshot);

	service_get_health(fixture->service, &health);
	assert_true(health.ready);
	assert_null(health.reason);
	assert_int_equal(health.packages, 3);
	assert_int_equal(health.teams, 2);
	assert_string_equal(health.organization, "acme");
	assert_string_equal(health.cache, "memory");
	finish(fixture);
}

/* Older than max_stale: no view, no snapshot, and /health says why. */
static void
test_stale_snapshot_fails_closed(void **state)
{
	struct fixture *fixture = start(600, 60);
	struct service_health health;

	(void)state;
	assert_null(service_acquire_view(fixture->service));
	assert_null(service_acquire_snapshot(fixture->service));
	service_get_health(fixture->service, &health);
	assert_false(health.ready);
	assert_true(health.has_snapshot);
	assert_true(health.snapshot_age >= 600);
	assert_non_null(strstr(health.reason, "max_stale"));
	assert_int_equal(service_verify_login(fixture->service, NULL, "bob", "ghp_bob", NULL),
			 SERVICE_LOGIN_NO_SNAPSHOT);
	finish(fixture);
}

/* Impossible logins and tokens are refused without asking anybody. */
static void
test_login_syntax(void **state)
{
	static const struct { const char *user, *token; } malformed[] = {
		{ "", "ghp_x" }, { "-bob", "ghp_x" }, { "bob-", "ghp_x" }, { "bo--b", "ghp_x" },
		{ "b_o", "ghp_x" }, { "0123456789012345678901234567890123456789", "ghp_x" },
		{ "bob", "" }, { "bob", "ghp x" }, { "bob", "ghp\x01" }, { "bob", "t\xc3\xa9" },
		{ NULL, "ghp_x" }, { "bob", NULL },
	};
	struct fixture *fixture = start(0, 3600);
	const struct service_view *view = service_acquire_view(fixture->service);
	const struct org_snapshot *snapshot = service_view_snapshot(view);
	char *long_token = ga_malloc(257);
	long member = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		assert_int_equal(service_verify_login(fixture->service, snapshot, malformed[i].user,
						      malformed[i].token, &member),
				 SERVICE_LOGIN_MALFORMED);
	assert_int_equal(member, -1);
	memset(long_token, 'a', 256);
	long_token[256] = '\0';
	assert_int_equal(service_verify_login(fixture->service, snapshot, "bob", long_token, NULL),
			 SERVICE_LOGIN_MALFORMED);
	/* GitHub is unreachable here: a well-formed pair cannot be verified. */
	assert_int_equal(service_verify_login(fixture->service, snapshot, "bob", "ghp_token", NULL),
			 SERVICE_LOGIN_UNVERIFIED);
	assert_string_equal(service_login_reason(SERVICE_LOGIN_NOT_MEMBER),
			    "not a member of the organization");
	ga_free(long_token);
	service_release_view(view);
	finish(fixture);
}

struct reader {
	struct service *service;
	atomic_bool *stop;
	unsigned long long reads;
	bool consistent;
};

/* Readers check, while views are swapped under them, that a view's
 * derived data is the one built from its own snapshot (ASan catches a
 * view freed too early). */
static void *
read_views(void *arg)
{
	struct reader *reader = arg;

	while (!atomic_load(reader->stop)) {
		const struct service_view *view = service_acquire_view(reader->service);
		const struct derived *derived;

		if (view == NULL)
			continue;
		derived = service_view_derived(view, &test_derivation);
		if (derived == NULL || derived->snapshot != service_view_snapshot(view) ||
		    derived->packages != org_snapshot_package_count(derived->snapshot))
			reader->consistent = false;
		service_release_view(view);
		reader->reads++;
	}
	return NULL;
}

static void
test_publication_under_readers(void **state)
{
	struct fixture *fixture = start(0, 3600);
	const struct config *config = service_config(fixture->service);
	struct reader readers[4];
	pthread_t threads[4];
	atomic_bool stop = false;

	(void)state;
	for (int i = 0; i < 4; i++) {
		readers[i] = (struct reader){ fixture->service, &stop, 0, true };
		pthread_create(&threads[i], NULL, read_views, &readers[i]);
	}
	for (int round = 0; round < 200; round++) {
		struct org_input *input = NULL;
		struct org_snapshot *snapshot = NULL;

		assert_int_equal(org_input_from_json(fixture->snapshot_text,
						     strlen(fixture->snapshot_text), &input, NULL),
				 GA_OK);
		input->synced_at += round;
		assert_int_equal(org_snapshot_build(input, config, &snapshot, NULL), GA_OK);
		assert_true(service_publisher_snapshot(service_publisher_of(fixture->service),
						       snapshot, config));
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		assert_true(readers[i].consistent);
		assert_true(readers[i].reads > 0);
	}
	/* An older snapshot never replaces a newer one. */
	{
		struct org_input *input = NULL;
		struct org_snapshot *snapshot = NULL;

		assert_int_equal(org_input_from_json(fixture->snapshot_text,
						     strlen(fixture->snapshot_text), &input, NULL),
				 GA_OK);
		input->synced_at -= 10;
		assert_int_equal(org_snapshot_build(input, config, &snapshot, NULL), GA_OK);
		assert_false(service_publisher_snapshot(service_publisher_of(fixture->service),
							snapshot, config));
	}
	assert_int_equal(atomic_load(&builds), 202);
	finish(fixture);
}

static void
test_bad_snapshot_file(void **state)
{
	static const char *const contents[] = {
		"", "{", "{\"format\": \"ghaccess-snapshot\", \"version\": 99}", "[]",
	};
	struct service_options options = { NULL, derivations };

	(void)state;
	for (size_t i = 0; i < sizeof(contents) / sizeof(contents[0]); i++) {
		char path[] = "/tmp/test-service-bad-XXXXXX";
		int fd = mkstemp(path);
		struct service *service = NULL;
		struct ga_err err = {0};

		assert_true(fd >= 0);
		assert_int_equal(write(fd, contents[i], strlen(contents[i])),
				 (ssize_t)strlen(contents[i]));
		close(fd);
		options.snapshot_path = path;
		assert_int_not_equal(service_create(offline_config(3600), &options, &service, &err),
				     GA_OK);
		assert_null(service);
		assert_non_null(strstr(err.message, path));
		unlink(path);
	}
	options.snapshot_path = "/nonexistent/snapshot.json";
	{
		struct service *service = NULL;
		struct ga_err err = {0};

		assert_int_equal(service_create(offline_config(3600), &options, &service, &err),
				 GA_EIO);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_carries_derived_data),
		cmocka_unit_test(test_stale_snapshot_fails_closed),
		cmocka_unit_test(test_login_syntax),
		cmocka_unit_test(test_publication_under_readers),
		cmocka_unit_test(test_bad_snapshot_file),
	};

	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	setenv("GHACCESS_TEST_TIME_SCALE", "0.01", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
