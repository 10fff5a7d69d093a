/* API inventory content analysis: record parsing and attribution (Istio access logs and
 * APIClarity telemetry), sensitive-data detectors, formats, schemas, auth schemes, batch
 * aggregation, spec verdicts and the reconstructed OpenAPI document. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/inventory/api/detect.h"
#include "../../services/inventory/api/learn.h"
#include "../../services/inventory/api/record.h"
#include "../../services/inventory/api/spec.h"
#include "harness.h"
#include "vigil/util.h"

static json_t *item(const char *format, const char *record_json)
{
    json_t *rec = json_loads(record_json, 0, NULL);
    return json_pack("{s:s,s:o}", "format", format, "record", rec);
}

static void test_envoy_internal(void)
{
    json_t *it =
        item("envoy", "{\"start_time\":\"2024-05-01T10:00:00.123Z\",\"method\":\"GET\","
                      "\"path\":\"/status/418?x=1\",\"protocol\":\"HTTP/1.1\","
                      "\"response_code\":418,\"response_flags\":\"-\",\"bytes_received\":0,"
                      "\"bytes_sent\":135,\"duration\":4,\"upstream_service_time\":\"3\","
                      "\"x_forwarded_for\":null,\"user_agent\":\"curl/8.4.0\","
                      "\"request_id\":\"e7c5-1\",\"authority\":\"httpbin:8000\","
                      "\"upstream_host\":\"10.244.0.22:80\","
                      "\"upstream_cluster\":\"outbound|8000||httpbin.foo.svc.cluster.local\","
                      "\"downstream_remote_address\":\"10.244.0.21:51234\","
                      "\"requested_server_name\":null}");
    api_record rec;
    char err[128];
    CHECK_INT_EQ(api_record_parse(it, &rec, err, sizeof err), 0);
    CHECK_STR_EQ(rec.method, "GET");
    CHECK_STR_EQ(rec.service, "httpbin.foo");
    CHECK_STR_EQ(rec.host, "httpbin:8000");
    CHECK_STR_EQ(rec.source, "10.244.0.21");
    CHECK_STR_EQ(rec.dst_ip, "10.244.0.22");
    CHECK_STR_EQ(rec.query, "x=1");
    CHECK_INT_EQ(rec.status, 418);
    CHECK_INT_EQ(rec.cls, API_CLASS_INTERNAL);
    CHECK_INT_EQ(rec.port, 8000);
    json_decref(it);
}

static void test_envoy_external_and_outbound(void)
{
    char err[128];
    api_record rec;
    json_t *ext =
        item("envoy", "{\"method\":\"POST\",\"path\":\"/api/v1/orders\","
                      "\"response_code\":201,\"authority\":\"shop.example.com\","
                      "\"upstream_cluster\":\"outbound|8080||shop.shop.svc.cluster.local\","
                      "\"downstream_remote_address\":\"10.0.0.5:40000\","
                      "\"x_forwarded_for\":\"81.2.69.142, 10.0.0.5\"}");
    CHECK_INT_EQ(api_record_parse(ext, &rec, err, sizeof err), 0);
    CHECK_INT_EQ(rec.cls, API_CLASS_EXTERNAL);
    CHECK_STR_EQ(rec.source, "external");
    CHECK_STR_EQ(rec.service, "shop.shop");
    json_decref(ext);
    /* opaque TLS to a third party: method and path "-", only the SNI names the host */
    json_t *tls = item("envoy", "{\"method\":\"-\",\"path\":\"-\",\"protocol\":\"-\","
                                "\"response_code\":0,\"authority\":\"-\",\"duration\":120,"
                                "\"upstream_host\":\"54.1.2.3:443\","
                                "\"upstream_cluster\":\"PassthroughCluster\","
                                "\"requested_server_name\":\"api.stripe.com\","
                                "\"downstream_remote_address\":\"10.244.1.9:33000\"}");
    CHECK_INT_EQ(api_record_parse(tls, &rec, err, sizeof err), 0);
    CHECK(rec.method == NULL);
    CHECK_INT_EQ(rec.cls, API_CLASS_OUTBOUND);
    CHECK_STR_EQ(rec.service, "api.stripe.com");
    CHECK(rec.tls);
    json_decref(tls);
    json_t *se = item("envoy", "{\"method\":null,\"path\":null,\"response_code\":0,"
                               "\"upstream_cluster\":\"outbound|443||api.github.com\","
                               "\"downstream_remote_address\":\"10.244.1.9:33001\"}");
    CHECK_INT_EQ(api_record_parse(se, &rec, err, sizeof err), 0);
    CHECK_STR_EQ(rec.service, "api.github.com");
    CHECK_INT_EQ(rec.cls, API_CLASS_OUTBOUND);
    json_decref(se);
    json_t *plain =
        item("envoy", "{\"method\":\"GET\",\"path\":\"/v1/rates\",\"response_code\":200,"
                      "\"authority\":\"rates.example.org\","
                      "\"upstream_cluster\":\"PassthroughCluster\","
                      "\"downstream_remote_address\":\"10.244.1.9:33002\"}");
    CHECK_INT_EQ(api_record_parse(plain, &rec, err, sizeof err), 0);
    CHECK_INT_EQ(rec.cls, API_CLASS_OUTBOUND);
    CHECK(!rec.tls);
    json_decref(plain);
    /* the destination's own sidecar logged it: in the cluster whatever the authority */
    json_t *in = item("envoy", "{\"method\":\"GET\",\"path\":\"/\",\"response_code\":200,"
                               "\"authority\":\"shop.example.com\","
                               "\"upstream_cluster\":\"inbound|8080||\","
                               "\"upstream_host\":\"127.0.0.6:8080\","
                               "\"downstream_local_address\":\"10.244.2.20:8080\","
                               "\"downstream_remote_address\":\"81.2.69.142:5000\"}");
    CHECK_INT_EQ(api_record_parse(in, &rec, err, sizeof err), 0);
    CHECK_INT_EQ(rec.cls, API_CLASS_EXTERNAL);
    CHECK(rec.inbound);
    CHECK_STR_EQ(rec.service, "shop.example.com");
    CHECK_STR_EQ(rec.dst_ip, "10.244.2.20");
    json_decref(in);
    json_t *bad = item("envoy", "{\"method\":\"GET\",\"response_code\":200}");
    CHECK_INT_EQ(api_record_parse(bad, &rec, err, sizeof err), -1);
    json_decref(bad);
    json_t *badm = item("envoy", "{\"method\":\"G E\",\"path\":\"/\",\"authority\":\"a\"}");
    CHECK_INT_EQ(api_record_parse(badm, &rec, err, sizeof err), -1);
    json_decref(badm);
}

