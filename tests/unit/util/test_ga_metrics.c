/* test_ga_metrics.c - the Prometheus registry: exact text output, escaping, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "util/ga_buf.h"
#include "util/ga_metrics.h"
#include "util/ga_xalloc.h"

static char *
render(struct ga_metrics *metrics)
{
	struct ga_buf out;

	ga_buf_init(&out, 0);
	assert_true(ga_metrics_write(metrics, &out));
	return ga_buf_steal(&out);
}

static void
assert_text(struct ga_metrics *metrics, const char *expected)
{
	char *text = render(metrics);

	if (strcmp(text, expected) != 0)
		fail_msg("got:\n%s\nexpected:\n%s", text, expected);
	ga_free(text);
}

static void
test_counters_and_gauges(void **state)
{
	struct ga_metrics *metrics = ga_metrics_create();
	struct ga_metrics_counter *ok;
	struct ga_metrics_counter *refused;
	struct ga_metrics_gauge *age;

	(void)state;
	ok = ga_metrics_counter(metrics, "ghaccess_requests_total", "HTTP requests answered.",
				"endpoint", "verify", "outcome", "ok", NULL);
	refused = ga_metrics_counter(metrics, "ghaccess_requests_total",
				     "HTTP requests answered.", "endpoint", "verify", "outcome",
				     "refused", NULL);
	age = ga_metrics_gauge(metrics, "ghaccess_snapshot_age_seconds",
			       "Age of the organization data.", NULL);
	/* The same series again is the same handle. */
	assert_ptr_equal(ok, ga_metrics_counter(metrics, "ghaccess_requests_total",
						"HTTP requests answered.", "endpoint", "verify",
						"outcome", "ok", NULL));
	ga_metrics_counter_add(ok, 3);
	ga_metrics_counter_add(refused, 1);
	ga_metrics_counter_add(NULL, 1);
	ga_metrics_gauge_set(age, 12.5);
	ga_metrics_gauge_add(age, -2.5);
	assert_int_equal(ga_metrics_counter_value(ok), 3);
	assert_true(ga_metrics_gauge_value(age) == 10.0);
	assert_text(metrics,
		    "# HELP ghaccess_requests_total HTTP requests answered.\n"
		    "# TYPE ghaccess_requests_total counter\n"
		    "ghaccess_requests_total{endpoint=\"verify\",outcome=\"ok\"} 3\n"
		    "ghaccess_requests_total{endpoint=\"verify\",outcome=\"refused\"} 1\n"
		    "# HELP ghaccess_snapshot_age_seconds Age of the organization data.\n"
		    "# TYPE ghaccess_snapshot_age_seconds gauge\n"
		    "ghaccess_snapshot_age_seconds 10\n");
	ga_metrics_destroy(metrics);
}

static void
test_histogram(void **state)
{
	static const double bounds[] = {0.005, 0.01, 0.1, 1};
	struct ga_metrics *metrics = ga_metrics_create();
	struct ga_metrics_histogram *verify;
	struct ga_metrics_histogram *plain;

	(void)state;
	verify = ga_metrics_histogram(metrics, "ghaccess_request_seconds", "Request latency.",
				      bounds, 4, "endpoint", "verify", NULL);
	plain = ga_metrics_histogram(metrics, "ghaccess_sync_seconds", "Sync duration.", bounds,
				     1, NULL);
	ga_metrics_observe(verify, 0.001);
	ga_metrics_observe(verify, 0.005);	/* on a bound: that bucket */
	ga_metrics_observe(verify, 0.05);
	ga_metrics_observe(verify, 0.25);
	ga_metrics_observe(verify, 30);
	ga_metrics_observe(plain, 2);
	assert_int_equal(ga_metrics_histogram_count(verify), 5);
	assert_text(metrics,
		    "# HELP ghaccess_request_seconds Request latency.\n"
		    "# TYPE ghaccess_request_seconds histogram\n"
		    "ghaccess_request_seconds_bucket{endpoint=\"verify\",le=\"0.005\"} 2\n"
		    "ghaccess_request_seconds_bucket{endpoint=\"verify\",le=\"0.01\"} 2\n"
		    "ghaccess_request_seconds_bucket{endpoint=\"verify\",le=\"0.1\"} 3\n"
		    "ghaccess_request_seconds_bucket{endpoint=\"verify\",le=\"1\"} 4\n"
		    "ghaccess_request_seconds_bucket{endpoint=\"verify\",le=\"+Inf\"} 5\n"
		    "ghaccess_request_seconds_sum{endpoint=\"verify\"} 30.306\n"
		    "ghaccess_request_seconds_count{endpoint=\"verify\"} 5\n"
		    "# HELP ghaccess_sync_seconds Sync duration.\n"
		    "# TYPE ghaccess_sync_seconds histogram\n"
		    "ghaccess_sync_seconds_bucket{le=\"0.005\"} 0\n"
		    "ghaccess_sync_seconds_bucket{le=\"+Inf\"} 1\n"
		    "ghaccess_sync_seconds_sum 2\n"
		    "ghaccess_sync_seconds_count 1\n");
	ga_metrics_destroy(metrics);
}

