/* Unsubscribe links: the token's SHA-256 names the recipient. */
#include "unsubscribe.h"

#include <stdbool.h>
#include <string.h>

#include "vigil/log.h"
#include "vigil/util.h"

static const char done_page[] =
    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unsubscribed</title>"
    "</head><body style=\"font-family:sans-serif;margin:2em\"><h1>You are unsubscribed</h1>"
    "<p>This address will get no more e-mail from Vigil for this organisation.</p>"
    "</body></html>\n";

static void handle_unsubscribe(vg_http_req *req, void *arg)
{
    vg_db *db = arg;
    const char *token = vg_http_query(req, "token");
    if (token == NULL || strncmp(token, "vgu_", 4) != 0 || strlen(token) > 100) {
        vg_http_reply_error(req, 400, "bad_request", "the token parameter is missing or invalid");
        return;
    }
    char hash[65];
    vg_sha256_hex(token, strlen(token), hash);
    const char *params[] = {hash};
    PGresult *res = vg_db_exec(db,
                               "UPDATE email_recipients SET unsubscribed = true "
                               "WHERE unsubscribe_token_hash = $1 RETURNING id, tenant_id",
                               1, params);
    if (res == NULL) {
        vg_http_reply_error(req, 503, "unavailable", "database unavailable, try again later");
        return;
    }
    bool found = PQntuples(res) > 0;
    if (found) {
        vg_info("recipient unsubscribed", "tenant_id", PQgetvalue(res, 0, 1), "recipient_id",
                PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    if (!found) {
        vg_http_reply_error(req, 404, "not_found", "unknown or expired unsubscribe link");
    } else if (strcmp(req->method, "POST") == 0) {
        vg_http_reply_json(req, 200, json_pack("{s:b}", "unsubscribed", 1));
    } else {
        vg_http_reply_raw(req, 200, "text/html; charset=utf-8", done_page, sizeof done_page - 1);
    }
}

void report_unsubscribe_register(vg_http_server *http, vg_db *db)
{
    vg_http_route(http, "GET", "/unsubscribe", handle_unsubscribe, db);
    vg_http_route(http, "POST", "/unsubscribe", handle_unsubscribe, db);
}
