/*
 * fuzz_query.c - the query string of every pypicloud request is outside
 * data and decides access, so the decoder is held to its contract, not
 * only to not crashing:
 *   - a VALID parameter is NUL-free, well-formed UTF-8, within the cap;
 *     ABSENT and INVALID ones are "" (a front end may print value blindly);
 *   - asking for names one at a time (as most handlers do) or together
 *     (as /verify does) gives the same answers;
 *   - a decoded value, percent-encoded again, decodes to itself;
 *   - http_utf8_valid agrees with an independent code-point decoder.
 * Input: the raw query (the part after '?').
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The names the front ends ask for, and one that never appears in them. */
static const char *const names[] = { "username", "password", "package", "group", "x" };
#define NAME_COUNT (sizeof(names) / sizeof(names[0]))

/* Reference UTF-8 check by decoding: the shortest form, no surrogates,
 * nothing past U+10FFFF (RFC 3629 section 3). */
static bool
reference_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned long cp;
		unsigned long min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

static void
check_param(const struct http_param *param)
{
	if (param->state != HTTP_PARAM_VALID) {
		if (param->len != 0 || param->value[0] != '\0')
			abort();
		return;
	}
	if (param->len > HTTP_QUERY_VALUE_MAX || strlen(param->value) != param->len ||
	    !reference_utf8_valid((const unsigned char *)param->value, param->len))
		abort();
}

static bool
same_param(const struct http_param *a, const struct http_param *b)
{
	return a->state == b->state && a->len == b->len && memcmp(a->value, b->value, a->len) == 0;
}

/* Percent-encode every byte of value, decode it again: the same bytes. */
static void
check_round_trip(const struct http_param *param)
{
	static const char hex[] = "0123456789ABCDEF";
	static char encoded[3 * HTTP_QUERY_VALUE_MAX];
	static char decoded[HTTP_QUERY_VALUE_MAX + 1];
	size_t n = 0;
	size_t decoded_len;

	for (size_t i = 0; i < param->len; i++) {
		unsigned char c = (unsigned char)param->value[i];

		encoded[n++] = '%';
		encoded[n++] = hex[c >> 4];
		encoded[n++] = hex[c & 15];
	}
	if (!http_query_decode(encoded, n, decoded, sizeof(decoded), &decoded_len) ||
	    decoded_len != param->len || memcmp(decoded, param->value, decoded_len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_param together[NAME_COUNT];
	static struct http_param alone;
	static char small[16];
	const char *query = (const char *)data;
	size_t small_len = 1;

	http_query_get(query, size, names, together, NAME_COUNT);
	for (size_t i = 0; i < NAME_COUNT; i++) {
		check_param(&together[i]);
		http_query_get(query, size, &names[i], &alone, 1);
		if (!same_param(&together[i], &alone))
			abort();
		if (together[i].state == HTTP_PARAM_VALID)
			check_round_trip(&together[i]);
	}

	/* The whole input as one component, into a buffer that is too small
	 * for most: fails cleanly or fits with its NUL. */
	if (http_query_decode(query, size, small, sizeof(small), &small_len)) {
		if (small_len >= sizeof(small) || small[small_len] != '\0' ||
		    strlen(small) != small_len)
			abort();
	} else if (small_len != 0 || small[0] != '\0') {
		abort();
	}
	if (http_utf8_valid(query, size) != reference_utf8_valid(data, size))
		abort();
	return 0;
}
