/* Email recipients (see recipients.h). */
#include "recipients.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json_util.h"
#include "vigil/log.h"
#include "vigil/util.h"

#define RECIPIENT_JSON                                                                             \
    "jsonb_build_object('id', r.id, 'email', r.email, 'unsubscribed', "                            \
    "r.unsubscribed, 'created_at', r.created_at)"

void portal_recipient_create(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *body = portal_body_object(req);
    const char *email;
    if (body == NULL || !portal_field_string(req, body, "email", true, 254, &email)) {
        json_decref(body);
        return;
    }
    if (!portal_email_valid(email)) {
        vg_http_reply_error(req, 400, "invalid_field", "field \"email\" is not an email address");
        json_decref(body);
        return;
    }
    char *lower = portal_lower(email);
    portal_query q = {.sql = "INSERT INTO email_recipients AS r (tenant_id, email) "
                             "VALUES ($1, $2) RETURNING " RECIPIENT_JSON,
                      .nparams = 2,
                      .params = {auth.tenant_id, lower}};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0 || q.out == NULL) {
        json_decref(q.out);
        portal_reply_db_error(req, ctx->db, "this email is already a recipient");
    } else {
        vg_info("email recipient added", "tenant_id", auth.tenant_id);
        vg_http_reply_json(req, 201, q.out);
    }
    free(lower);
    json_decref(body);
}

void portal_recipient_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    portal_query q = {.sql = "SELECT coalesce(jsonb_agg(" RECIPIENT_JSON
                             " ORDER BY r.created_at, r.id), '[]') FROM email_recipients r"};
    portal_reply_list(ctx->db, req, auth.tenant_id, &q, "recipients");
}

void portal_recipient_delete(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    const char *id = vg_http_param(req, "id");
    const char *email = vg_http_query(req, "email");
    if (id == NULL && email == NULL) {
        vg_http_reply_error(req, 400, "invalid_query",
                            "name the recipient: ?email=<address> or /email-recipients/{id}");
        return;
    }
    if (id != NULL && !vg_uuid_valid(id)) {
        vg_http_reply_error(req, 404, "not_found", "no such recipient");
        return;
    }
    char *lower = email ? portal_lower(email) : NULL;
    portal_query q = {.sql = "DELETE FROM email_recipients r WHERE ($1::uuid IS NOT NULL AND "
                             "r.id = $1::uuid) OR ($2::text IS NOT NULL AND r.email = $2) "
                             "RETURNING to_jsonb(r.id)",
                      .nparams = 2,
                      .params = {id, lower}};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0) {
        portal_reply_db_error(req, ctx->db, NULL);
    } else if (q.out == NULL) {
        vg_http_reply_error(req, 404, "not_found", "no such recipient");
    } else {
        json_decref(q.out);
        vg_http_reply_json(req, 204, NULL);
    }
    free(lower);
}
