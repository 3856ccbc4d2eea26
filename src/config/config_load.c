/* config_load.c - reading a configuration file with inih and validating it; see config.h. */
#include "config/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "util/ga_buf.h"
#include "util/ga_log.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define SEED_PREFIX "auth.otc.github."
/* ghaccess's own sections inside a pypicloud server.ini: PasteDeploy never
 * looks at them ([server] would make its lookup of [server:main]
 * ambiguous: pserve fails). */
#define PREFIXED_SECTION "ghaccess:"
/* pypicloud reads its settings through EnvironSettings: PPC_ + the key in
 * upper case with dots as underscores wins over the file. */
#define PYPICLOUD_ENVIRONMENT_PREFIX "PPC_"
#define TOKEN_ENVIRONMENT "GHACCESS_GITHUB_TOKEN"
#define UTF8_BOM "\xEF\xBB\xBF"
/* Shortest [web] session key accepted (bytes). */
#define WEB_KEY_MIN 32
/* Shortest [trusted_publishing] key accepted (bytes). */
#define TP_KEY_MIN 32

/* What the file says about one row of config_keys. */
struct setting {
	char *value;	/* as written, continuation lines joined by '\n'; wiped when freed */
	char *origin;	/* "[section] name" as spelled in the file, for messages */
	int line;	/* 0: not in the file */
	bool from_app;	/* from pypicloud's settings (server.ini or $PPC_*) */
};

/* The state of one config_load() call. */
struct load {
	const char *path;
	struct config *config;
	struct setting *settings;	/* one per row of config_keys */

	/* The reader hands inih one line at a time and remembers where it is. */
	const char *text;
	size_t text_len;
	size_t offset;
	int line;
	bool line_truncated;
	bool line_indented;
	bool after_key;			/* a key since the last [section]: inih's prev_name */
	char raw_line[CONFIG_LINE_MAX + 1];	/* the line before inih cut it up */

	/* A PasteDeploy section ([app:...], [pipeline:...], [server:...], ...)
	 * makes the file a pypicloud server.ini. */
	bool has_paste_section;
	bool has_native_section;	/* [github] ... */
	bool has_prefixed_section;	/* [ghaccess:github] ... */
	bool has_seed_key;
	int bare_native_line;		/* the first [github] ... */
	char bare_native[32];
	int prefixed_line;		/* the first [ghaccess:...] */
	int unknown_section_line;
	char unknown_section[64];
	struct paste_ini *paste;	/* what PasteDeploy would read */

	/* The error with the smallest line wins; errors without a line come last. */
	enum ga_rc error_code;
	int error_line;
	char error[GA_ERR_MESSAGE_MAX];
};

static bool
failed(const struct load *load)
{
	return load->error_code != GA_OK;
}

/* Replace the recorded error by "FILE:LINE: ..." or, for line 0, "FILE: ...". */
static void
record_error(struct load *load, enum ga_rc code, int line, const char *fmt, va_list ap)
{
	int used;

	load->error_code = code;
	load->error_line = line;
	if (line > 0)
		used = snprintf(load->error, sizeof(load->error), "%s:%d: ", load->path, line);
	else
		used = snprintf(load->error, sizeof(load->error), "%s: ", load->path);
	if (used >= 0 && (size_t)used < sizeof(load->error))
		vsnprintf(load->error + used, sizeof(load->error) - (size_t)used, fmt, ap);
}

/* Record a problem on line unless one on an earlier line is already known. */
__attribute__((format(printf, 4, 5)))
static void
note_error_at(struct load *load, enum ga_rc code, int line, const char *fmt, ...)
{
	va_list ap;

	if (failed(load) && (load->error_line == 0 || load->error_line <= line))
		return;
	va_start(ap, fmt);
	record_error(load, code, line, fmt, ap);
	va_end(ap);
}

/* Record a problem of the whole file when nothing else is wrong. */
__attribute__((format(printf, 3, 4)))
static void
note_error(struct load *load, enum ga_rc code, const char *fmt, ...)
{
	va_list ap;

	if (failed(load))
		return;
	va_start(ap, fmt);
	record_error(load, code, 0, fmt, ap);
	va_end(ap);
}

static struct setting *
setting_of(struct load *load, const char *section, const char *name)
{
	const struct config_key *key = config_key_find(section, name);

	return &load->settings[key - config_keys];
}

static bool
is_set(const struct setting *setting)
{
	return setting->value != NULL && setting->value[0] != '\0';
}

/* --- reading the file ---------------------------------------------------- */

static void
wipe_buf(struct ga_buf *buf)
{
	if (buf->data != NULL)
		explicit_bzero(buf->data, buf->cap);
	ga_buf_free(buf);
}

