/* Scanner reports -> findings. Each parser checks the shape the tool documents and refuses
 * anything else with a reason (the message then goes to the dead-letter topic). */
#include "normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil/alloc.h"
#include "vigil/util.h"

/* Findings from one report: more is almost certainly not a report but an attack. */
#define MAX_FINDINGS 50000

typedef struct norm_ctx {
    const char *tool;
    const char *tenant_id;
    const char *cluster_id;
    json_t *out; /* the array being filled */
    char *errbuf;
    size_t errlen;
} norm_ctx;

static const char *const severities[] = {"info", "low", "medium", "high", "critical"};

int report_severity_rank(const char *severity)
{
    for (int i = 0; severity != NULL && i < 5; i++) {
        if (strcmp(severity, severities[i]) == 0) {
            return i;
        }
    }
    return -1;
}

bool report_tool_known(const char *tool)
{
    return tool != NULL && (strcmp(tool, "kube-bench") == 0 || strcmp(tool, "kube-hunter") == 0 ||
                            strcmp(tool, "kubeaudit") == 0 || strcmp(tool, "trivy") == 0);
}

void report_fingerprint(const char *tenant_id, const char *cluster_id, const char *rule_id,
                        const char *object_key, const char *field, char out[65])
{
    char *text = vg_asprintf("%s|%s|%s|%s|%s", tenant_id ? tenant_id : "",
                             cluster_id ? cluster_id : "", rule_id, object_key, field);
    vg_sha256_hex(text, strlen(text), out);
    free(text);
}

/* Sets "malformed <tool> report: <what><detail>" (detail may be ""). Returns -1. */
static int norm_fail(norm_ctx *ctx, const char *what, const char *detail)
{
    snprintf(ctx->errbuf, ctx->errlen, "malformed %s report: %s%.100s", ctx->tool, what,
             detail ? detail : "");
    return -1;
}

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static const char *jstr_or(const json_t *obj, const char *key, const char *def)
{
    const char *s = jstr(obj, key);
    return s != NULL ? s : def;
}

static json_t *object_new(const char *kind, const char *ns, const char *name)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "kind", json_string(kind));
    if (ns != NULL && ns[0] != '\0') {
        json_object_set_new(obj, "namespace", json_string(ns));
    }
    json_object_set_new(obj, "name", json_string(name));
    return obj;
}

/* Appends one finding; object and evidence are stolen. */
static int norm_add(norm_ctx *ctx, const char *rule_id, const char *title, const char *severity,
                    const char *category, json_t *object, const char *field, json_t *evidence,
                    const char *remediation)
{
    if (json_array_size(ctx->out) >= MAX_FINDINGS) {
        json_decref(object);
        json_decref(evidence);
        return norm_fail(ctx, "more than 50000 findings", "");
    }
    char *key = vg_asprintf("%s/%s/%s", jstr_or(object, "kind", ""),
                            jstr_or(object, "namespace", ""), jstr_or(object, "name", ""));
    char fp[65];
    report_fingerprint(ctx->tenant_id, ctx->cluster_id, rule_id, key, field, fp);
    free(key);
    char scope[64];
    snprintf(scope, sizeof scope, "scan:%s", ctx->tool);
    json_t *f = json_object();
    json_object_set_new(f, "fingerprint", json_string(fp));
    json_object_set_new(f, "source", json_string(ctx->tool));
    json_object_set_new(f, "scope", json_string(scope));
    json_object_set_new(f, "rule_id", json_string(rule_id));
    json_object_set_new(f, "title", json_string(title[0] ? title : rule_id));
    json_object_set_new(f, "severity", json_string(severity));
    json_object_set_new(f, "category", json_string(category));
    json_object_set_new(f, "object", object);
    json_object_set_new(f, "field", json_string(field));
    json_object_set_new(f, "evidence", evidence ? evidence : json_object());
    json_object_set_new(f, "remediation", json_string(remediation ? remediation : ""));
    json_object_set_new(f, "refs", json_object());
    json_array_append_new(ctx->out, f);
    return 0;
}

