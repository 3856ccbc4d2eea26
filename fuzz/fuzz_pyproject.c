/*
 * fuzz_pyproject.c - what the records keep of a pyproject.toml
 * (org_pyproject_kept): a file over 1 kB is kept as a short text, and that
 * text must declare exactly what the whole file declares: the same name, or
 * no name for the same reason; or nothing at all (ORG_PYPROJECT_TRUNCATED)
 * when the whole file declares no name.  A file never gains or loses a name,
 * and nothing kept is over the bound.
 *
 * The input is tried as it is, then behind and in front of 2 kB of valid
 * TOML, so that the short path is taken whatever the input's size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "org/org_input.h"
#include "org/org_package.h"
#include "util/ga_buf.h"
#include "util/ga_xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int condition, const char *what)
{
	if (!condition) {
		fprintf(stderr, "broken: %s\n", what);
		abort();
	}
}

static bool
declares(const char *text, size_t len, enum org_pyproject_state state, char **name,
	 char reason[ORG_REASON_MAX])
{
	struct org_input_repository repository = {
		.pyproject_state = state,
		.pyproject_text = (char *)text,
		.pyproject_length = len,
	};

	return org_pyproject_name(&repository, name, reason);
}

static void
try(const char *text, size_t len)
{
	char *whole_name = NULL, *kept_name = NULL;
	char whole_reason[ORG_REASON_MAX], kept_reason[ORG_REASON_MAX];
	enum org_pyproject_state state;
	size_t kept_len;
	char *kept = org_pyproject_kept(text, len, &kept_len, &state);
	bool whole = declares(text, len, ORG_PYPROJECT_TEXT, &whole_name, whole_reason);
	bool short_one = declares(kept, kept_len, state, &kept_name, kept_reason);

	check(len <= ORG_PYPROJECT_KEEP_MAX ? kept_len == len && memcmp(kept, text, len) == 0
					     : kept_len <= ORG_PYPROJECT_KEEP_MAX,
	      "kept as is when small, short when large");
	check(whole == short_one, "a name gained or lost");
	if (whole)
		check(strcmp(whole_name, kept_name) == 0, "another name");
	else if (state == ORG_PYPROJECT_TEXT)
		check(strcmp(whole_reason, kept_reason) == 0, "another reason");
	else
		check(state == ORG_PYPROJECT_TRUNCATED && kept == NULL, "only truncated is dropped");
	ga_free(whole_name);
	ga_free(kept_name);
	ga_free(kept);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ga_buf filler;
	struct ga_buf padded;

	try((const char *)data, size);
	ga_buf_init(&filler, 0);
	while (filler.len < 2048)
		ga_buf_printf(&filler, "[tool.f%zu]\nk = \"%064zu\"\n", filler.len, filler.len);
	ga_buf_init(&padded, 0);
	ga_buf_append(&padded, data, size);
	ga_buf_append_str(&padded, "\n");
	ga_buf_append(&padded, filler.data, filler.len);
	try(padded.data, padded.len);
	ga_buf_reset(&padded);
	ga_buf_append(&padded, filler.data, filler.len);
	ga_buf_append(&padded, data, size);
	try(padded.data, padded.len);
	ga_buf_free(&padded);
	ga_buf_free(&filler);
	return 0;
}
