/* Unit tests of the portal's password hashing (scrypt), privilege classifier, manifest,
 * static-path checks, filters and spec helpers. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/portal/domains.h"
#include "../../services/portal/findings.h"
#include "../../services/portal/fuzzjobs.h"
#include "../../services/portal/kube_verify.h"
#include "../../services/portal/manifest.h"
#include "../../services/portal/password.h"
#include "../../services/portal/specs.h"
#include "../../services/portal/static_files.h"
#include "../../services/portal/yaml.h"
#include "harness.h"

static void test_password_roundtrip(void)
{
    char *h = portal_password_hash_with("correct horse battery", 1024, 8, 1);
    CHECK(h != NULL);
    CHECK(strncmp(h, "scrypt$1024$8$1$", 16) == 0);
    CHECK(strstr(h, "correct") == NULL);
    CHECK(portal_password_verify("correct horse battery", h));
    CHECK(!portal_password_verify("correct horse batterY", h));
    CHECK(!portal_password_verify("", h));
    char *h2 = portal_password_hash_with("correct horse battery", 1024, 8, 1);
    CHECK(strcmp(h, h2) != 0); /* random salt */
    free(h);
    free(h2);
}

static void test_password_default_cost_and_malformed(void)
{
    char *h = portal_password_hash("twelve chars!");
    CHECK(h != NULL && strncmp(h, "scrypt$32768$8$1$", 17) == 0);
    CHECK(portal_password_verify("twelve chars!", h));
    free(h);
    static const char *const bad[] = {NULL,
                                      "",
                                      "bcrypt$x",
                                      "scrypt$",
                                      "scrypt$1000$8$1$c2FsdHNhbHQ$aGFzaA",
                                      "scrypt$1024$8$1$!!!$aGFzaA",
                                      "scrypt$1024$8$1$c2FsdHNhbHQ$c2hvcnQ",
                                      "scrypt$2097152$8$1$c2FsdHNhbHQ$aGFzaA",
                                      "scrypt$1024$99$1$c2FsdHNhbHQ$aGFzaA",
                                      "scrypt$0$8$1$c2FsdHNhbHQ$aGFzaA",
                                      "scrypt$1024$8$1$c2FsdHNhbHQ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!portal_password_verify("anything at all", bad[i]));
    }
    CHECK(!portal_password_verify_dummy("anything"));
}

static json_t *review(const char *rules_json)
{
    json_t *status = json_loads(rules_json, 0, NULL);
    CHECK(status != NULL);
    json_t *out = portal_kube_classify(status);
    json_decref(status);
    return out;
}

static void test_classifier_read_only_accepted(void)
{
    json_t *bad =
        review("{\"resourceRules\":["
               "{\"verbs\":[\"create\"],\"apiGroups\":[\"authorization.k8s.io\"],"
               "\"resources\":[\"selfsubjectaccessreviews\",\"selfsubjectrulesreviews\"]},"
               "{\"verbs\":[\"create\"],\"apiGroups\":[\"authentication.k8s.io\"],"
               "\"resources\":[\"selfsubjectreviews\"]},"
               "{\"verbs\":[\"get\",\"list\",\"watch\"],\"apiGroups\":[\"\"],"
               "\"resources\":[\"pods\",\"configmaps\"]}],"
               "\"nonResourceRules\":[{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api\",\"/"
               "version\"]}]}");
    CHECK_INT_EQ(json_array_size(bad), 0);
    json_decref(bad);
}

static void test_classifier_over_privileged(void)
{
    json_t *bad = review("{\"resourceRules\":[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],"
                         "\"resources\":[\"*\"]}]}");
    CHECK_INT_EQ(json_array_size(bad), 1);
    CHECK(strstr(json_string_value(json_object_get(json_array_get(bad, 0), "reason")),
                 "wildcard") != NULL);
    json_decref(bad);
    bad = review("{\"resourceRules\":[{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],"
                 "\"resources\":[\"secrets\"]}]}");
    CHECK_INT_EQ(json_array_size(bad), 1);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(bad, 0), "reason")),
                 "reads Secrets");
    json_decref(bad);
    bad = review(
        "{\"resourceRules\":[{\"verbs\":[\"get\",\"create\",\"delete\"],\"apiGroups\":"
        "[\"\"],\"resources\":[\"pods\"]},{\"verbs\":[\"create\"],\"apiGroups\":"
        "[\"\"],\"resources\":[\"pods/exec\"]},{\"verbs\":[\"create\"],"
        "\"apiGroups\":[\"authorization.k8s.io\"],\"resources\":[\"selfsubjectrulesreviews\","
        "\"subjectaccessreviews\"]}]}");
    CHECK_INT_EQ(json_array_size(bad), 3);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(bad, 0), "reason")),
                 "write access (create, delete)");
    json_decref(bad);
    /* wildcard apiGroups with read verbs still grants Secrets; wildcard resources too */
    bad = review("{\"resourceRules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"*\"],"
                 "\"resources\":[\"pods\"]},{\"verbs\":[\"list\"],\"apiGroups\":[\"apps\"],"
                 "\"resources\":[\"*\"]}],\"nonResourceRules\":[{\"verbs\":[\"*\"],"
                 "\"nonResourceURLs\":[\"*\"]}]}");
    CHECK_INT_EQ(json_array_size(bad), 3);
    json_decref(bad);
    bad = review("{\"resourceRules\":[{\"verbs\":[\"watch\"],\"apiGroups\":[\"\"],"
                 "\"resources\":[\"secrets\",\"pods\"]},{\"verbs\":[\"get\"],\"apiGroups\":"
                 "[\"apps\"],\"resources\":[\"secrets\"]}]}");
    CHECK_INT_EQ(json_array_size(bad), 1); /* "secrets" in group apps is not the core kind */
    json_decref(bad);
}

