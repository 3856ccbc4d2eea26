/* ga_metrics.c - Prometheus counters, gauges, histograms and their text format; see ga_metrics.h. */
#include "util/ga_metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* More labels than this on one series is a design mistake, not a need. */
#define MAX_LABELS 8
#define MAX_BOUNDS 64

/* Doubles are kept as their bit patterns in 64-bit atomics, so that a
 * gauge or a histogram sum is updated lock-free (compare and swap). */
struct ga_metrics_counter {
	atomic_uint_least64_t value;
};

struct ga_metrics_gauge {
	atomic_uint_least64_t bits;
};

struct ga_metrics_histogram {
	const double *bounds;		/* the family's */
	size_t bound_count;
	atomic_uint_least64_t *buckets;	/* bound_count + 1, not cumulative; last is +Inf */
	atomic_uint_least64_t sum_bits;
};

struct series {
	char **label_values;
	size_t label_count;
	char *rendered_labels;		/* `a="x",b="y"` escaped; "" without labels */
	double (*read)(void *context);	/* a callback series; NULL otherwise */
	void *context;
	struct ga_metrics_counter counter;
	struct ga_metrics_gauge gauge;
	struct ga_metrics_histogram histogram;
};

struct family {
	char *name;
	char *help;
	enum ga_metrics_type type;
	char **label_names;
	size_t label_count;
	double *bounds;			/* histograms */
	size_t bound_count;
	struct series **series;
	size_t series_count;
	size_t series_cap;
};

struct ga_metrics {
	pthread_mutex_t lock;
	struct family **families;
	size_t family_count;
	size_t family_cap;
};

struct labels {
	const char *names[MAX_LABELS];
	const char *values[MAX_LABELS];
	size_t count;
};

/* ---- bits <-> double ------------------------------------------------ */

static uint64_t
bits_of(double value)
{
	uint64_t bits;

	memcpy(&bits, &value, sizeof(bits));
	return bits;
}

static double
double_of(uint64_t bits)
{
	double value;

	memcpy(&value, &bits, sizeof(value));
	return value;
}

static void
atomic_add_double(atomic_uint_least64_t *target, double amount)
{
	uint64_t old = atomic_load_explicit(target, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(target, &old,
						      bits_of(double_of(old) + amount),
						      memory_order_relaxed, memory_order_relaxed))
		;
}

/* ---- registration ------------------------------------------------------ */

static void __attribute__((noreturn, format(printf, 1, 2)))
misuse(const char *fmt, ...)
{
	char message[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	ga_log(GA_LOG_ERROR, "metrics registration error (a bug)", "problem", message,
	       (char *)NULL);
	abort();
}

static bool
is_name(const char *name, bool colon_allowed)
{
	if (name == NULL || *name == '\0' || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *c = name; *c != '\0'; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '_' || (colon_allowed && *c == ':');

		if (!ok)
			return false;
	}
	return true;
}

static void
collect_labels(const char *metric, enum ga_metrics_type type, va_list ap, struct labels *labels)
{
	const char *name;

	labels->count = 0;
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		if (labels->count == MAX_LABELS)
			misuse("%s: more than %d labels", metric, MAX_LABELS);
		if (!is_name(name, false) || strncmp(name, "__", 2) == 0)
			misuse("%s: invalid label name \"%s\"", metric, name);
		if (type == GA_METRICS_HISTOGRAM && strcmp(name, "le") == 0)
			misuse("%s: label \"le\" is reserved for histogram buckets", metric);
		if (value == NULL)
			misuse("%s: label %s has no value", metric, name);
		for (size_t i = 0; i < labels->count; i++)
			if (strcmp(labels->names[i], name) == 0)
				misuse("%s: label %s given twice", metric, name);
		labels->names[labels->count] = name;
		labels->values[labels->count] = value;
		labels->count++;
	}
}

/* Label values escape backslash, double quote and newline. */
static void
append_label_value(struct ga_buf *out, const char *value)
{
	for (const char *c = value; *c != '\0'; c++) {
		if (*c == '\\')
			ga_buf_append_str(out, "\\\\");
		else if (*c == '"')
			ga_buf_append_str(out, "\\\"");
		else if (*c == '\n')
			ga_buf_append_str(out, "\\n");
		else
			ga_buf_append_char(out, *c);
	}
}

