/* Shared check machinery: crawl, parameter values, request builders, reporting. */
#include "check.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "payloads.h"
#include "redact.h"
#include "vigil/alloc.h"
#include "vigil/util.h"

#define EXCERPT_MAX 2048

void fz_ctx_init(fz_ctx *ctx, fz_target *tgt, fz_engine *eng)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->tgt = tgt;
    ctx->eng = eng;
    ctx->crawl = vg_calloc((size_t)tgt->nids + 1, sizeof *ctx->crawl);
    ctx->ncrawl = vg_calloc((size_t)tgt->nids + 1, sizeof *ctx->ncrawl);
}

void fz_ctx_clear(fz_ctx *ctx)
{
    if (ctx->crawl == NULL) {
        return;
    }
    for (int w = 0; w <= ctx->tgt->nids; w++) {
        for (size_t i = 0; i < ctx->ncrawl[w]; i++) {
            free(ctx->crawl[w][i].path);
            json_decref(ctx->crawl[w][i].body);
        }
        free(ctx->crawl[w]);
    }
    free(ctx->crawl);
    free(ctx->ncrawl);
    ctx->crawl = NULL;
}

int fz_ctx_anon(const fz_ctx *ctx)
{
    return ctx->tgt->nids;
}

json_t *fz_resp_json(const fz_req *req)
{
    if (req->resp_body.len == 0) {
        return NULL;
    }
    return json_loadb(req->resp_body.data, req->resp_body.len, 0, NULL);
}

bool fz_is_2xx(const fz_req *req)
{
    return req->status >= 200 && req->status < 300;
}

bool fz_same_answer(const fz_req *a, const fz_req *b)
{
    return a->status == b->status && a->resp_body.len == b->resp_body.len &&
           (a->resp_body.len == 0 ||
            memcmp(a->resp_body.data, b->resp_body.data, a->resp_body.len) == 0);
}

void fz_run(fz_ctx *ctx, fz_req **reqs, size_t n)
{
    if (n > 0) {
        fz_engine_run(ctx->eng, reqs, n);
    }
}

void fz_reqs_free(fz_req **reqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fz_req_destroy(reqs[i]);
    }
}

static char *pct_encode(const char *s)
{
    vg_buf out = {0};
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            vg_buf_append(&out, p, 1);
        } else {
            vg_buf_printf(&out, "%%%02X", *p);
        }
    }
    if (out.data == NULL) {
        vg_buf_puts(&out, "");
    }
    return vg_buf_steal(&out);
}

const fz_crawl_entry *fz_ctx_crawled(const fz_ctx *ctx, int who, const char *path)
{
    for (size_t i = 0; i < ctx->ncrawl[who]; i++) {
        if (strcmp(ctx->crawl[who][i].path, path) == 0) {
            return &ctx->crawl[who][i];
        }
    }
    return NULL;
}

static void norm_name(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (const char *p = in; *p != '\0' && j + 1 < cap; p++) {
        if (*p != '_' && *p != '-') {
            out[j++] = (char)tolower((unsigned char)*p);
        }
    }
    out[j] = '\0';
}

static bool add_value(char **out, int *n, int max, const json_t *v)
{
    if (*n >= max) {
        return false;
    }
    char *s = NULL;
    if (json_is_integer(v)) {
        s = vg_asprintf("%lld", (long long)json_integer_value(v));
    } else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 200) {
        s = vg_strdup(json_string_value(v));
    }
    if (s == NULL) {
        return true;
    }
    for (int i = 0; i < *n; i++) {
        if (strcmp(out[i], s) == 0) {
            free(s);
            return true;
        }
    }
    out[(*n)++] = s;
    return true;
}

/* Values of keys whose normalized name is `want`, anywhere in j. */
static void collect_key(const json_t *j, const char *want, char **out, int *n, int max, int depth)
{
    if (depth > 8 || *n >= max) {
        return;
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            collect_key(v, want, out, n, max, depth + 1);
        }
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        char nk[128];
        norm_name(key, nk, sizeof nk);
        if (strcmp(nk, want) == 0) {
            add_value(out, n, max, v);
        } else if (json_is_object(v) || json_is_array(v)) {
            collect_key(v, want, out, n, max, depth + 1);
        }
    }
}

/* "id" of the objects of a collection answer: an array, or the first array member. */
static void collection_ids(const json_t *body, char **out, int *n, int max)
{
    const json_t *arr = body;
    if (json_is_object(body)) {
        const char *key;
        json_t *v;
        arr = NULL;
        json_object_foreach((json_t *)body, key, v)
        {
            if (json_is_array(v)) {
                arr = v;
                break;
            }
        }
        if (arr == NULL) {
            add_value(out, n, max, json_object_get(body, "id"));
            return;
        }
    }
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        add_value(out, n, max, json_object_get(item, "id"));
    }
}

