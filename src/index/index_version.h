/*
 * index_version.h - PEP 440 version strings: validation and normal form.
 *
 * Upload forms, wheel filenames and sdist filenames spell one version in
 * different ways ("1.0.0-RC1", "1.0.0rc1", "1.0.0_rc1" in a wheel, where '-'
 * is not allowed).  The built-in index compares them by their PEP 440
 * normal form, computed with the regular expression of the `packaging`
 * library (PCRE2, compiled once).
 *
 * Pure functions, thread-safe (the compiled pattern is immutable after the
 * first call; each call uses its own match data), no allocation visible to
 * the caller.
 */
#ifndef INDEX_VERSION_H
#define INDEX_VERSION_H

#include <stdbool.h>
#include <stddef.h>

/* Longest version accepted anywhere (a form field or a filename part). */
#define INDEX_VERSION_MAX 128

/* Room for the normal form of any accepted version. */
#define INDEX_VERSION_NORMAL_MAX (2 * INDEX_VERSION_MAX + 32)

/* true when version (len bytes, need not be NUL-terminated) is a valid
 * PEP 440 version of at most INDEX_VERSION_MAX bytes.  No surrounding
 * white space is accepted (PEP 440 allows it; filenames and our forms never
 * need it). */
bool index_version_is_valid(const char *version, size_t len);

/*
 * Write the PEP 440 normal form of version into out (as str(Version(v)):
 * "1.0.0-RC1" -> "1.0.0rc1", "v1.0-1" -> "1.0.post1", "1.0+Ubuntu_1" ->
 * "1.0+ubuntu.1").  With strip_trailing_zeros, zero release components at
 * the end are dropped ("1.0.0" -> "1"): two versions are equal under PEP 440
 * exactly when these keys are equal.  Returns false (out = "") for an
 * invalid version.
 */
bool index_version_normalize(const char *version, size_t len, bool strip_trailing_zeros,
			     char out[INDEX_VERSION_NORMAL_MAX]);

/* true when a and b are valid and equal under PEP 440 ("1.0" == "1.0.0"). */
bool index_version_equal(const char *a, size_t a_len, const char *b, size_t b_len);

/*
 * PEP 440 ordering (packaging's Version comparison): negative, 0 or
 * positive as a is older than, equal to or newer than b, e.g. 1.0.dev0 <
 * 1.0a1 < 1.0rc1 < 1.0 < 1.0+local < 1.0.post1 < 1.1.  Numbers of any
 * length compare by value.  An invalid version sorts before every valid
 * one (two invalid ones compare equal).
 */
int index_version_compare(const char *a, const char *b);

/* true when version is valid and a pre-release or development release. */
bool index_version_is_prerelease(const char *version);

#endif
