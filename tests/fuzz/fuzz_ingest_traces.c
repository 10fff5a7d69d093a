/* libFuzzer target: the trace body parser, validator and batch packer of POST /v1/traces.
 * Every batch built from whatever was accepted must be a valid envelope holding exactly the
 * accepted records. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/ingest/traces.h"
#include "../../services/ingest/traces_fields.h"
#include "vigil/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fast scanner must agree with jansson on every record it claims. */
static void check_fast_path(const char *text, size_t size)
{
    static envoy_fields ef;
    if (ingest_envoy_fast(text, size, &ef) != FAST_ENVOY) {
        return;
    }
    json_t *rec = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    if (rec == NULL || !json_is_object(rec)) {
        abort(); /* the fast path accepted what jansson refuses */
    }
    char m1[200] = "", m2[200] = "";
    ingest_trace_format fmt;
    bool slow = ingest_trace_validate(rec, &fmt, m1, sizeof m1);
    bool fast = ingest_envoy_validate(&ef, m2, sizeof m2);
    if (slow != fast || fmt != INGEST_FMT_ENVOY || strcmp(m1, m2) != 0) {
        abort(); /* different verdicts */
    }
    json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_fast_path((const char *)data, size);
    ingest_trace_set set;
    char err[256];
    if (ingest_traces_parse((const char *)data, size, &set, err, sizeof err) == 0) {
        char **msgs = NULL;
        size_t n = ingest_traces_batches(&set, "11111111-2222-4333-8444-555555555555",
                                         "66666666-7777-4888-9999-aaaaaaaaaaaa", 7, 4096, &msgs);
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
            vg_envelope env;
            if (vg_envelope_parse(msgs[i], strlen(msgs[i]), &env, err, sizeof err) != 0) {
                abort(); /* an accepted record broke the envelope */
            }
            total += json_array_size(json_object_get(env.data, "records"));
            vg_envelope_clear(&env);
            free(msgs[i]);
        }
        free(msgs);
        if (total != set.nrecs) {
            abort();
        }
    }
    ingest_trace_set_free(&set);
    return 0;
}