/* The whole file into text (at most CONFIG_FILE_MAX bytes, no NUL). */
static enum ga_rc
read_config_file(const char *path, struct ga_buf *text, struct ga_err *err)
{
	char chunk[4096];
	size_t len;
	bool too_big = false;
	int read_errno = 0;
	enum ga_rc rc = GA_OK;
	FILE *file = fopen(path, "rb");

	ga_buf_init(text, CONFIG_FILE_MAX);
	if (file == NULL)
		return ga_err_set(err, GA_EIO, "%s: cannot open: %s", path, strerror(errno));
	while (!too_big && (len = fread(chunk, 1, sizeof(chunk), file)) > 0)
		too_big = !ga_buf_append(text, chunk, len);
	if (ferror(file))
		read_errno = errno;
	fclose(file);
	explicit_bzero(chunk, sizeof(chunk));
	if (read_errno != 0)
		rc = ga_err_set(err, GA_EIO, "%s: cannot read: %s", path, strerror(read_errno));
	else if (too_big)
		rc = ga_err_set(err, GA_EINVAL, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
	else if (text->len > 0 && memchr(text->data, '\0', text->len) != NULL)
		rc = ga_err_set(err, GA_EINVAL, "%s: contains a NUL byte", path);
	if (rc != GA_OK)
		wipe_buf(text);
	return rc;
}

static bool
is_paste_section(const char *name, size_t len)
{
	static const char *const prefixes[] = {
		"app:", "application:", "composite:", "composit:", "pipeline:", "filter-app:",
		"filter:", "server:", NULL,
	};

	for (const char *const *prefix = prefixes; *prefix != NULL; prefix++)
		if (len >= strlen(*prefix) && strncmp(name, *prefix, strlen(*prefix)) == 0)
			return true;
	return false;
}

static bool
is_native_section(const char *name, size_t len)
{
	for (const char *const *known = config_sections; *known != NULL; known++)
		if (len == strlen(*known) && strncmp(name, *known, len) == 0)
			return true;
	return false;
}

static void
note_unknown_section(struct load *load, const char *name, size_t len)
{
	if (load->unknown_section_line != 0)
		return;
	load->unknown_section_line = load->line;
	snprintf(load->unknown_section, sizeof(load->unknown_section), "%.*s", (int)len, name);
}

/*
 * Watch section headers as inih reads them: inih tells the handler nothing
 * about a section without keys, and whether a section is allowed depends on
 * the file's kind, which a later section may decide.
 */
static void
note_section_header(struct load *load, const char *line)
{
	const char *start = line;
	const char *close;
	const char *name;
	size_t len;
	size_t prefix_len = strlen(PREFIXED_SECTION);

	if (load->line == 1 && strncmp(start, UTF8_BOM, 3) == 0)
		start += 3;
	while (isspace((unsigned char)*start))
		start++;
	/* inih reads an indented line after a key as a continuation of its value. */
	if (*start != '[' || (load->line_indented && load->after_key))
		return;
	close = strchr(start + 1, ']');
	if (close == NULL)
		return;		/* inih reports the syntax error */
	load->after_key = false;
	name = start + 1;
	len = (size_t)(close - name);
	if (is_native_section(name, len)) {
		load->has_native_section = true;
		if (load->bare_native_line == 0) {
			load->bare_native_line = load->line;
			snprintf(load->bare_native, sizeof(load->bare_native), "%.*s", (int)len,
				 name);
		}
		return;
	}
	if (len > prefix_len && strncmp(name, PREFIXED_SECTION, prefix_len) == 0) {
		if (!is_native_section(name + prefix_len, len - prefix_len)) {
			note_unknown_section(load, name, len);
			return;
		}
		load->has_prefixed_section = true;
		if (load->prefixed_line == 0)
			load->prefixed_line = load->line;
		return;
	}
	if (is_paste_section(name, len))
		load->has_paste_section = true;
	else if (!(len == 7 && strncmp(name, "DEFAULT", 7) == 0))
		note_unknown_section(load, name, len);
	{
		char *section = ga_strndup(name, len);

		paste_ini_section(load->paste, section, load->line);
		ga_free(section);
	}
}

/* An ini_reader over load->text: one line per call, like fgets. */
static char *
read_line(char *buffer, int size, void *stream)
{
	struct load *load = stream;
	const char *start = load->text + load->offset;
	size_t remaining = load->text_len - load->offset;
	const char *newline;
	size_t line_len;
	size_t content_len;
	size_t copy_len;

	if (remaining == 0 || size < 2)
		return NULL;
	newline = memchr(start, '\n', remaining);
	line_len = newline != NULL ? (size_t)(newline - start) + 1 : remaining;
	content_len = newline != NULL ? line_len - 1 : line_len;
	if (content_len > 0 && start[content_len - 1] == '\r')
		content_len--;
	copy_len = content_len < (size_t)size - 1 ? content_len : (size_t)size - 1;
	memcpy(buffer, start, copy_len);
	buffer[copy_len] = '\0';
	load->offset += line_len;
	load->line++;
	/* A longer line is cut; the rest is skipped, not read as a line of its own. */
	load->line_truncated = copy_len < content_len;
	load->line_indented = copy_len > 0 && isspace((unsigned char)buffer[0]);
	memcpy(load->raw_line, buffer, copy_len + 1 < sizeof(load->raw_line)
	       ? copy_len + 1 : sizeof(load->raw_line));
	load->raw_line[sizeof(load->raw_line) - 1] = '\0';
	note_section_header(load, buffer);
	return buffer;
}

/* The native section of "ghaccess:NAME", or NULL. */
static const char *
prefixed_native(const char *section)
{
	size_t prefix_len = strlen(PREFIXED_SECTION);

	if (strncmp(section, PREFIXED_SECTION, prefix_len) != 0 ||
	    !config_section_known(section + prefix_len))
		return NULL;
	return section + prefix_len;
}

/* The row of a ghaccess section's key, or NULL (an error for an unknown key). */
static const struct config_key *
find_key(struct load *load, const char *section, const char *name)
{
	const char *native = prefixed_native(section);
	const struct config_key *key;

	if (section[0] == '\0') {
		note_error_at(load, GA_EINVAL, load->line, "%s: key before any [section]", name);
		return NULL;
	}
	key = config_key_find(native != NULL ? native : section, name);
	if (key == NULL)
		note_error_at(load, GA_EINVAL, load->line, "[%s] %s: unknown key", section, name);
	return key;
}

/* The value of the line as configparser reads it: everything after the
 * first '=' or ':' (or the whole continuation line), trimmed, with what
 * inih takes for an inline comment kept. */
static void
configparser_value(const struct load *load, bool continuation, struct ga_buf *out)
{
	const char *text = load->raw_line;
	size_t len;

	if (load->line == 1 && strncmp(text, UTF8_BOM, 3) == 0)
		text += 3;
	if (!continuation)
		text += strcspn(text, "=:") + (text[strcspn(text, "=:")] != '\0');
	while (isspace((unsigned char)*text))
		text++;
	len = strlen(text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	ga_buf_append(out, text, len);
}

/* A key of a section that PasteDeploy may read: kept for later, when the
 * application section is known. */
static void
record_paste_setting(struct load *load, const char *section, const char *name, bool continuation)
{
	struct ga_buf value;

	ga_buf_init(&value, 0);
	configparser_value(load, continuation, &value);
	paste_ini_add(load->paste, section, name, ga_buf_cstr(&value), load->line, continuation);
	if (value.data != NULL)
		explicit_bzero(value.data, value.cap);
	ga_buf_free(&value);
}

/* A continuation line: the value goes on after a line break, as in configparser. */
static void
continue_setting(struct setting *setting, const char *value)
{
	char *joined;

	if (setting->value[0] == '\0')
		joined = ga_strdup(value);
	else
		joined = ga_asprintf("%s\n%s", setting->value, value);
	ga_secret_free(setting->value);
	setting->value = joined;
}

/* The ini_handler: remember each key's text and line; values are parsed later. */
static int
handle_setting(void *user, const char *section, const char *name, const char *value)
{
	struct load *load = user;
	bool continuation = load->line_indented && load->after_key;
	const struct config_key *key;
	struct setting *setting;

	load->after_key = true;
	if (section[0] != '\0' && !config_section_known(section) && prefixed_native(section) == NULL) {
		record_paste_setting(load, section, name, continuation);
		return 1;
	}
	key = find_key(load, section, name);
	if (key == NULL)
		return 1;
	setting = &load->settings[key - config_keys];
	if (load->line_truncated)
		note_error_at(load, GA_EINVAL, load->line,
			      "[%s] %s: line longer than %d characters"
			      " (a list may continue on indented lines)",
			      section, name, CONFIG_LINE_MAX);
	if (continuation && setting->line != 0) {
		continue_setting(setting, value);
		return 1;
	}
	if (setting->line != 0) {
		note_error_at(load, GA_EINVAL, load->line, "[%s] %s: already set on line %d",
			      section, name, setting->line);
		return 1;
	}
	setting->value = ga_strdup(value);
	setting->origin = ga_asprintf("[%s] %s", section, name);
	setting->line = load->line;
	return 1;
}

/* --- a pypicloud server.ini --------------------------------------------- */

/* Put a value taken from pypicloud's settings into row key's setting. */
static void
take_app_value(struct load *load, const struct config_key *key, const char *value,
	       const char *origin, int line)
{
	struct setting *setting = &load->settings[key - config_keys];

	load->has_seed_key = true;
	if (setting->origin != NULL && !setting->from_app) {
		/* A ghaccess section says it too: which one would win is a guess. */
		if (line == 0)
			note_error_at(load, GA_EINVAL, setting->line, "%s: conflicts with %s (set"
				      " one)", setting->origin, origin);
		else if (setting->line > line)
			note_error_at(load, GA_EINVAL, setting->line, "%s: conflicts with %s on"
				      " line %d (set one)", setting->origin, origin, line);
		else
			note_error_at(load, GA_EINVAL, line, "%s: conflicts with %s on line %d"
				      " (set one)", origin, setting->origin, setting->line);
		return;
	}
	/* pypicloud's environment wins over its file; take it the same way. */
	ga_secret_free(setting->value);
	ga_free(setting->origin);
	setting->value = ga_strdup(value);
	setting->origin = ga_strdup(origin);
	setting->line = line;
	setting->from_app = true;
}

/* PPC_AUTH_OTC_GITHUB_TOKEN for auth.otc.github.token (pypicloud's util.py). */
static void
take_app_environment(struct load *load, const struct config_key *key, const char *app_key)
{
	char name[96];
	const char *value;
	size_t len = strlen(PYPICLOUD_ENVIRONMENT_PREFIX);

	snprintf(name, sizeof(name), "%s%s", PYPICLOUD_ENVIRONMENT_PREFIX, app_key);
	for (char *c = name + len; *c != '\0'; c++)
		*c = *c == '.' ? '_' : (char)toupper((unsigned char)*c);
	value = getenv(name);
	if (value != NULL) {
		char origin[sizeof(name) + 1];

		snprintf(origin, sizeof(origin), "$%s", name);
		take_app_value(load, key, value, origin, 0);
	}
}

/* One key of pypicloud's settings; allow_default: ghaccess alone reads it,
 * so [DEFAULT] (which pypicloud never sees) may hold it. */
static void
read_app_key(struct load *load, const char *app_key, const struct config_key *key,
	     bool allow_default)
{
	struct paste_problem problem = { "", 0 };
	struct paste_value value;
	enum paste_found found = paste_ini_get(load->paste, app_key, &value, &problem);
	char *origin;

	if (found == PASTE_ERROR) {
		note_error_at(load, GA_EINVAL, problem.line, "%s", problem.text);
	} else if (found == PASTE_IN_DEFAULT && !allow_default) {
		note_error_at(load, GA_EINVAL, value.line,
			      "[DEFAULT] %s: pypicloud does not see [DEFAULT] (PasteDeploy hands it"
			      " over as global configuration, which pypicloud ignores): set it in"
			      " [%s]", app_key, paste_ini_app(load->paste));
	} else if (found != PASTE_ABSENT) {
		origin = ga_asprintf("[%s] %s", value.section, value.name);
		take_app_value(load, key, value.value, origin, value.line);
		ga_free(origin);
	}
	ga_secret_free(value.value);
	take_app_environment(load, key, app_key);
}

/* ghaccess's sections where PasteDeploy never looks; the settings pypicloud
 * itself gets, exactly as PasteDeploy hands them over. */
static void
read_server_ini(struct load *load)
{
	struct paste_problem problem = { "", 0 };

	if (load->bare_native_line != 0)
		note_error_at(load, GA_EINVAL, load->bare_native_line,
			      "[%s]: in a pypicloud server.ini write [" PREFIXED_SECTION "%s]%s",
			      load->bare_native, load->bare_native,
			      strcmp(load->bare_native, "server") == 0
			      ? " ([server] makes PasteDeploy's lookup of [server:main] ambiguous:"
				" pserve fails)" : ", where PasteDeploy never looks");
	if (!paste_ini_find_app(load->paste, &problem) || !paste_ini_check(load->paste, &problem)) {
		note_error_at(load, GA_EINVAL, problem.line, "%s", problem.text);
		return;
	}
	for (size_t i = 0; i < config_key_count; i++) {
		char *app_key;

		if (config_keys[i].seed_name == NULL)
			continue;
		app_key = ga_asprintf(SEED_PREFIX "%s", config_keys[i].seed_name);
		read_app_key(load, app_key, &config_keys[i], true);
		ga_free(app_key);
	}
	/* pypicloud's own credentials for the remote backend are ours. */
	read_app_key(load, "auth.user", config_key_find("server", "backend_user"), false);
	read_app_key(load, "auth.password", config_key_find("server", "backend_password"), false);
}

static void
parse_text(struct load *load)
{
	/* The handler never stops inih, so a positive result is a syntax error. */
	int syntax_error_line = ini_parse_stream(read_line, load, handle_setting, load);

	if (syntax_error_line > 0)
		note_error_at(load, GA_EINVAL, syntax_error_line,
			      "syntax error: expected [section], key = value or a comment");
	else if (syntax_error_line < 0)
		note_error(load, GA_ENOMEM, "inih failed (%d)", syntax_error_line);
	if (load->has_paste_section) {
		load->config->server_ini = true;
		read_server_ini(load);
	} else {
		if (load->unknown_section_line != 0)
			note_error_at(load, GA_EINVAL, load->unknown_section_line,
				      "[%s]: unknown section", load->unknown_section);
		if (load->prefixed_line != 0)
			note_error_at(load, GA_EINVAL, load->prefixed_line,
				      "[ghaccess:...] sections belong in a pypicloud server.ini;"
				      " in a ghaccess file write the section without the prefix");
	}
	if (!load->has_native_section && !load->has_prefixed_section && !load->has_seed_key)
		note_error(load, GA_EINVAL,
			   "no ghaccess settings: expected a [github] section or, in a pypicloud"
			   " server.ini, auth.otc.github.* keys in [app:main] or a [ghaccess:github]"
			   " section");
}

/* --- values and their combinations -------------------------------------- */

static void
apply_settings(struct load *load)
{
	char problem[CONFIG_PROBLEM_MAX];

	for (size_t i = 0; i < config_key_count; i++) {
		const struct setting *setting = &load->settings[i];

		if (!is_set(setting))
			continue;
		if (!config_key_apply(load->config, &config_keys[i], setting->value, problem,
				      sizeof(problem)))
			note_error_at(load, GA_EINVAL, setting->line, "%s: %s", setting->origin,
				      problem);
	}
}

/* Two keys that say the same thing in two ways: only one may be set. */
static void
check_exclusive(struct load *load, const char *section, const char *first_name,
		const char *second_name)
{
	const struct setting *first = setting_of(load, section, first_name);
	const struct setting *second = setting_of(load, section, second_name);
	const struct setting *later;

	if (!is_set(first) || !is_set(second))
		return;
	later = first->line > second->line ? first : second;
	note_error_at(load, GA_EINVAL, later->line, "%s: conflicts with %s on line %d (set one)",
		      later->origin, later == first ? second->origin : first->origin,
		      later == first ? second->line : first->line);
}

/* A key that is useless without another: complain on its line. */
static void
check_needs(struct load *load, const char *section, const char *name, bool satisfied,
	    const char *what)
{
	const struct setting *setting = setting_of(load, section, name);

	if (is_set(setting) && !satisfied)
		note_error_at(load, GA_EINVAL, setting->line, "%s: needs %s", setting->origin,
			      what);
}

static void
check_cache_times(struct load *load)
{
	struct config *config = load->config;
	const struct setting *max_stale = setting_of(load, "cache", "max_stale");

	if (config->max_stale >= config->expiration)
		return;
	/* Only an explicit max_stale is wrong; the default grows with the expiration. */
	if (max_stale->line == 0)
		config->max_stale = config->expiration;
	else
		note_error_at(load, GA_EINVAL, max_stale->line,
			      "%s: must be at least the expiration (%d)", max_stale->origin,
			      config->expiration);
}

/* [web]: client_id turns the pages on and needs the rest; the rest needs it. */
static void
check_web(struct load *load)
{
	const struct config *config = load->config;
	bool on = config->web_client_id != NULL;
	static const char *const needed[] = { "client_secret_file", "session_key_file", "url" };
	/* session_lifetime and cookie_secure may stand at their defaults in a
	 * file without pages (examples/ghaccess.ini does). */
	static const char *const optional[] = { "github_url", "index_url" };

	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		check_needs(load, "web", needed[i], on, "client_id");
		if (on && !is_set(setting_of(load, "web", needed[i])))
			note_error_at(load, GA_EINVAL, setting_of(load, "web", "client_id")->line,
				      "%s: needs [web] %s", setting_of(load, "web", "client_id")->origin,
				      needed[i]);
	}
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		check_needs(load, "web", optional[i], on, "client_id");
}

/*
 * A budget of things in flight (section.key) must hold one of the largest
 * (*floor, named floor_name): a default too small grows to it, an explicit
 * value too small is an error.
 */
static void
check_budget_holds_one(struct load *load, const char *section, const char *key,
		       long long *budget, long long floor, const char *floor_name)
{
	const struct setting *setting = setting_of(load, section, key);

	if (*budget >= floor)
		return;
	if (setting->line == 0)
		*budget = floor;
	else
		note_error_at(load, GA_EINVAL, setting->line,
			      "%s: must be at least %s (%lld bytes)", setting->origin, floor_name,
			      floor);
}

/* Each item of a [trusted_publishing] list, by the rule of its key. */
static void
check_tp_list(struct load *load, const char *name, const struct config_list *list,
	      bool (*valid)(const char *item), const char *rule)
{
	const struct setting *setting = setting_of(load, "trusted_publishing", name);

	for (size_t i = 0; i < list->count; i++)
		if (!valid(list->items[i])) {
			note_error_at(load, GA_EINVAL, setting->line, "%s: %.80s: %s",
				      setting->origin, list->items[i], rule);
			return;
		}
}

static bool
valid_ref_pattern(const char *item)
{
	return strncmp(item, "refs/", 5) == 0 && strlen(item) <= 255;
}

static bool
valid_workflow(const char *item)
{
	return strstr(item, ".github/workflows/") != NULL && strlen(item) <= 512;
}

static bool
valid_event(const char *item)
{
	size_t len = strlen(item);

	for (const char *c = item; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || *c == '_'))
			return false;
	return len > 0 && len <= 64;
}

