/*
 * test_index_upload.c - the legacy upload form: every check, the order of
 * fields, chunked delivery as libmicrohttpd's post processor does it, and
 * what is (not) left in storage after a refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../support/tempdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "index/index_upload.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"

static const char wheel_name[] = "acme_core-1.0.0-py3-none-any.whl";
static const char wheel_bytes[] = "PK\3\4 pretend this is a wheel, long enough to chunk";

struct fixture {
	char dir[64];
	struct index_storage *storage;
	struct index_upload_settings settings;
	int may_write_calls;
	char asked_project[64];
	int recheck_calls;
	enum index_upload_status recheck_answer;
};

static bool
may_write(void *context, const char *project, char reason[INDEX_REASON_MAX])
{
	struct fixture *f = context;

	f->may_write_calls++;
	snprintf(f->asked_project, sizeof(f->asked_project), "%s", project);
	if (strcmp(project, "acme-core") == 0)
		return true;
	snprintf(reason, INDEX_REASON_MAX, "dave may not upload to %s", project);
	return false;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ga_err err;

	ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	strcpy(f->dir, "/tmp/ghaccess-upload-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(index_storage_open(f->dir, &f->storage, &err), GA_OK);
	f->settings = (struct index_upload_settings){
		.storage = f->storage,
		.max_size = 1024,
		.uploader = "bob",
		.may_write = may_write,
		.context = f,
	};
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	index_storage_close(f->storage);
	tempdir_remove(f->dir);
	free(f);
	return 0;
}

/* Feed a whole field in one chunk. */
static bool
field(struct index_upload *upload, const char *key, const char *value)
{
	return index_upload_feed(upload, key, NULL, value, 0, strlen(value));
}

/* Feed a file part in chunks of at most chunk bytes, announced first by an
 * empty chunk (the post processor may do that). */
static bool
file_part(struct index_upload *upload, const char *filename, const char *data, size_t len,
	  size_t chunk)
{
	if (!index_upload_feed(upload, "content", filename, data, 0, 0))
		return false;
	for (size_t offset = 0; offset < len; offset += chunk) {
		size_t size = len - offset < chunk ? len - offset : chunk;

		if (!index_upload_feed(upload, "content", filename, data + offset, offset, size))
			return false;
	}
	return true;
}

static void
sha256_hex(const char *data, size_t len, char out[65])
{
	uint8_t digest[32];

	ga_sha256(data, len, digest);
	ga_hex(digest, 32, out);
}

/* The usual metadata fields, as twine sends them (before the file). */
static void
metadata(struct index_upload *upload, const char *name, const char *version,
	 const char *filetype)
{
	char sha[65];

	sha256_hex(wheel_bytes, sizeof(wheel_bytes) - 1, sha);
	assert_true(field(upload, ":action", "file_upload"));
	assert_true(field(upload, "protocol_version", "1"));
	assert_true(field(upload, "metadata_version", "2.1"));
	assert_true(field(upload, "name", name));
	assert_true(field(upload, "version", version));
	assert_true(field(upload, "filetype", filetype));
	assert_true(field(upload, "pyversion", "py3"));
	assert_true(field(upload, "classifiers", "A :: B"));
	assert_true(field(upload, "classifiers", "C :: D"));
	assert_true(field(upload, "md5_digest", "00000000000000000000000000000000"));
	assert_true(field(upload, "sha256_digest", sha));
	assert_true(field(upload, "requires_python", ">=3.8"));
}

static size_t
stored_files(struct fixture *f, const char *project)
{
	struct index_file_list list;
	struct ga_err err;
	size_t count;

	if (index_storage_list_files(f->storage, project, &list, &err) != GA_OK)
		return 0;
	count = list.count;
	index_file_list_free(&list);
	return count;
}

static size_t
root_entries(struct fixture *f)
{
	char command[128];
	char line[256];
	size_t count = 0;
	FILE *pipe;

	snprintf(command, sizeof(command), "ls -A '%s'", f->dir);
	pipe = popen(command, "r");
	while (fgets(line, sizeof(line), pipe) != NULL)
		count++;
	pclose(pipe);
	return count;
}

