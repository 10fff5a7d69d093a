/* Job targets: request parsing, OpenAPI and inventory endpoints; see target.h. */
#include "target.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jwt.h"
#include "vigil/alloc.h"
#include "vigil/netaddr.h"

static const char *const http_methods[] = {"get",    "post", "put",     "patch",
                                           "delete", "head", "options", NULL};

fz_target *fz_target_new(const char *base_url, char *errbuf, size_t errlen)
{
    char *scheme = NULL, *host = NULL, *path = NULL;
    int port = 0;
    if (base_url == NULL || !vg_url_parse(base_url, &scheme, &host, &port, &path)) {
        snprintf(errbuf, errlen, "base_url is not an http(s) URL");
        return NULL;
    }
    fz_target *tgt = vg_calloc(1, sizeof *tgt);
    for (char *p = host; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    size_t plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/') {
        path[--plen] = '\0';
    }
    bool default_port = (strcmp(scheme, "http") == 0 && port == 80) ||
                        (strcmp(scheme, "https") == 0 && port == 443);
    bool v6 = strchr(host, ':') != NULL;
    tgt->authority = default_port ? vg_asprintf(v6 ? "[%s]" : "%s", host)
                                  : vg_asprintf(v6 ? "[%s]:%d" : "%s:%d", host, port);
    tgt->base_url = vg_asprintf("%s://%s%s", scheme, tgt->authority, path);
    tgt->scheme = scheme;
    tgt->host = host;
    tgt->port = port;
    tgt->rate = 50;
    tgt->time_budget_s = 900;
    free(path);
    return tgt;
}

static void endpoint_free(fz_endpoint *ep)
{
    for (int i = 0; i < ep->nparams; i++) {
        free(ep->params[i].name);
        free(ep->params[i].in);
        free(ep->params[i].type);
        free(ep->params[i].format);
        free(ep->params[i].example);
    }
    free(ep->params);
    free(ep->method);
    free(ep->path);
    json_decref(ep->body_schema);
}

static void identity_free(fz_identity *id)
{
    for (int i = 0; i < id->nheaders; i++) {
        vg_wipe(id->headers[i], strlen(id->headers[i]));
        free(id->headers[i]);
    }
    free(id->headers);
    if (id->jwt != NULL) {
        vg_wipe(id->jwt, strlen(id->jwt));
    }
    free(id->jwt);
    free(id->name);
}

void fz_target_destroy(fz_target *tgt)
{
    if (tgt == NULL) {
        return;
    }
    for (size_t i = 0; i < tgt->neps; i++) {
        endpoint_free(&tgt->eps[i]);
    }
    for (int i = 0; i < tgt->nids; i++) {
        identity_free(&tgt->ids[i]);
    }
    for (int i = 0; i < tgt->ncategories; i++) {
        free(tgt->categories[i]);
    }
    free(tgt->categories);
    free(tgt->eps);
    free(tgt->ids);
    free(tgt->base_url);
    free(tgt->scheme);
    free(tgt->host);
    free(tgt->authority);
    free(tgt);
}

static bool header_name_ok(const char *name)
{
    if (*name == '\0' || strlen(name) > 100) {
        return false;
    }
    for (const char *p = name; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            return false;
        }
    }
    return true;
}

static int identity_load(fz_identity *id, const json_t *j, const vg_master_key *mk, const char *aad,
                         char *errbuf, size_t errlen)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    const json_t *headers = json_object_get(j, "headers");
    if (name == NULL || *name == '\0' || strlen(name) > 64 || !json_is_object(headers)) {
        snprintf(errbuf, errlen, "every identity needs a name and a headers object");
        return -1;
    }
    id->name = vg_strdup(name);
    const char *role = json_string_value(json_object_get(j, "role"));
    id->admin = (role != NULL && strcasecmp(role, "admin") == 0) ||
                (role == NULL && strncasecmp(name, "admin", 5) == 0);
    const char *hname;
    json_t *hval;
    json_object_foreach((json_t *)headers, hname, hval)
    {
        size_t len = 0;
        unsigned char *plain = NULL;
        if (header_name_ok(hname) && json_is_string(hval)) {
            plain = mk ? vg_secret_open(mk, json_string_value(hval), aad, &len) : NULL;
        }
        if (plain == NULL || memchr(plain, '\n', len) || memchr(plain, '\r', len)) {
            snprintf(errbuf, errlen, "identity %s: header %s cannot be decrypted", name, hname);
            free(plain);
            return -1;
        }
        char *line = vg_asprintf("%s: %s", hname, (char *)plain);
        vg_wipe(plain, len);
        free(plain);
        id->headers = vg_realloc(id->headers, sizeof(char *) * (size_t)(id->nheaders + 1));
        id->headers[id->nheaders++] = line;
        if (id->jwt == NULL) {
            id->jwt = fz_jwt_from_header(line);
        }
    }
    return 0;
}

