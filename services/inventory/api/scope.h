/* The finding.scope of the API inventory: the fingerprints of every API finding of a cluster
 * that still holds (from api_endpoints and api_outbound_hosts), so report resolves the
 * others (an endpoint added to the spec, a merged template, credentials now required). */
#ifndef VIGIL_INVENTORY_API_SCOPE_H
#define VIGIL_INVENTORY_API_SCOPE_H

#include <jansson.h>

#include "vigil/db.h"

/* A new JSON array of fingerprints, or NULL on a database error. */
json_t *api_scope_fingerprints(vg_db *db, const char *tenant_id, const char *cluster_id);

#endif
