/*
 * fuzz_webhook.c - a webhook delivery as POST /webhook handles it after the
 * HTTP layer: signature check, classification of any payload, and the
 * removal it names applied to an organization.  Input: the X-GitHub-Event
 * value, a newline, then the body (the corpus holds the shapes of
 * @octokit/webhooks-examples; tests/data/webhook/generate.js writes it).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "org/org_input.h"
#include "service/service_webhook.h"
#include "util/ga_log.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct org_input *
small_org(void)
{
	struct org_input *input = org_input_new();
	struct org_input_team *team;
	struct org_input_repository *repository;

	input->organization = ga_strdup("acme");
	input->synced_at = 1;
	org_input_add_member(input, "bob", 102, false);
	org_input_add_member(input, "Codertocat", 21031067, true);
	team = org_input_add_team(input, 201, "platform", "Platform", NULL);
	org_input_team_add_member(team, "bob");
	org_input_team_add_repository(team, "core-lib", ORG_LEVEL_WRITE);
	repository = org_input_add_repository(input, 301, "core-lib", false, false);
	repository->collaborators_known = true;
	org_input_repository_add_collaborator(repository, "bob", ORG_LEVEL_ADMIN);
	return input;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct org_input *input;
	const uint8_t *newline = memchr(data, '\n', size);
	char event[64];
	size_t event_len;
	const char *body;
	size_t body_len;
	struct service_webhook_event classified;
	struct service_webhook_revocations *revocations;
	struct service_webhook_replay *replay;
	struct org_input *patched;

	if (input == NULL) {
		ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
		input = small_org();
	}
	if (newline == NULL)
		return 0;
	event_len = (size_t)(newline - data);
	if (event_len >= sizeof(event))
		event_len = sizeof(event) - 1;
	memcpy(event, data, event_len);
	event[event_len] = '\0';
	body = (const char *)newline + 1;
	body_len = size - (size_t)(newline + 1 - data);

	/* The signature check reads the raw bytes, whatever they are. */
	(void)service_webhook_verify_signature("secret", 6, body, body_len, event);
	replay = service_webhook_replay_create(4, 60);
	(void)service_webhook_replay_check(replay, event, 10);
	(void)service_webhook_replay_check(replay, event, 11);
	service_webhook_replay_destroy(replay);

	if (service_webhook_classify(event, body, body_len, "acme", &classified, NULL) != GA_OK)
		return 0;
	revocations = service_webhook_revocations_create();
	service_webhook_revocations_add(revocations, &classified.removal, 5);
	if (classified.added_login[0] != '\0')
		service_webhook_revocations_forget_member(revocations, classified.added_login);
	patched = service_webhook_revocations_apply(revocations, input);
	org_input_free(patched);
	service_webhook_revocations_destroy(revocations);
	return 0;
}
