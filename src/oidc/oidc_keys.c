/* oidc_keys.c - the signing keys cache with bounded refreshes; see oidc_keys.h. */
#include "oidc/oidc_keys.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "oidc/oidc_jwks.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

struct oidc_keys {
	pthread_mutex_t lock;		/* the fields below */
	pthread_mutex_t refresh;	/* held by the one caller that fetches */
	char *issuer;			/* of set; NULL before the first fetch */
	struct oidc_jwks *set;
	long long fetched_at;		/* when set was read */
	long long attempted_at;		/* the last fetch attempt; 0: never */
	struct oidc_keys_stats stats;
};

struct oidc_keys *
oidc_keys_create(void)
{
	struct oidc_keys *keys = ga_calloc(1, sizeof(*keys));

	pthread_mutex_init(&keys->lock, NULL);
	pthread_mutex_init(&keys->refresh, NULL);
	return keys;
}

void
oidc_keys_destroy(struct oidc_keys *keys)
{
	if (keys == NULL)
		return;
	oidc_jwks_free(keys->set);
	ga_free(keys->issuer);
	pthread_mutex_destroy(&keys->lock);
	pthread_mutex_destroy(&keys->refresh);
	ga_free(keys);
}

/* Discovery, then the key set.  No lock held. */
static enum ga_rc
fetch_set(const struct oidc_fetcher *fetcher, const char *issuer, struct oidc_jwks **set,
	  struct ga_err *err)
{
	char *url = ga_asprintf("%s/.well-known/openid-configuration", issuer);
	char *body = NULL;
	char *jwks_uri = NULL;
	size_t len = 0;
	enum ga_rc rc = fetcher->fetch(fetcher->context, url, OIDC_DOCUMENT_MAX, &body, &len, err);

	if (rc == GA_OK)
		rc = oidc_discovery_parse(body, len, issuer, &jwks_uri, err);
	ga_free(body);
	body = NULL;
	if (rc == GA_OK)
		rc = fetcher->fetch(fetcher->context, jwks_uri, OIDC_DOCUMENT_MAX, &body, &len, err);
	if (rc == GA_OK)
		rc = oidc_jwks_parse(body, len, set, err);
	ga_free(body);
	ga_free(jwks_uri);
	ga_free(url);
	return rc;
}

/* What the cache can say now, under lock. */
enum lookup {
	LOOKUP_FOUND,
	LOOKUP_REFRESH,		/* a fetch is due */
	LOOKUP_UNKNOWN,		/* kid absent, no fetch allowed yet */
	LOOKUP_UNAVAILABLE,	/* no usable set, no fetch allowed yet */
};

static enum lookup
look_up(struct oidc_keys *keys, const char *issuer, const char *kid, long long now,
	EVP_PKEY **key)
{
	bool same_issuer = keys->issuer != NULL && strcmp(keys->issuer, issuer) == 0;
	bool usable = same_issuer && keys->set != NULL && now - keys->fetched_at < OIDC_KEYS_STALE_AGE;
	bool fresh = usable && now - keys->fetched_at < OIDC_KEYS_MAX_AGE;
	long long since_attempt = now - keys->attempted_at;

	*key = usable ? oidc_jwks_find(keys->set, kid) : NULL;
	if (!same_issuer)
		return LOOKUP_REFRESH;
	if (*key != NULL && (fresh || since_attempt < OIDC_KEYS_REFRESH_INTERVAL))
		return LOOKUP_FOUND;
	if (*key != NULL) {
		/* Old but usable: refresh first, fall back to it on failure. */
		EVP_PKEY_free(*key);
		*key = NULL;
		return LOOKUP_REFRESH;
	}
	if (!usable)
		return since_attempt >= OIDC_KEYS_RETRY_INTERVAL ? LOOKUP_REFRESH
								: LOOKUP_UNAVAILABLE;
	return since_attempt >= OIDC_KEYS_REFRESH_INTERVAL ? LOOKUP_REFRESH : LOOKUP_UNKNOWN;
}

