/* Process-wide Prometheus registry. Registration and rendering take one mutex; updates are
 * lock-free C11 atomics, so any thread may count. Metrics are never freed: they live for the
 * whole process, like the registry that owns them. */
#include "vigil/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } metric_kind;

/* Upper bounds in seconds; the last slot of the bucket array counts observations above them. */
static const double bucket_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                       0.25,  0.5,   1,    2.5,   5,    10};
static const char *const bucket_labels[] = {"0.001", "0.005", "0.01", "0.025", "0.05", "0.1",
                                            "0.25",  "0.5",   "1",    "2.5",   "5",    "10"};
#define N_BOUNDS (sizeof bucket_bounds / sizeof bucket_bounds[0])

struct vg_counter {
    _Atomic uint64_t value;
};

struct vg_gauge {
    _Atomic int64_t value;
};

struct vg_histogram {
    _Atomic uint64_t buckets[N_BOUNDS + 1]; /* non-cumulative; the last one is +Inf */
    _Atomic uint64_t sum_ns;
};

/* One label set of a family. */
typedef struct series {
    char *labels; /* "" when none */
    struct series *next;
    union {
        struct vg_counter counter;
        struct vg_gauge gauge;
        struct vg_histogram histogram;
    } u;
} series;

/* Every series sharing a name: rendered under one # HELP / # TYPE pair. */
typedef struct family {
    char *name;
    char *help;
    metric_kind kind;
    series *first;
    series **tail;
    struct family *next;
} family;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static family *families;
static family **families_tail = &families;

/* Misuse of the registry is a programming error caught by the first test that runs it. */
static void metric_bug(const char *what, const char *name)
{
    fprintf(stderr, "{\"level\":\"error\",\"msg\":\"metrics: %s\",\"metric\":\"%s\"}\n", what,
            name ? name : "(null)");
    abort();
}

static bool name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0') {
        return false;
    }
    for (const char *p = name; *p; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ':';
        if (!alpha && !(p != name && *p >= '0' && *p <= '9')) {
            return false;
        }
    }
    return true;
}

/* Caller holds registry_lock. */
static family *family_find_or_add(const char *name, const char *help, metric_kind kind)
{
    for (family *f = families; f != NULL; f = f->next) {
        if (strcmp(f->name, name) == 0) {
            if (f->kind != kind) {
                metric_bug("same name registered with another type", name);
            }
            return f;
        }
    }
    family *f = vg_calloc(1, sizeof *f);
    f->name = vg_strdup(name);
    f->help = vg_strdup(help ? help : "");
    f->kind = kind;
    f->tail = &f->first;
    *families_tail = f;
    families_tail = &f->next;
    return f;
}

/* Returns the series of name+labels, creating it (zeroed) on first use. */
static series *series_get(const char *name, const char *help, const char *labels, metric_kind kind)
{
    if (!name_valid(name)) {
        metric_bug("invalid metric name", name);
    }
    const char *lbl = labels ? labels : "";
    pthread_mutex_lock(&registry_lock);
    family *f = family_find_or_add(name, help, kind);
    series *s = f->first;
    while (s != NULL && strcmp(s->labels, lbl) != 0) {
        s = s->next;
    }
    if (s == NULL) {
        s = vg_calloc(1, sizeof *s); /* all-zero bytes are valid zero atomics on our targets */
        s->labels = vg_strdup(lbl);
        *f->tail = s;
        f->tail = &s->next;
    }
    pthread_mutex_unlock(&registry_lock);
    return s;
}

vg_counter *vg_counter_get(const char *name, const char *help, const char *labels)
{
    return &series_get(name, help, labels, KIND_COUNTER)->u.counter;
}

