/* toml_arena.c - the bump allocator that holds a TOML document's tree. */
#include "toml/toml_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/ga_xalloc.h"

/*
 * A document is many small nodes that all die together, so they are carved
 * out of large chunks and freed chunk by chunk instead of one by one.
 */
#define CHUNK_SIZE (64u * 1024u)
/* Enough for every node: pointers, int64_t and double. */
#define ALIGNMENT 8u
/* Requests above this get a chunk of their own, so big arrays and long
 * strings do not waste the rest of a shared chunk. */
#define DEDICATED_MIN (CHUNK_SIZE / 4u)

static size_t
round_up(size_t size)
{
	if (size > SIZE_MAX - ALIGNMENT)
		abort();	/* cannot happen with inputs below TOML_MAX_INPUT */
	return (size + ALIGNMENT - 1) & ~(size_t)(ALIGNMENT - 1);
}

static char *
chunk_data(struct toml_arena_chunk *chunk)
{
	return (char *)chunk + round_up(sizeof(*chunk));
}

static struct toml_arena_chunk *
chunk_new(size_t size)
{
	struct toml_arena_chunk *chunk = ga_malloc(round_up(sizeof(*chunk)) + size);

	chunk->next = NULL;
	chunk->size = size;
	chunk->used = 0;
	return chunk;
}

void
toml_arena_init(struct toml_arena *arena)
{
	arena->chunks = NULL;
}

void
toml_arena_free(struct toml_arena *arena)
{
	struct toml_arena_chunk *chunk = arena->chunks;

	while (chunk != NULL) {
		struct toml_arena_chunk *next = chunk->next;

		ga_free(chunk);
		chunk = next;
	}
	arena->chunks = NULL;
}

void *
toml_arena_alloc(struct toml_arena *arena, size_t size)
{
	struct toml_arena_chunk *head = arena->chunks;
	struct toml_arena_chunk *chunk;
	char *memory;

	size = round_up(size ? size : 1);
	if (head != NULL && head->size - head->used >= size) {
		memory = chunk_data(head) + head->used;
		head->used += size;
		memset(memory, 0, size);
		return memory;
	}
	if (size >= DEDICATED_MIN) {
		/* Keep the current head so its free space is still used. */
		chunk = chunk_new(size);
		if (head != NULL) {
			chunk->next = head->next;
			head->next = chunk;
		} else {
			arena->chunks = chunk;
		}
	} else {
		chunk = chunk_new(CHUNK_SIZE);
		chunk->next = head;
		arena->chunks = chunk;
	}
	chunk->used = size;
	memory = chunk_data(chunk);
	memset(memory, 0, size);
	return memory;
}

void *
toml_arena_grow(struct toml_arena *arena, void *old, size_t old_count, size_t new_count,
		size_t element_size)
{
	struct toml_arena_chunk *head = arena->chunks;
	size_t old_bytes = round_up(old_count * element_size);
	size_t new_bytes;
	void *memory;

	if (element_size != 0 && new_count > SIZE_MAX / 2 / element_size)
		abort();	/* cannot happen with inputs below TOML_MAX_INPUT */
	new_bytes = round_up(new_count * element_size);
	/* The newest allocation of the head chunk can grow where it is. */
	if (old != NULL && head != NULL &&
	    (char *)old + old_bytes == chunk_data(head) + head->used &&
	    head->size - (head->used - old_bytes) >= new_bytes) {
		memset((char *)old + old_bytes, 0, new_bytes - old_bytes);
		head->used = head->used - old_bytes + new_bytes;
		return old;
	}
	memory = toml_arena_alloc(arena, new_bytes);
	if (old != NULL && old_count > 0)
		memcpy(memory, old, old_count * element_size);
	return memory;
}

char *
toml_arena_strndup(struct toml_arena *arena, const char *text, size_t len)
{
	char *copy = toml_arena_alloc(arena, len + 1);

	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	return copy;
}
