/* Scanner report normalisation on reports shaped like each tool's documented output
 * (tests/fixtures/scans_report/), including malformed ones. Run from the repo root. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/report/normalize.h"
#include "harness.h"

#define DIR "tests/fixtures/scans_report/"
#define TENANT "6f1c3a52-8d7e-4b0a-9c11-2f3e4d5a6b7c"
#define CLUSTER "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

static json_t *load(const char *name)
{
    json_error_t jerr;
    json_t *doc = json_load_file(name, 0, &jerr);
    if (doc == NULL) {
        fprintf(stderr, "  cannot load %s: %s\n", name, jerr.text);
    }
    return doc;
}

/* kubeaudit's JSON lines -> the array the scan.report message carries. */
static json_t *load_lines(const char *name)
{
    FILE *fp = fopen(name, "r");
    if (fp == NULL) {
        return NULL;
    }
    json_t *arr = json_array();
    char line[8192];
    while (fgets(line, sizeof line, fp) != NULL) {
        json_t *obj = json_loads(line, 0, NULL);
        json_array_append_new(arr, obj ? obj : json_string(line));
    }
    fclose(fp);
    return arr;
}

static json_t *find_rule(const json_t *findings, const char *rule_id)
{
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "rule_id")), rule_id) == 0) {
            return f;
        }
    }
    return NULL;
}

static const char *str(const json_t *f, const char *key)
{
    return json_string_value(json_object_get(f, key));
}

static json_t *normalize_ok(const char *tool, json_t *report)
{
    json_t *out = NULL;
    char err[256] = "";
    CHECK(report != NULL);
    int rc = report_normalize(tool, report, TENANT, CLUSTER, &out, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "  %s refused: %s\n", tool, err);
    }
    CHECK_INT_EQ(rc, 0);
    json_decref(report);
    return out;
}

static void test_kube_bench(void)
{
    json_t *out = normalize_ok("kube-bench", load(DIR "kube-bench.json"));
    CHECK_INT_EQ(json_array_size(out), 3); /* 2 FAIL + 1 WARN; PASS and INFO are not findings */
    json_t *f = find_rule(out, "1.1.12");
    CHECK(f != NULL);
    CHECK_STR_EQ(str(f, "severity"), "high"); /* scored FAIL */
    CHECK_STR_EQ(str(f, "source"), "kube-bench");
    CHECK_STR_EQ(str(f, "scope"), "scan:kube-bench");
    CHECK_STR_EQ(str(f, "category"), "Control Plane Security Configuration");
    CHECK(strstr(str(f, "remediation"), "chown etcd:etcd") != NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(f, "evidence"), "actual_value")),
                 "root:root");
    CHECK_STR_EQ(str(find_rule(out, "4.2.1"), "severity"), "medium"); /* unscored FAIL */
    CHECK_STR_EQ(str(find_rule(out, "1.2.1"), "severity"), "low");    /* WARN */
    CHECK(find_rule(out, "1.1.1") == NULL);
    CHECK(find_rule(out, "4.2.13") == NULL);
    CHECK_INT_EQ(strlen(str(f, "fingerprint")), 64);
    json_decref(out);
    out = normalize_ok("kube-bench", load(DIR "kube-bench-legacy-array.json"));
    CHECK_INT_EQ(json_array_size(out), 1);
    CHECK_STR_EQ(str(find_rule(out, "4.2.6"), "severity"), "high");
    json_decref(out);
}

static void test_kube_hunter(void)
{
    json_t *out = normalize_ok("kube-hunter", load(DIR "kube-hunter.json"));
    CHECK_INT_EQ(json_array_size(out), 3);
    json_t *rce = find_rule(out, "KHV036");
    CHECK(rce != NULL);
    CHECK_STR_EQ(str(rce, "severity"), "critical"); /* high + Remote Code Execution */
    CHECK_STR_EQ(str(rce, "title"), "Anonymous Authentication");
    CHECK_STR_EQ(str(rce, "category"), "Remote Code Execution");
    CHECK_STR_EQ(str(json_object_get(rce, "object"), "name"), "10.0.0.12:10250");
    json_t *ver = find_rule(out, "KHV002");
    CHECK_STR_EQ(str(ver, "severity"), "medium");
    CHECK_STR_EQ(str(json_object_get(ver, "evidence"), "evidence"), "v1.27.3");
    /* the same rule at two locations gives two fingerprints */
    CHECK(strcmp(str(find_rule(out, "KHV052"), "fingerprint"), str(rce, "fingerprint")) != 0);
    json_decref(out);
}

