/* API7:2023 Server Side Request Forgery, proven by a hit on the fuzzer's canary. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../payloads.h"
#include "checks.h"
#include "vigil/alloc.h"

const fz_check_def fz_defs_api7[] = {
    {"API7-SSRF-001", "API7:2023", "Server Side Request Forgery",
     "Server fetches attacker-supplied URLs (SSRF)", "high", "high",
     "Puts the URL of the fuzzer's canary server, with a unique token path, into URL-typed "
     "parameters and body properties",
     "The canary receives a request for exactly that token",
     "Fetch only allow-listed destinations, resolve and refuse internal addresses, disable "
     "redirects."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static bool name_is_url(const char *name, const char *format)
{
    static const char *const words[] = {"url",      "uri",      "callback", "webhook",
                                        "redirect", "image",    "avatar",   "link",
                                        "feed",     "endpoint", NULL};
    if (format != NULL && (strcmp(format, "uri") == 0 || strcmp(format, "url") == 0)) {
        return true;
    }
    for (int i = 0; words[i] != NULL; i++) {
        if (strcasestr(name, words[i]) != NULL) {
            return true;
        }
    }
    return false;
}

typedef struct ssrf_probe {
    fz_req *req;
    char *token;
    const fz_endpoint *ep;
} ssrf_probe;

#define SSRF_MAX 64

static void plan_endpoint(fz_ctx *ctx, const fz_endpoint *ep, int u, ssrf_probe *pr, size_t *n)
{
    for (int i = 0; i < ep->nparams && *n < SSRF_MAX; i++) {
        const fz_param *p = &ep->params[i];
        if (strcmp(p->in, "header") == 0 || !name_is_url(p->name, p->format)) {
            continue;
        }
        char *token = fz_payload_marker("vg");
        char *curl = fz_canary_url(ctx->canary, token);
        char *url = fz_ctx_url(ctx, ep, u, p->name, curl);
        pr[*n] = (ssrf_probe){fz_ctx_req(ctx, ep->method, url, u), token, ep};
        (*n)++;
        free(url);
        free(curl);
    }
    const json_t *props = json_object_get(ep->body_schema, "properties");
    const char *key;
    json_t *sub;
    json_object_foreach((json_t *)props, key, sub)
    {
        const char *format = json_string_value(json_object_get(sub, "format"));
        if (*n >= SSRF_MAX || !name_is_url(key, format)) {
            continue;
        }
        char *token = fz_payload_marker("vg");
        char *curl = fz_canary_url(ctx->canary, token);
        json_t *body = fz_payload_from_schema(ep->body_schema, 0);
        json_object_set_new(body, key, json_string(curl));
        char *text = json_dumps(body, JSON_COMPACT);
        char *url = fz_ctx_url(ctx, ep, u, NULL, NULL);
        fz_req *req = fz_ctx_req(ctx, ep->method, url, u);
        fz_req_set_body(req, "application/json", text, strlen(text));
        pr[*n] = (ssrf_probe){req, token, ep};
        (*n)++;
        free(url);
        free(text);
        free(curl);
        json_decref(body);
    }
}

int fz_check_api7(fz_ctx *ctx)
{
    if (ctx->canary == NULL) {
        return 0;
    }
    int u = fz_ctx_user(ctx, -1);
    int who = u >= 0 ? u : fz_ctx_anon(ctx);
    ssrf_probe pr[SSRF_MAX];
    size_t n = 0;
    for (size_t e = 0; e < ctx->tgt->neps; e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        if (fz_target_method_allowed(ctx->tgt, ep->method, ep->path) &&
            !fz_path_is_login(ep->path)) {
            plan_endpoint(ctx, ep, who, pr, &n);
        }
    }
    fz_req *reqs[SSRF_MAX];
    for (size_t i = 0; i < n; i++) {
        reqs[i] = pr[i].req;
    }
    fz_run(ctx, reqs, n);
    if (n > 0) {
        fz_engine_idle(ctx->eng, 1000); /* a target may fetch asynchronously */
    }
    for (size_t i = 0; i < n; i++) {
        if (fz_canary_hit(ctx->canary, pr[i].token)) {
            fz_finding f = {.def = &fz_defs_api7[0],
                            .method = pr[i].ep->method,
                            .path = pr[i].ep->path,
                            .req = pr[i].req,
                            .detail = "the canary received a request for this probe's token"};
            fz_report(ctx, &f);
        }
        fz_req_destroy(pr[i].req);
        free(pr[i].token);
    }
    return fz_engine_expired(ctx->eng) ? -1 : 0;
}
