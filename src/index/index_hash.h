/*
 * index_hash.h - the digests of a distribution file, computed in one pass:
 * SHA-256 (the index's own: links, ETag, records), and MD5 and BLAKE2b-256,
 * which twine, poetry and uv send with an upload (md5_digest,
 * blake2_256_digest) and which PyPI's JSON API lists.
 *
 * SHA-256 and MD5 come from OpenSSL; BLAKE2b with a 256-bit output comes
 * from libsodium (crypto_generichash), since OpenSSL 3.0 offers BLAKE2b
 * with a 512-bit output only.
 *
 * A struct index_hash belongs to one thread at a time; the functions are
 * otherwise thread-safe.  No function fails once index_hash_new succeeded.
 */
#ifndef INDEX_HASH_H
#define INDEX_HASH_H

#include <stdbool.h>
#include <stddef.h>

/* Lower-case hexadecimal digests, NUL-terminated. */
struct index_digests {
	char sha256[65];
	char md5[33];
	char blake2b_256[65];
};

struct index_hash;

/* A new hash state, or NULL when a library refuses to start one. */
struct index_hash *index_hash_new(void);

void index_hash_update(struct index_hash *hash, const void *data, size_t len);

/* The digests of everything fed so far; the state is copied, so more
 * updates may follow. */
void index_hash_digests(const struct index_hash *hash, struct index_digests *out);

/* NULL is fine. */
void index_hash_free(struct index_hash *hash);

/*
 * Hash fd from its current offset to the end (reads with read(2)); *size
 * gets the bytes read.  stop, when not NULL, is polled between chunks: a
 * true value abandons the work (false is returned).  false on a read error.
 */
bool index_hash_fd(int fd, struct index_digests *out, long long *size,
		   bool (*stop)(void *context), void *context);

/* true when text is len lower- or upper-case hexadecimal digits. */
bool index_hash_is_hex(const char *text, size_t len);

#endif
