/* tempdir.h - temporary directories of unit tests. */
#ifndef TEST_TEMPDIR_H
#define TEST_TEMPDIR_H

/* Remove dir and everything below it (without following links). */
void tempdir_remove(const char *dir);

#endif
