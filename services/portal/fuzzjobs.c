/* Fuzz jobs (see fuzzjobs.h). Target policy: the host must be the tenant's (a service of one
 * of its clusters, or in dev mode a host named by one of its uploaded specs), its addresses
 * must pass vg_url_target_check, and its workload must be controlled by the plan (402). */
#include "fuzzjobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "commands.h"
#include "json_util.h"
#include "vigil/alloc.h"
#include "vigil/crypto.h"
#include "vigil/log.h"
#include "vigil/netaddr.h"
#include "vigil/util.h"

static const char ownership_sql[] =
    "WITH ep AS (SELECT e.cluster_id, e.service FROM api_endpoints e WHERE e.class <> 'outbound' "
    "AND (lower(e.host) IN ($1, $2) OR e.service IN ($1, $2) OR e.service = $3)), "
    "wl AS (SELECT w.cluster_id, w.status FROM workloads w WHERE w.gone_at IS NULL AND "
    "(w.name || '.' || w.namespace) IN (SELECT service FROM ep UNION ALL SELECT $3)), "
    "sp AS (SELECT s.cluster_id FROM api_specs s WHERE $4::boolean AND "
    "($1 = ANY(s.hosts) OR $2 = ANY(s.hosts))), "
    "vd AS (SELECT 1 FROM portal_target_domains d WHERE d.verified_at IS NOT NULL AND "
    "d.host IN ($1, $2)) "
    "SELECT jsonb_build_object('cluster_id', coalesce((SELECT cluster_id FROM ep LIMIT 1), "
    "(SELECT cluster_id FROM wl LIMIT 1), (SELECT cluster_id FROM sp LIMIT 1)), "
    "'owned', EXISTS (SELECT 1 FROM ep) OR EXISTS (SELECT 1 FROM wl) OR EXISTS (SELECT 1 FROM sp) "
    "OR EXISTS (SELECT 1 FROM vd), "
    "'uncontrolled', EXISTS (SELECT 1 FROM wl WHERE status = 'uncontrolled'))";

/* "name.namespace" when host is a cluster service name (name.ns.svc[.cluster.local]). */
static char *service_guess(const char *host)
{
    const char *dot1 = strchr(host, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (dot2 == NULL || (strcmp(dot2, ".svc") != 0 && strcmp(dot2, ".svc.cluster.local") != 0)) {
        return NULL;
    }
    return vg_strndup(host, (size_t)(dot2 - host));
}

/* The host of "host[:port]" (IPv6 literals keep their brackets); new string. */
static char *host_bare(const char *hostkey)
{
    if (hostkey[0] == '[') {
        const char *end = strchr(hostkey, ']');
        return vg_strndup(hostkey, end ? (size_t)(end - hostkey) + 1 : strlen(hostkey));
    }
    return vg_strndup(hostkey, strcspn(hostkey, ":"));
}

/* Replies 403/402/400 and returns NULL when the target is refused; else the ownership JSON. */
static json_t *target_policy(portal_ctx *ctx, vg_http_req *req, const portal_auth *auth,
                             const json_t *request)
{
    const char *base = json_string_value(json_object_get(request, "base_url"));
    const char *hostkey = json_string_value(json_object_get(request, "host"));
    char *bare = host_bare(hostkey);
    char *svc = service_guess(bare);
    portal_query q = {.sql = ownership_sql,
                      .nparams = 4,
                      .params = {hostkey, bare, svc, ctx->set.dev_mode ? "true" : "false"}};
    char err[512];
    json_t *own = NULL;
    if (portal_query_run(ctx->db, auth->tenant_id, &q) != 0 || q.out == NULL) {
        json_decref(q.out);
        portal_reply_db_error(req, ctx->db, NULL);
    } else if (!json_is_true(json_object_get(q.out, "owned"))) {
        vg_http_reply_error(req, 403, "target_not_owned",
                            "%s is not a service of one of your clusters nor a verified target "
                            "domain (POST /api/v1/target-domains)%s",
                            hostkey,
                            ctx->set.dev_mode ? " nor a host named by your uploaded specs" : "");
        json_decref(q.out);
    } else if (json_is_true(json_object_get(q.out, "uncontrolled"))) {
        vg_http_reply_error(req, 402, "plan_limit",
                            "the workload serving %s is uncontrolled: your plan's workload limit "
                            "is reached",
                            hostkey);
        json_decref(q.out);
    } else if (vg_url_target_check(base, ctx->set.allow_private, err, sizeof err) != 0) {
        vg_http_reply_error(req, strstr(err, "refused") ? 403 : 400, "target_refused",
                            "base_url refused: %s", err);
        json_decref(q.out);
    } else {
        own = q.out;
    }
    free(svc);
    free(bare);
    return own;
}

/* Replies 400 and returns false when some api_ids are not the tenant's APIs. */
static bool api_ids_known(portal_ctx *ctx, vg_http_req *req, const portal_auth *auth,
                          const json_t *request)
{
    const json_t *ids = json_object_get(request, "api_ids");
    if (json_array_size(ids) == 0) {
        return true;
    }
    char *text = json_dumps(ids, JSON_COMPACT);
    portal_query q = {.sql = "SELECT to_jsonb(count(*)) FROM api_endpoints e WHERE e.id IN "
                             "(SELECT jsonb_array_elements_text($1::jsonb)::uuid)",
                      .nparams = 1,
                      .params = {text}};
    bool ok = false;
    if (portal_query_run(ctx->db, auth->tenant_id, &q) != 0) {
        portal_reply_db_error(req, ctx->db, NULL);
    } else if (json_integer_value(q.out) < (json_int_t)json_array_size(ids)) {
        vg_http_reply_error(req, 400, "unknown_api",
                            "api_ids names APIs that are not yours "
                            "(or do not exist)");
    } else {
        ok = true;
    }
    json_decref(q.out);
    free(text);
    return ok;
}

/* Seals every identity header value with aad "<tenant_id>/<job_id>" (in place). */
static void identities_seal(portal_ctx *ctx, json_t *request, const char *aad)
{
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(request, "identities"), i, id)
    {
        json_t *headers = json_object_get(id, "headers");
        const char *name;
        json_t *v;
        json_object_foreach(headers, name, v)
        {
            const char *plain = json_string_value(v);
            char *sealed = vg_secret_seal(ctx->mk, plain, strlen(plain), aad);
            json_object_set_new(headers, name, json_string(sealed));
            free(sealed);
        }
    }
}

