/*
 * oidc_token.h - the upload tokens that trusted publishing mints.
 *
 * A minted token is stateless, so that every instance that shares the key
 * of [trusted_publishing] key_file accepts it without shared storage (a CI
 * job behind a load balancer may mint on one instance and upload through
 * another):
 *
 *   gatp1.<base64url(payload)>.<base64url(MAC)>
 *   payload = {"v":1,"o":ORG_ID,"r":REPOSITORY_ID,"p":PACKAGE_DIGEST,"n":NAME,
 *              "iat":T,"exp":T,"w":WORKFLOW,"ref":REF,"run":RUN_ID,"a":ACTOR}  (JSON)
 *   MAC     = HMAC-SHA256(HMAC-SHA256(key, "ghaccess:v1:trusted-publishing"),
 *                         "gatp1." ‖ base64url(payload))
 *
 * The MAC is checked (in constant time) before anything else is read.  A
 * token says which repository (by GitHub's numeric id) minted it, for
 * which organization and which package (p: oidc_token_package_digest of
 * the package name the repository owned), until when; what it may do is
 * decided at each use from the current snapshot (oidc_scope.h), never from
 * the token alone, and it is refused once the repository no longer owns
 * that package.
 * n, w, ref, run and a are there for the audit lines only (cut to their
 * bounds below; a cut value is never used for a decision).
 *
 * Pure functions over their arguments: thread-safe.  The token is a
 * secret: never log it.
 */
#ifndef OIDC_TOKEN_H
#define OIDC_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define OIDC_TOKEN_PREFIX "gatp1."
/* Room for the longest token (the bounds below keep it under 900). */
#define OIDC_TOKEN_MAX 1024

/* What a minted token says (bounded strings, NUL-terminated). */
struct oidc_publisher {
	long long organization_id;
	long long repository_id;
	long long issued_at;
	long long expires_at;
	char package_digest[33];	/* oidc_token_package_digest() at mint time */
	char repository[101];	/* name without the owner, at mint time */
	char workflow[201];	/* job_workflow_ref */
	char ref[129];
	char run_id[24];
	char actor[40];
};

enum oidc_token_status {
	OIDC_TOKEN_OK = 0,
	OIDC_TOKEN_MALFORMED,	/* not a minted token at all */
	OIDC_TOKEN_BAD_MAC,	/* another key (another installation), or altered */
	OIDC_TOKEN_EXPIRED,
	OIDC_TOKEN_NOT_YET_VALID,	/* issued more than the skew in the future */
};

/* Seconds a token issued by an instance whose clock runs ahead is still
 * accepted early. */
#define OIDC_TOKEN_SKEW 60

/* true when text starts like a minted token (cheap, no secret involved). */
bool oidc_token_looks_minted(const char *text);

/* Write the token for publisher under key (NUL-terminated secret) into
 * out.  false only when it would not fit (cannot happen within the bounds). */
bool oidc_token_mint(const char *key, const struct oidc_publisher *publisher,
		     char out[OIDC_TOKEN_MAX]);

/* Check token at Unix time now; on OK *out says what it holds. */
enum oidc_token_status oidc_token_verify(const char *key, const char *token, long long now,
					 struct oidc_publisher *out);

/*
 * Copy text into an audit field of a publisher (size bytes, NUL included):
 * cut at a UTF-8 character boundary, and with '"', '\\' and control
 * characters replaced by '?', so that the token's JSON never grows past
 * its bound by escaping.  The fields are for the audit lines only.
 */
void oidc_token_audit_copy(char *out, size_t size, const char *text);

/* The first 16 bytes of SHA-256 of a package key, in hex (out: 33 bytes):
 * how a token names its package in a few bytes. */
void oidc_token_package_digest(const char *package_key, char out[33]);

/* "ok", "malformed", "bad signature", "expired", "not yet valid". */
const char *oidc_token_status_name(enum oidc_token_status status);

#endif
