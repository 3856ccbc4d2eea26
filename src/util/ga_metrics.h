/*
 * ga_metrics.h - a small Prometheus registry: counters, gauges, histograms.
 *
 * Series are registered at start-up, each with a fixed set of labels, and
 * hand back a handle; the hot path only touches that handle with one
 * atomic operation (lock-free, no allocation, no lookup):
 *
 *     struct ga_metrics_counter *ok = ga_metrics_counter(registry,
 *             "ghaccess_requests_total", "HTTP requests answered.",
 *             "endpoint", "verify", "outcome", "ok", NULL);
 *     ...
 *     ga_metrics_counter_add(ok, 1);
 *
 * Labels are NULL-terminated name, value pairs.  Series of one family
 * (same name) share the HELP text, the type and the label names (in the
 * same order); registering an existing series returns the same handle.
 * Names follow Prometheus: metric [a-zA-Z_:][a-zA-Z0-9_:]*, label
 * [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__", "le" reserved for
 * histograms.  Breaking these rules is a programming error: the process
 * logs it and aborts, at start-up, where it is found at once.
 *
 * ga_metrics_write() renders the text exposition format 0.0.4: families in
 * registration order, each with "# HELP" and "# TYPE", series in
 * registration order, label values escaped (\\, \", \n), histograms as
 * cumulative _bucket{le="..."} lines ending with le="+Inf", then _sum and
 * _count.  Values read while others increment are each exact; a scrape is
 * not one atomic snapshot of all series (Prometheus does not need one).
 *
 * Thread-safety: registration and writing take the registry's lock and may
 * happen from any thread; updates through handles are lock-free from any
 * thread.  Handles live as long as the registry.  Update functions accept
 * a NULL handle and do nothing, so optional metrics need no checks.
 */
#ifndef GA_METRICS_H
#define GA_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ga_buf.h"

struct ga_metrics;
struct ga_metrics_counter;
struct ga_metrics_gauge;
struct ga_metrics_histogram;

enum ga_metrics_type {
	GA_METRICS_COUNTER = 0,
	GA_METRICS_GAUGE,
	GA_METRICS_HISTOGRAM,
};

/* A new empty registry (free with ga_metrics_destroy). */
struct ga_metrics *ga_metrics_create(void);

/* Free the registry and every handle it gave out.  NULL is fine. */
void ga_metrics_destroy(struct ga_metrics *metrics);

/* A monotonically increasing 64-bit count, starting at 0. */
struct ga_metrics_counter *ga_metrics_counter(struct ga_metrics *metrics, const char *name,
					      const char *help, ...)
	__attribute__((sentinel));

/* A value that goes up and down (a double), starting at 0. */
struct ga_metrics_gauge *ga_metrics_gauge(struct ga_metrics *metrics, const char *name,
					  const char *help, ...) __attribute__((sentinel));

/*
 * A histogram with bound_count upper bounds (strictly increasing, finite;
 * copied), plus the implicit +Inf bucket.  Observations are counted in the
 * first bucket whose bound is >= the value.
 */
struct ga_metrics_histogram *ga_metrics_histogram(struct ga_metrics *metrics, const char *name,
						  const char *help, const double *bounds,
						  size_t bound_count, ...)
	__attribute__((sentinel));

/*
 * A counter or gauge whose value is read when the registry is written, by
 * calling read(context) under the registry's lock: for numbers another
 * module already keeps (the token cache's hits, the snapshot's age).  read
 * must be quick, must not call back into the registry, and context must
 * outlive the registry (or the last write).
 */
void ga_metrics_callback(struct ga_metrics *metrics, enum ga_metrics_type type,
			 const char *name, const char *help,
			 double (*read)(void *context), void *context, ...)
	__attribute__((sentinel));

/* Updates: lock-free, any thread, NULL handle ignored. */
void ga_metrics_counter_add(struct ga_metrics_counter *counter, uint64_t amount);
void ga_metrics_gauge_set(struct ga_metrics_gauge *gauge, double value);
void ga_metrics_gauge_add(struct ga_metrics_gauge *gauge, double amount);
void ga_metrics_observe(struct ga_metrics_histogram *histogram, double value);

/* Current values (tests, /health). */
uint64_t ga_metrics_counter_value(const struct ga_metrics_counter *counter);
double ga_metrics_gauge_value(const struct ga_metrics_gauge *gauge);
uint64_t ga_metrics_histogram_count(const struct ga_metrics_histogram *histogram);

/*
 * Append the text exposition format to out.  Returns false when out's
 * maximum was reached (what fits is there, cut at a line).
 */
bool ga_metrics_write(struct ga_metrics *metrics, struct ga_buf *out);

/* The Content-Type of that format. */
#define GA_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * A number as Prometheus writes it: integers without a fraction, others
 * with the fewest digits that read back to the same double, "+Inf",
 * "-Inf", "NaN".  out must hold 32 bytes.  Exported for tests.
 */
void ga_metrics_format_number(double value, char out[32]);

#endif
