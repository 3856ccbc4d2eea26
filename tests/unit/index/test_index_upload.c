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
#include "../support/wheel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index_hash.h"
#include "index/index_manage.h"
#include "index/index_upload.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"

static const char wheel_name[] = "acme_core-1.0.0-py3-none-any.whl";
/* A real wheel of acme-core 1.0.0 (built once, in main). */
static char *wheel_bytes;
static size_t wheel_len;

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
	assert_int_equal(index_storage_open(f->dir, INDEX_STORAGE_OWNER, &f->storage, &err), GA_OK);
	f->settings = (struct index_upload_settings){
		.storage = f->storage,
		.max_size = 64 * 1024,
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

static void
digests_of(const char *data, size_t len, struct index_digests *out)
{
	struct index_hash *hash = index_hash_new();

	assert_non_null(hash);
	index_hash_update(hash, data, len);
	index_hash_digests(hash, out);
	index_hash_free(hash);
}

/* The usual metadata fields, as twine sends them (before the file). */
static void
metadata(struct index_upload *upload, const char *name, const char *version,
	 const char *filetype)
{
	struct index_digests digests;
	char sha[65];

	digests_of(wheel_bytes, wheel_len, &digests);
	sha256_hex(wheel_bytes, wheel_len, sha);
	assert_true(field(upload, ":action", "file_upload"));
	assert_true(field(upload, "protocol_version", "1"));
	assert_true(field(upload, "metadata_version", "2.1"));
	assert_true(field(upload, "name", name));
	assert_true(field(upload, "version", version));
	assert_true(field(upload, "filetype", filetype));
	assert_true(field(upload, "pyversion", "py3"));
	assert_true(field(upload, "classifiers", "A :: B"));
	assert_true(field(upload, "classifiers", "C :: D"));
	assert_true(field(upload, "md5_digest", digests.md5));
	assert_true(field(upload, "sha256_digest", sha));
	assert_true(field(upload, "blake2_256_digest", digests.blake2b_256));
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
	assert_true(file_part(upload, wheel_name, wheel_bytes, wheel_len, 7));
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
	assert_int_equal(list.files[0].size, wheel_len);
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
			       wheel_len, 8));
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
		assert_true(file_part(upload, wheel_name, wheel_bytes, wheel_len, 9));
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

/* ---- crafted wheels (attacks on the zip and METADATA reader) ---------- */

#define DIST_INFO "acme_core-1.0.0.dist-info/"

static char *
corrupt_zip(size_t *len)
{
	char *bytes = malloc(200);

	memset(bytes, 'z', 200);
	memcpy(bytes, "PK\3\4", 4);
	*len = 200;
	return bytes;
}

static char *
zip_of(size_t *len, const char *a, const char *a_data, const char *b, const char *b_data)
{
	struct test_member members[2] = { { a, a_data, 0 }, { b, b_data, 0 } };

	return test_zip(members, b ? 2 : 1, len);
}

static char *
no_metadata(size_t *len)
{
	return zip_of(len, DIST_INFO "WHEEL", "Wheel-Version: 1.0\n", "acme_core/__init__.py", "");
}

static char *
no_dist_info(size_t *len)
{
	return zip_of(len, "acme_core/__init__.py", "", NULL, NULL);
}

static char *
two_dist_infos(size_t *len)
{
	char *metadata = test_wheel_metadata("acme-core", "1.0.0");
	char *bytes = zip_of(len, DIST_INFO "METADATA", metadata, "other-1.0.dist-info/METADATA",
			     metadata);

	free(metadata);
	return bytes;
}

static char *
misnamed_dist_info(size_t *len)
{
	char *metadata = test_wheel_metadata("acme-core", "1.0.0");
	char *bytes = zip_of(len, "acme_core-2.0.dist-info/METADATA", metadata, NULL, NULL);

	free(metadata);
	return bytes;
}

static char *
names_another_project(size_t *len)
{
	char *metadata = test_wheel_metadata("acme-tools", "1.0.0");
	char *bytes = test_wheel("acme-core", "1.0.0", metadata, len);

	free(metadata);
	return bytes;
}

static char *
names_another_version(size_t *len)
{
	char *metadata = test_wheel_metadata("acme-core", "2.0");
	char *bytes = test_wheel("acme-core", "1.0.0", metadata, len);

	free(metadata);
	return bytes;
}

static char *
no_version_field(size_t *len)
{
	return test_wheel("acme-core", "1.0.0", "Metadata-Version: 2.1\nName: acme-core\n", len);
}

static char *
not_utf8(size_t *len)
{
	return test_wheel("acme-core", "1.0.0",
			  "Metadata-Version: 2.1\nName: acme-core\nVersion: 1.0.0\nSummary: \xff\n",
			  len);
}

