/*
 * fuzz_change.c - a shared change log entry's change as another instance
 * (or whoever writes to memcached with the secret) may have written it:
 * service_change_decode.  Contracts: a decoded change is of a known kind,
 * its strings are NUL-terminated within their buffers, and it encodes
 * back to text that decodes to the same change.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/service_pipeline.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service_change change;
	struct service_change again;
	struct ga_err err = {0};
	char *text;

	if (service_change_decode((const char *)data, size, &change, &err) != GA_OK)
		return 0;
	if (change.removal.kind == SERVICE_WEBHOOK_REMOVE_NONE ||
	    memchr(change.removal.login, '\0', sizeof(change.removal.login)) == NULL ||
	    memchr(change.removal.team, '\0', sizeof(change.removal.team)) == NULL ||
	    memchr(change.removal.repository, '\0', sizeof(change.removal.repository)) == NULL ||
	    memchr(change.removal.parent, '\0', sizeof(change.removal.parent)) == NULL)
		abort();
	text = service_change_encode(&change);
	if (text == NULL || service_change_decode(text, strlen(text), &again, &err) != GA_OK ||
	    memcmp(&again, &change, sizeof(change)) != 0)
		abort();
	ga_free(text);
	return 0;
}
