/* Unit tests of common/metrics.c: registry identity, rendered values, concurrent updates. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vigil/alloc.h"
#include "vigil/metrics.h"

/* The rendered registry; caller frees. */
static char *render(void)
{
    vg_buf b = {0};
    vg_metrics_render(&b);
    return vg_buf_steal(&b);
}

/* True when text has a line exactly equal to line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0')) {
            return true;
        }
    }
    return false;
}

static size_t count_occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        n++;
    }
    return n;
}

static void test_same_name_and_labels_is_same_metric(void)
{
    vg_counter *a = vg_counter_get("t_same_total", "help", "k=\"v\"");
    vg_counter *b = vg_counter_get("t_same_total", "help", "k=\"v\"");
    vg_counter *c = vg_counter_get("t_same_total", "help", "k=\"w\"");
    vg_counter *d = vg_counter_get("t_same_nolabels_total", "help", NULL);
    vg_counter *e = vg_counter_get("t_same_nolabels_total", "other help", NULL);
    CHECK(a == b);
    CHECK(a != c);
    CHECK(d == e);
    vg_gauge *g1 = vg_gauge_get("t_same_gauge", "help", NULL);
    vg_gauge *g2 = vg_gauge_get("t_same_gauge", "help", NULL);
    CHECK(g1 == g2);
    vg_histogram *h1 = vg_histogram_get("t_same_seconds", "help", "x=\"1\"");
    vg_histogram *h2 = vg_histogram_get("t_same_seconds", "help", "x=\"1\"");
    CHECK(h1 == h2);
}

static void test_counter_and_gauge_render(void)
{
    vg_counter *c = vg_counter_get("t_render_total", "Things done.", "kind=\"a\"");
    vg_counter *c2 = vg_counter_get("t_render_total", "Things done.", "kind=\"b\"");
    vg_counter_inc(c);
    vg_counter_add(c, 41);
    vg_counter_inc(c2);
    vg_gauge *g = vg_gauge_get("t_render_gauge", "A level.", NULL);
    vg_gauge_set(g, 7);
    vg_gauge_set(g, -3);
    char *text = render();
    CHECK(has_line(text, "# HELP t_render_total Things done."));
    CHECK(has_line(text, "# TYPE t_render_total counter"));
    CHECK(has_line(text, "t_render_total{kind=\"a\"} 42"));
    CHECK(has_line(text, "t_render_total{kind=\"b\"} 1"));
    CHECK_INT_EQ(count_occurrences(text, "# TYPE t_render_total "), 1);
    CHECK_INT_EQ(count_occurrences(text, "# HELP t_render_total "), 1);
    CHECK(has_line(text, "# TYPE t_render_gauge gauge"));
    CHECK(has_line(text, "t_render_gauge -3"));
    free(text);
}

static void test_histogram_render(void)
{
    vg_histogram *h = vg_histogram_get("t_latency_seconds", "Latency.", "route=\"/x\"");
    vg_histogram_observe(h, 0.0005); /* le 0.001 */
    vg_histogram_observe(h, 0.003);  /* le 0.005 */
    vg_histogram_observe(h, 0.1);    /* le 0.1 exactly */
    vg_histogram_observe(h, 2);      /* le 2.5 */
    vg_histogram_observe(h, 60);     /* +Inf only */
    vg_histogram_observe(h, -1);     /* counted as 0 */
    vg_histogram *plain = vg_histogram_get("t_plain_seconds", "No labels.", NULL);
    vg_histogram_observe(plain, 0.02);
    char *text = render();
    CHECK(has_line(text, "# TYPE t_latency_seconds histogram"));
    CHECK(has_line(text, "t_latency_seconds_bucket{route=\"/x\",le=\"0.001\"} 2"));
    CHECK(has_line(text, "t_latency_seconds_bucket{route=\"/x\",le=\"0.005\"} 3"));
    CHECK(has_line(text, "t_latency_seconds_bucket{route=\"/x\",le=\"0.05\"} 3"));
    CHECK(has_line(text, "t_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 4"));
    CHECK(has_line(text, "t_latency_seconds_bucket{route=\"/x\",le=\"1\"} 4"));
    CHECK(has_line(text, "t_latency_seconds_bucket{route=\"/x\",le=\"2.5\"} 5"));
    CHECK(has_line(text, "t_latency_seconds_bucket{route=\"/x\",le=\"10\"} 5"));
    CHECK(has_line(text, "t_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 6"));
    CHECK(has_line(text, "t_latency_seconds_count{route=\"/x\"} 6"));
    CHECK(has_line(text, "t_latency_seconds_sum{route=\"/x\"} 62.103500000"));
    CHECK(has_line(text, "t_plain_seconds_bucket{le=\"0.025\"} 1"));
    CHECK(has_line(text, "t_plain_seconds_bucket{le=\"0.01\"} 0"));
    CHECK(has_line(text, "t_plain_seconds_sum 0.020000000"));
    CHECK(has_line(text, "t_plain_seconds_count 1"));
    free(text);
}

static void test_help_is_escaped(void)
{
    vg_counter_get("t_escaped_total", "line one\nback\\slash", NULL);
    char *text = render();
    CHECK(has_line(text, "# HELP t_escaped_total line one\\nback\\\\slash"));
    free(text);
}

#define THREADS 4
#define PER_THREAD 250000

static void *hammer(void *arg)
{
    (void)arg;
    /* every thread looks the metrics up itself: registration races as well */
    vg_counter *c = vg_counter_get("t_concurrent_total", "Concurrent.", NULL);
    vg_histogram *h = vg_histogram_get("t_concurrent_seconds", "Concurrent.", NULL);
    for (int i = 0; i < PER_THREAD; i++) {
        vg_counter_inc(c);
        if (i % 10 == 0) {
            vg_histogram_observe(h, 0.002);
        }
    }
    return NULL;
}

static void test_concurrent_increments_sum_exactly(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        CHECK_INT_EQ(pthread_create(&t[i], NULL, hammer, NULL), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    char *text = render();
    char line[128];
    snprintf(line, sizeof line, "t_concurrent_total %d", THREADS * PER_THREAD);
    CHECK(has_line(text, line));
    snprintf(line, sizeof line, "t_concurrent_seconds_count %d", THREADS * PER_THREAD / 10);
    CHECK(has_line(text, line));
    snprintf(line, sizeof line, "t_concurrent_seconds_bucket{le=\"0.005\"} %d",
             THREADS * PER_THREAD / 10);
    CHECK(has_line(text, line));
    free(text);
}

int main(void)
{
    RUN(test_same_name_and_labels_is_same_metric);
    RUN(test_counter_and_gauge_render);
    RUN(test_histogram_render);
    RUN(test_help_is_escaped);
    RUN(test_concurrent_increments_sum_exactly);
    return harness_report("metrics");
}