static char *b64(const char *s)
{
    return vg_base64_encode((const unsigned char *)s, strlen(s));
}

static json_t *apiclarity(const char *method, const char *path, const char *auth,
                          const char *req_body, const char *resp_body, const char *status)
{
    char *rq = req_body ? b64(req_body) : NULL, *rs = resp_body ? b64(resp_body) : NULL;
    json_t *headers = json_pack("[{s:s,s:s}]", "key", "content-type", "value", "application/json");
    if (auth != NULL) {
        json_array_append_new(headers,
                              json_pack("{s:s,s:s}", "key", "Authorization", "value", auth));
    }
    json_t *rec = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:{s:o,s:s?,s:b,s:I}},s:{s:s,s:{s:[],s:s?,s:b,s:I}}}",
        "requestID", "r-1", "scheme", "http", "destinationAddress", "10.96.3.4:8080",
        "destinationNamespace", "bank", "sourceAddress", "10.244.2.7:41000", "request", "method",
        method, "path", path, "host", "accounts", "common", "headers", headers, "body", rq,
        "truncatedBody", 0, "time", (json_int_t)1700000000000, "response", "statusCode", status,
        "common", "headers", "body", rs, "truncatedBody", 0, "time", (json_int_t)1700000000025);
    free(rq);
    free(rs);
    return json_pack("{s:s,s:o}", "format", "apiclarity", "record", rec);
}

