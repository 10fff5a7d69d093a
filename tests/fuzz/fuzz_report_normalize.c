/* libFuzzer target for the scanner report normaliser: the input is "<tool>\n<report JSON>"
 * (the tool line picks kube-bench, kube-hunter, kubeaudit or trivy). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/report/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 32 ? size : 32);
    if (nl == NULL) {
        return 0;
    }
    char tool[32];
    size_t tlen = (size_t)(nl - data);
    memcpy(tool, data, tlen);
    tool[tlen] = '\0';
    json_t *report = json_loadb((const char *)nl + 1, size - tlen - 1, JSON_DECODE_ANY, NULL);
    if (report == NULL) {
        return 0;
    }
    json_t *out = NULL;
    char err[256];
    if (report_normalize(tool, report, "6f1c3a52-8d7e-4b0a-9c11-2f3e4d5a6b7c", "", &out, err,
                         sizeof err) == 0) {
        if (!json_is_array(out)) {
            abort();
        }
        json_decref(out);
    } else if (out != NULL || err[0] == '\0') {
        abort();
    }
    json_decref(report);
    return 0;
}
