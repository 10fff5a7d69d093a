/* JSON and database helpers shared by the portal's handlers (see json_util.h). */
#include "json_util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/util.h"

int portal_query_in_tx(vg_db *db, portal_query *q)
{
    q->out = NULL;
    PGresult *res = vg_db_exec(db, q->sql, q->nparams, q->params);
    if (res == NULL) {
        return -1;
    }
    if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
        json_error_t err;
        q->out = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, &err);
    }
    PQclear(res);
    return 0;
}

static int query_tx_fn(vg_db *db, void *arg)
{
    return portal_query_in_tx(db, arg);
}

int portal_query_run(vg_db *db, const char *tenant_id, portal_query *q)
{
    q->out = NULL;
    int rc = vg_db_tx(db, tenant_id, query_tx_fn, q);
    if (rc != 0) {
        json_decref(q->out);
        q->out = NULL;
        return -1;
    }
    return 0;
}

void portal_reply_db_error(vg_http_req *req, vg_db *db, const char *conflict_msg)
{
    if (conflict_msg != NULL && vg_db_unique_violation(db)) {
        vg_http_reply_error(req, 409, "conflict", "%s", conflict_msg);
        return;
    }
    vg_error("database request failed", "sqlstate", vg_db_sqlstate(db), "path", req->path,
             "request_id", req->request_id);
    vg_http_reply_error(req, 500, "internal", "the database request failed; try again");
}

json_t *portal_body_object(vg_http_req *req)
{
    if (req->body_len == 0) {
        vg_http_reply_error(req, 400, "invalid_body", "a JSON object body is required");
        return NULL;
    }
    json_t *body = vg_http_body_json(req);
    if (body == NULL) {
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        vg_http_reply_error(req, 400, "invalid_body", "the body must be a JSON object");
        return NULL;
    }
    return body;
}

/* Control characters other than line breaks and tabs (PEM certificates have those). */
static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t') || *p == 0x7f) {
            return true;
        }
    }
    return false;
}

bool portal_field_string(vg_http_req *req, json_t *obj, const char *key, bool required,
                         size_t maxlen, const char **out)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            vg_http_reply_error(req, 400, "invalid_field", "field \"%s\" is required", key);
            return false;
        }
        return true;
    }
    if (!json_is_string(v)) {
        vg_http_reply_error(req, 400, "invalid_field", "field \"%s\" must be a string", key);
        return false;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len == 0 || strlen(s) != len) {
        vg_http_reply_error(req, 400, "invalid_field", "field \"%s\" must not be empty", key);
        return false;
    }
    if (len > maxlen) {
        vg_http_reply_error(req, 400, "invalid_field", "field \"%s\" is longer than %zu bytes", key,
                            maxlen);
        return false;
    }
    if (has_control(s)) {
        vg_http_reply_error(req, 400, "invalid_field", "field \"%s\" contains control characters",
                            key);
        return false;
    }
    *out = s;
    return true;
}

bool portal_email_valid(const char *s)
{
    size_t len = strlen(s);
    if (len < 3 || len > 254) {
        return false;
    }
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20 || strchr("<>,;\"", *p)) {
            return false;
        }
    }
    const char *domain = at + 1;
    const char *dot = strchr(domain, '.');
    return dot != NULL && dot != domain && dot[1] != '\0' && domain[strlen(domain) - 1] != '.';
}

char *portal_lower(const char *s)
{
    char *out = vg_strdup(s);
    for (char *p = out; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return out;
}

const char *portal_param_uuid(vg_http_req *req, const char *name)
{
    const char *id = vg_http_param(req, name);
    if (id == NULL || !vg_uuid_valid(id)) {
        vg_http_reply_error(req, 404, "not_found", "no such resource");
        return NULL;
    }
    return id;
}

json_t *portal_query_by_id(vg_db *db, vg_http_req *req, const char *tenant_id, const char *sql,
                           const char *what)
{
    const char *id = portal_param_uuid(req, "id");
    if (id == NULL) {
        return NULL;
    }
    portal_query q = {.sql = sql, .nparams = 1, .params = {id}};
    if (portal_query_run(db, tenant_id, &q) != 0) {
        portal_reply_db_error(req, db, NULL);
        return NULL;
    }
    if (q.out == NULL) {
        vg_http_reply_error(req, 404, "not_found", "no such %s", what);
    }
    return q.out;
}

void portal_reply_list(vg_db *db, vg_http_req *req, const char *tenant_id, portal_query *q,
                       const char *key)
{
    if (portal_query_run(db, tenant_id, q) != 0) {
        portal_reply_db_error(req, db, NULL);
        return;
    }
    vg_http_reply_json(req, 200, json_pack("{s:o}", key, q->out ? q->out : json_array()));
}
