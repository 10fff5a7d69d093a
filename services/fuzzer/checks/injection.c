/* Injection: SQL (error-, boolean- and time-based) and OS command injection (echo of an
 * arithmetic result, time delay), on text parameters of read operations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../payloads.h"
#include "checks.h"
#include "vigil/alloc.h"
#include "vigil/util.h"

#define D(id, cat, title, sev, conf, sends, proof, fix)                                            \
    {                                                                                              \
        id, "API8:2023", cat, title, sev, conf, sends, proof, fix                                  \
    }

const fz_check_def fz_defs_inj[] = {
    D("INJ-SQL-001", "Injection", "SQL injection (error-based)", "critical", "high",
      "Appends '\" to a text parameter",
      "The answer contains a database error message absent from the normal answer",
      "Use parameterised queries; never build SQL from input."),
    D("INJ-SQL-002", "Injection", "SQL injection (boolean-based)", "critical", "high",
      "Sends value' AND 'vg'='vg and value' AND 'vg'='vx",
      "The always-true variant answers exactly like the original value, the always-false one "
      "differs, and the original answer is stable",
      "Use parameterised queries; never build SQL from input."),
    D("INJ-SQL-003", "Injection", "SQL injection (time-based)", "critical", "high",
      "Appends pg_sleep / SLEEP / WAITFOR DELAY payloads of 2 s",
      "The answer is delayed by >= 1.5 s over the calibrated baseline twice, and not with a "
      "0 s delay",
      "Use parameterised queries; never build SQL from input."),
    D("INJ-CMD-001", "Injection", "OS command injection (output)", "critical", "high",
      "Appends ;echo $((a*b)) and |echo $((a*b)) with random a and b",
      "The product a*b (not present in the request) appears in the answer",
      "Never pass input to a shell; use exec-style APIs with fixed argument vectors."),
    D("INJ-CMD-002", "Injection", "OS command injection (time-based)", "critical", "high",
      "Appends ;sleep 2 and $(sleep 2)",
      "The answer is delayed by >= 1.5 s over the calibrated baseline twice, and not with "
      "sleep 0",
      "Never pass input to a shell; use exec-style APIs with fixed argument vectors."),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

typedef struct inj_param {
    const fz_endpoint *ep;
    const fz_param *p;
    int who;
    char *value;
    double base_ms;
    const fz_req *base;
} inj_param;

static fz_req *probe(fz_ctx *ctx, const inj_param *ip, const char *value)
{
    char *url = fz_ctx_url(ctx, ip->ep, ip->who, ip->p->name, value);
    fz_req *req = fz_ctx_req(ctx, "GET", url, ip->who);
    free(url);
    return req;
}

static void report(fz_ctx *ctx, const inj_param *ip, int def, const fz_req *req, const fz_req *base,
                   const char *detail)
{
    fz_finding f = {.def = &fz_defs_inj[def],
                    .method = "GET",
                    .path = ip->ep->path,
                    .req = req,
                    .baseline = base,
                    .detail = detail,
                    .extra = json_pack("{s:s}", "parameter", ip->p->name)};
    fz_report(ctx, &f);
}

static bool body_has(const fz_req *req, const char *s)
{
    return req->resp_body.data != NULL && strstr(req->resp_body.data, s) != NULL;
}

/* Elapsed ms of one request with the payload for `seconds` (-1 on a transport failure). */
static double timed(fz_ctx *ctx, const inj_param *ip, char *(*make)(const char *, int, int),
                    int variant, int seconds, fz_req **keep)
{
    char *val = make(ip->value, variant, seconds);
    fz_req *req = probe(ctx, ip, val);
    free(val);
    fz_engine_send(ctx->eng, req);
    double ms = req->status != 0 ? req->elapsed_ms : -1.0;
    if (keep != NULL) {
        *keep = req;
    } else {
        fz_req_destroy(req);
    }
    return ms;
}

static char *cmd_sleep(const char *v, int variant, int s)
{
    return fz_payload_cmd_sleep(v, variant, s);
}

/* Delayed with the payload, not delayed with a 0 s variant, delayed again. A noisy 0 s answer
 * (a busy target) gets one more try. */
