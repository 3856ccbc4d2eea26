/*
 * config_internal.h - the table of configuration keys and the value parsers
 * shared by config_load.c, config_keys.c, config_value.c and config_print.c.
 *
 * Each key of the file is one row: section, name, the seed's server.ini
 * name, the type and place of its field in struct config, its default and
 * its bounds.  Loading, defaults, printing and freeing all walk the same
 * table, so a key added here is accepted, printed and freed everywhere.
 * Not part of the module's API: only src/config/ includes it.
 */
#ifndef CONFIG_INTERNAL_H
#define CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* Room for a problem description; the message adds "FILE:LINE: [s] k: ". */
#define CONFIG_PROBLEM_MAX 256

/* The longest line inih hands over whole (INI_MAX_LINE less the NUL). */
#define CONFIG_LINE_MAX 199

enum config_value_type {
	CONFIG_VALUE_STRING,	/* char *; optional check */
	CONFIG_VALUE_SECRET,	/* char *; never printed, wiped when freed */
	CONFIG_VALUE_PATH,	/* char *; a *_file, resolved in $CREDENTIALS_DIRECTORY */
	CONFIG_VALUE_LIST,	/* struct config_list */
	CONFIG_VALUE_INT,	/* int within min..max */
	CONFIG_VALUE_LLONG,	/* long long within min..max; 0 when unset */
	CONFIG_VALUE_COUNT,	/* size_t within min..max */
	CONFIG_VALUE_BYTES,	/* long long with an optional K/M/G suffix */
	CONFIG_VALUE_BOOL,	/* bool */
	CONFIG_VALUE_CHOICE,	/* int or enum: one of choices */
	CONFIG_VALUE_FRACTION,	/* int, thousandths: "0.25" is 250, within min..max */
};

/* One accepted word of a CONFIG_VALUE_CHOICE key; the first per value prints. */
struct config_choice {
	const char *name;
	int value;
};

/*
 * Validate a string value, possibly replacing *value by a normalised copy
 * (freeing the old one with ga_free).  On failure write a problem (without
 * the value of a secret) and return false; *value stays owned by the caller.
 */
typedef bool config_check_fn(char **value, char *problem, size_t problem_size);

struct config_key {
	const char *section;		/* "github" */
	const char *name;		/* "organization" */
	const char *seed_name;		/* after "auth.otc.github." in server.ini, or NULL */
	enum config_value_type type;
	size_t offset;			/* of the field in struct config */
	const char *default_text;	/* parsed like a value; NULL: unset */
	long long min, max;		/* numbers */
	const struct config_choice *choices;	/* ends with a NULL name */
	config_check_fn *check;		/* strings only; NULL: any text */
};

extern const struct config_key config_keys[];
extern const size_t config_key_count;

/* The native section names, NULL-terminated, in printing order. */
extern const char *const config_sections[];

/* The row of [section] name, or NULL. */
const struct config_key *config_key_find(const char *section, const char *name);

/* The row of auth.otc.github.<seed_name> (case-insensitive), or NULL. */
const struct config_key *config_key_find_seed(const char *seed_name);

/* true when section is one of config_sections. */
bool config_section_known(const char *section);

/*
 * Parse value (not empty) and store it in key's field of config, replacing
 * (and freeing) what was there.  false with a problem when it is invalid.
 */
bool config_key_apply(struct config *config, const struct config_key *key,
		      const char *value, char *problem, size_t problem_size);

/* Free what key's field holds (wiping secrets) and reset it. */
void config_key_clear(struct config *config, const struct config_key *key);

/* key's field in config. */
void *config_key_field(struct config *config, const struct config_key *key);
const void *config_key_field_const(const struct config *config, const struct config_key *key);

/* --- value parsers (config_value.c); each writes a problem on failure --- */

bool config_parse_integer(const char *text, long long min, long long max, long long *out,
			  char *problem, size_t problem_size);
bool config_parse_bytes(const char *text, long long min, long long max, long long *out,
			char *problem, size_t problem_size);
/* "0.25" -> 250: a decimal with at most three decimals, in thousandths. */
bool config_parse_fraction(const char *text, long long min, long long max, long long *out,
			   char *problem, size_t problem_size);
bool config_parse_bool(const char *text, bool *out, char *problem, size_t problem_size);
bool config_parse_choice(const char *text, const struct config_choice *choices, int *out,
			 char *problem, size_t problem_size);

/* 250 -> "0.25".  out holds 32 bytes. */
void config_format_fraction(long long thousandths, char out[32]);

/* "100M" for 104857600: the largest exact suffix.  out holds 32 bytes. */
void config_format_bytes(long long bytes, char out[32]);

/* A relative path joined to $CREDENTIALS_DIRECTORY when that is set; new string. */
char *config_resolve_credential_path(const char *path);

/* --- a pypicloud server.ini as PasteDeploy reads it (config_paste.c) --- */

/* Why PasteDeploy would not give pypicloud a value: a message without the
 * value (it may be a secret), and its line (0: the whole file). */
struct paste_problem {
	char text[CONFIG_PROBLEM_MAX];
	int line;
};

/* The sections and keys of a server.ini that PasteDeploy may read. */
struct paste_ini;

struct paste_ini *paste_ini_new(const char *path);
void paste_ini_free(struct paste_ini *ini);

/* A section header as read (any section but ghaccess's own). */
void paste_ini_section(struct paste_ini *ini, const char *section, int line);

/* A key as configparser reads it (inline comments kept), or (continuation)
 * one more line of the key's value. */
void paste_ini_add(struct paste_ini *ini, const char *section, const char *name,
		   const char *value, int line, bool continuation);

/* Follow PasteDeploy from the application "main" (pipelines, filter-apps)
 * to the [app:NAME] section whose keys pypicloud gets as settings. */
bool paste_ini_find_app(struct paste_ini *ini, struct paste_problem *problem);

/* The section found, spelled as in the file; NULL before. */
const char *paste_ini_app(const struct paste_ini *ini);

/* What would stop PasteDeploy itself: a repeated section or key, a value
 * of [DEFAULT] or of the application section that does not interpolate. */
bool paste_ini_check(const struct paste_ini *ini, struct paste_problem *problem);

enum paste_found {
	PASTE_ABSENT = 0,
	PASTE_IN_APP,		/* in the application section (or get KEY = VAR) */
	PASTE_IN_DEFAULT,	/* only in [DEFAULT]: pypicloud does not see it */
	PASTE_ERROR,		/* problem says why */
};

struct paste_value {
	char *value;		/* interpolated; the caller frees it (ga_secret_free) */
	const char *section;	/* where it was found, as spelled */
	const char *name;
	int line;
};

/* The value of key (case-sensitive, as PasteDeploy keeps case) for
 * pypicloud's settings. */
enum paste_found paste_ini_get(const struct paste_ini *ini, const char *key,
			       struct paste_value *out, struct paste_problem *problem);

config_check_fn config_check_organization;
config_check_fn config_check_url;
config_check_fn config_check_regex;
config_check_fn config_check_listen;
config_check_fn config_check_memcache_url;
config_check_fn config_check_realm;
config_check_fn config_check_user;
config_check_fn config_check_client_id;
config_check_fn config_check_audience;

#endif
