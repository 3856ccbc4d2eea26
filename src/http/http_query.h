/*
 * http_query.h - strict decoding of query strings.
 *
 * pypicloud sends its parameters as application/x-www-form-urlencoded UTF-8
 * (a space as '+' or "%20").  Everything a parameter says decides access, so
 * decoding refuses rather than guesses: a parameter whose value holds an
 * invalid escape, invalid UTF-8 (overlong forms, surrogates, code points
 * past U+10FFFF, truncated sequences), a NUL byte, or more than
 * HTTP_QUERY_VALUE_MAX bytes once decoded, or that appears more than once,
 * is HTTP_PARAM_INVALID, and every front end answers an invalid parameter
 * with its safe "no".  A query in which any parameter *name* fails to
 * decode is treated as tampered with: every requested parameter is then
 * invalid.
 *
 * Pure functions: no allocation, thread-safe.
 */
#ifndef HTTP_QUERY_H
#define HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>

/* Longest decoded parameter value accepted (4 KiB). */
#define HTTP_QUERY_VALUE_MAX 4096

enum http_param_state {
	HTTP_PARAM_ABSENT = 0,	/* not in the query */
	HTTP_PARAM_VALID,	/* present once, decoded into value */
	HTTP_PARAM_INVALID,	/* present but unusable: answer "no" */
};

struct http_param {
	enum http_param_state state;
	size_t len;				/* bytes in value, without the NUL */
	char value[HTTP_QUERY_VALUE_MAX + 1];	/* NUL-terminated; "" unless VALID */
};

/*
 * Find the parameters names[0 .. count-1] in query (len bytes, the part
 * after '?', need not be NUL-terminated; NULL means no query) and decode
 * them into params[0 .. count-1].  A name given without '=' has an empty
 * value.  Empty pairs ("a=1&&b=2") are skipped.
 */
void http_query_get(const char *query, size_t len, const char *const *names,
		    struct http_param *params, size_t count);

/*
 * Decode one form-urlencoded component (in, in_len bytes) into out
 * (out_size bytes including the NUL).  Returns false when the component
 * holds a bad escape, a NUL, invalid UTF-8, or does not fit; out is then
 * "" and *out_len 0.
 */
bool http_query_decode(const char *in, size_t in_len, char *out, size_t out_size,
		       size_t *out_len);

/* true when len bytes of s are well-formed UTF-8 (RFC 3629). */
bool http_utf8_valid(const char *s, size_t len);

#endif
