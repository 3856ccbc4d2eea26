/* cli_serve.c - `ghaccess serve`: the daemon behind pypicloud and the other front ends. */
#include "cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "http/http.h"
#include "service/service.h"
#include "util/ga_log.h"

#define DERIVATIONS_MAX 16

static const char help_text[] =
	"  --config FILE     the configuration (ghaccess.ini(5))\n"
	"  --snapshot FILE   serve this snapshot (written by ghaccess sync --out) at\n"
	"                    start, without asking GitHub until the first refresh\n"
	"  --no-access-log   no log line per request\n\n"
	"SIGHUP reloads the configuration and refreshes the snapshot; SIGTERM and\n"
	"SIGINT stop after the requests in flight.\n";

struct serve_options {
	const char *config_path;
	const char *snapshot_path;
	bool access_log;
};

static int
parse_options(int argc, char **argv, struct serve_options *options)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "snapshot", required_argument, NULL, 's' },
		{ "no-access-log", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int option;

	options->access_log = true;
	optind = 1;
	while ((option = getopt_long(argc, argv, "c:s:h", long_options, NULL)) != -1) {
		switch (option) {
		case 'c':
			options->config_path = optarg;
			break;
		case 's':
			options->snapshot_path = optarg;
			break;
		case 'q':
			options->access_log = false;
			break;
		case 'h':
			printf("usage: ghaccess serve %s\n\n%s", cli_serve_command.usage,
			       help_text);
			return -1;
		default:
			return cli_usage_error(&cli_serve_command, NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cli_serve_command, "unexpected argument");
	if (options->config_path == NULL)
		return cli_usage_error(&cli_serve_command, "--config FILE is required");
	return CLI_EXIT_OK;
}

/* Signals are taken synchronously by the main thread (sigwait), so they
 * must be blocked before any thread starts: threads inherit the mask. */
static void
block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Say at start and after each reload when the pypicloud protocol is off. */
static void
log_pypicloud_state(const struct config *config)
{
	if (!config_backend_credentials_set(config))
		ga_log(GA_LOG_WARN, config_backend_hint(config), (char *)NULL);
}

static void
wait_for_signals(struct service *service, const sigset_t *set)
{
	for (;;) {
		struct ga_err err = {0};
		int signal_number = 0;

		if (sigwait(set, &signal_number) != 0)
			continue;
		if (signal_number != SIGHUP) {
			ga_log(GA_LOG_INFO, "stopping", "signal",
			       signal_number == SIGTERM ? "TERM" : "INT", (char *)NULL);
			return;
		}
		if (service_reload(service, &err) != GA_OK)
			ga_log(GA_LOG_ERROR, "reload failed; keeping the running configuration",
			       "error", err.message, (char *)NULL);
		else
			log_pypicloud_state(service_config(service));
	}
}

static int
serve(const struct serve_options *options, struct config *config)
{
	const struct service_derivation *derivations[DERIVATIONS_MAX];
	struct service_options service_options = { options->snapshot_path, derivations };
	struct http_server_options server_options = { options->access_log };
	struct service *service = NULL;
	struct http_server *server = NULL;
	struct ga_err err = {0};
	sigset_t signals;
	char port[8];

	block_signals(&signals);
	http_collect_derivations(derivations, DERIVATIONS_MAX);
	if (service_create(config, &service_options, &service, &err) != GA_OK) {
		ga_log(GA_LOG_ERROR, "cannot start", "error", err.message, (char *)NULL);
		return CLI_EXIT_FAILURE;
	}
	if (http_server_start(service, &server_options, &server, &err) != GA_OK ||
	    service_start(service, &err) != GA_OK) {
		ga_log(GA_LOG_ERROR, "cannot start", "error", err.message, (char *)NULL);
		http_server_stop(server);
		service_destroy(service);
		return CLI_EXIT_FAILURE;
	}
	snprintf(port, sizeof(port), "%u", http_server_port(server));
	ga_log(GA_LOG_INFO, "listening", "address", service_config(service)->listen,
	       "port", port, "version", GHACCESS_VERSION, (char *)NULL);
	log_pypicloud_state(service_config(service));
	wait_for_signals(service, &signals);
	http_server_stop(server);
	service_destroy(service);
	ga_log(GA_LOG_INFO, "stopped", (char *)NULL);
	return CLI_EXIT_OK;
}

static int
run_serve(int argc, char **argv)
{
	struct serve_options options = { NULL, NULL, true };
	struct config *config = NULL;
	struct ga_err err = {0};
	int status = parse_options(argc, argv, &options);

	if (status != CLI_EXIT_OK)
		return status < 0 ? CLI_EXIT_OK : status;
	if (config_load(options.config_path, &config, &err) != GA_OK) {
		fprintf(stderr, "ghaccess serve: %s\n", err.message);
		return CLI_EXIT_USAGE;
	}
	ga_log_setup((enum ga_log_level)config->log_level, (enum ga_log_format)config->log_format);
	return serve(&options, config);
}

const struct cli_command cli_serve_command = {
	.name = "serve",
	.usage = "--config FILE [--snapshot FILE] [--no-access-log]",
	.summary = "answer pypicloud (and the other front ends) from GitHub permissions",
	.run = run_serve,
};
