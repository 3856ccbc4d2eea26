/*
 * test_org_input_copy.c - org_input_copy(): every field of every record is
 * copied, and the filter leaves out or changes exactly what it says.
 *
 * The field tables below list every field of the records of org_input.h
 * with its offset and what it holds.  They are checked against the
 * compiler's layout: a field of eight bytes or more (a pointer, a count, a
 * 64-bit number) added to a record and missing here fails
 * test_tables_cover_every_field, which says where to add it.  Smaller
 * fields (a bool, an enum) can hide in padding: those are scalars, which
 * org_input_copy copies whole with their record, and
 * test_unknown_bytes_are_copied proves it by filling every byte the tables
 * do not name with a pattern that must come through.  A field that owns
 * memory must be a fresh allocation with the same content in the copy
 * (test_identity_copy_is_deep): a shallow copy, or none, fails there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "org/org_input.h"
#include "util/ga_xalloc.h"

enum field_kind {
	FIELD_SCALAR = 0,	/* copied byte for byte */
	FIELD_STRING,		/* char *, NUL-terminated, owned */
	FIELD_TEXT,		/* char * with a length field (pyproject_text), owned */
	FIELD_LOGINS,		/* char **member_logins with member_count */
	FIELD_GRANTS,		/* struct org_input_grant * with its count */
	FIELD_MEMBERS,
	FIELD_TEAMS,
	FIELD_REPOSITORIES,
};

struct field {
	const char *name;
	size_t offset;
	size_t size;
	enum field_kind kind;
	size_t count_offset;	/* lists and text: the field that counts them */
};

