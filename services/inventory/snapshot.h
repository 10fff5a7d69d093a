/* The vigil.inventory consumer: stages snapshot.chunk messages durably, and on
 * snapshot.complete (once every chunk is there and the counts match) applies the snapshot
 * in one transaction: the cluster model, workload admission, posture findings
 * (finding.observed, then finding.scope "posture"), the plan notification. */
#ifndef VIGIL_INVENTORY_SNAPSHOT_H
#define VIGIL_INVENTORY_SNAPSHOT_H

#include <stddef.h>

#include "vigil/config.h"
#include "vigil/kafka.h"

/* One per consumer thread: it owns a producer that only that thread polls. */
typedef struct inv_snapshot_ctx inv_snapshot_ctx;

/* free_workloads: VIGIL_FREE_WORKLOADS. Returns NULL with errbuf set. */
inv_snapshot_ctx *inv_snapshot_ctx_new(const vg_base_conf *conf, long free_workloads, char *errbuf,
                                       size_t errlen);
void inv_snapshot_ctx_destroy(inv_snapshot_ctx *ctx); /* NULL is a no-op */

/* Consumer handler (arg: an inv_snapshot_ctx). */
vg_handle_result inv_snapshot_handle(const vg_message *msg, vg_db *db, void *arg, char *errbuf,
                                     size_t errlen);

#endif
