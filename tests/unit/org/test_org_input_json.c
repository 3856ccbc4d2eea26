/*
 * test_org_input_json.c - the snapshot format, written and read one record
 * at a time: the text is what jansson would dump of the whole document, any
 * valid JSON spelling of it reads back the same, what a whole-document
 * parse refused is still refused (with the line of the fault), and neither
 * direction ever holds a tree of the whole organization.
 */
#include <jansson.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../support/scenario.h"
#include "org/org_input.h"
#include "util/ga_buf.h"
#include "util/ga_xalloc.h"

/* ---- jansson's live bytes, and their peak ------------------------------ */

static size_t json_live, json_peak;

static void *
counting_malloc(size_t size)
{
	void *block = malloc(size);	/* style-ok: counted for jansson */

	if (block != NULL) {
		json_live += malloc_usable_size(block);
		if (json_live > json_peak)
			json_peak = json_live;
	}
	return block;
}

static void
counting_free(void *block)
{
	if (block != NULL)
		json_live -= malloc_usable_size(block);
	free(block);	/* style-ok: counted for jansson */
}

/* ---- organizations --------------------------------------------------- */

/* repositories repositories with every kind of field the format has. */
static struct org_input *
organization(size_t repositories)
{
	struct org_input *input = org_input_new();
	char name[64], text[128];

	input->organization = ga_strdup("acme \"quoted\" \xc3\xa9");
	input->base_permission_known = true;
	input->base_permission = ORG_LEVEL_READ;
	input->synced_at = 1795000000;
	input->unnamed_repositories = 2;
	for (size_t m = 0; m < 50; m++) {
		snprintf(name, sizeof(name), "user-%zu", m);
		org_input_add_member(input, name, (long long)(100 + m), m % 10 == 0);
	}
	for (size_t t = 0; t < 10; t++) {
		struct org_input_team *team;

		snprintf(name, sizeof(name), "team-%zu", t);
		team = org_input_add_team(input, (long long)(200 + t), name, "Team \\ name",
					  t > 0 ? "team-0" : NULL);
		org_input_team_add_member(team, "user-1");
		org_input_team_add_repository(team, "repo-1", ORG_LEVEL_WRITE);
	}
	for (size_t r = 0; r < repositories; r++) {
		struct org_input_repository *repository;
		int len;

		snprintf(name, sizeof(name), "repo-%zu", r);
		repository = org_input_add_repository(input, (long long)(300 + r), name, r % 7 == 0,
						      r % 11 == 0);
		len = snprintf(text, sizeof(text), "[project]\nname = \"pkg-%zu\"\t# \x01\n", r);
		if (r % 5 == 0)
			repository->pyproject_state = ORG_PYPROJECT_BINARY;
		else
			org_input_repository_set_pyproject(repository, text, (size_t)len);
		if (r % 13 == 0)
			repository->collaborators_known = false;
		else
			org_input_repository_add_collaborator(repository, "user-2", ORG_LEVEL_ADMIN);
		if (r % 17 == 0)
			org_input_repository_set_fork(repository, true, r % 2 ? "psf/requests" : NULL);
		repository->is_template = r % 19 == 0;
	}
	/* A pyproject.toml may hold a NUL byte: GitHub sends it as \u0000. */
	org_input_repository_set_pyproject(&input->repositories[1], "name = \"a\0b\"", 12);
	return input;
}

static char *
whole_dump(json_t *document, size_t flags)
{
	char *dumped = json_dumps(document, flags);
	char *copy = ga_strdup(dumped);

	free(dumped);	/* style-ok: jansson's allocation */
	return copy;
}

/* ---- writing --------------------------------------------------------- */

/* The text is exactly jansson's compact dump of the same document, as when
 * the whole tree was built (files and memcached values are unchanged). */
static void
test_text_is_the_compact_dump(void **state)
{
	struct org_input *input = organization(300);
	char *text = org_input_to_json(input);
	json_error_t error;
	json_t *whole = json_loads(text, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &error);
	char *dumped;

	(void)state;
	assert_non_null(whole);
	dumped = whole_dump(whole, JSON_COMPACT);
	assert_string_equal(text, dumped);
	assert_string_equal(json_string_value(json_object_get(whole, "organization")),
			    input->organization);
	json_decref(whole);
	ga_free(dumped);
	ga_free(text);
	org_input_free(input);
}

