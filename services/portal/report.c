/* The tenant's latest report (see report.h). */
#include "report.h"

#include <string.h>

#include "auth.h"
#include "commands.h"
#include "json_util.h"

static const char no_report[] =
    "no report has been generated for this organization yet (reports appear once findings "
    "have been processed)";

/* The latest report's column as JSON, or NULL after replying (404 when none). */
static json_t *report_latest(portal_ctx *ctx, vg_http_req *req, const char *sql)
{
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return NULL;
    }
    portal_query q = {.sql = sql};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0) {
        if (strcmp(vg_db_sqlstate(ctx->db), "42P01") == 0) { /* table not there yet */
            vg_http_reply_error(req, 404, "no_report", "%s", no_report);
        } else {
            portal_reply_db_error(req, ctx->db, NULL);
        }
        return NULL;
    }
    if (q.out == NULL) {
        vg_http_reply_error(req, 404, "no_report", "%s", no_report);
    }
    return q.out;
}

void portal_report_json(vg_http_req *req, void *arg)
{
    json_t *r = report_latest(arg, req,
                              "SELECT jsonb_build_object('generated_at', r.generated_at, 'data', "
                              "r.data) FROM tenant_reports r ORDER BY r.generated_at DESC LIMIT 1");
    if (r != NULL) {
        vg_http_reply_json(req, 200, r);
    }
}

void portal_report_html(vg_http_req *req, void *arg)
{
    json_t *r = report_latest(arg, req,
                              "SELECT to_jsonb(r.html) FROM tenant_reports r "
                              "ORDER BY r.generated_at DESC LIMIT 1");
    if (r != NULL) {
        const char *html = json_string_value(r);
        vg_http_set_header(req, "Content-Security-Policy",
                           "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
        vg_http_reply_raw(req, 200, "text/html; charset=utf-8", html, html ? strlen(html) : 0);
        json_decref(r);
    }
}

void portal_report_generate(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    if (portal_command_send(ctx, "report.generate", auth.tenant_id, NULL, json_object()) != 0) {
        vg_http_reply_error(req, 503, "unavailable", "cannot queue the report; try again");
        return;
    }
    vg_http_reply_json(req, 202, json_pack("{s:s}", "status", "queued"));
}
