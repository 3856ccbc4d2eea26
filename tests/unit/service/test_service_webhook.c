/* test_service_webhook.c - webhook signature, bodies, replay set, classification, revocations, pacing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "org/org_input.h"
#include "service/service_webhook.h"
#include "util/ga_buf.h"
#include "util/ga_file.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* ---- signature --------------------------------------------------------- */

/* The test vector of GitHub's "Validating webhook deliveries" page. */
#define VECTOR_SECRET "It's a Secret to Everybody"
#define VECTOR_BODY "Hello, World!"
#define PYPROJECT "[project]\nname = \"core-lib\"\n"
#define VECTOR_DIGEST "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

struct signature_case {
	const char *header;
	const char *body;
	enum service_webhook_signature expected;
};

static void
test_signature(void **state)
{
	static const struct signature_case cases[] = {
		{ "sha256=" VECTOR_DIGEST, VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_OK },
		{ "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17",
		  VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_OK },
		/* the body changed by one byte */
		{ "sha256=" VECTOR_DIGEST, "Hello, World?", SERVICE_WEBHOOK_SIGNATURE_MISMATCH },
		/* the digest changed in its last digit */
		{ "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
		  VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MISMATCH },
		{ NULL, VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MISSING },
		{ "", VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MISSING },
		/* the SHA-1 header's form, another prefix, no prefix */
		{ "sha1=" VECTOR_DIGEST, VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MALFORMED },
		{ "SHA256=" VECTOR_DIGEST, VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MALFORMED },
		{ VECTOR_DIGEST, VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MALFORMED },
		{ "sha256 =" VECTOR_DIGEST, VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MALFORMED },
		/* too short, too long, not hex */
		{ "sha256=757107ea", VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MALFORMED },
		{ "sha256=" VECTOR_DIGEST "00", VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MALFORMED },
		{ "sha256=z57107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
		  VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MALFORMED },
		{ "sha256=" VECTOR_DIGEST " ", VECTOR_BODY, SERVICE_WEBHOOK_SIGNATURE_MALFORMED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum service_webhook_signature got = service_webhook_verify_signature(
			VECTOR_SECRET, strlen(VECTOR_SECRET), cases[i].body, strlen(cases[i].body),
			cases[i].header);

		if (got != cases[i].expected)
			fail_msg("case %zu (%s): got %s, expected %s", i,
				 cases[i].header ? cases[i].header : "(none)",
				 service_webhook_signature_reason(got),
				 service_webhook_signature_reason(cases[i].expected));
	}
	/* Another secret does not verify the vector. */
	assert_int_equal(service_webhook_verify_signature("another secret", 14, VECTOR_BODY,
							  strlen(VECTOR_BODY),
							  "sha256=" VECTOR_DIGEST),
			 SERVICE_WEBHOOK_SIGNATURE_MISMATCH);
	assert_string_equal(service_webhook_signature_reason(SERVICE_WEBHOOK_SIGNATURE_MISMATCH),
			    "signature mismatch");
}

/* An empty body has a signature too (HMAC of nothing). */
static void
test_signature_empty_body(void **state)
{
	uint8_t digest[GA_HMAC_SIZE];
	char header[8 + 2 * GA_HMAC_SIZE] = "sha256=";

	(void)state;
	ga_hmac_sha256("k", 1, "", 0, digest);
	ga_hex(digest, sizeof(digest), header + 7);
	assert_int_equal(service_webhook_verify_signature("k", 1, NULL, 0, header),
			 SERVICE_WEBHOOK_SIGNATURE_OK);
}

/* ---- bodies -------------------------------------------------------------- */

static const struct service_webhook_body_limits small_limits = { 100, 250 };

static enum service_webhook_body_status
begin(struct service_webhook_budget *budget, const char *header, long long declared,
      struct service_webhook_body **body)
{
	return service_webhook_body_begin(budget, &small_limits, VECTOR_SECRET,
					  strlen(VECTOR_SECRET), header, declared, body);
}

/* The HMAC as the body arrives, in pieces of every size, is the one-shot one. */
static void
test_body_signature_streamed(void **state)
{
	struct service_webhook_budget budget = {0};
	const size_t len = strlen(VECTOR_BODY);
	uint8_t expected[GA_HMAC_SIZE];

	(void)state;
	ga_hmac_sha256(VECTOR_SECRET, strlen(VECTOR_SECRET), VECTOR_BODY, len, expected);
	for (size_t piece = 1; piece <= len; piece++) {
		struct service_webhook_body *body = NULL;
		const char *data;
		size_t got;

		assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, (long long)len, &body),
				 SERVICE_WEBHOOK_BODY_OK);
		assert_int_equal(service_webhook_budget_held(&budget), len);
		for (size_t at = 0; at < len; at += piece)
			assert_int_equal(service_webhook_body_append(body, VECTOR_BODY + at,
								     at + piece > len ? len - at
										      : piece),
					 SERVICE_WEBHOOK_BODY_OK);
		assert_false(service_webhook_body_verified(body));
		assert_int_equal(service_webhook_body_finish(body), SERVICE_WEBHOOK_BODY_OK);
		assert_true(service_webhook_body_verified(body));
		data = service_webhook_body_data(body, &got);
		assert_int_equal(got, len);
		assert_memory_equal(data, VECTOR_BODY, len);
		assert_memory_equal(service_webhook_body_digest(body), expected, GA_HMAC_SIZE);
		/* Nothing more may come after the end. */
		assert_int_equal(service_webhook_body_append(body, "x", 1),
				 SERVICE_WEBHOOK_BODY_TOO_LARGE);
		service_webhook_body_free(body);
		assert_int_equal(service_webhook_budget_held(&budget), 0);
	}
}