static char *
render_labels(const struct labels *labels)
{
	struct ga_buf out;

	ga_buf_init(&out, 0);
	for (size_t i = 0; i < labels->count; i++) {
		ga_buf_printf(&out, "%s%s=\"", i > 0 ? "," : "", labels->names[i]);
		append_label_value(&out, labels->values[i]);
		ga_buf_append_char(&out, '"');
	}
	return ga_buf_steal(&out);
}

static struct family *
find_family(struct ga_metrics *metrics, const char *name)
{
	for (size_t i = 0; i < metrics->family_count; i++)
		if (strcmp(metrics->families[i]->name, name) == 0)
			return metrics->families[i];
	return NULL;
}

static bool
same_bounds(const struct family *family, const double *bounds, size_t count)
{
	if (family->bound_count != count)
		return false;
	for (size_t i = 0; i < count; i++)
		if (family->bounds[i] != bounds[i])
			return false;
	return true;
}

static void
check_family(const struct family *family, enum ga_metrics_type type, const char *help,
	     const struct labels *labels, const double *bounds, size_t bound_count)
{
	if (family->type != type || strcmp(family->help, help) != 0)
		misuse("%s: registered again with another type or help", family->name);
	if (family->label_count != labels->count)
		misuse("%s: registered again with other label names", family->name);
	for (size_t i = 0; i < labels->count; i++)
		if (strcmp(family->label_names[i], labels->names[i]) != 0)
			misuse("%s: registered again with other label names", family->name);
	if (type == GA_METRICS_HISTOGRAM && !same_bounds(family, bounds, bound_count))
		misuse("%s: registered again with other buckets", family->name);
}

static void
check_bounds(const char *name, const double *bounds, size_t count)
{
	if (count == 0 || count > MAX_BOUNDS)
		misuse("%s: a histogram needs 1 to %d bucket bounds", name, MAX_BOUNDS);
	for (size_t i = 0; i < count; i++) {
		if (!isfinite(bounds[i]))
			misuse("%s: bucket bounds must be finite (+Inf is implicit)", name);
		if (i > 0 && !(bounds[i] > bounds[i - 1]))
			misuse("%s: bucket bounds must increase strictly", name);
	}
}

static struct family *
add_family(struct ga_metrics *metrics, const char *name, enum ga_metrics_type type,
	   const char *help, const struct labels *labels, const double *bounds,
	   size_t bound_count)
{
	struct family *family = ga_calloc(1, sizeof(*family));

	family->name = ga_strdup(name);
	family->help = ga_strdup(help);
	family->type = type;
	family->label_count = labels->count;
	family->label_names = ga_calloc(labels->count + 1, sizeof(char *));
	for (size_t i = 0; i < labels->count; i++)
		family->label_names[i] = ga_strdup(labels->names[i]);
	if (type == GA_METRICS_HISTOGRAM) {
		family->bounds = ga_reallocarray(NULL, bound_count, sizeof(double));
		memcpy(family->bounds, bounds, bound_count * sizeof(double));
		family->bound_count = bound_count;
	}
	if (metrics->family_count == metrics->family_cap) {
		metrics->family_cap = metrics->family_cap ? metrics->family_cap * 2 : 16;
		metrics->families = ga_reallocarray(metrics->families, metrics->family_cap,
						    sizeof(*metrics->families));
	}
	metrics->families[metrics->family_count++] = family;
	return family;
}

static struct series *
find_series(const struct family *family, const struct labels *labels)
{
	for (size_t i = 0; i < family->series_count; i++) {
		struct series *series = family->series[i];
		bool same = true;

		for (size_t j = 0; j < labels->count && same; j++)
			same = strcmp(series->label_values[j], labels->values[j]) == 0;
		if (same)
			return series;
	}
	return NULL;
}