static void
test_twine_order(void **state)
{
	struct fixture *f = *state;
	struct index_upload *upload = index_upload_new(&f->settings);
	struct index_file_list list;
	struct ga_err err;

	metadata(upload, "Acme_Core", "1.0.0", "bdist_wheel");
	assert_true(file_part(upload, wheel_name, wheel_bytes, sizeof(wheel_bytes) - 1, 7));
	assert_true(field(upload, "comment", ""));
	/* The permission was asked as the file began, about the key. */
	assert_int_equal(f->may_write_calls, 1);
	assert_string_equal(f->asked_project, "acme-core");
	assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_OK);
	assert_string_equal(index_upload_reason(upload), "");
	assert_string_equal(index_upload_project(upload), "acme-core");
	assert_string_equal(index_upload_filename(upload), wheel_name);
	assert_int_equal(f->may_write_calls, 1);
	index_upload_free(upload);

	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	assert_int_equal(list.count, 1);
	assert_string_equal(list.files[0].filename, wheel_name);
	assert_int_equal(list.files[0].size, sizeof(wheel_bytes) - 1);
	assert_string_equal(list.files[0].uploader, "bob");
	assert_string_equal(list.files[0].requires_python, ">=3.8");
	index_file_list_free(&list);
}

/*
 * A file part before :action, name and version is refused as it begins,
 * without storing a byte and without asking for the permission: a member
 * without write access must not be able to fill the disk.
 */
static void
test_fields_after_file(void **state)
{
	static const char *const before[][3] = {
		{ NULL, NULL, NULL },
		{ ":action", NULL, NULL },
		{ ":action", "name", NULL },
		{ "name", "version", NULL },
		{ ":action", "version", NULL },
	};
	static const char *const values[][2] = {
		{ ":action", "file_upload" }, { "name", "acme.core" }, { "version", "1.0" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		struct index_upload *upload = index_upload_new(&f->settings);

		for (size_t j = 0; j < 3 && before[i][j] != NULL; j++)
			for (size_t k = 0; k < 3; k++)
				if (strcmp(before[i][j], values[k][0]) == 0)
					assert_true(field(upload, values[k][0], values[k][1]));
		assert_false(file_part(upload, "acme_core-1.0.tar.gz", "\x1f\x8b rest", 7, 3));
		assert_int_equal(root_entries(f), 0);
		assert_int_equal(f->may_write_calls, 0);
		assert_false(field(upload, "filetype", "sdist"));
		assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_BAD_REQUEST);
		assert_int_equal(index_upload_http_status(index_upload_status(upload)), 400);
		assert_non_null(strstr(index_upload_reason(upload),
				       ":action, name and version must come before the file"));
		index_upload_free(upload);
		assert_int_equal(stored_files(f, "acme-core"), 0);
	}
}

/* The three fields first, in any order, the rest after the file: fine. */
static void
test_metadata_first_in_any_order(void **state)
{
	struct fixture *f = *state;
	struct index_upload *upload = index_upload_new(&f->settings);

	assert_true(field(upload, "version", "1.0"));
	assert_true(field(upload, "name", "acme.core"));
	assert_true(field(upload, ":action", "file_upload"));
	assert_true(file_part(upload, "acme_core-1.0.tar.gz", "\x1f\x8b rest", 7, 3));
	assert_int_equal(f->may_write_calls, 1);
	assert_true(field(upload, "filetype", "sdist"));
	assert_true(field(upload, "requires_python", ""));
	assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_OK);
	index_upload_free(upload);
	assert_int_equal(stored_files(f, "acme-core"), 1);
}

