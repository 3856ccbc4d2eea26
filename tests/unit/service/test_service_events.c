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

#include "service/service_internal.h"
#include "util/ga_buf.h"
#include "util/ga_file.h"
#include "util/ga_log.h"
#include "util/ga_metrics.h"
#include "util/ga_xalloc.h"

#include "../support/scenario.h"

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
	return config;
}

static struct fixture *
start(void)
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
	if (service_create(offline_config(), &options, &fixture->service, &err) != GA_OK)
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

static long
member_of(struct service *service, const char *login)
{
	const struct service_view *view = service_acquire_view_any_age(service);
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
	assert_int_equal(service_deliver_webhook(service, "organization", "delivery-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	assert_true(wait_member(service, "bob", false, 2000));
	assert_true(member_of(service, "carol") >= 0);
	/* The same delivery again: a replay. */
	body = fixture_body("organization.member_removed", &len);
	assert_int_equal(service_deliver_webhook(service, "organization", "delivery-1", body, len),
			 SERVICE_DELIVERY_DUPLICATE);
	/* No delivery id, or an event name that is not one. */
	assert_int_equal(service_deliver_webhook(service, "organization", NULL, ga_strdup("{}"), 2),
			 SERVICE_DELIVERY_INVALID);
	assert_int_equal(service_deliver_webhook(service, "Bad Event", "delivery-2",
						 ga_strdup("{}"), 2),
			 SERVICE_DELIVERY_INVALID);
	assert_metric(service, "ghaccess_webhook_deliveries_total{result=\"accepted\"} 1\n");
	assert_metric(service, "ghaccess_webhook_deliveries_total{result=\"duplicate\"} 1\n");
	assert_metric(service, "ghaccess_webhook_deliveries_total{result=\"invalid\"} 2\n");
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
	assert_int_equal(service_deliver_webhook(service, "organization", "d-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	assert_true(wait_member(service, "bob", false, 2000));
	/* Data read a second before the delivery, still listing bob. */
	assert_int_equal(org_snapshot_build(worked_example(now - 1), config, &snapshot, NULL),
			 GA_OK);
	assert_true(service_publish(service, snapshot, config));
	assert_true(member_of(service, "bob") < 0);
	assert_metric(service, "ghaccess_webhook_revocations_pending 1\n");
	/* GitHub's data read later says bob is a member (added back): it wins. */
	assert_int_equal(org_snapshot_build(worked_example(now + 2), config, &snapshot, NULL),
			 GA_OK);
	assert_true(service_publish(service, snapshot, config));
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
	assert_int_equal(service_deliver_webhook(service, "membership", "m-1", body, len),
			 SERVICE_DELIVERY_ACCEPTED);
	for (int i = 0; i < 200; i++) {
		view = service_acquire_view_any_age(service);
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
	assert_int_equal(service_deliver_webhook(service, "organization", "x-1",
						 ga_strdup("payload=%7B%7D"), 14),
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
	assert_int_equal(service_deliver_webhook(service, "team", "t-1", body, len),
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_removal_applies_at_once),
		cmocka_unit_test(test_removal_outlives_older_data),
		cmocka_unit_test(test_team_removal),
		cmocka_unit_test(test_malformed_payload),
		cmocka_unit_test(test_event_asks_for_refresh),
	};

	ga_log_setup(GA_LOG_ERROR, GA_LOG_LOGFMT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
