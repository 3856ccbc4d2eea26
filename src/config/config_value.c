/* config_value.c - parsers and checks for configuration values; see config_internal.h. */
#include "config/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "util/ga_xalloc.h"

#define KIB 1024LL
#define MEMCACHE_DEFAULT_PORT 11211

/* The longest piece of a bad value quoted back in a message. */
#define QUOTE_MAX 80

/* true when text is an optionally signed run of decimal digits and nothing else. */
static bool
is_decimal(const char *text)
{
	if (*text == '+' || *text == '-')
		text++;
	if (*text == '\0')
		return false;
	for (; *text != '\0'; text++)
		if (!isdigit((unsigned char)*text))
			return false;
	return true;
}

bool
config_parse_integer(const char *text, long long min, long long max, long long *out,
		     char *problem, size_t problem_size)
{
	long long value;

	if (!is_decimal(text)) {
		snprintf(problem, problem_size, "expected an integer, got \"%.*s\"", QUOTE_MAX, text);
		return false;
	}
	errno = 0;
	value = strtoll(text, NULL, 10);
	if (errno == ERANGE || value < min || value > max) {
		snprintf(problem, problem_size, "must be between %lld and %lld, got %.*s",
			 min, max, QUOTE_MAX, text);
		return false;
	}
	*out = value;
	return true;
}

bool
config_parse_fraction(const char *text, long long min, long long max, long long *out,
		      char *problem, size_t problem_size)
{
	const char *p = text;
	long long whole = 0, thousandths = 0;
	int decimals = 0;

	/* Digits, then optionally a point and one to three digits: no sign,
	 * no exponent, nothing strtod would round. */
	for (; isdigit((unsigned char)*p) && whole <= 1000000; p++)
		whole = whole * 10 + (*p - '0');
	if (p != text && *p == '.') {
		for (p++; isdigit((unsigned char)*p) && decimals < 3; p++, decimals++)
			thousandths = thousandths * 10 + (*p - '0');
		if (decimals == 0)
			p = text;
	}
	if (p == text || *p != '\0' || whole > 1000000) {
		snprintf(problem, problem_size,
			 "expected a decimal fraction such as 0.25 (at most three decimals), got \"%.*s\"",
			 QUOTE_MAX, text);
		return false;
	}
	for (; decimals < 3; decimals++)
		thousandths *= 10;
	thousandths += whole * 1000;
	if (thousandths < min || thousandths > max) {
		char low[32], high[32];

		config_format_fraction(min, low);
		config_format_fraction(max, high);
		snprintf(problem, problem_size, "must be between %s and %s, got %.*s", low, high,
			 QUOTE_MAX, text);
		return false;
	}
	*out = thousandths;
	return true;
}

void
config_format_fraction(long long thousandths, char out[32])
{
	int len = snprintf(out, 32, "%lld.%03lld", thousandths / 1000, thousandths % 1000);

	/* 0.250 -> 0.25, 1.000 -> 1.0 */
	while (len > 3 && out[len - 1] == '0' && out[len - 2] != '.')
		out[--len] = '\0';
}

/* The multiplier of a size suffix, 0 when it is not one. */
static long long
size_multiplier(const char *suffix)
{
	if (*suffix == '\0')
		return 1;
	if (suffix[1] != '\0')
		return 0;
	switch (toupper((unsigned char)*suffix)) {
	case 'K':
		return KIB;
	case 'M':
		return KIB * KIB;
	case 'G':
		return KIB * KIB * KIB;
	default:
		return 0;
	}
}

bool
config_parse_bytes(const char *text, long long min, long long max, long long *out,
		   char *problem, size_t problem_size)
{
	char digits[32];
	size_t digit_count = strspn(text, "0123456789");
	long long multiplier = size_multiplier(text + digit_count);
	long long value;

	if (digit_count == 0 || digit_count >= sizeof(digits) || multiplier == 0) {
		snprintf(problem, problem_size,
			 "expected a number of bytes with an optional K, M or G suffix, got \"%.*s\"",
			 QUOTE_MAX, text);
		return false;
	}
	memcpy(digits, text, digit_count);
	digits[digit_count] = '\0';
	errno = 0;
	value = strtoll(digits, NULL, 10);
	if (errno == ERANGE || value > LLONG_MAX / multiplier || value * multiplier < min
	    || value * multiplier > max) {
		char low[32];
		char high[32];

		config_format_bytes(min, low);
		config_format_bytes(max, high);
		snprintf(problem, problem_size, "must be between %s and %s, got %.*s",
			 low, high, QUOTE_MAX, text);
		return false;
	}
	*out = value * multiplier;
	return true;
}

