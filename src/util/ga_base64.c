/* ga_base64.c - base64url over OpenSSL's base64; see ga_base64.h. */
#include "util/ga_base64.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Characters translated per call: a JWT part or a token is far smaller. */
#define CHUNK 3072

/* The 6-bit value of a base64url character, or -1. */
static int
url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

void
ga_base64url_encode(const uint8_t *bytes, size_t len, char *out)
{
	size_t whole = len / 3 * 3;
	size_t o = 0;

	/* EVP_EncodeBlock writes 4 characters per 3 bytes and a NUL: whole
	 * groups go straight to out, a chunk at a time... */
	for (size_t i = 0; i < whole; i += CHUNK / 4 * 3) {
		size_t n = whole - i < CHUNK / 4 * 3 ? whole - i : CHUNK / 4 * 3;

		o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, bytes + i, (int)n);
	}
	/* ...and the last 1 or 2 bytes through a small buffer, without the
	 * padding that would not fit out. */
	if (whole < len) {
		unsigned char tail[8];

		EVP_EncodeBlock(tail, bytes + whole, (int)(len - whole));
		memcpy(out + o, tail, len - whole + 1);
		o += len - whole + 1;
	}
	for (size_t i = 0; i < o; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	out[o] = '\0';
}

bool
ga_base64url_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size,
		    size_t *out_len)
{
	char group[CHUNK + 4];
	size_t total = 0;
	size_t tail = in_len % 4;

	*out_len = 0;
	/* One character alone cannot encode a byte. */
	if (tail == 1)
		return false;
	for (size_t i = 0; i < in_len; i++)
		if (url_value((unsigned char)in[i]) < 0)
			return false;
	/* The bits that the last, partial group does not use must be zero. */
	if (tail == 2 && (url_value((unsigned char)in[in_len - 1]) & 0x0f) != 0)
		return false;
	if (tail == 3 && (url_value((unsigned char)in[in_len - 1]) & 0x03) != 0)
		return false;
	if (in_len / 4 * 3 + (tail == 0 ? 0 : tail - 1) > out_size)
		return false;
	for (size_t i = 0; i < in_len; i += CHUNK) {
		size_t n = in_len - i < CHUNK ? in_len - i : CHUNK;
		size_t padded = n;
		unsigned char block[CHUNK / 4 * 3 + 3];
		int decoded;
		size_t keep;

		for (size_t k = 0; k < n; k++)
			group[k] = in[i + k] == '-' ? '+' : in[i + k] == '_' ? '/' : in[i + k];
		while (padded % 4 != 0)
			group[padded++] = '=';
		decoded = EVP_DecodeBlock(block, (const unsigned char *)group, (int)padded);
		if (decoded < 0)
			return false;
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		keep = (size_t)decoded - (padded - n == 0 ? 0 : padded - n);
		memcpy(out + total, block, keep);
		total += keep;
		OPENSSL_cleanse(block, sizeof(block));
	}
	OPENSSL_cleanse(group, sizeof(group));
	*out_len = total;
	return true;
}