/* What is refused before a byte is read, and a body that is not the signed one. */
static void
test_body_refusals(void **state)
{
	struct service_webhook_budget budget = {0};
	struct service_webhook_body *body = (struct service_webhook_body *)&budget;

	(void)state;
	assert_int_equal(begin(&budget, NULL, 10, &body), SERVICE_WEBHOOK_BODY_UNSIGNED);
	assert_null(body);
	assert_int_equal(begin(&budget, "", 10, &body), SERVICE_WEBHOOK_BODY_UNSIGNED);
	assert_int_equal(begin(&budget, "sha1=" VECTOR_DIGEST, 10, &body),
			 SERVICE_WEBHOOK_BODY_MALFORMED);
	assert_int_equal(begin(&budget, "sha256=beef", 10, &body), SERVICE_WEBHOOK_BODY_MALFORMED);
	/* The signature is looked at first: an unsigned huge body is "unsigned". */
	assert_int_equal(begin(&budget, NULL, 1000, &body), SERVICE_WEBHOOK_BODY_UNSIGNED);
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, 101, &body),
			 SERVICE_WEBHOOK_BODY_TOO_LARGE);
	assert_null(body);
	assert_int_equal(service_webhook_budget_held(&budget), 0);
	/* One byte changed: the streamed HMAC does not match. */
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, 13, &body),
			 SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(service_webhook_body_append(body, "Hello, World?", 13),
			 SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(service_webhook_body_finish(body), SERVICE_WEBHOOK_BODY_MISMATCH);
	assert_false(service_webhook_body_verified(body));
	service_webhook_body_free(body);
	/* An empty body has a signature too. */
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, 0, &body),
			 SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(service_webhook_budget_held(&budget), 0);
	assert_int_equal(service_webhook_body_finish(body), SERVICE_WEBHOOK_BODY_MISMATCH);
	service_webhook_body_free(body);
	service_webhook_body_free(NULL);
}

/* The budget holds every body in flight: declared lengths up front, chunked
 * bodies as they grow; whatever ends a body gives its bytes back. */
static void
test_body_budget(void **state)
{
	struct service_webhook_budget budget = {0};
	struct service_webhook_body *first = NULL, *second = NULL, *third = NULL;
	char bytes[100];

	(void)state;
	memset(bytes, 'x', sizeof(bytes));
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, 100, &first),
			 SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, 100, &second),
			 SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(service_webhook_budget_held(&budget), 200);
	/* 200 + 100 > 250: refused before reading, nothing taken. */
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, 100, &third),
			 SERVICE_WEBHOOK_BODY_BUSY);
	assert_null(third);
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, 50, &third),
			 SERVICE_WEBHOOK_BODY_OK);
	/* A chunked body takes as it grows: nothing is left. */
	service_webhook_body_free(third);
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, -1, &third),
			 SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(service_webhook_body_held(third), 0);
	assert_int_equal(service_webhook_body_append(third, bytes, 10), SERVICE_WEBHOOK_BODY_BUSY);
	assert_int_equal(service_webhook_body_held(third), 0);
	/* ...and stays refused. */
	assert_int_equal(service_webhook_body_append(third, bytes, 1), SERVICE_WEBHOOK_BODY_BUSY);
	service_webhook_body_free(third);
	service_webhook_body_free(first);
	assert_int_equal(service_webhook_budget_held(&budget), 100);
	/* Chunked with room: it grows within max_body, then is refused past it. */
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, -1, &third),
			 SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(service_webhook_body_append(third, bytes, 60), SERVICE_WEBHOOK_BODY_OK);
	assert_true(service_webhook_body_held(third) >= 60);
	assert_true(service_webhook_body_held(third) <= 100);
	assert_int_equal(service_webhook_body_append(third, bytes, 41),
			 SERVICE_WEBHOOK_BODY_TOO_LARGE);
	assert_int_equal(service_webhook_body_held(third), 0);
	assert_int_equal(service_webhook_budget_held(&budget), 100);
	service_webhook_body_free(third);
	/* Exactly what was declared, in one allocation; then nothing past max_body. */
	assert_int_equal(service_webhook_body_append(second, bytes, 100), SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(service_webhook_body_held(second), 100);
	assert_int_equal(service_webhook_body_append(second, bytes, 1),
			 SERVICE_WEBHOOK_BODY_TOO_LARGE);
	service_webhook_body_free(second);
	assert_int_equal(service_webhook_budget_held(&budget), 0);
	/* More than declared (a client that lies) grows like a chunked body. */
	assert_int_equal(begin(&budget, "sha256=" VECTOR_DIGEST, 10, &second),
			 SERVICE_WEBHOOK_BODY_OK);
	assert_int_equal(service_webhook_body_append(second, bytes, 30), SERVICE_WEBHOOK_BODY_OK);
	assert_true(service_webhook_body_held(second) >= 30);
	assert_int_equal(service_webhook_budget_held(&budget), service_webhook_body_held(second));
	service_webhook_body_free(second);
	assert_int_equal(service_webhook_budget_held(&budget), 0);
	/* The budget itself. */
	assert_true(service_webhook_budget_take(&budget, 250, 250));
	assert_false(service_webhook_budget_take(&budget, 1, 250));
	service_webhook_budget_give(&budget, 250);
	assert_false(service_webhook_budget_take(&budget, SIZE_MAX, 250));
	assert_int_equal(service_webhook_budget_held(&budget), 0);
}

/* ---- replay ------------------------------------------------------------ */

