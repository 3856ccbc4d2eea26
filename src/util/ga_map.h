/*
 * ga_map.h - a string-keyed hash map from key to a caller's index.
 *
 * The snapshot stores its members, teams and packages in arrays; this map
 * finds an array index by name in O(1).  Keys are borrowed: they must stay
 * alive and unchanged as long as the map is used (the snapshot keeps them in
 * the same allocation).  Open addressing with linear probing; the table is
 * kept at most half full.  Not thread-safe for writers; any number of
 * readers may use a map that is no longer modified.
 */
#ifndef GA_MAP_H
#define GA_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ga_map_slot {
	const char *key;	/* NULL: empty slot */
	size_t key_len;
	uint64_t hash;
	size_t value;
};

struct ga_map {
	struct ga_map_slot *slots;
	size_t capacity;	/* a power of two */
	size_t count;
};

void ga_map_init(struct ga_map *map);
void ga_map_free(struct ga_map *map);

/*
 * Insert key -> value.  Returns false and leaves the map unchanged when the
 * key is already present (the first insert wins).
 */
bool ga_map_insert(struct ga_map *map, const char *key, size_t value);

/* Same for a key of len bytes that need not be NUL-terminated and may
 * contain NUL bytes (TOML keys can: "\u0000" is a valid key). */
bool ga_map_insert_n(struct ga_map *map, const char *key, size_t len, size_t value);

/* Look up a NUL-terminated key; true and *value set when found. */
bool ga_map_find(const struct ga_map *map, const char *key, size_t *value);

/* Same for a key of len bytes that need not be NUL-terminated. */
bool ga_map_find_n(const struct ga_map *map, const char *key, size_t len, size_t *value);

/* 64-bit FNV-1a of len bytes, exported for tests. */
uint64_t ga_map_hash(const char *key, size_t len);

#endif
