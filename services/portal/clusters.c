/* Clusters (see clusters.h). Creating one verifies the credential against the cluster,
 * seals the token under the master key (aad "<tenant_id>/<cluster_id>"), issues the ingest
 * token (shown once) and publishes cluster.sync, all before the row commits. */
#include "clusters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "commands.h"
#include "json_util.h"
#include "kube_verify.h"
#include "offload.h"
#include "vigil/alloc.h"
#include "vigil/crypto.h"
#include "vigil/log.h"
#include "vigil/netaddr.h"
#include "vigil/util.h"

#define CLUSTER_COLUMNS                                                                            \
    "jsonb_build_object('id', c.id, 'name', c.name, 'server', c.server, 'status', c.status, "      \
    "'status_message', c.status_message, 'last_sync_at', c.last_sync_at, 'created_at', "           \
    "c.created_at, 'ingest_token_prefix', c.ingest_token_prefix, 'key_id', c.key_id)"

typedef struct cluster_new {
    portal_ctx *ctx;
    const char *tenant_id, *name, *server, *ca;
    char id[VG_UUID_LEN + 1];
    char *sealed;
    char ingest_prefix[16];
    char ingest_hash[65];
} cluster_new;

static int cluster_insert(vg_db *db, void *arg)
{
    cluster_new *c = arg;
    const char *params[] = {c->id,     c->tenant_id,   c->name,          c->server,     c->ca,
                            c->sealed, c->ctx->mk->id, c->ingest_prefix, c->ingest_hash};
    if (vg_db_cmd(db,
                  "INSERT INTO clusters (id, tenant_id, name, server, ca_cert, credential, key_id, "
                  "ingest_token_prefix, ingest_token_hash) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                  9, params) != 0) {
        return -1;
    }
    /* published before COMMIT: a failed publish rolls the cluster back (reported 503) */
    return portal_command_send(c->ctx, "cluster.sync", c->tenant_id, c->id, json_object()) == 0 ? 0
                                                                                                : 1;
}

/* 1 when the tenant already has a cluster of that name, 0 when not, -1 on error. */
static int cluster_name_taken(portal_ctx *ctx, const char *tenant_id, const char *name)
{
    portal_query q = {.sql = "SELECT to_jsonb(count(*)) FROM clusters WHERE name = $1",
                      .nparams = 1,
                      .params = {name}};
    if (portal_query_run(ctx->db, tenant_id, &q) != 0) {
        return -1;
    }
    int taken = json_integer_value(q.out) > 0;
    json_decref(q.out);
    return taken;
}

/* Validates the body; replies 400/409 and returns false when it cannot be used. */
static bool cluster_check(portal_ctx *ctx, vg_http_req *req, const portal_auth *auth, json_t *body,
                          cluster_new *c, const char **token)
{
    if (!portal_field_string(req, body, "name", true, 100, &c->name) ||
        !portal_field_string(req, body, "server", true, 2048, &c->server) ||
        !portal_field_string(req, body, "ca_cert", true, 64 * 1024, &c->ca) ||
        !portal_field_string(req, body, "token", true, 16 * 1024, token)) {
        return false;
    }
    if (strncmp(c->server, "https://", 8) != 0) {
        vg_http_reply_error(req, 400, "invalid_field", "field \"server\" must be an https:// URL");
        return false;
    }
    if (strstr(c->ca, "-----BEGIN CERTIFICATE-----") == NULL) {
        vg_http_reply_error(req, 400, "invalid_field",
                            "field \"ca_cert\" must be a PEM certificate (-----BEGIN "
                            "CERTIFICATE-----)");
        return false;
    }
    char err[512];
    if (vg_url_target_check(c->server, ctx->set.allow_private, err, sizeof err) != 0) {
        vg_http_reply_error(req, 400, "invalid_server", "server refused: %s", err);
        return false;
    }
    int taken = cluster_name_taken(ctx, auth->tenant_id, c->name);
    if (taken != 0) {
        if (taken > 0) {
            vg_http_reply_error(req, 409, "conflict", "a cluster named \"%s\" already exists",
                                c->name);
        } else {
            portal_reply_db_error(req, ctx->db, NULL);
        }
        return false;
    }
    return true;
}

/* Replies 400/422 and returns false when the verdict refuses the credential. */
static bool cluster_verdict_ok(vg_http_req *req, const cluster_new *c, kube_verdict *v)
{
    if (v->status == 0) {
        return true;
    }
    vg_info("cluster credential refused", "tenant_id", c->tenant_id, "reason", v->message);
    if (v->status == 422) {
        json_t *err = json_pack("{s:s, s:s, s:o}", "code", "over_privileged", "message", v->message,
                                "offending_rules", v->offending);
        v->offending = NULL;
        vg_http_reply_json(req, 422, json_pack("{s:o}", "error", err));
    } else {
        vg_http_reply_error(req, 400, "credential_rejected", "%s", v->message);
    }
    return false;
}

static void cluster_store(portal_ctx *ctx, vg_http_req *req, cluster_new *c, const char *token)
{
    vg_uuid_v4(c->id);
    char *aad = vg_asprintf("%s/%s", c->tenant_id, c->id);
    c->sealed = vg_secret_seal(ctx->mk, token, strlen(token), aad);
    char *ingest = vg_token_new("vgi");
    snprintf(c->ingest_prefix, sizeof c->ingest_prefix, "%.12s", ingest);
    vg_sha256_hex(ingest, strlen(ingest), c->ingest_hash);
    int rc = vg_db_tx(ctx->db, c->tenant_id, cluster_insert, c);
    if (rc > 0) {
        vg_http_reply_error(req, 503, "unavailable", "cannot queue the cluster sync; try again");
    } else if (rc < 0) {
        portal_reply_db_error(req, ctx->db, "a cluster with this name already exists");
    } else {
        vg_info("cluster connected", "tenant_id", c->tenant_id, "cluster_id", c->id);
        vg_http_reply_json(req, 201,
                           json_pack("{s:s, s:s, s:s, s:s, s:s}", "cluster_id", c->id, "name",
                                     c->name, "status", "pending", "ingest_token", ingest,
                                     "ingest_token_prefix", c->ingest_prefix));
    }
    vg_wipe(ingest, strlen(ingest));
    free(ingest);
    free(c->sealed);
    free(aad);
}

/* A credential verification in flight: the HTTP exchange with the cluster runs off the loop
 * (it may take seconds); the database, Kafka and the reply happen on the loop in
 * verify_done. */
typedef struct verify_job {
    portal_ctx *ctx;
    vg_http_req *req;
    portal_auth auth;
    json_t *body; /* owns the strings c and token point into */
    cluster_new c;
    const char *token;
    kube_verdict verdict;
} verify_job;

static void verify_job_free(verify_job *job)
{
    json_decref(job->verdict.offending);
    json_decref(job->body);
    free(job);
}

static void verify_work(void *arg)
{
    verify_job *job = arg;
    portal_kube_verify(job->c.server, job->c.ca, job->token, job->ctx->set.kube_timeout_s,
                       job->ctx->set.allow_private, &job->verdict);
}

static void verify_done(void *arg)
{
    verify_job *job = arg;
    if (cluster_verdict_ok(job->req, &job->c, &job->verdict)) {
        cluster_store(job->ctx, job->req, &job->c, job->token);
    }
    verify_job_free(job);
}

void portal_cluster_create(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    verify_job *job = vg_calloc(1, sizeof *job);
    job->ctx = ctx;
    job->req = req;
    if (!portal_auth_require(ctx, req, &job->auth) ||
        (job->body = portal_body_object(req)) == NULL) {
        free(job);
        return;
    }
    job->c = (cluster_new){.ctx = ctx, .tenant_id = job->auth.tenant_id};
    if (!cluster_check(ctx, req, &job->auth, job->body, &job->c, &job->token)) {
        verify_job_free(job);
        return;
    }
    if (portal_offload(ctx->base, verify_work, verify_done, job) != 0) {
        portal_reply_busy(req);
        verify_job_free(job);
    }
}

void portal_cluster_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    portal_query q = {.sql = "SELECT coalesce(jsonb_agg(" CLUSTER_COLUMNS
                             " ORDER BY c.created_at, c.id), '[]') FROM clusters c"};
    portal_reply_list(ctx->db, req, auth.tenant_id, &q, "clusters");
}