static bool
valid_environment(const char *item)
{
	return strlen(item) <= 255;
}

/* REPOSITORY:PACKAGE, neither empty, one colon, no wildcard. */
static bool
valid_grant(const char *item)
{
	const char *colon = strchr(item, ':');

	return colon != NULL && colon != item && colon[1] != '\0' &&
	       strchr(colon + 1, ':') == NULL && strpbrk(item, "*?[") == NULL &&
	       strlen(item) <= 255;
}

/* [trusted_publishing]: enabled needs an audience and a key. */
static void
check_trusted_publishing(struct load *load)
{
	const struct config *config = load->config;
	const struct setting *enabled = setting_of(load, "trusted_publishing", "enabled");
	static const char *const needed[] = { "audience", "key_file" };

	check_tp_list(load, "allowed_refs", &config->tp_allowed_refs, valid_ref_pattern,
		      "a ref pattern starts with refs/ (e.g. refs/tags/*)");
	check_tp_list(load, "allowed_environments", &config->tp_allowed_environments,
		      valid_environment, "longer than 255 characters");
	check_tp_list(load, "allowed_workflows", &config->tp_allowed_workflows, valid_workflow,
		      "a workflow is a path under .github/workflows/, or an "
		      "OWNER/REPO/.github/workflows/FILE@REF pattern");
	check_tp_list(load, "allowed_events", &config->tp_allowed_events, valid_event,
		      "an event name is lower-case letters and '_' (e.g. push, release)");
	check_tp_list(load, "read_grants", &config->tp_read_grants, valid_grant,
		      "a grant is REPOSITORY:PACKAGE (no wildcard)");
	if (!config->tp_enabled)
		return;
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!is_set(setting_of(load, "trusted_publishing", needed[i])))
			note_error_at(load, GA_EINVAL, enabled->line, "%s: needs [%strusted_publishing] %s",
				      enabled->origin, config->server_ini ? PREFIXED_SECTION : "",
				      needed[i]);
	if (config->index_storage_dir == NULL)
		note_error_at(load, GA_EINVAL, enabled->line,
			      "%s: needs [%sindex] storage_dir (minted tokens upload to the built-in "
			      "index)", enabled->origin, config->server_ini ? PREFIXED_SECTION : "");
}