static void load_categories(fz_target *tgt, const json_t *cats)
{
    size_t i;
    json_t *c;
    json_array_foreach(cats, i, c)
    {
        const char *s = json_string_value(c);
        if (s == NULL) {
            continue;
        }
        size_t n = strcspn(s, ":");
        tgt->categories =
            vg_realloc(tgt->categories, sizeof(char *) * (size_t)(tgt->ncategories + 1));
        tgt->categories[tgt->ncategories++] = vg_strndup(s, n);
    }
}

int fz_target_load_request(fz_target *tgt, const json_t *request, const vg_master_key *mk,
                           const char *aad, char *errbuf, size_t errlen)
{
    const json_t *ids = json_object_get(request, "identities");
    if (ids != NULL && !json_is_array(ids)) {
        snprintf(errbuf, errlen, "identities must be an array");
        return -1;
    }
    size_t n = json_array_size(ids);
    if (n > 16) {
        snprintf(errbuf, errlen, "at most 16 identities");
        return -1;
    }
    tgt->ids = vg_calloc(n ? n : 1, sizeof *tgt->ids);
    for (size_t i = 0; i < n; i++) {
        tgt->nids++;
        if (identity_load(&tgt->ids[i], json_array_get(ids, i), mk, aad, errbuf, errlen) != 0) {
            return -1;
        }
    }
    load_categories(tgt, json_object_get(request, "categories"));
    tgt->allow_unsafe = json_is_true(json_object_get(request, "allow_unsafe_methods"));
    const json_t *rate = json_object_get(request, "rate_limit");
    if (json_is_number(rate) && json_number_value(rate) > 0) {
        double r = json_number_value(rate);
        tgt->rate = r > 1000 ? 1000 : r;
    }
    const json_t *budget = json_object_get(request, "time_budget_s");
    if (json_is_integer(budget) && json_integer_value(budget) > 0) {
        json_int_t b = json_integer_value(budget);
        tgt->time_budget_s = b > 86400 ? 86400 : (int)b;
    }
    return 0;
}

/* Follows a local "$ref" ("#/components/..."); returns the node itself otherwise. */
static const json_t *deref(const json_t *doc, const json_t *node)
{
    for (int hops = 0; hops < 8 && json_is_object(node); hops++) {
        const char *ref = json_string_value(json_object_get(node, "$ref"));
        if (ref == NULL || strncmp(ref, "#/", 2) != 0) {
            return node;
        }
        const json_t *cur = doc;
        char *copy = vg_strdup(ref + 2);
        char *save = NULL;
        for (char *tok = strtok_r(copy, "/", &save); tok && cur; tok = strtok_r(NULL, "/", &save)) {
            cur = json_object_get(cur, tok);
        }
        free(copy);
        node = cur;
    }
    return node;
}

static char *scalar_text(const json_t *v)
{
    if (json_is_string(v)) {
        return vg_strdup(json_string_value(v));
    }
    if (json_is_integer(v)) {
        return vg_asprintf("%lld", (long long)json_integer_value(v));
    }
    if (json_is_boolean(v)) {
        return vg_strdup(json_is_true(v) ? "true" : "false");
    }
    return NULL;
}

static fz_param *param_add(fz_endpoint *ep, const char *name, const char *in)
{
    for (int i = 0; i < ep->nparams; i++) {
        if (strcmp(ep->params[i].name, name) == 0 && strcmp(ep->params[i].in, in) == 0) {
            return &ep->params[i];
        }
    }
    ep->params = vg_realloc(ep->params, sizeof(fz_param) * (size_t)(ep->nparams + 1));
    fz_param *p = &ep->params[ep->nparams++];
    memset(p, 0, sizeof *p);
    p->name = vg_strdup(name);
    p->in = vg_strdup(in);
    p->required = strcmp(in, "path") == 0;
    return p;
}