static void test_apiclarity_parse(void)
{
    json_t *it = apiclarity("GET", "/v2/accounts/7?iban=DE89370400440532013000", NULL, NULL,
                            "{\"owner\":\"ann@example.com\"}", "200");
    api_record rec;
    char err[128];
    CHECK_INT_EQ(api_record_parse(it, &rec, err, sizeof err), 0);
    CHECK_STR_EQ(rec.service, "accounts.bank");
    CHECK_INT_EQ(rec.status, 200);
    CHECK_INT_EQ((int)rec.duration_ms, 25);
    CHECK(rec.resp_body_b64 != NULL);
    CHECK_STR_EQ(rec.source, "10.244.2.7");
    json_decref(it);
}

static void test_detectors(void)
{
    const char *s = "card 4111 1111 1111 1111 and 4111111111111112";
    CHECK_INT_EQ(api_sensitive_scan(s, strlen(s)), API_SENS_CARD);
    CHECK(api_luhn_valid("79927398713", 11));
    CHECK(!api_luhn_valid("79927398710", 11));
    CHECK(api_iban_valid("DE89370400440532013000", 22));
    CHECK(api_iban_valid("GB82WEST12345698765432", 22));
    CHECK(!api_iban_valid("GB82WEST12345698765433", 22));
    const char *t = "ssn=123-45-6789&phone=%2B14155550123&mail=bob%40example.com";
    unsigned bits = api_sensitive_scan(t, strlen(t));
    CHECK(bits & API_SENS_SSN);
    CHECK(bits & API_SENS_EMAIL);
    const char *p = "{\"phone\":\"+14155550123\",\"ssn\":\"000-12-3456\"}";
    CHECK_INT_EQ(api_sensitive_scan(p, strlen(p)), API_SENS_PHONE);
    const char *j = "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2ln";
    CHECK_INT_EQ(api_sensitive_scan(j, strlen(j)), API_SENS_JWT);
    const char *k =
        "{\"key\":\"sk_live_4eC39HqLyjWDarjtT1zdp7dc\",\"aws\":\"AKIAIOSFODNN7EXAMPLE\"}";
    CHECK_INT_EQ(api_sensitive_scan(k, strlen(k)), API_SENS_APIKEY);
    const char *iban = "{\"iban\":\"DE89370400440532013000\"}";
    CHECK_INT_EQ(api_sensitive_scan(iban, strlen(iban)), API_SENS_IBAN);
    const char *clean = "/api/v1/orders/12345/items?page=2&sort=created_at";
    CHECK_INT_EQ(api_sensitive_scan(clean, strlen(clean)), 0);
    const char *uuid = "/v2/accounts/3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e";
    CHECK_INT_EQ(api_sensitive_scan(uuid, strlen(uuid)), 0);
}

static void test_formats_and_schema(void)
{
    CHECK_STR_EQ(api_string_format("2024-02-29", 10), "date");
    CHECK_STR_EQ(api_string_format("2024-02-29T10:00:00Z", 20), "date-time");
    CHECK_STR_EQ(api_string_format("ann@example.com", 15), "email");
    CHECK_STR_EQ(api_string_format("3F2B8C1E-4D5A-4B6C-9D7E-8F9A0B1C2D3E", 36), "uuid");
    CHECK_STR_EQ(api_string_format("192.168.1.20", 12), "ipv4");
    CHECK_STR_EQ(api_string_format("fe80::1ff:fe23:4567:890a", 24), "ipv6");
    CHECK(api_string_format("hello", 5) == NULL);
    CHECK(api_string_format("999.1.1.1", 9) == NULL);
    json_t *a = json_loads("{\"id\":1,\"email\":\"a@b.io\",\"tags\":[\"x\"],\"at\":null}", 0, NULL);
    json_t *b = json_loads("{\"id\":2.5,\"email\":\"nope\",\"extra\":true}", 0, NULL);
    json_t *sa = api_schema_infer(a), *sb = api_schema_infer(b);
    api_schema_merge(sa, sb);
    json_t *props = json_object_get(sa, "properties");
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(props, "id"), "type")),
                 "number");
    CHECK(json_object_get(json_object_get(props, "email"), "format") == NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(props, "extra"), "type")),
                 "boolean");
    CHECK_STR_EQ(json_string_value(json_object_get(
                     json_object_get(json_object_get(props, "tags"), "items"), "type")),
                 "string");
    json_decref(a);
    json_decref(b);
    json_decref(sa);
    json_decref(sb);
}

