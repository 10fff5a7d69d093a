/* OpenAPI spec uploads (see specs.h). */
#include "specs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json_util.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/netaddr.h"
#include "yaml.h"

char *portal_url_hostkey(const char *url)
{
    char *scheme = NULL, *host = NULL, *path = NULL;
    int port = 0;
    if (url == NULL || !vg_url_parse(url, &scheme, &host, &port, &path)) {
        return NULL;
    }
    bool dflt = (strcmp(scheme, "https") == 0 && port == 443) ||
                (strcmp(scheme, "http") == 0 && port == 80);
    char *lower = portal_lower(host);
    bool v6 = strchr(lower, ':') != NULL;
    char *out = dflt ? vg_asprintf(v6 ? "[%s]" : "%s", lower)
                     : vg_asprintf(v6 ? "[%s]:%d" : "%s:%d", lower, port);
    free(lower);
    free(scheme);
    free(host);
    free(path);
    return out;
}

static bool content_is_json(const char *ct, const char *body, size_t len)
{
    if (ct != NULL && strstr(ct, "json") != NULL) {
        return true;
    }
    if (ct != NULL && strstr(ct, "yaml") != NULL) {
        return false;
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)body[i])) {
        i++;
    }
    return i < len && body[i] == '{';
}

/* A string, or a number written without quotes in YAML (openapi: 3.1), as text in out. */
static bool version_text(const json_t *v, char *out, size_t outlen)
{
    if (json_is_string(v)) {
        snprintf(out, outlen, "%s", json_string_value(v));
        return true;
    }
    if (json_is_number(v)) {
        snprintf(out, outlen, "%g", json_number_value(v));
        return true;
    }
    return false;
}

static bool spec_check(const json_t *doc, char *errbuf, size_t errlen)
{
    char ver[64];
    if (!json_is_object(doc)) {
        snprintf(errbuf, errlen, "the document must be an object (an OpenAPI 3 document)");
    } else if (json_object_get(doc, "swagger") != NULL) {
        snprintf(errbuf, errlen, "Swagger 2.0 documents are not supported: convert to OpenAPI 3");
    } else if (!version_text(json_object_get(doc, "openapi"), ver, sizeof ver)) {
        snprintf(errbuf, errlen, "missing \"openapi\" version field (e.g. \"3.0.3\")");
    } else if (strncmp(ver, "3.", 2) != 0) {
        snprintf(errbuf, errlen, "unsupported OpenAPI version \"%s\": 3.x is required", ver);
    } else if (!json_is_object(json_object_get(doc, "info"))) {
        snprintf(errbuf, errlen, "missing \"info\" object");
    } else if (!json_is_string(json_object_get(json_object_get(doc, "info"), "title"))) {
        snprintf(errbuf, errlen, "missing \"info.title\" string");
    } else if (!version_text(json_object_get(json_object_get(doc, "info"), "version"), ver,
                             sizeof ver)) {
        snprintf(errbuf, errlen, "missing \"info.version\" string");
    } else if (!json_is_object(json_object_get(doc, "paths"))) {
        snprintf(errbuf, errlen, "missing \"paths\" object");
    } else {
        const char *path;
        json_t *item;
        json_object_foreach((json_t *)json_object_get(doc, "paths"), path, item)
        {
            if (path[0] != '/' || !json_is_object(item)) {
                snprintf(errbuf, errlen,
                         "paths entry \"%.100s\" must start with '/' and be an "
                         "object",
                         path);
                return false;
            }
        }
        json_t *servers = json_object_get(doc, "servers");
        if (servers != NULL && !json_is_array(servers)) {
            snprintf(errbuf, errlen, "\"servers\" must be an array of {url}");
            return false;
        }
        return true;
    }
    return false;
}

json_t *portal_spec_parse(const char *body, size_t len, const char *content_type, char *errbuf,
                          size_t errlen)
{
    json_t *doc = NULL;
    if (content_is_json(content_type, body, len)) {
        json_error_t err;
        doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
        if (doc == NULL) {
            snprintf(errbuf, errlen, "invalid JSON (line %d, column %d): %s", err.line, err.column,
                     err.text);
            return NULL;
        }
    } else {
        char yerr[300];
        doc = portal_yaml_parse(body, len, yerr, sizeof yerr);
        if (doc == NULL) {
            snprintf(errbuf, errlen, "invalid YAML: %s", yerr);
            return NULL;
        }
    }
    if (!spec_check(doc, errbuf, errlen)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* url with {variables} replaced by their defaults; new string. */
static char *server_url_expand(const char *url, const json_t *vars)
{
    vg_buf b = {0};
    for (const char *p = url; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (close == NULL) {
            vg_buf_append(&b, p++, 1);
            continue;
        }
        char *name = vg_strndup(p + 1, (size_t)(close - p - 1));
        const json_t *def = json_object_get(json_object_get(vars, name), "default");
        vg_buf_puts(&b, json_is_string(def) ? json_string_value(def) : "");
        free(name);
        p = close + 1;
    }
    return b.data ? vg_buf_steal(&b) : vg_strdup("");
}

json_t *portal_spec_hosts(const json_t *doc)
{
    json_t *hosts = json_array();
    size_t i;
    json_t *srv;
    json_array_foreach(json_object_get(doc, "servers"), i, srv)
    {
        const json_t *url = json_object_get(srv, "url");
        if (!json_is_string(url)) {
            continue;
        }
        char *full = server_url_expand(json_string_value(url), json_object_get(srv, "variables"));
        char *key = portal_url_hostkey(full);
        bool dup = false;
        size_t j;
        json_t *h;
        json_array_foreach(hosts, j, h)
        {
            dup = dup || (key && strcmp(json_string_value(h), key) == 0);
        }
        if (key != NULL && !dup) {
            json_array_append_new(hosts, json_string(key));
        }
        free(key);
        free(full);
    }
    return hosts;
}

static bool service_name_valid(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(islower(c) || isdigit(c) || c == '.' || c == '-' || c == '_' || c == ':')) {
            return false;
        }
    }
    return true;
}

