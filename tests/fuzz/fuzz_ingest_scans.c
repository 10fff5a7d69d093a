/* libFuzzer target: scanner-report validation of POST /v1/scans, for every tool. The input's
 * first byte picks the tool, the rest is the body. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../services/ingest/scans.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tools[] = {"kube-bench", "kube-hunter", "kubeaudit", "trivy"};
    if (size == 0) {
        return 0;
    }
    const char *tool = tools[data[0] % 4];
    char err[256];
    json_t *report = ingest_scan_parse(tool, (const char *)data + 1, size - 1, err, sizeof err);
    if (report != NULL) {
        char *text = json_dumps(report, JSON_COMPACT);
        if (text == NULL) {
            abort(); /* an accepted report must serialize into the message */
        }
        free(text);
        json_decref(report);
    }
    return 0;
}
