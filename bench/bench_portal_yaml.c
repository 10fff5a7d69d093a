/* Portal micro-benchmarks: YAML parsing of OpenAPI documents (docs/openapi.yaml, and a
 * generated document with many paths), scrypt password hashing and verification, and the
 * privilege classifier. Prints one line per measurement. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../services/portal/kube_verify.h"
#include "../services/portal/password.h"
#include "../services/portal/yaml.h"
#include "vigil/alloc.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    vg_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        vg_buf_append(&b, chunk, n);
    }
    fclose(f);
    *len = b.len;
    return vg_buf_steal(&b);
}

static char *generated_spec(int paths, size_t *len)
{
    vg_buf b = {0};
    vg_buf_puts(&b, "openapi: 3.0.3\ninfo:\n  title: Big\n  version: '1'\npaths:\n");
    for (int i = 0; i < paths; i++) {
        vg_buf_printf(&b,
                      "  /things%d/{id}:\n    get:\n      summary: \"thing %d\"\n"
                      "      parameters:\n        - {name: id, in: path, required: true, "
                      "schema: {type: string, format: uuid}}\n      responses:\n"
                      "        '200':\n          description: |\n            ok\n            "
                      "really\n        '404': {description: missing}\n",
                      i, i);
    }
    *len = b.len;
    return vg_buf_steal(&b);
}

static void bench_yaml(const char *name, const char *doc, size_t len, int rounds)
{
    char err[256];
    double t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        json_t *j = portal_yaml_parse(doc, len, err, sizeof err);
        if (j == NULL) {
            printf("%s: parse error %s\n", name, err);
            return;
        }
        json_decref(j);
    }
    double dt = now_s() - t0;
    printf("yaml %-22s %8zu bytes  %8.1f docs/s  %7.1f MB/s\n", name, len, rounds / dt,
           (double)len * rounds / dt / 1e6);
}

static void bench_scrypt(void)
{
    const int rounds = 10;
    char *h = NULL;
    double t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        free(h);
        h = portal_password_hash("correct horse battery staple");
    }
    double hash_ms = (now_s() - t0) * 1000 / rounds;
    t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        (void)portal_password_verify("correct horse battery staple", h);
    }
    double verify_ms = (now_s() - t0) * 1000 / rounds;
    t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        (void)portal_password_verify_dummy("correct horse battery staple");
    }
    double dummy_ms = (now_s() - t0) * 1000 / rounds;
    printf("scrypt N=2^15 r=8 p=1   hash %.1f ms  verify %.1f ms  unknown-user dummy %.1f ms\n",
           hash_ms, verify_ms, dummy_ms);
    free(h);
}

static void bench_classifier(void)
{
    json_t *status = json_loads(
        "{\"resourceRules\":[{\"verbs\":[\"get\",\"list\",\"watch\"],\"apiGroups\":[\"\"],"
        "\"resources\":[\"pods\",\"services\",\"configmaps\",\"nodes\"]},{\"verbs\":[\"create\"],"
        "\"apiGroups\":[\"authorization.k8s.io\"],\"resources\":[\"selfsubjectrulesreviews\"]},"
        "{\"verbs\":[\"get\",\"create\"],\"apiGroups\":[\"\"],\"resources\":[\"secrets\"]}]}",
        0, NULL);
    const int rounds = 200000;
    double t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        json_decref(portal_kube_classify(status));
    }
    printf("classifier (3 rules)    %.0f reviews/s\n", rounds / (now_s() - t0));
    json_decref(status);
}

int main(void)
{
    size_t len = 0;
    char *doc = read_file("docs/openapi.yaml", &len);
    if (doc != NULL) {
        bench_yaml("docs/openapi.yaml", doc, len, 2000);
        free(doc);
    }
    doc = generated_spec(2000, &len);
    bench_yaml("generated 2000 paths", doc, len, 20);
    free(doc);
    bench_scrypt();
    bench_classifier();
    return 0;
}
