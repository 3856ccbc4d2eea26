/* http_query.c - strict form-urlencoded query decoding; see http_query.h. */
#include "http/http_query.h"

#include <string.h>

#include "util/ga_secret.h"
#include "util/ga_utf8.h"

/* Parameter names of ours are short; a longer name cannot be one of them. */
#define NAME_MAX_BYTES 64

bool
http_utf8_valid(const char *s, size_t len)
{
	return ga_utf8_valid(s, len);
}

static bool
decode_fail(char *out, size_t out_size, size_t *out_len)
{
	if (out_size > 0)
		out[0] = '\0';
	*out_len = 0;
	return false;
}

bool
http_query_decode(const char *in, size_t in_len, char *out, size_t out_size, size_t *out_len)
{
	size_t n = 0;

	for (size_t i = 0; i < in_len; i++) {
		int c = (unsigned char)in[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int high, low;

			if (in_len - i < 3)
				return decode_fail(out, out_size, out_len);
			high = ga_hex_value((unsigned char)in[i + 1]);
			low = ga_hex_value((unsigned char)in[i + 2]);
			if (high < 0 || low < 0)
				return decode_fail(out, out_size, out_len);
			c = high * 16 + low;
			i += 2;
		}
		if (c == 0 || n + 1 >= out_size)
			return decode_fail(out, out_size, out_len);
		out[n++] = (char)c;
	}
	if (out_size == 0 || !http_utf8_valid(out, n))
		return decode_fail(out, out_size, out_len);
	out[n] = '\0';
	*out_len = n;
	return true;
}

static void
mark_invalid(struct http_param *param)
{
	param->state = HTTP_PARAM_INVALID;
	param->value[0] = '\0';
	param->len = 0;
}

/* Handle one "name=value" pair (neither empty); false when the name does
 * not decode, which spoils the whole query. */
static bool
take_pair(const char *pair, size_t pair_len, const char *const *names,
	  struct http_param *params, size_t count)
{
	const char *equals = memchr(pair, '=', pair_len);
	size_t name_len = equals ? (size_t)(equals - pair) : pair_len;
	const char *value = equals ? equals + 1 : pair + pair_len;
	size_t value_len = pair_len - (size_t)(value - pair);
	char name[NAME_MAX_BYTES + 1];
	size_t decoded_len;

	/* A name that does not fit in NAME_MAX_BYTES once decoded cannot be
	 * ours; only a short one that fails to decode is malformed. */
	if (!http_query_decode(pair, name_len, name, sizeof(name), &decoded_len))
		return name_len > NAME_MAX_BYTES;
	for (size_t i = 0; i < count; i++) {
		struct http_param *param = &params[i];

		if (strlen(names[i]) != decoded_len || memcmp(names[i], name, decoded_len) != 0)
			continue;
		if (param->state != HTTP_PARAM_ABSENT) {
			mark_invalid(param);	/* repeated: which one is meant? */
			continue;
		}
		if (http_query_decode(value, value_len, param->value, sizeof(param->value),
				      &param->len))
			param->state = HTTP_PARAM_VALID;
		else
			mark_invalid(param);
	}
	return true;
}

void
http_query_get(const char *query, size_t len, const char *const *names,
	       struct http_param *params, size_t count)
{
	size_t start = 0;

	for (size_t i = 0; i < count; i++) {
		params[i].state = HTTP_PARAM_ABSENT;
		params[i].len = 0;
		params[i].value[0] = '\0';
	}
	if (query == NULL)
		return;
	while (start < len) {
		const char *amp = memchr(query + start, '&', len - start);
		size_t end = amp ? (size_t)(amp - query) : len;

		if (end > start && !take_pair(query + start, end - start, names, params, count)) {
			for (size_t i = 0; i < count; i++)
				mark_invalid(&params[i]);
			return;
		}
		start = end + 1;
	}
}
