/* API8:2023 Security Misconfiguration: CORS, security headers, verbose errors, 5xx on
 * malformed input, TRACE. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../payloads.h"
#include "checks.h"
#include "vigil/alloc.h"

#define D(id, title, sev, conf, sends, proof, fix)                                                 \
    {                                                                                              \
        id, "API8:2023", "Security Misconfiguration", title, sev, conf, sends, proof, fix          \
    }

const fz_check_def fz_defs_api8[] = {
    D("API8-MISC-001", "CORS reflects any Origin with credentials", "high", "high",
      "Sends an authenticated request with Origin: https://<random>.example",
      "Access-Control-Allow-Origin echoes that origin and Access-Control-Allow-Credentials is "
      "true",
      "Allow only a fixed list of trusted origins; never reflect Origin with credentials."),
    D("API8-MISC-002", "Security headers missing", "low", "high",
      "Inspects an authenticated 2xx answer",
      "X-Content-Type-Options: nosniff or Cache-Control: no-store is missing (and HSTS on "
      "https)",
      "Send X-Content-Type-Options: nosniff, Cache-Control: no-store on authenticated answers "
      "and Strict-Transport-Security over TLS."),
    D("API8-MISC-003", "Verbose error with stack trace", "medium", "high",
      "Sends type-confused values (vigil~[]) in path parameters",
      "The error answer contains a stack trace or source locations absent from the normal "
      "answer",
      "Return generic error bodies; log details on the server only."),
    D("API8-MISC-004", "Server error on malformed JSON", "medium", "high",
      "Sends a truncated JSON body to operations that take JSON",
      "The server answers 5xx instead of 400",
      "Validate and parse input defensively; answer 400 with a generic message."),
    D("API8-MISC-005", "HTTP TRACE enabled", "low", "high",
      "Sends TRACE with a random marker header", "The answer is 2xx and echoes the marker",
      "Disable the TRACE method."),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static void cors(fz_ctx *ctx, const fz_crawl_entry *ref, int who)
{
    char *host = fz_payload_marker("vigil");
    char *origin = vg_asprintf("https://%s.example", host);
    char *url = fz_ctx_url(ctx, ref->ep, who, NULL, NULL);
    fz_req *req = fz_ctx_req(ctx, "GET", url, who);
    fz_req_set_header(req, "Origin", origin);
    fz_engine_send(ctx->eng, req);
    char *acao = fz_req_resp_header(req, "Access-Control-Allow-Origin");
    char *acac = fz_req_resp_header(req, "Access-Control-Allow-Credentials");
    if (acao != NULL && strcmp(acao, origin) == 0 && acac != NULL &&
        strcasecmp(acac, "true") == 0) {
        fz_finding f = {.def = &fz_defs_api8[0], .method = "GET", .path = ref->path, .req = req};
        fz_report(ctx, &f);
    }
    free(acao);
    free(acac);
    fz_req_destroy(req);
    free(url);
    free(origin);
    free(host);
}

static void headers(fz_ctx *ctx, const fz_crawl_entry *ref, int who)
{
    char *url = fz_ctx_url(ctx, ref->ep, who, NULL, NULL);
    fz_req *req = fz_ctx_req(ctx, "GET", url, who);
    fz_engine_send(ctx->eng, req);
    json_t *missing = json_array();
    char *xcto = fz_req_resp_header(req, "X-Content-Type-Options");
    char *cc = fz_req_resp_header(req, "Cache-Control");
    char *hsts = fz_req_resp_header(req, "Strict-Transport-Security");
    if (xcto == NULL || strcasecmp(xcto, "nosniff") != 0) {
        json_array_append_new(missing, json_string("X-Content-Type-Options: nosniff"));
    }
    if (req->identity != NULL && (cc == NULL || strcasestr(cc, "no-store") == NULL)) {
        json_array_append_new(missing, json_string("Cache-Control: no-store"));
    }
    if (strcmp(ctx->tgt->scheme, "https") == 0 && hsts == NULL) {
        json_array_append_new(missing, json_string("Strict-Transport-Security"));
    }
    if (fz_is_2xx(req) && json_array_size(missing) > 0) {
        fz_finding f = {.def = &fz_defs_api8[1],
                        .method = "GET",
                        .path = ref->path,
                        .req = req,
                        .extra = json_pack("{s:O}", "missing", missing)};
        fz_report(ctx, &f);
    }
    json_decref(missing);
    free(xcto);
    free(cc);
    free(hsts);
    fz_req_destroy(req);
    free(url);
}

static void verbose_errors(fz_ctx *ctx, const fz_endpoint *ep, int who)
{
    const fz_param *p = fz_endpoint_object_param(ep);
    char *bad_url = fz_ctx_url(ctx, ep, who, p->name, "vigil~[]");
    char *good_url = fz_ctx_url(ctx, ep, who, NULL, NULL);
    fz_req *r[2] = {fz_ctx_req(ctx, "GET", bad_url, who), fz_ctx_req(ctx, "GET", good_url, who)};
    fz_run(ctx, r, 2);
    if (r[0]->resp_body.len > 0 && fz_match_stack_trace(r[0]->resp_body.data) &&
        !fz_match_stack_trace(r[1]->resp_body.data ? r[1]->resp_body.data : "")) {
        fz_finding f = {.def = &fz_defs_api8[2],
                        .method = "GET",
                        .path = ep->path,
                        .req = r[0],
                        .baseline = r[1]};
        fz_report(ctx, &f);
    }
    fz_reqs_free(r, 2);
    free(bad_url);
    free(good_url);
}

static void malformed(fz_ctx *ctx, const fz_endpoint *ep, int who)
{
    static const char bad[] = "{\"vigil\": [1, 2";
    char *url = fz_ctx_url(ctx, ep, who, NULL, NULL);
    fz_req *req = fz_ctx_req(ctx, ep->method, url, who);
    fz_req_set_body(req, "application/json", bad, sizeof bad - 1);
    fz_engine_send(ctx->eng, req);
    if (req->status >= 500) {
        fz_finding f = {
            .def = &fz_defs_api8[3], .method = ep->method, .path = ep->path, .req = req};
        fz_report(ctx, &f);
    }
    fz_req_destroy(req);
    free(url);
}

static void trace(fz_ctx *ctx, const fz_crawl_entry *ref, int who)
{
    char *marker = fz_payload_marker("vigil");
    char *url = fz_ctx_url(ctx, ref->ep, who, NULL, NULL);
    fz_req *req = fz_ctx_req(ctx, "TRACE", url, fz_ctx_anon(ctx));
    fz_req_set_header(req, "X-Vigil-Trace", marker);
    fz_engine_send(ctx->eng, req);
    if (fz_is_2xx(req) && req->resp_body.data != NULL && strstr(req->resp_body.data, marker)) {
        fz_finding f = {.def = &fz_defs_api8[4], .method = "TRACE", .path = ref->path, .req = req};
        fz_report(ctx, &f);
    }
    fz_req_destroy(req);
    free(url);
    free(marker);
}

int fz_check_api8(fz_ctx *ctx)
{
    int u = fz_ctx_user(ctx, -1);
    int who = u >= 0 ? u : fz_ctx_anon(ctx);
    const fz_crawl_entry *ref = fz_ctx_reference(ctx, who);
    if (ref != NULL) {
        cors(ctx, ref, who);
        headers(ctx, ref, who);
        trace(ctx, ref, who);
    }
    for (size_t e = 0; e < ctx->tgt->neps && !fz_engine_expired(ctx->eng); e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        if (strcmp(ep->method, "GET") == 0 && fz_endpoint_object_param(ep) != NULL) {
            verbose_errors(ctx, ep, who);
        } else if (ep->body_schema != NULL && strcmp(ep->method, "GET") != 0 &&
                   fz_target_method_allowed(ctx->tgt, ep->method, ep->path)) {
            malformed(ctx, ep, who);
        }
    }
    return fz_engine_expired(ctx->eng) ? -1 : 0;
}
