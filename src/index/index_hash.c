/* index_hash.c - SHA-256, MD5 and BLAKE2b-256 in one pass; see index_hash.h. */
#include "index/index_hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#define HASH_CHUNK (256 * 1024)

struct index_hash {
	EVP_MD_CTX *sha256;
	EVP_MD_CTX *md5;
	crypto_generichash_state blake2b;
};

struct index_hash *
index_hash_new(void)
{
	struct index_hash *hash;

	/* libsodium's one-time set-up (idempotent, thread-safe); BLAKE2b
	 * needs none of it, but the library asks for it before any use. */
	if (sodium_init() < 0)
		return NULL;
	/* crypto_generichash_state wants 64-byte alignment. */
	hash = ga_aligned_alloc(64, sizeof(*hash));
	memset(hash, 0, sizeof(*hash));
	hash->sha256 = EVP_MD_CTX_new();
	hash->md5 = EVP_MD_CTX_new();
	if (hash->sha256 == NULL || hash->md5 == NULL ||
	    EVP_DigestInit_ex(hash->sha256, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(hash->md5, EVP_md5(), NULL) != 1 ||
	    crypto_generichash_init(&hash->blake2b, NULL, 0, 32) != 0) {
		index_hash_free(hash);
		return NULL;
	}
	return hash;
}

void
index_hash_update(struct index_hash *hash, const void *data, size_t len)
{
	EVP_DigestUpdate(hash->sha256, data, len);
	EVP_DigestUpdate(hash->md5, data, len);
	crypto_generichash_update(&hash->blake2b, data, len);
}

static void
final_copy(const EVP_MD_CTX *ctx, size_t expected, char *out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *copy = EVP_MD_CTX_new();

	out[0] = '\0';
	if (copy != NULL && EVP_MD_CTX_copy_ex(copy, ctx) == 1 &&
	    EVP_DigestFinal_ex(copy, digest, &len) == 1 && len == expected)
		ga_hex(digest, len, out);
	EVP_MD_CTX_free(copy);
}

void
index_hash_digests(const struct index_hash *hash, struct index_digests *out)
{
	/* The copy of the libsodium state must be aligned like the original. */
	crypto_generichash_state *copy = ga_aligned_alloc(64, sizeof(*copy));
	unsigned char digest[32];

	final_copy(hash->sha256, 32, out->sha256);
	final_copy(hash->md5, 16, out->md5);
	memcpy(copy, &hash->blake2b, sizeof(*copy));
	out->blake2b_256[0] = '\0';
	if (crypto_generichash_final(copy, digest, sizeof(digest)) == 0)
		ga_hex(digest, sizeof(digest), out->blake2b_256);
	sodium_memzero(copy, sizeof(*copy));
	ga_free(copy);
}

void
index_hash_free(struct index_hash *hash)
{
	if (hash == NULL)
		return;
	EVP_MD_CTX_free(hash->sha256);
	EVP_MD_CTX_free(hash->md5);
	ga_free(hash);
}

bool
index_hash_fd(int fd, struct index_digests *out, long long *size, bool (*stop)(void *context),
	      void *context)
{
	struct index_hash *hash = index_hash_new();
	char *chunk = ga_malloc(HASH_CHUNK);
	bool ok = hash != NULL;
	ssize_t got;

	*size = 0;
	while (ok && (got = read(fd, chunk, HASH_CHUNK)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || (stop != NULL && stop(context))) {
			ok = false;
			break;
		}
		index_hash_update(hash, chunk, (size_t)got);
		*size += got;
	}
	if (ok)
		index_hash_digests(hash, out);
	index_hash_free(hash);
	ga_free(chunk);
	return ok;
}

bool
index_hash_is_hex(const char *text, size_t len)
{
	if (strlen(text) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (ga_hex_value((unsigned char)text[i]) < 0)
			return false;
	return true;
}
