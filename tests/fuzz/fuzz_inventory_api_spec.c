/* libFuzzer target: uploaded OpenAPI documents as the API inventory reads them (spec
 * matching for shadow/zombie verdicts) and the reconstructed document builder fed with
 * arbitrary endpoint rows. The input is one JSON value used both ways. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../services/inventory/api/spec.h"
#include "../../services/inventory/api/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (doc == NULL) {
        return 0;
    }
    json_t *hosts = json_pack("[s]", "svc.ns.svc.cluster.local");
    api_spec *s = api_spec_new("00000000-0000-0000-0000-000000000000", doc, "svc", hosts);
    if (s != NULL) {
        api_spec *list[1] = {s};
        static const char *const tmpls[] = {"/", "/users/{userId}", "/users/me", "/a/b/c/{cId}",
                                            "/v1/{paramId}/x"};
        for (size_t i = 0; i < sizeof tmpls / sizeof tmpls[0]; i++) {
            (void)api_spec_judge(list, 1, "svc.ns", "svc:80", "GET", tmpls[i]);
        }
        api_spec_destroy(s);
    }
    json_t *out = api_openapi_build("svc.ns", json_is_array(doc) ? doc : NULL);
    if (out == NULL || json_object_get(out, "paths") == NULL) {
        abort();
    }
    json_decref(out);
    api_tree *t = api_tree_from_json(doc);
    if (t != NULL) {
        char tmpl[API_TEMPLATE_MAX];
        api_tree_learn(t, "/users/42/orders", 16, tmpl, NULL, NULL);
        api_tree_destroy(t);
    }
    json_decref(hosts);
    json_decref(doc);
    return 0;
}
