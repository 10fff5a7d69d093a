/* Batch aggregation: see learn.h. */
#include "learn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "vigil/alloc.h"
#include "vigil/util.h"

const double api_hist_bounds[API_HIST_BUCKETS] = {1,   2,   5,    10,   20,   50,    100,
                                                  200, 500, 1000, 2000, 5000, 10000, 1e300};

typedef struct tree_slot {
    char *service;
    api_tree *tree;
} tree_slot;

struct api_batch {
    tree_slot *trees;
    size_t ntrees, treecap, last_tree;
    api_endpoint_agg **eps;
    size_t neps, epcap;
    uint32_t *epidx; /* open addressing: index + 1, 0 = empty */
    size_t epidx_cap;
    api_edge_agg **edges;
    size_t nedges, edgecap;
    uint32_t *edgeidx;
    size_t edgeidx_cap;
    api_repoint *repoints;
    size_t nrepoints, repointcap;
};

/* Copies src into dst[cap] (truncated, always terminated). */
static void scopy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    n = src[n] == '\0' ? n : api_utf8_cut(src, n);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return (h ^ 0x1f) * 1099511628211ULL;
}

static uint64_t ep_hash(const char *service, const char *method, const char *tmpl)
{
    return fnv(fnv(fnv(14695981039346656037ULL, service), method), tmpl);
}

api_batch *api_batch_new(void)
{
    api_batch *b = vg_calloc(1, sizeof *b);
    b->epidx_cap = 256;
    b->epidx = vg_calloc(b->epidx_cap, sizeof *b->epidx);
    b->edgeidx_cap = 256;
    b->edgeidx = vg_calloc(b->edgeidx_cap, sizeof *b->edgeidx);
    return b;
}

void api_batch_reset(api_batch *b)
{
    for (size_t i = 0; i < b->neps; i++) {
        json_decref(b->eps[i]->bodies);
        free(b->eps[i]);
    }
    for (size_t i = 0; i < b->nedges; i++) {
        free(b->edges[i]);
    }
    b->neps = b->nedges = b->nrepoints = 0;
    memset(b->epidx, 0, b->epidx_cap * sizeof *b->epidx);
    memset(b->edgeidx, 0, b->edgeidx_cap * sizeof *b->edgeidx);
}

void api_batch_destroy(api_batch *b)
{
    if (b == NULL) {
        return;
    }
    api_batch_reset(b);
    for (size_t i = 0; i < b->ntrees; i++) {
        free(b->trees[i].service);
        api_tree_destroy(b->trees[i].tree);
    }
    free(b->trees);
    free(b->eps);
    free(b->epidx);
    free(b->edges);
    free(b->edgeidx);
    free(b->repoints);
    free(b);
}

api_tree *api_batch_tree(api_batch *b, const char *service)
{
    if (b->last_tree < b->ntrees && strcmp(b->trees[b->last_tree].service, service) == 0) {
        return b->trees[b->last_tree].tree;
    }
    for (size_t i = 0; i < b->ntrees; i++) {
        if (strcmp(b->trees[i].service, service) == 0) {
            b->last_tree = i;
            return b->trees[i].tree;
        }
    }
    return NULL;
}

void api_batch_tree_put(api_batch *b, const char *service, api_tree *tree)
{
    for (size_t i = 0; i < b->ntrees; i++) {
        if (strcmp(b->trees[i].service, service) == 0) {
            api_tree_destroy(b->trees[i].tree);
            b->trees[i].tree = tree != NULL ? tree : api_tree_new();
            return;
        }
    }
    if (b->ntrees == b->treecap) {
        b->treecap = b->treecap ? b->treecap * 2 : 8;
        b->trees = vg_realloc(b->trees, b->treecap * sizeof *b->trees);
    }
    b->trees[b->ntrees].service = vg_strdup(service);
    b->trees[b->ntrees].tree = tree != NULL ? tree : api_tree_new();
    b->ntrees++;
}