typedef struct job_new {
    portal_ctx *ctx;
    const char *tenant_id, *cluster_id, *base_url;
    char id[VG_UUID_LEN + 1];
    char *request_text;
} job_new;

static int job_insert(vg_db *db, void *arg)
{
    job_new *j = arg;
    const char *params[] = {j->id, j->tenant_id, j->cluster_id, j->base_url, j->request_text};
    if (vg_db_cmd(db,
                  "INSERT INTO fuzz_jobs (id, tenant_id, cluster_id, base_url, request) "
                  "VALUES ($1, $2, $3, $4, $5::jsonb)",
                  5, params) != 0) {
        return -1;
    }
    json_t *data = json_pack("{s:s}", "job_id", j->id);
    return portal_command_send(j->ctx, "fuzz.run", j->tenant_id, j->cluster_id, data) == 0 ? 0 : 1;
}

static void job_store(portal_ctx *ctx, vg_http_req *req, const portal_auth *auth, json_t *request,
                      const json_t *own)
{
    job_new j = {.ctx = ctx,
                 .tenant_id = auth->tenant_id,
                 .cluster_id = json_string_value(json_object_get(own, "cluster_id")),
                 .base_url = json_string_value(json_object_get(request, "base_url"))};
    vg_uuid_v4(j.id);
    char *aad = vg_asprintf("%s/%s", auth->tenant_id, j.id);
    identities_seal(ctx, request, aad);
    j.request_text = json_dumps(request, JSON_COMPACT);
    int rc = vg_db_tx(ctx->db, auth->tenant_id, job_insert, &j);
    if (rc > 0) {
        vg_http_reply_error(req, 503, "unavailable", "cannot queue the fuzz job; try again");
    } else if (rc < 0) {
        portal_reply_db_error(req, ctx->db, NULL);
    } else {
        vg_info("fuzz job queued", "tenant_id", auth->tenant_id, "job_id", j.id);
        vg_http_reply_json(req, 202, json_pack("{s:s, s:s}", "job_id", j.id, "status", "queued"));
    }
    free(j.request_text);
    free(aad);
}

void portal_fuzzjob_create(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *body = portal_body_object(req);
    if (body == NULL) {
        return;
    }
    char err[300];
    json_t *request = portal_fuzz_request_parse(body, err, sizeof err);
    json_decref(body);
    if (request == NULL) {
        vg_http_reply_error(req, 400, "invalid_job", "%s", err);
        return;
    }
    json_t *own = NULL;
    if (api_ids_known(ctx, req, &auth, request) &&
        (own = target_policy(ctx, req, &auth, request)) != NULL) {
        job_store(ctx, req, &auth, request, own);
    }
    json_decref(own);
    json_decref(request);
}

#define JOB_JSON                                                                                   \
    "jsonb_build_object('job_id', j.id, 'cluster_id', j.cluster_id, 'base_url', j.base_url, "      \
    "'status', j.status, 'progress', j.progress, 'error', j.error, 'findings_count', j.findings, " \
    "'created_at', j.created_at, 'started_at', j.started_at, 'finished_at', j.finished_at)"

void portal_fuzzjob_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    portal_query q = {.sql = "SELECT coalesce(jsonb_agg(" JOB_JSON
                             " ORDER BY j.created_at DESC, j.id), '[]') FROM "
                             "(SELECT * FROM fuzz_jobs ORDER BY created_at DESC LIMIT 200) j"};
    portal_reply_list(ctx->db, req, auth.tenant_id, &q, "jobs");
}

void portal_fuzzjob_get(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *job = portal_query_by_id(
        ctx->db, req, auth.tenant_id,
        "SELECT " JOB_JSON " || jsonb_build_object('findings', coalesce((SELECT "
        "jsonb_agg(jsonb_build_object('id', f.id, 'rule_id', f.rule_id, 'title', f.title, "
        "'severity', f.severity, 'category', f.category, 'status', f.status, 'object', "
        "f.object) ORDER BY f.first_seen, f.id) FROM findings f WHERE f.scope = 'fuzz:' || "
        "j.id::text), '[]')) FROM fuzz_jobs j WHERE j.id = $1",
        "fuzz job");
    if (job != NULL) {
        vg_http_reply_json(req, 200, job);
    }
}
