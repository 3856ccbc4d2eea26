/* ga_buf.c - bounded growable buffers; see ga_buf.h. */
#include "util/ga_buf.h"

#include <stdio.h>
#include <string.h>

#include "util/ga_xalloc.h"

void
ga_buf_init(struct ga_buf *buf, size_t max)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->max = max;
}

/* Make room for len more bytes plus the NUL; false past the maximum. */
static bool
reserve(struct ga_buf *buf, size_t len)
{
	size_t need;
	size_t cap;

	if (buf->max != 0 && (len > buf->max || buf->len > buf->max - len))
		return false;
	need = buf->len + len + 1;
	if (need <= buf->cap)
		return true;
	cap = buf->cap ? buf->cap : 64;
	while (cap < need)
		cap *= 2;
	buf->data = ga_realloc(buf->data, cap);
	buf->cap = cap;
	return true;
}

bool
ga_buf_append(struct ga_buf *buf, const void *bytes, size_t len)
{
	if (!reserve(buf, len))
		return false;
	if (len > 0)
		memcpy(buf->data + buf->len, bytes, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return true;
}

bool
ga_buf_append_str(struct ga_buf *buf, const char *s)
{
	return ga_buf_append(buf, s, strlen(s));
}

bool
ga_buf_append_char(struct ga_buf *buf, char c)
{
	return ga_buf_append(buf, &c, 1);
}

bool
ga_buf_vprintf(struct ga_buf *buf, const char *fmt, va_list ap)
{
	va_list copy;
	int len;

	va_copy(copy, ap);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0 || !reserve(buf, (size_t)len))
		return false;
	vsnprintf(buf->data + buf->len, (size_t)len + 1, fmt, ap);
	buf->len += (size_t)len;
	return true;
}

bool
ga_buf_printf(struct ga_buf *buf, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = ga_buf_vprintf(buf, fmt, ap);
	va_end(ap);
	return ok;
}

void
ga_buf_reset(struct ga_buf *buf)
{
	buf->len = 0;
	if (buf->data != NULL)
		buf->data[0] = '\0';
}

char *
ga_buf_steal(struct ga_buf *buf)
{
	char *data = buf->data;

	if (data == NULL)
		data = ga_strdup("");
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	return data;
}

void
ga_buf_free(struct ga_buf *buf)
{
	ga_free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

const char *
ga_buf_cstr(const struct ga_buf *buf)
{
	return buf->data ? buf->data : "";
}
