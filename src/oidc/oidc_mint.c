/* oidc_mint.c - ID token checks and the minting of upload tokens; see oidc_mint.h. */
#include "oidc/oidc_mint.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "oidc/oidc_json.h"
#include "oidc/oidc_jwt.h"
#include "oidc/oidc_scope.h"

/* The claims of a verified token that the checks use (bounded copies). */
struct claims {
	char repository[256];		/* OWNER/NAME */
	long long repository_id;
	long long owner_id;
	char ref[256];
	char workflow[512];		/* job_workflow_ref */
	char event_name[64];
	char environment[256];
	bool has_environment;
	char run_id[24];
	char actor[64];
	char jti[OIDC_JTI_MAX];		/* GitHub's is a UUID */
	long long exp;
};

static void __attribute__((format(printf, 3, 4)))
add_error(struct oidc_mint_result *result, const char *code, const char *fmt, ...)
{
	struct oidc_error *error;
	va_list ap;

	if (result->error_count >= OIDC_ERRORS_MAX)
		return;
	error = &result->errors[result->error_count++];
	error->code = code;
	va_start(ap, fmt);
	vsnprintf(error->description, sizeof(error->description), fmt, ap);
	va_end(ap);
	if (result->status == OIDC_MINT_OK)
		result->status = OIDC_MINT_REFUSED;
}

static void __attribute__((format(printf, 3, 4)))
unavailable(struct oidc_mint_result *result, const char *code, const char *fmt, ...)
{
	struct oidc_error *error = &result->errors[0];
	va_list ap;

	result->status = OIDC_MINT_UNAVAILABLE;
	result->error_count = 1;
	error->code = code;
	va_start(ap, fmt);
	vsnprintf(error->description, sizeof(error->description), fmt, ap);
	va_end(ap);
}

/* GitHub sends ids as decimal strings ("repository_id": "74"); a JSON
 * integer is accepted too. */
static bool
id_claim(json_t *claims, const char *name, long long *out)
{
	json_t *value = json_object_get(claims, name);
	const char *text;
	long long number = 0;

	if (json_is_integer(value) && json_integer_value(value) > 0) {
		*out = json_integer_value(value);
		return true;
	}
	if (!json_is_string(value) || json_string_length(value) == 0 ||
	    json_string_length(value) > 18)
		return false;
	text = json_string_value(value);
	for (size_t i = 0; i < json_string_length(value); i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		number = number * 10 + (text[i] - '0');
	}
	*out = number;
	return number > 0;
}

static bool
time_claim(json_t *claims, const char *name, long long *out)
{
	json_t *value = json_object_get(claims, name);

	if (!json_is_integer(value))
		return false;
	*out = json_integer_value(value);
	return true;
}

/* aud is the audience, or an array that holds it (RFC 7519 section 4.1.3). */
static bool
audience_matches(json_t *aud, const char *audience)
{
	json_t *item;
	size_t i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), audience) == 0;
	if (!json_is_array(aud))
		return false;
	json_array_foreach(aud, i, item)
		if (json_is_string(item) && strcmp(json_string_value(item), audience) == 0)
			return true;
	return false;
}

/* Step 5: time, audience, the claims GitHub always sends. */
static bool
check_claims(json_t *json, const struct oidc_mint_input *input, struct claims *claims,
	     struct oidc_mint_result *result)
{
	static const char *const required[] = { "repository", "repository_id",
						"repository_owner_id", "ref", "job_workflow_ref",
						"event_name", "run_id", "actor", "jti" };
	long long exp = 0, iat = 0, nbf = 0;
	json_t *environment = json_object_get(json, "environment");

