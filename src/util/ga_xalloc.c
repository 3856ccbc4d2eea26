/* ga_xalloc.c - allocation that aborts on failure; see ga_xalloc.h. */
#include "util/ga_xalloc.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
out_of_memory(size_t size)
{
	fprintf(stderr, "level=fatal msg=\"out of memory\" bytes=%zu\n", size);
	abort();
}

void *
ga_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
ga_calloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(count * size);
	return p;
}

void *
ga_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
ga_reallocarray(void *ptr, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		out_of_memory(SIZE_MAX);
	return ga_realloc(ptr, count * size);
}

void *
ga_aligned_alloc(size_t alignment, size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, alignment, size ? size : 1) != 0)
		out_of_memory(size);
	return p;
}

char *
ga_strdup(const char *s)
{
	return ga_strndup(s, strlen(s));
}

char *
ga_strndup(const char *s, size_t len)
{
	char *p = ga_malloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
ga_asprintf(const char *fmt, ...)
{
	va_list ap;
	int len;
	char *p;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		out_of_memory(0);
	p = ga_malloc((size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
ga_free(void *ptr)
{
	free(ptr);
}

void
ga_trim(void)
{
	malloc_trim(0);
}