static void harvested_values(const fz_ctx *ctx, int who, const fz_endpoint *ep, const fz_param *p,
                             char **out, int *n, int max)
{
    if (who < 0 || who > ctx->tgt->nids) {
        return;
    }
    if (strcmp(p->in, "path") == 0) {
        char *marker = vg_asprintf("/{%s}", p->name);
        const char *at = strstr(ep->path, marker);
        if (at != NULL && at[strlen(marker)] == '\0') {
            char *prefix = vg_strndup(ep->path, (size_t)(at - ep->path));
            char *me = vg_asprintf("%s/me", prefix);
            const fz_crawl_entry *ce = fz_ctx_crawled(ctx, who, prefix);
            if (ce != NULL && ce->body != NULL && ce->status < 300) {
                collection_ids(ce->body, out, n, max);
            }
            ce = fz_ctx_crawled(ctx, who, me);
            if (ce != NULL && ce->body != NULL && ce->status < 300) {
                add_value(out, n, max, json_object_get(ce->body, "id"));
            }
            free(prefix);
            free(me);
        }
        free(marker);
    }
    char want[128];
    norm_name(p->name, want, sizeof want);
    if (strcmp(want, "id") == 0) {
        return;
    }
    for (size_t i = 0; i < ctx->ncrawl[who]; i++) {
        if (ctx->crawl[who][i].body != NULL && ctx->crawl[who][i].status < 300) {
            collect_key(ctx->crawl[who][i].body, want, out, n, max, 0);
        }
    }
}

int fz_ctx_harvested(const fz_ctx *ctx, int who, const fz_endpoint *ep, const fz_param *p,
                     char **out, int max)
{
    int n = 0;
    harvested_values(ctx, who, ep, p, out, &n, max);
    return n;
}

int fz_ctx_param_values(const fz_ctx *ctx, int who, const fz_endpoint *ep, const fz_param *p,
                        char **out, int max)
{
    int n = fz_ctx_harvested(ctx, who, ep, p, out, max);
    if (n == 0 && max > 0) {
        out[n++] = fz_payload_param_value(p->type, p->format, p->example);
    }
    return n;
}

static char *param_value(const fz_ctx *ctx, const fz_endpoint *ep, int who, const fz_param *p,
                         const char *name, const char *value)
{
    if (name != NULL && strcmp(p->name, name) == 0) {
        return vg_strdup(value);
    }
    char *vals[1];
    int n = fz_ctx_param_values(ctx, who, ep, p, vals, 1);
    return n > 0 ? vals[0] : vg_strdup("1");
}

char *fz_ctx_url(const fz_ctx *ctx, const fz_endpoint *ep, int who, const char *name,
                 const char *value)
{
    vg_buf out = {0};
    vg_buf_puts(&out, ctx->tgt->base_url);
    const char *p = ep->path;
    while (*p != '\0') {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (open == NULL || close == NULL) {
            vg_buf_puts(&out, p);
            break;
        }
        vg_buf_append(&out, p, (size_t)(open - p));
        char *pname = vg_strndup(open + 1, (size_t)(close - open - 1));
        for (int i = 0; i < ep->nparams; i++) {
            if (strcmp(ep->params[i].in, "path") == 0 && strcmp(ep->params[i].name, pname) == 0) {
                char *v = param_value(ctx, ep, who, &ep->params[i], name, value);
                char *enc = pct_encode(v);
                vg_buf_puts(&out, enc);
                free(enc);
                free(v);
                break;
            }
        }
        free(pname);
        p = close + 1;
    }
    char sep = '?';
    for (int i = 0; i < ep->nparams; i++) {
        const fz_param *q = &ep->params[i];
        bool named = name != NULL && strcmp(q->name, name) == 0;
        if (strcmp(q->in, "query") != 0 || !(named || q->required || q->example != NULL)) {
            continue;
        }
        char *v = param_value(ctx, ep, who, q, name, value);
        char *ek = pct_encode(q->name);
        char *ev = pct_encode(v);
        vg_buf_printf(&out, "%c%s=%s", sep, ek, ev);
        sep = '&';
        free(ek);
        free(ev);
        free(v);
    }
    return vg_buf_steal(&out);
}

char *fz_ctx_url_path(const fz_ctx *ctx, const char *path)
{
    return vg_asprintf("%s%s", ctx->tgt->base_url, path);
}