static void params_from_spec(fz_endpoint *ep, const json_t *doc, const json_t *list)
{
    size_t i;
    json_t *raw;
    json_array_foreach(list, i, raw)
    {
        const json_t *pj = deref(doc, raw);
        const char *name = json_string_value(json_object_get(pj, "name"));
        const char *in = json_string_value(json_object_get(pj, "in"));
        if (name == NULL || in == NULL || strlen(name) > 100 || strcmp(in, "cookie") == 0) {
            continue;
        }
        fz_param *p = param_add(ep, name, in);
        const json_t *schema = deref(doc, json_object_get(pj, "schema"));
        free(p->type);
        free(p->format);
        free(p->example);
        p->type = vg_strdup(json_string_value(json_object_get(schema, "type")));
        p->format = vg_strdup(json_string_value(json_object_get(schema, "format")));
        const json_t *ex = json_object_get(pj, "example");
        p->example = scalar_text(ex ? ex : json_object_get(schema, "example"));
        p->required = p->required || json_is_true(json_object_get(pj, "required"));
    }
}

/* Every {name} of the template gets a path parameter. */
static void params_from_template(fz_endpoint *ep)
{
    const char *p = ep->path;
    while ((p = strchr(p, '{')) != NULL) {
        const char *end = strchr(p, '}');
        if (end == NULL) {
            break;
        }
        char *name = vg_strndup(p + 1, (size_t)(end - p - 1));
        param_add(ep, name, "path");
        free(name);
        p = end + 1;
    }
}

static bool security_required(const json_t *sec)
{
    if (!json_is_array(sec) || json_array_size(sec) == 0) {
        return false;
    }
    size_t i;
    json_t *req;
    json_array_foreach(sec, i, req)
    {
        if (json_is_object(req) && json_object_size(req) == 0) {
            return false; /* {} = anonymous access allowed */
        }
    }
    return true;
}

static bool path_has_admin(const char *path)
{
    const char *p = strstr(path, "/admin");
    return p != NULL && (p[6] == '/' || p[6] == '\0');
}

static bool tags_admin(const json_t *tags)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *s = json_string_value(t);
        if (s != NULL && strcasecmp(s, "admin") == 0) {
            return true;
        }
    }
    return false;
}

static fz_endpoint *endpoint_add(fz_target *tgt, const char *method, const char *path)
{
    char upper[16];
    size_t n = strlen(method);
    if (n >= sizeof upper || fz_target_find(tgt, method, path) != NULL) {
        return NULL;
    }
    for (size_t i = 0; i <= n; i++) {
        upper[i] = (char)toupper((unsigned char)method[i]);
    }
    if (fz_target_find(tgt, upper, path) != NULL || tgt->neps >= 2000) {
        return NULL;
    }
    tgt->eps = vg_realloc(tgt->eps, sizeof(fz_endpoint) * (tgt->neps + 1));
    fz_endpoint *ep = &tgt->eps[tgt->neps++];
    memset(ep, 0, sizeof *ep);
    ep->method = vg_strdup(upper);
    ep->path = vg_strdup(path);
    ep->admin = path_has_admin(path);
    return ep;
}

static void operation_add(fz_target *tgt, const json_t *doc, const char *path, const json_t *item,
                          const char *method, const json_t *op)
{
    fz_endpoint *ep = endpoint_add(tgt, method, path);
    if (ep == NULL) {
        return;
    }
    params_from_spec(ep, doc, json_object_get(item, "parameters"));
    params_from_spec(ep, doc, json_object_get(op, "parameters"));
    params_from_template(ep);
    const json_t *sec = json_object_get(op, "security");
    ep->auth_required = security_required(sec ? sec : json_object_get(doc, "security"));
    ep->admin = ep->admin || tags_admin(json_object_get(op, "tags"));
    ep->deprecated = json_is_true(json_object_get(op, "deprecated"));
    const json_t *body = deref(doc, json_object_get(op, "requestBody"));
    const json_t *media = json_object_get(json_object_get(body, "content"), "application/json");
    const json_t *schema = deref(doc, json_object_get(media, "schema"));
    if (json_is_object(schema)) {
        /* one level of property $refs resolved, enough for sample bodies */
        json_t *copy = json_deep_copy(schema);
        json_t *props = json_object_get(copy, "properties");
        const char *key;
        json_t *sub;
        json_object_foreach(props, key, sub)
        {
            const json_t *target = deref(doc, sub);
            if (target != sub && json_is_object(target)) {
                json_object_set_new(props, key, json_deep_copy(target));
            }
        }
        ep->body_schema = copy;
    }
}