/* ---------------------------------------------------------------- kube-bench --json */

/* FAIL of a scored check -> high, FAIL of an unscored one -> medium, WARN (manual or
 * inconclusive check) -> low; PASS and INFO are not findings. */
static const char *bench_severity(const char *status, bool scored)
{
    if (strcmp(status, "FAIL") == 0) {
        return scored ? "high" : "medium";
    }
    if (strcmp(status, "WARN") == 0) {
        return "low";
    }
    return NULL;
}

static int bench_result(norm_ctx *ctx, const json_t *control, const json_t *res)
{
    const char *num = jstr(res, "test_number");
    const char *status = jstr(res, "status");
    if (!json_is_object(res) || num == NULL || status == NULL) {
        return norm_fail(ctx, "a result lacks test_number or status", "");
    }
    if (strcmp(status, "PASS") && strcmp(status, "FAIL") && strcmp(status, "WARN") &&
        strcmp(status, "INFO")) {
        return norm_fail(ctx, "unknown status ", status);
    }
    const char *sev = bench_severity(status, json_is_true(json_object_get(res, "scored")));
    if (sev == NULL) {
        return 0;
    }
    const char *node = jstr_or(control, "node_type", "node");
    json_t *object = object_new("BenchmarkNode", NULL, node);
    json_t *ev = json_object();
    json_object_set_new(ev, "status", json_string(status));
    json_object_set_new(ev, "scored", json_boolean(json_is_true(json_object_get(res, "scored"))));
    json_object_set_new(ev, "actual_value", json_string(jstr_or(res, "actual_value", "")));
    json_object_set_new(ev, "expected_result", json_string(jstr_or(res, "expected_result", "")));
    json_object_set_new(ev, "audit", json_string(jstr_or(res, "audit", "")));
    json_object_set_new(ev, "benchmark", json_string(jstr_or(control, "version", "")));
    return norm_add(ctx, num, jstr_or(res, "test_desc", num), sev,
                    jstr_or(control, "text", "CIS benchmark"), object, "", ev,
                    jstr(res, "remediation"));
}

