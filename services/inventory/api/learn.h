/* One trace batch aggregated in memory before it is written: endpoints (service, method,
 * template) with counts, status mix, schema, auth and sensitive data; edges (source ->
 * destination) with calls, errors and a latency histogram; and the template re-points that
 * merges caused. The path trees are supplied per service (loaded from the database by the
 * consumer, or kept in memory by the benchmark). */
#ifndef VIGIL_INVENTORY_API_LEARN_H
#define VIGIL_INVENTORY_API_LEARN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "record.h"
#include "template.h"

#define API_HIST_BUCKETS 14 /* upper bounds in ms: see api_hist_bounds */
#define API_MAX_STATUS 16
#define API_MAX_PARAMS 24

extern const double api_hist_bounds[API_HIST_BUCKETS]; /* last is +inf */

typedef struct api_param_seen {
    char name[48];
    const char *type;   /* static strings: "string", "integer", "number", "boolean" */
    const char *format; /* NULL or static string; "" = formats disagreed */
} api_param_seen;

typedef struct api_endpoint_agg {
    char service[256];
    char host[256];
    char method[16];
    char tmpl[API_TEMPLATE_MAX];
    api_class cls;
    bool tls;
    const char *auth; /* static; "unknown" for access logs */
    uint64_t count;
    int nstatus;
    int status[API_MAX_STATUS];
    uint64_t status_n[API_MAX_STATUS];
    char first_seen[40];
    char last_seen[40];
    unsigned sens_path, sens_query, sens_resp;
    int nquery;
    api_param_seen query[API_MAX_PARAMS];
    json_t *bodies; /* NULL or {"headers":{},"request_body":schema,"responses":{code:schema}} */
    double latency_sum_ms;
} api_endpoint_agg;

typedef struct api_edge_agg {
    char source[256];
    char destination[256];
    api_class cls;
    char principal[200]; /* the caller's mesh identity when known */
    uint64_t calls, errors;
    uint64_t hist[API_HIST_BUCKETS];
    char first_seen[40];
    char last_seen[40];
} api_edge_agg;

typedef struct api_repoint {
    char service[256];
    char from[API_TEMPLATE_MAX];
    char to[API_TEMPLATE_MAX];
} api_repoint;

typedef struct api_batch api_batch;

api_batch *api_batch_new(void);
void api_batch_destroy(api_batch *b); /* NULL is a no-op; destroys the trees it holds */
/* Forgets the aggregates and re-points, keeps the trees (for the benchmark's next round). */
void api_batch_reset(api_batch *b);

/* Gives the batch the tree of service (ownership moves; NULL = start an empty tree). */
void api_batch_tree_put(api_batch *b, const char *service, api_tree *tree);
/* The tree of service or NULL. */
api_tree *api_batch_tree(api_batch *b, const char *service);
/* Iterates the trees: returns false past the end. */
bool api_batch_tree_at(const api_batch *b, size_t i, const char **service, api_tree **tree);

/* Learns one attributed record; ts is the record time (RFC 3339) used for first/last seen. */
void api_batch_add(api_batch *b, const api_record *rec, const char *ts);

size_t api_batch_endpoints(const api_batch *b);
api_endpoint_agg *api_batch_endpoint(api_batch *b, size_t i);
size_t api_batch_edges(const api_batch *b);
api_edge_agg *api_batch_edge(api_batch *b, size_t i);
size_t api_batch_repoints(const api_batch *b);
const api_repoint *api_batch_repoint(const api_batch *b, size_t i);

/* {"query":{name:schema},"headers":{...},"request_body":..,"responses":{..}} (new ref). */
json_t *api_endpoint_schema(const api_endpoint_agg *ep);
/* [{"kind":"email","where":"path"},...] (new ref). */
json_t *api_endpoint_sensitive(const api_endpoint_agg *ep);

#endif
