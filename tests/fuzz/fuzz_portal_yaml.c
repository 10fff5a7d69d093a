/* libFuzzer target: the portal's YAML subset parser (OpenAPI uploads). */
#include <stddef.h>
#include <stdint.h>

#include "../../services/portal/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    json_t *doc = portal_yaml_parse((const char *)data, size, err, sizeof err);
    json_decref(doc);
    return 0;
}