static struct series *
add_series(struct family *family, const struct labels *labels)
{
	struct series *series = ga_calloc(1, sizeof(*series));

	series->label_count = labels->count;
	series->label_values = ga_calloc(labels->count + 1, sizeof(char *));
	for (size_t i = 0; i < labels->count; i++)
		series->label_values[i] = ga_strdup(labels->values[i]);
	series->rendered_labels = render_labels(labels);
	atomic_init(&series->counter.value, 0);
	atomic_init(&series->gauge.bits, bits_of(0.0));
	if (family->type == GA_METRICS_HISTOGRAM) {
		series->histogram.bounds = family->bounds;
		series->histogram.bound_count = family->bound_count;
		series->histogram.buckets = ga_calloc(family->bound_count + 1,
						      sizeof(atomic_uint_least64_t));
		for (size_t i = 0; i <= family->bound_count; i++)
			atomic_init(&series->histogram.buckets[i], 0);
		atomic_init(&series->histogram.sum_bits, bits_of(0.0));
	}
	if (family->series_count == family->series_cap) {
		family->series_cap = family->series_cap ? family->series_cap * 2 : 8;
		family->series = ga_reallocarray(family->series, family->series_cap,
						 sizeof(*family->series));
	}
	family->series[family->series_count++] = series;
	return series;
}

/*
 * The series for (name, labels), created when new.  read is set for a
 * callback series; a series is either a callback or updated by handle.
 */
static struct series *
register_series(struct ga_metrics *metrics, const char *name, enum ga_metrics_type type,
		const char *help, const struct labels *labels, const double *bounds,
		size_t bound_count, double (*read)(void *), void *context)
{
	struct family *family;
	struct series *series;

	if (!is_name(name, true))
		misuse("invalid metric name \"%s\"", name != NULL ? name : "(null)");
	if (help == NULL)
		misuse("%s: no help text", name);
	if (type == GA_METRICS_HISTOGRAM)
		check_bounds(name, bounds, bound_count);
	pthread_mutex_lock(&metrics->lock);
	family = find_family(metrics, name);
	if (family != NULL)
		check_family(family, type, help, labels, bounds, bound_count);
	else
		family = add_family(metrics, name, type, help, labels, bounds, bound_count);
	series = find_series(family, labels);
	if (series != NULL && (read != NULL || series->read != NULL))
		misuse("%s{%s}: a callback series cannot be registered twice", name,
		       series->rendered_labels);
	if (series == NULL)
		series = add_series(family, labels);
	series->read = read;
	series->context = context;
	pthread_mutex_unlock(&metrics->lock);
	return series;
}

struct ga_metrics *
ga_metrics_create(void)
{
	struct ga_metrics *metrics = ga_calloc(1, sizeof(*metrics));

	pthread_mutex_init(&metrics->lock, NULL);
	return metrics;
}

static void
free_strings(char **strings, size_t count)
{
	for (size_t i = 0; i < count; i++)
		ga_free(strings[i]);
	ga_free(strings);
}

void
ga_metrics_destroy(struct ga_metrics *metrics)
{
	if (metrics == NULL)
		return;
	for (size_t i = 0; i < metrics->family_count; i++) {
		struct family *family = metrics->families[i];

		for (size_t j = 0; j < family->series_count; j++) {
			struct series *series = family->series[j];

			free_strings(series->label_values, series->label_count);
			ga_free(series->rendered_labels);
			ga_free(series->histogram.buckets);
			ga_free(series);
		}
		ga_free(family->series);
		free_strings(family->label_names, family->label_count);
		ga_free(family->bounds);
		ga_free(family->name);
		ga_free(family->help);
		ga_free(family);
	}
	ga_free(metrics->families);
	pthread_mutex_destroy(&metrics->lock);
	ga_free(metrics);
}

struct ga_metrics_counter *
ga_metrics_counter(struct ga_metrics *metrics, const char *name, const char *help, ...)
{
	struct labels labels;
	va_list ap;

	va_start(ap, help);
	collect_labels(name, GA_METRICS_COUNTER, ap, &labels);
	va_end(ap);
	return &register_series(metrics, name, GA_METRICS_COUNTER, help, &labels, NULL, 0, NULL,
				NULL)->counter;
}

struct ga_metrics_gauge *
ga_metrics_gauge(struct ga_metrics *metrics, const char *name, const char *help, ...)
{
	struct labels labels;
	va_list ap;

	va_start(ap, help);
	collect_labels(name, GA_METRICS_GAUGE, ap, &labels);
	va_end(ap);
	return &register_series(metrics, name, GA_METRICS_GAUGE, help, &labels, NULL, 0, NULL,
				NULL)->gauge;
}

