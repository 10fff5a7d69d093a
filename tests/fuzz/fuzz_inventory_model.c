/* libFuzzer target: Kubernetes objects of a snapshot (as the chunks carry them) through the
 * cluster model (owner chains, exposure) and every posture rule, then into finding data.
 * Input: a JSON object {"<resource>": [items...], ...}. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../../services/inventory/findings.h"
#include "../../services/inventory/model.h"
#include "../../services/inventory/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *snap = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!json_is_object(snap)) {
        json_decref(snap);
        return 0;
    }
    inv_model *m = inv_model_new();
    const char *key;
    json_t *items;
    json_object_foreach(snap, key, items)
    {
        int r = inv_resource_from_name(key);
        if (r >= 0 && json_is_array(items)) {
            inv_model_add_items(m, (inv_resource)r, items);
        }
    }
    inv_model_build(m);
    inv_findings f = {0};
    inv_posture_eval(m, &f);
    for (size_t i = 0; i < f.n; i++) {
        json_t *d = inv_finding_data(&f.v[i], "t", "c", "2026-01-01T00:00:00Z");
        json_decref(d);
    }
    inv_findings_clear(&f);
    inv_model_destroy(m);
    json_decref(snap);
    return 0;
}