size_t fz_target_add_openapi(fz_target *tgt, const json_t *doc)
{
    size_t before = tgt->neps;
    const json_t *paths = json_object_get(doc, "paths");
    const char *path;
    json_t *item;
    json_object_foreach((json_t *)paths, path, item)
    {
        if (path[0] != '/' || strlen(path) > 2000 || !json_is_object(item)) {
            continue;
        }
        for (int m = 0; http_methods[m] != NULL; m++) {
            const json_t *op = json_object_get(item, http_methods[m]);
            if (json_is_object(op)) {
                operation_add(tgt, doc, path, item, http_methods[m], op);
            }
        }
    }
    return tgt->neps - before;
}

static void inventory_query_params(fz_endpoint *ep, const json_t *query)
{
    const json_t *props = json_object_get(query, "properties");
    const char *name;
    json_t *sub;
    json_object_foreach((json_t *)(props ? props : query), name, sub)
    {
        if (!json_is_object(sub) || strlen(name) > 100) {
            continue;
        }
        fz_param *p = param_add(ep, name, "query");
        if (p->type == NULL) {
            p->type = vg_strdup(json_string_value(json_object_get(sub, "type")));
            p->format = vg_strdup(json_string_value(json_object_get(sub, "format")));
        }
    }
}

void fz_target_add_inventory(fz_target *tgt, const char *method, const char *path, const char *auth,
                             const json_t *schema)
{
    if (path == NULL || path[0] != '/' || strcmp(method, "CONNECT") == 0) {
        return;
    }
    fz_endpoint *ep = endpoint_add(tgt, method, path);
    if (ep == NULL) {
        return;
    }
    params_from_template(ep);
    ep->auth_required = auth != NULL && strcmp(auth, "none") != 0 && strcmp(auth, "unknown") != 0;
    inventory_query_params(ep, json_object_get(schema, "query"));
    const json_t *body = json_object_get(schema, "request_body");
    if (json_is_object(body)) {
        ep->body_schema = json_deep_copy(body);
    }
}

const fz_endpoint *fz_target_find(const fz_target *tgt, const char *method, const char *path)
{
    for (size_t i = 0; i < tgt->neps; i++) {
        if (strcasecmp(tgt->eps[i].method, method) == 0 && strcmp(tgt->eps[i].path, path) == 0) {
            return &tgt->eps[i];
        }
    }
    return NULL;
}

bool fz_target_wants(const fz_target *tgt, const char *category)
{
    if (tgt->ncategories == 0) {
        return true;
    }
    for (int i = 0; i < tgt->ncategories; i++) {
        if (strcasecmp(tgt->categories[i], category) == 0) {
            return true;
        }
    }
    return false;
}

bool fz_path_is_login(const char *path)
{
    static const char *const words[] = {"login",        "signin",  "sign-in",  "token",
                                        "authenticate", "session", "sessions", NULL};
    const char *last = strrchr(path, '/');
    last = last ? last + 1 : path;
    for (int i = 0; words[i] != NULL; i++) {
        if (strcasecmp(last, words[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool path_is_collection(const char *path)
{
    static const char *const actions[] = {"delete",  "remove",  "disable", "reset",
                                          "destroy", "purge",   "cancel",  "transfer",
                                          "pay",     "approve", NULL};
    const char *last = strrchr(path, '/');
    last = last ? last + 1 : path;
    if (*last == '{' || *last == '\0') {
        return false;
    }
    for (int i = 0; actions[i] != NULL; i++) {
        if (strcasecmp(last, actions[i]) == 0) {
            return false;
        }
    }
    return true;
}

bool fz_target_method_allowed(const fz_target *tgt, const char *method, const char *path)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
        strcmp(method, "OPTIONS") == 0 || strcmp(method, "TRACE") == 0) {
        return true;
    }
    if (tgt->allow_unsafe) {
        return true;
    }
    return strcmp(method, "POST") == 0 && (fz_path_is_login(path) || path_is_collection(path));
}

bool fz_target_host_matches(const fz_target *tgt, const char *host_or_url)
{
    if (host_or_url == NULL) {
        return false;
    }
    const char *h = strstr(host_or_url, "://");
    h = h ? h + 3 : host_or_url;
    size_t n = strcspn(h, "/?#");
    size_t alen = strlen(tgt->authority);
    size_t hlen = strlen(tgt->host);
    return (n == alen && strncasecmp(h, tgt->authority, n) == 0) ||
           (n == hlen && strncasecmp(h, tgt->host, n) == 0 &&
            strcmp(tgt->authority, tgt->host) == 0);
}
