/*
 * fuzz_webhook.c - a webhook delivery as POST /webhook handles it after the
 * HTTP layer: signature check, classification of any payload, and the
 * removal or downgrade it names applied to an organization.  Contracts: an
 * event out of the organization's scope changes nothing; what is applied
 * only ever takes away.  Input: the X-GitHub-Event value, a newline, then
 * the body (the corpus holds the shapes of @octokit/webhooks-examples;
 * tests/data/webhook/generate.js writes it).  The body as it streams in is
 * fuzz_webhook_body.c's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
	team = org_input_add_team(input, 202, "platform-infra", "Platform Infra", "platform");
	org_input_team_add_member(team, "carol");
	repository = org_input_add_repository(input, 301, "core-lib", false, false);
	repository->collaborators_known = true;
	org_input_repository_add_collaborator(repository, "bob", ORG_LEVEL_ADMIN);
	return input;
}

static enum org_level
grant_of(const struct org_input_grant *grants, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(grants[i].name, name) == 0)
			return grants[i].level;
	return ORG_LEVEL_NONE;
}

/* What a delivery applies only ever takes away: no member, team, grant or
 * parent that the data did not hold, no grant higher, nothing unarchived. */
static void
check_only_lowers(const struct org_input *input, const struct org_input *patched)
{
	if (patched == NULL)
		return;
	if (patched->member_count > input->member_count ||
	    patched->team_count > input->team_count ||
	    patched->repository_count > input->repository_count)
		abort();
	for (size_t t = 0; t < patched->team_count; t++) {
		const struct org_input_team *to = &patched->teams[t];
		const struct org_input_team *from = NULL;

		for (size_t f = 0; f < input->team_count; f++)
			if (strcmp(input->teams[f].slug, to->slug) == 0)
				from = &input->teams[f];
		if (from == NULL || to->member_count > from->member_count ||
		    (to->parent_slug != NULL &&
		     (from->parent_slug == NULL || strcmp(to->parent_slug, from->parent_slug) != 0)))
			abort();
		for (size_t r = 0; r < to->repository_count; r++)
			if (to->repositories[r].level >
			    grant_of(from->repositories, from->repository_count,
				     to->repositories[r].name))
				abort();
	}
	for (size_t r = 0; r < patched->repository_count; r++) {
		const struct org_input_repository *to = &patched->repositories[r];
		const struct org_input_repository *from = NULL;

		for (size_t f = 0; f < input->repository_count; f++)
			if (strcmp(input->repositories[f].name, to->name) == 0)
				from = &input->repositories[f];
		if (from == NULL || (from->archived && !to->archived))
			abort();
		for (size_t c = 0; c < to->collaborator_count; c++)
			if (to->collaborators[c].level >
			    grant_of(from->collaborators, from->collaborator_count,
				     to->collaborators[c].name))
				abort();
	}
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
	/* Another organization's event, or one without any, changes nothing. */
	if (!classified.in_scope &&
	    (classified.refresh || classified.removal.kind != SERVICE_WEBHOOK_REMOVE_NONE))
		abort();
	revocations = service_webhook_revocations_create();
	/* After the data was read (synced_at 1 s): the removal applies. */
	service_webhook_revocations_add(revocations, &classified.removal, 5000);
	patched = service_webhook_revocations_apply(revocations, input);
	check_only_lowers(input, patched);
	org_input_free(patched);
	service_webhook_revocations_destroy(revocations);
	return 0;
}
