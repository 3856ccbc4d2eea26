/*
 * ga_clock.h - the two clocks ghaccess reads.
 *
 *   ga_monotonic_ms   for durations and deadlines (never jumps);
 *   ga_wall_ms        Unix time, for what is compared across threads or
 *                     with GitHub's data (e.g. a webhook removal against
 *                     the start of a sync);
 *   ga_wall_s         Unix time in whole seconds from the coarse clock (a
 *                     few ms behind, and cheap): for ages compared on
 *                     every request (a snapshot's against max_stale).
 *
 * Thread-safe, no allocation.
 */
#ifndef GA_CLOCK_H
#define GA_CLOCK_H

long long ga_monotonic_ms(void);
long long ga_wall_ms(void);
long long ga_wall_s(void);

#endif
