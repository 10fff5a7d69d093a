/* Clusters: onboarding with a verified scoped credential, listing, deletion and sync. */
#ifndef PORTAL_CLUSTERS_H
#define PORTAL_CLUSTERS_H

#include "portal.h"

void portal_cluster_create(vg_http_req *req, void *arg); /* POST /api/v1/clusters */
void portal_cluster_list(vg_http_req *req, void *arg);   /* GET /api/v1/clusters */
void portal_cluster_get(vg_http_req *req, void *arg);    /* GET /api/v1/clusters/{id} */
void portal_cluster_delete(vg_http_req *req, void *arg); /* DELETE /api/v1/clusters/{id} */
void portal_cluster_sync(vg_http_req *req, void *arg);   /* POST /api/v1/clusters/{id}/sync */

#endif