/* Install what a fetch brought (or record its failure), under lock. */
static void
install(struct oidc_keys *keys, const char *issuer, struct oidc_jwks *set, long long now)
{
	if (keys->issuer == NULL || strcmp(keys->issuer, issuer) != 0) {
		ga_free(keys->issuer);
		keys->issuer = ga_strdup(issuer);
		oidc_jwks_free(keys->set);
		keys->set = NULL;
	}
	keys->attempted_at = now;
	keys->stats.fetches++;
	if (set == NULL) {
		keys->stats.fetch_failures++;
		return;
	}
	oidc_jwks_free(keys->set);
	keys->set = set;
	keys->fetched_at = now;
}

static enum oidc_key_result
result_of(enum lookup lookup)
{
	return lookup == LOOKUP_FOUND	    ? OIDC_KEY_FOUND
	       : lookup == LOOKUP_UNKNOWN ? OIDC_KEY_UNKNOWN
					  : OIDC_KEY_UNAVAILABLE;
}

enum oidc_key_result
oidc_keys_get(struct oidc_keys *keys, const struct oidc_fetcher *fetcher, const char *issuer,
	      const char *kid, long long now, EVP_PKEY **key, struct ga_err *err)
{
	struct oidc_jwks *set = NULL;
	struct ga_err fetch_err;
	enum lookup lookup;
	enum ga_rc rc;

	*key = NULL;
	pthread_mutex_lock(&keys->lock);
	lookup = look_up(keys, issuer, kid, now, key);
	pthread_mutex_unlock(&keys->lock);
	if (lookup != LOOKUP_REFRESH) {
		if (lookup == LOOKUP_UNAVAILABLE)
			ga_err_set(err, GA_EUPSTREAM, "the issuer's keys could not be read lately");
		return result_of(lookup);
	}
	/* Single flight: whoever waited here finds the fetch done and may
	 * not start another (attempted_at moved). */
	pthread_mutex_lock(&keys->refresh);
	pthread_mutex_lock(&keys->lock);
	lookup = look_up(keys, issuer, kid, now, key);
	pthread_mutex_unlock(&keys->lock);
	if (lookup != LOOKUP_REFRESH) {
		pthread_mutex_unlock(&keys->refresh);
		if (lookup == LOOKUP_UNAVAILABLE)
			ga_err_set(err, GA_EUPSTREAM, "the issuer's keys could not be read lately");
		return result_of(lookup);
	}
	ga_err_clear(&fetch_err);
	rc = fetch_set(fetcher, issuer, &set, &fetch_err);
	if (rc != GA_OK)
		ga_log(GA_LOG_WARN, "trusted publishing: cannot read the issuer's signing keys",
		       "issuer", issuer, "error", fetch_err.message, (char *)NULL);
	pthread_mutex_lock(&keys->lock);
	install(keys, issuer, set, now);
	/* After a failure a set that is old but within the stale age still serves. */
	*key = keys->set != NULL && now - keys->fetched_at < OIDC_KEYS_STALE_AGE
		       ? oidc_jwks_find(keys->set, kid)
		       : NULL;
	lookup = *key != NULL ? LOOKUP_FOUND
		 : keys->set != NULL && now - keys->fetched_at < OIDC_KEYS_STALE_AGE ? LOOKUP_UNKNOWN
										      : LOOKUP_UNAVAILABLE;
	pthread_mutex_unlock(&keys->lock);
	pthread_mutex_unlock(&keys->refresh);
	if (lookup == LOOKUP_UNAVAILABLE)
		ga_err_set(err, GA_EUPSTREAM, "%s", fetch_err.message[0] ? fetch_err.message
									 : "no usable key set");
	return result_of(lookup);
}

void
oidc_keys_get_stats(struct oidc_keys *keys, struct oidc_keys_stats *out)
{
	pthread_mutex_lock(&keys->lock);
	*out = keys->stats;
	out->keys = oidc_jwks_count(keys->set);
	pthread_mutex_unlock(&keys->lock);
}
