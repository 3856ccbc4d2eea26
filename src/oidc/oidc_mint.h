/*
 * oidc_mint.h - the exchange of a GitHub Actions ID token for an upload
 * token: PyPI's trusted publishing protocol (POST /_/oidc/mint-token),
 * with ghaccess's rules for who may publish what.
 *
 * In this order (the first failure of 1-5 ends the check, 6-8 are all
 * reported, so that the CI log names every claim that failed):
 *   1. the token is a JWT signed with RS256 and names a key id;
 *   2. its iss is exactly [trusted_publishing] issuer (before any fetch);
 *   3. the issuer's key set (oidc_keys.h) holds that kid, and 4. the
 *      signature verifies with it;
 *   5. exp, nbf and iat hold within OIDC_MINT_SKEW seconds, aud is (or
 *      holds) [trusted_publishing] audience, and the claims GitHub always
 *      sends are there (repository, repository_id, repository_owner_id,
 *      ref, job_workflow_ref, event_name, run_id, actor, jti);
 *   6. repository_owner_id is the organization's id and the repository
 *      (by repository_id) stands in the snapshot (oidc_scope.h);
 *   7. the organization-wide restrictions: ref matches allowed_refs,
 *      environment is one of allowed_environments, job_workflow_ref matches
 *      allowed_workflows, event_name is one of allowed_events;
 *   8. when 6 and 7 hold: the jti was never exchanged before, here nor
 *      (memcache) on an instance sharing memcached: it is claimed until
 *      exp + OIDC_MINT_SKEW (cache_claim_once), so that a leaked ID token
 *      cannot be exchanged a second time (invalid-reuse-token, as PyPI's
 *      warehouse answers).  When this instance remembers too many claims,
 *      OIDC_MINT_UNAVAILABLE (replay-check-full); when memcached could not
 *      take the claim, the mint goes on with this instance's claim only
 *      (jti_local_only: see docs/internals/oidc.md for why).
 * Each refusal is an error with its own code (the table in
 * docs/production.md) and a description for the person reading the CI
 * log; GitHub's claims are public to that person, nothing secret is said.
 *
 * Thread-safe; blocks only when the key set must be fetched, and for the
 * memcached call of the jti's claim (bounded: 200 ms).
 */
#ifndef OIDC_MINT_H
#define OIDC_MINT_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/cache.h"
#include "config/config.h"
#include "oidc/oidc_keys.h"
#include "oidc/oidc_token.h"
#include "org/org_snapshot.h"

/* Clock skew tolerated on exp, nbf and iat. */
#define OIDC_MINT_SKEW 60
#define OIDC_ERRORS_MAX 8
#define OIDC_DESCRIPTION_MAX 320
/* The longest jti accepted (GitHub's is a 36-character UUID). */
#define OIDC_JTI_MAX 256

struct oidc_error {
	const char *code;			/* static, e.g. "invalid-signature" */
	char description[OIDC_DESCRIPTION_MAX];
};

enum oidc_mint_status {
	OIDC_MINT_OK = 0,
	OIDC_MINT_REFUSED,	/* 422: errors say why */
	OIDC_MINT_UNAVAILABLE,	/* 503: the keys or the snapshot are missing; try again */
};

struct oidc_mint_input {
	const char *token;		/* the ID token (a secret while valid) */
	size_t token_len;
	long long now;			/* Unix time */
	const struct config *config;
	const struct org_snapshot *snapshot;	/* NULL: no usable snapshot */
	struct oidc_keys *keys;
	const struct oidc_fetcher *fetcher;
	struct cache *cache;		/* remembers used jtis (cache_claim_once) */
};

struct oidc_mint_result {
	enum oidc_mint_status status;
	struct oidc_error errors[OIDC_ERRORS_MAX];
	size_t error_count;
	/* What the verified claims say (for the audit line; empty when the
	 * token did not verify), and on OK what the minted token holds. */
	struct oidc_publisher publisher;
	char environment[64];
	char event_name[32];
	const char *package;		/* on OK: the package key (borrowed from the snapshot) */
	bool jti_local_only;		/* on OK: memcached did not take the jti's claim */
	char token[OIDC_TOKEN_MAX];	/* on OK: the upload token (a secret) */
};

/* Decide and, when every check holds, mint (result->token). */
void oidc_mint(const struct oidc_mint_input *input, struct oidc_mint_result *result);

/* Wipe the minted token once it is sent. */
void oidc_mint_result_wipe(struct oidc_mint_result *result);

#endif
