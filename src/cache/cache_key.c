/* cache_key.c - a pre-keyed, thread-safe HMAC-SHA256; see cache_internal.h. */
#include "cache/cache_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/ga_xalloc.h"

/*
 * ga_hmac_fields fetches the HMAC implementation and sets the key on every
 * call (about 3 µs).  Here each of a few slots keeps a keyed context that is
 * reset with EVP_MAC_init(ctx, NULL, ...) (OpenSSL then reuses the key), so
 * a call costs one HMAC.  A thread picks a slot from its id and only
 * try-locks it: when two threads meet on a slot, the loser takes a copy of
 * the keyed template instead of waiting.
 */
#define KEYER_SLOTS 32

struct keyer_slot {
	pthread_mutex_t lock;
	EVP_MAC_CTX *context;
	char padding[64];	/* keep hot slots on separate cache lines */
};

struct cache_keyer {
	EVP_MAC *mac;
	EVP_MAC_CTX *keyed_template;
	struct keyer_slot slots[KEYER_SLOTS];
};

static void
fatal_openssl(const char *what)
{
	fprintf(stderr, "level=fatal msg=\"OpenSSL HMAC unavailable\" step=%s\n", what);
	abort();
}

struct cache_keyer *
cache_keyer_create(const void *key, size_t key_len)
{
	struct cache_keyer *keyer = ga_calloc(1, sizeof(*keyer));
	OSSL_PARAM params[2];

	keyer->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (keyer->mac == NULL)
		fatal_openssl("fetch");
	keyer->keyed_template = EVP_MAC_CTX_new(keyer->mac);
	if (keyer->keyed_template == NULL)
		fatal_openssl("new");
	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(keyer->keyed_template, key, key_len, params) != 1)
		fatal_openssl("init");
	for (size_t i = 0; i < KEYER_SLOTS; i++) {
		pthread_mutex_init(&keyer->slots[i].lock, NULL);
		keyer->slots[i].context = EVP_MAC_CTX_dup(keyer->keyed_template);
		if (keyer->slots[i].context == NULL)
			fatal_openssl("dup");
	}
	return keyer;
}

void
cache_keyer_destroy(struct cache_keyer *keyer)
{
	if (keyer == NULL)
		return;
	for (size_t i = 0; i < KEYER_SLOTS; i++) {
		EVP_MAC_CTX_free(keyer->slots[i].context);
		pthread_mutex_destroy(&keyer->slots[i].lock);
	}
	EVP_MAC_CTX_free(keyer->keyed_template);
	EVP_MAC_free(keyer->mac);
	ga_free(keyer);
}

static void
mac_fields(EVP_MAC_CTX *context, const char *const *fields, const size_t *lengths,
	   size_t count, uint8_t out[GA_HMAC_SIZE])
{
	size_t out_len = 0;

	for (size_t i = 0; i < count; i++) {
		uint8_t prefix[8];

		cache_put_u64(prefix, lengths[i]);
		EVP_MAC_update(context, prefix, sizeof(prefix));
		EVP_MAC_update(context, (const unsigned char *)fields[i], lengths[i]);
	}
	if (EVP_MAC_final(context, out, &out_len, GA_HMAC_SIZE) != 1 || out_len != GA_HMAC_SIZE)
		fatal_openssl("final");
}

/* A slot number that differs between threads and stays the same for one. */
static size_t
thread_slot(void)
{
	uint64_t id = (uint64_t)pthread_self();

	id ^= id >> 29;
	id *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(id >> 40) % KEYER_SLOTS;
}

void
cache_keyer_fields(struct cache_keyer *keyer, const char *const *fields,
		   const size_t *lengths, size_t count, uint8_t out[GA_HMAC_SIZE])
{
	size_t first = thread_slot();
	EVP_MAC_CTX *copy;

	for (size_t attempt = 0; attempt < 2; attempt++) {
		struct keyer_slot *slot = &keyer->slots[(first + attempt) % KEYER_SLOTS];

		if (pthread_mutex_trylock(&slot->lock) != 0)
			continue;
		if (EVP_MAC_init(slot->context, NULL, 0, NULL) != 1)
			fatal_openssl("reinit");
		mac_fields(slot->context, fields, lengths, count, out);
		pthread_mutex_unlock(&slot->lock);
		return;
	}
	copy = EVP_MAC_CTX_dup(keyer->keyed_template);
	if (copy == NULL)
		fatal_openssl("dup");
	mac_fields(copy, fields, lengths, count, out);
	EVP_MAC_CTX_free(copy);
}

void
cache_derive_key(const char *secret, const char *label, uint8_t out[GA_HMAC_SIZE])
{
	ga_hmac_sha256(secret, strlen(secret), label, strlen(label), out);
}
