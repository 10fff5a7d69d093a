/* Read views of the cluster model and API inventory (see inventory_views.h). */
#include "inventory_views.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json_util.h"
#include "vigil/alloc.h"
#include "vigil/util.h"

/* Optional cluster_id filter; replies 400 and returns false when it is not a UUID. */
static bool cluster_filter(vg_http_req *req, const char **cluster_id)
{
    *cluster_id = vg_http_query(req, "cluster_id");
    if (*cluster_id != NULL && !vg_uuid_valid(*cluster_id)) {
        vg_http_reply_error(req, 400, "invalid_query", "cluster_id must be a UUID");
        return false;
    }
    return true;
}

void portal_workloads_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    const char *cluster_id, *status = NULL;
    if (!portal_auth_require(ctx, req, &auth) || !cluster_filter(req, &cluster_id)) {
        return;
    }
    status = vg_http_query(req, "status");
    if (status && strcmp(status, "controlled") && strcmp(status, "uncontrolled") &&
        strcmp(status, "excluded")) {
        vg_http_reply_error(req, 400, "invalid_query",
                            "status must be controlled, uncontrolled or excluded");
        return;
    }
    portal_query q = {
        .sql = "SELECT coalesce(jsonb_agg(to_jsonb(w) - 'tenant_id' ORDER BY w.admitted_seq "
               "NULLS LAST, w.namespace, w.name), '[]') FROM workloads w WHERE w.gone_at IS NULL "
               "AND ($1::uuid IS NULL OR w.cluster_id = $1::uuid) "
               "AND ($2::text IS NULL OR w.status = $2)",
        .nparams = 2,
        .params = {cluster_id, status}};
    portal_reply_list(ctx->db, req, auth.tenant_id, &q, "workloads");
}

void portal_apis_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    const char *cluster_id;
    if (!portal_auth_require(ctx, req, &auth) || !cluster_filter(req, &cluster_id)) {
        return;
    }
    const char *cls = vg_http_query(req, "class");
    if (cls && strcmp(cls, "external") && strcmp(cls, "internal") && strcmp(cls, "outbound")) {
        vg_http_reply_error(req, 400, "invalid_query",
                            "class must be external, internal or outbound");
        return;
    }
    portal_query q = {.sql =
                          "SELECT coalesce(jsonb_agg(to_jsonb(e) - 'tenant_id' - 'schema' ORDER BY "
                          "e.service, e.path_template, e.method), '[]') FROM api_endpoints e "
                          "WHERE ($1::uuid IS NULL OR e.cluster_id = $1::uuid) "
                          "AND ($2::text IS NULL OR e.class = $2)",
                      .nparams = 2,
                      .params = {cluster_id, cls}};
    portal_reply_list(ctx->db, req, auth.tenant_id, &q, "apis");
}

/* The endpoint {id} as JSON, or NULL after replying 404/500. */
static json_t *api_one(portal_ctx *ctx, vg_http_req *req, portal_auth *auth)
{
    if (!portal_auth_require(ctx, req, auth)) {
        return NULL;
    }
    /* an id merged into another endpoint by a later template keeps answering (aliases) */
    return portal_query_by_id(ctx->db, req, auth->tenant_id,
                              "SELECT to_jsonb(e) - 'tenant_id' FROM api_endpoints e "
                              "WHERE e.id = $1 OR e.id = (SELECT a.endpoint_id FROM "
                              "api_endpoint_aliases a WHERE a.old_id = $1)",
                              "API");
}

void portal_api_get(vg_http_req *req, void *arg)
{
    portal_auth auth;
    json_t *api = api_one(arg, req, &auth);
    if (api != NULL) {
        vg_http_reply_json(req, 200, api);
    }
}

/* Path parameters of a template ("/users/{userId}") as OpenAPI parameter objects. */
static void openapi_path_params(const char *tmpl, json_t *params)
{
    for (const char *p = strchr(tmpl, '{'); p != NULL; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (close == NULL) {
            break;
        }
        char *name = vg_strndup(p + 1, (size_t)(close - p - 1));
        json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name, "in",
                                                "path", "required", 1, "schema", "type", "string"));
        free(name);
    }
}

static void openapi_named_params(const json_t *named, const char *where, json_t *params)
{
    const char *name;
    json_t *schema;
    json_object_foreach((json_t *)named, name, schema)
    {
        json_array_append_new(params,
                              json_pack("{s:s, s:s, s:O}", "name", name, "in", where, "schema",
                                        json_is_object(schema) ? schema : json_object()));
    }
}

