/*
 * ga_clock.h - the two clocks ghaccess reads, in milliseconds.
 *
 *   ga_monotonic_ms   for durations and deadlines (never jumps);
 *   ga_wall_ms        Unix time, for what is compared across threads or
 *                     with GitHub's data (e.g. a webhook removal against
 *                     the start of a sync).
 *
 * Thread-safe, no allocation.
 */
#ifndef GA_CLOCK_H
#define GA_CLOCK_H

long long ga_monotonic_ms(void);
long long ga_wall_ms(void);

#endif
