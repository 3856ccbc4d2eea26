/*
 * http_basic.h - the Authorization: Basic header (RFC 7617), parsed strictly.
 *
 * The header must read "Basic" (any case), one or more spaces, and canonical
 * base64 (RFC 4648 alphabet, '=' padding to a multiple of four characters,
 * zero bits where padding cuts a group).  The decoded text must hold a ':'
 * and no NUL byte; the user name is what precedes the first ':' (a
 * password may contain ':').  Anything else is not credentials.
 *
 * Pure functions: no allocation, thread-safe.  The parsed password is a
 * secret: callers compare it with ga_secret_equal and never log it.
 */
#ifndef HTTP_BASIC_H
#define HTTP_BASIC_H

#include <stdbool.h>
#include <stddef.h>

/* Largest accepted "user:password" once decoded. */
#define HTTP_BASIC_DECODED_MAX 1024

struct http_basic_credentials {
	char user[HTTP_BASIC_DECODED_MAX + 1];
	size_t user_len;
	char password[HTTP_BASIC_DECODED_MAX + 1];
	size_t password_len;
};

/*
 * Parse an Authorization header value (NUL-terminated; NULL means absent)
 * into out.  Returns false, with out zeroed, when it is not well-formed
 * Basic credentials.
 */
bool http_basic_parse(const char *header, struct http_basic_credentials *out);

/*
 * Decode canonical, padded base64 (in_len bytes) into out (out_size bytes;
 * no NUL is added).  Returns false for a length that is not a multiple of
 * 4, a character outside the alphabet, misplaced padding, non-zero bits
 * under the padding, or output that does not fit.
 */
bool http_base64_decode_strict(const char *in, size_t in_len, unsigned char *out,
			       size_t out_size, size_t *out_len);

#endif
