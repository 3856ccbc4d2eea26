/* ga_secret.c - constant-time compare, HMAC and secret files; see ga_secret.h. */
#include "util/ga_secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "util/ga_xalloc.h"

#define SECRET_FILE_MAX 4096

bool
ga_secret_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
	/* CRYPTO_memcmp only runs in constant time for equal lengths; a
	 * length difference is not secret in any use of ghaccess. */
	if (a_len != b_len)
		return false;
	if (a_len == 0)
		return true;
	return CRYPTO_memcmp(a, b, a_len) == 0;
}

void
ga_hmac_sha256(const void *key, size_t key_len, const void *data, size_t data_len,
	       uint8_t out[GA_HMAC_SIZE])
{
	unsigned int out_len = GA_HMAC_SIZE;

	HMAC(EVP_sha256(), key, (int)key_len, data, data_len, out, &out_len);
}

void
ga_hmac_fields(const void *key, size_t key_len, const char *const *fields,
	       const size_t *lengths, size_t count, uint8_t out[GA_HMAC_SIZE])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t out_len = 0;

	if (ctx == NULL) {
		fprintf(stderr, "level=fatal msg=\"OpenSSL HMAC unavailable\"\n");
		abort();
	}
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	EVP_MAC_init(ctx, key, key_len, params);
	for (size_t i = 0; i < count; i++) {
		uint8_t prefix[8];
		uint64_t len = lengths[i];

		for (int b = 7; b >= 0; b--) {
			prefix[b] = (uint8_t)(len & 0xff);
			len >>= 8;
		}
		EVP_MAC_update(ctx, prefix, sizeof(prefix));
		EVP_MAC_update(ctx, (const unsigned char *)fields[i], lengths[i]);
	}
	EVP_MAC_final(ctx, out, &out_len, GA_HMAC_SIZE);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

void
ga_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int out_len = 32;

	EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL);
}

int
ga_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
ga_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void
ga_random_bytes(void *out, size_t len)
{
	if (RAND_bytes(out, (int)len) != 1) {
		fprintf(stderr, "level=fatal msg=\"no random bytes\"\n");
		abort();
	}
}

enum ga_rc
ga_secret_read_file(const char *path, char **out, struct ga_err *err)
{
	char buffer[SECRET_FILE_MAX + 2];
	size_t len;
	FILE *file = fopen(path, "rb");

	*out = NULL;
	if (file == NULL)
		return ga_err_set(err, GA_EIO, "%s: cannot open: %s", path, strerror(errno));
	len = fread(buffer, 1, sizeof(buffer) - 1, file);
	fclose(file);
	if (len > SECRET_FILE_MAX) {
		OPENSSL_cleanse(buffer, sizeof(buffer));
		return ga_err_set(err, GA_ELIMIT, "%s: secret file larger than %d bytes",
				  path, SECRET_FILE_MAX);
	}
	if (len > 0 && buffer[len - 1] == '\n')
		len--;
	if (len > 0 && buffer[len - 1] == '\r')
		len--;
	if (len == 0)
		return ga_err_set(err, GA_EINVAL, "%s: secret file is empty", path);
	if (memchr(buffer, '\0', len) != NULL) {
		OPENSSL_cleanse(buffer, sizeof(buffer));
		return ga_err_set(err, GA_EINVAL, "%s: secret file contains a NUL byte", path);
	}
	*out = ga_strndup(buffer, len);
	OPENSSL_cleanse(buffer, sizeof(buffer));
	return GA_OK;
}

void
ga_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	OPENSSL_cleanse(secret, strlen(secret));
	ga_free(secret);
}