static void
test_escaping(void **state)
{
	struct ga_metrics *metrics = ga_metrics_create();

	(void)state;
	ga_metrics_counter_add(ga_metrics_counter(metrics, "odd_total",
						  "Back\\slash and\nnew line \"kept\".", "path",
						  "a\\b\"c\nd", NULL),
			       7);
	assert_text(metrics,
		    "# HELP odd_total Back\\\\slash and\\nnew line \"kept\".\n"
		    "# TYPE odd_total counter\n"
		    "odd_total{path=\"a\\\\b\\\"c\\nd\"} 7\n");
	ga_metrics_destroy(metrics);
}

static double
read_constant(void *context)
{
	return *(const double *)context;
}

static void
test_callbacks(void **state)
{
	struct ga_metrics *metrics = ga_metrics_create();
	double hits = 41;
	double remaining = 4999.5;

	(void)state;
	ga_metrics_callback(metrics, GA_METRICS_COUNTER, "ghaccess_token_cache_hits_total",
			    "Token cache hits.", read_constant, &hits, NULL);
	ga_metrics_callback(metrics, GA_METRICS_GAUGE, "ghaccess_github_points_remaining",
			    "Points left.", read_constant, &remaining, "api", "graphql", NULL);
	hits++;
	assert_text(metrics,
		    "# HELP ghaccess_token_cache_hits_total Token cache hits.\n"
		    "# TYPE ghaccess_token_cache_hits_total counter\n"
		    "ghaccess_token_cache_hits_total 42\n"
		    "# HELP ghaccess_github_points_remaining Points left.\n"
		    "# TYPE ghaccess_github_points_remaining gauge\n"
		    "ghaccess_github_points_remaining{api=\"graphql\"} 4999.5\n");
	ga_metrics_destroy(metrics);
}

struct number_case {
	double value;
	const char *text;
};

static void
test_numbers(void **state)
{
	const struct number_case cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ -3, "-3" },
		{ 0.1, "0.1" },
		{ 0.005, "0.005" },
		{ 1.0 / 3.0, "0.3333333333333333" },
		{ 1e300, "1e+300" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 9007199254740992.0, "9007199254740992" },
		{ INFINITY, "+Inf" },
		{ -INFINITY, "-Inf" },
		{ NAN, "NaN" },
	};
	char text[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ga_metrics_format_number(cases[i].value, text);
		assert_string_equal(text, cases[i].text);
	}
}

/* A full buffer stops the output at a whole line. */
static void
test_buffer_limit(void **state)
{
	struct ga_metrics *metrics = ga_metrics_create();
	struct ga_buf out;

	(void)state;
	ga_metrics_counter(metrics, "a_total", "A.", NULL);
	ga_metrics_counter(metrics, "b_total", "B.", NULL);
	ga_buf_init(&out, 60);
	assert_false(ga_metrics_write(metrics, &out));
	assert_string_equal(ga_buf_cstr(&out), "# HELP a_total A.\n# TYPE a_total counter\n"
			    "a_total 0\n");
	ga_buf_free(&out);
	ga_metrics_destroy(metrics);
}

struct worker {
	struct ga_metrics_counter *counter;
	struct ga_metrics_histogram *histogram;
	struct ga_metrics_gauge *gauge;
};

static void *
hammer(void *arg)
{
	struct worker *worker = arg;

	for (int i = 0; i < 100000; i++) {
		ga_metrics_counter_add(worker->counter, 1);
		ga_metrics_observe(worker->histogram, 0.5);
		ga_metrics_gauge_add(worker->gauge, 1);
	}
	return NULL;
}

/* Lock-free updates from many threads lose nothing. */
static void
test_threads(void **state)
{
	static const double bounds[] = {1};
	struct ga_metrics *metrics = ga_metrics_create();
	struct worker worker;
	pthread_t threads[8];
	char *text;

	(void)state;
	worker.counter = ga_metrics_counter(metrics, "hits_total", "Hits.", NULL);
	worker.histogram = ga_metrics_histogram(metrics, "h_seconds", "H.", bounds, 1, NULL);
	worker.gauge = ga_metrics_gauge(metrics, "g", "G.", NULL);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, hammer, &worker), 0);
	for (int i = 0; i < 8; i++) {
		/* Writing while others update is fine. */
		text = render(metrics);
		ga_free(text);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(ga_metrics_counter_value(worker.counter), 800000);
	assert_int_equal(ga_metrics_histogram_count(worker.histogram), 800000);
	assert_true(ga_metrics_gauge_value(worker.gauge) == 800000.0);
	text = render(metrics);
	assert_non_null(strstr(text, "h_seconds_sum 400000\n"));
	assert_non_null(strstr(text, "h_seconds_bucket{le=\"1\"} 800000\n"));
	ga_free(text);
	ga_metrics_destroy(metrics);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_and_gauges),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_callbacks),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_buffer_limit),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
