/* API4:2023 Unrestricted Resource Consumption: no rate limiting, oversized input accepted,
 * ReDoS-style latency blow-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../payloads.h"
#include "checks.h"
#include "vigil/alloc.h"

const fz_check_def fz_defs_api4[] = {
    {"API4-RES-001", "API4:2023", "Unrestricted Resource Consumption", "No rate limiting", "medium",
     "medium",
     "Sends a burst of 40 identical requests (at the job's rate) to an authenticated operation",
     "Every request is answered 2xx with no 429 and no RateLimit/X-RateLimit/Retry-After "
     "header",
     "Limit requests per client and per credential and advertise the limits (RateLimit "
     "headers, 429 with Retry-After)."},
    {"API4-RES-002", "API4:2023", "Unrestricted Resource Consumption", "Oversized input accepted",
     "medium", "high", "Sends a create request whose string properties hold 1 MiB each",
     "The server accepts it with a 2xx answer instead of 413/400",
     "Cap request body sizes and string lengths (maxLength) and reject larger input."},
    {"API4-RES-003", "API4:2023", "Unrestricted Resource Consumption",
     "Latency blow-up on crafted input (ReDoS)", "high", "high",
     "Sends string parameters of 12, 20 and 28 'a' characters followed by '!' (catastrophic "
     "backtracking input)",
     "The answer time grows exponentially with the input length (28 chars >= 0.5 s and >= 8x "
     "the faster 12-char time) in two of at most three runs",
     "Use linear-time regular expressions (RE2) or bound input length before matching."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

#define BURST 40

static bool has_rate_headers(const fz_req *req)
{
    static const char *const names[] = {
        "RateLimit-Limit",       "RateLimit-Remaining", "RateLimit",        "X-RateLimit-Limit",
        "X-RateLimit-Remaining", "Retry-After",         "RateLimit-Policy", NULL};
    for (int i = 0; names[i] != NULL; i++) {
        char *v = fz_req_resp_header(req, names[i]);
        if (v != NULL) {
            free(v);
            return true;
        }
    }
    return false;
}

static void rate_limiting(fz_ctx *ctx)
{
    int u = fz_ctx_user(ctx, -1);
    const fz_crawl_entry *ref = fz_ctx_reference(ctx, u >= 0 ? u : fz_ctx_anon(ctx));
    if (ref == NULL) {
        return;
    }
    int who = u >= 0 ? u : fz_ctx_anon(ctx);
    char *url = fz_ctx_url(ctx, ref->ep, who, NULL, NULL);
    fz_req *r[BURST];
    for (int i = 0; i < BURST; i++) {
        r[i] = fz_ctx_req(ctx, "GET", url, who);
    }
    fz_run(ctx, r, BURST);
    bool limited = false;
    for (int i = 0; i < BURST && !limited; i++) {
        limited = !fz_is_2xx(r[i]) || has_rate_headers(r[i]);
    }
    if (!limited) {
        fz_finding f = {.def = &fz_defs_api4[0],
                        .method = "GET",
                        .path = ref->path,
                        .req = r[BURST - 1],
                        .detail = "40 requests in a burst: all 2xx, no 429, no rate-limit headers"};
        fz_report(ctx, &f);
    }
    fz_reqs_free(r, BURST);
    free(url);
}

static void oversized(fz_ctx *ctx, const fz_endpoint *ep, int u)
{
    json_t *body = fz_payload_from_schema(ep->body_schema, 0);
    const char *key;
    json_t *v;
    char *big = fz_payload_big(1024 * 1024);
    int strings = 0;
    json_object_foreach(body, key, v)
    {
        if (json_is_string(v)) {
            json_object_set_new(body, key, json_string(big));
            strings++;
        }
    }
    if (strings > 0) {
        char *text = json_dumps(body, JSON_COMPACT);
        char *url = fz_ctx_url(ctx, ep, u, NULL, NULL);
        fz_req *req = fz_ctx_req(ctx, "POST", url, u);
        fz_req_set_body(req, "application/json", text, strlen(text));
        fz_engine_send(ctx->eng, req);
        if (fz_is_2xx(req)) {
            fz_finding f = {
                .def = &fz_defs_api4[1], .method = "POST", .path = ep->path, .req = req};
            fz_report(ctx, &f);
        }
        fz_req_destroy(req);
        free(url);
        free(text);
    }
    free(big);
    json_decref(body);
}

static bool param_is_text(const fz_param *p)
{
    return (p->type == NULL || strcmp(p->type, "string") == 0) && p->format == NULL &&
           strcmp(p->in, "header") != 0;
}

/* Times for lengths 12 (twice: the faster counts), 20 and 28 (one run); false when a request
 * failed. *proof, when not NULL, gets the 28-character request. */
