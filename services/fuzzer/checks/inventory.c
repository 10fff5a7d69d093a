/* API9:2023 Improper Inventory Management: older API versions and debug endpoints that
 * still answer. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../payloads.h"
#include "checks.h"
#include "vigil/alloc.h"

const fz_check_def fz_defs_api9[] = {
    {"API9-INV-001", "API9:2023", "Improper Inventory Management", "Older API version still served",
     "medium", "high", "Requests each documented /vN/ operation under /v(N-1)/ (not documented)",
     "The undocumented older version answers 2xx while a random path under it answers 404",
     "Retire old API versions (410 Gone) or keep them documented, patched and monitored."},
    {"API9-INV-002", "API9:2023", "Improper Inventory Management",
     "Debug or management endpoint exposed", "high", "high",
     "Requests well-known debug/management paths (/debug/vars, /actuator/env, /.env, ...)",
     "An undocumented path answers 2xx with a body that differs from the answer to a random "
     "path",
     "Remove debug endpoints from production builds or restrict them to an internal network."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const char *const debug_paths[] = {
    "/debug",
    "/debug/vars",
    "/debug/pprof/",
    "/actuator",
    "/actuator/env",
    "/actuator/heapdump",
    "/.env",
    "/server-status",
    "/console",
    "/phpinfo.php",
    "/_debug",
    "/swagger-ui.html",
    "/api-docs",
    "/v2/api-docs",
    "/config.json",
    "/.git/config",
    NULL,
};

/* The path with its first /vN/ segment (N >= 2) replaced by /v(N-1)/, or NULL; *prefix
 * gets the length of the result up to the end of that segment. */
static char *older_version(const char *path, size_t *prefix)
{
    for (const char *p = strstr(path, "/v"); p != NULL; p = strstr(p + 1, "/v")) {
        const char *d = p + 2;
        char *end = NULL;
        long n = strtol(d, &end, 10);
        if (end != d && isdigit((unsigned char)*d) && (*end == '/' || *end == '\0') && n >= 2) {
            char *out = vg_asprintf("%.*s/v%ld%s", (int)(p - path), path, n - 1, end);
            *prefix = strlen(out) - strlen(end);
            return out;
        }
    }
    return NULL;
}

static bool documented(const fz_ctx *ctx, const char *path)
{
    for (size_t i = 0; i < ctx->tgt->neps; i++) {
        if (strcmp(ctx->tgt->eps[i].path, path) == 0) {
            return true;
        }
    }
    return false;
}

static void old_versions(fz_ctx *ctx, int who)
{
    for (size_t e = 0; e < ctx->tgt->neps; e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        size_t plen = 0;
        char *old = strcmp(ep->method, "GET") == 0 ? older_version(ep->path, &plen) : NULL;
        if (old == NULL || documented(ctx, old)) {
            free(old);
            continue;
        }
        fz_endpoint copy = *ep;
        copy.path = old;
        char *rnd = fz_payload_marker("vigil-");
        /* a random sibling under the old prefix: must not answer 2xx */
        char *probe_path = vg_asprintf("%.*s/%s", (int)plen, old, rnd);
        char *url = fz_ctx_url(ctx, &copy, who, NULL, NULL);
        char *cur = fz_ctx_url(ctx, ep, who, NULL, NULL);
        char *purl = fz_ctx_url_path(ctx, probe_path);
        fz_req *r[3] = {fz_ctx_req(ctx, "GET", url, who), fz_ctx_req(ctx, "GET", cur, who),
                        fz_ctx_req(ctx, "GET", purl, who)};
        fz_run(ctx, r, 3);
        if (fz_is_2xx(r[0]) && fz_is_2xx(r[1]) && !fz_is_2xx(r[2])) {
            fz_finding f = {.def = &fz_defs_api9[0],
                            .method = "GET",
                            .path = old,
                            .req = r[0],
                            .baseline = r[2]};
            fz_report(ctx, &f);
        }
        fz_reqs_free(r, 3);
        free(url);
        free(cur);
        free(purl);
        free(probe_path);
        free(rnd);
        free(old);
    }
}

static void debug_endpoints(fz_ctx *ctx, int who)
{
    size_t n = 0;
    fz_req *r[32];
    char *rnd = fz_payload_marker("/vigil-");
    char *rurl = fz_ctx_url_path(ctx, rnd);
    r[n++] = fz_ctx_req(ctx, "GET", rurl, who);
    for (int i = 0; debug_paths[i] != NULL; i++) {
        if (!documented(ctx, debug_paths[i])) {
            char *url = fz_ctx_url_path(ctx, debug_paths[i]);
            r[n++] = fz_ctx_req(ctx, "GET", url, who);
            free(url);
        }
    }
    fz_run(ctx, r, n);
    for (size_t i = 1; i < n; i++) {
        bool same_as_random = fz_is_2xx(r[0]) && fz_same_answer(r[0], r[i]);
        if (fz_is_2xx(r[i]) && r[i]->resp_body.len > 0 && !same_as_random) {
            const char *path = r[i]->url + strlen(ctx->tgt->base_url);
            fz_finding f = {.def = &fz_defs_api9[1],
                            .method = "GET",
                            .path = path,
                            .req = r[i],
                            .baseline = r[0]};
            fz_report(ctx, &f);
        }
    }
    fz_reqs_free(r, n);
    free(rurl);
    free(rnd);
}

int fz_check_api9(fz_ctx *ctx)
{
    int u = fz_ctx_user(ctx, -1);
    int who = u >= 0 ? u : fz_ctx_anon(ctx);
    old_versions(ctx, who);
    debug_endpoints(ctx, who);
    return fz_engine_expired(ctx->eng) ? -1 : 0;
}
