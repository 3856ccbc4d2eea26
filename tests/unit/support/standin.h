/*
 * standin.h - the GitHub stand-in (tests/github-standin) as a child process.
 *
 * standin_start() runs `node tests/github-standin/server.js ARGS --listen
 * 127.0.0.1:0`, waits for its "listening on http://127.0.0.1:PORT" line and
 * returns the base URL.  When node or the stand-in's node_modules are
 * missing it skips the calling cmocka test (make check installs them).  The
 * child dies with the test process (PR_SET_PDEATHSIG), so a crashing test
 * leaves no server behind.
 *
 * The stand-in's directory is $GHACCESS_STANDIN_DIR, else
 * tests/github-standin relative to the working directory (the repository
 * root, where tests/run-tests.sh runs the tests).  Its stderr goes to
 * /dev/null unless STANDIN_VERBOSE is set.
 */
#ifndef TEST_STANDIN_H
#define TEST_STANDIN_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "config/config.h"

struct standin {
	pid_t pid;
	char url[256];		/* "http://127.0.0.1:PORT", no trailing slash */
	char prefix[64];	/* "" or "/api" (--prefix) */
};

/* true when node and the stand-in's node_modules are there. */
bool standin_available(void);

/*
 * Start a stand-in with args (NULL-terminated, e.g. {"--scenario", path,
 * NULL}).  Skips the test when the stand-in is not available; fails it when
 * the server does not come up within 30 s.  Free with standin_stop().
 */
struct standin *standin_start(const char *const *args);

/* SIGTERM, wait (SIGKILL after 5 s), free.  NULL is fine. */
void standin_stop(struct standin *standin);

/*
 * POST body (JSON text) to a control endpoint (path "/_standin/..."), or
 * GET it when body is NULL.  Returns the HTTP status (0: no answer); the
 * reply, when reply is not NULL, is a new string (ga_free).
 */
long standin_request(const struct standin *standin, const char *path, const char *body,
		     char **reply);

/* GET /_standin/stats as JSON (json_decref); fails the test on error. */
json_t *standin_stats(const struct standin *standin);
/* One number of those stats (0 when absent). */
long long standin_stat(const struct standin *standin, const char *key);
void standin_reset_stats(const struct standin *standin);

/* POST /_standin/faults with fault_json; fails the test unless accepted. */
void standin_fault(const struct standin *standin, const char *fault_json);

/* POST /_standin/scenario with the scenario; fails the test unless accepted. */
void standin_set_scenario(const struct standin *standin, const json_t *scenario);

/*
 * The scenario that `--generate spec` serves (the stand-in's
 * --dump-scenario), to compute expectations.  Fails the test on error.
 */
json_t *standin_generated_scenario(const char *spec);

/*
 * A default config for the stand-in: api_url (with /v3 under a prefix),
 * graphql_url, organization and token set, short timeouts.  scenario (may
 * be NULL) supplies the "config" filters (scenario_config).  Free with
 * config_free.
 */
struct config *standin_config(const struct standin *standin, const json_t *scenario,
			      const char *organization, const char *token);

#endif