/* Every shared scenario too, after a round trip. */
static void
test_scenarios_round_trip(void **state)
{
	char **paths = scenario_paths();

	(void)state;
	for (size_t i = 0; paths[i] != NULL; i++) {
		json_t *scenario = scenario_load(paths[i]);
		struct org_input *input = scenario_to_input(scenario);
		struct org_input *back = NULL;
		char *text = org_input_to_json(input);
		char *again;
		struct ga_err err;

		assert_int_equal(org_input_from_json(text, strlen(text), &back, &err), GA_OK);
		again = org_input_to_json(back);
		assert_string_equal(text, again);
		ga_free(again);
		ga_free(text);
		org_input_free(back);
		org_input_free(input);
		json_decref(scenario);
	}
	scenario_paths_free(paths);
}

/* ---- reading --------------------------------------------------------- */

/* Any spelling of the same document reads the same: indented, keys in
 * another order, whitespace everywhere JSON allows it. */
static void
test_any_spelling_reads_the_same(void **state)
{
	static const size_t spellings[] = {
		JSON_INDENT(2), JSON_SORT_KEYS, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENSURE_ASCII,
	};
	struct org_input *input = organization(40);
	char *text = org_input_to_json(input);
	json_t *whole = json_loads(text, JSON_ALLOW_NUL, NULL);

	(void)state;
	for (size_t i = 0; i < sizeof(spellings) / sizeof(*spellings); i++) {
		char *spelled = whole_dump(whole, spellings[i]);
		char *padded = ga_asprintf(" \r\n\t%s \n\t", spelled);
		struct org_input *back = NULL;
		struct ga_err err;
		char *again;

		assert_int_equal(org_input_from_json(padded, strlen(padded), &back, &err), GA_OK);
		again = org_input_to_json(back);
		assert_string_equal(again, text);
		ga_free(again);
		org_input_free(back);
		ga_free(padded);
		ga_free(spelled);
	}
	json_decref(whole);
	ga_free(text);
	org_input_free(input);
}

#define HEADER "\"format\":\"ghaccess-snapshot\",\"version\":1,\"organization\":\"o\"," \
	       "\"base_permission\":null,\"synced_at\":1"
#define LISTS "\"members\":[],\"teams\":[],\"repositories\":[]"
#define REPOSITORY "{\"id\":1,\"name\":\"r\",\"archived\":false,\"disabled\":false," \
		   "\"pyproject\":\"missing\",\"collaborators\":[]}"

