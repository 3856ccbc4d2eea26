/*
 * fuzz_snapshot.c - snapshot files and memcached values are outside data:
 * parse them, build a snapshot from whatever parsed, and decide for every
 * member and package.  Nothing may crash, leak or loop, and whatever was
 * accepted must write out to a file that reads back (the server restarts
 * from what it wrote).  The reader walks the top-level object itself and
 * hands jansson one value at a time: whatever it accepts must also be one
 * valid JSON document to jansson parsing the whole (no trailing bytes, no
 * duplicate key, no missing comma), and what it writes must be jansson's
 * compact dump of that document.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "org/org_policy.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *config;
	struct org_input *input;
	struct org_input *copy;
	struct org_snapshot *snapshot;
	struct ga_err err;
	char *json;
	char *dumped;
	json_t *whole;

	if (config == NULL) {
		config = config_new_defaults();
		ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	}
	if (org_input_from_json((const char *)data, size, &input, &err) != GA_OK)
		return 0;
	whole = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	if (!json_is_object(whole)) {
		fprintf(stderr, "accepted a document jansson refuses as a whole\n");
		abort();
	}
	json_decref(whole);
	json = org_input_to_json(input);
	whole = json_loads(json, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	dumped = json_dumps(whole, JSON_COMPACT);
	if (dumped == NULL || strcmp(dumped, json) != 0) {
		fprintf(stderr, "the text written is not the compact dump of the document\n");
		abort();
	}
	free(dumped);	/* style-ok: jansson's allocation */
	json_decref(whole);
	if (org_input_from_json(json, strlen(json), &copy, &err) != GA_OK) {
		fprintf(stderr, "snapshot does not read back: %s\n", err.message);
		abort();
	}
	org_input_free(copy);
	ga_free(json);
	if (org_snapshot_build(input, config, &snapshot, &err) != GA_OK)
		return 0;
	for (size_t m = 0; m < org_snapshot_member_count(snapshot) && m < 64; m++)
		for (size_t p = 0; p < org_snapshot_package_count(snapshot) && p < 64; p++)
			(void)org_decide(snapshot, (long)m, (long)p);
	/* A name has one owner: reserved or a package, never both; every
	 * conflict is about a name that is one or the other. */
	for (size_t r = 0; r < org_snapshot_reserved_count(snapshot) && r < 64; r++) {
		const char *key = org_snapshot_reserved_key(snapshot, (long)r);

		if (org_snapshot_find_package(snapshot, key) >= 0 ||
		    org_snapshot_find_reserved(snapshot, key) != (long)r)
			abort();
		for (size_t m = 0; m < org_snapshot_member_count(snapshot) && m < 64; m++)
			if (org_decide_by_name(snapshot, org_snapshot_member_login(snapshot, (long)m),
					       key).read != org_snapshot_member_is_owner(snapshot, (long)m))
				abort();
	}
	for (size_t c = 0; c < org_snapshot_conflict_count(snapshot) && c < 64; c++)
		if (!org_snapshot_name_is_claimed(snapshot, org_snapshot_conflict_key(snapshot, c)))
			abort();
	org_snapshot_release(snapshot);
	return 0;
}