static void
test_replay_basics(void **state)
{
	struct service_webhook_replay *replay = service_webhook_replay_create(3, 100);
	char long_id[SERVICE_WEBHOOK_DELIVERY_MAX + 2];

	(void)state;
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(service_webhook_replay_check(replay, "a", 1000),
			 SERVICE_WEBHOOK_DELIVERY_NEW);
	assert_int_equal(service_webhook_replay_check(replay, "a", 1001),
			 SERVICE_WEBHOOK_DELIVERY_DUPLICATE);
	assert_int_equal(service_webhook_replay_check(replay, "A", 1001),
			 SERVICE_WEBHOOK_DELIVERY_NEW);
	assert_int_equal(service_webhook_replay_check(replay, NULL, 1001),
			 SERVICE_WEBHOOK_DELIVERY_INVALID);
	assert_int_equal(service_webhook_replay_check(replay, "", 1001),
			 SERVICE_WEBHOOK_DELIVERY_INVALID);
	assert_int_equal(service_webhook_replay_check(replay, "a b", 1001),
			 SERVICE_WEBHOOK_DELIVERY_INVALID);
	assert_int_equal(service_webhook_replay_check(replay, long_id, 1001),
			 SERVICE_WEBHOOK_DELIVERY_INVALID);
	long_id[SERVICE_WEBHOOK_DELIVERY_MAX] = '\0';
	assert_int_equal(service_webhook_replay_check(replay, long_id, 1001),
			 SERVICE_WEBHOOK_DELIVERY_NEW);
	/* Capacity 3: a fourth id pushes out the oldest ("a"). */
	assert_int_equal(service_webhook_replay_check(replay, "d", 1002),
			 SERVICE_WEBHOOK_DELIVERY_NEW);
	assert_int_equal(service_webhook_replay_count(replay), 3);
	assert_int_equal(service_webhook_replay_check(replay, "A", 1003),
			 SERVICE_WEBHOOK_DELIVERY_DUPLICATE);
	assert_int_equal(service_webhook_replay_check(replay, "a", 1003),
			 SERVICE_WEBHOOK_DELIVERY_NEW);
	/* max_age 100 s: at 1101 what came at 1001 is gone, at 1103 all of it. */
	assert_int_equal(service_webhook_replay_check(replay, "d", 1101),
			 SERVICE_WEBHOOK_DELIVERY_DUPLICATE);
	assert_int_equal(service_webhook_replay_check(replay, "a", 1103),
			 SERVICE_WEBHOOK_DELIVERY_NEW);
	assert_int_equal(service_webhook_replay_count(replay), 1);
	service_webhook_replay_destroy(replay);
}

/*
 * The table's backward-shift deletion against a plain model: a window of
 * the last CAPACITY distinct ids, over many collisions and evictions.
 */
#define MODEL_CAPACITY 50
#define MODEL_UNIVERSE 120

static void
test_replay_against_model(void **state)
{
	struct service_webhook_replay *replay = service_webhook_replay_create(MODEL_CAPACITY,
									      1000000);
	int window[MODEL_CAPACITY];
	size_t window_count = 0;
	uint64_t random = 88172645463325252ULL;

	(void)state;
	for (int step = 0; step < 200000; step++) {
		char id[32];
		int value;
		bool in_window = false;
		enum service_webhook_delivery got;

		/* xorshift64: a fixed sequence, so a failure reproduces. */
		random ^= random << 13;
		random ^= random >> 7;
		random ^= random << 17;
		value = (int)(random % MODEL_UNIVERSE);
		snprintf(id, sizeof(id), "delivery-%d", value);
		for (size_t i = 0; i < window_count; i++)
			in_window = in_window || window[i] == value;
		got = service_webhook_replay_check(replay, id, 1);
		if (got != (in_window ? SERVICE_WEBHOOK_DELIVERY_DUPLICATE
				      : SERVICE_WEBHOOK_DELIVERY_NEW))
			fail_msg("step %d: id %d %s", step, value,
				 in_window ? "should be a duplicate" : "should be new");
		if (in_window)
			continue;
		if (window_count == MODEL_CAPACITY) {
			memmove(window, window + 1, (MODEL_CAPACITY - 1) * sizeof(int));
			window_count--;
		}
		window[window_count++] = value;
	}
	assert_int_equal(service_webhook_replay_count(replay), MODEL_CAPACITY);
	service_webhook_replay_destroy(replay);
}

/* ---- classification ------------------------------------------------------ */

struct classify_case {
	const char *fixture;		/* tests/data/webhook/<fixture>.json */
	const char *event;
	bool refresh;
	enum service_webhook_removal_kind removal;
	const char *login;
	const char *team;
	const char *repository;
	/* the targeted read that replaces the full refresh, and what it names */
	enum service_targeted_kind target;
	const char *target_name;
};