static void test_kubeaudit(void)
{
    json_t *out = normalize_ok("kubeaudit", load_lines(DIR "kubeaudit.jsonl"));
    CHECK_INT_EQ(json_array_size(out), 5);
    json_t *f = find_rule(out, "AllowPrivilegeEscalationNil");
    CHECK_STR_EQ(str(f, "severity"), "high");
    CHECK_STR_EQ(str(f, "field"), "container:nginx");
    json_t *obj = json_object_get(f, "object");
    CHECK_STR_EQ(str(obj, "kind"), "Deployment");
    CHECK_STR_EQ(str(obj, "namespace"), "shop");
    CHECK_STR_EQ(str(obj, "name"), "web");
    CHECK_STR_EQ(str(find_rule(out, "LimitsNotSet"), "severity"), "medium");
    CHECK_STR_EQ(str(find_rule(out, "NamespaceNetworkPolicyMissing"), "severity"), "info");
    json_decref(out);
    /* lines given as their text work too */
    json_t *texts = json_array();
    json_array_append_new(texts, json_string("{\"AuditResultName\":\"PrivilegedTrue\","
                                             "\"ResourceKind\":\"Pod\",\"ResourceName\":\"p\","
                                             "\"level\":\"error\",\"msg\":\"privileged\"}"));
    out = normalize_ok("kubeaudit", texts);
    CHECK_INT_EQ(json_array_size(out), 1);
    json_decref(out);
}

static void test_trivy(void)
{
    json_t *out = normalize_ok("trivy", load(DIR "trivy-resources.json"));
    CHECK_INT_EQ(json_array_size(out), 4); /* 2 vulns + 1 failing misconf + KCV0001 */
    json_t *cve = find_rule(out, "CVE-2022-37434");
    CHECK_STR_EQ(str(cve, "severity"), "critical");
    CHECK_STR_EQ(str(cve, "category"), "vulnerability");
    CHECK(strstr(str(cve, "remediation"), "1:1.2.11.dfsg-1+deb10u2") != NULL);
    CHECK_STR_EQ(str(find_rule(out, "CVE-2011-3374"), "severity"), "low");
    json_t *ksv = find_rule(out, "KSV001");
    CHECK_STR_EQ(str(ksv, "severity"), "medium");
    CHECK_STR_EQ(str(json_object_get(ksv, "object"), "namespace"), "shop");
    CHECK(find_rule(out, "KSV003") == NULL); /* Status PASS */
    CHECK_STR_EQ(str(find_rule(out, "KCV0001"), "severity"), "high");
    json_decref(out);
    out = normalize_ok("trivy", load(DIR "trivy-findings.json"));
    CHECK_INT_EQ(json_array_size(out), 1);
    CHECK_STR_EQ(str(find_rule(out, "KSV017"), "severity"), "high");
    json_decref(out);
}

static void expect_refused(const char *tool, json_t *report, const char *needle)
{
    json_t *out = (json_t *)1;
    char err[256] = "";
    CHECK_INT_EQ(report_normalize(tool, report, TENANT, CLUSTER, &out, err, sizeof err), -1);
    CHECK(out == NULL);
    if (strstr(err, needle) == NULL) {
        fprintf(stderr, "  %s: reason \"%s\" lacks \"%s\"\n", tool, err, needle);
        CHECK(0);
    }
    json_decref(report);
}

static void test_malformed(void)
{
    expect_refused("kube-bench", load(DIR "kube-bench-missing-status.json"), "status");
    expect_refused("kube-bench", json_pack("{s:s}", "Controls", "nope"), "Controls");
    expect_refused("kube-hunter", load(DIR "kube-hunter-no-vulnerabilities.json"),
                   "vulnerabilities");
    expect_refused("kubeaudit", load_lines(DIR "kubeaudit-bad-line.jsonl"), "AuditResultName");
    expect_refused("kubeaudit", json_pack("[s]", "not json {"), "not JSON");
    expect_refused("kubeaudit", json_object(), "array");
    expect_refused("trivy", load(DIR "trivy-no-cluster.json"), "ClusterName");
    expect_refused("trivy", load(DIR "trivy-bad-misconfig.json"), "ID");
    expect_refused("trivy", json_pack("{s:s,s:i}", "ClusterName", "c", "Resources", 3), "array");
    expect_refused("nessus", json_object(), "unknown scanner");
    expect_refused("kube-bench", NULL, "Controls");
    /* a truncated file is not JSON at all: the scan.report cannot even carry it */
    CHECK(json_load_file(DIR "kube-bench-truncated.json", 0, NULL) == NULL);
}

static void test_fingerprints_stable(void)
{
    char a[65], b[65], c[65];
    report_fingerprint(TENANT, CLUSTER, "KSV001", "Deployment/shop/web", "x", a);
    report_fingerprint(TENANT, CLUSTER, "KSV001", "Deployment/shop/web", "x", b);
    report_fingerprint(TENANT, "", "KSV001", "Deployment/shop/web", "x", c);
    CHECK_STR_EQ(a, b);
    CHECK(strcmp(a, c) != 0);
    json_t *one = normalize_ok("kube-hunter", load(DIR "kube-hunter.json"));
    json_t *two = normalize_ok("kube-hunter", load(DIR "kube-hunter.json"));
    CHECK_STR_EQ(str(json_array_get(one, 0), "fingerprint"),
                 str(json_array_get(two, 0), "fingerprint"));
    json_decref(one);
    json_decref(two);
    CHECK_INT_EQ(report_severity_rank("critical"), 4);
    CHECK_INT_EQ(report_severity_rank("info"), 0);
    CHECK_INT_EQ(report_severity_rank("urgent"), -1);
}

int main(void)
{
    RUN(test_kube_bench);
    RUN(test_kube_hunter);
    RUN(test_kubeaudit);
    RUN(test_trivy);
    RUN(test_malformed);
    RUN(test_fingerprints_stable);
    return harness_report("report_normalize");
}
