/* Private to common/http*.c: route patterns, request paths and matching. */
#ifndef VIGIL_HTTP_ROUTE_H
#define VIGIL_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/http.h"
#include "vigil/metrics.h"

/* A request counter cached per (method, status) on its route. */
typedef struct http_code_counter {
    const char *method; /* one of the static method names */
    int status;
    vg_counter *counter;
} http_code_counter;

typedef struct http_route {
    const char *method;  /* NULL = any method */
    const char *pattern; /* the caller's string: outlives the server */
    char **segs;         /* pattern segments; "{name}" segments are stored as "{name}" */
    size_t nsegs;
    bool wildcard; /* pattern ends with "*" */
    vg_http_handler fn;
    void *arg;
    char *label; /* pattern escaped for a Prometheus label value */
    vg_histogram *latency;
    http_code_counter *counters;
    size_t ncounters;
    size_t capcounters;
} http_route;

/* A request path split on '/' with every segment percent-decoded separately, so an encoded
 * "%2F" stays inside its segment. */
typedef struct http_path {
    char *buf; /* owns the segment strings */
    char **segs;
    size_t nsegs;
} http_path;

typedef struct http_param {
    const char *name;  /* points into the route */
    const char *value; /* points into the http_path, or the request's rest string */
} http_param;

#define HTTP_MAX_PARAMS 8

/* Compiles a pattern; aborts on a malformed one (a programming error). */
http_route *http_route_new(const char *method, const char *pattern, vg_http_handler fn, void *arg);
void http_route_destroy(http_route *r); /* NULL is a no-op */

/* Splits and decodes raw (the path part of the request target). Returns false when it is
 * not an absolute path or decodes to a NUL byte. out is valid (empty) either way. */
bool http_path_split(const char *raw, http_path *out);
void http_path_free(http_path *p);

bool http_route_match_path(const http_route *r, const http_path *p);
/* True when method may use r: same name, any-method route, or HEAD on a GET route. */
bool http_route_method_ok(const http_route *r, const char *method);
/* Fills params for a route that matched p; *rest gets a new string for a wildcard route
 * (the remaining segments joined with '/'), else NULL. Returns the number of params. */
size_t http_route_bind(const http_route *r, const http_path *p, http_param *params, char **rest);

#endif
