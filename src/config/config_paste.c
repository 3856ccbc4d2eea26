/*
 * config_paste.c - a pypicloud server.ini as PasteDeploy reads it for
 * pypicloud: the application section of "main", [DEFAULT], configparser's
 * %(name)s interpolation; see config_internal.h.
 *
 * PasteDeploy 3 (Debian's python3-pastedeploy, paste/deploy/loadwsgi.py)
 * reads the file with configparser (optionxform = str: keys keep their
 * case; no inline comments; BasicInterpolation with "here" and "__file__"
 * as defaults), finds the section of an application name by prefix
 * (app/application, composite, pipeline, filter-app: more than one match is
 * an error), follows a pipeline to its last name and a filter-app to its
 * "next", and hands pypicloud the section's keys as its settings, except
 * keys that [DEFAULT] also has (those go to the global configuration,
 * which pypicloud ignores).  "get KEY = VAR" sets KEY to [DEFAULT]'s VAR.
 * This file does the same for the few keys ghaccess reads, so that both
 * programs see one value or check-config says why not.
 */
#include "config/config_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/ga_buf.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#define DEFAULT_SECTION "DEFAULT"
#define INTERPOLATION_DEPTH_MAX 10	/* configparser's MAX_INTERPOLATION_DEPTH */
#define APP_CHAIN_MAX 8			/* pipelines and filter-apps followed */
/* A hostile file could make interpolation explode ("%(a)s%(a)s..." over
 * ten levels): bound the work and the result. */
#define INTERPOLATION_STEPS_MAX 10000
#define INTERPOLATED_MAX (64 * 1024)

struct paste_entry {
	char *section;
	char *name;
	char *value;	/* configparser's value; continuation lines joined by '\n' */
	int line;
};

struct paste_ini {
	char *file;		/* absolute path: %(__file__)s */
	char *here;		/* its directory: %(here)s */
	struct paste_entry *entries;
	size_t count, capacity;
	char **sections;	/* distinct names, in order */
	int *section_lines;
	size_t section_count, section_capacity;
	const char *app;	/* the application section, once found */
	struct paste_problem repeated;	/* first repeated section or key */
};

