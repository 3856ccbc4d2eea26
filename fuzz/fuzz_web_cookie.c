/*
 * fuzz_web_cookie.c - the Cookie header of every web page request is
 * outside data.  Beyond not crashing:
 *   - a session or sign-in cookie that verifies must be one this program
 *     signed: formatting what was parsed gives back exactly the value (one
 *     spelling per session, so nobody can vary a signed cookie);
 *   - without the key nothing verifies (the fuzzer cannot find a MAC).
 * Input: the Cookie header (bytes after a NUL are cut, as MHD hands over
 * a C string).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_web.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1800000000LL

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct web_keys keys;
	static bool ready;
	char *header = ga_malloc(size + 1);
	char value[WEB_COOKIE_MAX], again[WEB_COOKIE_MAX], nonce[WEB_B64_16 + 1];
	long long uid, iat, exp;

	if (!ready) {
		web_keys_derive("fuzz-session-key-0123456789abcdef0123", &keys);
		ready = true;
	}
	memcpy(header, data, size);
	header[size] = '\0';
	if (web_cookie_get(header, "ghaccess_session", value, sizeof(value))) {
		if (strlen(value) >= sizeof(value))
			abort();
		if (web_session_parse(&keys, "acme", value, NOW, 28800, &uid, &iat, &exp)) {
			web_session_format(&keys, "acme", uid, iat, exp, again);
			if (strcmp(again, value) != 0)
				abort();
		}
	}
	if (web_cookie_get(header, "ghaccess_signin", value, sizeof(value)) &&
	    web_flow_parse(&keys, value, NOW, nonce) && strlen(nonce) != WEB_B64_16)
		abort();
	ga_free(header);
	return 0;
}
