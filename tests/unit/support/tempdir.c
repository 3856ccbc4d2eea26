/* tempdir.c - temporary directories of unit tests; see tempdir.h. */
#include "tempdir.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tempdir_remove(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
