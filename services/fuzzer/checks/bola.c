/* API1:2023 Broken Object Level Authorization. */
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "vigil/alloc.h"

const fz_check_def fz_defs_api1[] = {
    {"API1-BOLA-001", "API1:2023", "Broken Object Level Authorization",
     "Another user's object is readable (BOLA)", "high", "high",
     "Replays identity A's object requests (object ids harvested from A's own answers) with "
     "identity B's credentials, i.e. swaps B's object id for A's",
     "B gets the byte-identical 2xx answer A gets, the id is not among B's own objects, and "
     "the same request without credentials is refused",
     "Authorize every object access against the caller (owner or explicit grant); never rely "
     "on ids being unguessable."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

#define BOLA_MAX 48

typedef struct bola_probe {
    fz_req *a, *b, *anon;
} bola_probe;

static size_t plan_pair(fz_ctx *ctx, const fz_endpoint *ep, int a, int b, bola_probe *pr, size_t n)
{
    const fz_param *p = fz_endpoint_object_param(ep);
    char *va[3], *vb[10];
    int na = fz_ctx_harvested(ctx, a, ep, p, va, 3);
    int nb = fz_ctx_harvested(ctx, b, ep, p, vb, 10);
    for (int i = 0; i < na && n < BOLA_MAX; i++) {
        if (fz_str_in(va[i], vb, nb)) {
            continue;
        }
        char *url = fz_ctx_url(ctx, ep, a, p->name, va[i]);
        pr[n].a = fz_ctx_req(ctx, "GET", url, a);
        pr[n].b = fz_ctx_req(ctx, "GET", url, b);
        pr[n].anon = fz_ctx_req(ctx, "GET", url, fz_ctx_anon(ctx));
        n++;
        free(url);
    }
    fz_strs_free(va, na);
    fz_strs_free(vb, nb);
    return n;
}

static void bola_endpoint(fz_ctx *ctx, const fz_endpoint *ep)
{
    bola_probe pr[BOLA_MAX];
    size_t n = 0;
    for (int a = fz_ctx_user(ctx, -1); a >= 0; a = fz_ctx_user(ctx, a)) {
        for (int b = fz_ctx_user(ctx, -1); b >= 0; b = fz_ctx_user(ctx, b)) {
            if (a != b) {
                n = plan_pair(ctx, ep, a, b, pr, n);
            }
        }
    }
    fz_req *all[BOLA_MAX * 3];
    for (size_t i = 0; i < n; i++) {
        all[3 * i] = pr[i].a;
        all[3 * i + 1] = pr[i].b;
        all[3 * i + 2] = pr[i].anon;
    }
    fz_run(ctx, all, n * 3);
    for (size_t i = 0; i < n; i++) {
        if (fz_is_2xx(pr[i].a) && fz_is_2xx(pr[i].b) && fz_same_answer(pr[i].a, pr[i].b) &&
            !fz_is_2xx(pr[i].anon) && pr[i].a->resp_body.len > 2) {
            fz_finding f = {.def = &fz_defs_api1[0],
                            .method = ep->method,
                            .path = ep->path,
                            .req = pr[i].b,
                            .baseline = pr[i].a};
            fz_report(ctx, &f);
            break;
        }
    }
    fz_reqs_free(all, n * 3);
}

int fz_check_api1(fz_ctx *ctx)
{
    for (size_t e = 0; e < ctx->tgt->neps && !fz_engine_expired(ctx->eng); e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        if (strcmp(ep->method, "GET") == 0 && !ep->admin && fz_endpoint_object_param(ep)) {
            bola_endpoint(ctx, ep);
        }
    }
    return fz_engine_expired(ctx->eng) ? -1 : 0;
}
