/* Prometheus metrics: counters and histograms, lock-free to update from any thread.
 * Metrics live for the whole process; the registry renders the text exposition format. */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stdint.h>

#include "vigil/alloc.h"

typedef struct vg_counter vg_counter;
typedef struct vg_gauge vg_gauge;
typedef struct vg_histogram vg_histogram;

/* name must be a valid metric name; labels is NULL or a label set without braces,
 * e.g. "topic=\"vigil.traces\"". The same name+labels returns the same metric.
 * Strings are copied. */
vg_counter *vg_counter_get(const char *name, const char *help, const char *labels);
void vg_counter_add(vg_counter *c, uint64_t n);
#define vg_counter_inc(c) vg_counter_add((c), 1)

vg_gauge *vg_gauge_get(const char *name, const char *help, const char *labels);
void vg_gauge_set(vg_gauge *g, int64_t v);

/* Buckets in seconds: 1ms .. 10s. */
vg_histogram *vg_histogram_get(const char *name, const char *help, const char *labels);
void vg_histogram_observe(vg_histogram *h, double seconds);

/* Appends every metric in text format (version 0.0.4). */
void vg_metrics_render(vg_buf *out);

#endif
