/*
 * test_service_targeted.c - targeted results in the change log
 * (service_webhook_revocations.c): what a targeted read found replaces its
 * team list or repository in every snapshot read before it, in time order
 * with the removals, and ends with a snapshot read after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "org/org_input.h"
#include "service/service_pipeline.h"
#include "service/service_webhook.h"
#include "util/ga_xalloc.h"

/* text as a JSON string (static buffer: one use per expression). */
static const char *
json_quote(const char *text)
{
	static char quoted[8][8192];
	static size_t next;
	char *out = quoted[next++ % 8];
	size_t o = 0;

	out[o++] = '"';
	for (const char *p = text; *p != '\0' && o + 8 < sizeof(quoted[0]); p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = *p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *p;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

#define PYPROJECT_OLD "[project]\nname = \"old-name\"\n"
#define PYPROJECT_NEW "[project]\nname = \"new-name\"\n"

/* Data read at read_at_ms: bob and carol in the organization, bob in
 * platform, which has core-lib; tools has no team. */
static struct org_input *
org_read_at(long long read_at_ms)
{
	struct org_input *input = org_input_new();
	struct org_input_team *team;
	struct org_input_repository *repository;

	input->organization = ga_strdup("acme");
	input->synced_at_ms = read_at_ms;
	input->synced_at = read_at_ms / 1000;
	org_input_add_member(input, "bob", 102, false);
	org_input_add_member(input, "carol", 103, false);
	team = org_input_add_team(input, 201, "platform", "Platform", NULL);
	org_input_team_add_member(team, "bob");
	org_input_team_add_repository(team, "core-lib", ORG_LEVEL_WRITE);
	repository = org_input_add_repository(input, 301, "core-lib", false, false);
	org_input_repository_set_pyproject(repository, PYPROJECT_OLD, strlen(PYPROJECT_OLD));
	org_input_add_repository(input, 302, "tools", false, false);
	return input;
}

/* A targeted read's result: platform's members are logins (NULL-ended). */
static struct service_targeted_result
team_members(const char *slug, const char *const *logins)
{
	struct service_targeted_result result = {.target.kind = SERVICE_TARGETED_TEAM_MEMBERS};
	struct org_input_team *team;

	snprintf(result.target.name, sizeof(result.target.name), "%s", slug);
	result.data = org_input_new();
	team = org_input_add_team(result.data, 0, slug, NULL, NULL);
	for (size_t i = 0; logins[i] != NULL; i++)
		org_input_team_add_member(team, logins[i]);
	return result;
}

static struct service_targeted_result
team_repositories(const char *slug, const char *repository, enum org_level level)
{
	struct service_targeted_result result = {
		.target.kind = SERVICE_TARGETED_TEAM_REPOSITORIES,
	};
	struct org_input_team *team;

	snprintf(result.target.name, sizeof(result.target.name), "%s", slug);
	result.data = org_input_new();
	team = org_input_add_team(result.data, 0, slug, NULL, NULL);
	org_input_team_add_repository(team, repository, level);
	return result;
}

static struct service_targeted_result
repository_read(long long id, const char *name, const char *pyproject)
{
	struct service_targeted_result result = {.target.kind = SERVICE_TARGETED_REPOSITORY};
	struct org_input_repository *repository;

	snprintf(result.target.name, sizeof(result.target.name), "%s", name);
	result.data = org_input_new();
	repository = org_input_add_repository(result.data, id, name, false, false);
	org_input_repository_set_pyproject(repository, pyproject, strlen(pyproject));
	org_input_repository_add_collaborator(repository, "carol", ORG_LEVEL_WRITE);
	return result;
}

static struct service_webhook_removal
team_member_removal(const char *login, const char *team)
{
	struct service_webhook_removal removal;

	memset(&removal, 0, sizeof(removal));
	removal.kind = SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER;
	snprintf(removal.login, sizeof(removal.login), "%s", login);
	snprintf(removal.team, sizeof(removal.team), "%s", team);
	return removal;
}

static const struct org_input_team *
team_of(const struct org_input *input, const char *slug)
{
	for (size_t i = 0; i < input->team_count; i++)
		if (strcmp(input->teams[i].slug, slug) == 0)
			return &input->teams[i];
	fail_msg("no team %s", slug);
	return NULL;
}

static bool
in_team(const struct org_input *input, const char *slug, const char *login)
{
	const struct org_input_team *team = team_of(input, slug);

	for (size_t i = 0; i < team->member_count; i++)
		if (strcmp(team->member_logins[i], login) == 0)
			return true;
	return false;
}

static const struct org_input_repository *
repository_of(const struct org_input *input, const char *name)
{
	for (size_t i = 0; i < input->repository_count; i++)
		if (strcmp(input->repositories[i].name, name) == 0)
			return &input->repositories[i];
	return NULL;
}

static enum org_level
team_grant_on(const struct org_input *input, const char *slug, const char *repository)
{
	const struct org_input_team *team = team_of(input, slug);

	for (size_t i = 0; i < team->repository_count; i++)
		if (strcmp(team->repositories[i].name, repository) == 0)
			return team->repositories[i].level;
	return ORG_LEVEL_NONE;
}

/* A member added to a team: granted in data read before the read, also in
 * a full sync that started earlier and finishes later (it cannot undo it),
 * and dropped once a sync that started after the read is published. */
static void
test_targeted_grant_outlives_an_older_sync(void **state)
{
	static const char *const members[] = {"bob", "carol", NULL};
	struct service_webhook_revocations *log = service_webhook_revocations_create();
	struct service_targeted_result result = team_members("platform", members);
	struct org_input *before = org_read_at(1000000);
	struct org_input *older_sync = org_read_at(1004000);	/* started before the read */
	struct org_input *newer_sync = org_read_at(1006000);	/* started after */
	struct org_input *patched;

	(void)state;
	service_webhook_revocations_add_targeted(log, &result, 1005000);
	org_input_free(result.data);	/* the log keeps its own copy */
	patched = service_webhook_revocations_apply(log, before);
	assert_non_null(patched);
	assert_true(in_team(patched, "platform", "carol"));
	assert_true(in_team(patched, "platform", "bob"));
	assert_int_equal(patched->synced_at_ms, 1000000);
	org_input_free(patched);
	/* The older sync's data lacks carol: the change still applies to it. */
	assert_false(in_team(older_sync, "platform", "carol"));
	patched = service_webhook_revocations_apply(log, older_sync);
	assert_non_null(patched);
	assert_true(in_team(patched, "platform", "carol"));
	org_input_free(patched);
	/* Publishing the older sync keeps the change. */
	assert_int_equal(service_webhook_revocations_expire(log, 1004000), 1);
	/* A sync read after the change has GitHub's word: nothing applies, and
	 * publishing it drops the change. */
	assert_null(service_webhook_revocations_apply(log, newer_sync));
	assert_int_equal(service_webhook_revocations_expire(log, 1006000), 0);
	org_input_free(before);
	org_input_free(older_sync);
	org_input_free(newer_sync);
	service_webhook_revocations_destroy(log);
}

/* A removal delivered after the targeted read wins; one delivered before
 * it is superseded by what the read found. */
static void
test_removal_and_targeted_in_time_order(void **state)
{
	static const char *const members[] = {"bob", "carol", NULL};
	struct service_webhook_revocations *log = service_webhook_revocations_create();
	struct service_targeted_result result = team_members("platform", members);
	struct service_webhook_removal carol = team_member_removal("carol", "platform");
	struct org_input *before = org_read_at(1000000);
	struct org_input *patched;

	(void)state;
	/* Granted at 1005, taken away at 1007: carol is out. */
	service_webhook_revocations_add_targeted(log, &result, 1005000);
	service_webhook_revocations_add(log, &carol, 1007000);
	patched = service_webhook_revocations_apply(log, before);
	assert_non_null(patched);
	assert_false(in_team(patched, "platform", "carol"));
	assert_true(in_team(patched, "platform", "bob"));
	org_input_free(patched);
	/* Re-added, read again at 1009: the read has GitHub's later word. */
	service_webhook_revocations_add_targeted(log, &result, 1009000);
	assert_int_equal(service_webhook_revocations_count(log), 2);	/* one read per target */
	patched = service_webhook_revocations_apply(log, before);
	assert_true(in_team(patched, "platform", "carol"));
	org_input_free(patched);
	/* An older read of the same list arriving late changes nothing. */
	{
		static const char *const nobody[] = {NULL};
		struct service_targeted_result stale = team_members("platform", nobody);

		service_webhook_revocations_add_targeted(log, &stale, 1008000);
		org_input_free(stale.data);
	}
	patched = service_webhook_revocations_apply(log, before);
	assert_true(in_team(patched, "platform", "carol"));
	assert_true(in_team(patched, "platform", "bob"));
	org_input_free(patched);
	org_input_free(result.data);
	org_input_free(before);
	service_webhook_revocations_destroy(log);
}

/* A targeted result older than the snapshot is dropped, never applied:
 * the snapshot's own data is newer. */
static void
test_targeted_older_than_snapshot_is_dropped(void **state)
{
	static const char *const everyone[] = {"bob", "carol", NULL};
	struct service_webhook_revocations *log = service_webhook_revocations_create();
	struct service_targeted_result result = team_members("platform", everyone);
	struct org_input *newer = org_read_at(1010000);

	(void)state;
	service_webhook_revocations_add_targeted(log, &result, 1005000);
	assert_null(service_webhook_revocations_apply(log, newer));
	assert_int_equal(service_webhook_revocations_expire(log, 1010000), 0);
	org_input_free(result.data);
	org_input_free(newer);
	service_webhook_revocations_destroy(log);
}

/* A team gaining a repository; a new repository; a pushed pyproject.toml;
 * a rename that the teams' grants follow; a team the data does not have. */
static void
test_targeted_kinds(void **state)
{
	struct service_webhook_revocations *log = service_webhook_revocations_create();
	struct service_targeted_result grant = team_repositories("platform", "tools",
								 ORG_LEVEL_MAINTAIN);
	struct service_targeted_result created = repository_read(303, "new-lib", PYPROJECT_NEW);
	struct service_targeted_result pushed = repository_read(301, "core-lib", PYPROJECT_NEW);
	struct service_targeted_result unknown = team_repositories("ghost", "tools",
								   ORG_LEVEL_ADMIN);
	struct org_input *before = org_read_at(1000000);
	struct org_input *patched;
	const struct org_input_repository *repository;

	(void)state;
	service_webhook_revocations_add_targeted(log, &grant, 1001000);
	service_webhook_revocations_add_targeted(log, &created, 1002000);
	service_webhook_revocations_add_targeted(log, &pushed, 1003000);
	service_webhook_revocations_add_targeted(log, &unknown, 1004000);
	patched = service_webhook_revocations_apply(log, before);
	assert_non_null(patched);
	/* The team's grants are GitHub's list now: tools in, core-lib out. */
	assert_int_equal(team_grant_on(patched, "platform", "tools"), ORG_LEVEL_MAINTAIN);
	assert_int_equal(team_grant_on(patched, "platform", "core-lib"), ORG_LEVEL_NONE);
	repository = repository_of(patched, "new-lib");
	assert_non_null(repository);
	assert_int_equal(repository->id, 303);
	assert_int_equal(repository->pyproject_state, ORG_PYPROJECT_TEXT);
	assert_int_equal(repository->collaborator_count, 1);
	repository = repository_of(patched, "core-lib");
	assert_non_null(repository);
	assert_string_equal(repository->pyproject_text, PYPROJECT_NEW);
	assert_int_equal(patched->repository_count, 3);
	/* A team the data does not have is not invented. */
	assert_int_equal(patched->team_count, 1);
	org_input_free(patched);
	/* core-lib renamed to core: the same id, the teams' grants follow it. */
	{
		struct service_targeted_result renamed = repository_read(301, "core", PYPROJECT_NEW);
		struct service_webhook_revocations *log2 = service_webhook_revocations_create();

		service_webhook_revocations_add_targeted(log2, &renamed, 1001000);
		patched = service_webhook_revocations_apply(log2, before);
		assert_null(repository_of(patched, "core-lib"));
		assert_non_null(repository_of(patched, "core"));
		assert_int_equal(team_grant_on(patched, "platform", "core"), ORG_LEVEL_WRITE);
		org_input_free(patched);
		org_input_free(renamed.data);
		service_webhook_revocations_destroy(log2);
	}
	org_input_free(grant.data);
	org_input_free(created.data);
	org_input_free(pushed.data);
	org_input_free(unknown.data);
	org_input_free(before);
	service_webhook_revocations_destroy(log);
}

/* A deleted repository stays deleted even when a later read finds a
 * repository of that name: the grants the deletion took away were the old
 * one's. */
static void
test_deletion_not_superseded(void **state)
{
	struct service_webhook_revocations *log = service_webhook_revocations_create();
	struct service_webhook_removal deleted;
	struct service_targeted_result recreated = repository_read(399, "core-lib", PYPROJECT_NEW);
	struct org_input *before = org_read_at(1000000);
	struct org_input *patched;

	(void)state;
	memset(&deleted, 0, sizeof(deleted));
	deleted.kind = SERVICE_WEBHOOK_REMOVE_REPOSITORY;
	snprintf(deleted.repository, sizeof(deleted.repository), "core-lib");
	service_webhook_revocations_add(log, &deleted, 1001000);
	service_webhook_revocations_add_targeted(log, &recreated, 1002000);
	patched = service_webhook_revocations_apply(log, before);
	assert_null(repository_of(patched, "core-lib"));
	assert_int_equal(team_grant_on(patched, "platform", "core-lib"), ORG_LEVEL_NONE);
	org_input_free(patched);
	org_input_free(recreated.data);
	org_input_free(before);
	service_webhook_revocations_destroy(log);
}

static struct service_targeted_result
member_read(const char *login, long long id, bool is_owner)
{
	struct service_targeted_result result = {.target.kind = SERVICE_TARGETED_MEMBER};

	snprintf(result.target.name, sizeof(result.target.name), "%s", login);
	result.data = org_input_new();
	org_input_add_member(result.data, login, id, is_owner);
	return result;
}

static const struct org_input_member *
member_of(const struct org_input *input, const char *login)
{
	for (size_t i = 0; i < input->member_count; i++)
		if (strcmp(input->members[i].login, login) == 0)
			return &input->members[i];
	return NULL;
}

/*
 * A removal does its part to each record until a read of that record
 * started after it: bob removed from the organization, then added again
 * (a read of his membership) is a member again, but the teams the removal
 * took him out of stay so until a read of those teams (GitHub may or may
 * not have reinstated them).  A new member gets the membership read.
 */
static void
test_member_read_and_removal_per_record(void **state)
{
	static const char *const with_bob[] = {"bob", NULL};
	struct service_webhook_revocations *log = service_webhook_revocations_create();
	struct service_webhook_removal bob;
	struct service_targeted_result back = member_read("bob", 102, false);
	struct service_targeted_result team = team_members("platform", with_bob);
	struct service_targeted_result dave = member_read("dave", 104, true);
	struct org_input *before = org_read_at(1000000);
	struct org_input *patched;

	(void)state;
	memset(&bob, 0, sizeof(bob));
	bob.kind = SERVICE_WEBHOOK_REMOVE_MEMBER;
	snprintf(bob.login, sizeof(bob.login), "bob");
	service_webhook_revocations_add(log, &bob, 1001000);
	patched = service_webhook_revocations_apply(log, before);
	assert_null(member_of(patched, "bob"));
	assert_false(in_team(patched, "platform", "bob"));
	org_input_free(patched);
	/* Added again: a member, in no team yet. */
	service_webhook_revocations_add_targeted(log, &back, 1002000);
	patched = service_webhook_revocations_apply(log, before);
	assert_non_null(member_of(patched, "bob"));
	assert_false(in_team(patched, "platform", "bob"));
	org_input_free(patched);
	/* platform read again after the removal: GitHub says bob is in it. */
	service_webhook_revocations_add_targeted(log, &team, 1003000);
	patched = service_webhook_revocations_apply(log, before);
	assert_true(in_team(patched, "platform", "bob"));
	org_input_free(patched);
	/* A member read in the removal's millisecond brings him back: the
	 * event behind the delivery happened before it was recorded. */
	{
		struct service_webhook_revocations *log2 = service_webhook_revocations_create();

		service_webhook_revocations_add(log2, &bob, 1001000);
		service_webhook_revocations_add_targeted(log2, &back, 1001000);
		patched = service_webhook_revocations_apply(log2, before);
		assert_non_null(member_of(patched, "bob"));
		assert_false(in_team(patched, "platform", "bob"));
		org_input_free(patched);
		service_webhook_revocations_destroy(log2);
	}
	/* A member read before a removal does not bring him back. */
	{
		struct service_webhook_revocations *log2 = service_webhook_revocations_create();

		service_webhook_revocations_add_targeted(log2, &back, 1001000);
		service_webhook_revocations_add(log2, &bob, 1002000);
		patched = service_webhook_revocations_apply(log2, before);
		assert_null(member_of(patched, "bob"));
		org_input_free(patched);
		service_webhook_revocations_destroy(log2);
	}
	/* A new member, an owner as GitHub says. */
	service_webhook_revocations_add_targeted(log, &dave, 1004000);
	patched = service_webhook_revocations_apply(log, before);
	assert_non_null(member_of(patched, "dave"));
	assert_true(member_of(patched, "dave")->is_owner);
	assert_int_equal(member_of(patched, "dave")->id, 104);
	org_input_free(patched);
	org_input_free(back.data);
	org_input_free(team.data);
	org_input_free(dave.data);
	org_input_free(before);
	service_webhook_revocations_destroy(log);
}

/*
 * The queue of reads is bounded and coalesces: a read already waiting is
 * not queued twice, and past SERVICE_TARGETED_QUEUE_MAX distinct reads the
 * request is refused (the caller asks for a full sync instead).  The
 * source's thread is not started, so nothing leaves the queue.
 */
static void
test_queue_bound_and_coalescing(void **state)
{
	struct config *config = config_new_defaults();
	struct service *service = NULL;
	struct service_source source;
	struct service_targeted *targeted;
	struct service_webhook_target target = {.kind = SERVICE_TARGETED_REPOSITORY};
	struct ga_err err = {0};

	(void)state;
	config->organization = ga_strdup("acme");
	config->token = ga_strdup("ghp_unused_in_these_tests");
	if (service_create(config, NULL, &service, &err) != GA_OK)
		fail_msg("service_create: %s", err.message);
	memset(&source, 0, sizeof(source));
	source.publisher = service_publisher_of(service);
	source.settings = service_settings_of(service);
	source.metrics = service_metrics_of(service);
	targeted = service_targeted_create(&source);
	for (int i = 0; i < SERVICE_TARGETED_QUEUE_MAX; i++) {
		snprintf(target.name, sizeof(target.name), "repo-%d", i);
		assert_true(service_targeted_request(targeted, &target));
		/* The same read again, while it waits: one read. */
		assert_true(service_targeted_request(targeted, &target));
	}
	snprintf(target.name, sizeof(target.name), "one-too-many");
	assert_false(service_targeted_request(targeted, &target));
	/* Another kind under a waiting name is another read: refused too. */
	target.kind = SERVICE_TARGETED_TEAM_MEMBERS;
	snprintf(target.name, sizeof(target.name), "repo-0");
	assert_false(service_targeted_request(targeted, &target));
	/* Nothing to read is never queued. */
	target.kind = SERVICE_TARGETED_NONE;
	assert_false(service_targeted_request(targeted, &target));
	service_targeted_destroy(targeted);
	service_destroy(service);
}

/* A targeted result survives its JSON form (a shared change log) whole. */
static void
test_json_round_trip(void **state)
{
	static const char *const members[] = {"bob", "carol", NULL};
	struct service_targeted_result results[] = {
		team_members("platform", members),
		team_repositories("platform", "tools", ORG_LEVEL_MAINTAIN),
		repository_read(301, "core-lib", PYPROJECT_NEW),
		member_read("dave", 104, true),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		char *text = service_targeted_to_json(&results[i], 1005000);
		struct service_targeted_result back;
		long long at_ms;
		struct ga_err err = {0};
		char *before;
		char *after;

		assert_non_null(text);
		if (service_targeted_from_json(text, strlen(text), &back, &at_ms, &err) != GA_OK)
			fail_msg("%s: %s", text, err.message);
		assert_int_equal(at_ms, 1005000);
		assert_int_equal(back.target.kind, results[i].target.kind);
		assert_string_equal(back.target.name, results[i].target.name);
		before = org_input_to_json(results[i].data);
		after = org_input_to_json(back.data);
		assert_string_equal(before, after);
		ga_free(before);
		ga_free(after);
		ga_free(text);
		org_input_free(back.data);
		org_input_free(results[i].data);
	}
}

/* A forged or damaged value is refused whole: never a whole organization
 * under one team's name, never a record of another name. */
static void
test_json_refusals(void **state)
{
	struct service_targeted_result team = team_repositories("platform", "tools",
								ORG_LEVEL_ADMIN);
	struct org_input *whole = org_read_at(1000000);
	char *data = org_input_to_json(whole);
	char *team_data = org_input_to_json(team.data);
	char *cases[12];
	size_t count = 0;

	(void)state;
	/* a whole organization (members, repositories) under a team's name */
	cases[count++] = ga_asprintf("{\"version\":1,\"kind\":\"team_repositories\",\"name\":"
				     "\"platform\",\"at_ms\":5,\"data\":%s}",
				     json_quote(data));
	/* the right shape under another name */
	cases[count++] = ga_asprintf("{\"version\":1,\"kind\":\"team_repositories\",\"name\":"
				     "\"infra\",\"at_ms\":5,\"data\":%s}",
				     json_quote(team_data));
	/* a team's grants sent as its members */
	cases[count++] = ga_asprintf("{\"version\":1,\"kind\":\"team_members\",\"name\":"
				     "\"platform\",\"at_ms\":5,\"data\":%s}",
				     json_quote(team_data));
	cases[count++] = ga_asprintf("{\"version\":2,\"kind\":\"team_repositories\",\"name\":"
				     "\"platform\",\"at_ms\":5,\"data\":%s}",
				     json_quote(team_data));
	cases[count++] = ga_asprintf("{\"version\":1,\"kind\":\"everything\",\"name\":"
				     "\"platform\",\"at_ms\":5,\"data\":%s}",
				     json_quote(team_data));
	cases[count++] = ga_asprintf("{\"version\":1,\"kind\":\"team_repositories\",\"name\":"
				     "\"plat form\",\"at_ms\":5,\"data\":%s}",
				     json_quote(team_data));
	cases[count++] = ga_asprintf("{\"version\":1,\"kind\":\"team_repositories\",\"name\":"
				     "\"platform\",\"at_ms\":0,\"data\":%s}",
				     json_quote(team_data));
	cases[count++] = ga_asprintf("{\"version\":1,\"kind\":\"team_repositories\",\"name\":"
				     "\"platform\",\"at_ms\":5,\"data\":%s,\"extra\":1}",
				     json_quote(team_data));
	cases[count++] = ga_asprintf("{\"version\":1,\"version\":1,\"kind\":\"team_repositories\","
				     "\"name\":\"platform\",\"at_ms\":5,\"data\":%s}",
				     json_quote(team_data));
	cases[count++] = ga_asprintf("{\"version\":1,\"kind\":\"team_repositories\",\"name\":"
				     "\"platform\",\"at_ms\":5,\"data\":\"{}\"}");
	cases[count++] = ga_asprintf("[1,2]");
	for (size_t i = 0; i < count; i++) {
		struct service_targeted_result out;
		long long at_ms = -1;
		struct ga_err err = {0};

		if (service_targeted_from_json(cases[i], strlen(cases[i]), &out, &at_ms, &err) !=
		    GA_EPARSE)
			fail_msg("case %zu accepted: %s", i, cases[i]);
		assert_int_equal(out.target.kind, SERVICE_TARGETED_NONE);
		assert_null(out.data);
		ga_free(cases[i]);
	}
	ga_free(data);
	ga_free(team_data);
	org_input_free(whole);
	org_input_free(team.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targeted_grant_outlives_an_older_sync),
		cmocka_unit_test(test_removal_and_targeted_in_time_order),
		cmocka_unit_test(test_targeted_older_than_snapshot_is_dropped),
		cmocka_unit_test(test_targeted_kinds),
		cmocka_unit_test(test_deletion_not_superseded),
		cmocka_unit_test(test_member_read_and_removal_per_record),
		cmocka_unit_test(test_queue_bound_and_coalescing),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
