/* Job targets: OpenAPI operations, inventory endpoints, the unsafe-method policy, host
 * matching and identities whose header values are sealed with the master key. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/fuzzer/target.h"
#include "harness.h"
#include "vigil/crypto.h"

static const char *const spec =
    "{\"openapi\":\"3.0.3\",\"security\":[{\"bearer\":[]}],"
    "\"components\":{\"parameters\":{\"Id\":{\"name\":\"orderId\",\"in\":\"path\",\"required\":"
    "true,\"schema\":{\"type\":\"integer\",\"example\":7}}},\"schemas\":{\"O\":{\"type\":"
    "\"object\",\"properties\":{\"item\":{\"type\":\"string\"}}}}},"
    "\"paths\":{\"/orders/{orderId}\":{\"parameters\":[{\"$ref\":\"#/components/parameters/Id\"}],"
    "\"get\":{},\"delete\":{\"deprecated\":true}},"
    "\"/orders\":{\"post\":{\"requestBody\":{\"content\":{\"application/json\":{\"schema\":"
    "{\"$ref\":\"#/components/schemas/O\"}}}}}},"
    "\"/login\":{\"post\":{\"security\":[]}},\"/admin/users\":{\"get\":{\"tags\":[\"x\"]}},"
    "\"/report\":{\"get\":{\"tags\":[\"Admin\"],\"security\":[{}]}},"
    "\"/loop\":{\"get\":{\"parameters\":[{\"$ref\":\"#/components/parameters/Loop\"}]}},"
    "\"bad\":{\"get\":{}},\"/x\":{\"get\":{\"parameters\":[{\"name\":\"q\",\"in\":\"query\","
    "\"example\":5}]}}}}";

static void test_openapi(void)
{
    char err[200];
    fz_target *tgt = fz_target_new("http://API.example:8080/base/", err, sizeof err);
    CHECK_STR_EQ(tgt->base_url, "http://api.example:8080/base");
    CHECK_STR_EQ(tgt->authority, "api.example:8080");
    json_t *doc = json_loads(spec, 0, NULL);
    CHECK_INT_EQ(fz_target_add_openapi(tgt, doc), 8);
    const fz_endpoint *get = fz_target_find(tgt, "GET", "/orders/{orderId}");
    CHECK(get != NULL && get->auth_required && get->nparams == 1);
    CHECK_STR_EQ(get->params[0].type, "integer");
    CHECK_STR_EQ(get->params[0].example, "7");
    CHECK(fz_target_find(tgt, "DELETE", "/orders/{orderId}")->deprecated);
    const fz_endpoint *post = fz_target_find(tgt, "POST", "/orders");
    CHECK(post->body_schema != NULL && json_object_get(post->body_schema, "properties"));
    CHECK(!fz_target_find(tgt, "POST", "/login")->auth_required);
    CHECK(fz_target_find(tgt, "GET", "/admin/users")->admin);
    const fz_endpoint *rep = fz_target_find(tgt, "GET", "/report");
    CHECK(rep->admin && !rep->auth_required);
    CHECK_STR_EQ(fz_target_find(tgt, "GET", "/x")->params[0].example, "5");
    CHECK(fz_target_find(tgt, "GET", "bad") == NULL);
    /* the same document twice adds nothing */
    CHECK_INT_EQ(fz_target_add_openapi(tgt, doc), 0);
    json_decref(doc);
    fz_target_destroy(tgt);
}

static void test_inventory_and_policy(void)
{
    char err[200];
    fz_target *tgt = fz_target_new("https://shop.example", err, sizeof err);
    CHECK_STR_EQ(tgt->authority, "shop.example");
    json_t *schema = json_loads("{\"query\":{\"page\":{\"type\":\"integer\"}}}", 0, NULL);
    fz_target_add_inventory(tgt, "GET", "/users/{userId}/orders", "jwt", schema);
    fz_target_add_inventory(tgt, "CONNECT", "/", "none", NULL);
    CHECK_INT_EQ(tgt->neps, 1);
    CHECK(tgt->eps[0].auth_required && tgt->eps[0].nparams == 2);
    json_decref(schema);
    CHECK(fz_target_method_allowed(tgt, "GET", "/a/{id}"));
    CHECK(fz_target_method_allowed(tgt, "POST", "/orders"));
    CHECK(fz_target_method_allowed(tgt, "POST", "/api/login"));
    CHECK(!fz_target_method_allowed(tgt, "POST", "/orders/{id}"));
    CHECK(!fz_target_method_allowed(tgt, "POST", "/orders/cancel"));
    CHECK(!fz_target_method_allowed(tgt, "PATCH", "/users/me"));
    CHECK(!fz_target_method_allowed(tgt, "DELETE", "/orders/{id}"));
    tgt->allow_unsafe = true;
    CHECK(fz_target_method_allowed(tgt, "DELETE", "/orders/{id}"));
    CHECK(fz_target_host_matches(tgt, "https://shop.example/v1"));
    CHECK(fz_target_host_matches(tgt, "SHOP.example"));
    CHECK(!fz_target_host_matches(tgt, "shop.example.evil.com"));
    CHECK(fz_target_new("ftp://x", err, sizeof err) == NULL);
    fz_target_destroy(tgt);
}

static void test_request_identities(void)
{
    vg_master_key mk;
    char err[200];
    CHECK_INT_EQ(vg_master_key_load(&mk, "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", false, err,
                                    sizeof err),
                 0);
    const char *tok = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";
    char *sealed = vg_secret_seal(&mk, tok, strlen(tok), "t/j");
    json_t *req = json_pack("{s:[{s:s,s:{s:s}},{s:s,s:s,s:{}}],s:[s,s],s:b,s:i,s:i}", "identities",
                            "name", "alice", "headers", "Authorization", sealed, "name", "boss",
                            "role", "admin", "headers", "categories", "API1:2023", "INJ",
                            "allow_unsafe_methods", 1, "rate_limit", 5000, "time_budget_s", 60);
    fz_target *tgt = fz_target_new("http://h", err, sizeof err);
    CHECK_INT_EQ(fz_target_load_request(tgt, req, &mk, "t/j", err, sizeof err), 0);
    CHECK_INT_EQ(tgt->nids, 2);
    CHECK_STR_EQ(tgt->ids[0].headers[0],
                 "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln");
    CHECK(tgt->ids[0].jwt != NULL && !tgt->ids[0].admin && tgt->ids[1].admin);
    CHECK(tgt->allow_unsafe && tgt->rate == 1000 && tgt->time_budget_s == 60);
    CHECK(fz_target_wants(tgt, "API1") && fz_target_wants(tgt, "inj") &&
          !fz_target_wants(tgt, "API2"));
    fz_target_destroy(tgt);
    /* wrong associated data (another job) cannot open the headers */
    tgt = fz_target_new("http://h", err, sizeof err);
    CHECK_INT_EQ(fz_target_load_request(tgt, req, &mk, "t/other", err, sizeof err), -1);
    CHECK(strstr(err, "cannot be decrypted") != NULL && strstr(err, "Bearer") == NULL);
    fz_target_destroy(tgt);
    json_decref(req);
    free(sealed);
}

int main(void)
{
    RUN(test_openapi);
    RUN(test_inventory_and_policy);
    RUN(test_request_identities);
    return harness_report("test_fuzzer_target");
}
