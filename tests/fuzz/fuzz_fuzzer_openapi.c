/* libFuzzer target for the fuzzer's parsers of outside input: OpenAPI documents (operations,
 * parameters, $refs, request bodies), the URLs built from them, response-body redaction and
 * JWT parsing. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/fuzzer/check.h"
#include "../../services/fuzzer/jwt.h"
#include "../../services/fuzzer/payloads.h"
#include "../../services/fuzzer/redact.h"
#include "vigil/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise_target(json_t *doc)
{
    char err[128];
    fz_target *tgt = fz_target_new("http://fuzz.example:8080/base", err, sizeof err);
    fz_target_add_openapi(tgt, doc);
    fz_target_add_inventory(tgt, "GET", "/inv/{id}", "jwt", json_object_get(doc, "schema"));
    fz_ctx ctx;
    fz_ctx_init(&ctx, tgt, NULL);
    for (size_t i = 0; i < tgt->neps && i < 64; i++) {
        char *url = fz_ctx_url(&ctx, &tgt->eps[i], fz_ctx_anon(&ctx), NULL, NULL);
        free(url);
        char *body = fz_ctx_body(&tgt->eps[i]);
        free(body);
        fz_target_method_allowed(tgt, tgt->eps[i].method, tgt->eps[i].path);
    }
    fz_ctx_clear(&ctx);
    fz_target_destroy(tgt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (doc != NULL) {
        exercise_target(doc);
        json_decref(doc);
    }
    char *red = fz_redact_text((const char *)data, size, 4096);
    free(red);
    char *text = vg_strndup((const char *)data, size);
    json_t *h = NULL, *p = NULL;
    if (fz_jwt_parse(text, &h, &p)) {
        json_decref(h);
        json_decref(p);
        char *none = fz_jwt_forge_none(text);
        free(none);
    }
    fz_match_sql_error(text);
    fz_match_stack_trace(text);
    free(text);
    return 0;
}
