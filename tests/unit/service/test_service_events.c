/* test_service_events.c - webhook deliveries through the service: queue, removals applied at once, metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/service_pipeline.h"
#include "util/ga_clock.h"
#include "service/service_webhook.h"
#include "util/ga_buf.h"
#include "util/ga_file.h"
#include "util/ga_log.h"
#include "util/ga_metrics.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#include "../support/scenario.h"

#define SECRET "events-test-secret"
#define VECTOR_ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

struct fixture {
	char snapshot_path[64];
	struct service *service;
};

/* The worked example as an org_input whose data was read at synced_at. */
static struct org_input *
worked_example(long long synced_at)
{
	char *path = ga_asprintf("%s/worked-example.json", scenario_directory());
	json_t *scenario = scenario_load(path);
	struct org_input *input = scenario_to_input(scenario);

	input->synced_at = synced_at;
	json_decref(scenario);
	ga_free(path);
	return input;
}

static struct config *
offline_config(void)
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
	config->poll_interval = 0;
	config->webhook_debounce_ms = 100;
	config->webhook_secret = ga_strdup(SECRET);
	return config;
}

static struct fixture *start_with(struct config *config);

static struct fixture *
start(void)
{
	return start_with(offline_config());
}

static struct fixture *
start_with(struct config *config)
{
	struct fixture *fixture = ga_calloc(1, sizeof(*fixture));
	struct service_options options = { fixture->snapshot_path, NULL };
	struct org_input *input = worked_example((long long)time(NULL) - 10);
	struct ga_err err = {0};
	char *text = org_input_to_json(input);
	FILE *file;
	int fd;

	snprintf(fixture->snapshot_path, sizeof(fixture->snapshot_path),
		 "/tmp/test-service-events-XXXXXX");
	fd = mkstemp(fixture->snapshot_path);
	assert_true(fd >= 0);
	file = fdopen(fd, "w");
	fputs(text, file);
	fclose(file);
	ga_free(text);
	org_input_free(input);
	if (service_create(config, &options, &fixture->service, &err) != GA_OK)
		fail_msg("service_create: %s", err.message);
	if (service_start(fixture->service, &err) != GA_OK)
		fail_msg("service_start: %s", err.message);
	return fixture;
}

static void
finish(struct fixture *fixture)
{
	service_destroy(fixture->service);
	unlink(fixture->snapshot_path);
	ga_free(fixture);
}

static char *
fixture_body(const char *name, size_t *len)
{
	char *path = ga_asprintf("tests/data/webhook/%s.json", name);
	struct ga_buf body;
	struct ga_err err = {0};

	if (ga_file_read(path, (size_t)1 << 20, &body, &err) != GA_OK)
		fail_msg("%s", err.message);
	ga_free(path);
	*len = body.len;
	return ga_buf_steal(&body);
}

/* text (len bytes, taken) read as POST /webhook reads a body, with the
 * signature header header, or a good one when header is NULL. */