static const struct classify_case classify_cases[] = {
	{ "organization.member_removed", "organization", false, SERVICE_WEBHOOK_REMOVE_MEMBER,
	  "bob", "", "", SERVICE_TARGETED_MEMBER, "bob" },
	{ "organization.member_added", "organization", true, SERVICE_WEBHOOK_REMOVE_NONE, "", "",
	  "",
	  SERVICE_TARGETED_MEMBER, "bob" },
	{ "organization.member_invited", "organization", false, SERVICE_WEBHOOK_REMOVE_NONE, "",
	  "", "",
	  SERVICE_TARGETED_NONE, "" },
	{ "organization.renamed", "organization", true, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "",
	  SERVICE_TARGETED_NONE, "" },
	{ "membership.removed", "membership", false, SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER, "carol",
	  "platform-infra", "",
	  SERVICE_TARGETED_TEAM_MEMBERS, "platform-infra" },
	{ "membership.added", "membership", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "",
	  SERVICE_TARGETED_TEAM_MEMBERS, "platform" },
	{ "team.created", "team", true, SERVICE_WEBHOOK_REMOVE_NONE, "", "platform", "",
	  SERVICE_TARGETED_NONE, "" },
	{ "team.deleted", "team", true, SERVICE_WEBHOOK_REMOVE_TEAM, "", "platform", "",
	  SERVICE_TARGETED_NONE, "" },
	/* every edit applies the parent the team object states (platform has none) */
	{ "team.edited", "team", true, SERVICE_WEBHOOK_DETACH_TEAM, "", "platform", "",
	  SERVICE_TARGETED_NONE, "" },
	{ "team.edited_parent", "team", true, SERVICE_WEBHOOK_DETACH_TEAM, "", "platform-infra",
	  "",
	  SERVICE_TARGETED_NONE, "" },
	{ "team.edited_permission", "team", false, SERVICE_WEBHOOK_LOWER_TEAM_GRANT, "",
	  "platform", "core-lib",
	  SERVICE_TARGETED_TEAM_REPOSITORIES, "platform" },
	{ "team.added_to_repository", "team", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "platform",
	  "",
	  SERVICE_TARGETED_TEAM_REPOSITORIES, "platform" },
	{ "team.removed_from_repository", "team", false, SERVICE_WEBHOOK_REMOVE_TEAM_GRANT, "",
	  "platform", "core-lib",
	  SERVICE_TARGETED_TEAM_REPOSITORIES, "platform" },
	{ "member.added", "member", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "",
	  SERVICE_TARGETED_REPOSITORY, "tools" },
	{ "member.removed", "member", false, SERVICE_WEBHOOK_REMOVE_COLLABORATOR, "erin", "",
	  "core-lib",
	  SERVICE_TARGETED_REPOSITORY, "core-lib" },
	{ "member.edited", "member", false, SERVICE_WEBHOOK_LOWER_COLLABORATOR, "erin", "",
	  "tools",
	  SERVICE_TARGETED_REPOSITORY, "tools" },
	{ "repository.created", "repository", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "tools",
	  SERVICE_TARGETED_REPOSITORY, "tools" },
	{ "repository.deleted", "repository", true, SERVICE_WEBHOOK_REMOVE_REPOSITORY, "", "",
	  "docs",
	  SERVICE_TARGETED_NONE, "" },
	{ "repository.archived", "repository", false, SERVICE_WEBHOOK_ARCHIVE, "", "", "docs",
	  SERVICE_TARGETED_REPOSITORY, "docs" },
	{ "repository.renamed", "repository", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "docs",
	  SERVICE_TARGETED_REPOSITORY, "docs" },
	/* only the new owner hears of a transfer: one into the organization */
	{ "repository.transferred", "repository", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "",
	  "docs",
	  SERVICE_TARGETED_REPOSITORY, "docs" },
	{ "repository.publicized", "repository", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "",
	  "docs",
	  SERVICE_TARGETED_REPOSITORY, "docs" },
	{ "push.pyproject", "push", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "",
	  SERVICE_TARGETED_REPOSITORY, "core-lib" },
	{ "push.readme", "push", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "",
	  SERVICE_TARGETED_NONE, "" },
	{ "push.branch", "push", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "",
	  SERVICE_TARGETED_NONE, "" },
	{ "ping", "ping", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "",
	  SERVICE_TARGETED_NONE, "" },
	/* the same payload under an event ghaccess does not read */
	{ "organization.member_removed", "star", false, SERVICE_WEBHOOK_REMOVE_NONE, "", "", "",
	  SERVICE_TARGETED_NONE, "" },
};

static void
classify_fixture(const struct classify_case *c, const char *organization,
		 struct service_webhook_event *event)
{
	char *path = ga_asprintf("tests/data/webhook/%s.json", c->fixture);
	struct ga_buf body;
	struct ga_err err = {0};

	if (ga_file_read(path, (size_t)1 << 20, &body, &err) != GA_OK)
		fail_msg("%s", err.message);
	assert_int_equal(service_webhook_classify(c->event, body.data, body.len, organization,
						  event, &err),
			 GA_OK);
	ga_buf_free(&body);
	ga_free(path);
}

static void
test_classify_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
		const struct classify_case *c = &classify_cases[i];
		struct service_webhook_event event;

		classify_fixture(c, "acme", &event);
		if (event.refresh != c->refresh || event.removal.kind != c->removal)
			fail_msg("%s as %s: refresh %d removal %s (%s)", c->fixture, c->event,
				 event.refresh, service_webhook_removal_name(event.removal.kind),
				 event.reason);
		if (event.target.kind != c->target ||
		    (c->target != SERVICE_TARGETED_NONE &&
		     strcmp(event.target.name, c->target_name) != 0))
			fail_msg("%s as %s: read %s %s", c->fixture, c->event,
				 service_targeted_kind_name(event.target.kind), event.target.name);
		if (c->removal != SERVICE_WEBHOOK_REMOVE_NONE) {
			assert_string_equal(event.removal.login, c->login);
			assert_string_equal(event.removal.team, c->team);
			assert_string_equal(event.removal.repository, c->repository);
		}
		assert_string_equal(event.event, c->event);
		assert_non_null(event.reason);
		/* Another organization's delivery changes nothing here. */
		classify_fixture(c, "other-org", &event);
		assert_false(event.refresh);
		assert_false(event.in_scope);
		assert_int_equal(event.removal.kind, SERVICE_WEBHOOK_REMOVE_NONE);
	}
}

static const struct classify_case *
case_named(const char *fixture)
{
	for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++)
		if (strcmp(classify_cases[i].fixture, fixture) == 0)
			return &classify_cases[i];
	fail_msg("no case %s", fixture);
	return NULL;
}

/* What the downgrades carry: the level or parent GitHub's payload states. */
static void
test_classify_downgrades(void **state)
{
	struct service_webhook_event event;

	(void)state;
	/* team.edited_permission: platform's permission on core-lib is now WRITE. */
	classify_fixture(case_named("team.edited_permission"), "ACME", &event);
	assert_int_equal(event.removal.kind, SERVICE_WEBHOOK_LOWER_TEAM_GRANT);
	assert_int_equal(event.removal.level, ORG_LEVEL_WRITE);
	/* member.edited: erin's role on tools is now write. */
	classify_fixture(case_named("member.edited"), "acme", &event);
	assert_int_equal(event.removal.kind, SERVICE_WEBHOOK_LOWER_COLLABORATOR);
	assert_int_equal(event.removal.level, ORG_LEVEL_WRITE);
	/* team.edited_parent: platform-infra is under platform. */
	classify_fixture(case_named("team.edited_parent"), "acme", &event);
	assert_string_equal(event.removal.parent, "platform");
	classify_fixture(case_named("team.edited"), "acme", &event);
	assert_string_equal(event.removal.parent, "");
	/* member_added grants nothing from its payload and cancels no
	 * removal: it names bob for a targeted read of his membership, and
	 * asks for the full sync (reinstated teams). */
	classify_fixture(case_named("organization.member_added"), "ACME", &event);
	assert_true(event.refresh);
	assert_int_equal(event.target.kind, SERVICE_TARGETED_MEMBER);
	assert_string_equal(event.target.name, "bob");
	assert_true(event.in_scope);
	assert_int_equal(event.removal.kind, SERVICE_WEBHOOK_REMOVE_NONE);
	assert_string_equal(event.action, "member_added");
}

