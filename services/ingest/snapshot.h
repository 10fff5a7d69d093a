/* Cluster snapshots: the resources the collector lists, how each listed object is prepared
 * (kind/apiVersion restored, ConfigMap values dropped), and the packing of a resource's
 * objects into bounded snapshot.chunk messages and the final snapshot.complete.
 * Pure functions (no I/O). */
#ifndef INGEST_SNAPSHOT_H
#define INGEST_SNAPSHOT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "vigil/alloc.h"

typedef struct ingest_resource {
    const char *name;        /* "pods": the snapshot's resource name */
    const char *path;        /* list URL path, e.g. "/apis/apps/v1/deployments" */
    const char *kind;        /* "Deployment" */
    const char *api_version; /* "apps/v1" */
    bool optional;           /* a CRD that may be absent (404 -> "absent") */
} ingest_resource;

/* The resources of one sync, in listing order; never Secrets. */
extern const ingest_resource ingest_resources[];
extern const size_t ingest_nresources;

/* Prepares one listed object in place: restores kind/apiVersion (list items carry none),
 * and for ConfigMaps keeps the data/binaryData keys with every value replaced by "" and
 * drops the last-applied-configuration annotation (it repeats the values). */
void ingest_snapshot_item_prepare(const ingest_resource *r, json_t *item);

/* Emits one finished message (payload borrowed). Returns 0, or -1 to stop the snapshot. */
typedef int (*ingest_emit_fn)(const char *payload, size_t len, void *arg);

typedef struct ingest_chunker {
    const char *snapshot_id, *tenant_id, *cluster_id; /* borrowed */
    size_t max_items, max_bytes;
    ingest_emit_fn emit;
    void *arg;
    long chunks; /* chunks emitted so far = the next seq */
    /* current resource */
    const char *resource;
    vg_buf items; /* serialized items joined by ',' */
    size_t nitems;
} ingest_chunker;

/* Adds one (prepared) item of resource; emits a chunk when full. Returns 0 or -1. */
int ingest_chunker_add(ingest_chunker *ch, const char *resource, json_t *item)
    __attribute__((warn_unused_result));
/* Emits what is buffered. Returns 0 or -1. */
int ingest_chunker_flush(ingest_chunker *ch) __attribute__((warn_unused_result));
void ingest_chunker_free(ingest_chunker *ch);

/* The snapshot.complete envelope (a new string); counts and absent are borrowed. */
char *ingest_snapshot_complete(const ingest_chunker *ch, json_t *counts, json_t *absent,
                               const char *started_at, const char *finished_at);

#endif