bool api_batch_tree_at(const api_batch *b, size_t i, const char **service, api_tree **tree)
{
    if (i >= b->ntrees) {
        return false;
    }
    *service = b->trees[i].service;
    *tree = b->trees[i].tree;
    return true;
}

size_t api_batch_endpoints(const api_batch *b)
{
    return b->neps;
}
api_endpoint_agg *api_batch_endpoint(api_batch *b, size_t i)
{
    return b->eps[i];
}
size_t api_batch_edges(const api_batch *b)
{
    return b->nedges;
}
api_edge_agg *api_batch_edge(api_batch *b, size_t i)
{
    return b->edges[i];
}
size_t api_batch_repoints(const api_batch *b)
{
    return b->nrepoints;
}
const api_repoint *api_batch_repoint(const api_batch *b, size_t i)
{
    return &b->repoints[i];
}

/* ---- endpoint index ---- */

static void ep_index_rebuild(api_batch *b)
{
    if (b->neps * 2 >= b->epidx_cap) {
        b->epidx_cap *= 2;
        free(b->epidx);
        b->epidx = vg_malloc(b->epidx_cap * sizeof *b->epidx);
    }
    memset(b->epidx, 0, b->epidx_cap * sizeof *b->epidx);
    for (size_t i = 0; i < b->neps; i++) {
        const api_endpoint_agg *e = b->eps[i];
        size_t m = b->epidx_cap - 1;
        size_t h = ep_hash(e->service, e->method, e->tmpl) & m;
        while (b->epidx[h] != 0) {
            h = (h + 1) & m;
        }
        b->epidx[h] = (uint32_t)i + 1;
    }
}

static api_endpoint_agg *ep_find(api_batch *b, const char *service, const char *method,
                                 const char *tmpl, bool create)
{
    size_t m = b->epidx_cap - 1;
    size_t h = ep_hash(service, method, tmpl) & m;
    while (b->epidx[h] != 0) {
        api_endpoint_agg *e = b->eps[b->epidx[h] - 1];
        if (strcmp(e->tmpl, tmpl) == 0 && strcmp(e->method, method) == 0 &&
            strcmp(e->service, service) == 0) {
            return e;
        }
        h = (h + 1) & m;
    }
    if (!create) {
        return NULL;
    }
    api_endpoint_agg *e = vg_calloc(1, sizeof *e);
    scopy(e->service, sizeof e->service, service);
    scopy(e->method, sizeof e->method, method);
    scopy(e->tmpl, sizeof e->tmpl, tmpl);
    e->auth = "unknown";
    if (b->neps == b->epcap) {
        b->epcap = b->epcap ? b->epcap * 2 : 64;
        b->eps = vg_realloc(b->eps, b->epcap * sizeof *b->eps);
    }
    b->eps[b->neps++] = e;
    if (b->neps * 2 >= b->epidx_cap) {
        ep_index_rebuild(b);
    } else {
        b->epidx[h] = (uint32_t)b->neps;
    }
    return e;
}

/* ---- aggregation helpers ---- */