static void test_manifest(void)
{
    CHECK(portal_manifest_namespace_valid("vigil"));
    CHECK(portal_manifest_namespace_valid("sec-tools-2"));
    CHECK(!portal_manifest_namespace_valid("Vigil"));
    CHECK(!portal_manifest_namespace_valid("-x"));
    CHECK(!portal_manifest_namespace_valid(""));
    CHECK(!portal_manifest_namespace_valid("a\nkind: x"));
    char *m = portal_manifest_render("vigil");
    CHECK(strstr(m, "name: vigil-reader") != NULL);
    CHECK(strstr(m, "type: kubernetes.io/service-account-token") != NULL);
    CHECK(strstr(m, "secrets") == NULL);
    /* each document parses with our YAML parser; the ClusterRole is read-only */
    const char *doc = m;
    int docs = 0, roles = 0;
    while (doc != NULL) {
        const char *sep = strstr(doc, "\n---\n");
        size_t len = sep ? (size_t)(sep - doc) + 1 : strlen(doc);
        char err[256];
        json_t *j = portal_yaml_parse(doc, len, err, sizeof err);
        CHECK(j != NULL);
        docs++;
        if (j && strcmp(json_string_value(json_object_get(j, "kind")), "ClusterRole") == 0) {
            size_t i;
            json_t *rule;
            json_array_foreach(json_object_get(j, "rules"), i, rule)
            {
                json_t *verbs = json_object_get(rule, "verbs");
                CHECK_INT_EQ(json_array_size(verbs), 3);
                CHECK_STR_EQ(json_string_value(json_array_get(verbs, 2)), "watch");
                roles++;
            }
            json_t *status = json_pack("{s:O}", "resourceRules", json_object_get(j, "rules"));
            json_t *bad = portal_kube_classify(status);
            CHECK_INT_EQ(json_array_size(bad), 0);
            json_decref(bad);
            json_decref(status);
        }
        json_decref(j);
        doc = sep ? sep + 5 : NULL;
    }
    CHECK_INT_EQ(docs, 5);
    CHECK_INT_EQ(roles, 9);
    free(m);
}

static void test_static_paths(void)
{
    CHECK(portal_static_path_safe("app.js"));
    CHECK(portal_static_path_safe("img/logo.svg"));
    CHECK(!portal_static_path_safe("../etc/passwd"));
    CHECK(!portal_static_path_safe("img/../../x"));
    CHECK(!portal_static_path_safe("./app.js"));
    CHECK(!portal_static_path_safe(".env"));
    CHECK(!portal_static_path_safe("img//x"));
    CHECK(!portal_static_path_safe("/etc/passwd"));
    CHECK(!portal_static_path_safe("a\\..\\b"));
    CHECK(!portal_static_path_safe(""));
    CHECK_STR_EQ(portal_static_content_type("x.JS"), "text/javascript; charset=utf-8");
    CHECK_STR_EQ(portal_static_content_type("a.css"), "text/css; charset=utf-8");
    CHECK_STR_EQ(portal_static_content_type("noext"), "application/octet-stream");
}

