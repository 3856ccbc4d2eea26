/* index_version.c - PEP 440 validation and normal form; see index_version.h. */
#include "index/index_version.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/ga_log.h"

/*
 * The pattern of packaging.version.VERSION_PATTERN, without the white space
 * it tolerates.  Groups: 1 epoch, 2 release, 3 pre letter, 4 pre number,
 * 5 implicit post number ("1.0-1"), 6 post letter, 7 post number, 8 dev
 * letter, 9 dev number, 10 local.
 */
static const char version_pattern[] =
	"v?"
	"(?:([0-9]+)!)?"
	"([0-9]+(?:\\.[0-9]+)*)"
	"(?:[-_.]?(alpha|beta|preview|pre|a|b|c|rc)[-_.]?([0-9]+)?)?"
	"(?:-([0-9]+)|[-_.]?(post|rev|r)[-_.]?([0-9]+)?)?"
	"(?:[-_.]?(dev)[-_.]?([0-9]+)?)?"
	"(?:\\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?";

enum {
	GROUP_EPOCH = 1,
	GROUP_RELEASE,
	GROUP_PRE_LETTER,
	GROUP_PRE_NUMBER,
	GROUP_POST_IMPLICIT,
	GROUP_POST_LETTER,
	GROUP_POST_NUMBER,
	GROUP_DEV_LETTER,
	GROUP_DEV_NUMBER,
	GROUP_LOCAL,
	GROUP_COUNT,
};

static pthread_once_t compile_once = PTHREAD_ONCE_INIT;
static pcre2_code *compiled;	/* immutable once compiled; never freed */

static void
compile_pattern(void)
{
	int code;
	PCRE2_SIZE offset;

	compiled = pcre2_compile((PCRE2_SPTR)version_pattern, PCRE2_ZERO_TERMINATED,
				 PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_CASELESS, &code,
				 &offset, NULL);
	if (compiled == NULL) {
		/* A constant pattern: only a broken PCRE2 gets here. */
		ga_logf(GA_LOG_ERROR, "PEP 440 pattern does not compile (PCRE2 error %d)", code);
		abort();
	}
}

/* Offsets of each group of one match; start == PCRE2_UNSET when unset. */
struct version_groups {
	PCRE2_SIZE start[GROUP_COUNT];
	PCRE2_SIZE end[GROUP_COUNT];
};

static bool
match_version(const char *version, size_t len, struct version_groups *groups)
{
	pcre2_match_data *match;
	PCRE2_SIZE *ovector;
	int rc;

	if (len == 0 || len > INDEX_VERSION_MAX || memchr(version, '\0', len) != NULL)
		return false;
	pthread_once(&compile_once, compile_pattern);
	match = pcre2_match_data_create(GROUP_COUNT, NULL);
	if (match == NULL)
		return false;
	rc = pcre2_match(compiled, (PCRE2_SPTR)version, len, 0, 0, match, NULL);
	if (rc > 0) {
		ovector = pcre2_get_ovector_pointer(match);
		for (int i = 0; i < GROUP_COUNT; i++) {
			groups->start[i] = i < rc ? ovector[2 * i] : PCRE2_UNSET;
			groups->end[i] = i < rc ? ovector[2 * i + 1] : PCRE2_UNSET;
		}
	}
	pcre2_match_data_free(match);
	return rc > 0;
}

bool
index_version_is_valid(const char *version, size_t len)
{
	struct version_groups groups;

	return match_version(version, len, &groups);
}

/* A bounded string builder over the caller's output array. */
struct builder {
	char *out;
	size_t used;
	size_t size;
	bool overflow;
};

static void
put_char(struct builder *b, char c)
{
	if (b->used + 1 >= b->size) {
		b->overflow = true;
		return;
	}
	b->out[b->used++] = c;
	b->out[b->used] = '\0';
}

static void
put_text(struct builder *b, const char *text)
{
	while (*text != '\0')
		put_char(b, *text++);
}

/* A decimal number without its leading zeros ("007" -> "7", "000" -> "0"). */
static void
put_number(struct builder *b, const char *digits, size_t len)
{
	while (len > 1 && digits[0] == '0') {
		digits++;
		len--;
	}
	for (size_t i = 0; i < len; i++)
		put_char(b, digits[i]);
}

static bool
group_set(const struct version_groups *groups, int group)
{
	return groups->start[group] != PCRE2_UNSET;
}

static void
put_group_number(struct builder *b, const char *version, const struct version_groups *groups,
		 int group)
{
	if (group_set(groups, group))
		put_number(b, version + groups->start[group],
			   groups->end[group] - groups->start[group]);
	else
		put_char(b, '0');	/* "1.0rc" means rc0, "1.0.post" post0 */
}

