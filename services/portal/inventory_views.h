/* Read views of the cluster model and API inventory: workloads, APIs (with an OpenAPI
 * document built from the learned schema) and the call topology. */
#ifndef PORTAL_INVENTORY_VIEWS_H
#define PORTAL_INVENTORY_VIEWS_H

#include <jansson.h>

#include "portal.h"

/* An OpenAPI 3.0 document for one learned endpoint (a row of api_endpoints as JSON). */
json_t *portal_api_openapi(const json_t *endpoint);

void portal_workloads_list(vg_http_req *req, void *arg);  /* GET /api/v1/workloads */
void portal_apis_list(vg_http_req *req, void *arg);       /* GET /api/v1/apis */
void portal_api_get(vg_http_req *req, void *arg);         /* GET /api/v1/apis/{id} */
void portal_api_openapi_get(vg_http_req *req, void *arg); /* GET /api/v1/apis/{id}/openapi.json */
void portal_topology_get(vg_http_req *req, void *arg);    /* GET /api/v1/topology */

#endif
