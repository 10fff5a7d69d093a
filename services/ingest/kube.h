/* A minimal Kubernetes API client for listing: libcurl with the cluster's CA (verified),
 * the bearer token, timeouts, limit/continue pagination and a fresh restart of a listing
 * whose continue token expired (410 Gone). Used by one collector thread at a time. */
#ifndef INGEST_KUBE_H
#define INGEST_KUBE_H

#include <jansson.h>
#include <stddef.h>

#include "snapshot.h"

typedef enum {
    KUBE_OK = 0,
    KUBE_ABSENT,       /* 404 on an optional resource: its CRD is not installed */
    KUBE_UNAUTHORIZED, /* 401: the token is revoked or wrong */
    KUBE_FORBIDDEN,    /* 403: the token may not list this resource */
    KUBE_UNREACHABLE,  /* connection, TLS or timeout failure */
    KUBE_ERROR,        /* any other answer */
} kube_status;

typedef struct ingest_kube ingest_kube;

/* server "https://host:port" (a trailing '/' is fine), pin a CURLOPT_RESOLVE entry from
 * vg_url_target_pin (the addresses that were checked; NULL lets curl resolve), ca_pem the
 * cluster's CA certificate, token the bearer token (copied; wiped on destroy). */
ingest_kube *ingest_kube_new(const char *server, const char *pin, const char *ca_pem,
                             const char *token, long timeout_s);
void ingest_kube_destroy(ingest_kube *k); /* NULL is a no-op */

/* Lists every object of r, page_size per request. On KUBE_OK *items is a new array. */
kube_status ingest_kube_list(ingest_kube *k, const ingest_resource *r, long page_size,
                             json_t **items, char *msg, size_t msglen);

/* Requests made so far, and listings restarted after a 410 (for logs and tests). */
long ingest_kube_requests(const ingest_kube *k);
long ingest_kube_restarts(const ingest_kube *k);

#endif
