/* API5:2023 Broken Function Level Authorization. */
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "vigil/alloc.h"

const fz_check_def fz_defs_api5[] = {
    {"API5-BFLA-001", "API5:2023", "Broken Function Level Authorization",
     "Admin function answers a low-privilege identity (BFLA)", "high", "high",
     "Calls admin operations (tag \"admin\" or an /admin path segment) with each non-admin "
     "identity, with the admin identity when one is given, and anonymously",
     "A non-admin identity gets a 2xx answer (the admin identity too, when given) while the "
     "anonymous request is refused",
     "Enforce role checks on every administrative operation on the server side, deny by "
     "default."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static void bfla_endpoint(fz_ctx *ctx, const fz_endpoint *ep)
{
    int adm = fz_ctx_admin(ctx);
    int anon = fz_ctx_anon(ctx);
    fz_req *reqs[18];
    int who[18];
    size_t n = 0;
    for (int u = fz_ctx_user(ctx, -1); u >= 0 && n < 16; u = fz_ctx_user(ctx, u)) {
        char *url = fz_ctx_url(ctx, ep, adm >= 0 ? adm : u, NULL, NULL);
        who[n] = u;
        reqs[n++] = fz_ctx_req(ctx, "GET", url, u);
        free(url);
    }
    if (n == 0) {
        return;
    }
    char *url = fz_ctx_url(ctx, ep, adm >= 0 ? adm : who[0], NULL, NULL);
    size_t nu = n;
    who[n] = anon;
    reqs[n++] = fz_ctx_req(ctx, "GET", url, anon);
    if (adm >= 0) {
        who[n] = adm;
        reqs[n++] = fz_ctx_req(ctx, "GET", url, adm);
    }
    free(url);
    fz_run(ctx, reqs, n);
    bool admin_ok = adm < 0 || fz_is_2xx(reqs[nu + 1]);
    for (size_t i = 0; i < nu; i++) {
        if (fz_is_2xx(reqs[i]) && admin_ok && !fz_is_2xx(reqs[nu])) {
            fz_finding f = {.def = &fz_defs_api5[0],
                            .method = ep->method,
                            .path = ep->path,
                            .req = reqs[i],
                            .baseline = adm >= 0 ? reqs[nu + 1] : reqs[nu],
                            .confidence = adm >= 0 ? "high" : "medium"};
            fz_report(ctx, &f);
            break;
        }
    }
    fz_reqs_free(reqs, n);
}

int fz_check_api5(fz_ctx *ctx)
{
    for (size_t e = 0; e < ctx->tgt->neps && !fz_engine_expired(ctx->eng); e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        if (ep->admin && strcmp(ep->method, "GET") == 0) {
            bfla_endpoint(ctx, ep);
        }
    }
    return fz_engine_expired(ctx->eng) ? -1 : 0;
}