#define SCALAR(type, name) \
	{ #name, offsetof(type, name), sizeof(((type *)0)->name), FIELD_SCALAR, 0 }
#define OWNED(type, name, kind) { #name, offsetof(type, name), sizeof(((type *)0)->name), kind, 0 }
#define LIST(type, name, kind, count) \
	{ #name, offsetof(type, name), sizeof(((type *)0)->name), kind, offsetof(type, count) }

/* In declaration order. */
static const struct field input_fields[] = {
	OWNED(struct org_input, organization, FIELD_STRING),
	SCALAR(struct org_input, organization_id),
	SCALAR(struct org_input, base_permission_known),
	SCALAR(struct org_input, base_permission),
	LIST(struct org_input, members, FIELD_MEMBERS, member_count),
	SCALAR(struct org_input, member_count),
	LIST(struct org_input, teams, FIELD_TEAMS, team_count),
	SCALAR(struct org_input, team_count),
	LIST(struct org_input, repositories, FIELD_REPOSITORIES, repository_count),
	SCALAR(struct org_input, repository_count),
	SCALAR(struct org_input, unnamed_repositories),
	SCALAR(struct org_input, synced_at),
	SCALAR(struct org_input, synced_at_ms),
};

static const struct field member_fields[] = {
	OWNED(struct org_input_member, login, FIELD_STRING),
	SCALAR(struct org_input_member, id),
	SCALAR(struct org_input_member, is_owner),
};

static const struct field grant_fields[] = {
	OWNED(struct org_input_grant, name, FIELD_STRING),
	SCALAR(struct org_input_grant, level),
};

static const struct field team_fields[] = {
	SCALAR(struct org_input_team, id),
	OWNED(struct org_input_team, slug, FIELD_STRING),
	OWNED(struct org_input_team, name, FIELD_STRING),
	OWNED(struct org_input_team, parent_slug, FIELD_STRING),
	LIST(struct org_input_team, member_logins, FIELD_LOGINS, member_count),
	SCALAR(struct org_input_team, member_count),
	LIST(struct org_input_team, repositories, FIELD_GRANTS, repository_count),
	SCALAR(struct org_input_team, repository_count),
};

static const struct field repository_fields[] = {
	SCALAR(struct org_input_repository, id),
	OWNED(struct org_input_repository, name, FIELD_STRING),
	SCALAR(struct org_input_repository, archived),
	SCALAR(struct org_input_repository, disabled),
	SCALAR(struct org_input_repository, pyproject_state),
	LIST(struct org_input_repository, pyproject_text, FIELD_TEXT, pyproject_length),
	SCALAR(struct org_input_repository, pyproject_length),
	SCALAR(struct org_input_repository, collaborators_known),
	LIST(struct org_input_repository, collaborators, FIELD_GRANTS, collaborator_count),
	SCALAR(struct org_input_repository, collaborator_count),
	SCALAR(struct org_input_repository, is_fork),
	OWNED(struct org_input_repository, fork_parent, FIELD_STRING),
	SCALAR(struct org_input_repository, is_template),
};

struct record_type {
	const char *name;
	size_t size;
	const struct field *fields;
	size_t field_count;
};

#define RECORD(type, table) { #type, sizeof(type), table, sizeof(table) / sizeof(table[0]) }

static const struct record_type input_type = RECORD(struct org_input, input_fields);
static const struct record_type member_type = RECORD(struct org_input_member, member_fields);
static const struct record_type grant_type = RECORD(struct org_input_grant, grant_fields);
static const struct record_type team_type = RECORD(struct org_input_team, team_fields);
static const struct record_type repository_type =
	RECORD(struct org_input_repository, repository_fields);

/* ---- the tables against the compiler's layout ----------------------------- */

/*
 * Between two consecutive fields, and after the last, there is only
 * padding: fewer than 8 bytes, too few for a pointer or a 64-bit field.
 * A field of that size that the table lacks leaves a wider gap, or moves
 * the next field, or grows the record.
 */
static void
check_layout(const struct record_type *type)
{
	size_t end = 0;

	for (size_t i = 0; i < type->field_count; i++) {
		const struct field *field = &type->fields[i];

		if (field->offset < end || field->offset - end >= 8)
			fail_msg("%s gained a field before %s (bytes %zu..%zu are not in the table): "
				 "if it owns memory, duplicate it in org_input_copy() "
				 "(src/org/org_input_copy.c); then add it to the table in "
				 "tests/unit/org/test_org_input_copy.c",
				 type->name, field->name, end, field->offset);
		end = field->offset + field->size;
	}
	if (type->size - end >= 8)
		fail_msg("%s gained a field after its last known one (%zu bytes not in the table): "
			 "if it owns memory, duplicate it in org_input_copy() "
			 "(src/org/org_input_copy.c); then add it to the table in "
			 "tests/unit/org/test_org_input_copy.c",
			 type->name, type->size - end);
}

static void
test_tables_cover_every_field(void **state)
{
	(void)state;
	check_layout(&input_type);
	check_layout(&member_type);
	check_layout(&grant_type);
	check_layout(&team_type);
	check_layout(&repository_type);
}

/* ---- a record with every field set ------------------------------------------ */

#define POISON 0xA5

/* Fill every byte of record that no field of the table names with POISON. */
static void
poison(void *record, const struct record_type *type)
{
	unsigned char *saved = ga_malloc(type->size);

	memcpy(saved, record, type->size);
	memset(record, POISON, type->size);
	for (size_t i = 0; i < type->field_count; i++)
		memcpy((char *)record + type->fields[i].offset, saved + type->fields[i].offset,
		       type->fields[i].size);
	ga_free(saved);
}

/* An organization in which every field holds something other than its default. */
static struct org_input *
full_input(void)
{
	static const char pyproject[] = "[project]\nname = \"core\"\n\0# after a NUL\n";
	struct org_input *input = org_input_new();
	struct org_input_team *team;
	struct org_input_repository *repository;

	input->organization = ga_strdup("acme");
	input->organization_id = 9900;
	input->base_permission_known = true;
	input->base_permission = ORG_LEVEL_TRIAGE;
	input->unnamed_repositories = 3;
	input->synced_at = 1700000000;
	input->synced_at_ms = 1700000000123;
	org_input_add_member(input, "olivia", 1, true);
	org_input_add_member(input, "bob", 2, false);
	org_input_add_member(input, "carol", 3, false);
	org_input_add_team(input, 10, "platform", "Platform", NULL);
	team = org_input_add_team(input, 11, "platform-infra", "Platform Infra", "platform");
	org_input_team_add_member(team, "carol");
	org_input_team_add_member(team, "bob");
	org_input_team_add_repository(team, "core-lib", ORG_LEVEL_MAINTAIN);
	org_input_team_add_repository(team, "tools", ORG_LEVEL_READ);
	repository = org_input_add_repository(input, 100, "core-lib", true, true);
	org_input_repository_set_pyproject(repository, pyproject, sizeof(pyproject) - 1);
	org_input_repository_add_collaborator(repository, "bob", ORG_LEVEL_WRITE);
	org_input_repository_add_collaborator(repository, "outsider", ORG_LEVEL_ADMIN);
	org_input_repository_set_fork(repository, true, "upstream/core-lib");
	repository->is_template = true;
	repository = org_input_add_repository(input, 101, "tools", false, false);
	repository->pyproject_state = ORG_PYPROJECT_UNDETERMINED;
	repository->collaborators_known = false;
	return input;
}

static void
poison_input(struct org_input *input)
{
	for (size_t i = 0; i < input->member_count; i++)
		poison(&input->members[i], &member_type);
	for (size_t i = 0; i < input->team_count; i++) {
		for (size_t g = 0; g < input->teams[i].repository_count; g++)
			poison(&input->teams[i].repositories[g], &grant_type);
		poison(&input->teams[i], &team_type);
	}
	for (size_t i = 0; i < input->repository_count; i++) {
		for (size_t g = 0; g < input->repositories[i].collaborator_count; g++)
			poison(&input->repositories[i].collaborators[g], &grant_type);
		poison(&input->repositories[i], &repository_type);
	}
	poison(input, &input_type);
}

/* ---- comparing a copy with its original, field by field ----------------------- */

static void compare_record(const void *original, const void *copy, const struct record_type *type);

static size_t
count_of(const void *record, const struct field *field)
{
	return *(const size_t *)(const void *)((const char *)record + field->count_offset);
}

static void *
pointer_of(const void *record, const struct field *field)
{
	void *pointer;

	memcpy(&pointer, (const char *)record + field->offset, sizeof(pointer));
	return pointer;
}

/* An owned field: NULL in both, or two allocations with the same content. */
static void
compare_owned(const void *original, const void *copy, const struct record_type *type,
	      const struct field *field)
{
	const char *a = pointer_of(original, field);
	const char *b = pointer_of(copy, field);
	size_t count;
	const struct record_type *element = NULL;

	if (a == NULL || b == NULL) {
		if (a != b)
			fail_msg("%s.%s: %s in the original, %s in the copy", type->name, field->name,
				 a ? "set" : "NULL", b ? "set" : "NULL");
		return;
	}
	if (a == b)
		fail_msg("%s.%s: the copy shares the original's memory (not duplicated by "
			 "org_input_copy)", type->name, field->name);
	switch (field->kind) {
	case FIELD_STRING:
		assert_string_equal(a, b);
		return;
	case FIELD_TEXT:
		assert_memory_equal(a, b, count_of(original, field) + 1);
		return;
	case FIELD_LOGINS:
		count = count_of(original, field);
		for (size_t i = 0; i < count; i++) {
			const char *const *la = (const char *const *)(const void *)a;
			const char *const *lb = (const char *const *)(const void *)b;

			assert_ptr_not_equal(la[i], lb[i]);
			assert_string_equal(la[i], lb[i]);
		}
		return;
	case FIELD_GRANTS:
		element = &grant_type;
		break;
	case FIELD_MEMBERS:
		element = &member_type;
		break;
	case FIELD_TEAMS:
		element = &team_type;
		break;
	case FIELD_REPOSITORIES:
		element = &repository_type;
		break;
	case FIELD_SCALAR:
		return;
	}
	count = count_of(original, field);
	for (size_t i = 0; i < count; i++)
		compare_record(a + i * element->size, b + i * element->size, element);
}

/*
 * Every byte that is not an owned field equal (the scalars the tables name,
 * and those they do not), every owned field duplicated.
 */
static void
compare_record(const void *original, const void *copy, const struct record_type *type)
{
	const unsigned char *a = original;
	const unsigned char *b = copy;

	for (size_t byte = 0; byte < type->size; byte++) {
		const struct field *field = NULL;

		for (size_t i = 0; i < type->field_count; i++)
			if (byte >= type->fields[i].offset &&
			    byte < type->fields[i].offset + type->fields[i].size)
				field = &type->fields[i];
		if ((field == NULL || field->kind == FIELD_SCALAR) && a[byte] != b[byte])
			fail_msg("%s: byte %zu (%s) differs in the copy: not copied by "
				 "org_input_copy", type->name, byte,
				 field != NULL ? field->name : "no field of the table: a new one?");
	}
	for (size_t i = 0; i < type->field_count; i++)
		if (type->fields[i].kind != FIELD_SCALAR)
			compare_owned(original, copy, type, &type->fields[i]);
}

static void
test_identity_copy_is_deep(void **state)
{
	struct org_input *input = full_input();
	struct org_input *copy = org_input_copy(input, NULL);
	char *before = org_input_to_json(input);
	char *after = org_input_to_json(copy);

	(void)state;
	compare_record(input, copy, &input_type);
	assert_string_equal(before, after);
	/* The copy is a list like any other: it can grow. */
	org_input_add_member(copy, "dave", 4, false);
	org_input_repository_add_collaborator(&copy->repositories[0], "dave", ORG_LEVEL_READ);
	assert_int_equal(copy->member_count, 4);
	ga_free(before);
	ga_free(after);
	org_input_free(copy);
	org_input_free(input);
}

static void
test_unknown_bytes_are_copied(void **state)
{
	struct org_input *input = full_input();
	struct org_input *copy;

	(void)state;
	poison_input(input);
	copy = org_input_copy(input, NULL);
	compare_record(input, copy, &input_type);
	org_input_free(copy);
	org_input_free(input);
}

/* ---- what a filter does ---------------------------------------------------------- */

static bool
not_bob(void *context, const struct org_input_member *member)
{
	(void)context;
	return strcmp(member->login, "bob") != 0;
}

static bool
team_member_not_bob(void *context, const struct org_input_team *team, const char *login)
{
	(void)context;
	(void)team;
	return strcmp(login, "bob") != 0;
}

static bool
not_platform(void *context, const struct org_input_team *team)
{
	(void)context;
	return strcmp(team->slug, "platform") != 0;
}

static bool
not_tools(void *context, const struct org_input_repository *repository)
{
	(void)context;
	return strcmp(repository->name, "tools") != 0;
}

/* Lower every team grant to read; drop read grants. */
static enum org_level
lower_to_read(void *context, const struct org_input_team *team, const struct org_input_grant *grant)
{
	(void)context;
	(void)team;
	return grant->level > ORG_LEVEL_READ ? ORG_LEVEL_READ : ORG_LEVEL_NONE;
}

static enum org_level
only_outsider(void *context, const struct org_input_repository *repository,
	      const struct org_input_grant *grant)
{
	(void)context;
	(void)repository;
	return strcmp(grant->name, "outsider") == 0 ? grant->level : ORG_LEVEL_NONE;
}

static void
detach(void *context, struct org_input_team *copy)
{
	(*(int *)context)++;
	org_input_team_set_parent(copy, NULL);
}

static void
unarchive(void *context, struct org_input_repository *copy)
{
	(*(int *)context)++;
	copy->archived = false;
}

static void
test_filter_drops_and_edits(void **state)
{
	struct org_input *input = full_input();
	int edits = 0;
	const struct org_input_filter filter = {
		.context = &edits,
		.keep_member = not_bob,
		.keep_team = not_platform,
		.keep_team_member = team_member_not_bob,
		.keep_repository = not_tools,
		.team_grant = lower_to_read,
		.collaborator = only_outsider,
		.edit_team = detach,
		.edit_repository = unarchive,
	};
	struct org_input *copy = org_input_copy(input, &filter);

	(void)state;
	assert_int_equal(copy->member_count, 2);
	assert_string_equal(copy->members[0].login, "olivia");
	assert_string_equal(copy->members[1].login, "carol");
	assert_int_equal(copy->team_count, 1);
	assert_string_equal(copy->teams[0].slug, "platform-infra");
	assert_null(copy->teams[0].parent_slug);
	assert_int_equal(copy->teams[0].member_count, 1);
	assert_string_equal(copy->teams[0].member_logins[0], "carol");
	assert_int_equal(copy->teams[0].repository_count, 1);
	assert_string_equal(copy->teams[0].repositories[0].name, "core-lib");
	assert_int_equal(copy->teams[0].repositories[0].level, ORG_LEVEL_READ);
	assert_int_equal(copy->repository_count, 1);
	assert_string_equal(copy->repositories[0].name, "core-lib");
	assert_false(copy->repositories[0].archived);
	assert_int_equal(copy->repositories[0].collaborator_count, 1);
	assert_string_equal(copy->repositories[0].collaborators[0].name, "outsider");
	assert_int_equal(copy->repositories[0].collaborators[0].level, ORG_LEVEL_ADMIN);
	/* Edits see kept records only: one team, one repository. */
	assert_int_equal(edits, 2);
	/* What the filter does not touch is the original's. */
	assert_true(copy->repositories[0].is_fork);
	assert_string_equal(copy->repositories[0].fork_parent, "upstream/core-lib");
	assert_int_equal(copy->synced_at_ms, input->synced_at_ms);
	assert_int_equal(copy->unnamed_repositories, 3);
	assert_int_equal(copy->organization_id, 9900);
	/* The original is unchanged. */
	assert_int_equal(input->member_count, 3);
	assert_string_equal(input->teams[1].parent_slug, "platform");
	assert_true(input->repositories[0].archived);
	org_input_free(copy);
	org_input_free(input);
}

/* Everything left out: empty lists that still grow. */
static bool
keep_no_member(void *context, const struct org_input_member *member)
{
	(void)context;
	(void)member;
	return false;
}

static void
test_empty_copy_grows(void **state)
{
	struct org_input *input = full_input();
	const struct org_input_filter filter = { .keep_member = keep_no_member };
	struct org_input *copy = org_input_copy(input, &filter);

	(void)state;
	assert_int_equal(copy->member_count, 0);
	for (int i = 0; i < 5; i++)
		org_input_add_member(copy, "someone", 100 + i, false);
	assert_int_equal(copy->member_count, 5);
	assert_string_equal(copy->members[4].login, "someone");
	org_input_free(copy);
	org_input_free(input);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_cover_every_field),
		cmocka_unit_test(test_identity_copy_is_deep),
		cmocka_unit_test(test_unknown_bytes_are_copied),
		cmocka_unit_test(test_filter_drops_and_edits),
		cmocka_unit_test(test_empty_copy_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