/* 5 MiB of METADATA, a few KiB once deflated. */
static char *
huge_metadata(size_t *len)
{
	size_t size = 5 * 1024 * 1024;
	char *text = malloc(size + 1);
	char *bytes;
	int head = snprintf(text, size, "Metadata-Version: 2.1\nName: acme-core\nVersion: 1.0.0\n\n");

	memset(text + head, 'A', size - (size_t)head);
	text[size] = '\0';
	bytes = test_wheel("acme-core", "1.0.0", text, len);
	free(text);
	return bytes;
}

static char *
member_outside(const char *name, size_t *len)
{
	char *metadata = test_wheel_metadata("acme-core", "1.0.0");
	char *bytes = zip_of(len, DIST_INFO "METADATA", metadata, name, "root::0:0\n");

	free(metadata);
	return bytes;
}

static char *
dot_dot_member(size_t *len)
{
	return member_outside("acme_core/../../../etc/passwd", len);
}

static char *
absolute_member(size_t *len)
{
	return member_outside("/etc/passwd", len);
}

static char *
backslash_member(size_t *len)
{
	return member_outside("..\\..\\evil.py", len);
}

static char *
drive_member(size_t *len)
{
	return member_outside("C:evil.py", len);
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
	const char *md5;	/* NULL: the right digest; "": none */
	const char *blake2;	/* NULL: the right digest; "": none */
	char *(*build)(size_t *len);	/* the file, when not the good wheel */
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
	{ "md5 mismatch", .md5 = "00000000000000000000000000000000",
	  .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "md5_digest does not match the uploaded file" },
	{ "md5 malformed", .md5 = "xyz", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "md5_digest is not 32 hexadecimal digits" },
	{ "blake2 mismatch",
	  .blake2 = "1111111111111111111111111111111111111111111111111111111111111111",
	  .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "blake2_256_digest does not match the uploaded file" },
	{ "legacy sdist name", .filename = "acme-core-1.0.0.tar.gz", .filetype = "sdist",
	  .content = "\x1f\x8b legacy", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "accepts acme_core-1.0.0.tar.gz" },
	{ "zip sdist", .filename = "acme_core-1.0.0.zip", .filetype = "sdist",
	  .content = "PK\3\4 sdist", .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = ".tar.gz only" },
	{ "malformed tags", .filename = "acme_core-1.0.0-py3..py2-none-any.whl",
	  .status = INDEX_UPLOAD_BAD_REQUEST, .reason_part = "invalid wheel filename" },
	{ "corrupt zip", .build = corrupt_zip, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "not a valid zip archive" },
	{ "no METADATA", .build = no_metadata, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "no " DIST_INFO "METADATA" },
	{ "no .dist-info", .build = no_dist_info, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "no .dist-info directory" },
	{ "two .dist-info", .build = two_dist_infos, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "more than one .dist-info directory" },
	{ "misnamed .dist-info", .build = misnamed_dist_info, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = ".dist-info directory is not named after acme-core 1.0.0" },
	{ "METADATA of another project", .build = names_another_project,
	  .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "METADATA names the project acme-tools, not acme-core" },
	{ "METADATA of another version", .build = names_another_version,
	  .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "METADATA says version 2.0, not 1.0.0" },
	{ "METADATA without Version", .build = no_version_field,
	  .status = INDEX_UPLOAD_BAD_REQUEST, .reason_part = "METADATA has no Version field" },
	{ "METADATA not UTF-8", .build = not_utf8, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "METADATA is not UTF-8 text" },
	{ "huge METADATA", .build = huge_metadata, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "METADATA is larger than 4194304 bytes" },
	{ "member with ..", .build = dot_dot_member, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "would be installed outside" },
	{ "absolute member", .build = absolute_member, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "would be installed outside" },
	{ "backslash member", .build = backslash_member, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "would be installed outside" },
	{ "drive member", .build = drive_member, .status = INDEX_UPLOAD_BAD_REQUEST,
	  .reason_part = "would be installed outside" },
};

