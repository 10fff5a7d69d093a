/* The message envelope: every validation rule has a failing case; build/parse round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vigil/envelope.h"

#define ID "0b9a8c2e-3f4d-4e5f-8a6b-7c8d9e0f1a2b"
#define TENANT "11111111-2222-4333-8444-555555555555"
#define CLUSTER "66666666-7777-4888-9999-aaaaaaaaaaaa"
#define TS "2026-11-26T23:30:28.123Z"

/* Parses text expecting failure; errbuf must mention `want`. */
static void expect_invalid(const char *text, const char *want)
{
    vg_envelope env;
    char errbuf[256] = "";
    int rc = vg_envelope_parse(text, strlen(text), &env, errbuf, sizeof errbuf);
    CHECK_INT_EQ(rc, -1);
    CHECK(env.root == NULL && env.data == NULL);
    if (strstr(errbuf, want) == NULL) {
        fprintf(stderr, "  for %s\n  error \"%s\" lacks \"%s\"\n", text, errbuf, want);
        CHECK(strstr(errbuf, want) != NULL);
    }
}

static void test_valid_full(void)
{
    const char *text =
        "{\"v\":1,\"id\":\"" ID "\",\"type\":\"trace.batch\",\"tenant_id\":\"" TENANT
        "\",\"cluster_id\":\"" CLUSTER "\",\"ts\":\"" TS "\",\"data\":{\"spans\":[1,2]}}";
    vg_envelope env;
    char errbuf[256] = "";
    CHECK_INT_EQ(vg_envelope_parse(text, strlen(text), &env, errbuf, sizeof errbuf), 0);
    CHECK_INT_EQ(env.v, 1);
    CHECK_STR_EQ(env.id, ID);
    CHECK_STR_EQ(env.type, "trace.batch");
    CHECK_STR_EQ(env.tenant_id, TENANT);
    CHECK_STR_EQ(env.cluster_id, CLUSTER);
    CHECK_STR_EQ(env.ts, TS);
    CHECK(json_is_object(env.data));
    CHECK_INT_EQ(json_array_size(json_object_get(env.data, "spans")), 2);
    vg_envelope_clear(&env);
    CHECK(env.root == NULL);
}

static void test_valid_minimal(void)
{
    /* tenant_id/cluster_id absent or null, ts with an offset and no fraction, not
     * NUL-terminated input */
    const char *texts[] = {
        "{\"v\":1,\"id\":\"" ID "\",\"type\":\"a-b_c.9\",\"ts\":\"" TS "\",\"data\":{}}",
        "{\"v\":1,\"id\":\"" ID "\",\"type\":\"x\",\"tenant_id\":null,\"cluster_id\":null,"
        "\"ts\":\"2026-11-26T23:30:28+02:00\",\"data\":{}}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i]);
        char *copy = malloc(len);
        memcpy(copy, texts[i], len);
        vg_envelope env;
        char errbuf[256] = "";
        CHECK_INT_EQ(vg_envelope_parse(copy, len, &env, errbuf, sizeof errbuf), 0);
        CHECK_STR_EQ(env.tenant_id, "");
        CHECK_STR_EQ(env.cluster_id, "");
        vg_envelope_clear(&env);
        free(copy);
    }
}

static void test_invalid_json(void)
{
    expect_invalid("", "empty");
    expect_invalid("{\"v\":1,", "invalid JSON");
    expect_invalid("{\"v\":1} trailing", "invalid JSON");
    expect_invalid("[1,2,3]", "not a JSON object");
    expect_invalid("\"just a string\"", "not a JSON object");
    expect_invalid("{\"v\":1,\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"" TS
                   "\",\"data\":{}}",
                   "duplicate key");
}

static void test_invalid_no_payload_in_error(void)
{
    /* a syntax error next to a secret must not quote it (errors are logged) */
    const char *text = "{\"token\": vgk_SECRETSECRET}";
    vg_envelope env;
    char errbuf[256] = "";
    CHECK_INT_EQ(vg_envelope_parse(text, strlen(text), &env, errbuf, sizeof errbuf), -1);
    CHECK(strstr(errbuf, "SECRET") == NULL);
    CHECK(strstr(errbuf, "line 1") != NULL);
}

static void test_invalid_v(void)
{
    expect_invalid("{\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"" TS "\",\"data\":{}}",
                   "v is missing");
    expect_invalid("{\"v\":2,\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"" TS "\",\"data\":{}}",
                   "v is not");
    expect_invalid("{\"v\":\"1\",\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"" TS "\",\"data\":{}}",
                   "v is not");
    expect_invalid("{\"v\":1.0,\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"" TS "\",\"data\":{}}",
                   "v is not");
}

static void test_invalid_id(void)
{
    expect_invalid("{\"v\":1,\"type\":\"t\",\"ts\":\"" TS "\",\"data\":{}}", "id is missing");
    expect_invalid("{\"v\":1,\"id\":42,\"type\":\"t\",\"ts\":\"" TS "\",\"data\":{}}",
                   "id is not a string");
    expect_invalid("{\"v\":1,\"id\":\"not-a-uuid\",\"type\":\"t\",\"ts\":\"" TS "\",\"data\":{}}",
                   "id is not a UUID");
    expect_invalid("{\"v\":1,\"id\":\"" ID "0\",\"type\":\"t\",\"ts\":\"" TS "\",\"data\":{}}",
                   "id is");
}