static void
test_forbidden_before_storing(void **state)
{
	struct fixture *f = *state;
	struct index_upload *upload = index_upload_new(&f->settings);

	metadata(upload, "acme-tools", "1.0.0", "bdist_wheel");
	/* Refused as the file part begins: not a byte is stored. */
	assert_false(file_part(upload, "acme_tools-1.0.0-py3-none-any.whl", wheel_bytes,
			       sizeof(wheel_bytes) - 1, 8));
	assert_int_equal(root_entries(f), 0);
	assert_false(field(upload, "comment", "later fields are ignored"));
	assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_FORBIDDEN);
	assert_int_equal(index_upload_http_status(index_upload_status(upload)), 403);
	assert_string_equal(index_upload_reason(upload), "dave may not upload to acme-tools");
	index_upload_free(upload);
	assert_int_equal(stored_files(f, "acme-tools"), 0);
}

static enum index_upload_status
recheck(void *context, const char *project, char reason[INDEX_REASON_MAX])
{
	struct fixture *f = context;

	f->recheck_calls++;
	if (f->recheck_answer != INDEX_UPLOAD_OK)
		snprintf(reason, INDEX_REASON_MAX, "bob lost write access to %s", project);
	return f->recheck_answer;
}

/* The decision is made again right before the file becomes visible. */
static void
test_recheck_at_commit(void **state)
{
	static const enum index_upload_status answers[] = {
		INDEX_UPLOAD_FORBIDDEN, INDEX_UPLOAD_UNAVAILABLE, INDEX_UPLOAD_OK,
	};
	struct fixture *f = *state;

	f->settings.recheck = recheck;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		struct index_upload *upload = index_upload_new(&f->settings);
		enum index_upload_status status;

		f->recheck_answer = answers[i];
		f->recheck_calls = 0;
		metadata(upload, "acme-core", "1.0.0", "bdist_wheel");
		assert_true(file_part(upload, wheel_name, wheel_bytes, sizeof(wheel_bytes) - 1, 9));
		assert_int_equal(f->recheck_calls, 0);
		status = index_upload_finish(upload);
		assert_int_equal(f->recheck_calls, 1);
		assert_int_equal(status, answers[i]);
		if (answers[i] != INDEX_UPLOAD_OK) {
			assert_string_equal(index_upload_reason(upload),
					    "bob lost write access to acme-core");
			assert_int_equal(stored_files(f, "acme-core"), 0);
		}
		index_upload_free(upload);
		assert_int_equal(root_entries(f), answers[i] == INDEX_UPLOAD_OK ? 1 : 0);
	}
	assert_int_equal(stored_files(f, "acme-core"), 1);
	assert_int_equal(index_upload_http_status(INDEX_UPLOAD_UNAVAILABLE), 503);
}

struct refusal_case {
	const char *what;
	const char *name;
	const char *version;
	const char *filetype;
	const char *filename;
	const char *content;
	const char *sha256;	/* NULL: the right digest; "": none */
	const char *action;
	const char *protocol;
	const char *requires_python;
	enum index_upload_status status;
	const char *reason_part;
};