static bool redos_run(fz_ctx *ctx, const fz_endpoint *ep, int u, const fz_param *p, double ms[3],
                      fz_req **proof)
{
    static const size_t lens[4] = {12, 12, 20, 28};
    double t[4] = {0, 0, 0, 0};
    bool ok = true;
    for (int i = 0; i < 4 && ok; i++) {
        char *val = fz_payload_redos(lens[i]);
        char *url = fz_ctx_url(ctx, ep, u, p->name, val);
        fz_req *req = fz_ctx_req(ctx, "GET", url, u);
        ok = fz_engine_send(ctx->eng, req);
        t[i] = req->elapsed_ms;
        if (i == 3 && proof != NULL) {
            *proof = req;
        } else {
            fz_req_destroy(req);
        }
        free(url);
        free(val);
    }
    ms[0] = t[0] < t[1] ? t[0] : t[1];
    ms[1] = t[2];
    ms[2] = t[3];
    return ok;
}

static bool blowup(const double ms[3])
{
    return ms[2] >= 500.0 && ms[2] >= 8.0 * (ms[0] > 1.0 ? ms[0] : 1.0) && ms[1] <= ms[2];
}

/* Two runs out of at most three must show the blow-up (one noisy run is tolerated). */
static void redos(fz_ctx *ctx, const fz_endpoint *ep, int u)
{
    for (int i = 0; i < ep->nparams; i++) {
        const fz_param *p = &ep->params[i];
        if (!param_is_text(p)) {
            continue;
        }
        double ms[3];
        int passes = 0;
        fz_req *proof = NULL;
        for (int run = 0; run < 3 && passes < 2 && passes + (3 - run) >= 2; run++) {
            fz_req *req = NULL;
            if (redos_run(ctx, ep, u, p, ms, &req) && blowup(ms)) {
                passes++;
                fz_req_destroy(proof);
                proof = req;
                req = NULL;
            }
            fz_req_destroy(req);
        }
        if (passes >= 2) {
            json_t *extra = json_pack("{s:s,s:[f,f,f]}", "parameter", p->name, "elapsed_ms", ms[0],
                                      ms[1], ms[2]);
            fz_finding f = {.def = &fz_defs_api4[2],
                            .method = "GET",
                            .path = ep->path,
                            .req = proof,
                            .extra = extra};
            fz_report(ctx, &f);
        }
        fz_req_destroy(proof);
        if (passes >= 2) {
            return;
        }
    }
}

int fz_check_api4(fz_ctx *ctx)
{
    int u = fz_ctx_user(ctx, -1);
    int who = u >= 0 ? u : fz_ctx_anon(ctx);
    for (size_t e = 0; e < ctx->tgt->neps && !fz_engine_expired(ctx->eng); e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        if (strcmp(ep->method, "GET") == 0 && !ep->admin) {
            redos(ctx, ep, who);
        } else if (strcmp(ep->method, "POST") == 0 && ep->body_schema != NULL &&
                   !fz_path_is_login(ep->path) &&
                   fz_target_method_allowed(ctx->tgt, ep->method, ep->path)) {
            oversized(ctx, ep, who);
        }
    }
    if (!fz_engine_expired(ctx->eng)) {
        rate_limiting(ctx);
    }
    return fz_engine_expired(ctx->eng) ? -1 : 0;
}
