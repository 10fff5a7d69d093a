/* The machine-facing HTTP routes: POST /v1/traces and POST /v1/scans?tool=…, authenticated
 * by a cluster's ingest token, rate limited per cluster, and answered only once Kafka has
 * acknowledged (or refused) every message built from the request. Loop thread only. */
#ifndef INGEST_EDGE_H
#define INGEST_EDGE_H

#include <stddef.h>

#include "auth.h"
#include "producer.h"
#include "vigil/db.h"
#include "vigil/http.h"

typedef struct ingest_edge_opts {
    size_t max_decoded;   /* decoded (gunzipped) body limit: 413 beyond */
    size_t batch_records; /* records per trace.batch message */
    size_t batch_bytes;   /* approximate bytes per trace.batch message */
} ingest_edge_opts;

typedef struct ingest_edge ingest_edge;

/* Borrows auth, producer and db (the loop thread's connection). */
ingest_edge *ingest_edge_new(const ingest_edge_opts *opts, ingest_auth *auth,
                             ingest_producer *producer, vg_db *db);
void ingest_edge_routes(ingest_edge *edge, vg_http_server *srv);
void ingest_edge_destroy(ingest_edge *edge); /* NULL is a no-op */

#endif
