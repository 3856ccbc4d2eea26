/* ga_clock.c - monotonic and wall clocks; see ga_clock.h. */
#include "util/ga_clock.h"

#include <time.h>

static long long
read_ms(clockid_t clock)
{
	struct timespec now;

	clock_gettime(clock, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

long long
ga_monotonic_ms(void)
{
	return read_ms(CLOCK_MONOTONIC);
}

long long
ga_wall_ms(void)
{
	return read_ms(CLOCK_REALTIME);
}

long long
ga_wall_s(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	return (long long)now.tv_sec;
}
