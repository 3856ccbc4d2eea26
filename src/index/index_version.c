/* index_version.c - PEP 440 validation and normal form; see index_version.h. */
#include "index/index_version.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ---- ordering ------------------------------------------------------------- */

/* Decimal digit strings by value, whatever their length or leading zeros. */
static int
compare_numbers(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int diff;

	while (a_len > 1 && *a == '0') {
		a++;
		a_len--;
	}
	while (b_len > 1 && *b == '0') {
		b++;
		b_len--;
	}
	if (a_len != b_len)
		return a_len < b_len ? -1 : 1;
	diff = memcmp(a, b, a_len);
	return (diff > 0) - (diff < 0);
}

/* One parsed version: pointers into the text, lengths, and what is set. */
struct version_key {
	const char *text;
	struct version_groups groups;
};

static size_t
group_len(const struct version_key *key, int group)
{
	return key->groups.end[group] - key->groups.start[group];
}

static const char *
group_text(const struct version_key *key, int group)
{
	return key->text + key->groups.start[group];
}

/* A group's number, "0" when the group is absent ("1.0rc" is rc0). */
static int
compare_group_numbers(const struct version_key *a, int a_group, const struct version_key *b,
		      int b_group)
{
	bool a_set = group_set(&a->groups, a_group);
	bool b_set = group_set(&b->groups, b_group);

	return compare_numbers(a_set ? group_text(a, a_group) : "0", a_set ? group_len(a, a_group) : 1,
			       b_set ? group_text(b, b_group) : "0", b_set ? group_len(b, b_group) : 1);
}

/* The release segments one by one; missing ones count as 0. */
static int
compare_release(const struct version_key *a, const struct version_key *b)
{
	const char *p = group_text(a, GROUP_RELEASE), *p_end = p + group_len(a, GROUP_RELEASE);
	const char *q = group_text(b, GROUP_RELEASE), *q_end = q + group_len(b, GROUP_RELEASE);

	while (p < p_end || q < q_end) {
		const char *p_dot = p < p_end ? memchr(p, '.', (size_t)(p_end - p)) : NULL;
		const char *q_dot = q < q_end ? memchr(q, '.', (size_t)(q_end - q)) : NULL;
		const char *p_stop = p_dot ? p_dot : p_end;
		const char *q_stop = q_dot ? q_dot : q_end;
		int diff = compare_numbers(p < p_end ? p : "0", p < p_end ? (size_t)(p_stop - p) : 1,
					   q < q_end ? q : "0", q < q_end ? (size_t)(q_stop - q) : 1);

		if (diff != 0)
			return diff;
		p = p < p_end ? p_stop + 1 : p_end;
		q = q < q_end ? q_stop + 1 : q_end;
	}
	return 0;
}

/* Pre-release rank: a 0, b 1, rc 2; none 3 (a final release sorts after
 * its pre-releases), except a bare dev release ("1.0.dev1"), which sorts
 * before every pre-release of 1.0: -1. */
static int
pre_rank(const struct version_key *key)
{
	char letter;

	if (!group_set(&key->groups, GROUP_PRE_LETTER)) {
		bool post = group_set(&key->groups, GROUP_POST_IMPLICIT) ||
			    group_set(&key->groups, GROUP_POST_LETTER);

		return !post && group_set(&key->groups, GROUP_DEV_LETTER) ? -1 : 3;
	}
	letter = (char)(group_text(key, GROUP_PRE_LETTER)[0] | 0x20);
	if (letter == 'a')
		return 0;
	if (letter == 'b')
		return 1;	/* b, beta */
	return 2;	/* c, rc, pre, preview */
}

static int
compare_pre(const struct version_key *a, const struct version_key *b)
{
	int ra = pre_rank(a), rb = pre_rank(b);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra < 0 || ra == 3)
		return 0;
	return compare_group_numbers(a, GROUP_PRE_NUMBER, b, GROUP_PRE_NUMBER);
}