struct ga_metrics_histogram *
ga_metrics_histogram(struct ga_metrics *metrics, const char *name, const char *help,
		     const double *bounds, size_t bound_count, ...)
{
	struct labels labels;
	va_list ap;

	va_start(ap, bound_count);
	collect_labels(name, GA_METRICS_HISTOGRAM, ap, &labels);
	va_end(ap);
	return &register_series(metrics, name, GA_METRICS_HISTOGRAM, help, &labels, bounds,
				bound_count, NULL, NULL)->histogram;
}

void
ga_metrics_callback(struct ga_metrics *metrics, enum ga_metrics_type type, const char *name,
		    const char *help, double (*read)(void *context), void *context, ...)
{
	struct labels labels;
	va_list ap;

	if (type == GA_METRICS_HISTOGRAM || read == NULL)
		misuse("%s: a callback is a counter or a gauge with a read function",
		       name != NULL ? name : "(null)");
	va_start(ap, context);
	collect_labels(name, type, ap, &labels);
	va_end(ap);
	register_series(metrics, name, type, help, &labels, NULL, 0, read, context);
}

/* ---- updates ------------------------------------------------------- */

void
ga_metrics_counter_add(struct ga_metrics_counter *counter, uint64_t amount)
{
	if (counter != NULL)
		atomic_fetch_add_explicit(&counter->value, amount, memory_order_relaxed);
}

void
ga_metrics_gauge_set(struct ga_metrics_gauge *gauge, double value)
{
	if (gauge != NULL)
		atomic_store_explicit(&gauge->bits, bits_of(value), memory_order_relaxed);
}

void
ga_metrics_gauge_add(struct ga_metrics_gauge *gauge, double amount)
{
	if (gauge != NULL)
		atomic_add_double(&gauge->bits, amount);
}

void
ga_metrics_observe(struct ga_metrics_histogram *histogram, double value)
{
	size_t bucket = 0;

	if (histogram == NULL)
		return;
	/* A NaN is greater than no bound: it lands in +Inf, like Prometheus'
	 * own clients do. */
	while (bucket < histogram->bound_count && !(value <= histogram->bounds[bucket]))
		bucket++;
	atomic_fetch_add_explicit(&histogram->buckets[bucket], 1, memory_order_relaxed);
	atomic_add_double(&histogram->sum_bits, value);
}

uint64_t
ga_metrics_counter_value(const struct ga_metrics_counter *counter)
{
	return counter != NULL ? atomic_load(&counter->value) : 0;
}

double
ga_metrics_gauge_value(const struct ga_metrics_gauge *gauge)
{
	return gauge != NULL ? double_of(atomic_load(&gauge->bits)) : 0.0;
}

uint64_t
ga_metrics_histogram_count(const struct ga_metrics_histogram *histogram)
{
	uint64_t count = 0;

	if (histogram == NULL)
		return 0;
	for (size_t i = 0; i <= histogram->bound_count; i++)
		count += atomic_load(&histogram->buckets[i]);
	return count;
}

/* ---- the text format --------------------------------------------------- */

void
ga_metrics_format_number(double value, char out[32])
{
	if (isnan(value)) {
		snprintf(out, 32, "NaN");
	} else if (isinf(value)) {
		snprintf(out, 32, "%s", value > 0 ? "+Inf" : "-Inf");
	} else if (value == floor(value) && fabs(value) < 9007199254740992.0) {
		snprintf(out, 32, "%lld", (long long)value);
	} else {
		/* The shortest of %.15g..%.17g that reads back exactly. */
		for (int precision = 15; precision <= 17; precision++) {
			snprintf(out, 32, "%.*g", precision, value);
			if (strtod(out, NULL) == value)
				break;
		}
	}
}

/* HELP text escapes backslash and newline. */
static void
append_help(struct ga_buf *line, const char *help)
{
	for (const char *c = help; *c != '\0'; c++) {
		if (*c == '\\')
			ga_buf_append_str(line, "\\\\");
		else if (*c == '\n')
			ga_buf_append_str(line, "\\n");
		else
			ga_buf_append_char(line, *c);
	}
}

