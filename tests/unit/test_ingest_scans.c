/* Unit tests of the scanner-report validation (shapes of the real tools' JSON output). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/ingest/scans.h"
#include "harness.h"

static char *read_fixture(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/scans/%s", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static json_t *parse_fixture(const char *tool, const char *name, char *err, size_t errlen)
{
    size_t len = 0;
    char *body = read_fixture(name, &len);
    CHECK(body != NULL);
    if (body == NULL) {
        return NULL;
    }
    json_t *report = ingest_scan_parse(tool, body, len, err, errlen);
    free(body);
    return report;
}

static void test_real_reports_accepted(void)
{
    char err[256] = "";
    json_t *r = parse_fixture("kube-bench", "kube-bench.json", err, sizeof err);
    CHECK(json_is_array(json_object_get(r, "Controls")));
    json_decref(r);
    r = parse_fixture("kube-hunter", "kube-hunter.json", err, sizeof err);
    CHECK_INT_EQ(json_array_size(json_object_get(r, "vulnerabilities")), 2);
    json_decref(r);
    r = parse_fixture("kubeaudit", "kubeaudit.jsonl", err, sizeof err);
    CHECK_INT_EQ(json_array_size(r), 3);
    json_decref(r);
    r = parse_fixture("trivy", "trivy.json", err, sizeof err);
    CHECK_STR_EQ(json_string_value(json_object_get(r, "ClusterName")), "kind-prod");
    json_decref(r);
    const char *legacy = "[{\"id\":\"1\",\"text\":\"Master\",\"tests\":[]}]";
    r = ingest_scan_parse("kube-bench", legacy, strlen(legacy), err, sizeof err);
    CHECK(json_is_array(r));
    json_decref(r);
}

static void expect_error(const char *tool, const char *body, const char *needle)
{
    char err[256] = "";
    json_t *r = ingest_scan_parse(tool, body, strlen(body), err, sizeof err);
    CHECK(r == NULL);
    if (strstr(err, needle) == NULL) {
        fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
        CHECK(0);
    }
    json_decref(r);
}

static void test_wrong_shapes_named(void)
{
    expect_error("kube-bench", "{\"nodes\":[]}", "Controls");
    expect_error("kube-bench", "{\"Controls\":[{\"text\":\"x\"}]}", "id");
    expect_error("kube-hunter", "{\"nodes\":[],\"services\":[]}", "vulnerabilities");
    expect_error("kube-hunter", "{\"nodes\":[],\"services\":[],\"vulnerabilities\":[1]}",
                 "vulnerabilities[0]");
    expect_error("kubeaudit", "{\"AuditResultName\":\"x\",\"level\":\"error\"}\nnope\n", "line 2");
    expect_error("kubeaudit", "\n\n", "no result lines");
    expect_error("trivy", "{\"ClusterName\":\"c\"}", "Resources");
    expect_error("trivy", "{\"ClusterName\":\"c\",\"Resources\":{}}", "not an array");
    expect_error("trivy", "{\"Resources\":[]}", "ClusterName");
    expect_error("trivy", "{\"ClusterName\":", "invalid JSON");
    expect_error("nmap", "{}", "tool must be");
    CHECK(!ingest_scan_tool_known(NULL));
    CHECK(ingest_scan_tool_known("kubeaudit"));
}

int main(void)
{
    RUN(test_real_reports_accepted);
    RUN(test_wrong_shapes_named);
    return harness_report("ingest_scans");
}
