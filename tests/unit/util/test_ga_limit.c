/* test_ga_limit.c - admission bounds: in all, per key, by weight, from threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "util/ga_limit.h"

static void
test_total_and_per_key(void **state)
{
	struct ga_limit *limit = ga_limit_create(3, 2, 0);
	unsigned holders = 99;

	(void)state;
	assert_int_equal(ga_limit_take(limit, "bob", 0), GA_LIMIT_OK);
	assert_int_equal(ga_limit_take(limit, "bob", 0), GA_LIMIT_OK);
	/* A third for bob: his bound, though the total has room. */
	assert_int_equal(ga_limit_take(limit, "bob", 0), GA_LIMIT_KEY);
	assert_int_equal(ga_limit_take(limit, "carol", 0), GA_LIMIT_OK);
	/* Full in all: anybody is refused. */
	assert_int_equal(ga_limit_take(limit, "dave", 0), GA_LIMIT_TOTAL);
	ga_limit_usage(limit, &holders, NULL);
	assert_int_equal(holders, 3);
	ga_limit_give(limit, "bob", 0);
	assert_int_equal(ga_limit_take(limit, "dave", 0), GA_LIMIT_OK);
	assert_int_equal(ga_limit_take(limit, "bob", 0), GA_LIMIT_TOTAL);
	ga_limit_give(limit, "carol", 0);
	assert_int_equal(ga_limit_take(limit, "bob", 0), GA_LIMIT_OK);
	ga_limit_give(limit, "bob", 0);
	ga_limit_give(limit, "bob", 0);
	ga_limit_give(limit, "dave", 0);
	ga_limit_usage(limit, &holders, NULL);
	assert_int_equal(holders, 0);
	assert_string_equal(ga_limit_result_name(GA_LIMIT_KEY), "per key");
	ga_limit_destroy(limit);
}

static void
test_weight(void **state)
{
	struct ga_limit *limit = ga_limit_create(10, 0, 1000);
	long long weight = -1;

	(void)state;
	assert_int_equal(ga_limit_take(limit, "bob", 600), GA_LIMIT_OK);
	assert_int_equal(ga_limit_take(limit, "bob", 401), GA_LIMIT_WEIGHT);
	assert_int_equal(ga_limit_take(limit, "carol", 400), GA_LIMIT_OK);
	ga_limit_usage(limit, NULL, &weight);
	assert_int_equal(weight, 1000);
	/* A weight over the whole bound can never be taken. */
	ga_limit_give(limit, "bob", 600);
	ga_limit_give(limit, "carol", 400);
	assert_int_equal(ga_limit_take(limit, "erin", 1001), GA_LIMIT_WEIGHT);
	assert_int_equal(ga_limit_take(limit, "erin", 1000), GA_LIMIT_OK);
	ga_limit_give(limit, "erin", 1000);
	/* per_key 0: as many as the total. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(ga_limit_take(limit, "bob", 0), GA_LIMIT_OK);
	/* At both bounds, the key's is named first (the most useful reason). */
	assert_int_equal(ga_limit_take(limit, "bob", 0), GA_LIMIT_KEY);
	assert_int_equal(ga_limit_take(limit, "carol", 0), GA_LIMIT_TOTAL);
	ga_limit_destroy(limit);
}

static void
test_odd_keys_and_gives(void **state)
{
	struct ga_limit *limit = ga_limit_create(2, 1, 0);
	char longest[GA_LIMIT_KEY_MAX + 1];
	unsigned holders = 99;

	(void)state;
	memset(longest, 'x', GA_LIMIT_KEY_MAX);
	longest[GA_LIMIT_KEY_MAX] = '\0';
	/* A key that cannot be stored is refused, never truncated onto another. */
	assert_int_equal(ga_limit_take(limit, longest, 0), GA_LIMIT_KEY);
	longest[GA_LIMIT_KEY_MAX - 1] = '\0';
	assert_int_equal(ga_limit_take(limit, longest, 0), GA_LIMIT_OK);
	/* Keys are exact: "Bob" is not "bob" (callers normalise). */
	assert_int_equal(ga_limit_take(limit, "Bob", 0), GA_LIMIT_OK);
	/* A give that was never taken changes nothing. */
	ga_limit_give(limit, "nobody", 0);
	ga_limit_usage(limit, &holders, NULL);
	assert_int_equal(holders, 2);
	assert_int_equal(ga_limit_take(limit, "", 0), GA_LIMIT_TOTAL);
	ga_limit_destroy(limit);
}

struct race {
	struct ga_limit *limit;
	atomic_int inside;
	atomic_int most;
	char key[8];
};

static void *
race_main(void *arg)
{
	struct race *race = arg;

	for (int i = 0; i < 2000; i++) {
		if (ga_limit_take(race->limit, race->key, 10) != GA_LIMIT_OK)
			continue;
		int now = atomic_fetch_add(&race->inside, 1) + 1;
		int most = atomic_load(&race->most);

		while (now > most && !atomic_compare_exchange_weak(&race->most, &most, now))
			continue;
		atomic_fetch_sub(&race->inside, 1);
		ga_limit_give(race->limit, race->key, 10);
	}
	return NULL;
}

/* Eight threads on one key: never more than the per-key bound inside. */
static void
test_threads(void **state)
{
	struct race race = {.limit = ga_limit_create(16, 3, 30)};
	pthread_t threads[8];
	unsigned holders = 99;
	long long weight = -1;

	(void)state;
	snprintf(race.key, sizeof(race.key), "bob");
	atomic_init(&race.inside, 0);
	atomic_init(&race.most, 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, race_main, &race), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(threads[i], NULL);
	assert_true(atomic_load(&race.most) <= 3);
	assert_true(atomic_load(&race.most) >= 1);
	ga_limit_usage(race.limit, &holders, &weight);
	assert_int_equal(holders, 0);
	assert_int_equal(weight, 0);
	ga_limit_destroy(race.limit);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_total_and_per_key),
		cmocka_unit_test(test_weight),
		cmocka_unit_test(test_odd_keys_and_gives),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
