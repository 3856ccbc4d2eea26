/*
 * ga_log.h - the log sink: one line per event on standard error.
 *
 * Lines are logfmt by default (`time=… level=info msg="…" key=value`) or
 * JSON lines.  Fields are passed as pairs of strings ending with NULL:
 *
 *     ga_log(GA_LOG_INFO, "sync done", "members", "12", "points", "3", NULL);
 *
 * Values are quoted and escaped as needed, so a hostile value cannot forge
 * a second log line.  Never pass a token, a password, an Authorization
 * header or a query string: the sink cannot tell them apart from data.
 * Thread-safe: each line is written with a single write(2).
 */
#ifndef GA_LOG_H
#define GA_LOG_H

enum ga_log_level {
	GA_LOG_DEBUG = 0,
	GA_LOG_INFO,
	GA_LOG_WARN,
	GA_LOG_ERROR,
	GA_LOG_SILENT,	/* only as a threshold: log nothing */
};

enum ga_log_format {
	GA_LOG_LOGFMT = 0,
	GA_LOG_JSON,
};

/* Set the threshold and format (default: info, logfmt).  Call before threads start. */
void ga_log_setup(enum ga_log_level threshold, enum ga_log_format format);

/* Redirect the sink to another file descriptor (tests); default 2. */
void ga_log_set_fd(int fd);

/* Parse "debug"/"info"/"warn"/"error"; -1 when unknown. */
int ga_log_level_parse(const char *name);

/* Log msg with NULL-terminated key, value pairs. */
void ga_log(enum ga_log_level level, const char *msg, ...) __attribute__((sentinel));

/* Log a formatted message with no fields. */
void ga_logf(enum ga_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
