/* Writes an applied snapshot's model into PostgreSQL, inside the caller's transaction:
 * workload admission under the tenant's row lock, the object model, RBAC per subject, and
 * the plan state. */
#ifndef VIGIL_INVENTORY_STORE_H
#define VIGIL_INVENTORY_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "vigil/db.h"

typedef struct inv_apply {
    const char *tenant_id;
    const char *cluster_id;
    long free_workloads; /* VIGIL_FREE_WORKLOADS */
    inv_model *m;
    /* results */
    long limit;          /* -1 unlimited */
    size_t controlled;   /* tenant-wide, after admission */
    size_t uncontrolled; /* tenant-wide */
    bool plan_crossed;   /* went over the limit in this transaction: notify */
    bool plan_cleared;   /* went back under it */
} inv_apply;

/* Locks the tenant row (FOR NO KEY UPDATE: snapshots of the tenant's clusters serialize here),
 * admits the model's workloads and writes the tenant's workload rows. Sets the statuses in
 * a->m. Returns 0 or -1. */
int inv_store_workloads(vg_db *db, inv_apply *a) __attribute__((warn_unused_result));
/* Upserts the model's objects and subjects, marks the missing ones gone. Returns 0 or -1. */
int inv_store_objects(vg_db *db, inv_apply *a) __attribute__((warn_unused_result));
int inv_store_rbac(vg_db *db, inv_apply *a) __attribute__((warn_unused_result));
/* Records whether the tenant is over its limit; sets plan_crossed / plan_cleared. */
int inv_store_plan_state(vg_db *db, inv_apply *a) __attribute__((warn_unused_result));

/* Deletes the cluster's rows gone for more than 30 days (a workload coming back after that
 * is a new one). Returns 0 or -1. */
int inv_store_prune(vg_db *db, inv_apply *a) __attribute__((warn_unused_result));

const char *inv_wl_status_name(inv_wl_status s);

#endif
