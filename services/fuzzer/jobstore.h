/* Job persistence in PostgreSQL (owner role): claiming with leases, endpoints of a target,
 * per-family progress, findings published at most once per job, completion with the
 * finding.scope message, failure. Every function runs on the caller's vg_db. */
#ifndef FUZZER_JOBSTORE_H
#define FUZZER_JOBSTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "target.h"
#include "vigil/db.h"
#include "vigil/kafka.h"
#include "vigil/util.h"

typedef struct fz_job {
    char id[VG_UUID_LEN + 1];
    char tenant_id[VG_UUID_LEN + 1];
    char cluster_id[VG_UUID_LEN + 1]; /* "" when none */
    char *base_url;
    json_t *request;
} fz_job;

void fz_job_free(fz_job *job); /* NULL is a no-op */

/* Claims the oldest queued job, or a running one whose lease is older than lease_s, and
 * takes its lease for worker. NULL when there is none (or on a database error). */
fz_job *fz_jobstore_claim(vg_db *db, const char *worker, int lease_s);
int fz_jobstore_heartbeat(vg_db *db, const fz_job *job, const char *worker);
/* Makes the lease stale at once so any fuzzer may resume the job. */
void fz_jobstore_release(vg_db *db, const fz_job *job);
/* Adds the endpoints of the tenant's specs naming the target's host and of its API
 * inventory (the request's api_ids, or every endpoint of that host). -1 with errbuf on a
 * database error. */
int fz_jobstore_load_endpoints(vg_db *db, const fz_job *job, fz_target *tgt, char *errbuf,
                               size_t errlen);
bool fz_jobstore_family_done(vg_db *db, const fz_job *job, const char *family);
void fz_jobstore_family_finish(vg_db *db, const fz_job *job, const char *family, long requests,
                               int findings, int done, int total);
/* Records the finding (outbox row, committed first) unless this job already did, then
 * publishes its finding.observed message (data stolen) and marks it published. Returns 1
 * when published, 0 when a duplicate, -1 on failure (the row then waits for
 * fz_jobstore_flush). */
int fz_jobstore_emit(vg_db *db, vg_producer *p, const fz_job *job, const char *fingerprint,
                     const char *check_id, const char *endpoint, json_t *data);
/* Publishes the job's recorded but unpublished findings. 0 or -1. */
int fz_jobstore_flush(vg_db *db, vg_producer *p, const fz_job *job);
/* Sends finding.scope with every fingerprint of the job and marks it done. 0 or -1. */
int fz_jobstore_complete(vg_db *db, vg_producer *p, const fz_job *job, bool truncated);
void fz_jobstore_fail(vg_db *db, const fz_job *job, const char *error);

/* Consumer side. 1 when the job exists for the tenant, 0 when not, -1 on error. */
int fz_jobstore_job_exists(vg_db *db, const char *tenant_id, const char *job_id);
/* For an api.endpoint event: when the tenant enabled automatic testing, queues an
 * unauthenticated job for the endpoint's host (unless one is queued or running for it).
 * Outbound endpoints (third-party hosts the cluster calls) are never tested automatically.
 * Returns 1 when queued, 0 when not wanted, -1 on error. */
int fz_jobstore_auto_job(vg_db *db, const char *tenant_id, const char *cluster_id,
                         const char *api_id, const char *host);

#endif