static const char *
type_name(enum ga_metrics_type type)
{
	switch (type) {
	case GA_METRICS_COUNTER:
		return "counter";
	case GA_METRICS_GAUGE:
		return "gauge";
	case GA_METRICS_HISTOGRAM:
		return "histogram";
	}
	return "untyped";
}

/* Lines are built apart and appended whole, so a full buffer cuts at a line. */
static bool
flush_line(struct ga_buf *out, struct ga_buf *line)
{
	bool ok = ga_buf_append(out, line->data != NULL ? line->data : "", line->len);

	ga_buf_reset(line);
	return ok;
}

static void
append_sample(struct ga_buf *line, const char *name, const char *suffix, const char *labels,
	      const char *extra_label, const char *value)
{
	bool braces = *labels != '\0' || extra_label != NULL;

	ga_buf_printf(line, "%s%s", name, suffix);
	if (braces)
		ga_buf_printf(line, "{%s%s%s}", labels,
			      *labels != '\0' && extra_label != NULL ? "," : "",
			      extra_label != NULL ? extra_label : "");
	ga_buf_printf(line, " %s\n", value);
}

static bool
write_histogram(struct ga_buf *out, struct ga_buf *line, const struct family *family,
		const struct series *series)
{
	const struct ga_metrics_histogram *histogram = &series->histogram;
	uint64_t cumulative = 0;
	char number[32];
	char value[32];
	char le[48];

	for (size_t i = 0; i <= histogram->bound_count; i++) {
		cumulative += atomic_load_explicit(&histogram->buckets[i], memory_order_relaxed);
		if (i < histogram->bound_count)
			ga_metrics_format_number(histogram->bounds[i], number);
		else
			snprintf(number, sizeof(number), "+Inf");
		snprintf(le, sizeof(le), "le=\"%s\"", number);
		snprintf(value, sizeof(value), "%" PRIu64, cumulative);
		append_sample(line, family->name, "_bucket", series->rendered_labels, le, value);
		if (!flush_line(out, line))
			return false;
	}
	ga_metrics_format_number(double_of(atomic_load(&histogram->sum_bits)), value);
	append_sample(line, family->name, "_sum", series->rendered_labels, NULL, value);
	if (!flush_line(out, line))
		return false;
	/* _count equals the +Inf bucket of this same read. */
	snprintf(value, sizeof(value), "%" PRIu64, cumulative);
	append_sample(line, family->name, "_count", series->rendered_labels, NULL, value);
	return flush_line(out, line);
}

static bool
write_series(struct ga_buf *out, struct ga_buf *line, const struct family *family,
	     const struct series *series)
{
	char value[32];

	if (family->type == GA_METRICS_HISTOGRAM)
		return write_histogram(out, line, family, series);
	if (series->read != NULL)
		ga_metrics_format_number(series->read(series->context), value);
	else if (family->type == GA_METRICS_COUNTER)
		snprintf(value, sizeof(value), "%" PRIu64, atomic_load(&series->counter.value));
	else
		ga_metrics_format_number(double_of(atomic_load(&series->gauge.bits)), value);
	append_sample(line, family->name, "", series->rendered_labels, NULL, value);
	return flush_line(out, line);
}

static bool
write_family(struct ga_buf *out, struct ga_buf *line, const struct family *family)
{
	ga_buf_printf(line, "# HELP %s ", family->name);
	append_help(line, family->help);
	ga_buf_printf(line, "\n# TYPE %s %s\n", family->name, type_name(family->type));
	if (!flush_line(out, line))
		return false;
	for (size_t i = 0; i < family->series_count; i++)
		if (!write_series(out, line, family, family->series[i]))
			return false;
	return true;
}

bool
ga_metrics_write(struct ga_metrics *metrics, struct ga_buf *out)
{
	struct ga_buf line;
	bool ok = true;

	ga_buf_init(&line, 0);
	pthread_mutex_lock(&metrics->lock);
	for (size_t i = 0; i < metrics->family_count && ok; i++)
		ok = write_family(out, &line, metrics->families[i]);
	pthread_mutex_unlock(&metrics->lock);
	ga_buf_free(&line);
	return ok;
}
