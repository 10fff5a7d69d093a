/* Unit tests of the trace parser/validator and the trace.batch packing. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/ingest/traces.h"
#include "../../services/ingest/traces_fields.h"
#include "harness.h"
#include "vigil/envelope.h"

static const char ENVOY_HTTP[] =
    "{\"start_time\":\"2026-11-20T10:00:00.123Z\",\"method\":\"GET\",\"path\":\"/get\","
    "\"protocol\":\"HTTP/1.1\",\"response_code\":200,\"authority\":\"httpbin:8000\","
    "\"upstream_cluster\":\"outbound|8000||httpbin.default.svc.cluster.local\","
    "\"bytes_received\":0,\"bytes_sent\":12,\"duration\":3}";
static const char ENVOY_TCP[] =
    "{\"start_time\":null,\"method\":null,\"path\":null,\"protocol\":null,"
    "\"response_code\":0,\"authority\":null,\"requested_server_name\":\"api.stripe.com\","
    "\"upstream_cluster\":\"PassthroughCluster\"}";
static const char ENVOY_DASHES[] =
    "{\"start_time\":\"2026-11-20T10:00:03.777Z\",\"method\":\"-\",\"path\":\"-\","
    "\"authority\":\"-\",\"response_code\":\"-\",\"upstream_cluster\":\"outbound|443||a.b\"}";
static const char APICLARITY[] =
    "{\"requestID\":\"r1\",\"scheme\":\"http\",\"destinationAddress\":\"10.0.0.1:80\","
    "\"request\":{\"method\":\"POST\",\"path\":\"/login\",\"host\":\"auth\",\"common\":"
    "{\"headers\":[{\"key\":\"a\",\"value\":\"b\"}],\"body\":\"eyJhIjoxfQ==\",\"time\":1}},"
    "\"response\":{\"statusCode\":\"401\",\"common\":{\"headers\":[],\"body\":\"\"}}}";

static int parse(const char *body, ingest_trace_set *set)
{
    char err[256];
    return ingest_traces_parse(body, strlen(body), set, err, sizeof err);
}

static const char *error_message(const ingest_trace_set *set, size_t i)
{
    return json_string_value(json_object_get(json_array_get(set->errors, i), "message"));
}

static long error_index(const ingest_trace_set *set, size_t i)
{
    return (long)json_integer_value(json_object_get(json_array_get(set->errors, i), "index"));
}

static void test_valid_records_of_both_formats(void)
{
    char body[4096];
    snprintf(body, sizeof body, "[%s, %s,\n %s , %s]", ENVOY_HTTP, ENVOY_TCP, ENVOY_DASHES,
             APICLARITY);
    ingest_trace_set set;
    CHECK_INT_EQ(parse(body, &set), 0);
    CHECK_INT_EQ(set.nrecs, 4);
    CHECK_INT_EQ(set.rejected, 0);
    CHECK_INT_EQ(set.recs[0].fmt, INGEST_FMT_ENVOY);
    CHECK_INT_EQ(set.recs[3].fmt, INGEST_FMT_APICLARITY);
    CHECK_INT_EQ(set.recs[1].len, strlen(ENVOY_TCP));
    CHECK(memcmp(set.recs[1].text, ENVOY_TCP, set.recs[1].len) == 0);
    ingest_trace_set_free(&set);
}

static void test_bad_records_rejected_one_by_one(void)
{
    const char *body = "[{\"bytes_sent\":1,\"method\":\"GET\"}, 42, \"x\", "
                       "{\"start_time\":\"yesterday\"}, {\"a\":1,\"a\":2}, "
                       "{\"requestID\":\"r\",\"request\":{\"method\":\"GET\",\"path\":\"/\"}},"
                       "{\"authority\":\"h\",\"response_code\":\"abc\"},"
                       "{\"authority\":\"h\",\"path\":\"relative\"}, [1,2], null,"
                       "{\"authority\":\"h\"}]";
    ingest_trace_set set;
    CHECK_INT_EQ(parse(body, &set), 0);
    CHECK_INT_EQ(set.nrecs, 1);
    CHECK_INT_EQ(set.rejected, 10);
    CHECK_INT_EQ(error_index(&set, 0), 0);
    CHECK(strstr(error_message(&set, 0), "start_time, authority") != NULL);
    CHECK(strstr(error_message(&set, 1), "not a JSON object") != NULL);
    CHECK(strstr(error_message(&set, 3), "RFC 3339") != NULL);
    CHECK(strstr(error_message(&set, 4), "duplicate") != NULL);
    CHECK(strstr(error_message(&set, 5), "request and response") != NULL);
    CHECK(strstr(error_message(&set, 6), "response_code") != NULL);
    CHECK(strstr(error_message(&set, 7), "path") != NULL);
    CHECK_INT_EQ(error_index(&set, 9), 9);
    ingest_trace_set_free(&set);
}

static void test_ndjson_with_blank_and_broken_lines(void)
{
    char body[4096];
    snprintf(body, sizeof body, "%s\r\n\n{broken\n  %s  \n%s", ENVOY_HTTP, APICLARITY, ENVOY_TCP);
    ingest_trace_set set;
    CHECK_INT_EQ(parse(body, &set), 0);
    CHECK_INT_EQ(set.nrecs, 3);
    CHECK_INT_EQ(set.rejected, 1);
    CHECK_INT_EQ(error_index(&set, 0), 1);
    CHECK(strstr(error_message(&set, 0), "invalid JSON") != NULL);
    CHECK_INT_EQ(set.recs[1].len, strlen(APICLARITY));
    ingest_trace_set_free(&set);
}

static void test_body_level_errors(void)
{
    ingest_trace_set set;
    CHECK_INT_EQ(parse("   \n", &set), -1);
    ingest_trace_set_free(&set);
    CHECK_INT_EQ(parse("[{\"authority\":\"h\"}", &set), -1);
    ingest_trace_set_free(&set);
    CHECK_INT_EQ(parse("[{\"authority\":\"h\"} {\"authority\":\"h\"}]", &set), -1);
    ingest_trace_set_free(&set);
    CHECK_INT_EQ(parse("[{\"authority\":\"h\"}] trailing", &set), -1);
    ingest_trace_set_free(&set);
    CHECK_INT_EQ(parse("[]", &set), 0);
    CHECK_INT_EQ(set.nrecs, 0);
    ingest_trace_set_free(&set);
}

static void test_batches_are_valid_envelopes(void)
{
    char body[8192];
    snprintf(body, sizeof body, "[%s,%s,%s,%s,%s]", ENVOY_HTTP, APICLARITY, ENVOY_TCP, ENVOY_HTTP,
             ENVOY_DASHES);
    ingest_trace_set set;
    CHECK_INT_EQ(parse(body, &set), 0);
    char **msgs = NULL;
    const char *tenant = "11111111-2222-4333-8444-555555555555";
    const char *cluster = "66666666-7777-4888-9999-aaaaaaaaaaaa";
    size_t n = ingest_traces_batches(&set, tenant, cluster, 2, 1 << 20, &msgs);
    CHECK_INT_EQ(n, 3);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        vg_envelope env;
        char err[256];
        CHECK_INT_EQ(vg_envelope_parse(msgs[i], strlen(msgs[i]), &env, err, sizeof err), 0);
        CHECK_STR_EQ(env.type, "trace.batch");
        CHECK_STR_EQ(env.cluster_id, cluster);
        json_t *recs = json_object_get(env.data, "records");
        total += json_array_size(recs);
        CHECK(json_is_string(json_object_get(env.data, "received_at")));
        if (i == 0) {
            json_t *want = json_loads(APICLARITY, 0, NULL);
            json_t *r1 = json_array_get(recs, 1);
            CHECK_STR_EQ(json_string_value(json_object_get(r1, "format")), "apiclarity");
            CHECK(json_equal(json_object_get(r1, "record"), want));
            json_decref(want);
        }
        vg_envelope_clear(&env);
        free(msgs[i]);
    }
    free(msgs);
    CHECK_INT_EQ(total, 5);
    ingest_trace_set_free(&set);
}

static void test_batches_respect_byte_budget(void)
{
    char body[8192];
    snprintf(body, sizeof body, "[%s,%s,%s]", ENVOY_HTTP, ENVOY_HTTP, ENVOY_HTTP);
    ingest_trace_set set;
    CHECK_INT_EQ(parse(body, &set), 0);
    char **msgs = NULL;
    size_t n = ingest_traces_batches(&set, NULL, NULL, 500, strlen(ENVOY_HTTP) + 300, &msgs);
    CHECK_INT_EQ(n, 3);
    for (size_t i = 0; i < n; i++) {
        free(msgs[i]);
    }
    free(msgs);
    ingest_trace_set_free(&set);
}

static void test_nul_byte_after_a_record_rejected(void)
{
    static const char body[] = "{\"authority\":\"h\"}\0garbage\n{\"authority\":\"i\"}";
    ingest_trace_set set;
    char err[256];
    CHECK_INT_EQ(ingest_traces_parse(body, sizeof body - 1, &set, err, sizeof err), 0);
    CHECK_INT_EQ(set.nrecs, 1);
    CHECK_INT_EQ(set.rejected, 1);
    CHECK(strstr(error_message(&set, 0), "NUL") != NULL);
    ingest_trace_set_free(&set);
}

/* The fast scanner claims a record only when jansson accepts it too, with the same fields. */
static void test_fast_scanner_agrees_with_jansson(void)
{
    static const char *const cases[] = {
        "{\"authority\":\"h\",\"duration\":12}",
        "{\"authority\":\"h\\u0041\"}",              /* \u escape: fallback */
        "{\"authority\":\"h\\n\"}",                  /* escape in a field: fallback */
        "{\"other\":\"x\\ty\",\"authority\":\"h\"}", /* escape elsewhere: fine */
        "{\"authority\":\"\xc3\xa9\"}",              /* valid 2-byte UTF-8 */
        "{\"authority\":\"\xc0\xaf\"}",              /* overlong */
        "{\"authority\":\"\xed\xa0\x80\"}",          /* encoded surrogate */
        "{\"authority\":\"\xf4\x90\x80\x80\"}",      /* above U+10FFFF */
        "{\"authority\":\"\xf0\x9f\x98\x80\"}",      /* emoji */
        "{\"authority\":\"a\tb\"}",                  /* raw control character */
        "{\"authority\":\"h\",\"duration\":01}",
        "{\"authority\":\"h\",\"duration\":1.}",
        "{\"authority\":\"h\",\"duration\":-}",
        "{\"authority\":\"h\",\"duration\":1e3}",
        "{\"authority\":\"h\",\"duration\":12345678901234567890}",
        "{\"authority\":\"h\",\"duration\":-0.5}",
        "{\"authority\":\"h\",\"x\":[[[[{\"a\":[true,false,null]}]]]]}",
        "{\"authority\":\"h\",\"x\":{\"a\":1,\"a\":2}}",
        "{\"authority\":\"h\",\"authority\":\"i\"}",
        "{\"authority\":\"h\",}",
        "{\"authority\":\"h\"} x",
        "{\"authority\":tru}",
        "{\"request\":{},\"response\":{}}",
        " \t{\"authority\" : \"h\" , \"method\" : null } \r",
    };
    int fast_count = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static envoy_fields ef;
        const char *text = cases[i];
        json_t *rec = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, NULL);
        if (ingest_envoy_fast(text, strlen(text), &ef) == FAST_ENVOY) {
            fast_count++;
            CHECK(rec != NULL);
            char m1[200] = "", m2[200] = "";
            ingest_trace_format fmt;
            CHECK_INT_EQ(ingest_trace_validate(rec, &fmt, m1, sizeof m1),
                         ingest_envoy_validate(&ef, m2, sizeof m2));
            CHECK_STR_EQ(m1, m2);
        }
        json_decref(rec);
    }
    CHECK_INT_EQ(fast_count, 7); /* cases 0, 3, 4, 8, 15, 16 and 23 */
}

int main(void)
{
    RUN(test_valid_records_of_both_formats);
    RUN(test_bad_records_rejected_one_by_one);
    RUN(test_ndjson_with_blank_and_broken_lines);
    RUN(test_body_level_errors);
    RUN(test_batches_are_valid_envelopes);
    RUN(test_batches_respect_byte_budget);
    RUN(test_nul_byte_after_a_record_rejected);
    RUN(test_fast_scanner_agrees_with_jansson);
    return harness_report("ingest_traces");
}
