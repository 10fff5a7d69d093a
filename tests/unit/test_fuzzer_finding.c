/* Finding messages: the fingerprint formula, the finding.observed data shape, and that no
 * credential of the request or the answer reaches the evidence. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/fuzzer/check.h"
#include "harness.h"
#include "vigil/alloc.h"
#include "vigil/util.h"

#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"

static const fz_check_def def = {
    "API1-BOLA-001", "API1:2023", "Broken Object Level Authorization", "t", "high", "high", "sends",
    "proof",         "fix"};

static int captured_rc = 1;
static json_t *captured;
static char captured_fp[65];

static int capture(void *arg, const char *fp, const char *id, const char *ep, json_t *data)
{
    (void)arg;
    CHECK_STR_EQ(id, "API1-BOLA-001");
    CHECK_STR_EQ(ep, "GET /orders/{orderId}");
    snprintf(captured_fp, sizeof captured_fp, "%s", fp);
    json_decref(captured);
    captured = data;
    return captured_rc;
}

static void test_fingerprint(void)
{
    char fp[65], want[65];
    fz_fingerprint("t1", "api.example:8080", "/orders/{id}", "GET", "API1-BOLA-001", fp);
    const char *s = "t1|api.example:8080|/orders/{id}|GET|API1-BOLA-001";
    vg_sha256_hex(s, strlen(s), want);
    CHECK_STR_EQ(fp, want);
    fz_fingerprint("t2", "api.example:8080", "/orders/{id}", "GET", "API1-BOLA-001", want);
    CHECK(strcmp(fp, want) != 0);
}

static void test_report(void)
{
    char err[100];
    fz_target *tgt = fz_target_new("http://api.example:8080", err, sizeof err);
    fz_ctx ctx;
    fz_ctx_init(&ctx, tgt, NULL);
    ctx.tenant_id = "tenant-1";
    ctx.job_id = "job-1";
    ctx.emit = capture;
    fz_req *req = fz_req_new("GET", "http://api.example:8080/orders/101");
    fz_req_add_header(req, "Authorization: Bearer " JWT);
    req->identity = "bob";
    req->status = 200;
    vg_buf_puts(&req->resp_body, "{\"id\":101,\"api_key\":\"ak_live_1\",\"t\":\"" JWT "\"}");
    vg_buf_puts(&req->resp_headers, "HTTP/1.1 200 OK\r\nSet-Cookie: s=1\r\nX-A: b\r\n");
    fz_finding f = {.def = &def,
                    .method = "GET",
                    .path = "/orders/{orderId}",
                    .req = req,
                    .extra = json_pack("{s:i}", "n", 1)};
    CHECK_INT_EQ(fz_report(&ctx, &f), 1);
    CHECK_INT_EQ(ctx.findings, 1);
    char want[65];
    fz_fingerprint("tenant-1", "api.example:8080", "/orders/{orderId}", "GET", "API1-BOLA-001",
                   want);
    CHECK_STR_EQ(captured_fp, want);
    CHECK_STR_EQ(json_string_value(json_object_get(captured, "fingerprint")), want);
    CHECK_STR_EQ(json_string_value(json_object_get(captured, "scope")), "fuzz:job-1");
    CHECK_STR_EQ(json_string_value(json_object_get(captured, "source")), "fuzzer");
    json_t *obj = json_object_get(captured, "object");
    CHECK_STR_EQ(json_string_value(json_object_get(obj, "host")), "api.example:8080");
    CHECK_STR_EQ(json_string_value(json_object_get(obj, "path")), "/orders/{orderId}");
    json_t *ev = json_object_get(captured, "evidence");
    CHECK_STR_EQ(json_string_value(json_object_get(ev, "curl")),
                 "curl -i -H 'Authorization: <bob:Authorization>' "
                 "'http://api.example:8080/orders/101'");
    CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(ev, "details"), "n")), 1);
    char *text = json_dumps(captured, 0);
    CHECK(strstr(text, "c2lnbmF0") == NULL && strstr(text, "ak_live_1") == NULL);
    CHECK(strstr(text, "s=1") == NULL && strstr(text, "X-A: b") != NULL);
    free(text);
    /* a duplicate (emit returns 0) is not counted */
    captured_rc = 0;
    f.extra = NULL;
    CHECK_INT_EQ(fz_report(&ctx, &f), 0);
    CHECK_INT_EQ(ctx.findings, 1);
    json_decref(captured);
    captured = NULL;
    fz_req_destroy(req);
    fz_ctx_clear(&ctx);
    fz_target_destroy(tgt);
}

int main(void)
{
    RUN(test_fingerprint);
    RUN(test_report);
    return harness_report("test_fuzzer_finding");
}