static void
run_refusal(struct fixture *f, const struct refusal_case *c)
{
	struct index_upload *upload = index_upload_new(&f->settings);
	const char *content = c->content ? c->content : wheel_bytes;
	const char *filename = c->filename ? c->filename : wheel_name;
	size_t len = c->content ? strlen(c->content) : wheel_len;
	struct index_digests digests;
	static char big[80 * 1024];
	char *built = NULL;
	char sha[65];

	if (c->status == INDEX_UPLOAD_TOO_LARGE) {
		memset(big, 'x', sizeof(big));
		memcpy(big, "PK\3\4", 4);
		content = big;
		len = sizeof(big);
	}
	if (c->build != NULL)
		content = built = c->build(&len);
	sha256_hex(content, len, sha);
	digests_of(content, len, &digests);
	if (c->md5 == NULL || c->md5[0] != '\0')
		field(upload, "md5_digest", c->md5 ? c->md5 : digests.md5);
	if (c->blake2 == NULL || c->blake2[0] != '\0')
		field(upload, "blake2_256_digest", c->blake2 ? c->blake2 : digests.blake2b_256);
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
	free(built);
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
	if (sha_field != NULL) {
		struct index_digests digests;

		digests_of(wheel_bytes, wheel_len, &digests);
		field(upload, sha_field, digests.md5);
	}
	file_part(upload, wheel_name, wheel_bytes, wheel_len, 64);
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

/* The wheel's METADATA is stored beside it and announced in its record. */
static void
test_metadata_stored(void **state)
{
	struct fixture *f = *state;
	struct index_upload *upload = index_upload_new(&f->settings);
	char *expected = test_wheel_metadata("acme-core", "1.0.0");
	struct index_download download;
	struct index_file_list list;
	struct ga_err err;
	char sha[65];
	char read_back[512];
	ssize_t got;

	field(upload, ":action", "file_upload");
	field(upload, "name", "acme-core");
	field(upload, "version", "1.0.0");
	field(upload, "filetype", "bdist_wheel");
	/* No requires_python in the form: the METADATA's is stored. */
	assert_true(file_part(upload, wheel_name, wheel_bytes, wheel_len, 100));
	assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_OK);
	index_upload_free(upload);
	assert_int_equal(index_storage_list_files(f->storage, "acme-core", &list, &err), GA_OK);
	sha256_hex(expected, strlen(expected), sha);
	assert_string_equal(list.files[0].metadata_sha256, sha);
	assert_int_equal(list.files[0].metadata_size, strlen(expected));
	assert_string_equal(list.files[0].requires_python, ">=3.9");
	assert_int_equal(strlen(list.files[0].md5), 32);
	assert_int_equal(strlen(list.files[0].blake2b_256), 64);
	index_file_list_free(&list);
	assert_int_equal(index_storage_open_metadata(f->storage, "acme-core", wheel_name,
						     &download, &err),
			 GA_OK);
	got = read(download.fd, read_back, sizeof(read_back));
	close(download.fd);
	assert_int_equal(got, strlen(expected));
	assert_memory_equal(read_back, expected, strlen(expected));
	assert_string_equal(download.sha256, sha);
	free(expected);
}

/* A deleted filename is refused for good (400, not 409: twine
 * --skip-existing must not take it for a stored file), even with
 * allow_overwrite. */
static void
test_deleted_name_never_reused(void **state)
{
	struct fixture *f = *state;
	struct index_manage_request delete = {
		.action = INDEX_MANAGE_DELETE, .project = "acme-core", .target = "1.0.0",
		.reason = "leaked a secret", .actor = "bob",
	};
	struct index_manage_result result;
	struct index_upload *upload;
	struct ga_err err;

	assert_int_equal(upload_wheel(f, NULL), INDEX_UPLOAD_OK);
	assert_int_equal(index_manage_apply(f->storage, &delete, &result, &err), GA_OK);
	assert_int_equal(result.count, 1);
	index_manage_result_free(&result);
	assert_int_equal(stored_files(f, "acme-core"), 0);
	for (int overwrite = 0; overwrite < 2; overwrite++) {
		f->settings.allow_overwrite = overwrite;
		upload = index_upload_new(&f->settings);
		metadata(upload, "acme-core", "1.0.0", "bdist_wheel");
		assert_true(file_part(upload, wheel_name, wheel_bytes, wheel_len, 100));
		assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_BAD_REQUEST);
		assert_non_null(strstr(index_upload_reason(upload),
				       "This filename has already been used"));
		index_upload_free(upload);
		assert_int_equal(stored_files(f, "acme-core"), 0);
	}
}

/* allow_legacy_sdist: the names older tools write are accepted. */
static void
test_legacy_sdist_allowed(void **state)
{
	struct fixture *f = *state;
	struct index_upload *upload;

	f->settings.allow_legacy_sdist = true;
	upload = index_upload_new(&f->settings);
	field(upload, ":action", "file_upload");
	field(upload, "name", "acme-core");
	field(upload, "version", "1.0.0");
	field(upload, "filetype", "sdist");
	assert_true(file_part(upload, "Acme-Core-1.0.0.zip", "PK\3\4 old sdist", 15, 5));
	assert_int_equal(index_upload_finish(upload), INDEX_UPLOAD_OK);
	index_upload_free(upload);
	assert_int_equal(stored_files(f, "acme-core"), 1);
}

int
main(void)
{
	wheel_bytes = test_wheel("acme-core", "1.0.0", NULL, &wheel_len);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_twine_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fields_after_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden_before_storing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metadata_first_in_any_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recheck_at_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metadata_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_name_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_sdist_allowed, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	free(wheel_bytes);
	return failed;
}