void
config_format_bytes(long long bytes, char out[32])
{
	static const char suffixes[] = "GMK";
	long long unit = KIB * KIB * KIB;

	for (const char *suffix = suffixes; *suffix != '\0'; suffix++, unit /= KIB) {
		if (bytes != 0 && bytes % unit == 0) {
			snprintf(out, 32, "%lld%c", bytes / unit, *suffix);
			return;
		}
	}
	snprintf(out, 32, "%lld", bytes);
}

bool
config_parse_bool(const char *text, bool *out, char *problem, size_t problem_size)
{
	static const char *const truths[] = { "true", "yes", "on", "1" };
	static const char *const falsehoods[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(truths) / sizeof(truths[0]); i++) {
		if (strcasecmp(text, truths[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(text, falsehoods[i]) == 0) {
			*out = false;
			return true;
		}
	}
	snprintf(problem, problem_size,
		 "expected true, false, yes, no, on, off, 1 or 0, got \"%.*s\"", QUOTE_MAX, text);
	return false;
}

bool
config_parse_choice(const char *text, const struct config_choice *choices, int *out,
		    char *problem, size_t problem_size)
{
	size_t used;

	for (const struct config_choice *choice = choices; choice->name != NULL; choice++) {
		if (strcasecmp(text, choice->name) == 0) {
			*out = choice->value;
			return true;
		}
	}
	used = (size_t)snprintf(problem, problem_size, "expected one of");
	for (const struct config_choice *choice = choices; choice->name != NULL; choice++) {
		if (used >= problem_size)
			break;
		used += (size_t)snprintf(problem + used, problem_size - used, "%s %s",
					 choice == choices ? "" : ",", choice->name);
	}
	if (used < problem_size)
		snprintf(problem + used, problem_size - used, "; got \"%.*s\"", QUOTE_MAX, text);
	return false;
}

char *
config_resolve_credential_path(const char *path)
{
	const char *directory = getenv("CREDENTIALS_DIRECTORY");

	if (path[0] == '/' || directory == NULL || directory[0] == '\0')
		return ga_strdup(path);
	return ga_asprintf("%s/%s", directory, path);
}

/* Replace *value by copy, freeing the old string. */
static void
replace_value(char **value, char *copy)
{
	ga_free(*value);
	*value = copy;
}

bool
config_check_organization(char **value, char *problem, size_t problem_size)
{
	/* The name goes into URL paths and GraphQL variables: keep it plain. */
	size_t len = strspn(*value,
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");

	if ((*value)[len] != '\0' || len > 100) {
		snprintf(problem, problem_size,
			 "expected a GitHub login (letters, digits, '-', '_', '.'), got \"%.*s\"",
			 QUOTE_MAX, *value);
		return false;
	}
	return true;
}

/* The length of an http(s) scheme prefix of text ("http://"), 0 when absent. */
static size_t
http_scheme_length(const char *text)
{
	if (strncasecmp(text, "http://", 7) == 0)
		return 7;
	if (strncasecmp(text, "https://", 8) == 0)
		return 8;
	return 0;
}

bool
config_check_url(char **value, char *problem, size_t problem_size)
{
	/* URLs are not quoted back: one may carry user:password@. */
	size_t scheme = http_scheme_length(*value);
	size_t len = strlen(*value);

	if (scheme == 0) {
		snprintf(problem, problem_size, "must start with http:// or https://");
		return false;
	}
	if (strpbrk(*value, " \t?#") != NULL) {
		snprintf(problem, problem_size, "must not contain spaces, a query or a fragment");
		return false;
	}
	while (len > scheme && (*value)[len - 1] == '/')
		len--;
	if (len == scheme || (*value)[scheme] == '/') {
		snprintf(problem, problem_size, "has no host name");
		return false;
	}
	(*value)[len] = '\0';
	return true;
}

bool
config_check_regex(char **value, char *problem, size_t problem_size)
{
	int error_code;
	PCRE2_SIZE error_offset;
	PCRE2_UCHAR message[160];
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)*value, PCRE2_ZERO_TERMINATED,
					 PCRE2_UTF | PCRE2_ANCHORED, &error_code, &error_offset,
					 NULL);

	if (code != NULL) {
		pcre2_code_free(code);
		return true;
	}
	if (pcre2_get_error_message(error_code, message, sizeof(message)) < 0)
		snprintf((char *)message, sizeof(message), "error %d", error_code);
	snprintf(problem, problem_size, "invalid regular expression at offset %zu: %s",
		 (size_t)error_offset, (const char *)message);
	return false;
}

/* true when text[0..len) is a host name or IPv4 address. */
static bool
plain_host_ok(const char *text, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)text[i]) && strchr(".-_", text[i]) == NULL)
			return false;
	return true;
}

/* true when text[0..len) may be an IPv6 address (with a %zone). */
static bool
ipv6_host_ok(const char *text, size_t len)
{
	if (len == 0 || memchr(text, ':', len) == NULL)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)text[i]) && strchr(":.%", text[i]) == NULL)
			return false;
	return true;
}

