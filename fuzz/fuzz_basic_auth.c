/*
 * fuzz_basic_auth.c - the Authorization header of every request that logs
 * in is outside data.  Beyond not crashing, the parser is held to its
 * contract:
 *   - base64 is canonical: whatever decodes, encoded again, gives back
 *     exactly the input (one spelling per credential, so no two headers
 *     that differ can mean the same user);
 *   - parsed credentials split at the first ':' and hold no NUL; a
 *     refused header leaves the output zeroed;
 *   - "Basic " + base64("user:password") of what was parsed parses to the
 *     same credentials.
 * Input: the header value (bytes after a NUL are cut, as MHD hands over a
 * C string); the base64 decoder also gets the raw bytes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "http/http_basic.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* Whatever decodes must be the one canonical encoding of its bytes. */
static void
check_base64(const uint8_t *data, size_t size)
{
	static unsigned char decoded[HTTP_BASIC_DECODED_MAX];
	static unsigned char encoded[4 * (HTTP_BASIC_DECODED_MAX / 3 + 2) + 1];
	size_t decoded_len = 0;
	int encoded_len;

	if (!http_base64_decode_strict((const char *)data, size, decoded, sizeof(decoded),
				       &decoded_len)) {
		if (decoded_len != 0)
			abort();
		return;
	}
	encoded_len = EVP_EncodeBlock(encoded, decoded, (int)decoded_len);
	if ((size_t)encoded_len != size || memcmp(encoded, data, size) != 0)
		abort();
}

static void
check_credentials(const struct http_basic_credentials *credentials)
{
	static unsigned char plain[2 * HTTP_BASIC_DECODED_MAX + 1];
	static char header[6 + 4 * (2 * HTTP_BASIC_DECODED_MAX / 3 + 2) + 1];
	static struct http_basic_credentials again;
	size_t n = 0;

	if (credentials->user_len > HTTP_BASIC_DECODED_MAX ||
	    credentials->password_len > HTTP_BASIC_DECODED_MAX ||
	    strlen(credentials->user) != credentials->user_len ||
	    strlen(credentials->password) != credentials->password_len ||
	    memchr(credentials->user, ':', credentials->user_len) != NULL)
		abort();
	memcpy(plain, credentials->user, credentials->user_len);
	n = credentials->user_len;
	plain[n++] = ':';
	memcpy(plain + n, credentials->password, credentials->password_len);
	n += credentials->password_len;
	memcpy(header, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)header + 6, plain, (int)n);
	if (!http_basic_parse(header, &again) || again.user_len != credentials->user_len ||
	    again.password_len != credentials->password_len ||
	    strcmp(again.user, credentials->user) != 0 ||
	    strcmp(again.password, credentials->password) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_basic_credentials credentials;
	char *header = ga_malloc(size + 1);

	memcpy(header, data, size);
	header[size] = '\0';
	if (http_basic_parse(header, &credentials))
		check_credentials(&credentials);
	else if (!all_zero(&credentials, sizeof(credentials)))
		abort();
	ga_free(header);
	check_base64(data, size);
	return 0;
}