/* What a whole-document parse refused is still refused. */
static void
test_bad_documents_are_refused(void **state)
{
	static const char *const bad[] = {
		"", " ", "[]", "null", "{", "}", "{}",
		"{" HEADER "," LISTS "} x",			/* after the object */
		"{" HEADER "," LISTS "}}",
		"{" HEADER "," LISTS ",}",			/* trailing comma */
		"{" HEADER "," LISTS ",\"members\":[]}",	/* duplicate list */
		"{" HEADER ",\"format\":\"ghaccess-snapshot\"," LISTS "}",
		"{" HEADER "," LISTS ",\"members\":5}",
		"{\"members\":[]," HEADER ",\"members\":null,\"teams\":[],\"repositories\":[]}",
		"{" HEADER ",\"members\":{},\"teams\":[],\"repositories\":[]}",
		"{" HEADER ",\"teams\":[],\"repositories\":[]}",	/* no members */
		"{" HEADER ",\"members\":[] \"teams\":[],\"repositories\":[]}",
		"{" HEADER ",\"members\" [],\"teams\":[],\"repositories\":[]}",
		"{" HEADER ",members:[],\"teams\":[],\"repositories\":[]}",
		"{" HEADER ",\"members\":[,],\"teams\":[],\"repositories\":[]}",
		"{" HEADER ",\"members\":[],\"teams\":[],\"repositories\":[" REPOSITORY "]",
		"{" HEADER ",\"members\":[],\"teams\":[],\"repositories\":[" REPOSITORY " "
		REPOSITORY "]}",
		"{" HEADER ",\"members\":[],\"teams\":[],\"repositories\":[" REPOSITORY ",]}",
		"{" HEADER ",\"members\":[],\"teams\":[],\"repositories\":[5]}",
		"{" HEADER ",\"members\":[],\"teams\":[],\"repositories\":[{\"id\":1,\"id\":1}]}",
		"{" HEADER ",\"members\":[],\"teams\":[],\"repositories\":[" REPOSITORY "] ",
		"{" HEADER ",\"m\\u0000embers\":[]," LISTS "}",
		"{" HEADER "," LISTS ",\"other\":\"\xff\"}",	/* not UTF-8 */
		"{\"format\":\"other\"," LISTS "}",
		"{\"format\":\"ghaccess-snapshot\",\"version\":2," LISTS "}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct org_input *input = (struct org_input *)&input;
		struct ga_err err;

		print_message("bad document %zu\n", i);
		assert_int_equal(org_input_from_json(bad[i], strlen(bad[i]), &input, &err),
				 GA_EPARSE);
		assert_null(input);
		assert_true(strlen(err.message) > 0);
	}
}

/* A document that is fine apart from unknown keys still reads. */
static void
test_unknown_keys_are_ignored(void **state)
{
	static const char text[] = "{\"future\":{\"a\":[1,2]}," HEADER "," LISTS ",\"more\":null}";
	struct org_input *input = NULL;
	struct ga_err err;

	(void)state;
	assert_int_equal(org_input_from_json(text, strlen(text), &input, &err), GA_OK);
	assert_string_equal(input->organization, "o");
	org_input_free(input);
}

/* The place of a fault inside the lists is the place in the whole text. */
static void
test_faults_are_placed_in_the_whole_text(void **state)
{
	static const char text[] = "{" HEADER ",\n\"members\":[],\n\"teams\":[],\n"
				   "\"repositories\":[\n" REPOSITORY ",\n  {\"id\":1 \"name\"}]}";
	struct org_input *input = NULL;
	struct ga_err err;

	(void)state;
	assert_int_equal(org_input_from_json(text, strlen(text), &input, &err), GA_EPARSE);
	assert_int_equal(err.line, 6);
	assert_true(err.column > 3);
}

/*
 * The memory bound: a tree of the whole document costs about ten times its
 * text; one record's tree is tiny.  Reading and writing 20,000
 * repositories must never hold more than a few records' worth at once.
 */
static void
test_never_a_tree_of_the_whole_document(void **state)
{
	struct org_input *input = organization(20000);
	struct org_input *back = NULL;
	struct ga_err err;
	char *text;
	size_t written_peak;

	(void)state;
	json_set_alloc_funcs(counting_malloc, counting_free);
	json_live = json_peak = 0;
	text = org_input_to_json(input);
	written_peak = json_peak;
	json_live = json_peak = 0;
	assert_int_equal(org_input_from_json(text, strlen(text), &back, &err), GA_OK);
	json_set_alloc_funcs(malloc, free);
	print_message("text %zu bytes; jansson peak: writing %zu, reading %zu bytes\n",
		      strlen(text), written_peak, json_peak);
	assert_true(strlen(text) > 1000000);
	assert_true(written_peak < 64 * 1024);
	assert_true(json_peak < 64 * 1024);
	assert_int_equal(back->repository_count, 20000);
	ga_free(text);
	org_input_free(back);
	org_input_free(input);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_is_the_compact_dump),
		cmocka_unit_test(test_scenarios_round_trip),
		cmocka_unit_test(test_any_spelling_reads_the_same),
		cmocka_unit_test(test_bad_documents_are_refused),
		cmocka_unit_test(test_unknown_keys_are_ignored),
		cmocka_unit_test(test_faults_are_placed_in_the_whole_text),
		cmocka_unit_test(test_never_a_tree_of_the_whole_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
