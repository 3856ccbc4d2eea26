/*
 * fuzz_config.c - the configuration file is read with inih and validated by
 * config_load: any bytes must give a configuration or a clear error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"
#include "util/ga_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	struct config *config = NULL;
	struct ga_err err;

	if (fd < 0) {
		fd = memfd_create("fuzz-config", 0);
		ga_log_setup(GA_LOG_SILENT, GA_LOG_LOGFMT);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (config_load(path, &config, &err) == GA_OK) {
		FILE *sink = fopen("/dev/null", "w");

		config_print(config, sink);
		fclose(sink);
		config_free(config);
	}
	return 0;
}
