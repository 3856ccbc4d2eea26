/*
 * fuzz_wheel.c - the zip and METADATA reader of uploads and of the
 * backfill (index_wheel_metadata), fed any bytes as the wheel
 * acme_core-1.0-py3-none-any.whl.  Contracts:
 *   - the answer is OK or INVALID (the bytes are in memory: never ERROR);
 *   - OK: the METADATA is at most INDEX_METADATA_MAX bytes, parses, names
 *     acme-core (PEP 503) at version 1.0 (PEP 440);
 *   - INVALID: a one-line reason, nothing kept.
 * Input: the file.  Seeds: fuzz/corpus/wheel/ (real wheels and crafted
 * ones, written by fuzz/wheel_seeds.py).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "index/index_metadata.h"
#include "index/index_version.h"
#include "index/index_wheel.h"
#include "org/org_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[INDEX_REASON_MAX];
	struct index_metadata metadata;
	char key[ORG_PACKAGE_NAME_MAX];
	enum index_wheel_result result;
	struct ga_buf text;
	int fd = memfd_create("wheel", MFD_CLOEXEC);

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	ga_buf_init(&text, 0);
	result = index_wheel_metadata(fd, "acme_core-1.0-py3-none-any.whl", &text, reason);
	close(fd);
	if (result == INDEX_WHEEL_OK) {
		if (text.len > INDEX_METADATA_MAX ||
		    !index_metadata_parse(text.data ? text.data : "", text.len, &metadata, reason) ||
		    !org_normalize_package(metadata.name, strlen(metadata.name), key, sizeof(key)) ||
		    strcmp(key, "acme-core") != 0 ||
		    !index_version_equal(metadata.version, strlen(metadata.version), "1.0", 3))
			abort();
		index_metadata_free(&metadata);
	} else if (result != INDEX_WHEEL_INVALID || text.len != 0 || reason[0] == '\0' ||
		   strchr(reason, '\n') != NULL) {
		abort();
	}
	ga_buf_free(&text);
	return 0;
}