/* A port number from text: 1..65535, digits only; 0 when invalid. */
static long
parse_port(const char *text)
{
	long port = 0;

	if (*text == '\0' || strlen(text) > 5 || strspn(text, "0123456789") != strlen(text))
		return 0;
	port = strtol(text, NULL, 10);
	return port <= 65535 ? port : 0;
}

/*
 * Split "host:port", "[ipv6]:port" (or, without need_port, "host" and
 * "[ipv6]") into the length of its host part (brackets included) and its
 * port; default_port when absent.  false with a problem when malformed.
 */
static bool
parse_endpoint(const char *text, bool need_port, long default_port, size_t *host_len,
	       long *port, char *problem, size_t problem_size)
{
	const char *rest;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || !ipv6_host_ok(text + 1, (size_t)(close - text - 1)))
			goto malformed;
		rest = close + 1;
	} else {
		rest = text + strcspn(text, ":");
		if (strchr(rest + (*rest != '\0'), ':') != NULL) {
			snprintf(problem, problem_size,
				 "an IPv6 address needs brackets: [ADDRESS]:PORT");
			return false;
		}
		if (!plain_host_ok(text, (size_t)(rest - text)))
			goto malformed;
	}
	*host_len = (size_t)(rest - text);
	if (*rest == '\0' && !need_port) {
		*port = default_port;
		return true;
	}
	if (*rest != ':')
		goto malformed;
	*port = parse_port(rest + 1);
	if (*port == 0) {
		snprintf(problem, problem_size, "port must be a number from 1 to 65535, got \"%.*s\"",
			 QUOTE_MAX, rest + 1);
		return false;
	}
	return true;
malformed:
	snprintf(problem, problem_size, "expected HOST%s or [IPV6]%s, got \"%.*s\"",
		 need_port ? ":PORT" : "[:PORT]", need_port ? ":PORT" : "[:PORT]", QUOTE_MAX, text);
	return false;
}

bool
config_check_listen(char **value, char *problem, size_t problem_size)
{
	size_t host_len;
	long port;

	return parse_endpoint(*value, true, 0, &host_len, &port, problem, problem_size);
}

bool
config_check_memcache_url(char **value, char *problem, size_t problem_size)
{
	/* The seed passed the value to dogpile: "host:port", maybe with a scheme. */
	static const char *const schemes[] = { "memcached://", "memcache://" };
	const char *start = *value;
	char *endpoint;
	size_t len;
	size_t host_len;
	long port;
	bool ok;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncasecmp(start, schemes[i], strlen(schemes[i])) == 0)
			start += strlen(schemes[i]);
	len = strlen(start);
	while (len > 0 && start[len - 1] == '/')
		len--;
	endpoint = ga_strndup(start, len);
	ok = parse_endpoint(endpoint, false, MEMCACHE_DEFAULT_PORT, &host_len, &port, problem,
			    problem_size);
	if (ok)
		replace_value(value, ga_asprintf("%.*s:%ld", (int)host_len, endpoint, port));
	ga_free(endpoint);
	return ok;
}

bool
config_check_realm(char **value, char *problem, size_t problem_size)
{
	/* It is sent quoted in WWW-Authenticate: Basic realm="...". */
	if (strpbrk(*value, "\"\\") != NULL || strlen(*value) > 100) {
		snprintf(problem, problem_size,
			 "must be at most 100 characters without '\"' or '\\'");
		return false;
	}
	return true;
}

bool
config_check_user(char **value, char *problem, size_t problem_size)
{
	/* Basic credentials are "user:password": the user cannot hold a colon. */
	if (strchr(*value, ':') != NULL) {
		snprintf(problem, problem_size, "must not contain ':'");
		return false;
	}
	return true;
}

bool
config_check_client_id(char **value, char *problem, size_t problem_size)
{
	/* It goes into the authorize URL and the token request as it is. */
	for (const char *c = *value; *c != '\0'; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-')
			continue;
		snprintf(problem, problem_size, "must hold only letters, digits, '.', '_' and '-'");
		return false;
	}
	if (strlen(*value) > 100) {
		snprintf(problem, problem_size, "longer than 100 characters");
		return false;
	}
	return true;
}

bool
config_check_audience(char **value, char *problem, size_t problem_size)
{
	/* Compared with the token's aud claim as it is, and sent back by
	 * /_/oidc/audience: visible ASCII, nothing to quote. */
	for (const char *c = *value; *c != '\0'; c++) {
		if (*c > ' ' && *c < 0x7f && *c != '"' && *c != '\\')
			continue;
		snprintf(problem, problem_size,
			 "must hold only visible ASCII characters (no space, quote or backslash)");
		return false;
	}
	if (strlen(*value) > 255) {
		snprintf(problem, problem_size, "longer than 255 characters");
		return false;
	}
	return true;
}
