/*
 * ga_base64.h - base64url without padding (RFC 4648 section 5), the
 * alphabet of JSON Web Tokens (RFC 7515 section 2) and of ghaccess's own
 * minted tokens, over OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock.
 *
 * OpenSSL speaks standard base64 only; these wrappers translate the two
 * characters that differ ('-' and '_' for '+' and '/') and the padding.
 * Decoding is strict: one spelling per value (no padding, no white space,
 * no character outside the alphabet, zero bits where the last group is
 * cut), so that two different strings never decode to the same bytes.
 *
 * Pure functions, no allocation, thread-safe.
 */
#ifndef GA_BASE64_H
#define GA_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters of the encoding of len bytes (without the NUL). */
#define GA_BASE64URL_LEN(len) (((len) / 3) * 4 + ((len) % 3 == 0 ? 0 : (len) % 3 + 1))
/* Bytes that the decoding of len characters needs at most. */
#define GA_BASE64URL_DECODED_MAX(len) (((len) + 3) / 4 * 3)

/* Encode len bytes into out, which holds GA_BASE64URL_LEN(len) + 1 bytes;
 * NUL-terminated. */
void ga_base64url_encode(const uint8_t *bytes, size_t len, char *out);

/*
 * Decode in_len characters of base64url into out (out_size bytes).  false
 * for anything but the canonical unpadded encoding of some bytes, or
 * output that does not fit; *out_len is then 0.
 */
bool ga_base64url_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size,
			 size_t *out_len);

#endif
