/* libFuzzer target: OpenAPI spec uploads (JSON or YAML sniffing, validation, hosts from
 * servers) and fuzz job request validation, as the portal runs them on request bodies. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../../services/portal/fuzzjobs.h"
#include "../../services/portal/specs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[400];
    json_t *doc = portal_spec_parse((const char *)data, size, NULL, err, sizeof err);
    if (doc != NULL) {
        json_decref(portal_spec_hosts(doc));
        json_decref(doc);
    }
    json_t *body = json_loadb((const char *)data, size, 0, NULL);
    if (body != NULL) {
        json_decref(portal_fuzz_request_parse(body, err, sizeof err));
        json_decref(body);
    }
    return 0;
}