static const struct refusal_case refusal_cases[] = {
	{ "no :action", .action = "", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = ":action, name and version must come before the file" },
	{ "other :action", .action = "submit", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "unsupported :action" },
	{ "protocol 2", .protocol = "2", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "protocol_version" },
	{ "no name", .name = "", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = ":action, name and version must come before the file" },
	{ "bad name", .name = "acme core!", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "invalid project name" },
	{ "bad version", .version = "one", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "invalid version \"one\"" },
	{ "no filetype", .filetype = "", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "missing field: filetype" },
	{ "egg", .filetype = "bdist_egg", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "unsupported filetype" },
	{ "filetype mismatch", .filetype = "sdist", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "filetype sdist does not match" },
	{ "other project's file", .filename = "acme_tools-1.0.0-py3-none-any.whl",
	  .status = INDEX_UPLOAD_BAD_REQUEST, .reason_part = "not a file of project acme-core" },
	{ "other version's file", .version = "1.0.1", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "not a file of version 1.0.1" },
	{ "not a distribution", .filename = "acme_core-1.0.0.exe",
	  .status = INDEX_UPLOAD_BAD_REQUEST, .reason_part = "neither a wheel" },
	{ "path in filename", .filename = "../acme_core-1.0.0-py3-none-any.whl",
	  .status = INDEX_UPLOAD_BAD_REQUEST, .reason_part = "must start with" },
	{ "digest mismatch",
	  .sha256 = "0000000000000000000000000000000000000000000000000000000000000000",
	  .status = INDEX_UPLOAD_BAD_REQUEST, .reason_part = "does not match the uploaded file" },
	{ "digest malformed", .sha256 = "abc", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "not 64 hexadecimal" },
	{ "not a zip", .content = "plain text", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "is not a zip archive" },
	{ "not gzip", .filename = "acme_core-1.0.0.tar.gz", .filetype = "sdist",
	  .status = INDEX_UPLOAD_BAD_REQUEST, .reason_part = "is not a gzip file" },
	{ "empty", .content = "", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "empty file" },
	{ "control in requires_python", .requires_python = ">=3\r\nX-Evil: 1",
	  .status = INDEX_UPLOAD_BAD_REQUEST, .reason_part = "invalid requires_python" },
	{ "too large", .content = "PK\3\4 ...", .status = INDEX_UPLOAD_TOO_LARGE,
	  .reason_part = "max_upload_size" },
};

static void
run_refusal(struct fixture *f, const struct refusal_case *c)
{
	struct index_upload *upload = index_upload_new(&f->settings);
	const char *content = c->content ? c->content : wheel_bytes;
	const char *filename = c->filename ? c->filename : wheel_name;
	char big[2048];
	char sha[65];
	size_t len = strlen(content);

	if (c->status == INDEX_UPLOAD_TOO_LARGE) {
		memset(big, 'x', sizeof(big));
		memcpy(big, "PK\3\4", 4);
		content = big;
		len = sizeof(big);
	}
	sha256_hex(content, len, sha);
	if (c->action == NULL || c->action[0] != '\0')
		field(upload, ":action", c->action ? c->action : "file_upload");
	if (c->protocol != NULL)
		field(upload, "protocol_version", c->protocol);
	if (c->name == NULL || c->name[0] != '\0')
		field(upload, "name", c->name ? c->name : "acme-core");
	field(upload, "version", c->version ? c->version : "1.0.0");
	if (c->filetype == NULL || c->filetype[0] != '\0')
		field(upload, "filetype", c->filetype ? c->filetype : "bdist_wheel");
	if (c->sha256 == NULL || c->sha256[0] != '\0')
		field(upload, "sha256_digest", c->sha256 ? c->sha256 : sha);
	if (c->requires_python != NULL)
		field(upload, "requires_python", c->requires_python);
	file_part(upload, filename, content, len, 100);
	if (index_upload_finish(upload) != c->status)
		fail_msg("%s: status %d (%s), expected %d", c->what, index_upload_status(upload),
			 index_upload_reason(upload), c->status);
	if (strstr(index_upload_reason(upload), c->reason_part) == NULL)
		fail_msg("%s: reason '%s' lacks '%s'", c->what, index_upload_reason(upload),
			 c->reason_part);
	for (const char *p = index_upload_reason(upload); *p != '\0'; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	index_upload_free(upload);
	assert_int_equal(stored_files(f, "acme-core"), 0);
	assert_int_equal(root_entries(f), 0);
}

static void
test_refusals(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(refusal_cases) / sizeof(refusal_cases[0]); i++)
		run_refusal(f, &refusal_cases[i]);
	assert_int_equal(index_upload_http_status(INDEX_UPLOAD_TOO_LARGE), 413);
	assert_int_equal(index_upload_http_status(INDEX_UPLOAD_BAD_REQUEST), 400);
	assert_int_equal(index_upload_http_status(INDEX_UPLOAD_ERROR), 500);
}

