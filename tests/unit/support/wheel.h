/* wheel.h - zip archives and wheels built in memory for unit tests (libzip). */
#ifndef TEST_WHEEL_H
#define TEST_WHEEL_H

#include <stddef.h>

struct test_member {
	const char *name;
	const char *data;
	size_t len;		/* 0: strlen(data) */
};

/* A zip of members (deflated); malloc'd bytes, *len their size. */
char *test_zip(const struct test_member *members, size_t count, size_t *len);

/*
 * A wheel {escaped}-{version}-py3-none-any.whl of name at version: a
 * {escaped}-{version}.dist-info/ with METADATA (metadata, or when NULL
 * "Metadata-Version: 2.1\nName: <name>\nVersion: <version>\n..."), WHEEL
 * and RECORD, and a module.  malloc'd, *len its size.
 */
char *test_wheel(const char *name, const char *version, const char *metadata, size_t *len);

/* The default METADATA of test_wheel (malloc'd). */
char *test_wheel_metadata(const char *name, const char *version);

#endif
