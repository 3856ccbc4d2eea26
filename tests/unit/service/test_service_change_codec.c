/* test_service_change_codec.c - a change as the shared change log carries it, and back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "service/service_pipeline.h"
#include "util/ga_xalloc.h"

static struct service_change
change_of(enum service_webhook_removal_kind kind)
{
	struct service_change change;

	memset(&change, 0, sizeof(change));
	change.at_ms = 1733360000123LL;
	change.removal.kind = kind;
	snprintf(change.removal.login, sizeof(change.removal.login), "bob");
	snprintf(change.removal.team, sizeof(change.removal.team), "platform");
	snprintf(change.removal.repository, sizeof(change.removal.repository), "core-lib");
	snprintf(change.removal.parent, sizeof(change.removal.parent), "engineering");
	change.removal.level = ORG_LEVEL_READ;
	return change;
}

/* Every kind survives the round trip with exactly the fields it carries. */
static void
test_round_trip(void **state)
{
	(void)state;
	for (int kind = SERVICE_WEBHOOK_REMOVE_MEMBER; kind <= SERVICE_WEBHOOK_DETACH_TEAM;
	     kind++) {
		struct service_change change = change_of((enum service_webhook_removal_kind)kind);
		struct service_change back;
		struct ga_err err = {0};
		char *text = service_change_encode(&change);

		assert_non_null(text);
		assert_int_equal(service_change_decode(text, strlen(text), &back, &err), GA_OK);
		assert_int_equal(back.removal.kind, kind);
		assert_int_equal(back.at_ms, change.at_ms);
		/* What the kind carries is what comes back; the rest stays empty. */
		if (back.removal.login[0] != '\0')
			assert_string_equal(back.removal.login, "bob");
		if (back.removal.team[0] != '\0')
			assert_string_equal(back.removal.team, "platform");
		if (back.removal.repository[0] != '\0')
			assert_string_equal(back.removal.repository, "core-lib");
		if (kind == SERVICE_WEBHOOK_REMOVE_MEMBER) {
			assert_string_equal(back.removal.login, "bob");
			assert_string_equal(back.removal.team, "");
			assert_string_equal(back.removal.repository, "");
		}
		if (kind == SERVICE_WEBHOOK_LOWER_COLLABORATOR)
			assert_int_equal(back.removal.level, ORG_LEVEL_READ);
		if (kind == SERVICE_WEBHOOK_DETACH_TEAM)
			assert_string_equal(back.removal.parent, "engineering");
		ga_free(text);
	}
}

/* Nothing to share: no text. */
static void
test_nothing_to_encode(void **state)
{
	struct service_change change = change_of(SERVICE_WEBHOOK_REMOVE_NONE);

	(void)state;
	assert_null(service_change_encode(&change));
	change = change_of(SERVICE_WEBHOOK_REMOVE_MEMBER);
	change.at_ms = 0;
	assert_null(service_change_encode(&change));
}

/* What another writer may put in the log: refused, never half read. */
static void
test_refused(void **state)
{
	static const char *const texts[] = {
		"",
		"[]",
		"{\"v\":1,\"at_ms\":5,\"kind\":\"remove_member\"}",			/* no login */
		"{\"v\":2,\"at_ms\":5,\"kind\":\"remove_member\",\"login\":\"bob\"}",	/* version */
		"{\"v\":1,\"at_ms\":0,\"kind\":\"remove_member\",\"login\":\"bob\"}",	/* at_ms */
		"{\"v\":1,\"at_ms\":5,\"kind\":\"grant_member\",\"login\":\"bob\"}",	/* unknown kind */
		"{\"v\":1,\"at_ms\":5,\"kind\":\"none\"}",
		"{\"v\":1,\"at_ms\":5,\"kind\":\"remove_member\",\"login\":\"bob\",\"team\":\"x\"}",
		"{\"v\":1,\"at_ms\":5,\"kind\":\"remove_member\",\"login\":\"\"}",
		"{\"v\":1,\"at_ms\":5,\"kind\":\"remove_member\",\"login\":\"b\\u0000ob\"}",
		"{\"v\":1,\"at_ms\":5,\"kind\":\"remove_member\",\"login\":\"b\\nob\"}",
		"{\"v\":1,\"at_ms\":5,\"kind\":\"remove_member\",\"login\":\"bob\",\"login\":\"x\"}",
		"{\"v\":1,\"at_ms\":5,\"kind\":\"lower_collaborator\",\"login\":\"bob\","
		"\"repository\":\"r\",\"level\":\"owner\"}",
		"{\"v\":1,\"at_ms\":5,\"kind\":\"lower_collaborator\",\"login\":\"bob\","
		"\"repository\":\"r\",\"level\":\"push\"}",
		"{\"v\":1,\"at_ms\":5,\"kind\":\"remove_member\",\"login\":"
		"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",	/* > 39 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct service_change out;
		struct ga_err err = {0};

		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(service_change_decode(texts[i], strlen(texts[i]), &out, &err),
				 GA_EPARSE);
		assert_int_equal(out.removal.kind, SERVICE_WEBHOOK_REMOVE_NONE);
		assert_true(err.message[0] != '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_nothing_to_encode),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