static void
set_problem(struct paste_problem *problem, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_problem(struct paste_problem *problem, int line, const char *fmt, ...)
{
	va_list ap;

	problem->line = line;
	va_start(ap, fmt);
	vsnprintf(problem->text, sizeof(problem->text), fmt, ap);
	va_end(ap);
}

/* os.path.abspath: joined to the working directory, ".", ".." and "//" folded. */
static char *
absolute_path(const char *path)
{
	struct ga_buf out;
	char cwd[4096];
	char *joined;
	const char *part;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		joined = ga_strdup(path);
	else
		joined = ga_asprintf("%s/%s", cwd, path);
	ga_buf_init(&out, 0);
	for (part = joined; *part != '\0';) {
		size_t len = strcspn(part, "/");

		if (len == 2 && strncmp(part, "..", 2) == 0) {
			while (out.len > 0 && out.data[out.len - 1] != '/')
				out.len--;
			if (out.len > 0)
				out.len--;
		} else if (len > 0 && !(len == 1 && part[0] == '.')) {
			ga_buf_append_char(&out, '/');
			ga_buf_append(&out, part, len);
		}
		part += len;
		while (*part == '/')
			part++;
	}
	if (out.len == 0)
		ga_buf_append_char(&out, '/');
	ga_free(joined);
	return ga_buf_steal(&out);
}

struct paste_ini *
paste_ini_new(const char *path)
{
	struct paste_ini *ini = ga_calloc(1, sizeof(*ini));
	char *slash;

	ini->file = absolute_path(path);
	ini->here = ga_strdup(ini->file);
	slash = strrchr(ini->here, '/');
	if (slash != NULL)
		slash[slash == ini->here ? 1 : 0] = '\0';
	return ini;
}

void
paste_ini_free(struct paste_ini *ini)
{
	if (ini == NULL)
		return;
	for (size_t i = 0; i < ini->count; i++) {
		ga_free(ini->entries[i].section);
		ga_free(ini->entries[i].name);
		ga_secret_free(ini->entries[i].value);
	}
	for (size_t i = 0; i < ini->section_count; i++)
		ga_free(ini->sections[i]);
	ga_free(ini->entries);
	ga_free(ini->sections);
	ga_free(ini->section_lines);
	ga_free(ini->file);
	ga_free(ini->here);
	ga_free(ini);
}

static long
find_section(const struct paste_ini *ini, const char *section)
{
	for (size_t i = 0; i < ini->section_count; i++)
		if (strcmp(ini->sections[i], section) == 0)
			return (long)i;
	return -1;
}

void
paste_ini_section(struct paste_ini *ini, const char *section, int line)
{
	long seen = find_section(ini, section);

	if (seen >= 0) {
		/* configparser (strict) refuses the whole file. */
		if (ini->repeated.line == 0)
			set_problem(&ini->repeated, line,
				    "[%s]: repeated section (first on line %d); PasteDeploy"
				    " cannot read the file", section, ini->section_lines[seen]);
		return;
	}
	if (ini->section_count == ini->section_capacity) {
		ini->section_capacity = ini->section_capacity ? 2 * ini->section_capacity : 16;
		ini->sections = ga_realloc(ini->sections,
					   ini->section_capacity * sizeof(*ini->sections));
		ini->section_lines = ga_realloc(ini->section_lines,
						ini->section_capacity * sizeof(*ini->section_lines));
	}
	ini->sections[ini->section_count] = ga_strdup(section);
	ini->section_lines[ini->section_count++] = line;
}

static struct paste_entry *
find_entry(const struct paste_ini *ini, const char *section, const char *name)
{
	for (size_t i = 0; i < ini->count; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
		    strcmp(ini->entries[i].name, name) == 0)
			return &ini->entries[i];
	return NULL;
}

void
paste_ini_add(struct paste_ini *ini, const char *section, const char *name, const char *value,
	      int line, bool continuation)
{
	struct paste_entry *entry = find_entry(ini, section, name);

	if (continuation && entry != NULL) {
		char *joined = ga_asprintf("%s\n%s", entry->value, value);

		ga_secret_free(entry->value);
		entry->value = joined;
		return;
	}
	if (entry != NULL) {
		if (ini->repeated.line == 0)
			set_problem(&ini->repeated, line,
				    "[%s] %s: repeated key (first on line %d); PasteDeploy cannot"
				    " read the file", section, name, entry->line);
		return;
	}
	if (ini->count == ini->capacity) {
		ini->capacity = ini->capacity ? 2 * ini->capacity : 32;
		ini->entries = ga_realloc(ini->entries, ini->capacity * sizeof(*ini->entries));
	}
	ini->entries[ini->count++] = (struct paste_entry){
		ga_strdup(section), ga_strdup(name), ga_strdup(value), line,
	};
}

/* ---- interpolation -------------------------------------------------- */

/* A variable of section's interpolation: its own keys, then [DEFAULT]'s,
 * then PasteDeploy's here and __file__. */
static const char *
lookup_variable(const struct paste_ini *ini, const char *section, const char *name)
{
	const struct paste_entry *entry = find_entry(ini, section, name);

	if (entry == NULL)
		entry = find_entry(ini, DEFAULT_SECTION, name);
	if (entry != NULL)
		return entry->value;
	if (strcmp(name, "here") == 0)
		return ini->here;
	if (strcmp(name, "__file__") == 0)
		return ini->file;
	return NULL;
}

/* configparser's BasicInterpolation._interpolate_some, with *steps
 * variable expansions left. */
static bool
interpolate_into(const struct paste_ini *ini, const char *section, const char *text,
		 int depth, size_t *steps, struct ga_buf *out, char *problem, size_t problem_size)
{
	if (depth > INTERPOLATION_DEPTH_MAX) {
		snprintf(problem, problem_size, "interpolation deeper than %d levels (a loop?)",
			 INTERPOLATION_DEPTH_MAX);
		return false;
	}
	while (*text != '\0') {
		if (out->len > INTERPOLATED_MAX) {
			snprintf(problem, problem_size, "interpolation too large");
			return false;
		}
		const char *percent = strchr(text, '%');
		const char *close;
		const char *value;
		char *name;

		if (percent == NULL) {
			ga_buf_append_str(out, text);
			break;
		}
		ga_buf_append(out, text, (size_t)(percent - text));
		if (percent[1] == '%') {
			ga_buf_append_char(out, '%');
			text = percent + 2;
			continue;
		}
		close = percent[1] == '(' ? strchr(percent + 2, ')') : NULL;
		if (close == NULL || close == percent + 2 || close[1] != 's') {
			snprintf(problem, problem_size,
				 "'%%' must be followed by '%%' or '(NAME)s' (configparser's"
				 " interpolation; write %%%% for a percent sign)");
			return false;
		}
		name = ga_strndup(percent + 2, (size_t)(close - percent - 2));
		value = lookup_variable(ini, section, name);
		if (value == NULL) {
			snprintf(problem, problem_size, "%%(%s)s: no such key to interpolate", name);
			ga_free(name);
			return false;
		}
		ga_free(name);
		text = close + 2;
		if (*steps == 0) {
			snprintf(problem, problem_size, "interpolation too large");
			return false;
		}
		(*steps)--;
		if (strchr(value, '%') == NULL)
			ga_buf_append_str(out, value);
		else if (!interpolate_into(ini, section, value, depth + 1, steps, out, problem,
					   problem_size))
			return false;
	}
	return true;
}

static char *
interpolate(const struct paste_ini *ini, const struct paste_entry *entry,
	    struct paste_problem *problem)
{
	struct ga_buf out;
	size_t steps = INTERPOLATION_STEPS_MAX;

	ga_buf_init(&out, 0);
	if (interpolate_into(ini, entry->section, entry->value, 1, &steps, &out, problem->text,
			     sizeof(problem->text)))
		return ga_buf_steal(&out);
	problem->line = entry->line;
	/* The problem names the key; the value may be a secret. */
	{
		char *text = ga_asprintf("[%s] %s: %s", entry->section, entry->name,
					 problem->text);

		snprintf(problem->text, sizeof(problem->text), "%s", text);
		ga_free(text);
	}
	if (out.data != NULL)
		explicit_bzero(out.data, out.cap);
	ga_buf_free(&out);
	return NULL;
}

/* ---- the application section ---------------------------------------- */

static bool
has_prefix(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* "egg:...", "config:...": a name PasteDeploy loads from elsewhere. */
static bool
is_absolute_name(const char *name)
{
	const char *p = name;

	while (isalpha((unsigned char)*p))
		p++;
	return p > name && *p == ':';
}

/* Whether section is "PREFIX:NAME" (white space around NAME ignored). */
static bool
section_is(const char *section, const char *prefix, const char *name)
{
	size_t prefix_len = strlen(prefix);
	const char *rest;
	size_t len;

	if (strncmp(section, prefix, prefix_len) != 0 || section[prefix_len] != ':')
		return false;
	rest = section + prefix_len + 1;
	while (isspace((unsigned char)*rest))
		rest++;
	len = strlen(rest);
	while (len > 0 && isspace((unsigned char)rest[len - 1]))
		len--;
	return len == strlen(name) && strncmp(rest, name, len) == 0;
}

/* find_config_section(APP, name): one section or a problem. */
static const char *
find_app_section(const struct paste_ini *ini, const char *name, struct paste_problem *problem)
{
	static const char *const groups[][3] = {
		{ "app", "application", NULL }, { "composite", "composit", NULL },
		{ "pipeline", NULL, NULL }, { "filter-app", NULL, NULL },
	};
	const char *found = NULL;
	const char *second = NULL;

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		bool group_found = false;

		for (size_t p = 0; p < 3 && groups[g][p] != NULL && !group_found; p++) {
			for (size_t s = 0; s < ini->section_count; s++) {
				if (!section_is(ini->sections[s], groups[g][p], name))
					continue;
				group_found = true;
				if (found == NULL)
					found = ini->sections[s];
				else if (second == NULL)
					second = ini->sections[s];
			}
		}
	}
	if (found == NULL)
		set_problem(problem, 0, "no application section for \"%s\" (PasteDeploy looks"
			    " for [app:%s], [pipeline:%s], [filter-app:%s] or [composite:%s])",
			    name, name, name, name, name);
	else if (second != NULL)
		set_problem(problem, 0, "[%s] and [%s]: ambiguous sections for the application"
			    " \"%s\" (PasteDeploy refuses the file)", found, second, name);
	return second == NULL ? found : NULL;
}

/* The interpolated value of section's key, or NULL (problem set on error). */
static char *
section_value(const struct paste_ini *ini, const char *section, const char *name,
	      struct paste_problem *problem)
{
	const struct paste_entry *entry = find_entry(ini, section, name);

	problem->text[0] = '\0';
	return entry != NULL ? interpolate(ini, entry, problem) : NULL;
}

/* The name a pipeline or filter-app section hands on, or NULL with a problem. */
static char *
next_application(const struct paste_ini *ini, const char *section, struct paste_problem *problem)
{
	bool pipeline = has_prefix(section, "pipeline:");
	const char *key = pipeline ? "pipeline" : "next";
	char *value = section_value(ini, section, key, problem);
	char *last;
	char *end;

	if (value == NULL) {
		if (problem->text[0] == '\0')
			set_problem(problem, 0, "[%s]: no %s setting (PasteDeploy refuses it)",
				    section, key);
		return NULL;
	}
	/* The last white-space-separated word names the application. */
	end = value + strlen(value);
	while (end > value && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	last = end;
	while (last > value && !isspace((unsigned char)last[-1]))
		last--;
	if (*last == '\0') {
		set_problem(problem, 0, "[%s] %s: empty", section, key);
		ga_free(value);
		return NULL;
	}
	last = ga_strdup(last);
	ga_free(value);
	return last;
}

/* An application section's "use": egg: and call: factories are fine; a
 * section or file it would merge settings from is not read by ghaccess. */
static bool
check_use(const struct paste_ini *ini, const char *section, struct paste_problem *problem)
{
	const struct paste_entry *use = find_entry(ini, section, "use");

	if (use == NULL || has_prefix(use->value, "egg:") || has_prefix(use->value, "call:"))
		return true;
	set_problem(problem, use->line, "[%s] use: ghaccess reads the settings of this section"
		    " only; a use = that takes settings from another section or file is not"
		    " followed (move the settings here)", section);
	return false;
}

bool
paste_ini_find_app(struct paste_ini *ini, struct paste_problem *problem)
{
	char *name = ga_strdup("main");
	const char *section = NULL;
	int step;

	for (step = 0; step < APP_CHAIN_MAX; step++) {
		char *next;

		if (is_absolute_name(name)) {
			set_problem(problem, 0, "the application \"%s\" is loaded from outside"
				    " this file: ghaccess cannot read its settings", name);
			break;
		}
		section = find_app_section(ini, name, problem);
		if (section == NULL)
			break;
		if (has_prefix(section, "app:") || has_prefix(section, "application:")) {
			ga_free(name);
			if (!check_use(ini, section, problem))
				return false;
			ini->app = section;
			return true;
		}
		if (has_prefix(section, "composite:") || has_prefix(section, "composit:")) {
			set_problem(problem, 0, "[%s]: ghaccess cannot tell which application of"
				    " a composite is pypicloud (use [app:main] or a pipeline)",
				    section);
			break;
		}
		next = next_application(ini, section, problem);
		if (next == NULL)
			break;
		ga_free(name);
		name = next;
	}
	if (step == APP_CHAIN_MAX)
		set_problem(problem, 0, "more than %d pipelines and filter-apps in a row",
			    APP_CHAIN_MAX);
	ga_free(name);
	return false;
}

const char *
paste_ini_app(const struct paste_ini *ini)
{
	return ini->app;
}

bool
paste_ini_check(const struct paste_ini *ini, struct paste_problem *problem)
{
	if (ini->repeated.line != 0) {
		*problem = ini->repeated;
		return false;
	}
	/* PasteDeploy interpolates every value of [DEFAULT] and of the
	 * application section: one it cannot read stops pserve. */
	for (size_t i = 0; i < ini->count; i++) {
		const struct paste_entry *entry = &ini->entries[i];
		char *value;

		if (strcmp(entry->section, DEFAULT_SECTION) != 0 &&
		    (ini->app == NULL || strcmp(entry->section, ini->app) != 0))
			continue;
		value = interpolate(ini, entry, problem);
		if (value == NULL)
			return false;
		ga_secret_free(value);
	}
	return true;
}

enum paste_found
paste_ini_get(const struct paste_ini *ini, const char *key, struct paste_value *out,
	      struct paste_problem *problem)
{
	const struct paste_entry *in_app = NULL;
	const struct paste_entry *in_default = find_entry(ini, DEFAULT_SECTION, key);
	const struct paste_entry *getter = NULL;
	char *get_name;

	memset(out, 0, sizeof(*out));
	if (ini->app != NULL) {
		in_app = find_entry(ini, ini->app, key);
		get_name = ga_asprintf("get %s", key);
		getter = find_entry(ini, ini->app, get_name);
		ga_free(get_name);
	}
	if ((in_app != NULL || getter != NULL) && in_default != NULL) {
		set_problem(problem, (in_app ? in_app : getter)->line,
			    "[%s] %s: [DEFAULT] has it too (line %d), and then PasteDeploy hands"
			    " pypicloud neither: keep one", ini->app, key, in_default->line);
		return PASTE_ERROR;
	}
	if (in_app != NULL && getter != NULL) {
		set_problem(problem, getter->line, "[%s] get %s: %s is set on line %d too",
			    ini->app, key, key, in_app->line);
		return PASTE_ERROR;
	}
	if (getter != NULL) {
		/* get KEY = VAR: [DEFAULT]'s VAR (a KeyError in PasteDeploy if absent). */
		const struct paste_entry *source = find_entry(ini, DEFAULT_SECTION,
							      getter->value);

		if (source == NULL) {
			set_problem(problem, getter->line, "[%s] get %s: [DEFAULT] has no such key",
				    ini->app, key);
			return PASTE_ERROR;
		}
		in_app = getter;
		in_default = NULL;
		out->value = interpolate(ini, source, problem);
	} else if (in_app != NULL) {
		out->value = interpolate(ini, in_app, problem);
	} else if (in_default != NULL) {
		out->value = interpolate(ini, in_default, problem);
	} else {
		return PASTE_ABSENT;
	}
	if (out->value == NULL)
		return PASTE_ERROR;
	out->section = in_app != NULL ? ini->app : DEFAULT_SECTION;
	out->name = in_app != NULL ? in_app->name : in_default->name;
	out->line = in_app != NULL ? in_app->line : in_default->line;
	return in_app != NULL ? PASTE_IN_APP : PASTE_IN_DEFAULT;
}
