/*
 * ga_xalloc.h - the only allocator front end of ghaccess.
 *
 * These functions never return NULL: running out of memory is not a state
 * an access-control daemon can reason about, so they log and abort.  Sizes
 * are checked for multiplication overflow.  Raw malloc/free are not used
 * elsewhere in src/ (scripts/check-style.sh enforces it).
 */
#ifndef GA_XALLOC_H
#define GA_XALLOC_H

#include <stddef.h>

void *ga_malloc(size_t size);
void *ga_calloc(size_t count, size_t size);
void *ga_realloc(void *ptr, size_t size);
/* Resize an array of count elements of size bytes, checking overflow. */
void *ga_reallocarray(void *ptr, size_t count, size_t size);
/* size bytes aligned to alignment (a power of two, a multiple of
 * sizeof(void *)), for types that declare a larger alignment than malloc
 * gives; freed with ga_free. */
void *ga_aligned_alloc(size_t alignment, size_t size);
char *ga_strdup(const char *s);
/* Copy len bytes of s and add a terminating NUL. */
char *ga_strndup(const char *s, size_t len);
/* printf into a new string. */
char *ga_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ga_free(void *ptr);

/*
 * Give the memory freed so far back to the system.  glibc keeps freed
 * memory in its arenas for reuse, so after a large structure is replaced
 * (a snapshot) the resident set stays at its peak until the next one
 * reuses it; this returns the free pages (malloc_trim).  It walks the
 * heap: a few milliseconds at most, for a thread that can wait.
 */
void ga_trim(void);

#endif
