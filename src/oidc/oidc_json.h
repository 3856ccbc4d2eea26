/*
 * oidc_json.h - bounded copies out of the JSON objects of trusted
 * publishing (an ID token's claims, a minted token's payload).
 */
#ifndef OIDC_JSON_H
#define OIDC_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Copy the string member name of object into out (size bytes, NUL
 * included); false when it is absent, not a string, holds a NUL, or does
 * not fit. */
bool oidc_json_string(json_t *object, const char *name, char *out, size_t size);

#endif
