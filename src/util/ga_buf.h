/*
 * ga_buf.h - a growable byte buffer with a hard maximum size.
 *
 * Every buffer fed from the network or a file is created with a maximum, so
 * that a hostile peer cannot make the daemon allocate without bound.  The
 * content is always NUL-terminated (the NUL is not counted in len), so text
 * can be handed to C string functions once the caller knows it holds no NUL.
 */
#ifndef GA_BUF_H
#define GA_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct ga_buf {
	char *data;	/* owned; NULL until the first append */
	size_t len;	/* bytes used, excluding the terminating NUL */
	size_t cap;	/* bytes allocated */
	size_t max;	/* appends beyond this many bytes fail; 0 = no limit */
};

/* Initialise an empty buffer that may hold at most max bytes (0: unlimited). */
void ga_buf_init(struct ga_buf *buf, size_t max);

/* Append len bytes.  Returns false (and appends nothing) past the maximum. */
bool ga_buf_append(struct ga_buf *buf, const void *bytes, size_t len);
bool ga_buf_append_str(struct ga_buf *buf, const char *s);
bool ga_buf_append_char(struct ga_buf *buf, char c);
bool ga_buf_printf(struct ga_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool ga_buf_vprintf(struct ga_buf *buf, const char *fmt, va_list ap);

/* Empty the buffer, keeping its memory. */
void ga_buf_reset(struct ga_buf *buf);

/* Give the caller the data (free with ga_free) and reset the buffer. */
char *ga_buf_steal(struct ga_buf *buf);

/* Free the memory.  The buffer may be initialised again afterwards. */
void ga_buf_free(struct ga_buf *buf);

/* The content as a C string; "" for an empty buffer (never NULL). */
const char *ga_buf_cstr(const struct ga_buf *buf);

#endif
