/* Unit tests of the ingest helpers: gzip bounds, the per-cluster token bucket, snapshot
 * object preparation (ConfigMap values) and chunking. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../services/ingest/auth.h"
#include "../../services/ingest/gzip.h"
#include "../../services/ingest/snapshot.h"
#include "harness.h"
#include "vigil/envelope.h"

static size_t gz(const void *in, size_t len, unsigned char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    deflate(&zs, Z_FINISH);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    return n;
}

static void test_gunzip(void)
{
    static unsigned char packed[1 << 16];
    const char *text = "{\"authority\":\"h\"}\n{\"authority\":\"i\"}\n";
    size_t n = gz(text, strlen(text), packed, sizeof packed);
    vg_buf out = {0};
    CHECK_INT_EQ(ingest_gunzip(packed, n, 1000, &out), 0);
    CHECK_STR_EQ(out.data, text);
    vg_buf_free(&out);
    /* two members one after the other */
    size_t m = gz(text, strlen(text), packed + n, sizeof packed - n);
    CHECK_INT_EQ(ingest_gunzip(packed, n + m, 1000, &out), 0);
    CHECK_INT_EQ(out.len, 2 * strlen(text));
    vg_buf_free(&out);
    CHECK_INT_EQ(ingest_gunzip(packed, n - 4, 1000, &out), INGEST_GUNZIP_INVALID);
    vg_buf_free(&out);
    CHECK_INT_EQ(ingest_gunzip("plain text", 10, 1000, &out), INGEST_GUNZIP_INVALID);
    vg_buf_free(&out);
    char *zeros = calloc(1, 4 << 20);
    n = gz(zeros, 4 << 20, packed, sizeof packed);
    CHECK(n < sizeof packed);
    CHECK_INT_EQ(ingest_gunzip(packed, n, 1 << 20, &out), INGEST_GUNZIP_TOO_LARGE);
    CHECK(out.len <= 1 << 20);
    vg_buf_free(&out);
    free(zeros);
}

static void test_rate_bucket(void)
{
    ingest_auth_opts opts = {.ttl_ms = 5000, .free_clusters = 3, .rate = 2, .burst = 3};
    ingest_auth *a = ingest_auth_new(&opts);
    int retry = 0;
    const char *c1 = "11111111-2222-4333-8444-555555555555";
    for (int i = 0; i < 3; i++) {
        CHECK(ingest_rate_take(a, c1, 1000, &retry));
    }
    CHECK(!ingest_rate_take(a, c1, 1000, &retry));
    CHECK_INT_EQ(retry, 1);
    CHECK(ingest_rate_take(a, "other", 1000, &retry)); /* buckets are per cluster */
    CHECK(ingest_rate_take(a, c1, 1500, &retry));      /* half a second = one token */
    CHECK(!ingest_rate_take(a, c1, 1500, &retry));
    /* many clusters: the table grows and keeps every bucket */
    char id[40];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "cluster-%d", i);
        CHECK(ingest_rate_take(a, id, 2000, &retry));
    }
    CHECK(!ingest_rate_take(a, c1, 1500, &retry)); /* c1 survived the rebuilds, still empty */
    ingest_auth_destroy(a);
}

static const ingest_resource *resource(const char *name)
{
    for (size_t i = 0; i < ingest_nresources; i++) {
        if (strcmp(ingest_resources[i].name, name) == 0) {
            return &ingest_resources[i];
        }
    }
    return NULL;
}

static void test_configmap_values_dropped(void)
{
    json_t *cm = json_loads(
        "{\"metadata\":{\"name\":\"c\",\"uid\":\"u1\",\"annotations\":{\"kubectl.kubernetes.io/"
        "last-applied-configuration\":\"{secret}\",\"keep\":\"me\"}},"
        "\"data\":{\"PASSWORD\":\"hunter2\",\"HOST\":\"db\"},\"binaryData\":{\"k\":\"AAA=\"}}",
        0, NULL);
    ingest_snapshot_item_prepare(resource("configmaps"), cm);
    char *text = json_dumps(cm, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK(strstr(text, "hunter2") == NULL);
    CHECK(strstr(text, "{secret}") == NULL);
    CHECK(strstr(text, "\"PASSWORD\":\"\"") != NULL);
    CHECK(strstr(text, "\"k\":\"\"") != NULL);
    CHECK(strstr(text, "\"keep\":\"me\"") != NULL);
    CHECK(strstr(text, "\"kind\":\"ConfigMap\"") != NULL);
    free(text);
    json_decref(cm);
    CHECK(resource("secrets") == NULL);
    CHECK(resource("virtualservices")->optional);
    CHECK(!resource("pods")->optional);
}

typedef struct sink {
    int messages;
    size_t items;
    long last_seq;
} sink;

static int sink_emit(const char *payload, size_t len, void *arg)
{
    sink *s = arg;
    vg_envelope env;
    char err[256];
    if (vg_envelope_parse(payload, len, &env, err, sizeof err) != 0) {
        return -1;
    }
    s->messages++;
    s->items += json_array_size(json_object_get(env.data, "items"));
    s->last_seq = (long)json_integer_value(json_object_get(env.data, "seq"));
    vg_envelope_clear(&env);
    return 0;
}

static void test_chunker(void)
{
    sink s = {0, 0, -1};
    ingest_chunker ch = {.snapshot_id = "11111111-2222-4333-8444-555555555555",
                         .tenant_id = "11111111-2222-4333-8444-555555555555",
                         .cluster_id = "11111111-2222-4333-8444-555555555555",
                         .max_items = 4,
                         .max_bytes = 1 << 20,
                         .emit = sink_emit,
                         .arg = &s};
    json_t *item = json_pack("{s:{s:s}}", "metadata", "uid", "x");
    for (int i = 0; i < 10; i++) {
        CHECK_INT_EQ(ingest_chunker_add(&ch, "pods", item), 0);
    }
    CHECK_INT_EQ(ingest_chunker_add(&ch, "nodes", item), 0); /* new resource: flush */
    CHECK_INT_EQ(ingest_chunker_flush(&ch), 0);
    CHECK_INT_EQ(s.messages, 4); /* 4 + 4 + 2 pods, 1 node */
    CHECK_INT_EQ(s.items, 11);
    CHECK_INT_EQ(s.last_seq, 3);
    CHECK_INT_EQ(ch.chunks, 4);
    json_t *counts = json_pack("{s:i,s:i}", "pods", 10, "nodes", 1);
    json_t *absent = json_pack("[s]", "sidecars");
    char *done = ingest_snapshot_complete(&ch, counts, absent, "2026-01-01T00:00:00.000Z",
                                          "2026-01-01T00:00:01.000Z");
    vg_envelope env;
    char err[256];
    CHECK_INT_EQ(vg_envelope_parse(done, strlen(done), &env, err, sizeof err), 0);
    CHECK_STR_EQ(env.type, "snapshot.complete");
    CHECK_INT_EQ(json_integer_value(json_object_get(env.data, "chunks")), 4);
    CHECK(json_equal(json_object_get(env.data, "counts"), counts));
    vg_envelope_clear(&env);
    free(done);
    json_decref(counts);
    json_decref(absent);
    json_decref(item);
    ingest_chunker_free(&ch);
}

int main(void)
{
    RUN(test_gunzip);
    RUN(test_rate_bucket);
    RUN(test_configmap_values_dropped);
    RUN(test_chunker);
    return harness_report("ingest_parts");
}
