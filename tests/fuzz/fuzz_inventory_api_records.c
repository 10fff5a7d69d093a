/* libFuzzer target: the API inventory's record parser and learner. The input is one JSON
 * value: an array of trace.batch items {"format","record"} (or one item). Every record is
 * parsed, attributed and learned; templates must start with '/', contain no stray braces,
 * and the learned path tree must survive a round trip through its JSON form. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/inventory/api/learn.h"
#include "../../services/inventory/api/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_template(const char *t)
{
    if (t[0] != '/') {
        abort();
    }
    int depth = 0;
    for (const char *p = t; *p != '\0'; p++) {
        depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
        if (depth < 0 || depth > 1) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (root == NULL) {
        return 0;
    }
    json_t *items = json_is_array(root) ? json_incref(root) : json_pack("[O]", root);
    api_batch *b = api_batch_new();
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        api_record rec;
        char err[128];
        if (api_record_parse(item, &rec, err, sizeof err) == 0) {
            api_batch_add(b, &rec, rec.start_time);
        }
    }
    for (i = 0; i < api_batch_endpoints(b); i++) {
        api_endpoint_agg *ep = api_batch_endpoint(b, i);
        check_template(ep->tmpl);
        /* every string that reaches PostgreSQL must stay valid UTF-8 */
        const char *strs[4] = {ep->tmpl, ep->service, ep->host, ep->method};
        for (int k = 0; k < 4; k++) {
            json_t *js = json_string(strs[k]);
            if (js == NULL) {
                abort();
            }
            json_decref(js);
        }
        json_decref(api_endpoint_schema(ep));
        json_decref(api_endpoint_sensitive(ep));
    }
    for (i = 0; i < api_batch_edges(b); i++) {
        api_edge_agg *e = api_batch_edge(b, i);
        json_t *a = json_string(e->source), *d = json_string(e->destination);
        if (a == NULL || d == NULL) {
            abort();
        }
        json_decref(a);
        json_decref(d);
    }
    const char *svc;
    api_tree *tree;
    for (i = 0; api_batch_tree_at(b, i, &svc, &tree); i++) {
        json_t *j = api_tree_to_json(tree);
        api_tree *back = api_tree_from_json(j);
        if (back == NULL || api_tree_nodes(back) != api_tree_nodes(tree)) {
            abort();
        }
        api_tree_destroy(back);
        json_decref(j);
    }
    api_batch_destroy(b);
    json_decref(items);
    json_decref(root);
    return 0;
}
