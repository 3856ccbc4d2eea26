/*
 * http_json.h - small JSON writers for the answers of the front ends.
 *
 * The hot answers are built by hand rather than through jansson: they are
 * a handful of strings, and building them must not cost more than sending
 * them.  Strings are escaped as RFC 8259 requires (quote, backslash and
 * control characters); other bytes pass through, so the caller must hand in
 * UTF-8 (GitHub's names are).  Pure functions, thread-safe.
 */
#ifndef HTTP_JSON_H
#define HTTP_JSON_H

#include <stdbool.h>

#include "util/ga_buf.h"

/* Append s as a JSON string, quotes included. */
void http_json_string(struct ga_buf *buf, const char *s);

/* Append the permission list of docs/access-model.md: [], ["read"] or
 * ["read", "write"] (write without read is written as ["read", "write"]
 * never: write implies read in every caller). */
void http_json_permissions(struct ga_buf *buf, bool read, bool write);

#endif
