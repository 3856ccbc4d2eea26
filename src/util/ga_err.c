/* ga_err.c - error records; see ga_err.h. */
#include "util/ga_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum ga_rc
set_message(struct ga_err *err, enum ga_rc code, int line, int column,
	    const char *fmt, va_list ap)
{
	if (err == NULL)
		return code;
	err->code = code;
	err->line = line;
	err->column = column;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	return code;
}

enum ga_rc
ga_err_set(struct ga_err *err, enum ga_rc code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(err, code, 0, 0, fmt, ap);
	va_end(ap);
	return code;
}

enum ga_rc
ga_err_set_at(struct ga_err *err, enum ga_rc code, int line, int column,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(err, code, line, column, fmt, ap);
	va_end(ap);
	return code;
}

void
ga_err_clear(struct ga_err *err)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
}

const char *
ga_rc_name(enum ga_rc code)
{
	switch (code) {
	case GA_OK:		return "ok";
	case GA_ENOMEM:		return "out of memory";
	case GA_EPARSE:		return "parse error";
	case GA_EINVAL:		return "invalid";
	case GA_EIO:		return "i/o error";
	case GA_EUPSTREAM:	return "upstream error";
	case GA_EDENIED:	return "denied";
	case GA_ELIMIT:		return "limit reached";
	case GA_ENOTFOUND:	return "not found";
	}
	return "unknown error";
}