static void
check_combinations(struct load *load)
{
	const struct config *config = load->config;
	bool has_password = config->backend_password != NULL
		|| config->backend_password_file != NULL;

	check_exclusive(load, "github", "token", "token_file");
	check_exclusive(load, "server", "backend_password", "backend_password_file");
	check_needs(load, "github", "app_client_id", config->app_private_key_file != NULL,
		    "app_private_key_file");
	check_needs(load, "github", "app_private_key_file", config->app_client_id != NULL,
		    "app_client_id");
	check_needs(load, "github", "app_installation_id", config->app_client_id != NULL,
		    "app_client_id");
	check_needs(load, "server", "backend_user", has_password,
		    setting_of(load, "server", "backend_user")->from_app
		    ? "auth.password" : "backend_password or backend_password_file");
	check_needs(load, "server", "backend_password", config->backend_user != NULL,
		    setting_of(load, "server", "backend_password")->from_app
		    ? "auth.user" : "backend_user");
	check_needs(load, "server", "backend_password_file", config->backend_user != NULL,
		    "backend_user");
	check_cache_times(load);
	check_web(load);
	/* Every delivery in flight, and every upload in progress, may be of
	 * the largest size. */
	check_budget_holds_one(load, "webhook", "max_memory", &load->config->webhook_max_memory,
			       config->webhook_max_body, "[webhook] max_body");
	check_budget_holds_one(load, "index", "max_upload_disk",
			       &load->config->index_max_upload_disk, config->index_max_upload_size,
			       "max_upload_size");
	check_trusted_publishing(load);
}

