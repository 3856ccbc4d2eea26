/* wheel.c - zip archives and wheels for unit tests; see wheel.h. */
#include "wheel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

static void
die(const char *what)
{
	fprintf(stderr, "test_zip: %s\n", what);
	abort();
}

char *
test_zip(const struct test_member *members, size_t count, size_t *len)
{
	char path[] = "/tmp/ghaccess-zip-XXXXXX";
	int fd = mkstemp(path);
	struct stat st;
	zip_t *archive;
	char *bytes;
	int error;
	FILE *file;

	if (fd < 0)
		die("mkstemp");
	close(fd);
	archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &error);
	if (archive == NULL)
		die("zip_open");
	for (size_t i = 0; i < count; i++) {
		size_t size = members[i].len ? members[i].len : strlen(members[i].data);
		zip_source_t *source = zip_source_buffer(archive, members[i].data, size, 0);

		if (source == NULL ||
		    zip_file_add(archive, members[i].name, source, ZIP_FL_ENC_RAW) < 0)
			die(zip_strerror(archive));
	}
	if (zip_close(archive) != 0)
		die("zip_close");
	if (stat(path, &st) != 0 || (file = fopen(path, "rb")) == NULL)
		die("read back");
	bytes = malloc((size_t)st.st_size + 1);
	if (bytes == NULL || fread(bytes, 1, (size_t)st.st_size, file) != (size_t)st.st_size)
		die("fread");
	fclose(file);
	unlink(path);
	*len = (size_t)st.st_size;
	return bytes;
}

/* The filename form of a name: lower case, '_' for '-' and '.'. */
static void
escaped(const char *name, char *out, size_t size)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < size; i++)
		out[i] = name[i] == '-' || name[i] == '.' ? '_'
			 : (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
	out[i] = '\0';
}

char *
test_wheel_metadata(const char *name, const char *version)
{
	char *text = malloc(512);

	if (text == NULL)
		die("malloc");
	snprintf(text, 512,
		 "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: a test package\n"
		 "Requires-Python: >=3.9\nRequires-Dist: acme-tools>=1\n\nThe description.\n",
		 name, version);
	return text;
}

char *
test_wheel(const char *name, const char *version, const char *metadata, size_t *len)
{
	char module[128], dist_info[256], metadata_path[300], wheel_path[300], record_path[300],
		init_path[200];
	char *own = metadata ? NULL : test_wheel_metadata(name, version);
	struct test_member members[4];
	char *bytes;

	escaped(name, module, sizeof(module));
	snprintf(dist_info, sizeof(dist_info), "%s-%s.dist-info", module, version);
	snprintf(metadata_path, sizeof(metadata_path), "%s/METADATA", dist_info);
	snprintf(wheel_path, sizeof(wheel_path), "%s/WHEEL", dist_info);
	snprintf(record_path, sizeof(record_path), "%s/RECORD", dist_info);
	snprintf(init_path, sizeof(init_path), "%s/__init__.py", module);
	members[0] = (struct test_member){ init_path, "VERSION = 1\n", 0 };
	members[1] = (struct test_member){ metadata_path, metadata ? metadata : own, 0 };
	members[2] = (struct test_member){
		wheel_path, "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n", 0 };
	members[3] = (struct test_member){ record_path, "", 0 };
	members[3].data = "x";	/* not checked by the index */
	bytes = test_zip(members, 4, len);
	free(own);
	return bytes;
}