static bool
number_is_zero(const char *digits, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (digits[i] != '0')
			return false;
	return true;
}

/* The release segment, each component without leading zeros and, when
 * asked, without the zero components at the end (keeping the first). */
static void
put_release(struct builder *b, const char *release, size_t len, bool strip_trailing_zeros)
{
	size_t keep = len;

	if (strip_trailing_zeros) {
		for (;;) {
			const char *dot = memrchr(release, '.', keep);

			if (dot == NULL)
				break;
			if (!number_is_zero(dot + 1, keep - (size_t)(dot + 1 - release)))
				break;
			keep = (size_t)(dot - release);
		}
	}
	for (size_t start = 0; start < keep;) {
		const char *dot = memchr(release + start, '.', keep - start);
		size_t end = dot != NULL ? (size_t)(dot - release) : keep;

		if (start > 0)
			put_char(b, '.');
		put_number(b, release + start, end - start);
		start = end + 1;
	}
}

static void
put_pre(struct builder *b, const char *version, const struct version_groups *groups)
{
	char letter = (char)(version[groups->start[GROUP_PRE_LETTER]] | 0x20);
	size_t letter_len = groups->end[GROUP_PRE_LETTER] - groups->start[GROUP_PRE_LETTER];

	/* alpha -> a, beta -> b, c / pre / preview / rc -> rc. */
	if (letter == 'a')
		put_char(b, 'a');
	else if (letter == 'b')
		put_char(b, 'b');
	else if (letter == 'c' || letter == 'p' || (letter == 'r' && letter_len == 2))
		put_text(b, "rc");
	put_group_number(b, version, groups, GROUP_PRE_NUMBER);
}

/* Local label: lower case, '-' and '_' become '.', numeric parts lose
 * their leading zeros (packaging turns them into integers). */
static void
put_local(struct builder *b, const char *local, size_t len)
{
	size_t start = 0;

	put_char(b, '+');
	while (start < len) {
		size_t end = start;
		bool numeric = true;

		while (end < len && local[end] != '.' && local[end] != '-' && local[end] != '_') {
			if (local[end] < '0' || local[end] > '9')
				numeric = false;
			end++;
		}
		if (start > 0)
			put_char(b, '.');
		if (numeric) {
			put_number(b, local + start, end - start);
		} else {
			for (size_t i = start; i < end; i++) {
				char c = local[i];

				put_char(b, (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c);
			}
		}
		start = end + 1;
	}
}

bool
index_version_normalize(const char *version, size_t len, bool strip_trailing_zeros,
			char out[INDEX_VERSION_NORMAL_MAX])
{
	struct version_groups groups;
	struct builder b = { out, 0, INDEX_VERSION_NORMAL_MAX, false };

	out[0] = '\0';
	if (!match_version(version, len, &groups))
		return false;
	if (group_set(&groups, GROUP_EPOCH)) {
		size_t epoch_len = groups.end[GROUP_EPOCH] - groups.start[GROUP_EPOCH];

		if (!number_is_zero(version + groups.start[GROUP_EPOCH], epoch_len)) {
			put_number(&b, version + groups.start[GROUP_EPOCH], epoch_len);
			put_char(&b, '!');
		}
	}
	put_release(&b, version + groups.start[GROUP_RELEASE],
		    groups.end[GROUP_RELEASE] - groups.start[GROUP_RELEASE], strip_trailing_zeros);
	if (group_set(&groups, GROUP_PRE_LETTER))
		put_pre(&b, version, &groups);
	if (group_set(&groups, GROUP_POST_IMPLICIT)) {
		put_text(&b, ".post");
		put_group_number(&b, version, &groups, GROUP_POST_IMPLICIT);
	} else if (group_set(&groups, GROUP_POST_LETTER)) {
		put_text(&b, ".post");
		put_group_number(&b, version, &groups, GROUP_POST_NUMBER);
	}
	if (group_set(&groups, GROUP_DEV_LETTER)) {
		put_text(&b, ".dev");
		put_group_number(&b, version, &groups, GROUP_DEV_NUMBER);
	}
	if (group_set(&groups, GROUP_LOCAL))
		put_local(&b, version + groups.start[GROUP_LOCAL],
			  groups.end[GROUP_LOCAL] - groups.start[GROUP_LOCAL]);
	if (b.overflow) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool
index_version_equal(const char *a, size_t a_len, const char *b, size_t b_len)
{
	char normal_a[INDEX_VERSION_NORMAL_MAX];
	char normal_b[INDEX_VERSION_NORMAL_MAX];

	return index_version_normalize(a, a_len, true, normal_a) &&
	       index_version_normalize(b, b_len, true, normal_b) &&
	       strcmp(normal_a, normal_b) == 0;
}