static const char *
token_from_environment(void)
{
	const char *token = getenv(TOKEN_ENVIRONMENT);

	return token != NULL && token[0] != '\0' ? token : NULL;
}

static void
check_required(struct load *load)
{
	const struct config *config = load->config;
	const char *prefix = config->server_ini ? PREFIXED_SECTION : "";

	if (config->organization == NULL)
		note_error(load, GA_EINVAL, config->server_ini
			   ? "[%s] " SEED_PREFIX "organization: required (or [%sgithub] organization)"
			   : "[%s%sgithub] organization: required",
			   config->server_ini ? paste_ini_app(load->paste) : "", prefix);
	if (config->token == NULL && config->token_file == NULL
	    && token_from_environment() == NULL && config->app_client_id == NULL)
		note_error(load, GA_EINVAL,
			   "[%sgithub] token: required (or token_file, $" TOKEN_ENVIRONMENT
			   ", or app_client_id with app_private_key_file%s)", prefix,
			   config->server_ini ? "; in [app:main] " SEED_PREFIX "token" : "");
	if (config->cache_backend == CONFIG_CACHE_MEMCACHE && config->secret_file == NULL)
		note_error(load, GA_EINVAL,
			   "[%scache] secret_file: required with backend = memcache"
			   " (the key that protects the shared entries)", prefix);
}

