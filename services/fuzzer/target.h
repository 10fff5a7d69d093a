/* What a job tests: the base URL, the endpoints (from OpenAPI documents and the API
 * inventory) and the identities (decrypted header sets). Parsing here is of outside input
 * (job requests, OpenAPI documents) and is fuzzed by tests/fuzz/fuzz_fuzzer_openapi.c. */
#ifndef FUZZER_TARGET_H
#define FUZZER_TARGET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "vigil/crypto.h"

typedef struct fz_identity {
    char *name;
    bool admin;     /* declared with "role":"admin" (or named admin*) */
    char **headers; /* "Name: value" (secret values, never logged) */
    int nheaders;
    char *jwt; /* the bearer JWT among the headers, or NULL */
} fz_identity;

typedef struct fz_param {
    char *name;
    char *in;   /* path, query, header */
    char *type; /* string, integer, ... or NULL */
    char *format;
    char *example;
    bool required;
} fz_param;

typedef struct fz_endpoint {
    char *method; /* upper case */
    char *path;   /* template, e.g. /api/v2/orders/{orderId} */
    fz_param *params;
    int nparams;
    json_t *body_schema; /* JSON request body schema or NULL */
    bool auth_required;  /* the spec (or inventory) says credentials are needed */
    bool admin;          /* an admin function (tag "admin" or an "admin" path segment) */
    bool deprecated;
} fz_endpoint;

typedef struct fz_target {
    char *base_url; /* without trailing slash */
    char *scheme;
    char *host; /* lowercase host */
    int port;
    char *authority; /* host[:port] as used in fingerprints */
    fz_endpoint *eps;
    size_t neps;
    fz_identity *ids;
    int nids;
    bool allow_unsafe;
    double rate;
    int time_budget_s;
    char **categories; /* NULL = all */
    int ncategories;
} fz_target;

fz_target *fz_target_new(const char *base_url, char *errbuf, size_t errlen);
void fz_target_destroy(fz_target *tgt); /* NULL is a no-op */

/* Reads the job request's identities, categories, allow_unsafe_methods, rate_limit and
 * time_budget_s; header values are opened with mk under aad. Returns 0 or -1 with errbuf. */
int fz_target_load_request(fz_target *tgt, const json_t *request, const vg_master_key *mk,
                           const char *aad, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));
/* Adds the operations of an OpenAPI 3 document (JSON). Returns how many were added. */
size_t fz_target_add_openapi(fz_target *tgt, const json_t *doc);
/* Adds one inventory endpoint (auth: "none", "bearer", ... from api_endpoints.auth;
 * schema: api_endpoints.schema). Duplicates (same method and path) are skipped. */
void fz_target_add_inventory(fz_target *tgt, const char *method, const char *path, const char *auth,
                             const json_t *schema);
/* The endpoint with this method and path, or NULL. */
const fz_endpoint *fz_target_find(const fz_target *tgt, const char *method, const char *path);
/* True when the category (e.g. "API1", "INJ") is selected. */
bool fz_target_wants(const fz_target *tgt, const char *category);
/* True for a method the job may send: GET/HEAD/OPTIONS/TRACE always; POST to a login or a
 * collection (create) endpoint; anything else only with allow_unsafe_methods. */
bool fz_target_method_allowed(const fz_target *tgt, const char *method, const char *path);
/* True when the path looks like a login / token endpoint. */
bool fz_path_is_login(const char *path);
/* True when an OpenAPI "servers" URL or inventory host names the target's host. */
bool fz_target_host_matches(const fz_target *tgt, const char *host_or_url);

#endif