	if (!time_claim(json, "exp", &exp) || !time_claim(json, "iat", &iat))
		add_error(result, "missing-claim", "the token has no exp or iat (seconds)");
	else if (exp < input->now - OIDC_MINT_SKEW)	/* exp + skew could overflow */
		add_error(result, "expired-token", "the token expired %llu seconds ago: request a new one",
			  (unsigned long long)input->now - (unsigned long long)exp);
	else if (iat > input->now + OIDC_MINT_SKEW ||
		 (time_claim(json, "nbf", &nbf) && nbf > input->now + OIDC_MINT_SKEW))
		add_error(result, "token-not-yet-valid",
			  "the token is not valid yet (nbf or iat in the future: is a clock wrong?)");
	if (result->error_count > 0)
		return false;
	claims->exp = exp;
	if (!audience_matches(json_object_get(json, "aud"), input->config->tp_audience)) {
		add_error(result, "invalid-audience",
			  "the token's audience (aud) is not %s: request the ID token with the "
			  "audience that GET /_/oidc/audience names", input->config->tp_audience);
		return false;
	}
	if (!oidc_json_string(json, "repository", claims->repository, sizeof(claims->repository)) ||
	    !id_claim(json, "repository_id", &claims->repository_id) ||
	    !id_claim(json, "repository_owner_id", &claims->owner_id) ||
	    !oidc_json_string(json, "ref", claims->ref, sizeof(claims->ref)) ||
	    !oidc_json_string(json, "job_workflow_ref", claims->workflow, sizeof(claims->workflow)) ||
	    !oidc_json_string(json, "event_name", claims->event_name, sizeof(claims->event_name)) ||
	    !oidc_json_string(json, "run_id", claims->run_id, sizeof(claims->run_id)) ||
	    !oidc_json_string(json, "actor", claims->actor, sizeof(claims->actor)) ||
	    !oidc_json_string(json, "jti", claims->jti, sizeof(claims->jti)) ||
	    claims->jti[0] == '\0') {
		char names[200] = "";

		for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
			if (!json_is_string(json_object_get(json, required[i])))
				snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
					 names[0] ? ", " : "", required[i]);
		add_error(result, "missing-claim",
			  "the token lacks claims GitHub Actions always sends, or holds them in "
			  "another form: %s", names[0] ? names : "(a value is empty or too long)");
		return false;
	}
	if (environment != NULL && !json_is_null(environment)) {
		if (!oidc_json_string(json, "environment", claims->environment,
				  sizeof(claims->environment))) {
			add_error(result, "missing-claim", "the environment claim is not a string");
			return false;
		}
		claims->has_environment = true;
	}
	return true;
}

static bool
list_matches(const struct config_list *list, const char *value, bool patterns)
{
	for (size_t i = 0; i < list->count; i++)
		if (patterns ? fnmatch(list->items[i], value, 0) == 0
			     : strcmp(list->items[i], value) == 0)
			return true;
	return false;
}

/* ".github/workflows/FILE" is that file of the publishing repository itself,
 * at any ref; anything else is a pattern over the whole job_workflow_ref. */
static bool
workflow_allowed(const struct config_list *list, const struct claims *claims)
{
	static const char local[] = ".github/workflows/";
	size_t repository_len = strlen(claims->repository);

	for (size_t i = 0; i < list->count; i++) {
		const char *item = list->items[i];
		size_t item_len = strlen(item);

		if (strncmp(item, local, sizeof(local) - 1) != 0) {
			if (fnmatch(item, claims->workflow, 0) == 0)
				return true;
			continue;
		}
		if (strncmp(claims->workflow, claims->repository, repository_len) == 0 &&
		    claims->workflow[repository_len] == '/' &&
		    strncmp(claims->workflow + repository_len + 1, item, item_len) == 0 &&
		    claims->workflow[repository_len + 1 + item_len] == '@')
			return true;
	}
	return false;
}

static bool
environment_allowed(const struct config_list *list, const struct claims *claims)
{
	/* GitHub's environment names are not case sensitive. */
	for (size_t i = 0; claims->has_environment && i < list->count; i++)
		if (strcasecmp(list->items[i], claims->environment) == 0)
			return true;
	return false;
}