fz_req *fz_ctx_req(const fz_ctx *ctx, const char *method, const char *url, int who)
{
    fz_req *req = fz_req_new(method, url);
    fz_req_add_header(req, "Accept: application/json");
    if (who >= 0 && who < ctx->tgt->nids) {
        const fz_identity *id = &ctx->tgt->ids[who];
        for (int i = 0; i < id->nheaders; i++) {
            fz_req_add_header(req, id->headers[i]);
        }
        req->identity = id->name;
    }
    return req;
}

char *fz_ctx_body(const fz_endpoint *ep)
{
    if (ep->body_schema == NULL) {
        return NULL;
    }
    json_t *j = fz_payload_from_schema(ep->body_schema, 0);
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    return s;
}

int fz_ctx_user(const fz_ctx *ctx, int after)
{
    for (int i = after + 1; i < ctx->tgt->nids; i++) {
        if (!ctx->tgt->ids[i].admin) {
            return i;
        }
    }
    return -1;
}

int fz_ctx_admin(const fz_ctx *ctx)
{
    for (int i = 0; i < ctx->tgt->nids; i++) {
        if (ctx->tgt->ids[i].admin) {
            return i;
        }
    }
    return -1;
}

void fz_ctx_crawl(fz_ctx *ctx)
{
    const fz_target *tgt = ctx->tgt;
    size_t cap = tgt->neps * ((size_t)tgt->nids + 1) + 1;
    fz_req **reqs = vg_calloc(cap, sizeof *reqs);
    int *who = vg_calloc(cap, sizeof *who);
    const fz_endpoint **eps = vg_calloc(cap, sizeof *eps);
    size_t n = 0;
    for (size_t e = 0; e < tgt->neps; e++) {
        const fz_endpoint *ep = &tgt->eps[e];
        if (strcmp(ep->method, "GET") != 0 || strchr(ep->path, '{') != NULL) {
            continue;
        }
        for (int w = 0; w <= tgt->nids; w++) {
            char *url = fz_ctx_url(ctx, ep, w, NULL, NULL);
            reqs[n] = fz_ctx_req(ctx, "GET", url, w);
            who[n] = w;
            eps[n++] = ep;
            free(url);
        }
    }
    fz_run(ctx, reqs, n);
    for (size_t i = 0; i < n; i++) {
        int w = who[i];
        ctx->crawl[w] = vg_realloc(ctx->crawl[w], sizeof(fz_crawl_entry) * (ctx->ncrawl[w] + 1));
        fz_crawl_entry *ce = &ctx->crawl[w][ctx->ncrawl[w]++];
        ce->path = vg_strdup(eps[i]->path);
        ce->ep = eps[i];
        ce->status = reqs[i]->status;
        ce->body = fz_resp_json(reqs[i]);
    }
    fz_reqs_free(reqs, n);
    free(reqs);
    free(who);
    free(eps);
}

const fz_crawl_entry *fz_ctx_reference(const fz_ctx *ctx, int who)
{
    const fz_crawl_entry *fallback = NULL;
    if (who < 0) {
        return NULL;
    }
    for (size_t i = 0; i < ctx->ncrawl[who]; i++) {
        const fz_crawl_entry *ce = &ctx->crawl[who][i];
        if (ce->status < 200 || ce->status >= 300 || ce->body == NULL || ce->ep->admin ||
            fz_path_is_login(ce->path)) {
            continue;
        }
        if (ce->ep->auth_required) {
            return ce;
        }
        if (fallback == NULL) {
            fallback = ce;
        }
    }
    return fallback;
}

void fz_fingerprint(const char *tenant, const char *authority, const char *path, const char *method,
                    const char *check_id, char out[65])
{
    char *s = vg_asprintf("%s|%s|%s|%s|%s", tenant, authority, path, method, check_id);
    vg_sha256_hex(s, strlen(s), out);
    free(s);
}

static json_t *headers_json(char *const *lines, int n)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        char *r = fz_redact_header_line(lines[i]);
        json_array_append_new(arr, json_string(r));
        free(r);
    }
    return arr;
}

static json_t *resp_headers_json(const fz_req *req)
{
    json_t *arr = json_array();
    const char *p = req->resp_headers.data;
    while (p != NULL && *p != '\0' && json_array_size(arr) < 40) {
        size_t len = strcspn(p, "\r\n");
        if (len > 0) {
            char *line = vg_strndup(p, len > 300 ? 300 : len);
            char *r = fz_redact_header_line(line);
            json_array_append_new(arr, json_string(r));
            free(r);
            free(line);
        }
        p += len;
        p += strspn(p, "\r\n");
    }
    return arr;
}

