/* Uploaded OpenAPI specs against learned endpoints (shadow: seen, not in the spec; zombie:
 * deprecated in the spec, or removed from a newer version, and still called), and the
 * reconstructed OpenAPI 3.0 document of a service from its learned endpoints. */
#ifndef VIGIL_INVENTORY_API_SPEC_H
#define VIGIL_INVENTORY_API_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct api_spec api_spec;

/* Parses an uploaded document (borrowed during the call). service may be NULL; hosts is a
 * JSON array of strings or NULL; id is the api_specs id. NULL when it has no paths. */
api_spec *api_spec_new(const char *id, const json_t *document, const char *service,
                       const json_t *hosts);
void api_spec_destroy(api_spec *s); /* NULL is a no-op */

/* True when the spec describes this destination (its service, or a host it names). */
bool api_spec_applies(const api_spec *s, const char *service, const char *host);

typedef enum { API_SPEC_NONE = 0, API_SPEC_LISTED, API_SPEC_DEPRECATED } api_spec_match;

/* Finds the operation (method, learned template) in one spec. opname gets the operationId or
 * "METHOD path" (points into the spec) when listed. */
api_spec_match api_spec_find(const api_spec *s, const char *method, const char *tmpl,
                             const char **opname);

typedef struct api_spec_verdict {
    bool covered; /* some spec applies to the endpoint's service */
    bool shadow;
    bool zombie;
    const char *spec_id;   /* the newest applicable spec, or NULL */
    const char *operation; /* matched operation, or NULL */
    const char *reason;    /* "deprecated", "removed in a newer spec", "not in spec" */
} api_spec_verdict;

/* specs ordered newest first. */
api_spec_verdict api_spec_judge(api_spec *const *specs, size_t n, const char *service,
                                const char *host, const char *method, const char *tmpl);

/* The OpenAPI 3.0.3 document (new reference) of one service from its endpoints: a JSON array
 * of {"method","path_template","schema","auth","status_codes","scheme","host"}. */
json_t *api_openapi_build(const char *service, const json_t *endpoints);

#endif
