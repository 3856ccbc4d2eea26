/*
 * ga_file.h - whole-file reads and crash-safe writes.
 *
 * ga_file_write_atomic writes to a temporary file in the same directory,
 * fsyncs it, renames it over the target and fsyncs the directory, so that
 * after a crash the target holds either the old or the new content, never
 * a mix, and a completed write is never lost.
 */
#ifndef GA_FILE_H
#define GA_FILE_H

#include <stddef.h>

#include "util/ga_buf.h"
#include "util/ga_err.h"

/* Read the whole file into buf (initialised by the call, at most max bytes;
 * free with ga_buf_free).  GA_EIO or GA_ELIMIT with a message. */
enum ga_rc ga_file_read(const char *path, size_t max, struct ga_buf *buf, struct ga_err *err);

/* Replace path with len bytes of data, atomically and durably (mode 0644,
 * or 0600 when private is non-zero). */
enum ga_rc ga_file_write_atomic(const char *path, const void *data, size_t len, int private_mode,
				struct ga_err *err);

/* fsync the directory that holds path (after a rename or unlink). */
enum ga_rc ga_file_sync_parent(const char *path, struct ga_err *err);

#endif
