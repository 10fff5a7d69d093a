/* Specs and reconstructed documents: see spec.h. */
#include "spec.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"

typedef struct spec_op {
    char method[8];
    char *path; /* base path + spec path */
    char *name; /* operationId or "METHOD path" */
    bool deprecated;
} spec_op;

struct api_spec {
    char *id;
    char *service;
    char **hosts;
    size_t nhosts;
    spec_op *ops;
    size_t nops;
};

static const char *const http_methods[] = {"get",  "put",   "post",  "delete", "options",
                                           "head", "patch", "trace", NULL};

/* The path of the first servers URL ("https://h/api/" -> "/api"), "" when none. */
static void base_path(const json_t *doc, char *out, size_t cap)
{
    out[0] = '\0';
    const char *url = json_string_value(
        json_object_get(json_array_get(json_object_get(doc, "servers"), 0), "url"));
    if (url == NULL) {
        return;
    }
    const char *p = strstr(url, "://");
    p = p != NULL ? strchr(p + 3, '/') : (url[0] == '/' ? url : NULL);
    if (p == NULL) {
        return;
    }
    snprintf(out, cap, "%s", p);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/') {
        out[--n] = '\0';
    }
}

static void add_op(api_spec *s, const char *method, const char *base, const char *path,
                   const json_t *op)
{
    s->ops = vg_realloc(s->ops, (s->nops + 1) * sizeof *s->ops);
    spec_op *o = &s->ops[s->nops++];
    size_t i = 0;
    for (; method[i] != '\0' && i < sizeof o->method - 1; i++) {
        o->method[i] = (char)toupper((unsigned char)method[i]);
    }
    o->method[i] = '\0';
    o->path = vg_asprintf("%s%s", base, path);
    const char *opid = json_string_value(json_object_get(op, "operationId"));
    o->name = opid != NULL ? vg_strdup(opid) : vg_asprintf("%s %s", o->method, o->path);
    o->deprecated = json_is_true(json_object_get(op, "deprecated"));
}

api_spec *api_spec_new(const char *id, const json_t *document, const char *service,
                       const json_t *hosts)
{
    const json_t *paths = json_object_get(document, "paths");
    if (!json_is_object(paths)) {
        return NULL;
    }
    api_spec *s = vg_calloc(1, sizeof *s);
    s->id = vg_strdup(id);
    s->service = vg_strdup(service);
    size_t i;
    const json_t *h;
    json_array_foreach(hosts, i, h)
    {
        if (json_is_string(h)) {
            s->hosts = vg_realloc(s->hosts, (s->nhosts + 1) * sizeof *s->hosts);
            s->hosts[s->nhosts++] = vg_strdup(json_string_value(h));
        }
    }
    char base[256];
    base_path(document, base, sizeof base);
    const char *path;
    const json_t *item;
    json_object_foreach((json_t *)paths, path, item)
    {
        for (size_t m = 0; http_methods[m] != NULL; m++) {
            const json_t *op = json_object_get(item, http_methods[m]);
            if (json_is_object(op) && path[0] == '/') {
                add_op(s, http_methods[m], base, path, op);
            }
        }
    }
    return s;
}

void api_spec_destroy(api_spec *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->nops; i++) {
        free(s->ops[i].path);
        free(s->ops[i].name);
    }
    for (size_t i = 0; i < s->nhosts; i++) {
        free(s->hosts[i]);
    }
    free(s->ops);
    free(s->hosts);
    free(s->service);
    free(s->id);
    free(s);
}

/* "shop.shop.svc.cluster.local:8080" -> "shop.shop"; "api.x.com:443" -> "api.x.com". */
static void host_key(const char *host, char *out, size_t cap)
{
    size_t n = 0;
    for (; host[n] != '\0' && host[n] != ':' && n < cap - 1; n++) {
        out[n] = (char)tolower((unsigned char)host[n]);
    }
    out[n] = '\0';
    char *svc = strstr(out, ".svc");
    if (svc != NULL && (svc[4] == '\0' || svc[4] == '.')) {
        *svc = '\0';
    }
}

bool api_spec_applies(const api_spec *s, const char *service, const char *host)
{
    char want_s[256], want_h[256], have[256];
    host_key(service, want_s, sizeof want_s);
    host_key(host, want_h, sizeof want_h);
    if (s->service != NULL) {
        host_key(s->service, have, sizeof have);
        size_t n = strlen(have);
        if (strcmp(have, want_s) == 0 ||
            (strchr(have, '.') == NULL && strncmp(want_s, have, n) == 0 && want_s[n] == '.')) {
            return true;
        }
    }
    for (size_t i = 0; i < s->nhosts; i++) {
        host_key(s->hosts[i], have, sizeof have);
        if (strcmp(have, want_s) == 0 || strcmp(have, want_h) == 0) {
            return true;
        }
    }
    return false;
}

/* Segment-wise match; returns the number of literal matches, or -1. */
static int path_score(const char *spec, const char *learned)
{
    int score = 0;
    for (;;) {
        while (*spec == '/') {
            spec++;
        }
        while (*learned == '/') {
            learned++;
        }
        if (*spec == '\0' || *learned == '\0') {
            return *spec == '\0' && *learned == '\0' ? score : -1;
        }
        size_t sl = strcspn(spec, "/"), ll = strcspn(learned, "/");
        bool sparam = spec[0] == '{' && spec[sl - 1] == '}';
        bool lparam = learned[0] == '{' && learned[ll - 1] == '}';
        if (!sparam) {
            if (lparam || sl != ll || memcmp(spec, learned, sl) != 0) {
                return -1;
            }
            score++;
        }
        spec += sl;
        learned += ll;
    }
}

api_spec_match api_spec_find(const api_spec *s, const char *method, const char *tmpl,
                             const char **opname)
{
    int best = -1;
    const spec_op *hit = NULL;
    for (size_t i = 0; i < s->nops; i++) {
        const spec_op *o = &s->ops[i];
        if (strcasecmp(o->method, method) != 0) {
            continue;
        }
        int score = path_score(o->path, tmpl);
        if (score > best) {
            best = score;
            hit = o;
        }
    }
    if (hit == NULL) {
        return API_SPEC_NONE;
    }
    if (opname != NULL) {
        *opname = hit->name;
    }
    return hit->deprecated ? API_SPEC_DEPRECATED : API_SPEC_LISTED;
}

api_spec_verdict api_spec_judge(api_spec *const *specs, size_t n, const char *service,
                                const char *host, const char *method, const char *tmpl)
{
    api_spec_verdict v = {0};
    bool newest = true;
    for (size_t i = 0; i < n; i++) {
        if (!api_spec_applies(specs[i], service, host)) {
            continue;
        }
        const char *op = NULL;
        api_spec_match m = api_spec_find(specs[i], method, tmpl, &op);
        if (newest) {
            v.covered = true;
            v.spec_id = specs[i]->id;
            newest = false;
            if (m == API_SPEC_DEPRECATED) {
                v.zombie = true;
                v.operation = op;
                v.reason = "deprecated";
                return v;
            }
            if (m == API_SPEC_LISTED) {
                v.operation = op;
                return v;
            }
            continue;
        }
        if (m != API_SPEC_NONE) {
            /* an older version listed it: removed since, still called */
            v.zombie = true;
            v.operation = op;
            v.reason = "removed in a newer spec";
            return v;
        }
    }
    if (v.covered) {
        v.shadow = true;
        v.reason = "not in spec";
    }
    return v;
}