/* Step 7: each restriction that fails is one error naming its claim. */
static void
check_restrictions(const struct config *config, const struct claims *claims,
		   struct oidc_mint_result *result)
{
	if (config->tp_allowed_refs.count > 0 &&
	    !list_matches(&config->tp_allowed_refs, claims->ref, true))
		add_error(result, "ref-not-allowed",
			  "claim ref: %s is not allowed to publish (allowed_refs of the index)",
			  claims->ref);
	if (config->tp_allowed_environments.count > 0 && !environment_allowed(
		    &config->tp_allowed_environments, claims))
		add_error(result, "environment-not-allowed",
			  "claim environment: %s%s%s: the job must run in one of the environments "
			  "the index allows (allowed_environments)",
			  claims->has_environment ? "\"" : "",
			  claims->has_environment ? claims->environment : "none",
			  claims->has_environment ? "\"" : "");
	if (config->tp_allowed_workflows.count > 0 &&
	    !workflow_allowed(&config->tp_allowed_workflows, claims))
		add_error(result, "workflow-not-allowed",
			  "claim job_workflow_ref: %s is not a workflow the index allows to publish "
			  "(allowed_workflows)", claims->workflow);
	if (config->tp_allowed_events.count > 0 &&
	    !list_matches(&config->tp_allowed_events, claims->event_name, false))
		add_error(result, "event-not-allowed",
			  "claim event_name: %s may not publish (allowed_events)", claims->event_name);
}

static const char *
standing_code(enum oidc_standing standing)
{
	switch (standing) {
	case OIDC_STANDING_OK:
		return "ok";
	case OIDC_STANDING_NO_ORGANIZATION_ID:
		return "organization-unknown";
	case OIDC_STANDING_WRONG_ORGANIZATION:
		return "wrong-organization";
	case OIDC_STANDING_UNKNOWN_REPOSITORY:
		return "unknown-repository";
	case OIDC_STANDING_ID_MISMATCH:
		return "repository-id-mismatch";
	case OIDC_STANDING_ARCHIVED:
		return "repository-archived";
	case OIDC_STANDING_DISABLED:
		return "repository-disabled";
	case OIDC_STANDING_NO_PACKAGE:
		return "no-package";
	}
	return "invalid-publisher";
}

static void
fill_publisher(const struct oidc_mint_input *input, const struct claims *claims,
	       struct oidc_mint_result *result)
{
	struct oidc_publisher *publisher = &result->publisher;
	const char *slash = strchr(claims->repository, '/');

	publisher->organization_id = claims->owner_id;
	publisher->repository_id = claims->repository_id;
	publisher->issued_at = input->now;
	publisher->expires_at = input->now + input->config->tp_token_lifetime;
	oidc_token_audit_copy(publisher->repository, sizeof(publisher->repository),
		 slash != NULL ? slash + 1 : claims->repository);
	oidc_token_audit_copy(publisher->workflow, sizeof(publisher->workflow), claims->workflow);
	oidc_token_audit_copy(publisher->ref, sizeof(publisher->ref), claims->ref);
	oidc_token_audit_copy(publisher->run_id, sizeof(publisher->run_id), claims->run_id);
	oidc_token_audit_copy(publisher->actor, sizeof(publisher->actor), claims->actor);
	oidc_token_audit_copy(result->environment, sizeof(result->environment),
			      claims->has_environment ? claims->environment : "");
	oidc_token_audit_copy(result->event_name, sizeof(result->event_name), claims->event_name);
}

/*
 * Step 8: the token's jti, claimed once for as long as the token could be
 * accepted (exp + OIDC_MINT_SKEW), in this process and, with [cache]
 * backend = memcache, in memcached for every instance (cache_claim_once).
 * Only a token that passed every other check gets here, so a refused token
 * does not use up its jti.
 */
static void
claim_jti(const struct oidc_mint_input *input, const struct claims *claims,
	  struct oidc_mint_result *result)
{
	long long until = claims->exp > LLONG_MAX - OIDC_MINT_SKEW ? LLONG_MAX
								   : claims->exp + OIDC_MINT_SKEW;

	switch (cache_claim_once(input->cache, input->config->tp_issuer, claims->jti,
				 strlen(claims->jti), until, input->now)) {
	case CACHE_ONCE_FIRST:
		return;
	case CACHE_ONCE_FIRST_LOCAL:
		result->jti_local_only = true;
		return;
	case CACHE_ONCE_USED:
		/* warehouse's code and description (warehouse/oidc/views.py). */
		add_error(result, "invalid-reuse-token",
			  "invalid token: already used (an ID token is exchanged once; request "
			  "a new one)");
		return;
	case CACHE_ONCE_FULL:
		unavailable(result, "replay-check-full",
			    "the index remembers too many ID tokens used in the last minutes to "
			    "accept another one now; try again in a minute");
		return;
	}
	unavailable(result, "internal-error", "the token's jti could not be checked");
}

