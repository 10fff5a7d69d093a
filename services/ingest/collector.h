/* The agentless cluster collector. Scheduler threads (each with its own vg_db) sync every
 * cluster not synced within the interval, and the consumer of vigil.commands runs a sync for each
 * cluster.sync command. A sync takes the cluster's lease row (one replica per cluster),
 * decrypts the stored token, lists every resource of the snapshot, publishes the
 * snapshot.chunk messages and a snapshot.complete with the exact counts, and records the
 * outcome in clusters.status (ok, unreachable, unauthorized, error) with a finding
 * (VGL-COL-00x) on failure or a finding.scope "collector" on success. Never on the loop
 * thread. */
#ifndef INGEST_COLLECTOR_H
#define INGEST_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "vigil/crypto.h"
#include "vigil/kafka.h"

typedef struct ingest_collector_opts {
    const char *database_url;
    vg_producer *producer;   /* borrowed, thread-safe sync sends */
    const vg_master_key *mk; /* borrowed */
    long interval_s;         /* between scheduled syncs of a cluster */
    long page_size;          /* limit= of list requests */
    long lease_s;            /* lease duration (renewed while listing) */
    long timeout_s;          /* per request to a cluster's API */
    long free_clusters;      /* clusters a free-plan tenant may use */
    long chunk_items;        /* items per snapshot.chunk */
    long chunk_bytes;        /* bytes per snapshot.chunk (approximate) */
    bool allow_private;      /* VIGIL_ALLOW_PRIVATE_TARGETS */
    bool schedule;           /* run the scheduler threads */
    int workers;             /* scheduler threads (syncs in parallel), 1..16 */
} ingest_collector_opts;

typedef struct ingest_collector ingest_collector;

/* Copies opts (the pointers inside stay borrowed) and starts the scheduler threads when
 * opts->schedule. Returns NULL with errbuf set on failure. */
ingest_collector *ingest_collector_start(const ingest_collector_opts *opts, char *errbuf,
                                         size_t errlen);
/* Asks the threads to stop at the next resource boundary (non-blocking). */
void ingest_collector_request_stop(ingest_collector *c);
/* Stops and joins the scheduler. NULL is a no-op. */
void ingest_collector_destroy(ingest_collector *c);

/* Consumer handler for vigil.commands (arg = the collector): runs cluster.sync, ignores
 * every other type. */
vg_handle_result ingest_collector_on_command(const vg_message *msg, vg_db *db, void *arg,
                                             char *errbuf, size_t errlen);

#endif
