/* The database side of one trace batch, run inside the consumer's transaction: idempotency
 * marker, attribution against the cluster model, path trees, endpoint and edge upserts,
 * spec verdicts, outbound hosts, AuthorizationPolicies, counters and OpenAPI documents.
 * The connection is the owner role (no row-level security). */
#ifndef VIGIL_INVENTORY_API_STORE_H
#define VIGIL_INVENTORY_API_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "learn.h"
#include "record.h"
#include "vigil/db.h"

typedef struct api_store_job {
    /* in */
    const char *tenant_id;
    const char *cluster_id;
    const char *envelope_id;
    const char *received_at; /* fallback record time */
    api_record *recs;        /* parsed records (attribution refined in place) */
    size_t nrecs;
    size_t rejected; /* records that failed to parse */
    /* out */
    bool duplicate;   /* the envelope was applied before: nothing changed */
    bool no_cluster;  /* the cluster is gone: nothing to attribute */
    size_t dropped;   /* records of uncontrolled workloads */
    json_t *events;   /* api.endpoint data objects to publish */
    json_t *findings; /* finding.observed data objects to publish */
    api_batch *batch; /* owned by the job, freed by api_store_job_clear */
} api_store_job;

/* Runs the whole batch on db inside the caller's transaction. Returns 0 or -1 (database
 * error: roll back and retry). */
int api_store_apply(vg_db *db, api_store_job *job);
void api_store_job_clear(api_store_job *job);

#endif
