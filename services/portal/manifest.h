/* The onboarding RBAC manifest: Namespace, ServiceAccount vigil-reader, a read-only
 * ClusterRole (no Secrets), its ClusterRoleBinding and a service-account-token Secret. */
#ifndef PORTAL_MANIFEST_H
#define PORTAL_MANIFEST_H

#include <stdbool.h>

#include "portal.h"

/* True when ns is a valid namespace name (RFC 1123 label, at most 63 characters). */
bool portal_manifest_namespace_valid(const char *ns);
/* The manifest YAML for namespace ns (a valid name); new string. */
char *portal_manifest_render(const char *ns);

/* GET /api/v1/onboarding/manifest.yaml[?namespace=vigil] */
void portal_manifest_handle(vg_http_req *req, void *arg);

#endif
