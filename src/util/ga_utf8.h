/*
 * ga_utf8.h - UTF-8 validation (RFC 3629): no overlong forms, no
 * surrogates, nothing past U+10FFFF, no truncated sequence.  NUL bytes are
 * valid UTF-8 here; callers that refuse them say so.
 *
 * Pure, thread-safe.
 */
#ifndef GA_UTF8_H
#define GA_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* true when len bytes of s are well-formed UTF-8. */
bool ga_utf8_valid(const char *s, size_t len);

#endif