/* GitHub Enterprise serves GraphQL at /api/graphql beside REST's /api/v3. */
static void
derive_graphql_url(struct load *load)
{
	struct config *config = load->config;
	const char *rest_suffix = "/api/v3";
	size_t len = strlen(config->api_url);
	size_t suffix_len = strlen(rest_suffix);

	if (is_set(setting_of(load, "github", "graphql_url")))
		return;
	ga_free(config->graphql_url);
	if (len >= suffix_len && strcmp(config->api_url + len - suffix_len, rest_suffix) == 0)
		config->graphql_url = ga_asprintf("%.*s/api/graphql", (int)(len - suffix_len),
						  config->api_url);
	else
		config->graphql_url = ga_asprintf("%s/graphql", config->api_url);
}

/*
 * GitHub's web host (where /login/oauth/ lives), from the REST API's URL as
 * GitHub documents them: https://api.github.com -> https://github.com,
 * https://api.SUBDOMAIN.ghe.com -> https://SUBDOMAIN.ghe.com, Enterprise
 * Server's https://HOST/api/v3 -> https://HOST.  Anything else must be set.
 */
static void
derive_web_github_url(struct load *load)
{
	struct config *config = load->config;
	const char *api = config->api_url;
	const char *suffix = "/api/v3";
	size_t len = strlen(api);
	size_t scheme = strncmp(api, "https://", 8) == 0 ? 8 : strncmp(api, "http://", 7) == 0 ? 7 : 0;

	if (config->web_client_id == NULL || config->web_github_url != NULL)
		return;
	if (len >= strlen(suffix) && strcmp(api + len - strlen(suffix), suffix) == 0)
		config->web_github_url = ga_asprintf("%.*s", (int)(len - strlen(suffix)), api);
	else if (scheme > 0 && strncmp(api + scheme, "api.", 4) == 0 && strchr(api + scheme, '/') == NULL)
		config->web_github_url = ga_asprintf("%.*s%s", (int)scheme, api, api + scheme + 4);
	else
		note_error_at(load, GA_EINVAL, setting_of(load, "web", "client_id")->line,
			      "[web] github_url: required: cannot derive GitHub's web address from "
			      "[github] api_url %s", api);
}

