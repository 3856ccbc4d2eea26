/* storage.c - an index storage fixture; see storage.h. */
#include "storage.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempdir.h"
#include "util/ga_log.h"

struct storage_fixture *
storage_fixture_new(const char *name)
{
	struct storage_fixture *fixture = calloc(1, sizeof(*fixture));

	assert_non_null(fixture);
	ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	snprintf(fixture->dir, sizeof(fixture->dir), "/tmp/ghaccess-%s-XXXXXX", name);
	assert_non_null(mkdtemp(fixture->dir));
	return fixture;
}

void
storage_fixture_open(struct storage_fixture *fixture)
{
	struct ga_err err;

	index_storage_close(fixture->storage);
	assert_int_equal(index_storage_open(fixture->dir, INDEX_STORAGE_OWNER, &fixture->storage,
					    &err),
			 GA_OK);
}

int
storage_fixture_teardown(void **state)
{
	struct storage_fixture *fixture = *state;

	index_storage_close(fixture->storage);
	tempdir_remove(fixture->dir);
	free(fixture);
	return 0;
}
