/* The job runner: a worker thread with its own event_base, database connection and SSRF
 * canary that claims fuzz jobs from PostgreSQL (queued ones, and running ones whose lease
 * expired: a job survives a fuzzer restart), runs the check families in order, records
 * per-family progress, publishes findings once per job (fuzz_job_findings) and a final
 * finding.scope, and marks the job done or failed. */
#ifndef FUZZER_RUNNER_H
#define FUZZER_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/crypto.h"
#include "vigil/kafka.h"

typedef struct fz_runner_opts {
    const char *database_url;
    vg_producer *producer;   /* borrowed; thread-safe synchronous sends */
    const vg_master_key *mk; /* borrowed */
    bool allow_private;
    const char *canary_addr; /* host:port */
    const char *canary_url;  /* public URL of the canary, or NULL */
    int lease_s;             /* a running job whose heartbeat is older is taken over */
    int concurrency;         /* requests in flight per target */
    int timeout_ms;          /* per request */
    int poll_ms;             /* how often to look for claimable jobs without a wake-up */
} fz_runner_opts;

typedef struct fz_runner fz_runner;

/* Starts the worker thread. Strings are copied. NULL with errbuf set on failure. */
fz_runner *fz_runner_start(const fz_runner_opts *opts, char *errbuf, size_t errlen);
/* Thread-safe: look for work now (a fuzz.run command arrived). */
void fz_runner_wake(fz_runner *r);
/* Thread-safe: asks the worker to stop (the job in hand is paused, resumable). */
void fz_runner_shutdown(fz_runner *r);
/* Stops after the request batch in hand (the job keeps its progress and is resumed later),
 * joins the thread and frees. When the thread is still busy after timeout_s (a finding
 * waiting for an unreachable broker), returns false without freeing: the process must exit without
 * destroying the producer, and the job resumes elsewhere once its lease expires. NULL is a no-op
 * (true). */
bool fz_runner_stop(fz_runner *r, int timeout_s);

#endif