static void test_filters_and_hosts(void)
{
    static const char *const sev[] = {"low", "high", NULL};
    char out[64];
    CHECK(portal_filter_list("low,high", sev, out, sizeof out));
    CHECK_STR_EQ(out, "{low,high}");
    CHECK(!portal_filter_list("low,", sev, out, sizeof out));
    CHECK(!portal_filter_list("low,{x}", sev, out, sizeof out));
    CHECK(!portal_filter_list("", sev, out, sizeof out));
    char *h = portal_url_hostkey("https://API.Example.com:443/v1");
    CHECK_STR_EQ(h, "api.example.com");
    free(h);
    h = portal_url_hostkey("http://svc.ns.svc.cluster.local:8080");
    CHECK_STR_EQ(h, "svc.ns.svc.cluster.local:8080");
    free(h);
    CHECK(portal_url_hostkey("/relative") == NULL);
    CHECK(portal_url_hostkey("http://user@host/") == NULL);
    json_t *doc = json_loads("{\"servers\":[{\"url\":\"https://{env}.example.com\",\"variables\":"
                             "{\"env\":{\"default\":\"prod\"}}},{\"url\":\"https://prod.example."
                             "com/v2\"},{\"url\":\"/x\"}]}",
                             0, NULL);
    json_t *hosts = portal_spec_hosts(doc);
    CHECK_INT_EQ(json_array_size(hosts), 1);
    CHECK_STR_EQ(json_string_value(json_array_get(hosts, 0)), "prod.example.com");
    json_decref(hosts);
    json_decref(doc);
}

static void test_domain_hosts(void)
{
    CHECK(portal_domain_host_valid("api.example.com"));
    CHECK(portal_domain_host_valid("api.example.com:8443"));
    CHECK(portal_domain_host_valid("127.0.0.1:80"));
    CHECK(!portal_domain_host_valid("API.example.com"));
    CHECK(!portal_domain_host_valid("api.example.com:"));
    CHECK(!portal_domain_host_valid("api.example.com:99999"));
    CHECK(!portal_domain_host_valid("api.example.com:80/x"));
    CHECK(!portal_domain_host_valid("a..b"));
    CHECK(!portal_domain_host_valid(".a"));
    CHECK(!portal_domain_host_valid("a b"));
    CHECK(!portal_domain_host_valid("user@host"));
    CHECK(!portal_domain_host_valid(""));
}

static void test_spec_parse_errors(void)
{
    char err[400];
    const char *yaml = "openapi: 3.0.1\ninfo: {title: t, version: 1}\npaths: {/a: {}}\n";
    json_t *doc = portal_spec_parse(yaml, strlen(yaml), NULL, err, sizeof err);
    CHECK(doc != NULL);
    json_decref(doc);
    const char *bad = "openapi: 3.0.1\ninfo: {title: t, version: 1}\npaths: [1]\n";
    CHECK(portal_spec_parse(bad, strlen(bad), "application/yaml", err, sizeof err) == NULL);
    CHECK(strstr(err, "paths") != NULL);
    const char *json = "{\"openapi\":\"3.0.0\",\"openapi\":\"3.0.0\"}";
    CHECK(portal_spec_parse(json, strlen(json), "application/json", err, sizeof err) == NULL);
    CHECK(strstr(err, "invalid JSON") != NULL);
}

static void test_fuzz_request(void)
{
    char err[300];
    json_t *body = json_loads("{\"base_url\":\"http://a.example:8080/x\",\"identities\":[{\"name\":"
                              "\"u\",\"headers\":{\"Authorization\":\"Bearer t\"}}],"
                              "\"categories\":[\"api1:2023\",\"INJECTION\",\"API10\"]}",
                              0, NULL);
    json_t *req = portal_fuzz_request_parse(body, err, sizeof err);
    CHECK(req != NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(req, "host")), "a.example:8080");
    json_t *cats = json_object_get(req, "categories");
    CHECK_STR_EQ(json_string_value(json_array_get(cats, 0)), "API1");
    CHECK_STR_EQ(json_string_value(json_array_get(cats, 1)), "INJ");
    CHECK_STR_EQ(json_string_value(json_array_get(cats, 2)), "API10");
    CHECK(json_is_false(json_object_get(req, "allow_unsafe_methods")));
    json_decref(req);
    json_decref(body);
    body = json_loads("{\"base_url\":\"http://a.example/\",\"identities\":[],"
                      "\"categories\":[\"API0\"]}",
                      0, NULL);
    CHECK(portal_fuzz_request_parse(body, err, sizeof err) == NULL);
    CHECK(strstr(err, "identities") != NULL);
    json_decref(body);
}

int main(void)
{
    RUN(test_password_roundtrip);
    RUN(test_password_default_cost_and_malformed);
    RUN(test_classifier_read_only_accepted);
    RUN(test_classifier_over_privileged);
    RUN(test_manifest);
    RUN(test_static_paths);
    RUN(test_filters_and_hosts);
    RUN(test_domain_hosts);
    RUN(test_spec_parse_errors);
    RUN(test_fuzz_request);
    return harness_report("test_portal_auth");
}
