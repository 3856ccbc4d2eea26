/*
 * oidc_keys.h - the cache of an issuer's signing keys.
 *
 * The first token makes the cache fetch {issuer}/.well-known/openid-
 * configuration, then its jwks_uri (through the caller's fetch function:
 * in the server, the GitHub transport).  After that a token is checked
 * from memory.  The set is fetched again:
 *   - when a token names a kid the set does not hold (GitHub rotated its
 *     keys), at most once per OIDC_KEYS_REFRESH_INTERVAL seconds, so that
 *     tokens with made-up kids cannot make ghaccess hammer the issuer;
 *   - when it is older than OIDC_KEYS_MAX_AGE, so that a key the issuer
 *     withdrew stops being trusted; if that fetch fails the old set is kept
 *     until OIDC_KEYS_STALE_AGE, then nothing is trusted (fail closed);
 *   - when the configured issuer changed (SIGHUP): the old set is dropped.
 * While the cache holds no set, a fetch is tried at most every
 * OIDC_KEYS_RETRY_INTERVAL seconds.
 *
 * One fetch at a time (single flight): callers that need the same refresh
 * wait for it and then use its result.  Thread-safe.
 */
#ifndef OIDC_KEYS_H
#define OIDC_KEYS_H

#include <stddef.h>

#include <openssl/evp.h>

#include "util/ga_err.h"

#define OIDC_KEYS_REFRESH_INTERVAL 60
#define OIDC_KEYS_RETRY_INTERVAL 5
#define OIDC_KEYS_MAX_AGE 3600
#define OIDC_KEYS_STALE_AGE 86400

/* GET url; on GA_OK *body (ga_malloc'd) and *len hold the reply.  At most
 * max bytes.  Called without any lock of the cache held. */
typedef enum ga_rc (*oidc_fetch_fn)(void *context, const char *url, size_t max, char **body,
				    size_t *len, struct ga_err *err);

struct oidc_fetcher {
	oidc_fetch_fn fetch;
	void *context;
};

enum oidc_key_result {
	OIDC_KEY_FOUND = 0,
	OIDC_KEY_UNKNOWN,	/* the issuer's current set has no such kid */
	OIDC_KEY_UNAVAILABLE,	/* no usable set: the issuer could not be read */
};

/* Counters since creation, for metrics and tests. */
struct oidc_keys_stats {
	unsigned long long fetches;		/* key set fetch attempts */
	unsigned long long fetch_failures;
	size_t keys;				/* keys in the current set */
};

struct oidc_keys;

struct oidc_keys *oidc_keys_create(void);
void oidc_keys_destroy(struct oidc_keys *keys);

/*
 * The key of issuer named kid, at Unix time now.  On FOUND *key holds a
 * new reference (EVP_PKEY_free).  err explains UNAVAILABLE (which fetch
 * failed, never a secret).
 */
enum oidc_key_result oidc_keys_get(struct oidc_keys *keys, const struct oidc_fetcher *fetcher,
				   const char *issuer, const char *kid, long long now,
				   EVP_PKEY **key, struct ga_err *err);

void oidc_keys_get_stats(struct oidc_keys *keys, struct oidc_keys_stats *out);

#endif