static void test_auth(void)
{
    json_t *h = json_pack("[{s:s,s:s}]", "key", "Authorization", "value",
                          "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln");
    CHECK_STR_EQ(api_auth_scheme(h, NULL), "jwt");
    json_decref(h);
    h = json_pack("[{s:s,s:s}]", "key", "authorization", "value", "Basic dTpw");
    CHECK_STR_EQ(api_auth_scheme(h, NULL), "basic");
    json_decref(h);
    h = json_pack("[{s:s,s:s}]", "key", "X-API-Key", "value", "abc");
    CHECK_STR_EQ(api_auth_scheme(h, NULL), "apikey");
    json_decref(h);
    CHECK_STR_EQ(api_auth_scheme(NULL, "page=1&api_key=zz"), "apikey");
    CHECK_STR_EQ(api_auth_scheme(NULL, "page=1"), "none");
}

static void add(api_batch *b, json_t *it)
{
    api_record rec;
    char err[128];
    CHECK_INT_EQ(api_record_parse(it, &rec, err, sizeof err), 0);
    api_batch_add(b, &rec, "2024-05-01T10:00:00Z");
    json_decref(it);
}

static void test_batch(void)
{
    api_batch *b = api_batch_new();
    add(b, apiclarity("GET", "/v2/accounts/17?from=2024-01-01", NULL, NULL,
                      "{\"owner\":\"ann@example.com\",\"balance\":10}", "200"));
    add(b, apiclarity("GET", "/v2/accounts/18?from=2024-02-01", "Bearer abc.def", NULL,
                      "{\"owner\":\"bob@example.com\",\"balance\":12.5}", "200"));
    add(b, apiclarity("POST", "/v2/accounts", NULL, "{\"name\":\"x\",\"opened\":\"2024-03-01\"}",
                      NULL, "201"));
    add(b, apiclarity("GET", "/v2/accounts/19", NULL, NULL, NULL, "404"));
    CHECK_INT_EQ(api_batch_endpoints(b), 2);
    CHECK_INT_EQ(api_batch_edges(b), 1);
    const api_endpoint_agg *get = NULL;
    for (size_t i = 0; i < api_batch_endpoints(b); i++) {
        if (strcmp(api_batch_endpoint(b, i)->method, "GET") == 0) {
            get = api_batch_endpoint(b, i);
        }
    }
    CHECK(get != NULL);
    if (get != NULL) {
        CHECK_STR_EQ(get->tmpl, "/v2/accounts/{accountId}");
        CHECK_INT_EQ(get->count, 3);
        CHECK_INT_EQ(get->nstatus, 2);
        CHECK(get->sens_resp & API_SENS_EMAIL);
        json_t *schema = api_endpoint_schema(get);
        CHECK_STR_EQ(json_string_value(json_object_get(
                         json_object_get(json_object_get(schema, "query"), "from"), "format")),
                     "date");
        json_t *r200 = json_object_get(json_object_get(schema, "responses"), "200");
        CHECK_STR_EQ(json_string_value(json_object_get(
                         json_object_get(json_object_get(r200, "properties"), "balance"), "type")),
                     "number");
        json_decref(schema);
        json_t *sens = api_endpoint_sensitive(get);
        CHECK_INT_EQ(json_array_size(sens), 1);
        json_decref(sens);
    }
    const api_edge_agg *e = api_batch_edge(b, 0);
    CHECK_INT_EQ(e->calls, 4);
    CHECK_INT_EQ(e->errors, 0);
    CHECK_INT_EQ(e->hist[5], 4); /* 25 ms: the 50 ms bucket */
    api_batch_destroy(b);
}