struct inline_case {
	const char *event;
	const char *body;
	enum ga_rc rc;
	bool refresh;
	enum service_webhook_removal_kind removal;
};

/* The organization every in-scope payload names. */
#define ORG "\"organization\":{\"login\":\"acme\"},"

/* Odd and hostile shapes: never a crash, removals only with valid names. */
static void
test_classify_defensive(void **state)
{
	static const struct inline_case cases[] = {
		{ "organization", "", GA_EPARSE, false, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "organization", "[1,2]", GA_EPARSE, false, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "organization", "{\"action\":", GA_EPARSE, false, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "organization", "{" ORG "\"x\":1}", GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "organization", "{" ORG "\"action\":\"member_removed\"}", GA_OK, true,
		  SERVICE_WEBHOOK_REMOVE_NONE },
		{ "organization",
		  "{" ORG "\"action\":\"member_removed\",\"membership\":{\"user\":{\"login\":7}}}",
		  GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "organization",
		  "{" ORG "\"action\":\"member_removed\",\"membership\":{\"user\":"
		  "{\"login\":\"-bad-\"}}}",
		  GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "organization",
		  "{" ORG "\"action\":\"member_removed\",\"membership\":{\"user\":"
		  "{\"login\":\"bob\"}}}",
		  GA_OK, false, SERVICE_WEBHOOK_REMOVE_MEMBER },
		/* without an organization, or one that is not a login: out of scope */
		{ "organization",
		  "{\"action\":\"member_removed\",\"membership\":{\"user\":{\"login\":\"bob\"}}}",
		  GA_OK, false, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "organization",
		  "{\"action\":\"member_removed\",\"organization\":{\"login\":7},"
		  "\"membership\":{\"user\":{\"login\":\"bob\"}}}",
		  GA_OK, false, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "organization",
		  "{\"action\":\"member_removed\",\"organization\":\"acme\","
		  "\"membership\":{\"user\":{\"login\":\"bob\"}}}",
		  GA_OK, false, SERVICE_WEBHOOK_REMOVE_NONE },
		/* a membership removal of a deleted team has no slug */
		{ "membership",
		  "{" ORG "\"action\":\"removed\",\"scope\":\"team\",\"member\":{\"login\":\"bob\"},"
		  "\"team\":{\"id\":1,\"name\":\"x\",\"deleted\":true}}",
		  GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "membership",
		  "{" ORG "\"action\":\"removed\",\"scope\":\"team\",\"member\":{\"login\":\"bob\"},"
		  "\"team\":{\"slug\":\"a/b\"}}",
		  GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		/* a transfer out is never sent: "transferred" is one that came in */
		{ "repository",
		  "{" ORG "\"action\":\"transferred\",\"repository\":{\"name\":\"lib\","
		  "\"owner\":{\"login\":\"elsewhere\"}}}",
		  GA_OK, false, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "repository", "{" ORG "\"action\":\"archived\",\"repository\":{\"name\":\"a b\"}}",
		  GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		/* a team edit without team.parent says nothing about the parent */
		{ "team", "{" ORG "\"action\":\"edited\",\"team\":{\"slug\":\"platform\"}}",
		  GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "team", "{" ORG "\"action\":\"edited\",\"team\":{\"slug\":\"platform\","
		  "\"parent\":{\"slug\":7}}}", GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "team", "{" ORG "\"action\":\"edited\",\"team\":{\"slug\":\"platform\","
		  "\"parent\":null}}", GA_OK, true, SERVICE_WEBHOOK_DETACH_TEAM },
		/* a permission change without the repository's flags: lowered to none */
		{ "team", "{" ORG "\"action\":\"edited\",\"team\":{\"slug\":\"platform\"},"
		  "\"changes\":{\"repository\":{}},\"repository\":{\"name\":\"core-lib\"}}",
		  GA_OK, false, SERVICE_WEBHOOK_LOWER_TEAM_GRANT },
		{ "member", "{" ORG "\"action\":\"edited\",\"member\":{\"login\":\"bob\"},"
		  "\"repository\":{\"name\":\"tools\"},\"changes\":{\"permission\":{\"to\":\"x\"}}}",
		  GA_OK, false, SERVICE_WEBHOOK_LOWER_COLLABORATOR },
		{ "push", "{" ORG "\"ref\":\"refs/heads/main\",\"repository\":{\"default_branch\":\"main\"},"
		  "\"commits\":[]}", GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "push", "{" ORG "\"ref\":\"refs/heads/main\",\"repository\":{\"default_branch\":\"main\"},"
		  "\"forced\":true,\"commits\":[{\"modified\":[\"README\"]}]}", GA_OK, true,
		  SERVICE_WEBHOOK_REMOVE_NONE },
		{ "push", "{" ORG "\"ref\":\"refs/heads/main\",\"repository\":{\"default_branch\":\"main\"},"
		  "\"commits\":[{\"modified\":[\"sub/pyproject.toml\"]},{\"added\":7}]}", GA_OK,
		  false, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "push", "{" ORG "\"ref\":\"refs/tags/v1\",\"repository\":{\"default_branch\":\"main\"}}",
		  GA_OK, false, SERVICE_WEBHOOK_REMOVE_NONE },
		/* the App's installation events name the organization as the account */
		{ "installation", "{\"action\":\"suspend\",\"installation\":{\"account\":"
		  "{\"login\":\"acme\"}}}", GA_OK, true, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "installation", "{\"action\":\"suspend\",\"installation\":{\"account\":"
		  "{\"login\":\"other\"}}}", GA_OK, false, SERVICE_WEBHOOK_REMOVE_NONE },
		{ "", "{}", GA_OK, false, SERVICE_WEBHOOK_REMOVE_NONE },
		{ NULL, "{}", GA_OK, false, SERVICE_WEBHOOK_REMOVE_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct service_webhook_event event;
		struct ga_err err = {0};
		enum ga_rc rc = service_webhook_classify(cases[i].event, cases[i].body,
							 strlen(cases[i].body), "acme", &event,
							 &err);

		if (rc != cases[i].rc || event.refresh != cases[i].refresh ||
		    event.removal.kind != cases[i].removal)
			fail_msg("case %zu: rc %d refresh %d removal %s (%s)", i, rc, event.refresh,
				 service_webhook_removal_name(event.removal.kind), event.reason);
		if (event.removal.kind == SERVICE_WEBHOOK_LOWER_TEAM_GRANT ||
		    event.removal.kind == SERVICE_WEBHOOK_LOWER_COLLABORATOR)
			assert_int_equal(event.removal.level, ORG_LEVEL_NONE);
	}
}

/* Control characters of a hostile X-GitHub-Event never reach a log line. */
static void
test_classify_event_name_sanitised(void **state)
{
	struct service_webhook_event event;

	(void)state;
	assert_int_equal(service_webhook_classify("evil\nlevel=error", "{}", 2, "acme", &event,
						  NULL),
			 GA_OK);
	assert_string_equal(event.event, "evil?level?error");
	assert_false(event.refresh);
}

/* ---- revocations ---------------------------------------------------------- */

static struct org_input *
small_org(long long synced_at)
{
	struct org_input *input = org_input_new();
	struct org_input_team *team;
	struct org_input_repository *repository;

	input->organization = ga_strdup("acme");
	input->synced_at = synced_at;
	input->base_permission_known = true;
	input->base_permission = ORG_LEVEL_READ;
	org_input_add_member(input, "olivia", 101, true);
	org_input_add_member(input, "bob", 102, false);
	org_input_add_member(input, "carol", 103, false);
	team = org_input_add_team(input, 201, "platform", "Platform", NULL);
	org_input_team_add_member(team, "bob");
	org_input_team_add_member(team, "carol");
	org_input_team_add_repository(team, "core-lib", ORG_LEVEL_WRITE);
	org_input_team_add_repository(team, "tools", ORG_LEVEL_READ);
	team = org_input_add_team(input, 202, "platform-infra", "Platform Infra", "platform");
	org_input_team_add_member(team, "carol");
	repository = org_input_add_repository(input, 301, "core-lib", false, false);
	org_input_repository_set_pyproject(repository, PYPROJECT, strlen(PYPROJECT));
	repository->collaborators_known = true;
	org_input_repository_add_collaborator(repository, "bob", ORG_LEVEL_ADMIN);
	org_input_repository_add_collaborator(repository, "carol", ORG_LEVEL_WRITE);
	repository = org_input_add_repository(input, 302, "tools", true, false);
	repository->pyproject_state = ORG_PYPROJECT_BINARY;
	return input;
}

static struct service_webhook_removal
removal_of(enum service_webhook_removal_kind kind, const char *login, const char *team,
	   const char *repository)
{
	struct service_webhook_removal removal;

	memset(&removal, 0, sizeof(removal));
	removal.kind = kind;
	snprintf(removal.login, sizeof(removal.login), "%s", login);
	snprintf(removal.team, sizeof(removal.team), "%s", team);
	snprintf(removal.repository, sizeof(removal.repository), "%s", repository);
	return removal;
}

/* The JSON form makes whole records easy to compare. */
static void
assert_same_input(const struct org_input *a, const struct org_input *b)
{
	char *a_json = org_input_to_json(a);
	char *b_json = org_input_to_json(b);

	assert_string_equal(a_json, b_json);
	ga_free(a_json);
	ga_free(b_json);
}

static void
test_revocations_member(void **state)
{
	struct service_webhook_revocations *revocations = service_webhook_revocations_create();
	struct org_input *input = small_org(1000);
	struct org_input *expected = small_org(1000);
	struct org_input *patched;
	struct service_webhook_removal bob = removal_of(SERVICE_WEBHOOK_REMOVE_MEMBER, "BOB", "", "");

	(void)state;
	assert_null(service_webhook_revocations_apply(revocations, input));
	service_webhook_revocations_add(revocations, &bob, 1005000);
	patched = service_webhook_revocations_apply(revocations, input);
	assert_non_null(patched);
	/* bob is gone everywhere: members, teams, collaborators; the rest is kept. */
	org_input_free(expected);
	expected = org_input_new();
	expected->organization = ga_strdup("acme");
	expected->synced_at = 1000;
	expected->base_permission_known = true;
	expected->base_permission = ORG_LEVEL_READ;
	org_input_add_member(expected, "olivia", 101, true);
	org_input_add_member(expected, "carol", 103, false);
	{
		struct org_input_team *team = org_input_add_team(expected, 201, "platform",
								 "Platform", NULL);
		struct org_input_repository *repository;

		org_input_team_add_member(team, "carol");
		org_input_team_add_repository(team, "core-lib", ORG_LEVEL_WRITE);
		org_input_team_add_repository(team, "tools", ORG_LEVEL_READ);
		team = org_input_add_team(expected, 202, "platform-infra", "Platform Infra",
					  "platform");
		org_input_team_add_member(team, "carol");
		repository = org_input_add_repository(expected, 301, "core-lib", false, false);
		org_input_repository_set_pyproject(repository, PYPROJECT,
						   strlen(PYPROJECT));
		repository->collaborators_known = true;
		org_input_repository_add_collaborator(repository, "carol", ORG_LEVEL_WRITE);
		repository = org_input_add_repository(expected, 302, "tools", true, false);
		repository->pyproject_state = ORG_PYPROJECT_BINARY;
	}
	assert_same_input(patched, expected);
	org_input_free(patched);
	/* Data read after the removal (a later sync) is left alone... */
	input->synced_at = 1006;
	assert_null(service_webhook_revocations_apply(revocations, input));
	/* ...and so is data read a millisecond after it, in the same second,
	 * or in the same millisecond: the event behind the delivery happened
	 * before the delivery was recorded, so a read starting then sees it... */
	input->synced_at = 1005;
	input->synced_at_ms = 1005001;
	assert_null(service_webhook_revocations_apply(revocations, input));
	input->synced_at_ms = 1005000;
	assert_null(service_webhook_revocations_apply(revocations, input));
	/* ...but not data read a millisecond before, or in the same second
	 * when only the second is known (a snapshot file: it counts from the
	 * start of its second) and the removal came later in that second. */
	input->synced_at_ms = 1004999;
	patched = service_webhook_revocations_apply(revocations, input);
	assert_non_null(patched);
	assert_int_equal(patched->member_count, 2);
	assert_int_equal(patched->synced_at_ms, 1004999);
	org_input_free(patched);
	service_webhook_revocations_add(revocations, &bob, 1005400);
	input->synced_at_ms = 0;
	patched = service_webhook_revocations_apply(revocations, input);
	assert_non_null(patched);
	org_input_free(patched);
	/* A sync started at the same millisecond as a removal drops it; one a
	 * millisecond earlier keeps it. */
	assert_int_equal(service_webhook_revocations_expire(revocations, 1004999), 2);
	assert_int_equal(service_webhook_revocations_expire(revocations, 1005000), 1);
	assert_int_equal(service_webhook_revocations_expire(revocations, 1005400), 0);
	org_input_free(input);
	org_input_free(expected);
	service_webhook_revocations_destroy(revocations);
}

static void
test_revocations_other_kinds(void **state)
{
	struct service_webhook_revocations *revocations = service_webhook_revocations_create();
	struct org_input *input = small_org(1000);
	struct org_input *patched;
	struct service_webhook_removal removals[] = {
		removal_of(SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER, "carol", "platform-infra", ""),
		removal_of(SERVICE_WEBHOOK_REMOVE_TEAM_GRANT, "", "Platform", "core-lib"),
		removal_of(SERVICE_WEBHOOK_REMOVE_COLLABORATOR, "carol", "", "CORE-LIB"),
		removal_of(SERVICE_WEBHOOK_REMOVE_REPOSITORY, "", "", "tools"),
		removal_of(SERVICE_WEBHOOK_REMOVE_NONE, "bob", "", ""),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(removals) / sizeof(removals[0]); i++)
		service_webhook_revocations_add(revocations, &removals[i], 2000000);
	assert_int_equal(service_webhook_revocations_count(revocations), 4);
	patched = service_webhook_revocations_apply(revocations, input);
	assert_non_null(patched);
	assert_int_equal(patched->member_count, 3);
	assert_int_equal(patched->team_count, 2);
	/* platform keeps both members and only its grant on tools, which is gone
	 * too: a deleted repository takes its grants along. */
	assert_int_equal(patched->teams[0].member_count, 2);
	assert_int_equal(patched->teams[0].repository_count, 0);
	assert_int_equal(patched->teams[1].member_count, 0);
	assert_int_equal(patched->repository_count, 1);
	assert_string_equal(patched->repositories[0].name, "core-lib");
	assert_int_equal(patched->repositories[0].collaborator_count, 1);
	assert_string_equal(patched->repositories[0].collaborators[0].name, "bob");
	assert_int_equal(patched->repositories[0].pyproject_state, ORG_PYPROJECT_TEXT);
	org_input_free(patched);
	/* A team deleted: gone with its grants; its child keeps its own. */
	service_webhook_revocations_expire(revocations, 3000000);
	removals[0] = removal_of(SERVICE_WEBHOOK_REMOVE_TEAM, "", "platform", "");
	service_webhook_revocations_add(revocations, &removals[0], 3000000);
	patched = service_webhook_revocations_apply(revocations, input);
	assert_int_equal(patched->team_count, 1);
	assert_string_equal(patched->teams[0].slug, "platform-infra");
	org_input_free(patched);
	org_input_free(input);
	service_webhook_revocations_destroy(revocations);
}

static struct service_webhook_removal
lowering(enum service_webhook_removal_kind kind, const char *login, const char *team,
	 const char *repository, enum org_level level)
{
	struct service_webhook_removal removal = removal_of(kind, login, team, repository);

	removal.level = level;
	return removal;
}

/* Downgrades only ever lower, to the level the payload states. */
static void
test_revocations_downgrades(void **state)
{
	struct service_webhook_revocations *revocations = service_webhook_revocations_create();
	struct org_input *input = small_org(1000);
	struct org_input *patched;
	struct service_webhook_removal removals[] = {
		/* platform: WRITE on core-lib -> READ; READ on tools stays READ */
		lowering(SERVICE_WEBHOOK_LOWER_TEAM_GRANT, "", "PLATFORM", "core-lib",
			 ORG_LEVEL_READ),
		lowering(SERVICE_WEBHOOK_LOWER_TEAM_GRANT, "", "platform", "tools",
			 ORG_LEVEL_ADMIN),
		/* bob: ADMIN -> WRITE; carol: WRITE -> nothing (the role unreadable) */
		lowering(SERVICE_WEBHOOK_LOWER_COLLABORATOR, "bob", "", "core-lib",
			 ORG_LEVEL_WRITE),
		lowering(SERVICE_WEBHOOK_LOWER_COLLABORATOR, "carol", "", "core-lib",
			 ORG_LEVEL_NONE),
		/* a later, higher one does not raise it back */
		lowering(SERVICE_WEBHOOK_LOWER_COLLABORATOR, "bob", "", "core-lib",
			 ORG_LEVEL_ADMIN),
		removal_of(SERVICE_WEBHOOK_ARCHIVE, "", "", "core-lib"),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(removals) / sizeof(removals[0]); i++)
		service_webhook_revocations_add(revocations, &removals[i], 2000000);
	patched = service_webhook_revocations_apply(revocations, input);
	assert_non_null(patched);
	assert_int_equal(patched->teams[0].repository_count, 2);
	assert_int_equal(patched->teams[0].repositories[0].level, ORG_LEVEL_READ);
	assert_int_equal(patched->teams[0].repositories[1].level, ORG_LEVEL_READ);
	assert_int_equal(patched->repositories[0].collaborator_count, 1);
	assert_string_equal(patched->repositories[0].collaborators[0].name, "bob");
	assert_int_equal(patched->repositories[0].collaborators[0].level, ORG_LEVEL_WRITE);
	assert_true(patched->repositories[0].archived);
	assert_true(patched->repositories[1].archived);	/* was archived already */
	assert_int_equal(patched->member_count, 3);
	org_input_free(patched);
	org_input_free(input);
	service_webhook_revocations_destroy(revocations);
}

/* A team moved: it leaves a parent other than the one GitHub states, and is
 * never put under a new one early. */
static void
test_revocations_team_parent(void **state)
{
	struct service_webhook_revocations *revocations = service_webhook_revocations_create();
	struct org_input *input = small_org(1000);
	struct org_input *patched;
	struct service_webhook_removal removal = removal_of(SERVICE_WEBHOOK_DETACH_TEAM, "",
							   "platform-infra", "");

	(void)state;
	/* GitHub states the parent the snapshot has: nothing changes. */
	snprintf(removal.parent, sizeof(removal.parent), "Platform");
	service_webhook_revocations_add(revocations, &removal, 2000000);
	patched = service_webhook_revocations_apply(revocations, input);
	assert_string_equal(patched->teams[1].parent_slug, "platform");
	org_input_free(patched);
	/* Under another parent, or none: it leaves platform now. */
	snprintf(removal.parent, sizeof(removal.parent), "elsewhere");
	service_webhook_revocations_add(revocations, &removal, 2000001);
	patched = service_webhook_revocations_apply(revocations, input);
	assert_null(patched->teams[1].parent_slug);
	assert_int_equal(patched->teams[1].member_count, 1);
	/* A top-level team is not given a parent. */
	removal = removal_of(SERVICE_WEBHOOK_DETACH_TEAM, "", "platform", "");
	snprintf(removal.parent, sizeof(removal.parent), "platform-infra");
	org_input_free(patched);
	service_webhook_revocations_add(revocations, &removal, 2000002);
	patched = service_webhook_revocations_apply(revocations, input);
	assert_null(patched->teams[0].parent_slug);
	org_input_free(patched);
	org_input_free(input);
	service_webhook_revocations_destroy(revocations);
}

/* ---- pacing ------------------------------------------------------------- */

static void
test_pacing(void **state)
{
	struct service_webhook_pacing pacing;
	bool low = true;

	(void)state;
	service_webhook_pacing_init(&pacing, 500);
	assert_int_equal(service_webhook_pacing_due(&pacing, 0, &low), -1);
	assert_false(low);
	/* One delivery: 500 ms of quiet first. */
	service_webhook_pacing_note(&pacing, 1000);
	assert_int_equal(service_webhook_pacing_due(&pacing, 1000, NULL), 500);
	/* A burst keeps pushing the start back... */
	service_webhook_pacing_note(&pacing, 1400);
	assert_int_equal(service_webhook_pacing_due(&pacing, 1400, NULL), 500);
	/* ...but at most 2 s after the first delivery. */
	for (long long t = 1800; t <= 2900; t += 100)
		service_webhook_pacing_note(&pacing, t);
	assert_int_equal(service_webhook_pacing_due(&pacing, 2900, NULL), 100);
	assert_int_equal(service_webhook_pacing_due(&pacing, 3100, NULL), 0);
	service_webhook_pacing_started(&pacing, 3100);
	assert_int_equal(service_webhook_pacing_due(&pacing, 3100, NULL), -1);
	/* The next one waits for the 5 s interval. */
	service_webhook_pacing_note(&pacing, 4000);
	assert_int_equal(service_webhook_pacing_due(&pacing, 4000, NULL), 4100);
	/* A budget that one more sync would bring under the reserve: dropped. */
	service_webhook_pacing_budget(&pacing, 35, 530);
	assert_int_equal(service_webhook_pacing_due(&pacing, 4000, &low), -1);
	assert_true(low);
	service_webhook_pacing_budget(&pacing, 35, 4000);
	service_webhook_pacing_note(&pacing, 20000);
	assert_int_equal(service_webhook_pacing_due(&pacing, 20000, &low), 500);
	assert_false(low);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_signature_empty_body),
		cmocka_unit_test(test_body_signature_streamed),
		cmocka_unit_test(test_body_refusals),
		cmocka_unit_test(test_body_budget),
		cmocka_unit_test(test_replay_basics),
		cmocka_unit_test(test_replay_against_model),
		cmocka_unit_test(test_classify_fixtures),
		cmocka_unit_test(test_classify_downgrades),
		cmocka_unit_test(test_classify_defensive),
		cmocka_unit_test(test_classify_event_name_sanitised),
		cmocka_unit_test(test_revocations_member),
		cmocka_unit_test(test_revocations_other_kinds),
		cmocka_unit_test(test_revocations_downgrades),
		cmocka_unit_test(test_revocations_team_parent),
		cmocka_unit_test(test_pacing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