static enum index_upload_status
upload_wheel(struct fixture *f, const char *sha_field)
{
	struct index_upload *upload = index_upload_new(&f->settings);
	enum index_upload_status status;

	field(upload, ":action", "file_upload");
	field(upload, "name", "acme-core");
	field(upload, "version", "1.0.0");
	field(upload, "filetype", "bdist_wheel");
	if (sha_field != NULL)
		field(upload, sha_field, "0123456789abcdef0123456789abcdef");
	file_part(upload, wheel_name, wheel_bytes, sizeof(wheel_bytes) - 1, 64);
	status = index_upload_finish(upload);
	if (status == INDEX_UPLOAD_CONFLICT)
		assert_non_null(strstr(index_upload_reason(upload), "already exists"));
	index_upload_free(upload);
	return status;
}

static void
test_existing_file(void **state)
{
	struct fixture *f = *state;

	/* Without sha256_digest (only md5): accepted, SHA-256 computed. */
	assert_int_equal(upload_wheel(f, "md5_digest"), INDEX_UPLOAD_OK);
	assert_int_equal(upload_wheel(f, NULL), INDEX_UPLOAD_CONFLICT);
	assert_int_equal(index_upload_http_status(INDEX_UPLOAD_CONFLICT), 409);
	f->settings.allow_overwrite = true;
	assert_int_equal(upload_wheel(f, NULL), INDEX_UPLOAD_OK);
	assert_int_equal(stored_files(f, "acme-core"), 1);
}

static void
test_malformed_delivery(void **state)
{
	struct fixture *f = *state;
	struct index_upload *upload;
	char long_value[INDEX_UPLOAD_FIELD_MAX + 2];

	/* A chunk that does not continue the part. */
	upload = index_upload_new(&f->settings);
	assert_true(index_upload_feed(upload, "name", NULL, "acme", 0, 4));
	assert_false(index_upload_feed(upload, "name", NULL, "-core", 7, 5));
	assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_BAD_REQUEST);
	index_upload_free(upload);

	/* A field given twice. */
	upload = index_upload_new(&f->settings);
	assert_true(field(upload, "name", "acme-core"));
	assert_false(field(upload, "name", "acme-tools"));
	assert_non_null(strstr(index_upload_reason(upload), "more than once"));
	index_upload_free(upload);

	/* Two file parts. */
	upload = index_upload_new(&f->settings);
	field(upload, ":action", "file_upload");
	field(upload, "name", "acme-core");
	field(upload, "version", "1.0.0");
	assert_true(file_part(upload, wheel_name, wheel_bytes, 10, 10));
	assert_false(file_part(upload, wheel_name, wheel_bytes, 10, 10));
	index_upload_free(upload);

	/* content without a filename. */
	upload = index_upload_new(&f->settings);
	assert_false(field(upload, "content", "PK\3\4"));
	index_upload_free(upload);

	/* An over-long field. */
	upload = index_upload_new(&f->settings);
	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	assert_false(field(upload, "requires_python", long_value));
	assert_non_null(strstr(index_upload_reason(upload), "too long"));
	index_upload_free(upload);

	/* A long description is read and dropped. */
	upload = index_upload_new(&f->settings);
	for (int i = 0; i < 100; i++)
		assert_true(index_upload_feed(upload, "description", NULL, long_value,
					      (uint64_t)i * (sizeof(long_value) - 1),
					      sizeof(long_value) - 1));
	index_upload_free(upload);

	/* No file at all. */
	upload = index_upload_new(&f->settings);
	field(upload, ":action", "file_upload");
	field(upload, "name", "acme-core");
	field(upload, "version", "1.0");
	field(upload, "filetype", "sdist");
	assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_BAD_REQUEST);
	assert_non_null(strstr(index_upload_reason(upload), "missing file part"));
	/* finish is idempotent. */
	assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_BAD_REQUEST);
	index_upload_free(upload);
	assert_int_equal(root_entries(f), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_twine_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fields_after_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden_before_storing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metadata_first_in_any_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recheck_at_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_delivery, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
