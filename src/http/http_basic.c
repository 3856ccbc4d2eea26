/* http_basic.c - strict Authorization: Basic parsing; see http_basic.h. */
#include "http/http_basic.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* The 6-bit value of a base64 character, or -1 outside the alphabet. */
static int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Check what EVP_DecodeBlock does not: the alphabet, where '=' may stand,
 * and that the bits the padding discards are zero (one spelling per value). */
static bool
base64_is_canonical(const char *in, size_t in_len, size_t *padding)
{
	size_t pad = 0;

	if (in_len == 0 || in_len % 4 != 0)
		return false;
	if (in[in_len - 1] == '=')
		pad = in[in_len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < in_len - pad; i++)
		if (base64_value((unsigned char)in[i]) < 0)
			return false;
	if (pad == 2 && (base64_value((unsigned char)in[in_len - 3]) & 0x0f) != 0)
		return false;
	if (pad == 1 && (base64_value((unsigned char)in[in_len - 2]) & 0x03) != 0)
		return false;
	*padding = pad;
	return true;
}

bool
http_base64_decode_strict(const char *in, size_t in_len, unsigned char *out, size_t out_size,
			  size_t *out_len)
{
	unsigned char block[3 * (HTTP_BASIC_DECODED_MAX / 3 + 2)];
	size_t padding = 0;
	int decoded;

	*out_len = 0;
	if (!base64_is_canonical(in, in_len, &padding) || in_len / 4 * 3 > sizeof(block))
		return false;
	decoded = EVP_DecodeBlock(block, (const unsigned char *)in, (int)in_len);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (decoded < 0 || (size_t)decoded != in_len / 4 * 3 ||
	    (size_t)decoded - padding > out_size) {
		OPENSSL_cleanse(block, sizeof(block));
		return false;
	}
	*out_len = (size_t)decoded - padding;
	memcpy(out, block, *out_len);
	OPENSSL_cleanse(block, sizeof(block));
	return true;
}

static bool
parse_fail(struct http_basic_credentials *out)
{
	OPENSSL_cleanse(out, sizeof(*out));
	return false;
}

bool
http_basic_parse(const char *header, struct http_basic_credentials *out)
{
	unsigned char decoded[HTTP_BASIC_DECODED_MAX];
	size_t decoded_len = 0;
	const char *encoded;
	const unsigned char *colon;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (header == NULL || strncasecmp(header, "Basic ", 6) != 0)
		return false;
	encoded = header + 6;
	while (*encoded == ' ')
		encoded++;
	ok = http_base64_decode_strict(encoded, strlen(encoded), decoded, sizeof(decoded),
				       &decoded_len);
	colon = ok ? memchr(decoded, ':', decoded_len) : NULL;
	if (colon == NULL || memchr(decoded, '\0', decoded_len) != NULL) {
		OPENSSL_cleanse(decoded, sizeof(decoded));
		return parse_fail(out);
	}
	out->user_len = (size_t)(colon - decoded);
	memcpy(out->user, decoded, out->user_len);
	out->user[out->user_len] = '\0';
	out->password_len = decoded_len - out->user_len - 1;
	memcpy(out->password, colon + 1, out->password_len);
	out->password[out->password_len] = '\0';
	OPENSSL_cleanse(decoded, sizeof(decoded));
	return true;
}
