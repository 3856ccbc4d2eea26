/*
 * test_org_pyproject_kept.c - a hostile repository file cannot make the
 * server hold it: a pyproject.toml over 1 kB is kept as a short text that
 * declares exactly the same (name, or no name and the same reason), and a
 * text never gains or loses a name on the way.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "org/org_input.h"
#include "org/org_package.h"
#include "util/ga_buf.h"
#include "util/ga_xalloc.h"

/* head, then lines of filler (a comment or a table) up to size bytes, then tail. */
static char *
padded(const char *head, size_t size, const char *tail)
{
	struct ga_buf buf;

	ga_buf_init(&buf, 0);
	ga_buf_append_str(&buf, head);
	for (size_t i = 0; buf.len < size; i++)
		ga_buf_printf(&buf, "[tool.filler%zu]\nvalue = \"%0100zu\" # padding\n", i, i);
	ga_buf_append_str(&buf, tail);
	return ga_buf_steal(&buf);
}

struct outcome {
	bool named;
	char *name;
	char reason[ORG_REASON_MAX];
};

/* What the snapshot reads of a repository whose file is text. */
static struct outcome
read_back(const char *text, struct org_input_repository **kept)
{
	static struct org_input *input;
	struct outcome out;

	if (input != NULL)
		org_input_free(input);
	input = org_input_new();
	*kept = org_input_add_repository(input, 1, "r", false, false);
	org_input_repository_set_pyproject(*kept, text, strlen(text));
	out.named = org_pyproject_name(*kept, &out.name, out.reason);
	return out;
}

/* The same file as a snapshot with the whole text (as main kept it). */
static struct outcome
whole(const char *text)
{
	struct org_input_repository repository = {
		.pyproject_state = ORG_PYPROJECT_TEXT,
		.pyproject_text = (char *)text,
		.pyproject_length = strlen(text),
	};
	struct outcome out;

	out.named = org_pyproject_name(&repository, &out.name, out.reason);
	return out;
}

static void
assert_same(const char *text, const char *expected_kept)
{
	struct org_input_repository *kept;
	struct outcome original = whole(text);
	struct outcome now = read_back(text, &kept);

	assert_int_equal(now.named, original.named);
	if (original.named)
		assert_string_equal(now.name, original.name);
	else
		assert_string_equal(now.reason, original.reason);
	assert_true(kept->pyproject_length <= ORG_PYPROJECT_KEEP_MAX);
	if (expected_kept != NULL) {
		assert_int_equal(kept->pyproject_state, ORG_PYPROJECT_TEXT);
		assert_string_equal(kept->pyproject_text, expected_kept);
	}
	ga_free(original.name);
	ga_free(now.name);
}

static void
test_small_files_are_kept_as_they_are(void **state)
{
	static const char text[] = "[project]\nname = \"Acme_Core\"  # the core\n";
	struct org_input_repository *kept;
	struct outcome now = read_back(text, &kept);

	(void)state;
	assert_true(now.named);
	assert_string_equal(kept->pyproject_text, text);
	assert_int_equal(kept->pyproject_length, strlen(text));
	ga_free(now.name);
}

static void
test_large_files_keep_what_they_declare(void **state)
{
	struct {
		const char *head, *tail, *kept;
	} cases[] = {
		{ "[project]\nname = \"Acme_Core\"\n", "", "[project]\nname = \"Acme_Core\"\n" },
		{ "", "[tool.poetry]\nname = \"acme.tools\"\n", "[project]\nname = \"acme.tools\"\n" },
		{ "[project]\nversion = \"1\"\n", "", "" },
		{ "[project]\nname = 42\n", "", "[project]\nname = 0\n" },
		{ "[project]\nname = \"-not valid-\"\n", "", "[project]\nname = \"\"\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *text = padded(cases[i].head, 200 * 1024, cases[i].tail);

		print_message("case %zu\n", i);
		assert_same(text, cases[i].kept);
		ga_free(text);
	}
}

/* A TOML error early: the text up to that line, with the same message. */
static void
test_an_early_error_keeps_its_line(void **state)
{
	char *text = padded("[project]\nname = \"acme\"\nversion = = 1\n", 100 * 1024, "");
	struct org_input_repository *kept;
	struct outcome now = read_back(text, &kept);

	(void)state;
	assert_false(now.named);
	assert_non_null(strstr(now.reason, "invalid TOML at line 3"));
	assert_string_equal(kept->pyproject_text, "[project]\nname = \"acme\"\nversion = = 1\n");
	assert_same(text, NULL);
	ga_free(text);
}

/* A name followed far below by a fault declares nothing; keeping its first
 * kilobyte would make it declare "evil" and take that name.  No short text
 * says "invalid TOML at line 2966": it is kept as too large to read, which
 * declares nothing either (only the reason sync shows differs). */
static void
test_a_late_error_never_becomes_a_name(void **state)
{
	char *text = padded("[project]\nname = \"evil\"\n", 300 * 1024, "[[[broken\n");
	struct org_input_repository *kept;
	struct outcome now = read_back(text, &kept);

	(void)state;
	assert_false(now.named);
	assert_int_equal(kept->pyproject_state, ORG_PYPROJECT_TRUNCATED);
	assert_null(kept->pyproject_text);
	assert_false(whole(text).named);
	ga_free(text);
}

/* 500 repositories with a 256 kB file each: 128 MB of text that a member
 * could make every instance hold, twice during a refresh.  Kept: 500 short
 * texts. */
static void
test_hostile_files_are_not_held(void **state)
{
	char *text = padded("[project]\nname = \"big\"\n", 256 * 1024, "");
	struct org_input *input = org_input_new();
	size_t held = 0;

	(void)state;
	for (int r = 0; r < 500; r++) {
		char name[32];

		snprintf(name, sizeof(name), "big-%d", r);
		org_input_repository_set_pyproject(org_input_add_repository(input, r + 1, name, false,
									    false),
						   text, strlen(text));
	}
	/* malloc_usable_size: what the allocator holds for each text (also
	 * under AddressSanitizer, whose allocator mallinfo does not see). */
	for (size_t r = 0; r < input->repository_count; r++)
		if (input->repositories[r].pyproject_text != NULL)
			held += malloc_usable_size(input->repositories[r].pyproject_text);
	print_message("500 files of %zu bytes: %zu bytes of text held\n", strlen(text), held);
	assert_true(held > 0);
	assert_true(held < 500 * 64);
	org_input_free(input);
	ga_free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_files_are_kept_as_they_are),
		cmocka_unit_test(test_large_files_keep_what_they_declare),
		cmocka_unit_test(test_an_early_error_keeps_its_line),
		cmocka_unit_test(test_a_late_error_never_becomes_a_name),
		cmocka_unit_test(test_hostile_files_are_not_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