static json_t *openapi_operation(const json_t *e)
{
    const json_t *schema = json_object_get(e, "schema");
    json_t *params = json_array();
    openapi_path_params(json_string_value(json_object_get(e, "path_template")), params);
    openapi_named_params(json_object_get(schema, "query"), "query", params);
    openapi_named_params(json_object_get(schema, "headers"), "header", params);
    json_t *op = json_pack("{s:o, s:{}}", "parameters", params, "responses");
    const json_t *body = json_object_get(schema, "request_body");
    if (json_is_object(body) && json_object_size(body) > 0) {
        json_object_set_new(
            op, "requestBody",
            json_pack("{s:{s:{s:O}}}", "content", "application/json", "schema", body));
    }
    const char *code;
    json_t *rs;
    json_object_foreach((json_t *)json_object_get(schema, "responses"), code, rs)
    {
        json_object_set_new(json_object_get(op, "responses"), code,
                            json_pack("{s:s, s:{s:{s:O}}}", "description", "observed", "content",
                                      "application/json", "schema", rs));
    }
    json_t *codes = json_object_get(e, "status_codes");
    json_object_foreach(codes, code, rs)
    {
        if (json_object_get(json_object_get(op, "responses"), code) == NULL) {
            json_object_set_new(json_object_get(op, "responses"), code,
                                json_pack("{s:s}", "description", "observed"));
        }
    }
    if (json_object_size(json_object_get(op, "responses")) == 0) {
        json_object_set_new(json_object_get(op, "responses"), "default",
                            json_pack("{s:s}", "description", "no response observed yet"));
    }
    json_object_set_new(op, "x-vigil",
                        json_pack("{s:O?, s:O?, s:O?, s:O?}", "class", json_object_get(e, "class"),
                                  "auth", json_object_get(e, "auth"), "shadow",
                                  json_object_get(e, "shadow"), "zombie",
                                  json_object_get(e, "zombie")));
    return op;
}

json_t *portal_api_openapi(const json_t *e)
{
    const char *service = json_string_value(json_object_get(e, "service"));
    const char *host = json_string_value(json_object_get(e, "host"));
    const char *scheme = json_string_value(json_object_get(e, "scheme"));
    const char *path = json_string_value(json_object_get(e, "path_template"));
    const char *method = json_string_value(json_object_get(e, "method"));
    char *lower = portal_lower(method ? method : "get");
    char *url = vg_asprintf("%s://%s", scheme ? scheme : "http", host ? host : "localhost");
    json_t *doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:{s:{s:o}}}", "openapi", "3.0.3",
                            "info", "title", service ? service : "API", "version", "observed",
                            "description", "Generated by Vigil from observed traffic", "servers",
                            "url", url, "paths", path ? path : "/", lower, openapi_operation(e));
    free(url);
    free(lower);
    return doc;
}

/* The reconstructed document of the endpoint's whole service (kept by the inventory in
 * api_openapi_docs), or NULL when the inventory has not written one yet. */
static json_t *service_openapi(portal_ctx *ctx, const portal_auth *auth, const json_t *api)
{
    portal_query q = {.sql = "SELECT d.document FROM api_openapi_docs d WHERE d.cluster_id = "
                             "$1::uuid AND d.service = $2",
                      .nparams = 2,
                      .params = {json_string_value(json_object_get(api, "cluster_id")),
                                 json_string_value(json_object_get(api, "service"))}};
    if (portal_query_run(ctx->db, auth->tenant_id, &q) != 0) {
        return NULL;
    }
    return q.out;
}

void portal_api_openapi_get(vg_http_req *req, void *arg)
{
    portal_auth auth;
    json_t *api = api_one(arg, req, &auth);
    if (api != NULL) {
        json_t *doc = service_openapi(arg, &auth, api);
        if (doc == NULL) {
            doc = portal_api_openapi(api); /* this endpoint alone until the service's is built */
        }
        json_decref(api);
        vg_http_reply_json(req, 200, doc);
    }
}

void portal_topology_get(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    const char *cluster_id;
    if (!portal_auth_require(ctx, req, &auth) || !cluster_filter(req, &cluster_id)) {
        return;
    }
    portal_query q = {
        .sql =
            "WITH e AS (SELECT * FROM api_edges WHERE ($1::uuid IS NULL OR cluster_id = "
            "$1::uuid)) SELECT jsonb_build_object("
            "'nodes', coalesce((SELECT jsonb_agg(DISTINCT n) FROM (SELECT source AS n FROM e "
            "UNION SELECT destination FROM e) x), '[]'), "
            "'edges', coalesce((SELECT jsonb_agg(jsonb_build_object('cluster_id', cluster_id, "
            "'source', source, 'destination', destination, 'class', class, 'calls', calls, "
            "'errors', errors, 'error_rate', CASE WHEN calls > 0 THEN round(errors::numeric / "
            "calls, 4) ELSE 0 END, 'latency_ms', latency_ms, 'first_seen', first_seen, "
            "'last_seen', last_seen) ORDER BY source, destination) FROM e), '[]'), "
            "'outbound_hosts', coalesce((SELECT jsonb_agg(jsonb_build_object('cluster_id', "
            "h.cluster_id, 'host', h.host, 'callers', h.callers, 'plaintext', h.plaintext, "
            "'calls', h.calls, 'first_seen', h.first_seen, 'last_seen', h.last_seen) ORDER BY "
            "h.host) FROM api_outbound_hosts h WHERE ($1::uuid IS NULL OR h.cluster_id = "
            "$1::uuid)), '[]'), "
            "'policies', coalesce((SELECT jsonb_agg(jsonb_build_object('cluster_id', "
            "p.cluster_id, 'service', p.service, 'callers', p.callers, 'policy', p.policy, "
            "'updated_at', p.updated_at) ORDER BY p.service) FROM api_policies p WHERE ($1::uuid "
            "IS NULL OR p.cluster_id = $1::uuid)), '[]'))",
        .nparams = 1,
        .params = {cluster_id}};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0 || q.out == NULL) {
        json_decref(q.out);
        portal_reply_db_error(req, ctx->db, NULL);
        return;
    }
    vg_http_reply_json(req, 200, q.out);
}
