/* Plan usage: GET /api/v1/usage -> {plan, controlled_workloads, workload_limit, clusters, ...}. */
#ifndef PORTAL_USAGE_H
#define PORTAL_USAGE_H

#include "portal.h"

void portal_usage_get(vg_http_req *req, void *arg);

#endif