static void copy40(char *dst, const char *src)
{
    size_t n = strnlen(src, 39);
    n = src[n] == '\0' ? n : api_utf8_cut(src, n);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void times_update(char *first, char *last, const char *ts)
{
    if (ts == NULL || ts[0] == '\0') {
        return;
    }
    if (first[0] == '\0' || strcmp(ts, first) < 0) {
        copy40(first, ts);
    }
    if (last[0] == '\0' || strcmp(ts, last) > 0) {
        copy40(last, ts);
    }
}

static void status_add(api_endpoint_agg *e, int code, uint64_t n)
{
    for (int i = 0; i < e->nstatus; i++) {
        if (e->status[i] == code) {
            e->status_n[i] += n;
            return;
        }
    }
    if (e->nstatus < API_MAX_STATUS) {
        e->status[e->nstatus] = code;
        e->status_n[e->nstatus++] = n;
    }
}

static void param_note(api_endpoint_agg *e, const char *name, size_t nlen, const char *type,
                       const char *format)
{
    for (int i = 0; i < e->nquery; i++) {
        api_param_seen *p = &e->query[i];
        if (strlen(p->name) == nlen && memcmp(p->name, name, nlen) == 0) {
            if (p->type != type && strcmp(p->type, type) != 0) {
                p->type = strcmp(p->type, "integer") == 0 && strcmp(type, "number") == 0
                              ? "number"
                              : (strcmp(p->type, "number") == 0 && strcmp(type, "integer") == 0
                                     ? "number"
                                     : "string");
            }
            if (p->format != NULL && p->format[0] != '\0' &&
                (format == NULL || strcmp(format, p->format) != 0)) {
                p->format = "";
            }
            return;
        }
    }
    if (e->nquery < API_MAX_PARAMS && nlen > 0 && nlen < sizeof e->query[0].name) {
        api_param_seen *p = &e->query[e->nquery++];
        memcpy(p->name, name, nlen);
        p->name[nlen] = '\0';
        p->type = type;
        p->format = format;
    }
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return n > 0;
}

/* a=1&b=x -> parameter types; no allocation. */
static void query_learn(api_endpoint_agg *e, const char *q)
{
    while (q != NULL && *q != '\0' && *q != '#') {
        size_t len = strcspn(q, "&#");
        const char *eq = memchr(q, '=', len);
        size_t nlen = eq ? (size_t)(eq - q) : len;
        const char *v = eq ? eq + 1 : q + len;
        size_t vlen = eq ? len - nlen - 1 : 0;
        const char *type = "string", *format = NULL;
        if (all_digits(v, vlen) || (vlen > 1 && v[0] == '-' && all_digits(v + 1, vlen - 1))) {
            type = "integer";
        } else if ((vlen == 4 && memcmp(v, "true", 4) == 0) ||
                   (vlen == 5 && memcmp(v, "false", 5) == 0)) {
            type = "boolean";
        } else if (vlen > 0) {
            format = api_string_format(v, vlen);
        }
        param_note(e, q, nlen, type, format);
        q += len;
        if (*q == '&') {
            q++;
        }
    }
}

static api_edge_agg *edge_find(api_batch *b, const char *source, const char *dest)
{
    size_t m = b->edgeidx_cap - 1;
    size_t h = fnv(fnv(14695981039346656037ULL, source), dest) & m;
    while (b->edgeidx[h] != 0) {
        api_edge_agg *e = b->edges[b->edgeidx[h] - 1];
        if (strcmp(e->source, source) == 0 && strcmp(e->destination, dest) == 0) {
            return e;
        }
        h = (h + 1) & m;
    }
    api_edge_agg *e = vg_calloc(1, sizeof *e);
    scopy(e->source, sizeof e->source, source);
    scopy(e->destination, sizeof e->destination, dest);
    if (b->nedges == b->edgecap) {
        b->edgecap = b->edgecap ? b->edgecap * 2 : 32;
        b->edges = vg_realloc(b->edges, b->edgecap * sizeof *b->edges);
    }
    b->edges[b->nedges++] = e;
    if (b->nedges * 2 >= b->edgeidx_cap) {
        b->edgeidx_cap *= 2;
        free(b->edgeidx);
        b->edgeidx = vg_calloc(b->edgeidx_cap, sizeof *b->edgeidx);
        for (size_t i = 0; i < b->nedges; i++) {
            size_t mm = b->edgeidx_cap - 1;
            size_t hh =
                fnv(fnv(14695981039346656037ULL, b->edges[i]->source), b->edges[i]->destination) &
                mm;
            while (b->edgeidx[hh] != 0) {
                hh = (hh + 1) & mm;
            }
            b->edgeidx[hh] = (uint32_t)i + 1;
        }
    } else {
        b->edgeidx[h] = (uint32_t)b->nedges;
    }
    return e;
}

static void edge_add(api_batch *b, const api_record *rec, const char *ts)
{
    api_edge_agg *e = edge_find(b, rec->source, rec->service);
    e->cls = rec->cls;
    if (rec->src_principal[0] != '\0') {
        scopy(e->principal, sizeof e->principal, rec->src_principal);
    }
    e->calls++;
    if (rec->status >= 500 || (rec->status == 0 && rec->method != NULL)) {
        e->errors++;
    }
    int k = 0;
    while (k < API_HIST_BUCKETS - 1 && rec->duration_ms > api_hist_bounds[k]) {
        k++;
    }
    e->hist[k]++;
    times_update(e->first_seen, e->last_seen, ts);
}

/* ---- APIClarity headers and bodies ---- */

static const char *const skip_headers[] = {"host",
                                           "user-agent",
                                           "accept",
                                           "accept-encoding",
                                           "accept-language",
                                           "content-length",
                                           "connection",
                                           "authorization",
                                           "cookie",
                                           "set-cookie",
                                           "x-request-id",
                                           "traceparent",
                                           "tracestate",
                                           "date",
                                           "server",
                                           "vary",
                                           "cache-control",
                                           "pragma",
                                           "keep-alive",
                                           "transfer-encoding",
                                           "x-envoy-upstream-service-time",
                                           "x-envoy-attempt-count",
                                           "x-envoy-decorator-operation",
                                           "x-envoy-peer-metadata",
                                           "x-envoy-peer-metadata-id",
                                           "x-forwarded-for",
                                           "x-forwarded-proto",
                                           "x-forwarded-client-cert",
                                           "x-b3-traceid",
                                           "x-b3-spanid",
                                           "x-b3-parentspanid",
                                           "x-b3-sampled",
                                           "etag",
                                           "last-modified",
                                           NULL};

static json_t *bodies_of(api_endpoint_agg *e)
{
    if (e->bodies == NULL) {
        e->bodies = json_pack("{s:{},s:{}}", "headers", "responses");
    }
    return e->bodies;
}

static void headers_learn(api_endpoint_agg *e, const json_t *headers)
{
    size_t i;
    const json_t *h;
    json_array_foreach(headers, i, h)
    {
        const char *k = json_string_value(json_object_get(h, "key"));
        const char *v = json_string_value(json_object_get(h, "value"));
        if (k == NULL || v == NULL || k[0] == ':' || i >= 64) {
            continue;
        }
        char name[64];
        size_t n = 0;
        for (; k[n] != '\0' && n < sizeof name - 1; n++) {
            name[n] = (char)tolower((unsigned char)k[n]);
        }
        n = k[n] == '\0' ? n : api_utf8_cut(k, n);
        name[n] = '\0';
        bool skip = false;
        for (size_t s = 0; skip_headers[s] != NULL && !skip; s++) {
            skip = strcmp(skip_headers[s], name) == 0;
        }
        if (skip || strcmp(name, "x-api-key") == 0 || strcmp(name, "api-key") == 0) {
            continue; /* credentials are the security scheme, not a parameter */
        }
        json_t *schema = json_object();
        json_object_set_new(schema, "type", json_string("string"));
        const char *f = api_string_format(v, strlen(v));
        if (f != NULL) {
            json_object_set_new(schema, "format", json_string(f));
        }
        json_t *hs = json_object_get(bodies_of(e), "headers");
        json_t *old = json_object_get(hs, name);
        if (old != NULL) {
            api_schema_merge(old, schema);
            json_decref(schema);
        } else if (json_object_size(hs) < 32) {
            json_object_set_new(hs, name, schema);
        } else {
            json_decref(schema);
        }
    }
}

/* Decodes a base64 body; scans it for sensitive data into *sens when not NULL; returns the
 * JSON document it holds or NULL. */
static json_t *body_json(const char *b64, unsigned *sens)
{
    size_t n = 0;
    unsigned char *raw = vg_base64_decode(b64, strlen(b64), &n);
    if (raw == NULL) {
        return NULL;
    }
    if (sens != NULL) {
        *sens |= api_sensitive_scan((const char *)raw, n);
    }
    size_t i = 0;
    while (i < n && isspace(raw[i])) {
        i++;
    }
    json_t *j = NULL;
    if (i < n && (raw[i] == '{' || raw[i] == '[') && n <= 1024 * 1024) {
        j = json_loadb((const char *)raw, n, JSON_DECODE_ANY, NULL);
    }
    free(raw);
    return j;
}

static void schema_into(json_t *parent, const char *key, const json_t *value)
{
    json_t *schema = api_schema_infer(value);
    json_t *old = json_object_get(parent, key);
    if (old != NULL) {
        api_schema_merge(old, schema);
        json_decref(schema);
    } else {
        json_object_set_new(parent, key, schema);
    }
}

static void apiclarity_learn(api_endpoint_agg *e, const api_record *rec)
{
    e->auth = api_auth_scheme(rec->req_headers, rec->query);
    headers_learn(e, rec->req_headers);
    if (rec->req_body_b64 != NULL) {
        json_t *j = body_json(rec->req_body_b64, NULL);
        if (j != NULL) {
            schema_into(bodies_of(e), "request_body", j);
            json_decref(j);
        }
    }
    if (rec->resp_body_b64 != NULL) {
        json_t *j = body_json(rec->resp_body_b64, &e->sens_resp);
        if (j != NULL) {
            char code[16];
            snprintf(code, sizeof code, "%d", rec->status > 0 ? rec->status : 200);
            schema_into(json_object_get(bodies_of(e), "responses"), code, j);
            json_decref(j);
        }
    }
}

/* ---- re-points within the batch ---- */

static void agg_merge(api_endpoint_agg *dst, api_endpoint_agg *src)
{
    dst->count += src->count;
    for (int i = 0; i < src->nstatus; i++) {
        status_add(dst, src->status[i], src->status_n[i]);
    }
    times_update(dst->first_seen, dst->last_seen, src->first_seen);
    times_update(dst->first_seen, dst->last_seen, src->last_seen);
    dst->sens_path |= src->sens_path;
    dst->sens_query |= src->sens_query;
    dst->sens_resp |= src->sens_resp;
    for (int i = 0; i < src->nquery; i++) {
        param_note(dst, src->query[i].name, strlen(src->query[i].name), src->query[i].type,
                   src->query[i].format);
    }
    if (src->bodies != NULL) {
        json_t *db = bodies_of(dst);
        json_object_update_missing(db, src->bodies);
    }
    if (strcmp(dst->auth, "unknown") == 0) {
        dst->auth = src->auth;
    }
    dst->latency_sum_ms += src->latency_sum_ms;
}

typedef struct repoint_ctx {
    api_batch *b;
    const char *service;
} repoint_ctx;

static void on_repoint(const char *from, const char *to, void *arg)
{
    repoint_ctx *ctx = arg;
    api_batch *b = ctx->b;
    if (b->nrepoints == b->repointcap) {
        b->repointcap = b->repointcap ? b->repointcap * 2 : 16;
        b->repoints = vg_realloc(b->repoints, b->repointcap * sizeof *b->repoints);
    }
    api_repoint *rp = &b->repoints[b->nrepoints++];
    snprintf(rp->service, sizeof rp->service, "%s", ctx->service);
    snprintf(rp->from, sizeof rp->from, "%s", from);
    snprintf(rp->to, sizeof rp->to, "%s", to);
    size_t w = 0;
    for (size_t i = 0; i < b->neps; i++) {
        api_endpoint_agg *e = b->eps[i];
        if (strcmp(e->service, ctx->service) != 0 || strcmp(e->tmpl, from) != 0) {
            b->eps[w++] = e;
            continue;
        }
        api_endpoint_agg *t = NULL;
        for (size_t j = 0; j < b->neps && t == NULL; j++) {
            api_endpoint_agg *c = b->eps[j];
            if (strcmp(c->service, e->service) == 0 && strcmp(c->method, e->method) == 0 &&
                strcmp(c->tmpl, to) == 0) {
                t = c;
            }
        }
        if (t == NULL) {
            snprintf(e->tmpl, sizeof e->tmpl, "%s", to);
            b->eps[w++] = e;
            continue;
        }
        agg_merge(t, e);
        json_decref(e->bodies);
        free(e);
    }
    b->neps = w;
    ep_index_rebuild(b);
}

/* ---- one record ---- */

void api_batch_add(api_batch *b, const api_record *rec, const char *ts)
{
    char tmpl[API_TEMPLATE_MAX] = "/";
    const char *method = rec->method != NULL ? rec->method : "CONNECT";
    size_t plen = 0;
    if (rec->path != NULL) {
        plen = rec->query != NULL ? (size_t)(rec->query - 1 - rec->path) : rec->path_len;
        api_tree *tree = api_batch_tree(b, rec->service);
        if (tree == NULL) {
            api_batch_tree_put(b, rec->service, NULL);
            tree = api_batch_tree(b, rec->service);
        }
        repoint_ctx ctx = {b, rec->service};
        api_tree_learn(tree, rec->path, plen, tmpl, on_repoint, &ctx);
    }
    api_endpoint_agg *e = ep_find(b, rec->service, method, tmpl, true);
    if (e->count == 0) {
        scopy(e->host, sizeof e->host, rec->host);
        e->cls = rec->cls;
        e->tls = rec->tls;
    } else if (rec->cls == API_CLASS_EXTERNAL) {
        e->cls = API_CLASS_EXTERNAL; /* reachable from outside: that is what matters */
    }
    e->count++;
    status_add(e, rec->status, 1);
    times_update(e->first_seen, e->last_seen, ts);
    e->latency_sum_ms += rec->duration_ms;
    if (rec->path != NULL) {
        e->sens_path |= api_sensitive_scan(rec->path, plen);
    }
    if (rec->query != NULL) {
        e->sens_query |= api_sensitive_scan(rec->query, strlen(rec->query));
        query_learn(e, rec->query);
    }
    if (rec->format == API_FMT_APICLARITY) {
        apiclarity_learn(e, rec);
    }
    edge_add(b, rec, ts);
}

/* ---- output ---- */

json_t *api_endpoint_schema(const api_endpoint_agg *ep)
{
    json_t *s = ep->bodies != NULL ? json_deep_copy(ep->bodies) : json_object();
    json_t *q = json_object();
    for (int i = 0; i < ep->nquery; i++) {
        json_t *p = json_pack("{s:s}", "type", ep->query[i].type);
        if (ep->query[i].format != NULL && ep->query[i].format[0] != '\0') {
            json_object_set_new(p, "format", json_string(ep->query[i].format));
        }
        json_object_set_new(q, ep->query[i].name, p);
    }
    json_object_set_new(s, "query", q);
    return s;
}

json_t *api_endpoint_sensitive(const api_endpoint_agg *ep)
{
    json_t *a = json_array();
    const unsigned sets[3] = {ep->sens_path, ep->sens_query, ep->sens_resp};
    const char *const where[3] = {"path", "query", "response"};
    for (int w = 0; w < 3; w++) {
        for (int k = 0; k < API_SENS_KINDS; k++) {
            if (sets[w] & (1u << k)) {
                json_array_append_new(a, json_pack("{s:s,s:s}", "kind", api_sensitive_name(1u << k),
                                                   "where", where[w]));
            }
        }
    }
    return a;
}