static json_t *exchange_json(const fz_req *req)
{
    char *body = req->body ? fz_redact_text(req->body, req->body_len, 512) : NULL;
    char *rbody = fz_redact_text(req->resp_body.data ? req->resp_body.data : "", req->resp_body.len,
                                 EXCERPT_MAX);
    char *curl = fz_curl_line(req);
    json_t *j = json_pack(
        "{s:{s:s,s:s,s:o,s:s?,s:s?},s:{s:i,s:o,s:s,s:f},s:s}", "request", "method", req->method,
        "url", req->url, "headers", headers_json(req->headers, req->nheaders), "body", body,
        "identity", req->identity, "response", "status", req->status, "headers",
        resp_headers_json(req), "body", rbody, "elapsed_ms", req->elapsed_ms, "curl", curl);
    free(body);
    free(rbody);
    free(curl);
    return j;
}

json_t *fz_finding_data(const fz_ctx *ctx, const fz_finding *f, const char *fingerprint)
{
    char now[32];
    vg_time_rfc3339(now);
    char *scope = vg_asprintf("fuzz:%s", ctx->job_id ? ctx->job_id : "");
    const char *conf = f->confidence ? f->confidence : f->def->confidence;
    json_t *evidence = f->req ? exchange_json(f->req) : json_object();
    json_object_set_new(evidence, "proof", json_string(f->detail ? f->detail : f->def->proof));
    json_object_set_new(evidence, "confidence", json_string(conf));
    json_object_set_new(evidence, "check", json_string(f->def->sends));
    if (f->baseline != NULL) {
        json_object_set_new(evidence, "baseline", exchange_json(f->baseline));
    }
    if (f->extra != NULL) {
        json_object_set(evidence, "details", f->extra);
    }
    json_t *data = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s},s:s,s:o,s:s,s:{s:s},s:s,s:s}",
        "fingerprint", fingerprint, "source", "fuzzer", "scope", scope, "rule_id", f->def->id,
        "title", f->def->title, "severity", f->def->severity, "category", f->def->category,
        "object", "service", ctx->tgt->authority, "host", ctx->tgt->authority, "method", f->method,
        "path", f->path, "field", "", "evidence", evidence, "remediation", f->def->remediation,
        "refs", "owasp", f->def->owasp, "detected_at", now, "confidence", conf);
    free(scope);
    return data;
}

int fz_report(fz_ctx *ctx, const fz_finding *f)
{
    char fp[65];
    fz_fingerprint(ctx->tenant_id ? ctx->tenant_id : "", ctx->tgt->authority, f->path, f->method,
                   f->def->id, fp);
    json_t *data = fz_finding_data(ctx, f, fp);
    json_decref(f->extra);
    char *endpoint = vg_asprintf("%s %s", f->method, f->path);
    int rc = ctx->emit ? ctx->emit(ctx->emit_arg, fp, f->def->id, endpoint, data) : 1;
    if (ctx->emit == NULL) {
        json_decref(data);
    }
    free(endpoint);
    if (rc > 0) {
        ctx->findings++;
    } else if (rc < 0) {
        ctx->failures++;
    }
    return rc;
}

const fz_check_def *fz_check_find(const fz_check_def *defs, const char *id)
{
    for (int i = 0; defs[i].id != NULL; i++) {
        if (strcmp(defs[i].id, id) == 0) {
            return &defs[i];
        }
    }
    return NULL;
}

const fz_param *fz_endpoint_object_param(const fz_endpoint *ep)
{
    const char *open = strrchr(ep->path, '{');
    if (open == NULL) {
        return NULL;
    }
    const char *close = strchr(open, '}');
    if (close == NULL) {
        return NULL;
    }
    for (int i = 0; i < ep->nparams; i++) {
        const fz_param *p = &ep->params[i];
        if (strcmp(p->in, "path") == 0 && strlen(p->name) == (size_t)(close - open - 1) &&
            strncmp(p->name, open + 1, (size_t)(close - open - 1)) == 0) {
            return p;
        }
    }
    return NULL;
}

bool fz_str_in(const char *s, char *const *list, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(s, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

void fz_strs_free(char **list, int n)
{
    for (int i = 0; i < n; i++) {
        free(list[i]);
    }
}

int fz_ctx_collect_key(const fz_ctx *ctx, int who, const char *key, char **out, int max)
{
    int n = 0;
    char want[128];
    norm_name(key, want, sizeof want);
    for (size_t i = 0; who >= 0 && i < ctx->ncrawl[who]; i++) {
        if (ctx->crawl[who][i].body != NULL && ctx->crawl[who][i].status < 300) {
            collect_key(ctx->crawl[who][i].body, want, out, &n, max, 0);
        }
    }
    return n;
}
