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

/* An EVP_MAC context; the EVP_MAC it came from is kept to be freed with it. */
struct ga_hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

struct ga_hmac *
ga_hmac_sha256_new(const void *key, size_t key_len)
{
	struct ga_hmac *hmac = ga_calloc(1, sizeof(*hmac));
	static const uint8_t zero = 0;
	OSSL_PARAM params[2];

	/* OpenSSL refuses an empty key; HMAC pads the key with zeros to the
	 * block size, so one zero byte is the same key. */
	if (key_len == 0) {
		key = &zero;
		key_len = 1;
	}
	hmac->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	hmac->ctx = hmac->mac ? EVP_MAC_CTX_new(hmac->mac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (hmac->ctx == NULL || EVP_MAC_init(hmac->ctx, key, key_len, params) != 1) {
		fprintf(stderr, "level=fatal msg=\"OpenSSL HMAC unavailable\"\n");
		abort();
	}
	return hmac;
}

void
ga_hmac_update(struct ga_hmac *hmac, const void *data, size_t len)
{
	if (len > 0)
		EVP_MAC_update(hmac->ctx, data, len);
}

void
ga_hmac_final(struct ga_hmac *hmac, uint8_t out[GA_HMAC_SIZE])
{
	size_t out_len = 0;

	EVP_MAC_final(hmac->ctx, out, &out_len, GA_HMAC_SIZE);
}

void
ga_hmac_free(struct ga_hmac *hmac)
{
	if (hmac == NULL)
		return;
	EVP_MAC_CTX_free(hmac->ctx);
	EVP_MAC_free(hmac->mac);
	ga_free(hmac);
}

void
ga_hmac_fields(const void *key, size_t key_len, const char *const *fields,
	       const size_t *lengths, size_t count, uint8_t out[GA_HMAC_SIZE])
{
	struct ga_hmac *hmac = ga_hmac_sha256_new(key, key_len);

	for (size_t i = 0; i < count; i++) {
		uint8_t prefix[8];
		uint64_t len = lengths[i];

		for (int b = 7; b >= 0; b--) {
			prefix[b] = (uint8_t)(len & 0xff);
			len >>= 8;
		}
		ga_hmac_update(hmac, prefix, sizeof(prefix));
		ga_hmac_update(hmac, fields[i], lengths[i]);
	}
	ga_hmac_final(hmac, out);
	ga_hmac_free(hmac);
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