void vg_counter_add(vg_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

vg_gauge *vg_gauge_get(const char *name, const char *help, const char *labels)
{
    return &series_get(name, help, labels, KIND_GAUGE)->u.gauge;
}

void vg_gauge_set(vg_gauge *g, int64_t v)
{
    atomic_store_explicit(&g->value, v, memory_order_relaxed);
}

vg_histogram *vg_histogram_get(const char *name, const char *help, const char *labels)
{
    return &series_get(name, help, labels, KIND_HISTOGRAM)->u.histogram;
}

void vg_histogram_observe(vg_histogram *h, double seconds)
{
    if (!(seconds > 0)) { /* negative, zero and NaN count as zero */
        seconds = 0;
    }
    size_t i = 0;
    while (i < N_BOUNDS && seconds > bucket_bounds[i]) {
        i++;
    }
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    /* 1e9 s caps one observation so the conversion cannot overflow */
    uint64_t ns = (uint64_t)llround(fmin(seconds, 1e9) * 1e9);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

/* HELP text escaping of the 0.0.4 format: backslash and newline. */
static void put_help(vg_buf *out, const family *f)
{
    vg_buf_printf(out, "# HELP %s ", f->name);
    for (const char *p = f->help; *p; p++) {
        if (*p == '\\') {
            vg_buf_puts(out, "\\\\");
        } else if (*p == '\n') {
            vg_buf_puts(out, "\\n");
        } else {
            vg_buf_append(out, p, 1);
        }
    }
    vg_buf_puts(out, "\n");
}

/* name{labels} or just name; extra is one more label (for le), NULL when none. */
static void put_series_name(vg_buf *out, const char *name, const char *suffix, const char *labels,
                            const char *extra)
{
    vg_buf_printf(out, "%s%s", name, suffix);
    bool has_labels = labels[0] != '\0';
    if (!has_labels && extra == NULL) {
        return;
    }
    vg_buf_printf(out, "{%s%s%s}", labels, has_labels && extra ? "," : "", extra ? extra : "");
}

static void render_histogram(vg_buf *out, const char *name, const series *s)
{
    const struct vg_histogram *h = &s->u.histogram;
    uint64_t cumulative = 0;
    char le[32];
    for (size_t i = 0; i <= N_BOUNDS; i++) {
        cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        snprintf(le, sizeof le, "le=\"%s\"", i < N_BOUNDS ? bucket_labels[i] : "+Inf");
        put_series_name(out, name, "_bucket", s->labels, le);
        vg_buf_printf(out, " %llu\n", (unsigned long long)cumulative);
    }
    uint64_t sum_ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
    put_series_name(out, name, "_sum", s->labels, NULL);
    vg_buf_printf(out, " %llu.%09llu\n", (unsigned long long)(sum_ns / 1000000000u),
                  (unsigned long long)(sum_ns % 1000000000u));
    /* _count equals the +Inf bucket by construction, even while other threads observe */
    put_series_name(out, name, "_count", s->labels, NULL);
    vg_buf_printf(out, " %llu\n", (unsigned long long)cumulative);
}

static void render_series(vg_buf *out, const family *f, const series *s)
{
    switch (f->kind) {
    case KIND_COUNTER:
        put_series_name(out, f->name, "", s->labels, NULL);
        vg_buf_printf(
            out, " %llu\n",
            (unsigned long long)atomic_load_explicit(&s->u.counter.value, memory_order_relaxed));
        break;
    case KIND_GAUGE:
        put_series_name(out, f->name, "", s->labels, NULL);
        vg_buf_printf(out, " %lld\n",
                      (long long)atomic_load_explicit(&s->u.gauge.value, memory_order_relaxed));
        break;
    case KIND_HISTOGRAM:
        render_histogram(out, f->name, s);
        break;
    }
}

void vg_metrics_render(vg_buf *out)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&registry_lock);
    for (const family *f = families; f != NULL; f = f->next) {
        put_help(out, f);
        vg_buf_printf(out, "# TYPE %s %s\n", f->name, type_names[f->kind]);
        for (const series *s = f->first; s != NULL; s = s->next) {
            render_series(out, f, s);
        }
    }
    pthread_mutex_unlock(&registry_lock);
}
