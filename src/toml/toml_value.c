/* toml_value.c - the TOML document tree: building it and the public accessors. */
#include "toml/toml_internal.h"

#include <math.h>
#include <string.h>

#include "util/ga_xalloc.h"

/* Each element or key takes at least two bytes of input, so 32-bit counts
 * (doubled when growing) cannot overflow. */
_Static_assert(TOML_MAX_INPUT <= UINT32_MAX / 2, "TOML counts are 32-bit");

struct toml_document *
toml_document_new(void)
{
	struct toml_document *doc = ga_calloc(1, sizeof(*doc));

	toml_arena_init(&doc->arena);
	doc->root = toml_table_new(doc, TOML_TABLE_ROOT);
	return doc;
}

void
toml_document_free(struct toml_document *doc)
{
	if (doc == NULL)
		return;
	for (size_t i = 0; i < doc->index_count; i++) {
		ga_map_free(doc->indexes[i]);
		ga_free(doc->indexes[i]);
	}
	ga_free(doc->indexes);
	toml_arena_free(&doc->arena);
	ga_free(doc);
}

const struct toml_value *
toml_document_root(const struct toml_document *doc)
{
	return doc->root;
}

struct toml_value *
toml_value_new(struct toml_document *doc, enum toml_type type)
{
	struct toml_value *value = toml_arena_alloc(&doc->arena, sizeof(*value));

	value->type = type;
	return value;
}

struct toml_value *
toml_table_new(struct toml_document *doc, enum toml_table_kind kind)
{
	struct toml_value *table = toml_value_new(doc, TOML_TABLE);

	table->table_kind = (uint8_t)kind;
	return table;
}

/* Build the hash index once a table outgrows linear search. */
static void
table_index_build(struct toml_document *doc, struct toml_value *table)
{
	struct ga_map *index = ga_malloc(sizeof(*index));

	ga_map_init(index);
	for (size_t i = 0; i < table->as.table.count; i++) {
		const struct toml_entry *entry = &table->as.table.entries[i];

		ga_map_insert_n(index, entry->key, entry->key_len, i);
	}
	if (doc->index_count == doc->index_capacity) {
		doc->index_capacity = doc->index_capacity ? doc->index_capacity * 2 : 16;
		doc->indexes = ga_reallocarray(doc->indexes, doc->index_capacity,
					       sizeof(*doc->indexes));
	}
	doc->indexes[doc->index_count++] = index;
	table->as.table.index = index;
}

struct toml_value *
toml_table_find(const struct toml_value *table, const char *key, size_t key_len)
{
	size_t i;

	if (table == NULL || table->type != TOML_TABLE)
		return NULL;
	if (table->as.table.index != NULL) {
		if (!ga_map_find_n(table->as.table.index, key, key_len, &i))
			return NULL;
		return table->as.table.entries[i].value;
	}
	for (i = 0; i < table->as.table.count; i++) {
		const struct toml_entry *entry = &table->as.table.entries[i];

		if (entry->key_len == key_len && memcmp(entry->key, key, key_len) == 0)
			return entry->value;
	}
	return NULL;
}

void
toml_table_insert(struct toml_document *doc, struct toml_value *table, const char *key,
		  size_t key_len, struct toml_value *value)
{
	uint32_t count = table->as.table.count;
	struct toml_entry *entry;

	if (count == table->as.table.capacity) {
		uint32_t capacity = count ? count * 2 : 4;

		table->as.table.entries = toml_arena_grow(&doc->arena, table->as.table.entries,
							  count, capacity,
							  sizeof(struct toml_entry));
		table->as.table.capacity = capacity;
	}
	entry = &table->as.table.entries[count];
	entry->key = key;
	entry->key_len = key_len;
	entry->value = value;
	table->as.table.count = count + 1;
	if (table->as.table.index != NULL)
		ga_map_insert_n(table->as.table.index, key, key_len, count);
	else if (table->as.table.count > TOML_TABLE_LINEAR_MAX)
		table_index_build(doc, table);
}

void
toml_array_append(struct toml_document *doc, struct toml_value *array,
		  struct toml_value *item)
{
	uint32_t count = array->as.array.count;

	if (count == array->as.array.capacity) {
		uint32_t capacity = count ? count * 2 : 4;

		array->as.array.items = toml_arena_grow(&doc->arena, array->as.array.items,
							count, capacity,
							sizeof(struct toml_value *));
		array->as.array.capacity = capacity;
	}
	array->as.array.items[count] = item;
	array->as.array.count = count + 1;
}

enum toml_type
toml_value_type(const struct toml_value *value)
{
	return value->type;
}

const char *
toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_STRING:		return "string";
	case TOML_INTEGER:		return "integer";
	case TOML_FLOAT:		return "float";
	case TOML_BOOLEAN:		return "bool";
	case TOML_OFFSET_DATETIME:	return "datetime";
	case TOML_LOCAL_DATETIME:	return "datetime-local";
	case TOML_LOCAL_DATE:		return "date-local";
	case TOML_LOCAL_TIME:		return "time-local";
	case TOML_ARRAY:		return "array";
	case TOML_TABLE:		return "table";
	}
	return "unknown";
}

const struct toml_value *
toml_table_get(const struct toml_value *table, const char *key)
{
	return toml_table_find(table, key, strlen(key));
}

const struct toml_value *
toml_table_get_n(const struct toml_value *table, const char *key, size_t key_len)
{
	return toml_table_find(table, key, key_len);
}

size_t
toml_table_count(const struct toml_value *table)
{
	if (table == NULL || table->type != TOML_TABLE)
		return 0;
	return table->as.table.count;
}

const char *
toml_table_key_at(const struct toml_value *table, size_t i, size_t *key_len)
{
	if (i >= toml_table_count(table))
		return NULL;
	if (key_len != NULL)
		*key_len = table->as.table.entries[i].key_len;
	return table->as.table.entries[i].key;
}

const struct toml_value *
toml_table_value_at(const struct toml_value *table, size_t i)
{
	if (i >= toml_table_count(table))
		return NULL;
	return table->as.table.entries[i].value;
}

size_t
toml_array_count(const struct toml_value *array)
{
	if (array == NULL || array->type != TOML_ARRAY)
		return 0;
	return array->as.array.count;
}

const struct toml_value *
toml_array_at(const struct toml_value *array, size_t i)
{
	if (i >= toml_array_count(array))
		return NULL;
	return array->as.array.items[i];
}

const char *
toml_string(const struct toml_value *value, size_t *len)
{
	if (value == NULL || value->type != TOML_STRING)
		return NULL;
	if (len != NULL)
		*len = value->as.string.len;
	return value->as.string.text;
}

int64_t
toml_integer(const struct toml_value *value)
{
	if (value == NULL || value->type != TOML_INTEGER)
		return 0;
	return value->as.integer;
}

double
toml_float(const struct toml_value *value)
{
	if (value == NULL || value->type != TOML_FLOAT)
		return NAN;
	return value->as.floating;
}

bool
toml_boolean(const struct toml_value *value)
{
	if (value == NULL || value->type != TOML_BOOLEAN)
		return false;
	return value->as.boolean;
}

static bool
is_datetime(enum toml_type type)
{
	return type == TOML_OFFSET_DATETIME || type == TOML_LOCAL_DATETIME ||
	       type == TOML_LOCAL_DATE || type == TOML_LOCAL_TIME;
}

const char *
toml_datetime_text(const struct toml_value *value)
{
	if (value == NULL || !is_datetime(value->type))
		return NULL;
	return value->as.string.text;
}
