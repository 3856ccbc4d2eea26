/* ga_log.c - logfmt / JSON lines log sink; see ga_log.h. */
#include "util/ga_log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/ga_buf.h"

#define LOG_LINE_MAX 8192

static enum ga_log_level log_threshold = GA_LOG_INFO;
static enum ga_log_format log_format = GA_LOG_LOGFMT;
static int log_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
ga_log_setup(enum ga_log_level threshold, enum ga_log_format format)
{
	log_threshold = threshold;
	log_format = format;
}

void
ga_log_set_fd(int fd)
{
	log_fd = fd;
}

int
ga_log_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

/* logfmt needs quotes when the value has spaces, quotes, '=' or controls. */
static bool
needs_quotes(const char *value)
{
	if (*value == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
			return true;
	return false;
}

/* Escape quotes, backslashes and control characters (both formats). */
static void
append_escaped(struct ga_buf *line, const char *value)
{
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		switch (*p) {
		case '"':  ga_buf_append_str(line, "\\\""); break;
		case '\\': ga_buf_append_str(line, "\\\\"); break;
		case '\n': ga_buf_append_str(line, "\\n"); break;
		case '\r': ga_buf_append_str(line, "\\r"); break;
		case '\t': ga_buf_append_str(line, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				ga_buf_printf(line, "\\u%04x", *p);
			else
				ga_buf_append_char(line, (char)*p);
		}
	}
}

static void
append_field(struct ga_buf *line, const char *key, const char *value)
{
	if (log_format == GA_LOG_JSON) {
		ga_buf_append_str(line, line->len > 1 ? ",\"" : "\"");
		append_escaped(line, key);
		ga_buf_append_str(line, "\":\"");
		append_escaped(line, value);
		ga_buf_append_char(line, '"');
		return;
	}
	if (line->len > 0)
		ga_buf_append_char(line, ' ');
	ga_buf_append_str(line, key);
	ga_buf_append_char(line, '=');
	if (needs_quotes(value)) {
		ga_buf_append_char(line, '"');
		append_escaped(line, value);
		ga_buf_append_char(line, '"');
	} else {
		ga_buf_append_str(line, value);
	}
}

static void
emit(enum ga_log_level level, const char *msg, va_list fields)
{
	char stamp[96];
	struct timespec now;
	struct tm tm;
	struct ga_buf line;
	const char *key;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(now.tv_nsec / 1000000));

	ga_buf_init(&line, LOG_LINE_MAX);
	if (log_format == GA_LOG_JSON)
		ga_buf_append_char(&line, '{');
	append_field(&line, "time", stamp);
	append_field(&line, "level", level_names[level]);
	append_field(&line, "msg", msg);
	while ((key = va_arg(fields, const char *)) != NULL) {
		const char *value = va_arg(fields, const char *);

		append_field(&line, key, value ? value : "");
	}
	if (log_format == GA_LOG_JSON)
		ga_buf_append_char(&line, '}');
	ga_buf_append_char(&line, '\n');
	if (line.len > 0 && line.data[line.len - 1] != '\n') {
		/* The line hit LOG_LINE_MAX: end it anyway, marked as cut. */
		line.max = 0;
		ga_buf_append_str(&line, " truncated=true\n");
	}
	if (write(log_fd, line.data, line.len) < 0) {
		/* Nowhere left to report a failing log sink. */
	}
	ga_buf_free(&line);
}

void
ga_log(enum ga_log_level level, const char *msg, ...)
{
	va_list fields;

	if (level < log_threshold || level >= GA_LOG_SILENT)
		return;
	va_start(fields, msg);
	emit(level, msg, fields);
	va_end(fields);
}

static void
emit_message_only(enum ga_log_level level, const char *msg, ...)
{
	va_list fields;

	va_start(fields, msg);
	emit(level, msg, fields);
	va_end(fields);
}

void
ga_logf(enum ga_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level < log_threshold || level >= GA_LOG_SILENT)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit_message_only(level, msg, (const char *)NULL);
}
