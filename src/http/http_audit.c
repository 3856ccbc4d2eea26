/* http_audit.c - one audit line per access decision; see http_audit.h. */
#include "http/http_audit.h"

#include "util/ga_log.h"

void
http_audit(struct http_request *request, const char *action, const char *user,
	   const char *package, const char *file, bool allowed, const char *reason)
{
	const char *decision = allowed ? "allow" : "deny";

	http_request_note_decision(request, allowed);
	/* A NULL key ends the list: the optional fields come last. */
	if (package != NULL && file != NULL)
		ga_log(GA_LOG_INFO, "audit", "action", action, "user", user ? user : "-",
		       "decision", decision, "reason", reason, "package", package, "file", file,
		       (char *)NULL);
	else
		ga_log(GA_LOG_INFO, "audit", "action", action, "user", user ? user : "-",
		       "decision", decision, "reason", reason, package ? "package" : NULL,
		       package, (char *)NULL);
}
