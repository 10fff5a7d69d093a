/* finding.observed data objects of the API inventory (docs/messages.md), source and scope
 * "api". Rule ids: VGL-API-001 shadow, -002 zombie, -003 unauthenticated internal, -004
 * unauthenticated external, -005 sensitive data in URL, -006 sensitive data in response,
 * -007 new third-party host, -008 plaintext HTTP to the outside. */
#ifndef VIGIL_INVENTORY_API_FINDING_H
#define VIGIL_INVENTORY_API_FINDING_H

#include <jansson.h>

typedef struct api_rule {
    const char *id;
    const char *title;
    const char *severity;
    const char *category;
    const char *remediation;
    const char *owasp;
} api_rule;

extern const api_rule api_rule_shadow, api_rule_zombie, api_rule_unauth_internal,
    api_rule_unauth_external, api_rule_sensitive_url, api_rule_sensitive_response,
    api_rule_third_party, api_rule_plaintext;

/* A finding (new reference). object and evidence are stolen; uid identifies the object
 * ("service METHOD template" or the host) in the fingerprint. */
json_t *api_finding_new(const char *tenant_id, const char *cluster_id, const api_rule *rule,
                        json_t *object, const char *uid, const char *field, json_t *evidence);

/* Hex SHA-256 of "tenant|cluster|rule|uid|field" into out[65]. */
void api_finding_fingerprint(const char *tenant_id, const char *cluster_id, const char *rule_id,
                             const char *uid, const char *field, char out[65]);

/* {"service","method","path","host"} (new reference). */
json_t *api_finding_endpoint_object(const char *service, const char *method, const char *path,
                                    const char *host);

#endif