static int bench_control(norm_ctx *ctx, const json_t *control)
{
    const json_t *tests = json_object_get(control, "tests");
    if (!json_is_object(control) || !json_is_array(tests)) {
        return norm_fail(ctx, "a control lacks its tests array", "");
    }
    size_t i, j;
    const json_t *group, *res;
    json_array_foreach(tests, i, group)
    {
        const json_t *results = json_object_get(group, "results");
        if (!json_is_array(results)) {
            return norm_fail(ctx, "a test group lacks its results array", "");
        }
        json_array_foreach(results, j, res)
        {
            if (bench_result(ctx, control, res) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* Newer kube-bench wraps the controls: {"Controls":[...],"Totals":{...}}; older versions
 * print the array of controls itself. */
static int parse_kube_bench(norm_ctx *ctx, const json_t *report)
{
    const json_t *controls = json_is_array(report) ? report : json_object_get(report, "Controls");
    if (!json_is_array(controls)) {
        return norm_fail(ctx, "expected {\"Controls\":[...]} or an array of controls", "");
    }
    size_t i;
    const json_t *control;
    json_array_foreach(controls, i, control)
    {
        if (bench_control(ctx, control) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- kube-hunter --report json */

/* kube-hunter rates low/medium/high; a high-rated remote code execution is critical. */
static const char *hunter_severity(const char *sev, const char *category)
{
    if (sev == NULL) {
        return "medium";
    }
    if (strcasecmp(sev, "high") == 0) {
        return strstr(category, "Remote Code Execution") != NULL ? "critical" : "high";
    }
    if (strcasecmp(sev, "medium") == 0) {
        return "medium";
    }
    if (strcasecmp(sev, "low") == 0) {
        return "low";
    }
    return "info";
}

static int hunter_vuln(norm_ctx *ctx, const json_t *v)
{
    const char *vid = jstr(v, "vid");
    if (!json_is_object(v) || vid == NULL || strncmp(vid, "KHV", 3) != 0) {
        return norm_fail(ctx, "a vulnerability lacks a KHV vid", "");
    }
    const char *category = jstr_or(v, "category", "kube-hunter");
    const char *location = jstr_or(v, "location", "");
    json_t *ev = json_object();
    const json_t *evidence = json_object_get(v, "evidence");
    json_object_set_new(ev, "evidence", evidence ? json_deep_copy(evidence) : json_string(""));
    json_object_set_new(ev, "hunter", json_string(jstr_or(v, "hunter", "")));
    json_object_set_new(ev, "location", json_string(location));
    const char *ref = jstr(v, "avd_reference");
    if (ref != NULL) {
        json_object_set_new(ev, "reference", json_string(ref));
    }
    char remediation[600];
    snprintf(remediation, sizeof remediation, "%s%s%s", jstr_or(v, "description", ""),
             ref ? " See " : "", ref ? ref : "");
    return norm_add(ctx, vid, jstr_or(v, "vulnerability", vid),
                    hunter_severity(jstr(v, "severity"), category), category,
                    object_new("Host", NULL, location), "", ev, remediation);
}

static int parse_kube_hunter(norm_ctx *ctx, const json_t *report)
{
    const json_t *vulns = json_object_get(report, "vulnerabilities");
    if (!json_is_object(report) || !json_is_array(vulns)) {
        return norm_fail(ctx, "expected an object with a vulnerabilities array", "");
    }
    size_t i;
    const json_t *v;
    json_array_foreach(vulns, i, v)
    {
        if (hunter_vuln(ctx, v) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- kubeaudit --format json */

/* error -> high, warning -> medium, info -> info. */
static const char *audit_severity(const char *level)
{
    if (strcmp(level, "error") == 0) {
        return "high";
    }
    if (strcmp(level, "warning") == 0) {
        return "medium";
    }
    return "info";
}

static int audit_line(norm_ctx *ctx, const json_t *line)
{
    const char *name = jstr(line, "AuditResultName");
    const char *level = jstr(line, "level");
    if (!json_is_object(line) || name == NULL || level == NULL) {
        return norm_fail(ctx, "a line lacks AuditResultName or level", "");
    }
    if (strcmp(level, "error") && strcmp(level, "warning") && strcmp(level, "info")) {
        return norm_fail(ctx, "unknown level ", level);
    }
    json_t *object = object_new(jstr_or(line, "ResourceKind", ""), jstr(line, "ResourceNamespace"),
                                jstr_or(line, "ResourceName", ""));
    const char *container = jstr(line, "Container");
    char field[300] = "";
    if (container != NULL) {
        snprintf(field, sizeof field, "container:%s", container);
    }
    json_t *ev = json_deep_copy(line);
    json_object_del(ev, "time");
    return norm_add(ctx, name, jstr_or(line, "msg", name), audit_severity(level), "kubeaudit",
                    object, field, ev, jstr(line, "msg"));
}

/* The report is the array of kubeaudit's JSON lines, each an object or its text. */
static int parse_kubeaudit(norm_ctx *ctx, const json_t *report)
{
    if (!json_is_array(report)) {
        return norm_fail(ctx, "expected the array of kubeaudit's JSON lines", "");
    }
    size_t i;
    const json_t *line;
    json_array_foreach(report, i, line)
    {
        int rc;
        if (json_is_string(line)) {
            json_t *parsed = json_loads(json_string_value(line), 0, NULL);
            if (parsed == NULL) {
                return norm_fail(ctx, "a line is not JSON", "");
            }
            rc = audit_line(ctx, parsed);
            json_decref(parsed);
        } else {
            rc = audit_line(ctx, line);
        }
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- trivy k8s --format json */

/* CRITICAL/HIGH/MEDIUM/LOW map one to one; UNKNOWN (or anything else) -> info. */
static const char *trivy_severity(const char *sev)
{
    static const char *const upper[] = {"LOW", "MEDIUM", "HIGH", "CRITICAL"};
    for (int i = 0; sev != NULL && i < 4; i++) {
        if (strcasecmp(sev, upper[i]) == 0) {
            return severities[i + 1];
        }
    }
    return "info";
}

static json_t *resource_object(const json_t *resource)
{
    return object_new(jstr_or(resource, "Kind", ""), jstr(resource, "Namespace"),
                      jstr_or(resource, "Name", ""));
}

static int trivy_misconf(norm_ctx *ctx, const json_t *resource, const char *target, const json_t *m)
{
    const char *id = jstr(m, "ID");
    if (!json_is_object(m) || id == NULL) {
        return norm_fail(ctx, "a misconfiguration lacks its ID", "");
    }
    const char *status = jstr(m, "Status");
    if (status != NULL && strcmp(status, "FAIL") != 0) {
        return 0;
    }
    json_t *ev = json_object();
    json_object_set_new(ev, "message", json_string(jstr_or(m, "Message", "")));
    json_object_set_new(ev, "target", json_string(target));
    json_object_set_new(ev, "avd_id", json_string(jstr_or(m, "AVDID", "")));
    json_object_set_new(ev, "primary_url", json_string(jstr_or(m, "PrimaryURL", "")));
    return norm_add(ctx, id, jstr_or(m, "Title", id), trivy_severity(jstr(m, "Severity")),
                    jstr_or(m, "Type", "misconfiguration"), resource_object(resource),
                    jstr_or(m, "Message", ""), ev, jstr(m, "Resolution"));
}

static int trivy_vuln(norm_ctx *ctx, const json_t *resource, const char *target, const json_t *v)
{
    const char *id = jstr(v, "VulnerabilityID");
    const char *pkg = jstr(v, "PkgName");
    if (!json_is_object(v) || id == NULL || pkg == NULL) {
        return norm_fail(ctx, "a vulnerability lacks VulnerabilityID or PkgName", "");
    }
    const char *fixed = jstr(v, "FixedVersion");
    char field[512], fix[600];
    snprintf(field, sizeof field, "%s %s@%s", target, pkg, jstr_or(v, "InstalledVersion", ""));
    if (fixed != NULL && fixed[0] != '\0') {
        snprintf(fix, sizeof fix, "Upgrade %s to %s.", pkg, fixed);
    } else {
        snprintf(fix, sizeof fix, "No fixed version of %s yet; mitigate or replace it.", pkg);
    }
    json_t *ev = json_object();
    json_object_set_new(ev, "package", json_string(pkg));
    json_object_set_new(ev, "installed_version", json_string(jstr_or(v, "InstalledVersion", "")));
    json_object_set_new(ev, "fixed_version", json_string(fixed ? fixed : ""));
    json_object_set_new(ev, "target", json_string(target));
    json_object_set_new(ev, "primary_url", json_string(jstr_or(v, "PrimaryURL", "")));
    return norm_add(ctx, id, jstr_or(v, "Title", id), trivy_severity(jstr(v, "Severity")),
                    "vulnerability", resource_object(resource), field, ev, fix);
}

static int trivy_list(norm_ctx *ctx, const json_t *resource, const char *target, const json_t *list,
                      bool misconf)
{
    if (list == NULL || json_is_null(list)) {
        return 0;
    }
    if (!json_is_array(list)) {
        return norm_fail(ctx, "Misconfigurations/Vulnerabilities must be arrays", "");
    }
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        int rc = misconf ? trivy_misconf(ctx, resource, target, item)
                         : trivy_vuln(ctx, resource, target, item);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

/* One resource: {"Namespace","Kind","Name","Results":[{"Target","Misconfigurations",
 * "Vulnerabilities"}]} (Misconfigurations/Vulnerabilities directly on it are read too). */
static int trivy_resource(norm_ctx *ctx, const json_t *resource)
{
    if (!json_is_object(resource) || jstr(resource, "Kind") == NULL) {
        return norm_fail(ctx, "a resource lacks its Kind", "");
    }
    const json_t *results = json_object_get(resource, "Results");
    if (results != NULL && !json_is_null(results) && !json_is_array(results)) {
        return norm_fail(ctx, "Results must be an array", "");
    }
    size_t i;
    const json_t *r;
    json_array_foreach(results, i, r)
    {
        const char *target = jstr_or(r, "Target", "");
        if (!json_is_object(r) ||
            trivy_list(ctx, resource, target, json_object_get(r, "Misconfigurations"), true) ||
            trivy_list(ctx, resource, target, json_object_get(r, "Vulnerabilities"), false)) {
            return json_is_object(r) ? -1 : norm_fail(ctx, "a result is not an object", "");
        }
    }
    if (trivy_list(ctx, resource, "", json_object_get(resource, "Misconfigurations"), true) ||
        trivy_list(ctx, resource, "", json_object_get(resource, "Vulnerabilities"), false)) {
        return -1;
    }
    return 0;
}

static int trivy_resources(norm_ctx *ctx, const json_t *list)
{
    size_t i;
    const json_t *resource;
    json_array_foreach(list, i, resource)
    {
        if (trivy_resource(ctx, resource) != 0) {
            return -1;
        }
    }
    return 0;
}

/* trivy k8s --format json: {"ClusterName","Resources":[...]} (--report all), the summary
 * shape {"ClusterName","Findings":[...]}, or the older {"ClusterName","Vulnerabilities":[
 * resources],"Misconfigurations":[resources]}. */
static int parse_trivy(norm_ctx *ctx, const json_t *report)
{
    if (!json_is_object(report) || jstr(report, "ClusterName") == NULL) {
        return norm_fail(ctx, "expected an object with ClusterName", "");
    }
    static const char *const keys[] = {"Resources", "Findings", "Vulnerabilities",
                                       "Misconfigurations"};
    bool any = false;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const json_t *list = json_object_get(report, keys[k]);
        if (list == NULL || json_is_null(list)) {
            continue;
        }
        if (!json_is_array(list)) {
            return norm_fail(ctx, "not an array: ", keys[k]);
        }
        any = true;
        if (trivy_resources(ctx, list) != 0) {
            return -1;
        }
    }
    if (!any && json_object_get(report, "SchemaVersion") == NULL) {
        return norm_fail(ctx, "no Resources, Findings, Vulnerabilities or Misconfigurations", "");
    }
    return 0;
}

int report_normalize(const char *tool, const json_t *report, const char *tenant_id,
                     const char *cluster_id, json_t **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (!report_tool_known(tool)) {
        snprintf(errbuf, errlen, "unknown scanner \"%.64s\"", tool ? tool : "(none)");
        return -1;
    }
    norm_ctx ctx = {tool, tenant_id, cluster_id, json_array(), errbuf, errlen};
    int rc;
    if (strcmp(tool, "kube-bench") == 0) {
        rc = parse_kube_bench(&ctx, report);
    } else if (strcmp(tool, "kube-hunter") == 0) {
        rc = parse_kube_hunter(&ctx, report);
    } else if (strcmp(tool, "kubeaudit") == 0) {
        rc = parse_kubeaudit(&ctx, report);
    } else {
        rc = parse_trivy(&ctx, report);
    }
    if (rc != 0) {
        json_decref(ctx.out);
        return -1;
    }
    *out = ctx.out;
    return 0;
}
