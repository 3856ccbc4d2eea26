/*
 * ga_secret.h - handling of secrets: constant-time comparison, HMAC keys,
 * and reading secret files.
 *
 * Tokens are never stored or logged; where ghaccess must remember one (the
 * token cache) it keeps an HMAC-SHA256 of it under a key that is random per
 * process or read from a secret file shared by the instances.
 */
#ifndef GA_SECRET_H
#define GA_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ga_err.h"

#define GA_HMAC_SIZE 32

/* true when a and b are equal; time depends only on the lengths. */
bool ga_secret_equal(const void *a, size_t a_len, const void *b, size_t b_len);

/* HMAC-SHA256(key, data) into out (GA_HMAC_SIZE bytes). */
void ga_hmac_sha256(const void *key, size_t key_len, const void *data, size_t data_len,
		    uint8_t out[GA_HMAC_SIZE]);

/*
 * HMAC-SHA256 of data that arrives in pieces (a request body as it is
 * read): new with the key, update with each piece, final once.  Owned by
 * the caller (ga_hmac_free, NULL is fine); one thread at a time.  Aborts
 * when OpenSSL has no HMAC, as the one-shot functions do.
 */
struct ga_hmac;

struct ga_hmac *ga_hmac_sha256_new(const void *key, size_t key_len);
void ga_hmac_update(struct ga_hmac *mac, const void *data, size_t len);
void ga_hmac_final(struct ga_hmac *mac, uint8_t out[GA_HMAC_SIZE]);
void ga_hmac_free(struct ga_hmac *mac);

/*
 * HMAC-SHA256 over a length-prefixed list of count fields, so that
 * ("ab","c") and ("a","bc") never collide.  Each field is preceded by its
 * length as 8 big-endian bytes.
 */
void ga_hmac_fields(const void *key, size_t key_len, const char *const *fields,
		    const size_t *lengths, size_t count, uint8_t out[GA_HMAC_SIZE]);

/* SHA-256 of data into out (32 bytes). */
void ga_sha256(const void *data, size_t len, uint8_t out[32]);

/* The value of one hex digit (either case), or -1 for any other character. */
int ga_hex_value(int c);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void ga_hex(const uint8_t *bytes, size_t len, char *out);

/* Fill out with cryptographically random bytes; aborts if impossible. */
void ga_random_bytes(void *out, size_t len);

/*
 * Read a secret file: the whole content with one trailing newline (and CR)
 * removed.  Refuses files over 4 KiB and empty secrets.  *out is owned by the
 * caller (ga_secret_free).
 */
enum ga_rc ga_secret_read_file(const char *path, char **out, struct ga_err *err);

/* Overwrite a NUL-terminated secret with zeros and free it.  NULL is fine. */
void ga_secret_free(char *secret);

#endif
