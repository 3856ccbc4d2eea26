/* standin.c - the GitHub stand-in as a child process of a test; see standin.h. */
#include "standin.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "scenario.h"
#include "util/ga_buf.h"
#include "util/ga_xalloc.h"

#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 5000

static const char *
standin_directory(void)
{
	const char *directory = getenv("GHACCESS_STANDIN_DIR");

	return directory != NULL && *directory != '\0' ? directory : "tests/github-standin";
}

static bool
node_on_path(void)
{
	const char *path = getenv("PATH");
	char *copy;
	bool found = false;

	if (path == NULL)
		return false;
	copy = ga_strdup(path);
	for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir != NULL && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *candidate = ga_asprintf("%s/node", dir);

		found = access(candidate, X_OK) == 0;
		ga_free(candidate);
	}
	ga_free(copy);
	return found;
}

bool
standin_available(void)
{
	char *server = ga_asprintf("%s/server.js", standin_directory());
	char *modules = ga_asprintf("%s/node_modules/graphql", standin_directory());
	struct stat info;
	bool available = node_on_path() && stat(server, &info) == 0 && stat(modules, &info) == 0;

	ga_free(server);
	ga_free(modules);
	return available;
}

static void
run_child(int write_end, const char *const *args)
{
	const char *argv[64];
	size_t argc = 0;
	char *server = ga_asprintf("%s/server.js", standin_directory());

	/* The stand-in must not outlive a test that crashes. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	dup2(write_end, STDOUT_FILENO);
	if (getenv("STANDIN_VERBOSE") == NULL) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDERR_FILENO);
	}
	argv[argc++] = "node";
	argv[argc++] = server;
	for (size_t i = 0; args[i] != NULL && argc < 60; i++)
		argv[argc++] = args[i];
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc] = NULL;
	execvp("node", (char *const *)argv);
	_exit(127);
}

/* The first line of the child's stdout, within the deadline. */
static bool
read_listening_line(int fd, char *line, size_t size)
{
	size_t len = 0;
	long long waited = 0;

	while (len + 1 < size && waited < START_TIMEOUT_MS) {
		struct pollfd poller = {.fd = fd, .events = POLLIN};
		ssize_t got;

		if (poll(&poller, 1, 100) <= 0) {
			waited += 100;
			continue;
		}
		got = read(fd, line + len, 1);
		if (got <= 0)
			return false;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	return strncmp(line, "listening on http://", 20) == 0;
}

static const char *
prefix_of(const char *const *args)
{
	for (size_t i = 0; args[i] != NULL; i++)
		if (strcmp(args[i], "--prefix") == 0 && args[i + 1] != NULL)
			return args[i + 1];
	return "";
}

struct standin *
standin_start(const char *const *args)
{
	struct standin *standin;
	int pipe_ends[2];
	char line[200];

	if (!standin_available()) {
		print_message("skipped: node or %s/node_modules missing (run npm ci there)\n",
			      standin_directory());
		skip();
	}
	assert_int_equal(pipe(pipe_ends), 0);
	standin = ga_calloc(1, sizeof(*standin));
	standin->pid = fork();
	assert_true(standin->pid >= 0);
	if (standin->pid == 0) {
		close(pipe_ends[0]);
		run_child(pipe_ends[1], args);
	}
	close(pipe_ends[1]);
	if (!read_listening_line(pipe_ends[0], line, sizeof(line))) {
		close(pipe_ends[0]);
		standin_stop(standin);
		fail_msg("the stand-in did not start (set STANDIN_VERBOSE=1 to see why)");
	}
	close(pipe_ends[0]);
	snprintf(standin->url, sizeof(standin->url), "%s", line + strlen("listening on "));
	snprintf(standin->prefix, sizeof(standin->prefix), "%s", prefix_of(args));
	return standin;
}

void
standin_stop(struct standin *standin)
{
	int status;
	long waited = 0;

	if (standin == NULL)
		return;
	if (standin->pid > 0) {
		kill(standin->pid, SIGTERM);
		while (waitpid(standin->pid, &status, WNOHANG) == 0) {
			if (waited >= STOP_TIMEOUT_MS) {
				kill(standin->pid, SIGKILL);
				waitpid(standin->pid, &status, 0);
				break;
			}
			usleep(20 * 1000);
			waited += 20;
		}
	}
	ga_free(standin);
}

static size_t
collect_reply(char *data, size_t size, size_t count, void *context)
{
	return ga_buf_append(context, data, size * count) ? size * count : 0;
}

long
standin_request(const struct standin *standin, const char *path, const char *body,
		char **reply)
{
	CURL *handle = curl_easy_init();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	struct ga_buf text;
	char *url = ga_asprintf("%s%s", standin->url, path);
	long status = 0;

	ga_buf_init(&text, 0);
	curl_easy_setopt(handle, CURLOPT_URL, url);
	curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(handle, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, collect_reply);
	curl_easy_setopt(handle, CURLOPT_WRITEDATA, &text);
	if (body != NULL)
		curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(handle) == CURLE_OK)
		curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(handle);
	ga_free(url);
	if (reply != NULL)
		*reply = ga_buf_steal(&text);
	else
		ga_buf_free(&text);
	return status;
}

json_t *
standin_stats(const struct standin *standin)
{
	char *reply = NULL;
	json_t *stats;

	assert_int_equal(standin_request(standin, "/_standin/stats", NULL, &reply), 200);
	stats = json_loads(reply, 0, NULL);
	ga_free(reply);
	assert_non_null(stats);
	return stats;
}

long long
standin_stat(const struct standin *standin, const char *key)
{
	json_t *stats = standin_stats(standin);
	long long value = json_integer_value(json_object_get(stats, key));

	json_decref(stats);
	return value;
}

void
standin_reset_stats(const struct standin *standin)
{
	assert_int_equal(standin_request(standin, "/_standin/stats/reset", "{}", NULL), 200);
}

void
standin_fault(const struct standin *standin, const char *fault_json)
{
	char *reply = NULL;
	long status = standin_request(standin, "/_standin/faults", fault_json, &reply);

	if (status != 200)
		fail_msg("fault %s refused: HTTP %ld %s", fault_json, status, reply);
	ga_free(reply);
}

void
standin_set_scenario(const struct standin *standin, const json_t *scenario)
{
	char *text = json_dumps(scenario, JSON_COMPACT);
	char *reply = NULL;
	long status = standin_request(standin, "/_standin/scenario", text, &reply);

	free(text);	/* from jansson's allocator */
	if (status != 200)
		fail_msg("scenario refused: HTTP %ld %s", status, reply);
	ga_free(reply);
}

json_t *
standin_generated_scenario(const char *spec)
{
	char *command = ga_asprintf("node %s/server.js --generate %s --dump-scenario",
				    standin_directory(), spec);
	FILE *pipe = popen(command, "r");
	json_error_t error;
	json_t *scenario;

	ga_free(command);
	assert_non_null(pipe);
	scenario = json_loadf(pipe, 0, &error);
	pclose(pipe);
	if (scenario == NULL)
		fail_msg("--generate %s --dump-scenario: %s", spec, error.text);
	return scenario;
}

struct config *
standin_config(const struct standin *standin, const json_t *scenario,
	       const char *organization, const char *token)
{
	struct config *config = scenario != NULL ? scenario_config(scenario)
						 : config_new_defaults();

	ga_free(config->organization);
	ga_free(config->token);
	ga_free(config->api_url);
	ga_free(config->graphql_url);
	config->organization = ga_strdup(organization);
	config->token = ga_strdup(token);
	if (standin->prefix[0] != '\0') {
		/* GitHub Enterprise Server: REST under /api/v3, GraphQL at /api/graphql. */
		config->api_url = ga_asprintf("%s%s/v3", standin->url, standin->prefix);
		config->graphql_url = ga_asprintf("%s%s/graphql", standin->url, standin->prefix);
	} else {
		config->api_url = ga_strdup(standin->url);
		config->graphql_url = ga_asprintf("%s/graphql", standin->url);
	}
	config->http_timeout = 10;
	config->connect_timeout = 5;
	return config;
}