/* Steps 1-4: a well-formed token from the issuer with a good signature. */
static bool
verify_token(const struct oidc_mint_input *input, struct oidc_jwt *jwt,
	     struct oidc_mint_result *result)
{
	char problem[160];
	json_t *iss;
	EVP_PKEY *key = NULL;
	struct ga_err err;
	enum oidc_key_result found;
	bool ok;

	if (!oidc_jwt_parse(input->token, input->token_len, jwt, problem, sizeof(problem))) {
		add_error(result, "invalid-payload", "malformed ID token: %s", problem);
		return false;
	}
	iss = json_object_get(jwt->claims, "iss");
	if (!json_is_string(iss) || strcmp(json_string_value(iss), input->config->tp_issuer) != 0) {
		add_error(result, "invalid-issuer",
			  "the token's issuer (iss) is not %s, the issuer this index trusts",
			  input->config->tp_issuer);
		return false;
	}
	ga_err_clear(&err);
	found = oidc_keys_get(input->keys, input->fetcher, input->config->tp_issuer, jwt->kid,
			      input->now, &key, &err);
	if (found == OIDC_KEY_UNAVAILABLE) {
		unavailable(result, "issuer-unavailable",
			    "cannot read the signing keys of %s right now; try again in a minute",
			    input->config->tp_issuer);
		return false;
	}
	if (found == OIDC_KEY_UNKNOWN) {
		add_error(result, "unknown-signing-key",
			  "the token was signed with a key (kid) that %s does not publish",
			  input->config->tp_issuer);
		return false;
	}
	ok = oidc_jwt_verify(jwt, key);
	EVP_PKEY_free(key);
	if (!ok)
		add_error(result, "invalid-signature",
			  "the token's signature does not verify with the issuer's key");
	return ok;
}

void
oidc_mint(const struct oidc_mint_input *input, struct oidc_mint_result *result)
{
	struct oidc_jwt jwt;
	struct claims claims;
	struct oidc_repository repository;
	enum oidc_standing standing;
	const char *slash;
	char why[OIDC_DESCRIPTION_MAX];

	memset(result, 0, sizeof(*result));
	memset(&claims, 0, sizeof(claims));
	result->status = OIDC_MINT_OK;
	if (!verify_token(input, &jwt, result)) {
		oidc_jwt_free(&jwt);
		return;
	}
	if (!check_claims(jwt.claims, input, &claims, result)) {
		oidc_jwt_free(&jwt);
		return;
	}
	oidc_jwt_free(&jwt);
	fill_publisher(input, &claims, result);
	if (input->snapshot == NULL) {
		unavailable(result, "unavailable",
			    "the index cannot check repositories right now; try again in a minute");
		return;
	}
	slash = strchr(claims.repository, '/');
	standing = oidc_repository_standing(input->snapshot, claims.owner_id,
					    claims.repository_id, slash ? slash + 1 : NULL,
					    &repository, why, sizeof(why));
	if (standing == OIDC_STANDING_NO_ORGANIZATION_ID) {
		unavailable(result, standing_code(standing), "%s", why);
		return;
	}
	if (standing != OIDC_STANDING_OK)
		add_error(result, standing_code(standing), "%s", why);
	else {
		result->package = repository.package_key;
		oidc_token_package_digest(repository.package_key, result->publisher.package_digest);
	}
	check_restrictions(input->config, &claims, result);
	if (result->status != OIDC_MINT_OK)
		return;
	claim_jti(input, &claims, result);
	if (result->status != OIDC_MINT_OK)
		return;
	if (!oidc_token_mint(input->config->tp_key, &result->publisher, result->token)) {
		unavailable(result, "internal-error", "the upload token could not be built");
		return;
	}
}

void
oidc_mint_result_wipe(struct oidc_mint_result *result)
{
	OPENSSL_cleanse(result->token, sizeof(result->token));
}
