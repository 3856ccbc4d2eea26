/*
 * ga_err.h - the one error convention of ghaccess.
 *
 * Every fallible function returns an enum ga_rc (GA_OK is 0) and, when the
 * caller passes one, fills a struct ga_err with a human-readable message.
 * The message is meant for an operator: it names the file, line and key or
 * the remote call that failed.  It never contains a secret: callers must not
 * format tokens or passwords into it.
 */
#ifndef GA_ERR_H
#define GA_ERR_H

#include <stddef.h>

enum ga_rc {
	GA_OK = 0,
	GA_ENOMEM,	/* allocation failed (only where we do not abort) */
	GA_EPARSE,	/* input could not be parsed */
	GA_EINVAL,	/* input parsed but is not acceptable */
	GA_EIO,		/* a local file or socket operation failed */
	GA_EUPSTREAM,	/* GitHub (or memcached) answered badly or not at all */
	GA_EDENIED,	/* GitHub refused our credentials */
	GA_ELIMIT,	/* a size, depth or rate limit was reached */
	GA_ENOTFOUND,	/* the thing asked for does not exist */
};

#define GA_ERR_MESSAGE_MAX 512

struct ga_err {
	enum ga_rc code;
	int line;	/* 1-based input line, 0 when not applicable */
	int column;	/* 1-based input column, 0 when not applicable */
	char message[GA_ERR_MESSAGE_MAX];
};

/*
 * Record an error in err (which may be NULL) and return code, so that a
 * failing function can end with `return ga_err_set(err, GA_EPARSE, ...);`.
 * A later call overwrites an earlier one.
 */
enum ga_rc ga_err_set(struct ga_err *err, enum ga_rc code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, with an input position (line and column, 1-based). */
enum ga_rc ga_err_set_at(struct ga_err *err, enum ga_rc code, int line, int column,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Reset err to GA_OK with an empty message.  err may be NULL. */
void ga_err_clear(struct ga_err *err);

/* A short constant name for a code, e.g. "parse error". */
const char *ga_rc_name(enum ga_rc code);

#endif
