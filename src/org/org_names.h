/*
 * org_names.h - names: PEP 503 package keys, PEP 508 project names, GitHub
 * logins, and the repository filters of the configuration.
 *
 * Pure functions, thread-safe, no allocation unless stated.
 */
#ifndef ORG_NAMES_H
#define ORG_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Longest package key we accept from a request (longer: unknown package). */
#define ORG_PACKAGE_NAME_MAX 256

/*
 * PEP 503 normalisation: lower case, each run of '-', '_' and '.' becomes a
 * single '-'.  Writes at most out_size bytes including the NUL; returns false
 * (and writes "") when the result would not fit.
 */
bool org_normalize_package(const char *name, size_t name_len, char *out, size_t out_size);

/* PEP 508 project name: ^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$, any case. */
bool org_is_valid_project_name(const char *name, size_t len);

/* GitHub login: letters, digits, single hyphens, no leading/trailing hyphen,
 * 1 to 39 characters. */
bool org_is_valid_login(const char *login, size_t len);

/* A presented token: 1 to 255 printable, non-space ASCII characters. */
bool org_is_valid_token(const char *token, size_t len);

#endif