static void test_spec_verdicts(void)
{
    json_t *v1 = json_loads("{\"openapi\":\"3.0.3\",\"servers\":[{\"url\":\"http://bank/v2\"}],"
                            "\"paths\":{\"/accounts/{id}\":{\"get\":{\"operationId\":\"getAcc\"},"
                            "\"delete\":{\"deprecated\":true}},\"/accounts/me\":{\"get\":{}},"
                            "\"/legacy\":{\"get\":{}}}}",
                            0, NULL);
    json_t *v2 = json_loads("{\"openapi\":\"3.0.3\",\"servers\":[{\"url\":\"http://bank/v2\"}],"
                            "\"paths\":{\"/accounts/{id}\":{\"get\":{\"operationId\":\"getAcc\"},"
                            "\"delete\":{\"deprecated\":true}},\"/accounts/me\":{\"get\":{}}}}",
                            0, NULL);
    json_t *hosts = json_pack("[s]", "accounts.bank.svc.cluster.local:8080");
    api_spec *older = api_spec_new("s1", v1, NULL, hosts);
    api_spec *newer = api_spec_new("s2", v2, "accounts", NULL);
    api_spec *specs[2] = {newer, older};
    api_spec_verdict v = api_spec_judge(specs, 2, "accounts.bank", "accounts:8080", "GET",
                                        "/v2/accounts/{accountId}");
    CHECK(v.covered && !v.shadow && !v.zombie);
    CHECK_STR_EQ(v.operation, "getAcc");
    v = api_spec_judge(specs, 2, "accounts.bank", "accounts", "DELETE", "/v2/accounts/{accountId}");
    CHECK(v.zombie && !v.shadow);
    v = api_spec_judge(specs, 2, "accounts.bank", "accounts", "GET", "/v2/legacy");
    CHECK(v.zombie);
    CHECK_STR_EQ(v.reason, "removed in a newer spec");
    v = api_spec_judge(specs, 2, "accounts.bank", "accounts", "GET", "/v2/accounts/me");
    CHECK(!v.shadow && !v.zombie);
    v = api_spec_judge(specs, 2, "accounts.bank", "accounts", "POST", "/v2/debug/dump");
    CHECK(v.shadow);
    v = api_spec_judge(specs, 2, "cards.bank", "cards", "GET", "/anything");
    CHECK(!v.covered && !v.shadow);
    api_spec_destroy(older);
    api_spec_destroy(newer);
    json_decref(v1);
    json_decref(v2);
    json_decref(hosts);
}

static void test_openapi(void)
{
    json_t *eps = json_loads(
        "[{\"method\":\"GET\",\"path_template\":\"/users/{userId}\",\"auth\":\"jwt\","
        "\"status_codes\":{\"200\":3,\"0\":1},\"scheme\":\"http\",\"host\":\"users:8080\","
        "\"schema\":{\"query\":{\"page\":{\"type\":\"integer\"}},\"headers\":{},"
        "\"responses\":{\"200\":{\"type\":\"object\"}}}},"
        "{\"method\":\"CONNECT\",\"path_template\":\"/\",\"auth\":\"unknown\",\"status_codes\":{}},"
        "{\"method\":\"POST\",\"path_template\":\"/users\",\"auth\":\"none\","
        "\"status_codes\":{\"201\":1},\"schema\":{\"request_body\":{\"type\":\"object\"}}}]",
        0, NULL);
    json_t *doc = api_openapi_build("users.default", eps);
    CHECK_STR_EQ(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
    json_t *paths = json_object_get(doc, "paths");
    CHECK_INT_EQ(json_object_size(paths), 2);
    json_t *get = json_object_get(json_object_get(paths, "/users/{userId}"), "get");
    CHECK(get != NULL);
    json_t *p0 = json_array_get(json_object_get(get, "parameters"), 0);
    CHECK_STR_EQ(json_string_value(json_object_get(p0, "name")), "userId");
    CHECK(json_is_true(json_object_get(p0, "required")));
    CHECK(json_object_get(json_object_get(get, "responses"), "0") == NULL);
    CHECK(json_object_get(json_object_get(json_object_get(doc, "components"), "securitySchemes"),
                          "jwtAuth") != NULL);
    json_t *post = json_object_get(json_object_get(paths, "/users"), "post");
    CHECK_INT_EQ(json_array_size(json_object_get(post, "security")), 0);
    CHECK(json_object_get(post, "requestBody") != NULL);
    json_decref(doc);
    json_decref(eps);
}

int main(void)
{
    RUN(test_envoy_internal);
    RUN(test_envoy_external_and_outbound);
    RUN(test_apiclarity_parse);
    RUN(test_detectors);
    RUN(test_formats_and_schema);
    RUN(test_auth);
    RUN(test_batch);
    RUN(test_spec_verdicts);
    RUN(test_openapi);
    return harness_report("test_inventory_api_content");
}
