/* API keys (see apikeys.h): "vgk_…" tokens stored as hex SHA-256 with a visible prefix. */
#include "apikeys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json_util.h"
#include "vigil/crypto.h"
#include "vigil/log.h"
#include "vigil/util.h"

#define APIKEY_JSON                                                                                \
    "jsonb_build_object('id', k.id, 'name', k.name, 'prefix', k.prefix, "                          \
    "'created_at', k.created_at, 'last_used_at', k.last_used_at, "                                 \
    "'revoked_at', k.revoked_at)"

void portal_apikey_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    portal_query q = {.sql = "SELECT coalesce(jsonb_agg(" APIKEY_JSON
                             " ORDER BY k.created_at, k.id), '[]') FROM api_keys k"};
    portal_reply_list(ctx->db, req, auth.tenant_id, &q, "api_keys");
}

void portal_apikey_create(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *body = req->body_len ? portal_body_object(req) : json_object();
    const char *name = NULL;
    if (body == NULL || !portal_field_string(req, body, "name", false, 100, &name)) {
        json_decref(body);
        return;
    }
    char *key = vg_token_new("vgk");
    char hash[65], prefix[16];
    vg_sha256_hex(key, strlen(key), hash);
    snprintf(prefix, sizeof prefix, "%.12s", key);
    portal_query q = {.sql = "INSERT INTO api_keys AS k (tenant_id, user_id, name, prefix, "
                             "key_hash) VALUES ($1, nullif($2, '')::uuid, coalesce($3, 'default'), "
                             "$4, $5) RETURNING " APIKEY_JSON,
                      .nparams = 5,
                      .params = {auth.tenant_id, auth.user_id, name, prefix, hash}};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0 || q.out == NULL) {
        json_decref(q.out);
        portal_reply_db_error(req, ctx->db, NULL);
    } else {
        json_object_set_new(q.out, "api_key", json_string(key));
        vg_info("api key created", "tenant_id", auth.tenant_id, "prefix", prefix);
        vg_http_reply_json(req, 201, q.out);
    }
    vg_wipe(key, strlen(key));
    free(key);
    json_decref(body);
}

void portal_apikey_revoke(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *id = portal_query_by_id(ctx->db, req, auth.tenant_id,
                                    "UPDATE api_keys k SET revoked_at = now() WHERE k.id = $1 AND "
                                    "k.revoked_at IS NULL RETURNING to_jsonb(k.id::text)",
                                    "API key");
    if (id != NULL) {
        vg_info("api key revoked", "tenant_id", auth.tenant_id, "key_id", json_string_value(id));
        json_decref(id);
        vg_http_reply_json(req, 204, NULL);
    }
}
