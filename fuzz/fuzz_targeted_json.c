/*
 * fuzz_targeted_json.c - a targeted result read from a shared change log
 * (memcached) is outside data: parse it; whatever is accepted must hold
 * exactly the one record its kind names, must write out and read back to
 * the same result, and must apply to an organization without crashing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/service_webhook.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
records(const struct org_input *data)
{
	return data->member_count + data->team_count + data->repository_count;
}

/* A small organization the result is applied to. */
static struct org_input *
organization(void)
{
	struct org_input *input = org_input_new();
	struct org_input_team *team;

	input->organization = ga_strdup("acme");
	input->synced_at = 1;
	org_input_add_member(input, "bob", 1, false);
	team = org_input_add_team(input, 2, "platform", "Platform", NULL);
	org_input_team_add_member(team, "bob");
	org_input_team_add_repository(team, "core-lib", ORG_LEVEL_WRITE);
	org_input_add_repository(input, 3, "core-lib", false, false);
	return input;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service_targeted_result result;
	struct service_targeted_result again;
	struct service_webhook_revocations *log;
	struct org_input *input;
	struct org_input *patched;
	struct ga_err err;
	long long at_ms;
	long long at_again;
	char *text;
	char *first;
	char *second;

	ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	if (service_targeted_from_json((const char *)data, size, &result, &at_ms, &err) != GA_OK) {
		if (result.data != NULL || result.target.kind != SERVICE_TARGETED_NONE)
			abort();	/* a refusal leaves nothing behind */
		return 0;
	}
	if (result.data == NULL || records(result.data) != 1 || at_ms <= 0)
		abort();	/* exactly one record, at a time */
	text = service_targeted_to_json(&result, at_ms);
	if (text == NULL ||
	    service_targeted_from_json(text, strlen(text), &again, &at_again, &err) != GA_OK) {
		fprintf(stderr, "accepted a result that does not read back\n");
		abort();
	}
	first = org_input_to_json(result.data);
	second = org_input_to_json(again.data);
	if (at_again != at_ms || again.target.kind != result.target.kind ||
	    strcmp(again.target.name, result.target.name) != 0 || strcmp(first, second) != 0)
		abort();
	/* Applied to data read before it. */
	log = service_webhook_revocations_create();
	input = organization();
	service_webhook_revocations_add_targeted(log, &result, at_ms);
	patched = service_webhook_revocations_apply(log, input);
	org_input_free(patched);
	org_input_free(input);
	service_webhook_revocations_destroy(log);
	ga_free(first);
	ga_free(second);
	ga_free(text);
	org_input_free(result.data);
	org_input_free(again.data);
	return 0;
}
