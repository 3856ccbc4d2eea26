/* cache_seal.c - authenticated values for memcached; see cache_internal.h. */
#include "cache/cache_internal.h"

#include <string.h>

void
cache_put_u64(uint8_t *out, uint64_t value)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)(value & 0xff);
		value >>= 8;
	}
}

uint64_t
cache_get_u64(const uint8_t *in)
{
	uint64_t value = 0;

	for (int i = 0; i < 8; i++)
		value = (value << 8) | in[i];
	return value;
}

/*
 * The MAC covers the memcached key, so a genuine value copied to another
 * key (one user's verified token onto another's) fails, and the expiry, so
 * an old genuine value written back with a fresh memcached TTL is refused.
 * The three fields are length-prefixed by ga_hmac_fields: no two different
 * (key, header, payload) triples produce the same MAC input.
 */
static void
value_mac(const uint8_t mac_key[GA_HMAC_SIZE], const char *key, const uint8_t *header,
	  const uint8_t *payload, size_t payload_len, uint8_t out[GA_HMAC_SIZE])
{
	const char *fields[3] = {key, (const char *)header, (const char *)payload};
	size_t lengths[3] = {strlen(key), CACHE_SEAL_HEADER, payload_len};

	ga_hmac_fields(mac_key, GA_HMAC_SIZE, fields, lengths, 3, out);
}

void
cache_seal(const uint8_t mac_key[GA_HMAC_SIZE], const char *key, long long expires_at,
	   const void *payload, size_t payload_len, uint8_t *out)
{
	out[0] = CACHE_SEAL_VERSION;
	cache_put_u64(out + 1, (uint64_t)expires_at);
	if (payload_len > 0)
		memcpy(out + CACHE_SEAL_HEADER, payload, payload_len);
	value_mac(mac_key, key, out, out + CACHE_SEAL_HEADER, payload_len,
		  out + CACHE_SEAL_HEADER + payload_len);
}

enum cache_open_result
cache_open(const uint8_t mac_key[GA_HMAC_SIZE], const char *key, const uint8_t *value,
	   size_t value_len, long long now, const uint8_t **payload, size_t *payload_len,
	   long long *expires_at)
{
	uint8_t expected[GA_HMAC_SIZE];
	size_t body_len;

	if (value == NULL || value_len < CACHE_SEAL_OVERHEAD || value[0] != CACHE_SEAL_VERSION)
		return CACHE_OPEN_MALFORMED;
	body_len = value_len - CACHE_SEAL_OVERHEAD;
	value_mac(mac_key, key, value, value + CACHE_SEAL_HEADER, body_len, expected);
	if (!ga_secret_equal(expected, GA_HMAC_SIZE, value + CACHE_SEAL_HEADER + body_len,
			     GA_HMAC_SIZE))
		return CACHE_OPEN_BAD_MAC;
	*payload = value + CACHE_SEAL_HEADER;
	*payload_len = body_len;
	*expires_at = (long long)cache_get_u64(value + 1);
	if (*expires_at <= now)
		return CACHE_OPEN_EXPIRED;
	return CACHE_OPEN_OK;
}
