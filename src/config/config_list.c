/* config_list.c - lists of names from settings like "a, b c"; see config.h. */
#include "config/config.h"

#include <string.h>

#include "util/ga_xalloc.h"

/* Commas and the white space of isspace() in the C locale. */
#define LIST_SEPARATORS ", \t\n\v\f\r"

void
config_list_parse(const char *text, struct config_list *list)
{
	size_t capacity = 0;

	list->items = NULL;
	list->count = 0;
	while (*text != '\0') {
		size_t len;

		text += strspn(text, LIST_SEPARATORS);
		len = strcspn(text, LIST_SEPARATORS);
		if (len == 0)
			break;
		if (list->count == capacity) {
			capacity = capacity ? capacity * 2 : 8;
			list->items = ga_reallocarray(list->items, capacity, sizeof(*list->items));
		}
		list->items[list->count++] = ga_strndup(text, len);
		text += len;
	}
}

bool
config_list_contains(const struct config_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i], name) == 0)
			return true;
	return false;
}

void
config_list_free(struct config_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		ga_free(list->items[i]);
	ga_free(list->items);
	list->items = NULL;
	list->count = 0;
}
