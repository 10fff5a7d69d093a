/* Scanner reports of POST /v1/scans?tool=…: checks that a body really is the named tool's
 * JSON output and returns it as the `report` of a scan.report message.
 * Pure functions (no I/O): fuzzed by tests/fuzz/fuzz_ingest_scans.c. */
#ifndef INGEST_SCANS_H
#define INGEST_SCANS_H

#include <jansson.h>
#include <stddef.h>

/* True for kube-bench, kube-hunter, kubeaudit and trivy. */
int ingest_scan_tool_known(const char *tool);

/* Validates body (len bytes) as tool's output: kube-bench --json (an object with a
 * "Controls" array, or the older top-level array of controls), kube-hunter --report json
 * (an object with "nodes", "services" and "vulnerabilities" arrays), kubeaudit --format json
 * (JSON lines, each an object with "AuditResultName" and "level"; the report becomes the
 * array of lines) and trivy k8s --format json (an object with "ClusterName" and at least one
 * of the "Resources", "Findings", "Vulnerabilities", "Misconfigurations" arrays).
 * Returns the report (new reference) or NULL with what is wrong in errbuf. */
json_t *ingest_scan_parse(const char *tool, const char *body, size_t len, char *errbuf,
                          size_t errlen);

#endif