/* --- secrets -------------------------------------------------------------- */

/* Read the secret file of [section] name into *secret; an error names the key's line. */
static void
read_secret(struct load *load, const char *section, const char *name, const char *path,
	    char **secret)
{
	const struct setting *setting = setting_of(load, section, name);
	struct ga_err secret_err;
	enum ga_rc rc;

	if (path == NULL)
		return;
	ga_err_clear(&secret_err);
	rc = ga_secret_read_file(path, secret, &secret_err);
	if (rc != GA_OK)
		note_error_at(load, rc == GA_EIO ? GA_EIO : GA_EINVAL, setting->line, "%s: %s",
			      setting->origin, secret_err.message);
}

static void
load_token(struct load *load)
{
	struct config *config = load->config;
	const char *environment = token_from_environment();

	if (environment != NULL) {
		ga_secret_free(config->token);
		config->token = ga_strdup(environment);
		config->token_source = CONFIG_TOKEN_ENVIRONMENT;
	} else if (config->token_file != NULL) {
		read_secret(load, "github", "token_file", config->token_file, &config->token);
		config->token_source = CONFIG_TOKEN_FILE;
	} else if (config->token != NULL) {
		config->token_source = CONFIG_TOKEN_SETTING;
	}
}

static void
load_secrets(struct load *load)
{
	struct config *config = load->config;
	const struct setting *key_file = setting_of(load, "github", "app_private_key_file");

	load_token(load);
	read_secret(load, "server", "backend_password_file", config->backend_password_file,
		    &config->backend_password);
	read_secret(load, "cache", "secret_file", config->secret_file, &config->secret);
	read_secret(load, "webhook", "secret_file", config->webhook_secret_file,
		    &config->webhook_secret);
	read_secret(load, "web", "client_secret_file", config->web_client_secret_file,
		    &config->web_client_secret);
	read_secret(load, "web", "session_key_file", config->web_session_key_file,
		    &config->web_session_key);
	/* The key signs sessions: a short one could be guessed offline. */
	if (config->web_session_key != NULL && strlen(config->web_session_key) < WEB_KEY_MIN)
		note_error_at(load, GA_EINVAL, setting_of(load, "web", "session_key_file")->line,
			      "%s: the key must be at least %d bytes (e.g. openssl rand -hex 32)",
			      setting_of(load, "web", "session_key_file")->origin, WEB_KEY_MIN);
	read_secret(load, "trusted_publishing", "key_file", config->tp_key_file, &config->tp_key);
	/* The key signs upload tokens: a short one could be guessed offline. */
	if (config->tp_key != NULL && strlen(config->tp_key) < TP_KEY_MIN)
		note_error_at(load, GA_EINVAL,
			      setting_of(load, "trusted_publishing", "key_file")->line,
			      "%s: the key must be at least %d bytes (e.g. openssl rand -hex 32)",
			      setting_of(load, "trusted_publishing", "key_file")->origin, TP_KEY_MIN);
	/* The GitHub client reads the key; say now, not at the first request, if it cannot. */
	if (config->app_private_key_file != NULL && access(config->app_private_key_file, R_OK) != 0)
		note_error_at(load, GA_EIO, key_file->line, "%s: %s: cannot read: %s",
			      key_file->origin, config->app_private_key_file, strerror(errno));
}

