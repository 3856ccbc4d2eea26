/*
 * index_wheel.h - the core metadata of a wheel: its
 * {name}-{version}.dist-info/METADATA, read with libzip from the central
 * directory, as pip reads it (Python's zipfile), and checked.
 *
 * A wheel is refused (false with a one-line reason that twine can print)
 * when:
 *   - it is not a zip archive, or an inconsistent one: libzip opens it
 *     with ZIP_CHECKCONS, so every local header must agree with the central
 *     directory, no name may appear twice, and nothing may follow the end
 *     record.  Two readers of one archive then see the same files: the
 *     METADATA served (PEP 658) is the one pip installs;
 *   - opening it reads more than INDEX_WHEEL_DIRECTORY_MAX bytes (the
 *     central directory and the local headers): libzip keeps the whole
 *     directory in memory, at up to 8 bytes per byte read, so that is what
 *     bounds the memory and time one wheel can cost;
 *   - a member's name is absolute, holds a backslash, a ':' in its first
 *     component or a ".." component (it would escape the installation
 *     directory);
 *   - it does not have exactly one top-level .dist-info directory, named
 *     {name}-{version}.dist-info after the wheel's filename (name PEP 503
 *     normalised, version PEP 440 equal), with a METADATA file;
 *   - METADATA is encrypted, declares or inflates to more than
 *     INDEX_METADATA_MAX bytes, fails its CRC, or does not parse
 *     (index_metadata.h), or its Name and Version are not the filename's.
 *
 * One wheel is read at a time in the whole process (a mutex): the memory
 * bound above holds for the process, not per request.  Thread-safe.
 */
#ifndef INDEX_WHEEL_H
#define INDEX_WHEEL_H

#include <stdbool.h>

#include "index/index_filename.h"
#include "util/ga_buf.h"

/* Bytes libzip may read while opening a wheel (about 80,000 members). */
#define INDEX_WHEEL_DIRECTORY_MAX (16 * 1024 * 1024)

enum index_wheel_result {
	INDEX_WHEEL_OK = 0,
	INDEX_WHEEL_INVALID,	/* the wheel's fault: reason says why */
	INDEX_WHEEL_ERROR,	/* ours (I/O, memory): reason says so */
};

/*
 * Read and check the METADATA of the wheel open at fd (read with pread;
 * the descriptor stays the caller's) named filename (a safe wheel
 * filename).  On INDEX_WHEEL_OK, metadata (an initialised ga_buf) holds
 * its bytes; otherwise reason says why, and metadata is empty.
 */
enum index_wheel_result index_wheel_metadata(int fd, const char *filename, struct ga_buf *metadata,
					     char reason[INDEX_REASON_MAX]);

#endif
