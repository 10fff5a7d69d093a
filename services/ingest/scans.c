/* Validation of the scanner reports Vigil accepts, by their real top-level shapes. */
#include "scans.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const known_tools[] = {"kube-bench", "kube-hunter", "kubeaudit", "trivy"};

int ingest_scan_tool_known(const char *tool)
{
    for (size_t i = 0; tool != NULL && i < sizeof known_tools / sizeof known_tools[0]; i++) {
        if (strcmp(tool, known_tools[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static json_t *load_json(const char *body, size_t len, char *errbuf, size_t errlen)
{
    json_error_t error;
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY, &error);
    if (doc == NULL) {
        snprintf(errbuf, errlen, "invalid JSON at line %d, column %d: %s", error.line, error.column,
                 error.text);
    }
    return doc;
}

/* A kube-bench control: {"id", "text", "tests":[{"section", "results":[…]}], …}. */
static bool kube_bench_control_ok(json_t *c, size_t i, char *errbuf, size_t errlen)
{
    if (!json_is_object(c) || !json_is_string(json_object_get(c, "id"))) {
        snprintf(errbuf, errlen, "kube-bench: control %zu has no \"id\" string", i);
        return false;
    }
    json_t *tests = json_object_get(c, "tests");
    if (tests != NULL && !json_is_array(tests) && !json_is_null(tests)) {
        snprintf(errbuf, errlen, "kube-bench: control %zu: \"tests\" is not an array", i);
        return false;
    }
    return true;
}

static bool kube_bench_ok(json_t *doc, char *errbuf, size_t errlen)
{
    json_t *controls = doc;
    if (json_is_object(doc)) {
        controls = json_object_get(doc, "Controls");
        if (!json_is_array(controls)) {
            snprintf(errbuf, errlen,
                     "kube-bench: expected a \"Controls\" array (kube-bench "
                     "--json output)");
            return false;
        }
        json_t *totals = json_object_get(doc, "Totals");
        if (totals != NULL && !json_is_object(totals)) {
            snprintf(errbuf, errlen, "kube-bench: \"Totals\" is not an object");
            return false;
        }
    } else if (!json_is_array(doc)) {
        snprintf(errbuf, errlen, "kube-bench: expected an object with \"Controls\"");
        return false;
    }
    size_t i;
    json_t *c;
    json_array_foreach(controls, i, c)
    {
        if (!kube_bench_control_ok(c, i, errbuf, errlen)) {
            return false;
        }
    }
    return true;
}

static bool kube_hunter_ok(json_t *doc, char *errbuf, size_t errlen)
{
    static const char *const keys[] = {"nodes", "services", "vulnerabilities"};
    if (!json_is_object(doc)) {
        snprintf(errbuf, errlen,
                 "kube-hunter: expected an object with \"nodes\", \"services\" "
                 "and \"vulnerabilities\" (kube-hunter --report json)");
        return false;
    }
    for (size_t k = 0; k < 3; k++) {
        if (!json_is_array(json_object_get(doc, keys[k]))) {
            snprintf(errbuf, errlen, "kube-hunter: \"%s\" is missing or not an array", keys[k]);
            return false;
        }
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "vulnerabilities"), i, v)
    {
        if (!json_is_object(v) || !json_is_string(json_object_get(v, "vulnerability"))) {
            snprintf(errbuf, errlen,
                     "kube-hunter: vulnerabilities[%zu] has no "
                     "\"vulnerability\" string",
                     i);
            return false;
        }
    }
    return true;
}

static bool trivy_ok(json_t *doc, char *errbuf, size_t errlen)
{
    static const char *const lists[] = {"Resources", "Findings", "Vulnerabilities",
                                        "Misconfigurations"};
    if (!json_is_object(doc) || !json_is_string(json_object_get(doc, "ClusterName"))) {
        snprintf(errbuf, errlen,
                 "trivy: expected an object with \"ClusterName\" (trivy k8s "
                 "--format json)");
        return false;
    }
    int found = 0;
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        json_t *v = json_object_get(doc, lists[k]);
        if (v != NULL && !json_is_array(v) && !json_is_null(v)) {
            snprintf(errbuf, errlen, "trivy: \"%s\" is not an array", lists[k]);
            return false;
        }
        found += v != NULL;
    }
    if (found == 0) {
        snprintf(errbuf, errlen,
                 "trivy: no \"Resources\", \"Findings\", \"Vulnerabilities\" or "
                 "\"Misconfigurations\" list");
        return false;
    }
    return true;
}

/* One kubeaudit JSON line: {"AuditResultName","ResourceKind",…,"level","msg","time"}. */
static json_t *kubeaudit_line(const char *line, size_t n, size_t lineno, char *errbuf,
                              size_t errlen)
{
    json_error_t error;
    json_t *obj = json_loadb(line, n, 0, &error);
    if (obj == NULL) {
        snprintf(errbuf, errlen, "kubeaudit: line %zu: invalid JSON: %s", lineno, error.text);
        return NULL;
    }
    if (!json_is_string(json_object_get(obj, "AuditResultName")) ||
        !json_is_string(json_object_get(obj, "level"))) {
        snprintf(errbuf, errlen,
                 "kubeaudit: line %zu: expected \"AuditResultName\" and "
                 "\"level\" (kubeaudit --format json)",
                 lineno);
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *kubeaudit_parse(const char *body, size_t len, char *errbuf, size_t errlen)
{
    json_t *lines = json_array();
    size_t pos = 0, lineno = 0;
    while (pos < len) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - body) : len;
        lineno++;
        size_t s = pos, e = end;
        while (s < e && strchr(" \t\r", body[s]) != NULL) {
            s++;
        }
        while (e > s && strchr(" \t\r", body[e - 1]) != NULL) {
            e--;
        }
        if (e > s) {
            json_t *obj = kubeaudit_line(body + s, e - s, lineno, errbuf, errlen);
            if (obj == NULL) {
                json_decref(lines);
                return NULL;
            }
            json_array_append_new(lines, obj);
        }
        pos = end + 1;
    }
    if (json_array_size(lines) == 0) {
        snprintf(errbuf, errlen, "kubeaudit: no result lines");
        json_decref(lines);
        return NULL;
    }
    return lines;
}

json_t *ingest_scan_parse(const char *tool, const char *body, size_t len, char *errbuf,
                          size_t errlen)
{
    if (!ingest_scan_tool_known(tool)) {
        snprintf(errbuf, errlen, "tool must be kube-bench, kube-hunter, kubeaudit or trivy");
        return NULL;
    }
    if (strcmp(tool, "kubeaudit") == 0) {
        return kubeaudit_parse(body, len, errbuf, errlen);
    }
    json_t *doc = load_json(body, len, errbuf, errlen);
    if (doc == NULL) {
        return NULL;
    }
    bool ok = strcmp(tool, "kube-bench") == 0    ? kube_bench_ok(doc, errbuf, errlen)
              : strcmp(tool, "kube-hunter") == 0 ? kube_hunter_ok(doc, errbuf, errlen)
                                                 : trivy_ok(doc, errbuf, errlen);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