/* --- the API -------------------------------------------------------------- */

static void
load_free(struct load *load)
{
	for (size_t i = 0; i < config_key_count; i++) {
		ga_secret_free(load->settings[i].value);
		ga_free(load->settings[i].origin);
	}
	ga_free(load->settings);
	paste_ini_free(load->paste);
	config_free(load->config);
}

enum ga_rc
config_load(const char *path, struct config **out, struct ga_err *err)
{
	struct ga_buf text;
	struct load load = { .path = path };
	enum ga_rc rc;

	*out = NULL;
	ga_err_clear(err);
	rc = read_config_file(path, &text, err);
	if (rc != GA_OK)
		return rc;
	load.text = ga_buf_cstr(&text);
	load.text_len = text.len;
	load.settings = ga_calloc(config_key_count, sizeof(*load.settings));
	load.paste = paste_ini_new(path);
	load.config = config_new_defaults();
	load.config->path = ga_strdup(path);

	parse_text(&load);
	apply_settings(&load);
	if (!failed(&load))
		check_combinations(&load);
	if (!failed(&load))
		check_required(&load);
	if (!failed(&load)) {
		derive_graphql_url(&load);
		derive_web_github_url(&load);
		load_secrets(&load);
	}
	wipe_buf(&text);
	rc = load.error_code;
	if (rc == GA_OK) {
		*out = load.config;
		load.config = NULL;
	} else {
		ga_err_set_at(err, rc, load.error_line, 0, "%s", load.error);
	}
	load_free(&load);
	return rc;
}

struct config *
config_new_defaults(void)
{
	struct config *config = ga_calloc(1, sizeof(*config));
	char problem[CONFIG_PROBLEM_MAX];

	config->base_permission = CONFIG_PERMISSION_UNSET;
	for (size_t i = 0; i < config_key_count; i++) {
		const struct config_key *key = &config_keys[i];

		if (key->default_text == NULL)
			continue;
		if (!config_key_apply(config, key, key->default_text, problem, sizeof(problem))) {
			/* A wrong default in the table is a bug, not a user's mistake. */
			ga_logf(GA_LOG_ERROR, "config: bad default for [%s] %s: %s", key->section,
				key->name, problem);
			abort();
		}
	}
	return config;
}

void
config_free(struct config *config)
{
	if (config == NULL)
		return;
	for (size_t i = 0; i < config_key_count; i++)
		config_key_clear(config, &config_keys[i]);
	ga_free(config->path);
	ga_secret_free(config->secret);
	ga_secret_free(config->webhook_secret);
	ga_secret_free(config->web_client_secret);
	ga_secret_free(config->web_session_key);
	ga_secret_free(config->tp_key);
	ga_free(config);
}
