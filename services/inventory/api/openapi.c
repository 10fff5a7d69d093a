/* The reconstructed OpenAPI 3.0 document of a service: see spec.h (api_openapi_build). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "vigil/alloc.h"

static bool method_ok(const char *m)
{
    static const char *const ok[] = {"get",  "put",   "post",  "delete", "options",
                                     "head", "patch", "trace", NULL};
    for (size_t i = 0; ok[i] != NULL; i++) {
        if (strcasecmp(m, ok[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* getUsersByUserId-style id from the method and template, unique within the document. */
static char *operation_id(const char *method, const char *tmpl, json_t *used)
{
    vg_buf b = {0};
    for (const char *m = method; *m != '\0'; m++) {
        char c = (char)tolower((unsigned char)*m);
        vg_buf_append(&b, &c, 1);
    }
    bool up = true;
    for (const char *p = tmpl; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (*p == '{') {
            vg_buf_puts(&b, "By");
            up = true;
            continue;
        }
        if (!isalnum(c)) {
            up = true;
            continue;
        }
        char ch = (char)(up ? toupper(c) : c);
        vg_buf_append(&b, &ch, 1);
        up = false;
    }
    char *base = vg_buf_steal(&b);
    char *id = vg_strdup(base);
    for (int n = 2; json_object_get(used, id) != NULL; n++) {
        free(id);
        id = vg_asprintf("%s_%d", base, n);
    }
    free(base);
    json_object_set_new(used, id, json_true());
    return id;
}

static void add_path_params(json_t *params, const char *tmpl)
{
    for (const char *p = strchr(tmpl, '{'); p != NULL; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        if (end == NULL) {
            break;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
        const char *format = strstr(name, "Email") ? "email" : strstr(name, "Date") ? "date" : NULL;
        json_t *schema = json_pack("{s:s}", "type", "string");
        if (format != NULL) {
            json_object_set_new(schema, "format", json_string(format));
        }
        json_array_append_new(params, json_pack("{s:s,s:s,s:b,s:o}", "name", name, "in", "path",
                                                "required", 1, "schema", schema));
    }
}

static void add_named_params(json_t *params, const json_t *set, const char *in)
{
    const char *name;
    json_t *schema;
    json_object_foreach((json_t *)set, name, schema)
    {
        json_array_append_new(params, json_pack("{s:s,s:s,s:b,s:O}", "name", name, "in", in,
                                                "required", 0, "schema", schema));
    }
}

static json_t *responses_of(const json_t *schema, const json_t *codes)
{
    json_t *out = json_object();
    const json_t *bodies = json_object_get(schema, "responses");
    const char *code;
    json_t *n;
    json_object_foreach((json_t *)codes, code, n)
    {
        int c = atoi(code);
        if (c < 100 || c > 599 || strlen(code) != 3) {
            continue;
        }
        json_t *r = json_pack("{s:s}", "description", "Observed in traffic");
        const json_t *body = json_object_get(bodies, code);
        if (body != NULL) {
            json_object_set_new(r, "content",
                                json_pack("{s:{s:O}}", "application/json", "schema", body));
        }
        json_object_set_new(out, code, r);
    }
    if (json_object_size(out) == 0) {
        json_object_set_new(out, "default", json_pack("{s:s}", "description", "Observed"));
    }
    return out;
}

/* Security requirement of one operation; registers the scheme in schemes. */
static json_t *security_of(const char *auth, json_t *schemes)
{
    json_t *scheme = NULL;
    const char *name = NULL;
    if (strcmp(auth, "basic") == 0) {
        name = "basicAuth";
        scheme = json_pack("{s:s,s:s}", "type", "http", "scheme", "basic");
    } else if (strcmp(auth, "bearer") == 0) {
        name = "bearerAuth";
        scheme = json_pack("{s:s,s:s}", "type", "http", "scheme", "bearer");
    } else if (strcmp(auth, "jwt") == 0) {
        name = "jwtAuth";
        scheme =
            json_pack("{s:s,s:s,s:s}", "type", "http", "scheme", "bearer", "bearerFormat", "JWT");
    } else if (strcmp(auth, "apikey") == 0) {
        name = "apiKeyAuth";
        scheme = json_pack("{s:s,s:s,s:s}", "type", "apiKey", "in", "header", "name", "X-API-Key");
    } else if (strcmp(auth, "none") == 0) {
        return json_array(); /* explicitly unauthenticated */
    } else {
        return NULL;
    }
    json_object_set_new(schemes, name, scheme);
    return json_pack("[{s:[]}]", name);
}

static json_t *operation_of(const json_t *ep, const char *method, const char *tmpl, json_t *used,
                            json_t *schemes)
{
    const json_t *schema = json_object_get(ep, "schema");
    char *opid = operation_id(method, tmpl, used);
    json_t *op = json_pack("{s:s,s:s}", "operationId", opid, "summary", "Learned from traffic");
    free(opid);
    json_t *params = json_array();
    add_path_params(params, tmpl);
    add_named_params(params, json_object_get(schema, "query"), "query");
    add_named_params(params, json_object_get(schema, "headers"), "header");
    json_object_set_new(op, "parameters", params);
    const json_t *req = json_object_get(schema, "request_body");
    if (req != NULL) {
        json_object_set_new(
            op, "requestBody",
            json_pack("{s:{s:{s:O}}}", "content", "application/json", "schema", req));
    }
    json_object_set_new(op, "responses", responses_of(schema, json_object_get(ep, "status_codes")));
    const char *auth = json_string_value(json_object_get(ep, "auth"));
    json_t *sec = security_of(auth != NULL ? auth : "unknown", schemes);
    if (sec != NULL) {
        json_object_set_new(op, "security", sec);
    }
    return op;
}

json_t *api_openapi_build(const char *service, const json_t *endpoints)
{
    json_t *paths = json_object();
    json_t *used = json_object();
    json_t *schemes = json_object();
    const char *server = NULL, *scheme = "http";
    size_t i;
    const json_t *ep;
    json_array_foreach(endpoints, i, ep)
    {
        const char *method = json_string_value(json_object_get(ep, "method"));
        const char *tmpl = json_string_value(json_object_get(ep, "path_template"));
        if (method == NULL || tmpl == NULL || tmpl[0] != '/' || !method_ok(method)) {
            continue;
        }
        if (server == NULL) {
            server = json_string_value(json_object_get(ep, "host"));
            const char *s = json_string_value(json_object_get(ep, "scheme"));
            scheme = s != NULL && strcmp(s, "https") == 0 ? "https" : "http";
        }
        json_t *item = json_object_get(paths, tmpl);
        if (item == NULL) {
            item = json_object();
            json_object_set_new(paths, tmpl, item);
        }
        char lower[8];
        size_t n = 0;
        for (; method[n] != '\0' && n < sizeof lower - 1; n++) {
            lower[n] = (char)tolower((unsigned char)method[n]);
        }
        lower[n] = '\0';
        json_object_set_new(item, lower, operation_of(ep, method, tmpl, used, schemes));
    }
    char *url = vg_asprintf("%s://%s", scheme, server != NULL ? server : service);
    json_t *doc = json_pack("{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:o}", "openapi", "3.0.3", "info",
                            "title", service, "version", "observed", "description",
                            "Reconstructed by Vigil from observed traffic", "servers", "url", url,
                            "paths", paths);
    free(url);
    if (json_object_size(schemes) > 0) {
        json_object_set_new(doc, "components", json_pack("{s:o}", "securitySchemes", schemes));
    } else {
        json_decref(schemes);
    }
    json_decref(used);
    return doc;
}