static struct service_webhook_body *
read_body(struct service *service, char *text, size_t len, const char *header)
{
	struct service_webhook_body_limits limits = { (size_t)1 << 20, (size_t)4 << 20 };
	struct service_webhook_body *body = NULL;
	uint8_t digest[GA_HMAC_SIZE];
	char good[8 + 2 * GA_HMAC_SIZE];

	ga_hmac_sha256(SECRET, strlen(SECRET), text, len, digest);
	memcpy(good, "sha256=", 7);
	ga_hex(digest, GA_HMAC_SIZE, good + 7);
	assert_int_equal(service_webhook_body_begin(service_webhook_budget(service), &limits,
						    SECRET, strlen(SECRET),
						    header != NULL ? header : good,
						    (long long)len, &body),
			 SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(service_webhook_body_append(body, text, len), SERVICE_WEBHOOK_BODY_OK);
	service_webhook_body_finish(body);
	ga_free(text);
	return body;
}

/* A signed delivery of text (taken). */
static enum service_delivery
deliver(struct service *service, const char *event, const char *delivery, char *text, size_t len)
{
	return service_deliver_webhook(service, event, delivery,
				       read_body(service, text, len, NULL));
}

/* Wait until the webhook thread has handled every delivery (their bodies
 * are freed, and the budget is empty again). */
static bool
wait_handled(struct service *service)
{
	for (int i = 0; i < 500; i++) {
		if (service_webhook_budget_held(service_webhook_budget(service)) == 0)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

static long
member_of(struct service *service, const char *login)
{
	const struct service_view *view =
		service_publisher_acquire(service_publisher_of(service));
	long member = org_snapshot_find_member(service_view_snapshot(view), login);

	service_release_view(view);
	return member;
}

/* Wait up to timeout_ms for login's membership to become expected. */
static bool
wait_member(struct service *service, const char *login, bool expected, long timeout_ms)
{
	for (long waited = 0; waited <= timeout_ms; waited += 10) {
		if ((member_of(service, login) >= 0) == expected)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

static char *
metrics_text(struct service *service)
{
	struct ga_buf out;

	ga_buf_init(&out, 0);
	assert_true(ga_metrics_write(service_metrics(service), &out));
	return ga_buf_steal(&out);
}

static void
assert_metric(struct service *service, const char *line)
{
	char *text = metrics_text(service);

	if (strstr(text, line) == NULL)
		fail_msg("no \"%s\" in:\n%s", line, text);
	ga_free(text);
}

static void
test_removal_applies_at_once(void **state)
{
	struct fixture *fixture = start();
	struct service *service = fixture->service;
	size_t len;
	char *body = fixture_body("organization.member_removed", &len);

	(void)state;
	assert_true(member_of(service, "bob") >= 0);
	assert_int_equal(deliver(service, "organization", "delivery-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	assert_true(wait_member(service, "bob", false, 2000));
	assert_true(member_of(service, "carol") >= 0);
	/* The same delivery again: a redelivery. */
	body = fixture_body("organization.member_removed", &len);
	assert_int_equal(deliver(service, "organization", "delivery-1", body, len),
			 SERVICE_DELIVERY_DUPLICATE);
	/* The same signed body under a new id: a replay. */
	body = fixture_body("organization.member_removed", &len);
	assert_int_equal(deliver(service, "organization", "delivery-9", body, len),
			 SERVICE_DELIVERY_REPLAY);
	/* No delivery id, or an event name that is not one. */
	assert_int_equal(deliver(service, "organization", NULL, ga_strdup("{}"), 2),
			 SERVICE_DELIVERY_INVALID);
	assert_int_equal(deliver(service, "Bad Event", "delivery-2", ga_strdup("{}"), 2),
			 SERVICE_DELIVERY_INVALID);
	/* A body whose signature did not verify is never queued. */
	assert_int_equal(service_deliver_webhook(service, "organization", "delivery-3",
						 read_body(service, ga_strdup("{}"), 2,
							   "sha256=" VECTOR_ZEROS)),
			 SERVICE_DELIVERY_BAD_SIGNATURE);
	assert_int_equal(service_deliver_webhook(service, "organization", "delivery-4", NULL),
			 SERVICE_DELIVERY_BAD_SIGNATURE);
	/* Every body's memory is given back once handled or refused (and the
	 * thread is done with the removal, counted after it was applied). */
	assert_true(wait_handled(service));
	assert_metric(service, "ghaccess_webhook_deliveries_total{result=\"accepted\"} 1\n");
	assert_metric(service, "ghaccess_webhook_deliveries_total{result=\"duplicate\"} 1\n");
	assert_metric(service, "ghaccess_webhook_deliveries_total{result=\"replay\"} 1\n");
	assert_metric(service, "ghaccess_webhook_deliveries_total{result=\"invalid\"} 2\n");
	assert_metric(service, "ghaccess_webhook_deliveries_total{result=\"bad_signature\"} 2\n");
	assert_metric(service, "ghaccess_webhook_removals_total 1\n");
	finish(fixture);
}

/*
 * A sync that read GitHub before the removal (it was running when the
 * delivery came) must not bring bob back; one that read it afterwards
 * decides, whatever it says.
 */
static void
test_removal_outlives_older_data(void **state)
{
	struct fixture *fixture = start();
	struct service *service = fixture->service;
	const struct config *config = service_config(service);
	struct org_snapshot *snapshot = NULL;
	long long now = (long long)time(NULL);
	size_t len;
	char *body = fixture_body("organization.member_removed", &len);

	(void)state;
	assert_int_equal(deliver(service, "organization", "d-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	assert_true(wait_member(service, "bob", false, 2000));
	/* Data read a second before the delivery, still listing bob. */
	assert_int_equal(org_snapshot_build(worked_example(now - 1), config, &snapshot, NULL),
			 GA_OK);
	assert_true(service_publisher_snapshot(service_publisher_of(service), snapshot,
					       config));
	assert_true(member_of(service, "bob") < 0);
	assert_metric(service, "ghaccess_webhook_revocations_pending 1\n");
	/* GitHub's data read later says bob is a member (added back): it wins. */
	assert_int_equal(org_snapshot_build(worked_example(now + 2), config, &snapshot, NULL),
			 GA_OK);
	assert_true(service_publisher_snapshot(service_publisher_of(service), snapshot,
					       config));
	assert_true(member_of(service, "bob") >= 0);
	assert_metric(service, "ghaccess_webhook_revocations_pending 0\n");
	finish(fixture);
}

/*
 * bob is removed, then a member_added for him arrives (a replay of an old
 * delivery, outside the replay window, or a real re-add): data read before
 * the removal still must not bring him back; only a sync started after the
 * removal may.
 */
static void
test_member_added_keeps_the_removal(void **state)
{
	struct fixture *fixture = start();
	struct service *service = fixture->service;
	const struct config *config = service_config(service);
	struct org_snapshot *snapshot = NULL;
	long long now = (long long)time(NULL);
	size_t len;
	char *body = fixture_body("organization.member_removed", &len);

	(void)state;
	assert_int_equal(deliver(service, "organization", "r-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	assert_true(wait_member(service, "bob", false, 2000));
	body = fixture_body("organization.member_added", &len);
	assert_int_equal(deliver(service, "organization", "a-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	assert_true(wait_handled(service));
	assert_int_equal(org_snapshot_build(worked_example(now - 1), config, &snapshot, NULL),
			 GA_OK);
	assert_true(service_publisher_snapshot(service_publisher_of(service), snapshot,
					       config));
	assert_true(member_of(service, "bob") < 0);
	assert_metric(service, "ghaccess_webhook_revocations_pending 1\n");
	finish(fixture);
}

/*
 * The sync a removal asks for usually starts within the same second: it is
 * compared with the removal at millisecond precision.  Data read a
 * millisecond after the removal ends it; data read a millisecond before
 * (in the same second) keeps it.
 */
static void
test_removal_ends_with_the_next_sync(void **state)
{
	struct fixture *fixture = start();
	struct service *service = fixture->service;
	const struct config *config = service_config(service);
	struct org_snapshot *snapshot = NULL;
	struct org_input *input;
	long long before_ms = ga_wall_ms();
	long long removed_ms;
	size_t len;
	char *body = fixture_body("organization.member_removed", &len);

	(void)state;
	assert_int_equal(deliver(service, "organization", "s-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	assert_true(wait_member(service, "bob", false, 2000));
	removed_ms = ga_wall_ms();
	/* Read just before the delivery was handled: bob stays out. */
	input = worked_example(before_ms / 1000);
	input->synced_at_ms = before_ms - 1;
	assert_int_equal(org_snapshot_build(input, config, &snapshot, NULL), GA_OK);
	assert_true(service_publisher_snapshot(service_publisher_of(service), snapshot,
					       config));
	assert_true(member_of(service, "bob") < 0);
	/* Read after it, even within the same second: GitHub's data decides. */
	input = worked_example(removed_ms / 1000);
	input->synced_at_ms = removed_ms + 1;
	assert_int_equal(org_snapshot_build(input, config, &snapshot, NULL), GA_OK);
	assert_true(service_publisher_snapshot(service_publisher_of(service), snapshot,
					       config));
	assert_true(member_of(service, "bob") >= 0);
	assert_metric(service, "ghaccess_webhook_revocations_pending 0\n");
	finish(fixture);
}

/* A team removal takes the team's grants from that member only. */
static void
test_team_removal(void **state)
{
	struct fixture *fixture = start();
	struct service *service = fixture->service;
	const struct service_view *view;
	const struct org_snapshot *snapshot;
	long carol;
	size_t count = 0;
	size_t len;
	char *body = fixture_body("membership.removed", &len);

	(void)state;
	assert_int_equal(deliver(service, "membership", "m-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	for (int i = 0; i < 200; i++) {
		view = service_publisher_acquire(service_publisher_of(service));
		snapshot = service_view_snapshot(view);
		carol = org_snapshot_find_member(snapshot, "carol");
		org_snapshot_member_groups(snapshot, carol, &count);
		service_release_view(view);
		if (count == 0)
			break;
		usleep(10 * 1000);
	}
	/* carol was only in platform-infra (and so in its parent platform). */
	assert_int_equal(count, 0);
	assert_true(member_of(service, "carol") >= 0);
	finish(fixture);
}

/* Not JSON: accepted (the answer comes first), then counted as malformed. */
static void
test_malformed_payload(void **state)
{
	struct fixture *fixture = start();
	struct service *service = fixture->service;
	char *text = NULL;

	(void)state;
	assert_int_equal(deliver(service, "organization", "x-1", ga_strdup("payload=%7B%7D"), 14),
			 SERVICE_DELIVERY_ACCEPTED);
	for (int i = 0; i < 200; i++) {
		ga_free(text);
		text = metrics_text(service);
		if (strstr(text, "ghaccess_webhook_deliveries_total{result=\"malformed\"} 1\n"))
			break;
		usleep(10 * 1000);
	}
	assert_non_null(strstr(text, "ghaccess_webhook_deliveries_total{result=\"malformed\"} 1\n"));
	ga_free(text);
	assert_true(member_of(service, "bob") >= 0);
	finish(fixture);
}

/* A relevant event asks for a refresh after the debounce: the refresh
 * thread then tries GitHub (unreachable here: a failed sync). */
static void
test_event_asks_for_refresh(void **state)
{
	struct fixture *fixture = start();
	struct service *service = fixture->service;
	struct service_health health;
	size_t len;
	char *body = fixture_body("team.edited", &len);

	(void)state;
	assert_int_equal(deliver(service, "team", "t-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	for (int i = 0; i < 500; i++) {
		service_get_health(service, &health);
		if (health.counters.syncs_failed > 0)
			break;
		usleep(10 * 1000);
	}
	assert_true(health.counters.syncs_failed > 0);
	assert_metric(service, "ghaccess_webhook_refreshes_total 1\n");
	finish(fixture);
}

/* With memcached down, the changes this instance learned wait for it, at
 * most SERVICE_SHARED_PENDING_MAX of them (the oldest are dropped, and the
 * log will be reset so that every instance syncs). */
static void
test_shared_changes_wait_bounded(void **state)
{
	struct config *config = offline_config();
	struct fixture *fixture;
	struct service_shared *shared;
	struct service_health health;
	struct service_change change;

	(void)state;
	config->cache_backend = CONFIG_CACHE_MEMCACHE;
	ga_free(config->memcache_url);
	config->memcache_url = ga_strdup("127.0.0.1:9");	/* nothing listens */
	config->secret = ga_strdup("a shared secret of the test instances");
	fixture = start_with(config);
	shared = service_shared_of(fixture->service);
	assert_non_null(shared);
	memset(&change, 0, sizeof(change));
	change.removal.kind = SERVICE_WEBHOOK_REMOVE_MEMBER;
	snprintf(change.removal.login, sizeof(change.removal.login), "bob");
	for (int i = 0; i < SERVICE_SHARED_PENDING_MAX + 10; i++) {
		change.at_ms = ga_wall_ms();
		service_shared_append(shared, &change);
	}
	service_get_health(fixture->service, &health);
	assert_int_equal(health.counters.shared_changes_pending, SERVICE_SHARED_PENDING_MAX);
	assert_int_equal(health.counters.shared_changes_appended, 0);
	finish(fixture);
}

/* Without memcached there is no shared log at all. */
static void
test_no_shared_log_without_memcached(void **state)
{
	struct fixture *fixture = start();

	(void)state;
	assert_null(service_shared_of(fixture->service));
	finish(fixture);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_removal_applies_at_once),
		cmocka_unit_test(test_removal_outlives_older_data),
		cmocka_unit_test(test_member_added_keeps_the_removal),
		cmocka_unit_test(test_removal_ends_with_the_next_sync),
		cmocka_unit_test(test_team_removal),
		cmocka_unit_test(test_malformed_payload),
		cmocka_unit_test(test_event_asks_for_refresh),
		cmocka_unit_test(test_shared_changes_wait_bounded),
		cmocka_unit_test(test_no_shared_log_without_memcached),
	};

	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
