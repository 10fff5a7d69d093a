/* Webhook targets (see webhooks.h). The secret is sealed with aad "<tenant_id>/<webhook_id>". */
#include "webhooks.h"

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

#define WEBHOOK_JSON                                                                               \
    "jsonb_build_object('id', w.id, 'url', w.url, 'enabled', w.enabled, "                          \
    "'created_at', w.created_at)"

static bool webhook_check(portal_ctx *ctx, vg_http_req *req, json_t *body, const char **url,
                          const char **secret)
{
    if (!portal_field_string(req, body, "url", true, 2048, url) ||
        !portal_field_string(req, body, "secret", false, 256, secret)) {
        return false;
    }
    if (*secret != NULL && strlen(*secret) < 16) {
        vg_http_reply_error(req, 400, "invalid_field",
                            "field \"secret\" must have at least 16 characters");
        return false;
    }
    char err[512];
    if (strncmp(*url, "https://", 8) != 0 && strncmp(*url, "http://", 7) != 0) {
        vg_http_reply_error(req, 400, "invalid_field", "field \"url\" must be an http(s) URL");
        return false;
    }
    if (vg_url_target_check(*url, ctx->set.allow_private, err, sizeof err) != 0) {
        vg_http_reply_error(req, 400, "invalid_url", "webhook url refused: %s", err);
        return false;
    }
    return true;
}

void portal_webhook_create(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *body = portal_body_object(req);
    const char *url, *given;
    if (body == NULL || !webhook_check(ctx, req, body, &url, &given)) {
        json_decref(body);
        return;
    }
    char id[VG_UUID_LEN + 1];
    vg_uuid_v4(id);
    char *secret = NULL;
    if (given != NULL) {
        secret = vg_strdup(given);
    } else {
        unsigned char raw[32];
        vg_random_bytes(raw, sizeof raw);
        secret = vg_base64url_encode(raw, sizeof raw);
        vg_wipe(raw, sizeof raw);
    }
    char *aad = vg_asprintf("%s/%s", auth.tenant_id, id);
    char *sealed = vg_secret_seal(ctx->mk, secret, strlen(secret), aad);
    portal_query q = {.sql = "INSERT INTO webhooks AS w (id, tenant_id, url, secret) "
                             "VALUES ($1, $2, $3, $4) RETURNING " WEBHOOK_JSON,
                      .nparams = 4,
                      .params = {id, auth.tenant_id, url, sealed}};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0 || q.out == NULL) {
        json_decref(q.out);
        portal_reply_db_error(req, ctx->db, "a webhook with this url already exists");
    } else {
        json_object_set_new(q.out, "secret", json_string(secret));
        vg_info("webhook created", "tenant_id", auth.tenant_id, "webhook_id", id);
        vg_http_reply_json(req, 201, q.out);
    }
    vg_wipe(secret, strlen(secret));
    free(secret);
    free(sealed);
    free(aad);
    json_decref(body);
}

void portal_webhook_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    portal_query q = {.sql = "SELECT coalesce(jsonb_agg(" WEBHOOK_JSON
                             " ORDER BY w.created_at, w.id), '[]') FROM webhooks w"};
    portal_reply_list(ctx->db, req, auth.tenant_id, &q, "webhooks");
}

/* Runs sql ($1 = {id}) and returns its JSON, or NULL after replying 404/500. */
static json_t *webhook_one(portal_ctx *ctx, vg_http_req *req, const portal_auth *auth,
                           const char *sql)
{
    return portal_query_by_id(ctx->db, req, auth->tenant_id, sql, "webhook");
}

void portal_webhook_delete(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *w = webhook_one(ctx, req, &auth,
                            "DELETE FROM webhooks w WHERE w.id = $1 RETURNING to_jsonb(w.id)");
    if (w != NULL) {
        json_decref(w);
        vg_http_reply_json(req, 204, NULL);
    }
}

void portal_webhook_test(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *w =
        webhook_one(ctx, req, &auth, "SELECT to_jsonb(w.id) FROM webhooks w WHERE w.id = $1");
    if (w == NULL) {
        return;
    }
    json_t *data = json_pack("{s:O}", "webhook_id", w);
    json_t *out = json_pack("{s:O, s:s}", "webhook_id", w, "status", "queued");
    json_decref(w);
    if (portal_command_send(ctx, "webhook.test", auth.tenant_id, NULL, data) != 0) {
        json_decref(out);
        vg_http_reply_error(req, 503, "unavailable", "cannot queue the test delivery; try again");
        return;
    }
    vg_http_reply_json(req, 202, out);
}