static int
post_group(const struct version_key *key)
{
	if (group_set(&key->groups, GROUP_POST_IMPLICIT))
		return GROUP_POST_IMPLICIT;
	return group_set(&key->groups, GROUP_POST_LETTER) ? GROUP_POST_NUMBER : -1;
}

/* No post release sorts before any post release. */
static int
compare_post(const struct version_key *a, const struct version_key *b)
{
	int pa = post_group(a), pb = post_group(b);

	if (pa < 0 || pb < 0)
		return pa < 0 && pb < 0 ? 0 : pa < 0 ? -1 : 1;
	return compare_group_numbers(a, pa, b, pb);
}

/* No dev release sorts after any dev release. */
static int
compare_dev(const struct version_key *a, const struct version_key *b)
{
	bool da = group_set(&a->groups, GROUP_DEV_LETTER);
	bool db = group_set(&b->groups, GROUP_DEV_LETTER);

	if (!da || !db)
		return da == db ? 0 : da ? -1 : 1;
	return compare_group_numbers(a, GROUP_DEV_NUMBER, b, GROUP_DEV_NUMBER);
}

static bool
is_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

/* Local labels part by part: numeric parts by value and after alphanumeric
 * ones, alphanumeric ones case-insensitively; no label sorts first. */
static int
compare_local(const struct version_key *a, const struct version_key *b)
{
	bool la = group_set(&a->groups, GROUP_LOCAL), lb = group_set(&b->groups, GROUP_LOCAL);
	const char *p, *p_end, *q, *q_end;

	if (!la || !lb)
		return la == lb ? 0 : la ? 1 : -1;
	p = group_text(a, GROUP_LOCAL);
	p_end = p + group_len(a, GROUP_LOCAL);
	q = group_text(b, GROUP_LOCAL);
	q_end = q + group_len(b, GROUP_LOCAL);
	while (p < p_end && q < q_end) {
		size_t pn = strcspn(p, ".-_"), qn = strcspn(q, ".-_");
		bool p_num, q_num;
		int diff;

		pn = pn > (size_t)(p_end - p) ? (size_t)(p_end - p) : pn;
		qn = qn > (size_t)(q_end - q) ? (size_t)(q_end - q) : qn;
		p_num = is_digits(p, pn);
		q_num = is_digits(q, qn);
		if (p_num != q_num)
			return p_num ? 1 : -1;
		if (p_num) {
			diff = compare_numbers(p, pn, q, qn);
		} else {
			diff = strncasecmp(p, q, pn < qn ? pn : qn);
			if (diff == 0 && pn != qn)
				diff = pn < qn ? -1 : 1;
		}
		if (diff != 0)
			return diff < 0 ? -1 : 1;
		p += pn + 1;
		q += qn + 1;
	}
	return (p < p_end) - (q < q_end);
}

int
index_version_compare(const char *a, const char *b)
{
	struct version_key ka = {.text = a}, kb = {.text = b};
	bool va = match_version(a, strlen(a), &ka.groups);
	bool vb = match_version(b, strlen(b), &kb.groups);
	int diff;

	if (!va || !vb)
		return va == vb ? 0 : va ? 1 : -1;
	diff = compare_group_numbers(&ka, GROUP_EPOCH, &kb, GROUP_EPOCH);
	if (diff == 0)
		diff = compare_release(&ka, &kb);
	if (diff == 0)
		diff = compare_pre(&ka, &kb);
	if (diff == 0)
		diff = compare_post(&ka, &kb);
	if (diff == 0)
		diff = compare_dev(&ka, &kb);
	if (diff == 0)
		diff = compare_local(&ka, &kb);
	return diff;
}

bool
index_version_is_prerelease(const char *version)
{
	struct version_groups groups;

	return match_version(version, strlen(version), &groups) &&
	       (group_set(&groups, GROUP_PRE_LETTER) || group_set(&groups, GROUP_DEV_LETTER));
}