static void test_invalid_type(void)
{
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"ts\":\"" TS "\",\"data\":{}}", "type is missing");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"\",\"ts\":\"" TS "\",\"data\":{}}",
                   "type is empty");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"Trace.Batch\",\"ts\":\"" TS
                   "\",\"data\":{}}",
                   "[a-z0-9._-]");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"a b\",\"ts\":\"" TS "\",\"data\":{}}",
                   "[a-z0-9._-]");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":[\"t\"],\"ts\":\"" TS "\",\"data\":{}}",
                   "type is not a string");
    char text[512];
    snprintf(text, sizeof text,
             "{\"v\":1,\"id\":\"" ID "\",\"type\":\"%s\",\"ts\":\"" TS "\",\"data\":{}}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect_invalid(text, "too long");
    expect_invalid(
        "{\"v\":1,\"id\":\"" ID "\",\"type\":\"a\\u0000b\",\"ts\":\"" TS "\",\"data\":{}}", "NUL");
}

static void test_invalid_tenant_cluster(void)
{
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"tenant_id\":\"acme\",\"ts\":\"" TS
                   "\",\"data\":{}}",
                   "tenant_id is not a UUID");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"tenant_id\":7,\"ts\":\"" TS
                   "\",\"data\":{}}",
                   "tenant_id is not a string");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"tenant_id\":\"\",\"ts\":\"" TS
                   "\",\"data\":{}}",
                   "tenant_id is not a UUID");
    expect_invalid("{\"v\":1,\"id\":\"" ID
                   "\",\"type\":\"t\",\"cluster_id\":\"prod-1\",\"ts\":\"" TS "\",\"data\":{}}",
                   "cluster_id is not a UUID");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"cluster_id\":{},\"ts\":\"" TS
                   "\",\"data\":{}}",
                   "cluster_id is not a string");
}

static void test_invalid_ts(void)
{
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"data\":{}}", "ts is missing");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"yesterday\",\"data\":{}}",
                   "ts is not an RFC 3339");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"2026-13-45T99:00:00Z\","
                   "\"data\":{}}",
                   "ts is not an RFC 3339");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"ts\":1764199828,\"data\":{}}",
                   "ts is not a string");
}

static void test_invalid_data(void)
{
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"" TS "\"}",
                   "data is missing");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"" TS "\",\"data\":[]}",
                   "data is missing or not an object");
    expect_invalid("{\"v\":1,\"id\":\"" ID "\",\"type\":\"t\",\"ts\":\"" TS "\",\"data\":null}",
                   "not an object");
}

static void test_build_round_trip(void)
{
    json_t *data = json_pack("{s:s, s:i}", "name", "svc", "count", 3);
    char *text = vg_envelope_build("api.event", TENANT, CLUSTER, data); /* data stolen */
    CHECK(text != NULL);
    vg_envelope env;
    char errbuf[256] = "";
    CHECK_INT_EQ(vg_envelope_parse(text, strlen(text), &env, errbuf, sizeof errbuf), 0);
    CHECK_STR_EQ(env.type, "api.event");
    CHECK_STR_EQ(env.tenant_id, TENANT);
    CHECK_STR_EQ(env.cluster_id, CLUSTER);
    CHECK_INT_EQ(strlen(env.id), 36);
    CHECK_STR_EQ(json_string_value(json_object_get(env.data, "name")), "svc");
    vg_envelope_clear(&env);
    free(text);

    char *a = vg_envelope_build("t", NULL, NULL, NULL);
    char *b = vg_envelope_build("t", NULL, NULL, json_object());
    CHECK(strstr(a, "tenant_id") == NULL && strstr(a, "cluster_id") == NULL);
    CHECK_INT_EQ(vg_envelope_parse(a, strlen(a), &env, errbuf, sizeof errbuf), 0);
    char id_a[40];
    snprintf(id_a, sizeof id_a, "%s", env.id);
    vg_envelope_clear(&env);
    CHECK_INT_EQ(vg_envelope_parse(b, strlen(b), &env, errbuf, sizeof errbuf), 0);
    CHECK(strcmp(id_a, env.id) != 0); /* fresh id each time */
    vg_envelope_clear(&env);
    vg_envelope_clear(NULL);
    free(a);
    free(b);
}

int main(void)
{
    RUN(test_valid_full);
    RUN(test_valid_minimal);
    RUN(test_invalid_json);
    RUN(test_invalid_no_payload_in_error);
    RUN(test_invalid_v);
    RUN(test_invalid_id);
    RUN(test_invalid_type);
    RUN(test_invalid_tenant_cluster);
    RUN(test_invalid_ts);
    RUN(test_invalid_data);
    RUN(test_build_round_trip);
    return harness_report("envelope");
}