static void time_based(fz_ctx *ctx, const inj_param *ip, int def,
                       char *(*make)(const char *, int, int), int variants)
{
    double slow = ip->base_ms + 1500.0, fast = ip->base_ms + 750.0;
    for (int v = 0; v < variants; v++) {
        for (int attempt = 0; attempt < 2; attempt++) {
            if (timed(ctx, ip, make, v, FZ_DELAY_S, NULL) < slow) {
                break; /* not delayed at all: this variant does not work */
            }
            double t0 = timed(ctx, ip, make, v, 0, NULL);
            fz_req *proof = NULL;
            double t2 = t0 >= 0 && t0 < fast ? timed(ctx, ip, make, v, FZ_DELAY_S, &proof) : -1;
            if (t2 >= slow && t2 >= t0 + 1500.0) {
                char detail[128];
                snprintf(detail, sizeof detail, "answer took %.0f ms against a %.0f ms baseline",
                         proof->elapsed_ms, ip->base_ms);
                report(ctx, ip, def, proof, ip->base, detail);
                fz_req_destroy(proof);
                return;
            }
            fz_req_destroy(proof);
        }
    }
}

static void content_based(fz_ctx *ctx, const inj_param *ip, fz_req *base2)
{
    char *err = fz_payload_sql_error(ip->value);
    char *t = fz_payload_sql_bool(ip->value, true), *f = fz_payload_sql_bool(ip->value, false);
    char *expect = NULL, *expect2 = NULL;
    long a = 1000 + (long)(vg_now_ms() % 8999), b = 7331;
    char *e0 = fz_payload_cmd_echo(ip->value, 0, a, b, &expect);
    char *e1 = fz_payload_cmd_echo(ip->value, 1, a, b, &expect2);
    fz_req *r[5] = {probe(ctx, ip, err), probe(ctx, ip, t), probe(ctx, ip, f), probe(ctx, ip, e0),
                    probe(ctx, ip, e1)};
    fz_run(ctx, r, 5);
    const fz_req *base = ip->base;
    if (fz_match_sql_error(r[0]->resp_body.data) && !fz_match_sql_error(base->resp_body.data)) {
        report(ctx, ip, 0, r[0], base, NULL);
    }
    if (fz_is_2xx(base) && fz_same_answer(base, base2) && fz_same_answer(r[1], base) &&
        !fz_same_answer(r[2], base) && !fz_same_answer(r[1], r[2])) {
        report(ctx, ip, 1, r[1], r[2], "true variant equals the original answer, false differs");
    }
    for (int i = 3; i < 5; i++) {
        if (body_has(r[i], expect) && !body_has(base, expect)) {
            report(ctx, ip, 3, r[i], base, "the arithmetic result was in the answer");
            break;
        }
    }
    fz_reqs_free(r, 5);
    free(err);
    free(t);
    free(f);
    free(e0);
    free(e1);
    free(expect);
    free(expect2);
}

static bool param_is_text(const fz_param *p)
{
    return (p->type == NULL || strcmp(p->type, "string") == 0) && p->format == NULL &&
           strcmp(p->in, "header") != 0;
}

static void inject_param(fz_ctx *ctx, const fz_endpoint *ep, const fz_param *p, int who)
{
    inj_param ip = {.ep = ep, .p = p, .who = who};
    char *vals[1];
    fz_ctx_param_values(ctx, who, ep, p, vals, 1);
    ip.value = vals[0];
    fz_req *base[2] = {probe(ctx, &ip, ip.value), probe(ctx, &ip, ip.value)};
    fz_run(ctx, base, 2);
    if (base[0]->status != 0 && base[1]->status != 0) {
        ip.base = base[0];
        ip.base_ms =
            base[0]->elapsed_ms > base[1]->elapsed_ms ? base[0]->elapsed_ms : base[1]->elapsed_ms;
        content_based(ctx, &ip, base[1]);
        time_based(ctx, &ip, 2, fz_payload_sql_time, FZ_SQL_TIME_VARIANTS);
        time_based(ctx, &ip, 4, cmd_sleep, FZ_CMD_VARIANTS);
    }
    fz_reqs_free(base, 2);
    free(ip.value);
}

int fz_check_inj(fz_ctx *ctx)
{
    int u = fz_ctx_user(ctx, -1);
    int who = u >= 0 ? u : fz_ctx_anon(ctx);
    for (size_t e = 0; e < ctx->tgt->neps && !fz_engine_expired(ctx->eng); e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        if (strcmp(ep->method, "GET") != 0 || ep->admin) {
            continue;
        }
        for (int i = 0; i < ep->nparams && !fz_engine_expired(ctx->eng); i++) {
            if (param_is_text(&ep->params[i])) {
                inject_param(ctx, ep, &ep->params[i], who);
            }
        }
    }
    return fz_engine_expired(ctx->eng) ? -1 : 0;
}
