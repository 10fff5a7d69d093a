/* The least-privilege Istio AuthorizationPolicy of a destination service, generated from the
 * callers observed in api_edges (principals cluster.local/ns/<ns>/sa/<sa> when the model
 * knows them, the ingress gateway for external callers, namespaces or ipBlocks otherwise)
 * and the methods seen in api_endpoints, stored in api_policies. */
#ifndef VIGIL_INVENTORY_API_POLICY_H
#define VIGIL_INVENTORY_API_POLICY_H

#include <jansson.h>
#include <libpq-fe.h>

#include "vigil/db.h"

/* The policy object from edge rows (source, class, source_principal) and method rows (new
 * reference). service is "name.namespace" (or a bare name). */
json_t *api_policy_build(const char *service, PGresult *edges, PGresult *methods);

/* Recomputes and stores the policy of service. Returns 0 or -1. */
int api_policy_update(vg_db *db, const char *tenant_id, const char *cluster_id, const char *service)
    __attribute__((warn_unused_result));

#endif