static void spec_store(portal_ctx *ctx, vg_http_req *req, const portal_auth *auth,
                       const char *cluster_id, const char *service, json_t *doc)
{
    json_t *hosts = portal_spec_hosts(doc);
    char *hosts_text = json_dumps(hosts, JSON_COMPACT);
    char *doc_text = json_dumps(doc, JSON_COMPACT);
    json_t *info = json_object_get(doc, "info");
    char version[64] = "";
    version_text(json_object_get(info, "version"), version, sizeof version);
    portal_query q = {
        .sql = "INSERT INTO api_specs (tenant_id, cluster_id, service, hosts, title, version, "
               "document) SELECT c.tenant_id, c.id, $2, "
               "ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4, $5, $6::jsonb "
               "FROM clusters c WHERE c.id = $1 "
               "RETURNING jsonb_build_object('spec_id', id, 'cluster_id', cluster_id, "
               "'service', service, 'hosts', to_jsonb(hosts), 'title', title, 'version', version)",
        .nparams = 6,
        .params = {cluster_id, service, hosts_text,
                   json_string_value(json_object_get(info, "title")), version, doc_text}};
    if (portal_query_run(ctx->db, auth->tenant_id, &q) != 0) {
        portal_reply_db_error(req, ctx->db, NULL);
    } else if (q.out == NULL) {
        vg_http_reply_error(req, 404, "not_found", "no such cluster");
    } else {
        vg_info("spec uploaded", "tenant_id", auth->tenant_id, "cluster_id", cluster_id);
        vg_http_reply_json(req, 201, q.out);
    }
    free(doc_text);
    free(hosts_text);
    json_decref(hosts);
}

void portal_spec_upload(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    const char *cluster_id = portal_param_uuid(req, "id");
    if (cluster_id == NULL) {
        return;
    }
    const char *service = vg_http_query(req, "service");
    if (service != NULL && !service_name_valid(service)) {
        vg_http_reply_error(req, 400, "invalid_service",
                            "service must be a service name like \"orders.shop\" (lowercase "
                            "letters, digits, '.', '-', '_', ':')");
        return;
    }
    if (req->body_len == 0) {
        vg_http_reply_error(req, 400, "invalid_spec",
                            "the body must be an OpenAPI 3 document (JSON or YAML)");
        return;
    }
    char err[400];
    json_t *doc = portal_spec_parse((const char *)req->body, req->body_len,
                                    vg_http_header(req, "Content-Type"), err, sizeof err);
    if (doc == NULL) {
        vg_http_reply_error(req, 400, "invalid_spec", "%s", err);
        return;
    }
    spec_store(ctx, req, &auth, cluster_id, service, doc);
    json_decref(doc);
}

void portal_spec_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    const char *cluster_id = portal_param_uuid(req, "id");
    if (cluster_id == NULL) {
        return;
    }
    portal_query q = {
        .sql = "SELECT CASE WHEN c.id IS NULL THEN NULL ELSE (SELECT coalesce(jsonb_agg("
               "jsonb_build_object('spec_id', s.id, 'service', s.service, 'hosts', "
               "to_jsonb(s.hosts), 'title', s.title, 'version', s.version, 'uploaded_at', "
               "s.uploaded_at) ORDER BY s.uploaded_at), '[]') FROM api_specs s "
               "WHERE s.cluster_id = c.id) END FROM clusters c WHERE c.id = $1",
        .nparams = 1,
        .params = {cluster_id}};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0) {
        portal_reply_db_error(req, ctx->db, NULL);
    } else if (q.out == NULL) {
        vg_http_reply_error(req, 404, "not_found", "no such cluster");
    } else {
        vg_http_reply_json(req, 200, json_pack("{s:o}", "specs", q.out));
    }
}
