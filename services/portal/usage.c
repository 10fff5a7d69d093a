/* Plan usage (see usage.h). workload_limit: the tenant's own limit, else VIGIL_FREE_WORKLOADS on
 * the free plan, else null (unlimited). */
#include "usage.h"

#include <stdio.h>

#include "auth.h"
#include "json_util.h"

void portal_usage_get(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    char free_limit[24];
    snprintf(free_limit, sizeof free_limit, "%ld", ctx->set.free_workloads);
    portal_query q = {
        .sql = "SELECT jsonb_build_object('plan', t.plan, 'workload_limit', coalesce("
               "t.workload_limit, CASE WHEN t.plan = 'free' THEN $1::integer END), "
               "'controlled_workloads', (SELECT count(*) FROM workloads w WHERE w.gone_at IS NULL "
               "AND w.status = 'controlled'), "
               "'uncontrolled_workloads', (SELECT count(*) FROM workloads w WHERE w.gone_at IS "
               "NULL AND w.status = 'uncontrolled'), "
               "'clusters', (SELECT count(*) FROM clusters), "
               "'apis', (SELECT count(*) FROM api_endpoints), "
               "'open_findings', (SELECT count(*) FROM findings f WHERE f.status = 'open')) "
               "FROM tenants t",
        .nparams = 1,
        .params = {free_limit}};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0 || q.out == NULL) {
        json_decref(q.out);
        portal_reply_db_error(req, ctx->db, NULL);
        return;
    }
    vg_http_reply_json(req, 200, q.out);
}
