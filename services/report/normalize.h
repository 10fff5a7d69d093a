/* Scanner report normalisation: kube-bench --json, kube-hunter --report json, kubeaudit
 * --format json (JSON lines) and trivy k8s --format json become findings shaped like the
 * data of a finding.observed message, keeping each tool's own rule ids and mapping its
 * severities onto info/low/medium/high/critical (table in docs/report.md). */
#ifndef REPORT_NORMALIZE_H
#define REPORT_NORMALIZE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* True for "kube-bench", "kube-hunter", "kubeaudit" and "trivy". */
bool report_tool_known(const char *tool);

/* Normalises one report (borrowed). On success returns 0 and *out is a new JSON array of
 * finding objects (caller json_decref()s), each with fingerprint, source (the tool), scope
 * ("scan:<tool>"), rule_id, title, severity, category, object, field, evidence,
 * remediation and refs. tenant_id/cluster_id go into the fingerprints (cluster_id may be
 * "" or NULL). A malformed report returns -1 with the reason in errbuf. */
int report_normalize(const char *tool, const json_t *report, const char *tenant_id,
                     const char *cluster_id, json_t **out, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));

/* hex SHA-256 of "tenant|cluster|rule|object|field" into out[65]. */
void report_fingerprint(const char *tenant_id, const char *cluster_id, const char *rule_id,
                        const char *object_key, const char *field, char out[65]);

/* Severity rank: info 0 .. critical 4, -1 when not one of the five names. */
int report_severity_rank(const char *severity);

#endif
