/* API inventory findings: see finding.h. */
#include "finding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/util.h"

const api_rule api_rule_shadow = {
    "VGL-API-001",
    "Shadow API: endpoint not in the uploaded specification",
    "medium",
    "api-inventory",
    "Document the endpoint in the service's OpenAPI specification, or remove it if it is not "
    "meant to be exposed.",
    "API9:2023"};
const api_rule api_rule_zombie = {
    "VGL-API-002",
    "Zombie API: deprecated or removed endpoint still receives traffic",
    "high",
    "api-inventory",
    "Migrate the callers to the supported version and stop serving the deprecated operation.",
    "API9:2023"};
const api_rule api_rule_unauth_internal = {
    "VGL-API-003",
    "Unauthenticated internal API",
    "medium",
    "api-authentication",
    "Require authentication (mTLS identities with an AuthorizationPolicy, or tokens) even for "
    "east-west calls.",
    "API2:2023"};
const api_rule api_rule_unauth_external = {
    "VGL-API-004",
    "Unauthenticated external API",
    "high",
    "api-authentication",
    "Require authentication on every operation reachable from outside the cluster.",
    "API2:2023"};
const api_rule api_rule_sensitive_url = {
    "VGL-API-005",
    "Sensitive data in the URL",
    "medium",
    "api-data-exposure",
    "Move personal data, card numbers and credentials out of paths and query strings (they end "
    "up in logs, caches and referrers); send them in the request body or headers.",
    "API3:2023"};
const api_rule api_rule_sensitive_response = {
    "VGL-API-006",
    "Sensitive data in API responses",
    "medium",
    "api-data-exposure",
    "Return only the fields the client needs; mask card numbers, national ids and secrets.",
    "API3:2023"};
const api_rule api_rule_third_party = {
    "VGL-API-007",
    "New third-party host called from the cluster",
    "low",
    "api-outbound",
    "Check that the host is an approved dependency; restrict egress with a ServiceEntry and an "
    "egress gateway policy.",
    "API10:2023"};
const api_rule api_rule_plaintext = {
    "VGL-API-008",
    "Plaintext HTTP to a host outside the cluster",
    "high",
    "api-outbound",
    "Call the host over HTTPS (or originate TLS at the egress gateway with a DestinationRule).",
    "API8:2023"};

json_t *api_finding_endpoint_object(const char *service, const char *method, const char *path,
                                    const char *host)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "service", service, "method", method, "path", path,
                     "host", host);
}

void api_finding_fingerprint(const char *tenant_id, const char *cluster_id, const char *rule_id,
                             const char *uid, const char *field, char out[65])
{
    char *key = vg_asprintf("%s|%s|%s|%s|%s", tenant_id, cluster_id, rule_id, uid, field);
    vg_sha256_hex(key, strlen(key), out);
    free(key);
}

json_t *api_finding_new(const char *tenant_id, const char *cluster_id, const api_rule *rule,
                        json_t *object, const char *uid, const char *field, json_t *evidence)
{
    char fp[65];
    api_finding_fingerprint(tenant_id, cluster_id, rule->id, uid, field, fp);
    char now[32];
    vg_time_rfc3339(now);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:o,s:s,s:{s:s},s:s}", "fingerprint", fp,
                     "source", "api", "scope", "api", "rule_id", rule->id, "title", rule->title,
                     "severity", rule->severity, "category", rule->category, "object", object,
                     "field", field, "evidence", evidence, "remediation", rule->remediation, "refs",
                     "owasp", rule->owasp, "detected_at", now);
}