/* Runs a statement returning one cluster JSON (or none) for {id}; replies 404/500 itself. */
static json_t *cluster_one(portal_ctx *ctx, vg_http_req *req, const portal_auth *auth,
                           const char *sql)
{
    return portal_query_by_id(ctx->db, req, auth->tenant_id, sql, "cluster");
}

void portal_cluster_get(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *c =
        cluster_one(ctx, req, &auth, "SELECT " CLUSTER_COLUMNS " FROM clusters c WHERE c.id = $1");
    if (c != NULL) {
        vg_http_reply_json(req, 200, c);
    }
}

void portal_cluster_delete(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *c = cluster_one(ctx, req, &auth,
                            "DELETE FROM clusters c WHERE c.id = $1 RETURNING to_jsonb(c.id)");
    if (c != NULL) {
        vg_info("cluster deleted", "tenant_id", auth.tenant_id, "cluster_id", json_string_value(c));
        json_decref(c);
        vg_http_reply_json(req, 204, NULL);
    }
}

void portal_cluster_sync(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *c =
        cluster_one(ctx, req, &auth, "SELECT to_jsonb(c.id) FROM clusters c WHERE c.id = $1");
    if (c == NULL) {
        return;
    }
    char id[VG_UUID_LEN + 1];
    snprintf(id, sizeof id, "%s", json_string_value(c));
    json_decref(c);
    if (portal_command_send(ctx, "cluster.sync", auth.tenant_id, id, json_object()) != 0) {
        vg_http_reply_error(req, 503, "unavailable", "cannot queue the cluster sync; try again");
        return;
    }
    vg_http_reply_json(req, 202, json_pack("{s:s, s:s}", "cluster_id", id, "status", "queued"));
}
