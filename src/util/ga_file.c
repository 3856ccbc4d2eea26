/* ga_file.c - whole-file reads and atomic, durable writes; see ga_file.h. */
#include "util/ga_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/ga_xalloc.h"

enum ga_rc
ga_file_read(const char *path, size_t max, struct ga_buf *buf, struct ga_err *err)
{
	char chunk[65536];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ga_buf_init(buf, max);
	if (fd < 0)
		return ga_err_set(err, GA_EIO, "%s: %s", path, strerror(errno));
	while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int saved = errno;

			close(fd);
			ga_buf_free(buf);
			return ga_err_set(err, GA_EIO, "%s: %s", path, strerror(saved));
		}
		if (!ga_buf_append(buf, chunk, (size_t)got)) {
			close(fd);
			ga_buf_free(buf);
			return ga_err_set(err, GA_ELIMIT, "%s: larger than %zu bytes", path, max);
		}
	}
	close(fd);
	return GA_OK;
}

enum ga_rc
ga_file_sync_parent(const char *path, struct ga_err *err)
{
	char *copy = ga_strdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum ga_rc rc = GA_OK;

	if (fd < 0 || fsync(fd) != 0)
		rc = ga_err_set(err, GA_EIO, "%s: cannot sync directory: %s", path,
				strerror(errno));
	if (fd >= 0)
		close(fd);
	ga_free(copy);
	return rc;
}

static enum ga_rc
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t written = write(fd, data, len);

		if (written < 0 && errno == EINTR)
			continue;
		if (written < 0)
			return GA_EIO;
		data += written;
		len -= (size_t)written;
	}
	return GA_OK;
}

enum ga_rc
ga_file_write_atomic(const char *path, const void *data, size_t len, int private_mode,
		     struct ga_err *err)
{
	char *temporary = ga_asprintf("%s.tmp.XXXXXX", path);
	int fd = mkostemp(temporary, O_CLOEXEC);
	enum ga_rc rc;

	if (fd < 0) {
		rc = ga_err_set(err, GA_EIO, "%s: cannot create temporary file: %s", path,
				strerror(errno));
		ga_free(temporary);
		return rc;
	}
	if (fchmod(fd, private_mode ? 0600 : 0644) != 0 || write_all(fd, data, len) != GA_OK ||
	    fsync(fd) != 0) {
		rc = ga_err_set(err, GA_EIO, "%s: cannot write: %s", path, strerror(errno));
		close(fd);
		unlink(temporary);
		ga_free(temporary);
		return rc;
	}
	close(fd);
	if (rename(temporary, path) != 0) {
		rc = ga_err_set(err, GA_EIO, "%s: cannot rename into place: %s", path,
				strerror(errno));
		unlink(temporary);
		ga_free(temporary);
		return rc;
	}
	ga_free(temporary);
	return ga_file_sync_parent(path, err);
}
