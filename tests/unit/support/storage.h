/* storage.h - an index storage in a temporary directory, as a cmocka fixture. */
#ifndef TEST_STORAGE_H
#define TEST_STORAGE_H

#include "index/index_storage.h"

struct storage_fixture {
	char dir[64];
	struct index_storage *storage;	/* NULL until storage_fixture_open */
};

/* A new empty directory /tmp/ghaccess-<name>-XXXXXX; logs silenced. */
struct storage_fixture *storage_fixture_new(const char *name);

/* Open (as the owner: cleaning, importing) the fixture's storage. */
void storage_fixture_open(struct storage_fixture *fixture);

/* cmocka teardown: close, remove the directory, free. */
int storage_fixture_teardown(void **state);

#endif
