/* ga_map.c - string-keyed open-addressing hash map; see ga_map.h. */
#include "util/ga_map.h"

#include <string.h>

#include "util/ga_xalloc.h"

uint64_t
ga_map_hash(const char *key, size_t len)
{
	uint64_t hash = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		hash ^= (unsigned char)key[i];
		hash *= 1099511628211ULL;
	}
	return hash;
}

void
ga_map_init(struct ga_map *map)
{
	map->slots = NULL;
	map->capacity = 0;
	map->count = 0;
}

void
ga_map_free(struct ga_map *map)
{
	ga_free(map->slots);
	ga_map_init(map);
}

static struct ga_map_slot *
probe(struct ga_map_slot *slots, size_t capacity, const char *key, size_t len,
      uint64_t hash)
{
	size_t mask = capacity - 1;
	size_t i = (size_t)hash & mask;

	for (;;) {
		struct ga_map_slot *slot = &slots[i];

		if (slot->key == NULL)
			return slot;
		if (slot->hash == hash && slot->key_len == len &&
		    memcmp(slot->key, key, len) == 0)
			return slot;
		i = (i + 1) & mask;
	}
}

static void
grow(struct ga_map *map)
{
	size_t capacity = map->capacity ? map->capacity * 2 : 16;
	struct ga_map_slot *slots = ga_calloc(capacity, sizeof(*slots));

	for (size_t i = 0; i < map->capacity; i++) {
		struct ga_map_slot *old = &map->slots[i];

		if (old->key != NULL)
			*probe(slots, capacity, old->key, old->key_len, old->hash) = *old;
	}
	ga_free(map->slots);
	map->slots = slots;
	map->capacity = capacity;
}

bool
ga_map_insert(struct ga_map *map, const char *key, size_t value)
{
	return ga_map_insert_n(map, key, strlen(key), value);
}

bool
ga_map_insert_n(struct ga_map *map, const char *key, size_t len, size_t value)
{
	uint64_t hash = ga_map_hash(key, len);
	struct ga_map_slot *slot;

	if ((map->count + 1) * 2 > map->capacity)
		grow(map);
	slot = probe(map->slots, map->capacity, key, len, hash);
	if (slot->key != NULL)
		return false;
	slot->key = key;
	slot->key_len = len;
	slot->hash = hash;
	slot->value = value;
	map->count++;
	return true;
}

bool
ga_map_find_n(const struct ga_map *map, const char *key, size_t len, size_t *value)
{
	const struct ga_map_slot *slot;

	if (map->count == 0)
		return false;
	slot = probe(map->slots, map->capacity, key, len, ga_map_hash(key, len));
	if (slot->key == NULL)
		return false;
	if (value != NULL)
		*value = slot->value;
	return true;
}

bool
ga_map_find(const struct ga_map *map, const char *key, size_t *value)
{
	return ga_map_find_n(map, key, strlen(key), value);
}
